//! `command` scenarios: time a command per round (wall time, user and system
//! CPU of its whole process tree, and the peak RSS of the largest process in
//! the tree, from `wait4`), after an untimed `prepare` step.
//! A non-zero exit is a failed trial, reported with the command's last lines.
//! With `measure = "instructions"` the command runs under Valgrind instead
//! (every process it starts, counted): `instructions`, a count, not time.

use super::valgrind::{self, Valgrind};
use super::{Measurement, TrialOutput, VariantContext, WorkloadError, check};
use crate::config::{CommandScenario, Measure, Measures, Target};
use crate::model::Better;
use crate::process;
use crate::variant::build_cache::Build;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Prepared {
    pub scenario: String,
    pub dir: PathBuf,
    pub command: String,
    pub prepare: Option<String>,
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    pub measure: Measures,
    /// Found at prepare when instructions are counted.
    pub valgrind: Option<Valgrind>,
    /// `[target.postgres]`: each trial gets a fresh copy of the template as
    /// `{pg_url}` and `$DATABASE_URL` (in `prepare` and the command).
    pub database: Option<std::sync::Arc<crate::target::postgres::Database>>,
}

pub fn prepare(
    scenario: &str,
    c: &CommandScenario,
    target: Option<&Target>,
    target_build: Option<&Build>,
    ctx: &VariantContext<'_>,
) -> Result<Prepared, WorkloadError> {
    let dir = super::scenario_dir(ctx.checkout, &c.dir);
    if !dir.is_dir() {
        return Err(WorkloadError::Invalid {
            scenario: scenario.into(),
            message: format!("dir {:?} does not exist in the {} checkout ({})", c.dir, ctx.role, dir.display()),
        });
    }
    let build_dir = target_build.map(|b| b.dir.clone()).unwrap_or_else(|| ctx.checkout.to_path_buf());
    // Target env first, so a scenario can override it.
    let mut env: Vec<(String, String)> =
        target.map(|t| t.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
    env.extend(c.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let valgrind = if c.measure.has(Measure::Instructions) {
        Some(valgrind::locate().map_err(|message| WorkloadError::Invalid { scenario: scenario.into(), message })?)
    } else {
        None
    };
    Ok(Prepared {
        scenario: scenario.into(),
        dir,
        command: super::substitute(&c.command, &build_dir, ctx.checkout, None),
        prepare: c.prepare.as_deref().map(|p| super::substitute(p, &build_dir, ctx.checkout, None)),
        env,
        timeout: c.timeout,
        measure: c.measure.clone(),
        valgrind,
        database: ctx.database.clone(),
    })
}

/// With both measures, each is a unit of its own: its trials run back to
/// back for the two variants.
pub fn units(p: &Prepared) -> Vec<String> {
    if p.measure.list.len() > 1 { p.measure.list.iter().map(|m| m.as_str().to_string()).collect() } else { Vec::new() }
}

/// One trial: the `prepare` step, then the command timed, or (`unit`
/// "instructions", or the only measure) counted under Valgrind.
pub fn run_trial(p: &Prepared, log: &Path, unit: Option<&str>) -> Result<TrialOutput, WorkloadError> {
    let with_db;
    let p = match &p.database {
        Some(db) => {
            with_db = with_database(p, db)?;
            &with_db
        }
        None => p,
    };
    if let Some(prep) = &p.prepare {
        let prep_log = log.with_extension("prepare.log");
        let spec = process::Spec { shell: prep, cwd: &p.dir, env: &p.env, log: &prep_log, timeout: p.timeout };
        let finished = process::run_shell(&spec)?;
        check(
            &finished,
            WorkloadError::TrialFailed,
            format!("prepare step of scenario {:?}", p.scenario),
            prep.clone(),
            &prep_log,
            p.timeout,
        )?;
    }
    let measure = match unit {
        Some("instructions") => Measure::Instructions,
        Some(_) => Measure::Time,
        None => p.measure.list[0],
    };
    if let (Measure::Instructions, Some(v)) = (measure, &p.valgrind) {
        return count(p, v, log);
    }
    let spec = process::Spec { shell: &p.command, cwd: &p.dir, env: &p.env, log, timeout: p.timeout };
    let finished = process::run_shell(&spec)?;
    check(
        &finished,
        WorkloadError::TrialFailed,
        format!("command of scenario {:?}", p.scenario),
        p.command.clone(),
        log,
        p.timeout,
    )?;
    let u = finished.usage;
    let m = |metric: &str, unit: &str, value: f64| Measurement {
        benchmark: p.scenario.clone(),
        metric: metric.into(),
        unit: unit.into(),
        better: Better::Lower,
        value,
    };
    Ok(TrialOutput {
        measurements: vec![
            m("wall_time", "s", u.wall.as_secs_f64()),
            m("user_time", "s", u.user.as_secs_f64()),
            m("system_time", "s", u.system.as_secs_f64()),
            m("cpu_time", "s", (u.user + u.system).as_secs_f64()),
            m("max_rss", "B", u.max_rss_bytes as f64),
        ],
        ..TrialOutput::default()
    })
}

/// The trial's command and `prepare` with `{pg_url}` (and `$DATABASE_URL`)
/// of a fresh copy of the database's template.
fn with_database(p: &Prepared, db: &crate::target::postgres::Database) -> Result<Prepared, WorkloadError> {
    let url = db
        .round_url(&crate::target::postgres::db_name(&p.scenario))
        .map_err(|e| WorkloadError::TargetFailed(format!("scenario {:?}: [target.postgres]: {e}", p.scenario)))?;
    let quoted = super::shell_quote(&url);
    let mut out = p.clone();
    out.command = out.command.replace("{pg_url}", &quoted);
    out.prepare = out.prepare.map(|c| c.replace("{pg_url}", &quoted));
    out.env.push(("DATABASE_URL".into(), url));
    out.database = None;
    Ok(out)
}

/// The command under Valgrind, following every program it starts.
fn count(p: &Prepared, v: &Valgrind, log: &Path) -> Result<TrialOutput, WorkloadError> {
    let args = vec!["-c".to_string(), p.command.clone()];
    let out_dir = log.with_extension("callgrind");
    let totals = valgrind::count(&valgrind::Run {
        valgrind: v,
        program: Path::new("/bin/sh"),
        args: &args,
        cwd: &p.dir,
        env: &p.env,
        log,
        out_dir: &out_dir,
        cache_sim: p.measure.cache_sim,
        children: true,
        collect: &[],
        timeout: p.timeout,
        what: format!("command of scenario {:?} under Valgrind", p.scenario),
    })?;
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut output = TrialOutput { config: vec![("valgrind".into(), v.version.clone())], ..TrialOutput::default() };
    for (name, value) in valgrind::figures(&totals) {
        output.push(&p.scenario, &name, &name, Better::Lower, value);
    }
    Ok(output)
}
