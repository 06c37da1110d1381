//! TLS-RPT records from arbitrary text: nothing panics; a record has at least one rua URI, each mailto: or
//! https: with no white space, control character, or `,` `;` `!` that would end it early; and the URIs
//! written out again read back the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::policy::tlsrpt::{parse_tlsrpt_record, select_tlsrpt_record, ReportUri, TlsRpt};

fn check(record: &TlsRpt) {
    assert!(!record.rua.is_empty());
    for uri in &record.rua {
        let text = uri.as_str();
        let scheme = match uri {
            ReportUri::Mailto(_) => "mailto:",
            ReportUri::Https(_) => "https:",
        };
        assert!(text.get(..scheme.len()).is_some_and(|start| start.eq_ignore_ascii_case(scheme)), "{text:?}");
        assert!(
            !text
                .chars()
                .any(|character| character.is_whitespace() || character.is_control() || ",;!".contains(character)),
            "{text:?}"
        );
    }
    let written: Vec<&str> = record.rua.iter().map(ReportUri::as_str).collect();
    let again = parse_tlsrpt_record(&format!("v=TLSRPTv1; rua={}", written.join(",")));
    assert_eq!(again.as_ref(), Ok(record), "{written:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(record) = parse_tlsrpt_record(text) {
        check(&record);
    }
    let txts: Vec<String> = text.split('\n').map(String::from).collect();
    if let Ok(Some(record)) = select_tlsrpt_record(&txts) {
        check(&record);
    }
});
