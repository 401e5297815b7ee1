//! `perfgate merge`: the results of shards (`compare --shard I/N`, one per
//! CI job) joined into one run. Each comparison stays paired within its own
//! shard — a shard ran both variants on its own machine, and merging only
//! puts samples side by side, never a baseline from one machine against a
//! candidate from another — and the joined samples are analysed as one run
//! with the shards' own settings, so the multiple-testing correction covers
//! the whole family. Shards of different revisions or settings, a shard
//! missing or given twice, or one scenario in two shards are refused.

use crate::analyze::{self, Context};
use crate::model::Role;
use crate::results::{AnalysisInputs, MergedRun, Results, Run, Stopping};
use std::collections::BTreeSet;

/// One input: where it was read from (for messages) and what it holds.
pub struct Input {
    pub path: String,
    pub results: Results,
}

/// Joins `inputs` (at least one) into one run; `command` is recorded as its command line.
pub fn merge(mut inputs: Vec<Input>, command: &str) -> Result<Results, String> {
    check(&inputs)?;
    inputs.sort_by_key(|i| i.results.run.shard.as_ref().map(|s| s.index));
    let first = &inputs[0].results;
    let inputs_ref = first.analysis.as_ref().ok_or("checked")?;
    let config = inputs_ref.config;
    let mut context = Context::default();
    let mut merged = Results::new(joined_run(&inputs, command), first.environment.clone(), first.variants.clone());
    let mut shard_warnings = Vec::new();
    for input in &inputs {
        let r = &input.results;
        let c = &r.analysis.as_ref().ok_or("checked")?.context;
        context.windows.extend(c.windows.clone());
        context.judges.extend(c.judges.clone());
        context.seconds_per_round.extend(c.seconds_per_round.clone());
        context.scenarios.extend(c.scenarios.clone());
        merged.samples.extend(r.samples.iter().cloned());
        merged.profiles.extend(r.profiles.iter().cloned());
        merged.profile_diffs.extend(r.profile_diffs.iter().cloned());
        merged.latency_spectra.extend(r.latency_spectra.iter().cloned());
        merged.timelines.extend(r.timelines.iter().cloned());
        merged.thresholds.extend(r.thresholds.iter().cloned());
        merged.failures.extend(r.failures.iter().cloned());
        merged.database.extend(r.database.iter().cloned());
        merged.plan_diffs.extend(r.plan_diffs.iter().cloned());
        shard_warnings.push((label(input), r.warnings.clone()));
    }
    merged.stopping = joined_stopping(&inputs);
    let analysis = analyze::analyze_in(&merged.samples, &config, &context);
    // A shard's own analysis warnings come back from the joined analysis;
    // its other warnings keep the shard's name.
    for (who, warnings) in shard_warnings {
        for w in warnings.into_iter().filter(|w| !analysis.warnings.contains(w)) {
            merged.warnings.push(format!("{who}: {w}"));
        }
    }
    merged.warnings.extend(analysis.warnings);
    let hosts: BTreeSet<&str> = inputs.iter().map(|i| i.results.environment.hostname.as_str()).collect();
    if hosts.len() > 1 {
        merged.warnings.push(format!(
            "the shards ran on {} machines ({}): each comparison is paired within its own shard's machine; \
             the environment shown is the first shard's",
            hosts.len(),
            hosts.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    merged.comparisons = analysis.comparisons;
    merged.geomeans = analysis.geomeans;
    merged.noise_floors = analysis.noise_floors;
    merged.findings = analyze::findings::findings(&merged, &context);
    merged.analysis = Some(AnalysisInputs { config, context });
    Ok(merged)
}

fn label(input: &Input) -> String {
    match &input.results.run.shard {
        Some(s) => format!("shard {}/{}", s.index, s.count),
        None => input.path.clone(),
    }
}

/// Refuses inputs that are not shards of one comparison.
fn check(inputs: &[Input]) -> Result<(), String> {
    let Some(first) = inputs.first() else {
        return Err("nothing to merge: give the results.json of each shard".into());
    };
    for i in inputs {
        let r = &i.results;
        if r.analysis.is_none() {
            return Err(format!(
                "{}: it does not record its analysis settings (a perfgate older than `merge`, or not a compare run); rerun it",
                i.path
            ));
        }
        if r.variants.len() != 2 {
            return Err(format!(
                "{}: a run measured alone (`perfgate run`, a first night) has nothing to merge",
                i.path
            ));
        }
        for role in [Role::Baseline, Role::Candidate] {
            let side =
                |r: &Results| r.variants.iter().find(|v| v.role == role).map(|v| (v.commit.clone(), v.tree.clone()));
            if side(r) != side(&first.results) {
                let show = |r: &Results| side(r).map(|(c, t)| format!("commit {c}, tree {t}")).unwrap_or_default();
                return Err(format!(
                    "{} and {} measured different {role}s ({} vs {}): shards of one comparison must run the same revisions",
                    first.path,
                    i.path,
                    show(&first.results),
                    show(r)
                ));
            }
        }
        let (a, b) = (r.analysis.as_ref().map(|a| a.config), first.results.analysis.as_ref().map(|a| a.config));
        if a != b {
            return Err(format!(
                "{} and {} were judged with different settings (alpha, threshold or stopping rule): {a:?} vs {b:?}",
                first.path, i.path
            ));
        }
    }
    check_shards(inputs)?;
    // One scenario measured by two inputs would be two comparisons of one thing.
    let mut owner: std::collections::BTreeMap<String, &str> = std::collections::BTreeMap::new();
    for i in inputs {
        let scenarios: BTreeSet<&str> = i.results.samples.iter().map(|s| s.scenario.as_str()).collect();
        for s in scenarios {
            if let Some(other) = owner.insert(s.to_string(), &i.path) {
                return Err(format!(
                    "scenario {s:?} was measured by both {other} and {}: give each shard once",
                    i.path
                ));
            }
        }
    }
    Ok(())
}

/// Shards (when they say they are) of one split, each once, none missing.
fn check_shards(inputs: &[Input]) -> Result<(), String> {
    let shards: Vec<_> = inputs.iter().filter_map(|i| i.results.run.shard.as_ref().map(|s| (i, s))).collect();
    if shards.is_empty() {
        return Ok(());
    }
    if shards.len() != inputs.len() {
        return Err("some inputs are shards (`compare --shard`) and some are not: merge the shards of one run".into());
    }
    let (first, s0) = shards[0];
    let mut seen: std::collections::BTreeMap<u32, &str> = std::collections::BTreeMap::new();
    for &(i, s) in &shards {
        if s.count != s0.count || s.of != s0.of {
            return Err(format!(
                "{} is shard {}/{} and {} is shard {}/{} of {} scenario(s): not one split",
                first.path,
                s0.index,
                s0.count,
                i.path,
                s.index,
                s.count,
                s.of.len()
            ));
        }
        if let Some(other) = seen.insert(s.index, &i.path) {
            return Err(format!("shard {}/{} given twice: {other} and {}", s.index, s.count, i.path));
        }
    }
    let missing: Vec<String> =
        (1..=s0.count).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{}", s0.count)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard(s) {} missing: a merged verdict needs every shard's results.json (a failed shard still writes one)",
            missing.join(", ")
        ));
    }
    Ok(())
}

fn joined_run(inputs: &[Input], command: &str) -> Run {
    let runs: Vec<&Run> = inputs.iter().map(|i| &i.results.run).collect();
    let first = runs[0];
    // The worst status wins: one failed shard fails the merged run.
    let status = ["failed", "interrupted"]
        .into_iter()
        .find(|s| runs.iter().any(|r| r.status == *s))
        .unwrap_or("complete")
        .to_string();
    let mut files: Vec<String> = Vec::new();
    for f in runs.iter().flat_map(|r| &r.scenario_files) {
        if !files.contains(f) {
            files.push(f.clone());
        }
    }
    let now = jiff::Timestamp::now();
    Run {
        id: format!("{}-merged", now.strftime("%Y%m%d-%H%M%S")),
        command: command.to_string(),
        started_at: runs.iter().map(|r| r.started_at.clone()).min().unwrap_or_default(),
        finished_at: runs.iter().filter_map(|r| r.finished_at.clone()).max(),
        seed: first.seed,
        rounds: runs.iter().map(|r| r.rounds).max().unwrap_or(0),
        status,
        schedule: runs.iter().flat_map(|r| r.schedule.iter().cloned()).collect(),
        alpha: first.alpha,
        threshold_pct: first.threshold_pct,
        count_threshold_pct: first.count_threshold_pct,
        scenario_files: files,
        shard: None,
        merged: inputs
            .iter()
            .map(|i| {
                let r = &i.results;
                MergedRun {
                    run_id: r.run.id.clone(),
                    shard: r.run.shard.as_ref().map(|s| format!("{}/{}", s.index, s.count)),
                    status: r.run.status.clone(),
                    hostname: r.environment.hostname.clone(),
                    cpu_model: r.environment.cpu_model.clone(),
                    started_at: r.run.started_at.clone(),
                    finished_at: r.run.finished_at.clone(),
                    scenarios: scenarios_of(r),
                }
            })
            .collect(),
    }
}

/// The scenarios a run measured: its shard's list, else those in its samples or stopping record.
fn scenarios_of(r: &Results) -> Vec<String> {
    if let Some(s) = &r.run.shard {
        return s.scenarios.clone();
    }
    let mut out: Vec<String> = Vec::new();
    let named = r.stopping.iter().flat_map(|s| s.scenarios.iter().map(|x| &x.scenario));
    for name in named.chain(r.samples.iter().map(|s| &s.scenario)) {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

/// The shards' stopping records side by side: the scenarios of all, the
/// measured time summed (machine time, not wall time: shards run at once).
fn joined_stopping(inputs: &[Input]) -> Option<Stopping> {
    let all: Vec<&Stopping> = inputs.iter().filter_map(|i| i.results.stopping.as_ref()).collect();
    let first = (*all.first()?).clone();
    let reasons: BTreeSet<&str> = all.iter().map(|s| s.reason.as_str()).collect();
    Some(Stopping {
        reason: reasons.into_iter().collect::<Vec<_>>().join(", "),
        measured_s: all.iter().map(|s| s.measured_s).sum(),
        scenarios: all.iter().flat_map(|s| s.scenarios.iter().cloned()).collect(),
        looks: Vec::new(),
        ..first
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Better, Verdict};
    use crate::results::{Environment, Run, Sample, ShardInfo, VariantInfo};
    use crate::stats::CompareConfig;

    const PER_SHARD: usize = 4;

    /// Shard `index` of 3: `PER_SHARD` scenarios of 10 paired rounds each,
    /// seeded noise, and effects from none to clear, so q-values depend on
    /// how many p-values the family holds.
    fn shard(index: u32) -> Input {
        let variant = |role| VariantInfo { role, rev: "r".into(), commit: "c".into(), tree: "t".into(), patch: None };
        let mut r = Results::new(
            Run::example(),
            Environment { hostname: format!("runner-{index}"), ..Environment::default() },
            vec![variant(Role::Baseline), variant(Role::Candidate)],
        );
        let all: Vec<String> = (0..3 * PER_SHARD).map(|k| format!("s{k}")).collect();
        let mine: Vec<String> = all.iter().skip(index as usize - 1).step_by(3).cloned().collect();
        for (j, name) in mine.iter().enumerate() {
            let shift = 1.0 + 0.012 * (j as f64 + index as f64 - 1.0);
            for round in 0..10u32 {
                for (role, level) in [(Role::Baseline, 100.0), (Role::Candidate, 100.0 * shift)] {
                    let i = u64::from(index) * 10_007 + j as u64 * 101 + u64::from(round) * 2 + role as u64;
                    r.samples.push(Sample {
                        scenario: name.clone(),
                        benchmark: "op".into(),
                        metric: "sec/op".into(),
                        unit: "ns/op".into(),
                        better: Better::Lower,
                        variant: role,
                        round,
                        value: level * (1.0 + 0.02 * crate::history::fixture::noise(i)),
                    });
                }
            }
        }
        let config = CompareConfig::default();
        let analysis = analyze::analyze(&r.samples, &config);
        r.comparisons = analysis.comparisons;
        r.run.shard = Some(ShardInfo { index, count: 3, split: "count".into(), scenarios: mine, of: all });
        r.run.status = "complete".into();
        r.analysis = Some(AnalysisInputs { config, context: Context::default() });
        Input { path: format!("shard-{index}.json"), results: r }
    }

    #[test]
    fn the_family_is_corrected_over_all_shards() {
        let shards: Vec<Input> = (1..=3).map(shard).collect();
        let all: Vec<Sample> = shards.iter().flat_map(|s| s.results.samples.clone()).collect();
        let whole = analyze::analyze(&all, &CompareConfig::default()).comparisons;
        let own: Vec<(String, Option<f64>)> =
            shards.iter().flat_map(|s| s.results.comparisons.iter().map(|c| (c.scenario.clone(), c.q_value))).collect();
        let merged = merge(shards, "perfgate merge").unwrap();
        assert_eq!(merged.comparisons.len(), 3 * PER_SHARD);
        for c in &merged.comparisons {
            let w = whole.iter().find(|w| w.scenario == c.scenario).unwrap();
            assert_eq!((c.q_value, c.verdict, c.delta_pct), (w.q_value, w.verdict, w.delta_pct), "{}", c.scenario);
        }
        // Twelve p-values instead of four: some q-values grew.
        let grew = merged
            .comparisons
            .iter()
            .filter(|c| own.iter().any(|(s, q)| *s == c.scenario && q.zip(c.q_value).is_some_and(|(a, b)| b > a)))
            .count();
        assert!(grew > 0, "{own:?}");
        assert!(merged.comparisons.iter().any(|c| c.verdict == Verdict::Regressed));
        assert_eq!(
            merged.run.merged.iter().map(|m| m.shard.clone().unwrap()).collect::<Vec<_>>(),
            ["1/3", "2/3", "3/3"]
        );
        assert!(merged.warnings.iter().any(|w| w.contains("3 machines")), "{:?}", merged.warnings);
    }

    #[test]
    fn refuses_what_is_not_one_split() {
        let err = |inputs: Vec<Input>| merge(inputs, "m").unwrap_err();
        assert!(err(vec![shard(1), shard(2)]).contains("shard(s) 3/3 missing"));
        assert!(err(vec![shard(1), shard(2), shard(2), shard(3)]).contains("shard 2/3 given twice"));
        let mut other = shard(3);
        other.results.variants[0].tree = "other".into();
        assert!(err(vec![shard(1), shard(2), other]).contains("measured different baselines"));
        let mut stricter = shard(3);
        stricter.results.analysis.as_mut().unwrap().config.alpha = 0.01;
        assert!(err(vec![shard(1), shard(2), stricter]).contains("different settings"));
        let mut alone = shard(3);
        alone.results.variants.remove(0);
        assert!(err(vec![shard(1), shard(2), alone]).contains("measured alone"));
        let mut old = shard(3);
        old.results.analysis = None;
        assert!(err(vec![shard(1), shard(2), old]).contains("rerun it"));
        let mut overlap = shard(3);
        overlap.results.samples[0].scenario = "s0".into();
        assert!(err(vec![shard(1), shard(2), overlap]).contains("measured by both"));
        assert!(err(Vec::new()).contains("nothing to merge"));
    }
}
