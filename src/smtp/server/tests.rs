//! The server session against scripted clients: whole dialogues, pipelining, faults.

use std::sync::Arc;
use std::time::Duration;

use super::*;

/// Run `input` through a session, storing every message; returns what was written and the messages.
fn dialogue(settings: Settings, input: &[u8]) -> (String, Vec<Message>, bool) {
    let mut session = Session::new(Arc::new(settings), false);
    session.feed(input);
    let mut out = String::new();
    let mut messages = Vec::new();
    let mut closed = false;
    while let Some(action) = session.poll() {
        match action {
            Action::Reply { bytes, .. } => out.push_str(&String::from_utf8_lossy(&bytes)),
            Action::Deliver(message) => {
                messages.push(message);
                session.stored(Ok(()));
            }
            Action::StartTls => session.tls_started(),
            Action::Close => closed = true,
        }
    }
    (out, messages, closed)
}

fn codes(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.as_bytes().get(3) == Some(&b' ')).map(|l| &l[..3]).collect()
}

const SIMPLE: &[u8] =
    b"EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n";

#[test]
fn a_whole_pipelined_dialogue() {
    let (out, messages, closed) = dialogue(Settings::default(), SIMPLE);
    assert_eq!(codes(&out), ["220", "250", "250", "250", "354", "250", "221"], "{out}");
    assert!(out.contains("250-PIPELINING\r\n") && out.contains("250 CHUNKING\r\n"), "{out}");
    assert!(closed);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content, b"Subject: hi\r\n\r\n.dot\r\n");
    assert_eq!(messages[0].recipients, ["b@y.test"]);
    assert_eq!(messages[0].from, "a@x.test");
}

#[test]
fn bdat_chunks_are_taken_byte_exact() {
    let input = b"EHLO c\r\nMAIL FROM:<a@x.test> BODY=BINARYMIME\r\nRCPT TO:<b@y.test>\r\nBDAT 5\r\n.\r\nabBDAT 3 LAST\r\nc\n.QUIT\r\n";
    let (out, messages, _) = dialogue(Settings::default(), input);
    assert_eq!(codes(&out), ["220", "250", "250", "250", "250", "250", "221"], "{out}");
    assert_eq!(messages[0].content, b".\r\nabc\n.");
    assert!(out.contains("250 2.0.0 5 octets received"), "{out}");
}

#[test]
fn sequence_and_syntax_errors() {
    let input = b"MAIL FROM:<a@x.test>\r\nHELO c\r\nMAIL FROM:<a@x.test> SIZE=10\r\nRCPT TO:<b@y.test>\r\nDATA\r\n.\r\nFOO\r\nQUIT\r\n";
    let (out, messages, _) = dialogue(Settings::default(), input);
    // MAIL before HELO; SIZE after HELO is not an extension; then RCPT without MAIL.
    assert_eq!(codes(&out), ["220", "503", "250", "555", "503", "503", "500", "500", "221"], "{out}");
    assert!(messages.is_empty());
}

#[test]
fn faults_by_step() {
    let mut settings = Settings::default();
    settings.faults.replies.push((Step::Rcpt, Fault { code: 550, text: None }));
    settings.faults.delays.push((Step::Mail, Duration::from_secs(2)));
    let mut session = Session::new(Arc::new(settings), false);
    session.feed(b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
    let mut replies = Vec::new();
    while let Some(action) = session.poll() {
        if let Action::Reply { bytes, delay } = action {
            replies.push((String::from_utf8(bytes).unwrap(), delay));
        }
    }
    assert_eq!(replies[2], ("250 2.1.0 Sender <a@x.test> ok\r\n".to_string(), Duration::from_secs(2)));
    assert_eq!(replies[3].0, "550 5.0.0 on cue: --reply rcpt=550\r\n");
    assert_eq!(replies[4].0, "554 5.5.1 no valid recipients\r\n");
}

#[test]
fn drop_after_data_stores_nothing() {
    let mut settings = Settings::default();
    settings.faults.drops.push(Step::Dot);
    let (out, messages, closed) = dialogue(settings, SIMPLE);
    assert_eq!(codes(&out), ["220", "250", "250", "250", "354"], "{out}");
    assert!(messages.is_empty() && closed);
}

#[test]
fn greetings_that_refuse() {
    let mut settings = Settings::default();
    settings.faults.replies.push((Step::Greeting, Fault { code: 554, text: None }));
    let (out, _, closed) = dialogue(settings.clone(), b"EHLO c\r\nQUIT\r\n");
    assert_eq!(codes(&out), ["554", "503", "221"], "{out}");
    assert!(closed);
    settings.faults.replies[0].1.code = 421;
    let (out, _, closed) = dialogue(settings, b"EHLO c\r\n");
    assert_eq!(codes(&out), ["421"], "{out}");
    assert!(closed);
}

#[test]
fn starttls_discards_what_came_with_it_and_starts_again() {
    let settings = Settings { starttls: true, require_tls: true, ..Settings::default() };
    let mut session = Session::new(Arc::new(settings), false);
    session.feed(b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nSTARTTLS\r\nMAIL FROM:<injected@x.test>\r\n");
    let mut out = String::new();
    while let Some(action) = session.poll() {
        match action {
            Action::Reply { bytes, .. } => out.push_str(&String::from_utf8_lossy(&bytes)),
            Action::StartTls => session.tls_started(),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(codes(&out), ["220", "250", "530", "220"], "{out}");
    assert!(out.contains("250 STARTTLS\r\n"), "{out}");
    assert!(session.take_lines().contains(&Line::Note(Note::DiscardedAfterStartTls { bytes: 29 })));
    session.feed(b"EHLO c\r\n");
    let Some(Action::Reply { bytes, .. }) = session.poll() else { panic!() };
    assert!(!String::from_utf8_lossy(&bytes).contains("STARTTLS"));
}

#[test]
fn auth_plain_and_login() {
    let users = vec![("alice".to_string(), "pw".to_string())];
    let settings = Settings { auth: Some(AuthPolicy::Only(users)), ..Settings::default() };
    // "\0alice\0pw", then LOGIN with a wrong password, then MAIL.
    let input = b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nAUTH LOGIN\r\nYWxpY2U=\r\neA==\r\nAUTH PLAIN AGFsaWNlAHB3\r\nMAIL FROM:<a@x.test>\r\n";
    let (out, _, _) = dialogue(settings, input);
    assert_eq!(codes(&out), ["220", "250", "530", "334", "334", "535", "235", "250"], "{out}");
}

#[test]
fn lmtp_answers_each_recipient() {
    let settings = Settings { lmtp: true, ..Settings::default() };
    let input =
        b"EHLO c\r\nLHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\nx\r\n.\r\n";
    let (out, messages, _) = dialogue(settings, input);
    assert_eq!(codes(&out), ["220", "500", "250", "250", "250", "250", "354", "250", "250"], "{out}");
    assert_eq!(messages.len(), 1);
}

#[test]
fn long_lines_and_many_errors_end_the_session() {
    let mut input = vec![b'A'; 10_000];
    input.extend_from_slice(b"\r\nNOOP\r\n");
    let (out, _, _) = dialogue(Settings::default(), &input);
    assert_eq!(codes(&out), ["220", "500", "250"], "{out}");
    let (out, _, closed) = dialogue(Settings::default(), "BAD\r\n".repeat(30).as_bytes());
    assert_eq!(codes(&out).last(), Some(&"421"), "{out}");
    assert!(closed);
}

#[test]
fn oversized_messages_are_refused() {
    let settings = Settings { max_message: 10, ..Settings::default() };
    let input = b"EHLO c\r\nMAIL FROM:<a@x.test> SIZE=11\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n0123456789abc\r\n.\r\n";
    let (out, messages, _) = dialogue(settings, input);
    assert_eq!(codes(&out), ["220", "250", "552", "250", "250", "354", "552"], "{out}");
    assert!(messages.is_empty());
}

#[test]
fn every_split_point_gives_the_same_replies() {
    let (whole, _, _) = dialogue(Settings::default(), SIMPLE);
    for split in 0..=SIMPLE.len() {
        let mut session = Session::new(Arc::new(Settings::default()), false);
        let mut out = String::new();
        for part in [&SIMPLE[..split], &SIMPLE[split..]] {
            session.feed(part);
            while let Some(action) = session.poll() {
                match action {
                    Action::Reply { bytes, .. } => out.push_str(&String::from_utf8_lossy(&bytes)),
                    Action::Deliver(_) => session.stored(Ok(())),
                    _ => {}
                }
            }
        }
        assert_eq!(out, whole, "split at {split}");
    }
}
