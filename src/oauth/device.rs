//! The device authorization grant (RFC 8628): ask for a user code, let the user approve it in a browser
//! anywhere, and poll the token endpoint until they have.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::http::post_form;
use super::{access_from, words, Access, Client, Endpoint, Error, Grant, Token};

/// RFC 8628 §3.2: the interval when the server gives none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5: `slow_down` adds 5 seconds to the interval.
const SLOW_DOWN: Duration = Duration::from_secs(5);

/// What the device authorization endpoint answered (RFC 8628 §3.2). The texts are escaped for display.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub device_code: Token,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// The tokens the user's approval brought.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: Access,
    pub refresh_token: Option<Token>,
}

/// Ask `device_url` for a device code and a user code (RFC 8628 §3.1).
pub fn start(client: &Client, device_url: &Endpoint, scope: Option<&str>) -> Result<Authorization, Error> {
    let mut form = vec![("client_id", client.client_id.as_str())];
    if let Some(secret) = &client.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let reply = post_form(client, device_url, &form)?.map_err(|refusal| Error::Refused {
        url: device_url.to_string(),
        grant: Grant::DeviceAuthorization,
        code: refusal.code,
        description: refusal.description,
    })?;
    let missing = |field: &str| Error::Malformed {
        url: device_url.to_string(),
        detail: format!("answered without {field} (RFC 8628 §3.2)"),
    };
    let device_code = match reply.get("device_code") {
        Some(Value::String(code)) if !code.is_empty() => Token::new(code.clone()),
        _ => return Err(missing("a device_code")),
    };
    let user_code = words(reply.get("user_code")).ok_or_else(|| missing("a user_code"))?;
    // Google says verification_url.
    let verification_uri = words(reply.get("verification_uri"))
        .or_else(|| words(reply.get("verification_url")))
        .ok_or_else(|| missing("a verification_uri"))?;
    let seconds = |field: &str| reply.get(field).and_then(Value::as_u64).map(Duration::from_secs);
    Ok(Authorization {
        device_code,
        user_code,
        verification_uri,
        verification_uri_complete: words(reply.get("verification_uri_complete")),
        expires_in: seconds("expires_in").ok_or_else(|| missing("expires_in"))?,
        interval: seconds("interval").filter(|i| !i.is_zero()).unwrap_or(DEFAULT_INTERVAL),
    })
}

/// Poll the token endpoint (RFC 8628 §3.4) until the user approves, denies, or the code expires. `wait`
/// sleeps between polls (a test can make it instant).
pub fn poll(client: &Client, authorization: &Authorization, mut wait: impl FnMut(Duration)) -> Result<Tokens, Error> {
    let deadline = Instant::now() + authorization.expires_in;
    let mut interval = authorization.interval;
    let mut form = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", authorization.device_code.expose()),
        ("client_id", client.client_id.as_str()),
    ];
    if let Some(secret) = &client.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let refused = |code: &str, description: Option<String>| Error::Refused {
        url: client.token_url.to_string(),
        grant: Grant::DeviceCode,
        code: code.to_string(),
        description,
    };
    loop {
        if Instant::now() + interval > deadline {
            return Err(refused(
                "expired_token",
                Some("the user code expired before it was approved; run postie oauth login again".into()),
            ));
        }
        wait(interval);
        match post_form(client, &client.token_url, &form)? {
            Ok(reply) => {
                let access = access_from(&client.token_url, &reply)?;
                let refresh_token = match reply.get("refresh_token") {
                    Some(Value::String(token)) if !token.is_empty() => Some(Token::new(token.clone())),
                    _ => None,
                };
                return Ok(Tokens { access, refresh_token });
            }
            Err(refusal) => match refusal.code.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += SLOW_DOWN,
                "access_denied" => {
                    let said = refusal.description.or_else(|| Some("the sign-in was denied".into()));
                    return Err(refused("access_denied", said));
                }
                "expired_token" => {
                    let said = refusal.description.or_else(|| {
                        Some("the user code expired before it was approved; run postie oauth login again".into())
                    });
                    return Err(refused("expired_token", said));
                }
                _ => return Err(refused(&refusal.code, refusal.description)),
            },
        }
    }
}
