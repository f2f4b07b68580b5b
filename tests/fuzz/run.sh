#!/usr/bin/env bash
# The libFuzzer targets built in build/fuzz, in one of three modes
# (docs/building.md, "Fuzzing"):
#
#   run.sh replay    `make check`: run every target once over each file of its
#                    checked-in corpus, tests/fuzz/corpus/<target>/ (seeds and
#                    every crash or regression input found so far), named
#                    explicitly and in sorted order.  No mutation, no random
#                    seed, no time budget: the same inputs every run, on every
#                    machine.  One line per target, `PASS: fuzz-replay <target>`
#                    or `FAIL: ...` with the input that failed.
#   run.sh search    `make fuzz`: the open-ended search, FUZZ_SECONDS (default
#                    300) per target, or FUZZ_RUNS executions per target when
#                    set.  Starts from the corpus, copied, so nothing is written
#                    into the repository; what the search adds is kept in
#                    build/fuzz-found/<target>/ for `run.sh merge`, and crashes
#                    in build/fuzz-found/<target>-crashes/.  Prints how to keep
#                    what it found.
#   run.sh merge     `make fuzz-merge`: add to tests/fuzz/corpus/<target>/ the
#                    inputs of build/fuzz-found/<target>/ that reach code the
#                    corpus does not (libFuzzer -merge=1, which also prefers
#                    the smaller of two inputs with the same coverage).
#
# FUZZ_TARGETS="fuzz_a fuzz_b" limits any mode to those targets.  Targets run one
# after the other, one process each: the machine is shared.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2
mode=${1:-replay}
build=build/fuzz
found=build/fuzz-found

targets=()
for bin in "$build"/fuzz_*; do
    if ! [ -f "$bin" ] || ! [ -x "$bin" ]; then continue; fi
    name=$(basename "$bin")
    if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then
        continue
    fi
    targets+=("$name")
done
if [ ${#targets[@]} -eq 0 ]; then
    echo "FAIL: fuzz: no targets in $build (run make fuzz-build first)"
    exit 1
fi

# Longest input worth trying per target in the search: cron expressions and
# timestamps are short.  The replay runs every corpus file whole, whatever its size.
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

# Options every mode shares.  -timeout only guards against a hang (an input takes
# milliseconds); -report_slow_units is raised so that a slow machine never writes
# a "slow-unit" file, which says nothing about the code.
common_args() {
    echo -timeout=300 -rss_limit_mb=2048 -report_slow_units=100000
}

# Print the first lines of LOG that say what went wrong.
show_failure() {
    grep -m 3 -E 'invariant violated|ERROR: |runtime error|SUMMARY' "$1" | sed 's/^/    /'
}

replay_one() {
    local name=$1 corpus="tests/fuzz/corpus/$1" log
    local files=()
    if [ -d "$corpus" ]; then
        while IFS= read -r -d '' f; do files+=("$f"); done \
            < <(find "$corpus" -type f -print0 | LC_ALL=C sort -z)
    fi
    if [ ${#files[@]} -eq 0 ]; then
        echo "FAIL: fuzz-replay $name: no corpus in $corpus"
        return 1
    fi
    log=$(mktemp "${TMPDIR:-/tmp}/ovsched-replay.XXXXXX") || return 2
    # shellcheck disable=SC2046 # common_args is a list of words
    (cd "$work" && exec "$OLDPWD/$build/$name" $(common_args) \
        -artifact_prefix="$work/" "${files[@]/#/$OLDPWD/}") >"$log" 2>&1
    local status=$?
    local ran
    ran=$(grep -c '^Executed ' "$log")
    if [ "$status" -eq 0 ] && [ "$ran" -eq ${#files[@]} ]; then
        echo "PASS: fuzz-replay $name (${#files[@]} inputs)"
        rm -f "$log"
        return 0
    fi
    local input
    input=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
    echo "FAIL: fuzz-replay $name (exit $status, $ran of ${#files[@]} inputs ran) input: ${input:-?}; log: $log"
    show_failure "$log"
    echo "    reproduce: $build/$name ${input:-<input>}"
    return 1
}

search_one() {
    local name=$1 dir="$work/$1"
    mkdir -p "$dir/corpus" "$dir/artifacts" "$found/$name"
    [ -d "tests/fuzz/corpus/$name" ] && cp -R "tests/fuzz/corpus/$name/." "$dir/corpus/"
    local args
    # shellcheck disable=SC2207 # common_args is a list of words
    args=($(common_args) -max_len="$(max_len_of "$name")" -print_final_stats=1
          -artifact_prefix="$dir/artifacts/")
    if [ -n "${FUZZ_RUNS:-}" ]; then
        args+=(-runs="$FUZZ_RUNS")
    else
        args+=(-max_total_time="$seconds")
    fi
    [ -n "${FUZZ_SEED:-}" ] && args+=(-seed="$FUZZ_SEED")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="$PWD/tests/fuzz/$name.dict")

    # libFuzzer writes only into the temporary folder: run it from there.
    (cd "$dir" && exec "$OLDPWD/$build/$name" "${args[@]}" corpus) >"$dir/log" 2>&1
    local status=$?
    local runs elapsed
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
    elapsed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$dir/log" | tail -n 1)
    # What the search added to the corpus, for `run.sh merge`.
    cp -R "$dir/corpus/." "$found/$name/"
    local crashes
    crashes=$(find "$dir/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' \
        -o -name 'timeout-*' \) 2>/dev/null)
    if [ "$status" -eq 0 ] && [ -z "$crashes" ]; then
        echo "PASS: fuzz $name (${runs:-?} executions in ${elapsed:-?} s)"
        return 0
    fi
    if [ "$status" -eq 72 ] && [ -z "$crashes" ]; then # libFuzzer's exit after SIGINT
        echo "STOPPED: fuzz $name (interrupted after ${runs:-?} executions, nothing found)"
        return 0
    fi
    mkdir -p "$found/$name-crashes"
    cp "$dir/log" "$found/$name-crashes/log"
    echo "FAIL: fuzz $name (exit $status, ${runs:-?} executions); log: $found/$name-crashes/log"
    show_failure "$dir/log"
    local c
    for c in $crashes; do
        cp "$c" "$found/$name-crashes/"
        echo "    input: $found/$name-crashes/$(basename "$c")"
        echo "    reproduce: $build/$name $found/$name-crashes/$(basename "$c")"
        echo "    once fixed, keep it: cp $found/$name-crashes/$(basename "$c")" \
            "tests/fuzz/corpus/$name/regression-<what-it-was>"
    done
    return 1
}

merge_one() {
    local name=$1 corpus="tests/fuzz/corpus/$1"
    if [ ! -d "$found/$name" ]; then
        echo "skip: $name (nothing in $found/$name: run make fuzz first)"
        return 0
    fi
    mkdir -p "$corpus"
    local before after
    before=$(find "$corpus" -type f | wc -l)
    # shellcheck disable=SC2046 # common_args is a list of words
    (cd "$work" && exec "$OLDPWD/$build/$name" $(common_args) -merge=1 \
        -max_len="$(max_len_of "$name")" "$OLDPWD/$corpus" "$OLDPWD/$found/$name") \
        >"$work/$name.merge.log" 2>&1 || {
        echo "FAIL: merge $name; log: $work/$name.merge.log"
        keep=1
        return 1
    }
    after=$(find "$corpus" -type f | wc -l)
    echo "merged: $name: $((after - before)) new inputs in $corpus"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ovsched-fuzz.XXXXXX") || exit 2
keep=0
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    if [ "$keep" -eq 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

failed=0
case "$mode" in
replay)
    for name in "${targets[@]}"; do
        replay_one "$name" || failed=1
    done
    ;;
search)
    seconds=${FUZZ_SECONDS:-300}
    if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
        echo "FAIL: fuzz: FUZZ_SECONDS must be a whole number of seconds, got '$seconds'"
        exit 2
    fi
    if [ -n "${FUZZ_RUNS:-}" ] && ! [[ $FUZZ_RUNS =~ ^[0-9]+$ ]]; then
        echo "FAIL: fuzz: FUZZ_RUNS must be a whole number of executions, got '$FUZZ_RUNS'"
        exit 2
    fi
    for name in "${targets[@]}"; do
        search_one "$name" || failed=1
    done
    echo
    echo "To keep what this search found:"
    echo "  - new coverage: make fuzz-merge (adds the inputs of $found/<target>/ that reach"
    echo "    new code to tests/fuzz/corpus/<target>/, minimised); review and commit them;"
    echo "  - a crash: fix it, then copy the input to tests/fuzz/corpus/<target>/regression-<name>"
    echo "    (and, for a real bug, add a unit test); make check replays it from then on."
    ;;
merge)
    for name in "${targets[@]}"; do
        merge_one "$name" || failed=1
    done
    ;;
*)
    echo "usage: tests/fuzz/run.sh [replay|search|merge]" >&2
    exit 2
    ;;
esac
exit "$failed"
