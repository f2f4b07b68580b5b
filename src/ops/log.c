/*
 * log - JSON or text lines.  See log.h.
 *
 * Messages are made valid UTF-8 first: they may quote job output or client
 * bytes, and one bad byte must not make jansson drop the whole line.
 */
#include "ops/log.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <string.h>

#include "base/timefmt.h"

static enum log_format format = LOG_FORMAT_JSON;
static FILE *stream;

int log_format_from_string(const char *text, enum log_format *ret)
{
    if (text && strcmp(text, "json") == 0)
        *ret = LOG_FORMAT_JSON;
    else if (text && strcmp(text, "text") == 0)
        *ret = LOG_FORMAT_TEXT;
    else
        return -EINVAL;
    return 0;
}

void log_set_format(enum log_format f)
{
    format = f;
}

void log_set_stream(FILE *s)
{
    stream = s;
}

static void write_json(FILE *out, const char *ts, const char *level, const char *msg,
                       json_t *fields)
{
    json_t *line = json_pack("{ss ss ss}", "ts", ts, "level", level, "msg", msg);
    if (fields && json_object_size(fields) > 0)
        json_object_set(line, "fields", fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text)
        fprintf(out, "%s\n", text);
    free(text);
    json_decref(line);
}

/* TEXT on one line: a client's bytes (a token name, a job id) must not
 * start a forged log line. */
static void put_flat(FILE *out, const char *text)
{
    for (const char *c = text; *c; c++)
        fputc((unsigned char)*c < 0x20 ? ' ' : *c, out);
}

static void write_text(FILE *out, const char *ts, const char *level, const char *msg,
                       json_t *fields)
{
    fprintf(out, "time=%s level=%s msg=\"", ts, level);
    put_flat(out, msg);
    fputc('"', out);
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value)
    {
        char *v = json_is_string(value) ? NULL : json_dumps(value, JSON_ENCODE_ANY);
        fprintf(out, " %s=", key);
        put_flat(out, v ? v : json_string_value(value));
        free(v);
    }
    fputc('\n', out);
}

void log_write(const char *level, int64_t at_ms, json_t *fields, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    char *msg = g_utf8_make_valid(text, -1);
    char ts[40];
    char base[TIMEFMT_RFC3339_SIZE];
    timefmt_rfc3339_format(at_ms / 1000, base);
    /* 2026-11-27T05:00:00Z -> 2026-11-27T05:00:00.123Z */
    snprintf(ts, sizeof(ts), "%.*s.%03dZ", (int)strlen(base) - 1, base, (int)(at_ms % 1000));
    FILE *out = stream ? stream : stderr;
    if (format == LOG_FORMAT_JSON)
        write_json(out, ts, level, msg, fields);
    else
        write_text(out, ts, level, msg, fields);
    fflush(out);
    g_free(msg);
    json_decref(fields);
}
