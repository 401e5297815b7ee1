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

/// A protobuf field: key, then a varint or a length-delimited body.
fn field(out: &mut Vec<u8>, number: u64, body: Field<'_>) {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    match body {
        Field::Int(v) => {
            varint(out, number << 3);
            varint(out, v);
        }
        Field::Bytes(b) => {
            varint(out, (number << 3) | 2);
            varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    }
}

enum Field<'a> {
    Int(u64),
    Bytes(&'a [u8]),
}

/// A crafted profile from the code under test: 10 KB gzipped, whose
/// samples expand to 10^10 frames (10,000 samples naming 100 times one
/// location with 10,000 inlined lines). `perfgate profile top` refuses it
/// with exit 2 naming the limit, at once, instead of building them.
#[test]
fn a_profile_whose_samples_expand_to_a_product_is_exit_2() {
    let mut p = Vec::new();
    let mut vt = Vec::new();
    field(&mut vt, 1, Field::Int(1));
    field(&mut vt, 2, Field::Int(1));
    field(&mut p, 1, Field::Bytes(&vt));
    let mut sample = Vec::new();
    field(&mut sample, 1, Field::Bytes(&[1u8; 100])); // packed location ids
    field(&mut sample, 2, Field::Bytes(&[1u8])); // packed values
    for _ in 0..10_000 {
        field(&mut p, 2, Field::Bytes(&sample));
    }
    let mut line = Vec::new();
    field(&mut line, 1, Field::Int(1));
    field(&mut line, 2, Field::Int(1));
    let mut loc = Vec::new();
    field(&mut loc, 1, Field::Int(1));
    for _ in 0..10_000 {
        field(&mut loc, 4, Field::Bytes(&line));
    }
    field(&mut p, 4, Field::Bytes(&loc));
    let mut func = Vec::new();
    field(&mut func, 1, Field::Int(1));
    field(&mut func, 2, Field::Int(2));
    field(&mut p, 5, Field::Bytes(&func));
    for s in ["", "n", &"f".repeat(1024)] {
        field(&mut p, 6, Field::Bytes(s.as_bytes()));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &p).unwrap();
    let bytes = gz.finish().unwrap();
    assert!(bytes.len() < 20_000, "{}", bytes.len());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crafted.pb.gz");
    std::fs::write(&file, bytes).unwrap();
    let out = common::perfgate_cmd(dir.path(), &["profile", "top", file.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr.contains("profile too large") && stderr.contains("expand to 10000000000 frames"), "{stderr}");
}
