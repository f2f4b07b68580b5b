/*
 * civil - the proleptic Gregorian calendar on int64 seconds, with no time zone.
 *
 * "Wall seconds" are seconds since 1970-01-01T00:00:00 of some wall clock: the
 * same arithmetic serves UTC instants and local wall times, which is what lets the
 * cron engine search wall time and hand the zone mapping to tz/.  Pure and total
 * for every int64 day count the callers use (years -9999..9999 and beyond).
 */
#ifndef OVSCHED_BASE_CIVIL_H
#define OVSCHED_BASE_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

#define CIVIL_SECS_PER_DAY INT64_C(86400)

struct civil_time {
    int64_t year;
    int month;  /* 1-12 */
    int day;    /* 1-31 */
    int hour;   /* 0-23 */
    int minute; /* 0-59 */
    int second; /* 0-59 */
};

/* Days since 1970-01-01 of a valid date (Howard Hinnant's algorithm). */
int64_t civil_days_from_date(int64_t year, int month, int day);
/* The date of DAYS since 1970-01-01. */
void civil_date_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day);
/* 0 = Sunday .. 6 = Saturday. */
int civil_weekday_from_days(int64_t days);
bool civil_is_leap_year(int64_t year);
int civil_days_in_month(int64_t year, int month);

/* Floor division that rounds toward negative infinity, for times before 1970. */
static inline int64_t civil_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t civil_to_seconds(const struct civil_time *ct);
void civil_from_seconds(int64_t secs, struct civil_time *ret);

#endif
