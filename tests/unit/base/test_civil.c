/*
 * test_civil - calendar arithmetic against GLib's GDate over years 1-9999, and
 * the RFC 3339 and duration forms every API field uses.
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "base/civil.h"
#include "base/timefmt.h"
#include "test_util.h"

static void test_days_match_gdate(void **state)
{
    (void)state;
    struct test_rng rng = {test_seed(11)};
    for (int i = 0; i < 200000; i++) {
        int year = (int)test_rng_range(&rng, 1, 9999), month = (int)test_rng_range(&rng, 1, 12);
        int day = (int)test_rng_range(&rng, 1, civil_days_in_month(year, month));
        assert_int_equal(civil_days_in_month(year, month),
                         g_date_get_days_in_month((GDateMonth)month, (GDateYear)year));
        GDate date;
        g_date_clear(&date, 1);
        g_date_set_dmy(&date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
        int64_t days = civil_days_from_date(year, month, day);
        assert_int_equal(days, (int64_t)g_date_get_julian(&date) - 719163);
        assert_int_equal(civil_weekday_from_days(days), g_date_get_weekday(&date) % 7);
        int64_t y;
        int m, d;
        civil_date_from_days(days, &y, &m, &d);
        assert_true(y == year && m == month && d == day);
    }
}

static void test_seconds_round_trip(void **state)
{
    (void)state;
    struct test_rng rng = {test_seed(12)};
    for (int i = 0; i < 100000; i++) {
        int64_t at = test_rng_range(&rng, TIMEFMT_MIN_AT, TIMEFMT_MAX_AT);
        struct civil_time ct;
        civil_from_seconds(at, &ct);
        assert_int_equal(civil_to_seconds(&ct), at);
        char text[TIMEFMT_RFC3339_SIZE];
        int64_t back;
        const char *reason;
        timefmt_rfc3339_format(at, text);
        assert_int_equal(strlen(text), 20);
        assert_int_equal(timefmt_rfc3339_parse(text, &back, &reason), 0);
        assert_int_equal(back, at);
    }
}

static void test_rfc3339(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        int64_t at;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2026-11-30T14:00:00Z", 0, 1796047200},
        {"2026-11-30t14:00:00z", 0, 1796047200},
        {"2026-11-30 14:00:00Z", 0, 1796047200},
        {"2026-11-30T09:00:00-05:00", 0, 1796047200},
        {"2026-11-30T19:30:00+05:30", 0, 1796047200},
        {"2026-11-30T14:00:00.999Z", 0, 1796047200},
        {"1969-12-31T23:59:59Z", 0, -1},
        {"2028-02-29T00:00:00Z", 0, 1835395200},
        {"2026-02-29T00:00:00Z", -EINVAL, 0},
        {"2026-13-01T00:00:00Z", -EINVAL, 0},
        {"2026-11-30T24:00:00Z", -EINVAL, 0},
        {"2026-11-30T14:00:60Z", -EINVAL, 0},
        {"2026-11-30T14:00:00", -EINVAL, 0},
        {"2026-11-30T14:00:00+0500", -EINVAL, 0},
        {"2026-11-30T14:00:00.Z", -EINVAL, 0},
        {"2026-11-30T14:00:00Zjunk", -EINVAL, 0},
        {"2026-11-30", -EINVAL, 0},
        {"", -EINVAL, 0},
        {"0000-01-01T00:00:00Z", -EINVAL, 0},
        {"2026-W48-1T00:00:00Z", -EINVAL, 0},
        {"0001-01-01T00:00:00Z", 0, TIMEFMT_MIN_AT},
        {"9999-12-31T23:59:59Z", 0, TIMEFMT_MAX_AT},
        {"0001-01-01T00:00:00+01:00", -EINVAL, 0}, /* year 0 in UTC */
        {"9999-12-31T23:59:59-01:00", -EINVAL, 0}, /* year 10000 in UTC */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t at = 0;
        const char *reason = NULL;
        int r = timefmt_rfc3339_parse(cases[i].text, &at, &reason);
        if (r != cases[i].code)
            print_error("'%s': got %d\n", cases[i].text, r);
        assert_int_equal(r, cases[i].code);
        if (r == 0)
            assert_int_equal(at, cases[i].at);
        else
            assert_non_null(reason);
    }
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int code;
        int64_t ms;
    } cases[] = {
        {"500ms", 0, 500},
        {"90s", 0, 90000},
        {"1h30m", 0, 5400000},
        {"2d", 0, 172800000},
        {"1h1m1s1ms", 0, 3661001},
        {"0", 0, 0},
        {"10m", 0, 600000},
        {"", -EINVAL, 0},
        {"5", -EINVAL, 0},
        {"5x", -EINVAL, 0},
        {"h", -EINVAL, 0},
        {"-5s", -EINVAL, 0},
        {"1.5h", -EINVAL, 0},
        {"5 s", -EINVAL, 0},
        {"9223372036854775807ms", 0, INT64_MAX},
        {"9223372036854775808ms", -ERANGE, 0},
        {"9223372036854775808+14:00ms", -EINVAL, 0}, /* malformed first, large second */
        {"99999999999999999999s", -ERANGE, 0},
        {"9999999999999999d", -ERANGE, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t ms = -1;
        const char *reason = NULL;
        int r = timefmt_duration_parse(cases[i].text, strlen(cases[i].text), &ms, &reason);
        if (r != cases[i].code)
            print_error("'%s': got %d\n", cases[i].text, r);
        assert_int_equal(r, cases[i].code);
        if (r == 0)
            assert_int_equal(ms, cases[i].ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_match_gdate),
        cmocka_unit_test(test_seconds_round_trip),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests_name("civil", tests, NULL, NULL);
}
