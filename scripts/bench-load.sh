#!/usr/bin/env bash
# postie load beside Postfix's smtp-source, in one go on the same smtp-sink (loopback, a port chosen now):
# 1 and 4 sessions, a new connection per message and reused connections (smtp-source -d; postie
# --per-connection), COUNT messages each (default 20000). Prints messages/s for each and the four ratios,
# and the highest rate smtp-source reached against this sink with 4, 8 and 16 reused sessions (the sink's
# own ceiling, for the case where it is the limit).
#
# Usage: scripts/bench-load.sh [COUNT] [POSTIE]     (POSTIE defaults to target/release/postie)
# Run by scripts/bench.sh as its last section; needs postfix (smtp-sink, smtp-source) installed.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-20000}"
bin="${2:-$PWD/target/release/postie}"
[[ "$count" =~ ^[0-9]+$ && "$count" -ge 100 ]] || { echo "usage: $0 [COUNT>=100] [POSTIE]" >&2; exit 64; }
[ -x "$bin" ] || { echo "$bin: build it first (cargo build --release)" >&2; exit 66; }
for tool in /usr/sbin/smtp-sink /usr/sbin/smtp-source; do
    [ -x "$tool" ] || { echo "$tool is missing: install postfix" >&2; exit 69; }
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user_flag=()
[ "$(id -u)" -ne 0 ] || user_flag=(-u postfix)
/usr/sbin/smtp-sink "${user_flag[@]}" "127.0.0.1:$port" 1024 </dev/null >/dev/null 2>&1 &
sink=$!
trap 'kill $sink 2>/dev/null; wait $sink 2>/dev/null' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

# Messages per second of one command that sends $count messages.
rate() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 70; }
    end=$(date +%s.%N)
    python3 -c "print(f'{$count / ($end - $start):.0f}')"
}

source_run() {  # sessions, reuse (yes/no)
    local reuse=()
    [ "$2" = yes ] && reuse=(-d)
    rate /usr/sbin/smtp-source -s "$1" -m "$count" "${reuse[@]}" -f load@example.test -t sink@example.test \
        "127.0.0.1:$port"
}
postie_run() {  # sessions, reuse (yes/no)
    local per=1
    [ "$2" = yes ] && per="$count"
    rate "$bin" load --no-config --server "127.0.0.1:$port" --from load@example.test --to sink@example.test \
        --count "$count" --concurrency "$1" --per-connection "$per" -q
}

echo "== postie load vs smtp-source: $count messages each to smtp-sink on 127.0.0.1:$port; $(nproc) CPUs," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %14s %14s %8s\n' "configuration" "smtp-source/s" "postie/s" "ratio"
for sessions in 1 4; do
    for reuse in no yes; do
        s=$(source_run "$sessions" "$reuse")
        p=$(postie_run "$sessions" "$reuse")
        what="$sessions session(s), $([ "$reuse" = yes ] && echo reused || echo new) connections"
        printf '%-34s %14s %14s %8s\n' "$what" "$s" "$p" "$(python3 -c "print(f'{$p / $s:.2f}')")"
    done
done
best=0
for sessions in 4 8 16; do
    s=$(source_run "$sessions" yes)
    echo "  smtp-source, $sessions reused sessions: $s/s"
    best=$(python3 -c "print(max($best, $s))")
done
echo "  the sink's ceiling as smtp-source finds it: $best/s"
