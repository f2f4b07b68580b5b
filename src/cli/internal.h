/*
 * cli/internal.h - what the client subcommands share: the connection options,
 * the RPC call with its mapping from server errors to exit codes, tables for
 * people, and the crontab parser of `import-crontab`.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 the server refused (its code and message
 * printed as `ovsched: <code>: <message>`), 2 usage, 3 cannot reach the
 * server, 4 not found, 5 conflict (stale version, id taken), 6 unauthenticated
 * or forbidden.
 */
#ifndef OVSCHED_CLI_INTERNAL_H
#define OVSCHED_CLI_INTERNAL_H

#include <getopt.h>
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

/* getopt_long values of the common options; subcommands append
 * CLI_COMMON_OPTIONS to their own option table. */
enum { CLI_OPT_SERVER = 1000, CLI_OPT_TOKEN, CLI_OPT_JSON, CLI_OPT_HELP };
#define CLI_COMMON_OPTIONS                                                                         \
    {"server", required_argument, NULL, CLI_OPT_SERVER},                                           \
        {"token", required_argument, NULL, CLI_OPT_TOKEN},                                         \
        {"json", no_argument, NULL, CLI_OPT_JSON},                                                 \
    {                                                                                              \
        "help", no_argument, NULL, CLI_OPT_HELP                                                    \
    }

/* Defaults from the environment. */
void cli_client_init(struct cli_client *client);

/* Handle common option C (from getopt_long); true if it was one. */
bool cli_client_option(struct cli_client *client, int c, const char *arg);

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
