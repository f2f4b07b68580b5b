/*
 * cli/internal.h - what the subcommands share: the command table with its
 * options (parsed, printed as --help, the man page and shell completions),
 * the connection options, the RPC call with its mapping from server errors to
 * exit codes, tables for people, and the crontab parser of `import-crontab`.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 the server refused (its code and message
 * printed as `ovsched: <code>: <message>`), 2 usage, 3 cannot reach the
 * server, 4 not found, 5 conflict (stale version, id taken), 6 unauthenticated
 * or forbidden.
 */
#ifndef OVSCHED_CLI_INTERNAL_H
#define OVSCHED_CLI_INTERNAL_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"

/* Where and how to talk to the daemon; from --server/--token/--json or
 * OVSCHED_SERVER/OVSCHED_TOKEN. */
struct cli_client {
    const char *server; /* base URL, no trailing slash needed */
    const char *token;  /* bearer token or NULL */
    bool json;          /* print the API's JSON instead of tables */
};

/* ---- commands and options (cli_args.c, cli_commands.c) ------------------
 *
 * One table (cli_commands.c) holds every command: its name, arguments,
 * options, the text of its --help and its examples.  The parser, --help,
 * `ovsched help TOPIC`, the man page and the shell completions all read that
 * table, so what a user reads and what the program accepts cannot drift
 * apart (docs/cli.md).
 */

/* Every option of every command, one id each: a parsed value is found by id
 * (cli_args_get).  Options shared by several commands share an id. */
enum cli_opt {
    CLI_O_NONE = 0, /* ends an option table */
    CLI_O_SERVER,
    CLI_O_TOKEN,
    CLI_O_JSON,
    CLI_O_HELP,
    CLI_O_ID,
    CLI_O_NAME,
    CLI_O_CRON,
    CLI_O_INTERVAL,
    CLI_O_AT,
    CLI_O_TZ,
    CLI_O_COMMAND,
    CLI_O_STATUS,
    CLI_O_TIMEOUT,
    CLI_O_OWNER,
    CLI_O_CAMPAIGN,
    CLI_O_MAX_ATTEMPTS,
    CLI_O_LABEL,
    CLI_O_DEPENDS_ON,
    CLI_O_VERSION,
    CLI_O_PAGE,
    CLI_O_PAGE_SIZE,
    CLI_O_ALL,
    CLI_O_DETACH,
    CLI_O_LIMIT,
    CLI_O_FOLLOW,
    CLI_O_SINCE,
    CLI_O_TYPES,
    CLI_O_JOB,
    CLI_O_DIRECTION,
    CLI_O_DEPTH,
    CLI_O_DOT,
    CLI_O_ROLE,
    CLI_O_PREFIX,
    CLI_O_DRY_RUN,
    CLI_O_OUT_DIR,
    CLI_O_FROM,
    CLI_O_COUNT,
    CLI_O_EXPLAIN,
    CLI_O_ON_GAP,
    CLI_O_ON_OVERLAP,
    CLI_O_MAN,
    /* serve (parsed again by the daemon itself, see cli_commands.c) */
    CLI_O_LISTEN,
    CLI_O_DATA,
    CLI_O_STORE,
    CLI_O_MAX_IN_FLIGHT,
    CLI_O_JOBS_DIR,
    CLI_O_LOG_FORMAT,
    CLI_O_EVENTS_MAX,
    CLI_O_EVENTS_MAX_AGE,
    CLI_O_EVENTS_PING,
    CLI_O_REDIS,
    CLI_O_REDIS_CHANNEL,
    CLI_O_NEXUS_URL,
    CLI_O_REDIS_INGEST,
    CLI_O_REDIS_INGEST_CHANNEL,
    CLI_O_MAX_CONNECTIONS,
    CLI_O_RUN_AS,
    CLI_O_RUN_AS_TENANT,
    /* exec-launch (the daemon's helper, parsed again by src/exec) */
    CLI_O_USER,
    CLI_O_HIDE,
    CLI_O_LAST,
};

enum cli_arg_kind {
    CLI_ARG_FLAG, /* takes no value */
    CLI_ARG_TEXT, /* any text (checked against PATTERN when set) */
    CLI_ARG_INT,  /* a decimal integer from MIN to MAX */
    CLI_ARG_ENUM, /* one of VALUES, in any case; stored as the canonical spelling */
    CLI_ARG_FILE, /* a file name (the shells complete file names) */
    CLI_ARG_DIR,  /* a folder name */
};

/* One accepted value of an enumeration.  MEANS is NULL for a canonical value,
 * or the canonical value an alias stands for ("up" means "upstream"). */
struct cli_value {
    const char *name;
    const char *means;
};

struct cli_option {
    enum cli_opt id;
    const char *name; /* long name, without "--" */
    char short_name;  /* 0: none */
    enum cli_arg_kind kind;
    const char *metavar;            /* what the value is: "ZONE", "N" */
    const char *help;               /* one or more sentences */
    const struct cli_value *values; /* CLI_ARG_ENUM: ends with {NULL, NULL} */
    long long min, max;             /* CLI_ARG_INT */
    bool repeat;                    /* may be given again: every value is kept */
    const char *pattern;            /* CLI_ARG_TEXT: a regex the whole value must match */
    const char *pattern_help;       /* what PATTERN means: "KEY=VALUE" */
    /* Values the shells offer when VALUES does not say (the event types):
     * the I-th, or NULL past the last. */
    const char *(*value_at)(int i);
};

struct cli_args;

/* Flags of a command. */
enum {
    CLI_CMD_CLIENT = 1 << 0,   /* talks to the daemon: --server, --token, --json */
    CLI_CMD_FILE_ARG = 1 << 1, /* its positional arguments are file names (completion) */
    CLI_CMD_RAW = 1 << 2,      /* the run function parses ARGV again itself (serve) */
    /* started by the daemon, not by people: not in `ovsched --help`'s list
     * (help TOPIC, the man page and the completions know it) */
    CLI_CMD_INTERNAL = 1 << 3,
};

struct cli_command {
    const char *name;                   /* "job create"; a group ("job") has no RUN */
    const char *synopsis;               /* the positional arguments: "ID [FILE|-]" */
    const char *summary;                /* one line: what it is for */
    const char *details;                /* paragraphs for --help and the man page, or NULL */
    const struct cli_option *options;   /* ends with {CLI_O_NONE}; NULL: none */
    const char *const *examples;        /* command lines, NULL-terminated */
    int min_args, max_args;             /* positional arguments; max -1: any */
    unsigned flags;                     /* CLI_CMD_* */
    const struct cli_value *arg_values; /* the first positional argument's values, or NULL */
    int (*run)(struct cli_args *args);
};

/* What the parser found.  Strings point into ARGV or the option table. */
struct cli_args {
    const struct cli_command *cmd;
    const char *value[CLI_O_LAST]; /* the last value of each option; "" for a flag given */
    GPtrArray *list[CLI_O_LAST];   /* repeatable options: every value, in order */
    int nargs;                     /* positional arguments */
    char **args;
    int argc; /* the command's own ARGV, ARGV[0] its last name word (for CLI_CMD_RAW) */
    char **argv;
    FILE *in, *out;
    /* `ovsched serve`: the daemon, handed in by main() (the CLI does not link
     * against the daemon's headers). */
    int (*serve)(int argc, char **argv, FILE *in, FILE *out);
};

/* The command table, in the order --help lists it, and its length. */
extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

/* --server, --token, --json (CLI_CMD_CLIENT commands) and -h/--help (every command). */
extern const struct cli_option cli_common_options[];

/* Parse ARGV (ARGC words after the command's name; ARGV[0] is its last name
 * word) for CMD into ARGS.  Returns CLI_EXIT_OK; or CLI_EXIT_USAGE after
 * printing what is wrong (naming the option) and the usage line on stderr; or
 * CLI_PARSE_HELP after printing the command's help on ARGS->out. */
#define CLI_PARSE_HELP (-1)
int cli_args_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *args);
void cli_args_release(struct cli_args *args);

/* The value of option ID, or NULL when it was not given. */
const char *cli_args_get(const struct cli_args *args, enum cli_opt id);
/* True when option ID was given. */
bool cli_args_has(const struct cli_args *args, enum cli_opt id);
/* The value of CLI_ARG_INT option ID, or DEFAULT_VALUE when not given. */
long long cli_args_int(const struct cli_args *args, enum cli_opt id, long long default_value);
/* Every value of repeatable option ID (never NULL: an empty array). */
GPtrArray *cli_args_list(struct cli_args *args, enum cli_opt id);

/* Print "ovsched: <command>: <message>" and the command's usage line on
 * stderr; returns CLI_EXIT_USAGE.  MESSAGE is printf-style. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command named by the first words of ARGV (the longest match), and how
 * many words its name took; NULL when the first word names none. */
const struct cli_command *cli_command_find(int argc, char **argv, int *ret_words);
/* The command called NAME exactly ("job create"), or NULL. */
const struct cli_command *cli_command_get(const char *name);
/* True when CMD is a group whose subcommands are "CMD->name <word>". */
bool cli_command_is_group(const struct cli_command *cmd);
/* True when CMD is a subcommand of GROUP ("job create" of "job"). */
bool cli_command_is_child(const struct cli_command *group, const struct cli_command *cmd);

/* --help of CMD (a group lists its subcommands) on OUT. */
void cli_help_print(const struct cli_command *cmd, FILE *out);
/* `ovsched --help`: every command with its summary. */
void cli_help_print_overview(FILE *out);
/* The one-line usage of CMD ("usage: ovsched job list [options]"). */
void cli_help_print_usage(const struct cli_command *cmd, FILE *out);

/* The program's version (the VERSION file, compiled in by the Makefile). */
const char *cli_version(void);

/* Write the shell completion script for SHELL ("bash" or "zsh") on OUT.
 * Returns 0, or -EINVAL for another shell. */
int cli_completion_write(const char *shell, FILE *out);

/* The environment's defaults, then --server, --token and --json of ARGS. */
void cli_client_from_args(struct cli_client *client, const struct cli_args *args);

/* POST REQUEST (consumed, also on failure) to the RPC method METHOD.  On
 * success returns CLI_EXIT_OK with the answer in *ret_body (caller decrefs);
 * otherwise prints the error on stderr and returns its exit code. */
int cli_rpc(const struct cli_client *client, const char *method, json_t *request,
            json_t **ret_body);

/* The same, but a server's error is not printed: its exit code is returned
 * and "code: message" written into ERR (ERR_SIZE bytes). */
int cli_rpc_quiet(const struct cli_client *client, const char *method, json_t *request,
                  json_t **ret_body, char *err, size_t err_size);

/* The exit code for an HTTP STATUS with error CODE (may be NULL). */
int cli_exit_for_error(long status, const char *code);

/* Print VALUE as indented JSON and a newline. */
void cli_print_json(FILE *out, json_t *value);

/* ---- the commands' run functions (the table's RUN) ----------------------- */

int cli_job_create(struct cli_args *a);
int cli_job_get(struct cli_args *a);
int cli_job_list(struct cli_args *a);
int cli_job_update(struct cli_args *a);
int cli_job_delete(struct cli_args *a);
int cli_job_run(struct cli_args *a);
int cli_job_pause(struct cli_args *a);
int cli_job_resume(struct cli_args *a);
int cli_job_status(struct cli_args *a);
int cli_runs_run(struct cli_args *a);
int cli_decisions_run(struct cli_args *a);
int cli_events_run(struct cli_args *a);
int cli_graph_run(struct cli_args *a);
int cli_token_create(struct cli_args *a);
int cli_token_list(struct cli_args *a);
int cli_token_revoke(struct cli_args *a);
int cli_jobsdir_status(struct cli_args *a);
int cli_import_crontab_run(struct cli_args *a);
int cli_cron_next(struct cli_args *a);
int cli_completion_run(struct cli_args *a);
int cli_help_run(struct cli_args *a);
int cli_version_run(struct cli_args *a);

/* ---- tables ------------------------------------------------------------- */

/* Aligned columns for people: a header row, cells padded to the widest cell
 * (counted in characters, not bytes), a cell longer than its column's limit
 * cut with "...".  NULL or empty cells print as "-". */
struct cli_table;

/* HEADERS and MAX_WIDTHS (0: no limit) have NCOLS entries; both borrowed for
 * the table's life. */
struct cli_table *cli_table_new(size_t ncols, const char *const *headers, const int *max_widths);

/* Add a row of NCOLS cells (copied). */
void cli_table_add(struct cli_table *table, const char *const *cells);

/* Print the table; nothing but the header when it has no rows. */
void cli_table_print(const struct cli_table *table, FILE *out);
void cli_table_free(struct cli_table *table);

/* A whole table of ROWS (a JSON array of objects): column K shows KEYS[K] of
 * each row as cli_cell_text() writes it.  The arrays have NCOLS entries;
 * MAX_WIDTHS may be NULL. */
void cli_table_print_objects(FILE *out, json_t *rows, size_t ncols, const char *const *headers,
                             const char *const *keys, const int *max_widths);

/* The text of CELL (a JSON value) for a table: strings as they are, numbers
 * and booleans formatted, arrays of strings joined with spaces, null as NULL.
 * Returns a new string or NULL (free with g_free). */
char *cli_cell_text(json_t *cell);

/* ---- crontab ------------------------------------------------------------ */

struct cli_crontab_options {
    const char *timezone; /* default zone for the jobs, NULL: UTC */
    const char *prefix;   /* id prefix, NULL: "crontab" */
};

/* Turn crontab TEXT into job documents (SPEC section 2 shape, without the
 * {"job": ...} wrapper), one per entry, in order, in *ret_jobs (a JSON array),
 * and what was skipped or is worth saying into *ret_notes: an array of
 * {"line": N, "message": "...", "error": bool}; "error" true for a line that
 * is not valid crontab (a bad schedule, a missing command), false for what was
 * understood but not imported (@reboot, MAILTO).  Never fails: bad lines
 * become notes.  Both outputs are new references. */
void cli_crontab_parse(const char *text, const struct cli_crontab_options *options,
                       json_t **ret_jobs, json_t **ret_notes);

#endif
