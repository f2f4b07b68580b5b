/*
 * test_store_auth - the store's tokens and audit log on a real SQLite file and on a real PostgreSQL
 * server (a fresh database per case): token create/get/list/revoke (revocation keeps its first
 * time), duplicate ids, the hash stored as given; audit entries with every filter and paging
 * against the same entries filtered plainly; and an audit entry written in a
 * rolled-back batch leaving nothing, as the API's mutation transactions rely
 * on.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
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
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/ovsched-sauth-XXXXXX");
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
    nftw(fx->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (fx->pg)
        pg_fixture_drop_db(fx->db);
    free(fx);
    return 0;
}

static void test_tokens(void **state)
{
    struct fixture *fx = *state;
    struct store_token a = {.id = "aaaa", .name = "first", .role = "admin", .created_at_ms = 100};
    struct store_token b = {.id = "bbbb",
                            .name = "second",
                            .role = "viewer",
                            .has_campaign_id = true,
                            .campaign_id = 0,
                            .created_at_ms = 200,
                            .created_by = "aaaa"};
    memset(a.hash, 0xab, sizeof(a.hash));
    for (int i = 0; i < STORE_TOKEN_HASH_SIZE; i++)
        b.hash[i] = (unsigned char)i;
    assert_int_equal(store_token_create(fx->st, &a, NULL), 0);
    assert_int_equal(store_token_create(fx->st, &b, NULL), 0);
    assert_int_equal(store_token_create(fx->st, &a, NULL), -EEXIST);
    struct store_token bad = {.id = "", .name = "x", .role = "admin"};
    assert_int_equal(store_token_create(fx->st, &bad, NULL), -EINVAL);

    struct store_token got;
    assert_int_equal(store_token_get(fx->st, "bbbb", &got, NULL), 0);
    assert_string_equal(got.name, "second");
    assert_string_equal(got.role, "viewer");
    assert_true(got.has_campaign_id); /* tenant 0 is a tenant, not "every tenant" */
    assert_int_equal(got.campaign_id, 0);
    assert_memory_equal(got.hash, b.hash, STORE_TOKEN_HASH_SIZE);
    assert_string_equal(got.created_by, "aaaa");
    assert_int_equal(got.revoked_at_ms, 0);
    store_token_release(&got);
    assert_int_equal(store_token_get(fx->st, "cccc", &got, NULL), -ENOENT);

    assert_int_equal(store_token_revoke(fx->st, "aaaa", 5000, NULL), 0);
    assert_int_equal(store_token_revoke(fx->st, "aaaa", 9000, NULL), 0);
    assert_int_equal(store_token_revoke(fx->st, "cccc", 9000, NULL), -ENOENT);
    struct store_token_list list;
    assert_int_equal(store_token_list(fx->st, &list, NULL), 0);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].id, "aaaa");
    assert_int_equal(list.items[0].revoked_at_ms, 5000);
    assert_false(list.items[0].has_campaign_id);
    assert_null(list.items[0].created_by);
    assert_int_equal(list.items[1].revoked_at_ms, 0);
    store_token_list_release(&list);
}

struct entry_spec {
    const char *actor, *target;
    int64_t at_ms, campaign; /* campaign < 0: none */
};

static const struct entry_spec entries[] = {
    {"alice", "job-1", 1000, 1}, {"bob", "job-1", 2000, 1}, {"alice", "job-2", 3000, 2},
    {"carol", NULL, 4000, -1},   {"bob", "job-3", 5000, 1}, {"alice", "job-1", 6000, 1},
};

static void add_entries(struct store *st)
{
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        const struct entry_spec *e = &entries[i];
        char before[64];
        snprintf(before, sizeof(before), "{\"n\":%zu}", i);
        struct store_audit entry = {.at_ms = e->at_ms,
                                    .actor_id = e->actor,
                                    .actor_name = e->actor,
                                    .action = "UpdateJob",
                                    .target = e->target,
                                    .has_campaign_id = e->campaign >= 0,
                                    .campaign_id = e->campaign,
                                    .before = before,
                                    .after = i % 2 ? NULL : "{\"x\":1}"};
        uint64_t id = 0;
        assert_int_equal(store_audit_append(st, &entry, &id, NULL), 0);
        assert_int_equal(id, i + 1);
    }
}

/* The same filter, plainly: indexes of matching entries, newest first. */
static size_t plain_filter(const struct store_audit_filter *f, size_t *out)
{
    size_t n = 0;
    for (size_t i = sizeof(entries) / sizeof(entries[0]); i-- > 0;) {
        const struct entry_spec *e = &entries[i];
        if (f->target && (!e->target || strcmp(f->target, e->target) != 0))
            continue;
        if (f->actor && strcmp(f->actor, e->actor) != 0)
            continue;
        if (e->at_ms < f->since_ms)
            continue;
        if (f->has_campaign_id && e->campaign != f->campaign_id)
            continue;
        out[n++] = i;
    }
    return n;
}

static void test_audit_filters(void **state)
{
    struct fixture *fx = *state;
    add_entries(fx->st);
    static const char *const targets[] = {NULL, "job-1", "job-2", "nope"};
    static const char *const actors[] = {NULL, "alice", "bob"};
    static const int64_t sinces[] = {0, 2500, 7000};
    static const int64_t campaigns[] = {-1, 1, 2};
    for (size_t t = 0; t < 4; t++)
        for (size_t a = 0; a < 3; a++)
            for (size_t s = 0; s < 3; s++)
                for (size_t c = 0; c < 3; c++)
                    for (int64_t offset = 0; offset < 3; offset++) {
                        struct store_audit_filter f = {.target = targets[t],
                                                       .actor = actors[a],
                                                       .since_ms = sinces[s],
                                                       .has_campaign_id = campaigns[c] >= 0,
                                                       .campaign_id = campaigns[c],
                                                       .offset = offset,
                                                       .limit = 2};
                        size_t want[8];
                        size_t total = plain_filter(&f, want);
                        struct store_audit_list list;
                        assert_int_equal(store_audit_list(fx->st, &f, &list, NULL), 0);
                        assert_int_equal(list.total, (int64_t)total);
                        size_t expect = total > (size_t)offset ? total - (size_t)offset : 0;
                        assert_int_equal(list.count, expect < 2 ? expect : 2);
                        for (size_t i = 0; i < list.count; i++)
                            assert_int_equal(list.items[i].id, want[offset + (int64_t)i] + 1);
                        store_audit_list_release(&list);
                    }
    struct store_audit_filter all = {.limit = -1};
    struct store_audit_list list;
    assert_int_equal(store_audit_list(fx->st, &all, &list, NULL), 0);
    assert_int_equal(list.count, 6);
    assert_string_equal(list.items[5].before, "{\"n\":0}");
    assert_string_equal(list.items[5].after, "{\"x\":1}");
    assert_null(list.items[4].after);
    assert_null(list.items[2].target);
    assert_false(list.items[2].has_campaign_id);
    store_audit_list_release(&list);
}

static void test_audit_rolls_back_with_its_batch(void **state)
{
    struct fixture *fx = *state;
    struct store_job job = {.id = "j", .status = "ACTIVE", .json = "{}", .created_at_ms = 1};
    struct store_audit entry = {.at_ms = 1,
                                .actor_id = "a",
                                .actor_name = "a",
                                .action = "CreateJob",
                                .target = "j",
                                .after = "{}"};
    assert_int_equal(store_begin(fx->st, NULL), 0);
    assert_int_equal(store_job_create(fx->st, &job, NULL), 0);
    assert_int_equal(store_audit_append(fx->st, &entry, NULL, NULL), 0);
    store_rollback(fx->st);
    struct store_audit_filter all = {.limit = -1};
    struct store_audit_list list;
    assert_int_equal(store_audit_list(fx->st, &all, &list, NULL), 0);
    assert_int_equal(list.total, 0);
    store_audit_list_release(&list);
    struct store_job got;
    assert_int_equal(store_job_get(fx->st, "j", &got, NULL), -ENOENT);

    assert_int_equal(store_begin(fx->st, NULL), 0);
    assert_int_equal(store_job_create(fx->st, &job, NULL), 0);
    assert_int_equal(store_audit_append(fx->st, &entry, NULL, NULL), 0);
    assert_int_equal(store_commit(fx->st, NULL), 0);
    assert_int_equal(store_audit_list(fx->st, &all, &list, NULL), 0);
    assert_int_equal(list.total, 1);
    store_audit_list_release(&list);

    struct store_audit empty = {.actor_id = "", .action = "x"};
    assert_int_equal(store_audit_append(fx->st, &empty, NULL, NULL), -EINVAL);
    struct store_audit_filter negative = {.offset = -1};
    assert_int_equal(store_audit_list(fx->st, &negative, &list, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_rolls_back_with_its_batch, setup, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_tokens, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_audit_filters, setup_pg, teardown),
        cmocka_unit_test_setup_teardown(test_audit_rolls_back_with_its_batch, setup_pg, teardown),
    };
    int failed = cmocka_run_group_tests_name("test_store_auth/sqlite", tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("test_store_auth/postgres", pg_tests, NULL, NULL);
}
