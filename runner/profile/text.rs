//! `perfgate profile top` as text: the same header and rows as
//! `go tool pprof -top`, character for character (times in UTC), so either
//! can be read, and tests can hold one against the other.

use super::measure::{percentage, scaled_label};
use super::top::Top;
use std::fmt::Write;

/// The unit pprof picks for the printed rows (`selectOutputUnit`): the
/// smallest row's unit, unless the total is over 100× larger.
fn output_unit(top: &Top) -> String {
    let unit = &top.unit;
    if top.rows.is_empty() {
        return "minimum".into();
    }
    let min_v = top
        .rows
        .iter()
        .map(|r| if r.flat != 0 { r.flat.abs() } else { r.cum.abs() })
        .filter(|v| *v != 0)
        .min()
        .unwrap_or(top.total);
    let max_v = top.total;
    let unit_of = |v: i64| super::measure::scale(v, unit, "minimum").1;
    let (min_u, max_u) = (unit_of(min_v), unit_of(max_v));
    let mut chosen = min_u.clone();
    if min_u != max_u && (min_v as f64) * 100.0 < max_v as f64 {
        chosen = unit_of(min_v.saturating_mul(100));
    }
    if chosen.is_empty() { unit.clone() } else { chosen }
}

pub fn render(top: &Top) -> String {
    let out_unit = output_unit(top);
    let fmt_value = |v: i64| scaled_label(v, &top.unit, &out_unit);
    let mut s = String::new();
    let h = &top.header;
    if let Some(f) = &h.file {
        let _ = writeln!(s, "File: {}", f.rsplit('/').next().unwrap_or(f));
    }
    if let Some(b) = &h.build_id {
        let _ = writeln!(s, "Build ID: {b}");
    }
    for c in h.comments.iter().filter(|c| !c.starts_with('#')) {
        let _ = writeln!(s, "{c}");
    }
    let _ = writeln!(s, "Type: {}", top.sample_type);
    if h.time_nanos != 0
        && let Ok(ts) = jiff::Timestamp::from_nanosecond(i128::from(h.time_nanos))
    {
        let _ = writeln!(s, "Time: {} UTC", ts.strftime("%Y-%m-%d %H:%M:%S"));
    }
    if h.duration_nanos != 0 {
        let duration = scaled_label(h.duration_nanos, "nanoseconds", "auto");
        let (total_ns, unit) = super::measure::scale(top.total, &top.unit, "nanoseconds");
        let ratio = if unit == "ns" && total_ns != 0.0 {
            format!("({})", percentage(total_ns as i64, h.duration_nanos))
        } else {
            String::new()
        };
        let _ = writeln!(s, "Duration: {duration}, Total samples = {} {ratio}", fmt_value(top.total));
    }
    let shown: i64 = top.rows.iter().map(|r| r.flat).fold(0i64, i64::saturating_add);
    let _ = writeln!(
        s,
        "Showing nodes accounting for {}, {} of {} total",
        fmt_value(shown),
        percentage(shown, top.total).trim(),
        fmt_value(top.total)
    );
    if top.total != 0 {
        if top.dropped > 0 {
            let cut = ((top.total as f64 * top.nodefraction) as i64).abs();
            let plural = if top.dropped == 1 { "node" } else { "nodes" };
            let _ = writeln!(s, "Dropped {} {plural} (cum <= {})", top.dropped, fmt_value(cut));
        }
        if !top.rows.is_empty() && top.rows.len() < top.kept {
            let _ = writeln!(s, "Showing top {} nodes out of {}", top.rows.len(), top.kept);
        }
    }
    let _ = writeln!(s, "{:>10} {:>5}% {:>5}% {:>10} {:>5}%", "flat", "flat", "sum", "cum", "cum");
    let mut running = 0i64;
    for r in &top.rows {
        running = running.saturating_add(r.flat);
        let _ = writeln!(
            s,
            "{:>10} {} {} {:>10} {}  {}{}",
            fmt_value(r.flat),
            percentage(r.flat, top.total),
            percentage(running, top.total),
            fmt_value(r.cum),
            percentage(r.cum, top.total),
            r.function,
            r.inline
        );
    }
    s
}
