//! The `postie` binary: parse, run, turn the outcome into one line on stderr and an exit code.

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use postie::cli::Cli;
use postie::error::{exit_for, Exit};
use postie::sanitize::escape;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
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
