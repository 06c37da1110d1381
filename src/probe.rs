//! `postie probe DOMAIN|HOST[:PORT]`: everything about a domain's mail servers in one command. Every MX host
//! and every address is probed in parallel: connect and greeting times, reverse DNS against the names the
//! server gives, the EHLO capabilities explained, STARTTLS with the certificate's verdict and days left, and
//! with `--rcpt`, whether MAIL and RCPT are accepted (then RSET and QUIT: no message is sent).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::drive::blocking::{self, Conversation};
use crate::error::{Error, Exit};
use crate::event::{Event, Sink};
use crate::net::tls::{DaneVerdict, Problem};
use crate::net::wire::Wire;
use crate::net::{self, tls::TlsClient, tls::Verdict};
use crate::policy::report::ResultType;
use crate::policy::sts::Mode;
use crate::policy::tlsrpt;
use crate::route::dns::Security;
use crate::route::{self, dns::Dns, dns::Families};
use crate::secure::dane::{self, Dane};
use crate::secure::sts::{self, Fetch as StsFetch, Sts};
use crate::secure::verdict::{self, Decision, Facts, Sender, StsFor, Tls, Verdict as SenderVerdict};
use crate::smtp::error::Error as SessionError;
use crate::smtp::reply::Reply;
use crate::smtp::settings::{Envelope, Settings as Dialogue, Stop, StopPoint, Timeouts, TlsPolicy};

/// How bad a finding is; the worst one decides an address's verdict and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Ok,
    Warning,
    /// STARTTLS missing or failed, or the certificate does not verify: exit 4.
    Tls,
    /// A 5xx to the greeting, MAIL or RCPT: exit 69.
    Refused,
    /// No connection, no greeting, a 4xx: exit 75.
    Unreachable,
}

impl Severity {
    pub fn word(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Warning => "warning",
            Severity::Tls => "TLS problem",
            Severity::Refused => "refused",
            Severity::Unreachable => "unreachable",
        }
    }

    pub fn exit(self) -> Exit {
        match self {
            Severity::Ok | Severity::Warning => Exit::Success,
            Severity::Tls => Exit::TlsFailure,
            Severity::Refused => Exit::Unavailable,
            Severity::Unreachable => Exit::TempFail,
        }
    }
}

/// What was found at one address.
#[derive(Debug, Clone, Default)]
pub struct AddressProbe {
    pub host: String,
    pub preference: Option<u16>,
    pub address: Option<SocketAddr>,
    pub connect_ms: Option<f64>,
    pub greeting_ms: Option<f64>,
    pub banner: Option<Reply>,
    pub reverse_dns: Vec<String>,
    pub ehlo_name: Option<String>,
    pub capabilities: Vec<(String, Vec<String>)>,
    pub tls: Option<String>,
    pub certificate: Option<String>,
    pub days_left: Option<i64>,
    pub mail: Option<Reply>,
    pub rcpt: Option<Reply>,
    pub findings: Vec<(Severity, String)>,
    /// How secure the MX and address answers were (DNSSEC), e.g. "MX secure, address secure".
    pub dnssec: Option<String>,
    /// What DANE means for this host and port.
    pub dane: Option<Dane>,
    /// What the TLSA records said of the chain.
    pub dane_result: Option<DaneVerdict>,
    /// The domain's MTA-STS policy applies, and whether this MX host matches it: `(mode, matches)`.
    pub sts: Option<(String, bool)>,
    /// What each kind of sender would do here.
    pub verdicts: Vec<SenderVerdict>,
    /// The whole dialogue, each event with the time it happened (for `-v`).
    pub events: Vec<(Instant, Event)>,
    /// DNSSEC facts the dialogue needs: the security of the MX and of the address answers.
    security: Option<(Security, Security)>,
    /// The host is an alias (CNAME) of this name.
    canonical: Option<String>,
    /// The web PKI's verdict on the chain.
    pkix: Option<Verdict>,
    /// The TLS handshake failed, and why.
    tls_failure: Option<String>,
}

/// What the domain publishes for senders' transport security (probe of a domain, not of a host).
#[derive(Debug, Clone)]
pub struct DomainPolicies {
    pub domain: String,
    pub sts: Sts,
    /// The TLS-RPT record's report destinations, or why there is none.
    pub tlsrpt: Result<Option<Vec<String>>, String>,
}

impl AddressProbe {
    pub fn severity(&self) -> Severity {
        self.findings.iter().map(|(s, _)| *s).max().unwrap_or(Severity::Ok)
    }

    pub fn find(&mut self, severity: Severity, text: impl Into<String>) {
        self.findings.push((severity, text.into()));
    }
}

/// How to probe.
pub struct Settings {
    pub port: u16,
    pub families: Families,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub bind: Option<IpAddr>,
    /// `--helo`, or this machine's name; `None`: the connection's local address as a literal.
    pub client_name: Option<String>,
    pub tls: Arc<TlsClient>,
    /// The sender for `--rcpt` (empty: the null sender).
    pub from: String,
    pub rcpt: Option<String>,
    /// Implicit TLS (SMTPS) instead of STARTTLS.
    pub implicit: bool,
    /// How to fetch MTA-STS policies.
    pub sts: StsFetch,
}

/// Probe every address of every host `target` routes to, at once. Routing and reverse DNS come first, in
/// this thread (the resolver is single-threaded); then each address gets its own thread.
pub fn probe_all(
    dns: &Dns,
    target: &str,
    settings: &Settings,
) -> Result<(Vec<AddressProbe>, Option<DomainPolicies>), Error> {
    let mut probes = targets(dns, target, settings.families, settings.port)?;
    let policies = (route::address_literal(target).is_none()).then(|| domain_policies(dns, target, &settings.sts));
    let mut dane_by_host: Vec<(String, Dane)> = Vec::new();
    for probe in &mut probes {
        if let Some(address) = probe.address {
            match dns.reverse(address.ip()) {
                Ok(names) => probe.reverse_dns = names,
                Err(failure) => probe.find(Severity::Warning, format!("reverse DNS lookup failed: {failure}")),
            }
        }
        if let Some((mx, host)) = probe.security {
            probe.dnssec = Some(format!("MX {mx}, address {host}"));
            let known = dane_by_host.iter().find(|(h, _)| *h == probe.host).map(|(_, d)| d.clone());
            let dane = known.unwrap_or_else(|| {
                let dane = dane::lookup(dns, &probe.host, settings.port, mx, host, probe.canonical.as_deref());
                dane_by_host.push((probe.host.clone(), dane.clone()));
                dane
            });
            probe.dane = Some(dane);
        }
        if let Some(DomainPolicies { sts: Sts::Policy { policy, .. }, .. }) = &policies {
            probe.sts = Some((policy.mode.to_string(), policy.matches(&probe.host)));
        }
    }
    thread::scope(|scope| {
        for probe in probes.iter_mut().filter(|p| p.address.is_some()) {
            scope.spawn(move || probe_address(probe, settings));
        }
    });
    for probe in &mut probes {
        judge(probe, policies.as_ref());
    }
    Ok((probes, policies))
}

/// The domain's MTA-STS policy and TLS-RPT record.
fn domain_policies(dns: &Dns, domain: &str, fetch: &StsFetch) -> DomainPolicies {
    let sts = sts::discover(dns, domain, fetch);
    let tlsrpt = match dns.txt(&format!("_smtp._tls.{domain}")) {
        Ok(txts) => tlsrpt::select_tlsrpt_record(&txts)
            .map(|record| record.map(|r| r.rua.iter().map(ToString::to_string).collect())),
        Err(failure) => Err(failure.to_string()),
    };
    DomainPolicies { domain: domain.to_string(), sts, tlsrpt }
}

/// What each kind of sender would do with this address, and the findings that follow from it.
fn judge(probe: &mut AddressProbe, policies: Option<&DomainPolicies>) {
    let Some(dane) = probe.dane.clone() else { return };
    if probe.banner.is_none() {
        return;
    }
    let sts = match (policies.map(|p| &p.sts), &probe.sts) {
        (Some(Sts::Policy { policy, .. }), Some((_, matches))) if policy.mode != Mode::None => {
            StsFor::Policy { enforce: policy.mode == Mode::Enforce, matches: *matches }
        }
        _ => StsFor::None,
    };
    let tls = match (&probe.tls, &probe.tls_failure) {
        (_, Some(why)) => Tls::Failed(why.clone()),
        (None, None) => Tls::NotOffered,
        (Some(_), None) => Tls::Done {
            pkix: match &probe.pkix {
                Some(Verdict::Refused(problem)) => Err((result_type(problem), problem.to_string())),
                _ => Ok(()),
            },
            dane_match: probe.dane_result.as_ref().map(|d| d.result.clone()),
        },
    };
    let verdicts = verdict::judge(&Facts { dane, sts, tls });
    for verdict in &verdicts {
        let result = verdict.result.map(|r| format!(" [{}]", r.as_str())).unwrap_or_default();
        match (verdict.sender, verdict.decision) {
            (Sender::Opportunistic, _) => {}
            (_, Decision::Defer) => probe.find(
                Severity::Tls,
                format!("a {} defers ({}): {}{result}", verdict.sender.name(), verdict.policy, verdict.why),
            ),
            (_, _) if verdict.result.is_some() && verdict.policy != "none" => probe.find(
                Severity::Warning,
                format!(
                    "a {} {} ({}): {}{result}",
                    verdict.sender.name(),
                    verdict.decision.word(),
                    verdict.policy,
                    verdict.why
                ),
            ),
            _ => {}
        }
    }
    probe.verdicts = verdicts.to_vec();
}

/// A web PKI failure as TLS-RPT names it (RFC 8460 §4.3.1).
fn result_type(problem: &Problem) -> ResultType {
    match problem {
        Problem::Expired { .. } | Problem::NotYetValid { .. } => ResultType::CertificateExpired,
        Problem::NameMismatch { .. } => ResultType::CertificateHostMismatch,
        Problem::UnknownIssuer { .. } => ResultType::CertificateNotTrusted,
        _ => ResultType::ValidationFailure,
    }
}

/// One probe per address of every host the target routes to (a domain's MX hosts, or the host itself).
fn targets(dns: &Dns, target: &str, families: Families, port: u16) -> Result<Vec<AddressProbe>, Error> {
    let (hosts, mx_security) = if let Some(ip) = route::address_literal(target) {
        (vec![(None, ip.to_string())], None)
    } else {
        match route::route_checked(dns, target) {
            Ok((route, security)) => (route.hosts(), Some(security)),
            Err(route::RouteProblem::LookupFailed { reason, .. }) => return Err(Error::Dns(reason)),
            Err(problem) => return Err(Error::NoMail(problem.to_string())),
        }
    };
    let mut probes = Vec::new();
    for (preference, host) in hosts {
        let mut base = AddressProbe { host: host.clone(), preference, ..AddressProbe::default() };
        if let Some(mx) = mx_security {
            let (address, canonical) = match dns.addresses(&host, families) {
                Ok(found) => (found.security, found.canonical),
                Err(_) => (Security::Unchecked, None),
            };
            base.security = Some((mx, address));
            base.canonical = canonical;
        }
        match route::host_addresses(dns, &host, families).1 {
            Ok(addresses) => {
                for ip in addresses {
                    probes.push(AddressProbe { address: Some(SocketAddr::new(ip, port)), ..base.clone() });
                }
            }
            Err(problem) => {
                let mut probe = base;
                probe.find(Severity::Unreachable, problem.describe(&host));
                probes.push(probe);
            }
        }
    }
    Ok(probes)
}

/// Records when the greeting arrived, and keeps every event for `-v`.
struct Recorder {
    events: Vec<(Instant, Event)>,
    greeting_at: Option<Instant>,
}

impl Sink for Recorder {
    fn emit(&mut self, event: Event) {
        if self.greeting_at.is_none()
            && matches!(
                &event,
                Event::Smtp(crate::smtp::event::Event::Received { phase: crate::smtp::error::Phase::Banner, .. })
            )
        {
            self.greeting_at = Some(Instant::now());
        }
        self.events.push((Instant::now(), event));
    }
}

fn probe_address(probe: &mut AddressProbe, settings: &Settings) {
    let address = probe.address.expect("probed addresses have one");
    let started = Instant::now();
    let tcp = match net::connect_one(address, settings.connect_timeout, settings.bind) {
        Ok(tcp) => tcp,
        Err(reason) => {
            probe.find(Severity::Unreachable, format!("no connection: {reason}"));
            return;
        }
    };
    let connected = Instant::now();
    probe.connect_ms = Some((connected - started).as_secs_f64() * 1000.0);
    let client_name = settings
        .client_name
        .clone()
        .unwrap_or_else(|| crate::hostname::address_literal(tcp.local_addr().map_or(address.ip(), |local| local.ip())));
    // The whole dialogue up to TLS, and with --rcpt, MAIL and RCPT, then RSET: no message is sent.
    let mut dialogue = Dialogue::new(&client_name, &probe.host, address.port(), Timeouts::uniform(settings.timeout));
    dialogue.tls = if settings.implicit { TlsPolicy::Implicit } else { TlsPolicy::Opportunistic };
    dialogue.pipelining = false;
    match &settings.rcpt {
        Some(recipient) => {
            dialogue.envelope = Some(Envelope {
                reverse_path: settings.from.clone(),
                recipients: vec![recipient.clone()],
                ..Envelope::default()
            });
            dialogue.reset_after_recipients = true;
        }
        None => dialogue.stop = Some(Stop { point: StopPoint::Tls, drop: false }),
    }
    let host = probe.host.clone();
    let conversation = Conversation {
        tls: Some(&settings.tls),
        tls_name: &host,
        verify: crate::net::tls::Verify::Report,
        content: None,
        show_data: false,
        progress: None,
        preamble: None,
        dane: probe.dane.as_ref().and_then(Dane::check).map(Arc::new),
    };
    let mut recorder = Recorder { events: Vec::new(), greeting_at: None };
    let finished = blocking::converse(Wire::Tcp(tcp), dialogue, &conversation, &mut recorder);
    let outcome = finished.outcome;
    probe.greeting_ms = recorder.greeting_at.map(|at| (at - connected).as_secs_f64() * 1000.0);
    probe.banner = outcome.greeting.clone();
    if let Some(error) = &outcome.error {
        if let SessionError::Tls { detail } = error {
            probe.tls_failure = Some(detail.clone());
        }
        let severity = match error {
            SessionError::Refused { reply, .. } if reply.is_permanent() => Severity::Refused,
            SessionError::Tls { .. } | SessionError::StartTlsNotOffered { .. } => Severity::Tls,
            _ => Severity::Unreachable,
        };
        probe.find(severity, crate::error::Error::Session(error.clone()).to_string());
    }
    if let Some(ms) = probe.greeting_ms {
        if ms > 1000.0 {
            probe.find(
                Severity::Warning,
                format!(
                    "greeting delayed by {:.1} s (a deliberate delay, as some servers make against spam)",
                    ms / 1000.0
                ),
            );
        }
    }
    let no_starttls = outcome.greeting.as_ref().is_some_and(Reply::is_positive)
        && !outcome.encrypted
        && outcome.capabilities.as_ref().is_some_and(|c| !c.has("STARTTLS"));
    if let Some(capabilities) = &outcome.capabilities {
        probe.ehlo_name = Some(capabilities.server_name.clone());
        probe.capabilities = capabilities.extensions.clone();
    }
    if no_starttls {
        probe.find(Severity::Tls, "does not offer STARTTLS: mail to it travels in clear text");
    }
    for (_, event) in &recorder.events {
        if let Event::Tls(session) = event {
            probe.tls = Some(format!("{}, {}", session.version, session.cipher));
        }
    }
    if let Some(certificates) = &finished.certificates {
        probe.pkix = Some(certificates.verdict.clone());
        probe.dane_result = certificates.dane.clone();
        probe.days_left = certificates.chain.first().filter(|c| c.unparsable_bytes.is_none()).map(|c| c.days_left);
        match &certificates.verdict {
            Verdict::Verified => probe.certificate = Some("verified".into()),
            Verdict::Refused(problem) => {
                probe.certificate = Some(problem.to_string());
                if probe.dane.as_ref().is_some_and(Dane::requires_tls) {
                    // TLSA records decide for this host (RFC 7672 §3.1.1: DANE-EE ignores names and dates).
                    probe.find(
                        Severity::Warning,
                        format!("the certificate does not verify under the web PKI ({problem}); DANE decides here"),
                    );
                } else {
                    probe.find(Severity::Tls, format!("certificate does not verify: {problem}"));
                }
            }
        }
    }
    if let Some(days) = probe.days_left {
        if (0..14).contains(&days) {
            probe.find(Severity::Warning, format!("certificate expires in {days} days"));
        }
    }
    check_reverse_dns(probe);
    let rcpt = outcome.recipients.first().and_then(|r| match &r.verdict {
        crate::smtp::client::Verdict::Replied { phase: crate::smtp::error::Phase::RcptTo, reply } => {
            Some(reply.clone())
        }
        _ => None,
    });
    for (reply, what) in [(&outcome.mail, "MAIL FROM"), (&rcpt, "RCPT TO")] {
        if let Some(reply) = reply {
            if reply.is_permanent() {
                probe.find(Severity::Refused, format!("{what} refused: {reply}"));
            } else if reply.is_transient() {
                probe.find(Severity::Unreachable, format!("{what} deferred: {reply}"));
            }
        }
    }
    probe.mail = outcome.mail;
    probe.rcpt = rcpt;
    probe.events = recorder.events;
}

/// Does the reverse DNS name of the address match the name the server gives in its greeting or EHLO?
fn check_reverse_dns(probe: &mut AddressProbe) {
    let greeting_name = probe
        .banner
        .as_ref()
        .and_then(|b| b.texts().next().map(|t| String::from_utf8_lossy(t).split(' ').next().unwrap_or("").to_string()));
    let mut names: Vec<String> =
        [greeting_name, probe.ehlo_name.clone()].into_iter().flatten().filter(|n| !n.is_empty()).collect();
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    if probe.banner.is_none() {
        return;
    }
    if probe.reverse_dns.is_empty() {
        probe.find(Severity::Warning, "no reverse DNS (PTR) for the address: many receivers distrust such senders");
    } else if !names.is_empty() && !probe.reverse_dns.iter().any(|r| names.iter().any(|n| n.eq_ignore_ascii_case(r))) {
        probe.find(
            Severity::Warning,
            format!(
                "reverse DNS {} does not match the server's name {}",
                probe.reverse_dns.join(", "),
                names.join(" / ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_finding_decides() {
        let mut probe = AddressProbe::default();
        assert_eq!(probe.severity(), Severity::Ok);
        probe.find(Severity::Warning, "w");
        probe.find(Severity::Tls, "t");
        assert_eq!(probe.severity().exit(), Exit::TlsFailure);
        probe.find(Severity::Unreachable, "u");
        assert_eq!(probe.severity().exit(), Exit::TempFail);
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;
    use crate::render::probe::table;

    #[test]
    fn table_aligns_columns() {
        let probe = AddressProbe {
            host: "mx.example.test".into(),
            address: Some("127.0.0.1:25".parse().unwrap()),
            connect_ms: Some(0.25),
            greeting_ms: Some(1.5),
            tls: Some("TLS 1.3, TLS13_AES_256_GCM_SHA384".into()),
            days_left: Some(89),
            ..AddressProbe::default()
        };
        assert_eq!(
            table(&[probe]),
            "HOST             ADDRESS    CONNECT  BANNER  TLS      CERT DAYS  VERDICT\n\
             mx.example.test  127.0.0.1  0.2 ms   1.5 ms  TLS 1.3  89         ok\n"
        );
    }
}
