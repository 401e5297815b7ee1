//! perfgate writing to a closed stderr or stdout (`perfgate … 2>&1 | head`,
//! a reader that went away) ends normally: no panic, no exit 101.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn benchstat_warnings_on_a_closed_stderr_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.txt");
    let new = dir.path().join("new.txt");
    std::fs::write(&old, "BenchmarkA-2 10 100 ns/op\nBenchmarkA-2 10 110 ns/op\n").unwrap();
    // A malformed measurement: a warning with file:line:col on stderr.
    std::fs::write(&new, "BenchmarkA-2 10 100 ns/op\nBenchmarkA-2 10 1x0 ns/op\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_perfgate"))
        .arg("benchstat")
        .arg(&old)
        .arg(&new)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both readers go away before perfgate writes anything.
    drop(child.stderr.take());
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "perfgate panicked on a closed pipe: {status:?}");
    assert!(status.code().is_some(), "killed by a signal: {status:?}");
    let _ = std::io::stderr().flush();
}
