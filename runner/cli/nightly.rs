//! `perfgate nightly`: parse flags, run tonight against the last nightly,
//! record it in the history, print the report and what the history shows,
//! and map the outcome to an exit code (DESIGN §8).

use super::{CliError, EXIT_OK, EXIT_REGRESSION, EXIT_RUN_FAILED};
use crate::compare::RunStatus;
use crate::history::changepoint;
use crate::nightly::{self, NightlyOptions};
use crate::report;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct NightlyArgs {
    /// Scenario file(s) to run (repeatable) [default: perf.toml, here or at the repository's root].
    #[arg(long = "scenario", short = 's', value_name = "FILE")]
    pub scenarios: Vec<PathBuf>,
    /// Tonight's revision.
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// The history (created if missing): a SQLite file, or a PostgreSQL URL
    /// (postgresql://user@host/db) for a history several runners share.
    #[arg(long, value_name = "DB", env = "PERFGATE_HISTORY", default_value = "reports/history.sqlite")]
    pub history: crate::history::Location,
    /// Output directory [default: reports/<timestamp>-<name>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub rounds: super::RoundsArgs,
    /// Seed for the order of variants within rounds.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Smallest change worth reporting, e.g. 2% [default: the scenario file's, else 2%].
    #[arg(long, value_name = "PCT", value_parser = crate::config::parse_percent)]
    pub threshold: Option<f64>,
    /// Significance level for tonight's verdicts.
    #[arg(long, value_name = "A")]
    pub alpha: Option<f64>,
    /// Change points: largest t-test p-value accepted.
    #[arg(long, value_name = "P", default_value_t = changepoint::Options::default().max_pvalue)]
    pub max_pvalue: f64,
    /// Change points: smallest change of the mean, e.g. 2%.
    #[arg(long, value_name = "PCT", value_parser = crate::config::parse_percent, default_value = "2%")]
    pub min_magnitude: f64,
}

pub fn run(args: NightlyArgs) -> Result<i32, CliError> {
    if let Some(a) = args.alpha
        && !(a > 0.0 && a < 1.0)
    {
        return Err(CliError::bad_input(anyhow::anyhow!("--alpha must be between 0 and 1, got {a}")));
    }
    if !(args.max_pvalue > 0.0 && args.max_pvalue < 1.0) {
        return Err(CliError::bad_input(anyhow::anyhow!("--max-pvalue must be between 0 and 1")));
    }
    let opts = NightlyOptions {
        compare: crate::plan::CompareOptions {
            scenario_files: super::scenarios_or_default(args.scenarios),
            out: args.out,
            rounds: args.rounds.rounds,
            min_rounds: args.rounds.min_rounds,
            max_rounds: args.rounds.max_rounds,
            max_time: args.rounds.max_time,
            seed: args.seed,
            threshold: args.threshold,
            alpha: args.alpha,
            command_line: super::compare::quoted_command_line(),
            ..Default::default()
        },
        rev: Some(args.rev),
        history: args.history,
        change: changepoint::Options { max_pvalue: args.max_pvalue, min_magnitude: args.min_magnitude },
    };
    let outcome = nightly::run(&opts)?;
    let results = &outcome.compare.results;
    crate::out!("{}", report::terminal::render(results, report::terminal::color_enabled()));
    if let Some(n) = &results.nightly {
        for d in &n.drifts {
            crate::out!(
                "drift: {}/{}/{} over {} nights: {:+.1}% [{:+.1}, {:+.1}]{}\n",
                d.scenario,
                d.benchmark,
                d.metric,
                d.nights,
                d.change_pct,
                d.ci_low_pct,
                d.ci_high_pct,
                if d.regressed { " — regressed" } else { "" }
            );
        }
        for c in &n.change_points {
            crate::out!(
                "change point: {}/{}/{} {:+.1}% between {}..{}\n",
                c.scenario,
                c.benchmark,
                c.metric,
                c.magnitude_pct,
                c.from_commit.get(..10).unwrap_or(&c.from_commit),
                c.to_commit.get(..10).unwrap_or(&c.to_commit)
            );
        }
        crate::out!("night {} of the history in {}\n", n.nights, n.history);
    }
    let dir = &outcome.compare.out_dir;
    crate::out!("results: {}\ntrend: {}\n", dir.join("results.json").display(), dir.join("trend.html").display());
    match &outcome.compare.status {
        RunStatus::Complete => {}
        RunStatus::Interrupted => {
            crate::note!("interrupted: nothing was recorded in the history; the rounds measured are in results.json");
            return Ok(super::EXIT_INTERRUPTED);
        }
        RunStatus::Failed(message) => {
            crate::note!("error: the run failed and was not recorded in the history: {message}");
            return Ok(EXIT_RUN_FAILED);
        }
    }
    Ok(if outcome.regressed { EXIT_REGRESSION } else { EXIT_OK })
}
