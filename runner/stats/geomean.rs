//! Geometric mean, used for the per-metric summary row over benchmarks (the
//! geomean of per-benchmark ratios), computed the way benchstat does.

use super::special::{exp_like_go, ln_like_go};

/// Geometric mean of `values`; `None` if empty or if any value is ≤ 0 or
/// NaN (benchstat then warns "summaries must be >0 to compute geomean").
///
/// Uses go-moremath's running mean of logs with Go's log and exp, so that
/// `perfgate benchstat` prints benchstat's geomean digits.
pub fn geomean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut mean_log = 0.0;
    for (i, &x) in values.iter().enumerate() {
        if !(x > 0.0) {
            return None;
        }
        mean_log += (ln_like_go(x) - mean_log) / (i + 1) as f64;
    }
    Some(exp_like_go(mean_log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_go_moremath() {
        // Printed by Go: stats.GeoMean([]float64{1.5, 2, 3.7, 11}) and
        // stats.GeoMean([]float64{0.9, 1.1}) (go-moremath f10218a38794).
        assert_eq!(geomean(&[1.5, 2.0, 3.7, 11.0]), Some(3.32413701240623));
        assert_eq!(geomean(&[0.9, 1.1]), Some(0.99498743710662));
        assert_eq!(geomean(&[]), None);
        assert_eq!(geomean(&[1.0, 0.0]), None);
        assert_eq!(geomean(&[1.0, -2.0]), None);
        assert_eq!(geomean(&[f64::NAN]), None);
    }
}
