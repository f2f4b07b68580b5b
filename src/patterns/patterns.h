/*
 * patterns - patterns and orchestration on the daemon (SPEC section 7): the
 * pattern API, jobs rendered from patterns, registration with an external
 * Nexus, TriggerJobFromOrchestration with idempotency keys and cascades,
 * flows by correlation id, `trigger_on` event triggers, and the `event`
 * executor with `await_completion` / CompleteRun.
 *
 * Everything here runs on the daemon's loop.  The daemon calls the hooks
 * below from its own hooks; none of them calls into the scheduling core while
 * the core is running (work that starts runs is queued and done in
 * patterns_settle(), which daemon_settle() calls).
 *
 * The orchestration context of a run (correlation id, flow, step, the
 * triggering event, cascade) is kept in memory while the run is in flight and
 * in the store (store_run_context_put()) for good; the correlation id is also
 * the run's own column, so GetFlowStatus is one indexed query.
 */
#ifndef OVSCHED_PATTERNS_PATTERNS_H
#define OVSCHED_PATTERNS_PATTERNS_H

#include <jansson.h>
#include <stdbool.h>

#include "api/http_server.h"
#include "sched/sched.h"
#include "store/store.h"

struct daemon;
struct patterns;

/* A new module for D (its loop and store must be ready).  NEXUS_URL (may be
 * NULL: no Nexus) is copied.  Returns NULL on allocation failure. */
struct patterns *patterns_new(struct daemon *d, const char *nexus_url);
/* Resume what a previous process left: registrations not yet accepted by
 * Nexus.  Starts the hourly prune of idempotency keys older than 24 h, and
 * the Redis subscriber when REDIS_URL is set (CHANNEL NULL: the default).
 * Returns 0, or -EINVAL for a bad URL with a sentence in ERR. */
int patterns_start(struct patterns *p, const char *redis_url, const char *channel, char *err,
                   size_t err_size);
/* The daemon is stopping: abort a Nexus request in flight.  Returns true when
 * one was, in which case daemon_finish_stop() is called again once it ended. */
bool patterns_stop(struct patterns *p);
/* After the loop closed every handle.  Accepts NULL. */
void patterns_free(struct patterns *p);

/* CreateJob/UpdateJob: validate `metadata.scheduling.trigger_on` and the
 * event executor, and when `metadata.service_specific.scheduler.pattern_id`
 * is set render JOB (borrowed) from the pattern, JOB's own fields overriding,
 * recording pattern_version, pattern_revision and pattern_overrides.  Returns
 * 0 with a new document in *ret, or -EINVAL with a message naming the field,
 * or -EPERM when the rendering is a shell job and the caller is not admin. */
int patterns_job_expand(struct patterns *p, json_t *job, json_t **ret, char *err, size_t err_size);

/* ---- hooks from the daemon ---------------------------------------------- */

/* RUN is being written (FIRST_WRITE: inserted): set its correlation_id and
 * trigger from its orchestration context, if it has one. */
void patterns_run_fill(struct patterns *p, const struct sched_run *run, bool first_write,
                       struct store_run *view);
/* The correlation id of run RUN_ID while it is in flight, or NULL: for its
 * events (metadata.correlation_id). */
const char *patterns_run_correlation(struct patterns *p, uint64_t run_id);
/* RUN_ID was inserted in the store: its context can be written now. */
void patterns_run_recorded(struct patterns *p, uint64_t run_id);
/* Start an attempt of an `event` executor EX (borrowed).  Returns 0 (the run
 * ends through daemon_run_finish(), at once or at CompleteRun) or -EINVAL. */
int patterns_event_start(struct patterns *p, const struct sched_run *run, json_t *ex);
/* The core asks RUN to stop (timeout, cancel): true when it was awaiting
 * CompleteRun, and has now been ended. */
bool patterns_run_stop(struct patterns *p, const struct sched_run *run);
/* RUN changed status (inside the core's call): cascades are queued. */
void patterns_run_changed(struct patterns *p, const struct sched_run *run);
/* Start what was queued (cascaded dependents, jobs an event triggered). */
void patterns_settle(struct patterns *p);

/* ---- RPC handlers (api.c's route table) ---------------------------------- */

void patterns_api_register(struct daemon *d, json_t *body, struct http_response *resp);
void patterns_api_list(struct daemon *d, json_t *body, struct http_response *resp);
void patterns_api_get(struct daemon *d, json_t *body, struct http_response *resp);
void patterns_api_delete(struct daemon *d, json_t *body, struct http_response *resp);
void patterns_api_trigger(struct daemon *d, json_t *body, struct http_response *resp);
void patterns_api_flow_status(struct daemon *d, json_t *body, struct http_response *resp);
void patterns_api_complete_run(struct daemon *d, json_t *body, struct http_response *resp);
void patterns_api_publish_event(struct daemon *d, json_t *body, struct http_response *resp);

/* Hand an event (SPEC section 6 envelope, borrowed) to the `trigger_on` jobs:
 * the Redis subscriber and the event executor call this.  Queued; runs start
 * in patterns_settle(). */
void patterns_event_ingest(struct patterns *p, json_t *event);

#endif
