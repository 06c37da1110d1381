//! Capabilities from any EHLO reply: no panic, and keywords that are single upper-case words.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::smtp::ehlo::Capabilities;
use postie::smtp::reply::ReplyParser;

fuzz_target!(|data: &[u8]| {
    let mut parser = ReplyParser::new();
    parser.feed(data);
    while let Ok(Some(reply)) = parser.next_reply() {
        let capabilities = Capabilities::from_ehlo(&reply);
        for (keyword, parameters) in &capabilities.extensions {
            let spaced = |word: &str| word.is_empty() || word.bytes().any(|b| b.is_ascii_whitespace());
            assert!(!spaced(keyword), "{keyword:?}");
            assert_eq!(*keyword, keyword.to_ascii_uppercase());
            assert!(capabilities.has(keyword) && capabilities.has(&keyword.to_ascii_lowercase()));
            assert!(parameters.iter().all(|p| !spaced(p)), "{parameters:?}");
        }
        assert!(!capabilities.server_name.contains(' '));
        if let Some(limit) = capabilities.size_limit() {
            assert!(limit > 0);
        }
        let _ = capabilities.parameters("AUTH");
    }
});
