/*
 * bench_pg - a PostgreSQL server for the benches (bench_store postgres,
 * bench_daemon with OVSCHED_BENCH_STORE=postgres): started with
 * tests/lib/pgserver.py --fsync (commits flushed to disk, as in production)
 * and stopped at exit, unless OVSCHED_BENCH_PG_URL and OVSCHED_BENCH_PG_DIR
 * name one already running.  Run from the repository root.
 */
#ifndef OVSCHED_BENCH_PG_H
#define OVSCHED_BENCH_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL mode: the server's URL (of its `postgres` database), its
 * folder, and whether this process started it. */
static char g_bench_pg_url[512], g_bench_pg_dir[512];
static bool g_bench_pg_own;

static void bench_pg_stop(void)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/lib/pgserver.py stop '%s'", g_bench_pg_dir);
    if (g_bench_pg_own && system(cmd) != 0)
        fprintf(stderr, "bench: could not stop the server in %s\n", g_bench_pg_dir);
}

static void bench_pg_start(void)
{
    const char *url = getenv("OVSCHED_BENCH_PG_URL"), *dir = getenv("OVSCHED_BENCH_PG_DIR");
    if (url && dir) {
        snprintf(g_bench_pg_url, sizeof(g_bench_pg_url), "%s", url);
        snprintf(g_bench_pg_dir, sizeof(g_bench_pg_dir), "%s", dir);
        return;
    }
    FILE *out = popen("/usr/bin/python3 tests/lib/pgserver.py start --fsync", "r");
    char line[500];
    while (out && fgets(line, sizeof(line), out)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "OVSCHED_TEST_PG_URL=", 20) == 0)
            snprintf(g_bench_pg_url, sizeof(g_bench_pg_url), "%s", line + 20);
        if (strncmp(line, "OVSCHED_TEST_PG_DIR=", 20) == 0)
            snprintf(g_bench_pg_dir, sizeof(g_bench_pg_dir), "%s", line + 20);
    }
    if (!out || pclose(out) != 0 || !g_bench_pg_url[0]) {
        fprintf(stderr, "bench: cannot start PostgreSQL (tests/lib/pgserver.py)\n");
        exit(2);
    }
    g_bench_pg_own = true;
    atexit(bench_pg_stop);
}

static void bench_pg_quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

static void bench_pg_exec(const char *url, const char *sql)
{
    PGconn *conn = PQconnectdb(url);
    PQsetNoticeProcessor(conn, bench_pg_quiet, NULL);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
        exit(2);
    }
    PQclear(res);
    PQfinish(conn);
}

/* A new database named after the last part of DIR (dropped first if it
 * exists); its URL into URL. */
static void bench_pg_new_db(const char *dir, char *url, size_t size)
{
    const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\"", name);
    bench_pg_exec(g_bench_pg_url, sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
    bench_pg_exec(g_bench_pg_url, sql);
    snprintf(url, size, "%.*s/%s", (int)(strrchr(g_bench_pg_url, '/') - g_bench_pg_url),
             g_bench_pg_url, name);
}

#endif
