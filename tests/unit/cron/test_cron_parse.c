/*
 * test_cron_parse - every grammar form, by what a user sees: the next fire
 * times it produces (UTC, from 2026-01-01T00:00:00Z, a Thursday), and every
 * error, by field, offset and reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "base/timefmt.h"
#include "cron/cron.h"
#include "test_util.h"

#define FROM "2026-01-01T00:00:00Z"

static const struct valid_case {
    const char *expr;
    const char *next[3];
} valid_cases[] = {
    {"0 9 * * 1", {"2026-01-05T09:00:00Z", "2026-01-12T09:00:00Z", "2026-01-19T09:00:00Z"}},
    {"*/15 * * * *", {"2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z"}},
    {"0 0 1 * *", {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}},
    {"0 0 L * *", {"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}},
    {"0 0 l * *", {"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}},
    {"0 0 L-2 * *", {"2026-01-29T00:00:00Z", "2026-02-26T00:00:00Z", "2026-03-29T00:00:00Z"}},
    {"0 0 L-0 * *", {"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}},
    {"0 0 15W * *", {"2026-01-15T00:00:00Z", "2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z"}},
    {"0 0 1W * *", {"2026-02-02T00:00:00Z", "2026-03-02T00:00:00Z", "2026-04-01T00:00:00Z"}},
    {"0 0 LW * *", {"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-31T00:00:00Z"}},
    {"0 0 * * 5L", {"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"}},
    {"0 0 * * FRIL", {"2026-01-30T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z"}},
    {"0 0 * * FRI#3", {"2026-01-16T00:00:00Z", "2026-02-20T00:00:00Z", "2026-03-20T00:00:00Z"}},
    {"0 0 ? * 6#5", {"2026-01-31T00:00:00Z", "2026-05-30T00:00:00Z", "2026-08-29T00:00:00Z"}},
    {"0 0 * * L", {"2026-01-03T00:00:00Z", "2026-01-10T00:00:00Z", "2026-01-17T00:00:00Z"}},
    {"@yearly", {"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"}},
    {"@annually", {"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"}},
    {"@monthly", {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}},
    {"@weekly", {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z"}},
    {"@daily", {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
    {"@MIDNIGHT", {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
    {"@hourly", {"2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z", "2026-01-01T03:00:00Z"}},
    {"@every 90s", {"2026-01-01T00:01:30Z", "2026-01-01T00:03:00Z", "2026-01-01T00:04:30Z"}},
    {"@every 1h30m", {"2026-01-01T01:30:00Z", "2026-01-01T03:00:00Z", "2026-01-01T04:30:00Z"}},
    {"30 15 10 * * ?", {"2026-01-01T10:15:30Z", "2026-01-02T10:15:30Z", "2026-01-03T10:15:30Z"}},
    {"*/20 * * * * *", {"2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"}},
    {"0 0 12 * JAN,jul *",
     {"2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-03T12:00:00Z"}},
    {"0 0 * * 7", {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z"}},
    {"0 0 * * 0", {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z"}},
    {"0 0 * * sun", {"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z"}},
    {"0 0 * * MON-FRI", {"2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z"}},
    {"0 0 * * SAT-SUN", {"2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-10T00:00:00Z"}},
    {"0 0 * * 5-7", {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
    /* Day of month and day of week (docs/cron.md, "Which days match"): both
     * restricted, either matches (the 13th or any Friday); either field's text
     * starting with `*` or `?`, both must match. */
    {"0 0 13 * FRI", {"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"}},
    {"0 0 * * MON", {"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"}},
    {"0 0 */10 * *", {"2026-01-11T00:00:00Z", "2026-01-21T00:00:00Z", "2026-01-31T00:00:00Z"}},
    /* `*` stepped beside a weekday: the Mondays on the 1st, 8th, 15th, 22nd, 29th. */
    {"0 12 */7 * 1", {"2026-06-01T12:00:00Z", "2026-06-08T12:00:00Z", "2026-06-15T12:00:00Z"}},
    {"0 0 */10 * MON", {"2026-05-11T00:00:00Z", "2026-06-01T00:00:00Z", "2026-08-31T00:00:00Z"}},
    {"0 0 */31 * MON", {"2026-06-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-03-01T00:00:00Z"}},
    {"0 0 *,15 * 1", {"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"}},
    /* ... and the other way round: the 1st when it is a Sun, Tue, Thu or Sat. */
    {"0 0 1 * */2", {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-08-01T00:00:00Z"}},
    {"0 0 13 * */7", {"2026-09-13T00:00:00Z", "2026-12-13T00:00:00Z", "2027-06-13T00:00:00Z"}},
    /* `?` counts as `*`, with or without a step. */
    {"0 0 15 * ?", {"2026-01-15T00:00:00Z", "2026-02-15T00:00:00Z", "2026-03-15T00:00:00Z"}},
    {"0 0 ?/5 * MON", {"2026-01-26T00:00:00Z", "2026-02-16T00:00:00Z", "2026-03-16T00:00:00Z"}},
    {"0 0 1 1 ?/2", {"2028-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2032-01-01T00:00:00Z"}},
    {"0 0 ? * ?", {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
    /* `1-31/2` names the odd days as a stepped `*` would, but does not start
     * with `*`: OR. */
    {"0 0 1-31/2 * MON", {"2026-01-03T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z"}},
    {"0 0 1-7 * MON", {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
    {"0 0 1 * 1-5/2", {"2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-07T00:00:00Z"}},
    /* Quartz forms follow the same rule: a restricted pair ORs, a starred one ANDs. */
    {"0 0 15W * MON", {"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-15T00:00:00Z"}},
    {"0 0 */2 * 5L", {"2026-02-27T00:00:00Z", "2026-03-27T00:00:00Z", "2026-05-29T00:00:00Z"}},
    {"0 0 */5 * FRIL", {"2026-06-26T00:00:00Z", "2026-07-31T00:00:00Z", "2027-02-26T00:00:00Z"}},
    {"0 0 L * */2", {"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"}},
    {"0 0 */7 * 2#2,MON", {"2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z"}},
    /* Rare but real: a February with five Mondays (leap years starting on one). */
    {"0 0 ? 2 MON#5", {"2044-02-29T00:00:00Z", "2072-02-29T00:00:00Z", "2112-02-29T00:00:00Z"}},
    {"0 0 */7 2 MON#5", {"2044-02-29T00:00:00Z", "2072-02-29T00:00:00Z", "2112-02-29T00:00:00Z"}},
    {"0 0 * 2 FRI#5", {"2036-02-29T00:00:00Z", "2064-02-29T00:00:00Z", "2092-02-29T00:00:00Z"}},
    {"0 0 ? * MON", {"2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"}},
    {"0 12 * * mon", {"2026-01-05T12:00:00Z", "2026-01-12T12:00:00Z", "2026-01-19T12:00:00Z"}},
    {"0 0 29 2 *", {"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"}},
    {"0 0 L 2 *", {"2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z", "2028-02-29T00:00:00Z"}},
    {"0 10-12/2 * * *", {"2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z", "2026-01-02T10:00:00Z"}},
    {"0 22/1 * * *", {"2026-01-01T22:00:00Z", "2026-01-01T23:00:00Z", "2026-01-02T22:00:00Z"}},
    {"5,10-12,*/30 0 1 1 *",
     {"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z", "2026-01-01T00:11:00Z"}},
    {"0 0 1 */4 *", {"2026-05-01T00:00:00Z", "2026-09-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
    {"0 0 1,L * *", {"2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z"}},
    {" \t0 0 * * * \t", {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
    {"0 0 1 jan-mar *", {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
    {"CRON_TZ=Asia/Tokyo 0 9 * * *",
     {"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z"}},
    {"TZ=Europe/Paris 0 9 * * *",
     {"2026-01-01T08:00:00Z", "2026-01-02T08:00:00Z", "2026-01-03T08:00:00Z"}},
    {"59 23 31 12 *", {"2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z", "2028-12-31T23:59:00Z"}},
};

static void assert_next_times(const char *text, const char *const expected[3])
{
    struct cron_expr *expr = NULL;
    struct cron_error err;
    int r = cron_expr_parse(text, strlen(text), &expr, &err);
    if (r < 0)
        print_error("'%s' refused: %s\n", text, err.reason);
    assert_int_equal(r, 0);
    const char *zone_name = cron_expr_zone(expr) ? cron_expr_zone(expr) : "UTC";
    struct tz_zone *zone = NULL;
    assert_int_equal(tz_zone_load(zone_name, &zone), 0);
    int64_t at;
    const char *reason;
    assert_int_equal(timefmt_rfc3339_parse(FROM, &at, &reason), 0);
    struct cron_schedule schedule = {expr, zone, {0}, at};
    for (int i = 0; i < 3; i++) {
        struct cron_fire fire;
        char got[TIMEFMT_RFC3339_SIZE];
        assert_int_equal(cron_schedule_next(&schedule, at, &fire), 0);
        timefmt_rfc3339_format(fire.at, got);
        if (strcmp(got, expected[i]) != 0)
            print_error("'%s' fire %d: got %s, want %s\n", text, i + 1, got, expected[i]);
        assert_string_equal(got, expected[i]);
        at = fire.at;
    }
    tz_zone_free(zone);
    cron_expr_free(expr);
}

static void test_valid_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(valid_cases); i++)
        assert_next_times(valid_cases[i].expr, valid_cases[i].next);
}

static const struct error_case {
    const char *expr;
    int code;
    int field;
    size_t offset;
    const char *reason; /* substring of the reason */
} error_cases[] = {
    {"", -EINVAL, 0, 0, "empty expression"},
    {"   ", -EINVAL, 0, 3, "empty expression"},
    {"0 0 32 * *", -EINVAL, 3, 4, "32 is out of range 1-31"},
    {"60 * * * *", -EINVAL, 1, 0, "60 is out of range 0-59"},
    {"* 24 * * *", -EINVAL, 2, 2, "24 is out of range 0-23"},
    {"* * 0 * *", -EINVAL, 3, 4, "0 is out of range 1-31"},
    {"* * * 13 *", -EINVAL, 4, 6, "13 is out of range 1-12"},
    {"* * * 0 *", -EINVAL, 4, 6, "0 is out of range 1-12"},
    {"* * * * 8", -EINVAL, 5, 8, "8 is out of range 0-7"},
    {"60 * * * * *", -EINVAL, 1, 0, "60 is out of range 0-59"},
    {"* * * *", -EINVAL, 0, 0, "expected 5 fields"},
    {"* * * * * * *", -EINVAL, 0, 10, "got 7"},
    {"*/0 * * * *", -EINVAL, 1, 2, "step 0 must be at least 1"},
    {"*/61 * * * *", -EINVAL, 1, 2, "step 61 is larger than the field's span of 60"},
    {"5-1 * * * *", -EINVAL, 1, 0, "range 5-1 runs backwards"},
    {"* * * FOO *", -EINVAL, 4, 6, "'FOO' is not a month name (JAN-DEC)"},
    {"* * * * FUNDAY", -EINVAL, 5, 8, "'FUNDAY' is not a day name (SUN-SAT)"},
    {"? * * * *", -EINVAL, 1, 0, "'?' is only allowed in day of month and day of week"},
    {"L * * * *", -EINVAL, 1, 0, "L is only allowed in day of month and day of week"},
    {"* * 0W * *", -EINVAL, 3, 4, "0 is out of range 1-31"},
    {"* * 32W * *", -EINVAL, 3, 4, "32 is out of range 1-31"},
    {"* * L-31 * *", -EINVAL, 3, 6, "offset from the last day must be 0-30"},
    {"* * L-x * *", -EINVAL, 3, 4, "expected L, L-n or LW"},
    {"* * * * FRI#6", -EINVAL, 5, 12, "occurrence 1-5"},
    {"* * * * FRI#", -EINVAL, 5, 12, "occurrence 1-5"},
    {"* * * * 8L", -EINVAL, 5, 8, "8 is out of range 0-7"},
    {"* * * * 9#1", -EINVAL, 5, 8, "9 is out of range 0-7"},
    {"1,,2 * * * *", -EINVAL, 1, 2, "empty item in the list"},
    {"1, * * * *", -EINVAL, 1, 2, "empty item in the list"},
    {"1-2-3 * * * *", -EINVAL, 1, 3, "unexpected character '-'"},
    {"*/2/3 * * * *", -EINVAL, 1, 3, "unexpected character '/'"},
    {"1/ * * * *", -EINVAL, 1, 2, "expected a number after '/'"},
    {"a * * * *", -EINVAL, 1, 0, "'a' is not a number (minute takes 0-59)"},
    {"0\xff * * * *", -EINVAL, 1, 1, "unexpected character \\xff"},
    {"0 0 * * * \x01", -EINVAL, 6, 10, "unexpected character \\x01"},
    {"99999999999999999999 * * * *", -EINVAL, 1, 0, "out of range 0-59"},
    {"@reboot", -EINVAL, 0, 0, "@reboot is not a schedule"},
    {"@fortnightly", -EINVAL, 0, 0, "unknown descriptor '@fortnightly'"},
    {"@every", -EINVAL, 0, 6, "@every needs a duration"},
    {"@every 500ms", -EINVAL, 0, 7, "whole number of seconds, at least 1s"},
    {"@every 0s", -EINVAL, 0, 7, "at least 1s"},
    {"@every 5x", -EINVAL, 0, 7, "unknown duration unit"},
    {"@every 1h 2m", -EINVAL, 0, 10, "unexpected text after the @every duration"},
    {"@daily extra", -EINVAL, 0, 7, "unexpected text after @daily"},
    {"CRON_TZ= 0 0 * * *", -EINVAL, 0, 8, "CRON_TZ= needs a time zone name"},
    {"CRON_TZ=UTC", -EINVAL, 0, 11, "a schedule must follow the time zone prefix"},
    {"0 0 30 2 *", -ERANGE, 0, 0, "never fires"},
    {"0 0 31 4,6,9,11 *", -ERANGE, 0, 0, "never fires"},
    {"0 0 30 FEB ?", -ERANGE, 0, 0, "never fires"},
    /* Never by the AND of a starred field: no 5th Monday of February falls on
     * the 1st, 16th or 31st (nor on a day 3k+1); the last weekday (Mon-Fri) of
     * a month is no weekend day. */
    {"0 0 */15 2 MON#5", -ERANGE, 0, 0, "never fires"},
    {"0 0 LW * */6", -ERANGE, 0, 0, "never fires"},
    {"0 0 */3 2 MON#5", -ERANGE, 0, 0, "never fires"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
        const struct error_case *c = &error_cases[i];
        struct cron_expr *expr = NULL;
        struct cron_error err;
        int r = cron_expr_parse(c->expr, strlen(c->expr), &expr, &err);
        if (r != c->code || err.field != c->field || err.offset != c->offset ||
            !strstr(err.reason, c->reason))
            print_error("'%s': got %d field %d offset %zu '%s'; want %d field %d offset %zu "
                        "'%s'\n",
                        c->expr, r, err.field, err.offset, err.reason, c->code, c->field, c->offset,
                        c->reason);
        assert_int_equal(r, c->code);
        assert_int_equal(err.field, c->field);
        assert_int_equal(err.offset, c->offset);
        assert_non_null(strstr(err.reason, c->reason));
        assert_null(expr);
    }
}

static void test_error_message_names_field_and_offset(void **state)
{
    (void)state;
    struct cron_expr *expr = NULL;
    struct cron_error err;
    char message[256];
    assert_int_equal(cron_expr_parse("0 0 32 * *", 10, &expr, &err), -EINVAL);
    cron_error_format(&err, message, sizeof(message));
    assert_string_equal(message, "field 3 (day of month): 32 is out of range 1-31 (at offset 4)");
}

/* Quoted user text is cut between characters and marked: the reason stays whole
 * and valid UTF-8. */
static void test_errors_quote_long_text(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        const char *reason;
    } cases[] = {
        {"@\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
         "\xc3\xa9",
         "unknown descriptor "
         "'@\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...' (use "
         "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every "
         "<duration>)"},
        {"@ev\xffry", "unknown descriptor '@ev\\xffry' (use @yearly, @annually, @monthly, "
                      "@weekly, @daily, @midnight, @hourly or @every <duration>)"},
        {"@every 1s1s1s1s1s1s1s1s1s1s1s1s1s1s1s500ms",
         "@every needs a whole number of seconds, at least 1s (got 1s1s1s1s1s1s1s1s1s1s...)"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cron_expr *expr = NULL;
        struct cron_error err;
        assert_int_equal(cron_expr_parse(cases[i].expr, strlen(cases[i].expr), &expr, &err),
                         -EINVAL);
        if (strcmp(err.reason, cases[i].reason) != 0)
            print_error("'%s': got '%s'\n", cases[i].expr, err.reason);
        assert_string_equal(err.reason, cases[i].reason);
    }
}

static void test_too_long(void **state)
{
    (void)state;
    char text[CRON_EXPR_MAX_LEN + 2];
    memset(text, ' ', sizeof(text));
    memcpy(text, "0 0 * * *", 9);
    struct cron_expr *expr = NULL;
    struct cron_error err;
    assert_int_equal(cron_expr_parse(text, sizeof(text), &expr, &err), -EINVAL);
    assert_non_null(strstr(err.reason, "longer than 1024 bytes"));
}

/* Bytes after LEN are never read: a NUL-free buffer parses by length alone. */
static void test_parses_by_length(void **state)
{
    (void)state;
    const char text[] = "0 9 * * 1GARBAGE";
    struct cron_expr *expr = NULL;
    assert_int_equal(cron_expr_parse(text, 9, &expr, NULL), 0);
    cron_expr_free(expr);
}

static void test_accessors(void **state)
{
    (void)state;
    static const struct {
        const char *expr;
        bool wildcard;
        int64_t interval_s;
        const char *zone;
    } cases[] = {
        {"0 9 * * *", false, 0, NULL},
        {"0 * * * *", true, 0, NULL},
        {"0 */2 * * *", true, 0, NULL},
        {"0 1-23/2 * * *", false, 0, NULL},
        {"@hourly", true, 0, NULL},
        {"@daily", false, 0, NULL},
        {"@every 1h", true, 3600, NULL},
        {"TZ=UTC 0 0 * * *", false, 0, "UTC"},
        {"0 0 */3 * * *", true, 0, NULL},
        {"CRON_TZ=Europe/Paris @every 2d", true, 172800, "Europe/Paris"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cron_expr *expr = NULL;
        assert_int_equal(cron_expr_parse(cases[i].expr, strlen(cases[i].expr), &expr, NULL), 0);
        assert_int_equal(cron_expr_hour_is_wildcard(expr), cases[i].wildcard);
        assert_int_equal(cron_expr_interval_s(expr), cases[i].interval_s);
        if (cases[i].zone)
            assert_string_equal(cron_expr_zone(expr), cases[i].zone);
        else
            assert_null(cron_expr_zone(expr));
        cron_expr_free(expr);
    }
}

static void test_policy_strings(void **state)
{
    (void)state;
    enum cron_gap_policy gap;
    enum cron_overlap_policy overlap;
    assert_int_equal(cron_gap_policy_from_string("skip", &gap), 0);
    assert_int_equal(gap, CRON_GAP_SKIP);
    assert_string_equal(cron_gap_policy_to_string(CRON_GAP_SHIFT), "shift");
    assert_int_equal(cron_overlap_policy_from_string("both", &overlap), 0);
    assert_int_equal(overlap, CRON_OVERLAP_BOTH);
    assert_string_equal(cron_overlap_policy_to_string(CRON_OVERLAP_FIRST), "first");
    assert_int_equal(cron_gap_policy_from_string("later", &gap), -EINVAL);
    assert_int_equal(cron_overlap_policy_from_string("", &overlap), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_message_names_field_and_offset),
        cmocka_unit_test(test_errors_quote_long_text),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_parses_by_length),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_policy_strings),
    };
    return cmocka_run_group_tests_name("cron_parse", tests, NULL, NULL);
}
