/*
 * job_doc - validate a job document and derive the core's view of it.
 *
 * Each check names the JSON path it looked at; the first failure wins and
 * nothing is allocated past it.  The document is copied first (json_deep_copy)
 * and only the copy is touched, so the caller's JSON is never changed.
 */
#include "api/job_doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "base/timefmt.h"
#include "exec/exec.h"

#define MAX_ID_LEN      128
#define MAX_TEXT_LEN    4096
#define MAX_DURATION_MS INT64_C(31536000000) /* 365 days: no timer overflows */

static int fail(struct job_doc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct job_doc_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Optional string member KEY of OBJ: NULL when absent. */
static int opt_string(json_t *obj, const char *key, const char *path, size_t max_len,
                      const char **ret, struct job_doc_error *err)
{
    json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(err, "%s%s: must be a string", path, key);
    if (json_string_length(v) > max_len)
        return fail(err, "%s%s: longer than %zu bytes", path, key, max_len);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return fail(err, "%s%s: contains a NUL character", path, key);
    *ret = json_string_value(v);
    return 0;
}

static int opt_object(json_t *obj, const char *key, const char *path, json_t **ret,
                      struct job_doc_error *err)
{
    json_t *v = json_object_get(obj, key);
    *ret = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return fail(err, "%s%s: must be an object", path, key);
    *ret = v;
    return 0;
}

/* Optional duration ("90s", "1h30m") in ms; FALLBACK when absent. */
static int opt_duration(json_t *obj, const char *key, const char *path, int64_t fallback,
                        int64_t *ret_ms, struct job_doc_error *err)
{
    const char *text, *reason = NULL;
    int r = opt_string(obj, key, path, 64, &text, err);
    if (r < 0)
        return r;
    *ret_ms = fallback;
    if (text && timefmt_duration_parse(text, strlen(text), ret_ms, &reason) < 0)
        return fail(err, "%s%s: %s", path, key, reason);
    if (*ret_ms > MAX_DURATION_MS)
        return fail(err, "%s%s: at most 365 days", path, key);
    return 0;
}

static int string_map(json_t *obj, const char *key, const char *path, struct job_doc_error *err)
{
    json_t *map;
    int r = opt_object(obj, key, path, &map, err);
    const char *k;
    json_t *v;
    if (r < 0 || !map)
        return r;
    json_object_foreach(map, k, v)
    {
        if (!json_is_string(v))
            return fail(err, "%s%s.%s: must be a string", path, key, k);
    }
    return 0;
}

static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
}

void job_doc_new_id(int64_t now_ms, uint64_t random, char out[37])
{
    /* UUIDv7: 48 bits of Unix ms, version 7, then random bits (RFC 9562). */
    uint64_t hi = ((uint64_t)now_ms << 16) | 0x7000 | (random >> 52 & 0x0fff);
    uint64_t lo = (random & UINT64_C(0x3fffffffffffffff)) | UINT64_C(0x8000000000000000);
    snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
             (unsigned)(hi >> 16 & 0xffff), (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
             (unsigned long long)(lo & UINT64_C(0xffffffffffff)));
}

static int check_identity(struct job_doc *doc, int64_t now_ms, struct job_doc_error *err)
{
    json_t *job = doc->json;
    const char *id, *text;
    int r = opt_string(job, "id", "", MAX_ID_LEN, &id, err);
    if (r < 0)
        return r;
    if (id) {
        if (!*id)
            return fail(err, "id: must not be empty");
        for (const char *p = id; *p; p++)
            if (!is_id_char(*p))
                return fail(err, "id: only letters, digits and - _ . : are allowed");
    } else {
        char fresh[37];
        job_doc_new_id(now_ms, g_random_int() | (uint64_t)g_random_int() << 32, fresh);
        json_object_set_new(job, "id", json_string(fresh));
    }
    doc->id = json_string_value(json_object_get(job, "id"));
    if ((r = opt_string(job, "name", "", 256, &text, err)) < 0 ||
        (r = opt_string(job, "owner", "", 256, &text, err)) < 0 ||
        (r = opt_string(job, "payload", "", 1024 * 1024, &text, err)) < 0 ||
        (r = string_map(job, "labels", "", err)) < 0)
        return r;
    json_t *campaign = json_object_get(job, "campaign_id");
    if (campaign && (!json_is_integer(campaign) || json_integer_value(campaign) < 0))
        return fail(err, "campaign_id: must be an integer >= 0");
    if (!campaign)
        json_object_set_new(job, "campaign_id", json_integer(0));
    doc->campaign_id = json_integer_value(json_object_get(job, "campaign_id"));
    static const char *const statuses[] = {"ACTIVE", "PAUSED", "DISABLED", "COMPLETED", "FAILED"};
    if ((r = opt_string(job, "status", "", 16, &text, err)) < 0)
        return r;
    if (!text)
        json_object_set_new(job, "status", json_string(text = "ACTIVE"));
    doc->status = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(statuses); i++)
        if (strcmp(text, statuses[i]) == 0)
            doc->status = statuses[i];
    if (!doc->status)
        return fail(err, "status: must be ACTIVE, PAUSED, DISABLED, COMPLETED or FAILED");
    return 0;
}

#define USER_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

/* executor.env keys are POSIX names: "" or "A=B" could never be set, and
 * would fail every run. */
static int env_names(json_t *ex, struct job_doc_error *err)
{
    const char *key;
    json_t *value;
    json_object_foreach(json_object_get(ex, "env"), key, value)
    {
        if (!exec_env_key_is_valid(key, strlen(key)))
            return fail(err,
                        "executor.env: key \"%s\" is not a valid name (letters, digits and _, "
                        "not starting with a digit)",
                        key);
    }
    return 0;
}

static int check_shell(json_t *ex, struct job_doc_error *err)
{
    json_t *command = json_object_get(ex, "command");
    json_t *shell = json_object_get(ex, "shell");
    if (shell && !json_is_boolean(shell))
        return fail(err, "executor.shell: must be true or false");
    bool script = json_is_string(command) && json_string_length(command) > 0;
    if (!script && (!json_is_array(command) || json_array_size(command) == 0))
        return fail(err, "executor.command: must be a non-empty array of strings "
                         "([\"/usr/bin/report\", \"--weekly\"])");
    size_t i;
    json_t *arg;
    json_array_foreach(command, i, arg)
    {
        if (!json_is_string(arg))
            return fail(err, "executor.command[%zu]: must be a string", i);
    }
    const char *cwd, *run_as;
    int r;
    if ((r = opt_string(ex, "cwd", "executor.", MAX_TEXT_LEN, &cwd, err)) < 0 ||
        (r = string_map(ex, "env", "executor.", err)) < 0 || (r = env_names(ex, err)) < 0 ||
        (r = opt_string(ex, "run_as", "executor.", 32, &run_as, err)) < 0)
        return r;
    /* Who may set it, and whether the daemon can honour it, is the API's
     * check when a job is written (docs/security.md). */
    if (run_as &&
        (!*run_as || run_as[0] == '-' || strspn(run_as, USER_NAME_CHARS) != strlen(run_as)))
        return fail(err, "executor.run_as: \"%s\" is not a user name", run_as);
    return 0;
}

static int check_http(json_t *ex, struct job_doc_error *err)
{
    const char *url, *method, *body;
    int r;
    if ((r = opt_string(ex, "url", "executor.", MAX_TEXT_LEN, &url, err)) < 0 ||
        (r = opt_string(ex, "method", "executor.", 16, &method, err)) < 0 ||
        (r = opt_string(ex, "body", "executor.", 1024 * 1024, &body, err)) < 0 ||
        (r = string_map(ex, "headers", "executor.", err)) < 0)
        return r;
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return fail(err, "executor.url: required, an http:// or https:// URL");
    json_t *accepted = json_object_get(ex, "accepted_statuses");
    size_t i;
    json_t *code;
    if (accepted && !json_is_array(accepted))
        return fail(err, "executor.accepted_statuses: must be an array of status codes");
    json_array_foreach(accepted, i, code)
    {
        if (!json_is_integer(code) || json_integer_value(code) < 100 ||
            json_integer_value(code) > 599)
            return fail(err, "executor.accepted_statuses[%zu]: must be a status code 100-599", i);
    }
    return 0;
}

static int check_executor(struct job_doc *doc, struct job_doc_error *err)
{
    json_t *ex;
    const char *type;
    int r = opt_object(doc->json, "executor", "", &ex, err);
    if (r < 0)
        return r;
    doc->executor_type = "noop";
    if (!ex)
        return 0;
    if ((r = opt_string(ex, "type", "executor.", 16, &type, err)) < 0)
        return r;
    if (!type)
        return fail(err, "executor.type: required: shell, http, event or noop");
    if ((r = opt_duration(ex, "timeout", "executor.", 0, &doc->spec.timeout_ms, err)) < 0)
        return r;
    if (strcmp(type, "shell") == 0)
        r = check_shell(ex, err);
    else if (strcmp(type, "http") == 0)
        r = check_http(ex, err);
    else if (strcmp(type, "event") != 0 && strcmp(type, "noop") != 0)
        return fail(err, "executor.type: '%s' is not one of shell, http, event, noop", type);
    doc->executor_type = json_string_value(json_object_get(ex, "type"));
    if (r == 0) {
        doc->executor_text = json_dumps(ex, JSON_COMPACT);
        r = doc->executor_text ? 0 : -ENOMEM;
    }
    return r;
}

static int check_retry(json_t *sched, struct sched_retry_policy *policy, struct job_doc_error *err)
{
    const char *path = "metadata.scheduling.retry_policy.";
    json_t *rp;
    const char *backoff;
    int r = opt_object(sched, "retry_policy", "metadata.scheduling.", &rp, err);
    sched_retry_policy_init(policy);
    if (r < 0 || !rp)
        return r;
    json_t *attempts = json_object_get(rp, "max_attempts");
    if (attempts && !json_is_integer(attempts))
        return fail(err, "%smax_attempts: must be an integer", path);
    if (attempts)
        policy->max_attempts = (int)MAX(MIN(json_integer_value(attempts), 1000000), -1);
    if ((r = opt_string(rp, "backoff", path, 16, &backoff, err)) < 0)
        return r;
    if (backoff && sched_backoff_kind_from_string(backoff, &policy->kind) < 0)
        return fail(err, "%sbackoff: must be none, constant, linear or exponential", path);
    if ((r = opt_duration(rp, "initial_interval", path, policy->initial_interval_ms,
                          &policy->initial_interval_ms, err)) < 0 ||
        (r = opt_duration(rp, "max_interval", path, policy->max_interval_ms,
                          &policy->max_interval_ms, err)) < 0 ||
        (r = opt_duration(rp, "max_elapsed", path, policy->max_elapsed_ms, &policy->max_elapsed_ms,
                          err)) < 0)
        return r;
    static const char *const numbers[] = {"multiplier", "randomization_factor"};
    double *targets[] = {&policy->multiplier, &policy->randomization_factor};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(rp, numbers[i]);
        if (v && !json_is_number(v))
            return fail(err, "%s%s: must be a number", path, numbers[i]);
        if (v)
            *targets[i] = json_number_value(v);
    }
    struct sched_retry_policy_error perr;
    if (sched_retry_policy_check(policy, &perr) < 0) {
        char text[256];
        sched_retry_policy_error_format(&perr, text, sizeof(text));
        return fail(err, "metadata.scheduling.%s", text);
    }
    return 0;
}

static int check_policies(json_t *sched, struct sched_job_spec *spec, struct job_doc_error *err)
{
    const char *path = "metadata.scheduling.", *text;
    json_t *dst;
    int r;
    if ((r = opt_string(sched, "concurrency_policy", path, 16, &text, err)) < 0)
        return r;
    if (text && sched_concurrency_from_string(text, &spec->concurrency) < 0)
        return fail(err, "%sconcurrency_policy: must be allow, forbid or replace", path);
    if ((r = opt_string(sched, "misfire_policy", path, 16, &text, err)) < 0)
        return r;
    if (text && sched_misfire_from_string(text, &spec->misfire) < 0)
        return fail(err, "%smisfire_policy: must be skip, run_once or run_all", path);
    if ((r = opt_duration(sched, "starting_deadline", path, 0, &spec->starting_deadline_ms, err)) <
        0)
        return r;
    if ((r = opt_object(sched, "dst_policy", path, &dst, err)) < 0 || !dst)
        return r;
    if ((r = opt_string(dst, "on_gap", "metadata.scheduling.dst_policy.", 16, &text, err)) < 0)
        return r;
    if (text && (cron_gap_policy_from_string(text, &spec->dst_policy.on_gap) < 0 ||
                 spec->dst_policy.on_gap == CRON_GAP_DEFAULT))
        return fail(err, "%sdst_policy.on_gap: must be shift or skip", path);
    if ((r = opt_string(dst, "on_overlap", "metadata.scheduling.dst_policy.", 16, &text, err)) < 0)
        return r;
    if (text && (cron_overlap_policy_from_string(text, &spec->dst_policy.on_overlap) < 0 ||
                 spec->dst_policy.on_overlap == CRON_OVERLAP_DEFAULT))
        return fail(err, "%sdst_policy.on_overlap: must be first or both", path);
    return 0;
}

static int parse_cron(const char *text, const char *field, struct job_doc *doc,
                      struct job_doc_error *err)
{
    struct cron_error cerr;
    char message[256];
    int r = cron_expr_parse(text, strlen(text), &doc->spec.expr, &cerr);
    if (r == -ENOMEM)
        return r;
    if (r < 0) {
        cron_error_format(&cerr, message, sizeof(message));
        return fail(err, "metadata.scheduling.%s: %s", field, message);
    }
    doc->schedule_text = g_strdup(text);
    return 0;
}

static int check_schedule(struct job_doc *doc, struct tz_cache *zones, int64_t now_ms,
                          struct job_doc_error *err)
{
    const char *path = "metadata.scheduling.", *cron, *interval, *at, *zone_name;
    json_t *meta, *sched;
    int r;
    if ((r = opt_object(doc->json, "metadata", "", &meta, err)) < 0 || !meta ||
        (r = opt_object(meta, "scheduling", "metadata.", &sched, err)) < 0 || !sched) {
        sched_retry_policy_init(&doc->spec.retry);
        return r;
    }
    if ((r = opt_string(sched, "cron", path, 1024, &cron, err)) < 0 ||
        (r = opt_string(sched, "interval", path, 64, &interval, err)) < 0 ||
        (r = opt_string(sched, "at", path, 64, &at, err)) < 0 ||
        (r = opt_string(sched, "timezone", path, 64, &zone_name, err)) < 0)
        return r;
    if (!!cron + !!interval + !!at > 1)
        return fail(err, "metadata.scheduling: give one of cron, interval or at, not several");
    json_t *deps = json_object_get(sched, "dependencies");
    size_t i;
    json_t *dep;
    if (deps && !json_is_array(deps))
        return fail(err, "%sdependencies: must be an array of job ids", path);
    json_array_foreach(deps, i, dep)
    {
        if (!json_is_string(dep) || json_string_length(dep) == 0)
            return fail(err, "%sdependencies[%zu]: must be a job id string", path, i);
        if (strcmp(json_string_value(dep), doc->id) == 0)
            return fail(err, "%sdependencies[%zu]: a job cannot depend on itself (cycle %s -> %s)",
                        path, i, doc->id, doc->id);
    }
    /* The core copies the ids; these point into the document. */
    doc->dep_count = json_array_size(deps);
    doc->deps = g_new0(const char *, doc->dep_count + 1);
    json_array_foreach(deps, i, dep) doc->deps[i] = json_string_value(dep);
    doc->spec.deps = doc->deps;
    doc->spec.dep_count = doc->dep_count;
    if ((r = opt_duration(sched, "dependency_timeout", path, 0, &doc->spec.dependency_timeout_ms,
                          err)) < 0)
        return r;
    if ((r = check_retry(sched, &doc->spec.retry, err)) < 0 ||
        (r = check_policies(sched, &doc->spec, err)) < 0)
        return r;
    if (cron && (r = parse_cron(cron, "cron", doc, err)) < 0)
        return r;
    if (interval) {
        char every[96];
        snprintf(every, sizeof(every), "@every %s", interval);
        if ((r = parse_cron(every, "interval", doc, err)) < 0)
            return r;
    }
    if (at) {
        const char *reason;
        int64_t at_s;
        if (timefmt_rfc3339_parse(at, &at_s, &reason) < 0)
            return fail(err, "%sat: %s", path, reason);
        if (at_s <= 0)
            return fail(err, "%sat: must be after 1970-01-01T00:00:00Z", path);
        doc->spec.once_at_ms = at_s * 1000;
    }
    const char *effective = doc->spec.expr && cron_expr_zone(doc->spec.expr)
                                ? cron_expr_zone(doc->spec.expr)
                                : (zone_name ? zone_name : "UTC");
    if (doc->spec.expr || zone_name) {
        r = tz_cache_get(zones, effective, &doc->spec.zone);
        if (r == -ENOENT)
            return fail(err, "%stimezone: unknown time zone '%.64s'", path, effective);
        if (r < 0)
            return fail(err,
                        "%stimezone: '%.64s' is not a time zone name (e.g. "
                        "America/New_York)",
                        path, effective);
        doc->zone_name = g_strdup(effective);
    }
    doc->spec.anchor_at = now_ms / 1000;
    return 0;
}

int job_doc_parse(json_t *job, struct tz_cache *zones, int64_t now_ms, struct job_doc **ret_doc,
                  struct job_doc_error *err)
{
    if (!json_is_object(job))
        return fail(err, "job: required, an object");
    struct job_doc *doc = g_new0(struct job_doc, 1);
    doc->json = json_deep_copy(job);
    int r = doc->json ? 0 : -ENOMEM;
    if (r == 0)
        r = check_identity(doc, now_ms, err);
    if (r == 0)
        r = check_executor(doc, err);
    if (r == 0)
        r = check_schedule(doc, zones, now_ms, err);
    if (r < 0) {
        job_doc_free(doc);
        return r;
    }
    doc->spec.id = doc->id;
    doc->spec.executor = doc->executor_text;
    doc->spec.campaign_id = doc->campaign_id;
    doc->spec.baseline_ms = now_ms; /* dependencies count from the job's creation */
    doc->spec.paused = strcmp(doc->status, "ACTIVE") != 0;
    *ret_doc = doc;
    return 0;
}

void job_doc_take_spec(struct job_doc *doc, struct sched_job_spec *spec)
{
    *spec = doc->spec;
    doc->spec.expr = NULL;
}

void job_doc_free(struct job_doc *doc)
{
    if (!doc)
        return;
    cron_expr_free(doc->spec.expr);
    g_free(doc->schedule_text);
    g_free(doc->zone_name);
    free(doc->executor_text);
    json_decref(doc->json);
    g_free(doc->deps);
    g_free(doc);
}
