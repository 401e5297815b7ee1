//! The embedded history store: nightly runs, their raw samples, comparisons
//! and per-metric summaries in one SQLite file (`reports/history.sqlite`).
//! WAL lets reports read while a nightly writes; each run is one
//! transaction; nightlies of one scenario set take turns through an
//! open-file-description lock on a byte of `<file>.lock`.
//!
//! Schema (version 1; `PRAGMA user_version` counts the migrations applied):
//! `runs` one row per night; `metrics` one row per (scenario, benchmark,
//! metric, unit), so the big tables carry an integer instead of four names;
//! `samples` (run, metric, variant, round, value); `comparisons` (run,
//! metric: baseline and candidate summaries, delta with its interval, p, q,
//! MDE, verdict); `summaries` (run, metric: tonight's samples summarized,
//! the point a series plots).

use super::record::{RunRecord, better_str};
use super::sql::{self, Cells};
use super::{ExportError, ExportRow, HistoryError, Series, StoredRun};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::fs::File;
use std::path::Path;

pub use super::error::BUSY_TIMEOUT;

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

/// An open history file.
#[derive(Debug)]
pub struct SqliteHistory {
    conn: Connection,
    path: std::path::PathBuf,
    /// `<file>.lock`, holding this store's series lock while open.
    series_lock: Option<File>,
}

impl SqliteHistory {
    /// Opens the history at `path` for writing, creating the file (and its
    /// directory) and bringing the schema up to date.
    pub fn open(path: &Path) -> Result<SqliteHistory, HistoryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| HistoryError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        Self::open_with(path, OpenFlags::SQLITE_OPEN_CREATE)
    }

    /// Opens an existing history for reading (`perfgate history`, reports).
    /// Works while a nightly writes to it: readers see the last committed run.
    pub fn open_existing(path: &Path) -> Result<SqliteHistory, HistoryError> {
        if !path.is_file() {
            return Err(HistoryError::Missing(path.display().to_string()));
        }
        Self::open_with(path, OpenFlags::empty())
    }

    fn open_with(path: &Path, create: OpenFlags) -> Result<SqliteHistory, HistoryError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | create;
        let conn = Connection::open_with_flags(path, flags)?;
        // First, so that everything below waits for a writer instead of failing.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let not_history = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => HistoryError::NotHistory(path.display().to_string()),
            _ => HistoryError::from(e),
        };
        // Persistent in the file; a no-op once set. Lets readers read during
        // a write, and a killed writer leaves the last commit intact.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).map_err(not_history)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let mut history = SqliteHistory { conn, path: path.to_path_buf(), series_lock: None };
        history.migrate()?;
        Ok(history)
    }

    fn migrate(&mut self) -> Result<(), HistoryError> {
        let known = MIGRATIONS.len() as i64;
        let at = self.path.display().to_string();
        let check = |conn: &Connection| -> Result<i64, HistoryError> {
            let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
            let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
            if (app != 0 && app != APPLICATION_ID) || (app == 0 && tables > 0) {
                return Err(HistoryError::NotHistory(at.clone()));
            }
            if version > known {
                return Err(HistoryError::TooNew { at: at.clone(), found: version, known });
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

    /// The open connection (tests and tools that inspect the file).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Takes the write lock on byte `key` of `file` without waiting: an open
/// file description lock (Linux), released when the file is closed, so by
/// the process's death too; other series lock other bytes.
fn try_lock_byte(file: &File, key: i32) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: a zeroed `flock` is a valid value; every field used is set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    lock.l_start = libc::off_t::from(key);
    lock.l_len = 1;
    // SAFETY: fcntl on an open descriptor with a pointer to a live `flock`.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &lock) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN | libc::EACCES) => Ok(false),
        _ => Err(e),
    }
}

impl super::HistoryStore for SqliteHistory {
    fn lock_series(&mut self, scenario_set: &str, waiting: &mut dyn FnMut()) -> Result<(), HistoryError> {
        let mut name = self.path.clone().into_os_string();
        name.push(".lock");
        let lock_path = std::path::PathBuf::from(name);
        let lock_err = |source| HistoryError::Lock { at: lock_path.display().to_string(), source };
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(lock_err)?;
        let key = super::series_key(scenario_set);
        super::wait_for_lock(|| try_lock_byte(&file, key).map_err(lock_err), waiting)?;
        self.series_lock = Some(file);
        Ok(())
    }

    fn write(&mut self, run: &RunRecord) -> Result<i64, HistoryError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let r = &run.run;
        let id: i64 = tx.query_row(
            sql::INSERT_RUN,
            params![
                r.run_id,
                r.revision,
                r.commit,
                r.tree,
                r.started_at,
                r.finished_at,
                r.machine,
                r.scenario_set,
                r.baseline_commit,
                r.report_dir,
                r.status,
                r.improved,
                r.regressed,
                r.tool_version,
                r.seed,
                r.rounds,
                r.alpha,
                r.threshold_pct,
                r.environment,
            ],
            |row| row.get(0),
        )?;
        let mut metric_ids = Vec::with_capacity(run.metrics.len());
        {
            let mut upsert = tx.prepare_cached(sql::UPSERT_METRIC)?;
            for m in &run.metrics {
                let mid: i64 = upsert
                    .query_row(params![m.scenario, m.benchmark, m.metric, m.unit, better_str(m.better)], |row| {
                        row.get(0)
                    })?;
                metric_ids.push(mid);
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO samples (run, metric, variant, round, value) VALUES ($1, $2, $3, $4, $5)",
            )?;
            for s in &run.samples {
                insert.execute(params![id, metric_ids[s.metric], s.variant.as_str(), s.round, s.value])?;
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO comparisons (run, metric, baseline_n, baseline_median, baseline_ci_low, baseline_ci_high,
                     candidate_n, candidate_median, candidate_ci_low, candidate_ci_high, delta_pct, delta_ci_low_pct,
                     delta_ci_high_pct, p_value, q_value, test, mde_pct, verdict)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            )?;
            for c in &run.comparisons {
                let (b, k) = (&c.baseline, &c.candidate);
                insert.execute(params![
                    id,
                    metric_ids[c.metric],
                    b.n,
                    b.median,
                    b.ci_low,
                    b.ci_high,
                    k.n,
                    k.median,
                    k.ci_low,
                    k.ci_high,
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
            let mut insert = tx.prepare_cached(
                "INSERT INTO summaries (run, metric, n, median, ci_low, ci_high, mean, stddev, min, max)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )?;
            for s in &run.summaries {
                insert.execute(params![
                    id,
                    metric_ids[s.metric],
                    s.n,
                    s.median,
                    s.ci_low,
                    s.ci_high,
                    s.mean,
                    s.stddev,
                    s.min,
                    s.max
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn records(&self, each: &mut dyn FnMut(RunRecord) -> Result<(), HistoryError>) -> Result<(), HistoryError> {
        let ids: Vec<i64> = self.conn.prepare(sql::RUN_IDS)?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for id in ids {
            let run = self.conn.query_row(sql::RUN_BY_ID, [id], |row| Ok(sql::run_row(row)))??.1;
            let samples = self.rows(sql::RUN_SAMPLES, [id], |r| sql::sample(r))?;
            let comparisons = self.rows(sql::RUN_COMPARISONS, [id], |r| sql::comparison(r))?;
            let summaries = self.rows(sql::RUN_SUMMARIES, [id], |r| sql::summary(r))?;
            each(RunRecord::from_parts(run, samples, comparisons, summaries))?;
        }
        Ok(())
    }

    fn last_run(&self, scenario_set: &str) -> Result<Option<StoredRun>, HistoryError> {
        self.conn.query_row(sql::LAST_RUN, [scenario_set], |row| Ok(sql::stored_run(row))).optional()?.transpose()
    }

    fn runs(&self, scenario_set: Option<&str>) -> Result<Vec<StoredRun>, HistoryError> {
        self.rows(sql::RUNS, [scenario_set], |r| sql::stored_run(r))
    }

    fn scenario_sets(&self) -> Result<Vec<String>, HistoryError> {
        self.rows(sql::SCENARIO_SETS, [], |row| row.text(0))
    }

    fn series(&self, scenario_set: &str) -> Result<Vec<Series>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(sql::SERIES)?;
        let mut rows = stmt.query([scenario_set])?;
        let (mut out, mut current) = (Vec::new(), None);
        while let Some(row) = rows.next()? {
            sql::push_series_row(&mut out, &mut current, row)?;
        }
        sql::sort_series(&mut out);
        Ok(out)
    }

    fn export(&self, each: &mut dyn FnMut(ExportRow) -> std::io::Result<()>) -> Result<(), ExportError> {
        let mut stmt = self.conn.prepare(sql::EXPORT)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            each(sql::export_row(row)?).map_err(ExportError::Write)?;
        }
        Ok(())
    }
}

impl SqliteHistory {
    /// Every row of `query` (with `params`), decoded by `decode`.
    fn rows<T>(
        &self,
        query: &str,
        params: impl rusqlite::Params,
        decode: impl Fn(&rusqlite::Row) -> Result<T, HistoryError>,
    ) -> Result<Vec<T>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(query)?;
        let mut rows = stmt.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(decode(row)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    //! What only SQLite has: WAL, file checks, readers beside a writer.
    //! The behaviour both stores share is tested on both by
    //! tests/history_store.rs.
    use super::*;
    use crate::history::HistoryStore;
    use crate::history::fixture::{new_run, night};
    use std::time::Duration;

    fn count(h: &SqliteHistory, table: &str) -> i64 {
        h.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn the_file_is_created_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/history.sqlite");
        let mut h = SqliteHistory::open(&path).unwrap();
        h.record(&new_run(&night(1, None, 100.0, 2, 6), "c1", None, "bench")).unwrap();
        drop(h);
        let h = SqliteHistory::open(&path).unwrap();
        let version: i64 = h.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, SqliteHistory::schema_version());
        assert_eq!(version, crate::history::pg::PgHistory::schema_version(), "both stores migrate in step");
        let mode: String = h.conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_transaction_dropped_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = SqliteHistory::open(&dir.path().join("h.sqlite")).unwrap();
        h.record(&new_run(&night(1, None, 1.0, 3, 6), "c1", None, "bench")).unwrap();
        let samples = count(&h, "samples");
        // A killed run: its transaction is rolled back.
        {
            let tx = h.conn.transaction().unwrap();
            tx.execute("DELETE FROM samples", []).unwrap();
        }
        assert_eq!(count(&h, "samples"), samples);
    }

    #[test]
    fn readers_read_while_a_writer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let mut writer = SqliteHistory::open(&path).unwrap();
        writer.record(&new_run(&night(1, None, 1.0, 2, 6), "c1", None, "bench")).unwrap();
        // Another connection, as another process would have, holds the write lock.
        let mut other = Connection::open(&path).unwrap();
        let tx = other.transaction_with_behavior(TransactionBehavior::Immediate).unwrap();
        tx.execute("UPDATE runs SET status = 'rewritten'", []).unwrap();
        let started = std::time::Instant::now();
        let reader = SqliteHistory::open_existing(&path).unwrap();
        assert_eq!(reader.runs(None).unwrap()[0].status, "complete");
        assert_eq!(reader.series("bench").unwrap().len(), 2);
        assert!(SqliteHistory::open(&path).is_ok(), "an up-to-date schema needs no lock to open");
        assert!(started.elapsed() < Duration::from_secs(2), "readers waited for the writer");
        tx.commit().unwrap();
        assert_eq!(reader.runs(None).unwrap()[0].status, "rewritten");
    }

    #[test]
    fn refuses_files_that_are_not_a_history() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.sqlite");
        let e = SqliteHistory::open_existing(&missing).unwrap_err();
        assert_eq!(e.to_string(), format!("no history at {}; `perfgate nightly` creates it", missing.display()));
        assert!(!missing.exists(), "a reader must not create the file");

        let foreign = dir.path().join("foreign.sqlite");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(matches!(SqliteHistory::open_existing(&foreign).unwrap_err(), HistoryError::NotHistory(_)));
        let text = dir.path().join("text.sqlite");
        std::fs::write(&text, "not a database, just text that is long enough to hold a header").unwrap();
        let e = SqliteHistory::open_existing(&text).unwrap_err();
        assert!(matches!(e, HistoryError::NotHistory(_)), "{e:?}");
    }
}
