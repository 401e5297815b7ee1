//! `perfgate compare` end to end: the real binary against real git
//! repositories and real `go test` benchmarks and commands.

mod common;

use common::{Repo, comparison, go_repo_with_slowdown, gobench_scenario, out_dir, read_results, text, write_go_module};

#[test]
fn same_seed_gives_the_same_order_and_builds_are_cached() {
    let repo = go_repo_with_slowdown("100ms");
    let run = |name: &str| {
        let out = out_dir(&repo, name);
        let o = repo.perfgate(&[
            "compare",
            "--scenario",
            "perf.toml",
            "--baseline",
            "HEAD~1",
            "--candidate",
            "HEAD",
            "--rounds",
            "2",
            "--seed",
            "1234",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.code() == Some(0) || o.status.code() == Some(1), "{}", text(&o));
        (o, read_results(&out.join("results.json")))
    };
    let (first, r1) = run("one");
    let (second, r2) = run("two");
    assert_eq!(r1["run"]["seed"], 1234);
    assert_eq!(r1["run"]["schedule"], r2["run"]["schedule"]);
    let stderr1 = String::from_utf8_lossy(&first.stderr);
    let stderr2 = String::from_utf8_lossy(&second.stderr);
    assert!(stderr1.contains("baseline   go test -c example.com/work: built"), "{stderr1}");
    assert!(stderr2.contains("baseline   go test -c example.com/work: cached, not rebuilt"), "{stderr2}");
    assert!(stderr2.contains("candidate  go test -c example.com/work: cached, not rebuilt"), "{stderr2}");
    // Checkouts are reused git worktrees under .perfgate/.
    let worktrees = repo.worktrees();
    assert!(worktrees.contains(".perfgate/worktrees/baseline"), "{worktrees}");
    assert!(worktrees.contains(".perfgate/worktrees/candidate"), "{worktrees}");
    assert!(!worktrees.contains("prunable"), "{worktrees}");
}

#[test]
fn working_tree_is_the_default_candidate_and_is_snapshotted() {
    let repo = Repo::new();
    write_go_module(&repo, 100_000);
    repo.write("perf.toml", &gobench_scenario("20x"));
    repo.commit_all("base");
    // Uncommitted edit plus an untracked file: both belong to the candidate.
    write_go_module(&repo, 100_001);
    repo.write("extra.go", "package work\n\n// Extra is untracked.\nconst Extra = 1\n");
    let out = out_dir(&repo, "wt");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "1", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let results = read_results(&out.join("results.json"));
    let cand = &results["variants"][1];
    assert_eq!(cand["rev"], "working tree");
    let commit = cand["commit"].as_str().unwrap();
    assert_ne!(commit, repo.git(&["rev-parse", "HEAD"]));
    let files = repo.git(&["ls-tree", "--name-only", commit]);
    assert!(files.contains("extra.go"), "untracked file missing from snapshot: {files}");
    assert!(!files.contains("out"), "report dir leaked into snapshot: {files}");
    let work = repo.git(&["show", &format!("{commit}:work.go")]);
    assert!(work.contains("100001"), "{work}");
    // The user's working tree is untouched.
    assert!(repo.git(&["status", "--porcelain"]).contains("extra.go"));
}

#[test]
fn patch_candidate_and_a_patch_that_does_not_apply() {
    let repo = Repo::new();
    write_go_module(&repo, 100_000);
    repo.write("perf.toml", &gobench_scenario("20x"));
    repo.commit_all("base");
    write_go_module(&repo, 50_000);
    let patch = repo.git(&["diff"]);
    repo.git(&["checkout", "--", "."]);
    repo.write("faster.patch", &format!("{patch}\n"));
    repo.write("broken.patch", &format!("{}\n", patch.replace("const Size = 100000", "const Size = 7")));
    let out = out_dir(&repo, "patch");
    let o = repo.perfgate(&[
        "compare",
        "--scenario",
        "perf.toml",
        "--patch",
        "faster.patch",
        "--rounds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let results = read_results(&out.join("results.json"));
    assert_eq!(results["variants"][1]["patch"], "faster.patch");
    let commit = results["variants"][1]["commit"].as_str().unwrap();
    assert!(repo.git(&["show", &format!("{commit}:work.go")]).contains("50000"));

    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--patch", "broken.patch", "--rounds", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("broken.patch does not apply"), "{stderr}");
    assert!(stderr.contains("patch failed"), "git's own message should be shown: {stderr}");
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let repo = go_repo_with_slowdown("100ms");
    repo.write("bad.toml", "name = \"x\"\n\n[[scenario]]\nname = \"b\"\nkind = \"gobench\"\nbenchtime = 5\n");
    let o = repo.perfgate(&["compare", "--scenario", "bad.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.toml:6:13"), "{}", text(&o));

    let o = repo.perfgate(&["validate", "bad.toml", "perf.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.toml:6:13"), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("perf.toml: ok"), "{}", text(&o));

    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--baseline", "no-such-rev"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown revision \"no-such-rev\""), "{}", text(&o));
    // ... and leaves no empty output directory behind.
    let reports = repo.path().join("reports");
    let left: Vec<_> =
        std::fs::read_dir(&reports).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.iter().all(|n| n == "latest"), "{left:?}");

    // An output directory that holds the user's files is refused, and nothing in it is touched.
    repo.write(".gitignore", "target/\n");
    repo.commit_all("a tracked .gitignore");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--out", "."]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("perfgate did not write"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(repo.path().join(".gitignore")).unwrap(), "target/\n");
    assert!(!repo.path().join("logs").exists());

    let o = repo.perfgate(&["compare", "--scenario", "missing.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.toml"), "{}", text(&o));

    let o = repo.perfgate(&["compare", "--rounds", "0", "--scenario", "perf.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // Revisions never reach a shell.
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--baseline", "HEAD; touch pwned"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!repo.path().join("pwned").exists());
}

#[test]
fn build_failure_exits_3_with_the_build_output() {
    let repo = Repo::new();
    write_go_module(&repo, 1000);
    repo.write("perf.toml", &gobench_scenario("100ms"));
    repo.commit_all("base");
    repo.write("work.go", "package work\n\nfunc Work(n int) uint64 { return undefinedThing }\n\nconst Size = 1\n");
    repo.commit_all("broken");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--baseline", "HEAD~1", "--candidate", "HEAD"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("undefined: undefinedThing"), "{stderr}");
    assert!(stderr.contains("building the candidate test binary"), "{stderr}");
}

#[test]
fn command_scenario_measures_time_cpu_and_rss_and_failures_exit_3() {
    let repo = Repo::new();
    repo.write(
        "perf.toml",
        r#"
name = "cmd"

[[scenario]]
name = "alloc"
kind = "command"
prepare = "echo prepared > prepared.txt"
command = "python3 work.py"
env = { SIZE = "40000000" }
"#,
    );
    repo.write(
        "work.py",
        "import os, time\nassert open('prepared.txt').read().strip() == 'prepared'\nb = bytearray(int(os.environ['SIZE']))\nt = time.process_time()\nwhile time.process_time() - t < 0.05: pass\n",
    );
    repo.commit_all("base");
    let out = out_dir(&repo, "cmd");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "4", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let results = read_results(&out.join("results.json"));
    let rss = comparison(&results, "alloc", "max_rss");
    assert!(rss["baseline"]["median"].as_f64().unwrap() >= 40e6, "{rss:#}");
    let cpu = comparison(&results, "alloc", "cpu_time");
    assert!(cpu["baseline"]["median"].as_f64().unwrap() >= 0.04, "{cpu:#}");
    let wall = comparison(&results, "alloc", "wall_time");
    assert!(wall["baseline"]["median"].as_f64().unwrap() >= 0.04, "{wall:#}");
    assert_eq!(wall["unit"], "s");

    // Candidate whose command fails in every round: exit 3, stderr shown,
    // the baseline rounds measured before the failure are kept.
    repo.write("work.py", "import sys\nprint('the database is on fire', file=sys.stderr)\nsys.exit(4)\n");
    let out = out_dir(&repo, "cmd-fail");
    let o = repo.perfgate(&[
        "compare",
        "--scenario",
        "perf.toml",
        "--rounds",
        "4",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("the database is on fire"), "{stderr}");
    assert!(stderr.contains("exit status 4"), "{stderr}");
    let results = read_results(&out.join("results.json"));
    assert_eq!(results["run"]["status"], "failed");
    assert_eq!(results["failures"].as_array().unwrap().len(), 1);
}

#[test]
fn a_second_run_in_the_same_repository_is_refused() {
    use std::os::fd::AsRawFd;
    let repo = go_repo_with_slowdown("100ms");
    std::fs::create_dir_all(repo.path().join(".perfgate")).unwrap();
    let held = std::fs::File::create(repo.path().join(".perfgate/lock")).unwrap();
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another perfgate run"), "{}", text(&o));
    drop(held);
}

#[test]
fn packages_without_benchmarks_and_benchmarks_new_in_the_candidate() {
    let repo = Repo::new();
    repo.write("go.mod", "module example.com/m\n\ngo 1.26\n");
    repo.write("a/a.go", "package a\n\n// Sum adds.\nfunc Sum(n int) int {\n\ts := 0\n\tfor i := 0; i < n; i++ {\n\t\ts += i\n\t}\n\treturn s\n}\n");
    repo.write(
        "a/a_test.go",
        "package a\n\nimport \"testing\"\n\nfunc BenchmarkSum(b *testing.B) {\n\tfor i := 0; i < b.N; i++ {\n\t\tSum(1000)\n\t}\n}\n",
    );
    // A package with tests but no benchmarks: fine among several.
    repo.write("t/t.go", "package t\n\n// One is one.\nfunc One() int { return 1 }\n");
    repo.write("t/t_test.go", "package t\n\nimport \"testing\"\n\nfunc TestOne(t *testing.T) {\n\tif One() != 1 {\n\t\tt.Fatal(\"no\")\n\t}\n}\n");
    repo.write(
        "perf.toml",
        "name = \"m\"\n\n[[scenario]]\nname = \"all\"\nkind = \"gobench\"\npackages = [\"./...\"]\nbenchtime = \"10x\"\n",
    );
    repo.commit_all("base");
    // The working tree adds a package with a new benchmark.
    repo.write("b/b.go", "package b\n\n// Two is two.\nfunc Two() int { return 2 }\n");
    repo.write(
        "b/b_test.go",
        "package b\n\nimport \"testing\"\n\nfunc BenchmarkTwo(b *testing.B) {\n\tfor i := 0; i < b.N; i++ {\n\t\tTwo()\n\t}\n}\n",
    );
    let out = out_dir(&repo, "multi");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "1", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let results = read_results(&out.join("results.json"));
    // Same name on both sides: compared.
    let c = comparison(&results, "example.com/m/a:Sum", "ns/op");
    assert_eq!(c["baseline"]["n"], 1);
    let warnings = results["warnings"].to_string();
    assert!(warnings.contains("example.com/m/b:Two") && warnings.contains("only in the candidate"), "{warnings}");
    let go_keys: Vec<&str> =
        results["environment"]["go"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert!(go_keys.contains(&"goversion"), "{go_keys:?}");
}

#[test]
fn placeholders_survive_paths_with_spaces_and_a_failed_build_still_writes_results() {
    let repo = Repo::with_prefix("perf gate ");
    repo.write(
        "perf.toml",
        r#"
name = "spaces"

[target]
build = "printf built > {build}/marker"

[[scenario]]
name = "read"
kind = "command"
command = "cat {build}/marker && test -f {checkout}/perf.toml"
"#,
    );
    repo.commit_all("base");
    let out = out_dir(&repo, "spaces");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "1", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(repo.path().join("out/spaces/logs/read-baseline-1.log").exists());
    assert_eq!(std::fs::read_to_string(repo.path().join("out/spaces/logs/read-baseline-1.log")).unwrap(), "built");

    repo.write(
        "perf.toml",
        &std::fs::read_to_string(repo.path().join("perf.toml")).unwrap().replace("printf built", "false"),
    );
    let out = out_dir(&repo, "broken");
    let o = repo.perfgate(&["compare", "--scenario", "perf.toml", "--rounds", "1", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let results = read_results(&out.join("results.json"));
    assert_eq!(results["run"]["status"], "failed");
    assert!(results["failures"][0]["message"].as_str().unwrap().contains("building the"), "{results:#}");
}
