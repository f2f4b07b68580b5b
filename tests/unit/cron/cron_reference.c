/*
 * cron_reference - the slow, obviously right engine.  See cron_reference.h.
 */
#include "cron_reference.h"

#define DAY         INT64_C(86400)
#define HOUR        INT64_C(3600)
#define SEARCH_DAYS (366 * 10)

static GDateWeekday weekday_of(int year, int month, int day)
{
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_dmy(&date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
    return g_date_get_weekday(&date); /* Monday = 1 .. Sunday = 7 */
}

/* 0 = Sunday .. 6 = Saturday, as cron counts. */
static int cron_weekday(int year, int month, int day)
{
    return weekday_of(year, month, day) % 7;
}

static bool is_weekday(int year, int month, int day)
{
    int w = cron_weekday(year, month, day);
    return w >= 1 && w <= 5;
}

/* Quartz nW: the weekday nearest day N, staying inside the month. */
static int nearest_weekday(int year, int month, int n)
{
    int dim = g_date_get_days_in_month((GDateMonth)month, (GDateYear)year);
    if (is_weekday(year, month, n))
        return n;
    int w = cron_weekday(year, month, n);
    if (w == 6) /* Saturday: Friday before, unless that leaves the month */
        return n > 1 ? n - 1 : n + 2;
    return n < dim ? n + 1 : n - 2; /* Sunday */
}

static bool dom_matches(const struct cron_expr *e, int year, int month, int day)
{
    int dim = g_date_get_days_in_month((GDateMonth)month, (GDateYear)year);
    if (e->dom >> day & 1)
        return true;
    for (int n = 0; n <= 30; n++)
        if (e->dom_last >> n & 1 && day == dim - n)
            return true;
    for (int n = 1; n <= 31; n++)
        if (e->dom_near >> n & 1 && n <= dim && nearest_weekday(year, month, n) == day)
            return true;
    if (e->dom_last_weekday) {
        int last = dim;
        while (!is_weekday(year, month, last))
            last--;
        if (day == last)
            return true;
    }
    return false;
}

static bool dow_matches(const struct cron_expr *e, int year, int month, int day)
{
    int dim = g_date_get_days_in_month((GDateMonth)month, (GDateYear)year);
    int w = cron_weekday(year, month, day);
    if (e->dow >> w & 1)
        return true;
    if (e->dow_last >> w & 1 && day + 7 > dim)
        return true;
    int occurrence = (day - 1) / 7 + 1;
    return e->dow_nth[w] >> occurrence & 1;
}

bool cron_reference_day_matches(const struct cron_expr *e, int year, int month, int day)
{
    if (!(e->months >> month & 1))
        return false;
    bool dom = dom_matches(e, year, month, day), dow = dow_matches(e, year, month, day);
    /* Vixie cron: a field whose text starts with `*` or `?` makes it AND. */
    if (e->dom_star || e->dow_star)
        return dom && dow;
    return dom || dow;
}

static int32_t offset_at(GTimeZone *zone, int64_t at)
{
    return g_time_zone_get_offset(zone, g_time_zone_find_interval(zone, G_TIME_TYPE_UNIVERSAL, at));
}

/* Unix seconds of a wall-clock time read as if it were UTC. */
static int64_t wall_seconds(int year, int month, int day, int hour, int minute, int second)
{
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_dmy(&date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
    int64_t days = (int64_t)g_date_get_julian(&date) - 719163; /* julian of 1970-01-01 */
    return days * DAY + hour * HOUR + minute * 60 + second;
}

struct fires {
    int64_t at[8];
    int count;
};

static void fires_add(struct fires *f, int64_t at)
{
    if (f->count < 8)
        f->at[f->count++] = at;
}

/* The instants at which slot WALL fires, given the offsets seen near it. */
static void slot_fires(const struct cron_reference *ref, int64_t wall, const int32_t *offsets,
                       int n_offsets, struct fires *out)
{
    int64_t instants[8];
    int count = 0;
    int32_t lo = offsets[0], hi = offsets[0];
    for (int i = 0; i < n_offsets; i++) {
        int64_t u = wall - offsets[i];
        if (offset_at(ref->zone, u) == offsets[i])
            instants[count++] = u;
        lo = MIN(lo, offsets[i]), hi = MAX(hi, offsets[i]);
    }
    if (count == 0) {
        if (!ref->shift_gaps)
            return;
        /* The first instant whose wall time is past WALL: the end of the gap. */
        int64_t a = wall - hi, b = wall - lo;
        while (b - a > 1) {
            int64_t mid = a + (b - a) / 2;
            if (mid + offset_at(ref->zone, mid) > wall)
                b = mid;
            else
                a = mid;
        }
        fires_add(out, b);
        return;
    }
    int64_t first = instants[0];
    for (int i = 1; i < count; i++)
        first = MIN(first, instants[i]);
    if (!ref->both_overlaps) {
        fires_add(out, first);
        return;
    }
    for (int i = 0; i < count; i++)
        fires_add(out, instants[i]);
}

/* Every offset the zone has within a day and a half of wall day DAYS. */
static int offsets_near(GTimeZone *zone, int64_t days, int32_t *out)
{
    int n = 0;
    for (int64_t at = days * DAY - 15 * HOUR; at <= days * DAY + DAY + 15 * HOUR; at += 3 * HOUR) {
        int32_t o = offset_at(zone, at);
        bool seen = false;
        for (int i = 0; i < n; i++)
            seen |= out[i] == o;
        if (!seen && n < 8)
            out[n++] = o;
    }
    return n;
}

typedef bool (*fire_visit)(void *ctx, int64_t at);

/* Call VISIT for every fire of every slot on wall day DAYS (days since 1970). */
static void day_fires(const struct cron_reference *ref, int64_t days, fire_visit visit, void *ctx)
{
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_julian(&date, (guint32)(days + 719163));
    int year = g_date_get_year(&date), month = g_date_get_month(&date), day = g_date_get_day(&date);
    if (!cron_reference_day_matches(ref->expr, year, month, day))
        return;
    int32_t offsets[8];
    int n_offsets = offsets_near(ref->zone, days, offsets);
    const struct cron_expr *e = ref->expr;
    for (int h = 0; h < 24; h++) {
        if (!(e->hours >> h & 1))
            continue;
        for (int m = 0; m < 60; m++) {
            if (!(e->minutes >> m & 1))
                continue;
            for (int s = 0; s < 60; s++) {
                if (!(e->seconds >> s & 1))
                    continue;
                struct fires f = {.count = 0};
                slot_fires(ref, wall_seconds(year, month, day, h, m, s), offsets, n_offsets, &f);
                for (int i = 0; i < f.count; i++)
                    if (!visit(ctx, f.at[i]))
                        return;
            }
        }
    }
}

struct search {
    int64_t bound;
    int64_t best;
    bool found;
    bool forward;
};

static bool keep_best(void *ctx, int64_t at)
{
    struct search *s = ctx;
    bool better = s->forward ? at > s->bound && (!s->found || at < s->best)
                             : at < s->bound && (!s->found || at > s->best);
    if (better)
        s->best = at, s->found = true;
    return true;
}

bool cron_reference_next(const struct cron_reference *ref, int64_t after_at, int64_t *ret_at)
{
    struct search s = {.bound = after_at, .forward = true};
    int64_t first_day = after_at / DAY - 2;
    for (int64_t d = first_day; d < first_day + SEARCH_DAYS; d++) {
        /* Slots of day D fire no earlier than D 00:00 - 14 h (the largest offset). */
        if (s.found && d * DAY - 15 * HOUR > s.best)
            break;
        day_fires(ref, d, keep_best, &s);
    }
    *ret_at = s.best;
    return s.found;
}

bool cron_reference_prev(const struct cron_reference *ref, int64_t before_at, int64_t *ret_at)
{
    struct search s = {.bound = before_at, .forward = false};
    int64_t last_day = before_at / DAY + 2;
    for (int64_t d = last_day; d > last_day - SEARCH_DAYS; d--) {
        if (s.found && d * DAY + DAY + 15 * HOUR < s.best)
            break;
        day_fires(ref, d, keep_best, &s);
    }
    *ret_at = s.best;
    return s.found;
}
