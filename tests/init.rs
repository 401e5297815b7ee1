//! `perfgate init`: real repositories in temp dirs, the real binary; what it
//! writes must validate, and (for a benchmark-only module) compare must run
//! it end to end.

mod common;
use common::{Repo, perfgate_cmd, text};

fn read(repo: &Repo, rel: &str) -> String {
    std::fs::read_to_string(repo.path().join(rel)).unwrap()
}

#[test]
fn a_benchmark_only_module_gets_a_gobench_scenario_that_compare_runs() {
    let repo = Repo::new();
    // The benchmark lives in a sub-package; a nested module with benchmarks
    // of its own; a main package that does not serve HTTP.
    repo.write("go.mod", "module example.com/work\n\ngo 1.26\n");
    repo.write("doc.go", "// Package work is a test.\npackage work\n");
    common::write_go_module(&repo, 200_000);
    std::fs::create_dir_all(repo.path().join("hash")).unwrap();
    for f in ["work.go", "work_test.go"] {
        std::fs::rename(repo.path().join(f), repo.path().join("hash").join(f)).unwrap();
    }
    repo.write("go.mod", "module example.com/work\n\ngo 1.26\n");
    repo.write("cmd/tool/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n");
    repo.commit_all("work");
    let o = repo.perfgate(&["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 benchmark(s) in 1 package(s)") && out.contains("validated"), "{out}");
    assert!(out.contains("perfgate compare"), "the next command: {out}");
    let toml = read(&repo, "perf.toml");
    assert!(toml.contains("kind = \"gobench\"") && toml.contains("packages = [\"./hash\"]"), "{toml}");
    assert!(!toml.contains("[target]"), "no service here: {toml}");

    // `validate` and `compare` without arguments find perf.toml, from a subdirectory too.
    let o = perfgate_cmd(&repo.path().join("hash"), &["validate"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = perfgate_cmd(repo.path(), &["compare", "--rounds", "2", "--out", "out/init"])
        .env_remove("PERFGATE_NOISE_PROBE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = common::read_results(&repo.path().join("out/init/results.json"));
    let c = common::comparison(&r, "Work", "ns/op");
    assert_eq!(c["baseline"]["n"], 2, "{c}");
    // The noise probe ran before the rounds and is in the environment.
    let noise = &r["environment"]["noise"];
    let loops: Vec<&str> = noise["loops"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(loops, ["cpu", "memory"], "{noise}");
    for l in noise["loops"].as_array().unwrap() {
        assert!(l["rounds"].as_u64().unwrap() >= 12 && l["paired_cv_pct"].as_f64().unwrap() > 0.0, "{l}");
    }
}

#[test]
fn a_service_with_pprof_gets_a_target_an_http_scenario_and_a_cpu_profile() {
    let repo = Repo::new();
    common::copy_tracked(&repo, "examples/dashboard");
    repo.commit_all("dashboard");
    let o = perfgate_cmd(&repo.path().join("examples/dashboard"), &["init"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("HTTP service, package main in examples/dashboard/cmd/dashboard, net/http/pprof imported"),
        "{out}"
    );
    // Written at the repository's root, not in the current directory.
    let toml = read(&repo, "perf.toml");
    for want in [
        "[target]\ndir = \"examples/dashboard\"\n",
        "build = \"go build -o {build}/dashboard ./cmd/dashboard\"",
        "start = \"{build}/dashboard -addr 127.0.0.1:{port}\"   # GUESS",
        "ready = { http = \"http://127.0.0.1:{port}/healthz\", timeout = \"60s\" }   # GUESS",
        "metrics = \"http://127.0.0.1:{port}/metrics\"",
        "pprof = \"http://127.0.0.1:{port}/debug/pprof\"",
        "kind = \"http\"",
        "requests = [{ method = \"GET\", path = \"/api/dashboard\" }]   # GUESS",
        "profile = [\"cpu\"]",
        "kind = \"gobench\"\ndir = \"examples/dashboard\"\npackages = [\".\"]",
    ] {
        assert!(toml.contains(want), "missing {want:?} in:\n{toml}");
    }
    let o = repo.perfgate(&["validate", "perf.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn an_empty_repository_gets_a_template_and_a_clear_message() {
    let repo = Repo::new();
    repo.write("README.md", "# nothing to measure\n");
    repo.commit_all("readme");
    let o = repo.perfgate(&["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Nothing to measure found") && out.contains("template"), "{out}");
    let toml = read(&repo, "perf.toml");
    assert!(toml.contains("# [[scenario]]") && toml.contains("# kind = \"command\""), "{toml}");
    // Until a scenario is uncommented, validate says what is missing.
    let o = repo.perfgate(&["validate"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("add at least one [[scenario]]"), "{}", text(&o));
}

#[test]
fn an_existing_perf_toml_is_kept_unless_forced() {
    let repo = Repo::new();
    common::write_go_module(&repo, 1000);
    repo.write("perf.toml", "# mine\nname = \"mine\"\n");
    repo.commit_all("work");
    let o = repo.perfgate(&["init"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists; pass --force"), "{}", text(&o));
    assert_eq!(read(&repo, "perf.toml"), "# mine\nname = \"mine\"\n");
    let o = repo.perfgate(&["init", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(read(&repo, "perf.toml").contains("kind = \"gobench\""));
}
