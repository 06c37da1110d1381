//! DANE for SMTP as a sender decides it (RFC 7672 §2.2): TLSA records apply to an MX host only when the MX
//! RRset (or, for the implicit MX, the domain's address records) and the host's address records are secure,
//! and the TLSA RRset itself is secure. A TLSA lookup that fails makes that MX unusable; one that is insecure
//! (an unsigned zone) is ignored, whatever it says.

use crate::net::tls::DaneCheck;
use crate::policy::tlsa::{Tlsa, Usability};
use crate::route::dns::{Dns, Security};

/// What DANE means for one MX host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dane {
    /// DANE does not apply: why (DNSSEC not checked, an insecure MX or host, an unsigned TLSA zone).
    NotApplicable { why: String },
    /// Secure proof that the host publishes no TLSA records: TLS stays opportunistic.
    NoRecords,
    /// A secure TLSA RRset: the usable records authenticate the server; with none usable, TLS is still
    /// mandatory but unauthenticated (RFC 7672 §2.2). Unusable records come with the reason; `aliases` are the
    /// names besides the host's a DANE-TA chain may be issued for (a secure CNAME's target).
    Records { usable: Vec<Tlsa>, unusable: Vec<(Tlsa, String)>, aliases: Vec<String> },
    /// The TLSA lookup failed (SERVFAIL, bogus): this MX must not be used (RFC 7672 §2.2).
    Failed { detail: String },
}

impl Dane {
    /// TLS is mandatory for a sender that does DANE.
    pub fn requires_tls(&self) -> bool {
        matches!(self, Dane::Records { .. })
    }

    /// What the handshake checks, when DANE applies and some records are usable.
    pub fn check(&self) -> Option<DaneCheck> {
        match self {
            Dane::Records { usable, aliases, .. } if !usable.is_empty() => {
                Some(DaneCheck { records: usable.clone(), names: aliases.clone() })
            }
            _ => None,
        }
    }
}

/// The TLSA name for a host and port: `_25._tcp.mx.example.com` (RFC 6698 §3).
pub fn tlsa_name(host: &str, port: u16) -> String {
    format!("_{port}._tcp.{}", host.trim_end_matches('.'))
}

/// Look up and judge the TLSA records of `host` on `port`, given how secure the MX and address answers
/// that led to it were. When the host is a secure alias (`canonical`), RFC 7672 §2.2.2: the TLSA records of
/// the target come first, then the host's own, and the target's name is a reference identifier too.
pub fn lookup(dns: &Dns, host: &str, port: u16, mx: Security, address: Security, canonical: Option<&str>) -> Dane {
    if !dns.is_validating() {
        return Dane::NotApplicable {
            why: "DNSSEC is not checked (use --dnssec, --trust-anchor or --dns-trust-ad)".into(),
        };
    }
    if mx != Security::Secure {
        return Dane::NotApplicable { why: format!("the MX records are {mx}") };
    }
    if address != Security::Secure {
        return Dane::NotApplicable { why: format!("the address records of {host} are {address}") };
    }
    let aliases: Vec<String> =
        canonical.filter(|target| !target.eq_ignore_ascii_case(host)).map(str::to_string).into_iter().collect();
    let names: Vec<String> = aliases.iter().cloned().chain([host.to_string()]).collect();
    for name in names {
        match records_at(dns, &tlsa_name(&name, port)) {
            Dane::NoRecords => continue,
            Dane::Records { usable, unusable, .. } => return Dane::Records { usable, unusable, aliases },
            other => return other,
        }
    }
    Dane::NoRecords
}

/// The TLSA records at one name, judged.
fn records_at(dns: &Dns, name: &str) -> Dane {
    match dns.tlsa(name) {
        Err(failure) => Dane::Failed { detail: failure.to_string() },
        Ok((_, Security::Insecure | Security::Unchecked)) => {
            Dane::NotApplicable { why: format!("the TLSA records at {name} are not signed (insecure): ignored") }
        }
        Ok((records, Security::Secure)) if records.is_empty() => Dane::NoRecords,
        Ok((records, Security::Secure)) => {
            let mut usable = Vec::new();
            let mut unusable = Vec::new();
            for record in records {
                let tlsa = Tlsa {
                    usage: record.usage,
                    selector: record.selector,
                    matching: record.matching,
                    data: record.data,
                };
                match tlsa.usability() {
                    Usability::Usable => usable.push(tlsa),
                    Usability::Unusable(reason) => unusable.push((tlsa, reason)),
                }
            }
            Dane::Records { usable, unusable, aliases: Vec::new() }
        }
    }
}
