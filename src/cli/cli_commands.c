/*
 * cli_commands - the command table: every command of the ovsched binary, its
 * arguments, its options and what --help, the man page and the shell
 * completions say about them (cli_args.c parses from it, cli_help.c and
 * cli_completion.c print it).
 *
 * A row is the whole truth about a command: an option that is not in its row
 * is refused, and one that is in it is documented.  `serve` is parsed here
 * first (values checked, enumerations made canonical) and then again by the
 * daemon (src/daemon), so a new daemon option needs a row here too; the e2e
 * test test_cli_help.py compares the two lists.
 */
#include <string.h>

#include "cli/internal.h"
#include "events/events.h"
#include "exec/exec.h"

/* ---- enumerations ------------------------------------------------------------- */

static const struct cli_value job_statuses[] = {
    {"ACTIVE", NULL}, {"PAUSED", NULL}, {"DISABLED", NULL}, {NULL, NULL}};
static const struct cli_value listed_statuses[] = {{"ACTIVE", NULL},   {"PAUSED", NULL},
                                                   {"DISABLED", NULL}, {"COMPLETED", NULL},
                                                   {"FAILED", NULL},   {NULL, NULL}};
static const struct cli_value directions[] = {{"upstream", NULL},     {"downstream", NULL},
                                              {"both", NULL},         {"up", "upstream"},
                                              {"down", "downstream"}, {NULL, NULL}};
static const struct cli_value roles[] = {
    {"admin", NULL}, {"operator", NULL}, {"viewer", NULL}, {NULL, NULL}};
static const struct cli_value gap_policies[] = {{"shift", NULL}, {"skip", NULL}, {NULL, NULL}};
static const struct cli_value overlap_policies[] = {{"first", NULL}, {"both", NULL}, {NULL, NULL}};
static const struct cli_value log_formats[] = {{"json", NULL}, {"text", NULL}, {NULL, NULL}};
static const struct cli_value shells[] = {{"bash", NULL}, {"zsh", NULL}, {NULL, NULL}};

/* The event types the daemon knows, short names ("job_created"). */
static const char *event_type_at(int i)
{
    if (i < 0 || i >= EVENTS_TYPE_COUNT)
        return NULL;
    const char *name = events_type_to_string((enum events_type)i);
    const char *dot = name ? strchr(name, '.') : NULL;
    return dot ? dot + 1 : name;
}

/* ---- options ------------------------------------------------------------------ */

/* One option row: ID, its long name, what it takes, the metavariable and its
 * help; the rest (.values, .min/.max, .repeat, .pattern ...) by name. */
#define OPT(id_, name_, kind_, metavar_, help_, ...)                                               \
    {                                                                                              \
        .id = (id_), .name = (name_), .kind = (kind_), .metavar = (metavar_), .help = (help_),     \
        __VA_ARGS__                                                                                \
    }
#define END_OPTIONS                                                                                \
    {                                                                                              \
        .id = CLI_O_NONE                                                                           \
    }
#define INT_ANY     .min = G_MININT64, .max = G_MAXINT64
#define INT_MIN1    .min = 1, .max = G_MAXINT64
#define LABEL_VALUE .repeat = true, .pattern = "[^=]+=.*", .pattern_help = "KEY=VALUE"

const struct cli_option cli_common_options[] = {
    OPT(CLI_O_SERVER, "server", CLI_ARG_TEXT, "URL",
        "The daemon's base URL (default http://127.0.0.1:8080, or $OVSCHED_SERVER)."),
    OPT(CLI_O_TOKEN, "token", CLI_ARG_TEXT, "TOKEN",
        "The bearer token to send (default $OVSCHED_TOKEN). The daemon's first start writes "
        "the admin token to DATA/admin-token."),
    OPT(CLI_O_JSON, "json", CLI_ARG_FLAG, NULL,
        "Print the API's JSON answer instead of a table, for scripts."),
    OPT(CLI_O_HELP, "help", CLI_ARG_FLAG, NULL, "Print this help and exit.", .short_name = 'h'),
    END_OPTIONS,
};

/* The fields a job can be built from (create, and update on top of the job). */
#define JOB_FIELD_OPTIONS(status_help)                                                             \
    OPT(CLI_O_ID, "id", CLI_ARG_TEXT, "ID",                                                        \
        "The job's id (letters, digits, '.', '_', '-'); generated when absent."),                  \
        OPT(CLI_O_NAME, "name", CLI_ARG_TEXT, "NAME", "A name for people; need not be unique."),   \
        OPT(CLI_O_CRON, "cron", CLI_ARG_TEXT, "EXPR",                                              \
            "Fire on a cron schedule: 5 fields (or 6 with seconds first), @daily, @every 90s "     \
            "... (docs/cron.md). Replaces --interval and --at."),                                  \
        OPT(CLI_O_INTERVAL, "interval", CLI_ARG_TEXT, "DURATION",                                  \
            "Fire every DURATION (90s, 1h30m), counted from the job's creation."),                 \
        OPT(CLI_O_AT, "at", CLI_ARG_TEXT, "TIME",                                                  \
            "Fire once, at an RFC 3339 time (2026-12-01T09:00:00Z)."),                             \
        OPT(CLI_O_TZ, "tz", CLI_ARG_TEXT, "ZONE",                                                  \
            "The IANA time zone the cron schedule is read in (default UTC)."),                     \
        OPT(CLI_O_COMMAND, "command", CLI_ARG_TEXT, "'SHELL LINE'",                                \
            "Make it a shell job running this line through /bin/sh -c (executor {\"type\": "       \
            "\"shell\", \"shell\": true}); env, cwd and timeout of an existing executor are "      \
            "kept."),                                                                              \
        OPT(CLI_O_STATUS, "status", CLI_ARG_ENUM, "STATUS", status_help, .values = job_statuses),  \
        OPT(CLI_O_TIMEOUT, "timeout", CLI_ARG_TEXT, "DURATION",                                    \
            "Stop an attempt that runs longer than this (executor.timeout: 30s, 10m)."),           \
        OPT(CLI_O_MAX_ATTEMPTS, "max-attempts", CLI_ARG_INT, "N",                                  \
            "Attempts per run in all, retries included (1: no retry); the delays between them "    \
            "are the job's retry_policy (docs/daemon.md).",                                        \
            .min = 1, .max = 1000),                                                                \
        OPT(CLI_O_DEPENDS_ON, "depends-on", CLI_ARG_TEXT, "ID",                                    \
            "A job this one waits for: each run starts once ID has completed since this job's "    \
            "previous run (docs/graph.md). Replaces the dependency list.",                         \
            .repeat = true),                                                                       \
        OPT(CLI_O_LABEL, "label", CLI_ARG_TEXT, "KEY=VALUE", "Set a label.", LABEL_VALUE),         \
        OPT(CLI_O_OWNER, "owner", CLI_ARG_TEXT, "OWNER", "Who owns the job (free text)."),         \
        OPT(CLI_O_CAMPAIGN, "campaign", CLI_ARG_INT, "N",                                          \
            "The tenant (campaign_id) the job belongs to; a tenant-bound token may only use its "  \
            "own.",                                                                                \
            INT_ANY)

static const struct cli_option job_create_options[] = {
    JOB_FIELD_OPTIONS("The status to create it with (default ACTIVE)."),
    END_OPTIONS,
};

static const struct cli_option job_update_options[] = {
    OPT(CLI_O_VERSION, "version", CLI_ARG_INT, "N",
        "Update only if the job is still at version N (default: the version just read, or the "
        "document's version): a concurrent edit then fails with exit code 5.",
        INT_MIN1),
    JOB_FIELD_OPTIONS("The status to set."),
    END_OPTIONS,
};

static const struct cli_option job_list_options[] = {
    OPT(CLI_O_STATUS, "status", CLI_ARG_ENUM, "STATUS", "Only jobs with this status.",
        .values = listed_statuses),
    OPT(CLI_O_CAMPAIGN, "campaign", CLI_ARG_INT, "N", "Only jobs of this tenant (campaign_id).",
        INT_ANY),
    OPT(CLI_O_LABEL, "label", CLI_ARG_TEXT, "KEY=VALUE",
        "Only jobs with this label (all the labels given must match).", LABEL_VALUE),
    OPT(CLI_O_PAGE, "page", CLI_ARG_INT, "N", "Which page to show (default 1).", INT_MIN1),
    OPT(CLI_O_PAGE_SIZE, "page-size", CLI_ARG_INT, "N", "Jobs per page (default 50).", .min = 1,
        .max = 1000),
    OPT(CLI_O_ALL, "all", CLI_ARG_FLAG, NULL,
        "Fetch every page (with --json: one answer holding every job)."),
    END_OPTIONS,
};

static const struct cli_option job_delete_options[] = {
    OPT(CLI_O_DETACH, "detach", CLI_ARG_FLAG, NULL,
        "Also remove the job from the dependencies of the jobs that depend on it (without it, "
        "deleting a job others depend on is refused, naming them)."),
    END_OPTIONS,
};

static const struct cli_option runs_options[] = {
    OPT(CLI_O_PAGE, "page", CLI_ARG_INT, "N", "Which page to show, newest runs first (default 1).",
        INT_MIN1),
    OPT(CLI_O_PAGE_SIZE, "page-size", CLI_ARG_INT, "N", "Runs per page (default 20).", .min = 1,
        .max = 1000),
    END_OPTIONS,
};

static const struct cli_option decisions_options[] = {
    OPT(CLI_O_LIMIT, "limit", CLI_ARG_INT, "N", "Show the N newest decisions (default 100).",
        .min = 1, .max = 1000),
    END_OPTIONS,
};

static const struct cli_option events_options[] = {
    OPT(CLI_O_FOLLOW, "follow", CLI_ARG_FLAG, NULL,
        "Keep printing new events as they happen (Ctrl-C stops); a dropped connection is "
        "resumed where it stopped.",
        .short_name = 'f'),
    OPT(CLI_O_SINCE, "since", CLI_ARG_INT, "SEQ",
        "Start after event number SEQ (default: the oldest event still in the log; with "
        "--follow and no --since, only new events).",
        .min = 0, .max = G_MAXINT64),
    OPT(CLI_O_TYPES, "types", CLI_ARG_TEXT, "TYPE,...",
        "Only these event types, comma separated (job_completed or scheduler.job_completed, any "
        "case).",
        .value_at = event_type_at),
    OPT(CLI_O_JOB, "job", CLI_ARG_TEXT, "ID", "Only the events of this job."),
    END_OPTIONS,
};

static const struct cli_option graph_options[] = {
    OPT(CLI_O_DIRECTION, "direction", CLI_ARG_ENUM, "DIRECTION",
        "With JOB: the jobs it depends on (upstream), the jobs that depend on it (downstream), "
        "or both (the default).",
        .values = directions),
    OPT(CLI_O_DEPTH, "depth", CLI_ARG_INT, "N",
        "With JOB: follow at most N edges from it (default 0: no limit).", .min = 0,
        .max = 1000000),
    OPT(CLI_O_DOT, "dot", CLI_ARG_FLAG, NULL,
        "Print Graphviz DOT instead of a table: ovsched graph --dot | dot -Tsvg > graph.svg."),
    END_OPTIONS,
};

static const struct cli_option token_create_options[] = {
    OPT(CLI_O_NAME, "name", CLI_ARG_TEXT, "NAME", "What the token is for (required)."),
    OPT(CLI_O_ROLE, "role", CLI_ARG_ENUM, "ROLE",
        "What it may do (required): admin everything, operator jobs and triggers but no shell "
        "jobs, viewer read and subscribe.",
        .values = roles),
    OPT(CLI_O_CAMPAIGN, "campaign", CLI_ARG_INT, "N",
        "Bind the token to this tenant (campaign_id): it sees and changes only its jobs.", INT_ANY),
    END_OPTIONS,
};

static const struct cli_option import_options[] = {
    OPT(CLI_O_TZ, "tz", CLI_ARG_TEXT, "ZONE",
        "The time zone of entries before any CRON_TZ= line (default UTC)."),
    OPT(CLI_O_PREFIX, "prefix", CLI_ARG_TEXT, "PREFIX",
        "Start the job ids with PREFIX instead of crontab.",
        .pattern = "[A-Za-z0-9][A-Za-z0-9_.-]*",
        .pattern_help = "letters, digits, '_', '.', '-' (a letter or digit first)"),
    OPT(CLI_O_DRY_RUN, "dry-run", CLI_ARG_FLAG, NULL,
        "Print the jobs as a table and send nothing."),
    OPT(CLI_O_OUT_DIR, "out-dir", CLI_ARG_DIR, "DIR",
        "Write each job to DIR/<id>.json (for serve --jobs-dir) instead of sending it."),
    END_OPTIONS,
};

static const struct cli_option cron_next_options[] = {
    OPT(CLI_O_TZ, "tz", CLI_ARG_TEXT, "ZONE",
        "The IANA time zone to read EXPR in (default UTC; a CRON_TZ= prefix wins)."),
    OPT(CLI_O_FROM, "from", CLI_ARG_TEXT, "TIME", "Start after this RFC 3339 time (default now)."),
    OPT(CLI_O_COUNT, "count", CLI_ARG_INT, "N", "How many fire times (default 5).",
        .short_name = 'n', .min = 1, .max = 10000),
    OPT(CLI_O_EXPLAIN, "explain", CLI_ARG_FLAG, NULL,
        "Say which times a daylight-saving change moved or removed, and why."),
    OPT(CLI_O_ON_GAP, "on-gap", CLI_ARG_ENUM, "POLICY",
        "A time that does not exist (spring forward): shift it to the first instant after the "
        "gap (default), or skip it.",
        .values = gap_policies),
    OPT(CLI_O_ON_OVERLAP, "on-overlap", CLI_ARG_ENUM, "POLICY",
        "A time that occurs twice (fall back): fire at the first occurrence only, or at both "
        "(default: first for a fixed hour, both for a wildcard hour).",
        .values = overlap_policies),
    END_OPTIONS,
};

static const struct cli_option help_options[] = {
    OPT(CLI_O_MAN, "man", CLI_ARG_FLAG, NULL,
        "Print the whole manual as a roff man page (what `make install` installs as "
        "ovsched.1)."),
    END_OPTIONS,
};

static const struct cli_option serve_options[] = {
    OPT(CLI_O_LISTEN, "listen", CLI_ARG_TEXT, "HOST:PORT",
        "Where to serve the API and the web UI (default 127.0.0.1:8080; port 0 picks a free "
        "one, printed on the first line of stdout).",
        .pattern = ".*:[0-9]+", .pattern_help = "HOST:PORT"),
    OPT(CLI_O_DATA, "data", CLI_ARG_DIR, "DIR",
        "The data folder: the SQLite store, the admin token, the lock (default ./data; one "
        "daemon per folder)."),
    OPT(CLI_O_STORE, "store", CLI_ARG_TEXT, "URL",
        "Where jobs, runs and events are stored: sqlite (default, DATA/ovsched.db) or a "
        "PostgreSQL connection string (postgres://USER@HOST:PORT/DB, or key=value; the "
        "password is never logged: docs/storage.md)."),
    OPT(CLI_O_MAX_IN_FLIGHT, "max-in-flight", CLI_ARG_INT, "N",
        "Run at most N attempts at once; the others queue (default 0: no cap).", .min = 0,
        .max = 1000000),
    OPT(CLI_O_JOBS_DIR, "jobs-dir", CLI_ARG_DIR, "DIR",
        "Watch DIR for job files (<name>.json): each reload is applied all or nothing "
        "(docs/cli.md)."),
    OPT(CLI_O_LOG_FORMAT, "log-format", CLI_ARG_ENUM, "FORMAT",
        "How log lines on stderr look (default json).", .values = log_formats),
    OPT(CLI_O_EVENTS_MAX, "events-max", CLI_ARG_INT, "N",
        "Keep at most the N newest events in the event log (default 100000).", INT_MIN1),
    OPT(CLI_O_EVENTS_MAX_AGE, "events-max-age", CLI_ARG_TEXT, "DURATION",
        "Drop events older than this from the log (default 7d)."),
    OPT(CLI_O_EVENTS_PING, "events-ping", CLI_ARG_TEXT, "DURATION",
        "Ping WebSocket subscribers this often (default 20s)."),
    OPT(CLI_O_REDIS, "redis", CLI_ARG_TEXT, "URL",
        "Also publish every event to Redis (redis://HOST[:PORT]) and take trigger events from "
        "it."),
    OPT(CLI_O_REDIS_CHANNEL, "redis-channel", CLI_ARG_TEXT, "NAME",
        "The Redis channel events are published to (default ovsched.events)."),
    OPT(CLI_O_NEXUS_URL, "nexus-url", CLI_ARG_TEXT, "URL",
        "Also register patterns with this Nexus (docs/patterns.md)."),
    OPT(CLI_O_REDIS_INGEST, "redis-ingest", CLI_ARG_TEXT, "URL",
        "Take trigger_on events from this Redis (default: the one of --redis)."),
    OPT(CLI_O_REDIS_INGEST_CHANNEL, "redis-ingest-channel", CLI_ARG_TEXT, "NAME",
        "The Redis channel trigger events come from (default ovsched.ingest)."),
    OPT(CLI_O_MAX_CONNECTIONS, "max-connections", CLI_ARG_INT, "N",
        "Keep at most N HTTP connections open (default 1024; docs/security.md).", INT_MIN1),
    OPT(CLI_O_RUN_AS, "run-as", CLI_ARG_TEXT, "USER",
        "Run shell jobs as USER unless the job or its tenant names another (the daemon must be "
        "root or hold CAP_SETUID and CAP_SETGID; docs/security.md)."),
    OPT(CLI_O_RUN_AS_TENANT, "run-as-tenant", CLI_ARG_TEXT, "CAMPAIGN_ID=USER",
        "Run the shell jobs of tenant CAMPAIGN_ID as USER.", .repeat = true,
        .pattern = "-?[0-9]+=.+", .pattern_help = "CAMPAIGN_ID=USER"),
    END_OPTIONS,
};

static const struct cli_option exec_launch_options[] = {
    OPT(CLI_O_USER, "user", CLI_ARG_TEXT, "NAME",
        "Become this user (its groups, gid, uid and HOME) before running PROGRAM."),
    OPT(CLI_O_HIDE, "hide", CLI_ARG_DIR, "DIR",
        "Cover DIR with an empty read-only tmpfs first, when allowed (root)."),
    END_OPTIONS,
};

/* ---- run functions ---------------------------------------------------------------- */

/* `serve`: the options are checked (and enumerations made canonical in ARGV);
 * the daemon parses the same ARGV. */
static int serve_run(struct cli_args *a)
{
    if (!a->serve) {
        fputs("ovsched: serve: this build has no daemon\n", stderr);
        return CLI_EXIT_FAILED;
    }
    return a->serve(a->argc, a->argv, a->in, a->out);
}

/* `exec-launch`: the helper the daemon starts a run_as attempt through. */
static int exec_launch_run(struct cli_args *a)
{
    return exec_launch_main(a->argc, a->argv);
}

/* ---- the table -------------------------------------------------------------------- */

#define EXAMPLES(...) ((const char *const[]){__VA_ARGS__, NULL})

const struct cli_command cli_commands[] = {
    {"serve", NULL, "run the scheduler daemon: the API, the web UI and the scheduler",
     "Runs in the foreground until SIGTERM or SIGINT (running attempts get 10 s to finish). "
     "Every API call needs a bearer token: OVSCHED_ADMIN_TOKEN, or the admin token the first "
     "start writes to DATA/admin-token. The web UI is at http://HOST:PORT/. See docs/daemon.md "
     "and docs/operations.md.",
     serve_options,
     EXAMPLES("ovsched serve --listen 127.0.0.1:8080 --data /var/lib/ovsched",
              "OVSCHED_ADMIN_TOKEN=$(openssl rand -hex 32) ovsched serve --listen 127.0.0.1:0 --data /tmp/demo"),
     0, 0, CLI_CMD_RAW, NULL, serve_run},

    {"job", NULL, "create, read, change, run, pause and delete jobs", NULL, NULL,
     EXAMPLES("ovsched job create --id backup --cron '0 3 * * *' --command 'pg_dump db > /tmp/db'",
              "ovsched job list --status paused"),
     0, -1, 0, NULL, NULL},
    {"job create", "[FILE|-]", "create a job from a document, from flags, or both",
     "FILE (or - for stdin) holds a job document: {\"job\": {...}} or the bare job object "
     "(docs/daemon.md). The flags set fields on top of it; a job made from flags alone without "
     "--command runs nothing (a noop job), which is useful as a dependency or a manual step.",
     job_create_options,
     EXAMPLES("ovsched job create --id backup --name 'Nightly backup' --cron '0 3 * * *' --tz "
              "Europe/Paris --command 'pg_dump app > /backups/app.sql'",
              "ovsched job create weekly-report.json --status paused"),
     0, 1, CLI_CMD_CLIENT | CLI_CMD_FILE_ARG, NULL, cli_job_create},
    {"job get", "ID", "show one job", NULL, NULL, EXAMPLES("ovsched job get backup --json"), 1, 1,
     CLI_CMD_CLIENT, NULL, cli_job_get},
    {"job list", NULL, "list jobs: one page, or every page with --all",
     "The table shows ID, NAME, STATUS, SCHEDULE, TZ, NEXT RUN and COMMAND; a page N of M line "
     "follows when there are more pages.",
     job_list_options,
     EXAMPLES("ovsched job list --status paused --label team=data",
              "ovsched job list --all --json"),
     0, 0, CLI_CMD_CLIENT, NULL, cli_job_list},
    {"job update", "ID [FILE|-]", "change a job (read, apply the flags, write back)",
     "Without FILE the job is read, the flags are applied to it and it is written back with the "
     "version read, so a change someone made in between fails with exit code 5 instead of being "
     "overwritten. With FILE (or - for stdin) that document replaces the job.",
     job_update_options,
     EXAMPLES("ovsched job update backup --cron '30 3 * * *'",
              "ovsched job get backup --json | jq '.job.name = \"Backup\"' | ovsched job update "
              "backup -"),
     1, 2, CLI_CMD_CLIENT | CLI_CMD_FILE_ARG, NULL, cli_job_update},
    {"job delete", "ID", "delete a job with its runs and decisions", NULL, job_delete_options,
     EXAMPLES("ovsched job delete data-refresh --detach"), 1, 1, CLI_CMD_CLIENT, NULL,
     cli_job_delete},
    {"job run", "ID", "start a run of a job now (a manual run)", NULL, NULL,
     EXAMPLES("ovsched job run backup"), 1, 1, CLI_CMD_CLIENT, NULL, cli_job_run},
    {"job pause", "ID", "pause a job: its slots pass without runs until it is resumed", NULL, NULL,
     EXAMPLES("ovsched job pause backup"), 1, 1, CLI_CMD_CLIENT, NULL, cli_job_pause},
    {"job resume", "ID", "resume a paused job from its next slot", NULL, NULL,
     EXAMPLES("ovsched job resume backup"), 1, 1, CLI_CMD_CLIENT, NULL, cli_job_resume},
    {"job status", "ID", "why a job is (not) running: its runs, next fire time, what it waits for",
     "Prints the job's status, its next fire time, the run in progress, the last finished run "
     "and its status, and when it is not running, why: each dependency that holds it back, in "
     "words.",
     NULL, EXAMPLES("ovsched job status weekly-report"), 1, 1, CLI_CMD_CLIENT, NULL,
     cli_job_status},

    {"runs", "JOB", "the run history of a job, newest first",
     "The table shows RUN, STATUS, TRIGGER, ATTEMPT, SCHEDULED, STARTED, FINISHED, EXIT and "
     "ERROR; --json adds each run's output.",
     runs_options, EXAMPLES("ovsched runs backup --page-size 5"), 1, 1, CLI_CMD_CLIENT, NULL,
     cli_runs_run},
    {"decisions", "JOB", "what the scheduler decided at each slot of a job, and why",
     "Every slot the scheduler considers leaves a decision: fired, skipped (forbid, misfire, "
     "deadline, DST), coalesced, waiting for dependencies, ... The answer to \"why "
     "didn't my job run at 09:00?\". Newest first.",
     decisions_options, EXAMPLES("ovsched decisions weekly-report --limit 20"), 1, 1,
     CLI_CMD_CLIENT, NULL, cli_decisions_run},
    {"events", NULL, "print the daemon's events: what is in the log, or live with --follow",
     "Without --follow the events still in the daemon's log (after --since) are printed and the "
     "command ends. With --follow it goes on printing new ones; a dropped connection is resumed "
     "after the last event printed, so none is missed or printed twice. One line per event: "
     "seq, time, type, job, status; --json prints each envelope on one line.",
     events_options,
     EXAMPLES("ovsched events --types job_failed,job_skipped",
              "ovsched events --follow --job backup --json | jq .payload"),
     0, 0, CLI_CMD_CLIENT, NULL, cli_events_run},
    {"graph", "[JOB]", "the dependency graph: every job, or the closure of JOB",
     "Prints the execution order (level 0 depends on nothing, level n only on earlier levels) "
     "and a table with each job's status, last run and what it depends on; --dot prints "
     "Graphviz with one edge from each dependency to its dependent.",
     graph_options,
     EXAMPLES("ovsched graph weekly-report --direction up",
              "ovsched graph --dot | dot -Tsvg > graph.svg"),
     0, 1, CLI_CMD_CLIENT, NULL, cli_graph_run},

    {"token", NULL, "create, list and revoke API tokens (admin only)", NULL, NULL,
     EXAMPLES("ovsched token create --name ci --role operator"), 0, -1, 0, NULL, NULL},
    {"token create", NULL, "create a token; its secret is printed once",
     "The secret is shown only now: the daemon keeps a hash of it.", token_create_options,
     EXAMPLES("ovsched token create --name grafana --role viewer",
              "ovsched token create --name team7 --role operator --campaign 7"),
     0, 0, CLI_CMD_CLIENT, NULL, cli_token_create},
    {"token list", NULL, "list tokens (never their secrets)", NULL, NULL,
     EXAMPLES("ovsched token list"), 0, 0, CLI_CMD_CLIENT, NULL, cli_token_list},
    {"token revoke", "ID", "revoke a token: it is refused from now on", NULL, NULL,
     EXAMPLES("ovsched token revoke 3"), 1, 1, CLI_CMD_CLIENT, NULL, cli_token_revoke},

    {"jobs-dir", NULL, "the watched folder of job files (serve --jobs-dir)", NULL, NULL,
     EXAMPLES("ovsched jobs-dir status"), 0, -1, 0, NULL, NULL},
    {"jobs-dir status", NULL, "what the last reload of the job folder did, or why it was refused",
     "Exits 1 when the last reload was refused, so a deploy script can check a folder it just "
     "changed.",
     NULL, EXAMPLES("ovsched jobs-dir status"), 0, 0, CLI_CMD_CLIENT, NULL, cli_jobsdir_status},

    {"import-crontab", "FILE|-", "turn a crontab's entries into jobs",
     "Reads a user crontab (crontab -l) and creates one shell job per entry; importing the same "
     "crontab again updates those jobs instead of duplicating them. A crontab with an invalid "
     "line imports nothing (exit 1). docs/cli.md says how each kind of line is read.",
     import_options,
     EXAMPLES("crontab -l | ovsched import-crontab - --dry-run",
              "ovsched import-crontab /etc/cron.d/backups --tz Europe/Paris --out-dir jobs/"),
     1, 1, CLI_CMD_CLIENT | CLI_CMD_FILE_ARG, NULL, cli_import_crontab_run},

    {"cron", NULL, "cron expressions: preview when a schedule fires", NULL, NULL,
     EXAMPLES("ovsched cron next '0 9 * * 1' --tz America/New_York"), 0, -1, 0, NULL, NULL},
    {"cron next", "[EXPR]", "the next fire times of a cron expression (computed here, no daemon)",
     "Prints each time in UTC and in the zone, with its abbreviation. Without EXPR, reads JSON "
     "requests from stdin, one per line ({\"expr\", \"tz\", \"from\", \"n\", \"explain\", "
     "\"dst_policy\"}), and writes one JSON answer per line ({\"times\": [...]} or "
     "{\"error\": \"...\"}), in order (docs/cron.md).",
     cron_next_options,
     EXAMPLES("ovsched cron next '30 2 * * *' --tz America/New_York --from 2026-03-07T00:00:00Z "
              "-n 3 --explain",
              "echo '{\"expr\": \"@daily\", \"n\": 2}' | ovsched cron next"),
     0, 1, 0, NULL, cli_cron_next},

    {"exec-launch", "-- PROGRAM [ARGS...]",
     "(started by the daemon) run a shell job's program as its run_as user",
     "Not for people: the daemon starts an attempt whose job has a run_as user through this "
     "mode of its own binary. It hides the data folder, becomes the user, drops every "
     "capability, closes the descriptors above stderr and execs PROGRAM; a failed step exits "
     "126, a missing program 127 (docs/security.md, \"What a job can reach\").",
     exec_launch_options, EXAMPLES("ovsched exec-launch --user ovsched-job -- /bin/echo hello"), 1,
     -1, CLI_CMD_RAW | CLI_CMD_INTERNAL, NULL, exec_launch_run},

    {"completion", "SHELL", "print the shell completion script for bash or zsh",
     "Installed packages put it where the shell finds it; to try it in the current shell:\n\n"
     "  source <(ovsched completion bash)",
     NULL, EXAMPLES("ovsched completion bash > ~/.local/share/bash-completion/completions/ovsched"),
     1, 1, 0, shells, cli_completion_run},
    {"help", "[TOPIC]", "help on a command (help job create) or a topic (exit-codes, environment)",
     NULL, help_options, EXAMPLES("ovsched help job list", "ovsched help exit-codes"), 0, -1, 0,
     NULL, cli_help_run},
    {"version", NULL, "print the version (also ovsched --version)", NULL, NULL,
     EXAMPLES("ovsched --version"), 0, 0, 0, NULL, cli_version_run},
};

const size_t cli_command_count = G_N_ELEMENTS(cli_commands);
