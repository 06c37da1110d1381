//! `postie smuggle`: SMTP smuggling (SEC Consult, December 2023). A server that takes something other than
//! `<CR><LF>.<CR><LF>` as the end of the message lets a sender hide a second transaction inside the first:
//! the outbound server relays it as message text, the inbound one runs it as commands. For each variant this
//! sends one message whose text holds the variant and, after it, a whole smuggled transaction (MAIL, RCPT,
//! DATA and a message), then the real end of data. A server that ended the message at the variant answers
//! the smuggled commands; one that did not sends a single reply, for the whole message.

use std::io;
use std::time::Duration;

use serde::Serialize;

use crate::address;
use crate::cli::SmuggleArgs;
use crate::error::{Error, Exit};
use crate::event::Sink;
use crate::render::human::HumanTranscript;
use crate::render::json::JsonLines;
use crate::sanitize::escape;
use crate::smtp::reply::Reply;
use crate::smtp::settings::Timeouts;

use super::connect::Target;
use super::steer::{self, Steered};

/// The end-of-data variants of the research, by name and bytes: each ends a line of text.
pub const VARIANTS: &[(&str, &[u8])] = &[
    ("<LF>.<LF>", b"\n.\n"),
    ("<CR><LF>.<LF>", b"\r\n.\n"),
    ("<LF>.<CR><LF>", b"\n.\r\n"),
    ("<CR>.<CR>", b"\r.\r"),
    ("<CR><LF>.<CR>", b"\r\n.\r"),
    ("<CR>.<LF>", b"\r.\n"),
    ("<CR><LF><NUL>.<CR><LF>", b"\r\n\0.\r\n"),
    ("<CR><LF>.<NUL><CR><LF>", b"\r\n.\0\r\n"),
];

/// How long to listen for replies to the smuggled commands once the message's own reply is in: the server has
/// every byte by then, so replies it will send come at once.
const LISTEN: Duration = Duration::from_millis(700);

#[derive(Debug, Clone, Serialize)]
struct Finding {
    #[serde(rename = "type")]
    kind: &'static str,
    variant: &'static str,
    /// The server ended the message at the variant: the smuggled transaction was answered.
    ended: bool,
    /// What the server said, each reply on one line.
    replies: Vec<String>,
    /// In words.
    verdict: String,
}

pub fn run(args: &SmuggleArgs) -> anyhow::Result<Exit> {
    let target = Target::parse(args.server.as_deref(), args.connect.protocol.pipe.as_deref(), "SERVER")?;
    for (flag, value) in [("--from", &args.from), ("--to", &args.to)] {
        address::check_address(value).map_err(|reason| Error::Usage(format!("invalid {flag} {value:?}: {reason}")))?;
    }
    let output = super::output_style(&args.connect.output);
    let stdout = io::stdout();
    let mut json = output.json.then(|| JsonLines::new(stdout.lock()));
    let mut transcript = (!output.json).then(|| HumanTranscript::with_style(io::stderr(), output.style));
    let mut findings = Vec::new();
    let mut steered: Option<Steered> = None;
    for (name, ending) in VARIANTS {
        let sink = renderer(&mut json, &mut transcript);
        if steered.as_mut().is_none_or(|s| s.manual.session().is_ending()) {
            steered = Some(start(&target, args, sink)?);
        }
        let session = steered.as_mut().expect("connected above");
        let finding = try_variant(session, args, name, ending, sink)?;
        if let Some(json) = &mut json {
            json.write(&finding);
        }
        findings.push(finding);
    }
    if let Some(mut session) = steered {
        let sink = renderer(&mut json, &mut transcript);
        if !session.manual.session().is_ending() {
            session.manual.session().command("QUIT", "QUIT");
            session.manual.run(None, sink);
        }
        session.manual.close(sink);
    }
    if !output.json {
        let width = VARIANTS.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        let mut table = String::new();
        for finding in &findings {
            table.push_str(&format!("{:<width$}  {}\n", finding.variant, finding.verdict));
        }
        print!("{table}");
    }
    let ended = findings.iter().filter(|f| f.ended).count();
    if ended > 0 {
        return Err(Error::Expectation(format!(
            "{ended} of {} end-of-data variants ended the message: the server is open to SMTP smuggling \
             (Postfix: smtpd_forbid_bare_newline = normalize)",
            findings.len()
        ))
        .into());
    }
    Ok(Exit::Success)
}

/// The one renderer made: JSON Lines (which also carry the findings), or the transcript on stderr.
fn renderer<'a>(
    json: &'a mut Option<JsonLines<io::StdoutLock<'static>>>,
    transcript: &'a mut Option<HumanTranscript<io::Stderr>>,
) -> &'a mut dyn Sink {
    match (json, transcript) {
        (Some(json), _) => json,
        (None, Some(transcript)) => transcript,
        (None, None) => unreachable!("run makes one renderer"),
    }
}

/// Connect, read the greeting and say EHLO.
fn start(target: &Target, args: &SmuggleArgs, sink: &mut dyn Sink) -> Result<Steered, Error> {
    let mut steered = steer::connect(target, &args.connect, Timeouts::uniform(Duration::from_secs(30)), false, sink)?;
    let greeting = steered.open_session(false, sink)?;
    if greeting.as_ref().is_none_or(|r| r.code.0 != 220) {
        return Err(Error::Expectation(format!("the greeting is not 220: {}", shown(greeting.as_ref()))));
    }
    let hello = format!("EHLO {}", steered.helo);
    steered.manual.session().command(&hello, &hello);
    let answer = steered.manual.run(None, sink);
    if !answer.last().is_some_and(Reply::is_positive) {
        return Err(Error::Expectation(format!("EHLO was refused: {}", shown(answer.last()))));
    }
    Ok(steered)
}

fn shown(reply: Option<&Reply>) -> String {
    reply.map_or_else(|| "no reply".to_string(), |r| escape(r.to_string().as_bytes()))
}

/// One transaction with `ending` inside its message.
fn try_variant(
    steered: &mut Steered,
    args: &SmuggleArgs,
    name: &'static str,
    ending: &[u8],
    sink: &mut dyn Sink,
) -> Result<Finding, Error> {
    let (from, to) = (&args.from, &args.to);
    for line in [format!("MAIL FROM:<{from}>"), format!("RCPT TO:<{to}>"), "DATA".to_string()] {
        steered.manual.session().command(&line, &line);
        let answer = steered.manual.run(None, sink);
        let good = answer.last().is_some_and(|r| r.is_positive() || r.code.0 == 354);
        if !good {
            return Err(Error::Expectation(format!(
                "the test transaction was refused at {line}: {} (give a --from and --to the server accepts)",
                answer.error.as_ref().map_or_else(|| shown(answer.last()), |e| e.to_string())
            )));
        }
    }
    let mut message = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: postie smuggling test {name}\r\n\r\nThe text before the variant."
    )
    .into_bytes();
    message.extend_from_slice(ending);
    message.extend_from_slice(
        format!(
            "MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\nFrom: <{from}>\r\nTo: <{to}>\r\n\
             Subject: postie SMUGGLED {name}\r\n\r\nSmuggled past the end of data.\r\n.\r\n"
        )
        .as_bytes(),
    );
    // Exactly these bytes: the content path would turn every bare CR and LF into CRLF.
    steered.manual.session().raw(&message);
    let sent = steered.manual.run(None, sink);
    if let Some(error) = sent.error {
        let verdict = format!("the message could not be sent: {error}");
        return Ok(Finding { kind: "smuggle", variant: name, ended: false, replies: Vec::new(), verdict });
    }
    steered.manual.session().await_replies(1);
    let first = steered.manual.run(None, sink);
    let mut replies: Vec<String> = first.replies.iter().map(|r| escape(r.to_string().as_bytes())).collect();
    if let Some(error) = first.error {
        let verdict = format!("no reply to the message: {error}");
        return Ok(Finding { kind: "smuggle", variant: name, ended: false, replies, verdict });
    }
    // Anything more is the server answering the smuggled commands.
    steered.manual.session().set_timeouts(Timeouts::uniform(LISTEN));
    loop {
        steered.manual.session().await_replies(1);
        let more = steered.manual.run(None, sink);
        if more.replies.is_empty() {
            break;
        }
        replies.extend(more.replies.iter().map(|r| escape(r.to_string().as_bytes())));
    }
    steered.manual.session().set_timeouts(Timeouts::uniform(Duration::from_secs(30)));
    let ended = replies.len() > 1;
    let verdict = if ended {
        format!("ENDED the message: the smuggled transaction was answered ({} replies)", replies.len())
    } else if first.replies.first().is_some_and(Reply::is_positive) {
        "not an end of data: one reply for the whole message".to_string()
    } else {
        format!("not an end of data: the message was refused ({})", replies.join("; "))
    };
    Ok(Finding { kind: "smuggle", variant: name, ended, replies, verdict })
}
