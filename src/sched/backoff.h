/*
 * backoff - a job's retry policy and the delays between the attempts of a run.
 *
 * Pure: no clock, no globals, no I/O.  Time comes in as `now_ms` (Unix ms, or
 * any one monotonic ms clock used consistently) and randomness as one uniform
 * value in [0, 1) per delay, drawn by the caller (the scheduler core owns the
 * PRNG), so a sequence of delays is exactly reproducible.
 *
 * The policy (SPEC section 2, `metadata.scheduling.retry_policy`):
 *   max_attempts  total attempts of a run, 1 = no retry.
 *   backoff       what the delay before attempt n+1 is, after attempt n failed:
 *     none         0: retry at once.
 *     constant     initial_interval every time.
 *     linear       initial_interval * n (n-th retry), capped at max_interval.
 *     exponential  cenkalti/backoff v4 ExponentialBackOff, reproduced to the
 *                  nanosecond (see backoff.c): initial_interval, multiplied by
 *                  multiplier after each retry up to max_interval, each delay
 *                  randomized within interval * [1 - f, 1 + f].
 *   Constant and linear are not randomized: whoever picks them asked for that
 *   exact delay, and the SPEC ties the randomization factor to exponential.
 *   max_elapsed   for every kind, as Go does it: a retry whose delay would end
 *                 more than max_elapsed after the first attempt started is not
 *                 made (0 = no limit).  Attempt runtimes count.
 *
 * Durations are int64 ms in the policy; the exponential arithmetic runs in int64
 * nanoseconds (Go's time.Duration).  A delay in ms is the exact one rounded up,
 * so a retry never starts earlier than Go's would.
 */
#ifndef OVSCHED_SCHED_BACKOFF_H
#define OVSCHED_SCHED_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sched_backoff_kind {
    SCHED_BACKOFF_NONE,
    SCHED_BACKOFF_CONSTANT,
    SCHED_BACKOFF_LINEAR,
    SCHED_BACKOFF_EXPONENTIAL,
    SCHED_BACKOFF_KIND_COUNT,
};

/* "none", "constant", "linear", "exponential"; NULL for a value out of range. */
const char *sched_backoff_kind_to_string(enum sched_backoff_kind kind);
/* Exact, case-sensitive match of the names above.  Returns 0, or -EINVAL.
 * *ret is written only on success. */
int sched_backoff_kind_from_string(const char *text, enum sched_backoff_kind *ret);

/* The defaults: cenkalti/backoff v4's, and one attempt. */
#define SCHED_RETRY_DEFAULT_MAX_ATTEMPTS         1
#define SCHED_RETRY_DEFAULT_INITIAL_INTERVAL_MS  INT64_C(500)
#define SCHED_RETRY_DEFAULT_MULTIPLIER           1.5
#define SCHED_RETRY_DEFAULT_RANDOMIZATION_FACTOR 0.5
#define SCHED_RETRY_DEFAULT_MAX_INTERVAL_MS      INT64_C(60000)
#define SCHED_RETRY_DEFAULT_MAX_ELAPSED_MS       INT64_C(900000)
/* Limits sched_retry_policy_check() enforces.  Every duration is at most 365
 * days, which keeps all the nanosecond arithmetic far from int64 overflow. */
#define SCHED_RETRY_MAX_ATTEMPTS    1000
#define SCHED_RETRY_MAX_DURATION_MS INT64_C(31536000000)

struct sched_retry_policy {
    int max_attempts;             /* total attempts, 1..1000; 1 = no retry */
    enum sched_backoff_kind kind; /* JSON `backoff` */
    int64_t initial_interval_ms;  /* >= 0 */
    double multiplier;            /* >= 1, finite; exponential only */
    double randomization_factor;  /* 0..1; exponential only */
    int64_t max_interval_ms;      /* >= initial_interval_ms */
    int64_t max_elapsed_ms;       /* >= 0; 0 = no limit */
};

/* Fill POLICY with the defaults: 1 attempt, exponential, 500 ms, x1.5, factor
 * 0.5, at most 60 s, at most 15 min in all.  The kind is exponential so that a
 * policy that only raises max_attempts gets the SPEC's backoff. */
void sched_retry_policy_init(struct sched_retry_policy *policy);

struct sched_retry_policy_error {
    const char *field;  /* static: "retry_policy.multiplier" (JSON names) */
    const char *reason; /* static: "must be at least 1" */
};

/* Check every field against the limits above, in declaration order.  Returns 0,
 * or -EINVAL with the first bad field in *reterr (which may be NULL).  Field
 * names are relative to the job's `metadata.scheduling`. */
int sched_retry_policy_check(const struct sched_retry_policy *policy,
                             struct sched_retry_policy_error *reterr);

/* Write "retry_policy.multiplier: must be at least 1" into BUF. */
void sched_retry_policy_error_format(const struct sched_retry_policy_error *err, char *buf,
                                     size_t size);

/* Whether POLICY allows another attempt after attempt ATTEMPT (1-based) of a
 * run failed, by max_attempts alone (max_elapsed is sched_backoff_next()'s). */
bool sched_retry_policy_has_retry_after(const struct sched_retry_policy *policy, int attempt);

/* The retry state of one run; embedded in it, no resources to release.  The
 * fields are read-only outside backoff.c. */
struct sched_backoff {
    struct sched_retry_policy policy; /* a copy, so a job update leaves runs alone */
    int64_t start_at_ms;              /* when the first attempt started */
    int64_t current_interval_ns;      /* exponential: Go's currentInterval */
    int retries;                      /* sched_backoff_next() calls since start */
};

/* Start the retry state of a run whose first attempt starts at NOW_MS (Go's
 * Reset()).  POLICY must pass sched_retry_policy_check(); it is copied. */
void sched_backoff_start(struct sched_backoff *backoff, const struct sched_retry_policy *policy,
                         int64_t now_ms);

/* Attempt number 1 + BACKOFF->retries failed at NOW_MS: the delay before the
 * next attempt, in ms rounded up from the exact nanoseconds.  RANDOM01 is a
 * uniform value in [0, 1) (Go's rand.Float64()); only exponential with a
 * non-zero factor uses it, but pass one every time.
 *
 * Returns 0 with the delay in *ret_delay_ms, or -ECANCELED when the policy says
 * stop: max_attempts reached (checked first; the state is then left as it is),
 * or the delay would end after max_elapsed (the state has advanced exactly as
 * Go's does on Stop).  *ret_delay_ms is written only on success. */
int sched_backoff_next(struct sched_backoff *backoff, int64_t now_ms, double random01,
                       int64_t *ret_delay_ms);

/* The same, with the exact delay in nanoseconds: what Go's NextBackOff() returns
 * (for exponential), or the other kinds' delays times 1e6. */
int sched_backoff_next_ns(struct sched_backoff *backoff, int64_t now_ms, double random01,
                          int64_t *ret_delay_ns);

#endif
