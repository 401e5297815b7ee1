//! Criterion benches of the latency-summary library, one per function.

use criterion::{criterion_group, criterion_main, Criterion};
use rustlib::{fingerprint, parse_latencies, percentile, sample_latencies};
use std::hint::black_box;

fn benches(c: &mut Criterion) {
    let samples = sample_latencies(10_000, 42);
    let text: String = samples.iter().map(|v| format!("{}.{}ms\n", v / 1000, v % 1000)).collect();
    c.bench_function("parse", |b| b.iter(|| parse_latencies(black_box(&text))));
    c.bench_function("percentile", |b| b.iter(|| percentile(black_box(&samples), 0.99)));
    c.bench_function("fingerprint", |b| b.iter(|| fingerprint(black_box(&samples))));
}

criterion_group!(summary, benches);
criterion_main!(summary);
