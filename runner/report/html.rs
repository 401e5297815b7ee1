//! report.html: one self-contained page (inline CSS, inline SVG charts, flame
//! graphs as data URIs, no external requests) rendered from `Results`.
//! The template autoescapes every value; only our own SVG is inserted raw.

use super::charts::{self, RoundsChart};
use super::format::{format_ci_halfwidth, format_delta, format_value, signed};
use crate::model::Role;
use crate::model::Verdict;
use crate::results::{Comparison, Results, TimePoint};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

const TEMPLATE: &str = include_str!("templates/report.html");

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
struct Counts {
    improved: usize,
    regressed: usize,
    unchanged: usize,
    inconclusive: usize,
}

#[derive(Serialize)]
struct Variant {
    role: &'static str,
    color: &'static str,
    rev: String,
    commit: String,
    tree: String,
    patch: String,
}

#[derive(Serialize)]
struct RunFacts {
    id: String,
    command: String,
    scenario_files: Vec<String>,
    rounds: u32,
    stopping: String,
    method: String,
    seed: u64,
    alpha: f64,
    threshold: String,
    started: String,
    finished: String,
    duration: String,
    /// The tests the comparisons used, as results.json records them.
    tests: String,
}

#[derive(Serialize)]
struct Row {
    benchmark: String,
    metric: String,
    base: String,
    base_v: f64,
    cand: String,
    cand_v: f64,
    delta: String,
    delta_v: f64,
    p: String,
    p_v: f64,
    q: String,
    q_v: f64,
    n: String,
    mde: String,
    mde_v: f64,
    verdict: &'static str,
    notes: String,
}

#[derive(Serialize)]
struct Chart {
    title: String,
    svg: String,
}

#[derive(Serialize)]
struct MetricCharts {
    title: String,
    verdict: &'static str,
    delta: String,
    rounds_svg: String,
    deltas_svg: String,
}

#[derive(Serialize)]
struct ProfileRow {
    flat: String,
    flat_v: f64,
    flat_pct: String,
    flat_pct_v: f64,
    cum: String,
    cum_v: f64,
    cum_pct: String,
    cum_pct_v: f64,
    function: String,
    place: String,
}

#[derive(Serialize)]
struct Flame {
    title: String,
    path: String,
    /// `data:image/svg+xml;base64,...` (inserted unescaped: base64 has no
    /// markup characters), empty when the file is missing.
    data: String,
    missing: String,
}

#[derive(Serialize)]
struct ProfileSection {
    kind: String,
    sample_type: String,
    baseline_total: String,
    rows: Vec<ProfileRow>,
    flames: Vec<Flame>,
}

#[derive(Serialize)]
struct MeasuredRow {
    benchmark: String,
    metric: String,
    variant: &'static str,
    median: String,
    median_v: f64,
    range: String,
    n: usize,
    cv: String,
}

#[derive(Serialize)]
struct Scenario {
    name: String,
    anchor: String,
    rows: Vec<Row>,
    /// Metrics measured with nothing to compare them with.
    measured: Vec<MeasuredRow>,
    geomean_svg: String,
    spectrum_svg: String,
    spectrum_what: String,
    timelines: Vec<Chart>,
    metrics: Vec<MetricCharts>,
    profiles: Vec<ProfileSection>,
    database: Option<super::database::HtmlDatabase>,
}

#[derive(Serialize)]
struct FailureRow {
    scenario: String,
    variant: &'static str,
    round: u32,
    message: String,
}

#[derive(Serialize)]
struct ThresholdRow {
    expr: String,
    scenario: String,
    variant: &'static str,
    observed: String,
}

#[derive(Serialize)]
struct Page {
    headline: String,
    headline_class: &'static str,
    summary: String,
    counts: Counts,
    status: String,
    failed_thresholds: Vec<ThresholdRow>,
    variants: Vec<Variant>,
    run: RunFacts,
    machine: String,
    scenarios: Vec<Scenario>,
    failures: Vec<FailureRow>,
    warnings: Vec<String>,
    tool: String,
}

/// The one-line verdict shared by the HTML header and the Markdown brief,
/// and a class for its color.
pub fn headline(results: &Results) -> (String, &'static str) {
    let count = |v: Verdict| results.comparisons.iter().filter(|c| c.verdict == v).count();
    let (improved, regressed, inconclusive) =
        (count(Verdict::Improved), count(Verdict::Regressed), count(Verdict::Inconclusive));
    let failed = results.thresholds.iter().filter(|t| !t.passed).count();
    let status = results.run.status.as_str();
    let metrics = |n: usize| if n == 1 { "1 metric".to_string() } else { format!("{n} metrics") };
    let mut line = if regressed > 0 {
        format!("Regressed: {} worse, {} better", metrics(regressed), improved)
    } else if failed > 0 {
        format!("Thresholds failed: {failed}, though no metric regressed")
    } else if improved > 0 {
        format!("Improved: {} better, none worse", metrics(improved))
    } else if results.comparisons.is_empty() && !results.samples.is_empty() {
        let rev = results.variants.first().map(|v| v.rev.as_str()).unwrap_or("the revision");
        format!("Measured {rev} alone: nothing to compare with")
    } else if results.comparisons.is_empty() {
        "Nothing was measured".to_string()
    } else if inconclusive > 0 {
        format!("Not enough evidence yet: {} inconclusive, none changed", metrics(inconclusive))
    } else {
        "Unchanged: no metric moved beyond the threshold".to_string()
    };
    if regressed > 0 && failed > 0 {
        line.push_str(&format!("; {failed} threshold(s) failed"));
    }
    if !status.is_empty() && status != "complete" {
        line = format!("Run {status} — {line}");
    }
    let class = if regressed > 0 || failed > 0 || status == "failed" {
        "regressed"
    } else if improved > 0 {
        "improved"
    } else {
        "neutral"
    };
    (line, class)
}

/// Renders report.html. `out_dir` is where results.json lives: flame graph
/// paths in it are relative to that directory.
pub fn render(results: &Results, out_dir: Option<&Path>) -> String {
    let page = page(results, out_dir);
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    let rendered = env.template_from_str(TEMPLATE).and_then(|t| t.render(minijinja::value::Serde(&page)));
    match rendered {
        Ok(html) => super::confine::with_content_security_policy(&html),
        // The template is ours and fixed: an error here is a bug, shown rather than hidden.
        Err(e) => format!(
            "<!doctype html><meta charset=utf-8><title>perfgate</title><p>report template error: {}</p>",
            escape(&format!("{e:#}"))
        ),
    }
}

fn page(results: &Results, out_dir: Option<&Path>) -> Page {
    let count = |v: Verdict| results.comparisons.iter().filter(|c| c.verdict == v).count();
    let (headline, headline_class) = headline(results);
    let failed_thresholds = results
        .thresholds
        .iter()
        .filter(|t| !t.passed)
        .map(|t| ThresholdRow {
            expr: t.expr.clone(),
            scenario: t.scenario.clone(),
            variant: t.variant.as_str(),
            observed: t.observed.map(|v| format_value(v, &t.unit)).unwrap_or_else(|| "not measured".into()),
        })
        .collect();
    let variants = results
        .variants
        .iter()
        .map(|v| Variant {
            role: v.role.as_str(),
            color: match v.role {
                Role::Baseline => "var(--base)",
                Role::Candidate => "var(--cand)",
            },
            rev: v.rev.clone(),
            commit: v.commit.clone(),
            tree: v.tree.clone(),
            patch: v.patch.clone().unwrap_or_default(),
        })
        .collect();
    let run = &results.run;
    let duration = match (
        run.started_at.parse::<jiff::Timestamp>(),
        run.finished_at.as_deref().map(str::parse::<jiff::Timestamp>),
    ) {
        (Ok(a), Some(Ok(b))) => {
            let secs = (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0;
            if secs >= 60.0 {
                format!("{}m{:02.0}s", (secs / 60.0).floor(), secs % 60.0)
            } else {
                format!("{secs:.1}s")
            }
        }
        _ => "unknown".into(),
    };
    let env = &results.environment;
    let machine = format!(
        "{}, {} cores, {} memory, {} {}, host {}",
        if env.cpu_model.is_empty() { "unknown CPU" } else { &env.cpu_model },
        env.cores,
        format_value(env.memory_bytes as f64, "B"),
        env.os,
        env.kernel,
        env.hostname
    );
    let series = SampleIndex::new(results);
    let mut names: Vec<&str> = Vec::new();
    for c in &results.comparisons {
        if !names.contains(&c.scenario.as_str()) {
            names.push(&c.scenario);
        }
    }
    for d in &results.profile_diffs {
        if !names.contains(&d.scenario.as_str()) {
            names.push(&d.scenario);
        }
    }
    for s in &results.samples {
        if !names.contains(&s.scenario.as_str()) {
            names.push(&s.scenario);
        }
    }
    let scenarios = names.iter().enumerate().map(|(i, name)| scenario(results, name, i, &series, out_dir)).collect();
    Page {
        headline,
        headline_class,
        summary: super::terminal::summary_line(results),
        counts: Counts {
            improved: count(Verdict::Improved),
            regressed: count(Verdict::Regressed),
            unchanged: count(Verdict::Unchanged),
            inconclusive: count(Verdict::Inconclusive),
        },
        status: if run.status.is_empty() { "complete".into() } else { run.status.clone() },
        failed_thresholds,
        variants,
        run: RunFacts {
            id: run.id.clone(),
            command: run.command.clone(),
            scenario_files: run.scenario_files.clone(),
            rounds: run.rounds,
            stopping: super::format::stop_sentence(results).unwrap_or_default(),
            method: results.stopping.as_ref().map(|s| s.method.clone()).unwrap_or_default(),
            seed: run.seed,
            alpha: run.alpha,
            threshold: format!("{}%", run.threshold_pct),
            started: run.started_at.clone(),
            finished: run.finished_at.clone().unwrap_or_else(|| "not finished".into()),
            duration,
            tests: {
                let mut tests: Vec<&str> = Vec::new();
                for c in &results.comparisons {
                    let name = match c.test.as_str() {
                        "wilcoxon-signed-rank" => "Wilcoxon signed-rank on paired rounds",
                        "sequential-sign" => "anytime-valid sign test (e-values) on paired rounds",
                        "mann-whitney-u" => "Mann–Whitney U",
                        other => other,
                    };
                    if !tests.contains(&name) {
                        tests.push(name);
                    }
                }
                tests.join(", ")
            },
        },
        machine,
        scenarios,
        failures: results
            .failures
            .iter()
            .map(|f| FailureRow {
                scenario: f.scenario.clone(),
                variant: f.variant.as_str(),
                round: f.round,
                message: f.message.clone(),
            })
            .collect(),
        warnings: results.warnings.clone(),
        tool: format!("{} {}", results.tool.name, results.tool.version),
    }
}

/// (scenario, benchmark, metric, variant).
type SeriesKey<'a> = (&'a str, &'a str, &'a str, Role);

/// Per-round values of every (scenario, benchmark, metric, variant), built once.
struct SampleIndex<'a> {
    rounds: HashMap<SeriesKey<'a>, Vec<(u32, f64)>>,
}

impl<'a> SampleIndex<'a> {
    fn new(results: &'a Results) -> Self {
        let mut rounds: HashMap<SeriesKey<'a>, Vec<(u32, f64)>> = HashMap::new();
        for s in &results.samples {
            rounds
                .entry((s.scenario.as_str(), s.benchmark.as_str(), s.metric.as_str(), s.variant))
                .or_default()
                .push((s.round, s.value));
        }
        SampleIndex { rounds }
    }

    fn get(&self, c: &'a Comparison, role: Role) -> &[(u32, f64)] {
        self.rounds.get(&(c.scenario.as_str(), c.benchmark.as_str(), c.metric.as_str(), role)).map_or(&[], |v| v)
    }
}

/// candidate ÷ baseline − 1 (in %) for every round both variants measured.
fn paired_deltas(base: &[(u32, f64)], cand: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut out: Vec<(u32, f64)> = base
        .iter()
        .filter_map(|&(r, b)| {
            let c = cand.iter().find(|p| p.0 == r)?.1;
            (b != 0.0).then(|| (r, (c / b - 1.0) * 100.0))
        })
        .collect();
    out.sort_by_key(|p| p.0);
    out
}

fn row(c: &Comparison) -> Row {
    let side = |s: &crate::results::SideSummary| {
        format!("{} {}", format_value(s.median, &c.unit), format_ci_halfwidth(s.median, s.ci_low, s.ci_high))
    };
    let opt = |v: Option<f64>| v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into());
    Row {
        benchmark: c.benchmark.clone(),
        metric: c.metric.clone(),
        base: side(&c.baseline),
        base_v: c.baseline.median,
        cand: side(&c.candidate),
        cand_v: c.candidate.median,
        delta: format_delta(c),
        delta_v: c.delta_pct,
        p: opt(c.p_value),
        p_v: c.p_value.unwrap_or(f64::NAN),
        q: opt(c.q_value),
        q_v: c.q_value.unwrap_or(f64::NAN),
        n: format!("{}/{}", c.baseline.n, c.candidate.n),
        mde: c.mde_pct.map(|m| format!("{m:.1}%")).unwrap_or_else(|| "–".into()),
        mde_v: c.mde_pct.unwrap_or(f64::NAN),
        verdict: c.verdict.as_str(),
        notes: c
            .notes
            .iter()
            .cloned()
            .chain(c.unsettled.as_ref().map(|u| u.why.clone()))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn scenario<'a>(
    results: &'a Results,
    name: &str,
    index: usize,
    series: &SampleIndex<'a>,
    out_dir: Option<&Path>,
) -> Scenario {
    let comparisons: Vec<&'a Comparison> = results.comparisons.iter().filter(|c| c.scenario == name).collect();
    let rows = comparisons.iter().map(|c| row(c)).collect();

    let bars: Vec<(String, f64, crate::model::Better)> = results
        .geomeans
        .iter()
        .filter(|g| g.scenario == name)
        .map(|g| {
            let better = comparisons
                .iter()
                .find(|c| c.metric == g.metric && c.unit == g.unit)
                .map(|c| c.better)
                .unwrap_or(crate::model::Better::Lower);
            (format!("{} ({})", g.metric, g.unit), g.delta_pct, better)
        })
        .collect();
    let geomean_svg = if bars.is_empty() { String::new() } else { charts::geomean_chart(&bars) };

    let spectra: Vec<&crate::results::LatencySpectrum> =
        results.latency_spectra.iter().filter(|s| s.scenario == name && !s.points.is_empty()).collect();
    let spectrum_svg = if spectra.is_empty() { String::new() } else { charts::spectrum_chart(&spectra) };
    let spectrum_what = match spectra.first().map(|s| s.what.as_str()) {
        Some("round_trip") => "message round trips".to_string(),
        Some(_) => "requests".to_string(),
        None => String::new(),
    };

    let timelines: Vec<&crate::results::Timeline> = results.timelines.iter().filter(|t| t.scenario == name).collect();
    let mut timeline_charts = Vec::new();
    type Pick = fn(&crate::results::Timeline) -> &[TimePoint];
    let kinds: [(&str, &str, &str, Pick); 3] = [
        ("Throughput", "req/s", "throughput", |t| &t.throughput),
        ("Target CPU", "cores", "CPU", |t| &t.cpu_cores),
        ("Target RSS", "B", "RSS", |t| &t.rss_bytes),
    ];
    for (title, unit, what, pick) in kinds {
        let lines: Vec<(Role, &[TimePoint])> =
            timelines.iter().map(|t| (t.variant, pick(t))).filter(|(_, p)| !p.is_empty()).collect();
        if !lines.is_empty() {
            timeline_charts.push(Chart { title: title.into(), svg: charts::timeline_chart(unit, what, &lines) });
        }
    }

    // A statement's rows stay in the table; the database section shows them.
    let metrics = comparisons
        .iter()
        .filter(|c| !c.benchmark.starts_with(crate::workload::database::STATEMENT_PREFIX))
        .map(|c| {
            let base = series.get(c, Role::Baseline);
            let cand = series.get(c, Role::Candidate);
            let title = if c.benchmark == c.scenario {
                format!("{} ({})", c.metric, if c.unit.is_empty() { "count" } else { &c.unit })
            } else {
                format!("{} · {} ({})", c.benchmark, c.metric, c.unit)
            };
            MetricCharts {
                title,
                verdict: c.verdict.as_str(),
                delta: format_delta(c),
                rounds_svg: charts::rounds_chart(&RoundsChart {
                    unit: &c.unit,
                    baseline: base,
                    candidate: cand,
                    baseline_summary: (c.baseline.median, c.baseline.ci_low, c.baseline.ci_high),
                    candidate_summary: (c.candidate.median, c.candidate.ci_low, c.candidate.ci_high),
                }),
                deltas_svg: charts::deltas_chart(
                    &paired_deltas(base, cand),
                    c.delta_pct,
                    (c.delta_ci_low_pct, c.delta_ci_high_pct),
                    c.better,
                ),
            }
        })
        .collect();

    let profiles = results
        .profile_diffs
        .iter()
        .filter(|d| d.scenario == name)
        .map(|d| profile_section(results, d, out_dir))
        .collect();

    let measured = if comparisons.is_empty() {
        super::measured(results, name)
            .into_iter()
            .map(|m| MeasuredRow {
                variant: m.variant.as_str(),
                median: format!(
                    "{} {}",
                    format_value(m.summary.median, &m.unit),
                    format_ci_halfwidth(m.summary.median, m.summary.ci_low, m.summary.ci_high)
                ),
                median_v: m.summary.median,
                range: format!("{} – {}", format_value(m.summary.min, &m.unit), format_value(m.summary.max, &m.unit)),
                n: m.summary.n,
                cv: format!("{:.1}%", m.summary.cv * 100.0),
                benchmark: m.benchmark.clone(),
                metric: m.metric.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Scenario {
        name: name.to_string(),
        anchor: format!("scenario-{index}"),
        rows,
        measured,
        geomean_svg,
        spectrum_svg,
        spectrum_what,
        timelines: timeline_charts,
        metrics,
        profiles,
        database: super::database::html(results, name),
    }
}

/// Hotspot rows kept in the page: enough to see what moved, not the whole
/// profile (results.json and the flame graphs have the rest).
const PROFILE_ROWS: usize = 30;

fn profile_section(results: &Results, d: &crate::results::ProfileDiff, out_dir: Option<&Path>) -> ProfileSection {
    let label = |v: f64| {
        let s = crate::profile::measure::scaled_label(v as i64, &d.unit, "minimum");
        if v > 0.0 { format!("+{s}") } else { s }
    };
    let rows = d
        .top
        .iter()
        .filter(|e| e.flat != 0.0 || e.cum != 0.0)
        .take(PROFILE_ROWS)
        .map(|e| ProfileRow {
            flat: label(e.flat),
            flat_v: e.flat,
            flat_pct: format!("{}%", signed(e.flat_pct, 2)),
            flat_pct_v: e.flat_pct,
            cum: label(e.cum),
            cum_v: e.cum,
            cum_pct: format!("{}%", signed(e.cum_pct, 2)),
            cum_pct_v: e.cum_pct,
            function: e.function.clone(),
            place: if e.file.is_empty() { String::new() } else { format!("{}:{}", e.file, e.line) },
        })
        .collect();
    let mut flames = Vec::new();
    for role in [Role::Baseline, Role::Candidate] {
        if let Some(p) =
            results.profiles.iter().find(|p| p.scenario == d.scenario && p.kind == d.kind && p.variant == role)
            && let Some(path) = &p.flame_graph
        {
            flames.push(flame(format!("Flame graph, {role}"), path, out_dir));
        }
    }
    if let Some(path) = &d.flame_graph {
        flames.push(flame(
            "Differential flame graph: candidate against baseline (red grew, blue shrank)".into(),
            path,
            out_dir,
        ));
    }
    ProfileSection {
        kind: d.kind.clone(),
        sample_type: d.sample_type.clone(),
        baseline_total: crate::profile::measure::scaled_label(d.baseline_total as i64, &d.unit, "minimum"),
        rows,
        flames,
    }
}

fn flame(title: String, path: &str, out_dir: Option<&Path>) -> Flame {
    use base64::Engine;
    let read = match out_dir {
        Some(dir) => super::confine::read_profile_file(dir, path),
        None => Err("the run directory is unknown".into()),
    };
    // The link is only kept when the file was: a path read is a path that stays in profiles/.
    match read {
        Ok(bytes) => Flame {
            title,
            path: path.to_string(),
            data: format!("data:image/svg+xml;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)),
            missing: String::new(),
        },
        Err(e) => Flame {
            title,
            path: String::new(),
            data: String::new(),
            missing: format!("flame graph {path:?} not embedded: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<img src=x onerror='a()'>&\""), "&lt;img src=x onerror=&#x27;a()&#x27;&gt;&amp;&quot;");
    }

    #[test]
    fn pairs_rounds() {
        let d = paired_deltas(&[(1, 10.0), (2, 20.0), (3, 0.0)], &[(2, 10.0), (1, 15.0), (3, 1.0)]);
        assert_eq!(d, vec![(1, 50.0), (2, -50.0)]);
    }
}
