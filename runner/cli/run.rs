//! `perfgate run`: one revision measured alone (no baseline, no verdicts):
//! its numbers, thresholds and reports, as a nightly's first night has them.

use super::{CliError, EXIT_OK, EXIT_REGRESSION, EXIT_RUN_FAILED};
use crate::compare::{self, CompareOptions, RunStatus};
use crate::report;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario file(s) to run (repeatable) [default: perf.toml, here or at the repository's root].
    #[arg(long = "scenario", short = 's', value_name = "FILE")]
    pub scenarios: Vec<PathBuf>,
    /// The revision to measure.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// Output directory [default: reports/<timestamp>-<name>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub rounds: super::RoundsArgs,
    /// Seed (recorded in results.json).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

pub fn run(args: RunArgs) -> Result<i32, CliError> {
    let opts = CompareOptions {
        scenario_files: super::scenarios_or_default(args.scenarios),
        baseline: None,
        candidate: Some(args.rev),
        patch: None,
        rounds: args.rounds.rounds,
        min_rounds: args.rounds.min_rounds,
        max_rounds: args.rounds.max_rounds,
        max_time: args.rounds.max_time,
        quick: false,
        out: args.out,
        seed: args.seed,
        threshold: None,
        alpha: None,
        command_line: super::compare::quoted_command_line(),
        repo_dir: None,
        allow_remote: false,
        solo: true,
        status_file: None,
        shard: None,
        shard_by: None,
    };
    let outcome = compare::run(&opts)?;
    crate::out!("{}", report::terminal::render(&outcome.results, report::terminal::color_enabled()));
    crate::out!("results: {}\n", outcome.out_dir.join("results.json").display());
    match outcome.status {
        RunStatus::Complete => {}
        RunStatus::Interrupted => return Ok(super::EXIT_INTERRUPTED),
        RunStatus::Failed(message) => {
            crate::note!("error: the run failed: {message}");
            return Ok(EXIT_RUN_FAILED);
        }
    }
    Ok(if outcome.results.thresholds.iter().any(|t| !t.passed) { EXIT_REGRESSION } else { EXIT_OK })
}
