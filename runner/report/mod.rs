//! Report rendering: everything here reads a `Results` value (or parsed
//! benchmark files) and produces text; nothing measures or judges.

pub mod benchstat;
pub mod brief;
pub mod charts;
pub mod format;
pub mod html;
pub mod json;
pub mod terminal;
pub mod trend;

use crate::results::Results;
use std::path::{Path, PathBuf};

/// Writes every rendered report of a run next to its results.json:
/// report.html and brief.md. `results_dir` is
/// where results.json lives (flame graph paths are relative to it); `out`
/// is where the files go.
pub fn write_reports(results: &Results, results_dir: &Path, out: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let html = html::render(results, Some(results_dir));
    let html_path = out.join("report.html");
    json::write_atomically(&html_path, html.as_bytes())?;
    let brief_path = out.join("brief.md");
    json::write_atomically(&brief_path, brief::render(results).as_bytes())?;
    Ok(vec![html_path, brief_path])
}

/// A metric measured on one variant without anything to compare it with
/// (`perfgate run`, a nightly's first night): its own summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub variant: crate::model::Role,
    pub summary: crate::results::SideSummary,
}

/// Every (benchmark, metric, variant) of `scenario` that has samples, in
/// the order first measured, summarized as `compare` summarizes each side.
pub fn measured(results: &Results, scenario: &str) -> Vec<Measured> {
    let mut keys: Vec<(&str, &str, &str, crate::model::Role)> = Vec::new();
    let mut values: std::collections::HashMap<(&str, &str, crate::model::Role), Vec<f64>> =
        std::collections::HashMap::new();
    for s in results.samples.iter().filter(|s| s.scenario == scenario) {
        let key = (s.benchmark.as_str(), s.metric.as_str(), s.variant);
        let v = values.entry(key).or_default();
        if v.is_empty() {
            keys.push((s.benchmark.as_str(), s.metric.as_str(), s.unit.as_str(), s.variant));
        }
        v.push(s.value);
    }
    keys.into_iter()
        .map(|(benchmark, metric, unit, variant)| {
            let mut v = values.remove(&(benchmark, metric, variant)).unwrap_or_default();
            v.sort_by(f64::total_cmp);
            Measured {
                benchmark: benchmark.to_string(),
                metric: metric.to_string(),
                unit: unit.to_string(),
                variant,
                summary: (&crate::stats::summarize(&v, 0.95)).into(),
            }
        })
        .collect()
}
