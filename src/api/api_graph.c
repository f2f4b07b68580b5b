/*
 * api_graph - dependencies in the API.  See api_graph.h.
 *
 * Invariant: d->graph holds exactly the dependency edges of the stored jobs
 * (and only the nodes that have an edge), and it is acyclic.  A write checks
 * its edges on the live graph (one job) or on a copy (ApplyJobs), then writes
 * the store; the live graph changes only when the store did.
 */
#include "api/api_graph.h"

#include "api/api_auth.h"

#include "api/job_digest.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/job_doc.h"
#include "base/timefmt.h"
#include "daemon/daemon.h"
#include "graph/graph.h"

#define MAX_DECISIONS     1000
#define DEFAULT_DECISIONS 100
#define MAX_BLOCKERS      64
#define HISTORY_RUNS      50

static int fail(struct api_result *res, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct api_result *res, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    res->error = error;
    return error;
}

static json_t *time_or_null(int64_t at_ms)
{
    char text[TIMEFMT_RFC3339_SIZE];
    return at_ms > 0 ? json_string(timefmt_rfc3339_format(at_ms / 1000, text)) : json_null();
}

static bool job_exists(struct daemon *d, const char *id)
{
    struct store_job job;
    if (store_job_get(d->store, id, &job, NULL) < 0)
        return false;
    store_job_release(&job);
    return true;
}

/* The stored document of job ID (a new reference), or NULL. */
static json_t *job_json(struct daemon *d, const char *id)
{
    json_t *doc;
    struct store_job job;
    if (store_job_get(d->store, id, &job, NULL) < 0)
        return NULL;
    doc = json_loads(job.json, 0, NULL);
    store_job_release(&job);
    return doc;
}

static int count_one(const char *id, void *userdata)
{
    (void)id;
    ++*(size_t *)userdata;
    return 0;
}

/* Drop node ID from G when no edge touches it any more. */
static void prune(struct graph *g, const char *id)
{
    size_t deps = 0;
    if (!graph_has_node(g, id))
        return;
    graph_deps_foreach(g, id, count_one, &deps);
    if (deps == 0 && graph_dependent_count(g, id) == 0)
        graph_node_remove(g, id);
}

static int collect_id(const char *id, void *userdata)
{
    g_ptr_array_add(userdata, g_strdup(id));
    return 0;
}

/* ---- one job's dependencies ---------------------------------------------- */

struct api_graph_undo {
    char *id;
    GPtrArray *old_deps; /* char *, owned */
};

void api_graph_undo_free(struct api_graph_undo *undo)
{
    if (!undo)
        return;
    g_free(undo->id);
    g_ptr_array_free(undo->old_deps, TRUE);
    g_free(undo);
}

/* Make DEPS the dependencies of ID in G, adding nodes as needed and pruning
 * nodes left without edges.  On -ENOENT/-ELOOP G is unchanged. */
static int set_deps(struct graph *g, const char *id, const char *const *deps, size_t n,
                    char **ret_cycle)
{
    GPtrArray *added = g_ptr_array_new();
    GPtrArray *old = g_ptr_array_new_with_free_func(g_free);
    if (graph_node_add(g, id) == 1)
        g_ptr_array_add(added, (gpointer)id);
    for (size_t i = 0; i < n; i++)
        if (graph_node_add(g, deps[i]) == 1)
            g_ptr_array_add(added, (gpointer)deps[i]);
    graph_deps_foreach(g, id, collect_id, old);
    int r = graph_deps_set(g, id, deps, n, NULL, ret_cycle);
    if (r < 0) {
        for (guint i = 0; i < added->len; i++)
            graph_node_remove(g, g_ptr_array_index(added, i));
    } else {
        for (guint i = 0; i < old->len; i++)
            prune(g, g_ptr_array_index(old, i));
        for (size_t i = 0; i < n; i++)
            prune(g, deps[i]);
        prune(g, id);
    }
    g_ptr_array_free(added, TRUE);
    g_ptr_array_free(old, TRUE);
    return r;
}

int api_graph_set_deps(struct daemon *d, const struct job_doc *doc, const char *field,
                       struct api_graph_undo **ret_undo, struct api_result *res)
{
    for (size_t i = 0; i < doc->dep_count; i++) {
        if (!job_exists(d, doc->deps[i]))
            return fail(res, -EINVAL, "%smetadata.scheduling.dependencies[%zu]: no job '%s'", field,
                        i, doc->deps[i]);
    }
    struct api_graph_undo *undo = g_new0(struct api_graph_undo, 1);
    undo->id = g_strdup(doc->id);
    undo->old_deps = g_ptr_array_new_with_free_func(g_free);
    if (graph_has_node(d->graph, doc->id))
        graph_deps_foreach(d->graph, doc->id, collect_id, undo->old_deps);
    char *cycle = NULL;
    int r = set_deps(d->graph, doc->id, doc->deps, doc->dep_count, &cycle);
    if (r == -ELOOP)
        fail(res, -EINVAL, "%smetadata.scheduling.dependencies: would close a cycle: %s", field,
             cycle);
    else if (r < 0)
        fail(res, r, "%smetadata.scheduling.dependencies: cannot be changed", field);
    g_free(cycle);
    if (r < 0 || !ret_undo)
        api_graph_undo_free(undo);
    else
        *ret_undo = undo;
    return r < 0 ? res->error : 0;
}

void api_graph_undo(struct daemon *d, struct api_graph_undo *undo)
{
    if (!undo)
        return;
    /* The old edges were part of an acyclic graph a moment ago. */
    set_deps(d->graph, undo->id, (const char *const *)undo->old_deps->pdata, undo->old_deps->len,
             NULL);
    api_graph_undo_free(undo);
}

void api_graph_after_put(struct daemon *d, const char *id)
{
    d->in_sched = true;
    sched_job_deps_check(d->sched, id, daemon_now_ms());
    d->in_sched = false;
}

/* ---- activation (as api.c's, for the jobs a graph write touches) ---------- */

static void activate(struct daemon *d, struct job_doc *doc, int64_t now_ms)
{
    struct sched_job_spec spec;
    job_doc_take_spec(doc, &spec);
    d->in_sched = true;
    sched_job_put(d->sched, &spec, now_ms);
    d->in_sched = false;
}

static struct job_doc *parse_stored(struct daemon *d, json_t *json, int64_t created_ms)
{
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    return job_doc_parse(json, d->zones, created_ms, &doc, &err) == 0 ? doc : NULL;
}

/* ---- DeleteJob ------------------------------------------------------------- */

/* Remove ID from the dependencies of job DEP_ID in the store (inside the
 * caller's batch).  Returns 0 or the store's error. */
static int detach_one(struct daemon *d, const char *dep_id, const char *id, struct api_result *res)
{
    struct store_job job;
    struct store_error err = {0};
    int r = store_job_get(d->store, dep_id, &job, &err);
    if (r < 0)
        return fail(res, r, "detach: cannot read job '%s': %s", dep_id, err.message);
    json_t *doc = json_loads(job.json, 0, NULL);
    json_t *deps = json_object_get(json_object_get(json_object_get(doc, "metadata"), "scheduling"),
                                   "dependencies");
    for (size_t i = json_array_size(deps); i-- > 0;)
        if (g_strcmp0(json_string_value(json_array_get(deps, i)), id) == 0)
            json_array_remove(deps, i);
    char *text = json_dumps(doc, JSON_COMPACT);
    /* With its digest, as every job write: start-up reads that, not the JSON. */
    struct job_doc *parsed = parse_stored(d, doc, job.created_at_ms);
    GByteArray *digest = parsed ? job_digest_encode(parsed) : NULL;
    struct store_job rec = {.id = dep_id,
                            .campaign_id = job.campaign_id,
                            .status = job.status,
                            .json = text,
                            .digest = digest ? digest->data : NULL,
                            .digest_len = digest ? digest->len : 0,
                            .updated_at_ms = daemon_now_ms()};
    r = store_job_update(d->store, &rec, STORE_VERSION_ANY, NULL, &err);
    if (r < 0)
        fail(res, r, "detach: cannot update job '%s': %s", dep_id, err.message);
    else
        events_job(d->events, EVENTS_JOB_UPDATED, dep_id, job.campaign_id, job.status);
    if (digest)
        g_byte_array_unref(digest);
    job_doc_free(parsed);
    free(text);
    json_decref(doc);
    store_job_release(&job);
    return r;
}

/* Reload job ID from the store into the core (its dependencies changed). */
static void reload(struct daemon *d, const char *id)
{
    struct store_job job;
    if (store_job_get(d->store, id, &job, NULL) < 0)
        return;
    json_t *json = json_loads(job.json, 0, NULL);
    struct job_doc *doc = json ? parse_stored(d, json, job.created_at_ms) : NULL;
    if (doc)
        activate(d, doc, daemon_now_ms());
    job_doc_free(doc);
    json_decref(json);
    store_job_release(&job);
}

const char *api_graph_delete_check(struct daemon *d, json_t *body, GPtrArray **ret_dependents,
                                   struct api_result *res)
{
    json_t *idv = json_object_get(body, "job_id"), *detach = json_object_get(body, "detach");
    if (!json_is_string(idv) || json_string_length(idv) == 0) {
        fail(res, -EINVAL, "job_id: required, a non-empty string");
        return NULL;
    }
    if (detach && !json_is_boolean(detach)) {
        fail(res, -EINVAL, "detach: must be true or false");
        return NULL;
    }
    const char *id = json_string_value(idv);
    if (!job_exists(d, id)) {
        fail(res, -ENOENT, "job_id: no job '%s'", id);
        return NULL;
    }
    GPtrArray *dependents = g_ptr_array_new_with_free_func(g_free);
    if (graph_has_node(d->graph, id))
        graph_dependents_foreach(d->graph, id, collect_id, dependents);
    if (dependents->len && !json_is_true(detach)) {
        GString *names = g_string_new("");
        for (guint i = 0; i < dependents->len && i < 20; i++)
            g_string_append_printf(names, "%s%s", i ? ", " : "",
                                   (char *)g_ptr_array_index(dependents, i));
        fail(res, -EBUSY,
             "job_id: job '%s' is a dependency of %s; delete or change them first, or pass "
             "\"detach\": true to remove it from their dependencies",
             id, names->str);
        g_string_free(names, TRUE);
        g_ptr_array_free(dependents, TRUE);
        return NULL;
    }
    *ret_dependents = dependents;
    return id;
}

int api_graph_detach(struct daemon *d, const char *id, GPtrArray *dependents,
                     struct api_result *res)
{
    int r = 0;
    for (guint i = 0; r == 0 && i < dependents->len; i++)
        r = detach_one(d, g_ptr_array_index(dependents, i), id, res);
    return r;
}

json_t *api_graph_deleted(struct daemon *d, const char *id, GPtrArray *dependents)
{
    if (graph_has_node(d->graph, id)) {
        GPtrArray *deps = g_ptr_array_new_with_free_func(g_free);
        graph_deps_foreach(d->graph, id, collect_id, deps);
        graph_node_remove(d->graph, id);
        for (guint i = 0; i < deps->len; i++)
            prune(d->graph, g_ptr_array_index(deps, i));
        for (guint i = 0; i < dependents->len; i++)
            prune(d->graph, g_ptr_array_index(dependents, i));
        g_ptr_array_free(deps, TRUE);
    }
    d->in_sched = true;
    sched_job_remove(d->sched, id);
    d->in_sched = false;
    json_t *detached = json_array();
    for (guint i = 0; i < dependents->len; i++) {
        reload(d, g_ptr_array_index(dependents, i));
        api_graph_after_put(d, g_ptr_array_index(dependents, i));
        json_array_append_new(detached, json_string(g_ptr_array_index(dependents, i)));
    }
    return detached;
}

/* ---- ApplyJobs --------------------------------------------------------------- */

enum item_kind { ITEM_CREATE, ITEM_UPDATE, ITEM_DELETE };

struct item {
    enum item_kind kind;
    size_t index; /* in its list */
    const char *id;
    struct job_doc *doc; /* creates and updates */
    int64_t version;     /* updates: expected version, or STORE_VERSION_ANY */
    bool changed;        /* updates: the document differs from the stored one */
};

struct apply {
    GArray *items;     /* struct item */
    GHashTable *by_id; /* id -> struct item index + 1 */
    struct graph *graph;
};

static const char *const kind_field[] = {"creates", "updates", "deletes"};

static void apply_release(struct apply *a)
{
    for (guint i = 0; a->items && i < a->items->len; i++)
        job_doc_free(g_array_index(a->items, struct item, i).doc);
    if (a->items)
        g_array_free(a->items, TRUE);
    if (a->by_id)
        g_hash_table_destroy(a->by_id);
    graph_free(a->graph);
}

static struct item *item_of(struct apply *a, const char *id)
{
    gpointer v = g_hash_table_lookup(a->by_id, id);
    return v ? &g_array_index(a->items, struct item, GPOINTER_TO_UINT(v) - 1) : NULL;
}

static int add_item(struct apply *a, struct item *it, struct api_result *res)
{
    if (g_hash_table_contains(a->by_id, it->id)) {
        job_doc_free(it->doc);
        return fail(res, -EINVAL, "%s[%zu]: job '%s' appears more than once in the request",
                    kind_field[it->kind], it->index, it->id);
    }
    g_array_append_val(a->items, *it);
    g_hash_table_insert(a->by_id, (gpointer)it->id, GUINT_TO_POINTER(a->items->len));
    return 0;
}

/* Parse one job of creates or updates. */
/* Whether stored job ID runs a shell executor: only an admin may change or
 * delete it (docs/security.md), through ApplyJobs as through UpdateJob. */
static bool stored_runs_shell(struct daemon *d, const char *id)
{
    json_t *doc = job_json(d, id);
    const char *type = json_string_value(json_object_get(json_object_get(doc, "executor"), "type"));
    bool shell = type && strcmp(type, "shell") == 0;
    json_decref(doc);
    return shell;
}

static int parse_item(struct daemon *d, enum item_kind kind, size_t i, json_t *job, struct apply *a,
                      struct api_result *res)
{
    const char *field = kind_field[kind];
    if (!json_is_object(job))
        return fail(res, -EINVAL, "%s[%zu]: must be a job object", field, i);
    struct item it = {.kind = kind, .index = i, .version = STORE_VERSION_ANY};
    int64_t created = daemon_now_ms();
    struct store_job old = {0};
    const char *id = json_string_value(json_object_get(job, "id"));
    if (kind == ITEM_UPDATE) {
        if (!id)
            return fail(res, -EINVAL, "%s[%zu].id: required, the id of the job to update", field,
                        i);
        if (store_job_get(d->store, id, &old, NULL) < 0)
            return fail(res, -ENOENT, "%s[%zu].id: no job '%s'", field, i, id);
        if (!api_call_is_admin() && stored_runs_shell(d, id)) {
            store_job_release(&old);
            return fail(res, -EPERM,
                        "%s[%zu]: job '%s' runs a shell executor: only an admin may change it",
                        field, i, id);
        }
        created = old.created_at_ms;
        json_t *v = json_object_get(job, "version");
        if (v && (!json_is_integer(v) || json_integer_value(v) < 1)) {
            store_job_release(&old);
            return fail(res, -EINVAL, "%s[%zu].version: must be the integer version you read",
                        field, i);
        }
        it.version = v ? json_integer_value(v) : STORE_VERSION_ANY;
    }
    json_t *copy = json_deep_copy(job);
    static const char *const view_keys[] = {"version", "created_at", "updated_at", "next_run_time"};
    for (size_t k = 0; k < G_N_ELEMENTS(view_keys); k++)
        json_object_del(copy, view_keys[k]);
    struct job_doc_error err;
    int r = job_doc_parse(copy, d->zones, created, &it.doc, &err);
    json_decref(copy);
    if (r < 0) {
        store_job_release(&old);
        return fail(res, r == -EINVAL ? -EINVAL : r, "%s[%zu].%s", field, i, err.message);
    }
    it.id = it.doc->id;
    if (kind == ITEM_CREATE && job_exists(d, it.id)) {
        job_doc_free(it.doc);
        return fail(res, -EEXIST, "%s[%zu].id: job '%s' already exists", field, i, it.id);
    }
    if (kind == ITEM_UPDATE) {
        json_t *stored = json_loads(old.json, 0, NULL);
        it.changed = !json_equal(stored, it.doc->json);
        json_decref(stored);
        store_job_release(&old);
    }
    return add_item(a, &it, res);
}

static int parse_request(struct daemon *d, json_t *body, struct apply *a, struct api_result *res)
{
    json_t *lists[3];
    for (int k = 0; k < 3; k++) {
        lists[k] = json_object_get(body, kind_field[k]);
        if (lists[k] && !json_is_array(lists[k]))
            return fail(res, -EINVAL, "%s: must be an array", kind_field[k]);
    }
    json_t *dry = json_object_get(body, "dry_run");
    if (dry && !json_is_boolean(dry))
        return fail(res, -EINVAL, "dry_run: must be true or false");
    size_t i;
    json_t *v;
    for (int k = 0; k < 2; k++) {
        json_array_foreach(lists[k], i, v)
        {
            int r = parse_item(d, (enum item_kind)k, i, v, a, res);
            if (r < 0)
                return r;
        }
    }
    json_array_foreach(lists[ITEM_DELETE], i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0)
            return fail(res, -EINVAL, "deletes[%zu]: must be a job id", i);
        if (!job_exists(d, json_string_value(v)))
            return fail(res, -ENOENT, "deletes[%zu]: no job '%s'", i, json_string_value(v));
        if (!api_call_is_admin() && stored_runs_shell(d, json_string_value(v)))
            return fail(res, -EPERM,
                        "deletes[%zu]: job '%s' runs a shell executor: only an admin may delete it",
                        i, json_string_value(v));
        struct item it = {.kind = ITEM_DELETE, .index = i, .id = json_string_value(v)};
        int r = add_item(a, &it, res);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Will job ID exist once the request is applied? */
static bool exists_after(struct daemon *d, struct apply *a, const char *id)
{
    struct item *it = item_of(a, id);
    if (it)
        return it->kind != ITEM_DELETE;
    return job_exists(d, id);
}

/* Build the proposed graph on a copy and validate it as a whole. */
static int validate_graph(struct daemon *d, struct apply *a, struct api_result *res)
{
    a->graph = graph_copy(d->graph);
    for (guint i = 0; i < a->items->len; i++) {
        struct item *it = &g_array_index(a->items, struct item, i);
        if (it->kind != ITEM_DELETE || !graph_has_node(d->graph, it->id))
            continue;
        GPtrArray *dependents = g_ptr_array_new_with_free_func(g_free);
        graph_dependents_foreach(d->graph, it->id, collect_id, dependents);
        for (guint k = 0; k < dependents->len; k++) {
            const char *dep = g_ptr_array_index(dependents, k);
            struct item *other = item_of(a, dep);
            if (!other) {
                fail(res, -EBUSY, "deletes[%zu]: job '%s' is a dependency of '%s', which stays",
                     it->index, it->id, dep);
                g_ptr_array_free(dependents, TRUE);
                return res->error;
            }
        }
        g_ptr_array_free(dependents, TRUE);
        graph_node_remove(a->graph, it->id);
    }
    for (guint i = 0; i < a->items->len; i++) {
        struct item *it = &g_array_index(a->items, struct item, i);
        if (it->kind == ITEM_DELETE)
            continue;
        const struct job_doc *doc = it->doc;
        for (size_t k = 0; k < doc->dep_count; k++) {
            if (!exists_after(d, a, doc->deps[k]))
                return fail(res, -EINVAL,
                            "%s[%zu].metadata.scheduling.dependencies[%zu]: no job '%s'",
                            kind_field[it->kind], it->index, k, doc->deps[k]);
        }
        char *cycle = NULL;
        if (set_deps(a->graph, doc->id, doc->deps, doc->dep_count, &cycle) < 0) {
            fail(res, -EINVAL, "%s[%zu].metadata.scheduling.dependencies: would close a cycle: %s",
                 kind_field[it->kind], it->index, cycle ? cycle : "?");
            g_free(cycle);
            return res->error;
        }
    }
    return 0;
}

struct graph *api_graph_check_set(struct daemon *d, const struct job_doc *const *puts,
                                  size_t put_count, const char *const *deletes, size_t delete_count,
                                  char *err, size_t err_size)
{
    struct graph *g = graph_copy(d->graph);
    GHashTable *put_ids = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTable *gone = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < put_count; i++)
        g_hash_table_add(put_ids, (gpointer)puts[i]->id);
    for (size_t i = 0; i < delete_count; i++)
        g_hash_table_add(gone, (gpointer)deletes[i]);
    int r = 0;
    for (size_t i = 0; r == 0 && i < delete_count; i++) {
        if (!graph_has_node(d->graph, deletes[i]))
            continue;
        GPtrArray *dependents = g_ptr_array_new_with_free_func(g_free);
        graph_dependents_foreach(d->graph, deletes[i], collect_id, dependents);
        for (guint k = 0; r == 0 && k < dependents->len; k++) {
            const char *dep = g_ptr_array_index(dependents, k);
            if (!g_hash_table_contains(gone, dep) && !g_hash_table_contains(put_ids, dep)) {
                snprintf(err, err_size, "job '%s' is a dependency of '%s', which stays", deletes[i],
                         dep);
                r = -EBUSY;
            }
        }
        g_ptr_array_free(dependents, TRUE);
        graph_node_remove(g, deletes[i]);
    }
    for (size_t i = 0; r == 0 && i < put_count; i++) {
        const struct job_doc *doc = puts[i];
        for (size_t k = 0; r == 0 && k < doc->dep_count; k++) {
            const char *dep = doc->deps[k];
            bool exists = g_hash_table_contains(put_ids, dep) ||
                          (!g_hash_table_contains(gone, dep) && job_exists(d, dep));
            if (!exists) {
                snprintf(err, err_size,
                         "job '%s': metadata.scheduling.dependencies[%zu]: no job '%s'", doc->id, k,
                         dep);
                r = -EINVAL;
            }
        }
        char *cycle = NULL;
        if (r == 0 && set_deps(g, doc->id, doc->deps, doc->dep_count, &cycle) < 0) {
            snprintf(err, err_size,
                     "job '%s': metadata.scheduling.dependencies: would close a cycle: %s", doc->id,
                     cycle ? cycle : "?");
            r = -EINVAL;
        }
        g_free(cycle);
    }
    g_hash_table_destroy(put_ids);
    g_hash_table_destroy(gone);
    if (r < 0) {
        graph_free(g);
        return NULL;
    }
    return g;
}

void api_graph_install(struct daemon *d, struct graph *g)
{
    graph_free(d->graph);
    d->graph = g;
}

static void diff_edge(const char *from, const char *to, bool added, void *userdata)
{
    json_t *edges = userdata;
    json_array_append_new(json_object_get(edges, added ? "added" : "removed"),
                          json_pack("{ss ss}", "from", from, "to", to));
}

static json_t *apply_diff(struct daemon *d, struct apply *a)
{
    json_t *jobs = json_pack("{s[] s[] s[] s[]}", "added", "changed", "unchanged", "removed");
    for (guint i = 0; i < a->items->len; i++) {
        struct item *it = &g_array_index(a->items, struct item, i);
        const char *key = it->kind == ITEM_CREATE   ? "added"
                          : it->kind == ITEM_DELETE ? "removed"
                          : it->changed             ? "changed"
                                                    : "unchanged";
        json_array_append_new(json_object_get(jobs, key), json_string(it->id));
    }
    json_t *edges = json_pack("{s[] s[]}", "added", "removed");
    graph_diff_edges(d->graph, a->graph, diff_edge, edges);
    return json_pack("{so so}", "jobs", jobs, "edges", edges);
}

static int store_item(struct daemon *d, struct item *it, int64_t now, struct api_result *res)
{
    struct store_error err = {0};
    const char *field = kind_field[it->kind];
    int r;
    if (it->kind == ITEM_DELETE) {
        struct store_job old = {0};
        int64_t campaign = store_job_get(d->store, it->id, &old, NULL) == 0 ? old.campaign_id : 0;
        store_job_release(&old);
        r = store_job_delete(d->store, it->id, &err);
        if (r == 0)
            events_job(d->events, EVENTS_JOB_DELETED, it->id, campaign, "DELETED");
    } else {
        char *text = json_dumps(it->doc->json, JSON_COMPACT);
        GByteArray *digest = job_digest_encode(it->doc);
        struct store_job rec = {.id = it->id,
                                .campaign_id = it->doc->campaign_id,
                                .status = it->doc->status,
                                .json = text,
                                .digest = digest->data,
                                .digest_len = digest->len,
                                .created_at_ms = now,
                                .updated_at_ms = now};
        r = it->kind == ITEM_CREATE ? store_job_create(d->store, &rec, &err)
                                    : store_job_update(d->store, &rec, it->version, NULL, &err);
        if (r == 0)
            events_job(d->events, it->kind == ITEM_CREATE ? EVENTS_JOB_CREATED : EVENTS_JOB_UPDATED,
                       it->id, it->doc->campaign_id, it->doc->status);
        g_byte_array_unref(digest);
        free(text);
    }
    if (r == -ESTALE)
        return fail(res, r, "%s[%zu].version: job '%s' changed since version %lld", field,
                    it->index, it->id, (long long)it->version);
    if (r < 0)
        return fail(res, r == -EEXIST || r == -ENOENT ? r : -EIO, "%s[%zu]: job '%s': %s", field,
                    it->index, it->id, err.message);
    return 0;
}

static int apply_store(struct daemon *d, struct apply *a, struct api_result *res)
{
    struct store_error err = {0};
    int64_t now = daemon_now_ms();
    int r = store_begin(d->store, &err);
    if (r < 0)
        return fail(res, -EIO, "ApplyJobs: store error: %s", err.message);
    for (guint i = 0; r == 0 && i < a->items->len; i++)
        r = store_item(d, &g_array_index(a->items, struct item, i), now, res);
    if (r == 0 && store_commit(d->store, &err) < 0)
        return fail(res, -EIO, "ApplyJobs: store error: %s", err.message);
    if (r < 0)
        store_rollback(d->store);
    return r;
}

void api_graph_apply_jobs(struct daemon *d, json_t *body, struct api_result *res)
{
    struct apply a = {0};
    a.items = g_array_new(FALSE, TRUE, sizeof(struct item));
    a.by_id = g_hash_table_new(g_str_hash, g_str_equal);
    if (parse_request(d, body, &a, res) < 0 || validate_graph(d, &a, res) < 0) {
        apply_release(&a);
        return;
    }
    json_t *diff = apply_diff(d, &a);
    if (json_is_true(json_object_get(body, "dry_run"))) {
        res->body = json_pack("{sb so}", "dry_run", 1, "diff", diff);
        apply_release(&a);
        return;
    }
    if (apply_store(d, &a, res) < 0) {
        json_decref(diff);
        apply_release(&a);
        return;
    }
    /* Stored: the proposed graph becomes the live one, then the core hears. */
    graph_free(d->graph);
    d->graph = a.graph;
    a.graph = NULL;
    int64_t now = daemon_now_ms();
    for (guint i = 0; i < a.items->len; i++) {
        struct item *it = &g_array_index(a.items, struct item, i);
        if (it->kind == ITEM_DELETE) {
            d->in_sched = true;
            sched_job_remove(d->sched, it->id);
            d->in_sched = false;
        } else {
            if (it->kind == ITEM_CREATE)
                it->doc->spec.baseline_ms = now; /* created now, for the core too */
            activate(d, it->doc, now);
        }
    }
    json_t *views = json_array();
    for (guint i = 0; i < a.items->len; i++) {
        struct item *it = &g_array_index(a.items, struct item, i);
        if (it->kind == ITEM_DELETE)
            continue;
        api_graph_after_put(d, it->id);
        struct store_job job;
        if (store_job_get(d->store, it->id, &job, NULL) == 0) {
            json_array_append_new(views, daemon_job_view(d, &job));
            store_job_release(&job);
        }
    }
    res->body = json_pack("{sb so so}", "applied", 1, "diff", diff, "jobs", views);
    apply_release(&a);
}

/* ---- GetJobGraph --------------------------------------------------------------- */

/* TEXT as a JSON string (TEXT is valid UTF-8: it comes from a parsed
 * document or a validated id). */
static void append_string(GString *out, const char *text)
{
    g_string_append_c(out, '"');
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\')
            g_string_append_c(out, '\\');
        if (*c < 0x20)
            g_string_append_printf(out, "\\u%04x", *c);
        else
            g_string_append_c(out, (char)*c);
    }
    g_string_append_c(out, '"');
}

static void append_string_or_null(GString *out, const char *text)
{
    if (text)
        append_string(out, text);
    else
        g_string_append(out, "null");
}

/* One node of GetJobGraph, written straight as JSON text: a graph of 10,000
 * nodes is 2 MB of JSON, and building it as jansson objects costs more than
 * everything else the request does. */
static void append_node(GString *out, struct daemon *d, const char *id, bool look_up_runs)
{
    json_t *doc = job_json(d, id);
    const char *name = json_string_value(json_object_get(doc, "name"));
    const char *status = json_string_value(json_object_get(doc, "status"));
    enum sched_run_status last;
    int64_t finished = 0, next = -1;
    const char *last_status = NULL;
    struct store_run_list runs = {0};
    if (sched_job_last_status(d->sched, id, &last, &finished) == 0)
        last_status = sched_run_status_to_string(last);
    else if (look_up_runs && store_run_list(d->store, id, 0, 1, &runs, NULL) == 0 && runs.count)
        last_status = runs.items[0].status;
    sched_job_next_fire(d->sched, id, &next);
    char at[TIMEFMT_RFC3339_SIZE];
    g_string_append(out, "{\"id\":");
    append_string(out, id);
    g_string_append(out, ",\"name\":");
    append_string_or_null(out, name);
    g_string_append(out, ",\"status\":");
    append_string(out, status ? status : "MISSING");
    g_string_append(out, ",\"last_run_status\":");
    append_string_or_null(out, last_status);
    g_string_append(out, ",\"next_run_time\":");
    append_string_or_null(out, next > 0 ? timefmt_rfc3339_format(next / 1000, at) : NULL);
    g_string_append_c(out, '}');
    store_run_list_release(&runs);
    json_decref(doc);
}

static char *graph_json_text(struct daemon *d, const struct graph_view *view, GPtrArray *isolated)
{
    size_t total = view->node_count + isolated->len;
    bool runs = total <= 1000; /* a store read per node only for small views */
    GString *out = g_string_sized_new(256 * total + 64);
    g_string_append(out, "{\"nodes\":[");
    for (size_t k = 0; k < total; k++) {
        if (k)
            g_string_append_c(out, ',');
        append_node(out, d,
                    k < view->node_count ? view->nodes[k]
                                         : g_ptr_array_index(isolated, k - view->node_count),
                    runs);
    }
    g_string_append(out, "],\"edges\":[");
    for (size_t e = 0; e < view->edge_count; e++) {
        g_string_append(out, e ? ",{\"from\":" : "{\"from\":");
        append_string(out, view->nodes[view->edges[e].from]);
        g_string_append(out, ",\"to\":");
        append_string(out, view->nodes[view->edges[e].to]);
        g_string_append_c(out, '}');
    }
    g_string_append(out, "],\"levels\":[");
    for (size_t l = 0; l < view->level_count || (l == 0 && isolated->len); l++) {
        g_string_append(out, l ? ",[" : "[");
        size_t n = 0;
        for (size_t k = 0; l < view->level_count && k < view->level_counts[l]; k++, n++) {
            if (n)
                g_string_append_c(out, ',');
            append_string(out, view->nodes[view->levels[l][k]]);
        }
        for (guint i = 0; l == 0 && i < isolated->len; i++, n++) {
            if (n)
                g_string_append_c(out, ',');
            append_string(out, g_ptr_array_index(isolated, i));
        }
        g_string_append_c(out, ']');
    }
    g_string_append(out, "]}");
    return g_string_free(out, FALSE);
}

struct isolated {
    struct daemon *d;
    GPtrArray *ids;
};

static int collect_isolated(const struct store_job *job, void *userdata)
{
    struct isolated *iso = userdata;
    if (!graph_has_node(iso->d->graph, job->id))
        g_ptr_array_add(iso->ids, g_strdup(job->id));
    return 0;
}

static const char *dot_label(const char *id, void *userdata)
{
    (void)userdata;
    return id;
}

void api_graph_get_job_graph(struct daemon *d, json_t *body, struct api_result *res)
{
    json_t *idv = json_object_get(body, "job_id"), *dirv = json_object_get(body, "direction"),
           *depthv = json_object_get(body, "depth"), *formatv = json_object_get(body, "format");
    enum graph_direction direction = GRAPH_BOTH;
    if (idv && (!json_is_string(idv) || json_string_length(idv) == 0)) {
        fail(res, -EINVAL, "job_id: must be a non-empty string");
        return;
    }
    if (dirv && (!json_is_string(dirv) ||
                 graph_direction_from_string(json_string_value(dirv), &direction) < 0)) {
        fail(res, -EINVAL, "direction: must be upstream, downstream or both");
        return;
    }
    if (depthv && (!json_is_integer(depthv) || json_integer_value(depthv) < 0 ||
                   json_integer_value(depthv) > 1000000)) {
        fail(res, -EINVAL, "depth: must be an integer 0-1000000 (0: unlimited)");
        return;
    }
    const char *format = formatv ? json_string_value(formatv) : "json";
    if (!format || (strcmp(format, "json") != 0 && strcmp(format, "dot") != 0)) {
        fail(res, -EINVAL, "format: must be json or dot");
        return;
    }
    const char *id = json_string_value(idv);
    if (id && !job_exists(d, id)) {
        fail(res, -ENOENT, "job_id: no job '%s'", id);
        return;
    }
    struct graph_view view = {0};
    GPtrArray *isolated = g_ptr_array_new_with_free_func(g_free);
    if (id && graph_has_node(d->graph, id)) {
        graph_view_closure(d->graph, id, direction, (int)json_integer_value(depthv), &view);
    } else if (id) {
        g_ptr_array_add(isolated, g_strdup(id)); /* no edge: the job alone */
    } else {
        graph_view_all(d->graph, &view);
        struct isolated iso = {d, isolated};
        store_job_foreach(d->store, collect_isolated, &iso, NULL);
    }
    if (strcmp(format, "dot") == 0) {
        /* Jobs without edges are nodes of the view too: a one-node graph each. */
        struct graph *extra = graph_new();
        for (guint i = 0; i < isolated->len; i++)
            graph_node_add(extra, g_ptr_array_index(isolated, i));
        struct graph_view extra_view;
        graph_view_all(extra, &extra_view);
        char *dot =
            graph_view_format_dot(view.node_count ? &view : &extra_view, "jobs", dot_label, NULL);
        if (view.node_count && isolated->len) {
            /* Splice the isolated nodes in before the closing brace. */
            GString *s = g_string_new(dot);
            g_string_truncate(s, s->len - 2);
            for (guint i = 0; i < isolated->len; i++)
                g_string_append_printf(s, "  \"%s\";\n", (char *)g_ptr_array_index(isolated, i));
            g_string_append(s, "}\n");
            g_free(dot);
            dot = g_string_free(s, FALSE);
        }
        res->body = json_pack("{ss}", "dot", dot);
        g_free(dot);
        graph_view_release(&extra_view);
        graph_free(extra);
    } else {
        res->text = graph_json_text(d, &view, isolated);
    }
    graph_view_release(&view);
    g_ptr_array_free(isolated, TRUE);
}

/* ---- ListJobDecisions ---------------------------------------------------------- */

void api_graph_list_decisions(struct daemon *d, json_t *body, struct api_result *res)
{
    json_t *idv = json_object_get(body, "job_id"), *limitv = json_object_get(body, "limit");
    if (!json_is_string(idv) || json_string_length(idv) == 0) {
        fail(res, -EINVAL, "job_id: required, a non-empty string");
        return;
    }
    if (limitv && (!json_is_integer(limitv) || json_integer_value(limitv) < 1 ||
                   json_integer_value(limitv) > MAX_DECISIONS)) {
        fail(res, -EINVAL, "limit: must be an integer 1-%d", MAX_DECISIONS);
        return;
    }
    const char *id = json_string_value(idv);
    if (!job_exists(d, id)) {
        fail(res, -ENOENT, "job_id: no job '%s'", id);
        return;
    }
    struct store_decision_list list;
    struct store_error err = {0};
    int64_t limit = limitv ? json_integer_value(limitv) : DEFAULT_DECISIONS;
    if (store_decision_list(d->store, id, limit, &list, &err) < 0) {
        fail(res, -EIO, "ListJobDecisions: store error: %s", err.message);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.count; i++) {
        const struct store_decision *dec = &list.items[i];
        char idtext[24], runtext[24];
        snprintf(idtext, sizeof(idtext), "%llu", (unsigned long long)dec->id);
        snprintf(runtext, sizeof(runtext), "%llu", (unsigned long long)dec->run_id);
        json_array_append_new(
            items,
            json_pack("{ss ss ss so so sI so so so}", "id", idtext, "job_id", dec->job_id, "kind",
                      dec->kind, "first_slot", time_or_null(dec->first_slot_ms), "last_slot",
                      time_or_null(dec->last_slot_ms), "count", (json_int_t)dec->count, "run_id",
                      dec->run_id ? json_string(runtext) : json_null(), "decided_at",
                      time_or_null(dec->at_ms), "reason",
                      dec->reason ? json_string(dec->reason) : json_null()));
    }
    store_decision_list_release(&list);
    res->body = json_pack("{so}", "decisions", items);
}

/* ---- GetJobStatus ---------------------------------------------------------------- */

json_t *api_graph_blocked_by(struct daemon *d, const char *id, char **ret_reason)
{
    struct sched_blocker blockers[MAX_BLOCKERS];
    int n = sched_job_blockers(d->sched, id, blockers, MAX_BLOCKERS);
    json_t *list = json_array();
    *ret_reason = NULL;
    if (n <= 0)
        return list;
    GString *reason = g_string_new("waiting for its dependencies: ");
    char since[TIMEFMT_RFC3339_SIZE];
    for (int i = 0; i < n && i < MAX_BLOCKERS; i++) {
        const struct sched_blocker *b = &blockers[i];
        const char *state = b->missing                 ? "missing"
                            : b->failed                ? "failed"
                            : b->paused                ? "paused"
                            : b->last_completed_ms > 0 ? "not_completed_since"
                                                       : "never_completed";
        json_array_append_new(
            list,
            json_pack("{ss ss so so so}", "job_id", b->dep_id, "state", state, "last_run_status",
                      b->has_last ? json_string(sched_run_status_to_string(b->last_status))
                                  : json_null(),
                      "last_completed_at", time_or_null(b->last_completed_ms), "since",
                      time_or_null(b->since_ms)));
        timefmt_rfc3339_format(b->since_ms / 1000, since);
        g_string_append_printf(reason, "%s%s ", i ? "; " : "", b->dep_id);
        if (b->missing)
            g_string_append(reason, "does not exist");
        else if (b->failed)
            g_string_append_printf(reason, "failed (its last run ended %s)",
                                   sched_run_status_to_string(b->last_status));
        else if (b->paused)
            g_string_append_printf(reason, "is paused and has not completed since %s", since);
        else
            g_string_append_printf(reason, "has not completed since %s", since);
    }
    *ret_reason = g_string_free(reason, FALSE);
    return list;
}

/* ---- start-up ------------------------------------------------------------------------ */

void api_graph_load_job(struct daemon *d, const char *id, const char *const *deps, size_t count)
{
    if (!count)
        return;
    graph_node_add(d->graph, id);
    for (size_t i = 0; i < count; i++) {
        char *cycle = NULL;
        graph_node_add(d->graph, deps[i]);
        if (graph_edge_add(d->graph, deps[i], id, &cycle) == -ELOOP)
            fprintf(stderr,
                    "level=error msg=\"stored job %s: dependency %s closes a cycle (%s); "
                    "ignored\"\n",
                    id, deps[i], cycle);
        g_free(cycle);
    }
}

/* One job's history from its latest runs; restores its WAITING runs. */
static int load_history(struct daemon *d, const char *id)
{
    struct store_run_list runs;
    if (store_run_list(d->store, id, 0, HISTORY_RUNS, &runs, NULL) < 0)
        return 0;
    struct sched_job_history h = {0};
    int restored = 0;
    for (size_t i = 0; i < runs.count; i++) { /* newest first */
        const struct store_run *run = &runs.items[i];
        enum sched_run_status status = SCHED_RUN_PENDING;
        sched_run_status_from_string(run->status, &status);
        if (run->started_at_ms > h.last_started_ms)
            h.last_started_ms = run->started_at_ms;
        if (status == SCHED_RUN_COMPLETED && run->finished_at_ms > h.last_completed_ms)
            h.last_completed_ms = run->finished_at_ms;
        if (!h.has_last && sched_run_status_is_final(status)) {
            h.has_last = true;
            h.last_status = status;
            h.last_finished_ms = run->finished_at_ms;
        }
    }
    sched_job_set_history(d->sched, id, &h);
    for (size_t i = 0; i < runs.count; i++) {
        const struct store_run *run = &runs.items[i];
        struct sched_run *restored_run;
        if (strcmp(run->status, "WAITING") != 0 ||
            sched_job_restore_waiting(d->sched, id, run->id, run->scheduled_at_ms, &restored_run) <
                0)
            continue;
        g_hash_table_add(d->stored, RUN_KEY(run->id));
        restored++;
    }
    store_run_list_release(&runs);
    return restored;
}

int api_graph_load_finish(struct daemon *d, int64_t now_ms)
{
    struct graph_view view;
    graph_view_all(d->graph, &view);
    int restored = 0;
    d->in_sched = true;
    for (size_t k = 0; k < view.node_count; k++)
        restored += load_history(d, view.nodes[k]);
    /* In topological order: what a crash left undone upstream starts first. */
    for (size_t k = 0; k < view.node_count; k++)
        sched_job_deps_check(d->sched, view.nodes[k], now_ms);
    d->in_sched = false;
    graph_view_release(&view);
    return restored;
}
