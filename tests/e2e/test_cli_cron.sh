#!/usr/bin/env bash
# End to end: `ovsched cron next` as a user and a script run it, on the real
# binary given as $1.  Prints one PASS:/FAIL: line per check.
set -uo pipefail
bin=${1:-build/ovsched}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # check NAME EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then
        echo "PASS: $1"
    else
        echo "FAIL: $1"
        printf '  expected: %s\n  actual:   %s\n' "$2" "$3"
    fi
}

contains() { # contains NAME NEEDLE HAYSTACK
    case "$3" in
    *"$2"*) echo "PASS: $1" ;;
    *) printf 'FAIL: %s\n  %s\n  not in: %s\n' "$1" "$2" "$3" ;;
    esac
}

# The seed's weekly report, Mondays 09:00 in New York, across the March change.
out=$("$bin" cron next "0 9 * * 1" --tz America/New_York --from 2026-03-01T00:00:00Z -n 3)
check "seed example: next three Mondays" \
    "2026-03-02T14:00:00Z 2026-03-09T13:00:00Z 2026-03-16T13:00:00Z" \
    "$(echo "$out" | awk '{print $1}' | xargs)"
contains "local time and zone abbreviation shown" "2026-03-09 09:00:00 EDT" "$out"

out=$("$bin" cron next "30 2 * * *" --tz America/New_York --from 2026-03-07T12:00:00Z -n 2 --explain)
contains "--explain names the DST shift" \
    "02:30 does not exist on 2026-03-08 in America/New_York: fires at 03:00 EDT" "$out"

out=$("$bin" cron next "30 2 * * *" --tz America/New_York --from 2026-03-07T12:00:00Z -n 1 \
    --on-gap skip)
contains "--on-gap skip drops the slot in the gap" "2026-03-09T06:30:00Z" "$out"

out=$("$bin" cron next "CRON_TZ=Asia/Tokyo 0 9 * * *" --tz America/New_York \
    --from 2026-01-01T00:00:00Z -n 1)
contains "CRON_TZ= prefix wins over --tz" "2026-01-02T00:00:00Z" "$out"

err=$("$bin" cron next "0 0 32 * *" 2>&1 >/dev/null)
rc=$?
check "bad expression exits 1" 1 "$rc"
contains "bad expression names field, reason and offset" \
    "field 3 (day of month): 32 is out of range 1-31 (at offset 4)" "$err"

err=$("$bin" cron next "0 0 * * *" --tz Mars/Olympus_Mons 2>&1 >/dev/null)
check "unknown zone exits 1" 1 "$?"
contains "unknown zone is named" "unknown time zone 'Mars/Olympus_Mons'" "$err"

err=$("$bin" cron next "0 0 30 2 *" 2>&1 >/dev/null)
contains "never-firing expression is refused" "never fires" "$err"

"$bin" cron next "0 0 * * *" -n 0 >/dev/null 2>&1
check "bad -n is a usage error" 2 "$?"
"$bin" cron next "0 0 * * *" --from yesterday >/dev/null 2>&1
check "bad --from is a usage error" 2 "$?"
"$bin" frobnicate >/dev/null 2>&1
check "unknown command is a usage error" 2 "$?"

# Batch mode: one answer per line, in order, whatever the line holds.
cat >"$tmp/in.jsonl" <<'JSONL'
{"expr": "0 2 * * *", "tz": "America/New_York", "from": "2026-03-08T01:30:00Z", "n": 2}
{"expr": "0 0 32 * *"}
not json at all

{"expr": "@every 90s", "from": "2026-01-01T00:00:00Z", "n": 2}
{"expr": "0 0 * * *", "tz": "Mars/Base"}
{"expr": "30 1 * * *", "tz": "America/New_York", "from": "2026-10-31T12:00:00Z", "n": 2, "dst_policy": {"on_overlap": "both"}}
{"expr": "30 2 * * *", "tz": "America/New_York", "from": "2026-03-07T12:00:00Z", "n": 1, "explain": true}
{"expr": 5}
{"expr": "0 0 * * *", "n": 100000}
[1, 2]
JSONL
"$bin" cron next <"$tmp/in.jsonl" >"$tmp/out.jsonl"
check "batch: exit status 0" 0 "$?"
check "batch: one line out per line in" "$(wc -l <"$tmp/in.jsonl")" "$(wc -l <"$tmp/out.jsonl")"
line() { sed -n "${1}p" "$tmp/out.jsonl"; }
check "batch: DST shift in UTC" '{"times":["2026-03-08T07:00:00Z","2026-03-09T06:00:00Z"]}' "$(line 1)"
check "batch: expression error" \
    '{"error":"expr: field 3 (day of month): 32 is out of range 1-31 (at offset 4)"}' "$(line 2)"
contains "batch: invalid JSON" '{"error":"invalid JSON' "$(line 3)"
check "batch: empty line answered" '{"error":"empty line: expected a JSON request"}' "$(line 4)"
check "batch: @every from the anchor" '{"times":["2026-01-01T00:01:30Z","2026-01-01T00:03:00Z"]}' \
    "$(line 5)"
check "batch: unknown zone" '{"error":"tz: unknown time zone '"'"'Mars/Base'"'"'"}' "$(line 6)"
check "batch: dst_policy both" '{"times":["2026-11-01T05:30:00Z","2026-11-01T06:30:00Z"]}' \
    "$(line 7)"
contains "batch: explain notes" '"notes":["02:30 does not exist on 2026-03-08 in America/New_York: fires at 03:00 EDT"]' "$(line 8)"
check "batch: expr must be a string" '{"error":"expr: required, a string"}' "$(line 9)"
check "batch: n is bounded" '{"error":"n: must be an integer 0-10000"}' "$(line 10)"
check "batch: request must be an object" '{"error":"request: must be a JSON object"}' "$(line 11)"

# Volume: 20,000 lines in, 20,000 answers out, in order.
for i in $(seq 1 20000); do
    echo "{\"expr\": \"$((i % 60)) 9 * * *\", \"tz\": \"Europe/Paris\", \"from\": \"2026-06-01T00:00:00Z\", \"n\": 1}"
done >"$tmp/many.jsonl"
"$bin" cron next <"$tmp/many.jsonl" >"$tmp/many.out"
check "batch: 20000 answers" 20000 "$(wc -l <"$tmp/many.out")"
check "batch: answers stay in order" '{"times":["2026-06-01T07:07:00Z"]}' "$(sed -n 7p "$tmp/many.out")"
