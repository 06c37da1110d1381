//! `postie mx`: flags in, routes looked up (and with `--check`, probed), the report out.

use std::io;

use super::{dns_settings, escape_lines, families, to_stdout};
use crate::cli::MxArgs;
use crate::error::{Error, Exit};
use crate::mx::{self, DomainRoute};
use crate::net::tls::{TlsClient, TlsOptions, Verify};
use crate::net::SMTP_PORT;
use crate::render::json::JsonLines;
use crate::render::mx::{render, to_json};
use crate::route::dns;
use std::sync::Arc;

pub fn run(args: &MxArgs) -> anyhow::Result<Exit> {
    let mut domains = Vec::new();
    for domain in &args.domains {
        let ascii = dns::ascii_domain(domain).map_err(|reason| Error::Usage(format!("invalid domain: {reason}")))?;
        domains.push(ascii);
    }
    let dns = dns_settings(&args.route)?.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
    let family = families(&args.route);
    let mut routes: Vec<DomainRoute> = domains.iter().map(|d| mx::lookup(&dns, d, family)).collect();
    if args.check {
        let port = args.route.port.unwrap_or(SMTP_PORT);
        let implicit = match args.tls.as_deref() {
            Some(mode) => mode.eq_ignore_ascii_case("implicit"),
            None => port == 465,
        };
        let implicit = if implicit {
            let options =
                TlsOptions { verify: Some(Verify::Report), ca_files: &[], client_cert: None, min_version_13: false };
            Some(Arc::new(TlsClient::new(&options).map_err(super::setup_error)?))
        } else {
            None
        };
        let check = mx::Check {
            port,
            connect_timeout: args.route.connect_timeout,
            timeout: args.timeout,
            bind: args.route.bind,
            implicit,
        };
        mx::check_all(&mut routes, &check);
    }
    let exit = mx::exit(&routes, args.check);
    if args.json {
        let mut out = JsonLines::new(io::stdout().lock());
        for route in &routes {
            out.write(to_json(route));
        }
        out.write(serde_json::json!({ "type": "summary", "exit_code": exit.code() }));
        return Ok(exit);
    }
    let text = escape_lines(&render(&routes, args.check));
    to_stdout(|out| out.write_all(text.as_bytes()))?;
    Ok(exit)
}
