//! `cargobench` scenarios: a Rust crate's benchmarks — criterion benches,
//! or libtest `#[bench]` functions (nightly). Each variant's bench
//! binaries are built once with `cargo bench --no-run` into perfgate's own
//! target dir (`.perfgate/cargo-target`, so the user's `target/` and its
//! criterion baselines are never touched), copied into the build cache by
//! tree, and run per round, one benchmark per trial (`--exact ID`), the two
//! variants back to back.
//!
//! Time: criterion runs with a short `--warm-up-time`/`--measurement-time`
//! and 10 samples per round, `CRITERION_HOME` in a fresh directory, and
//! its own `estimates.json` is read (the slope, else the mean: the figure
//! criterion prints); libtest's JSON output gives its median.
//!
//! Instructions: the binary runs in test mode (`--test` for criterion;
//! libtest's default), where every benchmark runs its routine exactly once,
//! under callgrind counting only inside criterion's timing loop
//! (`Bencher::iter` and kin, so the bench's set-up and criterion itself are
//! not counted) or inside the `#[bench]` function (libtest's `Bencher`
//! is inlined into it, so its set-up counts too). One call of the routine,
//! with criterion's ~260 instructions of timing around it: the same binary
//! gives the same count every time.

use super::valgrind::{self, Valgrind};
use super::{BuildNote, StepFailure, TrialOutput, VariantContext, WorkloadError, check};
use crate::config::{CargoBenchScenario, Measure, Measures};
use crate::formats::cargo;
use crate::formats::criterion::{self, Timed};
use crate::model::Better;
use crate::process;
use crate::variant::build_cache::BuildCache;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Not passed on to cargo and rustc: rustup sets `RUSTUP_TOOLCHAIN` for
/// whatever it starts (perfgate itself, under `cargo run`), which would
/// override the crate's own `rust-toolchain.toml`.
const NOT_INHERITED: &[&str] = &["RUSTUP_TOOLCHAIN"];

/// Runs `cargo`/`rustc` with `args` in `cwd`.
fn rust_tool(
    program: &str,
    args: &[String],
    cwd: &Path,
    env: &[(String, String)],
    log: &Path,
    timeout: Duration,
) -> Result<process::Finished, process::SpawnError> {
    process::run_program_without(Path::new(program), args, NOT_INHERITED, cwd, env, log, Some(timeout))
}

/// perfgate's target dir for every crate, in `.perfgate` (`perfgate cache`
/// shows and prunes it).
pub const CARGO_TARGET: &str = "cargo-target";

/// Criterion samples per round: its minimum.
const SAMPLES: u32 = 10;

/// The largest criterion or libtest output file read (a few KB in practice).
const MAX_FILE: u64 = 4 << 20;

/// Where criterion's timing loops are (all `#[inline(never)]` in criterion
/// 0.5–0.8; `iter_with_setup` and `iter_with_large_drop` call
/// `iter_batched`, whose set-up is counted too).
const CRITERION_LOOPS: &[&str] = &[
    "criterion::bencher::Bencher*::iter",
    "criterion::bencher::Bencher*::iter_custom",
    "criterion::bencher::Bencher*::iter_batched",
    "criterion::bencher::Bencher*::iter_batched_ref",
    "criterion::bencher::AsyncBencher*::iter",
    "criterion::bencher::AsyncBencher*::iter_custom",
    "criterion::bencher::AsyncBencher*::iter_batched",
    "criterion::bencher::AsyncBencher*::iter_batched_ref",
];

/// libtest runs each test (a `#[bench]` in test mode) inside this frame.
const LIBTEST_FRAME: &[&str] = &["test::__rust_begin_short_backtrace*"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Harness {
    Criterion,
    Libtest,
}

#[derive(Debug, Clone)]
pub struct BenchBinary {
    /// The cargo target it was built from (`summary` for benches/summary.rs).
    pub target: String,
    pub path: PathBuf,
    /// The package's directory: cargo runs benches there, so do we.
    pub cwd: PathBuf,
    pub harness: Harness,
}

/// One benchmark (per measure) run as a trial of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub binary: usize,
    /// Its name in the schedule.
    pub label: String,
    /// The id the harness lists and `--exact` selects.
    pub id: String,
    /// The benchmark's name in the metrics (the label without the measure).
    pub name: String,
    pub measure: Measure,
}

#[derive(Debug, Clone)]
pub struct Prepared {
    pub scenario: String,
    pub binaries: Vec<BenchBinary>,
    pub units: Vec<Unit>,
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    pub benchtime: Duration,
    pub warmup: Duration,
    pub measure: Measures,
    /// Found at prepare when instructions are counted.
    pub valgrind: Option<Valgrind>,
    /// rustc and cargo versions, recorded with every trial.
    pub toolchain: Vec<(String, String)>,
}

pub fn prepare(
    scenario: &str,
    c: &CargoBenchScenario,
    ctx: &VariantContext<'_>,
    notes: &mut Vec<BuildNote>,
) -> Result<Prepared, WorkloadError> {
    let invalid = |message: String| WorkloadError::Invalid { scenario: scenario.into(), message };
    let root = super::scenario_dir(ctx.checkout, &c.dir);
    if !root.join("Cargo.toml").is_file() {
        return Err(invalid(format!(
            "dir {:?} has no Cargo.toml in the {} checkout ({})",
            c.dir,
            ctx.role,
            root.display()
        )));
    }
    let env: Vec<(String, String)> = c.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let toolchain = toolchain(scenario, &root, &env, ctx)?;
    let binaries = build(scenario, c, &root, &env, &toolchain, ctx, notes)?;
    let mut units = Vec::new();
    let prefix = c.targets.len() != 1;
    for (i, b) in binaries.iter().enumerate() {
        for id in list(scenario, b, c.bench.as_deref(), &env, ctx)? {
            let name = if prefix { format!("{}:{id}", b.target) } else { id.clone() };
            units.push(Unit { binary: i, label: name.clone(), id, name, measure: Measure::Time });
        }
    }
    if units.is_empty() {
        let filter = c.bench.as_deref().map(|b| format!(" matching bench = {b:?}")).unwrap_or_default();
        return Err(invalid(format!(
            "no benchmark{filter} in the {} build of {} ({} bench binaries: {})",
            ctx.role,
            c.dir,
            binaries.len(),
            binaries.iter().map(|b| b.target.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let valgrind = if c.measure.has(Measure::Instructions) { Some(valgrind::locate().map_err(invalid)?) } else { None };
    Ok(Prepared {
        scenario: scenario.into(),
        binaries,
        units: with_measures(units, &c.measure),
        env,
        timeout: c.timeout,
        benchtime: c.benchtime,
        warmup: c.warmup,
        measure: c.measure.clone(),
        valgrind,
        toolchain,
    })
}

/// Each benchmark once per measure (see [`super::per_measure`]).
fn with_measures(units: Vec<Unit>, measures: &Measures) -> Vec<Unit> {
    units
        .into_iter()
        .flat_map(|u| {
            super::per_measure(&u.label, measures).into_iter().map(move |(label, measure)| Unit {
                label,
                measure,
                ..u.clone()
            })
        })
        .collect()
}

/// `rustc -vV` and `cargo -V`, run where the crate is (a
/// `rust-toolchain.toml` there picks the toolchain): part of the build key,
/// and recorded.
fn toolchain(
    scenario: &str,
    root: &Path,
    env: &[(String, String)],
    ctx: &VariantContext<'_>,
) -> Result<Vec<(String, String)>, WorkloadError> {
    let mut out = Vec::new();
    for (program, arg, key) in [("rustc", "-vV", "rustc"), ("cargo", "-V", "cargo")] {
        let log =
            ctx.logs.join(format!("{program}-version-{}-{}.log", crate::paths::file_component(scenario), ctx.role));
        let args = vec![arg.to_string()];
        let finished = rust_tool(program, &args, root, env, &log, ctx.build_timeout)?;
        check(
            &finished,
            WorkloadError::BuildFailed,
            format!("running `{program} {arg}`"),
            format!("{program} {arg}"),
            &log,
            Some(ctx.build_timeout),
        )?;
        let text = read_capped(&log)?;
        let mut lines = text.lines();
        out.push((key.to_string(), lines.next().unwrap_or_default().trim().to_string()));
        if program == "rustc" {
            let host = lines.find_map(|l| l.strip_prefix("host: ")).unwrap_or_default();
            out.push(("rust_host".into(), host.trim().to_string()));
        }
    }
    Ok(out)
}

/// `cargo bench --no-run` into perfgate's target dir, once per tree
/// (cached); every bench executable is copied into the build, listed in
/// `benches.tsv` (file, target, package dir relative to `root`).
fn build(
    scenario: &str,
    c: &CargoBenchScenario,
    root: &Path,
    env: &[(String, String)],
    toolchain: &[(String, String)],
    ctx: &VariantContext<'_>,
    notes: &mut Vec<BuildNote>,
) -> Result<Vec<BenchBinary>, WorkloadError> {
    let mut args: Vec<String> =
        ["bench", "--no-run", "--message-format=json-render-diagnostics"].iter().map(|s| s.to_string()).collect();
    if let Some(p) = &c.package {
        args.extend(["--package".into(), p.clone()]);
    }
    if !c.features.is_empty() {
        args.extend(["--features".into(), c.features.join(",")]);
    }
    if c.targets.is_empty() {
        args.push("--benches".into());
    }
    for t in &c.targets {
        args.extend(["--bench".into(), t.clone()]);
    }
    let mut build_env = env.to_vec();
    // Line tables for instruction profiles' file:line; they do not change the code.
    if !env.iter().any(|(k, _)| k == "CARGO_PROFILE_BENCH_DEBUG") {
        build_env.push(("CARGO_PROFILE_BENCH_DEBUG".into(), "line-tables-only".into()));
    }
    let tools: String = toolchain.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let key = BuildCache::key(ctx.tree, &args.join(" "), &build_env, &format!("cargobench\n{}\n{tools}", c.dir));
    build_env.push(("CARGO_TARGET_DIR".into(), ctx.cache.state_dir().join(CARGO_TARGET).display().to_string()));
    build_env.push(("CARGO_TERM_COLOR".into(), "never".into()));
    let safe = crate::paths::file_component(scenario);
    let log = ctx.logs.join(format!("build-{safe}-{}-cargo.log", ctx.role));
    let canonical_root = std::fs::canonicalize(root)?;
    let build = ctx.cache.get_or_build(&key, |out| {
        let run = |args: &[String], log: &Path, what: String| {
            let finished = rust_tool("cargo", args, root, &build_env, log, ctx.build_timeout)?;
            check(
                &finished,
                WorkloadError::BuildFailed,
                what,
                format!("cargo {}", args.join(" ")),
                log,
                Some(ctx.build_timeout),
            )
        };
        // The target dir is shared by both variants (dependencies compile
        // once), but cargo judges a local package fresh by the files its
        // last build read — the other variant's worktree: clean them first.
        let meta_log = ctx.logs.join(format!("metadata-{safe}-{}.log", ctx.role));
        let meta_args: Vec<String> =
            ["metadata", "--no-deps", "--format-version", "1"].iter().map(|s| s.to_string()).collect();
        run(&meta_args, &meta_log, format!("reading the {} crate's metadata", ctx.role))?;
        let mut clean_args: Vec<String> = vec!["clean".into(), "--release".into()];
        for name in cargo::local_packages(&read_capped_large(&meta_log)?) {
            clean_args.extend(["-p".into(), name]);
        }
        if clean_args.len() > 2 {
            let clean_log = ctx.logs.join(format!("clean-{safe}-{}.log", ctx.role));
            run(&clean_args, &clean_log, format!("cleaning the {} crate's last build", ctx.role))?;
        }
        run(&args, &log, format!("building the {} benches of {}", ctx.role, c.dir))?;
        let mut listing = String::new();
        for (i, a) in cargo::executables(&read_capped_large(&log)?).into_iter().enumerate() {
            let file = format!("{i}-{}", crate::paths::file_component(&a.target));
            std::fs::copy(&a.executable, out.join(&file))?;
            let dir = a.manifest_dir.strip_prefix(&canonical_root).unwrap_or(Path::new(""));
            listing.push_str(&format!("{file}\t{}\t{}\n", a.target, dir.display()));
        }
        std::fs::write(out.join("benches.tsv"), listing)?;
        Ok::<(), WorkloadError>(())
    })?;
    notes.push(BuildNote { role: ctx.role, what: format!("cargo bench --no-run ({})", c.dir), build: build.clone() });
    let listing = std::fs::read_to_string(build.dir.join("benches.tsv"))?;
    let mut binaries = Vec::new();
    for line in listing.lines() {
        let mut f = line.splitn(3, '\t');
        let (Some(file), Some(target), Some(dir)) = (f.next(), f.next(), f.next()) else { continue };
        let path = build.dir.join(file);
        let harness = harness(&path, root, env, ctx)?;
        binaries.push(BenchBinary { target: target.into(), path, cwd: root.join(dir), harness });
    }
    Ok(binaries)
}

/// Criterion's binaries take `--noplot`; libtest's do not.
fn harness(
    binary: &Path,
    cwd: &Path,
    env: &[(String, String)],
    ctx: &VariantContext<'_>,
) -> Result<Harness, WorkloadError> {
    let name = binary.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let log = ctx.logs.join(format!("help-{}-{}.log", ctx.role, crate::paths::file_component(&name)));
    let finished =
        process::run_program(binary, &["--help".to_string()], cwd, env, &log, Some(Duration::from_secs(60)))?;
    if finished.interrupted {
        return Err(WorkloadError::Interrupted);
    }
    let text = read_capped(&log)?;
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(log.with_extension("stderr.log"));
    Ok(if text.contains("--noplot") { Harness::Criterion } else { Harness::Libtest })
}

/// The benchmarks a binary lists (`--list --format terse`, lines
/// `ID: benchmark`), through the scenario's filter.
fn list(
    scenario: &str,
    b: &BenchBinary,
    filter: Option<&str>,
    env: &[(String, String)],
    ctx: &VariantContext<'_>,
) -> Result<Vec<String>, WorkloadError> {
    let log = ctx.logs.join(format!(
        "list-{}-{}-{}.log",
        crate::paths::file_component(scenario),
        ctx.role,
        crate::paths::file_component(&b.target)
    ));
    let mut args = vec!["--list".to_string(), "--format".into(), "terse".into()];
    args.extend(filter.map(str::to_string));
    let home = log.with_extension("criterion");
    let env = with_home(env, &home);
    let finished = process::run_program(&b.path, &args, &b.cwd, &env, &log, Some(Duration::from_secs(60)))?;
    let _ = std::fs::remove_dir_all(&home);
    check(
        &finished,
        WorkloadError::BuildFailed,
        format!("listing the benchmarks of {}", b.target),
        format!("{} {}", b.path.display(), args.join(" ")),
        &log,
        Some(Duration::from_secs(60)),
    )?;
    Ok(criterion::listed(&read_capped(&log)?))
}

/// The environment with `CRITERION_HOME` set: criterion writes there, and
/// does not run `cargo metadata` to find a target dir.
fn with_home(env: &[(String, String)], home: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env.iter().filter(|(k, _)| k != "CRITERION_HOME").cloned().collect();
    env.push(("CRITERION_HOME".into(), home.display().to_string()));
    env
}

/// One trial: one benchmark, timed or counted.
pub fn run_trial(p: &Prepared, log: &Path, unit: Option<&str>) -> Result<TrialOutput, WorkloadError> {
    let mut output = TrialOutput { config: p.toolchain.clone(), ..TrialOutput::default() };
    let units: Vec<&Unit> = match unit {
        Some(label) => p.units.iter().filter(|u| u.label == label).collect(),
        None => p.units.iter().collect(),
    };
    for u in units {
        let b = &p.binaries[u.binary];
        let part = log.with_extension("unit.log");
        let result = match (u.measure, &p.valgrind) {
            (Measure::Instructions, Some(v)) => count(p, v, u, &part, &mut output),
            _ => time(p, u, &part, &mut output),
        };
        let appended = super::gobench::append_to(log, &part);
        result?;
        appended?;
        let harness = match (b.harness, u.measure) {
            (Harness::Criterion, Measure::Instructions) => "criterion --test: the routine once, counted".into(),
            (Harness::Libtest, Measure::Instructions) => "libtest: the #[bench] function once, counted".into(),
            (Harness::Criterion, _) => format!(
                "criterion: warm-up {}ms, measurement {}ms, {SAMPLES} samples",
                p.warmup.as_millis(),
                p.benchtime.as_millis()
            ),
            (Harness::Libtest, _) => "libtest #[bench] (median of its own samples)".into(),
        };
        output.config.push((format!("harness {}", b.target), harness));
    }
    Ok(output)
}

/// Times one benchmark with its harness and reads the harness's own
/// machine-readable result.
fn time(p: &Prepared, u: &Unit, log: &Path, output: &mut TrialOutput) -> Result<(), WorkloadError> {
    let b = &p.binaries[u.binary];
    let secs = |d: Duration| format!("{}", d.as_secs_f64());
    let (args, env, home) = match b.harness {
        Harness::Criterion => {
            let home = log.with_extension("criterion");
            let _ = std::fs::remove_dir_all(&home);
            let args = vec![
                "--bench".to_string(),
                "--noplot".into(),
                "--exact".into(),
                u.id.clone(),
                "--warm-up-time".into(),
                secs(p.warmup),
                "--measurement-time".into(),
                secs(p.benchtime),
                "--sample-size".into(),
                SAMPLES.to_string(),
            ];
            (args, with_home(&p.env, &home), Some(home))
        }
        Harness::Libtest => {
            let args = ["--bench", "--exact", &u.id, "--format", "json", "-Z", "unstable-options"];
            (args.iter().map(|s| s.to_string()).collect(), p.env.clone(), None)
        }
    };
    let command = format!("{} {}", b.path.display(), args.join(" "));
    let finished = process::run_program(&b.path, &args, &b.cwd, &env, log, p.timeout)?;
    check(
        &finished,
        WorkloadError::TrialFailed,
        format!("benchmark {} of {}", u.id, b.target),
        command.clone(),
        log,
        p.timeout,
    )?;
    let read = match &home {
        Some(home) => criterion_result(home, &u.id),
        None => criterion::libtest_result(&read_capped(log)?, &u.id),
    };
    if let Some(home) = &home {
        let _ = std::fs::remove_dir_all(home);
    }
    let result = read.map_err(|m| {
        WorkloadError::TrialFailed(StepFailure::new(format!("benchmark {} of {}", u.id, b.target), command, m, log, 10))
    })?;
    output.push(&u.name, "ns/op", "ns/op", Better::Lower, result.ns_per_op);
    if let Some((metric, value)) = result.throughput {
        output.push(&u.name, metric, metric, Better::Higher, value);
    }
    Ok(())
}

/// Criterion's result for `id` under `home`: the `new/benchmark.json`
/// whose `full_id` is `id`, and the `estimates.json` beside it.
fn criterion_result(home: &Path, id: &str) -> Result<Timed, String> {
    let mut found = None;
    let mut stack = vec![(home.to_path_buf(), 0)];
    // Criterion nests group/function/value: a few levels, never many files.
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten().take(10_000) {
            let path = e.path();
            if path.is_dir() && depth < 8 && !e.file_type().is_ok_and(|t| t.is_symlink()) {
                stack.push((path, depth + 1));
            } else if path.ends_with("new/benchmark.json") {
                let text = read_capped(&path).map_err(|e| e.to_string())?;
                let b = criterion::benchmark(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                if b.full_id == id {
                    found = Some((path.with_file_name("estimates.json"), b.throughput));
                }
            }
        }
    }
    let Some((estimates, throughput)) = found else {
        return Err(format!("criterion wrote no result for {id:?} under {}", home.display()));
    };
    let text = read_capped(&estimates).map_err(|e| e.to_string())?;
    criterion::timed(&text, throughput.as_ref()).map_err(|e| format!("{}: {e}", estimates.display()))
}

/// Counts one benchmark's routine, run once in test mode, under callgrind.
fn count(p: &Prepared, v: &Valgrind, u: &Unit, log: &Path, output: &mut TrialOutput) -> Result<(), WorkloadError> {
    let out_dir = log.with_extension("callgrind");
    let totals = counted_run(p, v, u, log, &out_dir)?;
    let _ = std::fs::remove_dir_all(&out_dir);
    for (name, value) in valgrind::figures(&totals) {
        let metric = format!("{name}/op");
        output.push(&u.name, &metric, &metric, Better::Lower, value);
    }
    output.config.push(("valgrind".into(), v.version.clone()));
    Ok(())
}

/// One counted run, leaving callgrind's files in `out_dir`.
fn counted_run(
    p: &Prepared,
    v: &Valgrind,
    u: &Unit,
    log: &Path,
    out_dir: &Path,
) -> Result<crate::formats::callgrind::Totals, WorkloadError> {
    let b = &p.binaries[u.binary];
    let (args, collect, env): (Vec<String>, &[&str], Vec<(String, String)>) = match b.harness {
        Harness::Criterion => {
            let args = vec!["--bench".to_string(), "--test".into(), "--exact".into(), u.id.clone()];
            (args, CRITERION_LOOPS, with_home(&p.env, &log.with_extension("criterion")))
        }
        Harness::Libtest => {
            let args = vec!["--exact".to_string(), u.id.clone(), "--test-threads".into(), "1".into()];
            (args, LIBTEST_FRAME, p.env.clone())
        }
    };
    let what = format!("benchmark {} of {} under Valgrind", u.id, b.target);
    let totals = valgrind::count(&valgrind::Run {
        valgrind: v,
        program: &b.path,
        args: &args,
        cwd: &b.cwd,
        env: &env,
        log,
        out_dir,
        cache_sim: p.measure.cache_sim,
        children: false,
        collect,
        timeout: p.timeout,
        what: what.clone(),
    })?;
    let _ = std::fs::remove_dir_all(log.with_extension("criterion"));
    if totals.get("Ir") == 0 {
        let status = match b.harness {
            Harness::Criterion => {
                "no instructions inside criterion's timing loop (Bencher::iter and kin) were counted; is this criterion 0.5 or later?"
            }
            Harness::Libtest => "no instructions inside libtest's test frame were counted",
        };
        let command = format!("{} {}", b.path.display(), args.join(" "));
        return Err(WorkloadError::TrialFailed(StepFailure::new(what, command, status.into(), log, 10)));
    }
    Ok(totals)
}

/// The instruction profile of a counted scenario, in the profiling pass:
/// each counted benchmark runs once more, and what callgrind counted
/// inside its routine becomes one pprof profile (see
/// [`valgrind::ProfileSum`]).
pub fn instruction_profile(
    p: &Prepared,
    dir: &Path,
    file_prefix: &str,
    log: &Path,
) -> Result<(Vec<super::service::Captured>, Vec<String>), WorkloadError> {
    let Some(v) = p.valgrind.clone() else { return Ok((Vec::new(), Vec::new())) };
    let mut sum = valgrind::ProfileSum::default();
    let mut warnings = Vec::new();
    for u in p.units.iter().filter(|u| u.measure == Measure::Instructions) {
        let out_dir = log.with_extension("callgrind");
        let part = log.with_extension("count.log");
        counted_run(p, &v, u, &part, &out_dir)?;
        super::gobench::append_to(log, &part)?;
        if let Err(e) = sum.add_dir(&out_dir) {
            warnings.push(format!("scenario {:?}: the callgrind output of {} is unreadable: {e}", p.scenario, u.name));
        }
        let _ = std::fs::remove_dir_all(&out_dir);
    }
    Ok((sum.write(&v, dir, file_prefix)?.into_iter().collect(), warnings))
}

/// A harness's file, within [`MAX_FILE`]: bench output is hostile input.
fn read_capped(path: &Path) -> Result<String, std::io::Error> {
    read_limited(path, MAX_FILE)
}

/// Cargo's JSON messages for a build (one per crate compiled), within 256 MiB.
fn read_capped_large(path: &Path) -> Result<String, std::io::Error> {
    read_limited(path, 256 << 20)
}

fn read_limited(path: &Path, limit: u64) -> Result<String, std::io::Error> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!("{} is over {} MiB", path.display(), limit >> 20)));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
