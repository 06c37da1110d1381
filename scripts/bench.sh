#!/usr/bin/env bash
# Benchmark the whole postie process beside a peer tool, each pair in the same hyperfine run (median, p90):
#   1. one small message, plaintext, to smtp-sink (Postfix's no-op server), beside curl;
#   2. the same message with STARTTLS to a private Postfix, beside curl --ssl-reqd;
#   3. the same with implicit TLS (smtpd_tls_wrappermode=yes), beside curl smtps://;
#   4. postie probe of a domain with two MX hosts (dnsmasq on loopback; both MX are the Postfix STARTTLS
#      listener, on 127.0.0.1 and 127.0.0.2), beside postie probe of that listener as one HOST:PORT;
# then peak memory (/usr/bin/time) for the small message, and peak memory and wall time for 200 MiB sent
# with --attach, --data FILE and --data - (a pipe) to smtp-sink, beside curl sending the same bytes.
# With a second binary, every timed run has it too (old and new postie side by side).
#
# Usage: scripts/bench.sh [RUNS] [BASELINE_POSTIE]     (RUNS defaults to 200)
# Loopback only: all servers start on ports chosen at run time and are stopped, and their temporary
# directory removed, on exit. Installs hyperfine, postfix, dnsmasq-base, curl, time and openssl when
# missing. The servers need root: run as root, or the measuring part re-runs itself under sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-200}"
baseline="${2:-}"
[[ "$runs" =~ ^[0-9]+$ && "$runs" -ge 2 ]] || { echo "usage: $0 [RUNS] [BASELINE_POSTIE]" >&2; exit 64; }
if [ -n "$baseline" ]; then
    [ -x "$baseline" ] || { echo "$baseline: not an executable" >&2; exit 66; }
    baseline=$(realpath "$baseline")
fi
bin="$PWD/target/release/postie"
if [ "$baseline" = "$(realpath -m "$bin")" ]; then
    echo "$baseline is the binary this script builds: copy the old one elsewhere first" >&2
    exit 64
fi

if [ -z "${POSTIE_BENCH_BUILT:-}" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    missing=()
    command -v hyperfine >/dev/null || missing+=(hyperfine)
    [ -x /usr/sbin/postfix ] && [ -x /usr/sbin/smtp-sink ] || missing+=(postfix)
    [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
    command -v curl >/dev/null || missing+=(curl)
    [ -x /usr/bin/time ] || missing+=(time)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v python3 >/dev/null || missing+=(python3)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
        $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
    fi
    nice -n 10 cargo build --release --locked -q
    if [ "$(id -u)" -ne 0 ]; then
        exec sudo env POSTIE_BENCH_BUILT=1 "$0" "$runs" ${baseline:+"$baseline"}
    fi
fi

tmp=$(mktemp -d /tmp/postie-bench-XXXXXX)
chmod 755 "$tmp"  # Postfix drops privileges and must reach its directories
pids=()
postfix_conf=""
cleanup() {
    set +e
    if [ -n "$postfix_conf" ]; then
        local master
        master=$(cat "$tmp/postfix/queue/pid/master.pid" 2>/dev/null | tr -d ' ')
        /usr/sbin/postfix -c "$postfix_conf" stop </dev/null >/dev/null 2>&1
        # The master is not our child: wait until it is gone (a zombie counts as gone).
        for _ in $(seq 100); do
            [ -n "$master" ] && [ -e "/proc/$master" ] || break
            [ "$(awk '{print $3}' "/proc/$master/stat" 2>/dev/null)" = Z ] && break
            sleep 0.05
        done
    fi
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports chosen now: smtp-sink, Postfix STARTTLS (free on both 127.0.0.1 and 127.0.0.2), Postfix implicit
# TLS, dnsmasq (UDP).
read -r sink_port starttls_port smtps_port dns_port < <(python3 - <<'PY'
import socket
held = []
def tcp(*ips):
    while True:
        socks = [socket.socket()]
        socks[0].bind((ips[0], 0))
        port = socks[0].getsockname()[1]
        try:
            for ip in ips[1:]:
                socks.append(socket.socket())
                socks[-1].bind((ip, port))
        except OSError:
            for s in socks:
                s.close()
            continue
        held.extend(socks)
        return port
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
print(tcp("127.0.0.1"), tcp("127.0.0.1", "127.0.0.2"), tcp("127.0.0.1"), udp.getsockname()[1])
PY
)

wait_tcp() {  # wait_tcp WHAT IP PORT
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/$2/$3") 2>/dev/null && return 0
        sleep 0.05
    done
    # A port chosen above can be taken by another program before the server binds it: run again then.
    echo "$1: nothing listens on $2:$3 after 10 s" >&2
    [ "$1" != Postfix ] || tail -5 "$pf/log/maillog" >&2
    exit 1
}

# --- smtp-sink (case 1 and the memory figures)
user_flag=()
[ "$(id -u)" -ne 0 ] || user_flag=(-u postfix)
/usr/sbin/smtp-sink "${user_flag[@]}" -c "127.0.0.1:$sink_port" 256 </dev/null >/dev/null 2>&1 &
sink_pid=$!
pids+=("$sink_pid")

# --- a test CA and a server certificate for the MX names and both addresses
certs="$tmp/certs"
mkdir -p "$certs"
cat >"$certs/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = postie bench CA
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx1.bench.test, DNS:mx2.bench.test, IP:127.0.0.1, IP:127.0.0.2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
(
    cd "$certs"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key 2>/dev/null
    openssl req -x509 -config openssl.cnf -extensions ca_ext -key ca.key -days 365 -out ca.pem
    openssl req -new -config openssl.cnf -key server.key -subj /CN=mx1.bench.test -out server.csr
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 365 \
        -extfile openssl.cnf -extensions leaf_ext -out server.pem 2>/dev/null
    openssl verify -CAfile ca.pem -purpose sslserver server.pem >/dev/null
)
ca="$certs/ca.pem"

# --- a private Postfix: STARTTLS on 127.0.0.1 and 127.0.0.2, implicit TLS on 127.0.0.1; mail for
# example.test is accepted (250 after the dot) and discarded; nothing can leave the machine.
pf="$tmp/postfix"
for dir in conf queue data meta log; do mkdir -p "$pf/$dir"; done
cp /etc/postfix/postfix-files /etc/postfix/dynamicmaps.cf "$pf/meta/"
chown postfix: "$pf/data"
cat >"$pf/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
meta_directory = $pf/meta
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.test
mydomain = bench.test
myorigin = bench.test
mydestination = example.test
local_recipient_maps =
local_transport = discard
alias_maps =
alias_database =
mynetworks =
inet_interfaces = loopback-only
inet_protocols = ipv4
maillog_file = $pf/log/maillog
maillog_file_prefixes = $pf/log
default_transport = error
relay_transport = error
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_tls_security_level = none
smtpd_tls_cert_file = $certs/server.pem
smtpd_tls_key_file = $certs/server.key
EOF
cat >"$pf/conf/master.cf" <<EOF
127.0.0.1:$starttls_port inet n - n - - smtpd -o smtpd_tls_security_level=may
127.0.0.2:$starttls_port inet n - n - - smtpd -o smtpd_tls_security_level=may
127.0.0.1:$smtps_port inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt
tlsmgr unix - - n 1000? 1 tlsmgr
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
EOF
# Detached stdio, or the master process keeps our pipes open.
if ! /usr/sbin/postfix -c "$pf/conf" start </dev/null >/dev/null 2>&1; then
    echo "postfix start failed; its log:" >&2
    cat "$pf/log/maillog" >&2 2>/dev/null
    exit 1
fi
postfix_conf="$pf/conf"

# --- dnsmasq: bench.test has two MX hosts, both the Postfix STARTTLS listener
/usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --conf-file=/dev/null \
    --listen-address=127.0.0.1 --bind-interfaces --port="$dns_port" --local=/test/ --user=root \
    --mx-host=bench.test,mx1.bench.test,10 --mx-host=bench.test,mx2.bench.test,20 \
    --host-record=mx1.bench.test,127.0.0.1 --host-record=mx2.bench.test,127.0.0.2 \
    </dev/null >/dev/null 2>&1 &
pids+=($!)

wait_tcp smtp-sink 127.0.0.1 "$sink_port"
wait_tcp Postfix 127.0.0.1 "$starttls_port"
wait_tcp Postfix 127.0.0.2 "$starttls_port"
wait_tcp Postfix 127.0.0.1 "$smtps_port"
python3 - "$dns_port" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.1)
query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05bench\x04test\x00\x00\x0f\x00\x01"
deadline = time.time() + 10
while time.time() < deadline:
    s.sendto(query, ("127.0.0.1", int(sys.argv[1])))
    try:
        if s.recv(512)[:2] == b"\x12\x34":
            sys.exit(0)
    except OSError:
        pass
sys.exit("dnsmasq does not answer")
PY

# --- the commands
eml="$tmp/message.eml"
printf 'From: a@example.test\r\nTo: b@example.test\r\nSubject: bench\r\n\r\none small message\r\n' >"$eml"
envelope=(--from a@example.test --to b@example.test --subject bench --body one-small-message)
curl_envelope=(--mail-from a@example.test --mail-rcpt b@example.test -T "$eml")
postie_bins=("$bin")
[ -z "$baseline" ] || postie_bins+=("$baseline")
label() { [ "$1" = "$bin" ] && echo postie || echo baseline; }
q() { printf '%q ' "$@"; }  # one command line for hyperfine -N (it splits like a shell)

fail() { echo "check failed: $*" >&2; exit 1; }
# Each command runs once before it is timed: it must exit 0 and show that it did what it is timed for.
read -r -d '' send_ok <<'PY' || true
import json, sys
events = [json.loads(line) for line in sys.stdin if line.startswith("{")]
types = [e["type"] for e in events]
after_data = events[types.index("data"):] if "data" in types else []
tls = [e for e in events if e["type"] == "tls"]
summary = [e for e in events if e["type"] == "summary"]
ok = any(e["type"] == "reply" and e["code"] == 250 for e in after_data) \
    and summary and summary[-1]["delivered"] == 1 and summary[-1]["exit_code"] == 0
if sys.argv[1] != "plaintext":
    ok = ok and bool(tls)
print(f"  {sys.argv[1]}: {sys.argv[2]} delivered" + (f", {tls[0]['version']} {tls[0]['cipher']}" if tls else ", no TLS"))
sys.exit(0 if ok else 1)
PY
read -r -d '' probe_ok <<'PY' || true
import json, sys
events = [json.loads(line) for line in sys.stdin if line.startswith("{")]
probes = [e for e in events if e["type"] == "probe"]
# A warning is fine (reverse DNS of a loopback address cannot match the server's name); TLS, a verified
# certificate and a greeting are not optional.
good = [p for p in probes if p.get("tls") and p.get("certificate") == "verified"
        and p.get("greeting_ms") is not None and p.get("verdict") in ("ok", "warning")]
print(f"  {sys.argv[1]}: {sys.argv[3]}: {len(good)} of {len(probes)} addresses answered, with TLS: "
      + ", ".join(f'{p["address"]} ({p["verdict"]}: {"; ".join(f["text"] for f in p["findings"]) or "-"})'
                  for p in probes))
sys.exit(0 if len(probes) == len(good) == int(sys.argv[2]) else 1)
PY
check_send() {  # check_send WHAT POSTIE ARGS...: accepted with 250 after the dot, with TLS unless plaintext
    local what=$1 p=$2 out
    shift 2
    out=$("$p" send --json "$@" "${envelope[@]}" 2>&1) || fail "$what: $(label "$p") exits $?: $out"
    python3 -c "$send_ok" "$what" "$(label "$p")" <<<"$out" || fail "$what: $(label "$p"): $out"
}
check_probe() {  # check_probe WHAT ADDRESSES POSTIE ARGS...: every address answered, with TLS
    local what=$1 hosts=$2 p=$3 out
    shift 3
    out=$("$p" probe --json "$@" 2>&1) || fail "$what: $(label "$p") exits $?: $out"
    python3 -c "$probe_ok" "$what" "$hosts" "$(label "$p")" <<<"$out" || fail "$what: $(label "$p"): $out"
}
check_curl() {  # check_curl WHAT ARGS...: 250 after the dot, and TLS unless plaintext
    local what=$1 out
    shift
    out=$(curl -sS -v "$@" "${curl_envelope[@]}" 2>&1) || fail "$what: curl exits $?: $out"
    sed -n '/We are completely uploaded/,$p' <<<"$out" | grep -q '^< 250' || fail "$what: curl: no 250 after the dot: $out"
    if [ "$what" != plaintext ]; then
        grep -q 'SSL connection using' <<<"$out" || fail "$what: curl without TLS: $out"
    fi
    echo "  $what: curl delivered$(sed -n 's/^\* SSL connection using \(.*\)/, \1/p' <<<"$out")"
}

results=()
bench() {  # bench CASE-NAME NAME COMMAND [NAME COMMAND]...
    local name=$1 json="$tmp/case-${#results[@]}.json"
    shift
    local args=()
    while [ $# -gt 0 ]; do args+=(-n "$1" "$2"); shift 2; done
    echo "== timing: $name ($runs runs each)"
    hyperfine -N --style none --warmup 10 --runs "$runs" --export-json "$json" "${args[@]}" >/dev/null
    results+=("$name=$json")
}

echo "== postie: $bin${baseline:+; baseline: $baseline}"
echo "   peers: $(curl --version | head -1 | cut -d' ' -f1-5); Postfix $(postconf -d -h mail_version);" \
    "$(hyperfine --version); $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== checks (each command once)"
sink=(--server "127.0.0.1:$sink_port")
starttls=(--server "127.0.0.1:$starttls_port" --tls required --ca-file "$ca")
implicit=(--server "127.0.0.1:$smtps_port" --tls implicit --ca-file "$ca")
probe_mx=(bench.test --dns-server "127.0.0.1:$dns_port" --port "$starttls_port" --ca-file "$ca")
probe_one=("127.0.0.1:$starttls_port" --ca-file "$ca")
for p in "${postie_bins[@]}"; do
    check_send plaintext "$p" "${sink[@]}"
    check_send STARTTLS "$p" "${starttls[@]}"
    check_send "implicit TLS" "$p" "${implicit[@]}"
    check_probe "probe bench.test (2 MX)" 2 "$p" "${probe_mx[@]}"
    check_probe "probe HOST:PORT" 1 "$p" "${probe_one[@]}"
done
check_curl plaintext "smtp://127.0.0.1:$sink_port"
check_curl STARTTLS --ssl-reqd --cacert "$ca" "smtp://127.0.0.1:$starttls_port"
check_curl "implicit TLS" --cacert "$ca" "smtps://127.0.0.1:$smtps_port"
# Postfix really accepted them: the discard transport logs each one (delivery follows the 250 by a moment).
expected=$((2 * ${#postie_bins[@]} + 2))
for _ in $(seq 100); do
    delivered=$(grep -c 'status=sent' "$pf/log/maillog" || true)
    [ "$delivered" -lt "$expected" ] || break
    sleep 0.1
done
[ "$delivered" -eq "$expected" ] || fail "Postfix logged $delivered deliveries, expected $expected: $(cat "$pf/log/maillog")"
echo "  Postfix: $delivered messages delivered (to discard)"

cmds=()
for p in "${postie_bins[@]}"; do cmds+=("$(label "$p")" "$(q "$p" send -q "${sink[@]}" "${envelope[@]}")"); done
bench "1. plaintext send to smtp-sink" "${cmds[@]}" \
    curl "$(q curl -sS "smtp://127.0.0.1:$sink_port" "${curl_envelope[@]}")"
cmds=()
for p in "${postie_bins[@]}"; do cmds+=("$(label "$p")" "$(q "$p" send -q "${starttls[@]}" "${envelope[@]}")"); done
bench "2. STARTTLS send to Postfix" "${cmds[@]}" \
    curl "$(q curl -sS --ssl-reqd --cacert "$ca" "smtp://127.0.0.1:$starttls_port" "${curl_envelope[@]}")"
cmds=()
for p in "${postie_bins[@]}"; do cmds+=("$(label "$p")" "$(q "$p" send -q "${implicit[@]}" "${envelope[@]}")"); done
bench "3. implicit TLS send to Postfix" "${cmds[@]}" \
    curl "$(q curl -sS --cacert "$ca" "smtps://127.0.0.1:$smtps_port" "${curl_envelope[@]}")"
cmds=()
for p in "${postie_bins[@]}"; do
    cmds+=("$(label "$p") probe (2 MX)" "$(q "$p" probe "${probe_mx[@]}")")
    cmds+=("$(label "$p") probe HOST:PORT" "$(q "$p" probe "${probe_one[@]}")")
done
bench "4. probe, 2 MX vs 1 host" "${cmds[@]}"

echo
echo "== results: milliseconds over $runs runs; ratio = this command / the peer (curl; in case 4, the"
echo "   single-host probe of the same binary); runs per 10 ms bin (\"40:7\" = 7 runs took 40-50 ms): the"
echo "   ~40 ms delayed-ACK stall of TLS 1.3 shows as a second group ~40 ms above the first, or, when every"
echo "   run stalls, as a median ~40 ms above. Issue target for 2 and 3: ratio <= 0.30 once the stall is fixed."
python3 - "${results[@]}" <<'PY'
import json, math, sys
from collections import Counter
print(f"{'case':32} {'command':24} {'median':>7} {'p90':>7} {'ratio median':>12} {'ratio p90':>9}  runs per 10 ms bin")
for arg in sys.argv[1:]:
    name, path = arg.split("=", 1)
    rows = []
    for r in json.load(open(path))["results"]:
        t = sorted(x * 1000 for x in r["times"])
        rows.append((r["command"], r["median"] * 1000, t[math.ceil(0.9 * len(t)) - 1], t))
    for command, median, p90, t in rows:
        if command.endswith("(2 MX)"):
            peer = next(r for r in rows if r[0] == command.replace("(2 MX)", "HOST:PORT"))
        else:
            peer = next((r for r in rows if r[0] == "curl" and r[0] != command), None)
        ratio = f"{median / peer[1]:12.2f} {p90 / peer[2]:9.2f}" if peer else f"{'':12} {'':9}"
        bins = sorted(Counter(int(x // 10) * 10 for x in t).items())
        print(f"{name:32} {command:24} {median:7.2f} {p90:7.2f} {ratio}  " + " ".join(f"{b}:{n}" for b, n in bins))
        name = ""
PY

echo
peak() {  # peak COMMAND...: its peak memory (maximum resident set size) in MiB; a failed send stops the script
    local out rc=0
    out=$(/usr/bin/time -v "$@" 2>&1) || rc=$?
    [ $rc -eq 0 ] || fail "exit $rc from $*: $(grep -v '^[[:space:]]' <<<"$out" | head -3)"
    awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' <<<"$out"
}
echo "== peak memory (maximum resident set size)"
for p in "${postie_bins[@]}"; do
    echo "$(label "$p"), one small message: $(peak "$p" send -q "${sink[@]}" "${envelope[@]}") MiB"
done
echo "== 200 MiB to smtp-sink: peak memory and wall time, beside curl sending the same bytes"
echo "   (target: postie under 16 MiB whatever the size, and no slower than curl; median wall of 5 rounds in"
echo "   which the commands take turns, as smtp-sink's own speed drifts on this shared machine; sink CPU is what"
echo "   smtp-sink spent reading that run: when it is close to the wall time, the sink is the limit)"
# An attachment of random bytes, and for --data a complete message of about that size (base64 lines:
# 57 bytes make 78 with CRLF). curl sends, for each, the very message postie sends (for --attach, the one
# postie --dump writes), so both put the same bytes on the wire.
big="$tmp/attachment.bin"
head -c 209715200 /dev/urandom >"$big"
{
    printf 'From: a@example.test\r\nTo: b@example.test\r\nSubject: big\r\n\r\n'
    head -c $((209715200 / 78 * 57)) "$big" | base64 -w 76 | sed 's/$/\r/'
} >"$tmp/big.eml"
"$bin" send -q --dump --from a@example.test --to b@example.test --attach "$big" >"$tmp/attach.eml"
big_envelope=(--from a@example.test --to b@example.test)
sink_cpu() { awk '{print $14 + $15}' "/proc/$sink_pid/stat"; }
once() {  # once FILE COMMAND...: append "RSS_KIB WALL_S SINK_S" of one run to FILE
    local out rc=0 before after
    local file=$1
    shift
    before=$(sink_cpu)
    out=$(/usr/bin/time -f "%M %e" -o "$tmp/time.out" "$@" 2>&1 >/dev/null) || rc=$?
    after=$(sink_cpu)
    [ $rc -eq 0 ] || fail "exit $rc from $*: $(head -3 <<<"$out")"
    echo "$(tail -1 "$tmp/time.out") $(awk -v t="$(getconf CLK_TCK)" -v d=$((after - before)) 'BEGIN {print d / t}')" >>"$file"
}
summary() {  # summary FILE: "RSS_MIB WALL_S SINK_S", the largest peak and the median wall and sink time
    sort -k2,2n "$1" | awk '{rss = $1 > rss ? $1 : rss; wall[NR] = $2; sink[NR] = $3}
        END {m = int((NR + 1) / 2); printf "%.1f %.2f %.2f", rss / 1024, wall[m], sink[m]}'
}
big_rows=()
for mode in --attach --data "--data -"; do
    case $mode in
        --attach) file=$big; eml="$tmp/attach.eml" ;;
        *) file="$tmp/big.eml"; eml="$tmp/big.eml" ;;
    esac
    rm -f "$tmp"/runs.*
    for _ in 1 2 3 4 5; do
        once "$tmp/runs.curl" curl -sS "smtp://127.0.0.1:$sink_port" --mail-from a@example.test \
            --mail-rcpt b@example.test -T "$eml"
        for p in "${postie_bins[@]}"; do
            if [ "$mode" = "--data -" ]; then
                once "$tmp/runs.$(label "$p")" sh -c '"$0" send -q "$@" --data - <"'"$file"'"' "$p" "${sink[@]}" \
                    "${big_envelope[@]}"
            else
                once "$tmp/runs.$(label "$p")" "$p" send -q "${sink[@]}" "${big_envelope[@]}" $mode "$file"
            fi
        done
    done
    peer=$(summary "$tmp/runs.curl")
    big_rows+=("$mode|curl -T|$peer|$peer")
    for p in "${postie_bins[@]}"; do
        big_rows+=("$mode|$(label "$p")|$(summary "$tmp/runs.$(label "$p")")|$peer")
    done
done
printf '%-10s %-10s %9s %7s %10s %10s %10s\n' mode command "RSS MiB" "wall s" "sink CPU s" "RSS/curl" "wall/curl"
for row in "${big_rows[@]}"; do
    IFS='|' read -r mode command got peer <<<"$row"
    read -r rss wall sink_s <<<"$got"
    read -r peer_rss peer_wall _ <<<"$peer"
    awk -v m="$mode" -v c="$command" -v r="$rss" -v w="$wall" -v k="$sink_s" -v pr="$peer_rss" -v pw="$peer_wall" \
        'BEGIN {printf "%-10s %-10s %9.1f %7.2f %10.2f %10.2f %10.2f\n", m, c, r, w, k, r / pr, w / pw}'
done

# --- postie load beside smtp-source (its own smtp-sink; see the script)
scripts/bench-load.sh 20000 "$bin"
