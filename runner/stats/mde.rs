//! Minimum detectable effect of an unpaired comparison (benchstat's view):
//! the smallest relative change the U test would likely have found at the
//! samples' noise, by the t-approximation. Paired rounds get the MDE of
//! their own rule from `power`.

use super::mann_whitney::min_two_sided_p;
use super::special::normal_inv_cdf;
use super::summary::{mean, stddev};

/// Power at which a change counts as "detectable": found 80% of the time.
const POWER: f64 = 0.8;

/// MDE of an unpaired comparison in percent of the baseline mean:
/// (t₁₋α/₂ + t_power) · √(s_b²/n_b + s_c²/n_c) / |mean_b|, with Welch's
/// degrees of freedom.
///
/// `None` when the U test can never reach p ≤ α at these sizes (its smallest
/// two-sided p is 2 / C(n_b+n_c, n_b): 3 + 3 gives 0.1), when a side has
/// fewer than two values, when the baseline mean is 0 (no scale for a
/// percentage), or for α outside (0, 1).
pub(crate) fn unpaired_mde_pct(baseline: &[f64], candidate: &[f64], alpha: f64) -> Option<f64> {
    let (nb, nc) = (baseline.len(), candidate.len());
    if nb < 2 || nc < 2 || !valid_alpha(alpha) || min_two_sided_p(nb, nc) > alpha {
        return None;
    }
    let mean_b = mean(baseline);
    if mean_b == 0.0 {
        return None;
    }
    let var_b = stddev(baseline, mean_b).powi(2) / nb as f64;
    let var_c = stddev(candidate, mean(candidate)).powi(2) / nc as f64;
    let se = (var_b + var_c).sqrt();
    let welch_df_denominator = var_b * var_b / (nb - 1) as f64 + var_c * var_c / (nc - 1) as f64;
    let df =
        if welch_df_denominator > 0.0 { (var_b + var_c).powi(2) / welch_df_denominator } else { (nb + nc - 2) as f64 };
    Some(t_sum(alpha, df) * se / mean_b.abs() * 100.0)
}

fn valid_alpha(alpha: f64) -> bool {
    alpha > 0.0 && alpha < 1.0
}

fn t_sum(alpha: f64, df: f64) -> f64 {
    t_quantile(1.0 - alpha / 2.0, df) + t_quantile(POWER, df)
}

/// Student-t quantile by the Cornish–Fisher expansion around the normal
/// quantile (Abramowitz & Stegun 26.7.5). Within 0.1% of the exact value
/// for ≥ 4 degrees of freedom, which is all an MDE estimate needs, and it
/// keeps the small-sample penalty the plain normal quantile would hide.
fn t_quantile(p: f64, df: f64) -> f64 {
    let z = normal_inv_cdf(p);
    let df = df.max(1.0);
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + g1 / df + g2 / (df * df) + g3 / df.powi(3) + g4 / df.powi(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_close_to_exact() {
        // scipy.stats.t.ppf(p, df): 2.570582 (0.975, 5), 0.919544 (0.8, 5),
        // 2.228139 (0.975, 10), 2.776445 (0.975, 4). Cornish–Fisher error is
        // largest at small df.
        assert!((t_quantile(0.975, 5.0) - 2.570582).abs() < 1e-3);
        assert!((t_quantile(0.8, 5.0) - 0.919544).abs() < 1e-4);
        assert!((t_quantile(0.975, 10.0) - 2.228139).abs() < 1e-4);
        assert!((t_quantile(0.975, 4.0) - 2.776445).abs() < 2e-3);
    }

    #[test]
    fn unpaired_mde_values() {
        // Both sides 98, 100, 102, 100: mean 100, sd √(8/3), se = √(2·(8/3)/4),
        // Welch df = 6. (t(.975,6) + t(.8,6))·se = 3.8712665 % (Python,
        // scipy.stats.t.ppf).
        let side = [98.0, 100.0, 102.0, 100.0];
        let got = unpaired_mde_pct(&side, &side, 0.05).unwrap();
        assert!((got - 3.8712665).abs() < 2e-3, "{got}");
        // 3 + 3: the U test's best p is 0.1 > 0.05.
        assert_eq!(unpaired_mde_pct(&side[..3], &side[..3], 0.05), None);
        assert_eq!(unpaired_mde_pct(&[0.0, 0.0, 0.0, 0.0], &side, 0.05), None);
        assert_eq!(unpaired_mde_pct(&side, &side, 1.5), None);
    }
}
