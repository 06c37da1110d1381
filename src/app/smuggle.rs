//! `postie smuggle`: which end-of-data variants a server honours.

use crate::cli::SmuggleArgs;
use crate::error::Exit;

pub fn run(_args: &SmuggleArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("postie smuggle is not built yet")
}
