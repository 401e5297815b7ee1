//! Pure parsers of tool outputs (no I/O): Go benchmark text, pprof,
//! callgrind, Prometheus text, criterion and libtest results, cargo's JSON.

pub mod callgrind;
pub mod cargo;
pub mod criterion;
pub mod gobench;
pub mod pgplan;
pub mod pprof;
pub mod prometheus;
