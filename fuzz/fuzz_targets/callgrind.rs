//! Valgrind's callgrind output, as a counted run of the code under test
//! writes it: totals, the cache model and the self costs per line that
//! become an instruction profile (encoded, then decoded again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use perfgate::formats::{callgrind, pprof};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(t) = callgrind::totals(&text) {
        let _ = (t.estimated_cycles(), t.l1_misses(), t.ll_misses());
    }
    let Ok(costs) = callgrind::self_costs(&text) else { return };
    let samples: Vec<(Vec<pprof::Frame<'_>>, Vec<i64>)> = costs
        .lines
        .iter()
        .take(1000)
        .map(|l| {
            let frame = pprof::Frame { function: &l.function, file: &l.file, line: l.line };
            (vec![frame], vec![l.values.first().map(|v| *v as i64).unwrap_or(0)])
        })
        .collect();
    let bytes = pprof::encode(&[("instructions", "count")], &samples, &[]);
    let decoded = pprof::decode(&bytes).expect("an encoded profile decodes");
    assert_eq!(decoded.samples.len(), samples.len());
});
