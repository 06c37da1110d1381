//! `postie probe DOMAIN|HOST[:PORT]`: everything about a domain's mail servers in one command. Every MX host
//! and every address is probed in parallel: connect and greeting times, reverse DNS against the names the
//! server gives, the EHLO capabilities explained, STARTTLS with the certificate's verdict and days left, and
//! with `--rcpt`, whether MAIL and RCPT are accepted (then RSET and QUIT: no message is sent).

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::app::{dns_settings, families, output_style};
use crate::cli::ProbeArgs;
use crate::dns::{self, Dns, Route};
use crate::error::{Error, Exit};
use crate::event::{Event, Sink};
use crate::explain;
use crate::net::{self, ServerSpec, SMTP_PORT};
use crate::sanitize::escape;
use crate::smtp::command::Command;
use crate::smtp::reply::Reply;
use crate::smtp::session::{Session, Timeouts};
use crate::tls::{Stream, TlsClient, TlsOptions, Verify};
use crate::transcript::HumanTranscript;

/// How bad a finding is; the worst one decides an address's verdict and the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Ok,
    Warning,
    /// STARTTLS missing or failed, or the certificate does not verify: exit 4.
    Tls,
    /// A 5xx to the greeting, MAIL or RCPT: exit 69.
    Refused,
    /// No connection, no greeting, a 4xx: exit 75.
    Unreachable,
}

impl Severity {
    fn word(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Warning => "warning",
            Severity::Tls => "TLS problem",
            Severity::Refused => "refused",
            Severity::Unreachable => "unreachable",
        }
    }

    pub fn exit(self) -> Exit {
        match self {
            Severity::Ok | Severity::Warning => Exit::Success,
            Severity::Tls => Exit::TlsFailure,
            Severity::Refused => Exit::Unavailable,
            Severity::Unreachable => Exit::TempFail,
        }
    }
}

/// What was found at one address.
#[derive(Debug, Clone, Default)]
pub struct AddressProbe {
    pub host: String,
    pub preference: Option<u16>,
    pub address: Option<SocketAddr>,
    pub connect_ms: Option<f64>,
    pub greeting_ms: Option<f64>,
    pub banner: Option<Reply>,
    pub reverse_dns: Vec<String>,
    pub ehlo_name: Option<String>,
    pub capabilities: Vec<(String, Vec<String>)>,
    pub tls: Option<String>,
    pub certificate: Option<String>,
    pub days_left: Option<i64>,
    pub mail: Option<Reply>,
    pub rcpt: Option<Reply>,
    pub findings: Vec<(Severity, String)>,
    pub events: Vec<Event>,
}

impl AddressProbe {
    pub fn severity(&self) -> Severity {
        self.findings.iter().map(|(s, _)| *s).max().unwrap_or(Severity::Ok)
    }

    fn find(&mut self, severity: Severity, text: impl Into<String>) {
        self.findings.push((severity, text.into()));
    }
}

struct Settings {
    connect_timeout: Duration,
    timeout: Duration,
    bind: Option<IpAddr>,
    /// `--helo`, or this machine's name; `None`: the connection's local address as a literal.
    client_name: Option<String>,
    tls: Arc<TlsClient>,
    from: String,
    rcpt: Option<String>,
}

pub fn run(args: &ProbeArgs) -> anyhow::Result<Exit> {
    let (target, port) = match args.target.parse::<ServerSpec>() {
        Ok(spec) => (spec.host.to_string(), spec.port.or(args.route.port).unwrap_or(SMTP_PORT)),
        Err(reason) => return Err(Error::Usage(format!("invalid target {:?}: {reason}", args.target)).into()),
    };
    if let Some(rcpt) = &args.rcpt {
        crate::address::check_address(rcpt)
            .map_err(|reason| Error::Usage(format!("invalid --rcpt {rcpt:?}: {reason}")))?;
    }
    let from = args.from.clone().unwrap_or_default();
    if !from.is_empty() {
        crate::address::check_address(&from)
            .map_err(|reason| Error::Usage(format!("invalid --from {from:?}: {reason}")))?;
    }
    let dns = dns_settings(&args.route)?.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
    let tls = TlsClient::new(&TlsOptions {
        verify: Verify::Report,
        ca_files: &args.ca_file,
        client_cert: None,
        min_version_13: false,
    })?;
    let client_name = args.helo.clone().or_else(crate::hostname::fully_qualified);
    let settings = Settings {
        connect_timeout: args.route.connect_timeout,
        timeout: args.timeout,
        bind: args.route.bind,
        client_name,
        tls: Arc::new(tls),
        from,
        rcpt: args.rcpt.clone(),
    };

    // Routing and reverse DNS first, in this thread (the resolver is single-threaded); then every address
    // at once, each in its own thread.
    let mut probes = targets(&dns, &target, families(&args.route), port)?;
    for probe in &mut probes {
        if let Some(address) = probe.address {
            match dns.reverse(address.ip()) {
                Ok(names) => probe.reverse_dns = names,
                Err(failure) => probe.find(Severity::Warning, format!("reverse DNS lookup failed: {failure}")),
            }
        }
    }
    thread::scope(|scope| {
        for probe in probes.iter_mut().filter(|p| p.address.is_some()) {
            let settings = &settings;
            scope.spawn(move || probe_address(probe, settings));
        }
    });

    let worst = probes.iter().map(AddressProbe::severity).max().unwrap_or(Severity::Unreachable);
    let exit = if probes.is_empty() { Exit::TempFail } else { worst.exit() };
    let output = output_style(&args.output);
    if output.json {
        let mut out = crate::json::JsonLines::new(io::stdout().lock());
        for probe in &probes {
            out.write(to_json(probe));
        }
        out.write(json!({ "type": "summary", "worst": worst.word(), "exit_code": exit.code() }));
        return Ok(exit);
    }
    let mut text = String::new();
    for probe in &probes {
        if args.verbose && !probe.events.is_empty() {
            let mut transcript = HumanTranscript::with_style(Vec::new(), output.style);
            for event in probe.events.clone() {
                transcript.emit(event);
            }
            text.push_str(&String::from_utf8_lossy(&transcript.into_inner()));
        }
        text.push_str(&report(probe));
        text.push('\n');
    }
    text.push_str(&table(&probes));
    crate::app::to_stdout(|out| out.write_all(text.as_bytes()))?;
    Ok(exit)
}

/// One probe per address of every host the target routes to (a domain's MX hosts, or the host itself).
fn targets(dns: &Dns, target: &str, families: dns::Families, port: u16) -> Result<Vec<AddressProbe>, Error> {
    let hosts = if let Ok(ip) = target.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        vec![(None, ip.to_string())]
    } else {
        let answer = dns.mx(target).map_err(|failure| Error::Dns(failure.to_string()))?;
        match dns::route(target, answer, dns::random_seed()) {
            Ok(route @ Route::Mx(_)) | Ok(route @ Route::Implicit(_)) => route.hosts(),
            Err(error) => return Err(Error::Unsupported(error.to_string())),
        }
    };
    let mut probes = Vec::new();
    for (preference, host) in hosts {
        let base = AddressProbe { host: host.clone(), preference, ..AddressProbe::default() };
        match dns.addresses(&host, families) {
            Ok(found) if !found.addresses.is_empty() => {
                for ip in found.addresses {
                    probes.push(AddressProbe { address: Some(SocketAddr::new(ip, port)), ..base.clone() });
                }
            }
            Ok(found) => {
                let mut probe = base;
                let why = if found.no_such_host { "does not exist (NXDOMAIN)" } else { "has no address" };
                probe.find(Severity::Unreachable, format!("{host} {why}"));
                probes.push(probe);
            }
            Err(failure) => {
                let mut probe = base;
                probe.find(Severity::Unreachable, failure.to_string());
                probes.push(probe);
            }
        }
    }
    Ok(probes)
}

fn probe_address(probe: &mut AddressProbe, settings: &Settings) {
    let address = probe.address.expect("probed addresses have one");
    let started = Instant::now();
    let tcp = match net::connect_one(address, settings.connect_timeout, settings.bind) {
        Ok(tcp) => tcp,
        Err(reason) => {
            probe.find(Severity::Unreachable, format!("no connection: {reason}"));
            return;
        }
    };
    probe.connect_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    let client_name = settings
        .client_name
        .clone()
        .unwrap_or_else(|| crate::hostname::address_literal(tcp.local_addr().map_or(address.ip(), |local| local.ip())));
    let mut events = Vec::new();
    let mut greeting_ms = None;
    let mut banner = None;
    let mut capabilities = None;
    let mut mail = None;
    let mut rcpt = None;
    let mut no_starttls = false;
    let host = probe.host.clone();
    let result = {
        let mut session = Session::new(Stream::Plain(tcp), &mut events, Timeouts::uniform(settings.timeout));
        session.conclude(|s| {
            let before = Instant::now();
            banner = Some(s.greeting()?);
            greeting_ms = Some(before.elapsed().as_secs_f64() * 1000.0);
            let mut caps = s.hello(&client_name)?;
            if caps.has("STARTTLS") {
                let timeout = settings.timeout;
                s.start_tls(|stream, sink| stream.start_tls(&settings.tls, &host, timeout, sink))?;
                caps = s.hello(&client_name)?;
            } else {
                no_starttls = true;
            }
            capabilities = Some(caps);
            if let Some(recipient) = &settings.rcpt {
                let reply = s.command(
                    &Command::MailFrom { reverse_path: &settings.from, parameters: vec![] },
                    crate::error::Phase::MailFrom,
                )?;
                let accepted = reply.is_positive();
                mail = Some(reply);
                if accepted {
                    rcpt = Some(s.command(
                        &Command::RcptTo { forward_path: recipient, parameters: vec![] },
                        crate::error::Phase::RcptTo,
                    )?);
                }
                s.command(&Command::Rset, crate::error::Phase::MailFrom)?;
            }
            Ok(())
        })
    };
    probe.greeting_ms = greeting_ms;
    probe.banner = banner.clone();
    if let Err(error) = &result {
        let severity = match error {
            Error::Rejected { reply, .. } if reply.is_permanent() => Severity::Refused,
            Error::Tls { .. } => Severity::Tls,
            _ => Severity::Unreachable,
        };
        probe.find(severity, error.to_string());
    }
    if let Some(ms) = greeting_ms {
        if ms > 1000.0 {
            probe.find(
                Severity::Warning,
                format!(
                    "greeting delayed by {:.1} s (a deliberate delay, as some servers make against spam)",
                    ms / 1000.0
                ),
            );
        }
    }
    if let Some(caps) = capabilities {
        probe.ehlo_name = Some(caps.server_name.clone());
        probe.capabilities = caps.extensions;
    }
    if no_starttls {
        probe.find(Severity::Tls, "does not offer STARTTLS: mail to it travels in clear text");
    }
    for event in &events {
        match event {
            Event::Tls { version, cipher, .. } => probe.tls = Some(format!("{version}, {cipher}")),
            Event::Certificate(c) if c.index == 0 => probe.days_left = Some(c.days_left),
            Event::Info(text) if text.starts_with("certificate verified for ") => {
                probe.certificate = Some("verified".into())
            }
            Event::Warning(text) if text.starts_with("certificate does not verify: ") => {
                let why = text
                    .trim_start_matches("certificate does not verify: ")
                    .trim_end_matches(" (--tls-verify report: going on)");
                probe.certificate = Some(why.to_string());
                probe.find(Severity::Tls, format!("certificate does not verify: {why}"));
            }
            _ => {}
        }
    }
    if let Some(days) = probe.days_left {
        if (0..14).contains(&days) {
            probe.find(Severity::Warning, format!("certificate expires in {days} days"));
        }
    }
    check_reverse_dns(probe);
    for (reply, what) in [(&mail, "MAIL FROM"), (&rcpt, "RCPT TO")] {
        if let Some(reply) = reply {
            if reply.is_permanent() {
                probe.find(Severity::Refused, format!("{what} refused: {reply}"));
            } else if reply.is_transient() {
                probe.find(Severity::Unreachable, format!("{what} deferred: {reply}"));
            }
        }
    }
    probe.mail = mail;
    probe.rcpt = rcpt;
    probe.events = events;
}

/// Does the reverse DNS name of the address match the name the server gives in its greeting or EHLO?
fn check_reverse_dns(probe: &mut AddressProbe) {
    let greeting_name = probe
        .banner
        .as_ref()
        .and_then(|b| b.texts().next().map(|t| String::from_utf8_lossy(t).split(' ').next().unwrap_or("").to_string()));
    let mut names: Vec<String> =
        [greeting_name, probe.ehlo_name.clone()].into_iter().flatten().filter(|n| !n.is_empty()).collect();
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    if probe.banner.is_none() {
        return;
    }
    if probe.reverse_dns.is_empty() {
        probe.find(Severity::Warning, "no reverse DNS (PTR) for the address: many receivers distrust such senders");
    } else if !names.is_empty() && !probe.reverse_dns.iter().any(|r| names.iter().any(|n| n.eq_ignore_ascii_case(r))) {
        probe.find(
            Severity::Warning,
            format!(
                "reverse DNS {} does not match the server's name {}",
                probe.reverse_dns.join(", "),
                names.join(" / ")
            ),
        );
    }
}

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
        let _ = writeln!(out, "  EHLO name: {}", escape(name.as_bytes()));
        for (keyword, parameters) in &probe.capabilities {
            let _ = writeln!(out, "    {}", escape(explain::capability(keyword, parameters).as_bytes()));
        }
    }
    if let Some(tls) = &probe.tls {
        let days = probe.days_left.map(|d| format!(", {}", crate::tls::days_phrase(d))).unwrap_or_default();
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
            let _ = writeln!(out, "  {}: {}", severity.word(), escape(text.as_bytes()));
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
        "banner": probe.banner.as_ref().map(crate::json::reply),
        "reverse_dns": probe.reverse_dns,
        "ehlo_name": probe.ehlo_name,
        "capabilities": probe.capabilities.iter().map(|(k, p)| json!({ "keyword": k, "parameters": p, "explanation": explain::capability(k, p) })).collect::<Vec<_>>(),
        "tls": probe.tls,
        "certificate": probe.certificate,
        "days_left": probe.days_left,
        "mail": probe.mail.as_ref().map(crate::json::reply),
        "rcpt": probe.rcpt.as_ref().map(crate::json::reply),
        "findings": probe.findings.iter().map(|(s, t)| json!({ "severity": s.word(), "text": t })).collect::<Vec<_>>(),
        "verdict": probe.severity().word(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_finding_decides() {
        let mut probe = AddressProbe::default();
        assert_eq!(probe.severity(), Severity::Ok);
        probe.find(Severity::Warning, "w");
        probe.find(Severity::Tls, "t");
        assert_eq!(probe.severity().exit(), Exit::TlsFailure);
        probe.find(Severity::Unreachable, "u");
        assert_eq!(probe.severity().exit(), Exit::TempFail);
    }

    #[test]
    fn table_aligns_columns() {
        let probe = AddressProbe {
            host: "mx.example.test".into(),
            address: Some("127.0.0.1:25".parse().unwrap()),
            connect_ms: Some(0.25),
            greeting_ms: Some(1.5),
            tls: Some("TLS 1.3, TLS13_AES_256_GCM_SHA384".into()),
            days_left: Some(89),
            ..AddressProbe::default()
        };
        assert_eq!(
            table(&[probe]),
            "HOST             ADDRESS    CONNECT  BANNER  TLS      CERT DAYS  VERDICT\n\
             mx.example.test  127.0.0.1  0.2 ms   1.5 ms  TLS 1.3  89         ok\n"
        );
    }
}
