//! `gobench` scenarios: `go test -bench` suites. Each package's test binary is
//! built once per variant (`go test -c`, cached by tree); every round runs the
//! binary with `-test.count=1`, and every benchmark × unit becomes a metric.
//! By default each top-level benchmark is a trial of its own (`-test.bench
//! '^Name$'`), so the two variants' runs of one benchmark are milliseconds
//! apart instead of a whole suite apart.
//!
//! `measure = "instructions"` counts each benchmark under Valgrind instead
//! (see [`super::gocount`]).

use super::valgrind::{self, Valgrind};
use super::{BuildNote, Measurement, StepFailure, TrialOutput, VariantContext, WorkloadError, check};
use crate::config::{GoBenchScenario, Measure, Measures};
use crate::formats::gobench as format;
use crate::process;
use crate::variant::build_cache::BuildCache;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Prepared {
    pub scenario: String,
    pub packages: Vec<PackageBinary>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    /// Prefix benchmark names with their package when the scenario can name
    /// several packages, so both variants name every benchmark alike.
    pub prefix_names: bool,
    /// The Go toolchain settings the binaries were built with (recorded).
    pub toolchain: Vec<(String, String)>,
    /// Profiles for the profiling pass (`-test.cpuprofile`, ...).
    pub profile: Vec<String>,
    /// One trial per top-level benchmark (empty: one trial runs the suite),
    /// and per measure when several are asked for.
    pub units: Vec<Unit>,
    pub measure: Measures,
    /// Found at prepare when instructions are counted.
    pub valgrind: Option<Valgrind>,
    /// Per unit label: the iteration counts its counted runs use, once calibrated.
    pub iterations: BTreeMap<String, (u64, u64)>,
}

/// A top-level benchmark run as a trial of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub package: usize,
    /// Its name in the schedule (with the package when names are prefixed).
    pub label: String,
    /// The `-test.bench` pattern that runs it (and the scenario's sub-benchmark levels).
    pub pattern: String,
    /// The benchmark's name in the metrics of a count (the label without
    /// the measure).
    pub name: String,
    pub measure: Measure,
}

/// `go env` settings that change what `go test -c` produces: part of the
/// build cache key, and recorded in results.json.
const TOOLCHAIN_VARS: &[&str] =
    &["GOVERSION", "GOOS", "GOARCH", "GOAMD64", "GOFLAGS", "CGO_ENABLED", "GOEXPERIMENT", "CC"];

#[derive(Debug, Clone)]
pub struct PackageBinary {
    pub import_path: String,
    /// Go runs a package's tests in the package's directory; so do we.
    pub dir: PathBuf,
    pub binary: PathBuf,
}

pub fn prepare(
    scenario: &str,
    g: &GoBenchScenario,
    ctx: &VariantContext<'_>,
    notes: &mut Vec<BuildNote>,
) -> Result<Prepared, WorkloadError> {
    let root = super::scenario_dir(ctx.checkout, &g.dir);
    if !root.is_dir() {
        return Err(WorkloadError::Invalid {
            scenario: scenario.into(),
            message: format!("dir {:?} does not exist in the {} checkout ({})", g.dir, ctx.role, root.display()),
        });
    }
    let env: Vec<(String, String)> = g.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let packages = list_packages(scenario, g, &root, &env, ctx)?;
    let toolchain = go_env(scenario, &root, &env, ctx)?;
    let toolchain_key: String = toolchain.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let safe_scenario = crate::paths::file_component(scenario);
    let mut binaries = Vec::new();
    for (import_path, dir) in packages {
        let file_name = format!("{}.test", crate::paths::file_component(&import_path.replace('.', "_")));
        let build_args = ["test".to_string(), "-c".into(), "-o".into(), "{out}".into(), import_path.clone()];
        let key = BuildCache::key(ctx.tree, &build_args.join(" "), &env, &format!("{}\n{toolchain_key}", g.dir));
        let log = ctx.logs.join(format!("build-{safe_scenario}-{}-{}.log", ctx.role, file_name));
        let build = ctx.cache.get_or_build(&key, |out| {
            let args: Vec<String> = build_args
                .iter()
                .map(|a| if a == "{out}" { out.join(&file_name).display().to_string() } else { a.clone() })
                .collect();
            let finished = process::run_program(Path::new("go"), &args, &root, &env, &log, Some(ctx.build_timeout))?;
            check(
                &finished,
                WorkloadError::BuildFailed,
                format!("building the {} test binary of {import_path}", ctx.role),
                format!("go {}", args.join(" ")),
                &log,
                Some(ctx.build_timeout),
            )?;
            Ok::<(), WorkloadError>(())
        })?;
        let binary = build.dir.join(&file_name);
        notes.push(BuildNote { role: ctx.role, what: format!("go test -c {import_path}"), build });
        binaries.push(PackageBinary { import_path, dir, binary });
    }
    let mut args = vec!["-test.run=^$".to_string(), format!("-test.bench={}", g.bench), "-test.count=1".into()];
    let benchtime = g.benchtime.as_deref().unwrap_or(crate::config::DEFAULT_BENCHTIME);
    args.push(format!("-test.benchtime={benchtime}"));
    if g.benchmem {
        args.push("-test.benchmem".into());
    }
    let prefix_names = g.packages.len() > 1 || g.packages.iter().any(|p| p.contains("..."));
    let units =
        if g.per_benchmark { list_units(&binaries, &g.bench, &env, prefix_names, ctx, scenario) } else { Vec::new() };
    let (units, valgrind) = if g.measure.has(Measure::Instructions) {
        let invalid = |message| WorkloadError::Invalid { scenario: scenario.into(), message };
        let v = valgrind::locate().map_err(invalid)?;
        if units.is_empty() {
            return Err(invalid(format!(
                "measure = \"instructions\" counts each top-level benchmark on its own, and none could be listed for bench = {:?} (a top-level `|` cannot be split per benchmark)",
                g.bench
            )));
        }
        (with_measures(units, &g.measure), Some(v))
    } else {
        (units, None)
    };
    Ok(Prepared {
        scenario: scenario.into(),
        packages: binaries,
        args,
        env,
        timeout: g.timeout,
        prefix_names,
        toolchain,
        profile: g.profile.clone(),
        units,
        measure: g.measure.clone(),
        valgrind,
        iterations: BTreeMap::new(),
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

/// The top-level benchmarks the scenario's `bench` pattern selects, per
/// package (`-test.list`), as units of their own. Empty — one trial runs
/// the whole suite — when the pattern has a top-level alternation (`A|B/x`
/// cannot be split per benchmark the way `go test` matches it) or listing
/// fails.
fn list_units(
    binaries: &[PackageBinary],
    bench: &str,
    env: &[(String, String)],
    prefix_names: bool,
    ctx: &VariantContext<'_>,
    scenario: &str,
) -> Vec<Unit> {
    let Some((first, rest)) = split_bench_pattern(bench) else {
        return Vec::new();
    };
    let mut units = Vec::new();
    for (package, pkg) in binaries.iter().enumerate() {
        let log =
            ctx.logs.join(format!("list-{}-{}-{}.log", crate::paths::file_component(scenario), ctx.role, package));
        let args = vec!["-test.list".to_string(), first.to_string()];
        let Ok(finished) = process::run_program(&pkg.binary, &args, &pkg.dir, env, &log, Some(Duration::from_secs(60)))
        else {
            return Vec::new();
        };
        if !finished.success() {
            return Vec::new();
        }
        let Ok(text) = read_lossy(&log) else { return Vec::new() };
        for name in text.lines().map(str::trim).filter(|l| is_benchmark_name(l)) {
            let label = if prefix_names { format!("{}:{name}", pkg.import_path) } else { name.to_string() };
            let pattern = format!("^{name}${rest}");
            // Counted metrics name it as Go's output does: without "Benchmark"
            // (and without a -GOMAXPROCS suffix: counts run with one P).
            let short = name.strip_prefix("Benchmark").filter(|s| !s.is_empty()).unwrap_or(name);
            let name = if prefix_names { format!("{}:{short}", pkg.import_path) } else { short.to_string() };
            units.push(Unit { package, name, label, pattern, measure: Measure::Time });
        }
    }
    units
}

/// `Benchmark` followed by an identifier (what `-test.list` prints for one).
fn is_benchmark_name(line: &str) -> bool {
    line.strip_prefix("Benchmark").is_some_and(|rest| rest.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Splits a `-test.bench` pattern into its first level and the rest
/// (starting with `/`), as `go test` splits it: at `/` outside brackets and
/// parentheses. `None` for a top-level `|`, which `go test` treats as an
/// alternation of whole paths.
fn split_bench_pattern(pattern: &str) -> Option<(&str, &str)> {
    let bytes = pattern.as_bytes();
    let (mut brackets, mut parens, mut i) = (0i32, 0i32, 0);
    let mut split = None;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => brackets += 1,
            b']' => brackets = (brackets - 1).max(0),
            b'(' if brackets == 0 => parens += 1,
            b')' if brackets == 0 => parens -= 1,
            b'\\' => i += 1,
            b'/' if brackets == 0 && parens == 0 && split.is_none() => split = Some(i),
            b'|' if brackets == 0 && parens == 0 => return None,
            _ => {}
        }
        i += 1;
    }
    Some(match split {
        Some(at) => (&pattern[..at], &pattern[at..]),
        None => (pattern, ""),
    })
}

/// The profiling pass of a `gobench` scenario, after the timed rounds: the
/// benchmarks run once more with `-test.cpuprofile`, `-test.memprofile`
/// (`allocs`/`heap`), `-test.blockprofile` or `-test.mutexprofile`. With
/// several packages, each package's profile is its own kind,
/// `KIND@import/path`. With `iterations`, each benchmark runs exactly that
/// many times (`-test.benchtime=Nx`) so both variants' profiles hold the
/// same work.
pub fn profile_pass(
    p: &Prepared,
    iterations: Option<u64>,
    dir: &Path,
    file_prefix: &str,
    log: &Path,
) -> Result<(Vec<super::service::Captured>, Vec<String>), WorkloadError> {
    let mut captured = Vec::new();
    let mut warnings = Vec::new();
    if p.profile.is_empty() {
        return Ok((captured, warnings));
    }
    std::fs::create_dir_all(dir)?;
    let multi = p.packages.len() > 1;
    for pkg in &p.packages {
        let mut args = p.args.clone();
        if let Some(n) = iterations {
            args.retain(|a| !a.starts_with("-test.benchtime="));
            args.push(format!("-test.benchtime={n}x"));
        }
        let mut wanted = Vec::new();
        for kind in &p.profile {
            let flag = match kind.as_str() {
                "cpu" => "-test.cpuprofile",
                "allocs" | "heap" => "-test.memprofile",
                "block" => "-test.blockprofile",
                "mutex" => "-test.mutexprofile",
                other => {
                    warnings.push(format!("scenario {:?}: `go test` cannot write a {other} profile", p.scenario));
                    continue;
                }
            };
            let label = if multi { format!("{kind}@{}", pkg.import_path) } else { kind.clone() };
            let path = dir.join(format!("{file_prefix}-{}.pb.gz", crate::paths::file_component(&label)));
            if wanted.iter().any(|(_, f, _): &(String, &str, PathBuf)| *f == flag) {
                continue; // allocs and heap come from the same file
            }
            args.push(format!("{flag}={}", path.display()));
            wanted.push((label, flag, path));
        }
        let finished = process::run_program(&pkg.binary, &args, &pkg.dir, &p.env, log, p.timeout)?;
        if finished.interrupted {
            return Err(WorkloadError::Interrupted);
        }
        if !finished.success() {
            warnings.push(format!(
                "scenario {:?}: the profiling run of {} failed ({}); profiles skipped",
                p.scenario,
                pkg.import_path,
                finished.describe(p.timeout)
            ));
            continue;
        }
        for (kind, _, path) in wanted {
            match std::fs::read(&path).ok().map(|b| crate::formats::pprof::decode(&b)) {
                Some(Ok(pr)) if !pr.samples.is_empty() => captured.push(super::service::Captured { kind, path }),
                _ => warnings.push(format!(
                    "scenario {:?}: the {kind} profile of {} has no samples: skipped",
                    p.scenario, pkg.import_path
                )),
            }
        }
    }
    Ok((captured, warnings))
}

/// Reads the toolchain settings with `go env`, in the environment the build uses.
fn go_env(
    scenario: &str,
    root: &Path,
    env: &[(String, String)],
    ctx: &VariantContext<'_>,
) -> Result<Vec<(String, String)>, WorkloadError> {
    let log = ctx.logs.join(format!("go-env-{}-{}.log", crate::paths::file_component(scenario), ctx.role));
    let mut args = vec!["env".to_string()];
    args.extend(TOOLCHAIN_VARS.iter().map(|v| v.to_string()));
    let finished = process::run_program(Path::new("go"), &args, root, env, &log, Some(ctx.build_timeout))?;
    check(
        &finished,
        WorkloadError::BuildFailed,
        "running `go env`".into(),
        format!("go {}", args.join(" ")),
        &log,
        Some(ctx.build_timeout),
    )?;
    let text = read_lossy(&log)?;
    Ok(TOOLCHAIN_VARS.iter().zip(text.lines()).map(|(k, v)| (k.to_lowercase(), v.to_string())).collect())
}

/// Benchmarks may print anything; a stray non-UTF-8 byte must not lose a round.
fn read_lossy(path: &Path) -> Result<String, WorkloadError> {
    Ok(String::from_utf8_lossy(&std::fs::read(path)?).into_owned())
}

/// Expands package patterns (`.`, `./...`) with `go list`, keeping only
/// packages that have test files: a package without tests has no benchmarks.
fn list_packages(
    scenario: &str,
    g: &GoBenchScenario,
    root: &Path,
    env: &[(String, String)],
    ctx: &VariantContext<'_>,
) -> Result<Vec<(String, PathBuf)>, WorkloadError> {
    let log = ctx.logs.join(format!("go-list-{}-{}.log", crate::paths::file_component(scenario), ctx.role));
    let mut args = vec![
        "list".to_string(),
        "-f".into(),
        "{{.ImportPath}}\t{{.Dir}}\t{{len .TestGoFiles}}\t{{len .XTestGoFiles}}".into(),
        "--".into(),
    ];
    args.extend(g.packages.iter().cloned());
    let finished = process::run_program(Path::new("go"), &args, root, env, &log, Some(ctx.build_timeout))?;
    check(
        &finished,
        WorkloadError::BuildFailed,
        format!("listing the {} Go packages", ctx.role),
        format!("go {}", args.join(" ")),
        &log,
        Some(ctx.build_timeout),
    )?;
    let text = read_lossy(&log)?;
    let mut out = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 4 {
            continue;
        }
        let tests: usize = fields[2].parse().unwrap_or(0) + fields[3].parse::<usize>().unwrap_or(0);
        if tests > 0 {
            out.push((fields[0].to_string(), PathBuf::from(fields[1])));
        }
    }
    if out.is_empty() {
        return Err(WorkloadError::Invalid {
            scenario: scenario.into(),
            message: format!("no Go package with test files matches {:?} in {}", g.packages, root.display()),
        });
    }
    Ok(out)
}

/// One trial: the whole suite, or (`unit`) one top-level benchmark, whose
/// output is appended to the round's `log`.
pub fn run_trial(p: &mut Prepared, log: &Path, unit: Option<&str>) -> Result<TrialOutput, WorkloadError> {
    let mut output = TrialOutput { config: p.toolchain.clone(), ..TrialOutput::default() };
    if let Some(label) = unit {
        let Some(u) = p.units.iter().find(|u| u.label == label).cloned() else {
            return Ok(output);
        };
        if u.measure == Measure::Instructions {
            super::gocount::count_unit(p, &u, log, &mut output)?;
            return Ok(output);
        }
        let mut args = p.args.clone();
        for a in &mut args {
            if a.starts_with("-test.bench=") {
                *a = format!("-test.bench={}", u.pattern);
            }
        }
        let unit_log = log.with_extension("unit.log");
        run_package(p, &p.packages[u.package], &args, &unit_log, &mut output)?;
        append_to(log, &unit_log)?;
        return Ok(output);
    }
    let multi = p.packages.len() > 1;
    for (i, pkg) in p.packages.iter().enumerate() {
        let log = if multi { log.with_extension(format!("{i}.log")) } else { log.to_path_buf() };
        run_package(p, pkg, &p.args, &log, &mut output)?;
    }
    // A package with tests but no matching benchmark is fine among several;
    // a scenario where nothing at all matched is a mistake worth stopping for.
    if output.measurements.is_empty() {
        let pkg = &p.packages[0];
        return Err(WorkloadError::TrialFailed(StepFailure::new(
            format!(
                "benchmarks of {}",
                p.packages.iter().map(|p| p.import_path.as_str()).collect::<Vec<_>>().join(", ")
            ),
            format!("{} {}", pkg.binary.display(), p.args.join(" ")),
            "no benchmark matched; check `bench` in the scenario".to_string(),
            log,
            5,
        )));
    }
    Ok(output)
}

/// Runs one package's binary with `args` and adds what it measured.
fn run_package(
    p: &Prepared,
    pkg: &PackageBinary,
    args: &[String],
    log: &Path,
    output: &mut TrialOutput,
) -> Result<(), WorkloadError> {
    let command = || format!("{} {}", pkg.binary.display(), args.join(" "));
    let finished = process::run_program(&pkg.binary, args, &pkg.dir, &p.env, log, p.timeout)?;
    check(
        &finished,
        WorkloadError::TrialFailed,
        format!("benchmarks of {}", pkg.import_path),
        command(),
        log,
        p.timeout,
    )?;
    // Lenient like benchstat: a benchmark's own chatter that happens to
    // start with "Benchmark" must not void the round.
    let (parsed, _malformed) = format::parse_lenient(&read_lossy(log)?);
    if let Some(last) = parsed.configs.last() {
        for (k, v) in &last.entries {
            if !output.config.iter().any(|(ek, ev)| **ek == **k && **ev == **v) {
                output.config.push((k.to_string(), v.to_string()));
            }
        }
    }
    for r in &parsed.results {
        let benchmark = if p.prefix_names { format!("{}:{}", pkg.import_path, r.name) } else { r.name.to_string() };
        for v in &r.values {
            let better = format::better_from_metadata(&parsed.units, &v.unit)
                .unwrap_or_else(|| format::better_for_unit(&v.unit));
            output.measurements.push(Measurement {
                benchmark: benchmark.clone(),
                metric: v.unit.to_string(),
                unit: v.unit.to_string(),
                better,
                value: v.value,
            });
        }
    }
    Ok(())
}

/// Appends a unit trial's output to the round's log (one log per variant
/// and round, however many benchmarks ran as trials of their own).
pub(super) fn append_to(log: &Path, part: &Path) -> Result<(), WorkloadError> {
    use std::io::Write as _;
    let bytes = std::fs::read(part)?;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    f.write_all(&bytes)?;
    let _ = std::fs::remove_file(part);
    Ok(())
}
