/*
 * http_server - HTTP/1.1 on the daemon's libuv loop, through libmicrohttpd.
 *
 * libmicrohttpd runs in external-epoll mode: it owns one epoll descriptor, the
 * loop polls that descriptor (uv_poll) and calls MHD_run() when it is
 * readable or when MHD's own timeout (idle connections) is due (uv_timer).  No
 * thread is started; every request is handled on the loop, so handlers may use
 * the scheduler and the store directly.
 *
 * A request reaches the handler once, complete: its body is buffered up to
 * max_body bytes (a larger one is answered 413 without calling the handler).
 */
#ifndef OVSCHED_API_HTTP_SERVER_H
#define OVSCHED_API_HTTP_SERVER_H

#include <stddef.h>
#include <uv.h>

struct http_server;
struct http_request;

struct http_response {
    int status; /* 200 unless set */
    char *body; /* malloc'd; the server frees it */
    size_t body_len;
    const char *content_type; /* static; default application/json */
};

/* Handle REQ: fill RESP.  Runs on the loop. */
typedef void (*http_handler)(void *ctx, const struct http_request *req, struct http_response *resp);

const char *http_request_method(const struct http_request *req);
const char *http_request_path(const struct http_request *req);
const char *http_request_body(const struct http_request *req, size_t *ret_len);
/* A request header by name (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* A query-string argument, or NULL. */
const char *http_request_query(const struct http_request *req, const char *name);

struct http_server_config {
    const char *host;         /* numeric IPv4 address, e.g. "127.0.0.1" */
    int port;                 /* 0: an ephemeral port (see http_server_port()) */
    size_t max_body;          /* bytes; default 1 MiB */
    unsigned max_connections; /* default 1024 */
    unsigned idle_timeout_s;  /* a connection silent this long is closed; default 30 */
    size_t header_memory;     /* per-connection memory for headers; default 32 KiB */
};

/* Listen and serve on LOOP.  Returns 0, or a negative errno with a sentence in
 * ERR.  *ret_server is written only on success. */
int http_server_start(uv_loop_t *loop, const struct http_server_config *config,
                      http_handler handler, void *ctx, struct http_server **ret_server, char *err,
                      size_t err_size);

/* The port actually bound. */
int http_server_port(const struct http_server *server);

/* Stop accepting, close every connection, release everything once the loop
 * has closed the server's handles.  SERVER may be NULL. */
void http_server_close(struct http_server *server);

#endif
