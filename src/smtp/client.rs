//! The SMTP client dialogue (RFC 5321 §3, §4.1) as a sans-I/O state machine.
//!
//! The client never touches a socket, a clock or a terminal. A driver hands it the server's bytes
//! ([`Client::receive`]), tells it what happened to the connection ([`Client::closed`], [`Client::timed_out`],
//! the TLS handshake, the message content) and asks it what to do next ([`Client::poll`], given the current
//! time so it can say until when to wait). It answers with an [`Action`] and reports what happened as typed
//! [`Event`]s. Every decision of the dialogue is made here, once: greeting, EHLO with HELO fallback, the
//! STARTTLS decision and the EHLO after it, AUTH and its exchange, MAIL/RCPT/DATA grouped under PIPELINING,
//! BDAT or DATA, every stop point, QUIT, and what a failure means for each recipient.
//!
//! It holds no global state and never blocks, so a driver can run thousands of them at once.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::auth;
use super::command::Command;
use super::ehlo::Capabilities;
use super::error::{AuthBlock, Error, Phase};
use super::event::{Event, Note};
use super::extensions;
use super::reply::{Reply, ReplyParser};
use super::settings::{Credentials, Settings, StopPoint, TlsPolicy};
use super::xclient;

/// What the driver is to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes (whole commands, possibly several) in one write, before `deadline`.
    Send { bytes: Vec<u8>, deadline: Instant },
    /// Read from the server and hand what arrives to [`Client::receive`]; at `deadline`, call
    /// [`Client::timed_out`]; at the end of the stream, [`Client::closed`].
    Receive { deadline: Instant },
    /// The server accepted STARTTLS: run the TLS handshake now, before `deadline`, then call
    /// [`Client::tls_established`] or [`Client::tls_failed`].
    StartTls { deadline: Instant },
    /// Write `header`, then the message content (line endings normalised to CRLF, and dot-stuffed when
    /// `dot_stuffing`), then `trailer`, as one stream; fail when no byte is taken for `stall`, or at
    /// `give_up_at`. Then call [`Client::content_sent`] with what the codec counted.
    SendContent { header: Vec<u8>, dot_stuffing: bool, trailer: Vec<u8>, stall: Duration, give_up_at: Option<Instant> },
    /// Close the connection; then poll again.
    Close,
    /// The transaction is over and the session stays open (`Settings::hold_session`): call
    /// [`Client::next_transaction`] for another message, or [`Client::quit`].
    Idle,
    /// The dialogue is over: take [`Client::outcome`].
    Finished,
}

/// What became of one recipient in this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The reply that decided it and the step it answered.
    Replied { phase: Phase, reply: Reply },
    /// The message went out, final dot included, and no reply to it came: the server may have it.
    Unknown { error: Error },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientOutcome {
    pub recipient: String,
    pub verdict: Verdict,
}

impl RecipientOutcome {
    /// The server took responsibility for the message for this recipient (RFC 5321 §4.1.1.4).
    pub fn delivered(&self) -> bool {
        matches!(&self.verdict, Verdict::Replied { phase: Phase::EndOfData, reply } if reply.is_positive())
    }

    /// Accepted at RCPT, and nothing decided since: the message's fate is still to come.
    fn waiting_for_the_message(&self) -> bool {
        matches!(&self.verdict, Verdict::Replied { phase: Phase::RcptTo, reply } if reply.is_positive())
    }
}

/// Everything the session learnt, for the caller to decide with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub greeting: Option<Reply>,
    /// The certificate of the TLS session verified.
    pub verified: bool,
    /// What the last EHLO (or HELO) said.
    pub capabilities: Option<Capabilities>,
    pub encrypted: bool,
    /// The reply to MAIL FROM, when it was sent.
    pub mail: Option<Reply>,
    /// Every recipient the transaction reached, in order; empty when it did not start.
    pub recipients: Vec<RecipientOutcome>,
    /// Why the session ended before its goal.
    pub error: Option<Error>,
    /// The whole message went out, final dot (or BDAT LAST) included: trying elsewhere could deliver twice.
    pub message_sent: bool,
    /// The session ended on purpose at this step.
    pub stopped: Option<StopPoint>,
}

/// What the next reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Greeting,
    /// The greeting when QUIT was sent before it (`--quit-after connect`).
    GreetingBeforeQuit,
    Ehlo,
    Helo,
    Xclient,
    StartTls,
    Auth,
    Mail,
    Rcpt(usize),
    Data,
    /// The reply to an empty message ended at once after a pipelined DATA nobody needed.
    EmptyMessage,
    EndOfData,
    /// LMTP (RFC 2033 §4.2): the reply after the message for the accepted recipient at this index.
    RecipientData(usize),
    Rset,
    /// RSET before the next transaction of a held session.
    Reset,
    Quit,
}

impl Expect {
    fn phase(self) -> Phase {
        match self {
            Expect::Greeting | Expect::GreetingBeforeQuit => Phase::Banner,
            Expect::Ehlo => Phase::Ehlo,
            Expect::Helo => Phase::Helo,
            Expect::Xclient => Phase::Xclient,
            Expect::StartTls => Phase::StartTls,
            Expect::Auth => Phase::Auth,
            Expect::Mail => Phase::MailFrom,
            Expect::Rset => Phase::Quit,
            Expect::Reset => Phase::MailFrom,
            Expect::Rcpt(_) => Phase::RcptTo,
            Expect::Data => Phase::Data,
            Expect::EmptyMessage | Expect::EndOfData | Expect::RecipientData(_) => Phase::EndOfData,
            Expect::Quit => Phase::Quit,
        }
    }
}

/// A special step waiting for the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    StartTls,
    Handshaking,
    Content { header: Vec<u8>, dot_stuffing: bool, trailer: Vec<u8> },
    SendingContent { trailer_lines: Vec<String>, quit_follows: bool },
}

pub struct Client {
    settings: Settings,
    parser: ReplyParser,
    events: VecDeque<Event>,
    output: Vec<u8>,
    /// The phase of the last command written, for the write deadline.
    output_phase: Phase,
    expect: VecDeque<Expect>,
    /// When the wait for the reply at the front of `expect` began.
    waiting_since: Option<Instant>,
    pending: Option<Pending>,
    /// The step being carried out when nothing is expected (the message content going out).
    phase: Phase,
    encrypted: bool,
    hellos: u8,
    capabilities: Option<Capabilities>,
    pipelined: bool,
    auth: Option<auth::Exchange>,
    outcome: Outcome,
    quit_sent: bool,
    close: bool,
    closed: bool,
    /// The "no greeting yet" note: due at the current deadline (`armed`), or said already.
    nudge_armed: bool,
    nudged: bool,
    /// The parameters of each RCPT TO, worked out with MAIL FROM's.
    rcpt_parameters: Vec<Vec<String>>,
    /// XCLIENT was accepted: the EHLO after it does not send it again.
    xclient_done: bool,
    /// A held session between transactions, waiting for the driver.
    idle: bool,
    /// The next transaction of a held session, given ahead (`queue_transaction`): its commands can ride with
    /// this message's final dot.
    queued: Option<super::settings::Envelope>,
    /// A transaction whose commands went out behind the final dot: it starts when that dot's reply comes.
    chain: Option<(super::settings::Envelope, Vec<Expect>)>,
    next_envelope: Option<super::settings::Envelope>,
    /// Transactions that ended while the next was already under way, for the driver to take.
    finished: VecDeque<Outcome>,
}

/// When to say that the greeting is late.
const GREETING_NUDGE: Duration = Duration::from_secs(3);

impl Client {
    /// A dialogue from the start of a connection (for implicit TLS, after the driver's handshake).
    pub fn new(settings: Settings) -> Client {
        let encrypted = settings.tls == TlsPolicy::Implicit;
        let mut client = Client {
            settings,
            parser: ReplyParser::new(),
            events: VecDeque::new(),
            output: Vec::new(),
            output_phase: Phase::Banner,
            expect: VecDeque::new(),
            waiting_since: None,
            pending: None,
            phase: Phase::Banner,
            encrypted,
            hellos: 0,
            capabilities: None,
            pipelined: false,
            auth: None,
            outcome: Outcome { encrypted, ..Outcome::default() },
            quit_sent: false,
            close: false,
            closed: false,
            nudge_armed: false,
            nudged: false,
            rcpt_parameters: Vec::new(),
            xclient_done: false,
            idle: false,
            queued: None,
            chain: None,
            next_envelope: None,
            finished: VecDeque::new(),
        };
        match client.settings.stop {
            Some(stop) if stop.point == StopPoint::Connect && stop.drop => client.stop_here(StopPoint::Connect),
            Some(stop) if stop.point == StopPoint::Connect => {
                // QUIT before the greeting; then read the greeting and the reply to QUIT.
                client.outcome.stopped = Some(StopPoint::Connect);
                client.expect.push_back(Expect::GreetingBeforeQuit);
                client.send_quit();
            }
            _ => client.expect.push_back(Expect::Greeting),
        }
        client
    }

    /// The next event, in the order they happened.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether the connection is encrypted now.
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// What to do next. `now` is the driver's clock: deadlines are counted from it.
    pub fn poll(&mut self, now: Instant) -> Action {
        if !self.output.is_empty() && !self.closed {
            let deadline = self.cap(now + self.settings.timeouts.for_phase(self.output_phase));
            return Action::Send { bytes: std::mem::take(&mut self.output), deadline };
        }
        // A transaction ended and the next one's content is about to go: let the driver take the outcome and
        // queue another first, so that one can ride behind this content's final dot.
        if !self.finished.is_empty() && matches!(self.pending, Some(Pending::Content { .. })) {
            return Action::Idle;
        }
        match self.pending.take() {
            Some(Pending::StartTls) => {
                self.pending = Some(Pending::Handshaking);
                return Action::StartTls { deadline: self.cap(now + self.settings.timeouts.other) };
            }
            Some(Pending::Content { header, dot_stuffing, mut trailer }) => {
                // The queued transaction is looked at now, not when DATA's go-ahead came: the driver may have
                // queued it since.
                if dot_stuffing {
                    if let Some((commands, envelope, expects)) = self.chained_commands() {
                        trailer.extend_from_slice(&commands);
                        self.chain = Some((envelope, expects));
                    }
                }
                let trailer_lines = String::from_utf8_lossy(&trailer).lines().map(str::to_string).collect();
                let quit_follows = self.quit_sent;
                self.pending = Some(Pending::SendingContent { trailer_lines, quit_follows });
                let stall = self.settings.timeouts.data_block;
                return Action::SendContent {
                    header,
                    dot_stuffing,
                    trailer,
                    stall,
                    give_up_at: self.settings.give_up_at,
                };
            }
            other => self.pending = other,
        }
        if self.close && !self.closed {
            self.closed = true;
            return Action::Close;
        }
        if self.closed || self.pending.is_some() {
            // A driver that polls while a handshake or the content is under way gets nothing new to do.
            return if self.closed { Action::Finished } else { Action::Receive { deadline: now } };
        }
        if !self.finished.is_empty() || (self.idle && self.expect.is_empty()) {
            return Action::Idle;
        }
        match self.expect.front() {
            Some(&expect) => {
                let since = *self.waiting_since.get_or_insert(now);
                let mut deadline = self.cap(since + self.settings.timeouts.for_phase(expect.phase()));
                self.nudge_armed = false;
                // A greeting that does not come within seconds is worth a word: an implicit-TLS port waits for
                // the client to speak first, so the wait would run to the end of the timeout.
                if expect == Expect::Greeting && !self.nudged {
                    let nudge = since + GREETING_NUDGE;
                    if nudge < deadline {
                        deadline = nudge;
                        self.nudge_armed = true;
                    }
                }
                Action::Receive { deadline }
            }
            None => {
                // Nothing left to ask or wait for.
                self.close = true;
                self.poll(now)
            }
        }
    }

    /// Bytes from the server.
    pub fn receive(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        if self.expect.front() == Some(&Expect::Greeting)
            && self.parser.buffered() == 0
            && bytes.starts_with(&[0x16, 0x03])
        {
            // A TLS handshake record (RFC 8446 §5.1: type 22, version 3.x) where the greeting belongs.
            return self.fail(Error::TlsInsteadOfGreeting, false);
        }
        self.parser.feed(bytes);
        while !self.close && !self.closed && self.pending.is_none() {
            match self.parser.next_reply() {
                Ok(Some(reply)) => {
                    self.waiting_since = None;
                    let phase = self.current_phase();
                    self.events.push_back(Event::Received { reply: reply.clone(), tls: self.encrypted, phase });
                    self.handle(reply);
                }
                Ok(None) => break,
                Err(error) => {
                    let phase = self.current_phase();
                    self.fail(Error::Violation { phase, detail: error.to_string() }, false);
                }
            }
        }
    }

    /// The server closed the connection.
    pub fn closed(&mut self) {
        let phase = self.current_phase();
        self.connection_failed(Error::Closed { phase });
    }

    /// The deadline of the last action passed.
    pub fn timed_out(&mut self) {
        if std::mem::take(&mut self.nudge_armed) && !self.nudged {
            self.nudged = true;
            self.events.push_back(Event::Note(Note::SlowGreeting { seconds: GREETING_NUDGE.as_secs() }));
            return;
        }
        let phase = self.current_phase();
        let error = match self.pending {
            Some(Pending::SendingContent { .. }) => Error::Stalled { phase, after: self.settings.timeouts.data_block },
            _ => Error::Timeout { phase, after: self.settings.timeouts.for_phase(phase) },
        };
        self.connection_failed(error);
    }

    /// The deadline for the whole run (`give_up_at`) passed.
    pub fn out_of_time(&mut self) {
        let phase = self.current_phase();
        self.connection_failed(Error::OutOfTime { phase });
    }

    /// Reading or writing failed for another reason.
    pub fn io_failed(&mut self, detail: &str) {
        let phase = self.current_phase();
        self.connection_failed(Error::Io { phase, detail: detail.to_string() });
    }

    /// The STARTTLS handshake succeeded, with a certificate that verified or not: RFC 3207 §4.2, forget what
    /// the server said before and EHLO again.
    pub fn tls_established(&mut self, verified: bool) {
        self.pending = None;
        self.encrypted = true;
        self.outcome.encrypted = true;
        self.outcome.verified = verified;
        self.capabilities = None;
        self.send_ehlo();
    }

    /// Implicit TLS: whether the certificate of the handshake before the greeting verified.
    pub fn tls_verified(&mut self, verified: bool) {
        self.outcome.verified = verified;
    }

    /// The handshake failed: the connection cannot carry anything more, not even QUIT.
    pub fn tls_failed(&mut self, detail: &str) {
        self.pending = None;
        self.fail(Error::Tls { detail: detail.to_string() }, false);
    }

    /// The message content and its trailer went out: `bytes` and `lines` as the codec counted them.
    pub fn content_sent(&mut self, bytes: u64, lines: u64) {
        let Some(Pending::SendingContent { trailer_lines, quit_follows }) = self.pending.take() else {
            return;
        };
        self.events.push_back(Event::DataSent { bytes, lines, tls: self.encrypted });
        for line in trailer_lines {
            self.events.push_back(Event::Sent { line, tls: self.encrypted });
        }
        self.outcome.message_sent = true;
        self.phase = Phase::EndOfData;
        if self.settings.lmtp {
            // RFC 2033 §4.2: one reply for each recipient accepted at RCPT, in the same order.
            let recipients = self.outcome.recipients.iter().enumerate();
            let waiting = recipients.filter(|(_, recipient)| recipient.waiting_for_the_message());
            self.expect.extend(waiting.map(|(index, _)| Expect::RecipientData(index)));
        } else {
            self.expect.push_back(Expect::EndOfData);
        }
        if let Some((envelope, expects)) = self.chain.take() {
            self.expect.extend(expects);
            self.next_envelope = Some(envelope);
        }
        if quit_follows {
            self.expect.push_back(Expect::Quit);
        }
        // Replies that arrived while the content went out are waiting in the parser.
        self.receive(&[]);
    }

    /// A held session's next message (after [`Action::Idle`]): RSET (RFC 5321 §4.1.1.5) and the transaction,
    /// in one write under PIPELINING (RFC 2920 lets RSET go anywhere in a group). The outcome starts afresh.
    pub fn next_transaction(&mut self, envelope: super::settings::Envelope) {
        if !self.idle {
            return;
        }
        self.idle = false;
        self.outcome.mail = None;
        self.outcome.recipients.clear();
        self.outcome.message_sent = false;
        self.settings.envelope = Some(envelope);
        self.send(&Command::Rset, Expect::Reset);
        if self.pipelines() {
            self.begin_transaction();
        }
    }

    /// Give a held session its next transaction ahead of time: under PIPELINING its RSET, MAIL, RCPT and DATA
    /// go in the same write as this message's final dot (RFC 2920 §3.1: the content may start a group, RSET,
    /// MAIL and RCPT may go anywhere in it, DATA ends it). When it ends, [`Client::take_finished`] has the
    /// outcome of the one before.
    pub fn queue_transaction(&mut self, envelope: super::settings::Envelope) {
        if self.settings.hold_session {
            self.queued = Some(envelope);
        }
    }

    /// Whether a transaction given with [`Client::queue_transaction`] is waiting to be started.
    pub fn has_queued(&self) -> bool {
        self.queued.is_some()
    }

    /// Start the queued transaction of an idle session (one that could not ride behind the dot).
    pub fn start_queued(&mut self) -> bool {
        match (self.idle, self.queued.take()) {
            (true, Some(envelope)) => {
                self.next_transaction(envelope);
                true
            }
            (_, queued) => {
                self.queued = queued;
                false
            }
        }
    }

    /// The outcome of a transaction that ended while the next one was under way (after [`Action::Idle`]).
    pub fn take_finished(&mut self) -> Option<Outcome> {
        self.finished.pop_front()
    }

    /// The session is over: the connection is closed.
    pub fn is_over(&self) -> bool {
        self.closed
    }

    /// End a held session (after [`Action::Idle`]) with QUIT.
    pub fn quit(&mut self) {
        if self.idle {
            self.idle = false;
            self.send_quit();
        }
    }

    /// Whether this session is between transactions, waiting for [`Client::next_transaction`] or
    /// [`Client::quit`].
    pub fn is_idle(&self) -> bool {
        self.idle && self.expect.is_empty()
    }

    /// The transaction's result so far, without copying it: MAIL's reply, the recipients, the error (the
    /// capabilities are not filled in; [`Client::outcome`] has them).
    pub fn transaction(&self) -> &Outcome {
        &self.outcome
    }

    /// The result, once [`Action::Finished`] was returned.
    pub fn outcome(&self) -> Outcome {
        let mut outcome = self.outcome.clone();
        outcome.capabilities = self.capabilities.clone();
        outcome
    }

    /// A deadline no later than the one for the whole run (`give_up_at`).
    fn cap(&self, deadline: Instant) -> Instant {
        self.settings.give_up_at.map_or(deadline, |end| end.min(deadline))
    }

    fn current_phase(&self) -> Phase {
        match self.expect.front() {
            Some(expect) => expect.phase(),
            None => match self.pending {
                Some(Pending::Handshaking | Pending::StartTls) => Phase::TlsHandshake,
                _ => self.phase,
            },
        }
    }

    /// A failure of the connection itself: nothing more can be said on it.
    fn connection_failed(&mut self, error: Error) {
        if self.closed {
            return;
        }
        if self.expect.front() == Some(&Expect::Quit) {
            // The outcome is decided; a lost QUIT only deserves a warning.
            self.events.push_back(Event::Note(Note::QuitProblem { detail: error.to_string() }));
            self.expect.clear();
            self.close = true;
            return;
        }
        self.fail(error, false);
    }

    /// End the session with `error`: with QUIT when the connection is still in order (`polite`), otherwise by
    /// closing it. After the final dot, the recipients still waiting have an unknown fate.
    fn fail(&mut self, error: Error, polite: bool) {
        if self.outcome.message_sent && self.outcome.error.is_none() {
            for recipient in &mut self.outcome.recipients {
                if recipient.waiting_for_the_message() {
                    recipient.verdict = Verdict::Unknown { error: error.clone() };
                }
            }
        }
        if self.outcome.error.is_none() {
            self.outcome.error = Some(error);
        }
        self.expect.clear();
        self.pending = None;
        if polite && !self.quit_sent {
            self.send_quit();
        } else {
            self.output.clear();
            self.close = true;
        }
    }

    /// Whether the session is to stop at `point`.
    fn stops_at(&self, point: StopPoint) -> bool {
        self.settings.stop.is_some_and(|stop| stop.point == point)
    }

    /// End on purpose at `point`: QUIT, or close without it (`--drop-after`).
    fn stop_here(&mut self, point: StopPoint) {
        self.outcome.stopped = Some(point);
        if self.settings.stop.is_some_and(|stop| stop.drop) {
            self.events.push_back(Event::Note(Note::ClosingWithoutQuit));
            self.close = true;
        } else {
            self.send_quit();
        }
    }

    fn send(&mut self, command: &Command<'_>, expect: Expect) {
        let line = command.to_string();
        self.send_line(&line, &line, expect);
    }

    /// One line on the wire; the transcript gets `shown` (the line, or a redacted form of it).
    fn send_line(&mut self, line: &str, shown: &str, expect: Expect) {
        self.events.push_back(Event::Sent { line: shown.to_string(), tls: self.encrypted });
        self.output.extend_from_slice(line.as_bytes());
        self.output.extend_from_slice(b"\r\n");
        self.output_phase = expect.phase();
        self.expect.push_back(expect);
    }

    fn send_quit(&mut self) {
        self.quit_sent = true;
        self.send(&Command::Quit, Expect::Quit);
    }

    /// The transaction is over, whatever became of it: QUIT, or in a held session wait for the driver.
    fn end_transaction(&mut self) {
        if self.settings.hold_session && self.outcome.error.is_none() {
            self.idle = true;
        } else {
            self.send_quit();
        }
    }

    /// Whether commands may be grouped: the server offers PIPELINING and the user did not turn it off.
    fn pipelines(&self) -> bool {
        self.settings.pipelining && self.capabilities.as_ref().is_some_and(|c| c.has("PIPELINING"))
    }

    fn send_ehlo(&mut self) {
        let name = self.settings.client_name.clone();
        let command = if self.settings.lmtp { Command::Lhlo(&name) } else { Command::Ehlo(&name) };
        self.send(&command, Expect::Ehlo);
    }

    fn handle(&mut self, reply: Reply) {
        let Some(expect) = self.expect.pop_front() else {
            let phase = self.current_phase();
            self.fail(Error::Violation { phase, detail: format!("a reply nobody asked for: {reply}") }, false);
            return;
        };
        let phase = expect.phase();
        // RFC 5321 §3.8: 421 means the server is closing the connection, whatever the command was.
        if reply.code.0 == 421 && !matches!(expect, Expect::Quit | Expect::GreetingBeforeQuit) {
            if self.outcome.message_sent && matches!(expect, Expect::EndOfData | Expect::RecipientData(_)) {
                self.settle_accepted(Phase::EndOfData, &reply);
                self.close = true;
                self.expect.clear();
            } else {
                if expect == Expect::Data {
                    self.settle_accepted(Phase::Data, &reply);
                }
                self.fail(Error::Refused { phase, reply }, false);
            }
            return;
        }
        match expect {
            Expect::Greeting => self.on_greeting(reply),
            Expect::GreetingBeforeQuit => {
                let positive = reply.is_positive();
                self.outcome.greeting = Some(reply);
                if !positive {
                    self.expect.clear();
                    self.close = true;
                }
            }
            Expect::Ehlo => self.on_ehlo(reply),
            Expect::Helo => {
                if reply.is_positive() {
                    let mut capabilities = Capabilities::from_ehlo(&reply);
                    capabilities.extensions.clear();
                    self.on_hello(capabilities);
                } else {
                    self.refuse_session(phase, reply);
                }
            }
            Expect::StartTls => self.on_starttls(reply),
            Expect::Auth => self.on_auth(reply),
            Expect::Mail => self.on_mail(reply),
            Expect::Rcpt(index) => self.on_rcpt(index, reply),
            Expect::Data => self.on_data(reply),
            Expect::EmptyMessage => {
                if self.expect.is_empty() && !self.quit_sent {
                    self.end_transaction();
                }
            }
            Expect::Rset => {
                if self.expect.is_empty() && !self.quit_sent {
                    self.send_quit();
                }
            }
            Expect::Reset => {
                if !reply.is_positive() {
                    return self.refuse_session(Phase::MailFrom, reply);
                }
                if !self.pipelines() {
                    self.begin_transaction();
                }
            }
            Expect::EndOfData => self.on_end_of_data(reply),
            Expect::RecipientData(index) => self.on_recipient_data(index, reply),
            Expect::Xclient => self.on_xclient(reply),
            Expect::Quit => {
                if !reply.is_positive() {
                    self.events
                        .push_back(Event::Note(Note::QuitProblem { detail: format!("QUIT answered with {reply}") }));
                }
                self.expect.clear();
                self.close = true;
            }
        }
    }

    /// A refusal that ends the session: QUIT, as the connection is in order.
    fn refuse_session(&mut self, phase: Phase, reply: Reply) {
        if reply.code.is_intermediate() {
            self.fail(unexpected(phase, &reply), false);
        } else {
            self.fail(Error::Refused { phase, reply }, true);
        }
    }

    /// RFC 5321 §4.3.1: a greeting is 220, or 554 for "no service here" (421 is handled before).
    fn on_greeting(&mut self, reply: Reply) {
        self.outcome.greeting = Some(reply.clone());
        match reply.code.0 {
            220 => {
                if self.stops_at(StopPoint::Banner) {
                    self.stop_here(StopPoint::Banner);
                } else {
                    self.send_ehlo();
                }
            }
            400..=599 => self.fail(Error::Refused { phase: Phase::Banner, reply }, true),
            _ => self.fail(
                Error::Violation {
                    phase: Phase::Banner,
                    detail: format!("a greeting must be 220, 421 or 554, not {}", reply.code),
                },
                false,
            ),
        }
    }

    /// EHLO, falling back to HELO when the server does not know EHLO (RFC 5321 §4.1.4: a 5xx).
    fn on_ehlo(&mut self, reply: Reply) {
        if reply.is_positive() {
            self.on_hello(Capabilities::from_ehlo(&reply));
        } else if reply.is_permanent() && !self.settings.lmtp {
            self.events.push_back(Event::Note(Note::HeloFallback));
            let name = self.settings.client_name.clone();
            self.send(&Command::Helo(&name), Expect::Helo);
        } else {
            self.refuse_session(Phase::Ehlo, reply);
        }
    }

    fn on_hello(&mut self, capabilities: Capabilities) {
        self.hellos += 1;
        self.capabilities = Some(capabilities);
        // --quit-after ehlo: after the first EHLO, before STARTTLS.
        if self.hellos == 1 && self.stops_at(StopPoint::Ehlo) {
            return self.stop_here(StopPoint::Ehlo);
        }
        if !self.encrypted && matches!(self.settings.tls, TlsPolicy::Opportunistic | TlsPolicy::Required) {
            let offered = self.capabilities.as_ref().is_some_and(|c| c.has("STARTTLS"));
            if offered {
                return self.send(&Command::StartTls, Expect::StartTls);
            }
            let host = self.settings.server_host.clone();
            if self.settings.tls == TlsPolicy::Required {
                return self.fail(Error::StartTlsNotOffered { host }, true);
            }
            self.events.push_back(Event::Note(Note::NoStartTls { host }));
        }
        if !self.xclient_done && !self.settings.xclient.is_empty() {
            if !self.capabilities.as_ref().is_some_and(|c| c.has("XCLIENT")) {
                let host = self.settings.server_host.clone();
                return self.fail(Error::XclientNotOffered { host }, true);
            }
            let line = xclient::command(&self.settings.xclient);
            return self.send_line(&line, &line, Expect::Xclient);
        }
        if self.stops_at(StopPoint::Tls) {
            return self.stop_here(StopPoint::Tls);
        }
        self.authenticate();
    }

    /// XCLIENT's reply is a new greeting (220): the session starts again as the client it names, with EHLO.
    fn on_xclient(&mut self, reply: Reply) {
        if reply.code.0 != 220 {
            return self.refuse_session(Phase::Xclient, reply);
        }
        self.xclient_done = true;
        self.capabilities = None;
        self.send_ehlo();
    }

    fn on_starttls(&mut self, reply: Reply) {
        if !reply.is_positive() && self.settings.tls == TlsPolicy::Opportunistic && !reply.code.is_intermediate() {
            // Opportunistic TLS goes on in clear text when the server will not start it, as mail servers do.
            let host = self.settings.server_host.clone();
            self.events.push_back(Event::Note(Note::StartTlsRefused { host }));
            if self.stops_at(StopPoint::Tls) {
                return self.stop_here(StopPoint::Tls);
            }
            return self.authenticate();
        }
        if !reply.is_positive() {
            return self.refuse_session(Phase::StartTls, reply);
        }
        // Bytes already waiting were sent before TLS but would be read as if they came after it: a man in the
        // middle injecting replies (CVE-2011-0411 class). Refuse rather than start TLS.
        let pending = self.parser.buffered();
        if pending > 0 {
            return self.fail(
                Error::Violation {
                    phase: Phase::StartTls,
                    detail: format!(
                        "the server sent {pending} more bytes after its reply to STARTTLS (response injection); \
                         refusing to start TLS"
                    ),
                },
                false,
            );
        }
        self.pending = Some(Pending::StartTls);
    }

    /// AUTH (RFC 4954) with the given or the strongest common mechanism, only over TLS unless allowed, and
    /// only when the server offers it.
    fn authenticate(&mut self) {
        let Some(credentials) = self.settings.credentials.clone() else {
            return self.after_auth();
        };
        let host = self.settings.server_host.clone();
        if !self.encrypted && !self.settings.allow_plaintext_auth {
            return self.fail(Error::AuthNotAttempted(AuthBlock::Unencrypted { host }), true);
        }
        // Credentials go only to a server whose certificate verified: otherwise anyone in the path could be
        // the server (unless the user said so, with --insecure or --allow-plaintext-auth).
        if self.encrypted && !self.outcome.verified && !self.settings.allow_unverified_auth {
            return self.fail(Error::AuthNotAttempted(AuthBlock::Unverified { host }), true);
        }
        let offered = self.capabilities.as_ref().and_then(|c| c.parameters("AUTH")).map(<[String]>::to_vec);
        let Some(offered) = offered else {
            return self.fail(Error::AuthNotAttempted(AuthBlock::NotOffered { host }), true);
        };
        let mechanism = match credentials.mechanism {
            Some(mechanism) if offered.iter().any(|o| o.eq_ignore_ascii_case(mechanism.name())) => mechanism,
            Some(mechanism) => {
                let block = AuthBlock::MechanismNotOffered { mechanism: mechanism.name(), offered };
                return self.fail(Error::AuthNotAttempted(block), true);
            }
            None => match auth::choose(&offered, credentials.is_token) {
                Some(mechanism) => mechanism,
                None => {
                    let ours = if credentials.is_token { "OAUTHBEARER XOAUTH2" } else { "CRAM-MD5 PLAIN LOGIN" };
                    return self.fail(Error::AuthNotAttempted(AuthBlock::NoCommonMechanism { offered, ours }), true);
                }
            },
        };
        let (exchange, line) = auth::Exchange::start(mechanism, self.identity(&credentials));
        self.auth = Some(exchange);
        self.send_line(&line.wire, &line.shown, Expect::Auth);
    }

    fn identity<'a>(&'a self, credentials: &'a Credentials) -> auth::Identity<'a> {
        auth::Identity {
            user: &credentials.user,
            secret: &credentials.secret,
            show: credentials.show_secrets,
            host: &self.settings.server_host,
            port: self.settings.port,
        }
    }

    fn on_auth(&mut self, reply: Reply) {
        let (Some(mut exchange), Some(credentials)) = (self.auth, self.settings.credentials.clone()) else {
            return self.fail(unexpected(Phase::Auth, &reply), false);
        };
        if reply.is_positive() {
            self.auth = None;
            return self.after_auth();
        }
        if reply.code.0 != 334 {
            if reply.code.is_intermediate() {
                return self.fail(unexpected(Phase::Auth, &reply), false);
            }
            return self.fail(Error::AuthRefused { reply }, true);
        }
        let challenge = reply.texts().next().unwrap_or_default().to_vec();
        match exchange.answer(&challenge, self.identity(&credentials)) {
            Ok(line) => {
                self.auth = Some(exchange);
                self.send_line(&line.wire, &line.shown, Expect::Auth);
            }
            Err(detail) => self.fail(Error::Violation { phase: Phase::Auth, detail }, false),
        }
    }

    fn after_auth(&mut self) {
        if self.stops_at(StopPoint::Auth) {
            return self.stop_here(StopPoint::Auth);
        }
        if self.settings.envelope.is_none() {
            // Nothing to send: the dialogue's goal was everything before the transaction.
            return self.send_quit();
        }
        self.begin_transaction();
    }

    /// MAIL, one RCPT per recipient, and DATA or BDAT. With PIPELINING (RFC 2920) MAIL, every RCPT and DATA
    /// go out in one write and the replies are read in the same order; not when the session stops inside the
    /// transaction, which needs each reply before the next command.
    fn begin_transaction(&mut self) {
        let envelope = self.settings.envelope.clone().expect("a transaction has an envelope");
        let capabilities = self.capabilities.clone().unwrap_or_default();
        let parameters = match self.parameters_for(&envelope) {
            Ok(parameters) => parameters,
            Err(error) => return self.fail(error, true),
        };
        if parameters.dsn_ignored {
            let server = capabilities.display_name().to_string();
            self.events.push_back(Event::Note(Note::NoDsn { server }));
        }
        let bdat = self.settings.bdat && {
            let offered = capabilities.has("CHUNKING");
            if !offered {
                self.events.push_back(Event::Note(Note::NoChunking));
            }
            offered
        };
        self.settings.bdat = bdat;
        let stops_inside = self.settings.stop.is_some_and(|stop| stop.point >= StopPoint::Mail);
        self.pipelined = self.settings.pipelining
            && capabilities.has("PIPELINING")
            && !stops_inside
            && !self.settings.reset_after_recipients;
        self.rcpt_parameters = parameters.rcpt.clone();
        let mail = Command::MailFrom { reverse_path: &envelope.reverse_path, parameters: parameters.mail };
        if !self.pipelined {
            return self.send(&mail, Expect::Mail);
        }
        let mut count = 1;
        let rcpts: Vec<String> = envelope
            .recipients
            .iter()
            .zip(parameters.rcpt)
            .map(|(forward_path, parameters)| Command::RcptTo { forward_path, parameters }.to_string())
            .collect();
        let data = !bdat;
        count += rcpts.len() + usize::from(data);
        self.events.push_back(Event::Note(Note::Pipelining { commands: count }));
        self.send(&mail, Expect::Mail);
        for (index, line) in rcpts.iter().enumerate() {
            self.send_line(line, line, Expect::Rcpt(index));
        }
        if data {
            self.send(&Command::Data, Expect::Data);
        }
    }

    /// MAIL's and each RCPT's parameters for `envelope`, as the server's extensions allow.
    fn parameters_for(&self, envelope: &super::settings::Envelope) -> Result<extensions::Parameters, Error> {
        let none = Capabilities::default();
        let capabilities = self.capabilities.as_ref().unwrap_or(&none);
        extensions::parameters(
            capabilities,
            &envelope.facts,
            &envelope.reverse_path,
            &envelope.recipients,
            &envelope.dsn,
        )
    }

    fn on_mail(&mut self, reply: Reply) {
        if reply.code.is_intermediate() {
            return self.fail(unexpected(Phase::MailFrom, &reply), false);
        }
        self.outcome.mail = Some(reply.clone());
        if self.pipelined {
            return;
        }
        if !reply.is_positive() || self.stops_at(StopPoint::Mail) {
            self.refuse_all(Phase::MailFrom, &reply);
            return if reply.is_positive() { self.stop_here(StopPoint::Mail) } else { self.end_transaction() };
        }
        self.send_rcpt(0);
    }

    fn send_rcpt(&mut self, index: usize) {
        let envelope = self.settings.envelope.as_ref().expect("a transaction has an envelope");
        let parameters = self.rcpt_parameters.get(index).cloned().unwrap_or_default();
        let forward_path = envelope.recipients[index].clone();
        self.send(&Command::RcptTo { forward_path: &forward_path, parameters }, Expect::Rcpt(index));
    }

    fn on_rcpt(&mut self, index: usize, reply: Reply) {
        if reply.code.is_intermediate() {
            return self.fail(unexpected(Phase::RcptTo, &reply), false);
        }
        let envelope = self.settings.envelope.as_ref().expect("a transaction has an envelope");
        let last = index + 1 == envelope.recipients.len();
        let recipient = envelope.recipients[index].clone();
        self.outcome
            .recipients
            .push(RecipientOutcome { recipient, verdict: Verdict::Replied { phase: Phase::RcptTo, reply } });
        if self.pipelined {
            if last && self.settings.bdat {
                self.after_pipelined_recipients(None);
            }
            return;
        }
        if !last {
            return self.send_rcpt(index + 1);
        }
        if self.stops_at(StopPoint::Rcpt) {
            return self.stop_here(StopPoint::Rcpt);
        }
        if self.settings.reset_after_recipients {
            return self.send(&Command::Rset, Expect::Rset);
        }
        if !self.any_accepted() {
            self.events.push_back(Event::Note(Note::NoRecipientAccepted));
            return self.end_transaction();
        }
        if self.settings.bdat {
            // --drop-after data with BDAT: there is no 354; stop before any of the message.
            if self.stops_at(StopPoint::Data) {
                return self.stop_here(StopPoint::Data);
            }
            self.send_content();
        } else {
            self.send(&Command::Data, Expect::Data);
        }
    }

    /// LMTP: one recipient's reply after the message; QUIT after the last.
    fn on_recipient_data(&mut self, index: usize, reply: Reply) {
        if reply.code.is_intermediate() {
            return self.fail(unexpected(Phase::EndOfData, &reply), false);
        }
        if let Some(recipient) = self.outcome.recipients.get_mut(index) {
            recipient.verdict = Verdict::Replied { phase: Phase::EndOfData, reply };
        }
        let more = self.expect.iter().any(|e| matches!(e, Expect::RecipientData(_)));
        if !more && !self.quit_sent {
            self.end_transaction();
        }
    }

    fn any_accepted(&self) -> bool {
        self.outcome.recipients.iter().any(RecipientOutcome::waiting_for_the_message)
    }

    /// Every recipient refused at `phase` with the same reply (a refused MAIL FROM refuses them all).
    fn refuse_all(&mut self, phase: Phase, reply: &Reply) {
        let recipients = self.settings.envelope.as_ref().map(|e| e.recipients.clone()).unwrap_or_default();
        self.outcome.recipients = recipients
            .into_iter()
            .map(|recipient| RecipientOutcome { recipient, verdict: Verdict::Replied { phase, reply: reply.clone() } })
            .collect();
    }

    /// The recipients accepted so far get `reply` as their verdict at `phase`.
    fn settle_accepted(&mut self, phase: Phase, reply: &Reply) {
        for recipient in &mut self.outcome.recipients {
            if recipient.waiting_for_the_message() {
                recipient.verdict = Verdict::Replied { phase, reply: reply.clone() };
            }
        }
    }

    /// Every pipelined reply up to DATA is in: send the message, or end cleanly when nobody took it.
    fn after_pipelined_recipients(&mut self, data_reply: Option<Reply>) {
        let mail_accepted = self.outcome.mail.as_ref().is_some_and(Reply::is_positive);
        if mail_accepted && self.any_accepted() {
            return match data_reply {
                None => self.send_content(),
                Some(reply) => self.on_data_reply(reply),
            };
        }
        // A server may still say 354 to a pipelined DATA; end that empty message at once.
        let go_ahead = data_reply.as_ref().is_some_and(|r| r.code.is_intermediate());
        if let Some(mail) = self.outcome.mail.clone().filter(|m| !m.is_positive()) {
            self.refuse_all(Phase::MailFrom, &mail);
        } else {
            self.events.push_back(Event::Note(Note::NoRecipientAccepted));
        }
        if go_ahead {
            self.events.push_back(Event::Note(Note::EmptyDataEnded));
            self.send_line(".", ".", Expect::EmptyMessage);
        } else {
            self.end_transaction();
        }
    }

    fn on_data(&mut self, reply: Reply) {
        if self.pipelined {
            return self.after_pipelined_recipients(Some(reply));
        }
        self.on_data_reply(reply);
    }

    fn on_data_reply(&mut self, reply: Reply) {
        if reply.code.is_intermediate() {
            if self.stops_at(StopPoint::Data) {
                // --drop-after data: the server said 354 and waits for a message that never comes.
                self.settle_accepted(Phase::Data, &reply);
                return self.stop_here(StopPoint::Data);
            }
            return self.send_content();
        }
        if reply.is_positive() {
            return self.fail(unexpected(Phase::Data, &reply), false);
        }
        self.settle_accepted(Phase::Data, &reply);
        self.end_transaction();
    }

    /// The message: after 354, dot-stuffed and ended by "." (with QUIT in the same write under PIPELINING:
    /// RFC 2920 allows it, and never without it, as OpenSMTPD drops a message whose "." and QUIT arrive
    /// together); or as one `BDAT size LAST` chunk (RFC 3030), which needs no stuffing.
    fn send_content(&mut self) {
        let size = self.settings.envelope.as_ref().map_or(0, |e| e.facts.size);
        let pipelining = self.capabilities.as_ref().is_some_and(|c| c.has("PIPELINING")) && self.settings.pipelining;
        self.phase = Phase::EndOfData;
        let (header, dot_stuffing, mut trailer) = if self.settings.bdat {
            let command = format!("BDAT {size} LAST");
            self.events.push_back(Event::Sent { line: command.clone(), tls: self.encrypted });
            (format!("{command}\r\n").into_bytes(), false, Vec::new())
        } else {
            (Vec::new(), true, b".\r\n".to_vec())
        };
        if pipelining && !self.settings.bdat && self.settings.stop.is_none() && !self.settings.hold_session {
            self.events.push_back(Event::Note(Note::QuitWithDot));
            trailer.extend_from_slice(b"QUIT\r\n");
            self.quit_sent = true;
        }
        self.pending = Some(Pending::Content { header, dot_stuffing, trailer });
    }

    /// The queued transaction's commands to ride behind the final dot, when they can: a held, pipelined
    /// session that does not stop early; `None` leaves it queued.
    fn chained_commands(&mut self) -> Option<(Vec<u8>, super::settings::Envelope, Vec<Expect>)> {
        if !self.settings.hold_session || !self.pipelined || self.settings.lmtp || self.settings.stop.is_some() {
            return None;
        }
        let envelope = self.queued.take()?;
        let parameters = match self.parameters_for(&envelope) {
            Ok(parameters) => parameters,
            Err(_) => {
                // Left for the idle path, which reports the problem.
                self.queued = Some(envelope);
                return None;
            }
        };
        let mut commands = format!("{}\r\n", Command::Rset).into_bytes();
        let mut expects = vec![Expect::Reset, Expect::Mail];
        let mail = Command::MailFrom { reverse_path: &envelope.reverse_path, parameters: parameters.mail };
        commands.extend_from_slice(format!("{mail}\r\n").as_bytes());
        for (index, (forward_path, parameters)) in envelope.recipients.iter().zip(parameters.rcpt).enumerate() {
            commands.extend_from_slice(format!("{}\r\n", Command::RcptTo { forward_path, parameters }).as_bytes());
            expects.push(Expect::Rcpt(index));
        }
        commands.extend_from_slice(format!("{}\r\n", Command::Data).as_bytes());
        expects.push(Expect::Data);
        Some((commands, envelope, expects))
    }

    fn on_end_of_data(&mut self, reply: Reply) {
        if reply.code.is_intermediate() {
            return self.fail(unexpected(Phase::EndOfData, &reply), false);
        }
        self.settle_accepted(Phase::EndOfData, &reply);
        if let Some(envelope) = self.next_envelope.take() {
            // The next transaction's commands are on their way: this one is over, that one begins.
            let mut done = self.outcome.clone();
            done.capabilities = None;
            self.finished.push_back(done);
            self.outcome.mail = None;
            self.outcome.recipients.clear();
            self.outcome.message_sent = false;
            self.settings.envelope = Some(envelope);
            return;
        }
        if !self.quit_sent {
            self.end_transaction();
        }
    }
}

fn unexpected(phase: Phase, reply: &Reply) -> Error {
    Error::Violation { phase, detail: format!("unexpected reply {reply}") }
}

/// Deadlines are instants; a zero duration is allowed (a driver reads once and gives up).
pub fn remaining(deadline: Instant, now: Instant) -> Duration {
    deadline.saturating_duration_since(now)
}
