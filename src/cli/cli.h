/*
 * cli - the client-side subcommands of the ovsched binary.
 *
 * Each entry point takes its own name and the arguments after it and returns the
 * process exit status (docs/cli.md): 0 success, 1 the request failed (bad
 * expression, unknown zone, an error the server reported), 2 bad usage, 3 the
 * server cannot be reached, 4 not found, 5 conflict (stale version, id taken),
 * 6 unauthenticated or forbidden.
 */
#ifndef OVSCHED_CLI_CLI_H
#define OVSCHED_CLI_CLI_H

#include <stdio.h>

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_UNREACHABLE = 3,
    CLI_EXIT_NOT_FOUND = 4,
    CLI_EXIT_CONFLICT = 5,
    CLI_EXIT_DENIED = 6,
};

/* `ovsched cron next [EXPR] [--tz ZONE] [--from TIME] [-n N] [--explain]`; with
 * no EXPR, the JSON-lines batch mode on IN and OUT.  ARGV[0] is "cron". */
int cli_cron_main(int argc, char **argv, FILE *in, FILE *out);

/* `ovsched job create|get|list|update|delete|run|pause|resume|status ...`. */
int cli_job_main(int argc, char **argv, FILE *in, FILE *out);

/* `ovsched runs JOB`: the run history of a job. */
int cli_runs_main(int argc, char **argv, FILE *in, FILE *out);

/* `ovsched events [--follow] [--since N] [--types T,...] [--job ID]`: SSE client. */
int cli_events_main(int argc, char **argv, FILE *in, FILE *out);

/* `ovsched token create|list|revoke`. */
int cli_token_main(int argc, char **argv, FILE *in, FILE *out);

/* `ovsched graph [JOB] [--direction up|down|both] [--depth N] [--dot]`. */
int cli_graph_main(int argc, char **argv, FILE *in, FILE *out);

/* `ovsched jobs-dir status`: the watched job folder's last reload. */
int cli_jobsdir_main(int argc, char **argv, FILE *in, FILE *out);

/* `ovsched import-crontab FILE [--tz ZONE] [--dry-run|--json]`. */
int cli_import_crontab_main(int argc, char **argv, FILE *in, FILE *out);

#endif
