//! `postie mx` reports: text and JSON. Text that came from the network is raw here; the caller escapes each
//! line when writing it.

use std::fmt::Write as _;

use super::words::host_warning_phrase;
use crate::mx::{DomainRoute, Probe};

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
                json!({ "preference": host.preference, "name": host.name, "warnings": host.warnings.iter().map(host_warning_phrase).collect::<Vec<_>>(), "addresses": addresses, "error": error })
            })
            .collect::<Vec<_>>()
    });
    let problem = route.hosts.as_ref().err().map(|p| json!({ "permanent": p.permanent, "reason": p.reason }));
    json!({ "type": "route", "domain": route.domain, "implicit": route.implicit, "hosts": hosts, "problem": problem })
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
                let _ = writeln!(out, "         warning: {}", host_warning_phrase(warning));
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
                                banner
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
