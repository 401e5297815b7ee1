//! The Mann–Whitney U test for unpaired samples, reproducing benchstat's
//! p-values (go-moremath `MannWhitneyUTest`, two-sided), and the exact null
//! distribution of U that the unpaired effect interval also draws on.

use super::special::{choose_exact, normal_cdf};

/// Largest per-side n for which the exact U distribution is used without
/// ties, and with ties; beyond that benchstat switches to the normal
/// approximation (go-moremath's `MannWhitneyExactLimit`/`…TiesExactLimit`).
const EXACT_LIMIT: usize = 50;
const EXACT_LIMIT_WITH_TIES: usize = 25;

/// Two-sided p-value of the Mann–Whitney U test, exactly as benchstat
/// computes it:
///
/// - exact distribution of U (with ties, Klotz's conditional distribution)
///   when both sides have ≤ 50 values, or ≤ 25 if any value is tied;
/// - otherwise the normal approximation with tie and continuity corrections;
/// - p = 1 when U sits at the centre of its distribution, when every value
///   is equal (benchstat: "all samples are equal", reported as p = 1), and
///   when a side is empty (benchstat reports p = 1 on that error too).
///
/// n < 4 per side is allowed; the p-value then simply cannot get small (two
/// samples of 3 never go below p = 0.1), which [`u_test_min_samples`] explains.
///
/// With ties the U distribution is not symmetric, and benchstat's
/// "twice the smaller tail" can exceed 1 (1,1,1,2 vs 1,2 gives p = 1.2;
/// benchstat prints "p=1.200"). This function returns that value unchanged
/// so `perfgate benchstat` can reproduce it; [`compare_unpaired`] caps it
/// at 1 for results.
///
/// [`compare_unpaired`]: super::compare_unpaired
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let ranks = RankSums::new(a, b);
    let u1 = ranks.r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let u2 = (n1 * n2) as f64 - u1;
    let u_small = u1.min(u2);
    let has_ties = ranks.ties.iter().any(|&t| t > 1);
    let limit = if has_ties { EXACT_LIMIT_WITH_TIES } else { EXACT_LIMIT };

    if n1 <= limit && n2 <= limit {
        if ranks.ties.len() == 1 || u1 == u2 {
            // All values equal, or U at the centre: the whole distribution
            // lies on or beyond U in both directions.
            return 1.0;
        }
        let max_two_u = (2.0 * u_small) as usize;
        let counts = u_null_counts(n1, n2, &ranks.ties, max_two_u);
        let mut below: u128 = counts.iter().sum();
        below += two_group_quirk(n1, &ranks.ties, max_two_u);
        let total = choose_exact(n1 + n2, n1).unwrap_or(u128::MAX);
        return 2.0 * (below as f64 / total as f64);
    }

    let tie_term: f64 = ranks.ties.iter().map(|&t| (t * t * t - t) as f64).sum();
    let n = (n1 + n2) as f64;
    let mean_u = (n1 * n2) as f64 / 2.0;
    let sd_u = ((n1 * n2) as f64 * ((n + 1.0) - tie_term / (n * (n - 1.0))) / 12.0).sqrt();
    if sd_u == 0.0 {
        return 1.0;
    }
    let mut numerator = u1 - mean_u;
    numerator -= sign(numerator) * 0.5;
    let z = numerator / sd_u;
    let lower = normal_cdf(z, 0.0, 1.0);
    2.0 * lower.min(1.0 - lower)
}

/// benchstat evaluates the first sample's U distribution at the *smaller*
/// U, which with exactly two tie groups can lie below the first sample's
/// smallest possible U. go-moremath's base case then computes its upper
/// summation bound with Go's integer division, which truncates a small
/// negative quotient to 0 instead of flooring it to −1, and so counts the
/// C(t₀, n₁) labelings that put every first-sample value in the lower group.
/// benchstat prints the resulting p > 1 (e.g. "p=1.143" for 0,0,1 vs
/// 0,0,0,0); to reproduce its numbers we count those labelings too. With
/// three or more groups go-moremath filters such states out, so only the
/// two-group case is affected.
fn two_group_quirk(n1: usize, ties: &[usize], two_u: usize) -> u128 {
    let &[t0, t1] = ties else { return 0 };
    if n1 > t0 {
        return 0;
    }
    let numerator = two_u as i64 - (n1 * (t0 - n1)) as i64;
    if numerator < 0 && numerator > -((t0 + t1) as i64) { choose_exact(t0, n1).unwrap_or(0) } else { 0 }
}

/// Smallest equal per-side sample size at which the U test can reach
/// p ≤ `alpha` at all, as benchstat's warning "need >= N samples to detect a
/// difference at alpha level A" computes it (sizes 1..=9). `None` when even 9
/// is not enough; benchstat then prints "need > 10".
pub fn u_test_min_samples(alpha: f64) -> Option<usize> {
    (1..=9).find(|&n| min_two_sided_p(n, n) <= alpha)
}

/// The smallest two-sided p-value the U test can produce for these sizes:
/// the two samples completely separated, 2 / C(n1+n2, n1).
pub(crate) fn min_two_sided_p(n1: usize, n2: usize) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let arrangements = match choose_exact(n1 + n2, n1) {
        Some(c) => c as f64,
        None => return 0.0,
    };
    (2.0 / arrangements).min(1.0)
}

fn sign(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if x < 0.0 {
        -1.0
    } else {
        1.0
    }
}

/// Rank sum of the first sample in the merged ordering (mid-ranks for ties)
/// and the sizes of the tie groups in ascending value order.
struct RankSums {
    r1: f64,
    ties: Vec<usize>,
}

impl RankSums {
    fn new(a: &[f64], b: &[f64]) -> RankSums {
        let mut merged: Vec<(f64, bool)> = a.iter().map(|&x| (x, true)).chain(b.iter().map(|&x| (x, false))).collect();
        merged.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut r1 = 0.0;
        let mut ties = Vec::new();
        let mut i = 0;
        while i < merged.len() {
            let start = i;
            let value = merged[i].0;
            let mut from_a = 0usize;
            // `==` rather than total order: -0.0 and 0.0 tie, as in Go.
            while i < merged.len() && merged[i].0 == value {
                from_a += usize::from(merged[i].1);
                i += 1;
            }
            if i == start {
                // NaN never equals itself; give it a group of its own.
                from_a += usize::from(merged[i].1);
                i += 1;
            }
            if from_a != 0 {
                let mid_rank = (i + start + 1) as f64 / 2.0;
                r1 += mid_rank * from_a as f64;
            }
            ties.push(i - start);
        }
        RankSums { r1, ties }
    }
}

/// Null distribution of the first sample's U statistic, as counts of the
/// C(n1+n2, n1) equally likely labelings. `ties` are the tie-group sizes in
/// ascending order (all 1 without ties); `counts[v]` is the number of
/// labelings with 2U = v, for v up to `max_two_u`.
///
/// Dynamic programming over tie groups: choosing r first-sample values out of
/// a group of t, with c values before the group of which i are first-sample,
/// adds r·(2(c−i) + (t−r)) to 2U (each beats the c−i earlier second-sample
/// values and ties half with the t−r others in its group). Every addition is
/// non-negative, so states past `max_two_u` are dropped. This is the same
/// conditional distribution as Klotz's linked-list method that go-moremath
/// uses, computed with exact integers.
pub(crate) fn u_null_counts(n1: usize, n2: usize, ties: &[usize], max_two_u: usize) -> Vec<u128> {
    // Without ties 2U is always even; halving the index halves the work.
    let unit = if ties.iter().all(|&t| t == 1) { 2 } else { 1 };
    let width = max_two_u / unit + 1;
    let mut current = vec![0u128; (n1 + 1) * width];
    let mut next = vec![0u128; (n1 + 1) * width];
    current[0] = 1;
    let mut before = 0usize;
    for &t in ties {
        let ways: Vec<u128> = (0..=t).map(|r| choose_exact(t, r).unwrap_or(0)).collect();
        next.iter_mut().for_each(|x| *x = 0);
        for i in 0..=n1.min(before) {
            let second_before = before - i;
            if second_before > n2 {
                continue;
            }
            for v in 0..width {
                let count = current[i * width + v];
                if count == 0 {
                    continue;
                }
                // Enough first-sample values must be taken from this group so
                // the second sample does not exceed n2.
                let r_min = (second_before + t).saturating_sub(n2);
                for r in r_min..=t.min(n1 - i) {
                    let added = r * (2 * second_before + t - r);
                    let nv = v + added / unit;
                    if nv >= width {
                        continue;
                    }
                    next[(i + r) * width + nv] += count * ways[r];
                }
            }
        }
        std::mem::swap(&mut current, &mut next);
        before += t;
    }
    let mut counts = vec![0u128; max_two_u + 1];
    for v in 0..width {
        counts[v * unit] = current[n1 * width + v];
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_counts_without_ties() {
        // U for n1 = n2 = 3 has the well-known frequencies 1,1,2,3,3,3,3,2,1,1
        // over U = 0..=9 (Mann & Whitney 1947, table I; total C(6,3) = 20).
        let counts = u_null_counts(3, 3, &[1; 6], 18);
        let by_u: Vec<u128> = (0..=9).map(|u| counts[2 * u]).collect();
        assert_eq!(by_u, vec![1, 1, 2, 3, 3, 3, 3, 2, 1, 1]);
        assert!(counts.iter().skip(1).step_by(2).all(|&c| c == 0));
    }

    #[test]
    fn null_counts_with_ties() {
        // Ranks {1, 2.5, 2.5, 4} with n1 = n2 = 2, enumerated by hand over the
        // C(4,2) = 6 labelings: rank sums 3.5, 3.5, 5, 5, 6.5, 6.5, so
        // U1 = R1 − 3 = 0.5, 0.5, 2, 2, 3.5, 3.5 and 2U = 1, 1, 4, 4, 7, 7.
        let counts = u_null_counts(2, 2, &[1, 2, 1], 8);
        assert_eq!(counts, vec![0, 2, 0, 0, 2, 0, 0, 2, 0]);
    }

    fn close(got: f64, want: f64) {
        // Our exact counts are integers; Go sums float probabilities. They
        // agree to ~1e-14 relative (checked over 3000 random cases).
        assert!((got - want).abs() <= 1e-12 * want, "got {got}, want {want}");
    }

    #[test]
    fn p_values_match_benchstat() {
        // Expected: benchmath.AssumeNothing.Compare(a, b).P printed by Go
        // (golang.org/x/perf@v0.0.0-20260908200009). The real benchstat binary
        // on the same numbers prints p=0.008, 0.100, 1.000, 1.000 and 0.031.
        close(mann_whitney_u(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]), 0.007936507936507938);
        close(mann_whitney_u(&[1.0, 2.0, 3.0], &[6.0, 7.0, 8.0]), 0.10000000000000002);
        // All values equal: benchstat warns "all samples are equal", p = 1.
        assert_eq!(mann_whitney_u(&[3.0; 4], &[3.0; 4]), 1.0);
        // U exactly at the centre of its distribution.
        assert_eq!(mann_whitney_u(&[1.0, 4.0, 5.0, 8.0], &[2.0, 3.0, 6.0, 7.0]), 1.0);
        // Exact distribution with ties (benchstat: +25.00% p=0.031 n=8).
        let a = [5.0, 7.0, 5.0, 6.0, 7.0, 6.0, 5.0, 7.0];
        let b = [6.0, 8.0, 7.0, 7.0, 8.0, 6.0, 8.0, 9.0];
        close(mann_whitney_u(&a, &b), 0.030924630924630925);
        close(
            mann_whitney_u(
                &[7.0, 8.0, 5.0, 8.0, 0.0, 6.0, 1.0, 8.0, 6.0, 8.0, 5.0, 19.0],
                &[17.0, 3.0, 5.0, 9.0, 15.0, 16.0, 9.0],
            ),
            0.13288878304358182,
        );
        // Asymmetric tie distribution: Go's p (and the binary's "p=1.200").
        close(mann_whitney_u(&[1.0, 1.0, 1.0, 2.0], &[1.0, 2.0]), 1.2);
        close(
            mann_whitney_u(
                &[-14.5, 6.0, 6.0, -14.5, 2e300, 0.0, 0.0, 0.0, 2e-300, -14.5, 2e-300, 2e300],
                &[-14.5, 2e300],
            ),
            1.054945054945055,
        );
        // Empty side: benchstat reports p = 1 ("sample is too small").
        assert_eq!(mann_whitney_u(&[], &[1.0, 2.0]), 1.0);
    }

    #[test]
    fn exact_and_normal_regimes_match_benchstat() {
        // Go as above. 30 + 30 with ties → normal approximation (ties limit
        // is 25); 60 + 55 without ties → normal; 50 + 50 without ties → exact.
        let a: Vec<f64> = (0..30).map(|i| (i % 7) as f64).collect();
        let b: Vec<f64> = (0..30).map(|i| (i % 7 + i % 3) as f64).collect();
        close(mann_whitney_u(&a, &b), 0.09203825950367868);
        let a: Vec<f64> = (0..60).map(|i| ((i * 31) % 60) as f64 + 0.25).collect();
        let b: Vec<f64> = (0..55).map(|i| ((i * 29) % 55) as f64 + 5.5).collect();
        close(mann_whitney_u(&a, &b), 0.3570383247916089);
        let a: Vec<f64> = (0..50).map(|i| ((i * 31) % 50) as f64 + 0.25).collect();
        let b: Vec<f64> = (0..50).map(|i| ((i * 29) % 50) as f64 + 8.5).collect();
        close(mann_whitney_u(&a, &b), 0.007021899371388311);
    }

    #[test]
    fn smallest_p_values() {
        // benchstat's uTestMinP table (benchmath/anone.go, generated by its
        // mktables.go) and its warning "need >= 4 samples to detect a
        // difference at alpha level 0.05".
        assert_eq!(min_two_sided_p(3, 3), 0.1);
        close(min_two_sided_p(4, 4), 0.02857142857142857);
        close(min_two_sided_p(9, 9), 4.113533525298231e-05);
        assert_eq!(u_test_min_samples(0.05), Some(4));
        assert_eq!(u_test_min_samples(0.01), Some(5));
        assert_eq!(u_test_min_samples(1e-9), None);
    }

    #[test]
    fn two_tie_groups_reproduce_benchstat_above_one() {
        // Values printed by the real benchstat (pinned version) for these
        // B/op samples, e.g. "~ (p=1.143 n=3+4)": 8/7, 8/7, 6/5, 10/9.
        close(mann_whitney_u(&[0.0, 0.0, 1.0], &[0.0, 0.0, 0.0, 0.0]), 1.1428571428571428);
        close(mann_whitney_u(&[1.0, 1.0, 2.0], &[1.0, 1.0, 1.0, 1.0]), 1.1428571428571428);
        close(mann_whitney_u(&[0.0, 1.0], &[0.0, 0.0, 0.0]), 1.2);
        close(mann_whitney_u(&[5.0, 5.0, 5.0, 9.0], &[5.0, 5.0, 5.0, 5.0, 5.0]), 10.0 / 9.0);
        // Swapped, the smaller U is the first sample's own: no quirk (6/7).
        close(mann_whitney_u(&[0.0, 0.0, 0.0, 0.0], &[0.0, 0.0, 1.0]), 0.8571428571428571);
    }
}
