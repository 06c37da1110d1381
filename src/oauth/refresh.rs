//! A refresh token exchanged for an access token (RFC 6749 §6).

use super::http::post_form;
use super::{access_from, Access, Client, Error, Grant, Token};

/// Ask the token endpoint for a new access token with `refresh_token` (and `scope`, when given: it may
/// only narrow what was granted).
pub fn refresh(client: &Client, refresh_token: &Token, scope: Option<&str>) -> Result<Access, Error> {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", client.client_id.as_str()),
    ];
    if let Some(secret) = &client.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    match post_form(client, &client.token_url, &form)? {
        Ok(reply) => access_from(&client.token_url, &reply),
        Err(refusal) => Err(Error::Refused {
            url: client.token_url.to_string(),
            grant: Grant::RefreshToken,
            code: refusal.code,
            description: refusal.description,
        }),
    }
}
