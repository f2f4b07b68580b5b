/*
 * daemon_run_as - which user a shell attempt runs as, and the run variables
 * it gets (docs/security.md, "What a job can reach").
 *
 * The user is the first of: the job's `executor.run_as` (set only by an admin
 * bound to no tenant, checked when written), the user `--run-as-tenant ID=USER`
 * names for the job's tenant, the daemon's `--run-as USER`, else none (the
 * daemon's own user).  Every user named by a flag is checked at start: a
 * daemon that cannot switch to it refuses to start, rather than running jobs
 * as itself.  A run_as attempt also gets the data folder hidden from it when
 * the daemon may do that (exec_shell_spec.hide_dir).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"

int daemon_run_as_option(struct daemon_config *config, int opt, const char *arg, char *err,
                         size_t err_size)
{
    if (opt == DAEMON_OPT_RUN_AS) {
        config->run_as = arg;
        return 0;
    }
    char *end = NULL;
    long long tenant = strtoll(arg, &end, 10);
    if (end == arg || *end != '=' || tenant < 0 || !end[1]) {
        snprintf(err, err_size, "--run-as-tenant: '%s' is not CAMPAIGN_ID=USER", arg);
        return -EINVAL;
    }
    if (config->tenant_run_as_count == DAEMON_MAX_TENANT_USERS) {
        snprintf(err, err_size, "--run-as-tenant: at most %d tenants", DAEMON_MAX_TENANT_USERS);
        return -EINVAL;
    }
    config->tenant_run_as[config->tenant_run_as_count++] = arg;
    return 0;
}

int daemon_run_as_check(const struct daemon_config *config, char *err, size_t err_size)
{
    char reason[256];
    if (config->run_as && exec_run_as_check(config->run_as, reason, sizeof(reason)) < 0) {
        snprintf(err, err_size, "--run-as %s: %s", config->run_as, reason);
        return -EINVAL;
    }
    for (size_t i = 0; i < config->tenant_run_as_count; i++) {
        const char *user = strchr(config->tenant_run_as[i], '=') + 1;
        if (exec_run_as_check(user, reason, sizeof(reason)) < 0) {
            snprintf(err, err_size, "--run-as-tenant %s: %s", config->tenant_run_as[i], reason);
            return -EINVAL;
        }
    }
    return 0;
}

const char *daemon_run_as_user(const struct daemon *d, const char *job_run_as, int64_t campaign_id)
{
    if (job_run_as)
        return job_run_as;
    for (size_t i = 0; i < d->config.tenant_run_as_count; i++) {
        const char *entry = d->config.tenant_run_as[i];
        if (strtoll(entry, NULL, 10) == campaign_id)
            return strchr(entry, '=') + 1;
    }
    return d->config.run_as;
}

char **daemon_run_env(const struct sched_run *run)
{
    char **env = g_new0(char *, 4);
    env[0] = g_strconcat("OVSCHED_JOB_ID=", run->job_id, NULL);
    env[1] = g_strdup_printf("OVSCHED_RUN_ID=%llu", (unsigned long long)run->id);
    env[2] = g_strdup_printf("OVSCHED_ATTEMPT=%d", run->attempt > 0 ? run->attempt : 1);
    return env;
}
