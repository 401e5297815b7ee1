//! `perfgate validate F...`: check scenario files without running anything.

use super::{CliError, EXIT_OK};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

pub fn run(args: ValidateArgs) -> Result<i32, CliError> {
    let mut failed = 0;
    for path in &args.files {
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
            args.files.len()
        )));
    }
    Ok(EXIT_OK)
}
