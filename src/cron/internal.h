/*
 * cron internals shared by the parser, the wall-clock matcher and the zone-aware
 * search.  An expression is a set of bitmasks, one per field, plus the Quartz
 * day forms that depend on the month (L, L-n, nW, LW, nL, n#k), which are kept as
 * small masks and resolved per month.
 */
#ifndef OVSCHED_CRON_INTERNAL_H
#define OVSCHED_CRON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "cron/cron.h"

struct cron_expr {
    uint64_t seconds;      /* bits 0-59 */
    uint64_t minutes;      /* bits 0-59 */
    uint32_t hours;        /* bits 0-23 */
    uint32_t dom;          /* bits 1-31: plain days of month */
    uint16_t months;       /* bits 1-12 */
    uint8_t dow;           /* bits 0-6, Sunday = 0 */
    uint32_t dom_last;     /* bit n: `L-n` (n = 0 is `L`) */
    uint32_t dom_near;     /* bit n: `nW` */
    bool dom_last_weekday; /* `LW` */
    uint8_t dow_last;      /* bit w: `wL`, the last weekday w of the month */
    uint8_t dow_nth[7];    /* bit k of [w]: `w#k` */
    bool dom_star;         /* day-of-month text starts with `*` or `?` ... */
    bool dow_star;         /* ... or this one's does: day fields AND, else OR */
    bool hour_wildcard;
    bool has_day_specials;
    uint32_t dow_days[7]; /* [weekday of the 1st]: days 1-31 whose weekday is in dow */
    int64_t interval_s;   /* `@every`; 0 otherwise */
    char *zone;           /* CRON_TZ= prefix, or NULL */
    unsigned refs;        /* holders; see cron_expr_ref() */
};

/* Days (bits 1..31) of YEAR-MONTH on which EXPR fires, after the DOM/DOW rule. */
uint32_t cron_month_days(const struct cron_expr *expr, int64_t year, int month);

/* The first matching wall time strictly after AFTER_WALL, or the last strictly
 * before BEFORE_WALL.  Return 0 or -ERANGE when none lies within 401 years. */
int cron_wall_next(const struct cron_expr *expr, int64_t after_wall, int64_t *ret_wall);
int cron_wall_prev(const struct cron_expr *expr, int64_t before_wall, int64_t *ret_wall);

#endif
