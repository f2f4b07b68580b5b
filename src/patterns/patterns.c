/*
 * patterns - the daemon side of patterns and orchestration.  See patterns.h.
 *
 * State kept here, all on the loop:
 *   - contexts: run id -> struct run_ctx, for runs in flight that were started
 *     by an orchestration trigger, a cascade or an event; a run is bound to its
 *     context while sched_job_run_now() creates it (`pending`), so its first
 *     write already carries the correlation id and trigger;
 *   - awaiting: event runs waiting for CompleteRun;
 *   - later: cascades and events queued by hooks, started in patterns_settle();
 *   - the index (patterns_index.c): trigger_on and dependents of every job,
 *     built on the first event or cascade, then kept current;
 *   - the Nexus sender (patterns_nexus.c).
 * Scans over all jobs (DeletePattern, re-render) use
 * store_job_foreach() with a substring pre-filter on the document text: they
 * are rare and their cost is one pass over the jobs table.
 */
#include "patterns/patterns.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/api_auth.h"
#include "api/job_doc.h"
#include "base/timefmt.h"
#include "daemon/daemon.h"
#include "events/events.h"
#include "patterns/internal.h"
#include "patterns/pattern.h"

#define RUN_KEY(id)          GSIZE_TO_POINTER((gsize)(id))
#define IDEMPOTENCY_KEEP_MS  (24 * 3600 * 1000LL)
#define PRUNE_EVERY_MS       (3600 * 1000ULL)
#define MAX_KEY_LEN          256
#define MAX_FLOW_RUNS        10000
#define PATTERN_JOB_HASH_LEN 12

/* ---- contexts -------------------------------------------------------------- */

void run_ctx_free(struct run_ctx *ctx)
{
    if (!ctx)
        return;
    g_free(ctx->correlation_id);
    json_decref(ctx->context);
    g_free(ctx);
}

/* A context with correlation id CORRELATION (NULL: a new one) and the JSON
 * CONTEXT (taken). */
struct run_ctx *run_ctx_new(const char *trigger, const char *correlation, json_t *context,
                            bool cascade)
{
    struct run_ctx *ctx = g_new0(struct run_ctx, 1);
    char fresh[37];
    if (!correlation) {
        job_doc_new_id(daemon_now_ms(), g_random_int() | (uint64_t)g_random_int() << 32, fresh);
        correlation = fresh;
    }
    ctx->correlation_id = g_strdup(correlation);
    ctx->trigger = trigger;
    ctx->cascade = cascade;
    ctx->context = context;
    json_object_set_new(context, "correlation_id", json_string(correlation));
    json_object_set_new(context, "trigger", json_string(trigger));
    json_object_set_new(context, "cascade", json_boolean(cascade));
    return ctx;
}

static void bind_context(struct patterns *p, uint64_t run_id, struct run_ctx *ctx)
{
    ctx->run_id = run_id;
    g_hash_table_replace(p->contexts, RUN_KEY(run_id), ctx);
}

/* A run the dependency graph started (src/sched: a job without a schedule
 * whose dependencies completed) in the same call that completed a cascading
 * run of one of its dependencies joins that flow. */
static struct run_ctx *cascade_context_for(struct patterns *p, const struct sched_run *run)
{
    patterns_index_ensure(p);
    json_t *deps = g_hash_table_lookup(p->deps_of, run->job_id);
    size_t i;
    json_t *dep;
    json_array_foreach(deps, i, dep)
    {
        struct later *item = g_hash_table_lookup(p->cascading, json_string_value(dep));
        if (!item)
            continue;
        char parent_id[24];
        snprintf(parent_id, sizeof(parent_id), "%llu", (unsigned long long)item->ctx->run_id);
        json_t *context =
            json_pack("{sO sn ss ss ss}", "flow_id", json_object_get(item->ctx->context, "flow_id"),
                      "step_id", "cascaded_from", item->job_id, "parent_run_id", parent_id,
                      "job_id", run->job_id);
        return run_ctx_new("cascade", item->ctx->correlation_id, context, true);
    }
    return NULL;
}

const char *patterns_run_correlation(struct patterns *p, uint64_t run_id)
{
    struct run_ctx *ctx = p ? g_hash_table_lookup(p->contexts, RUN_KEY(run_id)) : NULL;
    return ctx ? ctx->correlation_id : NULL;
}

void patterns_run_fill(struct patterns *p, const struct sched_run *run, bool first_write,
                       struct store_run *view)
{
    if (!p)
        return;
    if (first_write && run->trigger == SCHED_TRIGGER_DEPENDENCY &&
        g_hash_table_size(p->cascading) > 0 &&
        !g_hash_table_contains(p->contexts, RUN_KEY(run->id))) {
        struct run_ctx *ctx = cascade_context_for(p, run);
        if (ctx)
            bind_context(p, run->id, ctx);
    }
    if (first_write && p->pending && run->trigger == SCHED_TRIGGER_MANUAL &&
        !g_hash_table_contains(p->contexts, RUN_KEY(run->id))) {
        bind_context(p, run->id, p->pending);
        p->pending = NULL;
    }
    struct run_ctx *ctx = g_hash_table_lookup(p->contexts, RUN_KEY(run->id));
    if (ctx) {
        view->correlation_id = ctx->correlation_id;
        view->trigger = ctx->trigger;
    }
}

void patterns_run_recorded(struct patterns *p, uint64_t run_id)
{
    struct run_ctx *ctx = p ? g_hash_table_lookup(p->contexts, RUN_KEY(run_id)) : NULL;
    if (!ctx || ctx->saved)
        return;
    char *text = json_dumps(ctx->context, JSON_COMPACT);
    ctx->saved = text && store_run_context_put(p->d->store, run_id, text, NULL) == 0;
    free(text);
}

/* Start a run of JOB_ID now under CTX (taken, also on failure).  Returns 0
 * with the run id, or the core's error (-ENOENT, -EBUSY). */
int patterns_start_run(struct patterns *p, const char *job_id, struct run_ctx *ctx,
                       uint64_t *ret_run_id)
{
    struct sched_run *run = NULL;
    p->pending = ctx;
    int r = sched_job_run_now(p->d->sched, job_id, daemon_now_ms(), &run);
    if (p->pending == ctx) {
        /* Not written yet (queued for capacity, or refused). */
        p->pending = NULL;
        if (r == 0)
            bind_context(p, run->id, ctx);
        else
            run_ctx_free(ctx);
    }
    if (r == 0)
        *ret_run_id = run->id;
    return r;
}

/* ---- views ------------------------------------------------------------------- */

/* Run RUN_ID as the API shows it, with its orchestration context; NULL when
 * there is no such run. */
json_t *patterns_run_view(struct patterns *p, uint64_t run_id)
{
    struct store_run run;
    if (store_run_get(p->d->store, run_id, &run, NULL) < 0)
        return NULL;
    json_t *view = daemon_run_view(&run);
    store_run_release(&run);
    char *text = NULL;
    json_t *context = NULL;
    if (store_run_context_get(p->d->store, run_id, &text, NULL) == 0)
        context = json_loads(text, 0, NULL);
    free(text);
    json_object_set_new(view, "orchestration", context ? context : json_null());
    return view;
}

/* ---- lifecycle ---------------------------------------------------------------- */

static void on_prune(uv_timer_t *timer)
{
    struct patterns *p = timer->data;
    store_idempotency_prune(p->d->store, daemon_now_ms() - IDEMPOTENCY_KEEP_MS, NULL);
}

struct patterns *patterns_new(struct daemon *d, const char *nexus_url)
{
    struct patterns *p = g_new0(struct patterns, 1);
    p->d = d;
    p->contexts =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)run_ctx_free);
    p->awaiting = g_hash_table_new(g_direct_hash, g_direct_equal);
    patterns_index_init(p);
    g_queue_init(&p->later);
    p->cascading = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    uv_timer_init(&d->loop, &p->prune_timer);
    p->prune_timer.data = p;
    if (nexus_patterns_init(p, nexus_url) < 0) {
        patterns_free(p);
        return NULL;
    }
    return p;
}

int patterns_start(struct patterns *p, const char *redis_url, const char *channel, char *err,
                   size_t err_size)
{
    on_prune(&p->prune_timer);
    uv_timer_start(&p->prune_timer, on_prune, PRUNE_EVERY_MS, PRUNE_EVERY_MS);
    uv_unref((uv_handle_t *)&p->prune_timer);
    nexus_resume(p);
    return redis_url ? patterns_redis_start(p, redis_url, channel, err, err_size) : 0;
}

bool patterns_stop(struct patterns *p)
{
    if (!p)
        return false;
    p->stopping = true;
    uv_timer_stop(&p->prune_timer);
    patterns_redis_stop(p);
    return nexus_stop(p);
}

static void later_free(struct later *item)
{
    g_free(item->job_id);
    json_decref(item->event);
    run_ctx_free(item->ctx);
    g_free(item);
}

void patterns_free(struct patterns *p)
{
    if (!p)
        return;
    g_hash_table_destroy(p->contexts);
    g_hash_table_destroy(p->awaiting);
    patterns_index_release(p);
    g_hash_table_destroy(p->cascading);
    g_queue_clear_full(&p->later, (GDestroyNotify)later_free);
    run_ctx_free(p->pending);
    nexus_release(p);
    patterns_redis_free(p);
    g_free(p);
}

/* ---- jobs rendered from patterns ------------------------------------------------ */

static json_t *path_get(json_t *root, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(json_object_get(root, a), b);
    return c ? json_object_get(v, c) : v;
}

/* The scheduler block of JOB's service_specific metadata, created if missing. */
static json_t *scheduler_block(json_t *job)
{
    json_t *meta = json_object_get(job, "metadata"), *ss, *sched;
    if (!json_is_object(meta))
        json_object_set_new(job, "metadata", meta = json_object());
    if (!json_is_object(ss = json_object_get(meta, "service_specific")))
        json_object_set_new(meta, "service_specific", ss = json_object());
    if (!json_is_object(sched = json_object_get(ss, "scheduler")))
        json_object_set_new(ss, "scheduler", sched = json_object());
    return sched;
}

static int check_event_executor(json_t *job, char *err, size_t err_size)
{
    json_t *ex = json_object_get(job, "executor");
    const char *type = json_string_value(json_object_get(ex, "type"));
    if (!type || strcmp(type, "event") != 0)
        return 0;
    json_t *event_type = json_object_get(ex, "event_type"),
           *await = json_object_get(ex, "await_completion");
    if (!json_is_string(event_type) || json_string_length(event_type) == 0) {
        snprintf(err, err_size,
                 "executor.event_type: required for an event executor, the type "
                 "of the event to publish");
        return -EINVAL;
    }
    if (await && !json_is_boolean(await)) {
        snprintf(err, err_size, "executor.await_completion: must be true or false");
        return -EINVAL;
    }
    return 0;
}

/* Render JOB from its pattern into *RET. */
static int render_job(struct patterns *p, json_t *job, json_t *sched, json_t **ret, char *err,
                      size_t err_size)
{
    const char *pattern_id = json_string_value(json_object_get(sched, "pattern_id"));
    struct store_pattern stored;
    if (store_pattern_get(p->d->store, pattern_id, &stored, NULL) < 0) {
        snprintf(err, err_size, "metadata.service_specific.scheduler.pattern_id: no pattern '%s'",
                 pattern_id);
        return -EINVAL;
    }
    json_t *pattern = json_loads(stored.json, 0, NULL), *base = NULL;
    struct pattern_error perr;
    int r = pattern ? pattern_render(pattern, json_object_get(sched, "parameters"), &base, &perr)
                    : -EINVAL;
    if (r < 0) {
        snprintf(err, err_size, "%s%s",
                 strncmp(perr.message, "parameters", 10) == 0
                     ? "metadata.service_specific.scheduler."
                     : "",
                 pattern ? perr.message : "the stored pattern is not valid JSON");
        json_decref(pattern);
        store_pattern_release(&stored);
        return r;
    }
    /* The job's own fields: what it sets differently from the template. */
    json_t *own = pattern_diff(job, base);
    json_object_del(own, "id"); /* the job's own, and not a template field */
    json_t *own_sched = path_get(own, "metadata", "service_specific", "scheduler");
    if (own_sched) {
        json_object_del(json_object_get(json_object_get(own, "metadata"), "service_specific"),
                        "scheduler");
        if (json_object_size(path_get(own, "metadata", "service_specific", NULL)) == 0)
            json_object_del(json_object_get(own, "metadata"), "service_specific");
        if (json_object_size(json_object_get(own, "metadata")) == 0)
            json_object_del(own, "metadata");
    }
    pattern_overlay(base, own);
    if (json_object_get(job, "id"))
        json_object_set(base, "id", json_object_get(job, "id"));
    json_t *recorded = json_deep_copy(sched);
    json_object_set(recorded, "pattern_version", json_object_get(pattern, "version"));
    if (!json_object_get(pattern, "version"))
        json_object_set_new(recorded, "pattern_version",
                            json_sprintf("%lld", (long long)stored.revision));
    json_object_set_new(recorded, "pattern_revision", json_integer(stored.revision));
    json_object_set_new(recorded, "pattern_overrides", own);
    json_object_set_new(scheduler_block(base), "pattern_id", json_string(pattern_id));
    json_t *block = scheduler_block(base);
    json_object_update(block, recorded);
    json_decref(recorded);
    json_decref(pattern);
    store_pattern_release(&stored);
    *ret = base;
    return 0;
}

int patterns_job_expand(struct patterns *p, json_t *job, json_t **ret, char *err, size_t err_size)
{
    struct pattern_error perr;
    json_t *sched = path_get(job, "metadata", "service_specific", "scheduler");
    json_t *pattern_id = json_object_get(sched, "pattern_id");
    json_t *out = NULL;
    int r;
    if (pattern_id && !json_is_null(pattern_id) &&
        (!json_is_string(pattern_id) || json_string_length(pattern_id) == 0)) {
        snprintf(err, err_size,
                 "metadata.service_specific.scheduler.pattern_id: must be a "
                 "non-empty string");
        return -EINVAL;
    }
    if (json_is_string(pattern_id)) {
        if ((r = render_job(p, job, sched, &out, err, err_size)) < 0)
            return r;
        /* The request did not show the shell executor auth checks for: the
         * template did.  Parameters may reach its command: admin only. */
        const char *type =
            json_string_value(json_object_get(json_object_get(out, "executor"), "type"));
        if (type && strcmp(type, "shell") == 0 && !api_call_is_admin()) {
            snprintf(err, err_size,
                     "executor.type: pattern '%s' renders a shell job: only an "
                     "admin may create or change it",
                     json_string_value(pattern_id));
            json_decref(out);
            return -EPERM;
        }
    } else {
        out = json_deep_copy(job);
    }
    if ((r = pattern_trigger_on_check(path_get(out, "metadata", "scheduling", "trigger_on"),
                                      &perr)) < 0) {
        snprintf(err, err_size, "%s", perr.message);
        json_decref(out);
        return r;
    }
    if ((r = check_event_executor(out, err, err_size)) < 0) {
        json_decref(out);
        return r;
    }
    if (path_get(out, "metadata", "scheduling", "trigger_on") && !json_object_get(out, "id")) {
        /* The trigger index needs the id the job will have. */
        char fresh[37];
        job_doc_new_id(daemon_now_ms(), g_random_int() | (uint64_t)g_random_int() << 32, fresh);
        json_object_set_new(out, "id", json_string(fresh));
    }
    patterns_index_put(p, out);
    *ret = out;
    return 0;
}

/* ---- scans over jobs ------------------------------------------------------------ */

struct scan {
    const char *needle; /* pre-filter on the document text */
    bool (*want)(json_t *doc, struct scan *scan);
    const char *arg;
    GPtrArray *found; /* json_t * documents */
};

static int scan_job(const struct store_job *job, void *userdata)
{
    struct scan *scan = userdata;
    if (!strstr(job->json, scan->needle))
        return 0;
    json_t *doc = json_loads(job->json, 0, NULL);
    if (doc && scan->want(doc, scan))
        g_ptr_array_add(scan->found, doc);
    else
        json_decref(doc);
    return 0;
}

/* The documents of the jobs WANT keeps, among those whose text has NEEDLE. */
GPtrArray *patterns_scan_jobs(struct patterns *p, const char *needle,
                              bool (*want)(json_t *doc, struct scan *scan), const char *arg)
{
    struct scan scan = {needle, want, arg,
                        g_ptr_array_new_with_free_func((GDestroyNotify)json_decref)};
    store_job_foreach(p->d->store, scan_job, &scan, NULL);
    return scan.found;
}

static bool uses_pattern(json_t *doc, struct scan *scan)
{
    const char *id = json_string_value(
        json_object_get(path_get(doc, "metadata", "service_specific", "scheduler"), "pattern_id"));
    return id && strcmp(id, scan->arg) == 0;
}

static bool depends_on(json_t *doc, struct scan *scan)
{
    size_t i;
    json_t *dep;
    json_array_foreach(path_get(doc, "metadata", "scheduling", "dependencies"), i, dep)
    {
        if (json_is_string(dep) && strcmp(json_string_value(dep), scan->arg) == 0)
            return true;
    }
    return false;
}

/* ---- pattern API ------------------------------------------------------------------ */

static json_t *time_or_null(int64_t at_ms)
{
    char text[TIMEFMT_RFC3339_SIZE];
    return at_ms > 0 ? json_string(timefmt_rfc3339_format(at_ms / 1000, text)) : json_null();
}

static json_t *pattern_view(const struct store_pattern *stored)
{
    json_t *view = json_loads(stored->json, 0, NULL);
    if (!view)
        view = json_object();
    json_t *nexus = stored->nexus_status ? json_loads(stored->nexus_status, 0, NULL) : NULL;
    json_object_set_new(view, "revision", json_integer(stored->revision));
    json_object_set_new(view, "created_at", time_or_null(stored->created_at_ms));
    json_object_set_new(view, "updated_at", time_or_null(stored->updated_at_ms));
    json_object_set_new(view, "nexus", nexus ? nexus : json_pack("{ss}", "state", "disabled"));
    return view;
}

static json_t *pattern_reply(struct patterns *p, const char *id)
{
    struct store_pattern stored;
    if (store_pattern_get(p->d->store, id, &stored, NULL) < 0)
        return json_object();
    json_t *view = pattern_view(&stored);
    store_pattern_release(&stored);
    return view;
}

static const char *need_string(json_t *body, const char *key, struct http_response *resp)
{
    json_t *v = json_object_get(body, key);
    if (!json_is_string(v) || json_string_length(v) == 0) {
        api_reply_error(resp, -EINVAL, "%s: required, a non-empty string", key);
        return NULL;
    }
    return json_string_value(v);
}

/* UpdateJob for job DOC, rendered again from its pattern with its recorded
 * parameters and overrides.  Returns NULL, or the error message (g_free). */
static char *rerender_job(struct daemon *d, json_t *doc)
{
    json_t *old = path_get(doc, "metadata", "service_specific", "scheduler");
    json_t *job = json_deep_copy(json_object_get(old, "pattern_overrides"));
    if (!json_is_object(job)) {
        json_decref(job);
        job = json_object();
    }
    json_object_set(job, "id", json_object_get(doc, "id"));
    json_t *sched = json_deep_copy(old);
    json_object_del(sched, "pattern_overrides");
    json_object_del(sched, "pattern_version");
    json_object_del(sched, "pattern_revision");
    json_object_set_new(scheduler_block(job), "pattern_id", json_string(""));
    json_object_update(scheduler_block(job), sched);
    json_decref(sched);
    json_t *body = json_pack("{so}", "job", job);
    struct http_response resp = {.status = 200};
    api_invoke(d, "UpdateJob", body, &resp);
    json_decref(body);
    char *error = NULL;
    if (resp.status != 200) {
        json_t *answer = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
        const char *message = json_string_value(json_object_get(answer, "message"));
        error = g_strdup(message ? message : "update failed");
        json_decref(answer);
    }
    free(resp.body);
    return error;
}

static json_t *rerender_all(struct daemon *d, const char *pattern_id)
{
    GPtrArray *jobs = patterns_scan_jobs(d->patterns, "\"pattern_id\"", uses_pattern, pattern_id);
    json_t *updated = json_array(), *failed = json_array();
    for (guint i = 0; i < jobs->len; i++) {
        json_t *doc = g_ptr_array_index(jobs, i);
        char *error = rerender_job(d, doc);
        if (error)
            json_array_append_new(
                failed, json_pack("{sO ss}", "job_id", json_object_get(doc, "id"), "error", error));
        else
            json_array_append(updated, json_object_get(doc, "id"));
        g_free(error);
    }
    g_ptr_array_free(jobs, TRUE);
    return json_pack("{so so}", "updated", updated, "failed", failed);
}

void patterns_api_register(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct patterns *p = d->patterns;
    json_t *rerender = json_object_get(body, "rerender"), *pattern = NULL;
    struct pattern_error perr;
    if (rerender && !json_is_boolean(rerender)) {
        api_reply_error(resp, -EINVAL, "rerender: must be true or false");
        return;
    }
    if (pattern_parse(json_object_get(body, "pattern"), &pattern, &perr) < 0) {
        api_reply_error(resp, -EINVAL, "%s", perr.message);
        return;
    }
    static const char *const view_keys[] = {"revision", "created_at", "updated_at", "nexus"};
    for (size_t i = 0; i < G_N_ELEMENTS(view_keys); i++)
        json_object_del(pattern, view_keys[i]);
    const char *id = json_string_value(json_object_get(pattern, "pattern_id"));
    char *text = json_dumps(pattern, JSON_COMPACT);
    char *status = nexus_initial_status(p);
    struct store_pattern stored = {.id = id, .json = text, .nexus_status = status};
    struct store_error err = {0};
    int64_t revision = 0;
    int r = store_pattern_put(d->store, &stored, daemon_now_ms(), &revision, &err);
    free(text);
    g_free(status);
    if (r < 0) {
        api_reply_error(resp, -EIO, "pattern: store error: %s", err.message);
        json_decref(pattern);
        return;
    }
    nexus_enqueue(p, id);
    events_pattern(d->events, id, json_string_value(json_object_get(pattern, "version")), revision);
    json_t *answer = json_pack("{so}", "pattern", pattern_reply(p, id));
    if (json_is_true(rerender))
        json_object_set_new(answer, "rerendered", rerender_all(d, id));
    json_decref(pattern);
    api_reply_json(resp, 200, answer);
}

void patterns_api_list(struct daemon *d, json_t *body, struct http_response *resp)
{
    (void)body;
    struct store_pattern_list list;
    struct store_error err = {0};
    if (store_pattern_list(d->store, &list, &err) < 0) {
        api_reply_error(resp, -EIO, "ListPatterns: store error: %s", err.message);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(items, pattern_view(&list.items[i]));
    api_reply_json(resp, 200,
                   json_pack("{so sI}", "patterns", items, "total_count", (json_int_t)list.count));
    store_pattern_list_release(&list);
}

void patterns_api_get(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *id = need_string(body, "pattern_id", resp);
    struct store_pattern stored;
    if (!id)
        return;
    if (store_pattern_get(d->store, id, &stored, NULL) < 0) {
        api_reply_error(resp, -ENOENT, "pattern_id: no pattern '%s'", id);
        return;
    }
    api_reply_json(resp, 200, json_pack("{so}", "pattern", pattern_view(&stored)));
    store_pattern_release(&stored);
}

void patterns_api_delete(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *id = need_string(body, "pattern_id", resp);
    if (!id)
        return;
    GPtrArray *jobs = patterns_scan_jobs(d->patterns, "\"pattern_id\"", uses_pattern, id);
    if (jobs->len > 0) {
        GString *names = g_string_new(NULL);
        for (guint i = 0; i < jobs->len && i < 10; i++)
            g_string_append_printf(
                names, "%s%s", i ? ", " : "",
                json_string_value(json_object_get(g_ptr_array_index(jobs, i), "id")));
        api_reply_error(resp, -EBUSY,
                        "pattern_id: pattern '%s' is used by %u job(s) (%s%s); delete them or "
                        "re-point them first",
                        id, jobs->len, names->str, jobs->len > 10 ? ", ..." : "");
        g_string_free(names, TRUE);
        g_ptr_array_free(jobs, TRUE);
        return;
    }
    g_ptr_array_free(jobs, TRUE);
    struct store_error err = {0};
    int r = store_pattern_delete(d->store, id, &err);
    if (r == -ENOENT)
        api_reply_error(resp, r, "pattern_id: no pattern '%s'", id);
    else if (r < 0)
        api_reply_error(resp, -EIO, "pattern_id: store error: %s", err.message);
    else
        api_reply_json(resp, 200, json_pack("{sb}", "success", 1));
}

/* ---- orchestration ---------------------------------------------------------------- */

/* The job a pattern with PARAMS stands for: "<pattern_id>-<hash of the
 * parameters>", created from the pattern on first use.  Returns the id
 * (g_free) or NULL after replying. */
static char *pattern_job(struct daemon *d, const char *pattern_id, json_t *params,
                         struct http_response *resp)
{
    if (params && !json_is_object(params)) {
        api_reply_error(resp, -EINVAL, "parameters: must be an object of name -> value");
        return NULL;
    }
    char *canonical = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : g_strdup("{}");
    char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, canonical, -1);
    free(canonical);
    char *id = g_strdup_printf("%.100s-%.*s", pattern_id, PATTERN_JOB_HASH_LEN, hash);
    g_free(hash);
    struct store_job job;
    if (store_job_get(d->store, id, &job, NULL) == 0) {
        store_job_release(&job);
        return id;
    }
    json_t *body =
        json_pack("{s{ss s{s{s{ss sO*}}}}}", "job", "id", id, "metadata", "service_specific",
                  "scheduler", "pattern_id", pattern_id, "parameters", params);
    struct http_response created = {.status = 200};
    api_invoke(d, "CreateJob", body, &created);
    json_decref(body);
    if (created.status != 200) {
        resp->status = created.status;
        resp->body = created.body;
        resp->body_len = created.body_len;
        g_free(id);
        return NULL;
    }
    free(created.body);
    return id;
}

/* The orchestration block of BODY as a context object, or NULL after replying. */
static json_t *read_orchestration(json_t *body, struct http_response *resp)
{
    json_t *orch = json_object_get(body, "orchestration");
    if (orch && !json_is_object(orch)) {
        api_reply_error(resp, -EINVAL,
                        "orchestration: must be an object {flow_id, step_id, "
                        "correlation_id}");
        return NULL;
    }
    static const char *const keys[] = {"flow_id", "step_id", "correlation_id"};
    json_t *context = json_object();
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        json_t *v = json_object_get(orch, keys[i]);
        if (v && !json_is_null(v) &&
            (!json_is_string(v) || json_string_length(v) == 0 ||
             json_string_length(v) > MAX_KEY_LEN)) {
            api_reply_error(resp, -EINVAL, "orchestration.%s: must be a string of 1-%d bytes",
                            keys[i], MAX_KEY_LEN);
            json_decref(context);
            return NULL;
        }
        json_object_set_new(context, keys[i], v ? json_incref(v) : json_null());
    }
    return context;
}

/* {run} (with idempotent_replay for triggers: REPLAY 0 or 1; -1 for none). */
static void reply_run(struct patterns *p, uint64_t run_id, int replay, struct http_response *resp)
{
    json_t *view = patterns_run_view(p, run_id);
    if (!view)
        view = json_pack("{sI ss}", "id", (json_int_t)run_id, "status", "PENDING");
    json_t *answer = json_pack("{so}", "run", view);
    if (replay >= 0)
        json_object_set_new(answer, "idempotent_replay", json_boolean(replay));
    api_reply_json(resp, 200, answer);
}

/* A trigger whose key was seen: answer the first run. */
static bool replay_key(struct patterns *p, const char *key, struct http_response *resp)
{
    uint64_t first = 0;
    struct store_error err = {0};
    int r = store_idempotency_claim(p->d->store, key, daemon_now_ms(), &first, &err);
    if (r == 0)
        return false;
    if (r == -EEXIST && first)
        reply_run(p, first, 1, resp);
    else if (r == -EEXIST)
        api_reply_error(resp, -EBUSY, "idempotency_key: a trigger with this key is starting");
    else
        api_reply_error(resp, -EIO, "idempotency_key: store error: %s", err.message);
    return true;
}

void patterns_api_trigger(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct patterns *p = d->patterns;
    json_t *job_v = json_object_get(body, "job_id"),
           *pattern_v = json_object_get(body, "pattern_id");
    json_t *key_v = json_object_get(body, "idempotency_key"),
           *cascade = json_object_get(body, "cascade");
    if (!json_is_string(job_v) == !json_is_string(pattern_v)) {
        api_reply_error(resp, -EINVAL,
                        "job_id: give either job_id or pattern_id (with parameters)");
        return;
    }
    if (key_v && (!json_is_string(key_v) || json_string_length(key_v) == 0 ||
                  json_string_length(key_v) > MAX_KEY_LEN)) {
        api_reply_error(resp, -EINVAL, "idempotency_key: must be a string of 1-%d bytes",
                        MAX_KEY_LEN);
        return;
    }
    if (cascade && !json_is_boolean(cascade)) {
        api_reply_error(resp, -EINVAL, "cascade: must be true or false");
        return;
    }
    json_t *context = read_orchestration(body, resp);
    if (!context)
        return;
    const char *key = json_string_value(key_v);
    if (key && replay_key(p, key, resp)) {
        json_decref(context);
        return;
    }
    char *job_id = json_is_string(job_v) ? g_strdup(json_string_value(job_v))
                                         : pattern_job(d, json_string_value(pattern_v),
                                                       json_object_get(body, "parameters"), resp);
    int r = job_id ? 0 : -EINVAL;
    uint64_t run_id = 0;
    if (job_id) {
        json_object_set_new(context, "job_id", json_string(job_id));
        json_object_set(context, "idempotency_key", key_v ? key_v : json_null());
        json_object_set(context, "payload", json_object_get(body, "payload"));
        if (json_is_string(pattern_v)) {
            json_object_set(context, "pattern_id", pattern_v);
            json_object_set(context, "parameters", json_object_get(body, "parameters"));
        }
        const char *correlation = json_string_value(json_object_get(context, "correlation_id"));
        struct run_ctx *ctx =
            run_ctx_new("orchestration", correlation, context, json_is_true(cascade));
        context = NULL;
        r = patterns_start_run(p, job_id, ctx, &run_id);
        if (r == -ENOENT)
            api_reply_error(resp, r, "job_id: no job '%s'", job_id);
        else if (r == -EBUSY)
            api_reply_error(resp, r,
                            "job '%s' has a run in flight and its concurrency_policy is forbid",
                            job_id);
    }
    json_decref(context);
    if (key)
        store_idempotency_set_run(d->store, key, r == 0 ? run_id : 0, NULL);
    if (r == 0)
        reply_run(p, run_id, 0, resp);
    g_free(job_id);
}

static bool is_failure(const char *status)
{
    static const char *const failures[] = {"FAILED",  "TIMED_OUT",       "CANCELLED",
                                           "SKIPPED", "UPSTREAM_FAILED", "INTERRUPTED"};
    for (size_t i = 0; i < G_N_ELEMENTS(failures); i++)
        if (strcmp(status, failures[i]) == 0)
            return true;
    return false;
}

/* Cascades of this flow still queued. */
static bool flow_has_queued(struct patterns *p, const char *correlation)
{
    for (GList *l = p->later.head; l; l = l->next) {
        struct later *item = l->data;
        if (item->ctx && strcmp(item->ctx->correlation_id, correlation) == 0)
            return true;
    }
    return false;
}

void patterns_api_flow_status(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *correlation = need_string(body, "correlation_id", resp);
    if (!correlation)
        return;
    struct store_run_list list;
    struct store_error err = {0};
    if (store_run_list_by_correlation(d->store, correlation, MAX_FLOW_RUNS, &list, &err) < 0) {
        api_reply_error(resp, -EIO, "GetFlowStatus: store error: %s", err.message);
        return;
    }
    if (list.count == 0) {
        store_run_list_release(&list);
        api_reply_error(resp, -ENOENT, "correlation_id: no run with correlation id '%s'",
                        correlation);
        return;
    }
    json_t *runs = json_array(), *counts = json_object(), *flow_id = json_null();
    bool running = flow_has_queued(d->patterns, correlation), failed = false;
    for (size_t i = 0; i < list.count; i++) {
        struct store_run *run = &list.items[i];
        json_t *view = patterns_run_view(d->patterns, run->id);
        json_t *flow = path_get(view, "orchestration", "flow_id", NULL);
        if (json_is_string(flow) && json_is_null(flow_id))
            flow_id = json_incref(flow);
        json_array_append_new(runs, view);
        json_int_t n = json_integer_value(json_object_get(counts, run->status));
        json_object_set_new(counts, run->status, json_integer(n + 1));
        enum sched_run_status status = SCHED_RUN_PENDING;
        sched_run_status_from_string(run->status, &status);
        running |= !sched_run_status_is_final(status);
        failed |= is_failure(run->status);
    }
    store_run_list_release(&list);
    const char *state = running ? "RUNNING" : failed ? "FAILED" : "COMPLETED";
    api_reply_json(resp, 200,
                   json_pack("{ss so ss so so}", "correlation_id", correlation, "flow_id", flow_id,
                             "state", state, "counts", counts, "runs", runs));
}

/* ---- cascades ------------------------------------------------------------------------ */

void patterns_run_changed(struct patterns *p, const struct sched_run *run)
{
    if (!p || !sched_run_status_is_final(run->status))
        return;
    g_hash_table_remove(p->awaiting, RUN_KEY(run->id));
    struct run_ctx *ctx = g_hash_table_lookup(p->contexts, RUN_KEY(run->id));
    if (!ctx)
        return;
    if (ctx->cascade && run->status == SCHED_RUN_COMPLETED) {
        struct later *item = g_new0(struct later, 1);
        item->job_id = g_strdup(run->job_id);
        item->ctx = g_steal_pointer(&ctx);
        g_hash_table_steal(p->contexts, RUN_KEY(run->id));
        g_queue_push_tail(&p->later, item);
        g_hash_table_replace(p->cascading, g_strdup(run->job_id), item);
        return;
    }
    g_hash_table_remove(p->contexts, RUN_KEY(run->id));
}

/* Whether every dependency of DOC has a COMPLETED run in FLOW, and DOC has
 * none in it yet (a diamond starts its bottom once). */
static bool ready_in_flow(json_t *doc, struct store_run_list *flow)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    for (size_t i = 0; i < flow->count; i++)
        if (strcmp(flow->items[i].job_id, id) == 0)
            return false;
    size_t k;
    json_t *dep;
    json_array_foreach(path_get(doc, "metadata", "scheduling", "dependencies"), k, dep)
    {
        bool done = false;
        for (size_t i = 0; i < flow->count && !done; i++)
            done = strcmp(flow->items[i].job_id, json_string_value(dep)) == 0 &&
                   strcmp(flow->items[i].status, "COMPLETED") == 0;
        if (!done)
            return false;
    }
    return true;
}

/* The stored document of job ID if it still depends on DEP, else NULL (and
 * the index forgets a job that is gone). */
static json_t *dependent_doc(struct patterns *p, const char *id, const char *dep)
{
    struct store_job job;
    if (store_job_get(p->d->store, id, &job, NULL) < 0) {
        patterns_index_forget(p, id);
        return NULL;
    }
    json_t *doc = json_loads(job.json, 0, NULL);
    store_job_release(&job);
    struct scan scan = {.arg = dep};
    if (doc && !depends_on(doc, &scan)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

static void cascade_from(struct patterns *p, struct later *item)
{
    struct run_ctx *parent = item->ctx;
    GPtrArray *dependents = patterns_index_dependents(p, item->job_id);
    struct store_run_list flow = {0};
    if (dependents->len > 0)
        store_run_list_by_correlation(p->d->store, parent->correlation_id, MAX_FLOW_RUNS, &flow,
                                      NULL);
    for (guint i = 0; i < dependents->len; i++) {
        const char *id = g_ptr_array_index(dependents, i);
        json_t *doc = dependent_doc(p, id, item->job_id);
        const char *status = json_string_value(json_object_get(doc, "status"));
        if (!doc || (status && strcmp(status, "ACTIVE") != 0) || !ready_in_flow(doc, &flow)) {
            json_decref(doc);
            continue;
        }
        json_decref(doc);
        char parent_id[24];
        snprintf(parent_id, sizeof(parent_id), "%llu", (unsigned long long)parent->run_id);
        json_t *context = json_pack(
            "{sO sn ss ss ss}", "flow_id", json_object_get(parent->context, "flow_id"), "step_id",
            "cascaded_from", item->job_id, "parent_run_id", parent_id, "job_id", id);
        struct run_ctx *ctx = run_ctx_new("cascade", parent->correlation_id, context, true);
        uint64_t run_id;
        patterns_start_run(p, id, ctx, &run_id);
    }
    store_run_list_release(&flow);
    g_ptr_array_free(dependents, TRUE);
}

void patterns_settle(struct patterns *p)
{
    struct later *item;
    if (!p)
        return;
    while ((item = g_queue_pop_head(&p->later))) {
        if (item->event) {
            patterns_event_dispatch(p, item->event, NULL);
        } else {
            cascade_from(p, item);
            if (g_hash_table_lookup(p->cascading, item->job_id) == item)
                g_hash_table_remove(p->cascading, item->job_id);
        }
        later_free(item);
    }
}

/* ---- event executor and CompleteRun ----------------------------------------------- */

int patterns_event_start(struct patterns *p, const struct sched_run *run, json_t *ex)
{
    const char *type = json_string_value(json_object_get(ex, "event_type"));
    if (!type)
        return -EINVAL;
    struct run_ctx *ctx = g_hash_table_lookup(p->contexts, RUN_KEY(run->id));
    json_t *payload = json_object_get(ex, "payload");
    payload = json_is_object(payload) ? json_deep_copy(payload)
              : payload               ? json_pack("{sO}", "value", payload)
                                      : json_object();
    json_object_set_new(payload, "job_id", json_string(run->job_id));
    json_object_set_new(payload, "run_id", json_integer((json_int_t)run->id));
    json_t *event = json_pack(
        "{ss so s{ss ss* sI}}", "type", type, "payload", payload, "metadata", "source", "scheduler",
        "correlation_id", ctx ? ctx->correlation_id : NULL, "hops",
        (json_int_t)(ctx ? json_integer_value(json_object_get(
                               path_get(ctx->context, "trigger_event", "metadata", NULL), "hops")) +
                               1
                         : 1));
    patterns_event_ingest(p, event);
    bool await = json_is_true(json_object_get(ex, "await_completion"));
    if (await) {
        g_hash_table_add(p->awaiting, RUN_KEY(run->id));
    } else {
        char *text = json_dumps(event, JSON_COMPACT);
        daemon_run_finish(p->d, run->id, SCHED_RUN_COMPLETED, text, NULL);
        free(text);
    }
    json_decref(event);
    return 0;
}

bool patterns_run_stop(struct patterns *p, const struct sched_run *run)
{
    if (!p || !g_hash_table_remove(p->awaiting, RUN_KEY(run->id)))
        return false;
    daemon_run_finish(p->d, run->id, SCHED_RUN_TIMED_OUT, NULL,
                      "no CompleteRun arrived before the run's timeout");
    return true;
}

static int parse_run_id(json_t *v, uint64_t *ret)
{
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *ret = (uint64_t)json_integer_value(v);
        return 0;
    }
    const char *text = json_string_value(v);
    char *end = NULL;
    if (!text || !*text)
        return -EINVAL;
    unsigned long long id = g_ascii_strtoull(text, &end, 10);
    if (*end || id == 0 || id > INT64_MAX)
        return -EINVAL;
    *ret = id;
    return 0;
}

void patterns_api_complete_run(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct patterns *p = d->patterns;
    uint64_t run_id;
    const char *status = json_string_value(json_object_get(body, "status"));
    json_t *result = json_object_get(body, "result"), *error = json_object_get(body, "error");
    if (parse_run_id(json_object_get(body, "run_id"), &run_id) < 0) {
        api_reply_error(resp, -EINVAL, "run_id: required, the id of a run");
        return;
    }
    if (!status || (strcmp(status, "COMPLETED") != 0 && strcmp(status, "FAILED") != 0)) {
        api_reply_error(resp, -EINVAL, "status: required, COMPLETED or FAILED");
        return;
    }
    if (error && !json_is_string(error)) {
        api_reply_error(resp, -EINVAL, "error: must be a string");
        return;
    }
    if (!g_hash_table_remove(p->awaiting, RUN_KEY(run_id))) {
        json_t *view = patterns_run_view(p, run_id);
        if (!view)
            api_reply_error(resp, -ENOENT, "run_id: no run %llu", (unsigned long long)run_id);
        else
            api_reply_error(resp, -EBUSY, "run_id: run %llu is not awaiting completion (status %s)",
                            (unsigned long long)run_id,
                            json_string_value(json_object_get(view, "status")));
        json_decref(view);
        return;
    }
    char *output = json_is_string(result) ? g_strdup(json_string_value(result))
                   : result               ? json_dumps(result, JSON_COMPACT)
                                          : NULL;
    bool ok = strcmp(status, "COMPLETED") == 0;
    const char *message = error ? json_string_value(error)
                          : ok  ? NULL
                                : "reported FAILED by CompleteRun";
    daemon_run_finish(d, run_id, ok ? SCHED_RUN_COMPLETED : SCHED_RUN_FAILED, output, message);
    free(output);
    daemon_finish_pending(d);
    reply_run(p, run_id, -1, resp);
}
