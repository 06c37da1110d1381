//! The SMTP client dialogue (RFC 5321 §3, §4.1) as a state machine over any byte stream.
//!
//! The session sends commands, reads replies, and reports each to an event sink; it never prints. A reply is
//! data: a refused recipient is an outcome to report, not an exception. Only what ends the dialogue (a
//! timeout, a dropped connection, garbage from the server, a refusal of the whole session) is an `Error`.

use std::io::{self, BufWriter, Read, Write};
use std::time::{Duration, Instant};

use super::auth::{self, Mechanism, Secret};
use super::codec::{self, DotStuffer, Facts};
use super::command::Command;
use super::ehlo::Capabilities;
use super::extensions::{self, Dsn};
use super::reply::{Reply, ReplyParser};
use crate::deliver::StopPoint;
use crate::error::{Error, Phase};
use crate::event::{Event, Sink};

/// A connection the session can talk over: plain TCP, TLS, or a scripted peer in tests.
pub trait Transport: Read + Write {
    /// Bound the next reads and writes. The session sets it before each wait.
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()>;
}

/// How long to wait for each reply. RFC 5321 §4.5.3.2 gives the minimums a client should allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub banner: Duration,
    pub mail: Duration,
    pub rcpt: Duration,
    pub data_init: Duration,
    /// Each write of the message content (RFC: "data block").
    pub data_block: Duration,
    pub data_end: Duration,
    /// EHLO, HELO, QUIT and other commands the RFC does not name.
    pub other: Duration,
}

impl Timeouts {
    /// RFC 5321 §4.5.3.2: greeting 5 min, MAIL 5 min, RCPT 5 min, DATA initiation 2 min, data block 3 min,
    /// end of data 10 min.
    pub fn rfc5321() -> Timeouts {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        Timeouts {
            banner: minutes(5),
            mail: minutes(5),
            rcpt: minutes(5),
            data_init: minutes(2),
            data_block: minutes(3),
            data_end: minutes(10),
            other: minutes(5),
        }
    }

    /// The same limit for every wait (`--timeout`).
    pub fn uniform(limit: Duration) -> Timeouts {
        Timeouts {
            banner: limit,
            mail: limit,
            rcpt: limit,
            data_init: limit,
            data_block: limit,
            data_end: limit,
            other: limit,
        }
    }

    fn for_phase(&self, phase: Phase) -> Duration {
        match phase {
            Phase::Banner => self.banner,
            Phase::MailFrom => self.mail,
            Phase::RcptTo => self.rcpt,
            Phase::Data => self.data_init,
            Phase::EndOfData => self.data_end,
            Phase::Connect
            | Phase::Ehlo
            | Phase::Helo
            | Phase::StartTls
            | Phase::TlsHandshake
            | Phase::Auth
            | Phase::Quit => self.other,
        }
    }
}

/// Who the message is from and to, as given to MAIL FROM and RCPT TO.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// Empty for the null sender `<>`.
    pub reverse_path: &'a str,
    pub recipients: &'a [String],
}

/// What became of one recipient: the last reply that decided it, and the step that reply answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientOutcome {
    pub recipient: String,
    pub phase: Phase,
    pub reply: Reply,
}

impl RecipientOutcome {
    /// The server took responsibility for the message for this recipient (RFC 5321 §4.1.1.4).
    pub fn delivered(&self) -> bool {
        self.phase == Phase::EndOfData && self.reply.is_positive()
    }
}

/// The result of one mail transaction, recipient by recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub recipients: Vec<RecipientOutcome>,
}

impl Delivery {
    pub fn delivered_count(&self) -> usize {
        self.recipients.iter().filter(|r| r.delivered()).count()
    }
}

/// The largest read from the server at once; replies are small.
const READ_CHUNK: usize = 8 * 1024;
/// Message content is written in blocks of this size: few system calls, little memory.
const WRITE_BLOCK: usize = 64 * 1024;

pub struct Session<'s, T: Transport> {
    stream: T,
    parser: ReplyParser,
    sink: &'s mut dyn Sink,
    timeouts: Timeouts,
    show_data: bool,
    /// The connection is encrypted: every line is marked so on the transcript.
    tls: bool,
    /// A handshake failed half-way: the connection cannot carry a QUIT.
    broken: bool,
    /// QUIT was sent already, or the session is to end without it.
    dropped: bool,
    /// What the last EHLO offered.
    capabilities: Capabilities,
    /// Told how many bytes of the message went out, for a progress bar.
    progress: Option<Box<dyn FnMut(u64) + 's>>,
    read_buffer: Box<[u8]>,
}

/// Who to authenticate as, and with what.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    pub secret: Secret,
    /// The secret is an OAuth 2.0 bearer token, not a password.
    pub is_token: bool,
    /// `None`: the strongest mechanism both sides have.
    pub mechanism: Option<Mechanism>,
    /// Show what AUTH sends instead of `<redacted>` (--show-secrets).
    pub show_secrets: bool,
}

impl<'s, T: Transport> Session<'s, T> {
    pub fn new(stream: T, sink: &'s mut dyn Sink, timeouts: Timeouts) -> Self {
        Session {
            stream,
            parser: ReplyParser::new(),
            sink,
            timeouts,
            show_data: false,
            tls: false,
            broken: false,
            dropped: false,
            capabilities: Capabilities::default(),
            progress: None,
            read_buffer: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }

    /// Report the bytes of the message as they go out (a progress bar).
    pub fn progress(mut self, report: Box<dyn FnMut(u64) + 's>) -> Self {
        self.progress = Some(report);
        self
    }

    /// A note on the transcript from whoever drives the session.
    pub fn note(&mut self, event: Event) {
        self.sink.emit(event);
    }

    /// Report every line of the message content, not only its size.
    pub fn show_data(mut self, show: bool) -> Self {
        self.show_data = show;
        self
    }

    /// The connection is TLS from the start (implicit TLS).
    pub fn encrypted(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    pub fn is_encrypted(&self) -> bool {
        self.tls
    }

    pub fn into_inner(self) -> T {
        self.stream
    }

    /// The simplest whole dialogue: banner, EHLO (or HELO), one transaction with no options, QUIT.
    pub fn run(&mut self, client_name: &str, envelope: Envelope<'_>, message: &[u8]) -> Result<Delivery, Error> {
        let facts =
            codec::measure(|out| out.write_all(message)).map_err(|cause| Error::Io { phase: Phase::Data, cause })?;
        let dsn = Dsn::default();
        let transaction =
            Transaction { envelope, content: &message, facts, dsn: &dsn, pipelining: false, bdat: false, stop: None };
        self.conclude(|session| {
            session.greeting()?;
            session.hello(client_name)?;
            session.transaction(&transaction)
        })
    }

    /// Run `steps`, then end the session properly: QUIT after success and after a refusal that leaves the
    /// connection in order. Not after a 421 (the server is closing, RFC 5321 §3.8), nor after a timeout,
    /// garbage or a failed handshake, when the state of the connection is unknown.
    pub fn conclude<R>(&mut self, steps: impl FnOnce(&mut Self) -> Result<R, Error>) -> Result<R, Error> {
        let result = steps(self);
        let polite = !self.dropped
            && match &result {
                Ok(_) => true,
                Err(Error::Rejected { reply, .. } | Error::AuthRefused { reply }) => reply.code.0 != 421,
                Err(Error::AuthNotAttempted(_)) => true,
                Err(Error::Tls { .. }) => !self.broken,
                Err(_) => false,
            };
        if polite {
            self.quit();
        }
        result
    }

    /// End without QUIT: the caller closes the connection (`--drop-after`).
    pub fn drop_connection(&mut self) {
        self.dropped = true;
        self.sink.emit(Event::Info("closing the connection without QUIT, as asked".into()));
    }

    /// `--quit-after connect`: QUIT before reading the greeting, then read what comes (the greeting, and
    /// the reply to QUIT).
    pub fn quit_before_greeting(&mut self) {
        let line = Command::Quit.to_string();
        if let Err(error) = self.send_line(&line, &line, Phase::Quit) {
            self.sink.emit(Event::Warning(error.to_string()));
            return;
        }
        for _ in 0..2 {
            match self.read_reply(Phase::Quit) {
                Ok(reply) if reply.code.0 == 221 || !reply.is_positive() => break,
                Ok(_) => {}
                Err(error) => {
                    self.sink.emit(Event::Warning(error.to_string()));
                    break;
                }
            }
        }
        self.dropped = true;
    }

    /// STARTTLS (RFC 3207): ask, check that nothing else arrived, then let `upgrade` run the handshake on the
    /// stream in place. The caller must send EHLO again afterwards (RFC 3207 §4.2): what the server said
    /// before TLS may have been forged.
    pub fn start_tls(&mut self, upgrade: impl FnOnce(&mut T, &mut dyn Sink) -> Result<(), Error>) -> Result<(), Error> {
        let reply = self.command(&Command::StartTls, Phase::StartTls)?;
        if !reply.is_positive() {
            return Err(Error::Rejected { phase: Phase::StartTls, reply });
        }
        // Bytes already waiting were sent before TLS but would be read as if they came after it: a man in
        // the middle injecting replies (CVE-2011-0411 class). Refuse rather than start TLS.
        let pending = self.parser.buffered();
        if pending > 0 {
            return Err(Error::Protocol {
                phase: Phase::StartTls,
                detail: format!(
                    "the server sent {pending} more bytes after its reply to STARTTLS (response injection); \
                     refusing to start TLS"
                ),
            });
        }
        self.broken = true;
        upgrade(&mut self.stream, &mut *self.sink)?;
        self.broken = false;
        self.tls = true;
        Ok(())
    }

    /// AUTH (RFC 4954) with the given or the strongest common mechanism. `host` and `port` go into
    /// OAUTHBEARER's message.
    pub fn authenticate(
        &mut self,
        capabilities: &Capabilities,
        credentials: &Credentials,
        host: &str,
        port: u16,
    ) -> Result<(), Error> {
        let offered = capabilities.parameters("AUTH").map(<[String]>::to_vec).unwrap_or_default();
        let mechanism = match credentials.mechanism {
            Some(mechanism) => mechanism,
            None => auth::choose(&offered, credentials.is_token).ok_or_else(|| {
                let list = if offered.is_empty() { "none".to_string() } else { offered.join(" ") };
                let ours = if credentials.is_token { "OAUTHBEARER XOAUTH2" } else { "CRAM-MD5 PLAIN LOGIN" };
                Error::AuthNotAttempted(format!(
                    "no AUTH mechanism in common with the server (it offers: {list}; postie has {ours} for this secret)"
                ))
            })?,
        };
        let user = credentials.user.as_str();
        let secret = &credentials.secret;
        let show = credentials.show_secrets;
        let mut reply = match mechanism {
            Mechanism::Plain => self.secret_command(
                &format!("AUTH PLAIN {}", auth::plain(user, secret)),
                "AUTH PLAIN <redacted>",
                show,
            )?,
            Mechanism::Xoauth2 => self.secret_command(
                &format!("AUTH XOAUTH2 {}", auth::xoauth2(user, secret)),
                "AUTH XOAUTH2 <redacted>",
                show,
            )?,
            Mechanism::Oauthbearer => self.secret_command(
                &format!("AUTH OAUTHBEARER {}", auth::oauthbearer(user, host, port, secret)),
                "AUTH OAUTHBEARER <redacted>",
                show,
            )?,
            Mechanism::Login | Mechanism::CramMd5 => self.auth_command(&format!("AUTH {}", mechanism.name()))?,
        };
        let mut step = 0;
        while reply.code.0 == 334 {
            step += 1;
            if step > 3 {
                return Err(Error::Protocol {
                    phase: Phase::Auth,
                    detail: "the server keeps sending AUTH challenges".into(),
                });
            }
            let challenge = reply.texts().next().unwrap_or_default().to_vec();
            reply = match (mechanism, step) {
                (Mechanism::Login, 1) => self.auth_command(&auth::encode(user))?,
                (Mechanism::Login, 2) => {
                    self.secret_command(&auth::encode(secret.expose()), "<redacted password>", show)?
                }
                (Mechanism::CramMd5, 1) => {
                    let response = auth::cram_md5(user, secret, &challenge)
                        .map_err(|detail| Error::Protocol { phase: Phase::Auth, detail })?;
                    self.secret_command(&response, "<redacted CRAM-MD5 response>", show)?
                }
                // The bearer mechanisms answer a failure with a 334 and a JSON error; the client ends the
                // exchange (RFC 7628 §3.2.3: a single ^A; XOAUTH2: an empty line) and the 5xx follows.
                (Mechanism::Oauthbearer, _) => self.auth_command("AQ==")?,
                (Mechanism::Xoauth2, _) => self.auth_command("")?,
                // PLAIN with an empty challenge: the server wants the initial response now.
                (Mechanism::Plain, 1) if challenge.is_empty() => {
                    self.secret_command(&auth::plain(user, secret), "<redacted>", show)?
                }
                _ => return Err(unexpected(Phase::Auth, &reply)),
            };
        }
        if reply.is_positive() {
            Ok(())
        } else if reply.code.is_intermediate() {
            Err(unexpected(Phase::Auth, &reply))
        } else {
            Err(Error::AuthRefused { reply })
        }
    }

    /// A line of the AUTH exchange that holds nothing secret.
    fn auth_command(&mut self, line: &str) -> Result<Reply, Error> {
        self.send_line(line, line, Phase::Auth)?;
        self.checked_reply(Phase::Auth)
    }

    /// A line of the AUTH exchange that holds a secret: the transcript gets `shown` unless --show-secrets.
    fn secret_command(&mut self, line: &str, shown: &str, show_secrets: bool) -> Result<Reply, Error> {
        self.send_line(line, if show_secrets { line } else { shown }, Phase::Auth)?;
        self.checked_reply(Phase::Auth)
    }

    /// Read the server's greeting (RFC 5321 §4.3.1: 220, or 554 for "no service here").
    pub fn greeting(&mut self) -> Result<Reply, Error> {
        let reply = self.read_reply(Phase::Banner)?;
        if reply.is_positive() {
            Ok(reply)
        } else if reply.code.is_intermediate() {
            Err(unexpected(Phase::Banner, &reply))
        } else {
            Err(Error::Rejected { phase: Phase::Banner, reply })
        }
    }

    /// EHLO, falling back to HELO when the server does not know EHLO (RFC 5321 §4.1.4: a 5xx to EHLO).
    /// The capabilities are kept for the transaction, and replaced by each EHLO.
    pub fn hello(&mut self, client_name: &str) -> Result<Capabilities, Error> {
        let reply = self.command(&Command::Ehlo(client_name), Phase::Ehlo)?;
        let capabilities = if reply.is_positive() {
            Capabilities::from_ehlo(&reply)
        } else if !reply.is_permanent() {
            return Err(Error::Rejected { phase: Phase::Ehlo, reply });
        } else {
            self.sink.emit(Event::Info("EHLO refused; falling back to HELO".into()));
            let reply = self.command(&Command::Helo(client_name), Phase::Helo)?;
            if !reply.is_positive() {
                return Err(Error::Rejected { phase: Phase::Helo, reply });
            }
            let mut capabilities = Capabilities::from_ehlo(&reply);
            capabilities.extensions.clear();
            capabilities
        };
        self.capabilities = capabilities.clone();
        Ok(capabilities)
    }

    /// MAIL, one RCPT per recipient, and the message (DATA, or BDAT with --bdat) when at least one recipient
    /// was accepted. With PIPELINING (RFC 2920) MAIL, every RCPT and DATA go out in one write and the replies
    /// are read in the same order.
    pub fn transaction(&mut self, transaction: &Transaction<'_>) -> Result<Delivery, Error> {
        let Transaction { envelope, content, facts, dsn, pipelining, bdat, stop } = *transaction;
        let stop_at = |point: StopPoint| stop.is_some_and(|s| s.point == point);
        let drop = stop.is_some_and(|s| s.drop);
        let capabilities = self.capabilities.clone();
        let parameters =
            extensions::parameters(&capabilities, &facts, envelope.reverse_path, envelope.recipients, dsn)?;
        for note in &parameters.notes {
            self.sink.emit(Event::Warning(note.clone()));
        }
        let bdat = bdat && {
            let offered = capabilities.has("CHUNKING");
            if !offered {
                self.sink.emit(Event::Warning("the server does not offer CHUNKING: sending with DATA".into()));
            }
            offered
        };
        let pipelining = pipelining && capabilities.has("PIPELINING");
        let mail = Command::MailFrom { reverse_path: envelope.reverse_path, parameters: parameters.mail };
        let rcpts: Vec<Command<'_>> = envelope
            .recipients
            .iter()
            .zip(parameters.rcpt)
            .map(|(recipient, parameters)| Command::RcptTo { forward_path: recipient, parameters })
            .collect();
        let refuse_all = |phase: Phase, reply: &Reply| Delivery {
            recipients: envelope
                .recipients
                .iter()
                .map(|r| RecipientOutcome { recipient: r.clone(), phase, reply: reply.clone() })
                .collect(),
        };

        let mut outcomes = Vec::with_capacity(rcpts.len());
        let data_reply;
        if pipelining {
            let mut batch: Vec<String> = std::iter::once(&mail).chain(&rcpts).map(ToString::to_string).collect();
            if !bdat {
                batch.push(Command::Data.to_string());
            }
            self.sink.emit(Event::Info(format!(
                "pipelining {} commands in one write (RFC 2920); the replies follow in the same order",
                batch.len()
            )));
            self.send_lines(&batch, Phase::MailFrom)?;
            let mail_reply = self.completion_reply(Phase::MailFrom)?;
            for (recipient, _) in envelope.recipients.iter().zip(&rcpts) {
                let reply = self.completion_reply(Phase::RcptTo)?;
                outcomes.push(RecipientOutcome { recipient: recipient.clone(), phase: Phase::RcptTo, reply });
            }
            data_reply = if bdat { None } else { Some(self.checked_reply(Phase::Data)?) };
            let accepted = mail_reply.is_positive() && outcomes.iter().any(|o| o.reply.is_positive());
            if !accepted {
                // A server may still say 354 to a pipelined DATA; end that empty message at once.
                if let Some(reply) = &data_reply {
                    if reply.code.is_intermediate() {
                        self.send_lines(&[".".to_string()], Phase::EndOfData)?;
                        self.read_reply(Phase::EndOfData)?;
                    }
                }
                if !mail_reply.is_positive() {
                    return Ok(refuse_all(Phase::MailFrom, &mail_reply));
                }
                self.sink.emit(Event::Info("no recipient was accepted; not sending the message".into()));
                return Ok(Delivery { recipients: outcomes });
            }
        } else {
            let reply = self.completion_command(&mail, Phase::MailFrom)?;
            if !reply.is_positive() || stop_at(StopPoint::Mail) {
                if drop {
                    self.drop_connection();
                }
                return Ok(refuse_all(Phase::MailFrom, &reply));
            }
            for (recipient, rcpt) in envelope.recipients.iter().zip(&rcpts) {
                let reply = self.completion_command(rcpt, Phase::RcptTo)?;
                outcomes.push(RecipientOutcome { recipient: recipient.clone(), phase: Phase::RcptTo, reply });
            }
            if stop_at(StopPoint::Rcpt) {
                if drop {
                    self.drop_connection();
                }
                return Ok(Delivery { recipients: outcomes });
            }
            if !outcomes.iter().any(|o| o.reply.is_positive()) {
                self.sink.emit(Event::Info("no recipient was accepted; not sending the message".into()));
                return Ok(Delivery { recipients: outcomes });
            }
            data_reply = if bdat { None } else { Some(self.command(&Command::Data, Phase::Data)?) };
        }

        let accepted: Vec<usize> = (0..outcomes.len()).filter(|&i| outcomes[i].reply.is_positive()).collect();
        if stop_at(StopPoint::Data) {
            // --drop-after data: the server said 354 and waits for a message that never comes.
            self.drop_connection();
            let reply = data_reply.expect("DATA is sent when stopping after it");
            for i in accepted {
                outcomes[i].phase = Phase::Data;
                outcomes[i].reply = reply.clone();
            }
            return Ok(Delivery { recipients: outcomes });
        }
        let (phase, reply) = match data_reply {
            None => {
                self.send_chunk(content, facts)?;
                (Phase::EndOfData, self.final_reply()?)
            }
            Some(reply) if reply.code.is_intermediate() => {
                self.send_content(content)?;
                (Phase::EndOfData, self.final_reply()?)
            }
            Some(reply) if reply.is_positive() => return Err(unexpected(Phase::Data, &reply)),
            Some(reply) => (Phase::Data, reply),
        };
        for i in accepted {
            outcomes[i].phase = phase;
            outcomes[i].reply = reply.clone();
        }
        Ok(Delivery { recipients: outcomes })
    }

    /// The reply to the end of the message: 2xx, 4xx or 5xx.
    fn final_reply(&mut self) -> Result<Reply, Error> {
        let reply = self.read_reply(Phase::EndOfData)?;
        if reply.code.is_intermediate() {
            return Err(unexpected(Phase::EndOfData, &reply));
        }
        Ok(reply)
    }

    /// A reply that may not be 421 (the server is closing).
    fn checked_reply(&mut self, phase: Phase) -> Result<Reply, Error> {
        let reply = self.read_reply(phase)?;
        if reply.code.0 == 421 {
            return Err(Error::Rejected { phase, reply });
        }
        Ok(reply)
    }

    /// A reply whose only proper codes are 2xx, 4xx or 5xx.
    fn completion_reply(&mut self, phase: Phase) -> Result<Reply, Error> {
        let reply = self.checked_reply(phase)?;
        if reply.code.is_intermediate() {
            return Err(unexpected(phase, &reply));
        }
        Ok(reply)
    }

    /// Say goodbye. The outcome is already decided, so a failure here is only worth a warning.
    pub fn quit(&mut self) {
        match self.command(&Command::Quit, Phase::Quit) {
            Ok(reply) if reply.is_positive() => {}
            Ok(reply) => self.sink.emit(Event::Warning(format!("QUIT answered with {reply}"))),
            Err(error) => self.sink.emit(Event::Warning(error.to_string())),
        }
    }

    /// Send a command and read its reply. A 421 at any point means the server is closing the connection
    /// (RFC 5321 §3.8), so it ends the session whatever the command was.
    pub fn command(&mut self, command: &Command<'_>, phase: Phase) -> Result<Reply, Error> {
        let line = command.to_string();
        self.send_line(&line, &line, phase)?;
        self.checked_reply(phase)
    }

    /// A command whose only proper answers are 2xx, 4xx or 5xx.
    fn completion_command(&mut self, command: &Command<'_>, phase: Phase) -> Result<Reply, Error> {
        let line = command.to_string();
        self.send_line(&line, &line, phase)?;
        self.completion_reply(phase)
    }

    /// Several command lines in one write (PIPELINING).
    fn send_lines(&mut self, lines: &[String], phase: Phase) -> Result<(), Error> {
        let mut wire = Vec::new();
        for line in lines {
            self.sink.emit(Event::Sent { line: line.clone(), tls: self.tls });
            wire.extend_from_slice(line.as_bytes());
            wire.extend_from_slice(b"\r\n");
        }
        self.write_wire(&wire, phase)
    }

    /// Send one line; the transcript gets `shown` (the line itself, or a redacted form of it).
    fn send_line(&mut self, line: &str, shown: &str, phase: Phase) -> Result<(), Error> {
        self.sink.emit(Event::Sent { line: shown.to_string(), tls: self.tls });
        let mut wire = Vec::with_capacity(line.len() + 2);
        wire.extend_from_slice(line.as_bytes());
        wire.extend_from_slice(b"\r\n");
        self.write_wire(&wire, phase)
    }

    /// Command bytes in one write, within the phase's timeout.
    fn write_wire(&mut self, wire: &[u8], phase: Phase) -> Result<(), Error> {
        let limit = self.timeouts.for_phase(phase);
        self.stream.set_timeout(limit).map_err(|cause| Error::Io { phase, cause })?;
        self.stream.write_all(wire).and_then(|()| self.stream.flush()).map_err(|e| Error::from_io(phase, e, limit))
    }

    /// The message content, normalised and dot-stuffed, then the end-of-data marker, in 64 KiB writes.
    fn send_content(&mut self, content: &dyn Content) -> Result<(), Error> {
        let phase = Phase::EndOfData;
        let limit = self.timeouts.data_block;
        let io_error = |e: io::Error| Error::from_io(phase, e, limit);
        self.stream.set_timeout(limit).map_err(|cause| Error::Io { phase, cause })?;
        let progress = self.progress.as_deref_mut();
        let mut buffered =
            BufWriter::with_capacity(WRITE_BLOCK, Progress { inner: &mut self.stream, report: progress });
        let (bytes, lines) = if self.show_data {
            let tap = LineTap { inner: &mut buffered, sink: &mut *self.sink, line: Vec::new(), tls: self.tls };
            write_stuffed(DotStuffer::new(tap), content, limit)?
        } else {
            write_stuffed(DotStuffer::new(&mut buffered), content, limit)?
        };
        buffered.write_all(b".\r\n").and_then(|()| buffered.flush()).map_err(io_error)?;
        drop(buffered);
        self.sink.emit(Event::DataSent { bytes, lines, tls: self.tls });
        self.sink.emit(Event::Sent { line: ".".into(), tls: self.tls });
        Ok(())
    }

    /// CHUNKING (RFC 3030): the whole message as one `BDAT size LAST` chunk, line endings normalised and no
    /// dot-stuffing (the size says where it ends).
    fn send_chunk(&mut self, content: &dyn Content, facts: Facts) -> Result<(), Error> {
        let phase = Phase::EndOfData;
        let limit = self.timeouts.data_block;
        let io_error = |e: io::Error| Error::from_io(phase, e, limit);
        let command = format!("BDAT {} LAST", facts.size);
        self.sink.emit(Event::Sent { line: command.clone(), tls: self.tls });
        self.stream.set_timeout(limit).map_err(|cause| Error::Io { phase, cause })?;
        let progress = self.progress.as_deref_mut();
        let mut buffered =
            BufWriter::with_capacity(WRITE_BLOCK, Progress { inner: &mut self.stream, report: progress });
        buffered.write_all(command.as_bytes()).and_then(|()| buffered.write_all(b"\r\n")).map_err(io_error)?;
        let mut normaliser = DotStuffer::without_dot_stuffing(&mut buffered);
        content.write_to(&mut normaliser).map_err(|e| content_error(phase, e, limit))?;
        normaliser.end_content().map_err(io_error)?;
        let (bytes, lines) = (normaliser.message_bytes(), normaliser.lines());
        if bytes != facts.size {
            return Err(Error::Protocol {
                phase,
                detail: format!("the message changed while it was sent ({bytes} bytes, not {})", facts.size),
            });
        }
        buffered.flush().map_err(io_error)?;
        drop(buffered);
        self.sink.emit(Event::DataSent { bytes, lines, tls: self.tls });
        Ok(())
    }

    /// Wait for one whole reply, for at most the phase's timeout in all (a server that trickles bytes does
    /// not get to reset the clock).
    fn read_reply(&mut self, phase: Phase) -> Result<Reply, Error> {
        let limit = self.timeouts.for_phase(phase);
        let deadline = Instant::now() + limit;
        loop {
            match self.parser.next_reply() {
                Ok(Some(reply)) => {
                    self.sink.emit(Event::Received { reply: reply.clone(), tls: self.tls });
                    return Ok(reply);
                }
                Ok(None) => {}
                Err(error) => return Err(Error::Protocol { phase, detail: error.to_string() }),
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Timeout { phase, after: limit });
            }
            self.stream.set_timeout(remaining).map_err(|cause| Error::Io { phase, cause })?;
            match self.stream.read(&mut self.read_buffer) {
                Ok(0) => return Err(Error::Closed { phase }),
                Ok(n) => self.parser.feed(&self.read_buffer[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::from_io(phase, e, limit)),
            }
        }
    }
}

fn unexpected(phase: Phase, reply: &Reply) -> Error {
    Error::Protocol { phase, detail: format!("unexpected reply {reply}") }
}

/// Write the content through the stuffer and complete its last line: the normalised size and line count.
fn write_stuffed<W: Write>(
    mut stuffer: DotStuffer<W>,
    content: &dyn Content,
    limit: Duration,
) -> Result<(u64, u64), Error> {
    let phase = Phase::EndOfData;
    content.write_to(&mut stuffer).map_err(|e| content_error(phase, e, limit))?;
    stuffer.end_content().map_err(|e| Error::from_io(phase, e, limit))?;
    Ok((stuffer.message_bytes(), stuffer.lines()))
}

/// An error while writing the message: from the socket (a timeout, a drop) or from reading the message.
fn content_error(phase: Phase, error: io::Error, limit: Duration) -> Error {
    match error.kind() {
        io::ErrorKind::WouldBlock
        | io::ErrorKind::TimedOut
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Error::from_io(phase, error, limit),
        _ => Error::Io { phase, cause: error },
    }
}

/// The message content, written as often as needed: once to measure it, once to send it.
pub trait Content {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()>;
}

impl Content for &[u8] {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self)
    }
}

/// One mail transaction: who, what, and how.
#[derive(Clone, Copy)]
pub struct Transaction<'a> {
    pub envelope: Envelope<'a>,
    pub content: &'a dyn Content,
    pub facts: Facts,
    pub dsn: &'a Dsn,
    /// Use PIPELINING when the server offers it.
    pub pipelining: bool,
    /// Use BDAT when the server offers CHUNKING.
    pub bdat: bool,
    /// End the transaction after MAIL, RCPT or the 354 to DATA (`--quit-after`, `--drop-after`).
    pub stop: Option<crate::deliver::Stop>,
}

/// Counts the bytes that reach the socket, for a progress bar.
struct Progress<'p, W: Write, F: FnMut(u64) + ?Sized> {
    inner: W,
    report: Option<&'p mut F>,
}

impl<W: Write, F: FnMut(u64) + ?Sized> Write for Progress<'_, W, F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(report) = self.report.as_mut() {
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
                self.sink.emit(Event::DataLine { line: std::mem::take(&mut self.line), tls: self.tls });
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
    use crate::error::Exit;
    use std::io::Cursor;

    /// A peer whose replies are scripted in advance; it records what the client wrote.
    struct Scripted {
        replies: Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Scripted {
        fn new(replies: &str) -> Self {
            Scripted { replies: Cursor::new(replies.as_bytes().to_vec()), written: Vec::new() }
        }
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.replies.read(buf)
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Transport for Scripted {
        fn set_timeout(&mut self, _timeout: Duration) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(replies: &str, recipients: &[&str], message: &[u8]) -> (Result<Delivery, Error>, String, Vec<Event>) {
        let mut events = Vec::new();
        let recipients: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
        let envelope = Envelope { reverse_path: "a@example.test", recipients: &recipients };
        let mut session = Session::new(Scripted::new(replies), &mut events, Timeouts::rfc5321());
        let result = session.run("client.example.test", envelope, message);
        let written = String::from_utf8(session.into_inner().written).unwrap();
        (result, written, events)
    }

    const HAPPY: &str = "220 mx ESMTP\r\n250-mx\r\n250 8BITMIME\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n\
                         250 2.0.0 queued\r\n221 2.0.0 Bye\r\n";

    #[test]
    fn whole_dialogue_on_the_wire() {
        let (result, written, _) = run(HAPPY, &["b@example.test"], b"Subject: x\n\n.dot\nend");
        assert_eq!(
            written,
            "EHLO client.example.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n\
             Subject: x\r\n\r\n..dot\r\nend\r\n.\r\nQUIT\r\n"
        );
        let delivery = result.unwrap();
        assert_eq!(delivery.delivered_count(), 1);
        assert_eq!(delivery.recipients[0].reply.to_string(), "250 2.0.0 queued");
    }

    #[test]
    fn events_in_order() {
        let (_, _, events) = run(HAPPY, &["b@example.test"], b"hi\n");
        let kinds: Vec<String> = events
            .iter()
            .map(|e| match e {
                Event::Sent { line, .. } => format!("C {line}"),
                Event::Received { reply, .. } => format!("S {}", reply.code),
                Event::DataSent { bytes, lines, .. } => format!("D {bytes} {lines}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "S 220",
                "C EHLO client.example.test",
                "S 250",
                "C MAIL FROM:<a@example.test>",
                "S 250",
                "C RCPT TO:<b@example.test>",
                "S 250",
                "C DATA",
                "S 354",
                "D 4 1",
                "C .",
                "S 250",
                "C QUIT",
                "S 221"
            ]
        );
    }

    #[test]
    fn partial_when_one_recipient_is_refused() {
        let replies =
            "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n550 5.1.1 unknown\r\n354 go\r\n250 queued\r\n221 bye\r\n";
        let (result, written, _) = run(replies, &["b@x.test", "nobody@x.test"], b"x");
        let delivery = result.unwrap();
        assert_eq!(delivery.delivered_count(), 1);
        assert!(delivery.recipients[0].delivered());
        assert_eq!(delivery.recipients[1].phase, Phase::RcptTo);
        assert_eq!(delivery.recipients[1].reply.to_string(), "550 5.1.1 unknown");
        assert!(written.contains("DATA\r\n"));
    }

    #[test]
    fn no_data_when_every_recipient_is_refused() {
        let replies = "220 mx\r\n250 mx\r\n250 ok\r\n450 4.2.0 busy\r\n550 no\r\n221 bye\r\n";
        let (result, written, _) = run(replies, &["b@x.test", "c@x.test"], b"x");
        let delivery = result.unwrap();
        assert_eq!(delivery.delivered_count(), 0);
        assert!(delivery.recipients[0].reply.is_transient() && delivery.recipients[1].reply.is_permanent());
        assert!(!written.contains("DATA"));
        assert!(written.ends_with("QUIT\r\n"));
    }

    #[test]
    fn mail_from_refusal_refuses_everyone() {
        let (result, written, _) = run("220 mx\r\n250 mx\r\n553 5.1.8 bad sender\r\n221 bye\r\n", &["b@x.test"], b"x");
        let delivery = result.unwrap();
        assert_eq!(delivery.delivered_count(), 0);
        assert_eq!(delivery.recipients[0].phase, Phase::MailFrom);
        assert!(!written.contains("RCPT"));
    }

    #[test]
    fn refused_after_the_final_dot() {
        let replies = "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n554 5.6.0 spam\r\n221 bye\r\n";
        let (result, _, _) = run(replies, &["b@x.test"], b"x");
        let delivery = result.unwrap();
        assert_eq!(delivery.recipients[0].phase, Phase::EndOfData);
        assert_eq!(delivery.delivered_count(), 0);
    }

    #[test]
    fn ehlo_refused_falls_back_to_helo() {
        let replies = "220 old\r\n502 what\r\n250 old\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n221 bye\r\n";
        let (result, written, events) = run(replies, &["b@x.test"], b"x");
        assert_eq!(result.unwrap().delivered_count(), 1);
        assert!(written.starts_with("EHLO client.example.test\r\nHELO client.example.test\r\n"));
        assert!(events.contains(&Event::Info("EHLO refused; falling back to HELO".into())));
    }

    #[test]
    fn banner_refusal_says_goodbye_but_421_does_not() {
        let (result, written, _) = run("554 5.3.2 no service\r\n221 bye\r\n", &["b@x.test"], b"x");
        let error = result.unwrap_err();
        assert_eq!(error.to_string(), "banner refused: 554 5.3.2 no service");
        assert_eq!(error.exit(), Exit::Unavailable);
        assert_eq!(written, "QUIT\r\n");

        let (result, written, _) = run("220 mx\r\n421 4.3.2 shutting down\r\n", &["b@x.test"], b"x");
        let error = result.unwrap_err();
        assert_eq!(error.to_string(), "EHLO refused: 421 4.3.2 shutting down");
        assert_eq!(error.exit(), Exit::TempFail);
        assert_eq!(written, "EHLO client.example.test\r\n");
    }

    #[test]
    fn garbage_and_drops_are_errors() {
        let (result, _, _) = run("SSH-2.0-OpenSSH\r\n", &["b@x.test"], b"x");
        let error = result.unwrap_err();
        assert_eq!(error.exit(), Exit::Protocol);
        assert!(error.to_string().starts_with("banner: protocol violation: reply line does not start"), "{error}");

        let (result, _, _) = run("220 mx\r\n250 mx\r\n", &["b@x.test"], b"x");
        let error = result.unwrap_err();
        assert_eq!(error.to_string(), "MAIL FROM: the server closed the connection");
        assert_eq!(error.exit(), Exit::TempFail);

        let (result, _, _) = run("220 mx\r\n250 mx\r\n354 what\r\n", &["b@x.test"], b"x");
        assert_eq!(result.unwrap_err().to_string(), "MAIL FROM: protocol violation: unexpected reply 354 what");
    }

    #[test]
    fn quit_problems_do_not_undo_a_delivery() {
        let replies = "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n";
        let (result, _, events) = run(replies, &["b@x.test"], b"x");
        assert_eq!(result.unwrap().delivered_count(), 1);
        assert!(events.contains(&Event::Warning("QUIT: the server closed the connection".into())));
    }

    #[test]
    fn show_data_reports_each_stuffed_line() {
        let mut events = Vec::new();
        let recipients = vec!["b@x.test".to_string()];
        let envelope = Envelope { reverse_path: "", recipients: &recipients };
        let mut session = Session::new(Scripted::new(HAPPY), &mut events, Timeouts::rfc5321()).show_data(true);
        session.run("c", envelope, &b"a\n.b"[..]).unwrap();
        assert!(String::from_utf8(session.into_inner().written).unwrap().starts_with("EHLO c\r\nMAIL FROM:<>\r\n"));
        let data: Vec<Event> = events.into_iter().filter(|e| matches!(e, Event::DataLine { .. })).collect();
        let line = |text: &[u8]| Event::DataLine { line: text.to_vec(), tls: false };
        assert_eq!(data, vec![line(b"a"), line(b"..b")]);
    }
}
