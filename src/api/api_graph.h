/*
 * api_graph - the dependency side of the API (SPEC section 5 and 8):
 * dependency validation on every job write, DeleteJob with detach,
 * ApplyJobs (one graph, one store batch, all or nothing, dry_run diff),
 * GetJobGraph, ListJobDecisions, GetJobStatus's blocked_by, and the daemon's
 * start-up work for dependencies (graph, run history, WAITING runs).
 *
 * The daemon keeps one struct graph (d->graph) holding the jobs that take
 * part in a dependency; jobs without any edge are not in it (a million
 * independent jobs cost the graph nothing).  Every write validates against
 * it before the store changes, and the graph changes only with the store.
 *
 * Handlers answer through struct api_result: a JSON body, or an errno and a
 * message that api.c maps to the HTTP status and code.
 */
#ifndef OVSCHED_API_API_GRAPH_H
#define OVSCHED_API_API_GRAPH_H

#include <glib.h>
#include <jansson.h>
#include <stdint.h>

struct daemon;
struct job_doc;

struct api_result {
    int error;         /* 0, or a negative errno for the error table */
    char message[768]; /* "<field>: <reason>" when error != 0 */
    json_t *body;      /* the answer when error == 0 (owned) */
    char *text;        /* or the answer as JSON text already (owned, g_free()) */
};

/* Make DOC's dependencies the graph's edges into DOC->id, after checking that
 * each names a stored job (or one in EXTRA_IDS when not NULL) and that no
 * cycle closes.  FIELD prefixes error messages ("" or "creates[2].").
 * Returns 0, or -EINVAL with RES filled and the graph unchanged.  On success,
 * *ret_undo (when not NULL) receives what api_graph_undo() needs if the
 * store write that follows fails. */
struct api_graph_undo;
int api_graph_set_deps(struct daemon *d, const struct job_doc *doc, const char *field,
                       struct api_graph_undo **ret_undo, struct api_result *res);
/* Put the edges back as they were before api_graph_set_deps(); frees UNDO. */
void api_graph_undo(struct daemon *d, struct api_graph_undo *undo);
void api_graph_undo_free(struct api_graph_undo *undo);

/* After a write the core accepted: start what its dependencies allow now. */
void api_graph_after_put(struct daemon *d, const char *id);

/* DeleteJob in three steps around the caller's transaction (api.c):
 * 1. check BODY: the job exists, and dependents are refused unless BODY asks
 *    to detach them.  Returns the job id (borrowed from BODY) with the
 *    dependents to detach in *RET_DEPENDENTS (a new array), or NULL with
 *    RES's error. */
const char *api_graph_delete_check(struct daemon *d, json_t *body, GPtrArray **ret_dependents,
                                   struct api_result *res);
/* 2. inside the transaction: remove ID from each dependent's stored
 *    dependencies (each a job_updated event).  Returns 0 or the error. */
int api_graph_detach(struct daemon *d, const char *id, GPtrArray *dependents,
                     struct api_result *res);
/* 3. once committed: the graph and the core forget ID, the dependents are
 *    reloaded.  Returns the detached ids as a JSON array (a new reference). */
json_t *api_graph_deleted(struct daemon *d, const char *id, GPtrArray *dependents);

/* A set of writes (the watched job folder's): PUTS replace or create jobs,
 * DELETES remove them, validated as one graph, so their order does not
 * matter.  Returns the graph to install once the writes are stored
 * (api_graph_install()), or NULL with a sentence in ERR (an unknown
 * dependency, a cycle, a deleted job others keep depending on). */
struct graph *api_graph_check_set(struct daemon *d, const struct job_doc *const *puts,
                                  size_t put_count, const char *const *deletes, size_t delete_count,
                                  char *err, size_t err_size);
void api_graph_install(struct daemon *d, struct graph *g);

/* RPC handlers. */
void api_graph_apply_jobs(struct daemon *d, json_t *body, struct api_result *res);
void api_graph_get_job_graph(struct daemon *d, json_t *body, struct api_result *res);
void api_graph_list_decisions(struct daemon *d, json_t *body, struct api_result *res);

/* GetJobStatus: the unsatisfied dependencies of ID as `blocked_by` (a new
 * array) and, when there are some, a sentence for `reason` (new string or
 * NULL; g_free() it). */
json_t *api_graph_blocked_by(struct daemon *d, const char *id, char **ret_reason);

/* Start-up: add DOC's edges to the graph without validation (the stored
 * state was valid when written; a cycle found now is logged and its edge
 * dropped). */
void api_graph_load_job(struct daemon *d, const char *id, const char *const *deps, size_t count);
/* Start-up, after every job is in the core: hand the core the run history of
 * the jobs in the graph, restore their WAITING runs, and start what their
 * dependencies allow.  Restored runs are marked stored (d->stored).  Returns
 * how many WAITING runs were restored. */
int api_graph_load_finish(struct daemon *d, int64_t now_ms);

#endif
