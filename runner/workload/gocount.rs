//! Go benchmarks counted under Valgrind (`measure = "instructions"`):
//! two runs of fixed iteration counts (`-test.benchtime=Nx`, then `2Nx`),
//! whose difference cancels the process's start-up and the benchmark's
//! set-up and first `b.N = 1` call, divided by N: `instructions/op`. N is
//! calibrated once per benchmark and variant so that the difference is at
//! least 5×10^7 instructions, where the runtime's own background work
//! (~10^5 per run) is noise of ~0.2%. Also the instruction profile of the
//! profiling pass.

use super::gobench::{Prepared, Unit, append_to};
use super::valgrind::{self, Valgrind};
use super::{TrialOutput, WorkloadError};
use crate::config::Measure;
use crate::model::Better;
use std::collections::BTreeMap;
use std::path::Path;

/// The difference of two counted runs this unit's calibration aims for.
const COUNT_TARGET: f64 = 5e7;

/// Counts one benchmark: runs of N and 2N iterations under Valgrind, and
/// their difference per iteration.
pub(super) fn count_unit(
    p: &mut Prepared,
    u: &Unit,
    log: &Path,
    output: &mut TrialOutput,
) -> Result<(), WorkloadError> {
    let Some(v) = p.valgrind.clone() else { return Ok(()) };
    let (n1, n2) = match p.iterations.get(&u.label) {
        Some(&n) => n,
        None => {
            let n = calibrate(p, &v, u, log)?;
            p.iterations.insert(u.label.clone(), n);
            n
        }
    };
    let first = counted_run(p, &v, u, n1, log)?;
    let second = counted_run(p, &v, u, n2, log)?;
    let per = (n2 - n1) as f64;
    let a = valgrind::figures(&first);
    for (name, value) in valgrind::figures(&second) {
        let before = a.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or(0.0);
        let metric = format!("{name}/op");
        output.push(&u.name, &metric, &metric, Better::Lower, (value - before) / per);
    }
    let env = valgrind::go_env(&p.env);
    let shown = |k: &str| env.iter().find(|(key, _)| key == k).map(|(_, v)| format!("{k}={v}")).unwrap_or_default();
    output.config.push(("valgrind".into(), v.version.clone()));
    let shown: Vec<String> =
        ["GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"].iter().map(|k| shown(k)).filter(|s| !s.is_empty()).collect();
    output.config.push(("instructions_env".into(), shown.join(" ")));
    output.config.push((format!("instructions_iterations {}", u.name), format!("{n1}x {n2}x")));
    Ok(())
}

/// Picks N for a unit: doubles of 1, 10, 100, … iterations until their
/// difference is clear of the runtime's noise, then N from the 1-2-5 series
/// so that the difference of N and 2N is at least [`COUNT_TARGET`] (both
/// variants land on the same N unless their costs differ a lot).
fn calibrate(p: &Prepared, v: &Valgrind, u: &Unit, log: &Path) -> Result<(u64, u64), WorkloadError> {
    let mut n: u64 = 1;
    loop {
        let a = counted_run(p, v, u, n, log)?.get("Ir");
        let b = counted_run(p, v, u, 2 * n, log)?.get("Ir");
        let diff = b.saturating_sub(a) as f64;
        if diff >= COUNT_TARGET / 20.0 || n >= 100_000_000 {
            let per_op = (diff / n as f64).max(1.0);
            let n1 = one_two_five((COUNT_TARGET / per_op).ceil() as u64).clamp(1, 1_000_000_000);
            return Ok((n1, 2 * n1));
        }
        n *= 10;
    }
}

/// The smallest of 1, 2, 5, 10, 20, 50, … at least `x`.
fn one_two_five(x: u64) -> u64 {
    let mut decade: u64 = 1;
    loop {
        for m in [1, 2, 5] {
            let v = decade.saturating_mul(m);
            if v >= x || v == u64::MAX {
                return v;
            }
        }
        decade = decade.saturating_mul(10);
    }
}

/// The instruction profile of a counted scenario, in the profiling pass:
/// each counted benchmark runs once more under callgrind for `iterations`
/// of its label (the same for both variants), and every function's own
/// instructions per source line become one pprof profile (see
/// [`valgrind::ProfileSum`]).
pub fn instruction_profile(
    p: &Prepared,
    iterations: &BTreeMap<String, u64>,
    dir: &Path,
    file_prefix: &str,
    log: &Path,
) -> Result<(Vec<super::service::Captured>, Vec<String>), WorkloadError> {
    let Some(v) = p.valgrind.clone() else { return Ok((Vec::new(), Vec::new())) };
    let mut sum = valgrind::ProfileSum::default();
    let mut warnings = Vec::new();
    for u in p.units.iter().filter(|u| u.measure == Measure::Instructions) {
        let Some(&n) = iterations.get(&u.label) else { continue };
        let out_dir = log.with_extension("callgrind");
        counted_run_in(p, &v, u, n, log, &out_dir)?;
        if let Err(e) = sum.add_dir(&out_dir) {
            warnings.push(format!("scenario {:?}: the callgrind output of {} is unreadable: {e}", p.scenario, u.name));
        }
        let _ = std::fs::remove_dir_all(&out_dir);
    }
    Ok((sum.write(&v, dir, file_prefix)?.into_iter().collect(), warnings))
}

/// One run of the unit's benchmark for exactly `n` iterations under
/// Valgrind; its output is appended to the round's log.
fn counted_run(
    p: &Prepared,
    v: &Valgrind,
    u: &Unit,
    n: u64,
    log: &Path,
) -> Result<crate::formats::callgrind::Totals, WorkloadError> {
    let out_dir = log.with_extension("callgrind");
    let totals = counted_run_in(p, v, u, n, log, &out_dir)?;
    let _ = std::fs::remove_dir_all(&out_dir);
    Ok(totals)
}

/// [`counted_run`], leaving callgrind's files in `out_dir`.
fn counted_run_in(
    p: &Prepared,
    v: &Valgrind,
    u: &Unit,
    n: u64,
    log: &Path,
    out_dir: &Path,
) -> Result<crate::formats::callgrind::Totals, WorkloadError> {
    let pkg = &p.packages[u.package];
    let mut args: Vec<String> = p
        .args
        .iter()
        .filter(|a| !a.starts_with("-test.benchtime="))
        .map(|a| if a.starts_with("-test.bench=") { format!("-test.bench={}", u.pattern) } else { a.clone() })
        .collect();
    args.push(format!("-test.benchtime={n}x"));
    let part = log.with_extension("count.log");
    let env = valgrind::go_env(&p.env);
    let totals = valgrind::count(&valgrind::Run {
        valgrind: v,
        program: &pkg.binary,
        args: &args,
        cwd: &pkg.dir,
        env: &env,
        log: &part,
        out_dir,
        cache_sim: p.measure.cache_sim,
        children: false,
        collect: &[],
        timeout: p.timeout,
        what: format!("benchmark {} of {} under Valgrind", u.name, pkg.import_path),
    })?;
    append_to(log, &part)?;
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_counts_follow_the_one_two_five_series() {
        let got: Vec<u64> = [0, 1, 2, 3, 6, 11, 190, 200, 201, 4_999].iter().map(|&x| one_two_five(x)).collect();
        assert_eq!(got, vec![1, 1, 2, 5, 10, 20, 200, 200, 500, 5_000]);
    }
}
