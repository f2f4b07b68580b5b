/*
 * store/internal.h - what a store backend implements, and helpers they share.
 *
 * A backend embeds `struct store` as the first member of its own connection
 * struct and points `ops` at a static table.  store.c checks arguments (so a
 * backend receives valid ones: non-empty ids, ids <= INT64_MAX, offsets >= 0),
 * refuses calls made from inside a store_job_foreach() callback, and then calls
 * the operation with the same arguments as the public function.  The ret_
 * contracts of store.h hold for the operations too.
 */
#ifndef OVSCHED_STORE_INTERNAL_H
#define OVSCHED_STORE_INTERNAL_H

#include <stdarg.h>

#include "store/store.h"

/* The schema version store_sqlite.c migrates to. */
#define STORE_SQLITE_SCHEMA_VERSION 6

/* The columns of a run, in the order both backends select them (RUN_COLS). */
enum {
    RC_ID,
    RC_JOB_ID,
    RC_STATUS,
    RC_TRIGGER,
    RC_ATTEMPT,
    RC_SCHEDULED_AT,
    RC_STARTED_AT,
    RC_FINISHED_AT,
    RC_EXIT_CODE,
    RC_OUTPUT,
    RC_ERROR,
    RC_CORRELATION_ID,
    RC_COUNT
};

/* The error start-up recovery gives a run that had none, then its status. */
#define STORE_INTERRUPTED_ERROR "interrupted: ovsched stopped while the run was "

struct store_ops {
    const char *name;
    void (*close)(struct store *st);
    int (*set_lock_timeout)(struct store *st, int ms);

    int (*begin)(struct store *st, struct store_error *reterr);
    int (*commit)(struct store *st, struct store_error *reterr);
    void (*rollback)(struct store *st);

    int (*job_create)(struct store *st, const struct store_job *job, struct store_error *reterr);
    int (*job_update)(struct store *st, const struct store_job *job, int64_t expected_version,
                      int64_t *ret_version, struct store_error *reterr);
    int (*job_delete)(struct store *st, const char *id, struct store_error *reterr);
    int (*job_get)(struct store *st, const char *id, struct store_job *ret_job,
                   struct store_error *reterr);
    int (*job_list)(struct store *st, const struct store_job_filter *filter,
                    struct store_job_list *ret_list, struct store_error *reterr);
    int (*job_foreach)(struct store *st, store_job_cb *cb, void *userdata,
                       struct store_error *reterr);
    int (*job_last_slot)(struct store *st, const char *id, int64_t *ret_slot_ms,
                         struct store_error *reterr);

    int (*run_insert)(struct store *st, const struct store_run *run, uint64_t *ret_id,
                      struct store_error *reterr);
    int (*run_update)(struct store *st, const struct store_run *run, struct store_error *reterr);
    int (*run_get)(struct store *st, uint64_t id, struct store_run *ret_run,
                   struct store_error *reterr);
    int (*run_list)(struct store *st, const char *job_id, int64_t offset, int64_t limit,
                    struct store_run_list *ret_list, struct store_error *reterr);
    int (*runs_mark_interrupted)(struct store *st, int64_t now_at_ms, store_run_cb *cb,
                                 void *userdata, struct store_error *reterr);
    int (*runs_release_unstarted)(struct store *st, int64_t after_ms, uint64_t run_id,
                                  struct store_error *reterr);
    int (*run_max_id)(struct store *st, uint64_t *ret_id, struct store_error *reterr);
    int (*launch_mark_set)(struct store *st, int64_t at_ms, struct store_error *reterr);
    int (*launch_mark_get)(struct store *st, int64_t *ret_at_ms, struct store_error *reterr);
    int (*launch_mark_clear)(struct store *st, struct store_error *reterr);

    int (*decision_insert)(struct store *st, const struct store_decision *decision,
                           uint64_t *ret_id, struct store_error *reterr);
    int (*decision_list)(struct store *st, const char *job_id, int64_t limit,
                         struct store_decision_list *ret_list, struct store_error *reterr);

    /* auth: tokens and the audit log */
    int (*token_create)(struct store *st, const struct store_token *token,
                        struct store_error *reterr);
    int (*token_get)(struct store *st, const char *id, struct store_token *ret_token,
                     struct store_error *reterr);
    int (*token_list)(struct store *st, struct store_token_list *ret_list,
                      struct store_error *reterr);
    int (*token_revoke)(struct store *st, const char *id, int64_t at_ms,
                        struct store_error *reterr);
    int (*audit_append)(struct store *st, const struct store_audit *entry, uint64_t *ret_id,
                        struct store_error *reterr);
    int (*audit_list)(struct store *st, const struct store_audit_filter *filter,
                      struct store_audit_list *ret_list, struct store_error *reterr);
    int (*event_append)(struct store *st, const struct store_event *event,
                        struct store_error *reterr);
    int (*event_foreach)(struct store *st, int64_t after_seq, int64_t upto_seq, int64_t limit,
                         store_event_cb *cb, void *userdata, struct store_error *reterr);
    int (*event_bounds)(struct store *st, int64_t *ret_min_seq, int64_t *ret_max_seq,
                        struct store_error *reterr);
    int (*event_prune)(struct store *st, int64_t keep, int64_t before_at_ms,
                       struct store_error *reterr);
    /* patterns and orchestration */
    int (*pattern_put)(struct store *st, const struct store_pattern *p, int64_t at_ms,
                       int64_t *ret_revision, struct store_error *reterr);
    int (*pattern_get)(struct store *st, const char *id, struct store_pattern *ret,
                       struct store_error *reterr);
    int (*pattern_list)(struct store *st, struct store_pattern_list *ret,
                        struct store_error *reterr);
    int (*pattern_delete)(struct store *st, const char *id, struct store_error *reterr);
    int (*pattern_set_nexus_status)(struct store *st, const char *id, int64_t revision,
                                    const char *status, struct store_error *reterr);
    int (*idempotency_claim)(struct store *st, const char *key, int64_t at_ms, uint64_t *ret_run_id,
                             struct store_error *reterr);
    int (*idempotency_set_run)(struct store *st, const char *key, uint64_t run_id,
                               struct store_error *reterr);
    int (*idempotency_prune)(struct store *st, int64_t before_ms, struct store_error *reterr);
    int (*run_list_by_correlation)(struct store *st, const char *correlation_id, int64_t limit,
                                   struct store_run_list *ret_list, struct store_error *reterr);
    int (*run_context_put)(struct store *st, uint64_t run_id, const char *json,
                           struct store_error *reterr);
    int (*run_context_get)(struct store *st, uint64_t run_id, char **ret_json,
                           struct store_error *reterr);
};

struct store {
    const struct store_ops *ops;
    bool in_foreach; /* set by a backend while a store_job_foreach() callback runs */
};

/* Fill RETERR (may be NULL) and return CODE (a negative errno). */
int store_error_set(struct store_error *reterr, int code, int backend_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Why a job update changed no row, given EXISTS (1, 0, or the error of
 * checking whether the job exists): -ENOENT, -ESTALE or that error. */
int store_job_update_missed(int exists, int64_t expected_version, struct store_error *reterr);

/* One string to copy into a record's block: SRC (NULL stays NULL) of LEN bytes,
 * written to *DST as a NUL-terminated copy. */
struct store_pack_item {
    const char *src;
    size_t len;
    const char **dst;
};

/* Copy the N strings of ITEMS into one new block, stored in *RET_MEM.  Returns
 * 0 or -ENOMEM (and then neither *RET_MEM nor any *dst is written). */
int store_pack(const struct store_pack_item *items, size_t n, void **ret_mem);

#endif
