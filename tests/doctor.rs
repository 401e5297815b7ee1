//! `perfgate doctor`: the real binary, real tools looked up on PATH, the
//! real noise probe.

mod common;
use common::{Repo, perfgate_cmd, text};

#[test]
fn json_has_the_tools_the_repository_and_the_noise_figures() {
    let repo = Repo::new();
    common::write_go_module(&repo, 1000);
    repo.write("perf.toml", &common::gobench_scenario("10x"));
    repo.commit_all("one");
    let started = std::time::Instant::now();
    let o = repo.perfgate(&["doctor", "--json"]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("--json prints JSON");
    let names: Vec<&str> = r["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["git", "go", "cargo", "valgrind", "postgresql", "chromium"]);
    for t in r["tools"].as_array().unwrap() {
        assert!(t["required"].is_boolean() && t["install"].as_str().is_some_and(|s| !s.is_empty()), "{t}");
        assert!(t["version"].is_string() || t["error"].is_string(), "{t}");
    }
    // perf.toml has a gobench scenario: git and Go are required, and found.
    let tool = |n: &str| r["tools"].as_array().unwrap().iter().find(|t| t["name"] == n).unwrap().clone();
    assert_eq!(tool("go")["required"], true);
    assert!(tool("go")["version"].as_str().unwrap().starts_with("go version"), "{}", tool("go"));
    assert_eq!(tool("valgrind")["required"], false);
    let repo_state = &r["repository"];
    assert_eq!(repo_state["is_git"], true);
    assert_eq!(repo_state["shallow"], false);
    assert_eq!(repo_state["head_has_parent"], false);
    assert!(repo_state["dirty_submodules"].as_array().unwrap().is_empty());
    let noise = &r["noise"];
    let loops = noise["loops"].as_array().unwrap();
    assert_eq!(loops.iter().map(|l| l["name"].as_str().unwrap()).collect::<Vec<_>>(), ["cpu", "memory"]);
    for l in loops {
        assert!(l["rounds"].as_u64().unwrap() >= 12, "{l}");
        assert!(l["trial_ms"].as_f64().unwrap() > 1.0, "{l}");
        assert!(l["paired_cv_pct"].as_f64().unwrap() > 0.0, "{l}");
        for k in ["mde_pct", "rounds_for_5pct", "rounds_for_10pct"] {
            assert!(l[k].is_number() || l[k].is_null(), "{k}: {l}");
        }
    }
    assert_eq!(noise["threshold_pct"], 2.0);
    assert!(noise["default_rounds"].as_u64().unwrap() >= 6);
    // The probe's own budget (8 s) keeps doctor well under 30 s.
    assert!(noise["seconds"].as_f64().unwrap() < 30.0 && took.as_secs() < 60, "{noise} in {took:?}");
    assert!(r["advice"].as_str().is_some_and(|a| !a.is_empty()));
    assert!(r["problems"].as_array().unwrap().is_empty(), "{}", r["problems"]);
    // HEAD without a parent is worth a warning, not a problem.
    assert!(r["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("no parent")));
}

#[test]
fn a_missing_tool_is_named_with_how_to_install_it() {
    let repo = Repo::new();
    common::write_go_module(&repo, 1000);
    repo.write(
        "perf.toml",
        "name = \"w\"\n[[scenario]]\nname = \"b\"\nkind = \"gobench\"\nmeasure = [\"time\", \"instructions\"]\n",
    );
    repo.commit_all("one");
    // A PATH with git and nothing else perfgate looks for.
    let bin = tempfile::tempdir().unwrap();
    let git =
        String::from_utf8(std::process::Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout)
            .unwrap();
    std::os::unix::fs::symlink(git.trim(), bin.path().join("git")).unwrap();
    let o = perfgate_cmd(repo.path(), &["doctor", "--no-probe"])
        .env("PATH", bin.path())
        .env_remove("PERFGATE_VALGRIND")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("MISSING go") && out.contains("https://go.dev/dl/"), "{out}");
    assert!(out.contains("MISSING valgrind") && out.contains("apt-get install valgrind"), "{out}");
    assert!(out.contains("absent  cargo") && out.contains("https://rustup.rs"), "cargo is not needed here: {out}");
    assert!(out.contains("problem: go is missing") && !out.contains("ready."), "{out}");
    assert!(!out.contains("noise probe"), "--no-probe: {out}");

    let o = perfgate_cmd(repo.path(), &["doctor", "--no-probe", "--json"])
        .env("PATH", bin.path())
        .env_remove("PERFGATE_VALGRIND")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems: Vec<&str> = r["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("go is missing") && problems[1].starts_with("valgrind is missing"), "{problems:?}");
    assert!(r.get("noise").is_none(), "{r}");
}

#[test]
fn a_shallow_clone_and_a_modified_submodule_are_reported() {
    let upstream = Repo::new();
    upstream.write("a.txt", "1\n");
    upstream.commit_all("one");
    upstream.write("a.txt", "2\n");
    upstream.commit_all("two");
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", upstream.path().display());
    let clone = dir.path().join("clone");
    let st =
        std::process::Command::new("git").args(["clone", "-q", "--depth", "1", &url]).arg(&clone).status().unwrap();
    assert!(st.success());
    let o = perfgate_cmd(&clone, &["doctor", "--no-probe", "--json"]).output().unwrap();
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    assert_eq!(r["repository"]["shallow"], true, "{r}");
    assert!(r["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("git fetch --unshallow")));

    // A submodule with a modified file.
    let repo = Repo::new();
    repo.write("x.txt", "x\n");
    repo.commit_all("x");
    repo.git(&["-c", "protocol.file.allow=always", "submodule", "add", "-q", &url, "sub"]);
    repo.commit_all("sub");
    std::fs::write(repo.path().join("sub/a.txt"), "changed\n").unwrap();
    let o = repo.perfgate(&["doctor", "--no-probe", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", text(&o)));
    let subs = r["repository"]["dirty_submodules"].as_array().unwrap();
    assert_eq!(subs.len(), 1, "{r}");
    assert!(subs[0].as_str().unwrap().starts_with("sub (modified files"), "{subs:?}");
}
