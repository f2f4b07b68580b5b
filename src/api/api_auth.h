/*
 * api_auth - who may call what: the principal of a request, the route x role
 * x tenant policy, the audit log of every mutation, and the token and audit
 * API (CreateToken, ListTokens, RevokeToken, ListAuditLog).
 *
 * Policy (docs/security.md):
 *   - every RPC needs a valid bearer token: none, an unknown, malformed or
 *     revoked one is 401;
 *   - a role below the route's is 403 (viewer reads, operator writes jobs and
 *     triggers runs, admin everything: shell executors, tokens, audit log);
 *   - a token bound to a tenant (campaign_id) sees only that tenant: another
 *     tenant's job answers 404 exactly as a missing one (existence does not
 *     leak), creating or moving a job into another tenant is 403, ListJobs is
 *     narrowed to its tenant.  A route this table does not know to be
 *     tenant-safe refuses tenant-bound tokens (403) until it is added here.
 *
 * Audit: a mutation's entry (actor, method, target, before and after JSON) is
 * written in the mutation's own transaction: job handlers call
 * api_call_commit_job() where they used to hand the change to the core, so
 * the store write, its audit entry and nothing else commit together before
 * the core hears of it.  Mutations made by the core itself (RunJob's run) and
 * routes without a commit point get their entry after success, in its own
 * transaction, with the response as "after".
 *
 * Loop thread only.  One request at a time: the call in progress is
 * remembered between api_call_begin() and api_call_end().
 */
#ifndef OVSCHED_API_API_AUTH_H
#define OVSCHED_API_API_AUTH_H

#include <jansson.h>
#include <stdbool.h>

#include "api/http_server.h"
#include "auth/auth.h"

struct daemon;

/* The principal REQ authenticates as (Authorization: Bearer <token>).
 * Returns 0, -EACCES with a static reason (answer 401), or a store error.
 * The events stream calls this and filters with auth_principal_sees(). */
int api_auth_principal(struct daemon *d, const struct http_request *req, struct auth_principal *ret,
                       const char **ret_reason);

/* The same for the event streams (SSE, WebSocket), whose browser clients
 * cannot always set a header (EventSource): the Authorization header, or
 * else the `access_token` query argument. */
int api_auth_principal_stream(struct daemon *d, const struct http_request *req,
                              struct auth_principal *ret, const char **ret_reason);

struct api_call;

/* Fill CALL->principal from REQ, or reply 401 (logged as a warning without
 * the token) and return -EACCES, or reply 500 on a store error. */
int api_call_authenticate(struct daemon *d, const struct http_request *req, struct api_call *call,
                          struct http_response *resp);

struct api_call {
    const char *method; /* RPC method name */
    bool mutates;
    struct auth_principal principal;
    /* filled by api_call_begin() */
    bool txn;     /* a store transaction is open for the handler */
    bool audited; /* the entry is written */
    char *target;
    json_t *before;
};

/* Authorize CALL->method for CALL->principal on BODY (a tenant-bound token's
 * missing campaign_id is filled in), remember the target's state before, and
 * open the transaction of routes that commit in the handler.  Returns 0, or a
 * negative errno after replying (403, 404, 400). */
int api_call_begin(struct daemon *d, struct api_call *call, json_t *body,
                   struct http_response *resp);

/* A job handler's commit point: append the audit entry of job JOB_ID (before,
 * and after as stored now) and commit.  Returns true when committed (or when
 * no transaction is open), false after replying with the store's error: the
 * handler must then leave the core alone. */
bool api_call_commit_job(struct daemon *d, const char *job_id, struct http_response *resp);

/* Finish CALL: commit or roll back what is open, audit a successful mutation
 * that has no entry yet, release CALL. */
void api_call_end(struct daemon *d, struct api_call *call, struct http_response *resp);

/* Whether the call being served has the admin role (true outside a call:
 * the daemon's own work).  For checks a handler makes on what it derives
 * from the request, such as a job rendered from a pattern (src/patterns). */
bool api_call_is_admin(void);

/* Writers outside the API (the watched job folder) audit their job writes
 * inside their own transaction: take the stored state of job ID before the
 * write (NULL: none), then after a successful write append the entry by
 * system actor ACTOR_ID / ACTOR_NAME (e.g. "jobs-dir", the file) for ACTION
 * ("CreateJob", "UpdateJob", "DeleteJob").  api_audit_job() takes BEFORE.
 * Returns 0 or the store's error. */
json_t *api_audit_job_before(struct daemon *d, const char *id);
int api_audit_job(struct daemon *d, const char *actor_id, const char *actor_name,
                  const char *action, const char *id, json_t *before, struct store_error *err);

void api_create_token(struct daemon *d, json_t *body, struct http_response *resp);
void api_list_tokens(struct daemon *d, json_t *body, struct http_response *resp);
void api_whoami(struct daemon *d, json_t *body, struct http_response *resp);
void api_revoke_token(struct daemon *d, json_t *body, struct http_response *resp);
void api_list_audit_log(struct daemon *d, json_t *body, struct http_response *resp);

/* The plain GET routes: /healthz, /readyz, /metrics, /openapi.json.  Returns
 * true when PATH is one of them (RESP is then filled). */
bool api_ops_handle(struct daemon *d, const char *method, const char *path,
                    struct http_response *resp);

/* The OpenAPI 3.0 document of every route (api_openapi.c); a new reference. */
json_t *api_openapi_document(void);

/* From api.c: the route table, for the OpenAPI document. */
size_t api_route_count(void);
const char *api_route_name(size_t i, bool *ret_mutates);
/* From api.c: the error reply of ERROR (negative errno) with MESSAGE. */
void api_reply_errno(struct http_response *resp, int error, const char *message);

/* The events module's authorizer (events_set_authorizer()): D is the daemon. */
struct events_filter;
int api_auth_events_authorizer(void *ctx, const struct http_request *req,
                               struct events_filter *filter);

#endif
