//! Misbehaviour a real server will not produce on demand, from scripted servers.

use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::harness::{postie, FakeServer};

const EHLO_REPLY: &[u8] = b"250-fake.example.test\r\n250 8BITMIME\r\n";

#[test]
fn the_message_on_the_wire_is_normalised_and_stuffed() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220 fake ESMTP\r\n");
        peer.reply("250-fake.example.test\r\n250 8BITMIME\r\n");
        peer.accept_message("250 queued\r\n");
    });
    let message = b"Subject: wire\r\n\r\n.dot\nbare LF\nbare CR\rCRLF\r\n\r.\r\nend".to_vec();
    postie(["send", "--server", &server.server(), "--to", "b@example.test", "--data", "-"])
        .stdin(message)
        .run()
        .expect_code(0);
    let received = server.received();
    let data_start = received.iter().position(|l| l == "DATA").unwrap() + 1;
    assert_eq!(
        received[data_start..],
        ["Subject: wire", "", "..dot", "bare LF", "bare CR", "CRLF", "", "..", "end", ".", "QUIT"]
    );
}

#[test]
fn garbage_instead_of_a_banner_is_a_protocol_violation() {
    let server = FakeServer::start(|peer| peer.send(b"SSH-2.0-OpenSSH_9.2\r\n"));
    let run = postie(["send", "-q", "--server", &server.server(), "--to", "b@example.test"]).run().expect_code(76);
    assert_eq!(
        run.stderr(),
        format!(
            "postie: error: sending through {}: banner: protocol violation: reply line does not start with a valid reply \
             code: \"SSH-2.0-OpenSSH_9.2\"\n",
            server.address
        )
    );
}

#[test]
fn a_silent_server_times_out_naming_the_phase() {
    let server = FakeServer::start(|peer| {
        sleep(Duration::from_secs(3));
        peer.send(b"220 too late\r\n");
    });
    let started = Instant::now();
    let run = postie(["send", "-q", "--timeout", "1", "--server", &server.server(), "--to", "b@example.test"])
        .run()
        .expect_code(75);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(2500), "took {elapsed:?}");
    assert!(run.stderr().ends_with("banner: no reply from the server within 1s\n"), "{run:?}");
}

#[test]
fn a_dropped_connection_is_temporary() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220 fake\r\n");
        peer.reply("250 fake\r\n");
        peer.line(); // MAIL FROM, then hang up
    });
    let run = postie(["send", "-q", "--server", &server.server(), "--to", "b@example.test"]).run().expect_code(75);
    assert!(run.stderr().ends_with("MAIL FROM: the server closed the connection\n"), "{run:?}");
}

#[test]
fn control_characters_from_the_server_are_escaped() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220-fake \x1b[2J\x1b]0;pwned\x07\r\n220 hi\rthere\r\n");
        peer.reply("250 fake\r\n");
        peer.reply("550 no \x1b[31mred\r\n");
        peer.reply("221 bye\r\n");
    });
    let run = postie(["send", "--server", &server.server(), "--to", "b@example.test"]).run().expect_code(69);
    let out = run.stdout();
    assert!(out.contains("S: 220-fake \\x1b[2J\\x1b]0;pwned\\x07\nS: 220 hi\\x0dthere\n"), "{run:?}");
    assert!(!out.contains('\x1b') && !run.stderr().contains('\x1b'), "{run:?}");
    assert!(run.stderr().contains("550 no \\x1b[31mred"), "{run:?}");
    // The summary line quotes the reply escaped once, as the transcript does (not `\\x1b`).
    assert!(out.contains("b@example.test: refused at MAIL FROM by 127.0.0.1: 550 no \\x1b[31mred\n"), "{run:?}");
    assert!(!out.contains("\\\\x") && !run.stderr().contains("\\\\x"), "{run:?}");
}

#[test]
fn ehlo_refused_falls_back_to_helo() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220 old\r\n");
        peer.reply("502 5.5.1 what is EHLO\r\n");
        peer.reply("250 old\r\n");
        peer.accept_message("250 ok\r\n");
    });
    let run = postie(["send", "--server", &server.server(), "--helo", "c.example.test", "--to", "b@example.test"])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("* EHLO refused; falling back to HELO\nC: HELO c.example.test\n"), "{run:?}");
    let received = server.received();
    assert_eq!(received[..2], ["EHLO c.example.test", "HELO c.example.test"]);
}

#[test]
fn a_421_ends_the_session_without_quit() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220 fake\r\n");
        peer.send(EHLO_REPLY);
        peer.line();
        peer.reply("250 ok\r\n");
        peer.reply("421 4.3.2 shutting down\r\n");
        peer.drain();
    });
    let run = postie(["send", "--server", &server.server(), "--to", "b@example.test"]).run().expect_code(75);
    assert!(run.stderr().ends_with("RCPT TO refused: 421 4.3.2 shutting down\n"), "{run:?}");
    assert!(!server.received().iter().any(|l| l == "QUIT"));
}

#[test]
fn multi_line_banner_and_replies() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220-fake.example.test ESMTP\r\n220-no UCE\r\n220 welcome\r\n");
        peer.reply("250-fake\r\n250-SIZE 1000000\r\n250 HELP\r\n");
        peer.accept_message("250-queued\r\n250 as 1234\r\n");
    });
    let run = postie(["send", "--server", &server.server(), "--to", "b@example.test"]).run().expect_code(0);
    let out = run.stdout();
    assert!(out.contains("S: 220-fake.example.test ESMTP\nS: 220-no UCE\nS: 220 welcome\n"), "{run:?}");
    assert!(out.contains("S: 250-queued\nS: 250 as 1234\n"), "{run:?}");
    assert!(out.contains("b@example.test: delivered by 127.0.0.1: 250 queued as 1234"), "{run:?}");
}
