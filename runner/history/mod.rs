//! Run history for nightly regression runs: every night's run, samples and
//! comparisons in SQLite (`store`), and detection over time on the
//! per-metric series it holds (`changepoint`, `drift`).

pub mod changepoint;
pub mod drift;
pub mod store;

use crate::model::{Better, Verdict};
use serde::Serialize;

/// A nightly run as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    /// Row id: increases with every recorded run.
    pub id: i64,
    /// results.json's `run.id` (the output directory's name).
    pub run_id: String,
    /// What the user asked for (`HEAD`, a branch, a commit).
    pub revision: String,
    pub commit: String,
    pub tree: String,
    pub started_at: String,
    pub finished_at: String,
    /// "<cpu model>, <cores> cores, <hostname>".
    pub machine: String,
    /// The scenario names the run measured, sorted, joined by ",".
    pub scenario_set: String,
    /// The commit of the previous nightly it ran against; `None` the first night.
    pub baseline_commit: Option<String>,
    /// The run's output directory (report.html, results.json), as given.
    pub report_dir: String,
    /// results.json's `run.status`.
    pub status: String,
    pub improved: u32,
    pub regressed: u32,
}

/// One metric across nights, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub points: Vec<SeriesPoint>,
}

/// One night of a metric: tonight's own summary (the candidate's samples),
/// and its paired comparison against the previous night when there was one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// `StoredRun::id`.
    pub run: i64,
    pub commit: String,
    pub started_at: String,
    pub n: usize,
    pub median: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub delta_pct: Option<f64>,
    pub delta_ci_low_pct: Option<f64>,
    pub delta_ci_high_pct: Option<f64>,
    pub verdict: Option<Verdict>,
}

/// The scenario set key of a list of scenario names.
pub fn scenario_set<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}
