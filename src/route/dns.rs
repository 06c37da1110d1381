//! DNS for routing mail: MX and address lookups with hickory, and the route of a domain as a pure function
//! of what DNS said (RFC 5321 §5.1, RFC 7505).
//!
//! hickory is asynchronous; postie is not. One current-thread tokio runtime drives each lookup to the end
//! with `block_on`, bounded by the DNS timeout, so a silent DNS server can never hang postie.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError, NoRecords};
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::TokioResolver;

/// One MX record: lower preference is tried first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mx {
    pub preference: u16,
    /// The exchange without its final dot; empty for the root (".", a null MX).
    pub exchange: String,
}

/// What DNS said about a domain's MX records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxAnswer {
    Records(Vec<Mx>),
    /// The domain exists but has no MX records.
    NoRecords,
    /// NXDOMAIN: the domain does not exist.
    NoSuchDomain,
}

/// Where mail for a domain goes, in the order to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Mx(Vec<Mx>),
    /// No MX records: the domain's own address records act as an MX of preference 0 (RFC 5321 §5.1).
    Implicit(String),
}

impl Route {
    /// The hosts to try, in order, with their preference (`None` for the implicit MX).
    pub fn hosts(&self) -> Vec<(Option<u16>, String)> {
        match self {
            Route::Mx(records) => records.iter().map(|mx| (Some(mx.preference), mx.exchange.clone())).collect(),
            Route::Implicit(domain) => vec![(None, domain.clone())],
        }
    }
}

/// Why a domain has no route. Both are permanent: retrying will not change DNS's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("{0} does not accept mail: it publishes a null MX (RFC 7505)")]
    NullMx(String),
    #[error("domain {0} does not exist (NXDOMAIN)")]
    NoSuchDomain(String),
}

/// A lookup that failed for a reason that may pass: the DNS server timed out, failed or refused.
/// RFC 5321 §5.1: never fall back to address records on such a failure; the MX records may exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DnsFailure(pub String);

/// The route of `domain` given the MX answer. Records of equal preference are shuffled with `seed`
/// (RFC 5321 §5.1: "randomize them to spread the load"), so the result is reproducible in tests.
pub fn route(domain: &str, answer: MxAnswer, seed: u64) -> Result<Route, RouteError> {
    let mut records = match answer {
        MxAnswer::NoSuchDomain => return Err(RouteError::NoSuchDomain(domain.to_string())),
        MxAnswer::NoRecords => return Ok(Route::Implicit(domain.to_string())),
        MxAnswer::Records(records) if records.is_empty() => return Ok(Route::Implicit(domain.to_string())),
        MxAnswer::Records(records) => records,
    };
    // RFC 7505 §3: a null MX is a single record of preference 0 pointing at the root. Alongside other
    // records it is a misconfiguration; then the root entry is only unusable and the others are tried.
    if records.iter().all(|mx| mx.exchange.is_empty()) {
        return Err(RouteError::NullMx(domain.to_string()));
    }
    records.retain(|mx| !mx.exchange.is_empty());
    let mut random = XorShift(seed | 1);
    records.sort_by_key(|mx| mx.preference);
    for group in records.chunk_by_mut(|a, b| a.preference == b.preference) {
        for i in (1..group.len()).rev() {
            let j = (random.next() % (i as u64 + 1)) as usize;
            group.swap(i, j);
        }
    }
    records.dedup();
    Ok(Route::Mx(records))
}

/// A seed for `route` from the process's random hash keys: no extra crate for one shuffle.
pub fn random_seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Which address families to use (`-4`, `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Families {
    #[default]
    Both,
    V4,
    V6,
}

impl Families {
    pub fn allows(self, ip: IpAddr) -> bool {
        match self {
            Families::Both => true,
            Families::V4 => ip.is_ipv4(),
            Families::V6 => ip.is_ipv6(),
        }
    }
}

/// The addresses of one host, and what else the lookup showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddresses {
    /// IPv6 first, then IPv4.
    pub addresses: Vec<IpAddr>,
    /// The canonical name when the host is an alias (CNAME), which RFC 2181 §10.3 forbids for an MX.
    pub canonical: Option<String>,
    /// The name does not exist at all.
    pub no_such_host: bool,
    /// The least secure of the answers.
    pub security: Security,
}

impl Default for HostAddresses {
    fn default() -> Self {
        HostAddresses { addresses: Vec::new(), canonical: None, no_such_host: false, security: Security::Unchecked }
    }
}

/// Which DNS server to ask and for how long; the resolver is made only when a lookup is needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// `--dns-server`; `None` for the servers in /etc/resolv.conf.
    pub server: Option<SocketAddr>,
    pub timeout: Duration,
    /// Validate answers with DNSSEC, in process: from this trust anchor file (`--trust-anchor`), or from the
    /// root's keys when `Some(None)` (`--dnssec`). `None`: no validation; every answer is unchecked.
    pub trust_anchor: Option<Option<PathBuf>>,
    /// `--dns-trust-ad`: believe the resolver's AD bit instead (it must be a validating resolver you trust).
    pub trust_ad: bool,
}

impl DnsSettings {
    pub fn resolver(&self) -> Result<Dns, DnsFailure> {
        let mut dns = Dns::new(self.server, self.timeout, self.trust_anchor.as_ref().map(Option::as_deref))?;
        if self.trust_ad {
            let server = match self.server {
                Some(server) => server,
                None => system_resolver()?,
            };
            dns.trust_ad = Some(server);
            dns.validating = true;
        }
        Ok(dns)
    }
}

/// The first name server of /etc/resolv.conf, for the queries that read the AD bit.
fn system_resolver() -> Result<SocketAddr, DnsFailure> {
    let (config, _) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| DnsFailure(format!("cannot read the system DNS configuration: {e}")))?;
    config
        .name_servers
        .first()
        .map(|server| SocketAddr::new(server.ip, 53))
        .ok_or_else(|| DnsFailure("/etc/resolv.conf names no DNS server for --dns-trust-ad".into()))
}

/// Check a `--trust-anchor` file before anything is looked up: it must parse, and hold at least one DNSKEY.
pub fn check_trust_anchor(text: &str) -> Result<(), String> {
    use std::str::FromStr;
    TrustAnchors::from_str(text).map_err(|e| {
        format!("{e} (give DNSKEY records in zone-file form, e.g. \"test. 300 IN DNSKEY 257 3 13 ...\")")
    })?;
    let records = text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with(';')).count();
    if records == 0 {
        return Err("it holds no DNSKEY record: nothing could validate".into());
    }
    Ok(())
}

/// What DNSSEC says of an answer (RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// A chain of signatures from the trust anchor proves it.
    Secure,
    /// It is provably outside any signed zone (an unsigned delegation).
    Insecure,
    /// No validation was asked for.
    Unchecked,
}

impl std::fmt::Display for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Security::Secure => "secure",
            Security::Insecure => "insecure",
            Security::Unchecked => "not checked",
        })
    }
}

/// A TLSA record as DNS gave it (RFC 6698 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsaRecord {
    pub usage: u8,
    pub selector: u8,
    pub matching: u8,
    pub data: Vec<u8>,
}

pub struct Dns {
    runtime: tokio::runtime::Runtime,
    resolver: TokioResolver,
    timeout: Duration,
    validating: bool,
    /// `--dns-trust-ad`: ask this validating resolver directly and believe its AD bit.
    trust_ad: Option<SocketAddr>,
}

impl Dns {
    /// A resolver asking `server` (`--dns-server`), or the ones in /etc/resolv.conf; validating with DNSSEC
    /// when `trust_anchor` is given (`Some(None)`: the root's keys).
    pub fn new(
        server: Option<SocketAddr>,
        timeout: Duration,
        trust_anchor: Option<Option<&Path>>,
    ) -> Result<Dns, DnsFailure> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| DnsFailure(format!("cannot start the DNS runtime: {e}")))?;
        let provider = TokioRuntimeProvider::default();
        let mut builder = match server {
            Some(server) => {
                let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
                for connection in &mut name_server.connections {
                    connection.port = server.port();
                }
                TokioResolver::builder_with_config(ResolverConfig::from_name_servers(vec![name_server]), provider)
            }
            None => TokioResolver::builder(provider)
                .map_err(|e| DnsFailure(format!("cannot read the system DNS configuration: {e}")))?,
        };
        let options: &mut ResolverOpts = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 1;
        // Keep CNAME records in answers, to report an MX that points at an alias.
        options.preserve_intermediates = true;
        // Names are absolute: never append a search domain to an MX host.
        options.ndots = 0;
        // /etc/hosts first, as getaddrinfo would do for --server.
        options.use_hosts_file = ResolveHosts::Always;
        if let Some(anchor) = trust_anchor {
            let anchors = match anchor {
                // hickory 0.26: ResolverOpts::trust_anchor is ignored; only the builder's anchor is used.
                Some(path) => TrustAnchors::from_file(path).map_err(|e| {
                    DnsFailure(format!(
                        "--trust-anchor {}: {e} (give DNSKEY records in zone-file form, e.g. \"test. 300 IN DNSKEY 257 3 13 ...\")",
                        path.display()
                    ))
                })?,
                None => TrustAnchors::default(),
            };
            builder = builder.with_trust_anchor(Arc::new(anchors));
        }
        let resolver = builder.build().map_err(|e| DnsFailure(format!("cannot set up the resolver: {e}")))?;
        Ok(Dns { runtime, resolver, timeout, validating: trust_anchor.is_some(), trust_ad: None })
    }

    /// Whether answers are validated with DNSSEC.
    pub fn is_validating(&self) -> bool {
        self.validating
    }

    /// The TLSA records at `name` (`_25._tcp.mx.example.com`), and how secure the answer is. A bogus answer
    /// is an error: RFC 7672 §2.2 makes that MX unusable.
    pub fn tlsa(&self, name: &str) -> Result<(Vec<TlsaRecord>, Security), DnsFailure> {
        let what = format!("TLSA lookup for {name}");
        let (records, security) = match self.lookup(&what, absolute_name(name)?, RecordType::TLSA)? {
            (Answer::Records(records), security) => (records, security),
            (Answer::Empty | Answer::NoSuchName, security) => (Vec::new(), security),
        };
        let records = records
            .into_iter()
            .filter_map(|data| match data {
                RData::TLSA(tlsa) => Some(TlsaRecord {
                    usage: tlsa.cert_usage.into(),
                    selector: tlsa.selector.into(),
                    matching: tlsa.matching.into(),
                    data: tlsa.cert_data.clone(),
                }),
                _ => None,
            })
            .collect();
        Ok((records, security))
    }

    /// The TXT records at `name`, each record's strings joined (RFC 7208 §3.3 does the same for SPF).
    pub fn txt(&self, name: &str) -> Result<Vec<String>, DnsFailure> {
        let what = format!("TXT lookup for {name}");
        match self.lookup(&what, absolute_name(name)?, RecordType::TXT)?.0 {
            Answer::Records(records) => Ok(records
                .into_iter()
                .filter_map(|data| match data {
                    RData::TXT(txt) => {
                        Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect::<String>())
                    }
                    _ => None,
                })
                .collect()),
            Answer::Empty | Answer::NoSuchName => Ok(Vec::new()),
        }
    }

    /// The MX records of `domain`, and how secure the answer is.
    pub fn mx_checked(&self, domain: &str) -> Result<(MxAnswer, Security), DnsFailure> {
        let name = absolute_name(domain)?;
        let what = format!("MX lookup for {domain}");
        let (answer, security) = self.lookup(&what, name, RecordType::MX)?;
        Ok((mx_answer(answer), security))
    }

    /// The MX records of `domain`.
    pub fn mx(&self, domain: &str) -> Result<MxAnswer, DnsFailure> {
        self.mx_checked(domain).map(|(answer, _)| answer)
    }

    /// The addresses of `host`: AAAA then A, as `families` allows.
    pub fn addresses(&self, host: &str, families: Families) -> Result<HostAddresses, DnsFailure> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(HostAddresses { addresses: vec![ip], ..HostAddresses::default() });
        }
        let mut result = HostAddresses::default();
        let (mut records_security, mut denial_security) = (Security::Secure, Security::Secure);
        let mut nx = 0;
        let types: &[RecordType] = match families {
            Families::Both => &[RecordType::AAAA, RecordType::A],
            Families::V4 => &[RecordType::A],
            Families::V6 => &[RecordType::AAAA],
        };
        let mut bogus_family = None;
        for &record_type in types {
            let what = format!("{record_type} lookup for {host}");
            let (answer, security) = match self.lookup(&what, absolute_name(host)?, record_type) {
                // A family whose answer fails validation is left out; only the other family's proven records
                // are used (hickory 0.26 fails to prove some NODATA answers behind a CNAME). With none, the
                // failure stands.
                Err(failure) if is_bogus(&failure) => {
                    bogus_family = Some(failure);
                    continue;
                }
                other => other?,
            };
            // The addresses that will be used decide (RFC 7672 §2.2.2); a missing AAAA says nothing of the A.
            if matches!(answer, Answer::Records(_)) {
                records_security = records_security.max(security);
            } else {
                denial_security = denial_security.max(security);
            }
            match answer {
                Answer::NoSuchName => nx += 1,
                Answer::Empty => {}
                Answer::Records(records) => {
                    for data in records {
                        match data {
                            RData::A(a) => result.addresses.push(IpAddr::V4(a.0)),
                            RData::AAAA(aaaa) => result.addresses.push(IpAddr::V6(aaaa.0)),
                            RData::CNAME(target) => {
                                result.canonical = Some(target.0.to_ascii().trim_end_matches('.').to_string())
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        if let Some(failure) = bogus_family {
            if result.addresses.is_empty() {
                return Err(failure);
            }
        }
        result.no_such_host = nx == types.len();
        result.security = if result.addresses.is_empty() { denial_security } else { records_security };
        Ok(result)
    }

    /// The PTR names of an address (reverse DNS); empty when there are none.
    pub fn reverse(&self, ip: IpAddr) -> Result<Vec<String>, DnsFailure> {
        let name = Name::from(ip);
        match self.lookup(&format!("PTR lookup for {ip}"), name, RecordType::PTR)?.0 {
            Answer::Records(records) => Ok(records
                .into_iter()
                .filter_map(|data| match data {
                    RData::PTR(ptr) => Some(ptr.0.to_ascii().trim_end_matches('.').to_string()),
                    _ => None,
                })
                .collect()),
            Answer::Empty | Answer::NoSuchName => Ok(Vec::new()),
        }
    }

    /// One lookup, bounded by the timeout; with validation on, how secure the answer is (a bogus one is an
    /// error: never fall back to an answer that failed validation).
    fn lookup(&self, what: &str, name: Name, record_type: RecordType) -> Result<(Answer, Security), DnsFailure> {
        if let Some(server) = self.trust_ad {
            return trusting_ad(what, server, &name, record_type, self.timeout);
        }
        // hickory has its own per-try timeout; this bounds the whole lookup, whatever it retries.
        let limit = self.timeout + Duration::from_millis(250);
        let result =
            self.runtime.block_on(async { tokio::time::timeout(limit, self.resolver.lookup(name, record_type)).await });
        let timed_out = || DnsFailure(format!("{what} timed out after {}s", self.timeout.as_secs_f32()));
        match result {
            Err(_elapsed) => Err(timed_out()),
            Ok(Ok(lookup)) => {
                let records: Vec<&Record> =
                    lookup.answers().iter().filter(|r| r.record_type() != RecordType::RRSIG).collect();
                let security = self.proven(records.iter().map(|r| r.proof));
                if security.is_err() {
                    return Err(bogus(what));
                }
                let data = records.into_iter().map(|r| r.data.clone()).collect();
                Ok((Answer::Records(data), security.unwrap_or(Security::Unchecked)))
            }
            Ok(Err(NetError::Dns(DnsError::Nsec { proof, response, .. }))) => {
                let answer =
                    if response.response_code == ResponseCode::NXDomain { Answer::NoSuchName } else { Answer::Empty };
                match self.proven(std::iter::once(proof)) {
                    Ok(security) => Ok((answer, security)),
                    Err(()) => Err(bogus(what)),
                }
            }
            Ok(Err(NetError::Dns(DnsError::DnssecBogus))) => Err(bogus(what)),
            Ok(Err(NetError::Dns(DnsError::NoRecordsFound(none)))) => {
                let answer =
                    if none.response_code == ResponseCode::NXDomain { Answer::NoSuchName } else { Answer::Empty };
                Ok((answer, self.denial(&none)))
            }
            Ok(Err(NetError::Timeout)) => Err(timed_out()),
            Ok(Err(error)) => Err(DnsFailure(format!("{what} failed: {}", describe(&error)))),
        }
    }

    /// The security of an answer from its records' proofs: secure only when every one is; bogus (`Err`) when
    /// any is. Without validation, unchecked.
    fn proven(&self, proofs: impl Iterator<Item = Proof>) -> Result<Security, ()> {
        if !self.validating {
            return Ok(Security::Unchecked);
        }
        let mut security = Security::Secure;
        for proof in proofs {
            match proof {
                Proof::Secure => {}
                Proof::Insecure => security = Security::Insecure,
                Proof::Bogus | Proof::Indeterminate => return Err(()),
            }
        }
        Ok(security)
    }

    /// How secure a denial is: its authority records (SOA, NSEC, NSEC3 and their proofs) say; one without
    /// any could not be proven.
    fn denial(&self, none: &NoRecords) -> Security {
        if !self.validating {
            return Security::Unchecked;
        }
        match none.authorities.as_deref() {
            Some(authorities) if !authorities.is_empty() => {
                let proofs = authorities.iter().filter(|r| r.record_type() != RecordType::RRSIG).map(|r| r.proof);
                // A denial whose proof is bogus is not believed: treated as unproven.
                self.proven(proofs).unwrap_or(Security::Insecure)
            }
            _ => Security::Insecure,
        }
    }
}

/// One lookup through a validating resolver whose AD bit is believed: secure with AD, insecure without; a
/// SERVFAIL is what such a resolver answers for bogus data, and is a failure.
fn trusting_ad(
    what: &str,
    server: SocketAddr,
    name: &Name,
    record_type: RecordType,
    timeout: Duration,
) -> Result<(Answer, Security), DnsFailure> {
    let answer = super::trust_ad::query(server, name, record_type, timeout)
        .map_err(|reason| DnsFailure(format!("{what} at {server} failed: {reason}")))?;
    let security = if answer.authentic { Security::Secure } else { Security::Insecure };
    match answer.response_code {
        ResponseCode::NoError if answer.records.is_empty() => Ok((Answer::Empty, security)),
        ResponseCode::NoError => Ok((Answer::Records(answer.records), security)),
        ResponseCode::NXDomain => Ok((Answer::NoSuchName, security)),
        ResponseCode::ServFail => Err(DnsFailure(format!(
            "{what} failed: the resolver answered SERVFAIL (a validating resolver does so for bogus data)"
        ))),
        code => Err(DnsFailure(format!("{what} failed: the resolver answered {code}"))),
    }
}

/// The words `bogus` ends every validation failure with.
const BOGUS_MARK: &str = "[dnssec-invalid]";

fn is_bogus(failure: &DnsFailure) -> bool {
    failure.0.ends_with(BOGUS_MARK)
}

fn bogus(what: &str) -> DnsFailure {
    // The TLS-RPT result type (RFC 8460 §4.3.2.1) a sender reports for it, so the words match the reports.
    DnsFailure(format!("{what}: DNSSEC validation failed (bogus): the answer cannot be trusted {BOGUS_MARK}"))
}

fn mx_answer(answer: Answer) -> MxAnswer {
    match answer {
        Answer::NoSuchName => MxAnswer::NoSuchDomain,
        Answer::Empty => MxAnswer::NoRecords,
        Answer::Records(records) => MxAnswer::Records(
            records
                .into_iter()
                .filter_map(|data| match data {
                    RData::MX(mx) => Some(Mx {
                        preference: mx.preference,
                        exchange: mx.exchange.to_ascii().trim_end_matches('.').to_string(),
                    }),
                    _ => None,
                })
                .collect(),
        ),
    }
}

enum Answer {
    Records(Vec<RData>),
    Empty,
    NoSuchName,
}

fn describe(error: &NetError) -> String {
    match error {
        NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(ResponseCode::ServFail)) => {
            "the DNS server answered SERVFAIL".into()
        }
        NetError::Dns(hickory_resolver::net::DnsError::ResponseCode(ResponseCode::Refused)) => {
            "the DNS server refused the query".into()
        }
        other => other.to_string(),
    }
}

/// The domain as an absolute ASCII name; internationalised names become punycode (IDNA).
fn absolute_name(domain: &str) -> Result<Name, DnsFailure> {
    let mut name =
        Name::from_str_relaxed(domain).map_err(|e| DnsFailure(format!("{domain:?} is not a valid domain: {e}")))?;
    name.set_fqdn(true);
    Ok(name)
}

/// The ASCII (punycode) form of a domain, for display and lookups.
pub fn ascii_domain(domain: &str) -> Result<String, String> {
    Name::from_str_relaxed(domain)
        .map(|name| name.to_ascii().trim_end_matches('.').to_string())
        .map_err(|_| format!("{domain:?} is not a valid domain name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(preference: u16, exchange: &str) -> Mx {
        Mx { preference, exchange: exchange.into() }
    }

    #[test]
    fn records_are_sorted_by_preference() {
        let answer = MxAnswer::Records(vec![mx(20, "b.test"), mx(5, "a.test"), mx(30, "c.test")]);
        let route = route("x.test", answer, 1).unwrap();
        assert_eq!(route, Route::Mx(vec![mx(5, "a.test"), mx(20, "b.test"), mx(30, "c.test")]));
        assert_eq!(route.hosts()[0], (Some(5), "a.test".to_string()));
    }

    #[test]
    fn equal_preferences_are_shuffled_but_kept_in_their_band() {
        let records = vec![mx(10, "a.test"), mx(10, "b.test"), mx(10, "c.test"), mx(20, "z.test")];
        let mut firsts = std::collections::HashSet::new();
        for seed in 0..64 {
            let Route::Mx(ordered) = route("x.test", MxAnswer::Records(records.clone()), seed).unwrap() else {
                panic!()
            };
            assert_eq!(ordered.len(), 4);
            assert_eq!(ordered[3], mx(20, "z.test"));
            firsts.insert(ordered[0].exchange.clone());
        }
        assert_eq!(firsts.len(), 3, "every host of the band comes first for some seed");
    }

    #[test]
    fn implicit_mx_when_there_are_no_records() {
        assert_eq!(route("x.test", MxAnswer::NoRecords, 0), Ok(Route::Implicit("x.test".into())));
        assert_eq!(route("x.test", MxAnswer::NoRecords, 0).unwrap().hosts(), vec![(None, "x.test".to_string())]);
    }

    #[test]
    fn null_mx_and_nxdomain_are_permanent() {
        assert_eq!(route("x.test", MxAnswer::Records(vec![mx(0, "")]), 0), Err(RouteError::NullMx("x.test".into())));
        assert_eq!(route("x.test", MxAnswer::NoSuchDomain, 0), Err(RouteError::NoSuchDomain("x.test".into())));
        // A null MX beside real records is a misconfiguration; the real ones are used.
        let mixed = route("x.test", MxAnswer::Records(vec![mx(0, ""), mx(10, "a.test")]), 0);
        assert_eq!(mixed, Ok(Route::Mx(vec![mx(10, "a.test")])));
    }

    #[test]
    fn idn_domains_become_punycode() {
        assert_eq!(ascii_domain("bücher.test").unwrap(), "xn--bcher-kva.test");
        assert_eq!(ascii_domain("Example.TEST").unwrap(), "example.test");
    }

    #[test]
    fn trust_anchor_files_are_checked() {
        assert!(check_trust_anchor("; only a comment\n").unwrap_err().contains("no DNSKEY record"));
        assert!(check_trust_anchor("test. 300 IN DS 1 13 2 ABCD\n").unwrap_err().contains("zone-file form"));
        assert!(check_trust_anchor("this is not a record\n").is_err());
        let key = "test. 300 IN DNSKEY 257 3 13 \
                   mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==";
        assert_eq!(check_trust_anchor(key), Ok(()));
    }

    #[test]
    fn families() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(Families::Both.allows(v4) && Families::Both.allows(v6));
        assert!(Families::V4.allows(v4) && !Families::V4.allows(v6));
        assert!(Families::V6.allows(v6) && !Families::V6.allows(v4));
    }
}
