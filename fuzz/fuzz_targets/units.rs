//! Durations, percentages and Go's -benchtime as scenario files write them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::config::units;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = units::parse_duration(text);
    if let Ok(p) = units::parse_percent(text) {
        assert!(p.is_finite() && p >= 0.0, "{text:?} -> {p}");
    }
    let _ = units::validate_benchtime(text);
    // As they arrive from TOML/JSON: the serde wrappers.
    let quoted = serde_json::Value::String(text.to_string());
    let _ = serde_json::from_value::<units::HumanDuration>(quoted.clone());
    let _ = serde_json::from_value::<units::Percent>(quoted);
});
