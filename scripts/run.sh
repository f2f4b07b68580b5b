#!/usr/bin/env bash
# `make run`.  The daemon (`ovsched serve`) arrives with the scheduling core;
# until then this shows the time engine on the seed's example: the weekly
# report, Mondays at 09:00 in New York, across the spring DST change, and a
# 02:30 job on the day 02:30 does not exist.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/ovsched

echo "ovsched time engine - the daemon arrives with the scheduling core (see README)"
echo
echo "\$ $bin cron next '0 9 * * 1' --tz America/New_York --from 2026-03-01T00:00:00Z -n 4"
"$bin" cron next '0 9 * * 1' --tz America/New_York --from 2026-03-01T00:00:00Z -n 4
echo
echo "\$ $bin cron next '30 2 * * *' --tz America/New_York --from 2026-03-07T00:00:00Z -n 3 --explain"
"$bin" cron next '30 2 * * *' --tz America/New_York --from 2026-03-07T00:00:00Z -n 3 --explain
echo
echo "\$ $bin cron next '30 1 * * *' --tz America/New_York --from 2026-10-31T00:00:00Z -n 3 --explain"
"$bin" cron next '30 1 * * *' --tz America/New_York --from 2026-10-31T00:00:00Z -n 3 --explain
echo
echo "\$ echo '{\"expr\": \"0 0 32 * *\"}' | $bin cron next"
echo '{"expr": "0 0 32 * *"}' | "$bin" cron next
