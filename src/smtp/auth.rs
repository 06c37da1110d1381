//! SMTP AUTH (RFC 4954) mechanisms as pure functions of the credentials and the server's challenge.
//! The session sends what these return; secrets never leave this module except base64-encoded on the wire.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};

/// A password or token: its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// RFC 4616: user and password in one base64 message.
    Plain,
    /// The old two-step user/password exchange.
    Login,
    /// RFC 2195: an HMAC-MD5 of the server's challenge; the password itself is never sent.
    CramMd5,
    /// Google and Microsoft's OAuth 2.0 bearer token form.
    Xoauth2,
    /// RFC 7628: OAuth 2.0 bearer token.
    Oauthbearer,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::Xoauth2 => "XOAUTH2",
            Mechanism::Oauthbearer => "OAUTHBEARER",
        }
    }

    pub fn uses_token(self) -> bool {
        matches!(self, Mechanism::Xoauth2 | Mechanism::Oauthbearer)
    }
}

/// The strongest mechanism both sides have: with a token, the bearer mechanisms; with a password, CRAM-MD5
/// (the password never crosses the wire), then PLAIN, then LOGIN.
pub fn choose(offered: &[String], have_token: bool) -> Option<Mechanism> {
    let order: &[Mechanism] = if have_token {
        &[Mechanism::Oauthbearer, Mechanism::Xoauth2]
    } else {
        &[Mechanism::CramMd5, Mechanism::Plain, Mechanism::Login]
    };
    order.iter().copied().find(|m| offered.iter().any(|o| o.eq_ignore_ascii_case(m.name())))
}

/// Whether a password or token can be sent unchanged by every mechanism. RFC 4616 §2 separates the user from
/// the password with NUL, so a NUL in a secret would make the server read a different user or password; the
/// OAuth forms (RFC 7628 §3.1) separate their parts with U+0001 in the same way. A line break is no part of
/// a secret: it is the second line of a file or a paste gone wrong, and LOGIN would send it on a line of its
/// own.
pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret.contains('\0') {
        return Err("it contains a NUL character, which AUTH PLAIN uses to separate the user from the password \
                    (RFC 4616): the server would read a different user or password"
            .into());
    }
    if secret.contains('\u{1}') {
        return Err("it contains the character U+0001, which the OAuth mechanisms use to separate their parts \
                    (RFC 7628): the server would read a different token"
            .into());
    }
    if secret.contains(['\r', '\n']) {
        return Err("it contains a line break (CR or LF), which is not part of a password or token".into());
    }
    Ok(())
}

/// RFC 4616 §2: `authzid NUL authcid NUL passwd`, with an empty authzid.
pub fn plain(user: &str, password: &Secret) -> String {
    BASE64.encode(format!("\0{user}\0{}", password.expose()))
}

pub fn encode(text: &str) -> String {
    BASE64.encode(text)
}

/// RFC 2195: `user SP hex(HMAC-MD5(password, challenge))`, base64-encoded.
pub fn cram_md5(user: &str, password: &Secret, challenge_base64: &[u8]) -> Result<String, String> {
    let challenge =
        BASE64.decode(trim(challenge_base64)).map_err(|_| "the CRAM-MD5 challenge is not valid base64".to_string())?;
    let mut mac = Hmac::<md5::Md5>::new_from_slice(password.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(&challenge);
    let digest: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    Ok(BASE64.encode(format!("{user} {digest}")))
}

/// The XOAUTH2 initial response: `user=U ^A auth=Bearer T ^A ^A`.
pub fn xoauth2(user: &str, token: &Secret) -> String {
    BASE64.encode(format!("user={user}\x01auth=Bearer {}\x01\x01", token.expose()))
}

/// RFC 7628 §3.1: the GS2 header with the user, then host, port and the bearer token.
pub fn oauthbearer(user: &str, host: &str, port: u16, token: &Secret) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    BASE64.encode(format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {}\x01\x01", token.expose()))
}

/// A line the client sends during AUTH: what goes on the wire and what the transcript shows instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthLine {
    pub wire: String,
    pub shown: String,
}

impl AuthLine {
    fn public(line: String) -> AuthLine {
        AuthLine { shown: line.clone(), wire: line }
    }

    fn secret(wire: String, redacted: &str, show: bool) -> AuthLine {
        let shown = if show { wire.clone() } else { redacted.to_string() };
        AuthLine { wire, shown }
    }
}

/// Who authenticates, for one exchange.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    pub user: &'a str,
    pub secret: &'a Secret,
    /// Show the encoded secrets in the transcript instead of `<redacted>` (`--show-secrets`).
    pub show: bool,
    /// The server's name and port, which OAUTHBEARER carries.
    pub host: &'a str,
    pub port: u16,
}

/// One AUTH exchange (RFC 4954 §4): the command, then an answer to each 334 challenge until the server
/// says 235 or refuses. `send` and the interactive session both run it, so the encodings and what the
/// transcript hides are decided here once.
#[derive(Debug, Clone, Copy)]
pub struct Exchange {
    mechanism: Mechanism,
    step: u8,
}

impl Exchange {
    /// The AUTH command, with the initial response where the mechanism has one (RFC 4954 §4).
    pub fn start(mechanism: Mechanism, identity: Identity<'_>) -> (Exchange, AuthLine) {
        let Identity { user, secret, show, host, port } = identity;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let initial = match mechanism {
            Mechanism::Plain => Some(plain(user, secret)),
            Mechanism::Xoauth2 => Some(xoauth2(user, secret)),
            Mechanism::Oauthbearer => Some(oauthbearer(user, host, port, secret)),
            Mechanism::Login | Mechanism::CramMd5 => None,
        };
        let name = mechanism.name();
        let line = match initial {
            Some(response) => {
                AuthLine::secret(format!("AUTH {name} {response}"), &format!("AUTH {name} <redacted>"), show)
            }
            None => AuthLine::public(format!("AUTH {name}")),
        };
        (Exchange { mechanism, step: 0 }, line)
    }

    /// The answer to a 334 challenge (its text, still base64); an error names a protocol violation.
    pub fn answer(&mut self, challenge: &[u8], identity: Identity<'_>) -> Result<AuthLine, String> {
        self.step += 1;
        if self.step > 3 {
            return Err("the server keeps sending AUTH challenges".into());
        }
        let Identity { user, secret, show, .. } = identity;
        match (self.mechanism, self.step) {
            (Mechanism::Login, 1) => Ok(AuthLine::public(encode(user))),
            (Mechanism::Login, 2) => Ok(AuthLine::secret(encode(secret.expose()), "<redacted password>", show)),
            (Mechanism::CramMd5, 1) => {
                Ok(AuthLine::secret(cram_md5(user, secret, challenge)?, "<redacted CRAM-MD5 response>", show))
            }
            // The bearer mechanisms answer a failure with a 334 and a JSON error; the client ends the exchange
            // (RFC 7628 §3.2.3: a single ^A; XOAUTH2: an empty line) and the 5xx follows.
            (Mechanism::Oauthbearer, _) => Ok(AuthLine::public("AQ==".into())),
            (Mechanism::Xoauth2, _) => Ok(AuthLine::public(String::new())),
            // PLAIN with an empty challenge: the server wants the initial response now.
            (Mechanism::Plain, 1) if trim(challenge).is_empty() => {
                Ok(AuthLine::secret(plain(user, secret), "<redacted>", show))
            }
            (mechanism, _) => Err(format!("an unexpected challenge during AUTH {}", mechanism.name())),
        }
    }
}

/// The mechanism named `name` (case-insensitive), if postie has it.
pub fn mechanism_named(name: &str) -> Option<Mechanism> {
    [Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5, Mechanism::Xoauth2, Mechanism::Oauthbearer]
        .into_iter()
        .find(|m| m.name().eq_ignore_ascii_case(name))
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s.into())
    }

    #[test]
    fn plain_matches_rfc_4616() {
        assert_eq!(plain("tim", &secret("tanstaaftanstaaf")), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    }

    #[test]
    fn cram_md5_matches_rfc_2195() {
        // RFC 2195 §2 example.
        let challenge = BASE64.encode("<1896.697170952@postoffice.reston.mci.net>");
        let response = cram_md5("tim", &secret("tanstaaftanstaaf"), challenge.as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(BASE64.decode(response).unwrap()).unwrap(),
            "tim b913a602c7eda7a495b4e6e7334d3890"
        );
        assert!(cram_md5("tim", &secret("x"), b"!!!").is_err());
    }

    #[test]
    fn bearer_forms() {
        let decoded = |s: String| String::from_utf8(BASE64.decode(s).unwrap()).unwrap();
        assert_eq!(decoded(xoauth2("a@x.test", &secret("tok"))), "user=a@x.test\x01auth=Bearer tok\x01\x01");
        assert_eq!(
            decoded(oauthbearer("a,b=@x.test", "mx.x.test", 587, &secret("tok"))),
            "n,a=a=2Cb=3D@x.test,\x01host=mx.x.test\x01port=587\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn choice() {
        let offered: Vec<String> = ["PLAIN", "LOGIN", "cram-md5"].iter().map(|s| s.to_string()).collect();
        assert_eq!(choose(&offered, false), Some(Mechanism::CramMd5));
        assert_eq!(choose(&offered[..2], false), Some(Mechanism::Plain));
        assert_eq!(choose(&offered, true), None);
        assert_eq!(choose(&["XOAUTH2".to_string()], true), Some(Mechanism::Xoauth2));
    }

    #[test]
    fn secrets_that_would_be_read_differently_are_refused() {
        assert_eq!(check_secret("tanstaaftanstaaf \u{e9}\t"), Ok(()));
        // "\0tim\0a\0b" is ambiguous: password "a\0b", or user "a" and password "b"?
        let error = check_secret("a\0b").unwrap_err();
        assert!(error.starts_with("it contains a NUL character, which AUTH PLAIN uses"), "{error}");
        assert!(check_secret("tok\u{1}auth=Bearer x").unwrap_err().contains("U+0001"));
        for secret in ["pass\n", "pass\r", "pass\r\nword"] {
            assert_eq!(
                check_secret(secret),
                Err("it contains a line break (CR or LF), which is not part of a password or token".into())
            );
        }
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?} {}", secret("hunter2"), secret("hunter2")), "(redacted) (redacted)");
    }
}
