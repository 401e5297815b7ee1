//! PostgreSQL's own figures for a service scenario's window (issue 15,
//! item 2): the statistics read on the window's edges
//! ([`crate::target::pgstats`]) turned into metrics — totals per request
//! (per second when the window had no requests) and, per statement, its
//! calls, time, rows and blocks.

use super::TrialOutput;
use crate::model::Better;
use crate::target::pgstats::{self, ActivitySampler, DbWindow, Reader, Snapshot, StatsSource};

/// The benchmark name of a statement's metrics starts with this.
pub const STATEMENT_PREFIX: &str = "sql: ";

/// Statements given metrics of their own per window: the ones that took
/// the most time, and any run this many times per request or more.
const TOP_STATEMENTS: usize = 10;
const REPEATED_CALLS: f64 = 5.0;

/// The open edge of a window.
pub struct Edge {
    reader: Reader,
    before: Snapshot,
    sampler: Option<ActivitySampler>,
}

/// Reads the statistics at the window's start. An error is kept as the
/// window's outcome: the load is measured whether or not the database's
/// statistics can be read.
pub fn open(source: &StatsSource) -> Result<Edge, String> {
    let mut reader = Reader::connect(source)?;
    let before = reader.snapshot()?;
    let sampler = ActivitySampler::start(reader.source()).ok();
    Ok(Edge { reader, before, sampler })
}

/// Reads them again at the window's end: what ran in between.
pub fn close(edge: Edge) -> Result<DbWindow, String> {
    let Edge { mut reader, before, sampler } = edge;
    let peak = sampler.and_then(ActivitySampler::stop);
    let after = reader.snapshot()?;
    let xacts = reader.xacts(before.next_xid, after.next_xid)?;
    Ok(pgstats::window(&before, &after, xacts, peak))
}

/// `sql: <text>`: a statement's text, cut at 72 characters (with a short
/// hash of the whole text when cut, so that two long statements with one
/// beginning stay apart).
pub fn statement_label(query: &str) -> String {
    const MAX: usize = 72;
    if query.chars().count() <= MAX {
        return format!("{STATEMENT_PREFIX}{query}");
    }
    let cut: String = query.chars().take(MAX).collect();
    // FNV-1a: stable across runs and machines.
    let hash = query.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("{STATEMENT_PREFIX}{}… #{:04x}", cut.trim_end(), hash & 0xffff)
}

/// The window's database metrics, per request when `requests` > 0, else
/// per second (counts as `/s`, times as `s/s`).
pub fn push_metrics(out: &mut TrialOutput, scenario: &str, w: &DbWindow, requests: u64, seconds: f64) {
    let per_request = requests > 0;
    let (per, n, count, time) =
        if per_request { ("request", requests as f64, "", "s") } else { ("second", seconds.max(1e-9), "/s", "s/s") };
    let mut push =
        |bench: &str, metric: &str, unit: &str, value: f64| out.push(bench, metric, unit, Better::Lower, value);
    if let Some(statements) = &w.statements {
        let calls: i64 = statements.iter().map(|s| s.calls).sum();
        let ms: f64 = statements.iter().map(|s| s.total_ms).sum();
        push(scenario, &format!("db_statements_per_{per}"), count, calls as f64 / n);
        push(scenario, &format!("db_time_per_{per}"), time, ms / 1000.0 / n);
    }
    push(scenario, &format!("db_commits_per_{per}"), count, w.commits as f64 / n);
    if per_request {
        push(scenario, "db_commits_per_second", "/s", w.commits as f64 / seconds.max(1e-9));
    }
    if let Some(peak) = w.peak_connections {
        push(scenario, "db_connections_peak", "", peak as f64);
    }
    let shown =
        w.statements.iter().flatten().enumerate().filter(|(i, s)| {
            *i < TOP_STATEMENTS || (per_request && s.calls as f64 / requests as f64 >= REPEATED_CALLS)
        });
    for (_, s) in shown {
        let bench = statement_label(&s.query);
        let calls = s.calls.max(1) as f64;
        push(&bench, &format!("calls_per_{per}"), count, s.calls as f64 / n);
        push(&bench, &format!("time_per_{per}"), time, s.total_ms / 1000.0 / n);
        push(&bench, "mean_time", "s", s.total_ms / 1000.0 / calls);
        push(&bench, "rows_per_call", "", s.rows as f64 / calls);
        push(&bench, &format!("blocks_hit_per_{per}"), count, s.blocks_hit as f64 / n);
        push(&bench, &format!("blocks_read_per_{per}"), count, s.blocks_read as f64 / n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::pgstats::StatementCounts;

    #[test]
    fn labels_are_cut_with_a_hash() {
        assert_eq!(statement_label("SELECT 1"), "sql: SELECT 1");
        let long = format!("SELECT {} FROM t", "a, ".repeat(40));
        let other = format!("SELECT {} FROM u", "a, ".repeat(40));
        let (a, b) = (statement_label(&long), statement_label(&other));
        assert!(a.contains("… #") && a != b, "{a} / {b}");
        assert_eq!(a, statement_label(&long));
    }

    #[test]
    fn metrics_per_request_and_per_second() {
        let w = DbWindow {
            statements: Some(vec![
                StatementCounts {
                    query: "SELECT p".into(),
                    calls: 120,
                    total_ms: 60.0,
                    rows: 2400,
                    blocks_hit: 360,
                    blocks_read: 0,
                },
                StatementCounts { query: "SELECT s".into(), calls: 10, total_ms: 5.0, rows: 120, ..Default::default() },
            ]),
            commits: 130,
            rollbacks: 0,
            peak_connections: Some(3),
            ..Default::default()
        };
        let mut out = TrialOutput::default();
        push_metrics(&mut out, "x", &w, 10, 2.0);
        let get = |b: &str, m: &str| {
            out.measurements.iter().find(|x| x.benchmark == b && x.metric == m).map(|x| x.value).unwrap()
        };
        assert_eq!(get("x", "db_statements_per_request"), 13.0);
        assert!((get("x", "db_time_per_request") - 0.0065).abs() < 1e-12);
        assert_eq!(get("x", "db_commits_per_request"), 13.0);
        assert_eq!(get("x", "db_commits_per_second"), 65.0);
        assert_eq!(get("x", "db_connections_peak"), 3.0);
        assert_eq!(get("sql: SELECT p", "calls_per_request"), 12.0);
        assert_eq!(get("sql: SELECT p", "rows_per_call"), 20.0);
        assert!((get("sql: SELECT p", "mean_time") - 0.0005).abs() < 1e-12);
        let mut idle = TrialOutput::default();
        push_metrics(&mut idle, "x", &w, 0, 2.0);
        assert!(idle.measurements.iter().any(|m| m.metric == "db_commits_per_second" && m.value == 65.0));
        assert!(idle.measurements.iter().any(|m| m.metric == "calls_per_second" && m.value == 60.0));
        assert!(!idle.measurements.iter().any(|m| m.metric.ends_with("_per_request")));
    }
}
