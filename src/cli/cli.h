/*
 * cli - the client-side subcommands of the ovsched binary.
 *
 * Each entry point takes its own name and the arguments after it and returns the
 * process exit status: 0 success, 1 the request failed (bad expression, unknown
 * zone), 2 bad usage.
 */
#ifndef OVSCHED_CLI_CLI_H
#define OVSCHED_CLI_CLI_H

#include <stdio.h>

enum cli_exit { CLI_EXIT_OK = 0, CLI_EXIT_FAILED = 1, CLI_EXIT_USAGE = 2 };

/* `ovsched cron next [EXPR] [--tz ZONE] [--from TIME] [-n N] [--explain]`; with
 * no EXPR, the JSON-lines batch mode on IN and OUT.  ARGV[0] is "cron". */
int cli_cron_main(int argc, char **argv, FILE *in, FILE *out);

#endif
