//! Oracle tests for `perfgate benchstat`: the real binary against Go's real
//! benchstat on real `go test -bench` output — the checked-in fixtures in
//! tests/fixtures/gobench/ and fresh output generated at test time.

use std::path::{Path, PathBuf};
use std::process::Command;

const BENCHSTAT_VERSION: &str = "v0.0.0-20260908200009-22c9c6c9d4da";

/// Fixture pairs (old, new): n = 10, 6+5, 3+4, 1, differing benchmark sets,
/// multi-package files, a real 25% slowdown, and a rerun without change.
const PAIRS: &[(&str, &str)] = &[
    ("old-count10.txt", "new-count10.txt"),
    ("old-count10.txt", "old-count10-rerun.txt"),
    ("old-count6.txt", "new-count5.txt"),
    ("old-count1.txt", "new-count1.txt"),
    ("old-count1.txt", "new-count10.txt"),
    ("old-multipkg.txt", "new-multipkg.txt"),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gobench")
}

/// Finds a tool: `$ENV_VAR`, then `PATH`, then `fallback`. When missing,
/// fails under CI and otherwise explains how to install it and skips.
fn find_tool(env_var: &str, name: &str, fallback: Option<PathBuf>, install: &str) -> Option<PathBuf> {
    let from_env = std::env::var_os(env_var).map(PathBuf::from);
    let from_path = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()));
    if let Some(p) = from_env.into_iter().chain(from_path).chain(fallback).find(|p| p.is_file()) {
        return Some(p);
    }
    let msg = format!("`{name}` not found (${env_var}, PATH, default location); install it with: {install}");
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    eprintln!("\n==================== SKIPPED ====================");
    eprintln!("benchstat oracle test skipped: {msg}");
    eprintln!("=================================================\n");
    None
}

fn benchstat() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join("go/bin/benchstat"));
    find_tool(
        "BENCHSTAT",
        "benchstat",
        home,
        &format!("go install golang.org/x/perf/cmd/benchstat@{BENCHSTAT_VERSION}"),
    )
}

fn go() -> Option<PathBuf> {
    find_tool("GO", "go", Some(PathBuf::from("/usr/local/go/bin/go")), "https://go.dev/doc/install (Go >= 1.21)")
}

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

fn run(program: &Path, args: &[&str], dir: &Path) -> Run {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn perfgate(args: &[&str], dir: &Path) -> Run {
    run(Path::new(env!("CARGO_BIN_EXE_perfgate")), args, dir)
}

/// Percent token ("+12.34%", "-0.00%") as a number.
fn percent(tok: &str) -> Option<f64> {
    let t = tok.strip_suffix('%')?;
    if !(t.starts_with('+') || t.starts_with('-')) {
        return None;
    }
    t.parse().ok()
}

/// p-value inside "(p=0.123" or "p=0.123".
fn p_value(tok: &str) -> Option<f64> {
    tok.trim_start_matches('(').strip_prefix("p=")?.parse().ok()
}

/// Two printed tokens agree: identical, or a delta/geomean percentage within
/// 0.01 points, or a p-value within 0.001 (its third decimal). Medians,
/// interval half-widths, n, names and footnotes must be identical.
fn tokens_agree(ours: &str, theirs: &str) -> bool {
    if ours == theirs {
        return true;
    }
    if let (Some(a), Some(b)) = (percent(ours), percent(theirs)) {
        return (a - b).abs() <= 0.01 + 1e-9;
    }
    if let (Some(a), Some(b)) = (p_value(ours), p_value(theirs)) {
        return (a - b).abs() <= 0.001 + 1e-9;
    }
    false
}

/// Full-precision CSV numbers (Go's %v of centers and geomeans): equal up
/// to float rounding in log/exp.
fn csv_fields_agree(ours: &str, theirs: &str) -> bool {
    if tokens_agree(ours, theirs) {
        return true;
    }
    if let (Ok(a), Ok(b)) = (ours.parse::<f64>(), theirs.parse::<f64>()) {
        return a == b || ((a - b) / b).abs() <= 1e-12;
    }
    // "p=0.123 n=10" cells.
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.split(' ').collect(), theirs.split(' ').collect());
    a.len() == b.len() && a.len() > 1 && a.iter().zip(&b).all(|(x, y)| tokens_agree(x, y))
}

fn compare_lines(what: &str, ours: &str, theirs: &str, split: fn(&str) -> Vec<&str>, agree: fn(&str, &str) -> bool) {
    let (ol, tl): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    let mut problems = Vec::new();
    if ol.len() != tl.len() {
        problems.push(format!("{} lines, benchstat has {}", ol.len(), tl.len()));
    }
    for (i, (o, t)) in ol.iter().zip(&tl).enumerate() {
        if o == t {
            continue;
        }
        let (ot, tt) = (split(o), split(t));
        if ot.len() != tt.len() || ot.iter().zip(&tt).any(|(a, b)| !agree(a, b)) {
            problems.push(format!("line {}:\n  ours:      {o}\n  benchstat: {t}", i + 1));
        }
    }
    assert!(
        problems.is_empty(),
        "{what}: perfgate disagrees with benchstat:\n{}\n--- ours ---\n{ours}\n--- benchstat ---\n{theirs}",
        problems.join("\n")
    );
}

fn compare_text(what: &str, ours: &str, theirs: &str) {
    compare_lines(what, ours, theirs, |l| l.split_whitespace().collect(), tokens_agree);
}

fn compare_csv(what: &str, ours: &str, theirs: &str) {
    compare_lines(what, ours, theirs, |l| l.split(',').collect(), csv_fields_agree);
}

/// Runs both tools on `old new` in `dir` for text and CSV and compares.
fn check_pair(benchstat: &Path, dir: &Path, old: &str, new: &str) {
    let what = format!("{old} vs {new}");
    let ours = perfgate(&["benchstat", old, new], dir);
    assert_eq!(ours.code, 0, "{what}: perfgate failed: {}", ours.stderr);
    let theirs = run(benchstat, &[old, new], dir);
    assert!(!theirs.stdout.is_empty(), "{what}: benchstat printed nothing: {}", theirs.stderr);
    compare_text(&format!("{what} (text)"), &ours.stdout, &theirs.stdout);

    let ours = perfgate(&["benchstat", "--format", "csv", old, new], dir);
    assert_eq!(ours.code, 0, "{what}: perfgate csv failed: {}", ours.stderr);
    let theirs = run(benchstat, &["-format", "csv", old, new], dir);
    compare_csv(&format!("{what} (csv)"), &ours.stdout, &theirs.stdout);
    // Cell-referenced warnings ("B6: need >= 6 samples ...") on stderr.
    assert_eq!(ours.stderr, theirs.stderr, "{what}: csv warnings differ");
}

#[test]
fn fixtures_match_benchstat() {
    let Some(benchstat) = benchstat() else { return };
    for (old, new) in PAIRS {
        check_pair(&benchstat, &fixtures(), old, new);
    }
}

/// n = 3+4, where one old sample reads `1 B/op` among zeros: the merged
/// sample has exactly two distinct values and U lies below its smallest
/// attainable value. go-moremath's exact tie distribution then reports
/// p = 8/7 (benchstat prints "~ (p=1.143 n=3+4)"), which `stats::mann_whitney_u`
/// must reproduce; a p-value of 0 here would print a significant "0.00%".
#[test]
fn two_distinct_tied_values_match_benchstat() {
    let Some(benchstat) = benchstat() else { return };
    check_pair(&benchstat, &fixtures(), "old-count3.txt", "new-count4.txt");
}

#[test]
fn fixture_layout_is_byte_identical() {
    // Where the numbers agree exactly, the whole text layout must too:
    // column widths, centering, ± alignment, footnotes, blank lines.
    let Some(benchstat) = benchstat() else { return };
    let dir = fixtures();
    for (old, new) in [("old-count10.txt", "new-count10.txt"), ("old-multipkg.txt", "new-multipkg.txt")] {
        let ours = perfgate(&["benchstat", old, new], &dir);
        let theirs = run(&benchstat, &[old, new], &dir);
        assert_eq!(ours.stdout, theirs.stdout, "{old} vs {new}: text layout differs");
    }
}

#[test]
fn labels_and_repeated_files_match_benchstat() {
    let Some(benchstat) = benchstat() else { return };
    let dir = fixtures();
    let ours = perfgate(&["benchstat", "before=old-count6.txt", "after=new-count5.txt"], &dir);
    let theirs = run(&benchstat, &["before=old-count6.txt", "after=new-count5.txt"], &dir);
    compare_text("labels", &ours.stdout, &theirs.stdout);
    assert!(ours.stdout.contains("before"));
    let ours = perfgate(&["benchstat", "old-count6.txt", "old-count6.txt"], &dir);
    let theirs = run(&benchstat, &["old-count6.txt", "old-count6.txt"], &dir);
    compare_text("same file twice", &ours.stdout, &theirs.stdout);
}

#[test]
fn non_default_alpha_and_confidence_match_benchstat() {
    let Some(benchstat) = benchstat() else { return };
    let dir = fixtures();
    let (old, new) = ("old-count10.txt", "new-count10.txt");
    let ours = perfgate(&["benchstat", "--alpha", "0.01", "--confidence", "0.9", old, new], &dir);
    let theirs = run(&benchstat, &["-alpha", "0.01", "-confidence", "0.9", old, new], &dir);
    compare_text("alpha 0.01, confidence 0.9", &ours.stdout, &theirs.stdout);
    let ours = perfgate(&["benchstat", "--confidence", "0.99", "old-count6.txt", "new-count5.txt"], &dir);
    let theirs = run(&benchstat, &["-confidence", "0.99", "old-count6.txt", "new-count5.txt"], &dir);
    compare_text("confidence 0.99", &ours.stdout, &theirs.stdout);
}

/// Copies the fixture benchmarks to a temp dir and runs them with `go test`.
fn fresh_output(go: &Path, variant: &str, count: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&fixtures().join("src"), dir.path());
    let out = Command::new(go)
        .args(["test", "-run", "^$", "-bench", ".", "-count", count, "-benchtime", "10ms", "./..."])
        .current_dir(dir.path())
        .env("PERFGATE_VARIANT", variant)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .output()
        .expect("go test");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "go test -bench failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let file = dir.path().join(format!("{variant}.txt"));
    std::fs::write(&file, stdout).expect("write benchmark output");
    (dir, file)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture");
        }
    }
}

#[test]
fn fresh_go_test_output_matches_benchstat() {
    let Some(benchstat) = benchstat() else { return };
    let Some(go) = go() else { return };
    let (_old_dir, old) = fresh_output(&go, "old", "6");
    let (_new_dir, new) = fresh_output(&go, "new", "7");
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&old, work.path().join("old.txt")).expect("copy");
    std::fs::copy(&new, work.path().join("new.txt")).expect("copy");
    check_pair(&benchstat, work.path(), "old.txt", "new.txt");
}

/// benchstat's CSV rows of one table: (name, candidate center, p-value).
fn csv_rows(csv: &str, unit: &str) -> Vec<(String, f64, Option<f64>)> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in csv.lines() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() > 1 && f[0].is_empty() && f[1] == unit {
            in_table = true;
            continue;
        }
        if line.is_empty() {
            in_table = false;
        }
        if in_table && f.len() >= 7 && f[0] != "geomean" {
            rows.push((f[0].to_string(), f[3].parse().unwrap_or(f64::NAN), f[6].split(' ').next().and_then(p_value)));
        }
    }
    rows
}

#[test]
fn json_comparisons_agree_with_benchstat() {
    let Some(benchstat) = benchstat() else { return };
    let dir = fixtures();
    let (old, new) = ("old-count10.txt", "new-count10.txt");
    let ours = perfgate(&["benchstat", "--format", "json", old, new], &dir);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    let json: serde_json::Value = serde_json::from_str(&ours.stdout).expect("valid JSON");
    let comparisons = json["comparisons"].as_array().expect("comparisons array");
    let theirs = run(&benchstat, &["-format", "csv", old, new], &dir);

    let rows = csv_rows(&theirs.stdout, "sec/op");
    assert!(!rows.is_empty(), "no sec/op rows in benchstat csv:\n{}", theirs.stdout);
    for (name, center_sec, p) in rows {
        let c = comparisons
            .iter()
            .find(|c| c["benchmark"] == name.as_str() && c["unit"] == "ns/op")
            .unwrap_or_else(|| panic!("no JSON comparison for {name} ns/op"));
        assert_eq!(c["better"], "lower");
        let median = c["candidate"]["median"].as_f64().expect("median");
        // JSON keeps Go's unit (ns/op); benchstat's CSV is in seconds.
        assert!((median * 1e-9 - center_sec).abs() <= 1e-9 * center_sec.abs(), "{name}: {median} vs {center_sec}");
        let ours_p = c["p_value"].as_f64().unwrap_or_else(|| panic!("{name}: no p-value in {c}"));
        let p = p.expect("benchstat p-value");
        assert!((ours_p - p).abs() <= 0.0005 + 1e-9, "{name}: p {ours_p} vs benchstat {p}");
        assert!(c["q_value"].as_f64().is_some_and(|q| q >= ours_p), "{name}: q-value");
    }
    // Benchmarks in only one file cannot be compared: they are listed.
    let warnings = json["warnings"].to_string();
    assert!(warnings.contains("OnlyOld-2") && warnings.contains("OnlyNew-2"), "{warnings}");
    let geomeans = json["geomeans"].as_array().expect("geomeans");
    let ns = geomeans.iter().find(|g| g["unit"] == "ns/op").expect("ns/op geomean");
    let text = perfgate(&["benchstat", old, new], &dir).stdout;
    let delta = format!("{:+.2}%", ns["delta_pct"].as_f64().expect("delta"));
    assert!(text.contains(&delta), "geomean delta {delta} not in text output:\n{text}");
}

#[test]
fn bad_inputs_exit_2_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = fixtures().join("old-count6.txt");
    let good = good.to_str().expect("utf-8 path");
    let missing = dir.path().join("missing.txt");
    let out = perfgate(&["benchstat", missing.to_str().expect("utf-8"), good], dir.path());
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("missing.txt"), "{}", out.stderr);

    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "PASS\nok  \tpkg\t0.1s\n").expect("write");
    let out = perfgate(&["benchstat", good, empty.to_str().expect("utf-8")], dir.path());
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no benchmark results"), "{}", out.stderr);

    // Malformed lines are reported with file:line:column and skipped, as
    // benchstat does; the comparison still runs.
    let broken = dir.path().join("broken.txt");
    let mut text = std::fs::read_to_string(fixtures().join("new-count5.txt")).expect("read");
    text.push_str("BenchmarkBroken-2   \t 100\t  abc ns/op\n");
    std::fs::write(&broken, text).expect("write");
    let out = perfgate(&["benchstat", good, broken.to_str().expect("utf-8")], dir.path());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("broken.txt:") && out.stderr.contains("parsing measurement"), "{}", out.stderr);

    let out = perfgate(&["benchstat", "--format", "xml", good, good], dir.path());
    assert_eq!(out.code, 2);
    let out = perfgate(&["benchstat", "--alpha", "2", good, good], dir.path());
    assert_eq!(out.code, 2, "{}", out.stderr);
}
