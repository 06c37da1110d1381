//! A dialogue the user drives one step at a time (`talk`, `script`, `smuggle`), as a sans-I/O state machine.
//!
//! Where [`super::client::Client`] decides every command of `send`'s dialogue itself, here the user decides
//! and the session carries each step out: a command line and its reply, exact bytes, STARTTLS and its
//! handshake, a whole AUTH exchange ([`super::auth::Exchange`], shared with `send`), the message content
//! through the codec, waiting for replies or for the server to close. The driver loop is the client's: call
//! [`Session::poll`] and do the [`Action`] until it says [`Action::Finished`], which here means "this step is
//! done": take [`Session::answer`], then start the next step.
//!
//! Replies nobody waits for yet stay in the parser, so a script may write several commands in one go and
//! read their replies one `expect` at a time (RFC 2920 pipelining, or a smuggling test).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::auth::{self, Identity, Mechanism, Secret};
use super::client::Action;
use super::ehlo::Capabilities;
use super::error::Phase;
use super::event::Event;
use super::reply::{Reply, ReplyParser};
use super::settings::Timeouts;

pub use super::error::Error;

/// What a step came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// The replies the step read, in order.
    pub replies: Vec<Reply>,
    /// Why the step did not complete.
    pub error: Option<Error>,
}

impl Answer {
    /// The last reply, the one a step is judged by.
    pub fn last(&self) -> Option<&Reply> {
        self.replies.last()
    }
}

/// A step that needs more than one exchange.
#[derive(Debug, Clone)]
enum Current {
    /// Lines and their replies; nothing more.
    Plain,
    /// STARTTLS is out: a 220 starts the handshake.
    StartTls,
    /// An AUTH exchange: each 334 gets an answer.
    Auth { exchange: auth::Exchange, user: String, secret: Secret, show: bool },
    /// Waiting for the server to close the connection; a reply is a failure.
    AwaitClose,
}

/// A special step waiting for the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    StartTls,
    Handshaking,
    Content { dot_stuffing: bool, trailer: Vec<u8>, then_await: usize },
    SendingContent { then_await: usize, trailer_shown: Option<String> },
}

pub struct Session {
    parser: ReplyParser,
    events: VecDeque<Event>,
    output: Vec<u8>,
    encrypted: bool,
    verified: bool,
    /// How long to wait for each reply and each write, by step.
    timeouts: Timeouts,
    awaited: usize,
    waiting_since: Option<Instant>,
    current: Current,
    pending: Option<Pending>,
    answer: Answer,
    close: bool,
    closed: bool,
    phase: Phase,
    capabilities: Option<Capabilities>,
    host: String,
    port: u16,
}

impl Session {
    /// A session on a new connection; `encrypted` for implicit TLS (the driver's handshake came first).
    pub fn new(host: &str, port: u16, timeouts: Timeouts, encrypted: bool) -> Session {
        Session {
            parser: ReplyParser::new(),
            events: VecDeque::new(),
            output: Vec::new(),
            encrypted,
            verified: false,
            timeouts,
            awaited: 0,
            waiting_since: None,
            current: Current::Plain,
            pending: None,
            answer: Answer::default(),
            close: false,
            closed: false,
            phase: Phase::Banner,
            capabilities: None,
            host: host.to_string(),
            port,
        }
    }

    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// The certificate of the TLS session verified.
    pub fn is_verified(&self) -> bool {
        self.verified
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The connection is closed, or is to be closed: nothing more can be sent.
    pub fn is_ending(&self) -> bool {
        self.close || self.closed
    }

    /// What the last EHLO or LHLO reply offered.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    /// Change how long each step may take.
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// The time each step may take.
    fn timeout(&self) -> Duration {
        self.timeouts.for_phase(self.phase)
    }

    /// Wait for `count` replies (the greeting, or replies to what went out before).
    pub fn await_replies(&mut self, count: usize) {
        self.begin(Current::Plain);
        self.awaited = count;
    }

    /// A command line: sent with CRLF, its one reply awaited. `shown` is what the transcript says instead.
    pub fn command(&mut self, line: &str, shown: &str) {
        self.begin(Current::Plain);
        self.phase = phase_of(line);
        self.send_line(line, shown);
        self.awaited = 1;
    }

    /// A command line whose reply is left for later steps to read.
    pub fn command_only(&mut self, line: &str) {
        self.begin(Current::Plain);
        self.phase = phase_of(line);
        self.send_line(line, line);
    }

    /// Exact bytes; no reply awaited. The transcript shows each line as it goes (escaped by the renderer).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.begin(Current::Plain);
        if let Some(first) = bytes.split(|&b| b == b'\n').next() {
            self.phase = phase_of(&String::from_utf8_lossy(first));
        }
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let shown = line.strip_suffix(b"\n").unwrap_or(line);
            let shown = shown.strip_suffix(b"\r").unwrap_or(shown);
            self.events
                .push_back(Event::Sent { line: String::from_utf8_lossy(shown).into_owned(), tls: self.encrypted });
        }
        self.output.extend_from_slice(bytes);
    }

    /// STARTTLS, and after a 220 the handshake (RFC 3207 §4.2: the capabilities learnt before are forgotten).
    pub fn starttls(&mut self) {
        self.begin(Current::StartTls);
        self.phase = Phase::StartTls;
        self.send_line("STARTTLS", "STARTTLS");
        self.awaited = 1;
    }

    /// A whole AUTH exchange with `mechanism`, to the server's final reply.
    pub fn auth(&mut self, mechanism: Mechanism, user: &str, secret: Secret, show: bool) {
        let identity = Identity { user, secret: &secret, show, host: &self.host, port: self.port };
        let (exchange, line) = auth::Exchange::start(mechanism, identity);
        self.begin(Current::Auth { exchange, user: user.to_string(), secret, show });
        self.phase = Phase::Auth;
        self.send_line(&line.wire, &line.shown);
        self.awaited = 1;
    }

    /// The message content (the driver streams it): dot-stuffed and ended by "." (after a 354), or exactly as
    /// given. Then `then_await` replies are read (one, or one per accepted recipient under LMTP).
    pub fn content(&mut self, dot_stuffing: bool, then_await: usize) {
        self.begin(Current::Plain);
        self.phase = Phase::EndOfData;
        let trailer = if dot_stuffing { b".\r\n".to_vec() } else { Vec::new() };
        self.pending = Some(Pending::Content { dot_stuffing, trailer, then_await });
    }

    /// Wait for the server to close the connection; a reply or the end of the time fails the step.
    pub fn await_close(&mut self) {
        self.begin(Current::AwaitClose);
    }

    /// Close the connection.
    pub fn close(&mut self) {
        self.begin(Current::Plain);
        self.close = true;
    }

    fn begin(&mut self, current: Current) {
        self.answer = Answer::default();
        self.current = current;
        self.awaited = 0;
        self.waiting_since = None;
    }

    /// What the step came to, once [`Action::Finished`] was returned.
    pub fn answer(&mut self) -> Answer {
        std::mem::take(&mut self.answer)
    }

    pub fn poll(&mut self, now: Instant) -> Action {
        if !self.output.is_empty() && !self.closed {
            return Action::Send { bytes: std::mem::take(&mut self.output), deadline: now + self.timeout() };
        }
        match self.pending.take() {
            Some(Pending::StartTls) => {
                self.pending = Some(Pending::Handshaking);
                return Action::StartTls { deadline: now + self.timeout() };
            }
            Some(Pending::Content { dot_stuffing, trailer, then_await }) => {
                let trailer_shown = (!trailer.is_empty()).then(|| ".".to_string());
                self.pending = Some(Pending::SendingContent { then_await, trailer_shown });
                return Action::SendContent {
                    header: Vec::new(),
                    dot_stuffing,
                    trailer,
                    stall: self.timeouts.data_block,
                    give_up_at: None,
                };
            }
            other => self.pending = other,
        }
        if self.close && !self.closed {
            self.closed = true;
            return Action::Close;
        }
        if self.closed || self.pending.is_some() {
            return Action::Finished;
        }
        let waiting = self.awaited > 0 || matches!(self.current, Current::AwaitClose);
        if !waiting {
            return Action::Finished;
        }
        // Replies that came with earlier ones may already be here.
        if self.awaited > 0 && self.parser.buffered() > 0 {
            self.take_replies();
            if self.awaited == 0 || self.closed || self.pending.is_some() || !self.output.is_empty() {
                return self.poll(now);
            }
        }
        let since = *self.waiting_since.get_or_insert(now);
        Action::Receive { deadline: since + self.timeout() }
    }

    pub fn receive(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        self.parser.feed(bytes);
        if matches!(self.current, Current::AwaitClose) {
            if let Ok(Some(reply)) = self.parser.next_reply() {
                self.events.push_back(Event::Received { reply: reply.clone(), tls: self.encrypted, phase: self.phase });
                self.answer.replies.push(reply.clone());
                let detail = format!("a reply where the server was expected to close the connection: {reply}");
                return self.fail(Error::Violation { phase: self.phase, detail });
            }
            return;
        }
        self.take_replies();
    }

    fn take_replies(&mut self) {
        while self.awaited > 0 && !self.closed && self.pending.is_none() {
            match self.parser.next_reply() {
                Ok(Some(reply)) => {
                    self.waiting_since = None;
                    self.awaited -= 1;
                    self.events.push_back(Event::Received {
                        reply: reply.clone(),
                        tls: self.encrypted,
                        phase: self.phase,
                    });
                    if matches!(self.phase, Phase::Ehlo) && reply.is_positive() {
                        self.capabilities = Some(Capabilities::from_ehlo(&reply));
                    }
                    self.answer.replies.push(reply.clone());
                    self.follow_up(&reply);
                }
                Ok(None) => break,
                Err(error) => {
                    let detail = error.to_string();
                    return self.fail(Error::Violation { phase: self.phase, detail });
                }
            }
        }
    }

    /// What a reply means for a step of several exchanges.
    fn follow_up(&mut self, reply: &Reply) {
        let current = std::mem::replace(&mut self.current, Current::Plain);
        self.current = match current {
            Current::StartTls if reply.code.0 == 220 => {
                self.pending = Some(Pending::StartTls);
                Current::Plain
            }
            Current::Auth { mut exchange, user, secret, show } if reply.code.0 == 334 => {
                let challenge = reply.texts().next().unwrap_or_default().to_vec();
                let identity = Identity { user: &user, secret: &secret, show, host: &self.host, port: self.port };
                match exchange.answer(&challenge, identity) {
                    Ok(line) => self.send_line(&line.wire, &line.shown),
                    Err(detail) => {
                        // Cancel the exchange (RFC 4954 §4: "*"), so the session can go on.
                        self.send_line("*", "*");
                        self.answer.error = Some(Error::Violation { phase: Phase::Auth, detail });
                    }
                }
                self.awaited += 1;
                Current::Auth { exchange, user, secret, show }
            }
            Current::Auth { .. } => {
                if !reply.is_positive() && self.answer.error.is_none() {
                    self.answer.error = Some(Error::AuthRefused { reply: reply.clone() });
                }
                Current::Plain
            }
            other => other,
        };
    }

    pub fn closed(&mut self) {
        if matches!(self.current, Current::AwaitClose) {
            self.closed = true;
            return;
        }
        self.fail(Error::Closed { phase: self.phase });
    }

    pub fn timed_out(&mut self) {
        let error = match self.pending {
            Some(Pending::SendingContent { .. }) => {
                Error::Stalled { phase: self.phase, after: self.timeouts.data_block }
            }
            _ => Error::Timeout { phase: self.phase, after: self.timeout() },
        };
        if matches!(self.pending, Some(Pending::SendingContent { .. }) | Some(Pending::Handshaking)) {
            // A write or handshake cut off part-way leaves the connection unusable.
            return self.fail(error);
        }
        self.answer.error = Some(error);
        self.awaited = 0;
        if matches!(self.current, Current::AwaitClose) {
            self.current = Current::Plain;
        }
    }

    pub fn io_failed(&mut self, detail: &str) {
        self.fail(Error::Io { phase: self.phase, detail: detail.to_string() });
    }

    pub fn tls_established(&mut self, verified: bool) {
        self.pending = None;
        self.encrypted = true;
        self.verified = verified;
        self.capabilities = None;
    }

    /// Implicit TLS: whether the certificate of the handshake before the greeting verified.
    pub fn tls_verified(&mut self, verified: bool) {
        self.verified = verified;
    }

    pub fn tls_failed(&mut self, detail: &str) {
        self.pending = None;
        self.fail(Error::Tls { detail: detail.to_string() });
    }

    pub fn content_sent(&mut self, bytes: u64, lines: u64) {
        let Some(Pending::SendingContent { then_await, trailer_shown }) = self.pending.take() else {
            return;
        };
        self.events.push_back(Event::DataSent { bytes, lines, tls: self.encrypted });
        if let Some(line) = trailer_shown {
            self.events.push_back(Event::Sent { line, tls: self.encrypted });
        }
        self.awaited = then_await;
    }

    /// The connection cannot carry anything more.
    fn fail(&mut self, error: Error) {
        if self.answer.error.is_none() {
            self.answer.error = Some(error);
        }
        self.awaited = 0;
        self.pending = None;
        self.output.clear();
        self.close = true;
        self.current = Current::Plain;
    }

    fn send_line(&mut self, line: &str, shown: &str) {
        self.events.push_back(Event::Sent { line: shown.to_string(), tls: self.encrypted });
        self.output.extend_from_slice(line.as_bytes());
        self.output.extend_from_slice(b"\r\n");
    }
}

/// The step a typed command line is, for the transcript and the explanations.
pub fn phase_of(line: &str) -> Phase {
    let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
    match verb.as_str() {
        "EHLO" | "LHLO" => Phase::Ehlo,
        "HELO" => Phase::Helo,
        "STARTTLS" => Phase::StartTls,
        "AUTH" => Phase::Auth,
        "MAIL" => Phase::MailFrom,
        "RCPT" => Phase::RcptTo,
        "DATA" | "BDAT" => Phase::Data,
        "QUIT" => Phase::Quit,
        _ => Phase::Command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the session's steps against scripted server bytes: each poll's Receive takes the next chunk.
    fn run(session: &mut Session, server: &mut VecDeque<&[u8]>) -> (Answer, Vec<u8>) {
        let mut written = Vec::new();
        loop {
            match session.poll(Instant::now()) {
                Action::Send { bytes, .. } => written.extend_from_slice(&bytes),
                Action::Receive { .. } => match server.pop_front() {
                    Some(chunk) => session.receive(chunk),
                    None => session.closed(),
                },
                Action::StartTls { .. } => session.tls_established(true),
                Action::SendContent { trailer, .. } => {
                    written.extend_from_slice(b"<content>");
                    written.extend_from_slice(&trailer);
                    session.content_sent(9, 1);
                }
                Action::Close => {}
                Action::Finished | Action::Idle => return (session.answer(), written),
            }
        }
    }

    fn session() -> Session {
        Session::new("mx.example.test", 25, Timeouts::uniform(Duration::from_secs(5)), false)
    }

    #[test]
    fn a_command_reads_one_whole_reply_and_leaves_the_rest() {
        let mut session = session();
        let mut server: VecDeque<&[u8]> = VecDeque::from([&b"220 hi\r\n250-a\r\n"[..], b"250 b\r\n250 next\r\n"]);
        session.await_replies(1);
        assert_eq!(run(&mut session, &mut server).0.last().unwrap().code.0, 220);
        session.command("EHLO c", "EHLO c");
        let (answer, written) = run(&mut session, &mut server);
        assert_eq!(written, b"EHLO c\r\n");
        assert_eq!(answer.replies.len(), 1);
        assert_eq!(answer.replies[0].lines.len(), 2);
        assert!(session.capabilities().is_some_and(|c| c.has("B")));
        // The reply that came early is read by the next wait, without reading the wire.
        session.await_replies(1);
        let (answer, _) = run(&mut session, &mut VecDeque::new());
        assert_eq!(answer.last().unwrap().to_string(), "250 next");
    }

    #[test]
    fn starttls_runs_the_handshake_after_220_only() {
        let mut session = session();
        session.starttls();
        let (answer, _) = run(&mut session, &mut VecDeque::from([&b"220 go\r\n"[..]]));
        assert!(answer.error.is_none());
        assert!(session.is_encrypted() && session.is_verified());
        let mut refused = self::session();
        refused.starttls();
        run(&mut refused, &mut VecDeque::from([&b"454 no\r\n"[..]]));
        assert!(!refused.is_encrypted());
    }

    #[test]
    fn auth_login_answers_each_challenge_and_hides_the_password() {
        let mut session = session();
        session.auth(Mechanism::Login, "bob", Secret::new("pw".into()), false);
        let mut server: VecDeque<&[u8]> =
            VecDeque::from([&b"334 VXNlcm5hbWU6\r\n"[..], b"334 UGFzc3dvcmQ6\r\n", b"235 ok\r\n"]);
        let (answer, written) = run(&mut session, &mut server);
        assert_eq!(written, b"AUTH LOGIN\r\nYm9i\r\ncHc=\r\n");
        assert!(answer.error.is_none());
        let shown: Vec<String> = std::iter::from_fn(|| session.next_event())
            .filter_map(|e| match e {
                Event::Sent { line, .. } => Some(line),
                _ => None,
            })
            .collect();
        assert_eq!(shown, ["AUTH LOGIN", "Ym9i", "<redacted password>"]);
    }

    #[test]
    fn a_refused_auth_is_an_error_of_the_step() {
        let mut session = session();
        session.auth(Mechanism::Plain, "bob", Secret::new("pw".into()), false);
        let (answer, _) = run(&mut session, &mut VecDeque::from([&b"535 5.7.8 no\r\n"[..]]));
        assert!(matches!(answer.error, Some(Error::AuthRefused { .. })));
        assert!(!session.is_closed());
    }

    #[test]
    fn content_is_followed_by_the_awaited_replies() {
        let mut session = session();
        session.content(true, 2);
        let (answer, written) = run(&mut session, &mut VecDeque::from([&b"250 one\r\n452 two\r\n"[..]]));
        assert_eq!(written, b"<content>.\r\n");
        assert_eq!(answer.replies.len(), 2);
    }

    #[test]
    fn await_close_holds_when_the_server_closes_and_fails_on_a_reply() {
        let mut session = session();
        session.await_close();
        let (answer, _) = run(&mut session, &mut VecDeque::new());
        assert!(answer.error.is_none() && session.is_closed());
        let mut talkative = self::session();
        talkative.await_close();
        let (answer, _) = run(&mut talkative, &mut VecDeque::from([&b"250 still here\r\n"[..]]));
        assert!(matches!(answer.error, Some(Error::Violation { .. })));
    }

    #[test]
    fn a_timeout_fails_the_step_and_keeps_the_connection() {
        let mut session = session();
        session.command("NOOP", "NOOP");
        assert!(matches!(session.poll(Instant::now()), Action::Send { .. }));
        assert!(matches!(session.poll(Instant::now()), Action::Receive { .. }));
        session.timed_out();
        assert!(matches!(session.poll(Instant::now()), Action::Finished));
        assert!(matches!(session.answer().error, Some(Error::Timeout { .. })));
        assert!(!session.is_closed());
    }

    #[test]
    fn raw_bytes_are_shown_line_by_line() {
        let mut session = session();
        session.raw(b"RCPT TO:<b@x>\r\nDATA\r\n");
        let (_, written) = run(&mut session, &mut VecDeque::new());
        assert_eq!(written, b"RCPT TO:<b@x>\r\nDATA\r\n");
        let shown: Vec<String> = std::iter::from_fn(|| session.next_event())
            .filter_map(|e| match e {
                Event::Sent { line, .. } => Some(line),
                _ => None,
            })
            .collect();
        assert_eq!(shown, ["RCPT TO:<b@x>", "DATA"]);
    }

    #[test]
    fn phases_of_typed_commands() {
        assert_eq!(phase_of("lhlo x"), Phase::Ehlo);
        assert_eq!(phase_of("RCPT TO:<a@b>"), Phase::RcptTo);
        assert_eq!(phase_of("VRFY bob"), Phase::Command);
    }
}
