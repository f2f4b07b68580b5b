/*
 * jobsdir - the watched folder of job files.  See jobsdir.h.
 *
 * A reload is three steps, and only the last one changes anything:
 *   1. read: every *.json file parsed and validated (job_doc_parse, the
 *      API's own validation), ids made unique across files, each id checked
 *      against the store (a job the API created is never taken over);
 *   2. plan: for each file's job, create (new id), update (document changed)
 *      or nothing; each job the folder defined before and no file defines
 *      now is deleted;
 *   3. apply: the plan in one store transaction, then to the live schedule.
 * The folder's jobs are remembered in `owned` (id -> file), loaded from the
 * store at start-up by their metadata.source, so a reload never walks the
 * whole job table.
 */
#include "jobsdir/jobsdir.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api_auth.h"
#include "api/api_graph.h"
#include "api/job_digest.h"
#include "api/job_doc.h"
#include "graph/graph.h"
#include "base/timefmt.h"
#include "daemon/daemon.h"

struct jobsdir {
    struct daemon *d;
    char *path;
    uv_fs_event_t watch;
    uv_timer_t debounce;
    GHashTable *owned; /* id -> file name: the jobs the folder defines */
    /* status */
    char *error;      /* the last reload's error, NULL when it applied */
    char *error_file; /* the file it names, or NULL */
    int64_t last_reload_at_ms, last_applied_at_ms;
    unsigned reloads, created, updated, deleted;
    unsigned files;           /* job files the last reload read */
    int64_t last_duration_us; /* how long the last reload took */
    int open_handles;         /* freed by the last close callback when start fails */
};

enum op { OP_NONE, OP_CREATE, OP_UPDATE };

/* One file's job, validated. */
struct wanted {
    char *file;
    struct job_doc *doc;
    enum op op;
    int64_t created_at_ms;
};

static void wanted_free(struct wanted *w)
{
    g_free(w->file);
    job_doc_free(w->doc);
    g_free(w);
}

static void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_line(const char *level, const char *fmt, ...)
{
    char text[1024], at[TIMEFMT_RFC3339_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    fprintf(stderr, "time=%s level=%s msg=\"jobs-dir: %s\"\n",
            timefmt_rfc3339_format(daemon_now_ms() / 1000, at), level, text);
}

static bool is_job_file(const char *name)
{
    return name[0] != '.' && g_str_has_suffix(name, ".json") && strlen(name) > 5;
}

static bool is_folder_job(json_t *doc)
{
    json_t *source = json_object_get(json_object_get(doc, "metadata"), "source");
    return json_is_string(source) && strcmp(json_string_value(source), JOBSDIR_SOURCE) == 0;
}

struct failure {
    char message[900];
    char file[256];
};

static int fail(struct failure *f, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct failure *f, const char *file, const char *fmt, ...)
{
    char text[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(f->file, sizeof(f->file), "%s", file ? file : "");
    snprintf(f->message, sizeof(f->message), "%s%s%s", file ? file : "", file ? ": " : "", text);
    return -EINVAL;
}

/* The job object of FILE's JSON (a new reference), ids and folder marks set. */
static json_t *file_job(const char *dir, const char *name, struct failure *f)
{
    char *path = g_build_filename(dir, name, NULL);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *job = NULL;
    g_free(path);
    if (!root) {
        fail(f, name, "line %d: %s", jerr.line, jerr.text);
        return NULL;
    }
    job = json_object_get(root, "job");
    job = json_is_object(job)    ? json_deep_copy(job)
          : json_is_object(root) ? json_incref(root)
                                 : NULL;
    json_decref(root);
    if (!job) {
        fail(f, name, "job: required, an object ({\"job\": {...}})");
        return NULL;
    }
    static const char *const view_keys[] = {"version", "created_at", "updated_at", "next_run_time"};
    for (size_t i = 0; i < G_N_ELEMENTS(view_keys); i++)
        json_object_del(job, view_keys[i]);
    if (!json_object_get(job, "id")) {
        char *stem = g_strndup(name, strlen(name) - strlen(".json"));
        json_object_set_new(job, "id", json_string(stem));
        g_free(stem);
    }
    json_t *metadata = json_object_get(job, "metadata");
    if (!metadata) {
        metadata = json_object();
        json_object_set_new(job, "metadata", metadata);
    }
    if (json_is_object(metadata)) {
        json_object_set_new(metadata, "source", json_string(JOBSDIR_SOURCE));
        json_object_set_new(metadata, "source_file", json_string(name));
    }
    return job;
}

/* Validate file NAME into W; decide whether it creates or updates a job. */
static int read_one(struct jobsdir *dir, const char *name, struct wanted **ret, struct failure *f)
{
    json_t *job = file_job(dir->path, name, f);
    if (!job)
        return -EINVAL;
    const char *id = json_string_value(json_object_get(job, "id"));
    struct store_job stored = {0};
    bool exists = id && store_job_get(dir->d->store, id, &stored, NULL) == 0;
    json_t *stored_doc = exists ? json_loads(stored.json, 0, NULL) : NULL;
    struct wanted *w = g_new0(struct wanted, 1);
    w->file = g_strdup(name);
    w->created_at_ms = exists ? stored.created_at_ms : daemon_now_ms();
    struct job_doc_error derr;
    int r = job_doc_parse(job, dir->d->zones, w->created_at_ms, &w->doc, &derr);
    if (r < 0)
        fail(f, name, "%s", r == -EINVAL ? derr.message : "out of memory");
    else if (exists && !is_folder_job(stored_doc))
        r = fail(f, name,
                 "job.id: '%s' is a job created through the API; the jobs folder does not take "
                 "it over (rename the job or delete the other one)",
                 id);
    else
        w->op = !exists ? OP_CREATE : json_equal(stored_doc, w->doc->json) ? OP_NONE : OP_UPDATE;
    json_decref(stored_doc);
    json_decref(job);
    store_job_release(&stored);
    if (r < 0) {
        wanted_free(w);
        return r;
    }
    *ret = w;
    return 0;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Step 1: every file, validated together.  BY_ID: id -> struct wanted. */
static int read_folder(struct jobsdir *dir, GPtrArray *wanted, GHashTable *by_id, struct failure *f)
{
    GError *gerr = NULL;
    GDir *folder = g_dir_open(dir->path, 0, &gerr);
    if (!folder) {
        int r = fail(f, NULL, "cannot read the folder: %s", gerr->message);
        g_error_free(gerr);
        return r;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(folder)))
        if (is_job_file(name))
            g_ptr_array_add(names, g_strdup(name));
    g_dir_close(folder);
    g_ptr_array_sort(names, compare_names); /* errors name the same file every time */
    int r = 0;
    for (guint i = 0; i < names->len && r == 0; i++) {
        struct wanted *w = NULL;
        r = read_one(dir, g_ptr_array_index(names, i), &w, f);
        if (r < 0)
            break;
        g_ptr_array_add(wanted, w);
        struct wanted *twin = g_hash_table_lookup(by_id, w->doc->id);
        if (twin)
            r = fail(f, w->file, "job.id: '%s' is also defined in %s", w->doc->id, twin->file);
        else
            g_hash_table_insert(by_id, (char *)w->doc->id, w);
    }
    g_ptr_array_free(names, TRUE);
    return r;
}

/* Store W's document with its digest (job_digest.h), as the API's writes do. */
static int store_put(struct jobsdir *dir, struct wanted *w, int64_t now_ms, struct store_error *e)
{
    char *text = json_dumps(w->doc->json, JSON_COMPACT);
    GByteArray *digest = job_digest_encode(w->doc);
    struct store_job rec = {.id = w->doc->id,
                            .campaign_id = w->doc->campaign_id,
                            .status = w->doc->status,
                            .json = text,
                            .created_at_ms = now_ms,
                            .updated_at_ms = now_ms,
                            .digest = digest->data,
                            .digest_len = digest->len};
    json_t *before = api_audit_job_before(dir->d, w->doc->id);
    int r = w->op == OP_CREATE ? store_job_create(dir->d->store, &rec, e)
                               : store_job_update(dir->d->store, &rec, STORE_VERSION_ANY, NULL, e);
    free(text);
    g_byte_array_unref(digest);
    if (r == 0) { /* the event and the audit log, in the same transaction */
        events_job(dir->d->events, w->op == OP_CREATE ? EVENTS_JOB_CREATED : EVENTS_JOB_UPDATED,
                   w->doc->id, w->doc->campaign_id, w->doc->status);
        return api_audit_job(dir->d, "jobs-dir", w->file,
                             w->op == OP_CREATE ? "CreateJob" : "UpdateJob", w->doc->id, before, e);
    }
    json_decref(before);
    return r;
}

/* Step 2b: the folder's jobs and every other job as one dependency graph:
 * unknown dependencies and cycles refuse the whole reload, whatever the
 * order of the files.  Returns the graph to install, or NULL with F. */
static struct graph *check_graph(struct jobsdir *dir, GPtrArray *wanted, GPtrArray *gone,
                                 struct failure *f)
{
    const struct job_doc **puts = g_new(const struct job_doc *, wanted->len + 1);
    for (guint i = 0; i < wanted->len; i++)
        puts[i] = ((struct wanted *)g_ptr_array_index(wanted, i))->doc;
    char err[512];
    struct graph *g = api_graph_check_set(
        dir->d, puts, wanted->len, (const char *const *)gone->pdata, gone->len, err, sizeof(err));
    g_free(puts);
    if (!g)
        fail(f, NULL, "%s", err);
    return g;
}

/* Step 3a: the plan in one transaction.  GONE: ids to delete. */
static int apply_to_store(struct jobsdir *dir, GPtrArray *wanted, GPtrArray *gone,
                          struct failure *f)
{
    struct store_error e = {0};
    int64_t now = daemon_now_ms();
    int r = store_begin(dir->d->store, &e);
    if (r < 0)
        return fail(f, NULL, "store: %s", e.message);
    for (guint i = 0; i < wanted->len && r == 0; i++) {
        struct wanted *w = g_ptr_array_index(wanted, i);
        if (w->op != OP_NONE && (r = store_put(dir, w, now, &e)) < 0)
            fail(f, w->file, "store: %s", e.message);
    }
    for (guint i = 0; i < gone->len && r == 0; i++) {
        const char *id = g_ptr_array_index(gone, i);
        const char *file = g_hash_table_lookup(dir->owned, id);
        json_t *before = api_audit_job_before(dir->d, id);
        int64_t campaign = json_integer_value(json_object_get(before, "campaign_id"));
        r = store_job_delete(dir->d->store, id, &e);
        if (r == 0) { /* the event and the audit log, in the same transaction */
            events_job(dir->d->events, EVENTS_JOB_DELETED, id, campaign, "DELETED");
            r = api_audit_job(dir->d, "jobs-dir", file, "DeleteJob", id, before, &e);
        } else
            json_decref(before);
        if (r == -ENOENT)
            r = 0; /* already deleted through the API */
        else if (r < 0)
            fail(f, file, "store: deleting %s: %s", id, e.message);
    }
    if (r < 0) {
        store_rollback(dir->d->store);
        return r;
    }
    if ((r = store_commit(dir->d->store, &e)) < 0)
        return fail(f, NULL, "store: %s", e.message);
    return 0;
}

/* Step 3b: the committed plan on the live schedule (as the API's writes do). */
static void apply_to_schedule(struct jobsdir *dir, GPtrArray *wanted, GPtrArray *gone)
{
    struct daemon *d = dir->d;
    int64_t now = daemon_now_ms();
    dir->created = dir->updated = 0;
    for (guint i = 0; i < wanted->len; i++) {
        struct wanted *w = g_ptr_array_index(wanted, i);
        if (w->op == OP_NONE)
            continue;
        struct sched_job_spec spec;
        job_doc_take_spec(w->doc, &spec);
        d->in_sched = true;
        sched_job_put(d->sched, &spec, now);
        d->in_sched = false;
        api_graph_after_put(d, w->doc->id);
        g_hash_table_replace(dir->owned, g_strdup(w->doc->id), g_strdup(w->file));
        *(w->op == OP_CREATE ? &dir->created : &dir->updated) += 1;
        log_line("info", "%s %s from %s", w->op == OP_CREATE ? "created" : "updated", w->doc->id,
                 w->file);
    }
    for (guint i = 0; i < gone->len; i++) {
        const char *id = g_ptr_array_index(gone, i);
        d->in_sched = true;
        sched_job_remove(d->sched, id);
        d->in_sched = false;
        log_line("info", "deleted %s (its file is gone)", id);
        g_hash_table_remove(dir->owned, id);
    }
    dir->deleted = gone->len;
    daemon_settle(d);
}

/* A refused reload is an event too (`scheduler.jobs_dir_rejected` with the
 * file and the error); the job events of an applied one are written with its
 * changes (apply_to_store()). */
static void announce(struct jobsdir *dir, const struct failure *failure)
{
    if (failure)
        events_jobs_dir_rejected(dir->d->events, failure->file, failure->message);
}

static void record(struct jobsdir *dir, int r, const struct failure *f, int64_t started_us)
{
    dir->last_duration_us = g_get_monotonic_time() - started_us;
    g_clear_pointer(&dir->error, g_free);
    g_clear_pointer(&dir->error_file, g_free);
    dir->reloads++;
    dir->last_reload_at_ms = daemon_now_ms();
    if (r < 0) {
        dir->error = g_strdup(f->message);
        dir->error_file = *f->file ? g_strdup(f->file) : NULL;
        log_line("error", "reload refused, nothing changed: %s", f->message);
    } else {
        dir->last_applied_at_ms = dir->last_reload_at_ms;
        log_line("info", "applied %u files in %.1f ms: %u created, %u updated, %u deleted",
                 dir->files, (double)dir->last_duration_us / 1000.0, dir->created, dir->updated,
                 dir->deleted);
    }
    announce(dir, r < 0 ? f : NULL);
}

int jobsdir_reload(struct jobsdir *dir)
{
    int64_t started_us = g_get_monotonic_time();
    GPtrArray *wanted = g_ptr_array_new_with_free_func((GDestroyNotify)wanted_free);
    GPtrArray *gone = g_ptr_array_new_with_free_func(g_free);
    GHashTable *by_id = g_hash_table_new(g_str_hash, g_str_equal);
    struct failure f = {0};
    int r = read_folder(dir, wanted, by_id, &f);
    struct graph *graph = NULL;
    if (r == 0) {
        GHashTableIter it;
        gpointer id;
        g_hash_table_iter_init(&it, dir->owned);
        while (g_hash_table_iter_next(&it, &id, NULL))
            if (!g_hash_table_contains(by_id, id))
                g_ptr_array_add(gone, g_strdup(id));
        graph = check_graph(dir, wanted, gone, &f);
        r = graph ? apply_to_store(dir, wanted, gone, &f) : -EINVAL;
    }
    if (r == 0) {
        api_graph_install(dir->d, graph);
        graph = NULL;
        apply_to_schedule(dir, wanted, gone);
    }
    graph_free(graph);
    dir->files = wanted->len;
    record(dir, r, &f, started_us);
    g_hash_table_destroy(by_id);
    g_ptr_array_free(wanted, TRUE);
    g_ptr_array_free(gone, TRUE);
    return r;
}

static void on_quiet(uv_timer_t *timer)
{
    jobsdir_reload(timer->data);
}

static void on_change(uv_fs_event_t *watch, const char *filename, int events, int status)
{
    (void)filename, (void)events;
    struct jobsdir *dir = watch->data;
    if (status < 0)
        log_line("warn", "watching %s: %s", dir->path, uv_strerror(status));
    uv_timer_start(&dir->debounce, on_quiet, JOBSDIR_DEBOUNCE_MS, 0);
}

static int collect_owned(const struct store_job *job, void *userdata)
{
    struct jobsdir *dir = userdata;
    if (!strstr(job->json, JOBSDIR_SOURCE))
        return 0; /* most jobs: no parse */
    json_t *doc = json_loads(job->json, 0, NULL);
    if (is_folder_job(doc)) {
        const char *file =
            json_string_value(json_object_get(json_object_get(doc, "metadata"), "source_file"));
        g_hash_table_replace(dir->owned, g_strdup(job->id), g_strdup(file ? file : "?"));
    }
    json_decref(doc);
    return 0;
}

static void on_closed(uv_handle_t *handle)
{
    struct jobsdir *dir = handle->data;
    if (--dir->open_handles == 0)
        jobsdir_free(dir);
}

int jobsdir_start(struct daemon *d, const char *path, struct jobsdir **ret_dir, char *err,
                  size_t err_size)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        snprintf(err, err_size, "--jobs-dir %s: not a folder", path);
        return -ENOTDIR;
    }
    struct jobsdir *dir = g_new0(struct jobsdir, 1);
    dir->d = d;
    dir->path = g_strdup(path);
    dir->owned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    struct store_error serr = {0};
    int r = store_job_foreach(d->store, collect_owned, dir, &serr);
    if (r < 0) {
        snprintf(err, err_size, "--jobs-dir: cannot read the stored jobs: %s", serr.message);
        jobsdir_free(dir);
        return r;
    }
    uv_timer_init(&d->loop, &dir->debounce);
    uv_fs_event_init(&d->loop, &dir->watch);
    dir->debounce.data = dir->watch.data = dir;
    r = uv_fs_event_start(&dir->watch, on_change, path, 0);
    if (r < 0) {
        snprintf(err, err_size, "--jobs-dir %s: cannot watch: %s", path, uv_strerror(r));
        dir->open_handles = 2;
        uv_close((uv_handle_t *)&dir->watch, on_closed);
        uv_close((uv_handle_t *)&dir->debounce, on_closed);
        return r;
    }
    jobsdir_reload(dir);
    log_line("info", "watching %s (%u jobs from files)", path, g_hash_table_size(dir->owned));
    *ret_dir = dir;
    return 0;
}

static json_t *time_or_null(int64_t at_ms)
{
    char text[TIMEFMT_RFC3339_SIZE];
    return at_ms > 0 ? json_string(timefmt_rfc3339_format(at_ms / 1000, text)) : json_null();
}

json_t *jobsdir_status(const struct jobsdir *dir)
{
    if (!dir)
        return json_pack("{sb}", "enabled", 0);
    json_t *status =
        json_pack("{sb ss sb so so sI so so sI sI sI sI}", "enabled", 1, "path", dir->path, "ok",
                  dir->error == NULL, "error", dir->error ? json_string(dir->error) : json_null(),
                  "file", dir->error_file ? json_string(dir->error_file) : json_null(), "jobs",
                  (json_int_t)g_hash_table_size(dir->owned), "last_reload_at",
                  time_or_null(dir->last_reload_at_ms), "last_applied_at",
                  time_or_null(dir->last_applied_at_ms), "reloads", (json_int_t)dir->reloads,
                  "created", (json_int_t)dir->created, "updated", (json_int_t)dir->updated,
                  "deleted", (json_int_t)dir->deleted);
    json_object_set_new(status, "files", json_integer(dir->files));
    json_object_set_new(status, "last_reload_ms",
                        json_real((double)(dir->last_duration_us / 100) / 10.0));
    return status;
}

void jobsdir_free(struct jobsdir *dir)
{
    if (!dir)
        return;
    g_hash_table_destroy(dir->owned);
    g_free(dir->path);
    g_free(dir->error);
    g_free(dir->error_file);
    g_free(dir);
}
