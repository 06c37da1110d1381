//! `postie talk`: the user types SMTP commands and sees every reply. On a terminal with line editing and
//! history (rustyline), with help where typing is painful: STARTTLS runs the handshake, AUTH without
//! arguments asks for the user and password, DATA takes the message, EHLO explains the capabilities. Not on
//! a terminal, commands come from stdin one line at a time, each waiting for its reply.

use std::io::{self, BufRead, IsTerminal};
use std::path::Path;

use crate::cli::TalkArgs;
use crate::error::{Error, Exit};
use crate::event::Sink;
use crate::render::explain;
use crate::smtp::auth::{self, Mechanism, Secret};
use crate::smtp::reply::{Code, EnhancedCode, Reply};
use crate::smtp::session::Answer;
use crate::smtp::settings::Timeouts;

use super::connect::Target;
use super::steer::{self, Steered};

const HELP: &str = "Type SMTP commands; each waits for its reply. Help from postie:
  EHLO / LHLO          with no name, postie's --helo name; the capabilities are explained
  STARTTLS             runs the TLS handshake and shows the certificate and the verdict
  AUTH PLAIN | LOGIN | CRAM-MD5
                       with nothing after it, asks for the user and the password (not echoed)
  DATA                 then the message, ended by a line with a lone \".\" (dot-stuffed for you)
  DATA < PATH          sends the file as the message
  QUIT or Ctrl-D       ends the session
Local commands:
  :help                this text
  :explain CODE        what a reply code means (550, 5.7.1, 550 5.1.1)
  :quit                QUIT and leave
";

pub fn run(args: &TalkArgs) -> anyhow::Result<Exit> {
    let target = Target::parse(args.server.as_deref(), args.connect.protocol.pipe.as_deref(), "SERVER")?;
    let mut output = super::output_style(&args.connect.output);
    output.style.explain_capabilities = true;
    let mut renderer = super::stdout_renderer(output);
    let sink = renderer.as_mut();
    let mut steered = steer::connect(&target, &args.connect, Timeouts::rfc5321(), false, sink)?;
    let greeting = steered.open_session(false, sink)?;
    let terminal = io::stdin().is_terminal() && io::stdout().is_terminal();
    let mut input: Box<dyn Input> = if terminal { Box::new(Editor::new()?) } else { Box::new(Lines::new()) };
    let mut talk = Talk {
        steered: &mut steered,
        last: greeting,
        accepted: 0,
        in_auth: false,
        show_secrets: args.connect.show_secrets,
        terminal,
    };
    let result = talk.converse(input.as_mut(), sink);
    let last = talk.last.clone();
    steered.manual.close(sink);
    if let Some(child) = &steered.child {
        child.finish(std::time::Duration::from_secs(2));
    }
    result?;
    Ok(last.map_or(Exit::Success, |reply| class_exit(&reply)))
}

/// The exit code of a reply's class, as `send` documents them.
fn class_exit(reply: &Reply) -> Exit {
    match reply.code.0 / 100 {
        2 | 3 => Exit::Success,
        4 => Exit::TempFail,
        _ => Exit::Unavailable,
    }
}

/// Where typed lines come from.
trait Input {
    /// The next line, without its line ending; `None` at the end of input (Ctrl-D).
    fn line(&mut self, prompt: &str) -> Result<Option<String>, Error>;
    /// The password, not echoed.
    fn secret(&mut self, prompt: &str) -> Result<Option<String>, Error>;
}

struct Editor(rustyline::DefaultEditor);

impl Editor {
    fn new() -> Result<Editor, Error> {
        rustyline::DefaultEditor::new()
            .map(Editor)
            .map_err(|e| Error::Input { path: "the terminal".into(), cause: io::Error::other(e.to_string()) })
    }
}

impl Input for Editor {
    fn line(&mut self, prompt: &str) -> Result<Option<String>, Error> {
        use rustyline::error::ReadlineError;
        match self.0.readline(prompt) {
            Ok(line) => {
                let _ = self.0.add_history_entry(line.as_str());
                Ok(Some(line))
            }
            // Ctrl-C clears the line, as in a shell; Ctrl-D ends.
            Err(ReadlineError::Interrupted) => Ok(Some(String::new())),
            Err(ReadlineError::Eof) => Ok(None),
            Err(error) => Err(Error::Input { path: "the terminal".into(), cause: io::Error::other(error.to_string()) }),
        }
    }

    fn secret(&mut self, prompt: &str) -> Result<Option<String>, Error> {
        rpassword::prompt_password(prompt)
            .map(Some)
            .map_err(|cause| Error::Input { path: "the terminal".into(), cause })
    }
}

struct Lines(io::StdinLock<'static>);

impl Lines {
    fn new() -> Lines {
        Lines(io::stdin().lock())
    }
}

impl Input for Lines {
    fn line(&mut self, _prompt: &str) -> Result<Option<String>, Error> {
        let mut bytes = Vec::new();
        let read =
            self.0.read_until(b'\n', &mut bytes).map_err(|cause| Error::Input { path: "stdin".into(), cause })?;
        if read == 0 {
            return Ok(None);
        }
        let line = String::from_utf8(bytes).map_err(|_| {
            Error::BadInput(
                "a line on stdin is not UTF-8 text; use `postie script` with send-raw for exact bytes".into(),
            )
        })?;
        Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()))
    }

    fn secret(&mut self, prompt: &str) -> Result<Option<String>, Error> {
        self.line(prompt)
    }
}

struct Talk<'s> {
    steered: &'s mut Steered,
    /// The last reply, whose class is the exit code.
    last: Option<Reply>,
    /// LMTP: recipients accepted since MAIL, each of which gets a reply after the message.
    accepted: usize,
    /// The last reply was a 334 to AUTH: the next line is a response that may hold a secret.
    in_auth: bool,
    show_secrets: bool,
    terminal: bool,
}

impl Talk<'_> {
    fn converse(&mut self, input: &mut dyn Input, sink: &mut dyn Sink) -> Result<(), Error> {
        if self.terminal {
            eprintln!("postie: type SMTP commands, :help for help, Ctrl-D to quit");
        }
        loop {
            if self.steered.manual.session().is_ending() {
                return Ok(());
            }
            let prompt = if self.steered.manual.session().is_encrypted() { "postie[tls]> " } else { "postie> " };
            let Some(line) = input.line(prompt)? else {
                // Ctrl-D, or the end of the piped commands: QUIT and wait for 221.
                if !self.steered.manual.session().is_ending() {
                    self.command("QUIT", sink)?;
                    self.await_close(sink);
                }
                return Ok(());
            };
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(local) = trimmed.strip_prefix(':') {
                if self.local(local, sink)? {
                    return Ok(());
                }
                continue;
            }
            let words: Vec<&str> = trimmed.split_whitespace().collect();
            let verb = words[0].to_ascii_uppercase();
            match verb.as_str() {
                _ if self.in_auth => {
                    let shown = if self.show_secrets { line.clone() } else { "<redacted>".to_string() };
                    self.command_shown(&line, &shown, sink)?;
                }
                "STARTTLS" if words.len() == 1 => {
                    self.steered.manual.session().starttls();
                    self.step(sink)?;
                }
                "AUTH" if words.len() == 2 => match auth::mechanism_named(words[1]) {
                    Some(mechanism @ (Mechanism::Plain | Mechanism::Login | Mechanism::CramMd5)) => {
                        self.authenticate(mechanism, input, sink)?
                    }
                    _ => {
                        self.command(&line, sink)?;
                    }
                },
                "AUTH" if words.len() > 2 => {
                    // An initial response typed by hand holds the credentials: keep it off the screen.
                    let shown = if self.show_secrets { line.clone() } else { format!("AUTH {} <redacted>", words[1]) };
                    self.command_shown(&line, &shown, sink)?;
                }
                "EHLO" | "LHLO" | "HELO" if words.len() == 1 => {
                    let full = format!("{verb} {}", self.steered.helo);
                    self.command(&full, sink)?;
                }
                "MAIL" | "RSET" => {
                    self.accepted = 0;
                    self.command(&line, sink)?;
                }
                "RCPT" => {
                    if self.command(&line, sink)?.is_some_and(|r| r.is_positive()) {
                        self.accepted += 1;
                    }
                }
                "DATA" => self.data(&words, input, sink)?,
                "QUIT" => {
                    self.command(&line, sink)?;
                    self.await_close(sink);
                    return Ok(());
                }
                _ => {
                    self.command(&line, sink)?;
                }
            }
        }
    }

    /// A local command; `true` to leave.
    fn local(&mut self, command: &str, sink: &mut dyn Sink) -> Result<bool, Error> {
        let mut words = command.split_whitespace();
        match words.next().unwrap_or_default() {
            "help" | "h" | "?" => eprint!("{HELP}"),
            "quit" | "q" | "exit" => {
                self.command("QUIT", sink)?;
                self.await_close(sink);
                return Ok(true);
            }
            "explain" => {
                let code: Vec<&str> = words.collect();
                match explain_code(&code.join(" ")) {
                    Some(text) => eprintln!("{text}"),
                    None => eprintln!("postie: :explain takes a reply code: 550, 5.7.1 or 550 5.1.1"),
                }
            }
            other => eprintln!("postie: unknown local command :{other} (:help lists them)"),
        }
        Ok(false)
    }

    fn command(&mut self, line: &str, sink: &mut dyn Sink) -> Result<Option<Reply>, Error> {
        self.command_shown(line, line, sink)
    }

    fn command_shown(&mut self, line: &str, shown: &str, sink: &mut dyn Sink) -> Result<Option<Reply>, Error> {
        let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let was_auth = self.in_auth;
        self.steered.manual.session().command(line, shown);
        let reply = self.step(sink)?;
        // A 334 to AUTH (or to a response in the exchange) asks for a response that may be a secret.
        self.in_auth = (verb == "AUTH" || was_auth) && reply.as_ref().is_some_and(|r| r.code.0 == 334);
        Ok(reply)
    }

    /// Run the step given to the session; the last reply. A timeout is reported and the session goes on; a
    /// connection that broke ends it.
    fn step(&mut self, sink: &mut dyn Sink) -> Result<Option<Reply>, Error> {
        let answer = self.steered.manual.run(None, sink);
        self.settle(answer)
    }

    fn settle(&mut self, answer: Answer) -> Result<Option<Reply>, Error> {
        if let Some(reply) = answer.last() {
            self.last = Some(reply.clone());
        }
        match answer.error {
            None => Ok(answer.last().cloned()),
            Some(crate::smtp::error::Error::Timeout { .. } | crate::smtp::error::Error::AuthRefused { .. })
                if !self.steered.manual.session().is_ending() =>
            {
                if let Some(error) = &answer.error {
                    eprintln!("postie: {error}");
                }
                Ok(answer.last().cloned())
            }
            Some(_) => Err(steer::answer_error(answer, self.steered.child.as_ref())),
        }
    }

    fn authenticate(&mut self, mechanism: Mechanism, input: &mut dyn Input, sink: &mut dyn Sink) -> Result<(), Error> {
        let Some(user) = input.line("Username: ")? else { return Ok(()) };
        let Some(password) = input.secret("Password: ")? else { return Ok(()) };
        if let Err(reason) = auth::check_secret(&password) {
            eprintln!("postie: the password cannot be sent: {reason}");
            return Ok(());
        }
        self.steered.manual.session().auth(mechanism, user.trim(), Secret::new(password), self.show_secrets);
        self.step(sink)?;
        Ok(())
    }

    /// DATA, then the message: typed until a lone ".", or the file of `DATA < PATH`.
    fn data(&mut self, words: &[&str], input: &mut dyn Input, sink: &mut dyn Sink) -> Result<(), Error> {
        let file = match words {
            [_] => None,
            [_, "<", path] => Some(*path),
            [_, path] if path.starts_with('<') && path.len() > 1 => Some(&path[1..]),
            _ => {
                eprintln!("postie: DATA takes nothing, or < PATH to send a file");
                return Ok(());
            }
        };
        // Read the file first: a missing file should not leave the server waiting after its 354.
        let message = match file {
            Some(path) => match std::fs::read(Path::new(path)) {
                Ok(bytes) => Some(bytes),
                Err(cause) => {
                    eprintln!("postie: {}", Error::Input { path: path.to_string(), cause });
                    return Ok(());
                }
            },
            None => None,
        };
        let reply = self.command("DATA", sink)?;
        if reply.is_none_or(|r| r.code.0 != 354) {
            return Ok(());
        }
        let message = match message {
            Some(bytes) => bytes,
            None => {
                let mut typed = Vec::new();
                while let Some(line) = input.line("data> ")? {
                    if line == "." {
                        break;
                    }
                    typed.extend_from_slice(line.as_bytes());
                    typed.extend_from_slice(b"\r\n");
                }
                typed
            }
        };
        let replies = if self.steered.protocol.lmtp { self.accepted.max(1) } else { 1 };
        self.steered.manual.session().content(true, replies);
        let answer = self.steered.manual.run(Some(&message.as_slice()), sink);
        self.accepted = 0;
        self.settle(answer)?;
        Ok(())
    }

    /// After QUIT: the server closes; a short wait, then close anyway.
    fn await_close(&mut self, sink: &mut dyn Sink) {
        if self.steered.manual.session().is_ending() {
            return;
        }
        self.steered.manual.session().await_close();
        let _ = self.steered.manual.run(None, sink);
    }
}

/// `:explain 550`, `:explain 5.7.1`, `:explain 550 5.1.1`.
fn explain_code(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (basic, enhanced) = match words[..] {
        [code, enhanced] => (Some(code), Some(enhanced)),
        [word] if word.contains('.') => (None, Some(word)),
        [code] => (Some(code), None),
        _ => return None,
    };
    let basic = match basic {
        Some(code) => Some(code.parse::<u16>().ok().filter(|c| (200..600).contains(c))?),
        None => None,
    };
    let enhanced = match enhanced {
        Some(word) => Some(enhanced_code(word)?),
        None => None,
    };
    // Without a basic code, the enhanced code's class stands for it (and is not shown).
    let code = basic.or(enhanced.map(|e| u16::from(e.class) * 100))?;
    // An enhanced code belongs to a reply of its own class (RFC 3463 §2), as the reply parser has it.
    let enhanced = enhanced.filter(|e| u16::from(e.class) == code / 100);
    let explanation = explain::reply(&Reply { code: Code(code), enhanced, lines: Vec::new() });
    Some(if basic.is_none() { explanation.replacen(&format!("{code} "), "", 1) } else { explanation })
}

/// `5.7.1`: a class of 2, 4 or 5, and a subject and detail of at most three digits.
fn enhanced_code(word: &str) -> Option<EnhancedCode> {
    let numbers: Vec<u16> = word.split('.').map(|n| n.parse().ok().filter(|&n| n <= 999)).collect::<Option<_>>()?;
    match numbers[..] {
        [class @ (2 | 4 | 5), subject, detail] => Some(EnhancedCode { class: class as u8, subject, detail }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_explained_in_every_form() {
        assert!(explain_code("550").unwrap().starts_with("550: permanent failure"));
        assert!(explain_code("550 5.1.1").unwrap().contains("5.1.1"));
        assert!(explain_code("4.2.2").unwrap().contains("4.2.2"));
        assert_eq!(explain_code("999"), None);
        assert_eq!(explain_code("hello"), None);
        assert_eq!(explain_code("5.x.1"), None);
    }

    #[test]
    fn the_exit_code_is_the_class_of_the_last_reply() {
        let reply = |text: &str| {
            let mut parser = crate::smtp::reply::ReplyParser::new();
            parser.feed(format!("{text}\r\n").as_bytes());
            parser.next_reply().unwrap().unwrap()
        };
        assert_eq!(class_exit(&reply("221 bye")), Exit::Success);
        assert_eq!(class_exit(&reply("354 go")), Exit::Success);
        assert_eq!(class_exit(&reply("451 later")), Exit::TempFail);
        assert_eq!(class_exit(&reply("550 no")), Exit::Unavailable);
    }
}
