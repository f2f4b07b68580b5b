/*
 * cli_client - the client side of the RPC API (docs/daemon.md): one blocking
 * POST per call with libcurl's easy interface, the answer parsed with jansson,
 * and the server's errors turned into exit codes and one line on stderr.
 *
 * A command line tool makes one or a few calls, so there is no connection
 * reuse to speak of and no event loop; the default connect timeout is short
 * (5 s) so a wrong --server fails fast with exit code 3.
 */
#include <curl/curl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

#define RPC_PREFIX         "/scheduler.v1.SchedulerService/"
#define CONNECT_TIMEOUT_S  5L
#define REQUEST_TIMEOUT_S  60L
#define MAX_RESPONSE_BYTES (64u << 20)

void cli_client_from_args(struct cli_client *client, const struct cli_args *args)
{
    const char *server = getenv("OVSCHED_SERVER"), *token = getenv("OVSCHED_TOKEN");
    client->server = server && *server ? server : CLI_DEFAULT_SERVER;
    client->token = token && *token ? token : NULL;
    if (cli_args_has(args, CLI_O_SERVER))
        client->server = cli_args_get(args, CLI_O_SERVER);
    if (cli_args_has(args, CLI_O_TOKEN))
        client->token = cli_args_get(args, CLI_O_TOKEN);
    client->json = cli_args_has(args, CLI_O_JSON);
}

void cli_print_json(FILE *out, json_t *value)
{
    json_dumpf(value, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
}

int cli_exit_for_error(long status, const char *code)
{
    if (code && (strcmp(code, "not_found") == 0))
        return CLI_EXIT_NOT_FOUND;
    if (code && (strcmp(code, "aborted") == 0 || strcmp(code, "already_exists") == 0))
        return CLI_EXIT_CONFLICT;
    if (status == 401 || status == 403)
        return CLI_EXIT_DENIED;
    if (status == 409)
        return CLI_EXIT_CONFLICT;
    if (status == 404 && !code)
        return CLI_EXIT_NOT_FOUND;
    return CLI_EXIT_FAILED;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
    GString *buf = userdata;
    if (buf->len + size * nmemb > MAX_RESPONSE_BYTES)
        return 0; /* curl reports CURLE_WRITE_ERROR */
    g_string_append_len(buf, data, (gssize)(size * nmemb));
    return size * nmemb;
}

/* Describe the server's error answer in ERR (or on stderr when ERR is NULL)
 * and return its exit code. */
static int report_error(long status, const GString *text, char *err, size_t err_size)
{
    json_t *body = json_loadb(text->str, text->len, 0, NULL);
    const char *code = json_string_value(json_object_get(body, "code"));
    const char *message = json_string_value(json_object_get(body, "message"));
    char line[1024];
    if (code && message)
        snprintf(line, sizeof(line), "%s: %s", code, message);
    else
        snprintf(line, sizeof(line), "HTTP %ld: %.200s", status, text->len ? text->str : "");
    if (err)
        snprintf(err, err_size, "%s", line);
    else
        fprintf(stderr, "ovsched: %s\n", line);
    int r = cli_exit_for_error(status, code);
    json_decref(body);
    return r;
}

static int rpc(const struct cli_client *client, const char *method, json_t *request,
               json_t **ret_body, char *err, size_t err_size)
{
    char *url = g_strdup_printf("%s%s%s", client->server,
                                g_str_has_suffix(client->server, "/") ? &RPC_PREFIX[1] : RPC_PREFIX,
                                method);
    char *payload = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    GString *answer = g_string_new(NULL);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char *auth = client->token ? g_strdup_printf("Authorization: Bearer %s", client->token) : NULL;
    if (auth)
        headers = curl_slist_append(headers, auth);
    int r = CLI_EXIT_OK;
    CURL *curl = curl_easy_init();
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload ? payload : "{}");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode cr = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (cr != CURLE_OK) {
        fprintf(stderr, "ovsched: cannot reach %s: %s\n", client->server,
                *curl_err ? curl_err : curl_easy_strerror(cr));
        r = CLI_EXIT_UNREACHABLE;
    } else if (status < 200 || status > 299) {
        r = report_error(status, answer, err, err_size);
    } else {
        json_error_t jerr;
        json_t *body = json_loadb(answer->str, answer->len, 0, &jerr);
        if (!body) {
            fprintf(stderr, "ovsched: the server's answer is not JSON: %s\n", jerr.text);
            r = CLI_EXIT_FAILED;
        } else {
            *ret_body = body;
        }
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    g_free(auth);
    g_string_free(answer, TRUE);
    free(payload);
    g_free(url);
    return r;
}

int cli_rpc(const struct cli_client *client, const char *method, json_t *request, json_t **ret_body)
{
    return rpc(client, method, request, ret_body, NULL, 0);
}

int cli_rpc_quiet(const struct cli_client *client, const char *method, json_t *request,
                  json_t **ret_body, char *err, size_t err_size)
{
    if (err_size)
        *err = '\0';
    return rpc(client, method, request, ret_body, err, err_size);
}
