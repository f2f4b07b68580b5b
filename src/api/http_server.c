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

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *resp)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(resp->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)resp->status, r);
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
    return send_response(conn, &resp);
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
    return send_response(conn, &resp);
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
    server->mhd = MHD_start_daemon(
        MHD_USE_EPOLL, 0, NULL, NULL, on_request, server, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(config->max_connections ? config->max_connections : DEFAULT_MAX_CONNECTIONS),
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(config->idle_timeout_s ? config->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(config->header_memory ? config->header_memory : DEFAULT_HEADER_MEMORY),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_END);
    if (!server->mhd) {
        snprintf(err, err_size, "cannot listen on %s:%d (address in use?)",
                 config->host ? config->host : "127.0.0.1", config->port);
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

static void on_handle_closed(uv_handle_t *handle)
{
    struct http_server *server = handle->data;
    if (--server->open_handles == 0)
        g_free(server);
}

void http_server_close(struct http_server *server)
{
    if (!server)
        return;
    uv_poll_stop(&server->poll);
    MHD_stop_daemon(server->mhd);
    server->mhd = NULL;
    uv_close((uv_handle_t *)&server->poll, on_handle_closed);
    uv_close((uv_handle_t *)&server->timer, on_handle_closed);
}
