//! `perfgate merge A.json B.json … --out DIR`: the shards of a CI matrix
//! (`compare --shard I/N`) as one run: results.json, report.html, brief.md
//! and findings.md, one verdict line, one exit code (DESIGN §8).

use super::{CliError, EXIT_INTERRUPTED, EXIT_OK, EXIT_REGRESSION, EXIT_RUN_FAILED};
use crate::merge::{self, Input};
use crate::report;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Each shard's results.json (its profiles/ and plans/ beside it are copied too).
    #[arg(value_name = "RESULTS", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output directory for the merged run.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(args: MergeArgs) -> Result<i32, CliError> {
    let mut inputs = Vec::new();
    for path in &args.inputs {
        let results = report::json::read_results(path).map_err(|e| CliError::bad_input(anyhow::anyhow!(e)))?;
        inputs.push(Input { path: path.display().to_string(), results });
    }
    let command = super::compare::quoted_command_line();
    let results = merge::merge(inputs, &command).map_err(|e| CliError::bad_input(anyhow::anyhow!(e)))?;
    crate::compare::prepare_out_dir(&args.out)?;
    for path in &args.inputs {
        let dir = path.parent().unwrap_or(Path::new("."));
        for sub in ["profiles", "plans"] {
            copy_dir(&dir.join(sub), &args.out.join(sub))
                .map_err(|e| CliError::run_failed(anyhow::anyhow!("cannot copy {}: {e}", dir.join(sub).display())))?;
        }
    }
    report::json::write_results(&args.out, &results)
        .map_err(|e| CliError::run_failed(anyhow::anyhow!("cannot write results to {}: {e}", args.out.display())))?;
    report::write_reports(&results, &args.out, &args.out).map_err(|e| {
        CliError::run_failed(anyhow::anyhow!("cannot write the reports in {}: {e}", args.out.display()))
    })?;
    crate::out!("{}", report::terminal::render(&results, report::terminal::color_enabled()));
    crate::out!(
        "merged {} run(s): {}\nresults: {}\n",
        results.run.merged.len(),
        results.run.merged.iter().map(|m| m.shard.as_deref().unwrap_or(&m.run_id)).collect::<Vec<_>>().join(", "),
        args.out.join("results.json").display()
    );
    Ok(match results.run.status.as_str() {
        "failed" => EXIT_RUN_FAILED,
        "interrupted" => EXIT_INTERRUPTED,
        _ if crate::analyze::any_regression(&results.comparisons) || results.thresholds.iter().any(|t| !t.passed) => {
            EXIT_REGRESSION
        }
        _ => EXIT_OK,
    })
}

/// Copies the files of `from` (one level: profiles and plans are flat)
/// into `to`; a missing `from` copies nothing.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(from) else { return Ok(()) };
    std::fs::create_dir_all(to)?;
    for entry in entries.flatten() {
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}
