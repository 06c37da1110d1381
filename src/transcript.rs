//! Events rendered as the human transcript: one line per protocol line.
//!
//! `C: ` what the client sent, `S: ` what the server sent (every line of a multi-line reply), `* ` postie's
//! own notes. Over TLS the colon becomes a tilde, `C~ ` and `S~ `, so a reader sees where encryption began. Everything that came from outside is escaped first (see `sanitize`), so one transcript line is
//! always one protocol line, and a server cannot write to the user's terminal.

use std::io::{self, Write};

use crate::event::{Event, Sink};
use crate::sanitize::escape;

pub struct HumanTranscript<W: Write> {
    out: W,
    /// Set once the reader has gone away (`postie … | head`): stop writing, keep working.
    closed: bool,
    data_lines_shown: bool,
}

impl<W: Write> HumanTranscript<W> {
    pub fn new(out: W) -> Self {
        HumanTranscript { out, closed: false, data_lines_shown: false }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn line(&mut self, prefix: &str, text: &str) {
        if self.closed {
            return;
        }
        let result = self.out.write_all(prefix.as_bytes()).and_then(|()| {
            self.out.write_all(text.as_bytes())?;
            self.out.write_all(b"\n")
        });
        if let Err(error) = result {
            // Nobody is reading any more (EPIPE) or the output cannot be written: the transcript is only a
            // report, so the mail is still delivered and the exit code still tells the outcome.
            self.closed = true;
            if error.kind() != io::ErrorKind::BrokenPipe {
                eprintln!("postie: warning: cannot write the transcript: {error}");
            }
        }
    }
}

impl<W: Write> Sink for HumanTranscript<W> {
    fn emit(&mut self, event: Event) {
        match event {
            Event::Info(text) => self.line("* ", &escape(text.as_bytes())),
            Event::Warning(text) => self.line("* warning: ", &escape(text.as_bytes())),
            Event::Sent { line, tls } => self.line(if tls { "C~ " } else { "C: " }, &escape(line.as_bytes())),
            Event::Received { reply, tls } => {
                for line in &reply.lines {
                    self.line(if tls { "S~ " } else { "S: " }, &escape(line));
                }
            }
            Event::DataLine { line, tls } => {
                self.data_lines_shown = true;
                self.line(if tls { "C~ " } else { "C: " }, &escape(&line));
            }
            Event::DataSent { bytes, lines, tls } => {
                let size = format!("{bytes} bytes, {lines} line{}", if lines == 1 { "" } else { "s" });
                if self.data_lines_shown {
                    self.line("* ", &format!("message sent: {size}"));
                } else {
                    self.line(if tls { "C~ " } else { "C: " }, &format!("<message: {size}>"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::reply::parse_reply;

    fn render(events: Vec<Event>) -> String {
        let mut transcript = HumanTranscript::new(Vec::new());
        for event in events {
            transcript.emit(event);
        }
        String::from_utf8(transcript.into_inner()).unwrap()
    }

    #[test]
    fn one_line_per_protocol_line() {
        let text = render(vec![
            Event::Info("connected to 127.0.0.1:25".into()),
            Event::Received { reply: parse_reply("220-mx.example.test\r\n220 ready\r\n"), tls: false },
            Event::Sent { line: "EHLO c.example.test".into(), tls: false },
            Event::Sent { line: "MAIL FROM:<a@x.test>".into(), tls: true },
            Event::Received { reply: parse_reply("250 ok\r\n"), tls: true },
            Event::DataSent { bytes: 1432, lines: 28, tls: false },
            Event::Warning("QUIT answered with 500".into()),
        ]);
        assert_eq!(
            text,
            "* connected to 127.0.0.1:25\nS: 220-mx.example.test\nS: 220 ready\nC: EHLO c.example.test\n\
             C~ MAIL FROM:<a@x.test>\nS~ 250 ok\n\
             C: <message: 1432 bytes, 28 lines>\n* warning: QUIT answered with 500\n"
        );
    }

    #[test]
    fn server_text_is_escaped() {
        let text =
            render(vec![Event::Received { reply: parse_reply("220 hi\x1b]0;owned\x07\rthere\r\n"), tls: false }]);
        assert_eq!(text, "S: 220 hi\\x1b]0;owned\\x07\\x0dthere\n");
    }

    #[test]
    fn shown_data_ends_with_a_size_note() {
        let text = render(vec![
            Event::DataLine { line: b"..dot".to_vec(), tls: false },
            Event::DataSent { bytes: 5, lines: 1, tls: false },
        ]);
        assert_eq!(text, "C: ..dot\n* message sent: 5 bytes, 1 line\n");
    }

    struct BrokenPipe;
    impl Write for BrokenPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_reader_stops_output_quietly() {
        let mut transcript = HumanTranscript::new(BrokenPipe);
        transcript.emit(Event::Info("a".into()));
        assert!(transcript.closed);
        transcript.emit(Event::Info("b".into()));
    }
}
