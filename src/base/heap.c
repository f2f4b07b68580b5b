/*
 * heap - binary min-heap of borrowed nodes that know their own slot.
 *
 * Sifts move a "hole" rather than swapping: the moving node is held aside,
 * nodes it passes shift one level into the hole (each getting its new index),
 * and it is written once at its final slot.  That halves the stores of a swap
 * loop and keeps every node's index right the moment the sift returns.
 *
 * heap_remove() fills the vacated slot with the last node, which may belong
 * above or below it (it came from a different subtree), so the slot is sifted
 * both ways; at most one of the two moves it.
 */
#include "base/heap.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

/* The memory figures in heap.h assume this layout. */
#if SIZE_MAX == UINT64_MAX
_Static_assert(sizeof(struct heap_node) == 24, "heap_node is 24 bytes on LP64");
#endif

#define HEAP_MIN_CAPACITY 16

static inline bool node_less(const struct heap_node *a, const struct heap_node *b)
{
    return a->key < b->key || (a->key == b->key && a->tie < b->tie);
}

static inline void place(struct heap *heap, size_t i, struct heap_node *node)
{
    heap->items[i] = node;
    node->index = i;
}

/* Move NODE, meant for slot I, towards the root. */
static void sift_up(struct heap *heap, size_t i, struct heap_node *node)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!node_less(node, heap->items[parent]))
            break;
        place(heap, i, heap->items[parent]);
        i = parent;
    }
    place(heap, i, node);
}

/* Move NODE, meant for slot I, towards the leaves. */
static void sift_down(struct heap *heap, size_t i, struct heap_node *node)
{
    size_t count = heap->count;
    for (;;) {
        /* i < count <= SIZE_MAX / sizeof(pointer), so 2 * i + 1 cannot wrap. */
        size_t child = 2 * i + 1;
        if (child >= count)
            break;
        if (child + 1 < count && node_less(heap->items[child + 1], heap->items[child]))
            child++;
        if (!node_less(heap->items[child], node))
            break;
        place(heap, i, heap->items[child]);
        i = child;
    }
    place(heap, i, node);
}

/* Put NODE in slot I and sift whichever way it needs to go. */
static void restore(struct heap *heap, size_t i, struct heap_node *node)
{
    if (i > 0 && node_less(node, heap->items[(i - 1) / 2]))
        sift_up(heap, i, node);
    else
        sift_down(heap, i, node);
}

static int grow_to(struct heap *heap, size_t capacity)
{
    if (capacity > SIZE_MAX / sizeof(*heap->items))
        return -ENOMEM;
    struct heap_node **items = realloc(heap->items, capacity * sizeof(*items));
    if (!items)
        return -ENOMEM;
    heap->items = items;
    heap->capacity = capacity;
    return 0;
}

void heap_node_init(struct heap_node *node)
{
    *node = (struct heap_node)HEAP_NODE_INIT;
}

bool heap_node_is_queued(const struct heap_node *node)
{
    return node->index != HEAP_NOT_QUEUED;
}

void heap_init(struct heap *heap)
{
    *heap = (struct heap){.items = NULL, .count = 0, .capacity = 0};
}

void heap_release(struct heap *heap)
{
    free(heap->items);
    heap_init(heap);
}

int heap_reserve(struct heap *heap, size_t n)
{
    if (n <= heap->capacity)
        return 0;
    return grow_to(heap, n);
}

int heap_add(struct heap *heap, struct heap_node *node, int64_t key, uint64_t tie)
{
    if (heap_node_is_queued(node)) {
        /* Anything else is a node never initialised, or queued in another heap. */
        assert(node->index < heap->count && heap->items[node->index] == node);
        return -EEXIST;
    }
    if (heap->count == heap->capacity) {
        if (heap->capacity > SIZE_MAX / 2)
            return -ENOMEM;
        int r = grow_to(heap, heap->capacity ? heap->capacity * 2 : HEAP_MIN_CAPACITY);
        if (r < 0)
            return r;
    }
    node->key = key;
    node->tie = tie;
    sift_up(heap, heap->count++, node);
    return 0;
}

void heap_remove(struct heap *heap, struct heap_node *node)
{
    if (!heap_node_is_queued(node))
        return;
    size_t i = node->index;
    assert(i < heap->count && heap->items[i] == node);
    struct heap_node *last = heap->items[--heap->count];
    node->index = HEAP_NOT_QUEUED;
    if (last != node)
        restore(heap, i, last);
}

void heap_update(struct heap *heap, struct heap_node *node, int64_t key, uint64_t tie)
{
    size_t i = node->index;
    assert(i < heap->count && heap->items[i] == node);
    node->key = key;
    node->tie = tie;
    restore(heap, i, node);
}

struct heap_node *heap_peek(const struct heap *heap)
{
    return heap->count ? heap->items[0] : NULL;
}

struct heap_node *heap_pop(struct heap *heap)
{
    if (heap->count == 0)
        return NULL;
    struct heap_node *first = heap->items[0];
    struct heap_node *last = heap->items[--heap->count];
    first->index = HEAP_NOT_QUEUED;
    if (last != first)
        sift_down(heap, 0, last);
    return first;
}

size_t heap_count(const struct heap *heap)
{
    return heap->count;
}
