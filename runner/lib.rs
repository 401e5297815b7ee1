//! perfgate: a benchmark-and-profile harness. Builds a baseline and a
//! candidate, runs scenarios against both in interleaved randomized rounds,
//! and reports what changed with statistics that survive a noisy machine.
//!
//! Pipeline (data flows one way, DESIGN §2): `plan` (scenario files, flags)
//! → `build` (variants, cached builds) → `execute` (rounds until the
//! stopping rule or the budget says stop; profiling passes) → `analyze`
//! (`stats`) → `results` → `report` (and `nightly`'s history stage).
//! Shared vocabulary lives at the bottom, in `model`.

/// `eprintln!` that never panics: a closed stderr (`perfgate … 2>&1 | head`)
/// must not abort a run and leave its processes behind.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($arg)*);
    }};
}

/// `print!` to stdout that never panics on a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::write!(::std::io::stdout(), $($arg)*);
    }};
}

pub mod analyze;
pub mod build;
pub mod cli;
pub mod compare;
pub mod config;
pub mod doctor;
pub mod environment;
pub mod execute;
pub mod formats;
pub mod history;
pub mod init;
pub mod load;
pub mod mcp;
pub mod merge;
pub mod model;
pub mod nightly;
pub mod paths;
pub mod plan;
pub mod process;
pub mod profile;

pub mod report;
pub mod results;
pub mod schedule;
pub mod schemas;
pub mod scope;
pub mod shard;
pub mod stats;
pub mod target;
pub mod variant;
pub mod watchdog;
pub mod workload;
