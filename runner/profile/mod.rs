//! Profiles (DESIGN §2 `profile/`): hotspot tables and diffs computed as
//! `go tool pprof -top` computes them, rendered as pprof's text or JSON.
//! Decoding lives in `formats::pprof`; capture in the workloads.

pub mod flame;
pub mod measure;
pub mod text;
pub mod top;

pub use top::{Top, TopOptions, TopRow, diff, top};
