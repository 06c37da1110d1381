//! The reply parser: whatever the bytes and however they arrive, the same replies (or the same error) come
//! out, and nothing panics.

#![no_main]

use libfuzzer_sys::fuzz_target;
use postie::smtp::reply::{Reply, ReplyError, ReplyParser};

#[path = "split.rs"]
mod split;

/// Every reply the parser gives for `feeds`, up to and including the first error.
fn replies(feeds: &[&[u8]]) -> (Vec<Reply>, Option<ReplyError>) {
    let mut parser = ReplyParser::new();
    let mut replies = Vec::new();
    for feed in feeds {
        parser.feed(feed);
        loop {
            match parser.next_reply() {
                Ok(Some(reply)) => replies.push(reply),
                Ok(None) => break,
                Err(error) => return (replies, Some(error)),
            }
        }
    }
    (replies, None)
}

fuzz_target!(|data: &[u8]| {
    let (pieces, payload) = split::pieces(data);
    let whole = replies(&[payload]);
    let split = replies(&pieces);
    assert_eq!(whole, split, "a split of the input changed the replies");
    for reply in &whole.0 {
        // Each line keeps its code.
        assert!(reply.lines.iter().all(|line| line.starts_with(reply.code.to_string().as_bytes())));
        // The one-line form is raw (the renderers escape, once, where they write); escaped, nothing can act on
        // a terminal.
        let shown = postie::sanitize::escape(reply.to_string().as_bytes());
        assert!(!shown.chars().any(|c| c.is_control() || postie::sanitize::is_bidi_control(c)), "{shown:?}");
        if let Some(enhanced) = reply.enhanced {
            assert_eq!(u16::from(enhanced.class), reply.code.0 / 100);
        }
    }
});
