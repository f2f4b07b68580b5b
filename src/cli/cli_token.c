/*
 * cli_token - `ovsched token create|list|revoke`: API tokens (SPEC section 8,
 * roles admin, operator, viewer, optionally bound to a tenant) through the
 * CreateToken, ListTokens and RevokeToken calls.  The secret is shown once,
 * by `create`; the server keeps only what identifies it.
 */
#include <glib.h>
#include <string.h>

#include "cli/internal.h"

static const char token_usage[] =
    "usage: ovsched token create --name NAME --role admin|operator|viewer [--campaign N]\n"
    "       ovsched token list\n"
    "       ovsched token revoke ID\n"
    "common options: --server URL (OVSCHED_SERVER), --token T (OVSCHED_TOKEN), --json\n";

enum { OPT_ROLE = 1, OPT_NAME, OPT_CAMPAIGN };

static int usage(const char *what, const char *arg)
{
    if (what)
        fprintf(stderr, "ovsched: token: %s%s%s\n", what, arg ? " " : "", arg ? arg : "");
    fputs(token_usage, stderr);
    return CLI_EXIT_USAGE;
}

static void print_tokens(json_t *tokens, FILE *out)
{
    static const char *const headers[] = {"ID", "NAME", "ROLE", "CAMPAIGN", "CREATED", "REVOKED"};
    static const char *const keys[] = {"id",          "name",       "role",
                                       "campaign_id", "created_at", "revoked_at"};
    struct cli_table *t = cli_table_new(G_N_ELEMENTS(headers), headers, NULL);
    size_t i;
    json_t *token;
    json_array_foreach(tokens, i, token)
    {
        char *cells[G_N_ELEMENTS(keys)];
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
            cells[k] = cli_cell_text(json_object_get(token, keys[k]));
        cli_table_add(t, (const char *const *)cells);
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
            g_free(cells[k]);
    }
    cli_table_print(t, out);
    cli_table_free(t);
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

int cli_token_main(int argc, char **argv, FILE *in, FILE *out)
{
    (void)in;
    static const struct option options[] = {
        {"role", required_argument, NULL, OPT_ROLE},
        {"name", required_argument, NULL, OPT_NAME},
        {"campaign", required_argument, NULL, OPT_CAMPAIGN},
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    if (argc < 2)
        return usage(NULL, NULL);
    struct cli_client client;
    cli_client_init(&client);
    const char *role = NULL, *name = NULL, *campaign = NULL, *verb = argv[1];
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", options, NULL)) != -1) {
        if (cli_client_option(&client, c, optarg))
            continue;
        if (c == OPT_ROLE)
            role = optarg;
        else if (c == OPT_NAME)
            name = optarg;
        else if (c == OPT_CAMPAIGN && g_regex_match_simple("^-?[0-9]+$", optarg, 0, 0))
            campaign = optarg;
        else if (c == CLI_OPT_HELP) {
            fputs(token_usage, out);
            return CLI_EXIT_OK;
        } else
            return usage(c == OPT_CAMPAIGN ? "--campaign: an integer, got" : NULL, optarg);
    }
    int nargs = argc - 1 - optind;
    char **args = argv + 1 + optind;
    json_t *request = NULL, *body = NULL;
    const char *method = NULL;
    if (strcmp(verb, "create") == 0 && nargs == 0) {
        if (!role || !name)
            return usage("create: --name and --role are required (role: admin, operator or "
                         "viewer)",
                         NULL);
        method = "CreateToken";
        request = json_pack("{ss ss}", "name", name, "role", role);
        if (campaign)
            json_object_set_new(request, "campaign_id",
                                json_integer(g_ascii_strtoll(campaign, NULL, 10)));
    } else if (strcmp(verb, "list") == 0 && nargs == 0) {
        method = "ListTokens";
        request = json_object();
    } else if (strcmp(verb, "revoke") == 0 && nargs == 1) {
        method = "RevokeToken";
        request = json_pack("{ss}", "token_id", args[0]);
    } else {
        return usage("unknown subcommand or wrong arguments:", verb);
    }
    int r = cli_rpc(&client, method, request, &body);
    if (r != CLI_EXIT_OK)
        return r;
    if (client.json)
        cli_print_json(out, body);
    else if (strcmp(method, "CreateToken") == 0)
        print_created(body, out);
    else if (strcmp(method, "ListTokens") == 0)
        print_tokens(json_object_get(body, "tokens"), out);
    else
        fprintf(out, "revoked: %s\n", args[0]);
    json_decref(body);
    return CLI_EXIT_OK;
}
