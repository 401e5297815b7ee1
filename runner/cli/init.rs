//! `perfgate init [--force] [--dir DIR]`: write a first perf.toml.

use super::{CliError, EXIT_OK};
use crate::init::{self, InitError};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Replace an existing perf.toml.
    #[arg(long)]
    pub force: bool,
    /// The repository [default: the git repository around the current directory, else it].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: InitArgs) -> Result<i32, CliError> {
    let start = match args.dir {
        Some(d) => d,
        None => std::env::current_dir().map_err(CliError::bad_input)?,
    };
    if !start.is_dir() {
        return Err(CliError::bad_input(anyhow::anyhow!("{} is not a directory", start.display())));
    }
    let root = init::repo_root(&start);
    let outcome = match init::init(&root, args.force) {
        Ok(o) => o,
        Err(e @ InitError::Exists(_)) => return Err(CliError::bad_input(e)),
        Err(e) => return Err(CliError::run_failed(e)),
    };
    let shown = relative(&outcome.path);
    if outcome.template {
        crate::out!(
            "Nothing to measure found in {}: no Go benchmarks (func BenchmarkXxx(b *testing.B)), no Go main package \
             serving HTTP, no Rust crate with criterion benches.\n\
             wrote {shown}: a commented template. Uncomment a scenario and edit it, then:\n  \
             perfgate validate {shown}\n",
            root.display()
        );
        return Ok(EXIT_OK);
    }
    crate::out!("{}", found_lines(&outcome.findings));
    let list: Vec<String> = outcome.scenarios.iter().map(|(n, k)| format!("{n} ({k})")).collect();
    crate::out!("wrote {shown}: {} scenario(s): {} — validated.\n", list.len(), list.join(", "));
    crate::out!("Lines marked GUESS in it are guesses; check them. Next:\n");
    crate::out!("  perfgate doctor                 # tools, and how noisy this machine is\n");
    crate::out!("  perfgate compare                # HEAD vs your working tree, with {shown}\n");
    crate::out!("  perfgate compare --baseline <older-rev> --candidate HEAD\n");
    Ok(EXIT_OK)
}

fn found_lines(found: &init::detect::Findings) -> String {
    let mut out = String::new();
    for m in &found.go_modules {
        let benchmarks: usize = m.bench_packages.iter().map(|(_, n)| n).sum();
        if benchmarks > 0 {
            out += &format!(
                "found: Go module {} ({}): {benchmarks} benchmark(s) in {} package(s)\n",
                m.path,
                m.dir,
                m.bench_packages.len()
            );
        }
        for s in &m.services {
            let pprof = if s.pprof { ", net/http/pprof imported" } else { "" };
            let dir = m.package_dir(&s.package);
            out += &format!("found: an HTTP service, package main in {dir}{pprof}\n");
        }
    }
    for c in &found.crates {
        out += &format!("found: Rust crate {} ({}): criterion benches {}\n", c.name, c.dir, c.benches.join(", "));
    }
    out
}

/// `path` relative to the current directory when it is under it.
fn relative(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok();
    let cwd = cwd.and_then(|c| std::fs::canonicalize(c).ok());
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match cwd.as_deref().and_then(|c| abs.strip_prefix(c).ok()) {
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}
