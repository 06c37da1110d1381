//! `postie probe` reports: one readable block per address, a summary table, and JSON objects. Text that
//! came from the network is raw here; the caller escapes each line when writing it.

use std::fmt::Write as _;

use serde_json::json;

use super::explain;
use crate::net::tls::days_phrase;
use crate::probe::{AddressProbe, Severity};

/// The readable report for one address.
pub fn report(probe: &AddressProbe) -> String {
    let mut out = String::new();
    let preference = probe.preference.map(|p| format!("MX {p} ")).unwrap_or_default();
    let address = probe.address.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
    let _ = writeln!(out, "{preference}{} {address}: {}", probe.host, probe.severity().word());
    if let (Some(connect), Some(banner)) = (probe.connect_ms, &probe.banner) {
        let greeting = probe.greeting_ms.unwrap_or_default();
        let _ = writeln!(out, "  connect {connect:.1} ms, greeting {greeting:.1} ms: {banner}");
    }
    if !probe.reverse_dns.is_empty() {
        let _ = writeln!(out, "  reverse DNS: {}", probe.reverse_dns.join(", "));
    }
    if let Some(name) = &probe.ehlo_name {
        let _ = writeln!(out, "  EHLO name: {}", name);
        for (keyword, parameters) in &probe.capabilities {
            let _ = writeln!(out, "    {}", explain::capability(keyword, parameters));
        }
    }
    if let Some(tls) = &probe.tls {
        let days = probe.days_left.map(|d| format!(", {}", days_phrase(d))).unwrap_or_default();
        let verdict = probe.certificate.as_deref().unwrap_or("not checked");
        let _ = writeln!(out, "  TLS: {tls}; certificate {verdict}{days}");
    }
    for (reply, what) in [(&probe.mail, "MAIL FROM"), (&probe.rcpt, "RCPT TO")] {
        if let Some(reply) = reply {
            let _ = writeln!(out, "  {what}: {reply}");
        }
    }
    for (severity, text) in &probe.findings {
        if *severity > Severity::Ok {
            let _ = writeln!(out, "  {}: {}", severity.word(), text);
        }
    }
    out
}

/// The one-screen summary: a row per address.
pub fn table(probes: &[AddressProbe]) -> String {
    let header = ["HOST", "ADDRESS", "CONNECT", "BANNER", "TLS", "CERT DAYS", "VERDICT"];
    let rows: Vec<[String; 7]> = probes
        .iter()
        .map(|p| {
            let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1} ms"));
            [
                p.host.clone(),
                p.address.map_or_else(|| "-".into(), |a| a.ip().to_string()),
                ms(p.connect_ms),
                ms(p.greeting_ms),
                p.tls.as_deref().map_or("-", |t| t.split(',').next().unwrap_or("-")).to_string(),
                p.days_left.map_or_else(|| "-".into(), |d| d.to_string()),
                p.severity().word().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&header.map(String::from));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

pub fn to_json(probe: &AddressProbe) -> serde_json::Value {
    json!({
        "type": "probe",
        "host": probe.host,
        "preference": probe.preference,
        "address": probe.address.map(|a| a.to_string()),
        "connect_ms": probe.connect_ms,
        "greeting_ms": probe.greeting_ms,
        "banner": probe.banner.as_ref().map(super::json::reply),
        "reverse_dns": probe.reverse_dns,
        "ehlo_name": probe.ehlo_name,
        "capabilities": probe.capabilities.iter().map(|(k, p)| json!({ "keyword": k, "parameters": p, "explanation": explain::capability(k, p) })).collect::<Vec<_>>(),
        "tls": probe.tls,
        "certificate": probe.certificate,
        "days_left": probe.days_left,
        "mail": probe.mail.as_ref().map(super::json::reply),
        "rcpt": probe.rcpt.as_ref().map(super::json::reply),
        "findings": probe.findings.iter().map(|(s, t)| json!({ "severity": s.word(), "text": t })).collect::<Vec<_>>(),
        "verdict": probe.severity().word(),
    })
}
