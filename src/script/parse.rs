//! The script parser: source text in, a [`Script`] or the first [`ParseError`] out. No I/O: a `data` file or
//! a secret is named here and read by the runner. The language itself is described in the parent module.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use regex::{Regex, RegexBuilder};

/// Longest source line accepted, in bytes. Far more than any command or raw string needs, but a script is
/// input like any other and the parser should not be asked to hold unbounded lines.
pub const MAX_LINE: usize = 64 * 1024;
/// Largest script accepted, in bytes.
pub const MAX_SCRIPT: usize = 4 * 1024 * 1024;
/// Longest `sleep`: a longer one is a typo (`2m` for `2ms`?) more often than a plan, and a server's own
/// timeouts end the session well before (RFC 5321 §4.5.3.2.7: five minutes between commands).
pub const MAX_SLEEP: Duration = Duration::from_secs(60 * 60);

/// Statement names, in the order the error for an unknown one lists them.
const KEYWORDS: &str = "connect, expect, send, send-raw, starttls, auth, data, data-raw, sleep, expect-close";

/// A whole script: its statements in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub lines: Vec<Line>,
}

/// One statement and the line it was written on, so the runner can say which line failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the source.
    pub number: usize,
    pub statement: Statement,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// Open the connection; with `tls`, TLS from the first byte (port 465 style, RFC 8314 §3.3).
    Connect { tls: bool },
    /// Wait for the next reply and fail the script unless it matches.
    Expect(Expectation),
    /// One command line, sent with CRLF appended. Never holds CR, LF or NUL.
    Send(String),
    /// Exactly these bytes, nothing appended. Never empty.
    SendRaw(Vec<u8>),
    /// Send STARTTLS, require 220, then the TLS handshake (RFC 3207); fails the script if the certificate
    /// does not verify, unless the runner was told to accept any certificate.
    StartTls,
    /// The whole AUTH exchange (RFC 4954), failing the script unless the server accepts (235). The runner
    /// reads the secret from where `secret` says.
    Auth { mechanism: AuthMechanism, user: String, secret: SecretSource },
    /// A message file, sent dot-stuffed and ended with CRLF.CRLF (after a 354 the script asked for with
    /// `send DATA`). The path is as written: the runner resolves a relative one against the script's directory.
    Data(PathBuf),
    /// Exactly these bytes as the message data, nothing stuffed or appended (the final dot included, if the
    /// script wants one). Never empty.
    DataRaw(Vec<u8>),
    /// Wait; at most [`MAX_SLEEP`].
    Sleep(Duration),
    /// Wait for the server to close the connection, failing the script if it sends anything first.
    ExpectClose,
}

impl Statement {
    /// The statement's name as written in a script, for messages such as "line 7 (expect): …".
    pub fn keyword(&self) -> &'static str {
        match self {
            Statement::Connect { .. } => "connect",
            Statement::Expect(_) => "expect",
            Statement::Send(_) => "send",
            Statement::SendRaw(_) => "send-raw",
            Statement::StartTls => "starttls",
            Statement::Auth { .. } => "auth",
            Statement::Data(_) => "data",
            Statement::DataRaw(_) => "data-raw",
            Statement::Sleep(_) => "sleep",
            Statement::ExpectClose => "expect-close",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMechanism {
    /// RFC 4616.
    Plain,
    /// The old two-step user/password exchange.
    Login,
    /// RFC 2195.
    CramMd5,
}

impl AuthMechanism {
    /// The name that goes on the wire after `AUTH`.
    pub fn name(self) -> &'static str {
        match self {
            AuthMechanism::Plain => "PLAIN",
            AuthMechanism::Login => "LOGIN",
            AuthMechanism::CramMd5 => "CRAM-MD5",
        }
    }
}

/// Where the runner reads a password from. There is no variant for a literal secret on purpose: a script is
/// shared, committed and shown in transcripts, and a password written in it would go wherever it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `env:NAME`: an environment variable.
    Env(String),
    /// `file:PATH`: a file, as written (the runner decides how to resolve a relative path and trims the line
    /// ending).
    File(PathBuf),
}

/// What a reply must look like.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub code: CodePattern,
    /// Searched anywhere in the reply's text (see [`Expectation::matches`]); `^` and `$` match at the start
    /// and end of every line.
    pub text: Option<Regex>,
}

impl Expectation {
    /// Whether a reply matches: `text` is the reply's text, each line after its code and separator (`250-`,
    /// `250 `), lines joined with `\n`.
    pub fn matches(&self, code: u16, text: &str) -> bool {
        self.code.matches(code) && self.text.as_ref().is_none_or(|regex| regex.is_match(text))
    }
}

/// Two expectations are equal when they would be written the same way: a [`Regex`] has no equality of its
/// own, so the patterns are compared as text.
impl PartialEq for Expectation {
    fn eq(&self, other: &Expectation) -> bool {
        self.code == other.code && self.text.as_ref().map(Regex::as_str) == other.text.as_ref().map(Regex::as_str)
    }
}

impl Eq for Expectation {}

/// The code part of an expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePattern {
    /// `250`: this code.
    Exact(u16),
    /// `2xx`: any code with this first digit.
    Class(u8),
    /// `25x`: any code with these first two digits.
    Tens(u8, u8),
}

impl CodePattern {
    pub fn matches(&self, code: u16) -> bool {
        match *self {
            CodePattern::Exact(exact) => code == exact,
            CodePattern::Class(class) => code / 100 == u16::from(class),
            CodePattern::Tens(class, tens) => code / 100 == u16::from(class) && code / 10 % 10 == u16::from(tens),
        }
    }
}

/// The pattern as written in a script: `250`, `2xx`, `25x`.
impl fmt::Display for CodePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodePattern::Exact(code) => write!(f, "{code}"),
            CodePattern::Class(class) => write!(f, "{class}xx"),
            CodePattern::Tens(class, tens) => write!(f, "{class}{tens}x"),
        }
    }
}

/// Why a script was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number; 0 when the error is about the whole script (too large, never connects).
    pub line: usize,
    pub message: String,
}

impl ParseError {
    fn whole_script(message: String) -> ParseError {
        ParseError { line: 0, message }
    }
}

/// `line N: message`, or the message alone for an error about the whole script.
impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// Read a whole script. Stops at the first error: later lines may only look wrong because of it.
pub fn parse(source: &str) -> Result<Script, ParseError> {
    if source.len() > MAX_SCRIPT {
        return Err(ParseError::whole_script(format!(
            "the script is {} bytes, over the limit of {MAX_SCRIPT} (4 MiB)",
            source.len()
        )));
    }
    // Editors on Windows may start a UTF-8 file with a byte order mark; it is no part of the first keyword.
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut lines = Vec::new();
    // Split at LF; the CR of a CRLF ending is trailing whitespace, trimmed with the rest.
    for (index, text) in source.split('\n').enumerate() {
        let number = index + 1;
        if text.len() > MAX_LINE {
            return Err(ParseError {
                line: number,
                message: format!("the line is {} bytes, over the limit of {MAX_LINE} (64 KiB)", text.len()),
            });
        }
        if let Some(statement) = statement(text).map_err(|message| ParseError { line: number, message })? {
            lines.push(Line { number, statement });
        }
    }
    if !lines.iter().any(|line| matches!(line.statement, Statement::Connect { .. })) {
        return Err(ParseError::whole_script("the script never connects: add `connect` first".into()));
    }
    Ok(Script { lines })
}

/// The statement on one line, or `None` for a blank or comment line.
fn statement(line: &str) -> Result<Option<Statement>, String> {
    let line = line.trim_matches(is_space);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (keyword, rest) = first_word(line);
    let statement = match keyword.to_ascii_lowercase().as_str() {
        "connect" => connect(rest)?,
        "expect" => Statement::Expect(expectation(rest)?),
        "send" => Statement::Send(send(rest)?),
        "send-raw" => Statement::SendRaw(raw("send-raw", rest)?),
        "starttls" => no_arguments("starttls", rest, Statement::StartTls)?,
        "auth" => auth(rest)?,
        "data" => Statement::Data(data(rest)?),
        "data-raw" => Statement::DataRaw(raw("data-raw", rest)?),
        "sleep" => Statement::Sleep(sleep(rest)?),
        "expect-close" => no_arguments("expect-close", rest, Statement::ExpectClose)?,
        _ => return Err(format!("unknown statement {} (known: {KEYWORDS})", quote(keyword))),
    };
    Ok(Some(statement))
}

fn connect(rest: &str) -> Result<Statement, String> {
    match without_comment(rest) {
        "" => Ok(Statement::Connect { tls: false }),
        word if word.eq_ignore_ascii_case("tls") => Ok(Statement::Connect { tls: true }),
        other => Err(format!("connect takes nothing or `tls`, not {}", quote(other))),
    }
}

fn no_arguments(keyword: &str, rest: &str, statement: Statement) -> Result<Statement, String> {
    match without_comment(rest) {
        "" => Ok(statement),
        other => Err(format!("{keyword} takes no arguments, found {}", quote(other))),
    }
}

fn send(rest: &str) -> Result<String, String> {
    let command = without_comment(rest);
    if command.is_empty() {
        return Err("send needs a command, such as `send EHLO client.example.test`".into());
    }
    // A CR or NUL would end or cut the line on the wire where the script does not show it. LF cannot occur:
    // it ends the source line.
    for (character, name) in [('\r', "a CR"), ('\0', "a NUL")] {
        if command.contains(character) {
            return Err(format!("the send command contains {name}: use send-raw to send exact bytes"));
        }
    }
    Ok(command.to_string())
}

/// The bytes of `send-raw` or `data-raw`: one quoted string, then nothing but a comment.
fn raw(keyword: &str, rest: &str) -> Result<Vec<u8>, String> {
    if !rest.starts_with('"') {
        return Err(format!("{keyword} needs its bytes in double quotes, such as `{keyword} \"QUIT\\r\\n\"`"));
    }
    let (bytes, after) = quoted_bytes(keyword, &rest[1..])?;
    end_of_statement(after, &format!("the closing quote of the {keyword} string"))?;
    if bytes.is_empty() {
        return Err(format!("the {keyword} string is empty: give at least one byte"));
    }
    Ok(bytes)
}

/// A string's bytes up to its closing quote, and the text after that quote. `body` starts after the opening
/// quote.
fn quoted_bytes<'a>(keyword: &str, body: &'a str) -> Result<(Vec<u8>, &'a str), String> {
    let mut bytes = Vec::new();
    let mut characters = body.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '"' => return Ok((bytes, &body[index + 1..])),
            '\\' => {
                let Some((_, escape)) = characters.next() else { break };
                let byte = match escape {
                    'r' => b'\r',
                    'n' => b'\n',
                    't' => b'\t',
                    '0' => 0,
                    '\\' => b'\\',
                    '"' => b'"',
                    'x' => {
                        // Up to the closing quote, which is shown as such, not as a digit that is missing.
                        let digits: String = characters
                            .clone()
                            .take(2)
                            .map(|(_, digit)| digit)
                            .take_while(|&digit| digit != '"')
                            .collect();
                        if digits.len() != 2 || !digits.bytes().all(|digit| digit.is_ascii_hexdigit()) {
                            return Err(format!(
                                "`\\x` in the {keyword} string needs two hex digits, as in `\\x0d`; found `\\x{}`",
                                visible(&digits)
                            ));
                        }
                        characters.nth(1);
                        u8::from_str_radix(&digits, 16).expect("two hex digits")
                    }
                    other => {
                        return Err(format!(
                            "unknown escape `\\{}` in the {keyword} string (known: \\r \\n \\t \\0 \\\\ \\\" \\xNN)",
                            visible(&other.to_string())
                        ))
                    }
                };
                bytes.push(byte);
            }
            _ => bytes.extend_from_slice(character.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Err(format!("the {keyword} string has no closing quote (write `\\\"` for a quote inside it)"))
}

fn expectation(rest: &str) -> Result<Expectation, String> {
    let (word, after) = first_word(rest);
    if word.is_empty() || word.starts_with('#') {
        return Err("expect needs a reply code, such as `expect 250`, `expect 2xx` or `expect 25x`".into());
    }
    let code = code_pattern(word)?;
    let text = if after.is_empty() || after.starts_with('#') {
        None
    } else if let Some(body) = after.strip_prefix('/') {
        let (regex, after_regex) = regex_between_slashes(body)?;
        end_of_statement(after_regex, "the closing `/` of the regex")?;
        Some(regex)
    } else {
        return Err(format!(
            "after the code, expect takes a regex between slashes, such as `expect 250 /PIPELINING/`; found {}",
            quote(after)
        ));
    };
    Ok(Expectation { code, text })
}

/// `250`, `2xx` (or `2XX`) or `25x`.
fn code_pattern(word: &str) -> Result<CodePattern, String> {
    let is_x = |byte: u8| byte.eq_ignore_ascii_case(&b'x');
    let [first, second, third] = *word.as_bytes() else {
        return Err(not_a_code(word));
    };
    let shape_is_right = first.is_ascii_digit()
        && (second.is_ascii_digit() || (is_x(second) && is_x(third)))
        && (third.is_ascii_digit() || is_x(third));
    if !shape_is_right {
        return Err(not_a_code(word));
    }
    // RFC 5321 §4.2: the first digit is 2 to 5 and the second 0 to 5. A pattern outside that could never
    // match a reply, so it is a mistake in the script.
    let class = first - b'0';
    if !(2..=5).contains(&class) {
        return Err(format!("reply code `{word}` starts with {class}: SMTP reply codes start with 2, 3, 4 or 5"));
    }
    if is_x(second) {
        return Ok(CodePattern::Class(class));
    }
    let tens = second - b'0';
    if tens > 5 {
        return Err(format!(
            "reply code `{word}` has second digit {tens}: in SMTP reply codes it is 0 to 5 (RFC 5321 §4.2)"
        ));
    }
    if is_x(third) {
        return Ok(CodePattern::Tens(class, tens));
    }
    Ok(CodePattern::Exact(u16::from(class) * 100 + u16::from(tens) * 10 + u16::from(third - b'0')))
}

fn not_a_code(word: &str) -> String {
    format!(
        "{} is not a reply code: write three digits (`250`), a class (`2xx`) or a class and its second digit \
         (`25x`)",
        quote(word)
    )
}

/// A regex up to its closing slash, and the text after that slash. `body` starts after the opening slash.
/// `\/` stands for a slash; every other backslash is the regex's own.
fn regex_between_slashes(body: &str) -> Result<(Regex, &str), String> {
    let mut pattern = String::new();
    let mut characters = body.char_indices();
    while let Some((index, character)) = characters.next() {
        match character {
            '/' => {
                if pattern.is_empty() {
                    return Err("the regex between the slashes is empty: leave it out to accept any text".into());
                }
                return Ok((compile(&pattern)?, &body[index + 1..]));
            }
            '\\' => match characters.next() {
                Some((_, '/')) => pattern.push('/'),
                Some((_, escaped)) => {
                    pattern.push('\\');
                    pattern.push(escaped);
                }
                None => break,
            },
            _ => pattern.push(character),
        }
    }
    Err("the regex has no closing `/` (write `\\/` for a slash inside it)".into())
}

fn compile(pattern: &str) -> Result<Regex, String> {
    // A reply's lines are joined with "\n" before the search, so `^` and `$` mean a line's start and end, as
    // a reader of /^PIPELINING$/ expects.
    RegexBuilder::new(pattern)
        .multi_line(true)
        .build()
        .map_err(|error| format!("bad regex /{}/: {}", shorten(pattern), one_line(&error)))
}

/// The regex crate's error on one line. A syntax error is several lines: a header, the pattern with a caret
/// under the fault, notes, then `error: WHAT`; WHAT is the part that reads well alone.
fn one_line(error: &regex::Error) -> String {
    let text = error.to_string();
    match text.lines().rev().find_map(|line| line.strip_prefix("error: ")) {
        Some(what) => what.to_string(),
        None => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

fn auth(rest: &str) -> Result<Statement, String> {
    let words: Vec<&str> = without_comment(rest).split_ascii_whitespace().collect();
    // The words are not shown in the errors: a wrong one may be the password written in by mistake.
    let [mechanism, user, source] = words[..] else {
        return Err(format!(
            "auth needs three words, MECHANISM USER SOURCE, such as `auth plain alice env:PASSWORD`; found {}",
            words.len()
        ));
    };
    let mechanism = match mechanism.to_ascii_lowercase().as_str() {
        "plain" => AuthMechanism::Plain,
        "login" => AuthMechanism::Login,
        "cram-md5" => AuthMechanism::CramMd5,
        _ => return Err(format!("unknown auth mechanism {} (known: plain, login, cram-md5)", quote(mechanism))),
    };
    // RFC 4616 §2 separates the user from the password with NUL; no control character belongs in a user.
    if user.chars().any(char::is_control) {
        return Err("the auth user contains a control character".into());
    }
    Ok(Statement::Auth { mechanism, user: user.to_string(), secret: secret_source(source)? })
}

fn secret_source(word: &str) -> Result<SecretSource, String> {
    let (prefix, value) = word.split_once(':').unwrap_or(("", word));
    if prefix.eq_ignore_ascii_case("env") {
        let mut characters = value.chars();
        let starts_well = characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
        if !starts_well || !characters.all(|character| character.is_ascii_alphanumeric() || character == '_') {
            return Err("the name after `env:` must be letters, digits and `_`, not starting with a digit, \
                        such as `env:POSTIE_PASSWORD`"
                .into());
        }
        return Ok(SecretSource::Env(value.to_string()));
    }
    if prefix.eq_ignore_ascii_case("file") {
        if value.is_empty() {
            return Err("`file:` needs a path, such as `file:password.txt`".into());
        }
        return Ok(SecretSource::File(PathBuf::from(value)));
    }
    Err("the third word of auth must be `env:NAME` or `file:PATH`: secrets come from the environment or a file, \
         so they never sit in a script"
        .into())
}

fn data(rest: &str) -> Result<PathBuf, String> {
    let path = without_comment(rest);
    if path.is_empty() {
        return Err(
            "data needs a message file, such as `data message.eml` (or `data-raw \"...\"` for exact bytes)".into()
        );
    }
    // `data "..."` is almost surely data-raw misspelt, not a file whose name starts with a quote.
    if path.starts_with('"') {
        return Err("data takes a file name without quotes; to send the bytes in quotes, use `data-raw`".into());
    }
    Ok(PathBuf::from(path))
}

fn sleep(rest: &str) -> Result<Duration, String> {
    let words: Vec<&str> = without_comment(rest).split_ascii_whitespace().collect();
    match words[..] {
        [word] => duration(word),
        [] => Err("sleep needs a duration, such as `sleep 200ms`, `sleep 1.5s` or `sleep 2m`".into()),
        _ => Err("sleep takes one duration, such as `sleep 200ms`".into()),
    }
}

/// `200ms`, `1.5s`, `2m`: a number (decimals for `s` and `m`) and a unit, at most [`MAX_SLEEP`]. Worked out in
/// whole nanoseconds, so `0.1s` is exactly 100 ms.
fn duration(word: &str) -> Result<Duration, String> {
    let split = word.find(|character: char| !character.is_ascii_digit() && character != '.').unwrap_or(word.len());
    let (number, unit) = word.split_at(split);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let is_digits = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    if !is_digits(whole) || (number.contains('.') && !is_digits(fraction)) {
        return Err(format!("{} is not a duration: write a number and a unit, such as 200ms, 1.5s or 2m", quote(word)));
    }
    let nanoseconds_per_unit: u128 = match unit.to_ascii_lowercase().as_str() {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "" => return Err(format!("sleep {number} needs a unit: {number}ms, {number}s or {number}m")),
        _ => return Err(format!("unknown unit {} in sleep {word} (known: ms, s, m)", quote(unit))),
    };
    if nanoseconds_per_unit == 1_000_000 && !fraction.is_empty() {
        return Err(format!("sleep {word}: milliseconds are whole numbers (write seconds for fractions: 0.25s)"));
    }
    if fraction.len() > 9 {
        return Err(format!("sleep {word}: at most nine decimal places"));
    }
    let too_long = || format!("sleep {word} is longer than the limit of one hour");
    // Thirteen digits of minutes are already far past an hour; this also keeps the arithmetic from overflowing.
    if whole.trim_start_matches('0').len() > 12 {
        return Err(too_long());
    }
    let whole: u128 = whole.parse().expect("at most twelve significant digits");
    let fraction_value: u128 = if fraction.is_empty() { 0 } else { fraction.parse().expect("at most nine digits") };
    let nanoseconds =
        whole * nanoseconds_per_unit + fraction_value * nanoseconds_per_unit / 10u128.pow(fraction.len() as u32);
    if nanoseconds > MAX_SLEEP.as_nanos() {
        return Err(too_long());
    }
    Ok(Duration::from_nanos(nanoseconds as u64))
}

/// Space or tab (or another ASCII space such as the CR of a CRLF line end). Unicode spaces are not separators:
/// they are kept, as written, in what is sent.
fn is_space(character: char) -> bool {
    character.is_ascii_whitespace()
}

/// The first word of `text` and the rest after the whitespace that follows it.
fn first_word(text: &str) -> (&str, &str) {
    match text.find(is_space) {
        Some(end) => (&text[..end], text[end..].trim_start_matches(is_space)),
        None => (text, ""),
    }
}

/// `text` up to a trailing comment, trimmed. `text` starts just after whitespace, so a `#` first is a comment.
fn without_comment(text: &str) -> &str {
    let mut after_space = true;
    for (index, character) in text.char_indices() {
        if character == '#' && after_space {
            return text[..index].trim_end_matches(is_space);
        }
        after_space = is_space(character);
    }
    text.trim_end_matches(is_space)
}

/// Check that only whitespace or a comment follows a closing quote or slash.
fn end_of_statement(after: &str, what: &str) -> Result<(), String> {
    let rest = after.trim_start_matches(is_space);
    let separated = rest.len() < after.len();
    if rest.is_empty() || (separated && rest.starts_with('#')) {
        return Ok(());
    }
    Err(format!("unexpected text after {what}: {} (a comment starts with ` #`)", quote(rest)))
}

/// Script text quoted for an error message: control characters escaped, long text cut.
fn quote(text: &str) -> String {
    format!("{:?}", shorten(text))
}

/// Script text shown as it is but for control characters, which are escaped (`\u{1b}`).
fn visible(text: &str) -> String {
    text.chars()
        .map(
            |character| {
                if character.is_control() {
                    character.escape_debug().to_string()
                } else {
                    character.to_string()
                }
            },
        )
        .collect()
}

fn shorten(text: &str) -> String {
    const MOST: usize = 40;
    match text.char_indices().nth(MOST) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statements of a script that connects first (so the "never connects" rule stays out of the way).
    fn statements(body: &str) -> Vec<Statement> {
        let script = parse(&format!("connect\n{body}")).unwrap_or_else(|error| panic!("{body:?}: {error}"));
        script.lines.into_iter().skip(1).map(|line| line.statement).collect()
    }

    fn only(body: &str) -> Statement {
        let mut statements = statements(body);
        assert_eq!(statements.len(), 1, "{body:?}");
        statements.remove(0)
    }

    /// The error for `body`, which is on line 2 (after `connect`).
    fn error(body: &str) -> String {
        let error = parse(&format!("connect\n{body}")).expect_err(body);
        assert_eq!(error.line, 2, "{body:?}: {error}");
        error.message
    }

    fn expectation(body: &str) -> Expectation {
        match only(body) {
            Statement::Expect(expectation) => expectation,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn connect_plain_and_tls() {
        assert_eq!(only("connect"), Statement::Connect { tls: false });
        assert_eq!(only("connect tls"), Statement::Connect { tls: true });
        assert_eq!(only("CONNECT Tls   # implicit TLS"), Statement::Connect { tls: true });
    }

    #[test]
    fn send_keeps_the_command_verbatim() {
        assert_eq!(only("send EHLO client.example.test"), Statement::Send("EHLO client.example.test".into()));
        assert_eq!(only("send   MAIL  FROM:<a@x.test>\t  "), Statement::Send("MAIL  FROM:<a@x.test>".into()));
        // A `#` with no whitespace before it is part of the command.
        assert_eq!(only("send RCPT TO:<a#b@x.test>"), Statement::Send("RCPT TO:<a#b@x.test>".into()));
        assert_eq!(only("send NOOP # keep alive"), Statement::Send("NOOP".into()));
        assert_eq!(only("send caf\u{e9}\u{a0}"), Statement::Send("caf\u{e9}\u{a0}".into()));
    }

    #[test]
    fn send_raw_and_data_raw_take_exact_bytes() {
        assert_eq!(
            only(r#"send-raw "RCPT TO:<b@example.test>\r\nDATA\r\n"   # pipelined"#),
            Statement::SendRaw(b"RCPT TO:<b@example.test>\r\nDATA\r\n".to_vec())
        );
        assert_eq!(
            only(r#"data-raw "Subject: x\r\n\r\nhi\r\n.\r\n""#),
            Statement::DataRaw(b"Subject: x\r\n\r\nhi\r\n.\r\n".to_vec())
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(
            only(r#"send-raw "\r\n\t\0\\\"\x00\x7f\xFF\x41 #é""#),
            Statement::SendRaw(b"\r\n\t\0\\\"\x00\x7f\xffA #\xc3\xa9".to_vec())
        );
    }

    #[test]
    fn expect_codes() {
        assert_eq!(expectation("expect 250").code, CodePattern::Exact(250));
        assert_eq!(expectation("expect 2xx").code, CodePattern::Class(2));
        assert_eq!(expectation("expect 5XX").code, CodePattern::Class(5));
        assert_eq!(expectation("expect 25x").code, CodePattern::Tens(2, 5));
        assert_eq!(expectation("expect 354 # go ahead").text.map(|regex| regex.to_string()), None);
        for (pattern, shown) in [("250", "250"), ("2xx", "2xx"), ("2XX", "2xx"), ("45x", "45x")] {
            assert_eq!(expectation(&format!("expect {pattern}")).code.to_string(), shown);
        }
    }

    #[test]
    fn code_patterns_match() {
        let exact = CodePattern::Exact(250);
        assert!(exact.matches(250) && !exact.matches(251));
        let class = CodePattern::Class(2);
        assert!(class.matches(200) && class.matches(299) && !class.matches(300) && !class.matches(199));
        let tens = CodePattern::Tens(2, 5);
        assert!(tens.matches(250) && tens.matches(259) && !tens.matches(260) && !tens.matches(350));
    }

    #[test]
    fn expect_with_a_regex() {
        let expectation = expectation("expect 250 /PIPELINING/   # the server pipelines");
        assert_eq!(expectation.text.as_ref().map(Regex::as_str), Some("PIPELINING"));
        let ehlo = "mx.example.test\nPIPELINING\nSIZE 10240000";
        assert!(expectation.matches(250, ehlo));
        assert!(!expectation.matches(250, "mx.example.test\nSIZE 1"));
        assert!(!expectation.matches(251, ehlo));
        // `^` and `$` are a line's start and end; the code is not part of the text.
        let anchored = self::expectation("expect 2xx /^SIZE \\d+$/");
        assert!(anchored.matches(250, ehlo));
        assert!(!anchored.matches(250, "SIZE 10 and more"));
        // `\/` is a slash; a `#` inside the regex is part of it; other escapes are the regex's own.
        let slashes = self::expectation(r"expect 550 /a\/b #\d\\/");
        assert_eq!(slashes.text.as_ref().map(Regex::as_str), Some(r"a/b #\d\\"));
        assert!(slashes.matches(550, r"see a/b #7\ here"));
        // Without a regex, any text.
        assert!(self::expectation("expect 221").matches(221, "anything"));
    }

    #[test]
    fn starttls_and_expect_close() {
        assert_eq!(statements("starttls\nexpect-close # bye"), vec![Statement::StartTls, Statement::ExpectClose]);
    }

    #[test]
    fn auth_mechanisms_and_secret_sources() {
        assert_eq!(
            only("auth plain bob env:POSTIE_PASSWORD"),
            Statement::Auth {
                mechanism: AuthMechanism::Plain,
                user: "bob".into(),
                secret: SecretSource::Env("POSTIE_PASSWORD".into())
            }
        );
        assert_eq!(
            only("AUTH Cram-MD5 alice@example.test FILE:/run/secrets/smtp # from the secret store"),
            Statement::Auth {
                mechanism: AuthMechanism::CramMd5,
                user: "alice@example.test".into(),
                secret: SecretSource::File("/run/secrets/smtp".into())
            }
        );
        let Statement::Auth { mechanism, .. } = only("auth LOGIN bob env:_x1") else { panic!() };
        assert_eq!((mechanism, mechanism.name()), (AuthMechanism::Login, "LOGIN"));
    }

    #[test]
    fn data_takes_the_rest_of_the_line_as_a_path() {
        assert_eq!(only("data message.eml"), Statement::Data("message.eml".into()));
        assert_eq!(only("data  my messages/one.eml  # the first"), Statement::Data("my messages/one.eml".into()));
    }

    #[test]
    fn sleep_durations() {
        assert_eq!(only("sleep 200ms"), Statement::Sleep(Duration::from_millis(200)));
        assert_eq!(only("sleep 1.5s"), Statement::Sleep(Duration::from_millis(1500)));
        assert_eq!(only("sleep 0.1s"), Statement::Sleep(Duration::from_millis(100)));
        assert_eq!(only("sleep 2m # a slow client"), Statement::Sleep(Duration::from_secs(120)));
        assert_eq!(only("sleep 0.5M"), Statement::Sleep(Duration::from_secs(30)));
        assert_eq!(only("sleep 60m"), Statement::Sleep(MAX_SLEEP));
        assert_eq!(only("sleep 3600S"), Statement::Sleep(MAX_SLEEP));
        assert_eq!(only("sleep 0ms"), Statement::Sleep(Duration::ZERO));
    }

    #[test]
    fn comments_blank_lines_and_whitespace() {
        let script = parse("# a test\n\n   # indented comment\n\t connect \t\n  \nsend NOOP#not a comment\n").unwrap();
        let numbered: Vec<(usize, Statement)> =
            script.lines.into_iter().map(|line| (line.number, line.statement)).collect();
        assert_eq!(
            numbered,
            vec![(4, Statement::Connect { tls: false }), (6, Statement::Send("NOOP#not a comment".into()))]
        );
    }

    #[test]
    fn crlf_source_and_byte_order_mark() {
        let script =
            parse("\u{feff}connect\r\nsend EHLO x.test\r\n\r\nexpect 250 /OK$/\r\nsend-raw \"a\"\r\n").unwrap();
        let statements: Vec<Statement> = script.lines.iter().map(|line| line.statement.clone()).collect();
        assert_eq!(statements[0], Statement::Connect { tls: false });
        assert_eq!(statements[1], Statement::Send("EHLO x.test".into()));
        assert_eq!(script.lines[2].number, 4);
        assert!(matches!(&statements[2], Statement::Expect(expectation) if expectation.matches(250, "all OK")));
        assert_eq!(statements[3], Statement::SendRaw(b"a".to_vec()));
        // A CR inside a send line is not a line ending.
        assert_eq!(
            parse("connect\r\nsend A\rB\r\n").unwrap_err().to_string(),
            "line 2: the send command contains a CR: use send-raw to send exact bytes"
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let statements = statements(
            "SEND noop\nSend-Raw \"x\"\nEXPECT 250\nStartTLS\nData m.eml\nDATA-RAW \"y\"\nSleep 1MS\nExpect-Close",
        );
        let keywords: Vec<&str> = statements.iter().map(Statement::keyword).collect();
        assert_eq!(keywords, ["send", "send-raw", "expect", "starttls", "data", "data-raw", "sleep", "expect-close"]);
        // Arguments keep their case.
        assert_eq!(statements[0], Statement::Send("noop".into()));
    }

    #[test]
    fn unknown_statement_lists_the_known_ones() {
        let unknown = parse("connect\n\n# note\nexpect 220\nsend EHLO x\n\nsned QUIT\n").unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "line 7: unknown statement \"sned\" (known: connect, expect, send, send-raw, starttls, auth, data, \
             data-raw, sleep, expect-close)"
        );
        assert!(error("connect#tls").starts_with("unknown statement \"connect#tls\""));
    }

    #[test]
    fn a_script_must_connect() {
        let error = parse("# nothing\nsleep 1s\nsend QUIT\n").unwrap_err();
        assert_eq!(error, ParseError { line: 0, message: "the script never connects: add `connect` first".into() });
        assert_eq!(error.to_string(), "the script never connects: add `connect` first");
        assert_eq!(parse("").unwrap_err().line, 0);
        // No other ordering rule: a script may do things before it connects.
        let script = parse("sleep 1s\nconnect\nexpect 220").unwrap();
        assert_eq!(script.lines[1], Line { number: 2, statement: Statement::Connect { tls: false } });
    }

    #[test]
    fn errors_implement_std_error() {
        let error: Box<dyn std::error::Error> = Box::new(parse("connect\nstarttls now").unwrap_err());
        assert_eq!(error.to_string(), "line 2: starttls takes no arguments, found \"now\"");
    }

    #[test]
    fn malformed_connect() {
        assert_eq!(error("connect ssl"), "connect takes nothing or `tls`, not \"ssl\"");
        assert_eq!(error("connect tls now"), "connect takes nothing or `tls`, not \"tls now\"");
    }

    #[test]
    fn malformed_send() {
        assert_eq!(error("send"), "send needs a command, such as `send EHLO client.example.test`");
        assert_eq!(error("send   # nothing"), "send needs a command, such as `send EHLO client.example.test`");
        assert_eq!(error("send A\0B"), "the send command contains a NUL: use send-raw to send exact bytes");
    }

    #[test]
    fn malformed_raw_strings() {
        let cases = [
            ("send-raw", "send-raw needs its bytes in double quotes, such as `send-raw \"QUIT\\r\\n\"`"),
            ("send-raw QUIT", "send-raw needs its bytes in double quotes, such as `send-raw \"QUIT\\r\\n\"`"),
            (r#"send-raw """#, "the send-raw string is empty: give at least one byte"),
            (r#"data-raw "abc"#, "the data-raw string has no closing quote (write `\\\"` for a quote inside it)"),
            (r#"send-raw "abc\"#, "the send-raw string has no closing quote (write `\\\"` for a quote inside it)"),
            (
                r#"send-raw "a\qb""#,
                "unknown escape `\\q` in the send-raw string (known: \\r \\n \\t \\0 \\\\ \\\" \\xNN)",
            ),
            (r#"send-raw "\x4""#, "`\\x` in the send-raw string needs two hex digits, as in `\\x0d`; found `\\x4`"),
            (r#"send-raw "\x0\n""#, "`\\x` in the send-raw string needs two hex digits, as in `\\x0d`; found `\\x0\\`"),
            (
                "send-raw \"\\\u{1b}\"",
                "unknown escape `\\\\u{1b}` in the send-raw string (known: \\r \\n \\t \\0 \\\\ \\\" \\xNN)",
            ),
            (r#"send-raw "\'""#, "unknown escape `\\'` in the send-raw string (known: \\r \\n \\t \\0 \\\\ \\\" \\xNN)"),
            (r#"data-raw "\xg0""#, "`\\x` in the data-raw string needs two hex digits, as in `\\x0d`; found `\\xg0`"),
            (r#"send-raw "\x"#, "`\\x` in the send-raw string needs two hex digits, as in `\\x0d`; found `\\x`"),
            (
                r#"send-raw "QUIT\r\n" extra"#,
                "unexpected text after the closing quote of the send-raw string: \"extra\" (a comment starts with ` #`)",
            ),
            (
                r##"send-raw "QUIT\r\n"#no space"##,
                "unexpected text after the closing quote of the send-raw string: \"#no space\" (a comment starts with ` #`)",
            ),
        ];
        for (line, message) in cases {
            assert_eq!(error(line), message, "{line}");
        }
    }

    #[test]
    fn malformed_expect() {
        let cases = [
            ("expect", "expect needs a reply code, such as `expect 250`, `expect 2xx` or `expect 25x`"),
            ("expect # code?", "expect needs a reply code, such as `expect 250`, `expect 2xx` or `expect 25x`"),
            ("expect 25", "\"25\" is not a reply code: write three digits (`250`), a class (`2xx`) or a class and its second digit (`25x`)"),
            ("expect 2500", "\"2500\" is not a reply code: write three digits (`250`), a class (`2xx`) or a class and its second digit (`25x`)"),
            ("expect 2x0", "\"2x0\" is not a reply code: write three digits (`250`), a class (`2xx`) or a class and its second digit (`25x`)"),
            ("expect ok", "\"ok\" is not a reply code: write three digits (`250`), a class (`2xx`) or a class and its second digit (`25x`)"),
            ("expect 150", "reply code `150` starts with 1: SMTP reply codes start with 2, 3, 4 or 5"),
            ("expect 6xx", "reply code `6xx` starts with 6: SMTP reply codes start with 2, 3, 4 or 5"),
            ("expect 260", "reply code `260` has second digit 6: in SMTP reply codes it is 0 to 5 (RFC 5321 §4.2)"),
            ("expect 29x", "reply code `29x` has second digit 9: in SMTP reply codes it is 0 to 5 (RFC 5321 §4.2)"),
            ("expect 250 OK", "after the code, expect takes a regex between slashes, such as `expect 250 /PIPELINING/`; found \"OK\""),
            ("expect 250 /OK", "the regex has no closing `/` (write `\\/` for a slash inside it)"),
            ("expect 250 /OK\\/", "the regex has no closing `/` (write `\\/` for a slash inside it)"),
            ("expect 250 //", "the regex between the slashes is empty: leave it out to accept any text"),
            ("expect 250 /OK/i", "unexpected text after the closing `/` of the regex: \"i\" (a comment starts with ` #`)"),
            ("expect 250 /(OK/", "bad regex /(OK/: unclosed group"),
            ("expect 250 /a{2,1}/", "bad regex /a{2,1}/: invalid repetition count range, the start must be <= the end"),
        ];
        for (line, message) in cases {
            assert_eq!(error(line), message, "{line}");
        }
    }

    #[test]
    fn malformed_auth() {
        let three_words = "auth needs three words, MECHANISM USER SOURCE, such as `auth plain alice env:PASSWORD`";
        assert_eq!(error("auth plain bob"), format!("{three_words}; found 2"));
        assert_eq!(error("auth plain bob env:P extra"), format!("{three_words}; found 4"));
        assert_eq!(
            error("auth xoauth2 bob env:TOKEN"),
            "unknown auth mechanism \"xoauth2\" (known: plain, login, cram-md5)"
        );
        let literal = "the third word of auth must be `env:NAME` or `file:PATH`: secrets come from the environment or \
                       a file, so they never sit in a script";
        // The would-be password is not repeated in the error.
        assert_eq!(error("auth plain bob hunter2"), literal);
        assert_eq!(error("auth plain bob pass:hunter2"), literal);
        let name = "the name after `env:` must be letters, digits and `_`, not starting with a digit, such as \
                    `env:POSTIE_PASSWORD`";
        for source in ["env:", "env:1PASS", "env:PASS-WORD", "env:p@ss"] {
            assert_eq!(error(&format!("auth login bob {source}")), name, "{source}");
        }
        assert_eq!(error("auth login bob file:"), "`file:` needs a path, such as `file:password.txt`");
        assert_eq!(error("auth plain b\u{1}ob env:P"), "the auth user contains a control character");
    }

    #[test]
    fn malformed_data() {
        let needs = "data needs a message file, such as `data message.eml` (or `data-raw \"...\"` for exact bytes)";
        assert_eq!(error("data"), needs);
        assert_eq!(error("data # which?"), needs);
        assert_eq!(
            error("data \"Subject: x\""),
            "data takes a file name without quotes; to send the bytes in quotes, use `data-raw`"
        );
    }

    #[test]
    fn malformed_sleep() {
        let cases = [
            ("sleep", "sleep needs a duration, such as `sleep 200ms`, `sleep 1.5s` or `sleep 2m`"),
            ("sleep 1s 2s", "sleep takes one duration, such as `sleep 200ms`"),
            ("sleep 200", "sleep 200 needs a unit: 200ms, 200s or 200m"),
            ("sleep 1.5", "sleep 1.5 needs a unit: 1.5ms, 1.5s or 1.5m"),
            ("sleep 5h", "unknown unit \"h\" in sleep 5h (known: ms, s, m)"),
            ("sleep 5 s", "sleep takes one duration, such as `sleep 200ms`"),
            ("sleep ms", "\"ms\" is not a duration: write a number and a unit, such as 200ms, 1.5s or 2m"),
            ("sleep -1s", "\"-1s\" is not a duration: write a number and a unit, such as 200ms, 1.5s or 2m"),
            ("sleep .5s", "\".5s\" is not a duration: write a number and a unit, such as 200ms, 1.5s or 2m"),
            ("sleep 1.s", "\"1.s\" is not a duration: write a number and a unit, such as 200ms, 1.5s or 2m"),
            ("sleep 1.2.3s", "\"1.2.3s\" is not a duration: write a number and a unit, such as 200ms, 1.5s or 2m"),
            ("sleep 1e3s", "unknown unit \"e3s\" in sleep 1e3s (known: ms, s, m)"),
            ("sleep 1.5ms", "sleep 1.5ms: milliseconds are whole numbers (write seconds for fractions: 0.25s)"),
            ("sleep 0.0000000001s", "sleep 0.0000000001s: at most nine decimal places"),
            ("sleep 61m", "sleep 61m is longer than the limit of one hour"),
            ("sleep 3600.000000001s", "sleep 3600.000000001s is longer than the limit of one hour"),
            ("sleep 99999999999999999999999m", "sleep 99999999999999999999999m is longer than the limit of one hour"),
        ];
        for (line, message) in cases {
            assert_eq!(error(line), message, "{line}");
        }
    }

    #[test]
    fn statements_without_arguments_refuse_them() {
        assert_eq!(error("starttls now"), "starttls takes no arguments, found \"now\"");
        assert_eq!(error("expect-close 221"), "expect-close takes no arguments, found \"221\"");
    }

    #[test]
    fn input_is_bounded() {
        let long_line = format!("connect\nsend {}\n", "x".repeat(MAX_LINE));
        assert_eq!(
            parse(&long_line).unwrap_err().to_string(),
            format!("line 2: the line is {} bytes, over the limit of 65536 (64 KiB)", MAX_LINE + 5)
        );
        let fits = format!("connect\nsend {}\n", "x".repeat(MAX_LINE - 5));
        assert!(parse(&fits).is_ok());
        let large = format!("connect\n{}", "# padding\n".repeat(MAX_SCRIPT / 10 + 1));
        let error = parse(&large).unwrap_err();
        assert_eq!(error.line, 0);
        assert!(error.message.ends_with("over the limit of 4194304 (4 MiB)"), "{error}");
    }

    #[test]
    fn errors_quote_control_characters_and_cut_long_text() {
        assert_eq!(error("\u{1b}[31mx"), format!("unknown statement \"\\u{{1b}}[31mx\" (known: {KEYWORDS})"));
        let long = "y".repeat(100);
        assert_eq!(
            error(&format!("connect {long}")),
            format!("connect takes nothing or `tls`, not \"{}…\"", &long[..40])
        );
    }

    /// The example scripts in `examples/scripts/` parse, use every statement between them, and every message
    /// file they send is there, next to them.
    #[test]
    fn example_scripts_parse() {
        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scripts");
        let mut scripts = Vec::new();
        for entry in std::fs::read_dir(&directory).expect("examples/scripts exists") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|extension| extension == "postie") {
                scripts.push(path);
            }
        }
        assert!(scripts.len() >= 2, "expected example scripts in {}", directory.display());
        let mut used = std::collections::BTreeSet::new();
        for path in &scripts {
            let source = std::fs::read_to_string(path).expect("a readable script");
            let script = parse(&source).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            for line in script.lines {
                used.insert(line.statement.keyword());
                if let Statement::Data(message) = &line.statement {
                    assert!(directory.join(message).is_file(), "{}: {} is missing", path.display(), message.display());
                }
            }
        }
        let every: std::collections::BTreeSet<&str> = KEYWORDS.split(", ").collect();
        assert_eq!(used, every, "the examples should use every statement between them");
    }

    /// Every whole script in `docs/script.md` (a fenced block with a `connect` line) parses: the reference
    /// shows nothing the parser refuses.
    #[test]
    fn documented_scripts_parse() {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/script.md");
        let page = std::fs::read_to_string(&page).expect("docs/script.md exists");
        let blocks: Vec<&str> = page.split("```").skip(1).step_by(2).collect();
        let scripts: Vec<&str> =
            blocks.into_iter().filter(|block| block.lines().any(|line| line.starts_with("connect"))).collect();
        assert!(scripts.len() >= 4, "expected the scripts of docs/script.md, found {}", scripts.len());
        for script in scripts {
            parse(script).unwrap_or_else(|error| panic!("{error} in docs/script.md:\n{script}"));
        }
    }
}
