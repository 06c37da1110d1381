//! One worker: sessions one after another, each with up to `--per-connection` messages (RSET between them),
//! on the client state machine and the blocking driver, measuring each step as its events arrive.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::schedule::{Schedule, Ticket};
use super::stats::{Stats, Step};
use crate::drive::blocking::{self, Conversation};
use crate::event::{Event, Sink, Step as EventStep};
use crate::net::tls::{TlsClient, Verify};
use crate::net::wire::Wire;
use crate::smtp::client::{Client, Outcome, Verdict};
use crate::smtp::codec::{Content, Facts};
use crate::smtp::error::{Error as SessionError, Phase};
use crate::smtp::event::Event as SmtpEvent;
use crate::smtp::extensions::Dsn;
use crate::smtp::settings::{Credentials, Envelope, Settings, Timeouts, TlsPolicy};

/// Where and how every session connects.
#[derive(Clone)]
pub struct Target {
    pub address: SocketAddr,
    /// The server as named: for AUTH and messages.
    pub server_name: String,
    /// The name the certificate is checked against.
    pub tls_name: String,
    pub port: u16,
    pub policy: TlsPolicy,
    pub tls: Option<Arc<TlsClient>>,
    pub verify: Verify,
    pub credentials: Option<Credentials>,
    pub allow_plaintext_auth: bool,
    pub allow_unverified_auth: bool,
    /// `None`: the local address as a literal.
    pub client_name: Option<String>,
    pub timeouts: Timeouts,
    pub connect_timeout: Duration,
    pub bind: Option<IpAddr>,
    pub pipelining: bool,
    pub bdat: bool,
    pub dsn: Dsn,
}

/// The message every session sends, built once; each copy gets its own `X-Postie-Load: RUN/SEQ` header.
pub struct Message {
    pub reverse_path: String,
    pub recipients: Vec<String>,
    pub bytes: Vec<u8>,
    pub facts: Facts,
    pub run: String,
}

impl Message {
    fn header(&self, sequence: u64) -> String {
        format!("X-Postie-Load: {}/{sequence}\r\n", self.run)
    }

    fn envelope(&self, sequence: u64, dsn: &Dsn) -> Envelope {
        let mut facts = self.facts;
        facts.size += self.header(sequence).len() as u64;
        facts.lines += 1;
        Envelope {
            reverse_path: self.reverse_path.clone(),
            recipients: self.recipients.clone(),
            facts,
            dsn: dsn.clone(),
        }
    }
}

/// The message with the header of the copy being sent: the copies go out in the order their transactions
/// were started, one per content the client asks for.
struct Tagged<'a> {
    message: &'a Message,
    sequences: RefCell<VecDeque<u64>>,
}

impl Content for Tagged<'_> {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        let sequence = self.sequences.borrow_mut().pop_front().unwrap_or_default();
        out.write_all(self.message.header(sequence).as_bytes())?;
        out.write_all(&self.message.bytes)
    }
}

/// What all workers share: messages done and errors so far, for the progress bar and --max-errors.
#[derive(Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub errors: AtomicU64,
}

/// Run sessions until the schedule says the run is over; what this worker counted.
pub fn work(
    target: &Target,
    message: &Message,
    schedule: &Schedule,
    per_connection: u32,
    progress: &Progress,
    max_errors: Option<u64>,
) -> Stats {
    let mut timing = Timing::new();
    let content = Tagged { message, sequences: RefCell::new(VecDeque::new()) };
    let conversation = Conversation {
        tls: target.tls.as_deref(),
        tls_name: &target.tls_name,
        verify: target.verify,
        content: Some(&content),
        show_data: false,
        progress: None,
        preamble: None,
        dane: None,
    };
    // Under --rate a message waits for its time, so none is taken ahead; otherwise the next one is queued
    // while this one goes, to ride behind its final dot.
    let ahead = per_connection > 1 && !schedule.paced();
    while let Some(first) = schedule.next() {
        timing.stats.sessions += 1;
        let began = Instant::now();
        let tcp = match crate::net::connect_one(target.address, target.connect_timeout, target.bind) {
            Ok(tcp) => tcp,
            Err(reason) => {
                timing.finish(Err(Problem::Failed(format!("connect: {reason}"))), progress, schedule, max_errors);
                continue;
            }
        };
        let connected = Instant::now();
        timing.stats.record(Step::Connect, connected - began);
        let client_name = target.client_name.clone().unwrap_or_else(|| match tcp.local_addr() {
            Ok(local) => crate::hostname::address_literal(local.ip()),
            Err(_) => "localhost".into(),
        });
        let mut settings = Settings::new(&client_name, &target.server_name, target.port, target.timeouts);
        settings.tls = target.policy;
        settings.credentials = target.credentials.clone();
        settings.allow_plaintext_auth = target.allow_plaintext_auth;
        settings.allow_unverified_auth = target.allow_unverified_auth;
        settings.pipelining = target.pipelining;
        settings.bdat = target.bdat;
        settings.hold_session = per_connection > 1;
        settings.envelope = Some(message.envelope(first.sequence, &target.dsn));
        let mut client = Client::new(settings);
        content.sequences.borrow_mut().clear();
        timing.session(connected);
        let submit = |ticket: Ticket, timing: &mut Timing| {
            content.sequences.borrow_mut().push_back(ticket.sequence);
            timing.submit(ticket);
        };
        submit(first, &mut timing);
        let mut started = 1;
        let take_next = |started: &mut u32| -> Option<Ticket> {
            if *started >= per_connection {
                return None;
            }
            let next = schedule.next()?;
            *started += 1;
            Some(next)
        };
        if ahead {
            if let Some(next) = take_next(&mut started) {
                client.queue_transaction(message.envelope(next.sequence, &target.dsn));
                submit(next, &mut timing);
            }
        }
        let deadline = Instant::now() + target.timeouts.other;
        let implicit = target.policy == TlsPolicy::Implicit;
        let (mut connection, _) =
            blocking::open(Wire::Tcp(tcp), &mut client, implicit, deadline, &conversation, &mut timing);
        loop {
            blocking::run(&mut connection, &mut client, &conversation, None, &mut timing);
            // Transactions that ended while the next was under way.
            while let Some(outcome) = client.take_finished() {
                timing.finish(judge(&outcome), progress, schedule, max_errors);
                if ahead && !client.has_queued() {
                    if let Some(next) = take_next(&mut started) {
                        client.queue_transaction(message.envelope(next.sequence, &target.dsn));
                        submit(next, &mut timing);
                    }
                }
            }
            if client.is_idle() {
                timing.finish(judge(client.transaction()), progress, schedule, max_errors);
                if client.start_queued() {
                    continue;
                }
                match take_next(&mut started) {
                    Some(next) => {
                        submit(next, &mut timing);
                        client.next_transaction(message.envelope(next.sequence, &target.dsn));
                        if ahead {
                            if let Some(after) = take_next(&mut started) {
                                client.queue_transaction(message.envelope(after.sequence, &target.dsn));
                                submit(after, &mut timing);
                            }
                        }
                    }
                    None => {
                        client.quit();
                        blocking::run(&mut connection, &mut client, &conversation, None, &mut timing);
                        break;
                    }
                }
                continue;
            }
            if client.is_over() {
                // The session ended: the transaction under way, and any queued behind it, with it.
                if timing.under_way() {
                    timing.finish(judge(client.transaction()), progress, schedule, max_errors);
                }
                let cause = client.transaction().error.as_ref().map_or("session ended".to_string(), cause);
                while timing.under_way() {
                    timing.finish(Err(Problem::Failed(format!("not sent: {cause}"))), progress, schedule, max_errors);
                }
                break;
            }
        }
    }
    timing.stats
}

/// Count an error, and stop the run when there are more than --max-errors.
fn count_error(progress: &Progress, schedule: &Schedule, max_errors: Option<u64>) {
    let errors = progress.errors.fetch_add(1, Ordering::Relaxed) + 1;
    if max_errors.is_some_and(|max| errors > max) {
        schedule.stop();
    }
}

enum Problem {
    Refused(u16),
    Failed(String),
}

/// What became of one message: accepted by every recipient, refused (with the reply code that refused it),
/// or failed (with the cause).
fn judge(outcome: &Outcome) -> Result<(), Problem> {
    if !outcome.recipients.is_empty() && outcome.recipients.iter().all(|r| r.delivered()) {
        return Ok(());
    }
    if let Some(mail) = outcome.mail.as_ref().filter(|m| !m.is_positive() && !m.code.is_intermediate()) {
        return Err(Problem::Refused(mail.code.0));
    }
    for recipient in &outcome.recipients {
        if let Verdict::Replied { reply, .. } = &recipient.verdict {
            if !reply.is_positive() {
                return Err(Problem::Refused(reply.code.0));
            }
        }
    }
    match &outcome.error {
        Some(SessionError::Refused { reply, .. } | SessionError::AuthRefused { reply }) => {
            Err(Problem::Refused(reply.code.0))
        }
        Some(error) => Err(Problem::Failed(cause(error))),
        None if outcome.recipients.iter().any(|r| matches!(r.verdict, Verdict::Unknown { .. })) => {
            Err(Problem::Failed("no reply after the message".into()))
        }
        None => Err(Problem::Failed("not sent".into())),
    }
}

/// A failure's cause in a few words that group alike failures together.
fn cause(error: &SessionError) -> String {
    match error {
        SessionError::Timeout { phase, .. } => format!("timeout in {phase}"),
        SessionError::Stalled { .. } => "stalled sending the message".into(),
        SessionError::Closed { phase } => format!("connection closed in {phase}"),
        SessionError::Io { phase, .. } => format!("i/o error in {phase}"),
        SessionError::Violation { phase, .. } => format!("protocol violation in {phase}"),
        SessionError::Tls { .. } | SessionError::TlsInsteadOfGreeting => "TLS failed".into(),
        SessionError::StartTlsNotOffered { .. } => "STARTTLS not offered".into(),
        SessionError::AuthNotAttempted(_) => "AUTH not attempted".into(),
        SessionError::OutOfTime { .. } => "out of time".into(),
        SessionError::MessageTooLarge { .. } => "message larger than the server takes".into(),
        other => other.phase().to_string(),
    }
}

/// A sink that times each step from the events as they arrive, and keeps the counts.
struct Timing {
    stats: Stats,
    mark: Instant,
    hellos: u32,
    /// The messages under way in this session, oldest first.
    messages: VecDeque<MessageTiming>,
}

impl Timing {
    fn new() -> Timing {
        Timing { stats: Stats::new(), mark: Instant::now(), hellos: 0, messages: VecDeque::new() }
    }

    /// A new session, connected at `connected`.
    fn session(&mut self, connected: Instant) {
        self.mark = connected;
        self.hellos = 0;
        self.messages.clear();
    }

    /// A transaction started (or queued): its steps are timed as its events come.
    fn submit(&mut self, ticket: Ticket) {
        self.messages.push_back(MessageTiming { due: ticket.due, ..MessageTiming::default() });
    }

    /// Whether a message of this session has not been counted yet.
    fn under_way(&self) -> bool {
        !self.messages.is_empty()
    }

    /// A message's end: count it, and forget its timing.
    fn finish(
        &mut self,
        result: Result<(), Problem>,
        progress: &Progress,
        schedule: &Schedule,
        max_errors: Option<u64>,
    ) {
        self.messages.pop_front();
        self.stats.messages += 1;
        match result {
            Ok(()) => self.stats.accepted += 1,
            Err(problem) => {
                count_error(progress, schedule, max_errors);
                match problem {
                    Problem::Refused(code) => self.stats.refuse(code),
                    Problem::Failed(cause) => self.stats.fail(&cause),
                }
            }
        }
        progress.done.fetch_add(1, Ordering::Relaxed);
    }
}

/// When each step of one message happened.
#[derive(Default)]
struct MessageTiming {
    due: Option<Instant>,
    mail_start: Option<Instant>,
    data_ready: bool,
    content_done: Option<Instant>,
    replied: bool,
}

impl Timing {
    /// The go-ahead for the content (354, or BDAT going out) of the oldest message still waiting for one.
    fn data_ready(&mut self, now: Instant) {
        if let Some(message) = self.messages.iter_mut().find(|m| !m.data_ready && m.mail_start.is_some()) {
            message.data_ready = true;
            if let Some(start) = message.mail_start {
                self.stats.record(Step::MailToData, now - start);
            }
        }
    }
}

impl Sink for Timing {
    fn emit(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            // Implicit TLS, before the greeting; after STARTTLS the EHLO that follows closes the step.
            Event::Step { step: EventStep::TlsHandshake, duration } if self.hellos == 0 => {
                self.stats.record(Step::Tls, duration)
            }
            Event::Smtp(SmtpEvent::Sent { line, .. }) => {
                let verb = line.split(' ').next().unwrap_or("");
                if verb.eq_ignore_ascii_case("MAIL") || verb.eq_ignore_ascii_case("RSET") {
                    if let Some(message) = self.messages.iter_mut().find(|m| m.mail_start.is_none()) {
                        message.mail_start = Some(now);
                    }
                }
                if verb.eq_ignore_ascii_case("BDAT") {
                    self.data_ready(now);
                }
            }
            Event::Smtp(SmtpEvent::DataSent { .. }) => {
                if let Some(message) = self.messages.iter_mut().find(|m| m.content_done.is_none()) {
                    message.content_done = Some(now);
                }
            }
            Event::Smtp(SmtpEvent::Received { reply, phase, .. }) => match phase {
                Phase::Banner => {
                    self.stats.record(Step::Greeting, now - self.mark);
                    self.mark = now;
                }
                Phase::Ehlo | Phase::Helo => {
                    self.hellos += 1;
                    // The first EHLO, then the one after STARTTLS (which includes the handshake).
                    let step = if self.hellos == 1 { Step::Ehlo } else { Step::Tls };
                    self.stats.record(step, now - self.mark);
                    self.mark = now;
                }
                Phase::Auth if !reply.code.is_intermediate() => {
                    self.stats.record(Step::Auth, now - self.mark);
                    self.mark = now;
                }
                Phase::Data if reply.code.is_intermediate() => self.data_ready(now),
                Phase::EndOfData => {
                    if let Some(message) = self.messages.iter_mut().find(|m| !m.replied && m.content_done.is_some()) {
                        message.replied = true;
                        if let Some(done) = message.content_done {
                            self.stats.record(Step::EndOfData, now - done);
                        }
                        if let Some(start) = message.due.or(message.mail_start) {
                            self.stats.record(Step::Message, now.saturating_duration_since(start));
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
}
