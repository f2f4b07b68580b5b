/*
 * heap - an intrusive, indexed binary min-heap: the scheduler's timer queue.
 *
 * Workload: up to millions of jobs keyed by their next fire time, where every
 * create, update, delete, pause and resume moves one job.  Each job embeds a
 * struct heap_node; the heap is an array of pointers to those nodes, and every
 * node remembers its own position in that array (node->index), so removing or
 * re-keying an arbitrary job is a sift from a known slot: O(log n), with no
 * search and no allocation per node.
 *
 * Memory: the embedded node is 24 bytes on LP64; beyond it the heap costs one
 * 8-byte pointer per array slot and nothing else.  1,000,000 jobs cost 24 MB of
 * nodes inside the jobs plus an 8 MB array when sized with heap_reserve(); when
 * left to grow by doubling, the array holds up to twice the slots it needs
 * (at most 16 bytes per node).  The array never shrinks before heap_release().
 *
 * Order: smaller key first; equal keys come out by smaller tie.  Callers give
 * each node a distinct tie (a sequence number), which makes the order total and
 * so deterministic; nodes equal in both key and tie come out in an unspecified
 * order.
 *
 * Invariants, after every call: items[0..count) are the queued nodes;
 * items[i]->index == i; no node orders before its parent (items[(i - 1) / 2]);
 * a node in no heap has index == HEAP_NOT_QUEUED.  A node is in at most one
 * heap at a time.
 *
 * Surprise: a zero-filled node has index 0, which reads as queued.  Initialise
 * every node with heap_node_init() or HEAP_NODE_INIT before first use.
 *
 * Nodes are borrowed, never owned: the heap does not allocate, free or copy
 * them.  A queued node must not move or be freed until it is removed.  No
 * locking: one thread (the scheduler's loop) owns a heap and its nodes.
 */
#ifndef OVSCHED_BASE_HEAP_H
#define OVSCHED_BASE_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_NOT_QUEUED SIZE_MAX

struct heap_node {
    int64_t key;  /* e.g. next_at_ms; read-only for callers while queued */
    uint64_t tie; /* orders equal keys; read-only for callers while queued */
    size_t index; /* slot in heap->items, or HEAP_NOT_QUEUED */
};

#define HEAP_NODE_INIT                                                                             \
    {                                                                                              \
        .key = 0, .tie = 0, .index = HEAP_NOT_QUEUED                                               \
    }

struct heap {
    struct heap_node **items; /* items[0] is the minimum */
    size_t count;
    size_t capacity; /* slots allocated in items */
};

/* The struct of type TYPE whose member MEMBER is the node PTR points to, or
 * NULL when PTR is NULL, so `heap_entry(heap_pop(h), struct job, timer)` is safe
 * on an empty heap.  PTR is evaluated once. */
#define heap_entry(ptr, type, member) ((type *)heap_entry_(ptr, offsetof(type, member)))

static inline void *heap_entry_(struct heap_node *node, size_t offset)
{
    return node ? (void *)((char *)node - offset) : NULL;
}

/* Mark NODE as in no heap (index = HEAP_NOT_QUEUED); key and tie become 0. */
void heap_node_init(struct heap_node *node);

/* True when NODE is in a heap.  O(1). */
bool heap_node_is_queued(const struct heap_node *node);

/* An empty heap with no array; never allocates, never fails. */
void heap_init(struct heap *heap);

/* Free the array and leave HEAP empty, as after heap_init().  Nodes are not
 * touched (they may already be freed): a node still queued keeps a stale index
 * and must go through heap_node_init() before it is added anywhere again. */
void heap_release(struct heap *heap);

/* Make room for N nodes in all (not N more), so that adds up to N never
 * allocate and the array is exactly N slots (8 * N bytes) when it grows here.
 * Returns 0 (also when the room is already there), or -ENOMEM with HEAP
 * unchanged. */
int heap_reserve(struct heap *heap, size_t n);

/* Set NODE's key and tie and queue it.  O(log n); allocates only when the
 * array is full (doubling it).  Returns 0, -EEXIST when NODE is already queued
 * (HEAP and NODE unchanged), or -ENOMEM (HEAP and NODE unchanged). */
int heap_add(struct heap *heap, struct heap_node *node, int64_t key, uint64_t tie);

/* Take NODE out of HEAP and mark it unqueued.  O(log n); no-op when NODE is not
 * queued.  NODE must not be queued in another heap. */
void heap_remove(struct heap *heap, struct heap_node *node);

/* Give queued NODE a new key and tie and restore the order.  O(log n); never
 * allocates.  NODE must be queued in HEAP (asserted). */
void heap_update(struct heap *heap, struct heap_node *node, int64_t key, uint64_t tie);

/* The first node (smallest key, then smallest tie), left queued; NULL when
 * HEAP is empty.  O(1). */
struct heap_node *heap_peek(const struct heap *heap);

/* Remove and return the first node, marked unqueued; NULL when HEAP is empty.
 * O(log n). */
struct heap_node *heap_pop(struct heap *heap);

/* Number of queued nodes.  O(1). */
size_t heap_count(const struct heap *heap);

#endif
