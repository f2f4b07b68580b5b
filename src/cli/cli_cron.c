/*
 * cli_cron - `ovsched cron next`: preview a schedule from the command line, or
 * answer a stream of JSON-line requests (docs/cron.md) for scripts and for
 * the differential tests.
 *
 * Batch mode writes exactly one line per input line, in order, whatever the
 * line holds: `{"times": [...]}` or `{"error": "..."}`.  An error in one line
 * never ends the stream.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/quote.h"
#include "base/timefmt.h"
#include "cli/internal.h"
#include "cron/cron.h"

#define DEFAULT_COUNT 5
#define MAX_COUNT     10000

struct next_request {
    const char *expr;
    const char *zone;
    int64_t from_at;
    long count;
    bool explain;
    struct cron_dst_policy dst_policy;
};

/* Errors for a person: "what: why" in ERR. */
static int describe(char *err, size_t size, const char *what, const char *why)
{
    snprintf(err, size, "%s: %s", what, why);
    return -EINVAL;
}

static int zone_error(int r, const char *name, char *err, size_t size)
{
    char why[160], quoted[QUOTE_SIZE];
    quote_clip(name, strlen(name), quoted, sizeof(quoted));
    if (r == -ENOENT)
        snprintf(why, sizeof(why), "unknown time zone '%s'", quoted);
    else
        snprintf(why, sizeof(why), "'%s' is not a time zone name (e.g. America/New_York)", quoted);
    return describe(err, size, "tz", why);
}

typedef int (*fire_sink)(void *ctx, const struct cron_schedule *schedule,
                         const struct cron_fire *fire);

/* Compute REQ's fire times and hand each to SINK. */
static int run_request(struct tz_cache *zones, const struct next_request *req, fire_sink sink,
                       void *ctx, char *err, size_t size)
{
    struct cron_expr *expr = NULL;
    struct cron_error perr;
    char text[256];
    int r = cron_expr_parse(req->expr, strlen(req->expr), &expr, &perr);
    if (r == -ENOMEM)
        return describe(err, size, "expr", "out of memory");
    if (r < 0) {
        cron_error_format(&perr, text, sizeof(text));
        return describe(err, size, "expr", text);
    }
    const char *zone_name = cron_expr_zone(expr) ? cron_expr_zone(expr) : req->zone;
    const struct tz_zone *zone = NULL;
    r = tz_cache_get(zones, zone_name, &zone);
    if (r < 0) {
        zone_error(r, zone_name, err, size);
        goto out;
    }
    struct cron_schedule schedule = {expr, zone, req->dst_policy, req->from_at};
    struct cron_fire fire;
    int64_t after = req->from_at;
    for (long i = 0; i < req->count; i++) {
        if (cron_schedule_next(&schedule, after, &fire) < 0)
            break; /* no more fire times before the year 10000 */
        r = sink(ctx, &schedule, &fire);
        if (r < 0)
            goto out;
        after = fire.at;
    }
    r = 0;
out:
    cron_expr_free(expr);
    return r;
}

static int print_fire(void *ctx, const struct cron_schedule *schedule, const struct cron_fire *fire)
{
    const struct next_request *req = ctx;
    char utc[TIMEFMT_RFC3339_SIZE], local[TIMEFMT_RFC3339_SIZE], note[512];
    struct tz_interval iv;
    tz_zone_interval_at(schedule->zone, fire->at, &iv);
    timefmt_rfc3339_format(fire->at + iv.offset_s, local);
    local[10] = ' ';
    local[19] = '\0';
    printf("%s  %s %s", timefmt_rfc3339_format(fire->at, utc), local, iv.abbrev);
    if (req->explain && cron_fire_explain(schedule, fire, note, sizeof(note)) > 0)
        printf("  # %s", note);
    putchar('\n');
    return 0;
}

struct json_sink {
    json_t *times;
    json_t *notes; /* NULL unless explaining */
};

static int collect_fire(void *ctx, const struct cron_schedule *schedule,
                        const struct cron_fire *fire)
{
    struct json_sink *sink = ctx;
    char utc[TIMEFMT_RFC3339_SIZE], note[512];
    json_array_append_new(sink->times, json_string(timefmt_rfc3339_format(fire->at, utc)));
    if (sink->notes) {
        cron_fire_explain(schedule, fire, note, sizeof(note));
        json_array_append_new(sink->notes, json_string(note));
    }
    return 0;
}

static int parse_policy(json_t *obj, struct cron_dst_policy *policy, char *err, size_t size)
{
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return describe(err, size, "dst_policy", "must be an object");
    json_t *gap = json_object_get(obj, "on_gap"), *overlap = json_object_get(obj, "on_overlap");
    if (gap && (!json_is_string(gap) ||
                cron_gap_policy_from_string(json_string_value(gap), &policy->on_gap) < 0))
        return describe(err, size, "dst_policy.on_gap", "must be \"shift\" or \"skip\"");
    if (overlap &&
        (!json_is_string(overlap) ||
         cron_overlap_policy_from_string(json_string_value(overlap), &policy->on_overlap) < 0))
        return describe(err, size, "dst_policy.on_overlap", "must be \"first\" or \"both\"");
    return 0;
}

static int request_from_json(json_t *line, struct next_request *req, char *err, size_t size)
{
    const char *reason = NULL;
    if (!json_is_object(line))
        return describe(err, size, "request", "must be a JSON object");
    json_t *expr = json_object_get(line, "expr"), *zone = json_object_get(line, "tz");
    json_t *from = json_object_get(line, "from"), *count = json_object_get(line, "n");
    json_t *explain = json_object_get(line, "explain");
    if (!json_is_string(expr))
        return describe(err, size, "expr", "required, a string");
    req->expr = json_string_value(expr);
    if (strlen(req->expr) != json_string_length(expr))
        return describe(err, size, "expr", "contains a NUL character");
    if (zone && !json_is_string(zone))
        return describe(err, size, "tz", "must be a string");
    req->zone = zone ? json_string_value(zone) : "UTC";
    if (from && (!json_is_string(from) ||
                 timefmt_rfc3339_parse(json_string_value(from), &req->from_at, &reason) < 0))
        return describe(err, size, "from", reason ? reason : "must be an RFC 3339 string");
    if (count && (!json_is_integer(count) || json_integer_value(count) < 0 ||
                  json_integer_value(count) > MAX_COUNT))
        return describe(err, size, "n", "must be an integer 0-10000");
    req->count = count ? (long)json_integer_value(count) : DEFAULT_COUNT;
    req->explain = json_is_true(explain);
    return parse_policy(json_object_get(line, "dst_policy"), &req->dst_policy, err, size);
}

static json_t *answer_line(struct tz_cache *zones, const char *line, size_t len, int64_t now)
{
    char err[512];
    json_error_t jerr;
    if (strspn(line, " \t") == len)
        return json_pack("{ss}", "error", "empty line: expected a JSON request");
    json_t *request = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!request) {
        snprintf(err, sizeof(err), "invalid JSON at column %d: %s", jerr.column, jerr.text);
        return json_pack("{ss}", "error", err);
    }
    struct next_request req = {.from_at = now};
    struct json_sink sink = {.times = json_array()};
    json_t *answer;
    if (request_from_json(request, &req, err, sizeof(err)) < 0 ||
        (sink.notes = req.explain ? json_array() : NULL,
         run_request(zones, &req, collect_fire, &sink, err, sizeof(err)) < 0)) {
        answer = json_pack("{ss}", "error", err);
        json_decref(sink.times);
        json_decref(sink.notes);
    } else {
        answer = json_pack("{so}", "times", sink.times);
        if (sink.notes)
            json_object_set_new(answer, "notes", sink.notes);
    }
    json_decref(request);
    return answer;
}

static int batch_main(FILE *in, FILE *out)
{
    struct tz_cache *zones = tz_cache_new();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t now = (int64_t)time(NULL);
    while ((len = getline(&line, &cap, in)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        json_t *answer = answer_line(zones, line, (size_t)len, now);
        if (!answer) /* one line per request, always: never an empty one */
            answer = json_pack("{ss}", "error", "request: the answer could not be encoded");
        json_dumpf(answer, out, JSON_COMPACT);
        fputc('\n', out);
        fflush(out); /* a client may wait for each answer before it writes the next line */
        json_decref(answer);
    }
    free(line);
    tz_cache_free(zones);
    return CLI_EXIT_OK;
}

int cli_cron_next(struct cli_args *a)
{
    struct next_request req = {.zone = "UTC", .count = DEFAULT_COUNT, .from_at = time(NULL)};
    const char *reason = NULL;
    if (cli_args_has(a, CLI_O_TZ))
        req.zone = cli_args_get(a, CLI_O_TZ);
    if (cli_args_has(a, CLI_O_FROM) &&
        timefmt_rfc3339_parse(cli_args_get(a, CLI_O_FROM), &req.from_at, &reason) < 0)
        return cli_usage_error(a->cmd, "--from: %s (an RFC 3339 time, 2026-03-08T00:00:00Z)",
                               reason);
    req.count = (long)cli_args_int(a, CLI_O_COUNT, DEFAULT_COUNT);
    req.explain = cli_args_has(a, CLI_O_EXPLAIN);
    /* The table made the values canonical: the parsers cannot refuse them. */
    if (cli_args_has(a, CLI_O_ON_GAP))
        cron_gap_policy_from_string(cli_args_get(a, CLI_O_ON_GAP), &req.dst_policy.on_gap);
    if (cli_args_has(a, CLI_O_ON_OVERLAP))
        cron_overlap_policy_from_string(cli_args_get(a, CLI_O_ON_OVERLAP),
                                        &req.dst_policy.on_overlap);
    if (!a->nargs)
        return batch_main(a->in, a->out);
    req.expr = a->args[0];
    struct tz_cache *zones = tz_cache_new();
    char err[512];
    int r = run_request(zones, &req, print_fire, &req, err, sizeof(err));
    tz_cache_free(zones);
    if (r < 0) {
        fprintf(stderr, "ovsched: %s\n", err);
        return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}
