/*
 * daemon - the loop of `ovsched serve`.  See daemon.h.
 *
 * The core calls the hooks below synchronously and they must not call back
 * into it; an attempt that cannot start (its slot already ran before a crash,
 * its executor failed to spawn) is therefore queued in `deferred` and handed to
 * the core by daemon_settle() once the core's call has returned.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/api_auth.h"
#include "api/job_digest.h"
#include "api/api_graph.h"
#include "graph/graph.h"
#include "api/job_doc.h"
#include "auth/auth.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/notify.h"
#include "base/timefmt.h"
#include "patterns/patterns.h"
#include "jobsdir/jobsdir.h"

#define STOP_GRACE_DEFAULT_MS 10000
#define TASK_STOP_GRACE_MS    5000
#define WAKEUP_MAX_MS         60000
/* Scheduled runs are written this long before their slot, so they start on
 * time even when a burst of them is due at once (sched_config.lookahead_ms). */
#define LOOKAHEAD_MS 5000
#define SLOW_PASS_MS 100

struct run_result {
    bool has_exit_code;
    int exit_code;
    char *output;
    char *error;
};

struct deferred {
    uint64_t run_id;
    enum sched_run_status status;
};

struct task_ctx {
    struct daemon *d;
    uint64_t run_id;
};

/* A shell attempt's process group, and when its leader started (clock ticks
 * since boot, /proc/PID/stat field 22), which tells a leftover group from a
 * later process that reused the number. */
struct process_group {
    pid_t pgid;
    unsigned long long start_ticks;
};

struct interrupted {
    char *job_id;
    int attempt;
};

static void log_line(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Structured log line on stderr (src/ops/log.h: JSON or text). */
static void log_line(const char *level, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    log_write(level, daemon_now_ms(), NULL, "%s", text);
}

int64_t daemon_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void result_free(struct run_result *r)
{
    if (!r)
        return;
    g_free(r->output);
    g_free(r->error);
    g_free(r);
}

static void defer_finish(struct daemon *d, uint64_t run_id, enum sched_run_status status,
                         const char *error)
{
    struct deferred *item = g_new(struct deferred, 1);
    item->run_id = run_id;
    item->status = status;
    if (error) {
        struct run_result *r = g_new0(struct run_result, 1);
        r->error = g_strdup(error);
        g_hash_table_replace(d->results, RUN_KEY(run_id), r);
    }
    g_queue_push_tail(&d->deferred, item);
}

static const char *trigger_text(enum sched_trigger trigger)
{
    if (trigger == SCHED_TRIGGER_SCHEDULE)
        return STORE_TRIGGER_SCHEDULE;
    if (trigger == SCHED_TRIGGER_DEPENDENCY)
        return "dependency";
    return trigger == SCHED_TRIGGER_RECOVERY ? "recovery" : "manual";
}

/* The store's view of RUN, with the last attempt's result when there is one. */
static struct store_run store_view(struct daemon *d, const struct sched_run *run)
{
    struct run_result *r = g_hash_table_lookup(d->results, RUN_KEY(run->id));
    struct store_run view = {
        .id = run->id,
        .job_id = run->job_id,
        .status = sched_run_status_to_string(run->status),
        .trigger = trigger_text(run->trigger),
        .attempt = run->attempt,
        .scheduled_at_ms = run->scheduled_at_ms,
        .started_at_ms = run->started_at_ms,
        .finished_at_ms = run->finished_at_ms,
        .has_exit_code = r && r->has_exit_code,
        .exit_code = r ? r->exit_code : 0,
        .output = r ? r->output : NULL,
        .error = r && r->error ? r->error : run->reason,
    };
    /* An orchestrated run carries its correlation id and trigger (src/patterns). */
    patterns_run_fill(d->patterns, run, !g_hash_table_contains(d->stored, RUN_KEY(run->id)), &view);
    return view;
}

/* Insert RUN the first time, update it after.  Returns 0 or the store's error
 * (-EEXIST: its slot already has a run). */
static int record_run(struct daemon *d, const struct sched_run *run)
{
    struct store_run view = store_view(d, run);
    struct store_error err;
    if (g_hash_table_contains(d->stored, RUN_KEY(run->id)))
        return store_run_update(d->store, &view, &err);
    int r = store_run_insert(d->store, &view, NULL, &err);
    if (r == 0) {
        g_hash_table_add(d->stored, RUN_KEY(run->id));
        if (d->batch)
            g_hash_table_add(d->uncommitted, RUN_KEY(run->id));
        patterns_run_recorded(d->patterns, run->id);
    } else if (r != -EEXIST && r != -ENOENT) /* ENOENT: the job was just deleted */
        log_line("error", "cannot record run %llu of %s: %s", (unsigned long long)run->id,
                 run->job_id, err.message);
    return r;
}

static void finish_stop(struct daemon *d);
static void batch_begin(struct daemon *d, int64_t now_ms);
static void batch_commit(struct daemon *d);
static void finish_all(struct daemon *d);
static void on_finish_idle(uv_idle_t *idle);

/* ---- process groups left by a crash ------------------------------------------ */

/* Each shell attempt leads its own session, so a kill -9 of the daemon leaves
 * it running.  The groups in flight are kept in DATA/process-groups (rewritten
 * on every change, atomically) and the next start kills those still alive. */

static bool proc_start_ticks(pid_t pid, unsigned long long *ret)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p && sscanf(p + 1, "%llu", ret) == 1;
}

static void groups_save(struct daemon *d)
{
    GString *text = g_string_new(NULL);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, d->groups);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const struct process_group *g = value;
        g_string_append_printf(text, "%d %llu\n", (int)g->pgid, g->start_ticks);
    }
    GError *error = NULL;
    /* 0600 whatever the umask: pids of running jobs are nobody else's business. */
    if (!g_file_set_contents_full(d->groups_path, text->str, (gssize)text->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
        log_line("error", "cannot write %s: %s", d->groups_path, error->message);
        g_error_free(error);
    }
    g_string_free(text, TRUE);
}

static void groups_add(struct daemon *d, uint64_t run_id, pid_t pid)
{
    struct process_group g = {pid, 0};
    if (pid <= 0 || !proc_start_ticks(pid, &g.start_ticks))
        return;
    g_hash_table_replace(d->groups, RUN_KEY(run_id), g_memdup2(&g, sizeof(g)));
    groups_save(d);
}

static void groups_remove(struct daemon *d, uint64_t run_id)
{
    if (g_hash_table_remove(d->groups, RUN_KEY(run_id)))
        groups_save(d);
}

/* Kill the groups a previous process left, if their leader is the same process. */
static void groups_reap_leftovers(struct daemon *d)
{
    char *text = NULL;
    if (!g_file_get_contents(d->groups_path, &text, NULL, NULL))
        return;
    char **lines = g_strsplit(text, "\n", -1);
    for (char **line = lines; *line; line++) {
        int pgid;
        unsigned long long start, now_start;
        if (sscanf(*line, "%d %llu", &pgid, &start) != 2 || pgid <= 1)
            continue;
        if (proc_start_ticks(pgid, &now_start) && now_start == start) {
            kill(-pgid, SIGKILL);
            log_line("warn", "killed process group %d, left running by a previous daemon", pgid);
        }
    }
    g_strfreev(lines);
    g_free(text);
    groups_save(d); /* empty now */
}

/* ---- executors ---------------------------------------------------------- */

/* LEN bytes of output as valid UTF-8 without NULs (which JSON and the store's
 * C strings could not carry): bad bytes become U+FFFD. */
static char *valid_text(const char *bytes, size_t len)
{
    char *copy = g_memdup2(bytes, len + 1);
    for (size_t i = 0; i < len; i++)
        if (copy[i] == '\0')
            copy[i] = '?';
    char *valid = g_utf8_make_valid(copy, (gssize)len);
    g_free(copy);
    return valid;
}

static void on_task_done(struct exec_task *task, const struct exec_result *result, void *ctx)
{
    (void)task;
    struct task_ctx *tc = ctx;
    struct daemon *d = tc->d;
    uint64_t id = tc->run_id;
    g_free(tc);
    g_hash_table_remove(d->tasks, RUN_KEY(id));
    groups_remove(d, id);
    struct run_result *r = g_new0(struct run_result, 1);
    r->has_exit_code = result->exit_code >= 0;
    r->exit_code = result->exit_code;
    r->output = valid_text(result->output, result->output_len);
    r->error = g_strdup(result->error);
    g_hash_table_replace(d->results, RUN_KEY(id), r);
    struct deferred *done = g_new(struct deferred, 1);
    done->run_id = id;
    done->status = result->outcome == EXEC_SUCCEEDED ? SCHED_RUN_COMPLETED : SCHED_RUN_FAILED;
    if (d->stopping && result->outcome == EXEC_STOPPED)
        done->status = SCHED_RUN_INTERRUPTED; /* stopped by the shutdown, not by the job */
    g_queue_push_tail(&d->finished, done);
    if (d->stopping) {
        finish_all(d);
        if (g_hash_table_size(d->tasks) == 0)
            finish_stop(d);
        return;
    }
    /* The attempts that ended in this loop iteration share one commit. */
    uv_idle_start(&d->finish_idle, on_finish_idle);
}

/* Hand every attempt that ended to the core, recording the outcomes in one
 * batch (group commit: a burst of 100,000 finishing runs is one commit per
 * loop iteration, not one each). */
static void finish_all(struct daemon *d)
{
    if (g_queue_is_empty(&d->finished))
        return;
    struct deferred *done;
    int64_t now = daemon_now_ms();
    batch_begin(d, now);
    d->in_sched = true;
    while ((done = g_queue_pop_head(&d->finished))) {
        sched_run_finished(d->sched, done->run_id, done->status, now);
        g_free(done);
    }
    d->in_sched = false;
    batch_commit(d);
    daemon_settle(d);
}

static void on_finish_idle(uv_idle_t *idle)
{
    uv_idle_stop(idle);
    finish_all(idle->data);
}

/* NULL-terminated copies of a JSON array of strings / an object of strings. */
static char **string_vector(json_t *array)
{
    size_t n = json_array_size(array), i;
    char **out = g_new0(char *, n + 1);
    json_t *v;
    json_array_foreach(array, i, v) out[i] = g_strdup(json_string_value(v));
    return out;
}

static char **pair_vector(json_t *object, const char *sep)
{
    char **out = g_new0(char *, json_object_size(object) + 1);
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(object, key, v) out[i++] =
        g_strconcat(key, sep, json_string_value(v), NULL);
    return out;
}

static int start_shell(struct daemon *d, const struct sched_run *run, json_t *ex,
                       struct task_ctx *tc, struct exec_task **task, struct exec_error *err)
{
    json_t *command = json_object_get(ex, "command");
    char **argv = json_is_string(command) ? g_new0(char *, 2) : string_vector(command);
    if (json_is_string(command))
        argv[0] = g_strdup(json_string_value(command));
    json_t *env = json_object_get(ex, "env");
    char **envv = env ? pair_vector(env, "=") : NULL;
    char **run_env = daemon_run_env(run);
    int64_t campaign = 0;
    sched_job_campaign(d->sched, run->job_id, &campaign);
    char *data_dir = realpath(d->config.data_dir, NULL);
    struct exec_shell_spec spec = {
        .argv = (const char *const *)argv,
        .shell = json_is_string(command) || json_is_true(json_object_get(ex, "shell")),
        .env = (const char *const *)envv,
        .run_env = (const char *const *)run_env,
        .cwd = json_string_value(json_object_get(ex, "cwd")),
        .run_as = daemon_run_as_user(d, json_string_value(json_object_get(ex, "run_as")), campaign),
        .hide_dir = data_dir,
    };
    int r = exec_shell_start(&d->loop, &spec, on_task_done, tc, task, err);
    g_strfreev(argv);
    g_strfreev(envv);
    g_strfreev(run_env);
    free(data_dir);
    return r;
}

static int start_http(struct daemon *d, json_t *ex, struct task_ctx *tc, struct exec_task **task,
                      struct exec_error *err)
{
    json_t *headers = json_object_get(ex, "headers"),
           *accepted = json_object_get(ex, "accepted_statuses");
    char **headerv = headers ? pair_vector(headers, ": ") : NULL;
    size_t n = json_array_size(accepted), i;
    int *codes = g_new0(int, n + 1);
    json_t *v;
    json_array_foreach(accepted, i, v) codes[i] = (int)json_integer_value(v);
    const char *body = json_string_value(json_object_get(ex, "body"));
    int64_t timeout_ms = 0;
    const char *timeout = json_string_value(json_object_get(ex, "timeout")), *reason;
    if (timeout)
        timefmt_duration_parse(timeout, strlen(timeout), &timeout_ms, &reason);
    struct exec_http_spec spec = {
        .method = json_string_value(json_object_get(ex, "method")),
        .url = json_string_value(json_object_get(ex, "url")),
        .headers = (const char *const *)headerv,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .accepted = codes,
        .accepted_count = n,
        .timeout_ms = (uint64_t)timeout_ms,
    };
    int r = exec_http_start(d->http_exec, &spec, on_task_done, tc, task, err);
    g_strfreev(headerv);
    g_free(codes);
    return r;
}

/* The executor JSON TEXT parsed (a new reference, NULL for none).  The last
 * one is kept: a burst of runs mostly shares a few executors, and parsing
 * each again would take most of the time to start them. */
static json_t *executor_json(struct daemon *d, const char *text)
{
    if (!text)
        return NULL;
    if (!d->exec_cache_text || strcmp(d->exec_cache_text, text) != 0) {
        json_t *json = json_loads(text, 0, NULL);
        if (!json)
            return NULL;
        g_free(d->exec_cache_text);
        json_decref(d->exec_cache_json);
        d->exec_cache_text = g_strdup(text);
        d->exec_cache_json = json;
    }
    return json_incref(d->exec_cache_json);
}

/* Start the attempt's executor.  Returns 0, or an error with ERR filled. */
static int start_task(struct daemon *d, const struct sched_run *run, struct exec_error *err)
{
    const char *text = sched_run_executor(run);
    json_t *ex = executor_json(d, text);
    const char *type = ex ? json_string_value(json_object_get(ex, "type")) : "noop";
    if (run->job && type && strcmp(type, "event") == 0) {
        /* No task: the event is published, the run ends at once or, with
         * await_completion, at CompleteRun or its timeout (src/patterns). */
        int r = patterns_event_start(d->patterns, run, ex);
        if (r < 0)
            snprintf(err->reason, sizeof(err->reason), "the event executor is not valid");
        json_decref(ex);
        return r;
    }
    struct task_ctx *tc = g_new(struct task_ctx, 1);
    struct exec_task *task = NULL;
    *tc = (struct task_ctx){d, run->id};
    int r;
    if (!run->job) {
        snprintf(err->reason, sizeof(err->reason), "the job was deleted");
        r = -ENOENT;
    } else if (strcmp(type, "shell") == 0) {
        r = start_shell(d, run, ex, tc, &task, err);
    } else if (strcmp(type, "http") == 0) {
        r = start_http(d, ex, tc, &task, err);
    } else {
        /* noop, and event until the events issue delivers events */
        r = exec_noop_start(&d->loop, on_task_done, tc, &task);
    }
    json_decref(ex);
    if (r < 0) {
        g_free(tc);
        return r;
    }
    g_hash_table_insert(d->tasks, RUN_KEY(run->id), task);
    groups_add(d, run->id, exec_pid(task));
    return 0;
}

/* ---- hooks from the core ---------------------------------------------- */

/* Start RUN's executor; a failure is handed back to the core. */
static void launch(struct daemon *d, struct sched_run *run)
{
    struct exec_error err = {{0}};
    if (start_task(d, run, &err) < 0) {
        log_line("warn", "run %llu of %s cannot start: %s", (unsigned long long)run->id,
                 run->job_id, err.reason);
        defer_finish(d, run->id, SCHED_RUN_FAILED, err.reason);
    }
}

/* The schedule lag metric: how late a scheduled run's first attempt starts. */
static void observe_lag(const struct sched_run *run)
{
    if (run->trigger == SCHED_TRIGGER_SCHEDULE && run->attempt <= 1 && run->started_at_ms > 0)
        metrics_schedule_lag_observe((double)(run->started_at_ms - run->scheduled_at_ms) / 1000.0);
}

static void hook_run_start(void *ctx, struct sched_run *run)
{
    struct daemon *d = ctx;
    g_hash_table_remove(d->results, RUN_KEY(run->id)); /* a new attempt: forget the last one's */
    if (d->stopping) {
        /* A queued run must not start during the shutdown: the next start retries it. */
        defer_finish(d, run->id, SCHED_RUN_INTERRUPTED, "the daemon was stopping");
        return;
    }
    /* A run written ahead of its slot (hook_run_prepare) in a batch already
     * committed starts at once; its RUNNING state follows in this batch. */
    bool written = g_hash_table_contains(d->stored, RUN_KEY(run->id)) &&
                   !g_hash_table_contains(d->uncommitted, RUN_KEY(run->id));
    if (written && d->batch) {
        /* Start first, write after: a burst of runs due at once all start
         * within their second, and their RUNNING states share one commit. */
        run->started_at_ms = daemon_now_ms(); /* the executor's start, not the pass's */
        observe_lag(run);
        launch(d, run);
        g_array_append_val(d->to_record, run->id);
        return;
    }
    observe_lag(run);
    int r = record_run(d, run);
    if (r < 0) {
        /* Never run what is not recorded: the slot already ran (before a
         * restart), or the store failed. */
        defer_finish(d, run->id, r == -EEXIST ? SCHED_RUN_SKIPPED : SCHED_RUN_FAILED,
                     r == -EEXIST ? "this slot already has a run"
                                  : "the run could not be recorded in the store");
        return;
    }
    events_run(d->events, true, run->job_id, "RUNNING", run->id, run->attempt,
               patterns_run_correlation(d->patterns, run->id));
    if (d->batch && !written) {
        /* Group commit: the executor starts once the batch holding its record
         * is committed (batch_commit()), never before. */
        g_array_append_val(d->to_start, run->id);
        return;
    }
    launch(d, run);
}

/* Write a scheduled run ahead of its slot (sched_config.lookahead_ms).  If
 * this fails the run is simply written when it starts, as without lookahead. */
static void hook_run_prepare(void *ctx, struct sched_run *run)
{
    record_run(ctx, run);
}

static void hook_run_discard(void *ctx, struct sched_run *run)
{
    struct daemon *d = ctx;
    if (g_hash_table_contains(d->stored, RUN_KEY(run->id)))
        store_run_discard(d->store, run->id, NULL);
    g_hash_table_remove(d->stored, RUN_KEY(run->id));
    g_hash_table_remove(d->uncommitted, RUN_KEY(run->id));
}

static void hook_run_stop(void *ctx, struct sched_run *run)
{
    struct daemon *d = ctx;
    struct exec_task *task = g_hash_table_lookup(d->tasks, RUN_KEY(run->id));
    if (task)
        exec_task_stop(task, TASK_STOP_GRACE_MS);
    else
        patterns_run_stop(d->patterns, run); /* an event run awaiting CompleteRun */
}

static void hook_run_changed(void *ctx, struct sched_run *run)
{
    struct daemon *d = ctx;
    bool skipped_slot =
        run->status == SCHED_RUN_SKIPPED && !g_hash_table_contains(d->stored, RUN_KEY(run->id));
    if (!skipped_slot)
        record_run(d, run);
    events_run(d->events, false, run->job_id, sched_run_status_to_string(run->status), run->id,
               run->attempt, patterns_run_correlation(d->patterns, run->id));
    patterns_run_changed(d->patterns, run); /* after: it forgets a final run's context */
    if (sched_run_status_is_final(run->status)) {
        const char *status = sched_run_status_to_string(run->status);
        metrics_run_finished(status);
        log_write("info", daemon_now_ms(),
                  json_pack("{sI ss ss si}", "run_id", (json_int_t)run->id, "job_id", run->job_id,
                            "status", status, "attempts", run->attempt),
                  "run %llu of %s ended %s after %d attempt(s)", (unsigned long long)run->id,
                  run->job_id, status, run->attempt);
        g_hash_table_remove(d->results, RUN_KEY(run->id));
        g_hash_table_remove(d->stored, RUN_KEY(run->id));
    }
}

/* A decision the pass made, written at its end. */
struct later_decision {
    struct sched_decision decision; /* job_id owned */
    int64_t at_ms;
};

static void later_decision_clear(struct later_decision *later)
{
    g_free((char *)later->decision.job_id);
    g_free((char *)later->decision.reason);
}

static void write_decision(struct daemon *d, const struct sched_decision *decision, int64_t at_ms)
{
    struct store_decision rec = {
        .job_id = decision->job_id,
        .kind = sched_decision_kind_to_string(decision->kind),
        .first_slot_ms = decision->first_slot_ms,
        .last_slot_ms = decision->last_slot_ms,
        .count = (int64_t)decision->count,
        .run_id = decision->run_id,
        .at_ms = at_ms,
        .reason = decision->reason,
    };
    store_decision_insert(d->store, &rec, NULL, NULL);
    events_decision(d->events, decision->job_id, rec.kind, decision->first_slot_ms);
}

static void hook_decision(void *ctx, const struct sched_decision *decision)
{
    struct daemon *d = ctx;
    if (!d->batch) {
        write_decision(d, decision, daemon_now_ms());
        return;
    }
    /* In a pass: written at its end, after the starts. */
    struct later_decision later = {*decision, daemon_now_ms()};
    later.decision.job_id = g_strdup(decision->job_id);
    later.decision.reason = g_strdup(decision->reason);
    g_array_append_val(d->decisions, later);
}

/* ---- the clock -------------------------------------------------------- */

/* Everything one scheduler pass records goes into one transaction (group
 * commit: 100,000 runs due at once are one commit, not 100,000). */
static void batch_begin(struct daemon *d, int64_t now_ms)
{
    /* In a batch, runs written ahead start before their RUNNING state is
     * stored (hook_run_start).  The launch mark, committed first, tells the
     * next start which of them may have started: none with a slot after it
     * (load_state()).  Without it the fast path is not taken. */
    if (store_launch_mark_set(d->store, now_ms, NULL) < 0) {
        d->batch = false;
        return;
    }
    d->batch = store_begin(d->store, NULL) == 0;
    g_array_set_size(d->to_start, 0);
}

/* What the pass deferred until its starts were done: the RUNNING state of
 * runs written ahead, and the decisions. */
static void write_deferred(struct daemon *d)
{
    for (guint i = 0; i < d->to_record->len; i++) {
        struct sched_run *run = sched_run_find(d->sched, g_array_index(d->to_record, uint64_t, i));
        if (!run) /* it ended in the pass, and its end is recorded */
            continue;
        record_run(d, run);
        events_run(d->events, true, run->job_id, "RUNNING", run->id, run->attempt,
                   patterns_run_correlation(d->patterns, run->id));
    }
    g_array_set_size(d->to_record, 0);
    for (guint i = 0; i < d->decisions->len; i++) {
        struct later_decision *later = &g_array_index(d->decisions, struct later_decision, i);
        write_decision(d, &later->decision, later->at_ms);
    }
    g_array_set_size(d->decisions, 0);
}

/* The batch was lost: the runs it inserted are not stored after all. */
static void forget_uncommitted(struct daemon *d)
{
    GHashTableIter it;
    gpointer id;
    g_hash_table_iter_init(&it, d->uncommitted);
    while (g_hash_table_iter_next(&it, &id, NULL))
        g_hash_table_remove(d->stored, id);
}

/* Commit the pass, then start the executors whose runs it recorded. */
static void batch_commit(struct daemon *d)
{
    if (!d->batch)
        return;
    write_deferred(d);
    d->batch = false;
    struct store_error err = {0};
    gint64 commit_start = g_get_monotonic_time();
    bool ok = store_commit(d->store, &err) == 0;
    metrics_store_latency_observe((double)(g_get_monotonic_time() - commit_start) / 1e6);
    if (!ok) {
        log_line("error", "cannot commit %u run records: %s", d->to_start->len, err.message);
        forget_uncommitted(d);
    }
    g_hash_table_remove_all(d->uncommitted);
    for (guint i = 0; i < d->to_start->len; i++) {
        uint64_t id = g_array_index(d->to_start, uint64_t, i);
        struct sched_run *run = sched_run_find(d->sched, id);
        if (!run || run->status != SCHED_RUN_RUNNING)
            continue;
        if (ok) {
            launch(d, run);
        } else {
            g_hash_table_remove(d->stored, RUN_KEY(id));
            defer_finish(d, id, SCHED_RUN_FAILED, "the run could not be recorded in the store");
        }
    }
    g_array_set_size(d->to_start, 0);
}

static void on_wakeup(uv_timer_t *timer)
{
    struct daemon *d = timer->data;
    int64_t t0 = daemon_now_ms();
    batch_begin(d, t0);
    d->in_sched = true;
    int started = sched_advance(d->sched, t0);
    d->in_sched = false;
    int64_t t1 = daemon_now_ms();
    batch_commit(d);
    int64_t t2 = daemon_now_ms();
    /* A slow pass delays every slot behind it: say where the time went. */
    if (t2 - t0 >= SLOW_PASS_MS)
        log_line("info", "scheduler pass: %d attempts started in %lld ms, recorded in %lld ms",
                 started, (long long)(t1 - t0), (long long)(t2 - t1));
    daemon_settle(d);
}

void daemon_settle(struct daemon *d)
{
    struct deferred *item;
    if (!d->stopping)
        patterns_settle(d->patterns); /* cascades and event triggers queued by hooks */
    while ((item = g_queue_pop_head(&d->deferred))) {
        d->in_sched = true;
        sched_run_finished(d->sched, item->run_id, item->status, daemon_now_ms());
        d->in_sched = false;
        g_free(item);
    }
    if (d->stopping)
        return;
    int64_t next = sched_next_wakeup_ms(d->sched);
    if (next < 0) {
        uv_timer_stop(&d->wakeup);
        return;
    }
    /* Slots are wall-clock instants and the loop's timer is monotonic: wake at
     * least once a minute, so a clock step forward is noticed within one. */
    int64_t delay = next - daemon_now_ms();
    delay = delay < 0 ? 0 : delay > WAKEUP_MAX_MS ? WAKEUP_MAX_MS : delay;
    uv_timer_start(&d->wakeup, on_wakeup, (uint64_t)delay, 0);
}

/* ---- views -------------------------------------------------------------- */

static json_t *time_or_null(int64_t at_ms)
{
    char text[TIMEFMT_RFC3339_SIZE];
    return at_ms > 0 ? json_string(timefmt_rfc3339_format(at_ms / 1000, text)) : json_null();
}

json_t *daemon_job_view(struct daemon *d, const struct store_job *job)
{
    json_t *doc = json_loads(job->json, 0, NULL);
    if (!doc)
        doc = json_object();
    int64_t next = -1;
    sched_job_next_fire(d->sched, job->id, &next);
    json_object_set_new(doc, "version", json_integer(job->version));
    json_object_set_new(doc, "created_at", time_or_null(job->created_at_ms));
    json_object_set_new(doc, "updated_at", time_or_null(job->updated_at_ms));
    json_object_set_new(doc, "next_run_time", time_or_null(next));
    return doc;
}

json_t *daemon_run_view(const struct store_run *run)
{
    char id[24];
    snprintf(id, sizeof(id), "%llu", (unsigned long long)run->id);
    json_t *view = json_pack("{ss ss ss ss si so so so}", "id", id, "job_id", run->job_id, "status",
                             run->status, "trigger", run->trigger, "attempt", run->attempt,
                             "scheduled_at", time_or_null(run->scheduled_at_ms), "started_at",
                             time_or_null(run->started_at_ms), "finished_at",
                             time_or_null(run->finished_at_ms));
    json_object_set_new(view, "exit_code",
                        run->has_exit_code ? json_integer(run->exit_code) : json_null());
    json_object_set_new(view, "output", run->output ? json_string(run->output) : json_null());
    json_object_set_new(view, "error", run->error ? json_string(run->error) : json_null());
    json_object_set_new(view, "correlation_id",
                        run->correlation_id ? json_string(run->correlation_id) : json_null());
    return view;
}

/* The tenant of job ID, from the core: run events need it, and asking the
 * store for each of 100,000 runs due at once would cost a second. */
static bool job_campaign(void *ctx, const char *id, int64_t *ret_campaign_id)
{
    struct daemon *d = ctx;
    return sched_job_campaign(d->sched, id, ret_campaign_id) == 0;
}

/* ---- start-up ------------------------------------------------------------ */

/* The start-up load: every stored job into the core, straight from the
 * store's walk (no copy of the documents is kept). */
struct loader {
    struct daemon *d;
    struct job_digest_decoder decoder;
    int64_t now_ms;
    unsigned loaded, from_document, invalid;
};

/* Retry each interrupted run whose job's policy allows another attempt. */
static void recover_runs(struct daemon *d, GArray *interrupted, int64_t now_ms)
{
    for (guint i = 0; i < interrupted->len; i++) {
        struct interrupted *item = &g_array_index(interrupted, struct interrupted, i);
        struct sched_run *run;
        if (sched_job_recover(d->sched, item->job_id, item->attempt, now_ms, &run) == 0)
            log_line("info", "retrying the interrupted run of %s as run %llu", item->job_id,
                     (unsigned long long)run->id);
        g_free(item->job_id);
    }
}

/* JOB's spec from its document, for jobs stored without a usable digest. */
static struct job_doc *spec_from_document(struct loader *l, const struct store_job *job,
                                          struct sched_job_spec *spec)
{
    json_t *json = json_loads(job->json, 0, NULL);
    struct job_doc *doc = NULL;
    struct job_doc_error err;
    if (!json || job_doc_parse(json, l->d->zones, job->created_at_ms, &doc, &err) < 0) {
        log_line("error", "stored job %s no longer validates: %s", job->id,
                 json ? err.message : "invalid JSON");
        json_decref(json);
        return NULL;
    }
    json_decref(json);
    job_doc_take_spec(doc, spec);
    return doc;
}

/* Put one stored job into the core, resuming after its last settled slot. */
static int load_job(const struct store_job *job, void *userdata)
{
    struct loader *l = userdata;
    struct sched_job_spec spec;
    struct job_doc *doc = NULL;
    if (job_digest_decode(&l->decoder, job->id, job->digest, job->digest_len, &spec) < 0) {
        if (!(doc = spec_from_document(l, job, &spec))) {
            l->invalid++;
            return 0;
        }
        l->from_document++;
    }
    /* Every write computes the next slot from its own time, as the live
     * daemon does: slots before it (a pause, an old schedule) are not owed. */
    spec.resume_after_ms = job->has_last_slot && job->last_slot_ms > job->updated_at_ms
                               ? job->last_slot_ms
                               : job->updated_at_ms;
    spec.baseline_ms = job->created_at_ms; /* dependencies count from its creation */
    spec.campaign_id = job->campaign_id;
    api_graph_load_job(l->d, job->id, spec.deps, spec.dep_count);
    sched_job_put(l->d->sched, &spec, l->now_ms);
    job_doc_free(doc);
    l->loaded++;
    return 0;
}

struct recovery {
    GArray *interrupted; /* struct interrupted */
    int64_t launch_mark; /* store_launch_mark_get(): INT64_MIN after a graceful stop */
};

static void on_interrupted(const struct store_run *run, const char *previous, void *userdata)
{
    struct recovery *rec = userdata;
    struct interrupted item = {g_strdup(run->job_id), run->attempt};
    /* A run written ahead whose slot a pass reached before the crash may have
     * started: its RUNNING state is written after the start.  Count the
     * attempt, so a slot never runs twice (at most once, as the unique slot
     * promises).  After a graceful stop nothing is in doubt. */
    if (strcmp(run->trigger, STORE_TRIGGER_SCHEDULE) == 0 && item.attempt == 0 &&
        run->scheduled_at_ms <= rec->launch_mark)
        item.attempt = 1;
    g_array_append_val(rec->interrupted, item);
    log_line("warn", "run %llu of %s was %s when the daemon stopped: now INTERRUPTED",
             (unsigned long long)run->id, run->job_id, previous);
}

static int load_state(struct daemon *d, char *err, size_t err_size)
{
    struct store_error serr = {0};
    int64_t now = daemon_now_ms();
    groups_reap_leftovers(d);
    GArray *interrupted = g_array_new(FALSE, FALSE, sizeof(struct interrupted));
    /* Runs written ahead with a slot after the launch mark never started (no
     * pass reached them): they are deleted and their slots meet the misfire
     * policy.  The others may have started (their RUNNING state is written
     * after the start): they become INTERRUPTED below, so no slot runs twice. */
    int64_t mark = INT64_MIN;
    int r = store_launch_mark_get(d->store, &mark, &serr);
    if (r == 0) /* without a mark (a graceful stop): only the slots to come */
        r = store_runs_release_unstarted(d->store, mark == INT64_MIN ? now : mark, &serr);
    if (r < 0) {
        snprintf(err, err_size, "recovery failed: %s", serr.message);
        g_array_free(interrupted, TRUE);
        return r;
    }
    struct recovery rec = {interrupted, mark};
    r = store_runs_mark_interrupted(d->store, now, on_interrupted, &rec, &serr);
    if (r < 0) {
        snprintf(err, err_size, "recovery failed: %s", serr.message);
        g_array_free(interrupted, TRUE);
        return r;
    }
    struct loader loader = {.d = d, .now_ms = now};
    job_digest_decoder_init(&loader.decoder, d->zones);
    r = store_job_foreach(d->store, load_job, &loader, &serr);
    job_digest_decoder_clear(&loader.decoder);
    if (r < 0) {
        snprintf(err, err_size, "cannot read jobs: %s", serr.message);
        g_array_free(interrupted, TRUE);
        return r;
    }
    log_line("info", "loaded %u jobs (%u from their documents, %u invalid)", loader.loaded,
             loader.from_document, loader.invalid);
    int waiting = api_graph_load_finish(d, now);
    if (waiting > 0)
        log_line("info", "%d run(s) WAITING for dependencies resume waiting", waiting);
    d->in_sched = true;
    recover_runs(d, interrupted, now);
    d->in_sched = false;
    g_array_free(interrupted, TRUE);
    return 0;
}

/* ---- stop ------------------------------------------------------------------ */

static void close_walk(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

static void finish_stop(struct daemon *d)
{
    uv_timer_stop(&d->wakeup);
    if (patterns_stop(d->patterns))
        return; /* a Nexus request is being aborted; it calls back */
    if (g_hash_table_size(d->tasks) > 0) {
        /* Past the grace period: stop what still runs; it is recorded INTERRUPTED. */
        GHashTableIter it;
        gpointer task;
        g_hash_table_iter_init(&it, d->tasks);
        while (g_hash_table_iter_next(&it, NULL, &task))
            exec_task_stop(task, 1000);
        return;
    }
    /* Runs written ahead of slots to come never started: free their slots.
     * Runs queued for capacity stay PENDING, and with the launch mark gone
     * the next start retries them as never started (load_state()). */
    struct store_error serr = {0};
    if (store_runs_release_unstarted(d->store, daemon_now_ms(), &serr) < 0 ||
        store_launch_mark_clear(d->store, &serr) < 0)
        log_line("error", "cannot settle the runs not started: %s", serr.message);
    exec_http_free(d->http_exec);
    d->http_exec = NULL;
    uv_walk(&d->loop, close_walk, NULL);
}

void daemon_finish_stop(struct daemon *d)
{
    finish_stop(d);
}

void daemon_run_finish(struct daemon *d, uint64_t run_id, enum sched_run_status status,
                       const char *output, const char *error)
{
    struct run_result *r = g_new0(struct run_result, 1);
    r->output = g_strdup(output);
    r->error = g_strdup(error);
    g_hash_table_replace(d->results, RUN_KEY(run_id), r);
    struct deferred *done = g_new(struct deferred, 1);
    done->run_id = run_id;
    done->status = status;
    g_queue_push_tail(&d->finished, done);
    uv_idle_start(&d->finish_idle, on_finish_idle);
}

void daemon_finish_pending(struct daemon *d)
{
    if (!d->in_sched && !d->batch)
        finish_all(d);
}

static void on_grace_over(uv_timer_t *timer)
{
    finish_stop(timer->data);
}

static void on_signal(uv_signal_t *signal, int signum)
{
    struct daemon *d = signal->data;
    if (d->stopping) {
        /* A second signal means now: what still runs is stopped at once. */
        log_line("info", "signal %d again: stopping running attempts now", signum);
        finish_stop(d);
        return;
    }
    log_line("info", "signal %d: stopping (running attempts get %lld ms)", signum,
             (long long)d->config.stop_grace_ms);
    d->stopping = true;
    sched_hold(d->sched); /* queued runs stay queued: the next start runs them */
    notify_send("STOPPING=1");
    events_stop(d->events);
    http_server_close(d->http);
    d->http = NULL;
    uv_timer_stop(&d->wakeup);
    if (g_hash_table_size(d->tasks) == 0) {
        finish_stop(d);
        return;
    }
    uv_timer_start(&d->wakeup, on_grace_over, (uint64_t)d->config.stop_grace_ms, 0);
}

/* ---- main ---------------------------------------------------------------- */

static void on_http(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct daemon *d = ctx;
    api_handle(d, req, resp);
    daemon_settle(d);
}

/* One daemon per data folder: a second one would kill the first one's
 * attempts as leftovers and schedule every job twice. */
static int lock_data_dir(struct daemon *d, char *err, size_t err_size)
{
    char *path = g_build_filename(d->config.data_dir, "lock", NULL);
    g_mkdir_with_parents(d->config.data_dir, 0700);
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int r = d->lock_fd < 0 ? -errno : 0;
    if (r == 0 && flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
        r = errno == EWOULDBLOCK ? -EBUSY : -errno;
    if (r == -EBUSY)
        snprintf(err, err_size, "another ovsched is already using %s", d->config.data_dir);
    else if (r < 0)
        snprintf(err, err_size, "cannot lock %s: %s", path, g_strerror(-r));
    g_free(path);
    return r;
}

/* Without OVSCHED_ADMIN_TOKEN the first start makes an admin token and
 * writes it to DATA/admin-token (0600); say where, never what. */
static int bootstrap_admin_token(struct daemon *d, char *err, size_t err_size)
{
    char *path = NULL;
    bool generated = false;
    int r = auth_bootstrap(d->store, d->config.data_dir, d->config.admin_token, daemon_now_ms(),
                           &path, &generated, err, err_size);
    if (r < 0)
        return r;
    if (path)
        log_write("info", daemon_now_ms(),
                  json_pack("{ss sb}", "path", path, "generated", generated),
                  "%s admin token is in %s (mode 0600)", generated ? "a new" : "the", path);
    else if (d->config.admin_token && *d->config.admin_token)
        log_line("info", "admin token: OVSCHED_ADMIN_TOKEN");
    g_free(path);
    return 0;
}

static int daemon_init(struct daemon *d, char *err, size_t err_size)
{
    int r = auth_env_admin_token_check(d->config.admin_token, err, err_size);
    if (r < 0 || (r = daemon_run_as_check(&d->config, err, err_size)) < 0 ||
        (r = lock_data_dir(d, err, err_size)) < 0)
        return r;
    if (d->config.store) {
        char shown[512];
        store_conninfo_redact(d->config.store, shown, sizeof(shown));
        log_line("info", "store: PostgreSQL at %s", shown);
        r = store_open_postgres(d->config.store, STORE_PG_EXCLUSIVE, &d->store, err, err_size);
    } else {
        r = store_open_sqlite(d->config.data_dir, &d->store, err, err_size);
    }
    if (r < 0)
        return r;
    uint64_t max_id = 0;
    struct store_error serr = {0};
    if ((r = store_run_max_id(d->store, &max_id, &serr)) < 0) {
        snprintf(err, err_size, "cannot read the last run id: %s", serr.message);
        return r;
    }
    struct sched_config sc = {.max_in_flight = d->config.max_in_flight,
                              .first_run_id = max_id + 1,
                              .lookahead_ms = LOOKAHEAD_MS,
                              .seed = (uint64_t)daemon_now_ms()};
    struct sched_hooks hooks = {d,
                                hook_run_start,
                                hook_run_stop,
                                hook_run_changed,
                                hook_decision,
                                hook_run_prepare,
                                hook_run_discard};
    d->sched = sched_new(&sc, &hooks);
    d->zones = tz_cache_new();
    d->graph = graph_new();
    d->tasks = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, NULL);
    d->results =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)result_free);
    d->stored = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, NULL);
    d->uncommitted = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, NULL);
    d->to_record = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    d->decisions = g_array_new(FALSE, FALSE, sizeof(struct later_decision));
    g_array_set_clear_func(d->decisions, (GDestroyNotify)later_decision_clear);
    d->groups = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    d->to_start = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    d->groups_path = g_build_filename(d->config.data_dir, "process-groups", NULL);
    g_queue_init(&d->deferred);
    g_queue_init(&d->finished);
    uv_loop_init(&d->loop);
    d->loop.data = d; /* marks the loop as initialised for daemon_release() */
    uv_timer_init(&d->loop, &d->wakeup);
    d->wakeup.data = d;
    uv_idle_init(&d->loop, &d->finish_idle);
    d->finish_idle.data = d;
    if ((r = exec_http_new(&d->loop, &d->http_exec)) < 0) {
        snprintf(err, err_size, "cannot start the http executor");
        return r;
    }
    if ((r = events_new(&d->loop, d->store, &d->config.events, &d->events, err, err_size)) < 0)
        return r;
    events_set_authorizer(d->events, api_auth_events_authorizer, d);
    events_set_campaign_lookup(d->events, job_campaign, d);
    /* Bind first: a daemon that cannot serve must not start recovered runs. */
    struct http_server_config hc = {.host = d->config.listen_host,
                                    .port = d->config.listen_port,
                                    .max_connections = d->config.max_connections};
    if ((r = http_server_start(&d->loop, &hc, on_http, d, &d->http, err, err_size)) < 0)
        return r;
    if ((r = bootstrap_admin_token(d, err, err_size)) < 0)
        return r;
    if (!(d->patterns = patterns_new(d, d->config.nexus_url))) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    if ((r = load_state(d, err, err_size)) < 0)
        return r;
    /* trigger_on events from Redis: --redis-ingest, else the --redis of the
     * event sink (on its own channel, so our own events never come back). */
    const char *ingest =
        d->config.redis_ingest_url ? d->config.redis_ingest_url : d->config.events.redis_url;
    if ((r = patterns_start(d->patterns, ingest, d->config.redis_ingest_channel, err, err_size)) <
        0)
        return r;
    if (d->jobs_dir_path &&
        (r = jobsdir_start(d, d->jobs_dir_path, &d->jobsdir, err, err_size)) < 0)
        return r;
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sigint);
    d->sigterm.data = d->sigint.data = d;
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    return 0;
}

static void daemon_release(struct daemon *d)
{
    if (d->loop.data == d) {
        /* Close what is still open (an error path): handles first, memory after. */
        exec_http_free(d->http_exec);
        d->http_exec = NULL;
        events_stop(d->events);
        http_server_close(d->http);
        uv_walk(&d->loop, close_walk, NULL);
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
    }
    patterns_free(d->patterns);
    events_free(d->events);
    sched_free(d->sched);
    store_close(d->store);
    tz_cache_free(d->zones);
    graph_free(d->graph);
    if (d->tasks)
        g_hash_table_destroy(d->tasks);
    if (d->results)
        g_hash_table_destroy(d->results);
    if (d->stored)
        g_hash_table_destroy(d->stored);
    if (d->uncommitted)
        g_hash_table_destroy(d->uncommitted);
    if (d->to_record)
        g_array_free(d->to_record, TRUE);
    g_free(d->exec_cache_text);
    json_decref(d->exec_cache_json);
    if (d->decisions)
        g_array_free(d->decisions, TRUE);
    if (d->groups)
        g_hash_table_destroy(d->groups);
    if (d->to_start)
        g_array_free(d->to_start, TRUE);
    g_free(d->groups_path);
    jobsdir_free(d->jobsdir);
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* releases the lock */
    g_queue_clear_full(&d->deferred, g_free);
    g_queue_clear_full(&d->finished, g_free);
}

static int parse_listen(const char *text, struct daemon_config *config)
{
    const char *colon = strrchr(text, ':');
    char *end = NULL;
    if (!colon)
        return -EINVAL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return -EINVAL;
    config->listen_host = g_strndup(text, (size_t)(colon - text));
    config->listen_port = (int)port;
    return 0;
}

/* --store: "sqlite" (the default: DATA/ovsched.db), or a PostgreSQL URL or
 * key=value connection string (docs/storage.md). */
static int parse_store(const char *text, struct daemon_config *config, char *err, size_t err_size)
{
    if (strcmp(text, "sqlite") == 0) {
        config->store = NULL;
        return 0;
    }
    if (g_str_has_prefix(text, "postgres://") || g_str_has_prefix(text, "postgresql://") ||
        strchr(text, '=')) {
        config->store = text;
        return 0;
    }
    snprintf(err, err_size, "--store: expected sqlite or a postgres:// URL");
    return -EINVAL;
}

int daemon_main(int argc, char **argv, FILE *in, FILE *out)
{
    (void)in;
    static const struct option options[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data", required_argument, NULL, 'd'},
        {"max-in-flight", required_argument, NULL, 'm'},
        {"nexus-url", required_argument, NULL, 'n'},
        {"redis-ingest", required_argument, NULL, 'R'},
        {"redis-ingest-channel", required_argument, NULL, 'C'},
        {"log-format", required_argument, NULL, 'f'},
        {"jobs-dir", required_argument, NULL, 'j'},
        {"max-connections", required_argument, NULL, 'c'},
        {"run-as", required_argument, NULL, DAEMON_OPT_RUN_AS},
        {"run-as-tenant", required_argument, NULL, DAEMON_OPT_RUN_AS_TENANT},
        {"store", required_argument, NULL, 'S'},
        EVENTS_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    struct daemon *d = g_new0(struct daemon, 1);
    d->lock_fd = -1;
    d->config = (struct daemon_config){.listen_host = "127.0.0.1",
                                       .listen_port = 8080,
                                       .data_dir = "./data",
                                       .stop_grace_ms = STOP_GRACE_DEFAULT_MS,
                                       .admin_token = getenv("OVSCHED_ADMIN_TOKEN")};
    char *listen_host = NULL, err[512] = "";
    enum log_format log_format;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (c == 'l' && parse_listen(optarg, &d->config) == 0) {
            listen_host = (char *)d->config.listen_host;
        } else if (c == 'd') {
            d->config.data_dir = optarg;
        } else if (c == 'm') {
            d->config.max_in_flight = atoi(optarg);
        } else if (c == 'n') {
            d->config.nexus_url = optarg;
        } else if (c == 'R') {
            d->config.redis_ingest_url = optarg;
        } else if (c == 'C') {
            d->config.redis_ingest_channel = optarg;
        } else if (c == 'f' && log_format_from_string(optarg, &log_format) == 0) {
            log_set_format(log_format);
        } else if (c == 'j') {
            d->jobs_dir_path = optarg;
        } else if (c == 'c' && atoi(optarg) > 0) {
            d->config.max_connections = (unsigned)atoi(optarg);
        } else if ((c == DAEMON_OPT_RUN_AS || c == DAEMON_OPT_RUN_AS_TENANT) &&
                   daemon_run_as_option(&d->config, c, optarg, err, sizeof(err)) == 0) {
            continue;
        } else if (c == 'S' && parse_store(optarg, &d->config, err, sizeof(err)) == 0) {
            continue;
        } else if (c >= EVENTS_OPT_FIRST &&
                   events_config_option(&d->config.events, c, optarg, err, sizeof(err)) == 0) {
            continue;
        } else {
            if (*err)
                fprintf(stderr, "ovsched: %s\n", err);
            fprintf(stderr,
                    "usage: ovsched serve [--listen HOST:PORT] [--data DIR] "
                    "[--store sqlite|postgres://USER@HOST:PORT/DB] "
                    "[--max-in-flight N] [--jobs-dir DIR] [--log-format json|text] " EVENTS_USAGE
                    "\n       [--nexus-url URL] [--redis-ingest redis://HOST:PORT] "
                    "[--redis-ingest-channel NAME]\n       [--max-connections N] "
                    "[--run-as USER] [--run-as-tenant CAMPAIGN_ID=USER]...\n");
            g_free(d);
            return 2;
        }
    }
    int r = daemon_init(d, err, sizeof(err));
    if (r < 0) {
        log_write("error", daemon_now_ms(), NULL, "ovsched: %s", err);
        daemon_release(d);
        g_free(listen_host);
        g_free(d);
        return 1;
    }
    char store_shown[512] = "";
    if (d->config.store) {
        strcpy(store_shown, ", store ");
        store_conninfo_redact(d->config.store, store_shown + 8, sizeof(store_shown) - 8);
    }
    fprintf(out, "ovsched: listening on http://%s:%d (data in %s%s)\n", d->config.listen_host,
            http_server_port(d->http), d->config.data_dir, store_shown);
    fflush(out);
    char ready[256];
    snprintf(ready, sizeof(ready), "READY=1\nSTATUS=listening on http://%s:%d",
             d->config.listen_host, http_server_port(d->http));
    notify_send(ready);
    daemon_settle(d);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    log_line("info", "stopped");
    daemon_release(d);
    g_free(listen_host);
    g_free(d);
    return 0;
}
