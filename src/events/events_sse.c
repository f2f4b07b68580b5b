/*
 * events_sse - Server-Sent Events subscribers at /v1/events.
 *
 * Each event is `id: <seq>`, `event: <type>`, `data: <envelope>`, so a
 * browser's EventSource resumes by itself with Last-Event-ID.  The response is
 * a streamed body: when the client's queue is empty the HTTP server parks the
 * connection (no polling), and the hub's ready callback wakes it.  A comment
 * line every KEEPALIVE_MS keeps proxies from timing the stream out and finds
 * clients that went away.  A client that falls behind gets an `event: close`
 * with the reason and the stream ends; a `since` outside the log gets
 * `event: resync` with the log's bounds, and the stream ends.  With
 * `follow=false` the stream ends once the events after `since` that the log
 * held when the client subscribed are sent (`ovsched events` without
 * --follow).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "events/internal.h"

#define KEEPALIVE_MS  15000
#define CLOSE_GRACE_S 2

struct sse_client {
    struct events_sse *sse;
    struct events_sub *sub;
    struct http_stream *stream;
    GString *out; /* formatted, not yet handed to the server */
    bool ending;  /* send OUT, then end the response */
    bool keepalive_due;
    bool follow; /* false: end once the replay is sent */
};

struct events_sse {
    struct events *events;
    GHashTable *clients;
    int64_t last_keepalive_ms;
};

static void on_ready(void *owner)
{
    struct sse_client *c = owner;
    if (c->stream)
        http_stream_wake(c->stream);
}

static void on_overflow(void *owner)
{
    struct sse_client *c = owner;
    const char *reason = events_sub_overflow_reason(c->sub);
    events_log("warn", "closing an SSE subscriber: %s", reason);
    char *data = g_strescape(reason, NULL);
    g_string_append_printf(c->out, "event: %s\ndata: {\"reason\":\"%s\"}\n\n",
                           strncmp(reason, "resync", 6) == 0 ? "resync" : "close", data);
    g_free(data);
    c->ending = true;
    /* A client that stopped reading never takes the reason: drop it soon. */
    if (c->stream)
        http_stream_set_timeout(c->stream, CLOSE_GRACE_S);
    on_ready(c);
}

static const struct events_sub_ops sub_ops = {on_ready, on_overflow};

static void format_msg(GString *out, const struct events_msg *msg)
{
    g_string_append_printf(out, "id: %lld\nevent: %s\ndata: ", (long long)msg->seq,
                           events_type_to_string(msg->type));
    g_string_append_len(out, msg->json, (gssize)msg->len);
    g_string_append(out, "\n\n");
}

static void on_bind(void *ctx, struct http_stream *stream)
{
    struct sse_client *c = ctx;
    c->stream = stream;
}

static ssize_t on_read(void *ctx, char *buf, size_t max)
{
    struct sse_client *c = ctx;
    if (c->keepalive_due) {
        c->keepalive_due = false;
        g_string_append(c->out, ": keepalive\n\n");
    }
    struct events_msg *msg;
    while (!c->ending && c->sub && c->out->len < max && (msg = events_sub_pop(c->sub))) {
        format_msg(c->out, msg);
        events_msg_unref(msg);
    }
    if (!c->follow && c->sub && !c->ending && c->out->len < max && events_sub_caught_up(c->sub))
        c->ending = true;
    if (c->out->len == 0)
        return c->ending ? -1 : 0;
    size_t n = MIN(max, c->out->len);
    memcpy(buf, c->out->str, n);
    g_string_erase(c->out, 0, (gssize)n);
    return (ssize_t)n;
}

static void on_closed(void *ctx)
{
    struct sse_client *c = ctx;
    g_hash_table_remove(c->sse->clients, c);
    events_sub_remove(c->sub);
    g_string_free(c->out, TRUE);
    g_free(c);
}

static const struct http_stream_ops stream_ops = {on_bind, on_read, on_closed};

void events_sse_handle(struct events_sse *sse, struct http_response *resp,
                       struct events_filter *filter, bool follow)
{
    struct sse_client *c = g_new0(struct sse_client, 1);
    c->sse = sse;
    c->follow = follow;
    c->out = g_string_new(": ovsched events\n\n");
    struct events_resync resync;
    if (events_sub_add(sse->events, filter, &sub_ops, c, &c->sub, &resync) < 0) {
        char *text = events_resync_json(&resync);
        g_string_append_printf(c->out, "event: resync\ndata: %s\n\n", text);
        g_free(text);
        c->ending = true;
    }
    g_hash_table_add(sse->clients, c);
    resp->status = 200;
    resp->content_type = "text/event-stream";
    resp->stream = &stream_ops;
    resp->ctx = c;
    resp->headers = g_new0(char *, 3);
    resp->headers[0] = g_strdup("X-Accel-Buffering");
    resp->headers[1] = g_strdup("no");
}

void events_sse_tick(struct events_sse *sse, int64_t now_ms)
{
    if (now_ms - sse->last_keepalive_ms < KEEPALIVE_MS)
        return;
    sse->last_keepalive_ms = now_ms;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, sse->clients);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        struct sse_client *c = key;
        c->keepalive_due = true;
        on_ready(c);
    }
}

int events_sse_new(struct events *events, struct events_sse **ret)
{
    struct events_sse *sse = g_new0(struct events_sse, 1);
    sse->events = events;
    sse->clients = g_hash_table_new(NULL, NULL);
    sse->last_keepalive_ms = events_now_ms();
    *ret = sse;
    return 0;
}

void events_sse_free(struct events_sse *sse)
{
    if (!sse)
        return;
    g_hash_table_destroy(sse->clients);
    g_free(sse);
}
