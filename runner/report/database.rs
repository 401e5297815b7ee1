//! The database section of the terminal report and of brief.md
//! (`[target.postgres]`): per scenario, the totals per request of both
//! variants, the N+1 flags, the statements that took the most time, and
//! the plan diffs of the profiling pass. Formats `Results` only.

use super::brief::{Align, code, code_cell, escape_text, table};
use super::format::format_value;
use crate::results::{DatabaseScenario, DatabaseTotals, PlanDiff, Results, StatementFigures};

/// Statements listed per scenario.
const STATEMENTS: usize = 6;
/// Plan diffs listed per scenario, and changes per diff.
const PLAN_DIFFS: usize = 3;
const CHANGES: usize = 6;

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

fn pair(b: Option<String>, c: Option<String>) -> String {
    format!("{} → {}", b.unwrap_or_else(|| "–".into()), c.unwrap_or_else(|| "–".into()))
}

/// `(label, baseline → candidate)` of the totals.
fn totals(d: &DatabaseScenario) -> Vec<(String, String)> {
    let (b, c) = (d.baseline.as_ref(), d.candidate.as_ref());
    let per = &d.per;
    let count = |v: f64| format_value(v, "");
    let ms = |v: f64| format_value(v / 1000.0, "s");
    let f = |get: &dyn Fn(&DatabaseTotals) -> Option<String>| pair(b.and_then(get), c.and_then(get));
    let mut rows = vec![
        (format!("statements/{per}"), f(&|t| t.statements_per.map(count))),
        (format!("db time/{per}"), f(&|t| t.time_per_ms.map(ms))),
        (format!("commits/{per}"), f(&|t| Some(count(t.commits_per)))),
    ];
    if per != "second" {
        rows.push(("commits/s".into(), f(&|t| Some(format_value(t.commits_per_second, "/s")))));
    }
    rows.push(("peak connections".into(), f(&|t| t.peak_connections.map(|p| p.to_string()))));
    rows
}

fn statement_cells(s: &crate::results::DatabaseStatement) -> [String; 3] {
    let (b, c) = (s.baseline.as_ref(), s.candidate.as_ref());
    let f = |get: &dyn Fn(&StatementFigures) -> String| pair(b.map(get), c.map(get));
    [
        f(&|x| format_value(x.calls_per, "")),
        f(&|x| format_value(x.time_per_ms / 1000.0, "s")),
        f(&|x| format_value(x.rows_per_call, "")),
    ]
}

fn plan_diffs<'a>(r: &'a Results, scenario: &str) -> Vec<&'a PlanDiff> {
    r.plan_diffs.iter().filter(|p| p.scenario == scenario && p.changes.len() > 1).take(PLAN_DIFFS).collect()
}

fn plan_files(p: &PlanDiff) -> Vec<&str> {
    [p.baseline.as_ref(), p.candidate.as_ref()].into_iter().flatten().map(|s| s.text.as_str()).collect()
}

/// The terminal's block for `scenario` (empty when it has no database).
pub fn terminal(r: &Results, scenario: &str) -> String {
    let Some(d) = r.database.iter().find(|d| d.scenario == scenario) else { return String::new() };
    let mut out = format!("  database ({}), baseline → candidate:\n   ", d.server);
    for (label, v) in totals(d) {
        out.push_str(&format!("  {label} {v}"));
    }
    out.push('\n');
    for n in &d.n_plus_one {
        out.push_str(&format!(
            "    N+1 in the {}: {} ran {}×/request, once per row of {} ({} rows/request)\n",
            n.variant,
            cut(&n.query, 70),
            format_value(n.calls_per_request, ""),
            cut(&n.parent, 50),
            format_value(n.parent_rows_per_request, "")
        ));
    }
    let per = &d.per;
    out.push_str(&format!(
        "    {:<62} {:>16} {:>20} {:>16}\n",
        "statement",
        format!("calls/{per}"),
        format!("time/{per}"),
        "rows/call"
    ));
    for s in d.statements.iter().take(STATEMENTS) {
        let [calls, time, rows] = statement_cells(s);
        out.push_str(&format!("    {:<62} {calls:>16} {time:>20} {rows:>16}\n", cut(&s.query, 60)));
    }
    if d.statements.len() > STATEMENTS {
        out.push_str(&format!("    … {} more in results.json\n", d.statements.len() - STATEMENTS));
    }
    for e in &d.errors {
        out.push_str(&format!("    note: {e}\n"));
    }
    for p in plan_diffs(r, scenario) {
        let to = p.candidate_query.as_deref().map(|q| format!(" → {}", cut(q, 50))).unwrap_or_default();
        out.push_str(&format!("  plan: {}{to}\n", cut(&p.query, 60)));
        for c in p.changes.iter().take(CHANGES) {
            out.push_str(&format!("    {c}\n"));
        }
        out.push_str(&format!("    {}\n", plan_files(p).join(", ")));
    }
    out.push('\n');
    out
}

/// A scenario's database section in report.html.
#[derive(serde::Serialize)]
pub struct HtmlDatabase {
    server: String,
    per: String,
    totals: Vec<HtmlTotal>,
    flags: Vec<String>,
    errors: Vec<String>,
    statements: Vec<HtmlStatement>,
    plans: Vec<HtmlPlan>,
}

#[derive(serde::Serialize)]
struct HtmlTotal {
    label: String,
    baseline: String,
    candidate: String,
}

#[derive(serde::Serialize)]
struct HtmlStatement {
    query: String,
    /// calls, time, mean time, rows/call, blocks hit, blocks read: baseline → candidate.
    cells: Vec<String>,
}

#[derive(serde::Serialize)]
struct HtmlPlan {
    query: String,
    candidate_query: Option<String>,
    changes: Vec<String>,
    files: Vec<String>,
}

/// `scenario`'s database section for report.html, if it has one.
pub fn html(r: &Results, scenario: &str) -> Option<HtmlDatabase> {
    let d = r.database.iter().find(|d| d.scenario == scenario)?;
    let totals = totals(d)
        .into_iter()
        .map(|(label, v)| {
            let (b, c) = v.split_once(" → ").unwrap_or((&v, ""));
            HtmlTotal { label, baseline: b.to_string(), candidate: c.to_string() }
        })
        .collect();
    let flags = d
        .n_plus_one
        .iter()
        .map(|n| {
            format!(
                "in the {}: {} ran {}×/request, once per row of {} ({} rows/request)",
                n.variant,
                n.query,
                format_value(n.calls_per_request, ""),
                n.parent,
                format_value(n.parent_rows_per_request, "")
            )
        })
        .collect();
    let statements = d
        .statements
        .iter()
        .map(|s| {
            let (b, c) = (s.baseline.as_ref(), s.candidate.as_ref());
            let f = |get: &dyn Fn(&StatementFigures) -> String| pair(b.map(get), c.map(get));
            HtmlStatement {
                query: s.query.clone(),
                cells: vec![
                    f(&|x| format_value(x.calls_per, "")),
                    f(&|x| format_value(x.time_per_ms / 1000.0, "s")),
                    f(&|x| format_value(x.mean_time_ms / 1000.0, "s")),
                    f(&|x| format_value(x.rows_per_call, "")),
                    f(&|x| format_value(x.blocks_hit_per, "")),
                    f(&|x| format_value(x.blocks_read_per, "")),
                ],
            }
        })
        .collect();
    let plans = r
        .plan_diffs
        .iter()
        .filter(|p| p.scenario == scenario)
        .map(|p| HtmlPlan {
            query: p.query.clone(),
            candidate_query: p.candidate_query.clone(),
            changes: p.changes.clone(),
            files: plan_files(p).into_iter().map(str::to_string).collect(),
        })
        .collect();
    Some(HtmlDatabase {
        server: d.server.clone(),
        per: d.per.clone(),
        totals,
        flags,
        errors: d.errors.clone(),
        statements,
        plans,
    })
}

/// brief.md's `## Database` section (nothing when no scenario has one).
pub fn markdown(out: &mut String, r: &Results) {
    if r.database.is_empty() {
        return;
    }
    out.push_str("## Database\n\n");
    for d in &r.database {
        out.push_str(&format!("{} on {}, baseline → candidate:\n\n", code(&d.scenario), escape_text(&d.server)));
        let body: Vec<Vec<String>> =
            totals(d).into_iter().map(|(l, v)| vec![escape_text(&l), escape_text(&v)]).collect();
        out.push_str(&table(&[("per window", Align::Left), ("baseline → candidate", Align::Right)], &body));
        out.push('\n');
        for n in &d.n_plus_one {
            out.push_str(&format!(
                "- **N+1** in the {}: {} ran {}×/request, once per row of {} ({} rows/request).\n",
                n.variant,
                code(&n.query),
                format_value(n.calls_per_request, ""),
                code(&n.parent),
                format_value(n.parent_rows_per_request, "")
            ));
        }
        for e in &d.errors {
            out.push_str(&format!("- {}\n", escape_text(e)));
        }
        if !d.n_plus_one.is_empty() || !d.errors.is_empty() {
            out.push('\n');
        }
        let per = &d.per;
        let rows: Vec<Vec<String>> = d
            .statements
            .iter()
            .take(STATEMENTS)
            .map(|s| {
                let [calls, time, rows] = statement_cells(s);
                vec![code_cell(&cut(&s.query, 100)), escape_text(&calls), escape_text(&time), escape_text(&rows)]
            })
            .collect();
        let (calls, time) = (format!("calls/{per}"), format!("time/{per}"));
        out.push_str(&table(
            &[("statement", Align::Left), (&calls, Align::Right), (&time, Align::Right), ("rows/call", Align::Right)],
            &rows,
        ));
        out.push('\n');
        for p in plan_diffs(r, &d.scenario) {
            let to = p.candidate_query.as_deref().map(|q| format!(" → {}", code(&cut(q, 80)))).unwrap_or_default();
            out.push_str(&format!("Plan of {}{to}:\n\n", code(&cut(&p.query, 80))));
            for c in p.changes.iter().take(CHANGES) {
                out.push_str(&format!("- {}\n", escape_text(c)));
            }
            let files: Vec<String> = plan_files(p).into_iter().map(code).collect();
            out.push_str(&format!("- plans: {}\n\n", files.join(", ")));
        }
    }
}

/// A run with a database section, for the renderers' tests.
#[cfg(test)]
pub(crate) fn fixture() -> Results {
    use crate::model::Role;
    use crate::results::{DatabaseStatement, Environment, NPlusOne, PlanSummary, Run, VariantInfo};
    let totals = |statements: f64, commits: f64| DatabaseTotals {
        windows: 8,
        requests: 400,
        seconds: 8.0,
        statements_per: Some(statements),
        time_per_ms: Some(statements * 3.0),
        commits_per: commits,
        commits_per_second: commits * 50.0,
        peak_connections: Some(8),
    };
    let fig = |calls: f64| StatementFigures {
        calls_per: calls,
        time_per_ms: calls * 3.0,
        mean_time_ms: 3.0,
        rows_per_call: 504.0,
        ..Default::default()
    };
    let child = "SELECT ts FROM points WHERE series_id = $1";
    let parent = "SELECT id FROM series WHERE metric = $1\u{1b}]52;c;evil\u{7}";
    let plan = |text: &str| PlanSummary { plans: 12, same_shape: 12, text: text.into(), ..Default::default() };
    let run = Run::example();
    let variant = |role| VariantInfo { role, rev: "HEAD".into(), commit: "abc".into(), tree: "t".into(), patch: None };
    let mut r = Results::new(run, Environment::default(), vec![variant(Role::Baseline), variant(Role::Candidate)]);
    for round in 1..=8 {
        for (variant, value) in [(Role::Baseline, 13.0), (Role::Candidate, 2.0)] {
            r.samples.push(crate::results::Sample {
                scenario: "web".into(),
                benchmark: "web".into(),
                metric: "db_statements_per_request".into(),
                unit: String::new(),
                better: crate::model::Better::Lower,
                variant,
                round,
                value,
            });
        }
    }
    r.comparisons = crate::analyze::analyze(&r.samples, &crate::stats::CompareConfig::default()).comparisons;
    r.database = vec![DatabaseScenario {
        scenario: "web".into(),
        per: "request".into(),
        server: "managed PostgreSQL 15.18".into(),
        baseline: Some(totals(13.0, 0.0)),
        candidate: Some(totals(2.0, 0.0)),
        statements: vec![
            DatabaseStatement {
                query: child.into(),
                label: "sql: c".into(),
                baseline: Some(fig(12.0)),
                candidate: None,
            },
            DatabaseStatement {
                query: parent.into(),
                label: "sql: p".into(),
                baseline: Some(fig(1.0)),
                candidate: Some(fig(1.0)),
            },
        ],
        n_plus_one: vec![NPlusOne {
            variant: Role::Baseline,
            query: child.into(),
            calls_per_request: 12.0,
            parent: parent.into(),
            parent_rows_per_request: 12.0,
        }],
        errors: Vec::new(),
    }];
    r.plan_diffs = vec![PlanDiff {
        scenario: "web".into(),
        query: child.into(),
        candidate_query: Some("SELECT … IN (…)".into()),
        baseline: Some(plan("plans/web-baseline-1.txt")),
        candidate: Some(plan("plans/web-candidate-1.txt")),
        changes: vec![
            "4 ms → 20 ms per execution".into(),
            "points: Seq Scan on points → Index Scan using i on points".into(),
        ],
    }];
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_renderer_shows_the_database_section() {
        let r = fixture();
        let t = terminal(&r, "web");
        assert!(t.contains("statements/request 13 → 2"), "{t}");
        assert!(t.contains("N+1 in the baseline: SELECT ts FROM points WHERE series_id = $1 ran 12×/request"), "{t}");
        assert!(t.contains("12 → –") && t.contains("points: Seq Scan on points → Index Scan using i"), "{t}");
        assert!(t.contains("plans/web-baseline-1.txt, plans/web-candidate-1.txt"), "{t}");
        assert_eq!(terminal(&r, "other"), "");
        // The whole terminal report strips the escape sequence a statement carried.
        let all = crate::report::terminal::render(&r, false);
        assert!(all.contains("N+1 in the baseline") && !all.contains('\u{1b}'), "{all}");

        let mut md = String::new();
        markdown(&mut md, &r);
        assert!(md.starts_with("## Database\n\n`web` on managed PostgreSQL 15.18"), "{md}");
        assert!(md.contains("| statements/request | 13 → 2 |") && md.contains("- **N+1** in the baseline"), "{md}");
        assert!(md.contains("- points: Seq Scan on points → Index Scan using i on points"), "{md}");

        let h = html(&r, "web").unwrap();
        assert_eq!((h.totals[0].baseline.as_str(), h.totals[0].candidate.as_str()), ("13", "2"));
        assert_eq!(h.statements[0].cells[0], "12 → –");
        let page = crate::report::html::render(&r, None);
        assert!(page.contains("Database: managed PostgreSQL 15.18") && page.contains("Index Scan using i"));
    }

    #[test]
    fn the_mcp_answer_carries_the_database_section() {
        let r = fixture();
        let (text, v) = crate::mcp::answers::results(&r, "here", &Default::default()).unwrap();
        assert!(text.contains("web: N+1 in the baseline"), "{text}");
        assert_eq!(v["database"][0]["n_plus_one"][0]["calls_per_request"], 12.0);
        assert_eq!(v["database"][0]["baseline"]["statements_per"], 13.0);
        assert_eq!(v["plan_diffs"][0]["changes"][1], "points: Seq Scan on points → Index Scan using i on points");
    }
}
