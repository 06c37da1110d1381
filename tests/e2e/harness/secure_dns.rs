//! A signed DNS hierarchy and MTA-STS policy servers on loopback, for DANE (RFC 7672), MTA-STS (RFC 8461) and
//! TLS-RPT (RFC 8460). Everything is made at test time, on first use of `secure_dns()`, under the scratch
//! directory `secure-dns`: keys (`ldns-keygen -a ECDSAP256SHA256`), zones signed with `ldns-signzone` (NSEC),
//! NSD serving all of them, and Unbound validating against the anchor of `test.`. Both listen on port 53 of
//! loopback addresses of their own; the exit handler stops them by pid. The policy servers are threads of the
//! test binary (rustls), on port 443 of two more loopback addresses; they end with it.
//!
//! The zones, as built (every MX host has the A record 127.0.0.1, where Postfix's `starttls_port` listens with
//! the valid certificate from the test CA; TLSA records are at `_PORT._tcp.MXHOST`, PORT being that port,
//! `SecureDns::tlsa_port`; every TTL is 300):
//!
//! - `test.`: the anchor, signed with one key (a CSK, flags 257). NS `ns.test.` (NSD's address), an NS
//!   delegation to `ns.test.` for each zone below, with its DS except for `unsigned.test`.
//! - `dane-ee.test`: TLSA `3 1 1` = SHA-256 of Postfix's SubjectPublicKeyInfo (matches). The certificate does
//!   NOT name `mx.dane-ee.test`: DANE-EE ignores names (RFC 7672 §3.1.1).
//! - `dane-bad.test`: TLSA `3 1 1` with a digest that matches nothing (the right one with every bit flipped).
//! - `dane-ta.test`: TLSA `2 0 1` = SHA-256 of the test CA certificate (DER); the certificate names
//!   `mx.dane-ta.test`.
//! - `dane-ta-mismatch.test`: TLSA `2 0 1` of the CA; the certificate does not name `mx.dane-ta-mismatch.test`.
//! - `no-tlsa.test`: signed, MX, no TLSA.
//! - `dane-cname.test`: signed; its MX host `mx.dane-cname.test` is a CNAME for `mx.dane-ta.test`.
//! - `bogus.test`: the same records as dane-ee (a matching TLSA), signed with signatures that expired in 2020
//!   (`-i 20200101000000 -e 20200201000000`), DS in `test.`: everything in it is bogus, even the MX.
//! - `tlsa-broken.test`: signed properly, matching TLSA `3 1 1`, but the TLSA RRset's RRSIG has its first
//!   signature byte changed after signing: MX and A validate, the TLSA RRset is bogus.
//! - `unsigned.test`: not signed, no DS (test.'s NSEC proves there is none: an insecure delegation); a TLSA
//!   `3 1 1` that matches nothing, which a sender must ignore.
//! - The MTA-STS domains, signed like dane-ee (no TLSA), each with `_mta-sts` TXT `v=STSv1; id=postie1;`,
//!   `mta-sts` A (a policy server), `_smtp._tls` TXT `v=TLSRPTv1; rua=mailto:tlsrpt@DOMAIN`; the Postfix
//!   certificate names every `mx.sts-*.test`, so that only the policy decides:
//!   - `sts-enforce.test`: enforce, `mx: mx.sts-enforce.test` (matches).
//!   - `sts-mismatch.test`: enforce, `mx: other.example.net` (the MX is mx.sts-mismatch.test).
//!   - `sts-testing.test`: testing, `mx: other.example.net`.
//!   - `sts-wildcard.test`: enforce, `mx: *.sts-wildcard.test`.
//!   - `sts-unreachable.test`: `mta-sts` points to `https_unreachable`, where nothing listens.
//!   - `sts-badcert.test`: `mta-sts` points to `https_wrong_name`, whose certificate (from the test CA) names
//!     only `mta-sts.wrong-name.test`; behind it, enforce with `mx: other.example.net`.
//!   - `sts-redirect.test`: the policy URL answers `301` with `Location:
//!     https://mta-sts.sts-redirect.test/redirected/mta-sts.txt`, where enforce with `mx: other.example.net`
//!     is served (a sender must not follow it, RFC 8461 §3.3).
//!   - `sts-huge.test`: enforce with `mx: other.example.net`, padded to 100 KiB (over a sender's limit).
//!   - `sts-two-txt.test`: two TXT records `v=STSv1; id=one;` and `v=STSv1; id=two;` (invalid, RFC 8461 §3.1);
//!     its policy URL serves enforce with `mx: other.example.net`.
//!
//! In each wrong case the policy behind it would refuse the MX, so a sender that used it anyway shows.
//! The test Postfix accepts mail for all these domains (`MAIL_DOMAINS`): users `USERS` and `tlsrpt`.
//!
//! The addresses: a block of eight in 127.48.0.0/13 chosen by pid (see `reserve_addresses`): NSD on the
//! first (port 53), Unbound on the second (53), the policy servers on the third and fourth (443), and nothing
//! on the fifth (`https_unreachable`).
//!
//! Measured here (2 shared cores; Debian 12: NSD 4.6.1, Unbound 1.17.1, ldns 1.8.3): the whole start after
//! Postfix's took 0.6 to 1.2 s, most of it (0.45 to 0.9 s) the 31 ldns-keygen and 16 ldns-signzone runs (the
//! children's in parallel); NSD answered about 0.2 s after it was started, Unbound (a whole chain validated)
//! 0.1 s after that. Unbound answers SERVFAIL with EDE 7 (Signature Expired) for bogus.test and EDE 6 (DNSSEC
//! Bogus) for the broken TLSA signature; with the CD bit it returns the data. A name that does not exist in a
//! signed zone (`_PORT._tcp.mx.no-tlsa.test`) is NXDOMAIN with AD.

use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use hickory_resolver::proto::op::{Edns, Message, Query};
use hickory_resolver::proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_resolver::proto::rr::{Name, RecordType};

use super::{postfix, scratch_dir, stop_at_exit, Stop};

/// The domains of the signed hierarchy that mail goes to; the test Postfix accepts them, for `USERS` and
/// `TLSRPT_USER`.
pub const MAIL_DOMAINS: &[&str] = &[
    "dane-ee.test",
    "dane-bad.test",
    "dane-ta.test",
    "dane-ta-mismatch.test",
    "no-tlsa.test",
    "dane-cname.test",
    "bogus.test",
    "tlsa-broken.test",
    "unsigned.test",
    "sts-enforce.test",
    "sts-mismatch.test",
    "sts-testing.test",
    "sts-wildcard.test",
    "sts-unreachable.test",
    "sts-badcert.test",
    "sts-redirect.test",
    "sts-two-txt.test",
    "sts-huge.test",
];

/// The local part of every MTA-STS domain's TLS-RPT address (`rua=mailto:tlsrpt@DOMAIN`).
pub const TLSRPT_USER: &str = "tlsrpt";

/// Names Postfix's certificates (valid and expired) carry besides their own, for DANE-TA and MTA-STS.
pub(super) const POSTFIX_CERTIFICATE_NAMES: &[&str] = &[
    "mx.dane-ta.test",
    "mx.sts-enforce.test",
    "mx.sts-mismatch.test",
    "mx.sts-testing.test",
    "mx.sts-wildcard.test",
    "mx.sts-unreachable.test",
    "mx.sts-badcert.test",
    "mx.sts-redirect.test",
    "mx.sts-two-txt.test",
    "mx.sts-huge.test",
];

/// The hosts the good policy server answers for, all named by its certificate.
pub(super) const MTA_STS_CERTIFICATE_NAMES: &[&str] = &[
    "mta-sts.sts-enforce.test",
    "mta-sts.sts-mismatch.test",
    "mta-sts.sts-testing.test",
    "mta-sts.sts-wildcard.test",
    "mta-sts.sts-redirect.test",
    "mta-sts.sts-two-txt.test",
    "mta-sts.sts-huge.test",
];

/// The only name of the certificate behind `mta-sts.sts-badcert.test`.
pub(super) const MTA_STS_WRONG_NAME: &str = "mta-sts.wrong-name.test";

/// The policy path every MTA-STS sender asks for.
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

pub struct SecureDns {
    /// NSD, authoritative for `test.` and every zone below it (it does not recurse).
    pub nsd: SocketAddr,
    /// Unbound, a validating resolver whose only trust anchor is `test.`'s key and whose only upstream is NSD:
    /// AD on secure answers, SERVFAIL on bogus ones, neither on insecure ones (unsigned.test). Names outside
    /// `test.` get SERVFAIL (NSD refuses them); nothing leaves loopback. The value for `--dns-server` is
    /// `resolver()`.
    pub unbound: SocketAddr,
    /// The anchor for validating in process: every DNSKEY of `test.` (one key), one per line in zone-file form
    /// with TTL and class, as hickory's `TrustAnchors::from_file` and Unbound's `trust-anchor-file:` read it:
    /// `test.\t300\tIN\tDNSKEY\t257 3 13 BASE64`.
    pub trust_anchor: PathBuf,
    /// The port in the TLSA names (`_PORT._tcp.mx.dane-ee.test`): Postfix's `starttls_port`.
    pub tlsa_port: u16,
    /// The policy server for every `mta-sts.sts-*.test` but badcert and unreachable (port 443).
    pub https: SocketAddr,
    /// The policy server of `mta-sts.sts-badcert.test`, with a certificate that does not name it (port 443).
    pub https_wrong_name: SocketAddr,
    /// Where `mta-sts.sts-unreachable.test` points: port 443 of a loopback address where nothing listens.
    pub https_unreachable: SocketAddr,
    /// The test CA (PEM), which issued Postfix's and the policy servers' certificates.
    pub ca_file: PathBuf,
    /// SHA-256 of Postfix's valid certificate's SubjectPublicKeyInfo, lower-case hex (dane-ee's TLSA data).
    pub spki_sha256: String,
    /// SHA-256 of the test CA certificate (DER), lower-case hex (dane-ta's TLSA data).
    pub ca_sha256: String,
    /// Keys, zone files (`ZONE.zone`, signed `ZONE.signed`), configurations and logs.
    pub dir: PathBuf,
}

/// A connection to the policy servers and the request on it. When the TLS handshake or the request failed
/// (a client that refused `https_wrong_name`'s certificate), `host` and `path` are empty and `sni` shows whom
/// the client wanted.
#[derive(Clone, Debug)]
pub struct PolicyRequest {
    /// The server's address: `https` or `https_wrong_name`.
    pub server: SocketAddr,
    /// The TLS server name the client sent (SNI).
    pub sni: Option<String>,
    /// The Host header, lower-case, without a port.
    pub host: String,
    pub path: String,
}

static SECURE_DNS: OnceLock<SecureDns> = OnceLock::new();
static POLICY_REQUESTS: Mutex<Vec<PolicyRequest>> = Mutex::new(Vec::new());

/// The signed hierarchy, its servers and the policy servers; started on first use (with Postfix, whose port
/// and certificates the zones name).
pub fn secure_dns() -> &'static SecureDns {
    SECURE_DNS.get_or_init(|| {
        SecureDns::start().unwrap_or_else(|e| panic!("cannot start the signed DNS and policy servers: {e}"))
    })
}

/// How a zone is signed.
#[derive(Clone, Copy, PartialEq)]
enum Signing {
    Unsigned,
    Valid,
    /// Signatures valid in January 2020 only.
    Expired,
    /// Valid, then the TLSA RRset's signature is corrupted.
    BrokenTlsaSignature,
}

struct Zone {
    name: &'static str,
    signing: Signing,
    /// Records relative to the zone's origin, after its SOA and NS.
    records: Vec<String>,
}

/// The loopback addresses of this binary's servers, from a block of eight chosen by pid (127.48.0.0/13 holds
/// 65536 blocks), so that test binaries running at the same time do not meet; a block with any of them taken
/// is skipped.
struct Addresses {
    nsd: Ipv4Addr,
    unbound: Ipv4Addr,
    https: TcpListener,
    https_wrong_name: TcpListener,
    unreachable: Ipv4Addr,
}

fn reserve_addresses() -> Result<Addresses, String> {
    let dns_port_free = |ip: Ipv4Addr| UdpSocket::bind((ip, 53)).is_ok() && TcpListener::bind((ip, 53)).is_ok();
    for attempt in 0..64u32 {
        let block = std::process::id().wrapping_add(attempt.wrapping_mul(7919)) % 65536;
        let base = u32::from(Ipv4Addr::new(127, 48, 0, 0)) + block * 8;
        let ip = |i: u32| Ipv4Addr::from(base + i);
        if !(dns_port_free(ip(0)) && dns_port_free(ip(1)) && TcpListener::bind((ip(4), 443)).is_ok()) {
            continue;
        }
        let (Ok(https), Ok(https_wrong_name)) = (TcpListener::bind((ip(2), 443)), TcpListener::bind((ip(3), 443)))
        else {
            continue;
        };
        return Ok(Addresses { nsd: ip(0), unbound: ip(1), https, https_wrong_name, unreachable: ip(4) });
    }
    Err("no loopback addresses free for ports 53 and 443 in 64 blocks of 127.48.0.0/13: does a system DNS or web \
         server listen on port 53 or 443 of every address (0.0.0.0)? (scripts/test.sh disables the NSD and \
         Unbound services it installs)"
        .into())
}

impl SecureDns {
    fn start() -> Result<SecureDns, String> {
        for tool in ["/usr/sbin/nsd", "/usr/sbin/unbound", "/usr/bin/ldns-keygen", "/usr/bin/ldns-signzone"] {
            if !Path::new(tool).exists() {
                return Err(format!("{tool} is missing; run scripts/test.sh (it installs nsd, unbound, ldnsutils)"));
            }
        }
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("the signed DNS servers need root (port 53, port 443)".into());
        }
        let postfix = postfix();
        let certs = postfix.root.join("certs");
        let dir = scratch_dir("secure-dns");
        let addresses = reserve_addresses()?;
        let https = addresses.https.local_addr().map_err(|e| e.to_string())?;
        let https_wrong_name = addresses.https_wrong_name.local_addr().map_err(|e| e.to_string())?;

        let leaf = read_certificate(&certs.join("valid.pem"))?;
        let spki = x509_parser::parse_x509_certificate(&leaf)
            .map_err(|e| format!("valid.pem: {e}"))?
            .1
            .tbs_certificate
            .subject_pki
            .raw
            .to_vec();
        let spki_digest = sha256(&spki);
        let wrong_digest: Vec<u8> = spki_digest.iter().map(|b| !b).collect();
        let ca_digest = sha256(&read_certificate(&certs.join("ca.pem"))?);
        let facts = ZoneFacts {
            tlsa_port: postfix.starttls_port,
            spki: hex(&spki_digest),
            wrong: hex(&wrong_digest),
            ca: hex(&ca_digest),
            https: https.ip(),
            https_wrong_name: https_wrong_name.ip(),
            unreachable: IpAddr::V4(addresses.unreachable),
        };
        let nsd = SocketAddr::from((addresses.nsd, 53));
        let unbound = SocketAddr::from((addresses.unbound, 53));
        let zones = zones(&facts);
        let trust_anchor = write_zones(&dir, &zones, addresses.nsd)?;

        start_nsd(&dir, &zones, nsd)?;
        start_unbound(&dir, unbound, nsd, &trust_anchor)?;
        start_policy_server(addresses.https, &certs.join("mta-sts.pem"), &certs.join("mta-sts.key"), policies())?;
        start_policy_server(
            addresses.https_wrong_name,
            &certs.join("mta-sts-wrong.pem"),
            &certs.join("mta-sts-wrong.key"),
            vec![Route::policy("mta-sts.sts-badcert.test", POLICY_PATH, "enforce", "other.example.net")],
        )?;
        Ok(SecureDns {
            nsd,
            unbound,
            trust_anchor,
            tlsa_port: facts.tlsa_port,
            https,
            https_wrong_name,
            https_unreachable: SocketAddr::from((addresses.unreachable, 443)),
            ca_file: certs.join("ca.pem"),
            spki_sha256: facts.spki,
            ca_sha256: facts.ca,
            dir,
        })
    }

    /// Unbound's address, for `--dns-server`.
    pub fn resolver(&self) -> String {
        self.unbound.to_string()
    }

    /// The TLSA owner name for an MX host: `_PORT._tcp.HOST`.
    pub fn tlsa_name(&self, host: &str) -> String {
        format!("_{}._tcp.{host}", self.tlsa_port)
    }

    pub fn nsd_log(&self) -> String {
        fs::read_to_string(self.dir.join("nsd.log")).unwrap_or_default()
    }

    pub fn unbound_log(&self) -> String {
        fs::read_to_string(self.dir.join("unbound.log")).unwrap_or_default()
    }

    /// Every connection the policy servers have had so far, with its request, from all tests of this binary
    /// (filter by `sni` or `host`).
    pub fn policy_requests(&self) -> Vec<PolicyRequest> {
        POLICY_REQUESTS.lock().unwrap().clone()
    }
}

/// One DNS query over UDP with the DO bit (and RD when `recursion`; CD when `checking_disabled`), answered
/// within a second. Names are taken as absolute.
pub fn dns_query(
    server: SocketAddr,
    name: &str,
    record_type: RecordType,
    recursion: bool,
    checking_disabled: bool,
) -> Result<Message, String> {
    let fqdn = if name.ends_with('.') { name.to_string() } else { format!("{name}.") };
    let name = Name::from_ascii(&fqdn).map_err(|e| format!("{fqdn}: {e}"))?;
    let mut query = Message::query();
    query.add_query(Query::query(name, record_type));
    query.metadata.recursion_desired = recursion;
    query.metadata.checking_disabled = checking_disabled;
    let mut edns = Edns::new();
    edns.set_dnssec_ok(true).set_max_payload(1232);
    query.set_edns(edns);
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    // Connected: answers from elsewhere are dropped, and a server not listening yet is an ICMP error at once
    // (ECONNREFUSED) rather than a timeout.
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket.connect(server).map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(Duration::from_secs(1))).map_err(|e| e.to_string())?;
    socket.send(&bytes).map_err(|e| format!("sending to {server}: {e}"))?;
    let mut buffer = vec![0u8; 65535];
    loop {
        let n = socket.recv(&mut buffer).map_err(|e| format!("{fqdn} {record_type} from {server}: {e}"))?;
        let Ok(answer) = Message::from_vec(&buffer[..n]) else { continue };
        if answer.metadata.id == query.metadata.id {
            if answer.metadata.truncation {
                return Err(format!("{fqdn} {record_type} from {server}: truncated"));
            }
            return Ok(answer);
        }
    }
}

/// The Extended DNS Error code (RFC 8914) in an answer, if any.
pub fn extended_dns_error(message: &Message) -> Option<u16> {
    match message.edns.as_ref()?.option(EdnsCode::Unknown(15))? {
        EdnsOption::Unknown(_, data) if data.len() >= 2 => Some(u16::from_be_bytes([data[0], data[1]])),
        _ => None,
    }
}

/// What the zones are made from: learned at test time.
struct ZoneFacts {
    tlsa_port: u16,
    /// Hex SHA-256 digests: Postfix's SPKI, one that matches nothing, the CA certificate.
    spki: String,
    wrong: String,
    ca: String,
    https: IpAddr,
    https_wrong_name: IpAddr,
    unreachable: IpAddr,
}

fn zones(f: &ZoneFacts) -> Vec<Zone> {
    let port = f.tlsa_port;
    let mx = || vec!["@ MX 10 mx".to_string(), "mx A 127.0.0.1".to_string()];
    let tlsa = |data: &str| format!("_{port}._tcp.mx TLSA {data}");
    let dane = |name, signing, tlsa_record: Option<String>| Zone {
        name,
        signing,
        records: mx().into_iter().chain(tlsa_record).collect(),
    };
    let sts = |name: &'static str, policy_host: IpAddr, ids: &[&str]| {
        let mut records = mx();
        records.extend(ids.iter().map(|id| format!("_mta-sts TXT \"v=STSv1; id={id};\"")));
        records.push(format!("mta-sts A {policy_host}"));
        records.push(format!("_smtp._tls TXT \"v=TLSRPTv1; rua=mailto:{TLSRPT_USER}@{name}\""));
        Zone { name, signing: Signing::Valid, records }
    };
    vec![
        dane("dane-ee.test", Signing::Valid, Some(tlsa(&format!("3 1 1 {}", f.spki)))),
        dane("dane-bad.test", Signing::Valid, Some(tlsa(&format!("3 1 1 {}", f.wrong)))),
        dane("dane-ta.test", Signing::Valid, Some(tlsa(&format!("2 0 1 {}", f.ca)))),
        dane("dane-ta-mismatch.test", Signing::Valid, Some(tlsa(&format!("2 0 1 {}", f.ca)))),
        dane("no-tlsa.test", Signing::Valid, None),
        // The MX host is a secure alias of dane-ta's: its TLSA records and certificate name are those of the
        // target (RFC 7672 §2.2.2, §3.2.2); the certificate does not name mx.dane-cname.test.
        Zone {
            name: "dane-cname.test",
            signing: Signing::Valid,
            records: vec!["@ MX 10 mx".to_string(), "mx CNAME mx.dane-ta.test.".to_string()],
        },
        dane("bogus.test", Signing::Expired, Some(tlsa(&format!("3 1 1 {}", f.spki)))),
        dane("tlsa-broken.test", Signing::BrokenTlsaSignature, Some(tlsa(&format!("3 1 1 {}", f.spki)))),
        dane("unsigned.test", Signing::Unsigned, Some(tlsa(&format!("3 1 1 {}", f.wrong)))),
        sts("sts-enforce.test", f.https, &["postie1"]),
        sts("sts-mismatch.test", f.https, &["postie1"]),
        sts("sts-testing.test", f.https, &["postie1"]),
        sts("sts-wildcard.test", f.https, &["postie1"]),
        sts("sts-unreachable.test", f.unreachable, &["postie1"]),
        sts("sts-badcert.test", f.https_wrong_name, &["postie1"]),
        sts("sts-redirect.test", f.https, &["postie1"]),
        sts("sts-two-txt.test", f.https, &["one", "two"]),
        sts("sts-huge.test", f.https, &["postie1"]),
    ]
}

fn zone_text(origin: &str, records: &[String]) -> String {
    let mut text =
        format!("$ORIGIN {origin}.\n$TTL 300\n@ SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n@ NS ns.test.\n");
    for record in records {
        text.push_str(record);
        text.push('\n');
    }
    text
}

/// Write every zone, sign them (the children in parallel, then `test.` with their DS records), and write the
/// trust anchor; its path.
fn write_zones(dir: &Path, zones: &[Zone], nsd: Ipv4Addr) -> Result<PathBuf, String> {
    let keys = dir.join("keys");
    fs::create_dir_all(&keys).map_err(|e| e.to_string())?;
    // Each child: its zone file, then for a signed one its KSK's DS record (ldns-keygen writes it beside the key).
    let ds_records: Vec<Option<String>> = thread::scope(|scope| {
        let jobs: Vec<_> = zones
            .iter()
            .map(|zone| {
                let keys = &keys;
                scope.spawn(move || -> Result<Option<String>, String> {
                    let file = dir.join(format!("{}.zone", zone.name));
                    fs::write(&file, zone_text(zone.name, &zone.records)).map_err(|e| e.to_string())?;
                    if zone.signing == Signing::Unsigned {
                        return Ok(None);
                    }
                    let ksk = keygen(keys, zone.name, true)?;
                    let zsk = keygen(keys, zone.name, false)?;
                    let validity = (zone.signing == Signing::Expired).then_some(("20200101000000", "20200201000000"));
                    let signed = sign(dir, zone.name, &[ksk.clone(), zsk], validity)?;
                    if zone.signing == Signing::BrokenTlsaSignature {
                        corrupt_tlsa_signature(&signed)?;
                    }
                    let ds = fs::read_to_string(format!("{}.ds", ksk.display()))
                        .map_err(|e| format!("the DS of {}: {e}", zone.name))?;
                    Ok(Some(ds.trim().to_string()))
                })
            })
            .collect();
        jobs.into_iter()
            .map(|job| job.join().unwrap_or_else(|_| Err("a signing thread panicked".into())))
            .collect::<Result<Vec<_>, String>>()
    })?;

    let mut records = vec![format!("ns A {nsd}")];
    for (zone, ds) in zones.iter().zip(&ds_records) {
        records.push(format!("{}. NS ns.test.", zone.name));
        records.extend(ds.clone());
    }
    fs::write(dir.join("test.zone"), zone_text("test", &records)).map_err(|e| e.to_string())?;
    let csk = keygen(&keys, "test", true)?;
    let signed = sign(dir, "test", &[csk], None)?;

    // Every DNSKEY of the signed anchor zone, as ldns-signzone wrote them (owner, TTL, class, type, data),
    // without its comment (`;{id = 12345 (ksk), size = 256b}`).
    let anchor: String = fs::read_to_string(&signed)
        .map_err(|e| e.to_string())?
        .lines()
        .filter(|line| line.split_whitespace().nth(3) == Some("DNSKEY"))
        .map(|line| format!("{}\n", line.split(';').next().unwrap_or("").trim_end()))
        .collect();
    if anchor.is_empty() {
        return Err(format!("no DNSKEY in {}", signed.display()));
    }
    let path = dir.join("trust-anchor");
    fs::write(&path, anchor).map_err(|e| e.to_string())?;
    Ok(path)
}

/// A new ECDSA P-256 key for `zone` in `dir` (a KSK has flags 257); the path without extension.
fn keygen(dir: &Path, zone: &str, ksk: bool) -> Result<PathBuf, String> {
    let mut command = Command::new("/usr/bin/ldns-keygen");
    command.args(["-a", "ECDSAP256SHA256"]);
    if ksk {
        command.arg("-k");
    }
    let output = command.arg(zone).current_dir(dir).stdin(Stdio::null()).output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("ldns-keygen for {zone}: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(dir.join(String::from_utf8_lossy(&output.stdout).trim()))
}

/// Sign `dir/ZONE.zone` into `dir/ZONE.signed` with NSEC, valid from now for four weeks (ldns-signzone's
/// default) or over `validity` (inception, expiration).
fn sign(dir: &Path, zone: &str, keys: &[PathBuf], validity: Option<(&str, &str)>) -> Result<PathBuf, String> {
    let signed = dir.join(format!("{zone}.signed"));
    let mut command = Command::new("/usr/bin/ldns-signzone");
    if let Some((inception, expiration)) = validity {
        command.args(["-i", inception, "-e", expiration]);
    }
    let output = command
        .arg("-f")
        .arg(&signed)
        .args(["-o", zone])
        .arg(dir.join(format!("{zone}.zone")))
        .args(keys)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!("ldns-signzone for {zone}: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(signed)
}

/// Change the first byte of the signature in the (one) RRSIG that covers TLSA: its first base64 character.
fn corrupt_tlsa_signature(signed: &Path) -> Result<(), String> {
    let text = fs::read_to_string(signed).map_err(|e| e.to_string())?;
    let mut corrupted = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) == Some(&"RRSIG") && fields.get(4) == Some(&"TLSA") {
                let signature = fields[fields.len() - 1];
                let replacement = if signature.starts_with('A') { "B" } else { "A" };
                corrupted += 1;
                format!("{}{replacement}{}", &line[..line.len() - signature.len()], &signature[1..])
            } else {
                line.to_string()
            }
        })
        .collect();
    if corrupted != 1 {
        return Err(format!("{} has {corrupted} RRSIGs over TLSA, not one", signed.display()));
    }
    fs::write(signed, lines.join("\n") + "\n").map_err(|e| e.to_string())
}

fn start_nsd(dir: &Path, zones: &[Zone], address: SocketAddr) -> Result<(), String> {
    let d = dir.display();
    let mut config = format!(
        "server:\n  ip-address: {ip}@{port}\n  do-ip6: no\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  \
         database: \"\"\n  zonelistfile: \"{d}/nsd.zonelist\"\n  xfrdfile: \"{d}/nsd.xfrd\"\n  xfrdir: \"{d}\"\n  \
         pidfile: \"{d}/nsd.pid\"\n  logfile: \"{d}/nsd.log\"\n  server-count: 1\n  hide-version: yes\n\
         remote-control:\n  control-enable: no\n\
         zone:\n  name: \"test.\"\n  zonefile: \"test.signed\"\n",
        ip = address.ip(),
        port = address.port()
    );
    for zone in zones {
        let file = if zone.signing == Signing::Unsigned { "zone" } else { "signed" };
        config.push_str(&format!("zone:\n  name: \"{0}.\"\n  zonefile: \"{0}.{file}\"\n", zone.name));
    }
    fs::write(dir.join("nsd.conf"), config).map_err(|e| e.to_string())?;
    let child = Command::new("/usr/sbin/nsd")
        .arg("-d")
        .arg("-c")
        .arg(dir.join("nsd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("running nsd: {e}"))?;
    // The main process stops its two children (xfrd, the server) itself, within about 50 ms.
    stop_at_exit(Stop { pid: child.id() as i32, with_children: false });
    // Ready once it answers for the anchor zone with authority.
    wait_for(
        "NSD",
        || {
            let answer = dns_query(address, "test.", RecordType::SOA, false, false)?;
            if answer.metadata.authoritative && !answer.answers.is_empty() {
                Ok(())
            } else {
                Err(format!("{answer:?}"))
            }
        },
        || fs::read_to_string(dir.join("nsd.log")).unwrap_or_default(),
    )
}

fn start_unbound(dir: &Path, address: SocketAddr, nsd: SocketAddr, anchor: &Path) -> Result<(), String> {
    let d = dir.display();
    // `test.` is one of Unbound's default local zones (RFC 6761 names answer NXDOMAIN): `nodefault` lifts that.
    // The stub for `.` keeps every other name away from the root servers: NSD refuses it, Unbound says
    // SERVFAIL.
    let config = format!(
        "server:\n  interface: {ip}@{port}\n  access-control: 127.0.0.0/8 allow\n  do-ip6: no\n  \
         do-daemonize: no\n  use-systemd: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  \
         pidfile: \"{d}/unbound.pid\"\n  logfile: \"{d}/unbound.log\"\n  use-syslog: no\n  log-time-ascii: yes\n  \
         verbosity: 1\n  val-log-level: 2\n  num-threads: 1\n  outgoing-range: 64\n  num-queries-per-thread: 32\n  \
         msg-cache-size: 1m\n  rrset-cache-size: 1m\n  key-cache-size: 1m\n  do-not-query-localhost: no\n  \
         module-config: \"validator iterator\"\n  trust-anchor-file: \"{anchor}\"\n  \
         trust-anchor-signaling: no\n  ede: yes\n  \
         local-zone: \"test.\" nodefault\n\
         stub-zone:\n  name: \"test.\"\n  stub-addr: {nsd_ip}@{nsd_port}\n\
         stub-zone:\n  name: \".\"\n  stub-addr: {nsd_ip}@{nsd_port}\n\
         remote-control:\n  control-enable: no\n",
        ip = address.ip(),
        port = address.port(),
        anchor = anchor.display(),
        nsd_ip = nsd.ip(),
        nsd_port = nsd.port()
    );
    fs::write(dir.join("unbound.conf"), config).map_err(|e| e.to_string())?;
    let child = Command::new("/usr/sbin/unbound")
        .arg("-d")
        .arg("-c")
        .arg(dir.join("unbound.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("running unbound: {e}"))?;
    stop_at_exit(Stop { pid: child.id() as i32, with_children: false });
    // Ready once a whole chain validates: test.'s key, the DS, dane-ee.test's keys, its MX.
    wait_for(
        "Unbound",
        || {
            let answer = dns_query(address, "dane-ee.test.", RecordType::MX, true, false)?;
            if answer.metadata.authentic_data {
                Ok(())
            } else {
                Err(format!("dane-ee.test MX is not validated: {answer:?}"))
            }
        },
        || fs::read_to_string(dir.join("unbound.log")).unwrap_or_default(),
    )
}

/// Poll `ready` for up to 10 s.
fn wait_for(what: &str, ready: impl Fn() -> Result<(), String>, log: impl Fn() -> String) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let error = match ready() {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        if Instant::now() > deadline {
            return Err(format!("{what} is not ready after 10 s: {error}; its log:\n{}", log()));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn read_certificate(path: &Path) -> Result<Vec<u8>, String> {
    use rustls::pki_types::pem::PemObject;
    let certificate = rustls::pki_types::CertificateDer::from_pem_file(path)
        .map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok(certificate.to_vec())
}

/// SHA-256 from ring, through rustls's provider (no other hash crate is a dependency).
fn sha256(data: &[u8]) -> Vec<u8> {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
    suite.tls13().expect("a TLS 1.3 suite").common.hash_provider.hash(data).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An answer of a policy server, by Host header and path.
struct Route {
    host: &'static str,
    path: &'static str,
    status: &'static str,
    location: Option<&'static str>,
    body: String,
}

impl Route {
    /// `version: STSv1`, the mode, one `mx:` line, `max_age: 86400`, each line ending in CRLF.
    fn policy(host: &'static str, path: &'static str, mode: &str, mx: &str) -> Route {
        let body = format!("version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 86400\r\n");
        Route { host, path, status: "200 OK", location: None, body }
    }
}

fn policies() -> Vec<Route> {
    vec![
        Route::policy("mta-sts.sts-enforce.test", POLICY_PATH, "enforce", "mx.sts-enforce.test"),
        Route::policy("mta-sts.sts-mismatch.test", POLICY_PATH, "enforce", "other.example.net"),
        Route::policy("mta-sts.sts-testing.test", POLICY_PATH, "testing", "other.example.net"),
        Route::policy("mta-sts.sts-wildcard.test", POLICY_PATH, "enforce", "*.sts-wildcard.test"),
        Route {
            host: "mta-sts.sts-redirect.test",
            path: POLICY_PATH,
            status: "301 Moved Permanently",
            location: Some("https://mta-sts.sts-redirect.test/redirected/mta-sts.txt"),
            body: String::new(),
        },
        Route::policy("mta-sts.sts-redirect.test", "/redirected/mta-sts.txt", "enforce", "other.example.net"),
        Route::policy("mta-sts.sts-two-txt.test", POLICY_PATH, "enforce", "other.example.net"),
        // A policy of 100 KiB (valid, padded with lines a parser ignores): over the 64 KiB a sender reads.
        {
            let mut huge = Route::policy("mta-sts.sts-huge.test", POLICY_PATH, "enforce", "other.example.net");
            huge.body.push_str(&"x-padding: postie\r\n".repeat(100 * 1024 / 19));
            huge
        },
    ]
}

/// An HTTPS server in threads: each connection gets one answer by its Host header (404 for anything not in
/// `routes`), then the server closes it.
fn start_policy_server(listener: TcpListener, cert: &Path, key: &Path, routes: Vec<Route>) -> Result<(), String> {
    let config = super::tls_server_config(cert, key)?;
    let routes = Arc::new(routes);
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (config, routes) = (config.clone(), routes.clone());
            thread::spawn(move || {
                let _ = answer(stream, config, &routes, address);
            });
        }
    });
    Ok(())
}

fn answer(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    routes: &[Route],
    server: SocketAddr,
) -> Result<(), String> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let connection = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
        match tls.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
            Err(e) => {
                // A client that refused the certificate: the connection is recorded, without a request.
                let sni = tls.conn.server_name().map(String::from);
                let attempt = PolicyRequest { server, sni, host: String::new(), path: String::new() };
                POLICY_REQUESTS.lock().unwrap().push(attempt);
                return Err(e.to_string());
            }
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.split("\r\n");
    let path = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_string();
    let host = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim().split(':').next().unwrap_or("").to_ascii_lowercase())
        .unwrap_or_default();
    let sni = tls.conn.server_name().map(String::from);
    POLICY_REQUESTS.lock().unwrap().push(PolicyRequest { server, sni, host: host.clone(), path: path.clone() });
    let route = routes.iter().find(|route| route.host == host && route.path == path);
    let response = match route {
        Some(route) => format!(
            "HTTP/1.1 {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
            route.status,
            route.body.len(),
            route.location.map(|l| format!("Location: {l}\r\n")).unwrap_or_default(),
            route.body
        ),
        None => "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n"
            .to_string(),
    };
    tls.write_all(response.as_bytes()).map_err(|e| e.to_string())?;
    tls.conn.send_close_notify();
    tls.flush().map_err(|e| e.to_string())
}
