//! Shared by the benches: deterministic input, so runs compare like with like.
#![allow(dead_code)]

/// Small deterministic generator (SplitMix64): benchmarks must not depend
/// on a random seed nor pull in a dependency for it.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal noise (Irwin–Hall), enough for benchmark jitter.
    pub fn noise(&mut self) -> f64 {
        (0..4).map(|_| self.unit()).sum::<f64>() - 2.0
    }
}

/// A complete run's `Results` around `samples` (analysed as `compare`
/// would, 8 rounds, both variants), with nothing else in it.
pub fn results(samples: Vec<perfgate::results::Sample>) -> perfgate::results::Results {
    use perfgate::model::Role;
    use perfgate::results::{Environment, Results, Run, VariantInfo};
    let analysis = perfgate::analyze::analyze(&samples, &perfgate::stats::CompareConfig::default());
    let variant = |role| VariantInfo {
        role,
        rev: "HEAD".into(),
        commit: "0123456789abcdef".into(),
        tree: "t".into(),
        patch: None,
    };
    let run = Run {
        id: "bench".into(),
        command: "perfgate compare --scenario big.toml".into(),
        started_at: "2026-12-03T00:00:00Z".into(),
        finished_at: Some("2026-12-03T00:10:00Z".into()),
        scenario_files: vec!["big.toml".into()],
        ..Run::example()
    };
    Results {
        samples,
        comparisons: analysis.comparisons,
        geomeans: analysis.geomeans,
        warnings: analysis.warnings,
        ..Results::new(run, Environment::default(), vec![variant(Role::Baseline), variant(Role::Candidate)])
    }
}
