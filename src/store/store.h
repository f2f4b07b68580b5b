/*
 * store - the daemon's durable state: jobs, runs and the decision log.
 *
 * One interface, several backends.  `struct store` is opaque; each backend
 * (store_sqlite.c, store_pg.c) fills a table of operations declared in
 * store/internal.h, and the functions below check their arguments and dispatch
 * through it, so nothing here names a backend except the function that opens it.
 *
 * Vocabulary (pg_cron's): a *job* is the definition, stored as the daemon's JSON
 * document plus the few columns the store filters on; a *run* is one execution
 * of a job; an *attempt* is one process of a run; a *slot* is a scheduled time
 * of a job; a *decision* records what the scheduler did with slots it did not
 * simply run (skipped, coalesced by the misfire policy, ...).  The store does
 * not know the job's shape nor the run state machine: statuses and triggers are
 * text the daemon chooses, except for the few named below (STORE_RUN_*).
 *
 * Calls are synchronous and made from one thread at a time (the daemon's loop).
 * Nothing here logs or reads a clock: times are arguments, Unix milliseconds
 * (the PostgreSQL backend reads the monotonic clock for its reconnect backoff
 * only).
 *
 * Errors are negative errno.  Domain errors: -EINVAL bad argument, -ENOENT no
 * such job or run, -EEXIST id or slot taken, -ESTALE version mismatch.  Backend
 * failures: -EBUSY the database is locked by another process for longer than
 * the lock timeout (PostgreSQL: also a serialization failure or deadlock),
 * -ENOMEM, -ENOSPC disk full, -ENOTCONN (PostgreSQL) the server cannot be
 * reached: the connection was lost or refused, and the next call reconnects,
 * -EIO anything else (corrupt file, I/O error, ...).  When RETERR is not NULL
 * a failure also writes a sentence for a person into it (for SQLite,
 * sqlite3_errmsg(); for PostgreSQL, the server's message and SQLSTATE, never
 * the password).  The store never crashes on a corrupt or locked database:
 * it returns an error.
 *
 * Transactions.  Outside a batch every call is its own transaction: when a
 * write returns 0 it is committed (durable, see store_open_sqlite()).  Between
 * store_begin() and store_commit() all calls share one transaction (group
 * commit: the daemon records many run starts and finishes per commit) and are
 * durable when store_commit() returns 0; this holds for job writes too, which
 * makes ApplyJobs atomic.  A call that fails inside a batch changes nothing and
 * leaves the batch usable, except for backend failures (-EBUSY, -ENOMEM,
 * -ENOSPC, -ENOTCONN, -EIO), after which the backend may have rolled the batch back: from
 * then on every call fails with -EIO until store_commit() (which reports -EIO)
 * or store_rollback() ends the batch.
 *
 * Returned records own their text in one block (`mem`); release them with
 * store_job_release(), store_run_release() and the list releases.  Records the
 * caller builds as input leave `mem` NULL; their strings are borrowed for the
 * call.
 */
#ifndef OVSCHED_STORE_STORE_H
#define OVSCHED_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store; /* opaque; one backend connection */

struct store_error {
    /* SQLite: the extended result code; PostgreSQL: the SQLSTATE packed as
     * PostgreSQL's MAKE_SQLSTATE() does; 0 when not from the backend. */
    int backend_code;
    char message[256];
};

/* Open (and create or migrate) the SQLite store in DATA_DIR: the folder is
 * created (mode 0700, parents too) if missing, the database is
 * DATA_DIR/ovsched.db, it and its -wal and -shm files mode 0600 whatever the
 * umask (an existing file is changed to 0600).
 *
 * Set-up: WAL journal, synchronous=NORMAL, foreign keys on, a lock timeout
 * (5 s, see store_set_lock_timeout()), then the schema migrations this build
 * knows that the file lacks, all in one transaction (PRAGMA user_version
 * records the schema version).
 *
 * Durability.  In WAL mode a commit appends the transaction's pages and a
 * commit frame to ovsched.db-wal with write(2) before it returns; with
 * synchronous=NORMAL the WAL is fsync'ed at checkpoints, not at each commit.
 * A process crash (kill -9, abort, OOM kill) does not lose what write() handed
 * to the kernel: those pages are in the kernel's page cache, not the
 * process's, and reach the file.  The next open replays every WAL frame up to
 * the last valid commit frame, so every transaction that returned is there
 * and one cut off in the middle is not (its frames have no commit frame, and
 * a frame's checksum chains to the ones before it).  Only losing the kernel
 * itself (power cut, kernel panic) can drop the transactions since the last
 * checkpoint -- still without corrupting the file; synchronous=FULL would
 * cover that too at the price of one fsync per commit.  tests/unit/store
 * kills a writer with SIGKILL mid-commit and mid-transaction to check this.
 *
 * Returns 0 with the store in *ret_store (close with store_close()), or
 * -EINVAL (DATA_DIR NULL or empty), the errno of mkdir(2) or stat(2) for the
 * folder (-EACCES, -ENOTDIR, ...), -ENOTSUP (the file's schema is newer than
 * this build: never downgrade a database; or SQLite older than 3.35), -EBUSY,
 * -ENOMEM, -EIO (not a database, corrupt, I/O error, ...), with a sentence in
 * ERR when ERR is not NULL and ERR_SIZE > 0.  *ret_store is written only on
 * success. */
int store_open_sqlite(const char *data_dir, struct store **ret_store, char *err, size_t err_size);

/* Open (and create or migrate) the store in the PostgreSQL database CONNINFO
 * names: a URL (postgres://user:password@host:port/db?param=value) or
 * key=value words, completed by the PG* environment variables and
 * ~/.pgpass as libpq does (docs/storage.md).  The schema steps this build
 * knows that the database lacks run in one transaction under an advisory
 * lock, so several processes opening a new database at once do not race.
 * With STORE_PG_EXCLUSIVE the store also holds a session advisory lock for
 * its connection's life (taken again after a reconnect): a second exclusive
 * opener gets -EBUSY ("another ovsched is already using this database"), as
 * a second daemon on one SQLite folder is refused.
 *
 * Durability: a call (or store_commit()) returns 0 once PostgreSQL has
 * committed, which with the server's default synchronous_commit = on means
 * its WAL is flushed to disk.  A lost connection is found before the next
 * statement and reconnected (backoff 100 ms .. 5 s between failed attempts,
 * the only clock the store reads); a batch open when it was lost is gone
 * (the server rolled it back) and store_commit() says so.  If the connection
 * breaks during store_commit(), the store asks a new connection whether the
 * transaction committed (pg_xact_status()) and answers accordingly; only
 * when the server stays out of reach is the outcome unknown (-ENOTCONN, and
 * the message says so).  Outside a batch, a write that meets a lost
 * connection fails with -ENOTCONN and is not re-sent: it may have committed.
 *
 * Returns 0 with the store in *ret_store, -EINVAL (empty or malformed
 * CONNINFO), -ENOTCONN (cannot connect), -EBUSY (exclusive, and another
 * holder), -ENOTSUP (the database's schema is newer than this build), -ENOMEM
 * or -EIO, with a sentence in ERR that never holds the password.  *ret_store
 * is written only on success. */
#define STORE_PG_EXCLUSIVE 1u
int store_open_postgres(const char *conninfo, unsigned flags, struct store **ret_store, char *err,
                        size_t err_size);

/* CONNINFO with its password replaced by "***" (in a URL's user part and in
 * a password parameter), for logs.  Writes at most SIZE bytes to BUF. */
void store_conninfo_redact(const char *conninfo, char *buf, size_t size);

/* Close STORE; an open batch is rolled back.  Accepts NULL. */
void store_close(struct store *store);

/* "sqlite" or "postgres". */
const char *store_backend(const struct store *store);

/* The longest a call waits for a lock another process holds before it fails
 * with -EBUSY.  MS >= 0; 0 fails at once.  Returns 0 or -EINVAL. */
int store_set_lock_timeout(struct store *store, int ms);

/* ---- Group commit ------------------------------------------------------- */

/* Start a batch.  Returns 0, -EBUSY if a batch is already open (batches do not
 * nest) or the database is locked, or a backend error. */
int store_begin(struct store *store, struct store_error *reterr);

/* Commit the batch.  Returns 0 when everything in it is durable, -EINVAL when
 * no batch is open, or a backend error, in which case nothing of the batch is
 * stored and the batch is over. */
int store_commit(struct store *store, struct store_error *reterr);

/* Abandon the batch: nothing of it is stored.  Does nothing without one. */
void store_rollback(struct store *store);

/* ---- Jobs --------------------------------------------------------------- */

struct store_job {
    const char *id;      /* the job id, non-empty */
    int64_t campaign_id; /* the tenant */
    const char *status;  /* "ACTIVE", "PAUSED", ...: filtered on, not checked */
    const char *json;    /* the job document, stored and returned verbatim */
    int64_t version;     /* 1 at creation, +1 per update; output only */
    int64_t created_at_ms;
    int64_t updated_at_ms; /* output only: the last write's time */
    /* The daemon's compact form of what it needs to schedule the job, opaque
     * to the store: written by create and update (NULL clears it, so it never
     * outlives the document it was made from), returned by store_job_foreach()
     * only, where start-up reads it instead of parsing every document. */
    const void *digest;
    size_t digest_len;
    bool has_last_slot; /* store_job_foreach() only: as store_job_last_slot() */
    int64_t last_slot_ms;
    void *mem; /* owns the strings of a returned job; NULL in inputs */
};

#define STORE_VERSION_ANY INT64_C(0) /* update whatever version is stored */

/* Store a new job: JOB's id, campaign_id, status, json and created_at_ms (also
 * the first updated_at_ms), at version 1.  Returns 0, -EINVAL (id empty, status
 * or json NULL), -EEXIST if the id is taken, or a backend error. */
int store_job_create(struct store *store, const struct store_job *job, struct store_error *reterr);

/* Replace the campaign_id, status and json of job JOB->id and set its
 * updated_at_ms to JOB->updated_at_ms, if its version is EXPECTED_VERSION (or
 * for any version with STORE_VERSION_ANY).  JOB->version and created_at_ms are
 * ignored.  Returns 0 with the new version in *ret_version (may be NULL),
 * -EINVAL, -ENOENT, -ESTALE if the stored version differs (nothing changed), or
 * a backend error. */
int store_job_update(struct store *store, const struct store_job *job, int64_t expected_version,
                     int64_t *ret_version, struct store_error *reterr);

/* Delete job ID with its runs and decisions.  Run ids stay used: see
 * store_run_max_id().  Returns 0, -EINVAL, -ENOENT, or a backend error. */
int store_job_delete(struct store *store, const char *id, struct store_error *reterr);

/* Job ID into *ret_job (release with store_job_release()).  Returns 0, -EINVAL,
 * -ENOENT, -ENOMEM or a backend error; *ret_job is written only on success. */
int store_job_get(struct store *store, const char *id, struct store_job *ret_job,
                  struct store_error *reterr);

/* Free what a returned job owns and clear it.  Accepts NULL and cleared jobs. */
void store_job_release(struct store_job *job);

struct store_job_filter {
    const char *status;   /* NULL: any */
    bool has_campaign_id; /* false: any campaign */
    int64_t campaign_id;
    int64_t offset; /* >= 0 */
    int64_t limit;  /* < 0: no limit; 0: only the total */
    /* Labels: every LABEL_KEYS[i] of the document's `labels` object is the
     * string LABEL_VALUES[i].  At most STORE_MAX_LABEL_FILTERS. */
    const char *const *label_keys;
    const char *const *label_values;
    size_t label_count;
};

#define STORE_MAX_LABEL_FILTERS 16

struct store_job_list {
    struct store_job *items;
    size_t count;
    int64_t total; /* jobs matching the filter, ignoring offset and limit */
};

/* The jobs matching FILTER, ordered by created_at_ms then id, from OFFSET, at
 * most LIMIT, with the total count, all read from one snapshot.  Returns 0
 * with the list in *ret_list (release with store_job_list_release()), -EINVAL
 * (negative offset, too many labels), -ENOMEM or a backend error; *ret_list is
 * written only on success. */
int store_job_list(struct store *store, const struct store_job_filter *filter,
                   struct store_job_list *ret_list, struct store_error *reterr);

void store_job_list_release(struct store_job_list *list);

/* Return non-zero to stop the walk; the value is then what the walk returns. */
typedef int store_job_cb(const struct store_job *job, void *userdata);

/* Call CB for every job, in storage order (creation order in practice), with
 * a job whose strings and digest are borrowed for the call, and its
 * last_slot_ms: the start-up load of up to a million jobs, one statement and
 * no allocation per job.  CB must not call the
 * store (such calls fail with -EBUSY).  Returns 0, CB's non-zero value, or a
 * backend error. */
int store_job_foreach(struct store *store, store_job_cb *cb, void *userdata,
                      struct store_error *reterr);

/* The latest slot (Unix ms) of job ID that is settled: the greatest
 * scheduled_at_ms of its runs with trigger STORE_TRIGGER_SCHEDULE and
 * last_slot_ms of its decisions with count > 0.  After a restart the daemon
 * applies the misfire policy to the slots after it.  Returns 0 with
 * *ret_slot_ms, -ENOENT when the job has no settled slot (or does not exist),
 * -EINVAL, or a backend error. */
int store_job_last_slot(struct store *store, const char *id, int64_t *ret_slot_ms,
                        struct store_error *reterr);

/* ---- Runs --------------------------------------------------------------- */

/* Runs with this trigger claim their slot: at most one run per (job_id,
 * scheduled_at_ms) has it, so a slot runs at most once, also across a crash and
 * restart.  Other triggers ("manual", "retry", "dependency", ...) claim nothing
 * and never collide, even with a scheduled run at the same instant. */
#define STORE_TRIGGER_SCHEDULE "schedule"

/* The statuses store_runs_mark_interrupted() ends, and the one it sets.
 * WAITING runs (gated by dependencies) are left for the scheduler to resume. */
#define STORE_RUN_PENDING     "PENDING"
#define STORE_RUN_RUNNING     "RUNNING"
#define STORE_RUN_RETRYING    "RETRYING"
#define STORE_RUN_INTERRUPTED "INTERRUPTED"

struct store_run {
    uint64_t id;             /* 1 .. INT64_MAX; 0 on insert: the store picks the next */
    const char *job_id;      /* immutable */
    const char *status;      /* "RUNNING", "COMPLETED", ... */
    const char *trigger;     /* "schedule", "manual", "retry", ...; immutable */
    int attempt;             /* >= 0 */
    int64_t scheduled_at_ms; /* the slot for scheduled runs, the request time else; immutable */
    int64_t started_at_ms;   /* 0: not started (stored as NULL) */
    int64_t finished_at_ms;  /* 0: not finished (stored as NULL) */
    bool has_exit_code;
    int exit_code;
    const char *output;         /* NULL: none */
    const char *error;          /* NULL: none */
    const char *correlation_id; /* NULL: none; immutable */
    void *mem;                  /* owns the strings of a returned run; NULL in inputs */
};

/* Record RUN, before its executor starts.  With RUN->id 0 the store assigns
 * store_run_max_id() + 1.  Returns 0 with the id in *ret_id (may be NULL),
 * -EINVAL (id > INT64_MAX, job_id empty, status or trigger NULL, attempt < 0),
 * -ENOENT if the job does not exist, -EEXIST if the id is taken or, for
 * trigger STORE_TRIGGER_SCHEDULE, the slot already has a run (no row is added),
 * or a backend error. */
int store_run_insert(struct store *store, const struct store_run *run, uint64_t *ret_id,
                     struct store_error *reterr);

/* Write RUN's status, attempt, started_at_ms, finished_at_ms, exit code, output
 * and error to run RUN->id (the immutable fields are ignored).  Returns 0,
 * -EINVAL, -ENOENT, or a backend error. */
int store_run_update(struct store *store, const struct store_run *run, struct store_error *reterr);

/* Run ID into *ret_run (release with store_run_release()).  Returns 0, -EINVAL,
 * -ENOENT, -ENOMEM or a backend error; *ret_run is written only on success. */
int store_run_get(struct store *store, uint64_t id, struct store_run *ret_run,
                  struct store_error *reterr);

void store_run_release(struct store_run *run);

struct store_run_list {
    struct store_run *items;
    size_t count;
    int64_t total; /* runs of the job, ignoring offset and limit */
};

/* The runs of JOB_ID, newest first (by scheduled_at_ms, then id, descending),
 * from OFFSET (>= 0), at most LIMIT (< 0: no limit), with the total, from one
 * snapshot.  Returns 0 with *ret_list (release with store_run_list_release()),
 * -EINVAL, -ENOMEM or a backend error.  A job without runs, or no such job,
 * gives an empty list. */
int store_run_list(struct store *store, const char *job_id, int64_t offset, int64_t limit,
                   struct store_run_list *ret_list, struct store_error *reterr);

void store_run_list_release(struct store_run_list *list);

/* Called for each run store_runs_mark_interrupted() ended, after the change is
 * committed (or, inside a batch, made).  RUN is borrowed for the call and shows
 * the new state; PREVIOUS_STATUS is what it was.  CB may call the store. */
typedef void store_run_cb(const struct store_run *run, const char *previous_status, void *userdata);

/* Start-up recovery: every run left PENDING, RUNNING or RETRYING by a previous
 * process becomes INTERRUPTED with finished_at_ms NOW_AT_MS and, when it had
 * none, an error saying so; CB (may be NULL) hears of each, in id order.
 * Returns the number of runs changed, or a backend error (and then CB was not
 * called and nothing changed). */
int store_runs_mark_interrupted(struct store *store, int64_t now_at_ms, store_run_cb *cb,
                                void *userdata, struct store_error *reterr);

/* Delete the scheduled runs written ahead of their slot that never started
 * (PENDING, trigger STORE_TRIGGER_SCHEDULE, attempt 0, no started_at_ms) with
 * a slot after AFTER_MS, so their slots are free to be scheduled again: at
 * start-up (AFTER_MS now: slots still to come) and after a graceful stop
 * (INT64_MIN: nothing can have started them).  Their ids stay used.  Returns
 * the number deleted, or a backend error (and nothing changed). */
int store_runs_release_unstarted(struct store *store, int64_t after_ms, struct store_error *reterr);

/* The same for run ID alone: a run written ahead for a slot the job no
 * longer has.  Returns 0, -EINVAL, -ENOENT (no such run, or not such a run:
 * nothing changed), or a backend error. */
int store_run_discard(struct store *store, uint64_t id, struct store_error *reterr);

/* The highest run id ever stored, 0 if none, also counting runs since deleted
 * with their job, so ids the daemon assigns continue after a restart and are
 * never reused.  Returns 0 or a backend error. */
int store_run_max_id(struct store *store, uint64_t *ret_id, struct store_error *reterr);

/* The launch mark: the daemon writes it (committed at once, outside any
 * batch) before a pass that may start runs written ahead of their slot
 * before their RUNNING state is stored; only runs with a slot up to the mark
 * can have started so.  Set keeps the greatest value.  Get gives
 * INT64_MIN when none was ever written.  Return 0 or a backend error. */
int store_launch_mark_set(struct store *store, int64_t at_ms, struct store_error *reterr);
int store_launch_mark_get(struct store *store, int64_t *ret_at_ms, struct store_error *reterr);
/* Forget the mark: after a graceful stop no run is in doubt. */
int store_launch_mark_clear(struct store *store, struct store_error *reterr);

/* ---- Decisions ---------------------------------------------------------- */

struct store_decision {
    uint64_t id;        /* assigned by the store; ignored on insert */
    const char *job_id; /* non-empty; the job must exist */
    const char *kind;   /* "misfire_skip", "coalesced", ...: the daemon's words */
    int64_t first_slot_ms;
    int64_t last_slot_ms;
    int64_t count;      /* slots in [first, last] the decision settles; 0: none */
    uint64_t run_id;    /* the run it made, 0: none */
    int64_t at_ms;      /* when it was decided */
    const char *reason; /* NULL: none */
    void *mem;          /* owns the strings of a returned decision; NULL in inputs */
};

/* Append DECISION to the log.  Returns 0 with its id in *ret_id (may be NULL),
 * -EINVAL (job_id empty, kind NULL, count < 0, run_id > INT64_MAX), -ENOENT if
 * the job does not exist, or a backend error. */
int store_decision_insert(struct store *store, const struct store_decision *decision,
                          uint64_t *ret_id, struct store_error *reterr);

struct store_decision_list {
    struct store_decision *items;
    size_t count;
};

/* The decisions of JOB_ID, newest first, at most LIMIT (< 0: no limit).
 * Returns 0 with *ret_list (release with store_decision_list_release()),
 * -EINVAL, -ENOMEM or a backend error. */
int store_decision_list(struct store *store, const char *job_id, int64_t limit,
                        struct store_decision_list *ret_list, struct store_error *reterr);

void store_decision_release(struct store_decision *decision);
void store_decision_list_release(struct store_decision_list *list);

/* ---- Tokens (auth) ------------------------------------------------------ */

/* API bearer tokens.  The store keeps a hash of each secret, never the secret
 * itself: src/auth makes and checks them.  Roles are text the store does not
 * check. */
#define STORE_TOKEN_HASH_SIZE 32

struct store_token {
    const char *id;       /* non-empty, unique */
    const char *name;     /* a person's label; may be "" */
    const char *role;     /* "admin", "operator", "viewer" */
    bool has_campaign_id; /* false: every tenant */
    int64_t campaign_id;  /* the tenant the token is bound to */
    unsigned char hash[STORE_TOKEN_HASH_SIZE];
    int64_t created_at_ms;
    int64_t revoked_at_ms;  /* 0: active */
    const char *created_by; /* the creating token's id; NULL: the daemon */
    void *mem;              /* owns the strings of a returned token; NULL in inputs */
};

struct store_token_list {
    struct store_token *items;
    size_t count;
};

/* Store a new token (revoked_at_ms ignored: new tokens are active).  Returns 0,
 * -EINVAL (id empty, name or role NULL), -EEXIST, or a backend error. */
int store_token_create(struct store *store, const struct store_token *token,
                       struct store_error *reterr);

/* Token ID into *ret_token (release with store_token_release()).  Returns 0,
 * -EINVAL, -ENOENT, -ENOMEM or a backend error. */
int store_token_get(struct store *store, const char *id, struct store_token *ret_token,
                    struct store_error *reterr);

/* Every token, revoked ones too, oldest first. */
int store_token_list(struct store *store, struct store_token_list *ret_list,
                     struct store_error *reterr);

/* Mark token ID revoked at AT_MS; revoking a revoked token keeps its first
 * revocation time.  Returns 0, -EINVAL, -ENOENT, or a backend error. */
int store_token_revoke(struct store *store, const char *id, int64_t at_ms,
                       struct store_error *reterr);

void store_token_release(struct store_token *token);
void store_token_list_release(struct store_token_list *list);

/* ---- Audit log (auth) ---------------------------------------------------- */

/* One mutation: who (the token), what (the API method and its target), when,
 * and the target's JSON before and after (NULL: did not exist / none).  The
 * daemon appends it inside the mutation's own transaction. */
struct store_audit {
    uint64_t id; /* assigned by the store, increasing; ignored on append */
    int64_t at_ms;
    const char *actor_id;   /* token id */
    const char *actor_name; /* token name */
    const char *action;     /* "CreateJob", "RevokeToken", ... */
    const char *target;     /* job id, token id, ...; NULL: none */
    bool has_campaign_id;   /* the tenant of the target, when it has one */
    int64_t campaign_id;
    const char *before; /* JSON text or NULL */
    const char *after;  /* JSON text or NULL */
    void *mem;
};

struct store_audit_filter {
    const char *target; /* NULL: any */
    const char *actor;  /* a token id or name; NULL: any */
    int64_t since_ms;   /* entries at or after; 0: all */
    bool has_campaign_id;
    int64_t campaign_id;
    int64_t offset; /* >= 0 */
    int64_t limit;  /* < 0: no limit */
};

struct store_audit_list {
    struct store_audit *items;
    size_t count;
    int64_t total; /* entries matching, ignoring offset and limit */
};

/* Append ENTRY.  Returns 0 with its id in *ret_id (may be NULL), -EINVAL
 * (actor_id or action empty), or a backend error. */
int store_audit_append(struct store *store, const struct store_audit *entry, uint64_t *ret_id,
                       struct store_error *reterr);

/* Entries matching FILTER, newest first, with the total, from one snapshot. */
int store_audit_list(struct store *store, const struct store_audit_filter *filter,
                     struct store_audit_list *ret_list, struct store_error *reterr);

void store_audit_list_release(struct store_audit_list *list);

/* ---- Events ------------------------------------------------------------- */

/* One entry of the event log (src/events): the envelope as JSON text plus the
 * fields a replay filters on.  SEQ is chosen by the caller (the events module
 * numbers events with no gaps); the store only keeps them in order. */
struct store_event {
    int64_t seq; /* >= 1, unique */
    int64_t at_ms;
    const char *type;   /* "scheduler.job_created", ... */
    const char *job_id; /* NULL: none */
    int64_t campaign_id;
    const char *json; /* the envelope */
    size_t json_len;  /* output only */
};

/* Append EVENT (joins an open batch).  Returns 0, -EINVAL, -EEXIST (seq taken)
 * or a backend error. */
int store_event_append(struct store *store, const struct store_event *event,
                       struct store_error *reterr);

/* Return non-zero to stop the walk; that value is then what the walk returns. */
typedef int store_event_cb(const struct store_event *event, void *userdata);

/* Call CB for each event with AFTER_SEQ < seq <= UPTO_SEQ, in seq order, at
 * most LIMIT of them; the event's strings are borrowed for the call and CB must
 * not call the store.  Returns 0, CB's non-zero value, or a backend error. */
int store_event_foreach(struct store *store, int64_t after_seq, int64_t upto_seq, int64_t limit,
                        store_event_cb *cb, void *userdata, struct store_error *reterr);

/* The lowest and highest seq in the log (0 and 0 when it is empty). */
int store_event_bounds(struct store *store, int64_t *ret_min_seq, int64_t *ret_max_seq,
                       struct store_error *reterr);

/* Bound the log: delete the events older than the KEEP newest (KEEP >= 1) and
 * those before BEFORE_AT_MS, but never the newest one (it carries the
 * sequence across a restart).  Returns the number deleted, or an error. */
int store_event_prune(struct store *store, int64_t keep, int64_t before_at_ms,
                      struct store_error *reterr);

/* ---- Patterns and orchestration (SPEC section 7) -------------------------- */

/* A pattern: a reusable job template (src/patterns).  The store keeps its
 * document verbatim and counts its registrations in `revision`. */
struct store_pattern {
    const char *id;           /* pattern_id, non-empty */
    const char *json;         /* the pattern document */
    const char *nexus_status; /* JSON text: the last registration with Nexus; NULL: none */
    int64_t revision;         /* 1 at the first registration, +1 per one after; output only */
    int64_t created_at_ms;
    int64_t updated_at_ms;
    void *mem; /* owns the strings of a returned pattern; NULL in inputs */
};

struct store_pattern_list {
    struct store_pattern *items;
    size_t count;
};

/* Insert pattern P->id, or replace its json (and nexus_status) and add one to
 * its revision.  Returns 0 with the revision in *ret_revision (may be NULL),
 * -EINVAL, or a backend error. */
int store_pattern_put(struct store *store, const struct store_pattern *p, int64_t at_ms,
                      int64_t *ret_revision, struct store_error *reterr);
/* Returns 0, -EINVAL, -ENOENT, -ENOMEM or a backend error. */
int store_pattern_get(struct store *store, const char *id, struct store_pattern *ret,
                      struct store_error *reterr);
/* Every pattern, by id.  Returns 0, -ENOMEM or a backend error. */
int store_pattern_list(struct store *store, struct store_pattern_list *ret,
                       struct store_error *reterr);
/* Returns 0, -EINVAL, -ENOENT or a backend error. */
int store_pattern_delete(struct store *store, const char *id, struct store_error *reterr);
/* Set the Nexus status of pattern ID if its revision is still REVISION (a
 * newer registration owns the status).  Returns 0, -ENOENT (no such pattern,
 * or another revision), or a backend error. */
int store_pattern_set_nexus_status(struct store *store, const char *id, int64_t revision,
                                   const char *status, struct store_error *reterr);
void store_pattern_release(struct store_pattern *p);
void store_pattern_list_release(struct store_pattern_list *list);

/* Claim idempotency KEY at AT_MS for a run yet to start.  Returns 0 when the
 * claim is new, -EEXIST when KEY was claimed before (with the run it started
 * in *ret_run_id, 0 when none yet), -EINVAL, or a backend error.  The primary
 * key makes one claim win, whatever the number of callers. */
int store_idempotency_claim(struct store *store, const char *key, int64_t at_ms,
                            uint64_t *ret_run_id, struct store_error *reterr);
/* Record the run KEY started; RUN_ID 0 drops the claim (the run did not
 * start).  Returns 0, -EINVAL or a backend error. */
int store_idempotency_set_run(struct store *store, const char *key, uint64_t run_id,
                              struct store_error *reterr);
/* Forget keys claimed before BEFORE_MS.  Returns how many, or a backend error. */
int store_idempotency_prune(struct store *store, int64_t before_ms, struct store_error *reterr);

/* The runs with CORRELATION_ID, oldest first (by id), at most LIMIT (< 0: no
 * limit).  Returns 0 with *ret_list (total = count), -EINVAL, -ENOMEM or a
 * backend error. */
int store_run_list_by_correlation(struct store *store, const char *correlation_id, int64_t limit,
                                  struct store_run_list *ret_list, struct store_error *reterr);

/* The orchestration context of run RUN_ID as JSON text (flow, step, the
 * triggering event, ...), written once.  Returns 0, -EINVAL, -ENOENT (no such
 * run) or a backend error. */
int store_run_context_put(struct store *store, uint64_t run_id, const char *json,
                          struct store_error *reterr);
/* Returns 0 with a malloc'ed copy in *ret_json (free()), -ENOENT when the run
 * has none, -ENOMEM or a backend error. */
int store_run_context_get(struct store *store, uint64_t run_id, char **ret_json,
                          struct store_error *reterr);

#endif
