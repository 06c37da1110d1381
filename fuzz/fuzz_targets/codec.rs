//! The DATA codec, written to in arbitrary pieces: the output is CRLF only, every line that starts with a
//! dot is stuffed, the end marker appears once and last, unstuffing gives the input with its line endings
//! normalised, and the counts match.

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use postie::smtp::codec::{self, DotStuffer};

#[path = "split.rs"]
mod split;

/// The input as the wire should carry it, written independently of the codec: each CRLF, bare CR and bare
/// LF becomes CRLF, and a last line without a break gets one.
fn normalised(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 2);
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\r' if input.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            byte => out.push(byte),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let (pieces, payload) = split::pieces(data);
    let mut stuffer = DotStuffer::new(Vec::new());
    for piece in &pieces {
        stuffer.write_all(piece).unwrap();
    }
    stuffer.end_content().unwrap();
    let (size, lines) = (stuffer.message_bytes(), stuffer.lines());
    let mut wire = stuffer.into_inner();
    wire.extend_from_slice(b".\r\n");
    assert_eq!(wire, codec::stuff(payload), "a split of the input changed the output");

    // CRLF only: every CR has an LF after it and every LF a CR before it.
    for (i, &byte) in wire.iter().enumerate() {
        match byte {
            b'\r' => assert_eq!(wire.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert!(i > 0 && wire[i - 1] == b'\r', "bare LF at {i}"),
            _ => {}
        }
    }
    // Exactly one end marker, at the end; every other line that starts with a dot was stuffed.
    let body = &wire[..wire.len() - 3];
    let content_lines: Vec<&[u8]> =
        if body.is_empty() { Vec::new() } else { body[..body.len() - 2].split(|&b| b == b'\n').collect() };
    let mut unstuffed = Vec::with_capacity(body.len());
    for line in &content_lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert_ne!(line, b".", "an end marker inside the content");
        if line.starts_with(b".") {
            assert!(line.starts_with(b".."), "a dot line left unstuffed");
        }
        unstuffed.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        unstuffed.extend_from_slice(b"\r\n");
    }
    let expected = normalised(payload);
    assert_eq!(unstuffed, expected, "unstuffing does not give the normalised input");
    assert_eq!(size, expected.len() as u64, "SIZE counts the normalised bytes");
    assert_eq!(lines, expected.windows(2).filter(|w| w == b"\r\n").count() as u64);

    // Without dot-stuffing (BDAT) the output is exactly the normalised input.
    let mut normaliser = DotStuffer::without_dot_stuffing(Vec::new());
    for piece in &pieces {
        normaliser.write_all(piece).unwrap();
    }
    normaliser.end_content().unwrap();
    assert_eq!(normaliser.into_inner(), expected);
});
