//! `compare --shard I/N` and `perfgate merge`: a 9-scenario file counted
//! under Valgrind (counts repeat exactly, so verdicts do too), run whole and
//! as 3 shards; the merged shards give the whole run's verdicts, numbers and
//! q-values, one report and exit 1 for the shard that regressed. Shards of
//! another revision, a shard given twice or a missing one are refused.
//! (~150 Valgrind runs of a shell loop, the whole run beside the shards.)

mod common;

use common::{Repo, read_results, text, valgrind};
use std::collections::BTreeMap;

const SCENARIOS: usize = 9;

/// A shell loop of `n` iterations: its instruction count is exact.
fn script(n: u32) -> String {
    format!("i=0\nwhile [ $i -lt {n} ]; do i=$((i+1)); done\n")
}

fn scenario_file() -> String {
    let mut s = String::from("name = \"nine\"\n\n[compare]\nrounds = 4\n");
    for k in 0..SCENARIOS {
        s.push_str(&format!(
            "\n[[scenario]]\nname = \"s{k}\"\nkind = \"command\"\ncommand = \"sh s{k}.sh\"\nmeasure = \"instructions\"\n"
        ));
    }
    s
}

/// (scenario, metric) → (verdict, delta, q).
fn verdicts(r: &serde_json::Value) -> BTreeMap<(String, String), (String, f64, Option<f64>)> {
    r["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                (c["scenario"].as_str().unwrap().to_string(), c["metric"].as_str().unwrap().to_string()),
                (c["verdict"].as_str().unwrap().to_string(), c["delta_pct"].as_f64().unwrap(), c["q_value"].as_f64()),
            )
        })
        .collect()
}

#[test]
fn three_shards_merged_give_the_whole_runs_verdicts() {
    if !valgrind() {
        return;
    }
    // The whole run goes on in a twin repository (same files, same
    // commits' content, a path of the same length) while the shards run
    // here: a run locks its repository, and counts do not mind sharing
    // the two cores.
    let (repo, twin) = (Repo::new(), Repo::new());
    for r in [&repo, &twin] {
        r.write("perf.toml", &scenario_file());
        for k in 0..SCENARIOS {
            r.write(&format!("s{k}.sh"), &script(1000 + 100 * k as u32));
        }
        r.commit_all("base");
        // s3 does 40% more work, s7 40% less; the rest are untouched.
        r.write("s3.sh", &script(1300 * 14 / 10));
        r.write("s7.sh", &script(1700 * 6 / 10));
        r.commit_all("change two");
    }
    let compare_in = |r: &Repo, extra: &[&str]| {
        let mut args = vec!["compare", "--scenario", "perf.toml", "--baseline", "HEAD~1", "--candidate", "HEAD"];
        args.extend_from_slice(extra);
        r.perfgate(&args)
    };
    let compare = |extra: &[&str]| compare_in(&repo, extra);
    let whole = std::thread::scope(|scope| {
        let whole = scope.spawn(|| compare_in(&twin, &["--out", "out/whole"]));
        let mut shard_files = Vec::new();
        let mut codes = Vec::new();
        for i in 1..=3 {
            let out = format!("out/shard-{i}");
            let o = compare(&["--shard", &format!("{i}/3"), "--out", &out]);
            codes.push(o.status.code());
            let r = read_results(&repo.path().join(&out).join("results.json"));
            let shard = &r["run"]["shard"];
            assert_eq!((shard["index"].as_u64(), shard["count"].as_u64()), (Some(i), Some(3)), "{shard:#}");
            assert_eq!(shard["split"], "count");
            assert_eq!(shard["scenarios"].as_array().unwrap().len(), 3, "{shard:#}");
            assert_eq!(shard["of"].as_array().unwrap().len(), SCENARIOS);
            let measured: std::collections::BTreeSet<&str> =
                r["samples"].as_array().unwrap().iter().map(|s| s["scenario"].as_str().unwrap()).collect();
            let listed: std::collections::BTreeSet<&str> =
                shard["scenarios"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
            assert_eq!(measured, listed, "a shard measures its own scenarios only");
            shard_files.push(repo.path().join(&out).join("results.json"));
        }
        (whole.join().unwrap(), shard_files, codes)
    });
    let (whole, shard_files, codes) = whole;
    assert_eq!(whole.status.code(), Some(1), "{}", text(&whole));
    let whole_r = read_results(&twin.path().join("out/whole/results.json"));
    // Dealt in file order: s3 and s7 land in shards 1 and 2.
    assert_eq!(codes, [Some(1), Some(0), Some(0)], "only the shard with s3 regressed");

    let file = |p: &std::path::PathBuf| p.to_str().unwrap().to_string();
    let files: Vec<String> = shard_files.iter().map(file).collect();
    let merge = |inputs: &[&str], out: &str| {
        let mut args = vec!["merge"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&["--out", out]);
        repo.perfgate(&args)
    };
    // In any order.
    let merged = merge(&[&files[2], &files[0], &files[1]], "out/merged");
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged));
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert!(stdout.contains("merged 3 run(s): 1/3, 2/3, 3/3"), "{stdout}");
    let m = read_results(&repo.path().join("out/merged/results.json"));
    common::assert_valid_results(&repo.path().join("out/merged/results.json"));
    let (w, mv) = (verdicts(&whole_r), verdicts(&m));
    // The twin's checkouts sit at paths of the same length: counts are
    // equal to the instruction, and so is everything computed from them.
    assert_eq!(mv, w, "merged shards = the whole run");
    assert_eq!(mv[&("s3".to_string(), "instructions".to_string())].0, "regressed");
    assert_eq!(mv[&("s7".to_string(), "instructions".to_string())].0, "improved");
    assert_eq!(mv.values().filter(|v| v.0 == "unchanged").count(), w.len() - 2);
    assert_eq!(m["run"]["merged"].as_array().unwrap().len(), 3);
    assert_eq!(m["stopping"]["scenarios"].as_array().unwrap().len(), SCENARIOS);
    for f in ["report.html", "brief.md", "findings.md"] {
        let body = std::fs::read_to_string(repo.path().join("out/merged").join(f)).unwrap();
        assert!(body.contains("s3") && body.contains("s7"), "{f} names both changes");
    }

    // Refused, exit 2, nothing written: a missing shard, a shard twice.
    for (inputs, says) in [
        (vec![files[0].as_str(), files[1].as_str()], "shard(s) 3/3 missing"),
        (vec![files[0].as_str(), files[1].as_str(), files[1].as_str()], "shard 2/3 given twice"),
    ] {
        let o = merge(&inputs, "out/refused");
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(says), "{}", text(&o));
        assert!(!repo.path().join("out/refused").exists());
    }
    // A shard of another comparison: its candidate is another commit.
    let mut other = read_results(&shard_files[2]);
    other["variants"][1]["commit"] = serde_json::json!("0123456789abcdef0123456789abcdef01234567");
    let other_file = repo.path().join("other-3.json");
    std::fs::write(&other_file, serde_json::to_vec(&other).unwrap()).unwrap();
    let o = merge(&[&files[0], &files[1], other_file.to_str().unwrap()], "out/x");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("measured different candidates"), "{}", text(&o));

    // --shard-by reads an earlier run's times (the split itself: unit tests);
    // a file that is not one is exit 2 before anything runs.
    let by = compare(&["--shard", "2/3", "--shard-by", "nothing.json", "--out", "out/by"]);
    assert_eq!(by.status.code(), Some(2), "{}", text(&by));
    assert!(text(&by).contains("--shard-by nothing.json"), "{}", text(&by));
}
