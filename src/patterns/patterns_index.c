/*
 * patterns_index - what the jobs say about events and dependencies, in memory:
 * job id -> trigger_on, and job id -> the jobs that list it as a dependency.
 *
 * Built by one pass over the jobs table (store_job_foreach() with a text
 * pre-filter) the first time an event or a cascade needs it, never at
 * start-up: the start-up deliberately reads no job documents.  From then on
 * patterns_job_expand(), which sees every CreateJob and UpdateJob, keeps it
 * current.  Deletes are not seen here, so users of the index check the stored
 * job before acting on an entry, and drop entries whose job is gone.
 */
#include <string.h>

#include "daemon/daemon.h"
#include "patterns/internal.h"

static json_t *scheduling_of(json_t *doc)
{
    return json_object_get(json_object_get(doc, "metadata"), "scheduling");
}

static void unlink_dependencies(struct patterns *p, const char *id)
{
    json_t *old = g_hash_table_lookup(p->deps_of, id);
    size_t i;
    json_t *dep;
    json_array_foreach(old, i, dep)
    {
        GHashTable *set = g_hash_table_lookup(p->dependents, json_string_value(dep));
        if (set)
            g_hash_table_remove(set, id);
    }
    g_hash_table_remove(p->deps_of, id);
}

static void put(struct patterns *p, const char *id, json_t *doc)
{
    json_t *trigger_on = json_object_get(scheduling_of(doc), "trigger_on");
    json_t *deps = json_object_get(scheduling_of(doc), "dependencies");
    if (trigger_on && !json_is_null(trigger_on))
        g_hash_table_replace(p->triggers, g_strdup(id), json_deep_copy(trigger_on));
    else
        g_hash_table_remove(p->triggers, id);
    unlink_dependencies(p, id);
    if (!json_is_array(deps) || json_array_size(deps) == 0)
        return;
    size_t i;
    json_t *dep;
    json_array_foreach(deps, i, dep)
    {
        if (!json_is_string(dep))
            continue;
        GHashTable *set = g_hash_table_lookup(p->dependents, json_string_value(dep));
        if (!set) {
            set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            g_hash_table_insert(p->dependents, g_strdup(json_string_value(dep)), set);
        }
        g_hash_table_add(set, g_strdup(id));
    }
    g_hash_table_replace(p->deps_of, g_strdup(id), json_deep_copy(deps));
}

void patterns_index_init(struct patterns *p)
{
    p->triggers =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref);
    p->deps_of =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref);
    p->dependents = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)g_hash_table_destroy);
}

void patterns_index_release(struct patterns *p)
{
    g_hash_table_destroy(p->triggers);
    g_hash_table_destroy(p->deps_of);
    g_hash_table_destroy(p->dependents);
}

static int index_row(const struct store_job *job, void *userdata)
{
    if (!strstr(job->json, "\"trigger_on\"") && !strstr(job->json, "\"dependencies\""))
        return 0;
    json_t *doc = json_loads(job->json, 0, NULL);
    if (doc)
        put(userdata, job->id, doc);
    json_decref(doc);
    return 0;
}

void patterns_index_ensure(struct patterns *p)
{
    if (!p->index_ready && store_job_foreach(p->d->store, index_row, p, NULL) == 0)
        p->index_ready = true;
}

void patterns_index_put(struct patterns *p, json_t *doc)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (p->index_ready && id)
        put(p, id, doc);
}

void patterns_index_forget(struct patterns *p, const char *id)
{
    g_hash_table_remove(p->triggers, id);
    unlink_dependencies(p, id);
}

GPtrArray *patterns_index_dependents(struct patterns *p, const char *id)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    patterns_index_ensure(p);
    GHashTable *set = g_hash_table_lookup(p->dependents, id);
    if (!set)
        return out;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(out, g_strdup(key));
    return out;
}
