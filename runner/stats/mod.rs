//! Statistics: pure functions from samples to summaries, tests, effects and
//! verdicts (DESIGN §6). No I/O. `analyze` calls these; `report` never does.
//! Summaries and the Mann–Whitney U test reproduce Go's benchstat exactly.

use serde::{Deserialize, Serialize};

/// Summary of one sample. `ci_low`/`ci_high` are `None` when the sample is
/// too small for a bounded interval at the requested confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub confidence: f64,
    pub mean: f64,
    pub stddev: f64,
    pub cv: f64,
    pub min: f64,
    pub max: f64,
}

/// Knobs for comparisons and verdicts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CompareConfig {
    /// Significance level (benchstat: 0.05).
    pub alpha: f64,
    /// Confidence level for intervals (benchstat: 0.95).
    pub confidence: f64,
    /// Smallest relative change worth calling a change, as a fraction (0.02 = 2%).
    pub threshold: f64,
    /// The same for counts (instructions under Valgrind), which repeat to
    /// ~0.1%: a 1% change in them is real (default 0.5%).
    pub count_threshold: f64,
    /// The decision rule for paired rounds.
    pub rule: Rule,
    /// Also estimate the MDE (by resampling: skipped at a sequential run's
    /// intermediate looks).
    pub power: bool,
    /// Also estimate the rounds an open comparison would need.
    pub settle: bool,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            alpha: 0.05,
            confidence: 0.95,
            threshold: 0.02,
            count_threshold: DEFAULT_COUNT_THRESHOLD,
            rule: Rule::Fixed,
            power: true,
            settle: true,
        }
    }
}

/// `count_threshold`'s default: 0.5%.
pub const DEFAULT_COUNT_THRESHOLD: f64 = 0.005;

impl CompareConfig {
    /// The configuration one metric is judged with: counts use
    /// `count_threshold` as their threshold.
    pub fn for_metric(&self, metric: &str) -> CompareConfig {
        if crate::model::is_count(metric) { CompareConfig { threshold: self.count_threshold, ..*self } } else { *self }
    }
}

/// How paired rounds are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// A fixed number of rounds: the signed-rank test and the symmetric
    /// order-statistic interval of the median ratio.
    Fixed,
    /// Looks after every round: the sign e-value and confidence sequence of
    /// `sequential`, valid however often the run looks and whenever it stops.
    Sequential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Test {
    #[serde(rename = "mann-whitney-u")]
    MannWhitneyU,
    #[serde(rename = "wilcoxon-signed-rank")]
    WilcoxonSignedRank,
    /// The anytime-valid sign test of `sequential` (p = 1/e-value).
    #[serde(rename = "sequential-sign")]
    SequentialSign,
    /// No test: counts that repeat (every round gave the same count on each
    /// side, or counts within `effect::COUNT_JITTER` of each other), so the
    /// difference is exact up to that range.
    #[serde(rename = "exact")]
    Exact,
}

impl Test {
    /// The name used in results.json (`test` field).
    pub fn as_str(self) -> &'static str {
        match self {
            Test::MannWhitneyU => "mann-whitney-u",
            Test::WilcoxonSignedRank => "wilcoxon-signed-rank",
            Test::SequentialSign => "sequential-sign",
            Test::Exact => "exact",
        }
    }

    pub fn from_name(name: &str) -> Option<Test> {
        [Test::MannWhitneyU, Test::WilcoxonSignedRank, Test::SequentialSign, Test::Exact]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// The effect of candidate relative to baseline, in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub delta_pct: f64,
    pub delta_ci_low_pct: Option<f64>,
    pub delta_ci_high_pct: Option<f64>,
    /// `None` when no test could be run (e.g. a side is empty).
    pub p_value: Option<f64>,
    pub test: Test,
    /// The smallest change the rule applied detects with 80% power at this
    /// noise level and n, in percent.
    pub mde_pct: Option<f64>,
    /// Sequential rule: the e-value against "no change" (p = 1/e).
    pub e_value: Option<f64>,
    /// The test can reach α at this n (else it leaves the multiple-testing
    /// family: it could only inflate the others' q-values).
    pub in_family: bool,
    /// For an open comparison: the rounds its interval would need to settle,
    /// extrapolated from this noise.
    pub needs: Option<power::Needs>,
}

mod effect;
mod geomean;
mod mann_whitney;
mod mde;
mod multiple;
pub mod power;
pub mod sequential;
mod shift_interval;
mod special;
mod summary;
mod verdict;
mod wilcoxon;

pub use effect::{compare_exact, compare_paired, compare_paired_on_scale, compare_unpaired};
pub use geomean::geomean;
pub use mann_whitney::{mann_whitney_u, u_test_min_samples};
pub use multiple::benjamini_hochberg;
pub(crate) use special::students_t_sf;
pub(crate) use summary::median_sorted;
pub use summary::{median_ci_min_samples, summarize};
pub use verdict::{FamilyMember, judge_family, verdict};
pub use wilcoxon::wilcoxon_signed_rank;
