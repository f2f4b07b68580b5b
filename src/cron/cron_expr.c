/*
 * cron_expr - the cron grammar, from bytes to bitmasks.
 *
 * Grammar (docs/cron.md): an optional `CRON_TZ=zone ` or `TZ=zone ` prefix,
 * then a descriptor (`@daily`, `@every 90s`, ...) or 5 fields (min hour dom mon
 * dow) or 6 (seconds first).  A field is a comma list of items: `*`, `?` (day
 * fields only), `n`, `a-b`, any of those with `/step`, `a/step` (a to the
 * field's end), names (JAN-DEC, SUN-SAT, any case), and the Quartz day forms
 * `L`, `L-n`, `nW`, `LW` (day of month) and `nL`, `n#k`, `L` (day of week).
 *
 * The parser is total: every byte string ends in success or in one error that
 * names the field, the byte offset and the reason.  It never reads past LEN
 * and allocates only the result.  An expression whose day fields can match no
 * date (`0 0 30 2 *`) is refused here with -ERANGE, so the search never loops.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"
#include "base/quote.h"
#include "base/timefmt.h"
#include "cron/internal.h"

enum field_kind { F_SECOND, F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW };

static const struct field_spec {
    const char *name;
    int min, max;
    const char *const *names; /* names[i] is value min + i */
} field_specs[] = {
    [F_SECOND] = {"second", 0, 59, NULL},
    [F_MINUTE] = {"minute", 0, 59, NULL},
    [F_HOUR] = {"hour", 0, 23, NULL},
    [F_DOM] = {"day of month", 1, 31, NULL},
    [F_MONTH] = {"month", 1, 12,
                 (const char *const[]){"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
                                       "SEP", "OCT", "NOV", "DEC", NULL}},
    [F_DOW] = {"day of week", 0, 7,
               (const char *const[]){"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL}},
};

struct parser {
    const char *text; /* whole expression, for offsets */
    const char *end;
    struct cron_expr *expr;
    struct cron_error *err;
    enum field_kind kind;
    int position; /* 1-based field number as written */
};

static int fail_at(struct parser *ps, const char *where, int position, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(struct parser *ps, const char *where, int position, const char *fmt, ...)
{
    struct cron_error *err = ps->err;
    err->field = position;
    err->field_name = position > 0 ? field_specs[ps->kind].name : NULL;
    err->offset = (size_t)(where - ps->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

#define FAIL(ps, where, ...) fail_at((ps), (where), (ps)->position, __VA_ARGS__)

/* Quote one byte for a message: printable as itself, anything else as \xNN. */
static const char *byte_text(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;
    if (u >= 0x21 && u < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "\\x%02x", u);
    return buf;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* A number or (where the field has them) a name, at *P before END. */
static int parse_value(struct parser *ps, const char **p, const char *end, int *ret)
{
    const struct field_spec *spec = &field_specs[ps->kind];
    const char *start = *p;
    char quoted[8];
    if (start < end && is_digit(*start)) {
        long value = 0;
        while (*p < end && is_digit(**p))
            (*p)++;
        int digits = (int)(*p - start);
        if (digits > 6)
            return FAIL(ps, start, "%.*s%s is out of range %d-%d", digits > 24 ? 24 : digits, start,
                        digits > 24 ? "..." : "", spec->min, spec->max);
        for (const char *d = start; d < *p; d++)
            value = value * 10 + (*d - '0');
        if (value < spec->min || value > spec->max)
            return FAIL(ps, start, "%ld is out of range %d-%d", value, spec->min, spec->max);
        *ret = (int)value;
        return 0;
    }
    if (start < end && is_alpha(*start)) {
        while (*p < end && is_alpha(**p))
            (*p)++;
        size_t len = (size_t)(*p - start);
        for (int i = 0; spec->names && spec->names[i]; i++) {
            if (len != 3)
                break;
            if (upper(start[0]) == spec->names[i][0] && upper(start[1]) == spec->names[i][1] &&
                upper(start[2]) == spec->names[i][2]) {
                *ret = spec->min + i;
                return 0;
            }
        }
        if (!spec->names)
            return FAIL(ps, start, "'%.*s' is not a number (%s takes %d-%d)",
                        (int)(len > 20 ? 20 : len), start, spec->name, spec->min, spec->max);
        return FAIL(ps, start, "'%.*s' is not a %s name (%s-%s)", (int)(len > 20 ? 20 : len), start,
                    ps->kind == F_MONTH ? "month" : "day", spec->names[0],
                    ps->kind == F_MONTH ? "DEC" : "SAT");
    }
    if (start >= end)
        return FAIL(ps, start, "expected a value");
    return FAIL(ps, start, "unexpected character %s", byte_text(*start, quoted));
}

static int parse_step(struct parser *ps, const char **p, const char *end, int span, int *ret)
{
    const char *start = *p;
    if (start >= end || !is_digit(*start))
        return FAIL(ps, start, "expected a number after '/'");
    long step = 0;
    while (*p < end && is_digit(**p)) {
        if (step <= 100000)
            step = step * 10 + (**p - '0');
        (*p)++;
    }
    if (step == 0)
        return FAIL(ps, start, "step 0 must be at least 1");
    if (step > span)
        return FAIL(ps, start, "step %ld is larger than the field's span of %d", step, span);
    *ret = (int)step;
    return 0;
}

static void set_range(struct cron_expr *expr, enum field_kind kind, int lo, int hi, int step)
{
    for (int v = lo; v <= hi; v += step) {
        switch (kind) {
        case F_SECOND:
            expr->seconds |= UINT64_C(1) << v;
            break;
        case F_MINUTE:
            expr->minutes |= UINT64_C(1) << v;
            break;
        case F_HOUR:
            expr->hours |= UINT32_C(1) << v;
            break;
        case F_DOM:
            expr->dom |= UINT32_C(1) << v;
            break;
        case F_MONTH:
            expr->months |= (uint16_t)(1u << v);
            break;
        case F_DOW:
            expr->dow |= (uint8_t)(1u << (v % 7));
            break;
        }
    }
}

/* `L`, `L-n`, `LW` in day of month.  P points at the `L`. */
static int parse_dom_last(struct parser *ps, const char *p, const char *end)
{
    struct cron_expr *expr = ps->expr;
    const char *item = p;
    p++;
    if (p == end) {
        expr->dom_last |= 1u;
        return 0;
    }
    if ((*p == 'W' || *p == 'w') && p + 1 == end) {
        expr->dom_last_weekday = true;
        return 0;
    }
    if (*p == '-') {
        const char *num = ++p;
        int n = 0;
        while (p < end && is_digit(*p) && n <= 100)
            n = n * 10 + (*p++ - '0');
        if (p == num || p != end)
            return FAIL(ps, item, "expected L, L-n or LW (L-3: three days before the last)");
        if (n > 30)
            return FAIL(ps, num, "L-%d: the offset from the last day must be 0-30", n);
        expr->dom_last |= 1u << n;
        return 0;
    }
    return FAIL(ps, item, "expected L, L-n or LW (L-3: three days before the last)");
}

/* A Quartz day item, or 1 when ITEM is an ordinary one. */
static int parse_day_special(struct parser *ps, const char *item, const char *end)
{
    struct cron_expr *expr = ps->expr;
    bool starts_with_l = (*item == 'L' || *item == 'l');
    if (ps->kind == F_DOM && starts_with_l &&
        (end - item == 1 || !is_alpha(item[1]) || item[1] == 'W' || item[1] == 'w'))
        return parse_dom_last(ps, item, end);
    if (ps->kind == F_DOW && starts_with_l && end - item == 1) {
        expr->dow |= 1u << 6; /* Quartz: `L` alone is the week's last day, Saturday */
        return 0;
    }
    const char *p = item;
    int value;
    char last = upper(end[-1]);
    const char *hash = memchr(item, '#', (size_t)(end - item));
    if (ps->kind == F_DOM && last == 'W' && end - item > 1 && is_digit(*item)) {
        const char *value_end = end - 1;
        int r = parse_value(ps, &p, value_end, &value);
        if (r < 0)
            return r;
        if (p != value_end)
            return FAIL(ps, item,
                        "W needs a day 1-31 before it (15W: the weekday nearest the 15th)");
        expr->dom_near |= 1u << value;
        return 0;
    }
    if (ps->kind == F_DOW && hash) {
        int r = parse_value(ps, &p, hash, &value);
        if (r < 0)
            return r;
        if (p != hash)
            return FAIL(ps, item, "# needs a weekday before it (FRI#3: the third Friday)");
        const char *k = hash + 1;
        if (k + 1 != end || *k < '1' || *k > '5')
            return FAIL(ps, k, "after # comes the occurrence 1-5 (FRI#3: the third Friday)");
        expr->dow_nth[value % 7] |= (uint8_t)(1u << (*k - '0'));
        return 0;
    }
    if (ps->kind == F_DOW && last == 'L' && end - item > 1) {
        const char *value_end = end - 1;
        int r = parse_value(ps, &p, value_end, &value);
        if (r < 0)
            return r;
        if (p != value_end)
            return FAIL(ps, item, "L needs a weekday before it (5L: the last Friday)");
        expr->dow_last |= (uint8_t)(1u << (value % 7));
        return 0;
    }
    return 1;
}

/* One comma-separated item [ITEM, END). */
static int parse_item(struct parser *ps, const char *item, const char *end)
{
    const struct field_spec *spec = &field_specs[ps->kind];
    const char *p = item;
    int lo, hi, step = 1;
    char quoted[8];
    if (item == end)
        return FAIL(ps, item, "empty item in the list");
    bool day_field = ps->kind == F_DOM || ps->kind == F_DOW;
    if (day_field) {
        int r = parse_day_special(ps, item, end);
        if (r <= 0)
            return r;
    } else if (*item == 'L' || *item == 'l') {
        return FAIL(ps, item, "L is only allowed in day of month and day of week");
    }
    if (*p == '*' || *p == '?') {
        if (*p == '?' && !day_field)
            return FAIL(ps, p, "'?' is only allowed in day of month and day of week");
        p++;
        lo = spec->min;
        hi = ps->kind == F_DOW ? 6 : spec->max;
    } else {
        int r = parse_value(ps, &p, end, &lo);
        if (r < 0)
            return r;
        hi = lo;
        if (p < end && *p == '-') {
            const char *hi_text = ++p;
            r = parse_value(ps, &p, end, &hi);
            if (r < 0)
                return r;
            /* MON-SUN: Sunday written at the end of a range means 7. */
            if (ps->kind == F_DOW && hi == 0 && lo > 0 && is_alpha(*hi_text))
                hi = 7;
            if (hi < lo)
                return FAIL(ps, item, "range %d-%d runs backwards (write it as two ranges)", lo,
                            hi);
        } else if (p < end && *p == '/') {
            hi = ps->kind == F_DOW ? 6 : spec->max;
            if (lo > hi)
                hi = lo;
        }
    }
    if (p < end && *p == '/') {
        p++;
        int r = parse_step(ps, &p, end, spec->max - spec->min + 1, &step);
        if (r < 0)
            return r;
    }
    if (p != end)
        return FAIL(ps, p, "unexpected character %s", byte_text(*p, quoted));
    set_range(ps->expr, ps->kind, lo, hi, step);
    return 0;
}

static int parse_field(struct parser *ps, const char *start, const char *end)
{
    const char *item = start;
    if (ps->kind == F_DOM)
        ps->expr->dom_star = (*start == '*' || *start == '?');
    if (ps->kind == F_DOW)
        ps->expr->dow_star = (*start == '*' || *start == '?');
    if (ps->kind == F_HOUR)
        ps->expr->hour_wildcard = (*start == '*');
    for (const char *p = start;; p++) {
        if (p == end || *p == ',') {
            int r = parse_item(ps, item, p);
            if (r < 0)
                return r;
            if (p == end)
                return 0;
            item = p + 1;
        }
    }
}

/* Split [P, END) on blanks into at most MAX fields. Returns the count found
 * (which may exceed MAX: then only MAX are stored). */
static int split_fields(const char *p, const char *end, const char *starts[], const char *ends[],
                        int max)
{
    int count = 0;
    while (p < end) {
        while (p < end && is_space(*p))
            p++;
        if (p == end)
            break;
        const char *field = p;
        while (p < end && !is_space(*p))
            p++;
        if (count < max) {
            starts[count] = field;
            ends[count] = p;
        }
        count++;
    }
    return count;
}

static const struct {
    const char *name;
    const char *fields;
} descriptors[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static int parse_fields(struct parser *ps, const char *p, const char *end);

static int parse_every(struct parser *ps, const char *p, const char *end)
{
    const char *reason = NULL;
    while (p < end && is_space(*p))
        p++;
    const char *duration = p;
    while (p < end && !is_space(*p))
        p++;
    const char *duration_end = p;
    while (p < end && is_space(*p))
        p++;
    if (duration == duration_end)
        return fail_at(ps, duration, 0, "@every needs a duration (@every 90s, @every 1h30m)");
    if (p != end)
        return fail_at(ps, p, 0, "unexpected text after the @every duration");
    int64_t ms = 0;
    int r = timefmt_duration_parse(duration, (size_t)(duration_end - duration), &ms, &reason);
    if (r < 0)
        return fail_at(ps, duration, 0, "@every: %s", reason);
    char quoted[24];
    if (ms < 1000 || ms % 1000 != 0)
        return fail_at(
            ps, duration, 0, "@every needs a whole number of seconds, at least 1s (got %s)",
            quote_clip(duration, (size_t)(duration_end - duration), quoted, sizeof(quoted)));
    ps->expr->interval_s = ms / 1000;
    ps->expr->hour_wildcard = true;
    return 0;
}

static int parse_descriptor(struct parser *ps, const char *p, const char *end)
{
    const char *word_end = p;
    while (word_end < end && !is_space(*word_end))
        word_end++;
    size_t len = (size_t)(word_end - p);
    if (len == 6 && strncasecmp(p, "@every", 6) == 0)
        return parse_every(ps, word_end, end);
    if (len == 7 && strncasecmp(p, "@reboot", 7) == 0)
        return fail_at(ps, p, 0, "@reboot is not a schedule: it has no fire times");
    for (size_t i = 0; i < sizeof(descriptors) / sizeof(descriptors[0]); i++) {
        if (strlen(descriptors[i].name) != len || strncasecmp(p, descriptors[i].name, len) != 0)
            continue;
        const char *rest = word_end;
        while (rest < end && is_space(*rest))
            rest++;
        if (rest != end)
            return fail_at(ps, rest, 0, "unexpected text after %s", descriptors[i].name);
        const char *fields = descriptors[i].fields;
        return parse_fields(ps, fields, fields + strlen(fields));
    }
    char quoted[24];
    return fail_at(ps, p, 0,
                   "unknown descriptor '%s' (use @yearly, @annually, @monthly, @weekly, "
                   "@daily, @midnight, @hourly or @every <duration>)",
                   quote_clip(p, len, quoted, sizeof(quoted)));
}

static int parse_fields(struct parser *ps, const char *p, const char *end)
{
    static const enum field_kind five[] = {F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW};
    static const enum field_kind six[] = {F_SECOND, F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW};
    const char *starts[6], *ends[6];
    int count = split_fields(p, end, starts, ends, 6);
    if (count != 5 && count != 6)
        return fail_at(ps, count > 6 ? starts[5] : p, 0,
                       "expected 5 fields (minute hour day-of-month month day-of-week) or 6 "
                       "(seconds first), got %d",
                       count);
    const enum field_kind *kinds = count == 5 ? five : six;
    if (count == 5)
        ps->expr->seconds = 1; /* second 0 */
    for (int i = 0; i < count; i++) {
        ps->kind = kinds[i];
        ps->position = i + 1;
        int r = parse_field(ps, starts[i], ends[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static void fill_dow_days(struct cron_expr *expr)
{
    for (int first = 0; first < 7; first++) {
        uint32_t days = 0;
        for (int day = 1; day <= 31; day++)
            if (expr->dow >> ((first + day - 1) % 7) & 1)
                days |= UINT32_C(1) << day;
        expr->dow_days[first] = days;
    }
    expr->has_day_specials =
        expr->dom_last || expr->dom_near || expr->dom_last_weekday || expr->dow_last;
    for (int w = 0; w < 7; w++)
        expr->has_day_specials |= expr->dow_nth[w] != 0;
}

/* `CRON_TZ=zone ` or `TZ=zone `: store the zone, advance *P past it. */
static int parse_zone_prefix(struct parser *ps, const char **p, const char *end)
{
    size_t left = (size_t)(end - *p);
    size_t skip = 0;
    if (left >= 8 && memcmp(*p, "CRON_TZ=", 8) == 0)
        skip = 8;
    else if (left >= 3 && memcmp(*p, "TZ=", 3) == 0)
        skip = 3;
    if (skip == 0)
        return 0;
    const char *zone = *p + skip, *zone_end = zone;
    while (zone_end < end && !is_space(*zone_end))
        zone_end++;
    if (zone_end == zone)
        return fail_at(ps, zone, 0, "%.*s needs a time zone name", (int)skip, *p);
    size_t len = (size_t)(zone_end - zone);
    if (memchr(zone, '\0', len))
        return fail_at(ps, zone, 0, "time zone name contains a NUL byte");
    /* TEXT need not be NUL-terminated, so no strndup(). */
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, zone, len);
    copy[len] = '\0';
    ps->expr->zone = copy;
    *p = zone_end;
    return 0;
}

/* Refuse day fields that no date satisfies: 401 years hold every combination of
 * leap year and weekday the Gregorian calendar has. */
static int check_fires(struct parser *ps)
{
    if (ps->expr->interval_s > 0)
        return 0;
    int64_t wall;
    if (cron_wall_next(ps->expr, 946684800 /* 2000-01-01 */, &wall) == 0)
        return 0;
    fail_at(ps, ps->text, 0,
            "never fires: no date matches the day-of-month, month and day-of-week fields");
    return -ERANGE;
}

int cron_expr_parse(const char *text, size_t len, struct cron_expr **ret_expr,
                    struct cron_error *reterr)
{
    struct cron_error scratch;
    struct parser ps = {.text = text, .end = text + len, .err = reterr ? reterr : &scratch};
    memset(ps.err, 0, sizeof(*ps.err));
    if (len > CRON_EXPR_MAX_LEN)
        return fail_at(&ps, text + CRON_EXPR_MAX_LEN, 0, "expression is longer than %d bytes",
                       CRON_EXPR_MAX_LEN);
    const char *p = text, *end = text + len;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    if (p == end)
        return fail_at(&ps, p, 0, "empty expression");
    ps.expr = calloc(1, sizeof(*ps.expr));
    if (!ps.expr)
        return -ENOMEM;
    ps.expr->refs = 1;
    int r = parse_zone_prefix(&ps, &p, end);
    while (r == 0 && p < end && is_space(*p))
        p++;
    if (r == 0 && p == end)
        r = fail_at(&ps, p, 0, "a schedule must follow the time zone prefix");
    if (r == 0)
        r = *p == '@' ? parse_descriptor(&ps, p, end) : parse_fields(&ps, p, end);
    if (r == 0) {
        fill_dow_days(ps.expr);
        r = check_fires(&ps);
    }
    if (r < 0) {
        cron_expr_free(ps.expr);
        return r;
    }
    *ret_expr = ps.expr;
    return 0;
}

struct cron_expr *cron_expr_ref(struct cron_expr *expr)
{
    if (expr)
        expr->refs++;
    return expr;
}

void cron_expr_free(struct cron_expr *expr)
{
    if (!expr || --expr->refs > 0)
        return;
    free(expr->zone);
    free(expr);
}

void cron_error_format(const struct cron_error *err, char *buf, size_t size)
{
    if (err->field > 0)
        snprintf(buf, size, "field %d (%s): %s (at offset %zu)", err->field, err->field_name,
                 err->reason, err->offset);
    else
        snprintf(buf, size, "%s (at offset %zu)", err->reason, err->offset);
}

const char *cron_expr_zone(const struct cron_expr *expr)
{
    return expr->zone;
}

bool cron_expr_hour_is_wildcard(const struct cron_expr *expr)
{
    return expr->hour_wildcard;
}

int64_t cron_expr_interval_s(const struct cron_expr *expr)
{
    return expr->interval_s;
}
