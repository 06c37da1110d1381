//! An OAuth 2.0 provider for the tests, in threads of the test binary: a token service over HTTPS (rustls,
//! the test CA's certificate for 127.0.0.1) with a token endpoint (refresh tokens, RFC 6749 §6; device codes,
//! RFC 8628 §3.4), a device authorization endpoint (RFC 8628 §3.1), token introspection (RFC 7662) and a
//! test-only approval hook; and a second Dovecot that checks XOAUTH2 and OAUTHBEARER tokens against that
//! introspection endpoint, behind the test Postfix's `oauth_port` (submission: STARTTLS required, AUTH).
//!
//! Started on first use by `oauth()`; the Dovecot is stopped by pid at exit with the other servers.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::{postfix, stop_at_exit, Stop};

/// The client the token service knows, and its secret.
pub const CLIENT_ID: &str = "postie-test-client";
pub const CLIENT_SECRET: &str = "client-secret-0f9a";
/// A refresh token the service says has expired.
pub const EXPIRED_REFRESH_TOKEN: &str = "refresh-expired-7d1c";
/// Device codes ask to be polled this often (seconds).
pub const DEVICE_INTERVAL: u64 = 1;
/// How long access tokens are good for (seconds).
pub const ACCESS_LIFETIME: u64 = 3600;

pub struct OauthLab {
    /// The token service, https://127.0.0.1:PORT.
    pub address: SocketAddr,
    state: Arc<Mutex<State>>,
    dovecot_dir: PathBuf,
}

/// One request the token service received: its path and form fields.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub form: HashMap<String, String>,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    counter: u64,
    /// Valid refresh tokens and their user.
    refresh: HashMap<String, String>,
    /// Issued access tokens and their user.
    access: HashMap<String, String>,
    /// The refresh token each access token was got with.
    issued_from: HashMap<String, String>,
    devices: HashMap<String, Device>,
    /// Every user code given out, and its device code.
    user_codes: HashMap<String, String>,
    requests: Vec<Request>,
}

struct Device {
    user_code: String,
    decision: Decision,
    last_poll: Option<Instant>,
    /// Error codes to answer the next polls with, in order, whatever the decision.
    forced: Vec<&'static str>,
}

#[derive(Clone, PartialEq)]
enum Decision {
    Pending,
    Approved(String),
    Denied,
}

static LAB: OnceLock<OauthLab> = OnceLock::new();

pub fn oauth() -> &'static OauthLab {
    LAB.get_or_init(|| OauthLab::start().unwrap_or_else(|e| panic!("cannot start the OAuth lab: {e}")))
}

impl OauthLab {
    fn start() -> Result<OauthLab, String> {
        let postfix = postfix();
        let certs = postfix.root.join("certs");
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let state = Arc::new(Mutex::new(State::default()));
        serve(listener, &certs.join("valid.pem"), &certs.join("valid.key"), state.clone())?;
        let dovecot_dir = postfix.oauth_dovecot_dir();
        start_dovecot(&dovecot_dir, address, &certs.join("ca.pem"))?;
        Ok(OauthLab { address, state, dovecot_dir })
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.address)
    }

    /// A new valid refresh token for `user`.
    pub fn refresh_token(&self, user: &str) -> String {
        let mut state = self.state.lock().unwrap();
        state.counter += 1;
        let token = format!("refresh-{user}-{:04}-{}", state.counter, std::process::id());
        state.refresh.insert(token.clone(), user.to_string());
        token
    }

    /// A refresh token that the service replaces with a new one each time it is used (the old one then
    /// stops working), as providers that rotate refresh tokens do.
    pub fn rotating_refresh_token(&self, user: &str) -> String {
        let mut state = self.state.lock().unwrap();
        state.counter += 1;
        let token = format!("rotating-{user}-{:04}-{}", state.counter, std::process::id());
        state.refresh.insert(token.clone(), user.to_string());
        token
    }

    /// Every access and refresh token the service has issued or knows, to check that none is shown.
    pub fn all_tokens(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state.refresh.keys().chain(state.access.keys()).cloned().chain([EXPIRED_REFRESH_TOKEN.to_string()]).collect()
    }

    /// The requests made to `path` so far with this refresh token (or device code) in the form.
    pub fn requests(&self, path: &str, field: &str, value: &str) -> Vec<Request> {
        let state = self.state.lock().unwrap();
        state
            .requests
            .iter()
            .filter(|r| r.path == path && r.form.get(field).map(String::as_str) == Some(value))
            .cloned()
            .collect()
    }

    /// The test's stand-in for the user in a browser: approve (as `user`) or deny the device with this code.
    pub fn decide(&self, user_code: &str, approve_as: Option<&str>) {
        let mut state = self.state.lock().unwrap();
        let device = state
            .devices
            .values_mut()
            .find(|d| d.user_code == user_code)
            .unwrap_or_else(|| panic!("no device has the user code {user_code:?}"));
        device.decision = match approve_as {
            Some(user) => Decision::Approved(user.to_string()),
            None => Decision::Denied,
        };
    }

    /// The introspection endpoint forgets every access token got with this refresh token, as a provider
    /// does when a token is revoked: Dovecot then refuses them. (Only these: other tests run at the same time.)
    pub fn revoke_access_tokens_from(&self, refresh_token: &str) {
        let mut state = self.state.lock().unwrap();
        let revoked: Vec<String> =
            state.issued_from.iter().filter(|(_, from)| *from == refresh_token).map(|(a, _)| a.clone()).collect();
        for access in revoked {
            state.access.remove(&access);
        }
    }

    /// When postie polled the token endpoint for the device with this user code.
    pub fn polls(&self, user_code: &str) -> Vec<Instant> {
        let device_code = self.state.lock().unwrap().user_codes.get(user_code).cloned().expect("a known user code");
        self.requests("/token", "device_code", &device_code).into_iter().map(|r| r.at).collect()
    }

    /// Answer the next polls for the device with this user code with these error codes (RFC 8628 §3.5).
    pub fn force(&self, user_code: &str, codes: &[&'static str]) {
        let mut state = self.state.lock().unwrap();
        let device = state.devices.values_mut().find(|d| d.user_code == user_code).expect("a device with that code");
        device.forced = codes.to_vec();
    }

    pub fn dovecot_log(&self) -> String {
        fs::read_to_string(self.dovecot_dir.join("dovecot.log")).unwrap_or_default()
    }
}

/// Dovecot as the SASL server of the OAuth listener: XOAUTH2 and OAUTHBEARER checked by introspection.
fn start_dovecot(dir: &Path, token_service: SocketAddr, ca: &Path) -> Result<(), String> {
    fs::create_dir_all(dir.join("run")).map_err(|e| e.to_string())?;
    // A stale penalty socket makes the first AUTH wait (PEERS.md).
    let _ = fs::remove_file(dir.join("run/anvil-auth-penalty"));
    let d = dir.display();
    let oauth2 = format!(
        "introspection_mode = post\n\
         introspection_url = https://{token_service}/introspect\n\
         tls_ca_cert_file = {ca}\n\
         username_attribute = username\n\
         active_attribute = active\n\
         active_value = true\n",
        ca = ca.display()
    );
    fs::write(dir.join("oauth2.conf"), oauth2).map_err(|e| e.to_string())?;
    let config = format!(
        "protocols =\nbase_dir = {d}/run\nstate_dir = {d}/run\nlog_path = {d}/dovecot.log\nssl = no\n\
         auth_mechanisms = xoauth2 oauthbearer\n\
         auth_failure_delay = 0\n\
         passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {d}/oauth2.conf\n}}\n\
         userdb {{\n  driver = static\n  args = uid=postfix gid=postfix home={d}\n}}\n\
         service auth {{\n  unix_listener {d}/auth {{\n    mode = 0666\n  }}\n}}\n"
    );
    fs::write(dir.join("dovecot.conf"), config).map_err(|e| e.to_string())?;
    let child = Command::new("/usr/sbin/dovecot")
        .arg("-F")
        .arg("-c")
        .arg(dir.join("dovecot.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("running dovecot: {e}"))?;
    stop_at_exit(Stop { pid: child.id() as i32, with_children: true });
    let socket = dir.join("auth");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !socket.exists() {
        if Instant::now() > deadline {
            let log = fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
            return Err(format!("dovecot did not create {}; its log:\n{log}", socket.display()));
        }
        thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn serve(listener: TcpListener, cert: &Path, key: &Path, state: Arc<Mutex<State>>) -> Result<(), String> {
    let config = super::tls_server_config(cert, key)?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (config, state) = (config.clone(), state.clone());
            thread::spawn(move || {
                let _ = answer(stream, config, &state, address);
            });
        }
    });
    Ok(())
}

/// One request per connection: read it, answer it, close.
fn answer(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    state: &Mutex<State>,
    address: SocketAddr,
) -> Result<(), String> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let connection = rustls::ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match tls.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => data.extend_from_slice(&buffer[..n]),
            Err(e) => return Err(e.to_string()),
        }
        if data.len() > 65536 {
            return Err("request head too long".into());
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        match tls.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buffer[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
    let form = parse_form(&String::from_utf8_lossy(&data[head_end..]));
    let (status, body) = respond(state, &path, &form, address);
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(response.as_bytes()).map_err(|e| e.to_string())?;
    tls.conn.send_close_notify();
    tls.flush().map_err(|e| e.to_string())
}

fn error(status: &'static str, code: &str, description: &str) -> (&'static str, String) {
    (status, serde_json::json!({"error": code, "error_description": description}).to_string())
}

fn respond(
    state: &Mutex<State>,
    path: &str,
    form: &HashMap<String, String>,
    address: SocketAddr,
) -> (&'static str, String) {
    let mut state = state.lock().unwrap();
    state.requests.push(Request { path: path.to_string(), form: form.clone(), at: Instant::now() });
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let client_ok = field("client_id") == CLIENT_ID && field("client_secret") == CLIENT_SECRET;
    match path {
        "/token" | "/device" if !client_ok => {
            error("401 Unauthorized", "invalid_client", "The OAuth client was not found.")
        }
        "/token" => match field("grant_type") {
            "refresh_token" => {
                let refresh = field("refresh_token");
                match state.refresh.get(refresh).cloned() {
                    Some(user) => {
                        let before: std::collections::HashSet<String> = state.access.keys().cloned().collect();
                        let rotated = refresh.starts_with("rotating-").then(|| {
                            state.refresh.remove(refresh);
                            state.counter += 1;
                            let new = format!("rotating-{user}-{:04}-{}", state.counter, std::process::id());
                            state.refresh.insert(new.clone(), user.clone());
                            new
                        });
                        let answer = issue(&mut state, &user, rotated);
                        let new: Vec<String> = state.access.keys().filter(|a| !before.contains(*a)).cloned().collect();
                        for access in new {
                            state.issued_from.insert(access, refresh.to_string());
                        }
                        answer
                    }
                    None if refresh == EXPIRED_REFRESH_TOKEN => {
                        error("400 Bad Request", "invalid_grant", "Token has been expired or revoked.")
                    }
                    None => error("400 Bad Request", "invalid_grant", "Bad Request"),
                }
            }
            "urn:ietf:params:oauth:grant-type:device_code" => {
                let Some(device) = state.devices.get_mut(field("device_code")) else {
                    return error("400 Bad Request", "invalid_grant", "Unknown device code.");
                };
                let too_fast = device
                    .last_poll
                    .is_some_and(|at| at.elapsed() < Duration::from_millis(DEVICE_INTERVAL * 1000 - 200));
                device.last_poll = Some(Instant::now());
                if !device.forced.is_empty() {
                    let code = device.forced.remove(0);
                    return error("400 Bad Request", code, "As the test asked.");
                }
                match device.decision.clone() {
                    _ if too_fast => error("428 Precondition Required", "slow_down", "Polling too fast."),
                    Decision::Pending => {
                        error("428 Precondition Required", "authorization_pending", "Waiting for the user.")
                    }
                    Decision::Denied => error("403 Forbidden", "access_denied", "The user refused the request."),
                    Decision::Approved(user) => {
                        state.devices.remove(field("device_code"));
                        state.counter += 1;
                        let refresh = format!("refresh-{user}-{:04}-{}", state.counter, std::process::id());
                        state.refresh.insert(refresh.clone(), user.clone());
                        issue(&mut state, &user, Some(refresh))
                    }
                }
            }
            _ => error("400 Bad Request", "unsupported_grant_type", "Unsupported grant type."),
        },
        "/device" => {
            state.counter += 1;
            let n = state.counter;
            let device_code = format!("device-{n:04}-{}", std::process::id());
            let user_code = format!("WDJB-{n:04}");
            state.user_codes.insert(user_code.clone(), device_code.clone());
            state.devices.insert(
                device_code.clone(),
                Device {
                    user_code: user_code.clone(),
                    decision: Decision::Pending,
                    last_poll: None,
                    forced: Vec::new(),
                },
            );
            let body = serde_json::json!({
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": format!("https://{address}/activate"),
                "verification_uri_complete": format!("https://{address}/activate?user_code={user_code}"),
                "expires_in": 120,
                "interval": DEVICE_INTERVAL,
            });
            ("200 OK", body.to_string())
        }
        // RFC 7662; Dovecot posts `token=...`.
        "/not-json" => ("200 OK", "<html>Sign in</html>".to_string()),
        "/introspect" => match state.access.get(field("token")) {
            Some(user) => ("200 OK", serde_json::json!({"active": true, "username": user}).to_string()),
            None => ("200 OK", serde_json::json!({"active": false}).to_string()),
        },
        _ => error("404 Not Found", "not_found", "No such endpoint."),
    }
}

fn issue(state: &mut State, user: &str, refresh: Option<String>) -> (&'static str, String) {
    state.counter += 1;
    let token = format!("access-{user}-{:04}-{}", state.counter, std::process::id());
    state.access.insert(token.clone(), user.to_string());
    let mut body = serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": ACCESS_LIFETIME});
    if let Some(refresh) = refresh {
        body["refresh_token"] = serde_json::Value::String(refresh);
    }
    ("200 OK", body.to_string())
}

fn parse_form(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// application/x-www-form-urlencoded: `+` is a space, `%HH` a byte.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
