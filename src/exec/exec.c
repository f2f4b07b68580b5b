/*
 * exec - what every executor shares (outcome names, stop and pid dispatch,
 * error sentences) and the noop executor.
 *
 * A noop task is one uv_timer_t due at once: it fires on the next loop
 * iteration, and its close callback delivers the result, so that a stop that
 * comes first (the timer is then closed unfired) and a normal end take the same
 * road to the user's callback.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/internal.h"

static const char *const outcome_names[] = {
    [EXEC_SUCCEEDED] = "succeeded",
    [EXEC_FAILED] = "failed",
    [EXEC_STOPPED] = "stopped",
};

const char *exec_outcome_to_string(enum exec_outcome outcome)
{
    if ((size_t)outcome >= sizeof(outcome_names) / sizeof(outcome_names[0]))
        return NULL;
    return outcome_names[outcome];
}

int exec_outcome_from_string(const char *text, enum exec_outcome *ret)
{
    for (size_t i = 0; text && i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++) {
        if (strcmp(text, outcome_names[i]) == 0) {
            *ret = (enum exec_outcome)i;
            return 0;
        }
    }
    return -EINVAL;
}

int exec_error_set(struct exec_error *reterr, int err, const char *fmt, ...)
{
    if (reterr) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reterr->reason, sizeof(reterr->reason), fmt, ap);
        va_end(ap);
    }
    return err;
}

const char *exec_strerror(int err)
{
    const char *text = strerrordesc_np(-err);
    return text ? text : "Unknown error";
}

/* ---- noop ----------------------------------------------------------------- */

struct noop_task {
    struct exec_task base;
    uv_timer_t timer;
    bool ending;
    bool stopped;
};

static void noop_closed(uv_handle_t *handle)
{
    struct noop_task *task = handle->data;
    struct exec_result result = {
        .outcome = task->stopped ? EXEC_STOPPED : EXEC_SUCCEEDED,
        .exit_code = -1,
        .output = "",
        .error = task->stopped ? "stopped before it ran" : NULL,
    };
    task->base.cb(&task->base, &result, task->base.ctx);
    free(task);
}

static void noop_fire(uv_timer_t *timer)
{
    struct noop_task *task = timer->data;
    task->ending = true;
    uv_close((uv_handle_t *)&task->timer, noop_closed);
}

int exec_noop_start(uv_loop_t *loop, exec_done_cb cb, void *ctx, struct exec_task **ret_task)
{
    struct noop_task *task = calloc(1, sizeof(*task));
    if (!task)
        return -ENOMEM;
    task->base = (struct exec_task){.kind = EXEC_KIND_NOOP, .cb = cb, .ctx = ctx};
    uv_timer_init(loop, &task->timer);
    task->timer.data = task;
    uv_timer_start(&task->timer, noop_fire, 0, 0);
    *ret_task = &task->base;
    return 0;
}

static int noop_stop(struct noop_task *task)
{
    if (task->ending)
        return -EALREADY;
    task->ending = true;
    task->stopped = true;
    uv_close((uv_handle_t *)&task->timer, noop_closed);
    return 0;
}

/* ---- dispatch ------------------------------------------------------------- */

int exec_task_stop(struct exec_task *task, uint64_t grace_ms)
{
    switch (task->kind) {
    case EXEC_KIND_SHELL:
        return exec_shell_task_stop(task, grace_ms);
    case EXEC_KIND_HTTP:
        return exec_http_task_stop(task, grace_ms);
    case EXEC_KIND_NOOP:
        return noop_stop((struct noop_task *)task);
    }
    return -EINVAL;
}

pid_t exec_pid(const struct exec_task *task)
{
    return task->kind == EXEC_KIND_SHELL ? exec_shell_task_pid(task) : 0;
}
