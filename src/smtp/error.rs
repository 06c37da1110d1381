//! Why a dialogue ended before its goal, in protocol words: the step it broke in and what the server said or
//! did. The application wraps this type, adds hints about flags and decides exit codes; nothing here knows
//! about either.

use std::fmt;
use std::time::Duration;

use super::reply::Reply;

/// The step of the dialogue; errors and outcomes name it so the user knows where it broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Phase {
    Connect,
    Banner,
    Ehlo,
    Helo,
    StartTls,
    TlsHandshake,
    Auth,
    MailFrom,
    RcptTo,
    Data,
    /// Sending the message content and waiting for the reply to the final dot (or to BDAT LAST).
    EndOfData,
    Quit,
    /// XCLIENT and the new greeting it brings.
    Xclient,
    /// Any other command, typed by the user (`talk`, `script`).
    Command,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::Banner => "banner",
            Phase::Ehlo => "EHLO",
            Phase::Helo => "HELO",
            Phase::StartTls => "STARTTLS",
            Phase::TlsHandshake => "TLS handshake",
            Phase::Auth => "AUTH",
            Phase::MailFrom => "MAIL FROM",
            Phase::RcptTo => "RCPT TO",
            Phase::Data => "DATA",
            Phase::EndOfData => "end of data",
            Phase::Quit => "QUIT",
            Phase::Xclient => "XCLIENT",
            Phase::Command => "command",
        })
    }
}

/// Why postie did not send credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthBlock {
    /// The connection is not encrypted and plaintext AUTH was not allowed.
    Unencrypted { host: String },
    /// The connection is encrypted but the certificate did not verify.
    Unverified { host: String },
    /// The server's EHLO lists no AUTH at all.
    NotOffered { host: String },
    /// No mechanism both sides have: what the server offers, and what postie has for this kind of secret.
    NoCommonMechanism { offered: Vec<String>, ours: &'static str },
    /// The mechanism asked for is not among those the server offers.
    MechanismNotOffered { mechanism: &'static str, offered: Vec<String> },
}

/// An extension the message needs and the server lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// RFC 6531: `address` is the first non-ASCII address, or `None` when only the headers are UTF-8.
    Smtputf8 { address: Option<String>, server: String },
    /// RFC 6152: 8-bit content.
    EightBitMime { server: String },
}

/// How a dialogue ended early. Replies that refuse one recipient are outcomes, not errors; these end the
/// whole session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A refusal of the session itself: the greeting, EHLO/HELO, STARTTLS, or a 421 at any step.
    #[error("{phase} refused: {reply}")]
    Refused { phase: Phase, reply: Reply },
    #[error("{phase}: no reply from the server within {}s", .after.as_secs())]
    Timeout { phase: Phase, after: Duration },
    /// The peer acknowledged none of the message content for `after`.
    #[error("{phase}: the server took none of the message for {}s", .after.as_secs())]
    Stalled { phase: Phase, after: Duration },
    #[error("{phase}: the server closed the connection")]
    Closed { phase: Phase },
    #[error("{phase}: {detail}")]
    Io { phase: Phase, detail: String },
    #[error("{phase}: protocol violation: {detail}")]
    Violation { phase: Phase, detail: String },
    /// The server began a TLS handshake where the greeting belongs: an implicit-TLS port.
    #[error("banner: the server speaks TLS from the first byte (an implicit-TLS port, RFC 8314)")]
    TlsInsteadOfGreeting,
    /// The deadline for the whole run passed.
    #[error("{phase}: the time for the whole run ran out")]
    OutOfTime { phase: Phase },
    /// --xclient was given and the server does not offer XCLIENT to this client.
    #[error("{host} does not offer XCLIENT to this client (Postfix offers it to smtpd_authorized_xclient_hosts)")]
    XclientNotOffered { host: String },
    /// STARTTLS was required and the server does not offer it.
    #[error("{host} does not offer STARTTLS")]
    StartTlsNotOffered { host: String },
    /// The TLS handshake failed (the driver says why; a refused certificate is described by its own event).
    #[error("{detail}")]
    Tls { detail: String },
    /// The server refused the credentials (RFC 4954 §6: 535, 534, 538, or another 4xx/5xx to AUTH).
    #[error("authentication refused: {reply}")]
    AuthRefused { reply: Reply },
    #[error("{}", auth_block_text(.0))]
    AuthNotAttempted(AuthBlock),
    /// RFC 1870: found before MAIL FROM.
    #[error("the message is {size} bytes and the server accepts at most {limit} (SIZE, RFC 1870)")]
    MessageTooLarge { size: u64, limit: u64 },
    #[error("{}", missing_text(.0))]
    Unsupported(Missing),
}

impl Error {
    /// The step the error happened in.
    pub fn phase(&self) -> Phase {
        match self {
            Error::Refused { phase, .. }
            | Error::Timeout { phase, .. }
            | Error::Stalled { phase, .. }
            | Error::Closed { phase }
            | Error::Io { phase, .. }
            | Error::Violation { phase, .. } => *phase,
            Error::StartTlsNotOffered { .. } => Phase::StartTls,
            Error::XclientNotOffered { .. } => Phase::Xclient,
            Error::TlsInsteadOfGreeting => Phase::Banner,
            Error::OutOfTime { phase } => *phase,
            Error::Tls { .. } => Phase::TlsHandshake,
            Error::AuthRefused { .. } | Error::AuthNotAttempted(_) => Phase::Auth,
            Error::MessageTooLarge { .. } | Error::Unsupported(_) => Phase::MailFrom,
        }
    }
}

fn auth_block_text(block: &AuthBlock) -> String {
    match block {
        AuthBlock::Unencrypted { host } => format!("not sending credentials to {host} over an unencrypted connection"),
        AuthBlock::Unverified { host } => {
            format!("not sending credentials to {host}: its certificate does not verify, so it may not be {host}")
        }
        AuthBlock::NotOffered { host } => format!("{host} does not offer AUTH: its EHLO reply lists no mechanism"),
        AuthBlock::NoCommonMechanism { offered, ours } => {
            let list = if offered.is_empty() { "none".to_string() } else { offered.join(" ") };
            format!(
                "no AUTH mechanism in common with the server (it offers: {list}; postie has {ours} for this secret)"
            )
        }
        AuthBlock::MechanismNotOffered { mechanism, offered } => {
            format!("the server does not offer AUTH {mechanism} (it offers: {})", offered.join(" "))
        }
    }
}

fn missing_text(missing: &Missing) -> String {
    match missing {
        Missing::Smtputf8 { address: Some(address), server } => {
            format!("the address {address} needs SMTPUTF8 (RFC 6531), which {server} does not offer")
        }
        Missing::Smtputf8 { address: None, server } => {
            format!("the message's UTF-8 headers need SMTPUTF8 (RFC 6531), which {server} does not offer")
        }
        Missing::EightBitMime { server } => format!(
            "the message has 8-bit content and {server} does not offer 8BITMIME (RFC 6152); give it a 7-bit transfer \
             encoding (quoted-printable or base64)"
        ),
    }
}
