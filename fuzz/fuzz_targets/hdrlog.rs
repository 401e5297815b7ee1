//! A fleet's HdrHistogram interval logs (`perfgate load merge`): they come
//! from other machines, so any bytes must give a log or an error — no
//! panic, no unbounded allocation (run under -rss_limit_mb).
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::load::hdrlog;

fuzz_target!(|data: &[u8]| {
    if let Ok((meta, latency, intervals)) = hdrlog::parse(data) {
        assert!(intervals <= data.len());
        let _ = hdrlog::behind(&meta);
        let _ = latency.value_at_quantile(0.99);
    }
});
