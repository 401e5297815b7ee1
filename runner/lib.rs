//! perfgate: a benchmark-and-profile harness. Builds a baseline and a
//! candidate, runs scenarios against both in interleaved randomized rounds,
//! and reports what changed with statistics that survive a noisy machine.
//!
//! Pipeline (data flows one way): config → variant → schedule → workload →
//! analyze (stats) → results → report.

pub mod analyze;
pub mod cli;
pub mod compare;
pub mod config;
pub mod environment;
pub mod formats;
pub mod process;
pub mod report;
pub mod results;
pub mod schedule;
pub mod stats;
pub mod variant;
pub mod workload;
