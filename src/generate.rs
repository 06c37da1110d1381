//! Shell completions and man pages, generated from the clap definition so they never drift from it.
//! `postie generate --out .` rewrites completions/ and man/; a test fails when the committed files differ.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Every generated file: its path under the project directory and its contents.
pub fn files() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    // Completions offer what a user may type: the hidden `generate` is left out.
    let full = Cli::command();
    let completion_command = without_hidden(full.clone());
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Elvish, Shell::PowerShell] {
        let mut command = completion_command.clone();
        let mut contents = Vec::new();
        clap_complete::generate(shell, &mut command, "postie", &mut contents);
        let name = match shell {
            Shell::Bash => "postie.bash".to_string(),
            Shell::Zsh => "_postie".to_string(),
            Shell::Fish => "postie.fish".to_string(),
            Shell::Elvish => "postie.elv".to_string(),
            Shell::PowerShell => "_postie.ps1".to_string(),
            other => format!("postie.{other}"),
        };
        files.push((format!("completions/{name}"), contents));
    }
    let visible: Vec<String> =
        full.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| format!("postie-{}", s.get_name())).collect();
    files.push(("man/postie.1".to_string(), page(&full, None, &visible)?));
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("postie-{}", sub.get_name());
        let examples = match sub.get_name() {
            "send" => Some(crate::cli::SEND_EXAMPLES),
            "mx" => Some(crate::cli::MX_EXAMPLES),
            "probe" => Some(crate::cli::PROBE_EXAMPLES),
            _ => None,
        };
        let others: Vec<String> =
            std::iter::once("postie".to_string()).chain(visible.iter().filter(|v| **v != name).cloned()).collect();
        files.push((format!("man/{name}.1"), page(&sub.clone().name(name.clone()), examples, &others)?));
        // `postie oauth login`: a page of its own, postie-oauth-login(1).
        for nested in sub.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let nested_name = format!("{name}-{}", nested.get_name());
            let examples = (nested_name == "postie-oauth-login").then_some(crate::cli::OAUTH_EXAMPLES);
            let see_also = [name.clone(), "postie".to_string()];
            let page = page(&nested.clone().name(nested_name.clone()), examples, &see_also)?;
            files.push((format!("man/{nested_name}.1"), page));
        }
    }
    Ok(files)
}

/// The command without its hidden subcommands (and without clap's `help` subcommand, which has no page).
fn without_hidden(full: clap::Command) -> clap::Command {
    let subcommands: Vec<clap::Command> = full.get_subcommands().filter(|s| !s.is_hide_set()).cloned().collect();
    let mut command = clap::Command::new(full.get_name().to_string()).disable_help_subcommand(true);
    if let Some(about) = full.get_about() {
        command = command.about(about.clone());
    }
    for argument in full.get_arguments() {
        command = command.arg(argument.clone());
    }
    command.subcommands(subcommands)
}

/// One man page: name, synopsis, description, options, then what `--help` puts after them, as sections of
/// their own: EXAMPLES, EXIT STATUS, and for send the JSON OUTPUT schema, preformatted so it stays readable;
/// SEE ALSO lists the other pages (never a page that does not exist, such as postie-help).
fn page(command: &clap::Command, examples: Option<&str>, see_also: &[String]) -> anyhow::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out).context("rendering the man page")?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if command.has_subcommands() {
        let _ = writeln!(out, ".SH COMMANDS");
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            let _ = writeln!(out, ".TP\n\\fB{}-{}\\fR(1)\n{}", command.get_name(), sub.get_name(), roff_text(&about));
        }
    }
    if let Some(examples) = examples {
        section(&mut out, "EXAMPLES", examples);
    }
    let after = command.get_after_help().map(|t| t.to_string()).unwrap_or_default();
    if !after.is_empty() {
        section(
            &mut out,
            "EXIT STATUS",
            after
                .trim_start_matches("Exit codes:\n")
                .trim_start_matches("Exit codes (the worst finding over all addresses):\n"),
        );
    }
    if command.get_name() == "postie-send" {
        section(&mut out, "JSON OUTPUT", crate::cli::JSON_SCHEMA);
    }
    if let Some(version) = command.get_version() {
        let _ = writeln!(out, ".SH VERSION\nv{version}");
    }
    let _ = writeln!(out, ".SH \"SEE ALSO\"");
    let list: Vec<String> = see_also.iter().map(|page| format!("\\fB{page}\\fR(1)")).collect();
    let _ = writeln!(out, "{}", list.join(", "));
    Ok(out)
}

/// A section whose text keeps its lines and indentation.
fn section(out: &mut Vec<u8>, title: &str, text: &str) {
    let _ = writeln!(out, ".SH \"{title}\"\n.nf");
    for line in text.lines() {
        let _ = writeln!(out, "{}", roff_text(line));
    }
    let _ = writeln!(out, ".fi");
}

/// Text for roff: backslashes doubled, and a line that starts with a dot or a quote protected.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

pub fn write_all(project: &Path) -> anyhow::Result<()> {
    for (path, contents) in files()? {
        let path = project.join(path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
