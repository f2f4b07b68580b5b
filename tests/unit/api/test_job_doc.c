/*
 * test_job_doc - job documents as users write them: the seed's shapes verbatim,
 * every check by the message a user reads, unknown keys kept.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "api/job_doc.h"
#include "test_util.h"

static struct tz_cache *zones;

static int setup(void **state)
{
    (void)state;
    zones = tz_cache_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tz_cache_free(zones);
    return 0;
}

static int parse_text(const char *text, struct job_doc **doc, struct job_doc_error *err)
{
    json_error_t jerr;
    json_t *json = json_loads(text, 0, &jerr);
    if (!json)
        fail_msg("test JSON does not parse: %s", jerr.text);
    int r = job_doc_parse(json, zones, 1796047200000, doc, err);
    json_decref(json);
    return r;
}

/* The seed's usage example A, verbatim (inside its "job" wrapper). */
static void test_seed_example_a(void **state)
{
    (void)state;
    const char *text = "{\"name\": \"Weekly Report\", \"metadata\": {\"scheduling\": {"
                       "\"cron\": \"0 9 * * 1\", \"timezone\": \"America/New_York\", "
                       "\"dependencies\": [\"job_id_data_refresh\"], "
                       "\"retry_policy\": {\"max_attempts\": 5, \"backoff\": \"exponential\"}}}}";
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    assert_int_equal(parse_text(text, &doc, &err), 0);
    assert_int_equal(strlen(doc->id), 36); /* a generated UUIDv7 */
    assert_int_equal(doc->id[14], '7');
    assert_string_equal(doc->status, "ACTIVE");
    assert_int_equal(doc->campaign_id, 0);
    assert_non_null(doc->spec.expr);
    assert_string_equal(tz_zone_name(doc->spec.zone), "America/New_York");
    assert_int_equal(doc->spec.retry.max_attempts, 5);
    assert_int_equal(doc->spec.retry.kind, SCHED_BACKOFF_EXPONENTIAL);
    assert_false(doc->spec.paused);
    struct sched_job_spec spec;
    job_doc_take_spec(doc, &spec);
    assert_non_null(spec.expr);
    assert_null(doc->spec.expr);
    cron_expr_free(spec.expr);
    job_doc_free(doc);
}

/* The SPEC's full example, with unknown keys that must come back unchanged. */
static void test_spec_example_keeps_unknown_keys(void **state)
{
    (void)state;
    const char *text =
        "{\"id\": \"weekly-report\", \"name\": \"Weekly Report\", \"campaign_id\": 7, "
        "\"owner\": \"reports-service\", \"labels\": {\"team\": \"data\"}, \"status\": \"PAUSED\", "
        "\"executor\": {\"type\": \"shell\", \"command\": [\"/usr/bin/report\", \"--weekly\"], "
        "\"timeout\": \"10m\"}, \"payload\": \"opaque\", \"metadata\": {\"scheduling\": {"
        "\"cron\": \"0 9 * * 1\", \"timezone\": \"America/New_York\", \"x_custom\": [1, 2]}, "
        "\"service_specific\": {\"scheduler\": {\"pattern_id\": \"pattern_xyz\"}}, "
        "\"team_notes\": {\"a\": 1}}}";
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    assert_int_equal(parse_text(text, &doc, &err), 0);
    assert_string_equal(doc->id, "weekly-report");
    assert_int_equal(doc->campaign_id, 7);
    assert_true(doc->spec.paused);
    assert_int_equal(doc->spec.timeout_ms, 600000);
    assert_string_equal(doc->executor_type, "shell");
    char *out = json_dumps(doc->json, JSON_SORT_KEYS | JSON_COMPACT);
    assert_non_null(strstr(out, "\"team_notes\":{\"a\":1}"));
    assert_non_null(strstr(out, "\"x_custom\":[1,2]"));
    assert_non_null(strstr(out, "\"pattern_id\":\"pattern_xyz\""));
    free(out);
    job_doc_free(doc);
}

static void test_errors_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *message;
    } cases[] = {
        {"[]", "job: required, an object"},
        {"{\"metadata\": {\"scheduling\": {\"cron\": \"0 0 32 * *\"}}}",
         "metadata.scheduling.cron: field 3 (day of month): 32 is out of range 1-31 (at offset 4)"},
        {"{\"metadata\": {\"scheduling\": {\"cron\": \"0 0 30 2 *\"}}}",
         "metadata.scheduling.cron: never fires"},
        {"{\"metadata\": {\"scheduling\": {\"cron\": \"0 9 * * *\", \"timezone\": \"Mars/Base\"}}}",
         "metadata.scheduling.timezone: unknown time zone 'Mars/Base'"},
        {"{\"metadata\": {\"scheduling\": {\"cron\": \"0 9 * * *\", \"interval\": \"5m\"}}}",
         "metadata.scheduling: give one of cron, interval or at"},
        {"{\"metadata\": {\"scheduling\": {\"interval\": \"soon\"}}}",
         "metadata.scheduling.interval: @every"},
        {"{\"metadata\": {\"scheduling\": {\"at\": \"tomorrow\"}}}", "metadata.scheduling.at: "},
        {"{\"metadata\": {\"scheduling\": {\"retry_policy\": {\"multiplier\": 0.5}}}}",
         "metadata.scheduling.retry_policy.multiplier: must be at least 1"},
        {"{\"metadata\": {\"scheduling\": {\"retry_policy\": {\"backoff\": \"fibonacci\"}}}}",
         "metadata.scheduling.retry_policy.backoff: must be none, constant, linear or exponential"},
        {"{\"metadata\": {\"scheduling\": {\"concurrency_policy\": \"maybe\"}}}",
         "metadata.scheduling.concurrency_policy: must be allow, forbid or replace"},
        {"{\"metadata\": {\"scheduling\": {\"dst_policy\": {\"on_gap\": \"later\"}}}}",
         "metadata.scheduling.dst_policy.on_gap: must be shift or skip"},
        {"{\"metadata\": {\"scheduling\": {\"dependencies\": \"a\"}}}",
         "metadata.scheduling.dependencies: must be an array of job ids"},
        {"{\"id\": \"a b\"}", "id: only letters, digits"},
        {"{\"id\": \"\"}", "id: must not be empty"},
        {"{\"campaign_id\": -1}", "campaign_id: must be an integer >= 0"},
        {"{\"status\": \"RUNNING\"}", "status: must be ACTIVE, PAUSED"},
        {"{\"labels\": {\"team\": 5}}", "labels.team: must be a string"},
        {"{\"executor\": {\"type\": \"rocket\"}}", "executor.type: 'rocket' is not one of"},
        {"{\"executor\": {\"type\": \"shell\"}}", "executor.command: must be a non-empty array"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": [1]}}",
         "executor.command[0]: must be a string"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": [\"x\"], \"timeout\": \"10 min\"}}",
         "executor.timeout: "},
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"echo hi\", \"env\": {\"A\": 1}}}",
         "executor.env.A: must be a string"},
        /* env keys are POSIX names: these would fail every run (docs/security.md) */
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"x\", \"env\": {\"\": \"v\"}}}",
         "executor.env: key \"\" is not a valid name"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"x\", \"env\": {\"A=B\": \"v\"}}}",
         "executor.env: key \"A=B\" is not a valid name"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"x\", \"env\": {\"A\\u0001\": "
         "\"v\"}}}",
         "executor.env: key \"A\x01\" is not a valid name"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"x\", \"env\": {\"9A\": \"v\"}}}",
         "executor.env: key \"9A\" is not a valid name"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"x\", \"run_as\": 7}}",
         "executor.run_as: must be a string"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"x\", \"run_as\": \"-r\"}}",
         "executor.run_as: \"-r\" is not a user name"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": \"x\", \"run_as\": \"a b\"}}",
         "executor.run_as: \"a b\" is not a user name"},
        {"{\"executor\": {\"type\": \"shell\", \"command\": [\"x\"], \"timeout\": \"400d\"}}",
         "executor.timeout: at most 365 days"},
        {"{\"metadata\": {\"scheduling\": {\"at\": \"1969-12-31T00:00:00Z\"}}}",
         "metadata.scheduling.at: must be after 1970-01-01T00:00:00Z"},
        {"{\"metadata\": {\"scheduling\": {\"timezone\": \"Mars/Base\"}}}",
         "metadata.scheduling.timezone: unknown time zone 'Mars/Base'"},
        {"{\"executor\": {\"type\": \"http\", \"url\": \"ftp://x\"}}",
         "executor.url: required, an http:// or https:// URL"},
        {"{\"executor\": {\"type\": \"http\", \"url\": \"http://x\", \"accepted_statuses\": [99]}}",
         "executor.accepted_statuses[0]: must be a status code 100-599"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct job_doc *doc = NULL;
        struct job_doc_error err = {{0}};
        int r = parse_text(cases[i].json, &doc, &err);
        if (r != -EINVAL || !strstr(err.message, cases[i].message))
            print_error("%s: got %d '%s', want '%s'\n", cases[i].json, r, err.message,
                        cases[i].message);
        assert_int_equal(r, -EINVAL);
        assert_non_null(strstr(err.message, cases[i].message));
        assert_null(doc);
    }
}

static void test_schedules(void **state)
{
    (void)state;
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    assert_int_equal(
        parse_text("{\"metadata\": {\"scheduling\": {\"interval\": \"90s\"}}}", &doc, &err), 0);
    assert_int_equal(cron_expr_interval_s(doc->spec.expr), 90);
    assert_int_equal(doc->spec.anchor_at, 1796047200);
    job_doc_free(doc);
    assert_int_equal(parse_text("{\"metadata\": {\"scheduling\": {\"at\": "
                                "\"2026-12-01T00:00:00Z\"}}}",
                                &doc, &err),
                     0);
    assert_null(doc->spec.expr);
    assert_int_equal(doc->spec.once_at_ms, INT64_C(1796083200000));
    job_doc_free(doc);
    assert_int_equal(parse_text("{\"metadata\": {\"scheduling\": {\"cron\": "
                                "\"CRON_TZ=Asia/Tokyo 0 9 * * *\", \"timezone\": \"UTC\", "
                                "\"dst_policy\": {\"on_gap\": \"skip\", \"on_overlap\": "
                                "\"both\"}, \"misfire_policy\": \"skip\", "
                                "\"concurrency_policy\": \"forbid\", \"starting_deadline\": "
                                "\"5m\"}}}",
                                &doc, &err),
                     0);
    assert_string_equal(tz_zone_name(doc->spec.zone), "Asia/Tokyo");
    assert_int_equal(doc->spec.dst_policy.on_gap, CRON_GAP_SKIP);
    assert_int_equal(doc->spec.dst_policy.on_overlap, CRON_OVERLAP_BOTH);
    assert_int_equal(doc->spec.misfire, SCHED_MISFIRE_SKIP);
    assert_int_equal(doc->spec.concurrency, SCHED_CONCURRENCY_FORBID);
    assert_int_equal(doc->spec.starting_deadline_ms, 300000);
    job_doc_free(doc);
}

static void test_input_is_not_changed(void **state)
{
    (void)state;
    json_t *json = json_pack("{s:s}", "name", "no id yet");
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    assert_int_equal(job_doc_parse(json, zones, 0, &doc, &err), 0);
    assert_null(json_object_get(json, "id"));
    assert_non_null(json_object_get(doc->json, "id"));
    job_doc_free(doc);
    json_decref(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_example_a),
        cmocka_unit_test(test_spec_example_keeps_unknown_keys),
        cmocka_unit_test(test_errors_name_the_field),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_input_is_not_changed),
    };
    return cmocka_run_group_tests_name("job_doc", tests, setup, teardown);
}
