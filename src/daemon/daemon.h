/*
 * daemon - `ovsched serve`: the loop that joins the scheduling core, the
 * store, the executors and the HTTP API on one node.
 *
 * One libuv loop, one thread.  The core (src/sched) decides; this module does
 * what it asks - records a run before its executor starts, starts and stops
 * executors, writes decisions - and feeds back what happened: executor results
 * and the clock.  After every change it arms one timer for the core's next
 * wake-up, so a create, update or delete takes effect at once.
 *
 * Durability: job writes are committed before the API answers; a run is
 * inserted (claiming its slot, unique per job and slot) before its executor
 * starts.  At start-up, runs a previous process left in flight become
 * INTERRUPTED, and each job resumes after its last settled slot, so slots
 * missed while down meet the job's misfire policy.
 */
#ifndef OVSCHED_DAEMON_DAEMON_H
#define OVSCHED_DAEMON_DAEMON_H

#include <glib.h>
#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "api/http_server.h"
#include "events/events.h"
#include "exec/exec.h"
#include "sched/sched.h"
#include "store/store.h"
#include "tz/tz.h"

#define DAEMON_MAX_TENANT_USERS  64
#define DAEMON_OPT_RUN_AS        0x5200 /* getopt_long values of --run-as, */
#define DAEMON_OPT_RUN_AS_TENANT 0x5201 /* --run-as-tenant */

struct daemon_config {
    const char *listen_host; /* "127.0.0.1" */
    int listen_port;         /* 0: ephemeral */
    const char *data_dir;    /* "./data" */
    int max_in_flight;       /* 0: no cap */
    int64_t stop_grace_ms;   /* SIGTERM: how long running attempts may finish */
    const char *admin_token; /* OVSCHED_ADMIN_TOKEN, or NULL: no auth yet */
    /* --events-max, --events-max-age, --events-ping, --redis, --redis-channel */
    struct events_config events;
    const char *nexus_url;        /* --nexus-url: patterns are also registered there; NULL: none */
    const char *redis_ingest_url; /* --redis-ingest: trigger_on events from Redis; NULL: --redis */
    const char *redis_ingest_channel; /* --redis-ingest-channel; NULL: "ovsched.ingest" */
    /* Shell attempts' user (daemon_run_as.c): --run-as USER, the default, and
     * --run-as-tenant ID=USER (the arguments as given); NULL/0: none. */
    const char *run_as;
    const char *tenant_run_as[DAEMON_MAX_TENANT_USERS];
    size_t tenant_run_as_count;
    unsigned max_connections; /* --max-connections; 0: the HTTP server's default */
    const char *store; /* --store: a PostgreSQL connection string; NULL: SQLite in data_dir */
};

struct daemon {
    struct daemon_config config;
    uv_loop_t loop;
    struct store *store;
    struct sched *sched;
    struct tz_cache *zones;
    struct http_server *http;
    struct events *events; /* the event log and its subscribers */
    struct exec_http *http_exec;
    uv_timer_t wakeup;
    uv_signal_t sigterm, sigint;
    struct graph *graph;     /* dependency edges of the stored jobs (src/api/api_graph.c) */
    GHashTable *tasks;       /* run id -> struct exec_task *: attempts running */
    GHashTable *results;     /* run id -> struct run_result *: the last attempt's */
    GHashTable *stored;      /* run ids already inserted in the store */
    GHashTable *uncommitted; /* run ids inserted in the open batch */
    GHashTable *groups;      /* run id -> struct process_group: shell attempts running */
    char *groups_path;       /* DATA/process-groups: the same, for the next start */
    GQueue deferred;         /* results to hand to the core once its call returned */
    GQueue finished;         /* struct deferred: attempts ended, for finish_all() */
    uv_idle_t finish_idle;   /* runs finish_all() once per loop iteration */
    bool in_sched;           /* inside a sched_* call: hooks must not call back */
    bool stopping;
    int lock_fd;           /* holds flock(DATA/lock) while the daemon runs */
    bool batch;            /* a scheduler pass's transaction is open */
    GArray *to_start;      /* run ids recorded in the open batch, to start after it */
    GArray *to_record;     /* run ids started in the open batch, to record at its end */
    GArray *decisions;     /* struct later_decision: the open batch's, to write at its end */
    char *exec_cache_text; /* the executor last parsed, and its JSON (executor_json()) */
    json_t *exec_cache_json;
    struct patterns *patterns; /* patterns and orchestration (src/patterns) */
    /* the watched job folder (--jobs-dir): its path and state, or NULL */
    const char *jobs_dir_path;
    struct jobsdir *jobsdir;
};

/* Run ids key the daemon's tables of runs (tasks, results, stored, ...) as
 * pointers, not as allocated copies: a burst of 100,000 starts is that many
 * fewer allocations. */
#define RUN_KEY(id) GSIZE_TO_POINTER((gsize)(id))
_Static_assert(sizeof(gsize) >= sizeof(uint64_t), "run ids must fit in a pointer");

/* Unix ms now. */
int64_t daemon_now_ms(void);

/* Everything after a change: hand deferred results to the core, arm the timer. */
void daemon_settle(struct daemon *d);

/* The job document with the fields the store keeps beside it (version,
 * created_at, updated_at) and the core's next_run_time; a new reference. */
json_t *daemon_job_view(struct daemon *d, const struct store_job *job);

/* A stored run as the API shows it (SPEC section 8); a new reference. */
json_t *daemon_run_view(const struct store_run *run);

/* End attempt RUN_ID of a run that has no executor task (an `event` run
 * awaiting CompleteRun): as if its executor reported STATUS (COMPLETED,
 * FAILED) with OUTPUT and ERROR (copied; may be NULL).  Deferred to the loop;
 * daemon_finish_pending() hands it to the core at once (not from a hook). */
void daemon_run_finish(struct daemon *d, uint64_t run_id, enum sched_run_status status,
                       const char *output, const char *error);
void daemon_finish_pending(struct daemon *d);
/* Go on with a stop that waited for something (see patterns_stop()). */
void daemon_finish_stop(struct daemon *d);

/* `ovsched serve [--listen HOST:PORT] [--data DIR] [--store URL] [--max-in-flight N]
 * [--jobs-dir DIR]`. */
int daemon_main(int argc, char **argv, FILE *in, FILE *out);

/* ---- run_as (daemon_run_as.c) ---- */

/* Apply --run-as (OPT == DAEMON_OPT_RUN_AS) or --run-as-tenant ARG to CONFIG.
 * Returns 0, or -EINVAL with a sentence in ERR. */
int daemon_run_as_option(struct daemon_config *config, int opt, const char *arg, char *err,
                         size_t err_size);
/* Whether this process can run attempts as every user CONFIG names.  Returns
 * 0, or -EINVAL with a sentence naming the flag in ERR. */
int daemon_run_as_check(const struct daemon_config *config, char *err, size_t err_size);
/* The user a shell attempt runs as: JOB_RUN_AS (the job's executor.run_as,
 * may be NULL), else the tenant's, else --run-as; NULL: the daemon's own. */
const char *daemon_run_as_user(const struct daemon *d, const char *job_run_as, int64_t campaign_id);
/* OVSCHED_JOB_ID, OVSCHED_RUN_ID, OVSCHED_ATTEMPT of RUN (g_strfreev). */
char **daemon_run_env(const struct sched_run *run);

#endif
