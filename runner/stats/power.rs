//! Honest power: what the decision rule a run actually applies could detect
//! at the run's own noise, and how many rounds an open comparison would
//! need. Both work on the per-round values a paired comparison judges (log
//! ratios, or scaled differences) and on the rule itself, not on a textbook
//! t-test. Pure and deterministic (a fixed-seed resampler).

use super::Rule;
use super::sequential;
use super::summary::median_sorted;
use rand::{RngExt, SeedableRng};

/// A change counts as detectable when the rule finds it this often.
const POWER: f64 = 0.8;
/// Resamples per power estimate; the same resamples serve every candidate
/// shift, so power rises monotonically with the shift.
const RESAMPLES: usize = 64;
/// Estimates beyond this many rounds are reported as "more than".
pub const MAX_ROUNDS_ESTIMATE: usize = 100_000;

/// How a per-round value (log ratio or difference) reads as a change in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// Log ratios: expm1(x)·100.
    Log,
    /// Differences, in percent of `scale` (a baseline level), never below
    /// `floor` (−100% for quantities that cannot go negative).
    Relative { scale: f64, floor: f64 },
}

impl Scale {
    pub fn pct(self, x: f64) -> f64 {
        match self {
            Scale::Log => x.exp_m1() * 100.0,
            Scale::Relative { scale, floor } => (x / scale * 100.0).max(floor),
        }
    }
}

/// The decision a rule makes on one sample of per-round values: would it
/// call a change of at least `threshold_pct`? (Before any multiple-testing
/// correction: power is per comparison.)
pub(crate) struct Decider {
    rule: Rule,
    alpha: f64,
    confidence: f64,
    threshold_pct: f64,
    scale: Scale,
}

impl Decider {
    pub(crate) fn new(rule: Rule, alpha: f64, confidence: f64, threshold_pct: f64, scale: Scale) -> Decider {
        Decider { rule, alpha, confidence, threshold_pct, scale }
    }

    /// `sorted` ascending.
    fn calls_a_change(&self, sorted: &[f64], fixed: &FixedCritical) -> bool {
        let n = sorted.len();
        let median = median_sorted(sorted);
        if self.scale.pct(median).abs() < self.threshold_pct || median == 0.0 {
            return false;
        }
        match self.rule {
            Rule::Sequential => sequential::e_value_at_zero(sorted) >= 1.0 / self.alpha,
            Rule::Fixed => {
                // The interval must clear zero and the signed-rank test reach α.
                let Some(k) = fixed.order else { return false };
                let clears = sorted[k - 1] > 0.0 || sorted[n - k] < 0.0;
                clears && fixed.significant(sorted)
            }
        }
    }
}

/// The fixed rule's pieces that depend on n only: the symmetric interval's
/// order statistic and the signed-rank test's critical value.
struct FixedCritical {
    order: Option<usize>,
    /// Doubled rank sum at or beyond which a side is significant.
    critical_doubled: Option<usize>,
}

impl FixedCritical {
    fn new(n: usize, alpha: f64, confidence: f64) -> FixedCritical {
        FixedCritical {
            order: super::summary::symmetric_median_order(n, confidence),
            critical_doubled: super::wilcoxon::critical_doubled_sum(n, alpha),
        }
    }

    fn significant(&self, sorted: &[f64]) -> bool {
        let Some(critical) = self.critical_doubled else { return false };
        let (plus, total) = super::wilcoxon::doubled_rank_sums(sorted);
        plus >= critical || total - plus >= critical
    }
}

/// The noise of a sample of per-round values, resampled: draws of n values
/// around zero (the sample's residuals about its median, mirrored), to
/// which a candidate shift is added. The same draws serve every shift, so
/// power rises monotonically with the shift.
struct Resampler<'a> {
    decider: &'a Decider,
    residuals: Vec<f64>,
    draws: Vec<Vec<usize>>,
    fixed: FixedCritical,
    buffer: Vec<f64>,
}

impl<'a> Resampler<'a> {
    /// `sorted`: the observed per-round values (≥ 2), ascending; `n`: the
    /// rounds of the runs to simulate.
    fn new(sorted: &[f64], n: usize, decider: &'a Decider) -> Resampler<'a> {
        // Per-round values of paired, randomly ordered trials are symmetric
        // about the change (an A/A round is as likely to favour either
        // side), and the mirror keeps one sample's skew from passing for
        // the rule's weakness.
        let median = median_sorted(sorted);
        let residuals: Vec<f64> = sorted.iter().flat_map(|x| [x - median, median - x]).collect();
        let m = residuals.len();
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(0x5eed_f00d);
        let draws = (0..RESAMPLES).map(|_| (0..n).map(|_| rng.random_range(0..m)).collect()).collect();
        let fixed = FixedCritical::new(n, decider.alpha, decider.confidence);
        Resampler { decider, residuals, draws, fixed, buffer: vec![0.0; n] }
    }

    /// The share of simulated runs in which the rule calls a change.
    fn power(&mut self, shift: f64) -> f64 {
        let mut called = 0;
        for draw in &self.draws {
            for (slot, &i) in self.buffer.iter_mut().zip(draw) {
                *slot = self.residuals[i] + shift;
            }
            self.buffer.sort_by(f64::total_cmp);
            if self.decider.calls_a_change(&self.buffer, &self.fixed) {
                called += 1;
            }
        }
        called as f64 / RESAMPLES as f64
    }

    /// The smallest shift found with 80% power, in percent.
    fn mde_pct(&mut self) -> Option<f64> {
        // A shift the size of the spread plus the threshold, doubled until found.
        let spread = self.residuals.iter().fold(0.0f64, |m, r| m.max(r.abs()));
        let mut hi = (spread + self.decider.shift_of(self.decider.threshold_pct)).max(f64::MIN_POSITIVE * 1e10);
        let mut tries = 0;
        while self.power(hi) < POWER {
            hi *= 2.0;
            tries += 1;
            if tries > 40 || !hi.is_finite() {
                return None;
            }
        }
        let mut lo = 0.0;
        for _ in 0..30 {
            let mid = 0.5 * (lo + hi);
            if self.power(mid) >= POWER { hi = mid } else { lo = mid }
        }
        let pct = self.decider.scale.pct(hi);
        pct.is_finite().then_some(pct)
    }
}

impl Decider {
    /// The per-round value of a change of `pct` percent.
    fn shift_of(&self, pct: f64) -> f64 {
        match self.scale {
            Scale::Log => (pct / 100.0).ln_1p(),
            Scale::Relative { scale, .. } => pct / 100.0 * scale,
        }
    }
}

/// Would the rule call a change on this sample (ascending)?
#[cfg(test)]
pub(crate) fn calls_a_change(sorted: &[f64], decider: &Decider) -> bool {
    decider.calls_a_change(sorted, &FixedCritical::new(sorted.len(), decider.alpha, decider.confidence))
}

/// The smallest change (in percent) the rule calls with 80% power at the
/// noise of `sorted` (per-round values, ascending), with as many rounds as
/// `sorted` has. `None` when no change would do (too few rounds to reach α).
pub(crate) fn rule_mde_pct(sorted: &[f64], decider: &Decider) -> Option<f64> {
    rule_mde_pct_at(sorted, sorted.len(), decider)
}

/// The same for runs of `rounds` rounds at the noise of `sorted`.
pub(crate) fn rule_mde_pct_at(sorted: &[f64], rounds: usize, decider: &Decider) -> Option<f64> {
    if sorted.len() < 2 || rounds < 2 {
        return None;
    }
    Resampler::new(sorted, rounds, decider).mde_pct()
}

/// How many rounds the rule needs to call a change of `pct` percent with
/// 80% power at the noise of `sorted`: `None` when more than `max_rounds`.
pub(crate) fn rounds_for_change(sorted: &[f64], pct: f64, decider: &Decider, max_rounds: usize) -> Option<usize> {
    if sorted.len() < 2 || max_rounds < 2 {
        return None;
    }
    let shift = decider.shift_of(pct);
    let found = |n: usize| Resampler::new(sorted, n, decider).power(shift) >= POWER;
    if !found(max_rounds) {
        return None;
    }
    // Power grows with the rounds (up to the resampling's jitter): bisect.
    let (mut lo, mut hi) = (1, max_rounds);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if found(mid) { hi = mid } else { lo = mid }
    }
    Some(hi)
}

/// What an open comparison needs: rounds until its interval, extrapolated
/// from this run's distribution of per-round values, would settle it — clear
/// zero with a change of at least the threshold, or fit within ±threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Rounds(usize),
    MoreThan(usize),
}

/// `sorted`: the per-round values so far, ascending. The interval the rule
/// would reach with n′ rounds is read off this sample's quantiles at the
/// rule's own order statistics for n′.
pub(crate) fn rounds_to_settle(sorted: &[f64], decider: &Decider) -> Option<Needs> {
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    let median = median_sorted(sorted);
    let settled = |m: usize| -> bool {
        let Some(k) = side_count(m, decider) else { return false };
        let (lo, hi) = outer_quantiles(sorted, k as f64 / m as f64);
        let t = decider.threshold_pct;
        let (lo_pct, hi_pct, mid_pct) = (decider.scale.pct(lo), decider.scale.pct(hi), decider.scale.pct(median));
        let change = (lo > 0.0 || hi < 0.0) && mid_pct.abs() >= t;
        change || (lo_pct >= -t && hi_pct <= t)
    };
    if settled(n) {
        return Some(Needs::Rounds(n));
    }
    if !settled(MAX_ROUNDS_ESTIMATE) {
        return Some(Needs::MoreThan(MAX_ROUNDS_ESTIMATE));
    }
    let (mut lo, mut hi) = (n, MAX_ROUNDS_ESTIMATE);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if settled(mid) { hi = mid } else { lo = mid }
    }
    Some(Needs::Rounds(hi))
}

/// How many of m values lie outside each end of the rule's interval.
fn side_count(m: usize, decider: &Decider) -> Option<usize> {
    match decider.rule {
        Rule::Sequential => sequential::rejecting_count(m, decider.alpha).map(|k| k + 1),
        Rule::Fixed => super::summary::symmetric_median_order(m, decider.confidence),
    }
}

/// The empirical quantiles `p` in from each end: order statistics
/// themselves, as the rule's intervals are (a count metric's interval jumps
/// from one value to the next, it does not glide between them).
fn outer_quantiles(sorted: &[f64], p: f64) -> (f64, f64) {
    let n = sorted.len();
    let k = ((p.clamp(0.0, 1.0) * n as f64).ceil() as usize).clamp(1, n);
    (sorted[k - 1], sorted[n - k])
}

/// A N(0, sd²) draw (Box–Muller), for seeded simulations in tests.
#[cfg(test)]
pub(crate) fn normal_draw(rng: &mut rand::rngs::ChaCha8Rng, sd: f64) -> f64 {
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
    sd * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    use super::normal_draw as normal;

    #[test]
    fn mde_shrinks_with_rounds_and_grows_with_noise() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(1);
        let d = |rule| Decider::new(rule, 0.05, 0.95, 2.0, Scale::Log);
        let sample = |n: usize, sd: f64, rng: &mut rand::rngs::ChaCha8Rng| {
            let mut v: Vec<f64> = (0..n).map(|_| normal(rng, sd)).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let small = sample(12, 0.05, &mut rng);
        let large = sample(200, 0.05, &mut rng);
        let noisy = sample(200, 0.20, &mut rng);
        for rule in [Rule::Fixed, Rule::Sequential] {
            let (a, b, c) = (
                rule_mde_pct(&small, &d(rule)).unwrap(),
                rule_mde_pct(&large, &d(rule)).unwrap(),
                rule_mde_pct(&noisy, &d(rule)).unwrap(),
            );
            assert!(a > b && c > b && b >= 2.0, "{rule:?}: {a} {b} {c}");
        }
        // Five rounds: the signed-rank test can never reach 0.05.
        assert_eq!(rule_mde_pct(&small[..5], &d(Rule::Fixed)), None);
    }

    #[test]
    fn rule_mde_matches_simulated_power() {
        // The change that each rule finds 80% of the time in N(shift, 8%)
        // noise, found by simulation, against what runs of that noise
        // estimate from their own samples: the runs' median estimate is
        // within 15% of it (one run's estimate varies with its sample, as
        // any estimate does).
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        for (rule, n) in [(Rule::Fixed, 40usize), (Rule::Sequential, 60)] {
            let decider = Decider::new(rule, 0.05, 0.95, 2.0, Scale::Log);
            let fixed = FixedCritical::new(n, 0.05, 0.95);
            let true_power = |shift: f64, rng: &mut rand::rngs::ChaCha8Rng| {
                let trials = 1500;
                let mut found = 0;
                for _ in 0..trials {
                    let mut v: Vec<f64> = (0..n).map(|_| shift + normal(rng, 0.08)).collect();
                    v.sort_by(f64::total_cmp);
                    if decider.calls_a_change(&v, &fixed) {
                        found += 1;
                    }
                }
                found as f64 / trials as f64
            };
            let (mut lo, mut hi) = (0.0, 0.3);
            for _ in 0..12 {
                let mid = 0.5 * (lo + hi);
                if true_power(mid, &mut rng) >= POWER { hi = mid } else { lo = mid }
            }
            let truth = hi.exp_m1() * 100.0;
            let mut estimates: Vec<f64> = (0..25)
                .map(|_| {
                    let mut base: Vec<f64> = (0..n).map(|_| normal(&mut rng, 0.08)).collect();
                    base.sort_by(f64::total_cmp);
                    rule_mde_pct(&base, &decider).unwrap()
                })
                .collect();
            estimates.sort_by(f64::total_cmp);
            let median = estimates[12];
            assert!((median / truth - 1.0).abs() < 0.15, "{rule:?}: estimated {median:.2}%, simulated {truth:.2}%");
        }
    }

    #[test]
    fn rounds_to_settle_extrapolates_the_interval() {
        let decider = Decider::new(Rule::Sequential, 0.05, 0.95, 2.0, Scale::Log);
        // A clear 10% change, 30 rounds: settled now.
        let v: Vec<f64> = (0..30).map(|i| 0.0953 + (i as f64 - 15.0) * 0.001).collect();
        assert_eq!(rounds_to_settle(&v, &decider), Some(Needs::Rounds(30)));
        // 3% change in ±10% noise: more rounds, but a finite number.
        let v: Vec<f64> = (0..20).map(|i| 0.03 + (i as f64 - 9.5) / 9.5 * 0.10).collect();
        match rounds_to_settle(&v, &decider) {
            Some(Needs::Rounds(k)) => assert!(k > 20 && k < MAX_ROUNDS_ESTIMATE, "{k}"),
            other => panic!("{other:?}"),
        }
    }
}
