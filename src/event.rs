//! What happens during a run, as data: the dialogue's own events, and the route, connection and TLS facts
//! around it. Drivers and the delivery loop emit them; the renderers (`render`) turn them into the human
//! transcript or JSON Lines, and tests collect them in a `Vec<Event>`. Nothing downstream parses text.

use std::time::Duration;

use crate::net::tls::{Certificate, SessionFacts, Verdict, Verify};
use crate::route::RouteFact;
use crate::smtp;
use crate::smtp::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The dialogue's own events: lines sent and received, the content, its notes.
    Smtp(smtp::event::Event),
    /// What a DNS lookup found, or why a route is as it is.
    Route(RouteFact),
    /// No --from was given and the machine has no domain: the sender is a guess most servers refuse.
    SenderGuessed {
        address: String,
    },
    /// Where the OAuth access token for AUTH came from (never the token).
    OauthToken(crate::oauth::Origin),
    /// Resolving a `--server` name.
    Resolving {
        host: String,
    },
    /// `--resolve` gave the address of a `--server` name.
    Resolved {
        host: String,
        address: std::net::IpAddr,
    },
    /// The TLS handshake failed under opportunistic TLS: trying the address again without TLS.
    TlsFallback {
        address: String,
        reason: String,
    },
    /// A connection attempt to `address` (for the host `host`, when it has a name).
    Connecting {
        address: String,
        host: Option<String>,
    },
    /// A connection attempt through a SOCKS5 proxy, in place of `Connecting`: to `host` (an address, or a name
    /// the proxy resolves when `remote_dns`) on `port`; `name` is the host's name when `host` is its address.
    Proxying {
        host: String,
        port: u16,
        name: Option<String>,
        /// "SOCKS5 proxy 127.0.0.1:1080": never the credentials.
        proxy: String,
        remote_dns: bool,
    },
    Connected {
        address: String,
        local: String,
    },
    /// An attempt that gave no answer, and why postie moved on.
    MovedOn {
        address: String,
        reason: String,
    },
    Closed,
    /// The TLS session after a handshake.
    Tls(SessionFacts),
    /// One certificate of the chain the server sent.
    Certificate(Certificate),
    /// What the check said of the chain, for `host`, and the policy that applied (`chosen`: by the user, not
    /// by default).
    CertificateVerdict {
        host: String,
        verdict: Verdict,
        policy: Verify,
        chosen: bool,
    },
    /// A transport-security policy decides how `host` is reached: "DANE", "MTA-STS enforce" or "MTA-STS
    /// testing", and what it requires.
    TransportPolicy {
        host: String,
        policy: &'static str,
        detail: String,
    },
    /// What the TLSA records of `host` said of its chain (DANE, RFC 7672).
    Dane {
        host: String,
        verdict: crate::net::tls::DaneVerdict,
    },
    /// How long a step took.
    Step {
        step: Step,
        duration: Duration,
    },
    /// What became of one recipient.
    Recipient(RecipientLine),
    /// The end: how many recipients have the message, and the exit code.
    Summary {
        delivered: usize,
        total: usize,
        exit: u8,
        stopped_after: Option<String>,
    },
}

/// A step whose duration is reported with `--timing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    TlsHandshake,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::TlsHandshake => "TLS handshake",
        }
    }
}

/// The summary line of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientLine {
    pub recipient: String,
    pub status: Status,
    /// The step whose reply decided it.
    pub phase: Option<smtp::error::Phase>,
    /// The host that answered, as `name [address]`.
    pub host: Option<String>,
    pub reply: Option<Reply>,
    /// Why, when no reply decided it.
    pub reason: Option<String>,
    /// How the session that decided it was protected.
    pub transport: Option<crate::report::Transport>,
}

/// What became of a recipient, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Delivered,
    /// With a stop point: the last command sent was accepted.
    Accepted,
    Refused,
    Deferred,
    /// No route: the domain does not exist or accepts no mail.
    Failed,
    /// No server answered.
    Unreachable,
    /// The message went out and no answer came: the server may have it.
    Unknown,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Accepted => "accepted",
            Status::Refused => "refused",
            Status::Deferred => "deferred",
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
            Status::Unknown => "unknown",
        }
    }
}

/// Where events go.
pub trait Sink {
    fn emit(&mut self, event: Event);
}

impl Sink for Vec<Event> {
    fn emit(&mut self, event: Event) {
        self.push(event);
    }
}

/// Drops everything: `--quiet`.
pub struct Discard;

impl Sink for Discard {
    fn emit(&mut self, _event: Event) {}
}

/// What `postie catch` saw in one session, whole: the driver hands it over when the session ends, so that
/// concurrent sessions are rendered one block each, never interleaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtSession {
    /// Numbered from 1 in the order the connections came.
    pub id: u64,
    pub peer: String,
    pub local: String,
    pub lines: Vec<CatchLine>,
    pub duration: Duration,
    /// Messages taken in this session.
    pub messages: u64,
    /// Lines left out of `lines` past the limit of one record.
    pub left_out: u64,
}

/// One line of a caught session: the dialogue's own, or what the driver did around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchLine {
    Smtp(smtp::server::Line),
    /// The TLS handshake (implicit, or after STARTTLS) agreed on this.
    Tls {
        version: String,
        cipher: String,
    },
    TlsFailed {
        reason: String,
    },
    /// A message taken: its number in this run, the message (its content cut to the header section unless
    /// the content is to be shown), and where it was stored.
    Message {
        number: u64,
        message: smtp::server::Message,
        stored: Option<String>,
    },
    StoreFailed {
        reason: String,
    },
    /// Too many sessions at once: this one got 421 and was closed.
    Busy {
        limit: usize,
    },
    /// Reading or writing failed.
    Io {
        reason: String,
    },
}
