/*
 * pg_fixture - see pg_fixture.h.  The server is driven through
 * tests/lib/pgserver.py, the one launcher every test and bench uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_fixture.h"

#define LAUNCHER "tests/lib/pgserver.py"

static char g_dir[512];
static char g_url[512];
static bool g_own; /* started here: stopped at exit */
static int g_counter;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "pg_fixture: %s: %s\n", what, detail ? detail : "");
    exit(3);
}

static void stop_own(void)
{
    if (!g_own)
        return;
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s stop '%s'", LAUNCHER, g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pg_fixture: could not stop the server in %s\n", g_dir);
}

static void read_var(const char *line, const char *name, char *dst, size_t size)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) == 0 && line[n] == '=') {
        snprintf(dst, size, "%s", line + n + 1);
        dst[strcspn(dst, "\n")] = '\0';
    }
}

static void ensure_server(void)
{
    if (g_url[0])
        return;
    const char *url = getenv("OVSCHED_TEST_PG_URL"), *dir = getenv("OVSCHED_TEST_PG_DIR");
    if (url && *url && dir && *dir) {
        snprintf(g_url, sizeof(g_url), "%s", url);
        snprintf(g_dir, sizeof(g_dir), "%s", dir);
        return;
    }
    if (access(LAUNCHER, R_OK) != 0)
        die("no PostgreSQL server", "set OVSCHED_TEST_PG_URL/DIR or run from the repository root");
    FILE *out = popen("/usr/bin/python3 " LAUNCHER " start", "r");
    if (!out)
        die("cannot run", LAUNCHER);
    char line[700];
    while (fgets(line, sizeof(line), out)) {
        read_var(line, "OVSCHED_TEST_PG_DIR", g_dir, sizeof(g_dir));
        read_var(line, "OVSCHED_TEST_PG_URL", g_url, sizeof(g_url));
    }
    if (pclose(out) != 0 || !g_url[0] || !g_dir[0])
        die("the PostgreSQL server did not start", LAUNCHER " start");
    g_own = true;
    atexit(stop_own);
    setenv("OVSCHED_TEST_PG_URL", g_url, 1);
    setenv("OVSCHED_TEST_PG_DIR", g_dir, 1);
}

static void quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

PGconn *pg_fixture_connect(const char *url)
{
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK)
        die("connect", PQerrorMessage(conn));
    PQsetNoticeProcessor(conn, quiet, NULL);
    return conn;
}

void pg_fixture_exec(const char *url, const char *sql)
{
    PGconn *conn = pg_fixture_connect(url);
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        die(sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

int64_t pg_fixture_query_int(const char *url, const char *sql)
{
    PGconn *conn = pg_fixture_connect(url);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1)
        die(sql, PQresultErrorMessage(res));
    int64_t value = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return value;
}

void pg_fixture_create_db(char *name, size_t name_size, char *url, size_t url_size)
{
    ensure_server();
    snprintf(name, name_size, "t_%d_%d", (int)getpid(), ++g_counter);
    char sql[160];
    snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
    pg_fixture_exec(g_url, sql);
    /* The server's URL ends with /postgres: the same with the new name. */
    const char *slash = strrchr(g_url, '/');
    snprintf(url, url_size, "%.*s/%s", (int)(slash - g_url), g_url, name);
}

void pg_fixture_drop_db(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    pg_fixture_exec(g_url, sql);
}

static void launcher(const char *verb, const char *flag)
{
    ensure_server();
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s '%s' %s", LAUNCHER, verb, g_dir, flag);
    if (system(cmd) != 0)
        die("launcher failed", cmd);
}

void pg_fixture_restart(bool immediate)
{
    launcher("restart", immediate ? "--immediate" : "");
}

void pg_fixture_pause(void)
{
    launcher("pause", "");
}

void pg_fixture_resume(void)
{
    launcher("resume", "");
}
