//! Accounts, the config file, secret sources and ~/.netrc: each run against the test Postfix's submission port
//! (STARTTLS required, SASL through Dovecot), with what landed checked in the Maildir.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::harness::{marker, postfix, postie, scratch_dir, Run, SASL_PASSWORD, SASL_USER};

/// A config file of the test's own, mode 0600 unless said otherwise.
fn config_file(test: &str, text: &str, mode: u32) -> PathBuf {
    let dir = scratch_dir(&format!("config-{test}"));
    let path = dir.join("config.toml");
    fs::write(&path, text).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// The settings of an account that reaches the submission port: server, TLS, the test CA and the user.
fn submission_account() -> String {
    let postfix = postfix();
    format!(
        "server = \"127.0.0.1:{}\"\ntls = \"required\"\nca-file = \"{}\"\nuser = \"{SASL_USER}\"\n",
        postfix.submission_port,
        postfix.ca_file()
    )
}

fn assert_no_secret(run: &Run) {
    for text in [run.stdout(), run.stderr()] {
        assert!(!text.contains(SASL_PASSWORD), "the password is in the output\n{run:?}");
    }
}

#[test]
fn an_account_with_a_password_command_delivers_through_submission() {
    let path = config_file(
        "command",
        &format!(
            "[account.work]\nfrom = \"Work <work@example.test>\"\n{}password = \"command:printf '%s\\n' '{SASL_PASSWORD}'\"\n",
            submission_account()
        ),
        0o600,
    );
    let mark = marker("account-command");
    let run = postie(["send", "--config", path.to_str().unwrap(), "-a", "work", "--to", "bob@example.test"])
        .args(["--body", &mark])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("S~ 235 "), "authenticated\n{run:?}");
    assert_no_secret(&run);
    let message = String::from_utf8_lossy(&postfix().delivered("bob", &mark)).into_owned();
    let from = message.lines().find(|line| line.starts_with("From: ")).unwrap_or_default();
    assert!(from.contains("Work") && from.contains("<work@example.test>"), "{message}");
}

#[test]
fn the_sender_picks_the_account_and_default_account_the_rest() {
    let postfix = postfix();
    let text = format!(
        "default-account = \"broken\"\n\
         [account.broken]\nserver = \"127.0.0.1:1\"\n\
         [account.alerts]\nfrom = \"*@alerts.example.test\"\n{}password = \"env:PW\"\n",
        submission_account()
    );
    let path = config_file("sender", &text, 0o600);
    let mark = marker("account-sender");
    postie(["send", "--config", path.to_str().unwrap(), "-f", "cron@alerts.example.test", "--to", "bob@example.test"])
        .args(["--body", &mark])
        .env("PW", SASL_PASSWORD)
        .run()
        .expect_code(0);
    let message = String::from_utf8_lossy(&postfix.delivered("bob", &mark)).into_owned();
    assert!(message.contains("cron@alerts.example.test"), "{message}");
    // Another sender gets default-account, whose server refuses connections: a temporary failure.
    let run = postie(["send", "--config", path.to_str().unwrap(), "-f", "x@elsewhere.example.test"])
        .args(["--to", "bob@example.test", "--body", "x"])
        .run()
        .expect_code(75);
    assert!(run.stderr().contains("127.0.0.1"), "{run:?}");
}

#[test]
fn config_check_shows_flag_over_environment_over_account_over_defaults() {
    let path = config_file(
        "precedence",
        "default-account = \"work\"\n\
         [defaults]\nhelo = \"defaults.example.test\"\ntimeout = 40\nserver = \"defaults.example.test\"\nuser = \"d\"\n\
         [account.work]\nhelo = \"work.example.test\"\nserver = \"work.example.test\"\nuser = \"w\"\npassword = \"hunter2\"\n",
        0o600,
    );
    let run = postie(["config", "check", "--config", path.to_str().unwrap(), "--server", "flag.example.test"])
        .env("POSTIE_SERVER", "env.example.test")
        .env("POSTIE_USER", "env-user")
        .run()
        .expect_code(0);
    let out = run.stdout();
    let row = |key: &str| -> String {
        out.lines()
            .find(|line| line.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} row\n{run:?}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(out.contains("account: work (chosen by default-account)"), "{run:?}");
    assert_eq!(row("server"), "server flag.example.test flag");
    assert_eq!(row("user"), "user env-user environment $POSTIE_USER");
    assert_eq!(row("helo"), "helo work.example.test account work, line 8");
    assert_eq!(row("timeout"), "timeout 40 [defaults], line 4");
    assert_eq!(row("password"), "password <redacted> account work, line 11");
    assert!(!out.contains("hunter2"), "{run:?}");
}

#[test]
fn a_password_in_a_file_others_can_read_is_refused() {
    let path = config_file(
        "readable",
        &format!("[account.work]\n{}password = \"{SASL_PASSWORD}\"\n", submission_account()),
        0o640,
    );
    let run = postie(["send", "--config", path.to_str().unwrap(), "-a", "work", "--to", "bob@example.test"])
        .args(["--body", "x"])
        .run()
        .expect_code(78);
    assert!(
        run.stderr().contains(&format!(
            "{}:6: the password is written in the file and others can read it (mode 0640): run chmod 600",
            path.display()
        )),
        "{run:?}"
    );
    assert!(run.client_lines().is_empty(), "{run:?}");
    assert_no_secret(&run);
    // The same file, private, delivers.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let mark = marker("literal-private");
    postie(["send", "--config", path.to_str().unwrap(), "-a", "work", "--to", "bob@example.test", "--body", &mark])
        .run()
        .expect_code(0);
    postfix().delivered("bob", &mark);
}

#[test]
fn netrc_gives_the_login_and_password_for_the_server() {
    let postfix = postfix();
    let home = scratch_dir("config-netrc-home");
    let netrc = home.join(".netrc");
    fs::write(&netrc, format!("machine 127.0.0.1\n  login {SASL_USER}\n  password {SASL_PASSWORD}\n")).unwrap();
    fs::set_permissions(&netrc, fs::Permissions::from_mode(0o600)).unwrap();
    let server = format!("127.0.0.1:{}", postfix.submission_port);
    let base = ["send", "--server", &server, "--ca-file", &postfix.ca_file(), "--to", "bob@example.test"];
    // --netrc takes both the user and the password.
    let mark = marker("netrc");
    let run = postie(base).args(["--netrc", "--body", &mark]).env("HOME", home.to_str().unwrap()).run().expect_code(0);
    assert!(run.stdout().contains("S~ 235 "), "authenticated\n{run:?}");
    assert_no_secret(&run);
    postfix.delivered("bob", &mark);
    // --user without a password finds it there too (stdin is not a terminal, so nothing else could).
    let mark = marker("netrc-user");
    postie(base).args(["--user", SASL_USER, "--body", &mark]).env("HOME", home.to_str().unwrap()).run().expect_code(0);
    postfix.delivered("bob", &mark);
    // A host the file does not know: a clear error.
    let run = postie(["send", "--server", "127.0.0.2:1", "--to", "bob@example.test", "--netrc", "--body", "x"])
        .env("HOME", home.to_str().unwrap())
        .run()
        .expect_code(64);
    assert!(run.stderr().contains("--netrc: no login for 127.0.0.2 in the netrc file: give --user"), "{run:?}");
}

#[test]
fn the_usual_places_and_no_config() {
    let postfix = postfix();
    let xdg = scratch_dir("config-xdg");
    fs::create_dir_all(xdg.join("postie")).unwrap();
    let path = xdg.join("postie/config.toml");
    fs::write(
        &path,
        format!("default-account = \"local\"\n[account.local]\nserver = \"127.0.0.1:{}\"\n", postfix.port),
    )
    .unwrap();
    let mark = marker("xdg");
    postie(["send", "--to", "bob@example.test", "--body", &mark])
        .env("XDG_CONFIG_HOME", xdg.to_str().unwrap())
        .run()
        .expect_code(0);
    postfix.delivered("bob", &mark);
    // $POSTIE_CONFIG names the file; --no-config ignores it (no server, no MX for example.test: not sent there).
    let run = postie(["config", "check"]).env("POSTIE_CONFIG", path.to_str().unwrap()).run().expect_code(0);
    assert!(run.stdout().contains(&format!("server  127.0.0.1:{}", postfix.port)), "{run:?}");
    let run =
        postie(["config", "check", "--no-config"]).env("POSTIE_CONFIG", path.to_str().unwrap()).run().expect_code(78);
    assert!(run.stderr().contains("no config file to check"), "{run:?}");
}

#[test]
fn bad_config_files_name_the_file_and_line() {
    let cases: &[(&str, &str, &str)] = &[
        ("malformed", "[defaults]\nhelo = \"x\"\nserver =\n", ":3: not valid TOML"),
        ("unknown-key", "[account.w]\nserver = \"x\"\nsever = \"y\"\n", ":3: unknown key \"sever\": not a flag of postie send, talk, script or oauth login (did you mean server?)"),
        ("wrong-type", "[defaults]\ninsecure = \"yes\"\n", ":2: insecure must be true or false, not a string"),
        ("bad-value", "[defaults]\ntls = \"sometimes\"\n", ":2: tls: \"sometimes\" is not a valid value: expected one of auto, required, none, implicit, dane, mta-sts"),
        ("missing-extends", "[account.w]\nextends = \"base\"\n", ":2: account \"w\" extends \"base\", which is not an [account.NAME] (accounts: w)"),
    ];
    for (name, text, expected) in cases {
        let path = config_file(name, text, 0o600);
        let run = postie(["config", "check", "--config", path.to_str().unwrap()]).run().expect_code(78);
        let line = format!("postie: error: {}{expected}", path.display());
        assert!(run.stderr().starts_with(&line), "{name}: expected {line:?}\n{run:?}");
        assert_eq!(run.stderr().lines().count(), 1, "one line\n{run:?}");
    }
    // A secret's key takes only a source, never the secret itself.
    let path = config_file("literal-client-secret", "[defaults]\noauth-client-secret = \"abc\"\n", 0o600);
    let run = postie(["config", "check", "--config", path.to_str().unwrap()]).run().expect_code(78);
    assert_eq!(
        run.stderr(),
        format!(
            "postie: error: {}:2: oauth-client-secret must be a source: env:NAME, file:PATH or command:COMMAND (a \
             token does not belong in a config file)\n",
            path.display()
        )
    );
    let path = config_file("unknown-account", "[account.w]\n", 0o600);
    let run = postie(["send", "--config", path.to_str().unwrap(), "-a", "play", "--to", "b@example.test"])
        .run()
        .expect_code(78);
    assert_eq!(
        run.stderr(),
        format!("postie: error: {}: there is no account \"play\" (accounts: w)\n", path.display())
    );
    let run = postie(["send", "-a", "play", "--to", "b@example.test"]).run().expect_code(78);
    assert!(run.stderr().contains("-a play: there is no config file"), "{run:?}");
}

#[test]
fn a_secret_command_that_fails_stops_before_connecting() {
    let path = config_file(
        "failing-command",
        &format!("[account.work]\n{}password = \"command:echo 'vault is locked' >&2; exit 3\"\n", submission_account()),
        0o600,
    );
    let run = postie(["send", "--config", path.to_str().unwrap(), "-a", "work", "--to", "bob@example.test"])
        .args(["--body", "x"])
        .run()
        .expect_code(78);
    assert_eq!(
        run.stderr(),
        "postie: error: --password-command: the secret command `echo 'vault is locked' >&2; exit 3` failed with exit \
         status 3: vault is locked\n"
    );
    assert!(!run.stdout().contains("connected"), "{run:?}");
}

#[test]
fn an_accounts_proxy_carries_the_session_and_its_password_stays_private() {
    let postfix = postfix();
    let proxy = crate::harness::microsocks();
    let url = format!(
        "socks5h://{}:{}@{}",
        crate::harness::PROXY_USER,
        crate::harness::PROXY_PASSWORD_ENCODED,
        proxy.address()
    );
    let text = format!("[account.relay]\nserver = \"localhost:{}\"\nproxy = \"{url}\"\n", postfix.port);
    let path = config_file("proxy", &text, 0o644);
    let run = postie(["send", "--config", path.to_str().unwrap(), "-a", "relay", "--to", "bob@example.test"])
        .args(["--body", "x"])
        .run()
        .expect_code(78);
    assert!(run.stderr().contains(":3: the password is written in the file"), "{run:?}");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let mark = marker("account-proxy");
    let run = postie(["send", "--config", path.to_str().unwrap(), "-a", "relay", "--to", "bob@example.test"])
        .args(["--body", &mark])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains(&format!("through SOCKS5 proxy {}", proxy.address())), "{run:?}");
    postfix.delivered("bob", &mark);
    let check = postie(["config", "check", "--config", path.to_str().unwrap(), "-a", "relay"]).run().expect_code(0);
    assert!(check.stdout().contains(&format!("socks5h://{}:<redacted>@", crate::harness::PROXY_USER)), "{check:?}");
    assert!(!check.stdout().contains(crate::harness::PROXY_PASSWORD_ENCODED), "{check:?}");
}
