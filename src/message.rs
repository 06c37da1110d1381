//! Building the RFC 5322 message from flags (with mail-builder), and the pieces of it postie makes itself:
//! a Date in local time with its offset, a Message-ID in the sender's domain, checked custom headers.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};
use mail_builder::MessageBuilder;

use crate::address::Mailbox;
use crate::smtp::codec::{self, Content, DotStuffer, Facts};

mod date;
pub mod input;
mod recipients;

pub use date::{rfc5322_date, utc_date};
pub use input::Input;
pub use recipients::{complete_headers, header_section_end, read_recipients};

/// The body of the default test message (as swaks sends one), used when no body is given.
pub const DEFAULT_BODY: &str = "This is a test mailing\n";

/// A header the user gave with `--header 'Name: value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// Parse `Name: value`. RFC 5322 §2.2: a field name is printable ASCII except the colon; a value may not
/// contain CR or LF (that would start another header: header injection).
pub fn parse_header(input: &str) -> Result<Header, String> {
    let Some((name, value)) = input.split_once(':') else {
        return Err("it has no colon; write it as 'Name: value'".into());
    };
    if name.is_empty() {
        return Err("the header name before the colon is empty".into());
    }
    if let Some(c) = name.chars().find(|&c| !(c.is_ascii_graphic() && c != ':')) {
        return Err(format!("the header name {name:?} contains {c:?}; names are printable ASCII without spaces"));
    }
    check_header_value(value)?;
    Ok(Header { name: name.to_string(), value: value.trim().to_string() })
}

/// A value that goes into a header must stay on its line.
pub fn check_header_value(value: &str) -> Result<(), String> {
    if value.contains(['\r', '\n']) {
        return Err("it contains a line break (CR or LF), which would inject a header".into());
    }
    if let Some(c) = value.chars().find(|&c| c.is_control() && c != '\t') {
        return Err(format!("it contains the control character U+{:04X}", c as u32));
    }
    Ok(())
}

/// A file attached to the message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    /// A big file stays on disk and is base64-encoded as it is written.
    pub data: Input,
}

/// Everything the built message is made of. The message can be written any number of times and comes out
/// the same each time (fixed Date, Message-ID and MIME boundaries), so postie can measure it in one pass and
/// stream it in the next, never holding the encoded message in memory.
#[derive(Debug, Clone)]
pub struct Composition {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    /// `None` gives the default test subject, "test" and the date.
    pub subject: Option<String>,
    /// `None` gives the default test body (unless there is an HTML body or attachments).
    pub body: Option<Vec<u8>>,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    pub headers: Vec<Header>,
    pub date: SystemTime,
    /// The domain the Message-ID is made in: the sender's, so replies and threading stay with it.
    pub message_id_domain: String,
    /// Makes the Message-ID and the MIME boundaries of this message.
    pub unique: String,
}

impl Composition {
    /// Write the message. Bcc recipients never appear: they are given to RCPT only.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write(out, false)
    }

    /// The message's size, lines and 8-bit bytes, without reading or encoding its attachment files: each is
    /// written as an empty body and the lines of its base64 are counted instead (base64 is 7-bit, never starts
    /// a line with a dot, and fills whole lines from a line start, so it adds exactly its own bytes and lines).
    pub fn measure(&self) -> io::Result<Facts> {
        let mut facts = codec::measure(|out| self.write(out, true))?;
        for attachment in self.attachments.iter().filter(|a| matches!(a.data, Input::File(_))) {
            let (bytes, lines) = base64_lines(attachment.data.len());
            facts.size += bytes;
            facts.lines += lines;
        }
        Ok(facts)
    }

    fn write(&self, out: &mut dyn Write, measuring: bool) -> io::Result<()> {
        if !self.attachments.is_empty() {
            return self.write_mixed(out, measuring);
        }
        let mut tracked = LastBytes { inner: out, last: [0; 2] };
        self.builder(self.main_part().expect("a text or HTML part when there are no attachments"))
            .write_to(&mut tracked)?;
        // The wire adds a final line break anyway (RFC 5321 §4.1.1.4); adding it here makes --dump show
        // exactly what goes after DATA.
        if tracked.last != *b"\r\n" {
            tracked.inner.write_all(b"\r\n")?;
        }
        Ok(())
    }

    /// A message with attachments: multipart/mixed, the text (or the alternatives) first. mail-builder writes
    /// the headers and each part, postie the boundaries between them, exactly as mail-builder would have
    /// written them around the same parts (a test checks it), so that an attachment in a file can be
    /// base64-encoded from the file block by block instead of from memory.
    fn write_mixed(&self, out: &mut dyn Write, measuring: bool) -> io::Result<()> {
        let boundary = format!("postie-mixed-{}", self.unique);
        let mixed = ContentType::new("multipart/mixed").attribute("boundary", boundary.as_str());
        let mut head = Vec::new();
        self.builder(MimePart::new(mixed, Vec::<MimePart<'_>>::new())).write_to(&mut head)?;
        // mail-builder closes the empty multipart; the parts go before that.
        let closing = format!("\r\n--{boundary}--\r\n");
        let Some(headers) = head.strip_suffix(closing.as_bytes()) else {
            return Err(io::Error::other("mail-builder wrote the multipart/mixed headers in an unexpected form"));
        };
        out.write_all(headers)?;
        let separator = format!("\r\n--{boundary}\r\n");
        let mut part = Vec::new();
        if let Some(main) = self.main_part() {
            out.write_all(separator.as_bytes())?;
            main.write_part(&mut part);
            out.write_all(&part)?;
        }
        for attachment in &self.attachments {
            out.write_all(separator.as_bytes())?;
            part.clear();
            let kind = ContentType::new(attachment.content_type.as_str());
            match &attachment.data {
                Input::Memory(data) => {
                    MimePart::new(kind, BodyPart::Binary(data.as_slice().into()))
                        .attachment(attachment.name.as_str())
                        .write_part(&mut part);
                    out.write_all(&part)?;
                }
                Input::File(_) => {
                    // The part's headers with an empty body, then the body encoded as mail-builder encodes a
                    // binary one: base64, 76 characters a line.
                    MimePart::new(kind, BodyPart::Binary((&[][..]).into()))
                        .attachment(attachment.name.as_str())
                        .transfer_encoding("base64")
                        .write_part(&mut part);
                    out.write_all(&part)?;
                    // Measuring, the body is counted, not written (see `measure`).
                    if !measuring {
                        write_base64(&attachment.data, out)?;
                    }
                }
            }
        }
        out.write_all(closing.as_bytes())
    }

    fn builder<'a>(&'a self, body: MimePart<'a>) -> MessageBuilder<'a> {
        let overridden = |name: &str| self.headers.iter().any(|h| h.name.eq_ignore_ascii_case(name));
        let date = rfc5322_date(self.date);
        fn list(mailboxes: &[Mailbox]) -> Address<'_> {
            Address::new_list(mailboxes.iter().map(address).collect())
        }
        let mut builder = MessageBuilder::new();
        if !overridden("Date") {
            builder = builder.header("Date", Raw::new(date.clone()));
        }
        if !overridden("From") {
            builder = builder.from(address(&self.from));
        }
        if !overridden("To") && !self.to.is_empty() {
            builder = builder.to(list(&self.to));
        }
        if !overridden("Cc") && !self.cc.is_empty() {
            builder = builder.cc(list(&self.cc));
        }
        if !overridden("Reply-To") && !self.reply_to.is_empty() {
            builder = builder.reply_to(list(&self.reply_to));
        }
        if !overridden("Subject") {
            let subject = self.subject.clone().unwrap_or_else(|| format!("test {date}"));
            builder = builder.subject(Text::new(subject));
        }
        if !overridden("Message-ID") {
            builder = builder.message_id(format!("{}@{}", self.unique, self.message_id_domain));
        }
        for header in &self.headers {
            builder = if header.value.is_ascii() {
                builder.header(header.name.as_str(), Raw::new(header.value.as_str()))
            } else {
                // RFC 2047 encoded words for non-ASCII text.
                builder.header(header.name.as_str(), Text::new(header.value.as_str()))
            };
        }
        builder.body(body)
    }

    /// The text, the HTML, or both as alternatives; the attachments go after it (see `write_mixed`).
    /// Boundaries are fixed per message (see `unique`).
    fn main_part<'a>(&'a self) -> Option<MimePart<'a>> {
        let boundary = |level: &str| format!("postie-{level}-{}", self.unique);
        let multipart = |kind: &'static str, level: &str, parts: Vec<MimePart<'a>>| -> MimePart<'a> {
            MimePart::new(ContentType::new(kind).attribute("boundary", boundary(level)), parts)
        };
        let text = match (&self.body, &self.html, self.attachments.is_empty()) {
            (Some(body), _, _) => Some(text_part(body)),
            (None, None, true) => Some(text_part(DEFAULT_BODY.as_bytes())),
            (None, _, _) => None,
        };
        let html = self.html.as_deref().map(|html| MimePart::new("text/html", BodyPart::Text(html.into())));
        match (text, html) {
            (Some(text), Some(html)) => Some(multipart("multipart/alternative", "alt", vec![text, html])),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => None,
        }
    }
}

/// Base64 in lines of 76 characters, each ended by CRLF, as mail-builder writes a body (RFC 2045 §6.8): 57
/// bytes of input a line, read in blocks that hold whole lines.
fn write_base64(input: &Input, out: &mut dyn Write) -> io::Result<()> {
    use base64::Engine;
    const LINE: usize = 57;
    // 840 lines of 78 bytes fill 65,520 of the 65,536 bytes the codec passes at once and the socket is written
    // in: each block goes out as one write. (1,024 lines made 79,872 bytes, sent as a full write and a 14 KiB
    // one, twice the writes for the server to wake up for.)
    const LINES: usize = 840;
    let mut plain = vec![0; LINES * 76];
    let mut encoded = Vec::with_capacity(LINES * 78);
    input.each_block(LINE * LINES, &mut |block| {
        // A block is whole lines but the last: encoded at once it is the lines encoded one by one, in one call
        // per block instead of one per line.
        let length = base64::engine::general_purpose::STANDARD
            .encode_slice(block, &mut plain)
            .expect("a block's base64 fits its buffer");
        encoded.clear();
        for line in plain[..length].chunks(76) {
            encoded.extend_from_slice(line);
            encoded.extend_from_slice(b"\r\n");
        }
        out.write_all(&encoded)
    })
}

/// The bytes and lines `write_base64` writes for `length` bytes of input: lines of 76 characters and CRLF,
/// the last one shorter.
fn base64_lines(length: u64) -> (u64, u64) {
    let characters = length.div_ceil(3) * 4;
    let lines = characters.div_ceil(76);
    (characters + 2 * lines, lines)
}

fn text_part(body: &[u8]) -> MimePart<'_> {
    match std::str::from_utf8(body) {
        Ok(text) => MimePart::new("text/plain", BodyPart::Text(text.into())),
        // Not UTF-8: keep the bytes exactly; the transfer encoding carries them, and the charset says that
        // it is unknown rather than claim one (RFC 1428).
        Err(_) => MimePart::new(
            ContentType::new("text/plain").attribute("charset", "unknown-8bit"),
            BodyPart::Binary(body.into()),
        ),
    }
}

/// Remembers the last two bytes written through it.
struct LastBytes<'a> {
    inner: &'a mut dyn Write,
    last: [u8; 2],
}

impl Write for LastBytes<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        match n {
            0 => {}
            1 => self.last = [self.last[1], buf[0]],
            _ => self.last = [buf[n - 2], buf[n - 1]],
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The message to send: exactly the bytes the user gave (--data), those bytes with a header section postie
/// read and completed (-t, sendmail), or a message postie builds.
#[derive(Debug, Clone)]
pub enum Message {
    Raw(Input),
    /// The header section as rewritten (CRLF line ends, up to and including the empty line), then the rest
    /// of the input, whose line ends are normalised to CRLF as it is written: only the header section is
    /// held in memory.
    Rewritten {
        header: Vec<u8>,
        body: Input,
    },
    Composed(Box<Composition>),
}

impl Message {
    /// The message's size, lines and 8-bit bytes: what SIZE, BODY and SMTPUTF8 need before it is sent.
    pub fn measure(&self) -> io::Result<Facts> {
        match self {
            Message::Composed(composition) => composition.measure(),
            // A spooled standard input was measured on its way to the spool file.
            Message::Raw(input) => match input.facts() {
                Some(facts) => Ok(facts),
                None => codec::measure(|out| input.write_to(out)),
            },
            other => codec::measure(|out| other.write_to(out)),
        }
    }
}

impl Content for Message {
    fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Message::Raw(input) => input.write_to(out),
            Message::Rewritten { header, body } => {
                out.write_all(header)?;
                let mut normaliser = DotStuffer::without_dot_stuffing(out);
                body.write_to(&mut normaliser)?;
                normaliser.end_content()
            }
            Message::Composed(composition) => composition.write_to(out),
        }
    }
}

/// The whole message in memory (for tests and small messages).
pub fn compose(composition: &Composition) -> Vec<u8> {
    let mut message = Vec::new();
    composition.write_to(&mut message).expect("writing to a Vec cannot fail");
    message
}

fn address(mailbox: &Mailbox) -> Address<'_> {
    Address::new_address(mailbox.name.as_deref(), mailbox.address.as_str())
}

/// `time.micros.pid.counter`: unique without a random source; the left part of the Message-ID (in the
/// sender's domain, RFC 5322 §3.6.4) and of the MIME boundaries.
pub fn unique_token(now: SystemTime) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "{}.{:06}.{}.{}",
        since_epoch.as_secs(),
        since_epoch.subsec_micros(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::parse_mailbox;
    use std::time::Duration;

    #[test]
    fn headers() {
        assert_eq!(parse_header("X-Test: hello "), Ok(Header { name: "X-Test".into(), value: "hello".into() }));
        assert_eq!(parse_header("X-Empty:"), Ok(Header { name: "X-Empty".into(), value: String::new() }));
        assert_eq!(parse_header("no colon"), Err("it has no colon; write it as 'Name: value'".into()));
        assert_eq!(parse_header(": v"), Err("the header name before the colon is empty".into()));
        assert_eq!(
            parse_header("X Bad: v"),
            Err("the header name \"X Bad\" contains ' '; names are printable ASCII without spaces".into())
        );
        assert_eq!(
            parse_header("X-A: v\r\nBcc: evil@x.test"),
            Err("it contains a line break (CR or LF), which would inject a header".into())
        );
    }

    fn composition(subject: Option<&str>, body: Option<&[u8]>, headers: &[Header]) -> Composition {
        Composition {
            from: parse_mailbox("Ada Lovelace <ada@example.test>").unwrap(),
            to: vec![parse_mailbox("bob@example.test").unwrap()],
            cc: vec![],
            reply_to: vec![],
            subject: subject.map(String::from),
            body: body.map(<[u8]>::to_vec),
            html: None,
            attachments: vec![],
            headers: headers.to_vec(),
            date: UNIX_EPOCH + Duration::from_secs(1_795_470_821),
            message_id_domain: "example.test".into(),
            unique: "1.2.3".into(),
        }
    }

    fn compose_text(subject: Option<&str>, body: Option<&[u8]>, headers: &[Header]) -> String {
        String::from_utf8(compose(&composition(subject, body, headers))).unwrap()
    }

    #[test]
    fn composed_message() {
        let text = compose_text(Some("hi"), Some(b"hello\n"), &[]);
        assert!(compose_text(Some("hi"), Some(b"no newline"), &[]).ends_with("\r\n\r\nno newline\r\n"));
        assert!(text.contains("From: \"Ada Lovelace\" <ada@example.test>\r\n"), "{text}");
        assert!(text.contains("Subject: hi\r\n"));
        assert!(text.contains("Message-ID: <1.2.3@example.test>\r\n"), "{text}");
        assert!(!text.contains("Bcc"));
        assert!(text.ends_with("\r\n\r\nhello\r\n"), "{text}");
    }

    #[test]
    fn the_same_message_every_time() {
        let mut c = composition(Some("x"), Some(b"body"), &[]);
        c.html = Some("<p>hi</p>".into());
        c.attachments = vec![Attachment {
            name: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            data: Input::Memory(vec![0, 1, 2, 255]),
        }];
        let first = compose(&c);
        assert_eq!(first, compose(&c));
        let text = String::from_utf8(first).unwrap();
        assert!(text.contains("multipart/mixed") && text.contains("multipart/alternative"), "{text}");
        assert!(text.contains("boundary=\"postie-mixed-1.2.3\""), "{text}");
        assert!(text.contains("filename=\"a.bin\""), "{text}");
    }

    #[test]
    fn default_subject_and_body() {
        let text = compose_text(None, None, &[]);
        assert!(text.contains("Subject: test "), "{text}");
        assert!(text.ends_with("This is a test mailing\r\n"), "{text}");
    }

    #[test]
    fn user_headers_replace_generated_ones() {
        let headers = [parse_header("Subject: mine").unwrap(), parse_header("X-Trace: 1").unwrap()];
        let text = compose_text(Some("generated"), Some(b"x"), &headers);
        assert!(!text.contains("generated"));
        assert_eq!(text.matches("Subject:").count(), 1);
        assert!(text.contains("Subject: mine\r\n") && text.contains("X-Trace: 1\r\n"), "{text}");
    }

    /// The round trip the `address` fuzz target checks, for the shapes it found or that matter most: what
    /// postie accepts is what a receiver reads in From and To.
    #[test]
    fn addresses_read_back_the_same() {
        for input in [
            "bob@example.test",
            "\"Lovelace, Ada\" <ada@example.test>",
            r#""Doe, \"JJ\" John" <j@x.test>"#,
            "J\u{f6}rg M\u{fc}ller <j\u{f6}rg@b\u{fc}cher.test>",
            "a <b <x@[192.0.2.1]>",
            "x@[IPv6:2001:db8::1]",
            "o'brien+tag=x/y?z@example.test",
        ] {
            let mailbox = parse_mailbox(input).unwrap();
            let mut c = composition(None, None, &[]);
            c.from = mailbox.clone();
            c.to = vec![mailbox.clone()];
            let message = compose(&c);
            let parsed = mail_parser::MessageParser::default().parse(&message).unwrap();
            for list in [parsed.from().unwrap(), parsed.to().unwrap()] {
                let read = list.first().unwrap();
                assert_eq!((read.address(), read.name()), (Some(mailbox.address.as_str()), mailbox.name.as_deref()));
            }
        }
        // Found by fuzzing: an encoded word in the address is decoded by readers into another address.
        assert!(parse_mailbox("=?UtfUt-?q?A3tf-?qa?=?UtfUt-?q?@e").is_err());
    }

    #[test]
    fn message_ids_are_unique() {
        let now = SystemTime::now();
        assert_ne!(unique_token(now), unique_token(now));
    }

    /// The message as mail-builder alone writes it, attachments in memory: what `write_mixed` must match.
    fn built_by_mail_builder(c: &Composition) -> Vec<u8> {
        let mut parts: Vec<MimePart<'_>> = c.main_part().into_iter().collect();
        for attachment in &c.attachments {
            let Input::Memory(data) = &attachment.data else { panic!("in memory only") };
            parts.push(
                MimePart::new(
                    ContentType::new(attachment.content_type.as_str()),
                    BodyPart::Binary(data.as_slice().into()),
                )
                .attachment(attachment.name.as_str()),
            );
        }
        let boundary = format!("postie-mixed-{}", c.unique);
        let mixed = MimePart::new(ContentType::new("multipart/mixed").attribute("boundary", boundary), parts);
        let mut out = Vec::new();
        c.builder(mixed).write_to(&mut out).unwrap();
        out
    }

    #[test]
    fn attachments_framed_as_mail_builder_frames_them() {
        let directory = std::env::temp_dir().join(format!("postie-mixed-test-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let text = |data: &[u8]| Attachment {
            name: "notes.txt".into(),
            content_type: "text/plain".into(),
            data: Input::Memory(data.to_vec()),
        };
        for (body, html) in [(Some(&b"body"[..]), None), (None, Some("<p>hi</p>")), (Some(b"b"), Some("<p>h</p>"))] {
            for size in [0, 1, 2, 3, 56, 57, 58, 114, 57 * 1024 - 1, 57 * 1024, 57 * 1024 + 1, 200_000] {
                let data: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
                let mut c = composition(Some("x"), body, &[]);
                c.html = html.map(String::from);
                let binary = Attachment {
                    name: "a.bin".into(),
                    content_type: "application/octet-stream".into(),
                    data: Input::Memory(data.clone()),
                };
                c.attachments = vec![binary.clone(), text(b"plain text\n")];
                let expected = built_by_mail_builder(&c);
                assert_eq!(String::from_utf8_lossy(&compose(&c)), String::from_utf8_lossy(&expected), "{size}");
                // The same attachment read from its file, base64-encoded block by block.
                let path = directory.join("a.bin");
                std::fs::write(&path, &data).unwrap();
                c.attachments[0].data = Input::open_file(&path).unwrap();
                assert_eq!(String::from_utf8_lossy(&compose(&c)), String::from_utf8_lossy(&expected), "{size}");
                // The measuring pass counts the base64's lines without encoding it: it measures the same.
                let measured = c.measure().unwrap();
                let sent = crate::smtp::codec::measure(|out| c.write_to(out)).unwrap();
                assert_eq!(measured, sent, "{size}");
            }
        }
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
