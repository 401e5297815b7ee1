//! Profiles in a compare, end to end with real Go programs: a `gobench`
//! scenario's profiling pass (`-test.cpuprofile`, `-test.memprofile`) runs
//! after the timed rounds and yields per-variant hotspots, their diff and
//! flame graphs. (Service targets: tests/demo.rs and tests/service.rs.)

mod common;

use common::{Repo, read_results, text, write_go_module};

#[test]
fn gobench_profiles_per_variant_with_diff_and_flame_graphs() {
    let repo = Repo::new();
    write_go_module(&repo, 400_000);
    repo.write(
        "perf.toml",
        "name = \"work\"\n\n[[scenario]]\nname = \"bench\"\nkind = \"gobench\"\nbench = \"Work\"\nbenchtime = \"200ms\"\nprofile = [\"cpu\", \"allocs\"]\n",
    );
    repo.commit_all("baseline");
    let out = repo.path().join("out");
    let o = repo.perfgate(&[
        "compare",
        "--scenario",
        "perf.toml",
        "--baseline",
        "HEAD",
        "--candidate",
        "HEAD",
        "--rounds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let log = text(&o);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{log}");
    let r = read_results(&out.join("results.json"));
    let profiles = r["profiles"].as_array().unwrap();
    let cpu: Vec<_> = profiles.iter().filter(|p| p["kind"] == "cpu").collect();
    assert_eq!(cpu.len(), 2, "one CPU profile per variant: {profiles:#?}\n{log}");
    for p in &cpu {
        let top = p["top"].as_array().unwrap();
        let work = top.iter().find(|e| e["function"] == "example.com/work.Work").unwrap_or_else(|| panic!("{p:#}"));
        assert!(work["flat_pct"].as_f64().unwrap() > 50.0, "Work burns the CPU: {work}");
        assert_eq!(work["file"].as_str().unwrap().rsplit('/').next(), Some("work.go"));
        assert!(work["line"].as_u64().unwrap() >= 6, "{work}");
        let svg = out.join(p["flame_graph"].as_str().unwrap());
        assert!(std::fs::read_to_string(svg).unwrap().contains("example.com/work.Work"));
        assert!(out.join(p["path"].as_str().unwrap()).exists());
    }
    assert!(profiles.iter().any(|p| p["kind"] == "allocs" && p["sample_type"] == "alloc_space"), "{profiles:#?}");
    let diffs = r["profile_diffs"].as_array().unwrap();
    let d = diffs.iter().find(|d| d["kind"] == "cpu").unwrap_or_else(|| panic!("{diffs:#?}"));
    assert!(out.join(d["flame_graph"].as_str().unwrap()).exists());
    // Movers, or (two A/A profiles can sample identically) the word that none moved.
    assert!(log.contains("profile cpu (cpu): "), "{log}");
    // The timings are the rounds' own: the profiling pass adds no samples.
    let rounds: std::collections::BTreeSet<u64> =
        r["samples"].as_array().unwrap().iter().map(|s| s["round"].as_u64().unwrap()).collect();
    assert_eq!(rounds.into_iter().collect::<Vec<_>>(), vec![1, 2]);
}
