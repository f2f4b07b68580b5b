/*
 * timefmt - the text forms of times and durations used across the API and CLI.
 *
 * Instants are RFC 3339 (`2026-11-30T14:00:00Z`, offsets and fractions accepted on
 * input; UTC, second precision and `Z` on output).  Durations are Go-style strings
 * (`500ms`, `90s`, `1h30m`, `2d`), the form the seed's users already write.
 */
#ifndef OVSCHED_BASE_TIMEFMT_H
#define OVSCHED_BASE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Instants accepted and produced: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define TIMEFMT_MIN_AT INT64_C(-62135596800)
#define TIMEFMT_MAX_AT INT64_C(253402300799)

/* Room for any formatted instant, with its NUL. */
#define TIMEFMT_RFC3339_SIZE 32

/* Parse an RFC 3339 date-time (`T` or space, `Z` or +hh:mm, optional fraction,
 * which is truncated toward the past) into Unix seconds.  Returns 0, or -EINVAL
 * with a static reason in *ret_reason.  *ret_at is written only on success. */
int timefmt_rfc3339_parse(const char *text, int64_t *ret_at, const char **ret_reason);

/* Write AT as `YYYY-MM-DDTHH:MM:SSZ` into BUF (TIMEFMT_RFC3339_SIZE bytes).
 * Returns BUF. */
char *timefmt_rfc3339_format(int64_t at, char *buf);

/* Parse a duration such as `1h30m`, `90s`, `500ms`, `2d` into milliseconds
 * (units: ms s m h d; a bare `0` is zero).  Returns 0, or -EINVAL with a static
 * reason, or -ERANGE when it does not fit in int64 ms. */
int timefmt_duration_parse(const char *text, size_t len, int64_t *ret_ms, const char **ret_reason);

#endif
