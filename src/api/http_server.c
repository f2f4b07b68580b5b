/*
 * http_server - libmicrohttpd driven by libuv.  See http_server.h.
 *
 * Per connection MHD calls the access handler several times: first with the
 * headers (we allocate the request), then with body chunks (appended to a
 * GString until max_body; past it the rest is discarded and the request is
 * marked too large), then once with no data left, when we answer.  The request
 * is freed by the completion callback, whatever happened to the connection.
 *
 * Accepting never stops for good.  MHD takes its listening socket out of its
 * epoll set when it reaches its connection limit (or accept() fails with
 * EMFILE), and puts it back only at the START of a later MHD_run(), before it
 * waits; the connections that free a slot are cleaned up at the END of a run.
 * With nothing else to wake the loop (no connection left, so no timeout), that
 * later run never came: the daemon stopped accepting until a restart, its
 * listen queue full (or until an idle timeout woke it, when a connection was
 * left).  So whenever a run closed connections, run_mhd() runs MHD once more
 * on the next loop iteration (kick()).
 *
 * The connection cap, and one client's share of it.  MHD's own limit is the
 * cap plus EVICT_HEADROOM; the cap itself is ours (enforce_cap()), applied
 * after each run of MHD, once the connections that ended in that run are gone
 * (MHD accepts before it reads, so deciding at accept time would count
 * connections already closed by their clients).  Over the cap, the oldest idle
 * connection of the client (IP address) holding the most connections beyond
 * its share is closed to make room; when no client is beyond its share, the
 * newest connection is refused (closed before it sent anything: the client
 * sees the server close, and may retry).  The share
 * is max(1, cap / CLIENT_SHARE_DIVISOR).  Idle means no request in progress: an
 * accepted connection that has not sent a complete request yet, or a
 * keep-alive between requests; streams (SSE) and upgraded WebSockets are
 * never idle.  Closing one is shutdown(2) of its socket: MHD sees the end of
 * the stream on its next run and closes it as if the client had.
 */
#include "api/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define DEFAULT_MAX_BODY        (1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_IDLE_TIMEOUT_S  30
#define DEFAULT_HEADER_MEMORY   (32 * 1024)
/* A client may hold cap / CLIENT_SHARE_DIVISOR connections (at least 1)
 * before its idle ones are closed for others at the cap. */
#define CLIENT_SHARE_DIVISOR 8
/* Connections closed for room but not yet gone that MHD still counts. */
#define EVICT_HEADROOM 16

struct http_server {
    uv_loop_t *loop;
    GHashTable *pending;  /* struct pending_upgrade *: 101 queued, socket not handed over yet */
    GHashTable *upgraded; /* struct http_upgraded *: sockets handed over */
    GHashTable *streams;  /* struct http_stream *: streamed responses */
    bool closing;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;
    uv_timer_t timer;
    int open_handles;
    http_handler handler;
    void *ctx;
    size_t max_body;
    int port;
    unsigned max_connections; /* the cap */
    unsigned share;           /* one client's share of it */
    unsigned live;            /* connections open and not being closed by us */
    unsigned evicting;        /* shut down by us, not yet closed by MHD */
    unsigned closed_in_run;   /* connections MHD closed during the current MHD_run() */
    GHashTable *clients;      /* IPv4 address -> struct http_client */
    GQueue fresh;             /* struct http_conn * accepted in the current run, in order */
};

/* One client (IP address) and its connections. */
struct http_client {
    uint32_t addr;
    unsigned count; /* its connections, idle or not, not being closed */
    unsigned refs;  /* struct http_conn pointing here, being closed or not */
    GQueue idle;    /* struct http_conn *, oldest first */
};

/* One connection, MHD's socket context. */
struct http_conn {
    struct http_client *client;
    struct MHD_Connection *conn;
    GList idle_link; /* in client->idle while idle */
    bool idle;
    bool long_lived; /* a stream or an upgraded socket: never idle again */
    bool evicted;
    GList fresh_link; /* in server->fresh while accepted in the current run */
    bool fresh;
};

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    GString *body;
    bool too_large;
};

struct pending_upgrade {
    struct http_server *server;
    const struct http_upgrade_ops *ops;
    void *ctx;
};

struct http_upgraded {
    struct http_server *server;
    struct MHD_UpgradeResponseHandle *urh;
    const struct http_upgrade_ops *ops;
    void *ctx;
};

struct http_stream {
    struct http_server *server;
    struct MHD_Connection *conn;
    const struct http_stream_ops *ops;
    void *ctx;
    bool suspended;
};

const char *http_request_method(const struct http_request *req)
{
    return req->method;
}

const char *http_request_path(const struct http_request *req)
{
    return req->path;
}

const char *http_request_body(const struct http_request *req, size_t *ret_len)
{
    *ret_len = req->body->len;
    return req->body->str;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_query(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void kick(struct http_server *server);
static void free_tables(struct http_server *server);

/* ---- connections and their clients --------------------------------------- */

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static void fresh_forget(struct http_server *server, struct http_conn *c)
{
    if (c->fresh)
        g_queue_unlink(&server->fresh, &c->fresh_link);
    c->fresh = false;
}

static void conn_set_idle(struct http_conn *c, bool idle)
{
    if (!c || c->evicted || c->idle == idle || (idle && c->long_lived))
        return;
    c->idle = idle;
    if (idle)
        g_queue_push_tail_link(&c->client->idle, &c->idle_link);
    else
        g_queue_unlink(&c->client->idle, &c->idle_link);
}

/* A stream or an upgraded socket: busy for as long as it lasts. */
static void conn_set_long_lived(struct MHD_Connection *conn)
{
    struct http_conn *c = conn_of(conn);
    if (!c)
        return;
    conn_set_idle(c, false);
    c->long_lived = true;
}

static uint32_t client_addr(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr_in *sin = info ? (const struct sockaddr_in *)info->client_addr : NULL;
    return sin && sin->sin_family == AF_INET ? sin->sin_addr.s_addr : 0;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *server = cls;
    struct http_conn *c = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        uint32_t addr = client_addr(conn);
        struct http_client *client = g_hash_table_lookup(server->clients, GUINT_TO_POINTER(addr));
        if (!client) {
            client = g_new0(struct http_client, 1);
            client->addr = addr;
            g_hash_table_insert(server->clients, GUINT_TO_POINTER(addr), client);
        }
        c = g_new0(struct http_conn, 1);
        *c = (struct http_conn){.client = client,
                                .conn = conn,
                                .idle_link = {.data = c},
                                .fresh_link = {.data = c},
                                .fresh = true};
        g_queue_push_tail_link(&server->fresh, &c->fresh_link);
        client->count++;
        client->refs++;
        server->live++;
        conn_set_idle(c, true);
        *socket_context = c;
        return;
    }
    if (!c)
        return;
    server->closed_in_run++;
    fresh_forget(server, c);
    if (c->evicted) {
        server->evicting--;
    } else {
        conn_set_idle(c, false);
        c->client->count--;
        server->live--;
    }
    /* An evicted connection no longer counts for its client but points to it. */
    if (--c->client->refs == 0)
        g_hash_table_remove(server->clients, GUINT_TO_POINTER(c->client->addr));
    g_free(c);
    *socket_context = NULL;
}

/* The client holding the most connections beyond its share that has an idle
 * one, or NULL. */
static struct http_client *heaviest_client(struct http_server *server)
{
    struct http_client *heaviest = NULL;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, server->clients);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        struct http_client *client = value;
        if (client->count > server->share && client->idle.length &&
            (!heaviest || client->count > heaviest->count))
            heaviest = client;
    }
    return heaviest;
}

/* Close idle connection C to make room. */
static void evict(struct http_server *server, struct http_conn *c)
{
    conn_set_idle(c, false);
    fresh_forget(server, c);
    c->client->count--;
    c->evicted = true;
    server->live--;
    server->evicting++;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info)
        shutdown(info->connect_fd, SHUT_RDWR);
}

/* Bring the connections open back to the cap after a run of MHD, once the
 * connections that ended in it are gone: the oldest idle connection of the
 * heaviest client beyond its share, else the newest connection accepted in
 * this run (refused: it has sent nothing yet).  Connections with a request in
 * progress, streams and WebSockets stay, above the cap if need be (MHD's own
 * limit, cap + EVICT_HEADROOM, then queues new ones in the listen backlog).
 * Returns how many it closed. */
static unsigned enforce_cap(struct http_server *server)
{
    unsigned closed = 0;
    while (server->live > server->max_connections) {
        struct http_client *heaviest = heaviest_client(server);
        struct http_conn *c =
            heaviest ? heaviest->idle.head->data : g_queue_peek_tail(&server->fresh);
        if (!c || !c->idle)
            break;
        evict(server, c);
        closed++;
    }
    return closed;
}

/* ---- upgrades ------------------------------------------------------------ */

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra,
                       size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn, (void)con_cls;
    struct pending_upgrade *pending = cls;
    struct http_server *server = pending->server;
    g_hash_table_remove(server->pending, pending);
    struct http_upgraded *up = g_new0(struct http_upgraded, 1);
    *up = (struct http_upgraded){server, urh, pending->ops, pending->ctx};
    g_free(pending);
    int flags = fcntl(sock, F_GETFL);
    fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    g_hash_table_add(server->upgraded, up);
    up->ops->upgraded(up->ctx, up, sock, extra, extra_len);
    if (server->closing)
        up->ops->shutdown(up->ctx);
}

void http_upgraded_close(struct http_upgraded *up)
{
    struct http_server *server = up->server;
    g_hash_table_remove(server->upgraded, up);
    MHD_upgrade_action(up->urh, MHD_UPGRADE_ACTION_CLOSE);
    g_free(up);
    if (!server->closing)
        kick(server); /* MHD finishes the connection on its next run */
}

static struct MHD_Response *upgrade_response(struct http_server *server, struct http_response *resp)
{
    struct pending_upgrade *pending = g_new(struct pending_upgrade, 1);
    *pending = (struct pending_upgrade){server, resp->upgrade, resp->ctx};
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, pending);
    if (!r) {
        resp->upgrade->abandon(resp->ctx);
        g_free(pending);
        return NULL;
    }
    g_hash_table_add(server->pending, pending);
    return r;
}

/* ---- streams ------------------------------------------------------------- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct http_stream *stream = cls;
    if (stream->server->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = stream->ops->read(stream->ctx, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n == 0) {
        /* Park the connection: MHD would otherwise poll the reader in a loop. */
        stream->suspended = true;
        MHD_suspend_connection(stream->conn);
    }
    return n;
}

static void stream_free(void *cls)
{
    struct http_stream *stream = cls;
    g_hash_table_remove(stream->server->streams, stream);
    stream->ops->closed(stream->ctx);
    g_free(stream);
}

void http_stream_wake(struct http_stream *stream)
{
    if (!stream->suspended)
        return;
    stream->suspended = false;
    MHD_resume_connection(stream->conn);
    kick(stream->server);
}

void http_stream_set_timeout(struct http_stream *stream, unsigned seconds)
{
    MHD_set_connection_option(stream->conn, MHD_CONNECTION_OPTION_TIMEOUT, seconds);
}

static struct MHD_Response *stream_response(struct http_server *server, struct MHD_Connection *conn,
                                            struct http_response *resp)
{
    struct http_stream *stream = g_new0(struct http_stream, 1);
    *stream = (struct http_stream){server, conn, resp->stream, resp->ctx, false};
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                               stream_read, stream, stream_free);
    if (!r) {
        resp->stream->closed(resp->ctx);
        g_free(stream);
        return NULL;
    }
    g_hash_table_add(server->streams, stream);
    conn_set_long_lived(conn);
    resp->stream->bind(resp->ctx, stream);
    /* A stream is quiet between events; its source sends keep-alives. */
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)0);
    return r;
}

static enum MHD_Result send_response(struct http_server *server, struct MHD_Connection *conn,
                                     struct http_response *resp)
{
    struct MHD_Response *r;
    if (resp->upgrade) {
        free(resp->body);
        r = upgrade_response(server, resp);
        conn_set_long_lived(conn);
    } else if (resp->stream) {
        free(resp->body);
        r = stream_response(server, conn, resp);
    } else {
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(resp->body);
    }
    if (!r) {
        g_strfreev(resp->headers);
        return MHD_NO;
    }
    if (!resp->upgrade)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, "Cache-Control",
                            resp->cache_control ? resp->cache_control : "no-store");
    for (char **h = resp->headers; h && h[0] && h[1]; h += 2)
        MHD_add_response_header(r, h[0], h[1]);
    g_strfreev(resp->headers);
    enum MHD_Result ok = MHD_queue_response(
        conn, resp->upgrade ? MHD_HTTP_SWITCHING_PROTOCOLS : (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ok;
}

static void json_error(struct http_response *resp, int status, const char *code,
                       const char *message)
{
    resp->status = status;
    resp->body = g_strdup_printf("{\"code\":\"%s\",\"message\":\"%s\"}", code, message);
    resp->body_len = strlen(resp->body);
}

static enum MHD_Result refuse_too_large(struct http_server *server, struct MHD_Connection *conn)
{
    struct http_response resp = {0};
    char message[96];
    snprintf(message, sizeof(message), "request body is larger than %zu bytes", server->max_body);
    json_error(&resp, 413, "payload_too_large", message);
    return send_response(server, conn, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *server = cls;
    struct http_request *req = *con_cls;
    if (!req) {
        conn_set_idle(conn_of(conn), false);
        req = g_new0(struct http_request, 1);
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->body = g_string_new(NULL);
        *con_cls = req;
        /* A body announced too large is refused before a byte of it is read. */
        const char *length =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && g_ascii_strtoull(length, NULL, 10) > server->max_body)
            return refuse_too_large(server, conn);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        /* A chunked body that grows too large is read to its end but not
         * kept (MHD 0.9.75 cannot answer in the middle of an upload), then
         * refused. */
        if (req->body->len + *upload_data_size > server->max_body)
            req->too_large = true;
        else
            g_string_append_len(req->body, upload_data, (gssize)*upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_large)
        return refuse_too_large(server, conn);
    struct http_response resp = {.status = 200};
    server->handler(server->ctx, req, &resp);
    return send_response(server, conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)why;
    struct http_request *req = *con_cls;
    if (!req)
        return;
    conn_set_idle(conn_of(conn), true); /* keep-alive: waiting for the next request */
    g_string_free(req->body, TRUE);
    g_free(req);
    *con_cls = NULL;
}

static void arm_timer(struct http_server *server);

/* Descriptors for CONNECTIONS plus what the rest of the daemon needs (the
 * store, jobs' pipes, Redis, ...).  The soft limit is often 1,024 while the
 * hard one is far higher: raise the soft one so the cap, not EMFILE, is
 * what limits connections.  Never lowers it; failure is harmless (accepting
 * then stops at EMFILE and resumes when a descriptor frees). */
#define FD_RESERVE 256
static void raise_fd_limit(unsigned connections)
{
    struct rlimit lim;
    rlim_t want = (rlim_t)connections + FD_RESERVE;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_cur >= want)
        return;
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= want ? want : lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
}

static void run_mhd(struct http_server *server)
{
    server->closed_in_run = 0;
    MHD_run(server->mhd);
    unsigned evicted = enforce_cap(server);
    while (server->fresh.head)
        fresh_forget(server, server->fresh.head->data);
    /* MHD re-adds its listening socket only at the start of a run: see the
     * top of this file. */
    if (server->closed_in_run || evicted)
        kick(server);
    else
        arm_timer(server);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    (void)status, (void)events;
    run_mhd(poll->data);
}

static void on_timer(uv_timer_t *timer)
{
    run_mhd(timer->data);
}

/* Run MHD on the next loop iteration, e.g. after a close. */
static void kick(struct http_server *server)
{
    uv_timer_start(&server->timer, on_timer, 0, 0);
}

/* MHD must run again within its timeout even when no descriptor is ready. */
static void arm_timer(struct http_server *server)
{
    MHD_UNSIGNED_LONG_LONG timeout_ms;
    if (MHD_get_timeout(server->mhd, &timeout_ms) == MHD_YES)
        uv_timer_start(&server->timer, on_timer, timeout_ms, 0);
    else
        uv_timer_stop(&server->timer);
}

int http_server_start(uv_loop_t *loop, const struct http_server_config *config,
                      http_handler handler, void *ctx, struct http_server **ret_server, char *err,
                      size_t err_size)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)config->port)};
    if (inet_pton(AF_INET, config->host ? config->host : "127.0.0.1", &addr.sin_addr) != 1) {
        snprintf(err, err_size, "listen address '%s' is not an IPv4 address", config->host);
        return -EINVAL;
    }
    struct http_server *server = g_new0(struct http_server, 1);
    server->loop = loop;
    server->handler = handler;
    server->ctx = ctx;
    server->max_body = config->max_body ? config->max_body : DEFAULT_MAX_BODY;
    server->pending = g_hash_table_new(NULL, NULL);
    server->upgraded = g_hash_table_new(NULL, NULL);
    server->streams = g_hash_table_new(NULL, NULL);
    server->clients = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    server->max_connections =
        config->max_connections ? config->max_connections : DEFAULT_MAX_CONNECTIONS;
    server->share = MAX(1, server->max_connections / CLIENT_SHARE_DIVISOR);
    raise_fd_limit(server->max_connections + EVICT_HEADROOM);
    server->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_UPGRADE | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request,
        server, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT,
        server->max_connections + EVICT_HEADROOM, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        server, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(config->idle_timeout_s ? config->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(config->header_memory ? config->header_memory : DEFAULT_HEADER_MEMORY),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_END);
    if (!server->mhd) {
        snprintf(err, err_size, "cannot listen on %s:%d (address in use?)",
                 config->host ? config->host : "127.0.0.1", config->port);
        free_tables(server);
        g_free(server);
        return -EADDRINUSE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(server->mhd, MHD_DAEMON_INFO_BIND_PORT);
    server->port = port ? port->port : config->port;
    uv_poll_init(loop, &server->poll, info->epoll_fd);
    uv_timer_init(loop, &server->timer);
    server->poll.data = server->timer.data = server;
    server->open_handles = 2;
    uv_poll_start(&server->poll, UV_READABLE, on_poll);
    arm_timer(server);
    *ret_server = server;
    return 0;
}

int http_server_port(const struct http_server *server)
{
    return server->port;
}

static void free_tables(struct http_server *server)
{
    g_hash_table_destroy(server->clients);
    g_hash_table_destroy(server->pending);
    g_hash_table_destroy(server->upgraded);
    g_hash_table_destroy(server->streams);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct http_server *server = handle->data;
    if (--server->open_handles == 0) {
        free_tables(server);
        g_free(server);
    }
}

/* MHD refuses to stop with parked or upgraded connections: end them first. */
static void end_long_connections(struct http_server *server)
{
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, server->streams);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        struct http_stream *stream = key;
        if (stream->suspended) {
            stream->suspended = false;
            MHD_resume_connection(stream->conn);
        }
    }
    GList *ups = g_hash_table_get_keys(server->upgraded);
    for (GList *l = ups; l; l = l->next) {
        struct http_upgraded *up = l->data;
        up->ops->shutdown(up->ctx); /* calls http_upgraded_close() */
    }
    g_list_free(ups);
    MHD_run(server->mhd);
    g_hash_table_iter_init(&it, server->pending);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        struct pending_upgrade *pending = key;
        pending->ops->abandon(pending->ctx);
        g_free(pending);
        g_hash_table_iter_remove(&it);
    }
}

void http_server_close(struct http_server *server)
{
    if (!server)
        return;
    uv_poll_stop(&server->poll);
    server->closing = true;
    end_long_connections(server);
    MHD_stop_daemon(server->mhd);
    server->mhd = NULL;
    uv_close((uv_handle_t *)&server->poll, on_handle_closed);
    uv_close((uv_handle_t *)&server->timer, on_handle_closed);
}
