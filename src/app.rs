//! One function per subcommand. Flags become a validated plan before any connection is made, so bad input
//! never sends anything; then the plan is carried out and its events rendered.

use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::SystemTime;

use anyhow::Context;

use crate::address::{check_address, parse_mailbox, Mailbox};
use crate::cli::OutputArgs;
use crate::cli::{AuthArgs, Cli, Command, RouteArgs, SendArgs, TlsArgs};
use crate::deliver::{self, Outcome, Outgoing, Report, SessionOptions, Stop, StopPoint};
use crate::dns::{DnsSettings, Families};
use crate::error::{Error, Exit};
use crate::event::{Discard, Event, Sink};
use crate::json::JsonLines;
use crate::message::{self, check_header_value, parse_header, Attachment, Composition, Message};
use crate::net::{Host, ServerSpec, SMTP_PORT};
use crate::smtp::auth::Secret;
use crate::smtp::codec::{self, Facts};
use crate::smtp::extensions::{check_envid, parse_notify, Dsn};
use crate::smtp::session::Content;
use crate::smtp::session::Credentials;
use crate::smtp::session::{Envelope, Timeouts};
use crate::tls::{TlsClient, TlsMode, TlsOptions, Verify};
use crate::transcript::HumanTranscript;
use crate::transcript::Style;
use crate::{generate, hostname, mx, probe};
use std::sync::Arc;

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Send(args) => {
            let stdin = io::stdin();
            let stdin_is_terminal = stdin.is_terminal();
            let plan = plan_send(*args, &mut stdin.lock(), stdin_is_terminal)?;
            send(&plan)
        }
        Command::Mx(args) => mx::run(&args),
        Command::Probe(args) => probe::run(&args),
        Command::Generate(args) => {
            generate::write_all(&args.out)?;
            Ok(Exit::Success)
        }
    }
}

/// Everything `send` needs, checked.
#[derive(Debug)]
pub struct SendPlan {
    /// `--server`; `None` routes each recipient domain over its MX records.
    pub server: Option<ServerSpec>,
    pub dns: DnsSettings,
    /// Empty for the null sender.
    pub reverse_path: String,
    pub recipients: Vec<String>,
    pub message: Message,
    pub facts: Facts,
    pub session: SessionOptions,
    pub quiet: bool,
    pub dump: bool,
    pub output: Output,
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
        _ => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    Output { json: args.json, style: Style { color, timing: args.timing, explain_all: args.explain } }
}

/// Check every flag and read the message. `stdin` is read only when the message comes from it.
pub fn plan_send(args: SendArgs, stdin: &mut dyn Read, stdin_is_terminal: bool) -> Result<SendPlan, Error> {
    let usage = |flag: &str, value: &str, reason: String| Error::Usage(format!("invalid {flag} {value:?}: {reason}"));
    let mailboxes = |flag: &str, values: &[String]| -> Result<Vec<Mailbox>, Error> {
        values.iter().map(|v| parse_mailbox(v).map_err(|reason| usage(flag, v, reason))).collect()
    };
    let mut to = mailboxes("recipient", &args.recipients)?;
    to.extend(mailboxes("--to address", &args.to)?);
    let cc = mailboxes("--cc address", &args.cc)?;
    let bcc = mailboxes("--bcc address", &args.bcc)?;
    let null_sender = args.null_sender || args.from.as_deref() == Some("");
    let from = match args.from.as_deref() {
        Some(from) if !from.is_empty() => Some(parse_mailbox(from).map_err(|r| usage("--from address", from, r))?),
        _ => None,
    };
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h).map_err(|reason| usage("--header", h, reason)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(subject) = &args.subject {
        check_header_value(subject).map_err(|reason| usage("--subject", subject, reason))?;
    }
    if let Some(name) = &args.helo {
        check_client_name(name).map_err(|reason| usage("--helo", name, reason))?;
    }
    let reply_to = mailboxes("--reply-to address", &args.reply_to)?;
    if to.is_empty() && cc.is_empty() && bcc.is_empty() && !args.read_recipients {
        return Err(Error::Usage("no recipient: give at least one with --to, --cc, --bcc or as an argument".into()));
    }
    let dsn = Dsn {
        notify: args
            .notify
            .as_deref()
            .map(parse_notify)
            .transpose()
            .map_err(|r| usage("--notify", args.notify.as_deref().unwrap_or(""), r))?,
        ret: args.ret.as_deref().map(str::to_ascii_uppercase),
        envid: match &args.envid {
            Some(envid) => {
                check_envid(envid).map_err(|reason| usage("--envid", envid, reason))?;
                Some(envid.clone())
            }
            None => None,
        },
    };
    if args.attach.iter().filter(|p| p.as_os_str() == "-").count()
        + [&args.data, &args.body_file, &args.html_file].iter().filter(|p| p.as_deref() == Some(Path::new("-"))).count()
        + usize::from(args.read_recipients && args.data.is_none())
        + [&args.auth.password_file, &args.auth.oauth_token_file]
            .iter()
            .filter(|p| p.as_deref() == Some(Path::new("-")))
            .count()
        > 1
    {
        return Err(Error::Usage(
            "stdin can be read only once: give '-' to one of --data, --body-file, --html-file, --attach, -t, --password-file, --oauth-token-file".into(),
        ));
    }
    if args.attach_type.len() > args.attach.len() || args.attach_name.len() > args.attach.len() {
        return Err(Error::Usage(
            "more --attach-type or --attach-name than --attach: each names the --attach in the same position".into(),
        ));
    }
    let (server, port) = match &args.server {
        Some(text) => {
            let server = text.parse::<ServerSpec>().map_err(|reason| usage("--server", text, reason))?;
            let port = match (server.port, args.route.port) {
                (Some(in_server), Some(flag)) if in_server != flag => {
                    return Err(Error::Usage(format!("--server gives port {in_server} but --port gives {flag}")));
                }
                (Some(port), _) | (None, Some(port)) => port,
                (None, None) => SMTP_PORT,
            };
            (Some(server), port)
        }
        None => (None, args.route.port.unwrap_or(SMTP_PORT)),
    };
    let dns = dns_settings(&args.route)?;

    // The machine's name (a resolver lookup) is needed only for a default sender or a default EHLO name.
    let machine_name = if from.is_none() || args.helo.is_none() { hostname::fully_qualified() } else { None };
    let from = from.unwrap_or_else(|| default_sender(machine_name.as_deref()));
    let mut recipients: Vec<String> = to.iter().chain(&cc).chain(&bcc).map(|m| m.address.clone()).collect();
    let message = if args.read_recipients || args.data.is_some() {
        let path = args.data.clone().unwrap_or_else(|| "-".into());
        let mut data = read_input(&path, stdin)?;
        if data.is_empty() {
            return Err(Error::BadInput(format!("the message in {} is empty", display_path(&path))));
        }
        if args.read_recipients {
            let (found, stripped) =
                message::read_recipients(&data).map_err(|reason| Error::BadInput(format!("-t: {reason}")))?;
            for address in found {
                if !recipients.iter().any(|r| r.eq_ignore_ascii_case(&address)) {
                    recipients.push(address);
                }
            }
            if recipients.is_empty() {
                return Err(Error::BadInput("-t: the message has no To, Cc or Bcc address".into()));
            }
            data = stripped;
        }
        Message::Raw(data)
    } else {
        let body = match (&args.body_file, &args.body) {
            (Some(path), _) => Some(read_input(path, stdin)?),
            (None, Some(text)) => Some(text.clone().into_bytes()),
            (None, None) if !stdin_is_terminal && !reads_stdin(&args) => {
                let mut piped = Vec::new();
                stdin.read_to_end(&mut piped).map_err(|cause| Error::Input { path: "stdin".into(), cause })?;
                // An empty pipe (or /dev/null, as cron gives) means "no body": send the test body.
                (!piped.is_empty()).then_some(piped)
            }
            (None, None) => None,
        };
        let html = match (&args.html_file, &args.html) {
            (Some(path), _) => {
                let bytes = read_input(path, stdin)?;
                Some(
                    String::from_utf8(bytes)
                        .map_err(|_| Error::BadInput(format!("{} is not UTF-8 text", display_path(path))))?,
                )
            }
            (None, html) => html.clone(),
        };
        let mut attachments = Vec::with_capacity(args.attach.len());
        for (i, path) in args.attach.iter().enumerate() {
            let data = read_input(path, stdin)?;
            let name = match args.attach_name.get(i) {
                Some(name) => name.clone(),
                None if path == Path::new("-") => "stdin".into(),
                None => path.file_name().map_or_else(|| "attachment".into(), |n| n.to_string_lossy().into_owned()),
            };
            let content_type = match args.attach_type.get(i) {
                Some(kind) => {
                    check_mime_type(kind).map_err(|reason| usage("--attach-type", kind, reason))?;
                    kind.clone()
                }
                None => mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_string(),
            };
            check_header_value(&name).map_err(|reason| usage("--attach-name", &name, reason))?;
            attachments.push(Attachment { name, content_type, data });
        }
        // Every sender, given or default, has a domain: the Message-ID is made in it.
        let message_id_domain = from.domain().to_string();
        let date = SystemTime::now();
        Message::Composed(Box::new(Composition {
            from: from.clone(),
            to,
            cc,
            reply_to,
            subject: args.subject.clone(),
            body,
            html,
            attachments,
            headers,
            date,
            message_id_domain,
            unique: message::unique_token(date),
        }))
    };
    let facts = codec::measure(|out| message.write_to(out))
        .map_err(|cause| Error::Input { path: "the message".into(), cause })?;
    let reverse_path = if null_sender { String::new() } else { from.address.clone() };
    Ok(SendPlan {
        server,
        dns,
        reverse_path,
        recipients,
        message,
        facts,
        session: SessionOptions {
            dsn,
            pipelining: !args.no_pipelining,
            bdat: args.bdat,
            progress: None,
            stop: match (args.quit_after, args.drop_after) {
                (Some(StopPoint::Data), _) => {
                    return Err(Error::Usage(
                        "--quit-after data is not a step: use --drop-after data, or --quit-after rcpt".into(),
                    ))
                }
                (Some(point), _) => Some(Stop { point, drop: false }),
                (None, Some(point)) => Some(Stop { point, drop: true }),
                (None, None) => None,
            },
            tls_mode: args.tls.tls,
            tls: tls_client(&args.tls)?,
            credentials: credentials(&args.auth, stdin, stdin_is_terminal)?,
            allow_plaintext_auth: args.auth.allow_plaintext_auth,
            port,
            connect_timeout: args.route.connect_timeout,
            bind: args.route.bind,
            families: families(&args.route),
            timeouts: args.timeout.map_or_else(Timeouts::rfc5321, Timeouts::uniform),
            show_data: args.show_data,
            client_name: args.helo.or(machine_name),
        },
        quiet: args.quiet,
        dump: args.dump,
        output: output_style(&args.output),
    })
}

/// The TLS client, unless TLS is off.
fn tls_client(args: &TlsArgs) -> Result<Option<Arc<TlsClient>>, Error> {
    if args.tls == Some(TlsMode::None) {
        return Ok(None);
    }
    let verify = if args.insecure { Verify::Insecure } else { args.tls_verify };
    let options = TlsOptions {
        verify,
        ca_files: &args.ca_file,
        client_cert: args.tls_cert.as_deref().zip(args.tls_key.as_deref()),
        min_version_13: args.tls_min_version == "1.3",
    };
    if verify == Verify::Insecure {
        eprintln!("postie: warning: certificates are not verified (--insecure): a server in the middle goes unnoticed");
    }
    TlsClient::new(&options).map(|client| Some(Arc::new(client)))
}

/// The user and secret for AUTH, from wherever the user said, never from the command line unwarned.
fn credentials(args: &AuthArgs, stdin: &mut dyn Read, stdin_is_terminal: bool) -> Result<Option<Credentials>, Error> {
    let Some(user) = &args.user else {
        let secret_flag = [
            (args.password_env.is_some(), "--password-env"),
            (args.password_file.is_some(), "--password-file"),
            (args.password.is_some(), "--password"),
            (args.oauth_token_env.is_some(), "--oauth-token-env"),
            (args.oauth_token_file.is_some(), "--oauth-token-file"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag));
        return match secret_flag {
            Some(flag) => Err(Error::Usage(format!("{flag} needs --user: say who to authenticate as"))),
            None => Ok(None),
        };
    };
    if user.is_empty() || user.contains(|c: char| c.is_control()) {
        return Err(Error::Usage(format!("invalid --user {user:?}: it is empty or contains a control character")));
    }
    let from_env =
        |var: &str| std::env::var(var).map_err(|_| Error::Usage(format!("the environment variable {var} is not set")));
    let (secret, is_token) = if let Some(var) = &args.oauth_token_env {
        (from_env(var)?, true)
    } else if let Some(path) = &args.oauth_token_file {
        (first_line(path, stdin)?, true)
    } else if let Some(var) = &args.password_env {
        (from_env(var)?, false)
    } else if let Some(path) = &args.password_file {
        (first_line(path, stdin)?, false)
    } else if let Some(password) = &args.password {
        eprintln!("postie: warning: --password can be seen by other users in the process list; prefer --password-env or --password-file");
        (password.clone(), false)
    } else if stdin_is_terminal {
        let prompt = format!("Password for {user}: ");
        let password =
            rpassword::prompt_password(prompt).map_err(|cause| Error::Input { path: "the terminal".into(), cause })?;
        (password, false)
    } else {
        return Err(Error::Usage(format!(
            "no password for --user {user}: give --password-env, --password-file or --password (stdin is not a terminal, so postie cannot ask)"
        )));
    };
    if let Some(mechanism) = args.auth {
        if mechanism.uses_token() && !is_token {
            return Err(Error::Usage(format!(
                "--auth {} needs a token: --oauth-token-env or --oauth-token-file",
                mechanism.name()
            )));
        }
        if !mechanism.uses_token() && is_token {
            return Err(Error::Usage(format!("--auth {} needs a password, not an OAuth token", mechanism.name())));
        }
    }
    Ok(Some(Credentials {
        user: user.clone(),
        secret: Secret::new(secret),
        is_token,
        mechanism: args.auth,
        show_secrets: args.show_secrets,
    }))
}

/// The first line of a secret file, without its line ending.
fn first_line(path: &Path, stdin: &mut dyn Read) -> Result<String, Error> {
    let bytes = read_input(path, stdin)?;
    let text =
        String::from_utf8(bytes).map_err(|_| Error::BadInput(format!("{} is not UTF-8 text", display_path(path))))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(Error::BadInput(format!("{} is empty", display_path(path))));
    }
    Ok(line)
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
    Ok(DnsSettings { server, timeout: route.dns_timeout })
}

/// Whether some flag already takes the message or a part of it from stdin.
fn reads_stdin(args: &SendArgs) -> bool {
    let dash = |p: &Option<std::path::PathBuf>| p.as_deref() == Some(Path::new("-"));
    dash(&args.html_file) || args.attach.iter().any(|p| p == Path::new("-"))
}

/// `type/subtype`, as RFC 2045 §5.1 writes it.
fn check_mime_type(kind: &str) -> Result<(), String> {
    let token =
        |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b));
    match kind.split_once('/') {
        Some((main, sub)) if token(main) && token(sub) => Ok(()),
        _ => Err("write it as type/subtype, such as application/pdf".into()),
    }
}

/// RFC 5321 §4.1.1.1: a domain or an address literal; one word, no controls.
fn check_client_name(name: &str) -> Result<(), String> {
    if name.contains(['\r', '\n']) {
        return Err("it contains a line break (CR or LF), which would inject a command".into());
    }
    if name.is_empty() {
        return Err("it is empty".into());
    }
    if name.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err("it contains a space or control character".into());
    }
    Ok(())
}

/// `user@host` from the environment when no --from is given, as swaks does.
fn default_sender(machine_name: Option<&str>) -> Mailbox {
    let user = ["USER", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|u| check_address(&format!("{u}@x")).is_ok()))
        .unwrap_or_else(|| "postie".into());
    Mailbox { name: None, address: format!("{user}@{}", machine_name.unwrap_or("localhost")) }
}

fn read_input(path: &Path, stdin: &mut dyn Read) -> Result<Vec<u8>, Error> {
    if path == Path::new("-") {
        let mut data = Vec::new();
        stdin.read_to_end(&mut data).map_err(|cause| Error::Input { path: "stdin".into(), cause })?;
        return Ok(data);
    }
    fs::read(path).map_err(|cause| Error::Input { path: display_path(path), cause })
}

fn display_path(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

/// Carry out a send plan: route, connect, run the dialogues, summarise.
pub fn send(plan: &SendPlan) -> anyhow::Result<Exit> {
    if plan.dump {
        return dump(plan);
    }
    let stdout = io::stdout();
    let mut transcript;
    let mut json;
    let mut discard = Discard;
    let sink: &mut dyn Sink = if plan.quiet {
        &mut discard
    } else if plan.output.json {
        json = JsonLines::new(stdout.lock());
        &mut json
    } else {
        transcript = HumanTranscript::with_style(stdout.lock(), plan.output.style);
        &mut transcript
    };
    let outgoing = Outgoing { content: &plan.message, facts: plan.facts };
    let mut session = plan.session.clone();
    session.progress = progress_bar(plan);
    let report = match &plan.server {
        Some(server) => {
            let envelope = Envelope { reverse_path: &plan.reverse_path, recipients: &plan.recipients };
            match deliver::via_server(server, &plan.dns, envelope, &outgoing, &session, sink) {
                Ok(report) => report,
                // These name the server already.
                Err(
                    error @ (Error::Connect { .. }
                    | Error::HostUnknown(_)
                    | Error::Dns(_)
                    | Error::Usage(_)
                    | Error::Tls { .. }
                    | Error::AuthNotAttempted(_)),
                ) => return Err(error.into()),
                Err(error) => {
                    let target = format!("sending through {}:{}", server.host, plan.session.port);
                    return Err(anyhow::Error::new(error).context(target));
                }
            }
        }
        None => {
            let dns = plan.dns.resolver().map_err(|failure| Error::Dns(failure.to_string()))?;
            deliver::via_mx(&dns, &plan.reverse_path, &plan.recipients, &outgoing, &session, sink)
        }
    };
    if let Some(bar) = &session.progress {
        bar.finish_and_clear();
    }
    let mut report = report;
    report.stopped_after = session.stop.map(|stop| stop.point);
    summarise(&report, sink);
    report_failures(&report);
    Ok(report.exit())
}

/// A progress bar on stderr while a message over 1 MiB goes out, when stderr is a terminal and not quiet.
fn progress_bar(plan: &SendPlan) -> Option<indicatif::ProgressBar> {
    if plan.quiet || plan.facts.size <= 1 << 20 || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(plan.facts.size);
    let style = indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The closing events: every recipient, what became of it and who said so, then the summary.
fn summarise(report: &Report, sink: &mut dyn Sink) {
    for recipient in &report.recipients {
        let (status, phase, reply, reason) = match &recipient.outcome {
            Outcome::Replied { phase, reply } => {
                let status = if report.succeeded(recipient) {
                    if report.stopped_after.is_some() {
                        "accepted"
                    } else {
                        "delivered"
                    }
                } else if reply.is_transient() {
                    "deferred"
                } else {
                    "refused"
                };
                (status, Some(phase.to_string()), Some(reply.clone()), None)
            }
            Outcome::Failed { permanent: true, reason } => ("failed", None, None, Some(reason.clone())),
            Outcome::Failed { permanent: false, reason } => ("unreachable", None, None, Some(reason.clone())),
        };
        sink.emit(Event::Recipient {
            recipient: recipient.recipient.clone(),
            status,
            phase,
            host: recipient.host.clone(),
            reply,
            reason,
        });
    }
    sink.emit(Event::Summary {
        delivered: report.delivered_count(),
        total: report.recipients.len(),
        exit: report.exit().code(),
        stopped_after: report.stopped_after.map(|point| point.to_string()),
    });
}

/// One stderr line per recipient that did not get the message: scripts and quiet mode see them too.
fn report_failures(report: &Report) {
    let mut stderr = io::stderr().lock();
    for recipient in report.recipients.iter().filter(|r| !report.succeeded(r)) {
        let _ = match &recipient.outcome {
            Outcome::Replied { phase, reply } => {
                writeln!(stderr, "postie: error: {phase} refused {}: {reply}", recipient.recipient)
            }
            Outcome::Failed { reason, .. } => writeln!(stderr, "postie: error: {}: {reason}", recipient.recipient),
        };
    }
}

/// `--dump`: the exact message on stdout, the envelope on stderr, nothing sent.
fn dump(plan: &SendPlan) -> anyhow::Result<Exit> {
    if !plan.quiet {
        let mut stderr = io::stderr().lock();
        writeln!(stderr, "* envelope: MAIL FROM:<{}>", plan.reverse_path)?;
        for recipient in &plan.recipients {
            writeln!(stderr, "* envelope: RCPT TO:<{recipient}>")?;
        }
    }
    to_stdout(|out| plan.message.write_to(out)).context("writing the message")?;
    Ok(Exit::Success)
}

/// Write a whole report to stdout. A reader that went away (`| head`) is not an error: output ends quietly.
pub fn to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn text_of(message: &Message) -> String {
        let mut bytes = Vec::new();
        message.write_to(&mut bytes).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    fn plan(args: &[&str], stdin: &[u8]) -> Result<SendPlan, Error> {
        let mut argv = vec!["postie", "send"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).expect("flags parse");
        let Command::Send(send) = cli.command else { panic!("not send") };
        plan_send(*send, &mut &stdin[..], false)
    }

    #[test]
    fn envelope_includes_cc_and_bcc_in_order() {
        let plan = plan(
            &["-s", "127.0.0.1:2525", "--from", "a@x.test", "b@x.test", "--cc", "c@x.test", "--bcc", "d@x.test"],
            b"",
        )
        .unwrap();
        assert_eq!(plan.recipients, ["b@x.test", "c@x.test", "d@x.test"]);
        assert_eq!(plan.session.port, 2525);
        let text = text_of(&plan.message);
        assert!(text.contains("Cc: <c@x.test>") || text.contains("Cc: c@x.test"), "{text}");
        assert!(!text.contains("d@x.test"), "a Bcc recipient never appears in the message");
    }

    #[test]
    fn null_sender_two_ways() {
        assert_eq!(plan(&["-s", "h", "--from", "", "b@x.test"], b"").unwrap().reverse_path, "");
        assert_eq!(plan(&["-s", "h", "--null-sender", "b@x.test"], b"").unwrap().reverse_path, "");
    }

    #[test]
    fn stdin_body_and_empty_stdin() {
        let piped = plan(&["-s", "h", "b@x.test"], b"report attached\n").unwrap();
        assert!(text_of(&piped.message).ends_with("\r\n\r\nreport attached\r\n"));
        let empty = plan(&["-s", "h", "b@x.test"], b"").unwrap();
        assert!(text_of(&empty.message).ends_with("\r\n\r\nThis is a test mailing\r\n"));
    }

    #[test]
    fn port_conflict() {
        let error = plan(&["-s", "h:25", "-p", "26", "b@x.test"], b"").unwrap_err();
        assert_eq!(error.to_string(), "--server gives port 25 but --port gives 26");
    }
}
