//! MTA-STS TXT records and policy files from arbitrary text: nothing panics; an id is 1 to 32 letters and
//! digits; a policy's mode is one of three, its max_age within the limit, its mx patterns free of control
//! characters and white space, each pattern matches a host it names and not one label deeper, and a policy
//! written out again from what was read reads back the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::policy::sts::{parse_policy, parse_sts_record, select_sts_record, Mode, Policy, StsRecord, MAX_AGE_LIMIT};

fn check_record(record: &StsRecord) {
    assert!((1..=32).contains(&record.id.len()), "{record:?}");
    assert!(record.id.bytes().all(|byte| byte.is_ascii_alphanumeric()), "{record:?}");
}

/// The policy as a file again: only what was read.
fn written(policy: &Policy) -> String {
    let mut text = format!("version: STSv1\r\nmode: {}\r\n", policy.mode);
    for pattern in &policy.mx {
        text.push_str(&format!("mx: {pattern}\r\n"));
    }
    text.push_str(&format!("max_age: {}\r\n", policy.max_age));
    text
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let txts: Vec<String> = text.split('\n').map(String::from).collect();
    if let Ok(Some(record)) = select_sts_record(&txts) {
        check_record(&record);
    }
    if let Ok(record) = parse_sts_record(text) {
        check_record(&record);
    }
    let Ok(policy) = parse_policy(text) else {
        return;
    };
    assert!(matches!(policy.mode.as_str(), "enforce" | "testing" | "none"), "{policy:?}");
    assert!(policy.max_age <= MAX_AGE_LIMIT, "{policy:?}");
    assert!(!policy.mx.is_empty() || policy.mode == Mode::None, "{policy:?}");
    for pattern in &policy.mx {
        assert!(!pattern.chars().any(|character| character.is_control() || character.is_whitespace()), "{pattern:?}");
        let alone = Policy { mx: vec![pattern.clone()], ..policy.clone() };
        let name = pattern.strip_suffix('.').unwrap_or(pattern);
        let host = match name.strip_prefix("*.") {
            Some(parent) => format!("mx.{parent}"),
            None => name.to_string(),
        };
        assert!(alone.matches(&host.to_ascii_uppercase()), "{pattern:?} and {host:?}");
        assert!(alone.matches(&format!("{host}.")), "{pattern:?} and {host:?}.");
        assert!(!alone.matches(&format!("deeper.{host}")), "{pattern:?} and deeper.{host:?}");
    }
    let again = parse_policy(&written(&policy)).unwrap_or_else(|error| panic!("{policy:?} written out: {error}"));
    assert_eq!(Policy { ignored: vec![], ..policy }, again);
});
