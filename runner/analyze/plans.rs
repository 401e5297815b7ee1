//! Plan diffs (issue 15, item 4): the profiling pass's auto_explain plans
//! grouped by statement per variant, the statements that took the most
//! time kept, and each baseline statement set against the candidate's —
//! the same text, or else (a rewritten query) the candidate statement
//! reading the same tables. What changed is said in words: node types per
//! table, flags that appeared or went away, the time per execution.
//!
//! A statement can run under several plans (PostgreSQL plans a prepared
//! statement's first executions for their parameters, then may switch to
//! a generic plan): the plan shown is the most common shape's median
//! execution, and the other shapes are counted.

use crate::formats::pgplan::{self, LoggedPlan};
use crate::model::Role;
use crate::results::{PlanDiff, PlanSummary};
use std::collections::BTreeSet;

/// Statements kept per variant: the ones with the most time in all.
pub const TOP_STATEMENTS: usize = 5;

/// One statement's plans in one variant.
struct Group<'a> {
    query: &'a str,
    plans: Vec<&'a LoggedPlan>,
    total_ms: f64,
}

/// A plan's shape: its nodes, depth first.
fn shape(p: &LoggedPlan) -> String {
    pgplan::nodes(&p.plan).iter().map(|n| format!("{}{}", n.depth, pgplan::describe(n))).collect::<Vec<_>>().join(">")
}

impl Group<'_> {
    /// Shapes with their plans, the most common first (ties: first seen).
    fn shapes(&self) -> Vec<(String, Vec<&LoggedPlan>)> {
        let mut out: Vec<(String, Vec<&LoggedPlan>)> = Vec::new();
        for p in &self.plans {
            let s = shape(p);
            match out.iter_mut().find(|(x, _)| *x == s) {
                Some((_, v)) => v.push(p),
                None => out.push((s, vec![p])),
            }
        }
        out.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
        out
    }

    /// The plan shown: the median execution of the most common shape.
    fn shown(&self) -> (&LoggedPlan, usize) {
        let shapes = self.shapes();
        let mut common = shapes.into_iter().next().map(|(_, v)| v).unwrap_or_default();
        common.sort_by(|a, b| a.duration_ms.total_cmp(&b.duration_ms));
        let n = common.len();
        (common[n / 2], n)
    }

    fn relations(&self) -> BTreeSet<String> {
        pgplan::nodes(&self.shown().0.plan).into_iter().filter_map(|n| n.relation).collect()
    }
}

fn groups(plans: &[LoggedPlan]) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    for p in plans {
        match out.iter_mut().find(|g| g.query == p.query) {
            Some(g) => {
                g.plans.push(p);
                g.total_ms += p.duration_ms;
            }
            None => out.push(Group { query: &p.query, plans: vec![p], total_ms: p.duration_ms }),
        }
    }
    out.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then_with(|| a.query.cmp(b.query)));
    out.truncate(TOP_STATEMENTS);
    out
}

/// A file to write under the run's directory: its relative path and text.
pub type PlanFile = (String, String);

/// The diffs of one scenario's plans, and the files they name.
pub fn diff(scenario: &str, base: &[LoggedPlan], cand: &[LoggedPlan], seq_rows: u64) -> (Vec<PlanDiff>, Vec<PlanFile>) {
    let (gb, gc) = (groups(base), groups(cand));
    let mut used_c = vec![false; gc.len()];
    let mut pairs: Vec<(Option<&Group<'_>>, Option<&Group<'_>>)> = Vec::new();
    // The same statement first, then rewritten ones by the tables they read.
    for b in &gb {
        let same = gc.iter().position(|c| c.query == b.query);
        if let Some(j) = same {
            used_c[j] = true;
        }
        pairs.push((Some(b), same.map(|j| &gc[j])));
    }
    for pair in pairs.iter_mut().filter(|p| p.1.is_none()) {
        let rel = pair.0.map(Group::relations).unwrap_or_default();
        let best = (0..gc.len())
            .filter(|&j| !used_c[j] && !gb.iter().any(|b| b.query == gc[j].query))
            .map(|j| (j, gc[j].relations().intersection(&rel).count()))
            .filter(|(_, shared)| *shared > 0)
            .max_by_key(|(j, shared)| (*shared, std::cmp::Reverse(*j)));
        if let Some((j, _)) = best {
            used_c[j] = true;
            pair.1 = Some(&gc[j]);
        }
    }
    for (j, c) in gc.iter().enumerate() {
        if !used_c[j] {
            pairs.push((None, Some(c)));
        }
    }
    let mut files = Vec::new();
    let mut diffs = Vec::new();
    for (k, (b, c)) in pairs.into_iter().enumerate() {
        let mut side =
            |g: Option<&Group<'_>>, role: Role| g.map(|g| summary(g, scenario, role, k + 1, seq_rows, &mut files));
        let (bs, cs) = (side(b, Role::Baseline), side(c, Role::Candidate));
        let changes = changes(bs.as_ref(), cs.as_ref(), seq_rows);
        let query = b.or(c).map(|g| g.query.to_string()).unwrap_or_default();
        let candidate_query = c.map(|g| g.query.to_string()).filter(|q| *q != query);
        diffs.push(PlanDiff {
            scenario: scenario.into(),
            query,
            candidate_query,
            baseline: bs,
            candidate: cs,
            changes,
        });
    }
    (diffs, files)
}

fn summary(
    g: &Group<'_>,
    scenario: &str,
    role: Role,
    k: usize,
    seq_rows: u64,
    files: &mut Vec<PlanFile>,
) -> PlanSummary {
    let (shown, same_shape) = g.shown();
    let nodes = pgplan::nodes(&shown.plan);
    let stem = format!("plans/{}-{role}-{k}", crate::paths::file_component(scenario));
    let json = serde_json::json!({ "Query Text": g.query, "Duration": shown.duration_ms, "Plan": shown.plan });
    files.push((format!("{stem}.json"), serde_json::to_string_pretty(&json).unwrap_or_default()));
    files.push((format!("{stem}.txt"), pgplan::text(g.query, shown.duration_ms, &nodes)));
    let other_shapes = g
        .shapes()
        .into_iter()
        .skip(1)
        .map(|(_, v)| {
            let scans: Vec<String> =
                pgplan::nodes(&v[0].plan).iter().filter(|n| n.relation.is_some()).map(pgplan::describe).collect();
            format!("{}× {}", v.len(), scans.join(", "))
        })
        .collect();
    PlanSummary {
        plans: g.plans.len() as u32,
        same_shape: same_shape as u32,
        other_shapes,
        mean_time_ms: g.total_ms / g.plans.len() as f64,
        shown_ms: shown.duration_ms,
        flags: pgplan::flags(&nodes, seq_rows),
        nodes,
        json: format!("{stem}.json"),
        text: format!("{stem}.txt"),
    }
}

/// What changed from `b` to `c`, in words.
fn changes(b: Option<&PlanSummary>, c: Option<&PlanSummary>, seq_rows: u64) -> Vec<String> {
    let (b, c) = match (b, c) {
        (Some(b), Some(c)) => (b, c),
        (Some(_), None) => return vec!["not among the candidate's slowest statements (or no longer run)".into()],
        (None, Some(_)) => return vec!["new among the slowest statements".into()],
        (None, None) => return Vec::new(),
    };
    let mut out = vec![format!(
        "{:.3} ms → {:.3} ms per execution (mean of {} and {} plans)",
        b.mean_time_ms, c.mean_time_ms, b.plans, c.plans
    )];
    let scans = |s: &PlanSummary, rel: &str| -> Vec<String> {
        s.nodes.iter().filter(|n| n.relation.as_deref() == Some(rel)).map(pgplan::describe).collect()
    };
    let relations: BTreeSet<&str> = b.nodes.iter().chain(&c.nodes).filter_map(|n| n.relation.as_deref()).collect();
    for rel in relations {
        let (before, after) = (scans(b, rel), scans(c, rel));
        if before != after {
            let show = |v: &[String]| if v.is_empty() { "(not read)".to_string() } else { v.join(", ") };
            out.push(format!("{rel}: {} → {}", show(&before), show(&after)));
        }
    }
    let (fb, fc) = (pgplan::keyed_flags(&b.nodes, seq_rows), pgplan::keyed_flags(&c.nodes, seq_rows));
    for (_, f) in fb.iter().filter(|(k, _)| !fc.iter().any(|(x, _)| x == k)) {
        out.push(format!("gone: {f}"));
    }
    for (_, f) in fc.iter().filter(|(k, _)| !fb.iter().any(|(x, _)| x == k)) {
        out.push(format!("new: {f}"));
    }
    for (role, s) in [(Role::Baseline, b), (Role::Candidate, c)] {
        if !s.other_shapes.is_empty() {
            out.push(format!(
                "{role}: {} of {} plans have the shape shown; others: {}",
                s.same_shape,
                s.plans,
                s.other_shapes.join("; ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(query: &str, ms: f64, plan: serde_json::Value) -> LoggedPlan {
        LoggedPlan { query: query.into(), duration_ms: ms, plan }
    }

    /// The demo's fix: twelve per-series queries scanning `points` become
    /// one query reading it through an index.
    #[test]
    fn pairs_a_rewritten_query_by_its_tables() {
        let seq = json!({"Node Type": "Sort", "Plans": [{"Node Type": "Seq Scan", "Relation Name": "points",
            "Plan Rows": 2000, "Actual Rows": 2160, "Actual Loops": 1, "Rows Removed by Filter": 23760}]});
        let idx = json!({"Node Type": "Nested Loop", "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "series", "Plan Rows": 12, "Actual Rows": 12, "Actual Loops": 1},
            {"Node Type": "Index Scan", "Relation Name": "points", "Index Name": "points_series_ts",
             "Plan Rows": 500, "Actual Rows": 505, "Actual Loops": 12}]});
        let series = json!({"Node Type": "Seq Scan", "Relation Name": "series", "Plan Rows": 12, "Actual Rows": 12});
        let base: Vec<LoggedPlan> = (0..12)
            .map(|i| plan("SELECT ts FROM points WHERE series_id = $1", 7.0 + i as f64, seq.clone()))
            .chain([plan("SELECT id FROM series", 0.1, series.clone())])
            .collect();
        // A custom plan's sequential scan, slower but rarer: not the plan shown.
        let joined = "SELECT series_id, ts FROM points WHERE series_id IN (…)";
        let cand = vec![
            plan(joined, 3.0, idx.clone()),
            plan(joined, 30.0, seq.clone()),
            plan(joined, 2.0, idx),
            plan("SELECT id FROM series", 0.1, series),
        ];
        let (diffs, files) = diff("web", &base, &cand, 1000);
        assert_eq!(diffs.len(), 2, "{diffs:?}");
        let d = &diffs[0];
        assert_eq!(d.query, "SELECT ts FROM points WHERE series_id = $1");
        assert_eq!(d.candidate_query.as_deref(), Some("SELECT series_id, ts FROM points WHERE series_id IN (…)"));
        assert_eq!(d.baseline.as_ref().unwrap().plans, 12);
        assert!(
            d.changes.contains(&"points: Seq Scan on points → Index Scan using points_series_ts on points".into()),
            "{:?}",
            d.changes
        );
        assert!(
            d.changes.iter().any(|c| c.starts_with("gone: Seq Scan on points reads 25920 rows")),
            "{:?}",
            d.changes
        );
        assert!(d.changes.iter().any(|c| c.starts_with("series: (not read) → Seq Scan on series")), "{:?}", d.changes);
        let shown = d.candidate.as_ref().unwrap();
        assert_eq!((shown.plans, shown.same_shape, shown.shown_ms), (3, 2, 3.0));
        assert_eq!(shown.other_shapes, vec!["1× Seq Scan on points".to_string()]);
        assert!(
            d.changes
                .iter()
                .any(|c| c == "candidate: 2 of 3 plans have the shape shown; others: 1× Seq Scan on points")
        );
        // The same statement in both: paired by its text, nothing moved but time.
        assert_eq!(diffs[1].candidate_query, None);
        assert_eq!(diffs[1].changes.len(), 1, "{:?}", diffs[1].changes);
        assert_eq!(files.len(), 8);
        assert!(files.iter().any(|(p, t)| p == "plans/web-baseline-1.txt" && t.contains("Seq Scan on points")));
    }
}
