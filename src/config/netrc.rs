//! `~/.netrc`: `machine HOST login USER password PASS`, as ftp, curl and fetchmail read it.

use std::path::{Path, PathBuf};

/// The login and password for one machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub login: Option<String>,
    pub password: Option<String>,
}

/// Which file: `$NETRC` (as curl 7.x's docs and many tools honour it), else `~/.netrc`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NETRC").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".netrc"))
}

/// The entry for `host` (its name compared without case), or `default` when no machine matches; with `login`,
/// only an entry for that user.
pub fn find(text: &str, host: &str, login: Option<&str>) -> Option<Entry> {
    let mut fallback = None;
    for (machine, entry) in entries(text) {
        let login_fits = match (login, &entry.login) {
            (Some(wanted), Some(found)) => wanted == found,
            _ => true,
        };
        if !login_fits {
            continue;
        }
        match machine {
            Some(name) if name.eq_ignore_ascii_case(host) => return Some(entry),
            None if fallback.is_none() => fallback = Some(entry),
            _ => {}
        }
    }
    fallback
}

/// Every `machine` (and `default`, as None) with its login and password, in file order.
fn entries(text: &str) -> Vec<(Option<String>, Entry)> {
    let mut out: Vec<(Option<String>, Entry)> = Vec::new();
    let mut words = Words::new(text);
    while let Some(word) = words.next() {
        match word.as_str() {
            "machine" => match words.next() {
                Some(name) => out.push((Some(name), Entry { login: None, password: None })),
                None => break,
            },
            "default" => out.push((None, Entry { login: None, password: None })),
            "login" | "password" | "account" => {
                let value = words.next();
                if let Some((_, entry)) = out.last_mut() {
                    match word.as_str() {
                        "login" => entry.login = value,
                        "password" => entry.password = value,
                        _ => {}
                    }
                }
            }
            // A macro runs to the next empty line; its text is not settings.
            "macdef" => words.skip_to_empty_line(),
            _ => {}
        }
    }
    out
}

/// Whitespace-separated words; a word may be "quoted" with \" and \\ inside, as curl reads them; `#` starts
/// a comment at the start of a word.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Words<'a> {
        Words { rest: text }
    }

    fn skip_to_empty_line(&mut self) {
        match self.rest.find("\n\n") {
            Some(at) => self.rest = &self.rest[at + 2..],
            None => self.rest = "",
        }
    }
}

impl Iterator for Words<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            self.rest = self.rest.trim_start();
            if self.rest.starts_with('#') {
                self.rest = self.rest.find('\n').map_or("", |at| &self.rest[at..]);
                continue;
            }
            break;
        }
        if self.rest.is_empty() {
            return None;
        }
        if let Some(quoted) = self.rest.strip_prefix('"') {
            let mut word = String::new();
            let mut chars = quoted.char_indices();
            while let Some((at, c)) = chars.next() {
                match c {
                    '"' => {
                        self.rest = &quoted[at + 1..];
                        return Some(word);
                    }
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            word.push(next);
                        }
                    }
                    c => word.push(c),
                }
            }
            self.rest = "";
            return Some(word);
        }
        let end = self.rest.find(char::is_whitespace).unwrap_or(self.rest.len());
        let word = self.rest[..end].to_string();
        self.rest = &self.rest[end..];
        Some(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETRC: &str = "# mail\nmachine smtp.example.test login alice password \"p w\\\"x\"\n\
        machine smtp.example.test\n  login bob\n  password bobpw\n\
        macdef init\ncd /\nls\n\nmachine other login carol password c\ndefault login anon password guest\n";

    #[test]
    fn the_machine_and_login_decide() {
        let alice = find(NETRC, "SMTP.example.test", None).unwrap();
        assert_eq!(alice, Entry { login: Some("alice".into()), password: Some("p w\"x".into()) });
        assert_eq!(find(NETRC, "smtp.example.test", Some("bob")).unwrap().password.as_deref(), Some("bobpw"));
        assert_eq!(find(NETRC, "other", None).unwrap().login.as_deref(), Some("carol"));
        assert_eq!(find(NETRC, "elsewhere", None).unwrap().login.as_deref(), Some("anon"));
        assert_eq!(find("machine a login x password y", "b", None), None);
    }
}
