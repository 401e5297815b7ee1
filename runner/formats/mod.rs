//! Pure parsers of tool outputs (no I/O): Go benchmark text format.

pub mod callgrind;
pub mod gobench;
pub mod pprof;
pub mod prometheus;
