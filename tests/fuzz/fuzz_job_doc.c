/*
 * fuzz_job_doc - libFuzzer target for job documents as the API receives them:
 * any bytes through jansson into job_doc_parse().  A document either parses
 * (and then its normalised JSON parses again, to the same id) or is refused
 * with a message that names a field ("<field>: <reason>"), was not cut short by
 * its buffer, however long the key or value it quotes, and is valid UTF-8 (it
 * goes out as a JSON string); nothing crashes or leaks.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/job_doc.h"

static struct tz_cache *zones;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!zones)
        zones = tz_cache_new();
    json_t *job = json_loadb((const char *)data, size, 0, NULL);
    if (!job)
        return 0;
    struct job_doc *doc = NULL;
    struct job_doc_error err = {{0}};
    int r = job_doc_parse(job, zones, 1796047200000, &doc, &err);
    if (r < 0) {
        size_t len = strnlen(err.message, sizeof(err.message));
        if (len == 0 || len >= sizeof(err.message) - 1 || !strstr(err.message, ": ") ||
            !g_utf8_validate(err.message, -1, NULL))
            abort(); /* every refusal says which field and why, whole */
    } else {
        struct job_doc *again = NULL;
        struct job_doc_error err2;
        if (job_doc_parse(doc->json, zones, 1796047200000, &again, &err2) != 0 ||
            strcmp(again->id, doc->id) != 0)
            abort(); /* the normalised document is itself valid */
        job_doc_free(again);
        job_doc_free(doc);
    }
    json_decref(job);
    return 0;
}
