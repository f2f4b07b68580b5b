/*
 * backoff - retry policies and their delays.
 *
 * The exponential kind reproduces github.com/cenkalti/backoff/v4
 * ExponentialBackOff v4.3.0, the last v4 release (exponential.go as vendored by
 * r3d5un/islandwind at dee4687b, whose vendor/modules.txt pins v4.3.0; the
 * three functions below read the same in kubernetes' older vendored v4 copy at
 * e94047c9). One NextBackOff() is:
 *
 *     elapsed := Now() - startTime
 *     next := getRandomValueFromInterval(factor, rand.Float64(), currentInterval)
 *     incrementCurrentInterval()          // also when the answer is Stop
 *     if MaxElapsedTime != 0 && elapsed+next > MaxElapsedTime { return Stop }
 *     return next
 *
 * with  incrementCurrentInterval: if float64(cur) >= float64(max)/multiplier
 * then cur = max else cur = Duration(float64(cur) * multiplier), and
 * getRandomValueFromInterval: factor == 0 gives cur; otherwise delta = factor *
 * float64(cur), lo = float64(cur) - delta, hi = float64(cur) + delta, and the
 * answer is Duration(lo + random * (hi - lo + 1)).  Durations are int64
 * nanoseconds and Duration(float64) truncates toward zero, as a C cast does;
 * the code below performs the same IEEE double operations in the same order.
 * Older code (cenkalti/backoff at 07049b92) checked elapsed > MaxElapsedTime
 * before drawing and did not special-case factor 0; v5 moved max elapsed out
 * of NextBackOff into Retry.
 *
 * Exactness needs every double operation rounded on its own: no x87 excess
 * precision (FLT_EVAL_METHOD 0, as on x86-64 and arm64) and no fused
 * multiply-add.  Compilers may fuse a * b + c when the target has FMA (GCC in
 * GNU mode even across statements), so each product that meets an addition
 * passes through a volatile double first.  Go fuses on arm64, where its
 * answers can differ from amd64's by a nanosecond; we match Go on amd64.
 *
 * max_attempts wraps the kind like v4's WithMaxRetries(b, max_attempts - 1):
 * checked before the kind is asked, without advancing it.  Policies hold ms;
 * the state holds ns, and delays go out in ms rounded up.  Every duration is at
 * most SCHED_RETRY_MAX_DURATION_MS (3.2e16 ns, 2^55), so the largest value
 * computed, about 2 * max_interval + elapsed, stays far below INT64_MAX; only
 * the clock difference, which the caller controls, needs clamping.
 */
#include "sched/backoff.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_MS INT64_C(1000000)

static const char *const kind_names[SCHED_BACKOFF_KIND_COUNT] = {
    [SCHED_BACKOFF_NONE] = "none",
    [SCHED_BACKOFF_CONSTANT] = "constant",
    [SCHED_BACKOFF_LINEAR] = "linear",
    [SCHED_BACKOFF_EXPONENTIAL] = "exponential",
};

const char *sched_backoff_kind_to_string(enum sched_backoff_kind kind)
{
    if ((unsigned)kind >= SCHED_BACKOFF_KIND_COUNT)
        return NULL;
    return kind_names[kind];
}

int sched_backoff_kind_from_string(const char *text, enum sched_backoff_kind *ret)
{
    for (int i = 0; i < SCHED_BACKOFF_KIND_COUNT; i++)
        if (strcmp(kind_names[i], text) == 0) {
            *ret = (enum sched_backoff_kind)i;
            return 0;
        }
    return -EINVAL;
}

void sched_retry_policy_init(struct sched_retry_policy *policy)
{
    *policy = (struct sched_retry_policy){
        .max_attempts = SCHED_RETRY_DEFAULT_MAX_ATTEMPTS,
        .kind = SCHED_BACKOFF_EXPONENTIAL,
        .initial_interval_ms = SCHED_RETRY_DEFAULT_INITIAL_INTERVAL_MS,
        .multiplier = SCHED_RETRY_DEFAULT_MULTIPLIER,
        .randomization_factor = SCHED_RETRY_DEFAULT_RANDOMIZATION_FACTOR,
        .max_interval_ms = SCHED_RETRY_DEFAULT_MAX_INTERVAL_MS,
        .max_elapsed_ms = SCHED_RETRY_DEFAULT_MAX_ELAPSED_MS,
    };
}

static int fail(struct sched_retry_policy_error *reterr, const char *field, const char *reason)
{
    if (reterr)
        *reterr = (struct sched_retry_policy_error){field, reason};
    return -EINVAL;
}

/* A duration field: not negative, at most a year. */
static const char *duration_reason(int64_t ms)
{
    if (ms < 0)
        return "must not be negative";
    if (ms > SCHED_RETRY_MAX_DURATION_MS)
        return "must be at most 365d";
    return NULL;
}

int sched_retry_policy_check(const struct sched_retry_policy *policy,
                             struct sched_retry_policy_error *reterr)
{
    const char *reason;

    if (policy->max_attempts < 1)
        return fail(reterr, "retry_policy.max_attempts", "must be at least 1");
    if (policy->max_attempts > SCHED_RETRY_MAX_ATTEMPTS)
        return fail(reterr, "retry_policy.max_attempts", "must be at most 1000");
    if ((unsigned)policy->kind >= SCHED_BACKOFF_KIND_COUNT)
        return fail(reterr, "retry_policy.backoff",
                    "must be one of none, constant, linear, exponential");
    if ((reason = duration_reason(policy->initial_interval_ms)))
        return fail(reterr, "retry_policy.initial_interval", reason);
    /* Written so that NaN fails too. */
    if (!(policy->multiplier >= 1))
        return fail(reterr, "retry_policy.multiplier", "must be at least 1");
    if (!isfinite(policy->multiplier))
        return fail(reterr, "retry_policy.multiplier", "must be finite");
    if (!(policy->randomization_factor >= 0 && policy->randomization_factor <= 1))
        return fail(reterr, "retry_policy.randomization_factor", "must be between 0 and 1");
    if ((reason = duration_reason(policy->max_interval_ms)))
        return fail(reterr, "retry_policy.max_interval", reason);
    if (policy->max_interval_ms < policy->initial_interval_ms)
        return fail(reterr, "retry_policy.max_interval", "must be at least initial_interval");
    if ((reason = duration_reason(policy->max_elapsed_ms)))
        return fail(reterr, "retry_policy.max_elapsed", reason);
    return 0;
}

void sched_retry_policy_error_format(const struct sched_retry_policy_error *err, char *buf,
                                     size_t size)
{
    snprintf(buf, size, "%s: %s", err->field ? err->field : "retry_policy",
             err->reason ? err->reason : "invalid");
}

bool sched_retry_policy_has_retry_after(const struct sched_retry_policy *policy, int attempt)
{
    return attempt < policy->max_attempts;
}

void sched_backoff_start(struct sched_backoff *backoff, const struct sched_retry_policy *policy,
                         int64_t now_ms)
{
    assert(sched_retry_policy_check(policy, NULL) == 0);
    *backoff = (struct sched_backoff){
        .policy = *policy,
        .start_at_ms = now_ms,
        .current_interval_ns = policy->initial_interval_ms * NS_PER_MS,
        .retries = 0,
    };
}

/* X rounded to double, so that no multiply-add can fuse across it. */
static double rounded(double x)
{
    volatile double v = x;
    return v;
}

/* Go's getRandomValueFromInterval. */
static int64_t randomized_ns(double factor, double random01, int64_t current_ns)
{
    if (factor == 0)
        return current_ns;
    double current = (double)current_ns;
    double delta = rounded(factor * current);
    double lo = current - delta;
    double hi = current + delta;
    /* In range: 0 <= lo and the sum is at most 2 * current + 1 < 2^56. */
    return (int64_t)(lo + rounded(random01 * (hi - lo + 1)));
}

/* Go's incrementCurrentInterval. */
static void grow(struct sched_backoff *backoff)
{
    const struct sched_retry_policy *p = &backoff->policy;
    int64_t max_ns = p->max_interval_ms * NS_PER_MS;
    if ((double)backoff->current_interval_ns >= (double)max_ns / p->multiplier)
        backoff->current_interval_ns = max_ns;
    else
        backoff->current_interval_ns =
            (int64_t)((double)backoff->current_interval_ns * p->multiplier);
}

static int64_t linear_ns(const struct sched_retry_policy *p, int retry)
{
    /* initial * retry can pass INT64_MAX ns (a year * 999); compare in ms first. */
    if (p->initial_interval_ms > 0 && retry > p->max_interval_ms / p->initial_interval_ms)
        return p->max_interval_ms * NS_PER_MS;
    int64_t ms = p->initial_interval_ms * retry;
    return (ms < p->max_interval_ms ? ms : p->max_interval_ms) * NS_PER_MS;
}

/* NOW_MS - START_AT_MS in ns, clamped to +-2^61 ns (73 years): well past any
 * max_elapsed plus any delay, so the comparison with max_elapsed comes out as
 * it would unclamped. */
static int64_t elapsed_ns(int64_t now_ms, int64_t start_at_ms)
{
    const int64_t bound_ms = (INT64_C(1) << 61) / NS_PER_MS;
    if (start_at_ms > 0 && now_ms < INT64_MIN + start_at_ms)
        return -bound_ms * NS_PER_MS;
    if (start_at_ms < 0 && now_ms > INT64_MAX + start_at_ms)
        return bound_ms * NS_PER_MS;
    int64_t ms = now_ms - start_at_ms;
    if (ms > bound_ms)
        ms = bound_ms;
    else if (ms < -bound_ms)
        ms = -bound_ms;
    return ms * NS_PER_MS;
}

int sched_backoff_next_ns(struct sched_backoff *backoff, int64_t now_ms, double random01,
                          int64_t *ret_delay_ns)
{
    const struct sched_retry_policy *p = &backoff->policy;
    assert(random01 >= 0 && random01 < 1);

    if (!sched_retry_policy_has_retry_after(p, backoff->retries + 1))
        return -ECANCELED;
    backoff->retries++;

    int64_t elapsed = elapsed_ns(now_ms, backoff->start_at_ms);
    int64_t next;
    switch (p->kind) {
    case SCHED_BACKOFF_NONE:
        next = 0;
        break;
    case SCHED_BACKOFF_CONSTANT:
        next = p->initial_interval_ms * NS_PER_MS;
        break;
    case SCHED_BACKOFF_LINEAR:
        next = linear_ns(p, backoff->retries);
        break;
    case SCHED_BACKOFF_EXPONENTIAL:
    default:
        next = randomized_ns(p->randomization_factor, random01, backoff->current_interval_ns);
        grow(backoff);
        break;
    }
    if (p->max_elapsed_ms != 0 && elapsed + next > p->max_elapsed_ms * NS_PER_MS)
        return -ECANCELED;
    *ret_delay_ns = next;
    return 0;
}

int sched_backoff_next(struct sched_backoff *backoff, int64_t now_ms, double random01,
                       int64_t *ret_delay_ms)
{
    int64_t ns;
    int r = sched_backoff_next_ns(backoff, now_ms, random01, &ns);
    if (r < 0)
        return r;
    *ret_delay_ms = (ns + NS_PER_MS - 1) / NS_PER_MS;
    return 0;
}
