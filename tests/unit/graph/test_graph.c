/*
 * test_graph - the dependency graph against tables of small cases and, on
 * random operation sequences, against a plainly correct reference: an
 * adjacency matrix where "would this edge close a cycle" is a brute-force
 * depth-first search, levels are longest paths computed by repeated
 * relaxation, and closures are breadth-first searches with a hop count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "graph/graph.h"
#include "test_util.h"

#define MAX_NODES 40

/* ---- tables ------------------------------------------------------------- */

static struct graph *chain(const char *const *ids, size_t n)
{
    struct graph *g = graph_new();
    for (size_t i = 0; i < n; i++)
        graph_node_add(g, ids[i]);
    for (size_t i = 0; i + 1 < n; i++)
        assert_int_equal(graph_edge_add(g, ids[i], ids[i + 1], NULL), 1);
    return g;
}

static void test_self_dependency_refused(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    graph_node_add(g, "a");
    char *cycle = NULL;
    assert_int_equal(graph_edge_add(g, "a", "a", &cycle), -ELOOP);
    assert_string_equal(cycle, "a -> a");
    assert_int_equal(graph_edge_count(g), 0);
    g_free(cycle);
    graph_free(g);
}

static void test_direct_and_three_hop_cycles_named(void **state)
{
    (void)state;
    static const char *const ids[] = {"a", "b", "c"};
    struct graph *g = chain(ids, 3);
    char *cycle = NULL;
    assert_int_equal(graph_edge_add(g, "b", "a", &cycle), -ELOOP);
    assert_string_equal(cycle, "b -> a -> b");
    g_free(cycle);
    assert_int_equal(graph_edge_add(g, "c", "a", &cycle), -ELOOP);
    assert_string_equal(cycle, "c -> a -> b -> c");
    g_free(cycle);
    assert_int_equal(graph_edge_count(g), 2);
    assert_false(graph_has_edge(g, "c", "a"));
    /* An edge that agrees with the order is fine, and adding it twice is a no-op. */
    assert_int_equal(graph_edge_add(g, "a", "c", NULL), 1);
    assert_int_equal(graph_edge_add(g, "a", "c", NULL), 0);
    assert_int_equal(graph_edge_add(g, "a", "zz", NULL), -ENOENT);
    graph_free(g);
}

static void test_reorder_then_cycle(void **state)
{
    (void)state;
    /* Nodes added in the reverse of their final order force reordering. */
    struct graph *g = graph_new();
    static const char *const ids[] = {"d", "c", "b", "a"};
    for (size_t i = 0; i < 4; i++)
        graph_node_add(g, ids[i]);
    assert_int_equal(graph_edge_add(g, "a", "b", NULL), 1);
    assert_int_equal(graph_edge_add(g, "b", "c", NULL), 1);
    assert_int_equal(graph_edge_add(g, "c", "d", NULL), 1);
    struct graph_view v;
    graph_view_all(g, &v);
    assert_string_equal(v.nodes[0], "a");
    assert_string_equal(v.nodes[3], "d");
    assert_int_equal(v.level_count, 4);
    graph_view_release(&v);
    char *cycle = NULL;
    assert_int_equal(graph_edge_add(g, "d", "a", &cycle), -ELOOP);
    assert_string_equal(cycle, "d -> a -> b -> c -> d");
    g_free(cycle);
    graph_free(g);
}

static void test_deps_set_all_or_nothing(void **state)
{
    (void)state;
    static const char *const ids[] = {"a", "b", "c"};
    struct graph *g = chain(ids, 3);
    graph_node_add(g, "x");
    const char *missing = NULL;
    char *cycle = NULL;
    const char *bad[] = {"x", "nope"};
    assert_int_equal(graph_deps_set(g, "a", bad, 2, &missing, &cycle), -ENOENT);
    assert_string_equal(missing, "nope");
    /* a gets x (fine) and c (a cycle): neither is kept. */
    const char *loop[] = {"x", "c"};
    assert_int_equal(graph_deps_set(g, "a", loop, 2, &missing, &cycle), -ELOOP);
    assert_string_equal(cycle, "c -> a -> b -> c");
    g_free(cycle);
    assert_false(graph_has_edge(g, "x", "a"));
    assert_int_equal(graph_edge_count(g), 2);
    /* c's dependencies become [x]: b -> c goes, x -> c comes. */
    const char *one[] = {"x", "x"};
    assert_int_equal(graph_deps_set(g, "c", one, 2, &missing, &cycle), 0);
    assert_false(graph_has_edge(g, "b", "c"));
    assert_true(graph_has_edge(g, "x", "c"));
    assert_int_equal(graph_edge_count(g), 2);
    /* The failure path puts removed edges back: b -> c removed, then a cycle. */
    assert_int_equal(graph_edge_add(g, "b", "c", NULL), 1);
    assert_int_equal(graph_edge_add(g, "c", "x", NULL), -ELOOP);
    const char *cyc[] = {"c"};
    assert_int_equal(graph_deps_set(g, "b", cyc, 1, &missing, &cycle), -ELOOP);
    g_free(cycle);
    assert_true(graph_has_edge(g, "a", "b"));
    assert_false(graph_has_edge(g, "c", "b"));
    graph_free(g);
}

static void test_diamond_levels_closure_dot(void **state)
{
    (void)state;
    struct graph *g = graph_new();
    static const char *const ids[] = {"join", "left", "right", "root", "other"};
    for (size_t i = 0; i < 5; i++)
        graph_node_add(g, ids[i]);
    graph_edge_add(g, "root", "left", NULL);
    graph_edge_add(g, "root", "right", NULL);
    graph_edge_add(g, "left", "join", NULL);
    graph_edge_add(g, "right", "join", NULL);
    struct graph_view v;
    graph_view_all(g, &v);
    assert_int_equal(v.node_count, 5);
    assert_int_equal(v.edge_count, 4);
    assert_int_equal(v.level_count, 3);
    assert_int_equal(v.level_counts[0], 2); /* root and other */
    assert_int_equal(v.level_counts[1], 2);
    assert_string_equal(v.nodes[v.levels[2][0]], "join");
    char *dot = graph_view_format_dot(&v, "jobs", NULL, NULL);
    assert_non_null(strstr(dot, "\"left\" -> \"join\";"));
    assert_non_null(strstr(dot, "{ rank=same; \"join\"; }"));
    g_free(dot);
    graph_view_release(&v);

    assert_int_equal(graph_view_closure(g, "join", GRAPH_UPSTREAM, 1, &v), 0);
    assert_int_equal(v.node_count, 3); /* join, left, right */
    assert_int_equal(v.edge_count, 2);
    graph_view_release(&v);
    assert_int_equal(graph_view_closure(g, "left", GRAPH_BOTH, 0, &v), 0);
    assert_int_equal(v.node_count, 3); /* root, left, join: not right */
    graph_view_release(&v);
    assert_int_equal(graph_view_closure(g, "nope", GRAPH_BOTH, 0, &v), -ENOENT);

    assert_int_equal(graph_dependent_count(g, "root"), 2);
    assert_int_equal(graph_node_remove(g, "left"), 0);
    assert_int_equal(graph_edge_count(g), 2);
    assert_int_equal(graph_node_remove(g, "left"), -ENOENT);
    graph_free(g);
}

static void collect_diff(const char *from, const char *to, bool added, void *userdata)
{
    g_string_append_printf(userdata, "%c%s>%s ", added ? '+' : '-', from, to);
}

static void test_copy_and_diff(void **state)
{
    (void)state;
    static const char *const ids[] = {"a", "b", "c"};
    struct graph *g = chain(ids, 3);
    struct graph *proposed = graph_copy(g);
    graph_node_remove(proposed, "c");
    graph_node_add(proposed, "d");
    graph_edge_add(proposed, "a", "d", NULL);
    assert_int_equal(graph_edge_count(g), 2); /* the original is untouched */
    GString *s = g_string_new("");
    graph_diff_edges(g, proposed, collect_diff, s);
    assert_string_equal(s->str, "+a>d -b>c ");
    g_string_free(s, TRUE);
    graph_free(proposed);
    graph_free(g);
}

static void test_direction_names(void **state)
{
    (void)state;
    enum graph_direction d;
    assert_int_equal(graph_direction_from_string("downstream", &d), 0);
    assert_int_equal(d, GRAPH_DOWNSTREAM);
    assert_string_equal(graph_direction_to_string(GRAPH_BOTH), "both");
    assert_int_equal(graph_direction_from_string("sideways", &d), -EINVAL);
}

/* ---- random against the reference -------------------------------------- */

struct ref {
    bool alive[MAX_NODES];
    bool adj[MAX_NODES][MAX_NODES];
};

static const char *name_of(int i)
{
    static char names[MAX_NODES][8];
    snprintf(names[i], sizeof(names[i]), "n%d", i);
    return names[i];
}

static bool ref_reaches(const struct ref *r, int from, int to, bool *seen)
{
    if (from == to)
        return true;
    seen[from] = true;
    for (int j = 0; j < MAX_NODES; j++)
        if (r->adj[from][j] && !seen[j] && ref_reaches(r, j, to, seen))
            return true;
    return false;
}

static int index_of(const char *name)
{
    return atoi(name + 1);
}

/* The cycle text names a closed walk along edges of R plus FROM -> TO. */
static void check_cycle_text(const struct ref *r, const char *text, int from, int to)
{
    gchar **parts = g_strsplit(text, " -> ", -1);
    guint n = g_strv_length(parts);
    assert_true(n >= 2);
    assert_string_equal(parts[0], parts[n - 1]);
    for (guint k = 0; k + 1 < n; k++) {
        int a = index_of(parts[k]), b = index_of(parts[k + 1]);
        assert_true(r->adj[a][b] || (a == from && b == to));
    }
    g_strfreev(parts);
}

/* Every edge goes forward in the view's order; levels are longest paths. */
static void check_against_ref(const struct graph *g, const struct ref *r)
{
    struct graph_view v;
    graph_view_all(g, &v);
    int pos[MAX_NODES], live = 0, edges = 0;
    for (int i = 0; i < MAX_NODES; i++) {
        pos[i] = -1;
        live += r->alive[i];
        for (int j = 0; j < MAX_NODES; j++)
            edges += r->adj[i][j];
    }
    assert_int_equal(v.node_count, live);
    assert_int_equal(v.edge_count, edges);
    assert_int_equal(graph_edge_count(g), edges);
    for (size_t k = 0; k < v.node_count; k++)
        pos[index_of(v.nodes[k])] = (int)k;
    int level[MAX_NODES] = {0};
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < MAX_NODES; i++)
            for (int j = 0; j < MAX_NODES; j++)
                if (r->adj[i][j] && level[j] < level[i] + 1) {
                    level[j] = level[i] + 1;
                    changed = true;
                }
    }
    for (int i = 0; i < MAX_NODES; i++) {
        if (!r->alive[i])
            continue;
        assert_true(pos[i] >= 0);
        assert_int_equal(v.level_of[pos[i]], level[i]);
        for (int j = 0; j < MAX_NODES; j++)
            if (r->adj[i][j])
                assert_true(pos[i] < pos[j]);
    }
    graph_view_release(&v);
}

static void check_closure(const struct graph *g, const struct ref *r, int root, int depth,
                          enum graph_direction dir)
{
    bool in[MAX_NODES] = {false};
    in[root] = true;
    for (int pass = 0; pass < 2; pass++) {
        bool up = pass == 0;
        if ((up && dir == GRAPH_DOWNSTREAM) || (!up && dir == GRAPH_UPSTREAM))
            continue;
        int dist[MAX_NODES];
        for (int i = 0; i < MAX_NODES; i++)
            dist[i] = -1;
        dist[root] = 0;
        for (int hop = 0; depth <= 0 || hop < depth; hop++) {
            bool grew = false;
            for (int i = 0; i < MAX_NODES; i++)
                for (int j = 0; j < MAX_NODES; j++) {
                    bool edge = up ? r->adj[j][i] : r->adj[i][j];
                    if (dist[i] == hop && edge && dist[j] < 0) {
                        dist[j] = hop + 1;
                        in[j] = grew = true;
                    }
                }
            if (!grew)
                break;
        }
    }
    struct graph_view v;
    assert_int_equal(graph_view_closure(g, name_of(root), dir, depth, &v), 0);
    size_t count = 0;
    for (int i = 0; i < MAX_NODES; i++)
        count += in[i];
    assert_int_equal(v.node_count, count);
    for (size_t k = 0; k < v.node_count; k++)
        assert_true(in[index_of(v.nodes[k])]);
    graph_view_release(&v);
}

static void test_random_against_brute_force(void **state)
{
    (void)state;
    struct test_rng rng = {test_seed(0x6a0b5)};
    long rounds = test_env_long("OVSCHED_GRAPH_ROUNDS", 200);
    for (long round = 0; round < rounds; round++) {
        struct graph *g = graph_new();
        struct ref r = {0};
        int n = (int)test_rng_range(&rng, 2, MAX_NODES);
        /* Added in a random order, so positions start unrelated to the edges. */
        for (int k = 0; k < n; k++) {
            int i = (int)test_rng_range(&rng, 0, n - 1);
            r.alive[i] = true;
            graph_node_add(g, name_of(i));
        }
        for (int op = 0; op < 300; op++) {
            int a = (int)test_rng_range(&rng, 0, n - 1), b = (int)test_rng_range(&rng, 0, n - 1);
            int kind = (int)test_rng_range(&rng, 0, 19);
            if (kind == 0) { /* remove a node */
                assert_int_equal(graph_node_remove(g, name_of(a)), r.alive[a] ? 0 : -ENOENT);
                r.alive[a] = false;
                for (int j = 0; j < MAX_NODES; j++)
                    r.adj[a][j] = r.adj[j][a] = false;
            } else if (kind == 1) {
                assert_int_equal(graph_node_add(g, name_of(a)), r.alive[a] ? 0 : 1);
                r.alive[a] = true;
            } else if (kind <= 4) {
                int rc = graph_edge_remove(g, name_of(a), name_of(b));
                assert_int_equal(rc, r.adj[a][b] ? 0 : -ENOENT);
                r.adj[a][b] = false;
            } else {
                char *cycle = NULL;
                int rc = graph_edge_add(g, name_of(a), name_of(b), &cycle);
                bool seen[MAX_NODES] = {false};
                if (!r.alive[a] || !r.alive[b]) {
                    assert_int_equal(rc, -ENOENT);
                } else if (ref_reaches(&r, b, a, seen)) {
                    assert_int_equal(rc, -ELOOP);
                    check_cycle_text(&r, cycle, a, b);
                } else {
                    assert_int_equal(rc, r.adj[a][b] ? 0 : 1);
                    r.adj[a][b] = true;
                }
                g_free(cycle);
            }
            if (op % 10 == 0)
                check_against_ref(g, &r);
            if (op % 50 == 0 && r.alive[a]) {
                check_closure(g, &r, a, (int)test_rng_range(&rng, 0, 3),
                              (enum graph_direction)test_rng_range(&rng, 0, 2));
            }
        }
        check_against_ref(g, &r);
        graph_free(g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_dependency_refused),
        cmocka_unit_test(test_direct_and_three_hop_cycles_named),
        cmocka_unit_test(test_reorder_then_cycle),
        cmocka_unit_test(test_deps_set_all_or_nothing),
        cmocka_unit_test(test_diamond_levels_closure_dot),
        cmocka_unit_test(test_copy_and_diff),
        cmocka_unit_test(test_direction_names),
        cmocka_unit_test(test_random_against_brute_force),
    };
    return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
