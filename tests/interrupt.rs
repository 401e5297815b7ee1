//! Ctrl-C during a run: perfgate exits promptly, leaves no orphan processes
//! and no stray worktrees, and results.json keeps the rounds already measured.

mod common;

use common::{Repo, perfgate_cmd, read_results};
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

#[test]
fn ctrl_c_stops_promptly_and_keeps_measured_rounds() {
    stops_cleanly_on(libc::SIGINT);
}

#[test]
fn hangup_stops_as_cleanly_as_ctrl_c() {
    stops_cleanly_on(libc::SIGHUP);
}

fn stops_cleanly_on(signal: i32) {
    let repo = Repo::new();
    let marker = format!("perfgate-ctrlc-marker-{}-{signal}", std::process::id());
    repo.write(
        "perf.toml",
        &format!(
            r#"
name = "slow"

[[scenario]]
name = "sleepy"
kind = "command"
# A child that would outlive its parent if perfgate did not kill the group.
command = "sleep 30 & python3 -c 'import time; time.sleep(0.4)' {marker}"
"#
        ),
    );
    repo.commit_all("base");
    let out = repo.path().join("out").join("ctrlc");
    let mut cmd = perfgate_cmd(
        repo.path(),
        &["compare", "--scenario", "perf.toml", "--rounds", "50", "--out", out.to_str().unwrap()],
    );
    // Its own process group, as a shell gives a foreground job: Ctrl-C goes to the group.
    cmd.process_group(0);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    // Let a few trials finish (each trial takes ~0.4 s).
    std::thread::sleep(Duration::from_millis(3000));
    let sent = Instant::now();
    unsafe {
        libc::kill(-pid, signal);
    }
    let output = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?} to stop after Ctrl-C");
    assert_eq!(output.status.code(), Some(130), "{}", common::text(&output));

    std::thread::sleep(Duration::from_millis(200));
    let leftover = std::process::Command::new("pgrep").args(["-f", &marker]).output().unwrap();
    assert!(leftover.stdout.is_empty(), "orphans: {}", String::from_utf8_lossy(&leftover.stdout));
    let sleepers = std::process::Command::new("pgrep").args(["-f", "sleep 30"]).output().unwrap();
    let sleeper_pids = String::from_utf8_lossy(&sleepers.stdout).to_string();
    for p in sleeper_pids.lines() {
        // Only fail for sleeps that are ours: their process group was perfgate's child's.
        let cwd = std::fs::read_link(format!("/proc/{p}/cwd")).unwrap_or_default();
        assert!(!cwd.starts_with(repo.path()), "orphan sleep {p} in {}", cwd.display());
    }

    let results = read_results(&out.join("results.json"));
    assert_eq!(results["run"]["status"], "interrupted");
    let samples = results["samples"].as_array().unwrap();
    assert!(!samples.is_empty(), "rounds measured before Ctrl-C were lost");
    assert!(samples.len() < 50 * 2 * 5);

    let worktrees = repo.worktrees();
    for line in worktrees.lines().filter(|l| l.starts_with("worktree ")) {
        let path = line.trim_start_matches("worktree ");
        assert!(
            path == repo.path().to_str().unwrap() || path.contains("/.perfgate/worktrees/"),
            "stray worktree {path}"
        );
    }
    assert!(!worktrees.contains("prunable"), "{worktrees}");
    assert!(!repo.path().join(".perfgate/tmp").read_dir().map(|mut d| d.next().is_some()).unwrap_or(false));
}

/// Ctrl-C in the middle of a load window: the load stops at once (not at
/// the window's end), the target's process group is gone, and the rounds
/// measured before are kept.
#[test]
fn ctrl_c_mid_window_stops_the_load_and_the_target() {
    let repo = Repo::new();
    let marker = format!("perfgate-svc-marker-{}", std::process::id());
    repo.write(
        "server.py",
        r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#,
    );
    repo.write(
        "perf.toml",
        &format!(
            r#"
name = "svc"

[target]
start = "python3 server.py {{port}} {marker}"
ready = {{ tcp = "127.0.0.1:{{port}}", timeout = "20s" }}

[[scenario]]
name = "get"
kind = "http"
duration = "4s"
warmup = "0s"
connections = 2
"#
        ),
    );
    repo.commit_all("base");
    let out = repo.path().join("out").join("svc");
    let mut cmd = perfgate_cmd(
        repo.path(),
        &["compare", "--scenario", "perf.toml", "--rounds", "10", "--out", out.to_str().unwrap()],
    );
    cmd.process_group(0);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    // Round 1 (two 4 s windows) is done by then; round 2's first window is running.
    let results_so_far = out.join("logs").join("get-baseline-2.log");
    let other = out.join("logs").join("get-candidate-2.log");
    let until = Instant::now() + Duration::from_secs(60);
    while !results_so_far.exists() && !other.exists() {
        assert!(Instant::now() < until, "round 2 never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000));
    let sent = Instant::now();
    unsafe {
        libc::kill(-pid, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    assert!(took < Duration::from_millis(2500), "took {took:?}: the load ran on to the window's end");
    assert_eq!(output.status.code(), Some(130), "{}", common::text(&output));
    std::thread::sleep(Duration::from_millis(200));
    let leftover = std::process::Command::new("pgrep").args(["-f", &marker]).output().unwrap();
    assert!(leftover.stdout.is_empty(), "target left running: {}", String::from_utf8_lossy(&leftover.stdout));
    let results = read_results(&out.join("results.json"));
    assert_eq!(results["run"]["status"], "interrupted");
    let rounds: std::collections::BTreeSet<u64> = results["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["metric"] == "throughput")
        .map(|s| s["round"].as_u64().unwrap())
        .collect();
    assert!(rounds.contains(&1), "round 1 was measured and must be kept: {rounds:?}");
    assert!(!rounds.contains(&2), "the interrupted round must not count: {rounds:?}");
}

/// Ctrl-C during a sequential run (rounds until settled): every round
/// measured so far is kept and analyzed, results.json says the run was
/// interrupted, and what was settled by then is reported as such.
#[test]
fn ctrl_c_during_sequential_rounds_keeps_them_and_their_verdicts() {
    let repo = common::go_repo_with_slowdown("30ms");
    // Two scenarios: the Go benchmark settles (25% slower) after a dozen
    // rounds or so; the command's time is far too noisy to settle within
    // the test, so only Ctrl-C ends the run.
    let mut scenario = common::gobench_scenario("30ms");
    scenario.push_str(
        "\n[[scenario]]\nname = \"jitter\"\nkind = \"command\"\ncommand = \"python3 -c 'import random, time; time.sleep(random.uniform(0.01, 0.15))'\"\n",
    );
    repo.write("perf.toml", &scenario);
    let out = repo.path().join("out").join("seq");
    let mut cmd = perfgate_cmd(
        repo.path(),
        &[
            "compare",
            "--scenario",
            "perf.toml",
            "--baseline",
            "HEAD~1",
            "--candidate",
            "HEAD",
            "--max-time",
            "10m",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    cmd.process_group(0);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("scenario bench: stopped after") {
                let _ = tx.send(());
            }
            seen.push(line);
        }
        seen
    });
    let settled = rx.recv_timeout(Duration::from_secs(180));
    if settled.is_err() {
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        panic!("the benchmark scenario never settled:\n{}", reader.join().unwrap().join("\n"));
    }
    // A few more rounds of the command alone, then Ctrl-C.
    std::thread::sleep(Duration::from_millis(1500));
    unsafe {
        libc::kill(-pid, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let log = reader.join().unwrap().join("\n");
    assert_eq!(output.status.code(), Some(130), "{log}");
    let r = read_results(&out.join("results.json"));
    assert_eq!(r["run"]["status"], "interrupted");
    assert_eq!(r["stopping"]["reason"], "interrupted", "{:#}", r["stopping"]);
    let stops = r["stopping"]["scenarios"].as_array().unwrap();
    assert_eq!(stops[0]["reason"], "settled", "{stops:#?}");
    assert_eq!(stops[1]["reason"], "interrupted", "{stops:#?}");
    // Every finished round of both scenarios is kept.
    let rounds = |scenario: &str| -> std::collections::BTreeSet<u64> {
        r["samples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["scenario"] == scenario)
            .map(|s| s["round"].as_u64().unwrap())
            .collect()
    };
    let bench_rounds = stops[0]["rounds"].as_u64().unwrap();
    assert_eq!(rounds("bench"), (1..=bench_rounds).collect(), "{log}");
    assert!(rounds("jitter").len() as u64 > bench_rounds, "the command ran on after the benchmark settled");
    assert_eq!(common::comparison(&r, "Work", "ns/op")["verdict"], "regressed", "settled before Ctrl-C");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("regressed") && stdout.contains("run interrupted"), "{stdout}");
}

/// Processes of this test's repository still alive (by their working directory).
fn ours_alive(repo: &Repo, pattern: &str) -> Vec<String> {
    let found = std::process::Command::new("pgrep").args(["-f", pattern]).output().unwrap();
    String::from_utf8_lossy(&found.stdout)
        .lines()
        .filter(|p| std::fs::read_link(format!("/proc/{p}/cwd")).is_ok_and(|c| c.starts_with(repo.path())))
        .map(str::to_string)
        .collect()
}

fn wait_until_gone(repo: &Repo, pattern: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let alive = ours_alive(repo, pattern);
        if alive.is_empty() || Instant::now() > deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts a compare of perf.toml and returns once its trial's `sleep 300` runs.
fn start_until_trial_runs(repo: &Repo) -> std::process::Child {
    let mut cmd = perfgate_cmd(repo.path(), &["compare", "--scenario", "perf.toml", "--rounds", "20"]);
    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while ours_alive(repo, "sleep 300").is_empty() {
        assert!(Instant::now() < deadline, "the trial never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// `kill -9` gives perfgate no chance to clean up: its watchdog (a process
/// in a session of its own) sees the pipe close and ends every registered
/// group, including a background child the trial's shell left behind
/// (`srv & other`), which PDEATHSIG on the shell alone never reached.
#[test]
fn kill_9_leaves_no_orphans_and_the_next_run_ends_leftovers() {
    let repo = Repo::new();
    let marker = format!("perfgate-kill9-{}", std::process::id());
    repo.write(
        "perf.toml",
        &format!(
            "name = \"k\"\n\n[[scenario]]\nname = \"bg\"\nkind = \"command\"\ncommand = \"sleep 300 & python3 -c 'import time; time.sleep(5)' {marker}\"\n"
        ),
    );
    repo.commit_all("base");
    let mut child = start_until_trial_runs(&repo);
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let left = wait_until_gone(&repo, "sleep 300", Duration::from_secs(5));
    assert!(left.is_empty(), "orphans after kill -9: {left:?}");
    assert!(wait_until_gone(&repo, &marker, Duration::from_secs(5)).is_empty());

    // The watchdog killed too (as `kill -9 -- -PGID` of a whole session
    // would): the ledger in .perfgate/ lets the next run end the leftovers.
    let child = start_until_trial_runs(&repo);
    kill_with_its_watchdog(child);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!ours_alive(&repo, "sleep 300").is_empty(), "with its watchdog killed too, the group should survive");
    let out = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("left running by an earlier perfgate run"),
        "{}",
        common::text(&out)
    );
    let left = wait_until_gone(&repo, "sleep 300", Duration::from_secs(5));
    assert!(left.is_empty(), "leftovers survived the next run: {left:?}");
}

/// `kill -9` of perfgate and of its watchdog (as `kill -9 -- -PGID` of a
/// whole session would).
fn kill_with_its_watchdog(mut child: std::process::Child) {
    let watchdogs = std::process::Command::new("pgrep").args(["-f", "perfgate __watchdog"]).output().unwrap();
    for p in String::from_utf8_lossy(&watchdogs.stdout).lines() {
        let parent = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let ppid = parent.rsplit(')').next().and_then(|r| r.split(' ').nth(2)).unwrap_or("");
        if ppid == child.id().to_string() {
            unsafe {
                libc::kill(p.parse().unwrap(), libc::SIGKILL);
            }
        }
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Whether this machine lets perfgate make a cgroup v2 of its run (a
/// writable cgroup2 mount: root, or a delegated slice). CI runs as root on
/// such a machine and must not skip.
fn cgroups_available() -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let rel = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap_or("/").trim_start_matches('/').to_string();
    let probe = mounts
        .lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let mount = left.split(' ').nth(4)?;
            right.starts_with("cgroup2 ").then(|| std::path::PathBuf::from(mount))
        })
        .map(|m| m.join(&rel).join(format!("perfgate-test-probe-{}", std::process::id())))
        .find(|d| std::fs::create_dir(d).is_ok());
    if let Some(d) = &probe {
        let _ = std::fs::remove_dir(d);
    } else {
        assert!(std::env::var_os("CI").is_none(), "CI must let perfgate make a cgroup v2 (a writable cgroup2 mount)");
        eprintln!("\n*** SKIPPED: no writable cgroup2 mount here; the run's cgroup is not made ***\n");
    }
    probe.is_some()
}

/// A process that leaves its group *and* session (`setsid`) escapes the
/// watchdog's group kill; the run's cgroup catches it after `kill -9`. The
/// run's TMPDIR (where the trial leaves a file) goes with it.
#[test]
fn kill_9_ends_what_left_the_group_and_removes_the_runs_tmpdir() {
    if !cgroups_available() {
        return;
    }
    let repo = Repo::new();
    let marker = repo.path().join("tmpdir.txt");
    repo.write(
        "perf.toml",
        &format!(
            "name = \"k\"\n\n[[scenario]]\nname = \"escape\"\nkind = \"command\"\n\
             command = \"echo $TMPDIR > {}; touch $TMPDIR/left; setsid sleep 301 & sleep 300\"\n",
            marker.display()
        ),
    );
    repo.commit_all("base");
    let start = || {
        let mut cmd = perfgate_cmd(repo.path(), &["compare", "--scenario", "perf.toml", "--rounds", "20"]);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        let child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while ours_alive(&repo, "sleep 301").is_empty() || ours_alive(&repo, "sleep 300").is_empty() {
            assert!(Instant::now() < deadline, "the trial never started");
            std::thread::sleep(Duration::from_millis(100));
        }
        child
    };
    let mut child = start();
    let tmpdir = std::fs::read_to_string(&marker).unwrap().trim().to_string();
    assert!(tmpdir.contains("perfgate-run-") && std::path::Path::new(&tmpdir).join("left").exists(), "{tmpdir}");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let left = wait_until_gone(&repo, "sleep 30[01]", Duration::from_secs(5));
    assert!(left.is_empty(), "survived kill -9: {left:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&tmpdir).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!std::path::Path::new(&tmpdir).exists(), "the run's TMPDIR {tmpdir} is left");

    // Its watchdog killed too: the next run ends the cgroup from the ledger.
    kill_with_its_watchdog(start());
    std::thread::sleep(Duration::from_millis(500));
    assert!(!ours_alive(&repo, "sleep 301").is_empty(), "with its watchdog killed too, the escapee should survive");
    let tmpdir = std::fs::read_to_string(&marker).unwrap().trim().to_string();
    // Any command that takes the run lock ends them; `cache prune` runs nothing.
    let out = repo.perfgate(&["cache", "prune"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("left running by an earlier perfgate run"),
        "{}",
        common::text(&out)
    );
    let left = wait_until_gone(&repo, "sleep 301", Duration::from_secs(5));
    assert!(left.is_empty(), "the next run left the escapee: {left:?}");
    assert!(!std::path::Path::new(&tmpdir).exists(), "the killed run's TMPDIR {tmpdir} is left");
}
