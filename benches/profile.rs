//! Benchmarks of `perfgate profile`'s hot paths on a ~10 MB real Go heap
//! profile (a million distinct call stacks, made by `scripts/bigprofile`):
//! decoding, the `-top` table, and folding into flame-graph stacks. The
//! profile is generated with `go run` on first use (cached under
//! `target/`); without Go the benches say so and do nothing. The side-by-
//! side comparison with `go tool pprof -top` is `just profile-vs-pprof`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perfgate::formats::pprof;
use perfgate::profile::{self, TopOptions};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn big_profile() -> Option<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path: PathBuf = root.join("target/bigprofile.pb.gz");
    if !path.exists() {
        let status = std::process::Command::new("go")
            .args(["run", ".", "-paths", "1000000", "-depth", "8", "-o"])
            .arg(&path)
            .current_dir(root.join("scripts/bigprofile"))
            .status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("\n*** profile benches skipped: `go run scripts/bigprofile` failed (is Go installed?) ***\n");
            return None;
        }
    }
    std::fs::read(&path).ok()
}

fn benches(c: &mut Criterion) {
    let Some(bytes) = big_profile() else { return };
    let mut g = c.benchmark_group("profile");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("decode_10MB", |b| b.iter(|| black_box(pprof::decode(&bytes).unwrap())));
    let p = pprof::decode(&bytes).unwrap();
    g.bench_function("top_10MB", |b| b.iter(|| black_box(profile::top(&p, &TopOptions::default()).unwrap())));
    let index = p.sample_index(None).unwrap();
    g.bench_function("fold_10MB", |b| b.iter(|| black_box(profile::flame::fold(&p, index))));
    g.finish();
}

criterion_group!(profile_benches, benches);
criterion_main!(profile_benches);
