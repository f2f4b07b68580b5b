/*
 * redis_link - connect, retry, report.  See redis_link.h.
 */
#include "redis/redis_link.h"

#include <errno.h>
#include <glib.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/log.h"

#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define CONNECT_TIMEOUT_MS 1000

struct redis_link {
    uv_loop_t *loop;
    char *host;
    int port;
    char *label;
    struct redis_link_ops ops;
    void *ctx;
    redisAsyncContext *ac; /* NULL while disconnected */
    bool connected;
    bool stopped;
    int64_t backoff_ms;
    uv_timer_t timer; /* the next retry, or the connect timeout */
};

static void connect_now(struct redis_link *l);

static void say(struct redis_link *l, const char *level, const char *what)
{
    log_write(level, g_get_real_time() / 1000,
              json_pack("{ss ss si}", "link", l->label, "host", l->host, "port", l->port),
              "redis %s:%d (%s): %s", l->host, l->port, l->label, what);
}

static void on_retry(uv_timer_t *timer)
{
    connect_now(timer->data);
}

static void retry_later(struct redis_link *l)
{
    if (l->stopped)
        return;
    uv_timer_start(&l->timer, on_retry, (uint64_t)l->backoff_ms, 0);
    l->backoff_ms = MIN(l->backoff_ms * 2, BACKOFF_MAX_MS);
}

static void on_connect_timeout(uv_timer_t *timer)
{
    struct redis_link *l = timer->data;
    if (l->connected || !l->ac)
        return;
    say(l, "warn", "no connection within a second; retrying");
    redisAsyncContext *ac = l->ac;
    l->ac = NULL;
    redisAsyncFree(ac);
    retry_later(l);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_link *l = ac->data;
    uv_timer_stop(&l->timer);
    if (status != REDIS_OK) {
        say(l, "warn", ac->errstr);
        l->ac = NULL; /* hiredis frees AC after this callback */
        retry_later(l);
        return;
    }
    say(l, "info", "connected");
    l->connected = true;
    l->backoff_ms = BACKOFF_MIN_MS;
    l->ops.up(l->ctx, l->ac);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_link *l = ac->data;
    bool was_up = l->connected;
    l->ac = NULL;
    l->connected = false;
    if (was_up && l->ops.down)
        l->ops.down(l->ctx);
    if (l->stopped)
        return;
    say(l, "warn", status == REDIS_OK ? "disconnected; reconnecting" : ac->errstr);
    retry_later(l);
}

static void connect_now(struct redis_link *l)
{
    redisAsyncContext *ac = redisAsyncConnect(l->host, l->port);
    if (!ac || ac->err) {
        say(l, "warn", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        retry_later(l);
        return;
    }
    ac->data = l;
    if (redisLibuvAttach(ac, l->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        retry_later(l);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    l->ac = ac;
    uv_timer_start(&l->timer, on_connect_timeout, CONNECT_TIMEOUT_MS, 0);
}

int redis_link_parse_url(const char *url, char **ret_host, int *ret_port)
{
    const char *p = g_str_has_prefix(url, "redis://") ? url + 8 : NULL;
    if (!p || !*p)
        return -EINVAL;
    const char *end = p + strcspn(p, "/");
    const char *colon = memchr(p, ':', (size_t)(end - p));
    long port = 6379;
    if (colon) {
        char *stop = NULL;
        port = strtol(colon + 1, &stop, 10);
        if (stop != end || port < 1 || port > 65535)
            return -EINVAL;
    }
    const char *host_end = colon ? colon : end;
    if (host_end == p)
        return -EINVAL;
    *ret_host = g_strndup(p, (size_t)(host_end - p));
    *ret_port = (int)port;
    return 0;
}

int redis_link_new(uv_loop_t *loop, const char *url, const char *label,
                   const struct redis_link_ops *ops, void *ctx, struct redis_link **ret_link,
                   char *err, size_t err_size)
{
    char *host = NULL;
    int port = 0;
    if (redis_link_parse_url(url, &host, &port) < 0) {
        snprintf(err, err_size, "%s: '%s' is not redis://HOST[:PORT]", label, url);
        return -EINVAL;
    }
    struct redis_link *l = g_new0(struct redis_link, 1);
    *l = (struct redis_link){.loop = loop,
                             .host = host,
                             .port = port,
                             .label = g_strdup(label),
                             .ops = *ops,
                             .ctx = ctx,
                             .backoff_ms = BACKOFF_MIN_MS};
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    *ret_link = l;
    connect_now(l);
    return 0;
}

redisAsyncContext *redis_link_context(const struct redis_link *link)
{
    return link && link->connected ? link->ac : NULL;
}

void redis_link_stop(struct redis_link *l)
{
    if (!l || l->stopped)
        return;
    l->stopped = true;
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, NULL);
    if (l->ac)
        redisAsyncFree(l->ac); /* calls on_disconnect, closes its poll handle */
    l->ac = NULL;
}

void redis_link_free(struct redis_link *l)
{
    if (!l)
        return;
    g_free(l->host);
    g_free(l->label);
    g_free(l);
}
