/*
 * ui_static - the web UI's built files, served by the daemon at `/` and
 * `/assets/<name>`.
 *
 * The UI is built from ui/ by esbuild into build/ui/ (`make`); no Node.js runs
 * beside the daemon.  The files are read from the first folder holding an
 * index.html of: $OVSCHED_UI_DIR when set (and then only it); the installed
 * layout relative to the binary, `../share/ovsched/ui` (so a tree installed
 * under any PREFIX or DESTDIR finds its own UI); `ui/` and `../ui/` beside
 * the binary (the build tree: build/ovsched and build/san/ovsched find
 * build/ui/); and the folder `make install` put it in, compiled in from
 * PREFIX (a binary copied elsewhere).  Asset names carry a content hash, so
 * they are cached for a year; index.html is revalidated on every load; the
 * icon is served at /favicon.svg and /favicon.ico.  See docs/ui.md.
 */
#ifndef OVSCHED_UI_UI_STATIC_H
#define OVSCHED_UI_UI_STATIC_H

#include <stdbool.h>

#include "api/http_server.h"

/* The folder `make install` put the UI in ("" for a binary not built to be
 * installed): linked in by the Makefile, see the Makefile's install target. */
extern const char ui_static_install_dir[];

/* Answer REQ when it asks for a UI file (GET or HEAD of `/`, `/index.html`,
 * `/favicon.ico`, `/favicon.svg` or `/assets/...`) and return true; return
 * false for any other request. */
bool ui_static_serve(const struct http_request *req, struct http_response *resp);

#endif
