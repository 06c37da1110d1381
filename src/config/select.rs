//! Which account applies, and the settings it comes to: `[defaults]`, then each account it extends, then its
//! own, the later one winning for each key.

use super::{Config, Problem, Setting, Value};

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Defaults,
    Account(String),
}

/// The account chosen (if any), why, and its settings, one per key.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub account: Option<String>,
    /// How it was chosen: "-a", "the sender" or "default-account".
    pub by: &'static str,
    pub settings: Vec<(Setting, Origin)>,
}

impl Config {
    /// Every `extends` names an account, no chain goes round in a circle, and `default-account` exists.
    pub fn check(&self) -> Result<(), Problem> {
        for account in &self.accounts {
            self.chain(&account.name)?;
        }
        if let Some((name, line)) = &self.default_account {
            if self.account(name).is_none() {
                return Err(self.problem(
                    Some(*line),
                    format!("default-account {name:?} is not an [account.{name}]{}", self.known()),
                ));
            }
        }
        Ok(())
    }

    /// The account named by `-a`, else the first whose `from` matches the sender, else `default-account`, else
    /// none (only `[defaults]`).
    pub fn choose(&self, named: Option<&str>, sender: Option<&str>) -> Result<Chosen, Problem> {
        let (account, by) = if let Some(name) = named {
            if self.account(name).is_none() {
                return Err(self.problem(None, format!("there is no account {name:?}{}", self.known())));
            }
            (Some(name.to_string()), "-a")
        } else if let Some(account) = sender.and_then(|sender| self.by_sender(sender)) {
            (Some(account), "the sender")
        } else {
            (self.default_account.as_ref().map(|(name, _)| name.clone()), "default-account")
        };
        let mut settings: Vec<(Setting, Origin)> =
            self.defaults.iter().map(|setting| (setting.clone(), Origin::Defaults)).collect();
        if let Some(name) = &account {
            for layer in self.chain(name)?.into_iter().rev() {
                let layer = self.account(&layer).expect("chain names accounts");
                for setting in &layer.settings {
                    settings.retain(|(kept, _)| kept.key != setting.key);
                    settings.push((setting.clone(), Origin::Account(layer.name.clone())));
                }
            }
        }
        Ok(Chosen { account, by, settings })
    }

    /// The account and those it extends, nearest first.
    fn chain(&self, name: &str) -> Result<Vec<String>, Problem> {
        let mut chain = vec![name.to_string()];
        let mut current = self.account(name).expect("the caller checked the name");
        while let Some((next, line)) = &current.extends {
            let Some(account) = self.account(next) else {
                return Err(self.problem(
                    Some(*line),
                    format!(
                        "account {:?} extends {next:?}, which is not an [account.NAME]{}",
                        current.name,
                        self.known()
                    ),
                ));
            };
            if chain.contains(next) {
                chain.push(next.clone());
                return Err(self
                    .problem(Some(*line), format!("accounts extend each other in a circle: {}", chain.join(" -> "))));
            }
            chain.push(next.clone());
            current = account;
        }
        Ok(chain)
    }

    /// The first account whose `from` is the sender's address (ignoring case), or a pattern with `*` that
    /// matches it (`*@work.example`), as msmtp picks an account for `-f`.
    fn by_sender(&self, sender: &str) -> Option<String> {
        let address = bare_address(sender).to_ascii_lowercase();
        self.accounts.iter().find_map(|account| {
            let from = account.settings.iter().find(|s| s.key == "from")?;
            let Value::Text(from) = &from.value else { return None };
            let pattern = bare_address(from).to_ascii_lowercase();
            wildcard_match(&pattern, &address).then(|| account.name.clone())
        })
    }

    fn known(&self) -> String {
        if self.accounts.is_empty() {
            " (the file has no accounts)".into()
        } else {
            let names: Vec<&str> = self.accounts.iter().map(|a| a.name.as_str()).collect();
            format!(" (accounts: {})", names.join(", "))
        }
    }

    fn problem(&self, line: Option<usize>, message: String) -> Problem {
        Problem { path: self.path.clone(), line, message }
    }
}

/// The address of `Name <address>`, or the text itself.
fn bare_address(text: &str) -> &str {
    let text = text.trim();
    match (text.rfind('<'), text.ends_with('>')) {
        (Some(open), true) => &text[open + 1..text.len() - 1],
        _ => text,
    }
}

/// `*` matches any run of characters; everything else itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|&i| tail.is_char_boundary(i)).any(|i| wildcard_match(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const FILE: &str = "default-account = \"home\"\n\
        [defaults]\nhelo = \"d.example\"\ntimeout = 30\n\
        [account.base]\nserver = \"base.example\"\ntimeout = 10\n\
        [account.work]\nextends = \"base\"\nfrom = \"Me <Me@Work.example>\"\nuser = \"me\"\n\
        [account.home]\nfrom = \"*@home.example\"\nserver = \"home.example\"\n";

    fn config(text: &str) -> Config {
        Config::parse(Path::new("c.toml"), text, 0o600).unwrap()
    }

    fn flat(chosen: &Chosen) -> Vec<(String, String)> {
        chosen
            .settings
            .iter()
            .map(|(s, o)| {
                let origin = match o {
                    Origin::Defaults => "defaults".to_string(),
                    Origin::Account(name) => name.clone(),
                };
                (s.key.clone(), origin)
            })
            .collect()
    }

    #[test]
    fn an_account_layers_over_what_it_extends_and_the_defaults() {
        let chosen = config(FILE).choose(Some("work"), None).unwrap();
        assert_eq!(chosen.account.as_deref(), Some("work"));
        let pairs: Vec<(String, String)> = flat(&chosen);
        let expect =
            [("helo", "defaults"), ("server", "base"), ("timeout", "base"), ("from", "work"), ("user", "work")];
        assert_eq!(pairs, expect.map(|(k, o)| (k.to_string(), o.to_string())));
    }

    #[test]
    fn the_sender_picks_an_account_else_the_default() {
        let file = config(FILE);
        assert_eq!(file.choose(None, Some("me@work.EXAMPLE")).unwrap().account.as_deref(), Some("work"));
        assert_eq!(file.choose(None, Some("Someone <x@home.example>")).unwrap().by, "the sender");
        let other = file.choose(None, Some("x@elsewhere.example")).unwrap();
        assert_eq!((other.account.as_deref(), other.by), (Some("home"), "default-account"));
    }

    #[test]
    fn broken_references_name_their_line() {
        let unknown = config(FILE).choose(Some("play"), None).unwrap_err().to_string();
        assert_eq!(unknown, "c.toml: there is no account \"play\" (accounts: base, work, home)");
        let missing = config("[account.a]\nextends = \"b\"\n").check().unwrap_err().to_string();
        assert_eq!(missing, "c.toml:2: account \"a\" extends \"b\", which is not an [account.NAME] (accounts: a)");
        let circle = config("[account.a]\nextends = \"b\"\n[account.b]\nextends = \"a\"\n").check().unwrap_err();
        assert_eq!(circle.to_string(), "c.toml:4: accounts extend each other in a circle: a -> b -> a");
        let default = config("default-account = \"x\"\n").check().unwrap_err().to_string();
        assert_eq!(default, "c.toml:1: default-account \"x\" is not an [account.x] (the file has no accounts)");
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*@home.example", "a@home.example"));
        assert!(!wildcard_match("*@home.example", "a@home.example.evil"));
        assert!(wildcard_match("a*b*c", "aXbYc"));
    }
}
