//! Temporary placeholders for the comparison API while the real modules are
//! written; removed once each function has its own module.

use super::{Better, CompareConfig, Effect, Test, Verdict};

pub fn compare_unpaired(_baseline: &[f64], _candidate: &[f64], _cfg: &CompareConfig) -> Effect {
    placeholder(Test::MannWhitneyU)
}

pub fn compare_paired(_pairs: &[(f64, f64)], _cfg: &CompareConfig) -> Effect {
    placeholder(Test::WilcoxonSignedRank)
}

pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    p_values.to_vec()
}

pub fn verdict(
    _baseline_n: usize,
    _candidate_n: usize,
    _effect: &Effect,
    _q_value: Option<f64>,
    _better: Better,
    _cfg: &CompareConfig,
) -> Verdict {
    Verdict::Inconclusive
}

pub fn geomean(_values: &[f64]) -> Option<f64> {
    None
}

fn placeholder(test: Test) -> Effect {
    Effect {
        delta_pct: 0.0,
        delta_ci_low_pct: None,
        delta_ci_high_pct: None,
        p_value: None,
        test,
        mde_pct: None,
    }
}
