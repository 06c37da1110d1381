//! One function per subcommand: flags become a validated plan (`plan`), the plan is carried out (`send`,
//! `mx`, `probe`), its events rendered. Only `main`, `cli` and `app` know clap.

mod catch;
mod config;
pub mod connect;
mod load;
mod mx;
mod oauth;
pub mod plan;
mod probe;
mod script;
mod send;
mod smuggle;
mod steer;
mod talk;

use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;

use crate::cli::{Cli, Command, OutputArgs, RouteArgs};
use crate::error::{Error, Exit};
use crate::event::Sink;
use crate::generate;
use crate::net::{Host, ServerSpec};
use crate::render::human::{HumanTranscript, Style};
use crate::render::json::JsonLines;
use crate::route::dns::{DnsSettings, Families};

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Send(args) => {
            let stdin = io::stdin();
            let stdin_is_terminal = stdin.is_terminal();
            let plan = plan::plan_send(*args, &mut stdin.lock(), stdin_is_terminal)?;
            oauth::after_send(send::send(&plan), plan.oauth.as_ref())
        }
        Command::Mx(args) => mx::run(&args),
        Command::Probe(args) => probe::run(&args),
        Command::Talk(args) => talk::run(&args),
        Command::Script(args) => script::run(&args),
        Command::Smuggle(args) => smuggle::run(&args),
        Command::Catch(args) => catch::run(&args),
        // `cli::parse` turns every sendmail command line into a send.
        Command::Sendmail(_) => Err(Error::Usage("postie sendmail: run it as `postie sendmail FLAGS`".into()).into()),
        Command::Config(args) => match args.action {
            crate::cli::ConfigAction::Check(_) => Ok(config::check(cli.layers.as_ref())?),
        },
        Command::Oauth(args) => oauth::run(&args),
        Command::Load(args) => load::run(*args),
        Command::Generate(args) => {
            generate::write_all(&args.out)?;
            Ok(Exit::Success)
        }
    }
}

/// Which renderer, and how.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
    pub style: Style,
}

pub fn output_style(args: &OutputArgs) -> Output {
    let color = match args.color.as_str() {
        "always" => true,
        "never" => false,
        // A terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb says otherwise (anstream's rules).
        _ => anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never,
    };
    Output {
        json: args.json,
        style: Style { color, timing: args.timing, explain_all: args.explain, explain_capabilities: false },
    }
}

/// The renderer `output` asks for, on stdout: the transcript, or JSON Lines.
pub fn stdout_renderer(output: Output) -> Box<dyn Sink> {
    let stdout = io::stdout().lock();
    if output.json {
        Box::new(JsonLines::new(stdout))
    } else {
        Box::new(HumanTranscript::with_style(stdout, output.style))
    }
}

pub fn families(route: &RouteArgs) -> Families {
    match (route.ipv4, route.ipv6) {
        (true, _) => Families::V4,
        (_, true) => Families::V6,
        _ => Families::Both,
    }
}

/// `--dns-server IP[:PORT]` (port 53 by default) and `--dns-timeout`.
pub fn dns_settings(route: &RouteArgs) -> Result<DnsSettings, Error> {
    let server = match &route.dns_server {
        None => None,
        Some(text) => {
            let invalid = |reason: &str| Error::Usage(format!("invalid --dns-server {text:?}: {reason}"));
            let spec = text.parse::<ServerSpec>().map_err(|reason| invalid(&reason))?;
            let Host::Ip(ip) = spec.host else {
                return Err(invalid("give the DNS server's IP address, not a name"));
            };
            Some(SocketAddr::new(ip, spec.port.unwrap_or(53)))
        }
    };
    let trust_anchor = match (&route.trust_anchor, route.dnssec) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|cause| Error::Input { path: path.display().to_string(), cause })?;
            crate::route::dns::check_trust_anchor(&text)
                .map_err(|reason| Error::Usage(format!("invalid --trust-anchor {}: {reason}", path.display())))?;
            Some(Some(path.clone()))
        }
        (None, true) => Some(None),
        (None, false) => None,
    };
    Ok(DnsSettings { server, timeout: route.dns_timeout, trust_anchor, trust_ad: route.dns_trust_ad })
}

/// Write a whole report to stdout. A reader that went away (`| head`) is not an error: output ends quietly.
pub fn to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// A TLS set-up error: an unreadable file is missing input (66), like --data; anything else, bad input.
pub fn setup_error(error: crate::net::tls::SetupError) -> Error {
    match error {
        crate::net::tls::SetupError::Unreadable { path, cause } => {
            Error::Input { path: path.display().to_string(), cause }
        }
        other => Error::BadInput(other.to_string()),
    }
}

/// Escape every line of a report for the terminal: server and certificate text is untrusted.
pub fn escape_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&crate::sanitize::escape(line.as_bytes()));
        out.push('\n');
    }
    out
}
