/*
 * patterns_nexus - registrations sent to an external Nexus (--nexus-url).
 *
 * Each RegisterPattern queues the pattern id; one request is in flight at a
 * time (registrations are rare; order is kept).  A request is
 *   POST <nexus-url>/nexus.v1.NexusService/RegisterPattern
 *   {"pattern_id", "pattern_type", "version", "origin": "scheduler",
 *    "pattern": <the pattern document>, "metadata": {"revision": N}}
 * through the daemon's libcurl-on-libuv executor (exec_http_start()), with a
 * 10 s timeout.  Any 2xx is success; anything else is retried with a
 * doubling delay from 250 ms up to 30 s, for ever: a Nexus that is down
 * receives every registration once it is back.  The outcome is the pattern's
 * `nexus` status in the store (state pending | retrying | registered,
 * attempts, last_error, next_attempt_at, registered_at), so it survives a
 * restart, and at start-up every pattern not yet registered is queued again.
 * The status is written only for the revision that was sent: when a newer
 * registration came meanwhile, the pattern is sent again.
 */
#include <errno.h>
#include <string.h>

#include "base/timefmt.h"
#include "daemon/daemon.h"
#include "patterns/internal.h"

#define NEXUS_PATH           "/nexus.v1.NexusService/RegisterPattern"
#define NEXUS_TIMEOUT_MS     10000
#define NEXUS_FIRST_DELAY_MS 250
#define NEXUS_MAX_DELAY_MS   30000

static void nexus_kick(struct patterns *p);

int nexus_patterns_init(struct patterns *p, const char *nexus_url)
{
    g_queue_init(&p->nexus_queue);
    uv_timer_init(&p->d->loop, &p->nexus_timer);
    p->nexus_timer.data = p;
    if (!nexus_url || !*nexus_url)
        return 0;
    p->nexus_url = g_strdup(nexus_url);
    return exec_http_new(&p->d->loop, &p->nexus_http);
}

static json_t *stamp(int64_t at_ms)
{
    char text[TIMEFMT_RFC3339_SIZE];
    return json_string(timefmt_rfc3339_format(at_ms / 1000, text));
}

char *nexus_initial_status(struct patterns *p)
{
    if (!p->nexus_url)
        return NULL;
    json_t *status = json_pack("{ss si sn}", "state", "pending", "attempts", 0, "last_error");
    char *text = json_dumps(status, JSON_COMPACT);
    json_decref(status);
    return text;
}

static bool queued(struct patterns *p, const char *id)
{
    for (GList *l = p->nexus_queue.head; l; l = l->next)
        if (strcmp(l->data, id) == 0)
            return true;
    return false;
}

void nexus_enqueue(struct patterns *p, const char *pattern_id)
{
    if (!p->nexus_url || p->stopping)
        return;
    /* The head may be in flight with an older revision: it is re-sent when its
     * status no longer matches (nexus_done()). */
    if (!queued(p, pattern_id))
        g_queue_push_tail(&p->nexus_queue, g_strdup(pattern_id));
    nexus_kick(p);
}

void nexus_resume(struct patterns *p)
{
    struct store_pattern_list list;
    if (!p->nexus_url || store_pattern_list(p->d->store, &list, NULL) < 0)
        return;
    for (size_t i = 0; i < list.count; i++) {
        json_t *status =
            list.items[i].nexus_status ? json_loads(list.items[i].nexus_status, 0, NULL) : NULL;
        const char *state = json_string_value(json_object_get(status, "state"));
        if (!state || strcmp(state, "registered") != 0)
            nexus_enqueue(p, list.items[i].id);
        json_decref(status);
    }
    store_pattern_list_release(&list);
}

/* Write the status of the head for the revision sent.  Returns 0, or -ENOENT
 * when the pattern is gone or has a newer revision. */
static int write_status(struct patterns *p, const char *id, json_t *status)
{
    char *text = json_dumps(status, JSON_COMPACT);
    int r = store_pattern_set_nexus_status(p->d->store, id, p->nexus_revision, text, NULL);
    free(text);
    json_decref(status);
    return r;
}

static void on_retry(uv_timer_t *timer)
{
    nexus_kick(timer->data);
}

static void nexus_failed(struct patterns *p, const char *id, const char *error)
{
    p->nexus_attempts++;
    int64_t delay = NEXUS_FIRST_DELAY_MS;
    for (int i = 1; i < p->nexus_attempts && delay < NEXUS_MAX_DELAY_MS; i++)
        delay *= 2;
    if (delay > NEXUS_MAX_DELAY_MS)
        delay = NEXUS_MAX_DELAY_MS;
    int64_t now = daemon_now_ms();
    write_status(p, id,
                 json_pack("{ss si ss so so}", "state", "retrying", "attempts", p->nexus_attempts,
                           "last_error", error, "last_attempt_at", stamp(now), "next_attempt_at",
                           stamp(now + delay)));
    uv_timer_start(&p->nexus_timer, on_retry, (uint64_t)delay, 0);
}

static void nexus_done(struct exec_task *task, const struct exec_result *result, void *ctx)
{
    (void)task;
    struct patterns *p = ctx;
    p->nexus_task = NULL;
    if (p->stopping) {
        daemon_finish_stop(p->d);
        return;
    }
    char *id = g_queue_peek_head(&p->nexus_queue);
    if (result->outcome != EXEC_SUCCEEDED) {
        char error[320];
        if (result->http_status)
            snprintf(error, sizeof(error), "Nexus answered HTTP %d", result->http_status);
        else
            snprintf(error, sizeof(error), "%s", result->error ? result->error : "request failed");
        nexus_failed(p, id, error);
        return;
    }
    int r = write_status(p, id,
                         json_pack("{ss si sn so}", "state", "registered", "attempts",
                                   p->nexus_attempts + 1, "last_error", "registered_at",
                                   stamp(daemon_now_ms())));
    p->nexus_attempts = 0;
    struct store_pattern newer;
    bool resend = r == -ENOENT && store_pattern_get(p->d->store, id, &newer, NULL) == 0;
    if (resend)
        store_pattern_release(&newer); /* a newer revision came meanwhile: send it too */
    else
        g_free(g_queue_pop_head(&p->nexus_queue));
    nexus_kick(p);
}

static int nexus_send(struct patterns *p, const char *id, char *reason, size_t size)
{
    struct store_pattern stored;
    if (store_pattern_get(p->d->store, id, &stored, NULL) < 0)
        return -ENOENT;
    json_t *pattern = json_loads(stored.json, 0, NULL);
    json_t *body = json_pack(
        "{sO sO sO ss sO s{sI}}", "pattern_id", json_object_get(pattern, "pattern_id"),
        "pattern_type", json_object_get(pattern, "pattern_type"), "version",
        json_object_get(pattern, "version") ? json_object_get(pattern, "version") : json_null(),
        "origin", "scheduler", "pattern", pattern, "metadata", "revision",
        (json_int_t)stored.revision);
    p->nexus_revision = stored.revision;
    store_pattern_release(&stored);
    json_decref(pattern);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return -ENOENT;
    char *url = g_strconcat(p->nexus_url, NEXUS_PATH, NULL);
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct exec_http_spec spec = {.method = "POST",
                                  .url = url,
                                  .headers = headers,
                                  .body = text,
                                  .body_len = strlen(text),
                                  .timeout_ms = NEXUS_TIMEOUT_MS};
    struct exec_error err = {{0}};
    int r = exec_http_start(p->nexus_http, &spec, nexus_done, p, &p->nexus_task, &err);
    if (r < 0)
        snprintf(reason, size, "%s", err.reason);
    g_free(url);
    free(text);
    return r;
}

static void nexus_kick(struct patterns *p)
{
    while (p->nexus_url && !p->stopping && !p->nexus_task &&
           !uv_is_active((uv_handle_t *)&p->nexus_timer)) {
        char *id = g_queue_peek_head(&p->nexus_queue);
        if (!id)
            return;
        char reason[256] = "";
        int r = nexus_send(p, id, reason, sizeof(reason));
        if (r == -ENOENT) { /* deleted since */
            g_free(g_queue_pop_head(&p->nexus_queue));
            p->nexus_attempts = 0;
            continue;
        }
        if (r < 0)
            nexus_failed(p, id, reason);
        return;
    }
}

bool nexus_stop(struct patterns *p)
{
    uv_timer_stop(&p->nexus_timer);
    if (p->nexus_task) {
        exec_task_stop(p->nexus_task, 0);
        return true;
    }
    exec_http_free(p->nexus_http);
    p->nexus_http = NULL;
    return false;
}

void nexus_release(struct patterns *p)
{
    g_queue_clear_full(&p->nexus_queue, g_free);
    g_free(p->nexus_url);
}
