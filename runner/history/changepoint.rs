//! Change points in a metric's nightly series: E-divisive means (Matteson &
//! James) proposes where a series splits, a Student t-test between the
//! neighbouring segments decides whether the split is real — deterministic,
//! in the manner of Apache Otava (formerly Hunter). Pure functions.

/// Fewest points a segment may have on each side of a change: a t-test
/// needs a variance on each side.
pub const MIN_SEGMENT: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Largest p-value of the t-test at which a change is accepted.
    pub max_pvalue: f64,
    /// Smallest relative change of the segment means (fraction: 0.02 = 2%).
    pub min_magnitude: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_pvalue: 0.001, min_magnitude: 0.02 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ChangePoint {
    /// Index of the first point after the change.
    pub index: usize,
    /// Means of the segments before and after (up to the neighbouring
    /// change points).
    pub before: f64,
    pub after: f64,
    /// (after / before − 1) × 100; infinite when `before` is 0.
    pub magnitude_pct: f64,
    pub p_value: f64,
}

/// The change points of `values`, in order.
pub fn detect(values: &[f64], opts: &Options) -> Vec<ChangePoint> {
    if values.len() < 2 * MIN_SEGMENT || values.iter().any(|v| !v.is_finite()) {
        return Vec::new();
    }
    let mut splits = Vec::new();
    bisect(values, 0, values.len(), opts, &mut splits);
    splits.sort_unstable();
    // Each split was tested against the segment it was found in; once all
    // are known, every one must also hold against its final neighbours.
    // Drop the weakest failing one at a time, as neighbours change.
    loop {
        let tested: Vec<ChangePoint> = (0..splits.len()).map(|i| test_between(values, &splits, i)).collect();
        let failing = tested
            .iter()
            .enumerate()
            .filter(|(_, c)| !accepts(c, opts))
            .max_by(|a, b| a.1.p_value.total_cmp(&b.1.p_value).then_with(|| b.0.cmp(&a.0)));
        match failing {
            Some((i, _)) => {
                splits.remove(i);
            }
            None => return tested,
        }
    }
}

fn accepts(c: &ChangePoint, opts: &Options) -> bool {
    c.p_value <= opts.max_pvalue && c.magnitude_pct.abs() >= opts.min_magnitude * 100.0
}

/// Finds the best split of `values[a..b]`, keeps it if it passes, and
/// looks for more on both sides.
fn bisect(values: &[f64], a: usize, b: usize, opts: &Options, out: &mut Vec<usize>) {
    if b - a < 2 * MIN_SEGMENT {
        return;
    }
    let Some(tau) = best_split(&values[a..b]) else {
        return;
    };
    let split = a + tau;
    let c = segment_test(&values[a..split], &values[split..b], split);
    if !accepts(&c, opts) {
        return;
    }
    out.push(split);
    bisect(values, a, split, opts, out);
    bisect(values, split, b, opts, out);
}

/// The split τ (MIN_SEGMENT ≤ τ ≤ len − MIN_SEGMENT) maximizing the
/// E-divisive statistic with α = 1:
/// Q(τ) = n₁n₂/(n₁+n₂) · (2/(n₁n₂)·Σ|xᵢ−yⱼ| − Σ_{i<k}|xᵢ−xₖ|/C(n₁,2) − Σ_{j<l}|yⱼ−yₗ|/C(n₂,2)).
/// O(n²): within-segment sums are carried from one τ to the next.
fn best_split(x: &[f64]) -> Option<usize> {
    let n = x.len();
    // left[t] = Σ_{i<k<t} |x_i − x_k|; right[t] = Σ_{t≤j<l} |x_j − x_l|.
    let mut left = vec![0.0; n + 1];
    for t in 1..n {
        let add: f64 = x[..t].iter().map(|v| (v - x[t]).abs()).sum();
        left[t + 1] = left[t] + add;
    }
    let mut right = vec![0.0; n + 1];
    for t in (0..n.saturating_sub(1)).rev() {
        let add: f64 = x[t + 1..].iter().map(|v| (v - x[t]).abs()).sum();
        right[t] = right[t + 1] + add;
    }
    let total = left[n];
    let mut best: Option<(usize, f64)> = None;
    for tau in MIN_SEGMENT..=n - MIN_SEGMENT {
        let (n1, n2) = (tau as f64, (n - tau) as f64);
        let cross = total - left[tau] - right[tau];
        let within_left = left[tau] / (n1 * (n1 - 1.0) / 2.0);
        let within_right = right[tau] / (n2 * (n2 - 1.0) / 2.0);
        let q = n1 * n2 / (n1 + n2) * (2.0 * cross / (n1 * n2) - within_left - within_right);
        if best.is_none_or(|(_, b)| q > b + 1e-12 * b.abs()) {
            best = Some((tau, q));
        }
    }
    best.filter(|(_, q)| *q > 0.0).map(|(t, _)| t)
}

/// The change at `splits[i]`, tested between the segments reaching to its
/// neighbouring splits (or the series' ends).
fn test_between(values: &[f64], splits: &[usize], i: usize) -> ChangePoint {
    let start = if i == 0 { 0 } else { splits[i - 1] };
    let end = splits.get(i + 1).copied().unwrap_or(values.len());
    segment_test(&values[start..splits[i]], &values[splits[i]..end], splits[i])
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn sum_squares(x: &[f64], m: f64) -> f64 {
    x.iter().map(|v| (v - m) * (v - m)).sum()
}

/// Two-sided Student t-test (pooled variance) between `before` and `after`.
fn segment_test(before: &[f64], after: &[f64], index: usize) -> ChangePoint {
    let (m1, m2) = (mean(before), mean(after));
    let magnitude_pct = if m1 != 0.0 {
        (m2 / m1 - 1.0) * 100.0
    } else if m2 == m1 {
        0.0
    } else {
        f64::INFINITY
    };
    let (n1, n2) = (before.len() as f64, after.len() as f64);
    let df = n1 + n2 - 2.0;
    let p_value = if df < 1.0 {
        1.0
    } else {
        let pooled = (sum_squares(before, m1) + sum_squares(after, m2)) / df;
        let se = (pooled * (1.0 / n1 + 1.0 / n2)).sqrt();
        if se == 0.0 || !se.is_finite() {
            // No noise at all: any difference is certain, none is none.
            if m1 == m2 { 1.0 } else { 0.0 }
        } else {
            let t = ((m2 - m1) / se).abs();
            let p = 2.0 * crate::stats::students_t_sf(t, df);
            if p.is_nan() { 1.0 } else { p.min(1.0) }
        }
    };
    ChangePoint { index, before: m1, after: m2, magnitude_pct, p_value }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise in [-1, 1].
    fn noise(i: usize) -> f64 {
        let mut z = (i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn series(levels: &[(usize, f64)], noise_pct: f64) -> Vec<f64> {
        let mut out = Vec::new();
        for &(len, level) in levels {
            for _ in 0..len {
                let i = out.len();
                out.push(level * (1.0 + noise_pct / 100.0 * noise(i)));
            }
        }
        out
    }

    #[test]
    fn finds_a_step_where_it_is() {
        let v = series(&[(4, 100.0), (3, 130.0)], 2.0);
        let cps = detect(&v, &Options::default());
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert_eq!(cps[0].index, 4);
        assert!((cps[0].magnitude_pct - 30.0).abs() < 3.0, "{cps:?}");
        assert!(cps[0].p_value < 0.001);
    }

    #[test]
    fn finds_two_steps_in_a_long_series() {
        let v = series(&[(120, 50.0), (100, 60.0), (145, 45.0)], 3.0);
        let cps = detect(&v, &Options::default());
        let at: Vec<usize> = cps.iter().map(|c| c.index).collect();
        assert_eq!(at, vec![120, 220], "{cps:?}");
    }

    #[test]
    fn quiet_series_have_no_change_points() {
        // A/A: 365 nights of the same code with 5% noise, many seeds.
        for offset in 0..20 {
            let v: Vec<f64> = (0..365).map(|i| 100.0 * (1.0 + 0.05 * noise(i + offset * 1000))).collect();
            assert!(detect(&v, &Options::default()).is_empty(), "false alarm at offset {offset}");
        }
    }

    #[test]
    fn small_steps_fall_under_the_minimum_magnitude() {
        let v = series(&[(50, 100.0), (50, 101.0)], 0.1);
        let strict = detect(&v, &Options::default());
        assert!(strict.is_empty(), "{strict:?}");
        let loose = detect(&v, &Options { min_magnitude: 0.005, ..Options::default() });
        assert_eq!(loose.iter().map(|c| c.index).collect::<Vec<_>>(), vec![50]);
    }

    #[test]
    fn constant_segments_and_short_series() {
        // Counters: exact values, no noise at all.
        let v = [13.0, 13.0, 13.0, 2.0, 2.0, 2.0];
        let cps = detect(&v, &Options::default());
        assert_eq!(cps.len(), 1);
        assert_eq!((cps[0].index, cps[0].p_value), (3, 0.0));
        assert!(detect(&[1.0, 1.0, 1.0], &Options::default()).is_empty());
        assert!(detect(&[5.0; 10], &Options::default()).is_empty());
        // One point after a step is not yet a change point: it needs two.
        assert!(detect(&series(&[(6, 100.0), (1, 130.0)], 1.0), &Options::default()).is_empty());
    }

    #[test]
    fn t_test_matches_a_known_value() {
        // scipy.stats.ttest_ind([1, 2, 3, 4], [3, 4, 5, 6]): t = -2.1909, p = 0.07099.
        let c = segment_test(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0], 4);
        assert!((c.p_value - 0.07099).abs() < 1e-4, "{c:?}");
    }
}
