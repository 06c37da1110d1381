//! `postie catch`: the flags become a [`catch::Plan`] (faults, extensions, TLS, AUTH, store), the listeners
//! are bound, and each finished session is rendered as one block on stdout. `postie: listening on ADDRESS`
//! goes to stderr first, one line per listener, so a script (or a test) can wait for it and learn the port.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::catch::{self, Plan, Store};
use crate::cli::CatchArgs;
use crate::error::{Error, Exit};
use crate::event::CaughtSession;
use crate::net::listen::{self, CertificateSource};
use crate::render;
use crate::secret::{Problem, Source};
use crate::smtp::server::data::EndOfData;
use crate::smtp::server::{AuthPolicy, Fault, Faults, Offer, Settings, Step};

/// Set by SIGINT and SIGTERM: stop cleanly.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

pub fn run(args: &CatchArgs) -> anyhow::Result<Exit> {
    let addresses = args
        .listen
        .iter()
        .map(|text| {
            text.parse::<SocketAddr>().map_err(|_| {
                Error::Usage(format!(
                    "invalid --listen {text:?}: give ADDRESS:PORT, such as 127.0.0.1:2525 or [::1]:2525"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let plan = plan(args)?;
    // Before the listening line: whoever reads it may stop catch at once, and must find it ready to stop cleanly.
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
    let listeners = catch::bind(&addresses, &plan.store).map_err(|e| Error::Listen(e.to_string()))?;
    let json = args.json;
    for listener in &listeners {
        let address = listener.local_addr().map_or_else(|_| "?".to_string(), |a| a.to_string());
        eprintln!("postie: listening on {address}");
        if json {
            println!("{}", serde_json::json!({"type": "listening", "address": address}));
        }
        if listener.local_addr().is_ok_and(|a| !a.ip().is_loopback()) {
            eprintln!(
                "postie: warning: {address} is not a loopback address: anyone who can reach it can hand it mail \
                 (nothing is relayed, but everything is shown and stored)"
            );
        }
    }
    let show_data = args.show_data;
    let report = move |session: CaughtSession| {
        let text = if json {
            render::catch::json_lines(&session, show_data)
        } else {
            render::catch::human(&session, show_data)
        };
        let _ = super::to_stdout(|out| out.write_all(text.as_bytes()));
    };
    let summary = catch::serve(&plan, listeners, &STOP, &report);
    let (m, s) = (if summary.messages == 1 { "" } else { "s" }, if summary.sessions == 1 { "" } else { "s" });
    let why = if summary.count_reached { "" } else { " (stopped)" };
    eprintln!("postie: caught {} message{m} in {} session{s}{why}", summary.messages, summary.sessions);
    let _ = io::stdout().flush();
    Ok(Exit::Success)
}

fn plan(args: &CatchArgs) -> Result<Plan, Error> {
    // The name goes into every greeting and EHLO reply: one word of printable text, or a reply could be split.
    if args.hostname.is_empty() || args.hostname.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Usage(format!(
            "invalid --hostname {:?}: give one name, such as mx.example.test",
            args.hostname
        )));
    }
    let mut faults = Faults::default();
    for text in &args.reply {
        let (step, fault) =
            parse_reply(text).map_err(|reason| Error::Usage(format!("invalid --reply {text:?}: {reason}")))?;
        faults.replies.retain(|(s, _)| *s != step);
        faults.replies.push((step, fault));
    }
    if let Some(code) = &args.greeting {
        let (step, fault) = parse_reply(&format!("greeting={code}"))
            .map_err(|reason| Error::Usage(format!("invalid --greeting {code:?}: {reason}")))?;
        faults.replies.push((step, fault));
    }
    for text in &args.delay {
        let invalid = |reason: &str| Error::Usage(format!("invalid --delay {text:?}: {reason}"));
        let (step, duration) =
            text.split_once('=').ok_or_else(|| invalid("give STEP=DURATION, such as greeting=3s"))?;
        let step = parse_step(step).map_err(|reason| invalid(&reason))?;
        faults.delays.push((step, parse_duration(duration).map_err(|reason| invalid(&reason))?));
    }
    for text in &args.drop {
        let step = parse_step(text).map_err(|reason| Error::Usage(format!("invalid --drop {text:?}: {reason}")))?;
        faults.drops.push(step);
    }
    let certificate = match (&args.tls, &args.tls_cert, &args.tls_key) {
        (Some(_), _, _) => {
            let mut names = vec![args.hostname.clone(), "localhost".into(), "127.0.0.1".into(), "::1".into()];
            names.dedup();
            Some(CertificateSource::SelfSigned(names))
        }
        (None, Some(cert), Some(key)) => Some(CertificateSource::Files { cert: cert.clone(), key: key.clone() }),
        _ => None,
    };
    if certificate.is_none() && (args.implicit_tls || args.require_tls) {
        let flag = if args.implicit_tls { "--implicit-tls" } else { "--require-tls" };
        return Err(Error::Usage(format!(
            "{flag} needs a certificate: give --tls self-signed or --tls-cert and --tls-key"
        )));
    }
    let tls = certificate.as_ref().map(listen::server_config).transpose().map_err(super::setup_error)?;
    let auth = auth_policy(&args.auth)?;
    let store = match (&args.maildir, &args.mbox) {
        (Some(dir), _) => Store::Maildir(dir.clone()),
        (None, Some(file)) => Store::Mbox(file.clone()),
        (None, None) => Store::None,
    };
    let settings = Settings {
        hostname: args.hostname.clone(),
        offer: Offer {
            pipelining: !args.no_pipelining,
            size: !args.no_size,
            eight_bit_mime: !args.no_8bitmime,
            smtputf8: !args.no_smtputf8,
            enhanced_status_codes: !args.no_enhanced_status_codes,
            dsn: !args.no_dsn,
            chunking: !args.no_chunking,
        },
        max_message: args.max_size,
        max_line: args.max_line_length as usize,
        max_recipients: args.max_recipients.max(1) as usize,
        starttls: tls.is_some() && !args.implicit_tls,
        require_tls: args.require_tls,
        auth,
        lmtp: args.lmtp,
        end_of_data: if args.end_of_data == "lenient" { EndOfData::Lenient } else { EndOfData::Strict },
        faults,
    };
    Ok(Plan {
        settings: Arc::new(settings),
        tls,
        implicit_tls: args.implicit_tls,
        store,
        count: if args.once { Some(1) } else { args.count },
        max_sessions: args.max_sessions as usize,
        timeout: args.timeout,
        show_data: args.show_data,
    })
}

fn parse_step(name: &str) -> Result<Step, String> {
    Step::parse(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = Step::ALL.iter().map(|(_, name)| *name).collect();
        format!("{:?} is not a step: give one of {}, or after-data", name.trim(), names.join(", "))
    })
}

/// `STEP=CODE[ TEXT]`.
pub fn parse_reply(text: &str) -> Result<(Step, Fault), String> {
    let (step, reply) = text.split_once('=').ok_or("give STEP=CODE[ TEXT], such as rcpt=550")?;
    let step = parse_step(step)?;
    let (code, rest) = match reply.split_once(' ') {
        Some((code, rest)) => (code, Some(rest.trim())),
        None => (reply, None),
    };
    let digits = code.as_bytes();
    let valid = digits.len() == 3
        && (b'2'..=b'5').contains(&digits[0])
        && (b'0'..=b'5').contains(&digits[1])
        && digits[2].is_ascii_digit();
    if !valid {
        return Err(format!("{code:?} is not a reply code (three digits, 200 to 559, RFC 5321 §4.2)"));
    }
    let text = rest.filter(|r| !r.is_empty()).map(String::from);
    if text.as_deref().is_some_and(|t| t.chars().any(char::is_control)) {
        return Err("the text has a control character".into());
    }
    Ok((step, Fault { code: code.parse().expect("three digits"), text }))
}

/// `3s`, `500ms`, `2m`, or plain seconds (`1.5`); at most an hour.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| format!("{text:?} is not a duration such as 3s or 500ms"))?;
    let seconds = value * scale;
    if !(seconds.is_finite() && (0.0..=3600.0).contains(&seconds)) {
        return Err("a delay must be between 0 and 1 hour".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `--auth any` or `--auth USER:SECRET` (each secret read now, so a missing one fails before listening).
fn auth_policy(values: &[String]) -> Result<Option<AuthPolicy>, Error> {
    if values.is_empty() {
        return Ok(None);
    }
    if values.iter().any(|v| v == "any") {
        if values.len() > 1 {
            return Err(Error::Usage("--auth any accepts everyone: give it alone".into()));
        }
        return Ok(Some(AuthPolicy::Any));
    }
    let mut users = Vec::new();
    for value in values {
        let (user, secret) = value.split_once(':').ok_or_else(|| {
            Error::Usage(format!("invalid --auth {value:?}: give any, or USER:SECRET such as alice:env:PW"))
        })?;
        if user.is_empty() {
            return Err(Error::Usage(format!("invalid --auth {value:?}: the user is empty")));
        }
        let source = Source::parse(secret, false)
            .map_err(|reason| Error::Usage(format!("invalid --auth for {user}: {reason}")))?;
        let password = source.read().map_err(|problem| match problem {
            Problem::File { path, cause } => Error::Input { path, cause },
            other => Error::Usage(format!("--auth for {user}: {other}")),
        })?;
        users.push((user.to_string(), password));
    }
    Ok(Some(AuthPolicy::Only(users)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_and_durations() {
        assert_eq!(parse_reply("rcpt=550").unwrap(), (Step::Rcpt, Fault { code: 550, text: None }));
        assert_eq!(
            parse_reply("dot=451 4.3.0 try later").unwrap(),
            (Step::Dot, Fault { code: 451, text: Some("4.3.0 try later".into()) })
        );
        assert_eq!(parse_reply("after-data=421").unwrap().0, Step::Dot);
        assert!(parse_reply("rcpt").unwrap_err().contains("STEP=CODE"));
        assert!(parse_reply("rcpt=55").unwrap_err().contains("not a reply code"));
        assert!(parse_reply("rcpt=650").is_err());
        assert!(parse_reply("nowhere=550").unwrap_err().contains("not a step"));
        assert_eq!(parse_duration("3s").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("2h").is_err());
    }
}
