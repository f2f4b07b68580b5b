/*
 * cli_job - `ovsched job ...`, `ovsched runs JOB` and `ovsched decisions JOB`:
 * the job calls of the RPC API from a shell.
 *
 * `job create` takes a job document (a file, or `-` for stdin; either
 * `{"job": {...}}` or the bare job object) or builds one from flags for
 * the common case (`--id backup --cron '0 3 * * *' --tz Europe/Paris
 * --command 'pg_dump ...'`); flags also override fields of a file.  `job
 * update` is read-modify-write: without a file it reads the job, applies the
 * flags and sends the version it read, so a concurrent edit makes the update
 * fail with exit code 5 instead of being overwritten.
 *
 * Everything prints a table or a few `key: value` lines for people, or with
 * --json the API's answer unchanged for scripts.  The options themselves are
 * rows of the command table (cli_commands.c), checked before we get here.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "cli/internal.h"
#include "sched/sched.h"

#define COMMAND_WIDTH 40
#define ERROR_WIDTH   50

#define FINAL_RUN_PAGES 10 /* job status: how far back to look for a finished run */

/* ---- building documents ------------------------------------------------- */

/* OBJ[KEY] as an object, created when missing. */
static json_t *child(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

static void set_labels(json_t *obj, GPtrArray *labels)
{
    for (guint i = 0; i < labels->len; i++) {
        const char *kv = g_ptr_array_index(labels, i), *eq = strchr(kv, '=');
        char *key = g_strndup(kv, (gsize)(eq - kv));
        json_object_set_new(child(obj, "labels"), key, json_string(eq + 1));
        g_free(key);
    }
}

/* Set what the options name on JOB; leave the rest as it is. */
static void apply_flags(json_t *job, struct cli_args *a)
{
    static const struct {
        enum cli_opt id;
        const char *key;
    } top[] = {
        {CLI_O_ID, "id"}, {CLI_O_NAME, "name"}, {CLI_O_STATUS, "status"}, {CLI_O_OWNER, "owner"}};
    for (size_t i = 0; i < G_N_ELEMENTS(top); i++)
        if (cli_args_has(a, top[i].id))
            json_object_set_new(job, top[i].key, json_string(cli_args_get(a, top[i].id)));
    if (cli_args_has(a, CLI_O_CAMPAIGN))
        json_object_set_new(job, "campaign_id", json_integer(cli_args_int(a, CLI_O_CAMPAIGN, 0)));
    set_labels(job, cli_args_list(a, CLI_O_LABEL));
    GPtrArray *depends = cli_args_list(a, CLI_O_DEPENDS_ON);
    const char *cron = cli_args_get(a, CLI_O_CRON), *interval = cli_args_get(a, CLI_O_INTERVAL),
               *at = cli_args_get(a, CLI_O_AT), *tz = cli_args_get(a, CLI_O_TZ);
    json_t *scheduling = NULL;
    if (cron || interval || at || tz || cli_args_has(a, CLI_O_MAX_ATTEMPTS) || depends->len)
        scheduling = child(child(job, "metadata"), "scheduling");
    if (cron || interval || at) { /* one schedule replaces another */
        json_object_del(scheduling, "cron");
        json_object_del(scheduling, "interval");
        json_object_del(scheduling, "at");
    }
    if (cron)
        json_object_set_new(scheduling, "cron", json_string(cron));
    if (interval)
        json_object_set_new(scheduling, "interval", json_string(interval));
    if (at)
        json_object_set_new(scheduling, "at", json_string(at));
    if (tz)
        json_object_set_new(scheduling, "timezone", json_string(tz));
    if (cli_args_has(a, CLI_O_MAX_ATTEMPTS))
        json_object_set_new(child(scheduling, "retry_policy"), "max_attempts",
                            json_integer(cli_args_int(a, CLI_O_MAX_ATTEMPTS, 1)));
    if (depends->len) {
        json_t *deps = json_array();
        for (guint i = 0; i < depends->len; i++)
            json_array_append_new(deps, json_string(g_ptr_array_index(depends, i)));
        json_object_set_new(scheduling, "dependencies", deps);
    }
    if (cli_args_has(a, CLI_O_COMMAND)) {
        json_t *ex = json_pack("{ss ss sb}", "type", "shell", "command",
                               cli_args_get(a, CLI_O_COMMAND), "shell", 1);
        json_t *old = json_object_get(job, "executor");
        const char *keep[] = {"env", "cwd", "timeout"};
        for (size_t i = 0; json_is_object(old) && i < G_N_ELEMENTS(keep); i++)
            if (json_object_get(old, keep[i]))
                json_object_set(ex, keep[i], json_object_get(old, keep[i]));
        json_object_set_new(job, "executor", ex);
    }
    if (cli_args_has(a, CLI_O_TIMEOUT))
        json_object_set_new(child(job, "executor"), "timeout",
                            json_string(cli_args_get(a, CLI_O_TIMEOUT)));
}

/* The job object of a document read from PATH ("-": IN): `{"job": {...}}` or
 * the bare job.  NULL after printing why. */
static json_t *read_job_file(const char *path, FILE *in)
{
    json_error_t err;
    json_t *doc = strcmp(path, "-") == 0 ? json_loadf(in, JSON_REJECT_DUPLICATES, &err)
                                         : json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!doc) {
        fprintf(stderr, "ovsched: %s: line %d: %s\n", strcmp(path, "-") ? path : "stdin", err.line,
                err.text);
        return NULL;
    }
    json_t *job = json_object_get(doc, "job");
    if (json_is_object(job)) {
        json_incref(job);
        json_decref(doc);
        return job;
    }
    if (!json_is_object(doc)) {
        fprintf(stderr, "ovsched: %s: a job document is a JSON object\n", path);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- printing ----------------------------------------------------------- */

static json_t *scheduling_of(json_t *job)
{
    return json_object_get(json_object_get(job, "metadata"), "scheduling");
}

/* "cron 0 9 * * 1", "every 90s", "at 2026-...", or NULL. */
static char *schedule_text(json_t *job)
{
    json_t *s = scheduling_of(job);
    const char *cron = json_string_value(json_object_get(s, "cron"));
    const char *interval = json_string_value(json_object_get(s, "interval"));
    const char *at = json_string_value(json_object_get(s, "at"));
    if (cron)
        return g_strdup(cron);
    if (interval)
        return g_strdup_printf("@every %s", interval);
    if (at)
        return g_strdup_printf("at %s", at);
    return NULL;
}

static char *executor_text(json_t *job)
{
    json_t *ex = json_object_get(job, "executor");
    const char *type = json_string_value(json_object_get(ex, "type"));
    if (type && strcmp(type, "shell") == 0)
        return cli_cell_text(json_object_get(ex, "command"));
    if (type && strcmp(type, "http") == 0)
        return g_strdup_printf("%s %s",
                               json_string_value(json_object_get(ex, "method"))
                                   ? json_string_value(json_object_get(ex, "method"))
                                   : "GET",
                               json_string_value(json_object_get(ex, "url")));
    return g_strdup(type);
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void print_job_table(json_t *jobs, FILE *out)
{
    static const char *const headers[] = {"ID", "NAME",     "STATUS", "SCHEDULE",
                                          "TZ", "NEXT RUN", "COMMAND"};
    static const int widths[] = {40, 30, 0, 30, 0, 0, COMMAND_WIDTH};
    struct cli_table *t = cli_table_new(G_N_ELEMENTS(headers), headers, widths);
    size_t i;
    json_t *job;
    json_array_foreach(jobs, i, job)
    {
        char *schedule = schedule_text(job), *command = executor_text(job);
        const char *cells[] = {str(job, "id"),
                               str(job, "name"),
                               str(job, "status"),
                               schedule,
                               str(scheduling_of(job), "timezone"),
                               str(job, "next_run_time"),
                               command};
        cli_table_add(t, cells);
        g_free(schedule);
        g_free(command);
    }
    cli_table_print(t, out);
    cli_table_free(t);
}

static void print_field(FILE *out, const char *key, json_t *value)
{
    char *text = cli_cell_text(value);
    fprintf(out, "%-14s %s\n", key, text && *text ? text : "-");
    g_free(text);
}

static void print_job(json_t *job, FILE *out)
{
    char *schedule = schedule_text(job), *command = executor_text(job);
    print_field(out, "id:", json_object_get(job, "id"));
    print_field(out, "name:", json_object_get(job, "name"));
    print_field(out, "status:", json_object_get(job, "status"));
    fprintf(out, "%-14s %s\n", "schedule:", schedule ? schedule : "-");
    print_field(out, "timezone:", json_object_get(scheduling_of(job), "timezone"));
    print_field(out, "dependencies:", json_object_get(scheduling_of(job), "dependencies"));
    fprintf(out, "%-14s %s: %s\n", "executor:", str(json_object_get(job, "executor"), "type"),
            command ? command : "-");
    GString *labels = g_string_new(NULL);
    const char *key;
    json_t *value;
    json_object_foreach(json_object_get(job, "labels"), key, value)
    {
        char *text = cli_cell_text(value);
        g_string_append_printf(labels, "%s%s=%s", labels->len ? " " : "", key, text ? text : "");
        g_free(text);
    }
    fprintf(out, "%-14s %s\n", "labels:", labels->len ? labels->str : "-");
    g_string_free(labels, TRUE);
    print_field(out, "next_run_time:", json_object_get(job, "next_run_time"));
    print_field(out, "version:", json_object_get(job, "version"));
    print_field(out, "created_at:", json_object_get(job, "created_at"));
    print_field(out, "updated_at:", json_object_get(job, "updated_at"));
    g_free(schedule);
    g_free(command);
}

static void print_runs(json_t *runs, FILE *out)
{
    static const char *const headers[] = {"RUN",     "STATUS",   "TRIGGER", "ATTEMPT", "SCHEDULED",
                                          "STARTED", "FINISHED", "EXIT",    "ERROR"};
    static const char *const keys[] = {"id",          "status",       "trigger",
                                       "attempt",     "scheduled_at", "started_at",
                                       "finished_at", "exit_code",    "error"};
    static const int widths[] = {0, 0, 0, 0, 0, 0, 0, 0, ERROR_WIDTH};
    cli_table_print_objects(out, runs, G_N_ELEMENTS(headers), headers, keys, widths);
}

static void print_paging(json_t *body, FILE *out)
{
    json_int_t pages = json_integer_value(json_object_get(body, "total_pages"));
    if (pages > 1)
        fprintf(out, "page %lld of %lld (%lld in all)\n",
                (long long)json_integer_value(json_object_get(body, "page")), (long long)pages,
                (long long)json_integer_value(json_object_get(body, "total_count")));
}

/* ---- verbs -------------------------------------------------------------- */

/* Call METHOD; print ANSWER_KEY of the answer with PRINT, or the JSON. */
static int call_and_print(struct cli_args *a, const char *method, json_t *request,
                          const char *answer_key, void (*print)(json_t *, FILE *))
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
        print(answer_key ? json_object_get(body, answer_key) : body, a->out);
    json_decref(body);
    return CLI_EXIT_OK;
}

static json_t *job_id_request(struct cli_args *a)
{
    return json_pack("{ss}", "job_id", a->args[0]);
}

int cli_job_create(struct cli_args *a)
{
    json_t *job = a->nargs ? read_job_file(a->args[0], a->in) : json_object();
    if (!job)
        return CLI_EXIT_USAGE;
    apply_flags(job, a);
    /* A job made from flags alone without --command is a manual or noop job; a
     * document keeps what it says, so the server names what it lacks. */
    if (!a->nargs && !json_object_get(job, "executor"))
        json_object_set_new(job, "executor", json_pack("{ss}", "type", "noop"));
    return call_and_print(a, "CreateJob", json_pack("{so}", "job", job), "job", print_job);
}

int cli_job_get(struct cli_args *a)
{
    return call_and_print(a, "GetJob", job_id_request(a), "job", print_job);
}

static json_t *list_request(struct cli_args *a, long long page)
{
    json_t *req = json_pack("{sI sI}", "page", (json_int_t)page, "page_size",
                            (json_int_t)cli_args_int(a, CLI_O_PAGE_SIZE, 50));
    if (cli_args_has(a, CLI_O_STATUS))
        json_object_set_new(req, "status", json_string(cli_args_get(a, CLI_O_STATUS)));
    if (cli_args_has(a, CLI_O_CAMPAIGN))
        json_object_set_new(req, "campaign_id", json_integer(cli_args_int(a, CLI_O_CAMPAIGN, 0)));
    set_labels(req, cli_args_list(a, CLI_O_LABEL));
    return req;
}

int cli_job_list(struct cli_args *a)
{
    struct cli_client client;
    cli_client_from_args(&client, a);
    bool all = cli_args_has(a, CLI_O_ALL);
    long long page = cli_args_int(a, CLI_O_PAGE, 1);
    json_t *jobs = json_array(), *body = NULL;
    int r;
    for (;;) {
        r = cli_rpc(&client, "ListJobs", list_request(a, page), &body);
        if (r != CLI_EXIT_OK)
            break;
        json_array_extend(jobs, json_object_get(body, "jobs"));
        if (!all || page >= json_integer_value(json_object_get(body, "total_pages")))
            break;
        json_decref(body);
        body = NULL;
        page++;
    }
    if (r == CLI_EXIT_OK && client.json) {
        if (all) /* one answer with every job */
            json_object_set(body, "jobs", jobs);
        cli_print_json(a->out, body);
    } else if (r == CLI_EXIT_OK) {
        print_job_table(jobs, a->out);
        if (!all)
            print_paging(body, a->out);
    }
    json_decref(body);
    json_decref(jobs);
    return r;
}

static const char *const view_keys[] = {"version", "created_at", "updated_at", "next_run_time"};

/* Read-modify-write: the job as stored, the flags applied, the version read. */
int cli_job_update(struct cli_args *a)
{
    json_t *job = NULL, *body = NULL;
    json_int_t version = cli_args_int(a, CLI_O_VERSION, 0);
    if (a->nargs == 2) {
        if (!(job = read_job_file(a->args[1], a->in)))
            return CLI_EXIT_USAGE;
        if (!version && json_is_integer(json_object_get(job, "version")))
            version = json_integer_value(json_object_get(job, "version"));
    } else {
        struct cli_client client;
        cli_client_from_args(&client, a);
        int r = cli_rpc(&client, "GetJob", job_id_request(a), &body);
        if (r != CLI_EXIT_OK)
            return r;
        job = json_incref(json_object_get(body, "job"));
        if (!version)
            version = json_integer_value(json_object_get(job, "version"));
        json_decref(body);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(view_keys); i++)
        json_object_del(job, view_keys[i]);
    apply_flags(job, a);
    json_object_set_new(job, "id", json_string(a->args[0]));
    json_t *request = json_pack("{so}", "job", job);
    if (version > 0)
        json_object_set_new(request, "version", json_integer(version));
    return call_and_print(a, "UpdateJob", request, "job", print_job);
}

static void print_deleted(json_t *body, FILE *out)
{
    fprintf(out, "deleted: %s\n", json_is_true(json_object_get(body, "success")) ? "yes" : "no");
    json_t *detached = json_object_get(body, "detached");
    if (json_array_size(detached)) {
        char *ids = cli_cell_text(detached);
        fprintf(out, "detached from: %s\n", ids);
        g_free(ids);
    }
}

int cli_job_delete(struct cli_args *a)
{
    json_t *request = job_id_request(a);
    bool detach = cli_args_has(a, CLI_O_DETACH);
    if (detach)
        json_object_set_new(request, "detach", json_true());
    struct cli_client client;
    cli_client_from_args(&client, a);
    char err[1024];
    json_t *body = NULL;
    int r = cli_rpc_quiet(&client, "DeleteJob", request, &body, err, sizeof(err));
    if (r == CLI_EXIT_OK && client.json)
        cli_print_json(a->out, body);
    else if (r == CLI_EXIT_OK)
        print_deleted(body, a->out);
    else if (*err)
        fprintf(stderr, "ovsched: %s\n", err);
    /* The API's message speaks of the request field: say how the CLI asks. */
    if (r != CLI_EXIT_OK && !detach && strstr(err, "detach"))
        fprintf(stderr, "ovsched: `ovsched job delete %s --detach` does that\n", a->args[0]);
    json_decref(body);
    return r;
}

static void print_one_run(json_t *run, FILE *out)
{
    json_t *runs = json_pack("[O]", run);
    print_runs(runs, out);
    json_decref(runs);
}

int cli_job_run(struct cli_args *a)
{
    return call_and_print(a, "RunJob", job_id_request(a), "run", print_one_run);
}

int cli_job_pause(struct cli_args *a)
{
    return call_and_print(a, "PauseJob", job_id_request(a), "job", print_job);
}

int cli_job_resume(struct cli_args *a)
{
    return call_and_print(a, "ResumeJob", job_id_request(a), "job", print_job);
}

/* ---- job status ----------------------------------------------------------- */

static bool run_is_final(json_t *run)
{
    enum sched_run_status status;
    return str(run, "status") && sched_run_status_from_string(str(run, "status"), &status) == 0 &&
           sched_run_status_is_final(status);
}

/* A run written ahead of its slot (PENDING, its slot still to come): the
 * next run, not a current one. */
static bool run_is_upcoming(json_t *run, int64_t now_at)
{
    int64_t slot_at;
    return g_strcmp0(str(run, "status"), "PENDING") == 0 && str(run, "scheduled_at") &&
           timefmt_rfc3339_parse(str(run, "scheduled_at"), &slot_at, NULL) == 0 && slot_at > now_at;
}

/* The newest finished run of JOB_ID from its run history (a new reference),
 * or NULL: for when GetJobStatus answers no last run although there is one
 * (it looks only at the newest runs, which may all be in flight). */
static json_t *last_finished_run(const struct cli_client *client, const char *job_id)
{
    for (int page = 1; page <= FINAL_RUN_PAGES; page++) {
        json_t *body = NULL;
        char err[256];
        if (cli_rpc_quiet(client, "ListJobRuns",
                          json_pack("{ss si si}", "job_id", job_id, "page", page, "page_size", 100),
                          &body, err, sizeof(err)) != CLI_EXIT_OK)
            return NULL;
        size_t i;
        json_t *run, *found = NULL;
        json_array_foreach(json_object_get(body, "runs"), i, run)
        {
            if (run_is_final(run)) {
                found = json_incref(run);
                break;
            }
        }
        bool more = page < json_integer_value(json_object_get(body, "total_pages"));
        json_decref(body);
        if (found || !more)
            return found;
    }
    return NULL;
}

/* One blocked_by entry in words: "a: failed (its last run ended FAILED)". */
static char *blocker_text(json_t *b)
{
    const char *state = str(b, "state"), *last = str(b, "last_run_status");
    const char *since = str(b, "since"), *completed = str(b, "last_completed_at");
    char *last_text = last ? g_strdup_printf("its last run ended %s", last) : g_strdup("no runs");
    char *text;
    if (g_strcmp0(state, "missing") == 0)
        text = g_strdup("does not exist");
    else if (g_strcmp0(state, "failed") == 0)
        text = g_strdup_printf("failed (%s)", last_text);
    else if (g_strcmp0(state, "paused") == 0)
        text = g_strdup_printf("is paused and has not completed since %s (%s)", since ? since : "-",
                               last_text);
    else if (g_strcmp0(state, "never_completed") == 0)
        text = g_strdup_printf("has never completed (%s)", last_text);
    else
        text = g_strdup_printf("has not completed since %s (last completed %s; %s)",
                               since ? since : "-", completed ? completed : "never", last_text);
    char *line = g_strdup_printf("%s %s", str(b, "job_id") ? str(b, "job_id") : "?", text);
    g_free(text);
    g_free(last_text);
    return line;
}

static void print_run_line(FILE *out, const char *key, json_t *run)
{
    if (!json_is_object(run)) {
        fprintf(out, "%-16s -\n", key);
        return;
    }
    const char *at = str(run, "finished_at")  ? str(run, "finished_at")
                     : str(run, "started_at") ? str(run, "started_at")
                                              : str(run, "scheduled_at");
    fprintf(out, "%-16s %s %s%s%s\n", key, str(run, "id") ? str(run, "id") : "-",
            str(run, "status") ? str(run, "status") : "", at ? " " : "", at ? at : "");
}

static void print_status(json_t *body, json_t *last, FILE *out)
{
    json_t *current = json_object_get(body, "current_run");
    if (run_is_upcoming(current, (int64_t)g_get_real_time() / G_USEC_PER_SEC))
        current = NULL;
    fprintf(out, "%-16s %s\n", "job_id:", str(body, "job_id") ? str(body, "job_id") : "-");
    fprintf(out, "%-16s %s\n", "status:", str(body, "status") ? str(body, "status") : "-");
    fprintf(out, "%-16s %s\n",
            "next_run_time:", str(body, "next_run_time") ? str(body, "next_run_time") : "-");
    print_run_line(out, "current_run:", current);
    print_run_line(out, "last_run:", last);
    fprintf(out, "%-16s %s\n", "last_run_status:", str(last, "status") ? str(last, "status") : "-");
    json_t *retry = json_object_get(body, "retry");
    if (json_is_object(retry))
        fprintf(out, "%-16s attempt %lld\n",
                "retry:", (long long)json_integer_value(json_object_get(retry, "attempt")));
    fprintf(out, "%-16s %s\n", "reason:", str(body, "reason") ? str(body, "reason") : "-");
    json_t *blocked = json_object_get(body, "blocked_by");
    if (!json_array_size(blocked))
        fprintf(out, "%-16s -\n", "blocked_by:");
    size_t i;
    json_t *b;
    json_array_foreach(blocked, i, b)
    {
        char *line = blocker_text(b);
        fprintf(out, "%-16s %s\n", i ? "" : "blocked_by:", line);
        g_free(line);
    }
}

int cli_job_status(struct cli_args *a)
{
    struct cli_client client;
    cli_client_from_args(&client, a);
    json_t *body = NULL;
    int r = cli_rpc(&client, "GetJobStatus", job_id_request(a), &body);
    if (r != CLI_EXIT_OK)
        return r;
    if (client.json) {
        cli_print_json(a->out, body);
    } else {
        json_t *last = json_object_get(body, "last_run");
        last = json_is_object(last) ? json_incref(last) : last_finished_run(&client, a->args[0]);
        print_status(body, last, a->out);
        json_decref(last);
    }
    json_decref(body);
    return CLI_EXIT_OK;
}

/* ---- runs, decisions ---------------------------------------------------------- */

int cli_runs_run(struct cli_args *a)
{
    struct cli_client client;
    cli_client_from_args(&client, a);
    json_t *req = json_pack("{ss sI sI}", "job_id", a->args[0], "page",
                            (json_int_t)cli_args_int(a, CLI_O_PAGE, 1), "page_size",
                            (json_int_t)cli_args_int(a, CLI_O_PAGE_SIZE, 20));
    json_t *body = NULL;
    int r = cli_rpc(&client, "ListJobRuns", req, &body);
    if (r == CLI_EXIT_OK && client.json) {
        cli_print_json(a->out, body);
    } else if (r == CLI_EXIT_OK) {
        print_runs(json_object_get(body, "runs"), a->out);
        print_paging(body, a->out);
    }
    json_decref(body);
    return r;
}

static void print_decisions(json_t *decisions, FILE *out)
{
    static const char *const headers[] = {"DECIDED", "KIND", "SLOT",  "LAST SLOT",
                                          "COUNT",   "RUN",  "REASON"};
    static const char *const keys[] = {"decided_at", "kind",   "first_slot", "last_slot",
                                       "count",      "run_id", "reason"};
    static const int widths[] = {0, 0, 0, 0, 0, 0, 60};
    cli_table_print_objects(out, decisions, G_N_ELEMENTS(headers), headers, keys, widths);
}

int cli_decisions_run(struct cli_args *a)
{
    json_t *request = json_pack("{ss sI}", "job_id", a->args[0], "limit",
                                (json_int_t)cli_args_int(a, CLI_O_LIMIT, 100));
    return call_and_print(a, "ListJobDecisions", request, "decisions", print_decisions);
}
