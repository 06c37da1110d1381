//! One POST of a form to an OAuth endpoint over HTTPS (ureq on rustls): no redirect followed, a timeout, a
//! bounded reply, and the reply sorted into a grant (200 with a JSON object), a refusal (an error code, RFC 6749
//! §5.2), or a failure worth retrying later (unreachable, timeout, 5xx).

use serde_json::{Map, Value};

use super::{words, Client, Endpoint, Error, MAX_REPLY_BYTES};

/// A refusal in the endpoint's words (RFC 6749 §5.2).
#[derive(Debug)]
pub(super) struct Refusal {
    pub code: String,
    pub description: Option<String>,
}

pub(super) fn post_form(
    client: &Client,
    url: &Endpoint,
    form: &[(&str, &str)],
) -> Result<Result<Map<String, Value>, Refusal>, Error> {
    let unreachable = |detail: String| Error::Unreachable { url: url.to_string(), detail };
    let malformed = |detail: String| Error::Malformed { url: url.to_string(), detail };
    let roots = crate::net::https::root_certs(&client.ca_files).map_err(unreachable)?;
    let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
    let config = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(client.timeout))
        // A token endpoint that redirects is misconfigured; following it would send the secrets elsewhere.
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("postie/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut response =
        agent.post(url.as_str()).header("Accept", "application/json").send_form(form.iter().copied()).map_err(
            |error| match crate::net::https::certificate_refused(&error) {
                Some(detail) => Error::Certificate { url: url.to_string(), detail },
                None => match error {
                    ureq::Error::Timeout(_) => unreachable(format!("no answer within {} s", client.timeout.as_secs())),
                    ureq::Error::Io(io) => unreachable(crate::net::io_text(&io)),
                    other => unreachable(other.to_string()),
                },
            },
        )?;
    let status = response.status().as_u16();
    if (300..400).contains(&status) {
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        return Err(malformed(format!(
            "answered HTTP {status}, a redirect to {:?}, which postie does not follow with secrets",
            crate::sanitize::escape(location.as_bytes())
        )));
    }
    let body = response.body_mut().with_config().limit(MAX_REPLY_BYTES).read_to_vec().map_err(|error| match error {
        ureq::Error::BodyExceedsLimit(_) => {
            malformed(format!("answered with more than {} KiB", MAX_REPLY_BYTES / 1024))
        }
        ureq::Error::Timeout(_) => unreachable(format!("no answer within {} s", client.timeout.as_secs())),
        other => unreachable(other.to_string()),
    })?;
    let json = serde_json::from_slice::<Value>(&body).ok().and_then(|v| match v {
        Value::Object(map) => Some(map),
        _ => None,
    });
    if status >= 500 {
        let said = json.as_ref().and_then(refusal).map(|r| format!(": {}", said(&r))).unwrap_or_default();
        return Err(unreachable(format!("HTTP {status}{said}")));
    }
    let Some(json) = json else {
        return Err(malformed(format!("answered HTTP {status} with something that is not a JSON object")));
    };
    if status == 200 {
        return Ok(Ok(json));
    }
    match refusal(&json) {
        Some(refusal) => Ok(Err(refusal)),
        None => Err(malformed(format!("answered HTTP {status} without an error code (RFC 6749 §5.2)"))),
    }
}

fn refusal(json: &Map<String, Value>) -> Option<Refusal> {
    let code = words(json.get("error"))?;
    Some(Refusal { code, description: words(json.get("error_description")) })
}

fn said(refusal: &Refusal) -> String {
    match &refusal.description {
        Some(description) => format!("{}: {description}", refusal.code),
        None => refusal.code.clone(),
    }
}
