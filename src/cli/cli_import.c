/*
 * cli_import - `ovsched import-crontab FILE`: a crontab's entries become jobs
 * (the parsing rules are in cli_crontab.c and docs/cli.md).
 *
 * With --dry-run the jobs are listed and nothing is sent; with --json the job
 * documents are printed as `{"jobs": [{"job": ...}], "notes": [...]}` and
 * nothing is sent either, so `ovsched import-crontab c --json > jobs.json`
 * can be reviewed first.  Otherwise each job is created; one that exists
 * already (the same entry imported before: ids are stable) is updated, so
 * importing twice is harmless.  With --out-dir the documents are written as
 * DIR/<id>.json files instead, ready for a folder `serve --jobs-dir` watches
 * (each written to a temporary name and renamed, so the daemon never reads a
 * half-written file).  A crontab with an invalid line imports
 * nothing (exit 1), as crontab(1) refuses to install one.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "cli/internal.h"

static char *read_all(const char *path, FILE *in)
{
    if (strcmp(path, "-") != 0) {
        char *text = NULL;
        GError *error = NULL;
        if (!g_file_get_contents(path, &text, NULL, &error)) {
            fprintf(stderr, "ovsched: %s\n", error->message);
            g_error_free(error);
        }
        return text;
    }
    GString *s = g_string_new(NULL);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        g_string_append_len(s, buf, (gssize)n);
    return g_string_free(s, FALSE);
}

/* Print the notes on stderr; true if one is an error. */
static bool print_notes(const char *path, json_t *notes)
{
    bool errors = false;
    size_t i;
    json_t *n;
    json_array_foreach(notes, i, n)
    {
        bool error = json_is_true(json_object_get(n, "error"));
        errors |= error;
        fprintf(stderr, "ovsched: %s:%lld: %s%s\n", path,
                (long long)json_integer_value(json_object_get(n, "line")), error ? "error: " : "",
                json_string_value(json_object_get(n, "message")));
    }
    return errors;
}

static void print_plan(json_t *jobs, FILE *out)
{
    static const char *const headers[] = {"ID", "SCHEDULE", "TZ", "COMMAND"};
    static const int widths[] = {0, 0, 0, 60};
    struct cli_table *t = cli_table_new(4, headers, widths);
    size_t i;
    json_t *job;
    json_array_foreach(jobs, i, job)
    {
        json_t *s = json_object_get(json_object_get(job, "metadata"), "scheduling");
        char *command = cli_cell_text(json_object_get(json_object_get(job, "executor"), "command"));
        const char *cells[] = {json_string_value(json_object_get(job, "id")),
                               json_string_value(json_object_get(s, "cron")),
                               json_string_value(json_object_get(s, "timezone")), command};
        cli_table_add(t, cells);
        g_free(command);
    }
    cli_table_print(t, out);
    cli_table_free(t);
}

/* Write each job as DIR/<id>.json.  Returns an exit code. */
static int write_files(const char *dir, json_t *jobs, FILE *out)
{
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        fprintf(stderr, "ovsched: --out-dir %s: %s\n", dir, g_strerror(errno));
        return CLI_EXIT_FAILED;
    }
    size_t i;
    json_t *job;
    json_array_foreach(jobs, i, job)
    {
        const char *id = json_string_value(json_object_get(job, "id"));
        char *name = g_strdup_printf("%s.json", id);
        char *path = g_build_filename(dir, name, NULL),
             *tmp = g_strdup_printf("%s/.%s.tmp", dir, name);
        json_t *doc = json_pack("{sO}", "job", job);
        int r = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (r == 0 && rename(tmp, path) < 0)
            r = -1;
        if (r < 0)
            fprintf(stderr, "ovsched: cannot write %s: %s\n", path, g_strerror(errno));
        else
            fprintf(out, "wrote %s\n", path);
        json_decref(doc);
        g_free(name);
        g_free(path);
        g_free(tmp);
        if (r < 0)
            return CLI_EXIT_FAILED;
    }
    return CLI_EXIT_OK;
}

/* Create JOB, or update it when it exists.  Returns an exit code. */
static int put_job(const struct cli_client *client, json_t *job, FILE *out)
{
    const char *id = json_string_value(json_object_get(job, "id"));
    char err[1024];
    json_t *body = NULL;
    int r =
        cli_rpc_quiet(client, "CreateJob", json_pack("{sO}", "job", job), &body, err, sizeof(err));
    const char *done = "created";
    if (r == CLI_EXIT_CONFLICT && g_str_has_prefix(err, "already_exists")) {
        done = "updated";
        r = cli_rpc_quiet(client, "UpdateJob", json_pack("{sO}", "job", job), &body, err,
                          sizeof(err));
    }
    if (r == CLI_EXIT_OK)
        fprintf(out, "%s %s\n", done, id);
    else if (*err)
        fprintf(stderr, "ovsched: %s: %s\n", id, err);
    json_decref(body);
    return r;
}

int cli_import_crontab_run(struct cli_args *a)
{
    struct cli_client client;
    cli_client_from_args(&client, a);
    struct cli_crontab_options copts = {.timezone = cli_args_get(a, CLI_O_TZ),
                                        .prefix = cli_args_get(a, CLI_O_PREFIX)};
    bool dry_run = cli_args_has(a, CLI_O_DRY_RUN);
    const char *out_dir = cli_args_get(a, CLI_O_OUT_DIR), *path = a->args[0];
    FILE *out = a->out;
    if (dry_run + client.json + (out_dir != NULL) > 1)
        return cli_usage_error(a->cmd, "--dry-run, --json and --out-dir exclude each other");
    char *text = read_all(path, a->in);
    if (!text)
        return CLI_EXIT_USAGE;
    json_t *jobs, *notes;
    cli_crontab_parse(text, &copts, &jobs, &notes);
    g_free(text);
    bool errors = print_notes(path, notes);
    int r = CLI_EXIT_OK;
    if (client.json) {
        json_t *wrapped = json_array();
        size_t i;
        json_t *job;
        json_array_foreach(jobs, i, job)
            json_array_append_new(wrapped, json_pack("{sO}", "job", job));
        json_t *all = json_pack("{so sO}", "jobs", wrapped, "notes", notes);
        cli_print_json(out, all);
        json_decref(all);
        r = errors ? CLI_EXIT_FAILED : CLI_EXIT_OK;
    } else if (dry_run) {
        print_plan(jobs, out);
        r = errors ? CLI_EXIT_FAILED : CLI_EXIT_OK;
    } else if (errors) {
        fprintf(stderr, "ovsched: %s: not imported: fix the lines above first\n", path);
        r = CLI_EXIT_FAILED;
    } else if (out_dir) {
        r = write_files(out_dir, jobs, out);
    } else {
        size_t i;
        json_t *job;
        json_array_foreach(jobs, i, job)
        {
            int one = put_job(&client, job, out);
            if (one == CLI_EXIT_UNREACHABLE) {
                r = one;
                break;
            }
            if (one != CLI_EXIT_OK && r == CLI_EXIT_OK)
                r = one;
        }
    }
    json_decref(jobs);
    json_decref(notes);
    return r;
}
