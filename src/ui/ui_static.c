/*
 * ui_static - the web UI's built files.  See ui_static.h.
 *
 * Files are read on each request (they are small and few) so a rebuilt UI is
 * served without a restart.  Only plain names under assets/ are served: no
 * slash, no leading dot, so no request can leave the folder.
 */
#include "ui/ui_static.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ASSETS_PREFIX    "/assets/"
#define ICON_FILE        "favicon.svg"
#define MAX_ASSET_BYTES  (16 * 1024 * 1024)
#define CACHE_IMMUTABLE  "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"
#define CACHE_DAY        "public, max-age=86400"

/* Empty here; the binary `make install` installs is linked with a strong
 * definition holding its UIDIR (build/install/uidir.c), so the build tree's
 * objects serve both without a recompile. */
__attribute__((weak)) const char ui_static_install_dir[] = "";

static const struct {
    const char *suffix;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
};

static const char *content_type_of(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(content_types); i++)
        if (g_str_has_suffix(name, content_types[i].suffix))
            return content_types[i].type;
    return "application/octet-stream";
}

static bool has_index(const char *dir)
{
    char *path = g_build_filename(dir, "index.html", NULL);
    bool ok = access(path, R_OK) == 0;
    g_free(path);
    return ok;
}

/* The folder of the built UI, found once (the order is in ui_static.h);
 * NULL when there is none. */
static const char *ui_dir(void)
{
    static char *dir;
    static bool searched;
    if (searched)
        return dir;
    searched = true;
    const char *env = getenv("OVSCHED_UI_DIR");
    if (env && *env) {
        dir = has_index(env) ? g_strdup(env) : NULL;
        return dir;
    }
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *bin_dir = exe ? g_path_get_dirname(exe) : NULL;
    char *candidates[] = {
        bin_dir ? g_build_filename(bin_dir, "..", "share", "ovsched", "ui", NULL) : NULL,
        bin_dir ? g_build_filename(bin_dir, "ui", NULL) : NULL,
        bin_dir ? g_build_filename(bin_dir, "..", "ui", NULL) : NULL,
        ui_static_install_dir[0] ? g_strdup(ui_static_install_dir) : NULL,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (!dir && candidates[i] && has_index(candidates[i]))
            dir = g_canonicalize_filename(candidates[i], NULL);
        g_free(candidates[i]);
    }
    g_free(bin_dir);
    g_free(exe);
    return dir;
}

/* A name safe to join under assets/: letters, digits, '.', '-', '_', no
 * leading dot. */
static bool plain_name(const char *name)
{
    if (!*name || *name == '.' || strlen(name) > 200)
        return false;
    for (const char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
            return false;
    return true;
}

/* Read PATH into a malloc'd buffer (the server frees the body with free()). */
static int read_file(const char *path, char **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    int r = 0;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    char *buf = NULL;
    if (size < 0 || size > MAX_ASSET_BYTES || fseek(f, 0, SEEK_SET) != 0)
        r = -EIO;
    else if (!(buf = malloc((size_t)size + 1)))
        r = -ENOMEM;
    else if (fread(buf, 1, (size_t)size, f) != (size_t)size)
        r = -EIO;
    fclose(f);
    if (r < 0) {
        free(buf);
        return r;
    }
    *ret = buf;
    *ret_len = (size_t)size;
    return 0;
}

static void reply_text(struct http_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->body = strdup(text);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    resp->content_type = "text/plain; charset=utf-8";
}

static void serve_file(const char *dir, const char *relative, const char *cache,
                       struct http_response *resp)
{
    char *path = g_build_filename(dir, relative, NULL);
    int r = read_file(path, &resp->body, &resp->body_len);
    g_free(path);
    if (r == -ENOENT) {
        reply_text(resp, 404, "no such UI file\n");
    } else if (r < 0) {
        reply_text(resp, 500, "the UI file could not be read\n");
    } else {
        resp->status = 200;
        resp->content_type = content_type_of(relative);
        resp->cache_control = cache;
    }
}

bool ui_static_serve(const struct http_request *req, struct http_response *resp)
{
    const char *path = http_request_path(req), *method = http_request_method(req);
    bool index = strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0;
    bool icon = strcmp(path, "/favicon.ico") == 0 || strcmp(path, "/" ICON_FILE) == 0;
    bool asset = g_str_has_prefix(path, ASSETS_PREFIX);
    if (!index && !icon && !asset)
        return false;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply_text(resp, 405, "the UI is read with GET\n");
        return true;
    }
    const char *dir = ui_dir();
    if (!dir) {
        reply_text(resp, 503,
                   "the web UI is not built: run `make` (it builds ui/ into build/ui/ with "
                   "esbuild), or set OVSCHED_UI_DIR\n");
        return true;
    }
    if (index) {
        serve_file(dir, "index.html", CACHE_REVALIDATE, resp);
        return true;
    }
    if (icon) { /* one SVG for both names: browsers that ask for the .ico take it */
        serve_file(dir, ICON_FILE, CACHE_DAY, resp);
        return true;
    }
    const char *name = path + strlen(ASSETS_PREFIX);
    if (!plain_name(name)) {
        reply_text(resp, 404, "no such UI file\n");
        return true;
    }
    char *relative = g_build_filename("assets", name, NULL);
    serve_file(dir, relative, CACHE_IMMUTABLE, resp);
    g_free(relative);
    return true;
}
