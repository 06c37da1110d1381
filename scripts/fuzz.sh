#!/usr/bin/env bash
# Fuzz postie's parsers and checks: every target in fuzz/ runs for SECONDS (default 60), then one line per
# target gives the executions, the seconds and the findings (inputs that made a check fail or panic).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Runs under nice: the machine is
# shared. The committed seeds in fuzz/corpus/TARGET are read, never written; what libFuzzer learns goes to
# fuzz/work/TARGET and is kept for the next run. A finding is saved in fuzz/artifacts/TARGET: make it a
# regression test in the normal test suite, then fix it.
#
# The targets are built without a sanitizer (FUZZ_SANITIZER=address to add ASan): the code under test is
# safe Rust, so ASan mostly costs speed; debug assertions (overflow checks) are on.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
all_targets=(reply ehlo codec address recipients flags client tlsa sts tlsrpt socks server)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
sanitizer="${FUZZ_SANITIZER:-none}"
build=(cargo +nightly fuzz build --debug-assertions --sanitizer "$sanitizer")

command -v cargo-fuzz >/dev/null || { echo "scripts/fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 2; }
mkdir -p work
for target in "${targets[@]}"; do
    if ! nice -n 10 "${build[@]}" "$target" >work/build.log 2>&1; then
        tail -30 work/build.log >&2
        echo "scripts/fuzz.sh: building $target failed (whole log: fuzz/work/build.log)" >&2
        exit 2
    fi
done

max_len() {
    case "$1" in
        # Past the reply parser's line limit (8192), so that LineTooLong is reached.
        reply | ehlo) echo 12288 ;;
        *) echo 4096 ;;
    esac
}

total_findings=0
report=()
for target in "${targets[@]}"; do
    mkdir -p "work/$target" "artifacts/$target"
    before=$(find "artifacts/$target" -type f | wc -l)
    log="work/$target.log"
    start=$(date +%s)
    set +e
    nice -n 10 cargo +nightly fuzz run --debug-assertions --sanitizer "$sanitizer" "$target" \
        "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1
    status=$?
    set -e
    elapsed=$(($(date +%s) - start))
    executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    after=$(find "artifacts/$target" -type f | wc -l)
    findings=$((after - before))
    if [ "$status" -ne 0 ] && [ "$findings" -eq 0 ]; then
        findings=1 # a crash libFuzzer could not save, or a broken run: see the log
    fi
    total_findings=$((total_findings + findings))
    report+=("$(printf '%-11s %13s %8s %9s   %s' "$target" "${executions:-?}" "$elapsed" "$findings" "$log")")
    if [ "$findings" -ne 0 ]; then
        grep -E 'panicked at|^SUMMARY|Test unit written' "$log" | sed "s/^/    $target: /" >&2 || true
    fi
done

printf '%-11s %13s %8s %9s   %s\n' target executions seconds findings log
printf '%s\n' "${report[@]}"
[ "$total_findings" -eq 0 ]
