/*
 * exec/internal.h - what the executors share: the common head of every task,
 * through which exec_task_stop() and exec_pid() dispatch, and small helpers
 * for error sentences.
 *
 * Every kind of task embeds struct exec_task first and delivers its result
 * from the close callback of its last uv handle, so the user's callback always
 * comes from the loop and the task is freed right after it.
 */
#ifndef OVSCHED_EXEC_INTERNAL_H
#define OVSCHED_EXEC_INTERNAL_H

#include <stdarg.h>

#include "exec/exec.h"

enum exec_kind { EXEC_KIND_SHELL, EXEC_KIND_HTTP, EXEC_KIND_NOOP };

struct exec_task {
    enum exec_kind kind;
    exec_done_cb cb;
    void *ctx;
};

int exec_shell_task_stop(struct exec_task *task, uint64_t grace_ms);
pid_t exec_shell_task_pid(const struct exec_task *task);
int exec_http_task_stop(struct exec_task *task, uint64_t grace_ms);

/* How a shell attempt is started (exec_launch.c): its environment, and the
 * program and arguments uv_spawn() runs (the launcher's when run_as is set). */
struct exec_attempt {
    const char *file;
    char **args;
    char **env;
    char *owned[3]; /* what the above point into; freed by exec_attempt_release() */
};

/* Fill ATTEMPT for SPEC, whose program is FILE with ARGS (ARGS[0] is replaced
 * by FILE; both borrowed until the attempt is released).  Returns 0, or
 * -EINVAL (no run_as user of that name) or -ENOMEM, with REASON filled in. */
int exec_attempt_prepare(const struct exec_shell_spec *spec, const char *file, char **args,
                         struct exec_attempt *attempt, struct exec_error *reterr);
void exec_attempt_release(struct exec_attempt *attempt);

/* snprintf into RETERR->reason when RETERR is not NULL; returns ERR. */
int exec_error_set(struct exec_error *reterr, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* strerror() for a negative errno, thread-safe. */
const char *exec_strerror(int err);

#endif
