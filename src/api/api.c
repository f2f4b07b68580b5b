/*
 * api - routes and handlers.  See api.h.
 *
 * Every handler validates its whole request before it changes anything, and a
 * change is committed to the store before the core hears of it, so a request
 * that fails leaves no trace and one that succeeds survives a kill -9 the
 * moment it is answered.
 */
#include "api/api.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api_auth.h"
#include "api/job_digest.h"
#include "api/api_graph.h"
#include "api/job_doc.h"
#include "base/timefmt.h"
#include "daemon/daemon.h"
#include "patterns/patterns.h"
#include "jobsdir/jobsdir.h"
#include "ui/ui_static.h"

#define RPC_PREFIX        "/scheduler.v1.SchedulerService/"
#define DEFAULT_PAGE_SIZE 50
#define MAX_PAGE_SIZE     1000
#define MAX_PREVIEW       1000
#define MAX_PAGE          1000000000

struct reply {
    struct http_response *resp;
};

static const struct {
    int error;
    int status;
    const char *code;
} error_table[] = {
    {-EINVAL, 400, "invalid_argument"},    {-ENOENT, 404, "not_found"},
    {-EEXIST, 409, "already_exists"},      {-ESTALE, 409, "aborted"},
    {-EBUSY, 409, "failed_precondition"},  {-EACCES, 401, "unauthenticated"},
    {-EPERM, 403, "permission_denied"},    {-ENOSYS, 404, "unimplemented"},
    {-EMSGSIZE, 413, "payload_too_large"}, {-ENOMEM, 503, "resource_exhausted"},
};

static void reply_json(struct http_response *resp, int status, json_t *body)
{
    resp->status = status;
    resp->body = json_dumps(body, JSON_COMPACT);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(body);
}

static void reply_error(struct http_response *resp, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct http_response *resp, int error, const char *fmt, ...)
{
    char message[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    int status = 500;
    const char *code = "internal";
    for (size_t i = 0; i < G_N_ELEMENTS(error_table); i++) {
        if (error_table[i].error == error) {
            status = error_table[i].status;
            code = error_table[i].code;
        }
    }
    /* The message may quote client bytes, cut anywhere: keep it valid UTF-8. */
    char *valid = g_utf8_make_valid(message, -1);
    reply_json(resp, status, json_pack("{ss ss}", "code", code, "message", valid));
    g_free(valid);
}

static void reply_store_error(struct http_response *resp, int error, const struct store_error *e,
                              const char *what)
{
    if (error == -EBUSY || error == -EIO || error == -ENOSPC || error == -ENOMEM)
        reply_error(resp, error == -ENOMEM ? -ENOMEM : -EIO, "%s: store error: %s", what,
                    e->message);
    else
        reply_error(resp, error, "%s: %s", what, e->message);
}

/* A required string member, or an error reply. */
static const char *need_string(json_t *body, const char *key, struct http_response *resp)
{
    json_t *v = json_object_get(body, key);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        reply_error(resp, -EINVAL, "%s: required, a non-empty string", key);
        return NULL;
    }
    return json_string_value(v);
}

/* Keys the API adds to a job's view; a client may send them back, they are
 * not part of the document. */
static void strip_view_keys(json_t *job)
{
    static const char *const keys[] = {"version", "created_at", "updated_at", "next_run_time"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        json_object_del(job, keys[i]);
}

static json_t *job_reply(struct daemon *d, const char *id)
{
    struct store_job job;
    if (store_job_get(d->store, id, &job, NULL) < 0)
        return json_object();
    json_t *view = daemon_job_view(d, &job);
    store_job_release(&job);
    return view;
}

/* ---- jobs ------------------------------------------------------------- */

/* Validate JOB into a doc; reply 400 on failure. */
static struct job_doc *parse_job(struct daemon *d, json_t *job, int64_t anchor_ms,
                                 struct http_response *resp)
{
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    if (!json_is_object(job)) {
        reply_error(resp, -EINVAL, "job: required, an object");
        return NULL;
    }
    json_t *copy = json_deep_copy(job);
    strip_view_keys(copy);
    /* A job naming a pattern is rendered from its template (src/patterns). */
    json_t *rendered = NULL;
    int r = patterns_job_expand(d->patterns, copy, &rendered, err.message, sizeof(err.message));
    json_decref(copy);
    if (r < 0) {
        reply_error(resp, r == -EPERM ? -EPERM : -EINVAL, "%s", err.message);
        return NULL;
    }
    copy = rendered;
    r = job_doc_parse(copy, d->zones, anchor_ms, &doc, &err);
    json_decref(copy);
    if (r < 0) {
        reply_error(resp, r, "%s", r == -EINVAL ? err.message : "out of memory");
        return NULL;
    }
    return doc;
}

/* Commit the change with its audit entry, then give DOC's schedule to the
 * core.  Returns false after a commit failure (replied; the core is left
 * alone). */
static bool activate(struct daemon *d, struct job_doc *doc, int64_t now_ms,
                     struct http_response *resp)
{
    if (!api_call_commit_job(d, doc->id, resp))
        return false;
    struct sched_job_spec spec;
    job_doc_take_spec(doc, &spec);
    d->in_sched = true;
    sched_job_put(d->sched, &spec, now_ms);
    d->in_sched = false;
    return true;
}

/* Record DOC's event in the mutation's transaction, then commit the change
 * and give it to the core: a change and its event are stored together. */
static bool announce_and_activate(struct daemon *d, struct job_doc *doc, enum events_type type,
                                  int64_t now_ms, struct http_response *resp)
{
    events_job(d->events, type, doc->id, doc->campaign_id, doc->status);
    return activate(d, doc, now_ms, resp);
}

/* DOC as the store keeps it: the document and its digest (job_digest.h).
 * Release with record_release(). */
struct record {
    struct store_job job;
    char *text;
    GByteArray *digest;
};

static void record_of(const struct job_doc *doc, struct record *rec)
{
    rec->text = json_dumps(doc->json, JSON_COMPACT);
    rec->digest = job_digest_encode(doc);
    rec->job = (struct store_job){.id = doc->id,
                                  .campaign_id = doc->campaign_id,
                                  .status = doc->status,
                                  .json = rec->text,
                                  .digest = rec->digest->data,
                                  .digest_len = rec->digest->len};
}

static void record_release(struct record *rec)
{
    free(rec->text);
    g_byte_array_unref(rec->digest);
}

/* CreateJob checks a taken id before touching the graph. */
static bool job_exists_for_create(struct daemon *d, const struct job_doc *doc,
                                  struct http_response *resp)
{
    struct store_job old;
    if (store_job_get(d->store, doc->id, &old, NULL) < 0)
        return true;
    store_job_release(&old);
    reply_error(resp, -EEXIST, "job.id: job '%s' already exists", doc->id);
    return false;
}

static void create_job(struct daemon *d, json_t *body, struct http_response *resp)
{
    int64_t now = daemon_now_ms();
    struct job_doc *doc = parse_job(d, json_object_get(body, "job"), now, resp);
    if (!doc)
        return;
    struct api_result gres = {0};
    struct api_graph_undo *undo = NULL;
    if (!job_exists_for_create(d, doc, resp) ||
        api_graph_set_deps(d, doc, "job.", &undo, &gres) < 0) {
        if (gres.error)
            reply_error(resp, gres.error, "%s", gres.message);
        job_doc_free(doc);
        return;
    }
    struct record rec;
    record_of(doc, &rec);
    rec.job.created_at_ms = now;
    struct store_error err = {0};
    int r = store_job_create(d->store, &rec.job, &err);
    record_release(&rec);
    if (r == -EEXIST)
        reply_error(resp, r, "job.id: job '%s' already exists", doc->id);
    else if (r < 0)
        reply_store_error(resp, r, &err, "job");
    bool live = r == 0 && announce_and_activate(d, doc, EVENTS_JOB_CREATED, now, resp);
    if (live)
        api_graph_undo_free(undo);
    else
        api_graph_undo(d, undo); /* nothing was stored: the graph goes back */
    if (live) {
        api_graph_after_put(d, doc->id);
        reply_json(resp, 200, json_pack("{so}", "job", job_reply(d, doc->id)));
    }
    job_doc_free(doc);
}

/* The version the client read: body.version or job.version; none means any.
 * Returns -EINVAL (and replies) for a version that is not a positive integer. */
static int requested_version(json_t *body, json_t *job, int64_t *ret, struct http_response *resp)
{
    json_t *v = json_object_get(body, "version");
    if (!v)
        v = json_object_get(job, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        reply_error(resp, -EINVAL, "job.version: must be the integer version you read");
        return -EINVAL;
    }
    *ret = v ? json_integer_value(v) : STORE_VERSION_ANY;
    return 0;
}

/* Store DOC over job DOC->id if its version is EXPECTED; reply on failure. */
static int store_update(struct daemon *d, struct job_doc *doc, int64_t expected,
                        struct http_response *resp)
{
    struct record rec;
    record_of(doc, &rec);
    rec.job.updated_at_ms = daemon_now_ms();
    struct store_error err = {0};
    int r = store_job_update(d->store, &rec.job, expected, NULL, &err);
    record_release(&rec);
    if (r == -ESTALE)
        reply_error(resp, r,
                    "job.version: job '%s' changed since version %lld; read it again and retry",
                    doc->id, (long long)expected);
    else if (r == -ENOENT)
        reply_error(resp, r, "job.id: no job '%s'", doc->id);
    else if (r < 0)
        reply_store_error(resp, r, &err, "job");
    return r;
}

static void update_job(struct daemon *d, json_t *body, struct http_response *resp)
{
    json_t *job = json_object_get(body, "job");
    const char *id = json_is_object(job) ? json_string_value(json_object_get(job, "id")) : NULL;
    if (!id) {
        reply_error(resp, -EINVAL, "job.id: required, the id of the job to update");
        return;
    }
    struct store_job old;
    if (store_job_get(d->store, id, &old, NULL) < 0) {
        reply_error(resp, -ENOENT, "job.id: no job '%s'", id);
        return;
    }
    int64_t created = old.created_at_ms;
    store_job_release(&old);
    int64_t version;
    if (requested_version(body, job, &version, resp) < 0)
        return;
    struct job_doc *doc = parse_job(d, job, created, resp);
    if (!doc)
        return;
    struct api_result gres = {0};
    struct api_graph_undo *undo = NULL;
    if (api_graph_set_deps(d, doc, "job.", &undo, &gres) < 0) {
        reply_error(resp, gres.error, "%s", gres.message);
        job_doc_free(doc);
        return;
    }
    if (store_update(d, doc, version, resp) == 0 &&
        announce_and_activate(d, doc, EVENTS_JOB_UPDATED, daemon_now_ms(), resp)) {
        api_graph_undo_free(undo);
        api_graph_after_put(d, doc->id);
        reply_json(resp, 200, json_pack("{so}", "job", job_reply(d, doc->id)));
    } else {
        api_graph_undo(d, undo);
    }
    job_doc_free(doc);
}

/* Answer with RES: its body, or its error. */
static void reply_result(struct http_response *resp, struct api_result *res)
{
    if (res->error) {
        reply_error(resp, res->error, "%s", res->message);
    } else if (res->text) {
        resp->status = 200; /* the server frees the body with free() */
        resp->body = strdup(res->text);
        resp->body_len = resp->body ? strlen(resp->body) : 0;
        g_free(res->text);
    } else {
        reply_json(resp, 200, res->body ? res->body : json_object());
    }
}

/* DeleteJob: refused while other jobs depend on it, unless asked to detach
 * them; the deletion, the detaching and their events are one transaction. */
static void delete_job(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct api_result res = {0};
    GPtrArray *dependents = NULL;
    const char *id = api_graph_delete_check(d, body, &dependents, &res);
    if (!id) {
        reply_result(resp, &res);
        return;
    }
    struct store_error err = {0};
    struct store_job old = {0};
    int64_t campaign = store_job_get(d->store, id, &old, NULL) == 0 ? old.campaign_id : 0;
    store_job_release(&old);
    int r = api_graph_detach(d, id, dependents, &res);
    if (r < 0)
        reply_result(resp, &res);
    else if ((r = store_job_delete(d->store, id, &err)) == -ENOENT)
        reply_error(resp, r, "job_id: no job '%s'", id);
    else if (r < 0)
        reply_store_error(resp, r, &err, "job_id");
    if (r == 0) {
        events_job(d->events, EVENTS_JOB_DELETED, id, campaign, "DELETED");
        if (api_call_commit_job(d, id, resp)) {
            json_t *detached = api_graph_deleted(d, id, dependents);
            reply_json(resp, 200, json_pack("{sb so}", "success", 1, "detached", detached));
        }
    }
    g_ptr_array_free(dependents, TRUE);
}

static void apply_jobs(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct api_result res = {0};
    api_graph_apply_jobs(d, body, &res);
    reply_result(resp, &res);
}

static void get_job_graph(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct api_result res = {0};
    api_graph_get_job_graph(d, body, &res);
    reply_result(resp, &res);
}

static void list_job_decisions(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct api_result res = {0};
    api_graph_list_decisions(d, body, &res);
    reply_result(resp, &res);
}

static void get_job(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *id = need_string(body, "job_id", resp);
    struct store_job job;
    if (!id)
        return;
    if (store_job_get(d->store, id, &job, NULL) < 0) {
        reply_error(resp, -ENOENT, "job_id: no job '%s'", id);
        return;
    }
    reply_json(resp, 200, json_pack("{so}", "job", daemon_job_view(d, &job)));
    store_job_release(&job);
}

/* page / page_size of BODY; reply 400 on bad values. */
static int paging(json_t *body, int64_t *page, int64_t *size, struct http_response *resp)
{
    json_t *p = json_object_get(body, "page"), *s = json_object_get(body, "page_size");
    *page = json_is_integer(p) ? json_integer_value(p) : 1;
    *size = json_is_integer(s) ? json_integer_value(s) : DEFAULT_PAGE_SIZE;
    if ((p && !json_is_integer(p)) || *page < 1 || *page > MAX_PAGE) {
        reply_error(resp, -EINVAL, "page: must be an integer 1-%d", MAX_PAGE);
        return -EINVAL;
    }
    if ((s && !json_is_integer(s)) || *size < 1 || *size > MAX_PAGE_SIZE) {
        reply_error(resp, -EINVAL, "page_size: must be an integer 1-%d", MAX_PAGE_SIZE);
        return -EINVAL;
    }
    return 0;
}

static json_t *page_reply(const char *key, json_t *items, int64_t total, int64_t page, int64_t size)
{
    return json_pack("{so sI sI sI}", key, items, "total_count", (json_int_t)total, "page",
                     (json_int_t)page, "total_pages", (json_int_t)((total + size - 1) / size));
}

static void list_jobs(struct daemon *d, json_t *body, struct http_response *resp)
{
    int64_t page, size;
    if (paging(body, &page, &size, resp) < 0)
        return;
    json_t *labels = json_object_get(body, "labels"),
           *campaign = json_object_get(body, "campaign_id");
    json_t *status = json_object_get(body, "status");
    if ((labels && !json_is_object(labels)) || (campaign && !json_is_integer(campaign)) ||
        (status && !json_is_string(status))) {
        reply_error(resp, -EINVAL,
                    "labels must be an object, campaign_id an integer, status a "
                    "string");
        return;
    }
    const char *keys[STORE_MAX_LABEL_FILTERS], *values[STORE_MAX_LABEL_FILTERS];
    size_t count = 0;
    const char *key;
    json_t *v;
    json_object_foreach(labels, key, v)
    {
        if (count == STORE_MAX_LABEL_FILTERS || !json_is_string(v)) {
            reply_error(resp, -EINVAL, "labels: at most %d, each a string value",
                        STORE_MAX_LABEL_FILTERS);
            return;
        }
        keys[count] = key;
        values[count++] = json_string_value(v);
    }
    struct store_job_filter filter = {
        .status = json_string_value(status),
        .has_campaign_id = campaign != NULL,
        .campaign_id = campaign ? json_integer_value(campaign) : 0,
        .offset = (page - 1) * size,
        .limit = size,
        .label_keys = keys,
        .label_values = values,
        .label_count = count,
    };
    struct store_job_list list;
    struct store_error err = {0};
    int r = store_job_list(d->store, &filter, &list, &err);
    if (r < 0) {
        reply_store_error(resp, r, &err, "ListJobs");
        return;
    }
    json_t *jobs = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(jobs, daemon_job_view(d, &list.items[i]));
    int64_t total = list.total;
    store_job_list_release(&list);
    reply_json(resp, 200, page_reply("jobs", jobs, total, page, size));
}

/* ---- runs ------------------------------------------------------------- */

static json_t *run_reply(struct daemon *d, uint64_t id)
{
    struct store_run run;
    if (store_run_get(d->store, id, &run, NULL) < 0) {
        char text[24];
        snprintf(text, sizeof(text), "%llu", (unsigned long long)id);
        return json_pack("{ss ss}", "id", text, "status", "PENDING");
    }
    json_t *view = daemon_run_view(&run);
    store_run_release(&run);
    return view;
}

static void run_job(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *id = need_string(body, "job_id", resp);
    struct sched_run *run = NULL;
    if (!id)
        return;
    int r = sched_job_run_now(d->sched, id, daemon_now_ms(), &run);
    if (r == -ENOENT) {
        reply_error(resp, r, "job_id: no job '%s'", id);
        return;
    }
    if (r == -EBUSY) {
        reply_error(resp, r, "job '%s' has a run in flight and its concurrency_policy is forbid",
                    id);
        return;
    }
    reply_json(resp, 200, json_pack("{so}", "run", run_reply(d, run->id)));
}

static void list_job_runs(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *id = need_string(body, "job_id", resp);
    int64_t page, size;
    if (!id || paging(body, &page, &size, resp) < 0)
        return;
    struct store_job job;
    if (store_job_get(d->store, id, &job, NULL) < 0) {
        reply_error(resp, -ENOENT, "job_id: no job '%s'", id);
        return;
    }
    store_job_release(&job);
    struct store_run_list list;
    struct store_error err = {0};
    int r = store_run_list(d->store, id, (page - 1) * size, size, &list, &err);
    if (r < 0) {
        reply_store_error(resp, r, &err, "ListJobRuns");
        return;
    }
    json_t *runs = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(runs, daemon_run_view(&list.items[i]));
    reply_json(resp, 200, page_reply("runs", runs, list.total, page, size));
    store_run_list_release(&list);
}

/* The stored document of the job BODY.job_id names (a new reference), or
 * NULL after a 400 or 404 reply. */
static json_t *find_job(struct daemon *d, json_t *body, const char **ret_id,
                        struct http_response *resp)
{
    const char *id = need_string(body, "job_id", resp);
    if (!id)
        return NULL;
    struct store_job job;
    json_t *doc = NULL;
    if (store_job_get(d->store, id, &job, NULL) == 0) {
        doc = json_loads(job.json, 0, NULL);
        store_job_release(&job);
    }
    if (!doc)
        reply_error(resp, -ENOENT, "job_id: no job '%s'", id);
    *ret_id = id;
    return doc;
}

static void get_job_status(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *id;
    json_t *doc = find_job(d, body, &id, resp);
    if (!doc)
        return;
    struct store_run_list list;
    json_t *current = json_null(), *last = json_null(), *retry = json_null();
    if (store_run_list(d->store, id, 0, 20, &list, NULL) == 0) {
        for (size_t i = 0; i < list.count; i++) {
            struct store_run *run = &list.items[i];
            enum sched_run_status status = SCHED_RUN_PENDING;
            sched_run_status_from_string(run->status, &status);
            bool final = sched_run_status_is_final(status);
            if (!final && json_is_null(current)) {
                current = daemon_run_view(run);
                if (status == SCHED_RUN_RETRYING)
                    retry = json_pack("{si}", "attempt", run->attempt);
            } else if (final && json_is_null(last)) {
                last = daemon_run_view(run);
            }
        }
        store_run_list_release(&list);
    }
    int64_t next = -1;
    sched_job_next_fire(d->sched, id, &next);
    const char *status = json_string_value(json_object_get(doc, "status"));
    const char *reason = NULL;
    char *waiting = NULL;
    json_t *blocked_by = api_graph_blocked_by(d, id, &waiting);
    if (strcmp(status, "ACTIVE") != 0)
        reason = "the job is not ACTIVE";
    else if (waiting)
        reason = waiting;
    else if (json_is_null(current) && next < 0)
        reason = "the job has no upcoming fire time (no schedule, or it ended)";
    char next_text[TIMEFMT_RFC3339_SIZE];
    reply_json(resp, 200,
               json_pack("{ss ss so so so so so so}", "job_id", id, "status", status,
                         "next_run_time",
                         next >= 0 ? json_string(timefmt_rfc3339_format(next / 1000, next_text))
                                   : json_null(),
                         "current_run", current, "last_run", last, "retry", retry, "blocked_by",
                         blocked_by, "reason", reason ? json_string(reason) : json_null()));
    g_free(waiting);
    json_decref(doc);
}

static void set_status(struct daemon *d, json_t *body, const char *status,
                       struct http_response *resp)
{
    const char *id;
    json_t *doc = find_job(d, body, &id, resp);
    if (!doc)
        return;
    json_t *copy = doc;
    strip_view_keys(copy);
    json_object_set_new(copy, "status", json_string(status));
    struct job_doc *parsed = NULL;
    struct store_job old;
    int64_t created = daemon_now_ms();
    if (store_job_get(d->store, id, &old, NULL) == 0) {
        created = old.created_at_ms;
        store_job_release(&old);
    }
    struct job_doc_error err;
    if (job_doc_parse(copy, d->zones, created, &parsed, &err) < 0) {
        reply_error(resp, -EINVAL, "%s", err.message);
    } else if (store_update(d, parsed, STORE_VERSION_ANY, resp) == 0 &&
               announce_and_activate(d, parsed,
                                     strcmp(status, "PAUSED") == 0 ? EVENTS_JOB_PAUSED
                                                                   : EVENTS_JOB_RESUMED,
                                     daemon_now_ms(), resp)) {
        api_graph_after_put(d, id);
        reply_json(resp, 200, json_pack("{so}", "job", job_reply(d, id)));
    }
    job_doc_free(parsed);
    json_decref(copy);
}

static void pause_job(struct daemon *d, json_t *body, struct http_response *resp)
{
    set_status(d, body, "PAUSED", resp);
}

static void resume_job(struct daemon *d, json_t *body, struct http_response *resp)
{
    set_status(d, body, "ACTIVE", resp);
}

/* ---- preview ------------------------------------------------------------ */

static void preview_schedule(struct daemon *d, json_t *body, struct http_response *resp)
{
    json_t *count = json_object_get(body, "count");
    const char *from = json_string_value(json_object_get(body, "from")), *reason = NULL;
    int64_t n = json_is_integer(count) ? json_integer_value(count) : 10,
            from_s = daemon_now_ms() / 1000;
    if ((count && !json_is_integer(count)) || n < 1 || n > MAX_PREVIEW) {
        reply_error(resp, -EINVAL, "count: must be an integer 1-%d", MAX_PREVIEW);
        return;
    }
    if (from && timefmt_rfc3339_parse(from, &from_s, &reason) < 0) {
        reply_error(resp, -EINVAL, "from: %s", reason);
        return;
    }
    /* The same validation as a job's scheduling block. */
    json_t *scheduling = json_deep_copy(body);
    json_object_del(scheduling, "count");
    json_object_del(scheduling, "from");
    json_t *job = json_pack("{s{so}}", "metadata", "scheduling", scheduling);
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    int r = job_doc_parse(job, d->zones, from_s * 1000, &doc, &err);
    json_decref(job);
    if (r < 0) {
        reply_error(resp, -EINVAL, "%s", err.message);
        return;
    }
    if (!doc->spec.expr) {
        job_doc_free(doc);
        reply_error(resp, -EINVAL, "metadata.scheduling.cron: required for a preview");
        return;
    }
    struct cron_schedule schedule = {doc->spec.expr, doc->spec.zone, doc->spec.dst_policy, from_s};
    json_t *times = json_array(), *notes = json_array();
    struct cron_fire fire;
    char text[TIMEFMT_RFC3339_SIZE], note[512];
    int64_t after = from_s;
    for (int64_t i = 0; i < n && cron_schedule_next(&schedule, after, &fire) == 0; i++) {
        json_array_append_new(times, json_string(timefmt_rfc3339_format(fire.at, text)));
        cron_fire_explain(&schedule, &fire, note, sizeof(note));
        json_array_append_new(notes, json_string(note));
        after = fire.at;
    }
    reply_json(resp, 200,
               json_pack("{so so ss}", "times", times, "notes", notes, "timezone",
                         tz_zone_name(doc->spec.zone)));
    job_doc_free(doc);
}

/* ---- jobs folder -------------------------------------------------------- */

static void get_jobs_dir_status(struct daemon *d, json_t *body, struct http_response *resp)
{
    (void)body;
    reply_json(resp, 200, jobsdir_status(d->jobsdir));
}

/* ---- routing ------------------------------------------------------------ */

typedef void (*rpc_handler)(struct daemon *d, json_t *body, struct http_response *resp);

static const struct route {
    const char *method; /* RPC method name */
    rpc_handler handler;
    bool mutates;
} routes[] = {
    {"CreateJob", create_job, true},
    {"UpdateJob", update_job, true},
    {"DeleteJob", delete_job, true},
    {"GetJob", get_job, false},
    {"ListJobs", list_jobs, false},
    {"RunJob", run_job, true},
    {"ListJobRuns", list_job_runs, false},
    {"GetJobStatus", get_job_status, false},
    {"PauseJob", pause_job, true},
    {"ResumeJob", resume_job, true},
    {"PreviewSchedule", preview_schedule, false},
    {"GetJobsDirStatus", get_jobs_dir_status, false},
    {"CreateToken", api_create_token, true},
    {"ListTokens", api_list_tokens, false},
    {"WhoAmI", api_whoami, false},
    {"RevokeToken", api_revoke_token, true},
    {"ListAuditLog", api_list_audit_log, false},
    {"GetJobGraph", get_job_graph, false},
    {"ApplyJobs", apply_jobs, true},
    {"ListJobDecisions", list_job_decisions, false},
    /* patterns and orchestration: src/patterns/patterns.h */
    {"RegisterPattern", patterns_api_register, true},
    {"ListPatterns", patterns_api_list, false},
    {"GetPattern", patterns_api_get, false},
    {"DeletePattern", patterns_api_delete, true},
    {"TriggerJobFromOrchestration", patterns_api_trigger, true},
    {"GetFlowStatus", patterns_api_flow_status, false},
    {"CompleteRun", patterns_api_complete_run, true},
    {"PublishEvent", patterns_api_publish_event, true},
};

void api_reply_json(struct http_response *resp, int status, json_t *body)
{
    reply_json(resp, status, body);
}

void api_reply_error(struct http_response *resp, int error, const char *fmt, ...)
{
    char message[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    reply_error(resp, error, "%s", message);
}

void api_invoke(struct daemon *d, const char *method, json_t *body, struct http_response *resp)
{
    for (size_t i = 0; i < G_N_ELEMENTS(routes); i++)
        if (strcmp(routes[i].method, method) == 0) {
            routes[i].handler(d, body, resp);
            return;
        }
    reply_error(resp, -ENOSYS, "unknown method '%s'", method);
}

void api_handle(struct daemon *d, const struct http_request *req, struct http_response *resp)
{
    const char *path = http_request_path(req), *method = http_request_method(req);
    if (api_ops_handle(d, method, path, resp))
        return;
    /* The event streams authenticate through the authorizer daemon_init()
     * installs (api_auth_events_authorizer()). */
    if (events_http(d->events, req, resp))
        return;
    if (ui_static_serve(req, resp))
        return;
    if (strncmp(path, RPC_PREFIX, strlen(RPC_PREFIX)) != 0) {
        reply_error(resp, -ENOSYS, "no route %s %s", method, path);
        return;
    }
    const char *name = path + strlen(RPC_PREFIX);
    const struct route *route = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(routes); i++)
        if (strcmp(routes[i].method, name) == 0)
            route = &routes[i];
    if (!route) {
        reply_error(resp, -ENOSYS, "unknown method '%s'", name);
        return;
    }
    if (strcmp(method, "POST") != 0) {
        resp->status = 405;
        reply_json(resp, 405,
                   json_pack("{ss ss}", "code", "method_not_allowed", "message",
                             "RPC methods take POST with a JSON body"));
        return;
    }
    struct api_call call = {.method = route->method, .mutates = route->mutates};
    if (api_call_authenticate(d, req, &call, resp) < 0)
        return;
    size_t len;
    const char *text = http_request_body(req, &len);
    json_error_t jerr;
    json_t *body = len ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr) : json_object();
    if (!body || !json_is_object(body)) {
        reply_error(resp, -EINVAL, "request body: %s", body ? "must be a JSON object" : jerr.text);
        json_decref(body);
        return;
    }
    if (api_call_begin(d, &call, body, resp) == 0)
        route->handler(d, body, resp);
    api_call_end(d, &call, resp);
    json_decref(body);
}

size_t api_route_count(void)
{
    return G_N_ELEMENTS(routes);
}

const char *api_route_name(size_t i, bool *ret_mutates)
{
    *ret_mutates = routes[i].mutates;
    return routes[i].method;
}

void api_reply_errno(struct http_response *resp, int error, const char *message)
{
    reply_error(resp, error, "%s", message);
}
