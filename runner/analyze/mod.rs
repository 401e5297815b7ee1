//! Analysis: raw samples → comparisons (DESIGN §6). Groups samples per
//! scenario × benchmark × metric, pairs them by round when both variants ran
//! in the same rounds, applies Benjamini–Hochberg across the whole run, and
//! attaches verdicts and the noise notes shown next to each row.

pub mod benchstat;
pub mod database;
pub mod findings;
pub mod plans;

use crate::model::{MetricKey, Role, Verdict};
use crate::results::{Comparison, Geomean, Sample, SideSummary, Unsettled};
use crate::stats::{self, CompareConfig};
use std::collections::{BTreeMap, HashMap};

/// What the analysis of a run produced.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub comparisons: Vec<Comparison>,
    pub geomeans: Vec<Geomean>,
    pub noise_floors: Vec<crate::results::NoiseFloor>,
    /// E.g. benchmarks measured in only one variant (added or removed).
    pub warnings: Vec<String>,
}

/// What analysis knows of the run besides its samples.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Context {
    /// Each service scenario's measured window (seconds): the scale
    /// `rss_growth` is judged on (see [`GROWTH_METRIC`]).
    pub windows: BTreeMap<String, f64>,
    /// Which metrics of each scenario are judged (hold a sequential run open).
    pub judges: BTreeMap<String, Judge>,
    /// Measurement seconds per round of each scenario, to turn rounds into time.
    pub seconds_per_round: BTreeMap<String, f64>,
    /// What each scenario is, for findings.
    pub scenarios: BTreeMap<String, ScenarioInfo>,
}

/// A scenario as findings describe it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ScenarioInfo {
    /// `http`, `gobench`, ...
    pub kind: String,
    /// What it drove, e.g. "GET /api/dashboard?days=7, 16 connections, 1.5s windows".
    pub what: String,
    /// It scrapes application counters.
    pub counters: bool,
}

/// Comparisons and geomeans for every metric in `samples`, no context.
pub fn analyze(samples: &[Sample], cfg: &CompareConfig) -> Analysis {
    analyze_in(samples, cfg, &Context::default())
}

/// One group of samples: a metric of a benchmark of a scenario.
struct Group<'a> {
    key: MetricKey,
    samples: Vec<&'a Sample>,
}

/// Comparisons (with q-values, verdicts, notes and what open rows need) and
/// geomeans for every metric in `samples`.
pub fn analyze_in(samples: &[Sample], cfg: &CompareConfig, ctx: &Context) -> Analysis {
    let groups = group(samples);
    let by_key: HashMap<&MetricKey, &Group<'_>> = groups.iter().map(|g| (&g.key, g)).collect();
    let mut comparisons = Vec::new();
    let mut effects = Vec::new();
    let mut scaled: Vec<bool> = Vec::new();
    let mut one_sided: Vec<(String, String, Role)> = Vec::new();
    for g in &groups {
        let first = g.samples[0];
        let side = |role: Role| -> BTreeMap<u32, f64> {
            g.samples.iter().filter(|s| s.variant == role).map(|s| (s.round, s.value)).collect()
        };
        let base = side(Role::Baseline);
        let cand = side(Role::Candidate);
        if base.is_empty() || cand.is_empty() {
            // Nothing to compare against: say so rather than drop it silently.
            let only = if base.is_empty() { Role::Candidate } else { Role::Baseline };
            let entry = (first.scenario.clone(), first.benchmark.clone(), only);
            if !one_sided.contains(&entry) {
                one_sided.push(entry);
            }
            continue;
        }
        let base_values: Vec<f64> = base.values().copied().collect();
        let cand_values: Vec<f64> = cand.values().copied().collect();
        let pairs: Vec<(f64, f64)> = base.iter().filter_map(|(round, b)| cand.get(round).map(|c| (*b, *c))).collect();
        // Samples from the same interleaved rounds share the machine's drift:
        // pairing removes it. Fall back to the unpaired test when rounds don't match up.
        let window = ctx.windows.get(&g.key.scenario).copied().filter(|w| *w > 0.0).unwrap_or(1.0);
        let scale = growth_scale(&by_key, &g.key).map(|rss| rss / window).filter(|_| pairs.len() >= 2);
        scaled.push(scale.is_some());
        let cfg = &cfg.for_metric(&g.key.metric);
        let exact = crate::model::is_count(&g.key.metric).then(|| stats::compare_exact(&base_values, &cand_values));
        let effect = if let Some(Some(exact)) = exact {
            exact
        } else if let Some(scale) = scale {
            stats::compare_paired_on_scale(&pairs, scale, cfg)
        } else if pairs.len() >= 2 {
            stats::compare_paired(&pairs, cfg)
        } else {
            stats::compare_unpaired(&base_values, &cand_values, cfg)
        };
        let bs = stats::summarize(&base_values, cfg.confidence);
        let cs = stats::summarize(&cand_values, cfg.confidence);
        let judged = ctx.judges.get(&g.key.scenario).is_some_and(|j| j.judges(&g.key.metric));
        comparisons.push(comparison(first, &bs, &cs, &effect, judged));
        effects.push(effect);
    }

    // One family per run: every p-value is corrected against all the others.
    judge(&mut comparisons, &effects, cfg);
    for ((c, scaled), effect) in comparisons.iter_mut().zip(scaled).zip(&effects) {
        let cfg = &cfg.for_metric(&c.metric);
        c.notes = notes(c, cfg);
        if scaled {
            let window = ctx.windows.get(&c.scenario).copied().unwrap_or(1.0);
            c.notes.insert(0, format!("delta: growth over the {window}s window, in % of baseline RSS"));
        }
        if c.verdict == Verdict::Inconclusive {
            c.unsettled = Some(unsettled(c, effect, cfg, ctx.seconds_per_round.get(&c.scenario).copied()));
        }
    }
    let geomeans = geomeans(&comparisons);
    let noise_floors = noise_floors(&comparisons);
    // A statement run by one variant only is the database section's to
    // show (`sql: …` rows), not a warning.
    let warnings = one_sided
        .into_iter()
        .filter(|(_, benchmark, _)| !benchmark.starts_with(crate::workload::database::STATEMENT_PREFIX))
        .map(|(scenario, benchmark, role)| {
            format!("{scenario}: {benchmark} was measured only in the {role}, so it is not compared")
        })
        .collect();
    Analysis { comparisons, geomeans, noise_floors, warnings }
}

/// Per scenario, in the order compared: the MDEs its comparisons reached.
fn noise_floors(comparisons: &[Comparison]) -> Vec<crate::results::NoiseFloor> {
    let mut order: Vec<&str> = Vec::new();
    for c in comparisons {
        if !order.contains(&c.scenario.as_str()) {
            order.push(&c.scenario);
        }
    }
    order
        .into_iter()
        .map(|scenario| {
            let rows: Vec<&Comparison> = comparisons.iter().filter(|c| c.scenario == scenario).collect();
            let mut mdes: Vec<f64> = rows.iter().filter_map(|c| c.mde_pct).filter(|m| m.is_finite()).collect();
            mdes.sort_by(f64::total_cmp);
            let median = (!mdes.is_empty()).then(|| {
                let n = mdes.len();
                if n % 2 == 1 { mdes[n / 2] } else { 0.5 * (mdes[n / 2 - 1] + mdes[n / 2]) }
            });
            crate::results::NoiseFloor {
                scenario: scenario.to_string(),
                metrics: rows.len(),
                with_mde: mdes.len(),
                inconclusive: rows.iter().filter(|c| c.verdict == Verdict::Inconclusive).count(),
                median_mde_pct: median,
                max_mde_pct: mdes.last().copied(),
            }
        })
        .collect()
}

/// Samples grouped per scenario × benchmark × metric, in first-seen order
/// so tables follow the order benchmarks ran in.
fn group(samples: &[Sample]) -> Vec<Group<'_>> {
    let mut index: HashMap<MetricKey, usize> = HashMap::new();
    let mut groups: Vec<Group<'_>> = Vec::new();
    for s in samples {
        let key = MetricKey::new(&s.scenario, &s.benchmark, &s.metric);
        match index.get(&key) {
            Some(&i) => groups[i].samples.push(s),
            None => {
                index.insert(key.clone(), groups.len());
                groups.push(Group { key, samples: vec![s] });
            }
        }
    }
    groups
}

fn comparison(
    first: &Sample,
    bs: &stats::Summary,
    cs: &stats::Summary,
    effect: &stats::Effect,
    judged: bool,
) -> Comparison {
    Comparison {
        scenario: first.scenario.clone(),
        benchmark: first.benchmark.clone(),
        metric: first.metric.clone(),
        unit: first.unit.clone(),
        better: first.better,
        baseline: SideSummary::from(bs),
        candidate: SideSummary::from(cs),
        delta_pct: effect.delta_pct,
        delta_ci_low_pct: effect.delta_ci_low_pct,
        delta_ci_high_pct: effect.delta_ci_high_pct,
        p_value: effect.p_value,
        q_value: None,
        test: effect.test.as_str().into(),
        mde_pct: effect.mde_pct,
        verdict: Verdict::Inconclusive,
        notes: Vec::new(),
        e_value: effect.e_value,
        in_family: effect.in_family,
        judged,
        unsettled: None,
    }
}

/// Judges a family of comparisons in place (their effects alongside): BH
/// q-values (e-BH under the sequential rule) and verdicts.
pub fn judge(comparisons: &mut [Comparison], effects: &[stats::Effect], cfg: &CompareConfig) {
    let members: Vec<stats::FamilyMember<'_>> = comparisons
        .iter()
        .zip(effects)
        .map(|(c, effect)| stats::FamilyMember {
            baseline_n: c.baseline.n,
            candidate_n: c.candidate.n,
            effect,
            better: c.better,
            threshold: crate::model::is_count(&c.metric).then_some(cfg.count_threshold),
        })
        .collect();
    let judged = stats::judge_family(&members, cfg);
    for (c, (q, verdict)) in comparisons.iter_mut().zip(judged) {
        c.q_value = q;
        c.verdict = verdict;
    }
}

/// Which metrics of a scenario hold a sequential run open.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Judge {
    /// The kind's defaults (see [`judged_by_default`]).
    Kind(String),
    /// The scenario's `judge = [...]`.
    Listed(Vec<String>),
}

impl Judge {
    pub fn judges(&self, metric: &str) -> bool {
        match self {
            Judge::Kind(kind) => judged_by_default(kind, metric),
            Judge::Listed(list) => list.iter().any(|m| m == metric),
        }
    }
}

/// The metrics each kind is judged on unless the scenario says `judge`:
/// the ones a change is about. Tails (p999, max), the generator's own CPU
/// and slopes are reported but never keep the machine busy.
pub fn judged_by_default(kind: &str, metric: &str) -> bool {
    match kind {
        "gobench" | "cargobench" => {
            matches!(metric, "ns/op" | "sec/op" | "B/op" | "allocs/op" | "instructions/op" | "estimated_cycles/op")
        }
        "command" => matches!(metric, "wall_time" | "cpu_time" | "instructions" | "estimated_cycles"),
        "http" => {
            matches!(metric, "throughput" | "latency_p99" | "error_rate" | "cpu_per_request")
                || (is_scraped(metric) && metric.ends_with("_per_request"))
        }
        "websocket" => {
            matches!(
                metric,
                "latency_p99"
                    | "unanswered_rate"
                    | "failed_upgrades"
                    | "unexpected_disconnects"
                    | "messages_received_per_second"
                    | "cpu_utilization"
                    | "rss_mean"
            ) || is_scraped(metric)
        }
        "idle" => matches!(metric, "cpu_utilization" | "rss_mean") || is_scraped(metric),
        _ => false,
    }
}

/// Metrics perfgate measures itself; everything else of a service scenario
/// was scraped from its /metrics (the counters the user asked for).
const BUILT_IN_SERVICE_METRICS: &[&str] = &[
    "throughput",
    "error_rate",
    "cpu_per_request",
    "cpu_utilization",
    "rss_peak",
    "rss_mean",
    "rss_growth",
    "threads",
    "failed_upgrades",
    "unexpected_disconnects",
    "messages_received_per_second",
    "messages_sent_per_second",
    "unanswered_rate",
    // PostgreSQL's statistics (`[target.postgres]`): per statement, and the
    // connections' peak, reported, not judged by default; the totals
    // (`db_statements_per_request`, ...) are judged like counters.
    "db_connections_peak",
    "calls_per_request",
    "calls_per_second",
    "time_per_request",
    "time_per_second",
    "mean_time",
    "rows_per_call",
    "blocks_hit_per_request",
    "blocks_read_per_request",
    "blocks_hit_per_second",
    "blocks_read_per_second",
];

fn is_scraped(metric: &str) -> bool {
    !BUILT_IN_SERVICE_METRICS.contains(&metric)
        && !metric.starts_with("latency_")
        && !metric.starts_with("connect_")
        && !metric.starts_with("generator_")
}

/// Why an inconclusive row is open, and what would settle it.
fn unsettled(c: &Comparison, effect: &stats::Effect, cfg: &CompareConfig, seconds_per_round: Option<f64>) -> Unsettled {
    let n = c.baseline.n.min(c.candidate.n);
    let reached = match (c.delta_ci_low_pct, c.delta_ci_high_pct) {
        (Some(lo), Some(hi)) => format!("{:+.1}% [{lo:+.1}, {hi:+.1}] after {n} rounds", c.delta_pct),
        _ => format!("{:+.1}% after {n} rounds, no bounded interval yet", c.delta_pct),
    };
    let threshold = cfg.threshold.abs() * 100.0;
    let what = match (c.delta_ci_low_pct, c.delta_ci_high_pct) {
        (Some(lo), Some(hi)) if lo > 0.0 || hi < 0.0 => {
            format!("a change, but below the {threshold:.1}% threshold or not significant after correction")
        }
        (Some(_), Some(_)) => format!("neither clear of 0 nor within ±{threshold:.1}%"),
        _ => "too few rounds to bound it".to_string(),
    };
    let (rounds_needed, more_than) = match effect.needs {
        Some(stats::power::Needs::Rounds(k)) => (Some(k.max(n + 1) as u32), None),
        Some(stats::power::Needs::MoreThan(k)) => (None, Some(k as u32)),
        None => (None, None),
    };
    let seconds_needed = rounds_needed.zip(seconds_per_round).map(|(k, s)| k as f64 * s);
    let need = match (rounds_needed, more_than, seconds_needed) {
        (Some(k), _, Some(s)) => format!("~{k} rounds (~{}) would likely settle it", human_seconds(s)),
        (Some(k), _, None) => format!("~{k} rounds would likely settle it"),
        (None, Some(k), _) => {
            format!("more than {k} rounds: its change is too close to the threshold for this noise")
        }
        (None, None, _) => "the rounds it would need cannot be told from these samples".to_string(),
    };
    Unsettled { rounds_needed, more_than, seconds_needed, why: format!("noise: {reached}, {what}; budget: {need}") }
}

/// 95 s → "1m35s", 3 h → "3h0m".
pub fn human_seconds(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// `rss_growth` is a slope whose healthy value is 0, so a ratio to the
/// baseline's slope says nothing (a baseline near 0 turns noise into
/// ±500%). Its change is judged by what it amounts to over the measured
/// window, as a share of the baseline's median RSS: with the default 2%
/// threshold, the candidate must grow (or stop growing) by 2% of the
/// process's memory within the window to count.
pub const GROWTH_METRIC: &str = "rss_growth";
const GROWTH_LEVEL_METRIC: &str = "rss_mean";

fn growth_scale(groups: &HashMap<&MetricKey, &Group<'_>>, key: &MetricKey) -> Option<f64> {
    if key.metric != GROWTH_METRIC {
        return None;
    }
    let level = groups.get(&MetricKey::new(&key.scenario, &key.benchmark, GROWTH_LEVEL_METRIC))?;
    let mut base: Vec<f64> = level.samples.iter().filter(|s| s.variant == Role::Baseline).map(|s| s.value).collect();
    if base.is_empty() {
        return None;
    }
    base.sort_by(f64::total_cmp);
    Some(stats::summarize(&base, 0.95).median).filter(|m| *m > 0.0)
}

/// Warnings that belong next to a row: why a verdict is weak, or why a
/// number should not be trusted at face value.
fn notes(c: &Comparison, cfg: &CompareConfig) -> Vec<String> {
    let mut notes = Vec::new();
    let n = c.baseline.n.min(c.candidate.n);
    if n < 4 {
        notes.push(format!("n={n}<4: no verdict"));
    } else if c.baseline.ci_low.is_none() || c.candidate.ci_low.is_none() {
        notes.push(format!("n={n}: no {:.0}% CI", cfg.confidence * 100.0));
    }
    if crate::model::is_count(&c.metric) {
        notes.push("a count (Valgrind), not time".into());
        let spread = |s: &crate::results::SideSummary| if s.min > 0.0 { s.max / s.min - 1.0 } else { 0.0 };
        let spread = spread(&c.baseline).max(spread(&c.candidate));
        if c.test == stats::Test::Exact.as_str() && spread > 0.0 {
            notes.push(format!("rounds within {:.4}% of each other: judged on their range", spread * 100.0));
        }
    }
    let cv = c.baseline.cv.max(c.candidate.cv);
    if cv > 0.05 {
        notes.push(format!("noisy: CV {:.0}%", cv * 100.0));
    }
    match c.mde_pct {
        Some(mde) if mde > cfg.threshold * 100.0 => notes.push(format!("MDE {mde:.1}%")),
        // A count with no variance is decided exactly: no power to lack.
        None if n >= 4 && cfg.power && c.test != stats::Test::Exact.as_str() => {
            notes.push(format!("n={n}: too few rounds to detect any change"))
        }
        _ => {}
    }
    notes
}

/// Every (benchmark, metric, variant) of every scenario that has samples, in
/// the order first measured, summarized as `compare` summarizes each side:
/// what a run of one variant reports instead of comparisons.
pub fn measured(samples: &[Sample], confidence: f64) -> Vec<crate::results::Measured> {
    let mut order: Vec<(MetricKey, Role, String)> = Vec::new();
    let mut values: HashMap<(MetricKey, Role), Vec<f64>> = HashMap::new();
    for s in samples {
        let key = (MetricKey::new(&s.scenario, &s.benchmark, &s.metric), s.variant);
        let v = values.entry(key.clone()).or_default();
        if v.is_empty() {
            order.push((key.0, key.1, s.unit.clone()));
        }
        v.push(s.value);
    }
    order
        .into_iter()
        .map(|(key, variant, unit)| {
            let v = values.remove(&(key.clone(), variant)).unwrap_or_default();
            crate::results::Measured {
                scenario: key.scenario,
                benchmark: key.benchmark,
                metric: key.metric,
                unit,
                variant,
                summary: (&stats::summarize(&v, confidence)).into(),
            }
        })
        .collect()
}

/// Geometric mean of medians per scenario × metric, over benchmarks where
/// both sides are positive (a geomean of zero or negative values is undefined).
fn geomeans(comparisons: &[Comparison]) -> Vec<Geomean> {
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut groups: HashMap<(String, String, String), Vec<&Comparison>> = HashMap::new();
    for c in comparisons {
        let key = (c.scenario.clone(), c.metric.clone(), c.unit.clone());
        let entry = groups.entry(key.clone()).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(c);
    }
    let mut out = Vec::new();
    for key in order {
        let group = &groups[&key];
        let usable: Vec<&&Comparison> =
            group.iter().filter(|c| c.baseline.median > 0.0 && c.candidate.median > 0.0).collect();
        if usable.len() < 2 {
            continue;
        }
        let base: Vec<f64> = usable.iter().map(|c| c.baseline.median).collect();
        let cand: Vec<f64> = usable.iter().map(|c| c.candidate.median).collect();
        if let (Some(b), Some(c)) = (stats::geomean(&base), stats::geomean(&cand)) {
            out.push(Geomean {
                scenario: key.0,
                metric: key.1,
                unit: key.2,
                benchmarks: usable.len(),
                baseline: b,
                candidate: c,
                delta_pct: (c / b - 1.0) * 100.0,
            });
        }
    }
    out
}

/// Checks a scenario's thresholds per variant against the median of that
/// variant's samples of the metric (the scenario's own benchmark row). A
/// threshold on a metric that was never measured fails with no observation
/// rather than silently passing.
pub fn check_thresholds(
    samples: &[Sample],
    scenario: &str,
    thresholds: &[crate::config::Threshold],
) -> Vec<crate::results::ThresholdCheck> {
    let mut out = Vec::new();
    for role in [Role::Baseline, Role::Candidate] {
        for t in thresholds {
            let matching: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.scenario == scenario && s.variant == role && s.metric == t.metric)
                .collect();
            let unit = matching.first().map(|s| s.unit.clone()).unwrap_or_default();
            let mut values: Vec<f64> = matching.iter().map(|s| s.value).collect();
            let observed = (!values.is_empty()).then(|| {
                values.sort_by(f64::total_cmp);
                stats::summarize(&values, 0.95).median
            });
            out.push(crate::results::ThresholdCheck {
                scenario: scenario.to_string(),
                variant: role,
                expr: t.expr.clone(),
                metric: t.metric.clone(),
                unit,
                observed,
                passed: observed.is_some_and(|v| t.passes(v)),
            });
        }
    }
    out
}

/// Share of the machine's cores the load generator may use before its own
/// queueing shows up in the latencies it measures.
pub const GENERATOR_BUSY: f64 = 0.8;

/// Warnings for service scenarios whose load generator was busy enough to
/// be the bottleneck: its CPU (median over rounds, per variant) against the
/// machine's `cores`. HTTP reports CPU per request (times throughput),
/// WebSocket its utilization directly.
pub fn generator_warnings(samples: &[Sample], cores: usize) -> Vec<String> {
    let mut by: BTreeMap<(&str, Role, &str), Vec<f64>> = BTreeMap::new();
    for s in samples {
        if matches!(s.metric.as_str(), "generator_cpu_per_request" | "generator_cpu_utilization" | "throughput")
            && s.benchmark == s.scenario
        {
            by.entry((s.scenario.as_str(), s.variant, s.metric.as_str())).or_default().push(s.value);
        }
    }
    let median = |v: &Vec<f64>| {
        let mut v = v.clone();
        v.sort_by(f64::total_cmp);
        stats::summarize(&v, 0.95).median
    };
    let mut out = Vec::new();
    let limit = GENERATOR_BUSY * cores.max(1) as f64;
    let keys: Vec<(&str, Role)> =
        by.keys().map(|k| (k.0, k.1)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    for (scenario, role) in keys {
        let get = |m: &str| by.get(&(scenario, role, m)).map(median);
        let used = match (get("generator_cpu_utilization"), get("generator_cpu_per_request"), get("throughput")) {
            (Some(u), _, _) => u,
            (None, Some(per), Some(tp)) => per * tp,
            _ => continue,
        };
        if used >= limit {
            out.push(format!(
                "scenario {scenario:?} ({role}): the load generator used {used:.2} of {cores} cores — it may be the bottleneck and its own queueing is in the latencies; lower the rate or connections, or run the generator elsewhere"
            ));
        }
    }
    out
}

/// True when any comparison regressed: the run's exit code becomes 1.
pub fn any_regression(comparisons: &[Comparison]) -> bool {
    comparisons.iter().any(|c| c.verdict == Verdict::Regressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Better;

    fn sample(benchmark: &str, metric: &str, better: Better, variant: Role, round: u32, value: f64) -> Sample {
        Sample {
            scenario: "s".into(),
            benchmark: benchmark.into(),
            metric: metric.into(),
            unit: metric.into(),
            better,
            variant,
            round,
            value,
        }
    }

    /// Baseline values with ±3% jitter; candidate = baseline × factor per round.
    fn paired(benchmark: &str, metric: &str, better: Better, factor: f64) -> Vec<Sample> {
        let jitter = [1.0, 1.03, 0.98, 1.01, 0.97, 1.02, 0.99, 1.0];
        let mut out = Vec::new();
        for (i, j) in jitter.iter().enumerate() {
            let round = i as u32 + 1;
            out.push(sample(benchmark, metric, better, Role::Baseline, round, 100.0 * j));
            out.push(sample(benchmark, metric, better, Role::Candidate, round, 100.0 * j * factor * (2.0 - j)));
        }
        out
    }

    #[test]
    fn paired_rounds_use_wilcoxon_and_honor_direction() {
        let mut samples = paired("Slow", "ns/op", Better::Lower, 1.3);
        samples.extend(paired("Fast", "MB/s", Better::Higher, 0.7));
        samples.extend(paired("Same", "allocs/op", Better::Lower, 1.0));
        let Analysis { comparisons: cmp, .. } = analyze(&samples, &CompareConfig::default());
        assert_eq!(cmp.len(), 3);
        let slow = &cmp[0];
        assert_eq!(slow.test, "wilcoxon-signed-rank");
        assert_eq!(slow.verdict, Verdict::Regressed, "{slow:?}");
        assert!((slow.delta_pct - 30.0).abs() < 6.0, "{}", slow.delta_pct);
        // All 8 ratios above 1: exact two-sided signed-rank p = 2/2^8.
        assert!((slow.p_value.unwrap() - 2.0 / 256.0).abs() < 1e-12);
        // Higher-is-better metric that dropped 30%: a regression too.
        assert_eq!(cmp[1].verdict, Verdict::Regressed, "{:?}", cmp[1]);
        // Each q-value is at least its p-value (Benjamini–Hochberg).
        for c in &cmp {
            if let (Some(p), Some(q)) = (c.p_value, c.q_value) {
                assert!(q >= p - 1e-15, "{c:?}");
            }
        }
        assert!(any_regression(&cmp));
    }

    #[test]
    fn rounds_that_do_not_pair_fall_back_to_mann_whitney() {
        let mut samples = Vec::new();
        for r in 1..=6 {
            samples.push(sample("B", "ns/op", Better::Lower, Role::Baseline, r, 100.0 + r as f64));
            samples.push(sample("B", "ns/op", Better::Lower, Role::Candidate, r + 10, 60.0 + r as f64));
        }
        let Analysis { comparisons: cmp, .. } = analyze(&samples, &CompareConfig::default());
        assert_eq!(cmp[0].test, "mann-whitney-u");
        // Complete separation of 6 vs 6: exact two-sided U-test p = 2/C(12,6) = 2/924.
        assert!((cmp[0].p_value.unwrap() - 2.0 / 924.0).abs() < 1e-12, "{:?}", cmp[0]);
        assert_eq!(cmp[0].verdict, Verdict::Improved);
    }

    #[test]
    fn too_few_rounds_is_inconclusive_with_a_note() {
        let samples: Vec<Sample> =
            paired("B", "ns/op", Better::Lower, 2.0).into_iter().filter(|s| s.round <= 3).collect();
        let Analysis { comparisons: cmp, .. } = analyze(&samples, &CompareConfig::default());
        assert_eq!(cmp[0].verdict, Verdict::Inconclusive);
        assert!(cmp[0].notes.iter().any(|n| n.contains("<4")), "{:?}", cmp[0].notes);
    }

    #[test]
    fn identical_deterministic_metric_is_unchanged() {
        let Analysis { comparisons: cmp, .. } =
            analyze(&paired("B", "allocs/op", Better::Lower, 1.0), &CompareConfig::default());
        let mut samples = Vec::new();
        for r in 1..=8 {
            samples.push(sample("C", "B/op", Better::Lower, Role::Baseline, r, 512.0));
            samples.push(sample("C", "B/op", Better::Lower, Role::Candidate, r, 512.0));
        }
        let Analysis { comparisons: cmp2, .. } = analyze(&samples, &CompareConfig::default());
        assert_eq!(cmp2[0].verdict, Verdict::Unchanged, "{:?}", cmp2[0]);
        assert_ne!(cmp[0].verdict, Verdict::Improved);
        assert_ne!(cmp[0].verdict, Verdict::Regressed);
    }

    #[test]
    fn geomean_of_medians_per_metric() {
        let mut samples = Vec::new();
        for r in 1..=4 {
            samples.push(sample("A", "ns/op", Better::Lower, Role::Baseline, r, 100.0));
            samples.push(sample("A", "ns/op", Better::Lower, Role::Candidate, r, 50.0));
            samples.push(sample("B", "ns/op", Better::Lower, Role::Baseline, r, 100.0));
            samples.push(sample("B", "ns/op", Better::Lower, Role::Candidate, r, 200.0));
        }
        let geo = analyze(&samples, &CompareConfig::default()).geomeans;
        assert_eq!(geo.len(), 1);
        assert_eq!(geo[0].benchmarks, 2);
        // sqrt(50·200) = 100: halving one and doubling the other cancels out.
        assert!((geo[0].candidate - 100.0).abs() < 1e-9);
        assert!(geo[0].delta_pct.abs() < 1e-9);
    }

    #[test]
    fn benchmarks_on_one_side_only_are_reported() {
        let mut samples = paired("Both", "ns/op", Better::Lower, 1.0);
        samples.push(sample("New", "ns/op", Better::Lower, Role::Candidate, 1, 5.0));
        samples.push(sample("New", "B/op", Better::Lower, Role::Candidate, 1, 5.0));
        let a = analyze(&samples, &CompareConfig::default());
        assert_eq!(a.comparisons.len(), 1);
        assert_eq!(a.warnings, vec!["s: New was measured only in the candidate, so it is not compared".to_string()]);
    }

    #[test]
    fn thresholds_use_each_variants_median() {
        let mut samples = Vec::new();
        for (r, (b, c)) in [(0.040, 0.020), (0.045, 0.022), (0.080, 0.021)].iter().enumerate() {
            samples.push(sample("s", "latency_p99", Better::Lower, Role::Baseline, r as u32 + 1, *b));
            samples.push(sample("s", "latency_p99", Better::Lower, Role::Candidate, r as u32 + 1, *c));
        }
        let t = crate::config::threshold::parse("p99 < 42ms").unwrap();
        let missing = crate::config::threshold::parse("throughput > 10").unwrap();
        let checks = check_thresholds(&samples, "s", &[t, missing]);
        assert_eq!(checks.len(), 4);
        // Baseline median 45 ms fails, candidate median 21 ms passes.
        assert!(!checks[0].passed && (checks[0].observed.unwrap() - 0.045).abs() < 1e-12);
        assert!(!checks[1].passed && checks[1].observed.is_none());
        assert!(checks[2].passed && (checks[2].observed.unwrap() - 0.021).abs() < 1e-12);
    }

    #[test]
    fn rss_growth_is_judged_against_the_rss_level_not_its_own_baseline() {
        let cfg = CompareConfig::default();
        let mib = 1024.0 * 1024.0;
        let with = |base_growth: [f64; 8], cand_growth: [f64; 8]| {
            let mut out = Vec::new();
            for r in 0..8 {
                let round = r as u32 + 1;
                out.push(sample("svc", "rss_mean", Better::Lower, Role::Baseline, round, 30.0 * mib));
                out.push(sample("svc", "rss_mean", Better::Lower, Role::Candidate, round, 30.0 * mib));
                out.push(sample("svc", "rss_growth", Better::Lower, Role::Baseline, round, base_growth[r]));
                out.push(sample("svc", "rss_growth", Better::Lower, Role::Candidate, round, cand_growth[r]));
            }
            let a = analyze(&out, &cfg);
            a.comparisons.into_iter().find(|c| c.metric == "rss_growth").unwrap()
        };
        // Both flat: a baseline of 0 and a candidate of a few KiB/s is a
        // huge ratio but nothing at all next to 30 MiB of RSS.
        let c = with([0.0; 8], [40e3, 52e3, 60e3, 81e3, 70e3, 88e3, 45e3, 52e3]);
        assert_ne!(c.verdict, Verdict::Regressed, "{c:?}");
        assert!(c.delta_pct.abs() < 1.0, "{}", c.delta_pct);
        assert_eq!(c.notes[0], "delta: growth over the 1s window, in % of baseline RSS");
        // A leak of ~1.8 MiB/s fixed: 6% of RSS per second, improved.
        let c =
            with([1.8 * mib, 1.9 * mib, 1.7 * mib, 1.8 * mib, 1.85 * mib, 1.75 * mib, 1.8 * mib, 1.9 * mib], [0.0; 8]);
        assert_eq!(c.verdict, Verdict::Improved, "{c:?}");
        assert!((c.delta_pct + 6.0).abs() < 0.5, "{}", c.delta_pct);
    }

    #[test]
    fn warns_when_the_generator_is_the_bottleneck() {
        let sample = |scenario: &str, variant, metric: &str, value| Sample {
            scenario: scenario.into(),
            benchmark: scenario.into(),
            metric: metric.into(),
            unit: String::new(),
            better: Better::Lower,
            variant,
            round: 1,
            value,
        };
        let samples = vec![
            // 20,000 req/s at 90 µs of generator CPU each: 1.8 cores of 2.
            sample("busy", Role::Baseline, "throughput", 20_000.0),
            sample("busy", Role::Baseline, "generator_cpu_per_request", 90e-6),
            sample("calm", Role::Baseline, "throughput", 200.0),
            sample("calm", Role::Baseline, "generator_cpu_per_request", 100e-6),
            sample("ws", Role::Candidate, "generator_cpu_utilization", 1.7),
        ];
        let w = generator_warnings(&samples, 2);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("\"busy\" (baseline)") && w[0].contains("1.80 of 2 cores"), "{w:?}");
        assert!(w[1].contains("\"ws\" (candidate)"), "{w:?}");
    }
}
