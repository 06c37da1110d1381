//! Input that must stay hidden: a password given on the command line, which the process list would show.

use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

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
