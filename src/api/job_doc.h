/*
 * job_doc - a job as JSON (SPEC section 2): validation, normalisation, and what
 * the scheduling core needs from it.
 *
 * The seed's shapes are accepted verbatim; unknown keys, in metadata and
 * elsewhere, are kept and returned unchanged.  Validation names the field and
 * the reason ("metadata.scheduling.cron: field 3 (day of month): 32 is out of
 * range 1-31 (at offset 4)") and never changes anything: callers store only a
 * document that parsed.
 *
 * Where the SPEC is silent (recorded in docs/jobs.md): the schedule is one of
 * `metadata.scheduling.cron` (with `timezone`, default UTC), `interval` (a
 * duration, the same as `@every`), or `at` (one RFC 3339 instant); policies
 * live beside it in `metadata.scheduling` (`concurrency_policy`,
 * `misfire_policy`, `starting_deadline`, `dst_policy`, `retry_policy`) and the
 * attempt timeout in `executor.timeout`.
 */
#ifndef OVSCHED_API_JOB_DOC_H
#define OVSCHED_API_JOB_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sched/sched.h"
#include "tz/tz.h"

struct job_doc_error {
    char message[512]; /* "<field>: <reason>" */
};

/* A validated job.  JSON is the normalised document (id filled in, status
 * defaulted) and is owned by the doc; the other fields point into it. */
struct job_doc {
    json_t *json;
    const char *id;
    int64_t campaign_id;
    const char *status; /* ACTIVE, PAUSED, DISABLED, COMPLETED, FAILED */
    const char *executor_type;
    struct sched_job_spec spec; /* expr owned until job_doc_take_spec() */
    /* What the spec was made from, for the digest (job_digest.h): */
    char *schedule_text; /* the cron text, "@every <interval>", or NULL */
    char *zone_name;     /* the zone spec.zone was resolved from, or NULL */
    char *executor_text; /* compact JSON of `executor` (spec.executor), or NULL */
    const char **deps;   /* metadata.scheduling.dependencies, into json */
    size_t dep_count;
};

/* Validate JOB (borrowed) into a new doc.  ZONES resolves time zones; NOW_MS
 * generates ids and anchors `@every`.  Returns 0, -EINVAL with ERR filled, or
 * -ENOMEM.  *ret_doc is written only on success. */
int job_doc_parse(json_t *job, struct tz_cache *zones, int64_t now_ms, struct job_doc **ret_doc,
                  struct job_doc_error *err);

/* Hand the schedule to the core: fills SPEC (whose expr the caller now owns,
 * as sched_job_put() takes it).  May be called once. */
void job_doc_take_spec(struct job_doc *doc, struct sched_job_spec *spec);

void job_doc_free(struct job_doc *doc);

/* A new job id: UUIDv7 text (time-ordered, so ids sort by creation). */
void job_doc_new_id(int64_t now_ms, uint64_t random, char out[37]);

#endif
