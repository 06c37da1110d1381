//! Messages people really send, and the ESMTP extensions, against the real Postfix, read back with a MIME
//! parser.

use std::fs;
use std::path::PathBuf;

use mail_parser::{MessageParser, MimeHeaders};

use crate::harness::{marker, postfix, postie, strip_trace_headers, Run};

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = crate::harness::scratch_dir("message");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

fn send_to(port: u16, args: &[&str]) -> Run {
    let mut all = vec![
        "send".to_string(),
        "--server".into(),
        format!("127.0.0.1:{port}"),
        "--from".into(),
        "a@example.test".into(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    postie(&all).run()
}

#[test]
fn attachments_html_and_utf8_arrive_intact() {
    let postfix = postfix();
    let mark = marker("attach");
    let text = temp_file("notes.txt", "line one\nline two with ünïcode\n".as_bytes());
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let binary_path = temp_file("blob.bin", &binary);
    // 20 MiB that does not compress: every byte matters.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let big: Vec<u8> = (0..20 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let big_path = temp_file("big.dat", &big);
    let subject = format!("Grüße ☃ {mark}");
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--from",
        "Zoë Ünïcode <zoe@example.test>",
        "--to",
        "Bob Ström <bob@example.test>",
        "--subject",
        &subject,
        "--body",
        &format!("plain text body {mark}\n"),
        "--html",
        "<p>HTML body</p>",
        // Each --attach-type and --attach-name describes the --attach before it.
        "--attach",
        text.to_str().unwrap(),
        "--attach-type",
        "text/plain",
        "--attach-name",
        "renamed.txt",
        "--attach",
        binary_path.to_str().unwrap(),
        "--attach-type",
        "application/x-test",
        "--attach",
        big_path.to_str().unwrap(),
        "--reply-to",
        "replies@example.test",
    ])
    .run()
    .expect_code(0);
    let delivered = postfix.delivered("bob", &mark);
    let parsed = MessageParser::default().parse(&delivered).unwrap();
    assert_eq!(parsed.subject(), Some(subject.as_str()));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!((from.name(), from.address()), (Some("Zoë Ünïcode"), Some("zoe@example.test")));
    assert_eq!(parsed.to().unwrap().first().unwrap().name(), Some("Bob Ström"));
    assert_eq!(parsed.reply_to().unwrap().first().unwrap().address(), Some("replies@example.test"));
    assert_eq!(parsed.body_text(0).unwrap().trim_end(), format!("plain text body {mark}"));
    assert_eq!(parsed.body_html(0).unwrap().trim_end(), "<p>HTML body</p>");
    let attachments: Vec<_> = parsed.attachments().collect();
    assert_eq!(attachments.len(), 3, "{run:?}");
    assert_eq!(attachments[0].attachment_name(), Some("renamed.txt"));
    assert_eq!(attachments[0].contents(), fs::read(&text).unwrap().as_slice());
    assert_eq!(attachments[1].attachment_name(), Some("blob.bin"));
    assert_eq!(
        attachments[1].content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))),
        Some("application/x-test".into())
    );
    assert!(attachments[1].contents() == binary.as_slice(), "binary attachment differs");
    assert_eq!(attachments[2].attachment_name(), Some("big.dat"));
    assert_eq!(
        attachments[2].content_type().map(|c| c.ctype().to_string()),
        Some("application".into()),
        "guessed type"
    );
    assert!(attachments[2].contents() == big.as_slice(), "20 MiB attachment differs");
}

#[test]
fn sendmail_t_reads_recipients_and_strips_bcc() {
    let postfix = postfix();
    let mark = marker("dash-t");
    let message = format!(
        "From: cron@example.test\nTo: Bob <bob@example.test>\nCc: carol@example.test\nBcc: dave@example.test\n\
         Subject: nightly {mark}\n\nreport\n"
    );
    let run = postie(["send", "-t", "-i", "-oi", "-f", "cron@example.test", "--server", &postfix.server()])
        .stdin(message)
        .run()
        .expect_code(0);
    for rcpt in ["RCPT TO:<bob@example.test>", "RCPT TO:<carol@example.test>", "RCPT TO:<dave@example.test>"] {
        assert!(run.stdout().contains(rcpt), "{rcpt}\n{run:?}");
    }
    for user in ["bob", "carol", "dave"] {
        let delivered = postfix.delivered(user, &mark);
        let message = String::from_utf8_lossy(strip_trace_headers(&delivered)).into_owned();
        assert!(!message.contains("Bcc") && !message.contains("dave@"), "Bcc left for {user}:\n{message}");
        assert!(
            message.starts_with("From: cron@example.test\nTo: Bob <bob@example.test>\nCc: carol@example.test\n"),
            "{message}"
        );
    }
    let run = postie(["send", "-t", "--server", &postfix.server()])
        .stdin("Subject: x\n\nno recipients\n")
        .run()
        .expect_code(65);
    assert_eq!(run.stderr(), "postie: error: -t: the message has no To, Cc or Bcc address\n");
}

#[test]
fn size_limit_refused_before_mail() {
    let postfix = postfix();
    let body = "x".repeat(3000);
    let run = send_to(postfix.small_port, &["--to", "bob@example.test", "--body", &body]).expect_code(69);
    assert!(run.stdout().contains("S: 250-SIZE 2000\n"), "{run:?}");
    assert!(!run.stdout().contains("C: MAIL"), "{run:?}");
    assert!(
        run.stderr().contains(": the message is ")
            && run.stderr().ends_with("bytes and the server accepts at most 2000 (SIZE, RFC 1870)\n"),
        "{run:?}"
    );
}

#[test]
fn smtputf8_address_delivered_or_refused_cleanly() {
    let postfix = postfix();
    let mark = marker("utf8");
    let run = send_to(postfix.port, &["--to", "jörg@example.test", "--body", &mark]).expect_code(0);
    assert!(run.stdout().contains(" SMTPUTF8 BODY=8BITMIME\n"), "{run:?}");
    assert!(run.stdout().contains("C: RCPT TO:<jörg@example.test>"), "{run:?}");
    postfix.delivered("jorg", &mark);

    let run = send_to(postfix.bare_port, &["--to", "jörg@example.test", "--body", "x"]).expect_code(69);
    assert!(!run.stdout().contains("C: MAIL"), "{run:?}");
    assert!(
        run.stderr().ends_with(
            "the address jörg@example.test needs SMTPUTF8 (RFC 6531), which mx.postie.test does not offer\n"
        ),
        "{run:?}"
    );
}

#[test]
fn eight_bit_content_and_8bitmime() {
    let postfix = postfix();
    let mark = marker("8bit");
    let raw = format!("From: a@example.test\r\nTo: bob@example.test\r\nSubject: {mark}\r\n\r\ncaf\u{e9} 8-bit\r\n");
    let path = temp_file(&format!("{mark}.eml"), raw.as_bytes());
    let run = send_to(postfix.port, &["--to", "bob@example.test", "--data", path.to_str().unwrap()]).expect_code(0);
    assert!(run.stdout().contains(" BODY=8BITMIME\n"), "{run:?}");
    postfix.delivered("bob", &mark);

    let run =
        send_to(postfix.bare_port, &["--to", "bob@example.test", "--data", path.to_str().unwrap()]).expect_code(69);
    assert!(
        run.stderr().contains("the message has 8-bit content and mx.postie.test does not offer 8BITMIME (RFC 6152)"),
        "{run:?}"
    );

    // A message postie builds is 7-bit (quoted-printable), so it goes even without 8BITMIME.
    let mark = marker("7bit");
    let run = send_to(postfix.bare_port, &["--to", "bob@example.test", "--subject", &mark, "--body", "café ☃"])
        .expect_code(0);
    assert!(run.stdout().contains("C: MAIL FROM:<a@example.test>\n"), "no parameters at all: {run:?}");
    let delivered = postfix.delivered("bob", &mark);
    assert_eq!(MessageParser::default().parse(&delivered).unwrap().body_text(0).unwrap().trim_end(), "café ☃");
}

#[test]
fn dsn_parameters_are_sent_when_offered() {
    let postfix = postfix();
    let mark = marker("dsn");
    let run = send_to(
        postfix.port,
        &[
            "--to",
            "bob@example.test",
            "--body",
            &mark,
            "--notify",
            "success,failure",
            "--ret",
            "hdrs",
            "--envid",
            "QQ314159",
        ],
    )
    .expect_code(0);
    let out = run.stdout();
    assert!(out.contains(" RET=HDRS ENVID=QQ314159\n"), "{run:?}");
    assert!(
        out.contains("C: RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.test\n"),
        "{run:?}"
    );
    assert!(!out.contains("S: 5"), "{run:?}");
    postfix.delivered("bob", &mark);

    let mark = marker("no-dsn");
    let run =
        send_to(postfix.bare_port, &["--to", "bob@example.test", "--body", &mark, "--notify", "never"]).expect_code(0);
    assert!(
        run.stdout().contains("* warning: mx.postie.test does not offer DSN: --notify, --ret and --envid are not sent"),
        "{run:?}"
    );
    postfix.delivered("bob", &mark);

    let run = send_to(postfix.port, &["--to", "bob@example.test", "--notify", "sometimes"]).expect_code(64);
    assert!(run.stderr().starts_with("postie: error: invalid --notify \"sometimes\": "), "{run:?}");
}

#[test]
fn pipelining_batches_commands_unless_turned_off() {
    let postfix = postfix();
    let mark = marker("pipelining");
    let run = send_to(postfix.port, &["--to", "bob@example.test", "--to", "carol@example.test", "--body", &mark])
        .expect_code(0);
    let out = run.stdout();
    let batch = "* pipelining 4 commands in one write (RFC 2920); the replies follow in the same order\nC: MAIL FROM:<a@example.test> SIZE=";
    assert!(out.contains(batch), "{run:?}");
    assert!(out.contains("\nC: RCPT TO:<bob@example.test>\nC: RCPT TO:<carol@example.test>\nC: DATA\nS: 250 2.1.0 Ok\nS: 250 2.1.5 Ok\nS: 250 2.1.5 Ok\nS: 354 "), "{run:?}");
    postfix.delivered("bob", &mark);

    let mark = marker("no-pipelining");
    let run = send_to(postfix.port, &["--no-pipelining", "--to", "bob@example.test", "--body", &mark]).expect_code(0);
    assert!(!run.stdout().contains("* pipelining"), "{run:?}");
    assert!(
        run.stdout().contains("\nS: 250 2.1.0 Ok\nC: RCPT TO:<bob@example.test>\nS: 250 2.1.5 Ok\nC: DATA\n"),
        "{run:?}"
    );
    postfix.delivered("bob", &mark);
}

#[test]
fn bdat_sends_the_message_in_one_chunk() {
    let postfix = postfix();
    let mark = marker("bdat");
    let raw = format!(
        "From: a@example.test\nTo: bob@example.test\nDate: Mon, 23 Nov 2026 21:53:41 +0000\nMessage-ID: <{mark}@example.test>\n\
         Subject: {mark}\n\n.leading dot\n.\nlast line"
    );
    let path = temp_file(&format!("{mark}.eml"), raw.as_bytes());
    let run =
        send_to(postfix.port, &["--bdat", "--to", "bob@example.test", "--data", path.to_str().unwrap()]).expect_code(0);
    let size = raw.len() + raw.matches('\n').count() + 2; // CRLF line endings and the final line break
    assert!(
        run.stdout().contains(&format!("C: BDAT {size} LAST\nC: <message: {size} bytes, 9 lines>\nS: 250 2.0.0 Ok")),
        "{run:?}"
    );
    let delivered = postfix.delivered("bob", &mark);
    assert_eq!(String::from_utf8_lossy(strip_trace_headers(&delivered)), format!("{raw}\n"));

    let mark = marker("no-chunking");
    let run = send_to(postfix.bare_port, &["--bdat", "--to", "bob@example.test", "--body", &mark]).expect_code(0);
    assert!(run.stdout().contains("* warning: the server does not offer CHUNKING: sending with DATA"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn attachment_input_errors() {
    let postfix = postfix();
    let cases: [(&[&str], &str, i32); 3] = [
        (&["--attach", "/nonexistent/file.pdf"], "postie: error: cannot read /nonexistent/file.pdf: No such file or directory", 66),
        (&["--attach-name", "x.txt"], "postie: error: --attach-name \"x.txt\" comes before any --attach: give it after the file it describes", 64),
        (&["--attach", "-", "--body-file", "-"], "postie: error: stdin can be read only once: give '-' to one of --data, --body-file, --html-file, --attach, -t, --password-file, --oauth-token-file", 64),
    ];
    for (args, message, code) in cases {
        let mut all = vec!["--to", "bob@example.test"];
        all.extend_from_slice(args);
        let run = send_to(postfix.port, &all).expect_code(code);
        assert_eq!(run.stderr(), format!("{message}\n"), "{run:?}");
    }
    let path = temp_file("typed.bin", b"x");
    let run = send_to(
        postfix.port,
        &["--to", "bob@example.test", "--attach", path.to_str().unwrap(), "--attach-type", "pdf"],
    )
    .expect_code(64);
    assert_eq!(
        run.stderr(),
        "postie: error: invalid --attach-type \"pdf\": write it as type/subtype, such as application/pdf\n"
    );
}

#[test]
fn attachment_from_stdin() {
    let postfix = postfix();
    let mark = marker("attach-stdin");
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).collect();
    postie([
        "send",
        "--server",
        &postfix.server(),
        "--to",
        "bob@example.test",
        "--body",
        &mark,
        "--attach",
        "-",
        "--attach-name",
        "piped.bin",
    ])
    .stdin(bytes.clone())
    .run()
    .expect_code(0);
    let delivered = postfix.delivered("bob", &mark);
    let parsed = MessageParser::default().parse(&delivered).unwrap();
    let attachment = parsed.attachments().next().unwrap();
    assert_eq!(attachment.attachment_name(), Some("piped.bin"));
    assert!(attachment.contents() == bytes.as_slice());
}
