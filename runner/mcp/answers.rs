//! What the MCP tools answer, built from `Results` (and the history store):
//! the changes that matter, capped with a note on how to ask for more, and
//! a one-paragraph text summary per answer. Nothing is measured or judged
//! here; every figure is one the run recorded.

use crate::model::Verdict;
use crate::results::{Comparison, Results};
use serde::Deserialize;
use serde_json::{Value, json};

/// Rows per answer unless the caller asks for more, and at most.
pub const DEFAULT_LIMIT: usize = 25;
pub const MAX_LIMIT: usize = 500;

/// Which comparisons `get_results` returns.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultsFilter {
    /// Only rows whose scenario contains this text.
    pub scenario: Option<String>,
    /// Only rows whose benchmark contains this text.
    pub benchmark: Option<String>,
    /// Only rows whose metric contains this text (e.g. `latency`, `per_request`, `ns/op`).
    pub metric: Option<String>,
    /// `changed` (improved or regressed), `improved`, `regressed`, `unchanged`,
    /// `inconclusive`, or `all`. Default: the changes that matter, i.e.
    /// improved, regressed, and judged rows still inconclusive.
    pub verdict: Option<String>,
    /// Rows to return (default 25, at most 500).
    pub limit: Option<usize>,
}

/// The exit code `perfgate compare` gave (or would give) for these results.
pub fn exit_code(r: &Results) -> i32 {
    match r.run.status.as_str() {
        "interrupted" => 130,
        "failed" => 3,
        _ if crate::analyze::any_regression(&r.comparisons) || r.thresholds.iter().any(|t| !t.passed) => 1,
        _ => 0,
    }
}

pub fn counts(r: &Results) -> Value {
    let n = |v: Verdict| r.comparisons.iter().filter(|c| c.verdict == v).count();
    json!({
        "improved": n(Verdict::Improved),
        "regressed": n(Verdict::Regressed),
        "unchanged": n(Verdict::Unchanged),
        "inconclusive": n(Verdict::Inconclusive),
    })
}

/// "regressed", "improved", "unchanged", "inconclusive" or "failed": the run in one word.
pub fn overall(r: &Results) -> &'static str {
    let has = |v: Verdict| r.comparisons.iter().any(|c| c.verdict == v);
    if r.run.status == "failed" {
        "failed"
    } else if has(Verdict::Regressed) || r.thresholds.iter().any(|t| !t.passed) {
        "regressed"
    } else if has(Verdict::Improved) {
        "improved"
    } else if !r.comparisons.is_empty() && r.comparisons.iter().all(|c| c.verdict == Verdict::Unchanged) {
        "unchanged"
    } else {
        "inconclusive"
    }
}

fn keep(c: &Comparison, f: &ResultsFilter) -> Result<bool, String> {
    let contains = |field: &str, want: &Option<String>| want.as_ref().is_none_or(|w| field.contains(w.as_str()));
    if !(contains(&c.scenario, &f.scenario) && contains(&c.benchmark, &f.benchmark) && contains(&c.metric, &f.metric)) {
        return Ok(false);
    }
    Ok(match f.verdict.as_deref() {
        None => {
            matches!(c.verdict, Verdict::Improved | Verdict::Regressed)
                || (c.verdict == Verdict::Inconclusive && c.judged)
        }
        Some("all") => true,
        Some("changed") => matches!(c.verdict, Verdict::Improved | Verdict::Regressed),
        Some("improved") => c.verdict == Verdict::Improved,
        Some("regressed") => c.verdict == Verdict::Regressed,
        Some("unchanged") => c.verdict == Verdict::Unchanged,
        Some("inconclusive") => c.verdict == Verdict::Inconclusive,
        Some(other) => {
            return Err(format!(
                "filter.verdict {other:?}: use changed, improved, regressed, unchanged, inconclusive or all"
            ));
        }
    })
}

pub fn row(c: &Comparison) -> Value {
    let side = |s: &crate::results::SideSummary| json!({ "n": s.n, "median": s.median, "ci_low": s.ci_low, "ci_high": s.ci_high });
    json!({
        "scenario": c.scenario,
        "benchmark": c.benchmark,
        "metric": c.metric,
        "unit": c.unit,
        "better": c.better,
        "baseline": side(&c.baseline),
        "candidate": side(&c.candidate),
        "delta_pct": c.delta_pct,
        "delta_ci_low_pct": c.delta_ci_low_pct,
        "delta_ci_high_pct": c.delta_ci_high_pct,
        "p_value": c.p_value,
        "q_value": c.q_value,
        "verdict": c.verdict,
        "judged": c.judged,
        "why_unsettled": c.unsettled.as_ref().map(|u| u.why.clone()),
    })
}

/// Resource and counter rows: CPU, memory and `*_per_request` figures.
fn is_resource(metric: &str) -> bool {
    metric.starts_with("cpu_") || metric.starts_with("rss_") || metric.ends_with("_per_request")
}

/// `get_results`: the verdict, the changes that matter, resources and
/// counters per request, failed thresholds and warnings.
pub fn results(r: &Results, where_: &str, filter: &ResultsFilter) -> Result<(String, Value), String> {
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let mut picked: Vec<&Comparison> = Vec::new();
    for c in &r.comparisons {
        if keep(c, filter)? {
            picked.push(c);
        }
    }
    // Regressions first, then the largest moves.
    let rank = |c: &Comparison| match c.verdict {
        Verdict::Regressed => 0,
        Verdict::Improved => 1,
        Verdict::Inconclusive => 2,
        Verdict::Unchanged => 3,
    };
    picked.sort_by(|a, b| rank(a).cmp(&rank(b)).then(b.delta_pct.abs().total_cmp(&a.delta_pct.abs())));
    let total = picked.len();
    let shown: Vec<Value> = picked.iter().take(limit).map(|c| row(c)).collect();
    let resources: Vec<Value> = r.comparisons.iter().filter(|c| is_resource(&c.metric)).take(limit).map(row).collect();
    let resources_total = r.comparisons.iter().filter(|c| is_resource(&c.metric)).count();
    let failed: Vec<Value> = r
        .thresholds
        .iter()
        .filter(|t| !t.passed)
        .map(|t| json!({"scenario": t.scenario, "variant": t.variant, "expr": t.expr, "observed": t.observed}))
        .collect();
    let mut notes: Vec<String> = Vec::new();
    if total > shown.len() {
        notes.push(format!(
            "{} of {total} matching rows shown: pass filter.limit (up to {MAX_LIMIT}) or narrow with \
             filter.scenario / filter.metric / filter.verdict",
            shown.len()
        ));
    }
    if resources_total > resources.len() {
        notes.push(format!("{} of {resources_total} resource rows shown (filter.limit raises it)", resources.len()));
    }
    let stopping = r
        .stopping
        .as_ref()
        .map(|s| json!({"rule": s.rule, "reason": s.reason, "measured_s": s.measured_s, "rounds": r.run.rounds}));
    let answer = json!({
        "source": where_,
        "run": {
            "id": r.run.id, "status": r.run.status, "started_at": r.run.started_at,
            "finished_at": r.run.finished_at, "command": r.run.command, "seed": r.run.seed,
            "threshold_pct": r.run.threshold_pct, "alpha": r.run.alpha,
        },
        "variants": r.variants,
        "verdict": overall(r),
        "exit_code": exit_code(r),
        "counts": counts(r),
        "stopping": stopping,
        "changes": shown,
        "changes_total": total,
        "resources": resources,
        "failed_thresholds": failed,
        "failures": r.failures,
        "warnings": r.warnings.iter().take(20).collect::<Vec<_>>(),
        "findings": r.findings.len(),
        "database": database(r, limit),
        "plan_diffs": r.plan_diffs.iter().take(limit).map(|p| json!({
            "scenario": p.scenario, "query": p.query, "candidate_query": p.candidate_query, "changes": p.changes,
            "plans": [p.baseline.as_ref().map(|s| &s.text), p.candidate.as_ref().map(|s| &s.text)],
        })).collect::<Vec<_>>(),
        "notes": notes,
    });
    let mut text = format!(
        "Run {} ({}): {} — {} (exit code {}). ",
        r.run.id,
        r.run.status,
        overall(r),
        count_text(r),
        exit_code(r)
    );
    for c in picked.iter().take(5) {
        text.push_str(&format!(
            "{} {} {}: {} {}; ",
            c.scenario,
            if c.benchmark == c.scenario { "" } else { c.benchmark.as_str() },
            c.metric,
            crate::report::format::format_delta(c),
            c.verdict.as_str()
        ));
    }
    for d in &r.database {
        for n in &d.n_plus_one {
            text.push_str(&format!(
                "{}: N+1 in the {}: {} ran {:.1}x/request; ",
                d.scenario, n.variant, n.query, n.calls_per_request
            ));
        }
    }
    if !failed.is_empty() {
        text.push_str(&format!("{} failed threshold(s). ", failed.len()));
    }
    for n in &notes {
        text.push_str(n);
        text.push_str(". ");
    }
    Ok((text.trim_end().to_string(), answer))
}

/// The database section (`[target.postgres]`), each scenario's statements
/// capped at `limit`.
fn database(r: &Results, limit: usize) -> Vec<Value> {
    r.database
        .iter()
        .map(|d| {
            json!({
                "scenario": d.scenario, "per": d.per, "server": d.server,
                "baseline": d.baseline, "candidate": d.candidate,
                "n_plus_one": d.n_plus_one,
                "statements": d.statements.iter().take(limit).collect::<Vec<_>>(),
                "statements_total": d.statements.len(),
                "errors": d.errors,
            })
        })
        .collect()
}

pub fn count_text(r: &Results) -> String {
    let n = |v: Verdict| r.comparisons.iter().filter(|c| c.verdict == v).count();
    format!(
        "{} improved, {} regressed, {} unchanged, {} inconclusive",
        n(Verdict::Improved),
        n(Verdict::Regressed),
        n(Verdict::Unchanged),
        n(Verdict::Inconclusive)
    )
}

/// A results.json's run in a line, for `list_runs`.
#[derive(Deserialize)]
struct Head {
    run: crate::results::Run,
    #[serde(default)]
    comparisons: Vec<HeadComparison>,
    #[serde(default)]
    variants: Vec<crate::results::VariantInfo>,
}

#[derive(Deserialize)]
struct HeadComparison {
    verdict: Verdict,
}

/// The newest runs under `reports/`, at most `limit`.
pub fn past_runs(reports: &std::path::Path, limit: usize) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(reports) else { return Vec::new() };
    let mut dirs: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("results.json").is_file() && !p.is_symlink())
        .map(|p| (p.join("results.json").metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), p))
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    dirs.into_iter()
        .take(limit)
        .filter_map(|(_, dir)| {
            let file = std::fs::File::open(dir.join("results.json")).ok()?;
            let head: Head = serde_json::from_reader(std::io::BufReader::new(file)).ok()?;
            let n = |v: Verdict| head.comparisons.iter().filter(|c| c.verdict == v).count();
            Some(json!({
                "run_id": head.run.id,
                "path": dir.join("results.json").display().to_string(),
                "status": head.run.status,
                "started_at": head.run.started_at,
                "command": head.run.command,
                "variants": head.variants.iter().map(|v| format!("{}: {} ({})", v.role.as_str(), v.rev, v.commit.get(..12).unwrap_or(&v.commit))).collect::<Vec<_>>(),
                "counts": {"improved": n(Verdict::Improved), "regressed": n(Verdict::Regressed),
                           "unchanged": n(Verdict::Unchanged), "inconclusive": n(Verdict::Inconclusive)},
            }))
        })
        .collect()
}
