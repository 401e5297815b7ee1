//! `perfgate compare`: parse flags, run the compare pipeline, print the
//! terminal report, and map the outcome to an exit code (DESIGN §8).

use super::{CliError, EXIT_OK, EXIT_REGRESSION, EXIT_RUN_FAILED};
use crate::compare::{self, CompareOptions, RunStatus};
use crate::report;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Scenario file(s) to run (repeatable) [default: perf.toml, here or at the repository's root].
    #[arg(long = "scenario", short = 's', value_name = "FILE")]
    pub scenarios: Vec<PathBuf>,
    /// Baseline revision [default: the scenario file's, else HEAD].
    #[arg(long, value_name = "REV")]
    pub baseline: Option<String>,
    /// Candidate revision [default: the scenario file's, else the working tree, uncommitted changes included].
    #[arg(long, value_name = "REV", conflicts_with = "patch")]
    pub candidate: Option<String>,
    /// Candidate = baseline with this patch applied (the working tree is not touched).
    #[arg(long, value_name = "FILE")]
    pub patch: Option<PathBuf>,
    #[command(flatten)]
    pub rounds: super::RoundsArgs,
    /// 8 fixed rounds (at most) and shorter windows: a first look, not a verdict to merge on.
    #[arg(long)]
    pub quick: bool,
    /// Output directory [default: reports/<timestamp>-<name>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed for the order of variants within rounds (recorded in results.json).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Smallest change worth reporting, e.g. 2% [default: the scenario file's, else 2%].
    #[arg(long, value_name = "PCT", value_parser = parse_threshold)]
    pub threshold: Option<f64>,
    /// Let scenarios with `allow_remote = true` send load to non-loopback hosts.
    #[arg(long)]
    pub allow_remote: bool,
    /// Significance level for verdicts (applied to Benjamini–Hochberg q-values).
    #[arg(long, value_name = "A")]
    pub alpha: Option<f64>,
    /// Keep FILE current with the run's state as JSON (for `perfgate mcp`).
    #[arg(long, value_name = "FILE", hide = true)]
    pub status_file: Option<PathBuf>,
    /// Run only shard I of N (1-based, e.g. 2/3) of the scenarios; `perfgate merge` joins the shards' results.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::shard::Shard>,
    /// Split the shards by the scenario times in this earlier results.json (default: by count).
    #[arg(long, value_name = "RESULTS", requires = "shard")]
    pub shard_by: Option<PathBuf>,
}

/// This process's command line, each argument quoted for a POSIX shell
/// where needed, so the brief's "reproduce" line can be pasted as is.
pub fn quoted_command_line() -> String {
    std::env::args().map(|a| shell_quote(&a)).collect::<Vec<_>>().join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain { arg.to_string() } else { format!("'{}'", arg.replace('\'', "'\\''")) }
}

fn parse_threshold(s: &str) -> Result<f64, String> {
    crate::config::parse_percent(s)
}

pub fn run(args: CompareArgs) -> Result<i32, CliError> {
    if let Some(a) = args.alpha
        && !(a > 0.0 && a < 1.0)
    {
        return Err(CliError::bad_input(anyhow::anyhow!("--alpha must be between 0 and 1, got {a}")));
    }
    let opts = CompareOptions {
        scenario_files: super::scenarios_or_default(args.scenarios),
        baseline: args.baseline,
        candidate: args.candidate,
        patch: args.patch,
        rounds: args.rounds.rounds,
        min_rounds: args.rounds.min_rounds,
        max_rounds: args.rounds.max_rounds,
        max_time: args.rounds.max_time,
        quick: args.quick,
        out: args.out,
        seed: args.seed,
        threshold: args.threshold,
        alpha: args.alpha,
        command_line: quoted_command_line(),
        repo_dir: None,
        allow_remote: args.allow_remote,
        solo: false,
        status_file: args.status_file,
        shard: args.shard,
        shard_by: args.shard_by,
    };
    let outcome = compare::run(&opts)?;
    crate::out!("{}", report::terminal::render(&outcome.results, report::terminal::color_enabled()));
    crate::out!("results: {}\n", outcome.out_dir.join("results.json").display());
    match outcome.status {
        RunStatus::Complete => {}
        RunStatus::Interrupted => {
            crate::note!("interrupted: the rounds measured so far are in results.json");
            return Ok(super::EXIT_INTERRUPTED);
        }
        RunStatus::Failed(message) => {
            crate::note!("error: the run failed: {message}");
            return Ok(EXIT_RUN_FAILED);
        }
    }
    if crate::analyze::any_regression(&outcome.results.comparisons)
        || outcome.results.thresholds.iter().any(|t| !t.passed)
    {
        return Ok(EXIT_REGRESSION);
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quotes_only_what_a_shell_would_split_or_expand() {
        assert_eq!(shell_quote("--scenario"), "--scenario");
        assert_eq!(shell_quote("scenarios/demo.toml"), "scenarios/demo.toml");
        assert_eq!(shell_quote("my file.toml"), "'my file.toml'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
    }
}
