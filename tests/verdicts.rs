//! Verdicts on real code: a commit that makes a Go benchmark ~25% slower is
//! reported as `regressed` (exit 1), and a revision compared with itself
//! raises no false alarm (exit 0). These tests measure time, so they run one
//! at a time in their own test binary, away from the other tests' load.

mod common;

use common::{comparison, go_repo_with_slowdown, out_dir, read_results, text};
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn slower_commit_is_a_regression_and_exits_1() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let repo = go_repo_with_slowdown("200ms");
    let out = out_dir(&repo, "regression");
    let o = repo.perfgate(&[
        "compare",
        "--scenario",
        "perf.toml",
        "--baseline",
        "HEAD~1",
        "--candidate",
        "HEAD",
        "--rounds",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let results = read_results(&out.join("results.json"));
    let c = comparison(&results, "Work", "ns/op");
    assert_eq!(c["verdict"], "regressed", "{c:#}");
    assert_eq!(c["test"], "wilcoxon-signed-rank");
    let delta = c["delta_pct"].as_f64().unwrap();
    assert!((10.0..45.0).contains(&delta), "25% more work should show as roughly +25%: {delta}");
    assert_eq!(c["baseline"]["n"], 10);
    assert_eq!(c["candidate"]["n"], 10);
    // Contract fields of DESIGN §7.
    assert_eq!(results["schema_version"], 1);
    assert_eq!(results["tool"]["name"], "perfgate");
    for key in ["id", "command", "started_at", "finished_at", "seed"] {
        assert!(!results["run"][key].is_null(), "run.{key} missing");
    }
    for key in ["os", "kernel", "cpu_model", "cores", "memory_bytes", "hostname"] {
        assert!(!results["environment"][key].is_null(), "environment.{key} missing");
    }
    let go_keys: Vec<&str> =
        results["environment"]["go"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    for key in ["goos", "goarch", "pkg"] {
        assert!(go_keys.contains(&key), "Go config {key} not recorded: {go_keys:?}");
    }
    let variants = results["variants"].as_array().unwrap();
    assert_eq!(variants[0]["role"], "baseline");
    assert_eq!(variants[0]["commit"], repo.git(&["rev-parse", "HEAD~1"]));
    assert_eq!(variants[1]["commit"], repo.git(&["rev-parse", "HEAD"]));
    // 10 rounds × 2 variants × 3 units (ns/op, B/op, allocs/op).
    assert_eq!(results["samples"].as_array().unwrap().len(), 10 * 2 * 3);
    // Every round ran both variants, in a recorded order.
    let schedule = results["run"]["schedule"].as_array().unwrap();
    assert_eq!(schedule.len(), 10);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("regressed"), "{stdout}");
}

#[test]
fn a_revision_against_itself_reports_no_change_and_exits_0() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let repo = go_repo_with_slowdown("200ms");
    let out = out_dir(&repo, "aa");
    let o = repo.perfgate(&[
        "compare",
        "--scenario",
        "perf.toml",
        "--baseline",
        "HEAD",
        "--candidate",
        "HEAD",
        "--rounds",
        "8",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let results = read_results(&out.join("results.json"));
    for c in results["comparisons"].as_array().unwrap() {
        let v = c["verdict"].as_str().unwrap();
        assert!(v == "unchanged" || v == "inconclusive", "A/A run claimed {v}: {c:#}");
    }
    let warnings = results["warnings"].to_string();
    assert!(warnings.contains("A/A"), "{warnings}");
}
