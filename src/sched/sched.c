/*
 * sched - the scheduling core.  See sched.h for the vocabulary and contract.
 *
 * Two timer heaps: jobs keyed by their next fire time, and runs keyed by their
 * retry or timeout instant.  Jobs live in a hash table by id; runs that are
 * not final live in a hash table by run id and in their job's list.  A run
 * that reaches a final status is handed to run_changed and freed at once: its
 * history belongs to the store.
 *
 * Misfires: when sched_advance() finds a job's slots in the past, a slot later
 * than misfire_grace_ms counts as missed and the job's misfire policy decides
 * (skip, run once for the latest, run each); runs of slots within the grace
 * start as usual.  Missed slots that do not run are reported as one decision
 * per range, with the count, so a week of downtime costs one record, not
 * 10,080.
 */
#include "sched/sched.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MISFIRE_GRACE_MS     60000
#define DEFAULT_MAX_RUN_ALL          100
#define DEFAULT_MAX_PREPARE_PER_PASS 5000

struct sched_job {
    char *id;
    struct cron_schedule schedule; /* expr NULL: no schedule */
    int64_t once_at_ms;
    bool once_done;
    bool paused;
    enum sched_concurrency concurrency;
    enum sched_misfire misfire;
    int64_t starting_deadline_ms;
    int64_t timeout_ms;
    struct sched_retry_policy retry;
    char *executor;
    int64_t campaign_id;
    /* Key: the next slot (ms), or, with a lookahead and before that slot's run
     * is prepared, the slot minus the lookahead (see job_prepare()). */
    struct heap_node timer;
    struct cron_fire next;      /* valid while timer is queued */
    int64_t slot_ms;            /* the next slot, valid while timer is queued */
    struct sched_run *prepared; /* the run written ahead for slot_ms, or NULL */
    GList *runs;                /* runs not final, oldest first */
    struct sched_job_dep *dep;  /* NULL until it takes part in a dependency */
};

/* What dependency gating needs of a job, allocated only for jobs that have
 * dependencies or are one (a million independent jobs pay one pointer). */
struct sched_job_dep {
    char **deps; /* dependency ids (NULL-terminated), NULL: none */
    int64_t dependency_timeout_ms;
    int64_t baseline_us;       /* dependencies must complete after this (dep_now()) */
    int64_t last_completed_us; /* when its latest COMPLETED run finished (dep_now()) */
    bool has_last;
    enum sched_run_status last_status;
    int64_t last_finished_ms;
};

static const struct sched_job_dep no_dep;

/* JOB's dependency state for reading: zeros when it has none. */
static const struct sched_job_dep *rd(const struct sched_job *job)
{
    return job->dep ? job->dep : &no_dep;
}

/* JOB's dependency state for writing, allocated on first use. */
static struct sched_job_dep *job_dep(struct sched_job *job)
{
    if (!job->dep)
        job->dep = g_new0(struct sched_job_dep, 1);
    return job->dep;
}

/* The last next-fire computation (next_fire()).  An expression is freed only
 * with its last holder; the memo could outlive it (and a new expression take
 * its address), so every job that drops an expression clears the memo. */
struct next_memo {
    bool valid;
    struct cron_schedule schedule;
    int64_t after_s;
    int result;
    struct cron_fire fire;
};

struct sched {
    struct sched_config config;
    struct next_memo memo;
    struct sched_hooks hooks;
    GHashTable *jobs; /* id -> struct sched_job */
    GHashTable *runs; /* &run->id -> struct sched_run, not final */
    struct heap job_timers;
    struct heap run_timers;
    GQueue pending; /* runs waiting for a free slot under max_in_flight */
    int running;
    uint64_t attempts_started; /* for sched_advance()'s count */
    uint64_t next_run_id;
    uint64_t tie;
    int prepared_in_pass;
    bool held; /* sched_hold(): no more starts */
    uint64_t rng;
    GHashTable *dependents; /* dependency id -> GPtrArray of dependent ids (owned) */
    int64_t dep_clock;      /* the last dep_now() */
    int cascade_depth;      /* guards the upstream-failure recursion */
};

/* The instant of a start or a completion for dependency gating: real time in
 * microseconds, made strictly increasing, so a completion and a start in the
 * same millisecond keep their order (Chronos: "finished after it started"). */
static int64_t dep_now(struct sched *sched, int64_t now_ms)
{
    int64_t at = now_ms * 1000;
    if (at <= sched->dep_clock)
        at = sched->dep_clock + 1;
    sched->dep_clock = at;
    return at;
}

static void deps_after_end(struct sched *sched, const char *job_id, enum sched_run_status status,
                           uint64_t run_id, int64_t now_ms);

/* ---- string tables ---------------------------------------------------- */

static const char *const run_status_names[] = {
    "PENDING",   "WAITING",   "RUNNING", "RETRYING",        "COMPLETED",   "FAILED",
    "TIMED_OUT", "CANCELLED", "SKIPPED", "UPSTREAM_FAILED", "INTERRUPTED",
};
static const char *const concurrency_names[] = {"allow", "forbid", "replace"};
static const char *const misfire_names[] = {"run_once", "skip", "run_all"};
static const char *const decision_names[] = {
    "fired",
    "shifted: dst",
    "skipped: dst",
    "skipped: forbid",
    "skipped: misfire",
    "skipped: deadline",
    "coalesced: misfire",
    "replaced",
    "waiting: dependencies",
    "skipped: dependency timeout",
    "upstream failed",
};

static int lookup(const char *const *names, int count, const char *text)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], text) == 0)
            return i;
    return -EINVAL;
}

#define STRING_TABLE(type, prefix, names)                                                          \
    const char *prefix##_to_string(type value)                                                     \
    {                                                                                              \
        return (size_t)value < G_N_ELEMENTS(names) ? names[value] : "unknown";                     \
    }                                                                                              \
    int prefix##_from_string(const char *text, type *ret)                                          \
    {                                                                                              \
        int i = lookup(names, (int)G_N_ELEMENTS(names), text);                                     \
        if (i < 0)                                                                                 \
            return i;                                                                              \
        *ret = (type)i;                                                                            \
        return 0;                                                                                  \
    }

STRING_TABLE(enum sched_run_status, sched_run_status, run_status_names)
STRING_TABLE(enum sched_concurrency, sched_concurrency, concurrency_names)
STRING_TABLE(enum sched_misfire, sched_misfire, misfire_names)

const char *sched_decision_kind_to_string(enum sched_decision_kind kind)
{
    return (size_t)kind < G_N_ELEMENTS(decision_names) ? decision_names[kind] : "unknown";
}

bool sched_run_status_is_final(enum sched_run_status status)
{
    return status == SCHED_RUN_COMPLETED || status == SCHED_RUN_FAILED ||
           status == SCHED_RUN_TIMED_OUT || status == SCHED_RUN_CANCELLED ||
           status == SCHED_RUN_SKIPPED || status == SCHED_RUN_UPSTREAM_FAILED ||
           status == SCHED_RUN_INTERRUPTED;
}

/* ---- small helpers ---------------------------------------------------- */

/* NOW_MS + DELTA_MS as a timer key, saturating instead of overflowing. */
static int64_t key_after(int64_t now_ms, int64_t delta_ms)
{
    int64_t key = delta_ms > INT64_MAX / 2 - now_ms ? INT64_MAX / 2 : now_ms + delta_ms;
    return key < 0 ? 0 : key;
}

/* Uniform in [0, 1) from a xorshift64* state: the backoff's randomization. */
static double random01(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (double)((*state * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

static void decide_why(struct sched *sched, const char *job_id, enum sched_decision_kind kind,
                       int64_t first_ms, int64_t last_ms, uint64_t count, uint64_t run_id,
                       const char *reason)
{
    if (!sched->hooks.decision)
        return;
    struct sched_decision d = {job_id, kind, first_ms, last_ms, count, run_id, reason};
    sched->hooks.decision(sched->hooks.ctx, &d);
}

static void decide(struct sched *sched, const char *job_id, enum sched_decision_kind kind,
                   int64_t first_ms, int64_t last_ms, uint64_t count, uint64_t run_id)
{
    decide_why(sched, job_id, kind, first_ms, last_ms, count, run_id, NULL);
}

static void changed(struct sched *sched, struct sched_run *run)
{
    if (sched->hooks.run_changed)
        sched->hooks.run_changed(sched->hooks.ctx, run);
}

static bool has_capacity(const struct sched *sched)
{
    return !sched->held &&
           (sched->config.max_in_flight <= 0 || sched->running < sched->config.max_in_flight);
}

void sched_hold(struct sched *sched)
{
    sched->held = true;
}

/* ---- runs ------------------------------------------------------------- */

static void run_free(struct sched_run *run)
{
    if (!run)
        return;
    g_free((char *)run->job_id);
    g_free(run->reason);
    g_free(run);
}

static struct sched_run *run_new(struct sched *sched, struct sched_job *job,
                                 enum sched_trigger trigger, int64_t scheduled_at_ms)
{
    struct sched_run *run = g_new0(struct sched_run, 1);
    run->id = sched->next_run_id++;
    run->job = job;
    run->job_id = g_strdup(job->id);
    run->status = SCHED_RUN_PENDING;
    run->trigger = trigger;
    run->attempt = 0;
    run->scheduled_at_ms = scheduled_at_ms;
    heap_node_init(&run->timer);
    /* The policy is copied now, so a run outlives changes to (or the removal
     * of) its job; the clock restarts when the first attempt starts. */
    sched_backoff_start(&run->backoff, &job->retry, scheduled_at_ms);
    g_hash_table_insert(sched->runs, &run->id, run);
    job->runs = g_list_append(job->runs, run);
    return run;
}

/* RUN reached a final status: report it, then forget it. */
static void run_end(struct sched *sched, struct sched_run *run, enum sched_run_status status,
                    int64_t now_ms)
{
    heap_remove(&sched->run_timers, &run->timer);
    g_queue_remove(&sched->pending, run);
    run->status = status;
    run->finished_at_ms = now_ms;
    changed(sched, run);
    struct sched_job *job = run->job;
    if (job) {
        job->runs = g_list_remove(job->runs, run);
        if (job->dep || g_hash_table_contains(sched->dependents, job->id)) {
            struct sched_job_dep *dep = job_dep(job);
            dep->has_last = true;
            dep->last_status = status;
            dep->last_finished_ms = now_ms;
            if (status == SCHED_RUN_COMPLETED)
                dep->last_completed_us = dep_now(sched, now_ms);
        }
    }
    char *job_id = g_strdup(run->job_id);
    uint64_t run_id = run->id;
    g_hash_table_steal(sched->runs, &run->id);
    run_free(run);
    if (job)
        deps_after_end(sched, job_id, status, run_id, now_ms);
    g_free(job_id);
}

static void run_start_attempt(struct sched *sched, struct sched_run *run, int64_t now_ms)
{
    run->attempt++;
    run->status = SCHED_RUN_RUNNING;
    run->started_at_ms = now_ms;
    run->cancel_requested = false;
    if (run->attempt == run->resumed_attempts + 1) {
        sched_backoff_start(&run->backoff, &run->backoff.policy, now_ms);
        /* A recovered run counts the attempts made before the crash. */
        for (int i = 0; i < run->resumed_attempts; i++) {
            int64_t ignored;
            sched_backoff_next(&run->backoff, now_ms, 0.5, &ignored);
        }
    }
    int64_t timeout = run->job ? run->job->timeout_ms : 0;
    run->deadline_ms = timeout > 0 ? key_after(now_ms, timeout) : 0;
    if (run->deadline_ms)
        heap_add(&sched->run_timers, &run->timer, run->deadline_ms, sched->tie++);
    sched->running++;
    sched->attempts_started++;
    if (sched->hooks.run_start)
        sched->hooks.run_start(sched->hooks.ctx, run);
}

/* Start RUN now if a slot is free, else queue it as PENDING.  Returns 1 when
 * it started. */
static int run_launch(struct sched *sched, struct sched_run *run, int64_t now_ms)
{
    if (has_capacity(sched) && g_queue_is_empty(&sched->pending)) {
        run_start_attempt(sched, run, now_ms);
        return 1;
    }
    run->status = SCHED_RUN_PENDING;
    g_queue_push_tail(&sched->pending, run);
    changed(sched, run);
    return 0;
}

static int start_pending(struct sched *sched, int64_t now_ms)
{
    int started = 0;
    while (has_capacity(sched) && !g_queue_is_empty(&sched->pending)) {
        run_start_attempt(sched, g_queue_pop_head(&sched->pending), now_ms);
        started++;
    }
    return started;
}

/* Ask RUN to stop; AS is what it ends as (TIMED_OUT or CANCELLED). */
static void run_stop(struct sched *sched, struct sched_run *run, enum sched_run_status as,
                     int64_t now_ms)
{
    if (run->status != SCHED_RUN_RUNNING) {
        run_end(sched, run, as, now_ms); /* pending or waiting for a retry */
        return;
    }
    if (run->cancel_requested)
        return;
    run->cancel_requested = true;
    run->cancel_as = as;
    heap_remove(&sched->run_timers, &run->timer);
    if (sched->hooks.run_stop)
        sched->hooks.run_stop(sched->hooks.ctx, run);
}

/* ---- jobs ------------------------------------------------------------- */

static void job_free(struct sched_job *job)
{
    if (!job)
        return;
    for (GList *l = job->runs; l; l = l->next)
        ((struct sched_run *)l->data)->job = NULL;
    if (job->prepared)
        job->prepared->job = NULL;
    g_list_free(job->runs);
    if (job->dep)
        g_strfreev(job->dep->deps);
    g_free(job->dep);
    cron_expr_free((struct cron_expr *)job->schedule.expr);
    g_free(job->executor);
    g_free(job->id);
    g_free(job);
}

/* Compute the job's first fire strictly after AFTER_MS and queue it. */
/* cron_schedule_next(), remembering the last answer: jobs due together
 * mostly share their schedule (interned at start-up), so a burst of 100,000
 * computes the next fire once, not 100,000 times. */
static int next_fire(struct sched *sched, const struct cron_schedule *schedule, int64_t after_s,
                     struct cron_fire *ret)
{
    struct next_memo *m = &sched->memo;
    if (m->valid && m->after_s == after_s && m->schedule.expr == schedule->expr &&
        m->schedule.zone == schedule->zone &&
        m->schedule.dst_policy.on_gap == schedule->dst_policy.on_gap &&
        m->schedule.dst_policy.on_overlap == schedule->dst_policy.on_overlap &&
        m->schedule.anchor_at == schedule->anchor_at) {
        *ret = m->fire;
        return m->result;
    }
    int r = cron_schedule_next(schedule, after_s, ret);
    *m = (struct next_memo){true, *schedule, after_s, r, *ret};
    return r;
}

static void job_schedule(struct sched *sched, struct sched_job *job, int64_t after_ms)
{
    bool found = false;
    if (!job->paused && job->schedule.expr) {
        int64_t after_s = after_ms >= 0 ? after_ms / 1000 : -((-after_ms + 999) / 1000);
        found = next_fire(sched, &job->schedule, after_s, &job->next) == 0;
    } else if (!job->paused && job->once_at_ms && !job->once_done) {
        job->next = (struct cron_fire){.at = job->once_at_ms / 1000};
        found = true;
    }
    if (!found) {
        heap_remove(&sched->job_timers, &job->timer);
        return;
    }
    /* Keys are never negative: -1 means "no timer" to sched_next_wakeup_ms()'s
     * callers, and a slot before 1970 is simply due at once. */
    int64_t slot = job->schedule.expr ? job->next.at * 1000 : job->once_at_ms;
    job->slot_ms = slot < 0 ? 0 : slot;
    int64_t key = job->slot_ms;
    bool prepared = job->prepared && job->prepared->scheduled_at_ms == job->slot_ms;
    if (sched->config.lookahead_ms > 0 && sched->hooks.run_prepare && !prepared)
        key = key > sched->config.lookahead_ms ? key - sched->config.lookahead_ms : 0;
    if (heap_node_is_queued(&job->timer))
        heap_update(&sched->job_timers, &job->timer, key, sched->tie++);
    else
        heap_add(&sched->job_timers, &job->timer, key, sched->tie++);
}

static struct sched_job *job_find(const struct sched *sched, const char *id)
{
    return g_hash_table_lookup(sched->jobs, id);
}

/* The run prepared for a slot the job no longer has (the job changed, paused
 * or went) is discarded: it never started and its slot is not owed. */
static void job_drop_stale_prepared(struct sched *sched, struct sched_job *job)
{
    struct sched_run *run = job->prepared;
    if (!run || (heap_node_is_queued(&job->timer) && job->slot_ms == run->scheduled_at_ms))
        return;
    job->prepared = NULL;
    if (sched->hooks.run_discard)
        sched->hooks.run_discard(sched->hooks.ctx, run);
    g_hash_table_steal(sched->runs, &run->id);
    run_free(run);
}

/* Write the run of JOB's next slot ahead of it (run_prepare), so the executor
 * can start the moment the slot comes instead of after a store commit: this
 * is what lets 100,000 runs due in one second all start within it. */
static void job_prepare(struct sched *sched, struct sched_job *job, int64_t now_ms)
{
    (void)now_ms;
    struct sched_run *run = run_new(sched, job, SCHED_TRIGGER_SCHEDULE, job->slot_ms);
    job->runs = g_list_remove(job->runs, run); /* not in flight until it fires */
    job->prepared = run;
    sched->prepared_in_pass++;
    sched->hooks.run_prepare(sched->hooks.ctx, run);
    heap_update(&sched->job_timers, &job->timer, job->slot_ms, sched->tie++);
}

/* Add (or remove) JOB to the dependents lists of its dependencies. */
static void deps_index(struct sched *sched, struct sched_job *job, bool add)
{
    for (char **dep = rd(job)->deps; dep && *dep; dep++) {
        GPtrArray *list = g_hash_table_lookup(sched->dependents, *dep);
        if (add && !list) {
            list = g_ptr_array_new_with_free_func(g_free);
            g_hash_table_insert(sched->dependents, g_strdup(*dep), list);
        }
        if (add) {
            g_ptr_array_add(list, g_strdup(job->id));
            continue;
        }
        for (guint i = 0; list && i < list->len; i++) {
            if (strcmp(g_ptr_array_index(list, i), job->id) == 0) {
                g_ptr_array_remove_index_fast(list, i);
                break;
            }
        }
        if (list && list->len == 0)
            g_hash_table_remove(sched->dependents, *dep);
    }
}

static bool job_is_time_gated(const struct sched_job *job)
{
    return job->schedule.expr || job->once_at_ms;
}

static bool dep_satisfied(const struct sched *sched, const struct sched_job *job, const char *dep)
{
    const struct sched_job *d = job_find(sched, dep);
    return d && rd(d)->last_completed_us > rd(job)->baseline_us;
}

static bool deps_ready(const struct sched *sched, const struct sched_job *job)
{
    for (char **dep = rd(job)->deps; dep && *dep; dep++)
        if (!dep_satisfied(sched, job, *dep))
            return false;
    return true;
}

/* "waiting for a, b to complete": the unsatisfied dependencies. */
static char *deps_waiting_text(const struct sched *sched, const struct sched_job *job)
{
    GString *s = g_string_new("waiting for ");
    bool first = true;
    for (char **dep = rd(job)->deps; dep && *dep; dep++) {
        if (dep_satisfied(sched, job, *dep))
            continue;
        g_string_append_printf(s, "%s%s", first ? "" : ", ", *dep);
        first = false;
    }
    g_string_append(s, " to complete");
    return g_string_free(s, FALSE);
}

int sched_job_put(struct sched *sched, const struct sched_job_spec *spec, int64_t now_ms)
{
    struct sched_job *job = job_find(sched, spec->id);
    bool existed = job != NULL;
    if (!job) {
        job = g_new0(struct sched_job, 1);
        job->id = g_strdup(spec->id);
        heap_node_init(&job->timer);
        g_hash_table_insert(sched->jobs, job->id, job);
    } else {
        sched->memo.valid = false; /* the expression may go: see struct next_memo */
        cron_expr_free((struct cron_expr *)job->schedule.expr);
    }
    job->schedule =
        (struct cron_schedule){spec->expr, spec->zone, spec->dst_policy, spec->anchor_at};
    /* A one-shot job fires once: an update that keeps its `at`, a pause and
     * resume, or a restart after its slot settled does not fire it again. */
    bool fired = job->once_done && job->once_at_ms == spec->once_at_ms;
    job->once_at_ms = spec->once_at_ms;
    job->once_done = fired || (spec->resume_after_ms > 0 && spec->once_at_ms > 0 &&
                               spec->resume_after_ms >= spec->once_at_ms);
    job->paused = spec->paused;
    job->concurrency = spec->concurrency;
    job->misfire = spec->misfire;
    job->starting_deadline_ms = spec->starting_deadline_ms;
    job->timeout_ms = spec->timeout_ms;
    job->retry = spec->retry;
    g_free(job->executor);
    job->executor = g_strdup(spec->executor);
    job->campaign_id = spec->campaign_id;
    deps_index(sched, job, false);
    if (spec->dep_count || job->dep) {
        /* A job that gains its first dependencies by an edit waits for
         * completions after the edit: its earlier runs were not tracked. */
        int64_t baseline = spec->baseline_ms * 1000;
        if ((existed && !job->dep) || (!existed && spec->baseline_ms >= now_ms))
            baseline = dep_now(sched, now_ms); /* created or first gated now */
        struct sched_job_dep *dep = job_dep(job);
        g_strfreev(dep->deps);
        dep->deps = NULL;
        if (spec->dep_count) {
            dep->deps = g_new0(char *, spec->dep_count + 1);
            for (size_t i = 0; i < spec->dep_count; i++)
                dep->deps[i] = g_strdup(spec->deps[i]);
        }
        dep->dependency_timeout_ms = spec->dependency_timeout_ms;
        if (baseline > dep->baseline_us)
            dep->baseline_us = baseline;
    }
    deps_index(sched, job, true);
    job_schedule(sched, job, spec->resume_after_ms > 0 ? spec->resume_after_ms : now_ms);
    job_drop_stale_prepared(sched, job);
    return 0;
}

int sched_job_remove(struct sched *sched, const char *id)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    heap_remove(&sched->job_timers, &job->timer);
    job_drop_stale_prepared(sched, job);
    deps_index(sched, job, false);
    /* A WAITING run cannot start without its job: it goes with it. */
    GList *runs = g_list_copy(job->runs);
    for (GList *l = runs; l; l = l->next)
        if (((struct sched_run *)l->data)->status == SCHED_RUN_WAITING)
            run_end(sched, l->data, SCHED_RUN_CANCELLED, 0);
    g_list_free(runs);
    g_hash_table_steal(sched->jobs, id);
    sched->memo.valid = false; /* the expression may go: see struct next_memo */
    job_free(job);
    return 0;
}

int sched_job_pause(struct sched *sched, const char *id)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    job->paused = true;
    heap_remove(&sched->job_timers, &job->timer);
    job_drop_stale_prepared(sched, job);
    return 0;
}

int sched_job_resume(struct sched *sched, const char *id, int64_t now_ms)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    /* Slots that passed while paused are not owed: a pause means no runs. */
    job->paused = false;
    job_schedule(sched, job, now_ms);
    return 0;
}

int sched_job_campaign(const struct sched *sched, const char *id, int64_t *ret_campaign_id)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    *ret_campaign_id = job->campaign_id;
    return 0;
}

int sched_job_next_fire(const struct sched *sched, const char *id, int64_t *ret_next_ms)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    *ret_next_ms = heap_node_is_queued(&job->timer) ? job->slot_ms : -1;
    return 0;
}

size_t sched_job_count(const struct sched *sched)
{
    return g_hash_table_size(sched->jobs);
}

int sched_job_runs_in_flight(const struct sched *sched, const char *id)
{
    struct sched_job *job = job_find(sched, id);
    return job ? (int)g_list_length(job->runs) : -ENOENT;
}

/* ---- firing ----------------------------------------------------------- */

/* Create and launch a run of JOB for SLOT_MS, under the concurrency policy.
 * Returns the run, or NULL when forbid refused it. */
/* "a, b did not complete in time: CAUSE" for the runs that gave up waiting. */
static char *deps_skip_text(const struct sched *sched, const struct sched_job *job,
                            const char *cause)
{
    GString *s = g_string_new("");
    for (char **dep = rd(job)->deps; dep && *dep; dep++)
        if (!dep_satisfied(sched, job, *dep))
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", *dep);
    g_string_append_printf(s, " did not complete since the job's previous run: %s", cause);
    return g_string_free(s, FALSE);
}

/* RUN gave up waiting for its dependencies: SKIPPED, with the reason. */
static void waiting_skip(struct sched *sched, struct sched_run *run, const char *cause,
                         int64_t now_ms)
{
    g_free(run->reason);
    run->reason = run->job ? deps_skip_text(sched, run->job, cause) : g_strdup(cause);
    decide_why(sched, run->job_id, SCHED_DECISION_SKIPPED_DEPENDENCY, run->scheduled_at_ms,
               run->scheduled_at_ms, 1, run->id, run->reason);
    run_end(sched, run, SCHED_RUN_SKIPPED, now_ms);
}

/* At a new tick, the runs still waiting from earlier ticks give up. */
static void job_skip_waiting(struct sched *sched, struct sched_job *job, int64_t now_ms)
{
    GList *runs = g_list_copy(job->runs);
    for (GList *l = runs; l; l = l->next)
        if (((struct sched_run *)l->data)->status == SCHED_RUN_WAITING)
            waiting_skip(sched, l->data, "the next tick came first", now_ms);
    g_list_free(runs);
}

/* RUN waits for its job's dependencies until they complete, the next tick,
 * or dependency_timeout after its slot. */
static void run_wait(struct sched *sched, struct sched_run *run)
{
    struct sched_job *job = run->job;
    run->status = SCHED_RUN_WAITING;
    g_free(run->reason);
    run->reason = deps_waiting_text(sched, job);
    if (rd(job)->dependency_timeout_ms > 0)
        heap_add(&sched->run_timers, &run->timer,
                 key_after(run->scheduled_at_ms, rd(job)->dependency_timeout_ms), sched->tie++);
}

static struct sched_run *job_fire(struct sched *sched, struct sched_job *job,
                                  enum sched_trigger trigger, int64_t slot_ms, int64_t now_ms,
                                  enum sched_decision_kind kind, int attempts_done)
{
    if (trigger == SCHED_TRIGGER_SCHEDULE)
        job_skip_waiting(sched, job, now_ms);
    struct sched_run *prepared = NULL;
    if (trigger == SCHED_TRIGGER_SCHEDULE && job->prepared &&
        job->prepared->scheduled_at_ms == slot_ms) {
        prepared = job->prepared;
        job->prepared = NULL;
    }
    if (job->runs && job->concurrency == SCHED_CONCURRENCY_FORBID) {
        decide(sched, job->id, SCHED_DECISION_SKIPPED_FORBID, slot_ms, slot_ms, 1,
               prepared ? prepared->id : 0);
        if (prepared)
            run_end(sched, prepared, SCHED_RUN_SKIPPED, now_ms);
        return NULL;
    }
    if (job->runs && job->concurrency == SCHED_CONCURRENCY_REPLACE) {
        GList *old = g_list_copy(job->runs);
        for (GList *l = old; l; l = l->next) {
            struct sched_run *victim = l->data;
            decide(sched, job->id, SCHED_DECISION_REPLACED, victim->scheduled_at_ms,
                   victim->scheduled_at_ms, 1, victim->id);
            run_stop(sched, victim, SCHED_RUN_CANCELLED, now_ms);
        }
        g_list_free(old);
    }
    struct sched_run *run = prepared;
    if (run) {
        job->runs = g_list_append(job->runs, run);
        /* The job may have changed since the run was written ahead (same
         * slot): it retries under the policy of now, as a fresh run would. */
        sched_backoff_start(&run->backoff, &job->retry, slot_ms);
    } else
        run = run_new(sched, job, trigger, slot_ms);
    run->attempt = run->resumed_attempts = attempts_done;
    if (trigger == SCHED_TRIGGER_SCHEDULE && !deps_ready(sched, job)) {
        run_wait(sched, run);
        decide_why(sched, job->id, SCHED_DECISION_WAITING, slot_ms, slot_ms, 1, run->id,
                   run->reason);
        changed(sched, run);
        return run;
    }
    /* Chronos: the next run waits for completions after this one started. */
    if (job->dep)
        job->dep->baseline_us = dep_now(sched, now_ms);
    decide_why(sched, job->id, kind, slot_ms, slot_ms, 1, run->id,
               trigger == SCHED_TRIGGER_DEPENDENCY ? "its dependencies completed" : NULL);
    run_launch(sched, run, now_ms);
    return run;
}

/* Missed slots not (yet) reported, as one range. */
struct missed {
    uint64_t count;
    int64_t first_ms, last_ms;
};

static void missed_add(struct missed *m, int64_t slot_ms)
{
    if (m->count++ == 0)
        m->first_ms = slot_ms;
    m->last_ms = slot_ms;
}

static void missed_report(struct sched *sched, struct sched_job *job, struct missed *m,
                          enum sched_decision_kind kind)
{
    if (m->count)
        decide(sched, job->id, kind, m->first_ms, m->last_ms, m->count, 0);
    *m = (struct missed){0};
}

static bool past_deadline(const struct sched_job *job, int64_t slot_ms, int64_t now_ms)
{
    return job->starting_deadline_ms > 0 && now_ms - slot_ms > job->starting_deadline_ms;
}

/* Slots of one job found missed in one sched_advance(), before they are
 * reported or run. */
struct catch_up {
    struct missed late;      /* past starting_deadline */
    struct missed skipped;   /* misfire skip */
    struct missed coalesced; /* folded into the run of `latest_ms` */
    bool have_latest;
    int64_t latest_ms;
};

/* Report what CU holds and start its one catch-up run (misfire run_once).  With
 * CURRENT, an on-time run follows at once, and run_once folds the missed slots
 * into it instead of running them separately. */
static void catch_up_flush(struct sched *sched, struct sched_job *job, struct catch_up *cu,
                           int64_t now_ms, bool current)
{
    if (current && cu->have_latest && job->misfire == SCHED_MISFIRE_RUN_ONCE) {
        missed_add(&cu->coalesced, cu->latest_ms);
        cu->have_latest = false;
    }
    missed_report(sched, job, &cu->late, SCHED_DECISION_SKIPPED_DEADLINE);
    missed_report(sched, job, &cu->skipped, SCHED_DECISION_SKIPPED_MISFIRE);
    missed_report(sched, job, &cu->coalesced, SCHED_DECISION_COALESCED);
    if (cu->have_latest)
        job_fire(sched, job, SCHED_TRIGGER_SCHEDULE, cu->latest_ms, now_ms, SCHED_DECISION_FIRED,
                 0);
    cu->have_latest = false;
}

/* Every slot of JOB due by NOW_MS, under the misfire policy. */
static void job_fire_due(struct sched *sched, struct sched_job *job, int64_t now_ms)
{
    struct catch_up cu = {0};
    int run_all_left = sched->config.max_run_all;
    while (heap_node_is_queued(&job->timer) && job->slot_ms <= now_ms) {
        int64_t slot_ms = job->slot_ms;
        struct cron_fire fire = job->next;
        if (job->schedule.expr) {
            job_schedule(sched, job, slot_ms);
        } else {
            job->once_done = true;
            heap_remove(&sched->job_timers, &job->timer);
        }
        /* Only the latest due slot can be on time; the ones before it were missed
         * (the daemon was down or the loop was late) and meet the policy. */
        bool latest = !heap_node_is_queued(&job->timer) || job->slot_ms > now_ms;
        if (fire.skipped_gap) /* reported with the fire that follows the gap */
            decide(sched, job->id, SCHED_DECISION_SKIPPED_DST, slot_ms, slot_ms, 1, 0);
        enum sched_decision_kind kind =
            fire.note == CRON_DST_SHIFTED ? SCHED_DECISION_SHIFTED_DST : SCHED_DECISION_FIRED;
        if (past_deadline(job, slot_ms, now_ms)) {
            missed_add(&cu.late, slot_ms);
        } else if (latest && now_ms - slot_ms <= sched->config.misfire_grace_ms) {
            catch_up_flush(sched, job, &cu, now_ms, true); /* missed slots come first */
            job_fire(sched, job, SCHED_TRIGGER_SCHEDULE, slot_ms, now_ms, kind, 0);
        } else if (job->misfire == SCHED_MISFIRE_SKIP) {
            missed_add(&cu.skipped, slot_ms);
        } else if (job->misfire == SCHED_MISFIRE_RUN_ALL && run_all_left > 0) {
            run_all_left--;
            job_fire(sched, job, SCHED_TRIGGER_SCHEDULE, slot_ms, now_ms, kind, 0);
        } else {
            /* run_once, or run_all past its cap: keep the latest, fold the rest. */
            if (cu.have_latest)
                missed_add(&cu.coalesced, cu.latest_ms);
            cu.have_latest = true;
            cu.latest_ms = slot_ms;
        }
    }
    catch_up_flush(sched, job, &cu, now_ms, false);
    /* A run prepared for a slot that was then missed (skipped, coalesced into
     * a later one, past its deadline) did not run: the decisions say why. */
    if (job->prepared && job->prepared->scheduled_at_ms <= now_ms) {
        struct sched_run *run = job->prepared;
        job->prepared = NULL;
        run_end(sched, run, SCHED_RUN_SKIPPED, now_ms);
    }
}

int sched_job_run_now(struct sched *sched, const char *id, int64_t now_ms,
                      struct sched_run **ret_run)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    struct sched_run *run =
        job_fire(sched, job, SCHED_TRIGGER_MANUAL, now_ms, now_ms, SCHED_DECISION_FIRED, 0);
    if (!run)
        return -EBUSY;
    *ret_run = run;
    return 0;
}

int sched_job_recover(struct sched *sched, const char *id, int attempts_done, int64_t now_ms,
                      struct sched_run **ret_run)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    /* Attempts made before the crash count: the run goes on where it stopped. */
    if (attempts_done < 0 || !sched_retry_policy_has_retry_after(&job->retry, attempts_done))
        return -ECANCELED;
    struct sched_run *run = job_fire(sched, job, SCHED_TRIGGER_RECOVERY, now_ms, now_ms,
                                     SCHED_DECISION_FIRED, attempts_done);
    if (!run)
        return -EBUSY;
    *ret_run = run;
    return 0;
}

/* ---- run lifecycle ---------------------------------------------------- */

struct sched_run *sched_run_find(const struct sched *sched, uint64_t run_id)
{
    return g_hash_table_lookup(sched->runs, &run_id);
}

const char *sched_run_executor(const struct sched_run *run)
{
    return run->job ? run->job->executor : NULL;
}

int sched_runs_running(const struct sched *sched)
{
    return sched->running;
}

int sched_runs_queued(const struct sched *sched)
{
    return (int)g_queue_get_length((GQueue *)&sched->pending);
}

/* The attempt of RUN failed: retry per policy, or end with STATUS. */
static void run_failed(struct sched *sched, struct sched_run *run, enum sched_run_status status,
                       int64_t now_ms)
{
    int64_t delay_ms;
    if (sched_backoff_next(&run->backoff, now_ms, random01(&sched->rng), &delay_ms) == 0) {
        run->status = SCHED_RUN_RETRYING;
        heap_add(&sched->run_timers, &run->timer, key_after(now_ms, delay_ms), sched->tie++);
        changed(sched, run);
        return;
    }
    run_end(sched, run, status, now_ms);
}

int sched_run_finished(struct sched *sched, uint64_t run_id, enum sched_run_status status,
                       int64_t now_ms)
{
    struct sched_run *run = sched_run_find(sched, run_id);
    if (!run || run->status != SCHED_RUN_RUNNING)
        return -ENOENT;
    sched->running--;
    heap_remove(&sched->run_timers, &run->timer);
    if (run->cancel_requested)
        status = run->cancel_as;
    if (status == SCHED_RUN_FAILED || status == SCHED_RUN_TIMED_OUT)
        run_failed(sched, run, status, now_ms);
    else
        run_end(sched, run, status, now_ms);
    start_pending(sched, now_ms);
    return 0;
}

int sched_run_cancel(struct sched *sched, uint64_t run_id, int64_t now_ms)
{
    struct sched_run *run = sched_run_find(sched, run_id);
    if (!run)
        return -ENOENT;
    run_stop(sched, run, SCHED_RUN_CANCELLED, now_ms);
    return 0;
}

/* A run timer fired: a retry is due, or an attempt ran out of time. */
static void run_timer_fired(struct sched *sched, struct sched_run *run, int64_t now_ms)
{
    heap_remove(&sched->run_timers, &run->timer);
    if (run->status == SCHED_RUN_WAITING) {
        const struct sched_job *job = run->job;
        bool timeout = job && rd(job)->dependency_timeout_ms > 0 &&
                       now_ms - run->scheduled_at_ms >= rd(job)->dependency_timeout_ms;
        waiting_skip(sched, run, timeout ? "dependency_timeout passed" : "the next tick came first",
                     now_ms);
    } else if (run->status == SCHED_RUN_RETRYING)
        run_launch(sched, run, now_ms);
    else if (run->status == SCHED_RUN_RUNNING)
        run_stop(sched, run, SCHED_RUN_TIMED_OUT, now_ms);
}

int sched_advance(struct sched *sched, int64_t now_ms)
{
    uint64_t started_before = sched->attempts_started;
    struct heap_node *node;
    while ((node = heap_peek(&sched->run_timers)) && node->key <= now_ms)
        run_timer_fired(sched, heap_entry(node, struct sched_run, timer), now_ms);
    sched->prepared_in_pass = 0;
    while ((node = heap_peek(&sched->job_timers)) && node->key <= now_ms) {
        struct sched_job *job = heap_entry(node, struct sched_job, timer);
        if (job->slot_ms <= now_ms)
            job_fire_due(sched, job, now_ms);
        else if (sched->prepared_in_pass < sched->config.max_prepare_per_pass)
            job_prepare(sched, job, now_ms);
        else
            break; /* the rest in the next pass: keep each pass (and commit) short */
    }
    start_pending(sched, now_ms);
    return (int)(sched->attempts_started - started_before);
}

int64_t sched_next_wakeup_ms(const struct sched *sched)
{
    struct heap_node *a = heap_peek(&sched->run_timers), *b = heap_peek(&sched->job_timers);
    if (!a && !b)
        return -1;
    if (!a || !b)
        return a ? a->key : b->key;
    return a->key < b->key ? a->key : b->key;
}

/* ---- lifetime --------------------------------------------------------- */

struct sched *sched_new(const struct sched_config *config, const struct sched_hooks *hooks)
{
    struct sched *sched = g_new0(struct sched, 1);
    if (config)
        sched->config = *config;
    if (sched->config.misfire_grace_ms <= 0)
        sched->config.misfire_grace_ms = DEFAULT_MISFIRE_GRACE_MS;
    if (sched->config.max_run_all <= 0)
        sched->config.max_run_all = DEFAULT_MAX_RUN_ALL;
    if (sched->config.max_prepare_per_pass <= 0)
        sched->config.max_prepare_per_pass = DEFAULT_MAX_PREPARE_PER_PASS;
    sched->next_run_id = sched->config.first_run_id ? sched->config.first_run_id : 1;
    sched->rng = sched->config.seed ? sched->config.seed : UINT64_C(0x9E3779B97F4A7C15);
    if (hooks)
        sched->hooks = *hooks;
    sched->dependents =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    sched->jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)job_free);
    sched->runs =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)run_free);
    heap_init(&sched->job_timers);
    heap_init(&sched->run_timers);
    g_queue_init(&sched->pending);
    return sched;
}

void sched_free(struct sched *sched)
{
    if (!sched)
        return;
    g_queue_clear(&sched->pending);
    /* Jobs first: job_free() detaches the runs it lists, which go next. */
    g_hash_table_destroy(sched->jobs);
    g_hash_table_destroy(sched->runs);
    g_hash_table_destroy(sched->dependents);
    heap_release(&sched->job_timers);
    heap_release(&sched->run_timers);
    g_free(sched);
}

/* ---- dependencies ------------------------------------------------------ */

/* JOB's WAITING run may start: its dependencies completed. */
static void waiting_launch(struct sched *sched, struct sched_run *run, int64_t now_ms)
{
    heap_remove(&sched->run_timers, &run->timer);
    g_free(run->reason);
    run->reason = NULL;
    job_dep(run->job)->baseline_us = dep_now(sched, now_ms);
    decide_why(sched, run->job_id, SCHED_DECISION_FIRED, run->scheduled_at_ms, run->scheduled_at_ms,
               1, run->id, "its dependencies completed");
    run_launch(sched, run, now_ms);
}

static struct sched_run *job_waiting_run(const struct sched_job *job)
{
    for (GList *l = job->runs; l; l = l->next)
        if (((struct sched_run *)l->data)->status == SCHED_RUN_WAITING)
            return l->data;
    return NULL;
}

static void job_deps_check(struct sched *sched, struct sched_job *job, int64_t now_ms)
{
    if (job->paused || !deps_ready(sched, job))
        return;
    struct sched_run *waiting = job_waiting_run(job);
    if (waiting)
        waiting_launch(sched, waiting, now_ms);
    else if (rd(job)->deps && !job_is_time_gated(job))
        job_fire(sched, job, SCHED_TRIGGER_DEPENDENCY, now_ms, now_ms, SCHED_DECISION_FIRED, 0);
}

/* Dependency DEP_ID of JOB failed for good (run DEP_RUN ended DEP_STATUS):
 * JOB's waiting runs end UPSTREAM_FAILED; a job without a schedule, which
 * waits for its dependencies all the time, records one UPSTREAM_FAILED run.
 * Either ending reaches JOB's own dependents in turn (run_end). */
static void job_upstream_failed(struct sched *sched, struct sched_job *job, const char *dep_id,
                                enum sched_run_status dep_status, uint64_t dep_run, int64_t now_ms)
{
    char *reason =
        g_strdup_printf("dependency %s ended %s (run %llu)", dep_id,
                        sched_run_status_to_string(dep_status), (unsigned long long)dep_run);
    GList *victims = NULL;
    for (GList *l = job->runs; l; l = l->next)
        if (((struct sched_run *)l->data)->status == SCHED_RUN_WAITING)
            victims = g_list_append(victims, l->data);
    if (!victims && rd(job)->deps && !job_is_time_gated(job) && !job->paused && !job->runs)
        victims = g_list_append(victims, run_new(sched, job, SCHED_TRIGGER_DEPENDENCY, now_ms));
    for (GList *l = victims; l; l = l->next) {
        struct sched_run *run = l->data;
        g_free(run->reason);
        run->reason = g_strdup(reason);
        decide_why(sched, job->id, SCHED_DECISION_UPSTREAM_FAILED, run->scheduled_at_ms,
                   run->scheduled_at_ms, 1, run->id, reason);
        run_end(sched, run, SCHED_RUN_UPSTREAM_FAILED, now_ms);
    }
    g_list_free(victims);
    g_free(reason);
}

/* A run of JOB_ID ended STATUS: its dependents may start, or fail upstream. */
static void deps_after_end(struct sched *sched, const char *job_id, enum sched_run_status status,
                           uint64_t run_id, int64_t now_ms)
{
    bool completed = status == SCHED_RUN_COMPLETED;
    bool failed = status == SCHED_RUN_FAILED || status == SCHED_RUN_TIMED_OUT ||
                  status == SCHED_RUN_UPSTREAM_FAILED;
    GPtrArray *list = g_hash_table_lookup(sched->dependents, job_id);
    if ((!completed && !failed) || !list || sched->cascade_depth > 10000)
        return;
    /* Starting runs may not change the lists, but a copy costs little. */
    gchar **ids = g_new0(gchar *, list->len + 1);
    for (guint i = 0; i < list->len; i++)
        ids[i] = g_strdup(g_ptr_array_index(list, i));
    sched->cascade_depth++;
    for (gchar **id = ids; *id; id++) {
        struct sched_job *job = job_find(sched, *id);
        if (job && completed)
            job_deps_check(sched, job, now_ms);
        else if (job)
            job_upstream_failed(sched, job, job_id, status, run_id, now_ms);
    }
    sched->cascade_depth--;
    g_strfreev(ids);
}

int sched_job_set_history(struct sched *sched, const char *id,
                          const struct sched_job_history *history)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    struct sched_job_dep *dep = job_dep(job);
    /* Stored times have milliseconds only: a completion in the same
     * millisecond as a start does not count as after it. */
    if (history->last_started_ms * 1000 + 999 > dep->baseline_us)
        dep->baseline_us = history->last_started_ms * 1000 + 999;
    if (history->last_completed_ms * 1000 > dep->last_completed_us)
        dep->last_completed_us = history->last_completed_ms * 1000;
    if (history->has_last) {
        dep->has_last = true;
        dep->last_status = history->last_status;
        dep->last_finished_ms = history->last_finished_ms;
    }
    return 0;
}

int sched_job_restore_waiting(struct sched *sched, const char *id, uint64_t run_id, int64_t slot_ms,
                              struct sched_run **ret_run)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    struct sched_run *run = run_new(sched, job, SCHED_TRIGGER_SCHEDULE, slot_ms);
    g_hash_table_steal(sched->runs, &run->id);
    sched->next_run_id--;
    run->id = run_id;
    g_hash_table_insert(sched->runs, &run->id, run);
    if (run_id >= sched->next_run_id)
        sched->next_run_id = run_id + 1;
    run_wait(sched, run);
    /* The next tick ends it too, even if the job's own timer was missed. */
    struct cron_fire fire;
    int64_t slot_s = slot_ms >= 0 ? slot_ms / 1000 : 0;
    if (job->schedule.expr && cron_schedule_next(&job->schedule, slot_s, &fire) == 0) {
        int64_t tick_ms = fire.at * 1000 < 0 ? 0 : fire.at * 1000;
        if (!heap_node_is_queued(&run->timer))
            heap_add(&sched->run_timers, &run->timer, tick_ms, sched->tie++);
        else if (tick_ms < run->timer.key)
            heap_update(&sched->run_timers, &run->timer, tick_ms, sched->tie++);
    }
    *ret_run = run;
    return 0;
}

int sched_job_deps_check(struct sched *sched, const char *id, int64_t now_ms)
{
    struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    job_deps_check(sched, job, now_ms);
    return 0;
}

int sched_job_blockers(const struct sched *sched, const char *id, struct sched_blocker *out,
                       size_t max)
{
    const struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    int count = 0;
    for (char **dep = rd(job)->deps; dep && *dep; dep++) {
        if (dep_satisfied(sched, job, *dep))
            continue;
        if ((size_t)count < max) {
            const struct sched_job *d = job_find(sched, *dep);
            out[count] = (struct sched_blocker){
                .dep_id = *dep,
                .missing = !d,
                .paused = d && d->paused,
                .has_last = d && rd(d)->has_last,
                .last_status = d ? rd(d)->last_status : SCHED_RUN_PENDING,
                .failed = d && rd(d)->has_last &&
                          (rd(d)->last_status == SCHED_RUN_FAILED ||
                           rd(d)->last_status == SCHED_RUN_TIMED_OUT ||
                           rd(d)->last_status == SCHED_RUN_UPSTREAM_FAILED),
                .last_completed_ms = d ? rd(d)->last_completed_us / 1000 : 0,
                .since_ms = rd(job)->baseline_us / 1000,
            };
        }
        count++;
    }
    return count;
}

int sched_job_last_status(const struct sched *sched, const char *id,
                          enum sched_run_status *ret_status, int64_t *ret_finished_ms)
{
    const struct sched_job *job = job_find(sched, id);
    if (!job)
        return -ENOENT;
    if (!rd(job)->has_last)
        return -ENODATA;
    *ret_status = rd(job)->last_status;
    *ret_finished_ms = rd(job)->last_finished_ms;
    return 0;
}
