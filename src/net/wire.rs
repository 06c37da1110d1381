//! What carries the bytes of a dialogue: a TCP connection, a unix-domain socket (`--server unix:PATH`), or a
//! child process's stdin and stdout (`--pipe 'COMMAND'`, e.g. `sendmail -bs`). The stream in [`super::stream`]
//! bounds every read and write by a deadline whatever the wire is: sockets by their timeouts, pipes by poll(2).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::io_text;

/// One connection's transport.
pub enum Wire {
    Tcp(TcpStream),
    Unix(UnixStream),
    Pipe(Pipe),
}

impl Wire {
    pub fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Wire::Tcp(tcp) => Some(tcp),
            _ => None,
        }
    }

    pub fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        match self {
            Wire::Tcp(tcp) => tcp.set_read_timeout(Some(timeout)),
            Wire::Unix(unix) => unix.set_read_timeout(Some(timeout)),
            Wire::Pipe(pipe) => {
                pipe.read_timeout = timeout;
                Ok(())
            }
        }
    }

    pub fn set_write_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        match self {
            Wire::Tcp(tcp) => tcp.set_write_timeout(Some(timeout)),
            Wire::Unix(unix) => unix.set_write_timeout(Some(timeout)),
            Wire::Pipe(pipe) => {
                pipe.write_timeout = timeout;
                Ok(())
            }
        }
    }

    /// Stop sending (the peer reads an end of file); `both` stops reading too.
    pub fn shutdown(&mut self, both: bool) {
        let how = if both { std::net::Shutdown::Both } else { std::net::Shutdown::Write };
        match self {
            Wire::Tcp(tcp) => {
                let _ = tcp.shutdown(how);
            }
            Wire::Unix(unix) => {
                let _ = unix.shutdown(how);
            }
            Wire::Pipe(pipe) => pipe.stdin = None,
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Wire::Tcp(tcp) => tcp.read(buf),
            Wire::Unix(unix) => unix.read(buf),
            Wire::Pipe(pipe) => pipe.read(buf),
        }
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Wire::Tcp(tcp) => tcp.write(buf),
            Wire::Unix(unix) => unix.write(buf),
            Wire::Pipe(pipe) => pipe.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Connect to a unix-domain socket. The error is the reason in a few words.
pub fn connect_unix(path: &Path) -> Result<UnixStream, String> {
    UnixStream::connect(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "no such socket".to_string(),
        io::ErrorKind::ConnectionRefused => "connection refused (nothing listens there)".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => io_text(&e).to_lowercase(),
    })
}

/// The child's stdin and stdout, both non-blocking, so that a deadline bounds every read and write.
pub struct Pipe {
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    read_timeout: Duration,
    write_timeout: Duration,
}

/// The child process behind a pipe: the caller keeps it to say how it ended and to make sure it ends.
#[derive(Clone)]
pub struct ChildHandle {
    child: Arc<Mutex<Child>>,
    pub command: String,
}

impl ChildHandle {
    /// Wait up to `patience` for the child to exit (its stdin is closed by then), then kill it. How it ended.
    pub fn finish(&self, patience: Duration) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let deadline = Instant::now() + patience;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                _ => {
                    let _ = child.kill();
                    return child.wait().ok();
                }
            }
        }
    }

    /// The exit status if the child has ended already.
    pub fn exited(&self) -> Option<ExitStatus> {
        let mut child = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        child.try_wait().ok().flatten()
    }
}

/// Start `command` through `/bin/sh -c` with its stdin and stdout as the wire; its stderr stays the user's.
pub fn spawn(command: &str) -> Result<(Pipe, ChildHandle), String> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start /bin/sh: {}", io_text(&e)))?;
    let stdin = child.stdin.take().expect("stdin was piped");
    let stdout = child.stdout.take().expect("stdout was piped");
    for fd in [stdin.as_raw_fd(), stdout.as_raw_fd()] {
        set_nonblocking(fd).map_err(|e| format!("cannot set up the pipe: {}", io_text(&e)))?;
    }
    let forever = Duration::from_secs(3600);
    let pipe = Pipe { stdin: Some(stdin), stdout, read_timeout: forever, write_timeout: forever };
    Ok((pipe, ChildHandle { child: Arc::new(Mutex::new(child)), command: command.to_string() }))
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor this process owns, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Wait until `fd` is ready for `events` or `timeout` passes (then a TimedOut error).
fn wait_for(fd: RawFd, events: libc::c_short, timeout: Duration) -> io::Result<()> {
    let mut poll = libc::pollfd { fd, events, revents: 0 };
    let millis = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    loop {
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        match ready {
            0 => return Err(io::ErrorKind::TimedOut.into()),
            n if n > 0 => return Ok(()),
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.stdout.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait_for(self.stdout.as_raw_fd(), libc::POLLIN, self.read_timeout)?
                }
                other => return other,
            }
        }
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        loop {
            match stdin.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait_for(stdin.as_raw_fd(), libc::POLLOUT, self.write_timeout)?
                }
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_carries_bytes_both_ways_and_reads_end_by_their_timeout() {
        let (mut pipe, child) = spawn("read line; echo \"got $line\"; sleep 5").unwrap();
        pipe.write_all(b"hello\n").unwrap();
        let mut buf = [0u8; 64];
        let n = pipe.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"got hello\n");
        pipe.read_timeout = Duration::from_millis(50);
        let started = Instant::now();
        assert_eq!(pipe.read(&mut buf).unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(pipe);
        assert!(child.finish(Duration::from_millis(10)).is_some(), "the child is killed when it does not end");
    }

    #[test]
    fn a_command_that_exits_at_once_reads_as_the_end_of_the_stream() {
        let (mut pipe, child) = spawn("exit 3").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(pipe.read(&mut buf).unwrap(), 0);
        assert_eq!(child.finish(Duration::from_secs(5)).and_then(|s| s.code()), Some(3));
    }
}
