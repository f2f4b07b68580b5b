/*
 * bench_graph - the dependency graph's figures for `make bench`:
 *
 *   1. one edge added to a graph of 1,000,000 edges (the incremental cycle
 *      check and reorder): p50 / p99 / max over many additions, for edges
 *      that are accepted and for edges refused because they close a cycle;
 *   2. the GetJobGraph work for 10,000 nodes: the view (topological order,
 *      edges, levels) and its JSON text, as the API answers it.
 *
 * The big graph models pipelines: 200,000 jobs, each depending on up to ten
 * jobs created shortly before it, added in a shuffled order so the
 * topological order has to be repaired as edges arrive.
 */
#include <glib.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/graph.h"

static uint64_t rng_state = 0x5eed;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *ms, int n)
{
    qsort(ms, n, sizeof(double), cmp_double);
    printf("graph: %-52s p50 %.4f ms  p99 %.4f ms  max %.4f ms  (%d samples)\n", what, ms[n / 2],
           ms[(n * 99) / 100], ms[n - 1], n);
}

static char (*names)[16];

static struct graph *pipelines(int nodes, size_t edges)
{
    struct graph *g = graph_new();
    int *perm = g_new(int, nodes);
    for (int i = 0; i < nodes; i++)
        perm[i] = i;
    /* Shuffled within windows of 64: creation order roughly follows the
     * pipelines, as it does when people add jobs, but not exactly. */
    for (int i = nodes - 1; i > 0; i--) {
        int lo = i - i % 64;
        int j = lo + (int)(rnd() % (uint64_t)(i - lo + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 0; i < nodes; i++)
        graph_node_add(g, names[perm[i]]);
    g_free(perm);
    while (graph_edge_count(g) < edges) {
        int to = 1 + (int)(rnd() % (uint64_t)(nodes - 1));
        int span = to < 40 ? to : 40;
        int from = to - 1 - (int)(rnd() % (uint64_t)span);
        graph_edge_add(g, names[from], names[to], NULL);
    }
    return g;
}

static void bench_edge_add(void)
{
    const int nodes = 200000, samples = 2000;
    names = g_malloc(sizeof(*names) * (size_t)nodes);
    for (int i = 0; i < nodes; i++)
        snprintf(names[i], sizeof(names[i]), "job-%d", i);
    double t0 = now_ms();
    struct graph *g = pipelines(nodes, 1000000);
    printf("graph: built %zu nodes, %zu edges in %.0f ms\n", graph_node_count(g),
           graph_edge_count(g), now_ms() - t0);
    double *ok = g_new(double, samples), *loop = g_new(double, samples);
    int n_ok = 0, n_loop = 0;
    while (n_ok < samples || n_loop < samples) {
        int a = (int)(rnd() % (uint64_t)nodes), b = (int)(rnd() % (uint64_t)nodes);
        if (a == b || graph_has_edge(g, names[a], names[b]))
            continue;
        double s = now_ms();
        char *cycle = NULL;
        int r = graph_edge_add(g, names[a], names[b], &cycle);
        double took = now_ms() - s;
        g_free(cycle);
        if (r == 1) {
            if (n_ok < samples)
                ok[n_ok++] = took;
            graph_edge_remove(g, names[a], names[b]); /* keep the graph's shape */
        } else if (r < 0 && n_loop < samples) {
            loop[n_loop++] = took;
        }
    }
    report("add one edge to 1,000,000 (accepted)", ok, n_ok);
    report("add one edge to 1,000,000 (refused: cycle)", loop, n_loop);
    g_free(ok);
    g_free(loop);
    graph_free(g);
    g_free(names);
}

/* The API's GetJobGraph body for a view, without the store. */
static char *view_json(const struct graph_view *v)
{
    json_t *nodes = json_array(), *edges = json_array(), *levels = json_array();
    for (size_t k = 0; k < v->node_count; k++)
        json_array_append_new(nodes,
                              json_pack("{ss ss ss sn sn}", "id", v->nodes[k], "name", v->nodes[k],
                                        "status", "ACTIVE", "last_run_status", "next_run_time"));
    for (size_t e = 0; e < v->edge_count; e++)
        json_array_append_new(edges, json_pack("{ss ss}", "from", v->nodes[v->edges[e].from], "to",
                                               v->nodes[v->edges[e].to]));
    for (size_t l = 0; l < v->level_count; l++) {
        json_t *level = json_array();
        for (size_t k = 0; k < v->level_counts[l]; k++)
            json_array_append_new(level, json_string(v->nodes[v->levels[l][k]]));
        json_array_append_new(levels, level);
    }
    json_t *body = json_pack("{so so so}", "nodes", nodes, "edges", edges, "levels", levels);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

static void bench_view(void)
{
    const int nodes = 10000, samples = 50;
    names = g_malloc(sizeof(*names) * (size_t)nodes);
    for (int i = 0; i < nodes; i++)
        snprintf(names[i], sizeof(names[i]), "job-%d", i);
    struct graph *g = pipelines(nodes, 30000);
    double *view_ms = g_new(double, samples), *json_ms = g_new(double, samples);
    size_t bytes = 0;
    for (int i = 0; i < samples; i++) {
        double s = now_ms();
        struct graph_view v;
        graph_view_all(g, &v);
        view_ms[i] = now_ms() - s;
        char *text = view_json(&v);
        json_ms[i] = now_ms() - s;
        bytes = strlen(text);
        free(text);
        graph_view_release(&v);
    }
    report("GetJobGraph 10,000 nodes, 30,000 edges: view", view_ms, samples);
    report("GetJobGraph 10,000 nodes: view + jansson body", json_ms, samples);
    printf("graph: GetJobGraph body %zu bytes\n", bytes);
    g_free(view_ms);
    g_free(json_ms);
    graph_free(g);
    g_free(names);
}

int main(void)
{
    bench_edge_add();
    bench_view();
    return 0;
}
