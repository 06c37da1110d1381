//! Getting one message to its recipients: through a smart host (`--server`), or the way an MTA does it, one
//! route and one session per recipient domain (RFC 5321 §5.1).
//!
//! Both use one attempt loop: every host in order, every address of each host in order, moving on when an
//! attempt gives no answer to the transaction (connection refused or timed out, a 4xx/5xx greeting, a drop or
//! timeout before the message was sent) and stopping at the first host that answers it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::address::domain_of;
use crate::dns::{self, Dns, DnsSettings, Families, Route};
use crate::error::{Error, Exit, Phase};
use crate::event::{Event, Sink};
use crate::hostname;
use crate::net;
use crate::smtp::codec::Facts;
use crate::smtp::extensions::Dsn;
use crate::smtp::reply::Reply;
use crate::smtp::session::{Content, Credentials, Delivery, Envelope, Session, Timeouts, Transaction};
use crate::tls::{Stream, TlsClient, TlsMode};
use std::sync::Arc;

/// How to open and run each session.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// `None`: implicit on port 465, required on 587, auto elsewhere.
    pub tls_mode: Option<TlsMode>,
    /// Made when the plan may use TLS.
    pub tls: Option<Arc<TlsClient>>,
    pub credentials: Option<Credentials>,
    pub allow_plaintext_auth: bool,
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
}

/// Where `--quit-after` or `--drop-after` ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum StopPoint {
    Connect,
    Banner,
    Ehlo,
    Tls,
    Auth,
    Mail,
    Rcpt,
    /// After the 354 to DATA, before any of the message (only with --drop-after).
    Data,
}

impl std::fmt::Display for StopPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopPoint::Connect => "connect",
            StopPoint::Banner => "banner",
            StopPoint::Ehlo => "EHLO",
            StopPoint::Tls => "TLS",
            StopPoint::Auth => "AUTH",
            StopPoint::Mail => "MAIL FROM",
            StopPoint::Rcpt => "RCPT TO",
            StopPoint::Data => "DATA",
        })
    }
}

/// End the session at `point`, with QUIT, or by closing the connection (`drop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    pub point: StopPoint,
    pub drop: bool,
}

/// The message and what was measured of it.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    pub content: &'a dyn Content,
    pub facts: Facts,
}

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A server answered for this recipient: the reply that decided it and the step it answered.
    Replied { phase: Phase, reply: Reply },
    /// No server answered: the domain has no route, no host could be reached, or every session broke off.
    Failed { permanent: bool, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientReport {
    pub recipient: String,
    pub outcome: Outcome,
    /// The host that answered, as `name [address]`.
    pub host: Option<String>,
}

impl RecipientReport {
    pub fn delivered(&self) -> bool {
        matches!(&self.outcome, Outcome::Replied { phase: Phase::EndOfData, reply } if reply.is_positive())
    }

    fn temporary(&self) -> bool {
        match &self.outcome {
            Outcome::Replied { reply, .. } => reply.is_transient(),
            Outcome::Failed { permanent, .. } => !permanent,
        }
    }
}

/// Every recipient of the message and its outcome, in the order they were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub recipients: Vec<RecipientReport>,
    /// The session was ended on purpose here (`--quit-after`, `--drop-after`).
    pub stopped_after: Option<StopPoint>,
}

impl Report {
    /// Recipients that reached the goal: the message delivered, or with a stop point, a positive answer to
    /// the last command sent (the "is this address deliverable?" check of `--quit-after rcpt`).
    pub fn succeeded(&self, recipient: &RecipientReport) -> bool {
        match (self.stopped_after, &recipient.outcome) {
            (None, _) => recipient.delivered(),
            (Some(_), Outcome::Replied { reply, .. }) => reply.is_positive() || reply.code.is_intermediate(),
            (Some(_), Outcome::Failed { .. }) => false,
        }
    }

    pub fn delivered_count(&self) -> usize {
        self.recipients.iter().filter(|r| self.succeeded(r)).count()
    }

    /// 0 when every recipient has it, `Partial` when some do; when none do, temporary if any failure was
    /// temporary (a retry might succeed), otherwise permanent.
    pub fn exit(&self) -> Exit {
        let delivered = self.delivered_count();
        // Also a stop before the transaction: every step up to it succeeded, or there would be an error.
        if delivered == self.recipients.len() {
            Exit::Success
        } else if delivered > 0 {
            Exit::Partial
        } else if self.recipients.iter().any(RecipientReport::temporary) {
            Exit::TempFail
        } else {
            Exit::Unavailable
        }
    }

    fn add_delivery(&mut self, delivery: Delivery, host: &str) {
        for outcome in delivery.recipients {
            self.recipients.push(RecipientReport {
                recipient: outcome.recipient,
                outcome: Outcome::Replied { phase: outcome.phase, reply: outcome.reply },
                host: Some(host.to_string()),
            });
        }
    }

    fn add_failure(&mut self, recipients: &[String], permanent: bool, reason: &str) {
        for recipient in recipients {
            self.recipients.push(RecipientReport {
                recipient: recipient.clone(),
                outcome: Outcome::Failed { permanent, reason: reason.to_string() },
                host: None,
            });
        }
    }

    /// Put the recipients back in the order the user gave them.
    fn order_like(&mut self, recipients: &[String]) {
        self.recipients.sort_by_key(|r| recipients.iter().position(|x| *x == r.recipient).unwrap_or(usize::MAX));
    }
}

/// Send through one server (`--server`): its addresses in turn. When no attempt gets an answer, the last
/// error is the result, so a script sees exactly what went wrong.
pub fn via_server(
    server: &net::ServerSpec,
    dns: &DnsSettings,
    envelope: Envelope<'_>,
    message: &Outgoing<'_>,
    options: &SessionOptions,
    sink: &mut dyn Sink,
) -> Result<Report, Error> {
    let name = server.host.to_string();
    let addresses = match &server.host {
        net::Host::Ip(ip) if options.families.allows(*ip) => vec![*ip],
        net::Host::Ip(ip) => return Err(Error::Usage(format!("--server {ip} is not of the address family asked for"))),
        net::Host::Name(host) => {
            sink.emit(Event::Info(format!("resolving {host}")));
            let resolver = dns.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
            host_addresses(&resolver, host, options.families, sink).map_err(|error| match error {
                HostLookupError::Missing(reason) => Error::HostUnknown(reason),
                HostLookupError::Failed(reason) => Error::Dns(reason),
            })?
        }
    };
    let mut attempts = Attempts::new(options);
    if let Some((delivery, host)) = attempts.host(&name, &addresses, envelope, message, sink)? {
        let mut report = Report::default();
        report.add_delivery(delivery, &host);
        return Ok(report);
    }
    Err(attempts.into_error(&format!("{name}:{}", options.port)))
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
        let envelope = Envelope { reverse_path, recipients: &group };
        match route_domain(dns, &domain, options, sink) {
            Err((permanent, reason)) => {
                sink.emit(Event::Info(reason.clone()));
                report.add_failure(&group, permanent, &reason);
            }
            Ok(route) => match deliver_route(dns, &route, envelope, message, options, sink) {
                Ok((delivery, host)) => report.add_delivery(delivery, &host),
                Err(error) => {
                    let permanent = error.exit() == Exit::Unavailable;
                    report.add_failure(&group, permanent, &error.to_string());
                }
            },
        }
    }
    report.order_like(recipients);
    report
}

/// Try the hosts of a route in order until one answers the transaction.
fn deliver_route(
    dns: &Dns,
    route: &Route,
    envelope: Envelope<'_>,
    message: &Outgoing<'_>,
    options: &SessionOptions,
    sink: &mut dyn Sink,
) -> Result<(Delivery, String), Error> {
    let mut attempts = Attempts::new(options);
    for (_, host) in route.hosts() {
        match host_addresses(dns, &host, options.families, sink) {
            Ok(addresses) => {
                if let Some(answered) = attempts.host(&host, &addresses, envelope, message, sink)? {
                    return Ok(answered);
                }
            }
            Err(HostLookupError::Missing(reason) | HostLookupError::Failed(reason)) => {
                sink.emit(Event::Info(format!("{reason}; trying the next host")));
                attempts.failures.push(reason);
            }
        }
    }
    let domain = domain_of(envelope.recipients.first().map_or("", String::as_str));
    Err(attempts.into_error(domain))
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

/// The route of one domain, with each step on the transcript. `Err((permanent, reason))` when there is none.
fn route_domain(
    dns: &Dns,
    domain: &str,
    options: &SessionOptions,
    sink: &mut dyn Sink,
) -> Result<Route, (bool, String)> {
    // RFC 5321 §4.1.3: a recipient at an address literal goes to that address; there is nothing to look up.
    if let Ok(ip) = domain.trim_start_matches("IPv6:").parse::<IpAddr>() {
        sink.emit(Event::Info(format!("{domain} is an address literal: delivering to it directly")));
        return Ok(Route::Implicit(ip.to_string()));
    }
    sink.emit(Event::Info(format!("looking up MX for {domain}")));
    let answer = dns.mx(domain).map_err(|failure| (false, format!("cannot route {domain}: {failure}")))?;
    let route = dns::route(domain, answer, dns::random_seed()).map_err(|error| (true, error.to_string()))?;
    match &route {
        Route::Mx(records) => {
            let list: Vec<String> = records.iter().map(|mx| format!("{} {}", mx.preference, mx.exchange)).collect();
            sink.emit(Event::Lookup { name: domain.to_string(), kind: "MX", answers: list });
        }
        Route::Implicit(_) => sink.emit(Event::Info(format!(
            "{domain} has no MX records: delivering to its own address (implicit MX, RFC 5321 §5.1), port {}",
            options.port
        ))),
    }
    Ok(route)
}

/// Why a host has no address to try.
enum HostLookupError {
    /// It does not exist, or has no address of the family asked for.
    Missing(String),
    /// The lookup failed (timeout, SERVFAIL): the host may well exist.
    Failed(String),
}

/// The addresses of one host, with what the lookup showed on the transcript.
fn host_addresses(
    dns: &Dns,
    host: &str,
    families: Families,
    sink: &mut dyn Sink,
) -> Result<Vec<IpAddr>, HostLookupError> {
    if host.parse::<IpAddr>().is_ok() {
        sink.emit(Event::Warning(format!(
            "the MX {host} is an IP address, not a host name (RFC 5321 §5.1 wants a name); using it as given"
        )));
    }
    let found = dns.addresses(host, families).map_err(|failure| HostLookupError::Failed(failure.to_string()))?;
    if let Some(canonical) = &found.canonical {
        sink.emit(Event::Warning(format!(
            "the MX {host} is an alias (CNAME) for {canonical}, which RFC 2181 §10.3 forbids; using it anyway"
        )));
    }
    if found.no_such_host {
        return Err(HostLookupError::Missing(format!("{host} does not exist (NXDOMAIN)")));
    }
    if found.addresses.is_empty() {
        let family = match families {
            Families::Both => "",
            Families::V4 => "IPv4 ",
            Families::V6 => "IPv6 ",
        };
        return Err(HostLookupError::Missing(format!("{host} has no {family}address")));
    }
    let list: Vec<String> = found.addresses.iter().map(IpAddr::to_string).collect();
    sink.emit(Event::Lookup { name: host.to_string(), kind: "address", answers: list });
    Ok(found.addresses)
}

/// The attempts for one domain (or one server), and the last reason none gave an answer.
struct Attempts<'o> {
    options: &'o SessionOptions,
    last_error: Option<Error>,
    failures: Vec<String>,
}

impl<'o> Attempts<'o> {
    fn new(options: &'o SessionOptions) -> Self {
        Attempts { options, last_error: None, failures: Vec::new() }
    }

    /// Try each address of one host. `Ok(Some)` when a server answered the transaction; `Ok(None)` when
    /// no address did and the next host should be tried; `Err` when the session failed after the message
    /// was sent (trying elsewhere could deliver it twice).
    fn host(
        &mut self,
        name: &str,
        addresses: &[IpAddr],
        envelope: Envelope<'_>,
        message: &Outgoing<'_>,
        sink: &mut dyn Sink,
    ) -> Result<Option<(Delivery, String)>, Error> {
        for &ip in addresses {
            let address = SocketAddr::new(ip, self.options.port);
            let is_literal = name.trim_start_matches('[').trim_end_matches(']') == ip.to_string();
            let label = if is_literal { ip.to_string() } else { format!("{name} [{ip}]") };
            sink.emit(Event::Connecting {
                address: address.to_string(),
                host: (!is_literal).then(|| name.to_string()),
            });
            let started = std::time::Instant::now();
            let stream = match net::connect_one(address, self.options.connect_timeout, self.options.bind) {
                Ok(stream) => stream,
                Err(reason) => {
                    sink.emit(Event::MovedOn { address: address.to_string(), reason: reason.clone() });
                    self.failures.push(format!("{address}: {reason}"));
                    continue;
                }
            };
            let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?".into());
            sink.emit(Event::Step { name: "connect", duration: started.elapsed() });
            sink.emit(Event::Connected { address: address.to_string(), local });
            let client_name = match &self.options.client_name {
                Some(name) => name.clone(),
                None => hostname::address_literal(stream.local_addr().map(|a| a.ip()).unwrap_or(ip)),
            };
            let result = converse(stream, name, &client_name, self.options, envelope, message, sink);
            sink.emit(Event::Closed);
            match result {
                Ok(delivery) => return Ok(Some((delivery, label))),
                Err(error) if gave_no_answer(&error) => {
                    sink.emit(Event::MovedOn { address: address.to_string(), reason: error.to_string() });
                    self.failures.push(format!("{address}: {error}"));
                    self.last_error = Some(error);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(None)
    }

    /// The error to report when no attempt got an answer.
    fn into_error(self, target: &str) -> Error {
        match (self.last_error, self.failures.len()) {
            (Some(error), 1) => error,
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

/// The TLS mode for a port when none was given: RFC 8314 implicit TLS on 465, and submission on 587
/// carries credentials, so it must be encrypted.
pub fn default_tls_mode(port: u16) -> TlsMode {
    match port {
        465 => TlsMode::Implicit,
        587 => TlsMode::Required,
        _ => TlsMode::Auto,
    }
}

/// One connection's dialogue: TLS as the policy says, EHLO again after STARTTLS, AUTH when asked (never in
/// clear text unless allowed), the transaction, QUIT.
fn converse(
    tcp: std::net::TcpStream,
    host: &str,
    client_name: &str,
    options: &SessionOptions,
    envelope: Envelope<'_>,
    message: &Outgoing<'_>,
    sink: &mut dyn Sink,
) -> Result<Delivery, Error> {
    let mode = options.tls_mode.unwrap_or_else(|| default_tls_mode(options.port));
    let handshake_timeout = options.timeouts.banner;
    let client = |options: &SessionOptions| -> Result<Arc<TlsClient>, Error> {
        options.tls.clone().ok_or_else(|| Error::Tls { detail: "TLS is not set up".into() })
    };
    let stream = if mode == TlsMode::Implicit {
        Stream::Tls(client(options)?.handshake(tcp, host, handshake_timeout, sink)?)
    } else {
        Stream::Plain(tcp)
    };
    let mut session =
        Session::new(stream, sink, options.timeouts).show_data(options.show_data).encrypted(mode == TlsMode::Implicit);
    if let Some(bar) = options.progress.clone() {
        bar.set_position(0);
        session = session.progress(Box::new(move |sent| bar.inc(sent)));
    }
    let stop = options.stop;
    let stops_at = |point: StopPoint| stop.is_some_and(|s| s.point == point);
    let early = |session: &mut Session<'_, Stream>| {
        if stop.is_some_and(|s| s.drop) {
            session.drop_connection();
        }
        Ok(Delivery { recipients: Vec::new() })
    };
    session.conclude(|session| {
        if stops_at(StopPoint::Connect) {
            if stop.is_some_and(|s| s.drop) {
                session.drop_connection();
            } else {
                session.quit_before_greeting();
            }
            return Ok(Delivery { recipients: Vec::new() });
        }
        session.greeting()?;
        if stops_at(StopPoint::Banner) {
            return early(session);
        }
        let mut capabilities = session.hello(client_name)?;
        if stops_at(StopPoint::Ehlo) {
            return early(session);
        }
        if !session.is_encrypted() && mode != TlsMode::None {
            if capabilities.has("STARTTLS") {
                let client = client(options)?;
                session.start_tls(|stream, sink| stream.start_tls(&client, host, handshake_timeout, sink))?;
                // RFC 3207 §4.2: forget what the server said before TLS and ask again.
                capabilities = session.hello(client_name)?;
            } else if mode == TlsMode::Required {
                return Err(Error::Tls {
                    detail: format!(
                        "{host} does not offer STARTTLS, and --tls required (the default on port 587) does not go on \
                         unencrypted"
                    ),
                });
            } else {
                session.note(Event::Warning(format!("{host} does not offer STARTTLS: going on unencrypted")));
            }
        }
        if stops_at(StopPoint::Tls) {
            return early(session);
        }
        if let Some(credentials) = &options.credentials {
            if !session.is_encrypted() && !options.allow_plaintext_auth {
                return Err(Error::AuthNotAttempted(format!(
                    "not sending credentials to {host} over an unencrypted connection; use TLS (--tls required) or \
                     --allow-plaintext-auth"
                )));
            }
            let bare_host = host.trim_start_matches('[').trim_end_matches(']');
            session.authenticate(&capabilities, credentials, bare_host, options.port)?;
        }
        if stops_at(StopPoint::Auth) {
            return early(session);
        }
        let transaction_stop = stop.filter(|s| s.point >= StopPoint::Mail);
        let transaction = Transaction {
            envelope,
            content: message.content,
            facts: message.facts,
            dsn: &options.dsn,
            // A stop inside the transaction needs each reply before the next command.
            pipelining: options.pipelining && transaction_stop.is_none(),
            bdat: options.bdat && transaction_stop.is_none(),
            stop: transaction_stop,
        };
        session.transaction(&transaction)
    })
}

/// Whether a failed session left the transaction unanswered, so another address may be tried: the
/// server refused to talk (a 4xx or 5xx greeting; Postfix's smtp_skip_5xx_greeting does the same), or
/// the session broke off before the message went out.
fn gave_no_answer(error: &Error) -> bool {
    match error {
        Error::Rejected { phase: Phase::Banner | Phase::Ehlo | Phase::Helo, .. } => true,
        Error::Rejected { reply, phase } => reply.code.0 == 421 && *phase != Phase::EndOfData,
        Error::Timeout { phase, .. }
        | Error::Closed { phase }
        | Error::Protocol { phase, .. }
        | Error::Io { phase, .. } => *phase != Phase::EndOfData,
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
        assert!(gave_no_answer(&Error::Rejected { phase: Phase::Banner, reply: reply("421 busy\r\n") }));
        assert!(gave_no_answer(&Error::Rejected { phase: Phase::Banner, reply: reply("554 go away\r\n") }));
        assert!(gave_no_answer(&Error::Closed { phase: Phase::MailFrom }));
        assert!(gave_no_answer(&Error::Rejected { phase: Phase::RcptTo, reply: reply("421 closing\r\n") }));
        assert!(!gave_no_answer(&Error::Closed { phase: Phase::EndOfData }), "the message may have arrived");
        assert!(!gave_no_answer(&Error::Timeout { phase: Phase::EndOfData, after: Duration::from_secs(1) }));
    }

    #[test]
    fn exit_codes_of_a_report() {
        let failed = |permanent| RecipientReport {
            recipient: "a@x.test".into(),
            outcome: Outcome::Failed { permanent, reason: "x".into() },
            host: None,
        };
        let delivered = RecipientReport {
            recipient: "b@x.test".into(),
            outcome: Outcome::Replied { phase: Phase::EndOfData, reply: crate::smtp::reply::parse_reply("250 ok\r\n") },
            host: Some("mx".into()),
        };
        assert_eq!(Report { recipients: vec![delivered.clone()], stopped_after: None }.exit(), Exit::Success);
        assert_eq!(Report { recipients: vec![delivered, failed(true)], stopped_after: None }.exit(), Exit::Partial);
        assert_eq!(
            Report { recipients: vec![failed(true), failed(false)], stopped_after: None }.exit(),
            Exit::TempFail
        );
        assert_eq!(Report { recipients: vec![failed(true)], stopped_after: None }.exit(), Exit::Unavailable);
    }
}
