//! The stopping rule of a sequential run (DESIGN §5): after every round,
//! each scenario still running is judged on what it has so far, with the
//! same anytime-valid statistics as the final analysis; a scenario whose
//! judged comparisons are all settled (improved, regressed or unchanged)
//! stops taking rounds. Looking this often is safe because the rule's
//! intervals and e-values hold at any stopping time (see `stats::sequential`).

use crate::analyze::{self, Context};
use crate::model::{Role, Verdict};
use crate::results::{Comparison, Look, Sample};
use crate::stats::{self, CompareConfig};

/// What one look found.
pub struct Found {
    pub look: Look,
    /// Per scenario index: every judged comparison is settled.
    pub settled: Vec<bool>,
}

/// When a look is taken: after this round, this many measurement seconds in.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub round: u32,
    pub elapsed_s: f64,
}

/// Judges the samples so far. `names[i]` is scenario i; `open[i]` whether
/// it still takes rounds (closed scenarios keep their last state).
pub fn look(
    samples: &[Sample],
    names: &[String],
    open: &[bool],
    cfg: &CompareConfig,
    ctx: &Context,
    solo: bool,
    at: At,
) -> Found {
    let At { round, elapsed_s } = at;
    let cfg = CompareConfig { power: false, ..*cfg };
    let rows = if solo { solo_rows(samples, &cfg, ctx) } else { analyze::analyze_in(samples, &cfg, ctx).comparisons };
    let judged: Vec<&Comparison> = rows.iter().filter(|c| c.judged).collect();
    let settled_count = judged.iter().filter(|c| c.verdict.is_settled()).count();
    let settled: Vec<bool> = names
        .iter()
        .map(|name| judged.iter().filter(|c| &c.scenario == name).all(|c| c.verdict.is_settled()))
        .collect();
    let still_open: Vec<&&Comparison> = judged
        .iter()
        .filter(|c| !c.verdict.is_settled() && names.iter().zip(open).any(|(n, o)| *o && *n == c.scenario))
        .collect();
    let widest = still_open.iter().max_by(|a, b| width(a).total_cmp(&width(b))).map(|c| describe(c));
    let rounds_left = still_open
        .iter()
        .filter_map(|c| c.unsettled.as_ref().and_then(|u| u.rounds_needed))
        .max()
        .map(|k| k.saturating_sub(round));
    let open_scenarios =
        names.iter().zip(open).zip(&settled).filter(|((_, o), s)| **o && !**s).map(|((n, _), _)| n.clone()).collect();
    Found {
        look: Look {
            round,
            elapsed_s,
            judged: judged.len(),
            settled: settled_count,
            widest,
            rounds_left,
            open_scenarios,
        },
        settled,
    }
}

/// Width of a comparison's interval in percentage points; unbounded first.
fn width(c: &Comparison) -> f64 {
    match (c.delta_ci_low_pct, c.delta_ci_high_pct) {
        (Some(lo), Some(hi)) => hi - lo,
        _ => f64::INFINITY,
    }
}

fn describe(c: &Comparison) -> String {
    let name = crate::model::MetricKey::new(&c.scenario, &c.benchmark, &c.metric).to_string();
    match (c.delta_ci_low_pct, c.delta_ci_high_pct) {
        (Some(lo), Some(hi)) => format!("{name} {:+.1}% [{lo:+.1}, {hi:+.1}]", c.delta_pct),
        _ => format!("{name} {:+.1}% (no bounded interval yet)", c.delta_pct),
    }
}

/// A run of one variant has nothing to compare: a judged metric is
/// settled once its median is pinned down to within ±threshold (the
/// confidence sequence of the median, relative to it). Rows are shaped as
/// comparisons so the look reads them alike.
fn solo_rows(samples: &[Sample], cfg: &CompareConfig, ctx: &Context) -> Vec<Comparison> {
    let measured = analyze::measured(samples, cfg.confidence);
    measured
        .iter()
        .filter(|m| m.variant == Role::Candidate)
        .map(|m| {
            let mut values: Vec<f64> = samples
                .iter()
                .filter(|s| s.scenario == m.scenario && s.benchmark == m.benchmark && s.metric == m.metric)
                .map(|s| s.value)
                .collect();
            values.sort_by(f64::total_cmp);
            let median = m.summary.median;
            let interval = stats::sequential::median_cs(&values, cfg.alpha)
                .filter(|_| median != 0.0)
                .map(|(lo, hi)| ((lo / median - 1.0) * 100.0, (hi / median - 1.0) * 100.0))
                .map(|(a, b)| (a.min(b), a.max(b)));
            let t = cfg.for_metric(&m.metric).threshold.abs() * 100.0;
            let exact = values.first() == values.last();
            let settled = exact || interval.is_some_and(|(lo, hi)| lo >= -t && hi <= t);
            Comparison {
                scenario: m.scenario.clone(),
                benchmark: m.benchmark.clone(),
                metric: m.metric.clone(),
                unit: m.unit.clone(),
                better: crate::model::Better::Lower,
                baseline: m.summary.clone(),
                candidate: m.summary.clone(),
                delta_pct: 0.0,
                delta_ci_low_pct: interval.map(|i| i.0),
                delta_ci_high_pct: interval.map(|i| i.1),
                p_value: None,
                q_value: None,
                test: String::new(),
                mde_pct: None,
                verdict: if settled { Verdict::Unchanged } else { Verdict::Inconclusive },
                notes: Vec::new(),
                e_value: None,
                in_family: false,
                judged: ctx.judges.get(&m.scenario).is_some_and(|j| j.judges(&m.metric)),
                unsettled: None,
            }
        })
        .collect()
}
