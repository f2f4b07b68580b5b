/*
 * api_auth - authentication, the route policy, the audit log and the token
 * API.  See api_auth.h for the policy and docs/security.md for why.
 */
#include "api/api_auth.h"

#include <errno.h>
#include <glib.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/timefmt.h"
#include "daemon/daemon.h"
#include "ops/log.h"
#include "ops/metrics.h"

#define DEFAULT_PAGE_SIZE  50
#define MAX_PAGE_SIZE      1000
#define MAX_PAGE           1000000000
#define MAX_NAME_LEN       128
#define SHELL_SEARCH_DEPTH 8

/* How a route treats a tenant-bound token. */
enum tenant_rule {
    TENANT_DENY, /* not reviewed for tenants: refused (the default) */
    TENANT_JOB,  /* names one job (job_id or job.id, job.campaign_id) */
    TENANT_LIST, /* lists jobs: narrowed to the token's tenant */
    TENANT_FREE, /* touches no tenant's data (PreviewSchedule) */
    TENANT_SELF, /* the handler filters (tokens, audit log) */
};

static const struct policy {
    const char *method;
    enum auth_role need;
    enum tenant_rule tenant;
    bool txn;      /* the handler commits its store writes itself (a commit point) */
    bool triggers; /* runs, pauses or resumes the job, never changes its executor:
                      an operator may do it to an admin's shell job */
} policies[] = {
    {"CreateJob", AUTH_ROLE_OPERATOR, TENANT_JOB, true, false},
    {"UpdateJob", AUTH_ROLE_OPERATOR, TENANT_JOB, true, false},
    {"DeleteJob", AUTH_ROLE_OPERATOR, TENANT_JOB, true, false},
    {"GetJob", AUTH_ROLE_VIEWER, TENANT_JOB, false, false},
    {"ListJobs", AUTH_ROLE_VIEWER, TENANT_LIST, false, false},
    {"RunJob", AUTH_ROLE_OPERATOR, TENANT_JOB, false, true},
    {"ListJobRuns", AUTH_ROLE_VIEWER, TENANT_JOB, false, false},
    {"GetJobStatus", AUTH_ROLE_VIEWER, TENANT_JOB, false, false},
    {"PauseJob", AUTH_ROLE_OPERATOR, TENANT_JOB, true, true},
    {"ResumeJob", AUTH_ROLE_OPERATOR, TENANT_JOB, true, true},
    {"PreviewSchedule", AUTH_ROLE_VIEWER, TENANT_FREE, false, false},
    {"CreateToken", AUTH_ROLE_ADMIN, TENANT_SELF, true, false},
    {"ListTokens", AUTH_ROLE_ADMIN, TENANT_SELF, false, false},
    {"RevokeToken", AUTH_ROLE_ADMIN, TENANT_SELF, true, false},
    {"ListAuditLog", AUTH_ROLE_ADMIN, TENANT_SELF, false, false},
    /* the folder holds every tenant's jobs: not for tenant-bound tokens */
    {"GetJobsDirStatus", AUTH_ROLE_VIEWER, TENANT_DENY, false, false},
    /* the graph and a bulk apply span every tenant's jobs: not for tenant-bound
     * tokens; ApplyJobs commits its own batch */
    {"GetJobGraph", AUTH_ROLE_VIEWER, TENANT_DENY, false, false},
    {"ApplyJobs", AUTH_ROLE_OPERATOR, TENANT_DENY, false, false},
    {"ListJobDecisions", AUTH_ROLE_VIEWER, TENANT_JOB, false, false},
    {"WhoAmI", AUTH_ROLE_VIEWER, TENANT_FREE, false, false},
    /* patterns and orchestration (src/patterns): patterns belong to no tenant,
     * flows and events may span tenants, a trigger by pattern creates a job:
     * not for tenant-bound tokens until reviewed for tenants */
    {"RegisterPattern", AUTH_ROLE_OPERATOR, TENANT_DENY, false, false},
    {"ListPatterns", AUTH_ROLE_VIEWER, TENANT_DENY, false, false},
    {"GetPattern", AUTH_ROLE_VIEWER, TENANT_DENY, false, false},
    {"DeletePattern", AUTH_ROLE_OPERATOR, TENANT_DENY, false, false},
    {"TriggerJobFromOrchestration", AUTH_ROLE_OPERATOR, TENANT_DENY, false, true},
    {"GetFlowStatus", AUTH_ROLE_VIEWER, TENANT_DENY, false, false},
    {"CompleteRun", AUTH_ROLE_OPERATOR, TENANT_DENY, false, false},
    {"PublishEvent", AUTH_ROLE_OPERATOR, TENANT_DENY, false, false},
};

/* The request being served (one at a time, on the loop). */
static struct api_call *current;

static void reply_json(struct http_response *resp, int status, json_t *body)
{
    resp->status = status;
    resp->body = json_dumps(body, JSON_COMPACT);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(body);
}

static void reply_errorf(struct http_response *resp, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_errorf(struct http_response *resp, int error, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    free(resp->body); /* a handler may have filled it before a late failure */
    resp->body = NULL;
    api_reply_errno(resp, error, message);
}

static struct policy policy_of(const struct api_call *call)
{
    for (size_t i = 0; i < G_N_ELEMENTS(policies); i++)
        if (strcmp(policies[i].method, call->method) == 0)
            return policies[i];
    return (struct policy){call->method, call->mutates ? AUTH_ROLE_OPERATOR : AUTH_ROLE_VIEWER,
                           TENANT_DENY, false, false};
}

/* ---- authentication ------------------------------------------------------ */

int api_auth_principal(struct daemon *d, const struct http_request *req, struct auth_principal *ret,
                       const char **ret_reason)
{
    const char *header = http_request_header(req, "Authorization");
    if (!header || g_ascii_strncasecmp(header, "Bearer ", 7) != 0 || !header[7]) {
        *ret_reason = "missing bearer token";
        return -EACCES;
    }
    return auth_authenticate(d->store, d->config.admin_token, header + 7, ret, ret_reason);
}

int api_auth_principal_stream(struct daemon *d, const struct http_request *req,
                              struct auth_principal *ret, const char **ret_reason)
{
    const char *query = http_request_query(req, "access_token");
    if (http_request_header(req, "Authorization") || !query || !*query)
        return api_auth_principal(d, req, ret, ret_reason);
    return auth_authenticate(d->store, d->config.admin_token, query, ret, ret_reason);
}

int api_call_authenticate(struct daemon *d, const struct http_request *req, struct api_call *call,
                          struct http_response *resp)
{
    const char *reason = "invalid bearer token";
    int r = api_auth_principal(d, req, &call->principal, &reason);
    if (r == -EACCES) {
        reply_errorf(resp, r, "%s (send Authorization: Bearer <token>)", reason);
        log_write(
            "warn", daemon_now_ms(),
            json_pack("{ss ss ss}", "method", call->method, "status", "401", "reason", reason),
            "refused %s: %s", call->method, reason);
    } else if (r < 0) {
        reply_errorf(resp, -EIO, "cannot check the token: store error");
    }
    return r;
}

/* ---- the policy ------------------------------------------------------------ */

/* The first executor in JSON, at any depth up to DEPTH, for which MATCH
 * holds, or NULL: whatever shape a route's body has (one job, a list of jobs,
 * a pattern). */
static json_t *find_executor(json_t *json, int depth, bool (*match)(json_t *ex))
{
    if (depth <= 0)
        return NULL;
    json_t *found = NULL, *value;
    if (json_is_object(json)) {
        json_t *ex = json_object_get(json, "executor");
        if (json_is_object(ex) && match(ex))
            return ex;
        const char *key;
        json_object_foreach(json, key, value)
        {
            if ((found = find_executor(value, depth - 1, match)))
                return found;
        }
    } else if (json_is_array(json)) {
        size_t i;
        json_array_foreach(json, i, value)
        {
            if ((found = find_executor(value, depth - 1, match)))
                return found;
        }
    }
    return NULL;
}

static bool is_shell(json_t *ex)
{
    const char *type = json_string_value(json_object_get(ex, "type"));
    return type && strcmp(type, "shell") == 0;
}

static bool has_run_as(json_t *ex)
{
    return json_object_get(ex, "run_as") != NULL;
}

static bool has_shell_executor(json_t *json, int depth)
{
    return find_executor(json, depth, is_shell) != NULL;
}

/* run_as (docs/security.md, "What a job can reach"): only an admin bound to
 * no tenant may name a user, and only one the daemon can switch to; a job
 * whose stored executor names one is changed only by such an admin (a tenant
 * admin would otherwise run its own command as that user).  Returns 0, or
 * -EPERM / -EINVAL after replying. */
static int check_run_as(const struct api_call *call, json_t *body, json_t *before,
                        struct http_response *resp)
{
    const struct auth_principal *p = &call->principal;
    bool unbound_admin = p->role == AUTH_ROLE_ADMIN && !p->has_campaign_id;
    json_t *ex = find_executor(body, SHELL_SEARCH_DEPTH, has_run_as);
    if (ex && !unbound_admin) {
        reply_errorf(resp, -EPERM,
                     "executor.run_as: only an admin token bound to no tenant may "
                     "choose the user a job runs as");
        return -EPERM;
    }
    const char *user = json_string_value(json_object_get(ex, "run_as"));
    char reason[256];
    if (user && exec_run_as_check(user, reason, sizeof(reason)) < 0) {
        reply_errorf(resp, -EINVAL, "executor.run_as: %s", reason);
        return -EINVAL;
    }
    if (before && !unbound_admin && call->mutates && find_executor(before, 2, has_run_as)) {
        reply_errorf(resp, -EPERM,
                     "job runs as a user an admin chose (executor.run_as): only an admin token "
                     "bound to no tenant may change it");
        return -EPERM;
    }
    return 0;
}

/* The job id BODY names: job_id, or job.id. */
static const char *body_job_id(json_t *body)
{
    const char *id = json_string_value(json_object_get(body, "job_id"));
    return id ? id : json_string_value(json_object_get(json_object_get(body, "job"), "id"));
}

/* The stored job ID as the audit log shows it (document + version), or NULL. */
static json_t *job_snapshot(struct daemon *d, const char *id, int64_t *ret_campaign)
{
    struct store_job job;
    if (!id || store_job_get(d->store, id, &job, NULL) < 0)
        return NULL;
    json_t *doc = json_loads(job.json, 0, NULL);
    if (doc) {
        json_object_set_new(doc, "version", json_integer(job.version));
        if (ret_campaign)
            *ret_campaign = job.campaign_id;
    }
    store_job_release(&job);
    return doc;
}

/* A tenant-bound token writing a job: the job's campaign_id must be its own
 * (filled in when absent).  Returns 0 or -EPERM after replying. */
static int claim_tenant(const struct auth_principal *p, json_t *object, const char *field,
                        struct http_response *resp)
{
    json_t *campaign = json_object_get(object, "campaign_id");
    if (!campaign) {
        json_object_set_new(object, "campaign_id", json_integer(p->campaign_id));
        return 0;
    }
    if (json_is_integer(campaign) && json_integer_value(campaign) == p->campaign_id)
        return 0;
    reply_errorf(resp, -EPERM, "%s: this token is bound to campaign_id %lld", field,
                 (long long)p->campaign_id);
    return -EPERM;
}

static int check_tenant(struct api_call *call, const struct policy *policy, json_t *body,
                        struct http_response *resp)
{
    const struct auth_principal *p = &call->principal;
    switch (policy->tenant) {
    case TENANT_FREE:
    case TENANT_SELF:
        return 0;
    case TENANT_LIST:
        return claim_tenant(p, body, "campaign_id", resp);
    case TENANT_JOB: {
        json_t *job = json_object_get(body, "job");
        return json_is_object(job) ? claim_tenant(p, job, "job.campaign_id", resp) : 0;
    }
    case TENANT_DENY:
    default:
        reply_errorf(resp, -EPERM, "%s is not available to tokens bound to a tenant", call->method);
        return -EPERM;
    }
}

int api_call_begin(struct daemon *d, struct api_call *call, json_t *body,
                   struct http_response *resp)
{
    struct policy policy = policy_of(call);
    const struct auth_principal *p = &call->principal;
    current = call;
    if (!auth_role_allows(p->role, policy.need)) {
        reply_errorf(resp, -EPERM, "%s needs the %s role; this token is %s", call->method,
                     auth_role_to_string(policy.need), auth_role_to_string(p->role));
        return -EPERM;
    }
    bool not_admin = !auth_role_allows(p->role, AUTH_ROLE_ADMIN);
    if (not_admin && has_shell_executor(body, SHELL_SEARCH_DEPTH)) {
        reply_errorf(resp, -EPERM, "executor.type: shell jobs need an admin token");
        return -EPERM;
    }
    const char *id = policy.tenant == TENANT_JOB ? body_job_id(body) : NULL;
    int64_t campaign = 0;
    json_t *before = job_snapshot(d, id, &campaign);
    if (before && !auth_principal_sees(p, campaign)) {
        /* Another tenant's job reads as no job at all. */
        json_decref(before);
        reply_errorf(resp, -ENOENT, "%s: no job '%s'",
                     json_object_get(body, "job_id") ? "job_id" : "job.id", id);
        return -ENOENT;
    }
    if (before && not_admin && call->mutates && !policy.triggers && has_shell_executor(before, 2)) {
        json_decref(before);
        reply_errorf(resp, -EPERM, "job '%s' runs a shell executor: only an admin may change it",
                     id);
        return -EPERM;
    }
    int r;
    if ((r = check_run_as(call, body, policy.triggers ? NULL : before, resp)) < 0 ||
        (p->has_campaign_id && (r = check_tenant(call, &policy, body, resp)) < 0)) {
        json_decref(before);
        return r;
    }
    call->before = before;
    call->target = g_strdup(id);
    if (call->mutates && policy.txn) {
        struct store_error err = {0};
        if (store_begin(d->store, &err) < 0) {
            reply_errorf(resp, -EIO, "store: cannot start a transaction: %s", err.message);
            return -EIO;
        }
        call->txn = true;
    }
    return 0;
}

/* ---- audit ------------------------------------------------------------------ */

/* Append an entry by ACTOR for ACTION on TARGET with BEFORE and AFTER
 * (borrowed). */
static int audit_append_as(struct daemon *d, const struct auth_principal *actor, const char *action,
                           const char *target, json_t *before, json_t *after,
                           struct store_error *err)
{
    char *before_text = before ? json_dumps(before, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *after_text = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    /* The target's tenant: from after, or before (RunJob's after is the run). */
    json_t *campaign = json_object_get(after, "campaign_id");
    if (!json_is_integer(campaign))
        campaign = json_object_get(before, "campaign_id");
    struct store_audit entry = {
        .at_ms = daemon_now_ms(),
        .actor_id = actor->id,
        .actor_name = actor->name,
        .action = action,
        .target = target,
        .has_campaign_id = json_is_integer(campaign),
        .campaign_id = json_integer_value(campaign),
        .before = before_text,
        .after = after_text,
    };
    int r = store_audit_append(d->store, &entry, NULL, err);
    free(before_text);
    free(after_text);
    return r;
}

/* Append the entry of the current call. */
static int audit_append(struct daemon *d, const char *target, json_t *before, json_t *after,
                        struct store_error *err)
{
    int r = audit_append_as(d, &current->principal, current->method, target, before, after, err);
    current->audited = r == 0;
    return r;
}

json_t *api_audit_job_before(struct daemon *d, const char *id)
{
    return job_snapshot(d, id, NULL);
}

int api_audit_job(struct daemon *d, const char *actor_id, const char *actor_name,
                  const char *action, const char *id, json_t *before, struct store_error *err)
{
    struct auth_principal actor = {0};
    g_strlcpy(actor.id, actor_id, sizeof(actor.id));
    g_strlcpy(actor.name, actor_name ? actor_name : actor_id, sizeof(actor.name));
    json_t *after = job_snapshot(d, id, NULL);
    int r = audit_append_as(d, &actor, action, id, before, after, err);
    json_decref(before);
    json_decref(after);
    return r;
}

static int timed_commit(struct daemon *d, struct store_error *err)
{
    gint64 start = g_get_monotonic_time();
    int r = store_commit(d->store, err);
    metrics_store_latency_observe((double)(g_get_monotonic_time() - start) / 1e6);
    return r;
}

bool api_call_commit_job(struct daemon *d, const char *job_id, struct http_response *resp)
{
    if (!current || !current->txn)
        return true;
    struct store_error err = {0};
    json_t *after = job_snapshot(d, job_id, NULL);
    int r = audit_append(d, job_id, current->before, after, &err);
    json_decref(after);
    current->txn = false;
    if (r < 0) {
        store_rollback(d->store);
    } else if ((r = timed_commit(d, &err)) < 0) {
        current->audited = false;
    }
    if (r < 0)
        reply_errorf(resp, -EIO, "store: the change was not committed: %s", err.message);
    return r == 0;
}

/* The entry of a mutation that had no commit point: after = the response. */
static void audit_after_success(struct daemon *d, struct api_call *call,
                                const struct http_response *resp)
{
    json_t *after = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    struct store_error err = {0};
    if (audit_append(d, call->target, call->before, after, &err) < 0)
        log_write("error", daemon_now_ms(), json_pack("{ss}", "method", call->method),
                  "audit entry of %s not written: %s", call->method, err.message);
    json_decref(after);
}

bool api_call_is_admin(void)
{
    return !current || auth_role_allows(current->principal.role, AUTH_ROLE_ADMIN);
}

void api_call_end(struct daemon *d, struct api_call *call, struct http_response *resp)
{
    bool ok = resp->status >= 200 && resp->status < 300;
    if (resp->status == 403)
        log_write("warn", daemon_now_ms(),
                  json_pack("{ss ss ss ss}", "method", call->method, "status", "403", "token_id",
                            call->principal.id, "token_name", call->principal.name),
                  "refused %s to token %s (%s)", call->method, call->principal.id,
                  call->principal.name);
    if (call->txn) {
        struct store_error err = {0};
        call->txn = false;
        if (!ok || !call->audited)
            store_rollback(d->store);
        else if (timed_commit(d, &err) < 0)
            reply_errorf(resp, -EIO, "store: the change was not committed: %s", err.message);
    } else if (ok && call->mutates && !call->audited) {
        audit_after_success(d, call, resp);
    }
    json_decref(call->before);
    g_free(call->target);
    call->before = NULL;
    call->target = NULL;
    current = NULL;
}

/* ---- tokens ------------------------------------------------------------------ */

static json_t *time_or_null(int64_t at_ms)
{
    char text[TIMEFMT_RFC3339_SIZE];
    return at_ms > 0 ? json_string(timefmt_rfc3339_format(at_ms / 1000, text)) : json_null();
}

/* A token as the API shows it: never its hash, never its secret. */
static json_t *token_view(const struct store_token *t)
{
    return json_pack("{ss ss ss so so so so}", "id", t->id, "name", t->name, "role", t->role,
                     "campaign_id", t->has_campaign_id ? json_integer(t->campaign_id) : json_null(),
                     "created_at", time_or_null(t->created_at_ms), "revoked_at",
                     time_or_null(t->revoked_at_ms), "created_by",
                     t->created_by ? json_string(t->created_by) : json_null());
}

static bool may_manage(const struct auth_principal *p, const struct store_token *t)
{
    return !p->has_campaign_id || (t->has_campaign_id && t->campaign_id == p->campaign_id);
}

/* Validate CreateToken's body into ROW (strings borrowed from BODY). */
static int parse_new_token(const struct auth_principal *p, json_t *body, struct store_token *row,
                           struct http_response *resp)
{
    json_t *name = json_object_get(body, "name"), *campaign = json_object_get(body, "campaign_id");
    enum auth_role role;
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > MAX_NAME_LEN) {
        reply_errorf(resp, -EINVAL, "name: required, a string of 1-%d bytes", MAX_NAME_LEN);
        return -EINVAL;
    }
    if (auth_role_from_string(json_string_value(json_object_get(body, "role")), &role) < 0) {
        reply_errorf(resp, -EINVAL, "role: required, one of admin, operator, viewer");
        return -EINVAL;
    }
    if (campaign && !json_is_null(campaign) &&
        (!json_is_integer(campaign) || json_integer_value(campaign) < 0)) {
        reply_errorf(resp, -EINVAL, "campaign_id: an integer >= 0, or absent for every tenant");
        return -EINVAL;
    }
    row->name = json_string_value(name);
    row->role = auth_role_to_string(role);
    row->has_campaign_id = json_is_integer(campaign);
    row->campaign_id = json_integer_value(campaign);
    if (p->has_campaign_id && (!row->has_campaign_id || row->campaign_id != p->campaign_id)) {
        if (campaign && !json_is_null(campaign)) {
            reply_errorf(resp, -EPERM, "campaign_id: this token is bound to campaign_id %lld",
                         (long long)p->campaign_id);
            return -EPERM;
        }
        row->has_campaign_id = true; /* a tenant's admin makes tokens of its tenant */
        row->campaign_id = p->campaign_id;
    }
    return 0;
}

void api_create_token(struct daemon *d, json_t *body, struct http_response *resp)
{
    const struct auth_principal *p = &current->principal;
    struct store_token row = {.created_at_ms = daemon_now_ms(), .created_by = p->id};
    if (parse_new_token(p, body, &row, resp) < 0)
        return;
    char id[AUTH_TOKEN_ID_SIZE], text[AUTH_TOKEN_TEXT_SIZE];
    auth_token_generate(id, text);
    row.id = id;
    auth_token_hash(text, row.hash);
    struct store_error err = {0};
    int r = store_token_create(d->store, &row, &err);
    json_t *view = token_view(&row);
    if (r == 0)
        r = audit_append(d, id, NULL, view, &err);
    if (r < 0)
        reply_errorf(resp, -EIO, "store: %s", err.message);
    else
        reply_json(resp, 200, json_pack("{sO ss}", "token", view, "secret", text));
    json_decref(view);
    sodium_memzero(text, sizeof(text));
}

/* WhoAmI: the caller's own token (no secret), so a client such as the web UI
 * can offer only what the token may do. */
void api_whoami(struct daemon *d, json_t *body, struct http_response *resp)
{
    (void)d, (void)body;
    const struct auth_principal *p = &current->principal;
    reply_json(resp, 200,
               json_pack("{ss ss ss so}", "token_id", p->id, "name", p->name, "role",
                         auth_role_to_string(p->role), "campaign_id",
                         p->has_campaign_id ? json_integer(p->campaign_id) : json_null()));
}

void api_list_tokens(struct daemon *d, json_t *body, struct http_response *resp)
{
    (void)body;
    struct store_token_list list;
    struct store_error err = {0};
    if (store_token_list(d->store, &list, &err) < 0) {
        reply_errorf(resp, -EIO, "store: %s", err.message);
        return;
    }
    json_t *tokens = json_array();
    for (size_t i = 0; i < list.count; i++)
        if (may_manage(&current->principal, &list.items[i]))
            json_array_append_new(tokens, token_view(&list.items[i]));
    store_token_list_release(&list);
    reply_json(resp, 200, json_pack("{so}", "tokens", tokens));
}

void api_revoke_token(struct daemon *d, json_t *body, struct http_response *resp)
{
    const char *id = json_string_value(json_object_get(body, "token_id"));
    if (!id || !*id) {
        reply_errorf(resp, -EINVAL, "token_id: required, a non-empty string");
        return;
    }
    if (strcmp(id, AUTH_ENV_TOKEN_ID) == 0) {
        reply_errorf(resp, -EINVAL,
                     "token_id: OVSCHED_ADMIN_TOKEN is not stored; unset it and restart");
        return;
    }
    struct store_token row = {0};
    struct store_error err = {0};
    if (store_token_get(d->store, id, &row, &err) < 0 || !may_manage(&current->principal, &row)) {
        if (row.mem)
            store_token_release(&row);
        reply_errorf(resp, -ENOENT, "token_id: no token '%s'", id);
        return;
    }
    json_t *before = token_view(&row);
    store_token_release(&row);
    int r = store_token_revoke(d->store, id, daemon_now_ms(), &err);
    if (r == 0)
        r = store_token_get(d->store, id, &row, &err);
    json_t *after = r == 0 ? token_view(&row) : NULL;
    if (r == 0)
        store_token_release(&row);
    if (r == 0)
        r = audit_append(d, id, before, after, &err);
    if (r < 0)
        reply_errorf(resp, -EIO, "store: %s", err.message);
    else
        reply_json(resp, 200, json_pack("{sO}", "token", after));
    json_decref(before);
    json_decref(after);
}

/* ---- audit log ------------------------------------------------------------------ */

static json_t *json_or_null(const char *text)
{
    json_t *value = text ? json_loads(text, 0, NULL) : NULL;
    return value ? value : json_null();
}

static json_t *audit_view(const struct store_audit *e)
{
    char id[24];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)e->id);
    return json_pack("{ss so s{ss ss} ss so so so so}", "id", id, "at", time_or_null(e->at_ms),
                     "actor", "id", e->actor_id, "name", e->actor_name, "action", e->action,
                     "target", e->target ? json_string(e->target) : json_null(), "campaign_id",
                     e->has_campaign_id ? json_integer(e->campaign_id) : json_null(), "before",
                     json_or_null(e->before), "after", json_or_null(e->after));
}

/* ListAuditLog's filters into FILTER; replies 400 on a bad one. */
static int parse_audit_filter(json_t *body, struct store_audit_filter *filter, int64_t *page,
                              int64_t *size, struct http_response *resp)
{
    json_t *p = json_object_get(body, "page"), *s = json_object_get(body, "page_size");
    *page = json_is_integer(p) ? json_integer_value(p) : 1;
    *size = json_is_integer(s) ? json_integer_value(s) : DEFAULT_PAGE_SIZE;
    if ((p && !json_is_integer(p)) || *page < 1 || *page > MAX_PAGE) {
        reply_errorf(resp, -EINVAL, "page: must be an integer 1-%d", MAX_PAGE);
        return -EINVAL;
    }
    if ((s && !json_is_integer(s)) || *size < 1 || *size > MAX_PAGE_SIZE) {
        reply_errorf(resp, -EINVAL, "page_size: must be an integer 1-%d", MAX_PAGE_SIZE);
        return -EINVAL;
    }
    static const char *const keys[] = {"job_id", "target", "actor", "since"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v && !json_is_string(v)) {
            reply_errorf(resp, -EINVAL, "%s: must be a string", keys[i]);
            return -EINVAL;
        }
    }
    const char *since = json_string_value(json_object_get(body, "since")), *reason = NULL;
    int64_t since_s = 0;
    if (since && timefmt_rfc3339_parse(since, &since_s, &reason) < 0) {
        reply_errorf(resp, -EINVAL, "since: %s", reason);
        return -EINVAL;
    }
    const char *target = json_string_value(json_object_get(body, "job_id"));
    *filter = (struct store_audit_filter){
        .target = target ? target : json_string_value(json_object_get(body, "target")),
        .actor = json_string_value(json_object_get(body, "actor")),
        .since_ms = since_s * 1000,
        .has_campaign_id = current->principal.has_campaign_id,
        .campaign_id = current->principal.campaign_id,
        .offset = (*page - 1) * *size,
        .limit = *size,
    };
    return 0;
}

void api_list_audit_log(struct daemon *d, json_t *body, struct http_response *resp)
{
    struct store_audit_filter filter;
    int64_t page, size;
    if (parse_audit_filter(body, &filter, &page, &size, resp) < 0)
        return;
    struct store_audit_list list;
    struct store_error err = {0};
    if (store_audit_list(d->store, &filter, &list, &err) < 0) {
        reply_errorf(resp, -EIO, "store: %s", err.message);
        return;
    }
    json_t *entries = json_array();
    for (size_t i = 0; i < list.count; i++)
        json_array_append_new(entries, audit_view(&list.items[i]));
    reply_json(resp, 200,
               json_pack("{so sI sI sI}", "entries", entries, "total_count", (json_int_t)list.total,
                         "page", (json_int_t)page, "total_pages",
                         (json_int_t)((list.total + size - 1) / size)));
    store_audit_list_release(&list);
}

/* ---- /healthz, /readyz, /metrics, /openapi.json ------------------------------------ */

static void reply_text(struct http_response *resp, int status, char *text, const char *type)
{
    resp->status = status;
    resp->body = strdup(text);
    resp->body_len = strlen(text);
    resp->content_type = type;
    g_free(text);
}

static void metrics_reply(struct daemon *d, struct http_response *resp)
{
    static const char *const statuses[] = {"ACTIVE", "PAUSED", "DISABLED", "COMPLETED", "FAILED"};
    int64_t counts[G_N_ELEMENTS(statuses)] = {0};
    for (size_t i = 0; i < G_N_ELEMENTS(statuses); i++) {
        struct store_job_filter filter = {.status = statuses[i], .limit = 0};
        struct store_job_list list;
        if (store_job_list(d->store, &filter, &list, NULL) == 0) {
            counts[i] = list.total;
            store_job_list_release(&list);
        }
    }
    struct metrics_gauges gauges = {
        .runs_in_flight = d->tasks ? g_hash_table_size(d->tasks) : 0,
        .runs_queued = sched_runs_queued(d->sched),
        .job_statuses = statuses,
        .job_counts = counts,
        .job_status_count = G_N_ELEMENTS(statuses),
    };
    reply_text(resp, 200, metrics_render(&gauges), "text/plain; version=0.0.4; charset=utf-8");
}

/* Ready: serving, not stopping, and the store answers a read. */
static void readyz_reply(struct daemon *d, struct http_response *resp)
{
    uint64_t max_id;
    struct store_error err = {0};
    if (d->stopping)
        reply_json(resp, 503, json_pack("{ss ss}", "status", "not_ready", "reason", "stopping"));
    else if (store_run_max_id(d->store, &max_id, &err) < 0)
        reply_json(resp, 503, json_pack("{ss ss}", "status", "not_ready", "reason", err.message));
    else
        reply_json(resp, 200, json_pack("{ss}", "status", "ready"));
}

bool api_ops_handle(struct daemon *d, const char *method, const char *path,
                    struct http_response *resp)
{
    static const char *const paths[] = {"/healthz", "/readyz", "/metrics", "/openapi.json"};
    size_t which = G_N_ELEMENTS(paths);
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
        if (strcmp(path, paths[i]) == 0)
            which = i;
    if (which == G_N_ELEMENTS(paths))
        return false;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply_json(
            resp, 405,
            json_pack("{ss ss}", "code", "method_not_allowed", "message", "this path takes GET"));
        return true;
    }
    if (which == 0)
        reply_json(resp, 200, json_pack("{ss}", "status", "ok"));
    else if (which == 1)
        readyz_reply(d, resp);
    else if (which == 2)
        metrics_reply(d, resp);
    else
        reply_json(resp, 200, api_openapi_document());
    return true;
}

/* Subscriptions (/v1/events, /v1/events/ws): any valid token, viewer and up;
 * a tenant-bound token receives only its tenant's events, whatever filter it
 * asked for.  Browsers cannot set headers on a WebSocket, so the token may
 * also come as ?access_token= (api_auth_principal_stream()). */
int api_auth_events_authorizer(void *ctx, const struct http_request *req,
                               struct events_filter *filter)
{
    struct daemon *d = ctx;
    struct auth_principal p;
    const char *reason;
    if (api_auth_principal_stream(d, req, &p, &reason) < 0)
        return -EACCES;
    if (p.has_campaign_id) {
        filter->has_tenant = true;
        filter->tenant_id = p.campaign_id;
    }
    return 0;
}
