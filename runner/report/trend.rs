//! trend.html: a nightly history on one self-contained page — every metric
//! across nights with its interval, change points marked with the commits
//! they are attributed to, drifts, and links to each night's own report.

use super::charts::{BASELINE, CANDIDATE};
use super::format::{format_value, signed};
use crate::history::changepoint::ChangePoint;
use crate::history::drift::Drift;
use crate::history::{Series, StoredRun};
use crate::model::Verdict;
use plotters::prelude::*;
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/trend.html");
const SIZE: (u32, u32) = (540, 200);
/// Up to this many nights each night is drawn as a dot too.
const DOTS_UP_TO: usize = 60;
const GOOD: RGBColor = RGBColor(0x2e, 0x8b, 0x3e);
const BAD: RGBColor = RGBColor(0xc6, 0x28, 0x28);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

/// One metric's history with what detection found in it.
pub struct TrendSeries<'a> {
    pub series: &'a Series,
    pub change_points: Vec<ChangePoint>,
    pub drift: Option<Drift>,
}

pub struct TrendInput<'a> {
    pub scenario_set: &'a str,
    /// Oldest first; the last one is tonight.
    pub runs: &'a [StoredRun],
    /// Per run id, the link to its report.html (relative to trend.html).
    pub report_links: Vec<(i64, String)>,
    pub series: Vec<TrendSeries<'a>>,
    pub threshold_pct: f64,
}

#[derive(Serialize)]
struct NightRow {
    index: usize,
    started_at: String,
    revision: String,
    commit: String,
    baseline: String,
    improved: u32,
    regressed: u32,
    status: String,
    link: String,
}

#[derive(Serialize)]
struct ChangeRow {
    metric: String,
    from_commit: String,
    to_commit: String,
    night: usize,
    before: String,
    after: String,
    magnitude: String,
    p: String,
    class: &'static str,
}

#[derive(Serialize)]
struct MetricCard {
    anchor: String,
    title: String,
    latest: String,
    tonight: String,
    tonight_class: &'static str,
    drift: String,
    drift_class: &'static str,
    svg: String,
}

#[derive(Serialize)]
struct Page {
    title: String,
    scenario_set: String,
    nights: usize,
    newest: String,
    nights_rows: Vec<NightRow>,
    changes: Vec<ChangeRow>,
    drifts: Vec<String>,
    metrics: Vec<MetricCard>,
    threshold: String,
}

fn short(commit: &str) -> String {
    commit.get(..10).unwrap_or(commit).to_string()
}

fn metric_name(s: &Series) -> String {
    if s.benchmark == s.scenario {
        format!("{} · {}", s.scenario, s.metric)
    } else {
        format!("{} · {} · {}", s.scenario, s.benchmark, s.metric)
    }
}

pub fn render(input: &TrendInput<'_>) -> String {
    let night_of: std::collections::HashMap<i64, usize> =
        input.runs.iter().enumerate().map(|(i, r)| (r.id, i + 1)).collect();
    let link_of: std::collections::HashMap<i64, &str> =
        input.report_links.iter().map(|(id, l)| (*id, l.as_str())).collect();
    let nights_rows = input
        .runs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, r)| NightRow {
            index: i + 1,
            started_at: r.started_at.clone(),
            revision: r.revision.clone(),
            commit: short(&r.commit),
            baseline: r.baseline_commit.as_deref().map(short).unwrap_or_else(|| "first night".into()),
            improved: r.improved,
            regressed: r.regressed,
            status: r.status.clone(),
            // Escaped here and inserted as is: the template's escaping of `/`
            // would be correct HTML but unreadable in the page's source.
            link: link_of
                .get(&r.id)
                .and_then(|l| super::confine::relative_link(l))
                .map(super::html::escape)
                .unwrap_or_default(),
        })
        .collect();

    let mut changes = Vec::new();
    let mut drifts = Vec::new();
    let mut cards: Vec<(u8, MetricCard)> = Vec::new();
    for (i, t) in input.series.iter().enumerate() {
        let s = t.series;
        let name = metric_name(s);
        for c in &t.change_points {
            let (Some(after), Some(before)) =
                (s.points.get(c.index), c.index.checked_sub(1).and_then(|j| s.points.get(j)))
            else {
                continue;
            };
            changes.push((
                after.run,
                ChangeRow {
                    metric: name.clone(),
                    from_commit: short(&before.commit),
                    to_commit: short(&after.commit),
                    night: night_of.get(&after.run).copied().unwrap_or(0),
                    before: format_value(c.before, &s.unit),
                    after: format_value(c.after, &s.unit),
                    magnitude: format!("{}%", signed(c.magnitude_pct, 1)),
                    p: format!("{:.1e}", c.p_value),
                    class: if s.better.is_worse(c.magnitude_pct) { "bad" } else { "good" },
                },
            ));
        }
        let (drift, drift_class) = match &t.drift {
            Some(d) if d.regressed || d.improved => {
                let text = format!(
                    "drift over {} nights ({}..{}): {}% [{}, {}]",
                    d.nights,
                    short(&d.from_commit),
                    short(&d.to_commit),
                    signed(d.change_pct, 1),
                    signed(d.ci_low_pct, 1),
                    signed(d.ci_high_pct, 1)
                );
                drifts.push(format!("{name}: {text}"));
                (text, if d.regressed { "bad" } else { "good" })
            }
            _ => (String::new(), ""),
        };
        let last = s.points.last();
        let (tonight, tonight_class) = match last {
            Some(p) => match (p.verdict, p.delta_pct) {
                (Some(v), Some(d)) => {
                    let ci = match (p.delta_ci_low_pct, p.delta_ci_high_pct) {
                        (Some(lo), Some(hi)) => format!(" [{}, {}]", signed(lo, 1), signed(hi, 1)),
                        _ => String::new(),
                    };
                    let class = match v {
                        Verdict::Regressed => "bad",
                        Verdict::Improved => "good",
                        _ => "",
                    };
                    (format!("tonight vs the night before: {}%{ci}, {}", signed(d, 1), v.as_str()), class)
                }
                _ => ("tonight: first night, nothing to compare with".to_string(), ""),
            },
            None => (String::new(), ""),
        };
        // Metrics with something to look at come first.
        let rank = if tonight_class == "bad" || drift_class == "bad" {
            0
        } else if !t.change_points.is_empty() || !drift_class.is_empty() || !tonight_class.is_empty() {
            1
        } else {
            2
        };
        cards.push((
            rank,
            MetricCard {
                anchor: format!("m{i}"),
                title: name,
                latest: last.map(|p| format_value(p.median, &s.unit)).unwrap_or_default(),
                tonight,
                tonight_class,
                drift,
                drift_class,
                svg: chart(s, &t.change_points),
            },
        ));
    }
    cards.sort_by_key(|c| c.0);
    changes.sort_by_key(|c| std::cmp::Reverse(c.0));
    let newest = input
        .runs
        .last()
        .map(|r| format!("{} ({}), {}", r.revision, short(&r.commit), r.started_at))
        .unwrap_or_default();
    let page = Page {
        title: format!("perfgate nightly: {} night(s)", input.runs.len()),
        scenario_set: input.scenario_set.to_string(),
        nights: input.runs.len(),
        newest,
        nights_rows,
        changes: changes.into_iter().map(|c| c.1).collect(),
        drifts,
        metrics: cards.into_iter().map(|c| c.1).collect(),
        threshold: format!("{}%", input.threshold_pct),
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    match env.template_from_str(TEMPLATE).and_then(|t| t.render(minijinja::value::Serde(&page))) {
        Ok(html) => super::confine::with_content_security_policy(&html),
        Err(e) => format!(
            "<!doctype html><meta charset=utf-8><title>perfgate</title><p>trend template error: {}</p>",
            super::html::escape(&format!("{e:#}"))
        ),
    }
}

/// Nightly medians with their intervals (a band), change points as
/// vertical lines labelled with the commit they are attributed to.
fn chart(s: &Series, change_points: &[ChangePoint]) -> String {
    let n = s.points.len();
    let max = s.points.iter().map(|p| p.ci_high.unwrap_or(p.median).abs().max(p.median.abs())).fold(0.0, f64::max);
    let scale = super::charts::axis_scale(&s.unit, max);
    let f = scale.factor;
    let values = s.points.iter().flat_map(|p| [Some(p.median), p.ci_low, p.ci_high]).flatten().map(|v| v * f);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.1 } else { hi.abs().max(1.0) * 0.05 };
    let (y0, y1) = ((lo - pad).min(if lo >= 0.0 { 0.0 } else { lo - pad }), hi + pad);
    let x1 = n.max(2) as f64 + 0.5;
    let mut buf = String::new();
    let result = (|| -> Result<(), String> {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut c = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(26)
            .y_label_area_size(52)
            .build_cartesian_2d(0.5f64..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        let text = ("sans-serif", 11).into_font().color(&RGBColor(0x33, 0x33, 0x33));
        c.configure_mesh()
            .max_light_lines(0)
            .bold_line_style(GRID)
            .x_labels(8)
            .y_labels(5)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| super::charts::tick(*y))
            .x_desc("night")
            .y_desc(scale.suffix.as_str())
            .label_style(text.clone())
            .axis_desc_style(text.clone())
            .draw()
            .map_err(|e| e.to_string())?;
        let band: Vec<(f64, f64)> = s
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| ((i + 1) as f64, p.ci_high.unwrap_or(p.median) * f))
            .chain(s.points.iter().enumerate().rev().map(|(i, p)| ((i + 1) as f64, p.ci_low.unwrap_or(p.median) * f)))
            .collect();
        if band.len() >= 3 {
            c.draw_series(std::iter::once(Polygon::new(band, CANDIDATE.mix(0.18).filled())))
                .map_err(|e| e.to_string())?;
        }
        let line: Vec<(f64, f64)> = s.points.iter().enumerate().map(|(i, p)| ((i + 1) as f64, p.median * f)).collect();
        c.draw_series(LineSeries::new(line.clone(), BASELINE.stroke_width(2))).map_err(|e| e.to_string())?;
        if n <= DOTS_UP_TO {
            c.draw_series(line.iter().map(|&p| Circle::new(p, 3, BASELINE.filled()))).map_err(|e| e.to_string())?;
        }
        for cp in change_points {
            let Some(after) = s.points.get(cp.index) else { continue };
            let x = cp.index as f64 + 0.5;
            let col = if s.better.is_worse(cp.magnitude_pct) { BAD } else { GOOD };
            c.draw_series(LineSeries::new([(x, y0), (x, y1)], col.stroke_width(2))).map_err(|e| e.to_string())?;
            let label = format!("{} {}%", short(&after.commit), signed(cp.magnitude_pct, 0));
            c.draw_series(std::iter::once(Text::new(label, (x, y1), ("sans-serif", 11).into_font().color(&col))))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())
    })();
    match result {
        Ok(()) => buf,
        Err(e) => format!("<p class=\"bad\">chart not drawn: {}</p>", super::html::escape(&e)),
    }
}
