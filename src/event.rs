//! What happens during a run, as data. The protocol code emits events and never prints; the transcript
//! renderers turn them into lines, and tests collect them in a `Vec<Event>`.

use crate::smtp::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// postie's own note: resolving, trying an address, connected, closed, the summary.
    Info(String),
    /// Something the user should know that does not stop the run.
    Warning(String),
    /// A command line the client sent, without its CRLF (secrets already replaced), and whether it went
    /// over TLS.
    Sent { line: String, tls: bool },
    /// A whole reply from the server, and whether it came over TLS.
    Received { reply: Reply, tls: bool },
    /// One line of the message content as it went on the wire (dot-stuffed), only with --show-data.
    DataLine { line: Vec<u8>, tls: bool },
    /// The message content went out: its size after line endings were normalised, and its line count.
    DataSent { bytes: u64, lines: u64, tls: bool },
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
