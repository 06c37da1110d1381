//! The plan of `send`: every flag checked and turned into plain, validated data before any connection is
//! made, so bad input never sends anything. Nothing below `app` sees clap.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::{dns_settings, families, output_style, setup_error, Output};
use crate::address::{check_address, parse_mailbox, Mailbox};
use crate::cli::{AttachExtras, AuthArgs, MechanismArg, SendArgs, StepArg, TlsArgs, TlsModeArg, VerifyArg};
use crate::deliver::{Require, SessionOptions};
use crate::error::Error;
use crate::hostname;
use crate::message::{self, check_header_value, parse_header, Attachment, Composition, Message};
use crate::net::tls::{TlsClient, TlsOptions, Verify};
use crate::net::ServerSpec;
use crate::route::dns::DnsSettings;
use crate::secure::sts::Fetch as StsFetch;
use crate::smtp::auth::{Mechanism, Secret};
use crate::smtp::codec::Facts;
use crate::smtp::extensions::{check_envid, parse_notify, Dsn};
use crate::smtp::settings::{Credentials, Stop, StopPoint, Timeouts, TlsPolicy};

/// Everything `send` needs, checked.
#[derive(Debug)]
pub struct SendPlan {
    /// `--server`; `None` routes each recipient domain over its MX records.
    pub server: Option<ServerSpec>,
    /// `--server unix:PATH` or `--pipe`: a wire that is not routed.
    pub local: Option<super::connect::Target>,
    pub dns: DnsSettings,
    /// Empty for the null sender.
    pub reverse_path: String,
    pub recipients: Vec<String>,
    pub message: Message,
    pub facts: Facts,
    pub session: SessionOptions,
    /// No --from and no domain for this machine: the sender is `user@localhost`, worth a warning.
    pub sender_guessed: bool,
    pub quiet: bool,
    pub dump: bool,
    pub output: Output,
    /// Where the OAuth access token came from, when postie got it itself.
    pub oauth: Option<super::oauth::Used>,
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
    if let Some(bcc) =
        args.headers.iter().find(|h| h.split(':').next().is_some_and(|n| n.trim().eq_ignore_ascii_case("bcc")))
    {
        return Err(usage(
            "--header",
            bcc,
            "a Bcc header would show the address to every recipient; give it with --bcc, which adds a recipient and no header".into(),
        ));
    }
    if args.read_recipients && args.data.is_none() && stdin_is_terminal {
        return Err(Error::Usage(
            "-t reads a complete message from stdin, which is a terminal here; did you mean --to?".into(),
        ));
    }
    // --body @FILE (curl's -d @file habit); @- is stdin.
    let body_file = match args.body.as_deref().and_then(|b| b.strip_prefix('@')) {
        Some(path) if !path.is_empty() => Some(std::path::PathBuf::from(path)),
        _ => args.body_file.clone(),
    };
    let body_text = args.body.clone().filter(|b| !b.starts_with('@') || b == "@");
    if let Some(subject) = &args.subject {
        check_header_value(subject).map_err(|reason| usage("--subject", subject, reason))?;
    }
    if let Some(name) = &args.helo {
        crate::address::check_helo_name(name).map_err(|reason| usage("--helo", name, reason))?;
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
        + [&args.data, &body_file, &args.html_file].iter().filter(|p| p.as_deref() == Some(Path::new("-"))).count()
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
    // Which type and name go with which file: the ones that follow it on the command line (or, for callers
    // that parsed without positions, the ones in the same place in their lists).
    let extras: Vec<AttachExtras> = match &args.attach_order {
        Some(Ok(extras)) => extras.clone(),
        Some(Err(problem)) => return Err(Error::Usage(problem.clone())),
        None => {
            if args.attach_type.len() > args.attach.len() || args.attach_name.len() > args.attach.len() {
                return Err(Error::Usage(
                    "more --attach-type or --attach-name than --attach: each describes the --attach before it".into(),
                ));
            }
            (0..args.attach.len())
                .map(|i| AttachExtras {
                    content_type: args.attach_type.get(i).cloned(),
                    name: args.attach_name.get(i).cloned(),
                })
                .collect()
        }
    };
    // curl's URL forms: smtp://HOST[:PORT], and smtps:// for implicit TLS on port 465 (RFC 8314).
    let (server_text, implicit) = match args.server.as_deref() {
        Some(text) => match text.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("smtp") => (Some(rest.trim_end_matches('/')), false),
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("smtps") => (Some(rest.trim_end_matches('/')), true),
            Some((scheme, _)) => {
                return Err(usage("--server", text, format!("{scheme}:// is not smtp:// or smtps://")));
            }
            None => (Some(text), false),
        },
        None => (None, false),
    };
    if implicit && args.tls.tls.is_some_and(|mode| mode != TlsModeArg::Implicit) {
        return Err(Error::Usage("smtps:// is implicit TLS: it cannot be combined with another --tls".into()));
    }
    let tls_mode = if implicit { Some(TlsModeArg::Implicit) } else { args.tls.tls };
    let require = match tls_mode {
        Some(TlsModeArg::Dane) => Some(Require::Dane),
        Some(TlsModeArg::MtaSts) => Some(Require::MtaSts),
        _ => None,
    };
    if require.is_some() && args.server.is_some() {
        return Err(Error::Usage(
            "--tls dane and --tls mta-sts apply to recipient domains routed over MX: leave out --server".into(),
        ));
    }
    let verify_dane = args.tls.tls_verify == Some(VerifyArg::Dane);
    if verify_dane && args.server.is_none() {
        return Err(Error::Usage(
            "--tls-verify dane checks a --server's TLSA records; without --server, use --tls dane".into(),
        ));
    }
    if (verify_dane || require == Some(Require::Dane))
        && !args.route.dnssec
        && args.route.trust_anchor.is_none()
        && !args.route.dns_trust_ad
    {
        return Err(Error::Usage("DANE needs DNSSEC: add --dnssec, --trust-anchor FILE or --dns-trust-ad".into()));
    }
    let protocol = super::connect::Protocol::from_args(&args.protocol)?;
    let local = match (server_text, &args.protocol.pipe) {
        (Some(text), None) if text.starts_with("unix:") => {
            Some(super::connect::Target::parse(Some(text), None, "--server")?)
        }
        (None, Some(command)) => Some(super::connect::Target::parse(None, Some(command), "--server")?),
        (Some(_), Some(_)) => return Err(Error::Usage("--pipe replaces --server: give one of them".into())),
        _ => None,
    };
    let server_text = if local.is_some() { None } else { server_text };
    let default_port = protocol.default_port();
    let (server, port) = match server_text {
        Some(text) => {
            let server = text.parse::<ServerSpec>().map_err(|reason| usage("--server", text, reason))?;
            let port = match (server.port, args.route.port) {
                (Some(in_server), Some(flag)) if in_server != flag => {
                    return Err(Error::Usage(format!("--server gives port {in_server} but --port gives {flag}")));
                }
                (Some(port), _) | (None, Some(port)) => port,
                (None, None) if implicit => 465,
                (None, None) => default_port,
            };
            (Some(server), port)
        }
        None => (None, args.route.port.unwrap_or(default_port)),
    };
    let dns = dns_settings(&args.route)?;
    let server_host = server.as_ref().map(|server| match &server.host {
        crate::net::Host::Name(name) => name.clone(),
        crate::net::Host::Ip(ip) => ip.to_string(),
    });

    // The machine's name (a resolver lookup) is needed only for a default sender or a default EHLO name.
    let machine_name = if from.is_none() || args.helo.is_none() { hostname::fully_qualified() } else { None };
    let sender_guessed = from.is_none() && machine_name.is_none() && !null_sender;
    let mut from = from.unwrap_or_else(|| default_sender(machine_name.as_deref()));
    // sendmail -F: the full name for a From that has none.
    if let (Some(name), None) = (&args.sendmail_full_name, &from.name) {
        check_header_value(name).map_err(|reason| usage("-F", name, reason))?;
        from.name = Some(name.clone());
    }
    let mut recipients: Vec<String> = to.iter().chain(&cc).chain(&bcc).map(|m| m.address.clone()).collect();
    let message = if args.read_recipients || args.data.is_some() {
        let path = args.data.clone().unwrap_or_else(|| "-".into());
        let data = open_input(&path, stdin)?;
        if data.is_empty() {
            return Err(Error::BadInput(format!("the message in {} is empty", display_path(&path))));
        }
        if args.read_recipients || args.sendmail {
            // Only the header section is read into memory (and rewritten); the body stays where it is.
            let head = data
                .head(HEADER_SECTION_LIMIT, |bytes, complete| message::header_section_end(bytes, complete).is_some())
                .map_err(|cause| Error::Input { path: display_path(&path), cause })?;
            let complete = head.len() as u64 == data.len();
            let flag = if args.read_recipients { "-t" } else { "sendmail" };
            let end = match message::header_section_end(&head, complete) {
                Some(end) => end,
                None if complete => head.len(),
                None => {
                    return Err(Error::BadInput(format!(
                        "{flag}: the first {} MiB of {} hold no empty line: the header section is too long",
                        HEADER_SECTION_LIMIT >> 20,
                        display_path(&path)
                    )))
                }
            };
            let mut header = head[..end].to_vec();
            drop(head);
            if args.read_recipients {
                let (found, stripped) =
                    message::read_recipients(&header).map_err(|reason| Error::BadInput(format!("-t: {reason}")))?;
                for address in found {
                    if !recipients.iter().any(|r| r.eq_ignore_ascii_case(&address)) {
                        recipients.push(address);
                    }
                }
                if recipients.is_empty() {
                    return Err(Error::BadInput("-t: the message has no To, Cc or Bcc address".into()));
                }
                header = stripped;
            }
            // As sendmail does: a Date and a Message-ID when missing, and a From from -f (or, as a drop-in, from
            // the sender it uses anyway).
            let given_from = (args.sendmail || args.from.as_deref().is_some_and(|f| !f.is_empty())).then_some(&from);
            header = message::complete_headers(&header, given_from, SystemTime::now(), from.domain())
                .map_err(|reason| Error::BadInput(format!("{flag}: {reason}")))?;
            Message::Rewritten { header, body: data.after(end) }
        } else {
            Message::Raw(data)
        }
    } else {
        let body = match (&body_file, &body_text) {
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
        for (i, given) in args.attach.iter().enumerate() {
            let spec = attach_spec(given).map_err(|reason| usage("--attach", &given.to_string_lossy(), reason))?;
            let path = &spec.path;
            let data = open_input(path, stdin)?;
            let extra = extras.get(i).cloned().unwrap_or_default();
            let name = match spec.name.or(extra.name) {
                Some(name) => name.clone(),
                None if path == Path::new("-") => "stdin".into(),
                None => path.file_name().map_or_else(|| "attachment".into(), |n| n.to_string_lossy().into_owned()),
            };
            let content_type = match spec.content_type.or(extra.content_type) {
                Some(kind) => {
                    check_mime_type(&kind).map_err(|reason| usage("--attach-type", &kind, reason))?;
                    kind
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
    let facts = message.measure().map_err(|cause| Error::Input { path: "the message".into(), cause })?;
    let reverse_path = if null_sender { String::new() } else { from.address.clone() };
    let (credentials, oauth) =
        credentials(&args.auth, server_host.as_deref(), &args.tls.ca_file, stdin, stdin_is_terminal)?;
    Ok(SendPlan {
        server,
        local,
        dns,
        reverse_path,
        recipients,
        message,
        facts,
        session: SessionOptions {
            lmtp: protocol.lmtp,
            xclient: protocol.xclient.clone(),
            proxy: protocol.proxy,
            socks: super::connect::socks(&args.proxy)?.map(std::sync::Arc::new),
            dsn,
            pipelining: !args.no_pipelining,
            bdat: args.bdat,
            progress: None,
            stop: match (args.quit_after.map(stop_point), args.drop_after.map(stop_point)) {
                (Some(StopPoint::Data), _) => {
                    return Err(Error::Usage(
                        "--quit-after data is not a step: use --drop-after data, or --quit-after rcpt".into(),
                    ))
                }
                (Some(point), _) => Some(Stop { point, drop: false }),
                (None, Some(point)) => Some(Stop { point, drop: true }),
                (None, None) => None,
            },
            tls_policy: tls_mode.filter(|_| require.is_none()).map(tls_policy),
            require: if verify_dane { Some(Require::Dane) } else { require },
            sts: Some(StsFetch { ca_files: args.tls.ca_file.clone(), timeout: args.route.connect_timeout }),
            tls: tls_client(&args.tls)?,
            credentials,
            allow_plaintext_auth: args.auth.allow_plaintext_auth,
            allow_unverified_auth: args.auth.allow_plaintext_auth
                || args.tls.insecure
                || args.tls.tls_verify == Some(VerifyArg::Insecure),
            tls_name: args.tls.tls_name.clone(),
            give_up_at: args.max_time.map(|limit| (std::time::Instant::now() + limit, limit)),
            resolve: args
                .resolve
                .iter()
                .map(|entry| parse_resolve(entry).map_err(|reason| usage("--resolve", entry, reason)))
                .collect::<Result<_, _>>()?,
            port,
            connect_timeout: args.route.connect_timeout,
            bind: args.route.bind,
            families: families(&args.route),
            timeouts: args.timeout.map_or_else(Timeouts::rfc5321, Timeouts::uniform),
            show_data: args.show_data,
            client_name: args.helo.or(machine_name),
        },
        sender_guessed,
        quiet: args.quiet,
        dump: args.dump,
        output: output_style(&args.output),
        oauth,
    })
}

/// The TLS client, unless TLS is off.
pub(super) fn tls_client(args: &TlsArgs) -> Result<Option<Arc<TlsClient>>, Error> {
    if args.tls == Some(TlsModeArg::None) {
        return Ok(None);
    }
    let verify = match (args.insecure, args.tls_verify) {
        (true, _) | (_, Some(VerifyArg::Insecure)) => Some(Verify::Insecure),
        (_, Some(VerifyArg::Report)) => Some(Verify::Report),
        (_, Some(VerifyArg::Strict)) => Some(Verify::Strict),
        // Decided for the smart host by its TLSA records (deliver::via_server).
        (_, Some(VerifyArg::Dane)) => None,
        (false, None) => None,
    };
    let options = TlsOptions {
        verify,
        ca_files: &args.ca_file,
        client_cert: args.tls_cert.as_deref().zip(args.tls_key.as_deref()),
        min_version_13: args.tls_min_version == "1.3",
    };
    if verify == Some(Verify::Insecure) {
        eprintln!("postie: warning: certificates are not verified (--insecure): a server in the middle goes unnoticed");
    }
    TlsClient::new(&options).map(|client| Some(Arc::new(client))).map_err(setup_error)
}

/// `HOST:PORT:ADDRESS`, the address bare or in brackets.
fn parse_resolve(entry: &str) -> Result<(String, u16, std::net::IpAddr), String> {
    let mut parts = entry.splitn(3, ':');
    let (Some(host), Some(port), Some(address)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("write it as HOST:PORT:ADDRESS".into());
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    let port = crate::net::parse_port(port)?;
    let address = address
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("{address:?} is not an IP address"))?;
    Ok((host.to_string(), port, address))
}

pub fn tls_policy(mode: TlsModeArg) -> TlsPolicy {
    match mode {
        TlsModeArg::Auto => TlsPolicy::Opportunistic,
        TlsModeArg::Required => TlsPolicy::Required,
        TlsModeArg::None => TlsPolicy::Never,
        TlsModeArg::Implicit => TlsPolicy::Implicit,
        // What the domain publishes decides, host by host (deliver::via_mx).
        TlsModeArg::Dane | TlsModeArg::MtaSts => TlsPolicy::Opportunistic,
    }
}

fn stop_point(step: StepArg) -> StopPoint {
    match step {
        StepArg::Connect => StopPoint::Connect,
        StepArg::Banner => StopPoint::Banner,
        StepArg::Ehlo => StopPoint::Ehlo,
        StepArg::Tls => StopPoint::Tls,
        StepArg::Auth => StopPoint::Auth,
        StepArg::Mail => StopPoint::Mail,
        StepArg::Rcpt => StopPoint::Rcpt,
        StepArg::Data => StopPoint::Data,
    }
}

fn mechanism(arg: MechanismArg) -> Mechanism {
    match arg {
        MechanismArg::Plain => Mechanism::Plain,
        MechanismArg::Login => Mechanism::Login,
        MechanismArg::CramMd5 => Mechanism::CramMd5,
        MechanismArg::Xoauth2 => Mechanism::Xoauth2,
        MechanismArg::Oauthbearer => Mechanism::Oauthbearer,
    }
}

/// The user and secret for AUTH, from wherever the user said, never from the command line unwarned; with
/// --oauth-refresh-token, an access token postie gets itself (see `oauth`), and where it came from.
fn credentials(
    args: &AuthArgs,
    host: Option<&str>,
    ca_files: &[std::path::PathBuf],
    stdin: &mut dyn Read,
    stdin_is_terminal: bool,
) -> Result<(Option<Credentials>, Option<super::oauth::Used>), Error> {
    let given_password = secret_flag(args).is_some() || args.oauth.oauth_refresh_token.is_some();
    // ~/.netrc: asked for (--netrc), or for a --user without a password (as fetchmail reads it).
    let netrc = match (args.netrc || args.netrc_file.is_some() || (args.user.is_some() && !given_password), host) {
        (true, Some(host)) => netrc_entry(args, host)?,
        (true, None) if args.netrc || args.netrc_file.is_some() => {
            return Err(Error::Usage("--netrc looks up the --server host: give --server".into()))
        }
        _ => None,
    };
    let netrc_user = netrc.as_ref().and_then(|(entry, _)| entry.login.clone());
    let Some(user) = args.user.as_ref().or(netrc_user.as_ref()) else {
        if args.netrc || args.netrc_file.is_some() {
            let host = host.unwrap_or_default();
            return Err(Error::Usage(format!("--netrc: no login for {host} in the netrc file: give --user")));
        }
        return match secret_flag(args).or_else(|| super::oauth::flag_needing_user(&args.oauth)) {
            Some(flag) => Err(Error::Usage(format!("{flag} needs --user: say who to authenticate as"))),
            None => Ok((None, None)),
        };
    };
    if user.is_empty() || user.contains(|c: char| c.is_control()) {
        return Err(Error::Usage(format!("invalid --user {user:?}: it is empty or contains a control character")));
    }
    let from_env =
        |var: &str| std::env::var(var).map_err(|_| Error::Usage(format!("the environment variable {var} is not set")));
    let netrc_password = netrc.and_then(|(entry, path)| entry.password.map(|password| (password, path)));
    let mut oauth = None;
    let (secret, is_token) = if let Some(refreshed) = oauth_access_token(args, user, ca_files)? {
        let (token, used) = refreshed;
        oauth = Some(used);
        (token, true)
    } else if let Some(var) = &args.oauth_token_env {
        (from_env(var)?, true)
    } else if let Some(path) = &args.oauth_token_file {
        (first_line(path, stdin)?, true)
    } else if let Some(var) = &args.password_env {
        (from_env(var)?, false)
    } else if let Some(path) = &args.password_file {
        (first_line(path, stdin)?, false)
    } else if let Some(command) = &args.password_command {
        let source = crate::secret::Source::Command(command.clone());
        (source.read().map_err(|problem| Error::Config(format!("--password-command: {problem}")))?, false)
    } else if let Some((password, _)) = &netrc_password {
        (password.clone(), false)
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
    let source = [
        oauth.as_ref().map(|_| "the access token from the token endpoint".to_string()),
        (args.oauth_token_env.as_deref().map(|v| format!("the token in ${v}"))),
        (args.oauth_token_file.as_deref().map(|p| format!("the token in {}", display_path(p)))),
        (args.password_env.as_deref().map(|v| format!("the password in ${v}"))),
        (args.password_file.as_deref().map(|p| format!("the password in {}", display_path(p)))),
        (args.password_command.as_deref().map(|c| format!("the password from `{c}`"))),
        (netrc_password.as_ref().map(|(_, path)| format!("the password in {}", display_path(path)))),
    ]
    .into_iter()
    .flatten()
    .next()
    .unwrap_or_else(|| "the password".to_string());
    crate::smtp::auth::check_secret(&secret).map_err(|reason| Error::BadInput(format!("{source}: {reason}")))?;
    if let Some(mechanism) = args.auth.map(mechanism) {
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
    let credentials = Credentials {
        user: user.clone(),
        secret: Secret::new(secret),
        is_token,
        mechanism: args.auth.map(mechanism),
        show_secrets: args.show_secrets,
    };
    Ok((Some(credentials), oauth))
}

/// The first flag given that says where AUTH's secret is (other than --oauth-refresh-token, which brings its
/// own companions).
fn secret_flag(args: &AuthArgs) -> Option<&'static str> {
    [
        (args.password_env.is_some(), "--password-env"),
        (args.password_file.is_some(), "--password-file"),
        (args.password.is_some(), "--password"),
        (args.password_command.is_some(), "--password-command"),
        (args.oauth_token_env.is_some(), "--oauth-token-env"),
        (args.oauth_token_file.is_some(), "--oauth-token-file"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag))
}

/// With --oauth-refresh-token (alone among the secret flags), the access token and where it came from.
fn oauth_access_token(
    args: &AuthArgs,
    user: &str,
    ca_files: &[std::path::PathBuf],
) -> Result<Option<(String, super::oauth::Used)>, Error> {
    if args.oauth.oauth_refresh_token.is_some() {
        if let Some(flag) = secret_flag(args) {
            return Err(Error::Usage(format!(
                "--oauth-refresh-token and {flag} both give the secret for AUTH: give one of them"
            )));
        }
    }
    super::oauth::access_token(&args.oauth, user, ca_files)
}

/// The netrc entry for the host (and --user, when given), with the file it is in; none when the file is
/// missing, unless --netrc-file named it.
fn netrc_entry(args: &AuthArgs, host: &str) -> Result<Option<(crate::config::netrc::Entry, PathBuf)>, Error> {
    let Some(path) = args.netrc_file.clone().or_else(crate::config::netrc::default_path) else { return Ok(None) };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && args.netrc_file.is_none() => return Ok(None),
        Err(cause) => return Err(Error::Input { path: display_path(&path), cause }),
    };
    Ok(crate::config::netrc::find(&text, host, args.user.as_deref()).map(|entry| (entry, path)))
}

/// The first line of a secret file, without its line ending.
pub(super) fn first_line(path: &Path, stdin: &mut dyn Read) -> Result<String, Error> {
    let bytes = read_input(path, stdin)?;
    let text =
        String::from_utf8(bytes).map_err(|_| Error::BadInput(format!("{} is not UTF-8 text", display_path(path))))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(Error::BadInput(format!("{} is empty", display_path(path))));
    }
    Ok(line)
}

/// Whether some flag already takes the message or a part of it from stdin.
fn reads_stdin(args: &SendArgs) -> bool {
    let dash = |p: &Option<std::path::PathBuf>| p.as_deref() == Some(Path::new("-"));
    dash(&args.html_file) || args.attach.iter().any(|p| p == Path::new("-"))
}

/// One `--attach` value: a path, with `;type=` and `;name=` after it as curl's -F writes them. A path that
/// exists as written is taken whole, semicolons and all.
struct AttachSpec {
    path: std::path::PathBuf,
    content_type: Option<String>,
    name: Option<String>,
}

fn attach_spec(given: &Path) -> Result<AttachSpec, String> {
    let whole = AttachSpec { path: given.to_path_buf(), content_type: None, name: None };
    let Some(text) = given.to_str() else { return Ok(whole) };
    if !text.contains(';') || given.exists() {
        return Ok(whole);
    }
    let mut parts = text.split(';');
    let mut spec = AttachSpec { path: parts.next().unwrap_or_default().into(), content_type: None, name: None };
    for part in parts {
        match part.split_once('=') {
            Some(("type", value)) => spec.content_type = Some(value.to_string()),
            Some(("name", value)) => spec.name = Some(value.to_string()),
            _ => return Err(format!("{part:?} is not type=TYPE or name=NAME (write PATH;type=TYPE;name=NAME)")),
        }
    }
    Ok(spec)
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

/// The most of a big `--data` file read to find its header section (-t, sendmail). Postfix refuses more
/// than 100 KiB of headers by default (header_size_limit).
const HEADER_SECTION_LIMIT: usize = 1 << 20;

/// A file the message is made of, left on disk when it is big (stdin is spooled).
fn open_input(path: &Path, stdin: &mut dyn Read) -> Result<message::Input, Error> {
    message::Input::open(path, stdin).map_err(|cause| Error::Input { path: display_path(path), cause })
}

fn display_path(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::smtp::codec::Content;
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
    fn t_with_a_spooled_message_reads_only_its_header_section() {
        // Bigger than what is held in memory: stdin is spooled, the header section read and rewritten, the
        // body streamed from the spool with its line ends normalised, as when the whole message was read.
        let header = "To: bob@x.test\nBcc: secret@x.test,\n other@x.test\nSubject: big\nDate: Tue, 24 Nov 2026 \
                      10:00:00 +0000\nMessage-ID: <1@x.test>\n\n";
        let mut message = header.as_bytes().to_vec();
        while message.len() <= message::input::SPOOL_ABOVE {
            message.extend_from_slice(b".a line of the body\nanother\r\nbare CR\r");
        }
        let planned = plan(&["-t", "-f", "a@x.test"], &message).unwrap();
        assert!(matches!(&planned.message, Message::Rewritten { body: message::Input::File(_), .. }));
        assert_eq!(planned.recipients, ["bob@x.test", "secret@x.test", "other@x.test"]);
        let (_, whole) = message::read_recipients(&message).unwrap();
        let expected = message::complete_headers(&whole, Some(&planned_from()), SystemTime::now(), "x.test").unwrap();
        assert!(text_of(&planned.message) == String::from_utf8(expected).unwrap(), "not as read whole");
    }

    fn planned_from() -> crate::address::Mailbox {
        crate::address::parse_mailbox("a@x.test").unwrap()
    }

    #[test]
    fn t_on_a_terminal_is_refused_with_a_hint() {
        let mut argv = vec!["postie", "send", "-s", "h", "-t"];
        argv.push("-i");
        let cli = Cli::try_parse_from(argv).expect("flags parse");
        let Command::Send(send) = cli.command else { panic!("not send") };
        let error = plan_send(*send, &mut &b""[..], true).unwrap_err();
        assert_eq!(
            error.to_string(),
            "-t reads a complete message from stdin, which is a terminal here; did you mean --to?"
        );
    }

    #[test]
    fn attachment_specs_carry_type_and_name() {
        let spec = attach_spec(Path::new("/nonexistent/q3.pdf;type=application/pdf;name=Q3 report.pdf")).unwrap();
        assert_eq!(spec.path, Path::new("/nonexistent/q3.pdf"));
        assert_eq!(spec.content_type.as_deref(), Some("application/pdf"));
        assert_eq!(spec.name.as_deref(), Some("Q3 report.pdf"));
        assert!(attach_spec(Path::new("/nonexistent/a;size=3")).is_err());
    }

    #[test]
    fn port_conflict() {
        let error = plan(&["-s", "h:25", "-p", "26", "b@x.test"], b"").unwrap_err();
        assert_eq!(error.to_string(), "--server gives port 25 but --port gives 26");
    }

    #[test]
    fn every_secret_flag_needs_a_user() {
        for flag in ["--password-env", "--password-file", "--password-command", "--oauth-token-env"] {
            let error = plan(&["-s", "h:25", flag, "x", "b@x.test"], b"").unwrap_err();
            assert_eq!(error.to_string(), format!("{flag} needs --user: say who to authenticate as"));
        }
    }
}
