/*
 * metrics - the daemon's Prometheus metrics (text exposition format 0.0.4).
 *
 * One registry per process, as in every Prometheus client library: counters,
 * gauges and histograms with fixed buckets, all named ovsched_*.  Modules
 * report through the small functions below (runs, lag, store latency, events,
 * WebSocket clients); what is cheaper to read than to track (runs in flight,
 * jobs by status) is passed to metrics_render() by the caller at scrape time.
 *
 * Only the daemon's loop thread may call these (no locks).  Nothing here
 * reads a clock: durations are arguments.
 */
#ifndef OVSCHED_OPS_METRICS_H
#define OVSCHED_OPS_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* A histogram with fixed upper bounds (seconds), +Inf implied. */
struct metrics_histogram {
    const double *bounds;
    size_t bound_count;
    uint64_t *buckets; /* bound_count + 1 counts, not cumulative */
    double sum;
    uint64_t count;
};

void metrics_histogram_observe(struct metrics_histogram *h, double value);

/* A run reached final STATUS ("COMPLETED", "FAILED", ...). */
void metrics_run_finished(const char *status);
/* A run started LAG_S seconds after its slot (scheduled runs only). */
void metrics_schedule_lag_observe(double lag_s);
/* A store commit took SECONDS. */
void metrics_store_latency_observe(double seconds);
/* N events were emitted (the events module calls this). */
void metrics_events_emitted_add(uint64_t n);
/* WebSocket clients connected (+1) or gone (-1). */
void metrics_websocket_clients_add(int delta);

/* What the caller reads at scrape time. */
struct metrics_gauges {
    int64_t runs_in_flight;
    int64_t runs_queued;
    const char *const *job_statuses; /* jobs by status: names ... */
    const int64_t *job_counts;       /* ... and counts */
    size_t job_status_count;
};

/* The whole exposition as text (g_free).  Never NULL. */
char *metrics_render(const struct metrics_gauges *gauges);

/* Forget everything (tests). */
void metrics_reset(void);

#endif
