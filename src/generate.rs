//! Shell completions and man pages, generated from the clap definition so they never drift from it.
//! `postie generate --out .` rewrites completions/ and man/; a test fails when the committed files differ.

use std::fs;
use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Every generated file: its path under the project directory and its contents.
pub fn files() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Elvish, Shell::PowerShell] {
        let mut command = Cli::command();
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
    let command = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page).context("rendering the man page")?;
    files.push(("man/postie.1".to_string(), page));
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("postie-{}", sub.get_name());
        let mut page = Vec::new();
        let sub = sub.clone().name(name.clone());
        clap_mangen::Man::new(sub).render(&mut page).context("rendering a man page")?;
        files.push((format!("man/{name}.1"), page));
    }
    Ok(files)
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
