//! SMTP replies as data, and an incremental parser for them. No I/O here.
//!
//! RFC 5321 §4.2: a reply is one or more lines, each starting with the same three-digit code; every line but
//! the last has a hyphen after the code, the last has a space (or nothing). RFC 3463 puts an enhanced status
//! code (`class.subject.detail`) at the start of each line's text when the server offers ENHANCEDSTATUSCODES.

use std::fmt;

/// Longest reply line accepted. RFC 5321 §4.5.3.1.5 allows 512 octets; real servers send longer banners,
/// so allow far more, but stop a server from making us buffer without end.
pub const MAX_LINE: usize = 8192;
/// Most lines in one reply (an EHLO reply has a dozen).
pub const MAX_LINES: usize = 1000;

/// A reply code such as 250, with the meaning of its first digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code(pub u16);

impl Code {
    /// 2xx: the command succeeded.
    pub fn is_positive(self) -> bool {
        self.0 / 100 == 2
    }
    /// 3xx: go on (354 after DATA, 334 during AUTH).
    pub fn is_intermediate(self) -> bool {
        self.0 / 100 == 3
    }
    /// 4xx: temporary failure; the same command may succeed later.
    pub fn is_transient(self) -> bool {
        self.0 / 100 == 4
    }
    /// 5xx: permanent failure.
    pub fn is_permanent(self) -> bool {
        self.0 / 100 == 5
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An RFC 3463 enhanced status code, such as 5.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedCode {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One whole reply: its code, its enhanced code if the first line carries one, and every line as received
/// (without the line ending), so the transcript can show exactly what the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: Code,
    pub enhanced: Option<EnhancedCode>,
    pub lines: Vec<Vec<u8>>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        self.code.is_positive()
    }
    pub fn is_transient(&self) -> bool {
        self.code.is_transient()
    }
    pub fn is_permanent(&self) -> bool {
        self.code.is_permanent()
    }

    /// The text of each line, after the code and its separator.
    pub fn texts(&self) -> impl Iterator<Item = &[u8]> {
        self.lines.iter().map(|line| line.get(4..).unwrap_or_default())
    }
}

/// One line for error messages and summaries: the code and all the text, lines joined by spaces. The text is
/// the server's, raw (invalid UTF-8 replaced): whoever shows it escapes it, once, where it is rendered.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        for text in self.texts() {
            if !text.is_empty() {
                write!(f, " {}", String::from_utf8_lossy(text))?;
            }
        }
        Ok(())
    }
}

/// Why a reply could not be parsed: each is a protocol violation by the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply line does not start with a valid reply code: \"{0}\"")]
    BadCode(String),
    #[error("reply line has \"{0}\" after the code where a space or hyphen belongs")]
    BadSeparator(String),
    #[error("reply line has code {found} inside a reply that started with {expected}")]
    CodeChanged { expected: u16, found: u16 },
    #[error("reply line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("reply with more than {MAX_LINES} lines")]
    TooManyLines,
}

/// Incremental reply parser. Feed it bytes as they arrive; it hands out whole replies. It also holds the
/// bytes that arrived after the last reply, so the session can tell whether a server sent more than it was
/// asked for (RFC 3207 §5 response injection) before it starts TLS.
#[derive(Debug, Default)]
pub struct ReplyParser {
    buffer: Vec<u8>,
    /// Lines of the reply being assembled.
    pending: Vec<Vec<u8>>,
    pending_code: Option<u16>,
}

impl ReplyParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes received but not yet part of a whole reply.
    pub fn buffered(&self) -> usize {
        self.buffer.len() + self.pending.iter().map(Vec::len).sum::<usize>()
    }

    /// The next whole reply, if the buffer holds one; `Ok(None)` means more bytes are needed.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ReplyError> {
        loop {
            // A line ends at LF; a CR before it is dropped. Servers that end lines with a bare LF are
            // tolerated (be liberal in what you accept), but the line itself is kept exactly.
            let Some(end) = self.buffer.iter().position(|&b| b == b'\n') else {
                if self.buffer.len() > MAX_LINE {
                    return Err(ReplyError::LineTooLong);
                }
                return Ok(None);
            };
            if end > MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let (code, last) = parse_line(&line)?;
            match self.pending_code {
                Some(expected) if expected != code => {
                    return Err(ReplyError::CodeChanged { expected, found: code });
                }
                _ => self.pending_code = Some(code),
            }
            self.pending.push(line);
            if self.pending.len() > MAX_LINES {
                return Err(ReplyError::TooManyLines);
            }
            if last {
                let lines = std::mem::take(&mut self.pending);
                self.pending_code = None;
                let enhanced = parse_enhanced(code, lines[0].get(4..).unwrap_or_default());
                return Ok(Some(Reply { code: Code(code), enhanced, lines }));
            }
        }
    }
}

/// Code of one reply line and whether it is the last line of its reply.
fn parse_line(line: &[u8]) -> Result<(u16, bool), ReplyError> {
    let bad_code = || ReplyError::BadCode(String::from_utf8_lossy(&line[..line.len().min(40)]).into_owned());
    let [first, second, third, rest @ ..] = line else {
        return Err(bad_code());
    };
    // RFC 5321 §4.2: first digit 2-5, second 0-5, third 0-9.
    if !(b'2'..=b'5').contains(first) || !(b'0'..=b'5').contains(second) || !third.is_ascii_digit() {
        return Err(bad_code());
    }
    let code = u16::from(first - b'0') * 100 + u16::from(second - b'0') * 10 + u16::from(third - b'0');
    match rest.first() {
        None | Some(b' ') => Ok((code, true)),
        Some(b'-') => Ok((code, false)),
        Some(_) => Err(ReplyError::BadSeparator(String::from_utf8_lossy(&line[3..4.min(line.len())]).into_owned())),
    }
}

/// RFC 3463 §2: `class "." subject "." detail`, class matching the reply's first digit, subject and detail
/// of one to three digits, followed by a space or the end of the text.
fn parse_enhanced(code: u16, text: &[u8]) -> Option<EnhancedCode> {
    let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
    let token = std::str::from_utf8(&text[..end]).ok()?;
    let mut parts = token.split('.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let number = |s: &str, max_len: usize| -> Option<u16> {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let class = number(class, 1)?;
    if !(2..=5).contains(&class) || class != code / 100 {
        return None;
    }
    Some(EnhancedCode { class: class as u8, subject: number(subject, 3)?, detail: number(detail, 3)? })
}

/// Parse one complete reply from a string; for tests and examples.
#[cfg(test)]
pub fn parse_reply(text: &str) -> Reply {
    let mut parser = ReplyParser::new();
    parser.feed(text.as_bytes());
    parser.next_reply().expect("valid reply").expect("complete reply")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_replies(input: &[u8]) -> Result<Vec<Reply>, ReplyError> {
        let mut parser = ReplyParser::new();
        parser.feed(input);
        let mut replies = Vec::new();
        while let Some(reply) = parser.next_reply()? {
            replies.push(reply);
        }
        Ok(replies)
    }

    #[test]
    fn single_line() {
        let reply = parse_reply("250 2.1.0 Ok\r\n");
        assert_eq!(reply.code, Code(250));
        assert_eq!(reply.enhanced, Some(EnhancedCode { class: 2, subject: 1, detail: 0 }));
        assert_eq!(reply.lines, vec![b"250 2.1.0 Ok".to_vec()]);
        assert_eq!(reply.to_string(), "250 2.1.0 Ok");
    }

    #[test]
    fn multi_line_with_continuations() {
        let reply = parse_reply("250-mx.example.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n");
        assert_eq!(reply.lines.len(), 3);
        let texts: Vec<&[u8]> = reply.texts().collect();
        assert_eq!(texts, vec![&b"mx.example.test"[..], b"PIPELINING", b"SIZE 1000"]);
        assert_eq!(reply.enhanced, None);
    }

    #[test]
    fn code_alone_and_code_with_bare_space() {
        // smtp-sink ends its EHLO reply with "250 " and some servers send just "354".
        assert_eq!(all_replies(b"354\r\n250 \r\n").unwrap().len(), 2);
        assert_eq!(parse_reply("250 \r\n").to_string(), "250");
    }

    #[test]
    fn bare_lf_line_endings_are_tolerated() {
        let replies = all_replies(b"220-a\n220 b\n").unwrap();
        assert_eq!(replies[0].lines, vec![b"220-a".to_vec(), b"220 b".to_vec()]);
    }

    #[test]
    fn incomplete_input_asks_for_more() {
        let mut parser = ReplyParser::new();
        parser.feed(b"250-first\r\n250 sec");
        assert_eq!(parser.next_reply(), Ok(None));
        parser.feed(b"ond\r\n");
        assert_eq!(parser.next_reply().unwrap().unwrap().lines.len(), 2);
        assert_eq!(parser.buffered(), 0);
    }

    #[test]
    fn bytes_after_a_reply_stay_buffered() {
        let mut parser = ReplyParser::new();
        parser.feed(b"220 go ahead\r\n250 injected\r\n");
        assert!(parser.next_reply().unwrap().is_some());
        assert_eq!(parser.buffered(), "250 injected\r\n".len());
    }

    #[test]
    fn every_split_point_gives_the_same_replies() {
        let input: &[u8] = b"220-mx.example.test ESMTP\r\n220 ready\r\n250-x\n250 8BITMIME\r\n550 5.1.1 <a@b>: no\r\n";
        let whole = all_replies(input).unwrap();
        assert_eq!(whole.len(), 3);
        for split in 0..=input.len() {
            let mut parser = ReplyParser::new();
            let mut replies = Vec::new();
            for part in [&input[..split], &input[split..]] {
                parser.feed(part);
                while let Some(reply) = parser.next_reply().unwrap() {
                    replies.push(reply);
                }
            }
            assert_eq!(replies, whole, "split at {split}");
        }
        // And one byte at a time.
        let mut parser = ReplyParser::new();
        let mut replies = Vec::new();
        for byte in input {
            parser.feed(std::slice::from_ref(byte));
            while let Some(reply) = parser.next_reply().unwrap() {
                replies.push(reply);
            }
        }
        assert_eq!(replies, whole);
    }

    #[test]
    fn malformed_lines_are_errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"hello\r\n", "reply line does not start with a valid reply code: \"hello\""),
            (b"25\r\n", "reply line does not start with a valid reply code: \"25\""),
            (b"199 too low\r\n", "reply line does not start with a valid reply code: \"199 too low\""),
            (b"260 second digit\r\n", "reply line does not start with a valid reply code: \"260 second digit\""),
            (b"250:x\r\n", "reply line has \":\" after the code where a space or hyphen belongs"),
            (b"250-a\r\n251 b\r\n", "reply line has code 251 inside a reply that started with 250"),
            // Raw here: the renderer escapes it, once.
            (b"\x1b[31m\r\n", "reply line does not start with a valid reply code: \"\x1b[31m\""),
        ];
        for (input, message) in cases {
            let error = all_replies(input).unwrap_err();
            assert_eq!(error.to_string(), *message, "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn limits_are_enforced() {
        let long = vec![b'2'; MAX_LINE + 2];
        assert_eq!(all_replies(&long), Err(ReplyError::LineTooLong));
        let many = "250-x\r\n".repeat(MAX_LINES + 1);
        assert_eq!(all_replies(many.as_bytes()), Err(ReplyError::TooManyLines));
    }

    #[test]
    fn enhanced_codes_must_match_the_class() {
        assert_eq!(parse_reply("550 5.7.1 denied\r\n").enhanced.unwrap().to_string(), "5.7.1");
        assert_eq!(parse_reply("550 4.7.1 wrong class\r\n").enhanced, None);
        assert_eq!(parse_reply("250 2.0.0\r\n").enhanced.unwrap().to_string(), "2.0.0");
        assert_eq!(parse_reply("250 2.0 short\r\n").enhanced, None);
        assert_eq!(parse_reply("250 2.1000.0 long\r\n").enhanced, None);
        assert_eq!(parse_reply("421 4.4.2 Timeout\r\n").enhanced.unwrap().to_string(), "4.4.2");
    }

    #[test]
    fn escaped_one_line_form_has_nothing_a_terminal_obeys() {
        // From the reply fuzz target (its oracle predated escaping at the edge): the raw form keeps the bytes,
        // the escaped form keeps none of them.
        let reply = parse_reply("250 caf\u{e9} \x1b[31m\u{202e}\r\n");
        assert_eq!(reply.to_string(), "250 caf\u{e9} \x1b[31m\u{202e}");
        let shown = crate::sanitize::escape(reply.to_string().as_bytes());
        assert!(!shown.chars().any(|c| c.is_control() || crate::sanitize::is_bidi_control(c)), "{shown}");
    }

    #[test]
    fn display_keeps_the_raw_text_for_the_renderer_to_escape() {
        // Escaping happens once, where the text is rendered; escaping here too would show `\\x1b`.
        assert_eq!(parse_reply("550 bad\x1b[0m\r\n").to_string(), "550 bad\x1b[0m");
    }
}
