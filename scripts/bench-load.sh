#!/usr/bin/env bash
# postie load beside Postfix's smtp-source, in one go on the same smtp-sink (loopback, a port chosen now):
# 1 and 4 sessions, a new connection per message and reused connections (smtp-source -d; postie
# --per-connection), COUNT messages each (default 20000), ROUNDS times over (default 3, the two tools taking
# turns) so a busy moment of this shared machine does not decide a ratio: each cell is the median of its rounds.
#
# Beside each rate: the CPU time smtp-sink spent per message, and how busy the whole machine was during the
# run (all CPUs). A configuration whose runs keep every CPU busy is bounded by the machine (sink, kernel and
# client together), not by how the client talks. Then the ceilings: the highest rate smtp-source reaches
# against this sink with 4, 8 and 16 sessions, reused and new connections.
#
# Usage: scripts/bench-load.sh [COUNT] [POSTIE] [ROUNDS]     (POSTIE defaults to target/release/postie)
# Run by scripts/bench.sh as its last section; needs postfix (smtp-sink, smtp-source) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-20000}"
bin="${2:-$PWD/target/release/postie}"
rounds="${3:-3}"
[[ "$count" =~ ^[0-9]+$ && "$count" -ge 100 ]] || { echo "usage: $0 [COUNT>=100] [POSTIE] [ROUNDS>=1]" >&2; exit 64; }
[[ "$rounds" =~ ^[0-9]+$ && "$rounds" -ge 1 ]] || { echo "usage: $0 [COUNT>=100] [POSTIE] [ROUNDS>=1]" >&2; exit 64; }
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

# One command that sends $count messages: "RATE SINK_US BUSY" (messages/s, smtp-sink's CPU µs per message,
# the machine's busy share in percent).
measure() {
    python3 - "$sink" "$count" "$@" <<'EOF'
import os, subprocess, sys, time
sink, count, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
tick = os.sysconf("SC_CLK_TCK")
def sink_cpu():
    fields = open(f"/proc/{sink}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
def machine():
    values = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)
s0, (b0, t0), w0 = sink_cpu(), machine(), time.monotonic()
done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
w1, (b1, t1), s1 = time.monotonic(), machine(), sink_cpu()
if done.returncode != 0:
    sys.exit(f"failed ({done.returncode}): {' '.join(command)}")
print(f"{count / (w1 - w0):.0f} {(s1 - s0) * 1e6 / count:.0f} {100 * (b1 - b0) / max(t1 - t0, 1):.0f}")
EOF
}

source_run() {  # sessions, reuse (yes/no)
    local reuse=()
    [ "$2" = yes ] && reuse=(-d)
    measure /usr/sbin/smtp-source -s "$1" -m "$count" "${reuse[@]}" -f load@example.test -t sink@example.test \
        "127.0.0.1:$port"
}
postie_run() {  # sessions, reuse (yes/no)
    local per=1
    [ "$2" = yes ] && per="$count"
    measure "$bin" load --no-config --server "127.0.0.1:$port" --from load@example.test --to sink@example.test \
        --count "$count" --concurrency "$1" --per-connection "$per" -q
}

# The median of the rounds' lines, column by column (each column on its own: the cells are medians).
median() {
    python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
print(" ".join(f"{statistics.median(column):.0f}" for column in zip(*rows)))'
}

echo "== postie load vs smtp-source: $count messages each to smtp-sink on 127.0.0.1:$port; $(nproc) CPUs," \
    "load $(cut -d' ' -f1-3 /proc/loadavg); median of $rounds rounds"
printf '%-34s %13s %9s %5s %13s %9s %5s %7s\n' "configuration" "smtp-source/s" "sink µs" "busy" \
    "postie/s" "sink µs" "busy" "ratio"
declare -A postie_rate
for sessions in 1 4; do
    for reuse in no yes; do
        source_rounds="" postie_rounds=""
        for _ in $(seq "$rounds"); do
            source_rounds+="$(source_run "$sessions" "$reuse")"$'\n'
            postie_rounds+="$(postie_run "$sessions" "$reuse")"$'\n'
        done
        read -r s s_sink s_busy <<<"$(median <<<"$source_rounds")"
        read -r p p_sink p_busy <<<"$(median <<<"$postie_rounds")"
        postie_rate["$sessions $reuse"]=$p
        what="$sessions session(s), $([ "$reuse" = yes ] && echo reused || echo new) connections"
        printf '%-34s %13s %9s %4s%% %13s %9s %4s%% %7s\n' "$what" "$s" "$s_sink" "$s_busy" "$p" "$p_sink" \
            "$p_busy" "$(python3 -c "print(f'{$p / $s:.2f}')")"
    done
done
for reuse in yes no; do
    best=0
    line=""
    for sessions in 4 8 16; do
        read -r s _ busy <<<"$(source_run "$sessions" "$reuse")"
        line+="  $sessions: $s/s (busy $busy%)"
        best=$(python3 -c "print(max($best, $s))")
    done
    kind=$([ "$reuse" = yes ] && echo reused || echo new)
    echo "smtp-source, $kind connections:$line; best $best/s"
    # Where the sink is the limit, the issue's fallback: postie's four sessions against that ceiling.
    echo "  postie, 4 sessions, $kind connections, against that best: $(python3 -c \
        "print(f'{${postie_rate["4 $reuse"]} / $best:.2f}')")x"
done
