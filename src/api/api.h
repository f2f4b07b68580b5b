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

/* Answer REQ.  Runs on the daemon's loop. */
void api_handle(struct daemon *d, const struct http_request *req, struct http_response *resp);

#endif
