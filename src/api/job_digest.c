/*
 * job_digest - encode and decode.  See job_digest.h.
 *
 * Every number is written byte by byte, little-endian, so a digest does not
 * depend on the build's struct layout; a reader checks every length against
 * the bytes it has and every enum against its range, and refuses the whole
 * digest on the first surprise (the caller then reads the document).
 */
#include "api/job_digest.h"

#include <errno.h>
#include <string.h>

#include "cron/cron.h"

#define DIGEST_MAGIC   0x4a /* 'J' */
#define DIGEST_VERSION 2

/* ---- writing -------------------------------------------------------------- */

static void put_u64(GByteArray *out, uint64_t v)
{
    guint8 b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (guint8)(v >> (8 * i));
    g_byte_array_append(out, b, 8);
}

static void put_u8(GByteArray *out, unsigned v)
{
    guint8 b = (guint8)v;
    g_byte_array_append(out, &b, 1);
}

static void put_f64(GByteArray *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    put_u64(out, bits);
}

/* A string with its NUL, after its length (0: absent), so a decoded string
 * can be used in place. */
static void put_text(GByteArray *out, const char *text)
{
    size_t len = text ? strlen(text) + 1 : 0;
    put_u64(out, len);
    if (len)
        g_byte_array_append(out, (const guint8 *)text, (guint)len);
}

GByteArray *job_digest_encode(const struct job_doc *doc)
{
    const struct sched_job_spec *s = &doc->spec;
    GByteArray *out = g_byte_array_sized_new(128);
    put_u8(out, DIGEST_MAGIC);
    put_u8(out, DIGEST_VERSION);
    put_u8(out, s->paused);
    put_u8(out, s->dst_policy.on_gap);
    put_u8(out, s->dst_policy.on_overlap);
    put_u8(out, s->concurrency);
    put_u8(out, s->misfire);
    put_u8(out, s->retry.kind);
    const int64_t numbers[] = {s->anchor_at,
                               s->once_at_ms,
                               s->starting_deadline_ms,
                               s->timeout_ms,
                               s->retry.max_attempts,
                               s->retry.initial_interval_ms,
                               s->retry.max_interval_ms,
                               s->retry.max_elapsed_ms};
    for (size_t i = 0; i < G_N_ELEMENTS(numbers); i++)
        put_u64(out, (uint64_t)numbers[i]);
    put_f64(out, s->retry.multiplier);
    put_f64(out, s->retry.randomization_factor);
    put_u64(out, (uint64_t)s->dependency_timeout_ms);
    put_u64(out, s->dep_count);
    for (size_t i = 0; i < s->dep_count; i++)
        put_text(out, s->deps[i]);
    put_text(out, doc->schedule_text);
    put_text(out, doc->zone_name);
    put_text(out, doc->executor_text);
    return out;
}

/* ---- reading -------------------------------------------------------------- */

struct reader {
    const guint8 *at;
    size_t left;
    bool bad;
};

static const guint8 *take(struct reader *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const guint8 *p = r->at;
    r->at += n;
    r->left -= n;
    return p;
}

static uint64_t get_u64(struct reader *r)
{
    const guint8 *b = take(r, 8);
    uint64_t v = 0;
    for (int i = 0; b && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* A byte that must be below LIMIT. */
static unsigned get_u8(struct reader *r, unsigned limit)
{
    const guint8 *b = take(r, 1);
    if (b && *b >= limit)
        r->bad = true;
    return b ? *b : 0;
}

static double get_f64(struct reader *r)
{
    uint64_t bits = get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

/* A string written by put_text(), in place; NULL when absent. */
static const char *get_text(struct reader *r)
{
    uint64_t len = get_u64(r);
    if (len == 0 || r->bad)
        return NULL;
    const guint8 *p = len <= r->left ? take(r, (size_t)len) : NULL;
    if (!p || p[len - 1] != '\0' || memchr(p, '\0', (size_t)len - 1)) {
        r->bad = true;
        return NULL;
    }
    return (const char *)p;
}

void job_digest_decoder_init(struct job_digest_decoder *dec, struct tz_cache *zones)
{
    dec->zones = zones;
    dec->exprs =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)cron_expr_free);
    dec->deps = g_ptr_array_new();
}

void job_digest_decoder_clear(struct job_digest_decoder *dec)
{
    if (dec->exprs)
        g_hash_table_destroy(dec->exprs);
    dec->exprs = NULL;
    if (dec->deps)
        g_ptr_array_free(dec->deps, TRUE);
    dec->deps = NULL;
}

/* The parsed expression of TEXT, shared: a new reference, or NULL. */
static struct cron_expr *intern_expr(struct job_digest_decoder *dec, const char *text)
{
    struct cron_expr *expr = g_hash_table_lookup(dec->exprs, text);
    if (!expr) {
        struct cron_error err;
        if (cron_expr_parse(text, strlen(text), &expr, &err) < 0)
            return NULL;
        g_hash_table_insert(dec->exprs, g_strdup(text), expr);
    }
    return cron_expr_ref(expr);
}

static int decode_policies(struct reader *r, struct sched_job_spec *s)
{
    s->paused = get_u8(r, 2);
    s->dst_policy.on_gap = get_u8(r, CRON_GAP_SKIP + 1);
    s->dst_policy.on_overlap = get_u8(r, CRON_OVERLAP_BOTH + 1);
    s->concurrency = get_u8(r, SCHED_CONCURRENCY_REPLACE + 1);
    s->misfire = get_u8(r, SCHED_MISFIRE_RUN_ALL + 1);
    s->retry.kind = get_u8(r, SCHED_BACKOFF_KIND_COUNT);
    s->anchor_at = (int64_t)get_u64(r);
    s->once_at_ms = (int64_t)get_u64(r);
    s->starting_deadline_ms = (int64_t)get_u64(r);
    s->timeout_ms = (int64_t)get_u64(r);
    int64_t attempts = (int64_t)get_u64(r);
    s->retry.max_attempts = attempts >= 1 && attempts <= 1000 ? (int)attempts : 0;
    s->retry.initial_interval_ms = (int64_t)get_u64(r);
    s->retry.max_interval_ms = (int64_t)get_u64(r);
    s->retry.max_elapsed_ms = (int64_t)get_u64(r);
    s->retry.multiplier = get_f64(r);
    s->retry.randomization_factor = get_f64(r);
    s->dependency_timeout_ms = (int64_t)get_u64(r);
    struct sched_retry_policy_error err;
    if (r->bad || sched_retry_policy_check(&s->retry, &err) < 0)
        return -EINVAL;
    return 0;
}

/* The dependency ids, in place, listed in the decoder's scratch array (valid
 * until the next decode). */
static int decode_deps(struct job_digest_decoder *dec, struct reader *r, struct sched_job_spec *s)
{
    uint64_t count = get_u64(r);
    if (r->bad || count > r->left / 9) /* each id takes at least 9 bytes */
        return -EINVAL;
    g_ptr_array_set_size(dec->deps, 0);
    for (uint64_t i = 0; i < count; i++) {
        const char *id = get_text(r);
        if (!id)
            return -EINVAL;
        g_ptr_array_add(dec->deps, (gpointer)id);
    }
    g_ptr_array_add(dec->deps, NULL);
    s->deps = (const char *const *)dec->deps->pdata;
    s->dep_count = (size_t)count;
    return 0;
}

int job_digest_decode(struct job_digest_decoder *dec, const char *id, const void *data, size_t len,
                      struct sched_job_spec *spec)
{
    struct reader r = {data, len, false};
    struct sched_job_spec s = {.id = id};
    if (!data || get_u8(&r, 256) != DIGEST_MAGIC || get_u8(&r, 256) != DIGEST_VERSION ||
        decode_policies(&r, &s) < 0 || decode_deps(dec, &r, &s) < 0)
        return -EINVAL;
    const char *schedule = get_text(&r), *zone = get_text(&r);
    s.executor = get_text(&r);
    if (r.bad || r.left != 0 || (schedule && !zone))
        return -EINVAL;
    if (zone && tz_cache_get(dec->zones, zone, &s.zone) < 0)
        return -EINVAL;
    if (schedule && !(s.expr = intern_expr(dec, schedule)))
        return -EINVAL;
    *spec = s;
    return 0;
}
