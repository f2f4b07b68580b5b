/*
 * fuzz_crontab - libFuzzer target for `ovsched import-crontab`'s reader: any
 * bytes as a crontab.  Nothing crashes or leaks, every job has a unique id, a
 * cron schedule and a command, and every note names a line of the input.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    struct cli_crontab_options options = {.timezone = "UTC"};
    json_t *jobs = NULL, *notes = NULL;
    cli_crontab_parse(text, &options, &jobs, &notes);
    GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);
    size_t i;
    json_t *v;
    json_array_foreach(jobs, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        json_t *sched = json_object_get(json_object_get(v, "metadata"), "scheduling");
        if (!id || g_hash_table_contains(ids, id) || !json_object_get(sched, "cron") ||
            !json_object_get(json_object_get(v, "executor"), "command"))
            abort();
        g_hash_table_add(ids, (char *)id);
    }
    json_array_foreach(notes, i, v)
    {
        json_int_t line = json_integer_value(json_object_get(v, "line"));
        if (line < 1 || (size_t)line > lines || !json_string_value(json_object_get(v, "message")))
            abort();
    }
    g_hash_table_destroy(ids);
    json_decref(jobs);
    json_decref(notes);
    g_free(text);
    return 0;
}
