/*
 * test_http_server - libmicrohttpd on the libuv loop, over real sockets on
 * 127.0.0.1: requests reach the handler complete, oversized bodies get 413,
 * and a silent client is dropped after the idle timeout.  The client runs in a
 * thread with blocking sockets; the loop runs in the test's thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http_server.h"
#include "test_util.h"

struct fixture {
    uv_loop_t loop;
    struct http_server *server;
    uv_async_t done;
    pthread_t client;
    void (*client_main)(struct fixture *);
    int port;
    GString *reply; /* what the client read */
    int requests;
    int64_t elapsed_ms; /* how long the client's exchange took */
};

static void handler(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct fixture *f = ctx;
    size_t len;
    const char *body = http_request_body(req, &len);
    f->requests++;
    resp->status = strcmp(http_request_method(req), "POST") == 0 ? 200 : 405;
    resp->body = g_strdup_printf(
        "{\"path\":\"%s\",\"len\":%zu,\"auth\":\"%s\"}", http_request_path(req), len,
        http_request_header(req, "authorization") ? http_request_header(req, "authorization") : "");
    resp->body_len = strlen(resp->body);
    (void)body;
}

static int connect_local(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send REQUEST and read until the server closes or 5 s pass. */
static void exchange(struct fixture *f, const char *request, size_t len)
{
    int fd = connect_local(f->port);
    if (fd < 0)
        return;
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        g_string_append_len(f->reply, buf, n);
    close(fd);
}

static void *client_thread(void *arg)
{
    struct fixture *f = arg;
    f->client_main(f);
    uv_async_send(&f->done);
    return NULL;
}

static void on_done(uv_async_t *async)
{
    struct fixture *f = async->data;
    http_server_close(f->server);
    uv_close((uv_handle_t *)&f->done, NULL);
}

static void run_with_client(struct fixture *f, const struct http_server_config *config,
                            void (*client_main)(struct fixture *))
{
    char err[256];
    memset(f, 0, sizeof(*f));
    f->reply = g_string_new(NULL);
    f->client_main = client_main;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(http_server_start(&f->loop, config, handler, f, &f->server, err, sizeof(err)),
                     0);
    f->port = http_server_port(f->server);
    assert_true(f->port > 0);
    uv_async_init(&f->loop, &f->done, on_done);
    f->done.data = f;
    pthread_create(&f->client, NULL, client_thread, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    pthread_join(f->client, NULL);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void client_post(struct fixture *f)
{
    const char *req = "POST /scheduler.v1.SchedulerService/GetJob HTTP/1.1\r\n"
                      "Host: x\r\nAuthorization: Bearer abc\r\nContent-Length: 11\r\n"
                      "Connection: close\r\n\r\n{\"a\":12345}";
    exchange(f, req, strlen(req));
}

static void test_request_reaches_handler(void **state)
{
    (void)state;
    struct fixture f;
    struct http_server_config config = {.host = "127.0.0.1"};
    run_with_client(&f, &config, client_post);
    assert_int_equal(f.requests, 1);
    assert_non_null(strstr(f.reply->str, "HTTP/1.1 200"));
    assert_non_null(strstr(f.reply->str, "application/json"));
    assert_non_null(strstr(
        f.reply->str,
        "{\"path\":\"/scheduler.v1.SchedulerService/GetJob\",\"len\":11,\"auth\":\"Bearer abc\"}"));
    g_string_free(f.reply, TRUE);
}

static void client_big(struct fixture *f)
{
    size_t body = 4096;
    GString *req = g_string_new(NULL);
    g_string_printf(req,
                    "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n"
                    "Connection: close\r\n\r\n",
                    body);
    for (size_t i = 0; i < body; i++)
        g_string_append_c(req, 'x');
    exchange(f, req->str, req->len);
    g_string_free(req, TRUE);
}

static void test_oversized_body_gets_413(void **state)
{
    (void)state;
    struct fixture f;
    struct http_server_config config = {.host = "127.0.0.1", .max_body = 1024};
    run_with_client(&f, &config, client_big);
    assert_int_equal(f.requests, 0); /* the handler never saw it */
    assert_non_null(strstr(f.reply->str, "HTTP/1.1 413"));
    assert_non_null(strstr(f.reply->str, "request body is larger than 1024 bytes"));
    g_string_free(f.reply, TRUE);
}

static void client_announces_huge_body(struct fixture *f)
{
    /* 1 GB announced, 10 bytes sent: the answer must not wait for the rest. */
    const char *req = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"
                      "0123456789";
    gint64 start = g_get_monotonic_time();
    exchange(f, req, strlen(req));
    f->elapsed_ms = (g_get_monotonic_time() - start) / 1000;
}

static void client_chunked_too_long(struct fixture *f)
{
    GString *req =
        g_string_new("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 8; i++) {
        g_string_append(req, "200\r\n"); /* 512 bytes a chunk */
        for (int j = 0; j < 512; j++)
            g_string_append_c(req, 'y');
        g_string_append(req, "\r\n");
    }
    g_string_append(req, "0\r\n\r\n");
    exchange(f, req->str, req->len);
    g_string_free(req, TRUE);
}

static void test_announced_huge_body_is_refused_at_once(void **state)
{
    (void)state;
    struct fixture f;
    struct http_server_config config = {.host = "127.0.0.1", .max_body = 1024};
    run_with_client(&f, &config, client_announces_huge_body);
    assert_non_null(strstr(f.reply->str, "HTTP/1.1 413"));
    /* No handler call, and the reply came long before the 5 s read timeout. */
    assert_int_equal(f.requests, 0);
    assert_true(f.elapsed_ms < 2000);
    g_string_free(f.reply, TRUE);

    run_with_client(&f, &config, client_chunked_too_long);
    assert_int_equal(f.requests, 0);
    assert_non_null(strstr(f.reply->str, "HTTP/1.1 413"));
    g_string_free(f.reply, TRUE);
}

static void client_silent(struct fixture *f)
{
    /* Half a request line, then nothing: the server must hang up. */
    gint64 start = g_get_monotonic_time();
    exchange(f, "POST /x HT", 10);
    f->requests = (int)((g_get_monotonic_time() - start) / 1000); /* ms until closed */
}

static void test_idle_client_is_dropped(void **state)
{
    (void)state;
    struct fixture f;
    struct http_server_config config = {.host = "127.0.0.1", .idle_timeout_s = 1};
    run_with_client(&f, &config, client_silent);
    /* Closed after about a second, well before the client's own 5 s limit. */
    assert_true(f.requests >= 900 && f.requests < 4000);
    g_string_free(f.reply, TRUE);
}

static void test_bad_address(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct http_server *server = NULL;
    char err[256];
    struct http_server_config config = {.host = "localhost.example"};
    uv_loop_init(&loop);
    assert_int_equal(http_server_start(&loop, &config, handler, NULL, &server, err, sizeof(err)),
                     -EINVAL);
    assert_null(server);
    assert_non_null(strstr(err, "is not an IPv4 address"));
    uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_reaches_handler),
        cmocka_unit_test(test_oversized_body_gets_413),
        cmocka_unit_test(test_announced_huge_body_is_refused_at_once),
        cmocka_unit_test(test_idle_client_is_dropped),
        cmocka_unit_test(test_bad_address),
    };
    return cmocka_run_group_tests_name("http_server", tests, NULL, NULL);
}
