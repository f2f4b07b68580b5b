/*
 * pg_fixture - the PostgreSQL side of the store tests: a server, a fresh
 * database per test, and a plain libpq connection to look at what the store
 * wrote, as another process would.
 *
 * The server is the one tests/run-all.sh started (OVSCHED_TEST_PG_URL and
 * OVSCHED_TEST_PG_DIR, from tests/lib/pgserver.py); a test binary run alone
 * starts its own through the same script and stops it at exit.  Failing to
 * get a server is a test failure, never a skip.
 */
#ifndef OVSCHED_TESTS_PG_FIXTURE_H
#define OVSCHED_TESTS_PG_FIXTURE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Create a new empty database; its name into NAME and its URL (with the
 * password) into URL.  Aborts the test binary if there is no server. */
void pg_fixture_create_db(char *name, size_t name_size, char *url, size_t url_size);
void pg_fixture_drop_db(const char *name);

/* A plain connection to URL (aborts on failure); PQfinish() it. */
PGconn *pg_fixture_connect(const char *url);
/* The first column of the first row of SQL on URL, as an integer. */
int64_t pg_fixture_query_int(const char *url, const char *sql);
/* Run SQL on URL (aborts on failure). */
void pg_fixture_exec(const char *url, const char *sql);

/* Stop the server (IMMEDIATE: as a crash) and start it again on its port;
 * pause stops it and leaves it stopped until resume. */
void pg_fixture_restart(bool immediate);
void pg_fixture_pause(void);
void pg_fixture_resume(void);

#endif
