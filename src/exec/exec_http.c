/*
 * exec_http - the HTTP executor: libcurl's multi interface driven by a libuv
 * loop, one easy handle per attempt.
 *
 * libcurl tells us what to watch (CURLMOPT_SOCKETFUNCTION: one uv_poll_t per
 * socket, created on first use, closed on CURL_POLL_REMOVE) and when to call it
 * back (CURLMOPT_TIMERFUNCTION: one uv_timer_t for the whole multi handle);
 * both report to curl_multi_socket_action(), after which finished transfers
 * are collected with curl_multi_info_read().  libcurl removes a socket from
 * our watch before it closes it, so a uv_poll_t never outlives its descriptor.
 *
 * Each task owns a uv_timer_t that never runs: closing it is how the result is
 * delivered, so that a transfer that finishes inside libcurl and one aborted by
 * exec_task_stop() both reach the user's callback from the loop, never from
 * inside a libcurl callback or the stop call.
 *
 * Safety: only http and https are allowed (also after redirects, which are not
 * followed anyway), signals are never used (CURLOPT_NOSIGNAL), and the
 * "Expect: 100-continue" dance is turned off unless the job asks for it.  The
 * body keeps its first output_cap bytes; the rest is read and dropped, so a
 * large response still yields its status.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "exec/internal.h"

struct http_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct exec_http *http;
    struct http_sock *prev, *next;
};

struct exec_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct http_sock *socks; /* being watched */
    size_t tasks;            /* started, callback not yet called */
    int open_handles;        /* timer and polls, until their close callbacks */
    bool freeing;
};

struct http_task {
    struct exec_task base;
    struct exec_http *http;
    CURL *easy;
    struct curl_slist *headers;
    uv_timer_t deliver; /* closed to deliver the result, never started */
    bool ending;
    bool stopped;
    CURLcode code;
    long status;
    int *accepted;
    size_t accepted_count;
    char *body; /* output: cap + 1 bytes at most */
    size_t body_len, body_size, cap;
    bool truncated;
    char errbuf[CURL_ERROR_SIZE];
    char error[CURL_ERROR_SIZE + 64];
};

static void http_handle_closed(uv_handle_t *handle);

/* ---- the multi handle on the loop ----------------------------------------- */

static void http_release_if_done(struct exec_http *http)
{
    if (http->freeing && http->open_handles == 0) {
        free(http);
        curl_global_cleanup();
    }
}

static void http_handle_closed(uv_handle_t *handle)
{
    struct exec_http *http = handle->data;
    if (handle->type == UV_POLL) {
        struct http_sock *sock = (struct http_sock *)handle;
        http = sock->http;
        free(sock);
    }
    http->open_handles--;
    http_release_if_done(http);
}

static void sock_close(struct http_sock *sock)
{
    struct exec_http *http = sock->http;
    if (sock->prev)
        sock->prev->next = sock->next;
    else
        http->socks = sock->next;
    if (sock->next)
        sock->next->prev = sock->prev;
    uv_close((uv_handle_t *)&sock->poll, http_handle_closed);
}

static void task_deliver_closed(uv_handle_t *handle);

static void task_end(struct http_task *task)
{
    task->ending = true;
    long status = 0;
    curl_easy_getinfo(task->easy, CURLINFO_RESPONSE_CODE, &status);
    task->status = status;
    curl_multi_remove_handle(task->http->multi, task->easy);
    uv_close((uv_handle_t *)&task->deliver, task_deliver_closed);
}

static void check_done(struct exec_http *http)
{
    CURLMsg *msg;
    int pending;
    while ((msg = curl_multi_info_read(http->multi, &pending))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* MSG dies with remove_handle: read it first. */
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        struct http_task *task = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&task);
        if (!task || task->ending)
            continue;
        task->code = code;
        task_end(task);
    }
}

static void poll_ready(uv_poll_t *poll, int status, int events)
{
    struct http_sock *sock = (struct http_sock *)poll;
    struct exec_http *http = sock->http;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(http->multi, sock->fd, flags, &running);
    check_done(http);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct exec_http *http = userp;
    struct http_sock *sock = socketp;
    (void)easy;

    if (what == CURL_POLL_REMOVE) {
        if (sock)
            sock_close(sock);
        return 0;
    }
    if (!sock) {
        sock = calloc(1, sizeof(*sock));
        if (!sock)
            return -1;
        if (uv_poll_init_socket(http->loop, &sock->poll, fd) < 0) {
            free(sock);
            return -1;
        }
        sock->fd = fd;
        sock->http = http;
        sock->poll.data = http;
        sock->next = http->socks;
        if (sock->next)
            sock->next->prev = sock;
        http->socks = sock;
        http->open_handles++;
        curl_multi_assign(http->multi, fd, sock);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&sock->poll, events, poll_ready) < 0 ? -1 : 0;
}

static void timer_fired(uv_timer_t *timer)
{
    struct exec_http *http = timer->data;
    int running;
    curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(http);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct exec_http *http = userp;
    (void)multi;
    if (http->freeing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&http->timer);
    else /* 0 too: libcurl wants to be called from the loop, not from here */
        uv_timer_start(&http->timer, timer_fired, (uint64_t)timeout_ms, 0);
    return 0;
}

int exec_http_new(uv_loop_t *loop, struct exec_http **ret_http)
{
    struct exec_http *http = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -ENOMEM;
    http = calloc(1, sizeof(*http));
    if (!http)
        goto fail;
    http->loop = loop;
    http->multi = curl_multi_init();
    if (!http->multi)
        goto fail;
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
    uv_timer_init(loop, &http->timer);
    http->timer.data = http;
    http->open_handles = 1;
    *ret_http = http;
    return 0;
fail:
    free(http);
    curl_global_cleanup();
    return -ENOMEM;
}

void exec_http_free(struct exec_http *http)
{
    if (!http)
        return;
    assert(http->tasks == 0);
    http->freeing = true;
    /* Cached connections close here, and libcurl removes their sockets. */
    curl_multi_cleanup(http->multi);
    http->multi = NULL;
    while (http->socks)
        sock_close(http->socks);
    uv_close((uv_handle_t *)&http->timer, http_handle_closed);
}

/* ---- one transfer --------------------------------------------------------- */

static size_t body_write(char *bytes, size_t size, size_t nmemb, void *userp)
{
    struct http_task *task = userp;
    size_t n = size * nmemb;
    size_t room = task->cap - task->body_len;
    size_t take = n < room ? n : room;
    if (take < n)
        task->truncated = true;
    if (take && task->body_len + take > task->body_size) {
        size_t want = task->body_len + take;
        size_t grown = task->body_size ? task->body_size : 4096;
        while (grown < want)
            grown *= 2;
        if (grown > task->cap)
            grown = task->cap;
        char *body = realloc(task->body, grown + 1);
        if (!body)
            return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
        task->body = body;
        task->body_size = grown;
    }
    if (take) {
        memcpy(task->body + task->body_len, bytes, take);
        task->body_len += take;
    }
    return n;
}

static bool status_accepted(const struct http_task *task, long status)
{
    if (task->accepted_count == 0)
        return status >= 200 && status <= 299;
    for (size_t i = 0; i < task->accepted_count; i++)
        if (task->accepted[i] == status)
            return true;
    return false;
}

static void task_deliver_closed(uv_handle_t *handle)
{
    struct http_task *task = handle->data;
    struct exec_http *http = task->http;
    struct exec_result result = {.exit_code = -1, .http_status = (int)task->status};

    if (task->body)
        task->body[task->body_len] = '\0';
    result.output = task->body ? task->body : "";
    result.output_len = task->body_len;
    result.truncated = task->truncated;
    if (task->stopped) {
        result.outcome = EXEC_STOPPED;
        snprintf(task->error, sizeof(task->error), "stopped: the transfer was aborted");
    } else if (task->code != CURLE_OK) {
        result.outcome = EXEC_FAILED;
        snprintf(task->error, sizeof(task->error), "%s",
                 task->errbuf[0] ? task->errbuf : curl_easy_strerror(task->code));
    } else if (!status_accepted(task, task->status)) {
        result.outcome = EXEC_FAILED;
        snprintf(task->error, sizeof(task->error), "HTTP status %ld is not an accepted status",
                 task->status);
    } else {
        result.outcome = EXEC_SUCCEEDED;
    }
    result.error = task->error[0] ? task->error : NULL;

    curl_easy_cleanup(task->easy);
    curl_slist_free_all(task->headers);
    http->tasks--; /* before the callback, which may free HTTP */
    task->base.cb(&task->base, &result, task->base.ctx);
    free(task->accepted);
    free(task->body);
    free(task);
}

int exec_http_task_stop(struct exec_task *base, uint64_t grace_ms)
{
    struct http_task *task = (struct http_task *)base;
    (void)grace_ms;
    if (task->ending)
        return -EALREADY;
    task->stopped = true;
    task_end(task);
    return 0;
}

static bool is_token(const char *text)
{
    if (!*text)
        return false;
    for (const char *p = text; *p; p++)
        if (!strchr("!#$%&'*+-.^_`|~", *p) && !(*p >= '0' && *p <= '9') &&
            !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z'))
            return false;
    return true;
}

static int spec_check(const struct exec_http_spec *spec, struct exec_error *reterr)
{
    if (!spec->url || !*spec->url)
        return exec_error_set(reterr, -EINVAL, "the URL is missing");
    if (spec->method && !is_token(spec->method))
        return exec_error_set(reterr, -EINVAL, "\"%s\" is not an HTTP method", spec->method);
    for (size_t i = 0; spec->headers && spec->headers[i]; i++) {
        const char *line = spec->headers[i];
        const char *colon = strchr(line, ':');
        if (!colon || colon == line || strpbrk(line, "\r\n"))
            return exec_error_set(reterr, -EINVAL, "header %zu is not one \"Name: value\" line",
                                  i + 1);
    }
    if (strpbrk(spec->url, "\r\n"))
        return exec_error_set(reterr, -EINVAL, "the URL contains a line break");
    return 0;
}

static int easy_setup(struct http_task *task, const struct exec_http_spec *spec)
{
    CURL *easy = task->easy;
    bool has_expect = false;
    CURLcode rc = CURLE_OK;

    for (size_t i = 0; spec->headers && spec->headers[i]; i++) {
        struct curl_slist *list = curl_slist_append(task->headers, spec->headers[i]);
        if (!list)
            return -ENOMEM;
        task->headers = list;
        has_expect = has_expect || strncasecmp(spec->headers[i], "Expect:", 7) == 0;
    }
    if (!has_expect) {
        struct curl_slist *list = curl_slist_append(task->headers, "Expect:");
        if (!list)
            return -ENOMEM;
        task->headers = list;
    }

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(easy, opt, val);                                                 \
    } while (0)
    SET(CURLOPT_URL, spec->url);
    SET(CURLOPT_PRIVATE, task);
    SET(CURLOPT_WRITEFUNCTION, body_write);
    SET(CURLOPT_WRITEDATA, task);
    SET(CURLOPT_ERRORBUFFER, task->errbuf);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_HTTPHEADER, task->headers);
    SET(CURLOPT_TIMEOUT_MS, spec->timeout_ms > LONG_MAX ? LONG_MAX : (long)spec->timeout_ms);
    if (spec->body) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)spec->body_len);
        SET(CURLOPT_COPYPOSTFIELDS, spec->body);
        if (spec->method && strcmp(spec->method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, spec->method);
    } else if (!spec->method || strcmp(spec->method, "GET") == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(spec->method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (strcmp(spec->method, "POST") == 0) {
        SET(CURLOPT_POSTFIELDSIZE, 0L);
        SET(CURLOPT_POSTFIELDS, "");
    } else {
        SET(CURLOPT_CUSTOMREQUEST, spec->method);
    }
#undef SET
    if (rc == CURLE_OUT_OF_MEMORY)
        return -ENOMEM;
    return rc == CURLE_OK ? 0 : -EINVAL;
}

int exec_http_start(struct exec_http *http, const struct exec_http_spec *spec, exec_done_cb cb,
                    void *ctx, struct exec_task **ret_task, struct exec_error *reterr)
{
    struct http_task *task = NULL;
    int r;

    if (!spec || !cb)
        return exec_error_set(reterr, -EINVAL, "no request");
    assert(!http->freeing);
    if ((r = spec_check(spec, reterr)) < 0)
        return r;

    r = -ENOMEM;
    task = calloc(1, sizeof(*task));
    if (!task)
        goto fail;
    task->base = (struct exec_task){.kind = EXEC_KIND_HTTP, .cb = cb, .ctx = ctx};
    task->http = http;
    task->cap = spec->output_cap ? spec->output_cap : EXEC_OUTPUT_CAP_DEFAULT;
    if (spec->accepted_count) {
        task->accepted = malloc(spec->accepted_count * sizeof(*task->accepted));
        if (!task->accepted)
            goto fail;
        memcpy(task->accepted, spec->accepted, spec->accepted_count * sizeof(*task->accepted));
        task->accepted_count = spec->accepted_count;
    }
    task->easy = curl_easy_init();
    if (!task->easy)
        goto fail;
    if ((r = easy_setup(task, spec)) < 0)
        goto fail;
    if (curl_multi_add_handle(http->multi, task->easy) != CURLM_OK) {
        r = -ENOMEM;
        goto fail;
    }
    uv_timer_init(http->loop, &task->deliver);
    task->deliver.data = task;
    http->tasks++;
    *ret_task = &task->base;
    return 0;

fail:
    exec_error_set(reterr, r, "cannot start the request to \"%s\": %s", spec->url,
                   exec_strerror(r));
    if (task) {
        curl_easy_cleanup(task->easy);
        curl_slist_free_all(task->headers);
        free(task->accepted);
        free(task);
    }
    return r;
}
