/*
 * events_redis - every event also goes to a Redis pub/sub channel.
 *
 * hiredis's asynchronous client on the daemon's loop (its libuv adapter), so
 * a slow or absent Redis never blocks the daemon.  The log is the source of
 * truth: `sent_seq` is the last event handed to Redis, and after a reconnect
 * the events appended meanwhile are read back from the log and published in
 * order, a chunk per loop turn (those pruned meanwhile are gone from Redis
 * too, never from the log).  The connection itself (retries with backoff)
 * is src/redis/redis_link.c's.
 *
 * Publishing is fire-and-forget (PUBLISH has no consumer acknowledgement);
 * events in hiredis's output buffer when the connection drops may be lost to
 * Redis subscribers, as with any pub/sub.  The output buffer is bounded by
 * pausing live publishing (and catching up from the log later) when more than
 * MAX_IN_FLIGHT publishes await their reply.
 */
#include <errno.h>
#include <glib.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/internal.h"
#include "redis/redis_link.h"

#define CATCH_UP_CHUNK 512
#define MAX_IN_FLIGHT  10000

struct events_redis {
    struct events *events;
    struct store *store;
    char *channel;
    struct redis_link *link;
    int64_t sent_seq; /* the last event handed to Redis */
    int in_flight;
    bool stopped;
    uv_idle_t catch_up;
};

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac, (void)reply;
    struct events_redis *rd = privdata;
    rd->in_flight--;
}

static void publish_text(struct events_redis *rd, int64_t seq, const char *json, size_t len)
{
    rd->in_flight++;
    redisAsyncCommand(redis_link_context(rd->link), on_reply, rd, "PUBLISH %s %b", rd->channel,
                      json, len);
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
    bool up = redis_link_context(rd->link) != NULL;
    if (!up || rd->sent_seq >= last || rd->in_flight > MAX_IN_FLIGHT) {
        if (!up || rd->sent_seq >= last)
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

static void on_up(void *ctx, redisAsyncContext *ac)
{
    (void)ac;
    struct events_redis *rd = ctx;
    uv_idle_start(&rd->catch_up, on_catch_up);
}

static void on_down(void *ctx)
{
    struct events_redis *rd = ctx;
    rd->in_flight = 0;
}

void events_redis_publish(struct events_redis *rd, const struct events_msg *msg)
{
    bool up = redis_link_context(rd->link) != NULL;
    if (!up || rd->sent_seq != msg->seq - 1 || rd->in_flight > MAX_IN_FLIGHT) {
        if (up)
            uv_idle_start(&rd->catch_up, on_catch_up);
        return; /* the log has it; the catch-up sends it */
    }
    publish_text(rd, msg->seq, msg->json, msg->len);
}

int events_redis_new(struct events *events, struct store *store, const char *url,
                     const char *channel, int64_t last_seq, struct events_redis **ret, char *err,
                     size_t err_size)
{
    static const struct redis_link_ops ops = {on_up, on_down};
    char *host = NULL;
    int port;
    if (redis_link_parse_url(url, &host, &port) < 0) { /* refused before anything exists */
        snprintf(err, err_size, "--redis: '%s' is not redis://HOST[:PORT]", url);
        return -EINVAL;
    }
    g_free(host);
    struct events_redis *rd = g_new0(struct events_redis, 1);
    rd->events = events;
    rd->store = store;
    rd->channel = g_strdup(channel);
    rd->sent_seq = last_seq; /* history before this start is not republished */
    uv_idle_init(events_loop(events), &rd->catch_up);
    rd->catch_up.data = rd;
    *ret = rd;
    return redis_link_new(events_loop(events), url, "--redis", &ops, rd, &rd->link, err, err_size);
}

void events_redis_stop(struct events_redis *rd)
{
    if (!rd || rd->stopped)
        return;
    rd->stopped = true;
    uv_idle_stop(&rd->catch_up);
    uv_close((uv_handle_t *)&rd->catch_up, NULL);
    redis_link_stop(rd->link);
}

void events_redis_free(struct events_redis *rd)
{
    if (!rd)
        return;
    redis_link_free(rd->link);
    g_free(rd->channel);
    g_free(rd);
}
