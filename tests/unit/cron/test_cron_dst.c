/*
 * test_cron_dst - fire times around daylight-saving changes, worked out by hand
 * from each zone's rules: 1 h DST (New York), 30 min DST (Lord Howe), a :45
 * offset (Chatham), transitions at midnight (Santiago), the southern
 * hemisphere (Sydney), leap days, and dates after 2037 and far past the tz
 * database's listed transitions.  Each case also checks what --explain says.
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

#define MAX_TIMES 4

struct dst_case {
    const char *expr;
    const char *zone;
    const char *on_gap;     /* NULL: default */
    const char *on_overlap; /* NULL: default */
    const char *from;
    const char *times[MAX_TIMES];
    const char *note; /* expected explanation of one of the fires, or NULL */
};

#define NY "America/New_York"

static const struct dst_case next_cases[] = {
    /* New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z). */
    {"30 2 * * *",
     NY,
     NULL,
     NULL,
     "2026-03-07T12:00:00Z",
     {"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"},
     "02:30 does not exist on 2026-03-08 in America/New_York: fires at 03:00 EDT"},
    {"30 2 * * *",
     NY,
     "skip",
     NULL,
     "2026-03-07T12:00:00Z",
     {"2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"},
     "02:30 does not exist on 2026-03-08 in America/New_York: skipped (dst_policy on_gap is skip)"},
    /* Two slots in one gap fire once. */
    {"0,30 2 * * *",
     NY,
     NULL,
     NULL,
     "2026-03-07T12:00:00Z",
     {"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:30:00Z"},
     "02:00 does not exist on 2026-03-08 in America/New_York: fires at 03:00 EDT"},
    /* Wildcard hours fire at every real instant: 02:00 does not exist. */
    {"0 * * * *",
     NY,
     NULL,
     NULL,
     "2026-03-08T05:30:00Z",
     {"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"},
     "02:00 does not exist on 2026-03-08 in America/New_York: skipped (the hour field is a "
     "wildcard)"},
    {"0 * * * *",
     NY,
     "shift",
     NULL,
     "2026-03-08T05:30:00Z",
     {"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"},
     NULL},
    {"0 */2 * * *",
     NY,
     NULL,
     NULL,
     "2026-03-08T04:30:00Z",
     {"2026-03-08T05:00:00Z", "2026-03-08T08:00:00Z", "2026-03-08T10:00:00Z"},
     NULL},
    /* New York falls back 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z). */
    {"30 1 * * *",
     NY,
     NULL,
     NULL,
     "2026-10-31T12:00:00Z",
     {"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
     "01:30 occurs twice on 2026-11-01 in America/New_York: fires once, at the first (01:30 EDT)"},
    {"30 1 * * *",
     NY,
     NULL,
     "both",
     "2026-10-31T12:00:00Z",
     {"2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"},
     "01:30 occurs twice on 2026-11-01 in America/New_York: fires at 01:30 EDT and again at "
     "01:30 EST"},
    {"0 * * * *",
     NY,
     NULL,
     NULL,
     "2026-11-01T04:30:00Z",
     {"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"},
     "01:00 occurs twice on 2026-11-01 in America/New_York: fires again at 01:00 EST (the "
     "repeat)"},
    {"0 * * * *",
     NY,
     NULL,
     "first",
     "2026-11-01T04:30:00Z",
     {"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"},
     NULL},
    {"*/30 * * * *",
     NY,
     NULL,
     NULL,
     "2026-11-01T05:10:00Z",
     {"2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z",
      "2026-11-01T07:00:00Z"},
     NULL},
    /* Starting inside the repeated hour, after the first 01:30 already fired. */
    {"30 1 * * *", NY, NULL, NULL, "2026-11-01T06:10:00Z", {"2026-11-02T06:30:00Z"}, NULL},
    /* Lord Howe: 30 min DST. Spring 2026-10-04 02:00 +1030 -> 02:30 +11. */
    {"15 2 * * *",
     "Australia/Lord_Howe",
     NULL,
     NULL,
     "2026-10-02T00:00:00Z",
     {"2026-10-02T15:45:00Z", "2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"},
     "02:15 does not exist on 2026-10-04 in Australia/Lord_Howe: fires at 02:30 +11"},
    /* Lord Howe falls back 2026-04-05 02:00 +11 -> 01:30 +1030. */
    {"45 1 * * *",
     "Australia/Lord_Howe",
     NULL,
     NULL,
     "2026-04-03T00:00:00Z",
     {"2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"},
     "01:45 occurs twice on 2026-04-05 in Australia/Lord_Howe: fires once, at the first (01:45 "
     "+11)"},
    /* Chatham: +12:45 / +13:45; spring 2026-09-27 02:45 -> 03:45. */
    {"0 3 * * *",
     "Pacific/Chatham",
     NULL,
     NULL,
     "2026-09-25T00:00:00Z",
     {"2026-09-25T14:15:00Z", "2026-09-26T14:00:00Z", "2026-09-27T13:15:00Z"},
     "03:00 does not exist on 2026-09-27 in Pacific/Chatham: fires at 03:45 +1345"},
    /* Santiago changes at midnight: 2026-09-06 00:00 -04 -> 01:00 -03. */
    {"0 0 * * *",
     "America/Santiago",
     NULL,
     NULL,
     "2026-09-04T12:00:00Z",
     {"2026-09-05T04:00:00Z", "2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z"},
     "00:00 does not exist on 2026-09-06 in America/Santiago: fires at 01:00 -03"},
    /* ... and back on 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04. */
    {"30 23 * * *",
     "America/Santiago",
     NULL,
     NULL,
     "2026-04-04T12:00:00Z",
     {"2026-04-05T02:30:00Z", "2026-04-06T03:30:00Z"},
     "23:30 occurs twice on 2026-04-04 in America/Santiago: fires once, at the first (23:30 -03)"},
    {"30 23 * * *",
     "America/Santiago",
     NULL,
     "both",
     "2026-04-04T12:00:00Z",
     {"2026-04-05T02:30:00Z", "2026-04-05T03:30:00Z", "2026-04-06T03:30:00Z"},
     NULL},
    /* Sydney: spring 2026-10-04 02:00 AEST -> 03:00 AEDT, fall 2026-04-05. */
    {"30 2 * * *",
     "Australia/Sydney",
     NULL,
     NULL,
     "2026-10-02T12:00:00Z",
     {"2026-10-02T16:30:00Z", "2026-10-03T16:00:00Z", "2026-10-04T15:30:00Z"},
     "02:30 does not exist on 2026-10-04 in Australia/Sydney: fires at 03:00 AEDT"},
    {"30 2 * * *",
     "Australia/Sydney",
     NULL,
     NULL,
     "2026-04-03T12:00:00Z",
     {"2026-04-03T15:30:00Z", "2026-04-04T15:30:00Z", "2026-04-05T16:30:00Z"},
     NULL},
    /* Leap days in Berlin (CET, +01:00 in February). */
    {"0 12 29 2 *",
     "Europe/Berlin",
     NULL,
     NULL,
     "2026-01-01T00:00:00Z",
     {"2028-02-29T11:00:00Z", "2032-02-29T11:00:00Z", "2036-02-29T11:00:00Z",
      "2040-02-29T11:00:00Z"},
     NULL},
    /* After 2037: New York's rule keeps applying (DST from 2060-03-14). */
    {"0 9 * * 1",
     NY,
     NULL,
     NULL,
     "2060-03-01T00:00:00Z",
     {"2060-03-01T14:00:00Z", "2060-03-08T14:00:00Z", "2060-03-15T13:00:00Z"},
     NULL},
    /* Far past the listed transitions: the second Sunday of March 9000 is the 9th. */
    {"30 2 * * *",
     NY,
     NULL,
     NULL,
     "9000-03-08T00:00:00Z",
     {"9000-03-08T07:30:00Z", "9000-03-09T07:00:00Z", "9000-03-10T06:30:00Z"},
     "02:30 does not exist on 9000-03-09 in America/New_York: fires at 03:00 EDT"},
    /* The end of the supported range. */
    {"59 23 31 12 *",
     "UTC",
     NULL,
     NULL,
     "9998-06-01T00:00:00Z",
     {"9998-12-31T23:59:00Z", "9999-12-31T23:59:00Z"},
     NULL},
};

static void load(const struct dst_case *c, struct cron_expr **expr, struct tz_zone **zone,
                 struct cron_schedule *schedule, int64_t *from)
{
    const char *reason;
    assert_int_equal(cron_expr_parse(c->expr, strlen(c->expr), expr, NULL), 0);
    assert_int_equal(tz_zone_load(c->zone, zone), 0);
    assert_int_equal(timefmt_rfc3339_parse(c->from, from, &reason), 0);
    *schedule = (struct cron_schedule){*expr, *zone, {0}, *from};
    if (c->on_gap)
        assert_int_equal(cron_gap_policy_from_string(c->on_gap, &schedule->dst_policy.on_gap), 0);
    if (c->on_overlap)
        assert_int_equal(
            cron_overlap_policy_from_string(c->on_overlap, &schedule->dst_policy.on_overlap), 0);
}

static void test_next_around_dst(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(next_cases); i++) {
        const struct dst_case *c = &next_cases[i];
        struct cron_expr *expr;
        struct tz_zone *zone;
        struct cron_schedule schedule;
        int64_t at;
        bool note_seen = c->note == NULL;
        load(c, &expr, &zone, &schedule, &at);
        for (int k = 0; k < MAX_TIMES && c->times[k]; k++) {
            struct cron_fire fire;
            char got[TIMEFMT_RFC3339_SIZE], note[512];
            assert_int_equal(cron_schedule_next(&schedule, at, &fire), 0);
            timefmt_rfc3339_format(fire.at, got);
            if (strcmp(got, c->times[k]) != 0)
                print_error("'%s' in %s from %s, fire %d: got %s, want %s\n", c->expr, c->zone,
                            c->from, k + 1, got, c->times[k]);
            assert_string_equal(got, c->times[k]);
            cron_fire_explain(&schedule, &fire, note, sizeof(note));
            if (c->note && strcmp(note, c->note) == 0)
                note_seen = true;
            at = fire.at;
        }
        if (!note_seen)
            print_error("'%s' in %s: no fire explained as '%s'\n", c->expr, c->zone, c->note);
        assert_true(note_seen);
        tz_zone_free(zone);
        cron_expr_free(expr);
    }
}

/* prev walks the same fires backwards: from the last expected fire + 1 s, the
 * earlier ones come back in reverse order. */
static void test_prev_mirrors_next(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(next_cases); i++) {
        const struct dst_case *c = &next_cases[i];
        struct cron_expr *expr;
        struct tz_zone *zone;
        struct cron_schedule schedule;
        int64_t from, at;
        const char *reason;
        int n = 0;
        load(c, &expr, &zone, &schedule, &from);
        while (n < MAX_TIMES && c->times[n])
            n++;
        assert_int_equal(timefmt_rfc3339_parse(c->times[n - 1], &at, &reason), 0);
        for (int k = n - 2; k >= 0; k--) {
            struct cron_fire fire;
            char got[TIMEFMT_RFC3339_SIZE];
            assert_int_equal(cron_schedule_prev(&schedule, at, &fire), 0);
            timefmt_rfc3339_format(fire.at, got);
            if (strcmp(got, c->times[k]) != 0)
                print_error("prev '%s' in %s before %lld: got %s, want %s\n", c->expr, c->zone,
                            (long long)at, got, c->times[k]);
            assert_string_equal(got, c->times[k]);
            at = fire.at;
        }
        tz_zone_free(zone);
        cron_expr_free(expr);
    }
}

static void test_every_ignores_dst(void **state)
{
    (void)state;
    /* @every counts elapsed time from its anchor: 90 minutes apart across the gap. */
    struct dst_case c = {"@every 90m", NY, NULL, NULL, "2026-03-08T05:00:00Z", {NULL}, NULL};
    struct cron_expr *expr;
    struct tz_zone *zone;
    struct cron_schedule schedule;
    int64_t at;
    load(&c, &expr, &zone, &schedule, &at);
    for (int k = 1; k <= 4; k++) {
        struct cron_fire fire;
        assert_int_equal(cron_schedule_next(&schedule, at, &fire), 0);
        assert_int_equal(fire.at, schedule.anchor_at + k * 5400);
        at = fire.at;
    }
    struct cron_fire fire;
    assert_int_equal(cron_schedule_prev(&schedule, schedule.anchor_at + 5400, &fire), -ERANGE);
    assert_int_equal(cron_schedule_prev(&schedule, schedule.anchor_at + 5401, &fire), 0);
    assert_int_equal(fire.at, schedule.anchor_at + 5400);
    tz_zone_free(zone);
    cron_expr_free(expr);
}

static void test_end_of_range(void **state)
{
    (void)state;
    struct dst_case c = {"0 0 1 1 *", "UTC", NULL, NULL, "9999-06-01T00:00:00Z", {NULL}, NULL};
    struct cron_expr *expr;
    struct tz_zone *zone;
    struct cron_schedule schedule;
    int64_t at;
    struct cron_fire fire;
    load(&c, &expr, &zone, &schedule, &at);
    assert_int_equal(cron_schedule_next(&schedule, at, &fire), -ERANGE);
    assert_int_equal(cron_schedule_next(&schedule, CRON_MAX_AT, &fire), -ERANGE);
    /* Instants outside years 1-9999 are clamped, never overflow. */
    assert_int_equal(cron_schedule_next(&schedule, INT64_MIN, &fire), 0);
    assert_int_equal(fire.at, CRON_MIN_AT);
    assert_int_equal(cron_schedule_prev(&schedule, INT64_MAX, &fire), 0);
    assert_int_equal(fire.at, INT64_C(253370764800)); /* 9999-01-01T00:00:00Z */
    assert_int_equal(cron_schedule_prev(&schedule, CRON_MIN_AT, &fire), -ERANGE);
    /* Nothing before year 1: the 0001-01-01 fire is the first there is. */
    assert_int_equal(cron_schedule_prev(&schedule, CRON_MIN_AT + 800, &fire), 0);
    assert_int_equal(fire.at, CRON_MIN_AT);
    assert_int_equal(cron_schedule_prev(&schedule, CRON_MIN_AT + 1, &fire), 0);
    assert_int_equal(cron_schedule_prev(&schedule, CRON_MIN_AT, &fire), -ERANGE);
    assert_int_equal(cron_schedule_prev(&schedule, INT64_MIN, &fire), -ERANGE);
    cron_expr_free(expr);
    /* Noon on 0000-12-31 lies before year 1: there is no previous fire. */
    assert_int_equal(cron_expr_parse("0 12 * * *", 10, &expr, NULL), 0);
    schedule.expr = expr;
    assert_int_equal(cron_schedule_prev(&schedule, CRON_MIN_AT + 800, &fire), -ERANGE);
    tz_zone_free(zone);
    cron_expr_free(expr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_around_dst),
        cmocka_unit_test(test_prev_mirrors_next),
        cmocka_unit_test(test_every_ignores_dst),
        cmocka_unit_test(test_end_of_range),
    };
    return cmocka_run_group_tests_name("cron_dst", tests, NULL, NULL);
}
