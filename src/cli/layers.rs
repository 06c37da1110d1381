//! The config file's settings as flags. A key is a long flag's name (`tls-name = "x"` is `--tls-name x`), so
//! there is nothing new to learn, and clap checks each value as it checks the flag. The order of precedence is
//! flags, then the environment (each `POSTIE_*` variable clap reads for its flag), then the chosen account
//! (and those it extends), then `[defaults]`: a setting becomes a flag only where neither of the first two
//! gave one.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::config::{self, Config, Origin, Setting, Value};
use crate::net::socks;
use crate::secret;

/// The subcommands that take settings from the config file, as paths of names.
const CONFIGURED: &[&[&str]] =
    &[&["send"], &["talk"], &["script"], &["smuggle"], &["config", "check"], &["oauth", "login"], &["load"]];

/// The flags that say where AUTH's secret comes from: one given by the user (flag or environment) replaces
/// every one the config file has, as one conflicting flag replaces another.
const SECRET_SOURCES: &[&str] = &[
    "password_env",
    "password_file",
    "password",
    "password_command",
    "oauth_token_env",
    "oauth_token_file",
    "oauth_refresh_token",
    "oauth_token_url",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_scope",
];

/// The key that is no flag: a password source (`env:`, `file:`, `command:` or the password itself).
const PASSWORD: &str = "password";

/// Keys whose literal value is a secret: a file that holds one must be the user's alone.
const SECRET_KEYS: &[&str] = &[PASSWORD, "oauth-client-secret", "oauth-refresh-token", "proxy-password"];

/// What the config file gave a run, for `config check`.
#[derive(Debug, Clone)]
pub struct Layers {
    pub path: PathBuf,
    pub account: Option<String>,
    /// How the account was chosen: "-a", "the sender", "default-account".
    pub by: &'static str,
    pub applied: Vec<Applied>,
}

/// One setting that became a flag.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The flag's id in clap's matches.
    pub id: String,
    pub key: String,
    pub shown: String,
    pub origin: Origin,
    pub line: usize,
}

/// Where each setting of a run came from: a flag, an environment variable, the account or `[defaults]`.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// The config file read, the account used and how it was chosen.
    pub file: Option<(PathBuf, Option<String>, &'static str)>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    pub value: String,
    pub origin: String,
}

/// Flags whose value is a secret itself: shown as <redacted>.
const SECRET_FLAGS: &[&str] = &["password"];

impl Origins {
    pub fn of(layers: Option<Layers>, command: &Command, matches: &ArgMatches) -> Origins {
        let mut command = command.clone();
        command.build();
        let (path, matches) = leaf(matches);
        for name in &path {
            command = command.find_subcommand(name).expect("clap matched it").clone();
        }
        let applied = layers.as_ref().map(|l| l.applied.as_slice()).unwrap_or_default();
        let mut rows = Vec::new();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version" | "config" | "no_config" | "account") || !user_given(matches, id) {
                continue;
            }
            let key = arg.get_long().map(String::from).unwrap_or_else(|| id.replace('_', "-"));
            if let Some(applied) = applied.iter().find(|a| a.id == id) {
                let origin = match &applied.origin {
                    Origin::Defaults => format!("[defaults], line {}", applied.line),
                    Origin::Account(name) => format!("account {name}, line {}", applied.line),
                };
                rows.push(Row { key: applied.key.clone(), value: applied.shown.clone(), origin });
                continue;
            }
            let value = if SECRET_FLAGS.contains(&key.as_str()) {
                "<redacted>".to_string()
            } else if key == "proxy" {
                matches
                    .get_raw(id)
                    .and_then(|mut v| v.next())
                    .map(|v| without_password(&v.to_string_lossy()))
                    .unwrap_or_default()
            } else {
                match matches.get_raw(id) {
                    Some(values) if matches!(arg.get_action(), ArgAction::Set | ArgAction::Append) => {
                        values.map(|v| v.to_string_lossy().into_owned()).collect::<Vec<_>>().join(", ")
                    }
                    _ => "true".to_string(),
                }
            };
            let origin = match matches.value_source(id) {
                Some(ValueSource::EnvVariable) => {
                    format!(
                        "environment ${}",
                        arg.get_env().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default()
                    )
                }
                _ => "flag".to_string(),
            };
            rows.push(Row { key, value, origin });
        }
        Origins { file: layers.map(|l| (l.path, l.account, l.by)), rows }
    }
}

/// Why the command line with its config could not be read.
pub enum Failure {
    Clap(clap::Error),
    /// A command line that is not one (sendmail's flags, read by hand), in one line.
    Usage(String),
    /// A problem with the config file, in one line naming the file (and line).
    Config(String),
}

impl From<clap::Error> for Failure {
    fn from(error: clap::Error) -> Self {
        Failure::Clap(error)
    }
}

/// The command line with the config file's settings added as flags, and what was added.
pub fn apply(command: &Command, argv: Vec<OsString>) -> Result<(Vec<OsString>, Option<Layers>), Failure> {
    if !may_need_config(&argv) {
        return Ok((argv, None));
    }
    let Ok(first) = command.clone().ignore_errors(true).try_get_matches_from(&argv) else {
        return Ok((argv, None));
    };
    let (path, matches) = leaf(&first);
    if !CONFIGURED.contains(&path.as_slice()) {
        return Ok((argv, None));
    }
    let mut leaf_command = command.clone();
    leaf_command.build();
    for name in &path {
        leaf_command = leaf_command.find_subcommand(name).expect("clap matched it").clone();
    }
    let text = |id: &str| matches.try_get_one::<String>(id).ok().flatten().cloned();
    let account = user_given(matches, "account").then(|| text("account")).flatten();
    if matches!(matches.try_get_one::<bool>("no_config"), Ok(Some(true))) {
        if account.is_some() {
            return Err(Failure::Config("-a names an account in the config file, and --no-config ignores it".into()));
        }
        return Ok((argv, None));
    }
    let flag = matches.try_get_one::<PathBuf>("config").ok().flatten().map(PathBuf::as_path);
    let Some(file) = config::locate(flag, |name| std::env::var_os(name)).map_err(Failure::Config)? else {
        return match account {
            Some(name) => Err(Failure::Config(format!(
                "-a {name}: there is no config file (give --config, set $POSTIE_CONFIG, or write \
                 ~/.config/postie/config.toml)"
            ))),
            None => Ok((argv, None)),
        };
    };
    let config = Config::read(&file).map_err(|problem| Failure::Config(problem.to_string()))?;
    check(&config, command)?;
    let sender = user_given(matches, "from").then(|| text("from")).flatten();
    let chosen =
        config.choose(account.as_deref(), sender.as_deref()).map_err(|problem| Failure::Config(problem.to_string()))?;

    let mut flags: Vec<OsString> = Vec::new();
    let mut positionals: Vec<OsString> = Vec::new();
    let mut applied = Vec::new();
    for (setting, origin) in &chosen.settings {
        let (key, value) = as_flag(setting);
        let Some(arg) = find(&leaf_command, &key) else { continue };
        if user_given(matches, arg.get_id().as_str()) || conflicts_with_given(&leaf_command, matches, arg) {
            continue;
        }
        let id = arg.get_id().as_str();
        if SECRET_SOURCES.contains(&id) && SECRET_SOURCES.iter().any(|other| user_given(matches, other)) {
            continue;
        }
        let values = match (&value, arg.get_action()) {
            (Value::Bool(true), ArgAction::SetTrue) => vec![],
            (Value::Bool(false), ArgAction::SetTrue) => continue,
            (Value::List(items), _) => items.clone(),
            (Value::Text(text) | Value::Number(text), _) => vec![text.clone()],
            (Value::Bool(_), _) => continue,
        };
        if arg.is_positional() {
            positionals.extend(values.iter().map(OsString::from));
        } else if values.is_empty() {
            flags.push(format!("--{key}").into());
        } else {
            flags.extend(values.iter().map(|v| OsString::from(format!("--{key}={v}"))));
        }
        applied.push(Applied {
            id: arg.get_id().to_string(),
            key: setting.key.clone(),
            shown: shown(setting),
            origin: origin.clone(),
            line: setting.line,
        });
    }
    let at = after_subcommand(&argv, &path);
    let mut out: Vec<OsString> = argv[..at].to_vec();
    out.extend(flags);
    out.extend(argv[at..].iter().cloned());
    out.extend(positionals);
    Ok((out, Some(Layers { path: config.path.clone(), account: chosen.account, by: chosen.by, applied })))
}

/// Whether the config file can matter to this command line, from a look at its words and the environment:
/// only the [`CONFIGURED`] subcommands read it (for the others, `apply` leaves the line as it is, so there is
/// no need to look for the file), and most runs have no config file and name no account, and then clap need
/// not parse the line twice. A word that only looks like `--config` or `-a` (a flag's value) leads to the full
/// reading, which gets it right.
fn may_need_config(argv: &[OsString]) -> bool {
    let configured = CONFIGURED.iter().any(|path| {
        argv.len() > path.len() && path.iter().zip(&argv[1..]).all(|(name, word)| word.to_str() == Some(*name))
    });
    if !configured {
        return false;
    }
    let words: Vec<&str> = argv.iter().skip(1).filter_map(|word| word.to_str()).collect();
    let account = std::env::var_os("POSTIE_ACCOUNT").is_some_and(|value| !value.is_empty())
        || words
            .iter()
            .any(|w| *w == "-a" || w.starts_with("--account") || (w.starts_with("-a") && !w.starts_with("--")));
    let named = words.iter().any(|w| w.starts_with("--config"));
    if account || named || words.first() == Some(&"config") {
        return true;
    }
    if words.contains(&"--no-config") {
        return false;
    }
    matches!(config::locate(None, |name| std::env::var_os(name)), Ok(Some(_)) | Err(_))
}

/// Every key in the file is a flag of some configured subcommand (or `password`), of the right type, with a
/// value the flag takes; a literal secret is only in a file no one else can read.
fn check(config: &Config, command: &Command) -> Result<(), Failure> {
    config.check().map_err(|problem| Failure::Config(problem.to_string()))?;
    let mut command = command.clone();
    command.build();
    let leaves: Vec<Command> = CONFIGURED
        .iter()
        .map(|path| {
            let mut leaf = command.clone();
            for name in *path {
                leaf = leaf.find_subcommand(name).expect("a configured subcommand").clone();
            }
            leaf
        })
        .collect();
    let sections = std::iter::once(&config.defaults).chain(config.accounts.iter().map(|a| &a.settings));
    for setting in sections.flatten() {
        let at = |message: String| Failure::Config(format!("{}:{}: {message}", config.path.display(), setting.line));
        if SECRET_KEYS.contains(&setting.key.as_str()) || setting.key == "proxy" {
            if let Value::Text(text) = &setting.value {
                let literal = setting.key == PASSWORD
                    && secret::Source::parse(text, true).is_ok_and(|source| source.is_literal());
                if setting.key != PASSWORD && setting.key != "proxy" && secret::Source::parse(text, false).is_err() {
                    return Err(at(format!(
                        "{} must be a source: env:NAME, file:PATH or command:COMMAND (a token does not belong in \
                         a config file)",
                        setting.key
                    )));
                }
                // A proxy URL with user:password@ holds a password too.
                let in_url = setting.key == "proxy" && socks::has_password(split_path(text).0);
                let literal = literal || in_url;
                if literal && config.mode & 0o077 != 0 {
                    return Err(at(format!(
                        "the password is written in the file and others can read it (mode {:04o}): run chmod 600 \
                         {}, or give it as env:, file: or command:",
                        config.mode,
                        config.path.display()
                    )));
                }
            }
        }
        let (key, value) = as_flag(setting);
        let Some(arg) = leaves.iter().find_map(|leaf| find(leaf, &key)) else {
            let known = known_keys(&leaves);
            let hint = closest(&setting.key, &known).map(|k| format!(" (did you mean {k}?)")).unwrap_or_default();
            return Err(at(format!(
                "unknown key {:?}: not a flag of postie send, talk, script or oauth login{hint}",
                setting.key
            )));
        };
        let expected = match arg.get_action() {
            ArgAction::SetTrue => "true or false",
            ArgAction::Append => "a string or a list",
            _ => "a string or a number",
        };
        let fits = matches!(
            (arg.get_action(), &value),
            (ArgAction::SetTrue, Value::Bool(_))
                | (ArgAction::Append, Value::Text(_) | Value::Number(_) | Value::List(_))
                | (ArgAction::Set, Value::Text(_) | Value::Number(_))
        );
        if !fits {
            return Err(at(format!("{} must be {expected}, not {}", setting.key, value.kind())));
        }
        let values: Vec<&String> = match &value {
            Value::Text(text) | Value::Number(text) => vec![text],
            Value::List(items) => items.iter().collect(),
            Value::Bool(_) => vec![],
        };
        for text in values {
            if let Err(error) = parse_value(arg, text) {
                let possible: Vec<String> = arg
                    .get_possible_values()
                    .iter()
                    .filter(|v| !v.is_hide_set())
                    .map(|v| v.get_name().to_string())
                    .collect();
                let reason = if possible.is_empty() {
                    clap_reason(&error)
                } else {
                    format!(": expected one of {}", possible.join(", "))
                };
                let text = if SECRET_KEYS.contains(&setting.key.as_str()) { "<redacted>" } else { text.as_str() };
                return Err(at(format!("{}: {text:?} is not a valid value{reason}", setting.key)));
            }
        }
    }
    Ok(())
}

/// Parse one value as the flag would, in a command of its own (the flag's links to others left behind).
fn parse_value(arg: &Arg, text: &str) -> Result<(), clap::Error> {
    let alone = Arg::new("value")
        .long("value")
        .value_parser(arg.get_value_parser().clone())
        .ignore_case(arg.is_ignore_case_set())
        .action(ArgAction::Set);
    Command::new("check").arg(alone).try_get_matches_from([
        OsStr::new("check"),
        OsStr::new("--value"),
        OsStr::new(text),
    ])?;
    Ok(())
}

/// clap's reason, without its "error:" and the flag it names (the key says which).
fn clap_reason(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
    match first.split_once(": ") {
        Some((_, reason)) if first.starts_with("invalid value") => format!(": {reason}"),
        _ => String::new(),
    }
}

/// The flag a setting becomes: `password = "env:PW"` is `--password-env PW`; any other key is its own flag.
fn as_flag(setting: &Setting) -> (String, Value) {
    if setting.key != PASSWORD {
        return (setting.key.clone(), setting.value.clone());
    }
    let Value::Text(text) = &setting.value else { return (setting.key.clone(), setting.value.clone()) };
    match secret::Source::parse(text, true) {
        Ok(secret::Source::Env(name)) => ("password-env".into(), Value::Text(name)),
        Ok(secret::Source::File(path)) => ("password-file".into(), Value::Text(path.display().to_string())),
        Ok(secret::Source::Command(command)) => ("password-command".into(), Value::Text(command)),
        _ => (PASSWORD.into(), setting.value.clone()),
    }
}

/// The value as `config check` shows it: a literal password never.
fn shown(setting: &Setting) -> String {
    match &setting.value {
        Value::Text(text) if SECRET_KEYS.contains(&setting.key.as_str()) => {
            match secret::Source::parse(text, setting.key == PASSWORD) {
                Ok(source) if !source.is_literal() => text.clone(),
                _ => "<redacted>".into(),
            }
        }
        Value::Text(text) if setting.key == "proxy" => without_password(text),
        Value::Text(text) | Value::Number(text) => text.clone(),
        Value::Bool(value) => value.to_string(),
        Value::List(items) => items.join(", "),
    }
}

/// A proxy URL as it may be shown: `socks5h://user:<redacted>@host`.
fn without_password(url: &str) -> String {
    let (head, path) = split_path(url);
    socks::redact_with(head, "<redacted>") + path
}

/// A URL as `SCHEME://AUTHORITY` and what follows (from the first `/` after the scheme): only the first can
/// hold a password.
fn split_path(url: &str) -> (&str, &str) {
    let end = url
        .find("://")
        .map(|at| at + "://".len())
        .and_then(|from| url[from..].find('/').map(|offset| from + offset))
        .unwrap_or(url.len());
    url.split_at(end)
}

/// The flag named `key`: a long flag, or a positional argument of that name (talk's server).
fn find<'a>(command: &'a Command, key: &str) -> Option<&'a Arg> {
    command
        .get_arguments()
        .filter(|arg| !arg.is_hide_set() || arg.get_long().is_some())
        .find(|arg| {
            arg.get_long() == Some(key)
                || (arg.is_positional() && arg.get_id().as_str().replace('_', "-") == key)
                || arg.get_visible_aliases().is_some_and(|aliases| aliases.contains(&key))
        })
        .filter(|arg| !matches!(arg.get_id().as_str(), "config" | "no_config" | "account" | "help" | "version"))
}

fn known_keys(leaves: &[Command]) -> Vec<String> {
    let mut keys: Vec<String> =
        leaves.iter().flat_map(|leaf| leaf.get_arguments().filter_map(|a| a.get_long().map(String::from))).collect();
    keys.push(PASSWORD.into());
    keys
}

/// The known key nearest to a mistyped one, if it is near (two edits at most).
fn closest(key: &str, known: &[String]) -> Option<String> {
    known.iter().map(|k| (edits(key, k), k)).filter(|(d, _)| *d <= 2).min_by_key(|(d, _)| *d).map(|(_, k)| k.clone())
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let keep = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = keep;
        }
    }
    row[b.len()]
}

/// Whether the user gave this flag, on the command line or in its environment variable.
pub fn user_given(matches: &ArgMatches, id: &str) -> bool {
    matches!(matches.try_contains_id(id), Ok(true))
        && matches!(matches.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
}

/// Whether a flag the user gave rules this one out (`--password-env` given: the account's password is not used).
fn conflicts_with_given(command: &Command, matches: &ArgMatches, arg: &Arg) -> bool {
    command.get_arguments().filter(|other| user_given(matches, other.get_id().as_str())).any(|other| {
        command.get_arg_conflicts_with(arg).iter().any(|c| c.get_id() == other.get_id())
            || command.get_arg_conflicts_with(other).iter().any(|c| c.get_id() == arg.get_id())
    })
}

/// The subcommands' names and the innermost one's matches.
fn leaf(matches: &ArgMatches) -> (Vec<&str>, &ArgMatches) {
    let mut path = Vec::new();
    let mut current = matches;
    while let Some((name, inner)) = current.subcommand() {
        path.push(name);
        current = inner;
    }
    (path, current)
}

/// Where the subcommand's own arguments start: after the program name and the subcommands' names.
fn after_subcommand(argv: &[OsString], path: &[&str]) -> usize {
    let mut at = 1;
    for name in path {
        while at < argv.len() && argv[at].to_str() != Some(name) {
            at += 1;
        }
        at += 1;
    }
    at.min(argv.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_passwords_are_not_shown() {
        assert_eq!(without_password("socks5h://me:pw@127.0.0.1:1080"), "socks5h://me:<redacted>@127.0.0.1:1080");
        assert_eq!(without_password("socks5h://me@127.0.0.1"), "socks5h://me@127.0.0.1");
        // Only the authority is looked at: what follows the first '/' is shown as it is.
        assert_eq!(without_password("socks5h://me:pw@host/a@b"), "socks5h://me:<redacted>@host/a@b");
        assert_eq!(without_password("socks5h://host/me:pw@b"), "socks5h://host/me:pw@b");
        assert_eq!(without_password("no-scheme:pw@host"), "no-scheme:pw@host");
    }

    #[test]
    fn nearest_key() {
        let known = vec!["server".to_string(), "tls-name".to_string(), "helo".to_string()];
        assert_eq!(closest("sever", &known).as_deref(), Some("server"));
        assert_eq!(closest("tls-nam", &known).as_deref(), Some("tls-name"));
        assert_eq!(closest("certificate", &known), None);
        assert_eq!(closest("colour", &known), None);
    }
}
