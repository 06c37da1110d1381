//! `postie probe`: flags in, every address probed, the reports out.

use std::io;
use std::sync::Arc;

use serde_json::json;

use super::{dns_settings, escape_lines, families, output_style, setup_error, to_stdout};
use crate::cli::ProbeArgs;
use crate::error::{Error, Exit};
use crate::net::tls::{TlsClient, TlsOptions, Verify};
use crate::net::{ServerSpec, SMTP_PORT};
use crate::probe::{self, AddressProbe, Settings, Severity};
use crate::render::human::HumanTranscript;
use crate::render::json::JsonLines;
use crate::render::probe::{policies_json, policies_report, report, table, to_json};

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
        verify: Some(Verify::Report),
        ca_files: &args.ca_file,
        client_cert: None,
        min_version_13: false,
    })
    .map_err(setup_error)?;
    let settings = Settings {
        port,
        families: families(&args.route),
        connect_timeout: args.route.connect_timeout,
        timeout: args.timeout,
        bind: args.route.bind,
        client_name: args.helo.clone().or_else(crate::hostname::fully_qualified),
        tls: Arc::new(tls),
        from,
        rcpt: args.rcpt.clone(),
        implicit: match args.tls.as_deref() {
            Some(mode) => mode.eq_ignore_ascii_case("implicit"),
            None => port == 465,
        },
        sts: crate::secure::sts::Fetch { ca_files: args.ca_file.clone(), timeout: args.timeout },
    };
    let started = std::time::Instant::now();
    let (probes, policies) = probe::probe_all(&dns, &target, &settings)?;

    let worst = probes.iter().map(AddressProbe::severity).max().unwrap_or(Severity::Unreachable);
    let exit = if probes.is_empty() { Exit::TempFail } else { worst.exit() };
    let output = output_style(&args.output);
    if output.json {
        let mut out = JsonLines::new(io::stdout().lock());
        if let Some(policies) = &policies {
            out.write(policies_json(policies));
        }
        for probe in &probes {
            out.write(to_json(probe));
        }
        out.write(json!({ "type": "summary", "worst": worst.word(), "exit_code": exit.code() }));
        return Ok(exit);
    }
    // --timing and --explain are about the transcript: they show it.
    let verbose = args.verbose || args.output.timing || args.output.explain;
    let mut text = String::new();
    for probe in &probes {
        if verbose && !probe.events.is_empty() {
            // The transcript escapes as it renders.
            let mut transcript = HumanTranscript::with_style(Vec::new(), output.style);
            transcript.replay(started, &probe.events);
            text.push_str(&String::from_utf8_lossy(&transcript.into_inner()));
        }
        text.push_str(&escape_lines(&report(probe)));
        text.push('\n');
    }
    if let Some(policies) = &policies {
        text.push_str(&escape_lines(&policies_report(policies)));
        text.push('\n');
    }
    text.push_str(&escape_lines(&table(&probes)));
    to_stdout(|out| out.write_all(text.as_bytes()))?;
    Ok(exit)
}
