//! `perfgate history list|show|export`: a history of eight nights recorded
//! through the library (samples analysed by `perfgate::analyze`, as a
//! nightly does), read back by the real binary in every format.

use perfgate::history::HistoryStore;
use perfgate::history::NewRun;
use perfgate::history::fixture::noise;
use perfgate::history::sqlite::SqliteHistory as History;
use perfgate::model::Better;
use perfgate::model::Role;
use perfgate::results::{Results, Sample};
use std::path::Path;
use std::process::{Command, Output};

const NIGHTS: usize = 8;
/// A benchmark name that needs quoting in CSV.
const ODD: &str = "BenchmarkParse/\"quoted\",with-comma-2";
const BENCHMARKS: [&str; 3] = ["BenchmarkFlat-2", "BenchmarkStep-2", ODD];

fn commit(night: usize) -> String {
    format!("{night:x}").repeat(40)[..40].to_string()
}

/// ns/op of a benchmark on a night: BenchmarkStep gets 30% slower from night 4.
fn level(benchmark: &str, night: usize) -> f64 {
    match benchmark {
        "BenchmarkStep-2" if night >= 4 => 1300.0,
        "BenchmarkStep-2" => 1000.0,
        _ => 500.0,
    }
}

/// Night `night` as `perfgate nightly` would produce it: measured alone the
/// first night, then interleaved against the previous night's commit.
fn results(night: usize) -> Results {
    let mut samples = Vec::new();
    for (b, name) in BENCHMARKS.iter().enumerate() {
        for round in 0..8u32 {
            let mut push = |variant: Role, night: usize| {
                let i = (night * 100_000 + b * 1000 + round as usize * 2 + variant as usize) as u64;
                samples.push(Sample {
                    scenario: "parser".into(),
                    benchmark: name.to_string(),
                    metric: "sec/op".into(),
                    unit: "ns/op".into(),
                    better: Better::Lower,
                    variant,
                    round,
                    value: level(name, night) * (1.0 + 0.005 * noise(i)),
                });
            };
            if night > 0 {
                push(Role::Baseline, night - 1);
            }
            push(Role::Candidate, night);
        }
    }
    perfgate::history::fixture::results(samples, night as u64 + 1, "parser", 8)
}

fn build_history(path: &Path) {
    let mut h = History::open(path).expect("open");
    for night in 0..NIGHTS {
        let r = results(night);
        let (c, previous) = (commit(night), night.checked_sub(1).map(commit));
        h.record(&NewRun {
            results: &r,
            revision: "main",
            commit: &c,
            tree: "tree",
            baseline_commit: previous.as_deref(),
            report_dir: &r.run.id,
            scenario_set: "parser".into(),
        })
        .expect("record");
    }
}

fn perfgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate")).args(args).env("NO_COLOR", "1").output().expect("run perfgate")
}

fn ok(args: &[&str]) -> String {
    let out = perfgate(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// RFC 4180 records (quoted fields may hold commas, quotes, line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted, mut chars) = (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(row.is_empty() && field.is_empty() && !quoted, "CSV ends mid-record");
    rows
}

#[test]
fn history_list_show_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reports/history.sqlite");
    build_history(&db);
    let db = db.to_str().unwrap();

    // list
    let text = ok(&["history", "list", "--history", db]);
    assert!(text.contains("first night"), "{text}");
    assert!(text.contains(&commit(3)[..12]) && !text.contains(&commit(3)), "short commits: {text}");
    assert!(text.contains("8 runs"), "{text}");
    let runs: serde_json::Value =
        serde_json::from_str(&ok(&["history", "list", "--history", db, "--format", "json"])).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), NIGHTS);
    assert_eq!(runs[0]["baseline_commit"], serde_json::Value::Null);
    assert_eq!(runs[4]["baseline_commit"], commit(3));
    assert_eq!(runs[4]["regressed"], 1);
    assert_eq!(runs[4]["machine"], "Test CPU, 2 cores, ci-1");
    let rows = parse_csv(&ok(&["history", "list", "--history", db, "--format", "csv"]));
    assert_eq!(rows.len(), NIGHTS + 1);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
    assert_eq!(rows[1][rows[0].iter().position(|h| h == "commit").unwrap()], commit(0));

    // show: the step is found between night 3's commit and night 4's.
    let text = ok(&["history", "show", "--history", db]);
    let range = format!("{}..{}", &commit(3)[..12], &commit(4)[..12]);
    assert!(text.contains(&range), "{text}");
    assert!(text.contains("parser/BenchmarkStep-2/sec/op"), "{text}");
    assert!(text.contains("3 metrics, 1 with change points"), "{text}");
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&["history", "show", "--history", db, "--format", "json"])).unwrap();
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), 3);
    let step = shown.iter().find(|s| s["benchmark"] == "BenchmarkStep-2").unwrap();
    assert_eq!(step["points"].as_array().unwrap().len(), NIGHTS);
    let cps = step["change_points"].as_array().unwrap();
    assert_eq!(cps.len(), 1, "{cps:?}");
    assert_eq!((&cps[0]["from_commit"], &cps[0]["to_commit"]), (&commit(3).into(), &commit(4).into()));
    assert_eq!(cps[0]["regressed"], true);
    assert!((cps[0]["magnitude_pct"].as_f64().unwrap() - 30.0).abs() < 1.0);
    let flat = shown.iter().find(|s| s["benchmark"] == "BenchmarkFlat-2").unwrap();
    assert!(flat["change_points"].as_array().unwrap().is_empty());
    let only: serde_json::Value =
        serde_json::from_str(&ok(&["history", "show", "--history", db, "--format", "json", "--metric", "Step-2/sec"]))
            .unwrap();
    assert_eq!(only.as_array().unwrap().len(), 1);
    // A looser or stricter detector through the flags.
    let strict = ok(&["history", "show", "--history", db, "--format", "json", "--min-magnitude", "50%"]);
    let strict: serde_json::Value = serde_json::from_str(&strict).unwrap();
    assert!(strict.as_array().unwrap().iter().all(|m| m["change_points"].as_array().unwrap().is_empty()), "{strict:#}");
    let rows = parse_csv(&ok(&["history", "show", "--history", db, "--format", "csv"]));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    assert!(rows.iter().any(|r| r[2] == ODD), "{rows:?}");

    // export: one row per night and metric.
    let rows = parse_csv(&ok(&["history", "export", "--history", db]));
    assert_eq!(rows.len(), 1 + NIGHTS * BENCHMARKS.len());
    assert_eq!(rows[0].len(), 16);
    assert!(rows.iter().all(|r| r.len() == 16), "{rows:?}");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let odd: Vec<&Vec<String>> = rows.iter().filter(|r| r[col("benchmark")] == ODD).collect();
    assert_eq!(odd.len(), NIGHTS);
    assert_eq!(odd[0][col("verdict")], "", "no comparison the first night");
    assert_eq!(odd[1][col("verdict")], "unchanged");
    let median: f64 = odd[1][col("median")].parse().unwrap();
    assert!((median - 500.0).abs() < 5.0, "{median}");
    let export: serde_json::Value =
        serde_json::from_str(&ok(&["history", "export", "--history", db, "--format", "json"])).unwrap();
    let export = export.as_array().unwrap();
    assert_eq!(export.len(), NIGHTS * BENCHMARKS.len());
    assert_eq!(export[0]["delta_pct"], serde_json::Value::Null);
    assert_eq!(export[0]["commit"], commit(0));

    // trend: trend.html from the history alone, naming the step's commit.
    let trend = dir.path().join("share/trend.html");
    let text = ok(&["history", "trend", "--history", db, "--out", trend.to_str().unwrap()]);
    assert!(text.contains(&format!("{NIGHTS} night(s), 1 recent change point(s)")), "{text}");
    let html = std::fs::read_to_string(&trend).unwrap();
    assert!(html.contains(&commit(4)[..10]), "trend.html should name the step's commit");
    assert_eq!(html.matches("/report.html\"").count(), NIGHTS, "a link per night");
}

#[test]
fn a_missing_history_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.sqlite");
    for verb in ["list", "show", "export", "trend"] {
        let out = perfgate(&["history", verb, "--history", db.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{verb}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no history at") && stderr.contains("`perfgate nightly` creates it"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    assert!(!db.exists(), "reading must not create the history");
}
