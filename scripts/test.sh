#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian/Ubuntu machine: install the real peers the integration tests
# talk to (Postfix, dnsmasq as a DNS server, Dovecot as the SASL server) when they are missing, then run cargo test. Needs root (or sudo) for apt-get and for
# the tests' private Postfix instance. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
[ -x /usr/sbin/postfix ] || missing+=(postfix)
[ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-core)
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${missing[*]}" >&2
    # "No configuration": the package installs without a system mail server; the tests run their own.
    echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

exec cargo test --locked "$@"
