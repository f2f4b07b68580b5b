/*
 * cron_explain - say in one sentence what a DST rule did to a fire.
 *
 * Used by `cron next --explain`, the schedule preview in the API and the UI,
 * and the decision log; wording names the wall time, the date and the zone so
 * a reader needs no other context.
 */
#include <stdio.h>
#include <string.h>

#include "base/civil.h"
#include "cron/internal.h"

/* "02:30" (or "02:30:15" when the seconds matter). */
static void wall_clock_text(int64_t wall, char *buf, size_t size)
{
    struct civil_time ct;
    civil_from_seconds(wall, &ct);
    if (ct.second)
        snprintf(buf, size, "%02d:%02d:%02d", ct.hour, ct.minute, ct.second);
    else
        snprintf(buf, size, "%02d:%02d", ct.hour, ct.minute);
}

static void wall_date_text(int64_t wall, char *buf, size_t size)
{
    struct civil_time ct;
    civil_from_seconds(wall, &ct);
    snprintf(buf, size, "%04lld-%02d-%02d", (long long)ct.year, ct.month, ct.day);
}

/* "03:00 EDT": the instant AT on the zone's clock, with the abbreviation. */
static void local_text(const struct tz_zone *zone, int64_t at, char *buf, size_t size)
{
    struct tz_interval iv;
    char clock[16];
    tz_zone_interval_at(zone, at, &iv);
    wall_clock_text(at + iv.offset_s, clock, sizeof(clock));
    snprintf(buf, size, "%s %s", clock, iv.abbrev);
}

static size_t append(char *buf, size_t size, size_t used, const char *sentence)
{
    int n = snprintf(buf + (used < size ? used : size), used < size ? size - used : 0, "%s%s",
                     used ? "; " : "", sentence);
    return used + (size_t)(n > 0 ? n : 0);
}

static void explain_note(const struct cron_schedule *schedule, const struct cron_fire *fire,
                         const char *slot, const char *where, char *out, size_t size)
{
    const struct tz_zone *zone = schedule->zone;
    char here[48], other[48];
    struct tz_interval iv;
    local_text(zone, fire->at, here, sizeof(here));
    tz_zone_interval_at(zone, fire->at, &iv);
    switch (fire->note) {
    case CRON_DST_SHIFTED:
        snprintf(out, size, "%s does not exist %s: fires at %s", slot, where, here);
        break;
    case CRON_DST_OVERLAP_FIRST:
        if (cron_schedule_overlap_policy(schedule) == CRON_OVERLAP_FIRST) {
            snprintf(out, size, "%s occurs twice %s: fires once, at the first (%s)", slot, where,
                     here);
        } else {
            local_text(zone, fire->slot_wall - iv.next_offset_s, other, sizeof(other));
            snprintf(out, size, "%s occurs twice %s: fires at %s and again at %s", slot, where,
                     here, other);
        }
        break;
    case CRON_DST_OVERLAP_SECOND:
        snprintf(out, size, "%s occurs twice %s: fires again at %s (the repeat)", slot, where,
                 here);
        break;
    case CRON_DST_NONE:
        out[0] = '\0';
        break;
    }
}

/* "on 2026-03-08 in America/New_York", where the slot WALL belongs. */
static void where_text(const struct tz_zone *zone, int64_t wall, char *buf, size_t size)
{
    char date[24];
    wall_date_text(wall, date, sizeof(date));
    snprintf(buf, size, "on %s in %s", date, tz_zone_name(zone));
}

size_t cron_fire_explain(const struct cron_schedule *schedule, const struct cron_fire *fire,
                         char *buf, size_t size)
{
    char sentence[512], slot[16], where[128];
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    if (fire->skipped_gap) {
        wall_clock_text(fire->skipped_wall, slot, sizeof(slot));
        where_text(schedule->zone, fire->skipped_wall, where, sizeof(where));
        snprintf(sentence, sizeof(sentence), "%s does not exist %s: skipped (%s)", slot, where,
                 schedule->dst_policy.on_gap == CRON_GAP_SKIP ? "dst_policy on_gap is skip"
                                                              : "the hour field is a wildcard");
        used = append(buf, size, used, sentence);
    }
    if (fire->note != CRON_DST_NONE) {
        wall_clock_text(fire->slot_wall, slot, sizeof(slot));
        where_text(schedule->zone, fire->slot_wall, where, sizeof(where));
        explain_note(schedule, fire, slot, where, sentence, sizeof(sentence));
        used = append(buf, size, used, sentence);
    }
    return used;
}
