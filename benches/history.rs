//! Detection over time and the trend report for a large history: 365
//! nights × 500 metrics — change points and drift for every metric, then
//! trend.html with all 500 charts (the goal is under 2 s) — and the SQLite
//! store behind it: recording one night, reading a year of series back.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfgate::history::{HistoryStore, Series, SeriesPoint, StoredRun, changepoint, drift};
use perfgate::model::{Better, Verdict};
use perfgate::report::trend::{TrendInput, TrendSeries, render};

mod common;
use common::Rng;

const NIGHTS: usize = 365;
const METRICS: usize = 500;

fn history() -> (Vec<StoredRun>, Vec<Series>) {
    let runs: Vec<StoredRun> = (0..NIGHTS)
        .map(|i| StoredRun {
            id: i as i64 + 1,
            run_id: format!("night-{i}"),
            revision: "main".into(),
            commit: format!("{:040x}", i * 7919 + 1),
            tree: String::new(),
            started_at: format!("2026-01-01T00:00:00Z+{i}d"),
            finished_at: String::new(),
            machine: "bench".into(),
            scenario_set: "bench".into(),
            baseline_commit: (i > 0).then(|| format!("{:040x}", (i - 1) * 7919 + 1)),
            report_dir: format!("night-{i}"),
            status: "complete".into(),
            improved: 0,
            regressed: 0,
        })
        .collect();
    let mut rng = Rng(9);
    let series = (0..METRICS)
        .map(|m| {
            // Every tenth metric steps up 15% on night 200.
            let base = 1000.0 * (1.0 + m as f64);
            let points = (0..NIGHTS)
                .map(|i| {
                    let level = if m % 10 == 0 && i >= 200 { 1.15 } else { 1.0 };
                    let median = base * level * (1.0 + 0.04 * (rng.unit() - 0.5));
                    let d = 4.0 * (rng.unit() - 0.5);
                    SeriesPoint {
                        run: i as i64 + 1,
                        commit: runs[i].commit.clone(),
                        started_at: runs[i].started_at.clone(),
                        n: 10,
                        median,
                        ci_low: Some(median * 0.98),
                        ci_high: Some(median * 1.02),
                        delta_pct: (i > 0).then_some(d),
                        delta_ci_low_pct: (i > 0).then_some(d - 3.0),
                        delta_ci_high_pct: (i > 0).then_some(d + 3.0),
                        verdict: (i > 0).then_some(Verdict::Inconclusive),
                    }
                })
                .collect();
            Series {
                scenario: format!("scenario-{}", m / 50),
                benchmark: format!("Benchmark{m}"),
                metric: "sec/op".into(),
                unit: "ns/op".into(),
                better: Better::Lower,
                points,
            }
        })
        .collect();
    (runs, series)
}

fn detect_and_render(runs: &[StoredRun], series: &[Series]) -> usize {
    let opts = changepoint::Options::default();
    let trend: Vec<TrendSeries<'_>> = series
        .iter()
        .map(|s| {
            let values: Vec<f64> = s.points.iter().map(|p| p.median).collect();
            TrendSeries {
                series: s,
                change_points: changepoint::detect(&values, &opts),
                drift: drift::drift(&s.points, s.better, 0.02),
            }
        })
        .collect();
    let found: usize = trend.iter().map(|t| t.change_points.len()).sum();
    let html = render(&TrendInput {
        scenario_set: "bench",
        runs,
        report_links: runs.iter().map(|r| (r.id, format!("../{}/report.html", r.report_dir))).collect(),
        series: trend,
        threshold_pct: 2.0,
    });
    found + html.len()
}

/// One night of 500 metrics × 8 rounds × 2 variants, analysed.
fn night_of_500_metrics() -> perfgate::results::Results {
    let mut rng = Rng(5);
    let mut samples = Vec::new();
    for m in 0..METRICS {
        for round in 1..=8 {
            for variant in [perfgate::model::Role::Baseline, perfgate::model::Role::Candidate] {
                samples.push(perfgate::results::Sample {
                    scenario: format!("scenario-{}", m / 50),
                    benchmark: format!("Benchmark{m}"),
                    metric: "sec/op".into(),
                    unit: "ns/op".into(),
                    better: Better::Lower,
                    variant,
                    round,
                    value: 1000.0 * (1.0 + m as f64) * (1.0 + 0.03 * (rng.unit() - 0.5)),
                });
            }
        }
    }
    common::results(samples)
}

fn store(c: &mut Criterion) {
    use perfgate::history::NewRun;
    use perfgate::history::sqlite::SqliteHistory as History;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let mut history = History::open(&path).unwrap();
    let night = night_of_500_metrics();
    let record = |h: &mut History, i: usize| {
        h.record(&NewRun {
            results: &night,
            revision: "main",
            commit: &format!("{i:040x}"),
            tree: "t",
            baseline_commit: None,
            report_dir: "night",
            scenario_set: "bench".into(),
        })
        .unwrap()
    };
    for i in 0..NIGHTS {
        record(&mut history, i);
    }
    let series = history.series("bench").unwrap();
    assert_eq!((series.len(), series[0].points.len()), (METRICS, NIGHTS));
    let mut group = c.benchmark_group("history store");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("series of 365 nights x 500 metrics", |b| {
        b.iter(|| black_box(history.series("bench").unwrap().len()))
    });
    let mut i = NIGHTS;
    group.bench_function("record one night of 500 metrics x 8 rounds x 2 variants", |b| {
        b.iter(|| {
            i += 1;
            black_box(record(&mut history, i))
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let (runs, series) = history();
    let opts = changepoint::Options::default();
    let found: usize = series
        .iter()
        .map(|s| changepoint::detect(&s.points.iter().map(|p| p.median).collect::<Vec<_>>(), &opts).len())
        .sum();
    assert_eq!(found, METRICS / 10, "one change point in every tenth metric, none elsewhere");
    let mut group = c.benchmark_group("history");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("change points + drift + trend.html, 365 nights x 500 metrics", |b| {
        b.iter(|| black_box(detect_and_render(&runs, &series)))
    });
    group.bench_function("change points only, 365 nights x 500 metrics", |b| {
        b.iter(|| {
            black_box(
                series
                    .iter()
                    .map(|s| changepoint::detect(&s.points.iter().map(|p| p.median).collect::<Vec<_>>(), &opts).len())
                    .sum::<usize>(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench, store);
criterion_main!(benches);
