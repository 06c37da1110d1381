//! XCLIENT (Postfix's extension, www.postfix.org/XCLIENT_README.html): an authorized client tells the server
//! to act as if another client had connected, for testing access rules. After `XCLIENT attr=value ...` the
//! server answers with a new greeting (220), and the client must EHLO again.

/// The attributes Postfix knows. Values are xtext (RFC 3461 §4): what is not printable ASCII, "+" or "="
/// goes as "+XX".
const ATTRIBUTES: &[&str] = &["ADDR", "NAME", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT"];

/// One `NAME=VALUE` as the user wrote it: the name checked and upper-cased, the value kept as given.
pub fn parse_attribute(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!("{text:?} is not NAME=VALUE (e.g. ADDR=192.0.2.7)"));
    };
    let upper = name.trim().to_ascii_uppercase();
    if !ATTRIBUTES.contains(&upper.as_str()) {
        return Err(format!("{name:?} is not an XCLIENT attribute (known: {})", ATTRIBUTES.join(", ")));
    }
    if value.is_empty() {
        return Err(format!("{upper} has no value: give one, or [UNAVAILABLE]"));
    }
    if value.contains(|c: char| c.is_control()) {
        return Err(format!("the value of {upper} contains a control character"));
    }
    Ok((upper, value.to_string()))
}

/// The command line for `attributes`.
pub fn command(attributes: &[(String, String)]) -> String {
    let mut line = String::from("XCLIENT");
    for (name, value) in attributes {
        line.push(' ');
        line.push_str(name);
        line.push('=');
        // [UNAVAILABLE] and [TEMPUNAVAIL] are the special values Postfix defines; they go as they are.
        if value == "[UNAVAILABLE]" || value == "[TEMPUNAVAIL]" {
            line.push_str(value);
        } else {
            line.push_str(&xtext(value));
        }
    }
    line
}

/// RFC 3461 §4: xtext.
fn xtext(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'!'..=b'~' if b != b'+' && b != b'=' => (b as char).to_string(),
            _ => format!("+{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_checked_and_encoded() {
        let attributes = vec![
            parse_attribute("addr=203.0.113.7").unwrap(),
            parse_attribute("NAME=forged.example.test").unwrap(),
            parse_attribute("HELO=a b+c").unwrap(),
        ];
        assert_eq!(command(&attributes), "XCLIENT ADDR=203.0.113.7 NAME=forged.example.test HELO=a+20b+2Bc");
        assert_eq!(command(&[parse_attribute("NAME=[UNAVAILABLE]").unwrap()]), "XCLIENT NAME=[UNAVAILABLE]");
    }

    #[test]
    fn malformed_attributes_say_why() {
        assert!(parse_attribute("ADDR").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_attribute("COLOR=red").unwrap_err().contains("not an XCLIENT attribute"));
        assert!(parse_attribute("ADDR=").unwrap_err().contains("no value"));
        assert!(parse_attribute("NAME=a\r\nRCPT").unwrap_err().contains("control character"));
    }
}
