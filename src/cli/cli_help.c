/*
 * cli_help - the words of the command line, from the command table: each
 * command's --help, `ovsched --help`, `ovsched help TOPIC`, `ovsched
 * --version`, and the man page (`ovsched help --man`, installed as
 * ovsched.1).
 *
 * The help text and the man page are two renderings of the same rows, so a
 * new option is documented everywhere by writing its row once.  Why our own
 * roff writer rather than help2man: help2man formats one --help page and
 * would need hand-written include files for the subcommands' options; we
 * have the table, and the roff we need is a dozen macros (docs/cli.md).
 *
 * Text in the table is plain ASCII prose; paragraphs are separated by a blank
 * line, and a line that starts with two spaces is shown as it is (an example).
 */
#include <string.h>

#include "cli/internal.h"

#ifndef OVSCHED_VERSION
#define OVSCHED_VERSION "unknown" /* the Makefile passes the VERSION file */
#endif

#define WIDTH      79 /* columns of wrapped text */
#define OPT_COLUMN 26 /* where an option's help starts */

const char *cli_version(void)
{
    return OVSCHED_VERSION;
}

/* A topic's rows: a label (an exit code, a variable) and what it means. */
struct topic_row {
    const char *label, *meaning;
};

/* The codes of enum cli_exit (cli.h), in order. */
static const struct topic_row exit_codes[] = {
    {"0", "success"},
    {"1", "the request failed: the server refused it (printed as `ovsched: CODE: "
          "MESSAGE`), a cron expression or zone is bad, a crontab line is invalid, "
          "the job folder's last reload was refused"},
    {"2", "usage: an unknown command or option, a bad option value (the message "
          "names the option), a missing or extra argument, an unreadable input file"},
    {"3", "the daemon cannot be reached (--server, OVSCHED_SERVER)"},
    {"4", "not found: no such job, run or token"},
    {"5", "conflict: a stale --version, an id already taken, a run refused by "
          "the job's concurrency policy"},
    {"6", "unauthenticated or forbidden: no token, a wrong or revoked one, or a "
          "role too low"},
};

static const struct topic_row environment[] = {
    {"OVSCHED_SERVER", "the daemon's base URL for the client commands (--server wins; default "
                       "http://127.0.0.1:8080)"},
    {"OVSCHED_TOKEN", "the bearer token the client commands send (--token wins)"},
    {"OVSCHED_ADMIN_TOKEN", "serve: an admin token the daemon accepts (at least 32 characters: "
                            "openssl rand -hex 32); without it the first start writes one to "
                            "DATA/admin-token (mode 0600) and logs where"},
    {"OVSCHED_UI_DIR", "serve: the folder of the built web UI; by default the daemon looks in "
                       "../share/ovsched/ui beside its binary, then ui/ and ../ui/ beside it (a "
                       "build tree), then the folder it was installed with"},
};

static const char exit_codes_intro[] =
    "Every command exits 0 on success and non-zero on failure; 3 to 6 tell the common "
    "failures apart for scripts.";
static const char environment_intro[] = "Flags win over the environment.";

/* ---- wrapping ------------------------------------------------------------- */

/* Write TEXT wrapped to WIDTH, each line indented by INDENT spaces; the first
 * line continues at column AT (AT >= INDENT: the caller wrote that much). */
static void wrap(FILE *out, const char *text, int indent, int at)
{
    int col = at;
    const char *p = text;
    bool first = true;
    while (*p) {
        size_t word = strcspn(p, " \n");
        if (!first && col + 1 + (int)word > WIDTH && col > indent) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, word, out);
        col += (int)word;
        first = false;
        p += word;
        while (*p == ' ' || *p == '\n')
            p++;
    }
    fputc('\n', out);
}

/* Paragraphs of TEXT: wrapped, blank line between them; lines starting with
 * two spaces kept as they are. */
static void paragraphs(FILE *out, const char *text, int indent)
{
    char **paras = g_strsplit(text, "\n\n", -1);
    for (char **para = paras; *para; para++) {
        if (para != paras)
            fputc('\n', out);
        if (g_str_has_prefix(*para, "  ")) {
            char **lines = g_strsplit(*para, "\n", -1);
            for (char **line = lines; *line; line++)
                fprintf(out, "%*s%s\n", indent, "", *line);
            g_strfreev(lines);
        } else {
            fprintf(out, "%*s", indent, "");
            wrap(out, *para, indent, indent);
        }
    }
    g_strfreev(paras);
}

/* ---- option rows ---------------------------------------------------------------- */

/* "-n, --count N" / "--status STATUS". */
static char *option_label(const struct cli_option *o)
{
    GString *s = g_string_new(NULL);
    if (o->short_name)
        g_string_append_printf(s, "-%c, ", o->short_name);
    g_string_append_printf(s, "--%s", o->name);
    if (o->kind != CLI_ARG_FLAG)
        g_string_append_printf(s, " %s", o->metavar);
    return g_string_free(s, FALSE);
}

/* The option's help with what the table says about its values. */
static char *option_text(const struct cli_option *o)
{
    GString *s = g_string_new(o->help);
    if (o->kind == CLI_ARG_ENUM) {
        g_string_append_printf(s, " %s is ", o->metavar);
        size_t total = 0, n = 0;
        for (const struct cli_value *v = o->values; v->name; v++)
            total += !v->means;
        for (const struct cli_value *v = o->values; v->name; v++)
            if (!v->means)
                g_string_append_printf(s, "%s%s", n++ ? (n == total ? " or " : ", ") : "", v->name);
        g_string_append(s, " (any case");
        for (const struct cli_value *v = o->values; v->name; v++)
            if (v->means)
                g_string_append_printf(s, "; %s means %s", v->name, v->means);
        g_string_append(s, ").");
    }
    if (o->repeat)
        g_string_append(s, " May be given more than once.");
    return g_string_free(s, FALSE);
}

static void print_option(FILE *out, const struct cli_option *o)
{
    char *label = option_label(o), *text = option_text(o);
    int len = fprintf(out, "  %s", label);
    if (len + 2 > OPT_COLUMN) {
        fprintf(out, "\n%*s", OPT_COLUMN, "");
    } else {
        fprintf(out, "%*s", OPT_COLUMN - len, "");
    }
    wrap(out, text, OPT_COLUMN, OPT_COLUMN);
    g_free(label);
    g_free(text);
}

/* ---- --help ---------------------------------------------------------------------- */

void cli_help_print_usage(const struct cli_command *cmd, FILE *out)
{
    bool has_options = (cmd->options && cmd->options->id) || (cmd->flags & CLI_CMD_CLIENT);
    if (cli_command_is_group(cmd))
        fprintf(out, "usage: ovsched %s COMMAND [options] [ARGS]\n", cmd->name);
    else
        fprintf(out, "usage: ovsched %s%s%s%s\n", cmd->name, has_options ? " [options]" : "",
                cmd->synopsis ? " " : "", cmd->synopsis ? cmd->synopsis : "");
}

static void print_command_list(FILE *out, const struct cli_command *group)
{
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_command *c = &cli_commands[i];
        if (group ? !cli_command_is_child(group, c) : cli_command_is_group(c))
            continue;
        if (c->flags & CLI_CMD_INTERNAL)
            continue;
        const char *name = group ? c->name + strlen(group->name) + 1 : c->name;
        int len = fprintf(out, "  %s", name);
        fprintf(out, "%*s", len < 20 ? 20 - len : 1, "");
        wrap(out, c->summary, 20, 20);
    }
}

void cli_help_print(const struct cli_command *cmd, FILE *out)
{
    fprintf(out, "ovsched %s - %s\n\n", cmd->name, cmd->summary);
    cli_help_print_usage(cmd, out);
    if (cmd->details) {
        fputc('\n', out);
        paragraphs(out, cmd->details, 0);
    }
    if (cli_command_is_group(cmd)) {
        fputs("\ncommands:\n", out);
        print_command_list(out, cmd);
        fprintf(out, "\n`ovsched %s COMMAND --help` says what each one takes.\n", cmd->name);
    }
    if (cmd->options && cmd->options->id) {
        fputs("\noptions:\n", out);
        for (const struct cli_option *o = cmd->options; o->id; o++)
            print_option(out, o);
    }
    fputs((cmd->flags & CLI_CMD_CLIENT) ? "\ncommon options:\n" : "\n", out);
    for (const struct cli_option *o = cli_common_options; o->id; o++)
        if (o->id == CLI_O_HELP || (cmd->flags & CLI_CMD_CLIENT))
            print_option(out, o);
    if (cmd->examples && cmd->examples[0]) {
        fputs(cmd->examples[1] ? "\nexamples:\n" : "\nexample:\n", out);
        for (const char *const *e = cmd->examples; *e; e++)
            fprintf(out, "  %s\n", *e);
    }
}

void cli_help_print_overview(FILE *out)
{
    fprintf(out,
            "ovsched %s - a job scheduler daemon (cron with time zones, dependencies, retries,\n"
            "live events, a web UI) and the command line client of its API.\n\n"
            "usage: ovsched COMMAND [ARGS] [options]\n\ncommands:\n",
            cli_version());
    print_command_list(out, NULL);
    fputs("\n`ovsched COMMAND --help` (or `ovsched help COMMAND`) says what a command takes;\n"
          "`ovsched help exit-codes` and `ovsched help environment` say the rest.\n"
          "`ovsched --version` prints the version.\n",
          out);
}

/* A topic for `ovsched help TOPIC`: a title, a paragraph, its rows. */
static void print_topic(FILE *out, const char *title, const char *intro,
                        const struct topic_row *rows, size_t n)
{
    fprintf(out, "ovsched %s\n\n", title);
    paragraphs(out, intro, 0);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        if (strlen(rows[i].label) < 4) /* "  0   success" */
            fprintf(out, "  %-4s", rows[i].label);
        else /* a long label on a line of its own */
            fprintf(out, "  %s\n%*s", rows[i].label, 6, "");
        wrap(out, rows[i].meaning, 6, 6);
    }
}

/* ---- the man page ---------------------------------------------------------------- */

/* TEXT for roff: backslashes escaped, hyphens made minus signs when CODE
 * (options, commands), a leading '.' or '\'' neutralised. */
static void roff(FILE *out, const char *text, bool code)
{
    if (*text == '.' || *text == '\'')
        fputs("\\&", out);
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-' && code)
            fputs("\\-", out);
        else if (*p == '`')
            continue; /* `code` marks in prose: the man page shows the words */
        else if (*p == '\n' && (p[1] == '.' || p[1] == '\''))
            fputs("\n\\&", out);
        else
            fputc(*p, out);
    }
}

static void roff_paragraphs(FILE *out, const char *text)
{
    char **paras = g_strsplit(text, "\n\n", -1);
    for (char **para = paras; *para; para++) {
        if (g_str_has_prefix(*para, "  ")) {
            fputs(".PP\n.nf\n.RS\n", out);
            char **lines = g_strsplit(*para, "\n", -1);
            for (char **line = lines; *line; line++) {
                roff(out, g_strchug(*line), true);
                fputc('\n', out);
            }
            g_strfreev(lines);
            fputs(".RE\n.fi\n", out);
        } else {
            fputs(".PP\n", out);
            roff(out, *para, false);
            fputc('\n', out);
        }
    }
    g_strfreev(paras);
}

static void roff_option(FILE *out, const struct cli_option *o)
{
    fputs(".TP\n", out);
    if (o->short_name)
        fprintf(out, "\\fB\\-%c\\fR, ", o->short_name);
    fputs("\\fB", out);
    roff(out, "--", true);
    roff(out, o->name, true);
    fputs("\\fR", out);
    if (o->kind != CLI_ARG_FLAG)
        fprintf(out, " \\fI%s\\fR", o->metavar);
    fputc('\n', out);
    char *text = option_text(o);
    roff(out, text, false);
    fputc('\n', out);
    g_free(text);
}

static void roff_command(FILE *out, const struct cli_command *cmd)
{
    fputs(".SS \"", out);
    roff(out, "ovsched ", true);
    roff(out, cmd->name, true);
    if (cmd->synopsis) {
        fputc(' ', out);
        roff(out, cmd->synopsis, true);
    }
    fputs("\"\n", out);
    roff(out, cmd->summary, false);
    fputs(".\n", out);
    if (cmd->details)
        roff_paragraphs(out, cmd->details);
    for (const struct cli_option *o = cmd->options; o && o->id; o++)
        roff_option(out, o);
    if (cmd->examples && cmd->examples[0]) {
        fputs(".PP\nExample:\n.PP\n.nf\n.RS\n", out);
        for (const char *const *e = cmd->examples; *e; e++) {
            roff(out, *e, true);
            fputc('\n', out);
        }
        fputs(".RE\n.fi\n", out);
    }
}

static void roff_topic(FILE *out, const char *section, const char *intro,
                       const struct topic_row *rows, size_t n)
{
    fprintf(out, ".SH %s\n", section);
    roff(out, intro, false);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, ".TP\n.B %s\n", rows[i].label);
        roff(out, rows[i].meaning, false);
        fputc('\n', out);
    }
}

static void print_man(FILE *out)
{
    fprintf(out,
            ".\\\" ovsched.1 - written by `ovsched help --man` from the command table\n"
            ".\\\" (src/cli/cli_commands.c); do not edit.\n"
            ".TH OVSCHED 1 \"\" \"ovsched %s\" \"User Commands\"\n"
            ".SH NAME\novsched \\- job scheduler daemon and the client of its API\n"
            ".SH SYNOPSIS\n.B ovsched\n.I COMMAND\n[\\fIARGS\\fR] [\\fIoptions\\fR]\n.br\n"
            ".B ovsched help\n[\\fITOPIC\\fR]\n.br\n.B ovsched \\-\\-version\n"
            ".SH DESCRIPTION\n"
            "ovsched is a job scheduler: cron with time zones and exact daylight-saving rules, "
            "dependencies between jobs, retries with backoff, live events over WebSocket and "
            "Server-Sent Events, and a web UI.\n.B ovsched serve\nruns the daemon; the other "
            "commands are clients of its JSON API (except\n.BR \"cron next\" ,\nwhich computes "
            "locally).  Client commands print tables for people, or with\n.B \\-\\-json\nthe "
            "API's answer for scripts.\n"
            ".SH COMMANDS\n",
            cli_version());
    for (size_t i = 0; i < cli_command_count; i++)
        if (!cli_command_is_group(&cli_commands[i]))
            roff_command(out, &cli_commands[i]);
    fputs(".SH COMMON OPTIONS\nThe client commands (all but serve, cron, completion, help and "
          "version) take:\n",
          out);
    for (const struct cli_option *o = cli_common_options; o->id; o++)
        roff_option(out, o);
    roff_topic(out, "EXIT STATUS", exit_codes_intro, exit_codes, G_N_ELEMENTS(exit_codes));
    roff_topic(out, "ENVIRONMENT", environment_intro, environment, G_N_ELEMENTS(environment));
    fputs(".SH FILES\n.TP\n.I /etc/ovsched/env\nThe environment of the systemd unit "
          "(OVSCHED_ADMIN_TOKEN, OVSCHED_OPTS: more serve options).\n"
          ".TP\n.I /var/lib/ovsched\nThe data folder of the systemd unit: the SQLite store, "
          "admin\\-token, lock.\n"
          ".SH SEE ALSO\nThe documentation in /usr/share/doc/ovsched (README.md and docs/), "
          "the web UI at http://127.0.0.1:8080/.\n",
          out);
}

/* ---- commands ---------------------------------------------------------------------- */

static void print_topics(FILE *out)
{
    fputs("topics: exit-codes, environment, or a command:", out);
    for (size_t i = 0; i < cli_command_count; i++)
        fprintf(out, "%s %s", i ? "," : "", cli_commands[i].name);
    fputc('\n', out);
}

int cli_help_run(struct cli_args *a)
{
    if (cli_args_has(a, CLI_O_MAN)) {
        if (a->nargs)
            return cli_usage_error(a->cmd, "--man takes no topic");
        print_man(a->out);
        return CLI_EXIT_OK;
    }
    if (!a->nargs) {
        cli_help_print_overview(a->out);
        return CLI_EXIT_OK;
    }
    char *topic = g_strjoinv(" ", a->args);
    const struct cli_command *cmd = cli_command_get(topic);
    int r = CLI_EXIT_OK;
    if (cmd)
        cli_help_print(cmd, a->out);
    else if (strcmp(topic, "exit-codes") == 0)
        print_topic(a->out, "exit codes", exit_codes_intro, exit_codes, G_N_ELEMENTS(exit_codes));
    else if (strcmp(topic, "environment") == 0)
        print_topic(a->out, "environment", environment_intro, environment,
                    G_N_ELEMENTS(environment));
    else {
        r = cli_usage_error(a->cmd, "no help on '%s'", topic);
        print_topics(stderr);
    }
    g_free(topic);
    return r;
}

int cli_version_run(struct cli_args *a)
{
    fprintf(a->out, "ovsched %s\n", cli_version());
    return CLI_EXIT_OK;
}
