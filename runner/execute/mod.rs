//! The execute stage (DESIGN §2, §5): rounds of interleaved trials in a
//! seeded random order — a fixed number, or as many as the stopping rule
//! needs within the budget — then the profiling passes. Whatever happens
//! (a failed trial, Ctrl-C, the budget), what was measured is kept and the
//! reason the run stopped is recorded.

pub mod profiling;
pub mod progress;
pub mod status;
pub mod stopping;

use crate::analyze::Context;
use crate::build::Builds;
use crate::config;
use crate::model::Role;
use crate::plan::{Design, Plan};
use crate::results::{
    Failure, GoConfig, LatencySpectrum, Look, Profile, ProfileDiff, Sample, ScenarioStop, ScheduledRound, Stopping,
    Timeline,
};
use crate::schedule::Orders;
use crate::workload::{self, WorkloadError};
use progress::Observer;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

/// How a run ended; what was measured is kept in every case.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    Complete,
    /// A trial failed; the message says which and why.
    Failed(String),
    Interrupted,
}

/// Everything the rounds and profiling passes produced.
#[derive(Debug, Default)]
pub struct Measurements {
    pub samples: Vec<Sample>,
    pub failures: Vec<Failure>,
    pub timelines: Vec<Timeline>,
    pub latency_spectra: Vec<LatencySpectrum>,
    pub go: Vec<GoConfig>,
    pub schedule: Vec<ScheduledRound>,
    pub stopping: Stopping,
    pub status: Option<RunStatus>,
    pub profiles: Vec<Profile>,
    pub profile_diffs: Vec<ProfileDiff>,
    /// `[target.postgres]`: each trial's database window.
    pub db_trials: Vec<crate::analyze::database::DbTrial>,
    /// `[target.postgres]`: plans from the profiling passes, compared.
    pub plan_diffs: Vec<crate::results::PlanDiff>,
    pub warnings: Vec<String>,
    /// Trials run, and the most a fixed design planned (for "results cover…").
    pub trials: usize,
    pub trials_planned: Option<usize>,
}

/// Per scenario, while the rounds run.
#[derive(Debug, Clone, Default)]
struct ScenarioState {
    open: bool,
    rounds: u32,
    seconds: f64,
    reason: Option<&'static str>,
}

/// Per scenario and variant: every round's latencies merged.
type Spectra = BTreeMap<(usize, Role), (&'static str, hdrhistogram::Histogram<u64>, u32)>;

/// Runs the rounds of `plan` on `builds`, then the profiling passes.
pub fn run(
    plan: &Plan,
    builds: &mut Builds,
    ctx: &Context,
    out_dir: &Path,
    logs: &Path,
    observer: &mut dyn Observer,
) -> Measurements {
    let names = plan.names();
    let roles: Vec<Role> = if plan.solo { vec![Role::Candidate] } else { vec![Role::Baseline, Role::Candidate] };
    let units: Vec<Vec<Option<String>>> = builds.prepared.iter().map(units_of).collect();
    let mut m = Measurements::default();
    if let Design::Fixed { rounds } = plan.design {
        m.trials_planned = Some(units.iter().map(|u| u.len()).sum::<usize>() * roles.len() * rounds as usize);
    }
    let mut states = vec![ScenarioState { open: true, ..ScenarioState::default() }; names.len()];
    let mut orders = Orders::new(plan.seed);
    let mut spectra = Spectra::new();
    let mut go_seen = BTreeSet::new();
    let mut looks: Vec<Look> = Vec::new();
    let started = Instant::now();
    let mut stop: Option<&'static str> = None;
    'rounds: for round in 1..=plan.design.max_rounds() {
        if crate::process::interrupted() {
            m.status = Some(RunStatus::Interrupted);
            break;
        }
        if let Design::Sequential(budget) = plan.design {
            let next: f64 = states.iter().filter(|s| s.open).map(|s| s.seconds / s.rounds.max(1) as f64).sum();
            if round > 1 && started.elapsed().as_secs_f64() + next > budget.max_time.as_secs_f64() {
                stop = Some("max_time");
                break;
            }
        }
        for i in 0..names.len() {
            if !states[i].open {
                continue;
            }
            let round_started = Instant::now();
            for unit in &units[i] {
                let order = orders.next_pair();
                let measured: Vec<Role> = order.into_iter().filter(|r| roles.contains(r)).collect();
                m.schedule.push(ScheduledRound {
                    scenario: names[i].clone(),
                    unit: unit.clone(),
                    round,
                    order: measured.clone(),
                });
                for role in measured {
                    if let Err(status) =
                        trial(plan, builds, &mut m, &mut spectra, &mut go_seen, i, unit, round, role, logs, observer)
                    {
                        m.status = Some(status);
                        break 'rounds;
                    }
                }
            }
            states[i].rounds = round;
            states[i].seconds += round_started.elapsed().as_secs_f64();
        }
        if let Design::Sequential(budget) = plan.design {
            let open: Vec<bool> = states.iter().map(|s| s.open).collect();
            let elapsed = started.elapsed().as_secs_f64();
            let ctx = with_pace(ctx, &names, &states);
            let at = stopping::At { round, elapsed_s: elapsed };
            let found = stopping::look(&m.samples, &names, &open, &plan.stats, &ctx, plan.solo, at);
            if round >= budget.min_rounds {
                for (i, state) in states.iter_mut().enumerate() {
                    if state.open && found.settled[i] {
                        state.open = false;
                        state.reason = Some("settled");
                        observer.scenario_stopped(&names[i], state.rounds, "settled");
                    }
                }
            }
            observer.looked(&found.look);
            looks.push(found.look);
            if states.iter().all(|s| !s.open) {
                stop = Some("settled");
                break;
            }
        }
    }
    observer.done();
    let reason = match (&m.status, plan.design, stop) {
        (Some(RunStatus::Interrupted), ..) => "interrupted",
        (Some(RunStatus::Failed(_)), ..) => "failed",
        (_, _, Some(reason)) => reason,
        (_, Design::Fixed { .. }, None) => "rounds",
        (_, Design::Sequential(_), None) => "max_rounds",
    };
    for (name, state) in names.iter().zip(&mut states) {
        if state.reason.is_none() {
            state.reason = Some(reason);
            if matches!(reason, "max_time" | "max_rounds") {
                observer.scenario_stopped(name, state.rounds, reason);
            }
        }
    }
    m.stopping = stopping_record(plan, reason, started.elapsed().as_secs_f64(), &names, &states, looks);
    m.latency_spectra = spectra_of(&spectra, &names);
    if m.status.is_none() {
        m.status = Some(RunStatus::Complete);
    }
    // Profiles come last, in passes of their own: never inside a timed round.
    if m.status == Some(RunStatus::Complete) {
        let iterations = profiling::iterations(&m.samples, &names, plan.solo);
        match profiling::run(&mut builds.prepared, &names, &iterations, out_dir, logs) {
            Ok(o) => {
                m.profiles = o.profiles;
                m.profile_diffs = o.diffs;
                m.plan_diffs = o.plan_diffs;
                m.warnings.extend(o.warnings);
            }
            Err(WorkloadError::Interrupted) => m.status = Some(RunStatus::Interrupted),
            Err(e) => m.warnings.push(format!("the profiling pass failed, timings are kept: {e}")),
        }
    }
    if m.status == Some(RunStatus::Complete) && m.samples.is_empty() && !m.failures.is_empty() {
        m.status = Some(RunStatus::Failed(format!(
            "every round failed; nothing could be measured. The first failure:\n{}",
            m.failures[0].message
        )));
    }
    m
}

/// The units a scenario runs as separate pairs (both variants' lists, in
/// order, without repeats); one whole-scenario unit when it has none.
fn units_of(pair: &[Option<workload::Prepared>; 2]) -> Vec<Option<String>> {
    let mut out: Vec<String> = Vec::new();
    for p in pair.iter().flatten() {
        for u in workload::units(p) {
            if !out.contains(&u) {
                out.push(u);
            }
        }
    }
    if out.is_empty() { vec![None] } else { out.into_iter().map(Some).collect() }
}

/// The analysis context with each scenario's pace so far (seconds per round).
fn with_pace(ctx: &Context, names: &[String], states: &[ScenarioState]) -> Context {
    let mut ctx = ctx.clone();
    for (name, s) in names.iter().zip(states) {
        if s.rounds > 0 {
            ctx.seconds_per_round.insert(name.clone(), s.seconds / s.rounds as f64);
        }
    }
    ctx
}

/// One trial: run it, keep what it measured, decide whether a failure stops the run.
#[allow(clippy::too_many_arguments)]
fn trial(
    plan: &Plan,
    builds: &mut Builds,
    m: &mut Measurements,
    spectra: &mut Spectra,
    go_seen: &mut BTreeSet<(String, Role, String, String)>,
    i: usize,
    unit: &Option<String>,
    round: u32,
    role: Role,
    logs: &Path,
    observer: &mut dyn Observer,
) -> Result<(), RunStatus> {
    let name = &plan.scenarios[i].name;
    let Some(p) = &mut builds.prepared[i][role.slot()] else {
        return Ok(());
    };
    observer.trial_started(name, unit.as_deref(), round, role);
    let log = logs.join(format!("{}-{}-{}.log", crate::paths::file_component(name), role, round));
    let result = workload::run_trial(p, round, &log, unit.as_deref());
    let server = workload::database_of(p).map(|d| d.describe());
    observer.trial_finished();
    m.trials += 1;
    match result {
        Ok(output) => {
            for (key, value) in output.config {
                if go_seen.insert((name.clone(), role, key.clone(), value.clone())) {
                    m.go.push(GoConfig { scenario: name.clone(), variant: role, key, value });
                }
            }
            if let Some((what, h)) = output.latency {
                match spectra.get_mut(&(i, role)) {
                    Some((_, merged, n)) => {
                        // Same bounds everywhere (load::recorder): cannot fail.
                        let _ = merged.add(&h);
                        *n += 1;
                    }
                    None => {
                        spectra.insert((i, role), (what, h, 1));
                    }
                }
            }
            if let (Some(window), Some(server)) = (output.database, server) {
                m.db_trials.push(crate::analyze::database::DbTrial {
                    scenario: name.clone(),
                    role,
                    round,
                    server,
                    window,
                });
            }
            if let Some(mut t) = output.timeline {
                t.scenario = name.clone();
                t.variant = role;
                t.round = round;
                m.timelines.push(t);
            }
            for x in output.measurements {
                m.samples.push(Sample {
                    scenario: name.clone(),
                    benchmark: x.benchmark,
                    metric: x.metric,
                    unit: x.unit,
                    better: x.better,
                    variant: role,
                    round,
                    value: x.value,
                });
            }
            Ok(())
        }
        Err(WorkloadError::Interrupted) => Err(RunStatus::Interrupted),
        Err(e) => {
            let message = e.to_string();
            m.failures.push(Failure { scenario: name.clone(), variant: role, round, message: message.clone() });
            // A service may crash in one round and run fine in the next;
            // `on_crash = "continue"` (the default for targets) keeps going.
            let keep_going = matches!(e, WorkloadError::TrialFailed(_))
                && workload::is_service(&plan.scenario(i).kind)
                && plan.target(i).is_some_and(|t| t.on_crash == config::OnCrash::Continue);
            if keep_going {
                observer.note(&format!("round failed, continuing: {}", message.lines().next().unwrap_or("")));
                return Ok(());
            }
            Err(RunStatus::Failed(format!("scenario {name:?}, {role} round {round}: {message}")))
        }
    }
}

fn spectra_of(spectra: &Spectra, names: &[String]) -> Vec<LatencySpectrum> {
    spectra
        .iter()
        .map(|((scenario, role), (what, h, rounds))| LatencySpectrum {
            scenario: names[*scenario].clone(),
            variant: *role,
            what: (*what).into(),
            count: h.len(),
            rounds: *rounds,
            points: crate::results::spectrum_points(h),
        })
        .collect()
}

/// The design and how it ended, for results.json.
fn stopping_record(
    plan: &Plan,
    reason: &str,
    measured_s: f64,
    names: &[String],
    states: &[ScenarioState],
    looks: Vec<Look>,
) -> Stopping {
    let scenarios = names
        .iter()
        .zip(states)
        .map(|(name, s)| ScenarioStop {
            scenario: name.clone(),
            rounds: s.rounds,
            reason: s.reason.unwrap_or(reason).to_string(),
            seconds: s.seconds,
            seconds_per_round: if s.rounds > 0 { s.seconds / s.rounds as f64 } else { 0.0 },
        })
        .collect();
    let mut out = Stopping { reason: reason.to_string(), measured_s, scenarios, looks, ..Stopping::default() };
    match plan.design {
        Design::Fixed { rounds } => {
            out.rule = "fixed".into();
            out.method = format!(
                "{rounds} rounds; paired rounds: Wilcoxon signed-rank test, symmetric {:.0}% order-statistic interval of the median ratio, Benjamini–Hochberg across the run",
                plan.stats.confidence * 100.0
            );
            out.rounds = Some(rounds);
        }
        Design::Sequential(b) => {
            out.rule = "sequential".into();
            out.method = format!(
                "rounds until every judged comparison settles: sign-test e-values and confidence sequences of the median ratio (beta-binomial mixture, r = {}), anytime-valid at α = {}; e-BH across the run",
                crate::stats::sequential::MIXTURE_R,
                plan.stats.alpha
            );
            out.min_rounds = Some(b.min_rounds);
            out.max_rounds = Some(b.max_rounds);
            out.max_time_s = Some(b.max_time.as_secs_f64());
        }
    }
    out
}
