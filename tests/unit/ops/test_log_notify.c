/*
 * test_log_notify - log lines in both formats (JSON that parses back with
 * ts, level, msg and fields; text with key=value; invalid UTF-8 made valid)
 * and the sd_notify datagram received on a real AF_UNIX socket, by path and
 * in the abstract namespace.
 */
#include <errno.h>
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops/log.h"
#include "ops/notify.h"

/* One log line written with FORMAT, as text (g_free). */
static char *capture(enum log_format format, json_t *fields, const char *msg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *stream = open_memstream(&buf, &len);
    log_set_stream(stream);
    log_set_format(format);
    log_write("warn", INT64_C(1795770000123), fields, "%s", msg);
    log_set_stream(NULL);
    fclose(stream);
    char *copy = g_strdup(buf);
    free(buf);
    return copy;
}

static void test_json_lines(void **state)
{
    (void)state;
    char *line = capture(LOG_FORMAT_JSON, json_pack("{ss si}", "job_id", "a", "attempt", 2),
                         "run \"x\" failed\nbadly");
    assert_true(g_str_has_suffix(line, "\n"));
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* one line */
    json_t *obj = json_loads(line, 0, NULL);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "ts")), "2026-11-27T09:00:00.123Z");
    assert_string_equal(json_string_value(json_object_get(obj, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(obj, "msg")), "run \"x\" failed\nbadly");
    json_t *fields = json_object_get(obj, "fields");
    assert_string_equal(json_string_value(json_object_get(fields, "job_id")), "a");
    assert_int_equal(json_integer_value(json_object_get(fields, "attempt")), 2);
    json_decref(obj);
    g_free(line);

    line = capture(LOG_FORMAT_JSON, NULL, "bad \xff byte");
    obj = json_loads(line, 0, NULL);
    assert_non_null(obj); /* still a line jansson writes and reads */
    assert_null(json_object_get(obj, "fields"));
    json_decref(obj);
    g_free(line);
}

static void test_text_lines(void **state)
{
    (void)state;
    char *line =
        capture(LOG_FORMAT_TEXT, json_pack("{ss si}", "path", "/d/admin-token", "n", 3), "hello");
    assert_string_equal(line, "time=2026-11-27T09:00:00.123Z level=warn msg=\"hello\" "
                              "path=/d/admin-token n=3\n");
    g_free(line);
    line = capture(LOG_FORMAT_TEXT, json_pack("{ss}", "name", "x\nlevel=error"), "a\nb");
    assert_string_equal(line, "time=2026-11-27T09:00:00.123Z level=warn msg=\"a b\" "
                              "name=x level=error\n"); /* one line: no forged entry */
    g_free(line);
    enum log_format f;
    assert_int_equal(log_format_from_string("text", &f), 0);
    assert_int_equal(f, LOG_FORMAT_TEXT);
    assert_int_equal(log_format_from_string("json", &f), 0);
    assert_int_equal(f, LOG_FORMAT_JSON);
    assert_int_equal(log_format_from_string("xml", &f), -EINVAL);
    log_set_format(LOG_FORMAT_JSON);
}

static void receive_on(const char *name, bool abstract)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    memcpy(addr.sun_path, name, len);
    if (abstract)
        addr.sun_path[0] = '\0';
    assert_int_equal(bind(fd, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
                     0);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(notify_send("READY=1\nSTATUS=up"), 1);
    char buf[128] = "";
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_int_equal(n, strlen("READY=1\nSTATUS=up"));
    assert_string_equal(buf, "READY=1\nSTATUS=up");
    close(fd);
    if (!abstract)
        unlink(name);
}

static void test_notify(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(notify_send("READY=1"), 0); /* not under systemd: nothing to do */
    char path[64];
    snprintf(path, sizeof(path), "/tmp/ovsched-notify-%d", (int)getpid());
    receive_on(path, false);
    snprintf(path, sizeof(path), "@ovsched-notify-%d", (int)getpid());
    receive_on(path, true);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(notify_send("READY=1"), -EINVAL);
    setenv("NOTIFY_SOCKET", "/tmp/ovsched-no-such-socket", 1);
    assert_true(notify_send("READY=1") < 0);
    unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_text_lines),
        cmocka_unit_test(test_notify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
