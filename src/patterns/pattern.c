/*
 * pattern - validation and rendering of job templates.  See pattern.h.
 *
 * Placeholders are found by one scanner (next_placeholder()) that both the
 * validation (every name declared) and the rendering use, so a template that
 * registered always renders the same way.  Paths in errors are built while
 * walking ("template.executor.command[1]").
 */
#include "patterns/pattern.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/quote.h"

#define PARAM_NAME_MAX 64

static int fail(struct pattern_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct pattern_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static bool is_id_char(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

static bool is_param_name(const char *name, size_t len)
{
    if (len == 0 || len > PARAM_NAME_MAX || !(g_ascii_isalpha(name[0]) || name[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(g_ascii_isalnum(name[i]) || name[i] == '_'))
            return false;
    return true;
}

/* The next `{{ name }}` in TEXT from *AT: its name (trimmed) in NAME/NAME_LEN,
 * and where it starts and ends.  Returns false when there is none. */
static bool next_placeholder(const char *text, size_t *at, size_t *start, size_t *end,
                             const char **name, size_t *name_len)
{
    const char *open = strstr(text + *at, "{{");
    if (!open)
        return false;
    const char *close = strstr(open + 2, "}}");
    if (!close)
        return false;
    const char *a = open + 2, *b = close;
    while (a < b && *a == ' ')
        a++;
    while (b > a && b[-1] == ' ')
        b--;
    *start = (size_t)(open - text);
    *end = (size_t)(close + 2 - text);
    *name = a;
    *name_len = (size_t)(b - a);
    *at = *end;
    return true;
}

/* Check that every placeholder of V (at PATH) names one of PARAMS. */
static int check_placeholders(json_t *v, GString *path, json_t *params, struct pattern_error *err)
{
    size_t mark = path->len;
    int r = 0;
    if (json_is_string(v)) {
        const char *text = json_string_value(v), *name;
        size_t at = 0, start, end, len;
        while (r == 0 && next_placeholder(text, &at, &start, &end, &name, &len)) {
            char *key = g_strndup(name, len);
            /* PATH is made of the user's keys: clip it and the name so that
             * ERR keeps the ':' and the reason. */
            char field[256], quoted[QUOTE_SIZE];
            quote_clip(path->str, path->len, field, sizeof(field));
            quote_clip(name, len, quoted, sizeof(quoted));
            if (!is_param_name(name, len))
                r = fail(err, "%s: {{%s}} is not a parameter name (letters, digits, _)", field,
                         quoted);
            else if (!json_object_get(params, key))
                r = fail(err, "%s: {{%s}} is not a declared parameter", field, quoted);
            g_free(key);
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
        {
            g_string_append_printf(path, ".%s", key);
            r = check_placeholders(child, path, params, err);
            g_string_truncate(path, mark);
            if (r < 0)
                break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            g_string_append_printf(path, "[%zu]", i);
            r = check_placeholders(child, path, params, err);
            g_string_truncate(path, mark);
            if (r < 0)
                break;
        }
    }
    return r;
}

static int check_id(json_t *doc, struct pattern_error *err)
{
    json_t *id = json_object_get(doc, "pattern_id");
    if (!json_is_string(id) || json_string_length(id) == 0)
        return fail(err, "pattern.pattern_id: required, a non-empty string");
    const char *text = json_string_value(id);
    if (json_string_length(id) > PATTERN_ID_MAX)
        return fail(err, "pattern.pattern_id: longer than %d characters", PATTERN_ID_MAX);
    char quoted[QUOTE_SIZE];
    for (const char *c = text; *c; c = g_utf8_next_char(c))
        if (!is_id_char(*c)) /* quote the whole character: a lone byte of one is not UTF-8 */
            return fail(err, "pattern.pattern_id: '%s' is not allowed (letters, digits, _ - . :)",
                        quote_clip(c, (size_t)(g_utf8_next_char(c) - c), quoted, sizeof(quoted)));
    return 0;
}

static int check_parameters(json_t *params, struct pattern_error *err)
{
    if (!json_is_object(params))
        return fail(err, "pattern.parameters: must be an object of name -> {default, required}");
    const char *name;
    json_t *spec;
    json_object_foreach(params, name, spec)
    {
        char quoted[QUOTE_SIZE];
        if (!is_param_name(name, strlen(name)))
            return fail(err, "pattern.parameters.%s: not a parameter name (letters, digits, _)",
                        quote_clip(name, strlen(name), quoted, sizeof(quoted)));
        if (!json_is_object(spec))
            return fail(err, "pattern.parameters.%s: must be an object {default, required}", name);
        json_t *required = json_object_get(spec, "required"),
               *def = json_object_get(spec, "default");
        if (required && !json_is_boolean(required))
            return fail(err, "pattern.parameters.%s.required: must be true or false", name);
        if (def && (json_is_object(def) || json_is_array(def)))
            return fail(err, "pattern.parameters.%s.default: must be a string, number or boolean",
                        name);
    }
    return 0;
}

static int check_optional_string(json_t *doc, const char *key, struct pattern_error *err)
{
    json_t *v = json_object_get(doc, key);
    if (v && !json_is_string(v))
        return fail(err, "pattern.%s: must be a string", key);
    return 0;
}

int pattern_parse(json_t *doc, json_t **ret, struct pattern_error *err)
{
    if (!json_is_object(doc))
        return fail(err, "pattern: required, an object");
    int r;
    if ((r = check_id(doc, err)) < 0 || (r = check_optional_string(doc, "pattern_type", err)) < 0 ||
        (r = check_optional_string(doc, "name", err)) < 0)
        return r;
    json_t *version = json_object_get(doc, "version");
    if (version && !json_is_string(version) && !json_is_integer(version))
        return fail(err, "pattern.version: must be a string or an integer");
    json_t *steps = json_object_get(doc, "steps"), *template = json_object_get(doc, "template");
    if (steps && !json_is_array(steps))
        return fail(err, "pattern.steps: must be an array");
    if (template && !json_is_object(template))
        return fail(err, "pattern.template: must be an object of job fields");
    if (!template && !steps)
        return fail(err, "pattern.template: required (or steps), the job fields to render");
    json_t *params = json_object_get(doc, "parameters");
    if (params && (r = check_parameters(params, err)) < 0)
        return r;
    json_t *copy = json_deep_copy(doc);
    if (!params)
        json_object_set_new(copy, "parameters", json_object());
    if (!json_object_get(copy, "pattern_type"))
        json_object_set_new(copy, "pattern_type", json_string("scheduler.job"));
    if (!json_object_get(copy, "name"))
        json_object_set(copy, "name", json_object_get(doc, "pattern_id"));
    if (json_is_integer(version))
        json_object_set_new(copy, "version",
                            json_sprintf("%lld", (long long)json_integer_value(version)));
    if (template) {
        GString *path = g_string_new("pattern.template");
        r = check_placeholders(template, path, json_object_get(copy, "parameters"), err);
        g_string_free(path, TRUE);
        if (r < 0) {
            json_decref(copy);
            return r;
        }
    }
    *ret = copy;
    return 0;
}

/* The value of each declared parameter: given, else default, else "" when
 * optional.  Returns a new object or NULL with ERR filled in. */
static json_t *resolve_parameters(json_t *pattern, json_t *given, struct pattern_error *err)
{
    const char *id = json_string_value(json_object_get(pattern, "pattern_id"));
    json_t *declared = json_object_get(pattern, "parameters");
    const char *name;
    json_t *v;
    if (given && !json_is_object(given)) {
        fail(err, "parameters: must be an object of name -> value");
        return NULL;
    }
    json_object_foreach(given, name, v)
    {
        if (!json_object_get(declared, name)) {
            char quoted[QUOTE_SIZE];
            fail(err, "parameters.%s: pattern '%s' has no such parameter",
                 quote_clip(name, strlen(name), quoted, sizeof(quoted)), id);
            return NULL;
        }
        if (json_is_object(v) || json_is_array(v) || json_is_null(v)) {
            fail(err, "parameters.%s: must be a string, number or boolean", name);
            return NULL;
        }
    }
    json_t *values = json_object();
    json_object_foreach(declared, name, v)
    {
        json_t *value = json_object_get(given, name);
        if (!value)
            value = json_object_get(v, "default");
        if (!value && json_is_true(json_object_get(v, "required"))) {
            fail(err, "parameters.%s: required by pattern '%s' and has no default", name, id);
            json_decref(values);
            return NULL;
        }
        json_object_set_new(values, name, value ? json_incref(value) : json_string(""));
    }
    return values;
}

static void append_text(GString *out, json_t *value)
{
    if (json_is_string(value))
        g_string_append(out, json_string_value(value));
    else if (json_is_integer(value))
        g_string_append_printf(out, "%lld", (long long)json_integer_value(value));
    else if (json_is_real(value))
        g_string_append_printf(out, "%.17g", json_real_value(value));
    else if (json_is_boolean(value))
        g_string_append(out, json_is_true(value) ? "true" : "false");
}

/* TEXT with its placeholders replaced: a new reference. */
static json_t *render_string(const char *text, json_t *values)
{
    const char *name;
    size_t at = 0, start, end, len, copied = 0;
    if (!next_placeholder(text, &at, &start, &end, &name, &len))
        return json_string(text);
    if (start == 0 && text[end] == '\0') {
        char *key = g_strndup(name, len);
        json_t *whole = json_deep_copy(json_object_get(values, key));
        g_free(key);
        return whole ? whole : json_string("");
    }
    GString *out = g_string_new(NULL);
    at = 0;
    while (next_placeholder(text, &at, &start, &end, &name, &len)) {
        g_string_append_len(out, text + copied, (gssize)(start - copied));
        char *key = g_strndup(name, len);
        append_text(out, json_object_get(values, key));
        g_free(key);
        copied = end;
    }
    g_string_append(out, text + copied);
    json_t *result = json_string(out->str);
    g_string_free(out, TRUE);
    return result ? result : json_string("");
}

static json_t *render_value(json_t *v, json_t *values)
{
    if (json_is_string(v))
        return render_string(json_string_value(v), values);
    if (json_is_object(v)) {
        json_t *out = json_object();
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child)
            json_object_set_new(out, key, render_value(child, values));
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) json_array_append_new(out, render_value(child, values));
        return out;
    }
    return json_deep_copy(v);
}

int pattern_render(json_t *pattern, json_t *params, json_t **ret, struct pattern_error *err)
{
    json_t *template = json_object_get(pattern, "template");
    if (!json_is_object(template))
        return fail(err,
                    "metadata.service_specific.scheduler.pattern_id: pattern '%s' has no "
                    "template to render a job from",
                    json_string_value(json_object_get(pattern, "pattern_id")));
    json_t *values = resolve_parameters(pattern, params, err);
    if (!values)
        return -EINVAL;
    *ret = render_value(template, values);
    json_decref(values);
    return 0;
}

void pattern_overlay(json_t *base, json_t *own)
{
    const char *key;
    json_t *v;
    json_object_foreach(own, key, v)
    {
        json_t *mine = json_object_get(base, key);
        if (json_is_object(mine) && json_is_object(v))
            pattern_overlay(mine, v);
        else
            json_object_set_new(base, key, json_deep_copy(v));
    }
}

json_t *pattern_diff(json_t *job, json_t *base)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(job, key, v)
    {
        json_t *theirs = json_object_get(base, key);
        if (json_is_object(v) && json_is_object(theirs)) {
            json_t *inner = pattern_diff(v, theirs);
            if (json_object_size(inner) > 0)
                json_object_set_new(out, key, inner);
            else
                json_decref(inner);
        } else if (!theirs || !json_equal(v, theirs)) {
            json_object_set_new(out, key, json_deep_copy(v));
        }
    }
    return out;
}

#define TRIGGER_PATH "metadata.scheduling.trigger_on"

static int check_trigger_entry(json_t *entry, size_t i, struct pattern_error *err)
{
    if (json_is_string(entry))
        return json_string_length(entry) > 0
                   ? 0
                   : fail(err, TRIGGER_PATH "[%zu]: an event type must not be empty", i);
    if (!json_is_object(entry))
        return fail(err, TRIGGER_PATH "[%zu]: an event type or {\"type\", \"filter\"}", i);
    json_t *type = json_object_get(entry, "type"), *filter = json_object_get(entry, "filter");
    if (!json_is_string(type) || json_string_length(type) == 0)
        return fail(err, TRIGGER_PATH "[%zu].type: required, a non-empty string", i);
    if (filter && !json_is_object(filter))
        return fail(err, TRIGGER_PATH "[%zu].filter: must be an object of payload field -> value",
                    i);
    return 0;
}

int pattern_trigger_on_check(json_t *trigger_on, struct pattern_error *err)
{
    if (!trigger_on || json_is_null(trigger_on))
        return 0;
    if (json_is_string(trigger_on))
        return check_trigger_entry(trigger_on, 0, err);
    if (!json_is_array(trigger_on))
        return fail(err, TRIGGER_PATH ": must be an array of event types or {type, filter}");
    size_t i;
    json_t *entry;
    json_array_foreach(trigger_on, i, entry)
    {
        int r = check_trigger_entry(entry, i, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* PAYLOAD's field at dotted NAME ("campaign.region"), or NULL. */
static json_t *payload_field(json_t *payload, const char *name)
{
    json_t *direct = json_object_get(payload, name);
    if (direct || !strchr(name, '.'))
        return direct;
    char **parts = g_strsplit(name, ".", -1);
    json_t *at = payload;
    for (char **p = parts; *p && at; p++)
        at = json_object_get(at, *p);
    g_strfreev(parts);
    return at;
}

static bool entry_matches(json_t *entry, const char *type, json_t *payload)
{
    if (json_is_string(entry))
        return strcmp(json_string_value(entry), type) == 0;
    if (strcmp(json_string_value(json_object_get(entry, "type")), type) != 0)
        return false;
    const char *key;
    json_t *want;
    json_object_foreach(json_object_get(entry, "filter"), key, want)
    {
        json_t *have = payload_field(payload, key);
        if (!have || !json_equal(have, want))
            return false;
    }
    return true;
}

bool pattern_trigger_matches(json_t *trigger_on, const char *type, json_t *payload)
{
    if (!trigger_on || !type)
        return false;
    if (json_is_string(trigger_on))
        return entry_matches(trigger_on, type, payload);
    size_t i;
    json_t *entry;
    json_array_foreach(trigger_on, i, entry)
    {
        if (entry_matches(entry, type, payload))
            return true;
    }
    return false;
}
