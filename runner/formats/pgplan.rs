//! PostgreSQL plans as `auto_explain` logs them (`log_format = json`,
//! `log_analyze`, `log_buffers`): pulled out of the server's log, flattened
//! into nodes, flagged, and written back as text. The log is the code
//! under test's output: bounded (at most [`MAX_PLANS`] plans, each at most
//! [`MAX_PLAN_BYTES`], nesting at most [`MAX_DEPTH`]), never a panic.

use crate::results::PlanNode;
use serde_json::Value;

pub const MAX_PLANS: usize = 20_000;
pub const MAX_PLAN_BYTES: usize = 1 << 20;
pub const MAX_DEPTH: u32 = 64;

/// One plan from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedPlan {
    /// The statement's text, whitespace collapsed.
    pub query: String,
    /// `duration:` of the log line (the statement's execution).
    pub duration_ms: f64,
    /// `Plan` of auto_explain's JSON.
    pub plan: Value,
}

/// Every auto_explain plan in `log` (the server's stderr): a line with
/// `duration: D ms  plan:`, then the JSON on the lines after it (each
/// starting with a tab in the stderr format), up to the next line without
/// one. Lines that do not parse are skipped.
pub fn extract(log: &str) -> Vec<LoggedPlan> {
    let mut out = Vec::new();
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if out.len() >= MAX_PLANS {
            break;
        }
        let Some(duration_ms) = plan_header(line) else { continue };
        let mut json = String::new();
        let mut too_big = false;
        while let Some(next) = lines.peek() {
            let Some(body) = next.strip_prefix('\t') else { break };
            if json.len() + body.len() > MAX_PLAN_BYTES {
                too_big = true;
            } else {
                json.push_str(body);
                json.push('\n');
            }
            lines.next();
        }
        if too_big {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(&json) else { continue };
        let (Some(query), Some(plan)) = (v.get("Query Text").and_then(Value::as_str), v.get("Plan")) else {
            continue;
        };
        out.push(LoggedPlan { query: crate::target::pgstats::normalize(query), duration_ms, plan: plan.clone() });
    }
    out
}

/// `… LOG:  duration: 0.512 ms  plan:` → 0.512.
fn plan_header(line: &str) -> Option<f64> {
    let rest = &line[line.find("duration: ")? + "duration: ".len()..];
    let (number, tail) = rest.split_once(" ms")?;
    if !tail.trim_start().starts_with("plan:") {
        return None;
    }
    number.trim().parse().ok().filter(|d: &f64| d.is_finite())
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite()).unwrap_or(0.0)
}

/// The plan's nodes, depth first (children of `Plans`), at most
/// [`MAX_DEPTH`] deep.
pub fn nodes(plan: &Value) -> Vec<PlanNode> {
    let mut out = Vec::new();
    walk(plan, 0, &mut out);
    out
}

fn walk(v: &Value, depth: u32, out: &mut Vec<PlanNode>) {
    if depth > MAX_DEPTH || out.len() >= 10_000 {
        return;
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    out.push(PlanNode {
        depth,
        node_type: s("Node Type").unwrap_or_else(|| "?".into()),
        relation: s("Relation Name"),
        index: s("Index Name"),
        plan_rows: num(v, "Plan Rows"),
        actual_rows: num(v, "Actual Rows"),
        loops: num(v, "Actual Loops"),
        rows_removed: num(v, "Rows Removed by Filter") + num(v, "Rows Removed by Index Recheck"),
        shared_hit: num(v, "Shared Hit Blocks") as i64,
        shared_read: num(v, "Shared Read Blocks") as i64,
        total_time_ms: num(v, "Actual Total Time"),
    });
    if let Some(children) = v.get("Plans").and_then(Value::as_array) {
        for c in children {
            walk(c, depth + 1, out);
        }
    }
}

/// "Seq Scan on points", "Index Scan using points_series_ts on points".
pub fn describe(n: &PlanNode) -> String {
    let mut s = n.node_type.clone();
    if let Some(i) = &n.index {
        s.push_str(&format!(" using {i}"));
    }
    if let Some(r) = &n.relation {
        s.push_str(&format!(" on {r}"));
    }
    s
}

/// Sequential scans reading more than `seq_rows` rows in all (kept plus
/// filtered out, over every loop), and scans whose row estimate is off by
/// 10× or more (at least 10 rows either way).
pub fn flags(nodes: &[PlanNode], seq_rows: u64) -> Vec<String> {
    keyed_flags(nodes, seq_rows).into_iter().map(|(_, text)| text).collect()
}

/// [`flags`] with a key each (what is flagged, on which node), so that two
/// plans' flags compare by what they say, not by their figures.
pub fn keyed_flags(nodes: &[PlanNode], seq_rows: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for n in nodes {
        let loops = n.loops.max(1.0);
        if n.node_type == "Seq Scan" {
            let read = (n.actual_rows + n.rows_removed) * loops;
            if read > seq_rows as f64 {
                out.push((
                    format!("seq scan: {}", describe(n)),
                    format!(
                        "{} reads {} rows ({} removed by its filter) — over {seq_rows}",
                        describe(n),
                        read.round(),
                        (n.rows_removed * loops).round()
                    ),
                ));
            }
        }
        // On the scans, where a misestimate starts (the nodes above inherit it).
        let (est, act) = (n.plan_rows, n.actual_rows);
        let (lo, hi) = (est.min(act), est.max(act));
        if n.relation.is_some() && hi >= 10.0 && hi >= 10.0 * lo.max(1.0) {
            out.push((
                format!("estimate: {}", describe(n)),
                format!("{}: {est} rows estimated, {act} per loop actual ({:.0}× off)", describe(n), hi / lo.max(1.0)),
            ));
        }
    }
    out
}

/// The plan as indented text, EXPLAIN ANALYZE's way.
pub fn text(query: &str, duration_ms: f64, nodes: &[PlanNode]) -> String {
    let mut s = format!("-- {query}\n-- duration: {duration_ms:.3} ms\n");
    for n in nodes {
        let indent = "  ".repeat(n.depth as usize);
        let arrow = if n.depth > 0 { "->  " } else { "" };
        s.push_str(&format!(
            "{indent}{arrow}{}  (rows={} est) (actual time={:.3} rows={} loops={})",
            describe(n),
            n.plan_rows,
            n.total_time_ms,
            n.actual_rows,
            n.loops
        ));
        if n.rows_removed > 0.0 {
            s.push_str(&format!(" removed={}", n.rows_removed));
        }
        if n.shared_hit + n.shared_read > 0 {
            s.push_str(&format!(" buffers: hit={} read={}", n.shared_hit, n.shared_read));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What PostgreSQL 15 wrote to stderr for one statement (trimmed).
    const LOG: &str = "2026-12-06 15:50:00.123 UTC [99] LOG:  duration: 7.971 ms  plan:\n\
\t{\n\
\t  \"Query Text\": \"SELECT ts, value FROM points\\n WHERE series_id = $1 ORDER BY ts\",\n\
\t  \"Plan\": {\n\
\t    \"Node Type\": \"Sort\", \"Plan Rows\": 2160, \"Actual Rows\": 2160, \"Actual Loops\": 1,\n\
\t    \"Actual Total Time\": 7.8, \"Shared Hit Blocks\": 166, \"Shared Read Blocks\": 0,\n\
\t    \"Plans\": [{\"Node Type\": \"Seq Scan\", \"Relation Name\": \"points\", \"Plan Rows\": 10,\n\
\t      \"Actual Rows\": 2160, \"Actual Loops\": 1, \"Rows Removed by Filter\": 23760,\n\
\t      \"Actual Total Time\": 7.1, \"Shared Hit Blocks\": 166}]\n\
\t  }\n\
\t}\n\
2026-12-06 15:50:00.200 UTC [99] LOG:  checkpoint starting: time\n\
2026-12-06 15:50:00.300 UTC [98] LOG:  duration: 1.0 ms  plan:\n\
\t{ not json\n";

    #[test]
    fn extracts_flattens_flags_and_writes_plans() {
        let plans = extract(LOG);
        assert_eq!(plans.len(), 1, "the broken plan is skipped");
        let p = &plans[0];
        assert_eq!(p.query, "SELECT ts, value FROM points WHERE series_id = $1 ORDER BY ts");
        assert_eq!(p.duration_ms, 7.971);
        let n = nodes(&p.plan);
        assert_eq!(n.len(), 2);
        assert_eq!((n[1].depth, describe(&n[1]).as_str()), (1, "Seq Scan on points"));
        assert_eq!((n[1].rows_removed, n[0].shared_hit), (23760.0, 166));
        let f = flags(&n, 1000);
        assert_eq!(f.len(), 2, "the scan's misestimate, not the sort's above it: {f:?}");
        assert!(f[0].contains("Seq Scan on points reads 25920 rows"), "{f:?}");
        assert!(f[1].contains("216× off"), "{f:?}");
        assert!(flags(&n, 100_000).iter().all(|x| !x.contains("reads")));
        let t = text(&p.query, p.duration_ms, &n);
        assert!(t.contains("  ->  Seq Scan on points  (rows=10 est)"), "{t}");
    }

    #[test]
    fn hostile_logs_do_not_panic() {
        for log in
            ["duration: ", "duration: x ms  plan:", "duration: 1 ms  plan:\n\t[1,2", "\t{}\nduration: NaN ms plan:"]
        {
            assert!(extract(log).is_empty());
        }
        // Nesting deeper than MAX_DEPTH is cut, not followed.
        let mut v = serde_json::json!({"Node Type": "Result"});
        for _ in 0..200 {
            v = serde_json::json!({"Node Type": "Limit", "Plans": [v]});
        }
        assert_eq!(nodes(&v).len(), MAX_DEPTH as usize + 1);
    }
}
