//! `postie mx`: where mail for each domain goes, without sending any. With `--check`, every address is
//! probed in parallel (TCP connect, greeting, QUIT), so the whole check takes about as long as the slowest
//! host, not the sum of all of them.

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::thread;
use std::time::{Duration, Instant};

use crate::app::{dns_settings, families};
use crate::cli::MxArgs;
use crate::dns::{self, Dns, Families, Route};
use crate::error::{Error, Exit};
use crate::net::{self, SMTP_PORT};
use crate::sanitize::escape;
use crate::smtp::session::{Session, Timeouts};

/// What was found for one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRoute {
    pub domain: String,
    pub implicit: bool,
    pub hosts: Result<Vec<HostRoute>, Problem>,
}

/// Why a domain has no route; `permanent` for NXDOMAIN and null MX, not for failed lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub permanent: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoute {
    pub preference: Option<u16>,
    pub name: String,
    pub warnings: Vec<String>,
    pub addresses: Result<Vec<AddressCheck>, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressCheck {
    pub ip: IpAddr,
    pub probe: Option<Probe>,
}

/// The result of `--check` for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Answered { connect: Duration, greeting: Duration, banner: String },
    Failed(String),
}

pub fn run(args: &MxArgs) -> anyhow::Result<Exit> {
    let mut domains = Vec::new();
    for domain in &args.domains {
        let ascii = dns::ascii_domain(domain).map_err(|reason| Error::Usage(format!("invalid domain: {reason}")))?;
        domains.push(ascii);
    }
    let dns = dns_settings(&args.route)?.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
    let family = families(&args.route);
    let mut routes: Vec<DomainRoute> = domains.iter().map(|d| lookup(&dns, d, family)).collect();
    if args.check {
        let port = args.route.port.unwrap_or(SMTP_PORT);
        check_all(&mut routes, port, args.route.connect_timeout, args.timeout, args.route.bind);
    }
    let exit = exit(&routes, args.check);
    if args.json {
        let mut out = crate::json::JsonLines::new(io::stdout().lock());
        for route in &routes {
            out.write(to_json(route));
        }
        out.write(serde_json::json!({ "type": "summary", "exit_code": exit.code() }));
        return Ok(exit);
    }
    let text = render(&routes, args.check);
    crate::app::to_stdout(|out| out.write_all(text.as_bytes()))?;
    Ok(exit)
}

/// One domain's route as a JSON object (`postie mx --json`).
pub fn to_json(route: &DomainRoute) -> serde_json::Value {
    use serde_json::json;
    let probe = |probe: &Option<Probe>| match probe {
        None => serde_json::Value::Null,
        Some(Probe::Answered { connect, greeting, banner }) => json!({
            "connect_ms": connect.as_secs_f64() * 1000.0, "greeting_ms": greeting.as_secs_f64() * 1000.0, "banner": banner,
        }),
        Some(Probe::Failed(reason)) => json!({ "error": reason }),
    };
    let hosts = route.hosts.as_ref().ok().map(|hosts| {
        hosts
            .iter()
            .map(|host| {
                let (addresses, error) = match &host.addresses {
                    Ok(addresses) => (
                        addresses.iter().map(|a| json!({ "ip": a.ip.to_string(), "probe": probe(&a.probe) })).collect(),
                        None,
                    ),
                    Err(reason) => (Vec::new(), Some(reason.clone())),
                };
                json!({ "preference": host.preference, "name": host.name, "warnings": host.warnings, "addresses": addresses, "error": error })
            })
            .collect::<Vec<_>>()
    });
    let problem = route.hosts.as_ref().err().map(|p| json!({ "permanent": p.permanent, "reason": p.reason }));
    json!({ "type": "route", "domain": route.domain, "implicit": route.implicit, "hosts": hosts, "problem": problem })
}

fn lookup(dns: &Dns, domain: &str, families: Families) -> DomainRoute {
    let route = dns.mx(domain).map_err(|failure| Problem { permanent: false, reason: failure.to_string() }).and_then(
        |answer| {
            dns::route(domain, answer, dns::random_seed())
                .map_err(|error| Problem { permanent: true, reason: error.to_string() })
        },
    );
    let route = match route {
        Ok(route) => route,
        Err(problem) => return DomainRoute { domain: domain.to_string(), implicit: false, hosts: Err(problem) },
    };
    let hosts = route
        .hosts()
        .into_iter()
        .map(|(preference, name)| {
            let mut warnings = Vec::new();
            if name.parse::<IpAddr>().is_ok() {
                warnings.push("an IP address where RFC 5321 §5.1 wants a host name".to_string());
            }
            let addresses = match dns.addresses(&name, families) {
                Err(failure) => Err(failure.to_string()),
                Ok(found) => {
                    if let Some(canonical) = &found.canonical {
                        warnings.push(format!("an alias (CNAME) for {canonical}, which RFC 2181 §10.3 forbids"));
                    }
                    if found.no_such_host {
                        Err("does not exist (NXDOMAIN)".to_string())
                    } else if found.addresses.is_empty() {
                        Err("no address".to_string())
                    } else {
                        Ok(found.addresses.into_iter().map(|ip| AddressCheck { ip, probe: None }).collect())
                    }
                }
            };
            HostRoute { preference, name, warnings, addresses }
        })
        .collect();
    DomainRoute { domain: domain.to_string(), implicit: matches!(route, Route::Implicit(_)), hosts: Ok(hosts) }
}

/// Probe every address of every route at once, one thread each.
fn check_all(
    routes: &mut [DomainRoute],
    port: u16,
    connect_timeout: Duration,
    timeout: Duration,
    bind: Option<IpAddr>,
) {
    let checks: Vec<&mut AddressCheck> = routes
        .iter_mut()
        .filter_map(|route| route.hosts.as_mut().ok())
        .flatten()
        .filter_map(|host| host.addresses.as_mut().ok())
        .flatten()
        .collect();
    thread::scope(|scope| {
        for check in checks {
            scope.spawn(move || {
                check.probe = Some(probe(SocketAddr::new(check.ip, port), connect_timeout, timeout, bind));
            });
        }
    });
}

/// Connect, read the greeting, say QUIT.
pub fn probe(address: SocketAddr, connect_timeout: Duration, timeout: Duration, bind: Option<IpAddr>) -> Probe {
    let started = Instant::now();
    let stream = match net::connect_one(address, connect_timeout, bind) {
        Ok(stream) => stream,
        Err(reason) => return Probe::Failed(reason),
    };
    let connect = started.elapsed();
    let mut events = Vec::new();
    let mut session = Session::new(stream, &mut events, Timeouts::uniform(timeout));
    match session.greeting() {
        Ok(reply) => {
            let greeting = started.elapsed() - connect;
            session.quit();
            Probe::Answered { connect, greeting, banner: reply.to_string() }
        }
        Err(error) => Probe::Failed(error.to_string()),
    }
}

/// The report as text: one block per domain, one line per host and per address.
pub fn render(routes: &[DomainRoute], checked: bool) -> String {
    let mut out = String::new();
    for route in routes {
        let hosts = match &route.hosts {
            Err(problem) => {
                // The reason names the domain already.
                let _ = writeln!(out, "{}", problem.reason);
                continue;
            }
            Ok(hosts) => hosts,
        };
        let note =
            if route.implicit { " (no MX records: its own address is the implicit MX, RFC 5321 §5.1)" } else { "" };
        let _ = writeln!(out, "{}{note}", route.domain);
        for host in hosts {
            let preference = host.preference.map_or_else(|| "-".to_string(), |p| p.to_string());
            let _ = writeln!(out, "  {preference:>5}  {}", host.name);
            for warning in &host.warnings {
                let _ = writeln!(out, "         warning: {warning}");
            }
            match &host.addresses {
                Err(reason) => {
                    let _ = writeln!(out, "         {reason}");
                }
                Ok(addresses) => {
                    for address in addresses {
                        let status = match (&address.probe, checked) {
                            (Some(Probe::Answered { connect, greeting, banner }), _) => format!(
                                "  connect {:.1} ms, greeting {:.1} ms: {}",
                                connect.as_secs_f64() * 1000.0,
                                greeting.as_secs_f64() * 1000.0,
                                escape(banner.as_bytes())
                            ),
                            (Some(Probe::Failed(reason)), _) => format!("  {reason}"),
                            (None, _) => String::new(),
                        };
                        let line = format!("         {:<15}{status}", address.ip);
                        let _ = writeln!(out, "{}", line.trim_end());
                    }
                }
            }
        }
    }
    out
}

/// 69 when a domain cannot receive mail at all, else 75 when a lookup failed or (with --check) no address
/// of a domain answered, else 0.
pub fn exit(routes: &[DomainRoute], checked: bool) -> Exit {
    if routes.iter().any(|r| matches!(&r.hosts, Err(p) if p.permanent)) {
        return Exit::Unavailable;
    }
    let unreachable = |route: &DomainRoute| match &route.hosts {
        Err(_) => true,
        Ok(hosts) => {
            checked
                && !hosts
                    .iter()
                    .filter_map(|h| h.addresses.as_ref().ok())
                    .flatten()
                    .any(|a| matches!(a.probe, Some(Probe::Answered { .. })))
        }
    };
    if routes.iter().any(unreachable) {
        Exit::TempFail
    } else {
        Exit::Success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<DomainRoute> {
        vec![
            DomainRoute {
                domain: "example.test".into(),
                implicit: false,
                hosts: Ok(vec![
                    HostRoute {
                        preference: Some(10),
                        name: "mx1.example.test".into(),
                        warnings: vec![],
                        addresses: Ok(vec![AddressCheck {
                            ip: "127.0.0.9".parse().unwrap(),
                            probe: Some(Probe::Failed("connection refused".into())),
                        }]),
                    },
                    HostRoute {
                        preference: Some(20),
                        name: "mx2.example.test".into(),
                        warnings: vec!["an alias (CNAME) for real.example.test, which RFC 2181 §10.3 forbids".into()],
                        addresses: Ok(vec![AddressCheck {
                            ip: "127.0.0.1".parse().unwrap(),
                            probe: Some(Probe::Answered {
                                connect: Duration::from_micros(250),
                                greeting: Duration::from_micros(1500),
                                banner: "220 mx ESMTP\x1b".into(),
                            }),
                        }]),
                    },
                ]),
            },
            DomainRoute {
                domain: "null.test".into(),
                implicit: false,
                hosts: Err(Problem { permanent: true, reason: "null.test does not accept mail".into() }),
            },
        ]
    }

    #[test]
    fn rendering() {
        assert_eq!(
            render(&sample(), true),
            "example.test\n\
             \x20    10  mx1.example.test\n\
             \x20        127.0.0.9        connection refused\n\
             \x20    20  mx2.example.test\n\
             \x20        warning: an alias (CNAME) for real.example.test, which RFC 2181 §10.3 forbids\n\
             \x20        127.0.0.1        connect 0.2 ms, greeting 1.5 ms: 220 mx ESMTP\\x1b\n\
             null.test does not accept mail\n"
        );
    }

    #[test]
    fn exit_codes() {
        let routes = sample();
        assert_eq!(exit(&routes, true), Exit::Unavailable);
        assert_eq!(exit(&routes[..1], true), Exit::Success);
        let mut dead = routes[..1].to_vec();
        if let Ok(hosts) = &mut dead[0].hosts {
            hosts.pop();
        }
        assert_eq!(exit(&dead, true), Exit::TempFail);
        assert_eq!(exit(&dead, false), Exit::Success);
    }
}
