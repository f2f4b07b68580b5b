/*
 * test_sched - the scheduling core on a fake clock: months of cron ticks in
 * milliseconds, retries against the cenkalti formula, forbid and replace, the
 * global cap, timeouts, misfire after a simulated week down, DST days, and
 * live changes to the schedule.  The clock is only ever moved by the test.
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

struct started {
    uint64_t run_id;
    char job_id[32];
    int64_t scheduled_at_ms;
    int64_t at_ms; /* when the attempt started */
    int attempt;
};

struct recorder {
    GArray *started;   /* struct started */
    GArray *stopped;   /* uint64_t run ids */
    GArray *finals;    /* struct sched_run copies of final runs (job_id not kept) */
    GArray *decisions; /* struct sched_decision (job_id not kept) */
    GArray *prepared;  /* struct started: at_ms is when it was prepared */
    GArray *discarded; /* uint64_t run ids */
    int64_t now_ms;
};

static void on_prepare(void *ctx, struct sched_run *run)
{
    struct recorder *rec = ctx;
    struct started s = {run->id, "", run->scheduled_at_ms, rec->now_ms, run->attempt};
    g_strlcpy(s.job_id, run->job_id, sizeof(s.job_id));
    assert_int_equal(run->status, SCHED_RUN_PENDING);
    g_array_append_val(rec->prepared, s);
}

static void on_discard(void *ctx, struct sched_run *run)
{
    struct recorder *rec = ctx;
    g_array_append_val(rec->discarded, run->id);
}

static void on_start(void *ctx, struct sched_run *run)
{
    struct recorder *rec = ctx;
    struct started s = {run->id, "", run->scheduled_at_ms, rec->now_ms, run->attempt};
    g_strlcpy(s.job_id, run->job_id, sizeof(s.job_id));
    g_array_append_val(rec->started, s);
}

static void on_stop(void *ctx, struct sched_run *run)
{
    struct recorder *rec = ctx;
    g_array_append_val(rec->stopped, run->id);
}

static void on_changed(void *ctx, struct sched_run *run)
{
    struct recorder *rec = ctx;
    if (sched_run_status_is_final(run->status)) {
        struct sched_run copy = *run;
        copy.job = NULL, copy.job_id = NULL;
        g_array_append_val(rec->finals, copy);
    }
}

static void on_decision(void *ctx, const struct sched_decision *d)
{
    struct recorder *rec = ctx;
    struct sched_decision copy = *d;
    copy.job_id = NULL;
    g_array_append_val(rec->decisions, copy);
}

static struct recorder *recorder_new(void)
{
    struct recorder *rec = g_new0(struct recorder, 1);
    rec->started = g_array_new(FALSE, FALSE, sizeof(struct started));
    rec->stopped = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    rec->finals = g_array_new(FALSE, FALSE, sizeof(struct sched_run));
    rec->decisions = g_array_new(FALSE, FALSE, sizeof(struct sched_decision));
    rec->prepared = g_array_new(FALSE, FALSE, sizeof(struct started));
    rec->discarded = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    return rec;
}

static void recorder_free(struct recorder *rec)
{
    g_array_free(rec->started, TRUE);
    g_array_free(rec->stopped, TRUE);
    g_array_free(rec->finals, TRUE);
    g_array_free(rec->decisions, TRUE);
    g_array_free(rec->prepared, TRUE);
    g_array_free(rec->discarded, TRUE);
    g_free(rec);
}

static struct sched *sched_for(struct recorder *rec, const struct sched_config *config)
{
    struct sched_hooks hooks = {rec,         on_start,   on_stop,   on_changed,
                                on_decision, on_prepare, on_discard};
    return sched_new(config, &hooks);
}

static int64_t at_ms(const char *rfc3339)
{
    int64_t at;
    const char *reason;
    assert_int_equal(timefmt_rfc3339_parse(rfc3339, &at, &reason), 0);
    return at * 1000;
}

static const struct tz_zone *zone_get(const char *name)
{
    static struct tz_cache *cache;
    const struct tz_zone *zone = NULL;
    if (!cache)
        cache = tz_cache_new();
    assert_int_equal(tz_cache_get(cache, name, &zone), 0);
    return zone;
}

static struct sched_job_spec spec_for(const char *id, const char *cron, const char *zone)
{
    struct sched_job_spec spec = {.id = id};
    if (cron) {
        assert_int_equal(cron_expr_parse(cron, strlen(cron), &spec.expr, NULL), 0);
        spec.zone = zone_get(zone);
    }
    sched_retry_policy_init(&spec.retry);
    return spec;
}

static void put(struct sched *sched, struct sched_job_spec spec, int64_t now_ms)
{
    assert_int_equal(sched_job_put(sched, &spec, now_ms), 0);
}

/* Move the fake clock from one wake-up to the next until UNTIL_MS, finishing
 * every attempt that starts with FINISH (or leaving it running if FINISH is
 * RUNNING).  Returns the number of wake-ups. */
static int drive(struct sched *sched, struct recorder *rec, int64_t until_ms,
                 enum sched_run_status finish)
{
    int wakeups = 0;
    for (;;) {
        int64_t next = sched_next_wakeup_ms(sched);
        if (next < 0 || next > until_ms)
            break;
        rec->now_ms = next > rec->now_ms ? next : rec->now_ms;
        guint before = rec->started->len;
        sched_advance(sched, rec->now_ms);
        wakeups++;
        for (guint i = before; finish != SCHED_RUN_RUNNING && i < rec->started->len; i++) {
            struct started *s = &g_array_index(rec->started, struct started, i);
            assert_int_equal(sched_run_finished(sched, s->run_id, finish, rec->now_ms), 0);
        }
    }
    rec->now_ms = until_ms > rec->now_ms ? until_ms : rec->now_ms;
    return wakeups;
}

static int count_decisions(const struct recorder *rec, enum sched_decision_kind kind,
                           uint64_t *ret_slots)
{
    int n = 0;
    uint64_t slots = 0;
    for (guint i = 0; i < rec->decisions->len; i++) {
        const struct sched_decision *d = &g_array_index(rec->decisions, struct sched_decision, i);
        if (d->kind == kind)
            n++, slots += d->count;
    }
    if (ret_slots)
        *ret_slots = slots;
    return n;
}

/* A year of Monday 09:00 in New York: every run at the engine's fire time. */
static void test_cron_ticks_for_a_year(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    rec->now_ms = at_ms("2026-01-01T00:00:00Z");
    put(sched, spec_for("weekly-report", "0 9 * * 1", "America/New_York"), rec->now_ms);
    put(sched, spec_for("five-min", "*/5 * * * *", "UTC"), rec->now_ms);
    drive(sched, rec, at_ms("2027-01-01T00:00:00Z"), SCHED_RUN_COMPLETED);
    int weekly = 0, five = 0;
    int64_t last_five = 0;
    for (guint i = 0; i < rec->started->len; i++) {
        struct started *s = &g_array_index(rec->started, struct started, i);
        assert_int_equal(s->at_ms, s->scheduled_at_ms); /* started on the dot */
        if (strcmp(s->job_id, "weekly-report") == 0) {
            weekly++;
            /* 09:00 in New York: 14:00Z in winter, 13:00Z in summer. */
            int64_t hour_utc = s->scheduled_at_ms / 1000 % 86400 / 3600;
            assert_true(hour_utc == 13 || hour_utc == 14);
        } else {
            if (last_five)
                assert_int_equal(s->scheduled_at_ms - last_five, 300000);
            last_five = s->scheduled_at_ms;
            five++;
        }
    }
    assert_int_equal(weekly, 52);      /* Mondays of 2026 */
    assert_int_equal(five, 365 * 288); /* every 5 minutes */
    assert_int_equal(rec->finals->len, rec->started->len);
    sched_free(sched);
    recorder_free(rec);
}

/* A run that always fails: attempts at the cenkalti delays, then FAILED. */
static void test_retry_exact_backoff(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    rec->now_ms = 1000000;
    struct sched_job_spec spec = spec_for("flaky", NULL, NULL);
    spec.retry.max_attempts = 5;
    spec.retry.kind = SCHED_BACKOFF_EXPONENTIAL;
    spec.retry.randomization_factor = 0; /* exact delays */
    put(sched, spec, rec->now_ms);
    struct sched_run *run;
    assert_int_equal(sched_job_run_now(sched, "flaky", rec->now_ms, &run), 0);
    assert_int_equal(sched_run_finished(sched, run->id, SCHED_RUN_FAILED, rec->now_ms), 0);
    drive(sched, rec, rec->now_ms + 60000, SCHED_RUN_FAILED);
    /* 500 ms, then x1.5 each time: 750, 1125, 1687.5 (rounded up to 1688). */
    static const int64_t expected_offsets[] = {0, 500, 1250, 2375, 4063};
    assert_int_equal(rec->started->len, 5);
    for (int i = 0; i < 5; i++) {
        struct started *s = &g_array_index(rec->started, struct started, i);
        assert_int_equal(s->attempt, i + 1);
        assert_int_equal(s->at_ms - 1000000, expected_offsets[i]);
    }
    assert_int_equal(rec->finals->len, 1);
    struct sched_run *final = &g_array_index(rec->finals, struct sched_run, 0);
    assert_int_equal(final->status, SCHED_RUN_FAILED);
    assert_int_equal(final->attempt, 5);
    sched_free(sched);
    recorder_free(rec);
}

/* With the default randomization each delay lies in [i(1-f), i(1+f)]. */
static void test_retry_randomized_bounds(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched_config config = {.seed = 42};
    struct sched *sched = sched_for(rec, &config);
    struct sched_job_spec spec = spec_for("flaky", NULL, NULL);
    spec.retry.max_attempts = 8;
    spec.retry.kind = SCHED_BACKOFF_EXPONENTIAL;
    put(sched, spec, 0);
    struct sched_run *run;
    assert_int_equal(sched_job_run_now(sched, "flaky", 0, &run), 0);
    assert_int_equal(sched_run_finished(sched, run->id, SCHED_RUN_FAILED, 0), 0);
    drive(sched, rec, 600000, SCHED_RUN_FAILED);
    assert_int_equal(rec->started->len, 8);
    double interval = 500;
    for (guint i = 1; i < rec->started->len; i++) {
        int64_t delay = g_array_index(rec->started, struct started, i).at_ms -
                        g_array_index(rec->started, struct started, i - 1).at_ms;
        assert_true(delay >= (int64_t)(interval * 0.5) && delay <= (int64_t)(interval * 1.5) + 1);
        interval = interval * 1.5 > 60000 ? 60000 : interval * 1.5;
    }
    sched_free(sched);
    recorder_free(rec);
}

/* max_elapsed stops retrying once elapsed + the next delay would pass it. */
static void test_retry_max_elapsed(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    struct sched_job_spec spec = spec_for("flaky", NULL, NULL);
    spec.retry.max_attempts = 10;
    spec.retry.kind = SCHED_BACKOFF_EXPONENTIAL;
    spec.retry.randomization_factor = 0;
    spec.retry.max_elapsed_ms = 2000;
    put(sched, spec, 0);
    struct sched_run *run;
    assert_int_equal(sched_job_run_now(sched, "flaky", 0, &run), 0);
    assert_int_equal(sched_run_finished(sched, run->id, SCHED_RUN_FAILED, 0), 0);
    drive(sched, rec, 60000, SCHED_RUN_FAILED);
    /* attempts at 0, 500, 1250; at 1250 the next delay 1125 would end at 2375 > 2000. */
    assert_int_equal(rec->started->len, 3);
    assert_int_equal(g_array_index(rec->finals, struct sched_run, 0).status, SCHED_RUN_FAILED);
    sched_free(sched);
    recorder_free(rec);
}

static void test_forbid_skips_while_running(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    rec->now_ms = at_ms("2026-01-01T00:00:30Z");
    struct sched_job_spec spec = spec_for("slow", "* * * * *", "UTC");
    spec.concurrency = SCHED_CONCURRENCY_FORBID;
    put(sched, spec, rec->now_ms);
    drive(sched, rec, at_ms("2026-01-01T00:03:30Z"), SCHED_RUN_RUNNING);
    assert_int_equal(rec->started->len, 1);
    assert_int_equal(count_decisions(rec, SCHED_DECISION_SKIPPED_FORBID, NULL), 2);
    assert_int_equal(sched_job_runs_in_flight(sched, "slow"), 1);
    struct sched_run *run;
    assert_int_equal(sched_job_run_now(sched, "slow", rec->now_ms, &run), -EBUSY);
    sched_free(sched);
    recorder_free(rec);
}

static void test_replace_cancels_the_old_run(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    rec->now_ms = at_ms("2026-01-01T00:00:30Z");
    struct sched_job_spec spec = spec_for("slow", "* * * * *", "UTC");
    spec.concurrency = SCHED_CONCURRENCY_REPLACE;
    put(sched, spec, rec->now_ms);
    drive(sched, rec, at_ms("2026-01-01T00:01:30Z"), SCHED_RUN_RUNNING);
    assert_int_equal(rec->started->len, 1);
    drive(sched, rec, at_ms("2026-01-01T00:02:00Z"), SCHED_RUN_RUNNING);
    /* The second slot asked the first run to stop and started its own. */
    assert_int_equal(rec->stopped->len, 1);
    uint64_t first = g_array_index(rec->started, struct started, 0).run_id;
    assert_int_equal(g_array_index(rec->stopped, uint64_t, 0), first);
    assert_int_equal(rec->started->len, 2);
    assert_int_equal(count_decisions(rec, SCHED_DECISION_REPLACED, NULL), 1);
    /* Its executor then reports the kill: the run ends CANCELLED, not FAILED. */
    assert_int_equal(sched_run_finished(sched, first, SCHED_RUN_FAILED, rec->now_ms), 0);
    assert_int_equal(g_array_index(rec->finals, struct sched_run, 0).status, SCHED_RUN_CANCELLED);
    assert_int_equal(sched_job_runs_in_flight(sched, "slow"), 1);
    sched_free(sched);
    recorder_free(rec);
}

static void test_global_cap(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched_config config = {.max_in_flight = 2};
    struct sched *sched = sched_for(rec, &config);
    rec->now_ms = at_ms("2026-01-01T00:30:00Z");
    char ids[5][16];
    for (int i = 0; i < 5; i++) {
        snprintf(ids[i], sizeof(ids[i]), "job%d", i);
        put(sched, spec_for(ids[i], "0 * * * *", "UTC"), rec->now_ms);
    }
    drive(sched, rec, at_ms("2026-01-01T01:00:00Z"), SCHED_RUN_RUNNING);
    assert_int_equal(rec->started->len, 2);
    assert_int_equal(sched_runs_running(sched), 2);
    uint64_t first = g_array_index(rec->started, struct started, 0).run_id;
    assert_int_equal(sched_run_finished(sched, first, SCHED_RUN_COMPLETED, rec->now_ms + 10), 0);
    assert_int_equal(rec->started->len, 3); /* a pending run took the free place */
    assert_int_equal(sched_runs_running(sched), 2);
    sched_free(sched);
    recorder_free(rec);
}

static void test_timeout_stops_and_records(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    struct sched_job_spec spec = spec_for("sleepy", NULL, NULL);
    spec.timeout_ms = 30000;
    put(sched, spec, 0);
    struct sched_run *run;
    assert_int_equal(sched_job_run_now(sched, "sleepy", 0, &run), 0);
    uint64_t id = run->id;
    assert_int_equal(sched_next_wakeup_ms(sched), 30000);
    drive(sched, rec, 29999, SCHED_RUN_RUNNING);
    assert_int_equal(rec->stopped->len, 0);
    drive(sched, rec, 30000, SCHED_RUN_RUNNING);
    assert_int_equal(rec->stopped->len, 1);
    assert_int_equal(sched_run_finished(sched, id, SCHED_RUN_FAILED, 30050), 0);
    assert_int_equal(rec->finals->len, 1);
    assert_int_equal(g_array_index(rec->finals, struct sched_run, 0).status, SCHED_RUN_TIMED_OUT);
    sched_free(sched);
    recorder_free(rec);
}

/* An hourly job, then a week with the daemon down, under each misfire policy. */
static void misfire_week(enum sched_misfire misfire, int64_t deadline_ms, int *ret_runs,
                         struct recorder **ret_rec)
{
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    int64_t created = at_ms("2026-01-05T00:30:00Z");
    struct sched_job_spec spec = spec_for("hourly", "0 * * * *", "UTC");
    spec.misfire = misfire;
    spec.starting_deadline_ms = deadline_ms;
    put(sched, spec, created);
    rec->now_ms = created + 7 * 86400000LL; /* 2026-01-12T00:30:00Z */
    sched_advance(sched, rec->now_ms);
    *ret_runs = (int)rec->started->len;
    int64_t next;
    assert_int_equal(sched_job_next_fire(sched, "hourly", &next), 0);
    assert_int_equal(next, at_ms("2026-01-12T01:00:00Z"));
    sched_free(sched);
    *ret_rec = rec;
}

static void test_misfire_after_a_week_down(void **state)
{
    (void)state;
    struct recorder *rec;
    int runs;
    uint64_t slots;
    /* 168 hourly slots from 01-05 01:00 to 01-12 00:00 were missed. */
    misfire_week(SCHED_MISFIRE_RUN_ONCE, 0, &runs, &rec);
    assert_int_equal(runs, 1);
    assert_int_equal(g_array_index(rec->started, struct started, 0).scheduled_at_ms,
                     at_ms("2026-01-12T00:00:00Z"));
    assert_int_equal(count_decisions(rec, SCHED_DECISION_COALESCED, &slots), 1);
    assert_int_equal(slots, 167);
    recorder_free(rec);

    misfire_week(SCHED_MISFIRE_SKIP, 0, &runs, &rec);
    assert_int_equal(runs, 0);
    assert_int_equal(count_decisions(rec, SCHED_DECISION_SKIPPED_MISFIRE, &slots), 1);
    assert_int_equal(slots, 168);
    recorder_free(rec);

    misfire_week(SCHED_MISFIRE_RUN_ALL, 0, &runs, &rec);
    assert_int_equal(runs, 101); /* 100 (the cap), then one for the rest */
    assert_int_equal(count_decisions(rec, SCHED_DECISION_COALESCED, &slots), 1);
    assert_int_equal(slots, 67);
    recorder_free(rec);

    /* Every slot is more than 10 minutes late: none may start. */
    misfire_week(SCHED_MISFIRE_RUN_ONCE, 600000, &runs, &rec);
    assert_int_equal(runs, 0);
    assert_int_equal(count_decisions(rec, SCHED_DECISION_SKIPPED_DEADLINE, &slots), 1);
    assert_int_equal(slots, 168);
    recorder_free(rec);
}

/* 02:30 does not exist on 2026-03-08 in New York: the run starts at 03:00 EDT. */
static void test_dst_days(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    rec->now_ms = at_ms("2026-03-07T00:00:00Z");
    put(sched, spec_for("nightly", "30 2 * * *", "America/New_York"), rec->now_ms);
    drive(sched, rec, at_ms("2026-03-10T00:00:00Z"), SCHED_RUN_COMPLETED);
    assert_int_equal(rec->started->len, 3);
    assert_int_equal(g_array_index(rec->started, struct started, 1).scheduled_at_ms,
                     at_ms("2026-03-08T07:00:00Z"));
    assert_int_equal(count_decisions(rec, SCHED_DECISION_SHIFTED_DST, NULL), 1);
    sched_free(sched);
    recorder_free(rec);

    /* And on 2026-11-01 01:30 runs once, at its first occurrence (EDT). */
    rec = recorder_new();
    sched = sched_for(rec, NULL);
    rec->now_ms = at_ms("2026-10-31T12:00:00Z");
    put(sched, spec_for("nightly", "30 1 * * *", "America/New_York"), rec->now_ms);
    drive(sched, rec, at_ms("2026-11-03T00:00:00Z"), SCHED_RUN_COMPLETED);
    assert_int_equal(rec->started->len, 2);
    assert_int_equal(g_array_index(rec->started, struct started, 0).scheduled_at_ms,
                     at_ms("2026-11-01T05:30:00Z"));
    assert_int_equal(g_array_index(rec->started, struct started, 1).scheduled_at_ms,
                     at_ms("2026-11-02T06:30:00Z"));
    sched_free(sched);
    recorder_free(rec);
}

static void test_live_changes(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    int64_t now = at_ms("2026-01-01T10:02:00Z"), next;
    put(sched, spec_for("j", "0 0 * * *", "UTC"), now);
    assert_int_equal(sched_job_next_fire(sched, "j", &next), 0);
    assert_int_equal(next, at_ms("2026-01-02T00:00:00Z"));
    /* An update moves the next fire at once. */
    put(sched, spec_for("j", "*/5 * * * *", "UTC"), now);
    assert_int_equal(sched_job_next_fire(sched, "j", &next), 0);
    assert_int_equal(next, at_ms("2026-01-01T10:05:00Z"));
    assert_int_equal(sched_next_wakeup_ms(sched), next);
    assert_int_equal(sched_job_pause(sched, "j"), 0);
    assert_int_equal(sched_job_next_fire(sched, "j", &next), 0);
    assert_int_equal(next, -1);
    assert_int_equal(sched_next_wakeup_ms(sched), -1);
    /* Resumed an hour later: the slots of the pause are not owed. */
    assert_int_equal(sched_job_resume(sched, "j", now + 3600000), 0);
    assert_int_equal(sched_job_next_fire(sched, "j", &next), 0);
    assert_int_equal(next, at_ms("2026-01-01T11:05:00Z"));
    assert_int_equal(sched_job_remove(sched, "j"), 0);
    assert_int_equal(sched_job_remove(sched, "j"), -ENOENT);
    assert_int_equal(sched_job_count(sched), 0);
    assert_int_equal(sched_next_wakeup_ms(sched), -1);
    sched_free(sched);
    recorder_free(rec);
}

/* A run a crash interrupted is retried only while its policy allows attempts. */
static void test_recover_interrupted(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    struct sched_job_spec spec = spec_for("again", NULL, NULL);
    spec.retry.max_attempts = 3;
    put(sched, spec, 0);
    struct sched_run *run = NULL;
    assert_int_equal(sched_job_recover(sched, "again", 1, 1000, &run), 0);
    assert_int_equal(run->trigger, SCHED_TRIGGER_RECOVERY);
    assert_int_equal(rec->started->len, 1);
    assert_int_equal(g_array_index(rec->started, struct started, 0).attempt, 2);
    assert_int_equal(sched_run_finished(sched, run->id, SCHED_RUN_COMPLETED, 2000), 0);
    assert_int_equal(sched_job_recover(sched, "again", 3, 3000, &run), -ECANCELED);
    /* Two attempts before the crash, three allowed: one more, then FAILED. */
    assert_int_equal(sched_job_recover(sched, "again", 2, 4000, &run), 0);
    uint64_t id = run->id;
    assert_int_equal(sched_run_finished(sched, id, SCHED_RUN_FAILED, 4100), 0);
    assert_null(sched_run_find(sched, id));
    assert_int_equal(g_array_index(rec->finals, struct sched_run, 1).status, SCHED_RUN_FAILED);
    assert_int_equal(g_array_index(rec->finals, struct sched_run, 1).attempt, 3);
    assert_int_equal(sched_job_recover(sched, "nobody", 1, 3000, &run), -ENOENT);
    assert_int_equal(rec->started->len, 2); /* the refused calls started nothing */
    sched_free(sched);
    recorder_free(rec);
}

/* A loop 8 s late for an every-second job: one slot is on time, 7 were missed. */
static void test_late_loop_meets_the_policy(void **state)
{
    (void)state;
    static const struct {
        enum sched_misfire misfire;
        int64_t deadline_ms;
        int runs;
        enum sched_decision_kind kind;
        uint64_t slots;
    } cases[] = {
        {SCHED_MISFIRE_RUN_ONCE, 0, 1, SCHED_DECISION_COALESCED, 7},
        {SCHED_MISFIRE_SKIP, 0, 1, SCHED_DECISION_SKIPPED_MISFIRE, 7},
        {SCHED_MISFIRE_RUN_ALL, 0, 8, SCHED_DECISION_COALESCED, 0},
        {SCHED_MISFIRE_RUN_ONCE, 2000, 1, SCHED_DECISION_SKIPPED_DEADLINE,
         5}, /* 2 s late is in time */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct recorder *rec = recorder_new();
        struct sched *sched = sched_for(rec, NULL);
        struct sched_job_spec spec = spec_for("tick", "* * * * * *", "UTC");
        spec.misfire = cases[i].misfire;
        spec.starting_deadline_ms = cases[i].deadline_ms;
        put(sched, spec, 1000000000);
        sched_advance(sched, 1000000000 + 8000);
        uint64_t slots = 0;
        count_decisions(rec, cases[i].kind, &slots);
        assert_int_equal(rec->started->len, cases[i].runs);
        assert_int_equal(slots, cases[i].slots);
        sched_free(sched);
        recorder_free(rec);
    }
}

/* A one-shot job fires once, whatever happens to it after; before 1970 is due at once. */
static void test_once_fires_once(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    struct sched_job_spec spec = spec_for("once", NULL, NULL);
    spec.once_at_ms = 5000;
    put(sched, spec, 0);
    drive(sched, rec, 10000, SCHED_RUN_COMPLETED);
    assert_int_equal(rec->started->len, 1);
    put(sched, spec, 10000); /* an update that keeps `at` */
    sched_job_pause(sched, "once");
    sched_job_resume(sched, "once", 11000);
    drive(sched, rec, 20000, SCHED_RUN_COMPLETED);
    assert_int_equal(rec->started->len, 1);
    spec.resume_after_ms = 5000; /* a restart after its slot settled */
    put(sched, spec, 20000);
    assert_int_equal(sched_next_wakeup_ms(sched), -1);
    spec = spec_for("old", NULL, NULL);
    spec.once_at_ms = -86400000; /* 1969-12-31 */
    put(sched, spec, 20000);
    assert_int_equal(sched_next_wakeup_ms(sched), 0);
    sched_free(sched);
    recorder_free(rec);
}

/* The core remembers its last next-fire answer for jobs sharing a schedule;
 * an expression freed and another parsed at the same address must not get
 * the old answer (malloc reuses the freed block of the same size). */
static void test_next_fire_memo_forgets_freed_expressions(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_for(rec, NULL);
    int64_t now = at_ms("2026-03-08T00:00:00Z"), next;
    for (int i = 0; i < 50; i++) {
        put(sched, spec_for("a", "0 0 1 1 *", "UTC"), now);
        assert_int_equal(sched_job_next_fire(sched, "a", &next), 0);
        assert_int_equal(next, at_ms("2027-01-01T00:00:00Z"));
        assert_int_equal(sched_job_remove(sched, "a"), 0);
        put(sched, spec_for("b", "0 12 * * *", "UTC"), now);
        assert_int_equal(sched_job_next_fire(sched, "b", &next), 0);
        assert_int_equal(next, at_ms("2026-03-08T12:00:00Z"));
        /* Replacing a job's expression forgets too. */
        put(sched, spec_for("b", "30 6 * * *", "UTC"), now);
        assert_int_equal(sched_job_next_fire(sched, "b", &next), 0);
        assert_int_equal(next, at_ms("2026-03-08T06:30:00Z"));
        assert_int_equal(sched_job_remove(sched, "b"), 0);
    }
    sched_free(sched);
    recorder_free(rec);
}

/* ---- runs written ahead of their slot (lookahead) ---------------------- */

#define LOOKAHEAD_MS 5000

static struct sched *sched_ahead(struct recorder *rec, int max_per_pass)
{
    struct sched_config config = {.lookahead_ms = LOOKAHEAD_MS,
                                  .max_prepare_per_pass = max_per_pass};
    return sched_for(rec, &config);
}

static const struct started *find_prepared(const struct recorder *rec, uint64_t run_id)
{
    for (guint i = 0; i < rec->prepared->len; i++)
        if (g_array_index(rec->prepared, struct started, i).run_id == run_id)
            return &g_array_index(rec->prepared, struct started, i);
    return NULL;
}

static const struct sched_run *find_final(const struct recorder *rec, uint64_t run_id)
{
    for (guint i = 0; i < rec->finals->len; i++)
        if (g_array_index(rec->finals, struct sched_run, i).id == run_id)
            return &g_array_index(rec->finals, struct sched_run, i);
    return NULL;
}

/* A day of a 10-second job: every run is handed over for writing exactly the
 * lookahead before its slot, and the same run starts on the dot. */
static void test_lookahead_prepares_each_run(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_ahead(rec, 0);
    rec->now_ms = at_ms("2026-03-08T00:00:00Z");
    put(sched, spec_for("tick", "*/10 * * * * *", "UTC"), rec->now_ms);
    int64_t next;
    assert_int_equal(sched_job_next_fire(sched, "tick", &next), 0);
    assert_int_equal(next, rec->now_ms + 10000); /* the slot, not the preparation time */
    drive(sched, rec, at_ms("2026-03-09T00:00:00Z"), SCHED_RUN_COMPLETED);
    assert_int_equal(rec->started->len, 8640);
    for (guint i = 0; i < rec->started->len; i++) {
        const struct started *s = &g_array_index(rec->started, struct started, i);
        const struct started *p = find_prepared(rec, s->run_id);
        assert_non_null(p);
        assert_int_equal(p->scheduled_at_ms, s->scheduled_at_ms);
        assert_int_equal(p->at_ms, s->scheduled_at_ms - LOOKAHEAD_MS);
        assert_int_equal(s->at_ms, s->scheduled_at_ms);
    }
    /* Nothing prepared twice, nothing discarded. */
    assert_int_equal(rec->prepared->len, rec->started->len);
    assert_int_equal(rec->discarded->len, 0);
    sched_free(sched);
    recorder_free(rec);
}

/* An update that keeps the slot keeps the run written ahead, but the run
 * retries under the updated policy, as a run created at the slot would. */
static void test_lookahead_takes_the_updated_retry_policy(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_ahead(rec, 0);
    rec->now_ms = at_ms("2026-03-08T00:00:00Z");
    put(sched, spec_for("j", "0 * * * * *", "UTC"), rec->now_ms);
    drive(sched, rec, rec->now_ms + 57000, SCHED_RUN_COMPLETED);
    assert_int_equal(rec->prepared->len, 1);
    struct sched_job_spec spec = spec_for("j", "0 * * * * *", "UTC");
    spec.retry.max_attempts = 3;
    spec.retry.kind = SCHED_BACKOFF_CONSTANT;
    spec.retry.initial_interval_ms = 1000;
    put(sched, spec, rec->now_ms);
    assert_int_equal(rec->discarded->len, 0); /* same slot: the run is kept */
    drive(sched, rec, at_ms("2026-03-08T00:01:10Z"), SCHED_RUN_FAILED);
    /* Three attempts, a second apart, then FAILED. */
    assert_int_equal(rec->started->len, 3);
    for (guint i = 0; i < 3; i++)
        assert_int_equal(g_array_index(rec->started, struct started, i).at_ms,
                         at_ms("2026-03-08T00:01:00Z") + 1000 * (int64_t)i);
    assert_int_equal(rec->finals->len, 1);
    assert_int_equal(g_array_index(rec->finals, struct sched_run, 0).status, SCHED_RUN_FAILED);
    sched_free(sched);
    recorder_free(rec);
}

/* A change to the schedule, a pause or a removal between preparation and
 * slot discards the prepared run; it never starts. */
static void test_lookahead_discards_on_change(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_ahead(rec, 0);
    rec->now_ms = at_ms("2026-03-08T00:00:00Z");
    put(sched, spec_for("j", "0 * * * * *", "UTC"), rec->now_ms);
    drive(sched, rec, rec->now_ms + 57000, SCHED_RUN_COMPLETED);
    assert_int_equal(rec->prepared->len, 1);
    uint64_t first = g_array_index(rec->prepared, struct started, 0).run_id;

    /* Same schedule again (an update of other fields): the run is kept. */
    put(sched, spec_for("j", "0 * * * * *", "UTC"), rec->now_ms);
    assert_int_equal(rec->discarded->len, 0);
    /* Another schedule: discarded, and the new slot gets its own run. */
    put(sched, spec_for("j", "30 * * * * *", "UTC"), rec->now_ms);
    assert_int_equal(rec->discarded->len, 1);
    assert_int_equal(g_array_index(rec->discarded, uint64_t, 0), first);
    drive(sched, rec, rec->now_ms + 40000, SCHED_RUN_COMPLETED);
    assert_int_equal(rec->started->len, 1);
    assert_int_equal(g_array_index(rec->started, struct started, 0).scheduled_at_ms,
                     at_ms("2026-03-08T00:01:30Z"));

    /* Pause after the next preparation: discarded; resume prepares anew. */
    drive(sched, rec, at_ms("2026-03-08T00:02:26Z"), SCHED_RUN_COMPLETED);
    guint prepared = rec->prepared->len;
    assert_int_equal(sched_job_pause(sched, "j"), 0);
    assert_int_equal(rec->discarded->len, 2);
    assert_int_equal(sched_job_resume(sched, "j", rec->now_ms), 0);
    drive(sched, rec, at_ms("2026-03-08T00:02:31Z"), SCHED_RUN_COMPLETED);
    assert_int_equal(rec->prepared->len, prepared + 1);
    assert_int_equal(rec->started->len, 2);

    /* Removal after preparation: discarded too. */
    drive(sched, rec, at_ms("2026-03-08T00:03:26Z"), SCHED_RUN_COMPLETED);
    assert_int_equal(sched_job_remove(sched, "j"), 0);
    assert_int_equal(rec->discarded->len, 3);
    assert_int_equal(sched_next_wakeup_ms(sched), -1);
    sched_free(sched);
    recorder_free(rec);
}

/* Forbid with a run still in flight: the prepared run ends SKIPPED, and the
 * decision names it. */
static void test_lookahead_forbid_skips_prepared(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_ahead(rec, 0);
    rec->now_ms = at_ms("2026-03-08T00:00:00Z");
    struct sched_job_spec spec = spec_for("j", "0 * * * * *", "UTC");
    spec.concurrency = SCHED_CONCURRENCY_FORBID;
    put(sched, spec, rec->now_ms);
    drive(sched, rec, at_ms("2026-03-08T00:02:00Z"), SCHED_RUN_RUNNING);
    assert_int_equal(rec->started->len, 1); /* the 00:01 run still runs */
    assert_int_equal(count_decisions(rec, SCHED_DECISION_SKIPPED_FORBID, NULL), 1);
    uint64_t skipped = 0;
    for (guint i = 0; i < rec->decisions->len; i++) {
        const struct sched_decision *d = &g_array_index(rec->decisions, struct sched_decision, i);
        if (d->kind == SCHED_DECISION_SKIPPED_FORBID)
            skipped = d->run_id;
    }
    assert_non_null(find_prepared(rec, skipped));
    const struct sched_run *final = find_final(rec, skipped);
    assert_non_null(final);
    assert_int_equal(final->status, SCHED_RUN_SKIPPED);
    sched_free(sched);
    recorder_free(rec);
}

/* A loop late past the grace (misfire skip): the prepared run did not run
 * and ends SKIPPED; the decision covers its slot. */
static void test_lookahead_missed_slot(void **state)
{
    (void)state;
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_ahead(rec, 0);
    rec->now_ms = at_ms("2026-03-08T00:00:00Z");
    struct sched_job_spec spec = spec_for("j", "0 0 * * * *", "UTC");
    spec.misfire = SCHED_MISFIRE_SKIP;
    put(sched, spec, rec->now_ms);
    drive(sched, rec, at_ms("2026-03-08T00:59:56Z"), SCHED_RUN_COMPLETED);
    assert_int_equal(rec->prepared->len, 1);
    uint64_t id = g_array_index(rec->prepared, struct started, 0).run_id;
    rec->now_ms = at_ms("2026-03-08T01:30:00Z"); /* the loop stalled for 30 minutes */
    sched_advance(sched, rec->now_ms);
    assert_int_equal(rec->started->len, 0);
    const struct sched_run *final = find_final(rec, id);
    assert_non_null(final);
    assert_int_equal(final->status, SCHED_RUN_SKIPPED);
    uint64_t slots;
    assert_int_equal(count_decisions(rec, SCHED_DECISION_SKIPPED_MISFIRE, &slots), 1);
    assert_int_equal(slots, 1);
    sched_free(sched);
    recorder_free(rec);
}

/* 12,000 jobs due in the same second, at most 5,000 prepared per pass: all
 * are prepared before the slot, over several passes, and all start on it. */
static void test_lookahead_burst_in_chunks(void **state)
{
    (void)state;
    enum { JOBS = 12000, PER_PASS = 5000 };
    struct recorder *rec = recorder_new();
    struct sched *sched = sched_ahead(rec, PER_PASS);
    rec->now_ms = at_ms("2026-03-08T00:00:00Z");
    struct cron_expr *expr;
    assert_int_equal(cron_expr_parse("0 1 0 * * *", 11, &expr, NULL), 0);
    for (int i = 0; i < JOBS; i++) {
        char id[16];
        snprintf(id, sizeof(id), "j%05d", i);
        struct sched_job_spec spec = spec_for(id, NULL, NULL);
        spec.expr = cron_expr_ref(expr);
        spec.zone = zone_get("UTC");
        put(sched, spec, rec->now_ms);
    }
    cron_expr_free(expr);
    int64_t slot = at_ms("2026-03-08T00:01:00Z");
    int passes = 0;
    rec->now_ms = slot - LOOKAHEAD_MS;
    while (sched_next_wakeup_ms(sched) <= rec->now_ms) {
        sched_advance(sched, rec->now_ms);
        passes++;
    }
    assert_int_equal(passes, 3);
    assert_int_equal(rec->prepared->len, JOBS);
    assert_int_equal(sched_next_wakeup_ms(sched), slot);
    drive(sched, rec, slot, SCHED_RUN_COMPLETED);
    assert_int_equal(rec->started->len, JOBS);
    for (guint i = 0; i < rec->started->len; i++) {
        const struct started *s = &g_array_index(rec->started, struct started, i);
        assert_int_equal(s->at_ms, slot);
        assert_non_null(find_prepared(rec, s->run_id));
    }
    sched_free(sched);
    recorder_free(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cron_ticks_for_a_year),
        cmocka_unit_test(test_retry_exact_backoff),
        cmocka_unit_test(test_retry_randomized_bounds),
        cmocka_unit_test(test_retry_max_elapsed),
        cmocka_unit_test(test_forbid_skips_while_running),
        cmocka_unit_test(test_replace_cancels_the_old_run),
        cmocka_unit_test(test_global_cap),
        cmocka_unit_test(test_timeout_stops_and_records),
        cmocka_unit_test(test_misfire_after_a_week_down),
        cmocka_unit_test(test_dst_days),
        cmocka_unit_test(test_live_changes),
        cmocka_unit_test(test_recover_interrupted),
        cmocka_unit_test(test_late_loop_meets_the_policy),
        cmocka_unit_test(test_once_fires_once),
        cmocka_unit_test(test_next_fire_memo_forgets_freed_expressions),
        cmocka_unit_test(test_lookahead_prepares_each_run),
        cmocka_unit_test(test_lookahead_discards_on_change),
        cmocka_unit_test(test_lookahead_takes_the_updated_retry_policy),
        cmocka_unit_test(test_lookahead_forbid_skips_prepared),
        cmocka_unit_test(test_lookahead_missed_slot),
        cmocka_unit_test(test_lookahead_burst_in_chunks),
    };
    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
