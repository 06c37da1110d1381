//! The `postie` binary: parse, run, turn the outcome into one line on stderr and an exit code.

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use postie::cli::Cli;
use postie::error::{exit_for, Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    postie::scrub::hide_argument_values(&["--password"]);
    match postie::app::run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(error) => {
            // `{:#}` joins the cause chain with ": " on one line; red on a terminal unless NO_COLOR.
            let (red, reset) = if stderr_is_colour_terminal() { ("\x1b[31m", "\x1b[0m") } else { ("", "") };
            eprintln!("{red}postie: error: {error:#}{reset}");
            ExitCode::from(exit_for(&error).code())
        }
    }
}

fn stderr_is_colour_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// clap's own rendering, reduced to its first line, with the usage exit code (64, not clap's 2).
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
    let rendered = error.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    eprintln!("postie: {first} (see --help)");
    ExitCode::from(Exit::Usage.code())
}
