//! Typed facts in words, once, for every renderer: the notes of the dialogue, the route, the certificate
//! verdict. The text is raw (it may hold a server's or a certificate's bytes); renderers escape it.

use crate::event::Event;
use crate::net::tls::{days_phrase, Certificate, Verdict, Verify};
use crate::report::Transport;
use crate::route::{HostWarning, RouteFact};
use crate::smtp::event::Note;

/// Whether an event's words are a warning or an ordinary note; `None` for events that are not notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Info,
    Warning,
}

/// The words of an event that is a note (not a protocol line, a lookup or a summary).
pub fn note(event: &Event) -> Option<(Kind, String)> {
    let info = |text: String| Some((Kind::Info, text));
    let warning = |text: String| Some((Kind::Warning, text));
    match event {
        Event::Smtp(crate::smtp::event::Event::Note(note)) => {
            let text = smtp_note(note);
            if note.is_warning() {
                warning(text)
            } else {
                info(text)
            }
        }
        Event::Resolving { host } => info(format!("resolving {host}")),
        Event::OauthToken(origin) => info(oauth_origin(origin)),
        Event::SenderGuessed { address } => warning(format!(
            "no --from, and this machine has no domain name: sending as {address}, which many servers refuse; \
             give --from"
        )),
        Event::Resolved { host, address } => info(format!("{host} is {address} (--resolve)")),
        Event::TlsFallback { address, reason } => warning(format!(
            "{address}: TLS failed ({reason}); connecting again without TLS, as mail servers do under \
             opportunistic TLS (--tls required would stop here)"
        )),
        Event::Route(fact) => route_note(fact),
        Event::CertificateVerdict { host, verdict, policy, chosen } => match verdict {
            Verdict::Verified => info(format!("certificate verified for {host}")),
            Verdict::Refused(problem) => match policy {
                Verify::Report if !chosen => warning(format!(
                    "certificate does not verify: {problem} (opportunistic TLS: going on encrypted, as mail servers \
                     do; credentials would need a verified certificate, and --tls required insists on one)"
                )),
                Verify::Report => {
                    warning(format!("certificate does not verify: {problem} (--tls-verify report: going on)"))
                }
                Verify::Insecure => warning(format!(
                    "certificate does not verify: {problem}; going on anyway (--insecure): the connection is not \
                     protected against a server in the middle"
                )),
                // Strict: the refusal is the error itself.
                Verify::Strict => None,
            },
        },
        Event::TransportPolicy { host, policy, detail } => info(format!("{policy} for {host}: {detail}")),
        Event::Dane { host, verdict } => {
            let matches = match verdict.matches.is_empty() {
                true => "no TLSA record matched".to_string(),
                false => verdict.matches.join(", "),
            };
            match &verdict.result {
                Ok(()) => info(format!("DANE authenticated {host}: {matches}")),
                Err(why) => warning(format!("DANE does not authenticate {host}: {why} ({matches})")),
            }
        }
        _ => None,
    }
}

pub fn smtp_note(note: &Note) -> String {
    match note {
        Note::SlowGreeting { seconds } => format!(
            "no greeting after {seconds} s, still waiting; an implicit-TLS port (SMTPS, usually 465) waits for the \
             client to speak first: if that is it, use --tls implicit or --server smtps://HOST"
        ),
        Note::StartTlsRefused { host } => {
            format!("{host} refused STARTTLS: going on unencrypted (opportunistic TLS; --tls required would stop here)")
        }
        Note::HeloFallback => "EHLO refused; falling back to HELO".into(),
        Note::NoStartTls { host } => format!("{host} does not offer STARTTLS: going on unencrypted"),
        Note::Pipelining { commands } => {
            format!("pipelining {commands} commands in one write (RFC 2920); the replies follow in the same order")
        }
        Note::QuitWithDot => "QUIT goes in the same write as the final dot (PIPELINING, RFC 2920)".into(),
        Note::NoChunking => "the server does not offer CHUNKING: sending with DATA".into(),
        Note::NoDsn { server } => format!("{server} does not offer DSN: --notify, --ret and --envid are not sent"),
        Note::NoRecipientAccepted => "no recipient was accepted; not sending the message".into(),
        Note::EmptyDataEnded => "the server said 354 to a DATA nobody needed: ending an empty message at once".into(),
        Note::ClosingWithoutQuit => "closing the connection without QUIT, as asked".into(),
        Note::QuitProblem { detail } => detail.clone(),
    }
}

fn route_note(fact: &RouteFact) -> Option<(Kind, String)> {
    let text = match fact {
        RouteFact::LookingUpMx { domain } => format!("looking up MX for {domain}"),
        RouteFact::Implicit { domain, port } => format!(
            "{domain} has no MX records: delivering to its own address (implicit MX, RFC 5321 §5.1), port {port}"
        ),
        RouteFact::AddressLiteral { domain } => format!("{domain} is an address literal: delivering to it directly"),
        RouteFact::NoRoute { problem } => problem.to_string(),
        RouteFact::HostWarning { host, warning } => return Some((Kind::Warning, host_warning(host, warning))),
        RouteFact::HostSkipped { host, problem } => format!("{}; trying the next host", problem.describe(host)),
        RouteFact::MxRecords { .. } | RouteFact::Addresses { .. } => return None,
    };
    Some((Kind::Info, text))
}

/// An odd MX host, as a sentence about it.
pub fn host_warning(host: &str, warning: &HostWarning) -> String {
    match warning {
        HostWarning::IpAddress => {
            format!("the MX {host} is an IP address, not a host name (RFC 5321 §5.1 wants a name); using it as given")
        }
        HostWarning::Alias { canonical } => {
            format!("the MX {host} is an alias (CNAME) for {canonical}, which RFC 2181 §10.3 forbids; using it anyway")
        }
    }
}

/// An odd MX host, as a phrase in a list (`postie mx`).
pub fn host_warning_phrase(warning: &HostWarning) -> String {
    match warning {
        HostWarning::IpAddress => "an IP address where RFC 5321 §5.1 wants a host name".into(),
        HostWarning::Alias { canonical } => format!("an alias (CNAME) for {canonical}, which RFC 2181 §10.3 forbids"),
    }
}

/// A lookup's answer line: `MX for example.test: 10 mx1, 20 mx2` or `mx1.example.test: 192.0.2.1`.
pub fn lookup(fact: &RouteFact) -> Option<(String, &'static str, Vec<String>)> {
    match fact {
        RouteFact::MxRecords { domain, records } => Some((
            domain.clone(),
            "MX",
            records.iter().map(|(preference, host)| format!("{preference} {host}")).collect(),
        )),
        RouteFact::Addresses { host, addresses } => {
            Some((host.clone(), "address", addresses.iter().map(ToString::to_string).collect()))
        }
        _ => None,
    }
}

/// How a recipient's session was protected, for the summary; `None` when there is nothing to add.
pub fn transport(transport: &Transport) -> Option<String> {
    match transport {
        Transport::Unverified { reason } => Some(format!("encrypted, not verified: {reason}")),
        Transport::Verified | Transport::Plain => None,
    }
}

/// The same as one word or phrase, for JSON.
pub fn transport_json(transport: &Transport) -> String {
    match transport {
        Transport::Plain => "none".into(),
        Transport::Verified => "verified".into(),
        Transport::Unverified { reason } => format!("not verified: {reason}"),
    }
}

/// One certificate of a chain, on one line.
pub fn certificate(c: &Certificate) -> String {
    if let Some(bytes) = c.unparsable_bytes {
        return format!("certificate {}: cannot be parsed ({bytes} bytes)", c.index);
    }
    let names = if c.names.is_empty() { "none".to_string() } else { c.names.join(", ") };
    format!(
        "certificate {}: subject {}; issuer {}; names {names}; valid {} to {} ({})",
        c.index,
        c.subject,
        c.issuer,
        c.not_before,
        c.not_after,
        days_phrase(c.days_left)
    )
}

/// Where the access token came from, and for how long it is good.
fn oauth_origin(origin: &crate::oauth::Origin) -> String {
    let minutes = |left: &std::time::Duration| match left.as_secs() {
        s if s < 120 => format!("{s} s"),
        s => format!("{} min", s / 60),
    };
    match origin {
        crate::oauth::Origin::Cached { expires_in } => {
            format!("OAuth access token from the cache (expires in {})", minutes(expires_in))
        }
        crate::oauth::Origin::Refreshed { url, expires_in } => format!(
            "OAuth access token refreshed at {url}{}",
            expires_in.map(|left| format!(" (expires in {})", minutes(&left))).unwrap_or_default()
        ),
    }
}
