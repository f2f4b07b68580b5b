/*
 * patterns_redis - `trigger_on` events arriving on a Redis pub/sub channel.
 *
 * `--redis-ingest redis://HOST[:PORT]` subscribes (hiredis's asynchronous
 * client on the daemon's loop, through its libuv adapter) to
 * `--redis-ingest-channel` (default "ovsched.ingest").  Each message is one
 * event in the SPEC section 6 envelope ({"type", "payload", "metadata"}); it
 * is handed to patterns_event_ingest() exactly as PublishEvent would, and a
 * message that is not such an object is dropped (counted in the log line of
 * the next valid one would be noise: it is simply ignored).  A lost
 * connection is retried with a doubling delay from 100 ms to 5 s; pub/sub
 * keeps nothing for absent subscribers, so events published meanwhile are
 * not seen (as with any Redis pub/sub consumer).  hiredis 0.14's libuv
 * adapter never reports a refused connect, hence the connect timeout.
 */
#include <errno.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "patterns/internal.h"

#define REDIS_BACKOFF_MIN_MS     100
#define REDIS_BACKOFF_MAX_MS     5000
#define REDIS_CONNECT_TIMEOUT_MS 1000
#define REDIS_DEFAULT_CHANNEL    "ovsched.ingest"

struct patterns_redis {
    struct patterns *p;
    char *host;
    int port;
    char *channel;
    redisAsyncContext *ac; /* NULL while disconnected */
    bool connected;
    bool stopped;
    int64_t backoff_ms;
    uv_timer_t retry; /* reconnect, or the connect timeout */
};

static void connect_now(struct patterns_redis *rd);

static void on_retry(uv_timer_t *timer)
{
    connect_now(timer->data);
}

static void retry_later(struct patterns_redis *rd)
{
    if (rd->stopped)
        return;
    uv_timer_start(&rd->retry, on_retry, (uint64_t)rd->backoff_ms, 0);
    rd->backoff_ms =
        rd->backoff_ms * 2 > REDIS_BACKOFF_MAX_MS ? REDIS_BACKOFF_MAX_MS : rd->backoff_ms * 2;
}

/* A message on the channel: ["message", channel, text]. */
static void on_message(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct patterns_redis *rd = privdata;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[2]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0)
        return;
    json_t *event = json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL);
    json_t *type = json_object_get(event, "type"), *payload = json_object_get(event, "payload");
    if (json_is_string(type) && (!payload || json_is_object(payload))) {
        json_t *meta = json_object_get(event, "metadata");
        if (!json_is_object(meta))
            json_object_set_new(event, "metadata", meta = json_object());
        if (!json_object_get(meta, "source"))
            json_object_set_new(meta, "source", json_string("redis"));
        patterns_event_ingest(rd->p, event);
        daemon_settle(rd->p->d); /* start what it triggers now */
    }
    json_decref(event);
}

static void on_connect_timeout(uv_timer_t *timer)
{
    struct patterns_redis *rd = timer->data;
    if (rd->connected || !rd->ac)
        return;
    redisAsyncContext *ac = rd->ac;
    rd->ac = NULL;
    redisAsyncFree(ac);
    retry_later(rd);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct patterns_redis *rd = ac->data;
    uv_timer_stop(&rd->retry);
    if (status != REDIS_OK) {
        rd->ac = NULL; /* hiredis frees it after this callback */
        retry_later(rd);
        return;
    }
    rd->connected = true;
    rd->backoff_ms = REDIS_BACKOFF_MIN_MS;
    redisAsyncCommand(rd->ac, on_message, rd, "SUBSCRIBE %s", rd->channel);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct patterns_redis *rd = ac->data;
    rd->ac = NULL;
    rd->connected = false;
    retry_later(rd);
}

static void connect_now(struct patterns_redis *rd)
{
    redisAsyncContext *ac = redisAsyncConnect(rd->host, rd->port);
    if (!ac || ac->err || redisLibuvAttach(ac, &rd->p->d->loop) != REDIS_OK) {
        if (ac)
            redisAsyncFree(ac);
        retry_later(rd);
        return;
    }
    ac->data = rd;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    rd->ac = ac;
    uv_timer_start(&rd->retry, on_connect_timeout, REDIS_CONNECT_TIMEOUT_MS, 0);
}

/* redis://host[:port][/db]. */
static int parse_url(const char *url, char **ret_host, int *ret_port)
{
    const char *at = g_str_has_prefix(url, "redis://") ? url + 8 : NULL;
    if (!at || !*at)
        return -EINVAL;
    const char *end = at + strcspn(at, "/");
    const char *colon = memchr(at, ':', (size_t)(end - at));
    long port = 6379;
    if (colon) {
        char *stop = NULL;
        port = strtol(colon + 1, &stop, 10);
        if (stop != end || port < 1 || port > 65535)
            return -EINVAL;
    }
    const char *host_end = colon ? colon : end;
    if (host_end == at)
        return -EINVAL;
    *ret_host = g_strndup(at, (size_t)(host_end - at));
    *ret_port = (int)port;
    return 0;
}

int patterns_redis_start(struct patterns *p, const char *url, const char *channel, char *err,
                         size_t err_size)
{
    char *host = NULL;
    int port = 0;
    if (parse_url(url, &host, &port) < 0) {
        snprintf(err, err_size, "--redis-ingest: '%s' is not redis://HOST[:PORT]", url);
        return -EINVAL;
    }
    struct patterns_redis *rd = g_new0(struct patterns_redis, 1);
    rd->p = p;
    rd->host = host;
    rd->port = port;
    rd->channel = g_strdup(channel && *channel ? channel : REDIS_DEFAULT_CHANNEL);
    rd->backoff_ms = REDIS_BACKOFF_MIN_MS;
    uv_timer_init(&p->d->loop, &rd->retry);
    rd->retry.data = rd;
    p->redis = rd;
    connect_now(rd);
    return 0;
}

void patterns_redis_stop(struct patterns *p)
{
    struct patterns_redis *rd = p->redis;
    if (!rd || rd->stopped)
        return;
    rd->stopped = true;
    uv_timer_stop(&rd->retry);
    if (rd->ac)
        redisAsyncFree(rd->ac); /* calls on_disconnect and closes its poll handle */
    rd->ac = NULL;
}

void patterns_redis_free(struct patterns *p)
{
    struct patterns_redis *rd = p->redis;
    if (!rd)
        return;
    g_free(rd->host);
    g_free(rd->channel);
    g_free(rd);
    p->redis = NULL;
}
