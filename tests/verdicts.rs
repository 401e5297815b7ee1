//! Verdicts on real code: a commit that makes a Go benchmark ~25% slower is
//! reported as `regressed` (exit 1), and a revision compared with itself
//! raises no false alarm (exit 0). These tests measure time, so they run one
//! at a time in their own test binary, away from the other tests' load.

mod common;

use common::{comparison, go_repo_with_slowdown, out_dir, read_results, text};
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `perfgate compare --scenario perf.toml ARGS --out OUT` in `repo`.
fn compare(repo: &common::Repo, out: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["compare", "--scenario", "perf.toml"];
    all.extend_from_slice(args);
    all.extend(["--out", out.to_str().unwrap()]);
    repo.perfgate(&all)
}

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

/// The default design: rounds until settled. The 25% slowdown is called
/// `regressed` and the run stops on its own once every judged comparison
/// (ns/op, B/op, allocs/op) is settled; results.json records the rule,
/// every look and why the run stopped.
#[test]
fn sequential_rounds_stop_once_the_regression_is_settled() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let repo = go_repo_with_slowdown("30ms");
    let out = out_dir(&repo, "sequential");
    let o = compare(&repo, &out, &["--baseline", "HEAD~1", "--candidate", "HEAD", "--max-time", "2m"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r = read_results(&out.join("results.json"));
    let c = comparison(&r, "Work", "ns/op");
    assert_eq!(c["verdict"], "regressed", "{c:#}");
    assert_eq!(c["test"], "sequential-sign");
    assert!(c["judged"].as_bool().unwrap());
    assert!(c["e_value"].as_f64().unwrap() >= 20.0, "{c:#}");
    let (lo, hi) = (c["delta_ci_low_pct"].as_f64().unwrap(), c["delta_ci_high_pct"].as_f64().unwrap());
    let delta = c["delta_pct"].as_f64().unwrap();
    assert!(lo <= delta && delta <= hi && lo > 0.0, "{c:#}");
    let stopping = &r["stopping"];
    assert_eq!(stopping["rule"], "sequential");
    assert_eq!(stopping["reason"], "settled", "{stopping:#}");
    assert_eq!(stopping["max_rounds"], 500);
    let rounds = r["run"]["rounds"].as_u64().unwrap();
    // The sign rule cannot decide before 10 rounds; a 25% change needs few more.
    assert!((10..=200).contains(&rounds), "{rounds}");
    let looks = stopping["looks"].as_array().unwrap();
    assert_eq!(looks.len() as u64, rounds, "a look after every round");
    assert_eq!(looks.last().unwrap()["settled"], looks.last().unwrap()["judged"]);
    assert_eq!(stopping["scenarios"][0]["reason"], "settled");
    let log = text(&o);
    assert!(
        log.contains("judged comparisons settled") && log.contains("stopped: every judged comparison settled"),
        "{log}"
    );
}

/// An A/A run ends by itself, without a false verdict: with a 10%
/// threshold the identical builds settle as `unchanged`.
#[test]
fn sequential_a_a_run_settles_as_unchanged() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let repo = go_repo_with_slowdown("30ms");
    let out = out_dir(&repo, "sequential-aa");
    let o =
        compare(&repo, &out, &["--baseline", "HEAD", "--candidate", "HEAD", "--threshold", "10%", "--max-time", "2m"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = read_results(&out.join("results.json"));
    for c in r["comparisons"].as_array().unwrap() {
        assert_eq!(c["verdict"], "unchanged", "{c:#}");
    }
    assert_eq!(r["stopping"]["reason"], "settled", "{:#}", r["stopping"]);
}

/// A budget too small to settle anything: the run stops at `--max-rounds`,
/// says so, and each open row says why (the interval it reached) and what
/// it would need.
#[test]
fn out_of_budget_rows_say_why_they_are_open() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let repo = go_repo_with_slowdown("30ms");
    let out = out_dir(&repo, "budget");
    let o = compare(&repo, &out, &["--baseline", "HEAD~1", "--candidate", "HEAD", "--max-rounds", "7"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = read_results(&out.join("results.json"));
    assert_eq!(r["stopping"]["reason"], "max_rounds", "{:#}", r["stopping"]);
    assert_eq!(r["run"]["rounds"], 7);
    let c = comparison(&r, "Work", "ns/op");
    assert_eq!(c["verdict"], "inconclusive", "7 rounds cannot reach α under the sign rule: {c:#}");
    let why = c["unsettled"]["why"].as_str().unwrap();
    assert!(why.contains("after 7 rounds") && why.contains("budget:"), "{why}");
    let needed = c["unsettled"]["rounds_needed"].as_u64().unwrap();
    assert!((8..=100).contains(&needed), "{needed}");
    let log = text(&o);
    assert!(log.contains("stopped: out of rounds (--max-rounds 7)") && log.contains("open Work"), "{log}");
}

/// `--rounds N` keeps the fixed design: exactly N rounds, the signed-rank
/// test, no looks.
#[test]
fn fixed_rounds_run_exactly_as_asked() {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let repo = go_repo_with_slowdown("30ms");
    let out = out_dir(&repo, "fixed");
    let o = compare(&repo, &out, &["--baseline", "HEAD~1", "--candidate", "HEAD", "--rounds", "9"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let r = read_results(&out.join("results.json"));
    assert_eq!(r["run"]["rounds"], 9);
    assert_eq!(r["stopping"]["rule"], "fixed");
    assert_eq!(r["stopping"]["reason"], "rounds");
    assert!(r["stopping"]["looks"].is_null(), "{:#}", r["stopping"]);
    assert_eq!(comparison(&r, "Work", "ns/op")["test"], "wilcoxon-signed-rank");
    // Flags of the two designs do not mix.
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "9", "--max-time", "1m"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
