//! What a dialogue is asked to do: plain data that the application fills in and the client obeys.

use std::time::Duration;

use super::auth::{Mechanism, Secret};
use super::codec::Facts;
use super::extensions::Dsn;

/// When to use TLS. Each variant says what it protects against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPolicy {
    /// STARTTLS when the server offers it, clear text otherwise. Protects against passive eavesdropping only:
    /// an attacker in the path can strip the STARTTLS offer.
    Opportunistic,
    /// STARTTLS, and stop before MAIL and AUTH when it is not offered or does not succeed.
    Required,
    /// Never start TLS: everything, AUTH included, goes in clear text.
    Never,
    /// TLS from the first byte (RFC 8314): the driver runs the handshake before the greeting.
    Implicit,
}

/// Where `--quit-after` or `--drop-after` ends the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopPoint {
    Connect,
    Banner,
    Ehlo,
    Tls,
    Auth,
    Mail,
    Rcpt,
    /// After the 354 to DATA, before any of the message (only by dropping the connection).
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

/// Who to authenticate as, and with what.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    pub secret: Secret,
    /// The secret is an OAuth 2.0 bearer token, not a password.
    pub is_token: bool,
    /// `None`: the strongest mechanism both sides have.
    pub mechanism: Option<Mechanism>,
    /// Show what AUTH sends instead of `<redacted>`.
    pub show_secrets: bool,
}

/// The mail transaction: who the message is from and to, and what was measured of it.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// Empty for the null sender `<>`.
    pub reverse_path: String,
    pub recipients: Vec<String>,
    pub facts: Facts,
    pub dsn: Dsn,
}

/// How long to wait for each reply. RFC 5321 §4.5.3.2 gives the minimums a client should allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub banner: Duration,
    pub mail: Duration,
    pub rcpt: Duration,
    pub data_init: Duration,
    /// Without progress while the message content goes out (RFC: "data block").
    pub data_block: Duration,
    pub data_end: Duration,
    /// EHLO, HELO, STARTTLS and the handshake, AUTH, QUIT and other commands the RFC does not name.
    pub other: Duration,
}

impl Timeouts {
    /// RFC 5321 §4.5.3.2: greeting 5 min, MAIL 5 min, RCPT 5 min, DATA initiation 2 min, data block 3 min,
    /// end of data 10 min.
    pub fn rfc5321() -> Timeouts {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        Timeouts {
            banner: minutes(5),
            mail: minutes(5),
            rcpt: minutes(5),
            data_init: minutes(2),
            data_block: minutes(3),
            data_end: minutes(10),
            other: minutes(5),
        }
    }

    /// The same limit for every wait (`--timeout`).
    pub fn uniform(limit: Duration) -> Timeouts {
        Timeouts {
            banner: limit,
            mail: limit,
            rcpt: limit,
            data_init: limit,
            data_block: limit,
            data_end: limit,
            other: limit,
        }
    }

    pub fn for_phase(&self, phase: super::error::Phase) -> Duration {
        use super::error::Phase;
        match phase {
            Phase::Banner => self.banner,
            Phase::MailFrom => self.mail,
            Phase::RcptTo => self.rcpt,
            Phase::Data => self.data_init,
            Phase::EndOfData => self.data_end,
            Phase::Connect
            | Phase::Ehlo
            | Phase::Helo
            | Phase::StartTls
            | Phase::TlsHandshake
            | Phase::Auth
            | Phase::Quit
            | Phase::Xclient
            | Phase::Command => self.other,
        }
    }
}

/// Everything one dialogue needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The name for EHLO/HELO: a domain or an address literal.
    pub client_name: String,
    /// The server as the user or the route named it: for messages and OAUTHBEARER.
    pub server_host: String,
    pub port: u16,
    pub tls: TlsPolicy,
    pub credentials: Option<Credentials>,
    pub allow_plaintext_auth: bool,
    /// Send credentials over TLS whose certificate did not verify.
    pub allow_unverified_auth: bool,
    /// `None`: no transaction (a probe that stops before MAIL).
    pub envelope: Option<Envelope>,
    pub stop: Option<Stop>,
    /// Use PIPELINING when the server offers it.
    pub pipelining: bool,
    /// Use BDAT when the server offers CHUNKING.
    pub bdat: bool,
    /// After the recipients, RSET instead of DATA (a probe: no message is sent).
    pub reset_after_recipients: bool,
    pub timeouts: Timeouts,
    /// One deadline for the whole run: nothing waits past it.
    pub give_up_at: Option<std::time::Instant>,
    /// LMTP (RFC 2033): LHLO, and one reply per accepted recipient after the message.
    pub lmtp: bool,
    /// XCLIENT attributes to send after EHLO (checked: see `xclient::parse_attribute`).
    pub xclient: Vec<(String, String)>,
    /// After the transaction, keep the session open for another ([`super::client::Action::Idle`]) instead of
    /// QUIT: `postie load` sends several messages per connection.
    pub hold_session: bool,
}

impl Settings {
    /// A dialogue with no credentials and no transaction, to be completed by the caller.
    pub fn new(client_name: &str, server_host: &str, port: u16, timeouts: Timeouts) -> Settings {
        Settings {
            client_name: client_name.to_string(),
            server_host: server_host.to_string(),
            port,
            tls: TlsPolicy::Opportunistic,
            credentials: None,
            allow_plaintext_auth: false,
            allow_unverified_auth: false,
            envelope: None,
            stop: None,
            pipelining: true,
            bdat: false,
            reset_after_recipients: false,
            timeouts,
            give_up_at: None,
            lmtp: false,
            xclient: Vec::new(),
            hold_session: false,
        }
    }
}
