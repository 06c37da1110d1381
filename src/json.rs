//! Events as JSON Lines (`--json`): one object per event, each with its `type` and the milliseconds since
//! postie started. Text that is not valid UTF-8 is carried as `{"base64": "…"}`. README.md documents the
//! schema; the tests decode it into their own types.

use std::io::{self, Write};
use std::time::Instant;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};

use crate::event::{Event, Sink};
use crate::explain;
use crate::smtp::reply::Reply;

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

    /// Write one object that is not an event of the session (the mx and probe reports).
    pub fn write(&mut self, mut value: Value) {
        if self.closed {
            return;
        }
        if let Value::Object(map) = &mut value {
            map.insert("elapsed_ms".into(), json!(round(self.started.elapsed().as_secs_f64() * 1000.0)));
        }
        let mut line = value.to_string();
        line.push('\n');
        if let Err(error) = self.out.write_all(line.as_bytes()).and_then(|()| self.out.flush()) {
            self.closed = true;
            if error.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("postie: warning: cannot write the JSON output: {error}");
            }
        }
    }
}

/// Bytes as a JSON string when they are UTF-8, else `{"base64": "…"}`.
pub fn text(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!(text),
        Err(_) => json!({ "base64": BASE64.encode(bytes) }),
    }
}

pub fn reply(reply: &Reply) -> Value {
    json!({
        "code": reply.code.0,
        "enhanced": reply.enhanced.map(|e| e.to_string()),
        "lines": reply.lines.iter().map(|line| text(line)).collect::<Vec<_>>(),
        "explanation": explain::reply(reply),
    })
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

impl<W: Write> Sink for JsonLines<W> {
    fn emit(&mut self, event: Event) {
        let value = match event {
            Event::Info(text) => json!({ "type": "info", "text": text }),
            Event::Warning(text) => json!({ "type": "warning", "text": text }),
            Event::Lookup { name, kind, answers } => {
                json!({ "type": "lookup", "name": name, "kind": kind, "answers": answers })
            }
            Event::Connecting { address, host } => json!({ "type": "connecting", "address": address, "host": host }),
            Event::Connected { address, local } => json!({ "type": "connected", "address": address, "local": local }),
            Event::MovedOn { address, reason } => json!({ "type": "moved_on", "address": address, "reason": reason }),
            Event::Closed => json!({ "type": "closed" }),
            Event::Sent { line, tls } => {
                self.last_sent = Some(Instant::now());
                json!({ "type": "sent", "line": line, "tls": tls })
            }
            Event::Received { reply: r, tls } => {
                let mut value = reply(&r);
                value["type"] = json!("reply");
                value["tls"] = json!(tls);
                value["wait_ms"] = json!(self.last_sent.map(|at| round(at.elapsed().as_secs_f64() * 1000.0)));
                value
            }
            Event::DataLine { line, tls } => json!({ "type": "data_line", "line": text(&line), "tls": tls }),
            Event::DataSent { bytes, lines, tls } => {
                json!({ "type": "data", "bytes": bytes, "line_count": lines, "tls": tls })
            }
            Event::Tls { version, cipher, group } => {
                json!({ "type": "tls", "version": version, "cipher": cipher, "group": group })
            }
            Event::Certificate(c) => json!({
                "type": "certificate", "index": c.index, "subject": c.subject, "issuer": c.issuer, "names": c.names,
                "not_before": c.not_before, "not_after": c.not_after, "days_left": c.days_left,
            }),
            Event::Step { name, duration } => {
                json!({ "type": "step", "step": name, "ms": round(duration.as_secs_f64() * 1000.0) })
            }
            Event::Recipient { recipient, status, phase, host, reply: r, reason } => json!({
                "type": "recipient", "recipient": recipient, "status": status, "phase": phase, "host": host,
                "reply": r.as_ref().map(reply), "reason": reason,
            }),
            Event::Summary { delivered, total, exit, stopped_after } => json!({
                "type": "summary", "delivered": delivered, "total": total, "exit_code": exit, "stopped_after": stopped_after,
            }),
        };
        self.write(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::parse_reply;

    #[test]
    fn one_object_per_line_with_safe_text() {
        let mut sink = JsonLines::new(Vec::new());
        sink.emit(Event::Sent { line: "EHLO c".into(), tls: false });
        sink.emit(Event::Received { reply: parse_reply("550 5.1.1 caf\u{e9}\r\n"), tls: true });
        let mut bad = parse_reply("250 ok\r\n");
        bad.lines[0] = b"250 \xff\xfe".to_vec();
        sink.emit(Event::Received { reply: bad, tls: false });
        let text = String::from_utf8(sink.out).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["type"], "sent");
        assert_eq!(lines[1]["code"], 550);
        assert_eq!(lines[1]["enhanced"], "5.1.1");
        assert_eq!(lines[1]["lines"][0], "550 5.1.1 caf\u{e9}");
        assert_eq!(lines[1]["tls"], true);
        assert_eq!(lines[2]["lines"][0]["base64"], BASE64.encode(b"250 \xff\xfe"));
        assert!(lines.iter().all(|l| l["elapsed_ms"].is_number()));
    }
}
