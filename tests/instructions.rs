//! `measure = "instructions"`: benchmarks and commands counted under
//! Valgrind (real Valgrind, real `go test` binaries, real shells). Counts
//! repeat where time does not, so a 1% change is a verdict and an A/A run
//! is unchanged, on this noisy machine.

mod common;

use common::{Repo, comparison, out_dir, read_results, text, valgrind, write_go_module};

/// `perfgate compare --scenario perf.toml --baseline B --candidate C
/// [EXTRA...] --out out/NAME`: its output and results.json.
fn compare(
    repo: &Repo,
    name: &str,
    base: &str,
    cand: &str,
    extra: &[&str],
) -> (std::process::Output, serde_json::Value) {
    let out = out_dir(repo, name);
    let mut args = vec!["compare", "--scenario", "perf.toml", "--baseline", base, "--candidate", cand];
    args.extend_from_slice(extra);
    let dir = out.to_str().unwrap().to_string();
    args.extend_from_slice(&["--out", &dir]);
    let o = repo.perfgate(&args);
    let r = read_results(&out.join("results.json"));
    (o, r)
}

fn instructions_scenario() -> &'static str {
    "name = \"work\"\n\n[[scenario]]\nname = \"bench\"\nkind = \"gobench\"\nbench = \"Work\"\nmeasure = \"instructions\"\n"
}

/// HEAD~1 runs `Work(100000)` per op, HEAD `Work(101000)`: 1% more of the
/// same loop, far below what timing can see here (CV 20–35%).
#[test]
fn one_percent_more_work_is_regressed_by_instructions_and_a_a_is_unchanged() {
    if !valgrind() {
        return;
    }
    let repo = Repo::new();
    write_go_module(&repo, 100_000);
    repo.write("perf.toml", instructions_scenario());
    repo.commit_all("base");
    write_go_module(&repo, 101_000);
    repo.commit_all("1% more work");

    let (o, r) = compare(&repo, "ab", "HEAD~1", "HEAD", &[]);
    let c = comparison(&r, "Work", "instructions/op");
    assert_eq!(c["verdict"], "regressed", "{c:#}\n{}", text(&o));
    let delta = c["delta_pct"].as_f64().unwrap();
    assert!((0.8..1.2).contains(&delta), "1% more loop work: {delta}%");
    assert_eq!(c["unit"], "instructions/op");
    assert!(c["notes"].to_string().contains("a count (Valgrind), not time"), "{c:#}");
    assert_eq!(o.status.code(), Some(1), "a regression fails the gate: {}", text(&o));
    // The environment of the counts is recorded with the run.
    let go = r["environment"]["go"].to_string();
    assert!(go.contains("GOMAXPROCS=1") && go.contains("asyncpreemptoff=1") && go.contains("valgrind-"), "{go}");
    assert_eq!(r["run"]["count_threshold_pct"], 0.5);
    instruction_profiles_name_the_changed_function(&out_dir(&repo, "ab"), &r);

    let (o, r) = compare(&repo, "aa", "HEAD", "HEAD", &[]);
    let c = comparison(&r, "Work", "instructions/op");
    assert_eq!(c["verdict"], "unchanged", "A/A: {c:#}\n{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

/// A command's count is exact (a shell loop repeats to the instruction);
/// with both measures, time and instructions run as trials of their own.
/// With the cache simulation: misses and estimated cycles too.
#[test]
fn commands_are_counted_exactly_with_both_measures() {
    if !valgrind() {
        return;
    }
    let repo = Repo::new();
    repo.write(
        "perf.toml",
        "name = \"loop\"\n\n[[scenario]]\nname = \"loop\"\nkind = \"command\"\ncommand = \"sh loop.sh\"\n\
         measure = [\"time\", \"instructions\"]\ncache_sim = true\n",
    );
    let script = |n: u32| format!("i=0\nwhile [ $i -lt {n} ]; do i=$((i+1)); done\n");
    repo.write("loop.sh", &script(2000));
    repo.commit_all("base");
    repo.write("loop.sh", &script(2600));
    repo.commit_all("30% more iterations");
    let (o, r) = compare(&repo, "cmd", "HEAD~1", "HEAD", &["--rounds", "5"]);
    let c = comparison(&r, "loop", "instructions");
    assert_eq!(c["verdict"], "regressed", "{c:#}\n{}", text(&o));
    // Exact: every round counted the same on each side, or (as once in
    // CI) one round a few dozen instructions of 23M off: judged on the range.
    let spread = |side: &str| c[side]["max"].as_f64().unwrap() / c[side]["min"].as_f64().unwrap() - 1.0;
    assert!(spread("baseline") <= 1e-4 && spread("candidate") <= 1e-4, "{c:#}");
    assert_eq!(c["test"], "exact");
    let (lo, hi) = (c["delta_ci_low_pct"].as_f64().unwrap(), c["delta_ci_high_pct"].as_f64().unwrap());
    assert!(lo > 25.0 && hi < 35.0 && hi - lo < 0.01, "30% more iterations: [{lo}, {hi}]");
    for metric in ["l1_misses", "ll_misses", "estimated_cycles", "wall_time"] {
        comparison(&r, "loop", metric);
    }
    let units: Vec<String> =
        r["run"]["schedule"].as_array().unwrap().iter().map(|s| s["unit"].as_str().unwrap_or("").to_string()).collect();
    assert!(units.contains(&"time".to_string()) && units.contains(&"instructions".to_string()), "{units:?}");
}

/// A missing Valgrind is exit 2 saying how to install it, before anything
/// runs; a program that crashes under Valgrind is exit 3 naming it, and the
/// rounds the other scenario measured before are kept.
#[test]
fn missing_valgrind_and_crashes_are_clear_errors() {
    if !valgrind() {
        return;
    }
    let repo = Repo::new();
    repo.write(
        "perf.toml",
        "name = \"c\"\n\n[[scenario]]\nname = \"fine\"\nkind = \"command\"\ncommand = \"true\"\n\n\
         [[scenario]]\nname = \"crash\"\nkind = \"command\"\ncommand = \"kill -SEGV $$\"\nmeasure = \"instructions\"\n",
    );
    repo.commit_all("base");
    let out = out_dir(&repo, "missing");
    let args =
        ["compare", "--scenario", "perf.toml", "--candidate", "HEAD", "--rounds", "2", "--out", out.to_str().unwrap()];
    common::assert_missing_valgrind_is_exit_2(&repo, &args);

    let (o, r) = compare(&repo, "crash", "HEAD", "HEAD", &["--rounds", "2"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("under Valgrind") && stderr.contains("crash"), "{}", text(&o));
    let fine = r["samples"].as_array().unwrap().iter().filter(|s| s["scenario"] == "fine").count();
    assert!(fine > 0, "the other scenario's rounds are kept: {}", text(&o));
}

/// `measure` is checked where it is written.
#[test]
fn measure_settings_are_validated_with_their_location() {
    let repo = Repo::new();
    let cases = [
        ("kind = \"command\"\ncommand = \"true\"\nmeasure = \"cycles\"\n", "unknown measure \"cycles\""),
        ("kind = \"command\"\ncommand = \"true\"\ncache_sim = true\n", "cache_sim needs measure"),
        ("kind = \"command\"\ncommand = \"true\"\nmeasure = [\"time\", \"time\"]\n", "listed twice"),
        ("kind = \"gobench\"\nmeasure = \"instructions\"\nper_benchmark = false\n", "remove per_benchmark = false"),
        ("kind = \"http\"\nurl = \"http://127.0.0.1:1/\"\nmeasure = \"instructions\"\n", "measure"),
    ];
    common::assert_refused(&repo, "name = \"v\"\n\n[[scenario]]\nname = \"s\"\n", &cases, "perf.toml:");
}

/// The profiling pass turned each variant's callgrind output into a pprof
/// profile: its diff names the function whose loop grew, with file:line,
/// and `go tool pprof` reads the files and prints what perfgate prints.
fn instruction_profiles_name_the_changed_function(out: &std::path::Path, r: &serde_json::Value) {
    let diff = r["profile_diffs"].as_array().unwrap().iter().find(|d| d["kind"] == "instructions");
    let diff = diff.unwrap_or_else(|| panic!("no instructions diff: {:#}", r["profile_diffs"]));
    assert_eq!(diff["sample_type"], "instructions");
    let top = &diff["top"][0];
    assert!(top["function"].as_str().unwrap().contains("Work"), "{diff:#}");
    assert!(top["file"].as_str().unwrap().ends_with("work.go") && top["line"].as_u64().unwrap() > 0, "{top:#}");
    assert!(top["flat"].as_f64().unwrap() > 0.0, "the candidate runs more instructions there: {top:#}");
    common::instruction_profiles_agree_with_go_tool_pprof(out, r);
}
