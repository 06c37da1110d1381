//! Sanity tests for the peers the harness starts for protocol variants (XCLIENT, the PROXY protocol, bare
//! newlines, SMTP over a pipe, LMTP): each is spoken to directly, over raw sockets and pipes, without postie,
//! so that a later failure of a postie test points at postie, not at the peer.

use crate::harness::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a line from a peer before failing the test.
const PATIENCE: Duration = Duration::from_secs(20);

/// A raw SMTP or LMTP conversation over anything readable and writable with a file descriptor (TCP, a unix
/// socket, a child's pipes): it reads whole replies, waiting for each with poll(2) so that a silent peer fails
/// the test instead of hanging it.
struct Talk<R: Read + AsRawFd, W: Write> {
    reader: R,
    writer: W,
    buffer: Vec<u8>,
    /// Everything said so far, both ways, for failure messages.
    transcript: String,
}

impl Talk<TcpStream, TcpStream> {
    fn tcp(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| panic!("connect to {port}: {e}"));
        stream.set_nodelay(true).unwrap();
        Talk::new(stream.try_clone().unwrap(), stream)
    }
}

impl<R: Read + AsRawFd, W: Write> Talk<R, W> {
    fn new(reader: R, writer: W) -> Self {
        Talk { reader, writer, buffer: Vec::new(), transcript: String::new() }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.transcript.push_str(&format!("C: {:?}\n", String::from_utf8_lossy(bytes)));
        self.writer.write_all(bytes).unwrap_or_else(|e| panic!("write: {e}\n{}", self.transcript));
        self.writer.flush().unwrap();
    }

    /// One line (with its CRLF), or `None` at the end of input.
    fn line(&mut self, patience: Duration) -> Option<String> {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line).into_owned();
                self.transcript.push_str(&format!("S: {line:?}\n"));
                return Some(line);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "the peer said nothing for {patience:?} (partial line {:?})\n{}",
                String::from_utf8_lossy(&self.buffer),
                self.transcript
            );
            let mut fd = libc::pollfd { fd: self.reader.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd for a descriptor we own; it waits at most until the deadline.
            if unsafe { libc::poll(&mut fd, 1, left.as_millis().clamp(1, i32::MAX as u128) as i32) } <= 0 {
                continue; // the deadline (checked above), or EINTR
            }
            let mut chunk = [0u8; 4096];
            match self.reader.read(&mut chunk) {
                Ok(0) => {
                    self.transcript.push_str("S: <end of input>\n");
                    return None;
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                // A reset after the peer closed (it had unread input from us) is its end of input too.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read: {e}\n{}", self.transcript),
            }
        }
    }

    /// One whole reply (all its lines, with CRLFs); panics at the end of input.
    fn reply_within(&mut self, patience: Duration) -> String {
        let mut reply = String::new();
        loop {
            let Some(line) = self.line(patience) else {
                panic!("the peer closed the connection (reply so far {reply:?})\n{}", self.transcript)
            };
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    fn reply(&mut self) -> String {
        self.reply_within(PATIENCE)
    }

    /// Send `command` (CRLF added) and return the reply.
    fn command(&mut self, command: &str) -> String {
        self.send(format!("{command}\r\n").as_bytes());
        self.reply()
    }

    /// Send `command` and assert that the reply starts with `expected`.
    fn expect(&mut self, command: &str, expected: &str) -> String {
        let reply = self.command(command);
        assert!(reply.starts_with(expected), "{command:?} got {reply:?}, not {expected:?}\n{}", self.transcript);
        reply
    }

    /// Read a reply and assert that it starts with `expected`.
    fn expect_reply(&mut self, expected: &str) -> String {
        let reply = self.reply();
        assert!(reply.starts_with(expected), "got {reply:?}, not {expected:?}\n{}", self.transcript);
        reply
    }

    /// Assert that the peer closes the connection next, saying nothing more.
    fn expect_closed(&mut self) {
        if let Some(line) = self.line(PATIENCE) {
            panic!("expected the connection closed, got {line:?}\n{}", self.transcript);
        }
    }
}

/// The message part of a delivered file: everything after the header's blank line.
fn body(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.split_once("\n\n").map(|(_, body)| body.to_string()).unwrap_or_default()
}

/// MAIL, RCPT bob@example.test and DATA on an SMTP session that has said EHLO.
fn start_message(talk: &mut Talk<impl Read + AsRawFd, impl Write>, from: &str) {
    talk.expect(&format!("MAIL FROM:<{from}>"), "250 ");
    talk.expect("RCPT TO:<bob@example.test>", "250 ");
    talk.expect("DATA", "354 ");
}

#[test]
fn xclient_listener_takes_the_forged_client_and_login() {
    let postfix = postfix();
    let marker = marker("xclient");
    let mut talk = Talk::tcp(postfix.xclient_port);
    talk.expect_reply("220 ");
    let ehlo = talk.command("EHLO client.test");
    // Measured: "250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT".
    assert!(ehlo.lines().any(|l| l.starts_with("250-XCLIENT ") && l.contains(" LOGIN")), "{ehlo}");
    // Before XCLIENT: not authenticated, no relaying.
    talk.expect("MAIL FROM:<>", "250 ");
    talk.expect("RCPT TO:<someone@elsewhere.test>", "454 4.7.1 <someone@elsewhere.test>: Relay access denied");
    talk.expect("RSET", "250 ");
    // A new greeting, and the session starts again: EHLO first.
    talk.expect("XCLIENT ADDR=203.0.113.9 NAME=client.example LOGIN=bob", "220 mx.postie.test ESMTP Postfix");
    let ehlo = talk.command("EHLO client.test");
    // The forged client (203.0.113.9) is not among the authorized XCLIENT hosts.
    assert!(!ehlo.contains("XCLIENT"), "{ehlo}");
    talk.expect("MAIL FROM:<>", "250 ");
    // LOGIN= counts as authenticated: relaying is allowed now, and the address is refused only because
    // nothing leaves this Postfix (default_transport = error): "550 5.1.1 <someone@elsewhere.test>:
    // Recipient address rejected: elsewhere.test".
    talk.expect("RCPT TO:<someone@elsewhere.test>", "550 5.1.1 <someone@elsewhere.test>: Recipient address rejected");
    talk.expect("RCPT TO:<bob@example.test>", "250 ");
    talk.expect("DATA", "354 ");
    talk.expect(&format!("Subject: {marker}\r\n\r\n{marker}\r\n."), "250 2.0.0 Ok: queued");
    talk.expect("QUIT", "221 ");

    let received = first_received(&postfix.delivered("bob", &marker));
    assert!(received.starts_with("Received: from client.test (client.example [203.0.113.9]) "), "{received}");
    assert!(received.contains(" with ESMTPA "), "LOGIN= did not count as authenticated: {received}");

    // Elsewhere XCLIENT is refused.
    let mut plain = Talk::tcp(postfix.port);
    plain.expect_reply("220 ");
    let ehlo = plain.command("EHLO client.test");
    assert!(!ehlo.contains("XCLIENT"), "{ehlo}");
    plain.expect("XCLIENT ADDR=203.0.113.9", "550 5.7.0 Error: insufficient authorization");
}

/// A PROXY protocol v2 header for TCP over IPv4 from `source`:40001 to 127.0.0.1:25.
fn proxy_v2_header(source: [u8; 4]) -> Vec<u8> {
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec(); // the signature
    header.push(0x21); // version 2, command PROXY
    header.push(0x11); // AF_INET, STREAM
    header.extend_from_slice(&12u16.to_be_bytes()); // the addresses' length
    header.extend_from_slice(&source);
    header.extend_from_slice(&[127, 0, 0, 1]);
    header.extend_from_slice(&40001u16.to_be_bytes());
    header.extend_from_slice(&25u16.to_be_bytes());
    header
}

#[test]
fn proxy_listener_takes_the_client_from_a_v1_or_v2_header() {
    let postfix = postfix();
    let v1 = b"PROXY TCP4 203.0.113.7 127.0.0.1 40000 25\r\n".to_vec();
    for (version, header, forged) in
        [("v1", v1, "203.0.113.7"), ("v2", proxy_v2_header([203, 0, 113, 8]), "203.0.113.8")]
    {
        let marker = marker(&format!("proxy-{version}"));
        let mut talk = Talk::tcp(postfix.proxy_port);
        talk.send(&header);
        talk.expect_reply("220 mx.postie.test ESMTP Postfix");
        talk.expect("EHLO client.test", "250");
        start_message(&mut talk, "sender@client.test");
        talk.expect(&format!("Subject: {marker}\r\n\r\n{marker}\r\n."), "250 2.0.0 Ok: queued");
        talk.expect("QUIT", "221 ");
        let received = first_received(&postfix.delivered("bob", &marker));
        // No name: smtpd_peername_lookup = no.
        let expected = format!("Received: from client.test (unknown [{forged}]) ");
        assert!(received.starts_with(&expected), "PROXY {version}: {received}");
    }
}

#[test]
fn proxy_listener_refuses_a_client_without_a_header() {
    let postfix = postfix();
    // Anything but a PROXY header first: refused at once (maillog: "haproxy read: short protocol header").
    let mut talk = Talk::tcp(postfix.proxy_port);
    talk.send(b"EHLO client.test\r\n");
    talk.expect_reply("421 4.3.0 mx.postie.test Server local error");
    talk.expect_closed();
    // Nothing at all: the same reply after smtpd_upstream_proxy_timeout (5 s; measured 5.02 s).
    let started = Instant::now();
    let mut talk = Talk::tcp(postfix.proxy_port);
    talk.expect_reply("421 4.3.0 mx.postie.test Server local error");
    assert!(started.elapsed() >= Duration::from_secs(4), "421 after {:?}, not the timeout", started.elapsed());
    talk.expect_closed();
}

#[test]
fn bare_newline_dot_ends_the_message_on_the_plain_listener() {
    let postfix = postfix();
    let marker = marker("bare-lf");
    let mut talk = Talk::tcp(postfix.port);
    talk.expect_reply("220 ");
    talk.expect("EHLO client.test", "250");
    start_message(&mut talk, "sender@client.test");
    // `<LF>.<LF>` ends the message (smtpd_forbid_bare_newline = no), and the NOOP after it is a command.
    talk.send(format!("Subject: {marker}\r\n\r\n{marker}\r\nline two\n.\nNOOP\r\n").as_bytes());
    talk.expect_reply("250 2.0.0 Ok: queued");
    talk.expect_reply("250 2.0.0 Ok\r\n");
    talk.expect("QUIT", "221 ");
    let delivered = postfix.delivered("bob", &marker);
    assert_eq!(body(&delivered), format!("{marker}\nline two\n"));
}

#[test]
fn bare_newline_dot_does_not_end_the_message_on_the_strict_listener() {
    let postfix = postfix();
    let marker = marker("strict-lf");
    let mut talk = Talk::tcp(postfix.strict_newline_port);
    talk.expect_reply("220 ");
    talk.expect("EHLO client.test", "250");
    start_message(&mut talk, "sender@client.test");
    // `yes` is `normalize` in 3.7.11: `<LF>.<LF>` is not the end, and the NOOP after it is content. Only the
    // CRLF dot ends the message, with one reply: the QUIT's 221 comes next, so nothing else was answered.
    talk.send(format!("Subject: {marker}\r\n\r\n{marker}\r\nline two\n.\nNOOP\r\n.\r\n").as_bytes());
    talk.expect_reply("250 2.0.0 Ok: queued");
    talk.expect("QUIT", "221 ");
    let delivered = postfix.delivered("bob", &marker);
    // Measured: the bare-LF dot line itself is dropped (not kept as an empty line after dot-unstuffing),
    // and the lines around it are kept, with their bare LF taken as a line end.
    assert_eq!(body(&delivered), format!("{marker}\nline two\nNOOP\n"));
}

#[test]
fn bare_newline_is_refused_on_the_reject_listener() {
    let postfix = postfix();
    let marker = marker("reject-lf");
    let mut talk = Talk::tcp(postfix.reject_newline_port);
    talk.expect_reply("220 ");
    talk.expect("EHLO client.test", "250");
    start_message(&mut talk, "sender@client.test");
    // Not the end here either; the refusal comes after the CRLF dot, and the session goes on.
    talk.send(format!("Subject: {marker}\r\n\r\n{marker}\r\nline two\n.\nNOOP\r\n.\r\n").as_bytes());
    talk.expect_reply("550 5.5.2 mx.postie.test Error: bare <LF> received");
    talk.expect("NOOP", "250 2.0.0 Ok");
    // A command ending in a bare LF: the same reply, then the connection is closed.
    talk.send(b"NOOP\n");
    talk.expect_reply("550 5.5.2 mx.postie.test Error: bare <LF> received");
    talk.expect_closed();
}

#[test]
fn sendmail_pipe_command_speaks_smtp_on_stdin_and_stdout() {
    let postfix = postfix();
    let marker = marker("pipe");
    let command = postfix.sendmail_pipe_command();
    let words: Vec<&str> = command.split(' ').collect();
    let mut child = Command::new(words[0])
        .args(&words[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {command}: {e}"));
    let mut talk = Talk::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
    talk.expect_reply("220 mx.postie.test ESMTP Postfix");
    talk.expect("EHLO client.test", "250");
    talk.expect("MAIL FROM:<>", "250 ");
    talk.expect("RCPT TO:<bob@example.test>", "250 ");
    // Measured: unlike the TCP listeners (550 5.1.1), smtpd -S takes an unknown user at RCPT; the refusal
    // would come later, as a bounce (none here: the sender is null).
    talk.expect("RCPT TO:<nobody@example.test>", "250 ");
    talk.expect("DATA", "354 ");
    talk.expect(&format!("Subject: {marker}\r\n\r\n{marker}\r\n."), "250 2.0.0 Ok: queued");
    talk.expect("QUIT", "221 ");
    talk.expect_closed();
    drop(talk);
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{command}: {}: {}", output.status, String::from_utf8_lossy(&output.stderr));
    let delivered = postfix.delivered("bob", &marker);
    // Two hops: smtpd -S (from 127.0.0.1, as the tests see it), then pickup from the maildrop queue.
    assert!(first_received(&delivered).starts_with("Received: by mx.postie.test (Postfix, from userid 0)"));
}

/// LHLO, MAIL, RCPT alice (250), nobody (550), bob (250), DATA, the message: two replies after the dot, one per
/// accepted recipient, in order; both delivered, with a Received header that starts with `received`.
fn lmtp_session(mut talk: Talk<impl Read + AsRawFd, impl Write>, marker: &str, received: &str) {
    let lmtp = lmtp();
    talk.expect_reply("220 lmtp.postie.test Dovecot (Debian) ready.");
    let lhlo = talk.expect("LHLO client.test", "250-lmtp.postie.test");
    assert!(lhlo.contains("250 PIPELINING"), "{lhlo}");
    talk.expect("MAIL FROM:<sender@client.test>", "250 2.1.0 OK");
    talk.expect("RCPT TO:<alice@example.test>", "250 2.1.5 OK");
    talk.expect(
        "RCPT TO:<nobody@example.test>",
        "550 5.1.1 <nobody@example.test> User doesn't exist: nobody@example.test",
    );
    talk.expect("RCPT TO:<bob@example.test>", "250 2.1.5 OK");
    talk.expect("DATA", "354 ");
    talk.send(format!("Subject: {marker}\r\n\r\n{marker}\r\n.\r\n").as_bytes());
    // "250 2.0.0 <alice@example.test> j8GNLHkaB2t8SgAAg+zDdQ Saved", then bob's (the same id with ":R3").
    talk.expect_reply("250 2.0.0 <alice@example.test> ");
    talk.expect_reply("250 2.0.0 <bob@example.test> ");
    // Nothing more: the next reply is QUIT's.
    talk.expect("QUIT", "221 2.0.0 Bye");
    for user in ["alice", "bob"] {
        let delivered = lmtp.delivered(user, marker);
        let header = first_received(&delivered);
        assert!(header.starts_with(received), "{header}");
        assert_eq!(body(&delivered), format!("{marker}\n"));
    }
}

#[test]
fn lmtp_over_tcp_answers_once_per_accepted_recipient() {
    let lmtp = lmtp();
    let received = "Received: from client.test ([127.0.0.1]) by lmtp.postie.test with LMTP id ";
    lmtp_session(Talk::tcp(lmtp.port), &marker("lmtp-tcp"), received);
}

#[test]
fn lmtp_over_a_unix_socket_answers_once_per_accepted_recipient() {
    let lmtp = lmtp();
    let stream =
        UnixStream::connect(&lmtp.socket).unwrap_or_else(|e| panic!("connect to {}: {e}", lmtp.socket.display()));
    // No client address over a unix socket.
    let received = "Received: from client.test by lmtp.postie.test with LMTP id ";
    lmtp_session(Talk::new(stream.try_clone().unwrap(), stream), &marker("lmtp-unix"), received);
}
