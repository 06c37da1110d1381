//! Failure kinds and the exit codes scripts see: one table, in one place.
//!
//! The codes follow sysexits(3) classes so that a script can tell "retry later" (75) from "give up" (69)
//! without parsing text. `Partial` is postie's own: some recipients have the message and some do not, so
//! retrying the whole message would deliver it twice to the ones that accepted it.

use std::fmt;
use std::io;
use std::time::Duration;

use crate::smtp::reply::Reply;

/// The process exit status. `EXIT_CODES` documents each one; README.md and `--help` show that table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Partial = 3,
    TlsFailure = 4,
    Usage = 64,
    DataError = 65,
    NoInput = 66,
    NoHost = 68,
    Unavailable = 69,
    Software = 70,
    TempFail = 75,
    Protocol = 76,
    NoPermission = 77,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Every exit code with its meaning, in the order shown to users.
pub const EXIT_CODES: &[(Exit, &str)] = &[
    (Exit::Success, "delivered: every recipient accepted the message (or --dump printed it)"),
    (Exit::Partial, "partial delivery: some recipients have the message, some refused it; see the summary"),
    (Exit::TlsFailure, "TLS failed: not offered under --tls required, handshake failed, or certificate refused"),
    (Exit::Usage, "usage: a bad flag or flag value (address, header, --server, conflicting flags)"),
    (Exit::DataError, "bad input data: the message given on stdin or with --data cannot be sent"),
    (Exit::NoInput, "an input file (--data, --body-file) is missing or unreadable"),
    (Exit::NoHost, "host unknown: the server name does not resolve"),
    (Exit::Unavailable, "permanent failure: the server refused with a 5xx reply; retrying will not help"),
    (Exit::Software, "internal error in postie"),
    (Exit::TempFail, "temporary failure: a 4xx reply, connection refused, timeout or dropped connection; retry later"),
    (Exit::Protocol, "protocol violation: the server sent something SMTP does not allow"),
    (Exit::NoPermission, "authentication failed: refused by the server, or not tried over an unencrypted connection"),
];

/// The step of the dialogue an error happened in; errors name it so the user knows where it broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Sending the message content and waiting for the reply to the final dot.
    EndOfData,
    Quit,
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
        })
    }
}

/// The errors a caller branches on: each maps to one exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    BadInput(String),
    #[error("cannot read {path}: {}", io_text(.cause))]
    Input { path: String, cause: io::Error },
    #[error("{0}")]
    HostUnknown(String),
    #[error("{phase} refused: {reply}")]
    Rejected { phase: Phase, reply: Reply },
    #[error("{phase}: no reply from the server within {}s", .after.as_secs())]
    Timeout { phase: Phase, after: Duration },
    #[error("{phase}: the server closed the connection")]
    Closed { phase: Phase },
    #[error("{phase}: protocol violation: {detail}")]
    Protocol { phase: Phase, detail: String },
    #[error("{phase}: {}", io_text(.cause))]
    Io { phase: Phase, cause: io::Error },
    #[error("could not connect to {target}: {detail}")]
    Connect { target: String, detail: String },
    /// TLS was required and could not be had, or the certificate was refused.
    #[error("{detail}")]
    Tls { detail: String },
    /// The server refused the credentials (RFC 4954 §6: 535, 534, 538, or another 5xx to AUTH).
    #[error("authentication refused: {reply}")]
    AuthRefused { reply: Reply },
    /// postie refused to authenticate, for the reason given (unencrypted connection, no mechanism in common).
    #[error("{0}")]
    AuthNotAttempted(String),
    /// The message is larger than the server's SIZE limit (RFC 1870); found before MAIL FROM.
    #[error("the message is {size} bytes and the server accepts at most {limit} (SIZE, RFC 1870)")]
    MessageTooLarge { size: u64, limit: u64 },
    /// The message needs an extension the server does not offer (8BITMIME, SMTPUTF8).
    #[error("{0}")]
    Unsupported(String),
    /// The resolver could not be set up or a lookup failed for a reason that may pass.
    #[error("{0}")]
    Dns(String),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) => Exit::Usage,
            Error::BadInput(_) => Exit::DataError,
            Error::Input { .. } => Exit::NoInput,
            Error::HostUnknown(_) => Exit::NoHost,
            Error::Rejected { reply, .. } if reply.is_transient() => Exit::TempFail,
            Error::Rejected { .. } => Exit::Unavailable,
            Error::Timeout { .. } | Error::Closed { .. } | Error::Io { .. } | Error::Connect { .. } | Error::Dns(_) => {
                Exit::TempFail
            }
            Error::Protocol { .. } => Exit::Protocol,
            Error::Tls { .. } => Exit::TlsFailure,
            Error::MessageTooLarge { .. } | Error::Unsupported(_) => Exit::Unavailable,
            Error::AuthRefused { reply } if reply.is_transient() => Exit::TempFail,
            Error::AuthRefused { .. } | Error::AuthNotAttempted(_) => Exit::NoPermission,
        }
    }

    /// Classify an I/O error from the socket: a timeout and a reset are not the same story for the user.
    pub fn from_io(phase: Phase, source: io::Error, timeout: Duration) -> Error {
        match source.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout { phase, after: timeout },
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Error::Closed { phase },
            _ => Error::Io { phase, cause: source },
        }
    }
}

/// An I/O error's words without std's "(os error N)" suffix: the words already say it.
pub fn io_text(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Find the exit code for any error chain: the first typed `Error` in it decides; anything else is a bug.
pub fn exit_for(error: &anyhow::Error) -> Exit {
    error.chain().find_map(|cause| cause.downcast_ref::<Error>()).map_or(Exit::Software, Error::exit)
}

/// Render the exit-code table for `--help` and the README.
pub fn exit_code_table() -> String {
    let mut table = String::from("Exit codes:\n");
    for (exit, meaning) in EXIT_CODES {
        table.push_str(&format!("  {:>2}  {}\n", exit.code(), meaning));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::parse_reply;

    #[test]
    fn every_exit_code_is_documented_once() {
        let all = [
            Exit::Success,
            Exit::Partial,
            Exit::TlsFailure,
            Exit::Usage,
            Exit::DataError,
            Exit::NoInput,
            Exit::NoHost,
            Exit::Unavailable,
            Exit::Software,
            Exit::TempFail,
            Exit::Protocol,
            Exit::NoPermission,
        ];
        for exit in all {
            assert_eq!(EXIT_CODES.iter().filter(|(e, _)| *e == exit).count(), 1, "{exit:?}");
        }
        assert_eq!(EXIT_CODES.len(), all.len());
    }

    #[test]
    fn replies_map_to_temporary_or_permanent() {
        let temporary = Error::Rejected { phase: Phase::MailFrom, reply: parse_reply("451 4.3.0 later\r\n") };
        let permanent = Error::Rejected { phase: Phase::MailFrom, reply: parse_reply("550 5.7.1 no\r\n") };
        assert_eq!(temporary.exit(), Exit::TempFail);
        assert_eq!(permanent.exit(), Exit::Unavailable);
    }

    #[test]
    fn io_errors_are_classified() {
        let timeout = Error::from_io(Phase::Banner, io::ErrorKind::WouldBlock.into(), Duration::from_secs(3));
        assert!(matches!(timeout, Error::Timeout { phase: Phase::Banner, .. }));
        assert_eq!(timeout.to_string(), "banner: no reply from the server within 3s");
        let reset = Error::from_io(Phase::Data, io::ErrorKind::ConnectionReset.into(), Duration::from_secs(1));
        assert_eq!(reset.to_string(), "DATA: the server closed the connection");
        assert_eq!(reset.exit(), Exit::TempFail);
    }

    #[test]
    fn untyped_errors_are_internal() {
        assert_eq!(exit_for(&anyhow::anyhow!("boom")), Exit::Software);
        let typed = anyhow::Error::new(Error::Usage("x".into())).context("outer");
        assert_eq!(exit_for(&typed), Exit::Usage);
    }
}
