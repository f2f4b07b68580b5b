/*
 * auth - API tokens, roles and the principal of a request (SPEC section 8).
 *
 * A token is a bearer secret `ovs_<id>_<secret>`: <id> (16 hex digits) names
 * its row in the store, <secret> is 32 random bytes (libsodium randombytes) in
 * unpadded base64url.  The store keeps only BLAKE2b-256 of the whole text
 * (crypto_generichash): tokens carry 256 bits of entropy, so a fast unsalted
 * hash is enough (nothing to brute-force), and checking a request costs one
 * hash and one indexed row.  Hashes are compared in constant time
 * (sodium_memcmp).  OVSCHED_ADMIN_TOKEN, an operator-chosen string, is
 * compared the same way, by hash.
 *
 * Roles are ordered: viewer (read and subscribe) < operator (jobs and
 * triggers, no shell executor) < admin (everything).  A principal may be bound
 * to one tenant (campaign_id) and then sees only that tenant's jobs.
 *
 * No I/O except auth_bootstrap() (which writes DATA/admin-token), no clock
 * (times are arguments), no logging.
 */
#ifndef OVSCHED_AUTH_AUTH_H
#define OVSCHED_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum auth_role {
    AUTH_ROLE_VIEWER = 1,
    AUTH_ROLE_OPERATOR = 2,
    AUTH_ROLE_ADMIN = 3,
};

const char *auth_role_to_string(enum auth_role role);
/* Returns 0, or -EINVAL for anything but "admin", "operator", "viewer". */
int auth_role_from_string(const char *text, enum auth_role *ret_role);
/* Whether HAVE covers NEED (admin covers everything). */
bool auth_role_allows(enum auth_role have, enum auth_role need);

#define AUTH_TOKEN_ID_SIZE   17  /* 16 hex digits + NUL */
#define AUTH_TOKEN_TEXT_SIZE 128 /* "ovs_" id "_" 43 base64url + NUL, with room */
#define AUTH_ENV_TOKEN_ID    "env-admin"

/* Who is calling.  id/name come from the token row ("env-admin" and
 * "OVSCHED_ADMIN_TOKEN" for the environment's token). */
struct auth_principal {
    enum auth_role role;
    bool has_campaign_id; /* false: every tenant */
    int64_t campaign_id;
    char id[AUTH_TOKEN_ID_SIZE + 16];
    char name[128];
};

/* Whether P may see data of tenant CAMPAIGN_ID. */
bool auth_principal_sees(const struct auth_principal *p, int64_t campaign_id);

/* BLAKE2b-256 of TEXT. */
void auth_token_hash(const char *text, unsigned char out[STORE_TOKEN_HASH_SIZE]);

/* A new random token: its id and its full text (shown once, never stored). */
void auth_token_generate(char ret_id[AUTH_TOKEN_ID_SIZE], char ret_text[AUTH_TOKEN_TEXT_SIZE]);

/* The id part of a token's TEXT.  Returns 0, or -EINVAL when TEXT is not of
 * the form ovs_<16 hex>_<secret>. */
int auth_token_parse_id(const char *text, char ret_id[AUTH_TOKEN_ID_SIZE]);

/* Whether TEXT hashes to HASH, in constant time. */
bool auth_token_matches(const char *text, const unsigned char hash[STORE_TOKEN_HASH_SIZE]);

/* Check the bearer token TEXT (the part after "Bearer "): ENV_ADMIN_TOKEN
 * (may be NULL) first, then the store.  Returns 0 with *ret, -EACCES with a
 * static reason in *ret_reason (no such token, revoked, malformed), or a
 * store error.  NOW is unused today (no expiry). */
int auth_authenticate(struct store *store, const char *env_admin_token, const char *text,
                      struct auth_principal *ret, const char **ret_reason);

/* The shortest OVSCHED_ADMIN_TOKEN the daemon accepts: a guessable admin
 * token is worse than none (docs/security.md). */
#define AUTH_ENV_TOKEN_MIN_LEN 32

/* Whether TOKEN, the value of OVSCHED_ADMIN_TOKEN (NULL or empty: unset), may
 * serve as an admin token: at least AUTH_ENV_TOKEN_MIN_LEN characters.
 * Returns 0, or -EINVAL with a sentence naming the variable in ERR. */
int auth_env_admin_token_check(const char *token, char *err, size_t err_size);

/* At start: without ENV_ADMIN_TOKEN and without an active unbound admin token
 * in the store, make one, store its hash and write its text to
 * DATA_DIR/admin-token (mode 0600, replacing any old file).  Returns 0 with
 * *ret_path (g_free; NULL when nothing was generated and no file exists) and
 * *ret_generated, or a negative errno with a sentence in ERR. */
int auth_bootstrap(struct store *store, const char *data_dir, const char *env_admin_token,
                   int64_t now_ms, char **ret_path, bool *ret_generated, char *err,
                   size_t err_size);

#endif
