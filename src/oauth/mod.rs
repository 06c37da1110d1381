//! OAuth 2.0 for SMTP AUTH (XOAUTH2, OAUTHBEARER): an access token from a refresh token (RFC 6749 §6), the
//! device authorization grant for a first sign-in without a browser on this machine (RFC 8628), and a private
//! cache that keeps an access token until it expires. Plain data in, typed errors out; no flags, no SMTP.
//!
//! Tokens are `Token`s: their Debug and Display say `<redacted>`, so neither a refresh token nor an access
//! token can reach a transcript, an error or debug output by accident.

pub mod cache;
pub mod device;
mod http;
pub mod refresh;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The most an endpoint's reply may be: a token reply is a few KiB at most.
pub const MAX_REPLY_BYTES: u64 = 64 * 1024;

/// The client at a token endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    pub token_url: Endpoint,
    pub client_id: String,
    /// Confidential clients send it with every request (`client_secret_post`, RFC 6749 §2.3.1).
    pub client_secret: Option<Token>,
    /// `--ca-file`: with any, only these CAs are trusted for the endpoints (without, the web PKI roots).
    pub ca_files: Vec<PathBuf>,
    /// For each request, from connecting to the last byte of the reply.
    pub timeout: Duration,
}

/// An endpoint's URL: `https://`, or `http://` to a loopback address (where nothing crosses a network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(String);

impl Endpoint {
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let uri: ureq::http::Uri = text.parse().map_err(|_| "not a URL".to_string())?;
        let host = uri.host().filter(|h| !h.is_empty()).ok_or("the URL has no host")?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(host) => {}
            Some("http") => {
                return Err("plain http:// would send the tokens unencrypted; give an https:// URL (http:// is \
                            accepted only for a loopback address)"
                    .into())
            }
            _ => return Err("give an https:// URL".into()),
        }
        if text.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err("the URL contains white space or a control character".into());
        }
        Ok(Endpoint(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A secret string (an access or refresh token, a device code, a client secret): never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(text: String) -> Token {
        Token(text)
    }

    /// The token itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An access token (RFC 6749 §5.1) and how long it is good for, when the endpoint said.
#[derive(Debug, Clone)]
pub struct Access {
    pub token: Token,
    pub expires_in: Option<Duration>,
    /// A new refresh token, when the provider rotates them (RFC 6749 §6: it "MAY issue a new refresh
    /// token", and then the old one may stop working).
    pub refresh_token: Option<Token>,
}

/// Where the access token for a session came from, for the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Cached { expires_in: Duration },
    Refreshed { url: String, expires_in: Option<Duration> },
}

/// Why no token could be had. Each kind has its own exit code (see `crate::error`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint refused the grant (RFC 6749 §5.2, RFC 8628 §3.5): its error code and description.
    #[error("{url} refused the {grant}: {code}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused { url: String, grant: Grant, code: String, description: Option<String> },
    /// The endpoint could not be reached, timed out or had a server error: it may work later.
    #[error("cannot get an OAuth token from {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The endpoint's certificate does not verify.
    #[error("the certificate of {url} does not verify: {detail}")]
    Certificate { url: String, detail: String },
    /// A reply that is not what RFC 6749 or RFC 8628 describes.
    #[error("the OAuth endpoint {url} {detail}")]
    Malformed { url: String, detail: String },
    /// A file postie keeps (the refresh token, the cache) could not be written.
    #[error("cannot write {path}: {cause}")]
    Store { path: String, cause: std::io::Error },
}

/// What was asked for when the endpoint refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    RefreshToken,
    DeviceAuthorization,
    DeviceCode,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grant::RefreshToken => "refresh token",
            Grant::DeviceAuthorization => "device authorization request",
            Grant::DeviceCode => "device sign-in",
        })
    }
}

/// Read an access token reply (RFC 6749 §5.1): `access_token`, a Bearer `token_type`, and `expires_in` in
/// seconds (a number, or digits in a string as some providers send it).
fn access_from(url: &Endpoint, reply: &serde_json::Map<String, serde_json::Value>) -> Result<Access, Error> {
    let malformed = |detail: &str| Error::Malformed { url: url.to_string(), detail: detail.to_string() };
    let token = match reply.get("access_token") {
        Some(serde_json::Value::String(token)) if !token.is_empty() => Token::new(token.clone()),
        _ => return Err(malformed("answered without an access_token (RFC 6749 §5.1)")),
    };
    match reply.get("token_type") {
        None => {}
        Some(serde_json::Value::String(kind)) if kind.eq_ignore_ascii_case("bearer") => {}
        Some(other) => {
            return Err(Error::Malformed {
                url: url.to_string(),
                detail: format!(
                    "gave a token of type {}, not Bearer",
                    crate::sanitize::escape(other.to_string().as_bytes())
                ),
            })
        }
    }
    let expires_in = match reply.get("expires_in") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => n.as_u64().map(Duration::from_secs),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok().map(Duration::from_secs),
        Some(_) => None,
    };
    let refresh_token = match reply.get("refresh_token") {
        Some(serde_json::Value::String(token)) if !token.is_empty() => Some(Token::new(token.clone())),
        _ => None,
    };
    Ok(Access { token, expires_in, refresh_token })
}

/// The provider's own words, safe to show on one line.
fn words(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(text) if !text.trim().is_empty() => {
            Some(crate::sanitize::escape(text.trim().chars().take(500).collect::<String>().as_bytes()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_https_except_on_loopback() {
        assert!(Endpoint::parse("https://oauth2.example.test/token").is_ok());
        assert!(Endpoint::parse("http://127.0.0.1:8080/token").is_ok());
        assert!(Endpoint::parse("http://[::1]:8080/token").is_ok());
        assert!(Endpoint::parse("http://localhost/token").is_ok());
        assert!(Endpoint::parse("http://oauth2.example.test/token").unwrap_err().contains("unencrypted"));
        assert!(Endpoint::parse("ftp://oauth2.example.test/token").is_err());
        assert!(Endpoint::parse("oauth2.example.test/token").is_err());
        assert!(Endpoint::parse("https:///token").is_err());
    }

    #[test]
    fn tokens_are_never_shown() {
        let token = Token::new("ya29.secret".into());
        assert_eq!(format!("{token} {token:?}"), "<redacted> <redacted>");
        let access = Access { token, expires_in: None, refresh_token: None };
        assert!(!format!("{access:?}").contains("ya29"));
    }

    #[test]
    fn a_token_reply_is_read_as_rfc_6749_says() {
        let url = Endpoint::parse("https://x.test/token").unwrap();
        let reply = |text: &str| serde_json::from_str::<serde_json::Map<_, _>>(text).unwrap();
        let access =
            access_from(&url, &reply(r#"{"access_token":"t","token_type":"Bearer","expires_in":3599}"#)).unwrap();
        assert_eq!((access.token.expose(), access.expires_in), ("t", Some(Duration::from_secs(3599))));
        let access = access_from(&url, &reply(r#"{"access_token":"t","expires_in":"60"}"#)).unwrap();
        assert_eq!(access.expires_in, Some(Duration::from_secs(60)));
        assert!(access_from(&url, &reply(r#"{"token_type":"Bearer"}"#)).is_err());
        assert!(access_from(&url, &reply(r#"{"access_token":"t","token_type":"mac"}"#)).is_err());
    }
}
