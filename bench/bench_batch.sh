#!/usr/bin/env bash
# Batch-mode throughput of `ovsched cron next`: 100,000 JSON request lines,
# mixed expressions and zones, 5 times each, through one process.
set -euo pipefail
bin=${1:-build/ovsched}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zones=(UTC America/New_York Europe/Berlin Australia/Lord_Howe Asia/Kolkata)
exprs=("0 9 * * 1" "*/5 * * * *" "30 2 * * *" "0 0 L * *" "0 9 * * MON-FRI" "15 10 ? * 5L")
for i in $(seq 0 99999); do
    printf '{"expr": "%s", "tz": "%s", "from": "2026-03-0%dT01:30:00Z", "n": 5}\n' \
        "${exprs[i % 6]}" "${zones[i % 5]}" $((i % 9 + 1))
done >"$tmp/in.jsonl"
start=$(date +%s.%N)
"$bin" cron next <"$tmp/in.jsonl" >"$tmp/out.jsonl"
end=$(date +%s.%N)
lines=$(wc -l <"$tmp/out.jsonl")
errors=$(grep -c '"error"' "$tmp/out.jsonl" || true)
awk -v n="$lines" -v s="$start" -v e="$end" -v err="$errors" 'BEGIN {
    printf "batch mode: %d lines (5 times each) in %.2f s = %.0f lines/s, %d errors\n",
           n, e - s, n / (e - s), err }'
