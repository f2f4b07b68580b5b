/*
 * test_pattern - pattern documents, `{{name}}` rendering, overrides and
 * trigger_on matching: tables of cases, each error checked for the field it
 * names, and a round trip (render, diff, overlay) that must give back the job.
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "patterns/pattern.h"

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!json)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    return json;
}

static json_t *parse_ok(const char *text)
{
    json_t *doc = load(text), *pattern = NULL;
    struct pattern_error err;
    int r = pattern_parse(doc, &pattern, &err);
    if (r != 0)
        fail_msg("%s: %s", text, err.message);
    json_decref(doc);
    return pattern;
}

static void test_parse_defaults(void **state)
{
    (void)state;
    json_t *p = parse_ok("{\"pattern_id\": \"etl\", \"version\": 7, \"template\": {}}");
    assert_string_equal(json_string_value(json_object_get(p, "pattern_type")), "scheduler.job");
    assert_string_equal(json_string_value(json_object_get(p, "name")), "etl");
    assert_string_equal(json_string_value(json_object_get(p, "version")), "7");
    assert_true(json_is_object(json_object_get(p, "parameters")));
    json_decref(p);
    p = parse_ok("{\"pattern_id\": \"flow:a.b-c_d\", \"steps\": [{\"name\": \"x\"}]}");
    json_decref(p);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        const char *field; /* the message starts with it */
        const char *detail;
    } cases[] = {
        {"[]", "pattern:", "object"},
        {"{\"template\": {}}", "pattern.pattern_id:", "required"},
        {"{\"pattern_id\": \"\", \"template\": {}}", "pattern.pattern_id:", "required"},
        {"{\"pattern_id\": \"a b\", \"template\": {}}", "pattern.pattern_id:", "' '"},
        /* A multi-byte character is quoted whole (found by fuzz_pattern). */
        {"{\"pattern_id\": \"g::\xc6\xbf:\", \"template\": {}}",
         "pattern.pattern_id:", "'\xc6\xbf' is not allowed"},
        {"{\"pattern_id\": \"a\"}", "pattern.template:", "required"},
        {"{\"pattern_id\": \"a\", \"template\": []}", "pattern.template:", "object"},
        {"{\"pattern_id\": \"a\", \"steps\": {}}", "pattern.steps:", "array"},
        {"{\"pattern_id\": \"a\", \"version\": 1.5, \"template\": {}}", "pattern.version:", ""},
        {"{\"pattern_id\": \"a\", \"parameters\": [], \"template\": {}}",
         "pattern.parameters:", ""},
        {"{\"pattern_id\": \"a\", \"parameters\": {\"1x\": {}}, \"template\": {}}",
         "pattern.parameters.1x:", "name"},
        {"{\"pattern_id\": \"a\", \"parameters\": {\"x\": 3}, \"template\": {}}",
         "pattern.parameters.x:", "object"},
        {"{\"pattern_id\": \"a\", \"parameters\": {\"x\": {\"required\": 1}}, \"template\": {}}",
         "pattern.parameters.x.required:", ""},
        {"{\"pattern_id\": \"a\", \"parameters\": {\"x\": {\"default\": [1]}}, \"template\": {}}",
         "pattern.parameters.x.default:", ""},
        {"{\"pattern_id\": \"a\", \"template\": {\"name\": \"{{y}}\"}}",
         "pattern.template.name:", "{{y}} is not a declared parameter"},
        {"{\"pattern_id\": \"a\", \"parameters\": {\"x\": {}}, \"template\": {\"executor\": "
         "{\"command\": [\"a\", \"{{x}}-{{ z }}\"]}}}",
         "pattern.template.executor.command[1]:", "{{z}}"},
        {"{\"pattern_id\": \"a\", \"template\": {\"name\": \"{{a-b}}\"}}",
         "pattern.template.name:", "not a parameter name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = load(cases[i].doc), *out = NULL;
        struct pattern_error err = {{0}};
        assert_int_equal(pattern_parse(doc, &out, &err), -EINVAL);
        assert_null(out);
        if (strncmp(err.message, cases[i].field, strlen(cases[i].field)) != 0 ||
            !strstr(err.message, cases[i].detail) || !g_utf8_validate(err.message, -1, NULL))
            fail_msg("case %zu: got \"%s\", want \"%s ...%s...\"", i, err.message, cases[i].field,
                     cases[i].detail);
        json_decref(doc);
    }
}

/* User keys make up the field's path, and names are quoted: however long or
 * multi-byte they are, the message keeps a field, a ':' and its reason. */
static void test_errors_quote_long_text(void **state)
{
    (void)state;
    GString *key = g_string_new(NULL);
    for (int i = 0; i < 300; i++)
        g_string_append(key, "\xc3\xa9");
    json_t *deep = json_string("{{undeclared}}");
    for (int i = 0; i < 6; i++) /* template.ééé….ééé….…: a path of 3600 bytes */
        deep = json_pack("{so}", key->str, deep);
    json_t *docs[] = {
        json_pack("{ss so}", "pattern_id", "a", "template", deep),
        json_pack("{ss s{ss}}", "pattern_id", "a", "template", "name",
                  "{{ééééééééééééééééééééééé"
                  "ééééééééééééééééééééééééééééé"
                  "ééééééééééééééééééé}}"),
        json_pack("{ss s{s{}} s{}}", "pattern_id", "a", "parameters", key->str, "template"),
    };
    static const char *const reasons[] = {"{{undeclared}} is not a declared parameter",
                                          "...}} is not a parameter name (letters, digits, _)",
                                          "...: not a parameter name (letters, digits, _)"};
    for (size_t i = 0; i < G_N_ELEMENTS(docs); i++) {
        json_t *out = NULL;
        struct pattern_error err = {{0}};
        assert_int_equal(pattern_parse(docs[i], &out, &err), -EINVAL);
        if (!g_str_has_prefix(err.message, "pattern.") || !strstr(err.message, ": ") ||
            !g_str_has_suffix(err.message, reasons[i]) || !g_utf8_validate(err.message, -1, NULL))
            fail_msg("case %zu: got \"%s\", want \"pattern.... %s\"", i, err.message, reasons[i]);
        json_decref(docs[i]);
    }
    /* Rendering: a given parameter the pattern does not declare. */
    json_t *pattern = NULL, *doc = load("{\"pattern_id\": \"p\", \"template\": {}}");
    struct pattern_error err = {{0}};
    assert_int_equal(pattern_parse(doc, &pattern, &err), 0);
    json_t *given = json_pack("{si}", key->str, 1), *job = NULL;
    assert_int_equal(pattern_render(pattern, given, &job, &err), -EINVAL);
    assert_true(g_str_has_prefix(err.message, "parameters.\xc3\xa9"));
    assert_true(g_str_has_suffix(err.message, "...: pattern 'p' has no such parameter"));
    assert_true(g_utf8_validate(err.message, -1, NULL));
    json_decref(given);
    json_decref(pattern);
    json_decref(doc);
    g_string_free(key, true);
}

static const char *GREET = "{\"pattern_id\": \"greet\", \"parameters\": {"
                           "  \"who\": {\"required\": true},"
                           "  \"greeting\": {\"default\": \"hello\"},"
                           "  \"n\": {\"default\": 3},"
                           "  \"note\": {}},"
                           " \"template\": {"
                           "  \"name\": \"{{greeting}} {{ who }}{{note}}\","
                           "  \"labels\": {\"who\": \"{{who}}\"},"
                           "  \"retries\": \"{{n}}\","
                           "  \"flag\": true,"
                           "  \"executor\": {\"command\": [\"echo\", \"{{n}}x{{n}}\", \"{{\"]}}}";

static json_t *render(json_t *pattern, const char *params, int expect, const char *field)
{
    json_t *given = params ? load(params) : NULL, *out = NULL;
    struct pattern_error err = {{0}};
    int r = pattern_render(pattern, given, &out, &err);
    json_decref(given);
    assert_int_equal(r, expect);
    if (field && !strstr(err.message, field))
        fail_msg("want an error naming %s, got \"%s\"", field, err.message);
    return out;
}

static void test_render(void **state)
{
    (void)state;
    json_t *p = parse_ok(GREET);
    json_t *job = render(p, "{\"who\": \"world\"}", 0, NULL);
    json_t *want = load("{\"name\": \"hello world\", \"labels\": {\"who\": \"world\"},"
                        " \"retries\": 3, \"flag\": true,"
                        " \"executor\": {\"command\": [\"echo\", \"3x3\", \"{{\"]}}");
    if (!json_equal(job, want))
        fail_msg("rendered %s", json_dumps(job, JSON_COMPACT));
    json_decref(job);
    json_decref(want);
    /* Typed values: a whole placeholder keeps the type, a part becomes text. */
    job = render(p, "{\"who\": 42, \"n\": false, \"greeting\": \"hi\"}", 0, NULL);
    assert_true(json_is_false(json_object_get(job, "retries")));
    assert_string_equal(json_string_value(json_object_get(job, "name")), "hi 42");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(job, "labels"), "who")),
                     42);
    json_decref(job);
    assert_null(render(p, NULL, -EINVAL, "parameters.who: required"));
    assert_null(render(p, "{\"greeting\": \"x\"}", -EINVAL, "parameters.who"));
    assert_null(render(p, "{\"who\": \"a\", \"zzz\": 1}", -EINVAL, "parameters.zzz"));
    assert_null(render(p, "{\"who\": [1]}", -EINVAL, "parameters.who: must be"));
    assert_null(render(p, "[]", -EINVAL, "parameters:"));
    json_decref(p);
    p = parse_ok("{\"pattern_id\": \"steps-only\", \"steps\": []}");
    assert_null(render(p, NULL, -EINVAL, "no template"));
    json_decref(p);
}

/* diff then overlay gives back the job: overrides are exactly what differs. */
static void test_diff_overlay_round_trip(void **state)
{
    (void)state;
    static const char *const jobs[] = {
        "{}",
        "{\"name\": \"mine\"}",
        "{\"labels\": {\"who\": \"me\", \"extra\": 1}, \"x\": [1, 2]}",
        "{\"executor\": {\"command\": [\"other\"]}, \"name\": \"hello world\"}",
    };
    json_t *p = parse_ok(GREET);
    for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
        json_t *base = render(p, "{\"who\": \"world\"}", 0, NULL);
        json_t *job = load(jobs[i]);
        json_t *own = pattern_diff(job, base);
        json_t *merged = json_deep_copy(base);
        pattern_overlay(merged, own);
        json_t *expect = json_deep_copy(base);
        pattern_overlay(expect, job);
        if (!json_equal(merged, expect))
            fail_msg("case %zu: %s", i, json_dumps(merged, JSON_COMPACT));
        /* A field equal to the template's is not an override. */
        assert_null(json_object_get(own, "flag"));
        json_decref(base);
        json_decref(job);
        json_decref(own);
        json_decref(merged);
        json_decref(expect);
    }
    json_t *base = render(p, "{\"who\": \"world\"}", 0, NULL);
    json_t *job = load("{\"name\": \"hello world\", \"labels\": {\"who\": \"me\"}}");
    json_t *own = pattern_diff(job, base);
    json_t *want = load("{\"labels\": {\"who\": \"me\"}}");
    assert_true(json_equal(own, want));
    json_decref(base);
    json_decref(job);
    json_decref(own);
    json_decref(want);
    json_decref(p);
}

static void test_trigger_on(void **state)
{
    (void)state;
    json_t *t = load("[\"a.b\", {\"type\": \"campaign.launched\","
                     " \"filter\": {\"region\": \"eu\", \"campaign.tier\": 2}}]");
    struct pattern_error err;
    assert_int_equal(pattern_trigger_on_check(t, &err), 0);
    static const struct {
        const char *type;
        const char *payload;
        bool match;
    } cases[] = {
        {"a.b", NULL, true},
        {"a.bc", NULL, false},
        {"campaign.launched", "{\"region\": \"eu\", \"campaign\": {\"tier\": 2}}", true},
        {"campaign.launched", "{\"region\": \"eu\", \"campaign.tier\": 2}", true},
        {"campaign.launched", "{\"region\": \"eu\", \"campaign\": {\"tier\": 3}}", false},
        {"campaign.launched", "{\"region\": \"us\", \"campaign\": {\"tier\": 2}}", false},
        {"campaign.launched", "{\"region\": \"eu\"}", false},
        {"campaign.launched", NULL, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *payload = cases[i].payload ? load(cases[i].payload) : NULL;
        if (pattern_trigger_matches(t, cases[i].type, payload) != cases[i].match)
            fail_msg("case %zu", i);
        json_decref(payload);
    }
    json_decref(t);
    static const struct {
        const char *trigger_on;
        const char *field;
    } bad[] = {
        {"5", "metadata.scheduling.trigger_on:"},
        {"[\"\"]", "trigger_on[0]:"},
        {"[\"x\", 3]", "trigger_on[1]:"},
        {"[{\"filter\": {}}]", "trigger_on[0].type:"},
        {"[{\"type\": \"x\", \"filter\": [1]}]", "trigger_on[0].filter:"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *v = load(bad[i].trigger_on);
        assert_int_equal(pattern_trigger_on_check(v, &err), -EINVAL);
        if (!strstr(err.message, bad[i].field))
            fail_msg("bad case %zu: %s", i, err.message);
        json_decref(v);
    }
    assert_int_equal(pattern_trigger_on_check(NULL, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_defaults), cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_render),         cmocka_unit_test(test_diff_overlay_round_trip),
        cmocka_unit_test(test_trigger_on),     cmocka_unit_test(test_errors_quote_long_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
