/*
 * test_metrics - the Prometheus text of the registry: every metric with HELP
 * and TYPE, histogram buckets cumulative with +Inf equal to the count and a
 * value on a bucket's bound counted in that bucket (le is "less or equal"),
 * runs by status, gauges passed at render time, and the exact lines a
 * scraper reads.
 */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ops/metrics.h"

static int reset(void **state)
{
    (void)state;
    metrics_reset();
    return 0;
}

/* The value of the sample line NAME (with labels) in TEXT, or -1. */
static double sample(const char *text, const char *name)
{
    char **lines = g_strsplit(text, "\n", -1);
    double value = -1;
    size_t len = strlen(name);
    for (char **l = lines; *l; l++)
        if (strncmp(*l, name, len) == 0 && (*l)[len] == ' ')
            value = g_ascii_strtod(*l + len + 1, NULL);
    g_strfreev(lines);
    return value;
}

static void test_every_metric_is_typed(void **state)
{
    (void)state;
    char *text = metrics_render(NULL);
    static const char *const types[] = {"# TYPE ovsched_schedule_lag_seconds histogram",
                                        "# TYPE ovsched_runs_total counter",
                                        "# TYPE ovsched_runs_in_flight gauge",
                                        "# TYPE ovsched_runs_queued gauge",
                                        "# TYPE ovsched_jobs gauge",
                                        "# TYPE ovsched_events_emitted_total counter",
                                        "# TYPE ovsched_websocket_clients gauge",
                                        "# TYPE ovsched_store_latency_seconds histogram"};
    for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
        assert_non_null(strstr(text, types[i]));
    /* Every non-comment line is NAME{labels} VALUE with an ovsched_ name. */
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!**l || **l == '#')
            continue;
        assert_true(g_str_has_prefix(*l, "ovsched_"));
        assert_non_null(strchr(*l, ' '));
    }
    g_strfreev(lines);
    g_free(text);
}

static void test_histogram(void **state)
{
    (void)state;
    metrics_schedule_lag_observe(0.001); /* first bucket */
    metrics_schedule_lag_observe(0.01);  /* exactly on le="0.01": counted there */
    metrics_schedule_lag_observe(0.3);
    metrics_schedule_lag_observe(120); /* only +Inf */
    metrics_schedule_lag_observe(-2);  /* a clock step back counts as no lag */
    char *text = metrics_render(NULL);
    assert_true(sample(text, "ovsched_schedule_lag_seconds_bucket{le=\"0.005\"}") == 2);
    assert_true(sample(text, "ovsched_schedule_lag_seconds_bucket{le=\"0.01\"}") == 3);
    assert_true(sample(text, "ovsched_schedule_lag_seconds_bucket{le=\"0.25\"}") == 3);
    assert_true(sample(text, "ovsched_schedule_lag_seconds_bucket{le=\"0.5\"}") == 4);
    assert_true(sample(text, "ovsched_schedule_lag_seconds_bucket{le=\"60\"}") == 4);
    assert_true(sample(text, "ovsched_schedule_lag_seconds_bucket{le=\"+Inf\"}") == 5);
    assert_true(sample(text, "ovsched_schedule_lag_seconds_count") == 5);
    assert_true(fabs(sample(text, "ovsched_schedule_lag_seconds_sum") - 120.311) < 1e-9);
    g_free(text);
}

static void test_counters_and_gauges(void **state)
{
    (void)state;
    metrics_run_finished("COMPLETED");
    metrics_run_finished("FAILED");
    metrics_run_finished("COMPLETED");
    metrics_events_emitted_add(3);
    metrics_events_emitted_add(4);
    metrics_websocket_clients_add(1);
    metrics_websocket_clients_add(1);
    metrics_websocket_clients_add(-1);
    metrics_store_latency_observe(0.002);
    static const char *const statuses[] = {"ACTIVE", "PAUSED"};
    static const int64_t counts[] = {12, 3};
    struct metrics_gauges gauges = {.runs_in_flight = 5,
                                    .runs_queued = 9,
                                    .job_statuses = statuses,
                                    .job_counts = counts,
                                    .job_status_count = 2};
    char *text = metrics_render(&gauges);
    assert_true(sample(text, "ovsched_runs_total{status=\"COMPLETED\"}") == 2);
    assert_true(sample(text, "ovsched_runs_total{status=\"FAILED\"}") == 1);
    assert_true(sample(text, "ovsched_events_emitted_total") == 7);
    assert_true(sample(text, "ovsched_websocket_clients") == 1);
    assert_true(sample(text, "ovsched_runs_in_flight") == 5);
    assert_true(sample(text, "ovsched_runs_queued") == 9);
    assert_true(sample(text, "ovsched_jobs{status=\"ACTIVE\"}") == 12);
    assert_true(sample(text, "ovsched_jobs{status=\"PAUSED\"}") == 3);
    assert_true(sample(text, "ovsched_store_latency_seconds_bucket{le=\"0.001\"}") == 0);
    assert_true(sample(text, "ovsched_store_latency_seconds_bucket{le=\"0.0025\"}") == 1);
    g_free(text);
    metrics_websocket_clients_add(-5); /* never below zero */
    text = metrics_render(NULL);
    assert_true(sample(text, "ovsched_websocket_clients") == 0);
    g_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_every_metric_is_typed, reset),
        cmocka_unit_test_setup(test_histogram, reset),
        cmocka_unit_test_setup(test_counters_and_gauges, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
