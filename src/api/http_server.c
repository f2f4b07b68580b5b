/*
 * http_server - libmicrohttpd driven by libuv.  See http_server.h.
 *
 * Per connection MHD calls the access handler several times: first with the
 * headers (we allocate the request), then with body chunks (appended to a
 * GString until max_body; past it the rest is discarded and the request is
 * marked too large), then once with no data left, when we answer.  The request
 * is freed by the completion callback, whatever happened to the connection.
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

#define DEFAULT_MAX_BODY        (1024 * 1024)
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_IDLE_TIMEOUT_S  30
#define DEFAULT_HEADER_MEMORY   (32 * 1024)

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
    (void)cls, (void)conn, (void)why;
    struct http_request *req = *con_cls;
    if (!req)
        return;
    g_string_free(req->body, TRUE);
    g_free(req);
    *con_cls = NULL;
}

static void arm_timer(struct http_server *server);

static void run_mhd(struct http_server *server)
{
    MHD_run(server->mhd);
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
    server->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_UPGRADE | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request,
        server, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(config->max_connections ? config->max_connections : DEFAULT_MAX_CONNECTIONS),
        MHD_OPTION_CONNECTION_TIMEOUT,
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
