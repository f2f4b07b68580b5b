/*
 * fuzz_pattern - libFuzzer target for what RegisterPattern, CreateJob and
 * PublishEvent read from clients: any bytes through jansson as
 * {"pattern", "parameters", "job", "trigger_on", "type", "payload"}.
 * A pattern either parses or is refused naming a field; a parsed pattern
 * renders or is refused naming a field; diff + overlay give back what
 * overlaying the job itself gives; trigger_on matching never crashes.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patterns/pattern.h"

static void check_refusal(const struct pattern_error *err)
{
    size_t len = strnlen(err->message, sizeof(err->message));
    if (len == 0 || len >= sizeof(err->message) - 1 || !strchr(err->message, ':') ||
        !g_utf8_validate(err->message, -1, NULL))
        abort(); /* every refusal says which field and why, whole, as valid UTF-8 */
}

static void round_trip(json_t *base, json_t *job)
{
    if (!json_is_object(job))
        return;
    json_t *own = pattern_diff(job, base);
    json_t *a = json_deep_copy(base), *b = json_deep_copy(base);
    pattern_overlay(a, own);
    pattern_overlay(b, job);
    if (!json_equal(a, b))
        abort();
    json_decref(own);
    json_decref(a);
    json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    if (!json_is_object(in)) {
        json_decref(in);
        return 0;
    }
    json_t *pattern = NULL, *job = NULL;
    struct pattern_error err = {{0}};
    if (pattern_parse(json_object_get(in, "pattern"), &pattern, &err) < 0) {
        check_refusal(&err);
    } else if (pattern_render(pattern, json_object_get(in, "parameters"), &job, &err) < 0) {
        check_refusal(&err);
    } else {
        round_trip(job, json_object_get(in, "job"));
        json_decref(job);
    }
    json_decref(pattern);
    json_t *trigger_on = json_object_get(in, "trigger_on");
    if (pattern_trigger_on_check(trigger_on, &err) == 0) {
        const char *type = json_string_value(json_object_get(in, "type"));
        pattern_trigger_matches(trigger_on, type ? type : "x", json_object_get(in, "payload"));
    } else {
        check_refusal(&err);
    }
    json_decref(in);
    return 0;
}
