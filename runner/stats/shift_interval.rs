//! Distribution-free confidence interval for the shift between two unpaired
//! samples (Hodges–Lehmann / Moses): order statistics of all pairwise
//! differences, with ranks taken from the Mann–Whitney U distribution.

use super::mann_whitney::u_null_counts;
use super::special::{choose_exact, normal_inv_cdf};

/// Sizes up to which the critical rank comes from the exact U distribution.
const EXACT_LIMIT: usize = 50;

/// Confidence interval for the shift Δ in `candidate ≈ baseline + Δ`: the
/// k-th smallest and k-th largest of the n_b·n_c differences
/// `candidate[j] − baseline[i]`, where k is the largest integer with
/// P(U ≤ k − 1) ≤ (1 − confidence)/2 under the null distribution of U.
///
/// `None` when k = 0, i.e. the samples are too small for any bounded interval
/// at this confidence (e.g. 3 + 3 at 95%: the most extreme U already has
/// probability 1/20 > 0.025).
///
/// The critical k uses the no-ties distribution even when values tie, as
/// R's `wilcox.test(conf.int = TRUE)` does; ties only make pairwise
/// differences coincide, and the interval stays a valid order statistic.
/// For sizes above 50 the normal approximation with continuity correction
/// gives k.
pub(crate) fn shift_interval(baseline: &[f64], candidate: &[f64], confidence: f64) -> Option<(f64, f64)> {
    let (m, n) = (baseline.len(), candidate.len());
    if m == 0 || n == 0 {
        return None;
    }
    let k = critical_rank(m, n, confidence);
    if k == 0 {
        return None;
    }
    let (x, y) = (sorted(baseline), sorted(candidate));
    let pairs = m * n;
    // `+ 0.0` turns a −0.0 bound into 0.0, which reads better in reports.
    let low = kth_difference(&x, &y, k)? + 0.0;
    let high = kth_difference(&x, &y, pairs + 1 - k)? + 0.0;
    Some((low, high))
}

/// The Hodges–Lehmann estimate of the shift: the median of all pairwise
/// differences `candidate[j] − baseline[i]`, the point estimate that goes
/// with [`shift_interval`] (it always lies inside it).
pub(crate) fn shift_estimate(baseline: &[f64], candidate: &[f64]) -> Option<f64> {
    let (m, n) = (baseline.len(), candidate.len());
    if m == 0 || n == 0 {
        return None;
    }
    let (x, y) = (sorted(baseline), sorted(candidate));
    let pairs = m * n;
    let low = kth_difference(&x, &y, pairs.div_ceil(2))?;
    let high = kth_difference(&x, &y, pairs / 2 + 1)?;
    Some(0.5 * (low + high) + 0.0)
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Largest k with P(U ≤ k − 1) ≤ (1 − confidence)/2; 0 if none.
fn critical_rank(m: usize, n: usize, confidence: f64) -> usize {
    if !(confidence > 0.0 && confidence < 1.0) {
        return 0;
    }
    let tail = (1.0 - confidence) / 2.0;
    let half = m * n / 2;
    if m <= EXACT_LIMIT && n <= EXACT_LIMIT {
        let Some(total) = choose_exact(m + n, m) else {
            return 0;
        };
        let counts = u_null_counts(m, n, &vec![1; m + n], 2 * half);
        let mut cumulative = 0u128;
        let mut k = 0;
        for u in 0..=half {
            cumulative += counts[2 * u];
            if cumulative as f64 / total as f64 > tail {
                break;
            }
            k = u + 1;
        }
        return k.min(half);
    }
    let mean = (m * n) as f64 / 2.0;
    let sd = ((m * n) as f64 * (m + n + 1) as f64 / 12.0).sqrt();
    let k = (mean + 0.5 + normal_inv_cdf(tail) * sd).floor();
    if k <= 0.0 { 0 } else { (k as usize).min(half) }
}

/// The k-th smallest (1-based) of all differences `y[j] − x[i]`, both sorted
/// ascending, without materializing the m·n differences: binary search over
/// the bit patterns of candidate values, counting differences ≤ v with two
/// pointers. Floating-point subtraction is monotone in each argument, so the
/// count is exactly that of the computed differences.
fn kth_difference(x: &[f64], y: &[f64], k: usize) -> Option<f64> {
    let (m, n) = (x.len(), y.len());
    if k == 0 || k > m * n {
        return None;
    }
    let count_at_most = |v: f64| -> usize {
        let mut count = 0;
        let mut first_ok = 0; // x[first_ok..] satisfy y[j] − x[i] ≤ v
        for &yj in y {
            while first_ok < m && yj - x[first_ok] > v {
                first_ok += 1;
            }
            count += m - first_ok;
        }
        count
    };
    let smallest = y[0] - x[m - 1];
    let largest = y[n - 1] - x[0];
    if smallest.is_nan() || largest.is_nan() {
        return None;
    }
    let (mut lo, mut hi) = (order_key(smallest), order_key(largest));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if count_at_most(from_order_key(mid)) >= k {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(from_order_key(lo))
}

/// Maps floats to integers preserving their order (the IEEE total order).
fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | 1 << 63 }
}

fn from_order_key(key: u64) -> f64 {
    if key >> 63 == 1 { f64::from_bits(key & !(1 << 63)) } else { f64::from_bits(!key) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_kth(x: &[f64], y: &[f64], k: usize) -> f64 {
        let mut d: Vec<f64> = y.iter().flat_map(|b| x.iter().map(move |a| b - a)).collect();
        d.sort_by(f64::total_cmp);
        d[k - 1]
    }

    #[test]
    fn kth_difference_matches_sorting_all_pairs() {
        let x = [3.1, -2.0, 7.5, 0.25, 0.25, 10.0];
        let y = [1.0, 4.4, -6.0, 0.25, 2.0];
        let (mut xs, mut ys) = (x.to_vec(), y.to_vec());
        xs.sort_by(f64::total_cmp);
        ys.sort_by(f64::total_cmp);
        for k in 1..=30 {
            assert_eq!(kth_difference(&xs, &ys, k), Some(brute_kth(&x, &y, k)), "k = {k}");
        }
        assert_eq!(kth_difference(&xs, &ys, 31), None);
    }

    #[test]
    fn critical_ranks() {
        // Expected k from the exact U distribution counted in Python with
        // Mann & Whitney's recursion f(m,n,u) = f(m-1,n,u-n) + f(m,n-1,u);
        // they match printed two-sided 5% tables of critical U (= k − 1):
        // 10+10 → 23, 5+7 → 5.
        assert_eq!(critical_rank(4, 4, 0.95), 1); // P(U<=0) = 1/70 <= .025
        assert_eq!(critical_rank(3, 3, 0.95), 0); // P(U<=0) = 1/20 > .025
        assert_eq!(critical_rank(10, 10, 0.95), 24);
        assert_eq!(critical_rank(5, 7, 0.95), 6);
        assert_eq!(critical_rank(20, 30, 0.95), 201);
        assert_eq!(critical_rank(50, 50, 0.95), 966);
        // Normal approximation beyond 50; the exact Python count gives the
        // same k for these sizes (60+60 → 1427, 51+80 → 1625).
        assert_eq!(critical_rank(60, 60, 0.95), 1427);
        assert_eq!(critical_rank(51, 80, 0.95), 1625);
        assert_eq!(critical_rank(5, 5, 1.0), 0);
    }

    #[test]
    fn interval_bounds() {
        // 4+4 at 95%: k = 1, so the interval spans the smallest to largest
        // pairwise difference: [10 − 4, 13 − 1] = [6, 12].
        let base = [1.0, 2.0, 3.0, 4.0];
        let cand = [10.0, 11.0, 12.0, 13.0];
        assert_eq!(shift_interval(&base, &cand, 0.95), Some((6.0, 12.0)));
        assert_eq!(shift_interval(&base[..3], &cand[..3], 0.95), None);
        assert_eq!(shift_interval(&[], &cand, 0.95), None);
        // Identical samples: every difference of equal values is 0 but the
        // extremes are not; k = 1 → [1 − 4, 4 − 1].
        assert_eq!(shift_interval(&base, &base, 0.95), Some((-3.0, 3.0)));
    }
}
