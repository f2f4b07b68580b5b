/*
 * test_cli_crontab - the crontab(5) reader of `ovsched import-crontab`: a table
 * of lines and the job each becomes (or the note it leaves), env lines, %
 * handling, stable and unique ids.
 */
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cli/internal.h"

struct parsed {
    json_t *jobs, *notes;
};

static struct parsed parse(const char *text, const char *zone)
{
    struct cli_crontab_options options = {.timezone = zone};
    struct parsed p;
    cli_crontab_parse(text, &options, &p.jobs, &p.notes);
    return p;
}

static void parsed_release(struct parsed *p)
{
    json_decref(p->jobs);
    json_decref(p->notes);
}

static const char *cron_of(json_t *job)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(job, "metadata"), "scheduling"), "cron"));
}

static json_t *executor(json_t *job)
{
    return json_object_get(job, "executor");
}

static void test_entries(void **state)
{
    (void)state;
    static const struct {
        const char *line, *cron, *command;
    } cases[] = {
        {"* * * * * echo hi", "* * * * *", "echo hi"},
        {"*/5 1-3 * jan,feb mon-fri  /bin/x  a   b", "*/5 1-3 * jan,feb mon-fri", "/bin/x  a   b"},
        {"\t0\t9\t*\t*\t1\t/usr/bin/report --weekly", "0\t9\t*\t*\t1", "/usr/bin/report --weekly"},
        {"@hourly  run", "@hourly", "run"},
        {"@DAILY run", "@daily", "run"},
        {"@annually run", "@annually", "run"},
        {"0 0 L * * month-end", "0 0 L * *", "month-end"},
        {"5 4 * * sun echo \"a b\"   ", "5 4 * * sun", "echo \"a b\""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct parsed p = parse(cases[i].line, NULL);
        assert_int_equal(json_array_size(p.jobs), 1);
        assert_int_equal(json_array_size(p.notes), 0);
        json_t *job = json_array_get(p.jobs, 0);
        assert_string_equal(cron_of(job), cases[i].cron);
        assert_string_equal(json_string_value(json_object_get(executor(job), "command")),
                            cases[i].command);
        assert_true(json_is_true(json_object_get(executor(job), "shell")));
        parsed_release(&p);
    }
}

static void test_skipped_and_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        bool error;
        const char *says;
    } cases[] = {
        {"@reboot /usr/bin/agent", false, "@reboot is not supported"},
        {"61 * * * * x", true, "bad schedule"},
        {"* * * * *", true, "then a command"},
        {"* * *", true, "then a command"},
        {"@fortnightly x", true, "unknown schedule"},
        {"0 0 31 2 * never", true, "never fires"}, /* our parser refuses what cron would keep */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *text = g_strdup_printf("# header\n\n%s\n", cases[i].line);
        struct parsed p = parse(text, NULL);
        if (!cases[i].says) {
            assert_int_equal(json_array_size(p.notes), 0);
        } else {
            assert_int_equal(json_array_size(p.jobs), 0);
            assert_int_equal(json_array_size(p.notes), 1);
            json_t *note = json_array_get(p.notes, 0);
            assert_int_equal(json_integer_value(json_object_get(note, "line")), 3);
            assert_int_equal(json_is_true(json_object_get(note, "error")), cases[i].error);
            assert_non_null(
                strstr(json_string_value(json_object_get(note, "message")), cases[i].says));
        }
        parsed_release(&p);
        g_free(text);
    }
}

/* A long bad schedule is quoted cut: the note still ends with the parser's reason. */
static void test_long_bad_schedule(void **state)
{
    (void)state;
    GString *line = g_string_new("@");
    for (int i = 0; i < 3000; i++)
        g_string_append(line, "\xc3\xa9");
    g_string_append(line, " x\n61");
    for (int i = 0; i < 600; i++) /* within the 1024 bytes an expression may have */
        g_string_append_c(line, '1');
    g_string_append(line, " * * * * x\n");
    struct parsed p = parse(line->str, NULL);
    assert_int_equal(json_array_size(p.notes), 2);
    const char *unknown = json_string_value(json_object_get(json_array_get(p.notes, 0), "message"));
    const char *bad = json_string_value(json_object_get(json_array_get(p.notes, 1), "message"));
    assert_true(g_str_has_prefix(unknown, "unknown schedule '@\xc3\xa9"));
    assert_true(g_str_has_suffix(unknown, "...' (expected @hourly, @daily, ...)"));
    assert_true(g_str_has_prefix(bad, "bad schedule '6111"));
    assert_non_null(strstr(bad, "...': field 1 (minute): "));
    assert_true(strlen(unknown) < 200 && strlen(bad) < 400);
    parsed_release(&p);
    g_string_free(line, true);
}

static void test_environment(void **state)
{
    (void)state;
    struct parsed p = parse("A=1\n"
                            "* * * * * first\n"
                            "B = 'two words'\n"
                            "A=\"3\"\n"
                            "CRON_TZ=Asia/Tokyo\n"
                            "SHELL=/bin/bash\n"
                            "* * * * * second\n",
                            "Europe/Paris");
    assert_int_equal(json_array_size(p.jobs), 2);
    json_t *first = json_array_get(p.jobs, 0), *second = json_array_get(p.jobs, 1);
    json_t *env1 = json_object_get(executor(first), "env");
    assert_int_equal(json_object_size(env1), 1);
    assert_string_equal(json_string_value(json_object_get(env1, "A")), "1");
    json_t *env2 = json_object_get(executor(second), "env");
    assert_string_equal(json_string_value(json_object_get(env2, "A")), "3");
    assert_string_equal(json_string_value(json_object_get(env2, "B")), "two words");
    assert_null(json_object_get(env2, "CRON_TZ")); /* a schedule setting, not env */
    json_t *s1 = json_object_get(json_object_get(first, "metadata"), "scheduling");
    json_t *s2 = json_object_get(json_object_get(second, "metadata"), "scheduling");
    assert_string_equal(json_string_value(json_object_get(s1, "timezone")), "Europe/Paris");
    assert_string_equal(json_string_value(json_object_get(s2, "timezone")), "Asia/Tokyo");
    /* SHELL: argv [shell, -c, line] */
    json_t *argv = json_object_get(executor(second), "command");
    assert_int_equal(json_array_size(argv), 3);
    assert_string_equal(json_string_value(json_array_get(argv, 0)), "/bin/bash");
    assert_string_equal(json_string_value(json_array_get(argv, 1)), "-c");
    assert_string_equal(json_string_value(json_array_get(argv, 2)), "second");
    parsed_release(&p);
}

static void test_percent(void **state)
{
    (void)state;
    static const struct {
        const char *command, *shell_line;
    } cases[] = {
        {"date +\\%F", "date +%F"},
        {"cat%line one%line two", "printf '%s' 'line one\nline two\n' | (cat)"},
        {"wc -c%", "printf '%s' '\n' | (wc -c)"},
        {"cat%it's", "printf '%s' 'it'\\''s\n' | (cat)"},
        {"echo \\%%50\\%", "printf '%s' '50%\n' | (echo %)"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *text = g_strdup_printf("* * * * * %s", cases[i].command);
        struct parsed p = parse(text, NULL);
        assert_int_equal(json_array_size(p.jobs), 1);
        assert_string_equal(
            json_string_value(json_object_get(executor(json_array_get(p.jobs, 0)), "command")),
            cases[i].shell_line);
        parsed_release(&p);
        g_free(text);
    }
}

static const char *id_at(json_t *jobs, size_t i)
{
    return json_string_value(json_object_get(json_array_get(jobs, i), "id"));
}

static void test_ids(void **state)
{
    (void)state;
    struct parsed a = parse("0 1 * * * /usr/local/bin/Backup.SH --all\n"
                            "0 2 * * * /usr/local/bin/Backup.SH --all\n"
                            "0 1 * * * /usr/local/bin/Backup.SH --all\n"
                            "@daily >/dev/null\n",
                            NULL);
    struct parsed b = parse("# moved down\n\nX=1\n"
                            "0 2 * * * /usr/local/bin/Backup.SH --all\n",
                            NULL);
    assert_int_equal(json_array_size(a.jobs), 4);
    assert_true(g_str_has_prefix(id_at(a.jobs, 0), "crontab-backup-sh-"));
    assert_int_equal(strlen(id_at(a.jobs, 0)), strlen("crontab-backup-sh-") + 8);
    assert_string_not_equal(id_at(a.jobs, 0), id_at(a.jobs, 1)); /* other schedule */
    char *twin = g_strdup_printf("%s-2", id_at(a.jobs, 0));
    assert_string_equal(id_at(a.jobs, 2), twin); /* the same entry twice */
    g_free(twin);
    assert_true(g_str_has_prefix(id_at(a.jobs, 3), "crontab-")); /* no word to take */
    /* Stable: the same entry on another line, after other lines, same id. */
    assert_string_equal(id_at(b.jobs, 0), id_at(a.jobs, 1));
    parsed_release(&a);
    parsed_release(&b);

    struct cli_crontab_options options = {.prefix = "host1"};
    json_t *jobs, *notes;
    cli_crontab_parse("* * * * * x", &options, &jobs, &notes);
    assert_true(g_str_has_prefix(id_at(jobs, 0), "host1-x-"));
    json_decref(jobs);
    json_decref(notes);
}

static void test_crlf_and_bad_utf8(void **state)
{
    (void)state;
    struct parsed p = parse("A=1\r\n* * * * * echo \xff\r\n", NULL);
    assert_int_equal(json_array_size(p.jobs), 1);
    const char *cmd =
        json_string_value(json_object_get(executor(json_array_get(p.jobs, 0)), "command"));
    assert_true(g_utf8_validate(cmd, -1, NULL));
    assert_null(strchr(cmd, '\r'));
    parsed_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_skipped_and_bad_lines),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_crlf_and_bad_utf8),
        cmocka_unit_test(test_long_bad_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
