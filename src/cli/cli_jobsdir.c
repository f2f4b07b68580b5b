/*
 * cli_jobsdir - `ovsched jobs-dir status`: what the daemon's watched job
 * folder (serve --jobs-dir) last did, from GetJobsDirStatus.  Exits 1 when
 * the last reload was refused, so a deploy script can check a folder it just
 * changed (after the daemon's quiet period, see docs/cli.md).
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

static void print_status(json_t *st, FILE *out)
{
    static const char *const keys[] = {
        "path",    "ok",      "error",   "file",           "jobs",           "reloads",
        "created", "updated", "deleted", "last_reload_at", "last_applied_at"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *text = cli_cell_text(json_object_get(st, keys[i]));
        char label[32];
        snprintf(label, sizeof(label), "%s:", keys[i]);
        fprintf(out, "%-16s %s\n", label, text && *text ? text : "-");
        g_free(text);
    }
}

int cli_jobsdir_status(struct cli_args *a)
{
    struct cli_client client;
    cli_client_from_args(&client, a);
    json_t *body = NULL;
    int r = cli_rpc(&client, "GetJobsDirStatus", json_object(), &body);
    if (r != CLI_EXIT_OK)
        return r;
    if (client.json)
        cli_print_json(a->out, body);
    else if (!json_is_true(json_object_get(body, "enabled")))
        fputs("no jobs folder (start the daemon with `ovsched serve --jobs-dir DIR`)\n", a->out);
    else
        print_status(body, a->out);
    bool refused = json_is_true(json_object_get(body, "enabled")) &&
                   !json_is_true(json_object_get(body, "ok"));
    json_decref(body);
    return refused ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}
