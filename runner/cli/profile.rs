//! `perfgate profile top FILE` and `perfgate profile diff BASE NEW`: pprof
//! hotspots per function, as `go tool pprof -top` (and `-diff_base`) report
//! them, as text or JSON. A report: exit 0, or 2 for a file that is not a
//! usable profile.

use super::{CliError, EXIT_OK};
use crate::formats::pprof::Profile;
use crate::profile::{self, TopOptions};
use anyhow::anyhow;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ProfileArgs {
    #[command(subcommand)]
    pub command: ProfileCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ProfileCommand {
    /// Flat and cum per function, heaviest first (like `go tool pprof -top`).
    Top {
        /// A pprof profile (`.pb.gz`, as Go writes them).
        file: PathBuf,
        #[command(flatten)]
        opts: Options,
    },
    /// NEW minus BASE per function, percentages of BASE's total (like
    /// `go tool pprof -top -diff_base BASE NEW`).
    Diff {
        base: PathBuf,
        new: PathBuf,
        #[command(flatten)]
        opts: Options,
    },
}

#[derive(clap::Args, Debug)]
pub struct Options {
    /// Show at most N functions (default: every function above the cutoff).
    #[arg(long, value_name = "N")]
    pub n: Option<usize>,
    /// Which value to rank by: a sample type (`alloc_space`, `inuse_objects`,
    /// `cpu`, ...) or its index; default as pprof picks it.
    #[arg(long = "sample-index", value_name = "NAME")]
    pub sample_index: Option<String>,
    /// Print `{ "unit", "total", "top": [...] }` instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ProfileArgs) -> Result<i32, CliError> {
    let (top, json) = match args.command {
        ProfileCommand::Top { file, opts } => {
            let p = load(&file)?;
            let t = profile::top(&p, &top_options(&opts)).map_err(|e| bad(&file, e))?;
            (t, opts.json)
        }
        ProfileCommand::Diff { base, new, opts } => {
            let (b, n) = (load(&base)?, load(&new)?);
            let t = profile::diff(&b, &n, &top_options(&opts)).map_err(|e| bad(&new, e))?;
            (t, opts.json)
        }
    };
    if json {
        let text = serde_json::to_string_pretty(&profile::to_json(&top)).map_err(CliError::run_failed)?;
        crate::out!("{text}");
    } else {
        crate::out!("{}", profile::text::render(&top));
    }
    Ok(EXIT_OK)
}

fn top_options(o: &Options) -> TopOptions {
    TopOptions { sample_index: o.sample_index.clone(), nodecount: o.n.unwrap_or(0), ..TopOptions::default() }
}

fn bad(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::bad_input(anyhow!("{}: {e}", path.display()))
}

/// Reads and decodes a profile; an empty one is bad input too.
pub fn load(path: &Path) -> Result<Profile, CliError> {
    profile::read(path).map_err(|e| CliError::bad_input(anyhow!(e)))
}
