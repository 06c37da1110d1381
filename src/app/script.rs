//! `postie script`: run a dialogue written in postie's script language (docs/script.md) against one server,
//! printing the usual transcript, and stop at the first expectation that does not hold (exit 1, naming its
//! line, what was expected and what came).

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::ScriptArgs;
use crate::error::{Error, Exit};
use crate::event::Sink;
use crate::sanitize::escape;
use crate::script::{self, AuthMechanism, Expectation, SecretSource, Statement};
use crate::smtp::auth::{Mechanism, Secret};
use crate::smtp::reply::Reply;
use crate::smtp::session::Answer;
use crate::smtp::settings::Timeouts;

use super::connect::Target;
use super::steer::{self, Steered};

/// How long each `expect` waits unless --timeout says otherwise: a script is a test, and a test that hangs for
/// RFC 5321's five minutes helps nobody.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(args: &ScriptArgs) -> anyhow::Result<Exit> {
    let (name, source, directory) = read_script(&args.file)?;
    let script = script::parse(&source).map_err(|error| Error::Usage(format!("{name}: {error}")))?;
    let target = Target::parse(args.server.as_deref(), args.connect.protocol.pipe.as_deref(), "--server")?;
    let output = super::output_style(&args.connect.output);
    let mut renderer = super::stdout_renderer(output);
    let sink = renderer.as_mut();
    let mut runner = Runner { args, target, directory, name, steered: None };
    let result = script.lines.iter().try_for_each(|line| {
        runner.statement(&line.statement, sink).map_err(|failure| match failure {
            Failure::Expectation(text) => Error::Expectation(format!("{}:{}: {text}", runner.name, line.number)),
            Failure::Other(error) => error,
        })
    });
    if let Some(steered) = runner.steered.as_mut() {
        steered.manual.close(sink);
        if let Some(child) = &steered.child {
            child.finish(Duration::from_secs(2));
        }
    }
    result?;
    Ok(Exit::Success)
}

/// The script's text, a name for messages, and the directory its `data` paths are relative to.
fn read_script(path: &Path) -> Result<(String, String, PathBuf), Error> {
    let (name, bytes, directory) = if path == Path::new("-") {
        let mut bytes = Vec::new();
        io::stdin().read_to_end(&mut bytes).map_err(|cause| Error::Input { path: "stdin".into(), cause })?;
        ("stdin".to_string(), bytes, PathBuf::from("."))
    } else {
        let bytes = std::fs::read(path).map_err(|cause| Error::Input { path: path.display().to_string(), cause })?;
        let directory = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        (path.display().to_string(), bytes, directory)
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::Usage(format!("{name}: the script is not UTF-8 text")))?;
    Ok((name, text, directory))
}

enum Failure {
    /// The server did not do what the script says (exit 1).
    Expectation(String),
    /// Anything else: a file, a connection, a flag.
    Other(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Other(error)
    }
}

struct Runner<'a> {
    args: &'a ScriptArgs,
    target: Target,
    directory: PathBuf,
    name: String,
    steered: Option<Steered>,
}

impl Runner<'_> {
    fn statement(&mut self, statement: &Statement, sink: &mut dyn Sink) -> Result<(), Failure> {
        if let Statement::Sleep(duration) = statement {
            std::thread::sleep(*duration);
            return Ok(());
        }
        if let Statement::Connect { tls } = statement {
            if self.steered.is_some() {
                return Err(Failure::Expectation("already connected: one connection per script".into()));
            }
            let timeouts = Timeouts::uniform(EXPECT_TIMEOUT);
            let mut steered = steer::connect(&self.target, &self.args.connect, timeouts, *tls, sink)?;
            // With --xclient: greeting, EHLO and XCLIENT, leaving the new greeting for the script's expect.
            steered.open_session(true, sink)?;
            self.steered = Some(steered);
            return Ok(());
        }
        let directory = self.directory.clone();
        let Some(steered) = self.steered.as_mut() else {
            return Err(Failure::Expectation(format!("{} before connect: add `connect` first", statement.keyword())));
        };
        if steered.manual.session().is_closed() && !matches!(statement, Statement::ExpectClose) {
            return Err(Failure::Expectation(format!("{}: the connection is closed", statement.keyword())));
        }
        match statement {
            Statement::Expect(expectation) => {
                steered.manual.session().await_replies(1);
                let answer = steered.manual.run(None, sink);
                check(expectation, answer)
            }
            Statement::Send(line) => {
                steered.manual.session().command_only(line);
                broken(steered.manual.run(None, sink))
            }
            Statement::SendRaw(bytes) => {
                steered.manual.session().raw(bytes);
                broken(steered.manual.run(None, sink))
            }
            Statement::StartTls => {
                steered.manual.session().starttls();
                let answer = steered.manual.run(None, sink);
                let reply = answer.last().map(describe);
                if let Some(error) = answer.error {
                    return Err(Failure::Expectation(format!("starttls failed: {error}")));
                }
                if !steered.manual.session().is_encrypted() {
                    let got = reply.unwrap_or_else(|| "no reply".into());
                    return Err(Failure::Expectation(format!("starttls: expected 220, got {got}")));
                }
                Ok(())
            }
            Statement::Auth { mechanism, user, secret } => {
                let secret = read_secret(secret, &directory)?;
                let mechanism = match mechanism {
                    AuthMechanism::Plain => Mechanism::Plain,
                    AuthMechanism::Login => Mechanism::Login,
                    AuthMechanism::CramMd5 => Mechanism::CramMd5,
                };
                let show = self.args.connect.show_secrets;
                steered.manual.session().auth(mechanism, user, secret, show);
                let answer = steered.manual.run(None, sink);
                match (&answer.error, answer.last()) {
                    (None, Some(reply)) if reply.code.0 == 235 => Ok(()),
                    (Some(error), _) => Err(Failure::Expectation(format!("auth {}: {error}", mechanism.name()))),
                    (None, reply) => Err(Failure::Expectation(format!(
                        "auth {}: expected 235, got {}",
                        mechanism.name(),
                        reply.map_or_else(|| "no reply".into(), describe)
                    ))),
                }
            }
            Statement::Data(path) => {
                let path = directory.join(path);
                let bytes =
                    std::fs::read(&path).map_err(|cause| Error::Input { path: path.display().to_string(), cause })?;
                steered.manual.session().content(true, 0);
                broken(steered.manual.run(Some(&bytes.as_slice()), sink))
            }
            Statement::DataRaw(bytes) => {
                // Exactly these bytes: the content path would make every line ending CRLF.
                steered.manual.session().raw(bytes);
                broken(steered.manual.run(None, sink))
            }
            Statement::ExpectClose => {
                steered.manual.session().await_close();
                let answer = steered.manual.run(None, sink);
                match answer.error {
                    None => Ok(()),
                    Some(error) => Err(Failure::Expectation(format!("expected the server to close: {error}"))),
                }
            }
            Statement::Connect { .. } | Statement::Sleep(_) => Ok(()),
        }
    }
}

/// A step that only writes: it fails only when the connection does.
fn broken(answer: Answer) -> Result<(), Failure> {
    match answer.error {
        None => Ok(()),
        Some(error) => Err(Failure::Expectation(format!("the connection failed: {error}"))),
    }
}

fn check(expectation: &Expectation, answer: Answer) -> Result<(), Failure> {
    let wanted = match &expectation.text {
        Some(regex) => format!("{} /{}/", expectation.code, regex.as_str()),
        None => expectation.code.to_string(),
    };
    let Some(reply) = answer.last() else {
        let why = match answer.error {
            Some(error) => error.to_string(),
            None => "no reply".into(),
        };
        return Err(Failure::Expectation(format!("expected {wanted}, but {why}")));
    };
    let text: Vec<String> = reply.texts().map(|t| String::from_utf8_lossy(t).into_owned()).collect();
    if expectation.matches(reply.code.0, &text.join("\n")) {
        return Ok(());
    }
    Err(Failure::Expectation(format!("expected {wanted}, got {}", describe(reply))))
}

/// A reply on one line, escaped: it goes into an error message on a terminal.
fn describe(reply: &Reply) -> String {
    escape(reply.to_string().as_bytes())
}

fn read_secret(source: &SecretSource, directory: &Path) -> Result<Secret, Failure> {
    let secret = match source {
        SecretSource::Env(name) => std::env::var(name)
            .map_err(|_| Error::Usage(format!("the environment variable {name} (for auth) is not set")))?,
        SecretSource::File(path) => super::plan::first_line(&directory.join(path), &mut io::empty())?,
    };
    crate::smtp::auth::check_secret(&secret).map_err(|reason| Error::BadInput(format!("the auth secret: {reason}")))?;
    Ok(Secret::new(secret))
}
