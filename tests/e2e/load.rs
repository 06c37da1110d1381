//! `postie load` against the test Postfix (deliveries counted in the Maildir by the run's header) and against
//! Postfix's smtp-sink (a fast real server that keeps nothing), for the rate, Ctrl-C and the report.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::harness::{free_port, postfix, postie, SASL_PASSWORD, SASL_USER};

/// The JSON report, as README documents it: decoding fails on a missing or an unknown field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Report {
    r#type: String,
    run: String,
    server: String,
    concurrency: u32,
    per_connection: u32,
    target_rate: Option<f64>,
    messages: u64,
    accepted: u64,
    refused: std::collections::BTreeMap<String, u64>,
    failed: std::collections::BTreeMap<String, u64>,
    sessions: u64,
    seconds: f64,
    rate: f64,
    interrupted: bool,
    stopped_by_errors: bool,
    steps: std::collections::BTreeMap<String, Latency>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Latency {
    count: u64,
    min_ms: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

fn report(stdout: &str) -> Report {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("the report does not decode: {e}\n{stdout}"))
}

/// Postfix's smtp-sink on a port of its own, killed when the test ends.
struct Sink {
    child: Child,
    port: u16,
}

impl Sink {
    fn start() -> Sink {
        let port = free_port("127.0.0.1");
        let mut command = Command::new("/usr/sbin/smtp-sink");
        // As root it must drop to a user of its own.
        if unsafe { libc::geteuid() } == 0 {
            command.args(["-u", "postfix"]);
        }
        let child = command
            .args([&format!("127.0.0.1:{port}"), "256"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start smtp-sink (scripts/test.sh installs postfix)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "smtp-sink does not listen on {port}");
            std::thread::yield_now();
        }
        Sink { child, port }
    }

    fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sequence numbers of the run's messages in `user`'s Maildir, once `expected` have arrived.
fn delivered_sequences(user: &str, run: &str, expected: usize) -> Vec<u64> {
    let folder = postfix().root.join("mail").join(user).join("new");
    let tag = format!("X-Postie-Load: {run}/");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found: Vec<u64> = fs::read_dir(&folder)
            .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
            .unwrap_or_default()
            .iter()
            .filter_map(|path| {
                let text = fs::read_to_string(path).ok()?;
                let at = text.find(&tag)? + tag.len();
                text[at..].split(['\r', '\n']).next()?.parse().ok()
            })
            .collect();
        if found.len() >= expected || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn load_delivers_exactly_n_messages_each_once() {
    let postfix = postfix();
    let server = format!("127.0.0.1:{}", postfix.port);
    let run = postie(["load", "--server", &server, "--to", "carol@example.test", "--from", "load@example.test"])
        .args(["--count", "30", "--concurrency", "3", "--per-connection", "4", "--json"])
        .run()
        .expect_code(0);
    let report = report(&run.stdout());
    assert_eq!((report.messages, report.accepted), (30, 30), "{run:?}");
    assert!(report.sessions >= 8, "4 messages per session at most: {report:?}");
    assert_eq!(report.steps["message"].count, 30);
    let sequences = delivered_sequences("carol", &report.run, 30);
    let unique: BTreeSet<u64> = sequences.iter().copied().collect();
    assert_eq!(sequences.len(), 30, "exactly 30 delivered: {sequences:?}");
    assert_eq!(unique, (0..30).collect::<BTreeSet<u64>>(), "each once");
}

#[test]
fn refused_recipients_are_counted_by_code() {
    let postfix = postfix();
    let server = format!("127.0.0.1:{}", postfix.port);
    let run = postie(["load", "--server", &server, "--to", "bob@example.test", "--to", "nobody@example.test"])
        .args(["--count", "5", "--per-connection", "5"])
        .run()
        .expect_code(1);
    let out = run.stdout();
    assert!(out.contains("accepted 0, refused 5 (550: 5), failed 0"), "{run:?}");
    // Within the limit of --max-errors, the same run passes.
    postie(["load", "--server", &server, "--to", "bob@example.test", "--to", "nobody@example.test"])
        .args(["--count", "3", "--max-errors", "3", "-q"])
        .run()
        .expect_code(0);
}

#[test]
fn rate_holds_within_five_percent_over_five_seconds() {
    let sink = Sink::start();
    let run = postie(["load", "--server", &sink.server(), "--to", "a@example.test", "--rate", "40/s"])
        .args(["--duration", "5s", "--concurrency", "4", "--json"])
        .run()
        .expect_code(0);
    let report = report(&run.stdout());
    assert_eq!(report.target_rate, Some(40.0));
    assert!((190..=210).contains(&report.messages), "200 messages ± 5%: {report:?}");
    assert!((4.75..=5.5).contains(&report.seconds), "{report:?}");
    assert_eq!(report.accepted, report.messages);
}

#[test]
fn tls_and_auth_once_per_session() {
    let postfix = postfix();
    let server = format!("127.0.0.1:{}", postfix.submission_port);
    let run = postie(["load", "--server", &server, "--to", "dave@example.test", "--user", SASL_USER])
        .args(["--password-env", "PW", "--ca-file", &postfix.ca_file(), "--count", "6", "--per-connection", "3"])
        .args(["--json"])
        .env("PW", SASL_PASSWORD)
        .run()
        .expect_code(0);
    let report = report(&run.stdout());
    assert_eq!((report.accepted, report.sessions), (6, 2), "{report:?}");
    assert_eq!(report.steps["tls"].count, 2, "{report:?}");
    assert_eq!(report.steps["auth"].count, 2, "{report:?}");
    assert!(!run.stdout().contains(SASL_PASSWORD) && !run.stderr().contains(SASL_PASSWORD));
    assert_eq!(delivered_sequences("dave", &report.run, 6).len(), 6);
}

#[test]
fn ctrl_c_prints_the_report_so_far() {
    let sink = Sink::start();
    let mut child = Command::new(env!("CARGO_BIN_EXE_postie"))
        .env_clear()
        .args(["load", "--server", &sink.server(), "--to", "a@example.test", "--rate", "20/s", "--duration", "60s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("postie load: run "), "{first}");
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("(interrupted: the report so far)"), "{rest}");
    let messages: u64 = rest.split(": ").nth(2).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    assert!(messages < 1200, "{rest}");
}

#[test]
fn bad_load_flags_are_one_line_each() {
    let cases: &[(&[&str], &str)] = &[
        (&["--count", "0"], "invalid value '0' for '--count <N>': it must be at least 1"),
        (&["--concurrency", "0"], "invalid value '0' for '--concurrency <N>': it must be at least 1 session"),
        (&["--rate", "0"], "invalid value '0' for '--rate <R/s>': it must be more than 0"),
        (
            &["--duration", "soon"],
            "invalid value 'soon' for '--duration <TIME>': \"soon\" is not a duration: give e.g. 30s, 5m or 1h",
        ),
        (&["--size", "10"], "invalid --size 10: the headers alone are"),
    ];
    for (flags, expected) in cases {
        let run = postie(["load", "--server", "127.0.0.1:1", "--to", "a@example.test"]).args(flags.iter()).run();
        assert_eq!(run.code(), 64, "{flags:?}\n{run:?}");
        assert!(run.stderr().starts_with(&format!("postie: error: {expected}")), "{flags:?}\n{run:?}");
        assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    }
    let run = postie(["load", "--to", "a@example.test"]).run().expect_code(64);
    assert!(run.stderr().contains("postie load needs --server"), "{run:?}");
}
