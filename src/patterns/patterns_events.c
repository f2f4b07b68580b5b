/*
 * patterns_events - `trigger_on`: events that start jobs.
 *
 * An event is the envelope of SPEC section 6 ({"type", "payload",
 * "metadata"}).  It arrives by PublishEvent, from an `event` executor (its
 * own runs' events), or from the Redis subscriber.  Each job whose
 * `metadata.scheduling.trigger_on` matches (type, and every filter field equal
 * in the payload) gets a run now, with trigger "event", the envelope stored as
 * the run's `trigger_event`, and the event's correlation id (a new one when
 * it has none).  Only ACTIVE jobs start.  An event an `event` run published
 * never starts that run's own job, and a chain of events is cut after
 * MAX_EVENT_HOPS, so two jobs that trigger each other cannot loop for ever.
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "api/job_doc.h"
#include "daemon/daemon.h"
#include "patterns/internal.h"
#include "patterns/pattern.h"

#define MAX_EVENT_HOPS 16

/* The stored document of job ID when it still wants EVENT: ACTIVE, and its
 * trigger_on matches.  NULL otherwise (and the index is corrected). */
static bool job_wants(struct patterns *p, const char *id, const char *type, json_t *payload)
{
    struct store_job job;
    if (store_job_get(p->d->store, id, &job, NULL) < 0) {
        patterns_index_forget(p, id);
        return false;
    }
    json_t *doc = json_loads(job.json, 0, NULL);
    store_job_release(&job);
    json_t *trigger_on = json_object_get(
        json_object_get(json_object_get(doc, "metadata"), "scheduling"), "trigger_on");
    const char *status = json_string_value(json_object_get(doc, "status"));
    bool wants = pattern_trigger_matches(trigger_on, type, payload) &&
                 (!status || strcmp(status, "ACTIVE") == 0);
    json_decref(doc);
    return wants;
}

void patterns_event_dispatch(struct patterns *p, json_t *event, json_t *started)
{
    const char *type = json_string_value(json_object_get(event, "type"));
    json_t *payload = json_object_get(event, "payload"), *meta = json_object_get(event, "metadata");
    const char *source_job = json_string_value(json_object_get(payload, "job_id"));
    bool from_run = json_object_get(payload, "run_id") != NULL;
    if (!type || json_integer_value(json_object_get(meta, "hops")) > MAX_EVENT_HOPS)
        return;
    patterns_index_ensure(p);
    GPtrArray *matches = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, p->triggers);
    while (g_hash_table_iter_next(&it, &key, &value))
        if (pattern_trigger_matches(value, type, payload))
            g_ptr_array_add(matches, g_strdup(key));
    for (guint i = 0; i < matches->len; i++) {
        const char *id = g_ptr_array_index(matches, i);
        if ((from_run && source_job && strcmp(source_job, id) == 0) ||
            !job_wants(p, id, type, payload))
            continue;
        const char *correlation = json_string_value(json_object_get(meta, "correlation_id"));
        json_t *context = json_pack("{ss sO}", "job_id", id, "trigger_event", event);
        struct run_ctx *ctx = run_ctx_new("event", correlation, context, false);
        uint64_t run_id = 0;
        int r = patterns_start_run(p, id, ctx, &run_id);
        if (started && r == 0)
            json_array_append_new(started,
                                  json_pack("{ss sI}", "job_id", id, "run_id", (json_int_t)run_id));
        else if (started)
            json_array_append_new(started, json_pack("{ss ss}", "job_id", id, "error",
                                                     r == -EBUSY ? "a run is in flight and the "
                                                                   "concurrency_policy is forbid"
                                                                 : "the run could not start"));
    }
    g_ptr_array_free(matches, TRUE);
}

void patterns_event_ingest(struct patterns *p, json_t *event)
{
    if (!p || p->stopping)
        return;
    struct later *item = g_new0(struct later, 1);
    item->event = json_deep_copy(event);
    g_queue_push_tail(&p->later, item);
}

/* The envelope of BODY (the event itself, or under "event") with its
 * metadata completed, or NULL after replying. */
static json_t *read_event(json_t *body, struct http_response *resp)
{
    json_t *event = json_object_get(body, "event");
    if (!event)
        event = body;
    json_t *type = json_object_get(event, "type"), *payload = json_object_get(event, "payload"),
           *meta = json_object_get(event, "metadata");
    if (!json_is_string(type) || json_string_length(type) == 0) {
        api_reply_error(resp, -EINVAL,
                        "event.type: required, a non-empty string "
                        "(\"campaign.launched\")");
        return NULL;
    }
    if (payload && !json_is_object(payload)) {
        api_reply_error(resp, -EINVAL, "event.payload: must be an object");
        return NULL;
    }
    if (meta && !json_is_object(meta)) {
        api_reply_error(resp, -EINVAL, "event.metadata: must be an object");
        return NULL;
    }
    json_t *corr = json_object_get(meta, "correlation_id");
    if (corr && !json_is_null(corr) && !json_is_string(corr)) {
        api_reply_error(resp, -EINVAL, "event.metadata.correlation_id: must be a string");
        return NULL;
    }
    json_t *copy = json_object(), *m = meta ? json_deep_copy(meta) : json_object();
    json_object_set(copy, "type", type);
    json_object_set_new(copy, "payload", payload ? json_deep_copy(payload) : json_object());
    json_object_set_new(copy, "metadata", m);
    if (!json_is_string(json_object_get(m, "event_id"))) {
        char fresh[37];
        job_doc_new_id(daemon_now_ms(), g_random_int() | (uint64_t)g_random_int() << 32, fresh);
        json_object_set_new(m, "event_id", json_string(fresh));
    }
    if (!json_object_get(m, "source"))
        json_object_set_new(m, "source", json_string("api"));
    return copy;
}

void patterns_api_publish_event(struct daemon *d, json_t *body, struct http_response *resp)
{
    json_t *event = read_event(body, resp);
    if (!event)
        return;
    json_t *started = json_array();
    patterns_event_dispatch(d->patterns, event, started);
    api_reply_json(resp, 200,
                   json_pack("{sO so}", "event_id",
                             json_object_get(json_object_get(event, "metadata"), "event_id"),
                             "triggered", started));
    json_decref(event);
}
