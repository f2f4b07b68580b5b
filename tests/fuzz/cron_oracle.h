/*
 * cron_oracle - which instants a cron schedule fires at inside a short window,
 * stated plainly, for the fuzz target and the benchmark to check the engine by.
 *
 * It shares no code with src/cron or src/base: dates come from GLib's GDate,
 * the day rule and the time-of-day sets from the caller, the UTC offset from a
 * caller's callback (GLib's GTimeZone in the benchmark, the tz table in the
 * fuzzer).  For every wall-clock slot the schedule names near the window it asks
 * the zone which instants show that wall time, and applies the DST rules of docs/cron.md:
 *   - one instant: the slot fires there;
 *   - two (fall-back overlap): the first, and also the second under "both";
 *   - none (spring-forward gap): the first instant after the gap under "shift",
 *     nowhere under "skip".
 * Several slots may land on one instant; it is one fire.
 *
 * Cost: one GDate step per day of the window plus the slots within a few hours
 * of its ends, so callers keep windows to days or a few years of a sparse
 * expression.  Assumes at most one offset change within any 6 hours, which
 * holds for every zone the callers use.  Header-only: static functions.
 */
#ifndef OVSCHED_TESTS_CRON_ORACLE_H
#define OVSCHED_TESTS_CRON_ORACLE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define ORACLE_DAY         INT64_C(86400)
#define ORACLE_PROBE       INT64_C(21600) /* 6 h between offset probes */
#define ORACLE_UNIX_JULIAN 719163         /* GDate's Julian day of 1970-01-01 */
#define ORACLE_MAX_FIRES   8

struct oracle_schedule {
    uint64_t seconds, minutes, hours; /* bit v set: the field names v */
    /* Does the day YEAR-MONTH-DAY match?  WEEKDAY 0 = Sunday .. 6 = Saturday. */
    bool (*day_matches)(const void *ctx, int year, int month, int day, int weekday,
                        int days_in_month);
    const void *day_ctx;
    int32_t (*offset_at)(const void *ctx, int64_t at); /* local = UTC + offset */
    const void *zone_ctx;
    bool shift_gaps;    /* gap slots fire at the end of the gap (else dropped) */
    bool both_overlaps; /* repeated slots fire twice (else at the first only) */
};

/* Fire instants found in [from_at, to_at], ascending and distinct. */
struct oracle_fires {
    int64_t at[ORACLE_MAX_FIRES];
    int count;     /* how many are in at[] */
    bool overflow; /* more than ORACLE_MAX_FIRES: at[] holds the earliest */
};

static inline int32_t oracle_offset(const struct oracle_schedule *os, int64_t at)
{
    return os->offset_at(os->zone_ctx, at);
}

static inline int64_t oracle_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void oracle_fires_add(struct oracle_fires *f, int64_t at)
{
    int i = 0;
    while (i < f->count && f->at[i] < at)
        i++;
    if (i < f->count && f->at[i] == at)
        return;
    if (f->count == ORACLE_MAX_FIRES) {
        f->overflow = true;
        if (i == ORACLE_MAX_FIRES)
            return;
        f->count--; /* drop the latest to keep the earliest */
    }
    for (int j = f->count; j > i; j--)
        f->at[j] = f->at[j - 1];
    f->at[i] = at;
    f->count++;
}

/* The first instant in (LO, HI] whose offset differs from LO's (one exists). */
static int64_t oracle_transition(const struct oracle_schedule *os, int64_t lo, int64_t hi)
{
    int32_t before = oracle_offset(os, lo);
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (oracle_offset(os, mid) == before)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* Add the instants at which wall time WALL fires to OUT when inside [FROM, TO]. */
static void oracle_slot(const struct oracle_schedule *os, int64_t wall, int64_t from_at,
                        int64_t to_at, struct oracle_fires *out)
{
    /* Every offset in use is within +-18 h, so the instants showing WALL lie in
     * [wall - 18 h, wall + 18 h]; sample the offsets there. */
    int64_t probes[7];
    int32_t offsets[7];
    int64_t shown[7];
    int n_shown = 0;
    for (int k = 0; k < 7; k++) {
        probes[k] = wall + (k - 3) * ORACLE_PROBE;
        offsets[k] = oracle_offset(os, probes[k]);
    }
    for (int k = 0; k < 7; k++) {
        int64_t at = wall - offsets[k];
        if (oracle_offset(os, at) != offsets[k])
            continue;
        bool seen = false;
        for (int i = 0; i < n_shown; i++)
            seen |= shown[i] == at;
        if (!seen)
            shown[n_shown++] = at;
    }
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (int i = 0; i < n_shown; i++) {
        first = shown[i] < first ? shown[i] : first;
        last = shown[i] > last ? shown[i] : last;
    }
    if (n_shown > 0) {
        if (first >= from_at && first <= to_at)
            oracle_fires_add(out, first);
        if (n_shown > 1 && os->both_overlaps && last >= from_at && last <= to_at)
            oracle_fires_add(out, last);
        return;
    }
    if (!os->shift_gaps)
        return;
    /* A gap: find the spring-forward transition whose skipped wall times hold WALL. */
    for (int k = 0; k + 1 < 7; k++) {
        if (offsets[k + 1] <= offsets[k])
            continue;
        int64_t at = oracle_transition(os, probes[k], probes[k + 1]);
        int32_t before = oracle_offset(os, at - 1), after = oracle_offset(os, at);
        if (wall >= at + before && wall < at + after) {
            if (at >= from_at && at <= to_at)
                oracle_fires_add(out, at);
            return;
        }
    }
}

/* Every fire of OS in [FROM_AT, TO_AT].  Years 2..65535 only (GDate's range). */
static void oracle_fires_between(const struct oracle_schedule *os, int64_t from_at, int64_t to_at,
                                 struct oracle_fires *out)
{
    out->count = 0;
    out->overflow = false;
    /* Only slots whose wall time is within the offsets seen near the window's ends
     * can fire inside it: an instant AT shows AT + offset(AT), and a gap slot fires
     * at the transition, between its two offsets. */
    int32_t probes[4] = {oracle_offset(os, from_at - ORACLE_DAY), oracle_offset(os, from_at),
                         oracle_offset(os, to_at), oracle_offset(os, to_at + ORACLE_DAY)};
    int32_t lo = probes[0], hi = probes[0];
    for (int i = 1; i < 4; i++) {
        lo = probes[i] < lo ? probes[i] : lo;
        hi = probes[i] > hi ? probes[i] : hi;
    }
    int64_t wall_lo = from_at + lo, wall_hi = to_at + hi;
    int64_t day_lo = oracle_floor_div(wall_lo, ORACLE_DAY);
    int64_t day_hi = oracle_floor_div(wall_hi, ORACLE_DAY);
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_julian(&date, (guint32)(day_lo + ORACLE_UNIX_JULIAN));
    for (int64_t day = day_lo; day <= day_hi; day++, g_date_add_days(&date, 1)) {
        int year = g_date_get_year(&date), month = g_date_get_month(&date);
        int mday = g_date_get_day(&date);
        int weekday = g_date_get_weekday(&date) % 7; /* GLib: Monday 1 .. Sunday 7 */
        int dim = g_date_get_days_in_month((GDateMonth)month, (GDateYear)year);
        if (!os->day_matches(os->day_ctx, year, month, mday, weekday, dim))
            continue;
        for (int h = 0; h < 24; h++) {
            int64_t hour_wall = day * ORACLE_DAY + h * 3600;
            if (!(os->hours >> h & 1) || hour_wall + 3599 < wall_lo || hour_wall > wall_hi)
                continue;
            for (int m = 0; m < 60; m++) {
                int64_t minute_wall = hour_wall + m * 60;
                if (!(os->minutes >> m & 1) || minute_wall + 59 < wall_lo || minute_wall > wall_hi)
                    continue;
                for (int s = 0; s < 60; s++) {
                    int64_t wall = minute_wall + s;
                    if (os->seconds >> s & 1 && wall >= wall_lo && wall <= wall_hi)
                        oracle_slot(os, wall, from_at, to_at, out);
                }
            }
        }
    }
}

#endif
