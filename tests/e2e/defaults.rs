//! Defaults that work on day one: TLS the way mail servers do it (RFC 7435 opportunistic security), with
//! credentials only over verified TLS, and the habits swaks, msmtp and curl users bring.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::thread;

use crate::harness::{marker, postfix, postie, FakeServer, SASL_PASSWORD, SASL_USER};

#[test]
fn opportunistic_tls_delivers_to_a_certificate_that_does_not_verify() {
    let postfix = postfix();
    let mark = marker("opportunistic");
    let server = format!("127.0.0.1:{}", postfix.starttls_port);
    let run = postie(["send", "--server", &server, "--to", "bob@example.test", "--body", &mark]).run().expect_code(0);
    let out = run.stdout();
    assert!(
        out.contains("* warning: certificate does not verify: issuer not trusted: CN=postie test CA"),
        "the verdict is shown\n{run:?}"
    );
    assert!(out.contains("C~ MAIL FROM:"), "encrypted anyway\n{run:?}");
    assert!(
        out.contains("bob@example.test: delivered by 127.0.0.1: 250 2.0.0 Ok: queued as ")
            && out.contains("(encrypted, not verified: issuer not trusted: CN=postie test CA"),
        "the summary says how it went\n{run:?}"
    );
    postfix.delivered("bob", &mark);

    // The same in JSON: the recipient's transport.
    let mark = marker("opportunistic-json");
    let run = postie(["send", "--json", "--server", &server, "--to", "bob@example.test", "--body", &mark])
        .run()
        .expect_code(0);
    let recipient: serde_json::Value = run
        .stdout()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "recipient")
        .unwrap();
    assert!(recipient["transport"].as_str().unwrap().starts_with("not verified: issuer not trusted"), "{recipient}");
    postfix.delivered("bob", &mark);
}

/// OpenSMTPD 6.8 style: STARTTLS offered and accepted, then the ClientHello answered with something that
/// is not TLS.
fn accept_with_broken_tls(listener: &TcpListener) {
    let (mut stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    stream.write_all(b"220 broken-tls ESMTP\r\n").unwrap();
    reader.read_line(&mut line).unwrap();
    stream.write_all(b"250-broken-tls\r\n250 STARTTLS\r\n").unwrap();
    reader.read_line(&mut line).unwrap();
    stream.write_all(b"220 go ahead\r\n").unwrap();
    let _ = reader.fill_buf();
    let _ = stream.write_all(b"this is not TLS at all\r\n");
}

#[test]
fn a_failed_handshake_falls_back_to_a_new_connection_without_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        accept_with_broken_tls(&listener);
        // The second connection: plain text, and the message is taken.
        let (mut second, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(second.try_clone().unwrap());
        let mut seen = Vec::new();
        second.write_all(b"220 broken-tls ESMTP\r\n").unwrap();
        for reply in ["250 broken-tls\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n"] {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            seen.push(line.trim_end().to_string());
            second.write_all(reply.as_bytes()).unwrap();
        }
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 || line.trim_end() == "." {
                break;
            }
        }
        second.write_all(b"250 queued\r\n").unwrap();
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = second.write_all(b"221 bye\r\n");
        seen
    });
    let run = postie(["send", "--server", &address.to_string(), "--to", "b@example.test", "--body", "x"])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("TLS failed ("), "{run:?}");
    assert!(run.stdout().contains("connecting again without TLS"), "{run:?}");
    assert!(run.stdout().contains("b@example.test: delivered by 127.0.0.1: 250 queued"), "{run:?}");
    let seen = server.join().unwrap();
    assert_eq!(seen[0], "EHLO [127.0.0.1]", "no STARTTLS the second time: {seen:?}");

    // Under --tls required there is no fallback.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = thread::spawn(move || accept_with_broken_tls(&listener));
    let run = postie(["send", "--tls", "required", "--server", &address.to_string(), "--to", "b@example.test"])
        .run()
        .expect_code(4);
    assert!(!run.stdout().contains("without TLS"), "{run:?}");
    server.join().unwrap();
}

#[test]
fn credentials_go_only_over_verified_tls() {
    let postfix = postfix();
    let server = format!("127.0.0.1:{}", postfix.submission_port);
    let base = ["send", "--server", &server, "--tls", "auto", "--to", "bob@example.test", "--user", SASL_USER];
    let run =
        postie(base.iter().copied().chain(["--password-env", "PW"])).env("PW", SASL_PASSWORD).run().expect_code(77);
    assert!(
        run.stderr().contains(
            "not sending credentials to 127.0.0.1: its certificate does not verify, so it may not be 127.0.0.1; \
             trust its CA with --ca-file, or accept the risk with --insecure"
        ),
        "{run:?}"
    );
    assert!(!run.stdout().contains("C~ AUTH"), "no AUTH sent\n{run:?}");
    // With the CA, the same goes through.
    let mark = marker("verified-auth");
    postie(base.iter().copied().chain(["--password-env", "PW", "--ca-file", &postfix.ca_file(), "--body", &mark]))
        .env("PW", SASL_PASSWORD)
        .run()
        .expect_code(0);
    postfix.delivered("bob", &mark);
}

#[test]
fn no_auth_to_a_server_that_does_not_offer_it() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220 noauth ESMTP\r\n");
        peer.reply("250-noauth\r\n250 PIPELINING\r\n");
        peer.reply("221 bye\r\n");
    });
    let run = postie([
        "send",
        "--server",
        &server.server(),
        "--to",
        "b@example.test",
        "--user",
        "ada",
        "--password-env",
        "PW",
        "--allow-plaintext-auth",
    ])
    .env("PW", "secret")
    .run()
    .expect_code(77);
    assert!(run.stderr().contains("127.0.0.1 does not offer AUTH: its EHLO reply lists no mechanism"), "{run:?}");
    let received = server.received();
    assert!(!received.iter().any(|l| l.starts_with("AUTH")), "{received:?}");
}

#[test]
fn tls_name_and_resolve_check_the_certificate_for_another_name() {
    let postfix = postfix();
    let ca = postfix.ca_file();
    let port = postfix.starttls_port.to_string();
    // 127.0.0.2 is not in the certificate: verified TLS needs the name the certificate has.
    let server = format!("127.0.0.2:{port}");
    let run = postie(["send", "--server", &server, "--tls", "required", "--ca-file", &ca, "--to", "bob@example.test"])
        .run()
        .expect_code(4);
    assert!(run.stderr().contains("name 127.0.0.2 is not in the certificate"), "{run:?}");
    let mark = marker("tls-name");
    let run = postie([
        "send",
        "--server",
        &server,
        "--tls",
        "required",
        "--tls-name",
        "mx.postie.test",
        "--ca-file",
        &ca,
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("* certificate verified for mx.postie.test"), "{run:?}");
    postfix.delivered("bob", &mark);

    let mark = marker("resolve");
    let run = postie([
        "send",
        "--server",
        &format!("mx.postie.test:{port}"),
        "--resolve",
        &format!("mx.postie.test:{port}:127.0.0.1"),
        "--tls",
        "required",
        "--ca-file",
        &ca,
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("* mx.postie.test is 127.0.0.1 (--resolve)"), "{run:?}");
    assert!(run.stdout().contains("* certificate verified for mx.postie.test"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn a_ca_from_ssl_cert_file_is_trusted() {
    let postfix = postfix();
    let mark = marker("ssl-cert-file");
    let server = format!("127.0.0.1:{}", postfix.starttls_port);
    let run = postie(["send", "--server", &server, "--tls", "required", "--to", "bob@example.test", "--body", &mark])
        .env("SSL_CERT_FILE", &postfix.ca_file())
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("* certificate verified for 127.0.0.1"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn habits_people_bring() {
    let postfix = postfix();
    // Value names in any case.
    let mark = marker("case");
    postie([
        "send",
        "--server",
        &format!("127.0.0.1:{}", postfix.port),
        "--tls",
        "AUTO",
        "--quit-after",
        "RCPT",
        "--color",
        "Never",
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    // curl's URL forms.
    let mark = marker("url");
    let run = postie([
        "send",
        "--server",
        &format!("smtp://127.0.0.1:{}", postfix.port),
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("delivered to 1 of 1 recipient"), "{run:?}");
    postfix.delivered("bob", &mark);
    let mark = marker("smtps-url");
    let run = postie([
        "send",
        "--server",
        &format!("smtps://127.0.0.1:{}", postfix.smtps_port),
        "--ca-file",
        &postfix.ca_file(),
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("* TLS established"), "{run:?}");
    assert!(!run.stdout().contains("STARTTLS"), "implicit TLS, no STARTTLS\n{run:?}");
    postfix.delivered("bob", &mark);

    // Refusals with their messages.
    let cases: &[(&[&str], &str)] = &[
        (&["--server", "::1:2525"], "invalid --server \"::1:2525\": it is ambiguous: write [::1]:2525 for port 2525, or [::1:2525] for the address"),
        (&["--server", "http://mx.example.test"], "invalid --server \"http://mx.example.test\": http:// is not smtp:// or smtps://"),
        (&["--server", "smtps://127.0.0.1", "--tls", "none"], "smtps:// is implicit TLS: it cannot be combined with another --tls"),
        (&["--server", "x.test", "--resolve", "x.test:25"], "invalid --resolve \"x.test:25\": write it as HOST:PORT:ADDRESS"),
        (&["--server", "x.test", "--resolve", "x.test:25:nope"], "invalid --resolve \"x.test:25:nope\": \"nope\" is not an IP address"),
    ];
    for (args, message) in cases {
        let run = postie(["send", "--to", "b@example.test"].iter().chain(args.iter())).run().expect_code(64);
        assert_eq!(run.stderr(), format!("postie: error: {message}\n"), "{run:?}");
    }
}

/// A server that accepts and never says a word, on `address`, for `seconds`.
fn silent(address: std::net::SocketAddr, seconds: u64) -> thread::JoinHandle<()> {
    let listener = TcpListener::bind(address).unwrap();
    thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let started = std::time::Instant::now();
        let mut held = Vec::new();
        while started.elapsed() < std::time::Duration::from_secs(seconds) {
            if let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
            thread::sleep(std::time::Duration::from_millis(10));
        }
    })
}

#[test]
fn max_time_bounds_the_whole_run_across_two_silent_mx_hosts() {
    let port = TcpListener::bind("127.0.0.4:0").unwrap().local_addr().unwrap().port();
    let first = silent(format!("127.0.0.4:{port}").parse().unwrap(), 8);
    let second = silent(format!("127.0.0.5:{port}").parse().unwrap(), 8);
    let started = std::time::Instant::now();
    let run = postie([
        "send",
        "--dns-server",
        &crate::harness::dns().address(),
        "--port",
        &port.to_string(),
        "--timeout",
        "1.5",
        "--max-time",
        "2.5",
        "--to",
        "bob@slow.test",
    ])
    .run()
    .expect_code(75);
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(4), "took {took:?} with --max-time 2.5\n{run:?}");
    // The first host used up its own --timeout; the second, what was left of --max-time.
    assert!(
        run.stderr().contains(&format!(
            "bob@slow.test: --max-time 2.5s ran out at 127.0.0.5:{port} (s2.slow.test) in the banner; so far: \
             127.0.0.4:{port}: banner: no reply from the server within 1s"
        )),
        "{run:?}"
    );
    drop((first, second));
}

#[test]
fn an_implicit_tls_port_is_recognised() {
    // A TLS record where the greeting belongs.
    let server = FakeServer::start(|peer| peer.send(&[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]));
    let run = postie(["send", "--server", &server.server(), "--to", "b@example.test"]).run().expect_code(4);
    assert!(
        run.stderr()
            .contains("the server speaks TLS from the first byte (an implicit-TLS port, RFC 8314): use --tls implicit"),
        "{run:?}"
    );
    // A server that waits for the client (an SMTPS port): a word after 3 s, then the greeting still counts.
    let server = FakeServer::start(|peer| {
        thread::sleep(std::time::Duration::from_millis(3500));
        peer.send(b"220 late ESMTP\r\n");
        peer.reply("250 late\r\n");
        peer.reply("221 bye\r\n");
    });
    let run = postie(["send", "--server", &server.server(), "--to", "b@example.test", "--quit-after", "ehlo"])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("* warning: no greeting after 3 s, still waiting; an implicit-TLS port"), "{run:?}");
    assert!(run.stdout().contains("S: 220 late ESMTP"), "{run:?}");
}

#[test]
fn more_habits_body_at_file_attach_specs_and_refusals() {
    let postfix = postfix();
    let server = format!("127.0.0.1:{}", postfix.port);
    let dir = std::env::temp_dir().join(format!("postie-habits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // --body @FILE and @-.
    let mark = marker("body-at-file");
    let body = dir.join("body.txt");
    std::fs::write(&body, format!("from a file {mark}\n")).unwrap();
    postie(["send", "--server", &server, "--to", "bob@example.test", "--body", &format!("@{}", body.display())])
        .run()
        .expect_code(0);
    assert!(String::from_utf8_lossy(&postfix.delivered("bob", &mark)).contains(&format!("from a file {mark}")));
    let mark = marker("body-at-stdin");
    postie(["send", "--server", &server, "--to", "bob@example.test", "--body", "@-"])
        .stdin(format!("from stdin {mark}\n"))
        .run()
        .expect_code(0);
    postfix.delivered("bob", &mark);
    // An attachment's type and name ride with it.
    let mark = marker("attach-spec");
    let pdf = dir.join("q3.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 not really").unwrap();
    postie([
        "send",
        "--server",
        &server,
        "--to",
        "bob@example.test",
        "--body",
        &mark,
        "--attach",
        &format!("{};type=application/x-report;name=Q3 report.pdf", pdf.display()),
    ])
    .run()
    .expect_code(0);
    let delivered = String::from_utf8_lossy(&postfix.delivered("bob", &mark)).into_owned();
    assert!(delivered.contains("application/x-report") && delivered.contains("Q3 report.pdf"), "{delivered}");
    std::fs::remove_dir_all(&dir).unwrap();

    // Refusals.
    let run = postie(["send", "--server", &server, "--to", "b@example.test", "--header", "Bcc: secret@example.test"])
        .run()
        .expect_code(64);
    assert!(
        run.stderr().contains("a Bcc header would show the address to every recipient; give it with --bcc"),
        "{run:?}"
    );
    let run = postie(["send", "--server", &server, "--to", "b@example.test", "--attach-type", "text/csv"])
        .run()
        .expect_code(64);
    assert!(run.stderr().contains("--attach-type \"text/csv\" comes before any --attach"), "{run:?}");
    // A value that is not UTF-8 is named.
    use std::os::unix::ffi::OsStrExt;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_postie"))
        .args(["send", "--to", "b@example.test", "--subject"])
        .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(64));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "postie: error: the value of --subject (\"caf\\xe9\") is not valid UTF-8 (see --help)\n"
    );
}

#[test]
fn probe_and_mx_check_speak_implicit_tls() {
    let postfix = postfix();
    let port = postfix.smtps_port.to_string();
    let run = postie([
        "probe",
        &format!("127.0.0.1:{port}"),
        "--tls",
        "implicit",
        "--ca-file",
        &postfix.ca_file(),
        "--dns-server",
        &crate::harness::dns().address(),
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("TLS: TLS 1.3") && run.stdout().contains("certificate verified"), "{run:?}");
    let run = postie([
        "mx",
        "--check",
        "--tls",
        "implicit",
        "--port",
        &port,
        "--dns-server",
        &crate::harness::dns().address(),
        "implicit.test",
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("greeting") && run.stdout().contains(": 220 "), "{run:?}");
}

#[test]
fn sendmail_t_completes_the_message_as_sendmail_does() {
    let postfix = postfix();
    let mark = marker("t-complete");
    let message = format!("To: bob@example.test\nSubject: from cron\n\n{mark}\n");
    postie(["send", "-t", "-f", "cron@example.test", "--server", &format!("127.0.0.1:{}", postfix.port)])
        .stdin(message)
        .run()
        .expect_code(0);
    let delivered = String::from_utf8_lossy(&postfix.delivered("bob", &mark)).into_owned();
    for header in ["\nDate: ", "\nMessage-ID: <", "\nFrom: <cron@example.test>"] {
        assert!(delivered.contains(header), "{header:?} missing\n{delivered}");
    }
}

#[test]
fn output_details() {
    let postfix = postfix();
    // A guessed sender without a domain is worth a warning (the test machine's name has none).
    let run = postie([
        "send",
        "--server",
        &format!("127.0.0.1:{}", postfix.port),
        "--to",
        "bob@example.test",
        "--quit-after",
        "rcpt",
    ])
    .run()
    .expect_code(0);
    assert!(
        run.stdout().contains("* warning: no --from, and this machine has no domain name: sending as tester@"),
        "{run:?}"
    );
    // --show-data with --bdat: the lines, and the chunk.
    let mark = marker("bdat-show");
    let run = postie([
        "send",
        "--server",
        &format!("127.0.0.1:{}", postfix.port),
        "--from",
        "a@example.test",
        "--to",
        "bob@example.test",
        "--bdat",
        "--show-data",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("C: BDAT ") && run.stdout().contains(&format!("C: {mark}")), "{run:?}");
    postfix.delivered("bob", &mark);
    // A refused MAIL FROM names the sender.
    let server = FakeServer::start(|peer| {
        peer.send(b"220 x\r\n");
        peer.reply("250 x\r\n");
        peer.reply("553 5.1.8 sender rejected\r\n");
        peer.reply("221 bye\r\n");
    });
    let run =
        postie(["send", "-q", "--server", &server.server(), "--from", "bad@example.test", "--to", "b@example.test"])
            .run()
            .expect_code(69);
    assert_eq!(
        run.stderr(),
        "postie: error: MAIL FROM refused the sender <bad@example.test>, so b@example.test did not get the message: 553 5.1.8 sender rejected\n"
    );
    // Help shows examples; probe --timing shows the transcript with real times.
    assert!(postie(["send", "--help"])
        .run()
        .expect_code(0)
        .stdout()
        .contains("Examples:\n  Send through your provider"));
    let run = postie([
        "probe",
        &format!("127.0.0.1:{}", postfix.port),
        "--timing",
        "--dns-server",
        &crate::harness::dns().address(),
    ])
    .run();
    let greeting = run.stdout().lines().find(|l| l.contains("S: 220 ")).unwrap_or_default().to_string();
    assert!(greeting.starts_with('[') && greeting.contains(" ms] S: 220 "), "{run:?}");
    // The password file with a NUL.
    let dir = crate::harness::scratch_dir("nul-password");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("password");
    std::fs::write(&file, b"pass\0word\n").unwrap();
    let run = postie([
        "send",
        "--server",
        "127.0.0.1:1",
        "--to",
        "b@example.test",
        "--user",
        "ada",
        "--password-file",
        file.to_str().unwrap(),
    ])
    .run()
    .expect_code(65);
    assert!(run.stderr().contains("it contains a NUL character, which AUTH PLAIN uses to separate"), "{run:?}");
}

#[test]
fn a_large_message_with_dot_lines_goes_over_tls_intact() {
    // Dot-stuffing makes a 64 KiB block larger than 64 KiB, the most rustls takes at once: every byte must
    // still go out once, in order.
    let postfix = postfix();
    let mark = marker("big-tls");
    let mut message = format!("Subject: {mark}\r\n\r\n").into_bytes();
    for i in 0..20_000 {
        message.extend_from_slice(format!(".line {i} of a message that goes over TLS\r\n").as_bytes());
    }
    let run = postie([
        "send",
        "-q",
        "--server",
        &format!("127.0.0.1:{}", postfix.starttls_port),
        "--tls",
        "required",
        "--ca-file",
        &postfix.ca_file(),
        "--from",
        "a@example.test",
        "--to",
        "bob@example.test",
        "--data",
        "-",
    ])
    .stdin(message.clone())
    .run();
    assert_eq!(run.code(), 0, "{run:?}");
    // Every line arrived once, in order (the Maildir has LF line ends; Postfix adds the headers it lacks).
    let delivered = String::from_utf8_lossy(&postfix.delivered("bob", &mark)).into_owned();
    let lines: Vec<&str> = delivered.lines().filter(|l| l.starts_with(".line ")).collect();
    assert_eq!(lines.len(), 20_000, "lines lost or doubled");
    assert!(
        lines.iter().enumerate().all(|(i, l)| *l == format!(".line {i} of a message that goes over TLS")),
        "lines out of order"
    );
}
