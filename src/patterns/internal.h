/*
 * patterns/internal.h - what the files of the patterns module share.
 */
#ifndef OVSCHED_PATTERNS_INTERNAL_H
#define OVSCHED_PATTERNS_INTERNAL_H

#include <glib.h>
#include <jansson.h>
#include <uv.h>

#include "exec/exec.h"
#include "patterns/patterns.h"

/* The orchestration context of one run. */
struct run_ctx {
    uint64_t run_id;      /* 0 until bound */
    char *correlation_id; /* never NULL */
    const char *trigger;  /* static: "orchestration", "cascade", "event" */
    bool cascade;         /* dependents run after it in the same flow */
    bool saved;           /* context written to the store */
    json_t *context;      /* what store_run_context_put() keeps */
};

/* Work a hook queued for patterns_settle(): a cascade from JOB_ID (with the
 * finished run's CTX), or an EVENT to dispatch. */
struct later {
    char *job_id;
    struct run_ctx *ctx;
    json_t *event;
};

struct patterns {
    struct daemon *d;
    struct run_ctx *pending; /* bound to the run sched_job_run_now() creates */
    GHashTable *contexts;    /* run id -> struct run_ctx * */
    GHashTable *awaiting;    /* run ids of event runs waiting for CompleteRun */
    /* patterns_index.c, once index_ready: */
    GHashTable *triggers;   /* job id -> trigger_on (json_t *) */
    GHashTable *deps_of;    /* job id -> its dependencies (json_t * array) */
    GHashTable *dependents; /* job id -> set of the ids of jobs depending on it */
    bool index_ready;
    GQueue later;          /* struct later * */
    GHashTable *cascading; /* job id -> its queued cascade (struct later *, in `later`) */
    uv_timer_t prune_timer;
    bool stopping;
    /* Nexus (patterns_nexus.c) */
    char *nexus_url; /* NULL: no Nexus */
    struct exec_http *nexus_http;
    struct exec_task *nexus_task;
    GQueue nexus_queue;           /* pattern ids (g_strdup) to send, in order */
    int64_t nexus_revision;       /* of the registration in flight */
    int nexus_attempts;           /* failed attempts for the head of the queue */
    uv_timer_t nexus_timer;       /* the backoff before the next attempt */
    struct patterns_redis *redis; /* --redis-ingest (patterns_redis.c), or NULL */
};

/* A context with correlation id CORRELATION (NULL: a new one), trigger
 * TRIGGER (static) and the JSON CONTEXT (taken). */
struct run_ctx *run_ctx_new(const char *trigger, const char *correlation, json_t *context,
                            bool cascade);
void run_ctx_free(struct run_ctx *ctx);
int patterns_start_run(struct patterns *p, const char *job_id, struct run_ctx *ctx,
                       uint64_t *ret_run_id);
json_t *patterns_run_view(struct patterns *p, uint64_t run_id);

/* Start the trigger_on jobs EVENT matches; when STARTED is not NULL, append
 * {job_id, run_id} or {job_id, error} for each. */
void patterns_event_dispatch(struct patterns *p, json_t *event, json_t *started);

void patterns_index_init(struct patterns *p);
void patterns_index_release(struct patterns *p);
/* Build the index if it is not yet (one pass over the jobs). */
void patterns_index_ensure(struct patterns *p);
/* DOC (a job document about to be stored) changed; nothing before the build. */
void patterns_index_put(struct patterns *p, json_t *doc);
/* Job ID is gone. */
void patterns_index_forget(struct patterns *p, const char *id);
/* The ids of the jobs listing ID as a dependency (g_ptr_array_free()). */
GPtrArray *patterns_index_dependents(struct patterns *p, const char *id);

int nexus_patterns_init(struct patterns *p, const char *nexus_url);
char *nexus_initial_status(struct patterns *p); /* g_free; NULL without Nexus */
void nexus_enqueue(struct patterns *p, const char *pattern_id);
void nexus_resume(struct patterns *p);
bool nexus_stop(struct patterns *p);
void nexus_release(struct patterns *p);

int patterns_redis_start(struct patterns *p, const char *url, const char *channel, char *err,
                         size_t err_size);
void patterns_redis_stop(struct patterns *p);
void patterns_redis_free(struct patterns *p);

#endif
