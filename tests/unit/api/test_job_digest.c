/*
 * test_job_digest - the digest start-up reads instead of each job's document:
 * decoding it must give the core exactly what parsing the document gives, for
 * every kind of schedule and policy, and any damaged or foreign blob must be
 * refused (so start-up falls back to the document) rather than misread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "api/job_digest.h"
#include "api/job_doc.h"
#include "cron/cron.h"
#include "test_util.h"

#define NOW_MS INT64_C(1796047200000)

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

static struct job_doc *parse(const char *text)
{
    json_t *json = json_loads(text, 0, NULL);
    assert_non_null(json);
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    if (job_doc_parse(json, zones, NOW_MS, &doc, &err) < 0)
        fail_msg("%s: %s", text, err.message);
    json_decref(json);
    return doc;
}

/* The next 20 fire times of SPEC from NOW, as text, to compare schedules by
 * what they do rather than by their bytes. */
static void fires(const struct sched_job_spec *spec, char *out, size_t size)
{
    struct cron_schedule s = {spec->expr, spec->zone, spec->dst_policy, spec->anchor_at};
    int64_t at = NOW_MS / 1000;
    out[0] = '\0';
    for (int i = 0; spec->expr && i < 20; i++) {
        struct cron_fire f;
        if (cron_schedule_next(&s, at, &f) < 0)
            break;
        size_t n = strlen(out);
        snprintf(out + n, size - n, "%lld ", (long long)f.at);
        at = f.at;
    }
}

static void assert_same_spec(const struct sched_job_spec *a, const struct sched_job_spec *b)
{
    char fa[512], fb[512];
    fires(a, fa, sizeof(fa));
    fires(b, fb, sizeof(fb));
    assert_string_equal(fa, fb);
    assert_true(a->zone == b->zone);
    assert_int_equal(a->dst_policy.on_gap, b->dst_policy.on_gap);
    assert_int_equal(a->dst_policy.on_overlap, b->dst_policy.on_overlap);
    assert_int_equal(a->anchor_at, b->anchor_at);
    assert_int_equal(a->once_at_ms, b->once_at_ms);
    assert_int_equal(a->paused, b->paused);
    assert_int_equal(a->concurrency, b->concurrency);
    assert_int_equal(a->misfire, b->misfire);
    assert_int_equal(a->starting_deadline_ms, b->starting_deadline_ms);
    assert_int_equal(a->timeout_ms, b->timeout_ms);
    assert_memory_equal(&a->retry, &b->retry, sizeof(a->retry));
    if (a->executor || b->executor)
        assert_string_equal(a->executor, b->executor);
    assert_int_equal(a->dependency_timeout_ms, b->dependency_timeout_ms);
    assert_int_equal(a->dep_count, b->dep_count);
    for (size_t i = 0; i < a->dep_count; i++)
        assert_string_equal(a->deps[i], b->deps[i]);
}

static const char *const jobs[] = {
    "{\"id\":\"a\",\"executor\":{\"type\":\"noop\"},"
    "\"metadata\":{\"scheduling\":{\"cron\":\"0 9 * * 1\",\"timezone\":\"America/New_York\"}}}",
    "{\"id\":\"b\",\"status\":\"PAUSED\",\"executor\":{\"type\":\"shell\",\"command\":[\"/bin/"
    "echo\",\"hi\"],\"timeout\":\"10m\",\"env\":{\"A\":\"1\"}},\"metadata\":{\"scheduling\":{"
    "\"cron\":\"CRON_TZ=Australia/Lord_Howe 30 2 * * *\",\"dst_policy\":{\"on_gap\":\"skip\","
    "\"on_overlap\":\"both\"},\"concurrency_policy\":\"forbid\",\"misfire_policy\":\"run_all\","
    "\"starting_deadline\":\"90s\",\"retry_policy\":{\"max_attempts\":5,\"backoff\":"
    "\"exponential\",\"initial_interval\":\"2s\",\"multiplier\":2.5,\"randomization_factor\":0.1,"
    "\"max_interval\":\"1m\",\"max_elapsed\":\"1h\"}}}}",
    "{\"id\":\"c\",\"metadata\":{\"scheduling\":{\"interval\":\"90s\"}}}",
    "{\"id\":\"d\",\"executor\":{\"type\":\"http\",\"url\":\"http://127.0.0.1:9/x\"},"
    "\"metadata\":{\"scheduling\":{\"at\":\"2027-01-01T00:00:00Z\"}}}",
    "{\"id\":\"e\"}",
    "{\"id\":\"f\",\"metadata\":{\"scheduling\":{\"cron\":\"0 6 * * *\",\"dependencies\":"
    "[\"a\",\"b\"],\"dependency_timeout\":\"5m\"}}}",
    "{\"id\":\"g\",\"metadata\":{\"scheduling\":{\"dependencies\":[\"f\"]}}}",
};

/* Decoding the digest gives the core what the document gives it. */
static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
        struct job_doc *doc = parse(jobs[i]);
        GByteArray *digest = job_digest_encode(doc);
        struct job_digest_decoder dec;
        job_digest_decoder_init(&dec, zones);
        struct sched_job_spec spec;
        assert_int_equal(job_digest_decode(&dec, doc->id, digest->data, digest->len, &spec), 0);
        assert_string_equal(spec.id, doc->id);
        assert_same_spec(&doc->spec, &spec);
        cron_expr_free(spec.expr);
        job_digest_decoder_clear(&dec);
        g_byte_array_unref(digest);
        job_doc_free(doc);
    }
}

/* A million jobs on one schedule share one parsed expression. */
static void test_expressions_are_shared(void **state)
{
    (void)state;
    struct job_doc *doc = parse(jobs[0]);
    GByteArray *digest = job_digest_encode(doc);
    struct job_digest_decoder dec;
    job_digest_decoder_init(&dec, zones);
    struct sched_job_spec a, b;
    assert_int_equal(job_digest_decode(&dec, "x", digest->data, digest->len, &a), 0);
    assert_int_equal(job_digest_decode(&dec, "y", digest->data, digest->len, &b), 0);
    assert_ptr_equal(a.expr, b.expr);
    /* Each holder keeps it alive after the decoder is gone. */
    job_digest_decoder_clear(&dec);
    cron_expr_free(a.expr);
    char fa[512];
    fires(&b, fa, sizeof(fa));
    assert_true(strlen(fa) > 0);
    cron_expr_free(b.expr);
    g_byte_array_unref(digest);
    job_doc_free(doc);
}

/* Every truncation and every single-byte change is refused or decodes to a
 * valid spec; none crashes (the sanitizer build checks reads). */
static void test_damage_is_refused(void **state)
{
    (void)state;
    struct job_doc *doc = parse(jobs[1]);
    GByteArray *digest = job_digest_encode(doc);
    struct job_digest_decoder dec;
    job_digest_decoder_init(&dec, zones);
    struct sched_job_spec spec;
    for (guint len = 0; len < digest->len; len++)
        assert_int_equal(job_digest_decode(&dec, "x", digest->data, len, &spec), -EINVAL);
    assert_int_equal(job_digest_decode(&dec, "x", NULL, 0, &spec), -EINVAL);
    guint8 *copy = g_memdup2(digest->data, digest->len);
    int refused = 0;
    for (guint i = 0; i < digest->len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            copy[i] ^= (guint8)(1u << bit);
            if (job_digest_decode(&dec, "x", copy, digest->len, &spec) < 0)
                refused++;
            else
                cron_expr_free(spec.expr);
            copy[i] ^= (guint8)(1u << bit);
        }
    }
    assert_true(refused > 0);
    /* Another format version is refused whole. */
    copy[1]++;
    assert_int_equal(job_digest_decode(&dec, "x", copy, digest->len, &spec), -EINVAL);
    g_free(copy);
    job_digest_decoder_clear(&dec);
    g_byte_array_unref(digest);
    job_doc_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_expressions_are_shared),
        cmocka_unit_test(test_damage_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
