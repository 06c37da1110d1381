//! `postie script`: run a dialogue written in postie's script language (docs/script.md).

use crate::cli::ScriptArgs;
use crate::error::Exit;

pub fn run(_args: &ScriptArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("postie script is not built yet")
}
