//! Reaching the one server a steered dialogue (`talk`, `script`, `smuggle`) or `send --server unix:` /
//! `--pipe` talks to: the target as the user wrote it, the wire it opens, and the PROXY header and XCLIENT
//! attributes, checked before anything is sent.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{ProtocolArgs, ProxyArgs, ProxyVersionArg, RouteArgs};
use crate::deliver;
use crate::drive::blocking::Preamble;
use crate::error::Error;
use crate::event::{Event, Sink, Step};
use crate::net::proxy;
use crate::net::socks::{self, Destination, Socks};
use crate::net::wire::{self, ChildHandle, Wire};
use crate::net::{self, Host, ServerSpec};
use crate::secret;
use crate::smtp::xclient;

/// Where the dialogue goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Network(ServerSpec),
    /// `unix:PATH`
    Unix(PathBuf),
    /// `--pipe COMMAND`
    Pipe(String),
}

impl Target {
    /// `server` as written (`HOST[:PORT]`, `[ADDRESS]:PORT`, `unix:PATH`), or `--pipe`.
    pub fn parse(server: Option<&str>, pipe: Option<&str>, flag: &str) -> Result<Target, Error> {
        match (server, pipe) {
            (_, Some(command)) => {
                if command.trim().is_empty() {
                    return Err(Error::Usage("--pipe needs a command, e.g. --pipe 'sendmail -bs'".into()));
                }
                Ok(Target::Pipe(command.to_string()))
            }
            (Some(text), None) => {
                if let Some(path) = text.strip_prefix("unix:") {
                    if path.is_empty() {
                        return Err(Error::Usage(format!(
                            "invalid {flag} {text:?}: unix: needs the socket's path, e.g. unix:/run/dovecot/lmtp"
                        )));
                    }
                    if path.contains('\0') {
                        return Err(Error::Usage(format!("invalid {flag}: the unix socket path contains a NUL")));
                    }
                    return Ok(Target::Unix(PathBuf::from(path)));
                }
                text.parse::<ServerSpec>()
                    .map(Target::Network)
                    .map_err(|reason| Error::Usage(format!("invalid {flag} {text:?}: {reason}")))
            }
            (None, None) => Err(Error::Usage(format!("give the server ({flag} HOST[:PORT] or unix:PATH) or --pipe"))),
        }
    }

    /// The name TLS checks and AUTH names.
    pub fn host(&self) -> String {
        match self {
            Target::Network(spec) => spec.host.to_string(),
            Target::Unix(_) | Target::Pipe(_) => "localhost".into(),
        }
    }
}

/// An open wire and what is known of it.
pub struct Opened {
    pub wire: Wire,
    /// The server's address, for a network connection.
    pub peer: Option<SocketAddr>,
    pub label: String,
    /// The command behind `--pipe`, to say how it ended.
    pub child: Option<ChildHandle>,
}

/// The PROXY header and XCLIENT attributes, checked.
#[derive(Debug, Clone, Default)]
pub struct Protocol {
    pub lmtp: bool,
    pub xclient: Vec<(String, String)>,
    pub proxy: Option<proxy::Spec>,
}

impl Protocol {
    pub fn from_args(args: &ProtocolArgs) -> Result<Protocol, Error> {
        let xclient = args
            .xclient
            .iter()
            .map(|text| {
                xclient::parse_attribute(text).map_err(|reason| Error::Usage(format!("invalid --xclient: {reason}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let address = |flag: &str, text: &str| -> Result<SocketAddr, Error> {
            text.parse::<SocketAddr>().map_err(|_| {
                Error::Usage(format!(
                    "invalid {flag} {text:?}: give ADDRESS:PORT, e.g. 203.0.113.7:40000 or [2001:db8::7]:40000"
                ))
            })
        };
        let proxy = match (args.proxy_protocol, &args.proxy_source) {
            (Some(version), Some(source)) => {
                let version = match version {
                    ProxyVersionArg::V1 => proxy::Version::V1,
                    ProxyVersionArg::V2 => proxy::Version::V2,
                };
                let source = address("--proxy-source", source)?;
                let destination = args.proxy_dest.as_deref().map(|d| address("--proxy-dest", d)).transpose()?;
                if let Some(destination) = destination {
                    proxy::Header::new(version, source, destination).map_err(Error::Usage)?;
                }
                Some(proxy::Spec { version, source, destination })
            }
            _ => None,
        };
        if proxy.is_some() && args.pipe.is_some() {
            return Err(Error::Usage("--proxy-protocol needs a network connection, not --pipe".into()));
        }
        Ok(Protocol { lmtp: args.lmtp, xclient, proxy })
    }

    /// The PROXY header for a connection to `peer` (the destination unless --proxy-dest says otherwise).
    pub fn preamble(&self, peer: Option<SocketAddr>) -> Result<Option<Preamble>, Error> {
        let Some(spec) = self.proxy else {
            return Ok(None);
        };
        let header = spec.header(peer).map_err(Error::Usage)?;
        Ok(Some(Preamble::of(&header)))
    }

    /// The port to use when none was given: LMTP has no port of its own; 24 is the one in common use.
    pub fn default_port(&self) -> u16 {
        if self.lmtp {
            24
        } else {
            net::SMTP_PORT
        }
    }
}

/// The SOCKS5 proxy to connect through: `--proxy URL`, else `ALL_PROXY` or `all_proxy` (curl's order); an
/// empty value means none. `--no-proxy`, else `NO_PROXY` or `no_proxy`, lists the hosts reached without it.
pub fn socks(args: &ProxyArgs) -> Result<Option<Socks>, Error> {
    let environment = |names: &[&str]| names.iter().find_map(|name| std::env::var(name).ok());
    let (url, origin) = match &args.proxy {
        Some(url) => (url.clone(), "--proxy"),
        None => match environment(&["ALL_PROXY", "all_proxy"]) {
            Some(url) => (url, "ALL_PROXY"),
            None => return no_proxy_alone(args),
        },
    };
    if url.is_empty() {
        return no_proxy_alone(args);
    }
    let mut proxy = socks::Proxy::parse(&url)
        .map_err(|reason| Error::Usage(format!("invalid {origin} {:?}: {reason}", socks::redact(&url))))?;
    if let Some(source) = &args.proxy_password {
        let source = secret::Source::parse(source, false)
            .map_err(|reason| Error::Usage(format!("invalid --proxy-password: {reason}")))?;
        let password = source.read().map_err(|problem| Error::Usage(format!("--proxy-password: {problem}")))?;
        proxy.set_password(password).map_err(|reason| Error::Usage(format!("--proxy-password: {reason}")))?;
    }
    if proxy.credentials.as_ref().is_some_and(|c| !c.has_password()) {
        return Err(Error::Usage(format!(
            "invalid {origin}: the proxy user {:?} has no password: give USER:PASSWORD@ or --proxy-password",
            proxy.credentials.as_ref().map(|c| c.user.as_str()).unwrap_or_default()
        )));
    }
    let bypass = match &args.no_proxy {
        Some(list) => socks::bypass_list(list),
        None => environment(&["NO_PROXY", "no_proxy"]).map(|list| socks::bypass_list(&list)).unwrap_or_default(),
    };
    Ok(Some(Socks { proxy, bypass }))
}

/// No proxy: flags that only make sense with one are refused rather than ignored.
fn no_proxy_alone(args: &ProxyArgs) -> Result<Option<Socks>, Error> {
    if args.proxy_password.is_some() {
        return Err(Error::Usage("--proxy-password needs --proxy (or ALL_PROXY)".into()));
    }
    Ok(None)
}

/// Open the wire to `target`: every address of a name in turn (through the proxy when one applies), a unix
/// socket, or the command.
pub fn open(
    target: &Target,
    port: u16,
    route: &RouteArgs,
    proxy: Option<&Socks>,
    sink: &mut dyn Sink,
) -> Result<Opened, Error> {
    let Target::Network(spec) = target else {
        return open_local(target, sink);
    };
    let port = spec.port.unwrap_or(port);
    let families = super::families(route);
    let proxy = proxy.and_then(|socks| socks.for_host(&spec.host.to_string()));
    let destinations: Vec<Destination> = match &spec.host {
        Host::Ip(ip) => vec![Destination::Address(SocketAddr::new(*ip, port))],
        // socks5h: the proxy looks the name up.
        Host::Name(name) if proxy.is_some_and(|proxy| proxy.remote_dns) => vec![Destination::Name(name.clone(), port)],
        Host::Name(name) => deliver::name_addresses(name, &super::dns_settings(route)?, families, sink)?
            .into_iter()
            .map(|ip: IpAddr| Destination::Address(SocketAddr::new(ip, port)))
            .collect(),
    };
    let mut failures = Vec::new();
    for destination in destinations {
        let address = destination.to_string();
        deliver::announce(&destination, None, proxy, sink);
        let started = std::time::Instant::now();
        match deliver::dial(&destination, proxy, route.connect_timeout, route.bind)? {
            Ok(tcp) => {
                sink.emit(Event::Step { step: Step::Connect, duration: started.elapsed() });
                let local = tcp.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?".into());
                sink.emit(Event::Connected { address: address.clone(), local });
                let peer = match &destination {
                    Destination::Address(at) => Some(*at),
                    Destination::Name(..) => None,
                };
                return Ok(Opened { wire: Wire::Tcp(tcp), peer, label: address, child: None });
            }
            Err(reason) => {
                sink.emit(Event::MovedOn { address: address.to_string(), reason: reason.clone() });
                failures.push(format!("{address}: {reason}"));
            }
        }
    }
    let target = format!("{}:{port}", spec.host);
    let detail = match failures.len() {
        0 => "no address to try".to_string(),
        1 => failures[0].split_once(": ").map_or(failures[0].clone(), |(_, reason)| reason.to_string()),
        n => format!("{n} attempts failed: {}", failures.join("; ")),
    };
    Err(Error::Connect { target, detail })
}

/// Open a wire that needs no routing: a unix socket, or the command of --pipe.
pub fn open_local(target: &Target, sink: &mut dyn Sink) -> Result<Opened, Error> {
    match target {
        Target::Pipe(command) => {
            sink.emit(Event::Connecting { address: format!("pipe to {command}"), host: None });
            let (pipe, child) = wire::spawn(command)
                .map_err(|detail| Error::Connect { target: format!("--pipe {command:?}"), detail })?;
            Ok(Opened {
                wire: Wire::Pipe(pipe),
                peer: None,
                label: format!("the command {command:?}"),
                child: Some(child),
            })
        }
        Target::Unix(path) => {
            let label = format!("unix:{}", path.display());
            sink.emit(Event::Connecting { address: label.clone(), host: None });
            let stream = wire::connect_unix(path).map_err(|detail| Error::Connect { target: label.clone(), detail })?;
            sink.emit(Event::Connected { address: label.clone(), local: "this machine".into() });
            Ok(Opened { wire: Wire::Unix(stream), peer: None, label, child: None })
        }
        Target::Network(spec) => {
            Err(Error::Usage(format!("{} is a network address, not a unix socket or --pipe", spec.host)))
        }
    }
}

/// The error of a dialogue over `opened`'s wire: when a --pipe command closed it, how the command ended.
pub fn session_error(error: crate::smtp::error::Error, child: Option<&ChildHandle>) -> Error {
    match (child, &error) {
        (Some(child), crate::smtp::error::Error::Closed { .. }) => Error::Connect {
            target: format!("--pipe {:?}", child.command),
            detail: format!("{error}: {}", child_ending(child)),
        },
        _ => Error::Session(error),
    }
}

/// How a `--pipe` command ended, for an error: "exited with status 1".
fn child_ending(child: &ChildHandle) -> String {
    match child.finish(Duration::from_millis(500)) {
        Some(status) => match status.code() {
            Some(code) => format!("the command {:?} exited with status {code}", child.command),
            None => format!("the command {:?} was ended by a signal", child.command),
        },
        None => format!("the command {:?} did not end", child.command),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_as_written() {
        assert_eq!(Target::parse(Some("unix:/run/lmtp"), None, "--server").unwrap(), Target::Unix("/run/lmtp".into()));
        assert_eq!(Target::parse(None, Some("sendmail -bs"), "--server").unwrap(), Target::Pipe("sendmail -bs".into()));
        assert!(matches!(Target::parse(Some("mx.example.test:2525"), None, "--server").unwrap(), Target::Network(_)));
        let empty = Target::parse(Some("unix:"), None, "--server").unwrap_err().to_string();
        assert!(empty.contains("unix: needs the socket's path"), "{empty}");
        let blank = Target::parse(None, Some("  "), "--server").unwrap_err().to_string();
        assert!(blank.contains("--pipe needs a command"), "{blank}");
    }

    #[test]
    fn protocol_flags_are_checked() {
        let args = |xclient: &[&str], source: Option<&str>| ProtocolArgs {
            xclient: xclient.iter().map(|s| s.to_string()).collect(),
            proxy_protocol: source.map(|_| ProxyVersionArg::V1),
            proxy_source: source.map(str::to_string),
            ..ProtocolArgs::default()
        };
        let bad = Protocol::from_args(&args(&["ADDR"], None)).unwrap_err().to_string();
        assert!(bad.starts_with("invalid --xclient"), "{bad}");
        let source = Protocol::from_args(&args(&[], Some("203.0.113.7"))).unwrap_err().to_string();
        assert!(source.contains("invalid --proxy-source") && source.contains("ADDRESS:PORT"), "{source}");
        let good = Protocol::from_args(&args(&["ADDR=203.0.113.7"], Some("203.0.113.7:40000"))).unwrap();
        let preamble = good.preamble(Some("127.0.0.1:25".parse().unwrap())).unwrap().unwrap();
        assert_eq!(preamble.bytes, b"PROXY TCP4 203.0.113.7 127.0.0.1 40000 25\r\n");
        let six = good.preamble(Some("[::1]:25".parse().unwrap())).unwrap_err().to_string();
        assert!(six.contains("both be IPv4 or both IPv6"), "{six}");
    }
}
