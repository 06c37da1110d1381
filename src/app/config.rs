//! `postie config check`: the file was read and checked while the command line was parsed; this shows what it
//! came to, one setting per line with its origin.

use crate::cli::Origins;
use crate::error::{Error, Exit};

pub fn check(origins: Option<&Origins>) -> Result<Exit, Error> {
    let origins = origins.cloned().unwrap_or_default();
    let Some((path, account, by)) = &origins.file else {
        return Err(Error::Config(
            "no config file to check: give --config PATH, set $POSTIE_CONFIG, or write ~/.config/postie/config.toml"
                .into(),
        ));
    };
    println!("config: {} (valid)", path.display());
    match account {
        Some(name) => println!("account: {name} (chosen by {by})"),
        None => println!("account: none ([defaults] only; no -a, no matching from, no default-account)"),
    }
    let width = origins.rows.iter().map(|row| row.key.len()).max().unwrap_or(0);
    let value_width = origins.rows.iter().map(|row| row.value.chars().count()).max().unwrap_or(0).min(40);
    for row in &origins.rows {
        let value = crate::sanitize::escape(row.value.as_bytes());
        println!("  {:width$}  {value:value_width$}  {}", row.key, row.origin);
    }
    Ok(Exit::Success)
}
