/*
 * cli_args - dispatch and option parsing from the command table.
 *
 * cli_main() finds the command named by the first words of the command line
 * (`job create`, `graph`), parses its options with getopt_long from the
 * command's own rows of the table (cli_commands.c) and runs it.  Every check a
 * value gets is made here, once for all commands, so every command says the
 * same thing about the same mistake, always naming the option:
 *
 *   ovsched: job list: --status: 'bogus' is not one of active, paused, ...
 *   usage: ovsched job list [options]
 *   (ovsched job list --help says what each option does)
 *
 * and exits 2.  Enumerations are matched in any case and stored in their
 * canonical spelling, aliases included (`--direction UP` is "upstream").
 * `-h`/`--help` anywhere before `--` prints the command's help and exits 0.
 *
 * getopt_long keeps its state in globals (optind, optarg); each parse starts
 * it afresh with optind = 0, and nothing else in the process uses it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

#define LONG_BASE   256 /* getopt_long values of long options: LONG_BASE + index */
#define MAX_OPTIONS 64  /* options of one command, the common ones included */

const char *cli_args_get(const struct cli_args *args, enum cli_opt id)
{
    return args->value[id];
}

bool cli_args_has(const struct cli_args *args, enum cli_opt id)
{
    return args->value[id] != NULL;
}

long long cli_args_int(const struct cli_args *args, enum cli_opt id, long long default_value)
{
    return args->value[id] ? g_ascii_strtoll(args->value[id], NULL, 10) : default_value;
}

GPtrArray *cli_args_list(struct cli_args *args, enum cli_opt id)
{
    if (!args->list[id])
        args->list[id] = g_ptr_array_new();
    return args->list[id];
}

void cli_args_release(struct cli_args *args)
{
    for (size_t i = 0; i < CLI_O_LAST; i++)
        if (args->list[i])
            g_ptr_array_free(args->list[i], TRUE);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "ovsched: %s%s%s\n", cmd ? cmd->name : "", cmd ? ": " : "", message);
    g_free(message);
    if (cmd) {
        cli_help_print_usage(cmd, stderr);
        fprintf(stderr, "(ovsched %s --help %s)\n", cmd->name,
                cli_command_is_group(cmd) ? "lists them" : "says what each option does");
    } else {
        fputs("usage: ovsched COMMAND [ARGS] (ovsched --help lists the commands)\n", stderr);
    }
    return CLI_EXIT_USAGE;
}

/* ---- the command table ------------------------------------------------------ */

const struct cli_command *cli_command_get(const char *name)
{
    for (size_t i = 0; i < cli_command_count; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

bool cli_command_is_group(const struct cli_command *cmd)
{
    return cmd->run == NULL;
}

bool cli_command_is_child(const struct cli_command *group, const struct cli_command *cmd)
{
    size_t len = strlen(group->name);
    return strncmp(cmd->name, group->name, len) == 0 && cmd->name[len] == ' ';
}

const struct cli_command *cli_command_find(int argc, char **argv, int *ret_words)
{
    if (argc < 1)
        return NULL;
    if (argc >= 2) {
        char *two = g_strdup_printf("%s %s", argv[0], argv[1]);
        const struct cli_command *cmd = cli_command_get(two);
        g_free(two);
        if (cmd) {
            *ret_words = 2;
            return cmd;
        }
    }
    *ret_words = 1;
    return cli_command_get(argv[0]);
}

/* ---- values ------------------------------------------------------------------- */

/* The canonical spelling of TEXT among VALUES (any case, aliases resolved),
 * or NULL. */
static const char *enum_match(const struct cli_value *values, const char *text)
{
    for (const struct cli_value *v = values; v->name; v++)
        if (g_ascii_strcasecmp(v->name, text) == 0)
            return v->means ? v->means : v->name;
    return NULL;
}

/* "active, paused or disabled" (canonical values only). */
static char *enum_list(const struct cli_value *values)
{
    GString *s = g_string_new(NULL);
    size_t n = 0, total = 0;
    for (const struct cli_value *v = values; v->name; v++)
        total += !v->means;
    for (const struct cli_value *v = values; v->name; v++) {
        if (v->means)
            continue;
        n++;
        g_string_append_printf(s, "%s%s", n == 1 ? "" : n == total ? " or " : ", ", v->name);
    }
    return g_string_free(s, FALSE);
}

/* Check TEXT for OPT; on success *RET is what to keep (TEXT, or the canonical
 * spelling of an enumeration).  Returns 0, or CLI_EXIT_USAGE after saying why. */
static int check_value(const struct cli_command *cmd, const struct cli_option *opt,
                       const char *text, const char **ret)
{
    *ret = text;
    switch (opt->kind) {
    case CLI_ARG_ENUM: {
        const char *canonical = enum_match(opt->values, text);
        if (canonical) {
            *ret = canonical;
            return 0;
        }
        char *list = enum_list(opt->values);
        int r = cli_usage_error(cmd, "--%s: '%s' is not %s (any case)", opt->name, text, list);
        g_free(list);
        return r;
    }
    case CLI_ARG_INT: {
        char *end = NULL;
        errno = 0;
        long long v = g_ascii_strtoll(text, &end, 10);
        if (*text && !*end && errno == 0 && v >= opt->min && v <= opt->max)
            return 0;
        if (opt->min == G_MININT64)
            return cli_usage_error(cmd, "--%s: expected a whole number, got '%s'", opt->name, text);
        if (opt->max == G_MAXINT64)
            return cli_usage_error(cmd, "--%s: expected a whole number of at least %lld, got '%s'",
                                   opt->name, opt->min, text);
        return cli_usage_error(cmd, "--%s: expected a whole number from %lld to %lld, got '%s'",
                               opt->name, opt->min, opt->max, text);
    }
    case CLI_ARG_TEXT:
    case CLI_ARG_FILE:
    case CLI_ARG_DIR:
        if (!*text)
            return cli_usage_error(cmd, "--%s: the value is empty", opt->name);
        if (opt->pattern) {
            char *anchored = g_strdup_printf("^(?:%s)$", opt->pattern);
            bool ok = g_regex_match_simple(anchored, text, 0, 0);
            g_free(anchored);
            if (!ok)
                return cli_usage_error(cmd, "--%s: expected %s, got '%s'", opt->name,
                                       opt->pattern_help, text);
        }
        return 0;
    case CLI_ARG_FLAG:
        return 0;
    }
    return 0;
}

/* ---- parsing -------------------------------------------------------------------- */

/* CMD's options followed by the common ones that apply, in *RET (at most
 * MAX_OPTIONS); returns how many. */
static size_t options_of(const struct cli_command *cmd, const struct cli_option **ret)
{
    size_t n = 0;
    for (const struct cli_option *o = cmd->options; o && o->id; o++)
        ret[n++] = o;
    for (const struct cli_option *o = cli_common_options; o->id; o++)
        if (o->id == CLI_O_HELP || (cmd->flags & CLI_CMD_CLIENT))
            ret[n++] = o;
    g_assert(n <= MAX_OPTIONS);
    return n;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* For a command whose run function parses ARGV again: put the canonical
 * spelling of an enumeration back into ARGV (the word at INDEX held TEXT).
 * The new words live as long as the process (a handful of bytes). */
static void canonicalise_raw(char **argv, int index, const char *text, const char *canonical)
{
    if (strcmp(text, canonical) == 0)
        return;
    char *word = argv[index];
    size_t prefix = strlen(word) - strlen(text);
    if (prefix && strcmp(word + prefix, text) == 0) /* --log-format=JSON */
        argv[index] = g_strdup_printf("%.*s%s", (int)prefix, word, canonical);
    else
        argv[index] = (char *)canonical;
}

static int parse_options(const struct cli_command *cmd, int argc, char **argv,
                         struct cli_args *args)
{
    const struct cli_option *opts[MAX_OPTIONS];
    size_t n = options_of(cmd, opts);
    struct option longopts[MAX_OPTIONS + 1];
    char shortopts[2 * MAX_OPTIONS + 2];
    size_t sp = 0;
    shortopts[sp++] = ':'; /* a missing value is reported as ':' rather than '?' */
    for (size_t i = 0; i < n; i++) {
        longopts[i] = (struct option){
            opts[i]->name, opts[i]->kind == CLI_ARG_FLAG ? no_argument : required_argument, NULL,
            (int)(LONG_BASE + i)};
        if (opts[i]->short_name) {
            shortopts[sp++] = opts[i]->short_name;
            if (opts[i]->kind != CLI_ARG_FLAG)
                shortopts[sp++] = ':';
        }
    }
    shortopts[sp] = '\0';
    longopts[n] = (struct option){0};
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int index = -1;
        if (c >= LONG_BASE && c < LONG_BASE + (int)n) {
            index = c - LONG_BASE;
        } else if (c == ':') {
            const struct cli_option *o = NULL;
            if (optopt >= LONG_BASE && optopt < LONG_BASE + (int)n)
                o = opts[optopt - LONG_BASE];
            for (size_t i = 0; !o && i < n; i++)
                if (opts[i]->short_name && opts[i]->short_name == optopt)
                    o = opts[i];
            return o ? cli_usage_error(cmd, "--%s needs a value (%s)", o->name, o->metavar)
                     : cli_usage_error(cmd, "an option needs a value");
        } else if (c == '?') {
            if (optopt && optopt < LONG_BASE)
                return cli_usage_error(cmd, "unknown option '-%c'", optopt);
            const char *word = argv[optind - 1];
            return cli_usage_error(cmd, "unknown option '%.*s'", (int)strcspn(word, "="), word);
        } else {
            for (size_t i = 0; i < n; i++)
                if (opts[i]->short_name == c)
                    index = (int)i;
        }
        g_assert(index >= 0);
        const struct cli_option *o = opts[index];
        const char *value = "";
        if (o->kind != CLI_ARG_FLAG) {
            int r = check_value(cmd, o, optarg, &value);
            if (r)
                return r;
            if ((cmd->flags & CLI_CMD_RAW) && value != optarg)
                canonicalise_raw(argv, optind - 1, optarg, value);
        }
        if (o->repeat)
            g_ptr_array_add(cli_args_list(args, o->id), (gpointer)value);
        args->value[o->id] = value;
    }
    return 0;
}

int cli_args_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *args)
{
    args->cmd = cmd;
    args->argc = argc;
    args->argv = argv;
    if (wants_help(argc, argv)) {
        cli_help_print(cmd, args->out);
        return CLI_PARSE_HELP;
    }
    int r = parse_options(cmd, argc, argv, args);
    if (r)
        return r;
    args->nargs = argc - optind;
    args->args = argv + optind;
    if (args->nargs < cmd->min_args)
        return cli_usage_error(cmd, "expected %s", cmd->synopsis ? cmd->synopsis : "arguments");
    if (cmd->max_args >= 0 && args->nargs > cmd->max_args)
        return cli_usage_error(cmd, "unexpected argument '%s'", args->args[cmd->max_args]);
    if (cmd->arg_values && args->nargs) {
        const char *canonical = enum_match(cmd->arg_values, args->args[0]);
        if (!canonical) {
            char *list = enum_list(cmd->arg_values);
            r = cli_usage_error(cmd, "'%s' is not %s", args->args[0], list);
            g_free(list);
            return r;
        }
        args->args[0] = (char *)canonical;
    }
    return 0;
}

/* ---- dispatch --------------------------------------------------------------------- */

/* `ovsched job` with no or an unknown subcommand, or `ovsched job --help`. */
static int run_group(const struct cli_command *group, int argc, char **argv, FILE *out)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        cli_help_print(group, out);
        return CLI_EXIT_OK;
    }
    if (argc < 2) {
        GString *names = g_string_new(NULL);
        for (size_t i = 0; i < cli_command_count; i++)
            if (cli_command_is_child(group, &cli_commands[i]))
                g_string_append_printf(names, "%s%s", names->len ? ", " : "",
                                       cli_commands[i].name + strlen(group->name) + 1);
        int r = cli_usage_error(group, "expected a command: %s", names->str);
        g_string_free(names, TRUE);
        return r;
    }
    return cli_usage_error(group, "unknown subcommand '%s'", argv[1]);
}

int cli_main(int argc, char **argv, cli_serve_fn serve)
{
    if (argc < 2) {
        cli_help_print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_help_print_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ovsched %s\n", cli_version());
        return CLI_EXIT_OK;
    }
    int words = 0;
    const struct cli_command *cmd = cli_command_find(argc - 1, argv + 1, &words);
    if (!cmd)
        return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
    if (cli_command_is_group(cmd))
        return run_group(cmd, argc - 1, argv + 1, stdout);
    struct cli_args args = {.in = stdin, .out = stdout, .serve = serve};
    int r = cli_args_parse(cmd, argc - words, argv + words, &args);
    if (r == 0)
        r = cmd->run(&args);
    cli_args_release(&args);
    return r == CLI_PARSE_HELP ? CLI_EXIT_OK : r;
}
