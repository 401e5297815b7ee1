//! PostgreSQL's own statistics over a measured window (issue 15, item 2):
//! `pg_stat_statements` read on both edges of the window (deltas, so an
//! external database's statistics are never reset), the transactions that
//! wrote committed in between, and `pg_stat_activity` sampled for the peak
//! of open connections. Read over a connection of perfgate's own: to a
//! database of its own in a managed cluster, to the user's database
//! otherwise (its queries are marked `/* perfgate */` and left out).
//!
//! `pg_stat_statements` counts as each statement finishes. Commits are not
//! read from `pg_stat_database`: a backend flushes those counts only when
//! it goes idle, at most once a second — measured here, 600 commits showed
//! up 15 s after they happened. They are counted from the transaction IDs
//! assigned in the window instead (`pg_current_snapshot()` on both edges,
//! each one's `pg_xact_status`): exact and immediate, for the transactions
//! that wrote (read-only ones get no ID and cost no commit record). The ID
//! counter is the cluster's: with an external `url`, other databases'
//! writes count too.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

/// Marks perfgate's own statements, which are left out of every figure.
const MARK: &str = "/* perfgate */";

/// How often `pg_stat_activity` is sampled.
const ACTIVITY_EVERY: Duration = Duration::from_millis(100);

/// Where to read statistics, and of which database.
#[derive(Debug, Clone)]
pub struct StatsSource {
    /// The connection perfgate reads through.
    pub url: String,
    /// The database whose statements and commits are counted.
    pub database: String,
}

/// One statement's counters (cumulative, or a window's delta).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementCounts {
    /// The normalized text (`$1` for constants), whitespace collapsed.
    pub query: String,
    pub calls: i64,
    pub total_ms: f64,
    pub rows: i64,
    pub blocks_hit: i64,
    pub blocks_read: i64,
}

/// The counters of one edge of a window.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// By `queryid`; `None` when `pg_stat_statements` cannot be read.
    pub statements: Option<HashMap<i64, StatementCounts>>,
    /// The next transaction ID to be assigned.
    pub next_xid: i64,
}

/// Transactions that got an ID between two edges, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Xacts {
    pub committed: i64,
    pub aborted: i64,
}

/// Transaction IDs checked one by one at most; past that (a window of very
/// many writes) every ID counts as a commit.
const MAX_XIDS_CHECKED: i64 = 2_000_000;

/// What the database did over one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbWindow {
    /// Per statement; `None` when `pg_stat_statements` could not be read.
    pub statements: Option<Vec<StatementCounts>>,
    /// Transactions that wrote, committed and rolled back.
    pub commits: i64,
    pub rollbacks: i64,
    /// Most connections to the database open at once (sampled).
    pub peak_connections: Option<i64>,
    /// The window's requests (0 for an idle one) and length, filled in by
    /// the workload.
    pub requests: u64,
    pub seconds: f64,
}

/// A connection for statistics.
pub struct Reader {
    client: postgres::Client,
    source: StatsSource,
}

fn connect(url: &str) -> Result<postgres::Client, String> {
    let mut cfg: postgres::Config = url.parse().map_err(|e| format!("PostgreSQL URL: {e}"))?;
    cfg.application_name("perfgate").connect_timeout(Duration::from_secs(10));
    cfg.connect(postgres::NoTls).map_err(|e| format!("cannot connect to PostgreSQL for statistics: {e}"))
}

impl Reader {
    /// Connects; an empty `source.database` is the connection's own.
    pub fn connect(source: &StatsSource) -> Result<Reader, String> {
        let mut client = connect(&source.url)?;
        let mut source = source.clone();
        if source.database.is_empty() {
            let row = client
                .query_one(&format!("{MARK} SELECT current_database()::text"), &[])
                .map_err(|e| format!("PostgreSQL: {e}"))?;
            source.database = row.get(0);
        }
        Ok(Reader { client, source })
    }

    /// Where it reads, with the database resolved.
    pub fn source(&self) -> &StatsSource {
        &self.source
    }

    /// The counters now.
    pub fn snapshot(&mut self) -> Result<Snapshot, String> {
        let row = self
            .client
            .query_one(&format!("{MARK} SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint"), &[])
            .map_err(|e| format!("reading the transaction counter: {e}"))?;
        let statements = self.statements().ok();
        Ok(Snapshot { statements, next_xid: row.get(0) })
    }

    /// The transactions that got an ID in `[from, to)`, by outcome (one
    /// still running counts as neither).
    pub fn xacts(&mut self, from: i64, to: i64) -> Result<Xacts, String> {
        if to <= from {
            return Ok(Xacts::default());
        }
        if to - from > MAX_XIDS_CHECKED {
            return Ok(Xacts { committed: to - from, aborted: 0 });
        }
        let sql = format!(
            "{MARK} SELECT count(*) FILTER (WHERE s = 'committed'), count(*) FILTER (WHERE s = 'aborted')              FROM (SELECT pg_xact_status(g::text::xid8) AS s FROM generate_series($1::bigint, $2::bigint - 1) g) x"
        );
        let row = self.client.query_one(&sql, &[&from, &to]).map_err(|e| format!("reading transaction status: {e}"))?;
        Ok(Xacts { committed: row.get(0), aborted: row.get(1) })
    }

    fn statements(&mut self) -> Result<HashMap<i64, StatementCounts>, postgres::Error> {
        let sql = format!(
            "{MARK} SELECT s.queryid, s.query, s.calls, s.total_exec_time, s.rows, s.shared_blks_hit, s.shared_blks_read \
             FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = $1 AND s.queryid IS NOT NULL AND s.query NOT LIKE '{MARK}%'"
        );
        let rows = self.client.query(&sql, &[&self.source.database])?;
        let mut out: HashMap<i64, StatementCounts> = HashMap::new();
        for r in rows {
            let id: i64 = r.get(0);
            let e = out.entry(id).or_insert_with(|| StatementCounts {
                query: normalize(r.get::<_, Option<&str>>(1).unwrap_or("")),
                ..StatementCounts::default()
            });
            // One statement may have a row per user and per nesting level.
            e.calls += r.get::<_, i64>(2);
            e.total_ms += r.get::<_, f64>(3);
            e.rows += r.get::<_, i64>(4);
            e.blocks_hit += r.get::<_, i64>(5);
            e.blocks_read += r.get::<_, i64>(6);
        }
        Ok(out)
    }
}

/// Whitespace collapsed to single spaces, trimmed: the same statement reads
/// the same from both variants' clusters (whose `queryid`s may differ).
pub fn normalize(query: &str) -> String {
    query.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The window between two snapshots (statements that ran in it only).
pub fn window(before: &Snapshot, after: &Snapshot, xacts: Xacts, peak_connections: Option<i64>) -> DbWindow {
    let statements = match (&before.statements, &after.statements) {
        (Some(b), Some(a)) => {
            let mut list: Vec<StatementCounts> = a
                .iter()
                .filter_map(|(id, a)| {
                    let zero = StatementCounts::default();
                    let b = b.get(id).unwrap_or(&zero);
                    let d = StatementCounts {
                        query: a.query.clone(),
                        calls: a.calls - b.calls,
                        total_ms: (a.total_ms - b.total_ms).max(0.0),
                        rows: (a.rows - b.rows).max(0),
                        blocks_hit: (a.blocks_hit - b.blocks_hit).max(0),
                        blocks_read: (a.blocks_read - b.blocks_read).max(0),
                    };
                    (d.calls > 0).then_some(d)
                })
                .collect();
            // Two queryids with one text (e.g. one per search_path) are one statement here.
            list.sort_by(|x, y| x.query.cmp(&y.query));
            list.dedup_by(|x, y| {
                let same = x.query == y.query;
                if same {
                    y.calls += x.calls;
                    y.total_ms += x.total_ms;
                    y.rows += x.rows;
                    y.blocks_hit += x.blocks_hit;
                    y.blocks_read += x.blocks_read;
                }
                same
            });
            list.sort_by(|x, y| y.total_ms.total_cmp(&x.total_ms).then_with(|| x.query.cmp(&y.query)));
            Some(list)
        }
        _ => None,
    };
    DbWindow {
        statements,
        commits: xacts.committed,
        rollbacks: xacts.aborted,
        peak_connections,
        requests: 0,
        seconds: 0.0,
    }
}

/// Samples the database's open connections until stopped; the peak.
pub struct ActivitySampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicI64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ActivitySampler {
    pub fn start(source: &StatsSource) -> Result<ActivitySampler, String> {
        let mut client = connect(&source.url)?;
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicI64::new(-1));
        let (s, p, db) = (stop.clone(), peak.clone(), source.database.clone());
        let sql = format!(
            "{MARK} SELECT count(*)::bigint FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend'"
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Ok(row) = client.query_one(&sql, &[&db]) {
                    p.fetch_max(row.get::<_, i64>(0), Ordering::Relaxed);
                }
                std::thread::sleep(ACTIVITY_EVERY);
            }
        });
        Ok(ActivitySampler { stop, peak, thread: Some(thread) })
    }

    /// Stops sampling; the peak seen (`None` if no sample was read).
    pub fn stop(mut self) -> Option<i64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let p = self.peak.load(Ordering::Relaxed);
        (p >= 0).then_some(p)
    }
}

impl Drop for ActivitySampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(query: &str, calls: i64, ms: f64) -> StatementCounts {
        StatementCounts { query: query.into(), calls, total_ms: ms, rows: calls * 2, blocks_hit: calls, blocks_read: 0 }
    }

    #[test]
    fn windows_are_deltas_of_statements_that_ran() {
        let before = Snapshot {
            statements: Some(HashMap::from([(1, stmt("SELECT 1", 10, 5.0)), (2, stmt("SELECT 2", 3, 1.0))])),
            next_xid: 100,
        };
        let after = Snapshot {
            statements: Some(HashMap::from([
                (1, stmt("SELECT 1", 15, 7.5)),
                (2, stmt("SELECT 2", 3, 1.0)),
                (3, stmt("SELECT 3", 4, 9.0)),
                (4, stmt("SELECT 3", 1, 1.0)),
            ])),
            next_xid: 130,
        };
        let w = window(&before, &after, Xacts { committed: 30, aborted: 0 }, Some(4));
        let s = w.statements.unwrap();
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!((s[0].query.as_str(), s[0].calls, s[0].total_ms), ("SELECT 3", 5, 10.0));
        assert_eq!((s[1].query.as_str(), s[1].calls, s[1].total_ms), ("SELECT 1", 5, 2.5));
        assert_eq!((w.commits, w.rollbacks, w.peak_connections), (30, 0, Some(4)));
        let none = window(&Snapshot::default(), &after, Xacts::default(), None);
        assert!(none.statements.is_none());
    }

    #[test]
    fn normalizes_whitespace() {
        assert_eq!(normalize("SELECT a\n\t FROM  t\nWHERE x = $1 "), "SELECT a FROM t WHERE x = $1");
    }
}
