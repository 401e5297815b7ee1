//! `perfgate validate F...`: check scenario files without running anything.

use super::{CliError, EXIT_OK};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files to check [default: perf.toml, here or at the repository's root].
    pub files: Vec<PathBuf>,
}

pub fn run(args: ValidateArgs) -> Result<i32, CliError> {
    let files = super::scenarios_or_default(args.files);
    if files.is_empty() {
        return Err(CliError::bad_input(anyhow::anyhow!(
            "no scenario file given and no perf.toml here; pass FILE, or write one with `perfgate init`"
        )));
    }
    let mut failed = 0;
    for path in &files {
        match crate::config::load(path) {
            Ok(file) => {
                let kinds: Vec<String> =
                    file.scenarios.iter().map(|s| format!("{} ({})", s.name, s.kind.name())).collect();
                crate::out!("{}: ok: {} scenario(s): {}\n", path.display(), file.scenarios.len(), kinds.join(", "));
            }
            Err(e) => {
                crate::note!("error: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(CliError::bad_input(anyhow::anyhow!(
            "{failed} of {} scenario file(s) invalid; fix the locations above",
            files.len()
        )));
    }
    Ok(EXIT_OK)
}
