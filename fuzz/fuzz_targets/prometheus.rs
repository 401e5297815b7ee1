//! Prometheus text exposition (a target's /metrics) through the parser,
//! and two scrapes (split at a `===` line) through the counter deltas
//! perfgate derives from them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::formats::prometheus;
use perfgate::workload::counters;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let families = match prometheus::parse(&text) {
        Ok(families) => families,
        Err(e) => {
            let _ = e.to_string();
            Vec::new()
        }
    };
    for f in &families {
        assert!(!f.samples.is_empty(), "a family without samples was returned");
        let _ = f.kind.as_str();
        for s in &f.samples {
            let _ = s.label("le");
        }
    }
    let (before, after) = match text.split_once("\n===\n") {
        Some((a, b)) => (prometheus::parse(a).unwrap_or_default(), prometheus::parse(b).unwrap_or_default()),
        None => (Vec::new(), families.clone()),
    };
    let select: Vec<String> = after.iter().take(3).map(|f| f.name.clone()).chain(["missing_total".into()]).collect();
    for (requests, seconds) in [(0, 0.0), (1000, 1.5), (u64::MAX, f64::MIN_POSITIVE)] {
        let report = counters::counter_report(&before, &after, requests, seconds, None);
        for s in &report.skipped {
            let _ = s.reason.to_string();
        }
        let _ = counters::counter_report(&before, &after, requests, seconds, Some(&select));
    }
});
