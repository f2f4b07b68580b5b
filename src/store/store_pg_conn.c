/*
 * store_pg_conn - one libpq connection that comes back by itself, for the
 * PostgreSQL store (contract in store/store_pg.h).
 *
 * A lost connection is found in two ways.  Before a statement is sent, the
 * socket is polled: an idle connection has nothing to read, so anything there
 * is the server's goodbye (a FATAL "terminating connection" on shutdown or
 * pg_terminate_backend(), or EOF), and the store reconnects first -- so a
 * write after a server restart runs once, on the new connection.  During a
 * statement, libpq reports the failure; the statement's fate is then unknown
 * to us (it may have committed just before the connection broke), so it is
 * reported as -ENOTCONN and never re-sent here: the caller decides (see
 * store_pg.c for what it retries, and docs/storage.md).
 *
 * Reconnect attempts back off from 100 ms to 5 s between failures, read on
 * the monotonic clock -- the only clock the store reads.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_pg.h"

#define BACKOFF_FIRST_MS  100
#define BACKOFF_MAX_MS    5000
#define CONNECT_TIMEOUT_S "5"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Parameters and cells ------------------------------------------------ */

static void push(struct pg_params *p, const char *value, int length, int format)
{
    if (p->n >= PG_MAX_PARAMS)
        abort(); /* a statement of ours with too many parameters: a bug */
    p->values[p->n] = value;
    p->lengths[p->n] = length;
    p->formats[p->n] = format;
    p->n++;
}

void pg_params_text(struct pg_params *p, const char *text)
{
    push(p, text, 0, 0);
}

void pg_params_i64(struct pg_params *p, int64_t value)
{
    if (p->n >= PG_MAX_PARAMS)
        abort();
    snprintf(p->ints[p->n], sizeof(p->ints[p->n]), "%lld", (long long)value);
    push(p, p->ints[p->n], 0, 0);
}

void pg_params_i64_or_null(struct pg_params *p, bool has, int64_t value)
{
    if (has)
        pg_params_i64(p, value);
    else
        push(p, NULL, 0, 0);
}

void pg_params_bytes(struct pg_params *p, const void *data, size_t len)
{
    push(p, data, (int)len, 1);
}

int64_t pg_i64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

const char *pg_text(const PGresult *res, int row, int col, size_t *ret_len)
{
    *ret_len = (size_t)PQgetlength(res, row, col);
    return PQgetvalue(res, row, col); /* "" for NULL */
}

const char *pg_text_or_null(const PGresult *res, int row, int col, size_t *ret_len)
{
    if (PQgetisnull(res, row, col)) {
        *ret_len = 0;
        return NULL;
    }
    return pg_text(res, row, col, ret_len);
}

bool pg_is_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long pg_bytea(const PGresult *res, int row, int col, unsigned char **buf, size_t *cap)
{
    if (PQgetisnull(res, row, col))
        return -1;
    const char *text = PQgetvalue(res, row, col);
    size_t len = (size_t)PQgetlength(res, row, col);
    if (len < 2 || text[0] != '\\' || text[1] != 'x' || len % 2)
        return -1; /* bytea_output = hex is set for every session */
    size_t n = (len - 2) / 2;
    if (n + 1 > *cap) {
        unsigned char *bigger = realloc(*buf, n + 1);
        if (!bigger)
            return -ENOMEM;
        *buf = bigger;
        *cap = n + 1;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(text[2 + 2 * i]), lo = hex_value(text[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        (*buf)[i] = (unsigned char)(hi << 4 | lo);
    }
    return (long)n;
}

/* ---- Errors -------------------------------------------------------------- */

/* The SQLSTATE packed into an int as PostgreSQL's MAKE_SQLSTATE does. */
static int pack_sqlstate(const char *state)
{
    int code = 0;
    for (int i = 0; i < 5 && state[i]; i++)
        code |= ((state[i] - '0') & 0x3F) << (6 * i);
    return code;
}

static int errno_of_sqlstate(const char *s)
{
    static const struct {
        const char *state; /* a full SQLSTATE, or a two-character class */
        int error;
    } table[] = {
        {"23505", -EEXIST}, {"23503", -ENOENT},   {"40001", -EBUSY},    {"40P01", -EBUSY},
        {"55P03", -EBUSY},  {"57014", -EBUSY},    {"53300", -EBUSY},    {"53100", -ENOSPC},
        {"53200", -ENOMEM}, {"57P01", -ENOTCONN}, {"57P02", -ENOTCONN}, {"57P03", -ENOTCONN},
        {"08P01", -EIO},    {"08", -ENOTCONN},    {"22", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strncmp(s, table[i].state, strlen(table[i].state)) == 0)
            return table[i].error;
    return -EIO;
}

/* Copy libpq's message without its trailing newline. */
static void trimmed(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
    size_t n = strlen(dst);
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
}

bool pg_conn_is_lost(const struct pg_conn *c)
{
    return !c->conn || PQstatus(c->conn) == CONNECTION_BAD || c->ended_by_server;
}

int pg_conn_fail(struct pg_conn *c, const PGresult *res, struct store_error *reterr)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char message[200];
    if (state) {
        trimmed(message, sizeof(message), PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        int error = errno_of_sqlstate(state);
        if (error == -ENOTCONN)
            return store_error_set(reterr, error, pack_sqlstate(state),
                                   "postgres: the connection was lost: %s (SQLSTATE %s)", message,
                                   state);
        return store_error_set(reterr, error, pack_sqlstate(state), "postgres: %s (SQLSTATE %s)",
                               message, state);
    }
    trimmed(message, sizeof(message), c->conn ? PQerrorMessage(c->conn) : "not connected");
    if (pg_conn_is_lost(c))
        return store_error_set(reterr, -ENOTCONN, 0,
                               "postgres: the connection was lost: %s; the store reconnects "
                               "at the next call",
                               message);
    return store_error_set(reterr, -EIO, 0, "postgres: %s", message);
}

/* ---- Connecting ---------------------------------------------------------- */

/* Notices ("relation already exists, skipping") are dropped: a library
 * never prints.  A FATAL one arriving while idle is the server ending the
 * session (shutdown, pg_terminate_backend()): the connection is marked dead,
 * so the next call reconnects before it sends anything. */
static void on_notice(void *arg, const PGresult *res)
{
    struct pg_conn *c = arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
        c->ended_by_server = true;
}

static int exec_simple(PGconn *conn, const char *sql, char *err, size_t err_size)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int r = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        trimmed(err, err_size, PQresultErrorMessage(res));
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        r = state ? errno_of_sqlstate(state) : PQstatus(conn) == CONNECTION_BAD ? -ENOTCONN : -EIO;
    }
    PQclear(res);
    return r;
}

/* Session settings, then the exclusive lock when the store holds one. */
static int set_up_session(struct pg_conn *c, char *err, size_t err_size)
{
    char sql[256];
    /* lock_timeout = 0 would mean "wait forever"; the store's 0 fails at once. */
    snprintf(sql, sizeof(sql),
             "SET lock_timeout = %d; SET bytea_output = 'hex';"
             " SET default_transaction_isolation = 'read committed'",
             c->lock_timeout_ms > 0 ? c->lock_timeout_ms : 1);
    int r = exec_simple(c->conn, sql, err, err_size);
    if (r < 0 || c->exclusive_key == 0)
        return r;
    snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld)", (long long)c->exclusive_key);
    PGresult *res = PQexec(c->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        trimmed(err, err_size, PQresultErrorMessage(res));
        r = -EIO;
    } else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        snprintf(err, err_size, "another ovsched is already using this database");
        r = -EBUSY;
    }
    PQclear(res);
    return r;
}

static int connect_once(struct pg_conn *c, char *err, size_t err_size)
{
    /* The caller's string (URL or key=value) is expanded in place of dbname,
     * so its connect_timeout wins over ours; client_encoding comes after it:
     * the store speaks UTF-8 whatever PGCLIENTENCODING says. */
    const char *timeout_env = getenv("PGCONNECT_TIMEOUT");
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                          "client_encoding", NULL};
    const char *values[] = {timeout_env && *timeout_env ? timeout_env : CONNECT_TIMEOUT_S,
                            "ovsched", c->conninfo, "UTF8", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        trimmed(err, err_size, PQerrorMessage(conn));
        PQfinish(conn);
        return -ENOTCONN;
    }
    c->ended_by_server = false;
    PQsetNoticeReceiver(conn, on_notice, c);
    c->conn = conn;
    int r = set_up_session(c, err, err_size);
    if (r < 0) {
        PQfinish(conn);
        c->conn = NULL;
        return r;
    }
    c->generation++;
    return 0;
}

int pg_conn_open(struct pg_conn *c, char *err, size_t err_size)
{
    c->backoff_ms = BACKOFF_FIRST_MS;
    char message[200] = "";
    int r = connect_once(c, message, sizeof(message));
    if (r < 0 && err && err_size > 0)
        snprintf(err, err_size, "postgres: %s", message);
    return r;
}

int pg_conn_prepare(struct pg_conn *c, struct store_error *reterr)
{
    PGconn *conn = c->conn;
    if (!PQenterPipelineMode(conn))
        return pg_conn_fail(c, NULL, reterr);
    int r = 0, i;
    char name[16];
    for (i = 0; i < c->n_sql && r == 0; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        if (!PQsendPrepare(conn, name, c->sql[i], 0, NULL))
            r = -EIO;
    }
    if (r == 0 && !PQpipelineSync(conn))
        r = -EIO;
    if (r < 0) {
        r = pg_conn_fail(c, NULL, reterr);
        PQexitPipelineMode(conn);
        return r;
    }
    /* One result (and a NULL) per statement, then the sync. */
    for (i = 0; i < c->n_sql; i++) {
        PGresult *res = PQgetResult(conn);
        if (!res) {
            r = r < 0 ? r : pg_conn_fail(c, NULL, reterr);
            break;
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK && r == 0) {
            r = pg_conn_fail(c, res, reterr);
            if (reterr) {
                size_t n = strlen(reterr->message);
                snprintf(reterr->message + n, sizeof(reterr->message) - n,
                         " (preparing statement %d)", i);
            }
        }
        PQclear(res);
        while ((res = PQgetResult(conn)) != NULL) /* the NULL ending this query */
            PQclear(res);
    }
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        if (st == PGRES_PIPELINE_SYNC)
            break;
    }
    PQexitPipelineMode(conn);
    if (r == 0)
        c->prepare_on_connect = true;
    return r;
}

static int reconnect(struct pg_conn *c, struct store_error *reterr)
{
    int64_t now = mono_ms();
    if (now < c->next_attempt_ms)
        return store_error_set(reterr, -ENOTCONN, 0,
                               "postgres: not connected (%s); next attempt in %lld ms",
                               c->last_error, (long long)(c->next_attempt_ms - now));
    if (c->conn)
        PQfinish(c->conn);
    c->conn = NULL;
    char message[200] = "";
    int r = connect_once(c, message, sizeof(message));
    if (r == 0 && c->prepare_on_connect) {
        struct store_error perr = {0};
        r = pg_conn_prepare(c, &perr);
        if (r < 0) {
            snprintf(message, sizeof(message), "%.190s", perr.message);
            PQfinish(c->conn);
            c->conn = NULL;
        }
    }
    if (r < 0) {
        snprintf(c->last_error, sizeof(c->last_error), "%s", message);
        c->next_attempt_ms = now + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
        return store_error_set(reterr, r == -EBUSY ? -EBUSY : -ENOTCONN, 0,
                               "postgres: cannot reconnect: %s", message);
    }
    c->backoff_ms = BACKOFF_FIRST_MS;
    c->next_attempt_ms = 0;
    return 0;
}

bool pg_conn_dropped_while_idle(struct pg_conn *c)
{
    PGconn *conn = c->conn;
    if (!conn || PQstatus(conn) == CONNECTION_BAD || c->ended_by_server)
        return true;
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    if (pfd.fd < 0)
        return true;
    /* The goodbye and the EOF may need a read each. */
    for (int i = 0; i < 4 && poll(&pfd, 1, 0) > 0; i++) {
        if (!PQconsumeInput(conn))
            return true;
        PGnotify *note;
        while ((note = PQnotifies(conn)) != NULL)
            PQfreemem(note);
        if (PQstatus(conn) == CONNECTION_BAD || c->ended_by_server)
            return true;
    }
    return false;
}

int pg_conn_ready(struct pg_conn *c, struct store_error *reterr)
{
    if (!pg_conn_dropped_while_idle(c))
        return 0;
    return reconnect(c, reterr);
}

/* ---- Statements ---------------------------------------------------------- */

static int check_result(struct pg_conn *c, PGresult *res, PGresult **ret,
                        struct store_error *reterr)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (ret)
            *ret = res;
        else
            PQclear(res);
        return 0;
    }
    int r = pg_conn_fail(c, res, reterr);
    PQclear(res);
    return r;
}

int pg_conn_exec(struct pg_conn *c, int stmt, const struct pg_params *p, PGresult **ret,
                 struct store_error *reterr)
{
    if (!c->conn)
        return pg_conn_fail(c, NULL, reterr);
    char name[16];
    snprintf(name, sizeof(name), "s%d", stmt);
    PGresult *res = PQexecPrepared(c->conn, name, p ? p->n : 0, p ? p->values : NULL,
                                   p ? p->lengths : NULL, p ? p->formats : NULL, 0);
    return check_result(c, res, ret, reterr);
}

int pg_conn_exec_sql(struct pg_conn *c, const char *sql, PGresult **ret, struct store_error *reterr)
{
    if (!c->conn)
        return pg_conn_fail(c, NULL, reterr);
    return check_result(c, PQexec(c->conn, sql), ret, reterr);
}

int pg_conn_set_lock_timeout(struct pg_conn *c, int ms)
{
    c->lock_timeout_ms = ms;
    if (!c->conn || PQstatus(c->conn) != CONNECTION_OK)
        return 0; /* applied at the next connect */
    char sql[64];
    snprintf(sql, sizeof(sql), "SET lock_timeout = %d", ms > 0 ? ms : 1);
    return pg_conn_exec_sql(c, sql, NULL, NULL) < 0 ? -EIO : 0;
}

void pg_conn_close(struct pg_conn *c)
{
    if (c->conn)
        PQfinish(c->conn);
    c->conn = NULL;
    free(c->conninfo);
    c->conninfo = NULL;
}

/* ---- Redaction ----------------------------------------------------------- */

struct out {
    char *buf;
    size_t size, len;
};

static void out_add(struct out *o, const char *text, size_t len)
{
    for (size_t i = 0; i < len && o->len + 1 < o->size; i++)
        o->buf[o->len++] = text[i];
    o->buf[o->len] = '\0';
}

static void redact_url(const char *url, struct out *o)
{
    const char *scheme_end = strstr(url, "://");
    const char *auth = scheme_end + 3;
    const char *auth_end = auth + strcspn(auth, "/?");
    const char *at = NULL;
    for (const char *c = auth; c < auth_end; c++)
        if (*c == '@')
            at = c;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon) {
        out_add(o, url, (size_t)(colon - url));
        out_add(o, ":***", 4);
        out_add(o, at, (size_t)(auth_end - at));
    } else {
        out_add(o, url, (size_t)(auth_end - url));
    }
    /* The path, then each query parameter, with password=... masked. */
    const char *query = strchr(auth_end, '?');
    out_add(o, auth_end, query ? (size_t)(query - auth_end) : strlen(auth_end));
    for (const char *param = query; param && *param;) {
        size_t len = strcspn(param + 1, "&") + 1; /* with its '?' or '&' */
        if (strncmp(param + 1, "password=", 9) == 0)
            out_add(o, param, 10), out_add(o, "***", 3);
        else
            out_add(o, param, len);
        param += len;
    }
}

/* key=value words: parsed as libpq parses them, then written back with the
 * password masked (a string libpq cannot parse is not echoed at all: it
 * might hold a password in a form we did not recognise). */
static void redact_words(const char *text, struct out *o)
{
    PQconninfoOption *options = PQconninfoParse(text, NULL);
    if (!options) {
        out_add(o, "(invalid connection string)", 27);
        return;
    }
    bool first = true;
    for (PQconninfoOption *opt = options; opt->keyword; opt++) {
        if (!opt->val)
            continue;
        if (!first)
            out_add(o, " ", 1);
        first = false;
        out_add(o, opt->keyword, strlen(opt->keyword));
        out_add(o, "=", 1);
        if (strcmp(opt->keyword, "password") == 0)
            out_add(o, "***", 3);
        else
            out_add(o, opt->val, strlen(opt->val));
    }
    PQconninfoFree(options);
}

void store_conninfo_redact(const char *conninfo, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    struct out o = {buf, size, 0};
    buf[0] = '\0';
    if (!conninfo)
        return;
    if (strncmp(conninfo, "postgres://", 11) == 0 || strncmp(conninfo, "postgresql://", 13) == 0)
        redact_url(conninfo, &o);
    else
        redact_words(conninfo, &o);
}
