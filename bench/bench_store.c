/*
 * bench_store - how many run records a second the store writes, and what
 * that costs next to the plainest insert loop of its database: SQLite
 * (`bench_store`), or PostgreSQL (`bench_store postgres`: a server of its own
 * started with tests/lib/pgserver.py --fsync, so commits are flushed to disk
 * as in production; OVSCHED_BENCH_PG_URL/OVSCHED_BENCH_PG_DIR use another).
 *
 * A run record is what the daemon writes for one run: its start (an insert of
 * a RUNNING run with the scheduled slot, so the at-most-once slot key, the
 * job's foreign key and every index are paid for) and its finish (an update to
 * COMPLETED with exit code, end time and a line of output).  The workload is
 * the daemon's steady state under group commit: each transaction finishes the
 * G runs the previous one started and starts G new ones, over 100 jobs, then
 * commits (WAL, synchronous=NORMAL: committed means it survives kill -9, see
 * store.h).  G is 100 and 1000.
 *
 * Two baselines, in the same process on the same disk:
 *   - plain: a raw sqlite3 connection with the same pragmas inserting rows
 *     (id, job_id, status, at_ms) into a table with no other index, in
 *     transactions of G rows.  The ratio is run records per second over plain
 *     rows per second; the brief's target is 0.5.  A run record is two
 *     statements touching four B-trees (the table, runs_by_job, the slot key,
 *     runs_live) where a plain row is one statement on one B-tree that only
 *     appends, so the ratio is printed per statement too;
 *   - same SQL: the store's own schema and statements issued by a raw loop,
 *     which shows what the store layer itself costs.
 * Target: 10,000 run records per second for both G.
 *
 * Also timed, for the start-up path: store_job_foreach() over JOBS jobs (1e6
 * by default, OVSCHED_BENCH_JOBS to change) with a 400-byte document each,
 * one store_job_last_slot() per job, and store_runs_mark_interrupted().  The
 * answers are checked: every run recorded is COMPLETED, every job is seen once.
 * Exit status 1 when a check fails or the run records per second miss the
 * target; a missed ratio is printed, not fatal.
 */
#include <errno.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_pg.h"
#include "store/store.h"

#define TARGET_RUNS_PER_S 10000.0
#define TARGET_RATIO      0.5
#define JOBS_FOR_RUNS     100
#define RUNS              200000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int r, const struct store_error *err)
{
    fprintf(stderr, "bench_store: %s: %s (%s)\n", what, strerror(-r), err ? err->message : "");
    exit(2);
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_store: %s: %s\n", sql, msg);
        exit(2);
    }
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove(path);
}

static void job_id(char *buf, size_t size, int i)
{
    snprintf(buf, size, "job-%07d", i);
}

/* The store for DIR: SQLite in the folder, or a PostgreSQL database named
 * after it (created empty by FRESH, else reopened). */
static struct store *open_store_at(const char *dir, bool fresh)
{
    struct store *st = NULL;
    char err[256];
    int r;
    if (g_bench_pg_url[0]) {
        char url[600];
        if (fresh)
            bench_pg_new_db(dir, url, sizeof(url));
        else
            snprintf(url, sizeof(url), "%.*s/%s",
                     (int)(strrchr(g_bench_pg_url, '/') - g_bench_pg_url), g_bench_pg_url,
                     strrchr(dir, '/') + 1);
        r = store_open_postgres(url, 0, &st, err, sizeof(err));
    } else {
        r = store_open_sqlite(dir, &st, err, sizeof(err));
    }
    if (r < 0) {
        fprintf(stderr, "bench_store: open %s: %s\n", dir, err);
        exit(2);
    }
    return st;
}

static struct store *open_store(const char *dir)
{
    return open_store_at(dir, true);
}

static void create_jobs(struct store *st, int count, size_t doc_size)
{
    char *doc = malloc(doc_size + 1);
    if (!doc)
        exit(2);
    struct store_error err;
    int r = store_begin(st, &err);
    if (r < 0)
        die("begin", r, &err);
    for (int i = 0; i < count; i++) {
        char id[32];
        job_id(id, sizeof(id), i);
        int n = snprintf(doc, doc_size + 1,
                         "{\"id\":\"%s\",\"name\":\"job %d\",\"status\":\"ACTIVE\","
                         "\"executor\":{\"type\":\"shell\",\"command\":[\"/bin/true\"]},"
                         "\"metadata\":{\"scheduling\":{\"cron\":\"*/5 * * * *\","
                         "\"timezone\":\"UTC\"}},\"payload\":\"",
                         id, i);
        while ((size_t)n < doc_size - 2)
            doc[n++] = 'p';
        memcpy(doc + n, "\"}", 3);
        struct store_job job = {.id = id,
                                .campaign_id = i % 10,
                                .status = "ACTIVE",
                                .json = doc,
                                .created_at_ms = 1700000000000 + i};
        r = store_job_create(st, &job, &err);
        if (r < 0)
            die("job create", r, &err);
        if (i % 10000 == 9999) {
            if ((r = store_commit(st, &err)) < 0 || (r = store_begin(st, &err)) < 0)
                die("commit", r, &err);
        }
    }
    r = store_commit(st, &err);
    if (r < 0)
        die("commit", r, &err);
    free(doc);
}

/* The daemon's steady state: each transaction finishes the previous G runs and
 * starts G new ones.  Returns run records per second. */
static double bench_runs(const char *dir, int group, bool *ok)
{
    struct store *st = open_store(dir);
    struct store_error err;
    char ids[JOBS_FOR_RUNS][32];
    create_jobs(st, JOBS_FOR_RUNS, 400);
    for (int j = 0; j < JOBS_FOR_RUNS; j++)
        job_id(ids[j], sizeof(ids[j]), j);
    const int64_t base_ms = 1800000000000;
    int r;

    double start = now_s();
    for (uint64_t first = 1; first <= RUNS + (uint64_t)group; first += (uint64_t)group) {
        if ((r = store_begin(st, &err)) < 0)
            die("begin", r, &err);
        /* Finish the runs the previous transaction started. */
        for (uint64_t id = first - (uint64_t)group; first > 1 && id < first; id++) {
            struct store_run run = {.id = id,
                                    .status = "COMPLETED",
                                    .attempt = 1,
                                    .started_at_ms = base_ms + (int64_t)id * 1000 + 3,
                                    .finished_at_ms = base_ms + (int64_t)id * 1000 + 250,
                                    .has_exit_code = true,
                                    .exit_code = 0,
                                    .output = "report written to /var/reports/weekly.pdf\n"};
            if ((r = store_run_update(st, &run, &err)) < 0)
                die("run update", r, &err);
        }
        /* Start new ones, each in its own slot. */
        for (uint64_t id = first; id < first + (uint64_t)group && id <= RUNS; id++) {
            struct store_run run = {.id = id,
                                    .job_id = ids[id % JOBS_FOR_RUNS],
                                    .status = "RUNNING",
                                    .trigger = STORE_TRIGGER_SCHEDULE,
                                    .attempt = 1,
                                    .scheduled_at_ms = base_ms + (int64_t)id * 1000,
                                    .started_at_ms = base_ms + (int64_t)id * 1000 + 3};
            if ((r = store_run_insert(st, &run, NULL, &err)) < 0)
                die("run insert", r, &err);
        }
        if ((r = store_commit(st, &err)) < 0)
            die("commit", r, &err);
    }
    double elapsed = now_s() - start;

    /* Check: every run is recorded once and finished. */
    int64_t total = 0;
    for (int j = 0; j < JOBS_FOR_RUNS; j++) {
        struct store_run_list list;
        if ((r = store_run_list(st, ids[j], 0, 1, &list, &err)) < 0)
            die("run list", r, &err);
        total += list.total;
        if (list.count != 1 || strcmp(list.items[0].status, "COMPLETED") != 0)
            *ok = false;
        store_run_list_release(&list);
    }
    if (total != RUNS)
        *ok = false;
    int interrupted = store_runs_mark_interrupted(st, base_ms, NULL, NULL, &err);
    if (interrupted != 0)
        *ok = false;
    store_close(st);
    return RUNS / elapsed;
}

/* The same workload as bench_runs() in raw SQLite: the store's own file and
 * schema, the statements store_sqlite.c runs, no store layer.  What the store
 * adds on top of SQLite is the difference. */
static double bench_raw_same_schema(const char *dir, int group)
{
    struct store *st = open_store(dir);
    create_jobs(st, JOBS_FOR_RUNS, 400);
    store_close(st);
    char path[512];
    snprintf(path, sizeof(path), "%s/ovsched.db", dir);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(2);
    exec_or_die(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                    "PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 4000;");
    static const char *const sql[] = {
        "INSERT INTO runs (id, job_id, status, trigger_kind, attempt, scheduled_at_ms,"
        " started_at_ms, finished_at_ms, exit_code, output, error, correlation_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        "INSERT OR IGNORE INTO runs_live (id) VALUES (?1)",
        "UPDATE runs SET status = ?2, attempt = ?3, started_at_ms = ?4, finished_at_ms = ?5,"
        " exit_code = ?6, output = ?7, error = ?8 WHERE id = ?1",
        "DELETE FROM runs_live WHERE id = ?1",
    };
    sqlite3_stmt *stmt[4];
    for (int i = 0; i < 4; i++)
        if (sqlite3_prepare_v2(db, sql[i], -1, &stmt[i], NULL) != SQLITE_OK) {
            fprintf(stderr, "bench_store: %s: %s\n", sql[i], sqlite3_errmsg(db));
            exit(2);
        }
    const int64_t base_ms = 1800000000000;
    double start = now_s();
    for (int64_t first = 1; first <= RUNS + group; first += group) {
        exec_or_die(db, "BEGIN IMMEDIATE");
        for (int64_t id = first - group; first > 1 && id < first; id++) {
            sqlite3_bind_int64(stmt[2], 1, id);
            sqlite3_bind_text(stmt[2], 2, "COMPLETED", -1, SQLITE_STATIC);
            sqlite3_bind_int(stmt[2], 3, 1);
            sqlite3_bind_int64(stmt[2], 4, base_ms + id * 1000 + 3);
            sqlite3_bind_int64(stmt[2], 5, base_ms + id * 1000 + 250);
            sqlite3_bind_int(stmt[2], 6, 0);
            sqlite3_bind_text(stmt[2], 7, "report written to /var/reports/weekly.pdf\n", -1,
                              SQLITE_STATIC);
            sqlite3_bind_null(stmt[2], 8);
            sqlite3_bind_int64(stmt[3], 1, id);
            for (int k = 2; k < 4; k++) {
                if (sqlite3_step(stmt[k]) != SQLITE_DONE)
                    exit(2);
                sqlite3_reset(stmt[k]);
            }
        }
        for (int64_t id = first; id < first + group && id <= RUNS; id++) {
            char job[32];
            job_id(job, sizeof(job), (int)(id % JOBS_FOR_RUNS));
            sqlite3_clear_bindings(stmt[0]);
            sqlite3_bind_int64(stmt[0], 1, id);
            sqlite3_bind_text(stmt[0], 2, job, -1, SQLITE_STATIC);
            sqlite3_bind_text(stmt[0], 3, "RUNNING", -1, SQLITE_STATIC);
            sqlite3_bind_text(stmt[0], 4, "schedule", -1, SQLITE_STATIC);
            sqlite3_bind_int(stmt[0], 5, 1);
            sqlite3_bind_int64(stmt[0], 6, base_ms + id * 1000);
            sqlite3_bind_int64(stmt[0], 7, base_ms + id * 1000 + 3);
            sqlite3_bind_int64(stmt[1], 1, id);
            for (int k = 0; k < 2; k++) {
                if (sqlite3_step(stmt[k]) != SQLITE_DONE)
                    exit(2);
                sqlite3_reset(stmt[k]);
            }
        }
        exec_or_die(db, "COMMIT");
    }
    double elapsed = now_s() - start;
    for (int i = 0; i < 4; i++)
        sqlite3_finalize(stmt[i]);
    sqlite3_close(db);
    return RUNS / elapsed;
}

/* The plain loop: ROWS inserts into a table with only its rowid, in
 * transactions of GROUP.  Returns rows per second. */
static double bench_plain(const char *dir, int group, const char *synchronous)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/plain-%d-%s.db", dir, group, synchronous);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        exit(2);
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s; PRAGMA cache_size = -32768;"
             "CREATE TABLE plain (id INTEGER PRIMARY KEY, job_id TEXT, status TEXT,"
             " at_ms INTEGER);",
             synchronous);
    exec_or_die(db, pragmas);
    sqlite3_stmt *insert = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO plain VALUES (?1, ?2, ?3, ?4)", -1, &insert, NULL) !=
        SQLITE_OK)
        exit(2);
    int rows = strcmp(synchronous, "FULL") == 0 ? RUNS / 10 : RUNS;
    double start = now_s();
    for (int first = 1; first <= rows; first += group) {
        exec_or_die(db, "BEGIN");
        for (int id = first; id < first + group && id <= rows; id++) {
            char job[32];
            job_id(job, sizeof(job), id % JOBS_FOR_RUNS);
            sqlite3_bind_int64(insert, 1, id);
            sqlite3_bind_text(insert, 2, job, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(insert, 3, "RUNNING", -1, SQLITE_STATIC);
            sqlite3_bind_int64(insert, 4, 1800000000000 + (int64_t)id * 1000);
            if (sqlite3_step(insert) != SQLITE_DONE)
                exit(2);
            sqlite3_reset(insert);
        }
        exec_or_die(db, "COMMIT");
    }
    double elapsed = now_s() - start;
    sqlite3_finalize(insert);
    sqlite3_close(db);
    return rows / elapsed;
}

/* PostgreSQL's plain loop: ROWS prepared inserts of (id, job_id, status,
 * at_ms) into a table with only its primary key, in transactions of GROUP,
 * one round trip each.  Returns rows per second. */
static double bench_pg_plain(const char *dir, int group)
{
    char url[600];
    bench_pg_new_db(dir, url, sizeof(url));
    PGconn *conn = PQconnectdb(url);
    bench_pg_exec(url, "CREATE TABLE plain (id bigint PRIMARY KEY, job_id text, status text,"
                       " at_ms bigint)");
    PGresult *res = PQprepare(conn, "ins", "INSERT INTO plain VALUES ($1, $2, $3, $4)", 0, NULL);
    PQclear(res);
    double start = now_s();
    for (int first = 1; first <= RUNS; first += group) {
        PQclear(PQexec(conn, "BEGIN"));
        for (int id = first; id < first + group && id <= RUNS; id++) {
            char ids[24], job[32], at[24];
            snprintf(ids, sizeof(ids), "%d", id);
            job_id(job, sizeof(job), id % JOBS_FOR_RUNS);
            snprintf(at, sizeof(at), "%lld", 1800000000000LL + (long long)id * 1000);
            const char *values[4] = {ids, job, "RUNNING", at};
            res = PQexecPrepared(conn, "ins", 4, values, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "bench_store: plain insert: %s", PQerrorMessage(conn));
                exit(2);
            }
            PQclear(res);
        }
        PQclear(PQexec(conn, "COMMIT"));
    }
    double elapsed = now_s() - start;
    PQfinish(conn);
    return RUNS / elapsed;
}

static bool bench_startup(const char *dir, int jobs);

/* `bench_store postgres`: the same workloads on PostgreSQL. */
static int main_postgres(const char *dir, int jobs)
{
    bench_pg_start();
    bool ok = true, fast = true;
    PGconn *conn = PQconnectdb(g_bench_pg_url);
    printf("bench_store: PostgreSQL %d (libpq %d), %d run records per figure, %d jobs;"
           " fsync on, synchronous_commit on\n",
           PQserverVersion(conn), PQlibVersion(), RUNS, JOBS_FOR_RUNS);
    PQfinish(conn);
    printf("run record = insert RUNNING + update COMPLETED, each batch one transaction\n");
    static const int groups[] = {100, 1000};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        char sub[600];
        snprintf(sub, sizeof(sub), "%s/bench_g%d", dir, groups[i]);
        double runs = bench_runs(sub, groups[i], &ok);
        snprintf(sub, sizeof(sub), "%s/bench_plain%d", dir, groups[i]);
        double plain = bench_pg_plain(sub, groups[i]);
        printf("group commit %4d: %7.0f run records/s (%.1f us each); plain prepared inserts"
               " %7.0f rows/s (one round trip each); ratio %.2f\n",
               groups[i], runs, 1e6 / runs, plain, runs / plain);
        fast &= runs >= TARGET_RUNS_PER_S;
    }
    if (jobs > 0) {
        char sub[600];
        snprintf(sub, sizeof(sub), "%s/bench_startup", dir);
        ok &= bench_startup(sub, jobs);
    }
    if (!ok)
        printf("FAIL: a check of the stored records failed\n");
    /* SQLite's target, for scale: on PostgreSQL each run insert is a round
     * trip (its answer is needed at once), see docs/storage.md. */
    if (!fast)
        printf("MISSED: below %.0f run records/s (SQLite's target; not an error here)\n",
               TARGET_RUNS_PER_S);
    return ok ? 0 : 1;
}

struct load {
    int64_t jobs;
    int64_t bytes;
};

static int load_cb(const struct store_job *job, void *userdata)
{
    struct load *load = userdata;
    load->jobs++;
    load->bytes += (int64_t)strlen(job->json);
    return 0;
}

static bool bench_startup(const char *dir, int jobs)
{
    struct store *st = open_store(dir);
    struct store_error err;
    int r;
    double start = now_s();
    create_jobs(st, jobs, 400);
    double created = now_s() - start;
    /* One scheduled run for every tenth job, so last_slot finds some. */
    if ((r = store_begin(st, &err)) < 0)
        die("begin", r, &err);
    for (int i = 0; i < jobs; i += 10) {
        char id[32];
        job_id(id, sizeof(id), i);
        struct store_run run = {.job_id = id,
                                .status = i % 20 ? "COMPLETED" : "RUNNING",
                                .trigger = STORE_TRIGGER_SCHEDULE,
                                .scheduled_at_ms = 1800000000000 + i};
        if ((r = store_run_insert(st, &run, NULL, &err)) < 0)
            die("run insert", r, &err);
    }
    if ((r = store_commit(st, &err)) < 0)
        die("commit", r, &err);
    store_close(st);

    /* A restart: open, load every job, recover runs, read every last slot. */
    start = now_s();
    st = open_store_at(dir, false);
    double opened = now_s() - start;
    struct load load = {0};
    start = now_s();
    if ((r = store_job_foreach(st, load_cb, &load, &err)) < 0)
        die("foreach", r, &err);
    double loaded = now_s() - start;
    start = now_s();
    int interrupted = store_runs_mark_interrupted(st, 1, NULL, NULL, &err);
    if (interrupted < 0)
        die("mark interrupted", interrupted, &err);
    double marked = now_s() - start;
    start = now_s();
    int with_slot = 0;
    for (int i = 0; i < jobs; i++) {
        char id[32];
        int64_t slot;
        job_id(id, sizeof(id), i);
        r = store_job_last_slot(st, id, &slot, &err);
        if (r == 0)
            with_slot++;
        else if (r != -ENOENT)
            die("last slot", r, &err);
    }
    double slots = now_s() - start;
    store_close(st);

    printf("start-up with %d jobs (400-byte documents):\n", jobs);
    printf("  create (batches of 10000)       %8.2f s  %10.0f jobs/s\n", created, jobs / created);
    printf("  open                            %8.3f s\n", opened);
    printf("  store_job_foreach               %8.3f s  %10.0f jobs/s  (%.0f MB of JSON)\n", loaded,
           load.jobs / loaded, (double)load.bytes / 1e6);
    printf("  store_runs_mark_interrupted     %8.3f s  (%d runs)\n", marked, interrupted);
    printf("  store_job_last_slot per job     %8.3f s  %10.2f us/job\n", slots, slots * 1e6 / jobs);
    return load.jobs == jobs && with_slot == (jobs + 9) / 10 && interrupted == (jobs + 19) / 20;
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/ovsched-bench-store-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    const char *env = getenv("OVSCHED_BENCH_JOBS");
    int jobs = env ? atoi(env) : 1000000;
    if (argc > 1 && strcmp(argv[1], "postgres") == 0) {
        int r = main_postgres(dir, jobs);
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return r;
    }
    bool ok = true, fast = true, ratio_met = true;

    printf("bench_store: SQLite %s, %d run records per figure, %d jobs\n", sqlite3_libversion(),
           RUNS, JOBS_FOR_RUNS);
    printf("run record = insert RUNNING + update COMPLETED; WAL, synchronous=NORMAL\n");
    static const int groups[] = {100, 1000};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        char sub[sizeof(dir) + 32];
        snprintf(sub, sizeof(sub), "%s/g%d", dir, groups[i]);
        double runs = bench_runs(sub, groups[i], &ok);
        snprintf(sub, sizeof(sub), "%s/raw%d", dir, groups[i]);
        double raw = bench_raw_same_schema(sub, groups[i]);
        double plain = bench_plain(dir, groups[i], "NORMAL");
        double ratio = runs / plain;
        printf("group commit %4d: %7.0f run records/s (%.1f us each); plain inserts %7.0f rows/s;"
               " ratio %.2f (%.2f per statement);"
               " same SQL without the store layer %7.0f/s (store at %.0f%%)\n",
               groups[i], runs, 1e6 / runs, plain, ratio, 2 * ratio, raw, 100 * runs / raw);
        fast &= runs >= TARGET_RUNS_PER_S;
        ratio_met &= ratio >= TARGET_RATIO;
    }
    double full = bench_plain(dir, 100, "FULL");
    printf("for scale: plain inserts with synchronous=FULL (fsync per commit), batches of 100: "
           "%.0f rows/s\n",
           full);
    if (jobs > 0) {
        char sub[sizeof(dir) + 32];
        snprintf(sub, sizeof(sub), "%s/startup", dir);
        ok &= bench_startup(sub, jobs);
    }
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (!ok)
        printf("FAIL: a check of the stored records failed\n");
    if (!fast)
        printf("FAIL: below %.0f run records/s\n", TARGET_RUNS_PER_S);
    if (!ratio_met)
        printf("MISSED: ratio target %.2f (a record is 2 statements on 4 B-trees against 1 on 1;"
               " not an error)\n",
               TARGET_RATIO);
    return ok && fast ? 0 : 1;
}
