//! Shared vocabulary at the bottom of the pipeline: which way a metric is
//! good, which variant a number belongs to, what a comparison concludes, and
//! the key that names one compared metric. Every stage speaks these words;
//! this module imports nothing that does I/O.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which direction of a metric is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
}

impl Better {
    /// A change of `delta` (any sign convention where positive means "went
    /// up") went the good way for this metric. 0 is neither way.
    pub fn is_improvement(self, delta: f64) -> bool {
        match self {
            Better::Lower => delta < 0.0,
            Better::Higher => delta > 0.0,
        }
    }

    /// The change went the bad way for this metric (0 is neither way).
    pub fn is_worse(self, delta: f64) -> bool {
        delta != 0.0 && !self.is_improvement(delta)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Better::Lower => "lower",
            Better::Higher => "higher",
        }
    }
}

/// What a comparison concludes (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Improved,
    Regressed,
    Unchanged,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "regressed",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// Improved, regressed or unchanged: the evidence decided.
    pub fn is_settled(self) -> bool {
        self != Verdict::Inconclusive
    }
}

/// Which build a number was measured on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Baseline,
    Candidate,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Baseline => "baseline",
            Role::Candidate => "candidate",
        }
    }

    /// 0 for the baseline, 1 for the candidate: the slot in per-variant pairs.
    pub fn slot(self) -> usize {
        match self {
            Role::Baseline => 0,
            Role::Candidate => 1,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One compared quantity: a metric of a benchmark of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricKey {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
}

impl MetricKey {
    pub fn new(scenario: &str, benchmark: &str, metric: &str) -> MetricKey {
        MetricKey { scenario: scenario.into(), benchmark: benchmark.into(), metric: metric.into() }
    }
}

impl std::fmt::Display for MetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.benchmark == self.scenario {
            write!(f, "{} {}", self.scenario, self.metric)
        } else {
            write!(f, "{} {} {}", self.scenario, self.benchmark, self.metric)
        }
    }
}

/// Metrics counted under Valgrind (`measure = "instructions"`): counts, not
/// time — they repeat, so they are judged against the smaller
/// `count_threshold` and reported as counts.
pub fn is_count(metric: &str) -> bool {
    let base = metric.strip_suffix("/op").unwrap_or(metric);
    matches!(base, "instructions" | "l1_misses" | "ll_misses" | "estimated_cycles")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_of_a_change() {
        assert!(Better::Lower.is_improvement(-3.0) && !Better::Lower.is_worse(-3.0));
        assert!(Better::Lower.is_worse(3.0) && Better::Higher.is_worse(-3.0));
        assert!(!Better::Higher.is_worse(0.0) && !Better::Higher.is_improvement(0.0));
        assert!(Verdict::Unchanged.is_settled() && !Verdict::Inconclusive.is_settled());
        assert_eq!(Role::Candidate.slot(), 1);
        assert_eq!(MetricKey::new("s", "s", "throughput").to_string(), "s throughput");
    }
}
