//! The message content on the wire after DATA: line endings and dot-stuffing, as a streaming writer.
//!
//! RFC 5321 §2.3.8 says lines end in CRLF and nothing else. A bare CR or bare LF inside the content is turned
//! into CRLF here, before anything else: a server that reads "LF . LF" or "CR . CR" as end of data while
//! another reads it as content is exactly the SMTP smuggling attack, and normalising closes it.
//! RFC 5321 §4.5.2: a line that starts with "." gets one more "." in front, so that no line of the message
//! can look like the end-of-data marker; the server removes it again.
//! RFC 5321 §4.1.1.4: the content ends with CRLF "." CRLF; if the message did not end with a line break,
//! one is added first.

use std::io::{self, Write};

/// A writer that normalises line endings and dot-stuffs everything written through it into `inner`.
/// Call [`DotStuffer::finish`] to write the end-of-data marker.
pub struct DotStuffer<W: Write> {
    inner: W,
    /// False for BDAT (RFC 3030), where the size marks the end and dots stay as they are.
    stuff_dots: bool,
    at_line_start: bool,
    /// The previous chunk ended with CR; whether it was CRLF depends on the next byte.
    pending_cr: bool,
    /// Bytes of the message after line endings are normalised (what SIZE counts), without stuffing.
    message_bytes: u64,
    /// Lines of the message, a last line without a line break included.
    lines: u64,
    scratch: Vec<u8>,
}

impl<W: Write> DotStuffer<W> {
    /// Only line endings, no dot-stuffing: for BDAT.
    pub fn without_dot_stuffing(inner: W) -> Self {
        DotStuffer { stuff_dots: false, ..DotStuffer::new(inner) }
    }

    pub fn new(inner: W) -> Self {
        DotStuffer {
            inner,
            stuff_dots: true,
            at_line_start: true,
            pending_cr: false,
            message_bytes: 0,
            lines: 0,
            scratch: Vec::new(),
        }
    }

    pub fn message_bytes(&self) -> u64 {
        self.message_bytes
    }

    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Complete the last line if it lacks a line break (RFC 5321 §4.1.1.4). The counts are final after this.
    pub fn end_content(&mut self) -> io::Result<()> {
        if self.pending_cr || !self.at_line_start {
            self.pending_cr = false;
            let mut tail = Vec::with_capacity(2);
            self.end_line(&mut tail);
            self.inner.write_all(&tail)?;
        }
        Ok(())
    }

    /// The writer underneath; call after [`DotStuffer::end_content`].
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// End the content and write the end-of-data marker "." CRLF.
    pub fn finish(mut self) -> io::Result<W> {
        self.end_content()?;
        self.inner.write_all(b".\r\n")?;
        Ok(self.inner)
    }

    fn end_line(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\r\n");
        self.message_bytes += 2;
        self.lines += 1;
        self.at_line_start = true;
    }

    fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut rest = input;
        if self.pending_cr {
            self.pending_cr = false;
            self.end_line(out);
            // The LF of a CRLF split across two writes belongs to the line break just written.
            if let Some(b'\n') = rest.first() {
                rest = &rest[1..];
            }
        }
        while !rest.is_empty() {
            if self.stuff_dots && self.at_line_start && rest[0] == b'.' {
                out.push(b'.');
            }
            self.at_line_start = false;
            // memchr2 searches a word (or a SIMD register) at a time: this is the whole cost of a big message.
            match memchr::memchr2(b'\r', b'\n', rest) {
                None => {
                    out.extend_from_slice(rest);
                    self.message_bytes += rest.len() as u64;
                    return;
                }
                Some(i) => {
                    out.extend_from_slice(&rest[..i]);
                    self.message_bytes += i as u64;
                    if rest[i] == b'\n' {
                        self.end_line(out);
                        rest = &rest[i + 1..];
                    } else if i + 1 == rest.len() {
                        self.pending_cr = true;
                        return;
                    } else {
                        self.end_line(out);
                        let skip = if rest[i + 1] == b'\n' { 2 } else { 1 };
                        rest = &rest[i + skip..];
                    }
                }
            }
        }
    }
}

/// The most input encoded per `write`: bounds the scratch buffer however large the caller's write is (a
/// 200 MiB `--data` file is one `write_all`), so memory stays flat.
const CHUNK: usize = 64 * 1024;

impl<W: Write> Write for DotStuffer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let buf = &buf[..buf.len().min(CHUNK)];
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.reserve(buf.len() + buf.len() / 16 + 4);
        self.encode(buf, &mut scratch);
        let result = self.inner.write_all(&scratch);
        self.scratch = scratch;
        result.map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The message content, written as often as needed: once to measure it, once to send it, so it is never
/// held encoded in memory.
pub trait Content {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()>;
}

impl Content for &[u8] {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self)
    }
}

/// What the extensions need to know about a message before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// Bytes after line endings are normalised to CRLF: what SIZE and BDAT count (RFC 1870 §4).
    pub size: u64,
    pub lines: u64,
    /// A byte above 127 anywhere: needs BODY=8BITMIME (RFC 6152).
    pub eight_bit: bool,
    /// A byte above 127 in the header section: raw UTF-8 headers need SMTPUTF8 (RFC 6531).
    pub eight_bit_headers: bool,
}

/// Measure a message by writing it once through the normaliser into nothing.
pub fn measure(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<Facts> {
    let mut scanner = Scanner {
        stuffer: DotStuffer::new(io::sink()),
        eight_bit: false,
        eight_bit_headers: false,
        in_headers: true,
        line_has_text: false,
    };
    write(&mut scanner)?;
    scanner.stuffer.end_content()?;
    Ok(Facts {
        size: scanner.stuffer.message_bytes(),
        lines: scanner.stuffer.lines(),
        eight_bit: scanner.eight_bit,
        eight_bit_headers: scanner.eight_bit_headers,
    })
}

/// Finds the facts the normaliser does not count: 8-bit bytes, in the header section or anywhere. The header
/// section ends at the first LF whose line holds nothing but CRs (as the receiving side reads the raw input
/// before normalising it, a CR is not text here). It works on slices, a line at a time in the header section
/// and one `is_ascii` over the rest, so a big body costs a vectorised scan, not a loop per byte.
struct Scanner {
    stuffer: DotStuffer<io::Sink>,
    eight_bit: bool,
    eight_bit_headers: bool,
    in_headers: bool,
    /// The current header line has a byte other than CR.
    line_has_text: bool,
}

impl Scanner {
    fn scan(&mut self, buf: &[u8]) {
        let mut rest = buf;
        while self.in_headers && !rest.is_empty() {
            let (line, ends) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            if !line.is_ascii() {
                self.eight_bit = true;
                self.eight_bit_headers = true;
            }
            let text = line.iter().any(|&b| b != b'\r');
            if ends {
                if !self.line_has_text && !text {
                    self.in_headers = false;
                }
                self.line_has_text = false;
                rest = &rest[line.len() + 1..];
            } else {
                self.line_has_text |= text;
                rest = &[];
            }
        }
        if !self.eight_bit && !rest.is_ascii() {
            self.eight_bit = true;
        }
    }
}

impl Write for Scanner {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.scan(buf);
        self.stuffer.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The whole wire form of `message`, end-of-data marker included.
pub fn stuff(message: &[u8]) -> Vec<u8> {
    let mut stuffer = DotStuffer::new(Vec::with_capacity(message.len() + 8));
    stuffer.write_all(message).expect("writing to a Vec cannot fail");
    stuffer.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: &[(&[u8], &[u8])] = &[
        (b"", b".\r\n"),
        (b"hello", b"hello\r\n.\r\n"),
        (b"hello\r\n", b"hello\r\n.\r\n"),
        (b"hello\n", b"hello\r\n.\r\n"),
        (b"a\nb\rc\r\nd", b"a\r\nb\r\nc\r\nd\r\n.\r\n"),
        (b".", b"..\r\n.\r\n"),
        (b".\r\n", b"..\r\n.\r\n"),
        (b"a\r\n.\r\nb", b"a\r\n..\r\nb\r\n.\r\n"),
        (b"..two\n.one\nnone.\n", b"...two\r\n..one\r\nnone.\r\n.\r\n"),
        // The smuggling shapes: bare LF or CR around a dot become whole lines, and the dot is stuffed.
        (b"x\n.\ny", b"x\r\n..\r\ny\r\n.\r\n"),
        (b"x\r.\ry", b"x\r\n..\r\ny\r\n.\r\n"),
        (b"x\r\n.\ny", b"x\r\n..\r\ny\r\n.\r\n"),
        (b"\r\r\n", b"\r\n\r\n.\r\n"),
        (b"\n\n", b"\r\n\r\n.\r\n"),
        (b"end\r", b"end\r\n.\r\n"),
        (b"8bit \xe9\xff\x00 ok", b"8bit \xe9\xff\x00 ok\r\n.\r\n"),
    ];

    #[test]
    fn table() {
        for (input, expected) in CASES {
            assert_eq!(
                String::from_utf8_lossy(&stuff(input)),
                String::from_utf8_lossy(expected),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn every_split_point_gives_the_same_bytes() {
        for (input, expected) in CASES {
            for split in 0..=input.len() {
                let mut stuffer = DotStuffer::new(Vec::new());
                stuffer.write_all(&input[..split]).unwrap();
                stuffer.write_all(&input[split..]).unwrap();
                assert_eq!(stuffer.finish().unwrap(), *expected, "input {input:?} split at {split}");
            }
            let mut stuffer = DotStuffer::new(Vec::new());
            for byte in *input {
                stuffer.write_all(std::slice::from_ref(byte)).unwrap();
            }
            assert_eq!(stuffer.finish().unwrap(), *expected, "input {input:?} byte by byte");
        }
    }

    #[test]
    fn without_dot_stuffing_only_normalises() {
        let mut normaliser = DotStuffer::without_dot_stuffing(Vec::new());
        normaliser.write_all(b".a\nb\r.").unwrap();
        normaliser.end_content().unwrap();
        assert_eq!(normaliser.message_bytes(), 10);
        assert_eq!(normaliser.into_inner(), b".a\r\nb\r\n.\r\n");
    }

    #[test]
    fn large_writes_use_bounded_memory() {
        let input = vec![b'.'; 3 * CHUNK + 17];
        let mut stuffer = DotStuffer::new(Vec::new());
        stuffer.write_all(&input).unwrap();
        assert!(stuffer.scratch.capacity() < 2 * CHUNK, "scratch grew to {}", stuffer.scratch.capacity());
        assert_eq!(stuffer.finish().unwrap().len(), input.len() + 1 + 2 + 3);
    }

    #[test]
    fn facts() {
        let facts = measure(|out| out.write_all(b"Subject: x\n\nbody \xe9\n")).unwrap();
        assert_eq!(facts, Facts { size: 22, lines: 3, eight_bit: true, eight_bit_headers: false });
        let utf8_header = measure(|out| out.write_all("To: j\u{f6}rg@x.test\r\n\r\nplain".as_bytes())).unwrap();
        assert!(utf8_header.eight_bit_headers && utf8_header.eight_bit);
        let ascii = measure(|out| out.write_all(b"a: b\r\n\r\nc")).unwrap();
        assert!(!ascii.eight_bit);
        assert_eq!(ascii.size, "a: b\r\n\r\nc\r\n".len() as u64);
    }

    #[test]
    fn counts_normalised_bytes_and_lines() {
        let mut stuffer = DotStuffer::new(Vec::new());
        stuffer.write_all(b"a\n.b\r\nc").unwrap();
        assert_eq!(stuffer.lines(), 2);
        let stuffer_bytes = stuffer.message_bytes();
        assert_eq!(stuffer_bytes, "a\r\n.b\r\nc".len() as u64);
        let wire = stuffer.finish().unwrap();
        assert_eq!(wire, b"a\r\n..b\r\nc\r\n.\r\n");
    }

    #[test]
    fn no_line_of_the_output_is_a_lone_dot_except_the_last() {
        // Whatever the input, the end-of-data marker appears exactly once, at the end.
        let noisy: Vec<u8> = (0..2000u32).map(|i| [b'.', b'\r', b'\n', b'a'][(i * 7 % 11 % 4) as usize]).collect();
        let wire = stuff(&noisy);
        let marker = b"\r\n.\r\n";
        let positions: Vec<usize> = wire.windows(5).enumerate().filter(|(_, w)| w == marker).map(|(i, _)| i).collect();
        assert_eq!(positions, vec![wire.len() - 5]);
        // Every LF has a CR before it and every CR an LF after it.
        assert_ne!(wire[0], b'\n');
        assert!(wire.windows(2).all(|w| (w[1] != b'\n' || w[0] == b'\r') && (w[0] != b'\r' || w[1] == b'\n')));
    }

    /// The measuring pass as it was, a byte at a time: the reference the slice scanner is checked against.
    fn reference_facts(pieces: &[&[u8]]) -> Facts {
        let (mut eight_bit, mut eight_bit_headers, mut in_headers, mut line_length) = (false, false, true, 0usize);
        let mut stuffer = DotStuffer::new(io::sink());
        for buf in pieces {
            if !eight_bit || in_headers {
                for &byte in *buf {
                    if byte >= 0x80 {
                        eight_bit = true;
                        eight_bit_headers |= in_headers;
                    }
                    if in_headers {
                        match byte {
                            b'\n' if line_length == 0 => in_headers = false,
                            b'\n' => line_length = 0,
                            b'\r' => {}
                            _ => line_length += 1,
                        }
                    }
                }
            }
            stuffer.write_all(buf).unwrap();
        }
        stuffer.end_content().unwrap();
        Facts { size: stuffer.message_bytes(), lines: stuffer.lines(), eight_bit, eight_bit_headers }
    }

    /// The wire form written independently of the codec: split into lines at CRLF, bare CR and bare LF, stuff
    /// each line that starts with a dot, end each with CRLF, then the marker.
    fn reference_wire(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut line_start = true;
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            if line_start && byte == b'.' {
                out.push(b'.');
            }
            line_start = false;
            match byte {
                b'\r' | b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    line_start = true;
                    if byte == b'\r' && input.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                }
                _ => out.push(byte),
            }
            i += 1;
        }
        if !line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        out
    }

    /// A small deterministic generator (xorshift), so the differential check needs no dependency and fails
    /// the same way every run.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn slice_scanner_matches_the_byte_by_byte_one() {
        // Inputs made of the bytes that matter (dots, CR, LF, 8-bit, NUL) with runs of plain text, cut into
        // random pieces: the facts, the counts and the wire bytes must not depend on how they are cut.
        const ALPHABET: &[u8] = b".\r\n\r\n.a b:\xe9\x00\xff";
        let mut random = Random(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let length = random.below(if round % 100 == 0 { 5000 } else { 60 });
            let input: Vec<u8> = (0..length)
                .map(|_| match random.below(4) {
                    0 => b'x',
                    _ => ALPHABET[random.below(ALPHABET.len())],
                })
                .collect();
            let mut pieces: Vec<&[u8]> = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                let cut = 1 + random.below(rest.len().min(70));
                pieces.push(&rest[..cut]);
                rest = &rest[cut..];
            }
            let facts = measure(|out| pieces.iter().try_for_each(|piece| out.write_all(piece))).unwrap();
            assert_eq!(facts, reference_facts(&pieces), "input {input:?} in pieces {pieces:?}");
            let mut stuffer = DotStuffer::new(Vec::new());
            for piece in &pieces {
                stuffer.write_all(piece).unwrap();
            }
            assert_eq!(stuffer.finish().unwrap(), reference_wire(&input), "input {input:?} in pieces {pieces:?}");
        }
    }
}
