/*
 * api_openapi - the OpenAPI 3.0 document served at /openapi.json.
 *
 * Generated from the route table at each request: every RPC route of api.c
 * appears, with the request and response schemas listed below when this file
 * knows them and a generic object otherwise, so a route added to api.c can
 * never be missing from the document (tests/e2e/test_auth.py checks).  The
 * plain paths (health, metrics, events) are listed here by hand.
 */
#include <glib.h>
#include <string.h>

#include "api/api_auth.h"

#define RPC_PREFIX "/scheduler.v1.SchedulerService/"

/* Schemas as JSON text: $ref to the components below, or inline outlines. */
#define REF(name)  "{\"$ref\":\"#/components/schemas/" name "\"}"
#define OBJ(props) "{\"type\":\"object\",\"properties\":{" props "}}"
#define STR        "{\"type\":\"string\"}"
#define INT        "{\"type\":\"integer\"}"
#define BOOL       "{\"type\":\"boolean\"}"
#define PAGE       "\"page\":" INT ",\"page_size\":" INT
#define PAGED(key, item)                                                                           \
    OBJ("\"" key "\":{\"type\":\"array\",\"items\":" item "},\"total_count\":" INT                 \
        ",\"page\":" INT ",\"total_pages\":" INT)

static const struct rpc_doc {
    const char *method;
    const char *summary;
    const char *request;
    const char *response;
} docs[] = {
    {"CreateJob", "Create a job (operator; shell executors need admin).",
     OBJ("\"job\":" REF("Job")), OBJ("\"job\":" REF("Job"))},
    {"UpdateJob", "Replace a job; `version` refuses stale writes.",
     OBJ("\"job\":" REF("Job") ",\"version\":" INT), OBJ("\"job\":" REF("Job"))},
    {"DeleteJob", "Delete a job with its runs.", OBJ("\"job_id\":" STR), OBJ("\"success\":" BOOL)},
    {"GetJob", "Read one job.", OBJ("\"job_id\":" STR), OBJ("\"job\":" REF("Job"))},
    {"ListJobs", "List jobs (a tenant-bound token sees its tenant only).",
     OBJ(PAGE ",\"status\":" STR ",\"campaign_id\":" INT ",\"labels\":{\"type\":\"object\"}"),
     PAGED("jobs", REF("Job"))},
    {"RunJob", "Start a run now.", OBJ("\"job_id\":" STR), OBJ("\"run\":" REF("Run"))},
    {"ListJobRuns", "A job's runs, newest first.", OBJ("\"job_id\":" STR "," PAGE),
     PAGED("runs", REF("Run"))},
    {"GetJobStatus", "Status, current and last run, next fire time, why not running.",
     OBJ("\"job_id\":" STR),
     OBJ("\"job_id\":" STR ",\"status\":" STR ",\"next_run_time\":" STR ",\"current_run\":" REF(
         "Run") ",\"last_run\":" REF("Run") ",\"retry\":{\"type\":\"object\"},\"blocked_by\":{"
                                            "\"type\":\"array\"},\"reason\":" STR)},
    {"PauseJob", "Pause a job.", OBJ("\"job_id\":" STR), OBJ("\"job\":" REF("Job"))},
    {"ResumeJob", "Resume a paused job.", OBJ("\"job_id\":" STR), OBJ("\"job\":" REF("Job"))},
    {"PreviewSchedule", "The next fire times of a schedule, with DST notes.",
     OBJ("\"cron\":" STR ",\"timezone\":" STR ",\"from\":" STR ",\"count\":" INT),
     OBJ("\"times\":{\"type\":\"array\",\"items\":" STR "},\"notes\":{\"type\":\"array\","
         "\"items\":" STR "},\"timezone\":" STR)},
    {"GetJobsDirStatus", "The watched job folder (serve --jobs-dir): its files and errors.",
     OBJ(""), "{\"type\":\"object\"}"},
    {"CreateToken", "Create an API token (admin).  The secret is shown once.",
     OBJ("\"name\":" STR ",\"role\":{\"type\":\"string\",\"enum\":[\"admin\",\"operator\","
         "\"viewer\"]},\"campaign_id\":" INT),
     OBJ("\"token\":" REF("Token") ",\"secret\":" STR)},
    {"ListTokens", "List API tokens (admin), never their secrets.", OBJ(""),
     OBJ("\"tokens\":{\"type\":\"array\",\"items\":" REF("Token") "}")},
    {"RevokeToken", "Revoke an API token (admin).", OBJ("\"token_id\":" STR),
     OBJ("\"token\":" REF("Token"))},
    {"ListAuditLog", "The audit log of mutations, newest first (admin).",
     OBJ("\"job_id\":" STR ",\"target\":" STR ",\"actor\":" STR ",\"since\":" STR "," PAGE),
     PAGED("entries", REF("AuditEntry"))},
};

static const char *const components =
    "{\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}},"
    "\"schemas\":{"
    "\"Error\":" OBJ(
        "\"code\":" STR
        ",\"message\":" STR) ","
                             "\"Job\":{\"type\":\"object\",\"additionalProperties\":true,"
                             "\"properties\":{"
                             "\"id\":" STR ",\"name\":" STR ",\"campaign_id\":" INT
                             ",\"owner\":" STR ",\"labels\":{\"type\":\"object\"},\"status\":{"
                             "\"type\":\"string\",\"enum\":[\"ACTIVE\","
                             "\"PAUSED\",\"DISABLED\",\"COMPLETED\",\"FAILED\"]},\"executor\":{"
                             "\"type\":\"object\"},"
                             "\"payload\":" STR
                             ",\"metadata\":{\"type\":\"object\"},\"version\":" INT
                             ",\"created_at\":" STR ",\"updated_at\":" STR ",\"next_run_time\":" STR
                             "}},"
                             "\"Run\":" OBJ(
                                 "\"id\":" STR ",\"job_id\":" STR ",\"status\":" STR
                                 ",\"trigger\":" STR ",\"attempt\":" INT ",\"scheduled_at\":" STR
                                 ",\"started_at\":" STR ",\"finished_at\":" STR
                                 ",\"exit_code\":" INT ",\"output\":" STR ",\"error\":" STR
                                 ",\"correlation_id\":" STR) ","
                                                             "\"Token\":" OBJ(
                                                                 "\"id\":" STR ",\"name\":" STR
                                                                 ",\"role\":" STR
                                                                 ",\"campaign_id\":" INT
                                                                 ",\"created_at\":" STR
                                                                 ",\"revoked_at\":" STR
                                                                 ",\"created_by\":" STR) ","
                                                                                         "\"AuditEn"
                                                                                         "try\""
                                                                                         ":" OBJ(
                                                                                             "\"id"
                                                                                             "\""
                                                                                             ":" STR
                                                                                             ",\"at"
                                                                                             "\""
                                                                                             ":" STR
                                                                                             ",\"ac"
                                                                                             "tor\""
                                                                                             ":" OBJ(
                                                                                                 "\"id\":" STR
                                                                                                 ","
                                                                                                 "\"name\":" STR) ",\"action\":" STR
                                                                                                                  ",\"target\":" STR
                                                                                                                  ",\"campaign_id\":" INT
                                                                                                                  ",\"before\":{},\"after\":{}") "}}";

/* Plain routes: path, method, summary, response content type, needs a token. */
static const struct plain_doc {
    const char *path;
    const char *summary;
    const char *type;
    bool auth;
} plain[] = {
    {"/healthz", "Liveness: 200 while the process serves.", "application/json", false},
    {"/readyz", "Readiness: 200 when the store answers and the daemon is not stopping, else 503.",
     "application/json", false},
    {"/metrics", "Prometheus metrics (text format 0.0.4), names prefixed ovsched_.", "text/plain",
     false},
    {"/openapi.json", "This document.", "application/json", false},
    {"/v1/events", "Server-Sent Events: the event stream (since, type, job_id filters).",
     "text/event-stream", true},
    {"/v1/events/ws", "WebSocket: the event stream with filters by type, job and tenant.",
     "application/json", true},
};

static json_t *parse(const char *text)
{
    json_t *value = json_loads(text, 0, NULL);
    g_assert(value); /* the texts above are constants: a typo is a programming error */
    return value;
}

static json_t *error_responses(void)
{
    json_t *out = json_object();
    static const char *const codes[][2] = {
        {"400", "invalid_argument: a bad field (the message names it)"},
        {"401", "unauthenticated: no, an unknown or a revoked bearer token"},
        {"403", "permission_denied: the token's role or tenant does not allow this"},
        {"404", "not_found (also another tenant's job)"},
        {"409", "already_exists, aborted (stale version), failed_precondition"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(codes); i++)
        json_object_set_new(out, codes[i][0],
                            json_pack("{ss s{s{s{ss}}}}", "description", codes[i][1], "content",
                                      "application/json", "schema", "$ref",
                                      "#/components/schemas/Error"));
    return out;
}

static json_t *rpc_operation(const char *method, bool mutates)
{
    const struct rpc_doc *doc = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(docs); i++)
        if (strcmp(docs[i].method, method) == 0)
            doc = &docs[i];
    json_t *request = doc ? parse(doc->request) : json_pack("{ss}", "type", "object");
    json_t *response = doc ? parse(doc->response) : json_pack("{ss}", "type", "object");
    json_t *responses = error_responses();
    json_object_set_new(responses, "200",
                        json_pack("{ss s{s{so}}}", "description", "OK", "content",
                                  "application/json", "schema", response));
    char *summary = g_strdup_printf("%s%s", doc ? doc->summary : method,
                                    mutates ? " Mutation: written to the audit log." : "");
    json_t *op =
        json_pack("{ss ss s[s] s{sb s{s{so}}} so}", "operationId", method, "summary", summary,
                  "tags", "SchedulerService", "requestBody", "required", 1, "content",
                  "application/json", "schema", request, "responses", responses);
    g_free(summary);
    return json_pack("{so}", "post", op);
}

static json_t *plain_operation(const struct plain_doc *doc)
{
    json_t *op = json_pack("{ss s{s{ss s{s{s{}}}}}}", "summary", doc->summary, "responses", "200",
                           "description", "OK", "content", doc->type, "schema");
    if (!doc->auth)
        json_object_set_new(op, "security", json_array());
    return json_pack("{so}", "get", op);
}

json_t *api_openapi_document(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < api_route_count(); i++) {
        bool mutates;
        const char *method = api_route_name(i, &mutates);
        char *path = g_strconcat(RPC_PREFIX, method, NULL);
        json_object_set_new(paths, path, rpc_operation(method, mutates));
        g_free(path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++)
        json_object_set_new(paths, plain[i].path, plain_operation(&plain[i]));
    return json_pack("{ss s{ss ss ss} s[{s[]}] so so}", "openapi", "3.0.3", "info", "title",
                     "ovsched", "version", "0.1.0", "description",
                     "The OVASABI Scheduler Service API (SPEC section 8).", "security", "bearer",
                     "paths", paths, "components", parse(components));
}
