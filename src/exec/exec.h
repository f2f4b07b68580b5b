/*
 * exec - run one attempt of a job on a libuv loop and report how it ended.
 *
 * An executor starts one *attempt* (SPEC section 2: one process, one HTTP
 * request) and reports its end exactly once through an exec_done_cb, called
 * from the loop, never from inside the call that started it.  The task handle
 * is owned by the executor: it stays valid from a successful *_start() until
 * the callback returns, and is freed right after.  When a *_start() returns an
 * error the callback is never called and *ret_task is not written (libuv's
 * rule).  Every function here must be called on the thread running the loop.
 *
 * Shell: the child leads its own session and process group (pgid == pid), so
 * the whole group can be signalled.  No orphans, ever: when the main process
 * exits, for whatever reason, its process group is sent SIGKILL, so
 * backgrounded grandchildren (`sleep 100 &`) die with it, and the attempt ends
 * once the combined stdout+stderr pipe reached end of file and the group is
 * gone, or EXEC_SHELL_DRAIN_MS after the exit, whichever comes first (a
 * descendant that left the group with setsid() may hold the pipe open: it is
 * then closed, never waited for).  Two things only the process can do:
 *   - make itself a child subreaper (prctl(PR_SET_CHILD_SUBREAPER, 1)), so
 *     that the killed grandchildren are reparented to it; the executor then
 *     reaps them (waitid(P_PGID), only in the group of an attempt whose leader
 *     libuv already reaped) and the group is gone when the callback runs.
 *     Without it their zombies wait for init, which may take seconds, and the
 *     callback comes after the drain time;
 *   - record exec_pid() of running attempts, to kill their groups after a crash.
 * Descendants that leave the process group escape both the kill and the reaping.
 *
 * HTTP: one struct exec_http (a libcurl multi handle driven by the loop) per
 * loop, shared by every request on it.  Only http and https URLs are accepted,
 * redirects are not followed, and the response body is the output.
 *
 * Output: NUL-terminated, at most output_cap bytes (EXEC_OUTPUT_CAP_DEFAULT
 * when 0).  A shell keeps the TAIL of its output (the end says why it failed);
 * HTTP keeps the HEAD of the body (where a document starts).  `truncated` says
 * bytes were dropped; a cut tail starts at the next UTF-8 character boundary.
 * Timeouts of a run are the caller's: it calls exec_task_stop() when they expire
 * (an HTTP request may also carry its own transfer timeout).
 */
#ifndef OVSCHED_EXEC_EXEC_H
#define OVSCHED_EXEC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#define EXEC_OUTPUT_CAP_DEFAULT ((size_t)64 * 1024)
/* How long a shell attempt waits, after its main process exited, for the
 * output pipe to reach end of file and for its process group to disappear. */
#define EXEC_SHELL_DRAIN_MS 250

enum exec_outcome {
    EXEC_SUCCEEDED, /* exit status 0; an accepted HTTP status */
    EXEC_FAILED,    /* any other exit or status, a signal, a transport error */
    EXEC_STOPPED,   /* ended by exec_task_stop() */
};

/* "succeeded", "failed", "stopped".  from_string returns 0 or -EINVAL. */
const char *exec_outcome_to_string(enum exec_outcome outcome);
int exec_outcome_from_string(const char *text, enum exec_outcome *ret);

struct exec_result {
    enum exec_outcome outcome;
    int exit_code;      /* shell: exit status; -1 when killed by a signal, and for http/noop */
    int term_signal;    /* shell: the signal that killed the main process, or 0 */
    int http_status;    /* http: the response status; 0 when there was no response */
    const char *output; /* captured text, never NULL; valid only during the callback */
    size_t output_len;  /* bytes in output (it may contain NULs) */
    bool truncated;     /* output_cap was reached and bytes were dropped */
    const char *error;  /* a sentence for a person ("exited with status 3"), or NULL */
};

struct exec_task; /* one attempt in flight, owned by its executor */

/* Called exactly once per successfully started task, from the loop.  TASK may be
 * passed to exec_task_stop() (which then does nothing) but is freed as soon as the
 * callback returns. */
typedef void (*exec_done_cb)(struct exec_task *task, const struct exec_result *result, void *ctx);

/* Why a *_start() failed, for a person: "cannot run \"backup\": No such file or
 * directory". */
struct exec_error {
    char reason[256];
};

/* Stop TASK: a shell attempt's process group gets SIGTERM (and SIGCONT, so that
 * stopped processes see it), then SIGKILL when its main process is still alive
 * GRACE_MS later (at once when GRACE_MS is 0); an HTTP transfer is aborted; a
 * noop is cancelled.  The callback follows from the loop with EXEC_STOPPED.  A
 * shell attempt whose main process already exited keeps its real outcome: only
 * the wait for its pipe ends.  Returns 0, or -EALREADY when TASK is already
 * stopping or ending (nothing is done). */
int exec_task_stop(struct exec_task *task, uint64_t grace_ms);

/* The process id (== process group id) of a shell attempt, 0 for other kinds. */
pid_t exec_pid(const struct exec_task *task);

/* ---- shell ---------------------------------------------------------------- */

struct exec_shell_spec {
    /* NULL-terminated, at least one element.  Without `shell`, ARGV[0] is run
     * directly (looked up in PATH when it has no slash) with ARGV as its
     * arguments: no shell, no globbing, no variable expansion.  With `shell`,
     * ARGV[0] is a script for `/bin/sh -c`, and ARGV[1..] become $1, $2, ...
     * ($0 is "sh"). */
    const char *const *argv;
    bool shell;
    /* The daemon's environment is never inherited (it may hold
     * OVSCHED_ADMIN_TOKEN).  The attempt gets PATH, LANG and TZ from the
     * daemon (PATH defaulted when unset) and HOME (RUN_AS's home, else the
     * daemon's), then ENV, then RUN_ENV.  Both are NULL or NULL-terminated
     * entries: "K=V" sets or overrides K, a bare "K" removes it.  ENV is the
     * job's; RUN_ENV the daemon's run variables (OVSCHED_JOB_ID=...), which
     * the job cannot override.  PATH lookup uses the result. */
    const char *const *env;
    const char *const *run_env;
    const char *cwd;   /* NULL: the daemon's working directory */
    size_t output_cap; /* 0: EXEC_OUTPUT_CAP_DEFAULT; the tail is kept */
    /* NULL: the daemon's own user.  Otherwise a user name: the attempt runs
     * with its uid, gid, supplementary groups and HOME, through the launcher
     * (exec_launch_main()); the daemon must be root or hold CAP_SETUID and
     * CAP_SETGID (exec_run_as_check()). */
    const char *run_as;
    /* With RUN_AS: a folder the attempt must not see (the data folder),
     * covered by an empty tmpfs in the attempt's own mount namespace when the
     * daemon may make one (root); NULL: none. */
    const char *hide_dir;
};

/* Start SPEC on LOOP; CB(task, result, CTX) reports the end.  stdin is /dev/null;
 * stdout and stderr share one pipe, so their lines interleave as they were
 * written.  Returns 0 with *ret_task set, or -EINVAL for a bad SPEC, or the
 * spawn error (-ENOENT for a missing program or cwd, -EACCES, -ENOMEM, ...), with
 * REASON filled in (RETERR may be NULL).  SPEC is borrowed for the call.  After a
 * failure, memory is released once the loop runs again (handles must close). */
int exec_shell_start(uv_loop_t *loop, const struct exec_shell_spec *spec, exec_done_cb cb,
                     void *ctx, struct exec_task **ret_task, struct exec_error *reterr);

/* Whether KEY (LEN bytes) is a POSIX environment name: [A-Za-z_][A-Za-z0-9_]*. */
bool exec_env_key_is_valid(const char *key, size_t len);

/* Whether this process may run attempts as another user: root, or
 * CAP_SETUID and CAP_SETGID in its effective set. */
bool exec_can_switch_user(void);

/* Whether an attempt can run as user NAME here: the user exists, and is this
 * process's own or exec_can_switch_user().  Returns 0, or -EINVAL / -EPERM
 * with a sentence in ERR ("no user 'bob' on the daemon's machine"). */
int exec_run_as_check(const char *name, char *err, size_t err_size);

/* `ovsched exec-launch [--user NAME] [--hide DIR] -- PROGRAM [ARGS...]`: the
 * helper the daemon starts an attempt with run_as through (exec_launch.c says
 * what it does, docs/security.md why).  Returns the exit status when it could
 * not exec PROGRAM: 126 (a step failed, said on stderr) or 127 (not found). */
int exec_launch_main(int argc, char **argv);

/* ---- http ----------------------------------------------------------------- */

struct exec_http; /* the libcurl multi handle of one loop */

struct exec_http_spec {
    const char *method;         /* NULL: GET, or POST when there is a body */
    const char *url;            /* http:// or https:// */
    const char *const *headers; /* NULL or NULL-terminated "Name: value" lines */
    const char *body;           /* NULL: no body; else BODY_LEN bytes (may be 0) */
    size_t body_len;
    const int *accepted;   /* statuses that mean success ... */
    size_t accepted_count; /* ... 0: any of 200-299 */
    uint64_t timeout_ms;   /* whole transfer, connecting included; 0: none */
    size_t output_cap;     /* 0: EXEC_OUTPUT_CAP_DEFAULT; the head is kept */
};

/* A new multi handle driven by LOOP (calls curl_global_init(), which is
 * thread-safe in libcurl >= 7.84).  Returns 0, or -ENOMEM; *ret_http is written
 * only on success. */
int exec_http_new(uv_loop_t *loop, struct exec_http **ret_http);

/* Release HTTP once every task on it has ended (its callback returned; it may
 * be called from the last callback).  Its handles close asynchronously: memory
 * is freed when the loop runs again.  Accepts NULL. */
void exec_http_free(struct exec_http *http);

/* Send SPEC through HTTP.  A status in the accepted set is EXEC_SUCCEEDED, any
 * other EXEC_FAILED (http_status set); a transport error (refused, timed out,
 * bad URL) is EXEC_FAILED with libcurl's message.  Returns 0 with *ret_task set,
 * or -EINVAL (no URL, a method that is not an HTTP token, a header without a
 * colon or with a line break) with REASON filled in (RETERR may be NULL), or
 * -ENOMEM.  SPEC is borrowed for the call (the body is copied). */
int exec_http_start(struct exec_http *http, const struct exec_http_spec *spec, exec_done_cb cb,
                    void *ctx, struct exec_task **ret_task, struct exec_error *reterr);

/* ---- noop ----------------------------------------------------------------- */

/* An attempt that succeeds with empty output on the next loop iteration.
 * Returns 0 with *ret_task set, or -ENOMEM. */
int exec_noop_start(uv_loop_t *loop, exec_done_cb cb, void *ctx, struct exec_task **ret_task);

#endif
