//! The client side of a SOCKS5 proxy (RFC 1928), with username/password authentication (RFC 1929): the proxy
//! opens the TCP connection to the mail server, and postie's dialogue (TLS included) runs over it unchanged.
//!
//! `socks5h://HOST:PORT` hands the proxy the server's name, so the proxy resolves it (curl's
//! `--socks5-hostname`); `socks5://` hands it the address postie looked up. Not to be confused with
//! [`super::proxy`], the HAProxy PROXY *protocol* header a client sends to a server behind a load balancer.
//!
//! The wire format is a pure encoder and decoder ([`greeting`], [`parse_reply`] ...), tested without sockets;
//! [`connect`] drives them over a blocking socket. Reads take exactly the bytes the reply needs, so a mail
//! server's greeting that arrives in the same segment as the proxy's reply stays in the socket for the
//! dialogue.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{connect_one, io_text, Host, ServerSpec};

/// The port of a proxy URL without one (RFC 1928 §3: "the SOCKS service is conventionally located on TCP
/// port 1080").
pub const DEFAULT_PORT: u16 = 1080;

/// The version byte that opens every request and reply (RFC 1928 §3).
const VERSION: u8 = 5;
/// RFC 1928 §3 method numbers.
const NO_AUTHENTICATION: u8 = 0x00;
const USERNAME_PASSWORD: u8 = 0x02;
const NO_ACCEPTABLE_METHOD: u8 = 0xff;
/// RFC 1929 §2: the sub-negotiation's own version byte.
const AUTH_VERSION: u8 = 1;
/// RFC 1928 §4 command and §5 address types.
const CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// A proxy as the user gave it (`--proxy`, `ALL_PROXY`).
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `socks5h`: the proxy resolves the server's name; `socks5`: postie does and sends the address.
    pub remote_dns: bool,
    pub host: Host,
    pub port: u16,
    pub credentials: Option<Credentials>,
}

/// RFC 1929 username and password: each 1 to 255 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    password: String,
}

impl Credentials {
    pub fn new(user: String, password: String) -> Result<Credentials, String> {
        check_user(&user)?;
        if password.is_empty() || password.len() > 255 {
            return Err("the proxy password must be 1 to 255 bytes (RFC 1929)".into());
        }
        Ok(Credentials { user, password })
    }
}

/// An RFC 1929 user name is 1 to 255 bytes.
fn check_user(user: &str) -> Result<(), String> {
    if user.is_empty() || user.len() > 255 {
        return Err("the proxy user name must be 1 to 255 bytes (RFC 1929)".into());
    }
    Ok(())
}

impl Credentials {
    /// Whether a password was given (a URL may name only the user, for --proxy-password to complete).
    pub fn has_password(&self) -> bool {
        !self.password.is_empty()
    }
}

/// Never the password, whatever prints a proxy.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials {{ user: {:?}, password: <redacted> }}", self.user)
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("remote_dns", &self.remote_dns)
            .field("address", &self.address())
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl Proxy {
    /// `socks5h://[USER:PASSWORD@]HOST[:PORT]` or `socks5://…`; user and password percent-decoded, the port
    /// 1080 when not given, an IPv6 address in brackets. The error says why in a few words and never holds
    /// the password.
    pub fn parse(url: &str) -> Result<Proxy, String> {
        if url.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err("it contains a space or control character".into());
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err("give a URL such as socks5h://HOST:PORT or socks5://HOST:PORT".into());
        };
        let remote_dns = match scheme.to_ascii_lowercase().as_str() {
            "socks5h" => true,
            "socks5" => false,
            "" => return Err("the scheme is missing: give socks5h:// or socks5://".into()),
            other => {
                return Err(format!(
                    "{other}:// proxies are not supported: postie speaks SOCKS5 (socks5h:// or socks5://)"
                ))
            }
        };
        // A trailing slash is harmless (curl accepts it); a path, query or fragment is not a proxy's.
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err("a proxy URL has no path, query or fragment: give SCHEME://HOST[:PORT]".into());
        }
        let (userinfo, authority) = match rest.rsplit_once('@') {
            Some((userinfo, authority)) => (Some(userinfo), authority),
            None => (None, rest),
        };
        if authority.is_empty() {
            return Err("the proxy's host is missing".into());
        }
        let spec: ServerSpec = authority.parse()?;
        let credentials = match userinfo {
            None => None,
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let user = percent_decode(user).map_err(|e| format!("the proxy user name {e}"))?;
                let password = percent_decode(password).map_err(|e| format!("the proxy password {e}"))?;
                if password.is_empty() {
                    // Kept so that --proxy-password can supply it; `connect` refuses a user without one.
                    check_user(&user)?;
                    Some(Credentials { user, password })
                } else {
                    Some(Credentials::new(user, password)?)
                }
            }
        };
        Ok(Proxy { remote_dns, host: spec.host, port: spec.port.unwrap_or(DEFAULT_PORT), credentials })
    }

    /// Set the password from elsewhere (`--proxy-password`): the URL must name the user.
    pub fn set_password(&mut self, password: String) -> Result<(), String> {
        let Some(credentials) = self.credentials.take() else {
            return Err("a proxy password needs the user in the URL: socks5h://USER@HOST:PORT".into());
        };
        self.credentials = Some(Credentials::new(credentials.user, password)?);
        Ok(())
    }

    /// `HOST:PORT` as the transcript shows it: never the credentials.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// "SOCKS5 proxy 127.0.0.1:1080".
    pub fn describe(&self) -> String {
        format!("SOCKS5 proxy {}", self.address())
    }
}

/// The proxy and the hosts reached without it (`--no-proxy`, `NO_PROXY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socks {
    pub proxy: Proxy,
    pub bypass: Vec<String>,
}

impl Socks {
    /// The proxy to reach `host` (a name, or an address as text, brackets allowed) through, if any.
    pub fn for_host(&self, host: &str) -> Option<&Proxy> {
        (!bypassed(&self.bypass, host)).then_some(&self.proxy)
    }
}

/// Whether `host` is in a no-proxy list, as curl reads `NO_PROXY`: `*` is every host; a name covers itself
/// and its subdomains (a leading dot is the same); an address matches itself. Case does not matter.
pub fn bypassed(list: &[String], host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    list.iter().any(|entry| {
        let entry = entry.trim().trim_start_matches('.').trim_start_matches('[').trim_end_matches(']');
        let entry = entry.trim_end_matches('.').to_ascii_lowercase();
        entry == "*"
            || (!entry.is_empty()
                && (host == entry || host.strip_suffix(&entry).is_some_and(|head| head.ends_with('.'))))
    })
}

/// The entries of a comma-separated no-proxy list.
pub fn bypass_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|entry| !entry.is_empty()).map(str::to_string).collect()
}

/// A proxy URL for a message: the password replaced by `***`, so that an error can quote what was given.
pub fn redact(url: &str) -> String {
    redact_with(url, "***")
}

/// A proxy URL with its password (`SCHEME://USER:PASSWORD@…`, up to the last `@`) replaced by `mask`; as it
/// is when it holds none.
pub fn redact_with(url: &str, mask: &str) -> String {
    match password_span(url) {
        Some(span) => format!("{}{mask}{}", &url[..span.start], &url[span.end..]),
        None => url.to_string(),
    }
}

/// Whether a proxy URL holds a password (`SCHEME://USER:PASSWORD@…`), which [`redact_with`] would hide.
pub fn has_password(url: &str) -> bool {
    password_span(url).is_some()
}

/// Where a proxy URL's password is: after the first `:` of the user information (all before the last `@`).
fn password_span(url: &str) -> Option<std::ops::Range<usize>> {
    let (scheme, rest) = url.split_once("://")?;
    let (userinfo, _) = rest.rsplit_once('@')?;
    let (user, _) = userinfo.split_once(':')?;
    let start = scheme.len() + "://".len();
    Some(start + user.len() + 1..start + userinfo.len())
}

/// RFC 3986 §2.1 percent-decoding of a URL's user information, to UTF-8 text.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let value =
                hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or("has a '%' not followed by two hex digits")?;
            out.push(value);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once decoded".to_string())
}

/// Where the proxy should connect: an address (`socks5`) or a name it resolves (`socks5h`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Address(SocketAddr),
    Name(String, u16),
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Address(address) => write!(f, "{address}"),
            Destination::Name(name, port) => write!(f, "{name}:{port}"),
        }
    }
}

/// Why the proxy did not give a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The proxy itself could not be reached: its name, or every address, failed.
    Unreachable(String),
    /// The handshake took longer than the connect timeout.
    Timeout(Duration),
    /// The proxy closed the connection during the handshake.
    Closed,
    /// What came back is not SOCKS5.
    Violation(String),
    /// None of the methods offered is acceptable to the proxy (RFC 1928 §3, 0xFF): usually it wants a user and
    /// password that were not given.
    NoAcceptableMethod { offered_password: bool },
    /// The proxy chose user/password but none was given.
    PasswordWanted,
    /// RFC 1929 §2: a status other than 0.
    AuthRefused(u8),
    /// RFC 1928 §6: the CONNECT was answered with this reply code.
    Refused(u8),
    /// The destination cannot be written in a request (a name over 255 bytes).
    BadDestination(String),
}

impl Failure {
    /// Whether the failure is the destination's (refused, unreachable), so another address may be tried
    /// through the same proxy; anything else is the proxy's and would fail again.
    pub fn about_destination(&self) -> bool {
        matches!(self, Failure::Refused(0x01 | 0x03 | 0x04 | 0x05 | 0x06))
    }
}

/// A predicate for the proxy's name: "SOCKS5 proxy 127.0.0.1:1080 cannot be reached: connection refused".
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unreachable(reason) => write!(f, "cannot be reached: {reason}"),
            Failure::Timeout(after) => {
                write!(f, "did not finish the handshake within {}s (--connect-timeout)", after.as_secs_f32())
            }
            Failure::Closed => f.write_str("closed the connection during the handshake"),
            Failure::Violation(what) => write!(f, "does not speak SOCKS5: {what}"),
            Failure::NoAcceptableMethod { offered_password: true } => {
                f.write_str("accepts neither no authentication nor user/password (RFC 1928 method 0xFF)")
            }
            Failure::NoAcceptableMethod { offered_password: false } => {
                f.write_str("requires authentication: give socks5h://USER:PASSWORD@HOST:PORT (RFC 1928 method 0xFF)")
            }
            Failure::PasswordWanted => f.write_str("asks for a user and password, and none was given"),
            Failure::AuthRefused(status) => {
                write!(f, "refused the user name and password (RFC 1929 status {status:#04x})")
            }
            Failure::Refused(code) => write!(f, "answered: {} (SOCKS5 reply {code:#04x})", reply_words(*code)),
            Failure::BadDestination(why) => write!(f, "cannot be asked: {why}"),
        }
    }
}

/// RFC 1928 §6 reply codes in words.
pub fn reply_words(code: u8) -> &'static str {
    match code {
        0x00 => "succeeded",
        0x01 => "general SOCKS server failure",
        0x02 => "connection not allowed by its rules",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused by the destination",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "an unassigned reply code",
    }
}

/// RFC 1928 §3: the methods offered, no authentication and, with credentials, user/password.
pub fn greeting(with_password: bool) -> Vec<u8> {
    if with_password {
        vec![VERSION, 2, NO_AUTHENTICATION, USERNAME_PASSWORD]
    } else {
        vec![VERSION, 1, NO_AUTHENTICATION]
    }
}

/// The method the proxy chose, from its two-byte answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    NoAuthentication,
    UsernamePassword,
}

pub fn parse_choice(answer: [u8; 2], offered_password: bool) -> Result<Method, Failure> {
    if answer[0] != VERSION {
        return Err(Failure::Violation(format!("version {:#04x} in the method choice", answer[0])));
    }
    match answer[1] {
        NO_AUTHENTICATION => Ok(Method::NoAuthentication),
        USERNAME_PASSWORD if offered_password => Ok(Method::UsernamePassword),
        USERNAME_PASSWORD => Err(Failure::PasswordWanted),
        NO_ACCEPTABLE_METHOD => Err(Failure::NoAcceptableMethod { offered_password }),
        other => Err(Failure::Violation(format!("it chose method {other:#04x}, which was not offered"))),
    }
}

/// RFC 1929 §2: VER ULEN UNAME PLEN PASSWD.
pub fn auth_request(credentials: &Credentials) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + credentials.user.len() + credentials.password.len());
    out.push(AUTH_VERSION);
    out.push(credentials.user.len() as u8);
    out.extend_from_slice(credentials.user.as_bytes());
    out.push(credentials.password.len() as u8);
    out.extend_from_slice(credentials.password.as_bytes());
    out
}

/// RFC 1929 §2: VER STATUS, 0 for success. Some servers answer with version 5 here; the status decides.
pub fn parse_auth_reply(answer: [u8; 2]) -> Result<(), Failure> {
    if answer[0] != AUTH_VERSION && answer[0] != VERSION {
        return Err(Failure::Violation(format!("version {:#04x} in the authentication reply", answer[0])));
    }
    match answer[1] {
        0 => Ok(()),
        status => Err(Failure::AuthRefused(status)),
    }
}

/// RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT, for CONNECT.
pub fn connect_request(destination: &Destination) -> Result<Vec<u8>, Failure> {
    let mut out = vec![VERSION, CONNECT, 0];
    let port = match destination {
        Destination::Address(SocketAddr::V4(v4)) => {
            out.push(ATYP_IPV4);
            out.extend_from_slice(&v4.ip().octets());
            v4.port()
        }
        Destination::Address(SocketAddr::V6(v6)) => {
            out.push(ATYP_IPV6);
            out.extend_from_slice(&v6.ip().octets());
            v6.port()
        }
        Destination::Name(name, port) => {
            if name.is_empty() || name.len() > 255 {
                return Err(Failure::BadDestination(format!(
                    "the name {name:?} cannot go to a SOCKS5 proxy (1 to 255 bytes)"
                )));
            }
            out.push(ATYP_DOMAIN);
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
            *port
        }
    };
    out.extend_from_slice(&port.to_be_bytes());
    Ok(out)
}

/// The proxy's answer to CONNECT so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// This many more bytes are needed before the reply can be read.
    NeedMore(usize),
    /// The whole reply, `length` bytes: success, with the address the proxy connected from (RFC 1928 §6
    /// BND.ADDR, BND.PORT; a name as text, lossily, when ATYP is a domain name).
    Connected { length: usize, bound: String },
}

/// RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT. Give it the bytes read so far; it says how many more it
/// needs, or what the reply was. A reply code other than 0 is a [`Failure::Refused`] as soon as it is read.
pub fn parse_reply(bytes: &[u8]) -> Result<Reply, Failure> {
    if bytes.len() < 5 {
        // The fixed head and the first byte of the address (a name's length).
        return Ok(Reply::NeedMore(5 - bytes.len()));
    }
    if bytes[0] != VERSION {
        return Err(Failure::Violation(format!("version {:#04x} in the reply to CONNECT", bytes[0])));
    }
    if bytes[1] != 0 {
        return Err(Failure::Refused(bytes[1]));
    }
    let address_length = match bytes[3] {
        ATYP_IPV4 => 4,
        ATYP_IPV6 => 16,
        ATYP_DOMAIN => 1 + bytes[4] as usize,
        other => return Err(Failure::Violation(format!("address type {other:#04x} in the reply to CONNECT"))),
    };
    let length = 4 + address_length + 2;
    if bytes.len() < length {
        return Ok(Reply::NeedMore(length - bytes.len()));
    }
    let address = &bytes[4..4 + address_length];
    let port = u16::from_be_bytes([bytes[length - 2], bytes[length - 1]]);
    let bound = match bytes[3] {
        ATYP_IPV4 => SocketAddr::from((<[u8; 4]>::try_from(address).expect("4 bytes"), port)).to_string(),
        ATYP_IPV6 => SocketAddr::from((<[u8; 16]>::try_from(address).expect("16 bytes"), port)).to_string(),
        _ => format!("{}:{port}", String::from_utf8_lossy(&address[1..])),
    };
    Ok(Reply::Connected { length, bound })
}

/// Open a TCP connection to `destination` through `proxy`: reach the proxy (from `bind` when given), then
/// the whole handshake, all within `timeout`. The stream is ready for the dialogue, its timeouts cleared.
pub fn connect(
    proxy: &Proxy,
    destination: &Destination,
    timeout: Duration,
    bind: Option<IpAddr>,
) -> Result<TcpStream, Failure> {
    let deadline = Instant::now() + timeout;
    let addresses: Vec<SocketAddr> = match &proxy.host {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, proxy.port)],
        // The system resolver (as curl does for a proxy's name): the proxy is a local matter, not a route.
        Host::Name(name) => (name.as_str(), proxy.port)
            .to_socket_addrs()
            .map_err(|e| Failure::Unreachable(format!("cannot resolve {name}: {}", io_text(&e))))?
            .collect(),
    };
    let mut failures = Vec::new();
    let mut stream = None;
    for address in addresses {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Timeout(timeout));
        }
        match connect_one(address, left, bind) {
            Ok(tcp) => {
                stream = Some(tcp);
                break;
            }
            Err(reason) => failures.push(format!("{address}: {reason}")),
        }
    }
    let Some(mut stream) = stream else {
        return Err(Failure::Unreachable(match failures.len() {
            0 => "no address".into(),
            1 => failures[0].split_once(": ").map_or(failures[0].clone(), |(_, reason)| reason.to_string()),
            _ => failures.join("; "),
        }));
    };
    handshake(&mut stream, proxy.credentials.as_ref(), destination, deadline, timeout)?;
    let _ = stream.set_read_timeout(None);
    let _ = stream.set_write_timeout(None);
    Ok(stream)
}

/// RFC 1928 §3-§6 (and RFC 1929 §2 when asked) over any stream; each read and write bounded by `deadline`.
fn handshake(
    stream: &mut TcpStream,
    credentials: Option<&Credentials>,
    destination: &Destination,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), Failure> {
    let mut exchange = Exchange { stream, deadline, timeout };
    let with_password = credentials.is_some_and(Credentials::has_password);
    exchange.send(&greeting(with_password))?;
    let mut choice = [0u8; 2];
    exchange.receive(&mut choice)?;
    if parse_choice(choice, with_password)? == Method::UsernamePassword {
        let credentials = credentials.expect("offered only with credentials");
        exchange.send(&auth_request(credentials))?;
        let mut answer = [0u8; 2];
        exchange.receive(&mut answer)?;
        parse_auth_reply(answer)?;
    }
    exchange.send(&connect_request(destination)?)?;
    let mut reply = Vec::with_capacity(22);
    loop {
        match parse_reply(&reply)? {
            Reply::NeedMore(more) => {
                let start = reply.len();
                reply.resize(start + more, 0);
                exchange.receive(&mut reply[start..])?;
            }
            Reply::Connected { .. } => return Ok(()),
        }
    }
}

/// Reads and writes within one deadline.
struct Exchange<'s> {
    stream: &'s mut TcpStream,
    deadline: Instant,
    timeout: Duration,
}

impl Exchange<'_> {
    fn left(&self) -> Result<Duration, Failure> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Timeout(self.timeout));
        }
        Ok(left)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.stream.set_write_timeout(Some(self.left()?)).map_err(|e| self.failure(&e))?;
        self.stream.write_all(bytes).map_err(|e| self.failure(&e))
    }

    /// Exactly `buf.len()` bytes, never more: what follows belongs to the mail server.
    fn receive(&mut self, buf: &mut [u8]) -> Result<(), Failure> {
        let mut filled = 0;
        while filled < buf.len() {
            self.stream.set_read_timeout(Some(self.left()?)).map_err(|e| self.failure(&e))?;
            match self.stream.read(&mut buf[filled..]) {
                Ok(0) => return Err(Failure::Closed),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.failure(&e)),
            }
        }
        Ok(())
    }

    fn failure(&self, error: &io::Error) -> Failure {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Timeout(self.timeout),
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Failure::Closed,
            _ => Failure::Violation(io_text(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn parse(url: &str) -> Result<Proxy, String> {
        Proxy::parse(url)
    }

    #[test]
    fn urls_as_curl_writes_them() {
        let proxy = parse("socks5h://127.0.0.1:1080").unwrap();
        assert!(proxy.remote_dns);
        assert_eq!(proxy.address(), "127.0.0.1:1080");
        assert!(proxy.credentials.is_none());
        let proxy = parse("SOCKS5://proxy.example.test/").unwrap();
        assert!(!proxy.remote_dns);
        assert_eq!(proxy.address(), "proxy.example.test:1080");
        let six = parse("socks5h://[::1]:9050").unwrap();
        assert_eq!(six.address(), "[::1]:9050");
        let with = parse("socks5h://us%40er:p%3Ass@w%25rd@127.0.0.1:1081").unwrap();
        let credentials = with.credentials.clone().unwrap();
        assert_eq!(credentials.user, "us@er");
        assert_eq!(credentials.password, "p:ss@w%rd");
        let shown = format!("{with:?}");
        assert!(!shown.contains("p:ss") && shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn bad_urls_say_why() {
        let cases = [
            ("socks5://", "the proxy's host is missing"),
            ("socks5://host:99999", "\"99999\" is not a port number (1-65535)"),
            ("socks5h://[::1", "a '[' without a closing ']'"),
            ("http://x", "http:// proxies are not supported: postie speaks SOCKS5 (socks5h:// or socks5://)"),
            ("socks4://x", "socks4:// proxies are not supported: postie speaks SOCKS5 (socks5h:// or socks5://)"),
            ("127.0.0.1:1080", "give a URL such as socks5h://HOST:PORT or socks5://HOST:PORT"),
            ("socks5h://host:1080/path", "a proxy URL has no path, query or fragment: give SCHEME://HOST[:PORT]"),
            ("socks5h://u:%zz@host", "the proxy password has a '%' not followed by two hex digits"),
            ("socks5h://:pw@host", "the proxy user name must be 1 to 255 bytes (RFC 1929)"),
            ("socks5h://a b", "it contains a space or control character"),
        ];
        for (url, reason) in cases {
            assert_eq!(parse(url), Err(reason.to_string()), "{url}");
        }
    }

    #[test]
    fn a_password_from_elsewhere_needs_the_user() {
        let mut proxy = parse("socks5h://alice@127.0.0.1").unwrap();
        proxy.set_password("secret".into()).unwrap();
        assert_eq!(proxy.credentials.unwrap().password, "secret");
        let mut anonymous = parse("socks5h://127.0.0.1").unwrap();
        assert!(anonymous.set_password("secret".into()).unwrap_err().contains("USER@HOST"));
    }

    #[test]
    fn no_proxy_lists_as_curl_reads_them() {
        let list = bypass_list("localhost, .example.test,192.0.2.1,[::1]");
        assert!(bypassed(&list, "localhost"));
        assert!(bypassed(&list, "mx.example.test"));
        assert!(bypassed(&list, "example.test."));
        assert!(!bypassed(&list, "badexample.test"));
        assert!(bypassed(&list, "192.0.2.1"));
        assert!(bypassed(&list, "[::1]"));
        assert!(!bypassed(&list, "192.0.2.10"));
        assert!(bypassed(&bypass_list("*"), "anything.test"));
        assert!(!bypassed(&bypass_list(""), "anything.test"));
    }

    #[test]
    fn redaction_hides_only_the_password() {
        assert_eq!(redact("socks5h://alice:secret@host:1080"), "socks5h://alice:***@host:1080");
        assert_eq!(redact("socks5h://host:1080"), "socks5h://host:1080");
        assert_eq!(redact_with("socks5h://alice:se:cr@et@host", "<x>"), "socks5h://alice:<x>@host");
        assert!(has_password("socks5h://alice:@host"));
        assert!(!has_password("socks5h://alice@host"));
    }

    #[test]
    fn requests_are_the_rfc_layouts() {
        assert_eq!(greeting(false), [5, 1, 0]);
        assert_eq!(greeting(true), [5, 2, 0, 2]);
        let credentials = Credentials::new("bob".into(), "pw".into()).unwrap();
        assert_eq!(auth_request(&credentials), b"\x01\x03bob\x02pw");
        let four = connect_request(&Destination::Address("127.0.0.1:25".parse().unwrap())).unwrap();
        assert_eq!(four, [5, 1, 0, 1, 127, 0, 0, 1, 0, 25]);
        let six = connect_request(&Destination::Address("[::1]:587".parse().unwrap())).unwrap();
        assert_eq!(six.len(), 4 + 16 + 2);
        assert_eq!(&six[..4], &[5, 1, 0, 4]);
        assert_eq!(&six[20..], &[2, 75]);
        let name = connect_request(&Destination::Name("mx.test".into(), 25)).unwrap();
        assert_eq!(name, b"\x05\x01\x00\x03\x07mx.test\x00\x19");
        let long = Destination::Name("a".repeat(256), 25);
        assert!(matches!(connect_request(&long), Err(Failure::BadDestination(_))));
    }

    #[test]
    fn choices_and_auth_replies() {
        assert_eq!(parse_choice([5, 0], false), Ok(Method::NoAuthentication));
        assert_eq!(parse_choice([5, 2], true), Ok(Method::UsernamePassword));
        assert_eq!(parse_choice([5, 2], false), Err(Failure::PasswordWanted));
        assert_eq!(parse_choice([5, 0xff], false), Err(Failure::NoAcceptableMethod { offered_password: false }));
        assert!(matches!(parse_choice([4, 0], false), Err(Failure::Violation(_))));
        assert!(matches!(parse_choice([5, 1], true), Err(Failure::Violation(_))));
        assert_eq!(parse_auth_reply([1, 0]), Ok(()));
        assert_eq!(parse_auth_reply([1, 1]), Err(Failure::AuthRefused(1)));
    }

    #[test]
    fn replies_are_read_in_steps() {
        assert_eq!(parse_reply(&[]), Ok(Reply::NeedMore(5)));
        assert_eq!(parse_reply(&[5, 0, 0, 1, 127]), Ok(Reply::NeedMore(5)));
        let four = [5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38];
        assert_eq!(parse_reply(&four), Ok(Reply::Connected { length: 10, bound: "127.0.0.1:1080".into() }));
        let mut six = vec![5, 0, 0, 4];
        six.extend_from_slice(&[0; 15]);
        six.push(1);
        six.extend_from_slice(&[0, 25]);
        assert_eq!(parse_reply(&six), Ok(Reply::Connected { length: 22, bound: "[::1]:25".into() }));
        let name = b"\x05\x00\x00\x03\x04mx.t\x00\x19";
        assert_eq!(parse_reply(&name[..5]), Ok(Reply::NeedMore(6)));
        assert_eq!(parse_reply(name), Ok(Reply::Connected { length: 11, bound: "mx.t:25".into() }));
        // Bytes after the reply (the server's greeting) are not the reply's.
        let mut more = four.to_vec();
        more.extend_from_slice(b"220 hi\r\n");
        assert_eq!(parse_reply(&more), Ok(Reply::Connected { length: 10, bound: "127.0.0.1:1080".into() }));
    }

    #[test]
    fn reply_codes_in_words() {
        assert_eq!(parse_reply(&[5, 5, 0, 1, 0]), Err(Failure::Refused(5)));
        assert_eq!(
            Failure::Refused(5).to_string(),
            "answered: connection refused by the destination (SOCKS5 reply 0x05)"
        );
        assert_eq!(reply_words(2), "connection not allowed by its rules");
        assert_eq!(reply_words(4), "host unreachable");
        assert!(Failure::Refused(5).about_destination());
        assert!(!Failure::Refused(2).about_destination());
        assert!(matches!(parse_reply(&[4, 0, 0, 1, 0]), Err(Failure::Violation(_))));
        assert!(matches!(parse_reply(&[5, 0, 0, 9, 0]), Err(Failure::Violation(_))));
    }

    /// A one-connection SOCKS5 server on loopback: for each exchange, reads the bytes expected and writes the
    /// answer; then keeps the connection open for `linger`.
    fn fake_proxy(exchanges: Vec<(Vec<u8>, Vec<u8>)>, linger: Duration) -> (Proxy, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut client, _) = listener.accept().unwrap();
            for (expect, answer) in exchanges {
                let mut got = vec![0u8; expect.len()];
                client.read_exact(&mut got).unwrap();
                assert_eq!(got, expect);
                client.write_all(&answer).unwrap();
            }
            std::thread::sleep(linger);
        });
        (parse(&format!("socks5h://127.0.0.1:{port}")).unwrap(), server)
    }

    #[test]
    fn a_whole_handshake_with_a_password_leaves_the_greeting_unread() {
        let destination = Destination::Name("mx.example.test".into(), 25);
        let (mut proxy, server) = fake_proxy(
            vec![
                (greeting(true), vec![5, 2]),
                (b"\x01\x05alice\x06secret".to_vec(), vec![1, 0]),
                (
                    connect_request(&destination).unwrap(),
                    b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38220 mx\r\n".to_vec(),
                ),
            ],
            Duration::from_millis(100),
        );
        proxy.credentials = Some(Credentials::new("alice".into(), "secret".into()).unwrap());
        let mut stream = connect(&proxy, &destination, Duration::from_secs(5), None).unwrap();
        let mut greeting = [0u8; 8];
        stream.read_exact(&mut greeting).unwrap();
        assert_eq!(&greeting, b"220 mx\r\n");
        server.join().unwrap();
    }

    #[test]
    fn refusals_and_silence() {
        let destination = Destination::Address("127.0.0.1:25".parse().unwrap());
        let (proxy, server) = fake_proxy(
            vec![(greeting(false), vec![5, 0]), (connect_request(&destination).unwrap(), vec![5, 2, 0, 1, 0])],
            Duration::from_millis(100),
        );
        assert_eq!(connect(&proxy, &destination, Duration::from_secs(5), None).unwrap_err(), Failure::Refused(2));
        server.join().unwrap();
        // A proxy that never answers: the connect timeout bounds the whole handshake.
        let (proxy, server) = fake_proxy(vec![(greeting(false), vec![])], Duration::from_millis(800));
        let started = Instant::now();
        let error = connect(&proxy, &destination, Duration::from_millis(300), None).unwrap_err();
        assert_eq!(error, Failure::Timeout(Duration::from_millis(300)));
        assert!(started.elapsed() < Duration::from_secs(2));
        server.join().unwrap();
        // Nobody listens.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let nobody = parse(&format!("socks5://127.0.0.1:{port}")).unwrap();
        let error = connect(&nobody, &destination, Duration::from_secs(2), None).unwrap_err();
        assert_eq!(error, Failure::Unreachable("connection refused".into()));
    }
}
