/*
 * Unit tests of the events hub: type names, filters, numbering with no gaps
 * (also across a reopen and a rolled-back batch), the log's bounds, replay
 * and resync, and the bounded per-subscriber queue.  A real SQLite store in a
 * temporary folder and a real libuv loop (run with UV_RUN_NOWAIT, no sleeps).
 */
#include <errno.h>
#include <glib.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/events.h"
#include "events/internal.h"

struct fixture {
    char *dir;
    uv_loop_t loop;
    struct store *store;
    struct events *ev;
};

struct probe {
    int ready;
    int overflow;
};

static void on_ready(void *owner)
{
    ((struct probe *)owner)->ready++;
}

static void on_overflow(void *owner)
{
    ((struct probe *)owner)->overflow++;
}

static const struct events_sub_ops probe_ops = {on_ready, on_overflow};

static void open_all(struct fixture *fx, const struct events_config *config)
{
    char err[256];
    assert_int_equal(store_open_sqlite(fx->dir, &fx->store, err, sizeof(err)), 0);
    assert_int_equal(events_new(&fx->loop, fx->store, config, &fx->ev, err, sizeof(err)), 0);
}

static void close_all(struct fixture *fx)
{
    events_stop(fx->ev);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    events_free(fx->ev);
    fx->ev = NULL;
    store_close(fx->store);
    fx->store = NULL;
}

static int setup(void **state)
{
    struct fixture *fx = g_new0(struct fixture, 1);
    fx->dir = g_dir_make_tmp("ovsched-events-XXXXXX", NULL);
    uv_loop_init(&fx->loop);
    struct events_config config = {0};
    open_all(fx, &config);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->ev)
        close_all(fx);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    char *cmd = g_strdup_printf("rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    g_free(cmd);
    g_free(fx->dir);
    g_free(fx);
    return 0;
}

/* Publish what was emitted (the zero-delay flush timer). */
static void flush(struct fixture *fx)
{
    uv_run(&fx->loop, UV_RUN_NOWAIT);
}

static json_t *pop_json(struct events_sub *sub)
{
    struct events_msg *msg = events_sub_pop(sub);
    if (!msg)
        return NULL;
    json_t *j = json_loads(msg->json, 0, NULL);
    assert_non_null(j);
    events_msg_unref(msg);
    return j;
}

static int64_t seq_of(json_t *j)
{
    return json_integer_value(json_object_get(json_object_get(j, "metadata"), "seq"));
}

static struct events_sub *subscribe(struct fixture *fx, const char *since, const char *types,
                                    const char *job, struct probe *probe)
{
    struct events_filter filter;
    char err[128];
    assert_int_equal(events_filter_parse(&filter, since, NULL, types, job, NULL, err, sizeof(err)),
                     0);
    struct events_sub *sub = NULL;
    struct events_resync resync;
    assert_int_equal(events_sub_add(fx->ev, &filter, &probe_ops, probe, &sub, &resync), 0);
    return sub;
}

/* ---- names and filters ------------------------------------------------------ */

static void test_type_names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < EVENTS_TYPE_COUNT; i++) {
        const char *name = events_type_to_string((enum events_type)i);
        enum events_type back;
        assert_int_equal(events_type_from_string(name, &back), 0);
        assert_int_equal(back, i);
        assert_int_equal(events_type_from_string(name + strlen("scheduler."), &back), 0);
        assert_int_equal(back, i);
    }
    enum events_type t;
    assert_int_equal(events_type_from_string("scheduler.pattern_registered", &t), 0);
    assert_int_equal(t, EVENTS_PATTERN_REGISTERED);
    assert_int_equal(events_type_from_string("job_exploded", &t), -EINVAL);
    assert_null(events_type_to_string(EVENTS_TYPE_COUNT));
}

static void test_filter_parse_errors_name_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *since, *last_id, *types, *campaign, *want;
    } cases[] = {
        {"-1", NULL, NULL, NULL, "since:"},
        {"12x", NULL, NULL, NULL, "since:"},
        {NULL, "abc", NULL, NULL, "Last-Event-ID:"},
        {NULL, NULL, "job_created,bogus", NULL, "types: unknown event type 'bogus'"},
        {NULL, NULL, NULL, "seven", "campaign_id:"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct events_filter f;
        char err[128] = "";
        assert_int_equal(events_filter_parse(&f, cases[i].since, cases[i].last_id, cases[i].types,
                                             NULL, cases[i].campaign, err, sizeof(err)),
                         -EINVAL);
        assert_non_null(strstr(err, cases[i].want));
    }
}

/* A long or multi-byte unknown type is quoted cut, between characters: the
 * message keeps its field and stays valid UTF-8 (it goes out as JSON). */
static void test_filter_error_quotes_long_types(void **state)
{
    (void)state;
    GString *types = g_string_new("job_created,");
    for (int i = 0; i < 400; i++)
        g_string_append(types, "\xc3\xa9");
    struct events_filter f;
    char err[160] = "";
    assert_int_equal(events_filter_parse(&f, NULL, NULL, types->str, NULL, NULL, err, sizeof(err)),
                     -EINVAL);
    assert_true(g_str_has_prefix(err, "types: unknown event type '\xc3\xa9"));
    assert_true(g_str_has_suffix(err, "...'"));
    assert_true(g_utf8_validate(err, -1, NULL));
    g_string_free(types, true);
}

static void test_filter_match_table(void **state)
{
    (void)state;
    struct events_filter f;
    char err[128];
    assert_int_equal(
        events_filter_parse(&f, "5", "9", " job_started , job_failed", "a", "3", err, sizeof(err)),
        0);
    assert_int_equal(f.since, 5); /* since wins over Last-Event-ID */
    assert_true(events_filter_match(&f, EVENTS_JOB_STARTED, "a", 3));
    assert_true(events_filter_match(&f, EVENTS_JOB_FAILED, "a", 3));
    assert_false(events_filter_match(&f, EVENTS_JOB_CREATED, "a", 3));
    assert_false(events_filter_match(&f, EVENTS_JOB_STARTED, "b", 3));
    assert_false(events_filter_match(&f, EVENTS_JOB_STARTED, NULL, 3));
    assert_false(events_filter_match(&f, EVENTS_JOB_STARTED, "a", 4));
    f.has_tenant = true; /* the auth hook: a tenant restriction nothing lifts */
    f.tenant_id = 4;
    assert_false(events_filter_match(&f, EVENTS_JOB_STARTED, "a", 3));
    events_filter_release(&f);
    struct events_filter all;
    assert_int_equal(events_filter_parse(&all, NULL, "7", NULL, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(all.since, 7);
    assert_true(events_filter_match(&all, EVENTS_PATTERN_REGISTERED, NULL, -1));
    events_filter_release(&all);
}

/* ---- numbering and the log ------------------------------------------------- */

static void test_seq_has_no_gaps_across_reopen(void **state)
{
    struct fixture *fx = *state;
    events_job(fx->ev, EVENTS_JOB_CREATED, "a", 1, "ACTIVE");
    events_run(fx->ev, true, "a", "RUNNING", 1, 1, NULL);
    events_run(fx->ev, false, "a", "PENDING", 1, 1, NULL); /* no event */
    events_run(fx->ev, false, "a", "COMPLETED", 1, 1, NULL);
    flush(fx);
    assert_int_equal(events_last_seq(fx->ev), 3);
    close_all(fx);
    struct events_config config = {0};
    open_all(fx, &config);
    assert_int_equal(events_last_seq(fx->ev), 3);
    struct probe probe = {0};
    struct events_sub *sub = subscribe(fx, "0", NULL, NULL, &probe);
    events_job(fx->ev, EVENTS_JOB_DELETED, "a", 1, "DELETED");
    flush(fx);
    const char *want[] = {"scheduler.job_created", "scheduler.job_started",
                          "scheduler.job_completed", "scheduler.job_deleted"};
    for (int i = 0; i < 4; i++) {
        json_t *j = pop_json(sub);
        assert_non_null(j);
        assert_int_equal(seq_of(j), i + 1);
        assert_string_equal(json_string_value(json_object_get(j, "type")), want[i]);
        if (i == 1 || i == 2) /* run events carry the job's tenant, looked up */
            assert_int_equal(
                json_integer_value(json_object_get(json_object_get(j, "metadata"), "campaign_id")),
                1);
        json_decref(j);
    }
    assert_null(events_sub_pop(sub));
    events_sub_remove(sub);
}

static void test_rolled_back_batch_leaves_no_gap(void **state)
{
    struct fixture *fx = *state;
    struct probe probe = {0};
    struct events_sub *sub = subscribe(fx, NULL, NULL, NULL, &probe);
    events_job(fx->ev, EVENTS_JOB_CREATED, "a", 0, "ACTIVE");
    flush(fx);
    assert_int_equal(store_begin(fx->store, NULL), 0);
    events_job(fx->ev, EVENTS_JOB_UPDATED, "a", 0, "ACTIVE");
    events_job(fx->ev, EVENTS_JOB_UPDATED, "a", 0, "ACTIVE");
    store_rollback(fx->store);
    /* Another change before the loop publishes: it takes seq 2, and the
     * rolled-back 2 and 3 are never published. */
    events_job(fx->ev, EVENTS_JOB_PAUSED, "a", 0, "PAUSED");
    flush(fx);
    int64_t lo, hi;
    assert_int_equal(store_event_bounds(fx->store, &lo, &hi, NULL), 0);
    assert_int_equal(hi, 2);
    json_t *a = pop_json(sub), *b = pop_json(sub);
    assert_int_equal(seq_of(a), 1);
    assert_int_equal(seq_of(b), 2); /* the rolled-back 2 and 3 were never published */
    assert_string_equal(json_string_value(json_object_get(b, "type")), "scheduler.job_paused");
    assert_null(events_sub_pop(sub));
    json_decref(a);
    json_decref(b);
    events_sub_remove(sub);
}

static void test_log_is_bounded_by_count(void **state)
{
    struct fixture *fx = *state;
    close_all(fx);
    struct events_config config = {.max_events = 5};
    open_all(fx, &config);
    for (int i = 0; i < 40; i++)
        events_job(fx->ev, EVENTS_JOB_UPDATED, "a", 0, "ACTIVE");
    flush(fx);
    int64_t lo, hi;
    assert_int_equal(store_event_bounds(fx->store, &lo, &hi, NULL), 0);
    assert_int_equal(hi, 40);
    assert_int_equal(lo, 36);
    /* A since older than the log: resync, with the bounds. */
    struct events_filter filter;
    char err[64];
    assert_int_equal(events_filter_parse(&filter, "10", NULL, NULL, NULL, NULL, err, sizeof(err)),
                     0);
    struct events_sub *sub = NULL;
    struct events_resync resync;
    struct probe probe = {0};
    assert_int_equal(events_sub_add(fx->ev, &filter, &probe_ops, &probe, &sub, &resync), -ERANGE);
    assert_int_equal(resync.oldest_seq, 36);
    assert_int_equal(resync.latest_seq, 40);
    char *text = events_resync_json(&resync);
    assert_non_null(strstr(text, "\"type\":\"resync\""));
    g_free(text);
    /* since = oldest - 1 misses nothing: allowed. */
    sub = subscribe(fx, "35", NULL, NULL, &probe);
    for (int64_t want = 36; want <= 40; want++) {
        json_t *j = pop_json(sub);
        assert_int_equal(seq_of(j), want);
        json_decref(j);
    }
    events_sub_remove(sub);
}

static void test_prune_by_age_keeps_the_newest(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 3; i++)
        events_job(fx->ev, EVENTS_JOB_UPDATED, "a", 0, "ACTIVE");
    flush(fx);
    /* Everything is older than "the future": all go but the newest. */
    assert_int_equal(store_event_prune(fx->store, 1000, INT64_MAX, NULL), 2);
    int64_t lo, hi;
    assert_int_equal(store_event_bounds(fx->store, &lo, &hi, NULL), 0);
    assert_int_equal(lo, 3);
    assert_int_equal(hi, 3);
    assert_int_equal(store_event_prune(fx->store, 0, 0, NULL), -EINVAL);
}

/* ---- subscribers -------------------------------------------------------------- */

static void test_replay_filters_then_goes_live(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 600; i++) /* more than one replay chunk */
        events_job(fx->ev, i % 2 ? EVENTS_JOB_PAUSED : EVENTS_JOB_RESUMED, i % 3 ? "a" : "b", 0,
                   "X");
    flush(fx);
    struct probe probe = {0};
    struct events_sub *sub = subscribe(fx, "0", "job_paused", "a", &probe);
    int64_t last = 0;
    int count = 0;
    json_t *j;
    while ((j = pop_json(sub))) {
        int64_t seq = seq_of(j);
        assert_true(seq > last);
        assert_true(seq % 2 == 0);       /* odd i (paused) is even seq */
        assert_true((seq - 1) % 3 != 0); /* never job b */
        last = seq;
        count++;
        json_decref(j);
    }
    /* i odd and i % 3 != 0 among 0..599: 200 */
    assert_int_equal(count, 200);
    events_job(fx->ev, EVENTS_JOB_PAUSED, "a", 0, "PAUSED");
    events_job(fx->ev, EVENTS_JOB_PAUSED, "b", 0, "PAUSED");
    flush(fx);
    assert_int_equal(probe.ready, 1);
    j = pop_json(sub);
    assert_int_equal(seq_of(j), 601);
    json_decref(j);
    assert_null(events_sub_pop(sub));
    events_sub_remove(sub);
}

static void test_slow_subscriber_overflows_with_a_reason(void **state)
{
    struct fixture *fx = *state;
    close_all(fx);
    struct events_config config = {.client_queue = 3};
    open_all(fx, &config);
    struct probe slow = {0}, fast = {0};
    struct events_sub *a = subscribe(fx, NULL, NULL, NULL, &slow);
    struct events_sub *b = subscribe(fx, NULL, NULL, NULL, &fast);
    for (int i = 0; i < 3; i++)
        events_job(fx->ev, EVENTS_JOB_UPDATED, "a", 0, "ACTIVE");
    flush(fx);
    for (int i = 0; i < 3; i++)
        events_msg_unref(events_sub_pop(b)); /* b keeps up */
    events_job(fx->ev, EVENTS_JOB_UPDATED, "a", 0, "ACTIVE");
    flush(fx);
    assert_int_equal(slow.overflow, 1);
    assert_int_equal(fast.overflow, 0);
    assert_non_null(strstr(events_sub_overflow_reason(a), "slow consumer: more than 3 events"));
    assert_null(events_sub_pop(a)); /* nothing more for a closing subscriber */
    json_t *j = pop_json(b);
    assert_int_equal(seq_of(j), 4);
    json_decref(j);
    events_sub_remove(a);
    events_sub_remove(b);
}

static void test_envelope_shape(void **state)
{
    struct fixture *fx = *state;
    struct probe probe = {0};
    struct events_sub *sub = subscribe(fx, NULL, NULL, NULL, &probe);
    events_run(fx->ev, false, "job-1", "RETRYING", 42, 2, "corr-9");
    events_decision(fx->ev, "job-1", "skipped_forbid", 1700000000123);
    events_decision(fx->ev, "job-1", "fired", 1700000000123); /* not an event */
    flush(fx);
    json_t *j = pop_json(sub);
    json_t *md = json_object_get(j, "metadata"), *pl = json_object_get(j, "payload");
    assert_int_equal(json_object_size(j), 3);
    assert_int_equal(json_object_size(md), 6);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "scheduler.job_retrying");
    assert_string_equal(json_string_value(json_object_get(pl, "run_id")), "42");
    assert_int_equal(json_integer_value(json_object_get(pl, "attempt")), 2);
    assert_string_equal(json_string_value(json_object_get(md, "correlation_id")), "corr-9");
    assert_string_equal(json_string_value(json_object_get(md, "source")), "scheduler");
    const char *ts = json_string_value(json_object_get(md, "timestamp"));
    assert_true(
        g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$", ts, 0, 0));
    const char *id = json_string_value(json_object_get(md, "event_id"));
    assert_true(g_regex_match_simple("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                     "[0-9a-f]{12}$",
                                     id, 0, 0));
    json_decref(j);
    j = pop_json(sub);
    pl = json_object_get(j, "payload");
    assert_string_equal(json_string_value(json_object_get(j, "type")), "scheduler.job_skipped");
    assert_string_equal(json_string_value(json_object_get(pl, "reason")), "skipped_forbid");
    assert_string_equal(json_string_value(json_object_get(pl, "scheduled_at")),
                        "2023-11-14T22:13:20.123Z");
    json_decref(j);
    assert_null(events_sub_pop(sub));
    events_sub_remove(sub);
}

static void test_config_options(void **state)
{
    (void)state;
    struct events_config c = {0};
    char err[128];
    assert_int_equal(events_config_option(&c, EVENTS_OPT_FIRST, "500", err, sizeof(err)), 0);
    assert_int_equal(c.max_events, 500);
    assert_int_equal(events_config_option(&c, EVENTS_OPT_FIRST, "0", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--events-max"));
    assert_int_equal(events_config_option(&c, EVENTS_OPT_FIRST + 1, "36h", err, sizeof(err)), 0);
    assert_int_equal(c.max_age_ms, 36 * 3600 * 1000);
    assert_int_equal(events_config_option(&c, EVENTS_OPT_FIRST + 1, "soon", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "--events-max-age"));
    assert_int_equal(events_config_option(&c, EVENTS_OPT_FIRST + 4, "250ms", err, sizeof(err)), 0);
    assert_int_equal(c.ping_ms, 250);
    assert_int_equal(events_config_option(&c, EVENTS_OPT_FIRST + 4, "1ms", err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "--events-ping"));
    assert_int_equal(events_config_option(&c, 'x', "1", err, sizeof(err)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names_round_trip),
        cmocka_unit_test(test_filter_parse_errors_name_the_field),
        cmocka_unit_test(test_filter_error_quotes_long_types),
        cmocka_unit_test(test_filter_match_table),
        cmocka_unit_test(test_config_options),
        cmocka_unit_test_setup_teardown(test_seq_has_no_gaps_across_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_batch_leaves_no_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_is_bounded_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_by_age_keeps_the_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_filters_then_goes_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_subscriber_overflows_with_a_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_envelope_shape, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
