//! Effects of candidate relative to baseline: the change in percent, its
//! confidence interval, the test's p-value (or e-value), the MDE of the rule
//! applied and, for open comparisons, the rounds they would need — for
//! unpaired samples (benchstat's view) and for paired interleaved rounds,
//! under the fixed or the sequential rule.

use super::mann_whitney::{mann_whitney_u, min_two_sided_p};
use super::mde::unpaired_mde_pct;
use super::power::{self, Decider, Scale};
use super::sequential;
use super::shift_interval::{shift_estimate, shift_interval};
use super::summary::{median_sorted, sorted_copy, symmetric_median_interval};
use super::wilcoxon::wilcoxon_signed_rank;
use super::{CompareConfig, Effect, Rule, Test};

/// Unpaired comparison, benchstat-style.
///
/// - `delta_pct`: the Hodges–Lehmann shift of logs (the median of all
///   pairwise log ratios candidate/baseline), as a percentage: the estimate
///   that goes with the interval, so it always lies inside it. (benchstat's
///   text table shows the ratio of medians; `perfgate benchstat` prints
///   that, and can differ from this delta when samples are skewed.)
/// - `p_value` from [`mann_whitney_u`], identical to benchstat's except that
///   it is capped at 1 (benchstat can report p > 1 with some ties).
/// - The interval is the Hodges–Lehmann/Moses interval of the shift in log
///   space (pairwise differences of logs, ranks from the exact U
///   distribution), i.e. for the ratio of typical values, as a percentage.
///   When some value is ≤ 0 logs are impossible: the same estimate and
///   interval are taken on the raw differences and divided by
///   |median(baseline)|; if that median is 0 there is no scale, the delta
///   is ±100% by the sign of the shift and the interval is `None`. It is also
///   `None` when the samples are too small to bound it (e.g. 3 + 3 at 95%).
/// - An empty side gives delta 0, no interval, no p-value, no MDE.
pub fn compare_unpaired(baseline: &[f64], candidate: &[f64], cfg: &CompareConfig) -> Effect {
    let test = Test::MannWhitneyU;
    if baseline.is_empty() || candidate.is_empty() {
        return no_data(test);
    }
    let base = sorted_copy(baseline);
    let cand = sorted_copy(candidate);
    let base_median = median_sorted(&base);

    let all_positive = base.iter().chain(&cand).all(|&x| x > 0.0 && x.is_finite());
    let (delta, interval) = if all_positive {
        let log_base: Vec<f64> = base.iter().map(|x| x.ln()).collect();
        let log_cand: Vec<f64> = cand.iter().map(|x| x.ln()).collect();
        let pct = |x: f64| x.exp_m1() * 100.0;
        (
            shift_estimate(&log_base, &log_cand).map(pct).unwrap_or(0.0),
            shift_interval(&log_base, &log_cand, cfg.confidence).map(|(lo, hi)| (pct(lo), pct(hi))),
        )
    } else {
        let shift = shift_estimate(&base, &cand).unwrap_or(0.0);
        if base_median != 0.0 {
            let pct = |x: f64| x / base_median.abs() * 100.0;
            (pct(shift), shift_interval(&base, &cand, cfg.confidence).map(|(lo, hi)| (pct(lo), pct(hi))))
        } else {
            (relative_change_pct(0.0, shift), None)
        }
    };
    let p = mann_whitney_u(baseline, candidate);
    finish(Effect {
        delta_pct: delta,
        delta_ci_low_pct: interval.map(|(lo, _)| lo),
        delta_ci_high_pct: interval.map(|(_, hi)| hi),
        p_value: Some(p),
        test,
        mde_pct: if cfg.power { unpaired_mde_pct(baseline, candidate, cfg.alpha) } else { None },
        e_value: None,
        in_family: min_two_sided_p(baseline.len(), candidate.len()) <= cfg.alpha && !all_equal(&base, &cand),
        needs: None,
    })
}

/// Paired comparison of interleaved rounds; each pair is
/// `(baseline, candidate)` from the same round.
///
/// - Per-round ratios candidate/baseline (0/0 counts as 1, as benchstat
///   treats equal zero medians), judged on their logs so a round twice as
///   slow and a round twice as fast weigh the same; `delta_pct` = (median
///   ratio − 1)·100.
/// - `cfg.rule` decides the rest. Fixed: the signed-rank test's p-value and
///   the symmetric order-statistic interval of the median at
///   `cfg.confidence` (`None` below 6 rounds at 95%). Sequential: the
///   anytime-valid e-value against "no change" (p = 1/e) and the confidence
///   sequence of the median at α (see `sequential`).
/// - MDE: what that rule detects with 80% power at this noise and n.
///
/// When a round has exactly one side ≤ 0 (or either negative) the ratio is
/// meaningless; then every statistic is computed on the per-round
/// differences candidate − baseline instead, and expressed as a percentage
/// of |median(baseline)| (no interval or MDE if that median is 0; see
/// [`relative_change_pct`] for the delta).
pub fn compare_paired(pairs: &[(f64, f64)], cfg: &CompareConfig) -> Effect {
    if pairs.is_empty() {
        return no_data(paired_test(cfg));
    }
    let ratios: Option<Vec<f64>> = pairs.iter().map(|&(b, c)| ratio(b, c)).collect();
    if let Some(ratios) = ratios {
        let logs = sorted_copy(&ratios.iter().map(|r| r.ln()).collect::<Vec<_>>());
        let delta = (median_sorted(&sorted_copy(&ratios)) - 1.0) * 100.0;
        return paired_effect(&logs, Some(Scale::Log), Some(delta), cfg);
    }
    let diffs = sorted_copy(&pairs.iter().map(|&(b, c)| c - b).collect::<Vec<_>>());
    let baselines: Vec<f64> = pairs.iter().map(|&(b, _)| b).collect();
    let base_median = median_sorted(&sorted_copy(&baselines));
    let scale = base_median.abs();
    // Differences scaled by the baseline median can reach below -100%; for
    // a quantity that is never negative (CPU, bytes, counts) no change can,
    // so the interval is cut at the edge of what is possible.
    let floor = if pairs.iter().all(|&(b, c)| b >= 0.0 && c >= 0.0) { -100.0 } else { f64::NEG_INFINITY };
    let delta = relative_change_pct(base_median, base_median + median_sorted(&diffs));
    let scale = (scale > 0.0).then_some(Scale::Relative { scale, floor });
    paired_effect(&diffs, scale, Some(delta), cfg)
}

/// How far apart a count's rounds may lie, relative to their smallest, and
/// still be judged as a count that repeats rather than as a noisy sample:
/// 0.01%. Measured here: a shell loop under Valgrind repeats to the
/// instruction, or within 38 of 23M (0.0002%) in one round of five; a pure
/// loop within 0.006%. A count threshold of 0.5% is 50 times this.
pub const COUNT_JITTER: f64 = 1e-4;

/// The comparison of two counts that repeat: each side gave the same value
/// in every one of its `n` rounds, or values within [`COUNT_JITTER`] of each
/// other. There is no noise to test against — the change is the ratio of
/// the medians and its interval the full range of ratios any baseline round
/// and any candidate round give (`[min c / max b, max c / min b]`, a point
/// when both sides are constant); the p-value is 0 when that range excludes
/// "no change" and 1 otherwise. Pairing adds nothing: counts do not drift
/// with the machine. `None` when a side varies more, is ≤ 0, or has fewer
/// than 2 values (one round proves nothing repeats); the statistical tests
/// decide those.
pub fn compare_exact(baseline: &[f64], candidate: &[f64]) -> Option<Effect> {
    let range = |v: &[f64]| -> Option<(f64, f64)> {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let finite = v.iter().all(|x| x.is_finite());
        (v.len() >= 2 && finite && lo > 0.0 && hi <= lo * (1.0 + COUNT_JITTER)).then_some((lo, hi))
    };
    let ((b_lo, b_hi), (c_lo, c_hi)) = (range(baseline)?, range(candidate)?);
    let median = |v: &[f64]| median_sorted(&sorted_copy(v));
    let pct = |ratio: f64| (ratio - 1.0) * 100.0;
    let delta = pct(median(candidate) / median(baseline));
    let (lo, hi) = (pct(c_lo / b_hi), pct(c_hi / b_lo));
    let changed = lo > 0.0 || hi < 0.0;
    Some(Effect {
        delta_pct: delta,
        delta_ci_low_pct: Some(lo.min(delta)),
        delta_ci_high_pct: Some(hi.max(delta)),
        p_value: Some(if changed { 0.0 } else { 1.0 }),
        test: Test::Exact,
        mde_pct: None,
        e_value: None,
        in_family: false,
        needs: None,
    })
}

/// Paired comparison of a metric whose natural level is zero (a growth
/// rate), where a ratio to the baseline means nothing: the test runs on the
/// per-round differences and the change is their median expressed as a
/// percentage of `scale`, a level the caller chooses (e.g. the baseline's
/// RSS for `rss_growth`: "growth went down by 3% of RSS per second").
pub fn compare_paired_on_scale(pairs: &[(f64, f64)], scale: f64, cfg: &CompareConfig) -> Effect {
    if pairs.is_empty() || !(scale > 0.0 && scale.is_finite()) {
        return compare_paired(pairs, cfg);
    }
    let diffs = sorted_copy(&pairs.iter().map(|&(b, c)| c - b).collect::<Vec<_>>());
    paired_effect(&diffs, Some(Scale::Relative { scale, floor: f64::NEG_INFINITY }), None, cfg)
}

fn paired_test(cfg: &CompareConfig) -> Test {
    match cfg.rule {
        Rule::Fixed => Test::WilcoxonSignedRank,
        Rule::Sequential => Test::SequentialSign,
    }
}

/// The paired statistics of ascending per-round values (log ratios or
/// differences), read as percentages through `scale` (`None`: no scale, so
/// no interval or MDE). `delta` overrides the median's percentage.
fn paired_effect(sorted: &[f64], scale: Option<Scale>, delta: Option<f64>, cfg: &CompareConfig) -> Effect {
    let median = median_sorted(sorted);
    let delta_pct = delta.unwrap_or_else(|| scale.map(|s| s.pct(median)).unwrap_or(0.0));
    let informative = sorted.iter().filter(|x| **x != 0.0).count();
    let (interval, p_value, e_value, in_family) = match cfg.rule {
        Rule::Fixed => {
            let p = wilcoxon_signed_rank(sorted);
            let reachable = informative > 0 && 2f64.powi(1 - informative.min(1100) as i32) <= cfg.alpha;
            (symmetric_median_interval(sorted, cfg.confidence), p, None, reachable)
        }
        Rule::Sequential => {
            let e = sequential::e_value_at_zero(sorted);
            let reachable = sequential::can_reject(sorted.len(), sorted.len() - informative, cfg.alpha);
            (sequential::median_cs(sorted, cfg.alpha), (1.0 / e).min(1.0), Some(e), reachable)
        }
    };
    // Without a scale (a baseline whose typical value is 0) a change has no
    // percentage; but an interval of exactly [0, 0] — the typical round
    // shows no difference at all, as when a runtime allocation now and
    // then turns `0 B/op` into `1 B/op` — is no change in any unit.
    let interval = match scale {
        Some(s) => interval.map(|(lo, hi)| (s.pct(lo) + 0.0, s.pct(hi) + 0.0)),
        None => interval.filter(|&(lo, hi)| lo == 0.0 && hi == 0.0),
    };
    let decider = scale.map(|s| Decider::new(cfg.rule, cfg.alpha, cfg.confidence, cfg.threshold.abs() * 100.0, s));
    let mde_pct = decider.as_ref().filter(|_| cfg.power).and_then(|d| power::rule_mde_pct(sorted, d));
    let needs = decider.as_ref().filter(|_| cfg.settle).and_then(|d| power::rounds_to_settle(sorted, d));
    finish(Effect {
        delta_pct,
        delta_ci_low_pct: interval.map(|(lo, _)| lo),
        delta_ci_high_pct: interval.map(|(_, hi)| hi),
        p_value: Some(p_value),
        test: paired_test(cfg),
        mde_pct,
        e_value,
        in_family,
        needs,
    })
}

fn all_equal(base: &[f64], cand: &[f64]) -> bool {
    base.iter().chain(cand).all(|x| *x == base[0])
}

/// Relative change from `base` to `new` in percent, benchstat's
/// `(new/old − 1)·100` for a positive base.
///
/// Conventions where that formula fails: equal values (0 → 0 included) are
/// 0%; from a zero base any change is ±100% by the sign of `new` — a finite
/// stand-in for an infinite relative change, large enough to pass any sane
/// threshold so a significant move away from zero still gets a verdict; a
/// negative base divides the difference by |base| so that the sign still
/// says "went up" or "went down".
pub(crate) fn relative_change_pct(base: f64, new: f64) -> f64 {
    if new == base {
        0.0
    } else if base == 0.0 {
        if new > 0.0 { 100.0 } else { -100.0 }
    } else if base > 0.0 {
        (new / base - 1.0) * 100.0
    } else {
        (new - base) / base.abs() * 100.0
    }
}

/// candidate/baseline for one round, or `None` if no meaningful ratio exists.
fn ratio(baseline: f64, candidate: f64) -> Option<f64> {
    if baseline == 0.0 && candidate == 0.0 {
        return Some(1.0);
    }
    let r = candidate / baseline;
    (baseline > 0.0 && candidate > 0.0 && r.is_finite() && r > 0.0).then_some(r)
}

fn no_data(test: Test) -> Effect {
    Effect {
        delta_pct: 0.0,
        delta_ci_low_pct: None,
        delta_ci_high_pct: None,
        p_value: None,
        test,
        mde_pct: None,
        e_value: None,
        in_family: false,
        needs: None,
    }
}

/// Keeps results JSON-safe and in range: extreme but finite inputs can still
/// overflow a ratio, JSON has no infinities, and a p-value is at most 1.
fn finish(effect: Effect) -> Effect {
    let clamp = |x: f64| {
        if x.is_nan() { 0.0 } else { x.clamp(f64::MIN, f64::MAX) }
    };
    Effect {
        delta_pct: clamp(effect.delta_pct),
        delta_ci_low_pct: effect.delta_ci_low_pct.map(clamp),
        delta_ci_high_pct: effect.delta_ci_high_pct.map(clamp),
        p_value: effect.p_value.map(|p| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) }),
        mde_pct: effect.mde_pct.map(clamp),
        e_value: effect.e_value.map(clamp),
        ..effect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> CompareConfig {
        CompareConfig::default()
    }

    fn close(got: Option<f64>, want: f64) {
        let got = got.expect("value present");
        assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "got {got}, want {want}");
    }

    #[test]
    fn exact_counts_need_no_test() {
        let e = compare_exact(&[200.0, 200.0, 200.0], &[202.0, 202.0, 202.0]).unwrap();
        assert_eq!(
            (e.delta_ci_low_pct, e.delta_ci_high_pct, e.p_value),
            (Some(e.delta_pct), Some(e.delta_pct), Some(0.0))
        );
        assert!((e.delta_pct - 1.0).abs() < 1e-9);
        assert_eq!(compare_exact(&[5.0, 5.0], &[5.0, 5.0]).unwrap().p_value, Some(1.0));
        assert!(compare_exact(&[5.0, 5.1], &[5.0, 5.0]).is_none(), "a side varies by 2%");
        assert!(compare_exact(&[5.0], &[6.0]).is_none(), "one round proves nothing repeats");
        assert!(compare_exact(&[0.0, 0.0], &[1.0, 1.0]).is_none());
    }

    /// The counts CI measured for `sh loop.sh` under Valgrind: one round of
    /// five 38 instructions above the others on each side. The signed-rank
    /// test cannot go below p = 0.0625 with 5 rounds; the range decides.
    #[test]
    fn counts_within_jitter_are_judged_on_their_range() {
        let base = [23091825.0, 23091787.0, 23091787.0, 23091787.0, 23091787.0];
        let cand = [29889760.0, 29889798.0, 29889760.0, 29889760.0, 29889760.0];
        let e = compare_exact(&base, &cand).unwrap();
        assert_eq!((e.test, e.p_value, e.in_family), (Test::Exact, Some(0.0), false));
        close(Some(e.delta_pct), (29889760.0 / 23091787.0 - 1.0) * 100.0);
        close(e.delta_ci_low_pct, (29889760.0 / 23091825.0 - 1.0) * 100.0);
        close(e.delta_ci_high_pct, (29889798.0 / 23091787.0 - 1.0) * 100.0);
        // A/A with the same jitter: the range straddles zero, no change.
        let aa = compare_exact(&base, &base).unwrap();
        assert_eq!(aa.p_value, Some(1.0));
        let (lo, hi) = (aa.delta_ci_low_pct.unwrap(), aa.delta_ci_high_pct.unwrap());
        assert!(lo < 0.0 && hi > 0.0 && hi - lo < 2e-3, "[{lo}, {hi}]");
        // Just inside and just outside the jitter allowed.
        let edge = 1e6 * (1.0 + COUNT_JITTER);
        assert!(compare_exact(&[1e6, edge, 1e6], &[2e6, 2e6]).is_some());
        assert!(compare_exact(&[1e6, edge * 1.000001, 1e6], &[2e6, 2e6]).is_none());
        assert!(compare_exact(&[1e6, f64::NAN], &[2e6, 2e6]).is_none());
        assert!(compare_exact(&[1e6, f64::INFINITY], &[2e6, 2e6]).is_none());
    }

    #[test]
    fn nonnegative_differences_never_claim_below_minus_100_percent() {
        // Idle CPU: one candidate round read 0 (no ratio), the baseline
        // varied widely; scaled differences alone would reach below -100%.
        let pairs = [(0.20, 0.0), (0.15, 0.01), (0.25, 0.02), (0.10, 0.01), (0.30, 0.0), (0.16, 0.01)];
        let e = compare_paired(&pairs, &cfg());
        let (lo, hi) = (e.delta_ci_low_pct.unwrap(), e.delta_ci_high_pct.unwrap());
        assert!(lo >= -100.0 && lo <= hi && hi < 0.0, "[{lo}, {hi}]");
        // Where values can be negative, no floor applies.
        let signed = [(1.0, -3.0), (1.0, -2.5), (1.2, -2.8), (0.9, -3.1), (1.1, -2.9), (1.0, -3.2)];
        assert!(compare_paired(&signed, &cfg()).delta_ci_low_pct.unwrap() < -100.0);
    }

    #[test]
    fn a_zero_baseline_with_rare_blips_is_no_change() {
        // 0 B/op in most rounds on both sides, 1 B/op now and then: no
        // ratio and no scale, but the typical difference is exactly 0.
        let mut pairs = vec![(0.0, 0.0); 20];
        pairs[3] = (0.0, 1.0);
        pairs[11] = (1.0, 0.0);
        pairs[17] = (0.0, 1.0);
        for rule in [Rule::Fixed, Rule::Sequential] {
            let cfg = CompareConfig { rule, ..cfg() };
            let e = compare_paired(&pairs, &cfg);
            assert_eq!((e.delta_pct, e.delta_ci_low_pct, e.delta_ci_high_pct), (0.0, Some(0.0), Some(0.0)), "{rule:?}");
            let v = crate::stats::verdict(20, 20, &e, e.p_value, crate::model::Better::Lower, &cfg);
            assert_eq!(v, crate::model::Verdict::Unchanged, "{rule:?}");
        }
    }

    #[test]
    fn unpaired_separated_samples() {
        // benchstat prints +166.67% (p=0.008 n=5) for these. The interval:
        // numpy over the 25 differences ln(c) − ln(b), k = 3 from the exact
        // U distribution (P(U<=2) = 4/252 <= .025 < P(U<=3) = 7/252):
        // expm1(d[2]) = 50%, expm1(d[22]) = 700%.
        let e = compare_unpaired(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0], &cfg());
        assert!((e.delta_pct - 166.66666666666669).abs() < 1e-9);
        close(e.p_value, 0.007936507936507938);
        close(e.delta_ci_low_pct, 50.0);
        close(e.delta_ci_high_pct, 700.0);
        assert_eq!(e.test, Test::MannWhitneyU);
        assert!(e.mde_pct.is_some());
    }

    #[test]
    fn unpaired_with_a_zero_falls_back_to_differences() {
        // A zero rules out logs: Moses interval on raw differences (numpy:
        // sorted c − b, k = 3 → 2 and 8), divided by median(baseline) = 3.
        let e = compare_unpaired(&[0.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0], &cfg());
        close(e.delta_ci_low_pct, 66.66666666666666);
        close(e.delta_ci_high_pct, 266.66666666666663);
        // Baseline median 0: delta is the documented ±100%, no interval.
        let e = compare_unpaired(&[0.0, 0.0, 0.0, 1.0], &[2.0, 3.0, 4.0, 5.0], &cfg());
        assert_eq!((e.delta_pct, e.delta_ci_low_pct), (100.0, None));
        let e = compare_unpaired(&[0.0; 4], &[0.0; 4], &cfg());
        assert_eq!((e.delta_pct, e.p_value), (0.0, Some(1.0)));
    }

    #[test]
    fn unpaired_small_and_empty() {
        // 3 + 3: benchstat p = 0.100; no bounded 95% interval; no MDE.
        let e = compare_unpaired(&[1.0, 2.0, 3.0], &[6.0, 7.0, 8.0], &cfg());
        close(e.p_value, 0.1);
        assert_eq!((e.delta_ci_low_pct, e.delta_ci_high_pct, e.mde_pct), (None, None, None));
        // benchstat's p = 1.2 for these (see mann_whitney.rs) is capped.
        let e = compare_unpaired(&[1.0, 1.0, 1.0, 2.0], &[1.0, 2.0], &cfg());
        assert_eq!(e.p_value, Some(1.0));
        let e = compare_unpaired(&[], &[1.0], &cfg());
        assert_eq!(e.p_value, None);
        assert_eq!((e.delta_pct, e.delta_ci_low_pct, e.mde_pct), (0.0, None, None));
    }

    #[test]
    fn paired_consistent_slowdown() {
        // numpy: ratios cand/base, median ratio − 1 = 4.48904%; n = 8 takes
        // the symmetric order statistics 1 and 8 (2·P(B ≤ 0) = 0.8% ≤ 5% <
        // 2·P(B ≤ 1) = 7%) → 3.48259% .. 5.94059% (benchstat's one-sided
        // pick would stop at the 7th, 5.10204%);
        // scipy.stats.wilcoxon(log ratios, method="exact") = 0.0078125.
        let base = [100.0, 102.0, 98.0, 101.0, 99.0, 100.5, 103.0, 97.0];
        let cand = [105.0, 106.0, 103.0, 107.0, 103.0, 104.0, 108.0, 101.0];
        let pairs: Vec<(f64, f64)> = base.into_iter().zip(cand).collect();
        let e = compare_paired(&pairs, &cfg());
        assert!((e.delta_pct - 4.489040136122524).abs() < 1e-9);
        close(e.delta_ci_low_pct, 3.482587064676612);
        close(e.delta_ci_high_pct, 5.940594059405946);
        assert_eq!(e.p_value, Some(0.0078125));
        assert_eq!(e.test, Test::WilcoxonSignedRank);
        assert!(e.mde_pct.is_some_and(|m| m > 0.0 && m < 5.0));
    }

    #[test]
    fn paired_mixed_signs() {
        // numpy as above for 10 rounds: median 0.35%, orders 2 and 9 →
        // −0.5% .. 1.1111%. Rounds 1 and 2 (101/100 and 100/101) have log
        // ratios of equal magnitude, so the p-value is the exact conditional
        // one, from enumerating all 1024 sign patterns over
        // scipy.stats.rankdata mid-ranks in Python: 0.16796875. (scipy's
        // wilcoxon(method="exact") ignores the tie and says 0.193359375.)
        let base = [100.0, 101.0, 99.0, 100.0, 102.0, 98.0, 100.0, 101.0, 99.0, 100.0];
        let cand = [101.0, 100.0, 100.5, 99.5, 103.0, 98.2, 100.4, 100.9, 100.1, 100.3];
        let pairs: Vec<(f64, f64)> = base.into_iter().zip(cand).collect();
        let e = compare_paired(&pairs, &cfg());
        assert!((e.delta_pct - 0.35).abs() < 1e-9);
        close(e.delta_ci_low_pct, -0.5);
        close(e.delta_ci_high_pct, 1.1111111111111072);
        close(e.p_value, 0.16796875);
    }

    #[test]
    fn paired_edge_cases() {
        // Five rounds: no bounded interval (n < 6 at 95%) and no MDE (best
        // possible p = 2/2^5 > 0.05).
        let pairs = [(1.0, 1.1), (1.0, 1.2), (1.0, 1.1), (1.0, 1.3), (1.0, 1.1)];
        let e = compare_paired(&pairs, &cfg());
        assert_eq!((e.delta_ci_low_pct, e.mde_pct), (None, None));
        assert!((e.delta_pct - 10.0).abs() < 1e-9);
        assert_eq!(e.p_value, Some(0.0625));
        // 0/0 rounds are ratio 1 (zero log ratio, dropped by the test).
        let e = compare_paired(&[(0.0, 0.0); 6], &cfg());
        assert_eq!((e.delta_pct, e.p_value), (0.0, Some(1.0)));
        // A zero on one side only: differences; baseline median 2, median
        // difference 1 → +50%.
        let pairs = [(0.0, 1.0), (2.0, 3.0), (2.0, 3.0), (3.0, 4.0)];
        let e = compare_paired(&pairs, &cfg());
        assert_eq!(e.delta_pct, 50.0);
        // All baselines 0: ±100% by the sign of the median difference.
        let e = compare_paired(&[(0.0, 1.0), (0.0, 2.0), (0.0, 0.5), (0.0, 1.0)], &cfg());
        assert_eq!((e.delta_pct, e.delta_ci_low_pct, e.mde_pct), (100.0, None, None));
        let e = compare_paired(&[], &cfg());
        assert_eq!((e.delta_pct, e.p_value), (0.0, None));
    }

    #[test]
    fn extreme_inputs_stay_finite() {
        let huge = [f64::MAX, f64::MAX / 2.0, f64::MAX / 3.0, f64::MAX / 4.0];
        let tiny = [f64::MIN_POSITIVE, 5e-324, 1e-300, 1e-310];
        for e in [
            compare_unpaired(&tiny, &huge, &cfg()),
            compare_unpaired(&huge, &tiny, &cfg()),
            compare_unpaired(&[-f64::MAX, f64::MAX, 0.0, 1.0], &huge, &cfg()),
            compare_paired(&tiny.into_iter().zip(huge).collect::<Vec<_>>(), &cfg()),
            compare_paired(&[(-f64::MAX, f64::MAX); 8], &cfg()),
        ] {
            let values = [e.delta_pct, e.delta_ci_low_pct.unwrap_or(0.0), e.delta_ci_high_pct.unwrap_or(0.0)];
            assert!(values.iter().all(|v| v.is_finite()), "{e:?}");
            assert!(e.mde_pct.is_none_or(f64::is_finite), "{e:?}");
            assert!(e.p_value.is_some_and(|p| (0.0..=1.0).contains(&p)), "{e:?}");
        }
    }

    #[test]
    fn relative_change_conventions() {
        assert_eq!(relative_change_pct(4.0, 5.0), 25.0);
        assert_eq!(relative_change_pct(0.0, 0.0), 0.0);
        assert_eq!(relative_change_pct(0.0, -3.0), -100.0);
        assert_eq!(relative_change_pct(-4.0, -2.0), 50.0);
    }

    #[test]
    fn never_panics_on_odd_samples() {
        // A deterministic sweep over sizes 0..=12 with ties, zeros, negatives
        // and wide magnitudes; every output must be finite and in range.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            state >> 33
        };
        let palette = [0.0, -1.0, 1.0, 2.5, 1e-300, 1e300, -7.25, 3.0, 3.0, 42.0];
        for round in 0..400 {
            let nb = (next() % 13) as usize;
            let nc = (next() % 13) as usize;
            let mut pick = |n: usize| -> Vec<f64> {
                (0..n).map(|_| palette[(next() % palette.len() as u64) as usize] * (1 + round % 3) as f64).collect()
            };
            let base = pick(nb);
            let cand = pick(nc);
            let pairs: Vec<(f64, f64)> = base.iter().copied().zip(cand.iter().copied()).collect();
            let sequential = CompareConfig { rule: Rule::Sequential, ..cfg() };
            for e in [
                compare_unpaired(&base, &cand, &cfg()),
                compare_paired(&pairs, &cfg()),
                compare_paired(&pairs, &sequential),
            ] {
                let bounds = [e.delta_ci_low_pct, e.delta_ci_high_pct, e.mde_pct];
                assert!(e.delta_pct.is_finite() && bounds.iter().flatten().all(|v| v.is_finite()), "{e:?}");
                assert!(e.p_value.is_none_or(|p| (0.0..=1.0).contains(&p)), "{e:?} {base:?} {cand:?}");
                // A point estimate always lies inside its own interval.
                if let (Some(lo), Some(hi)) = (e.delta_ci_low_pct, e.delta_ci_high_pct) {
                    let slack = 1e-9 * e.delta_pct.abs().max(1.0);
                    assert!(lo - slack <= e.delta_pct && e.delta_pct <= hi + slack, "{e:?} {base:?} {cand:?}");
                }
            }
            let s = crate::stats::summarize(&base, 0.95);
            assert_eq!(s.n, nb);
        }
    }
}
