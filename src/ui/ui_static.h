/*
 * ui_static - the web UI's built files, served by the daemon at `/` and
 * `/assets/<name>`.
 *
 * The UI is built from ui/ by esbuild into build/ui/ (`make`); no Node.js runs
 * beside the daemon.  The files are read from a folder: $OVSCHED_UI_DIR when
 * set, else `ui/` beside the binary, else `../ui/` (so build/san/ovsched finds
 * build/ui/).  Asset names carry a content hash, so they are cached for a
 * year; index.html is revalidated on every load.  See docs/ui.md.
 */
#ifndef OVSCHED_UI_UI_STATIC_H
#define OVSCHED_UI_UI_STATIC_H

#include <stdbool.h>

#include "api/http_server.h"

/* Answer REQ when it asks for a UI file (GET or HEAD of `/`, `/index.html` or
 * `/assets/...`) and return true; return false for any other request. */
bool ui_static_serve(const struct http_request *req, struct http_response *resp);

#endif
