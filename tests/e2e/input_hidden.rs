//! Input that must stay hidden: a Bcc address in a message given to -t, and a password given on the command
//! line, which the process list would show.

use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{marker, postfix, postie, strip_trace_headers, Tripwire};

/// What `ps` shows for a postie that is connected to a server which never answers: by then its arguments
/// are parsed. The server holds it for as long as the test needs; the test then ends it.
fn process_list_entry_while_connected(extra: &[&str]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let server = listener.local_addr().unwrap().to_string();
    // --from and --helo spare the machine-name lookup: only loopback is contacted.
    let mut child = Command::new(env!("CARGO_BIN_EXE_postie"))
        .env_clear()
        .env("USER", "tester")
        .env("TZ", "UTC")
        .args(["send", "--server", &server, "--timeout", "5", "--from", "a@example.test"])
        .args(["--helo", "client.example.test", "--to", "bob@example.test", "--user", "bob"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run postie");
    let deadline = Instant::now() + Duration::from_secs(20);
    let connection = loop {
        match listener.accept() {
            Ok((connection, _)) => break connection,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            panic!("postie ended ({status}) before connecting: {}", String::from_utf8_lossy(&output.stderr));
        }
        assert!(Instant::now() < deadline, "postie did not connect within 20 s");
        thread::sleep(Duration::from_millis(20));
    };
    let cmdline = fs::read(format!("/proc/{}/cmdline", child.id())).expect("read the process list entry");
    child.kill().unwrap();
    child.wait().unwrap();
    drop(connection);
    String::from_utf8_lossy(&cmdline).replace('\0', " ")
}

#[test]
fn password_is_hidden_from_the_process_list() {
    for form in [&["--password", "hunter2-Pa55"][..], &["--password=hunter2-Pa55"]] {
        let entry = process_list_entry_while_connected(form);
        assert!(!entry.contains("hunter2"), "the password is in the process list: {entry}");
        assert!(entry.contains("--password") && entry.contains("************"), "{entry}");
        assert!(entry.contains(" --to bob@example.test --user bob "), "other arguments are untouched: {entry}");
    }
}

#[test]
fn sendmail_t_refuses_headers_that_could_disclose_a_bcc() {
    let cases: [(&str, &str); 3] = [
        (
            " Bcc: dave@example.test\nTo: bob@example.test\n\nbody\n",
            "postie: error: -t: line 1 starts with white space, so it would continue a header field, but there is \
             none before it: \" Bcc: dave@example.test\"\n",
        ),
        (
            "To: bob@example.test\nB CC: dave@example.test\n\nbody\n",
            "postie: error: -t: the field name \"B CC\" on line 2 contains \" \"; a field name is printable ASCII \
             without spaces (RFC 5322 §3.6.8)\n",
        ),
        (
            "To: bob@example.test\n\rBcc: dave@example.test\n\nbody\n",
            "postie: error: -t: a bare CR (a CR without LF) makes line 2 empty, which ends the header section on \
             the wire: the lines after it would be sent as body text\n",
        ),
    ];
    for (message, stderr) in cases {
        let tripwire = Tripwire::new();
        let run = postie(["send", "-t", "--server", &tripwire.server()]).stdin(message).run().expect_code(65);
        assert_eq!(run.stderr(), stderr, "{run:?}");
        tripwire.assert_untouched();
    }
}

#[test]
fn sendmail_t_bcc_after_a_bare_cr_is_read_and_removed() {
    // The wire turns the bare CR into a line break, so this Bcc is a field of its own: it must be a
    // recipient, and it must not be delivered to anyone.
    let postfix = postfix();
    let mark = marker("bare-cr-bcc");
    let message =
        format!("From: cron@example.test\nTo: bob@example.test\nSubject: {mark}\rBcc: dave@example.test\n\nbody\n");
    let run = postie(["send", "-t", "-f", "cron@example.test", "--server", &postfix.server()])
        .stdin(message)
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("RCPT TO:<dave@example.test>"), "{run:?}");
    for user in ["bob", "dave"] {
        let delivered = postfix.delivered(user, &mark);
        let message = String::from_utf8_lossy(strip_trace_headers(&delivered)).into_owned();
        assert!(!message.contains("Bcc") && !message.contains("dave@"), "Bcc delivered to {user}:\n{message}");
    }
}
