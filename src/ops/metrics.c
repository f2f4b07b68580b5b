/*
 * metrics - a fixed registry rendered as Prometheus text.  See metrics.h.
 *
 * The set of metrics is known at build time, so the registry is a struct, not
 * a map of names; runs by status keep a short array of (status, count) since
 * statuses are a handful of fixed strings.
 */
#include "ops/metrics.h"

#include <glib.h>
#include <string.h>

#define MAX_STATUSES 24

/* Lag: most runs start within milliseconds; a busy or starved loop shows in
 * the upper buckets.  Store commits: sub-millisecond to seconds (fsync). */
static const double lag_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                    1,     2.5,  5,     10,   30,  60};
static const double store_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

static uint64_t lag_buckets[G_N_ELEMENTS(lag_bounds) + 1];
static uint64_t store_buckets[G_N_ELEMENTS(store_bounds) + 1];

static struct {
    struct metrics_histogram lag, store;
    struct {
        char name[32];
        uint64_t count;
    } runs[MAX_STATUSES];
    size_t run_status_count;
    uint64_t events_emitted;
    int64_t websocket_clients;
} reg = {
    .lag = {lag_bounds, G_N_ELEMENTS(lag_bounds), lag_buckets, 0, 0},
    .store = {store_bounds, G_N_ELEMENTS(store_bounds), store_buckets, 0, 0},
};

void metrics_histogram_observe(struct metrics_histogram *h, double value)
{
    size_t i = 0;
    while (i < h->bound_count && value > h->bounds[i])
        i++;
    h->buckets[i]++;
    h->sum += value;
    h->count++;
}

void metrics_run_finished(const char *status)
{
    for (size_t i = 0; i < reg.run_status_count; i++) {
        if (strcmp(reg.runs[i].name, status) == 0) {
            reg.runs[i].count++;
            return;
        }
    }
    if (reg.run_status_count == MAX_STATUSES)
        return;
    g_strlcpy(reg.runs[reg.run_status_count].name, status, sizeof(reg.runs[0].name));
    reg.runs[reg.run_status_count++].count = 1;
}

void metrics_schedule_lag_observe(double lag_s)
{
    metrics_histogram_observe(&reg.lag, lag_s < 0 ? 0 : lag_s);
}

void metrics_store_latency_observe(double seconds)
{
    metrics_histogram_observe(&reg.store, seconds);
}

void metrics_events_emitted_add(uint64_t n)
{
    reg.events_emitted += n;
}

void metrics_websocket_clients_add(int delta)
{
    reg.websocket_clients += delta;
    if (reg.websocket_clients < 0)
        reg.websocket_clients = 0;
}

static void header(GString *out, const char *name, const char *type, const char *help)
{
    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Locale-independent (a decimal point, never a comma) and short: le="0.005"
 * as Prometheus clients print it. */
static void append_number(GString *out, double value)
{
    char text[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(out, g_ascii_formatd(text, sizeof(text), "%.9g", value));
}

static void render_histogram(GString *out, const char *name, const char *help,
                             const struct metrics_histogram *h)
{
    header(out, name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= h->bound_count; i++) {
        cumulative += h->buckets[i];
        g_string_append_printf(out, "%s_bucket{le=\"", name);
        if (i < h->bound_count)
            append_number(out, h->bounds[i]);
        else
            g_string_append(out, "+Inf");
        g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
    }
    g_string_append_printf(out, "%s_sum ", name);
    append_number(out, h->sum);
    g_string_append_printf(out, "\n%s_count %" G_GUINT64_FORMAT "\n", name, h->count);
}

char *metrics_render(const struct metrics_gauges *gauges)
{
    GString *out = g_string_new(NULL);
    render_histogram(out, "ovsched_schedule_lag_seconds",
                     "Delay from a scheduled slot to the start of its run.", &reg.lag);
    header(out, "ovsched_runs_total", "counter", "Runs that ended, by final status.");
    for (size_t i = 0; i < reg.run_status_count; i++)
        g_string_append_printf(out, "ovsched_runs_total{status=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               reg.runs[i].name, reg.runs[i].count);
    header(out, "ovsched_runs_in_flight", "gauge", "Attempts running now.");
    g_string_append_printf(out, "ovsched_runs_in_flight %" G_GINT64_FORMAT "\n",
                           gauges ? gauges->runs_in_flight : 0);
    header(out, "ovsched_runs_queued", "gauge",
           "Runs waiting for a free slot under --max-in-flight (queue depth).");
    g_string_append_printf(out, "ovsched_runs_queued %" G_GINT64_FORMAT "\n",
                           gauges ? gauges->runs_queued : 0);
    header(out, "ovsched_jobs", "gauge", "Jobs by status.");
    for (size_t i = 0; gauges && i < gauges->job_status_count; i++)
        g_string_append_printf(out, "ovsched_jobs{status=\"%s\"} %" G_GINT64_FORMAT "\n",
                               gauges->job_statuses[i], gauges->job_counts[i]);
    header(out, "ovsched_events_emitted_total", "counter", "Events emitted.");
    g_string_append_printf(out, "ovsched_events_emitted_total %" G_GUINT64_FORMAT "\n",
                           reg.events_emitted);
    header(out, "ovsched_websocket_clients", "gauge", "WebSocket clients connected.");
    g_string_append_printf(out, "ovsched_websocket_clients %" G_GINT64_FORMAT "\n",
                           reg.websocket_clients);
    render_histogram(out, "ovsched_store_latency_seconds", "Duration of store commits.",
                     &reg.store);
    return g_string_free(out, FALSE);
}

void metrics_reset(void)
{
    memset(lag_buckets, 0, sizeof(lag_buckets));
    memset(store_buckets, 0, sizeof(store_buckets));
    reg.lag.sum = reg.store.sum = 0;
    reg.lag.count = reg.store.count = 0;
    reg.run_status_count = 0;
    reg.events_emitted = 0;
    reg.websocket_clients = 0;
}
