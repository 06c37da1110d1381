//! Finding the config file and reading it into sections of settings, each with its line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::Problem;

/// The whole file: the default account's name, `[defaults]`, and every `[account.NAME]`, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub path: PathBuf,
    pub default_account: Option<(String, usize)>,
    pub defaults: Vec<Setting>,
    pub accounts: Vec<Account>,
    /// The permission bits, for the rule that a file holding a secret must be the user's alone.
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub name: String,
    pub line: usize,
    /// `extends = "other"`: the account this one starts from.
    pub extends: Option<(String, usize)>,
    pub settings: Vec<Setting>,
}

/// One `key = value`, with nested tables joined to the flag's name (`oauth.token-url` is `oauth-token-url`) and
/// `_` read as `-`.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    /// An integer or a float, as its decimal text.
    Number(String),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    /// What the value is, for "expected ..., found ..." messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Text(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "true or false",
            Value::List(_) => "a list",
        }
    }
}

/// Which file to read: `--config PATH`, else `$POSTIE_CONFIG`, else `$XDG_CONFIG_HOME/postie/config.toml`, else
/// `~/.config/postie/config.toml`. A file named by the flag or the variable must exist; the usual places may be
/// empty.
pub fn locate(flag: Option<&Path>, env: impl Fn(&str) -> Option<OsString>) -> Result<Option<PathBuf>, String> {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(path) = flag {
        return must_exist(path.to_path_buf(), "--config");
    }
    if let Some(path) = set("POSTIE_CONFIG") {
        return must_exist(PathBuf::from(path), "$POSTIE_CONFIG");
    }
    let base = match (set("XDG_CONFIG_HOME"), set("HOME")) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => Path::new(&home).join(".config"),
        (None, None) => return Ok(None),
    };
    let path = base.join("postie").join("config.toml");
    Ok(path.exists().then_some(path))
}

fn must_exist(path: PathBuf, named_by: &str) -> Result<Option<PathBuf>, String> {
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(Some(path)),
        Ok(_) => Err(format!("the config file {} named by {named_by} is not a file", path.display())),
        Err(error) => Err(format!("cannot read the config file {} named by {named_by}: {error}", path.display())),
    }
}

/// The most a config file may be: a settings file, not a data file.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

impl Config {
    pub fn read(path: &Path) -> Result<Config, Problem> {
        let problem = |message: String| Problem { path: path.to_path_buf(), line: None, message };
        let meta = std::fs::metadata(path).map_err(|e| problem(format!("cannot read it: {e}")))?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(problem(format!("it is {} bytes; a config file may be 1 MiB at most", meta.len())));
        }
        let bytes = std::fs::read(path).map_err(|e| problem(format!("cannot read it: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| problem("it is not UTF-8 text".into()))?;
        use std::os::unix::fs::PermissionsExt;
        Config::parse(path, &text, meta.permissions().mode() & 0o7777)
    }

    pub fn parse(path: &Path, text: &str, mode: u32) -> Result<Config, Problem> {
        let at = |offset: usize, message: String| Problem {
            path: path.to_path_buf(),
            line: Some(line_of(text, offset)),
            message,
        };
        let root = DeTable::parse(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            at(offset, format!("not valid TOML: {}", error.message().trim_end()))
        })?;
        let mut config = Config {
            path: path.to_path_buf(),
            default_account: None,
            defaults: Vec::new(),
            accounts: Vec::new(),
            mode,
        };
        for (key, value) in root.get_ref() {
            let start = key.span().start;
            match key.get_ref().as_ref() {
                "default-account" | "default_account" => match value.get_ref() {
                    DeValue::String(name) => config.default_account = Some((name.to_string(), line_of(text, start))),
                    other => return Err(at(start, format!("default-account must be a string, not {}", kind(other)))),
                },
                "defaults" => {
                    let table = table(value, "[defaults]").map_err(|m| at(start, m))?;
                    config.defaults = settings(table, "", text).map_err(|(o, m)| at(o, m))?;
                }
                "account" | "accounts" => {
                    let accounts = table(value, "[account.NAME]").map_err(|m| at(start, m))?;
                    for (name, body) in accounts {
                        let line = line_of(text, name.span().start);
                        let body = table(body, "an [account.NAME]").map_err(|m| at(name.span().start, m))?;
                        let mut account =
                            Account { name: name.get_ref().to_string(), line, extends: None, settings: Vec::new() };
                        check_account_name(&account.name).map_err(|m| at(name.span().start, m))?;
                        for setting in settings(body, "", text).map_err(|(o, m)| at(o, m))? {
                            if setting.key == "extends" {
                                match setting.value {
                                    Value::Text(other) => account.extends = Some((other, setting.line)),
                                    other => {
                                        let message =
                                            format!("extends must be an account's name, not {}", other.kind());
                                        return Err(Problem {
                                            path: path.to_path_buf(),
                                            line: Some(setting.line),
                                            message,
                                        });
                                    }
                                }
                            } else {
                                account.settings.push(setting);
                            }
                        }
                        config.accounts.push(account);
                    }
                }
                other => {
                    let hint = if matches!(value.get_ref(), DeValue::Table(_)) {
                        "sections are [defaults] and [account.NAME]"
                    } else {
                        "put settings under [defaults] or an [account.NAME]"
                    };
                    return Err(at(start, format!("unknown key {other:?} at the top level: {hint}")));
                }
            }
        }
        Ok(config)
    }

    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|account| account.name == name)
    }
}

fn check_account_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || "-_.@+".contains(c)) {
        return Err(format!("the account name {name:?} is not usable with -a: use letters, digits and - _ . @ +"));
    }
    Ok(())
}

fn table<'a, 'i>(value: &'a Spanned<DeValue<'i>>, what: &str) -> Result<&'a DeTable<'i>, String> {
    match value.get_ref() {
        DeValue::Table(table) => Ok(table),
        other => Err(format!("{what} must be a table, not {}", kind(other))),
    }
}

/// The settings of one section, nested tables flattened into the flag-style name.
fn settings(table: &DeTable<'_>, prefix: &str, text: &str) -> Result<Vec<Setting>, (usize, String)> {
    let mut out = Vec::new();
    for (key, value) in table {
        let start = key.span().start;
        let key = format!("{prefix}{}", key.get_ref().replace('_', "-"));
        let value = match value.get_ref() {
            DeValue::Table(inner) => {
                out.extend(settings(inner, &format!("{key}-"), text)?);
                continue;
            }
            DeValue::String(s) => Value::Text(s.to_string()),
            DeValue::Integer(i) => {
                Value::Number(number(i.as_str(), i.radix()).ok_or((start, format!("{key}: the number is too large")))?)
            }
            DeValue::Float(f) => Value::Number(f.as_str().replace('_', "")),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(_) => return Err((start, format!("{key}: a date is not a setting; give a string"))),
            DeValue::Array(items) => {
                let mut list = Vec::new();
                for item in items {
                    match item.get_ref() {
                        DeValue::String(s) => list.push(s.to_string()),
                        DeValue::Integer(i) => list.push(
                            number(i.as_str(), i.radix()).ok_or((start, format!("{key}: the number is too large")))?,
                        ),
                        other => {
                            return Err((
                                start,
                                format!("{key}: a list may hold strings and numbers, not {}", kind(other)),
                            ))
                        }
                    }
                }
                Value::List(list)
            }
        };
        out.push(Setting { key, value, line: line_of(text, start) });
    }
    Ok(out)
}

fn number(digits: &str, radix: u32) -> Option<String> {
    i64::from_str_radix(&digits.replace('_', ""), radix).ok().map(|n| n.to_string())
}

fn kind(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) | DeValue::Float(_) => "a number",
        DeValue::Boolean(_) => "true or false",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("c.toml"), text, 0o600).map_err(|p| p.to_string())
    }

    #[test]
    fn sections_settings_and_lines() {
        let config = parse(
            "default-account = \"work\"\n[defaults]\nhelo = \"me.example\"\n\n[account.work]\nextends = \"base\"\nserver = \"smtp.work.example:587\"\nport = 587\ninsecure = false\nheader = [\"X-A: 1\", \"X-B: 2\"]\noauth.token-url = \"https://t.example/token\"\n[account.base]\ntls_name = \"x\"\n",
        )
        .unwrap();
        assert_eq!(config.default_account, Some(("work".into(), 1)));
        assert_eq!(
            config.defaults,
            vec![Setting { key: "helo".into(), value: Value::Text("me.example".into()), line: 3 }]
        );
        let work = config.account("work").unwrap();
        assert_eq!(work.line, 5);
        assert_eq!(work.extends, Some(("base".into(), 6)));
        let keys: Vec<(&str, usize)> = work.settings.iter().map(|s| (s.key.as_str(), s.line)).collect();
        assert_eq!(keys, [("server", 7), ("port", 8), ("insecure", 9), ("header", 10), ("oauth-token-url", 11)]);
        assert_eq!(work.settings[1].value, Value::Number("587".into()));
        assert_eq!(work.settings[3].value, Value::List(vec!["X-A: 1".into(), "X-B: 2".into()]));
        assert_eq!(config.account("base").unwrap().settings[0].key, "tls-name");
    }

    #[test]
    fn malformed_toml_names_its_line() {
        let error = parse("[defaults]\nhelo = \"x\"\nserver = \n").unwrap_err();
        assert!(error.starts_with("c.toml:3: not valid TOML"), "{error}");
    }

    #[test]
    fn misplaced_keys_are_named() {
        assert_eq!(
            parse("\nserver = \"x\"\n").unwrap_err(),
            "c.toml:2: unknown key \"server\" at the top level: put settings under [defaults] or an [account.NAME]"
        );
        assert_eq!(
            parse("[account]\nwork = 3\n").unwrap_err(),
            "c.toml:2: an [account.NAME] must be a table, not a number"
        );
        assert_eq!(
            parse("[account.w]\nextends = 3\n").unwrap_err(),
            "c.toml:2: extends must be an account's name, not a number"
        );
        assert!(parse("[account.\"a b\"]\n").unwrap_err().starts_with("c.toml:1: the account name \"a b\""));
    }

    #[test]
    fn the_usual_places() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| OsString::from(v))
        };
        assert_eq!(locate(None, env(&[])), Ok(None));
        let missing = locate(None, env(&[("POSTIE_CONFIG", "/nonexistent/p.toml")])).unwrap_err();
        assert!(
            missing.starts_with("cannot read the config file /nonexistent/p.toml named by $POSTIE_CONFIG"),
            "{missing}"
        );
        assert_eq!(locate(None, env(&[("HOME", "/nonexistent")])), Ok(None));
    }
}
