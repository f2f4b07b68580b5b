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
#include <sys/types.h>
#include <uv.h>

struct http_server;
struct http_request;
struct http_upgraded; /* a connection handed over after a 101 answer */
struct http_stream;   /* a response whose body is written over time */

/* A protocol upgrade (WebSocket): the handler answers 101 with its headers,
 * the server sends that answer, then hands the socket over. */
struct http_upgrade_ops {
    /* The 101 went out.  FD (non-blocking) is the caller's until it calls
     * http_upgraded_close(UP); EXTRA holds bytes the client sent after its
     * request. */
    void (*upgraded)(void *ctx, struct http_upgraded *up, int fd, const char *extra,
                     size_t extra_len);
    /* The upgrade will never happen (client gone, server closing): free CTX. */
    void (*abandon)(void *ctx);
    /* The server is closing: call http_upgraded_close() before returning. */
    void (*shutdown)(void *ctx);
};

/* A streamed body (Server-Sent Events).  The connection is parked while the
 * source has nothing to say, so an idle stream costs no CPU. */
struct http_stream_ops {
    /* The server's handle, before any read; valid until closed(). */
    void (*bind)(void *ctx, struct http_stream *stream);
    /* Copy up to MAX bytes into BUF.  Returns the count; 0: nothing now (the
     * connection waits for http_stream_wake()); -1: end the response. */
    ssize_t (*read)(void *ctx, char *buf, size_t max);
    /* The connection is over: forget the handle, free CTX. */
    void (*closed)(void *ctx);
};

struct http_response {
    int status; /* 200 unless set */
    char *body; /* malloc'd; the server frees it */
    size_t body_len;
    const char *content_type;  /* static; default application/json */
    const char *cache_control; /* static; default no-store */
    char **headers; /* NULL or NULL-terminated name, value, ...; g_strfreev'd by the server */
    const struct http_upgrade_ops *upgrade; /* with status 101: switch protocols */
    const struct http_stream_ops *stream;   /* a streamed body instead of BODY */
    void *ctx;                              /* for UPGRADE or STREAM */
};

/* Close an upgraded connection (its socket too).  UP is freed. */
void http_upgraded_close(struct http_upgraded *up);

/* The stream's source has something to say: read it again soon. */
void http_stream_wake(struct http_stream *stream);

/* Close the stream's connection if it makes no progress for SECONDS (a client
 * that stopped reading).  Streams start with no such timeout. */
void http_stream_set_timeout(struct http_stream *stream, unsigned seconds);

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
