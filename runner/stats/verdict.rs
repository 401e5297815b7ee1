//! Verdicts: one word per metric (improved, regressed, unchanged,
//! inconclusive) from an effect, its p- or q-value and the metric's
//! direction, following the rules of DESIGN §6.

use super::{CompareConfig, Effect};
use crate::model::{Better, Verdict};

/// Fewest values per side before any verdict other than inconclusive.
const MIN_SAMPLES: usize = 4;

/// Decides the verdict for one metric.
///
/// 1. `Inconclusive` if either side has fewer than 4 values.
/// 2. `Improved`/`Regressed` if the q-value (the p-value when `q_value` is
///    `None`) is ≤ α, |delta| ≥ threshold, and the delta interval (when
///    there is one) excludes zero; the sign of delta and `better` give the
///    direction (`Lower`: a negative delta is an improvement).
/// 3. `Unchanged` if the delta interval is present on both sides and lies
///    within ±threshold, significant or not: the change, whatever it is, is
///    too small to matter.
/// 4. Otherwise `Inconclusive`: neither a real change nor its absence is
///    established; more rounds would tell.
///
/// `cfg.threshold` is a fraction (0.02 = 2%), the effect is in percent.
pub fn verdict(
    baseline_n: usize,
    candidate_n: usize,
    effect: &Effect,
    q_value: Option<f64>,
    better: Better,
    cfg: &CompareConfig,
) -> Verdict {
    if baseline_n < MIN_SAMPLES || candidate_n < MIN_SAMPLES {
        return Verdict::Inconclusive;
    }
    let threshold_pct = cfg.threshold.abs() * 100.0;
    let delta = effect.delta_pct;
    let significant = q_value.or(effect.p_value).is_some_and(|p| p <= cfg.alpha);
    // A verdict must agree with its own interval: when there is one, it
    // lies wholly on the side of the change. (The signed-rank test and the
    // median's order-statistic interval can disagree at small n; a row that
    // says "regressed +8.8% [-3.5, +16.6]" would contradict itself.)
    let interval_agrees = match (effect.delta_ci_low_pct, effect.delta_ci_high_pct) {
        (Some(lo), Some(hi)) => (delta > 0.0 && lo > 0.0) || (delta < 0.0 && hi < 0.0),
        _ => true,
    };
    if significant && interval_agrees && delta != 0.0 && delta.abs() >= threshold_pct {
        let got_lower = delta < 0.0;
        let improved = got_lower == (better == Better::Lower);
        return if improved { Verdict::Improved } else { Verdict::Regressed };
    }
    if let (Some(lo), Some(hi)) = (effect.delta_ci_low_pct, effect.delta_ci_high_pct)
        && lo >= -threshold_pct
        && hi <= threshold_pct
    {
        return Verdict::Unchanged;
    }
    Verdict::Inconclusive
}

/// One comparison of a family: sample sizes, effect, direction.
pub struct FamilyMember<'a> {
    pub baseline_n: usize,
    pub candidate_n: usize,
    pub effect: &'a Effect,
    pub better: Better,
    /// Its own threshold (a count's), else the family's.
    pub threshold: Option<f64>,
}

/// Verdicts for a family of comparisons judged together: p-values are
/// corrected with Benjamini–Hochberg across the family, and each verdict uses
/// its q-value. Returns (q, verdict) per member, in order; q is `None` where
/// the member had no test.
///
/// A comparison whose test cannot reach α at its n (no variation at all —
/// B/op 0 = 0 every round —, or too few informative rounds) is left out of
/// the family, as Tarone's procedure leaves out hypotheses that cannot be
/// rejected: counting it would only inflate the others' q-values. Its q is
/// its own p.
///
/// Under the sequential rule p = 1/e for e-values taken at the stopping
/// time, and Benjamini–Hochberg on those is the e-BH procedure (Wang &
/// Ramdas 2022), which controls the false discovery rate under any
/// dependence between the metrics and whenever the run stopped.
pub fn judge_family(members: &[FamilyMember<'_>], cfg: &CompareConfig) -> Vec<(Option<f64>, Verdict)> {
    let tested: Vec<usize> =
        (0..members.len()).filter(|&i| members[i].effect.p_value.is_some() && members[i].effect.in_family).collect();
    let ps: Vec<f64> = tested.iter().filter_map(|&i| members[i].effect.p_value).collect();
    let mut qs: Vec<Option<f64>> = members.iter().map(|m| m.effect.p_value).collect();
    for (&i, q) in tested.iter().zip(super::benjamini_hochberg(&ps)) {
        qs[i] = Some(q);
    }
    members
        .iter()
        .zip(qs)
        .map(|(m, q)| {
            let own = CompareConfig { threshold: m.threshold.unwrap_or(cfg.threshold), ..*cfg };
            (q, verdict(m.baseline_n, m.candidate_n, m.effect, q, m.better, &own))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Test;

    fn effect(delta: f64, ci: Option<(f64, f64)>, p: Option<f64>) -> Effect {
        Effect {
            delta_pct: delta,
            delta_ci_low_pct: ci.map(|c| c.0),
            delta_ci_high_pct: ci.map(|c| c.1),
            p_value: p,
            test: Test::MannWhitneyU,
            mde_pct: None,
            e_value: None,
            // As the rule decides it: no variation at all cannot reach α.
            in_family: !(p == Some(1.0) && delta == 0.0 && ci == Some((0.0, 0.0))),
            needs: None,
        }
    }

    #[test]
    #[rustfmt::skip]
    fn verdict_table() {
        // Expected verdicts worked out by hand from the rules of DESIGN §6,
        // with α = 0.05 and threshold 2%.
        use Better::{Higher, Lower};
        use Verdict::*;
        let cfg = CompareConfig::default();
        type Case = (usize, usize, f64, Option<(f64, f64)>, Option<f64>, Option<f64>, Better, Verdict);
        let cases: &[Case] = &[
            // n_b, n_c, delta, interval, p, q, better → verdict
            // Significant and big: direction from `better`.
            (10, 10, -5.0, Some((-7.0, -3.0)), Some(0.001), None, Lower, Improved),
            (10, 10, -5.0, Some((-7.0, -3.0)), Some(0.001), None, Higher, Regressed),
            (10, 10, 5.0, Some((3.0, 7.0)), Some(0.001), None, Lower, Regressed),
            (10, 10, 5.0, None, Some(0.001), None, Higher, Improved),
            // Exactly at the threshold and exactly at α still count.
            (10, 10, 2.0, Some((1.0, 3.0)), Some(0.05), None, Lower, Regressed),
            // Fewer than 4 values on either side, however clear the data.
            (3, 10, -50.0, Some((-60.0, -40.0)), Some(0.0001), None, Lower, Inconclusive),
            (10, 3, 0.0, Some((-0.1, 0.1)), Some(1.0), None, Lower, Inconclusive),
            (4, 4, -50.0, Some((-60.0, -40.0)), Some(0.03), None, Lower, Improved),
            // Not significant, interval within ±2%.
            (10, 10, 0.5, Some((-1.5, 1.9)), Some(0.4), None, Lower, Unchanged),
            // Significant but small, interval within ±2%.
            (10, 10, 1.0, Some((0.5, 1.5)), Some(0.001), None, Lower, Unchanged),
            // Significant but small, interval reaching past 2%.
            (10, 10, 1.0, Some((0.5, 2.5)), Some(0.001), None, Lower, Inconclusive),
            // Not significant, interval too wide or missing.
            (10, 10, 3.0, Some((-1.0, 6.0)), Some(0.2), None, Lower, Inconclusive),
            (10, 10, 0.1, None, Some(0.9), None, Lower, Inconclusive),
            // No test at all, but a tight interval.
            (10, 10, 0.1, Some((-1.0, 1.0)), None, None, Lower, Unchanged),
            // q replaces p: significant p, FDR-adjusted q not...
            (10, 10, -5.0, Some((-9.0, 1.0)), Some(0.01), Some(0.2), Lower, Inconclusive),
            // ...and the other way round.
            (10, 10, -5.0, Some((-9.0, -1.0)), Some(0.2), Some(0.01), Lower, Improved),
        ];
        for (i, &(nb, nc, delta, ci, p, q, better, want)) in cases.iter().enumerate() {
            assert_eq!(verdict(nb, nc, &effect(delta, ci, p), q, better, &cfg), want, "case {i}");
        }
    }

    #[test]
    fn zero_delta_has_no_direction() {
        // With threshold 0, a significant p and a zero delta: no direction
        // to call, so the interval decides.
        let cfg = CompareConfig { threshold: 0.0, ..CompareConfig::default() };
        let e = effect(0.0, Some((-1.0, 1.0)), Some(0.01));
        assert_eq!(verdict(10, 10, &e, None, Better::Lower, &cfg), Verdict::Inconclusive);
        let e = effect(0.0, Some((0.0, 0.0)), Some(0.01));
        assert_eq!(verdict(10, 10, &e, None, Better::Lower, &cfg), Verdict::Unchanged);
    }

    #[test]
    fn family_uses_q_values() {
        // p = 0.01, 0.04, 0.5 → BH q = 0.03, 0.06, 0.5 (p·m/rank, step-up;
        // hand calculation). The second is significant alone, not in the family.
        let cfg = CompareConfig::default();
        let e = [
            effect(-10.0, Some((-12.0, -8.0)), Some(0.01)),
            effect(-10.0, Some((-12.0, -8.0)), Some(0.04)),
            effect(0.0, None, Some(0.5)),
        ];
        let members: Vec<FamilyMember> = e
            .iter()
            .map(|e| FamilyMember {
                baseline_n: 10,
                candidate_n: 10,
                effect: e,
                better: Better::Lower,
                threshold: None,
            })
            .collect();
        let judged = judge_family(&members, &cfg);
        let qs: Vec<f64> = judged.iter().map(|j| j.0.unwrap()).collect();
        assert!((qs[0] - 0.03).abs() < 1e-12 && (qs[1] - 0.06).abs() < 1e-12 && (qs[2] - 0.5).abs() < 1e-12, "{qs:?}");
        assert_eq!(judged[0].1, Verdict::Improved);
        assert_eq!(judged[1].1, Verdict::Inconclusive);
    }

    #[test]
    fn comparisons_with_no_variation_do_not_dilute_the_family() {
        // The nightly case: ns/op +28% at the smallest p 8 paired rounds
        // allow (0.0078), next to B/op and allocs/op that are 0 = 0 in
        // every round. Counted, they would make q = 0.023 (still fine) —
        // and at 6 rounds, p 0.031 → q 0.094, no verdict.
        let cfg = CompareConfig::default();
        let zero = effect(0.0, Some((0.0, 0.0)), Some(1.0));
        let slower = effect(28.0, Some((18.0, 31.0)), Some(0.03125));
        let members: Vec<FamilyMember> = [&slower, &zero, &zero]
            .into_iter()
            .map(|e| FamilyMember { baseline_n: 6, candidate_n: 6, effect: e, better: Better::Lower, threshold: None })
            .collect();
        let judged = judge_family(&members, &cfg);
        assert_eq!(judged[0], (Some(0.03125), Verdict::Regressed));
        assert_eq!(judged[1], (Some(1.0), Verdict::Unchanged));
        // A p of 1 with any variation is still a member of the family.
        let flat = effect(0.0, Some((-3.0, 3.0)), Some(1.0));
        let members: Vec<FamilyMember> = [&slower, &flat]
            .into_iter()
            .map(|e| FamilyMember { baseline_n: 6, candidate_n: 6, effect: e, better: Better::Lower, threshold: None })
            .collect();
        assert!((judge_family(&members, &cfg)[0].0.unwrap() - 0.0625).abs() < 1e-12);
    }

    #[test]
    fn a_significant_change_whose_interval_spans_zero_is_inconclusive() {
        let cfg = CompareConfig::default();
        // The row that prompted the rule: q = 0.027, +8.8% [-3.5, +16.6].
        let e = effect(8.8, Some((-3.5, 16.6)), Some(0.016));
        assert_eq!(verdict(8, 8, &e, Some(0.027), Better::Lower, &cfg), Verdict::Inconclusive);
        let e = effect(8.8, Some((2.5, 16.6)), Some(0.016));
        assert_eq!(verdict(8, 8, &e, Some(0.027), Better::Lower, &cfg), Verdict::Regressed);
        // No interval (n < 6): the test alone decides, as before.
        let e = effect(-30.0, None, Some(0.008));
        assert_eq!(verdict(5, 5, &e, Some(0.008), Better::Lower, &cfg), Verdict::Improved);
    }
}
