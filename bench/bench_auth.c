/*
 * bench_auth - what authentication adds to every API request: one BLAKE2b
 * hash of the token and one primary-key read of its row, measured on a real
 * store holding TOKENS tokens (10,000 by default, OVSCHED_BENCH_TOKENS), and
 * the cost of the OVSCHED_ADMIN_TOKEN path (two hashes, no store read).
 *
 * Prints checks per second and ns per check.  Exit 0 when measured, 2 when
 * the bench itself broke.
 */
#include <ftw.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"

#define CHECKS 200000

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove(path);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, int n, double seconds)
{
    printf("  %-44s %9.0f checks/s  %7.0f ns/check\n", what, n / seconds, seconds / n * 1e9);
}

int main(void)
{
    const char *env = getenv("OVSCHED_BENCH_TOKENS");
    int tokens = env ? atoi(env) : 10000;
    char dir[] = "/tmp/ovsched-bench-auth-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    struct store *st = NULL;
    char err[256] = "";
    if (store_open_sqlite(dir, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench_auth: %s\n", err);
        return 2;
    }
    char(*texts)[AUTH_TOKEN_TEXT_SIZE] = g_malloc((size_t)tokens * AUTH_TOKEN_TEXT_SIZE);
    store_begin(st, NULL);
    for (int i = 0; i < tokens; i++) {
        char id[AUTH_TOKEN_ID_SIZE];
        auth_token_generate(id, texts[i]);
        struct store_token row = {
            .id = id, .name = "bench", .role = "operator", .created_at_ms = 1};
        auth_token_hash(texts[i], row.hash);
        if (store_token_create(st, &row, NULL) < 0)
            return 2;
    }
    if (store_commit(st, NULL) < 0)
        return 2;
    printf("bench_auth: %d tokens in the store\n", tokens);

    struct auth_principal p;
    const char *reason;
    double start = now_s();
    for (int i = 0; i < CHECKS; i++)
        if (auth_authenticate(st, NULL, texts[i % tokens], &p, &reason) < 0)
            return 2;
    report("stored token (hash + row read)", CHECKS, now_s() - start);

    start = now_s();
    for (int i = 0; i < CHECKS; i++)
        if (auth_authenticate(st, "an-operator-chosen-admin-token",
                              "an-operator-chosen-admin-token", &p, &reason) < 0)
            return 2;
    report("OVSCHED_ADMIN_TOKEN (two hashes)", CHECKS, now_s() - start);

    start = now_s();
    for (int i = 0; i < CHECKS; i++)
        auth_authenticate(st, NULL, "ovs_0123456789abcdef_nope", &p, &reason);
    report("unknown token (refused)", CHECKS, now_s() - start);

    g_free(texts);
    store_close(st);
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}
