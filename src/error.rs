//! Failure kinds and the exit codes scripts see: one table, in one place.
//!
//! The codes follow sysexits(3) classes so that a script can tell "retry later" (75) from "give up" (69)
//! without parsing text. `Partial` is postie's own: some recipients have the message and some do not, so
//! retrying the whole message would deliver it twice to the ones that accepted it.

use std::io;

use crate::smtp;
use crate::smtp::error::{AuthBlock, Error as SessionError};

/// The process exit status. `EXIT_CODES` documents each one; README.md and `--help` show that table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// A script's expectation failed; smuggle found a variant the server honours.
    Expectation = 1,
    Partial = 3,
    TlsFailure = 4,
    Unknown = 5,
    Usage = 64,
    DataError = 65,
    NoInput = 66,
    NoHost = 68,
    Unavailable = 69,
    Software = 70,
    TempFail = 75,
    Protocol = 76,
    NoPermission = 77,
    Config = 78,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Every exit code with its meaning, in the order shown to users.
pub const EXIT_CODES: &[(Exit, &str)] = &[
    (Exit::Success, "delivered: every recipient accepted the message (or --dump printed it)"),
    (Exit::Expectation, "script: an expectation failed (its line, what was expected, what came); smuggle: a variant ended the message"),
    (Exit::Partial, "partial delivery: some recipients have the message, some refused it; see the summary"),
    (Exit::TlsFailure, "TLS failed: not offered under --tls required, handshake failed, or certificate refused"),
    (Exit::Unknown, "unknown: the connection failed after the message was sent; the server may have it, so a retry may deliver twice"),
    (Exit::Usage, "usage: a bad flag or flag value (address, header, --server, conflicting flags)"),
    (Exit::DataError, "bad input data: the message given on stdin or with --data cannot be sent"),
    (Exit::NoInput, "an input file (--data, --body-file) is missing or unreadable"),
    (Exit::NoHost, "host unknown: the server name does not resolve"),
    (Exit::Unavailable, "permanent failure: the server refused with a 5xx reply (or a SOCKS5 proxy's rules forbid the connection); retrying will not help"),
    (Exit::Software, "internal error in postie"),
    (Exit::TempFail, "temporary failure: a 4xx reply, connection refused, timeout or dropped connection; retry later"),
    (Exit::Protocol, "protocol violation: the server sent something SMTP does not allow"),
    (Exit::NoPermission, "authentication failed: refused by the server or the SOCKS5 proxy, or not tried over an unencrypted connection"),
    (Exit::Config, "configuration error: the config file is malformed, names an unknown key or account, or shows its password to others"),
];

/// The errors a caller branches on: each maps to one exit code. A dialogue's own failure is wrapped whole,
/// in its protocol words; this layer adds what only the application knows (which flag to use instead).
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
    /// The dialogue ended before its goal.
    #[error("{}", session_text(.0))]
    Session(smtp::error::Error),
    #[error("could not connect to {target}: {detail}")]
    Connect { target: String, detail: String },
    /// The SOCKS5 proxy failed in a way that no other address would change: unreachable, authentication,
    /// its rules. (A destination it could not reach is a `Connect` failure of that address.)
    #[error("{proxy} {failure}")]
    Proxy { proxy: String, failure: crate::net::socks::Failure },
    /// The resolver could not be set up or a lookup failed for a reason that may pass.
    #[error("{0}")]
    Dns(String),
    /// `--max-time` passed: where the run stood.
    #[error("{0}")]
    OutOfTime(String),
    /// The domain cannot receive mail (NXDOMAIN, null MX).
    #[error("{0}")]
    NoMail(String),
    /// A setting cannot be used: the config file, or a secret command that failed.
    #[error("{0}")]
    Config(String),
    /// What the server did is not what the script expected (or smuggle found a variant that works).
    #[error("{0}")]
    Expectation(String),
    /// No OAuth access token could be had.
    #[error("{}", oauth_text(.0))]
    Oauth(crate::oauth::Error),
    /// `catch` cannot listen (the port is in use, the address is not this machine's) or cannot store.
    #[error("{0}")]
    Listen(String),
}

impl From<crate::oauth::Error> for Error {
    fn from(error: crate::oauth::Error) -> Self {
        Error::Oauth(error)
    }
}

/// An OAuth failure with what to do about it.
fn oauth_text(error: &crate::oauth::Error) -> String {
    use crate::oauth::{Error as OauthError, Grant};
    match error {
        OauthError::Refused { grant: Grant::RefreshToken, code, .. } if code == "invalid_grant" => {
            format!("{error}; run `postie oauth login` for a new refresh token")
        }
        OauthError::Refused { code, .. } if code == "invalid_client" || code == "unauthorized_client" => {
            format!("{error}; check --oauth-client-id and --oauth-client-secret")
        }
        OauthError::Certificate { .. } => format!("{error}; trust its CA with --ca-file"),
        other => other.to_string(),
    }
}

/// The exit code of an OAuth failure: a refused grant is an authentication failure (77); an endpoint that
/// cannot be reached or has a server error, temporary (75); a reply that breaks RFC 6749, a protocol
/// violation (76); a certificate that does not verify, a TLS failure (4); a file that cannot be written, 66.
pub fn oauth_exit(error: &crate::oauth::Error) -> Exit {
    use crate::oauth::Error as OauthError;
    match error {
        OauthError::Refused { .. } => Exit::NoPermission,
        OauthError::Unreachable { .. } => Exit::TempFail,
        OauthError::Certificate { .. } => Exit::TlsFailure,
        OauthError::Malformed { .. } => Exit::Protocol,
        OauthError::Store { .. } => Exit::NoInput,
    }
}

impl From<smtp::error::Error> for Error {
    fn from(error: smtp::error::Error) -> Self {
        Error::Session(error)
    }
}

/// A dialogue's error with the hint a user needs (the flag that changes the decision).
fn session_text(error: &SessionError) -> String {
    match error {
        SessionError::AuthNotAttempted(AuthBlock::Unencrypted { .. }) => {
            format!("{error}; use TLS (--tls required) or --allow-plaintext-auth")
        }
        SessionError::AuthNotAttempted(AuthBlock::Unverified { .. }) => {
            format!("{error}; trust its CA with --ca-file, or accept the risk with --insecure")
        }
        SessionError::TlsInsteadOfGreeting => format!("{error}: use --tls implicit, or --server smtps://HOST"),
        SessionError::OutOfTime { .. } => format!("{error} (--max-time)"),
        SessionError::StartTlsNotOffered { .. } => {
            format!("{error}, and --tls required (the default on port 587) does not go on unencrypted")
        }
        other => other.to_string(),
    }
}

/// The exit code of a dialogue's error.
pub fn session_exit(error: &SessionError) -> Exit {
    match error {
        SessionError::Refused { reply, .. } if reply.is_transient() => Exit::TempFail,
        SessionError::Refused { .. } => Exit::Unavailable,
        SessionError::Timeout { .. }
        | SessionError::Stalled { .. }
        | SessionError::Closed { .. }
        | SessionError::Io { .. } => Exit::TempFail,
        SessionError::Violation { .. } => Exit::Protocol,
        SessionError::TlsInsteadOfGreeting => Exit::TlsFailure,
        SessionError::OutOfTime { .. } => Exit::TempFail,
        SessionError::StartTlsNotOffered { .. } | SessionError::Tls { .. } => Exit::TlsFailure,
        SessionError::AuthRefused { reply } if reply.is_transient() => Exit::TempFail,
        SessionError::AuthRefused { .. } | SessionError::AuthNotAttempted(_) => Exit::NoPermission,
        SessionError::MessageTooLarge { .. } | SessionError::Unsupported(_) => Exit::Unavailable,
        SessionError::XclientNotOffered { .. } => Exit::Unavailable,
    }
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) => Exit::Usage,
            Error::BadInput(_) => Exit::DataError,
            Error::Input { .. } => Exit::NoInput,
            Error::HostUnknown(_) => Exit::NoHost,
            Error::Session(error) => session_exit(error),
            Error::Connect { .. } | Error::Dns(_) => Exit::TempFail,
            Error::Proxy { failure, .. } => proxy_exit(failure),
            Error::NoMail(_) => Exit::Unavailable,
            Error::Expectation(_) => Exit::Expectation,
            Error::Config(_) => Exit::Config,
            Error::OutOfTime(_) => Exit::TempFail,
            Error::Oauth(error) => oauth_exit(error),
            Error::Listen(_) => Exit::Unavailable,
        }
    }
}

/// The exit code of a SOCKS5 proxy's failure: what may pass is temporary, authentication is 77, and what
/// the proxy's rules or abilities forbid is permanent (RFC 1928 §6 replies 0x02, 0x07, 0x08).
fn proxy_exit(failure: &crate::net::socks::Failure) -> Exit {
    use crate::net::socks::Failure;
    match failure {
        Failure::Unreachable(_) | Failure::Timeout(_) | Failure::Closed => Exit::TempFail,
        Failure::Violation(_) => Exit::Protocol,
        Failure::NoAcceptableMethod { .. } | Failure::PasswordWanted | Failure::AuthRefused(_) => Exit::NoPermission,
        Failure::Refused(0x02 | 0x07 | 0x08) | Failure::BadDestination(_) => Exit::Unavailable,
        Failure::Refused(_) => Exit::TempFail,
    }
}

/// An I/O error's words without std's "(os error N)" suffix: the words already say it.
pub fn io_text(error: &io::Error) -> String {
    crate::net::io_text(error)
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
    use crate::smtp::error::Phase;
    use crate::smtp::reply::parse_reply;
    use std::time::Duration;

    #[test]
    fn every_exit_code_is_documented_once() {
        let all = [
            Exit::Success,
            Exit::Expectation,
            Exit::Partial,
            Exit::TlsFailure,
            Exit::Unknown,
            Exit::Usage,
            Exit::DataError,
            Exit::NoInput,
            Exit::NoHost,
            Exit::Unavailable,
            Exit::Software,
            Exit::TempFail,
            Exit::Protocol,
            Exit::NoPermission,
            Exit::Config,
        ];
        for exit in all {
            assert_eq!(EXIT_CODES.iter().filter(|(e, _)| *e == exit).count(), 1, "{exit:?}");
        }
        assert_eq!(EXIT_CODES.len(), all.len());
    }

    #[test]
    fn replies_map_to_temporary_or_permanent() {
        let temporary = SessionError::Refused { phase: Phase::MailFrom, reply: parse_reply("451 4.3.0 later\r\n") };
        let permanent = SessionError::Refused { phase: Phase::MailFrom, reply: parse_reply("550 5.7.1 no\r\n") };
        assert_eq!(Error::from(temporary).exit(), Exit::TempFail);
        assert_eq!(Error::from(permanent).exit(), Exit::Unavailable);
    }

    #[test]
    fn session_failures_in_words() {
        let timeout = Error::from(SessionError::Timeout { phase: Phase::Banner, after: Duration::from_secs(3) });
        assert_eq!(timeout.to_string(), "banner: no reply from the server within 3s");
        assert_eq!(timeout.exit(), Exit::TempFail);
        let closed = Error::from(SessionError::Closed { phase: Phase::Data });
        assert_eq!(closed.to_string(), "DATA: the server closed the connection");
        let clear = Error::from(SessionError::AuthNotAttempted(AuthBlock::Unencrypted { host: "mx".into() }));
        assert_eq!(
            clear.to_string(),
            "not sending credentials to mx over an unencrypted connection; use TLS (--tls required) or --allow-plaintext-auth"
        );
        assert_eq!(clear.exit(), Exit::NoPermission);
    }

    #[test]
    fn proxy_failures_have_their_own_codes() {
        use crate::net::socks::Failure;
        let proxy = |failure| Error::Proxy { proxy: "SOCKS5 proxy 127.0.0.1:1080".into(), failure };
        assert_eq!(proxy(Failure::Unreachable("connection refused".into())).exit(), Exit::TempFail);
        assert_eq!(proxy(Failure::AuthRefused(1)).exit(), Exit::NoPermission);
        assert_eq!(proxy(Failure::Refused(2)).exit(), Exit::Unavailable);
        assert_eq!(proxy(Failure::Refused(1)).exit(), Exit::TempFail);
        assert_eq!(
            proxy(Failure::Unreachable("connection refused".into())).to_string(),
            "SOCKS5 proxy 127.0.0.1:1080 cannot be reached: connection refused"
        );
    }

    #[test]
    fn untyped_errors_are_internal() {
        assert_eq!(exit_for(&anyhow::anyhow!("boom")), Exit::Software);
        let typed = anyhow::Error::new(Error::Usage("x".into())).context("outer");
        assert_eq!(exit_for(&typed), Exit::Usage);
    }
}
