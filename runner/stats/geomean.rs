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
        if x.is_nan() || x <= 0.0 {
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

    #[test]
    fn matches_benchstat_summary_row() {
        // The real benchstat on a 7-benchmark file pair prints
        // "geomean 4.682n 6.651n +42.04%": the geomean of old medians, of
        // new medians, and of the per-benchmark ratios (equal medians → 1).
        let old = [3.0, 2.0, 3.0, 4.5, 6.0, 10.05, 10.1];
        let new = [8.0, 7.0, 3.0, 4.5, 7.5, 10.05, 10.1];
        let ratios: Vec<f64> = old.iter().zip(&new).map(|(o, n)| n / o).collect();
        assert_eq!(format!("{:.3}", geomean(&old).unwrap()), "4.682");
        assert_eq!(format!("{:.3}", geomean(&new).unwrap()), "6.651");
        assert_eq!(format!("{:+.2}", (geomean(&ratios).unwrap() - 1.0) * 100.0), "+42.04");
    }
}
