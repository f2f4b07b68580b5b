/*
 * auth - tokens and roles.  See auth.h.
 *
 * The token text embeds its id so that a request costs one primary-key read,
 * never a scan; an unknown id and a wrong secret give the same answer
 * ("invalid token"), so a caller learns nothing about which ids exist.
 */
#include "auth/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_PREFIX       "ovs_"
#define TOKEN_SECRET_BYTES 32
#define TOKEN_ID_BYTES     8
#define ADMIN_TOKEN_FILE   "admin-token"

static const char *const role_names[] = {
    [AUTH_ROLE_VIEWER] = "viewer",
    [AUTH_ROLE_OPERATOR] = "operator",
    [AUTH_ROLE_ADMIN] = "admin",
};

const char *auth_role_to_string(enum auth_role role)
{
    return role >= AUTH_ROLE_VIEWER && role <= AUTH_ROLE_ADMIN ? role_names[role] : "none";
}

int auth_role_from_string(const char *text, enum auth_role *ret_role)
{
    for (int r = AUTH_ROLE_VIEWER; text && r <= AUTH_ROLE_ADMIN; r++) {
        if (strcmp(text, role_names[r]) == 0) {
            *ret_role = (enum auth_role)r;
            return 0;
        }
    }
    return -EINVAL;
}

bool auth_role_allows(enum auth_role have, enum auth_role need)
{
    return have >= need;
}

bool auth_principal_sees(const struct auth_principal *p, int64_t campaign_id)
{
    return !p->has_campaign_id || p->campaign_id == campaign_id;
}

/* sodium_init() is idempotent and thread-safe; every entry that draws random
 * bytes calls it first. */
static void sodium_ready(void)
{
    if (sodium_init() < 0)
        g_error("libsodium cannot initialise"); /* no entropy source: nothing is safe */
}

void auth_token_hash(const char *text, unsigned char out[STORE_TOKEN_HASH_SIZE])
{
    crypto_generichash(out, STORE_TOKEN_HASH_SIZE, (const unsigned char *)text, strlen(text), NULL,
                       0);
}

void auth_token_generate(char ret_id[AUTH_TOKEN_ID_SIZE], char ret_text[AUTH_TOKEN_TEXT_SIZE])
{
    unsigned char id[TOKEN_ID_BYTES], secret[TOKEN_SECRET_BYTES];
    char secret_text[sodium_base64_ENCODED_LEN(TOKEN_SECRET_BYTES,
                                               sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_ready();
    randombytes_buf(id, sizeof(id));
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(ret_id, AUTH_TOKEN_ID_SIZE, id, sizeof(id));
    sodium_bin2base64(secret_text, sizeof(secret_text), secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(ret_text, AUTH_TOKEN_TEXT_SIZE, TOKEN_PREFIX "%s_%s", ret_id, secret_text);
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(secret_text, sizeof(secret_text));
}

int auth_token_parse_id(const char *text, char ret_id[AUTH_TOKEN_ID_SIZE])
{
    size_t prefix = strlen(TOKEN_PREFIX), id_len = AUTH_TOKEN_ID_SIZE - 1;
    if (strncmp(text, TOKEN_PREFIX, prefix) != 0 || strlen(text) < prefix + id_len + 2 ||
        text[prefix + id_len] != '_')
        return -EINVAL;
    for (size_t i = 0; i < id_len; i++)
        if (!g_ascii_isxdigit(text[prefix + i]) || g_ascii_isupper(text[prefix + i]))
            return -EINVAL;
    memcpy(ret_id, text + prefix, id_len);
    ret_id[id_len] = '\0';
    return 0;
}

bool auth_token_matches(const char *text, const unsigned char hash[STORE_TOKEN_HASH_SIZE])
{
    unsigned char given[STORE_TOKEN_HASH_SIZE];
    auth_token_hash(text, given);
    return sodium_memcmp(given, hash, STORE_TOKEN_HASH_SIZE) == 0;
}

static void principal_of_row(const struct store_token *row, enum auth_role role,
                             struct auth_principal *ret)
{
    *ret = (struct auth_principal){
        .role = role,
        .has_campaign_id = row->has_campaign_id,
        .campaign_id = row->campaign_id,
    };
    g_strlcpy(ret->id, row->id, sizeof(ret->id));
    g_strlcpy(ret->name, row->name, sizeof(ret->name));
}

int auth_authenticate(struct store *store, const char *env_admin_token, const char *text,
                      struct auth_principal *ret, const char **ret_reason)
{
    if (env_admin_token && *env_admin_token) {
        unsigned char env_hash[STORE_TOKEN_HASH_SIZE];
        auth_token_hash(env_admin_token, env_hash);
        if (auth_token_matches(text, env_hash)) {
            *ret = (struct auth_principal){.role = AUTH_ROLE_ADMIN};
            g_strlcpy(ret->id, AUTH_ENV_TOKEN_ID, sizeof(ret->id));
            g_strlcpy(ret->name, "OVSCHED_ADMIN_TOKEN", sizeof(ret->name));
            return 0;
        }
    }
    char id[AUTH_TOKEN_ID_SIZE];
    *ret_reason = "invalid bearer token";
    if (auth_token_parse_id(text, id) < 0)
        return -EACCES;
    struct store_token row;
    struct store_error err;
    int r = store_token_get(store, id, &row, &err);
    if (r == -ENOENT)
        return -EACCES;
    if (r < 0)
        return r;
    enum auth_role role;
    bool ok = auth_token_matches(text, row.hash) && auth_role_from_string(row.role, &role) == 0;
    if (ok && row.revoked_at_ms) {
        *ret_reason = "this token was revoked";
        ok = false;
    }
    if (ok)
        principal_of_row(&row, role, ret);
    store_token_release(&row);
    return ok ? 0 : -EACCES;
}

int auth_env_admin_token_check(const char *token, char *err, size_t err_size)
{
    if (!token || !*token || strlen(token) >= AUTH_ENV_TOKEN_MIN_LEN)
        return 0;
    snprintf(err, err_size,
             "OVSCHED_ADMIN_TOKEN is %zu characters long; it must have at least %d (e.g. "
             "`openssl rand -hex 32`), or be unset",
             strlen(token), AUTH_ENV_TOKEN_MIN_LEN);
    return -EINVAL;
}

static bool has_active_admin(const struct store_token_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct store_token *t = &list->items[i];
        if (!t->revoked_at_ms && !t->has_campaign_id && strcmp(t->role, "admin") == 0)
            return true;
    }
    return false;
}

/* Write TEXT to PATH readable by the owner only, whatever the umask and
 * whatever mode an old file had. */
static int write_secret_file(const char *path, const char *text)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int r = 0;
    size_t len = strlen(text);
    if (fchmod(fd, 0600) < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
        fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

int auth_bootstrap(struct store *store, const char *data_dir, const char *env_admin_token,
                   int64_t now_ms, char **ret_path, bool *ret_generated, char *err, size_t err_size)
{
    char *path = g_build_filename(data_dir, ADMIN_TOKEN_FILE, NULL);
    struct store_token_list list = {0};
    struct store_error serr = {0};
    *ret_generated = false;
    int r = store_token_list(store, &list, &serr);
    if (r < 0) {
        snprintf(err, err_size, "cannot read tokens: %s", serr.message);
        goto out;
    }
    if ((env_admin_token && *env_admin_token) || has_active_admin(&list))
        goto out;
    char id[AUTH_TOKEN_ID_SIZE], text[AUTH_TOKEN_TEXT_SIZE];
    auth_token_generate(id, text);
    struct store_token row = {
        .id = id, .name = "bootstrap admin", .role = "admin", .created_at_ms = now_ms};
    auth_token_hash(text, row.hash);
    r = write_secret_file(path, text);
    if (r < 0)
        snprintf(err, err_size, "cannot write %s: %s", path, g_strerror(-r));
    else if ((r = store_token_create(store, &row, &serr)) < 0)
        snprintf(err, err_size, "cannot store the admin token: %s", serr.message);
    sodium_memzero(text, sizeof(text));
    *ret_generated = r == 0;
out:
    store_token_list_release(&list);
    if (r == 0 && g_file_test(path, G_FILE_TEST_EXISTS)) {
        *ret_path = path;
        return 0;
    }
    g_free(path);
    if (r == 0)
        *ret_path = NULL;
    return r;
}
