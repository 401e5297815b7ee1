//! The `compare` pipeline end to end: scenario files → variants → builds →
//! interleaved rounds → analysis → results.json and the terminal report.
//! Whatever happens mid-run (a failed trial, Ctrl-C), the rounds already
//! measured are written before returning.

use crate::analyze;
use crate::config::{self, CandidateSpec, ScenarioFile};
use crate::environment;
use crate::model::Role;
use crate::report;
use crate::results::{Failure, GoConfig, Results, Run, Sample};
use crate::schedule;
use crate::stats::CompareConfig;
use crate::variant::build_cache::BuildCache;
use crate::variant::{Repo, Resolved, VariantSpec};
use crate::workload::{self, BuildNote, Prepared, VariantContext, WorkloadError};
use std::path::PathBuf;
use std::time::Instant;

pub const DEFAULT_ROUNDS: u32 = 10;
pub const QUICK_ROUNDS: u32 = 8;
pub const DEFAULT_THRESHOLD: f64 = 0.02;
pub const DEFAULT_ALPHA: f64 = 0.05;

#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    pub scenario_files: Vec<PathBuf>,
    pub baseline: Option<String>,
    pub candidate: Option<String>,
    pub patch: Option<PathBuf>,
    pub rounds: Option<u32>,
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
}

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

/// How a run ended; results are on disk in every case.
#[derive(Debug)]
pub struct CompareOutcome {
    pub results: Results,
    pub out_dir: PathBuf,
    pub status: RunStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    Complete,
    /// A trial failed; the message says which and why.
    Failed(String),
    Interrupted,
}

struct LoadedScenario<'a> {
    file: &'a ScenarioFile,
    index: usize,
}

pub fn run(opts: &CompareOptions) -> Result<CompareOutcome, CompareError> {
    let started_at = jiff::Timestamp::now();
    if opts.scenario_files.is_empty() {
        return Err(CompareError::BadInput(
            "no scenario file given; pass --scenario FILE (e.g. --scenario scenarios/demo.toml)".into(),
        ));
    }
    let mut files = Vec::new();
    for path in &opts.scenario_files {
        files.push(config::load(path).map_err(|e| CompareError::BadInput(e.to_string()))?);
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
    let mut scenarios: Vec<LoadedScenario<'_>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for file in &files {
        for (index, s) in file.scenarios.iter().enumerate() {
            if names.contains(&s.name) {
                return Err(CompareError::BadInput(format!(
                    "{}: scenario name {:?} is used by another scenario file; names must be unique in one run",
                    file.path.display(),
                    s.name
                )));
            }
            if let config::ScenarioKind::NotYetRunnable { kind } = &s.kind {
                return Err(CompareError::BadInput(format!(
                    "{}: scenario {:?} is of kind {kind:?}, which this version of perfgate cannot run yet (runnable: gobench, command, http, websocket, idle)",
                    file.path.display(),
                    s.name
                )));
            }
            names.push(s.name.clone());
            scenarios.push(LoadedScenario { file, index });
        }
    }
    // One run has one baseline, candidate and round count: the first file's
    // [compare] decides; later files' settings are reported, not mixed in.
    let defaults = &files[0].compare;
    let mut setting_warnings = Vec::new();
    for f in files.iter().skip(1) {
        let c = &f.compare;
        if c.rounds.is_some()
            || c.threshold.is_some()
            || c.alpha.is_some()
            || c.seed.is_some()
            || c.baseline.is_some()
            || c.candidate.is_some()
        {
            setting_warnings.push(format!(
                "{}: its [compare] settings are ignored; the first scenario file's ({}) apply to the whole run",
                f.path.display(),
                files[0].path.display()
            ));
        }
    }

    let cwd = opts.repo_dir.clone().unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
    let repo = Repo::discover(&cwd).map_err(|e| CompareError::BadInput(e.to_string()))?;
    let variant_err = |e: crate::variant::VariantError| {
        if e.is_bad_input() { CompareError::BadInput(e.to_string()) } else { CompareError::RunFailed(e.to_string()) }
    };
    repo.ensure_ignored("/.perfgate/").map_err(variant_err)?;
    let _lock = repo.lock().map_err(variant_err)?;

    // CLI flags override the scenario file, which overrides the defaults.
    let baseline_rev = opts.baseline.clone().or_else(|| defaults.baseline.clone()).unwrap_or_else(|| "HEAD".into());
    let candidate_spec = if let Some(p) = &opts.patch {
        let abs = if p.is_absolute() { p.clone() } else { cwd.join(p) };
        VariantSpec::Patch { base: baseline_rev.clone(), patch: abs }
    } else if let Some(r) = &opts.candidate {
        VariantSpec::Rev(r.clone())
    } else {
        match &defaults.candidate {
            Some(CandidateSpec::Rev(r)) => VariantSpec::Rev(r.clone()),
            Some(CandidateSpec::Patch(p)) => {
                VariantSpec::Patch { base: baseline_rev.clone(), patch: repo.root.join(p) }
            }
            None => VariantSpec::WorkingTree,
        }
    };
    let rounds = opts.rounds.or(defaults.rounds).unwrap_or(DEFAULT_ROUNDS);
    let rounds = if opts.quick { rounds.min(QUICK_ROUNDS) } else { rounds };
    if rounds == 0 {
        return Err(CompareError::BadInput("--rounds must be at least 1".into()));
    }
    let cfg = CompareConfig {
        alpha: opts.alpha.or(defaults.alpha).unwrap_or(DEFAULT_ALPHA),
        confidence: 0.95,
        threshold: opts.threshold.or(defaults.threshold).unwrap_or(DEFAULT_THRESHOLD),
    };
    let seed = opts.seed.or(defaults.seed).unwrap_or_else(schedule::fresh_seed);

    let run_name = files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join("+");
    let out_dir = match &opts.out {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => cwd.join(d),
        None => unique_run_dir(&repo.root.join("reports"), &sanitize(&run_name)),
    };
    // Created before the snapshot, and ignored by git from the start (a
    // `.gitignore` of `*` inside it), so neither this run's report nor any
    // earlier one leaks into a snapshot of the working tree.
    let logs = out_dir.join("logs");
    std::fs::create_dir_all(&logs)
        .and_then(|_| std::fs::write(out_dir.join(".gitignore"), "# perfgate output\n*\n"))
        .map_err(|e| CompareError::RunFailed(format!("cannot create {}: {e}", logs.display())))?;
    if opts.out.is_none() {
        repo.ensure_ignored("/reports/latest").map_err(variant_err)?;
    }

    let baseline = repo.resolve(Role::Baseline, &VariantSpec::Rev(baseline_rev.clone())).map_err(variant_err)?;
    let candidate = repo.resolve(Role::Candidate, &candidate_spec).map_err(variant_err)?;

    crate::process::install_interrupt_handler();
    let run = Run {
        id: out_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        command: opts.command_line.clone(),
        started_at: started_at.to_string(),
        finished_at: None,
        seed,
        rounds,
        status: "running".into(),
        schedule: Vec::new(),
        alpha: cfg.alpha,
        threshold_pct: cfg.threshold * 100.0,
        scenario_files: opts.scenario_files.iter().map(|f| f.display().to_string()).collect(),
    };
    let variants = if opts.solo { vec![candidate.info()] } else { vec![baseline.info(), candidate.info()] };
    let mut results = Results::new(run, environment::capture(), variants);
    if !opts.solo {
        crate::note!("baseline:  {} ({})", baseline.label, short(&baseline.commit));
    }
    crate::note!("candidate: {} ({})", candidate.label, short(&candidate.commit));
    results.warnings.extend(setting_warnings);
    if !quickened.is_empty() {
        results.warnings.push(format!(
            "--quick: at most {QUICK_ROUNDS} rounds, and shorter windows for {} (warmup ≤ {:?}, window ≤ {:?}, \
             ramp ≤ {:?}, benchtime ≤ {:?}): a first look, noisier than a full run",
            quickened.join(", "),
            config::QUICK_WARMUP,
            config::QUICK_WINDOW,
            config::QUICK_RAMP,
            config::QUICK_BENCHTIME
        ));
    }
    if !opts.solo && baseline.tree == candidate.tree {
        results.warnings.push(
            "baseline and candidate have the same source tree: this is an A/A run, any difference is noise".into(),
        );
    }

    // Build both variants before measuring anything: a build failure costs no rounds.
    let cache = BuildCache::new(repo.state_dir().join("builds"));
    let mut prepared: Vec<[Option<Prepared>; 2]> = Vec::new();
    let build_started = Instant::now();
    let mut per_variant: Vec<(Resolved, PathBuf)> = Vec::new();
    let measured: Vec<&Resolved> = if opts.solo { vec![&candidate] } else { vec![&baseline, &candidate] };
    for v in measured {
        match repo.materialize(v) {
            Ok(checkout) => per_variant.push((v.clone(), checkout)),
            Err(e) => {
                return Err(stopped_before_measuring(&mut results, &out_dir, "", v.role, variant_err(e)));
            }
        }
    }
    // One line per build, however many scenarios share it.
    let mut announced = std::collections::BTreeSet::new();
    for s in &scenarios {
        let scenario = &s.file.scenarios[s.index];
        let mut pair: [Option<Prepared>; 2] = [None, None];
        for (v, checkout) in &per_variant {
            let slot = if v.role == Role::Baseline { 0 } else { 1 };
            let ctx = VariantContext { role: v.role, tree: &v.tree, checkout, cache: &cache, logs: &logs };
            let mut notes: Vec<BuildNote> = Vec::new();
            let target_build = match &s.file.target {
                Some(t) if !matches!(scenario.kind, config::ScenarioKind::GoBench(_)) => {
                    let b = workload::build_target(t, &ctx).map_err(|e| {
                        stopped_before_measuring(&mut results, &out_dir, &scenario.name, v.role, workload_err(e))
                    })?;
                    if let Some(b) = &b {
                        notes.push(BuildNote { role: v.role, what: "target".into(), build: b.clone() });
                    }
                    b
                }
                _ => None,
            };
            let p = workload::prepare(
                scenario,
                s.file.target.as_ref(),
                target_build.as_ref(),
                &ctx,
                &mut notes,
                opts.allow_remote,
            )
            .map_err(|e| stopped_before_measuring(&mut results, &out_dir, &scenario.name, v.role, workload_err(e)))?;
            for n in notes {
                if !announced.insert((n.role.as_str(), n.what.clone(), n.build.key.clone())) {
                    continue;
                }
                let how = if n.build.cached { "cached, not rebuilt" } else { "built" };
                crate::note!("{:<9}  {}: {how} ({})", n.role.as_str(), n.what, n.build.key);
            }
            pair[slot] = Some(p);
        }
        prepared.push(pair);
    }
    crate::note!("builds ready in {:.1}s", build_started.elapsed().as_secs_f64());

    let mut plan = schedule::plan(&names, rounds, seed);
    if opts.solo {
        plan.trials.retain(|t| t.role == Role::Candidate);
        for r in &mut plan.rounds {
            r.order.retain(|role| *role == Role::Candidate);
        }
    }
    results.run.schedule = plan.rounds.clone();
    let mut progress = Progress::new(plan.trials.len() as u64);
    let mut status = RunStatus::Complete;
    let mut go_config_seen = std::collections::BTreeSet::new();
    // Per scenario and variant: every round's latencies merged.
    let mut spectra: std::collections::BTreeMap<(usize, Role), (&'static str, hdrhistogram::Histogram<u64>, u32)> =
        std::collections::BTreeMap::new();
    for trial in &plan.trials {
        if crate::process::interrupted() {
            status = RunStatus::Interrupted;
            break;
        }
        let name = &names[trial.scenario];
        let slot = if trial.role == Role::Baseline { 0 } else { 1 };
        let Some(p) = &mut prepared[trial.scenario][slot] else {
            continue;
        };
        progress.start(name, trial.round, trial.role);
        let log = logs.join(format!("{}-{}-{}.log", sanitize(name), trial.role, trial.round));
        match workload::run_trial(p, trial.round, &log) {
            Ok(output) => {
                for (key, value) in output.config {
                    if go_config_seen.insert((name.clone(), trial.role, key.clone(), value.clone())) {
                        results.environment.go.push(GoConfig {
                            scenario: name.clone(),
                            variant: trial.role,
                            key,
                            value,
                        });
                    }
                }
                if let Some((what, h)) = output.latency {
                    match spectra.get_mut(&(trial.scenario, trial.role)) {
                        Some((_, merged, n)) => {
                            // Same bounds everywhere (load::recorder): cannot fail.
                            let _ = merged.add(&h);
                            *n += 1;
                        }
                        None => {
                            spectra.insert((trial.scenario, trial.role), (what, h, 1));
                        }
                    }
                }
                if let Some(mut t) = output.timeline {
                    t.scenario = name.clone();
                    t.variant = trial.role;
                    t.round = trial.round;
                    results.timelines.push(t);
                }
                for m in output.measurements {
                    results.samples.push(Sample {
                        scenario: name.clone(),
                        benchmark: m.benchmark,
                        metric: m.metric,
                        unit: m.unit,
                        better: m.better,
                        variant: trial.role,
                        round: trial.round,
                        value: m.value,
                    });
                }
                progress.finish_trial();
            }
            Err(WorkloadError::Interrupted) => {
                status = RunStatus::Interrupted;
                break;
            }
            Err(e) => {
                let message = e.to_string();
                results.failures.push(Failure {
                    scenario: name.clone(),
                    variant: trial.role,
                    round: trial.round,
                    message: message.clone(),
                });
                let s = &scenarios[trial.scenario];
                // A service may crash in one round and run fine in the next;
                // `on_crash = "continue"` (the default for targets) keeps going.
                let keep_going = matches!(e, WorkloadError::TrialFailed(_))
                    && workload::is_service(&s.file.scenarios[s.index].kind)
                    && s.file.target.as_ref().is_some_and(|t| t.on_crash == config::OnCrash::Continue);
                progress.finish_trial();
                if keep_going {
                    crate::note!("round failed, continuing: {}", message.lines().next().unwrap_or(""));
                    continue;
                }
                status =
                    RunStatus::Failed(format!("scenario {name:?}, {} round {}: {message}", trial.role, trial.round));
                break;
            }
        }
    }
    progress.done();
    for ((scenario, role), (what, h, rounds)) in &spectra {
        results.latency_spectra.push(crate::results::LatencySpectrum {
            scenario: names[*scenario].clone(),
            variant: *role,
            what: (*what).into(),
            count: h.len(),
            rounds: *rounds,
            points: crate::results::spectrum_points(h),
        });
    }
    // Profiles come last, in passes of their own: never inside a timed round.
    if status == RunStatus::Complete {
        match crate::profiling::run(&mut prepared, &names, &out_dir, &logs) {
            Ok(o) => {
                results.profiles = o.profiles;
                results.profile_diffs = o.diffs;
                results.warnings.extend(o.warnings);
            }
            Err(WorkloadError::Interrupted) => status = RunStatus::Interrupted,
            Err(e) => results.warnings.push(format!("the profiling pass failed, timings are kept: {e}")),
        }
    }
    for pair in &mut prepared {
        for p in pair.iter_mut().flatten() {
            workload::finish(p);
        }
    }
    if status == RunStatus::Complete && results.samples.is_empty() && !results.failures.is_empty() {
        status = RunStatus::Failed(format!(
            "every round failed; nothing could be measured. The first failure:\n{}",
            results.failures[0].message
        ));
    }

    let windows: std::collections::BTreeMap<String, f64> = scenarios
        .iter()
        .filter_map(|s| {
            let sc = &s.file.scenarios[s.index];
            let window = match &sc.kind {
                config::ScenarioKind::Http(h) => h.duration,
                config::ScenarioKind::WebSocket(w) => w.duration,
                config::ScenarioKind::Idle(i) => i.duration,
                _ => return None,
            };
            Some((sc.name.clone(), window.as_secs_f64()))
        })
        .collect();
    if !opts.solo {
        let analysis = analyze::analyze_with_windows(&results.samples, &cfg, &windows);
        results.comparisons = analysis.comparisons;
        results.geomeans = analysis.geomeans;
        results.warnings.extend(analysis.warnings);
    }
    results.warnings.extend(analyze::generator_warnings(&results.samples, results.environment.cores));
    for s in &scenarios {
        let scenario = &s.file.scenarios[s.index];
        let thresholds = match &scenario.kind {
            config::ScenarioKind::Http(h) => &h.thresholds,
            config::ScenarioKind::Idle(i) => &i.thresholds,
            config::ScenarioKind::WebSocket(w) => &w.thresholds,
            _ => continue,
        };
        let checks = analyze::check_thresholds(&results.samples, &scenario.name, thresholds);
        results.thresholds.extend(checks.into_iter().filter(|t| !opts.solo || t.variant == Role::Candidate));
    }
    results.run.finished_at = Some(jiff::Timestamp::now().to_string());
    results.run.status = match &status {
        RunStatus::Complete => "complete".into(),
        RunStatus::Failed(_) => "failed".into(),
        RunStatus::Interrupted => "interrupted".into(),
    };
    if status != RunStatus::Complete {
        let measured = results
            .samples
            .iter()
            .map(|s| (s.scenario.clone(), s.round, s.variant))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        results.warnings.push(format!(
            "run {}: results cover the {measured} trial(s) completed before it stopped, of {} planned",
            results.run.status,
            plan.trials.len()
        ));
    }
    report::json::write_results(&out_dir, &results)
        .map_err(|e| CompareError::RunFailed(format!("cannot write results to {}: {e}", out_dir.display())))?;
    if let Err(e) = report::write_reports(&results, &out_dir, &out_dir) {
        crate::note!("warning: cannot write the reports in {}: {e}", out_dir.display());
    }
    if opts.out.is_none() {
        let _ = report::json::update_latest(&out_dir);
    }
    Ok(CompareOutcome { results, out_dir, status })
}

/// Records why a run stopped before its first round and writes results.json
/// anyway (DESIGN §7: every run writes one), then hands the error back.
fn stopped_before_measuring(
    results: &mut Results,
    out_dir: &std::path::Path,
    scenario: &str,
    role: Role,
    error: CompareError,
) -> CompareError {
    results.run.status = if matches!(error, CompareError::Interrupted) { "interrupted" } else { "failed" }.into();
    results.run.finished_at = Some(jiff::Timestamp::now().to_string());
    results.failures.push(Failure { scenario: scenario.into(), variant: role, round: 0, message: error.to_string() });
    if let Err(e) = report::json::write_results(out_dir, results) {
        results.warnings.push(format!("cannot write results.json: {e}"));
    }
    let _ = report::write_reports(results, out_dir, out_dir);
    error
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

fn workload_err(e: WorkloadError) -> CompareError {
    match e {
        WorkloadError::Invalid { .. } => CompareError::BadInput(e.to_string()),
        WorkloadError::Interrupted => CompareError::Interrupted,
        other => CompareError::RunFailed(other.to_string()),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// A file-name-safe version of a scenario or run name.
pub fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// Progress on stderr: a bar with ETA on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: u64,
}

impl Progress {
    fn new(total: u64) -> Progress {
        use std::io::IsTerminal;
        let bar = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} trials  ETA {eta}  {msg}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            Some(bar)
        } else {
            None
        };
        Progress { bar, total, done: 0 }
    }

    fn start(&mut self, scenario: &str, round: u32, role: Role) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("{scenario} round {round} {role}")),
            None => crate::note!("[{}/{}] {scenario} round {round} {role}", self.done + 1, self.total),
        }
    }

    fn finish_trial(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
