//! Workload drivers: one per scenario kind. Each prepares a variant once
//! (builds, cached) and then runs one trial per round, returning the
//! measurements of that trial. Drivers never compare or judge numbers.

pub mod cargobench;
pub mod command;
pub mod counters;
pub mod database;
pub mod gobench;
pub mod gocount;
pub mod service;
pub mod valgrind;

use crate::config::{Scenario, ScenarioKind, Target};
use crate::model::Better;
use crate::model::Role;
use crate::process;
use crate::variant::build_cache::{Build, BuildCache};
use std::path::{Path, PathBuf};

/// One number from one trial.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub value: f64,
}

/// What a trial produced.
#[derive(Debug, Clone, Default)]
pub struct TrialOutput {
    pub measurements: Vec<Measurement>,
    /// Configuration lines the tool reported (Go's goos, goarch, pkg, cpu).
    pub config: Vec<(String, String)>,
    /// Service scenarios: the window's latencies (nanoseconds) and what was
    /// timed ("request" or "round_trip"), for the merged spectrum.
    pub latency: Option<(&'static str, hdrhistogram::Histogram<u64>)>,
    /// Service scenarios: the window over time (scenario/variant/round are
    /// filled in by the caller).
    pub timeline: Option<crate::results::Timeline>,
    /// `[target.postgres]`: what the database did over the window, or why
    /// its statistics could not be read.
    pub database: Option<Result<crate::target::pgstats::DbWindow, String>>,
}

impl TrialOutput {
    /// Adds one number measured for `benchmark`.
    pub fn push(&mut self, benchmark: &str, metric: &str, unit: &str, better: Better, value: f64) {
        self.measurements.push(Measurement {
            benchmark: benchmark.to_string(),
            metric: metric.into(),
            unit: unit.into(),
            better,
            value,
        });
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A build step failed: nothing can be measured for that variant.
    #[error("{0}")]
    BuildFailed(Box<StepFailure>),
    /// One trial failed (non-zero exit, timeout, unreadable output).
    #[error("{0}")]
    TrialFailed(Box<StepFailure>),
    #[error("{0}")]
    Spawn(#[from] process::SpawnError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("scenario {scenario:?}: {message}")]
    Invalid { scenario: String, message: String },
    /// The target could not be started (never ready, exited at once): no
    /// later round would fare better, so the run stops.
    #[error("{0}")]
    TargetFailed(String),
    #[error("interrupted")]
    Interrupted,
}

/// A command that failed, with what the user needs to see: the command,
/// how it ended, and the last lines it printed.
#[derive(Debug)]
pub struct StepFailure {
    pub what: String,
    pub command: String,
    pub status: String,
    pub tail: String,
    pub log: String,
}

impl StepFailure {
    pub fn new(what: String, command: String, status: String, log: &Path, tail_lines: usize) -> Box<StepFailure> {
        Box::new(StepFailure {
            what,
            command,
            status,
            tail: process::failure_tail(log, tail_lines),
            log: log.display().to_string(),
        })
    }
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} failed ({}):\n  $ {}\n{}\n(full log: {})",
            self.what, self.status, self.command, self.tail, self.log
        )
    }
}

/// Turns an interrupted or failed step into the error the caller wants
/// (`BuildFailed` or `TrialFailed`), with the step's last output lines.
pub(crate) fn check(
    finished: &process::Finished,
    failure: fn(Box<StepFailure>) -> WorkloadError,
    what: String,
    command: String,
    log: &Path,
    timeout: Option<std::time::Duration>,
) -> Result<(), WorkloadError> {
    if finished.interrupted {
        return Err(WorkloadError::Interrupted);
    }
    if !finished.success() {
        return Err(failure(StepFailure::new(what, command, finished.describe(timeout), log, 20)));
    }
    Ok(())
}

/// Where a variant lives and where its logs go.
#[derive(Debug, Clone)]
pub struct VariantContext<'a> {
    pub role: Role,
    pub tree: &'a str,
    pub checkout: &'a Path,
    pub cache: &'a BuildCache,
    pub logs: &'a Path,
    /// Limit for each build step (`[target] build`, `go test -c`, `go list`,
    /// `go env`): see [`build_timeout`].
    pub build_timeout: std::time::Duration,
    /// The variant's `[target.postgres]` database, made ready.
    pub database: Option<std::sync::Arc<crate::target::postgres::Database>>,
}

/// How long one build step may take: `PERFGATE_BUILD_TIMEOUT` (a duration
/// such as `45m`), else 30 minutes. A step over it is ended with its whole
/// process group and the run fails (exit 3) saying which step and the limit.
pub fn build_timeout() -> Result<std::time::Duration, String> {
    match std::env::var("PERFGATE_BUILD_TIMEOUT") {
        Ok(v) => crate::config::parse_duration(&v)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("PERFGATE_BUILD_TIMEOUT={v:?} is not a duration such as 45m")),
        Err(_) => Ok(std::time::Duration::from_secs(30 * 60)),
    }
}

/// A scenario made ready to run for one variant.
#[derive(Debug)]
pub enum Prepared {
    GoBench(gobench::Prepared),
    CargoBench(cargobench::Prepared),
    Command(command::Prepared),
    Service(Box<service::Prepared>),
}

/// A note for the user about a build: built now, or reused from the cache.
#[derive(Debug, Clone)]
pub struct BuildNote {
    pub role: Role,
    pub what: String,
    pub build: Build,
}

/// Builds (or reuses) what `scenario` needs for one variant.
pub fn prepare(
    scenario: &Scenario,
    target: Option<&Target>,
    target_build: Option<&Build>,
    ctx: &VariantContext<'_>,
    notes: &mut Vec<BuildNote>,
    allow_remote: bool,
) -> Result<Prepared, WorkloadError> {
    match &scenario.kind {
        ScenarioKind::GoBench(g) => gobench::prepare(&scenario.name, g, ctx, notes).map(Prepared::GoBench),
        ScenarioKind::CargoBench(c) => cargobench::prepare(&scenario.name, c, ctx, notes).map(Prepared::CargoBench),
        ScenarioKind::Command(c) => {
            command::prepare(&scenario.name, c, target, target_build, ctx).map(Prepared::Command)
        }
        ScenarioKind::Http(h) => {
            service::prepare(scenario, service::Load::Http(h.clone()), target, target_build, ctx, allow_remote)
                .map(|p| Prepared::Service(Box::new(p)))
        }
        ScenarioKind::Idle(i) => {
            service::prepare(scenario, service::Load::Idle(i.clone()), target, target_build, ctx, allow_remote)
                .map(|p| Prepared::Service(Box::new(p)))
        }
        ScenarioKind::WebSocket(w) => {
            service::prepare(scenario, service::Load::WebSocket(w.clone()), target, target_build, ctx, allow_remote)
                .map(|p| Prepared::Service(Box::new(p)))
        }
    }
}

/// The database of a prepared service scenario (`[target.postgres]`).
pub fn database_of(p: &Prepared) -> Option<&crate::target::postgres::Database> {
    match p {
        Prepared::Service(s) => s.database.as_deref(),
        _ => None,
    }
}

/// `[target.postgres] seq_scan_rows` of a prepared service scenario.
pub fn seq_scan_rows(p: &Prepared) -> Option<u64> {
    match p {
        Prepared::Service(s) => s.seq_scan_rows,
        _ => None,
    }
}

/// Runs one trial of a prepared scenario — or of one of its units (see
/// [`units`]); `log` receives its output.
pub fn run_trial(
    prepared: &mut Prepared,
    round: u32,
    log: &Path,
    unit: Option<&str>,
) -> Result<TrialOutput, WorkloadError> {
    match prepared {
        Prepared::GoBench(p) => gobench::run_trial(p, log, unit),
        Prepared::CargoBench(p) => cargobench::run_trial(p, log, unit),
        Prepared::Command(p) => command::run_trial(p, log, unit),
        Prepared::Service(p) => service::run_trial(p, round, log),
    }
}

/// The parts a scenario runs as separate pairs of trials within a round
/// (a `gobench` suite's benchmarks); empty when a trial is the whole scenario.
pub fn units(prepared: &Prepared) -> Vec<String> {
    match prepared {
        Prepared::GoBench(p) => p.units.iter().map(|u| u.label.clone()).collect(),
        Prepared::CargoBench(p) => p.units.iter().map(|u| u.label.clone()).collect(),
        Prepared::Command(p) => command::units(p),
        _ => Vec::new(),
    }
}

/// A benchmark's label once per measure the scenario runs; with several,
/// a counted one says so (`BenchmarkX [instructions]`).
pub(crate) fn per_measure(label: &str, measures: &crate::config::Measures) -> Vec<(String, crate::config::Measure)> {
    let several = measures.list.len() > 1;
    measures
        .list
        .iter()
        .map(|&m| {
            let label = if several && m != crate::config::Measure::Time {
                format!("{label} [{}]", m.as_str())
            } else {
                label.to_string()
            };
            (label, m)
        })
        .collect()
}

/// Releases what a prepared scenario holds after the last round (a target
/// kept across rounds).
pub fn finish(prepared: &mut Prepared) {
    if let Prepared::Service(p) = prepared {
        service::finish(p);
    }
}

/// Scenario kinds that run against a started service.
pub fn is_service(kind: &ScenarioKind) -> bool {
    matches!(kind, ScenarioKind::Http(_) | ScenarioKind::Idle(_) | ScenarioKind::WebSocket(_))
}

/// Builds the `[target]` once per variant, cached by tree + command + env.
pub fn build_target(target: &Target, ctx: &VariantContext<'_>) -> Result<Option<Build>, WorkloadError> {
    let Some(command) = target.build.as_deref() else {
        return Ok(None);
    };
    let dir = ctx.checkout.join(target.dir.as_deref().unwrap_or("."));
    let env: Vec<(String, String)> = target.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let extra =
        format!("{}\n{}", target.dir.as_deref().unwrap_or("."), crate::variant::build_cache::toolchain(command));
    let key = BuildCache::key(ctx.tree, command, &env, &extra);
    let log = ctx.logs.join(format!("build-target-{}.log", ctx.role));
    let build = ctx.cache.get_or_build(&key, |out| {
        let shell = substitute(command, out, ctx.checkout, None);
        let timeout = Some(ctx.build_timeout);
        let spec = process::Spec { shell: &shell, cwd: &dir, env: &env, log: &log, timeout };
        let finished = process::run_shell(&spec)?;
        check(
            &finished,
            WorkloadError::BuildFailed,
            format!("building the {} target", ctx.role),
            shell.clone(),
            &log,
            timeout,
        )?;
        Ok::<(), WorkloadError>(())
    })?;
    Ok(Some(build))
}

/// Fills `{build}`, `{checkout}` and `{port}` in a command from a scenario
/// file. Paths are shell-quoted: a checkout under a directory with spaces
/// must not split into several words.
pub fn substitute(text: &str, build: &Path, checkout: &Path, port: Option<u16>) -> String {
    let mut s = text
        .replace("{build}", &shell_quote(&build.display().to_string()))
        .replace("{checkout}", &shell_quote(&checkout.display().to_string()));
    if let Some(p) = port {
        s = s.replace("{port}", &p.to_string());
    }
    s
}

/// Quotes a word for `sh` unless it only has characters that need no quoting.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `dir` from a scenario, resolved inside the checkout.
pub fn scenario_dir(checkout: &Path, dir: &str) -> PathBuf {
    checkout.join(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substituted_paths_survive_the_shell() {
        let cmd = substitute("cat {build}/x {checkout}", Path::new("/tmp/a b/it's"), Path::new("/plain/dir"), None);
        assert_eq!(cmd, "cat '/tmp/a b/it'\\''s'/x /plain/dir");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote("a b'c")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a b'c");
    }
}
