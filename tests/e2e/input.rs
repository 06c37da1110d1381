//! Every bad input gets one clear line on stderr and its exit code, before any connection is made.

use std::fs;

use crate::harness::{postie, Tripwire};

struct Case {
    args: Vec<String>,
    stderr: String,
    code: i32,
}

fn case(args: &[&str], stderr: &str, code: i32) -> Case {
    Case { args: args.iter().map(|a| a.to_string()).collect(), stderr: format!("{stderr}\n"), code }
}

#[test]
fn bad_input_is_refused_before_connecting() {
    let dir = crate::harness::scratch_dir("input");
    fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.eml");
    fs::write(&empty, b"").unwrap();
    let empty = empty.to_str().unwrap();
    let dir_path = dir.to_str().unwrap();
    let cases = [
        case(&["--to", "bob"], "postie: error: invalid --to address \"bob\": it has no @", 64),
        case(&["bob"], "postie: error: invalid recipient \"bob\": it has no @", 64),
        case(&["--to", "bob smith@example.test"], "postie: error: invalid --to address \"bob smith@example.test\": it contains a space", 64),
        case(
            &["--to", "bob@example.test\r\nRCPT TO:<evil@example.test>"],
            "postie: error: invalid --to address \"bob@example.test\\r\\nRCPT TO:<evil@example.test>\": it contains a line \
             break (CR or LF), which would inject a command or header",
            64,
        ),
        case(&["--to", "b@example.test", "--cc", "c@"], "postie: error: invalid --cc address \"c@\": no domain after the @", 64),
        case(&["--to", "b@example.test", "--bcc", "@x.test"], "postie: error: invalid --bcc address \"@x.test\": nothing before the @", 64),
        case(
            &["--to", "b@example.test", "--from", "a@example.test\nBcc: evil@example.test"],
            "postie: error: invalid --from address \"a@example.test\\nBcc: evil@example.test\": it contains a line break \
             (CR or LF), which would inject a command or header",
            64,
        ),
        case(
            &["--to", "b@example.test", "--subject", "hi\r\nBcc: evil@example.test"],
            "postie: error: invalid --subject \"hi\\r\\nBcc: evil@example.test\": it contains a line break (CR or LF), \
             which would inject a header",
            64,
        ),
        case(
            &["--to", "b@example.test", "--header", "X-Note: a\nBcc: evil@example.test"],
            "postie: error: invalid --header \"X-Note: a\\nBcc: evil@example.test\": it contains a line break (CR or LF), \
             which would inject a header",
            64,
        ),
        case(
            &["--to", "b@example.test", "--header", "X-Note"],
            "postie: error: invalid --header \"X-Note\": it has no colon; write it as 'Name: value'",
            64,
        ),
        case(
            &["--to", "b@example.test", "--helo", "x\r\nMAIL FROM:<a@example.test>"],
            "postie: error: invalid --helo \"x\\r\\nMAIL FROM:<a@example.test>\": it contains a line break (CR or LF), \
             which would inject a command",
            64,
        ),
        case(&["--subject", "x"], "postie: error: no recipient: give at least one with --to, --cc, --bcc or as an argument", 64),
        case(
            &["--to", "b@example.test", "--data", "/nonexistent/message.eml"],
            "postie: error: cannot read /nonexistent/message.eml: No such file or directory",
            66,
        ),
        case(
            &["--to", "b@example.test", "--body-file", "/nonexistent/body.txt"],
            "postie: error: cannot read /nonexistent/body.txt: No such file or directory",
            66,
        ),
        case(&["--to", "b@example.test", "--data", dir_path], &format!("postie: error: cannot read {dir_path}: Is a directory"), 66),
        case(&["--to", "b@example.test", "--data", empty], &format!("postie: error: the message in {empty} is empty"), 65),
        case(
            &["--to", "b@example.test", "--data", empty, "--subject", "x"],
            "postie: error: the argument '--data <PATH>' cannot be used with '--subject <TEXT>' (see --help)",
            64,
        ),
        case(
            &["--to", "b@example.test", "--body", "x", "--body-file", empty],
            "postie: error: the argument '--body <TEXT>' cannot be used with '--body-file <PATH>' (see --help)",
            64,
        ),
        case(
            &["--to", "b@example.test", "--port", "0"],
            "postie: error: invalid value '0' for '--port <PORT>': 0 is not in 1..=65535 (see --help)",
            64,
        ),
        case(
            &["--to", "b@example.test", "--timeout", "0"],
            "postie: error: invalid value '0' for '--timeout <SECONDS>': it must be more than 0 and at most 86400 seconds (see --help)",
            64,
        ),
        // clap's own help is kept whole: the tip, the valid values, "did you mean".
        case(
            &["--to", "b@example.test", "--nonsense"],
            "postie: error: unexpected argument '--nonsense' found (see --help)\npostie: tip: to pass '--nonsense' as a value, use '-- --nonsense'",
            64,
        ),
        case(
            &["--to", "b@example.test", "--tls", "maybe"],
            "postie: error: invalid value 'maybe' for '--tls <MODE>' (see --help)\npostie: [possible values: auto, required, none, implicit, dane, mta-sts]",
            64,
        ),
        case(
            &["--to", "b@example.test", "--tls-cert", "/x.pem"],
            "postie: error: the following required arguments were not provided: --tls-key <PEM> (see --help)",
            64,
        ),
    ];
    for case in cases {
        let tripwire = Tripwire::new();
        let mut args = vec!["send".to_string(), "--server".into(), tripwire.server()];
        args.extend(case.args.iter().cloned());
        let run = postie(&args).run();
        assert_eq!((run.stderr(), run.code()), (case.stderr.clone(), case.code), "{run:?}");
        assert_eq!(run.stdout(), "", "{run:?}");
        tripwire.assert_untouched();
    }
}

#[test]
fn bad_server_values() {
    let cases = [
        ("host:99999", "invalid --server \"host:99999\": \"99999\" is not a port number (1-65535)"),
        ("", "invalid --server \"\": it is empty"),
        ("[::1", "invalid --server \"[::1\": a '[' without a closing ']'"),
        ("bad host", "invalid --server \"bad host\": it contains a space or control character"),
    ];
    for (server, message) in cases {
        let run = postie(["send", "--server", server, "--to", "b@example.test"]).run().expect_code(64);
        assert_eq!(run.stderr(), format!("postie: error: {message}\n"));
    }
}
