//! `postie send` against the real Postfix, proven by what landed in the Maildir.

use std::fs;

use mail_parser::MessageParser;

use crate::harness::{
    assert_snapshot, contains, dns, free_port, marker, normalise, postfix, postie, strip_trace_headers, Tripwire,
};

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = crate::harness::scratch_dir("send");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// The header section of a delivered message (up to the blank line).
fn header_section(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.split("\n\n").next().unwrap().to_string()
}

#[test]
fn message_from_flags_reaches_every_recipient_and_bcc_stays_hidden() {
    let postfix = postfix();
    let mark = marker("flags");
    let subject = format!("hi {mark}");
    let body = "hello\n.a line with a leading dot\n..two dots\n.\nlast line";
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--from",
        "Ada Lovelace <ada@example.test>",
        "--to",
        "bob@example.test",
        "--cc",
        "carol@example.test",
        "--bcc",
        "dave@example.test",
        "--subject",
        &subject,
        "--body",
        body,
    ])
    .run()
    .expect_code(0);
    let transcript = run.stdout();
    for line in [
        "C: MAIL FROM:<ada@example.test>",
        "C: RCPT TO:<bob@example.test>",
        "C: RCPT TO:<carol@example.test>",
        "C: RCPT TO:<dave@example.test>",
        "C: DATA",
        "C: .",
        "C: QUIT",
        "* delivered to 3 of 3 recipients",
    ] {
        // Commands may carry extension parameters (SIZE=…) after the part checked here.
        assert!(
            transcript.lines().any(|l| l == line || l.starts_with(&format!("{line} "))),
            "missing {line:?}\n{run:?}"
        );
    }
    for user in ["bob", "carol", "dave"] {
        let delivered = postfix.delivered(user, &mark);
        let headers = header_section(strip_trace_headers(&delivered));
        assert!(!headers.contains("Bcc") && !headers.contains("dave@"), "Bcc leaked to {user}:\n{headers}");
        let parsed = MessageParser::default().parse(&delivered).unwrap();
        assert_eq!(parsed.subject(), Some(subject.as_str()));
        assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), format!("{body}\n"));
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!((from.name(), from.address()), (Some("Ada Lovelace"), Some("ada@example.test")));
        assert!(
            headers.contains("Cc: <carol@example.test>") || headers.contains("Cc: carol@example.test"),
            "{headers}"
        );
        let message_id = parsed.message_id().unwrap();
        assert!(message_id.ends_with("@example.test"), "Message-ID in the sender's domain: {message_id}");
    }
}

#[test]
fn piped_stdin_is_the_body() {
    let postfix = postfix();
    let mark = marker("stdin");
    let body = format!("report attached {mark}\nsecond line\n");
    postie([
        "send",
        "--server",
        &postfix.server(),
        "--from",
        "cron@example.test",
        "--to",
        "bob@example.test",
        "--subject",
        "nightly",
    ])
    .stdin(body.clone())
    .run()
    .expect_code(0);
    let parsed_bytes = postfix.delivered("bob", &mark);
    let parsed = MessageParser::default().parse(&parsed_bytes).unwrap();
    assert_eq!(parsed.subject(), Some("nightly"));
    assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n"), body);
}

/// The message a test gives with --data, and what must land: line endings become LF in the Maildir (Postfix
/// stores lines), bare CR and bare LF count as line ends, dot-stuffing is undone by the server, a missing
/// final line break is added; every other byte is kept.
fn raw_message(mark: &str) -> (Vec<u8>, Vec<u8>) {
    let long_line = "x".repeat(1500);
    let mut message = format!(
        "Date: Mon, 23 Nov 2026 21:53:41 +0000\r\nFrom: a@example.test\r\nTo: bob@example.test\r\n\
         Message-ID: <{mark}@example.test>\r\nSubject: raw {mark}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         .leading dot\r\n..two\r\n.\r\nbare LF line\nbare CR\rin the middle\r\n{long_line}\r\n"
    )
    .into_bytes();
    message.extend_from_slice("8-bit: café ☃ 🦀\r\n".as_bytes());
    message.extend_from_slice(b"latin-1 byte: \xe9\r\n");
    message.extend_from_slice(b"no final newline");
    let mut expected = Vec::new();
    let mut i = 0;
    while i < message.len() {
        match (message[i], message.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                expected.push(b'\n');
                i += 2;
            }
            (b'\r', _) => {
                expected.push(b'\n');
                i += 1;
            }
            (byte, _) => {
                expected.push(byte);
                i += 1;
            }
        }
    }
    expected.push(b'\n');
    (message, expected)
}

#[test]
fn data_file_lands_byte_for_byte() {
    let postfix = postfix();
    let mark = marker("data");
    let (message, expected) = raw_message(&mark);
    let path = temp_file(&format!("{mark}.eml"), &message);
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--from",
        "a@example.test",
        "--to",
        "bob@example.test",
        "--data",
        path.to_str().unwrap(),
    ])
    .run()
    .expect_code(0);
    // The size counts CRLF line endings: one more byte per line than the Maildir's LF.
    let lines = expected.iter().filter(|&&b| b == b'\n').count();
    assert!(
        run.stdout().contains(&format!("C: <message: {} bytes, {lines} lines>", expected.len() + lines)),
        "{run:?}"
    );
    let delivered = postfix.delivered("bob", &mark);
    assert_eq!(String::from_utf8_lossy(strip_trace_headers(&delivered)), String::from_utf8_lossy(&expected));
    assert_eq!(strip_trace_headers(&delivered), expected.as_slice());
}

#[test]
fn data_from_stdin_lands_byte_for_byte() {
    let postfix = postfix();
    let mark = marker("data-stdin");
    let (message, expected) = raw_message(&mark);
    postie(["send", "--server", &postfix.server(), "--to", "bob@example.test", "--data", "-"])
        .stdin(message)
        .run()
        .expect_code(0);
    assert_eq!(strip_trace_headers(&postfix.delivered("bob", &mark)), expected.as_slice());
}

#[test]
fn dump_prints_the_message_and_sends_nothing_and_round_trips() {
    let postfix = postfix();
    let tripwire = Tripwire::new();
    let mark = marker("dump");
    let run = postie([
        "send",
        "--server",
        &tripwire.server(),
        "--from",
        "a@example.test",
        "--to",
        "bob@example.test",
        "--bcc",
        "dave@example.test",
        "--subject",
        &mark,
        "--body",
        "dumped body",
        "--dump",
    ])
    .run()
    .expect_code(0);
    tripwire.assert_untouched();
    let dumped = run.output.stdout.clone();
    assert!(contains(&dumped, format!("Subject: {mark}\r\n").as_bytes()), "{run:?}");
    assert!(!contains(&dumped, b"dave@"), "Bcc in the dump");
    assert_eq!(
        run.stderr(),
        "* envelope: MAIL FROM:<a@example.test>\n* envelope: RCPT TO:<bob@example.test>\n\
        * envelope: RCPT TO:<dave@example.test>\n"
    );
    // What --dump printed is what --data sends.
    postie(["send", "--server", &postfix.server(), "--to", "bob@example.test", "--data", "-"])
        .stdin(dumped.clone())
        .run()
        .expect_code(0);
    let delivered = postfix.delivered("bob", &mark);
    let expected: Vec<u8> = String::from_utf8(dumped).unwrap().replace("\r\n", "\n").into_bytes();
    assert_eq!(strip_trace_headers(&delivered), expected.as_slice());
}

#[test]
fn default_test_message_when_no_body_is_given() {
    let postfix = postfix();
    let mark = marker("default");
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--to",
        "bob@example.test",
        "--header",
        &format!("X-Marker: {mark}"),
    ])
    .run()
    .expect_code(0);
    let ehlo = run.stdout().lines().find(|l| l.starts_with("C: EHLO ")).unwrap().to_string();
    assert!(!ehlo.contains("localhost"), "EHLO must never say localhost: {ehlo}");
    let delivered = postfix.delivered("bob", &mark);
    let parsed = MessageParser::default().parse(&delivered).unwrap();
    assert!(parsed.subject().unwrap().starts_with("test "), "{:?}", parsed.subject());
    assert!(parsed.date().is_some() && parsed.message_id().is_some());
    assert_eq!(parsed.body_text(0).unwrap().trim_end(), "This is a test mailing");
    assert!(parsed.from().unwrap().first().unwrap().address().unwrap().starts_with("tester@"));
}

#[test]
fn partial_delivery_transcript_and_exit_code() {
    let postfix = postfix();
    let mark = marker("partial");
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--helo",
        "client.example.test",
        "--from",
        "a@example.test",
        "--to",
        "bob@example.test",
        "--to",
        "nobody@example.test",
        "--subject",
        "partial",
        "--header",
        "Date: Mon, 23 Nov 2026 21:53:41 +0000",
        "--header",
        "Message-ID: <partial@example.test>",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(3);
    postfix.delivered("bob", &mark);
    assert_eq!(
        run.stderr(),
        "postie: error: RCPT TO refused nobody@example.test: 550 5.1.1 <nobody@example.test>: Recipient address \
         rejected: User unknown in virtual mailbox table\n"
    );
    let port = postfix.port.to_string();
    let transcript = normalise(&run.stdout(), &[(mark.as_str(), "MARKER"), (port.as_str(), "SMTPPORT")]);
    assert_snapshot("send-partial.txt", &transcript);
}

#[test]
fn every_recipient_refused_permanently() {
    let postfix = postfix();
    let run = postie(["send", "--server", &postfix.server(), "--to", "nobody@example.test", "--body", "x"])
        .run()
        .expect_code(69);
    // With PIPELINING, DATA goes out in the same write as RCPT (RFC 2920) and the server refuses it; the
    // message itself is never sent.
    assert!(
        run.stdout().contains("C: DATA\n") && run.stdout().contains("S: 554 5.5.1 Error: no valid recipients\n"),
        "{run:?}"
    );
    assert!(!run.stdout().contains("C: <message:"), "{run:?}");
    assert!(run.stdout().contains("* no recipient was accepted; not sending the message"), "{run:?}");
    assert!(run.stderr().starts_with("postie: error: RCPT TO refused nobody@example.test: 550 5.1.1"), "{run:?}");
}

#[test]
fn temporary_refusal_is_exit_75() {
    let postfix = postfix();
    let run = postie(["send", "--server", &postfix.server(), "--to", "someone@elsewhere.test", "--body", "x"])
        .run()
        .expect_code(75);
    assert!(run.stderr().contains("454 4.7.1"), "{run:?}");
    assert!(run.stdout().contains("deferred at RCPT TO"), "{run:?}");
}

#[test]
fn null_sender() {
    let postfix = postfix();
    let mark = marker("null");
    let run =
        postie(["send", "--server", &postfix.server(), "--null-sender", "--to", "bob@example.test", "--body", &mark])
            .run()
            .expect_code(0);
    assert!(run.stdout().contains("C: MAIL FROM:<> SIZE="), "{run:?}");
    assert!(String::from_utf8_lossy(&postfix.delivered("bob", &mark)).starts_with("Return-Path: <>\n"));
    let mark = marker("null2");
    postie(["send", "--server", &postfix.server(), "--from", "", "--to", "bob@example.test", "--body", &mark])
        .run()
        .expect_code(0);
    postfix.delivered("bob", &mark);
}

#[test]
fn ipv6_literal_and_host_name_servers() {
    let postfix = postfix();
    let mark = marker("v6");
    let run =
        postie(["send", "--server", &format!("[::1]:{}", postfix.port), "--to", "bob@example.test", "--body", &mark])
            .run()
            .expect_code(0);
    assert!(run.stdout().contains(&format!("* connected to [::1]:{}", postfix.port)), "{run:?}");
    postfix.delivered("bob", &mark);

    let mark = marker("name");
    let run = postie([
        "send",
        "--from",
        "a@example.test",
        "--server",
        "localhost",
        "--port",
        &postfix.port.to_string(),
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().starts_with("* resolving localhost\n* localhost: ::1, 127.0.0.1\n* trying [::1]:"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn server_name_resolved_over_dns() {
    let postfix = postfix();
    let mark = marker("server-dns");
    let server = format!("live.fallback.test:{}", postfix.port);
    let run = postie([
        "send",
        "--server",
        &server,
        "--dns-server",
        &dns().address(),
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("* live.fallback.test: 127.0.0.1\n"), "{run:?}");
    assert!(run.stdout().contains("bob@example.test: delivered by live.fallback.test [127.0.0.1]"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn helo_name_is_used() {
    let postfix = postfix();
    let mark = marker("helo");
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--helo",
        "client.example.test",
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("C: EHLO client.example.test\n"));
    let delivered = String::from_utf8_lossy(&postfix.delivered("bob", &mark)).into_owned();
    assert!(delivered.contains("Received: from client.example.test"), "{delivered}");
}

#[test]
fn show_data_prints_each_stuffed_line() {
    let postfix = postfix();
    let mark = marker("show");
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--to",
        "bob@example.test",
        "--show-data",
        "--body",
        &format!(".{mark}\nplain"),
    ])
    .run()
    .expect_code(0);
    let out = run.stdout();
    assert!(out.contains(&format!("C: ..{mark}\nC: plain\n")), "{run:?}");
    assert!(out.contains("* message sent: "), "{run:?}");
    assert!(!out.contains("C: <message:"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn quiet_prints_nothing_on_success() {
    let postfix = postfix();
    let mark = marker("quiet");
    let run = postie(["send", "-q", "--server", &postfix.server(), "--to", "bob@example.test", "--body", &mark])
        .run()
        .expect_code(0);
    assert_eq!((run.stdout(), run.stderr()), (String::new(), String::new()));
    postfix.delivered("bob", &mark);
}

#[test]
fn connection_refused_is_temporary() {
    let port = free_port("127.0.0.1");
    let run = postie(["send", "-q", "--server", &format!("127.0.0.1:{port}"), "--to", "bob@example.test"])
        .run()
        .expect_code(75);
    assert_eq!(run.stderr(), format!("postie: error: could not connect to 127.0.0.1:{port}: connection refused\n"));
}

#[test]
fn unknown_host_is_68() {
    let run =
        postie(["send", "--server", "no-such-host.test", "--dns-server", &dns().address(), "--to", "bob@example.test"])
            .run()
            .expect_code(68);
    assert_eq!(run.stderr(), "postie: error: no-such-host.test does not exist (NXDOMAIN)\n");
}
