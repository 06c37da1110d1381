//! A connection (TCP, a unix socket or a pipe: see [`super::wire`]), plain or TLS, whose every read and write
//! ends by a deadline.
//!
//! rustls is driven by hand (`read_tls` / `process_new_packets` / `write_tls`) rather than through
//! `StreamOwned`, so a peer that trickles a handshake or a record one byte at a time cannot stretch a step
//! past its deadline: each socket read gets only the time that is left. Socket timeouts are changed only when
//! the one in force could overshoot the deadline, not before every read.
//!
//! TLS 1.3 latency: after the handshake Postfix sends session tickets and holds its next reply until they are
//! acknowledged, and the kernel's delayed ACK costs ~40 ms. `TCP_QUICKACK` before each read on a TLS
//! connection makes the kernel acknowledge at once (Linux re-arms delayed ACK, so it is set every time).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rustls::ClientConnection;

use super::io_text;
use super::wire::Wire;

/// Why a read or write did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The deadline passed.
    Timeout,
    /// The peer closed the connection (or reset it).
    Closed,
    /// Anything else, in words.
    Other(String),
}

impl Failure {
    pub fn from_io(error: &io::Error) -> Failure {
        match error.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Failure::Timeout,
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Failure::Closed,
            _ => Failure::Other(io_text(error)),
        }
    }
}

/// Socket timeouts may overshoot a deadline by this much rather than be set again before every call.
const SLACK: Duration = Duration::from_millis(250);
/// How often a blocked stream write looks at what the peer acknowledged.
const PROGRESS_CHECK: Duration = Duration::from_millis(500);

/// The socket, with the timeouts currently set on it.
pub struct Socket {
    wire: Wire,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Bytes handed to the kernel so far (for progress as the peer acknowledges it).
    written: u64,
    quick_ack: bool,
}

impl Socket {
    fn new(wire: Wire) -> Socket {
        Socket { wire, read_timeout: None, write_timeout: None, written: 0, quick_ack: false }
    }

    /// Bound the next read by `deadline`, touching the socket only when the timeout in force could overshoot.
    fn read_by(&mut self, deadline: Instant) -> io::Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if self.read_timeout.is_none_or(|current| current > left + SLACK) {
            self.wire.set_read_timeout(left)?;
            self.read_timeout = Some(left);
        }
        if let (true, Some(tcp)) = (self.quick_ack, self.wire.tcp()) {
            quick_ack(tcp);
        }
        Ok(())
    }

    fn write_by(&mut self, deadline: Instant) -> io::Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        if self.write_timeout.is_none_or(|current| current > left + SLACK) {
            self.wire.set_write_timeout(left)?;
            self.write_timeout = Some(left);
        }
        Ok(())
    }

    /// Bytes the peer has acknowledged: written minus what still waits in the kernel's send queue.
    fn acknowledged(&self) -> Option<u64> {
        match self.wire.tcp() {
            Some(tcp) => unsent_bytes(tcp).map(|queued| self.written.saturating_sub(queued)),
            // A unix socket or a pipe has no peer acknowledgements to look at: what it took counts.
            None => Some(self.written),
        }
    }
}

/// A reader/writer over the socket that checks one deadline on every call. A writer may be given `extend`,
/// which moves the deadline when the peer made progress.
struct Bounded<'s, 'e> {
    socket: &'s mut Socket,
    deadline: Instant,
    extend: Option<&'e mut (dyn FnMut(&Socket) -> Instant + 'e)>,
}

impl Bounded<'_, '_> {
    /// Whether time is left, asking `extend` for a later deadline once this one has passed.
    fn time_left(&mut self) -> bool {
        if Instant::now() < self.deadline {
            return true;
        }
        if let Some(extend) = self.extend.as_mut() {
            self.deadline = extend(self.socket);
        }
        Instant::now() < self.deadline
    }
}

impl Read for Bounded<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.time_left() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.socket.read_by(self.deadline)?;
            match self.socket.wire.read(buf) {
                // A timeout set shorter than the deadline (or an interrupted call): try again if time is left.
                Err(e) if retry(&e) => {
                    if !self.time_left() {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                }
                other => return other,
            }
        }
    }
}

fn retry(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}

impl Write for Bounded<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            if !self.time_left() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            // With a deadline that moves on the peer's progress, wake up often enough to notice it soon after
            // it happens: a late look would grant a whole new period for progress long past.
            let wake = match self.extend {
                Some(_) => self.deadline.min(Instant::now() + PROGRESS_CHECK),
                None => self.deadline,
            };
            self.socket.write_by(wake)?;
            match self.socket.wire.write(buf) {
                Err(e) if retry(&e) => {}
                Ok(n) => {
                    self.socket.written += n as u64;
                    return Ok(n);
                }
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A connection the dialogue talks over: plain until STARTTLS, or TLS from the start.
pub struct Connection {
    socket: Socket,
    tls: Option<Box<ClientConnection>>,
    broken: bool,
}

/// How a handshake ended badly.
#[derive(Debug)]
pub enum HandshakeError {
    Io(Failure),
    /// rustls refused: a certificate, an alert, a protocol error.
    Tls(rustls::Error),
}

impl Connection {
    pub fn new(wire: Wire) -> Connection {
        Connection { socket: Socket::new(wire), tls: None, broken: false }
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Run a TLS handshake over this connection (implicit TLS, or after STARTTLS) by `deadline`.
    pub fn handshake(&mut self, mut connection: ClientConnection, deadline: Instant) -> Result<(), HandshakeError> {
        self.socket.quick_ack = true;
        let mut io = Bounded { socket: &mut self.socket, deadline, extend: None };
        let result = (|| {
            while connection.is_handshaking() {
                while connection.wants_write() {
                    connection.write_tls(&mut io).map_err(|e| HandshakeError::Io(Failure::from_io(&e)))?;
                }
                if !connection.is_handshaking() {
                    break;
                }
                if connection.wants_read() {
                    match connection.read_tls(&mut io) {
                        Ok(0) => return Err(HandshakeError::Io(Failure::Closed)),
                        Ok(_) => {}
                        Err(e) => return Err(HandshakeError::Io(Failure::from_io(&e))),
                    }
                    if let Err(error) = connection.process_new_packets() {
                        // Tell the server why (the alert rustls queued), if it still listens.
                        let _ = connection.write_tls(&mut io);
                        return Err(HandshakeError::Tls(error));
                    }
                }
            }
            // The last flight (the client's Finished) goes out before anything else.
            while connection.wants_write() {
                connection.write_tls(&mut io).map_err(|e| HandshakeError::Io(Failure::from_io(&e)))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                self.tls = Some(Box::new(connection));
                Ok(())
            }
            Err(error) => {
                self.broken = true;
                Err(error)
            }
        }
    }

    /// The TLS session, once the handshake is done.
    pub fn tls(&self) -> Option<&ClientConnection> {
        self.tls.as_deref()
    }

    /// Read what arrives (plaintext), at most `buf.len()` bytes, by `deadline`. `Ok(0)`: the peer closed.
    pub fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, Failure> {
        if self.broken {
            return Err(Failure::Other("the connection broke during the TLS handshake".into()));
        }
        let Some(tls) = self.tls.as_deref_mut() else {
            let mut io = Bounded { socket: &mut self.socket, deadline, extend: None };
            return io.read(buf).map_err(|e| Failure::from_io(&e));
        };
        let mut io = Bounded { socket: &mut self.socket, deadline, extend: None };
        loop {
            match tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed without close_notify: for SMTP, the same as a plain close.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(Failure::Other(io_text(&e))),
            }
            match tls.read_tls(&mut io) {
                Ok(0) => return Ok(0),
                Ok(_) => {}
                Err(e) => return Err(Failure::from_io(&e)),
            }
            if let Err(error) = tls.process_new_packets() {
                return Err(Failure::Other(format!("TLS: {error}")));
            }
            // Session tickets and key updates may want an answer.
            while tls.wants_write() {
                tls.write_tls(&mut io).map_err(|e| Failure::from_io(&e))?;
            }
        }
    }

    /// Write all of `bytes` by `deadline`.
    pub fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), Failure> {
        self.write_all_extended(bytes, deadline, None)
    }

    fn write_all_extended<'e>(
        &mut self,
        bytes: &[u8],
        deadline: Instant,
        extend: Option<&'e mut (dyn FnMut(&Socket) -> Instant + 'e)>,
    ) -> Result<(), Failure> {
        if self.broken {
            return Err(Failure::Other("the connection is broken: an earlier write or handshake failed".into()));
        }
        let mut io = Bounded { socket: &mut self.socket, deadline, extend };
        let result = match self.tls.as_deref_mut() {
            None => io.write_all(bytes).map_err(|e| Failure::from_io(&e)),
            // rustls takes at most its buffer limit (64 KiB) of plaintext before its records are written out:
            // hand it what it takes, write its records, and go on with the rest.
            Some(tls) => (|| {
                let mut rest = bytes;
                while !rest.is_empty() {
                    let taken = tls.writer().write(rest).map_err(|e| Failure::from_io(&e))?;
                    rest = &rest[taken..];
                    while tls.wants_write() {
                        tls.write_tls(&mut io).map_err(|e| Failure::from_io(&e))?;
                    }
                }
                Ok(())
            })(),
        };
        // A write that failed part-way left an unknown part on the wire (or in rustls' buffer): nothing more may
        // follow it, or the peer could receive the rest (a final dot) after the failure was reported.
        if result.is_err() {
            self.broken = true;
        }
        result
    }

    /// A writer for a long stream (the message content) that fails when the peer acknowledges nothing for
    /// `stall`: progress is what the peer took, not what the kernel buffered.
    pub fn stream_writer(&mut self, stall: Duration, give_up_at: Option<Instant>) -> StreamWriter<'_> {
        let acknowledged = self.socket.acknowledged();
        StreamWriter { connection: self, stall, give_up_at, last_progress: Instant::now(), acknowledged, failure: None }
    }

    /// Close the TLS session politely when there is one; the socket closes when dropped.
    pub fn close(&mut self) {
        if self.broken {
            // Whatever rustls still holds must not go out now.
            self.socket.wire.shutdown(true);
            return;
        }
        if let Some(tls) = self.tls.as_deref_mut() {
            tls.send_close_notify();
            let deadline = Instant::now() + Duration::from_millis(200);
            let mut io = Bounded { socket: &mut self.socket, deadline, extend: None };
            let _ = tls.write_tls(&mut io);
        }
        self.socket.wire.shutdown(false);
    }
}

/// See [`Connection::stream_writer`].
pub struct StreamWriter<'c> {
    connection: &'c mut Connection,
    stall: Duration,
    /// Never past this, progress or not.
    give_up_at: Option<Instant>,
    last_progress: Instant,
    acknowledged: Option<u64>,
    /// What ended the stream, kept as the connection's own words.
    pub failure: Option<Failure>,
}

impl Write for StreamWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let stall = self.stall;
        let give_up_at = self.give_up_at;
        let (mut last_progress, mut acknowledged) = (self.last_progress, self.acknowledged);
        let mut extend = |socket: &Socket| {
            if let Some(now_acknowledged) = socket.acknowledged() {
                if acknowledged.is_none_or(|before| now_acknowledged > before) {
                    acknowledged = Some(now_acknowledged);
                    last_progress = Instant::now();
                }
            }
            let deadline = last_progress + stall;
            give_up_at.map_or(deadline, |end| end.min(deadline))
        };
        let deadline = extend(&self.connection.socket);
        let result = self.connection.write_all_extended(buf, deadline, Some(&mut extend));
        (self.last_progress, self.acknowledged) = (last_progress, acknowledged);
        match result {
            Ok(()) => Ok(buf.len()),
            Err(failure) => {
                let kind = match failure {
                    Failure::Timeout => io::ErrorKind::TimedOut,
                    Failure::Closed => io::ErrorKind::BrokenPipe,
                    Failure::Other(_) => io::ErrorKind::Other,
                };
                // The first failure is the story; later writes (a buffer's flush on drop) only repeat it.
                self.failure.get_or_insert(failure);
                Err(kind.into())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Linux: ask for an immediate ACK of what arrives next (see the module notes).
fn quick_ack(tcp: &TcpStream) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: a valid socket descriptor and a pointer to a c_int of the given size.
        unsafe {
            libc::setsockopt(
                tcp.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_QUICKACK,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = tcp;
}

/// Bytes in the send queue not yet acknowledged by the peer (Linux SIOCOUTQ); `None` elsewhere.
fn unsent_bytes(tcp: &TcpStream) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (= SIOCOUTQ) writes one c_int for a socket descriptor.
        let result = unsafe { libc::ioctl(tcp.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
        (result == 0).then_some(queued.max(0) as u64)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tcp;
        None
    }
}
