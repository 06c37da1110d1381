//! postie's dialogue language, for `postie script FILE --server HOST[:PORT]`: a script says what to send and
//! what the server must answer, one statement a line. This module only reads scripts into data ([`Script`]);
//! running them is the runner's. It uses nothing else in the crate, so the parser can be tested, fuzzed
//! and reused on its own. `docs/script.md` is the reference for users, with example scripts.
//!
//! ```text
//! connect                          # or: connect tls (TLS from the first byte)
//! expect 220
//! send EHLO client.example.test
//! expect 250 /STARTTLS/            # the reply's code, and a regex searched in its text
//! starttls                         # STARTTLS, 220, then the handshake
//! send EHLO client.example.test
//! expect 250
//! auth plain bob env:POSTIE_PASSWORD # the whole exchange; the password from the environment
//! send MAIL FROM:<alice@example.test>
//! expect 2xx
//! send-raw "RCPT TO:<bob@example.test>\r\nDATA\r\n"
//! expect 250
//! expect 354
//! data message.eml                 # or: data-raw "exact bytes\r\n.\r\n"
//! expect 250
//! sleep 200ms
//! send QUIT
//! expect 221
//! expect-close
//! ```
//!
//! The rules, each one tested in `parse.rs`:
//!
//! - One statement a line. Leading and trailing whitespace (spaces, tabs) is ignored, and so are blank lines
//!   and lines whose first character is `#`. A `#` with whitespace before it starts a trailing comment, on
//!   every statement, `send` included: a literal ` #` can only be sent with `send-raw`. A `#` inside a
//!   quoted string or a regex is part of it. CRLF line endings and a leading UTF-8 byte order mark work.
//! - Keywords are case-insensitive: statement names, `tls`, mechanism names, the `env:`/`file:` prefixes and
//!   duration units. Arguments (commands, paths, users, regexes) are kept as written.
//! - `connect` or `connect tls`. No ordering rules, so a script can test what happens before it connects
//!   (`sleep` first, say), but a script that never connects is refused.
//! - `send COMMAND`: the rest of the line, verbatim (inner spacing kept), sent with CRLF appended. It must
//!   not be empty nor hold CR, LF or NUL; `send-raw` sends exact bytes.
//! - `send-raw "BYTES"` and `data-raw "BYTES"`: a double-quoted string with the escapes `\r \n \t \0 \\ \"`
//!   and `\xNN` (two hex digits); any other escape, a missing closing quote, text after it (other than a
//!   comment) or an empty string is an error. Other characters stand for their UTF-8 bytes.
//! - `expect CODE [/REGEX/]`: CODE is three digits (`250`), a class (`2xx`) or a class and second digit
//!   (`25x`); the first digit is 2 to 5 and the second 0 to 5, as in every SMTP reply (RFC 5321 §4.2). The
//!   optional regex (regex crate syntax, `\/` for a slash) is searched anywhere in the reply's text: each
//!   line after its code and separator, joined with `\n`; `^` and `$` match at every line's start and end.
//! - `starttls` (send STARTTLS, require 220, handshake) and `expect-close` take nothing.
//! - `auth MECHANISM USER SOURCE`: exactly three words. Mechanisms are `plain`, `login` and `cram-md5`;
//!   SOURCE is `env:NAME` or `file:PATH`, never the secret itself, so scripts can be shared and committed.
//!   It is the whole exchange, up to the server's 235.
//! - `data PATH`: a message file (the rest of the line, as written), sent dot-stuffed and ended with
//!   `CRLF.CRLF` after the script's own `send DATA` and `expect 354`; the runner resolves a relative path
//!   against the script's directory.
//! - `sleep DURATION`: a number and a unit, `ms`, `s` or `m` (`200ms`, `1.5s`, `2m`), at most one hour.
//! - Input is bounded: a line over [`MAX_LINE`] bytes or a script over [`MAX_SCRIPT`] bytes is refused.
//!
//! Errors say which line failed, what was wrong and what to write instead: `line 7: unknown statement
//! "sned" (known: connect, expect, send, send-raw, starttls, auth, data, data-raw, sleep, expect-close)`.

pub mod parse;

pub use parse::{
    parse, AuthMechanism, CodePattern, Expectation, Line, ParseError, Script, SecretSource, Statement, MAX_LINE,
    MAX_SCRIPT, MAX_SLEEP,
};
