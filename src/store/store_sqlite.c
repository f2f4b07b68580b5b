/*
 * store_sqlite - the store on one SQLite file, DATA_DIR/ovsched.db, in WAL mode.
 *
 * Workload: a few job writes a minute; run records at up to tens of thousands
 * a second (a start and a finish per run), written in batches the daemon
 * commits together; a start-up that reads every job (up to a million), marks
 * the runs a crash left behind and asks each job for its last settled slot;
 * and API reads of one job's page of runs.  So:
 *   - every statement is prepared once at open (SQLITE_PREPARE_PERSISTENT) and
 *     reset after each use; strings are bound without copies (SQLITE_STATIC)
 *     and bindings are cleared before a call returns;
 *   - jobs keep their JSON document in the last column, after the columns the
 *     store filters on, so counting and listing never touch overflow pages;
 *   - runs are a rowid table (the run id is the rowid).  What a run write
 *     costs is the B-tree pages it dirties, since each commit writes every
 *     dirtied page whole to the WAL: an index keyed by job first has one hot
 *     leaf per job, so a commit of runs of N jobs dirties N leaves per such
 *     index.  Hence exactly one job-first index, runs_by_job (job_id,
 *     scheduled_at_ms), which serves history pages (newest slot first), the
 *     last slot of a job, and the cascade of a job delete; the at-most-once
 *     rule for slots is a partial UNIQUE index in time order (scheduled_at_ms,
 *     job_id) WHERE trigger_kind = 'schedule', whose inserts land near its
 *     right edge like appends (same uniqueness as job first);
 *   - runs still PENDING/RUNNING/RETRYING are listed in runs_live (id), kept
 *     in step by every run write, so start-up recovery reads a handful of rows
 *     instead of the history.  Measured: a partial index on runs WHERE status
 *     IN (...) costs about twice the CPU of this table per run record;
 *   - run ids are never reused: deleting a job (and its runs) first records the
 *     highest run id in `meta`, and store_run_max_id() is the larger of that
 *     and MAX(id).  This costs nothing per insert, unlike AUTOINCREMENT;
 *   - the WAL is checkpointed at 16 MiB rather than 4 MiB: fewer fsyncs.
 *
 * Transactions: outside a batch a single statement runs in autocommit mode; an
 * operation of several statements runs in BEGIN IMMEDIATE .. COMMIT (taking
 * the write lock first, so it never fails half-way on a lock upgrade).  Inside
 * a batch, job deletes and start-up recovery use a SAVEPOINT, so a failed one
 * leaves the rest of the batch alone; run writes (a statement on runs, one on
 * runs_live) use none, for speed: their second statement can only fail on a
 * backend error, and then the batch is poisoned (see pair_begin()).  A read of
 * several statements (a page and its total) runs in one deferred transaction:
 * one WAL snapshot.
 *
 * Schema changes are a list of steps below; a step is never edited once
 * released, a change is a new step.  PRAGMA user_version holds the number of
 * steps applied.  All missing steps run in one transaction at open.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "store/internal.h"

#define DB_FILE            "ovsched.db"
#define MIN_SQLITE_VERSION 3035000 /* RETURNING */
#define LOCK_TIMEOUT_MS    5000
#define JOURNAL_SIZE_LIMIT (64 * 1024 * 1024) /* WAL file kept after a checkpoint */
#define CACHE_SIZE_KIB     32768
/* Checkpoint (and fsync) when the WAL reaches 16 MiB instead of SQLite's 4 MiB:
 * a quarter of the checkpoints, +10-20% run records per second. */
#define WAL_CHECKPOINT_PAGES 4000

/* ---- Schema ------------------------------------------------------------- */

static const char *const migrations[] = {
    /* 1: jobs, runs, decisions, meta. */
    "CREATE TABLE jobs ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  campaign_id INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL,"
    "  json TEXT NOT NULL);"
    "CREATE INDEX jobs_by_created ON jobs(created_at_ms, id);"
    "CREATE INDEX jobs_by_status ON jobs(status, created_at_ms, id);"
    "CREATE INDEX jobs_by_campaign ON jobs(campaign_id, created_at_ms, id);"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  trigger_kind TEXT NOT NULL,"
    "  scheduled_at_ms INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  attempt INTEGER NOT NULL,"
    "  started_at_ms INTEGER,"
    "  finished_at_ms INTEGER,"
    "  exit_code INTEGER,"
    "  correlation_id TEXT,"
    "  error TEXT,"
    "  output TEXT);"
    "CREATE INDEX runs_by_job ON runs(job_id, scheduled_at_ms);"
    "CREATE UNIQUE INDEX runs_slot ON runs(scheduled_at_ms, job_id)"
    "  WHERE trigger_kind = 'schedule';"
    "CREATE TABLE runs_live (id INTEGER PRIMARY KEY);"
    "CREATE TABLE decisions ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL,"
    "  first_slot_ms INTEGER NOT NULL,"
    "  last_slot_ms INTEGER NOT NULL,"
    "  slot_count INTEGER NOT NULL,"
    "  run_id INTEGER,"
    "  at_ms INTEGER NOT NULL,"
    "  reason TEXT);"
    "CREATE INDEX decisions_by_job ON decisions(job_id, id);"
    "CREATE INDEX decisions_last_slot ON decisions(job_id, last_slot_ms) WHERE slot_count > 0;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;",
    /* 2: the first build with schema 1 (commit 5ad25d4) did not fill
     * runs_live yet; list the live runs it may have left. */
    "INSERT OR IGNORE INTO runs_live (id)"
    "  SELECT id FROM runs WHERE status IN ('PENDING', 'RUNNING', 'RETRYING');",
    /* 3: the daemon's digest of each job, read at start-up (store_job.digest). */
    "ALTER TABLE jobs ADD COLUMN digest BLOB;",
    /* 4 (auth; the events step may come before it at merge): API tokens, kept
     * as hashes of their secrets, and the audit log of mutations.  IF NOT
     * EXISTS: the step may be renumbered, and tests fake old files by their
     * user_version alone. */
    "CREATE TABLE IF NOT EXISTS tokens ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  name TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  campaign_id INTEGER,"
    "  hash BLOB NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  revoked_at_ms INTEGER,"
    "  created_by TEXT);"
    "CREATE TABLE IF NOT EXISTS audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at_ms INTEGER NOT NULL,"
    "  actor_id TEXT NOT NULL,"
    "  actor_name TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT,"
    "  campaign_id INTEGER,"
    "  before_json TEXT,"
    "  after_json TEXT);"
    "CREATE INDEX IF NOT EXISTS audit_by_target ON audit(target, id);",
    /* 5: the event log (src/events): seq is the rowid, assigned by the daemon
     * with no gaps; type, job and tenant are columns so a replay filters
     * without parsing the envelope. */
    "CREATE TABLE IF NOT EXISTS events ("
    "  seq INTEGER PRIMARY KEY,"
    "  at_ms INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  job_id TEXT,"
    "  campaign_id INTEGER NOT NULL,"
    "  json TEXT NOT NULL);",
    /* 6 (patterns): patterns, idempotency keys of
     * orchestration triggers, the context of orchestrated runs, and the runs
     * of a flow by correlation id (partial: runs without one cost nothing).
     * IF NOT EXISTS: the step may be renumbered at merge time. */
    "CREATE TABLE IF NOT EXISTS patterns ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  revision INTEGER NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL,"
    "  nexus_status TEXT,"
    "  json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS idempotency_keys ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  run_id INTEGER,"
    "  created_at_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency_keys(created_at_ms);"
    "CREATE TABLE IF NOT EXISTS run_contexts ("
    "  run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
    "  json TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS runs_by_correlation ON runs(correlation_id, id)"
    "  WHERE correlation_id IS NOT NULL;",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SQLITE_SCHEMA_VERSION,
               "STORE_SQLITE_SCHEMA_VERSION must count the migration steps");

/* ---- Statements --------------------------------------------------------- */

#define JOB_COLS "id, campaign_id, status, json, version, created_at_ms, updated_at_ms"
#define RUN_COLS                                                                                   \
    "id, job_id, status, trigger_kind, attempt, scheduled_at_ms, started_at_ms, "                  \
    "finished_at_ms, exit_code, output, error, correlation_id"
#define LIVE_STATUSES "('PENDING', 'RUNNING', 'RETRYING')"
#define MAX_RUN_ID                                                                                 \
    "max(IFNULL((SELECT MAX(id) FROM runs), 0),"                                                   \
    "    IFNULL((SELECT value FROM meta WHERE key = 'run_id_floor'), 0))"
#define TOKEN_COLS "id, name, role, campaign_id, hash, created_at_ms, created_by, revoked_at_ms"
#define AUDIT_COLS                                                                                 \
    "id, at_ms, actor_id, actor_name, action, target, campaign_id, before_json, after_json"
/* Filters of ListAuditLog: target ?1, actor id or name ?2, since ?3, tenant ?4. */
#define AUDIT_WHERE                                                                                \
    " WHERE (?1 IS NULL OR target = ?1) AND (?2 IS NULL OR actor_id = ?2 OR actor_name = ?2)"      \
    " AND at_ms >= ?3 AND (?4 IS NULL OR campaign_id = ?4)"
#define PATTERN_COLS "id, json, nexus_status, revision, created_at_ms, updated_at_ms"
#define RUN_VALUES   "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12"

/* The four job filters: none, status (?1), campaign (?2), both. */
#define WHERE_NONE     ""
#define WHERE_STATUS   " WHERE status = ?1"
#define WHERE_CAMPAIGN " WHERE campaign_id = ?2"
#define WHERE_BOTH     " WHERE status = ?1 AND campaign_id = ?2"
#define JOB_PAGE(where)                                                                            \
    "SELECT " JOB_COLS " FROM jobs" where " ORDER BY created_at_ms, id LIMIT ?3 OFFSET ?4"
#define JOB_COUNT(where) "SELECT COUNT(*) FROM jobs" where

enum {
    S_BEGIN_IMMEDIATE,
    S_BEGIN_READ,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE,
    S_ROLLBACK_TO,
    S_JOB_INSERT,
    S_JOB_UPDATE,
    S_JOB_EXISTS,
    S_JOB_DELETE,
    S_RUN_FLOOR_SAVE,
    S_JOB_GET,
    S_JOB_PAGE,                   /* + filter mask 0..3 */
    S_JOB_COUNT = S_JOB_PAGE + 4, /* + filter mask 0..3 */
    S_JOB_ALL = S_JOB_COUNT + 4,
    S_JOB_LAST_SLOT,
    S_RUN_INSERT,
    S_RUN_INSERT_AUTO,
    S_RUN_UPDATE,
    S_RUN_GET,
    S_RUN_PAGE,
    S_RUN_COUNT,
    S_RUN_LIVE,
    S_RUN_INTERRUPT,
    S_LIVE_ADD,
    S_LIVE_REMOVE,
    S_LIVE_CLEAR,
    S_RUN_RELEASE,
    S_MARK_SET,
    S_MARK_GET,
    S_MARK_CLEAR,
    S_LIVE_PRUNE,
    S_LIVE_DROP_JOB,
    S_RUN_MAX_ID,
    S_DECISION_INSERT,
    S_DECISION_PAGE,
    S_TOKEN_INSERT,
    S_TOKEN_GET,
    S_TOKEN_ALL,
    S_TOKEN_REVOKE,
    S_AUDIT_INSERT,
    S_AUDIT_COUNT,
    S_AUDIT_PAGE,
    S_EVENT_INSERT,
    S_EVENT_SINCE,
    S_EVENT_BOUNDS,
    S_EVENT_PRUNE,
    S_PATTERN_PUT,
    S_PATTERN_GET,
    S_PATTERN_ALL,
    S_PATTERN_DELETE,
    S_PATTERN_NEXUS,
    S_IDEM_CLAIM,
    S_IDEM_GET,
    S_IDEM_SET,
    S_IDEM_DROP,
    S_IDEM_PRUNE,
    S_RUN_BY_CORRELATION,
    S_CONTEXT_PUT,
    S_CONTEXT_GET,
    S_COUNT
};

static const char *const statement_sql[S_COUNT] = {
    [S_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT op",
    [S_RELEASE] = "RELEASE op",
    [S_ROLLBACK_TO] = "ROLLBACK TO op",
    [S_JOB_INSERT] = "INSERT INTO jobs (id, version, campaign_id, status, created_at_ms,"
                     " updated_at_ms, json, digest) VALUES (?1, 1, ?2, ?3, ?4, ?4, ?5, ?7)",
    [S_JOB_UPDATE] = "UPDATE jobs SET version = version + 1, campaign_id = ?2, status = ?3,"
                     " updated_at_ms = ?4, json = ?5, digest = ?7"
                     " WHERE id = ?1 AND (?6 = 0 OR version = ?6) RETURNING version",
    [S_JOB_EXISTS] = "SELECT 1 FROM jobs WHERE id = ?1",
    [S_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1",
    [S_RUN_FLOOR_SAVE] = "INSERT INTO meta (key, value)"
                         " SELECT 'run_id_floor', IFNULL(MAX(id), 0) FROM runs WHERE true"
                         " ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
    [S_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
    [S_JOB_PAGE + 0] = JOB_PAGE(WHERE_NONE),
    [S_JOB_PAGE + 1] = JOB_PAGE(WHERE_STATUS),
    [S_JOB_PAGE + 2] = JOB_PAGE(WHERE_CAMPAIGN),
    [S_JOB_PAGE + 3] = JOB_PAGE(WHERE_BOTH),
    [S_JOB_COUNT + 0] = JOB_COUNT(WHERE_NONE),
    [S_JOB_COUNT + 1] = JOB_COUNT(WHERE_STATUS),
    [S_JOB_COUNT + 2] = JOB_COUNT(WHERE_CAMPAIGN),
    [S_JOB_COUNT + 3] = JOB_COUNT(WHERE_BOTH),
    /* The last settled slot rides along (as S_JOB_LAST_SLOT): one statement
     * loads a million jobs, instead of a million more. */
    [S_JOB_ALL] = "SELECT " JOB_COLS ", digest, (SELECT MAX(slot) FROM ("
                  " SELECT (SELECT scheduled_at_ms FROM runs"
                  "          WHERE job_id = jobs.id AND trigger_kind = 'schedule'"
                  "          ORDER BY scheduled_at_ms DESC LIMIT 1) AS slot"
                  " UNION ALL"
                  " SELECT MAX(last_slot_ms) FROM decisions"
                  "  WHERE job_id = jobs.id AND slot_count > 0)) FROM jobs",
    [S_JOB_LAST_SLOT] = "SELECT MAX(slot) FROM ("
                        " SELECT (SELECT scheduled_at_ms FROM runs"
                        "          WHERE job_id = ?1 AND trigger_kind = 'schedule'"
                        "          ORDER BY scheduled_at_ms DESC LIMIT 1) AS slot"
                        " UNION ALL"
                        " SELECT MAX(last_slot_ms) FROM decisions"
                        "  WHERE job_id = ?1 AND slot_count > 0)",
    [S_RUN_INSERT] = "INSERT INTO runs (" RUN_COLS ") VALUES (?1, " RUN_VALUES ")",
    [S_RUN_INSERT_AUTO] =
        "INSERT INTO runs (" RUN_COLS ") VALUES (" MAX_RUN_ID " + 1, " RUN_VALUES ")",
    [S_RUN_UPDATE] = "UPDATE runs SET status = ?2, attempt = ?3, started_at_ms = ?4,"
                     " finished_at_ms = ?5, exit_code = ?6, output = ?7, error = ?8"
                     " WHERE id = ?1",
    [S_RUN_GET] = "SELECT " RUN_COLS " FROM runs WHERE id = ?1",
    [S_RUN_PAGE] = "SELECT " RUN_COLS " FROM runs WHERE job_id = ?1"
                   " ORDER BY scheduled_at_ms DESC, id DESC LIMIT ?2 OFFSET ?3",
    [S_RUN_COUNT] = "SELECT COUNT(*) FROM runs WHERE job_id = ?1",
    [S_RUN_LIVE] = "SELECT " RUN_COLS " FROM runs WHERE id IN (SELECT id FROM runs_live)"
                   " AND status IN " LIVE_STATUSES " ORDER BY id",
    [S_RUN_INTERRUPT] = "UPDATE runs SET status = 'INTERRUPTED', finished_at_ms = ?1,"
                        " error = IFNULL(error, ?2 || status)"
                        " WHERE id IN (SELECT id FROM runs_live) AND status IN " LIVE_STATUSES,
    [S_LIVE_ADD] = "INSERT OR IGNORE INTO runs_live (id) VALUES (?1)",
    [S_LIVE_REMOVE] = "DELETE FROM runs_live WHERE id = ?1",
    [S_LIVE_CLEAR] = "DELETE FROM runs_live",
    [S_RUN_RELEASE] = "DELETE FROM runs WHERE id IN (SELECT id FROM runs_live)"
                      " AND status = 'PENDING' AND trigger_kind = 'schedule'"
                      " AND started_at_ms IS NULL AND attempt = 0 AND scheduled_at_ms > ?1"
                      " AND (?2 = 0 OR id = ?2)",
    [S_MARK_SET] = "INSERT INTO meta (key, value) VALUES ('launch_mark', ?1)"
                   " ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
    [S_MARK_GET] = "SELECT value FROM meta WHERE key = 'launch_mark'",
    [S_MARK_CLEAR] = "DELETE FROM meta WHERE key = 'launch_mark'",
    [S_LIVE_PRUNE] = "DELETE FROM runs_live WHERE id NOT IN (SELECT id FROM runs)",
    [S_LIVE_DROP_JOB] = "DELETE FROM runs_live WHERE id IN (SELECT id FROM runs WHERE job_id = ?1)",
    [S_RUN_MAX_ID] = "SELECT " MAX_RUN_ID,
    [S_DECISION_INSERT] =
        "INSERT INTO decisions (job_id, kind, first_slot_ms, last_slot_ms,"
        " slot_count, run_id, at_ms, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_DECISION_PAGE] = "SELECT id, job_id, kind, first_slot_ms, last_slot_ms, slot_count, run_id,"
                        " at_ms, reason FROM decisions WHERE job_id = ?1"
                        " ORDER BY id DESC LIMIT ?2",
    [S_TOKEN_INSERT] =
        "INSERT INTO tokens (" TOKEN_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
    [S_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1",
    [S_TOKEN_ALL] = "SELECT " TOKEN_COLS " FROM tokens ORDER BY created_at_ms, id",
    [S_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at_ms = IFNULL(revoked_at_ms, ?2) WHERE id = ?1"
                       " RETURNING id",
    [S_AUDIT_INSERT] = "INSERT INTO audit (at_ms, actor_id, actor_name, action, target,"
                       " campaign_id, before_json, after_json)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_AUDIT_COUNT] = "SELECT COUNT(*) FROM audit" AUDIT_WHERE,
    [S_AUDIT_PAGE] =
        "SELECT " AUDIT_COLS " FROM audit" AUDIT_WHERE " ORDER BY id DESC LIMIT ?5 OFFSET ?6",
    [S_EVENT_INSERT] = "INSERT INTO events (seq, at_ms, type, job_id, campaign_id, json)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_EVENT_SINCE] = "SELECT seq, at_ms, type, job_id, campaign_id, json FROM events"
                      " WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
    /* Two subqueries: SQLite reads MIN or MAX of a rowid from the b-tree's
     * edge only when the query has that one aggregate; both at once scan. */
    [S_EVENT_BOUNDS] = "SELECT IFNULL((SELECT MIN(seq) FROM events), 0),"
                       " IFNULL((SELECT MAX(seq) FROM events), 0)",
    /* One seq range, so the delete walks the rowid b-tree from its start:
     * keep the ?1 newest and those from the first at or after ?2 (times rise
     * with seq), and always the newest: it carries the sequence across
     * restarts. */
    [S_EVENT_PRUNE] = "DELETE FROM events WHERE seq < min((SELECT MAX(seq) FROM events),"
                      " max((SELECT MAX(seq) FROM events) - ?1 + 1,"
                      "     IFNULL((SELECT seq FROM events WHERE at_ms >= ?2 ORDER BY seq LIMIT 1),"
                      "            (SELECT MAX(seq) FROM events))))",
    [S_PATTERN_PUT] = "INSERT INTO patterns (id, revision, created_at_ms, updated_at_ms,"
                      " nexus_status, json) VALUES (?1, 1, ?2, ?2, ?3, ?4)"
                      " ON CONFLICT (id) DO UPDATE SET revision = revision + 1,"
                      " updated_at_ms = ?2, nexus_status = ?3, json = ?4 RETURNING revision",
    [S_PATTERN_GET] = "SELECT " PATTERN_COLS " FROM patterns WHERE id = ?1",
    [S_PATTERN_ALL] = "SELECT " PATTERN_COLS " FROM patterns ORDER BY id",
    [S_PATTERN_DELETE] = "DELETE FROM patterns WHERE id = ?1",
    [S_PATTERN_NEXUS] = "UPDATE patterns SET nexus_status = ?3 WHERE id = ?1 AND revision = ?2",
    [S_IDEM_CLAIM] = "INSERT INTO idempotency_keys (key, run_id, created_at_ms)"
                     " VALUES (?1, NULL, ?2) ON CONFLICT (key) DO NOTHING",
    [S_IDEM_GET] = "SELECT IFNULL(run_id, 0) FROM idempotency_keys WHERE key = ?1",
    [S_IDEM_SET] = "UPDATE idempotency_keys SET run_id = ?2 WHERE key = ?1",
    [S_IDEM_DROP] = "DELETE FROM idempotency_keys WHERE key = ?1",
    [S_IDEM_PRUNE] = "DELETE FROM idempotency_keys WHERE created_at_ms < ?1",
    [S_RUN_BY_CORRELATION] = "SELECT " RUN_COLS " FROM runs WHERE correlation_id = ?1"
                             " ORDER BY id LIMIT ?2",
    [S_CONTEXT_PUT] = "INSERT OR REPLACE INTO run_contexts (run_id, json) VALUES (?1, ?2)",
    [S_CONTEXT_GET] = "SELECT json FROM run_contexts WHERE run_id = ?1",
};

/* The parameters of S_RUN_INSERT are the columns of RUN_COLS (RC_*) plus one. */

struct sq {
    struct store base; /* first: a struct store * is a struct sq * */
    sqlite3 *db;
    bool in_batch;
    bool batch_poisoned; /* a write failed half-way inside the batch */
    sqlite3_stmt *stmt[S_COUNT];
};

static struct sq *sq_of(struct store *st)
{
    return (struct sq *)st;
}

/* ---- Errors and statement helpers --------------------------------------- */

static int errno_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    default:
        return -EIO;
    }
}

/* Map the failure RC of the last call on S's connection. */
static int fail(struct sq *s, int rc, struct store_error *reterr)
{
    return store_error_set(reterr, errno_of(rc), rc, "sqlite: %s", sqlite3_errmsg(s->db));
}

/* A constraint failure of an insert: the key is taken, or the job is not there. */
static int fail_insert(struct sq *s, int rc, const char *what, struct store_error *reterr)
{
    switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
        return store_error_set(reterr, -EEXIST, rc, "%s already exists (sqlite: %s)", what,
                               sqlite3_errmsg(s->db));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return store_error_set(reterr, -ENOENT, rc, "no such job");
    default:
        return fail(s, rc, reterr);
    }
}

static void done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

static void bind_text(sqlite3_stmt *stmt, int n, const char *text)
{
    if (text)
        sqlite3_bind_text(stmt, n, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, n);
}

/* 0 stands for "not set" in the run's times: NULL in the table. */
static void bind_ms(sqlite3_stmt *stmt, int n, int64_t ms)
{
    if (ms)
        sqlite3_bind_int64(stmt, n, ms);
    else
        sqlite3_bind_null(stmt, n);
}

/* Step a statement that returns no row, and reset it.  Returns SQLITE_DONE or
 * the failure code (read sqlite3_errmsg() before the next call). */
static int exec_stmt(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(stmt);
    done(stmt);
    return rc;
}

/* Column I as text, never NULL (a NULL in a NOT NULL column of a damaged file
 * reads as ""). */
static const char *col_text(sqlite3_stmt *stmt, int i, size_t *ret_len)
{
    const char *text = (const char *)sqlite3_column_text(stmt, i);
    *ret_len = text ? (size_t)sqlite3_column_bytes(stmt, i) : 0;
    return text ? text : "";
}

/* Column I as text or NULL. */
static const char *col_text_or_null(sqlite3_stmt *stmt, int i, size_t *ret_len)
{
    if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
        *ret_len = 0;
        return NULL;
    }
    return col_text(stmt, i, ret_len);
}

/* Inside a batch the backend may have rolled everything back after a failure
 * (I/O error, disk full, ...); then nothing may pretend to join the batch. */
static int check_batch(struct sq *s, struct store_error *reterr)
{
    if (s->in_batch && (s->batch_poisoned || sqlite3_get_autocommit(s->db)))
        return store_error_set(reterr, -EIO, 0,
                               "the batch was rolled back after an earlier error; "
                               "end it with store_commit() or store_rollback()");
    return 0;
}

/* ---- Transactions of one operation -------------------------------------- */

static int op_begin(struct sq *s, struct store_error *reterr)
{
    int rc = exec_stmt(s->stmt[s->in_batch ? S_SAVEPOINT : S_BEGIN_IMMEDIATE]);
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

/* End the operation: on R == 0 commit it (returning a commit failure), else
 * undo it and return R. */
static int op_end(struct sq *s, int r, struct store_error *reterr)
{
    if (r == 0) {
        int rc = exec_stmt(s->stmt[s->in_batch ? S_RELEASE : S_COMMIT]);
        if (rc == SQLITE_DONE)
            return 0;
        r = fail(s, rc, reterr);
    }
    if (sqlite3_get_autocommit(s->db))
        return r; /* SQLite already rolled the whole transaction back */
    if (s->in_batch) {
        exec_stmt(s->stmt[S_ROLLBACK_TO]);
        exec_stmt(s->stmt[S_RELEASE]);
    } else {
        exec_stmt(s->stmt[S_ROLLBACK]);
    }
    return r;
}

/* A run write is a statement on `runs` and one on `runs_live`, whose only
 * possible failures are backend failures.  Outside a batch the pair gets its
 * own transaction.  Inside, it gets none (a savepoint per run would cost a
 * sixth of the throughput): if the second statement fails after the first
 * succeeded, the batch is poisoned and can only be rolled back. */
static int pair_begin(struct sq *s, struct store_error *reterr)
{
    if (s->in_batch)
        return 0;
    int rc = exec_stmt(s->stmt[S_BEGIN_IMMEDIATE]);
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

/* End the pair with R; HALF_DONE says the first statement took effect. */
static int pair_end(struct sq *s, int r, bool half_done, struct store_error *reterr)
{
    if (s->in_batch) {
        if (r < 0 && half_done)
            s->batch_poisoned = true;
        return r;
    }
    return op_end(s, r, reterr);
}

static bool is_live(const char *status)
{
    return strcmp(status, STORE_RUN_RUNNING) == 0 || strcmp(status, STORE_RUN_PENDING) == 0 ||
           strcmp(status, STORE_RUN_RETRYING) == 0;
}

/* Keep runs_live in step with the status of run ID. */
static int track_live(struct sq *s, uint64_t id, const char *status, struct store_error *reterr)
{
    sqlite3_stmt *stmt = s->stmt[is_live(status) ? S_LIVE_ADD : S_LIVE_REMOVE];
    sqlite3_bind_int64(stmt, 1, (int64_t)id);
    int rc = exec_stmt(stmt);
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

/* A snapshot for reads of several statements; nothing to do inside a batch. */
static int read_begin(struct sq *s, struct store_error *reterr)
{
    if (s->in_batch)
        return 0;
    int rc = exec_stmt(s->stmt[S_BEGIN_READ]);
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

static void read_end(struct sq *s)
{
    if (!s->in_batch && !sqlite3_get_autocommit(s->db))
        exec_stmt(s->stmt[S_ROLLBACK]);
}

/* ---- Open, close, batches ----------------------------------------------- */

static const struct store_ops sqlite_ops;

static void sq_close(struct store *st)
{
    struct sq *s = sq_of(st);
    if (s->in_batch && !sqlite3_get_autocommit(s->db))
        exec_stmt(s->stmt[S_ROLLBACK]);
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close_v2(s->db);
    free(s);
}

static int sq_set_lock_timeout(struct store *st, int ms)
{
    sqlite3_busy_timeout(sq_of(st)->db, ms);
    return 0;
}

static int sq_begin(struct store *st, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    if (s->in_batch)
        return store_error_set(reterr, -EBUSY, 0, "a batch is already open");
    int rc = exec_stmt(s->stmt[S_BEGIN_IMMEDIATE]);
    if (rc != SQLITE_DONE)
        return fail(s, rc, reterr);
    s->in_batch = true;
    s->batch_poisoned = false;
    return 0;
}

static int sq_commit(struct store *st, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    if (!s->in_batch)
        return store_error_set(reterr, -EINVAL, 0, "no batch is open");
    int r = check_batch(s, reterr);
    s->in_batch = false;
    s->batch_poisoned = false;
    if (r < 0) {
        if (!sqlite3_get_autocommit(s->db))
            exec_stmt(s->stmt[S_ROLLBACK]);
        return r;
    }
    int rc = exec_stmt(s->stmt[S_COMMIT]);
    if (rc == SQLITE_DONE)
        return 0;
    r = fail(s, rc, reterr);
    if (!sqlite3_get_autocommit(s->db))
        exec_stmt(s->stmt[S_ROLLBACK]);
    return r;
}

static void sq_rollback(struct store *st)
{
    struct sq *s = sq_of(st);
    if (!s->in_batch)
        return;
    s->in_batch = false;
    s->batch_poisoned = false;
    if (!sqlite3_get_autocommit(s->db))
        exec_stmt(s->stmt[S_ROLLBACK]);
}

static void set_err(char *err, size_t err_size, const char *fmt, const char *arg)
{
    if (err && err_size > 0)
        snprintf(err, err_size, fmt, arg);
}

/* mkdir -p with mode 0700 for the folders it creates. */
static int make_dirs(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    int r = 0;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
            r = -errno;
            break;
        }
        *p = c;
        if (!c)
            break;
    }
    free(copy);
    if (r < 0)
        return r;
    struct stat info;
    if (stat(path, &info) < 0)
        return -errno;
    return S_ISDIR(info.st_mode) ? 0 : -ENOTDIR;
}

/* The database holds every tenant's jobs and the token hashes: owner only,
 * whatever the umask and whatever an older version left.  SQLite creates the
 * -wal and -shm files with the mode of the database file, so making that file
 * 0600 before SQLite opens it covers them too; existing ones are fixed here.
 * Returns 0 or a negative errno. */
static int db_files_restrict(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int r = fchmod(fd, 0600) < 0 ? -errno : 0;
    close(fd);
    for (const char *const *suffix = (const char *const[]){"-wal", "-shm", NULL}; r == 0 && *suffix;
         suffix++) {
        char side[PATH_MAX];
        snprintf(side, sizeof(side), "%s%s", path, *suffix);
        if (chmod(side, 0600) < 0 && errno != ENOENT)
            r = -errno;
    }
    return r;
}

/* Run the SQL of PRAGMA or migration TEXT.  Returns SQLITE_OK or the failure. */
static int exec_sql(sqlite3 *db, const char *text)
{
    return sqlite3_exec(db, text, NULL, NULL, NULL);
}

static int read_int(sqlite3 *db, const char *sql, int64_t *ret_value)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *ret_value = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_CORRUPT;
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int read_journal_mode(sqlite3 *db, char *mode, size_t size)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        snprintf(mode, size, "%s", text ? text : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Bring the schema to STORE_SQLITE_SCHEMA_VERSION.  Returns 0, -ENOTSUP for a
 * newer file, or the errno of an SQLite failure, with a sentence in ERR. */
static int migrate(sqlite3 *db, char *err, size_t err_size)
{
    int64_t version = 0;
    int rc = read_int(db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        goto sqlite_fail;
    if (version == STORE_SQLITE_SCHEMA_VERSION)
        return 0;

    rc = exec_sql(db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        goto sqlite_fail;
    /* Read again under the write lock: another process may have migrated. */
    rc = read_int(db, "PRAGMA user_version", &version);
    if (rc != SQLITE_OK)
        goto rollback;
    if (version < 0 || version > STORE_SQLITE_SCHEMA_VERSION) {
        exec_sql(db, "ROLLBACK");
        if (err && err_size > 0)
            snprintf(err, err_size,
                     "the database schema is version %lld, newer than this ovsched knows (%d)",
                     (long long)version, STORE_SQLITE_SCHEMA_VERSION);
        return -ENOTSUP;
    }
    for (int64_t step = version; step < STORE_SQLITE_SCHEMA_VERSION; step++) {
        rc = exec_sql(db, migrations[step]);
        if (rc != SQLITE_OK)
            goto rollback;
    }
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", STORE_SQLITE_SCHEMA_VERSION);
    rc = exec_sql(db, pragma);
    if (rc != SQLITE_OK)
        goto rollback;
    rc = exec_sql(db, "COMMIT");
    if (rc != SQLITE_OK)
        goto rollback;
    return 0;

rollback:
    set_err(err, err_size, "sqlite: migrating the schema: %s", sqlite3_errmsg(db));
    if (!sqlite3_get_autocommit(db))
        exec_sql(db, "ROLLBACK");
    return errno_of(rc);
sqlite_fail:
    set_err(err, err_size, "sqlite: %s", sqlite3_errmsg(db));
    return errno_of(rc);
}

int store_open_sqlite(const char *data_dir, struct store **ret_store, char *err, size_t err_size)
{
    struct sq *s = NULL;
    char *path = NULL;
    int r, rc;

    if (!data_dir || !*data_dir) {
        set_err(err, err_size, "%s", "the data folder is not set");
        return -EINVAL;
    }
    r = make_dirs(data_dir);
    if (r < 0) {
        if (err && err_size > 0)
            snprintf(err, err_size, "cannot create the data folder %s: %s", data_dir, strerror(-r));
        return r;
    }
    size_t size = strlen(data_dir) + sizeof("/" DB_FILE);
    path = malloc(size);
    s = calloc(1, sizeof(*s));
    if (!path || !s) {
        r = -ENOMEM;
        set_err(err, err_size, "%s", "out of memory");
        goto out;
    }
    snprintf(path, size, "%s/%s", data_dir, DB_FILE);
    s->base.ops = &sqlite_ops;

    if (sqlite3_libversion_number() < MIN_SQLITE_VERSION) {
        r = -ENOTSUP;
        set_err(err, err_size, "SQLite %s is too old: the store needs 3.35 or later",
                sqlite3_libversion());
        goto out;
    }
    if ((r = db_files_restrict(path)) < 0) {
        if (err && err_size > 0)
            snprintf(err, err_size, "cannot create %s with mode 0600: %s", path, strerror(-r));
        goto out;
    }
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        goto sqlite_fail;
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, LOCK_TIMEOUT_MS);

    char mode[16];
    rc = read_journal_mode(s->db, mode, sizeof(mode));
    if (rc != SQLITE_OK)
        goto sqlite_fail;
    if (strcmp(mode, "wal") != 0) {
        r = -EIO;
        set_err(err, err_size, "sqlite: cannot switch %s to WAL mode", path);
        goto out;
    }
    char pragmas[320];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
             "PRAGMA journal_size_limit = %d; PRAGMA cache_size = -%d;"
             "PRAGMA wal_autocheckpoint = %d; PRAGMA temp_store = MEMORY;",
             JOURNAL_SIZE_LIMIT, CACHE_SIZE_KIB, WAL_CHECKPOINT_PAGES);
    rc = exec_sql(s->db, pragmas);
    if (rc != SQLITE_OK)
        goto sqlite_fail;

    r = migrate(s->db, err, err_size);
    if (r < 0)
        goto out;

    for (int i = 0; i < S_COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                                NULL);
        if (rc != SQLITE_OK)
            goto sqlite_fail;
    }
    *ret_store = &s->base;
    s = NULL;
    r = 0;
    goto out;

sqlite_fail:
    r = errno_of(rc);
    if (err && err_size > 0)
        snprintf(err, err_size, "sqlite: %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
out:
    if (s) {
        for (int i = 0; i < S_COUNT; i++)
            sqlite3_finalize(s->stmt[i]);
        sqlite3_close_v2(s->db);
        free(s);
    }
    free(path);
    return r;
}

/* ---- Jobs --------------------------------------------------------------- */

/* Point JOB's fields at the current row of STMT (JOB_COLS); the strings are
 * borrowed from the statement until its next step. */
static void job_borrow(sqlite3_stmt *stmt, struct store_job *job, size_t lens[3])
{
    *job = (struct store_job){
        .id = col_text(stmt, 0, &lens[0]),
        .campaign_id = sqlite3_column_int64(stmt, 1),
        .status = col_text(stmt, 2, &lens[1]),
        .json = col_text(stmt, 3, &lens[2]),
        .version = sqlite3_column_int64(stmt, 4),
        .created_at_ms = sqlite3_column_int64(stmt, 5),
        .updated_at_ms = sqlite3_column_int64(stmt, 6),
    };
}

/* The current row of STMT as a job owning its strings. */
static int job_copy(sqlite3_stmt *stmt, struct store_job *ret_job)
{
    struct store_job job;
    size_t lens[3];
    job_borrow(stmt, &job, lens);
    struct store_pack_item items[] = {
        {job.id, lens[0], &job.id},
        {job.status, lens[1], &job.status},
        {job.json, lens[2], &job.json},
    };
    int r = store_pack(items, 3, &job.mem);
    if (r < 0)
        return r;
    *ret_job = job;
    return 0;
}

static void bind_job(sqlite3_stmt *stmt, const struct store_job *job, int64_t at_ms)
{
    bind_text(stmt, 1, job->id);
    sqlite3_bind_int64(stmt, 2, job->campaign_id);
    bind_text(stmt, 3, job->status);
    sqlite3_bind_int64(stmt, 4, at_ms);
    bind_text(stmt, 5, job->json);
    if (job->digest)
        sqlite3_bind_blob(stmt, 7, job->digest, (int)job->digest_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 7);
}

static int sq_job_create(struct store *st, const struct store_job *job, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_JOB_INSERT];
    bind_job(stmt, job, job->created_at_ms);
    int rc = sqlite3_step(stmt);
    r = rc == SQLITE_DONE ? 0 : fail_insert(s, rc, "job", reterr);
    done(stmt);
    return r;
}

static int job_exists(struct sq *s, const char *id, struct store_error *reterr)
{
    sqlite3_stmt *stmt = s->stmt[S_JOB_EXISTS];
    bind_text(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    int r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
    done(stmt);
    return r;
}

static int sq_job_update(struct store *st, const struct store_job *job, int64_t expected_version,
                         int64_t *ret_version, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_JOB_UPDATE];
    bind_job(stmt, job, job->updated_at_ms);
    sqlite3_bind_int64(stmt, 6, expected_version);
    int64_t version = 0;
    bool found = false;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        found = true;
        version = sqlite3_column_int64(stmt, 0);
        rc = sqlite3_step(stmt);
    }
    r = rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
    done(stmt);
    if (r < 0)
        return r;
    if (!found) {
        return store_job_update_missed(job_exists(s, job->id, reterr), expected_version, reterr);
    }
    if (ret_version)
        *ret_version = version;
    return 0;
}

static int sq_job_delete(struct store *st, const char *id, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = op_begin(s, reterr);
    if (r < 0)
        return r;
    /* Keep the deleted runs' ids used (see store_run_max_id()). */
    int rc = exec_stmt(s->stmt[S_RUN_FLOOR_SAVE]);
    if (rc != SQLITE_DONE)
        return op_end(s, fail(s, rc, reterr), reterr);
    sqlite3_stmt *stmt = s->stmt[S_LIVE_DROP_JOB];
    bind_text(stmt, 1, id);
    rc = exec_stmt(stmt);
    if (rc != SQLITE_DONE)
        return op_end(s, fail(s, rc, reterr), reterr);
    stmt = s->stmt[S_JOB_DELETE];
    bind_text(stmt, 1, id);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        r = fail(s, rc, reterr);
    else if (sqlite3_changes(s->db) == 0)
        r = store_error_set(reterr, -ENOENT, 0, "no such job");
    done(stmt);
    return op_end(s, r, reterr);
}

static int job_row(sqlite3_stmt *stmt, void *item);
static int run_row(sqlite3_stmt *stmt, void *item);

/* Step STMT (bound) for at most one row: ROW (a job_row()-like callback)
 * fills ITEM; no row is -ENOENT with MISSING.  Resets STMT. */
static int read_one(struct sq *s, sqlite3_stmt *stmt, int (*row)(sqlite3_stmt *, void *),
                    void *item, const char *missing, struct store_error *reterr)
{
    int rc = sqlite3_step(stmt);
    int r;
    if (rc == SQLITE_ROW)
        r = row(stmt, item);
    else if (rc == SQLITE_DONE)
        r = store_error_set(reterr, -ENOENT, 0, "%s", missing);
    else
        r = fail(s, rc, reterr);
    done(stmt);
    return r;
}

static int sq_job_get(struct store *st, const char *id, struct store_job *ret_job,
                      struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_JOB_GET];
    bind_text(stmt, 1, id);
    return read_one(s, stmt, job_row, ret_job, "no such job", reterr);
}

/* Step STMT, a COUNT(*), into *RET_COUNT. */
static int step_count(struct sq *s, sqlite3_stmt *stmt, int64_t *ret_count,
                      struct store_error *reterr)
{
    int rc = sqlite3_step(stmt);
    int r = 0;
    if (rc == SQLITE_ROW)
        *ret_count = sqlite3_column_int64(stmt, 0);
    else
        r = fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, reterr);
    done(stmt);
    return r;
}

/* How many rows a page of LIMIT from OFFSET of TOTAL has. */
static size_t page_size(int64_t total, int64_t offset, int64_t limit)
{
    int64_t left = total > offset ? total - offset : 0;
    if (limit >= 0 && limit < left)
        left = limit;
    return (size_t)left;
}

/* A growable array of records of SIZE bytes, for pages whose total was read in
 * the same snapshot: CAP is only a first guess for a damaged file. */
static int grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return 0;
    size_t next = *cap ? *cap * 2 : 16;
    void *bigger = realloc(*items, next * size);
    if (!bigger)
        return -ENOMEM;
    *items = bigger;
    *cap = next;
    return 0;
}

/* Copy the row STMT stands on into ITEM (a struct store_job, _run or
 * _decision); adapters around the typed copies below. */
typedef int row_copy_fn(sqlite3_stmt *stmt, void *item);
static int run_copy(sqlite3_stmt *stmt, struct store_run *ret_run);
static int decision_copy(sqlite3_stmt *stmt, struct store_decision *ret_decision);

static int job_row(sqlite3_stmt *stmt, void *item)
{
    return job_copy(stmt, item);
}

static int run_row(sqlite3_stmt *stmt, void *item)
{
    return run_copy(stmt, item);
}

static int decision_row(sqlite3_stmt *stmt, void *item)
{
    return decision_copy(stmt, item);
}

/* Step STMT to its end, appending a copy of each row (SIZE bytes, made by
 * COPY) to the growing array *ITEMS of *COUNT; finishes STMT. */
static int collect_rows(struct sq *s, sqlite3_stmt *stmt, void **items, size_t *count, size_t *cap,
                        size_t size, row_copy_fn *copy, struct store_error *reterr)
{
    int rc, r = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        r = grow(items, cap, *count, size);
        if (r < 0)
            break;
        r = copy(stmt, (char *)*items + *count * size);
        if (r < 0)
            break;
        (*count)++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc, reterr);
    done(stmt);
    return r;
}

/* A statement for FILTER with labels (built per call: the labels vary):
 * SELECT_WHAT, then the filter, then TAIL.  Parameters as the fixed job
 * statements (?1 status, ?2 campaign, ?3 limit, ?4 offset), then each label's
 * key and value from ?5. */
static int prepare_labelled(struct sq *s, const struct store_job_filter *filter,
                            const char *select_what, const char *tail, sqlite3_stmt **ret_stmt,
                            struct store_error *reterr)
{
    char sql[4096];
    size_t n = (size_t)snprintf(sql, sizeof(sql),
                                "%s FROM jobs WHERE (?1 IS NULL OR status = ?1)"
                                " AND (?2 IS NULL OR campaign_id = ?2)",
                                select_what);
    for (size_t i = 0; i < filter->label_count && n < sizeof(sql); i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                              " AND EXISTS (SELECT 1 FROM json_each(jobs.json, '$.labels')"
                              " WHERE key = ?%zu AND type = 'text' AND value = ?%zu)",
                              5 + 2 * i, 6 + 2 * i);
    if (n < sizeof(sql))
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s", tail);
    if (n >= sizeof(sql)) /* STORE_MAX_LABEL_FILTERS keeps it far below */
        return store_error_set(reterr, -EINVAL, 0, "too many labels to filter on");
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return fail(s, rc, reterr);
    if (filter->status)
        bind_text(stmt, 1, filter->status);
    if (filter->has_campaign_id)
        sqlite3_bind_int64(stmt, 2, filter->campaign_id);
    for (size_t i = 0; i < filter->label_count; i++) {
        bind_text(stmt, (int)(5 + 2 * i), filter->label_keys[i]);
        bind_text(stmt, (int)(6 + 2 * i), filter->label_values[i]);
    }
    *ret_stmt = stmt;
    return 0;
}

/* sq_job_list() with labels: the same, through statements built for them. */
static int job_list_labelled(struct sq *s, const struct store_job_filter *filter,
                             struct store_job_list *list, struct store_error *reterr)
{
    sqlite3_stmt *stmt = NULL;
    int r = prepare_labelled(s, filter, "SELECT COUNT(*)", "", &stmt, reterr);
    if (r == 0)
        r = step_count(s, stmt, &list->total, reterr);
    sqlite3_finalize(stmt);
    size_t cap = r == 0 ? page_size(list->total, filter->offset, filter->limit) : 0;
    if (cap == 0)
        return r;
    if (!(list->items = calloc(cap, sizeof(*list->items))))
        return -ENOMEM;
    stmt = NULL;
    r = prepare_labelled(s, filter, "SELECT " JOB_COLS,
                         " ORDER BY created_at_ms, id LIMIT ?3 OFFSET ?4", &stmt, reterr);
    if (r == 0) {
        sqlite3_bind_int64(stmt, 3, filter->limit);
        sqlite3_bind_int64(stmt, 4, filter->offset);
        r = collect_rows(s, stmt, (void **)&list->items, &list->count, &cap, sizeof(*list->items),
                         job_row, reterr);
    }
    sqlite3_finalize(stmt);
    return r;
}

static int sq_job_list(struct store *st, const struct store_job_filter *filter,
                       struct store_job_list *ret_list, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_job_list list = {0};
    size_t cap = 0;
    int mask = (filter->status ? 1 : 0) | (filter->has_campaign_id ? 2 : 0);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = read_begin(s, reterr);
    if (r < 0)
        return r;
    if (filter->label_count > 0) {
        r = job_list_labelled(s, filter, &list, reterr);
        goto out;
    }

    sqlite3_stmt *stmt = s->stmt[S_JOB_COUNT + mask];
    if (mask & 1)
        bind_text(stmt, 1, filter->status);
    if (mask & 2)
        sqlite3_bind_int64(stmt, 2, filter->campaign_id);
    r = step_count(s, stmt, &list.total, reterr);
    if (r < 0)
        goto out;
    cap = page_size(list.total, filter->offset, filter->limit);
    if (cap == 0)
        goto out;
    list.items = calloc(cap, sizeof(*list.items));
    if (!list.items) {
        r = -ENOMEM;
        goto out;
    }
    stmt = s->stmt[S_JOB_PAGE + mask];
    if (mask & 1)
        bind_text(stmt, 1, filter->status);
    if (mask & 2)
        sqlite3_bind_int64(stmt, 2, filter->campaign_id);
    sqlite3_bind_int64(stmt, 3, filter->limit);
    sqlite3_bind_int64(stmt, 4, filter->offset);
    r = collect_rows(s, stmt, (void **)&list.items, &list.count, &cap, sizeof(*list.items), job_row,
                     reterr);
out:
    read_end(s);
    if (r < 0) {
        store_job_list_release(&list);
        return r;
    }
    *ret_list = list;
    return 0;
}

static int sq_job_foreach(struct store *st, store_job_cb *cb, void *userdata,
                          struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_JOB_ALL];
    int rc;
    s->base.in_foreach = true;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct store_job job;
        size_t lens[3];
        job_borrow(stmt, &job, lens);
        job.digest = sqlite3_column_blob(stmt, 7);
        job.digest_len = (size_t)sqlite3_column_bytes(stmt, 7);
        job.has_last_slot = sqlite3_column_type(stmt, 8) != SQLITE_NULL;
        job.last_slot_ms = sqlite3_column_int64(stmt, 8);
        r = cb(&job, userdata);
        if (r != 0)
            break;
    }
    s->base.in_foreach = false;
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc, reterr);
    done(stmt);
    return r;
}

static int sq_job_last_slot(struct store *st, const char *id, int64_t *ret_slot_ms,
                            struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_JOB_LAST_SLOT];
    bind_text(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(stmt, 0) != SQLITE_NULL)
            *ret_slot_ms = sqlite3_column_int64(stmt, 0);
        else
            r = store_error_set(reterr, -ENOENT, 0, "the job has no settled slot");
    } else {
        r = fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, reterr);
    }
    done(stmt);
    return r;
}

/* ---- Runs --------------------------------------------------------------- */

/* The current row of STMT (RUN_COLS) as a run owning its strings. */
static int run_copy(sqlite3_stmt *stmt, struct store_run *ret_run)
{
    struct store_run run = {
        .id = (uint64_t)sqlite3_column_int64(stmt, RC_ID),
        .attempt = sqlite3_column_int(stmt, RC_ATTEMPT),
        .scheduled_at_ms = sqlite3_column_int64(stmt, RC_SCHEDULED_AT),
        .started_at_ms = sqlite3_column_int64(stmt, RC_STARTED_AT),
        .finished_at_ms = sqlite3_column_int64(stmt, RC_FINISHED_AT),
        .has_exit_code = sqlite3_column_type(stmt, RC_EXIT_CODE) != SQLITE_NULL,
        .exit_code = sqlite3_column_int(stmt, RC_EXIT_CODE),
    };
    struct store_pack_item items[6] = {
        {.dst = &run.job_id}, {.dst = &run.status}, {.dst = &run.trigger},
        {.dst = &run.output}, {.dst = &run.error},  {.dst = &run.correlation_id},
    };
    items[0].src = col_text(stmt, RC_JOB_ID, &items[0].len);
    items[1].src = col_text(stmt, RC_STATUS, &items[1].len);
    items[2].src = col_text(stmt, RC_TRIGGER, &items[2].len);
    items[3].src = col_text_or_null(stmt, RC_OUTPUT, &items[3].len);
    items[4].src = col_text_or_null(stmt, RC_ERROR, &items[4].len);
    items[5].src = col_text_or_null(stmt, RC_CORRELATION_ID, &items[5].len);
    int r = store_pack(items, 6, &run.mem);
    if (r < 0)
        return r;
    *ret_run = run;
    return 0;
}

static void bind_exit_code(sqlite3_stmt *stmt, int n, const struct store_run *run)
{
    if (run->has_exit_code)
        sqlite3_bind_int(stmt, n, run->exit_code);
    else
        sqlite3_bind_null(stmt, n);
}

/* Bind RUN to the parameters of S_RUN_INSERT (column + 1). */
static void bind_run(sqlite3_stmt *stmt, const struct store_run *run)
{
    if (run->id)
        sqlite3_bind_int64(stmt, RC_ID + 1, (int64_t)run->id);
    bind_text(stmt, RC_JOB_ID + 1, run->job_id);
    bind_text(stmt, RC_STATUS + 1, run->status);
    bind_text(stmt, RC_TRIGGER + 1, run->trigger);
    sqlite3_bind_int(stmt, RC_ATTEMPT + 1, run->attempt);
    sqlite3_bind_int64(stmt, RC_SCHEDULED_AT + 1, run->scheduled_at_ms);
    bind_ms(stmt, RC_STARTED_AT + 1, run->started_at_ms);
    bind_ms(stmt, RC_FINISHED_AT + 1, run->finished_at_ms);
    bind_exit_code(stmt, RC_EXIT_CODE + 1, run);
    bind_text(stmt, RC_OUTPUT + 1, run->output);
    bind_text(stmt, RC_ERROR + 1, run->error);
    bind_text(stmt, RC_CORRELATION_ID + 1, run->correlation_id);
}

static int sq_run_insert(struct store *st, const struct store_run *run, uint64_t *ret_id,
                         struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = pair_begin(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[run->id ? S_RUN_INSERT : S_RUN_INSERT_AUTO];
    bind_run(stmt, run);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        r = fail_insert(s, rc, rc == SQLITE_CONSTRAINT_UNIQUE ? "a run of this slot" : "run id",
                        reterr);
    done(stmt);
    if (r < 0)
        return pair_end(s, r, false, reterr);
    uint64_t id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    if (is_live(run->status))
        r = track_live(s, id, run->status, reterr);
    r = pair_end(s, r, true, reterr);
    if (r == 0 && ret_id)
        *ret_id = id;
    return r;
}

static int sq_run_update(struct store *st, const struct store_run *run, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = pair_begin(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_RUN_UPDATE];
    sqlite3_bind_int64(stmt, 1, (int64_t)run->id);
    bind_text(stmt, 2, run->status);
    sqlite3_bind_int(stmt, 3, run->attempt);
    bind_ms(stmt, 4, run->started_at_ms);
    bind_ms(stmt, 5, run->finished_at_ms);
    bind_exit_code(stmt, 6, run);
    bind_text(stmt, 7, run->output);
    bind_text(stmt, 8, run->error);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        r = fail(s, rc, reterr);
    else if (sqlite3_changes(s->db) == 0)
        r = store_error_set(reterr, -ENOENT, 0, "no such run");
    done(stmt);
    if (r < 0)
        return pair_end(s, r, false, reterr);
    r = track_live(s, run->id, run->status, reterr);
    return pair_end(s, r, true, reterr);
}

static int sq_run_get(struct store *st, uint64_t id, struct store_run *ret_run,
                      struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_RUN_GET];
    sqlite3_bind_int64(stmt, 1, (int64_t)id);
    return read_one(s, stmt, run_row, ret_run, "no such run", reterr);
}

/* Step STMT (RUN_COLS) to its end, appending each row to *ITEMS. */
static int collect_runs(struct sq *s, sqlite3_stmt *stmt, struct store_run **items, size_t *count,
                        size_t *cap, struct store_error *reterr)
{
    return collect_rows(s, stmt, (void **)items, count, cap, sizeof(**items), run_row, reterr);
}

static int sq_run_list(struct store *st, const char *job_id, int64_t offset, int64_t limit,
                       struct store_run_list *ret_list, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_run_list list = {0};
    size_t cap = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = read_begin(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_RUN_COUNT];
    bind_text(stmt, 1, job_id);
    r = step_count(s, stmt, &list.total, reterr);
    if (r < 0)
        goto out;
    cap = page_size(list.total, offset, limit);
    if (cap == 0)
        goto out;
    list.items = calloc(cap, sizeof(*list.items));
    if (!list.items) {
        r = -ENOMEM;
        goto out;
    }
    stmt = s->stmt[S_RUN_PAGE];
    bind_text(stmt, 1, job_id);
    sqlite3_bind_int64(stmt, 2, limit);
    sqlite3_bind_int64(stmt, 3, offset);
    r = collect_runs(s, stmt, &list.items, &list.count, &cap, reterr);
out:
    read_end(s);
    if (r < 0) {
        store_run_list_release(&list);
        return r;
    }
    *ret_list = list;
    return 0;
}

static int sq_runs_mark_interrupted(struct store *st, int64_t now_at_ms, store_run_cb *cb,
                                    void *userdata, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_run_list live = {0};
    size_t cap = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = op_begin(s, reterr);
    if (r < 0)
        return r;
    r = collect_runs(s, s->stmt[S_RUN_LIVE], &live.items, &live.count, &cap, reterr);
    if (r == 0 && live.count > INT_MAX)
        r = store_error_set(reterr, -ERANGE, 0, "too many runs to report");
    if (r == 0 && live.count > 0) {
        sqlite3_stmt *stmt = s->stmt[S_RUN_INTERRUPT];
        sqlite3_bind_int64(stmt, 1, now_at_ms);
        bind_text(stmt, 2, STORE_INTERRUPTED_ERROR);
        int rc = exec_stmt(stmt);
        if (rc != SQLITE_DONE)
            r = fail(s, rc, reterr);
    }
    if (r == 0) {
        int rc = exec_stmt(s->stmt[S_LIVE_CLEAR]);
        if (rc != SQLITE_DONE)
            r = fail(s, rc, reterr);
    }
    r = op_end(s, r, reterr);
    if (r < 0) {
        store_run_list_release(&live);
        return r;
    }
    for (size_t i = 0; cb && i < live.count; i++) {
        struct store_run run = live.items[i];
        char error[128];
        if (!run.error) {
            snprintf(error, sizeof(error), "%s%s", STORE_INTERRUPTED_ERROR, run.status);
            run.error = error;
        }
        run.status = STORE_RUN_INTERRUPTED;
        run.finished_at_ms = now_at_ms;
        run.mem = NULL;
        cb(&run, live.items[i].status, userdata);
    }
    int count = (int)live.count;
    store_run_list_release(&live);
    return count;
}

static int sq_runs_release_unstarted(struct store *st, int64_t after_ms, uint64_t run_id,
                                     struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0 || (r = op_begin(s, reterr)) < 0)
        return r;
    int count = 0;
    /* The floor keeps the released ids used (store_run_max_id()). */
    int rc = exec_stmt(s->stmt[S_RUN_FLOOR_SAVE]);
    if (rc == SQLITE_DONE) {
        sqlite3_bind_int64(s->stmt[S_RUN_RELEASE], 1, after_ms);
        sqlite3_bind_int64(s->stmt[S_RUN_RELEASE], 2, (sqlite3_int64)run_id);
        rc = exec_stmt(s->stmt[S_RUN_RELEASE]);
        count = sqlite3_changes(s->db);
    }
    if (rc == SQLITE_DONE)
        rc = exec_stmt(s->stmt[S_LIVE_PRUNE]);
    if (rc != SQLITE_DONE)
        r = fail(s, rc, reterr);
    r = op_end(s, r, reterr);
    return r < 0 ? r : count;
}

static int sq_launch_mark_set(struct store *st, int64_t at_ms, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_bind_int64(s->stmt[S_MARK_SET], 1, at_ms);
    int rc = exec_stmt(s->stmt[S_MARK_SET]);
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

static int sq_launch_mark_get(struct store *st, int64_t *ret_at_ms, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_MARK_GET];
    int rc = sqlite3_step(stmt);
    *ret_at_ms = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : INT64_MIN;
    r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
    done(stmt);
    return r;
}

static int sq_launch_mark_clear(struct store *st, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    int rc = exec_stmt(s->stmt[S_MARK_CLEAR]);
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

static int sq_run_max_id(struct store *st, uint64_t *ret_id, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int64_t max = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = step_count(s, s->stmt[S_RUN_MAX_ID], &max, reterr);
    if (r < 0)
        return r;
    *ret_id = (uint64_t)max;
    return 0;
}

/* ---- Decisions ---------------------------------------------------------- */

static int sq_decision_insert(struct store *st, const struct store_decision *decision,
                              uint64_t *ret_id, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_DECISION_INSERT];
    bind_text(stmt, 1, decision->job_id);
    bind_text(stmt, 2, decision->kind);
    sqlite3_bind_int64(stmt, 3, decision->first_slot_ms);
    sqlite3_bind_int64(stmt, 4, decision->last_slot_ms);
    sqlite3_bind_int64(stmt, 5, decision->count);
    if (decision->run_id)
        sqlite3_bind_int64(stmt, 6, (int64_t)decision->run_id);
    else
        sqlite3_bind_null(stmt, 6);
    sqlite3_bind_int64(stmt, 7, decision->at_ms);
    bind_text(stmt, 8, decision->reason);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        if (ret_id)
            *ret_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    } else {
        r = fail_insert(s, rc, "decision", reterr);
    }
    done(stmt);
    return r;
}

static int decision_copy(sqlite3_stmt *stmt, struct store_decision *ret_decision)
{
    struct store_decision decision = {
        .id = (uint64_t)sqlite3_column_int64(stmt, 0),
        .first_slot_ms = sqlite3_column_int64(stmt, 3),
        .last_slot_ms = sqlite3_column_int64(stmt, 4),
        .count = sqlite3_column_int64(stmt, 5),
        .run_id = (uint64_t)sqlite3_column_int64(stmt, 6),
        .at_ms = sqlite3_column_int64(stmt, 7),
    };
    struct store_pack_item items[3] = {
        {.dst = &decision.job_id},
        {.dst = &decision.kind},
        {.dst = &decision.reason},
    };
    items[0].src = col_text(stmt, 1, &items[0].len);
    items[1].src = col_text(stmt, 2, &items[1].len);
    items[2].src = col_text_or_null(stmt, 8, &items[2].len);
    int r = store_pack(items, 3, &decision.mem);
    if (r < 0)
        return r;
    *ret_decision = decision;
    return 0;
}

static int sq_decision_list(struct store *st, const char *job_id, int64_t limit,
                            struct store_decision_list *ret_list, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_decision_list list = {0};
    size_t cap = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_DECISION_PAGE];
    bind_text(stmt, 1, job_id);
    sqlite3_bind_int64(stmt, 2, limit);
    r = collect_rows(s, stmt, (void **)&list.items, &list.count, &cap, sizeof(*list.items),
                     decision_row, reterr);
    if (r < 0) {
        store_decision_list_release(&list);
        return r;
    }
    *ret_list = list;
    return 0;
}

/* ---- Tokens and audit (auth) -------------------------------------------- */

static int token_copy(sqlite3_stmt *stmt, struct store_token *ret_token)
{
    struct store_token token = {
        .has_campaign_id = sqlite3_column_type(stmt, 3) != SQLITE_NULL,
        .campaign_id = sqlite3_column_int64(stmt, 3),
        .created_at_ms = sqlite3_column_int64(stmt, 5),
        .revoked_at_ms = sqlite3_column_int64(stmt, 7),
    };
    const void *hash = sqlite3_column_blob(stmt, 4);
    if (hash && sqlite3_column_bytes(stmt, 4) == STORE_TOKEN_HASH_SIZE)
        memcpy(token.hash, hash, STORE_TOKEN_HASH_SIZE);
    struct store_pack_item items[4] = {
        {.dst = &token.id},
        {.dst = &token.name},
        {.dst = &token.role},
        {.dst = &token.created_by},
    };
    items[0].src = col_text(stmt, 0, &items[0].len);
    items[1].src = col_text(stmt, 1, &items[1].len);
    items[2].src = col_text(stmt, 2, &items[2].len);
    items[3].src = col_text_or_null(stmt, 6, &items[3].len);
    int r = store_pack(items, 4, &token.mem);
    if (r < 0)
        return r;
    *ret_token = token;
    return 0;
}

static int token_row(sqlite3_stmt *stmt, void *item)
{
    return token_copy(stmt, item);
}

static int sq_token_create(struct store *st, const struct store_token *token,
                           struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_TOKEN_INSERT];
    bind_text(stmt, 1, token->id);
    bind_text(stmt, 2, token->name);
    bind_text(stmt, 3, token->role);
    if (token->has_campaign_id)
        sqlite3_bind_int64(stmt, 4, token->campaign_id);
    sqlite3_bind_blob(stmt, 5, token->hash, STORE_TOKEN_HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, token->created_at_ms);
    bind_text(stmt, 7, token->created_by);
    int rc = sqlite3_step(stmt);
    r = rc == SQLITE_DONE ? 0 : fail_insert(s, rc, "token", reterr);
    done(stmt);
    return r;
}

static int sq_token_get(struct store *st, const char *id, struct store_token *ret_token,
                        struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_TOKEN_GET];
    bind_text(stmt, 1, id);
    char missing[160];
    snprintf(missing, sizeof(missing), "no token '%s'", id);
    return read_one(s, stmt, token_row, ret_token, missing, reterr);
}

static int sq_token_list(struct store *st, struct store_token_list *ret_list,
                         struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_token_list list = {0};
    size_t cap = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = collect_rows(s, s->stmt[S_TOKEN_ALL], (void **)&list.items, &list.count, &cap,
                     sizeof(*list.items), token_row, reterr);
    if (r < 0) {
        store_token_list_release(&list);
        return r;
    }
    *ret_list = list;
    return 0;
}

static int sq_token_revoke(struct store *st, const char *id, int64_t at_ms,
                           struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_TOKEN_REVOKE];
    bind_text(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, at_ms);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
        r = store_error_set(reterr, -ENOENT, 0, "no token '%s'", id);
    else if (rc != SQLITE_ROW)
        r = fail(s, rc, reterr);
    done(stmt);
    return r;
}

static int sq_audit_append(struct store *st, const struct store_audit *entry, uint64_t *ret_id,
                           struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_AUDIT_INSERT];
    sqlite3_bind_int64(stmt, 1, entry->at_ms);
    bind_text(stmt, 2, entry->actor_id);
    bind_text(stmt, 3, entry->actor_name ? entry->actor_name : "");
    bind_text(stmt, 4, entry->action);
    bind_text(stmt, 5, entry->target);
    if (entry->has_campaign_id)
        sqlite3_bind_int64(stmt, 6, entry->campaign_id);
    bind_text(stmt, 7, entry->before);
    bind_text(stmt, 8, entry->after);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        if (ret_id)
            *ret_id = (uint64_t)sqlite3_last_insert_rowid(s->db);
    } else {
        r = fail(s, rc, reterr);
    }
    done(stmt);
    return r;
}

static int audit_row(sqlite3_stmt *stmt, void *item)
{
    struct store_audit entry = {
        .id = (uint64_t)sqlite3_column_int64(stmt, 0),
        .at_ms = sqlite3_column_int64(stmt, 1),
        .has_campaign_id = sqlite3_column_type(stmt, 6) != SQLITE_NULL,
        .campaign_id = sqlite3_column_int64(stmt, 6),
    };
    const char **dst[6] = {&entry.actor_id, &entry.actor_name, &entry.action,
                           &entry.target,   &entry.before,     &entry.after};
    static const int cols[6] = {2, 3, 4, 5, 7, 8};
    struct store_pack_item items[6];
    for (int i = 0; i < 6; i++) {
        items[i].dst = dst[i];
        items[i].src = col_text_or_null(stmt, cols[i], &items[i].len);
    }
    int r = store_pack(items, 6, &entry.mem);
    if (r == 0)
        *(struct store_audit *)item = entry;
    return r;
}

static void bind_audit_filter(sqlite3_stmt *stmt, const struct store_audit_filter *filter)
{
    bind_text(stmt, 1, filter->target);
    bind_text(stmt, 2, filter->actor);
    sqlite3_bind_int64(stmt, 3, filter->since_ms);
    if (filter->has_campaign_id)
        sqlite3_bind_int64(stmt, 4, filter->campaign_id);
}

static int sq_audit_list(struct store *st, const struct store_audit_filter *filter,
                         struct store_audit_list *ret_list, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_audit_list list = {0};
    size_t cap = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = read_begin(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_AUDIT_COUNT];
    bind_audit_filter(stmt, filter);
    r = step_count(s, stmt, &list.total, reterr);
    if (r == 0) {
        stmt = s->stmt[S_AUDIT_PAGE];
        bind_audit_filter(stmt, filter);
        sqlite3_bind_int64(stmt, 5, filter->limit);
        sqlite3_bind_int64(stmt, 6, filter->offset);
        r = collect_rows(s, stmt, (void **)&list.items, &list.count, &cap, sizeof(*list.items),
                         audit_row, reterr);
    }
    read_end(s);
    if (r < 0) {
        store_audit_list_release(&list);
        return r;
    }
    *ret_list = list;
    return 0;
}

/* ---- Events ------------------------------------------------------------- */

static int sq_event_append(struct store *st, const struct store_event *event,
                           struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_EVENT_INSERT];
    sqlite3_bind_int64(stmt, 1, event->seq);
    sqlite3_bind_int64(stmt, 2, event->at_ms);
    bind_text(stmt, 3, event->type);
    bind_text(stmt, 4, event->job_id);
    sqlite3_bind_int64(stmt, 5, event->campaign_id);
    bind_text(stmt, 6, event->json);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        r = fail_insert(s, rc, "event", reterr);
    done(stmt);
    return r;
}

static int sq_event_foreach(struct store *st, int64_t after_seq, int64_t upto_seq, int64_t limit,
                            store_event_cb *cb, void *userdata, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_EVENT_SINCE];
    sqlite3_bind_int64(stmt, 1, after_seq);
    sqlite3_bind_int64(stmt, 2, upto_seq);
    sqlite3_bind_int64(stmt, 3, limit);
    int rc;
    size_t len;
    while (r == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct store_event event = {
            .seq = sqlite3_column_int64(stmt, 0),
            .at_ms = sqlite3_column_int64(stmt, 1),
            .type = col_text(stmt, 2, &len),
            .job_id = col_text_or_null(stmt, 3, &len),
            .campaign_id = sqlite3_column_int64(stmt, 4),
            .json = col_text(stmt, 5, &len),
        };
        event.json_len = len;
        r = cb(&event, userdata);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = fail(s, rc, reterr);
    done(stmt);
    return r;
}

static int sq_event_bounds(struct store *st, int64_t *ret_min_seq, int64_t *ret_max_seq,
                           struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_EVENT_BOUNDS];
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *ret_min_seq = sqlite3_column_int64(stmt, 0);
        *ret_max_seq = sqlite3_column_int64(stmt, 1);
    } else {
        r = fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, reterr);
    }
    done(stmt);
    return r;
}

static int sq_event_prune(struct store *st, int64_t keep, int64_t before_at_ms,
                          struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_EVENT_PRUNE];
    sqlite3_bind_int64(stmt, 1, keep);
    sqlite3_bind_int64(stmt, 2, before_at_ms);
    int rc = exec_stmt(stmt);
    return rc == SQLITE_DONE ? sqlite3_changes(s->db) : fail(s, rc, reterr);
}

/* ---- Patterns and orchestration ----------------------------------------- */

/* The current row of STMT (PATTERN_COLS) as a pattern owning its strings. */
static int pattern_copy(sqlite3_stmt *stmt, struct store_pattern *ret)
{
    struct store_pattern p = {
        .revision = sqlite3_column_int64(stmt, 3),
        .created_at_ms = sqlite3_column_int64(stmt, 4),
        .updated_at_ms = sqlite3_column_int64(stmt, 5),
    };
    struct store_pack_item items[3] = {{.dst = &p.id}, {.dst = &p.json}, {.dst = &p.nexus_status}};
    items[0].src = col_text(stmt, 0, &items[0].len);
    items[1].src = col_text(stmt, 1, &items[1].len);
    items[2].src = col_text_or_null(stmt, 2, &items[2].len);
    int r = store_pack(items, 3, &p.mem);
    if (r < 0)
        return r;
    *ret = p;
    return 0;
}

static int pattern_row(sqlite3_stmt *stmt, void *item)
{
    return pattern_copy(stmt, item);
}

static int sq_pattern_put(struct store *st, const struct store_pattern *p, int64_t at_ms,
                          int64_t *ret_revision, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_PATTERN_PUT];
    bind_text(stmt, 1, p->id);
    sqlite3_bind_int64(stmt, 2, at_ms);
    bind_text(stmt, 3, p->nexus_status);
    bind_text(stmt, 4, p->json);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        if (ret_revision)
            *ret_revision = sqlite3_column_int64(stmt, 0);
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE)
        r = fail(s, rc, reterr);
    done(stmt);
    return r;
}

static int sq_pattern_get(struct store *st, const char *id, struct store_pattern *ret,
                          struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_PATTERN_GET];
    bind_text(stmt, 1, id);
    return read_one(s, stmt, pattern_row, ret, "no such pattern", reterr);
}

static int sq_pattern_list(struct store *st, struct store_pattern_list *ret,
                           struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_pattern_list list = {0};
    size_t cap = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    r = collect_rows(s, s->stmt[S_PATTERN_ALL], (void **)&list.items, &list.count, &cap,
                     sizeof(*list.items), pattern_row, reterr);
    if (r < 0) {
        store_pattern_list_release(&list);
        return r;
    }
    *ret = list;
    return 0;
}

/* Run STMT (bound) and report whether it changed a row: 0, -ENOENT, or a
 * backend error. */
static int exec_changed(struct sq *s, sqlite3_stmt *stmt, const char *what,
                        struct store_error *reterr)
{
    int rc = exec_stmt(stmt);
    if (rc != SQLITE_DONE)
        return fail(s, rc, reterr);
    if (sqlite3_changes(s->db) == 0)
        return store_error_set(reterr, -ENOENT, 0, "no such %s", what);
    return 0;
}

static int sq_pattern_delete(struct store *st, const char *id, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_PATTERN_DELETE];
    bind_text(stmt, 1, id);
    return exec_changed(s, stmt, "pattern", reterr);
}

static int sq_pattern_set_nexus_status(struct store *st, const char *id, int64_t revision,
                                       const char *status, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_PATTERN_NEXUS];
    bind_text(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, revision);
    bind_text(stmt, 3, status);
    return exec_changed(s, stmt, "pattern revision", reterr);
}

static int sq_idempotency_claim(struct store *st, const char *key, int64_t at_ms,
                                uint64_t *ret_run_id, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_IDEM_CLAIM];
    bind_text(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, at_ms);
    int rc = exec_stmt(stmt);
    if (rc != SQLITE_DONE)
        return fail(s, rc, reterr);
    if (sqlite3_changes(s->db) == 1)
        return 0;
    stmt = s->stmt[S_IDEM_GET];
    bind_text(stmt, 1, key);
    int64_t run_id = 0;
    r = step_count(s, stmt, &run_id, reterr);
    if (r < 0)
        return r;
    if (ret_run_id)
        *ret_run_id = (uint64_t)run_id;
    return store_error_set(reterr, -EEXIST, 0, "idempotency key already used");
}

static int sq_idempotency_set_run(struct store *st, const char *key, uint64_t run_id,
                                  struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[run_id ? S_IDEM_SET : S_IDEM_DROP];
    bind_text(stmt, 1, key);
    if (run_id)
        sqlite3_bind_int64(stmt, 2, (int64_t)run_id);
    int rc = exec_stmt(stmt);
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

static int sq_idempotency_prune(struct store *st, int64_t before_ms, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_IDEM_PRUNE];
    sqlite3_bind_int64(stmt, 1, before_ms);
    int rc = exec_stmt(stmt);
    return rc == SQLITE_DONE ? sqlite3_changes(s->db) : fail(s, rc, reterr);
}

static int sq_run_list_by_correlation(struct store *st, const char *correlation_id, int64_t limit,
                                      struct store_run_list *ret_list, struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    struct store_run_list list = {0};
    size_t cap = 0;
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_RUN_BY_CORRELATION];
    bind_text(stmt, 1, correlation_id);
    sqlite3_bind_int64(stmt, 2, limit);
    r = collect_runs(s, stmt, &list.items, &list.count, &cap, reterr);
    if (r < 0) {
        store_run_list_release(&list);
        return r;
    }
    list.total = (int64_t)list.count;
    *ret_list = list;
    return 0;
}

static int sq_run_context_put(struct store *st, uint64_t run_id, const char *json,
                              struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_CONTEXT_PUT];
    sqlite3_bind_int64(stmt, 1, (int64_t)run_id);
    bind_text(stmt, 2, json);
    int rc = exec_stmt(stmt);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        return store_error_set(reterr, -ENOENT, rc, "no such run");
    return rc == SQLITE_DONE ? 0 : fail(s, rc, reterr);
}

static int sq_run_context_get(struct store *st, uint64_t run_id, char **ret_json,
                              struct store_error *reterr)
{
    struct sq *s = sq_of(st);
    int r = check_batch(s, reterr);
    if (r < 0)
        return r;
    sqlite3_stmt *stmt = s->stmt[S_CONTEXT_GET];
    sqlite3_bind_int64(stmt, 1, (int64_t)run_id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        size_t len;
        const char *text = col_text(stmt, 0, &len);
        char *copy = strndup(text, len);
        r = copy ? 0 : -ENOMEM;
        if (copy)
            *ret_json = copy;
    } else {
        r = rc == SQLITE_DONE ? store_error_set(reterr, -ENOENT, 0, "no context for this run")
                              : fail(s, rc, reterr);
    }
    done(stmt);
    return r;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .set_lock_timeout = sq_set_lock_timeout,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .job_create = sq_job_create,
    .job_update = sq_job_update,
    .job_delete = sq_job_delete,
    .job_get = sq_job_get,
    .job_list = sq_job_list,
    .job_foreach = sq_job_foreach,
    .job_last_slot = sq_job_last_slot,
    .run_insert = sq_run_insert,
    .run_update = sq_run_update,
    .run_get = sq_run_get,
    .run_list = sq_run_list,
    .runs_mark_interrupted = sq_runs_mark_interrupted,
    .runs_release_unstarted = sq_runs_release_unstarted,
    .launch_mark_set = sq_launch_mark_set,
    .launch_mark_get = sq_launch_mark_get,
    .launch_mark_clear = sq_launch_mark_clear,
    .run_max_id = sq_run_max_id,
    .decision_insert = sq_decision_insert,
    .decision_list = sq_decision_list,
    .token_create = sq_token_create,
    .token_get = sq_token_get,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .audit_append = sq_audit_append,
    .audit_list = sq_audit_list,
    .event_append = sq_event_append,
    .event_foreach = sq_event_foreach,
    .event_bounds = sq_event_bounds,
    .event_prune = sq_event_prune,
    .pattern_put = sq_pattern_put,
    .pattern_get = sq_pattern_get,
    .pattern_list = sq_pattern_list,
    .pattern_delete = sq_pattern_delete,
    .pattern_set_nexus_status = sq_pattern_set_nexus_status,
    .idempotency_claim = sq_idempotency_claim,
    .idempotency_set_run = sq_idempotency_set_run,
    .idempotency_prune = sq_idempotency_prune,
    .run_list_by_correlation = sq_run_list_by_correlation,
    .run_context_put = sq_run_context_put,
    .run_context_get = sq_run_context_get,
};
