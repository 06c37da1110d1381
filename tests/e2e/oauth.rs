//! OAuth 2.0 against real SMTP AUTH: postie gets its access token from the harness's token service (a refresh
//! token, RFC 6749 §6; the device flow, RFC 8628), and Postfix's submission listener has a Dovecot check it by
//! introspection, for XOAUTH2 and OAUTHBEARER. No token is ever in postie's output.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use std::{fs, thread};

use crate::harness::{
    free_port, marker, oauth, postfix, postie, scratch_dir, OauthLab, Postie, Run, CLIENT_ID, CLIENT_SECRET,
    EXPIRED_REFRESH_TOKEN,
};

/// A user's files for one test: the refresh token file and the cache directory (postie runs with a clean
/// environment, so `XDG_CACHE_HOME` says where its cache is).
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(test: &str) -> Home {
        Home { dir: scratch_dir(&format!("oauth-{test}")) }
    }

    fn refresh_file(&self) -> PathBuf {
        self.dir.join("config/postie/token")
    }

    fn cache(&self) -> PathBuf {
        self.dir.join("cache")
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        fs::read_dir(self.cache().join("postie"))
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    fn write_refresh_token(&self, token: &str) {
        fs::create_dir_all(self.refresh_file().parent().unwrap()).unwrap();
        fs::write(self.refresh_file(), format!("{token}\n")).unwrap();
        fs::set_permissions(self.refresh_file(), fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// `postie ARGS` with this home's cache and the client secret in $CLIENT_SECRET.
    fn postie(&self, args: &[&str]) -> Postie {
        postie(args).env("XDG_CACHE_HOME", &self.cache().display().to_string()).env("CLIENT_SECRET", CLIENT_SECRET)
    }

    /// The OAuth flags of an account at the lab's provider.
    fn oauth_flags(&self, lab: &OauthLab) -> Vec<String> {
        [
            "--oauth-token-url",
            &lab.url("/token"),
            "--oauth-client-id",
            CLIENT_ID,
            "--oauth-client-secret",
            "env:CLIENT_SECRET",
            "--oauth-refresh-token",
            &format!("file:{}", self.refresh_file().display()),
        ]
        .map(String::from)
        .to_vec()
    }

    fn send(&self, lab: &OauthLab, mechanism: &str, marker: &str, extra: &[&str]) -> Run {
        self.sending(lab, mechanism, marker, extra).run()
    }

    /// `postie send` through the OAuth submission listener as bob, with `mechanism` ("" for postie's choice).
    fn sending(&self, lab: &OauthLab, mechanism: &str, marker: &str, extra: &[&str]) -> Postie {
        let postfix = postfix();
        let server = format!("127.0.0.1:{}", postfix.oauth_port);
        let ca_file = postfix.ca_file();
        let mut args = vec![
            "send",
            "--server",
            &server,
            "--tls",
            "required",
            "--ca-file",
            &ca_file,
            "--user",
            "bob",
            "--auth",
            mechanism,
            "--from",
            "alice@example.test",
            "--to",
            "bob@example.test",
            "--subject",
            marker,
            "--body",
            marker,
        ];
        if mechanism.is_empty() {
            args.retain(|a| *a != "--auth" && !a.is_empty());
        }
        args.extend_from_slice(extra);
        let flags = self.oauth_flags(lab);
        args.extend(flags.iter().map(String::as_str));
        self.postie(&args)
    }
}

/// No token the provider knows, nor the client secret, in anything postie printed.
fn assert_no_token_shown(lab: &OauthLab, run: &Run) {
    let output = format!("{}{}", run.stdout(), run.stderr());
    for token in lab.all_tokens().iter().map(String::as_str).chain([CLIENT_SECRET]) {
        assert!(!output.contains(token), "postie showed {token:?}\n{run:?}");
    }
}

fn token_requests(lab: &OauthLab, refresh_token: &str) -> usize {
    lab.requests("/token", "refresh_token", refresh_token).len()
}

#[test]
fn a_refreshed_token_authenticates_with_xoauth2_and_the_next_send_takes_it_from_the_cache() {
    let lab = oauth();
    let home = Home::new("xoauth2");
    let refresh_token = lab.refresh_token("bob");
    home.write_refresh_token(&refresh_token);
    let first = marker("oauth-xoauth2");
    let run = home.send(lab, "xoauth2", &first, &[]).expect_code(0);
    assert!(
        run.stdout().contains(&format!("* OAuth access token refreshed at {} (expires in 60 min)", lab.url("/token"))),
        "{run:?}"
    );
    assert!(run.stdout().contains("C~ AUTH XOAUTH2 <redacted>\n"), "{run:?}");
    assert!(run.stdout().contains("S~ 235 "), "{run:?}");
    assert_no_token_shown(lab, &run);
    postfix().delivered("bob", &first);
    assert_eq!(token_requests(lab, &refresh_token), 1);
    // The cache: one private file in a private directory.
    let files = home.cache_files();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::metadata(home.cache().join("postie")).unwrap().permissions().mode() & 0o777, 0o700);

    let second = marker("oauth-cached");
    let run = home.send(lab, "xoauth2", &second, &["--json"]).expect_code(0);
    let info = r#""text":"OAuth access token from the cache (expires in "#;
    assert!(run.stdout().contains(info), "{run:?}");
    assert_no_token_shown(lab, &run);
    postfix().delivered("bob", &second);
    assert_eq!(token_requests(lab, &refresh_token), 1, "the second send asked the token endpoint again");
}

#[test]
fn a_refreshed_token_authenticates_with_oauthbearer() {
    let lab = oauth();
    let home = Home::new("oauthbearer");
    home.write_refresh_token(&lab.refresh_token("bob"));
    let marker = marker("oauth-oauthbearer");
    let run = home.send(lab, "oauthbearer", &marker, &["--show-data"]).expect_code(0);
    assert!(run.stdout().contains("C~ AUTH OAUTHBEARER <redacted>\n"), "{run:?}");
    assert_no_token_shown(lab, &run);
    postfix().delivered("bob", &marker);
}

#[test]
fn without_auth_postie_picks_a_bearer_mechanism_the_server_offers() {
    let lab = oauth();
    let home = Home::new("default-mechanism");
    home.write_refresh_token(&lab.refresh_token("bob"));
    let marker = marker("oauth-default");
    let run = home.send(lab, "", &marker, &[]).expect_code(0);
    // Both are offered: OAUTHBEARER (RFC 7628) first, as for --oauth-token-env.
    assert!(run.stdout().contains("C~ AUTH OAUTHBEARER <redacted>\n"), "{run:?}");
    assert_no_token_shown(lab, &run);
    postfix().delivered("bob", &marker);
}

#[test]
fn a_token_the_server_refuses_is_dropped_from_the_cache() {
    let lab = oauth();
    let home = Home::new("revoked");
    let refresh_token = lab.refresh_token("bob");
    home.write_refresh_token(&refresh_token);
    home.send(lab, "xoauth2", &marker("oauth-before-revoke"), &[]).expect_code(0);
    lab.revoke_access_tokens_from(&refresh_token);
    let marker = marker("oauth-revoked");
    let run = home.send(lab, "xoauth2", &marker, &[]).expect_code(77);
    assert!(run.stdout().contains("OAuth access token from the cache"), "{run:?}");
    assert!(
        run.stderr()
            .contains("the OAuth access token from the cache was refused and is forgotten (the next run refreshes it)"),
        "{run:?}"
    );
    assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    assert_no_token_shown(lab, &run);
    postfix().assert_nothing_sent(&run, "bob", &marker);
    assert!(home.cache_files().is_empty(), "{:?}", home.cache_files());
    // The next run refreshes, and gets through.
    let run = home.send(lab, "xoauth2", &marker, &[]).expect_code(0);
    assert!(run.stdout().contains("OAuth access token refreshed at"), "{run:?}");
    assert_eq!(token_requests(lab, &refresh_token), 2);
}

#[test]
fn an_expired_refresh_token_gives_the_providers_error_and_sends_nothing() {
    let lab = oauth();
    let home = Home::new("expired");
    home.write_refresh_token(EXPIRED_REFRESH_TOKEN);
    let marker = marker("oauth-expired");
    let run = home.send(lab, "xoauth2", &marker, &[]).expect_code(77);
    assert_eq!(
        run.stderr(),
        format!(
            "postie: error: {} refused the refresh token: invalid_grant: Token has been expired or revoked.; run \
             `postie oauth login` for a new refresh token\n",
            lab.url("/token")
        ),
        "{run:?}"
    );
    assert!(run.client_lines().is_empty(), "postie connected\n{run:?}");
    assert_no_token_shown(lab, &run);
    assert!(home.cache_files().is_empty());
}

#[test]
fn a_wrong_client_secret_is_refused_in_the_providers_words() {
    let lab = oauth();
    let home = Home::new("client-secret");
    home.write_refresh_token(&lab.refresh_token("bob"));
    let run = home.sending(lab, "xoauth2", &marker("oauth-client"), &[]).env("CLIENT_SECRET", "wrong").run();
    let run = run.expect_code(77);
    assert!(
        run.stderr().contains(
            "invalid_client: The OAuth client was not found.; check --oauth-client-id and --oauth-client-secret"
        ),
        "{run:?}"
    );
}

#[test]
fn an_unreachable_token_endpoint_is_a_temporary_failure() {
    let home = Home::new("unreachable");
    home.write_refresh_token("refresh-never-used");
    let postfix = postfix();
    let url = format!("https://127.0.0.1:{}/token", free_port("127.0.0.1"));
    let run = home
        .postie(&[
            "send",
            "--server",
            &format!("127.0.0.1:{}", postfix.oauth_port),
            "--ca-file",
            &postfix.ca_file(),
            "--user",
            "bob",
            "--to",
            "bob@example.test",
            "--oauth-token-url",
            &url,
            "--oauth-client-id",
            CLIENT_ID,
            "--oauth-refresh-token",
            &format!("file:{}", home.refresh_file().display()),
        ])
        .run()
        .expect_code(75);
    assert!(run.stderr().starts_with(&format!("postie: error: cannot get an OAuth token from {url}: ")), "{run:?}");
    assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    assert!(run.client_lines().is_empty(), "{run:?}");
}

/// `postie oauth login` with the lab's endpoints, its stderr read line by line as it runs; `decide` gets the
/// user code postie printed.
fn login(home: &Home, lab: &OauthLab, refresh_source: &str, decide: impl FnOnce(&str)) -> (i32, String) {
    let ca_file = postfix().ca_file();
    let (device, token) = (lab.url("/device"), lab.url("/token"));
    let args = [
        "oauth",
        "login",
        "--user",
        "bob",
        "--ca-file",
        &ca_file,
        "--oauth-device-url",
        &device,
        "--oauth-token-url",
        &token,
        "--oauth-client-id",
        CLIENT_ID,
        "--oauth-client-secret",
        "env:CLIENT_SECRET",
        "--oauth-refresh-token",
        refresh_source,
        "--oauth-scope",
        "mail",
    ];
    login_with(home, &args, decide)
}

/// `postie ARGS` (an oauth login), answering its user code with `decide`: the exit code and stderr.
fn login_with(home: &Home, args: &[&str], decide: impl FnOnce(&str)) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_postie"));
    command
        .env_clear()
        .env("XDG_CACHE_HOME", home.cache())
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run postie oauth login");
    let (lines, receive) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut seen = String::new();
    let code = loop {
        let line = receive.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("postie oauth login printed no user code within 20 s:\n{seen}")
        });
        seen.push_str(&line);
        seen.push('\n');
        if let Some(code) = line.split("enter the code ").nth(1) {
            break code.trim().to_string();
        }
    };
    decide(&code);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    seen.extend(receive.try_iter().map(|l| l + "\n"));
    assert_eq!(stdout, "", "oauth login wrote to stdout");
    (status.code().unwrap_or(-1), seen)
}

#[test]
fn the_device_flow_stores_a_refresh_token_that_send_then_uses() {
    let lab = oauth();
    let home = Home::new("device");
    let source = format!("file:{}", home.refresh_file().display());
    let (code, stderr) = login(&home, lab, &source, |user_code| lab.decide(user_code, Some("bob")));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("postie: to sign in, open {} and enter the code WDJB-", lab.url("/activate"))),
        "{stderr}"
    );
    assert!(stderr.contains("asking every 1 s; the code expires in 2 min"), "{stderr}");
    assert!(stderr.contains(&format!("the refresh token is in {}", home.refresh_file().display())), "{stderr}");
    for token in lab.all_tokens() {
        assert!(!stderr.contains(&token), "postie showed {token:?}:\n{stderr}");
    }
    // Written 0600 in a new 0700 directory, and it is a token the provider issued for bob.
    let file = home.refresh_file();
    assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(fs::metadata(file.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    let refresh_token = fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(refresh_token.starts_with("refresh-bob-"), "{refresh_token:?}");
    // The next send just works, with the access token login cached.
    let marker = marker("oauth-device");
    let run = home.send(lab, "xoauth2", &marker, &[]).expect_code(0);
    assert!(run.stdout().contains("OAuth access token from the cache"), "{run:?}");
    assert_no_token_shown(lab, &run);
    postfix().delivered("bob", &marker);
    assert_eq!(token_requests(lab, &refresh_token), 0);
}

#[test]
fn a_denied_device_sign_in_is_a_clear_error_and_writes_nothing() {
    let lab = oauth();
    let home = Home::new("denied");
    let source = format!("file:{}", home.refresh_file().display());
    let (code, stderr) = login(&home, lab, &source, |user_code| lab.decide(user_code, None));
    assert_eq!(code, 77, "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "postie: error: {} refused the device sign-in: access_denied: The user refused the request.\n",
            lab.url("/token")
        )),
        "{stderr}"
    );
    assert!(!home.refresh_file().exists());
}

#[test]
fn slow_down_adds_five_seconds_and_an_expired_code_ends_the_wait() {
    let lab = oauth();
    let home = Home::new("slow-down");
    let source = format!("file:{}", home.refresh_file().display());
    let mut user_code = String::new();
    let (code, stderr) = login(&home, lab, &source, |code| {
        user_code = code.to_string();
        lab.force(code, &["authorization_pending", "slow_down", "expired_token"]);
    });
    assert_eq!(code, 77, "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "postie: error: {} refused the device sign-in: expired_token: As the test asked.\n",
            lab.url("/token")
        )),
        "{stderr}"
    );
    assert!(!home.refresh_file().exists());
    // Three polls: the second one interval (1 s) after the first, the third six seconds after slow_down.
    let polls = lab.polls(&user_code);
    assert_eq!(polls.len(), 3, "{polls:?}");
    let gap = polls[2] - polls[1];
    assert!(gap >= Duration::from_secs(6) && gap < Duration::from_secs(8), "slow_down, then {gap:?}");
}

#[test]
fn a_token_endpoint_that_does_not_answer_json_is_a_protocol_error() {
    let lab = oauth();
    let home = Home::new("not-json");
    home.write_refresh_token(&lab.refresh_token("bob"));
    let postfix = postfix();
    let run = home
        .postie(&[
            "send",
            "--server",
            &format!("127.0.0.1:{}", postfix.oauth_port),
            "--ca-file",
            &postfix.ca_file(),
            "--user",
            "bob",
            "--to",
            "bob@example.test",
            "--oauth-token-url",
            &lab.url("/not-json"),
            "--oauth-client-id",
            CLIENT_ID,
            "--oauth-client-secret",
            "env:CLIENT_SECRET",
            "--oauth-refresh-token",
            &format!("file:{}", home.refresh_file().display()),
        ])
        .run()
        .expect_code(76);
    assert_eq!(
        run.stderr(),
        format!(
            "postie: error: the OAuth endpoint {} answered HTTP 200 with something that is not a JSON object\n",
            lab.url("/not-json")
        ),
        "{run:?}"
    );
}

/// Each bad input: exit 64 (or 66 for a missing file) with one line naming the problem, before any request.
#[test]
fn bad_oauth_input_is_one_line_and_no_request() {
    let home = Home::new("bad-input");
    let file = format!("file:{}", home.dir.join("missing-token").display());
    let send = ["send", "--server", "127.0.0.1:9", "--to", "bob@example.test"];
    let token_url = ["--oauth-token-url", "https://127.0.0.1:9/token", "--oauth-client-id", "id"];
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["--user", "bob", "--oauth-refresh-token", "1//literal-token", "--oauth-token-url", "https://127.0.0.1:9/token"],
            64,
            "error: invalid --oauth-refresh-token: \"1//literal-token\" is not a secret source: give env:NAME, file:PATH or command:COMMAND",
        ),
        (vec!["--user", "bob", "--oauth-refresh-token", &file], 64, "error: --oauth-refresh-token needs --oauth-token-url"),
        (
            vec!["--user", "bob", "--oauth-refresh-token", &file, "--oauth-token-url", "https://127.0.0.1:9/token"],
            64,
            "error: --oauth-refresh-token needs --oauth-client-id",
        ),
        (
            vec!["--user", "bob", "--oauth-refresh-token", &file, "--oauth-client-id", "id", "--oauth-token-url", "http://oauth.example.test/token"],
            64,
            "plain http:// would send the tokens unencrypted",
        ),
        (
            vec!["--user", "bob", "--oauth-refresh-token", &file, "--oauth-client-id", "id", "--oauth-token-url", "oauth.example.test"],
            64,
            "error: invalid --oauth-token-url \"oauth.example.test\"",
        ),
        (vec!["--oauth-refresh-token", &file], 64, "error: --oauth-refresh-token needs --user"),
        (
            vec!["--user", "bob", "--oauth-refresh-token", &file, "--password-env", "PW"],
            64,
            "error: --oauth-refresh-token and --password-env both give the secret for AUTH",
        ),
        (vec!["--user", "bob", "--password-env", "PW", "--oauth-client-id", "id"], 64, "error: --oauth-client-id needs --oauth-refresh-token"),
        (
            [vec!["--user", "bob", "--oauth-refresh-token", file.as_str()], token_url.to_vec()].concat(),
            66,
            "missing-token (run `postie oauth login` to get a refresh token)",
        ),
        (
            [vec!["--user", "bob", "--oauth-refresh-token", "env:NOT_SET"], token_url.to_vec()].concat(),
            64,
            "error: --oauth-refresh-token: the environment variable NOT_SET is not set",
        ),
    ];
    for (args, code, expected) in cases {
        let run = home.postie(&[&send[..], &args].concat()).env("PW", "pw").run().expect_code(code);
        assert!(run.stderr().contains(expected), "expected {expected:?}\n{run:?}");
        assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
        assert_eq!(run.stdout(), "", "{run:?}");
    }
    let login = ["oauth", "login", "--oauth-client-id", "id", "--oauth-token-url", "https://127.0.0.1:9/token"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--oauth-refresh-token", &file], "error: postie oauth login needs --oauth-device-url"),
        (vec!["--oauth-device-url", "https://127.0.0.1:9/device"], "error: postie oauth login needs --oauth-refresh-token file:PATH"),
        (
            vec!["--oauth-device-url", "https://127.0.0.1:9/device", "--oauth-refresh-token", "env:TOKEN"],
            "error: postie oauth login writes the refresh token to a file: give --oauth-refresh-token file:PATH, not $TOKEN",
        ),
    ];
    for (args, expected) in cases {
        let run = home.postie(&[&login[..], &args].concat()).run().expect_code(64);
        assert!(run.stderr().contains(expected), "expected {expected:?}\n{run:?}");
        assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    }
    assert!(!Path::new(&home.dir.join("missing-token")).exists());
}

#[test]
fn an_account_signs_in_once_and_then_sends_with_its_token() {
    let lab = oauth();
    let home = Home::new("account");
    let postfix = postfix();
    let config = home.dir.join("config.toml");
    fs::write(
        &config,
        format!(
            "[account.mail]\nserver = \"127.0.0.1:{}\"\ntls = \"required\"\nca-file = \"{}\"\nuser = \"bob\"\n\
             auth = \"oauthbearer\"\nfrom = \"bob@example.test\"\n\
             [account.mail.oauth]\ntoken-url = \"{}\"\ndevice-url = \"{}\"\nclient-id = \"{CLIENT_ID}\"\n\
             client-secret = \"env:CLIENT_SECRET\"\nrefresh-token = \"file:{}\"\nscope = \"mail\"\n",
            postfix.oauth_port,
            postfix.ca_file(),
            lab.url("/token"),
            lab.url("/device"),
            home.refresh_file().display()
        ),
    )
    .unwrap();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o600)).unwrap();
    let config = config.display().to_string();
    let (code, stderr) = login_with(&home, &["oauth", "login", "--config", &config, "-a", "mail"], |user_code| {
        lab.decide(user_code, Some("bob"))
    });
    assert_eq!(code, 0, "{stderr}");
    let refresh_token = fs::read_to_string(home.refresh_file()).unwrap().trim().to_string();
    assert!(refresh_token.starts_with("refresh-bob-"), "{refresh_token:?}");
    let marker = marker("oauth-account");
    let run = home
        .postie(&["send", "--config", &config, "-f", "bob@example.test", "--to", "bob@example.test", "--body", &marker])
        .run()
        .expect_code(0);
    assert!(run.stdout().contains("C~ AUTH OAUTHBEARER <redacted>"), "{run:?}");
    assert_no_token_shown(lab, &run);
    for token in lab.all_tokens() {
        assert!(!stderr.contains(&token), "login showed {token:?}:\n{stderr}");
    }
    postfix.delivered("bob", &marker);
}

/// A provider that rotates refresh tokens: the new one replaces the old in its file (still 0600), the next
/// refresh uses it, and neither is ever shown.
#[test]
fn a_rotated_refresh_token_replaces_the_old_one_in_its_file() {
    let lab = oauth();
    let home = Home::new("rotating");
    let first = lab.rotating_refresh_token("bob");
    home.write_refresh_token(&first);
    let mark = marker("oauth-rotated");
    let run = home.send(lab, "xoauth2", &mark, &[]).expect_code(0);
    postfix().delivered("bob", &mark);
    let second = fs::read_to_string(home.refresh_file()).unwrap().trim().to_string();
    assert!(second.starts_with("rotating-bob-") && second != first, "{second:?}");
    assert_eq!(fs::metadata(home.refresh_file()).unwrap().permissions().mode() & 0o777, 0o600);
    for token in [&first, &second] {
        assert!(!run.stdout().contains(token.as_str()) && !run.stderr().contains(token.as_str()), "{run:?}");
    }
    // Without the cached access token, the next run refreshes with the new refresh token (the old one is dead).
    for file in home.cache_files() {
        fs::remove_file(file).unwrap();
    }
    let mark = marker("oauth-rotated-again");
    home.send(lab, "xoauth2", &mark, &[]).expect_code(0);
    postfix().delivered("bob", &mark);
    assert_eq!(token_requests(lab, &second), 1, "the new token was used");
}
