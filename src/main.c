/*
 * ovsched - the OVASABI Scheduler Service: one binary, many subcommands.
 *
 * main() only hands the command line to the CLI's command table
 * (src/cli/cli_commands.c), with the daemon's entry point for `serve`.
 */
#include "cli/cli.h"
#include "daemon/daemon.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv, daemon_main);
}
