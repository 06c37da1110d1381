//! Reaching a server: parsing `HOST[:PORT]` and opening TCP connections; the stream that carries the bytes
//! within deadlines ([`stream`]), and TLS ([`tls`]). Nothing here knows the SMTP dialogue.

pub mod https;
pub mod listen;
pub mod proxy;
pub mod socks;
pub mod stream;
pub mod tls;
pub mod wire;

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::str::FromStr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// The port MX hosts listen on for SMTP.
pub const SMTP_PORT: u16 = 25;

/// A server as the user named it: a host name or IP address, and a port if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    pub host: Host,
    pub port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(IpAddr::V6(v6)) => write!(f, "[{v6}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl FromStr for ServerSpec {
    type Err = String;

    /// `host`, `host:port`, `192.0.2.1:25`, `[2001:db8::1]:25`, `[::1]`, or a bare IPv6 address.
    fn from_str(input: &str) -> Result<Self, String> {
        if input.is_empty() {
            return Err("it is empty".into());
        }
        if input.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err("it contains a space or control character".into());
        }
        let (host, port) = if let Some(rest) = input.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or("a '[' without a closing ']'")?;
            let ip: std::net::Ipv6Addr = inside.parse().map_err(|_| format!("{inside:?} is not an IPv6 address"))?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(format!("unexpected {after:?} after ']'"))?),
            };
            (Host::Ip(IpAddr::V6(ip)), port)
        } else if input.matches(':').count() > 1 {
            let ip: std::net::Ipv6Addr =
                input.parse().map_err(|_| "an IPv6 address with a port must be written [address]:port".to_string())?;
            // `::1:2525` is an address, but almost surely meant as ::1 port 2525: refuse to guess.
            if let Some((head, tail)) = input.rsplit_once(':') {
                let digits = !tail.is_empty() && tail.len() <= 5 && tail.bytes().all(|b| b.is_ascii_digit());
                if digits && head.parse::<std::net::Ipv6Addr>().is_ok() {
                    return Err(format!(
                        "it is ambiguous: write [{head}]:{tail} for port {tail}, or [{input}] for the address"
                    ));
                }
            }
            (Host::Ip(IpAddr::V6(ip)), None)
        } else {
            let (host, port) = match input.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (input, None),
            };
            (parse_host(host)?, port)
        };
        let port = port.map(parse_port).transpose()?;
        Ok(ServerSpec { host, port })
    }
}

fn parse_host(host: &str) -> Result<Host, String> {
    if host.is_empty() {
        return Err("the host name is empty".into());
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    };
    if host.len() > 253 || !host.strip_suffix('.').unwrap_or(host).split('.').all(valid_label) {
        return Err(format!("{host:?} is not a valid host name"));
    }
    Ok(Host::Name(host.to_string()))
}

pub fn parse_port(port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("{port:?} is not a port number (1-65535)")),
        Ok(port) => Ok(port),
    }
}

/// Open a TCP connection to `address` within `timeout`, from `bind` when given (`--bind`). The error is the
/// reason in a few words ("connection refused", "timed out after 30s").
pub fn connect_one(address: SocketAddr, timeout: Duration, bind: Option<IpAddr>) -> Result<TcpStream, String> {
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| io_text(&e).to_lowercase())?;
    if let Some(local) = bind {
        if local.is_ipv4() != address.is_ipv4() {
            return Err(format!("--bind {local} cannot reach an IPv{} address", if address.is_ipv4() { 4 } else { 6 }));
        }
        socket
            .bind(&SocketAddr::new(local, 0).into())
            .map_err(|e| format!("cannot bind to {local}: {}", io_text(&e)))?;
    }
    socket.connect_timeout(&address.into(), timeout).map_err(|e| connect_message(&e, timeout))?;
    // Each command goes out in one write; without this, Nagle's algorithm holds the last small write until
    // the previous one is acknowledged (the 40 ms stall other clients show before the final dot).
    socket.set_tcp_nodelay(true).map_err(|e| io_text(&e))?;
    Ok(socket.into())
}

/// An I/O error's words without std's "(os error N)" suffix: the words already say it.
pub fn io_text(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn connect_message(error: &io::Error, timeout: Duration) -> String {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => format!("timed out after {}s", timeout.as_secs_f32()),
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => io_text(error).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(input: &str) -> Result<ServerSpec, String> {
        input.parse()
    }

    #[test]
    fn server_forms() {
        let name = |n: &str| Host::Name(n.into());
        let ip = |i: &str| Host::Ip(i.parse().unwrap());
        assert_eq!(spec("mail.example.test"), Ok(ServerSpec { host: name("mail.example.test"), port: None }));
        assert_eq!(
            spec("mail.example.test:2525"),
            Ok(ServerSpec { host: name("mail.example.test"), port: Some(2525) })
        );
        assert_eq!(spec("127.0.0.1:25"), Ok(ServerSpec { host: ip("127.0.0.1"), port: Some(25) }));
        assert_eq!(spec("[::1]:2525"), Ok(ServerSpec { host: ip("::1"), port: Some(2525) }));
        assert_eq!(spec("[2001:db8::1]"), Ok(ServerSpec { host: ip("2001:db8::1"), port: None }));
        assert_eq!(spec("2001:db8::1"), Ok(ServerSpec { host: ip("2001:db8::1"), port: None }));
        assert_eq!(Host::Ip("::1".parse().unwrap()).to_string(), "[::1]");
    }

    #[test]
    fn bad_servers_say_why() {
        let cases = [
            ("", "it is empty"),
            ("mail.example.test:", "\"\" is not a port number (1-65535)"),
            ("mail.example.test:0", "\"0\" is not a port number (1-65535)"),
            ("mail.example.test:70000", "\"70000\" is not a port number (1-65535)"),
            ("mail.example.test:smtp", "\"smtp\" is not a port number (1-65535)"),
            (":25", "the host name is empty"),
            ("[::1", "a '[' without a closing ']'"),
            ("[nope]:25", "\"nope\" is not an IPv6 address"),
            ("[::1]25", "unexpected \"25\" after ']'"),
            ("2001:db8::1:25x", "an IPv6 address with a port must be written [address]:port"),
            ("::1:2525", "it is ambiguous: write [::1]:2525 for port 2525, or [::1:2525] for the address"),
            ("mail..example", "\"mail..example\" is not a valid host name"),
            ("bad_host!", "\"bad_host!\" is not a valid host name"),
            ("a b", "it contains a space or control character"),
        ];
        for (input, reason) in cases {
            assert_eq!(spec(input), Err(reason.to_string()), "{input:?}");
        }
    }

    #[test]
    fn connect_failures_in_words() {
        // A port nobody listens on: bind one, note its number, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let error = connect_one(address, Duration::from_secs(2), None).unwrap_err();
        assert_eq!(error, "connection refused");
        let v6 = connect_one(address, Duration::from_secs(2), Some("::1".parse().unwrap())).unwrap_err();
        assert_eq!(v6, "--bind ::1 cannot reach an IPv4 address");
    }

    #[test]
    fn connect_from_a_bound_address() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream =
            connect_one(listener.local_addr().unwrap(), Duration::from_secs(2), Some("127.0.0.3".parse().unwrap()))
                .unwrap();
        assert_eq!(stream.local_addr().unwrap().ip().to_string(), "127.0.0.3");
        assert!(stream.nodelay().unwrap());
    }
}
