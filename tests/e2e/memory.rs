//! Constant memory: a big message is read from its file (or spooled from stdin) twice, never held, so
//! postie's peak resident set stays under 16 MiB whatever the size; and what Postfix delivered is the input.

use std::fs;
use std::path::PathBuf;

use mail_parser::{MessageParser, MimeHeaders};

use crate::harness::{marker, postfix, postie, scratch_dir, strip_trace_headers, Run};

const SIZE: usize = 64 * 1024 * 1024;
/// The limit. The test profile is built with `opt-level = 1` (Cargo.toml), which keeps a one-line
/// message near 11 MiB; an unoptimised binary alone maps 19 MiB of code and could not be held to it.
const LIMIT_KIB: u64 = 16 * 1024;
/// What a 64 MiB message may add to the peak of a one-line message: memory stays flat.
const GROWTH_KIB: u64 = 4 * 1024;

/// The peak of the same binary sending a one-line message.
fn small_message_peak() -> u64 {
    static PEAK: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *PEAK.get_or_init(|| send("bob", &["--body", "one line"], None).1)
}

fn assert_flat(peak: u64, what: &str) {
    let small = small_message_peak();
    eprintln!("peak RSS: {peak} KiB for {what}, {small} KiB for a one-line message");
    assert!(peak < LIMIT_KIB, "peak RSS {peak} KiB for {what}, over the 16 MiB limit");
    assert!(peak < small + GROWTH_KIB, "peak RSS {peak} KiB for {what}, {small} KiB for a one-line message");
}

/// Deterministic bytes (xorshift): incompressible, and the same for the check as for the file.
fn noise(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(length + 8);
    while bytes.len() < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(length);
    bytes
}

/// A complete message of about `SIZE` bytes: headers, then lines of printable text, every seventh of which
/// starts with a dot (so dot-stuffing is at work over the whole message).
fn big_message(mark: &str) -> Vec<u8> {
    let mut message = format!(
        "From: a@example.test\r\nTo: big@example.test\r\nSubject: {mark}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n\
         Message-ID: <{mark}@example.test>\r\n\r\n"
    )
    .into_bytes();
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    let noise = noise(SIZE, 7);
    for (i, line) in noise.chunks(76).enumerate() {
        if i % 7 == 0 {
            message.push(b'.');
        }
        message.extend(line.iter().map(|&b| alphabet[(b & 63) as usize]));
        message.extend_from_slice(b"\r\n");
    }
    message
}

fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = scratch_dir("memory");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Send to `user`'s own mailbox (one of `BIG_USERS`).
fn send(user: &str, args: &[&str], stdin: Option<Vec<u8>>) -> (Run, u64) {
    let postfix = postfix();
    let to = format!("{user}@example.test");
    let mut command =
        postie(["send", "-q", "--server", &postfix.server(), "--from", "a@example.test", "--to", &to]).args(args);
    if let Some(bytes) = stdin {
        command = command.stdin(bytes);
    }
    let (run, peak) = command.run_measuring_memory();
    assert_eq!(run.code(), 0, "{run:?}");
    (run, peak)
}

/// The delivered message is the input: every header line given arrived, and the body is the same bytes
/// (the Maildir has LF line ends).
fn assert_delivered_as_given(user: &str, mark: &str, message: &[u8]) {
    let delivered = postfix().delivered(user, mark);
    let delivered = strip_trace_headers(&delivered);
    let given = String::from_utf8(message.to_vec()).unwrap().replace("\r\n", "\n");
    let (given_header, given_body) = given.split_once("\n\n").unwrap();
    let delivered = std::str::from_utf8(delivered).unwrap();
    let (header, body) = delivered.split_once("\n\n").unwrap();
    for line in given_header.lines() {
        assert!(header.lines().any(|l| l == line), "{line:?} is not in the delivered header:\n{header}");
    }
    assert!(body.len() == given_body.len() && body == given_body, "the delivered body differs from the input");
    postfix().empty_mailbox(user);
}

#[test]
fn a_64_mib_data_file_is_sent_in_constant_memory() {
    let mark = marker("memory-data-file");
    let message = big_message(&mark);
    let path = file("data.eml", &message);
    let (_, peak) = send("big-data", &["--data", path.to_str().unwrap()], None);
    assert_flat(peak, "a 64 MiB --data file");
    assert_delivered_as_given("big-data", &mark, &message);
    fs::remove_file(path).unwrap();
}

#[test]
fn a_64_mib_message_on_stdin_is_spooled() {
    let mark = marker("memory-data-stdin");
    let message = big_message(&mark);
    let (_, peak) = send("big-stdin", &["--data", "-"], Some(message.clone()));
    assert_flat(peak, "a 64 MiB message on stdin");
    assert_delivered_as_given("big-stdin", &mark, &message);
}

#[test]
fn a_64_mib_attachment_is_encoded_from_its_file() {
    let mark = marker("memory-attach");
    let data = noise(SIZE, 11);
    let path = file("attachment.bin", &data);
    let (_, peak) =
        send("big-attach", &["--subject", &mark, "--body", "see attached", "--attach", path.to_str().unwrap()], None);
    assert_flat(peak, "a 64 MiB attachment");
    let delivered = postfix().delivered("big-attach", &mark);
    postfix().empty_mailbox("big-attach");
    let parsed = MessageParser::default().parse(&delivered).unwrap();
    let attachment = parsed.attachment(0).expect("an attachment");
    assert_eq!(attachment.attachment_name(), Some("attachment.bin"));
    assert!(attachment.contents() == data.as_slice(), "the decoded attachment differs from the file");
    assert_eq!(parsed.body_text(0).as_deref(), Some("see attached"));
    fs::remove_file(path).unwrap();
}
