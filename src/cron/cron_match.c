/*
 * cron_match - wall-clock search: the next or previous wall time a cron
 * expression names, with no time zone involved.
 *
 * Each field is a bitmask, so a step is "lowest set bit at or above the current
 * value" (ctz) going forward and "highest at or below" (clz) going back; a miss
 * carries into the next larger field and resets the smaller ones.  Days are
 * resolved a month at a time into one 32-bit mask that already applies the
 * day-of-month/day-of-week rule and the Quartz forms, so a yearly expression
 * costs a dozen month steps, not 365 day steps.  Searches stop after 401 years: the Gregorian
 * calendar repeats every 400, so anything not found by then never comes.
 */
#include <errno.h>

#include "base/civil.h"
#include "cron/internal.h"

#define SEARCH_YEARS 401

/* The weekday (Mon-Fri) nearest DAY without leaving the month (Quartz `nW`). */
static int nearest_weekday(int day, int first_weekday, int days_in_month)
{
    int weekday = (first_weekday + day - 1) % 7;
    if (weekday == 6)
        return day == 1 ? day + 2 : day - 1;
    if (weekday == 0)
        return day == days_in_month ? day - 2 : day + 1;
    return day;
}

static uint32_t special_dom_days(const struct cron_expr *expr, int first_weekday, int dim)
{
    uint32_t days = 0;
    for (int n = 0; n <= 30; n++)
        if (expr->dom_last >> n & 1 && dim - n >= 1)
            days |= UINT32_C(1) << (dim - n);
    for (int day = 1; day <= 31; day++)
        if (expr->dom_near >> day & 1 && day <= dim)
            days |= UINT32_C(1) << nearest_weekday(day, first_weekday, dim);
    if (expr->dom_last_weekday)
        days |= UINT32_C(1) << nearest_weekday(dim, first_weekday, dim);
    return days;
}

static uint32_t special_dow_days(const struct cron_expr *expr, int first_weekday, int dim)
{
    uint32_t days = 0;
    int last_weekday = (first_weekday + dim - 1) % 7;
    for (int w = 0; w < 7; w++) {
        if (expr->dow_last >> w & 1)
            days |= UINT32_C(1) << (dim - (last_weekday - w + 7) % 7);
        int first = 1 + (w - first_weekday + 7) % 7;
        for (int k = 1; k <= 5; k++) {
            int day = first + 7 * (k - 1);
            if (expr->dow_nth[w] >> k & 1 && day <= dim)
                days |= UINT32_C(1) << day;
        }
    }
    return days;
}

uint32_t cron_month_days(const struct cron_expr *expr, int64_t year, int month)
{
    if (!(expr->months >> month & 1))
        return 0;
    int dim = civil_days_in_month(year, month);
    int first_weekday = civil_weekday_from_days(civil_days_from_date(year, month, 1));
    uint32_t valid = (uint32_t)(((UINT64_C(1) << dim) - 1) << 1);
    uint32_t dom = expr->dom & valid;
    uint32_t dow = expr->dow_days[first_weekday] & valid;
    if (expr->has_day_specials) {
        dom |= special_dom_days(expr, first_weekday, dim);
        dow |= special_dow_days(expr, first_weekday, dim);
    }
    /* Vixie cron's rule (docs/cron.md, "Which days match"): when either day
     * field's text starts with `*` or `?`, a day must match both masks; only
     * two restricted fields are ORed.  A starred field's mask still applies:
     * every 7th day (`*` stepped by 7) beside `MON` keeps only the Mondays on
     * the 1st, 8th, 15th, 22nd and 29th. */
    if (expr->dom_star || expr->dow_star)
        return dom & dow;
    return dom | dow;
}

/* Bits of MASK at or above position FROM (FROM may be 64). */
static inline uint64_t bits_from(uint64_t mask, int from)
{
    return from >= 64 ? 0 : mask >> from << from;
}

/* Bits of MASK at or below position UPTO (UPTO may be -1). */
static inline uint64_t bits_upto(uint64_t mask, int upto)
{
    if (upto < 0)
        return 0;
    return upto >= 63 ? mask : mask & ((UINT64_C(2) << upto) - 1);
}

static inline int highest_bit(uint64_t mask)
{
    return 63 - __builtin_clzll(mask);
}

/* The month cache keeps one month's day mask across carries. */
struct month_cache {
    int64_t year;
    int month;
    uint32_t days;
};

static uint32_t month_days_cached(const struct cron_expr *expr, struct month_cache *cache,
                                  int64_t year, int month)
{
    if (cache->year != year || cache->month != month) {
        cache->year = year;
        cache->month = month;
        cache->days = cron_month_days(expr, year, month);
    }
    return cache->days;
}

int cron_wall_next(const struct cron_expr *expr, int64_t after_wall, int64_t *ret_wall)
{
    struct civil_time ct;
    civil_from_seconds(after_wall + 1, &ct);
    int64_t year = ct.year, last_year = ct.year + SEARCH_YEARS;
    int month = ct.month, day = ct.day, hour = ct.hour, minute = ct.minute, second = ct.second;
    struct month_cache cache = {.month = 0};
    for (;;) {
        if (month > 12) {
            year++;
            month = 1;
        }
        if (year > last_year)
            return -ERANGE;
        uint64_t days = bits_from(month_days_cached(expr, &cache, year, month), day);
        if (!days) {
            month++, day = 1, hour = minute = second = 0;
            continue;
        }
        if (__builtin_ctzll(days) != day)
            day = __builtin_ctzll(days), hour = minute = second = 0;
        uint64_t hours = bits_from(expr->hours, hour);
        if (!hours) {
            day++, hour = minute = second = 0;
            continue;
        }
        if (__builtin_ctzll(hours) != hour)
            hour = __builtin_ctzll(hours), minute = second = 0;
        uint64_t minutes = bits_from(expr->minutes, minute);
        if (!minutes) {
            hour++, minute = second = 0;
            continue;
        }
        if (__builtin_ctzll(minutes) != minute)
            minute = __builtin_ctzll(minutes), second = 0;
        uint64_t seconds = bits_from(expr->seconds, second);
        if (!seconds) {
            minute++, second = 0;
            continue;
        }
        second = __builtin_ctzll(seconds);
        struct civil_time found = {year, month, day, hour, minute, second};
        *ret_wall = civil_to_seconds(&found);
        return 0;
    }
}

int cron_wall_prev(const struct cron_expr *expr, int64_t before_wall, int64_t *ret_wall)
{
    struct civil_time ct;
    civil_from_seconds(before_wall - 1, &ct);
    int64_t year = ct.year, first_year = ct.year - SEARCH_YEARS;
    int month = ct.month, day = ct.day, hour = ct.hour, minute = ct.minute, second = ct.second;
    struct month_cache cache = {.month = 0};
    for (;;) {
        if (month < 1) {
            year--;
            month = 12;
        }
        if (year < first_year)
            return -ERANGE;
        uint64_t days = bits_upto(month_days_cached(expr, &cache, year, month), day);
        if (!days) {
            month--, day = 31, hour = 23, minute = second = 59;
            continue;
        }
        if (highest_bit(days) != day)
            day = highest_bit(days), hour = 23, minute = second = 59;
        uint64_t hours = bits_upto(expr->hours, hour);
        if (!hours) {
            day--, hour = 23, minute = second = 59;
            continue;
        }
        if (highest_bit(hours) != hour)
            hour = highest_bit(hours), minute = second = 59;
        uint64_t minutes = bits_upto(expr->minutes, minute);
        if (!minutes) {
            hour--, minute = second = 59;
            continue;
        }
        if (highest_bit(minutes) != minute)
            minute = highest_bit(minutes), second = 59;
        uint64_t seconds = bits_upto(expr->seconds, second);
        if (!seconds) {
            minute--, second = 59;
            continue;
        }
        second = highest_bit(seconds);
        struct civil_time found = {year, month, day, hour, minute, second};
        *ret_wall = civil_to_seconds(&found);
        return 0;
    }
}
