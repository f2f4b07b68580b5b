/*
 * events/internal.h - what the hub (events.c) shares with its transports
 * (events_ws.c, events_sse.c, events_redis.c).
 *
 * A message is one event's envelope, serialised once and shared by reference
 * between every queue it sits in.  A subscriber is a filter plus a bounded
 * queue of messages; its transport pulls from the queue when it can write
 * (events_sub_pop()) and hears through ops->ready that the queue is no longer
 * empty, and through ops->overflow that it fell too far behind (it must then
 * close, with a reason).
 */
#ifndef OVSCHED_EVENTS_INTERNAL_H
#define OVSCHED_EVENTS_INTERNAL_H

#include <glib.h>

#include "events/events.h"

struct events_msg {
    int refs;
    int64_t seq;
    enum events_type type;
    int64_t campaign_id;
    char *job_id; /* NULL: none; points into the same block */
    size_t len;
    char json[]; /* NUL-terminated envelope */
};

struct events_msg *events_msg_ref(struct events_msg *msg);
void events_msg_unref(struct events_msg *msg);

struct events_sub;

struct events_sub_ops {
    void (*ready)(void *owner);    /* the queue was empty and is not any more */
    void (*overflow)(void *owner); /* too far behind: close with a reason */
};

/* Why a subscription cannot start from its `since`. */
struct events_resync {
    int64_t since;
    int64_t oldest_seq; /* first seq still in the log (0: empty) */
    int64_t latest_seq;
};

/* Subscribe with FILTER (taken over, also on failure).  Returns 0, or -ERANGE
 * with *RESYNC filled when FILTER->since is older than the log or ahead of it. */
int events_sub_add(struct events *events, struct events_filter *filter,
                   const struct events_sub_ops *ops, void *owner, struct events_sub **ret_sub,
                   struct events_resync *resync);
/* The next message for SUB (a reference to unref), or NULL: nothing now. */
struct events_msg *events_sub_pop(struct events_sub *sub);
/* True when SUB has replayed the log up to where it joined the live stream
 * and has nothing queued (a `follow=false` stream ends there). */
bool events_sub_caught_up(const struct events_sub *sub);
/* Why SUB overflowed, for the close reason. */
const char *events_sub_overflow_reason(const struct events_sub *sub);
void events_sub_remove(struct events_sub *sub);

/* The resync answer as JSON text (g_free). */
char *events_resync_json(const struct events_resync *resync);

uv_loop_t *events_loop(struct events *events);
int64_t events_now_ms(void);

/* ---- transports ------------------------------------------------------------ */

struct events_ws;  /* every WebSocket client */
struct events_sse; /* every SSE client */
struct events_redis;

int events_ws_new(struct events *events, int64_t ping_ms, struct events_ws **ret);
/* Answer an upgrade request to /v1/events/ws. */
void events_ws_handle(struct events_ws *ws, const struct http_request *req,
                      struct http_response *resp, struct events_filter *filter);
/* Every min(1 s, ping interval): pings, dead clients, close deadlines. */
void events_ws_tick(struct events_ws *ws, int64_t now_ms);
void events_ws_stop(struct events_ws *ws);
void events_ws_free(struct events_ws *ws);

int events_sse_new(struct events *events, struct events_sse **ret);
/* FOLLOW false: end the stream once the replay after `since` is sent. */
void events_sse_handle(struct events_sse *sse, struct http_response *resp,
                       struct events_filter *filter, bool follow);
void events_sse_tick(struct events_sse *sse, int64_t now_ms);
void events_sse_free(struct events_sse *sse);

/* Publish to Redis, catching up from the log after a reconnect. */
int events_redis_new(struct events *events, struct store *store, const char *url,
                     const char *channel, int64_t last_seq, struct events_redis **ret, char *err,
                     size_t err_size);
void events_redis_publish(struct events_redis *redis, const struct events_msg *msg);
void events_redis_stop(struct events_redis *redis);
void events_redis_free(struct events_redis *redis);

void events_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
