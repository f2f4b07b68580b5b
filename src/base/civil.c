/*
 * civil - Gregorian calendar arithmetic on day counts.
 *
 * The day/date conversions are Howard Hinnant's branch-free "days_from_civil"
 * algorithms: eras of 400 years (146097 days) make every year count exact without
 * tables, and they hold for negative years too.
 */
#include "base/civil.h"

int64_t civil_days_from_date(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = civil_floor_div(year, 400);
    int64_t yoe = year - era * 400;
    int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_date_from_days(int64_t days, int64_t *ret_year, int *ret_month, int *ret_day)
{
    days += 719468;
    int64_t era = civil_floor_div(days, 146097);
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *ret_day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *ret_month = month;
    *ret_year = yoe + era * 400 + (month <= 2);
}

int civil_weekday_from_days(int64_t days)
{
    /* 1970-01-01 was a Thursday (4). */
    int64_t wd = (days + 4) % 7;
    return (int)(wd < 0 ? wd + 7 : wd);
}

bool civil_is_leap_year(int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int civil_days_in_month(int64_t year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && civil_is_leap_year(year) ? 29 : days[month - 1];
}

int64_t civil_to_seconds(const struct civil_time *ct)
{
    return civil_days_from_date(ct->year, ct->month, ct->day) * CIVIL_SECS_PER_DAY +
           ct->hour * 3600 + ct->minute * 60 + ct->second;
}

void civil_from_seconds(int64_t secs, struct civil_time *ret)
{
    int64_t days = civil_floor_div(secs, CIVIL_SECS_PER_DAY);
    int64_t rem = secs - days * CIVIL_SECS_PER_DAY;
    civil_date_from_days(days, &ret->year, &ret->month, &ret->day);
    ret->hour = (int)(rem / 3600);
    ret->minute = (int)(rem / 60 % 60);
    ret->second = (int)(rem % 60);
}
