//! Reading the message after DATA: find the end-of-data marker and undo the dot-stuffing (RFC 5321 §4.5.2),
//! fed in arbitrary pieces. The reverse of `smtp::codec`.
//!
//! Which bytes end the message is the question SMTP smuggling asks (SEC Consult, 2023). `Strict` follows RFC
//! 5321 §4.1.1.4 to the letter: only CRLF "." CRLF ends it, and a bare LF or CR is message text. `Lenient`
//! also takes a bare LF as a line ending (LF "." LF and its mixtures end the message), as lax servers do: it
//! is there so that a sender's smuggling defences can be tested against it.

/// Which line endings count for the end-of-data marker and for dot-unstuffing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndOfData {
    #[default]
    Strict,
    Lenient,
}

/// The longest stretch of a line held before it is moved into the message: bounds memory whatever a client
/// sends without line breaks.
const MAX_PENDING: usize = 8192;

/// An incremental DATA reader. `feed` returns how many input bytes it used: everything up to and including
/// the end marker, so what follows (pipelined commands) stays the caller's.
#[derive(Debug)]
pub struct DataReader {
    mode: EndOfData,
    at_line_start: bool,
    /// The current line so far (only while it could still be the end marker or needs unstuffing).
    pending: Vec<u8>,
    message: Vec<u8>,
    /// Bytes of the message, counted even past `limit` (what was discarded too).
    size: u64,
    limit: u64,
    lines: u64,
    ended: bool,
}

impl DataReader {
    pub fn new(mode: EndOfData, limit: u64) -> DataReader {
        DataReader {
            mode,
            at_line_start: true,
            pending: Vec::new(),
            message: Vec::new(),
            size: 0,
            limit,
            lines: 0,
            ended: false,
        }
    }

    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Bytes of the message (unstuffed), whether or not they were kept.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The message was longer than the limit: its bytes past the limit were dropped.
    pub fn too_big(&self) -> bool {
        self.size > self.limit
    }

    pub fn into_message(self) -> Vec<u8> {
        self.message
    }

    /// Take bytes; returns how many were used (all of them unless the end marker came).
    pub fn feed(&mut self, input: &[u8]) -> usize {
        let mut used = 0;
        while used < input.len() && !self.ended {
            let rest = &input[used..];
            match rest.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    self.pending.extend_from_slice(&rest[..=at]);
                    used += at + 1;
                    self.line_complete();
                }
                None => {
                    self.pending.extend_from_slice(rest);
                    used = input.len();
                    if self.pending.len() > MAX_PENDING {
                        // Long enough to know it is not the marker: unstuff its dot and move it on.
                        self.unstuff();
                        let pending = std::mem::take(&mut self.pending);
                        self.keep(&pending);
                        self.at_line_start = false;
                    }
                }
            }
        }
        used
    }

    /// `pending` ends with LF: a line ending, or (strict) a bare LF inside a line.
    fn line_complete(&mut self) {
        let crlf = self.pending.ends_with(b"\r\n");
        let ends_line = crlf || self.mode == EndOfData::Lenient;
        if self.at_line_start {
            let marker = match self.mode {
                EndOfData::Strict => self.pending == b".\r\n",
                EndOfData::Lenient => self.pending == b".\r\n" || self.pending == b".\n",
            };
            if marker {
                self.pending.clear();
                self.ended = true;
                return;
            }
            self.unstuff();
        }
        let pending = std::mem::take(&mut self.pending);
        self.keep(&pending);
        if ends_line {
            self.lines += 1;
        }
        self.at_line_start = ends_line;
        self.pending = pending;
        self.pending.clear();
    }

    /// RFC 5321 §4.5.2: a line that starts with a dot lost its first one.
    fn unstuff(&mut self) {
        if self.at_line_start && self.pending.first() == Some(&b'.') {
            self.pending.remove(0);
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.size) as usize;
        self.message.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.size += bytes.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(mode: EndOfData, input: &[u8]) -> (Vec<u8>, usize, bool) {
        let mut reader = DataReader::new(mode, 1 << 20);
        let used = reader.feed(input);
        let ended = reader.is_ended();
        (reader.into_message(), used, ended)
    }

    #[test]
    fn unstuffs_and_stops_at_the_marker() {
        let input = b"Subject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
        let (message, used, ended) = read(EndOfData::Strict, input);
        assert!(ended);
        assert_eq!(message, b"Subject: x\r\n\r\n.dot\r\n");
        assert_eq!(&input[used..], b"QUIT\r\n");
        assert_eq!(read(EndOfData::Strict, b".\r\n"), (Vec::new(), 3, true));
    }

    #[test]
    fn strict_keeps_bare_line_feeds_as_text() {
        let input = b"a\n.\nMAIL FROM:<x@y.test>\r\n.\r\n";
        let (message, used, ended) = read(EndOfData::Strict, input);
        assert!(ended);
        assert_eq!(used, input.len());
        assert_eq!(message, b"a\n.\nMAIL FROM:<x@y.test>\r\n");
        // A bare CR around a dot is text in both modes.
        let (message, _, ended) = read(EndOfData::Lenient, b"a\r.\r\r\n.\r\n");
        assert!(ended);
        assert_eq!(message, b"a\r.\r\r\n");
    }

    #[test]
    fn lenient_ends_at_a_bare_line_feed_dot() {
        for input in [&b"a\n.\nMAIL"[..], b"a\r\n.\nMAIL", b"a\n.\r\nMAIL"] {
            let (message, used, ended) = read(EndOfData::Lenient, input);
            assert!(ended, "{input:?}");
            assert_eq!(&input[used..], b"MAIL");
            assert!(message == b"a\n" || message == b"a\r\n", "{message:?}");
        }
    }

    #[test]
    fn every_split_point_gives_the_same_message() {
        let input: &[u8] = b"..a\r\nb\n.c\r\n.\r\n\r\n..\r\n.\r\nNOOP\r\n";
        let (whole, used, _) = read(EndOfData::Strict, input);
        assert_eq!(whole, b".a\r\nb\n.c\r\n");
        for split in 0..=input.len() {
            let mut reader = DataReader::new(EndOfData::Strict, 1 << 20);
            let first = reader.feed(&input[..split]);
            let second = if reader.is_ended() { 0 } else { reader.feed(&input[split..]) };
            assert_eq!(first + second, used, "split at {split}");
            assert_eq!(reader.into_message(), whole, "split at {split}");
        }
    }

    #[test]
    fn memory_is_bounded() {
        let mut reader = DataReader::new(EndOfData::Strict, 100);
        reader.feed(&vec![b'x'; 50_000]);
        assert!(reader.pending.len() <= MAX_PENDING);
        reader.feed(b"\r\n.\r\n");
        assert!(reader.is_ended() && reader.too_big());
        assert_eq!(reader.size(), 50_002);
        assert_eq!(reader.into_message().len(), 100);
    }
}
