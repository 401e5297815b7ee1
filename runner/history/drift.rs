//! Slow drifts: the newest night judged against the recent history. Each
//! night was measured interleaved against the night before, so chaining
//! those paired changes (a sum of log-ratios, their variances added) gives
//! the change over several nights without comparing absolute numbers taken
//! on different days. Pure functions.

use super::SeriesPoint;
use crate::model::{Better, Verdict};

/// Nights a drift is followed over at most.
pub const MAX_NIGHTS: usize = 7;

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Drift {
    /// Nights chained (each one a paired change against the night before).
    pub nights: usize,
    /// The commit the chain starts from (the night before its first link)
    /// and the newest commit.
    pub from_commit: String,
    pub to_commit: String,
    pub change_pct: f64,
    pub ci_low_pct: f64,
    pub ci_high_pct: f64,
    /// The interval excludes 0, the change is at least the threshold, and it
    /// went the bad way.
    pub regressed: bool,
    /// The same, the good way.
    pub improved: bool,
}

/// The chained change over the newest nights of a series: from the newest
/// point back to (not including) the last night that was itself judged
/// improved or regressed — that change was reported already — and at most
/// `MAX_NIGHTS`. `None` with fewer than two links: a single night is
/// judged by its own paired comparison.
pub fn drift(points: &[SeriesPoint], better: Better, threshold: f64) -> Option<Drift> {
    let mut sum = 0.0;
    let mut variance = 0.0;
    let mut nights = 0;
    let mut from = None;
    for (i, p) in points.iter().enumerate().rev() {
        if nights == MAX_NIGHTS {
            break;
        }
        if matches!(p.verdict, Some(Verdict::Improved | Verdict::Regressed)) {
            break;
        }
        let (Some(d), Some(lo), Some(hi)) = (p.delta_pct, p.delta_ci_low_pct, p.delta_ci_high_pct) else {
            break;
        };
        let ratio = |pct: f64| 1.0 + pct / 100.0;
        if ratio(d) <= 0.0 || ratio(lo) <= 0.0 || ratio(hi) <= 0.0 {
            break;
        }
        sum += ratio(d).ln();
        let se = (ratio(hi).ln() - ratio(lo).ln()) / (2.0 * Z95);
        variance += se * se;
        nights += 1;
        from = i.checked_sub(1);
    }
    if nights < 2 {
        return None;
    }
    let from = from?;
    let se = variance.sqrt();
    let pct = |l: f64| (l.exp() - 1.0) * 100.0;
    let (change, lo, hi) = (pct(sum), pct(sum - Z95 * se), pct(sum + Z95 * se));
    let significant = lo > 0.0 || hi < 0.0;
    let big = change.abs() >= threshold * 100.0;
    let worse = better.is_worse(change);
    Some(Drift {
        nights,
        from_commit: points[from].commit.clone(),
        to_commit: points[points.len() - 1].commit.clone(),
        change_pct: change,
        ci_low_pct: lo,
        ci_high_pct: hi,
        regressed: significant && big && worse,
        improved: significant && big && !worse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(commit: &str, delta: Option<(f64, f64, f64)>, verdict: Option<Verdict>) -> SeriesPoint {
        SeriesPoint {
            run: 0,
            commit: commit.into(),
            started_at: String::new(),
            n: 8,
            median: 1.0,
            ci_low: None,
            ci_high: None,
            delta_pct: delta.map(|d| d.0),
            delta_ci_low_pct: delta.map(|d| d.1),
            delta_ci_high_pct: delta.map(|d| d.2),
            verdict,
        }
    }

    #[test]
    fn small_steps_add_up_to_a_drift() {
        // +1.5% a night, each inconclusive against a 5% threshold.
        let mut points = vec![night("c0", None, None)];
        for i in 1..=5 {
            points.push(night(&format!("c{i}"), Some((1.5, 1.0, 2.0)), Some(Verdict::Unchanged)));
        }
        let d = drift(&points, Better::Lower, 0.05).unwrap();
        assert_eq!((d.nights, d.from_commit.as_str(), d.to_commit.as_str()), (5, "c0", "c5"));
        assert!((d.change_pct - (1.015f64.powi(5) - 1.0) * 100.0).abs() < 1e-9, "{d:?}");
        assert!(d.regressed && !d.improved, "{d:?}");
        // For a higher-is-better metric the same numbers are an improvement.
        assert!(drift(&points, Better::Higher, 0.05).unwrap().improved);
    }

    #[test]
    fn a_reported_change_restarts_the_chain() {
        let points = vec![
            night("c0", None, None),
            night("c1", Some((0.2, -1.0, 1.4)), Some(Verdict::Unchanged)),
            night("c2", Some((30.0, 28.0, 32.0)), Some(Verdict::Regressed)),
            night("c3", Some((0.5, -1.0, 2.0)), Some(Verdict::Unchanged)),
            night("c4", Some((-0.3, -1.5, 1.0)), Some(Verdict::Unchanged)),
        ];
        let d = drift(&points, Better::Lower, 0.02).unwrap();
        assert_eq!((d.nights, d.from_commit.as_str()), (2, "c2"));
        assert!(!d.regressed && !d.improved, "{d:?}");
        // The night right after a reported change has a single link: no drift.
        assert!(drift(&points[..4], Better::Lower, 0.02).is_none());
    }

    #[test]
    fn noise_is_not_a_drift() {
        let mut points = vec![night("c0", None, None)];
        for i in 1..=7 {
            let d = if i % 2 == 0 { 2.0 } else { -2.0 };
            points.push(night(&format!("c{i}"), Some((d, d - 4.0, d + 4.0)), Some(Verdict::Inconclusive)));
        }
        let d = drift(&points, Better::Lower, 0.02).unwrap();
        assert!(!d.regressed && !d.improved, "{d:?}");
    }
}
