//! Events rendered as the human transcript: one line per protocol line.
//!
//! `C: ` what the client sent, `S: ` what the server sent (every line of a multi-line reply), `* ` postie's
//! own notes. Over TLS the colon becomes a tilde, `C~ ` and `S~ `, so a reader sees where encryption began.
//! Everything that came from outside is escaped first (see `sanitize`), so one transcript line is always one
//! protocol line, and a server cannot write to the user's terminal. After a reply that is not positive, a `*`
//! line explains it (`--explain` explains every reply and the EHLO capabilities).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style as Look};
use std::time::Instant;

use super::explain;
use super::words::{self, Kind};
use crate::event::{Event, RecipientLine, Sink, Status};
use crate::sanitize::escape;
use crate::smtp::ehlo::Capabilities;
use crate::smtp::error::Phase;
use crate::smtp::event::Event as Smtp;

/// How to render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours (on a terminal, unless NO_COLOR or --color never).
    pub color: bool,
    /// The elapsed time on every line, and how long each step and each reply took.
    pub timing: bool,
    /// Explain positive replies and capabilities too, not only failures.
    pub explain_all: bool,
    /// Explain the capabilities of each EHLO reply (`talk` always does).
    pub explain_capabilities: bool,
}

pub struct HumanTranscript<W: Write> {
    out: W,
    style: Style,
    /// Set once the reader has gone away (`postie … | head`): stop writing, keep working.
    closed: bool,
    data_lines_shown: bool,
    started: Instant,
    /// When replaying recorded events: the time the current one happened.
    at: Option<Instant>,
    last_sent: Option<Instant>,
    /// The line being written is a message line: no flush after it.
    buffering: bool,
    /// The last explanation written, so that the same one is not repeated for the next reply.
    last_explanation: Option<String>,
    /// Recipient lines wait for the summary line, which heads them.
    recipients: Vec<String>,
}

// Each kind of line's look; anstyle renders the escape sequences.
const CLIENT: Look = AnsiColor::Cyan.on_default();
const GOOD: Look = AnsiColor::Green.on_default();
const BAD: Look = AnsiColor::Red.on_default();
const NOTE: Look = Look::new().dimmed();
const WARN: Look = AnsiColor::Yellow.on_default();

impl<W: Write> HumanTranscript<W> {
    pub fn new(out: W) -> Self {
        Self::with_style(out, Style::default())
    }

    pub fn with_style(out: W, style: Style) -> Self {
        HumanTranscript {
            out,
            style,
            closed: false,
            data_lines_shown: false,
            started: Instant::now(),
            at: None,
            last_sent: None,
            last_explanation: None,
            buffering: false,
            recipients: Vec::new(),
        }
    }

    /// Render events recorded earlier (a probe's, after all its threads ended) with the times they happened,
    /// counted from `started`.
    pub fn replay(&mut self, started: Instant, events: &[(Instant, Event)]) {
        self.started = started;
        for (at, event) in events {
            self.at = Some(*at);
            self.emit(event.clone());
        }
        self.at = None;
    }

    fn now(&self) -> Instant {
        self.at.unwrap_or_else(Instant::now)
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn line(&mut self, color: Look, prefix: &str, text: &str) {
        self.line_with(color, prefix, text, None);
    }

    fn line_with(&mut self, color: Look, prefix: &str, text: &str, waited: Option<f64>) {
        if self.closed {
            return;
        }
        let mut line = String::with_capacity(prefix.len() + text.len() + 24);
        if self.style.timing {
            let elapsed = self.now().saturating_duration_since(self.started).as_secs_f64() * 1000.0;
            match waited {
                Some(wait) => line.push_str(&format!("[{elapsed:>9.3} ms +{wait:.3}] ")),
                None => line.push_str(&format!("[{elapsed:>9.3} ms] ")),
            }
        }
        if self.style.color {
            line.push_str(&color.render().to_string());
            line.push_str(prefix);
            line.push_str(text);
            line.push_str(&color.render_reset().to_string());
        } else {
            line.push_str(prefix);
            line.push_str(text);
        }
        line.push('\n');
        // Message lines (--show-data) are many: they wait in the writer's buffer; every other line is flushed
        // at once, so the transcript keeps up with the dialogue.
        let result =
            self.out.write_all(line.as_bytes()).and_then(|()| if self.buffering { Ok(()) } else { self.out.flush() });
        if let Err(error) = result {
            // Nobody is reading any more (EPIPE) or the output cannot be written: the transcript is only a
            // report, so the mail is still delivered and the exit code still tells the outcome.
            self.closed = true;
            if error.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("postie: warning: cannot write the transcript: {error}");
            }
        }
    }

    fn note(&mut self, text: &str) {
        self.line(NOTE, "* ", &escape(text.as_bytes()));
    }
}

impl<W: Write> Sink for HumanTranscript<W> {
    fn emit(&mut self, event: Event) {
        if let Some((kind, text)) = words::note(&event) {
            return match kind {
                Kind::Info => self.note(&text),
                Kind::Warning => self.line(WARN, "* warning: ", &escape(text.as_bytes())),
            };
        }
        match event {
            Event::Smtp(Smtp::Sent { line, tls }) => {
                self.last_sent = Some(self.now());
                self.line(CLIENT, if tls { "C~ " } else { "C: " }, &escape(line.as_bytes()));
            }
            Event::Smtp(Smtp::Received { reply, tls, phase }) => {
                let now = self.now();
                let waited = self.last_sent.map(|at| now.saturating_duration_since(at).as_secs_f64() * 1000.0);
                let color = if reply.code.is_positive() || reply.code.is_intermediate() { GOOD } else { BAD };
                for (i, line) in reply.lines.iter().enumerate() {
                    let wait = if i == 0 { waited } else { None };
                    self.line_with(color, if tls { "S~ " } else { "S: " }, &escape(line), wait);
                }
                let failed = !reply.is_positive() && !reply.code.is_intermediate();
                if failed || self.style.explain_all {
                    // A refusal explained for the reply before is not explained again (a pipelined 530 to MAIL,
                    // RCPT and DATA): once in the transcript, once in the summary.
                    let explanation = explain::reply(&reply);
                    if !(failed && self.last_explanation.as_deref() == Some(explanation.as_str())) {
                        self.note(&explanation);
                    }
                    self.last_explanation = Some(explanation);
                } else {
                    self.last_explanation = None;
                }
                if reply.is_positive()
                    && (self.style.explain_all || self.style.explain_capabilities)
                    && phase == Phase::Ehlo
                {
                    for (keyword, parameters) in Capabilities::from_ehlo(&reply).extensions {
                        self.note(&format!("  {}", explain::capability(&keyword, &parameters)));
                    }
                }
            }
            Event::Smtp(Smtp::DataLine { line, tls }) => {
                self.data_lines_shown = true;
                self.buffering = true;
                self.line(CLIENT, if tls { "C~ " } else { "C: " }, &escape(&line));
                self.buffering = false;
            }
            Event::Smtp(Smtp::DataSent { bytes, lines, tls }) => {
                let size = format!("{bytes} bytes, {lines} line{}", if lines == 1 { "" } else { "s" });
                if self.data_lines_shown {
                    self.note(&format!("message sent: {size}"));
                } else {
                    self.line(CLIENT, if tls { "C~ " } else { "C: " }, &format!("<message: {size}>"));
                }
            }
            Event::Smtp(Smtp::Note(_))
            | Event::Resolving { .. }
            | Event::OauthToken(_)
            | Event::SenderGuessed { .. }
            | Event::Resolved { .. }
            | Event::TlsFallback { .. }
            | Event::CertificateVerdict { .. }
            | Event::Dane { .. }
            | Event::TransportPolicy { .. } => {}
            Event::Route(fact) => {
                if let Some((name, kind, answers)) = words::lookup(&fact) {
                    let text = match kind {
                        "MX" => format!("MX for {name}: {}", answers.join(", ")),
                        _ => format!("{name}: {}", answers.join(", ")),
                    };
                    self.note(&text);
                }
            }
            Event::Connecting { address, host } => {
                let via = host.map(|h| format!(" ({h})")).unwrap_or_default();
                self.note(&format!("trying {address}{via}"));
            }
            Event::Proxying { host, port, name, proxy, remote_dns } => {
                let via = name.map(|n| format!(" ({n})")).unwrap_or_default();
                let resolves = if remote_dns { ", which resolves the name" } else { "" };
                self.note(&format!("connecting to {host} port {port}{via} through {proxy}{resolves}"));
            }
            Event::Connected { address, local } => self.note(&format!("connected to {address} from {local}")),
            Event::MovedOn { address, reason } => self.note(&format!("{address}: {reason}; moving on")),
            Event::Closed => self.note("connection closed"),
            Event::Tls(session) => self.note(&format!(
                "TLS established: {}, cipher {}, key exchange {}",
                session.version, session.cipher, session.group
            )),
            Event::Certificate(certificate) => self.note(&words::certificate(&certificate)),
            Event::Step { step, duration } => {
                if self.style.timing {
                    self.note(&format!("{} took {:.3} ms", step.name(), duration.as_secs_f64() * 1000.0));
                }
            }
            Event::Recipient(line) => {
                let text = recipient_line(&line);
                self.recipients.push(text);
            }
            Event::Summary { delivered, total, stopped_after, .. } => {
                let word = if total == 1 { "recipient" } else { "recipients" };
                match stopped_after {
                    Some(point) if total > 0 && delivered <= total => {
                        self.note(&format!("stopped after {point} as asked; {delivered} of {total} {word} accepted"))
                    }
                    Some(point) => self.note(&format!("stopped after {point} as asked")),
                    None => self.note(&format!("delivered to {delivered} of {total} {word}")),
                }
                for line in std::mem::take(&mut self.recipients) {
                    self.note(&line);
                }
            }
        }
    }
}

/// `  bob@example.test: refused at RCPT TO by mx [127.0.0.1]: 550 5.1.1 unknown` (raw: escaped when written).
pub fn recipient_line(line: &RecipientLine) -> String {
    let by = line.host.as_ref().map(|h| format!(" by {h}")).unwrap_or_default();
    let at = line.phase.map(|p| format!(" at {p}")).unwrap_or_default();
    let status = line.status.word();
    let text = match (&line.reply, &line.reason) {
        (Some(reply), _) if matches!(line.status, Status::Delivered | Status::Accepted) => {
            format!("{status}{by}: {reply}")
        }
        (Some(reply), _) => format!("{status}{at}{by}: {reply}"),
        (None, Some(reason)) if line.status == Status::Unknown => {
            format!("{status}{by}: the server may have the message ({reason}); do not resend it blindly")
        }
        (None, Some(reason)) => format!("{status}: {reason}"),
        _ => status.to_string(),
    };
    match line.transport.as_ref().and_then(words::transport) {
        Some(transport) => format!("  {}: {text} ({transport})", line.recipient),
        None => format!("  {}: {text}", line.recipient),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Step;
    use crate::smtp::event::Note;
    use crate::smtp::reply::parse_reply;

    fn sent(line: &str, tls: bool) -> Event {
        Event::Smtp(Smtp::Sent { line: line.into(), tls })
    }

    fn received(text: &str, tls: bool, phase: Phase) -> Event {
        Event::Smtp(Smtp::Received { reply: parse_reply(text), tls, phase })
    }

    fn render(events: Vec<Event>) -> String {
        render_styled(events, Style::default())
    }

    fn render_styled(events: Vec<Event>, style: Style) -> String {
        let mut transcript = HumanTranscript::with_style(Vec::new(), style);
        for event in events {
            transcript.emit(event);
        }
        String::from_utf8(transcript.into_inner()).unwrap()
    }

    #[test]
    fn one_line_per_protocol_line() {
        let text = render(vec![
            Event::Connected { address: "127.0.0.1:25".into(), local: "127.0.0.1:5000".into() },
            received("220-mx.example.test\r\n220 ready\r\n", false, Phase::Banner),
            sent("EHLO c.example.test", false),
            sent("MAIL FROM:<a@x.test>", true),
            received("250 ok\r\n", true, Phase::MailFrom),
            Event::Smtp(Smtp::DataSent { bytes: 1432, lines: 28, tls: false }),
            Event::Smtp(Smtp::Note(Note::QuitProblem { detail: "QUIT answered with 500".into() })),
        ]);
        assert_eq!(
            text,
            "* connected to 127.0.0.1:25 from 127.0.0.1:5000\nS: 220-mx.example.test\nS: 220 ready\nC: EHLO c.example.test\n\
             C~ MAIL FROM:<a@x.test>\nS~ 250 ok\nC: <message: 1432 bytes, 28 lines>\n* warning: QUIT answered with 500\n"
        );
    }

    #[test]
    fn failures_are_explained() {
        let text = render(vec![received("550 5.1.1 unknown\r\n", false, Phase::RcptTo)]);
        assert_eq!(
            text,
            "S: 550 5.1.1 unknown\n* 550 5.1.1: permanent failure (retrying will not help): mailbox unavailable (not \
             found, no access, or refused for policy); bad destination mailbox address (the mailbox does not exist)\n"
        );
    }

    #[test]
    fn the_same_refusal_is_explained_once() {
        let text = render(vec![
            received("530 5.7.0 Must issue a STARTTLS command first\r\n", false, Phase::MailFrom),
            received("530 5.7.0 Must issue a STARTTLS command first\r\n", false, Phase::RcptTo),
            received("530 5.7.0 Must issue a STARTTLS command first\r\n", false, Phase::Data),
        ]);
        assert_eq!(text.matches("must issue STARTTLS first").count(), 1, "{text}");
        assert_eq!(text.matches("S: 530").count(), 3, "{text}");
    }

    #[test]
    fn explain_all_covers_capabilities() {
        let style = Style { explain_all: true, ..Style::default() };
        let text = render_styled(
            vec![sent("EHLO c", false), received("250-mx\r\n250 PIPELINING\r\n", false, Phase::Ehlo)],
            style,
        );
        assert!(text.ends_with("* 250: success: requested action completed\n*   PIPELINING: commands may be sent in batches (RFC 2920)\n"), "{text}");
    }

    #[test]
    fn timing_and_colour() {
        let style = Style { timing: true, color: true, ..Style::default() };
        let text = render_styled(
            vec![
                sent("NOOP", false),
                received("250 ok\r\n", false, Phase::Quit),
                Event::Step { step: Step::Connect, duration: std::time::Duration::from_micros(1500) },
            ],
            style,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with('[') && lines[0].contains(" ms] \x1b[36mC: NOOP\x1b[0m"), "{text}");
        assert!(lines[1].contains(" ms +") && lines[1].contains("\x1b[32mS: 250 ok"), "{text}");
        assert!(lines[2].ends_with("* connect took 1.500 ms\x1b[0m"), "{text}");
    }

    #[test]
    fn summary_heads_the_recipients() {
        let text = render(vec![
            Event::Recipient(RecipientLine {
                recipient: "b@x.test".into(),
                status: Status::Refused,
                phase: Some(Phase::RcptTo),
                host: Some("mx".into()),
                reply: Some(parse_reply("550 no\r\n")),
                reason: None,
                transport: None,
            }),
            Event::Summary { delivered: 0, total: 1, exit: 69, stopped_after: None },
        ]);
        assert_eq!(text, "* delivered to 0 of 1 recipient\n*   b@x.test: refused at RCPT TO by mx: 550 no\n");
    }

    #[test]
    fn server_text_is_escaped() {
        let text = render(vec![received("220 hi\x1b]0;owned\x07\rthere\r\n", false, Phase::Banner)]);
        assert_eq!(text, "S: 220 hi\\x1b]0;owned\\x07\\x0dthere\n");
    }

    #[test]
    fn shown_data_ends_with_a_size_note() {
        let text = render(vec![
            Event::Smtp(Smtp::DataLine { line: b"..dot".to_vec(), tls: false }),
            Event::Smtp(Smtp::DataSent { bytes: 5, lines: 1, tls: false }),
        ]);
        assert_eq!(text, "C: ..dot\n* message sent: 5 bytes, 1 line\n");
    }

    struct BrokenPipe;
    impl Write for BrokenPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_stops_output_quietly() {
        let mut transcript = HumanTranscript::new(BrokenPipe);
        transcript.emit(Event::Closed);
        assert!(transcript.closed);
        transcript.emit(Event::Closed);
    }
}
