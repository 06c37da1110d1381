//! Where mail for a domain goes: the MX lookup and the route it implies (RFC 5321 §5.1, RFC 7505), and the
//! addresses of each host, with what was odd about them. One implementation, used by `send`, `mx` and
//! `probe`; the facts are data, worded by the renderers.

pub mod dns;
mod trust_ad;

use std::net::IpAddr;

use dns::{Dns, Families, Route, RouteError};

/// Why a domain has no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteProblem {
    /// NXDOMAIN or a null MX: permanent, retrying will not change DNS's answer.
    NoMail(RouteError),
    /// The lookup failed (timeout, SERVFAIL): temporary. Never fall back to address records then (RFC 5321
    /// §5.1): the MX records may well exist.
    LookupFailed { domain: String, reason: String },
}

impl RouteProblem {
    pub fn permanent(&self) -> bool {
        matches!(self, RouteProblem::NoMail(_))
    }
}

impl std::fmt::Display for RouteProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteProblem::NoMail(error) => write!(f, "{error}"),
            RouteProblem::LookupFailed { domain, reason } => write!(f, "cannot route {domain}: {reason}"),
        }
    }
}

/// Something odd about an MX host that does not stop delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostWarning {
    /// RFC 5321 §5.1 wants a host name, not an address.
    IpAddress,
    /// An alias (CNAME), which RFC 2181 §10.3 forbids for an MX.
    Alias { canonical: String },
}

/// Why a host has no address to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostProblem {
    /// NXDOMAIN.
    NoSuchHost,
    /// It exists but has no address of the families asked for.
    NoAddress { families: Families },
    /// The lookup failed: the host may well exist.
    LookupFailed(String),
}

impl HostProblem {
    /// In words, after the host's name.
    pub fn describe(&self, host: &str) -> String {
        match self {
            HostProblem::NoSuchHost => format!("{host} does not exist (NXDOMAIN)"),
            HostProblem::NoAddress { families } => {
                let family = match families {
                    Families::Both => "",
                    Families::V4 => "IPv4 ",
                    Families::V6 => "IPv6 ",
                };
                format!("{host} has no {family}address")
            }
            HostProblem::LookupFailed(reason) => reason.clone(),
        }
    }
}

/// What routing found, step by step, for the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteFact {
    LookingUpMx {
        domain: String,
    },
    /// The MX records in the order they will be tried.
    MxRecords {
        domain: String,
        records: Vec<(u16, String)>,
    },
    /// No MX records: the domain's own address is the route (implicit MX), on `port`.
    Implicit {
        domain: String,
        port: u16,
    },
    /// A recipient at an address literal goes to that address (RFC 5321 §4.1.3).
    AddressLiteral {
        domain: String,
    },
    NoRoute {
        problem: RouteProblem,
    },
    Addresses {
        host: String,
        addresses: Vec<IpAddr>,
    },
    HostWarning {
        host: String,
        warning: HostWarning,
    },
    /// The host has no address to try; the next host is tried.
    HostSkipped {
        host: String,
        problem: HostProblem,
    },
}

/// The route of `domain`: an address literal, its MX hosts in order, or the implicit MX.
pub fn route(dns: &Dns, domain: &str) -> Result<Route, RouteProblem> {
    route_checked(dns, domain).map(|(route, _)| route)
}

/// The route of `domain` and how secure the MX answer was (DNSSEC; DANE needs a secure one, RFC 7672 §2.2.1).
pub fn route_checked(dns: &Dns, domain: &str) -> Result<(Route, dns::Security), RouteProblem> {
    if let Some(ip) = address_literal(domain) {
        return Ok((Route::Implicit(ip.to_string()), dns::Security::Unchecked));
    }
    let (answer, security) = dns
        .mx_checked(domain)
        .map_err(|failure| RouteProblem::LookupFailed { domain: domain.to_string(), reason: failure.to_string() })?;
    let route = dns::route(domain, answer, dns::random_seed()).map_err(RouteProblem::NoMail)?;
    Ok((route, security))
}

/// `[192.0.2.1]`, `192.0.2.1` or `[IPv6:2001:db8::1]` as an address.
pub fn address_literal(domain: &str) -> Option<IpAddr> {
    domain.trim_start_matches('[').trim_end_matches(']').trim_start_matches("IPv6:").parse().ok()
}

/// The addresses of one host, and the warnings its lookup gave.
pub fn host_addresses(
    dns: &Dns,
    host: &str,
    families: Families,
) -> (Vec<HostWarning>, Result<Vec<IpAddr>, HostProblem>) {
    let mut warnings = Vec::new();
    if host.parse::<IpAddr>().is_ok() {
        warnings.push(HostWarning::IpAddress);
    }
    let found = match dns.addresses(host, families) {
        Ok(found) => found,
        Err(failure) => return (warnings, Err(HostProblem::LookupFailed(failure.to_string()))),
    };
    if let Some(canonical) = found.canonical {
        warnings.push(HostWarning::Alias { canonical });
    }
    let result = if found.no_such_host {
        Err(HostProblem::NoSuchHost)
    } else if found.addresses.is_empty() {
        Err(HostProblem::NoAddress { families })
    } else {
        Ok(found.addresses)
    };
    (warnings, result)
}
