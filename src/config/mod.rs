//! The config file: `[defaults]` and `[account.NAME]` sections whose keys are the long flags' names, read from
//! TOML with the line of every value, so each problem can be named as `FILE:LINE`.
//!
//! Nothing here knows the flags themselves: `cli::layers` checks the keys against the command line's definition
//! and turns the chosen settings into flags. This module finds the file, reads it, and picks the account.

mod file;
pub mod netrc;
mod select;

pub use file::{locate, Account, Config, Setting, Value};
pub use select::{Chosen, Origin};

use std::path::{Path, PathBuf};

/// A problem with the config file, at a line when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", place(.path, *.line))]
pub struct Problem {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

fn place(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}: ", path.display()),
        None => format!("{}: ", path.display()),
    }
}
