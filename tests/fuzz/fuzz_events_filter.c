/*
 * fuzz_events_filter - libFuzzer target for the query of an event subscription
 * (/v1/events, /v1/events/ws): the input is split at newlines into since,
 * Last-Event-ID, types, job_id and campaign_id (a missing line is an absent
 * parameter).  A filter either parses, and then only names known types and
 * matches without crashing, or is refused with a message naming the field.
 */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    if (strlen(text) != size) { /* a query argument never holds a NUL */
        free(text);
        return 0;
    }
    const char *fields[5] = {NULL};
    char *p = text;
    for (int i = 0; i < 5 && p; i++) {
        fields[i] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    struct events_filter filter;
    char err[160] = "";
    int r = events_filter_parse(&filter, fields[0], fields[1], fields[2], fields[3], fields[4], err,
                                sizeof(err));
    if (r < 0) {
        if (!strchr(err, ':') || strlen(err) >= sizeof(err) - 1 || !g_utf8_validate(err, -1, NULL))
            abort(); /* every refusal names the field, whole, as valid UTF-8 */
    } else {
        if (filter.types >> EVENTS_TYPE_COUNT)
            abort(); /* only known types */
        if (fields[0] && filter.since < 0)
            abort();
        for (int t = 0; t < EVENTS_TYPE_COUNT; t++)
            events_filter_match(&filter, (enum events_type)t, fields[3], filter.campaign_id);
        events_filter_release(&filter);
    }
    free(text);
    return 0;
}
