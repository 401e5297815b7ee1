//! `kind = "cargobench"`: a real Rust crate (examples/rustlib, copied into a
//! fresh git repository) with real criterion benches, built by real cargo,
//! timed by criterion and counted under real Valgrind.

mod common;

use common::{Repo, comparison, out_dir, read_results, text, valgrind};
use std::path::Path;

/// examples/rustlib's files, at the same place in `repo` (its patch names
/// paths from the repository's root).
fn copy_rustlib(repo: &Repo) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(RUSTLIB);
    for rel in ["Cargo.toml", "Cargo.lock", "src/lib.rs", "benches/summary.rs", "optimize.patch", ".gitignore"] {
        repo.write(&format!("{RUSTLIB}/{rel}"), &std::fs::read_to_string(src.join(rel)).unwrap());
    }
}

const RUSTLIB: &str = "examples/rustlib";

fn compare(repo: &Repo, name: &str, args: &[&str]) -> (std::process::Output, serde_json::Value) {
    let out = out_dir(repo, name);
    let mut all = vec!["compare", "--scenario", "perf.toml"];
    all.extend_from_slice(args);
    let dir = out.to_str().unwrap().to_string();
    all.extend_from_slice(&["--out", &dir]);
    let o = repo.perfgate(&all);
    let r = read_results(&out.join("results.json"));
    (o, r)
}

fn scenario(extra: &str) -> String {
    format!(
        "name = \"rust\"\n\n[[scenario]]\nname = \"lib\"\nkind = \"cargobench\"\ndir = \"{RUSTLIB}\"\ntargets = [\"summary\"]\n{extra}"
    )
}

/// The example's patch (a selection instead of a sort in `percentile`) is
/// `improved` by instructions, exactly (every round the same count), and
/// the benches it does not touch are `unchanged`, to the instruction; the
/// instruction profile names the sort that went away. Then a commit that
/// mixes every value 12 times instead of 10 (`fingerprint` 20% slower) is
/// `regressed` in time and in instructions. A missing Valgrind is exit 2.
#[test]
fn rustlib_patch_and_slowdown_are_judged_by_time_and_instructions() {
    if !valgrind() {
        return;
    }
    let repo = Repo::new();
    copy_rustlib(&repo);
    repo.write("perf.toml", &scenario("measure = \"instructions\"\n"));
    repo.commit_all("rustlib");

    let (o, r) = compare(&repo, "patch", &["--patch", "examples/rustlib/optimize.patch", "--rounds", "4"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c = comparison(&r, "percentile", "instructions/op");
    assert_eq!(c["verdict"], "improved", "{c:#}\n{}", text(&o));
    assert_eq!(c["test"], "exact", "{c:#}");
    assert!(c["delta_pct"].as_f64().unwrap() < -50.0, "a selection instead of a sort: {c:#}");
    for bench in ["parse", "fingerprint"] {
        let c = comparison(&r, bench, "instructions/op");
        assert_eq!(c["verdict"], "unchanged", "{bench}: {c:#}");
        assert_eq!(c["baseline"]["min"], c["candidate"]["max"], "{bench}: the same count: {c:#}");
    }
    let environment = r["environment"].to_string();
    assert!(environment.contains("valgrind-") && environment.contains("rustc "), "{environment}");
    let diff = r["profile_diffs"].as_array().unwrap().iter().find(|d| d["kind"] == "instructions");
    let diff = diff.unwrap_or_else(|| panic!("no instructions diff: {:#}", r["profile_diffs"]));
    let top = &diff["top"][0];
    assert!(top["function"].as_str().unwrap().contains("sort"), "the sort is gone: {diff:#}");
    assert!(top["flat"].as_f64().unwrap() < 0.0 && top["line"].as_u64().unwrap() > 0, "{top:#}");
    common::instruction_profiles_agree_with_go_tool_pprof(&out_dir(&repo, "patch"), &r);
    assert!(
        !repo.path().join(RUSTLIB).join("target").exists(),
        "perfgate builds in its own target dir, never the crate's target/"
    );

    let lib = format!("{RUSTLIB}/src/lib.rs");
    let slower = std::fs::read_to_string(repo.path().join(&lib))
        .unwrap()
        .replace("pub const ROUNDS: u32 = 10;", "pub const ROUNDS: u32 = 12;");
    repo.write(&lib, &slower);
    repo.write("perf.toml", &scenario("bench = \"fingerprint\"\nmeasure = [\"time\", \"instructions\"]\n"));
    repo.commit_all("fingerprint: 12 rounds of mixing");
    let (o, r) = compare(&repo, "slower", &["--baseline", "HEAD~1", "--candidate", "HEAD", "--max-time", "90s"]);
    assert_eq!(o.status.code(), Some(1), "a regression fails the gate: {}", text(&o));
    let counted = comparison(&r, "fingerprint", "instructions/op");
    assert_eq!(counted["verdict"], "regressed", "{counted:#}\n{}", text(&o));
    let delta = counted["delta_pct"].as_f64().unwrap();
    assert!((17.0..21.0).contains(&delta), "12 rounds of mixing instead of 10: {delta}%");
    let timed = comparison(&r, "fingerprint", "ns/op");
    assert_eq!(timed["verdict"], "regressed", "{timed:#}\n{}", text(&o));
    assert!(r["comparisons"].as_array().unwrap().iter().all(|c| c["benchmark"] == "fingerprint"), "bench filters");

    let out = out_dir(&repo, "missing");
    let args =
        ["compare", "--scenario", "perf.toml", "--rounds", "1", "--candidate", "HEAD", "--out", out.to_str().unwrap()];
    common::assert_missing_valgrind_is_exit_2(&repo, &args);
}

/// Scenario settings are checked where they are written.
#[test]
fn cargobench_settings_are_validated_with_their_location() {
    let repo = Repo::new();
    let cases = [
        ("benchtime = \"0s\"\n", "benchtime \"0s\" is not a duration above zero"),
        ("benchtime = \"100x\"\n", "not a duration above zero"),
        ("warmup = \"0s\"\n", "warmup must be longer than 0s"),
        ("targets = []\n", "targets must name bench targets"),
        ("bench = \" \"\n", "bench must not be empty"),
        ("packages = [\".\"]\n", "`packages` does not apply"),
        ("benchmem = true\n", "`benchmem` does not apply"),
        ("measure = \"cycles\"\n", "unknown measure"),
    ];
    let head = "name = \"v\"\n\n[[scenario]]\nname = \"s\"\nkind = \"cargobench\"\n";
    common::assert_refused(&repo, head, &cases, "perf.toml:6:");
}

/// A nightly toolchain, which libtest's `#[bench]` needs. It cannot be
/// installed from the mirrors CI reaches (crates.io, Debian), so a missing
/// one skips loudly, in CI too.
fn nightly() -> bool {
    let found =
        std::process::Command::new("cargo").args(["+nightly", "--version"]).output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("\n*** SKIPPED: no nightly toolchain (`cargo +nightly`); libtest #[bench] is nightly-only ***\n");
    }
    found
}

/// libtest `#[bench]` functions (a crate pinned to nightly by its
/// rust-toolchain.toml): timed from libtest's JSON output, and counted in
/// test mode; a loop made 50% longer is `regressed` by instructions, and
/// the bench that did not change is `unchanged`.
#[test]
fn libtest_benches_are_timed_and_counted() {
    if !valgrind() || !nightly() {
        return;
    }
    let repo = Repo::new();
    let lib = |n: u32| {
        format!(
            "pub fn work(n: u64) -> u64 {{\n    let mut h = 0u64;\n    for i in 0..n * {n} / 100 {{\n        \
             h = h.rotate_left(7) ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);\n    }}\n    h\n}}\n\
             pub fn fixed() -> u64 {{\n    (0..1000u64).fold(1, |a, x| a.wrapping_mul(31) ^ x)\n}}\n"
        )
    };
    repo.write(
        "lt/Cargo.toml",
        "[package]\nname = \"lt\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[profile.bench]\ncodegen-units = 1\n",
    );
    repo.write("lt/rust-toolchain.toml", "[toolchain]\nchannel = \"nightly\"\n");
    repo.write("lt/src/lib.rs", &lib(100));
    repo.write(
        "lt/benches/b.rs",
        "#![feature(test)]\nextern crate test;\nuse test::{black_box, Bencher};\n\n\
         #[bench]\nfn work(b: &mut Bencher) {\n    b.iter(|| lt::work(black_box(20_000)));\n}\n\n\
         mod inner {\n    #[bench]\n    fn fixed(b: &mut test::Bencher) {\n        b.iter(lt::fixed);\n    }\n}\n",
    );
    repo.write(
        "perf.toml",
        "name = \"lt\"\n\n[[scenario]]\nname = \"lt\"\nkind = \"cargobench\"\ndir = \"lt\"\n\
         measure = [\"time\", \"instructions\"]\n",
    );
    repo.commit_all("base");
    repo.write("lt/src/lib.rs", &lib(150));
    repo.commit_all("50% more work");
    let (o, r) = compare(&repo, "lt", &["--baseline", "HEAD~1", "--candidate", "HEAD", "--rounds", "4"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let c = comparison(&r, "b:work", "instructions/op");
    assert_eq!(c["verdict"], "regressed", "{c:#}\n{}", text(&o));
    assert_eq!(c["test"], "exact", "{c:#}");
    let delta = c["delta_pct"].as_f64().unwrap();
    assert!((40.0..51.0).contains(&delta), "50% more loop work, set-up included: {delta}%");
    let c = comparison(&r, "b:inner::fixed", "instructions/op");
    assert_eq!(c["verdict"], "unchanged", "{c:#}");
    for bench in ["b:work", "b:inner::fixed"] {
        let c = comparison(&r, bench, "ns/op");
        assert!(c["baseline"]["median"].as_f64().unwrap() > 0.0 && c["candidate"]["n"] == 4, "{c:#}");
    }
    let environment = r["environment"].to_string();
    assert!(environment.contains("nightly") && environment.contains("libtest #[bench]"), "{environment}");
}
