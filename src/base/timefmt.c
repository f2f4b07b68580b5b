/*
 * timefmt - RFC 3339 instants and Go-style durations.
 *
 * Hand-written because neither jansson nor GLib parses RFC 3339 with the
 * strictness the API promises (GLib's g_date_time_new_from_iso8601 accepts week
 * dates and ordinal dates, which a job file must not silently contain).
 */
#include "base/timefmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/civil.h"

static bool take_digits(const char **p, int count, int *ret)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    *p += count;
    *ret = value;
    return true;
}

static bool take_char(const char **p, char want)
{
    if (**p != want)
        return false;
    (*p)++;
    return true;
}

static int parse_offset(const char **p, int *ret_offset_s, const char **ret_reason)
{
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *ret_offset_s = 0;
        return 0;
    }
    int sign = **p == '+' ? 1 : **p == '-' ? -1 : 0;
    int hh, mm;
    if (sign == 0) {
        *ret_reason = "expected Z or a +hh:mm offset after the time";
        return -EINVAL;
    }
    (*p)++;
    if (!take_digits(p, 2, &hh) || !take_char(p, ':') || !take_digits(p, 2, &mm) || hh > 23 ||
        mm > 59) {
        *ret_reason = "offset must be +hh:mm or -hh:mm";
        return -EINVAL;
    }
    *ret_offset_s = sign * (hh * 3600 + mm * 60);
    return 0;
}

int timefmt_rfc3339_parse(const char *text, int64_t *ret_at, const char **ret_reason)
{
    const char *p = text;
    int year, month, day, hour, minute, second, offset_s;
    if (!take_digits(&p, 4, &year) || !take_char(&p, '-') || !take_digits(&p, 2, &month) ||
        !take_char(&p, '-') || !take_digits(&p, 2, &day)) {
        *ret_reason = "expected a date YYYY-MM-DD";
        return -EINVAL;
    }
    if (*p != 'T' && *p != 't' && *p != ' ') {
        *ret_reason = "expected T between date and time";
        return -EINVAL;
    }
    p++;
    if (!take_digits(&p, 2, &hour) || !take_char(&p, ':') || !take_digits(&p, 2, &minute) ||
        !take_char(&p, ':') || !take_digits(&p, 2, &second)) {
        *ret_reason = "expected a time hh:mm:ss";
        return -EINVAL;
    }
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > civil_days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59) {
        *ret_reason = "date or time out of range";
        return -EINVAL;
    }
    if (*p == '.' || *p == ',') {
        p++;
        if (*p < '0' || *p > '9') {
            *ret_reason = "expected digits after the decimal point";
            return -EINVAL;
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int r = parse_offset(&p, &offset_s, ret_reason);
    if (r < 0)
        return r;
    if (*p != '\0') {
        *ret_reason = "unexpected text after the time";
        return -EINVAL;
    }
    struct civil_time ct = {year, month, day, hour, minute, second};
    int64_t at = civil_to_seconds(&ct) - offset_s;
    if (at < TIMEFMT_MIN_AT || at > TIMEFMT_MAX_AT) {
        *ret_reason = "instant outside years 0001-9999 in UTC";
        return -EINVAL;
    }
    *ret_at = at;
    return 0;
}

char *timefmt_rfc3339_format(int64_t at, char *buf)
{
    struct civil_time ct;
    civil_from_seconds(at, &ct);
    snprintf(buf, TIMEFMT_RFC3339_SIZE, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)ct.year,
             ct.month, ct.day, ct.hour, ct.minute, ct.second);
    return buf;
}

static int64_t unit_ms(const char *unit, size_t len)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == len && memcmp(units[i].name, unit, len) == 0)
            return units[i].ms;
    return 0;
}

int timefmt_duration_parse(const char *text, size_t len, int64_t *ret_ms, const char **ret_reason)
{
    const char *p = text, *end = text + len;
    int64_t total = 0;
    bool too_large = false; /* reported only once the whole text is known well-formed */
    if (len == 1 && text[0] == '0') {
        *ret_ms = 0;
        return 0;
    }
    if (p == end) {
        *ret_reason = "empty duration";
        return -EINVAL;
    }
    while (p < end) {
        int64_t number = 0;
        const char *digits = p;
        while (p < end && *p >= '0' && *p <= '9') {
            int digit = *p++ - '0';
            too_large |= number > (INT64_MAX - digit) / 10;
            number = too_large ? 0 : number * 10 + digit;
        }
        if (p == digits) {
            *ret_reason = "expected a number in the duration (e.g. 90s, 1h30m, 500ms)";
            return -EINVAL;
        }
        const char *unit = p;
        while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            p++;
        int64_t ms = unit_ms(unit, (size_t)(p - unit));
        if (ms == 0) {
            *ret_reason = "unknown duration unit (use ms, s, m, h or d)";
            return -EINVAL;
        }
        too_large |= number > (INT64_MAX - total) / ms;
        total = too_large ? 0 : total + number * ms;
    }
    if (too_large) {
        *ret_reason = "duration is too large";
        return -ERANGE;
    }
    *ret_ms = total;
    return 0;
}
