//! The blocking driver: the one loop that reads and writes a socket for SMTP. It feeds the client state
//! machine, writes what it asks, runs the TLS handshake when asked, streams the message content through the
//! codec, and enforces every deadline the client gives (the stream bounds each read and write by them).
//! `send`, `probe` and `mx --check` run their dialogues here, and `talk`, `script` and `smuggle` run each step
//! of theirs through the same loop ([`run`], over any [`Machine`]).

use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;

use crate::event::{Event, Sink, Step};
use crate::net::stream::{Connection, Failure, HandshakeError};
use crate::net::tls::{Certificates, DaneCheck, DaneVerdict, SessionFacts, TlsClient, Verdict, Verify};
use crate::net::wire::Wire;
use crate::smtp::client::{Action, Client, Outcome};
use crate::smtp::codec::{Content, DotStuffer};
use crate::smtp::event::Event as SmtpEvent;
use crate::smtp::session::Session;
use crate::smtp::settings::{Settings, TlsPolicy};

/// Message content is written in blocks of this size: few system calls, little memory.
const WRITE_BLOCK: usize = 64 * 1024;
/// The largest read from the server at once; replies are small.
const READ_CHUNK: usize = 8 * 1024;

/// What the driver needs besides the dialogue's settings.
pub struct Conversation<'a> {
    /// Needed when the dialogue may start TLS.
    pub tls: Option<&'a TlsClient>,
    /// The name the certificate is checked against, sent as SNI.
    pub tls_name: &'a str,
    /// How to treat a certificate that does not verify, unless the user chose.
    pub verify: Verify,
    /// The message, when the dialogue has a transaction.
    pub content: Option<&'a dyn Content>,
    /// Report every line of the content, not only its size.
    pub show_data: bool,
    /// Told how many bytes of the message went out (a progress bar).
    pub progress: Option<&'a dyn Fn(u64)>,
    /// Bytes that go first, before TLS and before the greeting (a PROXY protocol header).
    pub preamble: Option<&'a Preamble>,
    /// The server's secure TLSA records: DANE authenticates it (RFC 7672).
    pub dane: Option<Arc<DaneCheck>>,
}

/// The PROXY protocol header, and how the transcript shows it.
#[derive(Debug, Clone)]
pub struct Preamble {
    pub bytes: Vec<u8>,
    pub shown: String,
}

impl Preamble {
    pub fn of(header: &crate::net::proxy::Header) -> Preamble {
        Preamble { bytes: header.bytes(), shown: header.describe() }
    }
}

/// The end of one dialogue.
pub struct Finished {
    pub outcome: Outcome,
    /// The chain and verdict of the last handshake, if there was one.
    pub certificates: Option<Certificates>,
}

/// What the driver loop needs of a dialogue state machine: `send`'s client, or a session the user drives.
pub trait Machine {
    fn poll(&mut self, now: Instant) -> Action;
    fn next_event(&mut self) -> Option<SmtpEvent>;
    fn is_encrypted(&self) -> bool;
    fn receive(&mut self, bytes: &[u8]);
    fn closed(&mut self);
    fn timed_out(&mut self);
    fn out_of_time(&mut self);
    fn io_failed(&mut self, detail: &str);
    fn tls_established(&mut self, verified: bool);
    fn tls_verified(&mut self, verified: bool);
    fn tls_failed(&mut self, detail: &str);
    fn content_sent(&mut self, bytes: u64, lines: u64);
}

macro_rules! machine {
    ($type:ty, $out_of_time:ident) => {
        impl Machine for $type {
            fn poll(&mut self, now: Instant) -> Action {
                <$type>::poll(self, now)
            }
            fn next_event(&mut self) -> Option<SmtpEvent> {
                <$type>::next_event(self)
            }
            fn is_encrypted(&self) -> bool {
                <$type>::is_encrypted(self)
            }
            fn receive(&mut self, bytes: &[u8]) {
                <$type>::receive(self, bytes)
            }
            fn closed(&mut self) {
                <$type>::closed(self)
            }
            fn timed_out(&mut self) {
                <$type>::timed_out(self)
            }
            fn out_of_time(&mut self) {
                <$type>::$out_of_time(self)
            }
            fn io_failed(&mut self, detail: &str) {
                <$type>::io_failed(self, detail)
            }
            fn tls_established(&mut self, verified: bool) {
                <$type>::tls_established(self, verified)
            }
            fn tls_verified(&mut self, verified: bool) {
                <$type>::tls_verified(self, verified)
            }
            fn tls_failed(&mut self, detail: &str) {
                <$type>::tls_failed(self, detail)
            }
            fn content_sent(&mut self, bytes: u64, lines: u64) {
                <$type>::content_sent(self, bytes, lines)
            }
        }
    };
}

machine!(Client, out_of_time);
// A session the user drives has no deadline for the whole run: only each step's.
machine!(Session, timed_out);

/// Open the dialogue on `wire`: the preamble, then for implicit TLS the handshake. The chain and verdict of
/// that handshake, if any.
pub fn open(
    wire: Wire,
    machine: &mut dyn Machine,
    implicit_tls: bool,
    handshake_deadline: Instant,
    conversation: &Conversation<'_>,
    sink: &mut dyn Sink,
) -> (Connection, Option<Certificates>) {
    let mut connection = Connection::new(wire);
    if let Some(preamble) = conversation.preamble {
        sink.emit(Event::Smtp(SmtpEvent::Sent { line: preamble.shown.clone(), tls: false }));
        if let Err(failure) = connection.write_all(&preamble.bytes, handshake_deadline) {
            report(machine, failure, None);
            return (connection, None);
        }
    }
    let mut certificates = None;
    if implicit_tls {
        certificates = handshake(&mut connection, machine, conversation, handshake_deadline, None, sink, false);
    }
    (connection, certificates)
}

/// Run one dialogue over `wire` to its end.
pub fn converse(wire: Wire, settings: Settings, conversation: &Conversation<'_>, sink: &mut dyn Sink) -> Finished {
    let implicit = settings.tls == TlsPolicy::Implicit;
    let handshake_timeout = settings.timeouts.other;
    let give_up_at = settings.give_up_at;
    let mut client = Client::new(settings);
    let now = Instant::now();
    let deadline = give_up_at.map_or(now + handshake_timeout, |end| end.min(now + handshake_timeout));
    let (mut connection, mut certificates) = open(wire, &mut client, implicit, deadline, conversation, sink);
    if let Some(newer) = run(&mut connection, &mut client, conversation, give_up_at, sink) {
        certificates = Some(newer);
    }
    Finished { outcome: client.outcome(), certificates }
}

/// Do what `machine` asks until it says it is finished (or, for a held session, idle); the chain and verdict of
/// a handshake on the way.
pub fn run(
    connection: &mut Connection,
    machine: &mut dyn Machine,
    conversation: &Conversation<'_>,
    give_up_at: Option<Instant>,
    sink: &mut dyn Sink,
) -> Option<Certificates> {
    let mut certificates = None;
    let mut buffer = [0; READ_CHUNK];
    loop {
        forward(machine, sink);
        match machine.poll(Instant::now()) {
            Action::Send { bytes, deadline } => {
                if let Err(failure) = connection.write_all(&bytes, deadline) {
                    report(machine, failure, give_up_at);
                }
            }
            Action::Receive { deadline } => match connection.read(&mut buffer, deadline) {
                Ok(0) => machine.closed(),
                Ok(n) => machine.receive(&buffer[..n]),
                Err(failure) => report(machine, failure, give_up_at),
            },
            Action::StartTls { deadline } => {
                certificates = handshake(connection, machine, conversation, deadline, give_up_at, sink, true);
            }
            Action::SendContent { header, dot_stuffing, trailer, stall, give_up_at } => {
                let tls = machine.is_encrypted();
                let mut writer = connection.stream_writer(stall, give_up_at);
                let result = write_content(&mut writer, &header, dot_stuffing, &trailer, conversation, tls, sink);
                match (result, writer.failure.take()) {
                    (Ok((bytes, lines)), _) => machine.content_sent(bytes, lines),
                    // The content went out and the trailer (the final dot) failed part-way: the dot may be with
                    // the server, so the message counts as sent and its fate is unknown, never "retry".
                    (Err(ContentError::InTrailer { bytes, lines }), Some(failure)) => {
                        machine.content_sent(bytes, lines);
                        report(machine, failure, give_up_at);
                    }
                    (Err(_), Some(failure)) => report(machine, failure, give_up_at),
                    (Err(ContentError::InTrailer { .. }), None) => {
                        machine.io_failed("the final dot could not be written")
                    }
                    (Err(ContentError::Content(error)), None) => {
                        machine.io_failed(&format!("cannot read the message: {error}"))
                    }
                }
            }
            Action::Close => connection.close(),
            // A held session between messages: its driver decides what comes next.
            Action::Finished | Action::Idle => break,
        }
    }
    forward(machine, sink);
    certificates
}

fn forward(machine: &mut dyn Machine, sink: &mut dyn Sink) {
    while let Some(event) = machine.next_event() {
        sink.emit(Event::Smtp(event));
    }
}

fn report(machine: &mut dyn Machine, failure: Failure, give_up_at: Option<Instant>) {
    match failure {
        // Which deadline fired: the whole run's (--max-time), or the step's.
        Failure::Timeout if give_up_at.is_some_and(|end| Instant::now() >= end) => machine.out_of_time(),
        Failure::Timeout => machine.timed_out(),
        Failure::Closed => machine.closed(),
        Failure::Other(detail) => machine.io_failed(&detail),
    }
}

/// Run the handshake and report the session, the chain and the verdict; tell the machine how it went.
fn handshake(
    connection: &mut Connection,
    machine: &mut dyn Machine,
    conversation: &Conversation<'_>,
    deadline: Instant,
    give_up_at: Option<Instant>,
    sink: &mut dyn Sink,
    starttls: bool,
) -> Option<Certificates> {
    let host = conversation.tls_name;
    let Some(tls) = conversation.tls else {
        machine.tls_failed("TLS is not set up");
        return None;
    };
    let (session, recorder) = match tls.connect_with(host, conversation.verify, conversation.dane.clone()) {
        Ok(pair) => pair,
        Err(detail) => {
            machine.tls_failed(&detail);
            return None;
        }
    };
    let started = Instant::now();
    let result = connection.handshake(session, deadline);
    let certificates = recorder.take(host);
    let show_chain = |sink: &mut dyn Sink, certificates: &Certificates| {
        for certificate in &certificates.chain {
            sink.emit(Event::Certificate(certificate.clone()));
        }
        sink.emit(Event::CertificateVerdict {
            host: host.to_string(),
            verdict: certificates.verdict.clone(),
            policy: tls.verify.unwrap_or(conversation.verify),
            chosen: tls.verify.is_some(),
        });
        if let Some(dane) = &certificates.dane {
            sink.emit(Event::Dane { host: host.to_string(), verdict: dane.clone() });
        }
    };
    match result {
        Ok(()) => {
            sink.emit(Event::Step { step: Step::TlsHandshake, duration: started.elapsed() });
            if let Some(session) = connection.tls() {
                sink.emit(Event::Tls(SessionFacts::of(session)));
            }
            if let Some(certificates) = &certificates {
                show_chain(sink, certificates);
            }
            let verified = certificates.as_ref().is_some_and(Certificates::authenticated);
            if starttls {
                machine.tls_established(verified);
            } else {
                machine.tls_verified(verified);
            }
        }
        Err(HandshakeError::Io(failure)) => report(machine, failure, give_up_at),
        Err(HandshakeError::Tls(error)) => match &certificates {
            Some(seen @ Certificates { dane: Some(DaneVerdict { result: Err(why), .. }), .. }) => {
                show_chain(sink, seen);
                machine.tls_failed(&format!("{host}: DANE: {why}"));
            }
            Some(seen @ Certificates { verdict: Verdict::Refused(problem), .. }) => {
                show_chain(sink, seen);
                machine.tls_failed(&format!("{host}: {problem}"));
            }
            _ => machine.tls_failed(&format!("handshake with {host} failed: {error}")),
        },
    }
    certificates
}

/// The content as one stream: the BDAT header, the message through the codec, the trailer ("." and maybe
/// QUIT); what the codec counted.
fn write_content(
    writer: &mut dyn Write,
    header: &[u8],
    dot_stuffing: bool,
    trailer: &[u8],
    conversation: &Conversation<'_>,
    tls: bool,
    sink: &mut dyn Sink,
) -> Result<(u64, u64), ContentError> {
    let content = conversation.content.ok_or_else(|| io::Error::other("no message to send"))?;
    let mut buffered = BufWriter::with_capacity(WRITE_BLOCK, Progress { inner: writer, report: conversation.progress });
    buffered.write_all(header)?;
    // BDAT announced the size before the content (RFC 3030 §2): a message that changed since it was measured
    // must not put one byte more than that on the wire, where the server would read it as a command.
    let announced = if dot_stuffing {
        None
    } else {
        std::str::from_utf8(header).ok().and_then(|h| h.split(' ').nth(1)?.parse::<u64>().ok())
    };
    let (bytes, lines) = if conversation.show_data {
        let tap = LineTap { inner: &mut buffered, sink, line: Vec::new(), tls };
        write_through(stuffer(Budget::new(tap, announced), dot_stuffing), content)?
    } else {
        write_through(stuffer(Budget::new(&mut buffered, announced), dot_stuffing), content)?
    };
    if let Some(size) = announced.filter(|&size| size != bytes) {
        // Fewer bytes than announced: the server still waits for the rest; fail before the trailer.
        return Err(ContentError::Content(io::Error::other(format!(
            "the message changed while it was sent ({bytes} bytes, not {size})"
        ))));
    }
    // The trailer joins the content's last block when it fits: one write, so one packet and one wake-up of the
    // server rather than two. From the write that carries it on, part of the final dot may reach the server
    // whatever happens next, so a failure there leaves the message's fate unknown.
    if buffered.capacity() - buffered.buffer().len() < trailer.len() {
        buffered.flush()?;
    }
    let in_trailer = |_| ContentError::InTrailer { bytes, lines };
    buffered.write_all(trailer).map_err(in_trailer)?;
    buffered.flush().map_err(in_trailer)?;
    Ok((bytes, lines))
}

/// Where writing the content failed: before its end (nothing final went out), or in the trailer.
enum ContentError {
    Content(io::Error),
    InTrailer { bytes: u64, lines: u64 },
}

impl From<io::Error> for ContentError {
    fn from(error: io::Error) -> Self {
        ContentError::Content(error)
    }
}

impl std::fmt::Display for ContentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContentError::Content(error) => write!(f, "{error}"),
            ContentError::InTrailer { .. } => f.write_str("the final dot could not be written"),
        }
    }
}

fn stuffer<W: Write>(inner: W, dot_stuffing: bool) -> DotStuffer<W> {
    if dot_stuffing {
        DotStuffer::new(inner)
    } else {
        DotStuffer::without_dot_stuffing(inner)
    }
}

/// Write the content through the codec and complete its last line: the normalised size and line count.
fn write_through<W: Write>(mut stuffer: DotStuffer<W>, content: &dyn Content) -> io::Result<(u64, u64)> {
    content.write_to(&mut stuffer)?;
    stuffer.end_content()?;
    Ok((stuffer.message_bytes(), stuffer.lines()))
}

/// Refuses to pass on more than the size BDAT announced: a write that would go beyond it fails whole.
struct Budget<W: Write> {
    inner: W,
    announced: Option<u64>,
    written: u64,
}

impl<W: Write> Budget<W> {
    fn new(inner: W, announced: Option<u64>) -> Self {
        Budget { inner, announced, written: 0 }
    }
}

impl<W: Write> Write for Budget<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(size) = self.announced.filter(|&size| self.written + buf.len() as u64 > size) {
            return Err(io::Error::other(format!(
                "the message changed while it was sent (more than the {size} bytes announced)"
            )));
        }
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Counts the bytes that reach the socket, for a progress bar.
struct Progress<'p, W: Write> {
    inner: W,
    report: Option<&'p dyn Fn(u64)>,
}

impl<W: Write> Write for Progress<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(report) = self.report {
            report(n as u64);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Passes bytes through and reports each whole line to the sink (--show-data).
struct LineTap<'a, W: Write> {
    inner: W,
    sink: &'a mut dyn Sink,
    line: Vec<u8>,
    tls: bool,
}

impl<W: Write> Write for LineTap<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_all(buf)?;
        for piece in buf.split_inclusive(|&b| b == b'\n') {
            self.line.extend_from_slice(piece);
            if self.line.ends_with(b"\r\n") {
                self.line.truncate(self.line.len() - 2);
                let line = std::mem::take(&mut self.line);
                self.sink.emit(Event::Smtp(SmtpEvent::DataLine { line, tls: self.tls }));
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Content that grows by a line each time it is written, as a file appended to between the measuring
    /// pass and the sending pass.
    struct Growing(Cell<usize>);

    impl Content for Growing {
        fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
            self.0.set(self.0.get() + 1);
            (0..self.0.get()).try_for_each(|_| out.write_all(b"line\r\n"))
        }
    }

    fn send(content: &Growing, header: &[u8], dot_stuffing: bool) -> (Result<(u64, u64), ContentError>, Vec<u8>) {
        let conversation = Conversation {
            tls: None,
            tls_name: "",
            verify: Verify::Strict,
            content: Some(content),
            show_data: false,
            progress: None,
            preamble: None,
            dane: None,
        };
        let mut wire = Vec::new();
        let result = write_content(&mut wire, header, dot_stuffing, b"", &conversation, false, &mut Vec::new());
        (result, wire)
    }

    #[test]
    fn bdat_never_sends_more_than_it_announced() {
        // Measured at 6 bytes (one line); by the time it is sent it has two lines.
        let (result, wire) = send(&Growing(Cell::new(1)), b"BDAT 6 LAST\r\n", false);
        let Err(ContentError::Content(error)) = result else { panic!("a grown message was sent") };
        assert!(error.to_string().contains("changed while it was sent"), "{error}");
        assert!(wire.len() <= "BDAT 6 LAST\r\n".len() + 6, "{:?}", String::from_utf8_lossy(&wire));
        // Shrunk: fewer bytes than announced is an error before the trailer too.
        let (result, _) = send(&Growing(Cell::new(0)), b"BDAT 13 LAST\r\n", false);
        assert!(matches!(result, Err(ContentError::Content(_))));
        // As announced: sent.
        let (result, wire) = send(&Growing(Cell::new(0)), b"BDAT 6 LAST\r\n", false);
        assert!(matches!(result, Ok((6, 1))));
        assert_eq!(wire, b"BDAT 6 LAST\r\nline\r\n");
    }
}
