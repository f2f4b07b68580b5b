/*
 * bench_cron - how long cron_schedule_next() takes, and proof that every answer
 * it gave while being timed was right.
 *
 * Workload: eleven representative expressions (5 and 6 fields, names, steps, the
 * Quartz forms L, nL, nW, n#k, a leap day, a stepped `*` day of month ANDed
 * with a weekday, and the two DST cases: a fixed hour inside New York's spring
 * gap and fall-back overlap, and a wildcard hour), each
 * asked for its next fire from the same set of start times: about 3000 spread
 * over 2020-2029 (unaligned, on whole minutes and on whole hours) plus 27 around
 * each of New York's 20 DST transitions in those years.  Timed in
 * America/New_York and in UTC with CLOCK_MONOTONIC; the figure is the mean over
 * all rounds.  The target is 400 ns per call in New York.
 *
 * Checking, outside the timed loop, every stored answer N for start T:
 *   - the fire's local wall time, read with GLib's GDateTime (not the engine's
 *     tz table), matches the expression's fields, or the fire is a documented
 *     DST shift: an instant where the offset springs forward and whose gap holds
 *     the slot;
 *   - P = cron_schedule_prev(N) is before N and not after T, and next(P) == N;
 *   - cron_oracle.h, on GLib's zone and hand-written day rules, finds exactly
 *     {P, N} in [P, N]: both are fires, and nothing fired in between.
 * The expressions' meanings are written here by hand, not read from the parser.
 * Exit status 1 when any answer is wrong.  A missed target is printed (NOT
 * MET) but is not a failure: the figure depends on the machine's load, and
 * `make bench` must go on to its other figures (as bench_daemon does).
 */
#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron/cron.h"
#include "tz/tz.h"

#include "../tests/fuzz/cron_oracle.h"

#define TARGET_NS     400.0
#define ROUNDS        50
#define RANGE_FROM_AT INT64_C(1577836800) /* 2020-01-01T00:00:00Z */
#define RANGE_TO_AT   INT64_C(1893456000) /* 2030-01-01T00:00:00Z */
#define UNIFORM_STEP  105211              /* s: ~29 h, so every hour of the day comes up */
#define MAX_STARTS    4096
#define SHOW_WRONG    5

#define B(n)      (UINT64_C(1) << (n))
#define ALL_HOURS (B(24) - 1)
#define EVERY_5                                                                                    \
    (B(0) | B(5) | B(10) | B(15) | B(20) | B(25) | B(30) | B(35) | B(40) | B(45) | B(50) | B(55))

/* ---- what each expression means, written by hand ---- */

static bool any_day(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m, (void)d, (void)wd, (void)dim;
    return true;
}

static bool monday(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m, (void)d, (void)dim;
    return wd == 1;
}

static bool monday_to_friday(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m, (void)d, (void)dim;
    return wd >= 1 && wd <= 5;
}

static bool last_day(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m, (void)wd;
    return d == dim;
}

static bool leap_day(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)wd, (void)dim;
    return m == 2 && d == 29;
}

static bool last_friday(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m;
    return wd == 5 && d + 7 > dim;
}

static bool third_friday(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m, (void)dim;
    return wd == 5 && d >= 15 && d <= 21;
}

/* Quartz 15W: the 15th, or the Friday before / Monday after when it is a weekend. */
static bool weekday_nearest_15th(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m, (void)dim;
    int wd15 = ((wd + 15 - d) % 7 + 7) % 7;
    int target = wd15 == 6 ? 14 : wd15 == 0 ? 16 : 15;
    return d == target;
}

/* Vixie's AND: a starred day of month beside a weekday. */
static bool monday_on_7k_plus_1(const void *ctx, int y, int m, int d, int wd, int dim)
{
    (void)ctx, (void)y, (void)m, (void)dim;
    return wd == 1 && (d - 1) % 7 == 0;
}

typedef bool day_rule(const void *ctx, int y, int m, int d, int wd, int dim);

static const struct bench_case {
    const char *text;
    const char *what;
    uint64_t seconds, minutes, hours;
    day_rule *day;
    bool hour_wildcard; /* docs/cron.md: skips gaps, fires in both repeated hours */
} cases[] = {
    {"0 9 * * 1", "Mondays 09:00", B(0), B(0), B(9), monday, false},
    {"*/5 * * * *", "every 5 min", B(0), EVERY_5, ALL_HOURS, any_day, true},
    {"30 2 * * *", "02:30 (NY gap)", B(0), B(30), B(2), any_day, false},
    {"0 30 1 * * *", "01:30:00 (NY overlap)", B(0), B(30), B(1), any_day, false},
    {"0 0 L * *", "last day of month", B(0), B(0), B(0), last_day, false},
    {"0 9 * * MON-FRI", "weekdays 09:00", B(0), B(0), B(9), monday_to_friday, false},
    {"0 0 29 2 *", "leap day", B(0), B(0), B(0), leap_day, false},
    {"15 10 ? * 5L", "last Friday", B(0), B(15), B(10), last_friday, false},
    {"0 0 12 15W * ?", "weekday nearest 15th", B(0), B(0), B(12), weekday_nearest_15th, false},
    {"0 15 10 ? * FRI#3", "third Friday", B(0), B(15), B(10), third_friday, false},
    {"0 12 */7 * 1", "Mon on 1st,8th,..29th", B(0), B(0), B(12), monday_on_7k_plus_1, false},
};
#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))

static const char *const zone_names[] = {"America/New_York", "UTC"};
#define ZONE_COUNT (sizeof(zone_names) / sizeof(zone_names[0]))

struct zone {
    struct tz_zone *tz; /* the engine's */
    GTimeZone *gtz;     /* the checker's */
};

static int32_t glib_offset_at(const void *ctx, int64_t at)
{
    GTimeZone *gtz = (GTimeZone *)ctx;
    return g_time_zone_get_offset(gtz, g_time_zone_find_interval(gtz, G_TIME_TYPE_UNIVERSAL, at));
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- start times ---- */

static int add_transitions(GTimeZone *gtz, int64_t *starts, int count)
{
    for (int64_t day = RANGE_FROM_AT; day < RANGE_TO_AT; day += ORACLE_DAY) {
        if (glib_offset_at(gtz, day) == glib_offset_at(gtz, day + ORACLE_DAY))
            continue;
        int64_t lo = day, hi = day + ORACLE_DAY; /* offset changes in (lo, hi] */
        int32_t before = glib_offset_at(gtz, lo);
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            *(glib_offset_at(gtz, mid) == before ? &lo : &hi) = mid;
        }
        for (int k = -12; k <= 12 && count < MAX_STARTS; k++)
            starts[count++] = hi + k * 900; /* quarter hours from 3 h before to 3 h after */
        if (count + 2 <= MAX_STARTS) {
            starts[count++] = hi - 1;
            starts[count++] = hi + 1;
        }
    }
    return count;
}

static int make_starts(GTimeZone *new_york, int64_t *starts)
{
    int count = 0;
    for (int64_t at = RANGE_FROM_AT; at < RANGE_TO_AT && count < MAX_STARTS; at += UNIFORM_STEP) {
        switch (count % 4) {
        case 0:
            starts[count++] = at - at % 3600;
            break;
        case 1:
            starts[count++] = at - at % 60;
            break;
        default:
            starts[count++] = at;
        }
    }
    return add_transitions(new_york, starts, count);
}

/* ---- checking ---- */

struct tally {
    long checked, wrong, shifted, overlap_first, overlap_second;
};

static void format_local(GTimeZone *gtz, int64_t at, char *buf, size_t size)
{
    GDateTime *utc = g_date_time_new_from_unix_utc(at);
    GDateTime *local = g_date_time_to_timezone(utc, gtz);
    gchar *text = g_date_time_format(local, "%Y-%m-%d %H:%M:%S %Z");
    snprintf(buf, size, "%s", text);
    g_free(text);
    g_date_time_unref(local);
    g_date_time_unref(utc);
}

/* Does the local wall time at instant AT match BC's fields, read by GDateTime? */
static bool local_time_matches(const struct bench_case *bc, GTimeZone *gtz, int64_t at)
{
    GDateTime *utc = g_date_time_new_from_unix_utc(at);
    GDateTime *local = g_date_time_to_timezone(utc, gtz);
    int y, m, d;
    g_date_time_get_ymd(local, &y, &m, &d);
    int wd = g_date_time_get_day_of_week(local) % 7; /* GLib: Monday 1 .. Sunday 7 */
    int dim = g_date_get_days_in_month((GDateMonth)m, (GDateYear)y);
    bool ok = bc->hours >> g_date_time_get_hour(local) & 1 &&
              bc->minutes >> g_date_time_get_minute(local) & 1 &&
              bc->seconds >> g_date_time_get_second(local) & 1 && bc->day(NULL, y, m, d, wd, dim);
    g_date_time_unref(local);
    g_date_time_unref(utc);
    return ok;
}

/* Does wall time WALL (seconds of the local clock) match BC's fields? */
static bool wall_matches(const struct bench_case *bc, int64_t wall)
{
    int64_t day = oracle_floor_div(wall, ORACLE_DAY), secs = wall - day * ORACLE_DAY;
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_julian(&date, (guint32)(day + ORACLE_UNIX_JULIAN));
    int y = g_date_get_year(&date), m = g_date_get_month(&date);
    return bc->hours >> (secs / 3600) & 1 && bc->minutes >> (secs / 60 % 60) & 1 &&
           bc->seconds >> (secs % 60) & 1 &&
           bc->day(NULL, y, m, g_date_get_day(&date), g_date_get_weekday(&date) % 7,
                   g_date_get_days_in_month((GDateMonth)m, (GDateYear)y));
}

/* One answer: NEXT_AT for START_AT.  Returns NULL when right, else what is wrong. */
static const char *check_answer(const struct bench_case *bc, const struct cron_schedule *schedule,
                                GTimeZone *gtz, const struct oracle_schedule *os, int64_t start_at,
                                int64_t next_at, struct tally *tally)
{
    struct cron_fire fire, prev, again;
    if (next_at == INT64_MIN)
        return "cron_schedule_next failed";
    if (next_at <= start_at)
        return "next is not after the start";
    /* The same call again, untimed, for the DST note and the slot. */
    if (cron_schedule_next(schedule, start_at, &fire) < 0 || fire.at != next_at)
        return "a second call gave another answer";
    tally->shifted += fire.note == CRON_DST_SHIFTED;
    tally->overlap_first += fire.note == CRON_DST_OVERLAP_FIRST;
    tally->overlap_second += fire.note == CRON_DST_OVERLAP_SECOND;
    if (!local_time_matches(bc, gtz, next_at)) {
        int32_t before = glib_offset_at(gtz, next_at - 1), after = glib_offset_at(gtz, next_at);
        bool documented_shift =
            fire.note == CRON_DST_SHIFTED && after > before && fire.slot_wall >= next_at + before &&
            fire.slot_wall < next_at + after && wall_matches(bc, fire.slot_wall);
        if (!documented_shift)
            return "local wall time does not match, and no DST shift explains it";
    }
    if (cron_schedule_prev(schedule, next_at, &prev) < 0)
        return "cron_schedule_prev(next) failed";
    if (prev.at >= next_at || prev.at > start_at)
        return "prev(next) is not before the start";
    if (cron_schedule_next(schedule, prev.at, &again) < 0 || again.at != next_at)
        return "next(prev(next)) != next";
    struct oracle_fires fires;
    oracle_fires_between(os, prev.at, next_at, &fires);
    if (fires.count != 2 || fires.at[0] != prev.at || fires.at[1] != next_at)
        return "the oracle's fires in [prev, next] are not exactly {prev, next}";
    return NULL;
}

/* ---- timing ---- */

struct result {
    double mean_ns, best_ns;
    long calls, wrong;
};

static void run_case(const struct bench_case *bc, const struct zone *zone, const int64_t *starts,
                     int count, int64_t *answers, struct result *res, struct tally *tally)
{
    struct cron_expr *expr = NULL;
    struct cron_error err;
    if (cron_expr_parse(bc->text, strlen(bc->text), &expr, &err) < 0) {
        char why[256];
        cron_error_format(&err, why, sizeof(why));
        fprintf(stderr, "bench_cron: cannot parse \"%s\": %s\n", bc->text, why);
        exit(2);
    }
    struct cron_schedule schedule = {.expr = expr, .zone = zone->tz};
    struct cron_fire fire;
    int64_t sum = 0, first_sum = 0;
    for (int i = 0; i < count; i++) /* warm-up, untimed */
        sum += cron_schedule_next(&schedule, starts[i], &fire) == 0 ? fire.at : 0;
    int64_t total_ns = 0, best_ns = INT64_MAX;
    bool stable = true;
    for (int round = 0; round < ROUNDS; round++) {
        sum = 0;
        int64_t t0 = now_ns();
        for (int i = 0; i < count; i++) {
            int r = cron_schedule_next(&schedule, starts[i], &fire);
            answers[i] = r == 0 ? fire.at : INT64_MIN;
            sum += answers[i];
        }
        int64_t elapsed = now_ns() - t0;
        total_ns += elapsed;
        best_ns = elapsed < best_ns ? elapsed : best_ns;
        if (round == 0)
            first_sum = sum;
        stable &= sum == first_sum;
    }
    res->calls = (long)ROUNDS * count;
    res->mean_ns = (double)total_ns / (double)res->calls;
    res->best_ns = (double)best_ns / count;
    res->wrong = stable ? 0 : 1;
    if (!stable)
        printf("  WRONG %s in %s: answers differ between rounds\n", bc->text,
               tz_zone_name(zone->tz));

    struct oracle_schedule os = {
        .seconds = bc->seconds,
        .minutes = bc->minutes,
        .hours = bc->hours,
        .day_matches = bc->day,
        .offset_at = glib_offset_at,
        .zone_ctx = zone->gtz,
        .shift_gaps = !bc->hour_wildcard,
        .both_overlaps = bc->hour_wildcard,
    };
    for (int i = 0; i < count; i++) {
        const char *why = check_answer(bc, &schedule, zone->gtz, &os, starts[i], answers[i], tally);
        tally->checked++;
        if (!why)
            continue;
        res->wrong++;
        if (res->wrong <= SHOW_WRONG) {
            char from[64], got[64] = "none";
            format_local(zone->gtz, starts[i], from, sizeof(from));
            if (answers[i] != INT64_MIN)
                format_local(zone->gtz, answers[i], got, sizeof(got));
            printf("  WRONG \"%s\" in %s: next after %lld (%s) = %lld (%s): %s\n", bc->text,
                   tz_zone_name(zone->tz), (long long)starts[i], from, (long long)answers[i], got,
                   why);
        }
    }
    tally->wrong += res->wrong;
    cron_expr_free(expr);
}

int main(void)
{
    struct zone zones[ZONE_COUNT];
    for (size_t z = 0; z < ZONE_COUNT; z++) {
        int r = tz_zone_load(zone_names[z], &zones[z].tz);
        zones[z].gtz = g_time_zone_new_identifier(zone_names[z]);
        if (r < 0 || !zones[z].gtz) {
            fprintf(stderr, "bench_cron: cannot load %s: is tzdata installed?\n", zone_names[z]);
            return 2;
        }
    }
    static int64_t starts[MAX_STARTS], answers[MAX_STARTS];
    int count = make_starts(zones[0].gtz, starts);
    static struct result results[ZONE_COUNT][CASE_COUNT];
    struct tally tallies[ZONE_COUNT] = {0};

    printf("bench_cron: cron_schedule_next, %d start times over 2020-2029 (%d near DST "
           "transitions), %d rounds\n\n",
           count, count - (int)((RANGE_TO_AT - RANGE_FROM_AT + UNIFORM_STEP - 1) / UNIFORM_STEP),
           ROUNDS);
    for (size_t z = 0; z < ZONE_COUNT; z++)
        for (size_t c = 0; c < CASE_COUNT; c++)
            run_case(&cases[c], &zones[z], starts, count, answers, &results[z][c], &tallies[z]);

    printf("%-20s %-22s", "expression", "meaning");
    for (size_t z = 0; z < ZONE_COUNT; z++)
        printf(" %18s", zone_names[z]);
    printf(" %7s\n%-20s %-22s", "wrong", "", "");
    for (size_t z = 0; z < ZONE_COUNT; z++)
        printf(" %18s", "ns/call (best rnd)");
    printf("\n");
    double zone_ns[ZONE_COUNT] = {0};
    long zone_calls[ZONE_COUNT] = {0};
    for (size_t c = 0; c < CASE_COUNT; c++) {
        long wrong = 0;
        printf("%-20s %-22s", cases[c].text, cases[c].what);
        for (size_t z = 0; z < ZONE_COUNT; z++) {
            const struct result *res = &results[z][c];
            printf("   %8.1f (%5.1f)", res->mean_ns, res->best_ns);
            zone_ns[z] += res->mean_ns * (double)res->calls;
            zone_calls[z] += res->calls;
            wrong += res->wrong;
        }
        printf(" %7ld\n", wrong);
    }
    printf("%-20s %-22s", "mean per zone", "");
    for (size_t z = 0; z < ZONE_COUNT; z++)
        printf("   %8.1f        ", zone_ns[z] / (double)zone_calls[z]);
    printf("\n\n");

    long wrong = 0;
    for (size_t z = 0; z < ZONE_COUNT; z++) {
        printf("%s: %ld answers checked, %ld wrong; DST notes: %ld shifted, %ld first of "
               "a repeated hour, %ld repeats\n",
               zone_names[z], tallies[z].checked, tallies[z].wrong, tallies[z].shifted,
               tallies[z].overlap_first, tallies[z].overlap_second);
        wrong += tallies[z].wrong;
    }
    double new_york_ns = zone_ns[0] / (double)zone_calls[0];
    bool fast = new_york_ns <= TARGET_NS;
    printf("\nwrong answers: %ld\n", wrong);
    printf("target: at most %.0f ns per call in America/New_York: %.1f ns, %s\n", TARGET_NS,
           new_york_ns, fast ? "met" : "NOT MET");

    for (size_t z = 0; z < ZONE_COUNT; z++) {
        tz_zone_free(zones[z].tz);
        g_time_zone_unref(zones[z].gtz);
    }
    return wrong == 0 ? 0 : 1;
}
