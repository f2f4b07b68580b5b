/*
 * api - the JSON API of SPEC section 8 on the daemon's HTTP server.
 *
 * One table lists every route: its method and path, the handler, and whether
 * it changes state.  RPC routes are `POST /scheduler.v1.SchedulerService/
 * <Method>` with a JSON object body; errors are an HTTP status with
 * `{"code", "message"}`, mapped from negative errno in one table.
 */
#ifndef OVSCHED_API_API_H
#define OVSCHED_API_API_H

#include "api/http_server.h"

struct daemon;

#include <jansson.h>

/* Answer REQ.  Runs on the daemon's loop. */
void api_handle(struct daemon *d, const struct http_request *req, struct http_response *resp);

/* For handlers in other modules (patterns): reply BODY (taken) with STATUS;
 * reply an error (negative errno, mapped by the one table) with a message. */
void api_reply_json(struct http_response *resp, int status, json_t *body);
void api_reply_error(struct http_response *resp, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Call RPC METHOD with BODY (borrowed) as if a client had: RESP gets the
 * answer (free RESP->body).  For re-rendering the jobs of a pattern. */
void api_invoke(struct daemon *d, const char *method, json_t *body, struct http_response *resp);

#endif
