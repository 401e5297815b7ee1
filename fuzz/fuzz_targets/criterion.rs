//! What a Rust crate's benches and cargo write for perfgate to read:
//! criterion's benchmark.json and estimates.json, libtest's JSON events,
//! `--list` output and cargo's JSON messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::formats::{cargo, criterion};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ids = criterion::listed(&text);
    assert!(ids.iter().all(|id| !id.is_empty()));
    if let Ok(b) = criterion::benchmark(&text) {
        let _ = criterion::timed(&text, b.throughput.as_ref());
        if let Some(t) = &b.throughput {
            let _ = criterion::per_second(t, 1.0);
        }
    }
    if let Ok(ns) = criterion::typical_estimate(&text) {
        assert!(ns.is_finite() && ns > 0.0);
    }
    for id in ids.iter().take(10) {
        if let Ok(t) = criterion::libtest_result(&text, id) {
            assert!(t.ns_per_op > 0.0);
        }
    }
    let _ = criterion::libtest_result(&text, "");
    let _ = cargo::executables(&text);
    let _ = cargo::local_packages(&text);
});
