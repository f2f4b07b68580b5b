/*
 * events_redis - every event also goes to a Redis pub/sub channel.
 *
 * hiredis's asynchronous client on the daemon's loop (its libuv adapter), so
 * a slow or absent Redis never blocks the daemon.  The log is the source of
 * truth: `sent_seq` is the last event handed to Redis, and after a reconnect
 * the events appended meanwhile are read back from the log and published in
 * order, a chunk per loop turn (those pruned meanwhile are gone from Redis
 * too, never from the log).  While disconnected, a timer retries with
 * exponential backoff from BACKOFF_MIN_MS to BACKOFF_MAX_MS.
 *
 * Publishing is fire-and-forget (PUBLISH has no consumer acknowledgement);
 * events in hiredis's output buffer when the connection drops may be lost to
 * Redis subscribers, as with any pub/sub.  The output buffer is bounded by
 * pausing live publishing (and catching up from the log later) when more than
 * MAX_IN_FLIGHT publishes await their reply.
 */
#include <errno.h>
#include <glib.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/internal.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define CATCH_UP_CHUNK 512
#define MAX_IN_FLIGHT  10000
/* hiredis 0.14's libuv adapter ignores a poll error, so a refused connect
 * is never reported: give up on a connect that takes longer than this. */
#define CONNECT_TIMEOUT_MS 1000

struct events_redis {
    struct events *events;
    struct store *store;
    char *host;
    int port;
    char *channel;
    redisAsyncContext *ac; /* NULL while disconnected */
    bool connected;
    bool stopped;
    int64_t sent_seq; /* the last event handed to Redis */
    int64_t backoff_ms;
    int in_flight;
    uv_timer_t retry;
    uv_idle_t catch_up;
};

static void connect_now(struct events_redis *rd);

static void on_retry(uv_timer_t *timer)
{
    connect_now(timer->data);
}

static void schedule_retry(struct events_redis *rd)
{
    if (rd->stopped)
        return;
    uv_timer_start(&rd->retry, on_retry, (uint64_t)rd->backoff_ms, 0);
    rd->backoff_ms = MIN(rd->backoff_ms * 2, BACKOFF_MAX_MS);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac, (void)reply;
    struct events_redis *rd = privdata;
    rd->in_flight--;
}

static void publish_text(struct events_redis *rd, int64_t seq, const char *json, size_t len)
{
    rd->in_flight++;
    redisAsyncCommand(rd->ac, on_reply, rd, "PUBLISH %s %b", rd->channel, json, len);
    rd->sent_seq = seq;
}

static int catch_up_row(const struct store_event *e, void *userdata)
{
    publish_text(userdata, e->seq, e->json, e->json_len);
    return 0;
}

/* Publish, from the log, what was appended while Redis was away or busy. */
static void on_catch_up(uv_idle_t *idle)
{
    struct events_redis *rd = idle->data;
    int64_t last = events_last_seq(rd->events);
    if (!rd->connected || rd->sent_seq >= last || rd->in_flight > MAX_IN_FLIGHT) {
        if (!rd->connected || rd->sent_seq >= last)
            uv_idle_stop(idle);
        return;
    }
    int64_t lo, hi;
    if (store_event_bounds(rd->store, &lo, &hi, NULL) == 0 && lo > rd->sent_seq + 1)
        rd->sent_seq = lo - 1; /* pruned meanwhile */
    if (store_event_foreach(rd->store, rd->sent_seq, last, CATCH_UP_CHUNK, catch_up_row, rd, NULL) <
        0)
        uv_idle_stop(idle);
}

static void on_connect_timeout(uv_timer_t *timer)
{
    struct events_redis *rd = timer->data;
    if (rd->connected || !rd->ac)
        return;
    events_log("warn", "redis %s:%d: no connection after %d ms; retrying in %lld ms", rd->host,
               rd->port, CONNECT_TIMEOUT_MS, (long long)rd->backoff_ms);
    redisAsyncContext *ac = rd->ac;
    rd->ac = NULL;
    redisAsyncFree(ac);
    schedule_retry(rd);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct events_redis *rd = ac->data;
    uv_timer_stop(&rd->retry);
    if (status != REDIS_OK) {
        /* hiredis frees AC after this callback. */
        events_log("warn", "redis %s:%d: %s; retrying in %lld ms", rd->host, rd->port, ac->errstr,
                   (long long)rd->backoff_ms);
        rd->ac = NULL;
        schedule_retry(rd);
        return;
    }
    events_log("info", "redis %s:%d connected; publishing to %s", rd->host, rd->port, rd->channel);
    rd->connected = true;
    rd->backoff_ms = BACKOFF_MIN_MS;
    uv_idle_start(&rd->catch_up, on_catch_up);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct events_redis *rd = ac->data;
    rd->ac = NULL;
    rd->connected = false;
    rd->in_flight = 0;
    if (rd->stopped)
        return;
    events_log("warn", "redis %s:%d disconnected (%s); reconnecting", rd->host, rd->port,
               status == REDIS_OK ? "closed" : ac->errstr);
    schedule_retry(rd);
}

static void connect_now(struct events_redis *rd)
{
    redisAsyncContext *ac = redisAsyncConnect(rd->host, rd->port);
    if (!ac || ac->err) {
        events_log("warn", "redis %s:%d: %s", rd->host, rd->port, ac ? ac->errstr : "no memory");
        if (ac)
            redisAsyncFree(ac);
        schedule_retry(rd);
        return;
    }
    ac->data = rd;
    if (redisLibuvAttach(ac, events_loop(rd->events)) != REDIS_OK) {
        redisAsyncFree(ac);
        schedule_retry(rd);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    rd->ac = ac;
    uv_timer_start(&rd->retry, on_connect_timeout, CONNECT_TIMEOUT_MS, 0);
}

void events_redis_publish(struct events_redis *rd, const struct events_msg *msg)
{
    if (!rd->connected || rd->sent_seq != msg->seq - 1 || rd->in_flight > MAX_IN_FLIGHT) {
        if (rd->connected)
            uv_idle_start(&rd->catch_up, on_catch_up);
        return; /* the log has it; the catch-up sends it */
    }
    publish_text(rd, msg->seq, msg->json, msg->len);
}

/* redis://host[:port][/db] (the db is irrelevant to pub/sub). */
static int parse_url(const char *url, char **ret_host, int *ret_port)
{
    const char *p = g_str_has_prefix(url, "redis://") ? url + 8 : NULL;
    if (!p || !*p)
        return -EINVAL;
    const char *end = p + strcspn(p, "/");
    const char *colon = memchr(p, ':', (size_t)(end - p));
    int port = 6379;
    if (colon) {
        char *stop = NULL;
        long v = strtol(colon + 1, &stop, 10);
        if (stop != end || v < 1 || v > 65535)
            return -EINVAL;
        port = (int)v;
    }
    const char *host_end = colon ? colon : end;
    if (host_end == p)
        return -EINVAL;
    *ret_host = g_strndup(p, (size_t)(host_end - p));
    *ret_port = port;
    return 0;
}

int events_redis_new(struct events *events, struct store *store, const char *url,
                     const char *channel, int64_t last_seq, struct events_redis **ret, char *err,
                     size_t err_size)
{
    char *host = NULL;
    int port = 0;
    if (parse_url(url, &host, &port) < 0) {
        snprintf(err, err_size, "--redis: '%s' is not redis://HOST[:PORT]", url);
        return -EINVAL;
    }
    struct events_redis *rd = g_new0(struct events_redis, 1);
    rd->events = events;
    rd->store = store;
    rd->host = host;
    rd->port = port;
    rd->channel = g_strdup(channel);
    rd->sent_seq = last_seq; /* history before this start is not republished */
    rd->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_init(events_loop(events), &rd->retry);
    uv_idle_init(events_loop(events), &rd->catch_up);
    rd->retry.data = rd->catch_up.data = rd;
    *ret = rd;
    connect_now(rd);
    return 0;
}

void events_redis_stop(struct events_redis *rd)
{
    if (!rd || rd->stopped)
        return;
    rd->stopped = true;
    uv_timer_stop(&rd->retry);
    uv_idle_stop(&rd->catch_up);
    uv_close((uv_handle_t *)&rd->retry, NULL);
    uv_close((uv_handle_t *)&rd->catch_up, NULL);
    if (rd->ac)
        redisAsyncFree(rd->ac); /* calls on_disconnect, closes its poll handle */
    rd->ac = NULL;
}

void events_redis_free(struct events_redis *rd)
{
    if (!rd)
        return;
    g_free(rd->host);
    g_free(rd->channel);
    g_free(rd);
}
