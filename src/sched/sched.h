/*
 * sched - the scheduling core: which run starts when, and what happens to it.
 *
 * Vocabulary (as pg_cron): a *job* is the definition; a *slot* is one instant
 * its schedule names; a *run* is one execution of a slot (or of a manual
 * trigger); an *attempt* is one process of a run, retried per the job's
 * retry_policy.
 *
 * Pure logic: no I/O, no clock, no globals.  Time is always an argument
 * (`now_ms`, Unix milliseconds), randomness comes from a seeded generator in the
 * config, and everything the outside world must do - store a run before its
 * executor starts, start or stop an executor, record a decision - is asked of
 * the caller through struct sched_hooks, synchronously, from inside the call
 * that decided it.  The daemon's loop drives it: after any call, arm one timer
 * for sched_next_wakeup_ms() and call sched_advance() when it fires.
 *
 * Every job with a schedule sits in one timer heap keyed by its next fire
 * time, as do retry and timeout timers of runs, so a create, update, delete,
 * pause or resume changes the live schedule at once in O(log n).
 *
 * Run states:
 *   PENDING   -> RUNNING (capacity free) | CANCELLED
 *   RUNNING   -> COMPLETED | FAILED | TIMED_OUT | CANCELLED | INTERRUPTED,
 *                or RETRYING when the attempt failed and the policy allows more
 *   RETRYING  -> RUNNING (the backoff delay passed) | CANCELLED
 *   SKIPPED   (final: a slot that did not run, with the reason in a decision)
 *   WAITING   -> RUNNING | PENDING (every dependency completed since the job's
 *                previous run started) | SKIPPED (the next tick came first, or
 *                dependency_timeout passed) | UPSTREAM_FAILED (a dependency
 *                failed for good)
 *
 * Dependencies (Chronos semantics, docs/graph.md): a run of job J starts only
 * when every dependency has a COMPLETED run that finished after J's previous
 * run started (after J was created, if it never ran).  A job with a schedule
 * creates a WAITING run at each tick; a job with dependencies and no schedule
 * fires by itself when the last of them completes.  A dependency that fails
 * for good ends its dependents' waiting runs UPSTREAM_FAILED, transitively.
 * Manual runs (RunJob) are not gated.  The core trusts the caller to keep the
 * dependency graph acyclic (src/graph checks every write).
 */
#ifndef OVSCHED_SCHED_SCHED_H
#define OVSCHED_SCHED_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "base/heap.h"
#include "cron/cron.h"
#include "sched/backoff.h"

enum sched_run_status {
    SCHED_RUN_PENDING,
    SCHED_RUN_WAITING,
    SCHED_RUN_RUNNING,
    SCHED_RUN_RETRYING,
    SCHED_RUN_COMPLETED,
    SCHED_RUN_FAILED,
    SCHED_RUN_TIMED_OUT,
    SCHED_RUN_CANCELLED,
    SCHED_RUN_SKIPPED,
    SCHED_RUN_UPSTREAM_FAILED,
    SCHED_RUN_INTERRUPTED,
    SCHED_RUN_STATUS_COUNT,
};

enum sched_concurrency {
    SCHED_CONCURRENCY_ALLOW,
    SCHED_CONCURRENCY_FORBID,
    SCHED_CONCURRENCY_REPLACE
};
enum sched_misfire { SCHED_MISFIRE_RUN_ONCE, SCHED_MISFIRE_SKIP, SCHED_MISFIRE_RUN_ALL };
enum sched_trigger {
    SCHED_TRIGGER_SCHEDULE,   /* a slot of the job's schedule */
    SCHED_TRIGGER_MANUAL,     /* RunJob */
    SCHED_TRIGGER_RECOVERY,   /* retrying a run a crash interrupted */
    SCHED_TRIGGER_DEPENDENCY, /* a job without a schedule: its dependencies completed */
};

/* What the scheduler decided about a slot or a range of slots. */
enum sched_decision_kind {
    SCHED_DECISION_FIRED,              /* a run was created for the slot */
    SCHED_DECISION_SHIFTED_DST,        /* fired, at the end of a DST gap */
    SCHED_DECISION_SKIPPED_DST,        /* a slot inside a DST gap under on_gap: skip, reported
                                          with the fire that follows the gap */
    SCHED_DECISION_SKIPPED_FORBID,     /* a run was still in flight (concurrency forbid) */
    SCHED_DECISION_SKIPPED_MISFIRE,    /* missed (daemon down or late) under misfire skip */
    SCHED_DECISION_SKIPPED_DEADLINE,   /* missed by more than starting_deadline */
    SCHED_DECISION_COALESCED,          /* missed, folded into one run (misfire run_once) */
    SCHED_DECISION_REPLACED,           /* the run in flight was cancelled for this slot */
    SCHED_DECISION_WAITING,            /* a WAITING run: dependencies not completed yet */
    SCHED_DECISION_SKIPPED_DEPENDENCY, /* the next tick or dependency_timeout came first */
    SCHED_DECISION_UPSTREAM_FAILED,    /* a dependency failed for good */
    SCHED_DECISION_KIND_COUNT,
};

const char *sched_run_status_to_string(enum sched_run_status status);
int sched_run_status_from_string(const char *text, enum sched_run_status *ret);
const char *sched_concurrency_to_string(enum sched_concurrency policy);
int sched_concurrency_from_string(const char *text, enum sched_concurrency *ret);
const char *sched_misfire_to_string(enum sched_misfire policy);
int sched_misfire_from_string(const char *text, enum sched_misfire *ret);
const char *sched_decision_kind_to_string(enum sched_decision_kind kind);
bool sched_run_status_is_final(enum sched_run_status status);

struct sched_job;

struct sched_run {
    uint64_t id;
    struct sched_job *job; /* NULL once the job was removed */
    const char *job_id;    /* owned by the run: valid after the job is gone */
    enum sched_run_status status;
    enum sched_trigger trigger;
    int attempt;             /* 1 for the first attempt */
    int resumed_attempts;    /* attempts made before a crash (recovery runs), else 0 */
    int64_t scheduled_at_ms; /* the slot; for manual runs the trigger time */
    int64_t started_at_ms;   /* of the current attempt; 0 before */
    int64_t finished_at_ms;  /* 0 until final */
    int64_t deadline_ms;     /* the current attempt's timeout; 0 = none */
    struct heap_node timer;  /* retry or timeout */
    struct sched_backoff backoff;
    bool cancel_requested;
    enum sched_run_status cancel_as; /* TIMED_OUT or CANCELLED, once requested */
    char *reason; /* owned; why it waits, was skipped or upstream-failed; NULL: none */
};

struct sched_decision {
    const char *job_id;
    enum sched_decision_kind kind;
    int64_t first_slot_ms; /* a range of slots: first == last for one slot */
    int64_t last_slot_ms;
    uint64_t count;     /* slots in the range */
    uint64_t run_id;    /* the run created, if any (0 = none) */
    const char *reason; /* borrowed for the call; NULL: none */
};

/* What the caller does for the core.  Each hook is called synchronously from
 * inside a sched_* call; none may call back into the scheduler. */
struct sched_hooks {
    void *ctx;
    /* RUN must start an attempt now: persist it, then start its executor. */
    void (*run_start)(void *ctx, struct sched_run *run);
    /* RUN's executor must stop (timeout, replace, cancel); the caller reports
     * the end through sched_run_finished() as usual. */
    void (*run_stop)(void *ctx, struct sched_run *run);
    /* RUN changed status (persist it, emit an event). */
    void (*run_changed)(void *ctx, struct sched_run *run);
    /* A decision about a slot (the decision log). */
    void (*decision)(void *ctx, const struct sched_decision *decision);
    /* RUN was created PENDING ahead of its slot (sched_config.lookahead_ms):
     * persist it.  At the slot the same run reaches run_start, or ends through
     * run_changed (SKIPPED: forbid, misfire), or reaches run_discard. */
    void (*run_prepare)(void *ctx, struct sched_run *run);
    /* RUN, prepared, will not run: the job changed, paused or was removed
     * before its slot.  It never started; forget it (it is freed next). */
    void (*run_discard)(void *ctx, struct sched_run *run);
};

struct sched_config {
    int max_in_flight;        /* global cap on RUNNING runs; 0 = no cap */
    int64_t misfire_grace_ms; /* a slot later than this counts as missed (default 60 s) */
    int max_run_all;          /* misfire run_all: most runs per catch-up (default 100) */
    uint64_t first_run_id;    /* ids continue from the store's (default 1) */
    /* > 0 with a run_prepare hook: each scheduled run is created this long
     * before its slot, PENDING, and handed to run_prepare, so the caller can
     * write it ahead; at the slot it starts at once (run_start).  0: runs are
     * created at their slot. */
    int64_t lookahead_ms;
    int max_prepare_per_pass; /* most runs prepared per sched_advance() (default 5000) */
    uint64_t seed;            /* backoff randomization */
};

/* A job as the core needs it.  The caller parses and validates; the core
 * takes ownership of EXPR (also on failure) and borrows ZONE, which must
 * outlive the job. */
struct sched_job_spec {
    const char *id;
    struct cron_expr *expr;     /* NULL: no schedule (manual or one-shot) */
    const struct tz_zone *zone; /* required with EXPR */
    struct cron_dst_policy dst_policy;
    int64_t anchor_at;       /* @every counts from here (Unix s) */
    int64_t once_at_ms;      /* one-shot `at`; 0 = none */
    int64_t resume_after_ms; /* > 0: the next slot is the first after this (the last
                                settled slot before a restart, so slots missed while
                                down meet the misfire policy); 0: after now */
    bool paused;
    enum sched_concurrency concurrency;
    enum sched_misfire misfire;
    int64_t starting_deadline_ms; /* 0 = none */
    int64_t timeout_ms;           /* per attempt; 0 = none */
    struct sched_retry_policy retry;
    int64_t campaign_id;     /* the tenant, for the caller (sched_job_campaign()) */
    const char *executor;    /* what runs each attempt, opaque to the core (the daemon's
                                executor JSON); copied; NULL: none */
    const char *const *deps; /* dependency job ids, borrowed for the call */
    size_t dep_count;
    int64_t dependency_timeout_ms; /* a WAITING run's longest wait; 0: until the next tick */
    int64_t baseline_ms;           /* a new job: dependencies must complete after this (its
                                      creation, or its last run's start after a restart) */
};

struct sched;

/* Returns NULL on allocation failure.  CONFIG may be NULL for the defaults. */
struct sched *sched_new(const struct sched_config *config, const struct sched_hooks *hooks);
/* Frees the scheduler, its jobs and its runs; no hook is called. */
void sched_free(struct sched *sched);

/* Create or replace job SPEC->id as of NOW_MS; its next fire time is computed
 * from NOW_MS on (a replaced job keeps its runs in flight).  Returns 0 or
 * -ENOMEM. */
int sched_job_put(struct sched *sched, const struct sched_job_spec *spec, int64_t now_ms);
/* Remove job ID from the schedule; runs in flight go on, detached.  Returns 0
 * or -ENOENT. */
int sched_job_remove(struct sched *sched, const char *id);
int sched_job_pause(struct sched *sched, const char *id);
int sched_job_resume(struct sched *sched, const char *id, int64_t now_ms);

/* Start a manual run of job ID now (concurrency policy and the global cap
 * apply).  Returns 0 with the run in *ret_run, -ENOENT, or -EBUSY when forbid
 * refuses it. */
int sched_job_run_now(struct sched *sched, const char *id, int64_t now_ms,
                      struct sched_run **ret_run);

/* A run of job ID was interrupted by a crash after ATTEMPTS_DONE attempts:
 * start a new run now if the job's retry policy allows another attempt.
 * Returns 0 with the run in *ret_run, -ENOENT, -ECANCELED when the policy
 * allows no more, or -EBUSY when forbid refuses it. */
int sched_job_recover(struct sched *sched, const char *id, int attempts_done, int64_t now_ms,
                      struct sched_run **ret_run);

/* The job's next fire time in ms, or -1 when none is scheduled (paused, no
 * schedule, or the schedule ended).  Returns -ENOENT for an unknown job. */
int sched_job_next_fire(const struct sched *sched, const char *id, int64_t *ret_next_ms);
/* The tenant job ID was put with.  Returns 0 or -ENOENT. */
int sched_job_campaign(const struct sched *sched, const char *id, int64_t *ret_campaign_id);
size_t sched_job_count(const struct sched *sched);
/* Runs of job ID that are not final. */
int sched_job_runs_in_flight(const struct sched *sched, const char *id);

/* The executor of RUN_ID ended: STATUS is COMPLETED, FAILED or TIMED_OUT (a
 * run stopped by the core ends as the core asked: TIMED_OUT or CANCELLED).
 * Retries per policy.  Returns 0, or -ENOENT for an unknown or final run. */
int sched_run_finished(struct sched *sched, uint64_t run_id, enum sched_run_status status,
                       int64_t now_ms);
/* Cancel RUN_ID: pending and retrying runs end at once; running ones are
 * stopped through run_stop.  Returns 0 or -ENOENT. */
int sched_run_cancel(struct sched *sched, uint64_t run_id, int64_t now_ms);
struct sched_run *sched_run_find(const struct sched *sched, uint64_t run_id);
/* The executor text of RUN's job (sched_job_spec.executor), or NULL once the
 * job was removed or when it has none. */
const char *sched_run_executor(const struct sched_run *run);
/* Start nothing more from the queue of runs waiting for capacity (a
 * graceful stop): they stay PENDING for the next start.  Irreversible. */
void sched_hold(struct sched *sched);
/* Runs that are RUNNING now. */
int sched_runs_running(const struct sched *sched);
/* Runs waiting for a free slot under max_in_flight (the queue depth). */
int sched_runs_queued(const struct sched *sched);

/* Do everything due at NOW_MS: fire due slots (misfire and concurrency
 * policies applied), start retries, enforce timeouts, start pending runs when
 * capacity allows.  Returns how many runs were started. */
int sched_advance(struct sched *sched, int64_t now_ms);
/* When sched_advance() next has work: the earliest timer, or -1 when none. */
int64_t sched_next_wakeup_ms(const struct sched *sched);

/* ---- dependencies ------------------------------------------------------- */

/* What the store remembers of a job's runs, handed back after a restart. */
struct sched_job_history {
    int64_t last_started_ms;   /* its latest run's start (or creation); 0: keep */
    int64_t last_completed_ms; /* its latest COMPLETED run's finish; 0: none */
    bool has_last;             /* LAST_STATUS/LAST_FINISHED_MS are known */
    enum sched_run_status last_status;
    int64_t last_finished_ms;
};
int sched_job_set_history(struct sched *sched, const char *id,
                          const struct sched_job_history *history);

/* A WAITING run of job ID (RUN_ID, for SLOT_MS) a previous process left:
 * wait again, until the next tick after the slot or dependency_timeout.
 * Returns 0 with the run in *ret_run, or -ENOENT. */
int sched_job_restore_waiting(struct sched *sched, const char *id, uint64_t run_id, int64_t slot_ms,
                              struct sched_run **ret_run);

/* Start what the dependencies of job ID allow now: its WAITING run, or, for a
 * job without a schedule, a new run.  Call after sched_job_put() (an edit may
 * satisfy it) and after a restart.  Returns 0 or -ENOENT. */
int sched_job_deps_check(struct sched *sched, const char *id, int64_t now_ms);

/* A dependency of a job, as GetJobStatus explains it. */
struct sched_blocker {
    const char *dep_id; /* borrowed from the job */
    bool missing;       /* no such job in the core */
    bool paused;
    bool failed;                       /* its last run failed for good */
    enum sched_run_status last_status; /* valid when has_last */
    bool has_last;
    int64_t last_completed_ms; /* 0: never (since the daemon knows) */
    int64_t since_ms;          /* it must complete after this */
};
/* The dependencies of job ID that are not satisfied, at most MAX into OUT.
 * Returns their count (may exceed MAX), or -ENOENT. */
int sched_job_blockers(const struct sched *sched, const char *id, struct sched_blocker *out,
                       size_t max);
/* The last final status of job ID's runs, if known.  Returns 0, -ENOENT (no
 * such job) or -ENODATA (none known). */
int sched_job_last_status(const struct sched *sched, const char *id,
                          enum sched_run_status *ret_status, int64_t *ret_finished_ms);

#endif
