/*
 * test_store - the store on both backends: SQLite on real files in a fresh
 * folder under /tmp per test, and PostgreSQL in a fresh database per test on
 * a real server (pg_fixture.h); every case that is about the interface runs
 * on both.  Migrations, job CRUD with optimistic versions, listing against a
 * plainly correct filter-and-sort of the same jobs, the at-most-once slot key,
 * runs, start-up recovery, decisions, group commit, and crashes: a child
 * process killed with SIGKILL while it writes must leave every acknowledged
 * transaction intact, no unacknowledged transaction in part, and a database
 * that opens and passes integrity_check.  A locked and a corrupt file must
 * give errors, never a crash (run this under ASan too).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib.h>

#include "pg_fixture.h"
#include "store/internal.h"
#include "store/store.h"
#include "test_util.h"

struct fixture {
    bool pg;       /* PostgreSQL in database DB (URL); else SQLite in DIR */
    char dir[64];  /* SQLite: the data folder */
    char db[64];   /* PostgreSQL: the test's database */
    char url[512]; /* PostgreSQL: its URL */
    struct store *st;
};

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove(path);
}

/* Open the fixture's store, as the daemon would after a restart. */
static int open_fx(const struct fixture *fx, struct store **ret, char *err, size_t err_size)
{
    if (fx->pg)
        return store_open_postgres(fx->url, 0, ret, err, err_size);
    return store_open_sqlite(fx->dir, ret, err, err_size);
}

static int setup_backend(void **state, bool pg)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->pg = pg;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/ovsched-store-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    if (pg)
        pg_fixture_create_db(fx->db, sizeof(fx->db), fx->url, sizeof(fx->url));
    char err[256] = "";
    int r = open_fx(fx, &fx->st, err, sizeof(err));
    if (r < 0)
        print_error("open: %s\n", err);
    assert_int_equal(r, 0);
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

static void reopen(struct fixture *fx)
{
    store_close(fx->st);
    fx->st = NULL;
    char err[256] = "";
    int r = open_fx(fx, &fx->st, err, sizeof(err));
    if (r < 0)
        print_error("reopen: %s\n", err);
    assert_int_equal(r, 0);
}

static void db_path(const struct fixture *fx, char *buf, size_t size)
{
    snprintf(buf, size, "%s/ovsched.db", fx->dir);
}

/* A second, plain connection to the file, as another process would have. */
static sqlite3 *raw_open(const struct fixture *fx)
{
    char path[128];
    db_path(fx, path, sizeof(path));
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
}

/* SQL (portable to both backends) on a connection of its own. */
static int64_t query_int(const struct fixture *fx, const char *sql)
{
    if (fx->pg)
        return pg_fixture_query_int(fx->url, sql);
    sqlite3 *db = raw_open(fx);
    int64_t value = raw_int(db, sql);
    sqlite3_close(db);
    return value;
}

/* SQLite's integrity_check; a PostgreSQL server checks its own pages. */
static void assert_integrity(const struct fixture *fx)
{
    if (fx->pg)
        return;
    sqlite3 *db = raw_open(fx);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "ok");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void create_job(struct store *st, const char *id, int64_t campaign_id, const char *status,
                       int64_t created_at_ms)
{
    char json[256];
    snprintf(json, sizeof(json), "{\"id\":\"%s\",\"campaign_id\":%lld,\"status\":\"%s\"}", id,
             (long long)campaign_id, status);
    struct store_job job = {.id = id,
                            .campaign_id = campaign_id,
                            .status = status,
                            .json = json,
                            .created_at_ms = created_at_ms};
    struct store_error err;
    int r = store_job_create(st, &job, &err);
    if (r < 0)
        print_error("create %s: %s\n", id, err.message);
    assert_int_equal(r, 0);
}

static struct store_run scheduled_run(uint64_t id, const char *job_id, int64_t slot_ms,
                                      const char *status)
{
    return (struct store_run){.id = id,
                              .job_id = job_id,
                              .status = status,
                              .trigger = STORE_TRIGGER_SCHEDULE,
                              .attempt = 1,
                              .scheduled_at_ms = slot_ms,
                              .started_at_ms = slot_ms + 5};
}

static int64_t run_total(struct store *st, const char *job_id)
{
    struct store_run_list list;
    assert_int_equal(store_run_list(st, job_id, 0, 0, &list, NULL), 0);
    int64_t total = list.total;
    store_run_list_release(&list);
    return total;
}

/* ---- Open and migrations ------------------------------------------------ */

static mode_t mode_of(const char *dir, const char *name)
{
    char path[256];
    struct stat info;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(stat(path, &info), 0);
    return info.st_mode & 0777;
}

/* The database holds every tenant's rows: 0600 whatever the umask, in a
 * folder that already existed, and an older file left 0644 is fixed. */
static void test_open_files_are_owner_only(void **state)
{
    struct fixture *fx = *state;
    char dir[160], path[200], err[256] = "";
    snprintf(dir, sizeof(dir), "%s/existing", fx->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    mode_t old = umask(022);
    struct store *st = NULL;
    assert_int_equal(store_open_sqlite(dir, &st, err, sizeof(err)), 0);
    create_job(st, "j1", 0, "ACTIVE", 1000); /* the WAL and shm exist while it is open */
    assert_int_equal(mode_of(dir, "ovsched.db"), 0600);
    assert_int_equal(mode_of(dir, "ovsched.db-wal"), 0600);
    assert_int_equal(mode_of(dir, "ovsched.db-shm"), 0600);
    store_close(st);
    snprintf(path, sizeof(path), "%s/ovsched.db", dir);
    assert_int_equal(chmod(path, 0644), 0);
    st = NULL;
    assert_int_equal(store_open_sqlite(dir, &st, err, sizeof(err)), 0);
    assert_int_equal(mode_of(dir, "ovsched.db"), 0600);
    store_close(st);
    umask(old);
}

static void test_open_fresh_nested_and_reopen(void **state)
{
    struct fixture *fx = *state;
    char dir[128], path[160], err[256] = "";
    snprintf(dir, sizeof(dir), "%s/a/b/data/", fx->dir);
    struct store *st = NULL;
    assert_int_equal(store_open_sqlite(dir, &st, err, sizeof(err)), 0);
    assert_string_equal(store_backend(st), "sqlite");
    create_job(st, "j1", 0, "ACTIVE", 1000);
    store_close(st);

    struct stat info;
    snprintf(path, sizeof(path), "%s/a/b/data", fx->dir);
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0700);

    snprintf(path, sizeof(path), "%s/a/b/data/ovsched.db", fx->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SQLITE_SCHEMA_VERSION);
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                                 " AND name IN ('jobs', 'runs', 'decisions', 'meta')"),
                     4);
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM jobs"), 1);
    sqlite3_close(db);

    /* Reopening an up-to-date file applies nothing and keeps the data. */
    st = NULL;
    assert_int_equal(store_open_sqlite(dir, &st, err, sizeof(err)), 0);
    struct store_job job;
    assert_int_equal(store_job_get(st, "j1", &job, NULL), 0);
    assert_int_equal(job.version, 1);
    store_job_release(&job);
    store_close(st);
    store_close(NULL);
}

static void test_open_journal_mode_and_pragmas(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM pragma_journal_mode WHERE"
                                   " journal_mode = 'wal'"),
                     1);
    /* An empty database (version 0, no tables) is migrated on open. */
    store_close(fx->st);
    fx->st = NULL;
    char path[128];
    db_path(fx, path, sizeof(path));
    unlink(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    reopen(fx);
    assert_int_equal(query_int(fx, "PRAGMA user_version"), STORE_SQLITE_SCHEMA_VERSION);
}

/* Schema 1 as the first build wrote it: runs_live left empty.  Migration 2
 * lists the live runs, so recovery after the upgrade still finds them. */
static void test_open_upgrades_schema_1(void **state)
{
    struct fixture *fx = *state;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    struct store_run run = scheduled_run(0, "j", 1, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    run = scheduled_run(0, "j", 2, "COMPLETED");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    store_close(fx->st);
    fx->st = NULL;
    sqlite3 *db = raw_open(fx);
    assert_int_equal(sqlite3_exec(db,
                                  "DELETE FROM runs_live; ALTER TABLE jobs DROP COLUMN digest;"
                                  " PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    reopen(fx);
    assert_int_equal(query_int(fx, "PRAGMA user_version"), STORE_SQLITE_SCHEMA_VERSION);
    assert_int_equal(store_runs_mark_interrupted(fx->st, 10, NULL, NULL, NULL), 1);
    struct store_run got;
    assert_int_equal(store_run_get(fx->st, 1, &got, NULL), 0);
    assert_string_equal(got.status, STORE_RUN_INTERRUPTED);
    store_run_release(&got);
}

static void test_open_newer_schema_is_refused(void **state)
{
    struct fixture *fx = *state;
    store_close(fx->st);
    fx->st = NULL;
    sqlite3 *db = raw_open(fx);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256] = "";
    struct store *st = (struct store *)0x1;
    assert_int_equal(store_open_sqlite(fx->dir, &st, err, sizeof(err)), -ENOTSUP);
    assert_ptr_equal(st, (struct store *)0x1); /* untouched on failure */
    assert_non_null(strstr(err, "newer"));
    /* The file is left alone. */
    assert_int_equal(query_int(fx, "PRAGMA user_version"), 99);
}

static void test_open_bad_arguments_and_files(void **state)
{
    struct fixture *fx = *state;
    struct store *st = NULL;
    char err[256] = "";
    assert_int_equal(store_open_sqlite(NULL, &st, err, sizeof(err)), -EINVAL);
    assert_int_equal(store_open_sqlite("", &st, NULL, 0), -EINVAL);

    /* The data folder is a file. */
    char path[256];
    snprintf(path, sizeof(path), "%s/plain-file", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(store_open_sqlite(path, &st, err, sizeof(err)), -ENOTDIR);
    assert_non_null(strstr(err, "data folder"));

    /* ovsched.db is not a database. */
    char dir[160];
    snprintf(dir, sizeof(dir), "%s/garbage", fx->dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/ovsched.db", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 8192; i++)
        fputc("not a database "[i % 15], f);
    fclose(f);
    err[0] = '\0';
    assert_int_equal(store_open_sqlite(dir, &st, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "sqlite"));
    assert_null(st);
}

/* ---- Jobs --------------------------------------------------------------- */

static void test_job_crud(void **state)
{
    struct fixture *fx = *state;
    struct store_error err;
    create_job(fx->st, "report", 7, "ACTIVE", 1000);

    struct store_job dup = {.id = "report", .status = "PAUSED", .json = "{}"};
    assert_int_equal(store_job_create(fx->st, &dup, &err), -EEXIST);
    assert_non_null(strstr(err.message, "exists"));

    struct store_job job;
    assert_int_equal(store_job_get(fx->st, "report", &job, NULL), 0);
    assert_string_equal(job.id, "report");
    assert_int_equal(job.campaign_id, 7);
    assert_string_equal(job.status, "ACTIVE");
    assert_string_equal(job.json, "{\"id\":\"report\",\"campaign_id\":7,\"status\":\"ACTIVE\"}");
    assert_int_equal(job.version, 1);
    assert_int_equal(job.created_at_ms, 1000);
    assert_int_equal(job.updated_at_ms, 1000);
    store_job_release(&job);
    assert_null(job.mem);
    store_job_release(&job); /* a cleared job releases again */
    store_job_release(NULL);

    struct store_job edit = {.id = "report",
                             .campaign_id = 8,
                             .status = "PAUSED",
                             .json = "{\"v\":2}",
                             .updated_at_ms = 2000};
    int64_t version = 0;
    assert_int_equal(store_job_update(fx->st, &edit, 1, &version, NULL), 0);
    assert_int_equal(version, 2);

    /* A stale version is refused and changes nothing. */
    struct store_job stale = {
        .id = "report", .status = "ACTIVE", .json = "{\"v\":\"lost\"}", .updated_at_ms = 3000};
    version = 42;
    assert_int_equal(store_job_update(fx->st, &stale, 1, &version, &err), -ESTALE);
    assert_int_equal(version, 42);
    assert_non_null(strstr(err.message, "version 1"));
    assert_int_equal(store_job_get(fx->st, "report", &job, NULL), 0);
    assert_int_equal(job.version, 2);
    assert_string_equal(job.json, "{\"v\":2}");
    assert_string_equal(job.status, "PAUSED");
    assert_int_equal(job.campaign_id, 8);
    assert_int_equal(job.created_at_ms, 1000);
    assert_int_equal(job.updated_at_ms, 2000);
    store_job_release(&job);

    /* STORE_VERSION_ANY overwrites whatever is there. */
    assert_int_equal(store_job_update(fx->st, &stale, STORE_VERSION_ANY, &version, NULL), 0);
    assert_int_equal(version, 3);
    assert_int_equal(store_job_update(fx->st, &stale, 3, NULL, NULL), 0);

    struct store_job ghost = {.id = "ghost", .status = "ACTIVE", .json = "{}"};
    assert_int_equal(store_job_update(fx->st, &ghost, 1, NULL, &err), -ENOENT);
    assert_int_equal(store_job_update(fx->st, &ghost, STORE_VERSION_ANY, NULL, NULL), -ENOENT);

    assert_int_equal(store_job_delete(fx->st, "report", NULL), 0);
    assert_int_equal(store_job_delete(fx->st, "report", &err), -ENOENT);
    job.version = 77;
    assert_int_equal(store_job_get(fx->st, "report", &job, &err), -ENOENT);
    assert_int_equal(job.version, 77); /* ret_ untouched on failure */
    /* The id is free again. */
    create_job(fx->st, "report", 0, "ACTIVE", 5000);

    /* Bad arguments. */
    struct store_job bad = {.id = "", .status = "ACTIVE", .json = "{}"};
    assert_int_equal(store_job_create(fx->st, &bad, &err), -EINVAL);
    bad.id = NULL;
    assert_int_equal(store_job_create(fx->st, &bad, NULL), -EINVAL);
    bad.id = "x";
    bad.json = NULL;
    assert_int_equal(store_job_create(fx->st, &bad, NULL), -EINVAL);
    assert_int_equal(store_job_update(fx->st, &edit, -1, NULL, NULL), -EINVAL);
    assert_int_equal(store_job_delete(fx->st, "", NULL), -EINVAL);
    assert_int_equal(store_job_get(fx->st, NULL, &job, NULL), -EINVAL);

    /* Any bytes in ids and documents are kept (quotes, UTF-8). */
    struct store_job odd = {.id = "it's \"odd\" \xc3\xa9",
                            .status = "ACTIVE",
                            .json = "{\"payload\":\"'; DROP TABLE jobs; --\"}"};
    assert_int_equal(store_job_create(fx->st, &odd, NULL), 0);
    assert_int_equal(store_job_get(fx->st, odd.id, &job, NULL), 0);
    assert_string_equal(job.json, odd.json);
    store_job_release(&job);
}

struct model_job {
    char id[16];
    int64_t campaign_id;
    const char *status;
    int64_t created_at_ms;
};

static int model_cmp(const void *a, const void *b)
{
    const struct model_job *x = a, *y = b;
    if (x->created_at_ms != y->created_at_ms)
        return x->created_at_ms < y->created_at_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void test_job_list_against_model(void **state)
{
    struct fixture *fx = *state;
    struct test_rng rng = {test_seed(41)};
    static const char *const statuses[] = {"ACTIVE", "PAUSED", "DISABLED"};
    enum { N = 120 };
    struct model_job jobs[N];
    assert_int_equal(store_begin(fx->st, NULL), 0);
    for (int i = 0; i < N; i++) {
        /* Few distinct creation times, so ties are ordered by id. */
        snprintf(jobs[i].id, sizeof(jobs[i].id), "job-%03d", (int)test_rng_range(&rng, 0, 999));
        bool taken = false;
        for (int k = 0; k < i; k++)
            taken |= strcmp(jobs[k].id, jobs[i].id) == 0;
        if (taken)
            snprintf(jobs[i].id, sizeof(jobs[i].id), "z-%03d", i);
        jobs[i].campaign_id = test_rng_range(&rng, 1, 3);
        jobs[i].status = test_rng_pick(&rng, statuses, ARRAY_SIZE(statuses));
        jobs[i].created_at_ms = 1000 * test_rng_range(&rng, 1, 10);
        create_job(fx->st, jobs[i].id, jobs[i].campaign_id, jobs[i].status, jobs[i].created_at_ms);
    }
    assert_int_equal(store_commit(fx->st, NULL), 0);
    qsort(jobs, N, sizeof(jobs[0]), model_cmp);

    for (int round = 0; round < 300; round++) {
        struct store_job_filter filter = {
            .status = test_rng_range(&rng, 0, 1)
                          ? NULL
                          : test_rng_pick(&rng, statuses, ARRAY_SIZE(statuses)),
            .has_campaign_id = test_rng_range(&rng, 0, 1),
            .campaign_id = test_rng_range(&rng, 0, 3),
            .offset = test_rng_range(&rng, 0, 60),
            .limit = test_rng_range(&rng, -1, 25),
        };
        if (round == 0)
            filter = (struct store_job_filter){.limit = -1};
        const struct model_job *want[N];
        size_t matched = 0;
        for (int i = 0; i < N; i++)
            if ((!filter.status || strcmp(filter.status, jobs[i].status) == 0) &&
                (!filter.has_campaign_id || filter.campaign_id == jobs[i].campaign_id))
                want[matched++] = &jobs[i];

        struct store_job_list list;
        assert_int_equal(store_job_list(fx->st, &filter, &list, NULL), 0);
        assert_int_equal(list.total, matched);
        size_t from = (size_t)filter.offset < matched ? (size_t)filter.offset : matched;
        size_t count = matched - from;
        if (filter.limit >= 0 && (size_t)filter.limit < count)
            count = (size_t)filter.limit;
        assert_int_equal(list.count, count);
        for (size_t i = 0; i < count; i++) {
            const struct model_job *m = want[from + i];
            assert_string_equal(list.items[i].id, m->id);
            assert_string_equal(list.items[i].status, m->status);
            assert_int_equal(list.items[i].campaign_id, m->campaign_id);
            assert_int_equal(list.items[i].created_at_ms, m->created_at_ms);
            assert_int_equal(list.items[i].version, 1);
            assert_non_null(strstr(list.items[i].json, m->id));
        }
        store_job_list_release(&list);
        assert_null(list.items);
    }
    struct store_job_filter bad = {.offset = -1};
    struct store_job_list list;
    assert_int_equal(store_job_list(fx->st, &bad, &list, NULL), -EINVAL);
    store_job_list_release(NULL);
}

static void create_labelled(struct store *st, const char *id, const char *labels)
{
    char json[256];
    snprintf(json, sizeof(json), "{\"id\":\"%s\",\"labels\":%s}", id, labels);
    struct store_job job = {.id = id, .status = "ACTIVE", .json = json, .created_at_ms = 1};
    assert_int_equal(store_job_create(st, &job, NULL), 0);
}

static char *list_ids(struct store *st, const char *const *keys, const char *const *values,
                      size_t count, int64_t offset, int64_t limit, int64_t *ret_total)
{
    struct store_job_filter filter = {.offset = offset,
                                      .limit = limit,
                                      .label_keys = keys,
                                      .label_values = values,
                                      .label_count = count};
    struct store_job_list list;
    assert_int_equal(store_job_list(st, &filter, &list, NULL), 0);
    GString *ids = g_string_new(NULL);
    for (size_t i = 0; i < list.count; i++)
        g_string_append_printf(ids, "%s ", list.items[i].id);
    *ret_total = list.total;
    store_job_list_release(&list);
    return g_string_free(ids, FALSE);
}

/* Labels are filtered in the store, with paging and totals over the match:
 * ListJobs never loads every job to filter them. */
static void test_job_list_labels(void **state)
{
    struct fixture *fx = *state;
    create_labelled(fx->st, "a", "{\"team\":\"data\",\"tier\":\"1\"}");
    create_labelled(fx->st, "b", "{\"team\":\"data\",\"tier\":\"2\"}");
    create_labelled(fx->st, "c", "{\"team\":\"web\"}");
    create_labelled(fx->st, "d", "{\"team\":\"data\",\"odd.key \\\"q\\\"\":\"x\"}");
    create_labelled(fx->st, "e", "{\"tier\":1}"); /* a number is not the string "1" */
    create_labelled(fx->st, "f", "[]");
    const char *team[] = {"team"}, *data[] = {"data"};
    int64_t total;
    char *ids = list_ids(fx->st, team, data, 1, 0, -1, &total);
    assert_string_equal(ids, "a b d ");
    assert_int_equal(total, 3);
    g_free(ids);
    ids = list_ids(fx->st, team, data, 1, 1, 1, &total); /* page 2 of size 1 */
    assert_string_equal(ids, "b ");
    assert_int_equal(total, 3);
    g_free(ids);
    const char *both[] = {"team", "tier"}, *vals[] = {"data", "1"};
    ids = list_ids(fx->st, both, vals, 2, 0, -1, &total);
    assert_string_equal(ids, "a ");
    g_free(ids);
    const char *odd[] = {"odd.key \"q\""}, *x[] = {"x"};
    ids = list_ids(fx->st, odd, x, 1, 0, -1, &total);
    assert_string_equal(ids, "d ");
    g_free(ids);
    const char *tier[] = {"tier"}, *one[] = {"1"};
    ids = list_ids(fx->st, tier, one, 1, 0, 0, &total); /* only the total */
    assert_string_equal(ids, "");
    assert_int_equal(total, 1);
    g_free(ids);
    const char *keys[STORE_MAX_LABEL_FILTERS + 1] = {0}, *values[STORE_MAX_LABEL_FILTERS + 1] = {0};
    for (int i = 0; i <= STORE_MAX_LABEL_FILTERS; i++)
        keys[i] = values[i] = "k";
    struct store_job_filter many = {.limit = -1,
                                    .label_keys = keys,
                                    .label_values = values,
                                    .label_count = STORE_MAX_LABEL_FILTERS + 1};
    struct store_job_list list;
    assert_int_equal(store_job_list(fx->st, &many, &list, NULL), -EINVAL);
    many.label_count = STORE_MAX_LABEL_FILTERS;
    assert_int_equal(store_job_list(fx->st, &many, &list, NULL), 0);
    assert_int_equal(list.total, 0);
    store_job_list_release(&list);
}

struct walk {
    struct store *st;
    int seen;
    int stop_at;
    int reentry;
    int64_t campaign_sum;
};

static int walk_cb(const struct store_job *job, void *userdata)
{
    struct walk *w = userdata;
    w->seen++;
    w->campaign_sum += job->campaign_id;
    if (strncmp(job->id, "job-", 4) != 0 || job->version != 1 || !strstr(job->json, job->id))
        return -1000;
    struct store_job other;
    if (w->seen == 1)
        w->reentry = store_job_get(w->st, job->id, &other, NULL);
    return w->seen == w->stop_at ? 7 : 0;
}

static void test_job_foreach(void **state)
{
    struct fixture *fx = *state;
    enum { N = 5000 };
    assert_int_equal(store_begin(fx->st, NULL), 0);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof(id), "job-%d", i);
        create_job(fx->st, id, i, "ACTIVE", i);
    }
    assert_int_equal(store_commit(fx->st, NULL), 0);

    struct walk w = {.st = fx->st, .stop_at = -1};
    assert_int_equal(store_job_foreach(fx->st, walk_cb, &w, NULL), 0);
    assert_int_equal(w.seen, N);
    assert_int_equal(w.campaign_sum, (int64_t)N * (N - 1) / 2);
    assert_int_equal(w.reentry, -EBUSY); /* the store refuses calls from the callback */

    w = (struct walk){.st = fx->st, .stop_at = 10};
    assert_int_equal(store_job_foreach(fx->st, walk_cb, &w, NULL), 7);
    assert_int_equal(w.seen, 10);
    /* The store is usable again after the walk. */
    struct store_job job;
    assert_int_equal(store_job_get(fx->st, "job-3", &job, NULL), 0);
    store_job_release(&job);
}

/* ---- Runs --------------------------------------------------------------- */

static void test_run_slot_at_most_once(void **state)
{
    struct fixture *fx = *state;
    struct store_error err;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    create_job(fx->st, "k", 0, "ACTIVE", 0);

    struct store_run run = scheduled_run(1, "j", 60000, STORE_RUN_RUNNING);
    uint64_t id = 0;
    assert_int_equal(store_run_insert(fx->st, &run, &id, NULL), 0);
    assert_int_equal(id, 1);

    /* The same slot again, under another id: refused, no second row. */
    run.id = 2;
    id = 99;
    assert_int_equal(store_run_insert(fx->st, &run, &id, &err), -EEXIST);
    assert_int_equal(id, 99);
    assert_non_null(strstr(err.message, "slot"));
    run.id = 0;
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), -EEXIST);
    assert_int_equal(run_total(fx->st, "j"), 1);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs"), 1);

    /* The same slot of another job is another slot. */
    run = scheduled_run(2, "k", 60000, STORE_RUN_RUNNING);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);

    /* Manual and retry runs claim nothing, even at the same instant. */
    for (int i = 0; i < 3; i++) {
        struct store_run manual = {.job_id = "j",
                                   .status = STORE_RUN_PENDING,
                                   .trigger = i == 2 ? "retry" : "manual",
                                   .scheduled_at_ms = 60000};
        assert_int_equal(store_run_insert(fx->st, &manual, &id, NULL), 0);
        assert_int_equal(id, 3 + (uint64_t)i);
    }
    assert_int_equal(run_total(fx->st, "j"), 4);

    /* A taken run id. */
    run = scheduled_run(1, "j", 120000, STORE_RUN_RUNNING);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, &err), -EEXIST);
    /* No such job. */
    run = scheduled_run(100, "nope", 120000, STORE_RUN_RUNNING);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, &err), -ENOENT);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs"), 5);

    /* Bad arguments. */
    run = scheduled_run(UINT64_MAX, "j", 1, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), -EINVAL);
    run = scheduled_run(0, "", 1, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), -EINVAL);
    run = scheduled_run(0, "j", 1, NULL);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), -EINVAL);
    run = scheduled_run(0, "j", 1, "RUNNING");
    run.attempt = -1;
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), -EINVAL);
}

static void assert_run_equal(const struct store_run *got, const struct store_run *want)
{
    assert_int_equal(got->id, want->id);
    assert_string_equal(got->job_id, want->job_id);
    assert_string_equal(got->status, want->status);
    assert_string_equal(got->trigger, want->trigger);
    assert_int_equal(got->attempt, want->attempt);
    assert_int_equal(got->scheduled_at_ms, want->scheduled_at_ms);
    assert_int_equal(got->started_at_ms, want->started_at_ms);
    assert_int_equal(got->finished_at_ms, want->finished_at_ms);
    assert_int_equal(got->has_exit_code, want->has_exit_code);
    if (want->has_exit_code)
        assert_int_equal(got->exit_code, want->exit_code);
#define SAME_OPTIONAL(field)                                                                       \
    do {                                                                                           \
        if (want->field)                                                                           \
            assert_string_equal(got->field, want->field);                                          \
        else                                                                                       \
            assert_null(got->field);                                                               \
    } while (0)
    SAME_OPTIONAL(output);
    SAME_OPTIONAL(error);
    SAME_OPTIONAL(correlation_id);
#undef SAME_OPTIONAL
}

static void test_run_update_get_list(void **state)
{
    struct fixture *fx = *state;
    struct store_error err;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    create_job(fx->st, "other", 0, "ACTIVE", 0);

    struct store_run run = {.job_id = "j",
                            .status = STORE_RUN_RUNNING,
                            .trigger = "manual",
                            .attempt = 1,
                            .scheduled_at_ms = 1700000000000,
                            .started_at_ms = 1700000000100,
                            .correlation_id = "flow-1/step-2"};
    uint64_t id = 0;
    assert_int_equal(store_run_insert(fx->st, &run, &id, NULL), 0);
    run.id = id;
    struct store_run got;
    assert_int_equal(store_run_get(fx->st, id, &got, NULL), 0);
    assert_run_equal(&got, &run);
    store_run_release(&got);

    run.status = "COMPLETED";
    run.attempt = 2;
    run.finished_at_ms = 1700000005000;
    run.has_exit_code = true;
    run.exit_code = 0;
    run.output = "line 1\nline 2\n";
    run.error = "";
    /* Immutable fields are ignored by an update. */
    struct store_run update = run;
    update.job_id = "other";
    update.trigger = "schedule";
    update.correlation_id = NULL;
    update.scheduled_at_ms = 5;
    assert_int_equal(store_run_update(fx->st, &update, NULL), 0);
    assert_int_equal(store_run_get(fx->st, id, &got, NULL), 0);
    assert_run_equal(&got, &run);
    store_run_release(&got);

    /* Clearing optional fields. */
    run.has_exit_code = false;
    run.output = NULL;
    run.error = NULL;
    run.started_at_ms = 0;
    run.finished_at_ms = 0;
    assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    assert_int_equal(store_run_get(fx->st, id, &got, NULL), 0);
    assert_run_equal(&got, &run);
    store_run_release(&got);
    store_run_release(&got);
    store_run_release(NULL);

    run.id = 999;
    assert_int_equal(store_run_update(fx->st, &run, &err), -ENOENT);
    got.id = 5;
    assert_int_equal(store_run_get(fx->st, 999, &got, &err), -ENOENT);
    assert_int_equal(got.id, 5);
    run.id = 0;
    assert_int_equal(store_run_update(fx->st, &run, NULL), -EINVAL);
    assert_int_equal(store_run_get(fx->st, UINT64_MAX, &got, NULL), -EINVAL);

    /* 25 more runs of "j", some of "other", two manual ones in the same
     * millisecond: pages are newest first by scheduled time, then id. */
    for (int i = 0; i < 25; i++) {
        struct store_run more =
            scheduled_run(0, i % 5 == 0 ? "other" : "j", 1000 * (i % 7), "RUNNING");
        if (i >= 7) {
            more.trigger = "manual";
            more.scheduled_at_ms = 1000 * (i % 9);
        }
        assert_int_equal(store_run_insert(fx->st, &more, NULL, NULL), 0);
    }
    struct store_run_list list;
    assert_int_equal(store_run_list(fx->st, "j", 0, -1, &list, NULL), 0);
    assert_int_equal(list.total, 21);
    assert_int_equal(list.count, 21);
    uint64_t order[21];
    for (size_t i = 0; i < list.count; i++) {
        order[i] = list.items[i].id;
        assert_string_equal(list.items[i].job_id, "j");
        if (i == 0)
            continue;
        const struct store_run *a = &list.items[i - 1], *b = &list.items[i];
        assert_true(a->scheduled_at_ms > b->scheduled_at_ms ||
                    (a->scheduled_at_ms == b->scheduled_at_ms && a->id > b->id));
    }
    assert_int_equal(list.items[0].id, id); /* the first run has the latest time */
    store_run_list_release(&list);

    assert_int_equal(store_run_list(fx->st, "j", 2, 5, &list, NULL), 0);
    assert_int_equal(list.total, 21);
    assert_int_equal(list.count, 5);
    for (size_t i = 0; i < list.count; i++)
        assert_int_equal(list.items[i].id, order[2 + i]);
    store_run_list_release(&list);
    assert_int_equal(store_run_list(fx->st, "j", 20, 5, &list, NULL), 0);
    assert_int_equal(list.count, 1);
    assert_int_equal(list.items[0].id, order[20]);
    store_run_list_release(&list);
    assert_int_equal(store_run_list(fx->st, "j", 100, 5, &list, NULL), 0);
    assert_int_equal(list.count, 0);
    assert_int_equal(list.total, 21);
    store_run_list_release(&list);
    assert_int_equal(store_run_list(fx->st, "nobody", 0, 5, &list, NULL), 0);
    assert_int_equal(list.count, 0);
    assert_int_equal(list.total, 0);
    store_run_list_release(&list);
    assert_int_equal(store_run_list(fx->st, "j", -1, 5, &list, NULL), -EINVAL);
}

static int crash_child_insert_runs(const struct fixture *fx)
{
    struct store *st = NULL;
    if (open_fx(fx, &st, NULL, 0) < 0)
        return 1;
    static const char *const statuses[] = {"RUNNING",   "PENDING", "RETRYING",
                                           "COMPLETED", "WAITING", "RUNNING"};
    for (int i = 0; i < 6; i++) {
        struct store_run run = scheduled_run((uint64_t)i + 1, "j", 1000 * i, statuses[i]);
        if (i == 5)
            run.error = "attempt 1 failed";
        if (store_run_insert(st, &run, NULL, NULL) < 0)
            return 1;
    }
    return 0; /* and die without store_close() or finishing a run */
}

struct interrupted {
    int calls;
    uint64_t ids[8];
    char previous[8][16];
    char errors[8][80];
    int64_t finished[8];
    struct store *st;
    int nested;
};

static void interrupted_cb(const struct store_run *run, const char *previous_status, void *userdata)
{
    struct interrupted *seen = userdata;
    int i = seen->calls++;
    if (i >= 8)
        return;
    seen->ids[i] = run->id;
    snprintf(seen->previous[i], sizeof(seen->previous[i]), "%s", previous_status);
    snprintf(seen->errors[i], sizeof(seen->errors[i]), "%s", run->error ? run->error : "");
    seen->finished[i] = run->finished_at_ms;
    if (strcmp(run->status, STORE_RUN_INTERRUPTED) != 0)
        seen->finished[i] = -1;
    /* The change is committed before the callback: the store answers inside it. */
    struct store_run now;
    if (store_run_get(seen->st, run->id, &now, NULL) == 0) {
        seen->nested += strcmp(now.status, STORE_RUN_INTERRUPTED) == 0;
        store_run_release(&now);
    }
}

static void test_mark_interrupted_after_crash(void **state)
{
    struct fixture *fx = *state;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    store_close(fx->st);
    fx->st = NULL;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(crash_child_insert_runs(fx));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    reopen(fx);
    struct interrupted seen = {.st = fx->st};
    assert_int_equal(store_runs_mark_interrupted(fx->st, 99000, interrupted_cb, &seen, NULL), 4);
    assert_int_equal(seen.calls, 4);
    assert_int_equal(seen.nested, 4);
    static const uint64_t ids[] = {1, 2, 3, 6};
    static const char *const previous[] = {"RUNNING", "PENDING", "RETRYING", "RUNNING"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(seen.ids[i], ids[i]);
        assert_string_equal(seen.previous[i], previous[i]);
        assert_int_equal(seen.finished[i], 99000);
    }
    assert_string_equal(seen.errors[0], "interrupted: ovsched stopped while the run was RUNNING");
    assert_string_equal(seen.errors[3], "attempt 1 failed");

    struct store_run run;
    for (uint64_t id = 1; id <= 6; id++) {
        assert_int_equal(store_run_get(fx->st, id, &run, NULL), 0);
        if (id == 4) {
            assert_string_equal(run.status, "COMPLETED");
        } else if (id == 5) {
            assert_string_equal(run.status, "WAITING"); /* left for the scheduler */
        } else {
            assert_string_equal(run.status, STORE_RUN_INTERRUPTED);
            assert_int_equal(run.finished_at_ms, 99000);
            assert_non_null(run.error);
        }
        store_run_release(&run);
    }
    assert_int_equal(store_run_get(fx->st, 2, &run, NULL), 0);
    assert_string_equal(run.error, "interrupted: ovsched stopped while the run was PENDING");
    store_run_release(&run);

    /* Nothing is left to mark, also after another restart; no callback needed. */
    assert_int_equal(store_runs_mark_interrupted(fx->st, 100000, NULL, NULL, NULL), 0);
    reopen(fx);
    assert_int_equal(store_runs_mark_interrupted(fx->st, 100000, interrupted_cb, &seen, NULL), 0);
    assert_int_equal(seen.calls, 4);
    /* The slots stay claimed. */
    struct store_run again = scheduled_run(0, "j", 0, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &again, NULL, NULL), -EEXIST);
}

static void collect_ids(const struct store_run *run, const char *previous_status, void *userdata)
{
    (void)previous_status;
    uint64_t *ids = userdata;
    ids[++ids[0]] = run->id;
}

/* Which runs recovery finds follows every write: inserts, updates both ways,
 * job deletes, rolled-back batches. */
static void test_live_runs_follow_writes(void **state)
{
    struct fixture *fx = *state;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    create_job(fx->st, "k", 0, "ACTIVE", 0);
    static const char *const first[] = {"RUNNING", "WAITING", "COMPLETED", "PENDING", "RUNNING"};
    for (int i = 0; i < 5; i++) {
        struct store_run run = scheduled_run((uint64_t)i + 1, i == 4 ? "k" : "j", i, first[i]);
        assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    }
    struct store_run run = scheduled_run(1, "j", 0, "COMPLETED");
    assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    run = scheduled_run(2, "j", 1, "RUNNING");
    assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    run = scheduled_run(3, "j", 2, "RETRYING");
    assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    run = scheduled_run(4, "j", 3, "PENDING"); /* still live: nothing changes */
    assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    assert_int_equal(store_job_delete(fx->st, "k", NULL), 0);
    /* A rolled-back batch leaves no trace either. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    run = scheduled_run(4, "j", 3, "COMPLETED");
    assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    run = scheduled_run(9, "j", 9, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    store_rollback(fx->st);
    /* A failed update changes nothing. */
    run = scheduled_run(77, "j", 9, "RUNNING");
    assert_int_equal(store_run_update(fx->st, &run, NULL), -ENOENT);

    uint64_t ids[8] = {0};
    assert_int_equal(store_runs_mark_interrupted(fx->st, 5, collect_ids, ids, NULL), 3);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    assert_int_equal(ids[3], 4);
    if (!fx->pg) /* PostgreSQL keeps live runs in a partial index, not a table */
        assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs_live"), 0);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs WHERE status = 'INTERRUPTED'"), 3);
}

static void test_run_max_id_never_goes_back(void **state)
{
    struct fixture *fx = *state;
    uint64_t max = 99;
    assert_int_equal(store_run_max_id(fx->st, &max, NULL), 0);
    assert_int_equal(max, 0);
    create_job(fx->st, "a", 0, "ACTIVE", 0);
    create_job(fx->st, "b", 0, "ACTIVE", 0);
    create_job(fx->st, "c", 0, "ACTIVE", 0);
    for (uint64_t id = 1; id <= 10; id++) {
        struct store_run run = scheduled_run(id, id <= 5 ? "a" : "b", (int64_t)id, "COMPLETED");
        assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    }
    assert_int_equal(store_run_max_id(fx->st, &max, NULL), 0);
    assert_int_equal(max, 10);
    assert_int_equal(store_job_delete(fx->st, "b", NULL), 0);
    assert_int_equal(run_total(fx->st, "b"), 0);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs"), 5);
    reopen(fx);
    assert_int_equal(store_run_max_id(fx->st, &max, NULL), 0);
    assert_int_equal(max, 10);
    struct store_run run = scheduled_run(0, "c", 1, "RUNNING");
    uint64_t id = 0;
    assert_int_equal(store_run_insert(fx->st, &run, &id, NULL), 0);
    assert_int_equal(id, 11);
    /* Explicit ids far ahead move the maximum. */
    run = scheduled_run(1000, "c", 2, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    assert_int_equal(store_run_max_id(fx->st, &max, NULL), 0);
    assert_int_equal(max, 1000);
}

/* ---- Slots and decisions ------------------------------------------------ */

struct digest_seen {
    char text[64];
};

static int digest_cb(const struct store_job *job, void *userdata)
{
    struct digest_seen *seen = userdata;
    size_t n = strlen(seen->text);
    if (job->digest)
        snprintf(seen->text + n, sizeof(seen->text) - n, "%s=%.*s ", job->id, (int)job->digest_len,
                 (const char *)job->digest);
    else
        snprintf(seen->text + n, sizeof(seen->text) - n, "%s=- ", job->id);
    return 0;
}

/* The digest is written with the document and goes with it: an update
 * without one clears it, so start-up never reads a stale digest. */
static void test_job_digest(void **state)
{
    struct fixture *fx = *state;
    struct store_job job = {
        .id = "d", .status = "ACTIVE", .json = "{}", .digest = "v1xy", .digest_len = 2};
    assert_int_equal(store_job_create(fx->st, &job, NULL), 0);
    create_job(fx->st, "plain", 0, "ACTIVE", 0);
    struct digest_seen seen = {0};
    assert_int_equal(store_job_foreach(fx->st, digest_cb, &seen, NULL), 0);
    assert_string_equal(seen.text, "d=v1 plain=- ");

    job.digest = "v2";
    job.digest_len = 2;
    assert_int_equal(store_job_update(fx->st, &job, STORE_VERSION_ANY, NULL, NULL), 0);
    seen = (struct digest_seen){0};
    assert_int_equal(store_job_foreach(fx->st, digest_cb, &seen, NULL), 0);
    assert_string_equal(seen.text, "d=v2 plain=- ");

    job.digest = NULL;
    job.digest_len = 0;
    assert_int_equal(store_job_update(fx->st, &job, STORE_VERSION_ANY, NULL, NULL), 0);
    seen = (struct digest_seen){0};
    assert_int_equal(store_job_foreach(fx->st, digest_cb, &seen, NULL), 0);
    assert_string_equal(seen.text, "d=- plain=- ");
}

/* A run written ahead of its slot (PENDING, attempt 0, not started). */
static struct store_run ahead_run(uint64_t id, const char *job_id, int64_t slot_ms)
{
    struct store_run run = scheduled_run(id, job_id, slot_ms, STORE_RUN_PENDING);
    run.attempt = 0;
    run.started_at_ms = 0;
    return run;
}

/* Runs written ahead that never started free their slots; nothing else is
 * touched, and their ids are never handed out again. */
static void test_release_unstarted(void **state)
{
    struct fixture *fx = *state;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    struct store_run runs[] = {
        ahead_run(1, "j", 10000),                        /* slot to come: released */
        ahead_run(2, "j", 2000),                         /* slot came: may have started */
        scheduled_run(3, "j", 20000, STORE_RUN_RUNNING), /* started */
        ahead_run(4, "j", 30000),                        /* manual below: kept */
        ahead_run(5, "j", 40000),                        /* the highest id: released */
    };
    runs[3].trigger = "manual";
    for (size_t i = 0; i < ARRAY_SIZE(runs); i++)
        assert_int_equal(store_run_insert(fx->st, &runs[i], NULL, NULL), 0);
    assert_int_equal(store_runs_release_unstarted(fx->st, 5000, NULL), 2);
    struct store_run got;
    assert_int_equal(store_run_get(fx->st, 1, &got, NULL), -ENOENT);
    assert_int_equal(store_run_get(fx->st, 5, &got, NULL), -ENOENT);
    for (uint64_t id = 2; id <= 4; id++) {
        assert_int_equal(store_run_get(fx->st, id, &got, NULL), 0);
        store_run_release(&got);
    }
    uint64_t max = 0;
    assert_int_equal(store_run_max_id(fx->st, &max, NULL), 0);
    assert_int_equal(max, 5);
    /* The slot is free again. */
    struct store_run again = ahead_run(6, "j", 10000);
    assert_int_equal(store_run_insert(fx->st, &again, NULL, NULL), 0);
    /* One at a time: a started run is refused, an unstarted one goes. */
    assert_int_equal(store_run_discard(fx->st, 3, NULL), -ENOENT);
    assert_int_equal(store_run_discard(fx->st, 6, NULL), 0);
    assert_int_equal(store_run_discard(fx->st, 6, NULL), -ENOENT);
    assert_int_equal(store_run_discard(fx->st, 0, NULL), -EINVAL);
    /* Recovery then finds the rest: runs 2, 3 and 4. */
    assert_int_equal(store_runs_mark_interrupted(fx->st, 50000, NULL, NULL, NULL), 3);
}

/* The launch mark keeps its greatest value and survives a reopen. */
static void test_launch_mark(void **state)
{
    struct fixture *fx = *state;
    int64_t mark = 0;
    assert_int_equal(store_launch_mark_get(fx->st, &mark, NULL), 0);
    assert_true(mark == INT64_MIN);
    assert_int_equal(store_launch_mark_set(fx->st, 5000, NULL), 0);
    assert_int_equal(store_launch_mark_set(fx->st, 4000, NULL), 0); /* a clock step back */
    reopen(fx);
    assert_int_equal(store_launch_mark_get(fx->st, &mark, NULL), 0);
    assert_int_equal(mark, 5000);
    assert_int_equal(store_launch_mark_clear(fx->st, NULL), 0); /* a graceful stop */
    assert_int_equal(store_launch_mark_get(fx->st, &mark, NULL), 0);
    assert_true(mark == INT64_MIN);
}

struct slots_seen {
    char text[256];
};

static int slots_cb(const struct store_job *job, void *userdata)
{
    struct slots_seen *seen = userdata;
    size_t n = strlen(seen->text);
    if (job->has_last_slot)
        snprintf(seen->text + n, sizeof(seen->text) - n, "%s:%lld ", job->id,
                 (long long)job->last_slot_ms);
    else
        snprintf(seen->text + n, sizeof(seen->text) - n, "%s:- ", job->id);
    return 0;
}

static void test_last_slot(void **state)
{
    struct fixture *fx = *state;
    struct store_error err;
    int64_t slot = -7;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    assert_int_equal(store_job_last_slot(fx->st, "j", &slot, &err), -ENOENT);
    assert_int_equal(store_job_last_slot(fx->st, "nobody", &slot, NULL), -ENOENT);
    assert_int_equal(slot, -7);

    int64_t slots[] = {300000, 60000, 240000, 120000};
    for (size_t i = 0; i < ARRAY_SIZE(slots); i++) {
        struct store_run run = scheduled_run(0, "j", slots[i], "COMPLETED");
        assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    }
    assert_int_equal(store_job_last_slot(fx->st, "j", &slot, NULL), 0);
    assert_int_equal(slot, 300000);

    /* A later manual run is not a slot. */
    struct store_run manual = {
        .job_id = "j", .status = "RUNNING", .trigger = "manual", .scheduled_at_ms = 900000};
    assert_int_equal(store_run_insert(fx->st, &manual, NULL, NULL), 0);
    assert_int_equal(store_job_last_slot(fx->st, "j", &slot, NULL), 0);
    assert_int_equal(slot, 300000);

    /* A decision that settles no slot does not count; one that skips slots does. */
    struct store_decision none = {.job_id = "j",
                                  .kind = "note",
                                  .first_slot_ms = 999999,
                                  .last_slot_ms = 999999,
                                  .count = 0,
                                  .at_ms = 1};
    assert_int_equal(store_decision_insert(fx->st, &none, NULL, NULL), 0);
    assert_int_equal(store_job_last_slot(fx->st, "j", &slot, NULL), 0);
    assert_int_equal(slot, 300000);
    struct store_decision skip = {.job_id = "j",
                                  .kind = "misfire_skip",
                                  .first_slot_ms = 360000,
                                  .last_slot_ms = 600000,
                                  .count = 5,
                                  .at_ms = 2};
    assert_int_equal(store_decision_insert(fx->st, &skip, NULL, NULL), 0);
    assert_int_equal(store_job_last_slot(fx->st, "j", &slot, NULL), 0);
    assert_int_equal(slot, 600000);

    /* Decisions alone are enough. */
    create_job(fx->st, "k", 0, "ACTIVE", 0);
    skip.job_id = "k";
    skip.last_slot_ms = -5; /* before 1970 is a slot too */
    assert_int_equal(store_decision_insert(fx->st, &skip, NULL, NULL), 0);
    assert_int_equal(store_job_last_slot(fx->st, "k", &slot, NULL), 0);
    assert_int_equal(slot, -5);
    assert_int_equal(store_job_last_slot(fx->st, "", &slot, NULL), -EINVAL);

    /* The start-up walk reads the same slots, and none for a job without. */
    create_job(fx->st, "none", 0, "ACTIVE", 0);
    struct slots_seen seen = {0};
    assert_int_equal(store_job_foreach(fx->st, slots_cb, &seen, NULL), 0);
    assert_string_equal(seen.text, "j:600000 k:-5 none:- ");
}

static void test_decisions(void **state)
{
    struct fixture *fx = *state;
    struct store_error err;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    create_job(fx->st, "k", 0, "ACTIVE", 0);
    uint64_t ids[6];
    for (int i = 0; i < 6; i++) {
        char reason[64];
        snprintf(reason, sizeof(reason), "reason %d", i);
        struct store_decision d = {.job_id = i == 3 ? "k" : "j",
                                   .kind = i % 2 ? "misfire_run_once" : "misfire_skip",
                                   .first_slot_ms = 1000 * i,
                                   .last_slot_ms = 1000 * i + 500,
                                   .count = i,
                                   .run_id = i % 2 ? 40 + (uint64_t)i : 0,
                                   .at_ms = 7000 + i,
                                   .reason = i == 4 ? NULL : reason};
        assert_int_equal(store_decision_insert(fx->st, &d, &ids[i], NULL), 0);
        if (i > 0)
            assert_true(ids[i] > ids[i - 1]);
    }
    struct store_decision_list list;
    assert_int_equal(store_decision_list(fx->st, "j", -1, &list, NULL), 0);
    assert_int_equal(list.count, 5);
    static const int order[] = {5, 4, 2, 1, 0};
    for (size_t n = 0; n < list.count; n++) {
        const struct store_decision *d = &list.items[n];
        int i = order[n];
        assert_int_equal(d->id, ids[i]);
        assert_string_equal(d->job_id, "j");
        assert_string_equal(d->kind, i % 2 ? "misfire_run_once" : "misfire_skip");
        assert_int_equal(d->first_slot_ms, 1000 * i);
        assert_int_equal(d->last_slot_ms, 1000 * i + 500);
        assert_int_equal(d->count, i);
        assert_int_equal(d->run_id, i % 2 ? 40 + (uint64_t)i : 0);
        assert_int_equal(d->at_ms, 7000 + i);
        if (i == 4) {
            assert_null(d->reason);
        } else {
            char reason[64];
            snprintf(reason, sizeof(reason), "reason %d", i);
            assert_string_equal(d->reason, reason);
        }
    }
    store_decision_list_release(&list);
    assert_null(list.items);
    store_decision_list_release(NULL);

    assert_int_equal(store_decision_list(fx->st, "j", 2, &list, NULL), 0);
    assert_int_equal(list.count, 2);
    assert_int_equal(list.items[0].id, ids[5]);
    store_decision_list_release(&list);
    assert_int_equal(store_decision_list(fx->st, "nobody", 10, &list, NULL), 0);
    assert_int_equal(list.count, 0);
    store_decision_list_release(&list);

    struct store_decision bad = {.job_id = "nobody", .kind = "x"};
    assert_int_equal(store_decision_insert(fx->st, &bad, NULL, &err), -ENOENT);
    bad.job_id = "j";
    bad.kind = NULL;
    assert_int_equal(store_decision_insert(fx->st, &bad, NULL, NULL), -EINVAL);
    bad.kind = "x";
    bad.count = -1;
    assert_int_equal(store_decision_insert(fx->st, &bad, NULL, NULL), -EINVAL);
    assert_int_equal(store_decision_list(fx->st, "", 1, &list, NULL), -EINVAL);

    /* Deleting the job deletes its log. */
    assert_int_equal(store_job_delete(fx->st, "j", NULL), 0);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM decisions"), 1);
}

/* ---- Batches ------------------------------------------------------------ */

static void test_batch_of_10000_runs(void **state)
{
    struct fixture *fx = *state;
    struct store_error err;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    assert_int_equal(store_begin(fx->st, NULL), 0);
    assert_int_equal(store_begin(fx->st, &err), -EBUSY);
    for (int i = 0; i < 10000; i++) {
        struct store_run run = scheduled_run(0, "j", 60000 * (int64_t)i, "RUNNING");
        assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    }
    /* Another connection sees nothing before the commit. */
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs"), 0);
    /* A refused insert leaves the batch usable. */
    struct store_run dup = scheduled_run(0, "j", 0, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &dup, NULL, &err), -EEXIST);
    struct store_run ghost = scheduled_run(0, "nobody", 0, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &ghost, NULL, NULL), -ENOENT);
    /* Reads inside the batch see the batch. */
    assert_int_equal(run_total(fx->st, "j"), 10000);
    assert_int_equal(store_commit(fx->st, NULL), 0);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs"), 10000);
    assert_int_equal(store_commit(fx->st, &err), -EINVAL);

    /* Runs started in one batch and finished in the next. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    struct store_run_list list;
    assert_int_equal(store_run_list(fx->st, "j", 0, 500, &list, NULL), 0);
    for (size_t i = 0; i < list.count; i++) {
        struct store_run run = list.items[i];
        run.status = "COMPLETED";
        run.finished_at_ms = run.started_at_ms + 10;
        run.has_exit_code = true;
        assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    }
    store_run_list_release(&list);
    assert_int_equal(store_commit(fx->st, NULL), 0);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs WHERE status = 'COMPLETED'"), 500);

    /* A rolled-back batch leaves nothing, job writes included. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    create_job(fx->st, "temp", 0, "ACTIVE", 0);
    struct store_run run = scheduled_run(0, "temp", 1, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    store_rollback(fx->st);
    store_rollback(fx->st); /* no batch: nothing to do */
    struct store_job job;
    assert_int_equal(store_job_get(fx->st, "temp", &job, NULL), -ENOENT);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs"), 10000);

    /* Multi-statement operations inside a batch: delete, mark_interrupted. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    create_job(fx->st, "temp", 0, "ACTIVE", 0);
    assert_int_equal(store_job_delete(fx->st, "nobody", NULL), -ENOENT);
    assert_int_equal(store_runs_mark_interrupted(fx->st, 5, NULL, NULL, NULL), 9500);
    assert_int_equal(store_commit(fx->st, NULL), 0);
    assert_int_equal(query_int(fx, "SELECT COUNT(*) FROM runs WHERE status = 'INTERRUPTED'"), 9500);
    assert_int_equal(store_job_get(fx->st, "temp", &job, NULL), 0);
    store_job_release(&job);

    /* Closing with an open batch rolls it back. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    create_job(fx->st, "lost", 0, "ACTIVE", 0);
    reopen(fx);
    assert_int_equal(store_job_get(fx->st, "lost", &job, NULL), -ENOENT);
}

static void test_data_survives_reopen(void **state)
{
    struct fixture *fx = *state;
    create_job(fx->st, "keep", 3, "ACTIVE", 10);
    struct store_job edit = {.id = "keep",
                             .campaign_id = 3,
                             .status = "PAUSED",
                             .json = "{\"edited\":true}",
                             .updated_at_ms = 20};
    assert_int_equal(store_job_update(fx->st, &edit, 1, NULL, NULL), 0);
    struct store_run run = scheduled_run(0, "keep", 60000, "RUNNING");
    run.output = "hello";
    uint64_t run_id = 0;
    assert_int_equal(store_run_insert(fx->st, &run, &run_id, NULL), 0);
    struct store_decision d = {.job_id = "keep",
                               .kind = "misfire_skip",
                               .first_slot_ms = 1,
                               .last_slot_ms = 2,
                               .count = 2,
                               .at_ms = 3,
                               .reason = "down"};
    assert_int_equal(store_decision_insert(fx->st, &d, NULL, NULL), 0);

    for (int round = 0; round < 3; round++) {
        reopen(fx);
        struct store_job job;
        assert_int_equal(store_job_get(fx->st, "keep", &job, NULL), 0);
        assert_int_equal(job.version, 2);
        assert_string_equal(job.status, "PAUSED");
        assert_string_equal(job.json, "{\"edited\":true}");
        assert_int_equal(job.created_at_ms, 10);
        assert_int_equal(job.updated_at_ms, 20);
        store_job_release(&job);
        struct store_run got;
        assert_int_equal(store_run_get(fx->st, run_id, &got, NULL), 0);
        assert_string_equal(got.output, "hello");
        assert_string_equal(got.status, "RUNNING");
        store_run_release(&got);
        struct store_decision_list list;
        assert_int_equal(store_decision_list(fx->st, "keep", 10, &list, NULL), 0);
        assert_int_equal(list.count, 1);
        assert_string_equal(list.items[0].reason, "down");
        store_decision_list_release(&list);
        int64_t slot;
        assert_int_equal(store_job_last_slot(fx->st, "keep", &slot, NULL), 0);
        assert_int_equal(slot, 60000);
    }
    assert_integrity(fx);
}

/* ---- Crashes, locks, corruption ----------------------------------------- */

enum { KILL_BATCH = 50 };

/* The child: open, then commit batches of KILL_BATCH runs (every third batch
 * as single autocommit inserts instead), writing the highest committed id to
 * FD after each commit returns.  With ENDLESS, after COMMITS batches it
 * opens one transaction that never commits, writes 0 to FD once the
 * transaction is larger than the page cache (so SQLite spills uncommitted
 * pages into the WAL), and goes on inserting until it is killed. */
static void kill_child(const struct fixture *fx, int fd, int commits, bool endless)
{
    struct store *st = NULL;
    if (open_fx(fx, &st, NULL, 0) < 0)
        _exit(2);
    uint64_t next = 0;
    if (store_run_max_id(st, &next, NULL) < 0)
        _exit(3);
    char output[4096];
    memset(output, 'x', sizeof(output) - 1);
    output[sizeof(output) - 1] = '\0';
    for (int n = 0; endless ? n < commits : true; n++) {
        bool batch = n % 3 != 2;
        if (batch && store_begin(st, NULL) < 0)
            _exit(4);
        for (int i = 0; i < KILL_BATCH; i++) {
            next++;
            struct store_run run = scheduled_run(next, "k", (int64_t)next * 1000, "RUNNING");
            run.output = output + (next % 4000);
            if (store_run_insert(st, &run, NULL, NULL) < 0)
                _exit(5);
            if (!batch && write(fd, &next, sizeof(next)) != sizeof(next))
                _exit(6);
        }
        if (batch && store_commit(st, NULL) < 0)
            _exit(7);
        if (batch && write(fd, &next, sizeof(next)) != sizeof(next))
            _exit(8);
    }
    if (store_begin(st, NULL) < 0)
        _exit(8);
    for (uint64_t i = 0;; i++) {
        next++;
        struct store_run run = scheduled_run(next, "k", (int64_t)next * 1000, "RUNNING");
        run.output = output;
        if (store_run_insert(st, &run, NULL, NULL) < 0)
            _exit(9);
        if (i == 12000) { /* 12000 x 4 KiB: well past the 32 MiB cache */
            uint64_t zero = 0;
            if (write(fd, &zero, sizeof(zero)) != sizeof(zero))
                _exit(10);
        }
    }
}

static void test_sigkill_keeps_committed_rows(void **state)
{
    struct fixture *fx = *state;
    struct test_rng rng = {test_seed(77)};
    create_job(fx->st, "k", 0, "ACTIVE", 0);
    store_close(fx->st);
    fx->st = NULL;

    uint64_t acked = 0;
    for (int round = 0; round < 6; round++) {
        bool endless = round % 2 == 1;
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        int commits = (int)test_rng_range(&rng, 5, 40);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            kill_child(fx, fds[1], commits, endless);
            _exit(1);
        }
        close(fds[1]);
        /* Kill during commits, after a random number of acknowledgements, or in
         * the middle of the large uncommitted transaction (announced by a 0). */
        int got = 0;
        bool spilled = false;
        uint64_t value;
        while ((endless ? !spilled : got < commits) &&
               read(fds[0], &value, sizeof(value)) == sizeof(value)) {
            got++;
            if (value)
                acked = value;
            else
                spilled = true;
        }
        assert_true(endless ? spilled : got == commits);
        if (!endless)
            usleep((useconds_t)test_rng_range(&rng, 0, 3000));
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Acknowledgements written before the kill still count. */
        while (read(fds[0], &value, sizeof(value)) == sizeof(value))
            if (value)
                acked = value;
        close(fds[0]);
        char wal[128];
        snprintf(wal, sizeof(wal), "%s/ovsched.db-wal", fx->dir);
        struct stat info;
        off_t wal_size = stat(wal, &info) == 0 ? info.st_size : 0;

        reopen(fx);
        assert_integrity(fx);
        int64_t count = query_int(fx, "SELECT COUNT(*) FROM runs");
        int64_t max = query_int(fx, "SELECT COALESCE(MAX(id), 0) FROM runs");
        /* Every acknowledged run is there, ids without holes, and at most one
         * more whole unacknowledged commit (the one the kill raced with): one
         * autocommit insert or a batch, never part of one. */
        assert_int_equal(count, max);
        assert_true((uint64_t)max >= acked);
        uint64_t extra = (uint64_t)max - acked;
        if (endless)
            assert_int_equal(extra, 0);
        else if (extra != 0 && extra != 1 && extra != KILL_BATCH)
            fail_msg("%llu rows beyond the last acknowledged commit", (unsigned long long)extra);
        print_message("# round %d (%s): %llu acknowledged, %llu more, WAL %lld KiB at the kill%s\n",
                      round, endless ? "uncommitted transaction" : "commits",
                      (unsigned long long)acked, (unsigned long long)extra,
                      (long long)wal_size / 1024, fx->pg ? " (SQLite's; n/a)" : "");
        acked = (uint64_t)max;
        struct store_run run;
        assert_int_equal(store_run_get(fx->st, acked, &run, NULL), 0);
        assert_string_equal(run.job_id, "k");
        store_run_release(&run);
        store_close(fx->st);
        fx->st = NULL;
    }
    reopen(fx);
    assert_true(acked > 0);
}

static void test_locked_database_gives_ebusy(void **state)
{
    struct fixture *fx = *state;
    struct store_error err;
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    assert_int_equal(store_set_lock_timeout(fx->st, -1), -EINVAL);
    assert_int_equal(store_set_lock_timeout(fx->st, 50), 0);

    sqlite3 *other = raw_open(fx);
    assert_int_equal(
        sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO meta VALUES ('x', 1)", NULL, NULL, NULL),
        SQLITE_OK);
    struct store_job job = {.id = "k", .status = "ACTIVE", .json = "{}"};
    assert_int_equal(store_job_create(fx->st, &job, &err), -EBUSY);
    assert_non_null(strstr(err.message, "locked"));
    assert_true(err.backend_code != 0);
    assert_int_equal(store_begin(fx->st, &err), -EBUSY);
    assert_int_equal(store_job_delete(fx->st, "j", &err), -EBUSY);
    struct store_run run = scheduled_run(0, "j", 1, "RUNNING");
    assert_int_equal(store_run_insert(fx->st, &run, NULL, &err), -EBUSY);
    assert_int_equal(store_runs_mark_interrupted(fx->st, 1, NULL, NULL, &err), -EBUSY);
    /* WAL: reads go on while another process writes. */
    struct store_job got;
    assert_int_equal(store_job_get(fx->st, "j", &got, NULL), 0);
    store_job_release(&got);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    assert_int_equal(store_job_create(fx->st, &job, NULL), 0);
    assert_int_equal(store_begin(fx->st, NULL), 0);
    assert_int_equal(store_commit(fx->st, NULL), 0);
}

static void test_corrupt_file_gives_errors(void **state)
{
    struct fixture *fx = *state;
    struct test_rng rng = {test_seed(5)};
    create_job(fx->st, "j", 0, "ACTIVE", 0);
    assert_int_equal(store_begin(fx->st, NULL), 0);
    for (int i = 0; i < 3000; i++) {
        struct store_run run = scheduled_run(0, "j", i, "COMPLETED");
        run.output = "some output to fill pages with";
        assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    }
    assert_int_equal(store_commit(fx->st, NULL), 0);
    store_close(fx->st); /* checkpoints the WAL into the file */
    fx->st = NULL;

    char path[128];
    db_path(fx, path, sizeof(path));
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    /* Scribble over pages after the first (the header stays readable). */
    char junk[512];
    for (int i = 0; i < 40; i++) {
        for (size_t k = 0; k < sizeof(junk); k++)
            junk[k] = (char)test_rng_next(&rng);
        off_t at = (off_t)test_rng_range(&rng, 4096, info.st_size - (off_t)sizeof(junk));
        assert_int_equal(pwrite(fd, junk, sizeof(junk), at), sizeof(junk));
    }
    close(fd);

    struct store *st = NULL;
    char err[256] = "";
    int r = store_open_sqlite(fx->dir, &st, err, sizeof(err));
    assert_true(r == 0 || r == -EIO);
    if (r < 0)
        return;
    int failures = 0;
    struct store_error e;
    struct store_run_list list;
    r = store_run_list(st, "j", 0, -1, &list, &e);
    assert_true(r == 0 || r == -EIO);
    failures += r < 0;
    if (r == 0)
        store_run_list_release(&list);
    for (uint64_t id = 1; id <= 3000; id += 7) {
        struct store_run run;
        r = store_run_get(st, id, &run, &e);
        assert_true(r == 0 || r == -EIO || r == -ENOENT);
        failures += r == -EIO;
        if (r == 0)
            store_run_release(&run);
    }
    struct store_run run = scheduled_run(0, "j", 99999, "RUNNING");
    r = store_run_insert(st, &run, NULL, &e);
    assert_true(r == 0 || r == -EIO || r == -EEXIST || r == -ENOENT);
    r = store_runs_mark_interrupted(st, 1, NULL, NULL, &e);
    assert_true(r >= 0 || r == -EIO);
    struct store_job_list jobs;
    struct store_job_filter all = {.limit = -1};
    r = store_job_list(st, &all, &jobs, &e);
    if (r == 0)
        store_job_list_release(&jobs);
    store_close(st);
    print_message("# corrupt file: %d reads failed with -EIO\n", failures);
}

/* Every int64 the store keeps comes back exact, to the extremes (no
 * double on the way, no 32-bit column). */
static void test_int64_extremes(void **state)
{
    struct fixture *fx = *state;
    struct store_job job = {.id = "x",
                            .campaign_id = INT64_MAX,
                            .status = "ACTIVE",
                            .json = "{}",
                            .created_at_ms = INT64_MIN + 1};
    assert_int_equal(store_job_create(fx->st, &job, NULL), 0);
    struct store_job got;
    assert_int_equal(store_job_get(fx->st, "x", &got, NULL), 0);
    assert_true(got.campaign_id == INT64_MAX && got.created_at_ms == INT64_MIN + 1);
    store_job_release(&got);
    struct store_run run = scheduled_run((uint64_t)INT64_MAX, "x", INT64_MIN, "COMPLETED");
    run.started_at_ms = INT64_MAX;
    run.finished_at_ms = INT64_MAX - 1;
    run.has_exit_code = true;
    run.exit_code = INT32_MIN;
    run.attempt = INT32_MAX;
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    struct store_run back;
    assert_int_equal(store_run_get(fx->st, (uint64_t)INT64_MAX, &back, NULL), 0);
    assert_run_equal(&back, &run);
    store_run_release(&back);
    uint64_t max = 0;
    assert_int_equal(store_run_max_id(fx->st, &max, NULL), 0);
    assert_true(max == (uint64_t)INT64_MAX);
    struct store_decision d = {.job_id = "x",
                               .kind = "k",
                               .first_slot_ms = INT64_MIN,
                               .last_slot_ms = INT64_MAX,
                               .count = INT64_MAX,
                               .run_id = (uint64_t)INT64_MAX,
                               .at_ms = INT64_MIN};
    assert_int_equal(store_decision_insert(fx->st, &d, NULL, NULL), 0);
    struct store_decision_list list;
    assert_int_equal(store_decision_list(fx->st, "x", -1, &list, NULL), 0);
    assert_int_equal(list.count, 1);
    assert_true(list.items[0].first_slot_ms == INT64_MIN &&
                list.items[0].last_slot_ms == INT64_MAX && list.items[0].count == INT64_MAX &&
                list.items[0].run_id == (uint64_t)INT64_MAX && list.items[0].at_ms == INT64_MIN);
    store_decision_list_release(&list);
    int64_t slot = 0;
    assert_int_equal(store_job_last_slot(fx->st, "x", &slot, NULL), 0);
    assert_true(slot == INT64_MAX);
    int64_t mark = 0;
    assert_int_equal(store_launch_mark_set(fx->st, INT64_MAX, NULL), 0);
    assert_int_equal(store_launch_mark_get(fx->st, &mark, NULL), 0);
    assert_true(mark == INT64_MAX);
}

/* The cases about the interface, run on each backend. */
#define BOTH_BACKENDS(setup_fn)                                                                    \
    cmocka_unit_test_setup_teardown(test_job_crud, setup_fn, teardown),                            \
        cmocka_unit_test_setup_teardown(test_job_list_against_model, setup_fn, teardown),          \
        cmocka_unit_test_setup_teardown(test_job_foreach, setup_fn, teardown),                     \
        cmocka_unit_test_setup_teardown(test_job_digest, setup_fn, teardown),                      \
        cmocka_unit_test_setup_teardown(test_job_list_labels, setup_fn, teardown),                 \
        cmocka_unit_test_setup_teardown(test_release_unstarted, setup_fn, teardown),               \
        cmocka_unit_test_setup_teardown(test_launch_mark, setup_fn, teardown),                     \
        cmocka_unit_test_setup_teardown(test_run_slot_at_most_once, setup_fn, teardown),           \
        cmocka_unit_test_setup_teardown(test_run_update_get_list, setup_fn, teardown),             \
        cmocka_unit_test_setup_teardown(test_mark_interrupted_after_crash, setup_fn, teardown),    \
        cmocka_unit_test_setup_teardown(test_live_runs_follow_writes, setup_fn, teardown),         \
        cmocka_unit_test_setup_teardown(test_run_max_id_never_goes_back, setup_fn, teardown),      \
        cmocka_unit_test_setup_teardown(test_last_slot, setup_fn, teardown),                       \
        cmocka_unit_test_setup_teardown(test_decisions, setup_fn, teardown),                       \
        cmocka_unit_test_setup_teardown(test_batch_of_10000_runs, setup_fn, teardown),             \
        cmocka_unit_test_setup_teardown(test_data_survives_reopen, setup_fn, teardown),            \
        cmocka_unit_test_setup_teardown(test_sigkill_keeps_committed_rows, setup_fn, teardown),    \
        cmocka_unit_test_setup_teardown(test_int64_extremes, setup_fn, teardown)

int main(void)
{
    const struct CMUnitTest sqlite_tests[] = {
        cmocka_unit_test_setup_teardown(test_open_fresh_nested_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_files_are_owner_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_journal_mode_and_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_upgrades_schema_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_newer_schema_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_bad_arguments_and_files, setup, teardown),
        BOTH_BACKENDS(setup),
        cmocka_unit_test_setup_teardown(test_locked_database_gives_ebusy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_file_gives_errors, setup, teardown),
    };
    const struct CMUnitTest postgres_tests[] = {BOTH_BACKENDS(setup_pg)};
    int failed = cmocka_run_group_tests_name("store/sqlite", sqlite_tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("store/postgres", postgres_tests, NULL, NULL);
}
