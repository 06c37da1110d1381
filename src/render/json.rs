//! Events as JSON Lines (`--json`): one object per event, each with its `type` and the milliseconds since
//! postie started. The schema is the [`Line`] type below (serde derive), so it cannot drift from the code;
//! [`SCHEMA`] documents it for `--help`, the man page and README.md. Text that is not valid UTF-8 is carried
//! as `{"base64": "…"}`.

use std::io::{self, Write};
use std::time::Instant;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};

use super::explain;
use super::words::{self, Kind};
use crate::event::{Event, Sink};
use crate::net::tls::Certificate;
use crate::smtp::event::Event as Smtp;
use crate::smtp::reply::Reply;

/// The JSON Lines schema, as shown to users.
pub const SCHEMA: &str = "\
JSON Lines (--json): one object per line, each with \"type\" and \"elapsed_ms\" (since start).
Text that is not valid UTF-8 is given as {\"base64\": \"...\"} instead of a string.
  info, warning     text
  lookup            name, kind (\"MX\" or \"address\"), answers [string]
  connecting        address, host (null for an IP)
  proxy             host, port, name (or null), proxy (\"SOCKS5 proxy HOST:PORT\"), proxy_resolves: in place of
                    connecting, when the connection goes through a SOCKS5 proxy (--proxy)
  connected         address, local
  moved_on          address, reason
  closed            -
  sent              line (secrets redacted), tls
  reply             code, enhanced (\"5.1.1\" or null), lines [text], explanation, tls, wait_ms
  data_line         line (text, dot-stuffed, only with --show-data), tls
  data              bytes, line_count, tls
  tls               version, cipher, group
  certificate       index, subject, issuer, names [string], not_before, not_after, days_left
  step              step (\"connect\", \"TLS handshake\"), ms
  recipient         recipient, status (delivered|accepted|refused|deferred|failed|unreachable|unknown),
                    phase, host, reply (as in reply, or null), reason, transport (\"verified\", \"not verified:
                    <reason>\", \"none\", or null when no server answered)
  summary           delivered, total, exit_code, stopped_after
mx --json: one \"route\" object per domain (domain, implicit, hosts [{preference, name, warnings, addresses
[{ip, probe}], error}], problem), then a summary with exit_code. probe --json: one \"probe\" object per address
(host, preference, address, connect_ms, greeting_ms, banner, reverse_dns, ehlo_name, capabilities, tls,
certificate, days_left, mail, rcpt, findings [{severity, text}], verdict), then a summary with worst and
exit_code.";

/// One line of output: the schema. Variant names are the `type` values, `data_line` among them.
#[derive(Serialize)]
#[allow(clippy::enum_variant_names)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<'a> {
    Info {
        text: String,
    },
    Warning {
        text: String,
    },
    Lookup {
        name: String,
        kind: &'static str,
        answers: Vec<String>,
    },
    Connecting {
        address: &'a str,
        host: Option<&'a str>,
    },
    Proxy {
        host: &'a str,
        port: u16,
        name: Option<&'a str>,
        proxy: &'a str,
        proxy_resolves: bool,
    },
    Connected {
        address: &'a str,
        local: &'a str,
    },
    MovedOn {
        address: &'a str,
        reason: &'a str,
    },
    Closed,
    Sent {
        line: &'a str,
        tls: bool,
    },
    Reply {
        #[serde(flatten)]
        reply: ReplyJson,
        tls: bool,
        wait_ms: Option<f64>,
    },
    DataLine {
        line: Value,
        tls: bool,
    },
    Data {
        bytes: u64,
        line_count: u64,
        tls: bool,
    },
    Tls {
        version: &'a str,
        cipher: &'a str,
        group: &'a str,
    },
    Certificate(&'a Certificate),
    Step {
        step: &'static str,
        ms: f64,
    },
    Recipient {
        recipient: &'a str,
        status: &'static str,
        phase: Option<String>,
        host: Option<&'a str>,
        reply: Option<ReplyJson>,
        reason: Option<&'a str>,
        transport: Option<String>,
    },
    Summary {
        delivered: usize,
        total: usize,
        exit_code: u8,
        stopped_after: Option<&'a str>,
    },
}

/// A reply as JSON: its code, enhanced code, every line as sent, and what it means.
#[derive(Serialize)]
pub struct ReplyJson {
    code: u16,
    enhanced: Option<String>,
    lines: Vec<Value>,
    explanation: String,
}

pub fn reply(reply: &Reply) -> ReplyJson {
    ReplyJson {
        code: reply.code.0,
        enhanced: reply.enhanced.map(|e| e.to_string()),
        lines: reply.lines.iter().map(|line| text(line)).collect(),
        explanation: explain::reply(reply),
    }
}

/// Bytes as a JSON string when they are UTF-8, else `{"base64": "…"}`.
pub fn text(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!(text),
        Err(_) => json!({ "base64": BASE64.encode(bytes) }),
    }
}

pub struct JsonLines<W: Write> {
    out: W,
    started: Instant,
    last_sent: Option<Instant>,
    closed: bool,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out, started: Instant::now(), last_sent: None, closed: false }
    }

    /// Write one object, adding its `elapsed_ms` (also for the mx and probe reports).
    pub fn write(&mut self, value: impl Serialize) {
        if self.closed {
            return;
        }
        let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            map.insert("elapsed_ms".into(), json!(round(self.started.elapsed().as_secs_f64() * 1000.0)));
        }
        let mut line = json_safe(&value.to_string());
        line.push('\n');
        if let Err(error) = self.out.write_all(line.as_bytes()).and_then(|()| self.out.flush()) {
            self.closed = true;
            if error.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("postie: warning: cannot write the JSON output: {error}");
            }
        }
    }

    #[cfg(test)]
    fn into_inner(self) -> W {
        self.out
    }
}

/// serde_json escapes C0 controls but leaves C1 controls (U+0080 to U+009F, which some terminals obey),
/// Unicode line and paragraph separators (which tools that split on Unicode line breaks obey) and
/// bidirectional overrides as they are. As `\uXXXX` escapes they mean the same to a JSON reader and nothing
/// to a terminal.
fn json_safe(line: &str) -> String {
    let unsafe_char = |c: char| matches!(c, '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{061c}');
    if !line.contains(unsafe_char) {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len() + 16);
    for c in line.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

impl<W: Write> Sink for JsonLines<W> {
    fn emit(&mut self, event: Event) {
        if let Some((kind, text)) = words::note(&event) {
            return match kind {
                Kind::Info => self.write(Line::Info { text }),
                Kind::Warning => self.write(Line::Warning { text }),
            };
        }
        let line = match &event {
            Event::Smtp(Smtp::Sent { line, tls }) => {
                self.last_sent = Some(Instant::now());
                Line::Sent { line, tls: *tls }
            }
            Event::Smtp(Smtp::Received { reply: r, tls, .. }) => Line::Reply {
                reply: reply(r),
                tls: *tls,
                wait_ms: self.last_sent.map(|at| round(at.elapsed().as_secs_f64() * 1000.0)),
            },
            Event::Smtp(Smtp::DataLine { line, tls }) => Line::DataLine { line: text(line), tls: *tls },
            Event::Smtp(Smtp::DataSent { bytes, lines, tls }) => {
                Line::Data { bytes: *bytes, line_count: *lines, tls: *tls }
            }
            Event::Route(fact) => match words::lookup(fact) {
                Some((name, kind, answers)) => Line::Lookup { name, kind, answers },
                None => return,
            },
            Event::Connecting { address, host } => Line::Connecting { address, host: host.as_deref() },
            Event::Proxying { host, port, name, proxy, remote_dns } => {
                Line::Proxy { host, port: *port, name: name.as_deref(), proxy, proxy_resolves: *remote_dns }
            }
            Event::Connected { address, local } => Line::Connected { address, local },
            Event::MovedOn { address, reason } => Line::MovedOn { address, reason },
            Event::Closed => Line::Closed,
            Event::Tls(session) => {
                Line::Tls { version: &session.version, cipher: &session.cipher, group: &session.group }
            }
            Event::Certificate(certificate) => Line::Certificate(certificate),
            Event::Step { step, duration } => {
                Line::Step { step: step.name(), ms: round(duration.as_secs_f64() * 1000.0) }
            }
            Event::Recipient(r) => Line::Recipient {
                recipient: &r.recipient,
                status: r.status.word(),
                phase: r.phase.map(|p| p.to_string()),
                host: r.host.as_deref(),
                reply: r.reply.as_ref().map(reply),
                reason: r.reason.as_deref(),
                transport: r.transport.as_ref().map(words::transport_json),
            },
            Event::Summary { delivered, total, exit, stopped_after } => Line::Summary {
                delivered: *delivered,
                total: *total,
                exit_code: *exit,
                stopped_after: stopped_after.as_deref(),
            },
            Event::Smtp(Smtp::Note(_))
            | Event::Resolving { .. }
            | Event::OauthToken(_)
            | Event::SenderGuessed { .. }
            | Event::Resolved { .. }
            | Event::TlsFallback { .. }
            | Event::CertificateVerdict { .. }
            | Event::Dane { .. }
            | Event::TransportPolicy { .. } => return,
        };
        self.write(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::error::Phase;
    use crate::smtp::reply::parse_reply;

    #[test]
    fn one_object_per_line_with_safe_text() {
        let mut sink = JsonLines::new(Vec::new());
        sink.emit(Event::Smtp(Smtp::Sent { line: "EHLO c".into(), tls: false }));
        sink.emit(Event::Smtp(Smtp::Received {
            reply: parse_reply("550 5.1.1 caf\u{e9}\r\n"),
            tls: true,
            phase: Phase::RcptTo,
        }));
        let mut bad = parse_reply("250 ok\r\n");
        bad.lines[0] = b"250 \xff\xfe".to_vec();
        sink.emit(Event::Smtp(Smtp::Received { reply: bad, tls: false, phase: Phase::RcptTo }));
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["type"], "sent");
        assert_eq!(lines[1]["type"], "reply");
        assert_eq!(lines[1]["code"], 550);
        assert_eq!(lines[1]["enhanced"], "5.1.1");
        assert_eq!(lines[1]["lines"][0], "550 5.1.1 caf\u{e9}");
        assert_eq!(lines[1]["tls"], true);
        assert!(lines[1]["explanation"].as_str().unwrap().starts_with("550 5.1.1"));
        assert_eq!(lines[2]["lines"][0]["base64"], BASE64.encode(b"250 \xff\xfe"));
        assert!(lines.iter().all(|l| l["elapsed_ms"].is_number()));
    }

    #[test]
    fn c1_controls_and_unicode_line_breaks_are_escaped_in_the_json_text() {
        let mut sink = JsonLines::new(Vec::new());
        let text = "550 a\u{9b}31mb\u{2028}c\u{202e}d\x1b";
        sink.emit(Event::Smtp(Smtp::Received {
            reply: parse_reply(&format!("{text}\r\n")),
            tls: false,
            phase: Phase::RcptTo,
        }));
        let out = String::from_utf8(sink.into_inner()).unwrap();
        assert!(!out.contains(['\u{9b}', '\u{2028}', '\u{202e}', '\x1b']), "{out:?}");
        let value: Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(value["lines"][0], text, "the same text for a JSON reader");
    }
}
