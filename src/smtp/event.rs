//! What the dialogue reports as it goes, as data. The client state machine emits these; renderers word them.
//! Nothing here is text meant to be parsed back.

use super::error::Phase;
use super::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A command line the client sent, without its CRLF, secrets already replaced, and whether it went over TLS.
    Sent { line: String, tls: bool },
    /// A whole reply from the server, whether it came over TLS, and the step it answers.
    Received { reply: Reply, tls: bool, phase: Phase },
    /// One line of the message content as it went on the wire (dot-stuffed), only when asked for.
    DataLine { line: Vec<u8>, tls: bool },
    /// The message content went out: its size after line endings were normalised, and its line count.
    DataSent { bytes: u64, lines: u64, tls: bool },
    /// Something the dialogue decided or noticed.
    Note(Note),
}

/// The dialogue's own remarks, each a decision or an observation the user should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// No greeting after `seconds`: still waiting (perhaps an implicit-TLS port).
    SlowGreeting { seconds: u64 },
    /// RFC 5321 §4.1.4: a 5xx to EHLO; trying HELO.
    HeloFallback,
    /// The server offers no STARTTLS and the policy allows going on in clear text (a warning).
    NoStartTls { host: String },
    /// The server refused STARTTLS; opportunistic TLS goes on in clear text (a warning).
    StartTlsRefused { host: String },
    /// Commands sent in one write under PIPELINING (RFC 2920).
    Pipelining { commands: usize },
    /// QUIT rides in the same write as the final dot (RFC 2920 allows it when PIPELINING is offered).
    QuitWithDot,
    /// --bdat, but the server does not offer CHUNKING (a warning).
    NoChunking,
    /// DSN parameters were asked for and the server does not offer DSN (a warning).
    NoDsn { server: String },
    /// Every recipient was refused, so the message is not sent.
    NoRecipientAccepted,
    /// A pipelined DATA got 354 although no recipient was accepted: an empty message is ended at once.
    EmptyDataEnded,
    /// The session ends here on purpose, without QUIT (--drop-after).
    ClosingWithoutQuit,
    /// QUIT got an unexpected reply, or none; the outcome is already decided (a warning).
    QuitProblem { detail: String },
}

impl Note {
    /// Whether the note warns: something the user may want to act on.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Note::NoStartTls { .. }
                | Note::StartTlsRefused { .. }
                | Note::NoChunking
                | Note::NoDsn { .. }
                | Note::QuitProblem { .. }
                | Note::SlowGreeting { .. }
        )
    }
}
