/*
 * test_sched_deps - dependency gating in the scheduling core, on a fake clock:
 * chains and diamonds of jobs without a schedule run in order, a diamond's
 * join waits for both sides, time-gated dependents WAIT and then start, are
 * SKIPPED at the next tick or at dependency_timeout, failures mark everything
 * downstream UPSTREAM_FAILED, and a WAITING run survives a restart.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "base/timefmt.h"
#include "sched/sched.h"
#include "test_util.h"

struct event {
    char job_id[32];
    uint64_t run_id;
    enum sched_run_status status; /* RUNNING for starts */
    char reason[160];
    int64_t at_ms;
};

struct rec {
    GArray *events;    /* struct event: starts and final statuses */
    GArray *decisions; /* struct event with status = decision kind */
    int64_t now_ms;
};

static void note(GArray *into, const char *job, uint64_t run_id, int status, const char *reason,
                 int64_t at_ms)
{
    struct event e = {"", run_id, (enum sched_run_status)status, "", at_ms};
    g_strlcpy(e.job_id, job, sizeof(e.job_id));
    g_strlcpy(e.reason, reason ? reason : "", sizeof(e.reason));
    g_array_append_val(into, e);
}

static void on_start(void *ctx, struct sched_run *run)
{
    struct rec *r = ctx;
    note(r->events, run->job_id, run->id, SCHED_RUN_RUNNING, NULL, r->now_ms);
}

static void on_changed(void *ctx, struct sched_run *run)
{
    struct rec *r = ctx;
    if (sched_run_status_is_final(run->status) || run->status == SCHED_RUN_WAITING)
        note(r->events, run->job_id, run->id, run->status, run->reason, r->now_ms);
}

static void on_decision(void *ctx, const struct sched_decision *d)
{
    struct rec *r = ctx;
    note(r->decisions, d->job_id, d->run_id, d->kind, d->reason, r->now_ms);
}

static struct sched *new_sched(struct rec *r)
{
    r->events = g_array_new(FALSE, FALSE, sizeof(struct event));
    r->decisions = g_array_new(FALSE, FALSE, sizeof(struct event));
    struct sched_hooks hooks = {r, on_start, NULL, on_changed, on_decision, NULL, NULL};
    return sched_new(NULL, &hooks);
}

static void free_sched(struct sched *s, struct rec *r)
{
    sched_free(s);
    g_array_free(r->events, TRUE);
    g_array_free(r->decisions, TRUE);
}

static int64_t at_ms(const char *rfc3339)
{
    int64_t at;
    const char *reason;
    assert_int_equal(timefmt_rfc3339_parse(rfc3339, &at, &reason), 0);
    return at * 1000;
}

static void put_job(struct sched *s, const char *id, const char *cron, const char *const *deps,
                    size_t n, int64_t timeout_ms, int64_t now_ms)
{
    static struct tz_cache *cache;
    struct sched_job_spec spec = {.id = id, .deps = deps, .dep_count = n};
    spec.dependency_timeout_ms = timeout_ms;
    spec.baseline_ms = now_ms;
    if (cron) {
        if (!cache)
            cache = tz_cache_new();
        assert_int_equal(cron_expr_parse(cron, strlen(cron), &spec.expr, NULL), 0);
        assert_int_equal(tz_cache_get(cache, "UTC", &spec.zone), 0);
    }
    sched_retry_policy_init(&spec.retry);
    assert_int_equal(sched_job_put(s, &spec, now_ms), 0);
}

/* The last event of JOB, or NULL. */
static const struct event *last_event(GArray *list, const char *job)
{
    for (guint i = list->len; i-- > 0;) {
        const struct event *e = &g_array_index(list, struct event, i);
        if (strcmp(e->job_id, job) == 0)
            return e;
    }
    return NULL;
}

static int count_status(GArray *list, const char *job, int status)
{
    int n = 0;
    for (guint i = 0; i < list->len; i++) {
        const struct event *e = &g_array_index(list, struct event, i);
        n += strcmp(e->job_id, job) == 0 && (int)e->status == status;
    }
    return n;
}

/* Run JOB by hand now and finish it with STATUS one second later. */
static void run_and_finish(struct sched *s, struct rec *r, const char *job,
                           enum sched_run_status status)
{
    struct sched_run *run;
    assert_int_equal(sched_job_run_now(s, job, r->now_ms, &run), 0);
    r->now_ms += 1000;
    assert_int_equal(sched_run_finished(s, run->id, status, r->now_ms), 0);
}

/* Finish the running run of JOB with STATUS one second later. */
static void finish_running(struct sched *s, struct rec *r, const char *job,
                           enum sched_run_status status)
{
    const struct event *e = last_event(r->events, job);
    assert_non_null(e);
    assert_int_equal(e->status, SCHED_RUN_RUNNING);
    r->now_ms += 1000;
    assert_int_equal(sched_run_finished(s, e->run_id, status, r->now_ms), 0);
}

static void test_chain_runs_in_order(void **state)
{
    (void)state;
    struct rec r = {.now_ms = at_ms("2026-01-01T00:00:00Z")};
    struct sched *s = new_sched(&r);
    const char *a[] = {"a"}, *b[] = {"b"};
    put_job(s, "a", NULL, NULL, 0, 0, r.now_ms);
    put_job(s, "b", NULL, a, 1, 0, r.now_ms);
    put_job(s, "c", NULL, b, 1, 0, r.now_ms);
    r.now_ms += 1000;
    run_and_finish(s, &r, "a", SCHED_RUN_COMPLETED);
    assert_int_equal(last_event(r.events, "b")->status, SCHED_RUN_RUNNING);
    assert_null(last_event(r.events, "c"));
    assert_string_equal(last_event(r.decisions, "b")->reason, "its dependencies completed");
    finish_running(s, &r, "b", SCHED_RUN_COMPLETED);
    finish_running(s, &r, "c", SCHED_RUN_COMPLETED);
    assert_int_equal(count_status(r.events, "c", SCHED_RUN_COMPLETED), 1);
    /* A second run of a alone moves b again, and only once per completion. */
    run_and_finish(s, &r, "a", SCHED_RUN_COMPLETED);
    assert_int_equal(count_status(r.events, "b", SCHED_RUN_RUNNING), 2);
    free_sched(s, &r);
}

static void test_same_millisecond_keeps_order(void **state)
{
    (void)state;
    /* b is created, then a runs and completes, all in one millisecond. */
    struct rec r = {.now_ms = at_ms("2026-01-01T00:00:00Z")};
    struct sched *s = new_sched(&r);
    const char *a[] = {"a"};
    put_job(s, "a", NULL, NULL, 0, 0, r.now_ms);
    put_job(s, "b", NULL, a, 1, 0, r.now_ms);
    struct sched_run *run;
    assert_int_equal(sched_job_run_now(s, "a", r.now_ms, &run), 0);
    assert_int_equal(sched_run_finished(s, run->id, SCHED_RUN_COMPLETED, r.now_ms), 0);
    assert_int_equal(last_event(r.events, "b")->status, SCHED_RUN_RUNNING);
    /* b started in that millisecond too: a's completion before it no longer counts. */
    struct sched_blocker blockers[1];
    assert_int_equal(sched_job_blockers(s, "b", blockers, 1), 1);
    free_sched(s, &r);
}

static void test_diamond_join_waits_for_both(void **state)
{
    (void)state;
    struct rec r = {.now_ms = at_ms("2026-01-01T00:00:00Z")};
    struct sched *s = new_sched(&r);
    const char *root[] = {"root"}, *sides[] = {"left", "right"};
    put_job(s, "root", NULL, NULL, 0, 0, r.now_ms);
    put_job(s, "left", NULL, root, 1, 0, r.now_ms);
    put_job(s, "right", NULL, root, 1, 0, r.now_ms);
    put_job(s, "join", NULL, sides, 2, 0, r.now_ms);
    r.now_ms += 1000;
    run_and_finish(s, &r, "root", SCHED_RUN_COMPLETED);
    finish_running(s, &r, "left", SCHED_RUN_COMPLETED);
    assert_null(last_event(r.events, "join"));
    struct sched_blocker blockers[4];
    assert_int_equal(sched_job_blockers(s, "join", blockers, 4), 1);
    assert_string_equal(blockers[0].dep_id, "right");
    finish_running(s, &r, "right", SCHED_RUN_COMPLETED);
    assert_int_equal(last_event(r.events, "join")->status, SCHED_RUN_RUNNING);
    free_sched(s, &r);
}

static void test_failure_marks_downstream(void **state)
{
    (void)state;
    struct rec r = {.now_ms = at_ms("2026-01-01T09:30:00Z")};
    struct sched *s = new_sched(&r);
    const char *a[] = {"a"}, *b[] = {"b"};
    put_job(s, "a", NULL, NULL, 0, 0, r.now_ms);
    put_job(s, "b", NULL, a, 1, 0, r.now_ms);
    put_job(s, "c", NULL, b, 1, 0, r.now_ms);
    put_job(s, "hourly", "0 * * * *", a, 1, 0, r.now_ms);
    sched_advance(s, r.now_ms = at_ms("2026-01-01T10:00:00Z"));
    assert_int_equal(last_event(r.events, "hourly")->status, SCHED_RUN_WAITING);
    run_and_finish(s, &r, "a", SCHED_RUN_FAILED);
    const struct event *e = last_event(r.events, "b");
    assert_int_equal(e->status, SCHED_RUN_UPSTREAM_FAILED);
    assert_non_null(strstr(e->reason, "dependency a ended FAILED"));
    e = last_event(r.events, "c");
    assert_int_equal(e->status, SCHED_RUN_UPSTREAM_FAILED);
    assert_non_null(strstr(e->reason, "dependency b ended UPSTREAM_FAILED"));
    assert_int_equal(last_event(r.events, "hourly")->status, SCHED_RUN_UPSTREAM_FAILED);
    assert_int_equal(last_event(r.decisions, "c")->status, SCHED_DECISION_UPSTREAM_FAILED);
    struct sched_blocker blockers[2];
    assert_int_equal(sched_job_blockers(s, "b", blockers, 2), 1);
    assert_true(blockers[0].failed);
    free_sched(s, &r);
}

static void test_time_gated_waits_then_skips(void **state)
{
    (void)state;
    struct rec r = {.now_ms = at_ms("2026-01-01T09:30:00Z")};
    struct sched *s = new_sched(&r);
    const char *d[] = {"d"};
    put_job(s, "d", NULL, NULL, 0, 0, r.now_ms);
    put_job(s, "j", "0 * * * *", d, 1, 0, r.now_ms);
    /* 10:00: d has not completed: WAITING; d completes at 10:05: j starts. */
    sched_advance(s, r.now_ms = at_ms("2026-01-01T10:00:00Z"));
    const struct event *e = last_event(r.events, "j");
    assert_int_equal(e->status, SCHED_RUN_WAITING);
    assert_string_equal(e->reason, "waiting for d to complete");
    assert_int_equal(last_event(r.decisions, "j")->status, SCHED_DECISION_WAITING);
    r.now_ms = at_ms("2026-01-01T10:05:00Z");
    run_and_finish(s, &r, "d", SCHED_RUN_COMPLETED);
    assert_int_equal(last_event(r.events, "j")->status, SCHED_RUN_RUNNING);
    finish_running(s, &r, "j", SCHED_RUN_COMPLETED);
    /* 11:00 waits (d's completion came before j's last start); 12:00 skips it. */
    sched_advance(s, r.now_ms = at_ms("2026-01-01T11:00:00Z"));
    assert_int_equal(last_event(r.events, "j")->status, SCHED_RUN_WAITING);
    sched_advance(s, r.now_ms = at_ms("2026-01-01T12:00:00Z"));
    assert_int_equal(count_status(r.events, "j", SCHED_RUN_SKIPPED), 1);
    assert_int_equal(last_event(r.events, "j")->status, SCHED_RUN_WAITING);
    bool found = false;
    for (guint i = 0; i < r.decisions->len; i++) {
        const struct event *dec = &g_array_index(r.decisions, struct event, i);
        if (dec->status == (int)SCHED_DECISION_SKIPPED_DEPENDENCY) {
            assert_string_equal(dec->reason, "d did not complete since the job's previous run: "
                                             "the next tick came first");
            found = true;
        }
    }
    assert_true(found);
    free_sched(s, &r);
}

static void test_dependency_timeout(void **state)
{
    (void)state;
    struct rec r = {.now_ms = at_ms("2026-01-01T09:30:00Z")};
    struct sched *s = new_sched(&r);
    const char *d[] = {"d"};
    put_job(s, "d", NULL, NULL, 0, 0, r.now_ms);
    put_job(s, "j", "0 * * * *", d, 1, 10 * 60 * 1000, r.now_ms);
    sched_advance(s, r.now_ms = at_ms("2026-01-01T10:00:00Z"));
    assert_int_equal(sched_next_wakeup_ms(s), at_ms("2026-01-01T10:10:00Z"));
    sched_advance(s, r.now_ms = at_ms("2026-01-01T10:10:00Z"));
    const struct event *e = last_event(r.events, "j");
    assert_int_equal(e->status, SCHED_RUN_SKIPPED);
    assert_non_null(strstr(e->reason, "dependency_timeout passed"));
    /* d completing later does not start the skipped slot. */
    run_and_finish(s, &r, "d", SCHED_RUN_COMPLETED);
    assert_int_equal(count_status(r.events, "j", SCHED_RUN_RUNNING), 0);
    free_sched(s, &r);
}

static void test_waiting_run_survives_restart(void **state)
{
    (void)state;
    struct rec r = {.now_ms = at_ms("2026-01-01T10:02:00Z")};
    struct sched *s = new_sched(&r);
    const char *d[] = {"d"};
    put_job(s, "d", NULL, NULL, 0, 0, at_ms("2026-01-01T00:00:00Z"));
    put_job(s, "j", "0 * * * *", d, 1, 0, r.now_ms);
    struct sched_job_history h = {.last_started_ms = at_ms("2026-01-01T09:00:00Z")};
    assert_int_equal(sched_job_set_history(s, "j", &h), 0);
    struct sched_run *run;
    assert_int_equal(sched_job_restore_waiting(s, "j", 42, at_ms("2026-01-01T10:00:00Z"), &run), 0);
    assert_int_equal(run->status, SCHED_RUN_WAITING);
    /* Its own wait ends at the next tick at the latest. */
    assert_int_equal(sched_next_wakeup_ms(s), at_ms("2026-01-01T11:00:00Z"));
    run_and_finish(s, &r, "d", SCHED_RUN_COMPLETED);
    const struct event *e = last_event(r.events, "j");
    assert_int_equal(e->status, SCHED_RUN_RUNNING);
    assert_int_equal(e->run_id, 42);
    /* New ids continue after the restored one. */
    assert_int_equal(sched_job_run_now(s, "d", r.now_ms, &run), 0);
    assert_true(run->id > 42);
    free_sched(s, &r);
}

static void test_history_gates_after_restart(void **state)
{
    (void)state;
    struct rec r = {.now_ms = at_ms("2026-01-01T10:00:00Z")};
    struct sched *s = new_sched(&r);
    const char *a[] = {"a"};
    put_job(s, "a", NULL, NULL, 0, 0, at_ms("2026-01-01T00:00:00Z"));
    put_job(s, "b", NULL, a, 1, 0, at_ms("2026-01-01T00:00:00Z"));
    /* a completed after b's last start, and the daemon died before b ran. */
    struct sched_job_history ha = {.last_completed_ms = at_ms("2026-01-01T09:00:00Z")};
    struct sched_job_history hb = {.last_started_ms = at_ms("2026-01-01T08:00:00Z")};
    sched_job_set_history(s, "a", &ha);
    sched_job_set_history(s, "b", &hb);
    assert_int_equal(sched_job_deps_check(s, "b", r.now_ms), 0);
    assert_int_equal(last_event(r.events, "b")->status, SCHED_RUN_RUNNING);
    /* Had b started after it, nothing would have run. */
    struct sched_job_history later = {.last_started_ms = at_ms("2026-01-01T09:30:00Z")};
    put_job(s, "c", NULL, a, 1, 0, at_ms("2026-01-01T00:00:00Z"));
    sched_job_set_history(s, "c", &later);
    sched_job_deps_check(s, "c", r.now_ms);
    assert_null(last_event(r.events, "c"));
    assert_int_equal(sched_job_deps_check(s, "nope", r.now_ms), -ENOENT);
    free_sched(s, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_runs_in_order),
        cmocka_unit_test(test_same_millisecond_keeps_order),
        cmocka_unit_test(test_diamond_join_waits_for_both),
        cmocka_unit_test(test_failure_marks_downstream),
        cmocka_unit_test(test_time_gated_waits_then_skips),
        cmocka_unit_test(test_dependency_timeout),
        cmocka_unit_test(test_waiting_run_survives_restart),
        cmocka_unit_test(test_history_gates_after_restart),
    };
    return cmocka_run_group_tests_name("sched_deps", tests, NULL, NULL);
}
