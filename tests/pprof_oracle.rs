//! `perfgate profile top` and `profile diff` against the oracle, the Go
//! toolchain's `go tool pprof -top` (and `-diff_base`): the same header,
//! rows, values, percentages, order and inline labels, character for
//! character, on stored real profiles (CPU and allocs from a Go test,
//! synthetic edge cases) and on profiles made at test time. Needs `go`; in
//! CI (`CI` set) its absence fails the test, locally it skips loudly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pprof")
}

fn have_go() -> bool {
    let ok = Command::new("go").arg("version").output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "CI: `go` is required for the pprof oracle tests");
        eprintln!("\n*** SKIPPED: `go` not found on PATH; the pprof oracle tests need `go tool pprof` ***\n");
    }
    ok
}

/// `go tool pprof -top FLAGS... FILE...` with TZ=UTC (its Time: line is local time).
fn oracle(flags: &[String], files: &[&Path]) -> String {
    let out = Command::new("go")
        .args(["tool", "pprof", "-top"])
        .args(flags)
        .args(files)
        .env("TZ", "UTC")
        .env("PPROF_BINARY_PATH", "/nonexistent")
        .output()
        .expect("go tool pprof");
    assert!(out.status.success(), "go tool pprof {flags:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn ours(args: &[String]) -> String {
    let out = common::perfgate_cmd(Path::new("."), &args.iter().map(String::as_str).collect::<Vec<_>>())
        .output()
        .expect("perfgate");
    assert!(out.status.success(), "perfgate {args:?}: {}", common::text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn sample_types(file: &Path) -> Vec<String> {
    let out = ours(&["profile".into(), "top".into(), file.display().to_string(), "--json".into()]);
    let _: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The sample types come from -raw of the oracle, which lists them first.
    let raw = Command::new("go").args(["tool", "pprof", "-raw"]).arg(file).output().unwrap();
    let text = String::from_utf8_lossy(&raw.stdout).to_string();
    let line = text.lines().skip_while(|l| !l.starts_with("Samples:")).nth(1).unwrap_or_default().to_string();
    line.split_whitespace().map(|t| t.split('/').next().unwrap().to_string()).collect()
}

fn check_top(file: &Path, nodecount: Option<usize>, index: Option<&str>) {
    let mut flags = Vec::new();
    let mut args = vec!["profile".to_string(), "top".into(), file.display().to_string()];
    if let Some(n) = nodecount {
        flags.push(format!("-nodecount={n}"));
        args.extend(["--n".into(), n.to_string()]);
    }
    if let Some(i) = index {
        flags.push(format!("-sample_index={i}"));
        args.extend(["--sample-index".into(), i.to_string()]);
    }
    let want = oracle(&flags, &[file]);
    let got = ours(&args);
    agree(&got, &want, &[file], &format!("profile top {file:?} {flags:?}"));
}

fn check_diff(base: &Path, new: &Path, nodecount: Option<usize>) {
    let mut flags = vec!["-diff_base".to_string(), base.display().to_string()];
    let mut args = vec!["profile".to_string(), "diff".into(), base.display().to_string(), new.display().to_string()];
    if let Some(n) = nodecount {
        flags.insert(0, format!("-nodecount={n}"));
        args.extend(["--n".into(), n.to_string()]);
    }
    let want = oracle(&flags, &[new]);
    let got = ours(&args);
    agree(&got, &want, &[base, new], &format!("profile diff {base:?} {new:?} {flags:?}"));
}

/// Ours and the oracle's text, line for line. On a disagreement the
/// profiles are kept (fresh ones live in a temporary directory) under
/// target/tmp, and printed in base64 when small, so that a failure in CI
/// can be replayed: fresh profiles differ every run.
fn agree(got: &str, want: &str, files: &[&Path], what: &str) {
    if got.trim_end() == want.trim_end() {
        return;
    }
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pprof-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&keep).unwrap();
    let mut kept = String::new();
    for (i, f) in files.iter().enumerate() {
        let to = keep.join(format!("{i}-{}", f.file_name().unwrap().to_string_lossy()));
        std::fs::copy(f, &to).unwrap();
        let bytes = std::fs::read(f).unwrap();
        kept.push_str(&format!("\nkept {} ({} bytes)", to.display(), bytes.len()));
        if bytes.len() <= 64 * 1024 {
            let b64 = Command::new("base64").arg("-w0").arg(f).output().map(|o| o.stdout).unwrap_or_default();
            kept.push_str(&format!("\nbase64 of {}:\n{}", f.display(), String::from_utf8_lossy(&b64)));
        }
    }
    let lines = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
    let (g, w) = (lines(got.trim_end()), lines(want.trim_end()));
    let differ: Vec<String> = (0..g.len().max(w.len()))
        .filter(|&i| g.get(i) != w.get(i))
        .map(|i| format!("line {}:\n  ours:   {:?}\n  oracle: {:?}", i + 1, g.get(i), w.get(i)))
        .collect();
    panic!("{what}: disagrees with go tool pprof\n{}{kept}", differ.join("\n"));
}

fn check_everything(files: &[PathBuf]) {
    for f in files {
        check_top(f, None, None);
        check_top(f, Some(5), None);
        check_top(f, Some(1), None);
        for t in sample_types(f) {
            check_top(f, None, Some(&t));
            check_top(f, Some(3), Some(&t));
        }
    }
}

#[test]
fn top_matches_go_tool_pprof_on_stored_profiles() {
    if !have_go() {
        return;
    }
    let d = fixtures();
    // CPU and allocs profiles of a real Go test; synthetic ones (made with
    // Go's profile package) with nameless functions, unsymbolized frames, an
    // empty stack, recursion, a C++ mangled name, count/µs/byte/unknown units.
    let files: Vec<PathBuf> =
        ["cpu_a.pprof", "cpu_b.pprof", "mem_a.pprof", "mem_b.pprof", "synth_a.pb.gz", "synth_b.pb.gz", "synth_c.pb.gz"]
            .iter()
            .map(|f| d.join(f))
            .collect();
    check_everything(&files);
    for (a, b) in [("cpu_a.pprof", "cpu_b.pprof"), ("cpu_b.pprof", "cpu_a.pprof"), ("mem_a.pprof", "mem_b.pprof")] {
        check_diff(&d.join(a), &d.join(b), None);
        check_diff(&d.join(a), &d.join(b), Some(6));
    }
    check_diff(&d.join("cpu_a.pprof"), &d.join("cpu_a.pprof"), None);
    // Fresh CPU profiles (made under load) where sumMix, reached through a
    // func value in both, cancels out in the diff: pprof lists no node for
    // that caller but keeps its edges, so the label reads "(inline)" /
    // "(partial-inline)"; perfgate once printed none.
    for (a, b) in [("zero_edge_a.pprof", "zero_edge_b.pprof"), ("zero_edge_c.pprof", "zero_edge_d.pprof")] {
        check_diff(&d.join(a), &d.join(b), None);
        check_diff(&d.join(b), &d.join(a), None);
        check_diff(&d.join(a), &d.join(b), Some(5));
    }
}

#[test]
fn top_and_diff_match_go_tool_pprof_on_fresh_profiles() {
    if !have_go() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pprofwork");
    for f in ["go.mod", "work.go", "work_test.go"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let mut made = Vec::new();
    for variant in ["a", "b"] {
        let cpu = dir.path().join(format!("cpu_{variant}.pprof"));
        let mem = dir.path().join(format!("mem_{variant}.pprof"));
        let out = Command::new("go")
            .args(["test", "-run", "TestWork", "-count=1", "-memprofilerate=4096"])
            .arg(format!("-cpuprofile={}", cpu.display()))
            .arg(format!("-memprofile={}", mem.display()))
            .current_dir(dir.path())
            .env("PPROFSPEC_VARIANT", variant)
            .output()
            .unwrap();
        assert!(out.status.success(), "go test: {}", String::from_utf8_lossy(&out.stderr));
        made.push(cpu);
        made.push(mem);
    }
    check_everything(&made);
    check_diff(&made[0], &made[2], None);
    check_diff(&made[1], &made[3], Some(4));
}

#[test]
fn bad_profiles_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixtures().join("cpu_a.pprof")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text.txt", b"BenchmarkX 1 2 ns/op\n".to_vec(), "not a pprof profile"),
        ("truncated.pb.gz", good[..good.len() / 2].to_vec(), "gzip stream is truncated"),
        ("empty.pb.gz", Vec::new(), "no samples"),
    ];
    for (name, bytes, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = common::perfgate_cmd(dir.path(), &["profile", "top", p.to_str().unwrap()]).output().unwrap();
        let text = common::text(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {text}");
        assert!(text.contains(want) && text.contains(name), "{name}: {text}");
    }
    let out = common::perfgate_cmd(dir.path(), &["profile", "top", "/nonexistent.pb.gz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
