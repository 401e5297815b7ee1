//! The profiling pass of a compare (after every timing round, so profiles
//! never slow a measured trial): capture each scenario's profiles per
//! variant, rank hotspots per variant and their change (as `go tool pprof
//! -top` and `-diff_base` do), and draw flame graphs, all under `profiles/`.

use crate::formats::pprof::{self, Profile};
use crate::model::Role;
use crate::paths::file_component;
use crate::profile::{self, TopOptions, TopRow};
use crate::results::{self, ProfileEntry};
use crate::workload::{self, Prepared, WorkloadError};
use std::path::Path;

/// Rows kept per variant and per diff in `results.json`.
const TOP_ROWS: usize = 20;

/// What every profile kind is ranked by (Go's names for its sample types).
fn sample_type_for(kind: &str) -> &'static str {
    // `cpu@example.com/pkg`: a package's profile in a multi-package gobench.
    match kind.split('@').next().unwrap_or(kind) {
        "cpu" => "cpu",
        "heap" => "inuse_space",
        "allocs" => "alloc_space",
        "goroutine" => "goroutine",
        "mutex" | "block" => "delay",
        "instructions" => "instructions",
        _ => "",
    }
}

pub struct Outcome {
    pub profiles: Vec<results::Profile>,
    pub diffs: Vec<results::ProfileDiff>,
    pub plan_diffs: Vec<results::PlanDiff>,
    pub warnings: Vec<String>,
}

/// Plans: a sequential scan reading more rows than this is flagged, unless
/// `[target.postgres] seq_scan_rows` says otherwise.
pub const DEFAULT_SEQ_SCAN_ROWS: u64 = 1000;

/// A scenario's plan diffs, their plans written under `plans/`.
fn plan_diffs(
    name: &str,
    plans: &[Option<Vec<crate::formats::pgplan::LoggedPlan>>; 2],
    seq_rows: u64,
    out_dir: &Path,
) -> Result<(Vec<results::PlanDiff>, Option<String>), WorkloadError> {
    let side = |slot: usize| plans[slot].as_deref().unwrap_or(&[]);
    let (diffs, files) = crate::analyze::plans::diff(name, side(0), side(1), seq_rows);
    for (rel, text) in files {
        let path = out_dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    let warning =
        diffs.is_empty().then(|| format!("scenario {name:?}: auto_explain logged no plan in the profiling pass"));
    Ok((diffs, warning))
}

/// Seconds of work a benchmark suite's profiling run aims at, per variant.
const PROFILE_SECONDS: f64 = 1.0;

/// Iterations per benchmark for each scenario's profiling run, the same for
/// both variants: a Go benchmark runs for a fixed *time*, so two variants'
/// profiles would hold equal totals and their diff would show nothing; a
/// fixed *count* of operations makes the diff the change in work. Sized so
/// the suite takes about [`PROFILE_SECONDS`] at the baseline's ns/op.
pub fn iterations(samples: &[results::Sample], names: &[String], solo: bool) -> Vec<Option<u64>> {
    let role = if solo { Role::Candidate } else { Role::Baseline };
    names
        .iter()
        .map(|name| {
            let mut per_bench: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
            for s in samples.iter().filter(|s| &s.scenario == name && s.variant == role && s.metric == "ns/op") {
                per_bench.entry(&s.benchmark).or_default().push(s.value);
            }
            let suite_ns: f64 = per_bench
                .values_mut()
                .map(|v| {
                    v.sort_by(f64::total_cmp);
                    v[v.len() / 2]
                })
                .filter(|x| x.is_finite() && *x > 0.0)
                .sum();
            (suite_ns > 0.0).then(|| (PROFILE_SECONDS * 1e9 / suite_ns).round().clamp(1.0, 1e9) as u64)
        })
        .collect()
}

/// Runs the profiling pass for every scenario that asks for profiles.
/// `prepared[i]` is scenario `names[i]` for [baseline, candidate];
/// `iterations[i]` its benchmarks' fixed count (see [`iterations`]).
pub fn run(
    prepared: &mut [[Option<Prepared>; 2]],
    names: &[String],
    iterations: &[Option<u64>],
    out_dir: &Path,
    logs: &Path,
) -> Result<Outcome, WorkloadError> {
    let mut out = Outcome { profiles: Vec::new(), diffs: Vec::new(), plan_diffs: Vec::new(), warnings: Vec::new() };
    let dir = out_dir.join("profiles");
    for (i, (pair, name)) in prepared.iter_mut().zip(names).enumerate() {
        let counted = counted_iterations(pair);
        let mut captured: [Vec<workload::service::Captured>; 2] = [Vec::new(), Vec::new()];
        let mut plans: [Option<Vec<crate::formats::pgplan::LoggedPlan>>; 2] = [None, None];
        for (slot, role) in [Role::Baseline, Role::Candidate].into_iter().enumerate() {
            let safe = crate::paths::file_component(name);
            let log = logs.join(format!("{safe}-{role}-profile.log"));
            let prefix = format!("{safe}-{role}");
            let (got, warnings) = match pair[slot].as_mut() {
                Some(Prepared::Service(p)) if workload::service::wants_pass(p) => {
                    crate::note!("profiling {name} ({role}) ...");
                    let pass = workload::service::profile_pass(p, &dir, &prefix, &log)?;
                    // Only a pass that logged plans (a managed database) has any to diff.
                    plans[slot] = pass.plans;
                    (pass.captured, pass.warnings)
                }
                Some(Prepared::GoBench(p)) if !p.profile.is_empty() || !counted.is_empty() => {
                    crate::note!("profiling {name} ({role}) ...");
                    let n = iterations.get(i).copied().flatten();
                    let (mut got, mut warnings) = workload::gobench::profile_pass(p, n, &dir, &prefix, &log)?;
                    let (more, said) = workload::gocount::instruction_profile(p, &counted, &dir, &prefix, &log)?;
                    got.extend(more);
                    warnings.extend(said);
                    (got, warnings)
                }
                Some(Prepared::CargoBench(p)) if p.valgrind.is_some() => {
                    crate::note!("profiling {name} ({role}) ...");
                    workload::cargobench::instruction_profile(p, &dir, &prefix, &log)?
                }
                _ => continue,
            };
            captured[slot] = got;
            out.warnings.extend(warnings);
        }
        if plans.iter().any(Option::is_some) {
            let seq_rows = pair.iter().flatten().find_map(workload::seq_scan_rows).unwrap_or(DEFAULT_SEQ_SCAN_ROWS);
            let (diffs, warning) = plan_diffs(name, &plans, seq_rows, out_dir)?;
            out.plan_diffs.extend(diffs);
            out.warnings.extend(warning);
        }
        let kinds: Vec<String> = captured.iter().flatten().map(|c| c.kind.clone()).collect();
        let mut done: Vec<String> = Vec::new();
        for kind in kinds {
            if done.contains(&kind) {
                continue;
            }
            done.push(kind.clone());
            let mut decoded: [Option<Profile>; 2] = [None, None];
            for (slot, role) in [Role::Baseline, Role::Candidate].into_iter().enumerate() {
                let Some(c) = captured[slot].iter().find(|c| c.kind == kind) else { continue };
                let bytes = std::fs::read(&c.path)?;
                let Ok(p) = pprof::decode(&bytes) else { continue };
                let opts = options(&p, &kind);
                let Ok(top) = profile::top(&p, &opts) else { continue };
                let index = p.sample_index(opts.sample_index.as_deref()).unwrap_or(0);
                let folded = profile::flame::fold(&p, index);
                let svg_name = format!("{}-{role}-{}.svg", file_component(name), file_component(&kind));
                let title = format!("{name} {role}: {kind} ({})", top.sample_type);
                let flame = match profile::flame::svg(&folded, &title, &top.unit) {
                    Ok(svg) => std::fs::write(dir.join(&svg_name), svg).ok().map(|_| format!("profiles/{svg_name}")),
                    Err(_) => None,
                };
                out.profiles.push(results::Profile {
                    scenario: name.clone(),
                    variant: role,
                    kind: kind.clone(),
                    path: relative(out_dir, &c.path),
                    top: entries(&top.rows, top.total),
                    sample_type: top.sample_type.clone(),
                    unit: top.unit.clone(),
                    total: top.total as f64,
                    flame_graph: flame,
                });
                decoded[slot] = Some(p);
            }
            if let [Some(base), Some(new)] = &decoded {
                // Every row above pprof's own cutoff: a function whose cost
                // moved through its callees (cum) may have little flat cost.
                let opts = TopOptions { nodecount: 0, ..options(new, &kind) };
                if let Ok(d) = profile::diff(base, new, &opts) {
                    let index_b = base.sample_index(opts.sample_index.as_deref()).unwrap_or(0);
                    let index_n = new.sample_index(opts.sample_index.as_deref()).unwrap_or(0);
                    let svg_name = format!("{}-{}-diff.svg", file_component(name), file_component(&kind));
                    let title = format!("{name}: {kind}, candidate vs baseline (red grew, blue shrank)");
                    let flame = profile::flame::differential_svg(
                        &profile::flame::fold(base, index_b),
                        &profile::flame::fold(new, index_n),
                        &title,
                        &d.unit,
                    )
                    .ok()
                    .and_then(|svg| std::fs::write(dir.join(&svg_name), svg).ok())
                    .map(|_| format!("profiles/{svg_name}"));
                    out.diffs.push(results::ProfileDiff {
                        scenario: name.clone(),
                        kind: kind.clone(),
                        sample_type: d.sample_type.clone(),
                        unit: d.unit.clone(),
                        baseline_total: d.total as f64,
                        top: entries(&d.rows, d.total),
                        flame_graph: flame,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Per counted benchmark, the iterations both variants' instruction
/// profiles run: the smaller of the two calibrated counts, so both hold
/// the same number of operations and their diff is the change in work.
fn counted_iterations(pair: &[Option<Prepared>; 2]) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for p in pair.iter().flatten() {
        if let Prepared::GoBench(g) = p {
            for (label, &(n1, _)) in &g.iterations {
                out.entry(label.clone()).and_modify(|n: &mut u64| *n = (*n).min(n1)).or_insert(n1);
            }
        }
    }
    out
}

fn options(p: &Profile, kind: &str) -> TopOptions {
    let wanted = sample_type_for(kind);
    let present = p.sample_types.iter().any(|t| *t.kind == *wanted);
    TopOptions { sample_index: present.then(|| wanted.to_string()), nodecount: TOP_ROWS, ..TopOptions::default() }
}

fn entries(rows: &[TopRow], total: i64) -> Vec<ProfileEntry> {
    let pct = |v: i64| if total == 0 { 0.0 } else { v as f64 / total as f64 * 100.0 };
    rows.iter()
        .map(|r| ProfileEntry {
            function: r.function.clone(),
            file: checkout_relative(&r.file),
            line: u32::try_from(r.line).unwrap_or(0),
            flat: r.flat as f64,
            flat_pct: pct(r.flat),
            cum: r.cum as f64,
            cum_pct: pct(r.cum),
        })
        .collect()
}

/// Source paths inside a variant's worktree, relative to the checkout
/// (`examples/dashboard/server/store.go`), so both variants' rows name the
/// same file.
fn checkout_relative(file: &str) -> String {
    const WORKTREES: &str = "/.perfgate/worktrees/";
    match file.find(WORKTREES) {
        Some(i) => {
            let rest = &file[i + WORKTREES.len()..];
            rest.split_once('/').map(|(_, path)| path.to_string()).unwrap_or_else(|| file.to_string())
        }
        None => file.to_string(),
    }
}

fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base).unwrap_or(path).display().to_string()
}
