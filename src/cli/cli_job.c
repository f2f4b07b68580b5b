/*
 * cli_job - `ovsched job ...` and `ovsched runs JOB`: the job calls of the RPC
 * API from a shell.
 *
 * `job create` takes a job document (a file, or `-` for stdin; either the
 * SPEC's `{"job": {...}}` or the bare job object) or builds one from flags for
 * the common case (`--id backup --cron '0 3 * * *' --tz Europe/Paris
 * --command 'pg_dump ...'`); flags also override fields of a file.  `job
 * update` is read-modify-write: without a file it reads the job, applies the
 * flags and sends the version it read, so a concurrent edit makes the update
 * fail with exit code 5 instead of being overwritten.
 *
 * Everything prints a table or a few `key: value` lines for people, or with
 * --json the API's answer unchanged for scripts.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

#define COMMAND_WIDTH 40
#define ERROR_WIDTH   50

struct job_flags {
    const char *id, *name, *cron, *interval, *at, *tz, *command, *status, *timeout, *owner;
    const char *campaign, *max_attempts;
    GPtrArray *labels;  /* "k=v" */
    GPtrArray *depends; /* job ids */
    const char *version;
    long page, page_size;
    bool all;
};

static const char job_usage[] =
    "usage: ovsched job create [FILE|-] [--id ID] [--name NAME] [--cron EXPR|--interval DUR|--at "
    "TIME]\n"
    "                          [--tz ZONE] [--command 'SHELL LINE'] [--label K=V]... [--status "
    "S]\n"
    "                          [--timeout DUR] [--max-attempts N] [--depends-on ID]... [--owner "
    "O] [--campaign N]\n"
    "       ovsched job get ID\n"
    "       ovsched job list [--status S] [--campaign N] [--label K=V]... [--page N] [--page-size "
    "N] [--all]\n"
    "       ovsched job update ID [FILE|-] [--version N] [the flags of create]\n"
    "       ovsched job delete|run|pause|resume|status ID\n"
    "common options: --server URL (OVSCHED_SERVER), --token T (OVSCHED_TOKEN), --json\n";

static const char runs_usage[] = "usage: ovsched runs JOB [--page N] [--page-size N] [--json]\n";

enum {
    OPT_ID = 1,
    OPT_NAME,
    OPT_CRON,
    OPT_INTERVAL,
    OPT_AT,
    OPT_TZ,
    OPT_COMMAND,
    OPT_STATUS,
    OPT_TIMEOUT,
    OPT_OWNER,
    OPT_CAMPAIGN,
    OPT_MAX_ATTEMPTS,
    OPT_LABEL,
    OPT_DEPENDS,
    OPT_VERSION,
    OPT_PAGE,
    OPT_PAGE_SIZE,
    OPT_ALL,
};

static const struct option job_options[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"name", required_argument, NULL, OPT_NAME},
    {"cron", required_argument, NULL, OPT_CRON},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"at", required_argument, NULL, OPT_AT},
    {"tz", required_argument, NULL, OPT_TZ},
    {"command", required_argument, NULL, OPT_COMMAND},
    {"status", required_argument, NULL, OPT_STATUS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"owner", required_argument, NULL, OPT_OWNER},
    {"campaign", required_argument, NULL, OPT_CAMPAIGN},
    {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
    {"label", required_argument, NULL, OPT_LABEL},
    {"depends-on", required_argument, NULL, OPT_DEPENDS},
    {"version", required_argument, NULL, OPT_VERSION},
    {"page", required_argument, NULL, OPT_PAGE},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {"all", no_argument, NULL, OPT_ALL},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *text, const char *fmt, const char *arg)
{
    if (fmt) {
        fputs("ovsched: ", stderr);
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
    }
    fputs(text, stderr);
    return CLI_EXIT_USAGE;
}

/* A positive integer option, or -1. */
static long positive(const char *text)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    return end != text && !*end && v > 0 ? v : -1;
}

/* Parse the options of ARGV into FLAGS and CLIENT; positional arguments stay
 * in ARGV from optind.  Returns 0 or an exit code. */
static int parse_flags(int argc, char **argv, struct job_flags *f, struct cli_client *client,
                       const char *usage)
{
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", job_options, NULL)) != -1) {
        if (cli_client_option(client, c, optarg))
            continue;
        switch (c) {
        case OPT_ID:
            f->id = optarg;
            break;
        case OPT_NAME:
            f->name = optarg;
            break;
        case OPT_CRON:
            f->cron = optarg;
            break;
        case OPT_INTERVAL:
            f->interval = optarg;
            break;
        case OPT_AT:
            f->at = optarg;
            break;
        case OPT_TZ:
            f->tz = optarg;
            break;
        case OPT_COMMAND:
            f->command = optarg;
            break;
        case OPT_STATUS:
            f->status = optarg;
            break;
        case OPT_TIMEOUT:
            f->timeout = optarg;
            break;
        case OPT_OWNER:
            f->owner = optarg;
            break;
        case OPT_CAMPAIGN:
            f->campaign = optarg;
            break;
        case OPT_MAX_ATTEMPTS:
            f->max_attempts = optarg;
            break;
        case OPT_VERSION:
            f->version = optarg;
            break;
        case OPT_ALL:
            f->all = true;
            break;
        case OPT_LABEL:
            if (!strchr(optarg, '='))
                return usage_error(usage, "--label: expected KEY=VALUE, got '%s'", optarg);
            g_ptr_array_add(f->labels, optarg);
            break;
        case OPT_DEPENDS:
            g_ptr_array_add(f->depends, optarg);
            break;
        case OPT_PAGE:
        case OPT_PAGE_SIZE:
            if (positive(optarg) < 0)
                return usage_error(usage, "--page/--page-size: a positive integer, got '%s'",
                                   optarg);
            *(c == OPT_PAGE ? &f->page : &f->page_size) = positive(optarg);
            break;
        case CLI_OPT_HELP:
            fputs(usage, stdout);
            return -1;
        default:
            return usage_error(usage, NULL, NULL);
        }
    }
    if (f->campaign && !g_regex_match_simple("^-?[0-9]+$", f->campaign, 0, 0))
        return usage_error(usage, "--campaign: an integer, got '%s'", f->campaign);
    if (f->max_attempts && positive(f->max_attempts) < 0)
        return usage_error(usage, "--max-attempts: a positive integer, got '%s'", f->max_attempts);
    if (f->version && positive(f->version) < 0)
        return usage_error(usage, "--version: the positive integer version you read, got '%s'",
                           f->version);
    return 0;
}

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

static void set_labels(json_t *job, GPtrArray *labels)
{
    for (guint i = 0; i < labels->len; i++) {
        const char *kv = g_ptr_array_index(labels, i), *eq = strchr(kv, '=');
        char *key = g_strndup(kv, (gsize)(eq - kv));
        json_object_set_new(child(job, "labels"), key, json_string(eq + 1));
        g_free(key);
    }
}

/* Set what the flags name on JOB; leave the rest as it is. */
static void apply_flags(json_t *job, const struct job_flags *f)
{
    if (f->id)
        json_object_set_new(job, "id", json_string(f->id));
    if (f->name)
        json_object_set_new(job, "name", json_string(f->name));
    if (f->status)
        json_object_set_new(job, "status", json_string(f->status));
    if (f->owner)
        json_object_set_new(job, "owner", json_string(f->owner));
    if (f->campaign)
        json_object_set_new(job, "campaign_id", json_integer(strtoll(f->campaign, NULL, 10)));
    set_labels(job, f->labels);
    json_t *scheduling = NULL;
    if (f->cron || f->interval || f->at || f->tz || f->max_attempts || f->depends->len)
        scheduling = child(child(job, "metadata"), "scheduling");
    if (f->cron || f->interval || f->at) { /* one schedule replaces another */
        json_object_del(scheduling, "cron");
        json_object_del(scheduling, "interval");
        json_object_del(scheduling, "at");
    }
    if (f->cron)
        json_object_set_new(scheduling, "cron", json_string(f->cron));
    if (f->interval)
        json_object_set_new(scheduling, "interval", json_string(f->interval));
    if (f->at)
        json_object_set_new(scheduling, "at", json_string(f->at));
    if (f->tz)
        json_object_set_new(scheduling, "timezone", json_string(f->tz));
    if (f->max_attempts)
        json_object_set_new(child(scheduling, "retry_policy"), "max_attempts",
                            json_integer(positive(f->max_attempts)));
    if (f->depends->len) {
        json_t *deps = json_array();
        for (guint i = 0; i < f->depends->len; i++)
            json_array_append_new(deps, json_string(g_ptr_array_index(f->depends, i)));
        json_object_set_new(scheduling, "dependencies", deps);
    }
    if (f->command) {
        json_t *ex = json_pack("{ss ss sb}", "type", "shell", "command", f->command, "shell", 1);
        json_t *old = json_object_get(job, "executor");
        const char *keep[] = {"env", "cwd", "timeout"};
        for (size_t i = 0; json_is_object(old) && i < G_N_ELEMENTS(keep); i++)
            if (json_object_get(old, keep[i]))
                json_object_set(ex, keep[i], json_object_get(old, keep[i]));
        json_object_set_new(job, "executor", ex);
    }
    if (f->timeout)
        json_object_set_new(child(job, "executor"), "timeout", json_string(f->timeout));
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
    static const int widths[] = {0, 0, 0, 0, 0, 0, 0, 0, ERROR_WIDTH};
    struct cli_table *t = cli_table_new(G_N_ELEMENTS(headers), headers, widths);
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run)
    {
        char *cells[G_N_ELEMENTS(headers)];
        const char *keys[] = {"id",         "status",      "trigger",   "attempt", "scheduled_at",
                              "started_at", "finished_at", "exit_code", "error"};
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
            cells[k] = cli_cell_text(json_object_get(run, keys[k]));
        cli_table_add(t, (const char *const *)cells);
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
            g_free(cells[k]);
    }
    cli_table_print(t, out);
    cli_table_free(t);
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

struct verb_ctx {
    struct cli_client client;
    struct job_flags flags;
    int nargs; /* positional arguments after the verb */
    char **args;
    FILE *in, *out;
};

/* Call METHOD; print ANSWER_KEY of the answer with PRINT, or the JSON. */
static int call_and_print(struct verb_ctx *v, const char *method, json_t *request,
                          const char *answer_key, void (*print)(json_t *, FILE *))
{
    json_t *body = NULL;
    int r = cli_rpc(&v->client, method, request, &body);
    if (r != CLI_EXIT_OK)
        return r;
    if (v->client.json)
        cli_print_json(v->out, body);
    else
        print(json_object_get(body, answer_key), v->out);
    json_decref(body);
    return CLI_EXIT_OK;
}

static int job_create(struct verb_ctx *v)
{
    if (v->nargs > 1)
        return usage_error(job_usage, "job create: one FILE at most, got '%s'", v->args[1]);
    json_t *job = v->nargs ? read_job_file(v->args[0], v->in) : json_object();
    if (!job)
        return CLI_EXIT_USAGE;
    apply_flags(job, &v->flags);
    /* A job made from flags alone without --command is a manual or noop job; a
     * document keeps what it says, so the server names what it lacks. */
    if (!v->nargs && !json_object_get(job, "executor"))
        json_object_set_new(job, "executor", json_pack("{ss}", "type", "noop"));
    return call_and_print(v, "CreateJob", json_pack("{so}", "job", job), "job", print_job);
}

static int need_id(struct verb_ctx *v, const char *verb, int max_args)
{
    if (v->nargs < 1 || v->nargs > max_args) {
        fprintf(stderr, "ovsched: job %s: expected a job ID\n", verb);
        fputs(job_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int job_get(struct verb_ctx *v)
{
    int r = need_id(v, "get", 1);
    return r ? r
             : call_and_print(v, "GetJob", json_pack("{ss}", "job_id", v->args[0]), "job",
                              print_job);
}

static json_t *list_request(const struct job_flags *f, long page)
{
    json_t *req = json_pack("{sI sI}", "page", (json_int_t)page, "page_size",
                            (json_int_t)(f->page_size > 0 ? f->page_size : 50));
    if (f->status)
        json_object_set_new(req, "status", json_string(f->status));
    if (f->campaign)
        json_object_set_new(req, "campaign_id", json_integer(strtoll(f->campaign, NULL, 10)));
    if (f->labels->len)
        set_labels(req, f->labels);
    return req;
}

static int job_list(struct verb_ctx *v)
{
    if (v->nargs)
        return usage_error(job_usage, "job list: unexpected argument '%s'", v->args[0]);
    long page = v->flags.page > 0 ? v->flags.page : 1;
    json_t *all = json_array(), *body = NULL;
    int r;
    for (;;) {
        r = cli_rpc(&v->client, "ListJobs", list_request(&v->flags, page), &body);
        if (r != CLI_EXIT_OK)
            break;
        json_array_extend(all, json_object_get(body, "jobs"));
        if (!v->flags.all || page >= json_integer_value(json_object_get(body, "total_pages")))
            break;
        json_decref(body);
        body = NULL;
        page++;
    }
    if (r == CLI_EXIT_OK && v->client.json) {
        if (v->flags.all) /* one answer with every job */
            json_object_set(body, "jobs", all);
        cli_print_json(v->out, body);
    } else if (r == CLI_EXIT_OK) {
        print_job_table(all, v->out);
        if (!v->flags.all)
            print_paging(body, v->out);
    }
    json_decref(body);
    json_decref(all);
    return r;
}

static const char *const view_keys[] = {"version", "created_at", "updated_at", "next_run_time"};

/* Read-modify-write: the job as stored, the flags applied, the version read. */
static int job_update(struct verb_ctx *v)
{
    int r = need_id(v, "update", 2);
    if (r)
        return r;
    json_t *job = NULL, *body = NULL;
    json_int_t version = v->flags.version ? positive(v->flags.version) : 0;
    if (v->nargs == 2) {
        if (!(job = read_job_file(v->args[1], v->in)))
            return CLI_EXIT_USAGE;
        if (!version && json_is_integer(json_object_get(job, "version")))
            version = json_integer_value(json_object_get(job, "version"));
    } else {
        r = cli_rpc(&v->client, "GetJob", json_pack("{ss}", "job_id", v->args[0]), &body);
        if (r != CLI_EXIT_OK)
            return r;
        job = json_incref(json_object_get(body, "job"));
        if (!version)
            version = json_integer_value(json_object_get(job, "version"));
        json_decref(body);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(view_keys); i++)
        json_object_del(job, view_keys[i]);
    apply_flags(job, &v->flags);
    json_object_set_new(job, "id", json_string(v->args[0]));
    json_t *request = json_pack("{so}", "job", job);
    if (version > 0)
        json_object_set_new(request, "version", json_integer(version));
    return call_and_print(v, "UpdateJob", request, "job", print_job);
}

static void print_deleted(json_t *success, FILE *out)
{
    fprintf(out, "deleted: %s\n", json_is_true(success) ? "yes" : "no");
}

static int job_delete(struct verb_ctx *v)
{
    int r = need_id(v, "delete", 1);
    return r ? r
             : call_and_print(v, "DeleteJob", json_pack("{ss}", "job_id", v->args[0]), "success",
                              print_deleted);
}

static void print_one_run(json_t *run, FILE *out)
{
    json_t *runs = json_pack("[O]", run);
    print_runs(runs, out);
    json_decref(runs);
}

static int job_run(struct verb_ctx *v)
{
    int r = need_id(v, "run", 1);
    return r ? r
             : call_and_print(v, "RunJob", json_pack("{ss}", "job_id", v->args[0]), "run",
                              print_one_run);
}

static int job_set_status(struct verb_ctx *v, const char *verb, const char *method)
{
    int r = need_id(v, verb, 1);
    return r ? r
             : call_and_print(v, method, json_pack("{ss}", "job_id", v->args[0]), "job", print_job);
}

static int job_pause(struct verb_ctx *v)
{
    return job_set_status(v, "pause", "PauseJob");
}

static int job_resume(struct verb_ctx *v)
{
    return job_set_status(v, "resume", "ResumeJob");
}

static void print_status(json_t *body, FILE *out)
{
    static const char *const keys[] = {"job_id", "status", "next_run_time", "reason"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        char key[32];
        snprintf(key, sizeof(key), "%s:", keys[i]);
        print_field(out, key, json_object_get(body, keys[i]));
    }
    json_t *current = json_object_get(body, "current_run"),
           *last = json_object_get(body, "last_run");
    fprintf(out, "%-14s %s %s\n", "current_run:", str(current, "id") ? str(current, "id") : "-",
            str(current, "status") ? str(current, "status") : "");
    fprintf(out, "%-14s %s %s %s\n", "last_run:", str(last, "id") ? str(last, "id") : "-",
            str(last, "status") ? str(last, "status") : "",
            str(last, "finished_at") ? str(last, "finished_at") : "");
    print_field(out, "blocked_by:", json_object_get(body, "blocked_by"));
}

static int job_status(struct verb_ctx *v)
{
    int r = need_id(v, "status", 1);
    if (r)
        return r;
    json_t *body = NULL;
    r = cli_rpc(&v->client, "GetJobStatus", json_pack("{ss}", "job_id", v->args[0]), &body);
    if (r == CLI_EXIT_OK) {
        if (v->client.json)
            cli_print_json(v->out, body);
        else
            print_status(body, v->out);
    }
    json_decref(body);
    return r;
}

static const struct verb {
    const char *name;
    int (*run)(struct verb_ctx *v);
} verbs[] = {
    {"create", job_create}, {"get", job_get},       {"list", job_list},
    {"update", job_update}, {"delete", job_delete}, {"run", job_run},
    {"pause", job_pause},   {"resume", job_resume}, {"status", job_status},
};

static void flags_init(struct job_flags *f)
{
    *f = (struct job_flags){0};
    f->labels = g_ptr_array_new();
    f->depends = g_ptr_array_new();
}

static void flags_release(struct job_flags *f)
{
    g_ptr_array_free(f->labels, TRUE);
    g_ptr_array_free(f->depends, TRUE);
}

int cli_job_main(int argc, char **argv, FILE *in, FILE *out)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(job_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const struct verb *verb = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            verb = &verbs[i];
    if (!verb)
        return usage_error(job_usage, "job: unknown subcommand '%s'", argv[1]);
    struct verb_ctx v = {.in = in, .out = out};
    cli_client_init(&v.client);
    flags_init(&v.flags);
    int r = parse_flags(argc - 1, argv + 1, &v.flags, &v.client, job_usage);
    if (r == 0) {
        v.nargs = argc - 1 - optind;
        v.args = argv + 1 + optind;
        r = verb->run(&v);
    }
    flags_release(&v.flags);
    return r < 0 ? CLI_EXIT_OK : r;
}

int cli_runs_main(int argc, char **argv, FILE *in, FILE *out)
{
    struct verb_ctx v = {.in = in, .out = out};
    cli_client_init(&v.client);
    flags_init(&v.flags);
    int r = parse_flags(argc, argv, &v.flags, &v.client, runs_usage);
    if (r == 0 && argc - optind != 1)
        r = usage_error(runs_usage, "runs: expected one JOB id%s", "");
    if (r == 0) {
        json_t *req = json_pack("{ss sI sI}", "job_id", argv[optind], "page",
                                (json_int_t)(v.flags.page > 0 ? v.flags.page : 1), "page_size",
                                (json_int_t)(v.flags.page_size > 0 ? v.flags.page_size : 20));
        json_t *body = NULL;
        r = cli_rpc(&v.client, "ListJobRuns", req, &body);
        if (r == CLI_EXIT_OK && v.client.json) {
            cli_print_json(out, body);
        } else if (r == CLI_EXIT_OK) {
            print_runs(json_object_get(body, "runs"), out);
            print_paging(body, out);
        }
        json_decref(body);
    }
    flags_release(&v.flags);
    return r < 0 ? CLI_EXIT_OK : r;
}
