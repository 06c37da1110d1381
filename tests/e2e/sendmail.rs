//! postie as a `sendmail` drop-in: a symlink named sendmail, called the way cron and applications call
//! /usr/sbin/sendmail, delivering through the account of the config file to the test Postfix.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::harness::{marker, postfix, scratch_dir};

/// A directory with `sendmail` (a symlink to postie) and a config whose default account is `server`.
fn drop_in(test: &str, server: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(&format!("sendmail-{test}"));
    let link = dir.join("sendmail");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_postie"), &link).unwrap();
    fs::create_dir_all(dir.join("config/postie")).unwrap();
    fs::write(
        dir.join("config/postie/config.toml"),
        format!("default-account = \"local\"\n[account.local]\nserver = \"{server}\"\nfrom = \"cron@example.test\"\n"),
    )
    .unwrap();
    (link, dir.join("config"))
}

/// Run a shell script as cron runs a job's mail: a clean environment, the message on a pipe.
fn shell(script: &str, sendmail: &PathBuf, config_home: &PathBuf) -> Output {
    Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("SENDMAIL", sendmail)
        .env("XDG_CONFIG_HOME", config_home)
        .env("PATH", "/usr/bin:/bin")
        .env("USER", "tester")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cron_mails_a_jobs_output_through_the_symlink() {
    let postfix = postfix();
    let (sendmail, config) = drop_in("cron", &format!("127.0.0.1:{}", postfix.port));
    let mark = marker("cron");
    // Debian's cron: the job's output after these headers, piped to `sendmail -FCronDaemon -i -B8BITMIME -oem
    // MAILTO`.
    let script = format!(
        "printf 'From: root (Cron Daemon)\\nTo: bob@example.test\\nSubject: Cron <tester@host> backup\\n\
         MIME-Version: 1.0\\nContent-Type: text/plain; charset=UTF-8\\nX-Cron-Env: <SHELL=/bin/sh>\\n\\n{mark}\\n.\\nlast line\\n' \
         | \"$SENDMAIL\" -FCronDaemon -i -B8BITMIME -oem bob@example.test; echo \"exit=$?\""
    );
    let output = shell(&script, &sendmail, &config);
    assert_eq!(
        (text(&output.stdout), text(&output.stderr)),
        ("exit=0\n".to_string(), String::new()),
        "silent on success"
    );
    let message = text(&postfix.delivered("bob", &mark));
    assert!(message.starts_with("Return-Path: <cron@example.test>\n"), "the account's sender\n{message}");
    assert!(message.contains("(Cron Daemon)\n"), "cron's From\n{message}");
    // The lone dot is text (-i), and the Date and Message-ID sendmail would add are there, made by postie.
    assert!(message.contains(&format!("{mark}\n.\nlast line\n")), "{message}");
    let id = message.lines().find(|l| l.starts_with("Message-ID: ") || l.starts_with("Message-Id: ")).unwrap_or("");
    assert!(id.ends_with("@example.test>"), "{message}");
    assert!(message.lines().any(|l| l.starts_with("Date: ")), "{message}");
}

#[test]
fn t_i_f_takes_the_recipients_from_the_headers() {
    let postfix = postfix();
    let (sendmail, config) = drop_in("t-i-f", &format!("127.0.0.1:{}", postfix.port));
    let mark = marker("t-i-f");
    let script = format!(
        "printf 'To: bob@example.test\\nBcc: carol@example.test\\nSubject: order {mark}\\n\\nThanks.\\n' \
         | \"$SENDMAIL\" -t -i -f shop@example.test"
    );
    let output = shell(&script, &sendmail, &config);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(text(&output.stdout), "");
    for user in ["bob", "carol"] {
        let message = text(&postfix.delivered(user, &mark));
        assert!(message.starts_with("Return-Path: <shop@example.test>\n"), "{message}");
        assert!(!message.contains("Bcc:"), "Bcc removed\n{message}");
        assert!(message.contains("From: <shop@example.test>\n"), "a From from -f\n{message}");
    }
}

#[test]
fn a_failure_is_one_line_and_sendmails_exit_code() {
    let (sendmail, config) = drop_in("down", "127.0.0.1:1");
    let output = shell("printf 'To: bob@example.test\\n\\nx\\n' | \"$SENDMAIL\" -t", &sendmail, &config);
    assert_eq!(output.status.code(), Some(75), "EX_TEMPFAIL\n{output:?}");
    assert_eq!(text(&output.stdout), "");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("postie: error: ") && stderr.contains("127.0.0.1"), "{stderr}");
}

#[test]
fn queue_and_daemon_flags_are_refused_in_words() {
    let (sendmail, config) = drop_in("refused", "127.0.0.1:1");
    for (flags, expected) in [
        ("-bp", "postie: error: -bp: postie has no mail queue to list"),
        ("-bs", "postie: error: -bs (SMTP on stdin and stdout) is not a drop-in's job: use postie talk"),
        ("-q", "postie: error: -q: postie has no queue to run"),
        ("-X /tmp/log", "postie: error: -X is not a sendmail flag postie knows"),
    ] {
        let output = shell(&format!("\"$SENDMAIL\" {flags} </dev/null"), &sendmail, &config);
        assert_eq!(output.status.code(), Some(64), "{flags}: {output:?}");
        assert!(text(&output.stderr).starts_with(expected), "{flags}: {output:?}");
    }
}

#[test]
fn postie_sendmail_v_shows_the_dialogue() {
    let postfix = postfix();
    let (_, config) = drop_in("verbose", &format!("127.0.0.1:{}", postfix.port));
    let mark = marker("sendmail-v");
    let postie = PathBuf::from(env!("CARGO_BIN_EXE_postie"));
    let script = format!("printf 'Subject: {mark}\\n\\nhi\\n' | \"$SENDMAIL\" sendmail -v -a local bob@example.test");
    let output = shell(&script, &postie, &config);
    assert!(output.status.success(), "{output:?}");
    assert!(text(&output.stdout).contains("C: MAIL FROM:<cron@example.test>"), "{output:?}");
    postfix.delivered("bob", &mark);
}
