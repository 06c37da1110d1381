//! `postie mx`: where mail for each domain goes, without sending any. With `--check`, every address is
//! probed in parallel (TCP connect, greeting, QUIT), so the whole check takes about as long as the slowest
//! host, not the sum of all of them.

use std::net::{IpAddr, SocketAddr};
use std::thread;
use std::time::{Duration, Instant};

use crate::drive::blocking::{self, Conversation};
use crate::error::Exit;
use crate::event::Discard;
use crate::net;
use crate::net::tls::TlsClient;
use crate::net::wire::Wire;
use crate::route::{self, dns::Dns, dns::Families, dns::Route, HostWarning};
use crate::smtp::settings::{Settings, Stop, StopPoint, Timeouts, TlsPolicy};
use std::sync::Arc;
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
    pub warnings: Vec<HostWarning>,
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

/// The route of one domain and the addresses of each of its hosts.
pub fn lookup(dns: &Dns, domain: &str, families: Families) -> DomainRoute {
    let route = match route::route(dns, domain) {
        Ok(route) => route,
        Err(problem) => {
            let problem = Problem { permanent: problem.permanent(), reason: problem.to_string() };
            return DomainRoute { domain: domain.to_string(), implicit: false, hosts: Err(problem) };
        }
    };
    let hosts = route
        .hosts()
        .into_iter()
        .map(|(preference, name)| {
            let (warnings, found) = route::host_addresses(dns, &name, families);
            let addresses = found
                .map(|addresses| addresses.into_iter().map(|ip| AddressCheck { ip, probe: None }).collect())
                .map_err(|problem| match problem {
                    route::HostProblem::NoSuchHost => "does not exist (NXDOMAIN)".to_string(),
                    route::HostProblem::NoAddress { .. } => "no address".to_string(),
                    route::HostProblem::LookupFailed(reason) => reason,
                });
            HostRoute { preference, name, warnings, addresses }
        })
        .collect();
    DomainRoute { domain: domain.to_string(), implicit: matches!(route, Route::Implicit(_)), hosts: Ok(hosts) }
}

/// Probe every address of every route at once, one thread each.
/// How `--check` connects.
pub struct Check {
    pub port: u16,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub bind: Option<IpAddr>,
    /// Implicit TLS (SMTPS): the handshake before the greeting, with this client.
    pub implicit: Option<Arc<TlsClient>>,
}

pub fn check_all(routes: &mut [DomainRoute], check: &Check) {
    let checks: Vec<&mut AddressCheck> = routes
        .iter_mut()
        .filter_map(|route| route.hosts.as_mut().ok())
        .flatten()
        .filter_map(|host| host.addresses.as_mut().ok())
        .flatten()
        .collect();
    thread::scope(|scope| {
        for address in checks {
            scope.spawn(move || {
                address.probe = Some(probe(SocketAddr::new(address.ip, check.port), check));
            });
        }
    });
}

/// Connect, read the greeting, say QUIT: the same dialogue as `send`, stopped after the banner.
pub fn probe(address: SocketAddr, check: &Check) -> Probe {
    let (connect_timeout, timeout, bind) = (check.connect_timeout, check.timeout, check.bind);
    let started = Instant::now();
    let tcp = match net::connect_one(address, connect_timeout, bind) {
        Ok(tcp) => tcp,
        Err(reason) => return Probe::Failed(reason),
    };
    let connect = started.elapsed();
    let name = crate::hostname::address_literal(tcp.local_addr().map_or(address.ip(), |local| local.ip()));
    let mut settings = Settings::new(&name, &address.ip().to_string(), address.port(), Timeouts::uniform(timeout));
    settings.tls = if check.implicit.is_some() { TlsPolicy::Implicit } else { TlsPolicy::Never };
    settings.stop = Some(Stop { point: StopPoint::Banner, drop: false });
    let name = address.ip().to_string();
    let conversation = Conversation {
        tls: check.implicit.as_deref(),
        tls_name: &name,
        verify: crate::net::tls::Verify::Report,
        content: None,
        show_data: false,
        progress: None,
        preamble: None,
        dane: None,
    };
    let finished = blocking::converse(Wire::Tcp(tcp), settings, &conversation, &mut Discard);
    let greeting = started.elapsed() - connect;
    match (finished.outcome.greeting, finished.outcome.error) {
        (Some(reply), None) => Probe::Answered { connect, greeting, banner: reply.to_string() },
        (_, Some(error)) => Probe::Failed(crate::error::Error::Session(error).to_string()),
        (None, None) => Probe::Failed("no greeting".into()),
    }
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
                        warnings: vec![HostWarning::Alias { canonical: "real.example.test".into() }],
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
        use crate::render::mx::render;
        assert_eq!(
            render(&sample(), true),
            "example.test\n\
             \x20    10  mx1.example.test\n\
             \x20        127.0.0.9        connection refused\n\
             \x20    20  mx2.example.test\n\
             \x20        warning: an alias (CNAME) for real.example.test, which RFC 2181 §10.3 forbids\n\
             \x20        127.0.0.1        connect 0.2 ms, greeting 1.5 ms: 220 mx ESMTP\x1b\n\
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
