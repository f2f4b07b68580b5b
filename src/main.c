/*
 * ovsched - the OVASABI Scheduler Service: one binary, many subcommands.
 *
 * main() only dispatches; each subcommand lives in its module and returns the
 * process exit status.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "exec/exec.h"

#define OVSCHED_VERSION "0.1.0"

static int version_main(int argc, char **argv, FILE *in, FILE *out)
{
    (void)argc, (void)argv, (void)in;
    fprintf(out, "ovsched %s\n", OVSCHED_VERSION);
    return CLI_EXIT_OK;
}

static int exec_launch_command(int argc, char **argv, FILE *in, FILE *out)
{
    (void)in, (void)out;
    return exec_launch_main(argc, argv);
}

static const struct command {
    const char *name;
    int (*main)(int argc, char **argv, FILE *in, FILE *out);
    const char *summary;
} commands[] = {
    {"serve", daemon_main, "run the scheduler daemon (--listen HOST:PORT --data DIR)"},
    {"job", cli_job_main, "create|get|list|update|delete|run|pause|resume|status jobs"},
    {"runs", cli_runs_main, "runs JOB: a job's run history"},
    {"events", cli_events_main, "events [--follow]: the live event stream"},
    {"graph", cli_graph_main, "graph [JOB] [--dot]: the dependency graph"},
    {"token", cli_token_main, "token create|list|revoke: API tokens"},
    {"jobs-dir", cli_jobsdir_main, "jobs-dir status: the watched job folder's last reload"},
    {"import-crontab", cli_import_crontab_main, "import-crontab FILE: a crontab's entries as jobs"},
    {"cron", cli_cron_main, "cron next EXPR: preview when a schedule fires"},
    {"version", version_main, "print the version"},
    {"exec-launch", exec_launch_command, "(started by the daemon) run a job as its run_as user"},
};

static void usage(FILE *to)
{
    fputs("usage: ovsched COMMAND [ARGS]\n\ncommands:\n", to);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(to, "  %-15s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1, stdin, stdout); /* argv[0]: its name */
    fprintf(stderr, "ovsched: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
