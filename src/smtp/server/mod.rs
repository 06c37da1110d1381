//! The server side of the dialogue, sans-I/O like the client: a [`Session`] is handed the bytes a client
//! sent and hands back [`Action`]s (bytes to write after a delay, start TLS, store a message, close) and
//! transcript [`Line`]s. It reads no clock and opens no socket; the driver (`catch`) does, and tells the
//! session what happened (`tls_started`, `stored`, `timed_out`, `client_closed`).
//!
//! It answers a correct RFC 5321 dialogue (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP,
//! QUIT), the extensions of [`Offer`] (RFC 2920 PIPELINING, 1870 SIZE, 6152 8BITMIME, 6531 SMTPUTF8, 2034
//! ENHANCEDSTATUSCODES, 3461 DSN, 3030 CHUNKING), RFC 3207 STARTTLS, RFC 4954 AUTH PLAIN and LOGIN, and RFC
//! 2033 LMTP. [`Faults`] make it misbehave on cue, by step: another reply, a delay, a dropped connection.

pub mod data;
pub mod request;

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use data::{DataReader, EndOfData};
use request::{Parameter, Request};

/// The extensions offered in the EHLO reply; each can be switched off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub pipelining: bool,
    /// SIZE (RFC 1870) with the limit; the limit holds whether or not it is offered.
    pub size: bool,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    pub enhanced_status_codes: bool,
    pub dsn: bool,
    pub chunking: bool,
}

impl Default for Offer {
    fn default() -> Self {
        Offer {
            pipelining: true,
            size: true,
            eight_bit_mime: true,
            smtputf8: true,
            enhanced_status_codes: true,
            dsn: true,
            chunking: true,
        }
    }
}

/// Who may AUTH.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthPolicy {
    /// Any user and password: AUTH is offered and always succeeds; MAIL does not need it.
    Any,
    /// Only these users with these passwords; MAIL needs AUTH first (RFC 4954 §6, 530 5.7.0).
    Only(Vec<(String, String)>),
}

impl fmt::Debug for AuthPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthPolicy::Any => f.write_str("Any"),
            AuthPolicy::Only(users) => {
                let names: Vec<&str> = users.iter().map(|(user, _)| user.as_str()).collect();
                write!(f, "Only({names:?}, passwords redacted)")
            }
        }
    }
}

/// A step of the dialogue, where a fault can be put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The 220 greeting.
    Greeting,
    /// EHLO, and LHLO under LMTP.
    Ehlo,
    Helo,
    StartTls,
    /// The final reply to AUTH (235 or 535).
    Auth,
    Mail,
    Rcpt,
    /// The reply to the DATA command (354).
    Data,
    /// The reply to a BDAT chunk that is not the last.
    Bdat,
    /// The reply after the message: to the final dot, or to BDAT LAST. Dropping here is "after data": the
    /// client sent the whole message and never hears whether it was taken.
    Dot,
    Rset,
    Noop,
    Quit,
}

impl Step {
    pub const ALL: &'static [(Step, &'static str)] = &[
        (Step::Greeting, "greeting"),
        (Step::Ehlo, "ehlo"),
        (Step::Helo, "helo"),
        (Step::StartTls, "starttls"),
        (Step::Auth, "auth"),
        (Step::Mail, "mail"),
        (Step::Rcpt, "rcpt"),
        (Step::Data, "data"),
        (Step::Bdat, "bdat"),
        (Step::Dot, "dot"),
        (Step::Rset, "rset"),
        (Step::Noop, "noop"),
        (Step::Quit, "quit"),
    ];

    pub fn name(self) -> &'static str {
        Step::ALL.iter().find(|(step, _)| *step == self).map_or("?", |(_, name)| name)
    }

    /// A step by name; `after-data` and `end-of-data` are other names for `dot`, `lhlo` for `ehlo`.
    pub fn parse(name: &str) -> Option<Step> {
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "after-data" | "end-of-data" => Some(Step::Dot),
            "lhlo" => Some(Step::Ehlo),
            _ => Step::ALL.iter().find(|(_, n)| *n == name).map(|(step, _)| *step),
        }
    }
}

/// A reply given on cue instead of the real one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: u16,
    /// The text after the code; a default names the fault.
    pub text: Option<String>,
}

/// Misbehaviour on cue, by step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    pub replies: Vec<(Step, Fault)>,
    pub delays: Vec<(Step, Duration)>,
    /// Close the connection at this step instead of replying.
    pub drops: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The name in the greeting and the EHLO reply.
    pub hostname: String,
    pub offer: Offer,
    /// The largest message taken (SIZE, DATA, BDAT), in bytes.
    pub max_message: u64,
    /// The longest command line, CRLF included (RFC 5321 §4.5.3.1.4 says 512).
    pub max_line: usize,
    /// RFC 5321 §4.5.3.1.8 says at least 100.
    pub max_recipients: usize,
    /// STARTTLS is offered (the driver has a certificate).
    pub starttls: bool,
    /// MAIL and AUTH need TLS first (530 5.7.0, RFC 3207 §4).
    pub require_tls: bool,
    pub auth: Option<AuthPolicy>,
    /// RFC 2033: LHLO, and one reply per recipient after the message.
    pub lmtp: bool,
    pub end_of_data: EndOfData,
    pub faults: Faults,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hostname: "catch.postie.test".into(),
            offer: Offer::default(),
            max_message: 25 * 1024 * 1024,
            max_line: 4096,
            max_recipients: 100,
            starttls: false,
            require_tls: false,
            auth: None,
            lmtp: false,
            end_of_data: EndOfData::Strict,
            faults: Faults::default(),
        }
    }
}

/// What the driver does next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes (one whole reply) once `delay` has passed.
    Reply { bytes: Vec<u8>, delay: Duration },
    /// The 220 to STARTTLS went out: run the handshake, then call `tls_started` (or `tls_failed`).
    StartTls,
    /// A message was taken: store it, then call `stored`; its reply waits for that.
    Deliver(Message),
    /// Close the connection (everything before it written first).
    Close,
}

/// A message the client sent whole, with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub from: String,
    pub recipients: Vec<String>,
    /// Exactly the bytes received: after dot-unstuffing (DATA) or as sent (BDAT).
    pub content: Vec<u8>,
    /// The size of the content as received (the driver may keep less of it for the transcript).
    pub bytes: u64,
    pub lines: u64,
    pub chunked: bool,
    /// The name the client gave in EHLO, HELO or LHLO.
    pub client_name: String,
    pub authenticated: Option<String>,
    pub tls: bool,
}

/// One line of the server-side transcript, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// What the client sent, without its line ending (AUTH credentials hidden).
    Client {
        line: Vec<u8>,
        tls: bool,
    },
    /// One line of what postie answered, without CRLF.
    Server {
        line: String,
        tls: bool,
    },
    /// Message content arrived: its bytes and lines (after unstuffing).
    Content {
        bytes: u64,
        lines: u64,
        chunked: bool,
        tls: bool,
    },
    /// A fault was applied at this step.
    Fault {
        step: Step,
        fault: FaultKind,
    },
    Note(Note),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    Reply(u16),
    Delay(Duration),
    Drop,
}

/// The session's own remarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// RFC 3207 §5: bytes that came after STARTTLS in clear text were thrown away.
    DiscardedAfterStartTls {
        bytes: usize,
    },
    Authenticated {
        user: String,
    },
    /// No command came within the time allowed.
    TimedOut,
    /// The client closed the connection without QUIT.
    ClientClosed,
    /// A command line longer than the limit.
    LineTooLong {
        limit: usize,
    },
    /// Too many errors: the session is ended.
    TooManyErrors,
    /// The message was larger than the limit, and refused.
    TooBig {
        bytes: u64,
        limit: u64,
    },
}

/// Where the session is in its input.
#[derive(Debug)]
enum Mode {
    Command,
    Data(Box<DataReader>),
    /// Reading a BDAT chunk: bytes still to come, whether it is the last, and the reply it gets if the
    /// chunk is refused whatever it holds (RFC 3030 §2: the chunk is read all the same).
    Chunk {
        remaining: u64,
        last: bool,
        refusal: Option<(u16, &'static str, String)>,
    },
    AuthPlain,
    AuthLoginUser,
    AuthLoginPassword {
        user: String,
    },
    /// After a 554 greeting: only QUIT is answered with anything but 503 (RFC 5321 §3.1).
    Refusing,
    /// Waiting for the driver: the TLS handshake or the storing of a message.
    Waiting,
    Closed,
}

#[derive(Debug, Default)]
struct Envelope {
    from: String,
    recipients: Vec<String>,
    /// BDAT chunks so far.
    chunks: Vec<u8>,
    chunk_bytes: u64,
    chunked: bool,
}

/// After this many refused commands the session ends (421 4.7.0): a client talking nonsense is cut off.
const MAX_ERRORS: u32 = 20;

/// One SMTP (or LMTP) session on the server side.
#[derive(Debug)]
pub struct Session {
    settings: std::sync::Arc<Settings>,
    mode: Mode,
    input: Vec<u8>,
    /// Skipping the rest of an over-long command line.
    discarding: bool,
    tls: bool,
    /// The name from EHLO/LHLO (`Some(true, name)`) or HELO (`Some(false, name)`).
    greeted: Option<(bool, String)>,
    authenticated: Option<String>,
    envelope: Option<Envelope>,
    /// The message handed to the driver, for the per-recipient LMTP replies.
    delivering: Option<Vec<String>>,
    actions: VecDeque<Action>,
    lines: Vec<Line>,
    errors: u32,
    messages: u64,
}

impl Session {
    /// A new session; `tls` when the connection is TLS from the start (implicit TLS). The greeting is the
    /// first action.
    pub fn new(settings: std::sync::Arc<Settings>, tls: bool) -> Session {
        let mut session = Session {
            settings,
            mode: Mode::Command,
            input: Vec::new(),
            discarding: false,
            tls,
            greeted: None,
            authenticated: None,
            envelope: None,
            delivering: None,
            actions: VecDeque::new(),
            lines: Vec::new(),
            errors: 0,
            messages: 0,
        };
        let name = session.settings.hostname.clone();
        let protocol = if session.settings.lmtp { "LMTP" } else { "ESMTP" };
        let text = format!("{name} {protocol} postie catch: a test server, nothing is relayed");
        match session.answer(Step::Greeting, 220, "", vec![text]) {
            Some(code) if code / 100 == 2 => {}
            Some(421) | None => {}
            Some(_) => session.mode = Mode::Refusing,
        }
        session
    }

    /// Bytes from the client.
    pub fn feed(&mut self, bytes: &[u8]) {
        if !matches!(self.mode, Mode::Closed) {
            self.input.extend_from_slice(bytes);
        }
    }

    /// The next thing to do; `None` means read more input.
    pub fn poll(&mut self) -> Option<Action> {
        loop {
            if let Some(action) = self.actions.pop_front() {
                return Some(action);
            }
            if matches!(self.mode, Mode::Waiting | Mode::Closed) || !self.step_input() {
                return None;
            }
        }
    }

    /// The transcript lines so far, taken.
    pub fn take_lines(&mut self) -> Vec<Line> {
        std::mem::take(&mut self.lines)
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.mode, Mode::Closed) && self.actions.is_empty()
    }

    /// The handshake after STARTTLS succeeded: RFC 3207 §4.2, the client starts again with EHLO.
    pub fn tls_started(&mut self) {
        self.tls = true;
        self.greeted = None;
        self.authenticated = None;
        self.envelope = None;
        self.mode = Mode::Command;
    }

    /// The handshake failed: nothing more can be said.
    pub fn tls_failed(&mut self) {
        self.close();
    }

    /// The driver stored the message (or could not).
    pub fn stored(&mut self, result: Result<(), String>) {
        let recipients = self.delivering.take().unwrap_or_default();
        self.mode = Mode::Command;
        match result {
            Ok(()) => {
                self.messages += 1;
                if self.settings.lmtp {
                    // RFC 2033 §4.2: one reply per accepted recipient, in order.
                    for recipient in recipients {
                        self.answer(Step::Dot, 250, "2.1.5", vec![format!("<{recipient}> delivered")]);
                    }
                } else {
                    let number = self.messages;
                    self.answer(Step::Dot, 250, "2.0.0", vec![format!("Ok: queued as message {number}")]);
                }
            }
            Err(_) => {
                let count = if self.settings.lmtp { recipients.len().max(1) } else { 1 };
                for _ in 0..count {
                    self.answer_plain(451, "4.3.0", "cannot store the message: see the catch log".into());
                }
            }
        }
    }

    /// No input came within the time allowed: RFC 5321 §4.5.3.2, the server may close with 421.
    pub fn timed_out(&mut self) {
        if matches!(self.mode, Mode::Closed) {
            return;
        }
        self.lines.push(Line::Note(Note::TimedOut));
        self.answer_plain(421, "4.4.2", format!("{} timeout: closing the connection", self.settings.hostname));
    }

    /// The client closed its side.
    pub fn client_closed(&mut self) {
        if !matches!(self.mode, Mode::Closed) {
            self.lines.push(Line::Note(Note::ClientClosed));
            self.close();
        }
    }

    fn close(&mut self) {
        self.mode = Mode::Closed;
        self.actions.push_back(Action::Close);
    }

    /// Work through the input: false when nothing more can be done with it now.
    fn step_input(&mut self) -> bool {
        match &mut self.mode {
            Mode::Data(reader) => {
                if self.input.is_empty() {
                    return false;
                }
                let used = reader.feed(&self.input);
                self.input.drain(..used);
                if reader.is_ended() {
                    let Mode::Data(reader) = std::mem::replace(&mut self.mode, Mode::Command) else { unreachable!() };
                    self.end_of_data(*reader);
                }
                true
            }
            Mode::Chunk { remaining, .. } => {
                if *remaining > 0 && self.input.is_empty() {
                    return false;
                }
                let take = (*remaining).min(self.input.len() as u64) as usize;
                *remaining -= take as u64;
                let bytes: Vec<u8> = self.input.drain(..take).collect();
                let done = *remaining == 0;
                if let Some(envelope) = &mut self.envelope {
                    let room = self.settings.max_message.saturating_sub(envelope.chunk_bytes) as usize;
                    envelope.chunks.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    envelope.chunk_bytes += bytes.len() as u64;
                }
                if done {
                    let Mode::Chunk { last, refusal, .. } = std::mem::replace(&mut self.mode, Mode::Command) else {
                        unreachable!()
                    };
                    self.end_of_chunk(last, refusal);
                }
                true
            }
            _ => match self.next_line() {
                Some(line) => {
                    self.line(line);
                    true
                }
                None => false,
            },
        }
    }

    /// The next command line, without its ending (a bare LF is tolerated); an over-long one is answered
    /// and skipped.
    fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let end = self.input.iter().position(|&b| b == b'\n');
            if self.discarding {
                match end {
                    Some(at) => {
                        self.input.drain(..=at);
                        self.discarding = false;
                        continue;
                    }
                    None => {
                        self.input.clear();
                        return None;
                    }
                }
            }
            let limit = self.settings.max_line;
            match end {
                Some(at) if at < limit => {
                    let mut line: Vec<u8> = self.input.drain(..=at).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Some(line);
                }
                None if self.input.len() <= limit => return None,
                _ => {
                    self.discarding = true;
                    let shown = self.input[..40.min(self.input.len())].to_vec();
                    self.lines.push(Line::Client { line: [shown, b"...".to_vec()].concat(), tls: self.tls });
                    self.lines.push(Line::Note(Note::LineTooLong { limit }));
                    self.refuse(500, "5.5.6", format!("line too long (the limit is {limit} bytes)"));
                    if matches!(self.mode, Mode::Closed) {
                        return None;
                    }
                }
            }
        }
    }

    fn line(&mut self, line: Vec<u8>) {
        match std::mem::replace(&mut self.mode, Mode::Command) {
            Mode::AuthPlain => {
                self.lines.push(Line::Client { line: b"(credentials hidden)".to_vec(), tls: self.tls });
                self.auth_plain(&line);
            }
            Mode::AuthLoginUser => {
                self.lines.push(Line::Client { line: b"(user name hidden)".to_vec(), tls: self.tls });
                if let Some(user) = self.decode_response(&line) {
                    self.mode = Mode::AuthLoginPassword { user };
                    self.intermediate("UGFzc3dvcmQ6");
                }
            }
            Mode::AuthLoginPassword { user } => {
                self.lines.push(Line::Client { line: b"(password hidden)".to_vec(), tls: self.tls });
                if let Some(password) = self.decode_response(&line) {
                    self.check_credentials(user, password);
                }
            }
            Mode::Refusing => {
                self.mode = Mode::Refusing;
                self.lines.push(Line::Client { line: line.clone(), tls: self.tls });
                if matches!(request::parse(&line), Ok(Request::Quit)) {
                    self.answer(Step::Quit, 221, "2.0.0", vec!["Bye".into()]);
                    if !matches!(self.mode, Mode::Closed) {
                        self.close();
                    }
                } else {
                    self.answer_plain(503, "5.5.1", "no service here: only QUIT".into());
                }
            }
            _ => self.command(line),
        }
    }

    fn command(&mut self, line: Vec<u8>) {
        let parsed = request::parse(&line);
        let shown = match &parsed {
            Ok(Request::Auth { mechanism, initial: Some(_) }) => {
                format!("AUTH {mechanism} (credentials hidden)").into_bytes()
            }
            _ => line,
        };
        self.lines.push(Line::Client { line: shown, tls: self.tls });
        let request = match parsed {
            Ok(request) => request,
            Err(problem) => {
                let (code, enhanced, text) = problem.reply();
                self.refuse(code, enhanced, text);
                return;
            }
        };
        match request {
            Request::Ehlo(name) => self.ehlo(name, false),
            Request::Lhlo(name) => self.ehlo(name, true),
            Request::Helo(name) => {
                if self.settings.lmtp {
                    self.refuse(500, "5.5.1", "this is LMTP: say LHLO (RFC 2033)".into());
                    return;
                }
                let text = format!("{} greets {name}", self.settings.hostname);
                if self.answer(Step::Helo, 250, "", vec![text]).is_some_and(positive) {
                    self.envelope = None;
                    self.greeted = Some((false, name));
                }
            }
            Request::StartTls => self.starttls(),
            Request::Auth { mechanism, initial } => self.auth(mechanism, initial),
            Request::Mail { path, parameters } => self.mail(path, parameters),
            Request::Rcpt { path, parameters } => self.rcpt(path, parameters),
            Request::Data => self.data(),
            Request::Bdat { size, last } => self.bdat(size, last),
            Request::Rset => {
                if self.answer(Step::Rset, 250, "2.0.0", vec!["Ok".into()]).is_some_and(positive) {
                    self.envelope = None;
                }
            }
            Request::Noop => {
                self.answer(Step::Noop, 250, "2.0.0", vec!["Ok".into()]);
            }
            Request::Vrfy => self.answer_plain(252, "2.5.0", "cannot VRFY user, but will accept the message".into()),
            Request::Expn => self.refuse(502, "5.5.1", "EXPN is not offered".into()),
            Request::Help => self.answer_plain(214, "2.0.0", "postie catch: see `postie catch --help`".into()),
            Request::Quit => {
                self.answer(Step::Quit, 221, "2.0.0", vec!["Bye".into()]);
                if !matches!(self.mode, Mode::Closed) {
                    self.close();
                }
            }
        }
    }

    fn ehlo(&mut self, name: String, lhlo: bool) {
        if lhlo != self.settings.lmtp {
            let text = if lhlo { "this is SMTP: say EHLO" } else { "this is LMTP: say LHLO (RFC 2033)" };
            self.refuse(500, "5.5.1", text.into());
            return;
        }
        let offer = &self.settings.offer;
        let mut lines = vec![format!("{} greets {name}", self.settings.hostname)];
        let mut add = |on: bool, keyword: String| {
            if on {
                lines.push(keyword);
            }
        };
        add(offer.pipelining, "PIPELINING".into());
        add(offer.size, format!("SIZE {}", self.settings.max_message));
        add(offer.eight_bit_mime, "8BITMIME".into());
        add(offer.smtputf8, "SMTPUTF8".into());
        add(offer.enhanced_status_codes, "ENHANCEDSTATUSCODES".into());
        add(offer.dsn, "DSN".into());
        add(offer.chunking, "CHUNKING".into());
        add(self.settings.starttls && !self.tls, "STARTTLS".into());
        add(self.auth_offered(), "AUTH PLAIN LOGIN".into());
        if self.answer(Step::Ehlo, 250, "", lines).is_some_and(positive) {
            self.envelope = None;
            self.greeted = Some((true, name));
        }
    }

    fn auth_offered(&self) -> bool {
        self.settings.auth.is_some() && (self.tls || !self.settings.require_tls)
    }

    fn starttls(&mut self) {
        if !self.settings.starttls {
            return self.refuse(502, "5.5.1", "STARTTLS is not offered (see --tls)".into());
        }
        if self.tls {
            return self.refuse(503, "5.5.1", "TLS is already active".into());
        }
        if self.answer(Step::StartTls, 220, "2.0.0", vec!["Ready to start TLS".into()]).is_some_and(positive) {
            // RFC 3207 §5: anything the client sent after STARTTLS in clear text must not be acted on.
            if !self.input.is_empty() {
                self.lines.push(Line::Note(Note::DiscardedAfterStartTls { bytes: self.input.len() }));
                self.input.clear();
            }
            self.mode = Mode::Waiting;
            self.actions.push_back(Action::StartTls);
        }
    }

    fn auth(&mut self, mechanism: String, initial: Option<String>) {
        if self.settings.auth.is_none() {
            return self.refuse(502, "5.5.1", "AUTH is not offered (see --auth)".into());
        }
        if self.settings.require_tls && !self.tls {
            return self.refuse(530, "5.7.0", "Must issue a STARTTLS command first".into());
        }
        if !matches!(self.greeted, Some((true, _))) {
            return self.refuse(503, "5.5.1", "say EHLO first".into());
        }
        if self.authenticated.is_some() {
            return self.refuse(503, "5.5.1", "already authenticated".into());
        }
        if self.envelope.is_some() {
            return self.refuse(503, "5.5.1", "AUTH is not allowed during a mail transaction".into());
        }
        match (mechanism.as_str(), initial) {
            ("PLAIN", Some(response)) => self.auth_plain(response.as_bytes()),
            ("PLAIN", None) => {
                self.mode = Mode::AuthPlain;
                self.intermediate("");
            }
            ("LOGIN", Some(response)) => {
                if let Some(user) = self.decode_response(response.as_bytes()) {
                    self.mode = Mode::AuthLoginPassword { user };
                    self.intermediate("UGFzc3dvcmQ6");
                }
            }
            ("LOGIN", None) => {
                self.mode = Mode::AuthLoginUser;
                self.intermediate("VXNlcm5hbWU6");
            }
            _ => self.refuse(504, "5.5.4", format!("mechanism {mechanism} is not offered: PLAIN or LOGIN")),
        }
    }

    /// A 334 challenge; not a fault step.
    fn intermediate(&mut self, challenge: &str) {
        let line = format!("334 {challenge}");
        self.lines.push(Line::Server { line: line.clone(), tls: self.tls });
        self.actions.push_back(Action::Reply { bytes: format!("{line}\r\n").into_bytes(), delay: Duration::ZERO });
    }

    /// A base64 response (RFC 4954 §4): `*` cancels (501), bad base64 is 501 too; `None` when answered.
    fn decode_response(&mut self, response: &[u8]) -> Option<String> {
        if response == b"*" {
            self.refuse(501, "5.0.0", "authentication cancelled".into());
            return None;
        }
        let decoded = if response == b"=" { Some(Vec::new()) } else { BASE64.decode(response).ok() };
        match decoded.and_then(|bytes| String::from_utf8(bytes).ok()) {
            Some(text) => Some(text),
            None => {
                self.refuse(501, "5.5.2", "the response is not base64 of UTF-8 text".into());
                None
            }
        }
    }

    /// RFC 4616: `authzid NUL authcid NUL passwd`.
    fn auth_plain(&mut self, response: &[u8]) {
        let Some(text) = self.decode_response(response) else { return };
        let parts: Vec<&str> = text.split('\0').collect();
        let [_, user, password] = parts[..] else {
            return self.refuse(501, "5.5.2", "PLAIN needs authzid NUL user NUL password".into());
        };
        self.check_credentials(user.to_string(), password.to_string());
    }

    fn check_credentials(&mut self, user: String, password: String) {
        let good = match &self.settings.auth {
            Some(AuthPolicy::Any) => true,
            Some(AuthPolicy::Only(users)) => users.iter().any(|(u, p)| *u == user && *p == password),
            None => false,
        };
        if good {
            if self.answer(Step::Auth, 235, "2.7.0", vec!["Authentication successful".into()]).is_some_and(positive) {
                self.lines.push(Line::Note(Note::Authenticated { user: user.clone() }));
                self.authenticated = Some(user);
            }
        } else {
            self.refuse(535, "5.7.8", "Authentication credentials invalid".into());
        }
    }

    fn mail(&mut self, path: String, parameters: Vec<Parameter>) {
        let Some((extended, _)) = self.greeted.clone() else {
            let verb = if self.settings.lmtp { "LHLO" } else { "EHLO or HELO" };
            return self.refuse(503, "5.5.1", format!("say {verb} first"));
        };
        if self.envelope.is_some() {
            return self.refuse(503, "5.5.1", "a transaction is already open (RSET first)".into());
        }
        if self.settings.require_tls && !self.tls {
            return self.refuse(530, "5.7.0", "Must issue a STARTTLS command first".into());
        }
        if matches!(self.settings.auth, Some(AuthPolicy::Only(_))) && self.authenticated.is_none() {
            return self.refuse(530, "5.7.0", "Authentication required".into());
        }
        let offer = self.settings.offer.clone();
        for parameter in &parameters {
            let value = parameter.value.as_deref();
            let known = extended
                && match parameter.keyword.as_str() {
                    "SIZE" => offer.size,
                    "BODY" => match value.map(str::to_ascii_uppercase).as_deref() {
                        Some("7BIT") => true,
                        Some("8BITMIME") => offer.eight_bit_mime,
                        Some("BINARYMIME") => offer.chunking,
                        _ => false,
                    },
                    "SMTPUTF8" => offer.smtputf8 && value.is_none(),
                    "RET" | "ENVID" => offer.dsn,
                    "AUTH" => self.auth_offered(),
                    _ => false,
                };
            if !known {
                let shown: String = parameter.keyword.chars().take(30).collect();
                return self.refuse(555, "5.5.4", format!("parameter {shown} is not recognised or not offered"));
            }
            if parameter.keyword == "SIZE" {
                match value.and_then(|v| v.parse::<u64>().ok()) {
                    Some(size) if size > self.settings.max_message => {
                        let limit = self.settings.max_message;
                        return self.refuse(552, "5.3.4", format!("message size exceeds the limit of {limit} bytes"));
                    }
                    Some(_) => {}
                    None => return self.refuse(501, "5.5.4", "SIZE needs a number".into()),
                }
            }
        }
        let text = format!("Sender <{path}> ok");
        if self.answer(Step::Mail, 250, "2.1.0", vec![text]).is_some_and(positive) {
            self.envelope = Some(Envelope { from: path, ..Envelope::default() });
        }
    }

    fn rcpt(&mut self, path: String, parameters: Vec<Parameter>) {
        let Some(envelope) = &self.envelope else {
            return self.refuse(503, "5.5.1", "need MAIL before RCPT".into());
        };
        if envelope.recipients.len() >= self.settings.max_recipients {
            return self.refuse(452, "4.5.3", "too many recipients".into());
        }
        for parameter in &parameters {
            let known = match parameter.keyword.as_str() {
                "NOTIFY" | "ORCPT" => self.settings.offer.dsn,
                _ => false,
            };
            if !known {
                let shown: String = parameter.keyword.chars().take(30).collect();
                return self.refuse(555, "5.5.4", format!("parameter {shown} is not recognised or not offered"));
            }
        }
        let text = format!("Recipient <{path}> ok");
        if self.answer(Step::Rcpt, 250, "2.1.5", vec![text]).is_some_and(positive) {
            if let Some(envelope) = &mut self.envelope {
                envelope.recipients.push(path);
            }
        }
    }

    fn data(&mut self) {
        let Some(envelope) = &self.envelope else {
            return self.refuse(503, "5.5.1", "need MAIL and RCPT before DATA".into());
        };
        if envelope.recipients.is_empty() {
            return self.refuse(554, "5.5.1", "no valid recipients".into());
        }
        if envelope.chunked {
            return self.refuse(503, "5.5.1", "DATA after BDAT in one transaction".into());
        }
        if self.answer(Step::Data, 354, "", vec!["End data with <CR><LF>.<CR><LF>".into()]).is_some_and(|c| c == 354) {
            let reader = DataReader::new(self.settings.end_of_data, self.settings.max_message);
            self.mode = Mode::Data(Box::new(reader));
        }
    }

    fn end_of_data(&mut self, reader: DataReader) {
        self.lines.push(Line::Content { bytes: reader.size(), lines: reader.lines(), chunked: false, tls: self.tls });
        let lines = reader.lines();
        if reader.too_big() {
            let (bytes, limit) = (reader.size(), self.settings.max_message);
            self.lines.push(Line::Note(Note::TooBig { bytes, limit }));
            self.envelope = None;
            return self.refuse(552, "5.3.4", format!("message size exceeds the limit of {limit} bytes"));
        }
        self.deliver(reader.into_message(), lines, false);
    }

    fn bdat(&mut self, size: u64, last: bool) {
        let refusal = match &self.envelope {
            _ if !self.settings.offer.chunking => Some((502, "5.5.1", "CHUNKING is not offered".to_string())),
            None => Some((503, "5.5.1", "need MAIL and RCPT before BDAT".to_string())),
            Some(envelope) if envelope.recipients.is_empty() => Some((554, "5.5.1", "no valid recipients".to_string())),
            Some(_) => None,
        };
        if let Some(envelope) = &mut self.envelope {
            envelope.chunked = true;
        }
        self.mode = Mode::Chunk { remaining: size, last, refusal };
        if size == 0 {
            // A zero-length chunk ends at once.
            self.step_input();
        }
    }

    fn end_of_chunk(&mut self, last: bool, refusal: Option<(u16, &'static str, String)>) {
        if let Some((code, enhanced, text)) = refusal {
            return self.refuse(code, enhanced, text);
        }
        let Some(envelope) = &mut self.envelope else { return };
        let total = envelope.chunk_bytes;
        if !last {
            self.answer(Step::Bdat, 250, "2.0.0", vec![format!("{total} octets received")]);
            return;
        }
        let content = std::mem::take(&mut envelope.chunks);
        let lines = content.iter().filter(|&&b| b == b'\n').count() as u64;
        self.lines.push(Line::Content { bytes: total, lines, chunked: true, tls: self.tls });
        if total > self.settings.max_message {
            let limit = self.settings.max_message;
            self.lines.push(Line::Note(Note::TooBig { bytes: total, limit }));
            self.envelope = None;
            return self.refuse(552, "5.3.4", format!("message size exceeds the limit of {limit} bytes"));
        }
        self.deliver(content, lines, true);
    }

    /// The whole message is in: a fault at the dot comes first (a drop or a refusal stores nothing), then the
    /// driver stores it and `stored` replies.
    fn deliver(&mut self, content: Vec<u8>, lines: u64, chunked: bool) {
        let envelope = self.envelope.take().unwrap_or_default();
        let faults = &self.settings.faults;
        let dropped = faults.drops.contains(&Step::Dot);
        let refused = faults.replies.iter().any(|(step, fault)| *step == Step::Dot && fault.code / 100 != 2);
        if dropped || refused {
            let count = if self.settings.lmtp { envelope.recipients.len() } else { 1 };
            for _ in 0..count.max(1) {
                if self.answer(Step::Dot, 250, "2.0.0", vec!["Ok".into()]).is_none() {
                    break;
                }
            }
            return;
        }
        self.delivering = Some(envelope.recipients.clone());
        self.mode = Mode::Waiting;
        self.actions.push_back(Action::Deliver(Message {
            from: envelope.from,
            recipients: envelope.recipients,
            bytes: content.len() as u64,
            content,
            lines,
            chunked,
            client_name: self.greeted.as_ref().map(|(_, name)| name.clone()).unwrap_or_default(),
            authenticated: self.authenticated.clone(),
            tls: self.tls,
        }));
    }

    /// A refusal of this server's own (not a fault step): counted towards the error limit.
    fn refuse(&mut self, code: u16, enhanced: &str, text: String) {
        self.errors += 1;
        if self.errors > MAX_ERRORS {
            self.lines.push(Line::Note(Note::TooManyErrors));
            self.answer_plain(421, "4.7.0", "too many errors: closing the connection".into());
            return;
        }
        self.answer_plain(code, enhanced, text);
    }

    fn answer_plain(&mut self, code: u16, enhanced: &str, text: String) {
        self.send(code, enhanced, vec![text], Duration::ZERO);
    }

    /// The reply to `step`, unless a fault says otherwise: the code actually sent, or `None` when the
    /// connection was dropped instead.
    fn answer(&mut self, step: Step, code: u16, enhanced: &str, texts: Vec<String>) -> Option<u16> {
        let faults = &self.settings.faults;
        let delay = faults.delays.iter().filter(|(s, _)| *s == step).map(|(_, d)| *d).sum::<Duration>();
        if !delay.is_zero() {
            self.lines.push(Line::Fault { step, fault: FaultKind::Delay(delay) });
        }
        if faults.drops.contains(&step) {
            self.lines.push(Line::Fault { step, fault: FaultKind::Drop });
            if !delay.is_zero() {
                self.actions.push_back(Action::Reply { bytes: Vec::new(), delay });
            }
            self.close();
            return None;
        }
        match faults.replies.iter().find(|(s, _)| *s == step).map(|(_, fault)| fault.clone()) {
            Some(fault) => {
                self.lines.push(Line::Fault { step, fault: FaultKind::Reply(fault.code) });
                let text = fault.text.clone().unwrap_or_else(|| {
                    let class = fault.code / 100;
                    let enhanced = if (2..=5).contains(&class) && self.settings.offer.enhanced_status_codes {
                        format!("{class}.0.0 ")
                    } else {
                        String::new()
                    };
                    format!("{enhanced}on cue: --reply {}={}", step.name(), fault.code)
                });
                self.send(fault.code, "", vec![text], delay);
                Some(fault.code)
            }
            None => {
                self.send(code, enhanced, texts, delay);
                Some(code)
            }
        }
    }

    /// Queue one whole reply; a 421 closes the session after it (RFC 5321 §3.8).
    fn send(&mut self, code: u16, enhanced: &str, texts: Vec<String>, delay: Duration) {
        let enhanced = if self.settings.offer.enhanced_status_codes && !enhanced.is_empty() {
            format!("{enhanced} ")
        } else {
            String::new()
        };
        let mut bytes = Vec::new();
        let count = texts.len();
        for (index, text) in texts.iter().enumerate() {
            let separator = if index + 1 == count { ' ' } else { '-' };
            let prefix = if index == 0 { enhanced.as_str() } else { "" };
            let line = format!("{code}{separator}{prefix}{text}");
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(b"\r\n");
            self.lines.push(Line::Server { line, tls: self.tls });
        }
        self.actions.push_back(Action::Reply { bytes, delay });
        if code == 421 {
            self.close();
        }
    }
}

fn positive(code: u16) -> bool {
    code / 100 == 2
}

#[cfg(test)]
mod tests;
