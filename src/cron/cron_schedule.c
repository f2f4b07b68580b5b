/*
 * cron_schedule - from wall-clock slots to fire instants in a real time zone.
 *
 * The search walks the zone's offset intervals.  Inside one interval wall time
 * and UTC differ by a constant, so the wall-clock matcher answers directly; only
 * at the interval's edges do the DST rules apply:
 *   - at the start of an interval that springs forward, the wall times of the
 *     gap [start + prev_offset, start + offset) do not exist: a slot there fires
 *     at `start` (shift) or nowhere (skip);
 *   - at the start of an interval that falls back, the wall times
 *     [start + offset, start + prev_offset) are repeats of the previous
 *     interval's last hour: a slot there fires again only under "both".
 * Most calls never leave the first interval: one binary search for the offset,
 * one wall-clock search, one comparison.  Searches end after 400 years, or at
 * CRON_MAX_AT, so no input loops.
 */
#include <errno.h>
#include <string.h>

#include "base/civil.h"
#include "cron/internal.h"

#define SEARCH_LIMIT_S (INT64_C(401) * 366 * CIVIL_SECS_PER_DAY)

enum cron_gap_policy cron_schedule_gap_policy(const struct cron_schedule *schedule)
{
    if (schedule->dst_policy.on_gap != CRON_GAP_DEFAULT)
        return schedule->dst_policy.on_gap;
    return schedule->expr->hour_wildcard ? CRON_GAP_SKIP : CRON_GAP_SHIFT;
}

enum cron_overlap_policy cron_schedule_overlap_policy(const struct cron_schedule *schedule)
{
    if (schedule->dst_policy.on_overlap != CRON_OVERLAP_DEFAULT)
        return schedule->dst_policy.on_overlap;
    return schedule->expr->hour_wildcard ? CRON_OVERLAP_BOTH : CRON_OVERLAP_FIRST;
}

static bool springs_forward(const struct tz_interval *iv)
{
    return iv->start_at != TZ_BEGINNING && iv->offset_s > iv->prev_offset_s;
}

static bool falls_back(const struct tz_interval *iv)
{
    return iv->start_at != TZ_BEGINNING && iv->offset_s < iv->prev_offset_s;
}

/* The wall-clock answer of the last search, reused while it is still the
 * answer: no slot lies strictly between `from` and `wall` (next) or between
 * `wall` and `to` (prev).  A yearly schedule crosses two DST intervals a year;
 * without this each one would repeat the same multi-year search. */
struct wall_memo {
    bool valid;
    int64_t bound; /* the `after` (next) or `before` (prev) of the last search */
    int64_t wall;
    int result;
};

static int wall_next_memo(const struct cron_expr *expr, struct wall_memo *memo, int64_t after,
                          int64_t *ret_wall)
{
    if (!memo->valid || after < memo->bound || (memo->result == 0 && after >= memo->wall)) {
        memo->result = cron_wall_next(expr, after, &memo->wall);
        memo->bound = after;
        memo->valid = true;
    }
    *ret_wall = memo->wall;
    return memo->result;
}

static int wall_prev_memo(const struct cron_expr *expr, struct wall_memo *memo, int64_t before,
                          int64_t *ret_wall)
{
    if (!memo->valid || before > memo->bound || (memo->result == 0 && before <= memo->wall)) {
        memo->result = cron_wall_prev(expr, before, &memo->wall);
        memo->bound = before;
        memo->valid = true;
    }
    *ret_wall = memo->wall;
    return memo->result;
}

/* The first slot inside the gap that opens IV, if any.  MEMO may be NULL; the
 * previous interval's search usually already holds the answer. */
static bool gap_slot(const struct cron_expr *expr, struct wall_memo *memo,
                     const struct tz_interval *iv, int64_t *ret_wall)
{
    int64_t gap_from = iv->start_at + iv->prev_offset_s, gap_to = iv->start_at + iv->offset_s;
    int64_t wall;
    int r = memo ? wall_next_memo(expr, memo, gap_from - 1, &wall)
                 : cron_wall_next(expr, gap_from - 1, &wall);
    if (r < 0 || wall >= gap_to)
        return false;
    *ret_wall = wall;
    return true;
}

/* Set the instant, slot and overlap note of FIRE for slot WALL inside IV; the
 * skipped-gap fields are left as they are. */
static void fire_fill(const struct tz_interval *iv, int64_t wall, struct cron_fire *fire)
{
    fire->at = wall - iv->offset_s;
    fire->slot_wall = wall;
    fire->note = CRON_DST_NONE;
    if (falls_back(iv) && wall < iv->start_at + iv->prev_offset_s)
        fire->note = CRON_DST_OVERLAP_SECOND;
    else if (iv->end_at != TZ_END && iv->next_offset_s < iv->offset_s &&
             wall >= iv->end_at + iv->next_offset_s)
        fire->note = CRON_DST_OVERLAP_FIRST;
}

static int every_next(const struct cron_schedule *schedule, int64_t after_at,
                      struct cron_fire *fire)
{
    int64_t step = schedule->expr->interval_s, anchor = schedule->anchor_at;
    if (anchor < CRON_MIN_AT || anchor > CRON_MAX_AT)
        return -ERANGE;
    int64_t k = after_at < anchor ? 1 : (after_at - anchor) / step + 1;
    if (k > (CRON_MAX_AT - anchor) / step)
        return -ERANGE;
    *fire = (struct cron_fire){.at = anchor + k * step};
    fire->slot_wall = fire->at + tz_zone_offset_at(schedule->zone, fire->at);
    return 0;
}

static int every_prev(const struct cron_schedule *schedule, int64_t before_at,
                      struct cron_fire *fire)
{
    int64_t step = schedule->expr->interval_s, anchor = schedule->anchor_at;
    if (anchor < CRON_MIN_AT || anchor > CRON_MAX_AT || before_at <= anchor + step)
        return -ERANGE;
    int64_t k = (before_at - anchor - 1) / step;
    *fire = (struct cron_fire){.at = anchor + k * step};
    fire->slot_wall = fire->at + tz_zone_offset_at(schedule->zone, fire->at);
    return 0;
}

int cron_schedule_next(const struct cron_schedule *schedule, int64_t after_at,
                       struct cron_fire *ret_fire)
{
    const struct cron_expr *expr = schedule->expr;
    if (after_at >= CRON_MAX_AT)
        return -ERANGE;
    if (after_at < CRON_MIN_AT)
        after_at = CRON_MIN_AT - 1;
    if (expr->interval_s > 0)
        return every_next(schedule, after_at, ret_fire);
    bool shift = cron_schedule_gap_policy(schedule) == CRON_GAP_SHIFT;
    bool both = cron_schedule_overlap_policy(schedule) == CRON_OVERLAP_BOTH;
    struct cron_fire fire = {0};
    struct tz_interval iv;
    struct wall_memo memo = {.valid = false};
    int64_t cur = after_at, gap_wall, wall;
    tz_zone_interval_at(schedule->zone, after_at + 1, &iv);
    while (cur - after_at < SEARCH_LIMIT_S && cur < CRON_MAX_AT) {
        if (iv.start_at > cur && springs_forward(&iv) && gap_slot(expr, &memo, &iv, &gap_wall)) {
            if (shift) {
                *ret_fire = fire;
                ret_fire->at = iv.start_at;
                ret_fire->slot_wall = gap_wall;
                ret_fire->note = CRON_DST_SHIFTED;
                return 0;
            }
            if (!fire.skipped_gap)
                fire.skipped_gap = true, fire.skipped_wall = gap_wall;
        }
        int64_t from_wall = (cur > iv.start_at - 1 ? cur : iv.start_at - 1) + iv.offset_s;
        if (falls_back(&iv) && !both && from_wall < iv.start_at + iv.prev_offset_s - 1)
            from_wall = iv.start_at + iv.prev_offset_s - 1;
        if (wall_next_memo(expr, &memo, from_wall, &wall) < 0)
            return -ERANGE;
        if (wall - iv.offset_s < iv.end_at) {
            fire_fill(&iv, wall, &fire); /* keeps the skipped-gap note */
            if (fire.at > CRON_MAX_AT)
                return -ERANGE;
            *ret_fire = fire;
            return 0;
        }
        cur = iv.end_at - 1;
        tz_zone_interval_at(schedule->zone, iv.end_at, &iv);
    }
    return -ERANGE;
}

int cron_schedule_prev(const struct cron_schedule *schedule, int64_t before_at,
                       struct cron_fire *ret_fire)
{
    const struct cron_expr *expr = schedule->expr;
    if (before_at <= CRON_MIN_AT)
        return -ERANGE;
    if (before_at > CRON_MAX_AT)
        before_at = CRON_MAX_AT + 1;
    if (expr->interval_s > 0)
        return every_prev(schedule, before_at, ret_fire);
    bool shift = cron_schedule_gap_policy(schedule) == CRON_GAP_SHIFT;
    bool both = cron_schedule_overlap_policy(schedule) == CRON_OVERLAP_BOTH;
    struct tz_interval iv;
    struct wall_memo memo = {.valid = false};
    int64_t cur = before_at, wall, gap_wall;
    tz_zone_interval_at(schedule->zone, before_at - 1, &iv);
    while (before_at - cur < SEARCH_LIMIT_S) {
        int64_t to_wall = (cur < iv.end_at ? cur : iv.end_at) + iv.offset_s;
        int64_t lowest_wall = iv.start_at + iv.offset_s;
        if (falls_back(&iv) && !both)
            lowest_wall = iv.start_at + iv.prev_offset_s;
        if (iv.start_at == TZ_BEGINNING)
            lowest_wall = INT64_MIN;
        int r = wall_prev_memo(expr, &memo, to_wall, &wall);
        if (r == 0 && wall >= lowest_wall) {
            if (wall - iv.offset_s < CRON_MIN_AT)
                return -ERANGE;
            *ret_fire = (struct cron_fire){0};
            fire_fill(&iv, wall, ret_fire);
            return 0;
        }
        if (r < 0 || iv.start_at == TZ_BEGINNING)
            return -ERANGE;
        if (iv.start_at < cur && springs_forward(&iv) && shift &&
            gap_slot(expr, NULL, &iv, &gap_wall)) {
            if (iv.start_at < CRON_MIN_AT)
                return -ERANGE;
            *ret_fire = (struct cron_fire){
                .at = iv.start_at, .slot_wall = gap_wall, .note = CRON_DST_SHIFTED};
            return 0;
        }
        cur = iv.start_at;
        tz_zone_interval_at(schedule->zone, iv.start_at - 1, &iv);
    }
    return -ERANGE;
}

static const char *const gap_names[] = {"default", "shift", "skip"};
static const char *const overlap_names[] = {"default", "first", "both"};

static int name_index(const char *const *names, int count, const char *text)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], text) == 0)
            return i;
    return -EINVAL;
}

const char *cron_gap_policy_to_string(enum cron_gap_policy policy)
{
    return gap_names[policy];
}

int cron_gap_policy_from_string(const char *text, enum cron_gap_policy *ret)
{
    int i = name_index(gap_names, 3, text);
    if (i < 0)
        return i;
    *ret = (enum cron_gap_policy)i;
    return 0;
}

const char *cron_overlap_policy_to_string(enum cron_overlap_policy policy)
{
    return overlap_names[policy];
}

int cron_overlap_policy_from_string(const char *text, enum cron_overlap_policy *ret)
{
    int i = name_index(overlap_names, 3, text);
    if (i < 0)
        return i;
    *ret = (enum cron_overlap_policy)i;
    return 0;
}
