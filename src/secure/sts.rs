//! MTA-STS as a sender meets it (RFC 8461 §3): the `_mta-sts.DOMAIN` TXT record, then the policy from
//! `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` over PKIX-verified HTTPS, with no redirect followed, a size
//! limit and a timeout. The HTTP client is ureq (on rustls with ring); the policy host is looked up with
//! postie's own resolver, so `--dns-server` applies to it as to everything else.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::policy::report::ResultType;
use crate::policy::sts::{self, Policy, MAX_POLICY_BYTES};
use crate::route::dns::{Dns, Families};

/// What the domain publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sts {
    /// No `v=STSv1` TXT record: no policy.
    None,
    /// The record's id and the policy it names.
    Policy { id: String, policy: Policy },
    /// A record exists but no usable policy came of it: what a sender would report, and why.
    Failed { result: ResultType, detail: String },
}

/// How to fetch policies.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// `--ca-file`: with any, only these CAs are trusted for the policy host (without, the web PKI roots).
    pub ca_files: Vec<PathBuf>,
    pub timeout: Duration,
}

/// Discover and fetch the MTA-STS policy of `domain`.
pub fn discover(dns: &Dns, domain: &str, fetch: &Fetch) -> Sts {
    let txts = match dns.txt(&format!("_mta-sts.{domain}")) {
        Ok(txts) => txts,
        Err(failure) => return fetch_error(format!("the _mta-sts TXT lookup failed: {failure}")),
    };
    let record = match sts::select_sts_record(&txts) {
        Ok(Some(record)) => record,
        Ok(None) => return Sts::None,
        Err(reason) => return Sts::Failed { result: ResultType::StsPolicyInvalid, detail: reason },
    };
    let host = format!("mta-sts.{domain}");
    let addresses = match dns.addresses(&host, Families::Both) {
        Ok(found) if !found.addresses.is_empty() => found.addresses,
        Ok(_) => return fetch_error(format!("{host} has no address")),
        Err(failure) => return fetch_error(format!("looking up {host}: {failure}")),
    };
    let body = match get(&host, &addresses, fetch) {
        Ok(body) => body,
        Err(failed) => return failed,
    };
    let text = match String::from_utf8(body) {
        Ok(text) => text,
        Err(_) => {
            let detail = format!("the policy at {host} is not UTF-8 text");
            return Sts::Failed { result: ResultType::StsPolicyInvalid, detail };
        }
    };
    match sts::parse_policy(&text) {
        Ok(policy) => Sts::Policy { id: record.id, policy },
        Err(reason) => {
            Sts::Failed { result: ResultType::StsPolicyInvalid, detail: format!("the policy at {host}: {reason}") }
        }
    }
}

fn fetch_error(detail: String) -> Sts {
    Sts::Failed { result: ResultType::StsPolicyFetchError, detail }
}

/// GET the policy from `host` at `addresses`: a 200 with a body of at most MAX_POLICY_BYTES, or the failure
/// in TLS-RPT's words.
fn get(host: &str, addresses: &[IpAddr], fetch: &Fetch) -> Result<Vec<u8>, Sts> {
    let url = format!("https://{host}/.well-known/mta-sts.txt");
    let roots = match crate::net::https::root_certs(&fetch.ca_files) {
        Ok(roots) => roots,
        Err(detail) => return Err(fetch_error(detail)),
    };
    let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
    let config = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(fetch.timeout))
        // RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
        .max_redirects(0)
        .http_status_as_error(false)
        .build();
    let resolver = Fixed(addresses.iter().map(|ip| SocketAddr::new(*ip, 443)).collect());
    let agent = ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::default(), resolver);
    let mut response = agent.get(&url).call().map_err(|error| describe(host, error))?;
    let status = response.status().as_u16();
    if status != 200 {
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let detail = match status {
            300..=399 => {
                format!("{url} answered {status} (a redirect to {location:?}), and RFC 8461 §3.3 forbids following it")
            }
            _ => format!("{url} answered HTTP {status}"),
        };
        return Err(fetch_error(detail));
    }
    response.body_mut().with_config().limit(MAX_POLICY_BYTES as u64).read_to_vec().map_err(|error| match error {
        ureq::Error::BodyExceedsLimit(_) => Sts::Failed {
            result: ResultType::StsPolicyInvalid,
            detail: format!("the policy at {url} is larger than {} KiB", MAX_POLICY_BYTES / 1024),
        },
        other => describe(host, other),
    })
}

/// A failed fetch in TLS-RPT's words: a certificate that does not verify is `sts-webpki-invalid`, the rest
/// `sts-policy-fetch-error`.
fn describe(host: &str, error: ureq::Error) -> Sts {
    match error {
        ureq::Error::Rustls(rustls::Error::InvalidCertificate(problem)) => Sts::Failed {
            result: ResultType::StsWebpkiInvalid,
            detail: format!("the certificate of {host} does not verify: {problem:?}"),
        },
        ureq::Error::Io(io) if certificate_refused(&io) => Sts::Failed {
            result: ResultType::StsWebpkiInvalid,
            detail: format!(
                "the certificate of {host} does not verify: {}",
                io.get_ref().map(ToString::to_string).unwrap_or_default()
            ),
        },
        ureq::Error::Timeout(_) => fetch_error(format!("fetching the policy from {host} timed out")),
        other => fetch_error(format!("fetching the policy from {host}: {other}")),
    }
}

/// ureq reports a refused certificate as an I/O error wrapping rustls's.
fn certificate_refused(io: &std::io::Error) -> bool {
    io.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|error| matches!(error, rustls::Error::InvalidCertificate(_)))
}

/// A resolver that answers with the addresses postie looked up itself.
#[derive(Debug)]
struct Fixed(Vec<SocketAddr>);

impl ureq::unversioned::resolver::Resolver for Fixed {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let mut resolved = self.empty();
        for address in &self.0 {
            // ureq keeps at most 16 addresses.
            if resolved.try_push(*address).is_err() {
                break;
            }
        }
        if resolved.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(resolved)
    }
}
