//! TLS and AUTH against the real Postfix (Dovecot SASL), and the STARTTLS injection from a scripted server.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::harness::{marker, postfix, postie, FakeServer, Run, SASL_PASSWORD, SASL_USER};

fn send(port: u16, extra: &[&str], mark: &str) -> Run {
    let mut args = vec!["send".to_string(), "--server".into(), format!("127.0.0.1:{port}")];
    args.extend(["--from", "a@example.test", "--to", "bob@example.test", "--body", mark].map(String::from));
    args.extend(extra.iter().map(|a| a.to_string()));
    postie(&args).env("POSTIE_TEST_PASSWORD", SASL_PASSWORD).run()
}

#[test]
fn starttls_verified_with_the_test_ca() {
    let postfix = postfix();
    let mark = marker("starttls");
    let run = send(postfix.starttls_port, &["--ca-file", &postfix.ca_file()], &mark).expect_code(0);
    let out = run.stdout();
    for expected in [
        "C: STARTTLS\nS: 220 2.0.0 Ready to start TLS\n* TLS established: TLS 1.3, cipher TLS13_",
        "* certificate 0: subject CN=mx.postie.test; issuer CN=postie test CA; names mx.postie.test, good.probe.test, \
         expired.probe.test, 127.0.0.1, ::1, mx.dane-ta.test, mx.sts-enforce.test, mx.sts-mismatch.test, \
         mx.sts-testing.test, mx.sts-wildcard.test, mx.sts-unreachable.test, mx.sts-badcert.test, \
         mx.sts-redirect.test, mx.sts-two-txt.test, mx.sts-huge.test; valid ",
        "* certificate verified for 127.0.0.1\nC~ EHLO ",
        "C~ MAIL FROM:<a@example.test> SIZE=",
        "S~ 250 2.1.0 Ok\nS~ 250 2.1.5 Ok\nS~ 354 ",
        // PIPELINING: QUIT rides in the same write as the final dot (RFC 2920); the replies follow in order.
        "C~ .\nC~ QUIT\nS~ 250 2.0.0 Ok: queued as ",
        "S~ 221 2.0.0 Bye\n",
    ] {
        assert!(out.contains(expected), "missing {expected:?}\n{run:?}");
    }
    assert!(out.contains(" (89 days left)") || out.contains(" (90 days left)"), "{run:?}");
    // Postfix records that the message came over TLS: "with ESMTPS".
    let delivered = String::from_utf8_lossy(&postfix.delivered("bob", &mark)).into_owned();
    assert!(delivered.contains(") with ESMTPS id "), "{delivered}");
}

#[test]
fn an_unknown_issuer_fails_verification() {
    let postfix = postfix();
    let mark = marker("untrusted");
    // --tls required means verified TLS (opportunistic TLS goes on with a warning: see below).
    let run = send(postfix.starttls_port, &["--tls", "required"], &mark).expect_code(4);
    assert_eq!(
        run.stderr(),
        "postie: error: 127.0.0.1: issuer not trusted: CN=postie test CA (not in webpki-roots, the system's CA store or any --ca-file)\n"
    );
    assert!(run.stdout().contains("* certificate 0: subject CN=mx.postie.test"), "the refused chain is shown\n{run:?}");
    assert!(!run.stdout().contains("MAIL FROM"), "{run:?}");
    postfix.assert_nothing_sent(&run, "bob", &mark);
}

#[test]
fn report_mode_goes_on_and_says_what_was_wrong() {
    let postfix = postfix();
    let mark = marker("report");
    let run = send(postfix.starttls_port, &["--tls-verify", "report"], &mark).expect_code(0);
    assert!(run.stdout().contains(
        "* warning: certificate does not verify: issuer not trusted: CN=postie test CA (not in webpki-roots, the system's CA store or any --ca-file) (--tls-verify report: going on)"
    ), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn insecure_goes_on_with_a_warning() {
    let postfix = postfix();
    let mark = marker("insecure");
    let run = send(postfix.starttls_port, &["-k"], &mark).expect_code(0);
    assert!(run.stderr().contains("postie: warning: certificates are not verified (--insecure)"), "{run:?}");
    assert!(run.stdout().contains("going on anyway (--insecure)"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn a_name_not_in_the_certificate_fails() {
    let postfix = postfix();
    let mark = marker("mismatch");
    let server = format!("localhost:{}", postfix.starttls_port);
    let run = postie([
        "send",
        "--server",
        &server,
        "--tls",
        "required",
        "--ca-file",
        &postfix.ca_file(),
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .run()
    .expect_code(4);
    assert_eq!(
        run.stderr(),
        "postie: error: localhost: name localhost is not in the certificate (it has: mx.postie.test, good.probe.test, \
         expired.probe.test, 127.0.0.1, ::1, mx.dane-ta.test, mx.sts-enforce.test, mx.sts-mismatch.test, \
         mx.sts-testing.test, mx.sts-wildcard.test, mx.sts-unreachable.test, mx.sts-badcert.test, \
         mx.sts-redirect.test, mx.sts-two-txt.test, mx.sts-huge.test)\n"
    );
    postfix.assert_nothing_sent(&run, "bob", &mark);
}

#[test]
fn an_expired_certificate_fails() {
    let postfix = postfix();
    let mark = marker("expired");
    let run = send(postfix.expired_port, &["--tls", "required", "--ca-file", &postfix.ca_file()], &mark).expect_code(4);
    let stderr = run.stderr();
    assert!(stderr.starts_with("postie: error: 127.0.0.1: certificate expired 3 days ago (on "), "{run:?}");
    assert!(run.stdout().contains("(expired 3 days ago)"), "{run:?}");
    postfix.assert_nothing_sent(&run, "bob", &mark);
}

#[test]
fn implicit_tls() {
    let postfix = postfix();
    let mark = marker("implicit-tls");
    let run = send(postfix.smtps_port, &["--tls", "implicit", "--ca-file", &postfix.ca_file()], &mark).expect_code(0);
    let out = run.stdout();
    let established = out.find("* TLS established").expect("TLS line");
    let banner = out.find("S~ 220 ").expect("encrypted banner");
    assert!(established < banner, "TLS comes before the first byte of SMTP\n{run:?}");
    assert!(!out.contains("STARTTLS") && !out.contains("\nC: ") && !out.contains("\nS: "), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn tls_required_but_not_offered() {
    let postfix = postfix();
    let mark = marker("required");
    let run = send(postfix.port, &["--tls", "required"], &mark).expect_code(4);
    assert_eq!(
        run.stderr(),
        "postie: error: 127.0.0.1 does not offer STARTTLS, and --tls required (the default on port 587) does not go on unencrypted\n"
    );
    assert!(run.stdout().ends_with("C: QUIT\nS: 221 2.0.0 Bye\n* connection closed\n"), "{run:?}");
    postfix.assert_nothing_sent(&run, "bob", &mark);
}

#[test]
fn tls_none_never_starts_tls() {
    let postfix = postfix();
    let mark = marker("none");
    let run = send(postfix.starttls_port, &["--tls", "none"], &mark).expect_code(0);
    assert!(!run.stdout().contains("C: STARTTLS"), "{run:?}");
    postfix.delivered("bob", &mark);
}

/// Every AUTH run's output, to check no secret leaked into any of it.
fn auth_runs() -> Vec<Run> {
    let postfix = postfix();
    let ca = postfix.ca_file();
    let submission = postfix.submission_port;
    let mut runs = Vec::new();
    for mechanism in ["plain", "login", "cram-md5"] {
        let mark = marker(&format!("auth-{mechanism}"));
        let run = send(
            submission,
            &["--ca-file", &ca, "--user", SASL_USER, "--password-env", "POSTIE_TEST_PASSWORD", "--auth", mechanism],
            &mark,
        )
        .expect_code(0);
        postfix.delivered("bob", &mark);
        runs.push(run);
    }
    runs
}

#[test]
fn auth_mechanisms_succeed_and_secrets_never_show() {
    let postfix = postfix();
    let mut runs = auth_runs();
    assert!(
        runs[0].stdout().contains("C~ AUTH PLAIN <redacted>\nS~ 235 2.7.0 Authentication successful\n"),
        "{:?}",
        runs[0]
    );
    assert!(runs[1].stdout().contains("C~ AUTH LOGIN\nS~ 334 VXNlcm5hbWU6\n"), "{:?}", runs[1]);
    assert!(runs[1].stdout().contains("C~ <redacted password>\nS~ 235 "), "{:?}", runs[1]);
    assert!(runs[2].stdout().contains("C~ AUTH CRAM-MD5\nS~ 334 "), "{:?}", runs[2]);
    assert!(runs[2].stdout().contains("C~ <redacted CRAM-MD5 response>\nS~ 235 "), "{:?}", runs[2]);

    // The strongest common mechanism by default: CRAM-MD5, which never sends the password.
    let mark = marker("auth-auto");
    let run = postie([
        "send",
        "--server",
        &format!("127.0.0.1:{}", postfix.submission_port),
        "--ca-file",
        &postfix.ca_file(),
        "--user",
        SASL_USER,
        "--password-env",
        "POSTIE_TEST_PASSWORD",
        "--to",
        "bob@example.test",
        "--body",
        &mark,
    ])
    .env("POSTIE_TEST_PASSWORD", SASL_PASSWORD)
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("C~ AUTH CRAM-MD5\n"), "{run:?}");
    runs.push(run);

    // Wrong password: the AUTH exit code, and the message names the refusal.
    let run = postie([
        "send",
        "--server",
        &format!("127.0.0.1:{}", postfix.submission_port),
        "--ca-file",
        &postfix.ca_file(),
        "--user",
        SASL_USER,
        "--password",
        "not-the-password",
        "--auth",
        "plain",
        "--to",
        "bob@example.test",
    ])
    .run()
    .expect_code(77);
    assert!(
        run.stderr().contains("postie: warning: --password can be seen by other users in the process list"),
        "{run:?}"
    );
    assert!(run.stderr().contains("postie: error: sending through 127.0.0.1:"), "{run:?}");
    assert!(run.stderr().contains(": authentication refused: 535 5.7.8 Error: authentication failed"), "{run:?}");
    assert!(!run.stdout().contains("not-the-password") && !run.stderr().contains("not-the-password\n"), "{run:?}");
    assert!(!run.stdout().contains(&BASE64.encode(format!("\0{SASL_USER}\0not-the-password"))), "{run:?}");

    // --show-secrets shows the exchange as sent.
    let mark = marker("show-secrets");
    let shown = send(
        postfix.submission_port,
        &[
            "--ca-file",
            &postfix.ca_file(),
            "--user",
            SASL_USER,
            "--password-env",
            "POSTIE_TEST_PASSWORD",
            "--auth",
            "plain",
            "--show-secrets",
        ],
        &mark,
    )
    .expect_code(0);
    assert!(
        shown.stdout().contains(&format!("C~ AUTH PLAIN {}", BASE64.encode(format!("\0{SASL_USER}\0{SASL_PASSWORD}")))),
        "{shown:?}"
    );

    let forbidden = [
        SASL_PASSWORD.to_string(),
        BASE64.encode(SASL_PASSWORD),
        BASE64.encode(format!("\0{SASL_USER}\0{SASL_PASSWORD}")),
    ];
    for run in &runs {
        for secret in &forbidden {
            assert!(
                !run.stdout().contains(secret.as_str()) && !run.stderr().contains(secret.as_str()),
                "{secret:?} leaked\n{run:?}"
            );
        }
    }
}

#[test]
fn plaintext_auth_is_refused_unless_allowed() {
    let postfix = postfix();
    let mark = marker("plain-auth");
    let args = ["--user", SASL_USER, "--password-env", "POSTIE_TEST_PASSWORD"];
    let run = send(postfix.plain_auth_port, &args, &mark).expect_code(77);
    assert_eq!(
        run.stderr(),
        "postie: error: not sending credentials to 127.0.0.1 over an unencrypted connection; use TLS (--tls required) or --allow-plaintext-auth\n"
    );
    assert!(!run.stdout().contains("C: AUTH"), "{run:?}");
    postfix.assert_nothing_sent(&run, "bob", &mark);

    let mut allowed = args.to_vec();
    allowed.push("--allow-plaintext-auth");
    let run = send(postfix.plain_auth_port, &allowed, &mark).expect_code(0);
    assert!(run.stdout().contains("C: AUTH CRAM-MD5\n"), "{run:?}");
    assert!(!run.stdout().contains(SASL_PASSWORD), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn auth_input_errors() {
    let cases: [(&[&str], &str); 4] = [
        (&["--password-env", "X"], "postie: error: --password-env needs --user: say who to authenticate as"),
        (&["--user", "bob", "--password-env", "POSTIE_UNSET_VARIABLE"], "postie: error: the environment variable POSTIE_UNSET_VARIABLE is not set"),
        (&["--user", "bob"], "postie: error: no password for --user bob: give --password-env, --password-file or --password (stdin is not a terminal, so postie cannot ask)"),
        (&["--user", "bob", "--password-env", "POSTIE_TEST_PASSWORD", "--auth", "xoauth2"], "postie: error: --auth XOAUTH2 needs a token: --oauth-token-env or --oauth-token-file"),
    ];
    for (args, message) in cases {
        let mut all = vec!["send", "--server", "127.0.0.1:1", "--to", "b@example.test"];
        all.extend_from_slice(args);
        let run = postie(&all).env("POSTIE_TEST_PASSWORD", "x").run().expect_code(64);
        assert_eq!(run.stderr(), format!("{message}\n"), "{run:?}");
    }
}

#[test]
fn starttls_response_injection_is_refused() {
    let server = FakeServer::start(|peer| {
        peer.send(b"220 fake ESMTP\r\n");
        peer.reply("250-fake\r\n250 STARTTLS\r\n");
        // The 220 and a forged reply in one write: the client has both before the handshake.
        peer.reply("220 2.0.0 go ahead\r\n250 2.1.0 injected\r\n");
        peer.drain();
    });
    let run = postie(["send", "--server", &server.server(), "--to", "b@example.test"]).run().expect_code(76);
    assert!(run.stderr().ends_with(
        "STARTTLS: protocol violation: the server sent 20 more bytes after its reply to STARTTLS (response injection); refusing to start TLS\n"
    ), "{run:?}");
    assert_eq!(server.received(), ["EHLO [127.0.0.1]", "STARTTLS"]);
}

#[test]
fn bearer_tokens_are_sent_and_redacted() {
    let token = "ya29.secret-token";
    let server = FakeServer::start(|peer| {
        peer.send(b"220 fake ESMTP\r\n");
        peer.reply("250-fake\r\n250 AUTH OAUTHBEARER XOAUTH2\r\n");
        peer.reply("235 2.7.0 ok\r\n");
        peer.accept_message("250 queued\r\n");
    });
    let address = server.address;
    let run = postie([
        "send",
        "--server",
        &server.server(),
        "--tls",
        "none",
        "--allow-plaintext-auth",
        "--user",
        "a@example.test",
        "--oauth-token-env",
        "POSTIE_TOKEN",
        "--to",
        "b@example.test",
    ])
    .env("POSTIE_TOKEN", token)
    .run()
    .expect_code(0);
    assert!(run.stdout().contains("C: AUTH OAUTHBEARER <redacted>\n"), "{run:?}");
    assert!(!run.stdout().contains(token) && !run.stderr().contains(token), "{run:?}");
    let received = server.received();
    let auth = received.iter().find(|l| l.starts_with("AUTH OAUTHBEARER ")).unwrap();
    let decoded = String::from_utf8(BASE64.decode(&auth["AUTH OAUTHBEARER ".len()..]).unwrap()).unwrap();
    assert_eq!(
        decoded,
        format!("n,a=a@example.test,\x01host=127.0.0.1\x01port={}\x01auth=Bearer {token}\x01\x01", address.port())
    );
}

#[test]
fn tls_file_errors_are_named() {
    let dir = crate::harness::scratch_dir("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "this is not a certificate\n").unwrap();
    let not_pem = not_pem.to_str().unwrap();
    let ca = crate::harness::postfix().ca_file();
    // A file that cannot be read is missing input (66), as for --data; one that holds no key or certificate
    // is bad input (65).
    let cases = [
        (
            vec!["--ca-file", "/nonexistent/ca.pem"],
            "postie: error: cannot read /nonexistent/ca.pem: No such file or directory",
            66,
        ),
        (
            vec!["--tls-cert", "/nonexistent/c.pem", "--tls-key", not_pem],
            "postie: error: cannot read /nonexistent/c.pem: No such file or directory",
            66,
        ),
        (vec!["--ca-file", not_pem], &*format!("postie: error: --ca-file {not_pem} holds no PEM certificate"), 65),
        (
            vec!["--tls-cert", not_pem, "--tls-key", not_pem],
            &*format!("postie: error: --tls-cert {not_pem} holds no PEM certificate"),
            65,
        ),
        (
            vec!["--tls-cert", &ca, "--tls-key", not_pem],
            &*format!("postie: error: --tls-key {not_pem} holds no PEM private key"),
            65,
        ),
    ];
    for (args, start, code) in cases {
        let mut all = vec!["send", "--server", "127.0.0.1:1", "--to", "b@example.test"];
        all.extend(args);
        let run = postie(&all).run().expect_code(code);
        assert!(run.stderr().starts_with(start), "{run:?}");
    }
}
