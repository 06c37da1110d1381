//! `postie load`: the send flags become one message and one target (the plan `send` would make), the load
//! flags a schedule; then the run, a progress bar on a terminal, and the report.

use std::io::{self, IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::plan::{plan_send, SendPlan};
use crate::cli::LoadArgs;
use crate::deliver::{default_tls_policy, default_verify};
use crate::error::{Error, Exit};
use crate::event::Discard;
use crate::load::{self, Message, Plan, Target};
use crate::net::Host;
use crate::render::load::{json, text, Shape};
use crate::smtp::codec::Content;

/// Set by Ctrl-C: the run stops taking messages and reports.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
    // A second Ctrl-C ends postie at once (the default action).
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

pub fn run(args: LoadArgs) -> anyhow::Result<Exit> {
    let LoadArgs { count, duration, concurrency, per_connection, rate, size, max_errors, mut send } = args;
    let refuse = |what: &str| Err(Error::Usage(format!("postie load {what}")).into());
    if send.server.is_none() {
        return refuse("needs --server: it sends only where you point it, never along MX records");
    }
    if send.protocol.pipe.is_some() || send.server.as_deref().is_some_and(|s| s.starts_with("unix:")) {
        return refuse("speaks to a TCP server: --pipe and unix: are for send");
    }
    if send.dump || send.quit_after.is_some() || send.drop_after.is_some() || send.protocol.lmtp {
        return refuse("sends whole messages over SMTP: leave out --dump, --quit-after, --drop-after and --lmtp");
    }
    let json_output = send.output.json;
    let quiet = send.quiet;
    let stdin = io::stdin();
    let stdin_is_terminal = stdin.is_terminal();
    if let Some(size) = size {
        if send.body.is_some()
            || send.body_file.is_some()
            || send.data.is_some()
            || !send.attach.is_empty()
            || send.read_recipients
        {
            return refuse("--size pads the built-in message: leave out --body, --body-file, --data, --attach and -t");
        }
        send.body = Some(padding(&send, size)?);
    } else if send.body.is_none() && send.body_file.is_none() && send.data.is_none() && !send.read_recipients {
        // The built-in message, not whatever stdin holds.
        send.body = Some("A message from postie load.\n".into());
    }
    let plan = plan_send(*Box::new(send), &mut stdin.lock(), stdin_is_terminal)?;
    let target = target(&plan)?;
    let mut bytes = Vec::new();
    plan.message.write_to(&mut bytes).map_err(|cause| Error::Input { path: "the message".into(), cause })?;
    let run_id = run_id();
    let server = format!("{}:{}", plan.server.as_ref().map(|s| s.host.to_string()).unwrap_or_default(), target.port);
    let message = Message {
        reverse_path: plan.reverse_path.clone(),
        recipients: plan.recipients.clone(),
        bytes,
        facts: plan.facts,
        run: run_id.clone(),
    };
    let count = match (count, duration) {
        (None, None) => Some(100),
        (count, _) => count,
    };
    let load = Plan { target, message, count, duration, rate, concurrency, per_connection, max_errors };
    let shape = Shape { run: &run_id, server: &server, concurrency, per_connection, rate };
    unsafe {
        libc::signal(libc::SIGINT, on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
    if !json_output && !quiet {
        let what = count.map_or_else(|| "messages".to_string(), |n| format!("{n} messages"));
        let until = duration.map(|d| format!(" for {} s", d.as_secs_f64())).unwrap_or_default();
        println!("postie load: run {run_id}: {what}{until} to {server}, {concurrency} at once, up to {per_connection} per connection");
        let _ = io::stdout().flush();
    }
    let bar = (!quiet && io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(count.unwrap_or(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos} messages {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut tick = |done: u64, errors: u64, elapsed: std::time::Duration| {
        if let Some(bar) = &bar {
            bar.set_position(done);
            let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
            bar.set_message(format!("{rate:.0}/s, {errors} errors"));
        }
    };
    let report = load::run(&load, &INTERRUPTED, &mut tick);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if json_output {
        println!("{}", json(&report, &shape));
    } else if !quiet || report.stats.errors() > 0 {
        print!("{}", text(&report, &shape));
    }
    let errors = report.stats.errors();
    let tolerated = max_errors.is_some_and(|max| errors <= max);
    Ok(if errors == 0 || tolerated { Exit::Success } else { Exit::Expectation })
}

/// Where every session connects, and how.
fn target(plan: &SendPlan) -> Result<Target, Error> {
    let options = &plan.session;
    let server = plan.server.as_ref().expect("load checked --server");
    let ip = match &server.host {
        Host::Ip(ip) => *ip,
        Host::Name(name) => {
            match options.resolve.iter().find(|(host, port, _)| host == name && *port == options.port) {
                Some((_, _, ip)) => *ip,
                None => *crate::deliver::name_addresses(name, &plan.dns, options.families, &mut Discard)?
                    .first()
                    .ok_or_else(|| Error::HostUnknown(format!("{name} has no address")))?,
            }
        }
    };
    let name = server.host.to_string();
    let bare = name.trim_start_matches('[').trim_end_matches(']').to_string();
    let policy = options.tls_policy.unwrap_or_else(|| default_tls_policy(options.port));
    Ok(Target {
        address: SocketAddr::new(ip, options.port),
        server_name: name.clone(),
        tls_name: options.tls_name.clone().unwrap_or(bare),
        port: options.port,
        policy,
        tls: options.tls.clone(),
        verify: default_verify(policy),
        credentials: options.credentials.clone(),
        allow_plaintext_auth: options.allow_plaintext_auth,
        allow_unverified_auth: options.allow_unverified_auth,
        client_name: options.client_name.clone(),
        timeouts: options.timeouts,
        connect_timeout: options.connect_timeout,
        bind: options.bind,
        pipelining: options.pipelining,
        bdat: options.bdat,
        dsn: options.dsn.clone(),
    })
}

/// A body that brings the built-in message to `size` bytes: the message is built once without it to learn
/// the headers' size.
fn padding(send: &crate::cli::SendArgs, size: u64) -> Result<String, Error> {
    let mut probe = clone_for_probe(send);
    probe.body = Some(String::new());
    let empty = plan_send(probe, &mut io::empty(), true)?;
    // The X-Postie-Load header each copy carries: "X-Postie-Load: " + run + "/" + a few digits.
    let header = "X-Postie-Load: ".len() as u64 + run_id().len() as u64 + 8;
    let fixed = empty.facts.size + header;
    if size < fixed + 2 {
        return Err(Error::Usage(format!(
            "invalid --size {size}: the headers alone are {fixed} bytes; give at least {}",
            fixed + 2
        )));
    }
    // Lines of 76 characters and CRLF.
    let mut left = size - fixed;
    let mut body = String::with_capacity(left as usize);
    while left > 0 {
        let line = left.saturating_sub(2).min(76) as usize;
        body.push_str(&"x".repeat(line.max(1)));
        body.push('\n');
        left = left.saturating_sub(line.max(1) as u64 + 2);
    }
    let _ = io::empty().read(&mut []);
    Ok(body)
}

/// The send flags again, for a trial build of the message (SendArgs holds no stdin or file handles).
fn clone_for_probe(send: &crate::cli::SendArgs) -> crate::cli::SendArgs {
    let mut copy = send.clone();
    copy.quiet = true;
    copy
}

/// A run's name: the time and the process, short enough to grep for.
fn run_id() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{:x}{:04x}", now.as_secs(), std::process::id() & 0xffff)
}
