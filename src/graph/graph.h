/*
 * graph - the job dependency graph: nodes are job ids, an edge goes from a
 * dependency to its dependent (the direction work flows).
 *
 * Pure: no I/O, no clock, no globals, no logging.
 *
 * The graph is kept acyclic at all times.  Adding an edge checks for a cycle
 * incrementally (a dynamic topological order after Pearce and Kelly): every
 * node holds a position in a topological order; an edge that agrees with the
 * order costs O(1), one that does not searches only the nodes whose
 * positions lie between its ends and reorders those, never the whole graph.  An edge that would
 * close a cycle is refused with the cycle's path, and the graph is unchanged.
 *
 * Views (GetJobGraph): the whole graph or the upstream / downstream / both
 * closure of one node to a depth, with topological levels (level 0: nodes
 * with no dependency inside the view; level k: one more than the deepest
 * dependency), and DOT text for Graphviz.
 *
 * Ids are copied in; strings the graph returns are borrowed until the node
 * is removed or the graph freed.
 */
#ifndef OVSCHED_GRAPH_GRAPH_H
#define OVSCHED_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct graph;

/* A new empty graph (free with graph_free()); aborts on allocation failure,
 * as GLib does. */
struct graph *graph_new(void);
/* A deep copy of GRAPH: ApplyJobs tries a whole batch on a copy. */
struct graph *graph_copy(const struct graph *graph);
void graph_free(struct graph *graph);

size_t graph_node_count(const struct graph *graph);
size_t graph_edge_count(const struct graph *graph);

/* Add node ID if absent.  Returns 1 when added, 0 when it was there. */
int graph_node_add(struct graph *graph, const char *id);
bool graph_has_node(const struct graph *graph, const char *id);
/* Remove node ID and every edge touching it.  Returns 0 or -ENOENT. */
int graph_node_remove(struct graph *graph, const char *id);

/* Add the edge FROM -> TO (TO depends on FROM); both nodes must exist.
 * Returns 1 when added, 0 when it was there, -ENOENT for a missing node, or
 * -ELOOP when it would close a cycle: then, when RET_CYCLE is not NULL,
 * *ret_cycle is a new string naming the cycle along the edges' direction
 * ("a -> b -> c -> a", g_free() it) and the graph is unchanged. */
int graph_edge_add(struct graph *graph, const char *from, const char *to, char **ret_cycle);
bool graph_has_edge(const struct graph *graph, const char *from, const char *to);
/* Returns 0 or -ENOENT (no such edge). */
int graph_edge_remove(struct graph *graph, const char *from, const char *to);

/* Make DEPS (COUNT ids, duplicates ignored) exactly the dependencies of node
 * ID: all or nothing.  Returns 0, -ENOENT (ID or a dependency is not a node;
 * *ret_missing, when not NULL, borrows the missing id), or -ELOOP with
 * *ret_cycle as for graph_edge_add(); on failure the graph is unchanged. */
int graph_deps_set(struct graph *graph, const char *id, const char *const *deps, size_t count,
                   const char **ret_missing, char **ret_cycle);

/* Callback over ids; return non-zero to stop (the value is returned). */
typedef int graph_id_cb(const char *id, void *userdata);
/* The dependencies (in-edges) or dependents (out-edges) of ID, in the order
 * they were added.  Returns 0, CB's non-zero value, or -ENOENT. */
int graph_deps_foreach(const struct graph *graph, const char *id, graph_id_cb *cb, void *userdata);
int graph_dependents_foreach(const struct graph *graph, const char *id, graph_id_cb *cb,
                             void *userdata);
size_t graph_dependent_count(const struct graph *graph, const char *id);

enum graph_direction {
    GRAPH_UPSTREAM,   /* the node and what it depends on, transitively */
    GRAPH_DOWNSTREAM, /* the node and what depends on it, transitively */
    GRAPH_BOTH,       /* both closures (not the whole connected component) */
};
const char *graph_direction_to_string(enum graph_direction direction);
int graph_direction_from_string(const char *text, enum graph_direction *ret);

/* A view: a set of nodes with the edges among them and their levels. */
struct graph_view {
    const char **nodes; /* borrowed ids, in topological order */
    size_t node_count;
    struct graph_view_edge {
        size_t from, to; /* indexes into nodes */
    } * edges;
    size_t edge_count;
    size_t *level_of;     /* level of each node */
    size_t **levels;      /* levels[k]: indexes of the nodes at level k */
    size_t *level_counts; /* nodes per level */
    size_t level_count;
};

/* The whole graph into *ret_view.  Release with graph_view_release(). */
void graph_view_all(const struct graph *graph, struct graph_view *ret_view);
/* The DIRECTION closure of ROOT to DEPTH hops (DEPTH <= 0: unlimited).
 * Returns 0 or -ENOENT (ROOT is not a node); *ret_view written on success. */
int graph_view_closure(const struct graph *graph, const char *root, enum graph_direction direction,
                       int depth, struct graph_view *ret_view);
void graph_view_release(struct graph_view *view);

/* Label for a node in DOT output; NULL: the id.  The result is borrowed for
 * the duration of the call that asked. */
typedef const char *graph_label_cb(const char *id, void *userdata);
/* The view as a Graphviz digraph named NAME: one rank per level, quoted and
 * escaped ids.  Returns a new string (g_free() it). */
char *graph_view_format_dot(const struct graph_view *view, const char *name, graph_label_cb *label,
                            void *userdata);

/* The edges in one graph and not the other (ApplyJobs' dry_run diff).
 * CB is called once per edge with ADDED true for edges of NEW not in OLD and
 * false for edges of OLD not in NEW. */
typedef void graph_edge_diff_cb(const char *from, const char *to, bool added, void *userdata);
void graph_diff_edges(const struct graph *old_graph, const struct graph *new_graph,
                      graph_edge_diff_cb *cb, void *userdata);

#endif
