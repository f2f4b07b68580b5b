/*
 * test_heap - the timer heap against tables of small cases and, on a million
 * random operations, against a plainly correct reference: an array of node
 * pointers kept sorted (descending, so the minimum is last) by binary search
 * and memmove.  After every operation peek and count must agree with it;
 * every few hundred operations every node's index, queued state and the heap
 * property are checked in full.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "base/heap.h"
#include "test_util.h"

/* The order the heap promises, written out independently of heap.c. */
static bool before(const struct heap_node *a, const struct heap_node *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    return a->tie < b->tie;
}

/* Every queued node knows its slot, and no node orders before its parent. */
static void check_heap(const struct heap *heap)
{
    assert_true(heap->count <= heap->capacity);
    for (size_t i = 0; i < heap->count; i++) {
        assert_int_equal(heap->items[i]->index, i);
        if (i > 0)
            assert_false(before(heap->items[i], heap->items[(i - 1) / 2]));
    }
}

/* A bijection on uint64 (splitmix64's finaliser): distinct sequence numbers give
 * distinct ties whose order has nothing to do with insertion order. */
static uint64_t scramble(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

/* Pop everything and expect exactly the nodes EXPECTED, in that order. */
static void expect_pops(struct heap *heap, struct heap_node *const *expected, size_t n)
{
    assert_int_equal(heap_count(heap), n);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(heap_peek(heap), expected[i]);
        struct heap_node *node = heap_pop(heap);
        assert_ptr_equal(node, expected[i]);
        assert_false(heap_node_is_queued(node));
        assert_int_equal(node->index, HEAP_NOT_QUEUED);
        assert_int_equal(heap_count(heap), n - i - 1);
        check_heap(heap);
    }
    assert_null(heap_peek(heap));
    assert_null(heap_pop(heap));
}

static void test_empty(void **state)
{
    (void)state;
    struct heap heap;
    heap_init(&heap);
    assert_null(heap.items);
    assert_int_equal(heap_count(&heap), 0);
    assert_null(heap_peek(&heap));
    assert_null(heap_pop(&heap));
    assert_int_equal(heap_reserve(&heap, 0), 0);
    assert_null(heap.items);
    heap_release(&heap);
    heap_release(&heap); /* released is empty, so releasing again is fine */
    assert_null(heap.items);
    assert_int_equal(heap.capacity, 0);
}

static void test_node_init(void **state)
{
    (void)state;
    struct heap_node a = HEAP_NODE_INIT, b;
    memset(&b, 0xab, sizeof(b));
    heap_node_init(&b);
    assert_false(heap_node_is_queued(&a));
    assert_false(heap_node_is_queued(&b));
    assert_int_equal(a.index, HEAP_NOT_QUEUED);
    assert_int_equal(b.index, HEAP_NOT_QUEUED);
    assert_int_equal(HEAP_NOT_QUEUED, SIZE_MAX);
#if SIZE_MAX == UINT64_MAX
    assert_int_equal(sizeof(struct heap_node), 24);
#endif
}

/* Nodes added in table order and in reverse; the pop order must not depend on it. */
static void test_pop_order_table(void **state)
{
    (void)state;
    enum { MAX = 8 };
    static const struct {
        const char *name;
        size_t n;
        int64_t keys[MAX];
        uint64_t ties[MAX];
        size_t order[MAX]; /* indices into keys/ties, in pop order */
    } cases[] = {
        {"one", 1, {5}, {0}, {0}},
        {"ascending", 4, {1, 2, 3, 4}, {0, 0, 0, 0}, {0, 1, 2, 3}},
        {"descending", 4, {4, 3, 2, 1}, {0, 0, 0, 0}, {3, 2, 1, 0}},
        {"equal keys, ties ascending", 5, {7, 7, 7, 7, 7}, {1, 2, 3, 4, 5}, {0, 1, 2, 3, 4}},
        {"equal keys, ties descending", 5, {7, 7, 7, 7, 7}, {5, 4, 3, 2, 1}, {4, 3, 2, 1, 0}},
        {"equal keys, ties shuffled",
         8,
         {0, 0, 0, 0, 0, 0, 0, 0},
         {40, 10, 70, 20, 80, 30, 60, 50},
         {1, 3, 5, 0, 7, 6, 2, 4}},
        {"key wins over tie", 4, {2, 1, 2, 1}, {0, 9, 1, 8}, {3, 1, 0, 2}},
        {"two groups of equal keys",
         6,
         {10, 20, 10, 20, 10, 20},
         {3, 1, 2, 3, 1, 2},
         {4, 2, 0, 1, 5, 3}},
        {"extreme keys",
         6,
         {INT64_MAX, 0, INT64_MIN, -1, INT64_MAX, INT64_MIN},
         {0, 0, UINT64_MAX, 0, UINT64_MAX, 0},
         {5, 2, 3, 1, 0, 4}},
        {"extreme ties", 3, {3, 3, 3}, {UINT64_MAX, 0, UINT64_MAX - 1}, {1, 2, 0}},
        {"negative keys", 5, {-5, 5, -50, 0, -1}, {0, 0, 0, 0, 0}, {2, 0, 4, 3, 1}},
    };
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        for (int reverse = 0; reverse < 2; reverse++) {
            struct heap_node nodes[MAX], *expected[MAX];
            struct heap heap;
            heap_init(&heap);
            size_t n = cases[c].n;
            for (size_t k = 0; k < n; k++) {
                size_t i = reverse ? n - 1 - k : k;
                heap_node_init(&nodes[i]);
                assert_int_equal(heap_add(&heap, &nodes[i], cases[c].keys[i], cases[c].ties[i]), 0);
                assert_true(heap_node_is_queued(&nodes[i]));
                assert_int_equal(nodes[i].key, cases[c].keys[i]);
                assert_int_equal(nodes[i].tie, cases[c].ties[i]);
                check_heap(&heap);
            }
            for (size_t k = 0; k < n; k++)
                expected[k] = &nodes[cases[c].order[k]];
            print_message("# %s%s\n", cases[c].name, reverse ? " (reversed)" : "");
            expect_pops(&heap, expected, n);
            heap_release(&heap);
        }
    }
}

/* Equal fire times come out by sequence number, whatever the insertion order. */
static void test_equal_keys_follow_tie(void **state)
{
    (void)state;
    enum { N = 1000 };
    static struct heap_node nodes[N];
    struct heap_node *expected[N];
    struct test_rng rng = {test_seed(21)};
    size_t perm[N];
    for (size_t i = 0; i < N; i++)
        perm[i] = i;
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = (size_t)test_rng_range(&rng, 0, (int64_t)i), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    struct heap heap;
    heap_init(&heap);
    for (size_t i = 0; i < N; i++) {
        heap_node_init(&nodes[perm[i]]);
        assert_int_equal(heap_add(&heap, &nodes[perm[i]], 1767225600000, perm[i]), 0);
    }
    check_heap(&heap);
    for (size_t i = 0; i < N; i++)
        expected[i] = &nodes[i];
    expect_pops(&heap, expected, N);
    heap_release(&heap);
}

/* Remove the node at each array slot of heaps of every size up to 40, with keys
 * from a small range so that equal keys meet; named cases first. */
static void test_remove_positions(void **state)
{
    (void)state;
    enum { MAX = 40 };
    enum where { FIRST, LAST, MIDDLE, SLOT };
    static const struct {
        const char *name;
        size_t n;
        enum where where;
    } named[] = {
        {"only element", 1, FIRST}, {"first of two", 2, FIRST},
        {"last of two", 2, LAST},   {"first of many", 31, FIRST},
        {"last of many", 31, LAST}, {"middle of many", 31, MIDDLE},
        {"last of even", 32, LAST}, {"middle of even", 32, MIDDLE},
    };
    struct test_rng rng = {test_seed(22)};
    size_t ncases = ARRAY_SIZE(named) + MAX * (MAX + 1) / 2;
    for (size_t c = 0; c < ncases; c++) {
        size_t n, slot;
        enum where where = SLOT;
        if (c < ARRAY_SIZE(named)) {
            n = named[c].n;
            where = named[c].where;
            slot = where == FIRST ? 0 : where == LAST ? n - 1 : n / 2;
        } else {
            /* c enumerates every (n, slot) with 1 <= n <= MAX, slot < n. */
            size_t k = c - ARRAY_SIZE(named);
            for (n = 1; k >= n; n++)
                k -= n;
            slot = k;
        }
        struct heap_node nodes[MAX], *expected[MAX];
        struct heap heap;
        heap_init(&heap);
        for (size_t i = 0; i < n; i++) {
            heap_node_init(&nodes[i]);
            assert_int_equal(heap_add(&heap, &nodes[i], test_rng_range(&rng, 0, 5), scramble(i)),
                             0);
        }
        check_heap(&heap);
        struct heap_node *victim = heap.items[slot];
        if (where == FIRST)
            assert_ptr_equal(victim, heap_peek(&heap));
        heap_remove(&heap, victim);
        assert_false(heap_node_is_queued(victim));
        assert_int_equal(heap_count(&heap), n - 1);
        check_heap(&heap);
        /* The rest, sorted plainly (insertion sort), must pop in that order. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (&nodes[i] == victim)
                continue;
            size_t j = m++;
            while (j > 0 && before(&nodes[i], expected[j - 1])) {
                expected[j] = expected[j - 1];
                j--;
            }
            expected[j] = &nodes[i];
        }
        expect_pops(&heap, expected, m);
        heap_release(&heap);
    }
}

static void test_remove_unqueued_is_noop(void **state)
{
    (void)state;
    struct heap heap;
    struct heap_node nodes[5], stranger = HEAP_NODE_INIT;
    struct heap_node *snapshot[5];
    heap_init(&heap);
    heap_remove(&heap, &stranger); /* empty heap */
    assert_int_equal(heap_count(&heap), 0);
    for (size_t i = 0; i < 5; i++) {
        heap_node_init(&nodes[i]);
        assert_int_equal(heap_add(&heap, &nodes[i], (int64_t)(10 - i), 0), 0);
    }
    struct heap_node *popped = heap_pop(&heap);
    assert_ptr_equal(popped, &nodes[4]);
    heap_remove(&heap, &nodes[2]);
    memcpy(snapshot, heap.items, heap.count * sizeof(*snapshot));
    size_t count = heap.count;

    heap_remove(&heap, &stranger); /* never added */
    heap_remove(&heap, popped);    /* popped */
    heap_remove(&heap, &nodes[2]); /* removed already */
    assert_int_equal(heap.count, count);
    assert_memory_equal(heap.items, snapshot, count * sizeof(*snapshot));
    assert_int_equal(stranger.index, HEAP_NOT_QUEUED);
    check_heap(&heap);
    struct heap_node *expected[] = {&nodes[3], &nodes[1], &nodes[0]};
    expect_pops(&heap, expected, ARRAY_SIZE(expected));
    heap_release(&heap);
}

static void test_add_twice(void **state)
{
    (void)state;
    struct heap heap;
    struct heap_node a = HEAP_NODE_INIT, b = HEAP_NODE_INIT;
    heap_init(&heap);
    assert_int_equal(heap_add(&heap, &a, 5, 1), 0);
    assert_int_equal(heap_add(&heap, &b, 7, 2), 0);
    assert_int_equal(heap_add(&heap, &b, 1, 0), -EEXIST);
    assert_int_equal(heap_add(&heap, &a, 9, 9), -EEXIST);
    assert_int_equal(heap_count(&heap), 2);
    assert_int_equal(a.key, 5);
    assert_int_equal(a.tie, 1);
    assert_int_equal(b.key, 7);
    assert_int_equal(b.tie, 2);
    check_heap(&heap);
    /* Once out, a node may come back with a new key. */
    heap_remove(&heap, &a);
    assert_int_equal(heap_add(&heap, &a, 8, 3), 0);
    struct heap_node *expected[] = {&b, &a};
    expect_pops(&heap, expected, 2);
    heap_release(&heap);
}

/* Each case updates node TARGET of keys 10, 20, ..., 80 (ties 0..7). */
static void test_update_table(void **state)
{
    (void)state;
    enum { N = 8 };
    static const struct {
        const char *name;
        size_t target;
        int64_t key;
        uint64_t tie;
        bool unmoved; /* the array must not change at all */
        size_t order[N];
    } cases[] = {
        {"same key and tie, root", 0, 10, 0, true, {0, 1, 2, 3, 4, 5, 6, 7}},
        {"same key and tie, leaf", 7, 80, 7, true, {0, 1, 2, 3, 4, 5, 6, 7}},
        {"same key and tie, middle", 3, 40, 3, true, {0, 1, 2, 3, 4, 5, 6, 7}},
        {"same key, later tie", 0, 10, 100, true, {0, 1, 2, 3, 4, 5, 6, 7}},
        {"to the front", 7, 1, 7, false, {7, 0, 1, 2, 3, 4, 5, 6}},
        {"to the back", 0, 99, 0, false, {1, 2, 3, 4, 5, 6, 7, 0}},
        {"equal key, earlier tie", 5, 30, 0, false, {0, 1, 5, 2, 3, 4, 6, 7}},
        {"equal key, later tie", 1, 30, 9, false, {0, 2, 1, 3, 4, 5, 6, 7}},
        {"to INT64_MIN", 4, INT64_MIN, 4, false, {4, 0, 1, 2, 3, 5, 6, 7}},
        {"to INT64_MAX", 4, INT64_MAX, 4, false, {0, 1, 2, 3, 5, 6, 7, 4}},
    };
    for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
        struct heap_node nodes[N], *before_update[N], *expected[N];
        struct heap heap;
        heap_init(&heap);
        for (size_t i = 0; i < N; i++) {
            heap_node_init(&nodes[i]);
            assert_int_equal(heap_add(&heap, &nodes[i], (int64_t)(10 * (i + 1)), i), 0);
        }
        memcpy(before_update, heap.items, sizeof(before_update));
        struct heap_node *node = &nodes[cases[c].target];
        heap_update(&heap, node, cases[c].key, cases[c].tie);
        print_message("# %s\n", cases[c].name);
        assert_int_equal(node->key, cases[c].key);
        assert_int_equal(node->tie, cases[c].tie);
        assert_true(heap_node_is_queued(node));
        assert_int_equal(heap_count(&heap), N);
        check_heap(&heap);
        if (cases[c].unmoved)
            assert_memory_equal(heap.items, before_update, sizeof(before_update));
        for (size_t i = 0; i < N; i++)
            expected[i] = &nodes[cases[c].order[i]];
        expect_pops(&heap, expected, N);
        heap_release(&heap);
    }
}

static void test_reserve(void **state)
{
    (void)state;
    enum { N = 100 };
    static struct heap_node nodes[N + 1];
    struct heap heap;
    heap_init(&heap);
    assert_int_equal(heap_reserve(&heap, N), 0);
    assert_int_equal(heap.capacity, N);
    struct heap_node **items = heap.items;
    for (size_t i = 0; i < N; i++) {
        heap_node_init(&nodes[i]);
        assert_int_equal(heap_add(&heap, &nodes[i], (int64_t)(i % 7), i), 0);
    }
    assert_ptr_equal(heap.items, items); /* no allocation up to N */
    assert_int_equal(heap_reserve(&heap, N / 2), 0);
    assert_int_equal(heap.capacity, N);
    assert_int_equal(heap_reserve(&heap, N), 0);
    assert_ptr_equal(heap.items, items);
    /* Sizes whose byte count overflows fail without touching the heap. */
    assert_int_equal(heap_reserve(&heap, SIZE_MAX), -ENOMEM);
    assert_int_equal(heap_reserve(&heap, SIZE_MAX / sizeof(void *) + 1), -ENOMEM);
    assert_int_equal(heap.capacity, N);
    assert_int_equal(heap_count(&heap), N);
    check_heap(&heap);
    heap_node_init(&nodes[N]);
    assert_int_equal(heap_add(&heap, &nodes[N], -1, 0), 0); /* grows by doubling */
    assert_int_equal(heap.capacity, 2 * N);
    assert_ptr_equal(heap_peek(&heap), &nodes[N]);
    check_heap(&heap);
    assert_int_equal(heap_reserve(&heap, 2 * N + 1), 0); /* exactly what is asked */
    assert_int_equal(heap.capacity, 2 * N + 1);
    assert_int_equal(heap_count(&heap), N + 1);
    check_heap(&heap);
    heap_release(&heap);
    assert_int_equal(heap_count(&heap), 0);
    /* A released heap is usable again once its nodes are reinitialised. */
    heap_node_init(&nodes[0]);
    assert_int_equal(heap_add(&heap, &nodes[0], 3, 3), 0);
    assert_ptr_equal(heap_pop(&heap), &nodes[0]);
    heap_release(&heap);
}

struct job {
    int id;
    struct heap_node timer;
    char name[16];
};

static void test_heap_entry(void **state)
{
    (void)state;
    struct job jobs[3] = {
        {.id = 1, .timer = HEAP_NODE_INIT, .name = "backup"},
        {.id = 2, .timer = HEAP_NODE_INIT, .name = "report"},
        {.id = 3, .timer = HEAP_NODE_INIT, .name = "cleanup"},
    };
    struct heap heap;
    heap_init(&heap);
    assert_null(heap_entry(heap_peek(&heap), struct job, timer));
    assert_null(heap_entry(heap_pop(&heap), struct job, timer));
    assert_ptr_equal(heap_entry(&jobs[1].timer, struct job, timer), &jobs[1]);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(heap_add(&heap, &jobs[i].timer, 100 - jobs[i].id, i), 0);
    /* Evaluated once: one pop, not two. */
    struct job *job = heap_entry(heap_pop(&heap), struct job, timer);
    assert_ptr_equal(job, &jobs[2]);
    assert_string_equal(job->name, "cleanup");
    assert_int_equal(heap_count(&heap), 2);
    assert_ptr_equal(heap_entry(heap_peek(&heap), struct job, timer), &jobs[1]);
    heap_release(&heap);
}

/* The reference: queued nodes sorted descending, so the minimum is last. */
struct ref {
    struct heap_node **sorted;
    size_t count;
};

/* First slot whose node does not order after NODE. */
static size_t ref_search(const struct ref *ref, const struct heap_node *node)
{
    size_t lo = 0, hi = ref->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (before(node, ref->sorted[mid]))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void ref_insert(struct ref *ref, struct heap_node *node)
{
    size_t at = ref_search(ref, node);
    memmove(&ref->sorted[at + 1], &ref->sorted[at], (ref->count - at) * sizeof(*ref->sorted));
    ref->sorted[at] = node;
    ref->count++;
}

static void ref_delete(struct ref *ref, struct heap_node *node)
{
    size_t at = ref_search(ref, node);
    assert_true(at < ref->count);
    assert_ptr_equal(ref->sorted[at], node); /* ties are distinct, so the slot is exact */
    ref->count--;
    memmove(&ref->sorted[at], &ref->sorted[at + 1], (ref->count - at) * sizeof(*ref->sorted));
}

static struct heap_node *ref_min(const struct ref *ref)
{
    return ref->count ? ref->sorted[ref->count - 1] : NULL;
}

static int64_t random_key(struct test_rng *rng)
{
    static const int64_t extremes[] = {INT64_MIN, INT64_MIN + 1, -1, 0, INT64_MAX - 1, INT64_MAX};
    uint64_t r = test_rng_next(rng) % 100;
    if (r < 70)
        return test_rng_range(rng, 0, 31); /* many equal keys */
    if (r < 90)
        return test_rng_range(rng, -1000000, 1000000);
    return extremes[test_rng_next(rng) % ARRAY_SIZE(extremes)];
}

static void test_random_against_reference(void **state)
{
    (void)state;
    enum { POOL = 4096, OPS = 1000000, PHASE = 50000, CHECK_EVERY = 512 };
    struct test_rng rng = {test_seed(23)};
    struct heap_node *nodes = calloc(POOL, sizeof(*nodes));
    bool *in_ref = calloc(POOL, sizeof(*in_ref));
    struct ref ref = {calloc(POOL, sizeof(*ref.sorted)), 0};
    assert_non_null(nodes);
    assert_non_null(in_ref);
    assert_non_null(ref.sorted);
    for (size_t i = 0; i < POOL; i++)
        heap_node_init(&nodes[i]);
    struct heap heap;
    heap_init(&heap);
    uint64_t seq = 0;
    size_t counts[6] = {0}; /* add, add -EEXIST, remove, remove no-op, update, pop */
    unsigned add_percent = 45;
    for (long op = 0; op < OPS; op++) {
        if (op % PHASE == 0) /* alternate filling, draining and churning */
            add_percent = (unsigned[]){45, 70, 20, 50}[(op / PHASE) % 4];
        unsigned r = (unsigned)(test_rng_next(&rng) % 100);
        if (r < add_percent) {
            size_t i = test_rng_next(&rng) % POOL;
            int64_t key = random_key(&rng);
            uint64_t tie = scramble(seq++);
            if (in_ref[i]) {
                int64_t old_key = nodes[i].key;
                uint64_t old_tie = nodes[i].tie;
                assert_int_equal(heap_add(&heap, &nodes[i], key, tie), -EEXIST);
                assert_int_equal(nodes[i].key, old_key);
                assert_int_equal(nodes[i].tie, old_tie);
                counts[1]++;
            } else {
                assert_int_equal(heap_add(&heap, &nodes[i], key, tie), 0);
                assert_int_equal(nodes[i].key, key);
                assert_int_equal(nodes[i].tie, tie);
                ref_insert(&ref, &nodes[i]);
                in_ref[i] = true;
                counts[0]++;
            }
        } else if (r < add_percent + (100 - add_percent) / 3) {
            /* Half the time a queued node, half the time any node. */
            struct heap_node *node = ref.count && (test_rng_next(&rng) & 1)
                                         ? ref.sorted[test_rng_next(&rng) % ref.count]
                                         : &nodes[test_rng_next(&rng) % POOL];
            size_t i = (size_t)(node - nodes);
            if (in_ref[i]) {
                ref_delete(&ref, node);
                in_ref[i] = false;
                counts[2]++;
            } else {
                counts[3]++;
            }
            heap_remove(&heap, node);
            assert_false(heap_node_is_queued(node));
        } else if (r < add_percent + 2 * (100 - add_percent) / 3) {
            if (ref.count == 0)
                continue;
            struct heap_node *node = ref.sorted[test_rng_next(&rng) % ref.count];
            int64_t key = node->key;
            uint64_t tie = node->tie;
            switch (test_rng_next(&rng) % 6) {
            case 0: /* same key and tie */
                break;
            case 1: /* same key, fresh tie */
                tie = scramble(seq++);
                break;
            default:
                key = random_key(&rng);
                tie = scramble(seq++);
            }
            ref_delete(&ref, node);
            heap_update(&heap, node, key, tie);
            assert_int_equal(node->key, key);
            assert_int_equal(node->tie, tie);
            assert_true(heap_node_is_queued(node));
            ref_insert(&ref, node);
            counts[4]++;
        } else {
            struct heap_node *expected = ref_min(&ref);
            struct heap_node *node = heap_pop(&heap);
            assert_ptr_equal(node, expected);
            if (node) {
                ref_delete(&ref, node);
                in_ref[node - nodes] = false;
                assert_false(heap_node_is_queued(node));
            }
            counts[5]++;
        }
        assert_int_equal(heap_count(&heap), ref.count);
        assert_ptr_equal(heap_peek(&heap), ref_min(&ref));
        if (op % CHECK_EVERY == 0 || op == OPS - 1) {
            check_heap(&heap);
            for (size_t i = 0; i < POOL; i++)
                assert_int_equal(heap_node_is_queued(&nodes[i]), in_ref[i]);
            for (size_t i = 1; i < ref.count; i++)
                assert_true(before(ref.sorted[i], ref.sorted[i - 1]));
        }
    }
    print_message("# adds %zu, adds -EEXIST %zu, removes %zu, removes no-op %zu, updates %zu, "
                  "pops %zu, capacity %zu\n",
                  counts[0], counts[1], counts[2], counts[3], counts[4], counts[5], heap.capacity);
    /* Drain: what is left comes out in the reference's order. */
    while (ref.count) {
        assert_ptr_equal(heap_pop(&heap), ref_min(&ref));
        ref.count--;
    }
    assert_null(heap_pop(&heap));
    heap_release(&heap);
    free(ref.sorted);
    free(in_ref);
    free(nodes);
}

/* The scheduler's size: a million timers, the array sized once (8 MB). */
static void test_million_sorted(void **state)
{
    (void)state;
    enum { N = 1000000 };
    struct test_rng rng = {test_seed(24)};
    struct heap_node *nodes = malloc(N * sizeof(*nodes));
    assert_non_null(nodes);
    struct heap heap;
    heap_init(&heap);
    assert_int_equal(heap_reserve(&heap, N), 0);
    assert_int_equal(heap.capacity, N);
    struct heap_node **items = heap.items;
    for (size_t i = 0; i < N; i++) {
        heap_node_init(&nodes[i]);
        /* ~100 nodes per key: the ties decide much of the order. */
        assert_int_equal(heap_add(&heap, &nodes[i], test_rng_range(&rng, 0, 9999), scramble(i)), 0);
    }
    assert_ptr_equal(heap.items, items);
    assert_int_equal(heap_count(&heap), N);
    check_heap(&heap);
    const struct heap_node *prev = NULL;
    for (size_t i = 0; i < N; i++) {
        struct heap_node *node = heap_pop(&heap);
        assert_non_null(node);
        assert_int_equal(node->index, HEAP_NOT_QUEUED);
        if (prev)
            assert_true(before(prev, node)); /* strictly: no node comes out twice */
        prev = node;
    }
    assert_int_equal(heap_count(&heap), 0);
    assert_null(heap_pop(&heap));
    heap_release(&heap);
    free(nodes);
}

/* Without heap_reserve() the array doubles: never more than twice the nodes. */
static void test_growth(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct heap_node *nodes = malloc(N * sizeof(*nodes));
    assert_non_null(nodes);
    struct heap heap;
    heap_init(&heap);
    for (size_t i = 0; i < N; i++) {
        heap_node_init(&nodes[i]);
        assert_int_equal(heap_add(&heap, &nodes[i], -(int64_t)i, 0), 0);
        assert_true(heap.capacity >= heap.count);
        assert_true(heap.capacity <= 16 || heap.capacity < 2 * heap.count);
        assert_ptr_equal(heap_peek(&heap), &nodes[i]);
    }
    check_heap(&heap);
    for (size_t i = N; i-- > 0;)
        assert_ptr_equal(heap_pop(&heap), &nodes[i]);
    heap_release(&heap);
    free(nodes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_node_init),
        cmocka_unit_test(test_pop_order_table),
        cmocka_unit_test(test_equal_keys_follow_tie),
        cmocka_unit_test(test_remove_positions),
        cmocka_unit_test(test_remove_unqueued_is_noop),
        cmocka_unit_test(test_add_twice),
        cmocka_unit_test(test_update_table),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_heap_entry),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_million_sorted),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
