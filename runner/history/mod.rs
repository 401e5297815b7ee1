//! Run history for nightly regression runs: every night's run, samples and
//! comparisons in SQLite (`store`), and detection over time on the
//! per-metric series it holds (`changepoint`, `drift`).

pub mod changepoint;
pub mod drift;
pub mod store;

use crate::model::{Better, Verdict};
use changepoint::ChangePoint;
use store::{ExportError, ExportRow, HistoryError, NewRun};

/// Where nightly history lives: one interface, whatever the database
/// (SQLite's [`store::History`] is the embedded default).
pub trait HistoryStore {
    /// Records a run — its row, every sample, every comparison and tonight's
    /// summary of each metric — in one transaction: a run killed or failing
    /// midway leaves nothing behind. Returns the run's id.
    fn record(&mut self, run: &NewRun) -> Result<i64, HistoryError>;
    /// The newest complete run of `scenario_set`: the baseline of the next night.
    fn last_run(&self, scenario_set: &str) -> Result<Option<StoredRun>, HistoryError>;
    /// Every run (of `scenario_set`, if given), oldest first, whatever its status.
    fn runs(&self, scenario_set: Option<&str>) -> Result<Vec<StoredRun>, HistoryError>;
    /// The scenario sets in the history, oldest first (by their first run).
    fn scenario_sets(&self) -> Result<Vec<String>, HistoryError>;
    /// Every metric of `scenario_set`'s complete runs as a series of nights,
    /// oldest first; series ordered by scenario, benchmark, metric, unit.
    fn series(&self, scenario_set: &str) -> Result<Vec<Series>, HistoryError>;
    /// Every (run, metric) summary with its comparison, by run then metric;
    /// streamed to `each` so an export never holds the whole history.
    fn export(&self, each: &mut dyn FnMut(ExportRow) -> std::io::Result<()>) -> Result<(), ExportError>;
}
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

/// One metric's nights with the change points found in them (`show`).
#[derive(Debug, Serialize)]
pub struct MetricHistory {
    pub scenario_set: String,
    #[serde(flatten)]
    pub series: Series,
    pub change_points: Vec<AttributedChange>,
    /// The chained change over the newest nights (see `drift`), if any.
    pub drift: Option<drift::Drift>,
}

/// A change point with the commits it lies between.
#[derive(Debug, Serialize)]
pub struct AttributedChange {
    /// Index in `points` of the first night after the change.
    pub index: usize,
    /// The last commit before the change and the first after it.
    pub from_commit: String,
    pub to_commit: String,
    pub started_at: String,
    pub before: f64,
    pub after: f64,
    pub magnitude_pct: f64,
    pub p_value: f64,
    /// The change went the metric's bad way.
    pub regressed: bool,
}

impl MetricHistory {
    /// The series with its change points (`opts`) and its drift at `threshold`.
    pub fn new(set: &str, series: Series, opts: &changepoint::Options, threshold: f64) -> MetricHistory {
        let values: Vec<f64> = series.points.iter().map(|p| p.median).collect();
        let change_points = changepoint::detect(&values, opts)
            .into_iter()
            .filter_map(|c: ChangePoint| {
                let before = series.points.get(c.index.checked_sub(1)?)?;
                let after = series.points.get(c.index)?;
                Some(AttributedChange {
                    index: c.index,
                    from_commit: before.commit.clone(),
                    to_commit: after.commit.clone(),
                    started_at: after.started_at.clone(),
                    before: c.before,
                    after: c.after,
                    magnitude_pct: c.magnitude_pct,
                    p_value: c.p_value,
                    regressed: series.better.is_worse(c.magnitude_pct),
                })
            })
            .collect();
        let drift = drift::drift(&series.points, series.better, threshold);
        MetricHistory { scenario_set: set.to_string(), series, change_points, drift }
    }

    pub fn name(&self) -> String {
        format!("{}/{}/{}", self.series.scenario, self.series.benchmark, self.series.metric)
    }

    pub fn latest(&self) -> Option<&SeriesPoint> {
        self.series.points.last()
    }
}
