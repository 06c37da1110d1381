//! What happens during a run, as data. The protocol code emits events and never prints; the renderers turn
//! them into the human transcript or JSON Lines, and tests collect them in a `Vec<Event>`.

use std::time::Duration;

use crate::smtp::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// postie's own note.
    Info(String),
    /// Something the user should know that does not stop the run.
    Warning(String),
    /// A DNS answer: `kind` is "MX" or "address"; `answers` as shown to the user.
    Lookup {
        name: String,
        kind: &'static str,
        answers: Vec<String>,
    },
    /// A connection attempt to `address` (for the host `host`, when it has a name).
    Connecting {
        address: String,
        host: Option<String>,
    },
    Connected {
        address: String,
        local: String,
    },
    /// An attempt that gave no answer, and why postie moved on.
    MovedOn {
        address: String,
        reason: String,
    },
    Closed,
    /// A command line the client sent, without its CRLF (secrets already replaced), and whether it went
    /// over TLS.
    Sent {
        line: String,
        tls: bool,
    },
    /// A whole reply from the server, and whether it came over TLS.
    Received {
        reply: Reply,
        tls: bool,
    },
    /// One line of the message content as it went on the wire (dot-stuffed), only with --show-data.
    DataLine {
        line: Vec<u8>,
        tls: bool,
    },
    /// The message content went out: its size after line endings were normalised, and its line count.
    DataSent {
        bytes: u64,
        lines: u64,
        tls: bool,
    },
    /// The TLS session after the handshake.
    Tls {
        version: String,
        cipher: String,
        group: String,
    },
    /// One certificate of the chain the server sent.
    Certificate(CertificateInfo),
    /// How long a step took: "connect", "TLS handshake".
    Step {
        name: &'static str,
        duration: Duration,
    },
    /// What became of one recipient.
    Recipient {
        recipient: String,
        status: &'static str,
        phase: Option<String>,
        host: Option<String>,
        reply: Option<Reply>,
        reason: Option<String>,
    },
    /// The end: how many recipients have the message, and the exit code.
    Summary {
        delivered: usize,
        total: usize,
        exit: u8,
        stopped_after: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
}

/// Where events go.
pub trait Sink {
    fn emit(&mut self, event: Event);
}

impl Sink for Vec<Event> {
    fn emit(&mut self, event: Event) {
        self.push(event);
    }
}

/// Drops everything: `--quiet`.
pub struct Discard;

impl Sink for Discard {
    fn emit(&mut self, _event: Event) {}
}
