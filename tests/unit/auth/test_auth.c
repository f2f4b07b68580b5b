/*
 * test_auth - tokens and roles: the token format, hashing and constant-time
 * verification, the role order, tenant visibility, authentication against a
 * real store (stored, revoked, wrong secret, malformed, the environment's
 * token) and the admin token bootstrap (file mode, no regeneration, no
 * plaintext in the database).
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <glib.h>

#include "auth/auth.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct store *st;
};

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/ovsched-auth-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(store_open_sqlite(fx->dir, &fx->st, NULL, 0), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    store_close(fx->st);
    nftw(fx->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void test_token_format(void **state)
{
    (void)state;
    char id[AUTH_TOKEN_ID_SIZE], text[AUTH_TOKEN_TEXT_SIZE], parsed[AUTH_TOKEN_ID_SIZE];
    char id2[AUTH_TOKEN_ID_SIZE], text2[AUTH_TOKEN_TEXT_SIZE];
    auth_token_generate(id, text);
    auth_token_generate(id2, text2);
    assert_int_equal(strlen(id), 16);
    assert_true(g_str_has_prefix(text, "ovs_"));
    assert_int_equal(strlen(text), 4 + 16 + 1 + 43); /* 32 bytes in unpadded base64url */
    assert_int_equal(auth_token_parse_id(text, parsed), 0);
    assert_string_equal(parsed, id);
    assert_string_not_equal(text, text2);
    assert_string_not_equal(id, id2);
    static const char *const bad[] = {"",
                                      "ovs_",
                                      "ovs_0123456789abcdef",
                                      "ovs_0123456789abcdef_",
                                      "xyz_0123456789abcdef_secret",
                                      "ovs_0123456789ABCDEF_secret",
                                      "ovs_0123456789abcdeg_secret",
                                      "ovs_0123456789abcde_secret"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        assert_int_equal(auth_token_parse_id(bad[i], parsed), -EINVAL);
}

static void test_hash_verify(void **state)
{
    (void)state;
    char id[AUTH_TOKEN_ID_SIZE], text[AUTH_TOKEN_TEXT_SIZE];
    unsigned char hash[STORE_TOKEN_HASH_SIZE], other[STORE_TOKEN_HASH_SIZE];
    auth_token_generate(id, text);
    auth_token_hash(text, hash);
    assert_true(auth_token_matches(text, hash));
    /* Every single-character change is refused. */
    for (size_t i = 0; i < strlen(text); i++) {
        char copy[AUTH_TOKEN_TEXT_SIZE];
        strcpy(copy, text);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        assert_false(auth_token_matches(copy, hash));
    }
    char longer[AUTH_TOKEN_TEXT_SIZE + 2];
    snprintf(longer, sizeof(longer), "%sx", text);
    assert_false(auth_token_matches(longer, hash));
    /* BLAKE2b with a 32-byte digest of "abc", as an independent
     * implementation computes it: hashlib.blake2b(b"abc", digest_size=32). */
    auth_token_hash("abc", other);
    assert_memory_not_equal(other, hash, sizeof(hash));
    static const unsigned char abc[] = {0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72,
                                        0x31, 0x71, 0xef, 0x3f, 0xee, 0x98, 0x57, 0x9b,
                                        0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb, 0x3e, 0x42,
                                        0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19};
    assert_memory_equal(other, abc, sizeof(abc));
}

static void test_roles(void **state)
{
    (void)state;
    static const char *const names[] = {"viewer", "operator", "admin"};
    for (int i = 0; i < 3; i++) {
        enum auth_role role;
        assert_int_equal(auth_role_from_string(names[i], &role), 0);
        assert_string_equal(auth_role_to_string(role), names[i]);
        for (int j = 0; j < 3; j++) {
            enum auth_role need;
            auth_role_from_string(names[j], &need);
            assert_int_equal(auth_role_allows(role, need), i >= j);
        }
    }
    enum auth_role role = AUTH_ROLE_VIEWER;
    assert_int_equal(auth_role_from_string("root", &role), -EINVAL);
    assert_int_equal(auth_role_from_string("Admin", &role), -EINVAL);
    assert_int_equal(auth_role_from_string(NULL, &role), -EINVAL);
    assert_int_equal(role, AUTH_ROLE_VIEWER);

    struct auth_principal unbound = {.role = AUTH_ROLE_ADMIN};
    struct auth_principal bound = {
        .role = AUTH_ROLE_ADMIN, .has_campaign_id = true, .campaign_id = 7};
    assert_true(auth_principal_sees(&unbound, 0));
    assert_true(auth_principal_sees(&unbound, 7));
    assert_true(auth_principal_sees(&bound, 7));
    assert_false(auth_principal_sees(&bound, 0));
    assert_false(auth_principal_sees(&bound, 8));
}

/* Store a new token of ROLE (tenant CAMPAIGN, -1: none); its text in TEXT. */
static void add_token(struct store *st, const char *name, const char *role, int64_t campaign,
                      char text[AUTH_TOKEN_TEXT_SIZE], char id[AUTH_TOKEN_ID_SIZE])
{
    auth_token_generate(id, text);
    struct store_token row = {.id = id,
                              .name = name,
                              .role = role,
                              .has_campaign_id = campaign >= 0,
                              .campaign_id = campaign,
                              .created_at_ms = 1000};
    auth_token_hash(text, row.hash);
    assert_int_equal(store_token_create(st, &row, NULL), 0);
}

static void test_authenticate(void **state)
{
    struct fixture *fx = *state;
    char op[AUTH_TOKEN_TEXT_SIZE], op_id[AUTH_TOKEN_ID_SIZE];
    add_token(fx->st, "ops", "operator", 3, op, op_id);
    struct auth_principal p;
    const char *reason = NULL;
    assert_int_equal(auth_authenticate(fx->st, NULL, op, &p, &reason), 0);
    assert_int_equal(p.role, AUTH_ROLE_OPERATOR);
    assert_true(p.has_campaign_id);
    assert_int_equal(p.campaign_id, 3);
    assert_string_equal(p.id, op_id);
    assert_string_equal(p.name, "ops");

    char wrong[AUTH_TOKEN_TEXT_SIZE];
    strcpy(wrong, op);
    wrong[strlen(wrong) - 1] ^= 1;
    assert_int_equal(auth_authenticate(fx->st, NULL, wrong, &p, &reason), -EACCES);
    assert_int_equal(auth_authenticate(fx->st, NULL, "garbage", &p, &reason), -EACCES);
    assert_int_equal(auth_authenticate(fx->st, NULL, "ovs_0000000000000000_abc", &p, &reason),
                     -EACCES);
    assert_string_equal(reason, "invalid bearer token");

    /* The environment's token is an unbound admin; near misses are not. */
    assert_int_equal(auth_authenticate(fx->st, "hunter2", "hunter2", &p, &reason), 0);
    assert_int_equal(p.role, AUTH_ROLE_ADMIN);
    assert_false(p.has_campaign_id);
    assert_string_equal(p.id, AUTH_ENV_TOKEN_ID);
    assert_int_equal(auth_authenticate(fx->st, "hunter2", "hunter", &p, &reason), -EACCES);
    assert_int_equal(auth_authenticate(fx->st, "hunter2", "hunter22", &p, &reason), -EACCES);
    assert_int_equal(auth_authenticate(fx->st, "", "", &p, &reason), -EACCES);

    assert_int_equal(store_token_revoke(fx->st, op_id, 5000, NULL), 0);
    assert_int_equal(auth_authenticate(fx->st, NULL, op, &p, &reason), -EACCES);
    assert_string_equal(reason, "this token was revoked");
}

static char *read_file(const char *path, size_t *len)
{
    char *text = NULL;
    gsize n = 0;
    if (!g_file_get_contents(path, &text, &n, NULL))
        return NULL;
    *len = n;
    return text;
}

static bool file_contains(const char *path, const char *needle)
{
    size_t len = 0;
    char *blob = read_file(path, &len);
    bool found = blob && memmem(blob, len, needle, strlen(needle)) != NULL;
    g_free(blob);
    return found;
}

/* OVSCHED_ADMIN_TOKEN: unset or empty is no token; set, it has 32 characters
 * or more, and a refusal names the variable but never echoes the value. */
static void test_env_admin_token_length(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(auth_env_admin_token_check(NULL, err, sizeof(err)), 0);
    assert_int_equal(auth_env_admin_token_check("", err, sizeof(err)), 0);
    assert_int_equal(
        auth_env_admin_token_check("0123456789abcdef0123456789abcdef", err, sizeof(err)), 0);
    static const char *const short_ones[] = {"a", "s3cret", "0123456789abcdef0123456789abcde"};
    for (size_t i = 0; i < sizeof(short_ones) / sizeof(short_ones[0]); i++) {
        err[0] = '\0';
        assert_int_equal(auth_env_admin_token_check(short_ones[i], err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "OVSCHED_ADMIN_TOKEN"));
        assert_non_null(strstr(err, "at least 32"));
        if (strlen(short_ones[i]) > 4)
            assert_null(strstr(err, short_ones[i]));
    }
}

static void test_bootstrap(void **state)
{
    struct fixture *fx = *state;
    char *path = NULL, err[256] = "";
    bool generated = false;
    assert_int_equal(
        auth_bootstrap(fx->st, fx->dir, NULL, 1000, &path, &generated, err, sizeof(err)), 0);
    assert_true(generated);
    assert_non_null(path);
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
    size_t len = 0;
    char *text = read_file(path, &len);
    g_strchomp(text);
    struct auth_principal p;
    const char *reason;
    assert_int_equal(auth_authenticate(fx->st, NULL, text, &p, &reason), 0);
    assert_int_equal(p.role, AUTH_ROLE_ADMIN);

    /* The database and its WAL hold the hash only. */
    char *db = g_build_filename(fx->dir, "ovsched.db", NULL);
    char *wal = g_build_filename(fx->dir, "ovsched.db-wal", NULL);
    const char *secret = text + strlen("ovs_") + 16 + 1; /* base64url may hold '_' */
    assert_false(file_contains(db, secret));
    assert_false(file_contains(wal, secret));

    /* A second start keeps the token and the file. */
    char *again = NULL;
    assert_int_equal(
        auth_bootstrap(fx->st, fx->dir, NULL, 2000, &again, &generated, err, sizeof(err)), 0);
    assert_false(generated);
    assert_string_equal(again, path);
    size_t len2 = 0;
    char *text2 = read_file(path, &len2);
    g_strchomp(text2);
    assert_string_equal(text, text2);
    struct store_token_list list;
    assert_int_equal(store_token_list(fx->st, &list, NULL), 0);
    assert_int_equal(list.count, 1);
    store_token_list_release(&list);
    g_free(db), g_free(wal), g_free(text), g_free(text2), g_free(path), g_free(again);
}

static void test_bootstrap_with_env(void **state)
{
    struct fixture *fx = *state;
    char *path = (char *)"unset", err[256] = "";
    bool generated = true;
    assert_int_equal(
        auth_bootstrap(fx->st, fx->dir, "from-env", 1000, &path, &generated, err, sizeof(err)), 0);
    assert_false(generated);
    assert_null(path);
    struct store_token_list list;
    assert_int_equal(store_token_list(fx->st, &list, NULL), 0);
    assert_int_equal(list.count, 0);
    store_token_list_release(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_format),
        cmocka_unit_test(test_hash_verify),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_env_admin_token_length),
        cmocka_unit_test_setup_teardown(test_authenticate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_with_env, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
