//! Run history for nightly regression runs: every night's run, samples and
//! comparisons in SQLite (`sqlite`) or PostgreSQL (`pg`), behind one trait,
//! and detection over time on the per-metric series it holds
//! (`changepoint`, `drift`).

pub mod changepoint;
pub mod drift;
pub mod error;
pub mod fixture;
pub mod migrate;
pub mod pg;
pub mod record;
mod sql;
pub mod sqlite;

pub use error::{ExportError, HistoryError};
pub use record::{NewRun, RunRecord};

use crate::model::{Better, Verdict};
use changepoint::ChangePoint;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where nightly history lives: one interface, whatever the database —
/// SQLite's [`sqlite::SqliteHistory`] (the embedded default) or
/// PostgreSQL's [`pg::PgHistory`] (a history a team shares). Both hold the
/// same tables, run the same queries (`sql`) and the same migrations.
pub trait HistoryStore: std::fmt::Debug {
    /// Serializes nightlies of one scenario set: held from now until the
    /// store is dropped, so that reading "the last nightly" and recording
    /// tonight's run happen under one lock (`waiting` is called once if
    /// another holder makes this one wait). Ctrl-C ends the wait.
    fn lock_series(&mut self, scenario_set: &str, waiting: &mut dyn FnMut()) -> Result<(), HistoryError>;
    /// Records a run — its row, every sample, every comparison and tonight's
    /// summary of each metric — in one transaction: a run killed or failing
    /// midway leaves nothing behind. Returns the run's id.
    fn record(&mut self, run: &NewRun) -> Result<i64, HistoryError> {
        self.write(&RunRecord::new(run)?)
    }
    /// Writes one run's rows in one transaction; its id.
    fn write(&mut self, run: &RunRecord) -> Result<i64, HistoryError>;
    /// Every run with all its rows, oldest first (a copy of the history).
    fn records(&self, each: &mut dyn FnMut(RunRecord) -> Result<(), HistoryError>) -> Result<(), HistoryError>;
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

/// A history's place: a SQLite file, or a PostgreSQL database by URL
/// (`postgres://` or `postgresql://`). `--history` and `PERFGATE_HISTORY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            Location::File(PathBuf::from(text))
        }
    }

    /// A relative file taken from `cwd`.
    pub fn under(&self, cwd: &Path) -> Location {
        match self {
            Location::File(p) if p.is_relative() => Location::File(cwd.join(p)),
            other => other.clone(),
        }
    }

    /// The directory report paths are kept relative to: the file's own;
    /// `None` for a database server.
    pub fn directory(&self) -> Option<&Path> {
        match self {
            Location::File(p) => Some(p.parent().unwrap_or(Path::new(""))),
            Location::Postgres(_) => None,
        }
    }

    /// Opens it for writing: creates the file (and directory) or the tables
    /// when missing and brings the schema up to date.
    pub fn open(&self) -> Result<Box<dyn HistoryStore>, HistoryError> {
        Ok(match self {
            Location::File(p) => Box::new(sqlite::SqliteHistory::open(p)?),
            Location::Postgres(url) => Box::new(pg::PgHistory::open(url, true)?),
        })
    }

    /// Opens an existing history for reading; works while a nightly writes.
    pub fn open_existing(&self) -> Result<Box<dyn HistoryStore>, HistoryError> {
        Ok(match self {
            Location::File(p) => Box::new(sqlite::SqliteHistory::open_existing(p)?),
            Location::Postgres(url) => Box::new(pg::PgHistory::open(url, false)?),
        })
    }
}

impl std::str::FromStr for Location {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Location, Self::Err> {
        Ok(Location::parse(s))
    }
}

/// The path, or the URL with its password hidden: what messages show.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// `url` with the password of its user part and of a `password=` parameter
/// replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme) = out.find("://") {
        let rest = scheme + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@')
            && let Some(colon) = out[rest..rest + at].find(':')
        {
            out.replace_range(rest + colon + 1..rest + at, "***");
        }
    }
    if let Some(q) = out.find('?') {
        let params: Vec<String> = out[q + 1..]
            .split('&')
            .map(|p| if p.starts_with("password=") { "password=***".to_string() } else { p.to_string() })
            .collect();
        out = format!("{}?{}", &out[..q], params.join("&"));
    }
    out
}

/// Tries `try_lock` until it succeeds, calling `waiting` before the first
/// wait and giving up when the run is interrupted.
fn wait_for_lock(
    mut try_lock: impl FnMut() -> Result<bool, HistoryError>,
    waiting: &mut dyn FnMut(),
) -> Result<(), HistoryError> {
    if try_lock()? {
        return Ok(());
    }
    waiting();
    loop {
        if crate::process::interrupted() {
            return Err(HistoryError::Interrupted);
        }
        std::thread::sleep(Duration::from_millis(200));
        if try_lock()? {
            return Ok(());
        }
    }
}

/// A scenario set's lock key: 31 bits of its SHA-256 (a collision only
/// makes two sets wait for each other).
fn series_key(scenario_set: &str) -> i32 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(scenario_set.as_bytes());
    (u32::from_be_bytes([d[0], d[1], d[2], d[3]]) >> 1) as i32
}

/// One night of one metric, flattened for `perfgate history export`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportRow {
    pub run: i64,
    pub started_at: String,
    pub commit: String,
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub n: usize,
    pub median: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub delta_pct: Option<f64>,
    pub delta_ci_low_pct: Option<f64>,
    pub delta_ci_high_pct: Option<f64>,
    pub verdict: Option<Verdict>,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_files_or_postgresql_urls_and_passwords_never_show() {
        assert_eq!(Location::parse("reports/h.sqlite"), Location::File("reports/h.sqlite".into()));
        assert_eq!(Location::parse("postgres://h/db"), Location::Postgres("postgres://h/db".into()));
        let url = "postgresql://perf:p%40ss:w@db.example:5432/history?sslmode=disable&password=two";
        let loc = Location::parse(url);
        assert_eq!(loc.to_string(), "postgresql://perf:***@db.example:5432/history?sslmode=disable&password=***");
        assert_eq!(redact("postgresql://perf@db/h"), "postgresql://perf@db/h");
        assert_eq!(redact("postgresql:///h?host=/run/pg&user=me"), "postgresql:///h?host=/run/pg&user=me");
        assert_eq!(Location::parse("h.sqlite").under(Path::new("/w")), Location::File("/w/h.sqlite".into()));
        assert_eq!(loc.under(Path::new("/w")), loc);
        assert_eq!(Location::parse("/w/h.sqlite").directory(), Some(Path::new("/w")));
        assert_eq!(loc.directory(), None);
    }

    #[test]
    fn series_keys_are_stable_and_spread() {
        assert_eq!(series_key("bench"), series_key("bench"));
        assert!(series_key("bench") >= 0);
        let keys: std::collections::HashSet<i32> = (0..1000).map(|i| series_key(&format!("s{i}"))).collect();
        assert_eq!(keys.len(), 1000);
    }
}
