//! Diagnostics: probe, explanations, quit-after/drop-after, timing, colour and JSON Lines.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::harness::{dns, marker, postfix, postie, FakeServer, Run};

/// A scripted server that waits `delay` before its greeting, then answers a probe with --rcpt.
fn slow_greeter(address: SocketAddr, delay: Duration) -> FakeServer {
    FakeServer::start_on(address, move |peer| {
        sleep(delay);
        peer.send(b"220 slow.probe.test ESMTP\r\n");
        peer.reply("250-slow.probe.test\r\n250 PIPELINING\r\n");
        peer.reply("250 2.1.0 ok\r\n");
        peer.reply("250 2.1.5 ok\r\n");
        peer.reply("250 2.0.0 reset\r\n");
        peer.reply("221 2.0.0 bye\r\n");
    })
}

fn probe(extra: &[&str]) -> (Run, Duration, Vec<String>) {
    // The probe tests share 127.0.0.9's port: one at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let postfix = postfix();
    let slow = slow_greeter(SocketAddr::new("127.0.0.9".parse().unwrap(), postfix.probe_port), Duration::from_secs(2));
    let mut args = vec![
        "probe".to_string(),
        "probe.test".into(),
        "--dns-server".into(),
        dns().address(),
        "--port".into(),
        postfix.probe_port.to_string(),
        "--ca-file".into(),
        postfix.ca_file(),
        "--rcpt".into(),
        "bob@example.test".into(),
        "--helo".into(),
        "client.example.test".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let started = Instant::now();
    let run = postie(&args).run();
    let elapsed = started.elapsed();
    // Wait for the scripted server to finish, so that the next probe can take its address.
    let received = slow.received();
    (run, elapsed, received)
}

#[test]
fn probe_reports_every_mx_in_parallel() {
    let (run, elapsed, slow) = probe(&[]);
    let run = run.expect_code(75);
    eprintln!("probe of 4 hosts, one with a 2 s greeting delay, took {elapsed:?}");
    // Four hosts, one of which waits 2 s before its greeting: about 2 s in all, not the sum.
    assert!(elapsed < Duration::from_millis(3500), "took {elapsed:?}");
    let out = run.stdout();
    let table = &out[out.find("HOST ").expect("summary table")..];
    let row = |host: &str| {
        table.lines().find(|l| l.starts_with(host)).unwrap_or_else(|| panic!("no row for {host}\n{out}")).to_string()
    };
    assert!(row("good.probe.test").contains("TLS 1.3") && row("good.probe.test").ends_with("warning"), "{out}");
    assert!(row("expired.probe.test").ends_with("TLS problem"), "{out}");
    assert!(row("dead.probe.test").ends_with("unreachable"), "{out}");
    assert!(row("slow.probe.test").ends_with("TLS problem"), "{out}");
    for expected in [
        "MX 10 good.probe.test 127.0.0.6:",
        "  TLS: TLS 1.3, TLS13_",
        "; certificate verified, 8",
        "  RCPT TO: 250 2.1.5 Ok",
        "    PIPELINING: commands may be sent in batches (RFC 2920)",
        "  warning: reverse DNS localhost does not match the server's name mx.postie.test",
        "certificate does not verify: certificate expired 3 days ago",
        "  unreachable: no connection: connection refused",
        "  warning: greeting delayed by 2.",
        "  TLS problem: does not offer STARTTLS: mail to it travels in clear text",
    ] {
        assert!(out.contains(expected), "missing {expected:?}\n{out}");
    }
    assert!(!out.contains("C: EHLO"), "no transcript without -v");
    assert_eq!(slow, ["EHLO client.example.test", "MAIL FROM:<>", "RCPT TO:<bob@example.test>", "RSET", "QUIT"]);
}

#[derive(Debug, Deserialize)]
struct ProbeLine {
    #[serde(rename = "type")]
    kind: String,
    host: Option<String>,
    verdict: Option<String>,
    connect_ms: Option<f64>,
    greeting_ms: Option<f64>,
    days_left: Option<i64>,
    exit_code: Option<u8>,
}

#[test]
fn probe_json_and_verbose() {
    let (run, _, _) = probe(&["--json"]);
    let run = run.expect_code(75);
    let lines: Vec<ProbeLine> = run.stdout().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let probes: Vec<&ProbeLine> = lines.iter().filter(|l| l.kind == "probe").collect();
    assert_eq!(probes.len(), 4);
    let good = probes.iter().find(|p| p.host.as_deref() == Some("good.probe.test")).unwrap();
    assert_eq!(good.verdict.as_deref(), Some("warning"));
    assert!(good.connect_ms.is_some() && good.greeting_ms.is_some() && good.days_left.unwrap() >= 88);
    let slow = probes.iter().find(|p| p.host.as_deref() == Some("slow.probe.test")).unwrap();
    assert!(slow.greeting_ms.unwrap() >= 1900.0, "{slow:?}");
    assert_eq!(lines.last().unwrap().kind, "summary");
    assert_eq!(lines.last().unwrap().exit_code, Some(75));

    let (run, _, _) = probe(&["-v"]);
    assert!(run.stdout().contains("C: STARTTLS\nS: 220 2.0.0 Ready to start TLS\n"), "{run:?}");
    assert!(run.stdout().contains("C~ RCPT TO:<bob@example.test>\nS~ 250 2.1.5 Ok\n"), "{run:?}");
}

#[test]
fn quit_after_every_step_sends_nothing() {
    let postfix = postfix();
    let steps = [
        ("connect", "C: QUIT"),
        ("banner", "S: 220 mx.postie.test ESMTP Postfix"),
        ("ehlo", "S: 250 CHUNKING"),
        ("tls", "S~ 250 CHUNKING"),
        ("auth", "S~ 235 2.7.0 Authentication successful"),
        ("mail", "C~ MAIL FROM:<a@example.test>"),
        ("rcpt", "C~ RCPT TO:<bob@example.test>"),
    ];
    for (step, last_step_line) in steps {
        let mark = marker(&format!("quit-{step}"));
        let run = postie([
            "send",
            "--server",
            &format!("127.0.0.1:{}", postfix.submission_port),
            "--ca-file",
            &postfix.ca_file(),
            "--user",
            "bob",
            "--password-env",
            "PW",
            "--from",
            "a@example.test",
            "--to",
            "bob@example.test",
            "--body",
            &mark,
            "--quit-after",
            step,
        ])
        .env("PW", crate::harness::SASL_PASSWORD)
        .run()
        .expect_code(0);
        let out = run.stdout();
        assert!(out.contains(last_step_line), "{step}: {last_step_line:?}\n{run:?}");
        assert!(out.contains("QUIT"), "{step}\n{run:?}");
        let before_tls = ["connect", "banner", "ehlo"].contains(&step);
        assert_eq!(out.contains("C: STARTTLS"), !before_tls, "{step}: STARTTLS only from the tls step on\n{run:?}");
        assert!(!out.contains("DATA"), "{step}\n{run:?}");
        assert!(out.contains(&"* stopped after ".to_string()), "{step}\n{run:?}");
        postfix.assert_nothing_sent(&run, "bob", &mark);
    }
    // The classic deliverability check, quietly, by exit code.
    let check =
        |to: &str| postie(["send", "-q", "--server", &postfix.server(), "--to", to, "--quit-after", "rcpt"]).run();
    assert_eq!(check("bob@example.test").code(), 0);
    assert_eq!(check("nobody@example.test").code(), 69);
    assert_eq!(check("someone@elsewhere.test").code(), 75);
}

#[test]
fn drop_after_data_delivers_nothing() {
    let postfix = postfix();
    let mark = marker("drop-data");
    let run = postie([
        "send",
        "--server",
        &postfix.server(),
        "--to",
        "bob@example.test",
        "--body",
        &mark,
        "--drop-after",
        "data",
    ])
    .run()
    .expect_code(0);
    let out = run.stdout();
    assert!(
        out.contains("S: 354 End data with <CR><LF>.<CR><LF>\n* closing the connection without QUIT, as asked\n"),
        "{run:?}"
    );
    assert!(!out.contains("C: QUIT") && !out.contains("<message:"), "{run:?}");
    // postie sent DATA: wait until Postfix is done with the session before looking in the Maildir.
    postfix.assert_not_delivered(&run, "bob", &mark);
    let run = postie(["send", "--server", &postfix.server(), "--to", "b@example.test", "--quit-after", "data"])
        .run()
        .expect_code(64);
    assert!(run.stderr().contains("--quit-after data is not a step"), "{run:?}");
}

#[derive(Debug, Deserialize)]
struct EventLine {
    #[serde(rename = "type")]
    kind: String,
    elapsed_ms: f64,
    line: Option<serde_json::Value>,
    code: Option<u16>,
    enhanced: Option<String>,
    lines: Option<Vec<serde_json::Value>>,
    tls: Option<bool>,
    status: Option<String>,
    exit_code: Option<u8>,
    delivered: Option<usize>,
    days_left: Option<i64>,
    version: Option<String>,
}

fn events(run: &Run) -> Vec<EventLine> {
    run.stdout().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn json_lines_cover_every_event_type() {
    let postfix = postfix();
    let mut seen = BTreeSet::new();
    // Routed over DNS, first MX dead: lookups, connection attempts, moving on; a refused recipient.
    let mark = marker("json-route");
    let run = postie([
        "send",
        "--json",
        "--dns-server",
        &dns().address(),
        "--port",
        &postfix.port.to_string(),
        "--to",
        "bob@fallback.test",
        "--to",
        "nobody@fallback.test",
        "--body",
        &mark,
        "--timing",
    ])
    .run()
    .expect_code(3);
    let lines = events(&run);
    assert!(lines.windows(2).all(|w| w[0].elapsed_ms <= w[1].elapsed_ms));
    let refused = lines.iter().find(|l| l.kind == "reply" && l.code == Some(550)).unwrap();
    assert_eq!(refused.enhanced.as_deref(), Some("5.1.1"));
    assert!(refused.lines.as_ref().unwrap()[0].as_str().unwrap().starts_with("550 5.1.1 <nobody@fallback.test>"));
    let summary = lines.last().unwrap();
    assert_eq!((summary.kind.as_str(), summary.delivered, summary.exit_code), ("summary", Some(1), Some(3)));
    assert!(lines.iter().any(|l| l.kind == "recipient" && l.status.as_deref() == Some("refused")));
    seen.extend(lines.iter().map(|l| l.kind.clone()));
    postfix.delivered("bob", &mark);

    // STARTTLS with --show-data: the TLS session, certificates, encrypted lines, the data lines.
    let mark = marker("json-tls");
    let run = postie([
        "send",
        "--json",
        "--server",
        &format!("localhost:{}", postfix.starttls_port),
        "--tls-verify",
        "report",
        "--to",
        "bob@example.test",
        "--body",
        &mark,
        "--show-data",
    ])
    .run()
    .expect_code(0);
    let lines = events(&run);
    assert!(lines.iter().any(|l| l.kind == "tls" && l.version.as_deref() == Some("TLS 1.3")));
    assert!(lines.iter().any(|l| l.kind == "certificate" && l.days_left.unwrap_or(0) >= 88));
    assert!(lines.iter().any(|l| l.kind == "sent"
        && l.tls == Some(true)
        && l.line.as_ref().unwrap().as_str().unwrap().starts_with("MAIL FROM")));
    seen.extend(lines.iter().map(|l| l.kind.clone()));
    postfix.delivered("bob", &mark);

    let expected = [
        "certificate",
        "closed",
        "connected",
        "connecting",
        "data",
        "data_line",
        "info",
        "lookup",
        "moved_on",
        "recipient",
        "reply",
        "sent",
        "step",
        "summary",
        "tls",
        "warning",
    ];
    assert_eq!(seen.iter().map(String::as_str).collect::<Vec<_>>(), expected);
}

#[derive(Debug, Deserialize)]
struct RouteLine {
    #[serde(rename = "type")]
    kind: String,
    domain: Option<String>,
    hosts: Option<Vec<serde_json::Value>>,
    problem: Option<serde_json::Value>,
    exit_code: Option<u8>,
}

#[test]
fn mx_json() {
    let run =
        postie(["mx", "--json", "--dns-server", &dns().address(), "pref.test", "nullmx.test"]).run().expect_code(69);
    let lines: Vec<RouteLine> = run.stdout().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0].domain.as_deref(), Some("pref.test"));
    let hosts = lines[0].hosts.as_ref().unwrap();
    assert_eq!(hosts[0]["name"], "mx1.pref.test");
    assert_eq!(hosts[0]["preference"], 10);
    assert_eq!(hosts[0]["addresses"][0]["ip"], "127.0.0.2");
    assert_eq!(lines[1].problem.as_ref().unwrap()["permanent"], true);
    assert_eq!((lines[2].kind.as_str(), lines[2].exit_code), ("summary", Some(69)));
}

#[test]
fn colour_timing_and_explain() {
    let postfix = postfix();
    let args = |extra: &[&str]| {
        let mut all = vec![
            "send",
            "--server",
            &*Box::leak(postfix.server().into_boxed_str()),
            "--to",
            "nobody@example.test",
            "--body",
            "x",
        ];
        all.extend_from_slice(extra);
        all.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let plain = postie(args(&[])).run().expect_code(69);
    assert!(!plain.stdout().contains('\x1b'), "no colour in a pipe");
    let coloured = postie(args(&["--color", "always"])).run().expect_code(69);
    assert!(coloured.stdout().contains("\x1b[31mS: 550 5.1.1"), "{coloured:?}");
    assert!(coloured.stdout().contains("\x1b[36mC: EHLO"), "{coloured:?}");
    let never = postie(args(&["--color", "never"])).env("NO_COLOR", "1").run().expect_code(69);
    assert!(!never.stdout().contains('\x1b'));

    let timed = postie(args(&["--timing"])).run().expect_code(69);
    for line in timed.stdout().lines() {
        assert!(line.starts_with('[') && line.contains(" ms"), "{line}");
    }
    assert!(timed.stdout().contains("* connect took "), "{timed:?}");
    assert!(
        timed.stdout().lines().any(|l| l.contains(" ms +") && l.contains("] S: 250 2.1.0 Ok")),
        "reply waits\n{timed:?}"
    );

    let explained = postie(args(&["--explain"])).run().expect_code(69);
    assert!(explained.stdout().contains("*   SIZE: messages up to 104.9 MB (RFC 1870)"), "{explained:?}");
    assert!(
        explained.stdout().contains("* 250 2.1.0: success: requested action completed; other address status"),
        "{explained:?}"
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let postfix = postfix();
    let mark = marker("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_postie"))
        .args(["send", "--server", &postfix.server(), "--to", "bob@example.test", "--body", &mark])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head -0`: the reader is gone before the first line
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    postfix.delivered("bob", &mark);
}

#[test]
fn bad_mx_and_probe_input() {
    let cases: [(&[&str], &str); 4] = [
        (&["mx", "bad..domain"], "postie: error: invalid domain: \"bad..domain\" is not a valid domain name"),
        (&["probe", "example.test", "--rcpt", "bob"], "postie: error: invalid --rcpt \"bob\": it has no @"),
        (&["probe", "example.test", "--from", "x"], "postie: error: invalid --from \"x\": it has no @"),
        (
            &["probe", "bad_host!"],
            "postie: error: invalid target \"bad_host!\": \"bad_host!\" is not a valid host name",
        ),
    ];
    for (args, message) in cases {
        let mut all = args.to_vec();
        all.extend(["--dns-server", "127.0.0.1:1"]);
        let run = postie(&all).run().expect_code(64);
        assert_eq!(run.stderr(), format!("{message}\n"), "{run:?}");
    }
}
