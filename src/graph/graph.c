/*
 * graph - the job dependency graph.  See graph.h for the contract.
 *
 * Representation.  Nodes live in an array and keep their index for life (a
 * removed node's slot is reused); a hash table maps ids to indexes.  Each node
 * lists its out-edges (dependents) and in-edges (dependencies) as arrays of
 * indexes, so both closures walk in O(nodes + edges visited).
 *
 * Topological order (after Pearce and Kelly, "A dynamic topological sort
 * algorithm for directed acyclic graphs", JEA 2006).  `order` maps positions
 * to nodes and each node knows its position; every edge goes from a lower
 * position to a higher one.  Adding x -> y with pos(x) < pos(y) costs O(1).
 * Otherwise a path y -> x, if any, lies between the two positions: search
 * forward from y (positions <= pos(x)) and backward from x (positions >=
 * pos(y)) in turns.  The searches meeting means a cycle, and their parent
 * links give its path.  Whichever search finishes first proves there is none
 * and names the nodes to move: the nodes y reaches go after the others
 * between the two positions (or the nodes that reach x before them), each
 * group keeping its order.  Only the slice between the ends is touched, and
 * the work follows the smaller side: with a million edges a typical addition
 * visits a handful of nodes.  A removed node leaves a hole in `order`; holes
 * are squeezed out once they outnumber the live nodes.
 *
 * Searches mark nodes with an epoch number instead of clearing flags, so a
 * search costs what it visits, not what the graph holds.
 */
#include "graph/graph.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#define NONE UINT32_MAX

struct node {
    char *id;    /* NULL: a free slot */
    GArray *out; /* uint32_t: dependents */
    GArray *in;  /* uint32_t: dependencies */
    uint32_t pos;
    uint32_t mark_fwd, mark_bwd; /* epoch of the last search that visited it */
    uint32_t parent;             /* forward search: the node it was reached from */
    uint32_t parent_bwd;         /* backward search: the same */
};

struct graph {
    GArray *nodes;   /* struct node */
    GHashTable *ids; /* id (owned by the node) -> index + 1 */
    GArray *order;   /* uint32_t: position -> node index, NONE for a hole */
    GArray *free;    /* uint32_t: free node slots */
    size_t live, edges, holes;
    uint32_t epoch;
};

static struct node *node_at(const struct graph *g, uint32_t i)
{
    return &g_array_index(g->nodes, struct node, i);
}

static uint32_t u32_at(const GArray *a, guint i)
{
    return g_array_index(a, uint32_t, i);
}

static bool find_index(const struct graph *g, const char *id, uint32_t *ret)
{
    gpointer v = g_hash_table_lookup(g->ids, id);
    if (!v)
        return false;
    *ret = GPOINTER_TO_UINT(v) - 1;
    return true;
}

struct graph *graph_new(void)
{
    struct graph *g = g_new0(struct graph, 1);
    g->nodes = g_array_new(FALSE, TRUE, sizeof(struct node));
    g->ids = g_hash_table_new(g_str_hash, g_str_equal);
    g->order = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    g->free = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    return g;
}

static GArray *u32_array_copy(const GArray *a)
{
    GArray *c = g_array_sized_new(FALSE, FALSE, sizeof(uint32_t), a->len);
    g_array_append_vals(c, a->data, a->len);
    return c;
}

struct graph *graph_copy(const struct graph *graph)
{
    struct graph *g = graph_new();
    g_array_set_size(g->nodes, graph->nodes->len);
    for (guint i = 0; i < graph->nodes->len; i++) {
        const struct node *src = node_at(graph, i);
        struct node *dst = node_at(g, i);
        if (!src->id)
            continue;
        dst->id = g_strdup(src->id);
        dst->out = u32_array_copy(src->out);
        dst->in = u32_array_copy(src->in);
        dst->pos = src->pos;
        g_hash_table_insert(g->ids, dst->id, GUINT_TO_POINTER(i + 1));
    }
    g_array_append_vals(g->order, graph->order->data, graph->order->len);
    g_array_append_vals(g->free, graph->free->data, graph->free->len);
    g->live = graph->live;
    g->edges = graph->edges;
    g->holes = graph->holes;
    return g;
}

void graph_free(struct graph *graph)
{
    if (!graph)
        return;
    for (guint i = 0; i < graph->nodes->len; i++) {
        struct node *n = node_at(graph, i);
        if (!n->id)
            continue;
        g_free(n->id);
        g_array_free(n->out, TRUE);
        g_array_free(n->in, TRUE);
    }
    g_array_free(graph->nodes, TRUE);
    g_hash_table_destroy(graph->ids);
    g_array_free(graph->order, TRUE);
    g_array_free(graph->free, TRUE);
    g_free(graph);
}

size_t graph_node_count(const struct graph *graph)
{
    return graph->live;
}

size_t graph_edge_count(const struct graph *graph)
{
    return graph->edges;
}

bool graph_has_node(const struct graph *graph, const char *id)
{
    return g_hash_table_contains(graph->ids, id);
}

int graph_node_add(struct graph *graph, const char *id)
{
    if (graph_has_node(graph, id))
        return 0;
    uint32_t i;
    if (graph->free->len) {
        i = u32_at(graph->free, graph->free->len - 1);
        g_array_set_size(graph->free, graph->free->len - 1);
    } else {
        i = graph->nodes->len;
        g_array_set_size(graph->nodes, i + 1);
    }
    struct node *n = node_at(graph, i);
    *n = (struct node){0};
    n->id = g_strdup(id);
    n->out = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    n->in = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    /* A new node has no edges, so the end of the order is a valid place. */
    n->pos = graph->order->len;
    g_array_append_val(graph->order, i);
    g_hash_table_insert(graph->ids, n->id, GUINT_TO_POINTER(i + 1));
    graph->live++;
    return 1;
}

static void u32_remove(GArray *a, uint32_t value)
{
    for (guint k = 0; k < a->len; k++) {
        if (u32_at(a, k) == value) {
            g_array_remove_index(a, k); /* keeps the order edges were added in */
            return;
        }
    }
}

static bool u32_contains(const GArray *a, uint32_t value)
{
    for (guint k = 0; k < a->len; k++)
        if (u32_at(a, k) == value)
            return true;
    return false;
}

/* Squeeze the holes out of the order, keeping the relative order. */
static void order_compact(struct graph *g)
{
    guint w = 0;
    for (guint r = 0; r < g->order->len; r++) {
        uint32_t i = u32_at(g->order, r);
        if (i == NONE)
            continue;
        node_at(g, i)->pos = w;
        g_array_index(g->order, uint32_t, w++) = i;
    }
    g_array_set_size(g->order, w);
    g->holes = 0;
}

int graph_node_remove(struct graph *graph, const char *id)
{
    uint32_t i;
    if (!find_index(graph, id, &i))
        return -ENOENT;
    struct node *n = node_at(graph, i);
    for (guint k = 0; k < n->in->len; k++)
        u32_remove(node_at(graph, u32_at(n->in, k))->out, i);
    for (guint k = 0; k < n->out->len; k++)
        u32_remove(node_at(graph, u32_at(n->out, k))->in, i);
    graph->edges -= n->in->len + n->out->len;
    g_hash_table_remove(graph->ids, id);
    g_array_index(graph->order, uint32_t, n->pos) = NONE;
    g_array_free(n->out, TRUE);
    g_array_free(n->in, TRUE);
    g_free(n->id);
    *n = (struct node){0};
    g_array_append_val(graph->free, i);
    graph->live--;
    if (++graph->holes > graph->live)
        order_compact(graph);
    return 0;
}

bool graph_has_edge(const struct graph *graph, const char *from, const char *to)
{
    uint32_t x, y;
    if (!find_index(graph, from, &x) || !find_index(graph, to, &y))
        return false;
    /* Search the shorter list: a hub may have many thousand dependents. */
    const struct node *a = node_at(graph, x), *b = node_at(graph, y);
    return a->out->len <= b->in->len ? u32_contains(a->out, y) : u32_contains(b->in, x);
}

/* ---- Pearce-Kelly ------------------------------------------------------- */

/* "x -> y -> ... -> m -> ... -> x": the two searches met at M; the forward
 * links lead from M back to y, the backward links from M on to x. */
static char *cycle_path(const struct graph *g, uint32_t x, uint32_t y, uint32_t m)
{
    GPtrArray *back = g_ptr_array_new();
    for (uint32_t i = m;; i = node_at(g, i)->parent) {
        g_ptr_array_add(back, node_at(g, i)->id);
        if (i == y)
            break;
    }
    GString *s = g_string_new(node_at(g, x)->id);
    for (guint k = back->len; k-- > 0;)
        g_string_append_printf(s, " -> %s", (const char *)g_ptr_array_index(back, k));
    g_ptr_array_free(back, TRUE);
    for (uint32_t i = m; i != x;) {
        i = node_at(g, i)->parent_bwd;
        g_string_append_printf(s, " -> %s", node_at(g, i)->id);
    }
    return g_string_free(s, FALSE);
}

static uint32_t stack_pop(GArray *stack)
{
    uint32_t i = u32_at(stack, stack->len - 1);
    g_array_set_size(stack, stack->len - 1);
    return i;
}

/* One node of the forward search from y through positions <= UB.  Returns
 * true, with the node in *MEET, when it reaches a node the backward search
 * reached (x at the latest): y reaches x, the new edge would close a cycle. */
static bool step_forward(struct graph *g, GArray *stack, uint32_t ub, uint32_t *meet)
{
    uint32_t i = stack_pop(stack);
    const struct node *n = node_at(g, i);
    for (guint k = 0; k < n->out->len; k++) {
        uint32_t j = u32_at(n->out, k);
        struct node *m = node_at(g, j);
        if (m->mark_fwd == g->epoch || m->pos > ub)
            continue;
        m->mark_fwd = g->epoch;
        m->parent = i;
        if (m->mark_bwd == g->epoch) {
            *meet = j;
            return true;
        }
        g_array_append_val(stack, j);
    }
    return false;
}

/* One node of the backward search from x through positions >= LB; meeting
 * the forward search as step_forward(). */
static bool step_backward(struct graph *g, GArray *stack, uint32_t lb, uint32_t *meet)
{
    uint32_t i = stack_pop(stack);
    const struct node *n = node_at(g, i);
    for (guint k = 0; k < n->in->len; k++) {
        uint32_t j = u32_at(n->in, k);
        struct node *m = node_at(g, j);
        if (m->mark_bwd == g->epoch || m->pos < lb)
            continue;
        m->mark_bwd = g->epoch;
        m->parent_bwd = i;
        if (m->mark_fwd == g->epoch) {
            *meet = j;
            return true;
        }
        g_array_append_val(stack, j);
    }
    return false;
}

static bool in_set(const struct graph *g, uint32_t i, bool forward)
{
    if (i == NONE)
        return false;
    const struct node *n = node_at(g, i);
    return (forward ? n->mark_fwd : n->mark_bwd) == g->epoch;
}

/* Rewrite positions LB..UB once one search finished.  FORWARD: the nodes y
 * reaches go after all the others (x among them); else the nodes that reach
 * x go before the others (y among them).  Each group keeps its order, which
 * keeps every edge pointing forward: an edge leaving the forward set ends
 * beyond UB, an edge entering the backward set starts before LB. */
static void reorder_slice(struct graph *g, uint32_t lb, uint32_t ub, bool forward)
{
    uint32_t n = ub - lb + 1, w = 0;
    uint32_t *slice = &g_array_index(g->order, uint32_t, lb);
    uint32_t *tmp = g_new(uint32_t, n);
    for (int pass = 0; pass < 2; pass++) {
        /* forward: others, then the set; backward: the set, then others */
        bool take_set = forward ? pass == 1 : pass == 0;
        for (uint32_t k = 0; k < n; k++)
            if (in_set(g, slice[k], forward) == take_set)
                tmp[w++] = slice[k];
    }
    for (uint32_t k = 0; k < n; k++) {
        slice[k] = tmp[k];
        if (tmp[k] != NONE)
            node_at(g, tmp[k])->pos = lb + k;
    }
    g_free(tmp);
}

static void edge_insert(struct graph *g, uint32_t x, uint32_t y)
{
    g_array_append_val(node_at(g, x)->out, y);
    g_array_append_val(node_at(g, y)->in, x);
    g->edges++;
}

static int edge_add_index(struct graph *g, uint32_t x, uint32_t y, char **ret_cycle)
{
    if (x == y) {
        if (ret_cycle)
            *ret_cycle = g_strdup_printf("%s -> %s", node_at(g, x)->id, node_at(g, x)->id);
        return -ELOOP;
    }
    const struct node *a = node_at(g, x), *b = node_at(g, y);
    if (a->out->len <= b->in->len ? u32_contains(a->out, y) : u32_contains(b->in, x))
        return 0;
    uint32_t lb = b->pos, ub = a->pos;
    if (lb > ub) {
        edge_insert(g, x, y);
        return 1;
    }
    if (++g->epoch == 0) { /* wrapped: stale marks could collide, clear them */
        for (guint i = 0; i < g->nodes->len; i++)
            node_at(g, i)->mark_fwd = node_at(g, i)->mark_bwd = 0;
        g->epoch = 1;
    }
    /* Search forward from y and backward from x in turns: whichever finishes
     * first proves there is no cycle (a path y -> x would lie within the two
     * positions) and tells which nodes to move, so the cost follows the
     * smaller side, not the larger. */
    GArray *fwd = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GArray *bwd = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    node_at(g, y)->mark_fwd = g->epoch;
    node_at(g, x)->mark_bwd = g->epoch;
    g_array_append_val(fwd, y);
    g_array_append_val(bwd, x);
    int r = 1;
    uint32_t meet = NONE;
    for (;;) {
        if (!fwd->len) {
            reorder_slice(g, lb, ub, true);
            break;
        }
        if (step_forward(g, fwd, ub, &meet)) {
            if (ret_cycle)
                *ret_cycle = cycle_path(g, x, y, meet);
            r = -ELOOP;
            break;
        }
        if (!bwd->len) {
            reorder_slice(g, lb, ub, false);
            break;
        }
        if (step_backward(g, bwd, lb, &meet)) {
            if (ret_cycle)
                *ret_cycle = cycle_path(g, x, y, meet);
            r = -ELOOP;
            break;
        }
    }
    if (r == 1)
        edge_insert(g, x, y);
    g_array_free(fwd, TRUE);
    g_array_free(bwd, TRUE);
    return r;
}

int graph_edge_add(struct graph *graph, const char *from, const char *to, char **ret_cycle)
{
    uint32_t x, y;
    if (!find_index(graph, from, &x) || !find_index(graph, to, &y))
        return -ENOENT;
    return edge_add_index(graph, x, y, ret_cycle);
}

static void edge_remove_index(struct graph *g, uint32_t x, uint32_t y)
{
    u32_remove(node_at(g, x)->out, y);
    u32_remove(node_at(g, y)->in, x);
    g->edges--;
}

int graph_edge_remove(struct graph *graph, const char *from, const char *to)
{
    uint32_t x, y;
    if (!find_index(graph, from, &x) || !find_index(graph, to, &y) ||
        !graph_has_edge(graph, from, to))
        return -ENOENT;
    /* Removing an edge keeps every position valid: nothing to reorder. */
    edge_remove_index(graph, x, y);
    return 0;
}

int graph_deps_set(struct graph *graph, const char *id, const char *const *deps, size_t count,
                   const char **ret_missing, char **ret_cycle)
{
    uint32_t y;
    if (!find_index(graph, id, &y)) {
        if (ret_missing)
            *ret_missing = id;
        return -ENOENT;
    }
    GArray *want = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    for (size_t k = 0; k < count; k++) {
        uint32_t x;
        if (!find_index(graph, deps[k], &x)) {
            if (ret_missing)
                *ret_missing = deps[k];
            g_array_free(want, TRUE);
            return -ENOENT;
        }
        if (!u32_contains(want, x))
            g_array_append_val(want, x);
    }
    GArray *removed = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GArray *added = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GArray *in = node_at(graph, y)->in;
    for (guint k = in->len; k-- > 0;) {
        uint32_t x = u32_at(in, k);
        if (!u32_contains(want, x)) {
            g_array_append_val(removed, x);
            edge_remove_index(graph, x, y);
        }
    }
    int r = 0;
    for (guint k = 0; k < want->len && r == 0; k++) {
        uint32_t x = u32_at(want, k);
        int added_one = edge_add_index(graph, x, y, ret_cycle);
        if (added_one == 1)
            g_array_append_val(added, x);
        r = added_one < 0 ? added_one : 0;
    }
    if (r < 0) {
        /* Undo: the graph before the call was acyclic, so putting its edges
         * back cannot fail. */
        for (guint k = 0; k < added->len; k++)
            edge_remove_index(graph, u32_at(added, k), y);
        for (guint k = removed->len; k-- > 0;)
            edge_add_index(graph, u32_at(removed, k), y, NULL);
    }
    g_array_free(want, TRUE);
    g_array_free(removed, TRUE);
    g_array_free(added, TRUE);
    return r;
}

static int foreach_index(const struct graph *g, const GArray *list, graph_id_cb *cb, void *userdata)
{
    for (guint k = 0; k < list->len; k++) {
        int r = cb(node_at(g, u32_at(list, k))->id, userdata);
        if (r)
            return r;
    }
    return 0;
}

int graph_deps_foreach(const struct graph *graph, const char *id, graph_id_cb *cb, void *userdata)
{
    uint32_t i;
    if (!find_index(graph, id, &i))
        return -ENOENT;
    return foreach_index(graph, node_at(graph, i)->in, cb, userdata);
}

int graph_dependents_foreach(const struct graph *graph, const char *id, graph_id_cb *cb,
                             void *userdata)
{
    uint32_t i;
    if (!find_index(graph, id, &i))
        return -ENOENT;
    return foreach_index(graph, node_at(graph, i)->out, cb, userdata);
}

size_t graph_dependent_count(const struct graph *graph, const char *id)
{
    uint32_t i;
    return find_index(graph, id, &i) ? node_at(graph, i)->out->len : 0;
}

static int by_value(const void *a, const void *b)
{
    uint64_t va = *(const uint64_t *)a, vb = *(const uint64_t *)b;
    return (va > vb) - (va < vb);
}

/* Sort node indexes A by their positions: (position, index) pairs packed in
 * one 64-bit key, so plain qsort() needs no context. */
static void sort_by_position(const struct graph *g, GArray *a)
{
    uint64_t *keys = g_new(uint64_t, a->len ? a->len : 1);
    for (guint k = 0; k < a->len; k++)
        keys[k] = (uint64_t)node_at(g, u32_at(a, k))->pos << 32 | u32_at(a, k);
    qsort(keys, a->len, sizeof(uint64_t), by_value);
    for (guint k = 0; k < a->len; k++)
        g_array_index(a, uint32_t, k) = (uint32_t)keys[k];
    g_free(keys);
}

/* ---- views -------------------------------------------------------------- */

static const char *const direction_names[] = {"upstream", "downstream", "both"};

const char *graph_direction_to_string(enum graph_direction direction)
{
    return (size_t)direction < G_N_ELEMENTS(direction_names) ? direction_names[direction]
                                                             : "unknown";
}

int graph_direction_from_string(const char *text, enum graph_direction *ret)
{
    for (size_t i = 0; i < G_N_ELEMENTS(direction_names); i++) {
        if (strcmp(direction_names[i], text) == 0) {
            *ret = (enum graph_direction)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* Fill VIEW from MEMBERS (node indexes, any order): sort them topologically,
 * collect the edges among them, compute levels.  Takes MEMBERS. */
static void view_build(const struct graph *g, GArray *members, struct graph_view *view)
{
    sort_by_position(g, members);
    size_t n = members->len;
    /* view position + 1 per node index; 0: not in the view */
    uint32_t *at = g_new0(uint32_t, g->nodes->len ? g->nodes->len : 1);
    *view = (struct graph_view){0};
    view->nodes = g_new(const char *, n ? n : 1);
    view->level_of = g_new0(size_t, n ? n : 1);
    for (size_t k = 0; k < n; k++) {
        at[u32_at(members, k)] = (uint32_t)k + 1;
        view->nodes[k] = node_at(g, u32_at(members, k))->id;
    }
    GArray *edges = g_array_new(FALSE, FALSE, sizeof(struct graph_view_edge));
    size_t depth = 0;
    for (size_t k = 0; k < n; k++) {
        const struct node *node = node_at(g, u32_at(members, k));
        /* In topological order every dependency's level is already known. */
        for (guint e = 0; e < node->in->len; e++) {
            uint32_t from = at[u32_at(node->in, e)];
            if (!from)
                continue;
            struct graph_view_edge edge = {from - 1, k};
            g_array_append_val(edges, edge);
            if (view->level_of[from - 1] + 1 > view->level_of[k])
                view->level_of[k] = view->level_of[from - 1] + 1;
        }
        if (view->level_of[k] + 1 > depth)
            depth = view->level_of[k] + 1;
    }
    view->node_count = n;
    view->edge_count = edges->len;
    view->edges = (struct graph_view_edge *)(void *)g_array_free(edges, FALSE);
    view->level_count = depth;
    view->level_counts = g_new0(size_t, depth ? depth : 1);
    view->levels = g_new0(size_t *, depth ? depth : 1);
    for (size_t k = 0; k < n; k++)
        view->level_counts[view->level_of[k]]++;
    for (size_t l = 0; l < depth; l++) {
        view->levels[l] = g_new(size_t, view->level_counts[l]);
        view->level_counts[l] = 0;
    }
    for (size_t k = 0; k < n; k++) {
        size_t l = view->level_of[k];
        view->levels[l][view->level_counts[l]++] = k;
    }
    g_free(at);
    g_array_free(members, TRUE);
}

void graph_view_all(const struct graph *graph, struct graph_view *ret_view)
{
    GArray *members = g_array_sized_new(FALSE, FALSE, sizeof(uint32_t), graph->live);
    for (guint p = 0; p < graph->order->len; p++) {
        uint32_t i = u32_at(graph->order, p);
        if (i != NONE)
            g_array_append_val(members, i);
    }
    view_build(graph, members, ret_view);
}

/* Breadth-first from ROOT along in-edges (UP) or out-edges, DEPTH hops
 * (<= 0: all), adding what it finds to MEMBERS once (SEEN marks). */
static void closure_walk(const struct graph *g, uint32_t root, bool up, int depth, uint8_t *seen,
                         GArray *members)
{
    GArray *frontier = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GArray *next = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    uint8_t bit = up ? 1 : 2;
    g_array_append_val(frontier, root);
    seen[root] |= bit;
    for (int hop = 0; frontier->len && (depth <= 0 || hop < depth); hop++) {
        g_array_set_size(next, 0);
        for (guint k = 0; k < frontier->len; k++) {
            const struct node *n = node_at(g, u32_at(frontier, k));
            const GArray *list = up ? n->in : n->out;
            for (guint e = 0; e < list->len; e++) {
                uint32_t j = u32_at(list, e);
                if (seen[j] & bit)
                    continue;
                if (!seen[j])
                    g_array_append_val(members, j);
                seen[j] |= bit;
                g_array_append_val(next, j);
            }
        }
        GArray *swap = frontier;
        frontier = next;
        next = swap;
    }
    g_array_free(frontier, TRUE);
    g_array_free(next, TRUE);
}

int graph_view_closure(const struct graph *graph, const char *root, enum graph_direction direction,
                       int depth, struct graph_view *ret_view)
{
    uint32_t r;
    if (!find_index(graph, root, &r))
        return -ENOENT;
    uint8_t *seen = g_new0(uint8_t, graph->nodes->len);
    GArray *members = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    g_array_append_val(members, r);
    if (direction != GRAPH_DOWNSTREAM)
        closure_walk(graph, r, true, depth, seen, members);
    if (direction != GRAPH_UPSTREAM)
        closure_walk(graph, r, false, depth, seen, members);
    g_free(seen);
    view_build(graph, members, ret_view);
    return 0;
}

void graph_view_release(struct graph_view *view)
{
    if (!view)
        return;
    for (size_t l = 0; l < view->level_count; l++)
        g_free(view->levels[l]);
    g_free(view->levels);
    g_free(view->level_counts);
    g_free(view->level_of);
    g_free(view->edges);
    g_free(view->nodes);
    *view = (struct graph_view){0};
}

static void dot_quote(GString *s, const char *text)
{
    g_string_append_c(s, '"');
    for (const char *c = text; *c; c++) {
        if (*c == '"' || *c == '\\')
            g_string_append_c(s, '\\');
        if (*c == '\n')
            g_string_append(s, "\\n");
        else
            g_string_append_c(s, *c);
    }
    g_string_append_c(s, '"');
}

char *graph_view_format_dot(const struct graph_view *view, const char *name, graph_label_cb *label,
                            void *userdata)
{
    GString *s = g_string_new("digraph ");
    dot_quote(s, name ? name : "jobs");
    g_string_append(s, " {\n  rankdir=LR;\n  node [shape=box];\n");
    for (size_t k = 0; k < view->node_count; k++) {
        const char *text = label ? label(view->nodes[k], userdata) : NULL;
        g_string_append(s, "  ");
        dot_quote(s, view->nodes[k]);
        if (text) {
            g_string_append(s, " [label=");
            dot_quote(s, text);
            g_string_append_c(s, ']');
        }
        g_string_append(s, ";\n");
    }
    /* One rank per level, so Graphviz draws the execution order in columns. */
    for (size_t l = 0; l < view->level_count; l++) {
        g_string_append(s, "  { rank=same;");
        for (size_t k = 0; k < view->level_counts[l]; k++) {
            g_string_append_c(s, ' ');
            dot_quote(s, view->nodes[view->levels[l][k]]);
            g_string_append_c(s, ';');
        }
        g_string_append(s, " }\n");
    }
    for (size_t e = 0; e < view->edge_count; e++) {
        g_string_append(s, "  ");
        dot_quote(s, view->nodes[view->edges[e].from]);
        g_string_append(s, " -> ");
        dot_quote(s, view->nodes[view->edges[e].to]);
        g_string_append(s, ";\n");
    }
    g_string_append(s, "}\n");
    return g_string_free(s, FALSE);
}

/* Edges into each node of A that B lacks, reported with ADDED. */
static void edges_missing(const struct graph *a, const struct graph *b, bool added,
                          graph_edge_diff_cb *cb, void *userdata)
{
    for (guint p = 0; p < a->order->len; p++) {
        uint32_t i = u32_at(a->order, p);
        if (i == NONE)
            continue;
        const struct node *n = node_at(a, i);
        for (guint e = 0; e < n->in->len; e++) {
            const char *from = node_at(a, u32_at(n->in, e))->id;
            if (!graph_has_edge(b, from, n->id))
                cb(from, n->id, added, userdata);
        }
    }
}

void graph_diff_edges(const struct graph *old_graph, const struct graph *new_graph,
                      graph_edge_diff_cb *cb, void *userdata)
{
    edges_missing(new_graph, old_graph, true, cb, userdata);
    edges_missing(old_graph, new_graph, false, cb, userdata);
}
