//! Report rendering: everything here reads a `Results` value (or parsed
//! benchmark files) and produces text; nothing measures or judges.

pub mod benchstat;
pub mod brief;
pub mod charts;
pub mod confine;
pub mod database;
pub mod findings;
pub mod format;
pub mod html;
pub mod json;
pub mod terminal;
pub mod trend;

use crate::results::Results;
use std::path::{Path, PathBuf};

/// Writes every rendered report of a run next to its results.json:
/// report.html, brief.md and findings.md. `results_dir` is
/// where results.json lives (flame graph paths are relative to it); `out`
/// is where the files go.
pub fn write_reports(results: &Results, results_dir: &Path, out: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let html = html::render(results, Some(results_dir));
    let html_path = out.join("report.html");
    json::write_atomically(&html_path, html.as_bytes())?;
    let brief_path = out.join("brief.md");
    json::write_atomically(&brief_path, brief::render(results).as_bytes())?;
    let findings_path = out.join("findings.md");
    json::write_atomically(&findings_path, findings::render(results).as_bytes())?;
    Ok(vec![html_path, brief_path, findings_path])
}

/// The one-variant summaries of `scenario` (a run without a baseline), as
/// analysis recorded them.
pub fn measured<'a>(results: &'a Results, scenario: &str) -> Vec<&'a crate::results::Measured> {
    results.measured.iter().filter(|m| m.scenario == scenario).collect()
}
