//! The `postie` binary: parse, run, turn the outcome into one line on stderr and an exit code.

use std::process::ExitCode;

use clap::error::ErrorKind;
use postie::error::{exit_for, Exit};
use postie::sanitize::escape;

fn main() -> ExitCode {
    let cli = match postie::cli::parse() {
        Ok(cli) => cli,
        Err(postie::cli::Failure::Clap(error)) => return usage_error(&error),
        Err(postie::cli::Failure::Usage(problem)) => {
            eprintln!("postie: error: {}", escape(problem.as_bytes()).replace("\\\\", "\\"));
            return ExitCode::from(Exit::Usage.code());
        }
        Err(postie::cli::Failure::Config(problem)) => {
            eprintln!("postie: error: {}", escape(problem.as_bytes()).replace("\\\\", "\\"));
            return ExitCode::from(Exit::Config.code());
        }
    };
    postie::scrub::hide_argument_values(&["--password"]);
    match postie::app::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            // `{:#}` joins the cause chain with ": " on one line; red on a terminal unless NO_COLOR. The line can
            // hold a server's reply or a certificate's names: escaped here, once, like every rendered line.
            let red =
                if stderr_is_colour_terminal() { anstyle::AnsiColor::Red.on_default() } else { anstyle::Style::new() };
            // Flag values are quoted with `{:?}` already (their backslashes are escapes), so only what is still
            // raw gets escaped: backslashes are kept as written.
            let line = escape(format!("{error:#}").as_bytes()).replace("\\\\", "\\");
            eprintln!("{}postie: error: {line}{}", red.render(), red.render_reset());
            ExitCode::from(exit_for(&error).code())
        }
    }
}

fn stderr_is_colour_terminal() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// clap's own rendering, whole but for the usage synopsis: the valid values, "did you mean", the missing
/// argument. The usage exit code (64, not clap's 2).
fn usage_error(error: &clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        let code = if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            Exit::Usage
        } else {
            Exit::Success
        };
        return ExitCode::from(code.code());
    }
    if error.kind() == ErrorKind::InvalidUtf8 {
        eprintln!("postie: error: {} (see --help)", invalid_utf8_argument());
        return ExitCode::from(Exit::Usage.code());
    }
    let rendered = error.render().to_string();
    let mut lines: Vec<&str> = rendered
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect();
    // The usage synopsis repeats --help; the rest is clap's help and is kept.
    if let Some(at) = lines.iter().position(|l| l.starts_with("Usage:")) {
        let end = lines[at + 1..].iter().position(|l| !l.starts_with("  ")).map_or(lines.len(), |n| at + 1 + n);
        lines.drain(at..end);
    }
    let mut first = lines.first().copied().unwrap_or("error: invalid arguments").to_string();
    let mut rest = lines.iter().skip(1).copied().collect::<Vec<_>>();
    // "the following required arguments were not provided:" and its list make one sentence.
    if first.ends_with(':') {
        let (list, after): (Vec<&str>, Vec<&str>) =
            rest.iter().partition(|l| l.starts_with("  ") && !l.contains("tip:"));
        first = format!("{first} {}", list.iter().map(|l| l.trim()).collect::<Vec<_>>().join(", "));
        rest = after;
    }
    eprintln!("postie: {first} (see --help)");
    for line in rest {
        eprintln!("postie: {}", line.trim_start());
    }
    ExitCode::from(Exit::Usage.code())
}

/// Which argument is not valid UTF-8, and after which flag (clap only says that one is).
fn invalid_utf8_argument() -> String {
    let arguments: Vec<std::ffi::OsString> = std::env::args_os().collect();
    for (index, argument) in arguments.iter().enumerate().skip(1) {
        if argument.to_str().is_none() {
            let shown = escape(argument.as_encoded_bytes());
            return match arguments[index - 1].to_str().filter(|flag| flag.starts_with('-')) {
                Some(flag) => format!("the value of {flag} (\"{shown}\") is not valid UTF-8"),
                None => format!("argument {index} (\"{shown}\") is not valid UTF-8"),
            };
        }
    }
    "an argument is not valid UTF-8".into()
}
