/*
 * redis_link - one Redis connection kept up on the daemon's libuv loop.
 *
 * hiredis's asynchronous client through its libuv adapter, so Redis being
 * slow or away never blocks the loop.  The link connects, and when the
 * connection fails, drops or does not come up within a second (hiredis
 * 0.14's libuv adapter never reports a refused connect), it retries with a
 * delay doubling from 100 ms to 5 s.  Its owner hears `up` with the live
 * context (subscribe, or publish what is pending) and `down` when it is
 * lost; between the two, redis_link_context() is the context to send on.
 * Used by the event sink (src/events, PUBLISH) and by trigger_on ingestion
 * (src/patterns, SUBSCRIBE).
 */
#ifndef OVSCHED_REDIS_REDIS_LINK_H
#define OVSCHED_REDIS_REDIS_LINK_H

#include <hiredis/async.h>
#include <uv.h>

struct redis_link;

struct redis_link_ops {
    void (*up)(void *ctx, redisAsyncContext *ac); /* connected */
    void (*down)(void *ctx);                      /* lost; a reconnect is on its way */
};

/* Connect to URL (redis://HOST[:PORT][/DB]) on LOOP, and keep connecting.
 * LABEL names the link in log lines and errors (e.g. "--redis").  Returns 0,
 * or -EINVAL with a sentence in ERR for a URL that is not redis://...  */
int redis_link_new(uv_loop_t *loop, const char *url, const char *label,
                   const struct redis_link_ops *ops, void *ctx, struct redis_link **ret_link,
                   char *err, size_t err_size);

/* The connected context, or NULL while down. */
redisAsyncContext *redis_link_context(const struct redis_link *link);

/* Disconnect and stop retrying (calls `down` if it was up); before the loop
 * closes its handles.  Idempotent; LINK may be NULL. */
void redis_link_stop(struct redis_link *link);

/* Free it once the loop has run the close callbacks.  Accepts NULL. */
void redis_link_free(struct redis_link *link);

/* Parse redis://HOST[:PORT][/DB] (the db is irrelevant to pub/sub).
 * Returns 0 with a new *RET_HOST, or -EINVAL. */
int redis_link_parse_url(const char *url, char **ret_host, int *ret_port);

#endif
