/*
 * cli_completion - `ovsched completion bash|zsh`: shell completion scripts
 * written from the command table, so they offer exactly the commands,
 * options and enumeration values the parser accepts.
 *
 * Both scripts share four lookup functions, written in the common subset of
 * bash and zsh (functions, `case`, `echo`):
 *   _ovsched_children CMD    the subcommands after CMD ("" is the top)
 *   _ovsched_options CMD     CMD's options
 *   _ovsched_values CMD OPT  what OPT takes: words, or @file, @dir, @text
 *                            (anything: nothing to offer); empty for a flag
 *   _ovsched_args CMD        CMD's positional arguments: words or @file
 * and each shell has a small driver that walks the words typed so far.
 */
#include <errno.h>
#include <string.h>

#include "cli/internal.h"

/* Every value OPT takes, space separated, or its @kind. */
static void write_values(FILE *out, const struct cli_option *o)
{
    if (o->kind == CLI_ARG_ENUM) {
        for (const struct cli_value *v = o->values; v->name; v++)
            fprintf(out, "%s%s", v == o->values ? "" : " ", v->name);
    } else if (o->value_at) {
        const char *v;
        for (int i = 0; (v = o->value_at(i)); i++)
            fprintf(out, "%s%s", i ? " " : "", v);
    } else {
        fputs(o->kind == CLI_ARG_FILE ? "@file" : o->kind == CLI_ARG_DIR ? "@dir" : "@text", out);
    }
}

static bool applies(const struct cli_command *cmd, const struct cli_option *o)
{
    return o->id == CLI_O_HELP || (cmd->flags & CLI_CMD_CLIENT);
}

/* Call FN on CMD's options and on the common ones that apply to it. */
static void
foreach_option(const struct cli_command *cmd,
               void (*fn)(FILE *, const struct cli_command *, const struct cli_option *), FILE *out)
{
    for (const struct cli_option *o = cmd->options; o && o->id; o++)
        fn(out, cmd, o);
    for (const struct cli_option *o = cli_common_options; o->id; o++)
        if (applies(cmd, o))
            fn(out, cmd, o);
}

static void write_option_names(FILE *out, const struct cli_command *cmd, const struct cli_option *o)
{
    (void)cmd;
    fprintf(out, " --%s", o->name);
    if (o->short_name)
        fprintf(out, " -%c", o->short_name);
}

static void write_option_values(FILE *out, const struct cli_command *cmd,
                                const struct cli_option *o)
{
    if (o->kind == CLI_ARG_FLAG)
        return;
    fprintf(out, "    \"%s|--%s\"", cmd->name, o->name);
    if (o->short_name)
        fprintf(out, "|\"%s|-%c\"", cmd->name, o->short_name);
    fputs(") echo \"", out);
    write_values(out, o);
    fputs("\" ;;\n", out);
}

/* The first word of each top-level command ("job" once for all of job's). */
static void write_top_words(FILE *out)
{
    for (size_t i = 0; i < cli_command_count; i++)
        if (!strchr(cli_commands[i].name, ' '))
            fprintf(out, " %s", cli_commands[i].name);
}

static void write_lookups(FILE *out)
{
    fputs("_ovsched_children() {\n    case \"$1\" in\n    \"\") echo \"", out);
    write_top_words(out);
    fputs("\" ;;\n", out);
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_command *group = &cli_commands[i];
        if (!cli_command_is_group(group))
            continue;
        fprintf(out, "    \"%s\") echo \"", group->name);
        for (size_t k = 0; k < cli_command_count; k++)
            if (cli_command_is_child(group, &cli_commands[k]))
                fprintf(out, " %s", cli_commands[k].name + strlen(group->name) + 1);
        fputs("\" ;;\n", out);
    }
    fputs("    esac\n}\n\n_ovsched_options() {\n    case \"$1\" in\n    \"\") echo \"--help "
          "--version\" ;;\n",
          out);
    for (size_t i = 0; i < cli_command_count; i++) {
        fprintf(out, "    \"%s\") echo \"", cli_commands[i].name);
        foreach_option(&cli_commands[i], write_option_names, out);
        fputs("\" ;;\n", out);
    }
    fputs("    esac\n}\n\n_ovsched_values() {\n    case \"$1|$2\" in\n", out);
    for (size_t i = 0; i < cli_command_count; i++)
        foreach_option(&cli_commands[i], write_option_values, out);
    fputs("    esac\n}\n\n_ovsched_args() {\n    case \"$1\" in\n", out);
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct cli_command *cmd = &cli_commands[i];
        if (cmd->flags & CLI_CMD_FILE_ARG) {
            fprintf(out, "    \"%s\") echo \"@file\" ;;\n", cmd->name);
        } else if (cmd->arg_values) {
            fprintf(out, "    \"%s\") echo \"", cmd->name);
            for (const struct cli_value *v = cmd->arg_values; v->name; v++)
                fprintf(out, "%s%s", v == cmd->arg_values ? "" : " ", v->name);
            fputs("\" ;;\n", out);
        }
    }
    fputs("    help) echo \"exit-codes environment", out);
    write_top_words(out);
    fputs("\" ;;\n    esac\n}\n\n", out);
}

/* The command path typed so far: the words after the program that name
 * (sub)commands.  FIRST is the index of the first such word. */
static void write_walk(FILE *out, const char *words, int first, const char *current)
{
    fprintf(out,
            "    local cmd=\"\" kids w i\n"
            "    for ((i = %d; i < %s; i++)); do\n"
            "        w=${%s[i]}\n"
            "        kids=\" $(_ovsched_children \"$cmd\") \"\n"
            "        [[ $kids == *\" $w \"* ]] || break\n"
            "        cmd=${cmd:+$cmd }$w\n"
            "    done\n",
            first, current, words);
}

static const char bash_driver_tail[] =
    "    local values args\n"
    "    if [[ $prev == -* ]]; then\n"
    "        values=$(_ovsched_values \"$cmd\" \"$prev\")\n"
    "        case $values in\n"
    "        \"\") ;;\n"
    "        @file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"));"
    " return ;;\n"
    "        @dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- \"$cur\"));"
    " return ;;\n"
    "        @text) COMPREPLY=(); return ;;\n"
    "        *) COMPREPLY=($(compgen -W \"$values\" -- \"$cur\")); return ;;\n"
    "        esac\n"
    "    fi\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$(_ovsched_options \"$cmd\")\" -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    kids=$(_ovsched_children \"$cmd\")\n"
    "    if [[ -n $kids ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$kids\" -- \"$cur\"))\n"
    "        return\n"
    "    fi\n"
    "    args=$(_ovsched_args \"$cmd\")\n"
    "    case $args in\n"
    "    @file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
    "    \"\") COMPREPLY=() ;;\n"
    "    *) COMPREPLY=($(compgen -W \"$args\" -- \"$cur\")) ;;\n"
    "    esac\n"
    "}\n\n"
    "complete -F _ovsched ovsched\n";

static const char zsh_driver_tail[] = "    local values args\n"
                                      "    if [[ $prev == -* ]]; then\n"
                                      "        values=$(_ovsched_values \"$cmd\" \"$prev\")\n"
                                      "        case $values in\n"
                                      "        \"\") ;;\n"
                                      "        @file) _files; return ;;\n"
                                      "        @dir) _files -/; return ;;\n"
                                      "        @text) return 1 ;;\n"
                                      "        *) compadd -- ${=values}; return ;;\n"
                                      "        esac\n"
                                      "    fi\n"
                                      "    if [[ $cur == -* ]]; then\n"
                                      "        compadd -- ${=$(_ovsched_options \"$cmd\")}\n"
                                      "        return\n"
                                      "    fi\n"
                                      "    kids=$(_ovsched_children \"$cmd\")\n"
                                      "    if [[ -n $kids ]]; then\n"
                                      "        compadd -- ${=kids}\n"
                                      "        return\n"
                                      "    fi\n"
                                      "    args=$(_ovsched_args \"$cmd\")\n"
                                      "    case $args in\n"
                                      "    @file) _files ;;\n"
                                      "    \"\") return 1 ;;\n"
                                      "    *) compadd -- ${=args} ;;\n"
                                      "    esac\n"
                                      "}\n\n"
                                      /* Autoloaded from fpath (the file is _ovsched) or sourced. */
                                      "if [ \"$funcstack[1]\" = \"_ovsched\" ]; then\n"
                                      "    _ovsched \"$@\"\n"
                                      "else\n"
                                      "    compdef _ovsched ovsched\n"
                                      "fi\n";

int cli_completion_write(const char *shell, FILE *out)
{
    bool zsh = strcmp(shell, "zsh") == 0;
    if (!zsh && strcmp(shell, "bash") != 0)
        return -EINVAL;
    fprintf(out, "%s# %s completion for ovsched %s, written by `ovsched completion %s`.\n\n",
            zsh ? "#compdef ovsched\n" : "", shell, cli_version(), shell);
    write_lookups(out);
    if (zsh) {
        fputs("_ovsched() {\n    local cur=${words[CURRENT]} prev=${words[CURRENT-1]}\n", out);
        write_walk(out, "words", 2, "CURRENT");
        fputs(zsh_driver_tail, out);
    } else {
        fputs("_ovsched() {\n"
              "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
              "    # --opt=value: bash splits at '='\n"
              "    if [[ $cur == = ]]; then cur=\"\"; prev=${COMP_WORDS[COMP_CWORD-1]};\n"
              "    elif [[ $prev == = ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n",
              out);
        write_walk(out, "COMP_WORDS", 1, "COMP_CWORD");
        fputs(bash_driver_tail, out);
    }
    return 0;
}

int cli_completion_run(struct cli_args *a)
{
    /* The table checked the shell's name. */
    return cli_completion_write(a->args[0], a->out) == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}
