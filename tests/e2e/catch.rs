//! `postie catch` as the peer: postie send, swaks and postie smuggle against it. Each test starts its own
//! catch on a port the kernel picks (`--listen 127.0.0.1:0`) and waits for its `postie: listening on` line;
//! nothing sleeps.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{marker, postie, scratch_dir};

/// A running `postie catch`.
struct Catch {
    child: Child,
    port: u16,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<String>>,
    /// The threads that copy stdout and stderr; they end when catch's pipes close.
    readers: Vec<thread::JoinHandle<()>>,
}

/// What a finished catch printed.
struct Caught {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Catch {
    fn start(args: &[&str]) -> Catch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_postie"))
            .env_clear()
            .env("PW", "s3cret")
            .args(["catch", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run postie catch");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        let Some(port) = first.trim().strip_prefix("postie: listening on 127.0.0.1:").and_then(|p| p.parse().ok())
        else {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            let _ = child.kill();
            let _ = child.wait();
            panic!("catch did not start: {first}{rest}");
        };
        let stderr_text = Arc::new(Mutex::new(first));
        let sink = stderr_text.clone();
        let stderr_reader = thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let sink = stdout.clone();
        let mut pipe = child.stdout.take().unwrap();
        let stdout_reader = thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Catch { child, port, stdout, stderr: stderr_text, readers: vec![stdout_reader, stderr_reader] }
    }

    fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Wait for catch to end by itself (--once, --count).
    fn wait(mut self) -> Caught {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "catch did not end:\n{}", self.stderr.lock().unwrap());
            thread::sleep(Duration::from_millis(10));
        };
        self.collect(status)
    }

    /// Stop catch as Ctrl-C does.
    fn interrupt(mut self) -> Caught {
        // SAFETY: the pid is our own child's, not yet reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.child.wait().unwrap();
        self.collect(status)
    }

    fn collect(&mut self, status: ExitStatus) -> Caught {
        // catch has exited, so its pipes are closed and the readers end with the last bytes copied.
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let stdout = String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned();
        let stderr = self.stderr.lock().unwrap().clone();
        Caught { status, stdout, stderr }
    }
}

impl Drop for Catch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn maildir_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir.join("new")).map(|e| e.map(|e| e.unwrap().path()).collect()).unwrap_or_default()
}

/// A message with CRLF line endings and lines that need dot-stuffing: stored as it is, byte for byte.
fn raw_message(marker: &str) -> Vec<u8> {
    format!(
        "From: a@example.test\r\nTo: b@example.test\r\nSubject: {marker}\r\n\r\n.leading dot\r\n..two dots\r\n\
         caf\u{e9} 8bit\r\n.\r\nlast line\r\n"
    )
    .into_bytes()
}

#[test]
fn catch_once_takes_a_message_from_send_and_stores_it_byte_exact() {
    let dir = scratch_dir("catch-once");
    let inbox = dir.join("inbox");
    let marker = marker("catch-once");
    let message = raw_message(&marker);
    let file = dir.join("message.eml");
    fs::write(&file, &message).unwrap();
    let catch = Catch::start(&["--once", "--maildir", inbox.to_str().unwrap()]);
    let run = postie(["send", "--server", &catch.server(), "--from", "a@example.test", "--to", "b@example.test"])
        .args(["--data", file.to_str().unwrap()])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("S: 250 2.0.0 Ok: queued as message 1"), "{run:?}");
    let caught = catch.wait();
    assert!(caught.status.success(), "{}", caught.stderr);
    let files = maildir_files(&inbox);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(fs::read(&files[0]).unwrap(), message, "stored byte-exact");
    let out = &caught.stdout;
    assert!(out.contains("C: MAIL FROM:<a@example.test>"), "{out}");
    assert!(out.contains(&format!("Subject: \"{marker}\"")), "{out}");
    assert!(out.contains("S: 221 2.0.0 Bye"), "{out}");
    assert!(caught.stderr.contains("postie: caught 1 message in 1 session"), "{}", caught.stderr);
}

fn swaks(args: &[&str]) -> std::process::Output {
    Command::new("swaks").args(args).stdin(Stdio::null()).output().expect("swaks is installed (scripts/test.sh)")
}

#[test]
fn swaks_delivers_plain_starttls_implicit_tls_and_auth() {
    let dir = scratch_dir("catch-swaks");
    let message_file = dir.join("message.eml");
    for (name, catch_args, swaks_args, expect) in [
        ("plain", vec![], vec![], "C: DATA"),
        ("starttls", vec!["--tls", "self-signed", "--require-tls"], vec!["--tls"], "* TLS started: TLSv1.3"),
        ("implicit", vec!["--tls", "self-signed", "--implicit-tls"], vec!["--tls-on-connect"], "C~ EHLO"),
        (
            "auth",
            vec!["--tls", "self-signed", "--auth", "alice:env:PW"],
            vec!["--tls", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "s3cret"],
            "* authenticated as alice",
        ),
    ] {
        let inbox = dir.join(name);
        let marker = marker(&format!("catch-swaks-{name}"));
        let message = raw_message(&marker);
        fs::write(&message_file, &message).unwrap();
        let mut args = vec!["--once", "--maildir", inbox.to_str().unwrap()];
        args.extend(catch_args);
        let catch = Catch::start(&args);
        let server = catch.server();
        let mut swaks_command = vec!["--server", &server, "--from", "a@example.test", "--to", "b@example.test"];
        swaks_command.extend(["--data", message_file.to_str().unwrap()]);
        swaks_command.extend(swaks_args);
        let output = swaks(&swaks_command);
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stdout));
        let caught = catch.wait();
        assert!(caught.stdout.contains(expect), "{name}: {}", caught.stdout);
        let files = maildir_files(&inbox);
        assert_eq!(files.len(), 1, "{name}");
        // swaks sends the file as it is, dot-stuffed, and ends the data with CRLF "." CRLF after the file's own
        // last CRLF: what it sent, and what is stored, is the file and one empty line.
        let sent = [message.as_slice(), b"\r\n"].concat();
        assert_eq!(fs::read(&files[0]).unwrap(), sent, "{name}: stored byte-exact");
    }
}

#[test]
fn send_delivers_over_starttls_implicit_tls_and_auth() {
    let dir = scratch_dir("catch-send-tls");
    // A certificate of the test's own, in PEM files, that send verifies (it is its own CA).
    let made = rcgen::generate_simple_self_signed(vec!["catch.example.test".to_string()]).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    fs::write(&cert_file, made.cert.pem()).unwrap();
    fs::write(&key_file, made.signing_key.serialize_pem()).unwrap();
    let (cert_file, key_file) = (cert_file.display().to_string(), key_file.display().to_string());
    for (name, catch_args, send_args, expect) in [
        ("starttls", vec!["--tls", "self-signed", "--require-tls"], vec!["--tls", "required", "-k"], "S~ 250"),
        ("implicit", vec!["--tls", "self-signed", "--implicit-tls"], vec!["--tls", "implicit", "-k"], "C~ EHLO"),
        (
            "auth",
            vec!["--tls", "self-signed", "--auth", "alice:env:PW"],
            vec!["-k", "--user", "alice", "--password-env", "PW"],
            "* authenticated as alice",
        ),
        ("lmtp", vec!["--lmtp"], vec!["--lmtp"], "C: LHLO"),
        ("bdat", vec![], vec!["--bdat"], "by BDAT chunks>"),
        (
            "certificate files",
            vec!["--tls-cert", &cert_file, "--tls-key", &key_file, "--require-tls"],
            vec!["--tls", "required", "--ca-file", &cert_file, "--tls-name", "catch.example.test"],
            "* TLS started: TLSv1.3",
        ),
    ] {
        let inbox = dir.join(name.replace(' ', "-"));
        let marker = marker(&format!("catch-send-{}", name.replace(' ', "-")));
        let file = dir.join(format!("{}.eml", name.replace(' ', "-")));
        fs::write(&file, raw_message(&marker)).unwrap();
        let mut args = vec!["--once", "--maildir", inbox.to_str().unwrap()];
        args.extend(catch_args);
        let catch = Catch::start(&args);
        let run = postie(["send", "--server", &catch.server(), "--from", "a@example.test", "--to", "b@example.test"])
            .args(["--data", file.to_str().unwrap()])
            .args(send_args)
            .env("PW", "s3cret")
            .run();
        assert_eq!(run.code(), 0, "{name}: {run:?}");
        let caught = catch.wait();
        assert!(caught.stdout.contains(expect), "{name}: {}", caught.stdout);
        assert_eq!(fs::read(&maildir_files(&inbox)[0]).unwrap(), raw_message(&marker), "{name}");
    }
}

#[test]
fn each_fault_is_seen_by_send_as_its_exit_code() {
    for (catch_args, send_extra, code, seen) in [
        (vec!["--reply", "rcpt=550"], vec![], 69, "S: 550 5.0.0 on cue: --reply rcpt=550"),
        (vec!["--reply", "data=451"], vec![], 75, "S: 451"),
        (vec!["--reply", "mail=452 4.3.1 out of storage"], vec![], 75, "S: 452 4.3.1 out of storage"),
        (vec!["--drop", "after-data"], vec![], 5, "C: <message"),
        (vec!["--greeting", "421"], vec![], 75, "S: 421"),
        (vec!["--greeting", "554"], vec![], 69, "S: 554"),
        (
            vec!["--delay", "greeting=3s"],
            vec!["--timeout", "1"],
            75,
            "banner: no reply from the server within 1s; moving on",
        ),
    ] {
        let catch = Catch::start(&catch_args);
        let run = postie(["send", "--server", &catch.server(), "--from", "a@example.test", "--to", "b@example.test"])
            .args(["--subject", "fault", "--body", "x"])
            .args(send_extra)
            .run();
        assert_eq!(run.code(), code, "{catch_args:?}: {run:?}");
        assert!(run.stdout().contains(seen), "{catch_args:?}: {run:?}");
        let caught = catch.interrupt();
        assert!(caught.status.success(), "{catch_args:?}: {:?} {}", caught.status, caught.stderr);
        assert!(caught.stdout.contains("* fault on cue"), "{catch_args:?}: {}", caught.stdout);
        assert!(caught.stderr.contains("postie: caught 0 messages"), "{catch_args:?}: {}", caught.stderr);
    }
}

#[test]
fn smuggle_flags_a_lenient_end_of_data_and_not_a_strict_one() {
    for (mode, code) in [("lenient", 1), ("strict", 0)] {
        let catch = Catch::start(&["--end-of-data", mode]);
        let run = postie(["smuggle", &catch.server(), "--from", "a@example.test", "--to", "b@example.test"]).run();
        assert_eq!(run.code(), code, "{mode}: {run:?}");
        catch.interrupt();
    }
}

#[test]
fn json_lines_carry_the_session_and_the_message() {
    let catch = Catch::start(&["--once", "--json", "--show-data"]);
    postie(["send", "--server", &catch.server(), "--from", "a@example.test", "--to", "b@example.test"])
        .args(["--subject", "json", "--body", "hello \u{1b}[2J"])
        .run()
        .expect_code(0);
    let caught = catch.wait();
    let objects: Vec<serde_json::Value> =
        caught.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert_eq!(objects[0]["type"], "listening");
    let message = objects.iter().find(|o| o["type"] == "message").expect("a message object");
    assert_eq!(message["recipients"][0], "b@example.test");
    assert_eq!(message["subject"], "json");
    assert!(message["content"].as_str().unwrap().contains("hello \u{1b}[2J"));
    assert!(objects.iter().all(|o| o["type"] == "listening" || o["session"] == 1), "{}", caught.stdout);
}

#[test]
fn concurrent_clients_get_one_block_each() {
    let dir = scratch_dir("catch-concurrent");
    let mbox = dir.join("mbox");
    let catch = Catch::start(&["--count", "6", "--mbox", mbox.to_str().unwrap()]);
    let server = catch.server();
    let senders: Vec<_> = (0..6)
        .map(|n| {
            let server = server.clone();
            thread::spawn(move || {
                postie(["send", "--server", &server, "--from", "a@example.test", "--to", "b@example.test"])
                    .args(["--subject", &format!("concurrent {n}"), "--body", "From the start\n"])
                    .run()
                    .expect_code(0);
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    let caught = catch.wait();
    assert!(caught.status.success(), "{}", caught.stderr);
    // Each session's block is whole: its lines follow its header, up to its own end line.
    let mut open: Option<String> = None;
    let mut blocks = 0;
    for line in caught.stdout.lines() {
        if let Some(rest) = line.strip_prefix("* session ") {
            let id = rest.split(' ').next().unwrap().to_string();
            if rest.contains(" ended after ") {
                assert_eq!(open.take().as_deref(), Some(id.as_str()), "{}", caught.stdout);
                blocks += 1;
            } else {
                assert!(open.replace(id).is_none(), "interleaved blocks:\n{}", caught.stdout);
            }
        }
    }
    assert_eq!(blocks, 6, "{}", caught.stdout);
    let stored = fs::read_to_string(&mbox).unwrap();
    assert_eq!(stored.matches("\nFrom a@example.test ").count() + usize::from(stored.starts_with("From a@")), 6);
    assert_eq!(stored.matches("\n>From the start\n").count(), 6, "mboxrd quoting: {stored}");
    assert!(!stored.contains('\r'), "LF line endings in the mbox");
}

#[test]
fn limits_on_sessions_and_silence() {
    use std::io::Write;
    let catch = Catch::start(&["--max-sessions", "1", "--timeout", "1"]);
    let mut first = std::net::TcpStream::connect(catch.server()).unwrap();
    let mut reader = BufReader::new(first.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("220 "), "{line}");
    // A second client while the first is connected: 421 at once.
    let second = std::net::TcpStream::connect(catch.server()).unwrap();
    let mut busy = String::new();
    BufReader::new(second).read_line(&mut busy).unwrap();
    assert!(busy.starts_with("421 4.3.2"), "{busy}");
    // The first says nothing for longer than --timeout: 421 4.4.2, then the connection is closed.
    first.write_all(b"NOOP\r\n").unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("250 "), "{line}");
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("421 4.4.2"), "{line}");
    line.clear();
    assert_eq!(reader.read_line(&mut line).unwrap(), 0, "closed after the 421");
    let caught = catch.interrupt();
    assert!(caught.stdout.contains("* refused with 421: already 1 sessions"), "{}", caught.stdout);
    assert!(caught.stdout.contains("* the client was silent too long"), "{}", caught.stdout);
}

#[test]
fn bad_input_is_one_clear_line() {
    let run = postie(["catch", "--listen", "localhost"]).run().expect_code(64);
    assert!(run.stderr().contains("invalid --listen \"localhost\""), "{run:?}");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let run = postie(["catch", "--listen", &address]).run().expect_code(69);
    assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    assert!(run.stderr().contains(&format!("cannot listen on {address}")), "{run:?}");
    let run = postie(["catch", "--reply", "rcpt=55x"]).run().expect_code(64);
    assert_eq!(run.stderr().trim(), "postie: error: invalid --reply \"rcpt=55x\": \"55x\" is not a reply code (three digits, 200 to 559, RFC 5321 §4.2)");
    let run = postie(["catch", "--drop", "never"]).run().expect_code(64);
    assert!(run.stderr().contains("is not a step"), "{run:?}");
    let missing = scratch_dir("catch-bad").join("missing.pem");
    let missing = missing.to_str().unwrap();
    let run = postie(["catch", "--tls-cert", missing, "--tls-key", missing]).run().expect_code(66);
    assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    assert!(run.stderr().contains("missing.pem"), "{run:?}");
    for (args, code, line) in [
        (&["--hostname", "a b"][..], 64, "postie: error: invalid --hostname \"a b\": give one name, such as mx.example.test"),
        (&["--delay", "greeting"], 64, "postie: error: invalid --delay \"greeting\": give STEP=DURATION, such as greeting=3s"),
        (
            &["--greeting", "999"],
            64,
            "postie: error: invalid --greeting \"999\": \"999\" is not a reply code (three digits, 200 to 559, RFC 5321 §4.2)",
        ),
        (
            &["--implicit-tls"],
            64,
            "postie: error: --implicit-tls needs a certificate: give --tls self-signed or --tls-cert and --tls-key",
        ),
        (&["--auth", "alice"], 64, "postie: error: invalid --auth \"alice\": give any, or USER:SECRET such as alice:env:PW"),
    ] {
        let run = postie(["catch"].iter().chain(args)).run().expect_code(code);
        assert_eq!(run.stderr(), format!("{line}\n"), "{args:?}: {run:?}");
    }
}

/// The load mode pointed at catch: every message arrives, catch counts them and ends, and each stored copy
/// carries its own X-Postie-Load number.
#[test]
fn load_pointed_at_catch_delivers_every_message_once() {
    let dir = scratch_dir("catch-load");
    let inbox = dir.join("inbox");
    let catch = Catch::start(&["--count", "40", "--maildir", inbox.to_str().unwrap()]);
    let run = postie(["load", "--server", &catch.server(), "--to", "b@example.test", "--count", "40"])
        .args(["--concurrency", "4", "--per-connection", "5", "--json"])
        .run()
        .expect_code(0);
    let report: serde_json::Value = serde_json::from_str(run.stdout().trim()).unwrap();
    assert_eq!(report["accepted"], 40, "{run:?}");
    let caught = catch.wait();
    assert!(caught.status.success(), "{}", caught.stderr);
    let mut numbers: Vec<u64> = maildir_files(&inbox)
        .iter()
        .filter_map(|path| {
            let text = fs::read_to_string(path).ok()?;
            let line = text.lines().find(|l| l.starts_with("X-Postie-Load: "))?;
            line.rsplit('/').next()?.trim().parse().ok()
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..40).collect::<Vec<u64>>());
}
