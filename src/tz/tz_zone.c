/*
 * tz_zone - read a zone's transitions out of GTimeZone into a flat table.
 *
 * GTimeZone answers "which interval holds this instant" by a linear scan and
 * has no call that lists transitions, so the table is built once by sampling
 * g_time_zone_find_interval() every week and bisecting each change of interval
 * index down to the second.  Interval indices are consecutive, so a jump of two
 * inside one week (Casablanca's Ramadan switches) is bisected too and never lost.
 * Entries whose offset, DST flag and abbreviation all equal the previous one are
 * dropped: they change nothing a schedule can see.
 *
 * Invariants: starts[0] == TZ_BEGINNING; starts[] strictly increases; the
 * entries from `window` on are the transitions of [PERIOD_BASE, TABLE_END),
 * which repeat every PERIOD seconds.
 */
#include "tz/tz.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "base/civil.h"

#define PERIOD      (INT64_C(146097) * CIVIL_SECS_PER_DAY) /* 400 Gregorian years */
#define TABLE_START (INT64_C(-5364662400))                 /* 1800-01-01T00:00:00Z */
#define TABLE_END   (INT64_C(27455760000))                 /* 2840-01-15, see below */
#define PERIOD_BASE (TABLE_END - PERIOD)
#define SAMPLE_STEP (7 * CIVIL_SECS_PER_DAY)
#define ABBREV_SIZE 16

/* The repeating window is the table's last 400 years, 2440-2840: late enough
 * that no zone still lists transitions one by one there (Casablanca and Gaza list
 * Ramadan switches up to 2087, which do not repeat), and early enough that
 * GTimeZone still applies DST rules (it stops near 3000).  TABLE_END lies in
 * January, when no rule-based zone has a transition, so no interval is cut by
 * the period boundary in a way the table cannot restore. */

struct tz_zone {
    char *name;
    size_t count;  /* entries in the table */
    size_t window; /* first entry in [PERIOD_BASE, TABLE_END); == count if none */
    int64_t *starts;
    int32_t *offsets;
    bool *dst;
    char (*abbrevs)[ABBREV_SIZE];
};

struct builder {
    GTimeZone *gtz;
    GArray *starts, *offsets, *dst, *abbrevs;
};

static void builder_append(struct builder *b, int64_t start_at, int interval)
{
    int32_t offset = g_time_zone_get_offset(b->gtz, interval);
    gboolean is_dst = g_time_zone_is_dst(b->gtz, interval);
    char abbrev[ABBREV_SIZE] = {0};
    g_strlcpy(abbrev, g_time_zone_get_abbreviation(b->gtz, interval), sizeof(abbrev));
    guint n = b->starts->len;
    if (n > 0 && g_array_index(b->offsets, int32_t, n - 1) == offset &&
        g_array_index(b->dst, bool, n - 1) == (bool)is_dst &&
        strcmp(b->abbrevs->data + (size_t)(n - 1) * ABBREV_SIZE, abbrev) == 0)
        return;
    bool dst_flag = is_dst;
    g_array_append_val(b->starts, start_at);
    g_array_append_val(b->offsets, offset);
    g_array_append_val(b->dst, dst_flag);
    g_array_append_vals(b->abbrevs, abbrev, 1);
}

static int find_interval(GTimeZone *gtz, int64_t at)
{
    return g_time_zone_find_interval(gtz, G_TIME_TYPE_UNIVERSAL, at);
}

/* Record every interval that starts in (lo, hi], given their interval indices. */
static void builder_bisect(struct builder *b, int64_t lo, int klo, int64_t hi, int khi)
{
    if (klo == khi)
        return;
    if (hi - lo == 1) {
        builder_append(b, hi, khi);
        return;
    }
    int64_t mid = lo + (hi - lo) / 2;
    int kmid = find_interval(b->gtz, mid);
    builder_bisect(b, lo, klo, mid, kmid);
    builder_bisect(b, mid, kmid, hi, khi);
}

static bool is_zone_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64 || !g_ascii_isalpha(name[0]) || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!g_ascii_isalnum(name[i]) && !strchr("/_+-", name[i]))
            return false;
    return true;
}

/* GTimeZone also accepts POSIX rule strings ("Mars5"), which would turn a typo
 * into a made-up zone; only names the tz database holds are zones. */
static bool zone_file_exists(const char *name)
{
    if (strcmp(name, "UTC") == 0)
        return true;
    const char *dir = g_getenv("TZDIR");
    char *path = g_build_filename(dir && *dir ? dir : "/usr/share/zoneinfo", name, NULL);
    bool exists = g_file_test(path, G_FILE_TEST_IS_REGULAR);
    g_free(path);
    return exists;
}

static struct tz_zone *zone_from_builder(const char *name, struct builder *b)
{
    struct tz_zone *zone = g_new0(struct tz_zone, 1);
    zone->name = g_strdup(name);
    zone->count = b->starts->len;
    zone->starts = (int64_t *)(void *)g_array_free(b->starts, FALSE);
    zone->offsets = (int32_t *)(void *)g_array_free(b->offsets, FALSE);
    zone->dst = (bool *)(void *)g_array_free(b->dst, FALSE);
    zone->abbrevs = (char(*)[ABBREV_SIZE])(void *)g_array_free(b->abbrevs, FALSE);
    zone->window = zone->count;
    for (size_t i = 1; i < zone->count; i++) {
        if (zone->starts[i] >= PERIOD_BASE) {
            zone->window = i;
            break;
        }
    }
    return zone;
}

int tz_zone_load(const char *name, struct tz_zone **ret_zone)
{
    if (!is_zone_name(name))
        return -EINVAL;
    if (!zone_file_exists(name))
        return -ENOENT;
    GTimeZone *gtz = g_time_zone_new_identifier(name);
    if (!gtz)
        return -ENOENT;
    struct builder b = {
        .gtz = gtz,
        .starts = g_array_new(FALSE, FALSE, sizeof(int64_t)),
        .offsets = g_array_new(FALSE, FALSE, sizeof(int32_t)),
        .dst = g_array_new(FALSE, FALSE, sizeof(bool)),
        .abbrevs = g_array_new(FALSE, FALSE, ABBREV_SIZE),
    };
    int k = find_interval(gtz, TABLE_START);
    builder_append(&b, TZ_BEGINNING, k);
    for (int64_t at = TABLE_START; at < TABLE_END;) {
        int64_t next_at = at + SAMPLE_STEP < TABLE_END ? at + SAMPLE_STEP : TABLE_END;
        int next_k = find_interval(gtz, next_at);
        builder_bisect(&b, at, k, next_at, next_k);
        at = next_at;
        k = next_k;
    }
    g_time_zone_unref(gtz);
    *ret_zone = zone_from_builder(name, &b);
    return 0;
}

void tz_zone_free(struct tz_zone *zone)
{
    if (!zone)
        return;
    g_free(zone->name);
    g_free(zone->starts);
    g_free(zone->offsets);
    g_free(zone->dst);
    g_free(zone->abbrevs);
    g_free(zone);
}

const char *tz_zone_name(const struct tz_zone *zone)
{
    return zone->name;
}

/* Index of the last entry whose start is <= AT, searching [lo, hi). */
static size_t upper_index(const struct tz_zone *zone, size_t lo, size_t hi, int64_t at)
{
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (zone->starts[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static bool zone_is_periodic(const struct tz_zone *zone)
{
    return zone->window < zone->count;
}

/* Fill RET for entry I of the table, moved PERIODS whole periods later. */
static void interval_fill(const struct tz_zone *zone, size_t i, int64_t periods,
                          struct tz_interval *ret)
{
    int64_t shift = periods * PERIOD;
    ret->start_at = i == 0 ? TZ_BEGINNING : zone->starts[i] + shift;
    ret->offset_s = zone->offsets[i];
    ret->is_dst = zone->dst[i];
    ret->abbrev = zone->abbrevs[i];
    if (i + 1 < zone->count) {
        ret->end_at = zone->starts[i + 1] + shift;
        ret->next_offset_s = zone->offsets[i + 1];
    } else if (zone_is_periodic(zone)) {
        ret->end_at = zone->starts[zone->window] + shift + PERIOD;
        ret->next_offset_s = zone->offsets[zone->window];
    } else {
        ret->end_at = TZ_END;
        ret->next_offset_s = ret->offset_s;
    }
    if (i == 0)
        ret->prev_offset_s = ret->offset_s;
    else if (i == zone->window && periods > 0)
        ret->prev_offset_s = zone->offsets[zone->count - 1];
    else
        ret->prev_offset_s = zone->offsets[i - 1];
}

void tz_zone_interval_at(const struct tz_zone *zone, int64_t at, struct tz_interval *ret)
{
    if (at < TABLE_END || !zone_is_periodic(zone)) {
        interval_fill(zone, upper_index(zone, 0, zone->count, at), 0, ret);
        return;
    }
    int64_t periods = (at - PERIOD_BASE) / PERIOD;
    int64_t folded = at - periods * PERIOD;
    if (folded < zone->starts[zone->window]) {
        interval_fill(zone, zone->count - 1, periods - 1, ret);
        return;
    }
    interval_fill(zone, upper_index(zone, zone->window, zone->count, folded), periods, ret);
}

int32_t tz_zone_offset_at(const struct tz_zone *zone, int64_t at)
{
    struct tz_interval iv;
    tz_zone_interval_at(zone, at, &iv);
    return iv.offset_s;
}

struct tz_cache {
    GHashTable *zones;
};

struct tz_cache *tz_cache_new(void)
{
    struct tz_cache *cache = g_new0(struct tz_cache, 1);
    cache->zones =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)tz_zone_free);
    return cache;
}

void tz_cache_free(struct tz_cache *cache)
{
    if (!cache)
        return;
    g_hash_table_destroy(cache->zones);
    g_free(cache);
}

int tz_cache_get(struct tz_cache *cache, const char *name, const struct tz_zone **ret_zone)
{
    struct tz_zone *zone = g_hash_table_lookup(cache->zones, name);
    if (!zone) {
        int r = tz_zone_load(name, &zone);
        if (r < 0)
            return r;
        g_hash_table_insert(cache->zones, g_strdup(name), zone);
    }
    *ret_zone = zone;
    return 0;
}
