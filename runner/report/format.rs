//! Number formatting shared by the renderers: values scaled to readable units
//! (ns → ms, bytes → MiB), interval half-widths, and deltas with their CI.

use crate::results::Comparison;

/// A value with its unit, scaled for reading: `1.234ms`, `12.5MiB`, `3.2k allocs/op`.
pub fn format_value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return format!("{value} {unit}");
    }
    match unit {
        "s" => format_seconds(value),
        "ns/op" => format!("{}/op", format_seconds(value * 1e-9)),
        "B" => format_bytes(value),
        "B/op" => format!("{}/op", format_bytes(value)),
        "B/s" => format!("{}/s", format_bytes(value)),
        "ratio" => format!("{}%", sig(value * 100.0)),
        "" => format_si(value),
        _ => format!("{} {unit}", format_si(value)),
    }
}

fn format_seconds(s: f64) -> String {
    let a = s.abs();
    if a == 0.0 {
        "0s".into()
    } else if a < 1e-6 {
        format!("{}ns", sig(s * 1e9))
    } else if a < 1e-3 {
        format!("{}µs", sig(s * 1e6))
    } else if a < 1.0 {
        format!("{}ms", sig(s * 1e3))
    } else {
        format!("{}s", sig(s))
    }
}

fn format_bytes(b: f64) -> String {
    let a = b.abs();
    if a < 1024.0 {
        format!("{}B", sig(b))
    } else if a < 1024.0 * 1024.0 {
        format!("{}KiB", sig(b / 1024.0))
    } else if a < 1024.0 * 1024.0 * 1024.0 {
        format!("{}MiB", sig(b / (1024.0 * 1024.0)))
    } else {
        format!("{}GiB", sig(b / (1024.0 * 1024.0 * 1024.0)))
    }
}

fn format_si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", sig(v / 1e9))
    } else if a >= 1e6 {
        format!("{}M", sig(v / 1e6))
    } else if a >= 1e4 {
        format!("{}k", sig(v / 1e3))
    } else {
        sig(v)
    }
}

/// Four significant digits, without trailing noise.
fn sig(v: f64) -> String {
    let a = v.abs();
    if v.fract() == 0.0 && a < 1e4 {
        return format!("{v:.0}");
    }
    let decimals = if a >= 1000.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else {
        3
    };
    format!("{v:.decimals$}")
}

/// `±3%` for a bounded interval (largest distance from the median, as
/// benchstat prints it), `±∞` when the sample is too small for one.
pub fn format_ci_halfwidth(median: f64, lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) if median != 0.0 => {
            let half = (median - lo).abs().max((hi - median).abs()) / median.abs() * 100.0;
            if (0.05..0.5).contains(&half) { format!("±{half:.1}%") } else { format!("±{half:.0}%") }
        }
        (Some(_), Some(_)) => "±0%".into(),
        _ => "±∞".into(),
    }
}

/// `-23.4% [-25.1, -21.0]`, or `+0.3% [±∞]` when the interval is unbounded.
pub fn format_delta(c: &Comparison) -> String {
    let ci = match (c.delta_ci_low_pct, c.delta_ci_high_pct) {
        (Some(lo), Some(hi)) => format!("[{}, {}]", signed(lo, 1), signed(hi, 1)),
        _ => "[±∞]".into(),
    };
    format!("{}% {ci}", signed(c.delta_pct, 1))
}

/// A profile difference (candidate − baseline) in the profile's own unit,
/// scaled as pprof prints it and signed: `-1.52s`, `+10ms`, `0`.
pub fn format_profile_delta(value: f64, unit: &str) -> String {
    let s = crate::profile::measure::scaled_label(value as i64, unit, "minimum");
    if value > 0.0 { format!("+{s}") } else { s }
}

/// `+1.5`, `-0.3`, and `+0.0` for anything that rounds to zero (never `-0.0`).
pub fn signed(v: f64, decimals: usize) -> String {
    let text = format!("{v:+.decimals$}");
    if text[1..].chars().all(|c| c == '0' || c == '.') { format!("+{}", &text[1..]) } else { text }
}

/// How the rounds ended: the design, and for a sequential run why it
/// stopped and after how much measurement.
pub fn stop_sentence(results: &crate::results::Results) -> Option<String> {
    let s = results.stopping.as_ref()?;
    let time = crate::analyze::human_seconds(s.measured_s);
    let rounds = results.run.rounds;
    Some(match (s.rule.as_str(), s.reason.as_str()) {
        ("fixed", reason) => format!("design: a fixed {rounds} round(s) ({reason}), {time} of measurement"),
        (_, "settled") => {
            format!("stopped: every judged comparison settled, after {rounds} round(s) and {time} of measurement")
        }
        (_, "max_time") => format!(
            "stopped: out of time (--max-time {}) after {rounds} round(s); each open row says what it would need",
            crate::analyze::human_seconds(s.max_time_s.unwrap_or(0.0))
        ),
        (_, "max_rounds") => format!(
            "stopped: out of rounds (--max-rounds {}) after {time} of measurement; each open row says what it would need",
            s.max_rounds.unwrap_or(rounds)
        ),
        (_, other) => format!("stopped: {other} after {rounds} round(s) and {time} of measurement"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_units() {
        assert_eq!(format_value(1_234_567.0, "ns/op"), "1.235ms/op");
        assert_eq!(format_value(0.25, "s"), "250ms");
        assert_eq!(format_value(0.2505, "s"), "250.5ms");
        assert_eq!(format_value(3.5 * 1024.0 * 1024.0, "B"), "3.500MiB");
        assert_eq!(format_value(512.0, "B/op"), "512B/op");
        assert_eq!(format_value(12.0, "allocs/op"), "12 allocs/op");
        assert_eq!(format_value(12.5, "allocs/op"), "12.50 allocs/op");
        assert_eq!(format_value(25_000.0, "points/op"), "25k points/op");
    }

    #[test]
    fn signs_never_show_negative_zero() {
        assert_eq!(signed(-0.0, 2), "+0.00");
        assert_eq!(signed(-0.001, 2), "+0.00");
        assert_eq!(signed(-0.5, 1), "-0.5");
        assert_eq!(signed(3.25, 1), "+3.2");
    }

    #[test]
    fn ci_halfwidth_like_benchstat() {
        assert_eq!(format_ci_halfwidth(100.0, Some(97.0), Some(101.0)), "±3%");
        assert_eq!(format_ci_halfwidth(100.0, None, None), "±∞");
        assert_eq!(format_ci_halfwidth(100.0, Some(99.8), Some(100.1)), "±0.2%");
    }
}
