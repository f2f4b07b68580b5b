#!/usr/bin/env bash
# Run every libFuzzer target built in build/fuzz for FUZZ_SECONDS seconds each
# (default 20), one after the other.  `make test` calls this with about 15,
# `make fuzz` with 300.
#
# Each target starts from its seed corpus (tests/fuzz/corpus/<name>/), copied to
# a temporary folder so that nothing is ever written into the repository, and
# uses tests/fuzz/<name>.dict when there is one.  Prints one line per target,
# `PASS: fuzz <name>` or `FAIL: fuzz <name> ...` with the input that failed, and
# exits non-zero if any failed.  A failing target's folder (log, crash input,
# grown corpus) is kept and named; everything else is removed.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2
seconds=${FUZZ_SECONDS:-20}
build=build/fuzz

if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "FAIL: fuzz: FUZZ_SECONDS must be a whole number of seconds, got '$seconds'"
    exit 2
fi

targets=()
for bin in "$build"/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] && targets+=("$bin")
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "FAIL: fuzz: no targets in $build (run make fuzz-build first)"
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ovsched-fuzz.XXXXXX") || exit 2
keep=0
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    if [ "$keep" -eq 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

# Longest input worth trying per target: cron expressions and timestamps are short.
max_len_of() {
    case "$1" in
    fuzz_cron_*) echo 256 ;;
    fuzz_timefmt) echo 128 ;;
    fuzz_job_doc) echo 1024 ;;
    fuzz_crontab) echo 2048 ;;
    fuzz_events_filter) echo 512 ;;
    *) echo 4096 ;;
    esac
}

failed=0
for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    dir="$work/$name"
    mkdir -p "$dir/corpus" "$dir/artifacts"
    [ -d "tests/fuzz/corpus/$name" ] && cp -R "tests/fuzz/corpus/$name/." "$dir/corpus/"
    args=(-max_total_time="$seconds" -max_len="$(max_len_of "$name")" -timeout=10
          -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="$PWD/tests/fuzz/$name.dict")

    # libFuzzer writes only into the temporary folder: run it from there.
    (cd "$dir" && exec "$OLDPWD/$bin" "${args[@]}" corpus) >"$dir/log" 2>&1
    status=$?
    crash=$(find "$dir/artifacts" -type f 2>/dev/null | head -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
    if [ "$status" -eq 0 ] && [ -z "$crash" ]; then
        echo "PASS: fuzz $name (${runs:-?} inputs in ${seconds}s)"
        rm -rf "$dir"
    else
        failed=1
        keep=1
        echo "FAIL: fuzz $name (exit $status) crash file: ${crash:-none}; log: $dir/log"
        grep -m 3 -E 'invariant violated|ERROR: |runtime error|SUMMARY' "$dir/log" | sed 's/^/    /'
        if [ -n "$crash" ]; then
            echo "    input (hex): $(od -An -tx1 -v "$crash" | tr -d ' \n' | head -c 600)"
            echo "    reproduce: $bin $crash"
        fi
    fi
done
exit "$failed"
