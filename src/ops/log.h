/*
 * log - the daemon's log lines on stderr.
 *
 * Two formats: `json` (default; one object per line: {"ts", "level", "msg",
 * "fields"}, for journald, Loki, jq) and `text` (`time=... level=...
 * msg="..." key=value`, for people).  Chosen once at start-up
 * (`ovsched serve --log-format`); the loop thread logs.
 */
#ifndef OVSCHED_OPS_LOG_H
#define OVSCHED_OPS_LOG_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

enum log_format { LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

/* Returns 0, or -EINVAL for anything but "json" and "text". */
int log_format_from_string(const char *text, enum log_format *ret);
void log_set_format(enum log_format format);
/* Where lines go (default stderr); tests point it at a memory stream. */
void log_set_stream(FILE *stream);

/* One line at LEVEL ("debug", "info", "warn", "error") at AT_MS (Unix ms)
 * with FIELDS (an object, may be NULL; the reference is stolen). */
void log_write(const char *level, int64_t at_ms, json_t *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
