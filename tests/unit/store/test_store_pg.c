/*
 * test_store_pg - what only the PostgreSQL store has, on a real server
 * (pg_fixture.h), a fresh database per case: its connection string (errors
 * that never show the password, the redaction used in logs), migrations that
 * several processes run at once, a newer schema refused, one exclusive
 * opener per database, SQLSTATEs mapped to errno (a held lock is -EBUSY), the
 * deferred run updates of a batch, and the connection lost in every way a
 * daemon meets it: the session terminated by an administrator (idle, and
 * inside a batch), the server restarted cleanly and after a crash, and the
 * server down for a while (backoff, then back by itself).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pg_fixture.h"
#include "store/store.h"

struct fixture {
    char db[64];
    char url[512];
    struct store *st;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    pg_fixture_create_db(fx->db, sizeof(fx->db), fx->url, sizeof(fx->url));
    char err[256] = "";
    int r = store_open_postgres(fx->url, 0, &fx->st, err, sizeof(err));
    if (r < 0)
        print_error("open: %s\n", err);
    assert_int_equal(r, 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    store_close(fx->st);
    pg_fixture_drop_db(fx->db);
    free(fx);
    return 0;
}

static void create_job(struct store *st, const char *id)
{
    struct store_job job = {.id = id, .status = "ACTIVE", .json = "{}", .created_at_ms = 1};
    struct store_error err = {0};
    int r = store_job_create(st, &job, &err);
    if (r < 0)
        print_error("create %s: %s\n", id, err.message);
    assert_int_equal(r, 0);
}

static struct store_run running(uint64_t id, const char *job_id, int64_t slot_ms)
{
    return (struct store_run){.id = id,
                              .job_id = job_id,
                              .status = STORE_RUN_RUNNING,
                              .trigger = STORE_TRIGGER_SCHEDULE,
                              .attempt = 1,
                              .scheduled_at_ms = slot_ms,
                              .started_at_ms = slot_ms + 1};
}

/* End the sessions the store opened on FX's database, as an administrator's
 * pg_terminate_backend() (or a crashed backend) would. */
static void terminate_store_sessions(const struct fixture *fx)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE datname = '%s' AND application_name = 'ovsched'",
             fx->db);
    assert_true(pg_fixture_query_int(fx->url, sql) >= 1);
    /* The backends are gone once the server no longer lists them. */
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
             " AND application_name = 'ovsched'",
             fx->db);
    for (int i = 0; i < 500 && pg_fixture_query_int(fx->url, sql) > 0; i++)
        usleep(10000);
}

/* ---- Connection strings ------------------------------------------------- */

static void test_redaction(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"postgres://ovs:s3cret@db.example:5432/ovsched",
         "postgres://ovs:***@db.example:5432/ovsched"},
        {"postgresql://ovs@db/x?sslmode=require", "postgresql://ovs@db/x?sslmode=require"},
        {"postgres://u:p%40ss@h1:1,h2:2/db?password=again&application_name=a",
         "postgres://u:***@h1:1,h2:2/db?password=***&application_name=a"},
        {"postgres:///db?host=/tmp&password=x", "postgres:///db?host=/tmp&password=***"},
        {"host=db user=ovs password=s3cret dbname=x", "user=ovs password=*** dbname=x host=db"},
        {"password = 'it\\'s a secret'   host=db", "password=*** host=db"},
        {"dbname=x", "dbname=x"},
        {"password='unclosed host=db", "(invalid connection string)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        store_conninfo_redact(cases[i].in, out, sizeof(out));
        assert_string_equal(out, cases[i].out);
    }
    char tiny[8];
    store_conninfo_redact("postgres://u:pw@host/db", tiny, sizeof(tiny));
    assert_string_equal(tiny, "postgre");
}

static void test_open_errors_never_show_the_password(void **state)
{
    (void)state;
    struct store *st = (struct store *)0x1;
    char err[256] = "";
    assert_int_equal(store_open_postgres("", 0, &st, err, sizeof(err)), -EINVAL);
    assert_int_equal(store_open_postgres(NULL, 0, &st, NULL, 0), -EINVAL);
    assert_int_equal(
        store_open_postgres("postgres://u:pw@h/db?nonsense=1", 0, &st, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "nonsense"));
    /* Nobody listens on port 1: refused at once, and the error is clear. */
    err[0] = '\0';
    assert_int_equal(
        store_open_postgres("postgres://ovs:Sup3rSecret@127.0.0.1:1/db", 0, &st, err, sizeof(err)),
        -ENOTCONN);
    assert_non_null(strstr(err, "127.0.0.1"));
    assert_null(strstr(err, "Sup3rSecret"));
    assert_ptr_equal(st, (struct store *)0x1); /* untouched on failure */
}

static void test_wrong_password(void **state)
{
    struct fixture *fx = *state;
    char url[600], err[256] = "";
    /* postgres://postgres:PASSWORD@...: change the password. */
    const char *at = strchr(fx->url, '@');
    snprintf(url, sizeof(url), "postgres://postgres:WrongPassw0rd%s", at);
    struct store *st = NULL;
    assert_int_equal(store_open_postgres(url, 0, &st, err, sizeof(err)), -ENOTCONN);
    assert_non_null(strstr(err, "password"));
    assert_null(strstr(err, "WrongPassw0rd"));
}

/* ---- Migrations --------------------------------------------------------- */

static void test_migrations_race(void **state)
{
    struct fixture *fx = *state;
    /* A second, empty database that 6 processes open at the same moment. */
    char db[64], url[512];
    pg_fixture_create_db(db, sizeof(db), url, sizeof(url));
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[6];
    for (int i = 0; i < 6; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            char c;
            if (read(go[0], &c, 1) != 0) /* EOF: everyone starts now */
                _exit(9);
            struct store *st = NULL;
            if (store_open_postgres(url, 0, &st, NULL, 0) < 0)
                _exit(1);
            struct store_job job = {.id = "j", .status = "ACTIVE", .json = "{}"};
            int r = store_job_create(st, &job, NULL);
            store_close(st);
            _exit(r == 0 ? 0 : r == -EEXIST ? 3 : 2);
        }
    }
    close(go[0]);
    close(go[1]);
    int created = 0;
    for (int i = 0; i < 6; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_true(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3);
        created += WEXITSTATUS(status) == 0;
    }
    assert_int_equal(created, 1);
    assert_int_equal(pg_fixture_query_int(url, "SELECT count(*) FROM ovsched_migrations"),
                     pg_fixture_query_int(url, "SELECT max(version) FROM ovsched_migrations"));
    assert_int_equal(pg_fixture_query_int(url, "SELECT count(*) FROM jobs"), 1);
    pg_fixture_drop_db(db);
    (void)fx;
}

static void test_newer_schema_is_refused(void **state)
{
    struct fixture *fx = *state;
    store_close(fx->st);
    fx->st = NULL;
    pg_fixture_exec(fx->url, "INSERT INTO ovsched_migrations (version) VALUES (99)");
    struct store *st = (struct store *)0x1;
    char err[256] = "";
    assert_int_equal(store_open_postgres(fx->url, 0, &st, err, sizeof(err)), -ENOTSUP);
    assert_non_null(strstr(err, "newer"));
    assert_ptr_equal(st, (struct store *)0x1);
    assert_int_equal(pg_fixture_query_int(fx->url, "SELECT max(version) FROM ovsched_migrations"),
                     99);
}

static void test_exclusive(void **state)
{
    struct fixture *fx = *state;
    struct store *a = NULL, *b = NULL;
    char err[256] = "";
    assert_int_equal(store_open_postgres(fx->url, STORE_PG_EXCLUSIVE, &a, err, sizeof(err)), 0);
    assert_int_equal(store_open_postgres(fx->url, STORE_PG_EXCLUSIVE, &b, err, sizeof(err)),
                     -EBUSY);
    assert_non_null(strstr(err, "already using this database"));
    /* A plain opener (a tool, a test) is not refused. */
    assert_int_equal(store_open_postgres(fx->url, 0, &b, err, sizeof(err)), 0);
    store_close(b);
    store_close(a);
    assert_int_equal(store_open_postgres(fx->url, STORE_PG_EXCLUSIVE, &b, err, sizeof(err)), 0);
    assert_string_equal(store_backend(b), "postgres");
    store_close(b);
}

/* ---- Errors ------------------------------------------------------------- */

static void test_held_lock_gives_ebusy(void **state)
{
    struct fixture *fx = *state;
    struct store_error err = {0};
    create_job(fx->st, "j");
    assert_int_equal(store_set_lock_timeout(fx->st, 50), 0);
    PGconn *other = pg_fixture_connect(fx->url);
    PGresult *res = PQexec(other, "BEGIN; LOCK TABLE jobs, runs IN SHARE ROW EXCLUSIVE MODE");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    struct store_job job = {.id = "k", .status = "ACTIVE", .json = "{}"};
    assert_int_equal(store_job_create(fx->st, &job, &err), -EBUSY);
    assert_non_null(strstr(err.message, "lock timeout"));
    assert_int_equal(strcmp(err.message, "") != 0, 1);
    assert_true(err.backend_code != 0);
    assert_int_equal(store_job_delete(fx->st, "j", &err), -EBUSY);
    struct store_run run = running(0, "j", 1);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, &err), -EBUSY);
    assert_int_equal(store_runs_mark_interrupted(fx->st, 1, NULL, NULL, &err), -EBUSY);
    /* Reads go on while another process writes. */
    struct store_job got;
    assert_int_equal(store_job_get(fx->st, "j", &got, NULL), 0);
    store_job_release(&got);
    /* In a batch, a lock timeout is a backend failure: the batch is over. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    assert_int_equal(store_job_create(fx->st, &job, &err), -EBUSY);
    assert_int_equal(store_job_get(fx->st, "j", &got, &err), -EIO);
    assert_non_null(strstr(err.message, "rolled back"));
    assert_true(store_commit(fx->st, &err) < 0);
    res = PQexec(other, "ROLLBACK");
    PQclear(res);
    PQfinish(other);
    assert_int_equal(store_job_create(fx->st, &job, NULL), 0);
}

/* Invalid UTF-8 would abort a PostgreSQL batch: it is refused before it is
 * sent, as a bad argument, and the batch goes on. */
static void test_invalid_text_keeps_the_batch(void **state)
{
    struct fixture *fx = *state;
    struct store_error err = {0};
    create_job(fx->st, "j");
    assert_int_equal(store_begin(fx->st, NULL), 0);
    struct store_run run = running(1, "j", 1);
    run.output = "bad \xff\xfe bytes";
    assert_int_equal(store_run_insert(fx->st, &run, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.message, "UTF-8"));
    run.output = "fine";
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    run.output = "\xc3";
    assert_int_equal(store_run_update(fx->st, &run, NULL), -EINVAL);
    assert_int_equal(store_commit(fx->st, NULL), 0);
    struct store_run got;
    assert_int_equal(store_run_get(fx->st, 1, &got, NULL), 0);
    assert_string_equal(got.output, "fine");
    store_run_release(&got);
}

/* ---- Deferred run updates ------------------------------------------------ */

static void test_deferred_updates(void **state)
{
    struct fixture *fx = *state;
    struct store_error err = {0};
    create_job(fx->st, "j");
    assert_int_equal(store_begin(fx->st, NULL), 0);
    for (uint64_t id = 1; id <= 3000; id++) {
        struct store_run run = running(id, "j", (int64_t)id * 1000);
        assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    }
    assert_int_equal(store_commit(fx->st, NULL), 0);

    /* Updates of known runs wait in memory; a read in the batch sees them,
     * and so does the database once committed.  Each run is updated twice:
     * the later update wins. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    for (uint64_t id = 1; id <= 3000; id++) {
        struct store_run run = running(id, "j", (int64_t)id * 1000);
        run.status = "RETRYING";
        assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
        run.status = id % 2 ? "COMPLETED" : "FAILED";
        run.output = "it's \"quoted\" \\ and {braced}, NULL";
        run.has_exit_code = true;
        run.exit_code = (int)id;
        run.finished_at_ms = (int64_t)id * 1000 + 500;
        assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    }
    /* An unknown run is checked at once, and the batch goes on. */
    struct store_run ghost = running(999999, "j", 5);
    assert_int_equal(store_run_update(fx->st, &ghost, &err), -ENOENT);
    struct store_run got;
    assert_int_equal(store_run_get(fx->st, 7, &got, NULL), 0);
    assert_string_equal(got.status, "COMPLETED");
    store_run_release(&got);
    assert_int_equal(pg_fixture_query_int(fx->url, "SELECT count(*) FROM runs WHERE status IN"
                                                   " ('COMPLETED', 'FAILED')"),
                     0); /* not committed yet */
    assert_int_equal(store_commit(fx->st, NULL), 0);
    assert_int_equal(pg_fixture_query_int(fx->url, "SELECT count(*) FROM runs WHERE status ="
                                                   " 'COMPLETED'"),
                     1500);
    assert_int_equal(pg_fixture_query_int(fx->url, "SELECT sum(exit_code) FROM runs"),
                     3000 * 3001 / 2);
    assert_int_equal(store_run_get(fx->st, 2, &got, NULL), 0);
    assert_string_equal(got.output, "it's \"quoted\" \\ and {braced}, NULL");
    assert_true(got.has_exit_code);
    assert_int_equal(got.finished_at_ms, 2500);
    store_run_release(&got);

    /* A rolled-back batch leaves its deferred updates nowhere. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    struct store_run run = running(3001, "j", 1);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    run.status = "COMPLETED";
    assert_int_equal(store_run_update(fx->st, &run, NULL), 0);
    store_rollback(fx->st);
    assert_int_equal(store_run_get(fx->st, 3001, &got, NULL), -ENOENT);
    /* Recovery finds no live run: all 3000 were finished. */
    assert_int_equal(store_runs_mark_interrupted(fx->st, 1, NULL, NULL, NULL), 0);
}

/* ---- A lost connection --------------------------------------------------- */

static void test_terminated_while_idle(void **state)
{
    struct fixture *fx = *state;
    create_job(fx->st, "a");
    terminate_store_sessions(fx);
    /* The next call finds the connection gone before it sends, reconnects,
     * and runs once: a write is neither lost nor doubled. */
    struct store_error err = {0};
    struct store_run run = running(0, "a", 1000);
    uint64_t id = 0;
    int r = store_run_insert(fx->st, &run, &id, &err);
    if (r < 0)
        print_error("insert after terminate: %s\n", err.message);
    assert_int_equal(r, 0);
    assert_int_equal(id, 1);
    assert_int_equal(pg_fixture_query_int(fx->url, "SELECT count(*) FROM runs"), 1);
    /* Reads too. */
    terminate_store_sessions(fx);
    struct store_job job;
    assert_int_equal(store_job_get(fx->st, "a", &job, NULL), 0);
    store_job_release(&job);
}

static void test_terminated_inside_a_batch(void **state)
{
    struct fixture *fx = *state;
    struct store_error err = {0};
    create_job(fx->st, "a");
    assert_int_equal(store_begin(fx->st, NULL), 0);
    struct store_run run = running(1, "a", 1000);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    terminate_store_sessions(fx);
    /* The server rolled the batch back: the next call says so, every one
     * after it too, and the commit; nothing of the batch is stored. */
    run = running(2, "a", 2000);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, &err), -ENOTCONN);
    assert_non_null(strstr(err.message, "rolled the batch back"));
    assert_int_equal(store_run_insert(fx->st, &run, NULL, &err), -EIO);
    assert_non_null(strstr(err.message, "rolled back"));
    assert_true(store_commit(fx->st, &err) < 0);
    assert_int_equal(pg_fixture_query_int(fx->url, "SELECT count(*) FROM runs"), 0);
    /* The store is back for the next batch. */
    assert_int_equal(store_begin(fx->st, NULL), 0);
    assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
    assert_int_equal(store_commit(fx->st, NULL), 0);
    assert_int_equal(pg_fixture_query_int(fx->url, "SELECT count(*) FROM runs"), 1);
}

static void test_server_restart_keeps_acknowledged(void **state)
{
    struct fixture *fx = *state;
    create_job(fx->st, "a");
    for (int round = 0; round < 2; round++) {
        bool crash = round == 1;
        assert_int_equal(store_begin(fx->st, NULL), 0);
        for (int i = 0; i < 100; i++) {
            struct store_run run = running(0, "a", round * 1000 + i);
            assert_int_equal(store_run_insert(fx->st, &run, NULL, NULL), 0);
        }
        assert_int_equal(store_commit(fx->st, NULL), 0);
        /* A clean restart, then one as after a crash (no shutdown
         * checkpoint: the server replays its WAL). */
        pg_fixture_restart(crash);
        struct store_error err = {0};
        int64_t total = 0;
        struct store_run_list list;
        int r = store_run_list(fx->st, "a", 0, 0, &list, &err);
        if (r < 0)
            print_error("after restart: %s\n", err.message);
        assert_int_equal(r, 0);
        total = list.total;
        store_run_list_release(&list);
        assert_int_equal(total, 100 * (round + 1));
    }
}

static void test_server_down_then_back(void **state)
{
    struct fixture *fx = *state;
    struct store_error err = {0};
    create_job(fx->st, "a");
    pg_fixture_pause();
    struct store_job job;
    assert_int_equal(store_job_get(fx->st, "a", &job, &err), -ENOTCONN);
    /* Inside the backoff the store does not even try: no wait per call. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = store_job_get(fx->st, "a", &job, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(r, -ENOTCONN);
    assert_non_null(strstr(err.message, "not connected"));
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 50);
    assert_int_equal(store_begin(fx->st, &err), -ENOTCONN);
    pg_fixture_resume();
    /* Back by itself within the longest backoff. */
    r = -1;
    for (int i = 0; i < 200 && r != 0; i++) {
        r = store_job_get(fx->st, "a", &job, &err);
        if (r != 0)
            usleep(50000);
    }
    assert_int_equal(r, 0);
    store_job_release(&job);
    create_job(fx->st, "b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_open_errors_never_show_the_password),
        cmocka_unit_test_setup_teardown(test_wrong_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_lock_gives_ebusy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_text_keeps_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminated_while_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminated_inside_a_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restart_keeps_acknowledged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_down_then_back, setup, teardown),
    };
    return cmocka_run_group_tests_name("store/postgres-only", tests, NULL, NULL);
}
