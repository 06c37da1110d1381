//! `sendmail` as programs call it (cron, mail, git, PHP's mail()): postie installed as a `sendmail` symlink, or
//! run as `postie sendmail`, reads sendmail's flags and becomes `postie send` with them: the message on stdin,
//! the recipients from the arguments (or from its headers with -t, and when there are no arguments), quiet on
//! success, the account chosen as for send. The flags are sendmail 8's, as Postfix's and msmtp's sendmail read
//! them; what needs a queue or a daemon is refused in words.

use std::ffi::OsString;

/// Whether this command line is a sendmail call: the program's name is `sendmail`, or the first argument is.
pub fn is_sendmail(argv: &[OsString]) -> bool {
    let program = argv.first().map(std::path::Path::new).and_then(|p| p.file_name()).and_then(|n| n.to_str());
    program == Some("sendmail") || argv.get(1).and_then(|a| a.to_str()) == Some("sendmail")
}

/// The `postie send` command line for a sendmail command line, or why it cannot be one.
pub fn translate(argv: &[OsString]) -> Result<Vec<OsString>, String> {
    let program = argv.first().cloned().unwrap_or_else(|| "postie".into());
    let skip = if argv.get(1).and_then(|a| a.to_str()) == Some("sendmail") { 2 } else { 1 };
    let words: Vec<String> = argv[skip.min(argv.len())..]
        .iter()
        .map(|word| {
            word.to_str()
                .map(String::from)
                .ok_or_else(|| format!("{word:?} is not UTF-8: give addresses and names as UTF-8"))
        })
        .collect::<Result<_, _>>()?;
    if words.iter().any(|w| w == "--help") {
        return Ok(vec![program, "sendmail".into(), "--help".into()]);
    }
    let mut send: Vec<String> = vec!["send".into(), "--data".into(), "-".into()];
    let mut from: Option<String> = None;
    let mut full_name: Option<String> = None;
    let mut read_recipients = false;
    let mut verbose = false;
    let mut recipients: Vec<String> = Vec::new();
    let mut words = words.into_iter();
    // The value of a flag: the rest of the word (-fADDR) or the next word (-f ADDR).
    fn value(flag: &str, rest: &str, words: &mut dyn Iterator<Item = String>) -> Result<String, String> {
        if !rest.is_empty() {
            return Ok(rest.to_string());
        }
        words.next().ok_or_else(|| format!("-{flag} needs a value"))
    }
    while let Some(word) = words.next() {
        if word == "--" {
            recipients.extend(words.by_ref());
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            match long.split_once('=') {
                Some(("config" | "account", _)) => send.push(word.clone()),
                None if long == "config" || long == "account" => {
                    send.push(word.clone());
                    send.push(words.next().ok_or_else(|| format!("{word} needs a value"))?);
                }
                _ => {
                    return Err(format!(
                        "{word} is not a sendmail flag (postie sendmail takes -a, --account and --config of its own)"
                    ))
                }
            }
            continue;
        }
        let Some(flags) = word.strip_prefix('-').filter(|f| !f.is_empty()) else {
            recipients.push(word);
            continue;
        };
        let (flag, rest) = flags.split_at(1);
        match flag {
            "t" if rest.is_empty() => read_recipients = true,
            "i" if rest.is_empty() => {} // a lone dot never ends postie's message anyway
            "v" if rest.is_empty() => verbose = true,
            "f" | "r" => from = Some(value(flag, rest, &mut words)?),
            "F" => full_name = Some(value(flag, rest, &mut words)?),
            "a" => {
                send.push("--account".into());
                send.push(value(flag, rest, &mut words)?);
            }
            "N" => {
                let notify = value(flag, rest, &mut words)?.to_ascii_lowercase();
                send.push(format!("--notify={notify}"));
            }
            "R" => send.push(format!("--ret={}", value(flag, rest, &mut words)?.to_ascii_lowercase())),
            "V" => send.push(format!("--envid={}", value(flag, rest, &mut words)?)),
            // The body type and the hop count are the message's business; a tag for the log is not needed.
            "B" | "h" | "L" => {
                value(flag, rest, &mut words)?;
            }
            "o" => option(rest, &mut words)?,
            // Where errors are reported: postie always says so on stderr and in its exit code.
            "e" if ["m", "p", "q", "w", "e"].contains(&rest) => {}
            "b" => match rest {
                "m" => {}
                "s" => {
                    return Err(
                        "-bs (SMTP on stdin and stdout) is not a drop-in's job: use postie talk to speak SMTP yourself"
                            .into(),
                    )
                }
                "p" => {
                    return Err(
                        "-bp: postie has no mail queue to list; it delivers at once or fails with an exit code".into()
                    )
                }
                "i" => return Err("-bi: postie keeps no aliases database".into()),
                "d" | "D" => {
                    return Err(format!("-b{rest}: postie is not a daemon; postie catch receives mail for tests"))
                }
                other => return Err(format!("-b{other} is not supported: postie sendmail delivers a message (-bm)")),
            },
            "q" => {
                return Err(format!(
                    "-q{rest}: postie has no queue to run; it delivers at once or fails with an exit code"
                ))
            }
            "C" => return Err("-C names a sendmail.cf: postie reads its own config file (--config PATH)".into()),
            _ => return Err(format!("-{flags} is not a sendmail flag postie knows")),
        }
    }
    // As msmtp and sendmail -t: recipients from the headers when -t is given, and when none is given at all.
    if read_recipients || recipients.is_empty() {
        send.push("-t".into());
    }
    send.push("--sendmail".into());
    if !verbose {
        send.push("--quiet".into());
    }
    match (from, full_name) {
        (Some(address), Some(name)) => send.push(format!("--from={} <{address}>", quote_name(&name))),
        (Some(address), None) => send.push(format!("--from={address}")),
        (None, Some(name)) => send.push(format!("--sendmail-full-name={name}")),
        (None, None) => {}
    }
    if !recipients.is_empty() {
        send.push("--".into());
        send.extend(recipients);
    }
    let mut out = vec![program];
    out.extend(send.into_iter().map(OsString::from));
    Ok(out)
}

/// `-oX...`: sendmail's options; those programs pass are accepted, others named.
fn option(rest: &str, words: &mut dyn Iterator<Item = String>) -> Result<(), String> {
    let rest = if rest.is_empty() { words.next().ok_or("-o needs an option")? } else { rest.to_string() };
    match rest.as_str() {
        // -oi: dots; -oem/-oep/-oeq/-oew: error reporting; -odb/-odi/-odq/-odf: delivery mode (postie delivers
        // now, in the foreground, whichever was asked).
        "i" | "em" | "ep" | "eq" | "ew" | "ee" | "db" | "di" | "dq" | "df" | "dbackground" | "dinteractive" => Ok(()),
        other => Err(format!("-o{other} is not a sendmail option postie knows (it takes -oi, -oe* and -od*)")),
    }
}

/// A display name as RFC 5322 wants it in `Name <address>`: quoted when it holds a special character.
fn quote_name(name: &str) -> String {
    if name.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(words: &[&str]) -> Result<Vec<String>, String> {
        let argv: Vec<OsString> = words.iter().map(OsString::from).collect();
        translate(&argv).map(|out| out.into_iter().map(|w| w.into_string().unwrap()).collect())
    }

    #[test]
    fn cron_and_the_usual_callers() {
        assert_eq!(
            send(&["/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"]).unwrap(),
            [
                "/usr/sbin/sendmail",
                "send",
                "--data",
                "-",
                "--sendmail",
                "--quiet",
                "--sendmail-full-name=CronDaemon",
                "--",
                "root"
            ]
        );
        assert_eq!(
            send(&["sendmail", "-t", "-i", "-f", "app@example.test"]).unwrap(),
            ["sendmail", "send", "--data", "-", "-t", "--sendmail", "--quiet", "--from=app@example.test"]
        );
        assert_eq!(
            send(&["postie", "sendmail", "-oi", "-F", "Web Shop", "-fshop@example.test", "-v", "a@x.test"]).unwrap(),
            ["postie", "send", "--data", "-", "--sendmail", "--from=Web Shop <shop@example.test>", "--", "a@x.test"]
        );
    }

    #[test]
    fn what_needs_a_queue_is_refused_in_words() {
        assert!(send(&["sendmail", "-bs"]).unwrap_err().contains("postie talk"));
        assert!(send(&["sendmail", "-bp"]).unwrap_err().starts_with("-bp: postie has no mail queue"));
        assert!(send(&["sendmail", "-q30m"]).unwrap_err().starts_with("-q30m: postie has no queue"));
        assert_eq!(send(&["sendmail", "-f"]).unwrap_err(), "-f needs a value");
        assert_eq!(send(&["sendmail", "-Z"]).unwrap_err(), "-Z is not a sendmail flag postie knows");
        assert!(send(&["sendmail", "-oQ/var/spool"])
            .unwrap_err()
            .starts_with("-oQ/var/spool is not a sendmail option"));
    }

    #[test]
    fn names_with_specials_are_quoted() {
        assert_eq!(quote_name("Cron Daemon"), "Cron Daemon");
        assert_eq!(quote_name("Smith, J."), "\"Smith, J.\"");
    }
}
