//! The history store: nightly runs, their raw samples, comparisons and
//! per-metric summaries in one SQLite file (`reports/history.sqlite`). WAL
//! lets reports read while a nightly writes; each run is one transaction.
//!
//! Schema (version 1; `PRAGMA user_version` counts the migrations applied):
//! `runs` one row per night; `metrics` one row per (scenario, benchmark,
//! metric, unit), so the big tables carry an integer instead of four names;
//! `samples` (run, metric, variant, round, value); `comparisons` (run,
//! metric: baseline and candidate summaries, delta with its interval, p, q,
//! MDE, verdict); `summaries` (run, metric: tonight's samples summarized,
//! the point a series plots).

use super::{Series, SeriesPoint, StoredRun};
use crate::model::Role;
use crate::model::{Better, Verdict};
use crate::results::{Comparison, Results};
use crate::stats::CompareConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a statement waits for another process's lock before failing:
/// a nightly's write transaction takes well under a second, a checkpoint less.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Marks the file as a perfgate history ("pfgt"), so that a reader given
/// some other SQLite database refuses it instead of adding tables to it.
const APPLICATION_ID: i32 = 0x7066_6774;

/// Schema migrations; `MIGRATIONS[i]` takes `user_version` from i to i + 1.
/// Append only: a released step is never edited, a change is a new step.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    run_id          TEXT NOT NULL,
    revision        TEXT NOT NULL,
    commit_hash     TEXT NOT NULL,
    tree            TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    machine         TEXT NOT NULL,
    scenario_set    TEXT NOT NULL,
    baseline_commit TEXT,
    report_dir      TEXT NOT NULL,
    status          TEXT NOT NULL,
    improved        INTEGER NOT NULL,
    regressed       INTEGER NOT NULL,
    -- What the numbers depend on besides the code, kept for reading old nights.
    tool_version    TEXT NOT NULL,
    seed            INTEGER NOT NULL,
    rounds          INTEGER NOT NULL,
    alpha           REAL NOT NULL,
    threshold_pct   REAL NOT NULL,
    environment     TEXT NOT NULL -- results.json's `environment`, as JSON
);
CREATE INDEX runs_by_set ON runs (scenario_set, status, id);

CREATE TABLE metrics (
    id        INTEGER PRIMARY KEY,
    scenario  TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    metric    TEXT NOT NULL,
    unit      TEXT NOT NULL,
    better    TEXT NOT NULL CHECK (better IN ('lower', 'higher')),
    UNIQUE (scenario, benchmark, metric, unit)
);

-- WITHOUT ROWID: the key is the only index, a year of samples stays compact.
CREATE TABLE samples (
    run     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    metric  INTEGER NOT NULL REFERENCES metrics (id),
    variant TEXT NOT NULL CHECK (variant IN ('baseline', 'candidate')),
    round   INTEGER NOT NULL,
    value   REAL NOT NULL,
    PRIMARY KEY (run, metric, variant, round)
) WITHOUT ROWID;

CREATE TABLE comparisons (
    run                INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    metric             INTEGER NOT NULL REFERENCES metrics (id),
    baseline_n         INTEGER NOT NULL,
    baseline_median    REAL,
    baseline_ci_low    REAL,
    baseline_ci_high   REAL,
    candidate_n        INTEGER NOT NULL,
    candidate_median   REAL,
    candidate_ci_low   REAL,
    candidate_ci_high  REAL,
    delta_pct          REAL,
    delta_ci_low_pct   REAL,
    delta_ci_high_pct  REAL,
    p_value            REAL,
    q_value            REAL,
    test               TEXT NOT NULL,
    mde_pct            REAL,
    verdict            TEXT NOT NULL CHECK (verdict IN ('improved', 'regressed', 'unchanged', 'inconclusive')),
    PRIMARY KEY (metric, run)
) WITHOUT ROWID;

CREATE TABLE summaries (
    run     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    metric  INTEGER NOT NULL REFERENCES metrics (id),
    n       INTEGER NOT NULL,
    median  REAL NOT NULL,
    ci_low  REAL,
    ci_high REAL,
    mean    REAL NOT NULL,
    stddev  REAL NOT NULL,
    min     REAL NOT NULL,
    max     REAL NOT NULL,
    -- Metric first: a series is one range of the key, read in night order.
    PRIMARY KEY (metric, run)
) WITHOUT ROWID;
"#];

/// What can go wrong with the history; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("no history at {}; `perfgate nightly` creates it", .0.display())]
    Missing(PathBuf),
    #[error("cannot create the directory {} for the history: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not a perfgate history database; pass --history with the path of one (default reports/history.sqlite)",
        .0.display()
    )]
    NotHistory(PathBuf),
    #[error(
        "{} has history schema version {found}, newer than this perfgate knows ({known}); use a newer perfgate with it",
        .path.display()
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
    #[error(
        "the history database stayed locked for {}s (another `perfgate nightly` writing to it?); try again when it is done",
        BUSY_TIMEOUT.as_secs()
    )]
    Busy(#[source] rusqlite::Error),
    #[error(
        "{scenario}/{benchmark}/{metric} round {round}: the {variant} sample is not a number; nothing was recorded"
    )]
    NotANumber { scenario: String, benchmark: String, metric: String, variant: Role, round: u32 },
    #[error("history database: {0}")]
    Sqlite(#[source] rusqlite::Error),
}

impl From<rusqlite::Error> for HistoryError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => HistoryError::Busy(e),
            _ => HistoryError::Sqlite(e),
        }
    }
}

/// A run to record: results.json plus what the nightly knows about it.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub results: &'a Results,
    /// What the user asked for (`HEAD`, a branch).
    pub revision: &'a str,
    /// Tonight's commit and tree (the candidate's).
    pub commit: &'a str,
    pub tree: &'a str,
    /// The previous nightly's commit; `None` the first night.
    pub baseline_commit: Option<&'a str>,
    pub report_dir: &'a str,
    /// The scenarios the nightly was asked to run (`super::scenario_set`):
    /// more reliable than the names found in the samples, as a scenario that
    /// failed has none.
    pub scenario_set: String,
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

/// An open history database.
#[derive(Debug)]
pub struct History {
    conn: Connection,
}

impl History {
    /// Opens the history at `path` for writing, creating the file (and its
    /// directory) and bringing the schema up to date.
    pub fn open(path: &Path) -> Result<History, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| HistoryError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        Self::open_with(path, OpenFlags::SQLITE_OPEN_CREATE)
    }

    /// Opens an existing history for reading (`perfgate history`, reports).
    /// Works while a nightly writes to it: readers see the last committed run.
    pub fn open_existing(path: &Path) -> Result<History, HistoryError> {
        if !path.is_file() {
            return Err(HistoryError::Missing(path.to_path_buf()));
        }
        Self::open_with(path, OpenFlags::empty())
    }

    fn open_with(path: &Path, create: OpenFlags) -> Result<History, HistoryError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | create;
        let conn = Connection::open_with_flags(path, flags)?;
        // First, so that everything below waits for a writer instead of failing.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let not_history = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => HistoryError::NotHistory(path.to_path_buf()),
            _ => HistoryError::from(e),
        };
        // Persistent in the file; a no-op once set. Lets readers read during
        // a write, and a killed writer leaves the last commit intact.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).map_err(not_history)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let mut history = History { conn };
        history.migrate(path)?;
        Ok(history)
    }

    fn migrate(&mut self, path: &Path) -> Result<(), HistoryError> {
        let known = MIGRATIONS.len() as i64;
        let check = |conn: &Connection| -> Result<i64, HistoryError> {
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
            let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
            if (app != 0 && app != APPLICATION_ID) || (app == 0 && tables > 0) {
                return Err(HistoryError::NotHistory(path.to_path_buf()));
            }
            if version > known {
                return Err(HistoryError::TooNew { path: path.to_path_buf(), found: version, known });
            }
            Ok(version)
        };
        if check(&self.conn)? == known {
            return Ok(());
        }
        // IMMEDIATE takes the write lock up front: two processes opening a
        // new file at once serialize here, and the second sees the first's work.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version = check(&tx)?;
        for step in &MIGRATIONS[version as usize..] {
            tx.execute_batch(step)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", known)?;
        tx.commit()?;
        Ok(())
    }

    /// The schema version this binary writes.
    pub fn schema_version() -> i64 {
        MIGRATIONS.len() as i64
    }
}

impl super::HistoryStore for History {
    fn record(&mut self, run: &NewRun) -> Result<i64, HistoryError> {
        let r = run.results;
        let count = |v: Verdict| r.comparisons.iter().filter(|c| c.verdict == v).count() as i64;
        let env = &r.environment;
        let machine = format!("{}, {} cores, {}", env.cpu_model, env.cores, env.hostname);
        let environment = serde_json::to_string(env).unwrap_or_default();

        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO runs (run_id, revision, commit_hash, tree, started_at, finished_at, machine, scenario_set,
                 baseline_commit, report_dir, status, improved, regressed, tool_version, seed, rounds, alpha,
                 threshold_pct, environment)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            params![
                r.run.id,
                run.revision,
                run.commit,
                run.tree,
                r.run.started_at,
                r.run.finished_at,
                machine,
                run.scenario_set,
                run.baseline_commit,
                run.report_dir,
                r.run.status,
                count(Verdict::Improved),
                count(Verdict::Regressed),
                r.tool.version,
                // SQLite integers are signed: keep the seed's bits.
                r.run.seed as i64,
                r.run.rounds,
                r.run.alpha,
                r.run.threshold_pct,
                environment,
            ],
        )?;
        let id = tx.last_insert_rowid();

        let mut metric_ids: HashMap<MetricKey, i64> = HashMap::new();
        // Tonight's values per metric and round, for the summaries. A round
        // seen twice keeps its last value, as `analyze` does (and as the
        // samples table's key does): stored and analysed samples agree.
        let mut tonight: BTreeMap<MetricKey, (Better, BTreeMap<u32, f64>)> = BTreeMap::new();
        let mut samples: Vec<(i64, &str, u32, f64)> = Vec::with_capacity(r.samples.len());
        for s in &r.samples {
            if s.value.is_nan() {
                return Err(HistoryError::NotANumber {
                    scenario: s.scenario.clone(),
                    benchmark: s.benchmark.clone(),
                    metric: s.metric.clone(),
                    variant: s.variant,
                    round: s.round,
                });
            }
            let key = (&s.scenario[..], &s.benchmark[..], &s.metric[..], &s.unit[..]);
            samples.push((metric_id(&tx, &mut metric_ids, key, s.better)?, s.variant.as_str(), s.round, s.value));
            if s.variant == Role::Candidate {
                tonight.entry(key).or_insert_with(|| (s.better, BTreeMap::new())).1.insert(s.round, s.value);
            }
        }
        let comparisons: Vec<(i64, &Comparison)> = r
            .comparisons
            .iter()
            .map(|c| {
                Ok((metric_id(&tx, &mut metric_ids, (&c.scenario, &c.benchmark, &c.metric, &c.unit), c.better)?, c))
            })
            .collect::<Result<_, HistoryError>>()?;
        let summaries: Vec<(i64, crate::stats::Summary)> = tonight
            .into_iter()
            .map(|(key, (better, rounds))| {
                let values: Vec<f64> = rounds.into_values().collect();
                Ok((
                    metric_id(&tx, &mut metric_ids, key, better)?,
                    crate::stats::summarize(&values, CompareConfig::default().confidence),
                ))
            })
            .collect::<Result<_, HistoryError>>()?;

        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO samples (run, metric, variant, round, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (metric, variant, round, value) in samples {
                insert.execute(params![id, metric, variant, round, value])?;
            }
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO comparisons (run, metric, baseline_n, baseline_median, baseline_ci_low, baseline_ci_high,
                     candidate_n, candidate_median, candidate_ci_low, candidate_ci_high, delta_pct, delta_ci_low_pct,
                     delta_ci_high_pct, p_value, q_value, test, mde_pct, verdict)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )?;
            for (metric, c) in comparisons {
                insert.execute(params![
                    id,
                    metric,
                    c.baseline.n as i64,
                    c.baseline.median,
                    c.baseline.ci_low,
                    c.baseline.ci_high,
                    c.candidate.n as i64,
                    c.candidate.median,
                    c.candidate.ci_low,
                    c.candidate.ci_high,
                    c.delta_pct,
                    c.delta_ci_low_pct,
                    c.delta_ci_high_pct,
                    c.p_value,
                    c.q_value,
                    c.test,
                    c.mde_pct,
                    c.verdict.as_str(),
                ])?;
            }
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO summaries (run, metric, n, median, ci_low, ci_high, mean, stddev, min, max)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (metric, s) in summaries {
                insert.execute(params![
                    id, metric, s.n as i64, s.median, s.ci_low, s.ci_high, s.mean, s.stddev, s.min, s.max
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn last_run(&self, scenario_set: &str) -> Result<Option<StoredRun>, HistoryError> {
        let sql = format!("{RUN_COLUMNS} WHERE scenario_set = ?1 AND status = 'complete' ORDER BY id DESC LIMIT 1");
        Ok(self.conn.query_row(&sql, [scenario_set], stored_run).optional()?)
    }

    fn runs(&self, scenario_set: Option<&str>) -> Result<Vec<StoredRun>, HistoryError> {
        let sql = format!("{RUN_COLUMNS} WHERE ?1 IS NULL OR scenario_set = ?1 ORDER BY id");
        let mut stmt = self.conn.prepare(&sql)?;
        let runs = stmt.query_map([scenario_set], stored_run)?.collect::<Result<_, _>>()?;
        Ok(runs)
    }

    fn scenario_sets(&self) -> Result<Vec<String>, HistoryError> {
        let mut stmt = self.conn.prepare("SELECT scenario_set FROM runs GROUP BY scenario_set ORDER BY min(id)")?;
        let sets = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(sets)
    }

    fn series(&self, scenario_set: &str) -> Result<Vec<Series>, HistoryError> {
        // One pass over `summaries` in key order (metric, then night): a
        // year of 500 metrics is 180k rows and no sort. Metric ids follow
        // first appearance, so the series are put in name order afterwards.
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.metric, m.scenario, m.benchmark, m.metric, m.unit, m.better,
                    r.id, r.commit_hash, r.started_at, s.n, s.median, s.ci_low, s.ci_high,
                    c.delta_pct, c.delta_ci_low_pct, c.delta_ci_high_pct, c.verdict
             FROM summaries s
             JOIN runs r ON r.id = s.run
             JOIN metrics m ON m.id = s.metric
             LEFT JOIN comparisons c ON c.metric = s.metric AND c.run = s.run
             WHERE r.scenario_set = ?1 AND r.status = 'complete'
             ORDER BY s.metric, s.run",
        )?;
        let mut rows = stmt.query([scenario_set])?;
        let mut out: Vec<Series> = Vec::new();
        let mut current: Option<i64> = None;
        while let Some(row) = rows.next()? {
            let metric: i64 = row.get(0)?;
            let point = series_point(row, 6)?;
            match out.last_mut() {
                Some(s) if current == Some(metric) => s.points.push(point),
                _ => {
                    current = Some(metric);
                    out.push(Series {
                        scenario: row.get(1)?,
                        benchmark: row.get(2)?,
                        metric: row.get(3)?,
                        unit: row.get(4)?,
                        better: parse_better(row, 5)?,
                        points: vec![point],
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            (&a.scenario, &a.benchmark, &a.metric, &a.unit).cmp(&(&b.scenario, &b.benchmark, &b.metric, &b.unit))
        });
        Ok(out)
    }

    fn export(&self, each: &mut dyn FnMut(ExportRow) -> std::io::Result<()>) -> Result<(), ExportError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.started_at, r.commit_hash, m.scenario, m.benchmark, m.metric, m.unit, m.better,
                    s.n, s.median, s.ci_low, s.ci_high,
                    c.delta_pct, c.delta_ci_low_pct, c.delta_ci_high_pct, c.verdict
             FROM runs r
             JOIN summaries s ON s.run = r.id
             JOIN metrics m ON m.id = s.metric
             LEFT JOIN comparisons c ON c.run = s.run AND c.metric = s.metric
             ORDER BY r.id, m.scenario, m.benchmark, m.metric, m.unit",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            each(ExportRow {
                run: row.get(0)?,
                started_at: row.get(1)?,
                commit: row.get(2)?,
                scenario: row.get(3)?,
                benchmark: row.get(4)?,
                metric: row.get(5)?,
                unit: row.get(6)?,
                better: parse_better(row, 7)?,
                n: row.get::<_, i64>(8)? as usize,
                median: row.get(9)?,
                ci_low: row.get(10)?,
                ci_high: row.get(11)?,
                delta_pct: row.get(12)?,
                delta_ci_low_pct: row.get(13)?,
                delta_ci_high_pct: row.get(14)?,
                verdict: parse_verdict(row, 15)?,
            })
            .map_err(ExportError::Write)?;
        }
        Ok(())
    }
}

/// An export stops at the first failure to read the history or to write.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("cannot write the export: {0}")]
    Write(#[source] std::io::Error),
}

impl From<rusqlite::Error> for ExportError {
    fn from(e: rusqlite::Error) -> Self {
        ExportError::History(e.into())
    }
}

type MetricKey<'a> = (&'a str, &'a str, &'a str, &'a str);

/// The id of a metric, added to `metrics` on its first night.
fn metric_id<'a>(
    conn: &Connection,
    known: &mut HashMap<MetricKey<'a>, i64>,
    key: MetricKey<'a>,
    better: Better,
) -> Result<i64, HistoryError> {
    if let Some(&m) = known.get(&key) {
        return Ok(m);
    }
    // The direction is a property of the metric: the newest run says it.
    let m = conn
        .prepare_cached(
            "INSERT INTO metrics (scenario, benchmark, metric, unit, better) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (scenario, benchmark, metric, unit) DO UPDATE SET better = excluded.better
             RETURNING id",
        )?
        .query_row(params![key.0, key.1, key.2, key.3, better_str(better)], |row| row.get(0))?;
    known.insert(key, m);
    Ok(m)
}

const RUN_COLUMNS: &str = "SELECT id, run_id, revision, commit_hash, tree, started_at, finished_at, machine,
    scenario_set, baseline_commit, report_dir, status, improved, regressed FROM runs";

fn stored_run(row: &Row) -> rusqlite::Result<StoredRun> {
    Ok(StoredRun {
        id: row.get(0)?,
        run_id: row.get(1)?,
        revision: row.get(2)?,
        commit: row.get(3)?,
        tree: row.get(4)?,
        started_at: row.get(5)?,
        finished_at: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
        machine: row.get(7)?,
        scenario_set: row.get(8)?,
        baseline_commit: row.get(9)?,
        report_dir: row.get(10)?,
        status: row.get(11)?,
        improved: row.get(12)?,
        regressed: row.get(13)?,
    })
}

/// A `SeriesPoint` from the 11 columns starting at `at`: run id, commit,
/// started_at, n, median, ci_low, ci_high, delta, its interval, verdict.
fn series_point(row: &Row, at: usize) -> rusqlite::Result<SeriesPoint> {
    Ok(SeriesPoint {
        run: row.get(at)?,
        commit: row.get(at + 1)?,
        started_at: row.get(at + 2)?,
        n: row.get::<_, i64>(at + 3)? as usize,
        median: row.get(at + 4)?,
        ci_low: row.get(at + 5)?,
        ci_high: row.get(at + 6)?,
        delta_pct: row.get(at + 7)?,
        delta_ci_low_pct: row.get(at + 8)?,
        delta_ci_high_pct: row.get(at + 9)?,
        verdict: parse_verdict(row, at + 10)?,
    })
}

fn better_str(b: Better) -> &'static str {
    match b {
        Better::Lower => "lower",
        Better::Higher => "higher",
    }
}

fn bad_text(i: usize, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        format!("unexpected value {text:?} in the history").into(),
    )
}

fn parse_better(row: &Row, i: usize) -> rusqlite::Result<Better> {
    match row.get_ref(i)?.as_str()? {
        "lower" => Ok(Better::Lower),
        "higher" => Ok(Better::Higher),
        other => Err(bad_text(i, other)),
    }
}

fn parse_verdict(row: &Row, i: usize) -> rusqlite::Result<Option<Verdict>> {
    Ok(match row.get_ref(i)?.as_str_or_null()? {
        None => None,
        Some("improved") => Some(Verdict::Improved),
        Some("regressed") => Some(Verdict::Regressed),
        Some("unchanged") => Some(Verdict::Unchanged),
        Some("inconclusive") => Some(Verdict::Inconclusive),
        Some(other) => return Err(bad_text(i, other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::HistoryStore;
    use crate::results::Sample;

    /// Deterministic noise in [-1, 1].
    fn noise(i: u64) -> f64 {
        let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// One night: `metrics` Go benchmarks at `level` ns/op tonight, measured
    /// against `previous` (the last night's level) unless it is the first.
    /// Built through JSON, as results.json is read, so new optional fields
    /// of `Results` need no change here.
    fn night(seed: u64, previous: Option<f64>, level: f64, metrics: usize, rounds: u32) -> Results {
        let mut samples = Vec::new();
        for m in 0..metrics {
            for round in 0..rounds {
                let mut push = |variant: Role, level: f64| {
                    let i = seed * 1_000_003 + (m as u64) * 1009 + round as u64 * 2 + variant as u64;
                    samples.push(Sample {
                        scenario: "bench".into(),
                        benchmark: format!("BenchmarkQuery/{m:03}-2"),
                        metric: "sec/op".into(),
                        unit: "ns/op".into(),
                        better: Better::Lower,
                        variant,
                        round,
                        value: level * (1.0 + 0.01 * noise(i)),
                    });
                };
                if let Some(p) = previous {
                    push(Role::Baseline, p);
                }
                push(Role::Candidate, level);
            }
        }
        let comparisons = crate::analyze::analyze(&samples, &CompareConfig::default()).comparisons;
        let json = serde_json::json!({
            "schema_version": 1,
            "tool": { "name": "perfgate", "version": "0.1.0" },
            "run": {
                "id": format!("2026010{seed}-020000-bench"),
                "command": "perfgate nightly",
                "started_at": format!("2026-01-0{seed}T02:00:00Z"),
                "finished_at": format!("2026-01-0{seed}T02:10:00Z"),
                "seed": seed,
                "rounds": rounds,
                "status": "complete",
                "alpha": 0.05,
                "threshold_pct": 2.0,
            },
            "environment": {
                "os": "linux", "kernel": "6.1", "cpu_model": "Test CPU", "cores": 2,
                "memory_bytes": 1u64 << 30, "hostname": "ci-1",
            },
            "variants": [],
            "samples": samples,
            "comparisons": comparisons,
        });
        serde_json::from_value(json).unwrap()
    }

    fn new_run<'a>(results: &'a Results, commit: &'a str, baseline: Option<&'a str>, set: &str) -> NewRun<'a> {
        NewRun {
            results,
            revision: "HEAD",
            commit,
            tree: "tree",
            baseline_commit: baseline,
            report_dir: "20260101-020000-bench",
            scenario_set: set.into(),
        }
    }

    fn count(h: &History, table: &str) -> i64 {
        h.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn migrations_apply_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/history.sqlite");
        let mut h = History::open(&path).unwrap();
        h.record(&new_run(&night(1, None, 100.0, 2, 6), "c1", None, "bench")).unwrap();
        drop(h);
        let h = History::open(&path).unwrap();
        let version: i64 = h.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, History::schema_version());
        let mode: String = h.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(h.runs(None).unwrap().len(), 1);
        drop(h);
        assert_eq!(History::open_existing(&path).unwrap().runs(None).unwrap().len(), 1);
    }

    #[test]
    fn a_run_reads_back_as_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
        let first = night(1, None, 100.0, 3, 8);
        let id1 = h.record(&new_run(&first, "c1", None, "bench")).unwrap();
        let second = night(2, Some(100.0), 150.0, 3, 8);
        let id2 = h.record(&new_run(&second, "c2", Some("c1"), "bench")).unwrap();
        assert!(id2 > id1);
        let runs = h.runs(Some("bench")).unwrap();
        assert_eq!(runs.len(), 2);
        let r = &runs[1];
        assert_eq!(
            (r.id, r.run_id.as_str(), r.revision.as_str(), r.commit.as_str(), r.tree.as_str()),
            (id2, "20260102-020000-bench", "HEAD", "c2", "tree")
        );
        assert_eq!((r.started_at.as_str(), r.finished_at.as_str()), ("2026-01-02T02:00:00Z", "2026-01-02T02:10:00Z"));
        assert_eq!(r.machine, "Test CPU, 2 cores, ci-1");
        assert_eq!((r.scenario_set.as_str(), r.baseline_commit.as_deref()), ("bench", Some("c1")));
        assert_eq!((r.status.as_str(), r.improved, r.regressed), ("complete", 0, 3));
        assert_eq!(runs[0].baseline_commit, None);
        assert_eq!(count(&h, "samples"), (3 * 8) + (3 * 8 * 2));
        assert_eq!(count(&h, "comparisons"), 3);
        assert_eq!(count(&h, "summaries"), 6);
        assert_eq!(count(&h, "metrics"), 3);
        // The comparison round-trips exactly; tonight's summary is the candidate's.
        let c = &second.comparisons[0];
        let (delta, q, verdict): (f64, Option<f64>, String) = h
            .conn
            .query_row(
                "SELECT delta_pct, q_value, verdict FROM comparisons c JOIN metrics m ON m.id = c.metric
                 WHERE c.run = ?1 AND m.benchmark = ?2",
                params![id2, c.benchmark],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((delta, q, verdict.as_str()), (c.delta_pct, c.q_value, c.verdict.as_str()));
        let series = h.series("bench").unwrap();
        let p = &series.iter().find(|s| s.benchmark == c.benchmark).unwrap().points[1];
        assert_eq!(
            (p.n, p.median, p.ci_low, p.ci_high),
            (8, c.candidate.median, c.candidate.ci_low, c.candidate.ci_high)
        );
    }

    #[test]
    fn series_follow_each_metric_across_nights() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
        let nights =
            [night(1, None, 100.0, 4, 8), night(2, Some(100.0), 100.0, 4, 8), night(3, Some(100.0), 120.0, 4, 8)];
        let mut last: Option<&str> = None;
        for (i, n) in nights.iter().enumerate() {
            let commit = ["c1", "c2", "c3"][i];
            h.record(&new_run(n, commit, last, "bench")).unwrap();
            last = Some(commit);
        }
        // Another scenario set and an interrupted night do not belong.
        h.record(&new_run(&night(4, None, 1.0, 4, 8), "x", None, "other")).unwrap();
        let mut broken = night(5, Some(120.0), 500.0, 4, 8);
        broken.run.status = "interrupted".into();
        h.record(&new_run(&broken, "c4", Some("c3"), "bench")).unwrap();

        let series = h.series("bench").unwrap();
        let names: Vec<&str> = series.iter().map(|s| s.benchmark.as_str()).collect();
        assert_eq!(
            names,
            ["BenchmarkQuery/000-2", "BenchmarkQuery/001-2", "BenchmarkQuery/002-2", "BenchmarkQuery/003-2"]
        );
        for s in &series {
            assert_eq!(
                (s.scenario.as_str(), s.metric.as_str(), s.unit.as_str(), s.better),
                ("bench", "sec/op", "ns/op", Better::Lower)
            );
            let commits: Vec<&str> = s.points.iter().map(|p| p.commit.as_str()).collect();
            assert_eq!(commits, ["c1", "c2", "c3"]);
            assert_eq!(s.points[0].delta_pct, None);
            assert_eq!(s.points[0].verdict, None);
            assert_eq!(s.points[1].verdict, Some(Verdict::Unchanged), "{:?}", s.points[1]);
            assert_eq!(s.points[2].verdict, Some(Verdict::Regressed));
            let d = s.points[2].delta_pct.unwrap();
            assert!((d - 20.0).abs() < 2.0, "{d}");
            assert!(s.points[2].delta_ci_low_pct.unwrap() < d && d < s.points[2].delta_ci_high_pct.unwrap());
            assert!((s.points[2].median - 120.0).abs() < 1.5);
        }
        assert_eq!(h.series("other").unwrap().len(), 4);
        assert!(h.series("nothing").unwrap().is_empty());
        assert_eq!(h.scenario_sets().unwrap(), ["bench", "other"]);
    }

    #[test]
    fn last_run_is_the_newest_complete_run_of_the_same_set() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
        assert_eq!(h.last_run("a").unwrap(), None);
        let r = night(1, None, 1.0, 1, 6);
        h.record(&new_run(&r, "a1", None, "a")).unwrap();
        let a2 = h.record(&new_run(&r, "a2", Some("a1"), "a")).unwrap();
        h.record(&new_run(&r, "b1", None, "b")).unwrap();
        let mut failed = r.clone();
        failed.run.status = "failed".into();
        h.record(&new_run(&failed, "a3", Some("a2"), "a")).unwrap();
        let last = h.last_run("a").unwrap().unwrap();
        assert_eq!((last.id, last.commit.as_str()), (a2, "a2"));
        assert_eq!(h.last_run("b").unwrap().unwrap().commit, "b1");
        assert_eq!(h.last_run("a,b").unwrap(), None);
        assert_eq!(h.runs(Some("a")).unwrap().len(), 3);
        assert_eq!(h.runs(None).unwrap().len(), 4);
    }

    #[test]
    fn a_run_failing_midway_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
        h.record(&new_run(&night(1, None, 1.0, 3, 6), "c1", None, "bench")).unwrap();
        let (runs, samples, metrics) = (count(&h, "runs"), count(&h, "samples"), count(&h, "metrics"));
        // The run row and new metrics are written before the bad sample is met.
        let mut bad = night(2, Some(1.0), 1.0, 5, 6);
        bad.samples.last_mut().unwrap().value = f64::NAN;
        let e = h.record(&new_run(&bad, "c2", Some("c1"), "bench")).unwrap_err();
        assert!(matches!(e, HistoryError::NotANumber { .. }), "{e}");
        assert!(e.to_string().contains("nothing was recorded"), "{e}");
        // A transaction dropped without commit (a killed run) is rolled back too.
        {
            let tx = h.conn.transaction().unwrap();
            tx.execute("DELETE FROM samples", []).unwrap();
        }
        assert_eq!((count(&h, "runs"), count(&h, "samples"), count(&h, "metrics")), (runs, samples, metrics));
        assert_eq!(count(&h, "comparisons") + count(&h, "summaries"), 3);
        assert_eq!(h.last_run("bench").unwrap().unwrap().commit, "c1");
    }

    #[test]
    fn readers_read_while_a_writer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let mut writer = History::open(&path).unwrap();
        writer.record(&new_run(&night(1, None, 1.0, 2, 6), "c1", None, "bench")).unwrap();
        // Another connection, as another process would have, holds the write lock.
        let mut other = Connection::open(&path).unwrap();
        let tx = other.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        tx.execute("UPDATE runs SET status = 'rewritten'", []).unwrap();
        let started = std::time::Instant::now();
        let reader = History::open_existing(&path).unwrap();
        assert_eq!(reader.runs(None).unwrap()[0].status, "complete");
        assert_eq!(reader.series("bench").unwrap().len(), 2);
        assert!(History::open(&path).is_ok(), "an up-to-date schema needs no lock to open");
        assert!(started.elapsed() < Duration::from_secs(2), "readers waited for the writer");
        tx.commit().unwrap();
        assert_eq!(reader.runs(None).unwrap()[0].status, "rewritten");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.sqlite");
        let e = History::open_existing(&missing).unwrap_err();
        assert_eq!(e.to_string(), format!("no history at {}; `perfgate nightly` creates it", missing.display()));
        assert!(!missing.exists(), "a reader must not create the file");

        let newer = dir.path().join("newer.sqlite");
        History::open(&newer).unwrap().conn.pragma_update(None, "user_version", 99).unwrap();
        let e = History::open(&newer).unwrap_err();
        assert!(matches!(e, HistoryError::TooNew { found: 99, .. }), "{e}");
        assert!(e.to_string().contains("use a newer perfgate"), "{e}");

        let foreign = dir.path().join("foreign.sqlite");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(matches!(History::open_existing(&foreign).unwrap_err(), HistoryError::NotHistory(_)));
        let text = dir.path().join("text.sqlite");
        std::fs::write(&text, "not a database, just text that is long enough to hold a header").unwrap();
        let e = History::open_existing(&text).unwrap_err();
        assert!(matches!(e, HistoryError::NotHistory(_)), "{e:?}");
    }
}
