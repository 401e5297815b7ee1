//! Rendering every report of a run with 1,000 comparisons: the terminal
//! table, report.html (two plotters charts per comparison, spectra,
//! timelines), brief.md and results.json. The goal is well under a second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfgate::model::Better;
use perfgate::model::Role;
use perfgate::results::{LatencySpectrum, Results, Sample, TimePoint, Timeline, spectrum_points};

mod common;
use common::Rng;

/// 10 scenarios × 25 benchmarks × 4 metrics = 1,000 comparisons of 8
/// interleaved rounds, a third of them changed; every scenario also has
/// latency spectra and per-round timelines like a load scenario's.
fn big_run() -> Results {
    let mut rng = Rng(42);
    let metrics = [
        ("sec/op", "ns/op", Better::Lower),
        ("B/op", "B/op", Better::Lower),
        ("allocs/op", "allocs/op", Better::Lower),
        ("throughput", "req/s", Better::Higher),
    ];
    let mut samples = Vec::new();
    let mut timelines = Vec::new();
    let mut latency_spectra = Vec::new();
    for s in 0..10 {
        let scenario = format!("scenario-{s}");
        for b in 0..25 {
            let benchmark = format!("Benchmark{b}/size={}", 1 << (b % 8));
            let shift = if b % 3 == 0 { 0.8 } else { 1.0 };
            for (metric, unit, better) in metrics {
                let base = 1000.0 * (1.0 + b as f64);
                for round in 1..=8 {
                    for (variant, factor) in [(Role::Baseline, 1.0), (Role::Candidate, shift)] {
                        samples.push(Sample {
                            scenario: scenario.clone(),
                            benchmark: benchmark.clone(),
                            metric: metric.into(),
                            unit: unit.into(),
                            better,
                            variant,
                            round,
                            value: base * factor * (1.0 + 0.03 * (rng.unit() - 0.5)),
                        });
                    }
                }
            }
        }
        for variant in [Role::Baseline, Role::Candidate] {
            let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
            for _ in 0..20_000 {
                h.record((1e6 * (1.0 + 20.0 * rng.unit().powi(8))) as u64).unwrap();
            }
            latency_spectra.push(LatencySpectrum {
                scenario: scenario.clone(),
                variant,
                what: "request".into(),
                count: h.len(),
                rounds: 8,
                points: spectrum_points(&h),
            });
            for round in 1..=8 {
                let series = |scale: f64, rng: &mut Rng| -> Vec<TimePoint> {
                    (1..=50).map(|i| TimePoint { t: i as f64 * 0.1, value: scale * (1.0 + 0.1 * rng.unit()) }).collect()
                };
                timelines.push(Timeline {
                    scenario: scenario.clone(),
                    variant,
                    round,
                    throughput: series(1000.0, &mut rng),
                    cpu_cores: series(0.9, &mut rng),
                    rss_bytes: series(3e7, &mut rng),
                });
            }
        }
    }
    let mut results = common::results(samples);
    assert_eq!(results.comparisons.len(), 1000);
    results.latency_spectra = latency_spectra;
    results.timelines = timelines;
    results
}

fn reports(c: &mut Criterion) {
    let results = big_run();
    let mut group = c.benchmark_group("report");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("all reports, 1000 comparisons", |b| {
        b.iter(|| {
            let html = perfgate::report::html::render(black_box(&results), None);
            let brief = perfgate::report::brief::render(&results);
            let terminal = perfgate::report::terminal::render(&results, false);
            let json = serde_json::to_string_pretty(&results).unwrap();
            black_box((html.len(), brief.len(), terminal.len(), json.len()))
        })
    });
    group.bench_function("report.html, 1000 comparisons", |b| {
        b.iter(|| black_box(perfgate::report::html::render(black_box(&results), None).len()))
    });
    group.finish();
}

criterion_group!(benches, reports);
criterion_main!(benches);
