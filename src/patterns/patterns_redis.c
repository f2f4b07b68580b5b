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
 * not seen (as with any Redis pub/sub consumer).  The connection (retries
 * with backoff) is src/redis/redis_link.c's.
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
#include "redis/redis_link.h"

#define REDIS_DEFAULT_CHANNEL "ovsched.ingest"

struct patterns_redis {
    struct patterns *p;
    char *channel;
    struct redis_link *link;
};

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

static void on_up(void *ctx, redisAsyncContext *ac)
{
    struct patterns_redis *rd = ctx;
    redisAsyncCommand(ac, on_message, rd, "SUBSCRIBE %s", rd->channel);
}

int patterns_redis_start(struct patterns *p, const char *url, const char *channel, char *err,
                         size_t err_size)
{
    static const struct redis_link_ops ops = {on_up, NULL};
    char *host = NULL;
    int port;
    if (redis_link_parse_url(url, &host, &port) < 0) {
        snprintf(err, err_size, "--redis-ingest: '%s' is not redis://HOST[:PORT]", url);
        return -EINVAL;
    }
    g_free(host);
    struct patterns_redis *rd = g_new0(struct patterns_redis, 1);
    rd->p = p;
    rd->channel = g_strdup(channel && *channel ? channel : REDIS_DEFAULT_CHANNEL);
    p->redis = rd;
    return redis_link_new(&p->d->loop, url, "--redis-ingest", &ops, rd, &rd->link, err, err_size);
}

void patterns_redis_stop(struct patterns *p)
{
    if (p->redis)
        redis_link_stop(p->redis->link);
}

void patterns_redis_free(struct patterns *p)
{
    struct patterns_redis *rd = p->redis;
    if (!rd)
        return;
    redis_link_free(rd->link);
    g_free(rd->channel);
    g_free(rd);
    p->redis = NULL;
}
