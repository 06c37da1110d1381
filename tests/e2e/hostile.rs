//! Hostile peers: servers (and certificates) that try to write to the user's terminal, to stretch a deadline
//! past `--timeout`, or to make a delivered message look safe to send again. Scripted here because no real
//! server misbehaves on cue.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::harness::{dns, postie, Run};

/// Raw bytes no terminal should ever receive from a server: ESC, BEL, CSI in C1, and the bidi override.
fn assert_no_raw_controls(run: &Run) {
    for (name, text) in [("stdout", run.stdout()), ("stderr", run.stderr())] {
        let bad: Vec<char> = text
            .chars()
            .filter(|c| matches!(c, '\x1b' | '\x07' | '\u{9b}' | '\u{202e}' | '\u{2028}') || (*c == '\r'))
            .collect();
        assert!(bad.is_empty(), "raw control characters {bad:?} on {name}\n{run:?}");
    }
}

/// A server certificate whose subject, issuer and names carry terminal escapes.
fn evil_certificate() -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let names = vec!["evil\x1b[2J.test".to_string(), "127.0.0.1".to_string()];
    let mut params = rcgen::CertificateParams::new(names).unwrap();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        rcgen::DnValue::Utf8String("pwn\x1b]0;owned\x07\x1b[2J\u{9b}31m\u{202e}".into()),
    );
    let certificate = params.self_signed(&key).unwrap();
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (vec![certificate.der().clone()], der)
}

fn tls_config() -> Arc<rustls::ServerConfig> {
    let (chain, key) = evil_certificate();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

/// Accept one connection on 127.0.0.1 and run `script` on it in a thread.
fn serve(script: impl FnOnce(TcpStream) + Send + 'static) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    serve_on(listener, script)
}

fn serve_on(
    listener: TcpListener,
    script: impl FnOnce(TcpStream) + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<()>) {
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let handle = thread::spawn(move || {
        let started = Instant::now();
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if started.elapsed() < Duration::from_secs(30) => thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("postie never connected: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        script(stream);
    });
    (address, handle)
}

fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    let _ = reader.read_line(&mut line);
    line
}

/// Greet, offer STARTTLS, accept it; the stream is then ready for a handshake.
fn up_to_starttls(stream: &mut TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    stream.write_all(b"220 evil ESMTP\r\n").unwrap();
    read_line(&mut reader);
    stream.write_all(b"250-evil\r\n250 STARTTLS\r\n").unwrap();
    read_line(&mut reader);
    stream.write_all(b"220 go ahead\r\n").unwrap();
}

/// Complete a handshake as the server; the client may refuse the certificate (then the error is ignored).
fn handshake(stream: TcpStream) -> Option<rustls::StreamOwned<rustls::ServerConnection, TcpStream>> {
    let connection = rustls::ServerConnection::new(tls_config()).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, stream);
    while tls.conn.is_handshaking() {
        if tls.conn.complete_io(&mut tls.sock).is_err() {
            return None;
        }
    }
    Some(tls)
}

/// STARTTLS with the evil certificate; if the client goes on, answer its EHLO with `reply`, read its next
/// command and hang up (the test is about what reaches the terminal, not about the rest of the dialogue).
fn starttls_then_one_reply(mut stream: TcpStream, reply: &[u8]) {
    up_to_starttls(&mut stream);
    if let Some(mut tls) = handshake(stream) {
        let _ = read_line(&mut BufReader::new(&mut tls));
        let _ = tls.write_all(reply);
        let _ = tls.flush();
        let _ = read_line(&mut BufReader::new(&mut tls));
    }
}

#[test]
fn escape_sequences_in_a_certificate_never_reach_the_terminal() {
    // STARTTLS, strict: the refusal names the issuer; the chain is shown.
    let (address, server) = serve(|mut stream| {
        up_to_starttls(&mut stream);
        handshake(stream);
    });
    let run = postie(["send", "--tls", "required", "--server", &address.to_string(), "--to", "b@example.test"])
        .run()
        .expect_code(4);
    assert!(run.stderr().contains("issuer not trusted: CN=pwn\\x1b]0;owned\\x07"), "{run:?}");
    assert_no_raw_controls(&run);
    server.join().unwrap();

    // The same with --json, and with report (the chain and the verdict go to stdout).
    for extra in [&["--json"][..], &["--tls-verify", "report", "--quit-after", "tls"][..]] {
        let (address, server) = serve(|stream| starttls_then_one_reply(stream, b"250 evil\x1b]0;x\x07\r\n"));
        let mut args = vec!["send", "--server", &address.to_string(), "--to", "b@example.test", "--body", "x"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| s.to_string()));
        let run = postie(args).run();
        assert!(run.stdout().contains("pwn\\") || run.stderr().contains("pwn\\"), "{run:?}");
        assert_no_raw_controls(&run);
        server.join().unwrap();
    }

    // Implicit TLS.
    let (address, server) = serve(|stream| {
        handshake(stream);
    });
    let run = postie(["send", "--tls", "implicit", "--server", &address.to_string(), "--to", "b@example.test"])
        .run()
        .expect_code(4);
    assert_no_raw_controls(&run);
    server.join().unwrap();

    // probe: the report and the table.
    let (address, server) = serve(|stream| starttls_then_one_reply(stream, b"250 evil\r\n"));
    let run = postie(["probe", &address.to_string(), "-v", "--dns-server", &dns().address()]).run();
    assert!(run.stdout().contains("certificate does not verify"), "{run:?}");
    assert_no_raw_controls(&run);
    server.join().unwrap();
}

#[test]
fn escape_sequences_in_every_server_field_are_escaped() {
    // Banner, EHLO name and keywords, an AUTH challenge, every reply: each carries escapes.
    let (address, server) = serve(|mut stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let say = |stream: &mut TcpStream, text: &[u8]| {
            let _ = stream.write_all(text);
        };
        say(&mut stream, b"220-\x1b]0;title\x07 banner\r\n220 \xc2\x9b31m \xe2\x80\xa8 ok\r\n");
        read_line(&mut reader);
        say(&mut stream, b"250-evil\x1b[2J\r\n250-AUTH LOGIN\r\n250 X-\x1b[31mRED\r\n");
        read_line(&mut reader);
        say(&mut stream, b"334 \x1b[5m\r\n");
        read_line(&mut reader);
        say(&mut stream, b"535 5.7.8 no \x1b]8;;http://x\x07link\r\n");
        read_line(&mut reader);
        say(&mut stream, b"221 \x07bye\r\n");
    });
    let run = postie([
        "send",
        "--server",
        &address.to_string(),
        "--to",
        "b@example.test",
        "--user",
        "ada",
        "--password-env",
        "PW",
        "--allow-plaintext-auth",
        "--auth",
        "login",
        "--explain",
    ])
    .env("PW", "secret")
    .run()
    .expect_code(77);
    assert!(run.stdout().contains("S: 250-evil\\x1b[2J"), "{run:?}");
    assert!(run.stderr().contains("535 5.7.8 no \\x1b]8;;http://x\\x07link"), "{run:?}");
    assert!(!run.stdout().contains("\\\\x") && !run.stderr().contains("\\\\x"), "escaped once, not twice\n{run:?}");
    assert_no_raw_controls(&run);
    server.join().unwrap();

    // The EHLO name in an SMTPUTF8 refusal (an error line on stderr).
    let (address, server) = serve(|mut stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        stream.write_all(b"220 x\r\n").unwrap();
        read_line(&mut reader);
        stream.write_all(b"250-evil\x1b]0;t\x07\r\n250 SIZE 100000\r\n").unwrap();
        read_line(&mut reader);
        let _ = stream.write_all(b"221 bye\r\n");
    });
    let run =
        postie(["send", "--server", &address.to_string(), "--to", "j\u{f6}rg@example.test"]).run().expect_code(69);
    assert!(run.stderr().contains("which evil\\x1b]0;t\\x07 does not offer"), "{run:?}");
    assert_no_raw_controls(&run);
    server.join().unwrap();
}

#[test]
fn a_trickled_tls_handshake_ends_within_the_timeout() {
    // After STARTTLS the server sends a TLS record one byte every 400 ms: it never completes.
    let trickle = |mut stream: TcpStream| {
        for byte in [0x16u8, 0x03, 0x03, 0x40, 0x00, 0x02, 0x00, 0x3f, 0xfc, 0x03, 0x03].iter().cycle().take(40) {
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(400));
        }
    };
    let (address, server) = serve(move |mut stream| {
        up_to_starttls(&mut stream);
        trickle(stream);
    });
    let started = Instant::now();
    let run = postie(["send", "--timeout", "3", "--server", &address.to_string(), "--to", "b@example.test"]).run();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?} with --timeout 3\n{run:?}");
    assert_eq!(run.code(), 75, "{run:?}");
    assert!(run.stderr().contains("TLS handshake: no reply from the server within 3s"), "{run:?}");
    drop(server);

    // Implicit TLS, and a trickled record after a complete handshake (the greeting).
    let (address, server) = serve(move |stream| {
        if let Some(mut tls) = handshake(stream) {
            tls.conn.writer().write_all(b"220 slow greeting\r\n").unwrap();
            let mut record = Vec::new();
            tls.conn.write_tls(&mut record).unwrap();
            for byte in record {
                if tls.sock.write_all(&[byte]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(400));
            }
        }
    });
    let started = Instant::now();
    let run = postie([
        "send",
        "-k",
        "--tls",
        "implicit",
        "--timeout",
        "3",
        "--server",
        &address.to_string(),
        "--to",
        "b@example.test",
    ])
    .run();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?} with --timeout 3\n{run:?}");
    assert_eq!(run.code(), 75, "{run:?}");
    assert!(run.stderr().contains("banner: no reply from the server within 3s"), "{run:?}");
    drop(server);
}

#[test]
fn a_server_that_stops_reading_after_354_cannot_hold_postie() {
    // 8 MiB fits in the kernel's socket buffers here, so postie waits for the reply to the dot; 48 MiB does
    // not, so the writes themselves stall. Either way the wait is bounded by --timeout beyond the time the
    // same message takes to a server that reads it (encoding it is CPU time, not waiting).
    for size in [8 << 20, 48 << 20] {
        let (address, server) = serve(takes_the_message_then(b"250 ok\r\n"));
        let started = Instant::now();
        postie(["send", "-q", "--server", &address.to_string(), "--to", "b@example.test", "--body-file", "-"])
            .stdin(vec![b'x'; size])
            .run()
            .expect_code(0);
        let to_a_reader = started.elapsed();
        server.join().unwrap();
        let (sent_354, go_ahead) = std::sync::mpsc::channel();
        let (address, server) = serve(move |mut stream| {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            stream.write_all(b"220 x\r\n").unwrap();
            for reply in ["250 x\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n"] {
                read_line(&mut reader);
                stream.write_all(reply.as_bytes()).unwrap();
            }
            sent_354.send(Instant::now()).unwrap();
            // Read nothing more; keep the connection open well past the client's timeout.
            thread::sleep(Duration::from_secs(12));
        });
        let run = postie([
            "send",
            "--timeout",
            "3",
            "--server",
            &address.to_string(),
            "--to",
            "b@example.test",
            "--body-file",
            "-",
        ])
        .stdin(vec![b'x'; size])
        .run();
        let waited = go_ahead.recv().unwrap().elapsed();
        assert!(
            waited < to_a_reader + Duration::from_secs(5),
            "{size} bytes: {waited:?} after the 354 with --timeout 3 ({to_a_reader:?} to a server that reads)\n{run:?}"
        );
        assert_eq!(run.code(), 75, "nothing was delivered: a retry is safe\n{run:?}");
        drop(server);
    }
}

/// A server that takes the whole message and then misbehaves instead of answering the final dot.
fn takes_the_message_then(after: &'static [u8]) -> impl FnOnce(TcpStream) + Send + 'static {
    move |mut stream: TcpStream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        stream.write_all(b"220 x\r\n").unwrap();
        for reply in ["250 x\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n"] {
            read_line(&mut reader);
            stream.write_all(reply.as_bytes()).unwrap();
        }
        while read_line(&mut reader).trim_end() != "." {}
        let _ = stream.write_all(after);
        if after.starts_with(b"250") {
            read_line(&mut reader);
            let _ = stream.write_all(b"221 bye\r\n");
        } else if !after.is_empty() {
            let mut rest = Vec::new();
            let _ = reader.read_to_end(&mut rest);
        }
    }
}

#[test]
fn a_failure_after_the_final_dot_is_unknown_never_safe_to_retry() {
    // A drop after the dot, and garbage after the dot, through --server.
    for after in [&b""[..], &b"999 what\r\n"[..]] {
        let (address, server) = serve(takes_the_message_then(after));
        let run = postie(["send", "--server", &address.to_string(), "--to", "b@example.test", "--body", "x"]).run();
        assert_eq!(run.code(), 5, "{run:?}");
        assert!(
            run.stderr().contains("b@example.test: the message was sent to 127.0.0.1 but no reply came"),
            "{run:?}"
        );
        assert!(run.stderr().contains("do not resend it blindly"), "{run:?}");
        assert!(run.stdout().contains("b@example.test: unknown by 127.0.0.1"), "{run:?}");
        server.join().unwrap();
    }
    // Routed over MX: the same code, the host that took it, and no second host tried.
    let listener = TcpListener::bind("127.0.0.4:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_, server) = serve_on(listener, takes_the_message_then(b""));
    let run =
        postie(["send", "--dns-server", &dns().address(), "--port", &port.to_string(), "--to", "bob@slow.test"]).run();
    assert_eq!(run.code(), 5, "{run:?}");
    assert!(run.stderr().contains("sent to s1.slow.test [127.0.0.4] but no reply came"), "{run:?}");
    assert!(!run.stdout().contains("trying 127.0.0.5"), "never a second host after the dot\n{run:?}");
    server.join().unwrap();
}

#[test]
fn a_greeting_that_is_not_220_is_a_violation_at_once() {
    let (address, server) = serve(|mut stream| {
        let _ = stream.write_all(b"250 hello\r\n");
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        assert!(rest.is_empty(), "postie sent {:?} to a server that never greeted", String::from_utf8_lossy(&rest));
    });
    let run = postie(["send", "--server", &address.to_string(), "--to", "b@example.test"]).run().expect_code(76);
    assert!(
        run.stderr().contains("banner: protocol violation: a greeting must be 220, 421 or 554, not 250"),
        "{run:?}"
    );
    server.join().unwrap();
}
