/*
 * store - the backend-independent half of the store: argument checks, the
 * guard against re-entering the store from a foreach callback, dispatch
 * through the backend's table, and the release functions of returned records.
 *
 * Checking here means every backend sees the same valid arguments and answers
 * -EINVAL the same way; a backend only maps its own failures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

int store_error_set(struct store_error *reterr, int code, int backend_code, const char *fmt, ...)
{
    if (reterr) {
        va_list ap;
        va_start(ap, fmt);
        reterr->backend_code = backend_code;
        vsnprintf(reterr->message, sizeof(reterr->message), fmt, ap);
        va_end(ap);
    }
    return code;
}

int store_job_update_missed(int exists, int64_t expected_version, struct store_error *reterr)
{
    if (exists < 0)
        return exists;
    if (exists == 0)
        return store_error_set(reterr, -ENOENT, 0, "no such job");
    return store_error_set(reterr, -ESTALE, 0, "the job changed since version %lld was read",
                           (long long)expected_version);
}

int store_pack(const struct store_pack_item *items, size_t n, void **ret_mem)
{
    size_t size = 1; /* never malloc(0) */
    for (size_t i = 0; i < n; i++)
        if (items[i].src)
            size += items[i].len + 1;
    char *mem = malloc(size);
    if (!mem)
        return -ENOMEM;
    char *at = mem;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].src) {
            *items[i].dst = NULL;
            continue;
        }
        memcpy(at, items[i].src, items[i].len);
        at[items[i].len] = '\0';
        *items[i].dst = at;
        at += items[i].len + 1;
    }
    *ret_mem = mem;
    return 0;
}

static bool is_empty(const char *text)
{
    return !text || !*text;
}

/* Every entry point starts here: nothing may use the connection while a
 * foreach statement is stepping on it. */
static int enter(struct store *st, struct store_error *reterr)
{
    if (st->in_foreach)
        return store_error_set(reterr, -EBUSY, 0,
                               "the store was called from inside store_job_foreach()");
    return 0;
}

#define ENTER(st, reterr)                                                                          \
    do {                                                                                           \
        int enter_r = enter(st, reterr);                                                           \
        if (enter_r < 0)                                                                           \
            return enter_r;                                                                        \
    } while (0)

static int invalid(struct store_error *reterr, const char *what)
{
    return store_error_set(reterr, -EINVAL, 0, "%s", what);
}

void store_close(struct store *store)
{
    if (store)
        store->ops->close(store);
}

const char *store_backend(const struct store *store)
{
    return store->ops->name;
}

int store_set_lock_timeout(struct store *store, int ms)
{
    if (ms < 0)
        return -EINVAL;
    return store->ops->set_lock_timeout(store, ms);
}

int store_begin(struct store *store, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->begin(store, reterr);
}

int store_commit(struct store *store, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->commit(store, reterr);
}

void store_rollback(struct store *store)
{
    if (!store->in_foreach)
        store->ops->rollback(store);
}

int store_job_create(struct store *store, const struct store_job *job, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(job->id))
        return invalid(reterr, "job id is empty");
    if (!job->status || !job->json)
        return invalid(reterr, "job status or document is missing");
    return store->ops->job_create(store, job, reterr);
}

int store_job_update(struct store *store, const struct store_job *job, int64_t expected_version,
                     int64_t *ret_version, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(job->id))
        return invalid(reterr, "job id is empty");
    if (!job->status || !job->json)
        return invalid(reterr, "job status or document is missing");
    if (expected_version < 0)
        return invalid(reterr, "expected version is negative");
    return store->ops->job_update(store, job, expected_version, ret_version, reterr);
}

int store_job_delete(struct store *store, const char *id, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "job id is empty");
    return store->ops->job_delete(store, id, reterr);
}

int store_job_get(struct store *store, const char *id, struct store_job *ret_job,
                  struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "job id is empty");
    return store->ops->job_get(store, id, ret_job, reterr);
}

void store_job_release(struct store_job *job)
{
    if (!job)
        return;
    free(job->mem);
    *job = (struct store_job){0};
}

int store_job_list(struct store *store, const struct store_job_filter *filter,
                   struct store_job_list *ret_list, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (filter->offset < 0)
        return invalid(reterr, "offset is negative");
    if (filter->label_count > STORE_MAX_LABEL_FILTERS)
        return invalid(reterr, "too many labels to filter on");
    for (size_t i = 0; i < filter->label_count; i++)
        if (!filter->label_keys[i] || !filter->label_values[i])
            return invalid(reterr, "a label key or value is missing");
    return store->ops->job_list(store, filter, ret_list, reterr);
}

void store_job_list_release(struct store_job_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        store_job_release(&list->items[i]);
    free(list->items);
    *list = (struct store_job_list){0};
}

int store_job_foreach(struct store *store, store_job_cb *cb, void *userdata,
                      struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->job_foreach(store, cb, userdata, reterr);
}

int store_job_last_slot(struct store *store, const char *id, int64_t *ret_slot_ms,
                        struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "job id is empty");
    return store->ops->job_last_slot(store, id, ret_slot_ms, reterr);
}

static int check_run_id(uint64_t id, struct store_error *reterr)
{
    if (id > (uint64_t)INT64_MAX)
        return invalid(reterr, "run id is above INT64_MAX");
    return 0;
}

int store_run_insert(struct store *store, const struct store_run *run, uint64_t *ret_id,
                     struct store_error *reterr)
{
    ENTER(store, reterr);
    if (check_run_id(run->id, reterr) < 0)
        return -EINVAL;
    if (is_empty(run->job_id))
        return invalid(reterr, "run job id is empty");
    if (!run->status || !run->trigger)
        return invalid(reterr, "run status or trigger is missing");
    if (run->attempt < 0)
        return invalid(reterr, "run attempt is negative");
    return store->ops->run_insert(store, run, ret_id, reterr);
}

int store_run_update(struct store *store, const struct store_run *run, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (run->id == 0 || check_run_id(run->id, reterr) < 0)
        return invalid(reterr, "run id is 0 or above INT64_MAX");
    if (!run->status)
        return invalid(reterr, "run status is missing");
    if (run->attempt < 0)
        return invalid(reterr, "run attempt is negative");
    return store->ops->run_update(store, run, reterr);
}

int store_run_get(struct store *store, uint64_t id, struct store_run *ret_run,
                  struct store_error *reterr)
{
    ENTER(store, reterr);
    if (check_run_id(id, reterr) < 0)
        return -EINVAL;
    return store->ops->run_get(store, id, ret_run, reterr);
}

void store_run_release(struct store_run *run)
{
    if (!run)
        return;
    free(run->mem);
    *run = (struct store_run){0};
}

int store_run_list(struct store *store, const char *job_id, int64_t offset, int64_t limit,
                   struct store_run_list *ret_list, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(job_id))
        return invalid(reterr, "job id is empty");
    if (offset < 0)
        return invalid(reterr, "offset is negative");
    return store->ops->run_list(store, job_id, offset, limit, ret_list, reterr);
}

void store_run_list_release(struct store_run_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        store_run_release(&list->items[i]);
    free(list->items);
    *list = (struct store_run_list){0};
}

int store_runs_release_unstarted(struct store *store, int64_t after_ms, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->runs_release_unstarted(store, after_ms, 0, reterr);
}

int store_run_discard(struct store *store, uint64_t id, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (id == 0 || id > INT64_MAX)
        return invalid(reterr, "run id out of range");
    int r = store->ops->runs_release_unstarted(store, INT64_MIN, id, reterr);
    return r == 0  ? store_error_set(reterr, -ENOENT, 0, "no such run, or it started")
           : r < 0 ? r
                   : 0;
}

int store_launch_mark_set(struct store *store, int64_t at_ms, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->launch_mark_set(store, at_ms, reterr);
}

int store_launch_mark_get(struct store *store, int64_t *ret_at_ms, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->launch_mark_get(store, ret_at_ms, reterr);
}

int store_launch_mark_clear(struct store *store, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->launch_mark_clear(store, reterr);
}

int store_runs_mark_interrupted(struct store *store, int64_t now_at_ms, store_run_cb *cb,
                                void *userdata, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->runs_mark_interrupted(store, now_at_ms, cb, userdata, reterr);
}

int store_run_max_id(struct store *store, uint64_t *ret_id, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->run_max_id(store, ret_id, reterr);
}

int store_decision_insert(struct store *store, const struct store_decision *decision,
                          uint64_t *ret_id, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(decision->job_id))
        return invalid(reterr, "decision job id is empty");
    if (!decision->kind)
        return invalid(reterr, "decision kind is missing");
    if (decision->count < 0)
        return invalid(reterr, "decision count is negative");
    if (decision->run_id > (uint64_t)INT64_MAX)
        return invalid(reterr, "decision run id is above INT64_MAX");
    return store->ops->decision_insert(store, decision, ret_id, reterr);
}

int store_decision_list(struct store *store, const char *job_id, int64_t limit,
                        struct store_decision_list *ret_list, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(job_id))
        return invalid(reterr, "job id is empty");
    return store->ops->decision_list(store, job_id, limit, ret_list, reterr);
}

void store_decision_release(struct store_decision *decision)
{
    if (!decision)
        return;
    free(decision->mem);
    *decision = (struct store_decision){0};
}

void store_decision_list_release(struct store_decision_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        store_decision_release(&list->items[i]);
    free(list->items);
    *list = (struct store_decision_list){0};
}

/* ---- Tokens and audit (auth) -------------------------------------------- */

int store_token_create(struct store *store, const struct store_token *token,
                       struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(token->id))
        return invalid(reterr, "token id is empty");
    if (!token->name || is_empty(token->role))
        return invalid(reterr, "token name or role is missing");
    return store->ops->token_create(store, token, reterr);
}

int store_token_get(struct store *store, const char *id, struct store_token *ret_token,
                    struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "token id is empty");
    return store->ops->token_get(store, id, ret_token, reterr);
}

int store_token_list(struct store *store, struct store_token_list *ret_list,
                     struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->token_list(store, ret_list, reterr);
}

int store_token_revoke(struct store *store, const char *id, int64_t at_ms,
                       struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "token id is empty");
    return store->ops->token_revoke(store, id, at_ms, reterr);
}

void store_token_release(struct store_token *token)
{
    if (!token)
        return;
    free(token->mem);
    *token = (struct store_token){0};
}

void store_token_list_release(struct store_token_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        store_token_release(&list->items[i]);
    free(list->items);
    *list = (struct store_token_list){0};
}

int store_audit_append(struct store *store, const struct store_audit *entry, uint64_t *ret_id,
                       struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(entry->actor_id) || is_empty(entry->action))
        return invalid(reterr, "audit actor or action is empty");
    return store->ops->audit_append(store, entry, ret_id, reterr);
}

int store_audit_list(struct store *store, const struct store_audit_filter *filter,
                     struct store_audit_list *ret_list, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (filter->offset < 0)
        return invalid(reterr, "offset is negative");
    return store->ops->audit_list(store, filter, ret_list, reterr);
}

void store_audit_list_release(struct store_audit_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].mem);
    free(list->items);
    *list = (struct store_audit_list){0};
}

int store_event_append(struct store *store, const struct store_event *event,
                       struct store_error *reterr)
{
    ENTER(store, reterr);
    if (event->seq < 1)
        return invalid(reterr, "event seq must be >= 1");
    if (!event->type || !event->json)
        return invalid(reterr, "event type or json is missing");
    return store->ops->event_append(store, event, reterr);
}

int store_event_foreach(struct store *store, int64_t after_seq, int64_t upto_seq, int64_t limit,
                        store_event_cb *cb, void *userdata, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (limit < 0)
        limit = INT64_MAX;
    return store->ops->event_foreach(store, after_seq, upto_seq, limit, cb, userdata, reterr);
}

int store_event_bounds(struct store *store, int64_t *ret_min_seq, int64_t *ret_max_seq,
                       struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->event_bounds(store, ret_min_seq, ret_max_seq, reterr);
}

int store_event_prune(struct store *store, int64_t keep, int64_t before_at_ms,
                      struct store_error *reterr)
{
    ENTER(store, reterr);
    if (keep < 1)
        return invalid(reterr, "the event log must keep at least one event");
    return store->ops->event_prune(store, keep, before_at_ms, reterr);
}

/* ---- Patterns and orchestration ----------------------------------------- */

int store_pattern_put(struct store *store, const struct store_pattern *p, int64_t at_ms,
                      int64_t *ret_revision, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(p->id) || !p->json)
        return invalid(reterr, "pattern id or document is missing");
    return store->ops->pattern_put(store, p, at_ms, ret_revision, reterr);
}

int store_pattern_get(struct store *store, const char *id, struct store_pattern *ret,
                      struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "pattern id is empty");
    return store->ops->pattern_get(store, id, ret, reterr);
}

int store_pattern_list(struct store *store, struct store_pattern_list *ret,
                       struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->pattern_list(store, ret, reterr);
}

int store_pattern_delete(struct store *store, const char *id, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "pattern id is empty");
    return store->ops->pattern_delete(store, id, reterr);
}

int store_pattern_set_nexus_status(struct store *store, const char *id, int64_t revision,
                                   const char *status, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(id))
        return invalid(reterr, "pattern id is empty");
    return store->ops->pattern_set_nexus_status(store, id, revision, status, reterr);
}

void store_pattern_release(struct store_pattern *p)
{
    if (!p)
        return;
    free(p->mem);
    *p = (struct store_pattern){0};
}

void store_pattern_list_release(struct store_pattern_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        store_pattern_release(&list->items[i]);
    free(list->items);
    *list = (struct store_pattern_list){0};
}

int store_idempotency_claim(struct store *store, const char *key, int64_t at_ms,
                            uint64_t *ret_run_id, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(key))
        return invalid(reterr, "idempotency key is empty");
    return store->ops->idempotency_claim(store, key, at_ms, ret_run_id, reterr);
}

int store_idempotency_set_run(struct store *store, const char *key, uint64_t run_id,
                              struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(key) || run_id > (uint64_t)INT64_MAX)
        return invalid(reterr, "idempotency key is empty or run id above INT64_MAX");
    return store->ops->idempotency_set_run(store, key, run_id, reterr);
}

int store_idempotency_prune(struct store *store, int64_t before_ms, struct store_error *reterr)
{
    ENTER(store, reterr);
    return store->ops->idempotency_prune(store, before_ms, reterr);
}

int store_run_list_by_correlation(struct store *store, const char *correlation_id, int64_t limit,
                                  struct store_run_list *ret_list, struct store_error *reterr)
{
    ENTER(store, reterr);
    if (is_empty(correlation_id))
        return invalid(reterr, "correlation id is empty");
    return store->ops->run_list_by_correlation(store, correlation_id, limit, ret_list, reterr);
}

int store_run_context_put(struct store *store, uint64_t run_id, const char *json,
                          struct store_error *reterr)
{
    ENTER(store, reterr);
    if (run_id == 0 || run_id > (uint64_t)INT64_MAX || !json)
        return invalid(reterr, "run id out of range or context missing");
    return store->ops->run_context_put(store, run_id, json, reterr);
}

int store_run_context_get(struct store *store, uint64_t run_id, char **ret_json,
                          struct store_error *reterr)
{
    ENTER(store, reterr);
    if (run_id == 0 || run_id > (uint64_t)INT64_MAX)
        return invalid(reterr, "run id out of range");
    return store->ops->run_context_get(store, run_id, ret_json, reterr);
}
