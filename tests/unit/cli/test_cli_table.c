/*
 * test_cli_table - the tables people read: alignment counted in characters,
 * long cells cut with "...", empty cells as "-", one row per line; and the
 * cell text of JSON values.
 */
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

/* The table printed into a string (g_free it). */
static char *render(struct cli_table *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_table_print(t, f);
    fclose(f);
    char *copy = g_strdup(buf);
    free(buf);
    return copy;
}

static void test_alignment(void **state)
{
    (void)state;
    static const char *const headers[] = {"ID", "NAME", "STATUS"};
    struct cli_table *t = cli_table_new(3, headers, NULL);
    cli_table_add(t, (const char *[]){"a", "Zürich report", "ACTIVE"});
    cli_table_add(t, (const char *[]){"longer-id", NULL, ""});
    char *text = render(t);
    assert_string_equal(text, "ID         NAME           STATUS\n"
                              "a          Zürich report  ACTIVE\n"
                              "longer-id  -              -\n");
    g_free(text);
    cli_table_free(t);
}

static void test_cut_and_one_line(void **state)
{
    (void)state;
    static const char *const headers[] = {"CMD", "X"};
    static const int widths[] = {10, 0};
    struct cli_table *t = cli_table_new(2, headers, widths);
    cli_table_add(t, (const char *[]){"echo 0123456789", "y"});
    cli_table_add(t, (const char *[]){"ééééééééééééé", "z"});
    cli_table_add(t, (const char *[]){"a\nb\tc", "w"});
    char *text = render(t);
    assert_string_equal(text, "CMD         X\n"
                              "echo 01...  y\n"
                              "ééééééé...  z\n"
                              "a b c       w\n");
    g_free(text);
    cli_table_free(t);
}

static void test_empty_table(void **state)
{
    (void)state;
    static const char *const headers[] = {"ID", "NAME"};
    struct cli_table *t = cli_table_new(2, headers, NULL);
    char *text = render(t);
    assert_string_equal(text, "ID  NAME\n");
    g_free(text);
    cli_table_free(t);
    cli_table_free(NULL);
}

static void test_cell_text(void **state)
{
    (void)state;
    static const struct {
        const char *json, *text;
    } cases[] = {
        {"\"s\"", "s"},
        {"42", "42"},
        {"-7", "-7"},
        {"true", "true"},
        {"[\"a\",\"b\"]", "a b"},
        {"[1,null]", "1 null"},
        {"{\"k\":1}", "{\"k\":1}"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        char *text = cli_cell_text(v);
        assert_string_equal(text, cases[i].text);
        g_free(text);
        json_decref(v);
    }
    assert_null(cli_cell_text(NULL));
    json_t *null = json_null();
    assert_null(cli_cell_text(null));
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(cli_exit_for_error(404, "not_found"), CLI_EXIT_NOT_FOUND);
    assert_int_equal(cli_exit_for_error(404, "unimplemented"), CLI_EXIT_FAILED);
    assert_int_equal(cli_exit_for_error(409, "aborted"), CLI_EXIT_CONFLICT);
    assert_int_equal(cli_exit_for_error(409, "already_exists"), CLI_EXIT_CONFLICT);
    assert_int_equal(cli_exit_for_error(409, "failed_precondition"), CLI_EXIT_CONFLICT);
    assert_int_equal(cli_exit_for_error(401, "unauthenticated"), CLI_EXIT_DENIED);
    assert_int_equal(cli_exit_for_error(403, "permission_denied"), CLI_EXIT_DENIED);
    assert_int_equal(cli_exit_for_error(400, "invalid_argument"), CLI_EXIT_FAILED);
    assert_int_equal(cli_exit_for_error(500, NULL), CLI_EXIT_FAILED);
    assert_int_equal(cli_exit_for_error(404, NULL), CLI_EXIT_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),   cmocka_unit_test(test_cut_and_one_line),
        cmocka_unit_test(test_empty_table), cmocka_unit_test(test_cell_text),
        cmocka_unit_test(test_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
