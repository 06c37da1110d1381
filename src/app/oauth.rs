//! OAuth 2.0 from the flags: the access token `send` authenticates with (from the cache while it lasts, else
//! got with the refresh token, RFC 6749 §6), and `postie oauth login`, which gets the refresh token with the
//! device authorization grant (RFC 8628) and writes it where --oauth-refresh-token says.
//!
//! Exit codes: a refused grant (invalid_grant, invalid_client, access_denied, expired_token) 77; an endpoint
//! that cannot be reached, times out or answers 5xx 75; a reply that is not RFC 6749 JSON 76; a certificate
//! that does not verify 4; bad flags 64.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::cli::{OauthArgs, OauthCommand, OauthCommandArgs, OauthLoginArgs};
use crate::error::{Error, Exit};
use crate::oauth::cache::{self, Entry};
use crate::oauth::{device, refresh, Client, Endpoint, Origin, Token};
use crate::sanitize::escape;
use crate::secret::{Problem, Source};
use crate::smtp::error::Error as SessionError;

/// Each request to an OAuth endpoint, from connecting to the end of the reply.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How `send` got its access token: for the transcript, and to forget it when the server refuses it.
#[derive(Debug, Clone)]
pub struct Used {
    pub origin: Origin,
    pub cache: Option<Entry>,
}

pub fn run(args: &OauthCommandArgs) -> anyhow::Result<Exit> {
    match &args.command {
        OauthCommand::Login(login_args) => login(login_args),
    }
}

/// The OAuth flags that only make sense with --oauth-refresh-token (for `send`).
fn given_without_refresh_token(args: &OauthArgs) -> Option<&'static str> {
    [
        (args.oauth_token_url.is_some(), "--oauth-token-url"),
        (args.oauth_client_id.is_some(), "--oauth-client-id"),
        (args.oauth_client_secret.is_some(), "--oauth-client-secret"),
        (args.oauth_scope.is_some(), "--oauth-scope"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag))
}

/// Without --user: the OAuth flag given in vain, if any.
pub(super) fn flag_needing_user(args: &OauthArgs) -> Option<&'static str> {
    args.oauth_refresh_token.as_ref().map(|_| "--oauth-refresh-token")
}

/// The flags, checked, before anything is read or asked.
struct Checked {
    token_url: Endpoint,
    client_id: String,
    client_secret: Option<Source>,
    refresh_token: Source,
}

fn check(args: &OauthArgs, refresh_token: &str, command: &str) -> Result<Checked, Error> {
    let source = |flag: &str, text: &str| {
        Source::parse(text, false).map_err(|reason| Error::Usage(format!("invalid {flag}: {reason}")))
    };
    let refresh_token = source("--oauth-refresh-token", refresh_token)?;
    let Some(url) = &args.oauth_token_url else {
        return Err(Error::Usage(format!(
            "{command} needs --oauth-token-url: the provider's token endpoint, where the refresh token is used"
        )));
    };
    let token_url = endpoint("--oauth-token-url", url)?;
    let client_id = match args.oauth_client_id.as_deref() {
        Some(id) if !id.is_empty() && !id.contains(|c: char| c.is_control()) => id.to_string(),
        Some(id) => {
            return Err(Error::Usage(format!(
                "invalid --oauth-client-id {id:?}: it is empty or contains a control character"
            )))
        }
        None => {
            return Err(Error::Usage(format!(
                "{command} needs --oauth-client-id: the client postie is at the provider"
            )))
        }
    };
    let client_secret = args.oauth_client_secret.as_deref().map(|s| source("--oauth-client-secret", s)).transpose()?;
    Ok(Checked { token_url, client_id, client_secret, refresh_token })
}

fn endpoint(flag: &str, text: &str) -> Result<Endpoint, Error> {
    Endpoint::parse(text).map_err(|reason| Error::Usage(format!("invalid {flag} {text:?}: {reason}")))
}

/// A secret from its source; a missing one is a usage error or missing input, in words that name the flag.
fn read(flag: &str, source: &Source) -> Result<Token, Error> {
    source.read().map(Token::new).map_err(|problem| match problem {
        Problem::EnvUnset(_) => Error::Usage(format!("{flag}: {problem}")),
        Problem::File { path, cause }
            if cause.kind() == std::io::ErrorKind::NotFound && flag == "--oauth-refresh-token" =>
        {
            Error::Input { path: format!("{path} (run `postie oauth login` to get a refresh token)"), cause }
        }
        Problem::File { path, cause } => Error::Input { path, cause },
        other => Error::BadInput(format!("{flag}: {other}")),
    })
}

fn client(checked: &Checked, ca_files: &[PathBuf]) -> Result<Client, Error> {
    Ok(Client {
        token_url: checked.token_url.clone(),
        client_id: checked.client_id.clone(),
        client_secret: checked.client_secret.as_ref().map(|s| read("--oauth-client-secret", s)).transpose()?,
        ca_files: ca_files.to_vec(),
        timeout: TIMEOUT,
    })
}

/// For `send --user USER`: the access token AUTH uses, when --oauth-refresh-token is given; from the cache
/// while it has more than a minute left, else refreshed at the token endpoint (and cached).
pub(super) fn access_token(
    args: &OauthArgs,
    user: &str,
    ca_files: &[PathBuf],
) -> Result<Option<(String, Used)>, Error> {
    let Some(refresh_token) = &args.oauth_refresh_token else {
        return match given_without_refresh_token(args) {
            Some(flag) => Err(Error::Usage(format!(
                "{flag} needs --oauth-refresh-token: the token to get access tokens with (postie oauth login gets one)"
            ))),
            None => Ok(None),
        };
    };
    let checked = check(args, refresh_token, "--oauth-refresh-token")?;
    let entry = cache::directory().map(|dir| Entry::new(&dir, checked.token_url.as_str(), &checked.client_id, user));
    let now = SystemTime::now();
    if let Some((token, left)) = entry.as_ref().and_then(|entry| entry.load(now)) {
        let used = Used { origin: Origin::Cached { expires_in: left }, cache: entry };
        return Ok(Some((token.expose().to_string(), used)));
    }
    let refresh_token = read("--oauth-refresh-token", &checked.refresh_token)?;
    let client = client(&checked, ca_files)?;
    let access = refresh::refresh(&client, &refresh_token, args.oauth_scope.as_deref())?;
    if let Some(rotated) = access.refresh_token.as_ref().filter(|new| new.expose() != refresh_token.expose()) {
        keep_rotated(&checked.refresh_token, rotated);
    }
    let cached = match (&entry, access.expires_in) {
        (Some(entry), Some(expires_in)) => keep(entry, &access.token, expires_in, now),
        _ => None,
    };
    let origin = Origin::Refreshed { url: checked.token_url.to_string(), expires_in: access.expires_in };
    Ok(Some((access.token.expose().to_string(), Used { origin, cache: cached })))
}

/// Cache the token; a cache that cannot be written is worth a warning, not a failure.
fn keep(entry: &Entry, token: &Token, expires_in: Duration, now: SystemTime) -> Option<Entry> {
    match entry.store(token, expires_in, now) {
        Ok(()) => Some(entry.clone()),
        Err(error) => {
            eprintln!("postie: warning: the OAuth access token is not cached: {error}");
            None
        }
    }
}

/// After `send`: a server that refused the access token makes postie forget it, so that the next run gets a
/// new one (this run does not retry: the refusal may have other causes, and the user should see it).
pub(super) fn after_send(result: anyhow::Result<Exit>, used: Option<&Used>) -> anyhow::Result<Exit> {
    let (Err(error), Some(used)) = (&result, used) else { return result };
    let refused = error.chain().any(|cause| {
        matches!(cause.downcast_ref::<Error>(), Some(Error::Session(SessionError::AuthRefused { reply })) if !reply.is_transient())
    });
    if !refused {
        return result;
    }
    let Some(entry) = &used.cache else { return result };
    entry.remove();
    let what = match &used.origin {
        Origin::Cached { .. } => {
            "the OAuth access token from the cache was refused and is forgotten (the next run refreshes it)".to_string()
        }
        Origin::Refreshed { url, .. } => {
            format!("the OAuth access token just refreshed at {url} was refused and is not kept")
        }
    };
    result.map_err(|error| error.context(what))
}

/// `postie oauth login`: the device authorization grant, then the refresh token written to its file.
fn login(args: &OauthLoginArgs) -> anyhow::Result<Exit> {
    let command = "postie oauth login";
    let Some(device_url) = &args.oauth.oauth_device_url else {
        return Err(Error::Usage(format!(
            "{command} needs --oauth-device-url: the provider's device authorization endpoint"
        ))
        .into());
    };
    let device_url = endpoint("--oauth-device-url", device_url)?;
    let Some(refresh_token) = &args.oauth.oauth_refresh_token else {
        return Err(Error::Usage(format!(
            "{command} needs --oauth-refresh-token file:PATH: the file to keep the refresh token in"
        ))
        .into());
    };
    let checked = check(&args.oauth, refresh_token, command)?;
    let Source::File(path) = &checked.refresh_token else {
        return Err(Error::Usage(format!(
            "{command} writes the refresh token to a file: give --oauth-refresh-token file:PATH, not {}",
            checked.refresh_token
        ))
        .into());
    };
    if let Some(user) = &args.user {
        if user.is_empty() || user.contains(|c: char| c.is_control()) {
            return Err(
                Error::Usage(format!("invalid --user {user:?}: it is empty or contains a control character")).into()
            );
        }
    }
    let client = client(&checked, &args.ca_file)?;
    let authorization = device::start(&client, &device_url, args.oauth.oauth_scope.as_deref()).map_err(Error::from)?;
    eprintln!(
        "postie: to sign in, open {} and enter the code {}",
        authorization.verification_uri, authorization.user_code
    );
    if let Some(complete) = &authorization.verification_uri_complete {
        eprintln!("postie: (or open {complete}, which carries the code)");
    }
    eprintln!(
        "postie: waiting for the sign-in (asking every {} s; the code expires in {})",
        authorization.interval.as_secs(),
        span(authorization.expires_in)
    );
    let tokens = device::poll(&client, &authorization, std::thread::sleep).map_err(Error::from)?;
    let Some(refresh_token) = tokens.refresh_token else {
        return Err(Error::from(crate::oauth::Error::Malformed {
            url: checked.token_url.to_string(),
            detail: "gave no refresh token: ask for offline access (Google: it comes with the mail scope; \
                     Microsoft: add the offline_access scope)"
                .into(),
        })
        .into());
    };
    write_private(path, &refresh_token)
        .map_err(|cause| Error::from(crate::oauth::Error::Store { path: path.display().to_string(), cause }))?;
    if let (Some(user), Some(dir), Some(expires_in)) = (&args.user, cache::directory(), tokens.access.expires_in) {
        let entry = Entry::new(&dir, checked.token_url.as_str(), &checked.client_id, user);
        keep(&entry, &tokens.access.token, expires_in, SystemTime::now());
    }
    eprintln!(
        "postie: signed in; the refresh token is in {} (readable only by you)",
        escape(path.display().to_string().as_bytes())
    );
    Ok(Exit::Success)
}

/// A provider that rotates refresh tokens gave a new one: the old one may stop working, so it replaces the
/// old in its file (written beside it and renamed over it, so that a failure leaves the old one whole). A
/// token from the environment or a command cannot be written back: the user is told, never shown the token.
fn keep_rotated(source: &Source, rotated: &Token) {
    let Source::File(path) = source else {
        eprintln!(
            "postie: warning: the token endpoint issued a new refresh token, which postie cannot store in {source}; \
             keep the refresh token in a file (file:PATH) so that postie can replace it"
        );
        return;
    };
    let mut staged = path.clone().into_os_string();
    staged.push(".new");
    let staged = std::path::PathBuf::from(staged);
    if let Err(error) = write_private(&staged, rotated).and_then(|()| fs::rename(&staged, path)) {
        let _ = fs::remove_file(&staged);
        eprintln!(
            "postie: warning: the token endpoint issued a new refresh token and {} could not be updated: {error}",
            path.display()
        );
    }
}

/// Write the refresh token to `path`, readable by the user alone (its directory made if missing, 0700).
fn write_private(path: &Path, token: &Token) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(parent)?;
    }
    let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // An existing file keeps its mode on open: make it private before the token goes in.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(format!("{}\n", token.expose()).as_bytes())?;
    file.sync_all()
}

fn span(duration: Duration) -> String {
    match duration.as_secs() {
        s if s < 120 => format!("{s} s"),
        s => format!("{} min", s / 60),
    }
}
