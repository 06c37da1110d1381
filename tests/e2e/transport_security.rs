//! DANE, MTA-STS and TLS-RPT against the signed test hierarchy (NSD, validated in process against the test
//! anchor), the policy servers and the test Postfix: `probe` gives each kind of sender's verdict with its TLS-RPT
//! result type, and `send` delivers or defers as an MTA would, naming the policy that decided.

use serde_json::Value;

use crate::harness::{postfix, postie, secure_dns, Run};

/// The flags that point postie at the signed hierarchy and the port the TLSA names carry.
fn secure_flags() -> Vec<String> {
    let dns = secure_dns();
    vec![
        "--dns-server".into(),
        dns.nsd.to_string(),
        "--trust-anchor".into(),
        dns.trust_anchor.display().to_string(),
        "--ca-file".into(),
        dns.ca_file.display().to_string(),
        "--port".into(),
        dns.tlsa_port.to_string(),
    ]
}

fn probe(domain: &str) -> (Run, Vec<Value>) {
    let run = postie(["probe", domain, "--json", "--helo", "client.example.test"]).args(secure_flags()).run();
    let lines = run.stdout().lines().map(|line| serde_json::from_str(line).expect("JSON Lines")).collect();
    (run, lines)
}

/// The verdict of `sender` ("dane", "mta-sts", "opportunistic") at the first probed address: its decision
/// and result type.
fn verdict(lines: &[Value], sender: &str) -> (String, Option<String>) {
    let probe = lines.iter().find(|l| l["type"] == "probe").expect("a probe line");
    let verdict = probe["senders"]
        .as_array()
        .and_then(|senders| senders.iter().find(|s| s["sender"] == sender))
        .unwrap_or_else(|| panic!("no {sender} verdict in {probe}"));
    (verdict["decision"].as_str().unwrap().to_string(), verdict["result"].as_str().map(str::to_string))
}

fn send(domain: &str, marker: &str, extra: &[&str]) -> Run {
    postie(["send", "--from", "alice@example.test", "--to", &format!("bob@{domain}"), "--subject", marker])
        .args(["--body", marker, "--helo", "client.example.test"])
        .args(secure_flags())
        .args(extra)
        .run()
}

#[test]
fn dane_ee_matches_delivers_and_shows_the_match() {
    let (run, lines) = probe("dane-ee.test");
    assert_eq!(verdict(&lines, "dane"), ("deliver".into(), None), "{run:?}");
    assert!(run.stdout().contains("matched 3 1 1 at depth 0"), "{run:?}");
    assert!(run.stdout().contains("\"dnssec\":\"MX secure, address secure\""), "{run:?}");
    let marker = crate::harness::marker("dane-ee");
    let sent = send("dane-ee.test", &marker, &[]).expect_code(0);
    assert!(sent.stdout().contains("DANE for mx.dane-ee.test: TLS required"), "{sent:?}");
    assert!(sent.stdout().contains("DANE authenticated mx.dane-ee.test: matched 3 1 1 at depth 0"), "{sent:?}");
    postfix().delivered("bob", &marker);
}

#[test]
fn a_tlsa_record_that_does_not_match_is_never_delivered_to() {
    let (run, lines) = probe("dane-bad.test");
    assert_eq!(verdict(&lines, "dane"), ("defer".into(), Some("validation-failure".into())), "{run:?}");
    assert_eq!(verdict(&lines, "opportunistic").0, "deliver");
    assert_eq!(run.code(), 4, "{run:?}");
    let marker = crate::harness::marker("dane-bad");
    let sent = send("dane-bad.test", &marker, &[]).expect_code(4);
    assert!(sent.stdout().contains("DANE for mx.dane-bad.test"), "{sent:?}");
    assert!(sent.stderr().contains("no TLSA record matches"), "{sent:?}");
    postfix().assert_not_delivered(&sent, "bob", &marker);
}

#[test]
fn dane_ta_checks_the_chain_and_the_name() {
    let (run, lines) = probe("dane-ta.test");
    assert_eq!(verdict(&lines, "dane"), ("deliver".into(), None), "{run:?}");
    assert!(run.stdout().contains("matched 2 0 1 at depth 1"), "{run:?}");
    let marker = crate::harness::marker("dane-ta");
    send("dane-ta.test", &marker, &[]).expect_code(0);
    postfix().delivered("bob", &marker);

    let (run, lines) = probe("dane-ta-mismatch.test");
    assert_eq!(verdict(&lines, "dane"), ("defer".into(), Some("validation-failure".into())), "{run:?}");
    let marker = crate::harness::marker("dane-ta-mismatch");
    let sent = send("dane-ta-mismatch.test", &marker, &[]).expect_code(4);
    assert!(sent.stderr().contains("mx.dane-ta-mismatch.test"), "{sent:?}");
    postfix().assert_not_delivered(&sent, "bob", &marker);
}

#[test]
fn a_signed_zone_without_tlsa_stays_opportunistic() {
    let (run, lines) = probe("no-tlsa.test");
    assert_eq!(verdict(&lines, "dane").0, "deliver", "{run:?}");
    assert!(run.stdout().contains("no TLSA records (securely denied)"), "{run:?}");
    let marker = crate::harness::marker("no-tlsa");
    send("no-tlsa.test", &marker, &[]).expect_code(0);
    postfix().delivered("bob", &marker);
    // --tls dane insists on TLSA records: none here, so nothing is sent (exit 4).
    let marker = crate::harness::marker("no-tlsa-required");
    let sent = send("no-tlsa.test", &marker, &["--tls", "dane"]).expect_code(4);
    assert!(sent.stderr().contains("--tls dane"), "{sent:?}");
    postfix().assert_never_sent_anything(&sent, "bob", &marker);
}

#[test]
fn a_bogus_zone_defers() {
    let (run, _) = probe("bogus.test");
    assert_eq!(run.code(), 75, "{run:?}");
    assert!(run.stderr().contains("DNSSEC validation failed (bogus)"), "{run:?}");
    assert!(run.stderr().contains("[dnssec-invalid]"), "{run:?}");
    let marker = crate::harness::marker("bogus");
    let sent = send("bogus.test", &marker, &[]).expect_code(75);
    assert!(sent.stdout().contains("DNSSEC validation failed (bogus)"), "{sent:?}");
    postfix().assert_never_sent_anything(&sent, "bob", &marker);
}

#[test]
fn a_broken_tlsa_signature_makes_that_mx_unusable() {
    let (run, lines) = probe("tlsa-broken.test");
    assert_eq!(verdict(&lines, "dane"), ("defer".into(), Some("dnssec-invalid".into())), "{run:?}");
    let marker = crate::harness::marker("tlsa-broken");
    let sent = send("tlsa-broken.test", &marker, &[]).expect_code(4);
    assert!(sent.stderr().contains("the TLSA lookup failed"), "{sent:?}");
    postfix().assert_never_sent_anything(&sent, "bob", &marker);
}

#[test]
fn a_wrong_tlsa_in_an_unsigned_zone_is_ignored() {
    let (run, lines) = probe("unsigned.test");
    assert_eq!(verdict(&lines, "dane").0, "deliver", "{run:?}");
    assert!(run.stdout().contains("\"dnssec\":\"MX insecure, address insecure\""), "{run:?}");
    let marker = crate::harness::marker("unsigned");
    send("unsigned.test", &marker, &[]).expect_code(0);
    postfix().delivered("bob", &marker);
}

#[test]
fn mta_sts_enforce_delivers_to_a_matching_mx_only() {
    let (run, lines) = probe("sts-enforce.test");
    assert_eq!(verdict(&lines, "mta-sts"), ("deliver".into(), None), "{run:?}");
    let policies = lines.iter().find(|l| l["type"] == "policies").expect("a policies line");
    assert_eq!(policies["mta_sts"]["mode"], "enforce");
    assert_eq!(policies["tls_rpt"]["rua"][0], "mailto:tlsrpt@sts-enforce.test");
    let marker = crate::harness::marker("sts-enforce");
    let sent = send("sts-enforce.test", &marker, &[]).expect_code(0);
    assert!(sent.stdout().contains("MTA-STS enforce for mx.sts-enforce.test"), "{sent:?}");
    postfix().delivered("bob", &marker);
    let marker = crate::harness::marker("sts-wildcard");
    send("sts-wildcard.test", &marker, &["--tls", "mta-sts"]).expect_code(0);
    postfix().delivered("bob", &marker);

    let (run, lines) = probe("sts-mismatch.test");
    assert_eq!(verdict(&lines, "mta-sts"), ("defer".into(), Some("validation-failure".into())), "{run:?}");
    let marker = crate::harness::marker("sts-mismatch");
    let sent = send("sts-mismatch.test", &marker, &[]).expect_code(4);
    assert!(sent.stderr().contains("not in the MTA-STS policy's mx list"), "{sent:?}");
    postfix().assert_never_sent_anything(&sent, "bob", &marker);
}

#[test]
fn mta_sts_testing_delivers_and_reports() {
    let (run, lines) = probe("sts-testing.test");
    assert_eq!(verdict(&lines, "mta-sts"), ("deliver".into(), Some("validation-failure".into())), "{run:?}");
    let marker = crate::harness::marker("sts-testing");
    let sent = send("sts-testing.test", &marker, &[]).expect_code(0);
    assert!(sent.stdout().contains("MTA-STS testing for mx.sts-testing.test"), "{sent:?}");
    postfix().delivered("bob", &marker);
}

#[test]
fn policies_that_cannot_be_had_count_as_none_and_are_named() {
    for (domain, result, words) in [
        ("sts-unreachable.test", "sts-policy-fetch-error", "fetching the policy"),
        ("sts-badcert.test", "sts-webpki-invalid", "does not verify"),
        ("sts-redirect.test", "sts-policy-fetch-error", "forbids following it"),
        ("sts-two-txt.test", "sts-policy-invalid", "two"),
        ("sts-huge.test", "sts-policy-invalid", "larger than 64 KiB"),
    ] {
        let (run, lines) = probe(domain);
        let policies = lines.iter().find(|l| l["type"] == "policies").expect("a policies line");
        assert_eq!(policies["mta_sts"]["result"], result, "{domain}: {run:?}");
        assert!(policies["mta_sts"]["error"].as_str().unwrap().contains(words), "{domain}: {policies}");
        // No policy in force: every sender delivers (the policy behind each would have refused this MX).
        assert_eq!(verdict(&lines, "mta-sts").0, "deliver", "{domain}: {run:?}");
        let marker = crate::harness::marker(domain);
        let sent = send(domain, &marker, &[]).expect_code(0);
        assert!(sent.stdout().contains("no usable policy"), "{domain}: {sent:?}");
        postfix().delivered("bob", &marker);
    }
}

#[test]
fn bad_trust_anchors_are_refused_before_any_lookup() {
    let path = crate::harness::scratch_dir("anchors").join("bad.anchor");
    std::fs::write(&path, "test. 300 IN DS 12345 13 2 ABCDEF\n").unwrap();
    let run = postie(["probe", "dane-ee.test", "--trust-anchor", &path.display().to_string()]).run().expect_code(64);
    assert!(run.stderr().contains("invalid --trust-anchor"), "{run:?}");
    assert_eq!(run.stderr().lines().count(), 1, "{run:?}");
    let missing = postie(["probe", "dane-ee.test", "--trust-anchor", "/nonexistent/anchor"]).run().expect_code(66);
    assert!(missing.stderr().contains("/nonexistent/anchor"), "{missing:?}");
}

#[test]
fn tls_verify_dane_checks_a_smart_host_by_its_tlsa_records() {
    let dns = secure_dns();
    let port = dns.tlsa_port;
    let flags = |server: &str| {
        vec![
            "send".to_string(),
            "--server".into(),
            format!("{server}:{port}"),
            "--tls-verify".into(),
            "dane".into(),
            "--dns-server".into(),
            dns.nsd.to_string(),
            "--trust-anchor".into(),
            dns.trust_anchor.display().to_string(),
            "--from".into(),
            "alice@example.test".into(),
            "--to".into(),
            "bob@example.test".into(),
            "--helo".into(),
            "client.example.test".into(),
        ]
    };
    let marker = crate::harness::marker("smart-host-dane");
    let run = postie(flags("mx.dane-ee.test")).args(["--subject", &marker, "--body", &marker]).run().expect_code(0);
    assert!(run.stdout().contains("DANE authenticated mx.dane-ee.test"), "{run:?}");
    postfix().delivered("bob", &marker);
    let marker = crate::harness::marker("smart-host-dane-bad");
    let run = postie(flags("mx.dane-bad.test")).args(["--subject", &marker, "--body", &marker]).run().expect_code(4);
    assert!(run.stderr().contains("no TLSA record matches"), "{run:?}");
    postfix().assert_not_delivered(&run, "bob", &marker);
    // A host without TLSA records: nothing is sent.
    let marker = crate::harness::marker("smart-host-no-tlsa");
    let run = postie(flags("mx.no-tlsa.test")).args(["--subject", &marker, "--body", &marker]).run().expect_code(4);
    assert!(run.stderr().contains("--tls-verify dane: no secure TLSA records for mx.no-tlsa.test"), "{run:?}");
    // Without DNSSEC, DANE cannot be asked for.
    let run = postie(["send", "--server", "127.0.0.1:25", "--tls-verify", "dane", "--to", "b@example.test"])
        .run()
        .expect_code(64);
    assert!(run.stderr().contains("DANE needs DNSSEC"), "{run:?}");
}

#[test]
fn dns_trust_ad_believes_a_validating_resolver() {
    let dns = secure_dns();
    let through_unbound = |domain: &str, marker: &str| {
        postie(["send", "--from", "alice@example.test", "--to", &format!("bob@{domain}"), "--subject", marker])
            .args(["--body", marker, "--helo", "client.example.test", "--dns-trust-ad"])
            .args(["--dns-server", &dns.unbound.to_string(), "--ca-file", &dns.ca_file.display().to_string()])
            .args(["--port", &dns.tlsa_port.to_string()])
            .run()
    };
    let marker = crate::harness::marker("trust-ad-ee");
    let run = through_unbound("dane-ee.test", &marker).expect_code(0);
    assert!(run.stdout().contains("DANE authenticated mx.dane-ee.test"), "{run:?}");
    postfix().delivered("bob", &marker);
    let marker = crate::harness::marker("trust-ad-bad");
    let run = through_unbound("dane-bad.test", &marker).expect_code(4);
    assert!(run.stderr().contains("no TLSA record matches"), "{run:?}");
    let marker = crate::harness::marker("trust-ad-bogus");
    let run = through_unbound("bogus.test", &marker).expect_code(75);
    assert!(run.stdout().contains("SERVFAIL (a validating resolver does so for bogus data)"), "{run:?}");
    // The unsigned zone has no AD: its wrong TLSA is ignored.
    let marker = crate::harness::marker("trust-ad-unsigned");
    through_unbound("unsigned.test", &marker).expect_code(0);
    postfix().delivered("bob", &marker);
}

#[test]
fn an_mx_host_that_is_a_secure_alias_takes_its_targets_tlsa_and_name() {
    // mx.dane-cname.test is a CNAME for mx.dane-ta.test: the TLSA records are the target's (2 0 1 of the CA),
    // and the certificate, which names only the target, is valid for it (RFC 7672 §2.2.2, §3.2.2).
    let (run, lines) = probe("dane-cname.test");
    assert_eq!(verdict(&lines, "dane"), ("deliver".into(), None), "{run:?}");
    assert!(run.stdout().contains("matched 2 0 1 at depth 1"), "{run:?}");
    let marker = crate::harness::marker("dane-cname");
    let sent = send("dane-cname.test", &marker, &["--tls", "dane"]).expect_code(0);
    assert!(sent.stdout().contains("DANE authenticated mx.dane-cname.test"), "{sent:?}");
    postfix().delivered("bob", &marker);
}
