/*
 * cli_crontab - read a crontab(5) file into ovsched job documents.
 *
 * What a user crontab holds, line by line (cronie's rules):
 *   - blank lines and lines whose first non-blank is `#`: ignored;
 *   - `NAME = value` (value optionally in matching quotes): an environment
 *     setting for the entries after it.  Three names mean more:
 *     `CRON_TZ` sets the time zone of the schedules after it (it is not put in
 *     the job's env), `SHELL` runs the commands after it with that shell
 *     (`[SHELL, "-c", line]`), `MAILTO` is reported (ovsched keeps each run's
 *     output in its record instead of mailing it);
 *   - `@reboot command`: reported and skipped (ovsched has no boot trigger);
 *   - `@yearly|@annually|@monthly|@weekly|@daily|@midnight|@hourly command`;
 *   - five time fields, then the command (the rest of the line).
 *   - In the command, an unescaped `%` ends the command: the text after it,
 *     with each further unescaped `%` turned into a newline (and a final
 *     newline added), is the command's standard input; `\%` is a literal `%`.
 *     ovsched's shell executor has no stdin field, so the job's shell line
 *     becomes `printf '%s' 'TEXT' | (COMMAND)`.
 *
 * A job's id is `<prefix>-<word>-<hash>`: the command's first word (basename,
 * lower case, letters and digits) and 8 hex digits of a SHA-1 of the schedule
 * and the command, so importing the same crontab again names the same jobs
 * even when lines move; two identical entries get `-2`, `-3`.
 *
 * Pure apart from the cron parser it validates schedules with: no I/O.
 */
#include <glib.h>
#include <string.h>

#include "base/quote.h"
#include "cli/internal.h"
#include "cron/cron.h"

#define ID_WORD_MAX 24
#define NAME_MAX_CH 60

struct parse_state {
    const struct cli_crontab_options *options;
    json_t *jobs, *notes;
    json_t *env;          /* the environment so far */
    char *zone;           /* CRON_TZ so far, or NULL */
    char *shell;          /* SHELL so far, or NULL */
    GHashTable *ids_seen; /* id -> count, for duplicates */
};

static void note(struct parse_state *st, int line, bool error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void note(struct parse_state *st, int line, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *valid = g_utf8_make_valid(message, -1);
    json_array_append_new(st->notes,
                          json_pack("{si ss sb}", "line", line, "message", valid, "error", error));
    g_free(valid);
    g_free(message);
}

/* `NAME = value` lines; returns false for anything else. */
static bool parse_env(const char *line, char **ret_name, char **ret_value)
{
    const char *p = line;
    if (!g_ascii_isalpha(*p) && *p != '_')
        return false;
    while (g_ascii_isalnum(*p) || *p == '_')
        p++;
    const char *name_end = p;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return false;
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    char *value = g_strdup(p);
    g_strchomp(value);
    size_t len = strlen(value);
    if (len >= 2 && (value[0] == '"' || value[0] == '\'') && value[len - 1] == value[0]) {
        memmove(value, value + 1, len - 2);
        value[len - 2] = '\0';
    }
    *ret_name = g_strndup(line, (gsize)(name_end - line));
    *ret_value = value;
    return true;
}

/* Split COMMAND at its first unescaped %: the command itself and its stdin
 * (NULL when there is none), both with `\%` unescaped. */
static void split_percent(const char *command, char **ret_command, char **ret_input)
{
    GString *cmd = g_string_new(NULL), *input = NULL;
    for (const char *p = command; *p; p++) {
        GString *to = input ? input : cmd;
        if (*p == '\\' && p[1] == '%') {
            g_string_append_c(to, '%');
            p++;
        } else if (*p == '%' && !input) {
            input = g_string_new(NULL);
        } else if (*p == '%') {
            g_string_append_c(input, '\n');
        } else {
            g_string_append_c(to, *p);
        }
    }
    if (input && (input->len == 0 || input->str[input->len - 1] != '\n'))
        g_string_append_c(input, '\n');
    *ret_command = g_string_free(cmd, FALSE);
    *ret_input = input ? g_string_free(input, FALSE) : NULL;
}

/* TEXT in single quotes for sh. */
static void append_quoted(GString *s, const char *text)
{
    g_string_append_c(s, '\'');
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            g_string_append(s, "'\\''");
        else
            g_string_append_c(s, *p);
    }
    g_string_append_c(s, '\'');
}

/* The shell line that runs COMMAND as cron would (with the % stdin). */
static char *shell_line(const char *command)
{
    char *cmd, *input;
    split_percent(command, &cmd, &input);
    if (!input)
        return cmd;
    GString *s = g_string_new("printf '%s' ");
    append_quoted(s, input);
    g_string_append_printf(s, " | (%s)", cmd);
    g_free(cmd);
    g_free(input);
    return g_string_free(s, FALSE);
}

/* `<prefix>-<word>-<hash>`, unique among the ids made so far. */
static char *job_id(struct parse_state *st, const char *schedule, const char *command)
{
    char *first = g_strndup(command, strcspn(command, " \t;|&<>()"));
    const char *base = strrchr(first, '/') ? strrchr(first, '/') + 1 : first;
    GString *word = g_string_new(NULL);
    for (const char *p = base; *p && word->len < ID_WORD_MAX; p++) {
        if (g_ascii_isalnum(*p))
            g_string_append_c(word, g_ascii_tolower(*p));
        else if (word->len && word->str[word->len - 1] != '-')
            g_string_append_c(word, '-');
    }
    while (word->len && word->str[word->len - 1] == '-')
        g_string_truncate(word, word->len - 1);
    char *key = g_strdup_printf("%s\n%s", schedule, command);
    char *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA1, key, -1);
    char *id = g_strdup_printf("%s-%s%s%.8s", st->options->prefix ? st->options->prefix : "crontab",
                               word->str, word->len ? "-" : "", sha);
    int seen = GPOINTER_TO_INT(g_hash_table_lookup(st->ids_seen, id)) + 1;
    g_hash_table_replace(st->ids_seen, g_strdup(id), GINT_TO_POINTER(seen));
    if (seen > 1) {
        char *numbered = g_strdup_printf("%s-%d", id, seen);
        g_free(id);
        id = numbered;
    }
    g_free(first);
    g_string_free(word, TRUE);
    g_free(key);
    g_free(sha);
    return id;
}

static char *job_name(const char *command)
{
    char *name = g_utf8_make_valid(command, -1);
    if (g_utf8_strlen(name, -1) > NAME_MAX_CH) {
        char *end = g_utf8_offset_to_pointer(name, NAME_MAX_CH - 3);
        char *cut = g_strdup_printf("%.*s...", (int)(end - name), name);
        g_free(name);
        name = cut;
    }
    return name;
}

static void add_job(struct parse_state *st, int line, const char *text, const char *schedule,
                    const char *command)
{
    char *id = job_id(st, schedule, command), *name = job_name(command);
    char *run = shell_line(command);
    json_t *ex;
    if (st->shell && strcmp(st->shell, "/bin/sh") != 0)
        ex = json_pack("{ss s[sss]}", "type", "shell", "command", st->shell, "-c", run);
    else
        ex = json_pack("{ss ss sb}", "type", "shell", "command", run, "shell", 1);
    if (json_object_size(st->env))
        json_object_set_new(ex, "env", json_deep_copy(st->env));
    const char *zone = st->zone ? st->zone : st->options->timezone;
    json_t *scheduling = json_pack("{ss}", "cron", schedule);
    if (zone)
        json_object_set_new(scheduling, "timezone", json_string(zone));
    json_t *job = json_pack("{ss ss s{ss} so s{so ss s{si ss}}}", "id", id, "name", name, "labels",
                            "source", "crontab", "executor", ex, "metadata", "scheduling",
                            scheduling, "source", "crontab", "crontab", "line", line, "text", text);
    json_array_append_new(st->jobs, job);
    g_free(id);
    g_free(name);
    g_free(run);
}

/* The schedule is checked here so a bad line is named with its number before
 * anything is sent to the server. */
static bool schedule_ok(struct parse_state *st, int line, const char *schedule)
{
    struct cron_expr *expr = NULL;
    struct cron_error err;
    if (cron_expr_parse(schedule, strlen(schedule), &expr, &err) == 0) {
        cron_expr_free(expr);
        return true;
    }
    char text[256], quoted[QUOTE_SIZE];
    cron_error_format(&err, text, sizeof(text));
    note(st, line, true, "bad schedule '%s': %s",
         quote_clip(schedule, strlen(schedule), quoted, sizeof(quoted)), text);
    return false;
}

static void parse_entry(struct parse_state *st, int line, const char *text)
{
    static const char *const macros[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                         "@daily",  "@midnight", "@hourly"};
    const char *p = text;
    char *schedule = NULL;
    if (*p == '@') {
        size_t len = strcspn(p, " \t");
        char *word = g_ascii_strdown(p, (gssize)len);
        p += len;
        if (strcmp(word, "@reboot") == 0) {
            note(st, line, false,
                 "@reboot is not supported (ovsched has no boot trigger): skipped");
            g_free(word);
            return;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(macros); i++)
            if (strcmp(word, macros[i]) == 0)
                schedule = g_strdup(word);
        if (!schedule) {
            char quoted[QUOTE_SIZE];
            note(st, line, true, "unknown schedule '%s' (expected @hourly, @daily, ...)",
                 quote_clip(word, strlen(word), quoted, sizeof(quoted)));
            g_free(word);
            return;
        }
        g_free(word);
    } else {
        for (int field = 0; field < 5; field++) {
            p += strspn(p, " \t");
            p += strcspn(p, " \t");
        }
        schedule = g_strndup(text, (gsize)(p - text));
    }
    p += strspn(p, " \t");
    char *command = g_strdup(p);
    g_strchomp(command);
    if (!*command)
        note(st, line, true, "expected five time fields (or @daily ...) and then a command");
    else if (schedule_ok(st, line, schedule))
        add_job(st, line, text, schedule, command);
    g_free(command);
    g_free(schedule);
}

static void set_env(struct parse_state *st, int line, char *name, char *value)
{
    if (strcmp(name, "CRON_TZ") == 0) {
        g_free(st->zone);
        st->zone = *value ? g_strdup(value) : NULL;
    } else if (strcmp(name, "SHELL") == 0) {
        g_free(st->shell);
        st->shell = *value ? g_strdup(value) : NULL;
    } else {
        if (strcmp(name, "MAILTO") == 0 && *value)
            note(st, line, false,
                 "MAILTO is not supported: each run's output is kept in its run record");
        json_object_set_new(st->env, name, json_string(value));
    }
}

void cli_crontab_parse(const char *text, const struct cli_crontab_options *options,
                       json_t **ret_jobs, json_t **ret_notes)
{
    struct parse_state st = {
        .options = options,
        .jobs = json_array(),
        .notes = json_array(),
        .env = json_object(),
        .ids_seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    };
    char **lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        char *line = g_utf8_make_valid(lines[i], -1);
        g_strstrip(line); /* also drops a CR of CRLF */
        char *name = NULL, *value = NULL;
        if (!*line || *line == '#')
            ;
        else if (parse_env(line, &name, &value))
            set_env(&st, i + 1, name, value);
        else
            parse_entry(&st, i + 1, line);
        g_free(name);
        g_free(value);
        g_free(line);
    }
    g_strfreev(lines);
    json_decref(st.env);
    g_free(st.zone);
    g_free(st.shell);
    g_hash_table_destroy(st.ids_seen);
    *ret_jobs = st.jobs;
    *ret_notes = st.notes;
}
