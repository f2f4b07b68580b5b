/*
 * exec_shell - the shell executor: one child process per attempt, its combined
 * output kept in a bounded tail buffer, its whole process group killed when it
 * is stopped and when it exits.
 *
 * The child is spawned with UV_PROCESS_DETACHED, so it calls setsid() and leads
 * a new session and process group whose id is its pid; every signal goes to the
 * group (kill(-pid)), never to the pid alone, so a shell's children share the
 * fate of the shell.  stdout and stderr are the write end of one pipe (made with
 * uv_pipe(), handed over with UV_INHERIT_FD), which keeps the order in which the
 * child wrote them, as a terminal would.
 *
 * A task moves RUNNING -> DRAINING -> ENDING:
 *   RUNNING   the main process is alive.  exec_task_stop() sends SIGTERM +
 *             SIGCONT to the group and arms the timer for SIGKILL.
 *   DRAINING  libuv reaped the main process.  The group gets SIGKILL at once
 *             (no orphans), then every DRAIN_TICK_MS the members reparented to
 *             us are reaped and the group is probed with SIGKILL again, until
 *             the pipe reached end of file and the group is gone, or for at most
 *             EXEC_SHELL_DRAIN_MS: a descendant that escaped the group with
 *             setsid() may hold the pipe open for ever, and is not waited for.
 *   ENDING    the handles close; the last close callback calls the user's
 *             callback and frees the task.
 * One uv_timer_t serves as the SIGKILL timer while RUNNING and as the drain
 * tick afterwards.  Probing the group only after libuv reaped its leader is what
 * makes waitid(P_PGID) safe: the only children of ours left in that group are
 * orphans reparented to us, never a process libuv still waits for.
 *
 * The output buffer grows by doubling up to the cap, then becomes a ring that
 * overwrites its oldest bytes; it is straightened in place (three reversals)
 * once, when the result is delivered, so the cap is the only memory it takes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/internal.h"

#define DRAIN_TICK_MS 5
#define READ_CHUNK    16384

/* Bytes appended in order; only the last CAP survive. */
struct tail_buf {
    char *data;  /* SIZE + 1 bytes (room for the final NUL), or NULL */
    size_t size; /* allocated, <= cap; the ring wraps only once size == cap */
    size_t cap;
    size_t start; /* oldest byte; non-zero only when full */
    size_t len;
    bool truncated;
};

enum shell_state { SHELL_RUNNING, SHELL_DRAINING, SHELL_ENDING };

struct shell_task {
    struct exec_task base;
    uv_loop_t *loop;
    uv_process_t process;
    uv_pipe_t pipe;
    uv_timer_t timer;
    int open_handles; /* close callbacks still to come */
    enum shell_state state;
    bool started; /* uv_spawn() succeeded: the user's callback is owed */
    bool pipe_open;
    bool stop_requested;
    bool killed_after_grace;
    pid_t pid;
    int64_t exit_status;
    int term_signal;
    uint64_t grace_ms;
    uint64_t drain_deadline_ms;
    struct tail_buf out;
    char error[200];
    char chunk[READ_CHUNK];
};

/* ---- tail buffer ---------------------------------------------------------- */

static void tail_write(struct tail_buf *buf, const char *bytes, size_t n)
{
    if (buf->len + n > buf->size && buf->size < buf->cap) {
        size_t want = buf->len + n;
        size_t size = buf->size ? buf->size : 4096;
        while (size < want && size < buf->cap)
            size *= 2;
        if (size > buf->cap)
            size = buf->cap;
        char *data = realloc(buf->data, size + 1);
        if (data) {
            buf->data = data;
            buf->size = size;
        } else {
            buf->cap = buf->size; /* out of memory: keep a shorter tail */
        }
    }
    if (buf->size == 0) {
        buf->truncated = true;
        return;
    }
    if (n >= buf->size) {
        buf->truncated = buf->truncated || buf->len > 0 || n > buf->size;
        memcpy(buf->data, bytes + (n - buf->size), buf->size);
        buf->start = 0;
        buf->len = buf->size;
        return;
    }
    size_t pos = (buf->start + buf->len) % buf->size;
    size_t first = n < buf->size - pos ? n : buf->size - pos;
    memcpy(buf->data + pos, bytes, first);
    memcpy(buf->data, bytes + first, n - first);
    buf->len += n;
    if (buf->len > buf->size) {
        buf->start = (buf->start + (buf->len - buf->size)) % buf->size;
        buf->len = buf->size;
        buf->truncated = true;
    }
}

static void reverse(char *bytes, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        char c = bytes[i];
        bytes[i] = bytes[j - 1];
        bytes[j - 1] = c;
    }
}

/* Straighten BUF and NUL-terminate it.  A cut tail skips the continuation bytes
 * of the UTF-8 character it starts in. */
static const char *tail_finish(struct tail_buf *buf, size_t *ret_len)
{
    if (!buf->data) {
        *ret_len = 0;
        return "";
    }
    if (buf->start) { /* full: rotate left by start */
        reverse(buf->data, buf->start);
        reverse(buf->data + buf->start, buf->size - buf->start);
        reverse(buf->data, buf->size);
        buf->start = 0;
    }
    buf->data[buf->len] = '\0';
    size_t skip = 0;
    while (buf->truncated && skip < 3 && skip < buf->len &&
           ((unsigned char)buf->data[skip] & 0xC0) == 0x80)
        skip++;
    *ret_len = buf->len - skip;
    return buf->data + skip;
}

/* ---- process group -------------------------------------------------------- */

/* Reap the members of group PGID that were reparented to us, kill the rest, and
 * say whether none is left.  Only valid once libuv reaped the leader. */
static bool group_is_gone(pid_t pgid)
{
    for (;;) {
        siginfo_t info = {0};
        if (waitid(P_PGID, (id_t)pgid, &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
            break;
    }
    return kill(-pgid, SIGKILL) < 0 && errno == ESRCH;
}

static const char *signal_name(int sig, char *buf, size_t size)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev)
        snprintf(buf, size, "SIG%s", abbrev);
    else
        snprintf(buf, size, "signal %d", sig);
    return buf;
}

/* ---- life cycle ----------------------------------------------------------- */

static void shell_deliver(struct shell_task *task)
{
    struct exec_result result = {.exit_code = -1};
    char sig[32];

    result.output = tail_finish(&task->out, &result.output_len);
    result.truncated = task->out.truncated;
    result.term_signal = task->term_signal;
    if (!task->term_signal)
        result.exit_code = (int)task->exit_status;

    if (task->term_signal)
        signal_name(task->term_signal, sig, sizeof(sig));
    if (task->stop_requested) {
        result.outcome = EXEC_STOPPED;
        if (task->term_signal == SIGKILL && task->killed_after_grace && task->grace_ms)
            snprintf(task->error, sizeof(task->error),
                     "stopped: still running %llu ms after SIGTERM, killed by SIGKILL",
                     (unsigned long long)task->grace_ms);
        else if (task->term_signal)
            snprintf(task->error, sizeof(task->error), "stopped: killed by %s", sig);
        else
            snprintf(task->error, sizeof(task->error), "stopped: exited with status %d",
                     result.exit_code);
    } else if (task->term_signal) {
        result.outcome = EXEC_FAILED;
        const char *descr = sigdescr_np(task->term_signal);
        snprintf(task->error, sizeof(task->error), "killed by %s (%s)", sig,
                 descr ? descr : "unknown signal");
    } else if (task->exit_status != 0) {
        result.outcome = EXEC_FAILED;
        const char *hint = result.exit_code == 127   ? " (command not found)"
                           : result.exit_code == 126 ? " (command not executable)"
                                                     : "";
        snprintf(task->error, sizeof(task->error), "exited with status %d%s", result.exit_code,
                 hint);
    } else {
        result.outcome = EXEC_SUCCEEDED;
    }
    result.error = task->error[0] ? task->error : NULL;
    task->base.cb(&task->base, &result, task->base.ctx);
}

static void shell_closed(uv_handle_t *handle)
{
    struct shell_task *task = handle->data;
    if (--task->open_handles > 0)
        return;
    if (task->started)
        shell_deliver(task);
    free(task->out.data);
    free(task);
}

static void pipe_close(struct shell_task *task)
{
    if (!task->pipe_open)
        return;
    task->pipe_open = false;
    uv_read_stop((uv_stream_t *)&task->pipe);
    uv_close((uv_handle_t *)&task->pipe, shell_closed);
}

static void shell_end(struct shell_task *task)
{
    task->state = SHELL_ENDING;
    uv_timer_stop(&task->timer);
    uv_close((uv_handle_t *)&task->timer, shell_closed);
    pipe_close(task);
}

static void drain_tick(uv_timer_t *timer);

static void drain_check(struct shell_task *task)
{
    bool gone = group_is_gone(task->pid);
    if ((gone && !task->pipe_open) || uv_now(task->loop) >= task->drain_deadline_ms) {
        shell_end(task);
        return;
    }
    if (!uv_is_active((uv_handle_t *)&task->timer))
        uv_timer_start(&task->timer, drain_tick, DRAIN_TICK_MS, DRAIN_TICK_MS);
}

static void drain_tick(uv_timer_t *timer)
{
    drain_check(timer->data);
}

static void grace_over(uv_timer_t *timer)
{
    struct shell_task *task = timer->data;
    if (task->state != SHELL_RUNNING)
        return;
    task->killed_after_grace = true;
    kill(-task->pid, SIGKILL);
}

static void process_exited(uv_process_t *process, int64_t exit_status, int term_signal)
{
    struct shell_task *task = process->data;
    task->exit_status = exit_status;
    task->term_signal = term_signal;
    uv_close((uv_handle_t *)process, shell_closed);
    /* No orphans: whatever the main process left in its group dies with it. */
    kill(-task->pid, SIGKILL);
    task->state = SHELL_DRAINING;
    task->drain_deadline_ms = uv_now(task->loop) + EXEC_SHELL_DRAIN_MS;
    uv_timer_stop(&task->timer);
    drain_check(task);
}

static void pipe_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct shell_task *task = handle->data;
    (void)suggested;
    *buf = uv_buf_init(task->chunk, sizeof(task->chunk));
}

static void pipe_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct shell_task *task = stream->data;
    if (nread > 0) {
        tail_write(&task->out, buf->base, (size_t)nread);
        return;
    }
    if (nread == 0)
        return;
    /* End of file, or a read error: either way nothing more will come. */
    pipe_close(task);
    if (task->state == SHELL_DRAINING)
        drain_check(task);
}

int exec_shell_task_stop(struct exec_task *base, uint64_t grace_ms)
{
    struct shell_task *task = (struct shell_task *)base;
    switch (task->state) {
    case SHELL_ENDING:
        return -EALREADY;
    case SHELL_DRAINING:
        shell_end(task);
        return 0;
    case SHELL_RUNNING:
        break;
    }
    if (task->stop_requested)
        return -EALREADY;
    task->stop_requested = true;
    task->grace_ms = grace_ms;
    if (grace_ms == 0) {
        task->killed_after_grace = true;
        kill(-task->pid, SIGKILL);
        return 0;
    }
    kill(-task->pid, SIGTERM);
    kill(-task->pid, SIGCONT);
    /* The loop's clock was read when this iteration began: count the grace from now. */
    uv_update_time(task->loop);
    uv_timer_start(&task->timer, grace_over, grace_ms, 0);
    return 0;
}

pid_t exec_shell_task_pid(const struct exec_task *base)
{
    return ((const struct shell_task *)base)->pid;
}

/* ---- start ---------------------------------------------------------------- */

static int args_build(const struct exec_shell_spec *spec, char ***ret_args)
{
    size_t argc = 0;
    while (spec->argv[argc])
        argc++;
    /* /bin/sh -c SCRIPT sh ARG1 ARG2 ... */
    char **args = calloc(argc + 4, sizeof(*args));
    if (!args)
        return -ENOMEM;
    args[0] = (char *)"/bin/sh";
    args[1] = (char *)"-c";
    args[2] = (char *)spec->argv[0];
    args[3] = (char *)"sh";
    for (size_t i = 1; i < argc; i++)
        args[3 + i] = (char *)spec->argv[i];
    *ret_args = args;
    return 0;
}

/* Close what start() initialised; the last close callback frees the task, and
 * never calls the user's callback since the task was not started. */
static void shell_abandon(struct shell_task *task, bool spawned)
{
    task->state = SHELL_ENDING;
    uv_close((uv_handle_t *)&task->timer, shell_closed);
    uv_close((uv_handle_t *)&task->pipe, shell_closed);
    if (spawned)
        uv_close((uv_handle_t *)&task->process, shell_closed);
}

int exec_shell_start(uv_loop_t *loop, const struct exec_shell_spec *spec, exec_done_cb cb,
                     void *ctx, struct exec_task **ret_task, struct exec_error *reterr)
{
    struct shell_task *task = NULL;
    char **args = NULL;
    struct exec_attempt attempt = {0};
    uv_file fds[2] = {-1, -1};
    int r;

    if (!spec || !spec->argv || !spec->argv[0] || !cb)
        return exec_error_set(reterr, -EINVAL, "the command is empty");
    for (size_t i = 0; spec->env && spec->env[i]; i++)
        if (!exec_env_key_is_valid(spec->env[i], strcspn(spec->env[i], "=")))
            return exec_error_set(reterr, -EINVAL, "environment entry \"%s\" has no valid name",
                                  spec->env[i]);

    task = calloc(1, sizeof(*task));
    if (!task)
        return exec_error_set(reterr, -ENOMEM, "out of memory");
    task->base = (struct exec_task){.kind = EXEC_KIND_SHELL, .cb = cb, .ctx = ctx};
    task->loop = loop;
    task->out.cap = spec->output_cap ? spec->output_cap : EXEC_OUTPUT_CAP_DEFAULT;
    if (spec->shell && (r = args_build(spec, &args)) < 0)
        goto fail;
    if ((r = exec_attempt_prepare(spec, spec->shell ? "/bin/sh" : spec->argv[0],
                                  spec->shell ? args : (char **)spec->argv, &attempt, reterr)) <
        0) {
        free(task);
        goto out;
    }
    /* Both ends blocking: the child's writes must block, never fail with EAGAIN;
     * uv_pipe_open() makes our read end non-blocking. */
    if ((r = uv_pipe(fds, 0, 0)) < 0)
        goto fail;

    uv_timer_init(loop, &task->timer);
    uv_pipe_init(loop, &task->pipe, 0);
    task->timer.data = task->pipe.data = task->process.data = task;
    task->open_handles = 2;
    if ((r = uv_pipe_open(&task->pipe, fds[0])) < 0) {
        close(fds[0]);
        close(fds[1]);
        shell_abandon(task, false);
        task = NULL;
        goto fail;
    }

    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
        {.flags = UV_INHERIT_FD, .data.fd = fds[1]},
    };
    uv_process_options_t options = {
        .exit_cb = process_exited,
        .file = attempt.file,
        .args = attempt.args,
        .env = attempt.env,
        .cwd = spec->cwd,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = stdio,
    };
    r = uv_spawn(loop, &task->process, &options);
    task->open_handles++; /* uv_spawn() initialises the handle even when it fails */
    close(fds[1]);
    if (r < 0) {
        if (spec->cwd && access(spec->cwd, X_OK) < 0)
            exec_error_set(reterr, r, "cannot change to directory \"%s\": %s", spec->cwd,
                           strerror(errno));
        else
            exec_error_set(reterr, r, "cannot run \"%s\": %s", options.file, exec_strerror(r));
        shell_abandon(task, true);
        task = NULL;
        goto out;
    }

    task->started = true;
    task->pid = task->process.pid;
    task->pipe_open = true;
    if (uv_read_start((uv_stream_t *)&task->pipe, pipe_alloc, pipe_read) < 0)
        pipe_close(task); /* cannot happen on a fresh pipe; the output is lost */
    *ret_task = &task->base;
    task = NULL;
    r = 0;
    goto out;

fail:
    exec_error_set(reterr, r, "cannot start \"%s\": %s", spec->argv[0], exec_strerror(r));
    free(task);
out:
    free(args);
    exec_attempt_release(&attempt);
    return r;
}
