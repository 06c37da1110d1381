//! TLSA records from arbitrary text and certificates from arbitrary bytes: nothing panics; a record's
//! presentation form reads back as the same record; a usable record is DANE-TA or DANE-EE with data the length
//! its matching type needs; and what match_chain reports agrees with matching each certificate alone.
//!
//! The input is a record in presentation form, a NUL, then a certificate (DER); without a NUL, the bytes are
//! both. The first three bytes of the certificate part also make a record of their own, so that every
//! selector and matching type meets every certificate whatever the text says.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::policy::tlsa::{match_chain, Outcome, Tlsa, Usability, DANE_EE, DANE_TA, SPKI};

fuzz_target!(|data: &[u8]| {
    let (text, certificate) = match data.iter().position(|&byte| byte == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, data),
    };
    let mut records = Vec::new();
    if let Ok(text) = std::str::from_utf8(text) {
        if let Ok(tlsa) = Tlsa::parse_presentation(text) {
            assert_eq!(Tlsa::parse_presentation(&tlsa.presentation()), Ok(tlsa.clone()), "{text:?}");
            records.push(tlsa);
        }
    }
    if let [usage, selector, matching, rest @ ..] = certificate {
        let data = rest.iter().take(64).copied().collect();
        records.push(Tlsa { usage: usage % 5, selector: selector % 3, matching: matching % 4, data });
    }
    for tlsa in &records {
        let usable = tlsa.usability() == Usability::Usable;
        if usable {
            assert!(matches!(tlsa.usage, DANE_TA | DANE_EE) && tlsa.selector <= SPKI, "{}", tlsa.presentation());
            let length = tlsa.data.len();
            assert!(
                match tlsa.matching {
                    0 => length > 0,
                    1 => length == 32,
                    2 => length == 64,
                    _ => false,
                },
                "{}",
                tlsa.presentation()
            );
        }
        let matched = tlsa.matches(certificate);
        if usable && tlsa.selector == 0 {
            assert!(matched.is_ok(), "{}: {matched:?}", tlsa.presentation());
        }
    }

    let chain = vec![certificate.to_vec(), certificate.to_vec()];
    let result = match_chain(&records, &chain);
    for found in &result.matches {
        assert_eq!(found.tlsa, records[found.record]);
        assert_eq!(found.tlsa.usability(), Usability::Usable);
        assert_eq!(found.tlsa.matches(&chain[found.depth]), Ok(true), "{found}");
        assert!(found.tlsa.usage == DANE_TA || found.depth == 0, "{found}");
    }
    // Every usable record that matches is reported, at each depth it may be compared with.
    for (index, tlsa) in records.iter().enumerate() {
        if tlsa.usability() == Usability::Usable && tlsa.matches(certificate) == Ok(true) {
            let depths: Vec<usize> =
                result.matches.iter().filter(|found| found.record == index).map(|found| found.depth).collect();
            let expected: &[usize] = if tlsa.usage == DANE_EE { &[0] } else { &[0, 1] };
            assert_eq!(depths, expected, "{}", tlsa.presentation());
        }
    }
    let has_match =
        |record: usize, depth: usize| result.matches.iter().any(|found| found.record == record && found.depth == depth);
    match result.outcome {
        Outcome::EndEntity { record } => assert!(records[record].usage == DANE_EE && has_match(record, 0)),
        Outcome::TrustAnchor { depth, record } => {
            assert!(records[record].usage == DANE_TA && depth >= 1 && has_match(record, depth));
        }
        Outcome::TrustAnchorKey { record } => {
            let tlsa = &records[record];
            assert_eq!((tlsa.usage, tlsa.selector, tlsa.matching), (DANE_TA, SPKI, 0));
        }
        Outcome::NoMatch => assert!(records.iter().any(|tlsa| tlsa.usability() == Usability::Usable)),
        Outcome::NoUsableRecords => assert!(records.iter().all(|tlsa| tlsa.usability() != Usability::Usable)),
    }
    assert_eq!(result.unusable.len(), records.iter().filter(|tlsa| tlsa.usability() != Usability::Usable).count());
});
