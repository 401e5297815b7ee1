//! `perfgate benchstat OLD.txt NEW.txt`: compares two Go benchmark files
//! with benchstat's numbers and layout. Reads the files and hands them to
//! `formats::gobench` and `report::benchstat`; a report, so it exits 0.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use super::{CliError, EXIT_OK};
use crate::formats::gobench;
use crate::report::benchstat::{self as render, Input, Options};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// benchstat's fixed-width table.
    Text,
    /// benchstat's `-format csv` (warnings go to stderr).
    Csv,
    /// `{"comparisons": [...], "geomeans": [...]}` in the results.json model.
    Json,
}

#[derive(clap::Args, Debug)]
pub struct BenchstatArgs {
    /// Baseline `go test -bench` output. `LABEL=PATH` sets the column label.
    #[arg(value_name = "OLD.txt")]
    pub old: String,
    /// Candidate `go test -bench` output. `LABEL=PATH` sets the column label.
    #[arg(value_name = "NEW.txt")]
    pub new: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Consider a change significant if p <= α (benchstat's -alpha).
    #[arg(long, default_value_t = 0.05, value_name = "α")]
    pub alpha: f64,
    /// Confidence level for the ± intervals (benchstat's -confidence).
    #[arg(long, default_value_t = 0.95, value_name = "LEVEL")]
    pub confidence: f64,
}

pub fn run(args: BenchstatArgs) -> Result<i32, CliError> {
    if !(0.0..=1.0).contains(&args.alpha) {
        return Err(CliError::bad_input(anyhow!("--alpha must be in range [0, 1], got {}", args.alpha)));
    }
    if !(0.0..=1.0).contains(&args.confidence) {
        return Err(CliError::bad_input(anyhow!("--confidence must be in range [0, 1], got {}", args.confidence)));
    }

    let specs = labels_and_paths(&[args.old.as_str(), args.new.as_str()]);
    // Reading and parsing are independent per file: one thread each.
    let loaded: Vec<Result<Loaded, CliError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = specs.iter().map(|(_, path)| scope.spawn(move || load(path))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(CliError::run_failed(anyhow!("parser thread panicked")))))
            .collect()
    });
    let mut files = Vec::with_capacity(specs.len());
    for ((label, _), loaded) in specs.iter().zip(loaded) {
        let loaded = loaded?;
        for w in &loaded.warnings {
            crate::note!("{w}");
        }
        files.push((label.clone(), loaded.file));
    }

    let inputs: Vec<Input<'_>> = files.iter().map(|(label, file)| Input { label, file }).collect();
    let options = Options { alpha: args.alpha, confidence: args.confidence };
    let report = render::build(&inputs, &options);
    for w in &report.warnings {
        crate::note!("{w}");
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Format::Text => out.write_all(render::render_text(&report).as_bytes()),
        Format::Csv => {
            let csv = render::render_csv(&report);
            eprint!("{}", csv.warnings);
            out.write_all(csv.csv.as_bytes())
        }
        Format::Json => {
            let threshold = crate::stats::CompareConfig::default().threshold;
            out.write_all(render::render_json(&report, threshold).as_bytes())
        }
    };
    // The process exits right after this; freeing a million small
    // allocations one by one would only delay that (~5% of a 50 MB run).
    std::mem::forget(report);
    std::mem::forget(files);
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(EXIT_OK),
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(EXIT_OK),
        Err(e) => Err(CliError::run_failed(anyhow!("writing the report: {e}"))),
    }
}

/// One parsed input and the malformed lines that were skipped.
struct Loaded {
    file: gobench::GoBenchFile,
    warnings: Vec<String>,
}

fn load(path: &Path) -> Result<Loaded, CliError> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read {}; pass the output of `go test -bench`", path.display()))
        .map_err(CliError::bad_input)?;
    // Invalid UTF-8 (a stray byte in test output) must not reject the file;
    // the strict check first because it is much faster than the lossy one.
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let (file, errors) = gobench::parse_lenient(&text);
    // Like benchstat, malformed lines are reported and skipped.
    let warnings: Vec<String> = errors.iter().map(|e| format!("{}:{e}", path.display())).collect();
    if file.results.is_empty() {
        let why = match warnings.first() {
            Some(w) => format!("; first problem at {w}"),
            None => String::new(),
        };
        return Err(CliError::bad_input(anyhow!(
            "{} has no benchmark results (expected lines like `BenchmarkName-8  1000  1234 ns/op`){why}",
            path.display()
        )));
    }
    Ok(Loaded { file, warnings })
}

/// benchfmt.Files: `label=path` sets a label; a path given twice gets
/// `path#0`, `path#1` so its samples are not silently merged.
fn labels_and_paths(args: &[&str]) -> Vec<(String, PathBuf)> {
    let mut specs: Vec<(String, PathBuf, bool)> = args
        .iter()
        .map(|a| match a.split_once('=') {
            Some((label, path)) => (label.to_string(), PathBuf::from(path), true),
            None => (a.to_string(), PathBuf::from(a), false),
        })
        .collect();
    let unlabeled = |p: &PathBuf, specs: &[(String, PathBuf, bool)]| specs.iter().filter(|s| !s.2 && &s.1 == p).count();
    let mut seen: Vec<(PathBuf, usize)> = Vec::new();
    for i in 0..specs.len() {
        if specs[i].2 || unlabeled(&specs[i].1, &specs) < 2 {
            continue;
        }
        let path = specs[i].1.clone();
        let n = match seen.iter_mut().find(|(p, _)| *p == path) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((path.clone(), 0));
                0
            }
        };
        specs[i].0 = format!("{}#{n}", path.display());
    }
    specs.into_iter().map(|(l, p, _)| (l, p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_like_benchstat() {
        let got = labels_and_paths(&["O=old.txt", "new.txt"]);
        assert_eq!(got, vec![("O".into(), PathBuf::from("old.txt")), ("new.txt".into(), PathBuf::from("new.txt"))]);
        let got = labels_and_paths(&["a.txt", "a.txt"]);
        assert_eq!(got[0].0, "a.txt#0");
        assert_eq!(got[1].0, "a.txt#1");
    }
}
