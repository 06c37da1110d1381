//! The driver of `postie catch`: listen, run one [`smtp::server::Session`] per connection on its own thread
//! (at most `max_sessions` at once), do its I/O with a timeout on every read and write, sleep the delays its
//! faults ask for, run the TLS handshakes, store each message (Maildir or mbox), and hand each finished
//! session to the caller whole, to be rendered as one block.
//!
//! It never relays: a message is stored or shown, and nothing is sent anywhere.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls::ServerConfig;

use crate::event::{CatchLine, CaughtSession};
use crate::net::listen::{self, ServerStream};
use crate::smtp::server::{Action, Message, Session, Settings};

/// Where messages go besides the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    None,
    /// Each message a file in `new/` (written in `tmp/`, then renamed), exactly the bytes received.
    Maildir(PathBuf),
    /// Appended to one mbox file (mboxrd: a `From ` line, `>From` quoting, LF line endings).
    Mbox(PathBuf),
}

/// Everything `catch` needs, validated.
pub struct Plan {
    pub settings: Arc<Settings>,
    /// The TLS configuration, for STARTTLS or implicit TLS.
    pub tls: Option<Arc<ServerConfig>>,
    pub implicit_tls: bool,
    pub store: Store,
    /// End after this many messages.
    pub count: Option<u64>,
    pub max_sessions: usize,
    /// How long a client may stay silent.
    pub timeout: Duration,
    /// Keep the whole content for the transcript (else only the header section).
    pub show_data: bool,
}

/// Why `catch` cannot start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {address}: {reason}")]
    Bind { address: SocketAddr, reason: String },
    #[error("cannot use {path} for the messages: {reason}")]
    Store { path: String, reason: String },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub sessions: u64,
    pub messages: u64,
    /// --count was reached (else: stopped by a signal).
    pub count_reached: bool,
}

/// Bind every address (port 0 picks a free port), and prepare the store.
pub fn bind(addresses: &[SocketAddr], store: &Store) -> Result<Vec<TcpListener>, Error> {
    match store {
        Store::None => {}
        Store::Maildir(dir) => {
            for sub in ["tmp", "new", "cur"] {
                fs::create_dir_all(dir.join(sub))
                    .map_err(|e| Error::Store { path: dir.display().to_string(), reason: crate::net::io_text(&e) })?;
            }
        }
        Store::Mbox(path) => {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::Store { path: path.display().to_string(), reason: crate::net::io_text(&e) })?;
        }
    }
    addresses
        .iter()
        .map(|&address| {
            let listener = listen::bind(address).map_err(|reason| Error::Bind { address, reason })?;
            listener.set_nonblocking(true).map_err(|e| Error::Bind { address, reason: crate::net::io_text(&e) })?;
            Ok(listener)
        })
        .collect()
}

/// State shared by the sessions.
struct Shared<'a> {
    plan: &'a Plan,
    messages: AtomicU64,
    active: AtomicUsize,
    count_reached: AtomicBool,
    /// One write at a time to an mbox file.
    mbox: Mutex<()>,
    /// A copy of each open connection, to shut it down when the run is stopped.
    open: Mutex<Vec<(u64, TcpStream)>>,
    stop: &'a AtomicBool,
    report: &'a (dyn Fn(CaughtSession) + Sync),
    /// This host's name for Maildir file names, found once per run: Maildir names cannot hold '/' or ':'
    /// (the info separator), so those are replaced.
    host: String,
}

/// The most transcript lines kept for one session: a client that sends commands without end (a million
/// NOOPs) must not make the record grow without end. What is left out is counted.
const MAX_RECORD_LINES: usize = 10_000;

fn record_line(record: &mut CaughtSession, line: CatchLine) {
    if record.lines.len() < MAX_RECORD_LINES {
        record.lines.push(line);
    } else {
        record.left_out += 1;
    }
}

fn record_smtp(record: &mut CaughtSession, session: &mut Session) {
    for line in session.take_lines() {
        record_line(record, CatchLine::Smtp(line));
    }
}

/// Sleep for a fault's delay, in slices, so that a stop (Ctrl-C) is not held up by it.
fn pause(delay: Duration, stop: &AtomicBool) {
    let end = Instant::now() + delay;
    while !stop.load(Ordering::SeqCst) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Serve until `stop` is set (a signal) or --count messages were taken; every session is finished (or, when
/// stopped, cut off) before this returns.
pub fn serve(
    plan: &Plan,
    listeners: Vec<TcpListener>,
    stop: &AtomicBool,
    report: &(dyn Fn(CaughtSession) + Sync),
) -> Summary {
    let shared = Shared {
        plan,
        messages: AtomicU64::new(0),
        active: AtomicUsize::new(0),
        count_reached: AtomicBool::new(false),
        mbox: Mutex::new(()),
        open: Mutex::new(Vec::new()),
        stop,
        report,
        host: gethostname::gethostname().to_string_lossy().replace(['/', ':'], "_"),
    };
    let shared = &shared;
    let sessions = std::thread::scope(move |scope| {
        let mut sessions = 0u64;
        let mut polls: Vec<libc::pollfd> =
            listeners.iter().map(|l| libc::pollfd { fd: l.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
        loop {
            if stop.load(Ordering::SeqCst) {
                // Cut off whoever is still connected: their sessions end at once.
                for (_, stream) in shared.open.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                }
                break;
            }
            if shared.count_reached.load(Ordering::SeqCst) {
                break;
            }
            // Wake at least ten times a second to see the flags.
            // SAFETY: `polls` is a valid array of pollfd for the length given.
            let ready = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 100) };
            if ready <= 0 {
                continue;
            }
            for (index, listener) in listeners.iter().enumerate() {
                if polls[index].revents == 0 {
                    continue;
                }
                polls[index].revents = 0;
                let Ok((tcp, _)) = listener.accept() else { continue };
                sessions += 1;
                let id = sessions;
                scope.spawn(move || run_session(id, tcp, shared));
            }
        }
        // No more connections: close the listeners now, so that a client is refused at once rather than left
        // waiting in the backlog while the last sessions finish.
        drop(listeners);
        sessions
    });
    Summary {
        sessions,
        messages: shared.messages.load(Ordering::SeqCst),
        count_reached: shared.count_reached.load(Ordering::SeqCst),
    }
}

fn run_session(id: u64, tcp: TcpStream, shared: &Shared<'_>) {
    let plan = shared.plan;
    let started = Instant::now();
    let peer = tcp.peer_addr().map_or("?".into(), |a| a.to_string());
    let local = tcp.local_addr().map_or("?".into(), |a| a.to_string());
    let mut record =
        CaughtSession { id, peer, local, lines: Vec::new(), duration: Duration::ZERO, messages: 0, left_out: 0 };
    let _ = tcp.set_nonblocking(false);
    if shared.active.fetch_add(1, Ordering::SeqCst) >= plan.max_sessions {
        // RFC 5321 §3.1: a server that cannot take the session says 421 and closes.
        let mut tcp = tcp;
        let _ = tcp.set_write_timeout(Some(Duration::from_secs(5)));
        let _ = tcp.write_all(b"421 4.3.2 too many sessions, try again later\r\n");
        record.lines.push(CatchLine::Busy { limit: plan.max_sessions });
        shared.active.fetch_sub(1, Ordering::SeqCst);
        (shared.report)(record);
        return;
    }
    if let Ok(copy) = tcp.try_clone() {
        let mut open = shared.open.lock().unwrap_or_else(|e| e.into_inner());
        // Stopped between the accept and now: the stop has already cut off the others.
        if shared.stop.load(Ordering::SeqCst) {
            let _ = copy.shutdown(std::net::Shutdown::Both);
        }
        open.push((id, copy));
    }
    converse(tcp, shared, &mut record);
    shared.open.lock().unwrap_or_else(|e| e.into_inner()).retain(|(open, _)| *open != id);
    shared.active.fetch_sub(1, Ordering::SeqCst);
    record.duration = started.elapsed();
    (shared.report)(record);
}

/// The session's loop: do what it asks, then read.
fn converse(tcp: TcpStream, shared: &Shared<'_>, record: &mut CaughtSession) {
    let plan = shared.plan;
    let mut stream = match ServerStream::new(tcp, plan.timeout) {
        Ok(stream) => stream,
        Err(e) => return record.lines.push(CatchLine::Io { reason: crate::net::io_text(&e) }),
    };
    if plan.implicit_tls {
        let config = plan.tls.clone().expect("implicit TLS has a configuration");
        match stream.start_tls(config) {
            Ok((tls, agreed)) => {
                stream = tls;
                record.lines.push(CatchLine::Tls { version: agreed.version, cipher: agreed.cipher });
            }
            Err(reason) => return record.lines.push(CatchLine::TlsFailed { reason }),
        }
    }
    let mut session = Session::new(plan.settings.clone(), plan.implicit_tls);
    let mut out: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    let mut stream = Some(stream);
    'dialogue: loop {
        while let Some(action) = session.poll() {
            record_smtp(record, &mut session);
            let Some(live) = stream.as_mut() else { break 'dialogue };
            match action {
                Action::Reply { bytes, delay } => {
                    if !delay.is_zero() {
                        if let Err(e) = flush(live, &mut out) {
                            record_line(record, CatchLine::Io { reason: crate::net::io_text(&e) });
                            break 'dialogue;
                        }
                        pause(delay, shared.stop);
                    }
                    out.extend_from_slice(&bytes);
                }
                Action::StartTls => {
                    if let Err(e) = flush(live, &mut out) {
                        record_line(record, CatchLine::Io { reason: crate::net::io_text(&e) });
                        break 'dialogue;
                    }
                    let config = plan.tls.clone().expect("STARTTLS is offered only with a configuration");
                    match stream.take().expect("checked above").start_tls(config) {
                        Ok((tls, agreed)) => {
                            stream = Some(tls);
                            record_line(record, CatchLine::Tls { version: agreed.version, cipher: agreed.cipher });
                            session.tls_started();
                        }
                        Err(reason) => {
                            record_line(record, CatchLine::TlsFailed { reason });
                            session.tls_failed();
                        }
                    }
                }
                Action::Deliver(message) => {
                    let number = shared.messages.fetch_add(1, Ordering::SeqCst) + 1;
                    let stored = store(shared, &message, number);
                    let result = match &stored {
                        Ok(_) => Ok(()),
                        Err(reason) => {
                            record_line(record, CatchLine::StoreFailed { reason: reason.clone() });
                            shared.messages.fetch_sub(1, Ordering::SeqCst);
                            Err(reason.clone())
                        }
                    };
                    session.stored(result);
                    if let Ok(location) = stored {
                        record.messages += 1;
                        let message = if plan.show_data { message } else { headers_only(message) };
                        record_line(record, CatchLine::Message { number, message, stored: location });
                        if plan.count.is_some_and(|count| number >= count) {
                            shared.count_reached.store(true, Ordering::SeqCst);
                        }
                    }
                }
                Action::Close => {
                    let _ = flush(live, &mut out);
                    break 'dialogue;
                }
            }
        }
        record_smtp(record, &mut session);
        if session.is_closed() {
            break;
        }
        let Some(live) = stream.as_mut() else { break };
        if let Err(e) = flush(live, &mut out) {
            record_line(record, CatchLine::Io { reason: crate::net::io_text(&e) });
            break;
        }
        match live.read(&mut buffer) {
            Ok(0) => session.client_closed(),
            Ok(n) => session.feed(&buffer[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => session.timed_out(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                record_line(record, CatchLine::Io { reason: crate::net::io_text(&e) });
                session.client_closed();
            }
        }
    }
    record_smtp(record, &mut session);
    if let Some(mut live) = stream {
        live.close();
    }
}

fn flush(stream: &mut ServerStream, out: &mut Vec<u8>) -> io::Result<()> {
    if !out.is_empty() {
        stream.write_all(out)?;
        stream.flush()?;
        out.clear();
    }
    Ok(())
}

/// The message with only its header section kept (enough for the summary), so that a session's record
/// holds no more than that per message.
fn headers_only(mut message: Message) -> Message {
    let end = message.content.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 2);
    let end = end.or_else(|| message.content.windows(2).position(|w| w == b"\n\n").map(|at| at + 1));
    message.content.truncate(end.unwrap_or(message.content.len()).min(64 * 1024));
    message
}

/// Store a message; where it went (`None` without a store).
fn store(shared: &Shared<'_>, message: &Message, number: u64) -> Result<Option<String>, String> {
    match &shared.plan.store {
        Store::None => Ok(None),
        Store::Maildir(dir) => {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            // Maildir names: time, a unique part (pid, message number, microseconds), the host.
            let name =
                format!("{}.P{}Q{}M{}.{}", now.as_secs(), std::process::id(), number, now.subsec_micros(), shared.host);
            let temporary = dir.join("tmp").join(&name);
            let final_path = dir.join("new").join(&name);
            let write = || -> io::Result<()> {
                let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&temporary)?;
                file.write_all(&message.content)?;
                file.sync_all()?;
                fs::rename(&temporary, &final_path)
            };
            write().map_err(|e| format!("cannot write {}: {}", final_path.display(), crate::net::io_text(&e)))?;
            Ok(Some(final_path.display().to_string()))
        }
        Store::Mbox(path) => {
            let _one_at_a_time = shared.mbox.lock().unwrap_or_else(|e| e.into_inner());
            let mut file = fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open {}: {}", path.display(), crate::net::io_text(&e)))?;
            file.write_all(&mbox_entry(message, SystemTime::now()))
                .map_err(|e| format!("cannot write {}: {}", path.display(), crate::net::io_text(&e)))?;
            Ok(Some(path.display().to_string()))
        }
    }
}

/// One mboxrd entry: `From SENDER DATE`, the message with LF line endings and every line that matches
/// `>*From ` given one more `>`, and a blank line after it.
pub fn mbox_entry(message: &Message, when: SystemTime) -> Vec<u8> {
    let sender = if message.from.is_empty() { "MAILER-DAEMON" } else { message.from.as_str() };
    let seconds = when.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let date = time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]"
    );
    let mut out = format!("From {sender} {}\n", date.format(&format).unwrap_or_default()).into_bytes();
    let content = &message.content;
    for line in content.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let unquoted = body.iter().position(|&b| b != b'>').map_or(&[][..], |at| &body[at..]);
        if unquoted.starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(body);
        out.push(b'\n');
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_entries_quote_from_lines() {
        let message = Message {
            from: String::new(),
            recipients: vec!["b@y.test".into()],
            content: b"Subject: x\r\n\r\nFrom here\r\n>From there\r\nok".to_vec(),
            bytes: 40,
            lines: 4,
            chunked: false,
            client_name: "c".into(),
            authenticated: None,
            tls: false,
        };
        let entry = mbox_entry(&message, UNIX_EPOCH + Duration::from_secs(86_400 * 365));
        assert_eq!(
            String::from_utf8(entry).unwrap(),
            "From MAILER-DAEMON Fri Jan  1 00:00:00 1971\nSubject: x\n\n>From here\n>>From there\nok\n\n"
        );
    }
}
