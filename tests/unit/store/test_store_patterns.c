/*
 * test_store_patterns - the store's patterns, idempotency keys, run contexts
 * and runs by correlation id, on a real SQLite file and on a real PostgreSQL server (a fresh
 * database per case): revisions, the Nexus status written only for the revision it belongs to, one
 * claim per key, pruning by age, contexts that go with their runs, and a flow's runs in order.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pg_fixture.h"
#include "store/store.h"

struct fixture {
    bool pg; /* PostgreSQL in database DB; else SQLite in DIR */
    char dir[64];
    char db[64];
    char url[512];
    struct store *st;
};

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove(path);
}

static int setup_backend(void **state, bool pg)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->pg = pg;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/ovsched-pstore-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    if (pg) {
        pg_fixture_create_db(fx->db, sizeof(fx->db), fx->url, sizeof(fx->url));
        assert_int_equal(store_open_postgres(fx->url, 0, &fx->st, NULL, 0), 0);
    } else {
        assert_int_equal(store_open_sqlite(fx->dir, &fx->st, NULL, 0), 0);
    }
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return setup_backend(state, false);
}

static int setup_pg(void **state)
{
    return setup_backend(state, true);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    store_close(fx->st);
    nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (fx->pg)
        pg_fixture_drop_db(fx->db);
    free(fx);
    return 0;
}

static void add_job(struct store *st, const char *id)
{
    struct store_job job = {.id = id, .status = "ACTIVE", .json = "{}", .created_at_ms = 1};
    assert_int_equal(store_job_create(st, &job, NULL), 0);
}

static uint64_t add_run(struct store *st, const char *job_id, const char *correlation)
{
    struct store_run run = {.job_id = job_id,
                            .status = "COMPLETED",
                            .trigger = "orchestration",
                            .attempt = 1,
                            .scheduled_at_ms = 5,
                            .correlation_id = correlation};
    uint64_t id = 0;
    assert_int_equal(store_run_insert(st, &run, &id, NULL), 0);
    return id;
}

static void test_pattern_revisions_and_status(void **state)
{
    struct fixture *fx = *state;
    struct store_pattern p = {
        .id = "etl", .json = "{\"v\":1}", .nexus_status = "{\"state\":\"pending\"}"};
    int64_t revision = 0;
    assert_int_equal(store_pattern_put(fx->st, &p, 100, &revision, NULL), 0);
    assert_int_equal(revision, 1);
    p.json = "{\"v\":2}";
    assert_int_equal(store_pattern_put(fx->st, &p, 200, &revision, NULL), 0);
    assert_int_equal(revision, 2);
    /* A result for revision 1 arrives late: it must not overwrite revision 2's. */
    assert_int_equal(
        store_pattern_set_nexus_status(fx->st, "etl", 1, "{\"state\":\"registered\"}", NULL),
        -ENOENT);
    assert_int_equal(
        store_pattern_set_nexus_status(fx->st, "etl", 2, "{\"state\":\"registered\"}", NULL), 0);
    struct store_pattern got;
    assert_int_equal(store_pattern_get(fx->st, "etl", &got, NULL), 0);
    assert_string_equal(got.json, "{\"v\":2}");
    assert_string_equal(got.nexus_status, "{\"state\":\"registered\"}");
    assert_int_equal(got.revision, 2);
    assert_int_equal(got.created_at_ms, 100);
    assert_int_equal(got.updated_at_ms, 200);
    store_pattern_release(&got);
    struct store_pattern b = {.id = "a-first", .json = "{}"};
    assert_int_equal(store_pattern_put(fx->st, &b, 300, NULL, NULL), 0);
    struct store_pattern_list list;
    assert_int_equal(store_pattern_list(fx->st, &list, NULL), 0);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, "a-first");
    assert_null(list.items[0].nexus_status);
    store_pattern_list_release(&list);
    assert_int_equal(store_pattern_delete(fx->st, "etl", NULL), 0);
    assert_int_equal(store_pattern_delete(fx->st, "etl", NULL), -ENOENT);
    assert_int_equal(store_pattern_get(fx->st, "etl", &got, NULL), -ENOENT);
    assert_int_equal(store_pattern_get(fx->st, "", &got, NULL), -EINVAL);
}

static void test_idempotency_keys(void **state)
{
    struct fixture *fx = *state;
    uint64_t first = 99;
    assert_int_equal(store_idempotency_claim(fx->st, "k1", 1000, &first, NULL), 0);
    assert_int_equal(first, 99); /* untouched on success */
    assert_int_equal(store_idempotency_claim(fx->st, "k1", 1001, &first, NULL), -EEXIST);
    assert_int_equal(first, 0); /* claimed, no run yet */
    assert_int_equal(store_idempotency_set_run(fx->st, "k1", 42, NULL), 0);
    assert_int_equal(store_idempotency_claim(fx->st, "k1", 1002, &first, NULL), -EEXIST);
    assert_int_equal(first, 42);
    /* A claim whose run did not start is dropped: the key can be used again. */
    assert_int_equal(store_idempotency_claim(fx->st, "k2", 5000, NULL, NULL), 0);
    assert_int_equal(store_idempotency_set_run(fx->st, "k2", 0, NULL), 0);
    assert_int_equal(store_idempotency_claim(fx->st, "k2", 5000, NULL, NULL), 0);
    /* Pruning by age keeps younger keys. */
    assert_int_equal(store_idempotency_prune(fx->st, 2000, NULL), 1);
    assert_int_equal(store_idempotency_claim(fx->st, "k1", 6000, NULL, NULL), 0);
    assert_int_equal(store_idempotency_claim(fx->st, "k2", 6000, NULL, NULL), -EEXIST);
    assert_int_equal(store_idempotency_claim(fx->st, "", 6000, NULL, NULL), -EINVAL);
}

static void test_contexts_and_flows(void **state)
{
    struct fixture *fx = *state;
    add_job(fx->st, "a");
    add_job(fx->st, "b");
    uint64_t r1 = add_run(fx->st, "a", "flow-1");
    uint64_t r2 = add_run(fx->st, "b", "flow-2");
    uint64_t r3 = add_run(fx->st, "b", "flow-1");
    add_run(fx->st, "a", NULL);
    assert_int_equal(store_run_context_put(fx->st, r1, "{\"flow_id\":\"x\"}", NULL), 0);
    assert_int_equal(store_run_context_put(fx->st, 777, "{}", NULL), -ENOENT);
    char *text = NULL;
    assert_int_equal(store_run_context_get(fx->st, r1, &text, NULL), 0);
    assert_string_equal(text, "{\"flow_id\":\"x\"}");
    free(text);
    assert_int_equal(store_run_context_get(fx->st, r2, &text, NULL), -ENOENT);
    struct store_run_list flow;
    assert_int_equal(store_run_list_by_correlation(fx->st, "flow-1", -1, &flow, NULL), 0);
    assert_int_equal(flow.count, 2);
    assert_int_equal(flow.items[0].id, r1);
    assert_int_equal(flow.items[1].id, r3);
    assert_string_equal(flow.items[1].correlation_id, "flow-1");
    store_run_list_release(&flow);
    assert_int_equal(store_run_list_by_correlation(fx->st, "flow-1", 1, &flow, NULL), 0);
    assert_int_equal(flow.count, 1);
    store_run_list_release(&flow);
    /* A context goes with its run. */
    assert_int_equal(store_job_delete(fx->st, "a", NULL), 0);
    assert_int_equal(store_run_context_get(fx->st, r1, &text, NULL), -ENOENT);
    assert_int_equal(store_run_list_by_correlation(fx->st, "flow-1", -1, &flow, NULL), 0);
    assert_int_equal(flow.count, 1);
    store_run_list_release(&flow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pattern_revisions_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contexts_and_flows, setup, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_pattern_revisions_and_status, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_keys, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_contexts_and_flows, setup_pg, teardown),
    };
    int failed = cmocka_run_group_tests_name("test_store_patterns/sqlite", tests, NULL, NULL);
    return failed +
           cmocka_run_group_tests_name("test_store_patterns/postgres", pg_tests, NULL, NULL);
}
