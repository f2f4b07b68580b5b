/*
 * test_cron_reference - the fast search against the brute-force reference on
 * random (expression, zone, start, DST policy) cases, half of them within a day
 * of a DST transition.  Both next and prev are compared, and next is chained
 * once more so that a fire right after a transition is checked too.
 *
 * OVSCHED_REFERENCE_CASES sets the count (default 100000); OVSCHED_SEED replays.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "cron/cron.h"
#include "cron_reference.h"
#include "test_util.h"
#include "tz/tz.h"

static const char *const zone_names[] = {
    "UTC",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "America/Havana",
    "America/St_Johns",
    "Africa/Casablanca",
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Europe/Dublin",
    "Asia/Tehran",
    "Asia/Gaza",
};

static const char *const seconds[] = {"0", "0", "0", "30", "0,30", "*/20", "15"};
static const char *const minutes[] = {"0", "30", "*/15", "5-10", "0,45", "15", "*/30", "59", "*"};
static const char *const hours[] = {"*",   "*/2",  "0",   "1", "2",    "3",   "23",
                                    "1-3", "0,12", "*/3", "9", "2,14", "1/2", "22-23"};
/* Day fields: starred forms (`*`, `?`, either with a step, `*,15`) AND with the other
 * field, restricted ones (`1-31/2` among them) OR. */
static const char *const doms[] = {"*",   "?",     "1",    "15",  "L",      "L-2",
                                   "15W", "LW",    "1,15", "*/2", "31",     "1W",
                                   "29",  "10-20", "*/7",  "?/5", "1-31/2", "*,15"};
static const char *const months[] = {"*", "*", "*", "3", "10,11", "1-6", "*/3", "2", "9-12"};
static const char *const dows[] = {"*",     "*",   "?",   "1",     "MON-FRI", "5L",
                                   "FRI#3", "0",   "7",   "SUN#1", "SAT,SUN", "*/2",
                                   "0L",    "2#5", "*/3", "?/2",   "MON#5",   "1-5/2"};

struct zone_pair {
    struct tz_zone *fast;
    GTimeZone *slow;
    int64_t transitions[4096];
    int n_transitions;
};

static void zone_pair_load(struct zone_pair *zp, const char *name)
{
    assert_int_equal(tz_zone_load(name, &zp->fast), 0);
    zp->slow = g_time_zone_new_identifier(name);
    assert_non_null(zp->slow);
    /* Transitions 1950-2100, to start cases near them. */
    zp->n_transitions = 0;
    struct tz_interval iv;
    for (int64_t at = -631152000; at < 4102444800 && zp->n_transitions < 4096; at = iv.end_at) {
        tz_zone_interval_at(zp->fast, at, &iv);
        if (iv.end_at >= 4102444800)
            break;
        if (iv.next_offset_s != iv.offset_s)
            zp->transitions[zp->n_transitions++] = iv.end_at;
    }
}

static char *random_expr(struct test_rng *rng, char *buf, size_t size)
{
    bool six = test_rng_range(rng, 0, 3) == 0;
    snprintf(
        buf, size, "%s%s%s %s %s %s %s",
        six ? test_rng_pick(rng, seconds, ARRAY_SIZE(seconds)) : "", six ? " " : "",
        test_rng_pick(rng, minutes, ARRAY_SIZE(minutes)),
        test_rng_pick(rng, hours, ARRAY_SIZE(hours)), test_rng_pick(rng, doms, ARRAY_SIZE(doms)),
        test_rng_pick(rng, months, ARRAY_SIZE(months)), test_rng_pick(rng, dows, ARRAY_SIZE(dows)));
    return buf;
}

static int64_t random_start(struct test_rng *rng, const struct zone_pair *zp, bool near_dst)
{
    if (near_dst && zp->n_transitions > 0) {
        int64_t t = zp->transitions[test_rng_range(rng, 0, zp->n_transitions - 1)];
        return t + test_rng_range(rng, -86400, 86400);
    }
    /* 1970 .. 2970: well past 2037, and far enough before the year 3000, where
     * GTimeZone stops applying DST rules, for the reference's 10-year horizon. */
    return test_rng_range(rng, 0, 31556995200);
}

struct mismatch_log {
    int count;
};

static void report(struct mismatch_log *log, const char *what, const char *expr, const char *zone,
                   struct cron_dst_policy policy, int64_t from, int64_t fast, int64_t slow)
{
    if (log->count++ >= 15)
        return;
    print_error("MISMATCH %s: expr '%s' tz %s on_gap %s on_overlap %s from %lld: fast %lld, "
                "reference %lld\n",
                what, expr, zone, cron_gap_policy_to_string(policy.on_gap),
                cron_overlap_policy_to_string(policy.on_overlap), (long long)from, (long long)fast,
                (long long)slow);
}

static void test_random_cases(void **state)
{
    (void)state;
    struct test_rng rng = {test_seed(20261127)};
    long cases = test_env_long("OVSCHED_REFERENCE_CASES", 100000);
    static struct zone_pair zones[ARRAY_SIZE(zone_names)];
    for (size_t i = 0; i < ARRAY_SIZE(zone_names); i++)
        zone_pair_load(&zones[i], zone_names[i]);
    struct mismatch_log log = {0};
    long compared = 0;
    for (long c = 0; c < cases; c++) {
        char text[128];
        struct cron_expr *expr = NULL;
        random_expr(&rng, text, sizeof(text));
        if (cron_expr_parse(text, strlen(text), &expr, NULL) < 0)
            continue; /* e.g. 31 in February only: refused, tested elsewhere */
        size_t zi = (size_t)test_rng_range(&rng, 0, ARRAY_SIZE(zone_names) - 1);
        struct zone_pair *zp = &zones[zi];
        struct cron_dst_policy policy = {(enum cron_gap_policy)test_rng_range(&rng, 0, 2),
                                         (enum cron_overlap_policy)test_rng_range(&rng, 0, 2)};
        struct cron_schedule schedule = {expr, zp->fast, policy, 0};
        /* The default DST policies (docs/cron.md), resolved here rather than asked of the engine.
         */
        bool wildcard = expr->hour_wildcard;
        struct cron_reference ref = {expr, zp->slow,
                                     policy.on_gap == CRON_GAP_SHIFT ||
                                         (policy.on_gap == CRON_GAP_DEFAULT && !wildcard),
                                     policy.on_overlap == CRON_OVERLAP_BOTH ||
                                         (policy.on_overlap == CRON_OVERLAP_DEFAULT && wildcard)};
        int64_t from = random_start(&rng, zp, c % 2 == 0);
        struct cron_fire fire;
        int64_t after = from;
        for (int step = 0; step < 2; step++) {
            int64_t slow;
            if (!cron_reference_next(&ref, after, &slow))
                break; /* nothing within the reference's 10-year horizon */
            bool ok = cron_schedule_next(&schedule, after, &fire) == 0;
            int64_t fast = ok ? fire.at : INT64_MIN;
            if (fast != slow)
                report(&log, "next", text, zone_names[zi], policy, after, fast, slow);
            after = slow;
        }
        int64_t slow;
        if (cron_reference_prev(&ref, from, &slow)) {
            int64_t fast = cron_schedule_prev(&schedule, from, &fire) == 0 ? fire.at : INT64_MIN;
            if (fast != slow)
                report(&log, "prev", text, zone_names[zi], policy, from, fast, slow);
        }
        compared++;
        cron_expr_free(expr);
    }
    printf("# %ld cases compared, %d mismatches\n", compared, log.count);
    for (size_t i = 0; i < ARRAY_SIZE(zone_names); i++) {
        tz_zone_free(zones[i].fast);
        g_time_zone_unref(zones[i].slow);
    }
    assert_true(compared >= cases * 9 / 10);
    assert_int_equal(log.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_cases),
    };
    return cmocka_run_group_tests_name("cron_reference", tests, NULL, NULL);
}
