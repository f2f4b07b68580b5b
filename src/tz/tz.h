/*
 * tz - IANA time zones as a flat, immutable table of offset intervals.
 *
 * Rules come from the system tz database through GLib's GTimeZone; nothing here
 * reads or sets the process TZ, so any number of zones coexist in one process.
 * At load the zone's transitions from 1800 to 2840 are read out of GTimeZone
 * once; lookups are then a binary search with no allocation.  After the last
 * listed transition a zone follows its POSIX rule, which repeats exactly every
 * 400 Gregorian years (146097 days, a whole number of weeks), so instants past
 * 2840 are answered by shifting the 2440-2840 window by whole 400-year periods:
 * a schedule in the year 9000 keeps its DST days.
 */
#ifndef OVSCHED_TZ_TZ_H
#define OVSCHED_TZ_TZ_H

#include <stdbool.h>
#include <stdint.h>

struct tz_zone; /* opaque, immutable once loaded, safe to share read-only */

#define TZ_BEGINNING (INT64_MIN / 4) /* start of a zone's first interval */
#define TZ_END       (INT64_MAX / 4) /* end of a zone without further transitions */

/* A stretch of time with one UTC offset: [start_at, end_at), Unix seconds. */
struct tz_interval {
    int64_t start_at;
    int64_t end_at;
    int32_t offset_s;      /* local wall time = UTC + offset_s inside the interval */
    int32_t prev_offset_s; /* offset before start_at (== offset_s for the first) */
    int32_t next_offset_s; /* offset from end_at on (== offset_s for the last) */
    bool is_dst;
    const char *abbrev; /* "EDT", "+1030"; owned by the zone */
};

/* Load zone NAME ("America/New_York", "UTC", "Etc/GMT+5") from the system tz
 * database.  Returns 0, -ENOENT for a name the database does not know (never a
 * silent fallback to UTC), -EINVAL for a name that is not a zone name (empty,
 * too long, a path), or -ENOMEM.  *ret_zone is written only on success. */
int tz_zone_load(const char *name, struct tz_zone **ret_zone);

void tz_zone_free(struct tz_zone *zone);

const char *tz_zone_name(const struct tz_zone *zone);

/* The interval that contains instant AT.  Never allocates. */
void tz_zone_interval_at(const struct tz_zone *zone, int64_t at, struct tz_interval *ret);

/* UTC offset in seconds at instant AT. */
int32_t tz_zone_offset_at(const struct tz_zone *zone, int64_t at);

/* A name -> zone cache for callers that meet the same zones again and again (the
 * batch CLI, the scheduler).  Zones it returns live as long as the cache. */
struct tz_cache;

struct tz_cache *tz_cache_new(void);
void tz_cache_free(struct tz_cache *cache);
/* As tz_zone_load(), but returns a zone borrowed from CACHE. */
int tz_cache_get(struct tz_cache *cache, const char *name, const struct tz_zone **ret_zone);

#endif
