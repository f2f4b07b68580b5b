/*
 * events_ws - WebSocket subscribers at /v1/events/ws (RFC 6455 through wslay).
 *
 * The HTTP server answers the handshake with 101 and hands the socket over;
 * from then on the loop polls it (uv_poll) and wslay reads and writes frames:
 * it answers pings and the close handshake by itself.  Each event is one text
 * message holding the envelope.
 *
 * Writes are batched per loop iteration: wslay's frames go into the client's
 * output buffer (at most OUT_MAX bytes) and one write(2) per client sends
 * them from an idle callback, so a burst of events costs one system call per
 * client, not one per event.  What waits beyond that stays in the client's
 * bounded hub queue; a client that lets it fill is closed with 1008 and a
 * reason.  The server pings every ping_ms; a client silent for 3 of them (no
 * pong, nothing) is dropped.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "ops/metrics.h"
#include "events/internal.h"

#define WS_GUID        "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define OUT_MAX        (64 * 1024)
#define WINDOW         64 /* messages handed to wslay at a time */
#define CLOSE_GRACE_MS 2000
#define CLOSE_SLOW     1008 /* policy violation */
#define CLOSE_RESYNC   4000
#define CLOSE_AWAY     1001
#define MAX_CLIENT_MSG 4096

struct ws_client {
    struct events_ws *ws;
    struct events_filter filter; /* until subscribed */
    struct events_sub *sub;
    struct http_upgraded *up;
    wslay_event_context_ptr ctx;
    uv_poll_t poll;
    int fd;
    char *extra; /* bytes read by the HTTP server past the handshake */
    size_t extra_len, extra_off;
    GByteArray *out;
    int64_t last_recv_ms, last_ping_ms, close_deadline_ms;
    bool closing, dead, dirty;
    int close_after_data; /* a close code to send once the queued messages are out */
    char close_reason[124];
};

struct events_ws {
    struct events *events;
    GHashTable *clients; /* struct ws_client * (live, upgraded) */
    GPtrArray *dirty;    /* clients with something to write */
    uv_idle_t writer;
    int64_t ping_ms;
    bool stopped;
};

static void client_free(struct ws_client *c)
{
    events_sub_remove(c->sub);
    events_filter_release(&c->filter);
    if (c->ctx)
        wslay_event_context_free(c->ctx);
    if (c->out)
        g_byte_array_free(c->out, TRUE);
    g_free(c->extra);
    g_free(c);
}

static void on_poll_closed(uv_handle_t *handle)
{
    client_free(handle->data);
}

static void teardown(struct ws_client *c)
{
    if (c->dead)
        return;
    c->dead = true;
    if (g_hash_table_remove(c->ws->clients, c))
        metrics_websocket_clients_add(-1);
    if (c->dirty)
        g_ptr_array_remove_fast(c->ws->dirty, c);
    uv_poll_stop(&c->poll);
    http_upgraded_close(c->up); /* closes the socket */
    uv_close((uv_handle_t *)&c->poll, on_poll_closed);
}

/* ---- wslay callbacks ------------------------------------------------------ */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user_data)
{
    (void)flags;
    struct ws_client *c = user_data;
    if (c->extra_off < c->extra_len) {
        size_t n = MIN(len, c->extra_len - c->extra_off);
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n > 0) {
        c->last_recv_ms = events_now_ms();
        return n;
    }
    wslay_event_set_error(ctx, n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                                   ? WSLAY_ERR_WOULDBLOCK
                                   : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

/* Frames go to the output buffer; flush_out() writes it. */
static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user_data)
{
    (void)flags;
    struct ws_client *c = user_data;
    if (c->out->len >= OUT_MAX) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = MIN(len, OUT_MAX - c->out->len);
    g_byte_array_append(c->out, data, (guint)n);
    return (ssize_t)n;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user_data)
{
    (void)ctx, (void)arg, (void)user_data;
    /* Clients have nothing to say but pongs and close, which wslay handles. */
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = on_recv,
    .send_callback = on_send,
    .on_msg_recv_callback = on_msg,
};

/* ---- writing ---------------------------------------------------------------- */

static void on_poll(uv_poll_t *poll, int status, int events);

/* Write the output buffer.  Returns 0, or -1 when the client is gone. */
static int flush_out(struct ws_client *c)
{
    while (c->out->len > 0) {
        ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        g_byte_array_remove_range(c->out, 0, (guint)n);
    }
    return 0;
}

/* Hand queued events to wslay (a window at a time), frame, write. */
static void pump(struct ws_client *c)
{
    if (c->dead)
        return;
    while (c->sub && !c->closing && wslay_event_get_queued_msg_count(c->ctx) < WINDOW) {
        struct events_msg *msg = events_sub_pop(c->sub);
        if (!msg)
            break;
        struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)msg->json, msg->len};
        wslay_event_queue_msg(c->ctx, &m); /* copies */
        events_msg_unref(msg);
    }
    if ((wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0) || flush_out(c) < 0) {
        teardown(c);
        return;
    }
    if (c->close_after_data && wslay_event_get_queued_msg_count(c->ctx) == 0) {
        wslay_event_queue_close(c->ctx, (uint16_t)c->close_after_data,
                                (const uint8_t *)c->close_reason, strlen(c->close_reason));
        c->close_after_data = 0;
        if (wslay_event_send(c->ctx) != 0 || flush_out(c) < 0) {
            teardown(c);
            return;
        }
    }
    bool want_write = c->out->len > 0 || wslay_event_want_write(c->ctx);
    bool want_read = wslay_event_want_read(c->ctx);
    if (!want_read && !want_write) {
        teardown(c); /* the close handshake is over */
        return;
    }
    uv_poll_start(&c->poll, (want_read ? UV_READABLE : 0) | (want_write ? UV_WRITABLE : 0),
                  on_poll);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct ws_client *c = poll->data;
    if (status < 0 || ((events & UV_READABLE) && wslay_event_recv(c->ctx) != 0)) {
        teardown(c);
        return;
    }
    pump(c);
}

static void on_writer(uv_idle_t *idle)
{
    struct events_ws *ws = idle->data;
    GPtrArray *dirty = ws->dirty;
    ws->dirty = g_ptr_array_new();
    for (guint i = 0; i < dirty->len; i++) {
        struct ws_client *c = g_ptr_array_index(dirty, i);
        c->dirty = false;
        pump(c);
    }
    g_ptr_array_free(dirty, TRUE);
    if (ws->dirty->len == 0)
        uv_idle_stop(idle);
}

static void mark_dirty(struct ws_client *c)
{
    if (c->dirty || c->dead || c->ws->stopped) /* stopped: the writer is closed */
        return;
    c->dirty = true;
    g_ptr_array_add(c->ws->dirty, c);
    uv_idle_start(&c->ws->writer, on_writer);
}

/* Close with CODE and REASON: at once (wslay sends control frames before
 * queued messages), or AFTER_DATA, once what is queued went out. */
static void close_with(struct ws_client *c, uint16_t code, const char *reason, bool after_data)
{
    if (c->closing || c->dead)
        return;
    c->closing = true;
    c->close_deadline_ms = events_now_ms() + CLOSE_GRACE_MS;
    if (after_data) {
        c->close_after_data = code;
        snprintf(c->close_reason, sizeof(c->close_reason), "%s", reason);
    } else {
        wslay_event_queue_close(c->ctx, code, (const uint8_t *)reason, strlen(reason));
    }
    mark_dirty(c);
}

/* ---- hub callbacks ------------------------------------------------------------- */

static void on_ready(void *owner)
{
    mark_dirty(owner);
}

static void on_overflow(void *owner)
{
    struct ws_client *c = owner;
    /* A close reason holds at most 123 bytes. */
    char reason[124];
    snprintf(reason, sizeof(reason), "%s", events_sub_overflow_reason(c->sub));
    events_log("warn", "closing a WebSocket subscriber: %s", reason);
    close_with(c, strncmp(reason, "resync", 6) == 0 ? CLOSE_RESYNC : CLOSE_SLOW, reason, false);
}

static const struct events_sub_ops sub_ops = {on_ready, on_overflow};

/* ---- the upgrade --------------------------------------------------------------- */

static void on_upgraded(void *ctx, struct http_upgraded *up, int fd, const char *extra,
                        size_t extra_len)
{
    struct ws_client *c = ctx;
    struct events_ws *ws = c->ws;
    c->up = up;
    c->fd = fd;
    c->extra = g_memdup2(extra, extra_len);
    c->extra_len = extra_len;
    c->out = g_byte_array_new();
    c->last_recv_ms = c->last_ping_ms = events_now_ms();
    uv_poll_init_socket(events_loop(ws->events), &c->poll, fd);
    c->poll.data = c;
    g_hash_table_add(ws->clients, c);
    metrics_websocket_clients_add(1);
    if (wslay_event_context_server_init(&c->ctx, &callbacks, c) != 0) {
        c->ctx = NULL;
        teardown(c);
        return;
    }
    /* Clients only send control frames: a big message is refused (1009), not buffered. */
    wslay_event_config_set_max_recv_msg_length(c->ctx, MAX_CLIENT_MSG);
    struct events_resync resync;
    if (events_sub_add(ws->events, &c->filter, &sub_ops, c, &c->sub, &resync) < 0) {
        /* The answer a client can act on, then a close saying the same. */
        char *text = events_resync_json(&resync);
        struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, strlen(text)};
        wslay_event_queue_msg(c->ctx, &m);
        g_free(text);
        close_with(c, CLOSE_RESYNC, "resync required: since is outside the event log", true);
    }
    mark_dirty(c);
}

static void on_abandon(void *ctx)
{
    client_free(ctx);
}

static void on_shutdown(void *ctx)
{
    teardown(ctx);
}

static const struct http_upgrade_ops upgrade_ops = {on_upgraded, on_abandon, on_shutdown};

static bool header_has(const struct http_request *req, const char *name, const char *token)
{
    const char *value = http_request_header(req, name);
    return value && strcasestr(value, token) != NULL;
}

static char *accept_key(const char *key)
{
    GChecksum *sha1 = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sha1, (const guchar *)key, (gssize)strlen(key));
    g_checksum_update(sha1, (const guchar *)WS_GUID, (gssize)strlen(WS_GUID));
    guint8 digest[20];
    gsize len = sizeof(digest);
    g_checksum_get_digest(sha1, digest, &len);
    g_checksum_free(sha1);
    return g_base64_encode(digest, len);
}

static void refuse(struct http_response *resp, int status, const char *message)
{
    resp->status = status;
    resp->body = g_strdup_printf("{\"code\":\"%s\",\"message\":\"%s\"}",
                                 status == 426 ? "upgrade_required" : "invalid_argument", message);
    resp->body_len = strlen(resp->body);
}

void events_ws_handle(struct events_ws *ws, const struct http_request *req,
                      struct http_response *resp, struct events_filter *filter)
{
    const char *key = http_request_header(req, "Sec-WebSocket-Key");
    const char *version = http_request_header(req, "Sec-WebSocket-Version");
    if (!header_has(req, "Upgrade", "websocket") || !header_has(req, "Connection", "upgrade")) {
        events_filter_release(filter);
        refuse(resp, 426, "this is a WebSocket endpoint: send Upgrade: websocket");
        return;
    }
    if (!key || !version || strcmp(version, "13") != 0) {
        events_filter_release(filter);
        refuse(resp, 400, "Sec-WebSocket-Key and Sec-WebSocket-Version: 13 are required");
        return;
    }
    struct ws_client *c = g_new0(struct ws_client, 1);
    c->ws = ws;
    c->fd = -1;
    c->filter = *filter;
    *filter = (struct events_filter){.since = -1};
    resp->upgrade = &upgrade_ops;
    resp->ctx = c;
    resp->headers = g_new0(char *, 5);
    resp->headers[0] = g_strdup("Upgrade");
    resp->headers[1] = g_strdup("websocket");
    resp->headers[2] = g_strdup("Sec-WebSocket-Accept");
    resp->headers[3] = accept_key(key);
}

/* ---- keep-alive ------------------------------------------------------------------ */

void events_ws_tick(struct events_ws *ws, int64_t now_ms)
{
    GList *clients = g_hash_table_get_keys(ws->clients);
    for (GList *l = clients; l; l = l->next) {
        struct ws_client *c = l->data;
        if ((c->closing && now_ms >= c->close_deadline_ms) ||
            now_ms - c->last_recv_ms > 3 * ws->ping_ms) {
            teardown(c); /* a client that does not read gets no more time */
        } else if (now_ms - c->last_ping_ms >= ws->ping_ms) {
            c->last_ping_ms = now_ms;
            struct wslay_event_msg ping = {WSLAY_PING, (const uint8_t *)"ka", 2};
            wslay_event_queue_msg(c->ctx, &ping);
            mark_dirty(c);
        }
    }
    g_list_free(clients);
}

int events_ws_new(struct events *events, int64_t ping_ms, struct events_ws **ret)
{
    struct events_ws *ws = g_new0(struct events_ws, 1);
    ws->ping_ms = ping_ms;
    ws->events = events;
    ws->clients = g_hash_table_new(NULL, NULL);
    ws->dirty = g_ptr_array_new();
    uv_idle_init(events_loop(events), &ws->writer);
    ws->writer.data = ws;
    *ret = ws;
    return 0;
}

void events_ws_stop(struct events_ws *ws)
{
    if (!ws || ws->stopped)
        return;
    ws->stopped = true;
    GList *clients = g_hash_table_get_keys(ws->clients);
    for (GList *l = clients; l; l = l->next) {
        struct ws_client *c = l->data;
        /* Best effort "going away" before the socket closes. */
        wslay_event_queue_close(c->ctx, CLOSE_AWAY, (const uint8_t *)"server stopping", 15);
        wslay_event_send(c->ctx);
        flush_out(c);
        teardown(c);
    }
    g_list_free(clients);
    uv_idle_stop(&ws->writer);
    uv_close((uv_handle_t *)&ws->writer, NULL);
}

void events_ws_free(struct events_ws *ws)
{
    if (!ws)
        return;
    g_hash_table_destroy(ws->clients);
    g_ptr_array_free(ws->dirty, TRUE);
    g_free(ws);
}
