#!/usr/bin/env bash
# Run every test suite and end with one line: `N passed, M failed`.
#
# Suites: the cmocka unit tests (normal and ASan+UBSan builds; the store's on
# SQLite and on a PostgreSQL server started here), the end-to-end tests of the
# real binary (some again on PostgreSQL), the differential tests of `cron
# next`, and a replay of every fuzz target's checked-in corpus.  Each cmocka
# test case counts as one; each PASS:/FAIL: line of a script counts as one.  A
# suite that dies without a summary (a sanitizer abort, a crash) counts as a
# failure.
set -uo pipefail
cd "$(dirname "$0")/.."

# The e2e suites that run on PostgreSQL too (they take OVSCHED_TEST_STORE;
# test_cli_contract and test_cli_cron start no daemon, the browser tests are
# JavaScript and start theirs without the hook yet, test_security checks the
# SQLite file in the data folder; docs/storage.md).
PG_E2E_SUITES="test_daemon test_auth test_events test_patterns test_cli test_graph"

logs=build/test-logs
rm -rf "$logs" && mkdir -p "$logs"
passed=0
failed=0

show_log() {
    echo "---- last lines of $1 ----"
    tail -n 40 "$1"
    echo "----"
}

# run_cmocka NAME BINARY [ENV...]
run_cmocka() {
    local name=$1 bin=$2 log="$logs/${1//\//_}.log"
    shift 2
    env "$@" "$bin" >"$log" 2>&1
    local rc=$?
    local ok bad
    # A binary may run several groups (the store's: one per backend): sum them.
    ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$bad" -eq 0 ]; then
        echo "PASS: $name ($ok tests)"
    else
        echo "FAIL: $name ($bad of $((ok + bad)) failed, log $log)"
        show_log "$log"
    fi
}

# run_script NAME COMMAND...: counts the PASS:/FAIL: lines the script prints.
run_script() {
    local name=$1 log="$logs/${1//\//_}.log"
    shift
    "$@" >"$log" 2>&1
    local rc=$?
    local ok bad
    ok=$(grep -c '^PASS: ' "$log")
    bad=$(grep -c '^FAIL: ' "$log")
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    if [ "$bad" -eq 0 ]; then
        echo "PASS: $name ($ok checks)"
    else
        echo "FAIL: $name ($bad failed, log $log)"
        grep '^FAIL: ' "$log" | head -n 20
        show_log "$log"
    fi
}

start=$(date +%s)

# One throwaway PostgreSQL 15 for every suite that runs on it (the store's
# unit tests, the e2e suites with OVSCHED_TEST_STORE=postgres): started here,
# stopped and removed at the end, also on failure or Ctrl-C.
pg_env=$(/usr/bin/python3 tests/lib/pgserver.py start) || {
    echo "FAIL: cannot start PostgreSQL (tests/lib/pgserver.py start)"
    echo "0 passed, 1 failed"
    exit 1
}
eval "export $(echo "$pg_env" | tr '\n' ' ')"
stop_pg() { /usr/bin/python3 tests/lib/pgserver.py stop "$OVSCHED_TEST_PG_DIR"; }
trap stop_pg EXIT
trap 'exit 130' INT TERM

for bin in build/tests/*/test_*; do
    run_cmocka "unit/${bin#build/tests/}" "$bin"
done

# The sanitizer build runs every unit test again, leaks included.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for bin in build/san/tests/*/test_*; do
    run_cmocka "asan/${bin#build/san/tests/}" "$bin"
done

for script in tests/e2e/test_*.sh tests/e2e/test_*.py; do
    runner=()
    case "$script" in *.py) runner=(/usr/bin/python3) ;; esac
    name=$(basename "${script%.*}")
    run_script "e2e/$name" "${runner[@]}" "$script" build/ovsched
    run_script "e2e-asan/$name" "${runner[@]}" "$script" build/san/ovsched
done

# The e2e suites that take OVSCHED_TEST_STORE, again on PostgreSQL (every
# data folder gets its own database on the server above; docs/storage.md).
for name in $PG_E2E_SUITES; do
    run_script "e2e-pg/$name" env OVSCHED_TEST_STORE=postgres /usr/bin/python3 \
        "tests/e2e/$name.py" build/ovsched
done

# The web UI in headless chromium against the real daemon (docs/ui.md); the
# screenshots land in build/test-artifacts/.
for script in tests/browser/test_*.mjs; do
    run_script "browser/$(basename "${script%.*}")" node "$script" build/ovsched
    run_script "browser-asan/$(basename "${script%.*}")" node "$script" build/san/ovsched
done

run_script "diff/croniter" /usr/bin/python3 tests/diff/test_croniter.py --bin build/ovsched
run_script "diff/cron-brute" /usr/bin/python3 tests/diff/test_cron_brute.py --bin build/ovsched

# Every fuzz target over its checked-in corpus, each input once: no random
# search here (that is make fuzz), so the result is the same on every run.
run_script "fuzz" tests/fuzz/run.sh replay

echo "test time: $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
