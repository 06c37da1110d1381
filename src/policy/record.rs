//! The TXT record syntax that MTA-STS (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3) share: a version field
//! first, then `name=value` fields, each after a `;` with optional white space around it. Which records of a
//! name count, and that there must be exactly one, is shared too.

/// Longest text quoted in an error message; a DNS record can be long, and the start says enough.
const QUOTE_MOST: usize = 60;

/// The record among `txts` (the TXT records of one name, each one's strings already joined without spaces,
/// as both RFCs say) that carries `version`, such as `v=STSv1`; `None` if no record does.
///
/// Both RFCs discard the records that do not begin with `version;`. Here a record counts when it begins with
/// `version` followed by `;`, white space or its end, so that a broken record of this kind (`v=STSv1 id=1`)
/// is reported as broken rather than silently ignored; `v=STSv10` does not count. More than one record is an
/// error: `what` and `rfc` name the protocol and its rule in the message.
pub(super) fn select<'a>(txts: &'a [String], version: &str, what: &str, rfc: &str) -> Result<Option<&'a str>, String> {
    let mut found = txts.iter().filter(|txt| names_version(txt, version));
    let Some(first) = found.next() else {
        return Ok(None);
    };
    match found.count() {
        0 => Ok(Some(first)),
        more => Err(format!("{} {what} TXT records ({version}) where one belongs: {rfc}", count(1 + more))),
    }
}

fn names_version(txt: &str, version: &str) -> bool {
    txt.strip_prefix(version).is_some_and(|rest| rest.is_empty() || rest.starts_with([';', ' ', '\t']))
}

/// `two`, `three` … for the counts a message is likely to meet.
fn count(number: usize) -> String {
    match number {
        2 => "two".into(),
        3 => "three".into(),
        other => other.to_string(),
    }
}

/// The `name=value` fields after the version, in the record's order, duplicates kept: `value` is everything
/// after the first `=`, white space around the field removed. The field syntax here is the general one; the
/// caller checks the values of the fields it knows and calls [`check_extension`] on the others.
///
/// RFC 8461 §3.1 and RFC 8460 §3: `version 1*(*WSP ";" *WSP field) [*WSP ";" *WSP]`. White space at the very
/// end is accepted too: it changes nothing and zone files make it easy to add.
pub(super) fn fields<'a>(txt: &'a str, version: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    let Some(rest) = txt.strip_prefix(version) else {
        return Err(format!("the record does not start with {version}: {}", quote(txt)));
    };
    let Some(rest) = rest.trim_start_matches(is_space).strip_prefix(';') else {
        return Err(format!("{version} is not followed by `;` in {}", quote(txt)));
    };
    let pieces: Vec<&str> = rest.split(';').map(|piece| piece.trim_matches(is_space)).collect();
    let mut fields = Vec::new();
    for (index, piece) in pieces.iter().enumerate() {
        if piece.is_empty() {
            // Only the last piece may be empty: a `;` may end the record.
            if index + 1 == pieces.len() {
                continue;
            }
            return Err(format!("an empty field (two `;` in a row) in {}", quote(txt)));
        }
        let Some((name, value)) = piece.split_once('=') else {
            return Err(format!("the field {} has no `=`", quote(piece)));
        };
        if !is_field_name(name) {
            return Err(format!(
                "the field name {} is not 1 to 32 letters, digits, `_`, `-` or `.`, starting with a letter or digit",
                quote(name)
            ));
        }
        fields.push((name, value));
    }
    if fields.is_empty() {
        return Err(format!("no fields after {version} in {}", quote(txt)));
    }
    Ok(fields)
}

/// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`, the field names of both records and the keys of an
/// MTA-STS policy file (RFC 8461 §3.2).
pub(super) fn is_field_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|first| first.is_ascii_alphanumeric())
        && name.len() <= 32
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

/// The value of a field the caller does not know: `1*(%x21-3A / %x3C / %x3E-7E)`, printable ASCII but for
/// `=`, `;` and space. Such a field is ignored, but a record that breaks the syntax is invalid as a whole.
pub(super) fn check_extension(name: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("the field {} has an empty value", quote(name)));
    }
    match value.chars().find(|&character| !character.is_ascii_graphic() || character == '=' || character == ';') {
        Some(bad) => {
            Err(format!("the value of {name} holds {}, which this record syntax does not allow", quote_char(bad)))
        }
        None => Ok(()),
    }
}

/// WSP (RFC 5234): space or tab.
pub(super) fn is_space(character: char) -> bool {
    character == ' ' || character == '\t'
}

/// Text from the network for an error message: in double quotes, control characters escaped, shortened.
/// The message is still raw text as far as a terminal is concerned; whoever shows it escapes it.
pub(super) fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MOST) {
        Some((end, _)) => format!("{:?}…", &text[..end]),
        None => format!("{text:?}"),
    }
}

/// One character for an error message: `"x"`, or its escape (`"\u{7}"`).
pub(super) fn quote_char(character: char) -> String {
    quote(&character.to_string())
}
