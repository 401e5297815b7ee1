//! `perfgate nightly`: tonight's revision measured interleaved against the
//! last nightly revision (a paired A/B with `compare`'s statistics), the run
//! recorded in the history, and the history searched for change points and
//! drifts; writes trend.html and the brief's nightly section.

use crate::compare::{self, CompareError, CompareOutcome, RunStatus};
use crate::history::{self, HistoryError, HistoryStore, Location, NewRun, changepoint, drift};
use crate::model::Role;
use crate::plan::{self, CandidateChoice, CompareOptions};
use crate::report;
use crate::results::{Nightly, NightlyChangePoint, NightlyDrift, PreviousNight};
use std::path::{Component, Path};

/// Change points reported in results.json and the brief: those at the most
/// recent nights (trend.html shows all).
pub const RECENT_NIGHTS: usize = 14;

#[derive(Debug, Clone)]
pub struct NightlyOptions {
    /// Scenario files, output, design and statistics flags, as for
    /// `compare`; the baseline and candidate are the nightly's to choose.
    pub compare: CompareOptions,
    /// Tonight's revision (default HEAD).
    pub rev: Option<String>,
    /// A SQLite file (relative to the working directory) or a PostgreSQL URL.
    pub history: Location,
    pub change: changepoint::Options,
}

#[derive(Debug)]
pub struct NightlyOutcome {
    pub compare: CompareOutcome,
    /// The history row of tonight's run; `None` when it did not complete.
    pub recorded: Option<i64>,
    /// Tonight regressed against the last nightly, a threshold failed, or a
    /// drift over the recent nights went the bad way.
    pub regressed: bool,
}

/// compare's stages (plan → build → execute → analyze) with a history
/// stage before the outputs: the scenario files are read once and
/// results.json is written once, with the nightly's findings in it.
pub fn run(opts: &NightlyOptions) -> Result<NightlyOutcome, CompareError> {
    let mut plan = plan::make(&opts.compare)?;
    let set = history::scenario_set(plan.scenarios.iter().map(|s| s.name.as_str()));
    let location = opts.history.under(&plan.cwd);
    let history_err = |e: HistoryError| CompareError::RunFailed(format!("history {location}: {e}"));
    let mut store = location.open().map_err(|e| match e.is_bad_input() {
        true => CompareError::BadInput(format!("history {location}: {e}")),
        false => history_err(e),
    })?;
    // Held until the store is dropped: another nightly of these scenarios
    // waits here, then takes this night as its baseline.
    store
        .lock_series(&set, &mut || {
            crate::note!("nightly: another nightly of these scenarios is running on {location}; waiting for it")
        })
        .map_err(|e| match e {
            HistoryError::Interrupted => CompareError::Interrupted,
            e => history_err(e),
        })?;
    let last = store.last_run(&set).map_err(history_err)?;
    let rev = opts.rev.clone().unwrap_or_else(|| "HEAD".into());
    match &last {
        Some(l) => crate::note!(
            "nightly: {rev} against the last nightly, {} ({}, {})",
            l.revision,
            l.commit.get(..12).unwrap_or(&l.commit),
            l.started_at
        ),
        None => {
            crate::note!("nightly: first night for these scenarios in {location}: {rev} is recorded alone")
        }
    }
    if let Some(l) = &last {
        plan.baseline_rev = l.commit.clone();
    }
    plan.candidate = CandidateChoice::Rev(rev.clone());
    plan.solo = last.is_none();
    let mut outcome = compare::measure(&plan).map_err(|e| match (e, &last) {
        (CompareError::BadInput(m), Some(l)) if m.contains(&l.commit) => CompareError::BadInput(format!(
            "{m}\nthe last nightly ran commit {}, which this repository does not have: fetch the full history \
             (in CI: `fetch-depth: 0`), or start a new history with --history",
            l.commit
        )),
        (e, _) => e,
    })?;
    // Only complete runs join the history: a night that failed or was
    // interrupted would make a gap look like data.
    if outcome.status != RunStatus::Complete {
        outcome.results.warnings.push("this night did not complete: it was not recorded in the history".into());
        compare::write(&outcome)?;
        return Ok(NightlyOutcome { compare: outcome, recorded: None, regressed: false });
    }
    let recorded = record(&mut outcome, store.as_mut(), opts, &set, &rev, &location, last.as_ref());
    // The run's own results are written whatever the history stage said.
    compare::write(&outcome)?;
    let id = recorded?;
    let drifted = outcome.results.nightly.as_ref().is_some_and(|n| n.drifts.iter().any(|d| d.regressed));
    let regressed = crate::analyze::any_regression(&outcome.results.comparisons)
        || outcome.results.thresholds.iter().any(|t| !t.passed)
        || drifted;
    Ok(NightlyOutcome { compare: outcome, recorded: Some(id), regressed })
}

/// The history stage: tonight recorded, the history searched for change
/// points and drifts, trend.html written, and `results.nightly` filled.
fn record(
    outcome: &mut CompareOutcome,
    store: &mut dyn HistoryStore,
    opts: &NightlyOptions,
    set: &str,
    rev: &str,
    location: &Location,
    last: Option<&crate::history::StoredRun>,
) -> Result<i64, CompareError> {
    let history_err = |e: HistoryError| CompareError::RunFailed(format!("history {location}: {e}"));
    let Some(tonight) = outcome.results.variants.iter().find(|v| v.role == Role::Candidate).cloned() else {
        return Err(CompareError::RunFailed("the run has no candidate variant".into()));
    };
    // Reports are found from the history file's directory; a server's
    // history keeps them relative to the directory the reports are in.
    let cwd = outcome.out_dir.parent().map(Path::to_path_buf).unwrap_or_default();
    let db_dir = location.directory().map(Path::to_path_buf).unwrap_or(cwd);
    let report_dir = relative_path(&db_dir, &outcome.out_dir);
    let id = store
        .record(&NewRun {
            results: &outcome.results,
            revision: rev,
            commit: &tonight.commit,
            tree: &tonight.tree,
            baseline_commit: last.map(|l| l.commit.as_str()),
            report_dir: &report_dir,
            scenario_set: set.to_string(),
        })
        .map_err(history_err)?;
    let threshold_pct = outcome.results.run.threshold_pct;
    let found =
        trend(store, set, &db_dir, &outcome.out_dir, &opts.change, threshold_pct / 100.0).map_err(history_err)?;
    let trend_path = outcome.out_dir.join("trend.html");
    report::json::write_atomically(&trend_path, found.html.as_bytes())
        .map_err(|e| CompareError::RunFailed(format!("cannot write {}: {e}", trend_path.display())))?;
    outcome.results.nightly = Some(Nightly {
        history: opts.history.to_string(),
        previous: last.map(|l| PreviousNight {
            run_id: l.run_id.clone(),
            revision: l.revision.clone(),
            commit: l.commit.clone(),
            started_at: l.started_at.clone(),
            report_dir: l.report_dir.clone(),
        }),
        nights: found.nights,
        change_points: found.change_points,
        // Only a drift that reaches tonight is news.
        drifts: if found.newest == Some(id) { found.drifts } else { Vec::new() },
        trend: "trend.html".into(),
    });
    Ok(id)
}

/// What the history of one scenario set shows: trend.html (links relative
/// to `out_dir`), the change points at the most recent nights, and the
/// drifts that reach the newest night.
pub struct Trend {
    pub html: String,
    pub nights: usize,
    /// The newest recorded run.
    pub newest: Option<i64>,
    pub change_points: Vec<NightlyChangePoint>,
    pub drifts: Vec<NightlyDrift>,
}

/// Detection over the whole history of `set` and its trend report. Reads
/// only: safe while another process records a night (WAL).
pub fn trend(
    store: &dyn HistoryStore,
    set: &str,
    db_dir: &Path,
    out_dir: &Path,
    change: &changepoint::Options,
    threshold: f64,
) -> Result<Trend, HistoryError> {
    let runs: Vec<_> = store.runs(Some(set))?.into_iter().filter(|r| r.status == "complete").collect();
    let series = store.series(set)?;
    let newest = runs.last().map(|r| r.id);
    let night_of: std::collections::HashMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i + 1)).collect();
    let mut change_points = Vec::new();
    let mut drifts = Vec::new();
    let mut trend_series = Vec::new();
    for s in &series {
        let values: Vec<f64> = s.points.iter().map(|p| p.median).collect();
        let cps = changepoint::detect(&values, change);
        for c in &cps {
            let (Some(after), Some(before)) =
                (s.points.get(c.index), c.index.checked_sub(1).and_then(|i| s.points.get(i)))
            else {
                continue;
            };
            let night = night_of.get(&after.run).copied().unwrap_or(0);
            if night + RECENT_NIGHTS > runs.len() {
                change_points.push(NightlyChangePoint {
                    scenario: s.scenario.clone(),
                    benchmark: s.benchmark.clone(),
                    metric: s.metric.clone(),
                    unit: s.unit.clone(),
                    better: s.better,
                    from_commit: before.commit.clone(),
                    to_commit: after.commit.clone(),
                    started_at: after.started_at.clone(),
                    before: c.before,
                    after: c.after,
                    magnitude_pct: c.magnitude_pct,
                    p_value: c.p_value,
                    regressed: s.better.is_worse(c.magnitude_pct),
                });
            }
        }
        let d = drift::drift(&s.points, s.better, threshold)
            .filter(|_| s.points.last().is_some_and(|p| Some(p.run) == newest));
        if let Some(d) = &d
            && (d.regressed || d.improved)
        {
            drifts.push(NightlyDrift {
                scenario: s.scenario.clone(),
                benchmark: s.benchmark.clone(),
                metric: s.metric.clone(),
                unit: s.unit.clone(),
                nights: d.nights,
                from_commit: d.from_commit.clone(),
                to_commit: d.to_commit.clone(),
                change_pct: d.change_pct,
                ci_low_pct: d.ci_low_pct,
                ci_high_pct: d.ci_high_pct,
                regressed: d.regressed,
            });
        }
        trend_series.push(report::trend::TrendSeries { series: s, change_points: cps, drift: d });
    }
    let report_links = runs
        .iter()
        .map(|r| (r.id, format!("{}/report.html", relative_path(out_dir, &db_dir.join(&r.report_dir)))))
        .collect();
    let html = report::trend::render(&report::trend::TrendInput {
        scenario_set: set,
        runs: &runs,
        report_links,
        series: trend_series,
        threshold_pct: threshold * 100.0,
    });
    Ok(Trend { html, nights: runs.len(), newest, change_points, drifts })
}

/// `to` relative to the directory `from` (both absolute, or both relative
/// to the same directory), with `..` where needed.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let norm = |p: &Path| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                other => out.push(other.as_os_str().to_string_lossy().into_owned()),
            }
        }
        out
    };
    let (f, t) = (norm(from), norm(to));
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(t[common..].iter().cloned());
    if parts.is_empty() { ".".into() } else { parts.join("/") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path(Path::new("/r/reports"), Path::new("/r/reports/n1")), "n1");
        assert_eq!(relative_path(Path::new("/r/reports/n2"), Path::new("/r/reports/n1")), "../n1");
        assert_eq!(relative_path(Path::new("/r/reports/n2"), Path::new("/r/reports/n2")), ".");
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/c/./d/../e")), "../../c/e");
    }
}
