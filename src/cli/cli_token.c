/*
 * cli_token - `ovsched token create|list|revoke`: API tokens (docs/security.md:
 * roles admin, operator, viewer, optionally bound to a tenant) through the
 * CreateToken, ListTokens and RevokeToken calls.  The secret is shown once,
 * by `create`; the server keeps only what identifies it.
 */
#include <glib.h>
#include <string.h>

#include "cli/internal.h"

static void print_tokens(json_t *tokens, FILE *out)
{
    static const char *const headers[] = {"ID", "NAME", "ROLE", "CAMPAIGN", "CREATED", "REVOKED"};
    static const char *const keys[] = {"id",          "name",       "role",
                                       "campaign_id", "created_at", "revoked_at"};
    cli_table_print_objects(out, tokens, G_N_ELEMENTS(headers), headers, keys, NULL);
}

/* The answer of CreateToken for a person: the secret (`token` as a string, or
 * `secret`) and what the token may do. */
static void print_created(json_t *body, FILE *out)
{
    json_t *token = json_object_get(body, "token");
    const char *secret = json_is_string(token) ? json_string_value(token)
                                               : json_string_value(json_object_get(body, "secret"));
    json_t *info = json_is_object(token) ? token : body;
    char *id = cli_cell_text(json_object_get(info, "id"));
    fprintf(out, "token:  %s\n", secret ? secret : "-");
    fprintf(out, "id:     %s\nrole:   %s\n", id ? id : "-",
            json_string_value(json_object_get(info, "role")) ?: "-");
    fputs("(the secret is shown only now: keep it)\n", out);
    g_free(id);
}

/* Call METHOD with REQUEST and print the answer with PRINT (or the JSON). */
static int token_call(struct cli_args *a, const char *method, json_t *request,
                      void (*print)(struct cli_args *, json_t *))
{
    struct cli_client client;
    cli_client_from_args(&client, a);
    json_t *body = NULL;
    int r = cli_rpc(&client, method, request, &body);
    if (r != CLI_EXIT_OK)
        return r;
    if (client.json)
        cli_print_json(a->out, body);
    else
        print(a, body);
    json_decref(body);
    return CLI_EXIT_OK;
}

static void print_created_answer(struct cli_args *a, json_t *body)
{
    print_created(body, a->out);
}

static void print_list_answer(struct cli_args *a, json_t *body)
{
    print_tokens(json_object_get(body, "tokens"), a->out);
}

static void print_revoked_answer(struct cli_args *a, json_t *body)
{
    (void)body;
    fprintf(a->out, "revoked: %s\n", a->args[0]);
}

int cli_token_create(struct cli_args *a)
{
    if (!cli_args_has(a, CLI_O_NAME) || !cli_args_has(a, CLI_O_ROLE))
        return cli_usage_error(a->cmd, "--%s is required",
                               cli_args_has(a, CLI_O_NAME) ? "role" : "name");
    json_t *request = json_pack("{ss ss}", "name", cli_args_get(a, CLI_O_NAME), "role",
                                cli_args_get(a, CLI_O_ROLE));
    if (cli_args_has(a, CLI_O_CAMPAIGN))
        json_object_set_new(request, "campaign_id",
                            json_integer(cli_args_int(a, CLI_O_CAMPAIGN, 0)));
    return token_call(a, "CreateToken", request, print_created_answer);
}

int cli_token_list(struct cli_args *a)
{
    return token_call(a, "ListTokens", json_object(), print_list_answer);
}

int cli_token_revoke(struct cli_args *a)
{
    return token_call(a, "RevokeToken", json_pack("{ss}", "token_id", a->args[0]),
                      print_revoked_answer);
}
