//! Where a secret comes from: `env:NAME`, `file:PATH`, `command:SHELL COMMAND` (its first line of stdout, as
//! msmtp's passwordeval), or the text itself, which only a private config file may hold.
//!
//! The same forms serve every secret postie takes: a password, an OAuth client secret, a refresh token.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A secret's source, as written after `password =` in a config file or given to a flag that takes one.
#[derive(Clone, PartialEq, Eq)]
pub enum Source {
    Env(String),
    File(PathBuf),
    Command(String),
    /// The secret itself (only from a config file that no one else can read).
    Literal(String),
}

/// Why a secret could not be had, in words that name the source.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("the environment variable {0} is not set")]
    EnvUnset(String),
    #[error("cannot read {path}: {cause}")]
    File { path: String, cause: std::io::Error },
    #[error("{0} is empty")]
    Empty(String),
    #[error("{0} is not UTF-8 text")]
    NotText(String),
    #[error("cannot run the secret command `{command}`: {cause}")]
    Spawn { command: String, cause: std::io::Error },
    #[error("the secret command `{command}` failed with {status}{stderr}")]
    Failed { command: String, status: String, stderr: String },
}

/// The most a secret may be: a token or password, not a file's worth.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

impl Source {
    /// Read `env:NAME`, `file:PATH` or `command:COMMAND`; anything else is the secret itself when `literal` is
    /// allowed, else an error that lists the forms.
    pub fn parse(text: &str, literal: bool) -> Result<Source, String> {
        let (scheme, rest) = text.split_once(':').unwrap_or(("", text));
        let rest_named = |what: &str| -> Result<String, String> {
            let rest = rest.trim();
            if rest.is_empty() {
                Err(format!("{scheme}: needs {what} after it"))
            } else {
                Ok(rest.to_string())
            }
        };
        match scheme {
            "env" => Ok(Source::Env(rest_named("a variable name")?)),
            "file" => Ok(Source::File(expand_home(&rest_named("a path")?))),
            "command" => Ok(Source::Command(rest_named("a shell command")?)),
            _ if literal => Ok(Source::Literal(text.to_string())),
            _ => Err(format!(
                "{:?} is not a secret source: give env:NAME, file:PATH or command:COMMAND",
                crate::sanitize::escape(text.as_bytes())
            )),
        }
    }

    pub fn is_literal(&self) -> bool {
        matches!(self, Source::Literal(_))
    }

    /// The secret: the variable's value, the file's first line, the command's first line of output, or the
    /// text; never empty.
    pub fn read(&self) -> Result<String, Problem> {
        let value = match self {
            Source::Env(name) => std::env::var(name).map_err(|_| Problem::EnvUnset(name.clone()))?,
            Source::File(path) => first_line(&read_file(path)?, || display(path))?,
            Source::Command(command) => first_line(&run(command)?, || format!("the output of `{command}`"))?,
            Source::Literal(text) => text.clone(),
        };
        if value.is_empty() {
            return Err(Problem::Empty(self.to_string()));
        }
        Ok(value)
    }
}

/// How a source is named in messages and `config check`: never the secret itself.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env(name) => write!(f, "${name}"),
            Source::File(path) => write!(f, "{}", display(path)),
            Source::Command(command) => write!(f, "the output of `{command}`"),
            Source::Literal(_) => write!(f, "<redacted>"),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `~/` at the start of a path is the home directory, as in msmtp's and curl's config files.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn read_file(path: &Path) -> Result<Vec<u8>, Problem> {
    let file = std::fs::File::open(path).map_err(|cause| Problem::File { path: display(path), cause })?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|cause| Problem::File { path: display(path), cause })?;
    Ok(bytes)
}

/// Run the command through the shell with stdin closed (a command must not eat the message) and stderr kept,
/// so its complaint can be shown.
fn run(command: &str) -> Result<Vec<u8>, Problem> {
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|cause| Problem::Spawn { command: command.to_string(), cause })?;
    if !output.status.success() {
        let status = match output.status.code() {
            Some(code) => format!("exit status {code}"),
            None => "a signal".to_string(),
        };
        let said = String::from_utf8_lossy(&output.stderr);
        let said = said.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let stderr = if said.is_empty() { String::new() } else { format!(": {said}") };
        return Err(Problem::Failed { command: command.to_string(), status, stderr });
    }
    let mut stdout = output.stdout;
    stdout.truncate(MAX_SECRET_BYTES as usize);
    Ok(stdout)
}

fn first_line(bytes: &[u8], name: impl Fn() -> String) -> Result<String, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|_| Problem::NotText(name()))?;
    let line = text.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err(Problem::Empty(name()));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_recognised() {
        assert_eq!(Source::parse("env:PW", false), Ok(Source::Env("PW".into())));
        assert_eq!(Source::parse("command:pass show mail", false), Ok(Source::Command("pass show mail".into())));
        assert_eq!(Source::parse("file:/run/pw", false), Ok(Source::File("/run/pw".into())));
        assert_eq!(Source::parse("hunter2", true), Ok(Source::Literal("hunter2".into())));
        assert!(Source::parse("hunter2", false).unwrap_err().contains("env:NAME, file:PATH or command:COMMAND"));
        assert_eq!(Source::parse("env:", false).unwrap_err(), "env: needs a variable name after it");
    }

    #[test]
    fn a_command_gives_its_first_line() {
        assert_eq!(Source::Command("printf 'pw\\nsecond\\n'".into()).read().unwrap(), "pw");
    }

    #[test]
    fn a_failing_command_names_its_status_and_complaint() {
        let error = Source::Command("echo locked >&2; exit 3".into()).read().unwrap_err().to_string();
        assert_eq!(error, "the secret command `echo locked >&2; exit 3` failed with exit status 3: locked");
    }

    #[test]
    fn an_empty_secret_is_refused() {
        assert!(Source::Command("true".into()).read().unwrap_err().to_string().contains("is empty"));
    }

    #[test]
    fn the_literal_is_never_displayed() {
        assert_eq!(Source::Literal("hunter2".into()).to_string(), "<redacted>");
        assert_eq!(format!("{:?}", Source::Literal("hunter2".into())), "<redacted>");
    }
}
