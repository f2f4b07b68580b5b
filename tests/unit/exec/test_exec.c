/*
 * test_exec - the executors against real processes and a real HTTP server.
 *
 * Each test runs its own uv_loop_t until the attempt ends; an unreferenced
 * watchdog timer stops a loop that would hang, and every loop must close with
 * no handle left (uv_loop_close() == 0).  The process makes itself a child
 * subreaper first, as the daemon does, so that killed grandchildren are
 * reparented to it and reaped by the executor: "the group is gone" is then
 * checked at once, with kill(-pgid, 0) and by scanning /proc, not by waiting
 * for init.  The HTTP server is a thread with a plain socket on 127.0.0.1 and
 * an ephemeral port, answering one canned response per connection (or never).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec.h"
#include "test_util.h"

#define WATCHDOG_MS 4000

/* ---- harness -------------------------------------------------------------- */

struct harness {
    uv_loop_t loop;
    uv_timer_t watchdog;
    bool expired;
};

static void watchdog_fired(uv_timer_t *timer)
{
    struct harness *h = timer->data;
    h->expired = true;
    uv_stop(timer->loop);
}

static void harness_init(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    assert_int_equal(uv_loop_init(&h->loop), 0);
    uv_timer_init(&h->loop, &h->watchdog);
    h->watchdog.data = h;
    uv_timer_start(&h->watchdog, watchdog_fired, WATCHDOG_MS, 0);
    uv_unref((uv_handle_t *)&h->watchdog); /* the loop ends when the real work does */
}

static void harness_run(struct harness *h)
{
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_false(h->expired);
}

/* Close the watchdog and require that nothing else is left open. */
static void harness_release(struct harness *h)
{
    uv_close((uv_handle_t *)&h->watchdog, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&h->loop), 0);
}

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

/* What a done callback saw, copied out of the result. */
struct rec {
    int calls;
    enum exec_outcome outcome;
    int exit_code, term_signal, http_status;
    char *output;
    size_t output_len;
    bool truncated;
    char *error;
    uint64_t done_ms;
    struct exec_http *free_http; /* freed from the callback when set */
};

static void rec_cb(struct exec_task *task, const struct exec_result *result, void *ctx)
{
    struct rec *rec = ctx;
    rec->calls++;
    rec->done_ms = now_ms();
    rec->outcome = result->outcome;
    rec->exit_code = result->exit_code;
    rec->term_signal = result->term_signal;
    rec->http_status = result->http_status;
    assert_non_null(result->output);
    assert_int_equal(result->output[result->output_len], '\0');
    rec->output = malloc(result->output_len + 1);
    memcpy(rec->output, result->output, result->output_len + 1);
    rec->output_len = result->output_len;
    rec->truncated = result->truncated;
    rec->error = result->error ? strdup(result->error) : NULL;
    /* Stopping from the callback is allowed and does nothing. */
    assert_int_equal(exec_task_stop(task, 0), -EALREADY);
    if (rec->free_http)
        exec_http_free(rec->free_http);
}

static void rec_release(struct rec *rec)
{
    free(rec->output);
    free(rec->error);
}

static void assert_error_has(const struct rec *rec, const char *part)
{
    if (!part) {
        if (rec->error)
            fail_msg("unexpected error \"%s\"", rec->error);
        return;
    }
    if (!rec->error || !strstr(rec->error, part))
        fail_msg("error \"%s\" lacks \"%s\"", rec->error ? rec->error : "(null)", part);
}

/* Processes whose process group is PGID, zombies included. */
static int group_members(pid_t pgid)
{
    DIR *dir = opendir("/proc");
    struct dirent *entry;
    int n = 0;
    assert_non_null(dir);
    while ((entry = readdir(dir))) {
        char path[300], line[512];
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", entry->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(line, 1, sizeof(line) - 1, f);
        fclose(f);
        line[len] = '\0';
        const char *end = strrchr(line, ')');
        char st;
        int ppid, pgrp;
        if (end && sscanf(end + 1, " %c %d %d", &st, &ppid, &pgrp) == 3 && pgrp == pgid)
            n++;
    }
    closedir(dir);
    return n;
}

static void assert_group_gone(pid_t pgid)
{
    assert_true(pgid > 0);
    assert_int_equal(kill(-pgid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(group_members(pgid), 0);
}

/* ---- shell: outcomes and output ------------------------------------------- */

struct shell_case {
    const char *name;
    const char *argv[6];
    bool shell;
    const char *env[5];     /* used when env[0] is set */
    const char *run_env[2]; /* used when run_env[0] is set */
    const char *cwd;
    size_t cap;
    enum exec_outcome outcome;
    int exit_code;
    int term_signal;
    const char *output; /* exact; NULL: not checked */
    bool truncated;
    const char *error; /* substring; NULL: no error */
};

static const struct shell_case shell_cases[] = {
    {"stdout and stderr in the order written, exit 3",
     {"echo out; echo err >&2; echo more; exit 3"},
     .shell = true,
     .outcome = EXEC_FAILED,
     .exit_code = 3,
     .output = "out\nerr\nmore\n",
     .error = "exited with status 3"},
    {"argv without a shell: no globbing, no expansion",
     {"echo", "*", "$HOME"},
     .outcome = EXEC_SUCCEEDED,
     .output = "* $HOME\n"},
    {"the daemon's environment is not inherited",
     {"echo ${OVSCHED_TEST_HOME-unset}/${OVSCHED_TEST_KEEP-unset}"},
     .shell = true,
     .outcome = EXEC_SUCCEEDED,
     .output = "unset/unset\n"},
    {"only PATH, HOME, LANG and TZ come from the daemon",
     {"env | grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' | cut -d= -f1 | sort | tr '\\n' ' '"},
     .shell = true,
     .outcome = EXEC_SUCCEEDED,
     .output = "HOME LANG PATH TZ "},
    {"run variables come last: the job cannot override them",
     {"echo \"$OVSCHED_RUN_ID|$MINE\""},
     .shell = true,
     .env = {"OVSCHED_RUN_ID=forged", "MINE=1"},
     .run_env = {"OVSCHED_RUN_ID=42"},
     .outcome = EXEC_SUCCEEDED,
     .output = "42|1\n"},
    {"a shell gets argv[1..] as $1..",
     {"echo \"$0:$1:$2\"", "a b", "c"},
     .shell = true,
     .outcome = EXEC_SUCCEEDED,
     .output = "sh:a b:c\n"},
    {"env adds, overrides and removes; nothing else of the daemon's is inherited",
     {"sh", "-c",
      "echo "
      "\"$OVSCHED_TEST_NEW|$OVSCHED_TEST_HOME|${OVSCHED_TEST_GONE-unset}|${OVSCHED_TEST_KEEP-unset}"
      "|"
      "${LANG-unset}\""},
     .env = {"OVSCHED_TEST_NEW=new", "OVSCHED_TEST_HOME=over=ridden", "OVSCHED_TEST_GONE", "LANG"},
     .outcome = EXEC_SUCCEEDED,
     .output = "new|over=ridden|unset|unset|unset\n"},
    {"env: the last entry for a name wins",
     {"echo \"$OVSCHED_A|${OVSCHED_B-unset}\""},
     .shell = true,
     .env = {"OVSCHED_A=1", "OVSCHED_B=1", "OVSCHED_A=2", "OVSCHED_B"},
     .outcome = EXEC_SUCCEEDED,
     .output = "2|unset\n"},
    {"cwd", {"pwd"}, .cwd = "/", .outcome = EXEC_SUCCEEDED, .output = "/\n"},
    {"stdin is /dev/null", {"cat"}, .outcome = EXEC_SUCCEEDED, .output = ""},
    {"a small cap keeps the tail",
     {"printf 0123456789abcdef"},
     .shell = true,
     .cap = 10,
     .outcome = EXEC_SUCCEEDED,
     .output = "6789abcdef",
     .truncated = true},
    {"output of exactly the cap is not truncated",
     {"printf abcd"},
     .shell = true,
     .cap = 4,
     .outcome = EXEC_SUCCEEDED,
     .output = "abcd"},
    {"a cut tail starts on a UTF-8 boundary",
     {"printf 'a\\303\\251\\342\\202\\254'"},
     .shell = true,
     .cap = 4,
     .outcome = EXEC_SUCCEEDED,
     .output = "\xe2\x82\xac",
     .truncated = true},
    {"killed by a signal",
     {"echo before; kill -9 $$"},
     .shell = true,
     .outcome = EXEC_FAILED,
     .exit_code = -1,
     .term_signal = SIGKILL,
     .output = "before\n",
     .error = "killed by SIGKILL (Killed)"},
    {"a command the shell cannot find",
     {"ovsched-no-such-command"},
     .shell = true,
     .outcome = EXEC_FAILED,
     .exit_code = 127,
     .error = "exited with status 127 (command not found)"},
};

static void run_shell(const struct exec_shell_spec *spec, struct rec *rec, pid_t *ret_pid)
{
    struct harness h;
    struct exec_task *task = NULL;
    struct exec_error err = {{0}};
    harness_init(&h);
    int r = exec_shell_start(&h.loop, spec, rec_cb, rec, &task, &err);
    if (r != 0)
        fail_msg("exec_shell_start: %d %s", r, err.reason);
    assert_int_equal(rec->calls, 0); /* never from inside the start call */
    pid_t pid = exec_pid(task);
    assert_true(pid > 0);
    harness_run(&h);
    assert_int_equal(rec->calls, 1);
    harness_release(&h);
    assert_group_gone(pid);
    if (ret_pid)
        *ret_pid = pid;
}

static void test_shell_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(shell_cases); i++) {
        const struct shell_case *c = &shell_cases[i];
        struct exec_shell_spec spec = {
            .argv = c->argv,
            .shell = c->shell,
            .env = c->env[0] ? c->env : NULL,
            .run_env = c->run_env[0] ? c->run_env : NULL,
            .cwd = c->cwd,
            .output_cap = c->cap,
        };
        struct rec rec = {0};
        print_message("# %s\n", c->name);
        run_shell(&spec, &rec, NULL);
        assert_int_equal(rec.outcome, c->outcome);
        assert_int_equal(rec.exit_code, c->exit_code);
        assert_int_equal(rec.term_signal, c->term_signal);
        assert_int_equal(rec.http_status, 0);
        if (c->output) {
            assert_string_equal(rec.output, c->output);
            assert_int_equal(rec.output_len, strlen(c->output));
        }
        assert_int_equal(rec.truncated, c->truncated);
        assert_error_has(&rec, c->error);
        rec_release(&rec);
    }
}

static void test_shell_output_cap_keeps_tail(void **state)
{
    (void)state;
    /* seq 1 200000 writes 1,288,895 bytes. */
    size_t full_size = 1400000, full_len = 0;
    char *full = malloc(full_size);
    for (int i = 1; i <= 200000; i++)
        full_len += (size_t)snprintf(full + full_len, full_size - full_len, "%d\n", i);
    assert_true(full_len > 1000000);

    const char *argv[] = {"seq", "1", "200000", NULL};
    struct exec_shell_spec spec = {.argv = argv};
    struct rec rec = {0};
    run_shell(&spec, &rec, NULL);
    assert_int_equal(rec.outcome, EXEC_SUCCEEDED);
    assert_true(rec.truncated);
    assert_int_equal(rec.output_len, EXEC_OUTPUT_CAP_DEFAULT);
    assert_memory_equal(rec.output, full + full_len - EXEC_OUTPUT_CAP_DEFAULT,
                        EXEC_OUTPUT_CAP_DEFAULT);
    rec_release(&rec);
    free(full);
}

/* ---- shell: spawn errors -------------------------------------------------- */

struct spawn_error_case {
    const char *argv[3];
    const char *env[2];
    const char *cwd;
    int err;
    const char *reason;
};

static const struct spawn_error_case spawn_error_cases[] = {
    {{"/nonexistent/ovsched-bin"},
     .err = -ENOENT,
     .reason = "cannot run \"/nonexistent/ovsched-bin\": No such file or directory"},
    {{"ovsched-no-such-binary"},
     .err = -ENOENT,
     .reason = "cannot run \"ovsched-no-such-binary\": No such file or directory"},
    {{"echo", "x"}, .env = {"PATH=/nonexistent"}, .err = -ENOENT, .reason = "cannot run \"echo\""},
    {{"true"},
     .cwd = "/nonexistent-dir",
     .err = -ENOENT,
     .reason = "cannot change to directory \"/nonexistent-dir\": No such file or directory"},
    {{"/etc/passwd"}, .err = -EACCES, .reason = "cannot run \"/etc/passwd\": Permission denied"},
    {{NULL}, .err = -EINVAL, .reason = "the command is empty"},
    {{"true"},
     .env = {"=x"},
     .err = -EINVAL,
     .reason = "environment entry \"=x\" has no valid name"},
};

static void test_shell_spawn_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(spawn_error_cases); i++) {
        const struct spawn_error_case *c = &spawn_error_cases[i];
        struct harness h;
        struct rec rec = {0};
        struct exec_task *task = (struct exec_task *)&rec; /* must stay untouched */
        struct exec_error err = {{0}};
        struct exec_shell_spec spec = {
            .argv = c->argv, .env = c->env[0] ? c->env : NULL, .cwd = c->cwd};
        harness_init(&h);
        assert_int_equal(exec_shell_start(&h.loop, &spec, rec_cb, &rec, &task, &err), c->err);
        assert_ptr_equal(task, (struct exec_task *)&rec);
        if (!strstr(err.reason, c->reason))
            fail_msg("reason \"%s\" lacks \"%s\"", err.reason, c->reason);
        harness_run(&h); /* releases what the failed start initialised */
        assert_int_equal(rec.calls, 0);
        harness_release(&h);
    }
}

/* ---- shell: stopping and orphans ------------------------------------------ */

struct stopper {
    struct exec_task *task;
    uint64_t grace_ms;
    int members_before; /* group size when the stop was sent */
    int stop_rc, again_rc;
    uint64_t stopped_ms;
};

static void stopper_fire(uv_timer_t *timer)
{
    struct stopper *s = timer->data;
    s->members_before = group_members(exec_pid(s->task));
    s->stopped_ms = now_ms();
    s->stop_rc = exec_task_stop(s->task, s->grace_ms);
    s->again_rc = exec_task_stop(s->task, s->grace_ms);
    uv_close((uv_handle_t *)timer, NULL);
}

/* Run SCRIPT under sh, stop it after DELAY_MS with GRACE_MS, and return how it
 * ended; the group must be gone when the callback ran. */
static void run_stopped(const char *script, uint64_t delay_ms, uint64_t grace_ms, struct rec *rec,
                        struct stopper *s)
{
    struct harness h;
    uv_timer_t timer;
    const char *argv[] = {script, NULL};
    struct exec_shell_spec spec = {.argv = argv, .shell = true};
    harness_init(&h);
    assert_int_equal(exec_shell_start(&h.loop, &spec, rec_cb, rec, &s->task, NULL), 0);
    pid_t pid = exec_pid(s->task);
    assert_int_equal(getpgid(pid), pid); /* it leads its own group ... */
    assert_int_equal(getsid(pid), pid);  /* ... and session */
    s->grace_ms = grace_ms;
    uv_timer_init(&h.loop, &timer);
    timer.data = s;
    uv_timer_start(&timer, stopper_fire, delay_ms, 0);
    harness_run(&h);
    assert_int_equal(rec->calls, 1);
    assert_group_gone(pid);
    harness_release(&h);
    assert_int_equal(s->stop_rc, 0);
    assert_int_equal(s->again_rc, -EALREADY);
}

static void test_shell_stop_kills_the_group(void **state)
{
    (void)state;
    struct rec rec = {0};
    struct stopper s = {0};
    run_stopped("sleep 100 & sleep 100 & wait", 100, 2000, &rec, &s);
    assert_true(s.members_before >= 3); /* sh and both sleeps */
    assert_int_equal(rec.outcome, EXEC_STOPPED);
    assert_int_equal(rec.term_signal, SIGTERM);
    assert_int_equal(rec.exit_code, -1);
    assert_error_has(&rec, "stopped: killed by SIGTERM");
    assert_true(rec.done_ms - s.stopped_ms < 1000);
    rec_release(&rec);
}

/* The whole group gets SIGTERM, not only the main process: a grandchild that
 * handles it gracefully gets to run its handler, and the main process that
 * waits for it exits by itself, well within the grace. */
static void test_shell_stop_terms_the_whole_group(void **state)
{
    (void)state;
    struct rec rec = {0};
    struct stopper s = {0};
    run_stopped("trap 'wait; exit 143' TERM;"
                " (trap 'echo got TERM; exit 0' TERM; sleep 100 & wait) & wait",
                100, 3000, &rec, &s);
    assert_int_equal(rec.outcome, EXEC_STOPPED);
    assert_int_equal(rec.term_signal, 0);
    assert_int_equal(rec.exit_code, 143);
    assert_string_equal(rec.output, "got TERM\n");
    assert_error_has(&rec, "stopped: exited with status 143");
    assert_true(rec.done_ms - s.stopped_ms < 1000);
    rec_release(&rec);
}

static void test_shell_stop_escalates_to_sigkill(void **state)
{
    (void)state;
    struct rec rec = {0};
    struct stopper s = {0};
    run_stopped("trap '' TERM; sleep 100 & sleep 100; wait", 100, 200, &rec, &s);
    assert_int_equal(rec.outcome, EXEC_STOPPED);
    assert_int_equal(rec.term_signal, SIGKILL);
    assert_error_has(&rec, "still running 200 ms after SIGTERM, killed by SIGKILL");
    assert_true(rec.done_ms - s.stopped_ms >= 200);
    assert_true(rec.done_ms - s.stopped_ms < 1500);
    rec_release(&rec);
}

static void test_shell_stop_without_grace(void **state)
{
    (void)state;
    struct rec rec = {0};
    struct stopper s = {0};
    run_stopped("sleep 100", 50, 0, &rec, &s);
    assert_int_equal(rec.outcome, EXEC_STOPPED);
    assert_int_equal(rec.term_signal, SIGKILL);
    assert_error_has(&rec, "stopped: killed by SIGKILL");
    rec_release(&rec);
}

static void test_shell_exit_kills_background_children(void **state)
{
    (void)state;
    /* One background child holds the output pipe, the other does not; both
     * must die when the main process exits, and the task must not wait. */
    const char *argv[] = {"sleep 100 & sleep 100 >/dev/null 2>&1 & echo started", NULL};
    struct exec_shell_spec spec = {.argv = argv, .shell = true};
    struct rec rec = {0};
    uint64_t start_ms = now_ms();
    run_shell(&spec, &rec, NULL);
    assert_int_equal(rec.outcome, EXEC_SUCCEEDED);
    assert_int_equal(rec.exit_code, 0);
    assert_string_equal(rec.output, "started\n");
    assert_null(rec.error);
    assert_true(rec.done_ms - start_ms < 1000);
    rec_release(&rec);
}

/* A descendant that leaves the group (setsid) and keeps the pipe open is not
 * waited for longer than the drain time.  The script waits until the escapee
 * has written its pid, so it has surely left the group before the main
 * process exits. */
static const char escape_script[] = "setsid sh -c 'echo $$ > \"$1\"; exec sleep 5' sh \"$1\" &"
                                    " while [ ! -s \"$1\" ]; do sleep 0.01; done; cat \"$1\"";

static pid_t escapee_pid(const struct rec *rec)
{
    pid_t pid = (pid_t)strtol(rec->output, NULL, 10);
    assert_true(pid > 0);
    return pid;
}

static void escapee_kill(pid_t pid)
{
    assert_int_equal(kill(pid, SIGKILL), 0);
    waitpid(pid, NULL, 0); /* reparented to us, the subreaper */
}

static void test_shell_escaped_descendant_is_not_waited_for(void **state)
{
    (void)state;
    char path[] = "/tmp/ovsched-test-exec-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *argv[] = {escape_script, path, NULL};
    struct exec_shell_spec spec = {.argv = argv, .shell = true};
    struct rec rec = {0};
    uint64_t start_ms = now_ms();
    run_shell(&spec, &rec, NULL);
    uint64_t took_ms = rec.done_ms - start_ms;
    assert_int_equal(rec.outcome, EXEC_SUCCEEDED);
    pid_t pid = escapee_pid(&rec);
    assert_int_equal(kill(pid, 0), 0); /* it escaped the kill */
    escapee_kill(pid);
    unlink(path);
    assert_true(took_ms >= EXEC_SHELL_DRAIN_MS);
    assert_true(took_ms < EXEC_SHELL_DRAIN_MS + 1500);
    rec_release(&rec);
}

/* Stopping while the drain waits ends it at once, with the real outcome. */
struct drain_stopper {
    struct exec_task *task;
    pid_t pid;
    int stop_rc;
    uint64_t stopped_ms;
};

static void drain_stopper_tick(uv_timer_t *timer)
{
    struct drain_stopper *s = timer->data;
    /* Once libuv has reaped the main process its exit callback has run. */
    if (kill(s->pid, 0) == 0)
        return;
    s->stopped_ms = now_ms();
    s->stop_rc = exec_task_stop(s->task, 1000);
    uv_close((uv_handle_t *)timer, NULL);
}

static void test_shell_stop_while_draining(void **state)
{
    (void)state;
    char path[] = "/tmp/ovsched-test-exec-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const char *argv[] = {escape_script, path, NULL};
    struct exec_shell_spec spec = {.argv = argv, .shell = true};
    struct rec rec = {0};
    struct drain_stopper s = {0};
    struct harness h;
    uv_timer_t timer;
    harness_init(&h);
    assert_int_equal(exec_shell_start(&h.loop, &spec, rec_cb, &rec, &s.task, NULL), 0);
    s.pid = exec_pid(s.task);
    uv_timer_init(&h.loop, &timer);
    timer.data = &s;
    uv_timer_start(&timer, drain_stopper_tick, 2, 2);
    harness_run(&h);
    harness_release(&h);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(s.stop_rc, 0);
    assert_int_equal(rec.outcome, EXEC_SUCCEEDED);
    assert_true(rec.done_ms - s.stopped_ms < EXEC_SHELL_DRAIN_MS);
    escapee_kill(escapee_pid(&rec));
    unlink(path);
    rec_release(&rec);
}

/* ---- http: a canned server ------------------------------------------------ */

enum srv_mode { SRV_REPLY, SRV_SILENT };

struct srv {
    int fd;
    int port;
    pthread_t thread;
    enum srv_mode mode;
    const char *reply;
    size_t reply_len;
    char request[16384]; /* the last request, head and body */
    size_t request_len;
    int connections;
};

static size_t request_complete(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - buf) + 4, body = 0;
    const char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (cl && cl < end)
        body = strtoul(cl + 17, NULL, 10);
    return len >= head + body ? head + body : 0;
}

static void *srv_main(void *arg)
{
    struct srv *srv = arg;
    for (;;) {
        int conn = accept(srv->fd, NULL, NULL);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            return NULL; /* shut down */
        }
        struct timeval tv = {.tv_sec = 3};
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        srv->connections++;
        srv->request_len = 0;
        while (!request_complete(srv->request, srv->request_len) &&
               srv->request_len < sizeof(srv->request) - 1) {
            ssize_t n = recv(conn, srv->request + srv->request_len,
                             sizeof(srv->request) - 1 - srv->request_len, 0);
            if (n <= 0)
                break;
            srv->request_len += (size_t)n;
            srv->request[srv->request_len] = '\0';
        }
        if (srv->mode == SRV_SILENT) {
            char sink[512];
            while (recv(conn, sink, sizeof(sink), 0) > 0)
                ; /* until the client gives up */
        } else {
            for (size_t off = 0; off < srv->reply_len;) {
                ssize_t n = send(conn, srv->reply + off, srv->reply_len - off, MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                off += (size_t)n;
            }
        }
        close(conn);
    }
}

static int listen_socket(int *ret_port, bool do_listen)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    if (do_listen)
        assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    *ret_port = ntohs(addr.sin_port);
    return fd;
}

static void srv_start(struct srv *srv, enum srv_mode mode, const char *reply, size_t reply_len)
{
    memset(srv, 0, sizeof(*srv));
    srv->mode = mode;
    srv->reply = reply;
    srv->reply_len = reply_len ? reply_len : (reply ? strlen(reply) : 0);
    srv->fd = listen_socket(&srv->port, true);
    assert_int_equal(pthread_create(&srv->thread, NULL, srv_main, srv), 0);
}

static void srv_stop(struct srv *srv)
{
    shutdown(srv->fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(srv->thread, NULL);
    close(srv->fd);
}

static void srv_url(const struct srv *srv, const char *path, char *buf, size_t size)
{
    snprintf(buf, size, "http://127.0.0.1:%d%s", srv->port, path);
}

/* Run SPEC on a fresh exec_http; the http is freed from the callback. */
static void run_http(const struct exec_http_spec *spec, struct rec *rec)
{
    struct harness h;
    struct exec_http *http = NULL;
    struct exec_task *task = NULL;
    struct exec_error err = {{0}};
    harness_init(&h);
    assert_int_equal(exec_http_new(&h.loop, &http), 0);
    rec->free_http = http;
    int r = exec_http_start(http, spec, rec_cb, rec, &task, &err);
    if (r != 0)
        fail_msg("exec_http_start: %d %s", r, err.reason);
    assert_int_equal(rec->calls, 0);
    assert_int_equal(exec_pid(task), 0);
    harness_run(&h);
    assert_int_equal(rec->calls, 1);
    harness_release(&h);
}

#define OK_HELLO "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"

struct status_case {
    const char *reply;
    int accepted[3];
    size_t accepted_count;
    enum exec_outcome outcome;
    int status;
    const char *output;
    const char *error;
};

static const struct status_case status_cases[] = {
    {OK_HELLO, .outcome = EXEC_SUCCEEDED, .status = 200, .output = "hello"},
    {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops",
     .outcome = EXEC_FAILED, .status = 500, .output = "oops",
     .error = "HTTP status 500 is not an accepted status"},
    {"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
     {204},
     1,
     .outcome = EXEC_SUCCEEDED,
     .status = 204,
     .output = ""},
    {OK_HELLO,
     {204, 202},
     2,
     .outcome = EXEC_FAILED,
     .status = 200,
     .output = "hello",
     .error = "HTTP status 200 is not an accepted status"},
    {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
     .outcome = EXEC_FAILED, .status = 404, .output = "", .error = "HTTP status 404"},
    {"HTTP/1.1 301 Moved\r\nLocation: /elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
     .outcome = EXEC_FAILED, .status = 301, .output = "", .error = "HTTP status 301"},
};

static void test_http_statuses(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(status_cases); i++) {
        const struct status_case *c = &status_cases[i];
        struct srv srv;
        char url[64];
        struct rec rec = {0};
        srv_start(&srv, SRV_REPLY, c->reply, 0);
        srv_url(&srv, "/status", url, sizeof(url));
        struct exec_http_spec spec = {
            .url = url, .accepted = c->accepted, .accepted_count = c->accepted_count};
        run_http(&spec, &rec);
        srv_stop(&srv);
        assert_int_equal(rec.outcome, c->outcome);
        assert_int_equal(rec.http_status, c->status);
        assert_int_equal(rec.exit_code, -1);
        assert_string_equal(rec.output, c->output);
        assert_false(rec.truncated);
        assert_error_has(&rec, c->error);
        assert_non_null(strstr(srv.request, "GET /status HTTP/1.1\r\n"));
        rec_release(&rec);
    }
}

static void test_http_methods_bodies_and_headers(void **state)
{
    (void)state;
    static const char body[] = "{\"a\":1}\0tail"; /* a NUL inside: body_len counts */
    struct {
        const char *method;
        const char *body;
        size_t body_len;
        const char *request_line;
    } cases[] = {
        {NULL, body, sizeof(body) - 1, "POST /hook?x=1 HTTP/1.1\r\n"},
        {"PUT", body, sizeof(body) - 1, "PUT /hook?x=1 HTTP/1.1\r\n"},
        {"POST", NULL, 0, "POST /hook?x=1 HTTP/1.1\r\n"},
        {"DELETE", NULL, 0, "DELETE /hook?x=1 HTTP/1.1\r\n"},
        {"GET", NULL, 0, "GET /hook?x=1 HTTP/1.1\r\n"},
    };
    const char *headers[] = {"X-Ovsched: yes", "Content-Type: application/json", NULL};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct srv srv;
        char url[64];
        struct rec rec = {0};
        srv_start(&srv, SRV_REPLY, OK_HELLO, 0);
        srv_url(&srv, "/hook?x=1", url, sizeof(url));
        struct exec_http_spec spec = {
            .method = cases[i].method,
            .url = url,
            .headers = headers,
            .body = cases[i].body,
            .body_len = cases[i].body_len,
        };
        run_http(&spec, &rec);
        srv_stop(&srv);
        assert_int_equal(rec.outcome, EXEC_SUCCEEDED);
        assert_int_equal(srv.connections, 1);
        assert_memory_equal(srv.request, cases[i].request_line, strlen(cases[i].request_line));
        assert_non_null(strstr(srv.request, "\r\nX-Ovsched: yes\r\n"));
        assert_non_null(strstr(srv.request, "\r\nContent-Type: application/json\r\n"));
        assert_null(strcasestr(srv.request, "\r\nExpect:"));
        if (cases[i].body) {
            char length[40];
            snprintf(length, sizeof(length), "\r\nContent-Length: %zu\r\n", cases[i].body_len);
            assert_non_null(strstr(srv.request, length));
            assert_true(srv.request_len >= cases[i].body_len);
            assert_memory_equal(srv.request + srv.request_len - cases[i].body_len, body,
                                cases[i].body_len);
        }
        rec_release(&rec);
    }
}

static void test_http_response_cap_keeps_head(void **state)
{
    (void)state;
    size_t body_len = 100000;
    char *reply = malloc(body_len + 200);
    int head = sprintf(reply, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                       body_len);
    for (size_t i = 0; i < body_len; i++)
        reply[head + (int)i] = (char)('a' + i % 26);
    size_t caps[] = {1000, 0};
    for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
        struct srv srv;
        char url[64];
        struct rec rec = {0};
        srv_start(&srv, SRV_REPLY, reply, (size_t)head + body_len);
        srv_url(&srv, "/big", url, sizeof(url));
        struct exec_http_spec spec = {.url = url, .output_cap = caps[i]};
        run_http(&spec, &rec);
        srv_stop(&srv);
        size_t want = caps[i] ? caps[i] : EXEC_OUTPUT_CAP_DEFAULT;
        assert_int_equal(rec.outcome, EXEC_SUCCEEDED);
        assert_int_equal(rec.http_status, 200);
        assert_true(rec.truncated);
        assert_int_equal(rec.output_len, want);
        assert_memory_equal(rec.output, reply + head, want);
        rec_release(&rec);
    }
    free(reply);
}

static void test_http_timeout(void **state)
{
    (void)state;
    struct srv srv;
    char url[64];
    struct rec rec = {0};
    srv_start(&srv, SRV_SILENT, NULL, 0);
    srv_url(&srv, "/slow", url, sizeof(url));
    struct exec_http_spec spec = {.url = url, .timeout_ms = 300};
    uint64_t start_ms = now_ms();
    run_http(&spec, &rec);
    srv_stop(&srv);
    assert_int_equal(rec.outcome, EXEC_FAILED);
    assert_int_equal(rec.http_status, 0);
    assert_error_has(&rec, "timed out");
    assert_true(rec.done_ms - start_ms >= 300);
    assert_true(rec.done_ms - start_ms < 2000);
    rec_release(&rec);
}

static void test_http_transport_errors(void **state)
{
    (void)state;
    int port;
    int fd = listen_socket(&port, false); /* bound, not listening: refused */
    char refused[64];
    snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/", port);
    struct {
        const char *url;
        const char *error;
    } cases[] = {
        {refused, "onnect"}, /* "Failed to connect ...: Couldn't connect to server" */
        {"file:///etc/passwd", "Protocol \"file\" not supported"},
        {"http://[::1", "URL"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct rec rec = {0};
        struct exec_http_spec spec = {.url = cases[i].url};
        run_http(&spec, &rec);
        assert_int_equal(rec.outcome, EXEC_FAILED);
        assert_int_equal(rec.http_status, 0);
        assert_string_equal(rec.output, "");
        assert_error_has(&rec, cases[i].error);
        rec_release(&rec);
    }
    close(fd);
}

static void test_http_bad_spec(void **state)
{
    (void)state;
    const char *no_colon[] = {"NoColon", NULL};
    const char *injected[] = {"X-A: 1\r\nX-B: 2", NULL};
    struct {
        struct exec_http_spec spec;
        const char *reason;
    } cases[] = {
        {{.url = NULL}, "the URL is missing"},
        {{.url = "http://127.0.0.1:1/", .method = "GE T"}, "\"GE T\" is not an HTTP method"},
        {{.url = "http://127.0.0.1:1/", .headers = no_colon}, "header 1 is not one"},
        {{.url = "http://127.0.0.1:1/", .headers = injected}, "header 1 is not one"},
    };
    struct harness h;
    struct exec_http *http = NULL;
    harness_init(&h);
    assert_int_equal(exec_http_new(&h.loop, &http), 0);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct rec rec = {0};
        struct exec_task *task = NULL;
        struct exec_error err = {{0}};
        assert_int_equal(exec_http_start(http, &cases[i].spec, rec_cb, &rec, &task, &err), -EINVAL);
        assert_null(task);
        assert_non_null(strstr(err.reason, cases[i].reason));
        harness_run(&h);
        assert_int_equal(rec.calls, 0);
    }
    exec_http_free(http);
    exec_http_free(NULL);
    harness_release(&h);
}

static void http_stop_fire(uv_timer_t *timer)
{
    struct stopper *s = timer->data;
    s->stopped_ms = now_ms();
    s->stop_rc = exec_task_stop(s->task, 0);
    s->again_rc = exec_task_stop(s->task, 0);
    uv_close((uv_handle_t *)timer, NULL);
}

static void test_http_stop_and_concurrency(void **state)
{
    (void)state;
    /* One exec_http carries a transfer that is stopped and one that succeeds. */
    struct srv silent, ok;
    char slow_url[64], ok_url[64];
    struct rec slow = {0}, fast = {0};
    struct stopper s = {0};
    struct exec_task *task = NULL;
    struct harness h;
    struct exec_http *http = NULL;
    uv_timer_t timer;
    srv_start(&silent, SRV_SILENT, NULL, 0);
    srv_start(&ok, SRV_REPLY, OK_HELLO, 0);
    srv_url(&silent, "/never", slow_url, sizeof(slow_url));
    srv_url(&ok, "/", ok_url, sizeof(ok_url));
    harness_init(&h);
    assert_int_equal(exec_http_new(&h.loop, &http), 0);
    struct exec_http_spec slow_spec = {.url = slow_url};
    struct exec_http_spec ok_spec = {.url = ok_url};
    assert_int_equal(exec_http_start(http, &slow_spec, rec_cb, &slow, &s.task, NULL), 0);
    assert_int_equal(exec_http_start(http, &ok_spec, rec_cb, &fast, &task, NULL), 0);
    uv_timer_init(&h.loop, &timer);
    timer.data = &s;
    uv_timer_start(&timer, http_stop_fire, 100, 0);
    harness_run(&h);
    assert_int_equal(slow.calls, 1);
    assert_int_equal(fast.calls, 1);
    exec_http_free(http);
    harness_release(&h);
    srv_stop(&silent);
    srv_stop(&ok);
    assert_int_equal(s.stop_rc, 0);
    assert_int_equal(s.again_rc, -EALREADY);
    assert_int_equal(slow.outcome, EXEC_STOPPED);
    assert_error_has(&slow, "stopped");
    assert_true(slow.done_ms - s.stopped_ms < 500);
    assert_int_equal(fast.outcome, EXEC_SUCCEEDED);
    assert_string_equal(fast.output, "hello");
    assert_true(fast.done_ms < s.stopped_ms);
    rec_release(&slow);
    rec_release(&fast);
}

/* ---- noop and names ------------------------------------------------------- */

static void test_noop(void **state)
{
    (void)state;
    for (int stop = 0; stop <= 1; stop++) {
        struct harness h;
        struct rec rec = {0};
        struct exec_task *task = NULL;
        harness_init(&h);
        assert_int_equal(exec_noop_start(&h.loop, rec_cb, &rec, &task), 0);
        assert_int_equal(rec.calls, 0);
        assert_int_equal(exec_pid(task), 0);
        if (stop) {
            assert_int_equal(exec_task_stop(task, 100), 0);
            assert_int_equal(exec_task_stop(task, 100), -EALREADY);
            assert_int_equal(rec.calls, 0);
        }
        harness_run(&h);
        harness_release(&h);
        assert_int_equal(rec.calls, 1);
        assert_int_equal(rec.outcome, stop ? EXEC_STOPPED : EXEC_SUCCEEDED);
        assert_int_equal(rec.exit_code, -1);
        assert_string_equal(rec.output, "");
        assert_int_equal(rec.output_len, 0);
        assert_error_has(&rec, stop ? "stopped" : NULL);
        rec_release(&rec);
    }
}

static void test_outcome_strings(void **state)
{
    (void)state;
    const enum exec_outcome all[] = {EXEC_SUCCEEDED, EXEC_FAILED, EXEC_STOPPED};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        enum exec_outcome back;
        const char *name = exec_outcome_to_string(all[i]);
        assert_non_null(name);
        assert_int_equal(exec_outcome_from_string(name, &back), 0);
        assert_int_equal(back, all[i]);
    }
    enum exec_outcome untouched = EXEC_FAILED;
    assert_string_equal(exec_outcome_to_string(EXEC_SUCCEEDED), "succeeded");
    assert_int_equal(exec_outcome_from_string("SUCCEEDED", &untouched), -EINVAL);
    assert_int_equal(exec_outcome_from_string(NULL, &untouched), -EINVAL);
    assert_int_equal(untouched, EXEC_FAILED);
}

/* Last: every process the tests started is gone and reaped. */
static void test_no_child_left(void **state)
{
    (void)state;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

int main(void)
{
    /* As the daemon does: orphans of a job come to us, and the executor reaps
     * them.  The alarm is a last resort against a hang outside any loop. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    alarm(60);
    setenv("OVSCHED_TEST_HOME", "/home/ovsched", 1);
    setenv("OVSCHED_TEST_GONE", "present", 1);
    setenv("OVSCHED_TEST_KEEP", "kept", 1);
    setenv("LANG", "C.UTF-8", 1);
    setenv("TZ", "UTC", 1);
    setenv("HOME", "/root", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shell_cases),
        cmocka_unit_test(test_shell_output_cap_keeps_tail),
        cmocka_unit_test(test_shell_spawn_errors),
        cmocka_unit_test(test_shell_stop_kills_the_group),
        cmocka_unit_test(test_shell_stop_terms_the_whole_group),
        cmocka_unit_test(test_shell_stop_escalates_to_sigkill),
        cmocka_unit_test(test_shell_stop_without_grace),
        cmocka_unit_test(test_shell_exit_kills_background_children),
        cmocka_unit_test(test_shell_escaped_descendant_is_not_waited_for),
        cmocka_unit_test(test_shell_stop_while_draining),
        cmocka_unit_test(test_http_statuses),
        cmocka_unit_test(test_http_methods_bodies_and_headers),
        cmocka_unit_test(test_http_response_cap_keeps_head),
        cmocka_unit_test(test_http_timeout),
        cmocka_unit_test(test_http_transport_errors),
        cmocka_unit_test(test_http_bad_spec),
        cmocka_unit_test(test_http_stop_and_concurrency),
        cmocka_unit_test(test_noop),
        cmocka_unit_test(test_outcome_strings),
        cmocka_unit_test(test_no_child_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
