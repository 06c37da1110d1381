//! The signed DNS hierarchy and the MTA-STS policy servers (`harness/secure_dns.rs`) are what the DANE, MTA-STS
//! and TLS-RPT tests take them for: checked with DNS queries straight to Unbound (validating) and NSD
//! (authoritative), and with HTTPS requests made with rustls against the test CA.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::proto::serialize::binary::BinEncodable;

use crate::harness::{dns_query, extended_dns_error, secure_dns, MAIL_DOMAINS, POLICY_PATH};

/// Through Unbound, validated.
fn resolve(name: &str, record_type: RecordType) -> Message {
    dns_query(secure_dns().unbound, name, record_type, true, false).unwrap_or_else(|e| panic!("{e}"))
}

/// Through Unbound with the CD bit: the data without validation.
fn resolve_unchecked(name: &str, record_type: RecordType) -> Message {
    dns_query(secure_dns().unbound, name, record_type, true, true).unwrap_or_else(|e| panic!("{e}"))
}

/// Straight from NSD.
fn authoritative(name: &str, record_type: RecordType) -> Message {
    dns_query(secure_dns().nsd, name, record_type, false, false).unwrap_or_else(|e| panic!("{e}"))
}

/// The answers of one type, as text (`10 mx.dane-ee.test.`); RRSIGs and the rest left out.
fn data(answer: &Message, record_type: RecordType) -> Vec<String> {
    answer.answers.iter().filter(|r| r.record_type() == record_type).map(|r| r.data.to_string()).collect()
}

fn assert_secure(answer: &Message, what: &str) {
    assert_eq!(answer.metadata.response_code, ResponseCode::NoError, "{what}: {answer:?}");
    assert!(answer.metadata.authentic_data, "{what} is not validated (no AD): {answer:?}");
}

fn assert_bogus(answer: &Message, what: &str) {
    assert_eq!(answer.metadata.response_code, ResponseCode::ServFail, "{what}: {answer:?}");
    // EDE 6 (DNSSEC Bogus) to 12 (NSEC Missing) are the validation failures: 7 (Signature Expired) for
    // bogus.test, 6 for the broken TLSA signature (Unbound 1.17.1).
    let ede = extended_dns_error(answer);
    assert!(ede.is_some_and(|code| (6..=12).contains(&code)), "{what}: not a validation failure: EDE {ede:?}");
}

#[test]
fn every_mail_domain_has_its_mx_on_loopback_with_the_expected_security() {
    for &domain in MAIL_DOMAINS {
        let mx = resolve(domain, RecordType::MX);
        let address = resolve(&format!("mx.{domain}"), RecordType::A);
        match domain {
            "bogus.test" => {
                assert_bogus(&mx, "bogus.test MX");
                assert_bogus(&address, "mx.bogus.test A");
                // The data is there: only validation refuses it.
                let unchecked = resolve_unchecked(domain, RecordType::MX);
                assert_eq!(data(&unchecked, RecordType::MX), ["10 mx.bogus.test."], "{unchecked:?}");
                assert!(!unchecked.metadata.authentic_data);
            }
            "unsigned.test" => {
                for answer in [&mx, &address] {
                    assert_eq!(answer.metadata.response_code, ResponseCode::NoError, "{answer:?}");
                    assert!(!answer.metadata.authentic_data, "unsigned.test is insecure: {answer:?}");
                }
                assert_eq!(data(&mx, RecordType::MX), ["10 mx.unsigned.test."]);
                assert_eq!(data(&address, RecordType::A), ["127.0.0.1"]);
            }
            _ => {
                assert_secure(&mx, &format!("{domain} MX"));
                assert_secure(&address, &format!("mx.{domain} A"));
                assert_eq!(data(&mx, RecordType::MX), [format!("10 mx.{domain}.")], "{mx:?}");
                assert_eq!(data(&address, RecordType::A), ["127.0.0.1"], "{address:?}");
            }
        }
    }
}

#[test]
fn tlsa_records_are_secure_and_name_postfix_or_the_ca() {
    let dns = secure_dns();
    let tlsa = |host: &str| {
        let answer = resolve(&dns.tlsa_name(host), RecordType::TLSA);
        assert!(answer.metadata.authentic_data, "{} is not validated: {answer:?}", dns.tlsa_name(host));
        (answer.metadata.response_code, data(&answer, RecordType::TLSA))
    };
    let found = |host: &str| {
        let (code, records) = tlsa(host);
        assert_eq!(code, ResponseCode::NoError, "{host}");
        records
    };
    assert_eq!(found("mx.dane-ee.test"), [format!("3 1 1 {}", dns.spki_sha256)]);
    assert_eq!(found("mx.dane-ta.test"), [format!("2 0 1 {}", dns.ca_sha256)]);
    assert_eq!(found("mx.dane-ta-mismatch.test"), [format!("2 0 1 {}", dns.ca_sha256)]);
    let bad = found("mx.dane-bad.test");
    assert_eq!(bad.len(), 1);
    assert!(bad[0].starts_with("3 1 1 ") && !bad[0].ends_with(&dns.spki_sha256), "{bad:?}");
    // No TLSA: a validated denial, so DANE does not apply. The name `_PORT._tcp.mx.no-tlsa.test` does not
    // exist at all: NXDOMAIN with AD (NSEC proves it), not NODATA.
    assert_eq!(tlsa("mx.no-tlsa.test"), (ResponseCode::NXDomain, vec![]));
    // The port in the names is the one Postfix's STARTTLS listener is on.
    assert_eq!(dns.tlsa_port, crate::harness::postfix().starttls_port);
}

#[test]
fn expired_signatures_make_bogus_test_servfail() {
    let dns = secure_dns();
    assert_bogus(&resolve("bogus.test", RecordType::MX), "bogus.test MX");
    assert_bogus(&resolve(&dns.tlsa_name("mx.bogus.test"), RecordType::TLSA), "bogus.test TLSA");
    // NSD serves it signed, with its RRSIG: the expiry is what Unbound refuses.
    let served = authoritative("bogus.test", RecordType::MX);
    assert!(served.metadata.authoritative, "{served:?}");
    assert_eq!(data(&served, RecordType::MX), ["10 mx.bogus.test."]);
    assert_eq!(served.answers.iter().filter(|r| r.record_type() == RecordType::RRSIG).count(), 1, "{served:?}");
    // Measured with Unbound 1.17.1: EDE 7, Signature Expired.
}

#[test]
fn a_broken_tlsa_signature_is_bogus_while_the_mx_host_validates() {
    let dns = secure_dns();
    let name = dns.tlsa_name("mx.tlsa-broken.test");
    assert_bogus(&resolve(&name, RecordType::TLSA), &name);
    let unchecked = resolve_unchecked(&name, RecordType::TLSA);
    assert_eq!(data(&unchecked, RecordType::TLSA), [format!("3 1 1 {}", dns.spki_sha256)], "{unchecked:?}");
    let address = resolve("mx.tlsa-broken.test", RecordType::A);
    assert_secure(&address, "mx.tlsa-broken.test A");
    assert_eq!(data(&address, RecordType::A), ["127.0.0.1"]);
    assert_secure(&resolve("tlsa-broken.test", RecordType::MX), "tlsa-broken.test MX");
}

#[test]
fn unsigned_test_is_an_insecure_delegation() {
    let dns = secure_dns();
    // test. proves there is no DS (NSEC): a validated NODATA.
    let ds = resolve("unsigned.test", RecordType::DS);
    assert_secure(&ds, "unsigned.test DS");
    assert!(data(&ds, RecordType::DS).is_empty(), "{ds:?}");
    // So its records come without AD, the TLSA too (which matches nothing).
    let name = dns.tlsa_name("mx.unsigned.test");
    let tlsa = resolve(&name, RecordType::TLSA);
    assert_eq!(tlsa.metadata.response_code, ResponseCode::NoError, "{tlsa:?}");
    assert!(!tlsa.metadata.authentic_data, "{tlsa:?}");
    let records = data(&tlsa, RecordType::TLSA);
    assert!(records.len() == 1 && !records[0].ends_with(&dns.spki_sha256), "{records:?}");
}

#[test]
fn the_trust_anchor_lists_every_dnskey_of_test() {
    let dns = secure_dns();
    let anchor = std::fs::read_to_string(&dns.trust_anchor).unwrap();
    let mut listed: Vec<Vec<u8>> = anchor
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields[..7], ["test.", "300", "IN", "DNSKEY", "257", "3", "13"], "{line:?}");
            assert_eq!(fields.len(), 8, "{line:?}");
            let key = base64::engine::general_purpose::STANDARD.decode(fields[7]).expect("base64 key");
            [&[1u8, 1, 3, 13][..], &key].concat() // the wire form: flags 257, protocol 3, algorithm 13, key
        })
        .collect();
    let served = authoritative("test.", RecordType::DNSKEY);
    let mut keys: Vec<Vec<u8>> = served
        .answers
        .iter()
        .filter(|r| r.record_type() == RecordType::DNSKEY)
        .map(|r| r.data.to_bytes().unwrap())
        .collect();
    listed.sort();
    keys.sort();
    assert_eq!(listed.len(), 1, "one CSK: {anchor}");
    assert_eq!(listed, keys, "the anchor file differs from test.'s DNSKEY RRset");
    // And Unbound, which has only this anchor, validates test.'s own keys with it.
    assert_secure(&resolve("test.", RecordType::DNSKEY), "test. DNSKEY");
}

#[test]
fn mta_sts_and_tls_rpt_records() {
    let dns = secure_dns();
    let txt = |name: &str| {
        let answer = resolve(name, RecordType::TXT);
        assert_secure(&answer, name);
        data(&answer, RecordType::TXT)
    };
    assert_eq!(txt("_mta-sts.sts-enforce.test"), ["v=STSv1; id=postie1;"]);
    assert_eq!(txt("_smtp._tls.sts-enforce.test"), ["v=TLSRPTv1; rua=mailto:tlsrpt@sts-enforce.test"]);
    let mut two = txt("_mta-sts.sts-two-txt.test");
    two.sort();
    assert_eq!(two, ["v=STSv1; id=one;", "v=STSv1; id=two;"]);
    let host = |name: &str| data(&resolve(name, RecordType::A), RecordType::A);
    assert_eq!(host("mta-sts.sts-enforce.test"), [dns.https.ip().to_string()]);
    assert_eq!(host("mta-sts.sts-badcert.test"), [dns.https_wrong_name.ip().to_string()]);
    assert_eq!(host("mta-sts.sts-unreachable.test"), [dns.https_unreachable.ip().to_string()]);
}

/// One HTTPS GET with rustls, trusting only the test CA: the status line, the headers, the body.
fn https_get(server: SocketAddr, tls_name: &str, host: &str, path: &str) -> Result<(String, String, String), String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let ca = rustls::pki_types::CertificateDer::from_pem_file(&secure_dns().ca_file).map_err(|e| e.to_string())?;
    roots.add(ca).map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(tls_name.to_string()).map_err(|e| e.to_string())?;
    let connection = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let stream = TcpStream::connect_timeout(&server, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    tls.read_to_string(&mut response).map_err(|e| e.to_string())?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| format!("no header end: {response:?}"))?;
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    Ok((status.to_string(), headers.to_string(), body.to_string()))
}

#[test]
fn the_policy_servers_answer_by_host() {
    let dns = secure_dns();
    let get = |host: &str, path: &str| https_get(dns.https, host, host, path).unwrap_or_else(|e| panic!("{host}: {e}"));

    let (status, headers, body) = get("mta-sts.sts-enforce.test", POLICY_PATH);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains("Content-Type: text/plain\r\n"), "{headers}");
    assert_eq!(body, "version: STSv1\r\nmode: enforce\r\nmx: mx.sts-enforce.test\r\nmax_age: 86400\r\n");
    let (_, _, body) = get("mta-sts.sts-wildcard.test", POLICY_PATH);
    assert!(body.contains("mode: enforce\r\nmx: *.sts-wildcard.test\r\n"), "{body:?}");
    let (_, _, body) = get("mta-sts.sts-testing.test", POLICY_PATH);
    assert!(body.contains("mode: testing\r\nmx: other.example.net\r\n"), "{body:?}");

    let (status, headers, _) = get("mta-sts.sts-redirect.test", POLICY_PATH);
    assert_eq!(status, "HTTP/1.1 301 Moved Permanently");
    assert!(headers.contains("Location: https://mta-sts.sts-redirect.test/redirected/mta-sts.txt\r\n"), "{headers}");
    let (status, _, body) = get("mta-sts.sts-redirect.test", "/redirected/mta-sts.txt");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("mx: other.example.net\r\n"), "{body:?}");

    let (status, _, _) = get("mta-sts.sts-enforce.test", "/elsewhere");
    assert_eq!(status, "HTTP/1.1 404 Not Found");

    let requests = dns.policy_requests();
    assert!(
        requests.iter().any(|r| r.server == dns.https
            && r.sni.as_deref() == Some("mta-sts.sts-enforce.test")
            && r.host == "mta-sts.sts-enforce.test"
            && r.path == POLICY_PATH),
        "{requests:?}"
    );
}

#[test]
fn the_badcert_policy_host_fails_verification_and_the_unreachable_one_refuses() {
    let dns = secure_dns();
    let host = "mta-sts.sts-badcert.test";
    let error = https_get(dns.https_wrong_name, host, host, POLICY_PATH).expect_err("a certificate for another name");
    assert!(error.contains("certificate not valid for name \"mta-sts.sts-badcert.test\""), "{error}");
    // The server records the refused connection, with no request on it. (The client sends its alert and closes
    // the connection; wait a little for the server's thread to see that.)
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !dns.policy_requests().iter().any(|r| {
        r.server == dns.https_wrong_name && r.sni.as_deref() == Some(host) && r.host.is_empty() && r.path.is_empty()
    }) {
        assert!(std::time::Instant::now() < deadline, "{:?}", dns.policy_requests());
        std::thread::sleep(Duration::from_millis(10));
    }
    // The certificate is the only fault: asked under the name it carries, the server serves the policy.
    let (status, _, body) = https_get(dns.https_wrong_name, "mta-sts.wrong-name.test", host, POLICY_PATH).unwrap();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("mode: enforce\r\nmx: other.example.net\r\n"), "{body:?}");

    let refused =
        TcpStream::connect_timeout(&dns.https_unreachable, Duration::from_secs(5)).expect_err("nothing listens");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused, "{refused}");
}

/// hickory validating in process, asking NSD itself, with `trust_anchor` as its only anchor: as a DANE client
/// that does not trust a resolver's AD bit would.
#[test]
fn hickory_validates_against_the_trust_anchor_file() {
    use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
    use hickory_resolver::TokioResolver;

    let dns = secure_dns();
    let anchors = TrustAnchors::from_file(&dns.trust_anchor).expect("hickory reads the trust anchor file");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().unwrap();
    let mut name_server = NameServerConfig::udp_and_tcp(dns.nsd.ip());
    for connection in &mut name_server.connections {
        connection.port = dns.nsd.port();
    }
    let mut builder = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![name_server]),
        TokioRuntimeProvider::default(),
    )
    .with_trust_anchor(Arc::new(anchors));
    builder.options_mut().use_hosts_file = ResolveHosts::Never;
    builder.options_mut().ndots = 0;
    let resolver = builder.build().unwrap();
    // The proofs of the records of one type, or the error.
    let lookup = |name: &str, record_type: RecordType| -> Result<Vec<Proof>, String> {
        let name = format!("{name}.");
        runtime
            .block_on(resolver.lookup(name.as_str(), record_type))
            .map(|found| found.answers().iter().filter(|r| r.record_type() == record_type).map(|r| r.proof).collect())
            .map_err(|e| e.to_string())
    };

    assert_eq!(lookup("dane-ee.test", RecordType::MX), Ok(vec![Proof::Secure]));
    assert_eq!(lookup(&dns.tlsa_name("mx.dane-ee.test"), RecordType::TLSA), Ok(vec![Proof::Secure]));
    assert_eq!(lookup("mx.tlsa-broken.test", RecordType::A), Ok(vec![Proof::Secure]));
    assert_eq!(lookup("unsigned.test", RecordType::MX), Ok(vec![Proof::Insecure]));
    assert_eq!(lookup(&dns.tlsa_name("mx.unsigned.test"), RecordType::TLSA), Ok(vec![Proof::Insecure]));
    // Bogus data is an error, "DNS error: DNSSEC validation failed" (hickory 0.26.3), not records marked Bogus.
    let bogus = lookup("bogus.test", RecordType::MX);
    assert!(bogus.as_ref().is_err_and(|e| e.contains("DNSSEC")), "{bogus:?}");
    let broken = lookup(&dns.tlsa_name("mx.tlsa-broken.test"), RecordType::TLSA);
    assert!(broken.as_ref().is_err_and(|e| e.contains("DNSSEC")), "{broken:?}");
}
