/*
 * events - the hub: numbering, the durable log, subscribers.  See events.h.
 *
 * Emission appends the envelope to the store at once (so it shares the
 * daemon's open batch, and commits with the change it describes) under the
 * seq after the log's own last one, read in the same transaction: a batch
 * that is rolled back takes its events with it and the next event reuses the
 * number, so the log never has a gap.  The message waits in `pending`; a
 * zero-delay timer publishes `pending` once the emitting code has returned to
 * the loop, after reading back the range of seqs it covers: a message the log
 * does not hold as it was sent (rolled back, its seq reused) is dropped.
 *
 * Subscribers sit in one array; publishing walks it once per event and queues
 * a reference to the shared message for each match.  A subscriber that asked
 * for `since` first catches up from the log, a chunk at a time as its
 * transport drains its queue, and joins the live stream when it reaches the
 * last published seq (live events are not queued while it catches up: the
 * log has them).  A queue longer than the configured bound overflows: the
 * transport closes the client with a reason.
 */
#include "events/events.h"
#include "ops/metrics.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/quote.h"
#include "base/timefmt.h"
#include "events/internal.h"

#define REPLAY_CHUNK    256
#define PRUNE_PERIOD_MS 10000
#define TICK_MS         1000

static const char *const type_names[EVENTS_TYPE_COUNT] = {
    [EVENTS_JOB_CREATED] = "scheduler.job_created",
    [EVENTS_JOB_UPDATED] = "scheduler.job_updated",
    [EVENTS_JOB_DELETED] = "scheduler.job_deleted",
    [EVENTS_JOB_STARTED] = "scheduler.job_started",
    [EVENTS_JOB_COMPLETED] = "scheduler.job_completed",
    [EVENTS_JOB_FAILED] = "scheduler.job_failed",
    [EVENTS_JOB_RETRYING] = "scheduler.job_retrying",
    [EVENTS_JOB_SKIPPED] = "scheduler.job_skipped",
    [EVENTS_JOB_PAUSED] = "scheduler.job_paused",
    [EVENTS_JOB_RESUMED] = "scheduler.job_resumed",
    [EVENTS_PATTERN_REGISTERED] = "scheduler.pattern_registered",
    [EVENTS_JOBS_DIR_REJECTED] = "scheduler.jobs_dir_rejected",
};

#define TYPE_PREFIX "scheduler."

struct events_sub {
    struct events *events;
    struct events_filter filter;
    const struct events_sub_ops *ops;
    void *owner;
    int64_t last_seq; /* the highest seq queued or skipped */
    bool replaying;   /* catching up from the log */
    bool overflowed;
    bool removed;
    GQueue queue; /* struct events_msg * */
    char reason[160];
};

struct events {
    uv_loop_t *loop;
    struct store *store;
    struct events_config config;
    int64_t next_seq;
    int64_t published_seq;
    int64_t oldest_seq; /* as of the last prune */
    GPtrArray *pending; /* struct events_msg *: appended, not yet published */
    GPtrArray *subs;    /* struct events_sub * */
    bool broadcasting;  /* removals are deferred while the array is walked */
    bool stopped;
    uv_timer_t flush_timer, tick_timer;
    int64_t last_prune_ms;
    int64_t appended_since_prune;
    GHashTable *campaigns;           /* job id -> campaign id (gint64 *), for run events */
    events_campaign_fn *campaign_fn; /* the daemon's lookup, tried first */
    void *campaign_ctx;
    events_authorize_fn *authorize;
    void *authorize_ctx;
    struct events_ws *ws;
    struct events_sse *sse;
    struct events_redis *redis;
    char *redis_url, *redis_channel;
};

/* ---- names, filters, options ------------------------------------------------ */

const char *events_type_to_string(enum events_type type)
{
    return (unsigned)type < EVENTS_TYPE_COUNT ? type_names[type] : NULL;
}

int events_type_from_string(const char *text, enum events_type *ret_type)
{
    for (int i = 0; i < EVENTS_TYPE_COUNT; i++) {
        if (strcmp(text, type_names[i]) == 0 ||
            strcmp(text, type_names[i] + strlen(TYPE_PREFIX)) == 0) {
            *ret_type = (enum events_type)i;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_int64(const char *text, int64_t min, int64_t *ret)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < min)
        return -EINVAL;
    *ret = v;
    return 0;
}

int events_filter_parse(struct events_filter *filter, const char *since, const char *last_event_id,
                        const char *types, const char *job_id, const char *campaign_id, char *err,
                        size_t err_size)
{
    *filter = (struct events_filter){.since = -1};
    const char *from = since ? since : last_event_id;
    if (from && parse_int64(from, 0, &filter->since) < 0) {
        snprintf(err, err_size, "%s: must be a sequence number (an integer >= 0)",
                 since ? "since" : "Last-Event-ID");
        return -EINVAL;
    }
    if (types && *types) {
        char **names = g_strsplit(types, ",", -1);
        for (char **name = names; *name; name++) {
            enum events_type type;
            char *trimmed = g_strstrip(*name);
            if (events_type_from_string(trimmed, &type) < 0) {
                char quoted[QUOTE_SIZE];
                snprintf(err, err_size, "types: unknown event type '%s'",
                         quote_clip(trimmed, strlen(trimmed), quoted, sizeof(quoted)));
                g_strfreev(names);
                return -EINVAL;
            }
            filter->types |= 1u << type;
        }
        g_strfreev(names);
    }
    if (campaign_id) {
        if (parse_int64(campaign_id, INT64_MIN, &filter->campaign_id) < 0) {
            snprintf(err, err_size, "campaign_id: must be an integer");
            return -EINVAL;
        }
        filter->has_campaign_id = true;
    }
    if (job_id && *job_id)
        filter->job_id = g_strdup(job_id);
    return 0;
}

bool events_filter_match(const struct events_filter *filter, enum events_type type,
                         const char *job_id, int64_t campaign_id)
{
    if (filter->types && !(filter->types & (1u << type)))
        return false;
    if (filter->has_tenant && campaign_id != filter->tenant_id)
        return false;
    if (filter->has_campaign_id && campaign_id != filter->campaign_id)
        return false;
    return !filter->job_id || (job_id && strcmp(filter->job_id, job_id) == 0);
}

void events_filter_release(struct events_filter *filter)
{
    if (!filter)
        return;
    g_free(filter->job_id);
    filter->job_id = NULL;
}

int events_config_option(struct events_config *config, int opt, const char *arg, char *err,
                         size_t err_size)
{
    const char *reason = NULL;
    switch (opt - EVENTS_OPT_FIRST) {
    case 0:
        if (parse_int64(arg, 1, &config->max_events) == 0)
            return 0;
        snprintf(err, err_size, "--events-max: must be an integer >= 1");
        return -EINVAL;
    case 1:
        if (timefmt_duration_parse(arg, strlen(arg), &config->max_age_ms, &reason) == 0 &&
            config->max_age_ms > 0)
            return 0;
        snprintf(err, err_size, "--events-max-age: %s", reason ? reason : "must be positive");
        return -EINVAL;
    case 2:
        config->redis_url = arg;
        return 0;
    case 3:
        config->redis_channel = arg;
        return 0;
    case 4:
        if (timefmt_duration_parse(arg, strlen(arg), &config->ping_ms, &reason) == 0 &&
            config->ping_ms >= 10)
            return 0;
        snprintf(err, err_size, "--events-ping: %s", reason ? reason : "must be at least 10ms");
        return -EINVAL;
    default:
        return -EINVAL;
    }
}

/* ---- messages and envelopes ---------------------------------------------- */

static struct events_msg *msg_new(int64_t seq, enum events_type type, const char *job_id,
                                  int64_t campaign_id, const char *json, size_t len)
{
    size_t id_len = job_id ? strlen(job_id) + 1 : 0;
    struct events_msg *msg = g_malloc(sizeof(*msg) + len + 1 + id_len);
    *msg = (struct events_msg){.refs = 1, .seq = seq, .type = type, .campaign_id = campaign_id};
    msg->len = len;
    memcpy(msg->json, json, len);
    msg->json[len] = '\0';
    if (job_id) {
        msg->job_id = msg->json + len + 1;
        memcpy(msg->job_id, job_id, id_len);
    }
    return msg;
}

struct events_msg *events_msg_ref(struct events_msg *msg)
{
    msg->refs++;
    return msg;
}

void events_msg_unref(struct events_msg *msg)
{
    if (msg && --msg->refs == 0)
        g_free(msg);
}

int64_t events_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A UUIDv7 (RFC 9562): 48 bits of Unix ms, then random bits; sortable by time. */
static void uuid_v7(int64_t at_ms, char out[37])
{
    uint8_t b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)((uint64_t)at_ms >> (40 - 8 * i));
    for (int i = 6; i < 16; i += 4) {
        guint32 r = g_random_int();
        memcpy(b + i, &r, i + 4 <= 16 ? 4 : 16 - i);
    }
    b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* RFC 3339 UTC with milliseconds: 2026-11-26T09:00:00.412Z. */
static void timestamp_ms(int64_t at_ms, char out[32])
{
    char text[TIMEFMT_RFC3339_SIZE];
    timefmt_rfc3339_format(at_ms / 1000, text);
    size_t n = strlen(text);
    if (n > 0 && text[n - 1] == 'Z')
        text[n - 1] = '\0';
    unsigned ms = (unsigned)(((at_ms % 1000) + 1000) % 1000);
    snprintf(out, 32, "%.24s.%03uZ", text, ms % 1000u);
}

struct change {
    enum events_type type;
    const char *job_id;
    const char *status;
    int64_t campaign_id;
    uint64_t run_id; /* 0: a job event */
    int attempt;
    const char *correlation_id; /* NULL: the event's own id */
    const char *reason;         /* a skipped slot: why */
    int64_t slot_ms;            /* a skipped slot: when it was due */
    const char *pattern_id;     /* pattern_registered: the pattern, else NULL */
    int64_t revision;           /* pattern_registered: its revision */
    const char *file;           /* a refused job folder reload: the file and ... */
    const char *error;          /* ... why */
};

static char *envelope(const struct change *c, int64_t seq, int64_t at_ms)
{
    char event_id[37], ts[32];
    uuid_v7(at_ms, event_id);
    timestamp_ms(at_ms, ts);
    json_t *payload =
        c->pattern_id
            ? json_pack("{ss ss* sI}", "pattern_id", c->pattern_id, "version",
                        *c->status ? c->status : NULL, "revision", (json_int_t)c->revision)
            : json_pack("{ss ss}", "job_id", c->job_id, "status", c->status);
    if (c->run_id) {
        char run[24];
        snprintf(run, sizeof(run), "%llu", (unsigned long long)c->run_id);
        json_object_set_new(payload, "run_id", json_string(run));
        json_object_set_new(payload, "attempt", json_integer(c->attempt));
    }
    if (c->error) {
        json_object_set_new(payload, "file", json_string(c->file ? c->file : ""));
        json_object_set_new(payload, "error", json_string(c->error));
    }
    if (c->reason) {
        char slot[32];
        timestamp_ms(c->slot_ms, slot);
        json_object_set_new(payload, "reason", json_string(c->reason));
        json_object_set_new(payload, "scheduled_at", json_string(slot));
    }
    json_t *env =
        json_pack("{ss so s{ss sI ss ss sI ss}}", "type", type_names[c->type], "payload", payload,
                  "metadata", "event_id", event_id, "seq", (json_int_t)seq, "timestamp", ts,
                  "source", "scheduler", "campaign_id", (json_int_t)c->campaign_id,
                  "correlation_id", c->correlation_id ? c->correlation_id : event_id);
    char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    return text;
}

/* ---- the log ---------------------------------------------------------------- */

void events_log(const char *level, const char *fmt, ...)
{
    char text[512], at[TIMEFMT_RFC3339_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    fprintf(stderr, "time=%s level=%s msg=\"events: %s\"\n",
            timefmt_rfc3339_format(events_now_ms() / 1000, at), level, text);
}

static void prune(struct events *ev)
{
    int64_t now = events_now_ms();
    struct store_error err = {0};
    int r = store_event_prune(ev->store, ev->config.max_events, now - ev->config.max_age_ms, &err);
    if (r < 0) {
        events_log("warn", "cannot prune the event log: %s", err.message);
        return;
    }
    int64_t lo, hi;
    if (store_event_bounds(ev->store, &lo, &hi, NULL) == 0)
        ev->oldest_seq = lo;
    ev->last_prune_ms = now;
    ev->appended_since_prune = 0;
}

static void on_flush(uv_timer_t *timer);

static void emit(struct events *ev, const struct change *c)
{
    if (ev->stopped)
        return;
    /* The log's own last seq, read inside the open batch if any: after a
     * batch was rolled back, numbering goes on from what the log holds, so
     * the log never has a gap. */
    int64_t lo, hi;
    if (store_event_bounds(ev->store, &lo, &hi, NULL) == 0)
        ev->next_seq = hi + 1;
    int64_t at = events_now_ms(), seq = ev->next_seq;
    char *json = envelope(c, seq, at);
    if (!json)
        return;
    struct store_event rec = {seq, at, type_names[c->type], c->job_id, c->campaign_id, json, 0};
    struct store_error err = {0};
    int r = store_event_append(ev->store, &rec, &err);
    if (r < 0) {
        events_log("error", "cannot append %s of %s to the log: %s", type_names[c->type], c->job_id,
                   err.message);
        free(json);
        return;
    }
    ev->next_seq++;
    ev->appended_since_prune++;
    metrics_events_emitted_add(1);
    g_ptr_array_add(ev->pending,
                    msg_new(seq, c->type, c->job_id, c->campaign_id, json, strlen(json)));
    free(json);
    if (!uv_is_active((uv_handle_t *)&ev->flush_timer))
        uv_timer_start(&ev->flush_timer, on_flush, 0, 0);
}

/* ---- subscribers -------------------------------------------------------------- */

static void sub_overflow(struct events_sub *sub, const char *reason)
{
    if (sub->overflowed)
        return;
    sub->overflowed = true;
    snprintf(sub->reason, sizeof(sub->reason), "%s", reason);
    sub->ops->overflow(sub->owner);
}

/* Queue MSG for SUB; false when the queue is full (SUB overflowed). */
static bool sub_push(struct events_sub *sub, struct events_msg *msg)
{
    if (g_queue_get_length(&sub->queue) >= sub->events->config.client_queue) {
        char reason[120];
        snprintf(reason, sizeof(reason), "slow consumer: more than %u events queued",
                 sub->events->config.client_queue);
        sub_overflow(sub, reason);
        return false;
    }
    bool was_empty = g_queue_is_empty(&sub->queue);
    g_queue_push_tail(&sub->queue, events_msg_ref(msg));
    if (was_empty)
        sub->ops->ready(sub->owner);
    return true;
}

static void broadcast(struct events *ev, struct events_msg *msg)
{
    ev->broadcasting = true;
    for (guint i = 0; i < ev->subs->len; i++) {
        struct events_sub *sub = g_ptr_array_index(ev->subs, i);
        if (sub->removed || sub->overflowed || sub->replaying || msg->seq <= sub->last_seq)
            continue;
        sub->last_seq = msg->seq;
        if (events_filter_match(&sub->filter, msg->type, msg->job_id, msg->campaign_id))
            sub_push(sub, msg);
    }
    ev->broadcasting = false;
}

static void sub_free(struct events_sub *sub)
{
    g_queue_clear_full(&sub->queue, (GDestroyNotify)events_msg_unref);
    events_filter_release(&sub->filter);
    g_free(sub);
}

static void compact_subs(struct events *ev)
{
    for (guint i = 0; i < ev->subs->len;) {
        struct events_sub *sub = g_ptr_array_index(ev->subs, i);
        if (sub->removed) {
            g_ptr_array_remove_index_fast(ev->subs, i);
            sub_free(sub);
        } else {
            i++;
        }
    }
}

int events_sub_add(struct events *ev, struct events_filter *filter,
                   const struct events_sub_ops *ops, void *owner, struct events_sub **ret_sub,
                   struct events_resync *resync)
{
    int64_t since = filter->since;
    int64_t latest = ev->published_seq;
    /* Events up to oldest_seq - 1 were pruned: a `since` before that misses some. */
    bool too_old = since >= 0 && ev->oldest_seq > 0 && since < ev->oldest_seq - 1;
    if (too_old || since > latest) {
        *resync = (struct events_resync){since, ev->oldest_seq, latest};
        events_filter_release(filter);
        return -ERANGE;
    }
    struct events_sub *sub = g_new0(struct events_sub, 1);
    sub->events = ev;
    sub->filter = *filter;
    *filter = (struct events_filter){.since = -1};
    sub->ops = ops;
    sub->owner = owner;
    sub->last_seq = since >= 0 ? since : latest;
    sub->replaying = since >= 0 && since < latest;
    g_queue_init(&sub->queue);
    g_ptr_array_add(ev->subs, sub);
    *ret_sub = sub;
    return 0;
}

struct replay_ctx {
    struct events_sub *sub;
    int64_t rows;
};

static int replay_row(const struct store_event *e, void *userdata)
{
    struct replay_ctx *rc = userdata;
    struct events_sub *sub = rc->sub;
    rc->rows++;
    sub->last_seq = e->seq;
    enum events_type type;
    if (events_type_from_string(e->type, &type) < 0 ||
        !events_filter_match(&sub->filter, type, e->job_id, e->campaign_id))
        return 0;
    struct events_msg *msg = msg_new(e->seq, type, e->job_id, e->campaign_id, e->json, e->json_len);
    g_queue_push_tail(&sub->queue, msg);
    return 0;
}

/* Read the log after SUB's last seq until its queue has something or it
 * reaches the live stream. */
static void replay_more(struct events_sub *sub)
{
    struct events *ev = sub->events;
    while (sub->replaying && g_queue_is_empty(&sub->queue)) {
        if (ev->oldest_seq > sub->last_seq + 1) {
            sub_overflow(sub, "resync: the events after the last one received were pruned");
            return;
        }
        struct replay_ctx rc = {sub, 0};
        struct store_error err = {0};
        int r = store_event_foreach(ev->store, sub->last_seq, ev->published_seq, REPLAY_CHUNK,
                                    replay_row, &rc, &err);
        if (r < 0) {
            sub_overflow(sub, "the event log could not be read");
            return;
        }
        if (rc.rows < REPLAY_CHUNK) {
            sub->replaying = false;
            sub->last_seq = ev->published_seq;
        }
    }
}

struct events_msg *events_sub_pop(struct events_sub *sub)
{
    if (sub->overflowed)
        return NULL;
    if (g_queue_is_empty(&sub->queue))
        replay_more(sub);
    return g_queue_pop_head(&sub->queue);
}

bool events_sub_caught_up(const struct events_sub *sub)
{
    return !sub->replaying && sub->queue.length == 0;
}

const char *events_sub_overflow_reason(const struct events_sub *sub)
{
    return sub->reason;
}

void events_sub_remove(struct events_sub *sub)
{
    if (!sub)
        return;
    sub->removed = true;
    if (!sub->events->broadcasting)
        compact_subs(sub->events);
}

char *events_resync_json(const struct events_resync *r)
{
    json_t *j = json_pack(
        "{ss ss sI sI sI}", "type", "resync", "message",
        r->since > r->latest_seq
            ? "since is ahead of the event log (was it reset?): reload the state, then "
              "subscribe without since"
            : "since is older than the event log: some events were pruned; reload the state, "
              "then subscribe with since=latest_seq",
        "since", (json_int_t)r->since, "oldest_seq", (json_int_t)r->oldest_seq, "latest_seq",
        (json_int_t)r->latest_seq);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char *copy = g_strdup(text);
    free(text);
    return copy;
}

/* ---- publishing ------------------------------------------------------------------ */

static int collect_stored(const struct store_event *e, void *userdata)
{
    g_hash_table_insert(userdata, g_memdup2(&e->seq, sizeof(e->seq)), g_strdup(e->json));
    return 0;
}

static gint by_seq(gconstpointer a, gconstpointer b)
{
    const struct events_msg *x = *(struct events_msg *const *)a,
                            *y = *(struct events_msg *const *)b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Keep only the pending events the log holds, in seq order: those of a batch
 * that was rolled back are gone with the change they described (and their
 * seq may since belong to a later event). */
static void check_durable(struct events *ev)
{
    int64_t first = INT64_MAX, last = 0;
    for (guint i = 0; i < ev->pending->len; i++) {
        struct events_msg *msg = g_ptr_array_index(ev->pending, i);
        first = MIN(first, msg->seq);
        last = MAX(last, msg->seq);
    }
    GHashTable *stored = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    if (store_event_foreach(ev->store, first - 1, last, -1, collect_stored, stored, NULL) < 0) {
        g_hash_table_destroy(stored);
        return; /* cannot tell: publish what the appends reported */
    }
    guint dropped = 0;
    for (guint i = 0; i < ev->pending->len;) {
        struct events_msg *msg = g_ptr_array_index(ev->pending, i);
        const char *json = g_hash_table_lookup(stored, &msg->seq);
        if (json && strcmp(json, msg->json) == 0) {
            i++;
        } else {
            g_ptr_array_remove_index(ev->pending, i);
            dropped++;
        }
    }
    g_hash_table_destroy(stored);
    if (dropped)
        events_log("warn", "%u events were rolled back with their batch", dropped);
    g_ptr_array_sort(ev->pending, by_seq);
}

static void on_flush(uv_timer_t *timer)
{
    struct events *ev = timer->data;
    if (ev->pending->len == 0)
        return;
    check_durable(ev);
    for (guint i = 0; i < ev->pending->len; i++) {
        struct events_msg *msg = g_ptr_array_index(ev->pending, i);
        ev->published_seq = msg->seq;
        broadcast(ev, msg);
        if (ev->redis)
            events_redis_publish(ev->redis, msg);
    }
    g_ptr_array_set_size(ev->pending, 0);
    compact_subs(ev);
    if (ev->appended_since_prune > ev->config.max_events / 10)
        prune(ev);
}

static void on_tick(uv_timer_t *timer)
{
    struct events *ev = timer->data;
    int64_t now = events_now_ms();
    events_ws_tick(ev->ws, now);
    events_sse_tick(ev->sse, now);
    if (now - ev->last_prune_ms >= PRUNE_PERIOD_MS)
        prune(ev);
}

/* ---- emission ------------------------------------------------------------------- */

static void remember_campaign(struct events *ev, const char *job_id, int64_t campaign_id)
{
    g_hash_table_replace(ev->campaigns, g_strdup(job_id), g_memdup2(&campaign_id, sizeof(gint64)));
}

static int64_t campaign_of(struct events *ev, const char *job_id)
{
    int64_t campaign = 0;
    if (ev->campaign_fn && ev->campaign_fn(ev->campaign_ctx, job_id, &campaign))
        return campaign;
    const gint64 *known = g_hash_table_lookup(ev->campaigns, job_id);
    if (known)
        return *known;
    struct store_job job;
    if (store_job_get(ev->store, job_id, &job, NULL) == 0) {
        campaign = job.campaign_id;
        store_job_release(&job);
        remember_campaign(ev, job_id, campaign);
    }
    return campaign;
}

void events_jobs_dir_rejected(struct events *ev, const char *file, const char *error)
{
    if (!ev)
        return;
    struct change c = {.type = EVENTS_JOBS_DIR_REJECTED,
                       .job_id = "",
                       .status = "REJECTED",
                       .file = file,
                       .error = error ? error : ""};
    emit(ev, &c);
}

void events_job(struct events *ev, enum events_type type, const char *job_id, int64_t campaign_id,
                const char *status)
{
    if (!ev || (unsigned)type >= EVENTS_TYPE_COUNT)
        return;
    if (type == EVENTS_JOB_DELETED)
        g_hash_table_remove(ev->campaigns, job_id);
    else
        remember_campaign(ev, job_id, campaign_id);
    struct change c = {
        .type = type, .job_id = job_id, .status = status ? status : "", .campaign_id = campaign_id};
    emit(ev, &c);
}

void events_pattern(struct events *ev, const char *pattern_id, const char *version,
                    int64_t revision)
{
    if (!ev)
        return;
    struct change c = {.type = EVENTS_PATTERN_REGISTERED,
                       .job_id = "",
                       .status = version ? version : "",
                       .pattern_id = pattern_id,
                       .revision = revision};
    emit(ev, &c);
}

static int run_event_type(bool started, const char *status)
{
    static const struct {
        const char *status;
        enum events_type type;
    } table[] = {
        {"COMPLETED", EVENTS_JOB_COMPLETED}, {"FAILED", EVENTS_JOB_FAILED},
        {"TIMED_OUT", EVENTS_JOB_FAILED},    {"CANCELLED", EVENTS_JOB_FAILED},
        {"INTERRUPTED", EVENTS_JOB_FAILED},  {"UPSTREAM_FAILED", EVENTS_JOB_SKIPPED},
        {"RETRYING", EVENTS_JOB_RETRYING},   {"SKIPPED", EVENTS_JOB_SKIPPED},
    };
    if (started)
        return EVENTS_JOB_STARTED;
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (strcmp(status, table[i].status) == 0)
            return (int)table[i].type;
    return -1;
}

void events_run(struct events *ev, bool started, const char *job_id, const char *status,
                uint64_t run_id, int attempt, const char *correlation_id)
{
    if (!ev)
        return;
    int type = run_event_type(started, status);
    if (type < 0)
        return;
    char run_corr[32];
    if (!correlation_id) {
        /* Every event of one run shares its correlation id. */
        snprintf(run_corr, sizeof(run_corr), "run-%llu", (unsigned long long)run_id);
        correlation_id = run_corr;
    }
    struct change c = {.type = (enum events_type)type,
                       .job_id = job_id,
                       .status = status,
                       .campaign_id = campaign_of(ev, job_id),
                       .run_id = run_id,
                       .attempt = attempt,
                       .correlation_id = correlation_id};
    emit(ev, &c);
}

void events_decision(struct events *ev, const char *job_id, const char *kind, int64_t slot_ms)
{
    if (!ev || strncmp(kind, "skipped", 7) != 0)
        return;
    struct change c = {.type = EVENTS_JOB_SKIPPED,
                       .job_id = job_id,
                       .status = "SKIPPED",
                       .campaign_id = campaign_of(ev, job_id),
                       .reason = kind,
                       .slot_ms = slot_ms};
    emit(ev, &c);
}

/* ---- set-up ---------------------------------------------------------------------- */

int events_new(uv_loop_t *loop, struct store *store, const struct events_config *config,
               struct events **ret_events, char *err, size_t err_size)
{
    struct events *ev = g_new0(struct events, 1);
    ev->loop = loop;
    ev->store = store;
    ev->config = *config;
    if (ev->config.max_events <= 0)
        ev->config.max_events = EVENTS_DEFAULT_MAX;
    if (ev->config.max_age_ms <= 0)
        ev->config.max_age_ms = EVENTS_DEFAULT_MAX_AGE_MS;
    if (ev->config.ping_ms <= 0)
        ev->config.ping_ms = EVENTS_DEFAULT_PING_MS;
    if (!ev->config.client_queue)
        ev->config.client_queue = EVENTS_DEFAULT_CLIENT_QUEUE;
    ev->redis_url = g_strdup(config->redis_url);
    ev->redis_channel =
        g_strdup(config->redis_channel ? config->redis_channel : EVENTS_DEFAULT_REDIS_CHANNEL);
    ev->config.redis_url = ev->redis_url;
    ev->config.redis_channel = ev->redis_channel;
    ev->pending = g_ptr_array_new_with_free_func((GDestroyNotify)events_msg_unref);
    ev->subs = g_ptr_array_new();
    ev->campaigns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    uv_timer_init(loop, &ev->flush_timer);
    uv_timer_init(loop, &ev->tick_timer);
    ev->flush_timer.data = ev->tick_timer.data = ev;
    *ret_events = ev; /* from here events_stop() and events_free() clean up */

    int64_t lo = 0, hi = 0;
    struct store_error serr = {0};
    if (store_event_bounds(store, &lo, &hi, &serr) < 0) {
        snprintf(err, err_size, "cannot read the event log: %s", serr.message);
        return -EIO;
    }
    ev->next_seq = hi + 1;
    ev->published_seq = hi;
    prune(ev);
    int r = events_ws_new(ev, ev->config.ping_ms, &ev->ws);
    if (r == 0)
        r = events_sse_new(ev, &ev->sse);
    if (r == 0 && ev->redis_url)
        r = events_redis_new(ev, store, ev->redis_url, ev->redis_channel, hi, &ev->redis, err,
                             err_size);
    if (r < 0)
        return r;
    uint64_t tick = (uint64_t)MIN(TICK_MS, ev->config.ping_ms);
    uv_timer_start(&ev->tick_timer, on_tick, tick, tick);
    return 0;
}

uv_loop_t *events_loop(struct events *ev)
{
    return ev->loop;
}

int64_t events_last_seq(const struct events *ev)
{
    return ev->published_seq;
}

void events_set_campaign_lookup(struct events *ev, events_campaign_fn *fn, void *ctx)
{
    ev->campaign_fn = fn;
    ev->campaign_ctx = ctx;
}

void events_set_authorizer(struct events *ev, events_authorize_fn *fn, void *ctx)
{
    ev->authorize = fn;
    ev->authorize_ctx = ctx;
}

void events_stop(struct events *ev)
{
    if (!ev || ev->stopped)
        return;
    on_flush(&ev->flush_timer); /* what was appended goes out */
    ev->stopped = true;
    uv_timer_stop(&ev->flush_timer);
    uv_timer_stop(&ev->tick_timer);
    if (!uv_is_closing((uv_handle_t *)&ev->flush_timer))
        uv_close((uv_handle_t *)&ev->flush_timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&ev->tick_timer))
        uv_close((uv_handle_t *)&ev->tick_timer, NULL);
    events_ws_stop(ev->ws);
    events_redis_stop(ev->redis);
}

void events_free(struct events *ev)
{
    if (!ev)
        return;
    events_ws_free(ev->ws);
    events_sse_free(ev->sse);
    events_redis_free(ev->redis);
    compact_subs(ev);
    for (guint i = 0; i < ev->subs->len; i++)
        sub_free(g_ptr_array_index(ev->subs, i));
    g_ptr_array_free(ev->subs, TRUE);
    g_ptr_array_free(ev->pending, TRUE);
    g_hash_table_destroy(ev->campaigns);
    g_free(ev->redis_url);
    g_free(ev->redis_channel);
    g_free(ev);
}

/* ---- routes ------------------------------------------------------------------------ */

static void reply(struct http_response *resp, int status, const char *code, const char *message)
{
    json_t *j = json_pack("{ss ss}", "code", code, "message", message);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    resp->status = status;
    resp->body = text;
    resp->body_len = strlen(text);
}

bool events_http(struct events *ev, const struct http_request *req, struct http_response *resp)
{
    const char *path = http_request_path(req), *method = http_request_method(req);
    bool ws = strcmp(path, "/v1/events/ws") == 0, sse = strcmp(path, "/v1/events") == 0;
    if (!ev || (!ws && !sse))
        return false;
    if (strcmp(method, "GET") != 0) {
        reply(resp, 405, "method_not_allowed", "event streams take GET");
        return true;
    }
    struct events_filter filter;
    char err[160];
    if (events_filter_parse(&filter, http_request_query(req, "since"),
                            sse ? http_request_header(req, "Last-Event-ID") : NULL,
                            http_request_query(req, "types"), http_request_query(req, "job_id"),
                            http_request_query(req, "campaign_id"), err, sizeof(err)) < 0) {
        reply(resp, 400, "invalid_argument", err);
        return true;
    }
    /* SSE `follow=false`: the log after `since`, then the end of the stream. */
    const char *follow = sse ? http_request_query(req, "follow") : NULL;
    bool follows = !follow || strcmp(follow, "true") == 0 || strcmp(follow, "1") == 0;
    bool stops = follow && (strcmp(follow, "false") == 0 || strcmp(follow, "0") == 0);
    if (!follows && !stops) {
        events_filter_release(&filter);
        reply(resp, 400, "invalid_argument", "follow: must be true or false");
        return true;
    }
    int r = ev->authorize ? ev->authorize(ev->authorize_ctx, req, &filter) : 0;
    if (r < 0) {
        events_filter_release(&filter);
        reply(resp, r == -EPERM ? 403 : 401, r == -EPERM ? "permission_denied" : "unauthenticated",
              "not allowed to subscribe to these events");
        return true;
    }
    if (ws)
        events_ws_handle(ev->ws, req, resp, &filter);
    else
        events_sse_handle(ev->sse, resp, &filter, follows);
    return true;
}
