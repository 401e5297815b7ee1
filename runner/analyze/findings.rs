//! Findings: one block per improved or regressed metric group, in the format
//! a performance agent reports an optimization in (bottleneck, impact,
//! location, current and measured figures, verification). Everything here
//! is read from the run's comparisons, profile diffs and stopping record;
//! the cause and the fix are left for the agent, never invented.

use super::Context;
use crate::model::{Better, Verdict};
use crate::results::{Comparison, Figure, Finding, Impact, Location, ProfileDiff, Results, Verification};

/// Movers named per finding.
const LOCATIONS: usize = 3;
/// Figures per finding: the headline set first, then whatever else moved.
const FIGURES: usize = 16;

/// The metrics an optimization report quotes when the group has them, in
/// this order: response time, throughput, CPU, memory.
const HEADLINE: [&str; 10] = [
    "latency_p50",
    "latency_p99",
    "throughput",
    "cpu_per_request",
    "cpu_utilization",
    "rss_peak",
    "rss_mean",
    "ns/op",
    "B/op",
    "allocs/op",
];

/// The metrics that size a finding's impact when the group has them.
const IMPACT_ORDER: [&str; 9] = [
    "latency_p99",
    "throughput",
    "ns/op",
    "sec/op",
    "wall_time",
    "cpu_per_request",
    "cpu_utilization",
    "latency_p50",
    "cpu_time",
];

/// Findings for every scenario × benchmark with an improved or regressed
/// judged metric (any metric when none is judged), in comparison order.
pub fn findings(results: &Results, ctx: &Context) -> Vec<Finding> {
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for c in &results.comparisons {
        if !groups.contains(&(c.scenario.as_str(), c.benchmark.as_str())) {
            groups.push((&c.scenario, &c.benchmark));
        }
    }
    groups
        .into_iter()
        // A statement's rows are evidence for its scenario's finding.
        .filter(|(_, benchmark)| !benchmark.starts_with(crate::workload::database::STATEMENT_PREFIX))
        .filter_map(|(scenario, benchmark)| {
            let rows: Vec<&Comparison> =
                results.comparisons.iter().filter(|c| c.scenario == scenario && c.benchmark == benchmark).collect();
            finding(results, ctx, &rows)
        })
        .collect()
}

fn moved(c: &Comparison) -> bool {
    matches!(c.verdict, Verdict::Improved | Verdict::Regressed)
}

fn finding(results: &Results, ctx: &Context, rows: &[&Comparison]) -> Option<Finding> {
    let any_judged = rows.iter().any(|c| c.judged);
    let headline: Vec<&Comparison> = rows.iter().copied().filter(|c| moved(c) && (c.judged || !any_judged)).collect();
    if headline.is_empty() {
        return None;
    }
    let verdict =
        if headline.iter().any(|c| c.verdict == Verdict::Regressed) { Verdict::Regressed } else { Verdict::Improved };
    let first = rows[0];
    let info = ctx.scenarios.get(&first.scenario);
    let kind = info.map(|i| i.kind.clone()).unwrap_or_default();
    let what = info.map(|i| i.what.clone()).unwrap_or_default();
    let sized: Vec<&Comparison> = headline.iter().copied().filter(|c| c.verdict == verdict).collect();
    let impact = impact(&sized);
    let locations = locations(&results.profile_diffs, &first.scenario, verdict);
    Some(Finding {
        scenario: first.scenario.clone(),
        benchmark: first.benchmark.clone(),
        kind,
        what,
        verdict,
        impact,
        locations,
        figures: figures(rows),
        database: database_facts(results, &first.scenario),
        cause: None,
        proposed_fix: None,
        verification: verification(results, ctx, &first.scenario),
    })
}

/// The largest change among the group's primary metrics (response time,
/// throughput, time per op, CPU), else among whatever moved.
fn impact(sized: &[&Comparison]) -> Impact {
    let primary: Vec<&Comparison> =
        sized.iter().copied().filter(|c| IMPACT_ORDER.contains(&c.metric.as_str())).collect();
    let pool = if primary.is_empty() { sized.to_vec() } else { primary };
    // Sized by the change's own ratio (candidate/baseline = 1 + delta), so
    // the factor tells the same story as the delta and its interval: ×4
    // throughput outranks -50% p99.
    let ratio_of = |c: &Comparison| 1.0 + c.delta_pct / 100.0;
    let size = |c: &Comparison| {
        let r = ratio_of(c);
        if r > 0.0 { r.ln().abs() } else { f64::INFINITY }
    };
    let best = pool
        .iter()
        .max_by(|a, b| size(a).total_cmp(&size(b)).then(b.metric.cmp(&a.metric)))
        .expect("a finding has a headline metric");
    let r = ratio_of(best);
    let factor = match best.better {
        Better::Lower => 1.0 / r,
        Better::Higher => r,
    };
    let factor = (factor.is_finite() && factor > 0.0).then_some(factor);
    let magnitude = best.delta_pct.abs();
    let ratio = factor.map_or(f64::INFINITY, |f| f.max(1.0 / f));
    let level = if magnitude >= 50.0 || ratio >= 2.0 {
        "High"
    } else if magnitude >= 10.0 {
        "Medium"
    } else {
        "Low"
    };
    Impact {
        level: level.into(),
        metric: best.metric.clone(),
        unit: best.unit.clone(),
        delta_pct: best.delta_pct,
        delta_ci_low_pct: best.delta_ci_low_pct,
        delta_ci_high_pct: best.delta_ci_high_pct,
        factor,
    }
}

/// Profile movers of the scenario that went the finding's way, heaviest
/// change first; code in the checkout (a relative path) before the runtime's
/// and the libraries'.
fn locations(diffs: &[ProfileDiff], scenario: &str, verdict: Verdict) -> Vec<Location> {
    let mut out: Vec<Location> = Vec::new();
    for d in diffs.iter().filter(|d| d.scenario == scenario) {
        for e in &d.top {
            let change = if e.cum != 0.0 { e.cum } else { e.flat };
            // Time taken away for an improvement, time added for a regression.
            let way = if verdict == Verdict::Improved { change < 0.0 } else { change > 0.0 };
            if !way || e.function.is_empty() {
                continue;
            }
            out.push(Location {
                function: e.function.clone(),
                file: e.file.clone(),
                line: e.line,
                profile: d.kind.clone(),
                sample_type: d.sample_type.clone(),
                unit: d.unit.clone(),
                cum_delta: e.cum,
                cum_delta_pct: e.cum_pct,
                flat_delta: e.flat,
                flat_delta_pct: e.flat_pct,
            });
        }
    }
    let own = |l: &Location| !l.file.is_empty() && !l.file.starts_with('/');
    out.sort_by(|a, b| {
        own(b)
            .cmp(&own(a))
            .then(b.cum_delta_pct.abs().total_cmp(&a.cum_delta_pct.abs()))
            .then(b.flat_delta.abs().total_cmp(&a.flat_delta.abs()))
            .then(a.function.cmp(&b.function))
    });
    out.truncate(LOCATIONS);
    out
}

/// The headline metrics the group has, every `*_per_request` counter, and
/// the other judged metrics (e.g. a WebSocket scenario's goroutines and
/// clients); tails such as p999 and max are left to get_results.
fn figures(rows: &[&Comparison]) -> Vec<Figure> {
    let mut picked: Vec<&Comparison> = Vec::new();
    for m in HEADLINE {
        picked.extend(rows.iter().copied().filter(|c| c.metric == m));
    }
    // The target's counters per request; not the load generator's own CPU.
    picked.extend(rows.iter().copied().filter(|c| {
        c.metric.ends_with("_per_request") && c.metric != "cpu_per_request" && !c.metric.starts_with("generator_")
    }));
    let any_judged = rows.iter().any(|c| c.judged);
    for c in rows {
        let wanted = if any_judged { c.judged } else { moved(c) };
        if wanted && !picked.iter().any(|p| std::ptr::eq(*p, *c)) {
            picked.push(c);
        }
    }
    picked.truncate(FIGURES);
    picked
        .into_iter()
        .map(|c| Figure {
            metric: c.metric.clone(),
            unit: c.unit.clone(),
            better: c.better,
            baseline: c.baseline.median,
            baseline_ci: (c.baseline.ci_low, c.baseline.ci_high),
            candidate: c.candidate.median,
            candidate_ci: (c.candidate.ci_low, c.candidate.ci_high),
            delta_pct: c.delta_pct,
            delta_ci_low_pct: c.delta_ci_low_pct,
            delta_ci_high_pct: c.delta_ci_high_pct,
            verdict: c.verdict,
        })
        .collect()
}

/// The database's evidence on a scenario, in sentences: its statements
/// per request, N+1 flags, and how the plans of its slowest statements changed.
fn database_facts(results: &Results, scenario: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(d) = results.database.iter().find(|d| d.scenario == scenario) else { return out };
    let per = &d.per;
    if let (Some(b), Some(c)) = (&d.baseline, &d.candidate) {
        if let (Some(sb), Some(sc)) = (b.statements_per, c.statements_per) {
            out.push(format!("statements per {per}: {sb:.3} → {sc:.3} (pg_stat_statements, {} server)", d.server));
        }
        out.push(format!("write commits per {per}: {:.3} → {:.3}", b.commits_per, c.commits_per));
    }
    for n in &d.n_plus_one {
        out.push(format!(
            "N+1 in the {}: `{}` ran {:.1}×/request, once per row of `{}`",
            n.variant, n.query, n.calls_per_request, n.parent
        ));
    }
    for p in results.plan_diffs.iter().filter(|p| p.scenario == scenario && p.changes.len() > 1) {
        for c in p.changes.iter().skip(1) {
            out.push(format!("plan of `{}`: {c}", p.query));
        }
    }
    out
}

/// What backs the finding (rounds, the kind of test, profiles) and what
/// this run did not do that an optimization report usually shows.
fn verification(results: &Results, ctx: &Context, scenario: &str) -> Verification {
    let mut v = Verification::default();
    let info = ctx.scenarios.get(scenario);
    let kind = info.map(|i| i.kind.as_str()).unwrap_or("");
    if let Some(stop) = results.stopping.as_ref().and_then(|s| s.scenarios.iter().find(|x| x.scenario == scenario)) {
        v.ran.push(format!(
            "{} interleaved round(s) of baseline and candidate in a seeded random order (seed {}); the scenario stopped: {}",
            stop.rounds, results.run.seed, stop.reason
        ));
    }
    let what = info.map(|i| i.what.as_str()).filter(|w| !w.is_empty()).map(|w| format!(": {w}")).unwrap_or_default();
    let test = match kind {
        "http" => "load test (HTTP)",
        "websocket" => "load test (WebSocket clients)",
        "gobench" => "benchmark (go test -bench)",
        "cargobench" => "benchmark (criterion)",
        "command" => "command timing",
        "idle" => "idle resource check (no load)",
        other => other,
    };
    v.ran.push(format!("{test}{what}"));
    let kinds: Vec<&str> =
        results.profiles.iter().filter(|p| p.scenario == scenario).map(|p| p.kind.as_str()).collect();
    let mut profiled: Vec<&str> = Vec::new();
    for k in kinds {
        if !profiled.contains(&k) {
            profiled.push(k);
        }
    }
    if profiled.is_empty() {
        v.not_run
            .push(format!("not profiled: add `profile = [\"cpu\"]` to scenario {scenario} for file:line locations"));
    } else {
        let diffed = results.profile_diffs.iter().any(|d| d.scenario == scenario);
        v.ran.push(format!(
            "{} profile(s) of each variant in a separate pass{}",
            profiled.join(", "),
            if diffed { ", diffed candidate − baseline" } else { "" }
        ));
    }
    let kinds_run: Vec<&str> = ctx.scenarios.values().map(|i| i.kind.as_str()).collect();
    if !kinds_run.iter().any(|k| matches!(*k, "http" | "websocket")) {
        v.not_run.push("not load-tested: no http or websocket scenario in this run".into());
    }
    if !kinds_run.iter().any(|k| matches!(*k, "gobench" | "cargobench")) {
        v.not_run.push("no microbenchmark: no gobench or cargobench scenario in this run".into());
    }
    if matches!(kind, "http" | "websocket" | "idle") && !info.is_some_and(|i| i.counters) {
        v.not_run.push(format!(
            "no application counters (e.g. queries per request): give scenario {scenario} `counters` and the target `metrics`"
        ));
    }
    if results.run.status != "complete" {
        v.not_run.push(format!("the run did not complete ({}): figures cover the rounds measured", results.run.status));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ScenarioInfo;
    use crate::model::Role;
    use crate::results::{ProfileEntry, Sample};
    use crate::stats::CompareConfig;

    /// Eight paired rounds of two scenarios: a service 4x faster with 13 → 2
    /// queries, and a benchmark that did not move.
    fn run() -> (Results, Context) {
        let mut samples = Vec::new();
        let mut push = |scenario: &str, bench: &str, metric: &str, unit: &str, better, base: f64, cand: f64| {
            for round in 0..8 {
                let wobble = 1.0 + 0.01 * ((round * 7 % 5) as f64 - 2.0);
                for (variant, v) in [(Role::Baseline, base), (Role::Candidate, cand)] {
                    samples.push(Sample {
                        scenario: scenario.into(),
                        benchmark: bench.into(),
                        metric: metric.into(),
                        unit: unit.into(),
                        better,
                        variant,
                        round,
                        value: v * wobble,
                    });
                }
            }
        };
        push("api", "api", "latency_p99", "s", Better::Lower, 0.8, 0.2);
        push("api", "api", "throughput", "req/s", Better::Higher, 25.0, 100.0);
        push("api", "api", "db_queries_per_request", "queries/req", Better::Lower, 13.0, 2.0);
        push("api", "api", "latency_p999", "s", Better::Lower, 1.0, 1.0);
        push("bench", "Same-2", "ns/op", "ns/op", Better::Lower, 100.0, 100.0);
        let mut ctx = Context::default();
        ctx.scenarios.insert(
            "api".into(),
            ScenarioInfo { kind: "http".into(), what: "GET /x, 4 connections".into(), counters: true },
        );
        ctx.scenarios
            .insert("bench".into(), ScenarioInfo { kind: "gobench".into(), what: String::new(), counters: false });
        for (s, k) in [("api", "http"), ("bench", "gobench")] {
            ctx.judges.insert(s.into(), super::super::Judge::Kind(k.into()));
        }
        let analysis = super::super::analyze_in(&samples, &CompareConfig::default(), &ctx);
        let mut r = Results::new(Default::default(), Default::default(), Vec::new());
        r.comparisons = analysis.comparisons;
        (r, ctx)
    }

    fn entry(function: &str, file: &str, cum: f64) -> ProfileEntry {
        ProfileEntry {
            function: function.into(),
            file: file.into(),
            line: 42,
            flat: 0.0,
            flat_pct: 0.0,
            cum,
            cum_pct: cum,
        }
    }

    #[test]
    fn one_finding_per_group_that_moved_with_both_sides_of_every_headline_figure() {
        let (r, ctx) = run();
        let f = findings(&r, &ctx);
        assert_eq!(f.len(), 1, "{f:#?}");
        let f = &f[0];
        assert_eq!((f.scenario.as_str(), f.verdict), ("api", Verdict::Improved));
        assert_eq!(f.impact.metric, "latency_p99");
        assert_eq!(f.impact.level, "High");
        assert!((f.impact.factor.unwrap() - 4.0).abs() < 0.2, "{:?}", f.impact.factor);
        let metrics: Vec<&str> = f.figures.iter().map(|x| x.metric.as_str()).collect();
        assert_eq!(metrics, ["latency_p99", "throughput", "db_queries_per_request"]);
        let q = &f.figures[2];
        assert!((q.baseline - 13.0).abs() < 0.5 && (q.candidate - 2.0).abs() < 0.1, "{q:?}");
        assert!(f.cause.is_none() && f.proposed_fix.is_none());
        assert!(f.verification.not_run.iter().any(|s| s.starts_with("not profiled")), "{:?}", f.verification);
    }

    #[test]
    fn locations_are_the_movers_that_went_the_findings_way_own_code_first() {
        let (mut r, ctx) = run();
        r.profile_diffs.push(ProfileDiff {
            scenario: "api".into(),
            kind: "cpu".into(),
            sample_type: "cpu".into(),
            unit: "nanoseconds".into(),
            baseline_total: 100.0,
            top: vec![
                entry("runtime.mallocgc", "/usr/lib/go/src/runtime/malloc.go", -90.0),
                entry("app.(*Store).load", "server/store.go", -80.0),
                entry("app.grew", "server/grew.go", 5.0),
            ],
            flame_graph: None,
        });
        r.profiles.push(crate::results::Profile {
            scenario: "api".into(),
            variant: Role::Baseline,
            kind: "cpu".into(),
            path: String::new(),
            top: Vec::new(),
            sample_type: String::new(),
            unit: String::new(),
            total: 0.0,
            flame_graph: None,
        });
        let f = &findings(&r, &ctx)[0];
        let names: Vec<&str> = f.locations.iter().map(|l| l.function.as_str()).collect();
        assert_eq!(names, ["app.(*Store).load", "runtime.mallocgc"]);
        assert_eq!((f.locations[0].file.as_str(), f.locations[0].line), ("server/store.go", 42));
        assert!(!f.verification.not_run.iter().any(|s| s.starts_with("not profiled")));
    }
}
