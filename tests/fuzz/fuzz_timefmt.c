/*
 * fuzz_timefmt - libFuzzer target for the RFC 3339 and duration parsers.
 *
 * The same input feeds both: timefmt_rfc3339_parse() reads a C string, so it
 * gets a NUL-terminated copy (parsing stops at an embedded NUL, as it would in
 * any caller); timefmt_duration_parse() takes a length, so it gets an exact-size
 * copy and ASan catches any read past it.  Each answer is compared with a plain
 * re-reading of the grammar written here (dates through GLib's GDate, sums in
 * 128-bit integers), so the target checks values and not only crashes:
 *   - RFC 3339: accepted exactly when the grammar in timefmt.h matches, with the
 *     same instant; the instant lies in TIMEFMT_MIN_AT..TIMEFMT_MAX_AT, and
 *     formatting it and parsing the text again gives it back;
 *   - durations: accepted exactly when the text is `0` or number+unit pairs whose
 *     sum fits in int64 ms, with the same sum; -ERANGE only when it does not fit.
 * A refusal always carries a non-empty static reason.
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

static const char *current_text;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_timefmt: invariant violated: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  input (to the first NUL): \"");
    for (const char *p = current_text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        fprintf(stderr, c >= 0x20 && c < 0x7f && c != '"' ? "%c" : "\\x%02x", c);
    }
    fprintf(stderr, "\"\n");
    abort();
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail(__VA_ARGS__);                                                                     \
    } while (0)

static bool digits(const char *p, int count, int *ret)
{
    *ret = 0;
    for (int i = 0; i < count; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *ret = *ret * 10 + (p[i] - '0');
    }
    return true;
}

/* The RFC 3339 subset of timefmt.h, read independently.  True with the instant. */
static bool rfc3339_oracle(const char *s, int64_t *ret_at)
{
    int year, month, day, hour, minute, second, oh = 0, om = 0, sign = 0;
    if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) || s[7] != '-' ||
        !digits(s + 8, 2, &day))
        return false;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return false;
    if (!digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &minute) || s[16] != ':' ||
        !digits(s + 17, 2, &second))
        return false;
    const char *p = s + 19;
    if (*p == '.' || *p == ',') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0' || year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 ||
        second > 59 || day < 1 || day > g_date_get_days_in_month(month, (GDateYear)year))
        return false;
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_dmy(&date, (GDateDay)day, (GDateMonth)month, (GDateYear)year);
    int64_t days = (int64_t)g_date_get_julian(&date) - 719163; /* 1970-01-01 */
    *ret_at = days * 86400 + hour * 3600 + minute * 60 + second - sign * (oh * 3600 + om * 60);
    /* An offset may push the instant out of years 1-9999 in UTC: refused. */
    return *ret_at >= TIMEFMT_MIN_AT && *ret_at <= TIMEFMT_MAX_AT;
}

static void check_rfc3339(const char *text)
{
    int64_t at = INT64_MIN, expected = 0;
    const char *reason = NULL;
    int r = timefmt_rfc3339_parse(text, &at, &reason);
    bool valid = rfc3339_oracle(text, &expected);
    if (r < 0) {
        CHECK(r == -EINVAL, "rfc3339: returned %d", r);
        CHECK(reason && reason[0], "rfc3339: refused without a reason");
        CHECK(!valid, "rfc3339: refused a valid time (\"%s\")", reason);
        CHECK(at == INT64_MIN, "rfc3339: wrote *ret_at on failure");
        return;
    }
    CHECK(r == 0, "rfc3339: returned %d", r);
    CHECK(valid, "rfc3339: accepted text the grammar refuses, as %lld", (long long)at);
    CHECK(at == expected, "rfc3339: read %lld, expected %lld", (long long)at, (long long)expected);
    CHECK(at >= TIMEFMT_MIN_AT && at <= TIMEFMT_MAX_AT,
          "rfc3339: accepted instant %lld outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z",
          (long long)at);
    char buf[TIMEFMT_RFC3339_SIZE];
    int64_t back = 0;
    timefmt_rfc3339_format(at, buf);
    CHECK(strlen(buf) == 20, "rfc3339: formatted %lld as \"%s\"", (long long)at, buf);
    CHECK(timefmt_rfc3339_parse(buf, &back, &reason) == 0 && back == at,
          "rfc3339: \"%s\" does not read back as %lld", buf, (long long)at);
}

/* A duration read independently: 1 valid (*ret_ms), 0 bad syntax, -1 too large. */
static int duration_oracle(const char *s, size_t len, int64_t *ret_ms)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    const __int128 cap = (__int128)INT64_MAX + 1;
    __int128 total = 0;
    bool too_large = false;
    if (len == 1 && s[0] == '0') {
        *ret_ms = 0;
        return 1;
    }
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        size_t d = i;
        __int128 number = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            number = number * 10 + (s[i++] - '0');
            if (number > cap)
                number = cap, too_large = true;
        }
        if (i == d)
            return too_large ? -1 : 0;
        size_t u = i;
        while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            i++;
        int64_t ms = 0;
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
            if (strlen(units[k].name) == i - u && memcmp(units[k].name, s + u, i - u) == 0)
                ms = units[k].ms;
        if (ms == 0)
            return too_large ? -1 : 0;
        total += number * ms;
        if (total > INT64_MAX)
            total = cap, too_large = true;
    }
    if (too_large)
        return -1;
    *ret_ms = (int64_t)total;
    return 1;
}

static void check_duration(const char *text, size_t len)
{
    int64_t ms = INT64_MIN, expected = 0;
    const char *reason = NULL;
    int r = timefmt_duration_parse(text, len, &ms, &reason);
    int verdict = duration_oracle(text, len, &expected);
    if (r == 0) {
        CHECK(verdict == 1, "duration: accepted %.*s as %lld", (int)len, text, (long long)ms);
        CHECK(ms == expected, "duration: read %lld ms, expected %lld", (long long)ms,
              (long long)expected);
        return;
    }
    CHECK(r == -EINVAL || r == -ERANGE, "duration: returned %d", r);
    CHECK(reason && reason[0], "duration: refused without a reason");
    CHECK(ms == INT64_MIN, "duration: wrote *ret_ms on failure");
    CHECK(verdict != 1, "duration: refused a valid duration (%s), which is %lld ms", reason,
          (long long)expected);
    /* Which error a text that is both too large and malformed gets is the parser's
     * choice; a well-formed text that does not fit must get -ERANGE. */
    if (verdict == -1 && r == -EINVAL)
        CHECK(strstr(reason, "unit") || strstr(reason, "number"),
              "duration: too large, but refused as \"%s\"", reason);
    if (r == -ERANGE)
        CHECK(verdict == -1, "duration: -ERANGE for a text that fits");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *cstring = malloc(size + 1), *exact = malloc(size ? size : 1);
    if (!cstring || !exact)
        goto out;
    memcpy(cstring, data, size);
    cstring[size] = '\0';
    memcpy(exact, data, size);
    current_text = cstring;
    check_rfc3339(cstring);
    check_duration(exact, size);
out:
    free(cstring);
    free(exact);
    return 0;
}
