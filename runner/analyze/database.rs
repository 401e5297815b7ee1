//! The database section of a run (issue 15, items 2 and 3): each scenario's
//! windows pooled per variant — sums of calls, time, rows and blocks over
//! sums of requests (or seconds), so a window with more requests weighs
//! more — and the N+1 flags: a statement run `k` or more times per request
//! whose calls per request match the rows per request another statement
//! returned (it runs once per item of that result).

use crate::model::Role;
use crate::results::{DatabaseScenario, DatabaseStatement, DatabaseTotals, NPlusOne, StatementFigures};
use crate::target::pgstats::{DbWindow, StatementCounts};
use std::collections::BTreeMap;

/// `n_plus_one`'s default `k`: calls per request from which a statement
/// that runs once per item is flagged.
pub const DEFAULT_N_PLUS_ONE_CALLS: f64 = 5.0;

/// One trial's window (or why it has none).
#[derive(Debug, Clone)]
pub struct DbTrial {
    pub scenario: String,
    pub role: Role,
    pub round: u32,
    /// The database, as [`crate::target::postgres::Database::describe`] says.
    pub server: String,
    pub window: Result<DbWindow, String>,
}

/// The database section, one entry per scenario with windows, in the order
/// the scenarios first appear in `trials`; `k` per scenario (else the default).
pub fn summarize(trials: &[DbTrial], k: &BTreeMap<String, f64>) -> Vec<DatabaseScenario> {
    let mut order: Vec<&str> = Vec::new();
    for t in trials {
        if !order.contains(&t.scenario.as_str()) {
            order.push(&t.scenario);
        }
    }
    order
        .into_iter()
        .map(|scenario| {
            let mine: Vec<&DbTrial> = trials.iter().filter(|t| t.scenario == scenario).collect();
            let k = k.get(scenario).copied().unwrap_or(DEFAULT_N_PLUS_ONE_CALLS);
            scenario_section(scenario, &mine, mine[0].server.clone(), k)
        })
        .collect()
}

/// One variant's windows pooled.
#[derive(Default)]
struct Pooled {
    windows: u32,
    requests: u64,
    seconds: f64,
    commits: i64,
    peak: Option<i64>,
    /// `None` once a window lacked pg_stat_statements.
    statements: Option<BTreeMap<String, StatementCounts>>,
}

fn pool(windows: &[&DbWindow]) -> Option<Pooled> {
    if windows.is_empty() {
        return None;
    }
    let mut p = Pooled { statements: Some(BTreeMap::new()), ..Pooled::default() };
    for w in windows {
        p.windows += 1;
        p.requests += w.requests;
        p.seconds += w.seconds;
        p.commits += w.commits;
        p.peak = p.peak.max(w.peak_connections);
        match (&mut p.statements, &w.statements) {
            (Some(all), Some(list)) => {
                for s in list {
                    let e = all
                        .entry(s.query.clone())
                        .or_insert_with(|| StatementCounts { query: s.query.clone(), ..StatementCounts::default() });
                    e.calls += s.calls;
                    e.total_ms += s.total_ms;
                    e.rows += s.rows;
                    e.blocks_hit += s.blocks_hit;
                    e.blocks_read += s.blocks_read;
                }
            }
            _ => p.statements = None,
        }
    }
    Some(p)
}

impl Pooled {
    /// What the figures are divided by: requests, or seconds when idle.
    fn per(&self, by_request: bool) -> f64 {
        if by_request { self.requests.max(1) as f64 } else { self.seconds.max(1e-9) }
    }

    fn totals(&self, by_request: bool) -> DatabaseTotals {
        let n = self.per(by_request);
        let stmts = self.statements.as_ref();
        DatabaseTotals {
            windows: self.windows,
            requests: self.requests,
            seconds: self.seconds,
            statements_per: stmts.map(|s| s.values().map(|c| c.calls).sum::<i64>() as f64 / n),
            time_per_ms: stmts.map(|s| s.values().map(|c| c.total_ms).sum::<f64>() / n),
            commits_per: self.commits as f64 / n,
            commits_per_second: self.commits as f64 / self.seconds.max(1e-9),
            peak_connections: self.peak,
        }
    }

    fn figures(&self, query: &str, by_request: bool) -> Option<StatementFigures> {
        let s = self.statements.as_ref()?.get(query)?;
        let n = self.per(by_request);
        let calls = s.calls.max(1) as f64;
        Some(StatementFigures {
            calls_per: s.calls as f64 / n,
            time_per_ms: s.total_ms / n,
            mean_time_ms: s.total_ms / calls,
            rows_per_call: s.rows as f64 / calls,
            blocks_hit_per: s.blocks_hit as f64 / n,
            blocks_read_per: s.blocks_read as f64 / n,
        })
    }
}

fn scenario_section(scenario: &str, trials: &[&DbTrial], server: String, k: f64) -> DatabaseScenario {
    let side = |role: Role| -> Vec<&DbWindow> {
        trials.iter().filter(|t| t.role == role).filter_map(|t| t.window.as_ref().ok()).collect()
    };
    let (base, cand) = (side(Role::Baseline), side(Role::Candidate));
    let by_request = base.iter().chain(&cand).any(|w| w.requests > 0);
    let (pb, pc) = (pool(&base), pool(&cand));
    let mut errors: Vec<String> = Vec::new();
    for t in trials {
        if let Err(e) = &t.window {
            let line = format!("{} round {}: {e}", t.role, t.round);
            if !errors.iter().any(|x| x.ends_with(e.as_str())) {
                errors.push(line);
            }
        }
    }
    for (p, role) in [(&pb, Role::Baseline), (&pc, Role::Candidate)] {
        if p.as_ref().is_some_and(|p| p.statements.is_none()) {
            errors.push(format!("{role}: pg_stat_statements could not be read in some windows: no statement figures"));
        }
    }
    let mut queries: Vec<(f64, String)> = Vec::new();
    for p in [&pb, &pc].into_iter().flatten() {
        for (q, s) in p.statements.iter().flatten() {
            let t = s.total_ms / p.per(by_request);
            match queries.iter_mut().find(|(_, x)| x == q) {
                Some(e) => e.0 = e.0.max(t),
                None => queries.push((t, q.clone())),
            }
        }
    }
    queries.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let statements = queries
        .into_iter()
        .map(|(_, q)| DatabaseStatement {
            label: crate::workload::database::statement_label(&q),
            baseline: pb.as_ref().and_then(|p| p.figures(&q, by_request)),
            candidate: pc.as_ref().and_then(|p| p.figures(&q, by_request)),
            query: q,
        })
        .collect::<Vec<_>>();
    let mut n_plus_one = Vec::new();
    if by_request {
        n_plus_one.extend(pb.as_ref().map(|p| flags(p, Role::Baseline, k)).unwrap_or_default());
        n_plus_one.extend(pc.as_ref().map(|p| flags(p, Role::Candidate, k)).unwrap_or_default());
    }
    DatabaseScenario {
        scenario: scenario.to_string(),
        per: if by_request { "request" } else { "second" }.into(),
        server,
        baseline: pb.as_ref().map(|p| p.totals(by_request)),
        candidate: pc.as_ref().map(|p| p.totals(by_request)),
        statements,
        n_plus_one,
        errors,
    }
}

/// A statement at `k` or more calls per request whose calls per request are
/// within 10% (and half a call) of the rows per request of another
/// statement — the one whose result it iterates.
fn flags(p: &Pooled, role: Role, k: f64) -> Vec<NPlusOne> {
    let Some(stmts) = &p.statements else { return Vec::new() };
    let n = p.per(true);
    let mut out = Vec::new();
    for s in stmts.values() {
        let calls = s.calls as f64 / n;
        if calls < k {
            continue;
        }
        let parent = stmts
            .values()
            .filter(|x| x.query != s.query)
            .map(|x| (x, x.rows as f64 / n))
            .filter(|(_, rows)| (rows - calls).abs() <= (0.1 * calls).max(0.5))
            .min_by(|a, b| (a.1 - calls).abs().total_cmp(&(b.1 - calls).abs()).then_with(|| a.0.query.cmp(&b.0.query)));
        if let Some((parent, rows)) = parent {
            out.push(NPlusOne {
                variant: role,
                query: s.query.clone(),
                calls_per_request: calls,
                parent: parent.query.clone(),
                parent_rows_per_request: rows,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(query: &str, calls: i64, rows: i64, ms: f64) -> StatementCounts {
        StatementCounts { query: query.into(), calls, total_ms: ms, rows, blocks_hit: 0, blocks_read: 0 }
    }

    fn trial(role: Role, round: u32, requests: u64, statements: Vec<StatementCounts>, commits: i64) -> DbTrial {
        DbTrial {
            scenario: "s".into(),
            role,
            round,
            server: "managed".into(),
            window: Ok(DbWindow {
                statements: Some(statements),
                commits,
                rollbacks: 0,
                peak_connections: Some(round as i64),
                requests,
                seconds: 2.0,
            }),
        }
    }

    /// The demo's pattern: a parent returning 12 rows per request, a child
    /// run once per row (12 calls); the fix is one joined query.
    #[test]
    fn flags_a_statement_run_once_per_row_of_another() {
        let parent = "SELECT id FROM series WHERE metric = $1";
        let child = "SELECT ts FROM points WHERE series_id = $1";
        let joined = "SELECT series_id, ts FROM points WHERE series_id IN (SELECT …)";
        let trials = vec![
            trial(Role::Baseline, 1, 100, vec![stmt(parent, 100, 1200, 10.0), stmt(child, 1200, 24000, 300.0)], 1300),
            trial(Role::Baseline, 2, 50, vec![stmt(parent, 50, 600, 5.0), stmt(child, 600, 12000, 150.0)], 650),
            trial(Role::Candidate, 1, 400, vec![stmt(parent, 400, 4800, 40.0), stmt(joined, 400, 96000, 90.0)], 800),
            // A window whose statistics failed: kept as an error, not counted.
            DbTrial {
                scenario: "s".into(),
                role: Role::Candidate,
                round: 2,
                server: "managed".into(),
                window: Err("boom".into()),
            },
        ];
        let d = &summarize(&trials, &BTreeMap::new())[0];
        assert_eq!(d.per, "request");
        let (b, c) = (d.baseline.as_ref().unwrap(), d.candidate.as_ref().unwrap());
        assert_eq!((b.windows, b.requests, c.windows, c.requests), (2, 150, 1, 400));
        assert_eq!(b.statements_per, Some(13.0));
        assert_eq!(c.statements_per, Some(2.0));
        assert_eq!((b.commits_per, c.commits_per, b.peak_connections), (13.0, 2.0, Some(2)));
        assert_eq!(d.n_plus_one.len(), 1, "{:?}", d.n_plus_one);
        let f = &d.n_plus_one[0];
        assert_eq!((f.variant, f.query.as_str(), f.parent.as_str()), (Role::Baseline, child, parent));
        assert_eq!((f.calls_per_request, f.parent_rows_per_request), (12.0, 12.0));
        // The child: most time first, only in the baseline.
        assert_eq!(d.statements[0].query, child);
        assert!(d.statements[0].candidate.is_none());
        assert_eq!(d.statements[0].baseline.as_ref().unwrap().rows_per_call, 20.0);
        assert_eq!(d.errors, vec!["candidate round 2: boom".to_string()]);
    }

    /// Repeated statements that match no parent's rows (a fixed retry loop,
    /// a cache miss per request) are not N+1; neither is anything below k.
    #[test]
    fn no_flag_without_a_parent_or_below_k() {
        let trials = vec![trial(
            Role::Baseline,
            1,
            10,
            vec![stmt("SELECT a", 70, 10, 1.0), stmt("SELECT b", 40, 40, 1.0), stmt("SELECT c", 10, 40, 1.0)],
            0,
        )];
        let d = &summarize(&trials, &BTreeMap::new())[0];
        // a: 7 calls/request, nobody returns ~7 rows/request; b: 4 < k.
        assert!(d.n_plus_one.is_empty(), "{:?}", d.n_plus_one);
        let idle = vec![trial(Role::Baseline, 1, 0, vec![stmt("INSERT", 400, 400, 1.0)], 400)];
        let d = &summarize(&idle, &BTreeMap::new())[0];
        assert_eq!(d.per, "second");
        assert_eq!(d.baseline.as_ref().unwrap().commits_per, 200.0);
        assert!(d.n_plus_one.is_empty());
    }
}
