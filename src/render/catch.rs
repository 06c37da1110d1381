//! `postie catch`'s transcript: each session one block, written whole when it ends (sessions run at the same
//! time; a block is never interleaved with another). The client's vocabulary turned around: `C: ` what the
//! client sent, `S: ` what postie answered, `C~ `/`S~ ` under TLS, `* ` postie's notes. Every byte that came
//! from the network is escaped here, once.

use serde_json::{json, Value};

use crate::event::{CatchLine, CaughtSession};
use crate::sanitize::escape;
use crate::smtp::server::{FaultKind, Line, Message, Note};

use super::json::text;

/// The human block of one session. `show_data`: the content of each message, line by line, after its
/// summary (`D: ` lines).
pub fn human(session: &CaughtSession, show_data: bool) -> String {
    let mut out = format!("* session {} from {} to {}\n", session.id, escape(session.peer.as_bytes()), session.local);
    for line in &session.lines {
        match line {
            CatchLine::Smtp(Line::Client { line, tls }) => {
                out.push_str(&format!("{} {}\n", if *tls { "C~" } else { "C:" }, escape(line)));
            }
            CatchLine::Smtp(Line::Server { line, tls }) => {
                out.push_str(&format!("{} {}\n", if *tls { "S~" } else { "S:" }, escape(line.as_bytes())));
            }
            CatchLine::Smtp(Line::Content { bytes, lines, chunked, tls }) => {
                let how = if *chunked { "BDAT chunks" } else { "DATA" };
                let prefix = if *tls { "C~" } else { "C:" };
                out.push_str(&format!("{prefix} <message: {} by {how}>\n", size_words(*bytes, *lines)));
            }
            CatchLine::Smtp(Line::Fault { step, fault }) => {
                let what = match fault {
                    FaultKind::Reply(code) => format!("answering {code}"),
                    FaultKind::Delay(delay) => format!("waiting {} s before the reply", delay.as_secs_f64()),
                    FaultKind::Drop => "dropping the connection instead of replying".into(),
                };
                out.push_str(&format!("* fault on cue at {}: {what}\n", step.name()));
            }
            CatchLine::Smtp(Line::Note(note)) => out.push_str(&format!("* {}\n", note_words(note))),
            CatchLine::Tls { version, cipher } => out.push_str(&format!("* TLS started: {version}, {cipher}\n")),
            CatchLine::TlsFailed { reason } => {
                out.push_str(&format!("* TLS handshake failed: {}\n", escape(reason.as_bytes())));
            }
            CatchLine::Message { number, message, stored } => {
                out.push_str(&format!("* {}\n", message_summary(*number, message, stored.as_deref())));
                if show_data {
                    for line in message.content.split_inclusive(|&b| b == b'\n') {
                        out.push_str(&format!("D: {}\n", escape(strip_line_end(line))));
                    }
                }
            }
            CatchLine::StoreFailed { reason } => {
                out.push_str(&format!("* error: {}\n", escape(reason.as_bytes())));
            }
            CatchLine::Busy { limit } => {
                out.push_str(&format!("* refused with 421: already {limit} sessions (--max-sessions)\n"));
            }
            CatchLine::Io { reason } => out.push_str(&format!("* connection failed: {}\n", escape(reason.as_bytes()))),
        }
    }
    if session.left_out > 0 {
        out.push_str(&format!("* {} more lines of this session are not shown (too many)\n", session.left_out));
    }
    let plural = if session.messages == 1 { "" } else { "s" };
    out.push_str(&format!(
        "* session {} ended after {:.3} s: {} message{plural}\n",
        session.id,
        session.duration.as_secs_f64(),
        session.messages
    ));
    out
}

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn size_words(bytes: u64, lines: u64) -> String {
    let (b, l) = (if bytes == 1 { "" } else { "s" }, if lines == 1 { "" } else { "s" });
    format!("{bytes} byte{b}, {lines} line{l}")
}

fn note_words(note: &Note) -> String {
    match note {
        Note::DiscardedAfterStartTls { bytes } => {
            format!("warning: {bytes} bytes came after STARTTLS in clear text: discarded (RFC 3207 §5)")
        }
        Note::Authenticated { user } => format!("authenticated as {}", escape(user.as_bytes())),
        Note::TimedOut => "the client was silent too long (--timeout)".into(),
        Note::ClientClosed => "the client closed the connection without QUIT".into(),
        Note::LineTooLong { limit } => format!("a command line longer than {limit} bytes"),
        Note::TooManyErrors => "too many errors: ending the session".into(),
        Note::TooBig { bytes, limit } => format!("the message has {bytes} bytes, more than the limit of {limit}"),
    }
}

/// `message 1 from <a@x> to <b@y>: 1234 bytes, 20 lines, Subject: "hi", stored in PATH`.
fn message_summary(number: u64, message: &Message, stored: Option<&str>) -> String {
    let recipients: Vec<String> = message.recipients.iter().map(|r| format!("<{}>", escape(r.as_bytes()))).collect();
    let mut words = format!(
        "message {number} from <{}> to {}: {}",
        escape(message.from.as_bytes()),
        recipients.join(", "),
        size_words(message.bytes, message.lines)
    );
    if let Some(subject) = header(&message.content, "subject") {
        words.push_str(&format!(", Subject: \"{}\"", escape(&subject)));
    }
    if let Some(user) = &message.authenticated {
        words.push_str(&format!(", authenticated as {}", escape(user.as_bytes())));
    }
    if let Some(path) = stored {
        words.push_str(&format!(", stored in {}", escape(path.as_bytes())));
    }
    words
}

/// The first header field `name` of the header section, unfolded; raw bytes.
fn header(content: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut found: Option<Vec<u8>> = None;
    for line in content.split_inclusive(|&b| b == b'\n') {
        let line = strip_line_end(line);
        if line.is_empty() {
            break;
        }
        match &mut found {
            Some(value) if line[0] == b' ' || line[0] == b'\t' => value.extend_from_slice(line),
            Some(_) => break,
            None => {
                let colon = line.iter().position(|&b| b == b':')?;
                if line[..colon].eq_ignore_ascii_case(name.as_bytes()) {
                    found = Some(line[colon + 1..].trim_ascii().to_vec());
                }
            }
        }
    }
    found
}

/// The JSON Lines of one session, each object with the session's number.
pub fn json_lines(session: &CaughtSession, show_data: bool) -> String {
    let id = session.id;
    let mut objects: Vec<Value> =
        vec![json!({"type": "session", "session": id, "peer": session.peer, "local": session.local})];
    for line in &session.lines {
        objects.push(match line {
            CatchLine::Smtp(Line::Client { line, tls }) => {
                json!({"type": "command", "session": id, "line": text(line), "tls": tls})
            }
            CatchLine::Smtp(Line::Server { line, tls }) => {
                json!({"type": "reply", "session": id, "line": line, "tls": tls})
            }
            CatchLine::Smtp(Line::Content { bytes, lines, chunked, tls }) => {
                json!({"type": "content", "session": id, "bytes": bytes, "lines": lines, "chunked": chunked, "tls": tls})
            }
            CatchLine::Smtp(Line::Fault { step, fault }) => {
                let (kind, value) = match fault {
                    FaultKind::Reply(code) => ("reply", json!(code)),
                    FaultKind::Delay(delay) => ("delay", json!(delay.as_secs_f64())),
                    FaultKind::Drop => ("drop", Value::Null),
                };
                json!({"type": "fault", "session": id, "step": step.name(), "fault": kind, "value": value})
            }
            CatchLine::Smtp(Line::Note(note)) => json!({"type": "note", "session": id, "text": note_words(note)}),
            CatchLine::Tls { version, cipher } => {
                json!({"type": "tls", "session": id, "version": version, "cipher": cipher})
            }
            CatchLine::TlsFailed { reason } => json!({"type": "tls_failed", "session": id, "reason": reason}),
            CatchLine::Message { number, message, stored } => {
                let mut object = json!({
                    "type": "message", "session": id, "number": number,
                    "from": message.from, "recipients": message.recipients,
                    "bytes": message.bytes, "lines": message.lines, "chunked": message.chunked,
                    "client_name": message.client_name, "authenticated": message.authenticated,
                    "tls": message.tls, "stored": stored,
                    "subject": header(&message.content, "subject").map(|s| text(&s)),
                });
                if show_data {
                    object["content"] = text(&message.content);
                }
                object
            }
            CatchLine::StoreFailed { reason } => json!({"type": "store_failed", "session": id, "reason": reason}),
            CatchLine::Busy { limit } => json!({"type": "busy", "session": id, "limit": limit}),
            CatchLine::Io { reason } => json!({"type": "connection_failed", "session": id, "reason": reason}),
        });
    }
    objects.push(json!({
        "type": "end", "session": id, "messages": session.messages, "left_out": session.left_out,
        "duration_ms": (session.duration.as_secs_f64() * 1000.0).round()
    }));
    let mut out = String::new();
    for object in objects {
        out.push_str(&object.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn network_bytes_are_escaped() {
        let session = CaughtSession {
            id: 3,
            peer: "127.0.0.1:5000".into(),
            local: "127.0.0.1:2525".into(),
            lines: vec![
                CatchLine::Smtp(Line::Client { line: b"EHLO \x1b[2J\xff".to_vec(), tls: false }),
                CatchLine::Smtp(Line::Server { line: "250 ok".into(), tls: true }),
            ],
            duration: Duration::from_millis(5),
            messages: 0,
            left_out: 0,
        };
        assert_eq!(
            human(&session, false),
            "* session 3 from 127.0.0.1:5000 to 127.0.0.1:2525\nC: EHLO \\x1b[2J\\xff\nS~ 250 ok\n\
             * session 3 ended after 0.005 s: 0 messages\n"
        );
        let json = json_lines(&session, false);
        assert!(json.contains(r#""line":{"base64":"#), "{json}");
    }

    #[test]
    fn a_message_is_summarised_and_shown_with_show_data() {
        let message = Message {
            from: "a@x.test".into(),
            recipients: vec!["b@y.test".into(), "c@y.test".into()],
            content: b"Subject: hi \x1b[1m\r\n\r\n.body\r\n".to_vec(),
            bytes: 27,
            lines: 3,
            chunked: false,
            client_name: "c".into(),
            authenticated: Some("alice".into()),
            tls: true,
        };
        let session = CaughtSession {
            id: 1,
            peer: "p".into(),
            local: "l".into(),
            lines: vec![CatchLine::Message { number: 7, message, stored: Some("inbox/new/x".into()) }],
            duration: Duration::ZERO,
            messages: 1,
            left_out: 0,
        };
        let text = human(&session, true);
        assert!(
            text.contains(
                "* message 7 from <a@x.test> to <b@y.test>, <c@y.test>: 27 bytes, 3 lines, Subject: \"hi \\x1b[1m\", \
             authenticated as alice, stored in inbox/new/x\nD: Subject: hi \\x1b[1m\nD: \nD: .body\n"
            ),
            "{text}"
        );
        assert!(!human(&session, false).contains("D: "));
    }

    #[test]
    fn headers_are_found_and_unfolded() {
        assert_eq!(header(b"From: a\r\nSubject: one\r\n two\r\n\r\nSubject: body", "subject").unwrap(), b"one two");
        assert_eq!(header(b"From: a\r\n\r\nSubject: body", "subject"), None);
    }
}
