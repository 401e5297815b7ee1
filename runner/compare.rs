//! `compare` end to end, as the stages of DESIGN §2: plan → build →
//! execute → analyze → `Results` → outputs. `run` is a one-variant plan
//! (`solo`); `nightly` runs the same stages with a history stage before the
//! outputs. Whatever happens mid-run (a failed trial, Ctrl-C), the rounds
//! already measured are analyzed and written.

use crate::analyze::{self, Context, Judge};
use crate::build::{self, BuildError, Failure as BuildFailure};
use crate::environment;
use crate::execute::{self, Measurements, progress::Progress, status};
use crate::model::Role;
use crate::plan::{self, CandidateChoice, Design, Plan};
use crate::report;
use crate::results::{Failure, Results, Run};
use crate::variant::{Repo, Resolved, VariantError, VariantSpec};
use crate::workload::WorkloadError;
use std::path::PathBuf;

pub use crate::execute::RunStatus;
pub use crate::plan::{CompareOptions, DEFAULT_ALPHA, DEFAULT_THRESHOLD, QUICK_ROUNDS};

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The user's input is wrong (exit 2).
    #[error("{0}")]
    BadInput(String),
    /// The run could not be carried out (exit 3).
    #[error("{0}")]
    RunFailed(String),
    /// Ctrl-C before anything was measured (exit 130).
    #[error("interrupted before any round was measured")]
    Interrupted,
}

impl From<plan::PlanError> for CompareError {
    fn from(e: plan::PlanError) -> Self {
        CompareError::BadInput(e.0)
    }
}

/// How a run ended; results are on disk in every case.
#[derive(Debug)]
pub struct CompareOutcome {
    pub results: Results,
    pub out_dir: PathBuf,
    pub status: RunStatus,
    /// Whether `reports/latest` should point here (no `--out` given).
    pub update_latest: bool,
}

/// `perfgate compare` (and `perfgate run`): every stage, then the outputs.
pub fn run(opts: &CompareOptions) -> Result<CompareOutcome, CompareError> {
    let plan = plan::make(opts)?;
    let outcome = measure(&plan)?;
    write(&outcome)?;
    Ok(outcome)
}

/// The noise probe's time before the rounds (`perfgate doctor` takes longer).
const PROBE_BUDGET: std::time::Duration = std::time::Duration::from_millis(1500);
/// `0` skips the noise probe before the rounds.
pub const PROBE_ENV: &str = "PERFGATE_NOISE_PROBE";

/// The stages up to `Results`: nothing is written but the logs and
/// profiles (and results.json when the run stops before its first round).
pub fn measure(plan: &Plan) -> Result<CompareOutcome, CompareError> {
    let started_at = jiff::Timestamp::now();
    let repo = Repo::discover(&plan.cwd).map_err(|e| CompareError::BadInput(e.to_string()))?;
    repo.ensure_ignored("/.perfgate/").map_err(variant_err)?;
    let _lock = repo.lock().map_err(variant_err)?;
    let out_dir = match &plan.out {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => plan.cwd.join(d),
        None => unique_run_dir(&repo.root.join("reports"), &crate::paths::file_component(&plan.run_name)),
    };
    // Created before the snapshot, and ignored by git from the start (a
    // `.gitignore` of `*` inside it), so neither this run's report nor any
    // earlier one leaks into a snapshot of the working tree.
    let created = prepare_out_dir(&out_dir)?;
    let logs = out_dir.join("logs");
    // An input error found now leaves no empty output directory behind.
    let undo = |e: CompareError| {
        if created {
            let _ = std::fs::remove_dir_all(&out_dir);
        }
        e
    };
    if plan.out.is_none() {
        repo.ensure_ignored("/reports/latest").map_err(variant_err).map_err(undo)?;
    }
    let baseline = repo
        .resolve(Role::Baseline, &VariantSpec::Rev(plan.baseline_rev.clone()))
        .map_err(variant_err)
        .map_err(undo)?;
    let candidate = repo.resolve(Role::Candidate, &candidate_spec(plan, &repo)).map_err(variant_err).map_err(undo)?;

    crate::process::install_interrupt_handler();
    let mut status = plan.status_file.as_ref().map(|p| status::StatusFile::new(p, &out_dir));
    if let Some(s) = &mut status {
        s.set_state("building");
    }
    let mut results = skeleton(plan, &out_dir, started_at, &baseline, &candidate);
    let measured: Vec<&Resolved> = if plan.solo { vec![&candidate] } else { vec![&baseline, &candidate] };
    let mut builds = match build::run(plan, &repo, &measured, &logs) {
        Ok(b) => b,
        Err(e) => return Err(stopped_before_measuring(&mut results, &out_dir, e)),
    };
    // Built, nothing else of ours running: how noisy is the machine now?
    // (PERFGATE_NOISE_PROBE=0 skips it, as perfgate's own tests do.)
    if std::env::var_os(PROBE_ENV).is_none_or(|v| v != "0") {
        let probe = crate::doctor::probe::run(PROBE_BUDGET, plan.seed);
        crate::note!("{}", crate::doctor::probe_line(&probe));
        results.environment.noise = Some(probe);
    }
    let ctx = context(plan);
    let mut progress = Progress::new(fixed_trials(plan, &builds));
    if let Some(s) = &mut status {
        s.set_state("measuring");
    }
    let mut observer = status::Tee { inner: &mut progress, status: status.as_mut() };
    let measurements = execute::run(plan, &mut builds, &ctx, &out_dir, &logs, &mut observer);
    builds.finish();
    if let Some(s) = &mut status {
        s.set_state("writing");
    }
    let status = measurements.status.clone().unwrap_or(RunStatus::Complete);
    assemble(&mut results, plan, &ctx, measurements);
    Ok(CompareOutcome { results, out_dir, status, update_latest: plan.out.is_none() })
}

/// results.json, report.html and brief.md, and `reports/latest`.
pub fn write(outcome: &CompareOutcome) -> Result<(), CompareError> {
    let dir = &outcome.out_dir;
    report::json::write_results(dir, &outcome.results)
        .map_err(|e| CompareError::RunFailed(format!("cannot write results to {}: {e}", dir.display())))?;
    if let Err(e) = report::write_reports(&outcome.results, dir, dir) {
        crate::note!("warning: cannot write the reports in {}: {e}", dir.display());
    }
    if outcome.update_latest {
        let _ = report::json::update_latest(dir);
    }
    Ok(())
}

/// What the first line of perfgate's own `.gitignore` in an output directory says.
const OUT_MARKER: &str = "# perfgate output";
/// What a run writes into its output directory; anything else there is not ours.
const OUT_ENTRIES: [&str; 10] = [
    ".gitignore",
    "results.json",
    "report.html",
    "brief.md",
    "findings.md",
    "profiles",
    "plans",
    "logs",
    "trend.html",
    "report.png",
];

/// Makes the output directory (and its `logs/`), or checks that an existing
/// one holds only perfgate's outputs: a run never overwrites a file it did
/// not write (`--out .` in a repository is refused, its `.gitignore` kept).
/// True when this run created the directory.
pub(crate) fn prepare_out_dir(dir: &std::path::Path) -> Result<bool, CompareError> {
    let refuse = |why: String| {
        CompareError::BadInput(format!(
            "--out {}: {why}; perfgate writes only into a new or empty directory, or one of its own earlier runs",
            dir.display()
        ))
    };
    let created = !dir.exists();
    if !created {
        if !dir.is_dir() {
            return Err(refuse("not a directory".into()));
        }
        let entries = std::fs::read_dir(dir).map_err(|e| refuse(format!("cannot read it: {e}")))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !OUT_ENTRIES.contains(&name.as_str()) {
                return Err(refuse(format!("it holds {name:?}, which perfgate did not write")));
            }
        }
        let ignore = dir.join(".gitignore");
        if ignore.exists() && !std::fs::read_to_string(&ignore).is_ok_and(|t| t.starts_with(OUT_MARKER)) {
            return Err(refuse("its .gitignore is not perfgate's".into()));
        }
    }
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)
        .and_then(|_| std::fs::write(dir.join(".gitignore"), format!("{OUT_MARKER}\n*\n")))
        .map_err(|e| CompareError::RunFailed(format!("cannot create {}: {e}", logs.display())))?;
    Ok(created)
}

fn candidate_spec(plan: &Plan, repo: &Repo) -> VariantSpec {
    let base = plan.baseline_rev.clone();
    match &plan.candidate {
        CandidateChoice::Rev(r) => VariantSpec::Rev(r.clone()),
        CandidateChoice::PatchFile(p) => VariantSpec::Patch { base, patch: p.clone() },
        CandidateChoice::PatchInRepo(p) => VariantSpec::Patch { base, patch: repo.root.join(p) },
        CandidateChoice::WorkingTree => VariantSpec::WorkingTree,
    }
}

/// The trials a fixed design will run, for the progress bar.
fn fixed_trials(plan: &Plan, builds: &build::Builds) -> Option<u64> {
    let Design::Fixed { rounds } = plan.design else { return None };
    let sides = if plan.solo { 1 } else { 2 };
    let units: usize = builds
        .prepared
        .iter()
        .map(|pair| pair.iter().flatten().map(|p| crate::workload::units(p).len()).max().unwrap_or(0).max(1))
        .sum();
    Some((units * sides) as u64 * rounds as u64)
}

/// What analysis needs to know of the plan.
pub fn context(plan: &Plan) -> Context {
    let mut ctx = Context::default();
    for i in 0..plan.scenarios.len() {
        let s = plan.scenario(i);
        if let Some(w) = plan.window_secs(i) {
            ctx.windows.insert(s.name.clone(), w);
        }
        let judge = match &s.judge {
            Some(list) => Judge::Listed(list.clone()),
            None => Judge::Kind(s.kind.name().to_string()),
        };
        ctx.judges.insert(s.name.clone(), judge);
        ctx.scenarios.insert(s.name.clone(), describe(&s.kind));
    }
    ctx
}

/// A scenario in a few words, as findings quote it.
fn describe(kind: &crate::config::ScenarioKind) -> analyze::ScenarioInfo {
    use crate::config::{LoadModel, ScenarioKind as K};
    // "1.5s", "30s", "250ms": exact, as a scenario file would say it.
    let secs = |d: std::time::Duration| {
        if d < std::time::Duration::from_secs(1) {
            format!("{}ms", d.as_millis())
        } else {
            format!("{}s", d.as_secs_f64())
        }
    };
    let (what, counters) = match kind {
        K::Http(h) => {
            let requests: Vec<String> = h.requests.iter().take(3).map(|r| format!("{} {}", r.method, r.path)).collect();
            let more = if h.requests.len() > 3 { format!(" (+{} more)", h.requests.len() - 3) } else { String::new() };
            let load = match h.model {
                LoadModel::Closed { connections } => format!("{connections} connections"),
                LoadModel::Open { rate, .. } => format!("{rate} req/s open model"),
            };
            (format!("{}{more}, {load}, {} windows", requests.join(", "), secs(h.duration)), h.counters.is_some())
        }
        K::WebSocket(w) => {
            let mut parts = vec![format!("{} clients on {}", w.clients, w.path)];
            if let Some(c) = w.churn {
                parts.push(format!("{c} reconnects/s"));
            }
            if let Some(r) = w.rate {
                parts.push(format!("{r} echoed messages/s"));
            }
            parts.push(format!("{} windows", secs(w.duration)));
            (parts.join(", "), w.counters.is_some())
        }
        K::Idle(i) => (format!("no load, {} windows", secs(i.duration)), i.counters.is_some()),
        K::GoBench(g) => (format!("go test -bench '{}' in {}", g.bench, g.packages.join(" ")), false),
        K::Command(c) => (c.command.clone(), false),
        K::CargoBench(c) => {
            let filter = c.bench.as_deref().map(|b| format!(" -- {b}")).unwrap_or_default();
            (format!("cargo bench in {}{filter}", c.dir), false)
        }
    };
    analyze::ScenarioInfo { kind: kind.name().to_string(), what, counters }
}

/// The run's record before anything is measured.
fn skeleton(
    plan: &Plan,
    out_dir: &std::path::Path,
    started_at: jiff::Timestamp,
    baseline: &Resolved,
    candidate: &Resolved,
) -> Results {
    let run = Run {
        id: out_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        command: plan.command_line.clone(),
        started_at: started_at.to_string(),
        finished_at: None,
        seed: plan.seed,
        rounds: plan.design.max_rounds(),
        status: "running".into(),
        schedule: Vec::new(),
        alpha: plan.stats.alpha,
        threshold_pct: plan.stats.threshold * 100.0,
        count_threshold_pct: Some(plan.stats.count_threshold * 100.0),
        scenario_files: plan.scenario_files.iter().map(|f| f.display().to_string()).collect(),
        shard: plan.shard.clone(),
        merged: Vec::new(),
    };
    let variants = if plan.solo { vec![candidate.info()] } else { vec![baseline.info(), candidate.info()] };
    let mut results = Results::new(run, environment::capture(), variants);
    if !plan.solo {
        crate::note!("baseline:  {} ({})", baseline.label, short(&baseline.commit));
    }
    crate::note!("candidate: {} ({})", candidate.label, short(&candidate.commit));
    results.warnings.extend(plan.warnings.iter().cloned());
    if !plan.quickened.is_empty() {
        results.warnings.push(format!(
            "--quick: at most {QUICK_ROUNDS} rounds, and shorter windows for {} (warmup ≤ {:?}, window ≤ {:?}, \
             ramp ≤ {:?}, benchtime ≤ {:?}): a first look, noisier than a full run",
            plan.quickened.join(", "),
            crate::config::QUICK_WARMUP,
            crate::config::QUICK_WINDOW,
            crate::config::QUICK_RAMP,
            crate::config::QUICK_BENCHTIME
        ));
    }
    if !plan.solo && baseline.tree == candidate.tree {
        results.warnings.push(
            "baseline and candidate have the same source tree: this is an A/A run, any difference is noise".into(),
        );
    }
    results
}

/// Measurements and their analysis into the run's `Results`.
fn assemble(results: &mut Results, plan: &Plan, ctx: &Context, m: Measurements) {
    let status = m.status.clone().unwrap_or(RunStatus::Complete);
    results.samples = m.samples;
    results.failures.extend(m.failures);
    results.timelines = m.timelines;
    results.latency_spectra = m.latency_spectra;
    results.environment.go = m.go;
    results.run.schedule = m.schedule;
    results.profiles = m.profiles;
    results.profile_diffs = m.profile_diffs;
    let k: std::collections::BTreeMap<String, f64> = (0..plan.scenarios.len())
        .filter_map(|i| {
            let n = plan.target(i)?.postgres.as_ref()?.n_plus_one?;
            Some((plan.scenarios[i].name.clone(), f64::from(n)))
        })
        .collect();
    results.database = analyze::database::summarize(&m.db_trials, &k);
    results.plan_diffs = m.plan_diffs;
    results.warnings.extend(m.warnings);
    results.run.rounds = m.stopping.scenarios.iter().map(|s| s.rounds).max().unwrap_or(0);
    let mut ctx = ctx.clone();
    for s in &m.stopping.scenarios {
        if s.rounds > 0 {
            ctx.seconds_per_round.insert(s.scenario.clone(), s.seconds_per_round);
        }
    }
    results.stopping = Some(m.stopping);
    let cfg = plan.stats;
    if plan.solo {
        results.measured = analyze::measured(&results.samples, cfg.confidence);
    } else {
        let analysis = analyze::analyze_in(&results.samples, &cfg, &ctx);
        results.comparisons = analysis.comparisons;
        results.geomeans = analysis.geomeans;
        results.noise_floors = analysis.noise_floors;
        results.warnings.extend(analysis.warnings);
    }
    results.warnings.extend(analyze::generator_warnings(&results.samples, results.environment.cores));
    for i in 0..plan.scenarios.len() {
        let checks = analyze::check_thresholds(&results.samples, &plan.scenarios[i].name, plan.thresholds(i));
        results.thresholds.extend(checks.into_iter().filter(|t| !plan.solo || t.variant == Role::Candidate));
    }
    results.run.finished_at = Some(jiff::Timestamp::now().to_string());
    results.run.status = match &status {
        RunStatus::Complete => "complete".into(),
        RunStatus::Failed(_) => "failed".into(),
        RunStatus::Interrupted => "interrupted".into(),
    };
    results.findings = analyze::findings::findings(results, &ctx);
    results.analysis = Some(crate::results::AnalysisInputs { config: cfg, context: ctx });
    if status != RunStatus::Complete {
        let planned = m.trials_planned.map(|p| format!(", of {p} planned")).unwrap_or_default();
        results.warnings.push(format!(
            "run {}: results cover the {} trial(s) completed before it stopped{planned}",
            results.run.status, m.trials
        ));
    }
}

/// Records why a run stopped before its first round and writes results.json
/// anyway (DESIGN §7: every run writes one), then hands the error back.
fn stopped_before_measuring(results: &mut Results, out_dir: &std::path::Path, e: BuildError) -> CompareError {
    let error = match e.error {
        BuildFailure::Variant(v) => variant_err(v),
        BuildFailure::Workload(w) => workload_err(w),
    };
    results.run.status = if matches!(error, CompareError::Interrupted) { "interrupted" } else { "failed" }.into();
    results.run.finished_at = Some(jiff::Timestamp::now().to_string());
    results.failures.push(Failure { scenario: e.scenario, variant: e.role, round: 0, message: error.to_string() });
    if let Err(e) = report::json::write_results(out_dir, results) {
        results.warnings.push(format!("cannot write results.json: {e}"));
    }
    let _ = report::write_reports(results, out_dir, out_dir);
    error
}

fn variant_err(e: VariantError) -> CompareError {
    if e.is_bad_input() { CompareError::BadInput(e.to_string()) } else { CompareError::RunFailed(e.to_string()) }
}

fn workload_err(e: WorkloadError) -> CompareError {
    match e {
        WorkloadError::Invalid { .. } => CompareError::BadInput(e.to_string()),
        WorkloadError::Interrupted => CompareError::Interrupted,
        other => CompareError::RunFailed(other.to_string()),
    }
}

/// `<reports>/<timestamp>-<name>`, with a suffix if two runs start in the same second.
fn unique_run_dir(reports: &std::path::Path, name: &str) -> PathBuf {
    let stamp = jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string();
    let mut dir = reports.join(format!("{stamp}-{name}"));
    let mut n = 2;
    while dir.exists() {
        dir = reports.join(format!("{stamp}-{name}-{n}"));
        n += 1;
    }
    dir
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
