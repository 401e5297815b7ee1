//! The Wilcoxon signed-rank test for paired rounds: is the per-round
//! difference (perfgate feeds it log ratios) centred on zero? Exact for small
//! samples, normal approximation beyond.

use super::special::normal_cdf;

/// Above this many non-zero differences the normal approximation is used.
/// At 50 the exact table has 2⁵⁰ outcomes (still exact in u64) and the
/// approximation's error is far below anything a verdict depends on.
const EXACT_LIMIT: usize = 50;

/// Two-sided p-value of the Wilcoxon signed-rank test that `diffs` are
/// symmetric about zero.
///
/// Zero differences are dropped before ranking (Wilcoxon's original method,
/// scipy's default `zero_method="wilcox"`). A round where baseline and
/// candidate measured identically says nothing about the direction of a
/// change; Pratt's alternative keeps zeros in the ranking, which lets a pile
/// of identical rounds shift the ranks of the informative ones, and makes the
/// test non-monotone in the data. NaN differences are dropped too.
///
/// Tied magnitudes get mid-ranks. For up to 50 non-zero differences the
/// p-value comes from the exact permutation distribution of the positive
/// rank sum given those mid-ranks (all 2ⁿ sign patterns equally likely),
/// counted by dynamic programming over doubled ranks so mid-ranks stay
/// integers. Beyond that: the normal approximation with tie correction
/// and a continuity correction of ½. p = 1 when no non-zero difference is
/// left.
pub fn wilcoxon_signed_rank(diffs: &[f64]) -> f64 {
    let mut nonzero: Vec<f64> = diffs.iter().copied().filter(|d| *d != 0.0 && !d.is_nan()).collect();
    let n = nonzero.len();
    if n == 0 {
        return 1.0;
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));

    // Doubled mid-ranks: positions start..end (0-based, end exclusive) share
    // rank (start + 1 + end) / 2, so twice that is an integer.
    let mut doubled_ranks = Vec::with_capacity(n);
    let mut tie_sizes = Vec::new();
    let mut positive_sum = 0usize; // doubled T+
    let mut start = 0;
    while start < n {
        let magnitude = nonzero[start].abs();
        let mut end = start + 1;
        while end < n && nonzero[end].abs() == magnitude {
            end += 1;
        }
        let doubled = start + 1 + end;
        for d in &nonzero[start..end] {
            doubled_ranks.push(doubled);
            if *d > 0.0 {
                positive_sum += doubled;
            }
        }
        tie_sizes.push(end - start);
        start = end;
    }

    if n <= EXACT_LIMIT { exact_p(&doubled_ranks, positive_sum) } else { normal_p(n, &tie_sizes, positive_sum) }
}

fn exact_p(doubled_ranks: &[usize], positive_sum: usize) -> f64 {
    let total: usize = doubled_ranks.iter().sum();
    // counts[s] = number of sign patterns whose doubled T+ equals s.
    let mut counts = vec![0u64; total + 1];
    counts[0] = 1;
    let mut reachable = 0;
    for &rank in doubled_ranks {
        for s in (0..=reachable).rev() {
            counts[s + rank] += counts[s];
        }
        reachable += rank;
    }
    let at_most: u64 = counts[..=positive_sum].iter().sum();
    let at_least: u64 = counts[positive_sum..].iter().sum();
    let patterns = (1u64 << doubled_ranks.len()) as f64;
    (2.0 * at_most.min(at_least) as f64 / patterns).min(1.0)
}

/// Twice the smallest positive rank sum T+ that is significant at `alpha`
/// (two-sided) for n non-zero values without ties: T+ ≥ c/2 or T− ≥ c/2.
/// Exact up to 50 values, the normal approximation (with continuity
/// correction) beyond. `None` when no sign pattern reaches `alpha`.
pub(crate) fn critical_doubled_sum(n: usize, alpha: f64) -> Option<usize> {
    if n == 0 || !(alpha > 0.0 && alpha < 1.0) {
        return None;
    }
    let total = n * (n + 1); // doubled
    if n <= EXACT_LIMIT {
        let ranks: Vec<usize> = (1..=n).map(|r| 2 * r).collect();
        let mut counts = vec![0u64; total + 1];
        counts[0] = 1;
        let mut reachable = 0;
        for &rank in &ranks {
            for s in (0..=reachable).rev() {
                counts[s + rank] += counts[s];
            }
            reachable += rank;
        }
        let patterns = (1u64 << n) as f64;
        // Smallest c with 2·P(T ≥ c) ≤ alpha.
        let mut upper = 0u64;
        let mut critical = None;
        for c in (0..=total).rev().step_by(2) {
            upper += counts[c];
            if 2.0 * upper as f64 / patterns <= alpha { critical = Some(c) } else { break }
        }
        return critical;
    }
    let n_f = n as f64;
    let mean = n_f * (n_f + 1.0) / 4.0;
    let sd = (n_f * (n_f + 1.0) * (2.0 * n_f + 1.0) / 24.0).sqrt();
    let z = super::special::normal_inv_cdf(1.0 - alpha / 2.0);
    Some((2.0 * (mean + z * sd + 0.5)).ceil() as usize)
}

/// Doubled positive rank sum and doubled total of the non-zero values in
/// `values` (mid-ranks for tied magnitudes), the statistic of
/// [`wilcoxon_signed_rank`].
pub(crate) fn doubled_rank_sums(values: &[f64]) -> (usize, usize) {
    let mut nonzero: Vec<f64> = values.iter().copied().filter(|d| *d != 0.0 && !d.is_nan()).collect();
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    let n = nonzero.len();
    let (mut plus, mut start) = (0, 0);
    while start < n {
        let mut end = start + 1;
        while end < n && nonzero[end].abs() == nonzero[start].abs() {
            end += 1;
        }
        plus += (start + 1 + end) * nonzero[start..end].iter().filter(|d| **d > 0.0).count();
        start = end;
    }
    (plus, n * (n + 1))
}

fn normal_p(n: usize, tie_sizes: &[usize], positive_sum: usize) -> f64 {
    let n_f = n as f64;
    let t_plus = positive_sum as f64 / 2.0;
    let mean = n_f * (n_f + 1.0) / 4.0;
    let tie_term: f64 = tie_sizes.iter().map(|&t| (t * t * t - t) as f64).sum();
    let variance = n_f * (n_f + 1.0) * (2.0 * n_f + 1.0) / 24.0 - tie_term / 48.0;
    if variance <= 0.0 {
        return 1.0;
    }
    let distance = ((t_plus - mean).abs() - 0.5).max(0.0);
    let z = distance / variance.sqrt();
    // Both tails via the lower one, so tiny p-values keep their precision.
    (2.0 * normal_cdf(-z, 0.0, 1.0)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64) {
        assert!((got - want).abs() <= 1e-12 * want.max(1e-300), "got {got}, want {want}");
    }

    #[test]
    fn all_positive_small_samples() {
        // Exact: only one of 2^n sign patterns is this extreme in each
        // direction, p = 2 / 2^n. n = 8 → 0.0078125 (scipy.stats.wilcoxon
        // with method="exact" agrees).
        assert_eq!(wilcoxon_signed_rank(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]), 0.0078125);
        assert_eq!(wilcoxon_signed_rank(&[0.1, 0.2, 0.3, 0.4, 0.5]), 0.0625);
        assert_eq!(wilcoxon_signed_rank(&[-3.0]), 1.0);
    }

    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is a measurement in the data set
    fn exact_mixed_signs() {
        // The depression-scale pairs from R's ?wilcox.test example;
        // scipy 1.17: wilcoxon([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30],
        //                      [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29],
        //                      method="exact").pvalue == 0.0390625
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
        let d: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        close(wilcoxon_signed_rank(&d), 0.0390625);
    }

    #[test]
    fn zeros_are_dropped_and_ties_get_mid_ranks() {
        // Non-zero diffs after dropping: [1, -1, 2, 2, 2, 3, 4] (n = 7).
        // Mid-ranks of |d|: 1.5, 1.5, 4, 4, 4, 6, 7; T+ = 26.5 of 28. Exact
        // conditional distribution by enumerating the 128 sign patterns in
        // Python (scipy.stats.rankdata for the mid-ranks): 3 patterns reach
        // T+ >= 26.5, two-sided p = 6/128 = 0.046875.
        let d = [0.0, 1.0, -1.0, 2.0, 2.0, 0.0, 2.0, 3.0, 4.0];
        close(wilcoxon_signed_rank(&d), 0.046875);
        assert_eq!(wilcoxon_signed_rank(&[0.0, 0.0, 0.0]), 1.0);
        assert_eq!(wilcoxon_signed_rank(&[]), 1.0);
    }

    #[test]
    fn exact_up_to_fifty() {
        // scipy 1.17, wilcoxon(d, method="exact").pvalue with
        // d = [(-i if i % 3 == 0 else i) * 0.5 for i in range(1, 51)] and the
        // same with i % 4 over range(1, 13).
        let d: Vec<f64> = (1..=50).map(|i| if i % 3 == 0 { -i as f64 } else { i as f64 } * 0.5).collect();
        close(wilcoxon_signed_rank(&d), 0.02616696817119646);
        let d: Vec<f64> = (1..=12).map(|i| if i % 4 == 0 { -i as f64 } else { i as f64 } * 0.5).collect();
        close(wilcoxon_signed_rank(&d), 0.26611328125);
    }

    #[test]
    fn normal_approximation_with_ties() {
        // The depression-scale pairs from R's ?wilcox.test example;
        // scipy 1.17: wilcoxon(d, method="approx", correction=True,
        // zero_method="wilcox").pvalue, which applies the same tie and
        // continuity corrections. 62 and 75 non-zero values, many ties.
        let d: Vec<f64> = (0..64).map(|i| ((i * 37) % 23 - 9) as f64 / 4.0).collect();
        close_approx(wilcoxon_signed_rank(&d), 0.04115168797310925);
        let d: Vec<f64> = (0..80).map(|i| ((i * 13) % 17 - 5) as f64 / 8.0).collect();
        close_approx(wilcoxon_signed_rank(&d), 5.635772952976179e-06);
    }

    #[test]
    fn critical_values_agree_with_the_test() {
        // At each n, the critical sum is significant and one less is not.
        for n in [6usize, 8, 10, 20, 50] {
            let c = critical_doubled_sum(n, 0.05).unwrap();
            // A sample whose positives carry exactly doubled rank sum s:
            // values 1..n, the largest ones positive until s is reached.
            let p_at = |s: usize| -> f64 {
                let mut left = s;
                let mut d: Vec<f64> = Vec::new();
                for r in (1..=n).rev() {
                    if 2 * r <= left {
                        left -= 2 * r;
                        d.push(r as f64);
                    } else {
                        d.push(-(r as f64));
                    }
                }
                assert_eq!(left, 0, "n={n} s={s}");
                wilcoxon_signed_rank(&d)
            };
            assert!(p_at(c) <= 0.05, "n={n}: c={c} p={}", p_at(c));
            assert!(p_at(c - 2) > 0.05, "n={n}: c-2 p={}", p_at(c - 2));
        }
        assert_eq!(critical_doubled_sum(5, 0.05), None);
        assert_eq!(doubled_rank_sums(&[1.0, -2.0, 0.0, 2.0]), (2 + 5, 12));
    }

    fn close_approx(got: f64, want: f64) {
        // scipy's normal CDF and ours differ in the last digits only.
        assert!((got - want).abs() <= 1e-10 * want, "got {got}, want {want}");
    }
}
