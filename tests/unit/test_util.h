/*
 * test_util - small helpers shared by the unit tests: a seeded PRNG and
 * environment knobs.  Every random test prints its seed, so a failure can be
 * replayed with OVSCHED_SEED=<seed>.
 */
#ifndef OVSCHED_TESTS_TEST_UTIL_H
#define OVSCHED_TESTS_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct test_rng {
    uint64_t state;
};

static inline uint64_t test_rng_next(struct test_rng *rng)
{
    /* xorshift64*: fast, good enough to spread test cases, and reproducible. */
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    return rng->state * UINT64_C(2685821657736338717);
}

/* Uniform in [lo, hi]. */
static inline int64_t test_rng_range(struct test_rng *rng, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(test_rng_next(rng) % (uint64_t)(hi - lo + 1));
}

static inline const char *test_rng_pick(struct test_rng *rng, const char *const *items, size_t n)
{
    return items[test_rng_next(rng) % n];
}

static inline uint64_t test_seed(uint64_t fallback)
{
    const char *env = getenv("OVSCHED_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : fallback;
    printf("# seed %llu (replay with OVSCHED_SEED=%llu)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    return seed ? seed : 1;
}

static inline long test_env_long(const char *name, long fallback)
{
    const char *env = getenv(name);
    return env ? strtol(env, NULL, 10) : fallback;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
