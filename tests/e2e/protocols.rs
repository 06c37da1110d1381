//! talk, script, smuggle, and the protocols swaks speaks (LMTP, unix sockets, pipes, XCLIENT, PROXY), each
//! against the real peer: Postfix, Dovecot LMTP, `sendmail -bs`. What landed is read back from the Maildir.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::harness::{first_received, lmtp, marker, postfix, postie, scratch_dir, FakeServer, SASL_PASSWORD};

fn repository(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path).display().to_string()
}

// ---- talk -------------------------------------------------------------------------------------------------

#[test]
fn talk_reads_piped_commands_and_waits_for_each_reply() {
    let postfix = postfix();
    let marker = marker("talk-piped");
    let commands = format!(
        "EHLO client.example.test\nVRFY bob@example.test\nMAIL FROM:<alice@example.test>\nRCPT TO:<bob@example.test>\n\
         DATA\nSubject: {marker}\n\n..a stuffed line\n{marker}\n.\nQUIT\n"
    );
    let run = postie(["talk", &postfix.server()]).stdin(commands).run().expect_code(0);
    let out = run.stdout();
    assert!(out.contains("S: 220 "), "{out}");
    assert!(out.contains("C: VRFY bob@example.test"), "{out}");
    assert!(out.contains("S: 250 2.0.0 Ok: queued"), "{out}");
    assert!(out.contains("S: 221 "), "{out}");
    // EHLO's capabilities are explained.
    assert!(out.contains("PIPELINING"), "{out}");
    let delivered = String::from_utf8_lossy(&postfix.delivered("bob", &marker)).into_owned();
    assert!(delivered.contains("\n..a stuffed line\n"), "typed text arrives as typed: {delivered}");
}

#[test]
fn talk_exits_with_the_class_of_the_last_reply() {
    let postfix = postfix();
    // No QUIT: the end of input sends it, and 221 is the last reply.
    postie(["talk", &postfix.server()]).stdin("EHLO x.example.test\n").run().expect_code(0);
    // A refused recipient, then the end of input: QUIT's 221 is the last reply, so 0.
    let run = postie(["talk", &postfix.server(), "--timeout", "5"])
        .stdin("EHLO x.example.test\nMAIL FROM:<a@example.test>\nRCPT TO:<nobody@example.test>\n")
        .run();
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.stdout().contains("S: 550 5.1.1"), "{run:?}");
    // A server whose last word is a 4xx or a 5xx: 75 or 69, as send documents them.
    for (last, code) in [("451 4.3.0 not now", 75), ("554 5.3.0 no", 69)] {
        let server = FakeServer::start(move |peer| {
            peer.send(b"220 fake.example.test\r\n");
            assert_eq!(peer.line(), "NOOP");
            peer.send(b"250 ok\r\n");
            assert_eq!(peer.line(), "QUIT");
            peer.send(format!("{last}\r\n").as_bytes());
        });
        let run = postie(["talk", &server.server()]).stdin("NOOP\n").run().expect_code(code);
        assert!(run.stdout().contains(&format!("S: {last}")), "{run:?}");
    }
}

#[test]
fn talk_under_a_terminal_starts_tls_prompts_for_the_password_and_sends_a_message() {
    use rexpect::session::spawn_command;
    let postfix = postfix();
    let marker = marker("talk-pty");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_postie"));
    command.env_clear().env("TERM", "dumb").env("NO_COLOR", "1").args([
        "talk",
        &format!("127.0.0.1:{}", postfix.submission_port),
        "--ca-file",
        &postfix.ca_file(),
    ]);
    let mut session = spawn_command(command, Some(20_000)).expect("spawn postie talk under a pty");
    session.exp_string("S: 220 ").unwrap();
    session.send_line("EHLO client.example.test").unwrap();
    session.exp_string("STARTTLS").unwrap();
    session.send_line("STARTTLS").unwrap();
    session.exp_string("TLS established").unwrap();
    session.exp_string("postie[tls]> ").unwrap();
    session.send_line("EHLO client.example.test").unwrap();
    session.exp_string("AUTH").unwrap();
    session.send_line("AUTH PLAIN").unwrap();
    session.exp_string("Username: ").unwrap();
    session.send_line("bob").unwrap();
    session.exp_string("Password: ").unwrap();
    session.send_line(SASL_PASSWORD).unwrap();
    session.exp_string("235 ").unwrap();
    session.send_line("MAIL FROM:<alice@example.test>").unwrap();
    session.exp_string("250 2.1.0").unwrap();
    session.send_line("RCPT TO:<bob@example.test>").unwrap();
    session.exp_string("250 2.1.5").unwrap();
    session.send_line("DATA").unwrap();
    session.exp_string("354 ").unwrap();
    session.send_line(&format!("Subject: {marker}")).unwrap();
    session.send_line("").unwrap();
    session.send_line(&marker).unwrap();
    session.send_line(".").unwrap();
    session.exp_string("queued").unwrap();
    session.send_control('d').unwrap();
    let screen = session.exp_eof().unwrap();
    assert!(screen.contains("221"), "{screen}");
    let delivered = postfix.delivered("bob", &marker);
    assert!(String::from_utf8_lossy(&delivered).contains(&marker));
    // Neither the password nor its base64 form ever reached the screen.
    let all = screen.to_string();
    assert!(!all.contains(SASL_PASSWORD), "{all}");
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("\0bob\0{SASL_PASSWORD}"));
    assert!(!all.contains(&encoded), "{all}");
}

// ---- script -----------------------------------------------------------------------------------------------

#[test]
fn the_example_scripts_run_against_postfix() {
    let postfix = postfix();
    let submission = format!("127.0.0.1:{}", postfix.submission_port);
    let run = postie(["script", &repository("examples/scripts/submission.postie"), "--server", &submission])
        .env("POSTIE_PASSWORD", SASL_PASSWORD)
        .args(["--ca-file", &postfix.ca_file()])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("S~ 235 "), "{run:?}");
    assert!(!run.stdout().contains(SASL_PASSWORD));
    postfix.delivered("bob", "this message was sent by examples/scripts/submission.postie");
    let run = postie(["script", &repository("examples/scripts/pipelining.postie"), "--server", &postfix.server()])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("S: 354 "), "{run:?}");
    let delivered = postfix.delivered("bob", "Sent with send-raw and data-raw.");
    assert!(String::from_utf8_lossy(&delivered).contains("\n.a line that starts with a dot\n"));
}

fn script(name: &str, text: &str) -> String {
    let path = scratch_dir("scripts").join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_failed_expectation_names_its_line_and_exits_1() {
    let postfix = postfix();
    let file = script(
        "refused.postie",
        "connect\nexpect 220\nsend EHLO client.example.test\nexpect 250\nsend MAIL FROM:<a@example.test>\nexpect 250\n\
         send RCPT TO:<nobody@example.test>\nexpect 250\n",
    );
    let run = postie(["script", &file, "--server", &postfix.server()]).run().expect_code(1);
    let error = run.stderr();
    assert!(error.contains("refused.postie:8: expected 250, got 550 5.1.1"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

#[test]
fn an_expected_reply_that_never_comes_fails_by_the_timeout() {
    let postfix = postfix();
    let file = script("silent.postie", "connect\nexpect 220\nexpect 250\n");
    let started = std::time::Instant::now();
    let run = postie(["script", &file, "--server", &postfix.server(), "--timeout", "1"]).run().expect_code(1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(run.stderr().contains("silent.postie:3: expected 250, but"), "{run:?}");
    assert!(run.stderr().contains("no reply from the server within 1s"), "{run:?}");
}

#[test]
fn a_malformed_script_is_refused_before_connecting() {
    let file = script("bad.postie", "connect\nsned EHLO x\n");
    let run = postie(["script", &file, "--server", "127.0.0.1:1"]).run().expect_code(64);
    assert!(run.stderr().contains("bad.postie: line 2: unknown statement \"sned\""), "{run:?}");
}

// ---- smuggle ----------------------------------------------------------------------------------------------

#[test]
fn smuggle_finds_the_variants_postfix_honours_without_forbid_bare_newline() {
    let postfix = postfix();
    let open = postie(["smuggle", &postfix.server(), "--from", "alice@example.test", "--to", "bob@example.test"])
        .run()
        .expect_code(1);
    let table = open.stdout();
    let ended: Vec<&str> =
        table.lines().filter(|l| l.contains("ENDED the message")).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(ended, ["<LF>.<LF>", "<CR><LF>.<LF>", "<LF>.<CR><LF>"], "{table}");
    let strict = format!("127.0.0.1:{}", postfix.strict_newline_port);
    let closed =
        postie(["smuggle", &strict, "--from", "alice@example.test", "--to", "bob@example.test"]).run().expect_code(0);
    assert!(!closed.stdout().contains("ENDED"), "{closed:?}");
    assert_eq!(closed.stdout().lines().filter(|l| l.contains("not an end of data")).count(), 8, "{closed:?}");
}

#[test]
fn smuggle_reports_every_variant_a_server_honours() {
    // A server that takes any line holding the smuggled MAIL FROM as the end of the first message: every
    // variant "works" on it, so every one must be reported.
    let server = FakeServer::start(|peer| {
        peer.send(b"220 sloppy.example.test ESMTP\r\n");
        peer.reply("250-sloppy.example.test\r\n250 PIPELINING\r\n");
        for _ in 0..8 {
            peer.reply("250 ok\r\n");
            peer.reply("250 ok\r\n");
            peer.reply("354 go\r\n");
            while peer.next_line().is_some_and(|line| !line.contains("MAIL FROM")) {}
            peer.send(b"250 first message queued\r\n250 ok\r\n");
            assert!(peer.line().starts_with("RCPT TO"));
            peer.send(b"250 ok\r\n");
            assert_eq!(peer.line(), "DATA");
            peer.send(b"354 go\r\n");
            peer.until(".");
            peer.send(b"250 smuggled message queued\r\n");
        }
        peer.reply("221 bye\r\n");
    });
    let run = postie(["smuggle", &server.server(), "--from", "a@example.test", "--to", "b@example.test"])
        .run()
        .expect_code(1);
    assert_eq!(run.stdout().lines().filter(|l| l.contains("ENDED the message")).count(), 8, "{run:?}");
    assert!(run.stderr().contains("8 of 8 end-of-data variants ended the message"), "{run:?}");
}

// ---- LMTP, unix sockets, pipes ------------------------------------------------------------------------------

#[test]
fn send_over_lmtp_gets_one_reply_per_recipient() {
    let lmtp = lmtp();
    let marker = marker("lmtp");
    let run = postie([
        "send",
        "--lmtp",
        "--server",
        &format!("127.0.0.1:{}", lmtp.port),
        "--from",
        "carol@example.test",
        "--to",
        "alice@example.test",
        "--to",
        "nobody@example.test",
        "--to",
        "bob@example.test",
        "--subject",
        &marker,
        "--body",
        &marker,
        "--helo",
        "client.example.test",
    ])
    .run()
    .expect_code(3);
    let out = run.stdout();
    assert!(out.contains("C: LHLO client.example.test"), "{out}");
    assert!(out.contains("550 5.1.1"), "{out}");
    assert_eq!(out.matches("S: 250 2.0.0 <").count(), 2, "one reply per accepted recipient: {out}");
    lmtp.delivered("alice", &marker);
    lmtp.delivered("bob", &marker);
}

#[test]
fn send_over_a_unix_socket_and_talk_over_one() {
    let lmtp = lmtp();
    let marker = marker("lmtp-unix");
    let server = format!("unix:{}", lmtp.socket.display());
    postie(["send", "--lmtp", "--server", &server, "--from", "carol@example.test", "--to", "bob@example.test"])
        .args(["--subject", &marker, "--body", &marker, "--helo", "client.example.test"])
        .run()
        .expect_code(0);
    lmtp.delivered("bob", &marker);
    let run = postie(["talk", &server, "--lmtp"]).stdin("LHLO client.example.test\nQUIT\n").run().expect_code(0);
    assert!(run.stdout().contains("S: 250-"), "{run:?}");
}

#[test]
fn send_through_sendmail_bs_over_a_pipe() {
    let postfix = postfix();
    let marker = marker("pipe");
    postie(["send", "--pipe", &postfix.sendmail_pipe_command(), "--from", "alice@example.test"])
        .args(["--to", "bob@example.test", "--subject", &marker, "--body", &marker, "--helo", "client.example.test"])
        .run()
        .expect_code(0);
    let delivered = postfix.delivered("bob", &marker);
    assert!(first_received(&delivered).contains("from userid"), "{}", first_received(&delivered));
}

#[test]
fn a_pipe_command_that_exits_at_once_is_a_clear_error() {
    let run = postie(["send", "--pipe", "exit 3", "--from", "a@example.test", "--to", "b@example.test"])
        .run()
        .expect_code(75);
    let error = run.stderr();
    assert!(error.contains("--pipe \"exit 3\"") && error.contains("exited with status 3"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

// ---- XCLIENT and PROXY --------------------------------------------------------------------------------------

#[test]
fn xclient_makes_postfix_see_the_forged_client() {
    let postfix = postfix();
    let marker = marker("xclient-send");
    let server = format!("127.0.0.1:{}", postfix.xclient_port);
    let run = postie(["send", "--server", &server, "--from", "alice@example.test", "--to", "bob@example.test"])
        .args(["--subject", &marker, "--body", &marker, "--helo", "client.example.test"])
        .args(["--xclient", "ADDR=203.0.113.9", "--xclient", "NAME=forged.example.test"])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("C: XCLIENT ADDR=203.0.113.9 NAME=forged.example.test"), "{run:?}");
    let received = first_received(&postfix.delivered("bob", &marker));
    assert!(received.contains("forged.example.test [203.0.113.9]"), "{received}");
    // A server that does not offer XCLIENT to this client: refused before MAIL, exit 69.
    let refused =
        postie(["send", "--server", &postfix.server(), "--from", "a@example.test", "--to", "bob@example.test"])
            .args(["--xclient", "ADDR=203.0.113.9"])
            .run()
            .expect_code(69);
    assert!(refused.stderr().contains("does not offer XCLIENT"), "{refused:?}");
}

#[test]
fn proxy_headers_make_postfix_see_the_proxied_client() {
    let postfix = postfix();
    let server = format!("127.0.0.1:{}", postfix.proxy_port);
    for (version, source) in [("v1", "203.0.113.7"), ("v2", "203.0.113.8")] {
        let marker = marker(&format!("proxy-send-{version}"));
        postie(["send", "--server", &server, "--from", "alice@example.test", "--to", "bob@example.test"])
            .args(["--subject", &marker, "--body", &marker])
            .args(["--proxy-protocol", version, "--proxy-source", &format!("{source}:40000")])
            .run()
            .expect_code(0);
        let received = first_received(&postfix.delivered("bob", &marker));
        assert!(received.contains(&format!("[{source}]")), "{version}: {received}");
    }
}

#[test]
fn malformed_protocol_flags_are_one_line_usage_errors() {
    for (flags, expected) in [
        (vec!["--xclient", "ADDR"], "invalid --xclient"),
        (vec!["--xclient", "COLOR=red"], "not an XCLIENT attribute"),
        (vec!["--proxy-protocol", "v1", "--proxy-source", "203.0.113.7"], "invalid --proxy-source"),
        (vec!["--server", "unix:"], "unix: needs the socket's path"),
    ] {
        let mut args = vec!["send", "--from", "a@example.test", "--to", "b@example.test"];
        args.extend(&flags);
        if !flags.contains(&"--server") {
            args.extend(["--server", "127.0.0.1:1"]);
        }
        let run = postie(&args).run().expect_code(64);
        assert!(run.stderr().contains(expected), "{flags:?}: {run:?}");
        assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    }
}

#[test]
fn script_and_talk_speak_lmtp_and_xclient_too() {
    // script --lmtp against Dovecot: LHLO, and after the message one reply per accepted recipient.
    let lmtp = lmtp();
    let marker = marker("script-lmtp");
    let file = script(
        "lmtp.postie",
        &format!(
            "connect\nexpect 220\nsend LHLO client.example.test\nexpect 250\nsend MAIL FROM:<carol@example.test>\n\
             expect 250\nsend RCPT TO:<alice@example.test>\nexpect 250\nsend RCPT TO:<bob@example.test>\nexpect 250\n\
             send DATA\nexpect 354\ndata-raw \"Subject: {marker}\\r\\n\\r\\n{marker}\\r\\n.\\r\\n\"\n\
             expect 250 /alice@example.test/\nexpect 250 /bob@example.test/\nsend QUIT\nexpect 221\n"
        ),
    );
    postie(["script", &file, "--server", &format!("127.0.0.1:{}", lmtp.port), "--lmtp"]).run().expect_code(0);
    lmtp.delivered("alice", &marker);
    lmtp.delivered("bob", &marker);

    // script --xclient: postie says EHLO and XCLIENT at connect; the script reads the new greeting.
    let postfix = postfix();
    let marker = crate::harness::marker("script-xclient");
    let message = scratch_dir("scripts").join("xclient.eml");
    fs::write(&message, format!("Subject: {marker}\n\n{marker}\n")).unwrap();
    let file = script(
        "xclient.postie",
        &format!(
            "connect\nexpect 220\nsend EHLO client.example.test\nexpect 250\nsend MAIL FROM:<alice@example.test>\n\
             expect 250\nsend RCPT TO:<bob@example.test>\nexpect 250\nsend DATA\nexpect 354\ndata {}\nexpect 250\n\
             send QUIT\nexpect 221\n",
            message.display()
        ),
    );
    let server = format!("127.0.0.1:{}", postfix.xclient_port);
    postie(["script", &file, "--server", &server, "--xclient", "ADDR=203.0.113.10", "--xclient", "NAME=[UNAVAILABLE]"])
        .run()
        .expect_code(0);
    let received = first_received(&postfix.delivered("bob", &marker));
    assert!(received.contains("[203.0.113.10]"), "{received}");

    // talk: DATA < PATH sends the file as the message.
    let marker = crate::harness::marker("talk-data-file");
    let message = scratch_dir("scripts").join("talk.eml");
    fs::write(&message, format!("Subject: {marker}\n\n{marker}\n.a dot line\n")).unwrap();
    let commands = format!(
        "EHLO client.example.test\nMAIL FROM:<alice@example.test>\nRCPT TO:<bob@example.test>\nDATA < {}\nQUIT\n",
        message.display()
    );
    let run = postie(["talk", &postfix.server()]).stdin(commands).run().expect_code(0);
    assert!(run.stdout().contains("queued"), "{run:?}");
    let delivered = String::from_utf8_lossy(&postfix.delivered("bob", &marker)).into_owned();
    assert!(delivered.contains("\n.a dot line\n"), "{delivered}");
}
