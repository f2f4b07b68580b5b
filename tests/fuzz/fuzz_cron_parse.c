/*
 * fuzz_cron_parse - libFuzzer target for the cron parser and the schedule search.
 *
 * The input bytes are the expression, handed to cron_expr_parse() as they are.
 * A refusal must be fully described (reason, offset inside the input, field).
 * A parsed expression is then run in UTC, America/New_York and
 * Australia/Lord_Howe (a 30-minute DST shift, in the southern hemisphere), each
 * with a DST policy and a start time drawn from a hash of the input: near a DST
 * transition, at whole minutes and hours, and out to the years 1 and 9999.
 * Every answer is held to what any correct engine satisfies (cron.h):
 *   - next(t) is strictly after t and in CRON_MIN_AT..CRON_MAX_AT; it exists
 *     unless the policy can drop slots (skip) or t is within 401 years of
 *     CRON_MAX_AT;
 *   - p = prev(n) for n = next(t) is strictly before n and not after t (nothing
 *     fires in (t, n)), and next(p) == n; next(n) = n2 gives prev(n2) == n;
 *     so next strictly increases even when several slots share one instant;
 *   - a fire's slot is a wall time the expression names: at + offset == slot,
 *     or for a shifted slot, `at` starts a spring-forward interval whose gap
 *     holds the slot (and only under "shift");
 *   - for windows [p, n] up to 40 days, cron_oracle.h finds exactly {p, n};
 *   - `@every D`: exactly anchor + k*D for the smallest k >= 1 after t (none
 *     for an anchor outside years 1-9999);
 *   - for windows longer than 40 days, the oracle confirms p and n themselves;
 *   - the day rule the oracle applies (AND when either day field's text starts
 *     with `*` or `?`, else OR) is read from the input text, and the parser's
 *     flags must say the same.
 * A violation prints what went wrong and aborts, so libFuzzer saves the input.
 */
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron/cron.h"
#include "cron/internal.h"
#include "tz/tz.h"

#include "cron_oracle.h"

#define YEAR_S          INT64_C(31556952) /* mean Gregorian year */
#define AT_1800         INT64_C(-5364662400)
#define AT_1970         INT64_C(0)
#define AT_2100         INT64_C(4102444800)
#define AT_YEAR_2       INT64_C(-62104060800) /* 0002-01-01 */
#define ORACLE_WINDOW_S (40 * ORACLE_DAY)
#define CHAIN           3

static const char *const zone_names[] = {"UTC", "America/New_York", "Australia/Lord_Howe"};
#define ZONE_COUNT (sizeof(zone_names) / sizeof(zone_names[0]))
static struct tz_zone *zones[ZONE_COUNT];

static const uint8_t *current_data;
static size_t current_size;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_cron_parse: invariant violated: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  expression: \"");
    for (size_t i = 0; i < current_size; i++) {
        uint8_t c = current_data[i];
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    for (size_t i = 0; i < ZONE_COUNT; i++) {
        int r = tz_zone_load(zone_names[i], &zones[i]);
        if (r < 0) {
            fprintf(stderr, "fuzz_cron_parse: cannot load %s (%s): is tzdata installed?\n",
                    zone_names[i], strerror(-r));
            exit(1);
        }
    }
    return 0;
}

/* splitmix64: a stream of well-mixed numbers from the input's hash. */
static uint64_t mix(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int64_t uniform(uint64_t *state, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(mix(state) % (uint64_t)(hi - lo + 1));
}

static int64_t start_time(uint64_t *state, const struct tz_zone *zone)
{
    int64_t at;
    switch (mix(state) % 8) {
    case 0:
    case 1:
    case 2:
        at = uniform(state, AT_1970, AT_2100);
        break;
    case 3:
    case 4: {
        /* Within 3 hours of a transition (UTC has none: any time then). */
        struct tz_interval iv;
        tz_zone_interval_at(zone, uniform(state, AT_1970, AT_2100), &iv);
        at = iv.end_at == TZ_END ? uniform(state, AT_1970, AT_2100)
                                 : iv.end_at + uniform(state, -3 * 3600, 3 * 3600);
        break;
    }
    case 5:
        at = uniform(state, AT_2100, CRON_MAX_AT);
        break;
    case 6:
        at = CRON_MAX_AT - uniform(state, 0, 3 * YEAR_S);
        break;
    default:
        at = uniform(state, AT_YEAR_2 - YEAR_S, AT_1970);
        break;
    }
    switch (mix(state) % 4) { /* land on slots exactly, and just before them */
    case 0:
        at = oracle_floor_div(at, 60) * 60;
        break;
    case 1:
        at = oracle_floor_div(at, 3600) * 3600 - (int64_t)(mix(state) % 2);
        break;
    default:
        break;
    }
    return at;
}

/* ---- the day rule, written out day by day (independent of cron_match.c) ---- */

/* Vixie cron: when either day field's text starts with `*` or `?` a day must
 * match both fields, else either.  Read from the input text, not the parser. */
static bool day_rule_is_and;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The day rule of TEXT, which parsed as a calendar expression: skip a
 * `CRON_TZ=`/`TZ=` word; every descriptor has a `*` day field; otherwise the
 * day fields are the 3rd and 5th of 5 fields, the 4th and 6th of 6. */
static bool text_day_rule_is_and(const char *text, size_t size)
{
    const char *starts[8];
    size_t lens[8];
    int count = 0;
    for (size_t i = 0; i < size; i++)
        if (!is_blank(text[i]) && (i == 0 || is_blank(text[i - 1])) && count < 8) {
            starts[count] = text + i;
            lens[count] = size - i;
            count++;
        }
    int first = count > 0 && ((lens[0] >= 8 && memcmp(starts[0], "CRON_TZ=", 8) == 0) ||
                              (lens[0] >= 3 && memcmp(starts[0], "TZ=", 3) == 0));
    if (count > first && starts[first][0] == '@')
        return true;
    int fields = count - first;
    CHECK(fields == 5 || fields == 6, "parsed with %d fields", fields);
    char dom = starts[first + fields - 3][0], dow = starts[first + fields - 1][0];
    return dom == '*' || dom == '?' || dow == '*' || dow == '?';
}

static int weekday_of(int day, int weekday, int other)
{
    return ((weekday + other - day) % 7 + 7) % 7;
}

/* Quartz nW: the weekday (Mon-Fri) nearest day N without leaving the month. */
static int nearest_weekday(int n, int day, int weekday, int dim)
{
    int w = weekday_of(day, weekday, n);
    if (w == 6)
        return n > 1 ? n - 1 : n + 2;
    if (w == 0)
        return n < dim ? n + 1 : n - 2;
    return n;
}

static bool day_matches(const void *ctx, int year, int month, int day, int weekday, int dim)
{
    const struct cron_expr *e = ctx;
    (void)year;
    if (!(e->months >> month & 1))
        return false;
    bool dom = e->dom >> day & 1;
    for (int n = 0; n <= 30 && !dom; n++)
        dom = e->dom_last >> n & 1 && day == dim - n;
    for (int n = 1; n <= dim && !dom; n++)
        dom = e->dom_near >> n & 1 && nearest_weekday(n, day, weekday, dim) == day;
    if (!dom && e->dom_last_weekday)
        dom = nearest_weekday(dim, day, weekday, dim) == day;
    bool dow = e->dow >> weekday & 1;
    if (!dow && e->dow_last >> weekday & 1)
        dow = day + 7 > dim;
    if (!dow)
        dow = e->dow_nth[weekday] >> ((day - 1) / 7 + 1) & 1;
    return day_rule_is_and ? dom && dow : dom || dow;
}

static int32_t zone_offset(const void *ctx, int64_t at)
{
    return tz_zone_offset_at(ctx, at);
}

/* Does wall time WALL (seconds of the local clock) name a slot of E? */
static bool slot_matches(const struct cron_expr *e, int64_t wall)
{
    int64_t day = oracle_floor_div(wall, ORACLE_DAY), secs = wall - day * ORACLE_DAY;
    if (day + ORACLE_UNIX_JULIAN < 1 || day + ORACLE_UNIX_JULIAN > 3652059) /* 9999-12-31 */
        return true; /* outside GDate: not checked */
    GDate date;
    g_date_clear(&date, 1);
    g_date_set_julian(&date, (guint32)(day + ORACLE_UNIX_JULIAN));
    int year = g_date_get_year(&date), month = g_date_get_month(&date);
    return e->hours >> (secs / 3600) & 1 && e->minutes >> (secs / 60 % 60) & 1 &&
           e->seconds >> (secs % 60) & 1 &&
           day_matches(e, year, month, g_date_get_day(&date), g_date_get_weekday(&date) % 7,
                       g_date_get_days_in_month((GDateMonth)month, (GDateYear)year));
}

struct run {
    const struct cron_expr *expr;
    const struct cron_schedule *schedule;
    const char *zone_name;
    bool shift, both;
};

/* WHAT says which call gave FIRE and from where, for the message. */
static void check_fire(const struct run *run, const struct cron_fire *fire, const char *what,
                       int64_t from_at)
{
    struct tz_interval iv;
    tz_zone_interval_at(run->schedule->zone, fire->at, &iv);
    CHECK(fire->at >= CRON_MIN_AT && fire->at <= CRON_MAX_AT,
          "%s: %s(%lld): fire %lld outside years 1-9999", run->zone_name, what, (long long)from_at,
          (long long)fire->at);
    if (fire->note == CRON_DST_SHIFTED) {
        CHECK(run->shift, "%s: %s(%lld): fire at %lld shifted under on_gap skip", run->zone_name,
              what, (long long)from_at, (long long)fire->at);
        CHECK(
            iv.start_at == fire->at && iv.offset_s > iv.prev_offset_s &&
                fire->slot_wall >= fire->at + iv.prev_offset_s &&
                fire->slot_wall < fire->at + iv.offset_s,
            "%s: %s(%lld): fire at %lld shifted from slot %lld, which is not in a gap ending there",
            run->zone_name, what, (long long)from_at, (long long)fire->at,
            (long long)fire->slot_wall);
    } else {
        CHECK(fire->slot_wall == fire->at + iv.offset_s,
              "%s: %s(%lld): fire at %lld has slot %lld, but offset there is %d", run->zone_name,
              what, (long long)from_at, (long long)fire->at, (long long)fire->slot_wall,
              iv.offset_s);
    }
    if (run->expr->interval_s == 0)
        CHECK(slot_matches(run->expr, fire->slot_wall),
              "%s: %s(%lld): fire at %lld: slot %lld (wall) does not match the expression",
              run->zone_name, what, (long long)from_at, (long long)fire->at,
              (long long)fire->slot_wall);
    char small[8], big[1024];
    size_t len = cron_fire_explain(run->schedule, fire, big, sizeof(big));
    CHECK(len == strlen(big), "%s: %s(%lld): cron_fire_explain returned %zu for \"%s\"",
          run->zone_name, what, (long long)from_at, len, big);
    CHECK((len == 0) == (fire->note == CRON_DST_NONE && !fire->skipped_gap),
          "%s: %s(%lld): cron_fire_explain wrote \"%s\" for note %d, skipped_gap %d",
          run->zone_name, what, (long long)from_at, big, fire->note, fire->skipped_gap);
    CHECK(cron_fire_explain(run->schedule, fire, small, sizeof(small)) == len &&
              strlen(small) < sizeof(small),
          "%s: %s(%lld): cron_fire_explain into 8 bytes", run->zone_name, what, (long long)from_at);
}

/* The oracle's fires in [P, N] must be exactly {P, N}. */
static void check_window(const struct run *run, struct oracle_schedule *os, int64_t p, int64_t n)
{
    struct oracle_fires fires;
    if (p < AT_YEAR_2 || n > CRON_MAX_AT - ORACLE_DAY)
        return;
    if (n - p > ORACLE_WINDOW_S) { /* too long to walk: check both ends only */
        oracle_fires_between(os, p, p, &fires);
        CHECK(fires.count == 1, "%s: prev fire %lld is not a fire of the oracle", run->zone_name,
              (long long)p);
        oracle_fires_between(os, n, n, &fires);
        CHECK(fires.count == 1, "%s: fire %lld is not a fire of the oracle", run->zone_name,
              (long long)n);
        return;
    }
    oracle_fires_between(os, p, n, &fires);
    if (fires.count == 2 && fires.at[0] == p && fires.at[1] == n)
        return;
    char list[ORACLE_MAX_FIRES * 24] = "";
    for (int i = 0; i < fires.count; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), " %lld", (long long)fires.at[i]);
    fail("%s (shift %d, both %d): engine says consecutive fires %lld, %lld; oracle finds%s%s",
         run->zone_name, run->shift, run->both, (long long)p, (long long)n, list,
         fires.overflow ? " ..." : "");
}

static void check_every(const struct run *run, int64_t from_at)
{
    const struct cron_schedule *s = run->schedule;
    int64_t step = run->expr->interval_s, anchor = s->anchor_at;
    struct cron_fire fire;
    int64_t k = from_at < anchor ? 1 : (from_at - anchor) / step + 1;
    /* cron.h: an anchor outside years 1-9999 has no fires. */
    bool exists =
        anchor >= CRON_MIN_AT && anchor <= CRON_MAX_AT && k <= (CRON_MAX_AT - anchor) / step;
    int r = cron_schedule_next(s, from_at, &fire);
    CHECK(exists ? r == 0 && fire.at == anchor + k * step : r == -ERANGE,
          "@every %lld from anchor %lld: next(%lld) gave %d/%lld, expected %s%lld", (long long)step,
          (long long)anchor, (long long)from_at, r, (long long)fire.at, exists ? "" : "none, not ",
          (long long)(anchor + k * step));
    if (r < 0)
        return;
    check_fire(run, &fire, "next", from_at);
    struct cron_fire prev;
    r = cron_schedule_prev(s, fire.at, &prev);
    if (k == 1)
        CHECK(r == -ERANGE, "@every: prev(first fire %lld) gave %d/%lld", (long long)fire.at, r,
              (long long)prev.at);
    else
        CHECK(r == 0 && prev.at == fire.at - step, "@every: prev(%lld) gave %d/%lld",
              (long long)fire.at, r, (long long)prev.at);
}

static void check_calendar(const struct run *run, int64_t from_at)
{
    const struct cron_schedule *s = run->schedule;
    struct oracle_schedule os = {
        .seconds = run->expr->seconds,
        .minutes = run->expr->minutes,
        .hours = run->expr->hours,
        .day_matches = day_matches,
        .day_ctx = run->expr,
        .offset_at = zone_offset,
        .zone_ctx = s->zone,
        .shift_gaps = run->shift,
        .both_overlaps = run->both,
    };
    int64_t after = from_at;
    int64_t previous_next = INT64_MIN;
    for (int i = 0; i < CHAIN; i++) {
        struct cron_fire next, prev, again;
        int r = cron_schedule_next(s, after, &next);
        if (r < 0) {
            CHECK(r == -ERANGE, "%s: next(%lld) returned %d", run->zone_name, (long long)after, r);
            CHECK(!run->shift || after > CRON_MAX_AT - 401 * YEAR_S,
                  "%s: next(%lld) found nothing, but a shifting schedule always fires",
                  run->zone_name, (long long)after);
            return;
        }
        CHECK(next.at > after, "%s: next(%lld) = %lld is not after it", run->zone_name,
              (long long)after, (long long)next.at);
        check_fire(run, &next, "next", after);
        r = cron_schedule_prev(s, next.at, &prev);
        if (r < 0) {
            CHECK(r == -ERANGE, "%s: prev(%lld) returned %d", run->zone_name, (long long)next.at,
                  r);
            CHECK(previous_next == INT64_MIN && (!run->shift || next.at < AT_1800),
                  "%s: prev(%lld) found nothing", run->zone_name, (long long)next.at);
        } else {
            CHECK(prev.at < next.at && prev.at <= after,
                  "%s: next(%lld) = %lld, but prev(%lld) = %lld lies in between or after",
                  run->zone_name, (long long)after, (long long)next.at, (long long)next.at,
                  (long long)prev.at);
            CHECK(previous_next == INT64_MIN || prev.at == previous_next,
                  "%s: next(%lld) = %lld, but prev(%lld) = %lld", run->zone_name,
                  (long long)previous_next, (long long)next.at, (long long)next.at,
                  (long long)prev.at);
            check_fire(run, &prev, "prev", next.at);
            r = cron_schedule_next(s, prev.at, &again);
            CHECK(r == 0 && again.at == next.at, "%s: prev(%lld) = %lld, but next(%lld) = %lld",
                  run->zone_name, (long long)next.at, (long long)prev.at, (long long)prev.at,
                  (long long)again.at);
            check_window(run, &os, prev.at, next.at);
        }
        previous_next = next.at;
        after = next.at;
    }
}

static void check_error(int r, const struct cron_error *err, size_t size)
{
    CHECK(r == -EINVAL || r == -ERANGE || r == -ENOMEM, "parse returned %d", r);
    if (r == -ENOMEM)
        return;
    CHECK(memchr(err->reason, '\0', sizeof(err->reason)) && err->reason[0] != '\0',
          "error without a reason");
    CHECK(strlen(err->reason) < sizeof(err->reason) - 1 && g_utf8_validate(err->reason, -1, NULL),
          "reason cut short or not valid UTF-8: \"%s\"", err->reason);
    CHECK(err->offset <= size, "error offset %zu beyond the input's %zu bytes", err->offset, size);
    CHECK(err->field >= 0 && err->field <= 6, "error in field %d", err->field);
    CHECK((err->field == 0) == (err->field_name == NULL), "field %d with name %s", err->field,
          err->field_name ? err->field_name : "(null)");
    char text[512], tiny[6];
    cron_error_format(err, text, sizeof(text));
    CHECK(strstr(text, err->reason) != NULL, "cron_error_format lost the reason: \"%s\"", text);
    cron_error_format(err, tiny, sizeof(tiny));
    CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL, "cron_error_format did not terminate");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The parser may not read past SIZE: give it an exact-size copy for ASan. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    current_data = data;
    current_size = size;

    struct cron_expr *expr = NULL, *again = NULL;
    struct cron_error err;
    memset(&err, 0xa5, sizeof(err)); /* the parser must fill it, not find it zeroed */
    int r = cron_expr_parse(text, size, &expr, &err);
    int r2 = cron_expr_parse(text, size, &again, NULL);
    CHECK(r == r2, "parse gave %d, then %d without an error struct", r, r2);
    if (r < 0) {
        check_error(r, &err, size);
        goto out;
    }
    CHECK(expr != NULL, "parse succeeded without an expression");
    CHECK(memcmp(expr, again, offsetof(struct cron_expr, zone)) == 0,
          "two parses of one text differ");
    const char *zone = cron_expr_zone(expr);
    CHECK(!zone || (zone[0] && !strpbrk(zone, " \t")), "bad CRON_TZ zone \"%s\"", zone ? zone : "");
    CHECK(expr->interval_s >= 0 && cron_expr_interval_s(expr) == expr->interval_s, "bad interval");
    CHECK(expr->interval_s > 0 || (expr->seconds && expr->minutes && expr->hours && expr->months),
          "a calendar expression with an empty time field");

    if (expr->interval_s == 0) {
        day_rule_is_and = text_day_rule_is_and(text, size);
        CHECK(day_rule_is_and == (expr->dom_star || expr->dow_star),
              "day rule: the text says %s, the parser %s", day_rule_is_and ? "AND" : "OR",
              expr->dom_star || expr->dow_star ? "AND" : "OR");
    }

    uint64_t state = 0xcbf29ce484222325; /* FNV-1a of the input seeds the choices */
    for (size_t i = 0; i < size; i++)
        state = (state ^ data[i]) * 0x100000001b3;
    for (size_t z = 0; z < ZONE_COUNT; z++) {
        struct cron_schedule schedule = {.expr = expr, .zone = zones[z]};
        schedule.dst_policy.on_gap = (enum cron_gap_policy)(mix(&state) % 3);
        schedule.dst_policy.on_overlap = (enum cron_overlap_policy)(mix(&state) % 3);
        int64_t from_at = start_time(&state, zones[z]);
        schedule.anchor_at = mix(&state) % 2 ? from_at : from_at - uniform(&state, -4000, 4000);
        bool wildcard = cron_expr_hour_is_wildcard(expr);
        struct run run = {
            .expr = expr,
            .schedule = &schedule,
            .zone_name = zone_names[z],
            .shift = schedule.dst_policy.on_gap == CRON_GAP_SHIFT ||
                     (schedule.dst_policy.on_gap == CRON_GAP_DEFAULT && !wildcard),
            .both = schedule.dst_policy.on_overlap == CRON_OVERLAP_BOTH ||
                    (schedule.dst_policy.on_overlap == CRON_OVERLAP_DEFAULT && wildcard),
        };
        CHECK((cron_schedule_gap_policy(&schedule) == CRON_GAP_SHIFT) == run.shift &&
                  (cron_schedule_overlap_policy(&schedule) == CRON_OVERLAP_BOTH) == run.both,
              "policy resolution differs from docs/cron.md");
        if (expr->interval_s > 0)
            check_every(&run, from_at);
        else
            check_calendar(&run, from_at);
    }
out:
    cron_expr_free(expr);
    cron_expr_free(again);
    free(text);
    return 0;
}
