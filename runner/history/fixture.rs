//! Synthetic nights for the history's tests and benchmarks: Go benchmark
//! results with seeded noise, analysed as a nightly analyses them.

use crate::model::{Better, Role};
use crate::results::{Results, Sample};
use crate::stats::CompareConfig;

/// Deterministic noise in [-1, 1].
pub fn noise(i: u64) -> f64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// One night: `metrics` Go benchmarks at `level` ns/op tonight, measured
/// against `previous` (the last night's level) unless it is the first.
pub fn night(seed: u64, previous: Option<f64>, level: f64, metrics: usize, rounds: u32) -> Results {
    let mut samples = Vec::new();
    for m in 0..metrics {
        for round in 0..rounds {
            let mut push = |variant: Role, level: f64| {
                let i = seed * 1_000_003 + (m as u64) * 1009 + round as u64 * 2 + variant as u64;
                samples.push(Sample {
                    scenario: "bench".into(),
                    benchmark: format!("BenchmarkQuery/{m:03}-2"),
                    metric: "sec/op".into(),
                    unit: "ns/op".into(),
                    better: Better::Lower,
                    variant,
                    round,
                    value: level * (1.0 + 0.01 * noise(i)),
                });
            };
            if let Some(p) = previous {
                push(Role::Baseline, p);
            }
            push(Role::Candidate, level);
        }
    }
    results(samples, seed, "bench", rounds)
}

/// A complete nightly's results.json of `samples` (analysed here), run
/// `2026010{day}-020000-{name}` on day `day` of January 2026. Built through
/// JSON, as results.json is read, so new optional fields need no change here.
pub fn results(samples: Vec<Sample>, day: u64, name: &str, rounds: u32) -> Results {
    let comparisons = crate::analyze::analyze(&samples, &CompareConfig::default()).comparisons;
    let json = serde_json::json!({
        "schema_version": 1,
        "tool": { "name": "perfgate", "version": "0.1.0" },
        "run": {
            "id": format!("2026010{day}-020000-{name}"),
            "command": "perfgate nightly",
            "started_at": format!("2026-01-0{day}T02:00:00Z"),
            "finished_at": format!("2026-01-0{day}T02:10:00Z"),
            "seed": day,
            "rounds": rounds,
            "status": "complete",
            "alpha": 0.05,
            "threshold_pct": 2.0,
        },
        "environment": {
            "os": "linux", "kernel": "6.1", "cpu_model": "Test CPU", "cores": 2,
            "memory_bytes": 1u64 << 30, "hostname": "ci-1",
        },
        "variants": [],
        "samples": samples,
        "comparisons": comparisons,
    });
    serde_json::from_value(json).expect("a valid results.json")
}

/// A run of `set` to record: tonight's `commit`, against `baseline`.
pub fn new_run<'a>(results: &'a Results, commit: &'a str, baseline: Option<&'a str>, set: &str) -> super::NewRun<'a> {
    super::NewRun {
        results,
        revision: "HEAD",
        commit,
        tree: "tree",
        baseline_commit: baseline,
        report_dir: "20260101-020000-bench",
        scenario_set: set.into(),
    }
}
