//! Threshold expressions (`"p99 < 50ms"`) and their checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::config::threshold;

fuzz_target!(|data: &[u8]| {
    let Ok(expr) = std::str::from_utf8(data) else { return };
    let Ok(t) = threshold::parse(expr) else { return };
    assert!(!t.metric.is_empty());
    for x in [0.0, -0.0, 1.0, -1.0, 1e-9, 1e300, f64::MIN_POSITIVE, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, t.value] {
        let pass = t.passes(x);
        // NaN never passes a comparison.
        if x.is_nan() || t.value.is_nan() {
            assert!(!pass, "{expr:?} passes {x}");
        }
    }
});
