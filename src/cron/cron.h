/*
 * cron - parse cron expressions and compute when they fire, in any time zone.
 *
 * Pure: no I/O, no clock, no globals.  Wall-clock rules come from an explicit
 * struct tz_zone; the process TZ variable is never read or changed.
 *
 * Vocabulary: a *slot* is a wall-clock time the expression names (09:00 on
 * 2026-03-09 in the job's zone); a *fire* is the instant the slot runs at.  They
 * differ only around daylight-saving changes, and these rules decide how
 * (docs/cron.md):
 *   - gap (spring forward): a slot that does not exist shifts to the first instant
 *     after the gap ("shift") or is dropped ("skip");
 *   - overlap (fall back): a slot that exists twice fires at its first occurrence
 *     only ("first") or at both ("both").
 * The defaults depend on the hour field: a fixed hour shifts and fires once; a
 * wildcard hour (text starting with `*`) fires at every real instant that
 * matches, so it skips gaps and fires in both repeated hours.  Several slots
 * shifted to the same instant fire once there.
 */
#ifndef OVSCHED_CRON_CRON_H
#define OVSCHED_CRON_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz/tz.h"

struct cron_expr; /* opaque, immutable once parsed */

#define CRON_EXPR_MAX_LEN 1024
/* Fire times lie in 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z; instants
 * given outside are clamped to that range. */
#define CRON_MIN_AT INT64_C(-62135596800)
#define CRON_MAX_AT INT64_C(253402300799)

struct cron_error {
    int field;              /* 1-based position as written; 0 when not in one field */
    const char *field_name; /* "day of month"; NULL when not in one field */
    size_t offset;          /* byte offset in the text where the problem is */
    char reason[160];       /* "32 is out of range 1-31" */
};

/* Parse the LEN bytes of TEXT (any bytes: the parser is total).  Returns 0 with a
 * new expression in *ret_expr (free with cron_expr_free()), or fills *reterr and
 * returns -EINVAL for bad syntax or -ERANGE for an expression that can never fire
 * (`0 0 30 2 *`), or -ENOMEM.  *ret_expr is written only on success. */
int cron_expr_parse(const char *text, size_t len, struct cron_expr **ret_expr,
                    struct cron_error *reterr);

/* Expressions are shared: a million jobs with one schedule hold one parsed
 * expression (the daemon's start-up interns them).  cron_expr_ref() adds a
 * holder and returns EXPR; cron_expr_free() drops one and frees the
 * expression with the last.  Not atomic: one thread owns them all. */
struct cron_expr *cron_expr_ref(struct cron_expr *expr);
void cron_expr_free(struct cron_expr *expr);

/* Write "field 3 (day of month): 32 is out of range 1-31 (at offset 5)" into BUF. */
void cron_error_format(const struct cron_error *err, char *buf, size_t size);

/* The zone named by a `CRON_TZ=` or `TZ=` prefix, or NULL.  It wins over the
 * zone the caller would otherwise use. */
const char *cron_expr_zone(const struct cron_expr *expr);

/* True when the hour field starts with `*` (`*`, `*\/2`), or the expression is
 * `@hourly` or `@every`. */
bool cron_expr_hour_is_wildcard(const struct cron_expr *expr);

/* For `@every D`: D in seconds; 0 for a calendar expression. */
int64_t cron_expr_interval_s(const struct cron_expr *expr);

enum cron_gap_policy { CRON_GAP_DEFAULT, CRON_GAP_SHIFT, CRON_GAP_SKIP };
enum cron_overlap_policy { CRON_OVERLAP_DEFAULT, CRON_OVERLAP_FIRST, CRON_OVERLAP_BOTH };

/* A job's `dst_policy`; zero-initialised means the defaults above. */
struct cron_dst_policy {
    enum cron_gap_policy on_gap;
    enum cron_overlap_policy on_overlap;
};

const char *cron_gap_policy_to_string(enum cron_gap_policy policy);
int cron_gap_policy_from_string(const char *text, enum cron_gap_policy *ret);
const char *cron_overlap_policy_to_string(enum cron_overlap_policy policy);
int cron_overlap_policy_from_string(const char *text, enum cron_overlap_policy *ret);

/* What computing one schedule needs besides the expression.  ANCHOR_AT is where
 * `@every` intervals count from (a job's creation, or `--from`). */
struct cron_schedule {
    const struct cron_expr *expr;
    const struct tz_zone *zone;
    struct cron_dst_policy dst_policy;
    int64_t anchor_at;
};

enum cron_dst_note {
    CRON_DST_NONE,
    CRON_DST_SHIFTED,        /* slot inside a gap, fired at the first instant after it */
    CRON_DST_OVERLAP_FIRST,  /* slot that occurs twice; this is its first occurrence */
    CRON_DST_OVERLAP_SECOND, /* slot that occurs twice; this is the repeat */
};

struct cron_fire {
    int64_t at;        /* the fire instant, Unix seconds */
    int64_t slot_wall; /* the slot, as seconds of the zone's wall clock */
    enum cron_dst_note note;
    bool skipped_gap;     /* a slot inside a gap was dropped since the previous fire */
    int64_t skipped_wall; /* the first such slot, when skipped_gap */
};

/* The first fire strictly after AFTER_AT.  Returns 0, or -ERANGE when there is
 * none before CRON_MAX_AT.  Never allocates; bounded time for every input. */
int cron_schedule_next(const struct cron_schedule *schedule, int64_t after_at,
                       struct cron_fire *ret_fire);

/* The last fire strictly before BEFORE_AT.  Returns 0, or -ERANGE when there is
 * none (before the anchor of `@every`, or in the year 1 or earlier). */
int cron_schedule_prev(const struct cron_schedule *schedule, int64_t before_at,
                       struct cron_fire *ret_fire);

/* The effective policies of SCHEDULE once defaults are resolved. */
enum cron_gap_policy cron_schedule_gap_policy(const struct cron_schedule *schedule);
enum cron_overlap_policy cron_schedule_overlap_policy(const struct cron_schedule *schedule);

/* Describe what a DST rule did to FIRE ("02:30 does not exist on 2026-03-08 in
 * America/New_York: fires at 03:00 EDT"), one sentence per event, joined by
 * "; ".  Writes "" when nothing happened.  Returns the length written. */
size_t cron_fire_explain(const struct cron_schedule *schedule, const struct cron_fire *fire,
                         char *buf, size_t size);

#endif
