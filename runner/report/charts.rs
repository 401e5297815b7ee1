//! Charts for the HTML report, drawn with plotters into SVG strings: per-round
//! values, paired per-round deltas, latency percentile spectra, timelines and
//! geomean bars. Pure functions of numbers from `results.json`; plotters
//! escapes every text it draws.

use crate::model::Better;
use crate::model::Role;
use crate::results::{LatencySpectrum, TimePoint};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

pub const BASELINE: RGBColor = RGBColor(0x3b, 0x6e, 0xa8);
pub const CANDIDATE: RGBColor = RGBColor(0xe0, 0x7a, 0x1f);
const GOOD: RGBColor = RGBColor(0x2e, 0x8b, 0x3e);
const BAD: RGBColor = RGBColor(0xc6, 0x28, 0x28);
const NEUTRAL: RGBColor = RGBColor(0x88, 0x88, 0x88);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const FONT: &str = "sans-serif";

pub const SMALL: (u32, u32) = (260, 170);
pub const WIDE: (u32, u32) = (760, 300);

pub fn color(role: Role) -> RGBColor {
    match role {
        Role::Baseline => BASELINE,
        Role::Candidate => CANDIDATE,
    }
}

/// How values of a unit are shown on an axis: multiplied by `factor`,
/// labelled with `suffix`.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisScale {
    pub factor: f64,
    pub suffix: String,
}

/// Picks a readable scale for values up to `max` of `unit` (seconds to ms,
/// bytes to MiB, ...), consistent with `format::format_value`.
pub fn axis_scale(unit: &str, max: f64) -> AxisScale {
    let a = max.abs();
    let (factor, suffix) = match unit {
        "s" | "ns/op" => {
            let s = if unit == "ns/op" { a * 1e-9 } else { a };
            let base = if unit == "ns/op" { 1e-9 } else { 1.0 };
            let per = if unit == "ns/op" { "/op" } else { "" };
            let (f, name) = if s < 1e-6 {
                (1e9, "ns")
            } else if s < 1e-3 {
                (1e6, "µs")
            } else if s < 1.0 {
                (1e3, "ms")
            } else {
                (1.0, "s")
            };
            (f * base, format!("{name}{per}"))
        }
        "B" | "B/op" | "B/s" => {
            let rest = &unit[1..];
            let (f, name) = if a < 1024.0 {
                (1.0, "B")
            } else if a < 1024.0 * 1024.0 {
                (1.0 / 1024.0, "KiB")
            } else if a < 1024.0 * 1024.0 * 1024.0 {
                (1.0 / (1024.0 * 1024.0), "MiB")
            } else {
                (1.0 / (1024.0 * 1024.0 * 1024.0), "GiB")
            };
            (f, format!("{name}{rest}"))
        }
        "ratio" => (100.0, "%".into()),
        _ => (1.0, unit.to_string()),
    };
    AxisScale { factor, suffix }
}

/// Axis tick text: short, no trailing zeros.
pub(super) fn tick(v: f64) -> String {
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if a >= 1e6 {
        format!("{:.2e}", v)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') && !s.contains('e') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A range covering `values` with a little air, never empty.
fn padded(values: impl Iterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let span = hi - lo;
    let pad = if span > 0.0 { span * 0.08 } else { lo.abs().max(1.0) * 0.05 };
    (lo - pad, hi + pad)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Runs `draw` on a fresh SVG canvas and returns the SVG text; a drawing
/// error becomes a visible note instead of a broken page.
fn svg(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> Result<(), String>) -> String {
    let mut buf = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        let r = root.fill(&WHITE).map_err(|e| e.to_string()).and_then(|_| draw(&root));
        r.and_then(|_| root.present().map_err(|e| e.to_string()))
    };
    match result {
        Ok(()) => buf,
        Err(e) => format!("<p class=\"chart-error\">chart not drawn: {}</p>", super::html::escape(&e)),
    }
}

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&RGBColor(0x33, 0x33, 0x33))
}

type RoundsAxes<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The axes shared by the small per-round charts: rounds 1..=`rounds` on x,
/// `y0..y1` labelled with `y_label` on y.
fn round_axes<'a, 'b>(
    root: &'a Area<'b>,
    rounds: u32,
    (y0, y1): (f64, f64),
    y_desc: &str,
    y_label: &dyn Fn(&f64) -> String,
) -> Result<RoundsAxes<'a, 'b>, String> {
    let mut chart = ChartBuilder::on(root)
        .margin(8)
        .x_label_area_size(26)
        .y_label_area_size(46)
        .build_cartesian_2d(0.5f64..rounds as f64 + 0.5, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .max_light_lines(0)
        .y_labels(6)
        .bold_line_style(GRID)
        .x_labels(rounds.min(10) as usize)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(y_label)
        .x_desc("round")
        .y_desc(y_desc)
        .label_style(text_style(11))
        .axis_desc_style(text_style(11))
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// Per-round values of one metric, both variants, with each side's median
/// (line) and its confidence interval (band).
pub struct RoundsChart<'a> {
    pub unit: &'a str,
    pub baseline: &'a [(u32, f64)],
    pub candidate: &'a [(u32, f64)],
    /// (median, ci_low, ci_high) per side.
    pub baseline_summary: (f64, Option<f64>, Option<f64>),
    pub candidate_summary: (f64, Option<f64>, Option<f64>),
}

pub fn rounds_chart(c: &RoundsChart<'_>) -> String {
    let all = c.baseline.iter().chain(c.candidate).map(|p| p.1);
    let scale = axis_scale(c.unit, all.clone().fold(0.0, |m: f64, v| m.max(v.abs())));
    let rounds = c.baseline.iter().chain(c.candidate).map(|p| p.0).max().unwrap_or(1).max(1);
    let bands = [c.baseline_summary, c.candidate_summary];
    let extra = bands.iter().flat_map(|(m, lo, hi)| [Some(*m), *lo, *hi]).flatten();
    let (y0, y1) = padded(all.chain(extra).map(|v| v * scale.factor), false);
    svg(SMALL, |root| {
        let mut chart = round_axes(root, rounds, (y0, y1), scale.suffix.as_str(), &|y| tick(*y))?;
        for (role, points, (median, lo, hi)) in
            [(Role::Baseline, c.baseline, c.baseline_summary), (Role::Candidate, c.candidate, c.candidate_summary)]
        {
            let col = color(role);
            let x = (0.5, rounds as f64 + 0.5);
            if let (Some(lo), Some(hi)) = (lo, hi) {
                let band = Rectangle::new([(x.0, lo * scale.factor), (x.1, hi * scale.factor)], col.mix(0.12).filled());
                chart.draw_series(std::iter::once(band)).map_err(|e| e.to_string())?;
            }
            let line = [(x.0, median * scale.factor), (x.1, median * scale.factor)];
            chart.draw_series(LineSeries::new(line, col.stroke_width(1))).map_err(|e| e.to_string())?;
            let offset = if role == Role::Baseline { -0.12 } else { 0.12 };
            chart
                .draw_series(
                    points.iter().map(|&(r, v)| Circle::new((r as f64 + offset, v * scale.factor), 3, col.filled())),
                )
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// Paired per-round changes (candidate ÷ baseline − 1, in %), with the
/// reported delta and its interval; bars colored by direction.
pub fn deltas_chart(deltas: &[(u32, f64)], delta_pct: f64, ci: (Option<f64>, Option<f64>), better: Better) -> String {
    let rounds = deltas.iter().map(|d| d.0).max().unwrap_or(1).max(1);
    let extra = [Some(delta_pct), ci.0, ci.1].into_iter().flatten();
    let (y0, y1) = padded(deltas.iter().map(|d| d.1).chain(extra), true);
    let good = |d: f64| better.is_improvement(d);
    svg(SMALL, |root| {
        let mut chart = round_axes(root, rounds, (y0, y1), "candidate vs baseline", &|y| format!("{}%", tick(*y)))?;
        let x = (0.5, rounds as f64 + 0.5);
        if let (Some(lo), Some(hi)) = ci {
            let band = Rectangle::new([(x.0, lo), (x.1, hi)], NEUTRAL.mix(0.18).filled());
            chart.draw_series(std::iter::once(band)).map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(deltas.iter().map(|&(r, d)| {
                let col = if d == 0.0 {
                    NEUTRAL
                } else if good(d) {
                    GOOD
                } else {
                    BAD
                };
                Rectangle::new([(r as f64 - 0.3, 0.0), (r as f64 + 0.3, d)], col.mix(0.85).filled())
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new([(x.0, 0.0), (x.1, 0.0)], BLACK.stroke_width(1)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new([(x.0, delta_pct), (x.1, delta_pct)], BLACK.mix(0.7).stroke_width(2)))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// `-log10(1 - p)`: the HDR percentile axis, where 90%, 99%, 99.9% are
/// evenly spaced.
fn nines(percentile: f64, count: u64) -> f64 {
    let tail = (1.0 - percentile / 100.0).max(1.0 / count.max(10) as f64);
    -tail.log10()
}

/// Latency by percentile (HDR spectrum), baseline against candidate, on a
/// log percentile axis.
pub fn spectrum_chart(spectra: &[&LatencySpectrum]) -> String {
    let max = spectra.iter().flat_map(|s| s.points.iter().map(|p| p.seconds)).fold(0.0, f64::max);
    let scale = axis_scale("s", max);
    let xmax = spectra
        .iter()
        .flat_map(|s| s.points.iter().map(|p| nines(p.percentile, s.count)))
        .fold(1.0f64, f64::max)
        .ceil();
    let (_, y1) = padded(spectra.iter().flat_map(|s| s.points.iter().map(|p| p.seconds * scale.factor)), true);
    svg(WIDE, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..xmax, 0f64..y1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .y_labels(6)
            .bold_line_style(GRID)
            .x_labels(xmax as usize + 1)
            .x_label_formatter(&|x| {
                let p = 100.0 * (1.0 - 10f64.powf(-x));
                let s = format!("{p:.6}");
                format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
            })
            .y_label_formatter(&|y| tick(*y))
            .x_desc("percentile")
            .y_desc(format!("latency ({})", scale.suffix))
            .label_style(text_style(11))
            .axis_desc_style(text_style(11))
            .draw()
            .map_err(|e| e.to_string())?;
        for s in spectra {
            let col = color(s.variant);
            let points: Vec<(f64, f64)> =
                s.points.iter().map(|p| (nines(p.percentile, s.count), p.seconds * scale.factor)).collect();
            chart.draw_series(LineSeries::new(points.clone(), col.stroke_width(2))).map_err(|e| e.to_string())?;
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 2, col.filled())))
                .map_err(|e| e.to_string())?
                .label(format!("{} ({} responses, {} rounds)", s.variant, s.count, s.rounds))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], col.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(GRID)
            .label_font(text_style(11))
            .draw()
            .map_err(|e| e.to_string())
    })
}

/// One series over the measured window per round and variant (every
/// round drawn thin, so outlier rounds stand out).
pub fn timeline_chart(unit: &str, what: &str, series: &[(Role, &[TimePoint])]) -> String {
    let max = series.iter().flat_map(|s| s.1.iter().map(|p| p.value.abs())).fold(0.0, f64::max);
    let scale = axis_scale(unit, max);
    let tmax = series.iter().flat_map(|s| s.1.iter().map(|p| p.t)).fold(0.1, f64::max);
    let (_, y1) = padded(series.iter().flat_map(|s| s.1.iter().map(|p| p.value * scale.factor)), true);
    svg(SMALL, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(26)
            .y_label_area_size(46)
            .build_cartesian_2d(0f64..tmax, 0f64..y1)
            .map_err(|e| e.to_string())?;
        let ydesc = if scale.suffix.is_empty() { what.to_string() } else { format!("{what} ({})", scale.suffix) };
        chart
            .configure_mesh()
            .max_light_lines(0)
            .y_labels(6)
            .bold_line_style(GRID)
            .x_label_formatter(&|x| format!("{}s", tick(*x)))
            .y_label_formatter(&|y| tick(*y))
            .x_desc("time in window")
            .y_desc(ydesc)
            .label_style(text_style(11))
            .axis_desc_style(text_style(11))
            .draw()
            .map_err(|e| e.to_string())?;
        for (role, points) in series {
            let col = color(*role);
            chart
                .draw_series(LineSeries::new(
                    points.iter().map(|p| (p.t, p.value * scale.factor)),
                    col.mix(0.55).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// One bar per metric: the geomean change in %, green when it moved the
/// good way.
pub fn geomean_chart(bars: &[(String, f64, Better)]) -> String {
    let n = bars.len().max(1);
    let height = (40 + 26 * n as u32).max(90);
    let (x0, x1) = padded(bars.iter().map(|b| b.1), true);
    svg((WIDE.0, height), |root| {
        let (labels, plot) = root.split_horizontally(200);
        let mut chart = ChartBuilder::on(&plot)
            .margin(8)
            .x_label_area_size(24)
            .build_cartesian_2d(x0..x1, 0f64..n as f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .max_light_lines(0)
            .y_labels(6)
            .bold_line_style(GRID)
            .x_label_formatter(&|x| format!("{}%", tick(*x)))
            .label_style(text_style(11))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, d, better))| {
                let good = better.is_improvement(*d);
                let col = if *d == 0.0 {
                    NEUTRAL
                } else if good {
                    GOOD
                } else {
                    BAD
                };
                let y = (n - 1 - i) as f64;
                Rectangle::new([(0.0, y + 0.2), (*d, y + 0.8)], col.mix(0.85).filled())
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (0.0, n as f64)], BLACK.stroke_width(1)))
            .map_err(|e| e.to_string())?;
        // Labels in their own column, aligned with the bars (the plot area
        // starts 8 px down and its height excludes the x labels).
        let plot_height = height as f64 - 8.0 - 8.0 - 24.0;
        for (i, (name, d, _)) in bars.iter().enumerate() {
            let y = 8.0 + plot_height * (i as f64 + 0.5) / n as f64;
            let text = format!("{name}  {}%", super::format::signed(*d, 1));
            labels.draw(&Text::new(text, (6, y as i32 - 6), text_style(12))).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_follow_units() {
        assert_eq!(axis_scale("s", 0.25), AxisScale { factor: 1e3, suffix: "ms".into() });
        let ns = axis_scale("ns/op", 2_500_000.0);
        assert!((ns.factor - 1e-6).abs() < 1e-18 && ns.suffix == "ms/op", "{ns:?}");
        assert_eq!(axis_scale("B", 20.0 * 1024.0 * 1024.0).suffix, "MiB");
        assert_eq!(axis_scale("req/s", 70.0), AxisScale { factor: 1.0, suffix: "req/s".into() });
    }

    #[test]
    fn charts_are_svg_and_escape_text() {
        let base = [(1, 0.010), (2, 0.011), (3, 0.0105)];
        let cand = [(1, 0.005), (2, 0.0052), (3, 0.0049)];
        let svg = rounds_chart(&RoundsChart {
            unit: "s",
            baseline: &base,
            candidate: &cand,
            baseline_summary: (0.0105, Some(0.010), Some(0.011)),
            candidate_summary: (0.005, None, None),
        });
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<circle"), "{svg}");
        let bars = geomean_chart(&[("<b>x</b>".into(), -12.0, Better::Lower)]);
        assert!(bars.contains("&lt;b&gt;x&lt;/b&gt;"), "{bars}");
        assert!(!bars.contains("<b>"), "{bars}");
    }

    #[test]
    fn nines_axis() {
        assert!((nines(90.0, 1000) - 1.0).abs() < 1e-9);
        assert!((nines(99.9, 100_000) - 3.0).abs() < 1e-9);
        // The maximum sits one response beyond the last full nine.
        assert!((nines(100.0, 1000) - 3.0).abs() < 1e-9);
    }
}
