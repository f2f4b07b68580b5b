/*
 * job_digest - the core's view of a job in a few dozen bytes, kept by the
 * store beside the job's document (store_job.digest).
 *
 * Start-up must put a million jobs into the core within seconds; parsing and
 * validating a million JSON documents alone takes longer than that (about
 * 4.5 us each).  So every job write also stores its digest: the schedule text,
 * the zone name, the policies as numbers and the executor's compact JSON, and
 * start-up decodes that instead.  The digest is a cache: the document stays
 * the truth, a write without a digest clears it, and a digest that does not
 * decode (another format version, a damaged blob) falls back to the document.
 *
 * Format 1 is little-endian and self-delimiting: a magic byte and the
 * version, fixed-width numbers, then three length-prefixed strings.
 */
#ifndef OVSCHED_API_JOB_DIGEST_H
#define OVSCHED_API_JOB_DIGEST_H

#include <glib.h>
#include <stddef.h>

#include "api/job_doc.h"
#include "sched/sched.h"
#include "tz/tz.h"

/* DOC's digest; free with g_byte_array_unref(). */
GByteArray *job_digest_encode(const struct job_doc *doc);

/* What decoding shares across jobs: zones, and parsed expressions interned by
 * their text, so jobs with one schedule share one expression. */
struct job_digest_decoder {
    struct tz_cache *zones;
    GHashTable *exprs; /* text -> struct cron_expr * (one reference each) */
    GPtrArray *deps;   /* scratch: the last decoded spec's dependency ids */
};

void job_digest_decoder_init(struct job_digest_decoder *dec, struct tz_cache *zones);
void job_digest_decoder_clear(struct job_digest_decoder *dec);

/* Decode the LEN bytes at DATA into SPEC for job ID.  On success SPEC holds a
 * reference to its expression (sched_job_put() takes it), borrows its zone
 * from the decoder's cache, its executor text and dependency ids from DATA
 * (the list of ids from the decoder, until its next decode).  baseline_ms is
 * left 0: the caller sets it (the job's creation).  Returns 0, or
 * -EINVAL when DATA is not a digest this build can read (SPEC untouched). */
int job_digest_decode(struct job_digest_decoder *dec, const char *id, const void *data, size_t len,
                      struct sched_job_spec *spec);

#endif
