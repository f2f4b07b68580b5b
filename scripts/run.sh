#!/usr/bin/env bash
# `make run`: the daemon on http://127.0.0.1:8080 with SQLite under ./data, and
# two example jobs so a newcomer sees runs at once: a heartbeat every 10 s and
# the seed's weekly report (Mondays 09:00 in New York).  Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/ovsched
listen=${OVSCHED_LISTEN:-127.0.0.1:8080}
api="http://$listen/scheduler.v1.SchedulerService"

"$bin" serve --listen "$listen" --data ./data &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM EXIT

for _ in $(seq 1 100); do
    curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || exit 1
    sleep 0.1
done

# Every API call needs a token (docs/security.md): OVSCHED_ADMIN_TOKEN, or the
# admin token the daemon wrote to ./data/admin-token at its first start.
token=${OVSCHED_ADMIN_TOKEN:-$(cat ./data/admin-token)}
create() { # create JSON: 409 (already there from an earlier run) is fine
    curl -sS -o /dev/null -w '%{http_code}' "$api/CreateJob" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $token" -d "$1" | grep -qE '^(200|409)$'
}
create '{"job": {"id": "heartbeat", "name": "Heartbeat",
  "executor": {"type": "shell", "command": ["sh", "-c", "echo alive at $(date -u +%H:%M:%S)"]},
  "metadata": {"scheduling": {"cron": "*/10 * * * * *"}}}}'
create '{"job": {"id": "weekly-report", "name": "Weekly Report",
  "executor": {"type": "shell", "command": ["echo", "weekly report"], "timeout": "10m"},
  "metadata": {"scheduling": {"cron": "0 9 * * 1", "timezone": "America/New_York",
    "retry_policy": {"max_attempts": 5, "backoff": "exponential"}}}}}'

cat <<MSG

ovsched is running on http://$listen (data in ./data). Try:
  auth="Authorization: Bearer \$(cat data/admin-token)"
  curl -s -H "\$auth" $api/ListJobs -d '{}'
  curl -s -H "\$auth" $api/ListJobRuns -d '{"job_id": "heartbeat", "page_size": 3}'
  curl -s -H "\$auth" $api/GetJobStatus -d '{"job_id": "weekly-report"}'
  curl -s http://$listen/metrics
  build/ovsched cron next '0 9 * * 1' --tz America/New_York --explain
Ctrl-C stops it.
MSG
echo "Web UI: http://$listen/ (sign in with the admin token; http://$listen/#token=TOKEN signs in at once)"
wait $pid
