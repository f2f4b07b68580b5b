/*
 * test_job_doc_deps - the dependency fields of a job document: the ids reach
 * the core's spec, dependency_timeout is a duration, and the errors a user
 * reads name the field (self-dependency with its one-job cycle).
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
    json_t *json = json_loads(text, 0, NULL);
    assert_non_null(json);
    int r = job_doc_parse(json, zones, 1796047200000, doc, err);
    json_decref(json);
    return r;
}

static void test_dependencies_reach_the_spec(void **state)
{
    (void)state;
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    assert_int_equal(parse_text("{\"id\": \"report\", \"metadata\": {\"scheduling\": {"
                                "\"cron\": \"0 9 * * *\", \"dependencies\": [\"a\", \"b\"], "
                                "\"dependency_timeout\": \"1h30m\"}}}",
                                &doc, &err),
                     0);
    assert_int_equal(doc->dep_count, 2);
    assert_int_equal(doc->spec.dep_count, 2);
    assert_string_equal(doc->spec.deps[0], "a");
    assert_string_equal(doc->spec.deps[1], "b");
    assert_int_equal(doc->spec.dependency_timeout_ms, 5400000);
    assert_int_equal(doc->spec.baseline_ms, 1796047200000); /* its creation */
    job_doc_free(doc);
}

static void test_dependency_errors_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"{\"id\": \"a\", \"metadata\": {\"scheduling\": {\"dependencies\": [\"a\"]}}}",
         "metadata.scheduling.dependencies[0]: a job cannot depend on itself (cycle a -> a)"},
        {"{\"id\": \"a\", \"metadata\": {\"scheduling\": {\"dependencies\": [\"b\", 7]}}}",
         "metadata.scheduling.dependencies[1]: must be a job id string"},
        {"{\"id\": \"a\", \"metadata\": {\"scheduling\": {\"dependencies\": [\"\"]}}}",
         "metadata.scheduling.dependencies[0]: must be a job id string"},
        {"{\"id\": \"a\", \"metadata\": {\"scheduling\": {\"dependencies\": \"b\"}}}",
         "metadata.scheduling.dependencies: must be an array of job ids"},
        {"{\"id\": \"a\", \"metadata\": {\"scheduling\": {\"dependency_timeout\": \"soon\"}}}",
         "metadata.scheduling.dependency_timeout: "},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct job_doc *doc = NULL;
        struct job_doc_error err;
        assert_int_equal(parse_text(cases[i].json, &doc, &err), -EINVAL);
        if (strncmp(err.message, cases[i].message, strlen(cases[i].message)) != 0)
            fail_msg("case %zu: got '%s'", i, err.message);
        assert_null(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dependencies_reach_the_spec),
        cmocka_unit_test(test_dependency_errors_name_the_field),
    };
    return cmocka_run_group_tests_name("job_doc_deps", tests, setup, teardown);
}
