//! Benchmarks of `perfgate benchstat`'s hot paths: parsing a 50 MB Go
//! benchmark file, the statistics of 1,000 benchmarks × 10 samples per side,
//! and grouping plus text rendering of a whole comparison.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perfgate::formats::gobench;
use perfgate::report::benchstat::{self as render, Input, Options};
use perfgate::stats;

mod common;
use common::Rng;

/// Realistic `go test -bench` output of about `bytes` bytes (at most
/// `packages` packages of 200 benchmarks): configuration lines,
/// sub-benchmarks, `-count=10`, three units per line, test chatter between
/// packages. `shift` slows every 20th benchmark.
fn go_bench_text(bytes: usize, packages: usize, seed: u64, shift: f64) -> String {
    let mut rng = Rng(seed);
    let mut base_rng = Rng(1);
    let mut out = String::with_capacity(bytes + 4096);
    let mut pkg = 0;
    while out.len() < bytes && pkg < packages {
        pkg += 1;
        out.push_str(&format!("goos: linux\ngoarch: amd64\npkg: example.com/svc/pkg{pkg}\ncpu: AMD EPYC 7B13\n"));
        for b in 0..200 {
            let base = (1.0 + base_rng.unit() * 11.0).exp();
            let alloc = [0u64, 16, 64, 512, 4096, 65536][(base_rng.next() % 6) as usize];
            let size = [16, 256, 4096][(base_rng.next() % 3) as usize];
            let factor = if b % 20 == 0 { shift } else { 1.0 };
            let name = format!("BenchmarkHandler{b}/size={size}-8");
            for _ in 0..10 {
                let ns = base * factor * (1.0 + 0.03 * rng.noise());
                let iters = (1e9 / ns).max(1.0) as u64;
                let value = if ns < 100.0 { format!("{ns:.2}") } else { format!("{ns:.0}") };
                out.push_str(&format!(
                    "{name:<40}\t{iters:>10}\t{value:>10} ns/op\t{alloc:>8} B/op\t{:>6} allocs/op\n",
                    alloc / 16
                ));
            }
        }
        out.push_str(&format!("PASS\nok  \texample.com/svc/pkg{pkg}\t12.345s\n"));
    }
    out
}

fn parse_50mb(c: &mut Criterion) {
    let text = go_bench_text(50_000_000, usize::MAX, 7, 1.0);
    let mut g = c.benchmark_group("gobench");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("parse_50MB", |b| b.iter(|| gobench::parse(black_box(&text)).map(|f| f.results.len())));
    g.finish();
}

/// 1,000 benchmarks × 10 samples per side, as the report computes them:
/// a summary per side, a U test per benchmark, BH across all p-values.
fn stats_1000x10(c: &mut Criterion) {
    let mut rng = Rng(3);
    let sides: Vec<(Vec<f64>, Vec<f64>)> = (0..1000)
        .map(|i| {
            let base = 1000.0 + i as f64;
            let shift = if i % 10 == 0 { 1.2 } else { 1.0 };
            let old = (0..10).map(|_| (base * (1.0 + 0.03 * rng.noise())).round()).collect();
            let new = (0..10).map(|_| (base * shift * (1.0 + 0.03 * rng.noise())).round()).collect();
            (old, new)
        })
        .collect();
    let mut g = c.benchmark_group("stats");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("summaries_utests_bh_1000x10", |b| {
        b.iter(|| {
            let mut ps = Vec::with_capacity(sides.len());
            for (old, new) in &sides {
                black_box(stats::summarize(old, 0.95));
                black_box(stats::summarize(new, 0.95));
                ps.push(stats::mann_whitney_u(old, new));
            }
            stats::benjamini_hochberg(&ps)
        })
    });
    g.finish();
}

/// Grouping, statistics and text rendering of two 1,000-benchmark files.
fn report_1000x10(c: &mut Criterion) {
    // Five packages × 200 benchmarks = 1,000 benchmarks, 3 units each.
    let old_text = go_bench_text(usize::MAX, 5, 11, 1.0);
    let new_text = go_bench_text(usize::MAX, 5, 12, 1.25);
    let old = gobench::parse(&old_text).expect("old parses");
    let new = gobench::parse(&new_text).expect("new parses");
    let inputs = [Input { label: "old.txt", file: &old }, Input { label: "new.txt", file: &new }];
    let mut g = c.benchmark_group("report");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("build_and_render_text_1000x10", |b| {
        b.iter(|| render::render_text(&render::build(black_box(&inputs), &Options::default())).len())
    });
    g.finish();
}

criterion_group!(benches, parse_50mb, stats_1000x10, report_1000x10);
criterion_main!(benches);
