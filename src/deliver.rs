//! Getting one message to its recipients: through a smart host (`--server`), or the way an MTA does it, one
//! route and one session per recipient domain (RFC 5321 §5.1).
//!
//! Both use one attempt loop: every host in order, every address of each host in order, moving on when an
//! attempt gives no answer to the transaction (connection refused or timed out, a 4xx/5xx greeting, a drop or
//! timeout before the message was sent) and stopping at the first host that answers it. After the final dot
//! nothing is retried elsewhere: that could deliver twice.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::address::domain_of;
use crate::drive::blocking::{self, Conversation, Preamble};
use crate::error::{Error, Exit};
use crate::event::{Event, Sink, Step};
use crate::hostname;
use crate::net::socks::{self, Destination, Socks};
use crate::net::tls::{Certificates, DaneCheck, TlsClient, Verdict as TlsVerdict, Verify};
use crate::net::wire::Wire;
use crate::net::{self};
use crate::policy::sts::Mode;
use crate::report::{Outcome, Report, Transport};
use crate::route::dns::Security;
use crate::route::{self, dns, dns::Dns, dns::DnsSettings, dns::Families, dns::Route, RouteFact};
use crate::secure::dane::{self, Dane};
use crate::secure::sts::{self, Fetch as StsFetch, Sts};
use crate::smtp::client::{self, Verdict};
use crate::smtp::codec::{Content, Facts};
use crate::smtp::error::{Error as SessionError, Phase};
use crate::smtp::extensions::Dsn;
use crate::smtp::settings::{Credentials, Envelope, Settings, Stop, Timeouts, TlsPolicy};

/// How to open and run each session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `None`: implicit on port 465, required on 587, opportunistic elsewhere.
    pub tls_policy: Option<TlsPolicy>,
    /// Made when the plan may use TLS.
    pub tls: Option<Arc<TlsClient>>,
    pub credentials: Option<Credentials>,
    pub allow_plaintext_auth: bool,
    /// Credentials may go over TLS whose certificate did not verify (--insecure, --allow-plaintext-auth).
    pub allow_unverified_auth: bool,
    /// `--tls-name`: the name the certificate is checked against, whatever --server says.
    pub tls_name: Option<String>,
    /// `--max-time`: when the whole run must end, and the limit as given.
    pub give_up_at: Option<(Instant, Duration)>,
    /// `--resolve HOST:PORT:ADDRESS`: connect there instead of looking HOST up.
    pub resolve: Vec<(String, u16, IpAddr)>,
    pub dsn: Dsn,
    /// Use PIPELINING when offered (not with --no-pipelining).
    pub pipelining: bool,
    /// Use BDAT when CHUNKING is offered (--bdat).
    pub bdat: bool,
    /// A progress bar for the message content (large messages on a terminal).
    pub progress: Option<indicatif::ProgressBar>,
    /// `--quit-after` / `--drop-after`.
    pub stop: Option<Stop>,
    pub port: u16,
    pub connect_timeout: Duration,
    pub bind: Option<IpAddr>,
    pub families: Families,
    pub timeouts: Timeouts,
    pub show_data: bool,
    /// `None`: this machine's name, or the local address as a literal.
    pub client_name: Option<String>,
    /// LMTP (RFC 2033) instead of SMTP.
    pub lmtp: bool,
    /// XCLIENT attributes to send after EHLO.
    pub xclient: Vec<(String, String)>,
    /// A PROXY protocol header before anything else.
    pub proxy: Option<crate::net::proxy::Spec>,
    /// A SOCKS5 proxy to connect through (`--proxy`, `ALL_PROXY`), and the hosts reached without it.
    pub socks: Option<Arc<Socks>>,
    /// `--tls dane` / `--tls mta-sts`: each domain must publish that policy.
    pub require: Option<Require>,
    /// How to fetch MTA-STS policies; `None`: MTA-STS is not looked at.
    pub sts: Option<StsFetch>,
}

/// A transport-security policy each recipient domain must publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Require {
    Dane,
    MtaSts,
}

/// How one MX host must be reached, as the domain's policies say: DANE (RFC 7672), or an MTA-STS policy in
/// enforce mode (RFC 8461 §5). `None` from [`host_tls`]: as the options say (opportunistic by default).
#[derive(Debug, Clone)]
struct HostTls {
    /// TLS is required and this checks the certificate: DANE's records, or the web PKI.
    verify: Verify,
    dane: Option<Arc<DaneCheck>>,
}

/// The TLS policy for a port when none was given: RFC 8314 implicit TLS on 465, and submission on 587
/// carries credentials, so it must be encrypted.
pub fn default_tls_policy(port: u16) -> TlsPolicy {
    match port {
        465 => TlsPolicy::Implicit,
        587 => TlsPolicy::Required,
        _ => TlsPolicy::Opportunistic,
    }
}

/// The message and what was measured of it.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    pub content: &'a dyn Content,
    pub facts: Facts,
}

/// Who the message is from and to.
#[derive(Debug, Clone, Copy)]
pub struct Recipients<'a> {
    /// Empty for the null sender.
    pub reverse_path: &'a str,
    pub recipients: &'a [String],
}

/// Send through one server (`--server`): its addresses in turn. When no attempt gets an answer, the last
/// error is the result, so a script sees exactly what went wrong.
pub fn via_server(
    server: &net::ServerSpec,
    dns: &DnsSettings,
    envelope: Recipients<'_>,
    message: &Outgoing<'_>,
    options: &SessionOptions,
    sink: &mut dyn Sink,
) -> Result<Report, Error> {
    let name = server.host.to_string();
    let at = |ips: Vec<IpAddr>| ips.into_iter().map(|ip| Destination::Address(SocketAddr::new(ip, options.port)));
    let destinations: Vec<Destination> = match &server.host {
        net::Host::Ip(ip) if options.families.allows(*ip) => at(vec![*ip]).collect(),
        net::Host::Ip(ip) => return Err(Error::Usage(format!("--server {ip} is not of the address family asked for"))),
        net::Host::Name(host) if resolved(options, host).is_some() => {
            let ip = resolved(options, host).expect("checked");
            sink.emit(Event::Resolved { host: host.clone(), address: ip });
            at(vec![ip]).collect()
        }
        // socks5h: the proxy looks the name up.
        net::Host::Name(host) if proxy_resolves(options, host) => vec![Destination::Name(host.clone(), options.port)],
        net::Host::Name(host) => at(name_addresses(host, dns, options.families, sink)?).collect(),
    };
    let mut attempts = Attempts::new(options);
    if options.require == Some(Require::Dane) {
        // --tls-verify dane: the smart host's own TLSA records decide; without them nothing is sent.
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        let resolver = dns.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
        let (address_security, canonical) = match &server.host {
            net::Host::Name(host) => match resolver.addresses(host, options.families) {
                Ok(found) => (found.security, found.canonical),
                Err(_) => (Security::Unchecked, None),
            },
            net::Host::Ip(_) => (Security::Unchecked, None),
        };
        // The host was named by the user, not found through MX records: only its own records need be secure.
        let dane =
            dane::lookup(&resolver, bare, options.port, Security::Secure, address_security, canonical.as_deref());
        if !dane.requires_tls() {
            let why = match &dane {
                Dane::NotApplicable { why } => why.clone(),
                Dane::Failed { detail } => detail.clone(),
                _ => "it publishes no TLSA records".into(),
            };
            let detail = format!("--tls-verify dane: no secure TLSA records for {bare}: {why}");
            return Err(Error::Session(SessionError::Tls { detail }));
        }
        attempts.tls =
            host_tls(bare, &dane, &Sts::None, sink).map_err(|detail| Error::Session(SessionError::Tls { detail }))?;
    }
    if let Some(answer) = attempts.host(&name, &destinations, envelope, message, sink)? {
        let mut report = Report::default();
        answer.add_to(&mut report);
        return Ok(report);
    }
    Err(attempts.into_error(&format!("{name}:{}", options.port)))
}

/// The addresses of the server named `host`, looked up in DNS.
pub fn name_addresses(
    host: &str,
    dns: &DnsSettings,
    families: Families,
    sink: &mut dyn Sink,
) -> Result<Vec<IpAddr>, Error> {
    sink.emit(Event::Resolving { host: host.to_string() });
    let resolver = dns.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
    match route::host_addresses(&resolver, host, families).1 {
        Ok(addresses) => {
            sink.emit(Event::Route(RouteFact::Addresses { host: host.to_string(), addresses: addresses.clone() }));
            Ok(addresses)
        }
        Err(route::HostProblem::LookupFailed(reason)) => Err(Error::Dns(reason)),
        Err(problem) => Err(Error::HostUnknown(problem.describe(host))),
    }
}

/// Whether connections to `host` go through a socks5h:// proxy, which resolves the name itself (an address,
/// such as an MX that is an IP literal, goes to the proxy as an address).
fn proxy_resolves(options: &SessionOptions, host: &str) -> bool {
    host.parse::<IpAddr>().is_err()
        && options.socks.as_ref().and_then(|socks| socks.for_host(host)).is_some_and(|proxy| proxy.remote_dns)
}

/// The address `--resolve` gives for `host` on the port in use.
fn resolved(options: &SessionOptions, host: &str) -> Option<IpAddr> {
    options
        .resolve
        .iter()
        .find(|(name, port, _)| name.eq_ignore_ascii_case(host) && *port == options.port)
        .map(|(_, _, ip)| *ip)
}

/// How hard to check certificates when the user did not say: as a mail server does, opportunistic TLS
/// encrypts to any certificate (RFC 7435) and reports what is wrong; TLS that was asked for must verify.
pub fn default_verify(policy: TlsPolicy) -> Verify {
    match policy {
        TlsPolicy::Opportunistic => Verify::Report,
        TlsPolicy::Required | TlsPolicy::Implicit | TlsPolicy::Never => Verify::Strict,
    }
}

/// Deliver the way an MTA does: group recipients by domain, route each domain over DNS, one session each.
pub fn via_mx(
    dns: &Dns,
    reverse_path: &str,
    recipients: &[String],
    message: &Outgoing<'_>,
    options: &SessionOptions,
    sink: &mut dyn Sink,
) -> Report {
    let mut report = Report::default();
    for (domain, group) in group_by_domain(recipients) {
        let envelope = Recipients { reverse_path, recipients: &group };
        let failed = |report: &mut Report, permanent: bool, tls: bool, reason: &str| {
            for recipient in &group {
                report.add(recipient, Outcome::Failed { permanent, tls, reason: reason.to_string() }, None, None);
            }
        };
        match route_domain(dns, &domain, options.port, sink) {
            Err(problem) => failed(&mut report, problem.permanent(), false, &problem.to_string()),
            Ok((route, mx_security)) => {
                match deliver_route(dns, &domain, &route, mx_security, envelope, message, options, sink) {
                    Ok(answer) => answer.add_to(&mut report),
                    Err(error) => {
                        let exit = error.exit();
                        failed(&mut report, exit == Exit::Unavailable, exit == Exit::TlsFailure, &error.to_string())
                    }
                }
            }
        }
    }
    report.order_like(recipients);
    report
}

/// Try the hosts of a route in order until one answers the transaction, each reached as the domain's
/// transport-security policies say.
#[allow(clippy::too_many_arguments)]
fn deliver_route(
    dns: &Dns,
    domain: &str,
    route: &Route,
    mx_security: Security,
    envelope: Recipients<'_>,
    message: &Outgoing<'_>,
    options: &SessionOptions,
    sink: &mut dyn Sink,
) -> Result<Answer, Error> {
    let mut attempts = Attempts::new(options);
    let sts = match &options.sts {
        Some(fetch) if route::address_literal(domain).is_none() => sts::discover(dns, domain, fetch),
        _ => Sts::None,
    };
    if let Sts::Failed { result, detail } = &sts {
        // RFC 8461 §5.1: without a policy cached from before, a sender goes on as if there were none.
        sink.emit(Event::TransportPolicy {
            host: domain.to_string(),
            policy: "MTA-STS",
            detail: format!("no usable policy ({detail} [{}]): delivering as without one", result.as_str()),
        });
    }
    if options.require == Some(Require::MtaSts)
        && !matches!(&sts, Sts::Policy { policy, .. } if policy.mode != Mode::None)
    {
        let detail = format!("--tls mta-sts: {domain} publishes no MTA-STS policy in force");
        return Err(Error::Session(SessionError::Tls { detail }));
    }
    let mut any_dane = false;
    for (_, host) in route.hosts() {
        // socks5h: the MX host's name goes to the proxy, which looks up its addresses (the MX lookup stays
        // postie's). What DANE needs of the address records is still asked below; it fails quietly.
        let (warnings, found) = if proxy_resolves(options, &host) {
            (Vec::new(), Ok(Vec::new()))
        } else {
            route::host_addresses(dns, &host, options.families)
        };
        for warning in warnings {
            sink.emit(Event::Route(RouteFact::HostWarning { host: host.clone(), warning }));
        }
        match found {
            Ok(addresses) => {
                let destinations: Vec<Destination> = if addresses.is_empty() {
                    vec![Destination::Name(host.clone(), options.port)]
                } else {
                    sink.emit(Event::Route(RouteFact::Addresses { host: host.clone(), addresses: addresses.clone() }));
                    addresses.iter().map(|ip| Destination::Address(SocketAddr::new(*ip, options.port))).collect()
                };
                let (address_security, canonical) = match dns.addresses(&host, options.families) {
                    Ok(found) => (found.security, found.canonical),
                    Err(_) => (Security::Unchecked, None),
                };
                let dane = dane::lookup(dns, &host, options.port, mx_security, address_security, canonical.as_deref());
                any_dane |= dane.requires_tls();
                if options.require == Some(Require::Dane) && !dane.requires_tls() {
                    let reason = match &dane {
                        Dane::NotApplicable { why } => why.clone(),
                        Dane::Failed { detail } => detail.clone(),
                        _ => "no TLSA records".into(),
                    };
                    attempts.failures.push(format!("{host}: --tls dane: no secure TLSA records ({reason})"));
                    attempts.tls_refused = true;
                    continue;
                }
                match host_tls(&host, &dane, &sts, sink) {
                    Err(reason) => {
                        attempts.failures.push(format!("{host}: {reason}"));
                        attempts.tls_refused = true;
                        sink.emit(Event::MovedOn { address: host.clone(), reason });
                        continue;
                    }
                    Ok(tls) => attempts.tls = tls,
                }
                if let Some(answer) = attempts.host(&host, &destinations, envelope, message, sink)? {
                    return Ok(answer);
                }
            }
            Err(problem) => {
                attempts.failures.push(problem.describe(&host));
                sink.emit(Event::Route(RouteFact::HostSkipped { host: host.clone(), problem }));
            }
        }
    }
    if options.require == Some(Require::Dane) && !any_dane {
        let detail = format!("--tls dane: {domain} publishes no secure TLSA records for its MX hosts");
        return Err(Error::Session(SessionError::Tls { detail }));
    }
    if attempts.tls_refused && attempts.last_error.is_none() {
        // Every host was left out by the domain's own policy: a TLS failure, deferred as an MTA would.
        return Err(Error::Session(SessionError::Tls { detail: attempts.failures.join("; ") }));
    }
    Err(attempts.into_error(domain))
}

/// How `host` must be reached under the domain's policies, or why it must not be used at all. DANE takes
/// precedence over MTA-STS (RFC 8461 §2).
fn host_tls(host: &str, dane: &Dane, sts: &Sts, sink: &mut dyn Sink) -> Result<Option<HostTls>, String> {
    let announce = |sink: &mut dyn Sink, policy: &'static str, detail: String| {
        sink.emit(Event::TransportPolicy { host: host.to_string(), policy, detail });
    };
    match dane {
        Dane::Failed { detail } => {
            return Err(format!("the TLSA lookup failed, so DANE makes this MX unusable (RFC 7672 §2.2): {detail}"))
        }
        Dane::Records { usable, .. } if usable.is_empty() => {
            announce(sink, "DANE", "TLS required; no TLSA record is usable, so the certificate is not checked".into());
            return Ok(Some(HostTls { verify: Verify::Insecure, dane: None }));
        }
        Dane::Records { usable, .. } => {
            let records: Vec<String> = usable.iter().map(ToString::to_string).collect();
            announce(sink, "DANE", format!("TLS required; the certificate must match TLSA {}", records.join(", ")));
            return Ok(Some(HostTls { verify: Verify::Strict, dane: dane.check().map(Arc::new) }));
        }
        Dane::NotApplicable { .. } | Dane::NoRecords => {}
    }
    let Sts::Policy { policy, .. } = sts else { return Ok(None) };
    let matches = policy.matches(host);
    match policy.mode {
        Mode::Enforce if !matches => Err(format!(
            "not in the MTA-STS policy's mx list ({}), which is enforced (RFC 8461 §4.1)",
            policy.mx.join(" ")
        )),
        Mode::Enforce => {
            announce(sink, "MTA-STS enforce", "TLS required with a certificate valid for this name".into());
            Ok(Some(HostTls { verify: Verify::Strict, dane: None }))
        }
        Mode::Testing => {
            let note = if matches { "in the policy" } else { "NOT in the policy's mx list" };
            announce(
                sink,
                "MTA-STS testing",
                format!("this MX is {note}; testing mode only reports, delivering as usual"),
            );
            Ok(None)
        }
        Mode::None => Ok(None),
    }
}

/// Recipients grouped by domain (case-insensitive, in their ASCII form), domains in order of first mention.
fn group_by_domain(recipients: &[String]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for recipient in recipients {
        let domain = domain_of(recipient);
        let key = dns::ascii_domain(domain.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or_else(|_| domain.to_ascii_lowercase());
        match groups.iter_mut().find(|(d, _)| *d == key) {
            Some((_, group)) => group.push(recipient.clone()),
            None => groups.push((key, vec![recipient.clone()])),
        }
    }
    groups
}

/// The route of one domain, with each step on the transcript.
fn route_domain(
    dns: &Dns,
    domain: &str,
    port: u16,
    sink: &mut dyn Sink,
) -> Result<(Route, Security), route::RouteProblem> {
    if route::address_literal(domain).is_some() {
        sink.emit(Event::Route(RouteFact::AddressLiteral { domain: domain.to_string() }));
    } else {
        sink.emit(Event::Route(RouteFact::LookingUpMx { domain: domain.to_string() }));
    }
    let result = route::route_checked(dns, domain);
    match result.as_ref().map(|(route, _)| route) {
        Err(problem) => sink.emit(Event::Route(RouteFact::NoRoute { problem: problem.clone() })),
        Ok(Route::Mx(records)) => {
            let records = records.iter().map(|mx| (mx.preference, mx.exchange.clone())).collect();
            sink.emit(Event::Route(RouteFact::MxRecords { domain: domain.to_string(), records }));
        }
        Ok(Route::Implicit(_)) if route::address_literal(domain).is_some() => {}
        Ok(Route::Implicit(_)) => {
            sink.emit(Event::Route(RouteFact::Implicit { domain: domain.to_string(), port }));
        }
    }
    result
}

/// A session that answered the transaction: its outcome, the host, as `name [address]`, and how it was
/// protected.
struct Answer {
    outcome: client::Outcome,
    host: String,
    transport: Transport,
}

impl Answer {
    fn add_to(self, report: &mut Report) {
        for recipient in self.outcome.recipients {
            let outcome = match recipient.verdict {
                Verdict::Replied { phase, reply } => Outcome::Replied { phase, reply },
                Verdict::Unknown { error } => Outcome::Unknown { reason: error.to_string() },
            };
            report.add(&recipient.recipient, outcome, Some(&self.host), Some(self.transport.clone()));
        }
    }
}

fn transport(finished: &blocking::Finished) -> Transport {
    match (&finished.outcome, &finished.certificates) {
        (outcome, _) if !outcome.encrypted => Transport::Plain,
        (outcome, _) if outcome.verified => Transport::Verified,
        (_, Some(Certificates { verdict: TlsVerdict::Refused(problem), .. })) => {
            Transport::Unverified { reason: problem.to_string() }
        }
        _ => Transport::Unverified { reason: "no certificate was checked".into() },
    }
}

/// What a session runs over: the wire, and the addresses at both ends when it is a network connection.
struct Link {
    wire: Wire,
    /// This end's address (for the EHLO name when none is given).
    local: Option<IpAddr>,
    /// The server's (for the PROXY header).
    peer: Option<SocketAddr>,
}

impl Link {
    /// A connection to `destination`, straight or through a proxy (`proxied`): then this end's address is
    /// the way to the proxy, not what the server sees, and the server's address is the destination's.
    fn tcp(tcp: std::net::TcpStream, destination: &Destination, proxied: bool) -> Link {
        let (local, peer) = match (proxied, destination) {
            (false, _) => (tcp.local_addr().map(|a| a.ip()).ok(), tcp.peer_addr().ok()),
            (true, Destination::Address(address)) => (None, Some(*address)),
            (true, Destination::Name(..)) => (None, None),
        };
        Link { wire: Wire::Tcp(tcp), local, peer }
    }
}

/// Send over a wire the user opened (a unix socket, a command's stdin and stdout): one session, with no other
/// address to move on to. `label` names it in the report.
pub fn via_wire(
    wire: Wire,
    label: &str,
    envelope: Recipients<'_>,
    message: &Outgoing<'_>,
    options: &SessionOptions,
    sink: &mut dyn Sink,
) -> Result<Report, Error> {
    let attempts = Attempts::new(options);
    let policy = options.tls_policy.unwrap_or(TlsPolicy::Opportunistic);
    let link = Link { wire, local: None, peer: None };
    let finished = attempts.session(link, "localhost", policy, envelope, message, sink);
    let transport = transport(&finished);
    let outcome = finished.outcome;
    match outcome.error.clone() {
        Some(error) if !outcome.message_sent => Err(error.into()),
        _ => {
            let mut report = Report::default();
            Answer { outcome, host: label.to_string(), transport }.add_to(&mut report);
            Ok(report)
        }
    }
}

/// The attempts for one domain (or one server), and the last reason none gave an answer.
struct Attempts<'o> {
    options: &'o SessionOptions,
    last_error: Option<SessionError>,
    failures: Vec<String>,
    /// How the current host must be reached, when a policy says so.
    tls: Option<HostTls>,
    /// A host was left out because a policy forbids it: the failure is about TLS.
    tls_refused: bool,
}

impl<'o> Attempts<'o> {
    fn new(options: &'o SessionOptions) -> Self {
        Attempts { options, last_error: None, failures: Vec::new(), tls: None, tls_refused: false }
    }

    /// Try each address of one host. `Ok(Some)` when a server answered the transaction; `Ok(None)` when
    /// no address did and the next host should be tried; `Err` when the session failed in a way that trying
    /// elsewhere would not change.
    fn host(
        &mut self,
        name: &str,
        destinations: &[Destination],
        envelope: Recipients<'_>,
        message: &Outgoing<'_>,
        sink: &mut dyn Sink,
    ) -> Result<Option<Answer>, Error> {
        let options = self.options;
        let proxy = options.socks.as_ref().and_then(|socks| socks.for_host(name));
        for destination in destinations {
            let address = destination.to_string();
            let (is_literal, label) = match destination {
                Destination::Address(at) => {
                    let ip = at.ip();
                    let is_literal = name.trim_start_matches('[').trim_end_matches(']') == ip.to_string();
                    (is_literal, if is_literal { ip.to_string() } else { format!("{name} [{ip}]") })
                }
                Destination::Name(..) => (false, name.to_string()),
            };
            let mut connect_timeout = options.connect_timeout;
            if let Some((end, limit)) = options.give_up_at {
                let left = end.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::OutOfTime(format!(
                        "--max-time {}s passed before {address} ({name}) was tried{}",
                        limit.as_secs_f64(),
                        self.so_far()
                    )));
                }
                connect_timeout = connect_timeout.min(left);
            }
            announce(destination, (!is_literal).then_some(name), proxy, sink);
            let started = Instant::now();
            let tcp = match dial(destination, proxy, connect_timeout, options.bind)? {
                Ok(tcp) => tcp,
                Err(reason) => {
                    sink.emit(Event::MovedOn { address: address.to_string(), reason: reason.clone() });
                    self.failures.push(format!("{address}: {reason}"));
                    continue;
                }
            };
            sink.emit(Event::Step { step: Step::Connect, duration: started.elapsed() });
            sink.emit(Event::Connected { address: address.to_string(), local: local_of(&tcp) });
            let proxied = proxy.is_some();
            let policy = match &self.tls {
                Some(_) => TlsPolicy::Required,
                None => options.tls_policy.unwrap_or_else(|| default_tls_policy(options.port)),
            };
            let mut finished =
                self.session(Link::tcp(tcp, destination, proxied), name, policy, envelope, message, sink);
            // A handshake that fails under opportunistic TLS: a new connection without TLS, as Postfix does
            // (OpenSMTPD 6.8 offers STARTTLS and fails every handshake). Never when TLS was asked for.
            if let Some(SessionError::Tls { detail }) = &finished.outcome.error {
                let fallback = policy == TlsPolicy::Opportunistic
                    && self.tls.is_none()
                    && options.tls.as_ref().is_none_or(|tls| tls.verify != Some(Verify::Strict))
                    && !finished.outcome.message_sent;
                if fallback {
                    sink.emit(Event::TlsFallback { address: address.to_string(), reason: detail.clone() });
                    announce(destination, (!is_literal).then_some(name), proxy, sink);
                    match dial(destination, proxy, connect_timeout, options.bind)? {
                        Ok(tcp) => {
                            sink.emit(Event::Connected { address: address.to_string(), local: local_of(&tcp) });
                            let link = Link::tcp(tcp, destination, proxied);
                            finished = self.session(link, name, TlsPolicy::Never, envelope, message, sink);
                        }
                        Err(reason) => {
                            sink.emit(Event::MovedOn { address: address.to_string(), reason: reason.clone() });
                            self.failures.push(format!("{address}: {reason}"));
                            continue;
                        }
                    }
                }
            }
            let transport = transport(&finished);
            let outcome = finished.outcome;
            match outcome.error.clone() {
                None => return Ok(Some(Answer { outcome, host: label, transport })),
                Some(_) if outcome.message_sent => return Ok(Some(Answer { outcome, host: label, transport })),
                Some(error @ SessionError::OutOfTime { .. }) => {
                    let limit = options.give_up_at.map_or(0.0, |(_, limit)| limit.as_secs_f64());
                    return Err(Error::OutOfTime(format!(
                        "--max-time {limit}s ran out at {address} ({name}) in the {}{}",
                        error.phase(),
                        self.so_far()
                    )));
                }
                Some(error) if gave_no_answer(&error) => {
                    sink.emit(Event::MovedOn { address: address.to_string(), reason: error.to_string() });
                    self.failures.push(format!("{address}: {error}"));
                    self.last_error = Some(error);
                }
                Some(error) => return Err(error.into()),
            }
        }
        Ok(None)
    }

    /// One dialogue over `tcp` with `policy`, to its end.
    #[allow(clippy::too_many_arguments)]
    fn session(
        &self,
        link: Link,
        name: &str,
        policy: TlsPolicy,
        envelope: Recipients<'_>,
        message: &Outgoing<'_>,
        sink: &mut dyn Sink,
    ) -> blocking::Finished {
        let options = self.options;
        let client_name = match &options.client_name {
            Some(name) => name.clone(),
            None => match link.local {
                Some(local) => hostname::address_literal(local),
                None => hostname::fully_qualified().unwrap_or_else(|| "localhost".into()),
            },
        };
        let Link { wire, peer, .. } = link;
        let bare_name = name.trim_start_matches('[').trim_end_matches(']');
        let tls_name = options.tls_name.as_deref().unwrap_or(bare_name);
        let mut settings = Settings::new(&client_name, name, options.port, options.timeouts);
        settings.tls = policy;
        settings.credentials = options.credentials.clone();
        settings.allow_plaintext_auth = options.allow_plaintext_auth;
        settings.allow_unverified_auth = options.allow_unverified_auth;
        settings.envelope = Some(Envelope {
            reverse_path: envelope.reverse_path.to_string(),
            recipients: envelope.recipients.to_vec(),
            facts: message.facts,
            dsn: options.dsn.clone(),
        });
        settings.stop = options.stop;
        settings.give_up_at = options.give_up_at.map(|(end, _)| end);
        settings.pipelining = options.pipelining;
        settings.bdat = options.bdat;
        settings.lmtp = options.lmtp;
        settings.xclient = options.xclient.clone();
        let preamble = match options.proxy.map(|spec| spec.header(peer)) {
            Some(Ok(header)) => Some(Preamble::of(&header)),
            // Checked when the flags were read; a peer address of another family is the one way here.
            Some(Err(reason)) => {
                let error = SessionError::Io { phase: Phase::Connect, detail: reason };
                return blocking::Finished {
                    outcome: client::Outcome { error: Some(error), ..Default::default() },
                    certificates: None,
                };
            }
            None => None,
        };
        if let Some(bar) = &options.progress {
            bar.set_position(0);
        }
        let progress = options.progress.clone().map(|bar| move |sent: u64| bar.inc(sent));
        let conversation = Conversation {
            tls: options.tls.as_deref(),
            tls_name,
            verify: self.tls.as_ref().map_or_else(|| default_verify(policy), |tls| tls.verify),
            content: Some(message.content),
            show_data: options.show_data,
            progress: progress.as_ref().map(|p| p as &dyn Fn(u64)),
            preamble: preamble.as_ref(),
            dane: self.tls.as_ref().and_then(|tls| tls.dane.clone()),
        };
        let finished = blocking::converse(wire, settings, &conversation, sink);
        sink.emit(Event::Closed);
        finished
    }

    /// What the attempts so far came to, for a message about giving up.
    fn so_far(&self) -> String {
        match self.failures.len() {
            0 => String::new(),
            _ => format!("; so far: {}", self.failures.join("; ")),
        }
    }

    /// The error to report when no attempt got an answer.
    fn into_error(self, target: &str) -> Error {
        match (self.last_error, self.failures.len()) {
            (Some(error), 1) => error.into(),
            (None, 0) => Error::Connect { target: target.to_string(), detail: "no address to try".into() },
            (None, 1) => {
                let only = &self.failures[0];
                let detail = only.split_once(": ").map_or(only.as_str(), |(_, reason)| reason);
                Error::Connect {
                    target: only.split_once(": ").map_or(target, |(t, _)| t).to_string(),
                    detail: detail.to_string(),
                }
            }
            (_, n) => Error::Connect {
                target: target.to_string(),
                detail: format!("{n} attempts failed: {}", self.failures.join("; ")),
            },
        }
    }
}

/// Say where a connection goes: straight (`Connecting`), or through the proxy (`Proxying`). `name` is the host
/// name an address was looked up for, shown beside it (`None`: the address was given as such, or is not to be
/// named).
pub(crate) fn announce(
    destination: &Destination,
    name: Option<&str>,
    proxy: Option<&socks::Proxy>,
    sink: &mut dyn Sink,
) {
    match (proxy, destination) {
        (None, _) => sink.emit(Event::Connecting { address: destination.to_string(), host: name.map(str::to_string) }),
        (Some(proxy), Destination::Address(address)) => sink.emit(Event::Proxying {
            host: address.ip().to_string(),
            port: address.port(),
            name: name.map(str::to_string),
            proxy: proxy.describe(),
            remote_dns: false,
        }),
        (Some(proxy), Destination::Name(host, port)) => sink.emit(Event::Proxying {
            host: host.clone(),
            port: *port,
            name: None,
            proxy: proxy.describe(),
            remote_dns: true,
        }),
    }
}

/// Open a TCP connection to `destination`, straight or through `proxy`, within `timeout`. `Ok(Err(reason))`:
/// this destination failed and the next may be tried; `Err`: the proxy failed, and would for every one.
pub fn dial(
    destination: &Destination,
    proxy: Option<&socks::Proxy>,
    timeout: Duration,
    bind: Option<IpAddr>,
) -> Result<Result<std::net::TcpStream, String>, Error> {
    match (proxy, destination) {
        (None, Destination::Address(address)) => Ok(net::connect_one(*address, timeout, bind)),
        (None, Destination::Name(name, _)) => {
            Err(Error::Usage(format!("{name} must be looked up before a direct connection (no proxy)")))
        }
        (Some(proxy), _) => match socks::connect(proxy, destination, timeout, bind) {
            Ok(tcp) => Ok(Ok(tcp)),
            // An address type the proxy does not take (often IPv6): the next address may be of the other.
            Err(failure @ socks::Failure::Refused(0x08)) if matches!(destination, Destination::Address(_)) => {
                Ok(Err(format!("{} {failure}", proxy.describe())))
            }
            Err(failure) if failure.about_destination() => Ok(Err(format!("{} {failure}", proxy.describe()))),
            Err(failure) => Err(Error::Proxy { proxy: proxy.describe(), failure }),
        },
    }
}

fn local_of(tcp: &std::net::TcpStream) -> String {
    tcp.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?".into())
}

/// Whether a failed session left the transaction unanswered, so another address may be tried: the server
/// refused to talk (a 4xx or 5xx greeting; Postfix's smtp_skip_5xx_greeting does the same), or the session
/// broke off (a 421, a drop, a timeout, garbage) before the message went out.
fn gave_no_answer(error: &SessionError) -> bool {
    match error {
        SessionError::Refused { phase: Phase::Banner | Phase::Ehlo | Phase::Helo, .. } => true,
        SessionError::Refused { reply, .. } => reply.code.0 == 421,
        SessionError::Timeout { .. }
        | SessionError::Stalled { .. }
        | SessionError::Closed { .. }
        | SessionError::Violation { .. }
        | SessionError::Io { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_grouped_by_domain_in_first_mention_order() {
        let recipients: Vec<String> =
            ["a@Two.test", "b@one.test", "c@two.TEST", "d@bücher.test"].iter().map(|s| s.to_string()).collect();
        let groups = group_by_domain(&recipients);
        assert_eq!(
            groups,
            vec![
                ("two.test".to_string(), vec!["a@Two.test".to_string(), "c@two.TEST".to_string()]),
                ("one.test".to_string(), vec!["b@one.test".to_string()]),
                ("xn--bcher-kva.test".to_string(), vec!["d@bücher.test".to_string()]),
            ]
        );
    }

    #[test]
    fn which_failures_move_on() {
        let reply = |text: &str| crate::smtp::reply::parse_reply(text);
        assert!(gave_no_answer(&SessionError::Refused { phase: Phase::Banner, reply: reply("421 busy\r\n") }));
        assert!(gave_no_answer(&SessionError::Refused { phase: Phase::Banner, reply: reply("554 go away\r\n") }));
        assert!(gave_no_answer(&SessionError::Closed { phase: Phase::MailFrom }));
        assert!(gave_no_answer(&SessionError::Refused { phase: Phase::RcptTo, reply: reply("421 closing\r\n") }));
        assert!(!gave_no_answer(&SessionError::Refused { phase: Phase::StartTls, reply: reply("454 no\r\n") }));
        assert!(!gave_no_answer(&SessionError::Tls { detail: "x".into() }));
    }
}
