//! `perfgate report RESULTS.json [--out DIR] [--format terminal|md|findings|html|json]`:
//! re-renders a stored run with the same code `compare` uses.

use super::{CliError, EXIT_OK};
use crate::report;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Terminal,
    Md,
    Findings,
    Html,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// A results.json written by `perfgate compare`.
    pub results: PathBuf,
    /// Directory to write report.html, brief.md and findings.md to (default: next to RESULTS.json).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print one format to stdout instead of writing the files (unless --out is also given).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

pub fn run(args: ReportArgs) -> Result<i32, CliError> {
    let results = report::json::read_results(&args.results).map_err(|e| CliError::bad_input(anyhow::anyhow!(e)))?;
    let results_dir = match args.results.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Some(format) = args.format {
        let text = match format {
            Format::Terminal => report::terminal::render(&results, report::terminal::color_enabled()),
            Format::Md => report::brief::render(&results),
            Format::Findings => report::findings::render(&results),
            Format::Html => report::html::render(&results, Some(&results_dir)),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(&results).map_err(CliError::run_failed)?;
                s.push('\n');
                s
            }
        };
        crate::out!("{text}");
        if args.out.is_none() {
            return Ok(EXIT_OK);
        }
    } else {
        crate::out!("{}", report::terminal::render(&results, report::terminal::color_enabled()));
    }
    let out = args.out.unwrap_or_else(|| results_dir.clone());
    let written = report::write_reports(&results, &results_dir, &out)
        .map_err(|e| CliError::run_failed(anyhow::anyhow!("cannot write the reports to {}: {e}", out.display())))?;
    for path in written {
        crate::note!("wrote {}", path.display());
    }
    Ok(EXIT_OK)
}
