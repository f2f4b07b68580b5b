/*
 * events - every lifecycle change as an event (SPEC section 6): numbered,
 * kept in a bounded durable log, and delivered live over WebSocket
 * (/v1/events/ws), Server-Sent Events (/v1/events) and, when configured, Redis
 * pub/sub.
 *
 * An event is appended to the store's log when it is emitted (inside the
 * daemon's open batch, if any: then it commits with the change it describes),
 * and published to subscribers and Redis once the loop is back from the code
 * that emitted it, after checking the log really holds it.  So `seq` rises by
 * one per event with no gaps, across restarts, and nobody ever sees an event
 * the log lost.  A client that reconnects with `since=<seq>` gets everything
 * after it that is still in the log, then the live stream; one whose `since`
 * is older than the log (or ahead of it) gets a "resync" answer.
 *
 * Each subscriber has a bounded queue; a client that falls behind by more is
 * closed with a reason, never buffered without bound.
 *
 * Everything runs on the daemon's loop, one thread.
 */
#ifndef OVSCHED_EVENTS_EVENTS_H
#define OVSCHED_EVENTS_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api/http_server.h"
#include "store/store.h"

enum events_type {
    EVENTS_JOB_CREATED,
    EVENTS_JOB_UPDATED,
    EVENTS_JOB_DELETED,
    EVENTS_JOB_STARTED,
    EVENTS_JOB_COMPLETED,
    EVENTS_JOB_FAILED,
    EVENTS_JOB_RETRYING,
    EVENTS_JOB_SKIPPED,
    EVENTS_JOB_PAUSED,
    EVENTS_JOB_RESUMED,
    EVENTS_PATTERN_REGISTERED,
    EVENTS_JOBS_DIR_REJECTED, /* a reload of the watched job folder was refused */
    EVENTS_TYPE_COUNT,
};

/* "scheduler.job_created", ...; NULL out of range. */
const char *events_type_to_string(enum events_type type);
/* Accepts the full name or the short one ("job_created").  Returns 0 or -EINVAL. */
int events_type_from_string(const char *text, enum events_type *ret_type);

/* What a subscriber receives.  One struct, so the auth module can add a
 * tenant restriction (has_tenant/tenant_id) that no query parameter lifts. */
struct events_filter {
    int64_t since;  /* replay the events after this seq first; -1: live only */
    uint32_t types; /* bit (1 << enum events_type); 0: every type */
    char *job_id;   /* NULL: any job */
    bool has_campaign_id;
    int64_t campaign_id;
    bool has_tenant; /* set by auth: only this tenant's events */
    int64_t tenant_id;
};

/* Fill FILTER from the query arguments of a subscription: `since` (or, when it
 * is absent, LAST_EVENT_ID, the SSE header), `types` (comma list), `job_id`,
 * `campaign_id`; each may be NULL.  Returns 0, or -EINVAL with a sentence
 * naming the field in ERR. */
int events_filter_parse(struct events_filter *filter, const char *since, const char *last_event_id,
                        const char *types, const char *job_id, const char *campaign_id, char *err,
                        size_t err_size);
bool events_filter_match(const struct events_filter *filter, enum events_type type,
                         const char *job_id, int64_t campaign_id);
void events_filter_release(struct events_filter *filter);

struct events_config {
    int64_t max_events;        /* log bound by count; 0: EVENTS_DEFAULT_MAX */
    int64_t max_age_ms;        /* log bound by age; 0: EVENTS_DEFAULT_MAX_AGE_MS */
    unsigned client_queue;     /* events a subscriber may lag behind; 0: default */
    const char *redis_url;     /* "redis://host:port"; NULL: no Redis */
    const char *redis_channel; /* NULL: "ovsched.events" */
    int64_t ping_ms;           /* WebSocket ping interval; 0: 20 s.  Silent 3 intervals: dropped */
};

#define EVENTS_DEFAULT_MAX           100000
#define EVENTS_DEFAULT_MAX_AGE_MS    (INT64_C(7) * 24 * 3600 * 1000)
#define EVENTS_DEFAULT_CLIENT_QUEUE  4096
#define EVENTS_DEFAULT_PING_MS       20000
#define EVENTS_DEFAULT_REDIS_CHANNEL "ovsched.events"

/* Daemon flags (getopt_long values from EVENTS_OPT_FIRST): --events-max N,
 * --events-max-age DURATION, --redis URL, --redis-channel NAME,
 * --events-ping DURATION. */
#define EVENTS_OPT_FIRST 0x4500
/* clang-format off */
#define EVENTS_OPTIONS                                                    \
    {"events-max", required_argument, NULL, EVENTS_OPT_FIRST},            \
    {"events-max-age", required_argument, NULL, EVENTS_OPT_FIRST + 1},    \
    {"redis", required_argument, NULL, EVENTS_OPT_FIRST + 2},             \
    {"redis-channel", required_argument, NULL, EVENTS_OPT_FIRST + 3},     \
    {"events-ping", required_argument, NULL, EVENTS_OPT_FIRST + 4}
/* clang-format on */
#define EVENTS_USAGE                                                                               \
    "[--events-max N] [--events-max-age DURATION] [--events-ping DURATION] [--redis URL] "         \
    "[--redis-channel NAME]"

/* Apply the getopt_long value OPT with ARG to CONFIG.  Returns 0, or -EINVAL
 * (not one of ours, or a bad value: a sentence in ERR). */
int events_config_option(struct events_config *config, int opt, const char *arg, char *err,
                         size_t err_size);

struct events;

/* Start the event machinery on LOOP over STORE (borrowed, must outlive it):
 * reads the log's last seq, prunes it, connects to Redis if configured (in
 * the background).  Returns 0 or a negative errno with a sentence in ERR. */
int events_new(uv_loop_t *loop, struct store *store, const struct events_config *config,
               struct events **ret_events, char *err, size_t err_size);

/* Close every subscriber and the Redis connection; call before closing the
 * loop's handles.  Idempotent; EVENTS may be NULL. */
void events_stop(struct events *events);

/* Free what is left, after events_stop() and once the loop has run its close
 * callbacks.  Accepts NULL. */
void events_free(struct events *events);

/* Optional access check for subscriptions (set by the auth module): return 0
 * to allow (it may narrow FILTER, e.g. set a tenant), or -EACCES/-EPERM. */
typedef int events_authorize_fn(void *ctx, const struct http_request *req,
                                struct events_filter *filter);
void events_set_authorizer(struct events *events, events_authorize_fn *fn, void *ctx);

/* Optional: the tenant of a job, for run events, without asking the store.
 * Return false when the job is unknown (the store is asked then). */
typedef bool events_campaign_fn(void *ctx, const char *job_id, int64_t *ret_campaign_id);
void events_set_campaign_lookup(struct events *events, events_campaign_fn *fn, void *ctx);

/* ---- emission: one call per lifecycle change ------------------------------ */

/* The watched job folder refused a reload: FILE (may be "") and why; the
 * payload is {job_id: "", status: "REJECTED", file, error}. */
void events_jobs_dir_rejected(struct events *events, const char *file, const char *error);

/* A change of job JOB_ID (created, updated, deleted, paused, resumed). */
void events_job(struct events *events, enum events_type type, const char *job_id,
                int64_t campaign_id, const char *status);

/* A run of JOB_ID reached STATUS ("RUNNING" for a started attempt when STARTED,
 * else COMPLETED, FAILED, RETRYING, SKIPPED, ...; statuses that are no event,
 * such as PENDING, are ignored).  CORRELATION_ID may be NULL. */
void events_run(struct events *events, bool started, const char *job_id, const char *status,
                uint64_t run_id, int attempt, const char *correlation_id);

/* Pattern PATTERN_ID was registered at REVISION (its VERSION may be NULL):
 * a pattern_registered event, payload {pattern_id, version, revision}. */
void events_pattern(struct events *events, const char *pattern_id, const char *version,
                    int64_t revision);

/* The scheduler decided KIND ("skipped_forbid", "skipped_misfire", ...; see
 * sched_decision_kind_to_string()) for job JOB_ID's slot SLOT_MS: the kinds
 * that skip a slot are a job_skipped event without a run; others are ignored. */
void events_decision(struct events *events, const char *job_id, const char *kind, int64_t slot_ms);

/* ---- delivery -------------------------------------------------------------- */

/* Answer the event routes (GET /v1/events, GET /v1/events/ws).  Returns
 * false, leaving RESP alone, for other paths. */
bool events_http(struct events *events, const struct http_request *req, struct http_response *resp);

/* The last seq published (0: none yet). */
int64_t events_last_seq(const struct events *events);

#endif
