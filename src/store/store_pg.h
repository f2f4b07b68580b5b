/*
 * store/store_pg.h - the PostgreSQL backend's connection keeper, shared by
 * its files (store_pg.c: schema and operations; store_pg_conn.c: this).
 *
 * A `struct pg_conn` is one libpq connection that comes back by itself: the
 * connection string is kept, and a call that finds the connection gone (the
 * server restarted, an administrator terminated the session, the network
 * dropped) reconnects before it sends anything, with a backoff between
 * failed attempts so a loop calling the store while the server is down is
 * not blocked on connect timeouts at every call.  After a reconnect the
 * session is set up again (settings, prepared statements, the advisory lock
 * of an exclusive store) before the caller's statement runs.
 *
 * Statements are prepared per connection from a table the caller gives
 * (index -> SQL), all at once in one pipeline round trip after each connect.
 * Parameters go as text, except bytea (binary); results come as text, and
 * int64 values are parsed exactly (strtoll), never through a double.
 *
 * Errors map SQLSTATEs to the store's negative errno (pg_conn_errno()):
 * unique violation -EEXIST, foreign key -ENOENT, serialization failure,
 * deadlock, lock or statement timeout -EBUSY, disk full -ENOSPC, out of
 * memory -ENOMEM, bad text (invalid UTF-8, ...) -EINVAL, a lost or refused
 * connection -ENOTCONN, anything else -EIO.
 *
 * Synchronous, one thread: each call waits for its result.  No logging.
 */
#ifndef OVSCHED_STORE_STORE_PG_H
#define OVSCHED_STORE_STORE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/internal.h"

#define PG_MAX_PARAMS 40

struct pg_conn {
    PGconn *conn;           /* NULL while disconnected */
    char *conninfo;         /* as given; may hold a password: never in a message */
    const char *const *sql; /* the statements to prepare after each connect */
    int n_sql;
    int lock_timeout_ms;      /* SET lock_timeout after each connect */
    int64_t exclusive_key;    /* 0, or the session advisory lock to hold */
    int64_t next_attempt_ms;  /* monotonic: no reconnect before this */
    int backoff_ms;           /* the wait after the next failed attempt */
    unsigned long generation; /* +1 per successful (re)connect */
    bool prepare_on_connect;  /* set once the schema exists */
    char last_error[200];     /* why the last connection attempt failed */
    bool ended_by_server;     /* a FATAL notice came: the session is over */
};

/* Text and binary parameters for one statement, built in place. */
struct pg_params {
    int n;
    const char *values[PG_MAX_PARAMS];
    int lengths[PG_MAX_PARAMS];
    int formats[PG_MAX_PARAMS];
    char ints[PG_MAX_PARAMS][24];
};

void pg_params_text(struct pg_params *p, const char *text); /* NULL: SQL NULL */
void pg_params_i64(struct pg_params *p, int64_t value);
void pg_params_i64_or_null(struct pg_params *p, bool has, int64_t value);
void pg_params_bytes(struct pg_params *p, const void *data, size_t len); /* NULL: SQL NULL */

/* Connect C (conninfo, sql and lock_timeout_ms set by the caller).  Returns
 * 0, or a negative errno with a sentence in ERR. */
int pg_conn_open(struct pg_conn *c, char *err, size_t err_size);

/* Make sure C is connected before a statement is sent: finds a connection the
 * server dropped while it was idle (its FATAL message or EOF is waiting on
 * the socket) and reconnects, unless the last attempt failed less than the
 * backoff ago.  Returns 0, or -ENOTCONN (or -EBUSY when another process holds
 * the exclusive lock) with RETERR filled in. */
int pg_conn_ready(struct pg_conn *c, struct store_error *reterr);

/* Execute prepared statement STMT with P (may be NULL).  Returns 0 with the
 * result in *RET (PQclear() it), or the mapped error with RETERR filled in
 * and nothing in *RET.  COMMAND_OK and TUPLES_OK are success. */
int pg_conn_exec(struct pg_conn *c, int stmt, const struct pg_params *p, PGresult **ret,
                 struct store_error *reterr);

/* The same for SQL text without parameters (BEGIN, COMMIT, ...). */
int pg_conn_exec_sql(struct pg_conn *c, const char *sql, PGresult **ret,
                     struct store_error *reterr);

/* Map failed result RES (may be NULL: the connection failed) of C. */
int pg_conn_fail(struct pg_conn *c, const PGresult *res, struct store_error *reterr);

/* Whether the server ended C's session while it was idle (polls the
 * socket; reads what is waiting there). */
bool pg_conn_dropped_while_idle(struct pg_conn *c);

/* Whether C's connection is gone (after a failure). */
bool pg_conn_is_lost(const struct pg_conn *c);

/* Apply a new lock timeout to the live session (and to every later one). */
int pg_conn_set_lock_timeout(struct pg_conn *c, int ms);

void pg_conn_close(struct pg_conn *c);

/* Cell helpers on text results. */
int64_t pg_i64(const PGresult *res, int row, int col);
const char *pg_text(const PGresult *res, int row, int col, size_t *ret_len); /* never NULL */
const char *pg_text_or_null(const PGresult *res, int row, int col, size_t *ret_len);
bool pg_is_null(const PGresult *res, int row, int col);
/* A bytea cell (hex text) decoded into *BUF, grown (realloc) to fit: returns
 * its length, -1 when NULL or malformed, -ENOMEM. */
long pg_bytea(const PGresult *res, int row, int col, unsigned char **buf, size_t *cap);

/* Prepare C's statements (after the schema exists; again after every
 * reconnect by itself).  Returns 0 or a negative errno with RETERR filled. */
int pg_conn_prepare(struct pg_conn *c, struct store_error *reterr);

#endif
