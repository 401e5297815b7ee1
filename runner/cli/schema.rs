//! `perfgate schema results|scenario`: prints a JSON Schema, for editors and
//! for `just schemas`, which refreshes the committed copies in `schemas/`.

use super::{CliError, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// Which file format to describe.
    #[arg(value_enum)]
    pub which: Which,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Which {
    /// results.json (DESIGN §7).
    Results,
    /// Scenario files (DESIGN §3).
    Scenario,
}

pub fn run(args: SchemaArgs) -> Result<i32, CliError> {
    let schema = match args.which {
        Which::Results => crate::schemas::results_schema(),
        Which::Scenario => crate::schemas::scenario_schema(),
    };
    crate::out!("{}", crate::schemas::to_file_text(&schema));
    Ok(EXIT_OK)
}
