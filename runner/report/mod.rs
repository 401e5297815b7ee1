//! Report rendering: everything here reads a `Results` value (or parsed
//! benchmark files) and produces text; nothing measures or judges.

pub mod benchstat;
pub mod brief;
pub mod format;
pub mod json;
pub mod terminal;
