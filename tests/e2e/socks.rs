//! `--proxy`: sessions through real SOCKS5 proxies (Dante without authentication, microsocks with a user and
//! password) to the test Postfix, proven by the Maildir and by the proxy's own log.

use crate::harness::{
    dante, dns, free_port, marker, microsocks, postfix, postie, Run, PROXY_PASSWORD, PROXY_PASSWORD_ENCODED, PROXY_USER,
};

fn send(server: &str, proxy: &str, mark: &str) -> crate::harness::Postie {
    postie([
        "send",
        "--server",
        server,
        "--proxy",
        proxy,
        "--from",
        "alice@example.test",
        "--to",
        "bob@example.test",
        "--subject",
        mark,
        "--body",
        mark,
    ])
}

/// The error a run ended with: one line, `postie: error: …`.
fn one_line_error(run: &Run) -> String {
    let stderr = run.stderr();
    let lines: Vec<&str> = stderr.lines().filter(|line| line.starts_with("postie: error: ")).collect();
    assert_eq!(lines.len(), 1, "one error line\n{run:?}");
    lines[0].to_string()
}

/// Postie's transcript and errors never hold the proxy password, raw or encoded.
fn assert_no_password(run: &Run) {
    for secret in [PROXY_PASSWORD, PROXY_PASSWORD_ENCODED] {
        assert!(!run.stdout().contains(secret) && !run.stderr().contains(secret), "the password shows\n{run:?}");
    }
}

#[test]
fn danted_carries_the_message_and_logs_the_connection() {
    let postfix = postfix();
    let proxy = dante();
    let mark = marker("socks-dante");
    let run = send(&postfix.server(), &format!("socks5://{}", proxy.address()), &mark).run().expect_code(0);
    let out = run.stdout();
    let line = format!("* connecting to 127.0.0.1 port {} through SOCKS5 proxy {}\n", postfix.port, proxy.address());
    assert!(out.contains(&line), "{run:?}");
    assert!(!out.contains("* trying "), "no direct connection\n{run:?}");
    postfix.delivered("bob", &mark);
    // Dante logs each session as `CLIENT.PORT PROXY.PORT -> ... DESTINATION.PORT`: postie's end of the
    // connection is the client, and Postfix's listener the destination.
    let local = run.local_addresses()[0];
    let from = format!("127.0.0.1.{} 127.0.0.1.{} -> ", local.port(), proxy.port);
    let log = proxy.log();
    let session = log.lines().find(|l| l.contains(&from) && l.contains("tcp/connect")).unwrap_or_else(|| {
        panic!("danted logged no session from {local}\n{log}\n{run:?}");
    });
    assert!(session.contains(&format!("127.0.0.1.{}", postfix.port)), "{session}");
}

#[test]
fn socks5h_leaves_the_name_to_the_proxy() {
    let postfix = postfix();
    let proxy = microsocks();
    let credentials = format!("{PROXY_USER}:{PROXY_PASSWORD_ENCODED}");
    let server = format!("localhost:{}", postfix.port);
    let mark = marker("socks-remote-dns");
    let run = send(&server, &format!("socks5h://{credentials}@{}", proxy.address()), &mark).run().expect_code(0);
    let out = run.stdout();
    let line = format!(
        "* connecting to localhost port {} through SOCKS5 proxy {}, which resolves the name\n",
        postfix.port,
        proxy.address()
    );
    assert!(out.contains(&line), "{run:?}");
    assert!(!out.contains("* resolving localhost"), "postie looked the name up itself\n{run:?}");
    postfix.delivered("bob", &mark);
    // microsocks logs the destination as the client sent it: the name.
    assert!(proxy.log().contains(&format!(": connected to {server}")), "{}", proxy.log());
    // socks5://: postie resolves the name and the proxy gets the address.
    let mark = marker("socks-local-dns");
    let run =
        send(&server, &format!("socks5://{credentials}@{}", proxy.address()), &mark).args(["-4"]).run().expect_code(0);
    assert!(run.stdout().contains("* resolving localhost"), "{run:?}");
    let line = format!("* connecting to 127.0.0.1 port {} (localhost) through SOCKS5 proxy", postfix.port);
    assert!(run.stdout().contains(&line), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn tls_runs_over_the_proxy_and_checks_the_servers_name() {
    let postfix = postfix();
    let proxy = format!("socks5h://{}", dante().address());
    // The certificate names mx.postie.test: the name checked is the server's, not the proxy's.
    for (port, tls) in [(postfix.starttls_port, "required"), (postfix.smtps_port, "implicit")] {
        let mark = marker("socks-tls");
        let server = format!("mx.postie.test:{port}");
        let resolve = format!("mx.postie.test:{port}:127.0.0.1");
        let run = send(&server, &proxy, &mark)
            .args(["--resolve", &resolve, "--tls", tls, "--ca-file", &postfix.ca_file()])
            .run()
            .expect_code(0);
        let out = run.stdout();
        assert!(
            out.contains(&format!("* connecting to 127.0.0.1 port {port} (mx.postie.test) through SOCKS5")),
            "{run:?}"
        );
        assert!(out.contains("* TLS established"), "{run:?}");
        postfix.delivered("bob", &mark);
    }
}

#[test]
fn microsocks_with_a_user_and_password_delivers() {
    let postfix = postfix();
    let proxy = microsocks();
    let mark = marker("socks-auth");
    let url = format!("socks5h://{PROXY_USER}:{PROXY_PASSWORD_ENCODED}@{}", proxy.address());
    let run = send(&postfix.server(), &url, &mark).run().expect_code(0);
    assert_no_password(&run);
    postfix.delivered("bob", &mark);
    assert!(proxy.log().contains(&format!("connected to 127.0.0.1:{}", postfix.port)), "{}", proxy.log());
    // The password from a secret source instead of the URL.
    let mark = marker("socks-auth-env");
    let url = format!("socks5h://{PROXY_USER}@{}", proxy.address());
    let run = send(&postfix.server(), &url, &mark)
        .args(["--proxy-password", "env:PROXY_PW"])
        .env("PROXY_PW", PROXY_PASSWORD)
        .run()
        .expect_code(0);
    assert_no_password(&run);
    postfix.delivered("bob", &mark);
}

#[test]
fn a_wrong_proxy_password_is_an_authentication_failure() {
    let postfix = postfix();
    let proxy = microsocks();
    let mark = marker("socks-wrong-password");
    let url = format!("socks5h://{PROXY_USER}:wrong-{PROXY_PASSWORD_ENCODED}@{}", proxy.address());
    let run = send(&postfix.server(), &url, &mark).run().expect_code(77);
    let error = one_line_error(&run);
    assert!(error.contains(&format!("SOCKS5 proxy {} refused the user name and password", proxy.address())), "{run:?}");
    assert_no_password(&run);
    // No credentials at all: the proxy accepts no method postie offers.
    let run = send(&postfix.server(), &format!("socks5h://{}", proxy.address()), &mark).run().expect_code(77);
    assert!(one_line_error(&run).contains("requires authentication"), "{run:?}");
}

#[test]
fn what_the_proxy_cannot_reach_or_may_not_is_its_own_error() {
    let proxy = dante();
    let mark = marker("socks-refused");
    let url = format!("socks5://{}", proxy.address());
    // Nobody listens there: the proxy says so, in words, and it is temporary.
    let nobody = format!("127.0.0.1:{}", free_port("127.0.0.1"));
    let run = send(&nobody, &url, &mark).run().expect_code(75);
    let error = one_line_error(&run);
    assert!(error.contains("connection refused by the destination (SOCKS5 reply 0x05)"), "{run:?}");
    assert!(error.contains(&format!("SOCKS5 proxy {}", proxy.address())), "{run:?}");
    // The proxy's rules allow loopback destinations only: permanent.
    let run = send("192.0.2.1:25", &url, &mark).run().expect_code(69);
    assert!(one_line_error(&run).contains("connection not allowed by its rules (SOCKS5 reply 0x02)"), "{run:?}");
}

#[test]
fn a_proxy_that_does_not_listen_is_a_temporary_failure_naming_it() {
    let postfix = postfix();
    let proxy = format!("127.0.0.1:{}", free_port("127.0.0.1"));
    let mark = marker("socks-no-proxy");
    let run = send(&postfix.server(), &format!("socks5h://{proxy}"), &mark).run().expect_code(75);
    let error = one_line_error(&run);
    assert!(error.contains(&format!("SOCKS5 proxy {proxy} cannot be reached: connection refused")), "{run:?}");
}

#[test]
fn all_proxy_from_the_environment_and_how_to_bypass_it() {
    let postfix = postfix();
    let proxy = dante();
    let mark = marker("socks-env");
    let through = format!("through SOCKS5 proxy {}", proxy.address());
    let base = |mark: &str| {
        postie(["send", "--server", &postfix.server(), "--from", "a@example.test", "--to", "bob@example.test"])
            .args(["--body", mark])
            .env("ALL_PROXY", &format!("socks5h://{}", proxy.address()))
    };
    let run = base(&mark).run().expect_code(0);
    assert!(run.stdout().contains(&through), "{run:?}");
    postfix.delivered("bob", &mark);
    // --proxy '' turns it off, and so does NO_PROXY naming the server.
    for (extra, variable) in [(vec!["--proxy", ""], None), (vec![], Some(("NO_PROXY", "localhost,127.0.0.1")))] {
        let mark = marker("socks-env-off");
        let mut command = base(&mark).args(extra);
        if let Some((key, value)) = variable {
            command = command.env(key, value);
        }
        let run = command.run().expect_code(0);
        assert!(!run.stdout().contains(&through), "{run:?}");
        assert!(run.stdout().contains(&format!("* trying {}", postfix.server())), "{run:?}");
        postfix.delivered("bob", &mark);
    }
    // A malformed ALL_PROXY is named as such.
    let run = base(&mark).env("ALL_PROXY", "http://proxy.example.test:3128").run().expect_code(64);
    assert!(one_line_error(&run).starts_with("postie: error: invalid ALL_PROXY"), "{run:?}");
}

#[test]
fn mx_routing_talk_and_json_go_through_the_proxy() {
    let postfix = postfix();
    let proxy = dante();
    let url = format!("socks5://{}", proxy.address());
    let mark = marker("socks-mx");
    let run = postie(["send", "--dns-server", &dns().address(), "--port", &postfix.port.to_string()])
        .args(["--from", "a@example.test", "--to", "bob@pref.test", "--body", &mark, "--proxy", &url])
        .run()
        .expect_code(0);
    let line = format!("* connecting to 127.0.0.2 port {} (mx1.pref.test) through SOCKS5 proxy", postfix.port);
    assert!(run.stdout().contains(&line), "{run:?}");
    postfix.delivered("bob", &mark);
    let run = postie(["talk", &postfix.server(), "--proxy", &url]).stdin("EHLO x.example.test\n").run().expect_code(0);
    assert!(run.stdout().contains("through SOCKS5 proxy") && run.stdout().contains("S: 221 "), "{run:?}");
    let mark = marker("socks-json");
    let run =
        send(&postfix.server(), &format!("socks5h://{}", proxy.address()), &mark).args(["--json"]).run().expect_code(0);
    let proxy_line = run.stdout().lines().find(|l| l.contains(r#""type":"proxy""#)).map(str::to_string);
    let proxy_line = proxy_line.unwrap_or_else(|| panic!("no proxy event\n{run:?}"));
    assert!(proxy_line.contains(&format!(r#""proxy":"SOCKS5 proxy {}""#, proxy.address())), "{proxy_line}");
    assert!(proxy_line.contains(r#""proxy_resolves":false"#), "an address goes as an address: {proxy_line}");
    postfix.delivered("bob", &mark);
}

#[test]
fn malformed_proxy_urls_are_one_line_usage_errors() {
    let cases = [
        ("socks5://", "the proxy's host is missing"),
        ("socks5://host:99999", "\"99999\" is not a port number (1-65535)"),
        ("http://x", "http:// proxies are not supported"),
        ("socks5h://[::1", "a '[' without a closing ']'"),
        ("socks5h://user:hunter2@", "the proxy's host is missing"),
    ];
    for (url, reason) in cases {
        let run = send("127.0.0.1:25", url, "x").run().expect_code(64);
        let error = one_line_error(&run);
        assert!(error.starts_with("postie: error: invalid --proxy "), "{run:?}");
        assert!(error.contains(reason), "{url}: {run:?}");
        assert!(!run.stderr().contains("hunter2"), "the password shows\n{run:?}");
        assert_eq!(run.stdout(), "", "nothing was tried\n{run:?}");
    }
    // A user with no password, from neither the URL nor --proxy-password.
    let run = send("127.0.0.1:25", "socks5h://alice@127.0.0.1:1", "x").run().expect_code(64);
    assert_eq!(
        run.stderr(),
        "postie: error: invalid --proxy: the proxy user \"alice\" has no password: give USER:PASSWORD@ or \
         --proxy-password\n"
    );
    assert_eq!(run.stdout(), "", "nothing was tried\n{run:?}");
    // --proxy-password with no proxy: with --proxy '' and with no --proxy (nor ALL_PROXY) at all.
    let no_proxy = ["--server", "127.0.0.1:25", "--from", "alice@example.test", "--to", "bob@example.test"];
    for proxy in [&["--proxy", ""][..], &[]] {
        let run = postie(["send"])
            .args(no_proxy)
            .args(proxy)
            .args(["--body", "x", "--proxy-password", "env:X"])
            .env("X", "hunter2")
            .run()
            .expect_code(64);
        assert_eq!(run.stderr(), "postie: error: --proxy-password needs --proxy (or ALL_PROXY)\n", "{proxy:?}");
        assert_eq!(run.stdout(), "", "nothing was tried\n{run:?}");
    }
}
