//! Counting instructions (`measure = "instructions"`): a program run under
//! Valgrind's callgrind, which counts every instruction it executes. The
//! count repeats where time does not: the same binary and input give the
//! same count (to ~0.1% for a Go test binary, whose runtime does background
//! work of its own), whatever else the machine is doing.
//!
//! Go needs `GODEBUG=asyncpreemptoff=1` under Valgrind (callgrind aborts on
//! the runtime's preemption signal); the counts of a benchmark use
//! `GOMAXPROCS=1` and the collector off (see [`go_env`]) so both variants
//! do the same work, repeatably.

use super::{StepFailure, WorkloadError};
use crate::formats::callgrind::{self, Totals};
use crate::process;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Valgrind, found.
#[derive(Debug, Clone)]
pub struct Valgrind {
    pub path: PathBuf,
    /// `valgrind --version`, e.g. "valgrind-3.19.0".
    pub version: String,
}

/// How to install Valgrind, for the error when it is missing.
pub const INSTALL: &str = "install Valgrind (Debian/Ubuntu: `apt-get install valgrind`; Fedora: `dnf install valgrind`), or set PERFGATE_VALGRIND to its path";

/// The largest callgrind output read (a Go test binary writes a few MB).
const MAX_OUTPUT: u64 = 256 << 20;

/// Finds Valgrind: `PERFGATE_VALGRIND`, else `valgrind` on PATH.
pub fn locate() -> Result<Valgrind, String> {
    let path = match std::env::var_os("PERFGATE_VALGRIND") {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("PATH")
            .map(|paths| std::env::split_paths(&paths).map(|d| d.join("valgrind")).find(|p| p.is_file()))
            .unwrap_or_default()
            .ok_or_else(|| format!("measure = \"instructions\" needs Valgrind, which is not on PATH: {INSTALL}"))?,
    };
    let out = std::process::Command::new(&path)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run Valgrind at {}: {e}; {INSTALL}", path.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !version.starts_with("valgrind") {
        return Err(format!("{} is not a working Valgrind ({version:?}); {INSTALL}", path.display()));
    }
    Ok(Valgrind { path, version })
}

/// Environment for a Go program under Valgrind: preemption signals off
/// (appended to the user's GODEBUG), one P, and, unless the scenario sets
/// them, the collector off below a 1 GiB heap (`GOGC=off GOMEMLIMIT=1GiB`):
/// when a collection runs is not repeatable, and with it on, an allocating
/// benchmark's count moved by 2% between runs here (a map-filling
/// benchmark, 3 pairs of runs: 1.159M–1.183M instructions/op) against 0.3%
/// with it off (1.107M–1.110M; Go's per-map hash seeds remain). Allocation
/// itself (mallocgc) is still counted.
pub fn go_env(env: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        env.iter().filter(|(k, _)| k != "GODEBUG" && k != "GOMAXPROCS").cloned().collect();
    let godebug = match env.iter().find(|(k, _)| k == "GODEBUG").map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()) {
        Some(v) => format!("{v},asyncpreemptoff=1"),
        None => "asyncpreemptoff=1".into(),
    };
    out.push(("GODEBUG".into(), godebug));
    out.push(("GOMAXPROCS".into(), "1".into()));
    if !out.iter().any(|(k, _)| k == "GOGC") {
        out.push(("GOGC".into(), "off".into()));
        if !out.iter().any(|(k, _)| k == "GOMEMLIMIT") {
            out.push(("GOMEMLIMIT".into(), "1GiB".into()));
        }
    }
    out
}

/// One counted run.
pub struct Run<'a> {
    pub valgrind: &'a Valgrind,
    pub program: &'a Path,
    pub args: &'a [String],
    pub cwd: &'a Path,
    pub env: &'a [(String, String)],
    /// The run's output (the program's and Valgrind's messages).
    pub log: &'a Path,
    /// Where callgrind writes its files (emptied first).
    pub out_dir: &'a Path,
    pub cache_sim: bool,
    /// Follow `exec` into child processes (a shell command's programs).
    pub children: bool,
    /// Count only inside these functions (callgrind's `--toggle-collect`
    /// patterns, `*` and `?` wildcards); empty: the whole run.
    pub collect: &'a [&'a str],
    pub timeout: Option<Duration>,
    /// What ran, for errors ("benchmarks of example.com/x").
    pub what: String,
}

/// Runs the program under callgrind and returns the totals, summed over
/// every process it counted. A crash under Valgrind is a failed trial with
/// Valgrind's own last lines.
pub fn count(run: &Run<'_>) -> Result<Totals, WorkloadError> {
    let _ = std::fs::remove_dir_all(run.out_dir);
    std::fs::create_dir_all(run.out_dir)?;
    let mut args = vec![
        "--tool=callgrind".to_string(),
        format!("--callgrind-out-file={}", run.out_dir.join("callgrind.out.%p").display()),
        format!("--cache-sim={}", if run.cache_sim { "yes" } else { "no" }),
        format!("--trace-children={}", if run.children { "yes" } else { "no" }),
    ];
    if !run.collect.is_empty() {
        args.push("--collect-atstart=no".into());
        args.extend(run.collect.iter().map(|f| format!("--toggle-collect={f}")));
    }
    args.extend([
        // Valgrind's own error exit would hide the program's status.
        "--error-exitcode=0".into(),
        "--".into(),
        run.program.display().to_string(),
    ]);
    args.extend(run.args.iter().cloned());
    let finished = process::run_program(&run.valgrind.path, &args, run.cwd, run.env, run.log, run.timeout)?;
    let command = format!("{} {}", run.valgrind.path.display(), args.join(" "));
    if finished.interrupted {
        return Err(WorkloadError::Interrupted);
    }
    if !finished.success() {
        let status = format!("{} under Valgrind", finished.describe(run.timeout));
        return Err(WorkloadError::TrialFailed(StepFailure::new(run.what.clone(), command, status, run.log, 20)));
    }
    let mut total: Option<Totals> = None;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(run.out_dir)?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let t = read_totals(&path).map_err(|m| {
            WorkloadError::TrialFailed(StepFailure::new(
                run.what.clone(),
                command.clone(),
                format!("unreadable callgrind output {}: {m}", path.display()),
                run.log,
                10,
            ))
        })?;
        match &mut total {
            Some(sum) => sum.add(&t),
            None => total = Some(t),
        }
    }
    total.ok_or_else(|| {
        WorkloadError::TrialFailed(StepFailure::new(
            run.what.clone(),
            command,
            "callgrind wrote no output".into(),
            run.log,
            10,
        ))
    })
}

/// Reads one callgrind output file, within [`MAX_OUTPUT`].
pub fn read_totals(path: &Path) -> Result<Totals, String> {
    callgrind::totals(&read_capped(path)?)
}

/// The self costs per function and line of every callgrind output file in
/// `dir` (a run and the processes it started), within [`MAX_OUTPUT`] each.
pub fn read_self_costs(dir: &Path) -> Result<Vec<callgrind::SelfCosts>, String> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten().map(|e| e.path()).collect();
    paths.sort();
    paths.iter().map(|p| callgrind::self_costs(&read_capped(p)?).map_err(|e| format!("{}: {e}", p.display()))).collect()
}

fn read_capped(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_OUTPUT + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_OUTPUT {
        return Err(format!("over {} MiB", MAX_OUTPUT >> 20));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Instructions per function and source line, summed over counted runs,
/// to become one pprof profile (sample type `instructions`). Inlined code
/// (callgrind's `fi=`) names its file but not its function: it becomes a
/// function of its own, `F [inlined file.go]`, so that every row's
/// file:line is a line of that file. Call chains are not kept (Go switches
/// goroutine stacks under callgrind's feet): each sample is one function at
/// one line (flat = cum).
#[derive(Debug, Default)]
pub struct ProfileSum {
    sums: std::collections::BTreeMap<(String, String, i64), u64>,
}

impl ProfileSum {
    /// Adds the self costs of every callgrind file in `dir`.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), String> {
        for costs in read_self_costs(dir)? {
            let ir = costs.events.iter().position(|e| e == "Ir").unwrap_or(0);
            for l in costs.lines {
                let function = if l.inlined {
                    let base = l.file.rsplit('/').next().unwrap_or(&l.file);
                    format!("{} [inlined {base}]", l.function)
                } else {
                    l.function
                };
                let e = self.sums.entry((function, l.file, l.line)).or_default();
                *e = e.saturating_add(l.values.get(ir).copied().unwrap_or(0));
            }
        }
        Ok(())
    }

    /// Writes `dir/PREFIX-instructions.pb.gz`; `None` when nothing was counted.
    pub fn write(
        &self,
        v: &Valgrind,
        dir: &Path,
        file_prefix: &str,
    ) -> std::io::Result<Option<super::service::Captured>> {
        let samples: Vec<(Vec<crate::formats::pprof::Frame<'_>>, Vec<i64>)> = self
            .sums
            .iter()
            .filter(|(_, ir)| **ir > 0)
            .map(|((function, file, line), ir)| {
                let frame = crate::formats::pprof::Frame { function, file, line: *line };
                (vec![frame], vec![i64::try_from(*ir).unwrap_or(i64::MAX)])
            })
            .collect();
        if samples.is_empty() {
            return Ok(None);
        }
        std::fs::create_dir_all(dir)?;
        let comment = format!("instructions counted by {} (callgrind)", v.version);
        let bytes = crate::formats::pprof::encode(&[("instructions", "count")], &samples, &[&comment]);
        let path = dir.join(format!("{file_prefix}-instructions.pb.gz"));
        std::fs::write(&path, bytes)?;
        Ok(Some(super::service::Captured { kind: "instructions".into(), path }))
    }
}

/// A count's figures by name: instructions, then the cache model's.
pub fn figures(t: &Totals) -> Vec<(String, f64)> {
    let mut out = vec![("instructions".to_string(), t.get("Ir") as f64)];
    if let (Some(l1), Some(ll), Some(cycles)) = (t.l1_misses(), t.ll_misses(), t.estimated_cycles()) {
        out.push(("l1_misses".into(), l1 as f64));
        out.push(("ll_misses".into(), ll as f64));
        out.push(("estimated_cycles".into(), cycles as f64));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_env_keeps_the_users_godebug_and_gogc() {
        let env = vec![("GODEBUG".to_string(), "madvdontneed=1".to_string()), ("GOGC".into(), "200".into())];
        let out = go_env(&env);
        assert!(out.contains(&("GODEBUG".into(), "madvdontneed=1,asyncpreemptoff=1".into())));
        assert!(out.contains(&("GOGC".into(), "200".into())));
        assert!(!out.iter().any(|(k, _)| k == "GOMEMLIMIT"), "the scenario's GOGC is left as it is");
        assert!(out.contains(&("GOMAXPROCS".into(), "1".into())));
        let out = go_env(&[]);
        assert!(out.contains(&("GOGC".into(), "off".into())) && out.contains(&("GOMEMLIMIT".into(), "1GiB".into())));
        assert!(out.contains(&("GODEBUG".into(), "asyncpreemptoff=1".into())));
    }
}
