//! The plan stage (DESIGN §2): scenario files, command-line flags and their
//! defaults become one `Plan` — which scenarios run, against which variants,
//! under which statistics, in which design (a fixed number of rounds, or
//! sequential rounds until settled within a budget). Scenario files are read
//! here once; every later stage works from the plan.

use crate::config::{self, CandidateSpec, Scenario, ScenarioFile, Target};
use crate::stats::{CompareConfig, Rule};
use std::path::PathBuf;
use std::time::Duration;

pub const DEFAULT_THRESHOLD: f64 = 0.02;
pub const DEFAULT_ALPHA: f64 = 0.05;
/// `--quick`: a fixed design of at most this many rounds.
pub const QUICK_ROUNDS: u32 = 8;
/// Sequential defaults (`--min-rounds`, `--max-rounds`, `--max-time`).
pub const DEFAULT_MIN_ROUNDS: u32 = 6;
pub const DEFAULT_MAX_ROUNDS: u32 = 500;
pub const DEFAULT_MAX_TIME: Duration = Duration::from_secs(300);

/// What the user asked for (flags), before defaults are applied.
#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    pub scenario_files: Vec<PathBuf>,
    pub baseline: Option<String>,
    pub candidate: Option<String>,
    pub patch: Option<PathBuf>,
    /// A fixed design of this many rounds (no stopping rule).
    pub rounds: Option<u32>,
    /// Sequential design: budget and the first round a verdict may stop at.
    pub min_rounds: Option<u32>,
    pub max_rounds: Option<u32>,
    pub max_time: Option<Duration>,
    pub quick: bool,
    pub out: Option<PathBuf>,
    pub seed: Option<u64>,
    pub threshold: Option<f64>,
    pub alpha: Option<f64>,
    /// The command line, recorded in results.json.
    pub command_line: String,
    /// Directory to find the git repository from (default: current directory).
    pub repo_dir: Option<PathBuf>,
    /// `--allow-remote`: scenarios that say `allow_remote = true` may load non-loopback hosts.
    pub allow_remote: bool,
    /// Measure the candidate alone (a nightly's first night): no baseline
    /// is checked out, built or run, and nothing is compared.
    pub solo: bool,
    /// Keep this JSON file current with the run's state (see `execute::status`).
    pub status_file: Option<PathBuf>,
    /// `--shard I/N`: run only this shard's scenarios (see `shard`)...
    pub shard: Option<crate::shard::Shard>,
    /// ...split by the times an earlier run's results.json recorded.
    pub shard_by: Option<PathBuf>,
}

/// How many rounds a run takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Design {
    /// Exactly this many rounds per scenario (`--rounds N`, `rounds = N`, `--quick`).
    Fixed { rounds: u32 },
    /// Rounds until every judged comparison is settled, within a budget.
    Sequential(Budget),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// No scenario stops as settled before this many rounds.
    pub min_rounds: u32,
    pub max_rounds: u32,
    /// Measurement time (rounds only: builds and profiling passes excluded).
    pub max_time: Duration,
}

impl Design {
    /// The most rounds this design may run.
    pub fn max_rounds(&self) -> u32 {
        match self {
            Design::Fixed { rounds } => *rounds,
            Design::Sequential(b) => b.max_rounds,
        }
    }
}

/// One scenario of the run: which file and which `[[scenario]]` in it.
#[derive(Debug, Clone)]
pub struct PlannedScenario {
    pub file: usize,
    pub index: usize,
    pub name: String,
}

/// The candidate, as the flags and the first scenario file say.
#[derive(Debug, Clone, PartialEq)]
pub enum CandidateChoice {
    Rev(String),
    /// A patch on the baseline: a path from the command line (absolute, or
    /// relative to the directory perfgate runs in)...
    PatchFile(PathBuf),
    /// ...or from the scenario file (relative to the repository root).
    PatchInRepo(String),
    WorkingTree,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub files: Vec<ScenarioFile>,
    pub scenarios: Vec<PlannedScenario>,
    pub baseline_rev: String,
    pub candidate: CandidateChoice,
    pub stats: CompareConfig,
    pub design: Design,
    pub seed: u64,
    pub solo: bool,
    /// Scenarios `--quick` shortened.
    pub quickened: Vec<String>,
    /// Said before anything runs (e.g. ignored settings).
    pub warnings: Vec<String>,
    /// Names the output directory.
    pub run_name: String,
    pub cwd: PathBuf,
    pub out: Option<PathBuf>,
    pub command_line: String,
    pub scenario_files: Vec<PathBuf>,
    pub allow_remote: bool,
    pub status_file: Option<PathBuf>,
    /// `--shard`: which part of the scenarios this run measures.
    pub shard: Option<crate::results::ShardInfo>,
}

impl Plan {
    pub fn scenario(&self, i: usize) -> &Scenario {
        let p = &self.scenarios[i];
        &self.files[p.file].scenarios[p.index]
    }

    pub fn file_of(&self, i: usize) -> &ScenarioFile {
        &self.files[self.scenarios[i].file]
    }

    pub fn target(&self, i: usize) -> Option<&Target> {
        self.file_of(i).target.as_ref()
    }

    pub fn names(&self) -> Vec<String> {
        self.scenarios.iter().map(|s| s.name.clone()).collect()
    }

    /// The measured window of a service scenario, in seconds.
    pub fn window_secs(&self, i: usize) -> Option<f64> {
        let window = match &self.scenario(i).kind {
            config::ScenarioKind::Http(h) => h.duration,
            config::ScenarioKind::WebSocket(w) => w.duration,
            config::ScenarioKind::Idle(i) => i.duration,
            _ => return None,
        };
        Some(window.as_secs_f64())
    }

    pub fn thresholds(&self, i: usize) -> &[config::Threshold] {
        match &self.scenario(i).kind {
            config::ScenarioKind::Http(h) => &h.thresholds,
            config::ScenarioKind::Idle(i) => &i.thresholds,
            config::ScenarioKind::WebSocket(w) => &w.thresholds,
            _ => &[],
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// Reads the scenario files and settles every choice the run depends on.
pub fn make(opts: &CompareOptions) -> Result<Plan, PlanError> {
    if opts.scenario_files.is_empty() {
        return Err(PlanError(
            "no scenario file given and no perf.toml here; pass --scenario FILE (e.g. --scenario scenarios/demo.toml), or write perf.toml with `perfgate init`".into(),
        ));
    }
    let mut files = Vec::new();
    for path in &opts.scenario_files {
        files.push(config::load(path).map_err(|e| PlanError(e.to_string()))?);
    }
    // --quick: shorter windows too, not only fewer rounds (said in the results).
    let mut quickened = Vec::new();
    if opts.quick {
        for f in &mut files {
            for s in &mut f.scenarios {
                if s.kind.quicken() {
                    quickened.push(s.name.clone());
                }
            }
        }
    }
    let mut scenarios = flatten(&files)?;
    let shard = opts.shard.map(|s| select_shard(&mut scenarios, s, opts.shard_by.as_deref())).transpose()?;
    // One run has one baseline, candidate and design: the first file's
    // [compare] decides; later files' settings are reported, not mixed in.
    let defaults = &files[0].compare;
    let mut warnings = Vec::new();
    for f in files.iter().skip(1) {
        if f.compare.sets_anything() {
            warnings.push(format!(
                "{}: its [compare] settings are ignored; the first scenario file's ({}) apply to the whole run",
                f.path.display(),
                files[0].path.display()
            ));
        }
    }
    let cwd = opts.repo_dir.clone().unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
    // CLI flags override the scenario file, which overrides the defaults.
    let baseline_rev = opts.baseline.clone().or_else(|| defaults.baseline.clone()).unwrap_or_else(|| "HEAD".into());
    let candidate = if let Some(p) = &opts.patch {
        CandidateChoice::PatchFile(if p.is_absolute() { p.clone() } else { cwd.join(p) })
    } else if let Some(r) = &opts.candidate {
        CandidateChoice::Rev(r.clone())
    } else {
        match &defaults.candidate {
            Some(CandidateSpec::Rev(r)) => CandidateChoice::Rev(r.clone()),
            Some(CandidateSpec::Patch(p)) => CandidateChoice::PatchInRepo(p.clone()),
            None => CandidateChoice::WorkingTree,
        }
    };
    let design = design(opts, defaults)?;
    let stats = CompareConfig {
        alpha: opts.alpha.or(defaults.alpha).unwrap_or(DEFAULT_ALPHA),
        confidence: 0.95,
        threshold: opts.threshold.or(defaults.threshold).unwrap_or(DEFAULT_THRESHOLD),
        count_threshold: defaults.count_threshold.unwrap_or(crate::stats::DEFAULT_COUNT_THRESHOLD),
        rule: match design {
            Design::Fixed { .. } => Rule::Fixed,
            Design::Sequential(_) => Rule::Sequential,
        },
        power: true,
        settle: true,
    };
    let seed = opts.seed.or(defaults.seed).unwrap_or_else(crate::schedule::fresh_seed);
    let run_name = files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join("+");
    Ok(Plan {
        files,
        scenarios,
        baseline_rev,
        candidate,
        stats,
        design,
        seed,
        solo: opts.solo,
        quickened,
        warnings,
        run_name,
        cwd,
        out: opts.out.clone(),
        command_line: opts.command_line.clone(),
        status_file: opts.status_file.clone(),
        scenario_files: opts.scenario_files.clone(),
        allow_remote: opts.allow_remote,
        shard,
    })
}

/// Keeps `shard`'s scenarios (the split of [`crate::shard`]), by the times
/// in `by` (an earlier results.json) when given.
fn select_shard(
    scenarios: &mut Vec<PlannedScenario>,
    shard: crate::shard::Shard,
    by: Option<&std::path::Path>,
) -> Result<crate::results::ShardInfo, PlanError> {
    let durations = match by {
        Some(path) => {
            let previous = crate::report::json::read_results(path)
                .map_err(|e| PlanError(format!("--shard-by {}: {e}", path.display())))?;
            Some(crate::shard::durations(&previous))
        }
        None => None,
    };
    let names: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    let assigned = crate::shard::assign(&names, durations.as_ref(), shard.count);
    let by_durations = durations.as_ref().is_some_and(|d| names.iter().any(|n| d.contains_key(n)));
    let info = crate::shard::info(shard, &names, &assigned, by_durations);
    let mut keep = assigned.iter().map(|&s| s == shard.index);
    scenarios.retain(|_| keep.next().unwrap_or(false));
    Ok(info)
}

/// Every scenario of every file, with names unique across the run and of a
/// kind this version can run.
fn flatten(files: &[ScenarioFile]) -> Result<Vec<PlannedScenario>, PlanError> {
    let mut out: Vec<PlannedScenario> = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (index, s) in file.scenarios.iter().enumerate() {
            if out.iter().any(|p| p.name == s.name) {
                return Err(PlanError(format!(
                    "{}: scenario name {:?} is used by another scenario file; names must be unique in one run",
                    file.path.display(),
                    s.name
                )));
            }
            out.push(PlannedScenario { file: f, index, name: s.name.clone() });
        }
    }
    Ok(out)
}

/// `--rounds N` (or the file's `rounds`) is a fixed design, as is `--quick`;
/// otherwise rounds continue until settled, within the budget.
fn design(opts: &CompareOptions, defaults: &config::CompareDefaults) -> Result<Design, PlanError> {
    let sequential_flags = opts.min_rounds.is_some() || opts.max_rounds.is_some() || opts.max_time.is_some();
    let fixed = opts.rounds.or(if sequential_flags { None } else { defaults.rounds });
    if opts.rounds.is_some() && (opts.min_rounds.is_some() || opts.max_rounds.is_some() || opts.max_time.is_some()) {
        return Err(PlanError(
            "--rounds N is a fixed design; --min-rounds, --max-rounds and --max-time belong to the sequential one: pass one or the other".into(),
        ));
    }
    if let Some(rounds) = fixed {
        if rounds == 0 {
            return Err(PlanError("--rounds must be at least 1".into()));
        }
        let rounds = if opts.quick { rounds.min(QUICK_ROUNDS) } else { rounds };
        return Ok(Design::Fixed { rounds });
    }
    if opts.quick {
        return Ok(Design::Fixed { rounds: QUICK_ROUNDS });
    }
    let budget = Budget {
        min_rounds: opts.min_rounds.or(defaults.min_rounds).unwrap_or(DEFAULT_MIN_ROUNDS),
        max_rounds: opts.max_rounds.or(defaults.max_rounds).unwrap_or(DEFAULT_MAX_ROUNDS),
        max_time: opts.max_time.or(defaults.max_time).unwrap_or(DEFAULT_MAX_TIME),
    };
    if budget.max_rounds == 0 || budget.min_rounds == 0 {
        return Err(PlanError("--min-rounds and --max-rounds must be at least 1".into()));
    }
    if budget.min_rounds > budget.max_rounds {
        return Err(PlanError(format!(
            "--min-rounds ({}) is more than --max-rounds ({})",
            budget.min_rounds, budget.max_rounds
        )));
    }
    if budget.max_time.is_zero() {
        return Err(PlanError("--max-time must be more than 0".into()));
    }
    Ok(Design::Sequential(budget))
}
