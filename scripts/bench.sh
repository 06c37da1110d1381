#!/usr/bin/env bash
# Benchmark: the whole postie process sending one small message to a local smtp-sink (Postfix's no-op
# server), timed with hyperfine, and its peak memory with /usr/bin/time. Loopback only.
# Usage: scripts/bench.sh [RUNS]   (installs hyperfine, postfix (for smtp-sink) and time when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
    echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

cargo build --release --locked -q
bin="$PWD/target/release/postie"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user_flag=()
[ "$(id -u)" -ne 0 ] || user_flag=(-u postfix)
/usr/sbin/smtp-sink "${user_flag[@]}" -c "127.0.0.1:$port" 256 </dev/null >/dev/null 2>&1 &
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

send=("$bin" send -q --server "127.0.0.1:$port" --from a@example.test
    --to b@example.test --subject bench --body one-small-message)
"${send[@]}"  # fail early if it does not work

echo "== postie send, one small message to smtp-sink on loopback ($runs runs)"
hyperfine -N --style none --warmup 20 --runs "$runs" --export-json /tmp/postie-bench.json "${send[*]}" >/dev/null
python3 - <<'PY'
import json, statistics
r = json.load(open("/tmp/postie-bench.json"))["results"][0]
times = sorted(t * 1000 for t in r["times"])
p95 = times[int(len(times) * 0.95) - 1]
print(f"median {r['median']*1000:.2f} ms   mean {r['mean']*1000:.2f} ms   min {r['min']*1000:.2f} ms   p95 {p95:.2f} ms")
PY

echo "== peak memory (max resident set size)"
/usr/bin/time -v "${send[@]}" 2>&1 | awk -F': ' '/Maximum resident set size/ {printf "%.1f MiB\n", $2/1024}'

if command -v curl >/dev/null; then
    echo "== for comparison: curl, same message"
    printf 'Subject: bench\r\n\r\none small message\r\n' > /tmp/postie-bench.eml
    hyperfine -N --style none --warmup 10 --runs "$runs" \
        "curl -s smtp://127.0.0.1:$port --mail-from a@example.test --mail-rcpt b@example.test -T /tmp/postie-bench.eml" \
        --export-json /tmp/postie-bench-curl.json >/dev/null
    python3 -c 'import json; r = json.load(open("/tmp/postie-bench-curl.json"))["results"][0]; print("median %.2f ms" % (r["median"] * 1000))'
fi

echo "== peak memory sending a 200 MiB attachment (target: below 1.5x its size)"
big=$(mktemp /tmp/postie-bench-XXXXXX.bin)
trap 'kill $sink 2>/dev/null || true; rm -f "$big"' EXIT
head -c 209715200 /dev/urandom > "$big"
for mode in "--attach $big" "--data $big" "--bdat --attach $big"; do
    rss=$(/usr/bin/time -v "$bin" send -q --server "127.0.0.1:$port" --to b@example.test $mode 2>&1 \
        | awk -F': ' '/Maximum resident set size/ {print $2}')
    echo "$mode: $(awk -v k="$rss" 'BEGIN {printf "%.1f MiB (%.2fx of 200 MiB)", k/1024, k/1024/200}')" | sed "s|$big|FILE|"
done
