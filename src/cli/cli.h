/*
 * cli - the command line of the ovsched binary: every subcommand, the daemon's
 * `serve` included, dispatched from one table (src/cli/cli_commands.c).
 *
 * Exit codes (docs/cli.md, `ovsched help exit-codes`): 0 success, 1 the
 * request failed (bad expression, unknown zone, an error the server
 * reported), 2 bad usage (unknown command or option, a bad option value,
 * a missing argument), 3 the server cannot be reached, 4 not found,
 * 5 conflict (stale version, id taken), 6 unauthenticated or forbidden.
 * 3 to 6 are kinds of failure a script may tell apart; any non-zero code is a
 * failure.
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

/* The daemon's entry point (`ovsched serve`), handed in by main(). */
typedef int (*cli_serve_fn)(int argc, char **argv, FILE *in, FILE *out);

/* Run the command line ARGV (ARGV[0] the program) and return the process
 * exit status.  SERVE runs the daemon once `serve`'s options are checked. */
int cli_main(int argc, char **argv, cli_serve_fn serve);

#endif
