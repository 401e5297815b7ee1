//! Summaries of one sample: benchstat's median with its exact binomial
//! order-statistic confidence interval, plus mean, stddev, CV and range.
//! The order-statistic interval is also reused for paired per-round ratios.

use super::Summary;
use super::special::{choose_like_go, normal_cdf, normal_inv_cdf};

/// Summarizes `sample` the way benchstat does (median and its interval at
/// `confidence`), adding mean, sample stddev (n−1), CV, min and max.
///
/// The interval is `None` on both sides whenever benchstat's would reach ±∞
/// on either side (benchstat prints "±∞" and warns "need >= 6 samples for
/// confidence interval at level 0.95"; see [`median_ci_min_samples`]). For
/// n = 5 benchstat has a finite upper bound but an infinite lower one; a
/// half-open interval supports no claim, so we report neither bound.
///
/// An empty sample yields n = 0 and zeros everywhere (no NaN reaches JSON).
/// `confidence` is stored as requested; the interval's actual coverage is at
/// least that (order statistics are discrete).
pub fn summarize(sample: &[f64], confidence: f64) -> Summary {
    let n = sample.len();
    if n == 0 {
        return Summary {
            n: 0,
            median: 0.0,
            ci_low: None,
            ci_high: None,
            confidence,
            mean: 0.0,
            stddev: 0.0,
            cv: 0.0,
            min: 0.0,
            max: 0.0,
        };
    }
    let sorted = sorted_copy(sample);
    let interval = median_interval(&sorted, confidence);
    let mean = mean(&sorted);
    let stddev = stddev(&sorted, mean);
    Summary {
        n,
        median: median_sorted(&sorted),
        ci_low: interval.map(|(lo, _)| lo),
        ci_high: interval.map(|(_, hi)| hi),
        confidence,
        mean,
        stddev,
        cv: if mean == 0.0 { 0.0 } else { (stddev / mean.abs()).min(f64::MAX) },
        min: sorted[0],
        max: sorted[n - 1],
    }
}

/// Smallest sample size for which the median interval at `confidence` is
/// bounded on both sides; `None` if more than 50 would be needed. benchstat
/// uses the same search for its warning "need >= N samples for confidence
/// interval at level C" (and prints "need > 50" for `None`).
pub fn median_ci_min_samples(confidence: f64) -> Option<usize> {
    (2..=50).find(|&n| {
        let (lo, hi) = quantile_ci_orders(n, 0.5, confidence);
        lo > 0 && hi <= n
    })
}

pub(crate) fn sorted_copy(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// Median of an ascending sample with go-moremath's quantile rule (Hyndman–Fan
/// type 8). For q = 0.5 this is the usual median, but computed with the same
/// floating-point steps as benchstat so the printed digits agree. 0 if empty.
pub(crate) fn median_sorted(sorted: &[f64]) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let q = 0.5;
    let n = sorted.len() as f64;
    let position = 1.0 / 3.0 + q * (n + 1.0 / 3.0);
    let k = position.trunc();
    let frac = position - k;
    let k = k as usize;
    if k == 0 {
        sorted[0]
    } else if k >= sorted.len() {
        sorted[sorted.len() - 1]
    } else {
        sorted[k - 1] + frac * (sorted[k] - sorted[k - 1])
    }
}

/// The median's order-statistic interval of an ascending sample, `None` when
/// benchstat's interval would be unbounded on either side.
pub(crate) fn median_interval(sorted: &[f64], confidence: f64) -> Option<(f64, f64)> {
    let n = sorted.len();
    let (lo, hi) = quantile_ci_orders(n, 0.5, confidence);
    (lo >= 1 && hi <= n).then(|| (sorted[lo - 1], sorted[hi - 1]))
}

/// The 1-based order k of the symmetric interval [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] for
/// the median of n values at `confidence`: the largest k whose two tails,
/// each P(Binomial(n, ½) ≤ k − 1), together stay within 1 − confidence.
/// `None` when even the full range is not enough (n < 6 at 95%).
///
/// Unlike benchstat's interval (go-moremath grows it one order at a time,
/// taking whichever side weighs more, so at n = 8 it is [x₍₁₎, x₍₇₎]), both
/// ends are equally far out: a change is called on the same evidence
/// whichever way it goes.
pub(crate) fn symmetric_median_order(n: usize, confidence: f64) -> Option<usize> {
    if n == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let allowed = 1.0 - confidence;
    if n > 2000 {
        // Normal approximation with continuity correction: exact sums of
        // thousands of terms buy nothing at this size.
        let z = super::special::normal_inv_cdf(1.0 - allowed / 2.0);
        let k = (n as f64 / 2.0 - z * (n as f64).sqrt() / 2.0 + 0.5).floor();
        return (k >= 1.0).then_some(k as usize);
    }
    // Two tails of k − 1 or fewer; ln-space for large n.
    let ln_half_n = n as f64 * (0.5f64).ln();
    let mut tail = 0.0;
    let mut best = None;
    for k in 1..=n.div_ceil(2) {
        // P(B ≤ k − 1) = Σ_{j<k} C(n, j) / 2ⁿ.
        tail += (ln_choose(n, k - 1) + ln_half_n).exp();
        if 2.0 * tail <= allowed * (1.0 + 1e-12) {
            best = Some(k);
        } else {
            break;
        }
    }
    best
}

fn ln_choose(n: usize, k: usize) -> f64 {
    super::special::ln_choose(n as u64, k as u64)
}

/// The symmetric interval of [`symmetric_median_order`] on an ascending sample.
pub(crate) fn symmetric_median_interval(sorted: &[f64], confidence: f64) -> Option<(f64, f64)> {
    let n = sorted.len();
    symmetric_median_order(n, confidence).map(|k| (sorted[k - 1], sorted[n - k]))
}

pub(crate) fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if mean.is_finite() {
        mean
    } else {
        // The sum overflowed (values near f64::MAX); dividing first cannot.
        values.iter().map(|x| x / n).sum()
    }
}

/// Sample standard deviation (n−1 denominator); 0 below two values.
pub(crate) fn stddev(values: &[f64], mean: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let denominator = (values.len() - 1) as f64;
    let squares: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    let sd = (squares / denominator).sqrt();
    if sd.is_finite() {
        return sd;
    }
    // Squares overflowed: scale deviations by the largest one first.
    let scale = values.iter().map(|x| (x - mean).abs()).fold(0.0, f64::max);
    let scaled: f64 = values.iter().map(|x| ((x - mean) / scale).powi(2)).sum();
    (scale * (scaled / denominator).sqrt()).min(f64::MAX)
}

/// 1-based order statistics (lo, hi) bounding the `q` quantile of a sample of
/// size n at `confidence`, following go-moremath's `QuantileCI` step for step.
/// `lo == 0` means −∞ and `hi == n + 1` means +∞.
///
/// Below n = 31 it sums exact binomial weights outward from the mode, taking
/// the left neighbour on ties; above, it uses the normal approximation with a
/// continuity correction and then tries a left-biased interval. Which side
/// wins a tie depends on the last bits of the weights, hence `choose_like_go`.
fn quantile_ci_orders(n: usize, q: f64, confidence: f64) -> (usize, usize) {
    // NaN confidence is treated like an impossible demand: no bounded interval.
    if confidence >= 1.0 || confidence.is_nan() {
        return (0, n + 1);
    }
    let pmf = |k: i64| -> f64 {
        if k < 0 || k > n as i64 {
            return 0.0;
        }
        let k = k as usize;
        choose_like_go(n, k) * q.powi(k as i32) * (1.0 - q).powi((n - k) as i32)
    };
    let (l, r): (i64, i64);
    if n <= 30 {
        let mut x = ((n + 1) as f64 * q).ceil() as i64 - 1;
        if q == 0.0 {
            x = 0;
        }
        let mut accum = pmf(x);
        let (mut left, mut right) = (x, x + 1);
        let (mut lp, mut rp) = (pmf(left - 1), pmf(right));
        while accum < confidence && (lp > 0.0 || rp > 0.0) {
            if lp >= rp {
                accum += lp;
                left -= 1;
                lp = pmf(left - 1);
            } else {
                accum += rp;
                right += 1;
                rp = pmf(right);
            }
        }
        (l, r) = (left, right);
    } else {
        let mu = n as f64 * q;
        let sigma = (n as f64 * q * (1.0 - q)).sqrt();
        let cdf = |x: f64| normal_cdf(x, mu, sigma);
        let l1 = normal_inv_cdf((1.0 - confidence) / 2.0) * sigma + mu;
        let r1 = 2.0 * mu - l1;
        // Round out to the band of whole binomial outcomes containing [l1, r1]
        // (continuity correction: outcome k covers [k-0.5, k+0.5]).
        let left = ((l1 - 0.5).floor() + 0.5).floor() as i64 + 1;
        let mut right = ((r1 - 0.5).ceil() + 0.5).floor() as i64 + 1;
        let band = |l: i64, r: i64| cdf(r as f64 - 0.5) - cdf(l as f64 - 0.5);
        let biased = band(left, right - 1);
        if biased >= confidence && biased < band(left, right) {
            right -= 1;
        }
        (l, r) = (left, right);
    }
    (l.max(0) as usize, r.min(n as i64 + 1) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// go-moremath's stats.QuantileCI(n, 0.5, c) LoOrder/HiOrder for n = 0..=60,
    /// printed by a Go program against the module benchstat uses
    /// (golang.org/x/perf@v0.0.0-20260908200009, go-moremath@f10218a38794).
    const GO_ORDERS_95: [(usize, usize); 61] = [
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 4),
        (0, 5),
        (0, 5),
        (1, 6),
        (1, 7),
        (1, 7),
        (2, 8),
        (2, 9),
        (2, 9),
        (3, 10),
        (3, 11),
        (3, 11),
        (4, 12),
        (4, 12),
        (5, 13),
        (5, 14),
        (5, 14),
        (6, 15),
        (6, 16),
        (6, 16),
        (7, 17),
        (8, 18),
        (8, 18),
        (8, 19),
        (8, 19),
        (9, 20),
        (9, 20),
        (10, 21),
        (10, 22),
        (10, 22),
        (11, 23),
        (11, 23),
        (12, 24),
        (12, 24),
        (13, 25),
        (13, 26),
        (13, 26),
        (14, 27),
        (14, 27),
        (15, 28),
        (15, 29),
        (15, 29),
        (16, 30),
        (16, 30),
        (17, 31),
        (17, 31),
        (18, 32),
        (18, 32),
        (19, 33),
        (19, 34),
        (19, 34),
        (20, 35),
        (20, 35),
        (21, 36),
        (21, 36),
        (22, 37),
        (22, 38),
        (22, 38),
    ];

    #[test]
    fn symmetric_orders() {
        // n = 8: P(B ≤ 0) = 1/256 per tail, 2/256 ≤ 5%; P(B ≤ 1) = 9/256,
        // 18/256 = 7% > 5%: the full range, [x(1), x(8)] (benchstat: x(7)).
        assert_eq!(symmetric_median_order(8, 0.95), Some(1));
        assert_eq!(symmetric_median_order(5, 0.95), None);
        assert_eq!(symmetric_median_order(6, 0.95), Some(1));
        // n = 30, scipy.stats.binom.cdf(k-1, 30, .5)*2 <= .05: k = 10
        // (2·P(B ≤ 9) = 0.0428; 2·P(B ≤ 10) = 0.0987).
        assert_eq!(symmetric_median_order(30, 0.95), Some(10));
        // n = 500: 2·P(B ≤ 227) = 0.0446, 2·P(B ≤ 228) = 0.0510 (scipy).
        assert_eq!(symmetric_median_order(500, 0.95), Some(228));
        let x: Vec<f64> = (1..=8).map(f64::from).collect();
        assert_eq!(symmetric_median_interval(&x, 0.95), Some((1.0, 8.0)));
    }

    #[test]
    fn median_interval_orders_match_go_at_95() {
        for (n, &want) in GO_ORDERS_95.iter().enumerate() {
            assert_eq!(quantile_ci_orders(n, 0.5, 0.95), want, "n = {n}");
        }
    }

    #[test]
    fn median_interval_orders_match_go_elsewhere() {
        // Same Go program, other confidence levels and the large-n normal
        // approximation. (n, confidence, lo, hi). The two low-confidence rows
        // are cases where Go's lgamma/exp bits break a tie between equal
        // binomial weights; plain libm log/exp gets them wrong.
        let cases = [
            (8, 0.90, 2, 7),
            (13, 0.90, 4, 10),
            (29, 0.90, 11, 20),
            (8, 0.99, 1, 8),
            (9, 0.99, 1, 9),
            (40, 0.99, 12, 29),
            (100, 0.95, 40, 60),
            (101, 0.95, 41, 61),
            (1000, 0.95, 469, 532),
            (3000, 0.95, 1446, 1554),
            (200, 0.5, 95, 105),
            (1001, 0.5, 490, 512),
            (28, 0.15, 14, 16),
            (24, 0.163, 12, 14),
        ];
        for (n, c, lo, hi) in cases {
            assert_eq!(quantile_ci_orders(n, 0.5, c), (lo, hi), "n = {n}, confidence = {c}");
        }
        assert_eq!(quantile_ci_orders(10, 0.5, 1.0), (0, 11));
        assert_eq!(quantile_ci_orders(10, 0.5, f64::NAN), (0, 11));
    }

    /// A sample whose prefixes give n = 1..=8.
    const PREFIX: [f64; 8] = [10.3, 9.8, 10.1, 10.7, 9.9, 10.0, 10.4, 9.6];

    #[test]
    fn summaries_match_benchstat() {
        // benchmath.AssumeNothing.Summary(sample, 0.95) printed by Go (center,
        // lo, hi); lo/hi = ±Inf where benchstat warns "need >= 6 samples for
        // confidence interval at level 0.95". The real benchstat binary on the
        // same numbers as ns/op prints 10.05n ± 4% for n = 8 and "± ∞" for n = 5.
        let want: [(f64, Option<(f64, f64)>); 8] = [
            (10.3, None),
            (10.05, None),
            (10.1, None),
            (10.2, None),
            (10.1, None), // Go: lo = -Inf, hi = 10.7
            (10.05, Some((9.8, 10.7))),
            (10.1, Some((9.8, 10.7))),
            (10.05, Some((9.6, 10.4))),
        ];
        for (n, (median, ci)) in want.into_iter().enumerate().map(|(i, w)| (i + 1, w)) {
            let s = summarize(&PREFIX[..n], 0.95);
            assert_eq!(s.n, n);
            assert_eq!(s.median, median, "n = {n}");
            assert_eq!(s.ci_low.zip(s.ci_high), ci, "n = {n}");
        }
        let s = summarize(&PREFIX, 0.90);
        assert_eq!((s.ci_low, s.ci_high), (Some(9.8), Some(10.4)));
        let s = summarize(&PREFIX, 0.99);
        assert_eq!((s.ci_low, s.ci_high), (Some(9.6), Some(10.7)));
    }

    #[test]
    fn summaries_with_ties_and_large_n() {
        // Go, as above: ties → 6 [5, 7] (benchstat prints 6.000n ± 17%);
        // all equal → 3 [3, 3]; n = 35 → 17.5 [11.5, 23.5] (normal branch).
        let s = summarize(&[5.0, 7.0, 5.0, 6.0, 7.0, 6.0, 5.0, 7.0], 0.95);
        assert_eq!((s.median, s.ci_low, s.ci_high), (6.0, Some(5.0), Some(7.0)));
        let s = summarize(&[3.0; 6], 0.95);
        assert_eq!((s.median, s.ci_low, s.ci_high), (3.0, Some(3.0), Some(3.0)));
        assert_eq!((s.stddev, s.cv), (0.0, 0.0));
        let big: Vec<f64> = (0..35).map(|i| ((i * 17) % 35) as f64 + 0.5).collect();
        let s = summarize(&big, 0.95);
        assert_eq!((s.median, s.ci_low, s.ci_high), (17.5, Some(11.5), Some(23.5)));
    }

    #[test]
    fn moments_and_range() {
        // Hand calculation: mean 10.1; squared deviations sum to
        // 0.04+0.09+0+0.36+0.04+0.01+0.09+0.25 = 0.88; sd = √(0.88/7).
        let s = summarize(&PREFIX, 0.95);
        assert!((s.mean - 10.1).abs() < 1e-12);
        assert!((s.stddev - (0.88f64 / 7.0).sqrt()).abs() < 1e-12);
        assert!((s.cv - (0.88f64 / 7.0).sqrt() / 10.1).abs() < 1e-12);
        assert_eq!((s.min, s.max, s.confidence), (9.6, 10.7, 0.95));
        let s = summarize(&[-1.0, 1.0], 0.95);
        assert_eq!((s.mean, s.cv), (0.0, 0.0));
        let s = summarize(&[], 0.95);
        assert_eq!((s.n, s.median, s.ci_low, s.mean, s.stddev), (0, 0.0, None, 0.0, 0.0));
    }

    #[test]
    fn warnings_thresholds_match_benchstat() {
        // benchstat: "need >= 6 samples for confidence interval at level 0.95"
        // (and >= 5 at 0.90, >= 8 at 0.99 per the Go order tables above).
        assert_eq!(median_ci_min_samples(0.95), Some(6));
        assert_eq!(median_ci_min_samples(0.90), Some(5));
        assert_eq!(median_ci_min_samples(0.99), Some(8));
        assert_eq!(median_ci_min_samples(1.0), None);
    }
}
