//! `postie probe` reports: one readable block per address, a summary table, and JSON objects. Text that
//! came from the network is raw here; the caller escapes each line when writing it.

use std::fmt::Write as _;

use serde_json::json;

use super::explain;
use crate::net::tls::days_phrase;
use crate::probe::{AddressProbe, DomainPolicies, Severity};
use crate::secure::dane::Dane;
use crate::secure::sts::Sts;

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
    if let Some(dnssec) = &probe.dnssec {
        let _ = writeln!(out, "  DNSSEC: {dnssec}");
    }
    if let Some(dane) = &probe.dane {
        let _ = writeln!(out, "  DANE: {}", dane_words(dane));
    }
    if let Some(result) = &probe.dane_result {
        let matched =
            if result.matches.is_empty() { "no TLSA record matched".into() } else { result.matches.join(", ") };
        let verdict = match &result.result {
            Ok(()) => "authenticated".to_string(),
            Err(why) => format!("not authenticated: {why}"),
        };
        let _ = writeln!(out, "    [{matched}]: {verdict}");
    }
    if let Some((mode, matches)) = &probe.sts {
        let _ = writeln!(
            out,
            "  MTA-STS: mode {mode}; this MX {} the policy",
            if *matches { "matches" } else { "is NOT in" }
        );
    }
    for verdict in &probe.verdicts {
        let result = verdict.result.map(|r| format!(" [{}]", r.as_str())).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}: {} ({}): {}{result}",
            verdict.sender.name(),
            verdict.decision.word(),
            verdict.policy,
            verdict.why
        );
    }
    for (severity, text) in &probe.findings {
        if *severity > Severity::Ok {
            let _ = writeln!(out, "  {}: {}", severity.word(), text);
        }
    }
    out
}

fn dane_words(dane: &Dane) -> String {
    match dane {
        Dane::NotApplicable { why } => format!("does not apply: {why}"),
        Dane::NoRecords => "no TLSA records (securely denied): TLS stays opportunistic".into(),
        Dane::Failed { detail } => format!("the TLSA lookup failed, so this MX is unusable: {detail}"),
        Dane::Records { usable, unusable, .. } => {
            let mut words: Vec<String> = usable.iter().map(|t| format!("TLSA {t}")).collect();
            words.extend(unusable.iter().map(|(t, why)| format!("TLSA {t} unusable: {why}")));
            words.join("; ")
        }
    }
}

/// The domain's MTA-STS policy and TLS-RPT record.
pub fn policies_report(policies: &DomainPolicies) -> String {
    let mut out = String::new();
    let domain = &policies.domain;
    let _ = match &policies.sts {
        Sts::None => writeln!(out, "MTA-STS for {domain}: none published"),
        Sts::Policy { id, policy } => writeln!(
            out,
            "MTA-STS for {domain}: mode {}, mx {}, max_age {} s (id {id})",
            policy.mode,
            policy.mx.join(" "),
            policy.max_age
        ),
        Sts::Failed { result, detail } => writeln!(out, "MTA-STS for {domain}: {detail} [{}]", result.as_str()),
    };
    let _ = match &policies.tlsrpt {
        Ok(Some(rua)) => writeln!(out, "TLS-RPT for {domain}: reports to {}", rua.join(", ")),
        Ok(None) => writeln!(out, "TLS-RPT for {domain}: none published"),
        Err(why) => writeln!(out, "TLS-RPT for {domain}: {why}"),
    };
    out
}

pub fn policies_json(policies: &DomainPolicies) -> serde_json::Value {
    let sts = match &policies.sts {
        Sts::None => json!({ "published": false }),
        Sts::Policy { id, policy } => json!({
            "published": true, "id": id, "mode": policy.mode.to_string(), "mx": policy.mx, "max_age": policy.max_age,
        }),
        Sts::Failed { result, detail } => json!({ "published": true, "result": result.as_str(), "error": detail }),
    };
    let tlsrpt = match &policies.tlsrpt {
        Ok(rua) => json!({ "rua": rua }),
        Err(why) => json!({ "error": why }),
    };
    json!({ "type": "policies", "domain": policies.domain, "mta_sts": sts, "tls_rpt": tlsrpt })
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
        "dnssec": probe.dnssec,
        "dane": probe.dane.as_ref().map(dane_words),
        "dane_result": probe.dane_result,
        "mta_sts": probe.sts.as_ref().map(|(mode, matches)| json!({ "mode": mode, "matches": matches })),
        "senders": probe.verdicts,
        "findings": probe.findings.iter().map(|(s, t)| json!({ "severity": s.word(), "text": t })).collect::<Vec<_>>(),
        "verdict": probe.severity().word(),
    })
}
