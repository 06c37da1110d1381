#!/usr/bin/env bash
# Run the whole test suite on a fresh Debian/Ubuntu machine: install the real peers the integration tests
# talk to (Postfix, dnsmasq as a DNS server, Dovecot as the SASL server and as an LMTP server, NSD and Unbound
# with ldns's tools for a signed DNS hierarchy) when they are missing, then run cargo test. Needs root (or sudo) for apt-get and for the tests' private Postfix instance.
# Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
[ -x /usr/sbin/postfix ] || missing+=(postfix)
[ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-core)
# GNU time: the memory tests read postie's peak resident set size through it.
[ -x /usr/bin/time ] || missing+=(time)
# DNSSEC and DANE: NSD serves the signed test zones, Unbound validates them, ldns-keygen and ldns-signzone make
# them at test time. The tests run their own instances from their own config files.
[ -x /usr/sbin/nsd ] || missing+=(nsd)
[ -x /usr/sbin/unbound ] || missing+=(unbound)
command -v ldns-signzone >/dev/null || missing+=(ldnsutils)
# SOCKS5 proxies for --proxy: Dante without authentication, microsocks with a user and password (RFC 1929).
[ -x /usr/sbin/danted ] || missing+=(dante-server)
[ -x /usr/bin/microsocks ] || missing+=(microsocks)
# swaks: a second client against `postie catch` (plain, STARTTLS, implicit TLS, AUTH).
command -v swaks >/dev/null || missing+=(swaks)
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${missing[*]}" >&2
    # "No configuration": the package installs without a system mail server; the tests run their own.
    echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
    # Under systemd the packages start system servers on port 53 of every address (NSD) and on 127.0.0.1
    # (Unbound), which would take the port from the tests' own, and a system danted (port 1080); those just
    # installed here are stopped and disabled. (In a container, policy-rc.d usually keeps them from starting.)
    if [ -d /run/systemd/system ]; then
        for unit in nsd unbound danted; do
            package=$unit
            [ "$unit" = danted ] && package=dante-server
            if [[ " ${missing[*]} " == *" $package "* ]]; then
                $sudo systemctl disable --now "$unit" >/dev/null 2>&1 || true
            fi
        done
    fi
fi

# Dovecot's LMTP server (the lmtp binary) is in dovecot-lmtpd, which installing would upgrade dovecot-core
# under a running Dovecot; the tests need only the binary, so the package is unpacked into a private root
# instead (never installed). The binary links against dovecot-core's libraries in /usr/lib/dovecot, so it
# must be the same version: the root is unpacked anew when dovecot-core's version changes.
lmtpd=/opt/postie-peers/dovecot-lmtpd
dovecot_version=$(dpkg-query -W -f='${Version}' dovecot-core)
if [ "$(cat "$lmtpd/VERSION" 2>/dev/null)" != "$dovecot_version" ]; then
    echo "scripts/test.sh: unpacking dovecot-lmtpd $dovecot_version into $lmtpd" >&2
    download=$(mktemp -d)
    # apt-get download fetches as the unprivileged _apt user when it may write the directory.
    if id _apt >/dev/null 2>&1; then $sudo chown _apt "$download"; fi
    fetch() { (cd "$download" && $sudo apt-get -o DPkg::Lock::Timeout=600 download -qq "dovecot-lmtpd=$dovecot_version"); }
    # The package lists may not know that version yet (dovecot-core came with the machine): update once.
    fetch || { $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq && fetch; }
    $sudo rm -rf "$lmtpd"
    $sudo mkdir -p "$lmtpd"
    $sudo dpkg -x "$download"/dovecot-lmtpd_*.deb "$lmtpd"
    echo "$dovecot_version" | $sudo tee "$lmtpd/VERSION" >/dev/null
    $sudo rm -rf "$download"
fi

exec cargo test --locked "$@"
