/*
 * test_backoff - retry policies: names, defaults, validation, the delays of
 * every kind, and exponential against Go.
 *
 * The golden sequences were printed by Go 1.19 on amd64 running the three
 * functions of cenkalti/backoff v4.3.0's exponential.go (NextBackOff,
 * incrementCurrentInterval, getRandomValueFromInterval) with the clock and
 * rand.Float64() injected.  The random test compares the library with a plain
 * model written here from Go's source: doubles and int64 nanoseconds, the
 * clock as Go's, WithMaxRetries as Go's, on random policies and sequences.
 *
 * OVSCHED_REFERENCE_CASES sets the count (default 100000); OVSCHED_SEED replays.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "sched/backoff.h"
#include "test_util.h"

#define MS INT64_C(1000000) /* ns */

static struct sched_retry_policy defaults(void)
{
    struct sched_retry_policy p;
    sched_retry_policy_init(&p);
    return p;
}

static void test_kind_names(void **state)
{
    (void)state;
    static const char *const names[] = {"none", "constant", "linear", "exponential"};
    for (int i = 0; i < SCHED_BACKOFF_KIND_COUNT; i++) {
        enum sched_backoff_kind kind = SCHED_BACKOFF_KIND_COUNT;
        assert_string_equal(sched_backoff_kind_to_string((enum sched_backoff_kind)i), names[i]);
        assert_int_equal(sched_backoff_kind_from_string(names[i], &kind), 0);
        assert_int_equal(kind, i);
    }
    static const char *const bad[] = {"", "Exponential", "expo", "exponential ", "fixed"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum sched_backoff_kind kind = SCHED_BACKOFF_LINEAR;
        assert_int_equal(sched_backoff_kind_from_string(bad[i], &kind), -EINVAL);
        assert_int_equal(kind, SCHED_BACKOFF_LINEAR); /* untouched on failure */
    }
    assert_null(sched_backoff_kind_to_string(SCHED_BACKOFF_KIND_COUNT));
    assert_null(sched_backoff_kind_to_string((enum sched_backoff_kind) - 1));
}

static void test_defaults(void **state)
{
    (void)state;
    struct sched_retry_policy p = defaults();
    assert_int_equal(p.max_attempts, 1);
    assert_int_equal(p.kind, SCHED_BACKOFF_EXPONENTIAL);
    assert_int_equal(p.initial_interval_ms, 500);
    assert_true(p.multiplier == 1.5);
    assert_true(p.randomization_factor == 0.5);
    assert_int_equal(p.max_interval_ms, 60000);
    assert_int_equal(p.max_elapsed_ms, 900000);
    assert_int_equal(sched_retry_policy_check(&p, NULL), 0);
    /* One attempt: no retry at all. */
    struct sched_backoff b;
    int64_t delay = -7;
    sched_backoff_start(&b, &p, 1000);
    assert_int_equal(sched_backoff_next(&b, 1000, 0.5, &delay), -ECANCELED);
    assert_int_equal(delay, -7);
}

/* ---- exponential against Go ---------------------------------------------- */

static const struct golden_case {
    const char *name;
    int64_t initial_ms, max_interval_ms;
    double multiplier, factor, random;
    int64_t ns[16]; /* 0 ends a shorter list */
} golden_cases[] = {
    {"default, random 0.5",
     500,
     60000,
     1.5,
     0.5,
     0.5,
     {500000000, 750000000, 1125000000, 1687500000, 2531250000, 3796875000, 5695312500, 8542968750,
      12814453125, 19221679687, 28832519530, 43248779295, 60000000000, 60000000000, 60000000000,
      60000000000}},
    {"default, random 0",
     500,
     60000,
     1.5,
     0.5,
     0.0,
     {250000000, 375000000, 562500000, 843750000, 1265625000, 1898437500, 2847656250, 4271484375,
      6407226562, 9610839843, 14416259765, 21624389647, 30000000000, 30000000000, 30000000000,
      30000000000}},
    /* The randomized delay may pass max_interval (Go: "MaxInterval caps the
     * RetryInterval and not the randomized interval"), and by Go's +1 ns. */
    {"default, random 1-2^-53",
     500,
     60000,
     1.5,
     0.5,
     0x1.fffffffffffffp-1,
     {750000001, 1125000001, 1687500000, 2531250001, 3796875000, 5695312501, 8542968750,
      12814453126, 19221679688, 28832519531, 43248779296, 64873168943, 90000000001, 90000000001,
      90000000001, 90000000001}},
    {"factor 0",
     500,
     60000,
     1.5,
     0.0,
     0.5,
     {500000000, 750000000, 1125000000, 1687500000, 2531250000, 3796875000, 5695312500, 8542968750,
      12814453125, 19221679687, 28832519530, 43248779295, 60000000000, 60000000000, 60000000000,
      60000000000}},
    {"odd values",
     7,
     1234,
     1.7,
     0.3,
     0.123456789,
     {5418518, 9211481, 15659518, 26621181, 45256008, 76935214, 130789864, 222342769, 377982707,
      642570603, 955207406, 955207406}},
    /* A fused multiply-add would give ...018 here. */
    {"no fused multiply-add",
     3433335731,
     3433335731,
     1.0000001000000001,
     0.1,
     0.87342465975113492,
     {3689754176432019}},
    /* Past 2^53 ns doubles drop low bits, as Go's do. */
    {"beyond 2^53 ns",
     30247013349,
     30247013349,
     1.5,
     0.25,
     0.85647193958471368,
     {35638119106581376}},
};

static void test_exponential_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(golden_cases); i++) {
        const struct golden_case *c = &golden_cases[i];
        struct sched_retry_policy p = defaults();
        p.max_attempts = SCHED_RETRY_MAX_ATTEMPTS;
        p.initial_interval_ms = c->initial_ms;
        p.max_interval_ms = c->max_interval_ms;
        p.multiplier = c->multiplier;
        p.randomization_factor = c->factor;
        p.max_elapsed_ms = 0;
        struct sched_backoff ns_state, ms_state;
        sched_backoff_start(&ns_state, &p, 5000);
        sched_backoff_start(&ms_state, &p, 5000);
        for (size_t k = 0; k < ARRAY_SIZE(c->ns) && c->ns[k]; k++) {
            int64_t ns = -1, ms = -1;
            assert_int_equal(sched_backoff_next_ns(&ns_state, 5000, c->random, &ns), 0);
            assert_int_equal(sched_backoff_next(&ms_state, 5000, c->random, &ms), 0);
            if (ns != c->ns[k])
                fail_msg("%s, delay %zu: %lld ns, Go %lld ns", c->name, k + 1, (long long)ns,
                         (long long)c->ns[k]);
            assert_int_equal(ms, (c->ns[k] + MS - 1) / MS);
        }
    }
}

/* The delays in ms, as the scheduler sees them: rounded up from the ns. */
static void test_exponential_ms(void **state)
{
    (void)state;
    static const int64_t want[] = {500,  750,   1125,  1688,  2532,  3797,  5696,
                                   8543, 12815, 19222, 28833, 43249, 60000, 60000};
    struct sched_retry_policy p = defaults();
    p.max_attempts = 100;
    p.randomization_factor = 0;
    struct sched_backoff b;
    sched_backoff_start(&b, &p, 0);
    for (size_t k = 0; k < ARRAY_SIZE(want); k++) {
        int64_t ms;
        assert_int_equal(sched_backoff_next(&b, 0, 0.99, &ms), 0);
        assert_int_equal(ms, want[k]);
    }
}

/* Go stops when elapsed + next > MaxElapsedTime, both in ns. */
static const struct stop_case {
    int64_t elapsed_ms;
    double random;
    int64_t max_elapsed_ms;
    bool stops;
} stop_cases[] = {
    {899500, 0.5, 900000, false}, /* 899.5 s + 500 ms: exactly at the limit */
    {899501, 0.5, 900000, true},
    {899249, 0x1.fffffffffffffp-1, 900000, false}, /* + 750000001 ns */
    {899250, 0x1.fffffffffffffp-1, 900000, true},  /* 1 ns over: ms arithmetic would miss it */
    {899750, 0.0, 900000, false},                  /* + 250 ms */
    {899751, 0.0, 900000, true},
    {900001, 0.0, 900000, true},
    {0, 0.5, 1, true},                       /* a limit below the first delay */
    {-5000000, 0.5, 900000, false},          /* the clock went back */
    {INT64_C(3153600000000), 0.5, 0, false}, /* 0 = no limit, even after 100 years */
    {INT64_C(1) << 62, 0.5, 900000, true},   /* far beyond: clamped, no overflow */
    {-(INT64_C(1) << 62), 0.5, 900000, false},
};

static void test_exponential_stop(void **state)
{
    (void)state;
    static const int64_t starts[] = {0, INT64_C(1780000000000), -(INT64_C(1) << 62), INT64_MAX / 2};
    for (size_t i = 0; i < ARRAY_SIZE(stop_cases); i++)
        for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
            const struct stop_case *c = &stop_cases[i];
            /* Keep start + elapsed inside int64: the cases test the rule. */
            int64_t start = starts[s];
            if ((c->elapsed_ms > 0 && start > INT64_MAX - c->elapsed_ms) ||
                (c->elapsed_ms < 0 && start < INT64_MIN - c->elapsed_ms))
                continue;
            struct sched_retry_policy p = defaults();
            p.max_attempts = 10;
            p.max_elapsed_ms = c->max_elapsed_ms;
            struct sched_backoff b;
            sched_backoff_start(&b, &p, start);
            int64_t ns = -7;
            int r = sched_backoff_next_ns(&b, start + c->elapsed_ms, c->random, &ns);
            if (r != (c->stops ? -ECANCELED : 0))
                fail_msg("case %zu, start %lld: got %d", i, (long long)start, r);
            if (c->stops)
                assert_int_equal(ns, -7);
            /* As Go: the interval grows on Stop too. */
            assert_int_equal(b.current_interval_ns, 750 * MS);
        }
}

/* The clock difference itself overflowing int64. */
static void test_extreme_clock(void **state)
{
    (void)state;
    struct sched_retry_policy p = defaults();
    p.max_attempts = 10;
    struct sched_backoff b;
    int64_t ns;
    sched_backoff_start(&b, &p, INT64_MIN);
    assert_int_equal(sched_backoff_next_ns(&b, INT64_MAX, 0.5, &ns), -ECANCELED);
    sched_backoff_start(&b, &p, INT64_MAX);
    assert_int_equal(sched_backoff_next_ns(&b, INT64_MIN, 0.5, &ns), 0);
    assert_int_equal(ns, 500 * MS);
    sched_backoff_start(&b, &p, 1);
    assert_int_equal(sched_backoff_next_ns(&b, INT64_MIN, 0.5, &ns), 0);
    sched_backoff_start(&b, &p, -1);
    assert_int_equal(sched_backoff_next_ns(&b, INT64_MAX, 0.5, &ns), -ECANCELED);
}

/* ---- attempts, and the other kinds ------------------------------------- */

/* Field by field: the struct has padding. */
static void assert_backoff_equal(const struct sched_backoff *a, const struct sched_backoff *b)
{
    assert_int_equal(a->start_at_ms, b->start_at_ms);
    assert_int_equal(a->current_interval_ns, b->current_interval_ns);
    assert_int_equal(a->retries, b->retries);
    assert_int_equal(a->policy.max_attempts, b->policy.max_attempts);
    assert_int_equal(a->policy.kind, b->policy.kind);
    assert_int_equal(a->policy.initial_interval_ms, b->policy.initial_interval_ms);
    assert_true(a->policy.multiplier == b->policy.multiplier);
    assert_true(a->policy.randomization_factor == b->policy.randomization_factor);
    assert_int_equal(a->policy.max_interval_ms, b->policy.max_interval_ms);
    assert_int_equal(a->policy.max_elapsed_ms, b->policy.max_elapsed_ms);
}

static void test_attempts(void **state)
{
    (void)state;
    static const struct {
        int max_attempts, attempt;
        bool more;
    } cases[] = {
        {1, 1, false}, {2, 1, true},  {2, 2, false},     {5, 4, true},
        {5, 5, false}, {5, 6, false}, {1000, 999, true}, {1000, 1000, false},
        {3, 0, true},  {3, -1, true}, /* nonsense in, still an answer */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct sched_retry_policy p = defaults();
        p.max_attempts = cases[i].max_attempts;
        assert_int_equal(sched_retry_policy_has_retry_after(&p, cases[i].attempt), cases[i].more);
    }

    /* sched_backoff_next() hands out max_attempts - 1 delays, then stops
     * without touching the state (Go's WithMaxRetries). */
    for (int max = 1; max <= 6; max++) {
        struct sched_retry_policy p = defaults();
        p.max_attempts = max;
        p.max_elapsed_ms = 0;
        struct sched_backoff b;
        sched_backoff_start(&b, &p, 0);
        int64_t ms;
        for (int attempt = 1; attempt < max; attempt++) {
            assert_true(sched_retry_policy_has_retry_after(&p, attempt));
            assert_int_equal(sched_backoff_next(&b, 0, 0.5, &ms), 0);
        }
        assert_false(sched_retry_policy_has_retry_after(&p, max));
        struct sched_backoff before = b;
        ms = -7;
        assert_int_equal(sched_backoff_next(&b, 0, 0.5, &ms), -ECANCELED);
        assert_int_equal(ms, -7);
        assert_backoff_equal(&before, &b);
        assert_int_equal(b.retries, max - 1);
    }
}

static const struct kind_case {
    const char *name;
    enum sched_backoff_kind kind;
    int64_t initial_ms, max_interval_ms, max_elapsed_ms;
    int64_t elapsed_ms[8]; /* clock at each call, from the start */
    int64_t want_ms[8];    /* -1: stops */
    int calls;
} kind_cases[] = {
    {"none", SCHED_BACKOFF_NONE, 500, 60000, 0, {0, 10, 20, 1000000}, {0, 0, 0, 0}, 4},
    {"none, elapsed", SCHED_BACKOFF_NONE, 500, 60000, 1000, {0, 999, 1000, 1001}, {0, 0, 0, -1}, 4},
    {"constant",
     SCHED_BACKOFF_CONSTANT,
     2000,
     60000,
     0,
     {0, 2000, 4000, 6000, 8000},
     {2000, 2000, 2000, 2000, 2000},
     5},
    {"constant = max",
     SCHED_BACKOFF_CONSTANT,
     60000,
     60000,
     0,
     {0, 60000, 120000},
     {60000, 60000, 60000},
     3},
    {"constant, elapsed",
     SCHED_BACKOFF_CONSTANT,
     2000,
     60000,
     5000,
     {0, 2000, 3000, 3001},
     {2000, 2000, 2000, -1},
     4},
    {"linear",
     SCHED_BACKOFF_LINEAR,
     1500,
     5000,
     0,
     {0, 0, 0, 0, 0, 0},
     {1500, 3000, 4500, 5000, 5000, 5000},
     6},
    {"linear, zero", SCHED_BACKOFF_LINEAR, 0, 0, 0, {0, 0, 0}, {0, 0, 0}, 3},
    {"linear, elapsed",
     SCHED_BACKOFF_LINEAR,
     1000,
     60000,
     10000,
     {0, 1000, 3000, 6000, 7000},
     {1000, 2000, 3000, 4000, -1},
     5},
    {"linear, a year",
     SCHED_BACKOFF_LINEAR,
     SCHED_RETRY_MAX_DURATION_MS,
     SCHED_RETRY_MAX_DURATION_MS,
     0,
     {0, 0, 0},
     {SCHED_RETRY_MAX_DURATION_MS, SCHED_RETRY_MAX_DURATION_MS, SCHED_RETRY_MAX_DURATION_MS},
     3},
};

static void test_other_kinds(void **state)
{
    (void)state;
    static const double randoms[] = {0.0, 0.5, 0x1.fffffffffffffp-1};
    for (size_t i = 0; i < ARRAY_SIZE(kind_cases); i++)
        for (size_t r = 0; r < ARRAY_SIZE(randoms); r++) {
            const struct kind_case *c = &kind_cases[i];
            struct sched_retry_policy p = defaults();
            p.max_attempts = 100;
            p.kind = c->kind;
            p.initial_interval_ms = c->initial_ms;
            p.max_interval_ms = c->max_interval_ms;
            p.max_elapsed_ms = c->max_elapsed_ms;
            p.randomization_factor = 1; /* ignored by these kinds */
            assert_int_equal(sched_retry_policy_check(&p, NULL), 0);
            struct sched_backoff b;
            sched_backoff_start(&b, &p, 1000);
            for (int k = 0; k < c->calls; k++) {
                int64_t ms = -7;
                int ret = sched_backoff_next(&b, 1000 + c->elapsed_ms[k], randoms[r], &ms);
                int64_t got = ret == 0 ? ms : -1;
                if (got != c->want_ms[k] || (ret != 0 && ret != -ECANCELED))
                    fail_msg("%s, call %d: got %lld (ret %d), want %lld", c->name, k + 1,
                             (long long)got, ret, (long long)c->want_ms[k]);
            }
        }
    /* Linear, 999 retries of 1 ms up to a year: no overflow on the way. */
    struct sched_retry_policy p = defaults();
    p.max_attempts = 1000;
    p.kind = SCHED_BACKOFF_LINEAR;
    p.initial_interval_ms = 1;
    p.max_interval_ms = SCHED_RETRY_MAX_DURATION_MS;
    p.max_elapsed_ms = 0;
    struct sched_backoff b;
    sched_backoff_start(&b, &p, 0);
    for (int64_t n = 1; n < 1000; n++) {
        int64_t ms;
        assert_int_equal(sched_backoff_next(&b, 0, 0.5, &ms), 0);
        assert_int_equal(ms, n);
    }
}

/* ---- validation ---------------------------------------------------------- */

enum field_id { F_ATTEMPTS, F_KIND, F_INITIAL, F_MULT, F_FACTOR, F_MAX_INT, F_MAX_EL };

static const struct check_case {
    enum field_id field;
    double value;
    const char *message; /* NULL: valid */
} check_cases[] = {
    {F_ATTEMPTS, 0, "retry_policy.max_attempts: must be at least 1"},
    {F_ATTEMPTS, -3, "retry_policy.max_attempts: must be at least 1"},
    {F_ATTEMPTS, 1001, "retry_policy.max_attempts: must be at most 1000"},
    {F_ATTEMPTS, 1, NULL},
    {F_ATTEMPTS, 1000, NULL},
    {F_KIND, 4, "retry_policy.backoff: must be one of none, constant, linear, exponential"},
    {F_KIND, -1, "retry_policy.backoff: must be one of none, constant, linear, exponential"},
    {F_KIND, 0, NULL},
    {F_INITIAL, -1, "retry_policy.initial_interval: must not be negative"},
    {F_INITIAL, 31536000001.0, "retry_policy.initial_interval: must be at most 365d"},
    {F_INITIAL, 0, NULL},
    {F_INITIAL, 60000, NULL},
    {F_MULT, 0.999, "retry_policy.multiplier: must be at least 1"},
    {F_MULT, 0, "retry_policy.multiplier: must be at least 1"},
    {F_MULT, -2, "retry_policy.multiplier: must be at least 1"},
    {F_MULT, NAN, "retry_policy.multiplier: must be at least 1"},
    {F_MULT, INFINITY, "retry_policy.multiplier: must be finite"},
    {F_MULT, 1, NULL},
    {F_MULT, 1e300, NULL},
    {F_FACTOR, -0.001, "retry_policy.randomization_factor: must be between 0 and 1"},
    {F_FACTOR, 1.001, "retry_policy.randomization_factor: must be between 0 and 1"},
    {F_FACTOR, NAN, "retry_policy.randomization_factor: must be between 0 and 1"},
    {F_FACTOR, 0, NULL},
    {F_FACTOR, 1, NULL},
    {F_MAX_INT, 499, "retry_policy.max_interval: must be at least initial_interval"},
    {F_MAX_INT, -1, "retry_policy.max_interval: must not be negative"},
    {F_MAX_INT, 31536000001.0, "retry_policy.max_interval: must be at most 365d"},
    {F_MAX_INT, 500, NULL},
    {F_MAX_INT, 31536000000.0, NULL},
    {F_MAX_EL, -1, "retry_policy.max_elapsed: must not be negative"},
    {F_MAX_EL, 31536000001.0, "retry_policy.max_elapsed: must be at most 365d"},
    {F_MAX_EL, 0, NULL},
    {F_MAX_EL, 31536000000.0, NULL},
};

static void test_check(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(check_cases); i++) {
        const struct check_case *c = &check_cases[i];
        struct sched_retry_policy p = defaults();
        switch (c->field) {
        case F_ATTEMPTS:
            p.max_attempts = (int)c->value;
            break;
        case F_KIND:
            p.kind = (enum sched_backoff_kind)(int)c->value;
            break;
        case F_INITIAL:
            p.initial_interval_ms = (int64_t)c->value;
            break;
        case F_MULT:
            p.multiplier = c->value;
            break;
        case F_FACTOR:
            p.randomization_factor = c->value;
            break;
        case F_MAX_INT:
            p.max_interval_ms = (int64_t)c->value;
            break;
        case F_MAX_EL:
            p.max_elapsed_ms = (int64_t)c->value;
            break;
        }
        struct sched_retry_policy_error err = {"untouched", "untouched"};
        int r = sched_retry_policy_check(&p, &err);
        if (!c->message) {
            if (r != 0)
                fail_msg("case %zu: refused: %s: %s", i, err.field, err.reason);
            assert_string_equal(err.field, "untouched");
            continue;
        }
        char text[160];
        assert_int_equal(r, -EINVAL);
        sched_retry_policy_error_format(&err, text, sizeof(text));
        assert_string_equal(text, c->message);
        assert_int_equal(sched_retry_policy_check(&p, NULL), -EINVAL);
    }
    /* The first bad field is the one reported. */
    struct sched_retry_policy p = defaults();
    p.multiplier = 0.5;
    p.max_elapsed_ms = -1;
    struct sched_retry_policy_error err;
    assert_int_equal(sched_retry_policy_check(&p, &err), -EINVAL);
    assert_string_equal(err.field, "retry_policy.multiplier");
    /* Zero intervals are a policy too. */
    p = defaults();
    p.initial_interval_ms = 0;
    p.max_interval_ms = 0;
    assert_int_equal(sched_retry_policy_check(&p, NULL), 0);
}

/* ---- the random comparison ---------------------------------------------- */

/* Go's ExponentialBackOff + WithMaxRetries, and this project's rules for the
 * other kinds, written from their definitions with no shared code. */
struct model {
    struct sched_retry_policy p;
    int64_t start_time;       /* ns */
    int64_t current_interval; /* ns */
    int num_tries;
};

static void model_reset(struct model *m, const struct sched_retry_policy *p, int64_t now_ms)
{
    m->p = *p;
    m->start_time = now_ms * MS;
    m->current_interval = p->initial_interval_ms * MS;
    m->num_tries = 0;
}

static int64_t go_duration(double x)
{
    /* Duration(x): truncation toward zero; every x here is far inside int64. */
    assert_true(x > -9.2e18 && x < 9.2e18);
    return (int64_t)x;
}

/* Returns the delay in ns, or -1 for Stop. */
static int64_t model_next(struct model *m, int64_t now_ms, double random)
{
    int max_tries = m->p.max_attempts - 1;
    if (m->num_tries >= max_tries)
        return -1;
    m->num_tries++;

    int64_t elapsed = now_ms * MS - m->start_time;
    int64_t next;
    if (m->p.kind == SCHED_BACKOFF_EXPONENTIAL) {
        if (m->p.randomization_factor == 0) {
            next = m->current_interval;
        } else {
            /* Go on amd64 rounds every operation; volatile keeps any
             * compiler from fusing a multiply into the following add. */
            volatile double delta = m->p.randomization_factor * (double)m->current_interval;
            double min_interval = (double)m->current_interval - delta;
            double max_interval = (double)m->current_interval + delta;
            volatile double spread = random * (max_interval - min_interval + 1);
            next = go_duration(min_interval + spread);
        }
        double cap = (double)(m->p.max_interval_ms * MS);
        if ((double)m->current_interval >= cap / m->p.multiplier)
            m->current_interval = m->p.max_interval_ms * MS;
        else
            m->current_interval = go_duration((double)m->current_interval * m->p.multiplier);
    } else if (m->p.kind == SCHED_BACKOFF_LINEAR) {
        __int128 d = (__int128)m->p.initial_interval_ms * MS * m->num_tries;
        __int128 cap = (__int128)m->p.max_interval_ms * MS;
        next = (int64_t)(d < cap ? d : cap);
    } else if (m->p.kind == SCHED_BACKOFF_CONSTANT) {
        next = m->p.initial_interval_ms * MS;
    } else {
        next = 0;
    }
    if (m->p.max_elapsed_ms != 0 && elapsed + next > m->p.max_elapsed_ms * MS)
        return -1;
    return next;
}

static double random_unit(struct test_rng *rng)
{
    switch (test_rng_range(rng, 0, 9)) {
    case 0:
        return 0.0;
    case 1:
        return 0x1.fffffffffffffp-1;
    case 2:
        return 0.5;
    default:
        return (double)(test_rng_next(rng) >> 11) * 0x1p-53; /* as Go's Float64 */
    }
}

static int64_t pick_ms(struct test_rng *rng, int64_t lo, int64_t hi)
{
    return hi <= lo ? lo : test_rng_range(rng, lo, hi);
}

static void random_policy(struct test_rng *rng, struct sched_retry_policy *p)
{
    static const double multipliers[] = {1.0, 1.5, 2.0, 1.1, 3.7, 1.0000001, 1e6};
    static const double factors[] = {0.0, 0.5, 1.0, 0.1, 0.25};
    static const int64_t initials[] = {0, 1, 3, 7, 100, 500, 999, 1001};
    const int64_t year = SCHED_RETRY_MAX_DURATION_MS;

    sched_retry_policy_init(p);
    switch (test_rng_range(rng, 0, 9)) {
    case 0:
        p->kind = SCHED_BACKOFF_NONE;
        break;
    case 1:
        p->kind = SCHED_BACKOFF_CONSTANT;
        break;
    case 2:
        p->kind = SCHED_BACKOFF_LINEAR;
        break;
    default:
        p->kind = SCHED_BACKOFF_EXPONENTIAL;
    }
    p->max_attempts = test_rng_range(rng, 0, 19) == 0 ? SCHED_RETRY_MAX_ATTEMPTS
                                                      : (int)test_rng_range(rng, 1, 40);
    switch (test_rng_range(rng, 0, 3)) {
    case 0:
        p->initial_interval_ms = initials[test_rng_range(rng, 0, ARRAY_SIZE(initials) - 1)];
        break;
    case 1:
        p->initial_interval_ms = pick_ms(rng, 0, 10000);
        break;
    case 2:
        p->initial_interval_ms = pick_ms(rng, 0, 10000000);
        break;
    default:
        p->initial_interval_ms = test_rng_range(rng, 0, 9) == 0 ? year : pick_ms(rng, 0, year);
    }
    p->multiplier = test_rng_range(rng, 0, 2) == 0
                        ? 1.0 + (double)(test_rng_next(rng) >> 11) * 0x1p-53 * 9.0
                        : multipliers[test_rng_range(rng, 0, ARRAY_SIZE(multipliers) - 1)];
    p->randomization_factor = test_rng_range(rng, 0, 2) == 0
                                  ? (double)(test_rng_next(rng) >> 11) * 0x1p-53
                                  : factors[test_rng_range(rng, 0, ARRAY_SIZE(factors) - 1)];
    switch (test_rng_range(rng, 0, 3)) {
    case 0:
        p->max_interval_ms = p->initial_interval_ms;
        break;
    case 1:
        p->max_interval_ms = pick_ms(rng, p->initial_interval_ms, p->initial_interval_ms + 100000);
        break;
    case 2:
        p->max_interval_ms = pick_ms(rng, p->initial_interval_ms, 100000000);
        break;
    default:
        p->max_interval_ms = pick_ms(rng, p->initial_interval_ms, year);
    }
    if (p->max_interval_ms > year)
        p->max_interval_ms = year;
    switch (test_rng_range(rng, 0, 3)) {
    case 0:
        p->max_elapsed_ms = 0;
        break;
    case 1:
        break; /* the default 15 minutes */
    case 2:
        p->max_elapsed_ms = pick_ms(rng, 0, 1000000);
        break;
    default:
        p->max_elapsed_ms = pick_ms(rng, 0, year);
    }
}

static void test_random_against_model(void **state)
{
    (void)state;
    struct test_rng rng = {test_seed(20260526)};
    long cases = test_env_long("OVSCHED_REFERENCE_CASES", 100000);
    long delays = 0, attempt_stops = 0, elapsed_stops = 0, mismatches = 0;
    for (long c = 0; c < cases; c++) {
        struct sched_retry_policy p;
        random_policy(&rng, &p);
        struct sched_retry_policy_error err;
        if (sched_retry_policy_check(&p, &err) != 0)
            fail_msg("case %ld: generated a bad policy: %s: %s", c, err.field, err.reason);

        /* Unix ms from 1938 to 2033; with 60 delays of at most 2 years and the
         * runtimes, now_ms * 1e6 stays inside int64 for the model. */
        int64_t now_ms = test_rng_range(&rng, -INT64_C(1000000000000), INT64_C(2000000000000));
        struct sched_backoff b;
        struct model m;
        sched_backoff_start(&b, &p, now_ms);
        model_reset(&m, &p, now_ms);
        int runtime_kind = (int)test_rng_range(&rng, 0, 3);
        int stops = 0;
        /* Up to 60 calls; go on a little past a Stop, as a caller ignoring it would. */
        for (int k = 0; k < 60 && stops < 2; k++) {
            double random = random_unit(&rng);
            int64_t want = model_next(&m, now_ms, random);
            struct sched_backoff before = b;
            int64_t got_ns = -7, got_ms = -7;
            int r = sched_backoff_next_ns(&b, now_ms, random, &got_ns);
            struct sched_backoff after = b;
            b = before;
            int r_ms = sched_backoff_next(&b, now_ms, random, &got_ms);
            assert_backoff_equal(&after, &b);
            assert_int_equal(r, r_ms);
            int64_t got = r == 0 ? got_ns : -1;
            if (got != want || (r != 0 && r != -ECANCELED) ||
                (r == 0 && got_ms != (got_ns + MS - 1) / MS) ||
                (r != 0 && (got_ns != -7 || got_ms != -7))) {
                if (mismatches++ < 10)
                    printf("# case %ld call %d: kind %s attempts %d initial %lld mult %.17g "
                           "factor %.17g max %lld elapsed-limit %lld random %.17g: "
                           "got %lld (%d), want %lld\n",
                           c, k + 1, sched_backoff_kind_to_string(p.kind), p.max_attempts,
                           (long long)p.initial_interval_ms, p.multiplier, p.randomization_factor,
                           (long long)p.max_interval_ms, (long long)p.max_elapsed_ms, random,
                           (long long)got, r, (long long)want);
                break;
            }
            if (r == 0) {
                delays++;
                /* The next attempt starts after the delay and runs a while. */
                now_ms += got_ms;
                switch (runtime_kind) {
                case 0:
                    break;
                case 1:
                    now_ms += test_rng_range(&rng, 0, 1000);
                    break;
                case 2:
                    now_ms += test_rng_range(&rng, 0, 600000);
                    break;
                default:
                    now_ms += test_rng_range(&rng, 0, 3) == 0 ? -1000 : 60000;
                }
            } else {
                if (stops++ == 0) {
                    if (sched_retry_policy_has_retry_after(&p, before.retries + 1))
                        elapsed_stops++;
                    else
                        attempt_stops++;
                }
                now_ms += test_rng_range(&rng, 0, 1000);
            }
        }
    }
    printf("# %ld cases, %ld delays equal to the model, %ld stopped by max_attempts, %ld by "
           "max_elapsed, %ld mismatches\n",
           cases, delays, attempt_stops, elapsed_stops, mismatches);
    assert_int_equal(mismatches, 0);
    assert_true(attempt_stops > cases / 10);
    assert_true(elapsed_stops > cases / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_exponential_golden),
        cmocka_unit_test(test_exponential_ms),
        cmocka_unit_test(test_exponential_stop),
        cmocka_unit_test(test_extreme_clock),
        cmocka_unit_test(test_attempts),
        cmocka_unit_test(test_other_kinds),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
