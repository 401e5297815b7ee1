//! Effects of candidate relative to baseline: the change in percent, its
//! confidence interval, the test's p-value and the MDE, for unpaired samples
//! (benchstat's view) and for paired interleaved rounds.

use super::mann_whitney::mann_whitney_u;
use super::mde::{paired_difference_mde_pct, paired_log_mde_pct, unpaired_mde_pct};
use super::shift_interval::shift_interval;
use super::summary::{median_interval, median_sorted, sorted_copy};
use super::wilcoxon::wilcoxon_signed_rank;
use super::{CompareConfig, Effect, Test};

/// Unpaired comparison, benchstat-style.
///
/// - `delta_pct` = (median(candidate)/median(baseline) − 1)·100, benchstat's
///   delta (see [`relative_change_pct`] for a zero or negative baseline).
/// - `p_value` from [`mann_whitney_u`], identical to benchstat's.
/// - The interval is the Hodges–Lehmann/Moses interval of the shift in log
///   space (pairwise differences of logs, ranks from the exact U
///   distribution), i.e. for the ratio of typical values, as a percentage.
///   When some value is ≤ 0 logs are impossible: the same interval is taken
///   on the raw differences and divided by |median(baseline)|; if that
///   median is 0 there is no scale and the interval is `None`. It is also
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
    let cand_median = median_sorted(&cand);

    let all_positive = base.iter().chain(&cand).all(|&x| x > 0.0 && x.is_finite());
    let interval = if all_positive {
        let log_base: Vec<f64> = base.iter().map(|x| x.ln()).collect();
        let log_cand: Vec<f64> = cand.iter().map(|x| x.ln()).collect();
        shift_interval(&log_base, &log_cand, cfg.confidence)
            .map(|(lo, hi)| (lo.exp_m1() * 100.0, hi.exp_m1() * 100.0))
    } else if base_median != 0.0 {
        let scale = base_median.abs();
        shift_interval(&base, &cand, cfg.confidence)
            .map(|(lo, hi)| (lo / scale * 100.0, hi / scale * 100.0))
    } else {
        None
    };

    finish(Effect {
        delta_pct: relative_change_pct(base_median, cand_median),
        delta_ci_low_pct: interval.map(|(lo, _)| lo),
        delta_ci_high_pct: interval.map(|(_, hi)| hi),
        p_value: Some(mann_whitney_u(baseline, candidate)),
        test,
        mde_pct: unpaired_mde_pct(baseline, candidate, cfg.alpha),
    })
}

/// Paired comparison of interleaved rounds; each pair is
/// `(baseline, candidate)` from the same round.
///
/// - Per-round ratios candidate/baseline (0/0 counts as 1, as benchstat
///   treats equal zero medians); `delta_pct` = (median ratio − 1)·100.
/// - Interval: the order-statistic interval of the ratios' median at
///   `cfg.confidence`, the same binomial method as [`summarize`]
///   (`None` below 6 rounds at 95%).
/// - p-value: [`wilcoxon_signed_rank`] on the log ratios, so a round twice
///   as slow and a round twice as fast weigh the same.
/// - MDE from the spread of the log ratios (see `mde.rs`).
///
/// When a round has exactly one side ≤ 0 (or either negative) the ratio is
/// meaningless; then every statistic is computed on the per-round
/// differences candidate − baseline instead, and expressed as a percentage
/// of |median(baseline)| (no interval or MDE if that median is 0; see
/// [`relative_change_pct`] for the delta).
///
/// [`summarize`]: super::summarize
pub fn compare_paired(pairs: &[(f64, f64)], cfg: &CompareConfig) -> Effect {
    let test = Test::WilcoxonSignedRank;
    if pairs.is_empty() {
        return no_data(test);
    }
    let ratios: Option<Vec<f64>> = pairs.iter().map(|&(b, c)| ratio(b, c)).collect();
    if let Some(ratios) = ratios {
        let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
        let sorted = sorted_copy(&ratios);
        let interval = median_interval(&sorted, cfg.confidence)
            .map(|(lo, hi)| ((lo - 1.0) * 100.0, (hi - 1.0) * 100.0));
        return finish(Effect {
            delta_pct: (median_sorted(&sorted) - 1.0) * 100.0,
            delta_ci_low_pct: interval.map(|(lo, _)| lo),
            delta_ci_high_pct: interval.map(|(_, hi)| hi),
            p_value: Some(wilcoxon_signed_rank(&logs)),
            test,
            mde_pct: paired_log_mde_pct(&logs, cfg.alpha),
        });
    }

    let diffs: Vec<f64> = pairs.iter().map(|&(b, c)| c - b).collect();
    let baselines: Vec<f64> = pairs.iter().map(|&(b, _)| b).collect();
    let base_median = median_sorted(&sorted_copy(&baselines));
    let sorted = sorted_copy(&diffs);
    let diff_median = median_sorted(&sorted);
    let scale = base_median.abs();
    let interval = if scale > 0.0 {
        median_interval(&sorted, cfg.confidence).map(|(lo, hi)| (lo / scale * 100.0, hi / scale * 100.0))
    } else {
        None
    };
    finish(Effect {
        delta_pct: relative_change_pct(base_median, base_median + diff_median),
        delta_ci_low_pct: interval.map(|(lo, _)| lo),
        delta_ci_high_pct: interval.map(|(_, hi)| hi),
        p_value: Some(wilcoxon_signed_rank(&diffs)),
        test,
        mde_pct: paired_difference_mde_pct(&diffs, scale, cfg.alpha),
    })
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
    }
}

/// Keeps results JSON-safe: extreme but finite inputs can still overflow
/// a ratio, and JSON has no infinities.
fn finish(effect: Effect) -> Effect {
    let clamp = |x: f64| if x.is_nan() { 0.0 } else { x.clamp(f64::MIN, f64::MAX) };
    Effect {
        delta_pct: clamp(effect.delta_pct),
        delta_ci_low_pct: effect.delta_ci_low_pct.map(clamp),
        delta_ci_high_pct: effect.delta_ci_high_pct.map(clamp),
        p_value: effect.p_value.map(|p| if p.is_nan() { 1.0 } else { p }),
        mde_pct: effect.mde_pct.map(clamp),
        ..effect
    }
}
