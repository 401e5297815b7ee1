//! Scenario files (TOML): `config::parse` parses and validates in one step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match perfgate::config::parse(Path::new("fuzz.toml"), text) {
        Ok(file) => {
            assert!(!file.scenarios.is_empty());
            for s in &file.scenarios {
                let _ = s.kind.name();
                let mut quick = s.kind.clone();
                let _ = quick.quicken();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
