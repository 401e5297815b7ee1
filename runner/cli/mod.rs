//! Command-line edge: one file per subcommand; each parses its arguments and
//! calls the library. Errors are mapped to the exit codes of DESIGN §8 here.

pub mod benchstat;
pub mod cache;
pub mod compare;
pub mod doctor;
pub mod fleet;
pub mod history;
pub mod init;
pub mod load;
pub mod mcp;
pub mod merge;
pub mod nightly;
pub mod profile;
pub mod report;
pub mod run;
pub mod schema;
pub mod validate;

use clap::{Parser, Subcommand};

/// How many rounds: `--rounds N` (fixed), or sequential rounds until settled
/// within `--max-time` / `--max-rounds` (the default). Shared by compare,
/// run and nightly.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RoundsArgs {
    /// A fixed number of rounds per scenario (each runs both variants in random order), no stopping rule
    /// [default: the scenario file's `rounds`, else sequential rounds until settled].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..),
          conflicts_with_all = ["min_rounds", "max_rounds", "max_time"])]
    pub rounds: Option<u32>,
    /// Sequential rounds: no scenario stops as settled before this many [default: 6].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub min_rounds: Option<u32>,
    /// Sequential rounds: at most this many per scenario [default: 500].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rounds: Option<u32>,
    /// Sequential rounds: at most this much measurement time, builds and profiling excluded, e.g. 90s, 10m [default: 5m].
    #[arg(long, value_name = "DURATION", value_parser = parse_max_time)]
    pub max_time: Option<std::time::Duration>,
}

/// The scenario files given, or else the `perf.toml` that `perfgate init`
/// writes: in the current directory, else at the repository's root.
pub fn scenarios_or_default(given: Vec<std::path::PathBuf>) -> Vec<std::path::PathBuf> {
    if !given.is_empty() {
        return given;
    }
    let here = std::path::PathBuf::from(crate::init::FILE_NAME);
    if here.is_file() {
        return vec![here];
    }
    let root = crate::init::repo_root(std::path::Path::new("."));
    let at_root = root.join(crate::init::FILE_NAME);
    if at_root.is_file() { vec![at_root] } else { Vec::new() }
}

pub(crate) fn parse_max_time(s: &str) -> Result<std::time::Duration, String> {
    let d = crate::config::parse_duration(s)?;
    if d.is_zero() { Err("must be longer than 0s".into()) } else { Ok(d) }
}

/// Exit codes (DESIGN §8, contract).
pub const EXIT_OK: i32 = 0;
pub const EXIT_REGRESSION: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_RUN_FAILED: i32 = 3;
/// Ctrl-C (128 + SIGINT), an extension of the DESIGN §8 codes.
pub const EXIT_INTERRUPTED: i32 = 130;

/// An error at the CLI edge, carrying the exit code it maps to.
#[derive(Debug)]
pub enum CliError {
    /// Usage, invalid scenario, unknown revision, unreadable input: exit 2.
    BadInput(anyhow::Error),
    /// Build failed, target crashed, command failed: exit 3.
    RunFailed(anyhow::Error),
    /// Ctrl-C: exit 130, as shells report SIGINT.
    Interrupted,
}

impl CliError {
    pub fn bad_input(e: impl Into<anyhow::Error>) -> Self {
        CliError::BadInput(e.into())
    }
    pub fn run_failed(e: impl Into<anyhow::Error>) -> Self {
        CliError::RunFailed(e.into())
    }
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::BadInput(_) => EXIT_BAD_INPUT,
            CliError::RunFailed(_) => EXIT_RUN_FAILED,
            CliError::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

impl From<crate::compare::CompareError> for CliError {
    fn from(e: crate::compare::CompareError) -> Self {
        use crate::compare::CompareError;
        match e {
            CompareError::BadInput(m) => CliError::BadInput(anyhow::anyhow!(m)),
            CompareError::RunFailed(m) => CliError::RunFailed(anyhow::anyhow!(m)),
            CompareError::Interrupted => CliError::Interrupted,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::BadInput(e) | CliError::RunFailed(e) => write!(f, "{e:#}"),
            CliError::Interrupted => write!(f, "interrupted"),
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "perfgate",
    version,
    about = "Benchmark-and-profile harness: baseline vs candidate, with statistics you can trust"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build baseline and candidate, run scenarios in interleaved rounds, report what changed.
    Compare(compare::CompareArgs),
    /// Compare two Go benchmark files with benchstat-compatible numbers.
    Benchstat(benchstat::BenchstatArgs),
    /// Check scenario files without running anything.
    Validate(validate::ValidateArgs),
    /// Write a first perf.toml from what this repository holds (Go benchmarks, HTTP services, criterion benches).
    Init(init::InitArgs),
    /// Check the tools and the repository, and measure how noisy this machine is.
    Doctor(doctor::DoctorArgs),
    /// Send HTTP load to a local URL and report throughput and latency percentiles.
    Load(load::LoadArgs),
    /// Hotspots of a pprof profile (`top`) or of the change between two (`diff`).
    Profile(profile::ProfileArgs),
    /// Join the results of `compare --shard I/N` jobs into one run: one report, one verdict, one exit code.
    Merge(merge::MergeArgs),
    /// Measure one revision alone: its numbers and thresholds, nothing compared.
    Run(run::RunArgs),
    /// Measure a revision against the last nightly, record it in the history, flag regressions and drifts.
    Nightly(nightly::NightlyArgs),
    /// Read the nightly history: the runs, each metric's series and change points, or all of it as CSV/JSON.
    History(history::HistoryArgs),
    /// Re-render a stored run: terminal table, report.html, brief.md, findings.md or JSON.
    Report(report::ReportArgs),
    /// Serve perfgate's tools to a coding agent (Model Context Protocol over stdio).
    Mcp(mcp::McpArgs),
    /// The build cache in .perfgate/builds: its builds and sizes; `prune` removes unused ones.
    Cache(cache::CacheArgs),
    /// Print the JSON Schema of results.json or of scenario files.
    // Hidden from --help: a tool for editors and maintainers, documented in the README.
    #[command(hide = true)]
    Schema(schema::SchemaArgs),
}

pub fn main() -> i32 {
    if std::env::args_os().nth(1).is_some_and(|a| a == crate::watchdog::SUBCOMMAND) {
        return crate::watchdog::run();
    }
    crate::watchdog::become_subreaper();
    crate::scope::enable();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compare(a) => compare::run(a),
        Command::Benchstat(a) => benchstat::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Init(a) => init::run(a),
        Command::Doctor(a) => doctor::run(a),
        Command::Load(a) => load::run(a),
        Command::Profile(a) => profile::run(a),
        Command::Report(a) => report::run(a),
        Command::Nightly(a) => nightly::run(a),
        Command::Run(a) => run::run(a),
        Command::Merge(a) => merge::run(a),
        Command::History(a) => history::run(a),
        Command::Schema(a) => schema::run(a),
        Command::Mcp(a) => mcp::run(a),
        Command::Cache(a) => cache::run(a),
    };
    crate::scope::end_own();
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::note!("error: {e}");
            e.exit_code()
        }
    }
}
