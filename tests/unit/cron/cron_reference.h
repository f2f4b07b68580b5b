/*
 * cron_reference - a plainly correct, slow cron engine for the tests to compare
 * the fast one against.
 *
 * It shares nothing with src/cron's search: day matching is written out rule by
 * rule with GLib's GDate, the zone comes straight from GTimeZone (not from the
 * tz table), and DST is found by asking, for every slot, which instants have
 * that wall time.  It walks the wall clock day by day and, inside a day, time
 * by time.  Valid for years 1900-2990 (GTimeZone stops applying DST rules
 * around 3000).  It reads the parsed field masks from src/cron/internal.h: the
 * parser has its own table tests.
 */
#ifndef OVSCHED_TESTS_CRON_REFERENCE_H
#define OVSCHED_TESTS_CRON_REFERENCE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "cron/internal.h"

struct cron_reference {
    const struct cron_expr *expr;
    GTimeZone *zone;
    bool shift_gaps;    /* on_gap: shift */
    bool both_overlaps; /* on_overlap: both */
};

/* First fire strictly after AFTER_AT into *RET_AT; false when none within 10 years. */
bool cron_reference_next(const struct cron_reference *ref, int64_t after_at, int64_t *ret_at);
/* Last fire strictly before BEFORE_AT into *RET_AT; false when none within 10 years. */
bool cron_reference_prev(const struct cron_reference *ref, int64_t before_at, int64_t *ret_at);

/* Does EXPR name day YEAR-MONTH-DAY?  (DOM/DOW rule and Quartz forms.) */
bool cron_reference_day_matches(const struct cron_expr *expr, int year, int month, int day);

#endif
