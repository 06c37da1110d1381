//! Routing like an MTA: MX lookups against a real DNS server (dnsmasq), delivery to the real Postfix.

use std::net::{SocketAddr, UdpSocket};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::harness::{dns, marker, postfix, postie, FakeServer, Run};

/// `postie send` routed over the test DNS server to the test Postfix's port.
fn send_routed(args: &[&str]) -> Run {
    let mut all = vec!["send".to_string(), "--dns-server".into(), dns().address()];
    all.extend(["--port".to_string(), postfix().port.to_string(), "--from".into(), "a@example.test".into()]);
    all.extend(args.iter().map(|a| a.to_string()));
    postie(&all).run()
}

fn line_index(run: &Run, prefix: &str) -> usize {
    run.stdout().lines().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line {prefix:?}\n{run:?}"))
}

#[test]
fn preferred_mx_delivers() {
    let postfix = postfix();
    let mark = marker("pref");
    let run = send_routed(&["--to", "bob@pref.test", "--body", &mark]).expect_code(0);
    let out = run.stdout();
    assert!(
        out.contains("* looking up MX for pref.test\n* MX for pref.test: 10 mx1.pref.test, 20 mx2.pref.test\n"),
        "{run:?}"
    );
    assert!(out.contains(&format!("* trying 127.0.0.2:{} (mx1.pref.test)", postfix.port)), "{run:?}");
    assert!(!out.contains("mx2.pref.test:"), "the second MX was not needed\n{run:?}");
    assert!(out.contains("bob@pref.test: delivered by mx1.pref.test [127.0.0.2]: 250 2.0.0 Ok"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn dead_first_mx_falls_back_to_the_second() {
    let postfix = postfix();
    let mark = marker("fallback");
    let run = send_routed(&["--to", "bob@fallback.test", "--body", &mark]).expect_code(0);
    let port = postfix.port;
    let refused = line_index(&run, &format!("* 127.0.0.3:{port}: connection refused; moving on"));
    let second = line_index(&run, &format!("* trying 127.0.0.1:{port} (live.fallback.test)"));
    assert!(refused < second, "{run:?}");
    assert!(run.stdout().contains("bob@fallback.test: delivered by live.fallback.test [127.0.0.1]"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn implicit_mx_uses_the_domain_address() {
    let postfix = postfix();
    let mark = marker("implicit");
    let run = send_routed(&["--to", "bob@implicit.test", "--body", &mark]).expect_code(0);
    assert!(
        run.stdout().contains("* implicit.test has no MX records: delivering to its own address (implicit MX"),
        "{run:?}"
    );
    postfix.delivered("bob", &mark);
}

#[test]
fn null_mx_fails_permanently_without_connecting() {
    let run = send_routed(&["--to", "bob@nullmx.test", "--body", "x"]).expect_code(69);
    assert!(!run.stdout().contains("* trying"), "{run:?}");
    assert_eq!(
        run.stderr(),
        "postie: error: bob@nullmx.test: nullmx.test does not accept mail: it publishes a null MX (RFC 7505)\n"
    );
}

#[test]
fn nxdomain_fails_permanently() {
    let run = send_routed(&["--to", "bob@nowhere.test", "--body", "x"]).expect_code(69);
    assert_eq!(run.stderr(), "postie: error: bob@nowhere.test: domain nowhere.test does not exist (NXDOMAIN)\n");
}

#[test]
fn two_domains_two_sessions_one_summary() {
    let postfix = postfix();
    let mark = marker("two");
    let run = send_routed(&[
        "--to",
        "bob@pref.test",
        "--to",
        "carol@implicit.test",
        "--to",
        "dave@pref.test",
        "--body",
        &mark,
    ])
    .expect_code(0);
    let out = run.stdout();
    assert_eq!(out.matches("C: EHLO ").count(), 2, "{run:?}");
    assert_eq!(out.matches("C: DATA").count(), 2, "{run:?}");
    // One summary, recipients in the order given.
    assert_eq!(out.matches("* delivered to 3 of 3 recipients").count(), 1, "{run:?}");
    let summary = &out[out.find("* delivered to 3 of 3").unwrap()..];
    let order: Vec<usize> =
        ["bob@pref.test", "carol@implicit.test", "dave@pref.test"].iter().map(|r| summary.find(r).unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{summary}");
    for user in ["bob", "carol", "dave"] {
        postfix.delivered(user, &mark);
    }
}

#[test]
fn partial_across_domains() {
    let postfix = postfix();
    let mark = marker("partial-route");
    let run = send_routed(&["--to", "bob@pref.test", "--to", "bob@nullmx.test", "--body", &mark]).expect_code(3);
    assert!(run.stdout().contains("* delivered to 1 of 2 recipients"), "{run:?}");
    assert!(run.stdout().contains("*   bob@nullmx.test: failed: nullmx.test does not accept mail"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn address_families() {
    let postfix = postfix();
    let port = postfix.port;
    let mark = marker("v6only");
    let run = send_routed(&["-6", "--to", "bob@dual.test", "--body", &mark]).expect_code(0);
    assert!(run.stdout().contains("* mx.dual.test: ::1\n"), "{run:?}");
    assert!(run.stdout().contains(&format!("* trying [::1]:{port} (mx.dual.test)")), "{run:?}");
    postfix.delivered("bob", &mark);

    let mark = marker("v4only");
    let run = send_routed(&["-4", "--to", "bob@dual.test", "--body", &mark]).expect_code(0);
    assert!(run.stdout().contains("* mx.dual.test: 127.0.0.1\n"), "{run:?}");
    assert!(!run.stdout().contains("[::1]"), "{run:?}");
    postfix.delivered("bob", &mark);

    let mark = marker("both");
    let run = send_routed(&["--to", "bob@dual.test", "--body", &mark]).expect_code(0);
    assert!(run.stdout().contains("* mx.dual.test: ::1, 127.0.0.1\n"), "IPv6 first\n{run:?}");
    postfix.delivered("bob", &mark);

    let run = send_routed(&["-6", "--to", "bob@pref.test", "--body", "x"]).expect_code(75);
    assert!(run.stdout().contains("mx1.pref.test has no IPv6 address; trying the next host"), "{run:?}");
}

#[test]
fn bind_sets_the_local_address() {
    let postfix = postfix();
    let mark = marker("bind");
    let run = send_routed(&["--bind", "127.0.0.9", "--to", "bob@pref.test", "--body", &mark]).expect_code(0);
    assert!(run.stdout().contains(&format!("connected to 127.0.0.2:{} from 127.0.0.9:", postfix.port)), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn mx_that_is_an_alias_or_an_ip_is_reported_and_used() {
    let postfix = postfix();
    let mark = marker("alias");
    let run = send_routed(&["--to", "bob@alias.test", "--body", &mark]).expect_code(0);
    assert!(
        run.stdout().contains("* warning: the MX alias-mx.alias.test is an alias (CNAME) for real.alias.test"),
        "{run:?}"
    );
    postfix.delivered("bob", &mark);

    let mark = marker("iplit");
    let run = send_routed(&["--to", "bob@iplit.test", "--body", &mark]).expect_code(0);
    assert!(run.stdout().contains("* warning: the MX 127.0.0.1 is an IP address, not a host name"), "{run:?}");
    postfix.delivered("bob", &mark);
}

#[test]
fn a_dns_server_that_never_answers_is_a_temporary_failure() {
    // A UDP socket that receives queries and never replies.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let run = postie([
        "send",
        "--dns-server",
        &silent.local_addr().unwrap().to_string(),
        "--dns-timeout",
        "1",
        "--to",
        "bob@pref.test",
    ])
    .run()
    .expect_code(75);
    let elapsed = started.elapsed();
    eprintln!("a silent DNS server with --dns-timeout 1: postie gave up after {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(
        run.stderr(),
        "postie: error: bob@pref.test: cannot route pref.test: MX lookup for pref.test timed out after 1s\n"
    );
    assert!(!run.stdout().contains("* trying"), "never fall back to A records on a DNS error\n{run:?}");
}

#[test]
fn bad_dns_server_values() {
    for (value, reason) in [
        ("dns.example.test", "give the DNS server's IP address, not a name"),
        ("127.0.0.1:0", "\"0\" is not a port number (1-65535)"),
    ] {
        let run = postie(["send", "--dns-server", value, "--to", "b@example.test"]).run().expect_code(64);
        assert_eq!(run.stderr(), format!("postie: error: invalid --dns-server {value:?}: {reason}\n"));
    }
}

#[test]
fn mx_command_prints_the_route() {
    let run = postie(["mx", "--dns-server", &dns().address(), "pref.test", "implicit.test", "nullmx.test"])
        .run()
        .expect_code(69);
    assert_eq!(
        run.stdout(),
        "pref.test\n     10  mx1.pref.test\n         127.0.0.2\n     20  mx2.pref.test\n         127.0.0.1\n\
         implicit.test (no MX records: its own address is the implicit MX, RFC 5321 §5.1)\n      -  implicit.test\n         127.0.0.1\n\
         nullmx.test does not accept mail: it publishes a null MX (RFC 7505)\n"
    );
    postie(["mx", "--dns-server", &dns().address(), "pref.test"]).run().expect_code(0);
}

#[test]
fn mx_check_probes_every_address() {
    let postfix = postfix();
    let run = postie([
        "mx",
        "--check",
        "--dns-server",
        &dns().address(),
        "--port",
        &postfix.port.to_string(),
        "fallback.test",
    ])
    .run()
    .expect_code(0);
    let out = run.stdout();
    assert!(out.contains("         127.0.0.3        connection refused\n"), "{run:?}");
    let live = out.lines().find(|l| l.trim_start().starts_with("127.0.0.1")).unwrap();
    assert!(live.contains("ms: 220 mx.postie.test ESMTP Postfix"), "{run:?}");
}

#[test]
fn mx_check_runs_in_parallel() {
    // Two MX hosts whose servers each wait 1 s before greeting: about 1 s in all, not 2.
    let probe = std::net::TcpListener::bind("127.0.0.4:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let slow = |ip: &str| {
        FakeServer::start_on(SocketAddr::new(ip.parse().unwrap(), port), |peer| {
            sleep(Duration::from_secs(1));
            peer.send(b"220 slow but fine\r\n");
            peer.reply("221 bye\r\n");
        })
    };
    let (first, second) = (slow("127.0.0.4"), slow("127.0.0.5"));
    let started = Instant::now();
    let run = postie(["mx", "--check", "--dns-server", &dns().address(), "--port", &port.to_string(), "slow.test"])
        .run()
        .expect_code(0);
    let elapsed = started.elapsed();
    eprintln!("mx --check of 2 hosts that each wait 1 s: {elapsed:?}");
    assert_eq!(run.stdout().matches("220 slow but fine").count(), 2, "{run:?}");
    assert!(elapsed < Duration::from_millis(1800), "probes ran one after another: {elapsed:?}");
    assert_eq!(first.received(), ["QUIT"]);
    assert_eq!(second.received(), ["QUIT"]);
}

#[test]
fn servfail_is_temporary_and_never_falls_back_to_address_records() {
    // A DNS server that answers every query with SERVFAIL (RCODE 2), echoing the question.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = socket.local_addr().unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    std::thread::spawn(move || {
        let mut query = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut query) {
            let mut answer = query[..n].to_vec();
            answer[2] = 0x81 | (query[2] & 0x01); // QR, opcode 0, RD copied
            answer[3] = 0x82; // RA, RCODE 2 = SERVFAIL
            answer[6..12].fill(0); // no answer, authority or additional records
            let _ = socket.send_to(&answer, from);
        }
    });
    let run = postie(["send", "--dns-server", &address.to_string(), "--to", "bob@pref.test"]).run().expect_code(75);
    assert_eq!(
        run.stderr(),
        "postie: error: bob@pref.test: cannot route pref.test: MX lookup for pref.test failed: the DNS server answered \
         SERVFAIL\n"
    );
    assert!(!run.stdout().contains("* trying"), "{run:?}");
}

#[test]
fn a_busy_greeting_moves_on_to_the_next_mx() {
    let probe = std::net::TcpListener::bind("127.0.0.4:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let busy = FakeServer::start_on(SocketAddr::new("127.0.0.4".parse().unwrap(), port), |peer| {
        peer.send(b"421 4.3.2 s1 is busy, try later\r\n");
    });
    let good = FakeServer::start_on(SocketAddr::new("127.0.0.5".parse().unwrap(), port), |peer| {
        peer.send(b"220 s2 ready\r\n");
        peer.reply("250 s2\r\n");
        peer.accept_message("250 queued on s2\r\n");
    });
    let run = postie(["send", "--dns-server", &dns().address(), "--port", &port.to_string(), "--to", "bob@slow.test"])
        .run()
        .expect_code(0);
    let moved =
        line_index(&run, &format!("* 127.0.0.4:{port}: banner refused: 421 4.3.2 s1 is busy, try later; moving on"));
    assert!(moved < line_index(&run, &format!("* trying 127.0.0.5:{port} (s2.slow.test)")), "{run:?}");
    assert!(run.stdout().contains("bob@slow.test: delivered by s2.slow.test [127.0.0.5]: 250 queued on s2"), "{run:?}");
    assert!(busy.received().is_empty(), "no QUIT after a 421 greeting");
    assert!(good.received().contains(&"RCPT TO:<bob@slow.test>".to_string()));
}
