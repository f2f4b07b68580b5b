/*
 * test_tz_zone - the flat zone table against GTimeZone itself, and the rules
 * for names.  The table must give GTimeZone's offset at every instant from
 * 1900 to 2990 (GTimeZone stops applying DST rules near 3000), including past
 * 2840 where the table answers by shifting whole 400-year periods.
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "test_util.h"
#include "tz/tz.h"

static const char *const zones[] = {
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/Santiago",
    "Africa/Casablanca",
    "Pacific/Apia",
    "Asia/Kolkata",
    "Europe/Dublin",
    "America/St_Johns",
    "Asia/Tehran",
    "Antarctica/Troll",
    "Pacific/Kiritimati",
    "Etc/GMT+5",
    "Europe/Moscow",
    "Asia/Gaza", /* Ramadan transitions listed one by one up to 2086 */
};

#define YEAR_1900 INT64_C(-2208988800)
#define YEAR_2990 INT64_C(32188147200)

static int32_t glib_offset(GTimeZone *gtz, int64_t at)
{
    return g_time_zone_get_offset(gtz, g_time_zone_find_interval(gtz, G_TIME_TYPE_UNIVERSAL, at));
}

static void test_offsets_match_gtimezone(void **state)
{
    (void)state;
    struct test_rng rng = {test_seed(7)};
    for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
        struct tz_zone *zone = NULL;
        GTimeZone *gtz = g_time_zone_new_identifier(zones[z]);
        assert_int_equal(tz_zone_load(zones[z], &zone), 0);
        assert_string_equal(tz_zone_name(zone), zones[z]);
        for (int i = 0; i < 20000; i++) {
            int64_t at = test_rng_range(&rng, YEAR_1900, YEAR_2990);
            int32_t want = glib_offset(gtz, at), got = tz_zone_offset_at(zone, at);
            if (want != got)
                print_error("%s at %lld: table %d, GTimeZone %d\n", zones[z], (long long)at, got,
                            want);
            assert_int_equal(got, want);
        }
        tz_zone_free(zone);
        g_time_zone_unref(gtz);
    }
}

/* Intervals tile time: each starts where the previous ends, with the offsets
 * its neighbours report, and every transition GTimeZone has is in the table. */
static void test_intervals_are_consistent(void **state)
{
    (void)state;
    for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
        struct tz_zone *zone = NULL;
        GTimeZone *gtz = g_time_zone_new_identifier(zones[z]);
        assert_int_equal(tz_zone_load(zones[z], &zone), 0);
        struct tz_interval iv, next;
        tz_zone_interval_at(zone, YEAR_1900, &iv);
        int transitions = 0;
        while (iv.end_at < YEAR_2990) {
            tz_zone_interval_at(zone, iv.end_at, &next);
            assert_int_equal(next.start_at, iv.end_at);
            assert_int_equal(next.prev_offset_s, iv.offset_s);
            assert_int_equal(iv.next_offset_s, next.offset_s);
            /* The boundary is exact to the second. */
            assert_int_equal(glib_offset(gtz, iv.end_at - 1), iv.offset_s);
            assert_int_equal(glib_offset(gtz, iv.end_at), next.offset_s);
            iv = next;
            transitions++;
        }
        if (strcmp(zones[z], "America/New_York") == 0)
            assert_true(transitions > 2000); /* two a year, 1918-2990 */
        tz_zone_free(zone);
        g_time_zone_unref(gtz);
    }
}

/* Casablanca's Ramadan switches come weeks apart; check every hour of 2026. */
static void test_close_transitions(void **state)
{
    (void)state;
    struct tz_zone *zone = NULL;
    GTimeZone *gtz = g_time_zone_new_identifier("Africa/Casablanca");
    assert_int_equal(tz_zone_load("Africa/Casablanca", &zone), 0);
    int changes = 0;
    int32_t last = tz_zone_offset_at(zone, 1767225600);
    for (int64_t at = 1767225600; at < 1767225600 + 366 * 86400; at += 3600) {
        int32_t got = tz_zone_offset_at(zone, at);
        assert_int_equal(got, glib_offset(gtz, at));
        changes += got != last;
        last = got;
    }
    assert_true(changes >= 2); /* into and out of Ramadan, 35 days apart */
    tz_zone_free(zone);
    g_time_zone_unref(gtz);
}

/* The far future keeps the rule: New York is on EDT every July, EST every January. */
static void test_far_future_follows_rule(void **state)
{
    (void)state;
    struct tz_zone *zone = NULL;
    assert_int_equal(tz_zone_load("America/New_York", &zone), 0);
    for (int64_t year = 2040; year <= 9999; year += 37) {
        int64_t days_jan =
            (year - 1970) * 365 + (year - 1969) / 4 - (year - 1901) / 100 + (year - 1601) / 400;
        int64_t jan15 = (days_jan + 14) * 86400, jul15 = (days_jan + 195) * 86400;
        struct tz_interval iv;
        tz_zone_interval_at(zone, jul15, &iv);
        assert_int_equal(iv.offset_s, -4 * 3600);
        assert_true(iv.is_dst);
        assert_string_equal(iv.abbrev, "EDT");
        tz_zone_interval_at(zone, jan15, &iv);
        assert_int_equal(iv.offset_s, -5 * 3600);
        assert_string_equal(iv.abbrev, "EST");
    }
    tz_zone_free(zone);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int code;
    } cases[] = {
        {"America/New_York", 0},
        {"UTC", 0},
        {"Etc/GMT-14", 0},
        {"EST5EDT", 0},
        {"Mars/Olympus_Mons", -ENOENT}, /* unknown: never silently UTC */
        {"Mars5", -ENOENT},             /* a POSIX rule GTimeZone would accept */
        {"america/new_york", -ENOENT},
        {"", -EINVAL},
        {"/etc/passwd", -EINVAL},
        {"../../etc/passwd", -EINVAL},
        {"America/../UTC", -EINVAL},
        {"+05:00", -EINVAL},
        {"Europe/Paris\n", -EINVAL},
        {"Europe/Paris ", -EINVAL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct tz_zone *zone = NULL;
        int r = tz_zone_load(cases[i].name, &zone);
        if (r != cases[i].code)
            print_error("'%s': got %d, want %d\n", cases[i].name, r, cases[i].code);
        assert_int_equal(r, cases[i].code);
        assert_true((zone != NULL) == (r == 0));
        tz_zone_free(zone);
    }
}

static void test_cache(void **state)
{
    (void)state;
    struct tz_cache *cache = tz_cache_new();
    const struct tz_zone *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(tz_cache_get(cache, "Europe/Paris", &a), 0);
    assert_int_equal(tz_cache_get(cache, "Europe/Paris", &b), 0);
    assert_ptr_equal(a, b);
    assert_int_equal(tz_cache_get(cache, "Nowhere/Land", &c), -ENOENT);
    assert_null(c);
    tz_cache_free(cache);
    tz_cache_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_match_gtimezone),
        cmocka_unit_test(test_intervals_are_consistent),
        cmocka_unit_test(test_close_transitions),
        cmocka_unit_test(test_far_future_follows_rule),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests_name("tz_zone", tests, NULL, NULL);
}
