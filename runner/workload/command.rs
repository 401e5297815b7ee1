//! `command` scenarios: time a command per round (wall time, user and system
//! CPU of its whole process tree, and the peak RSS of the largest process in
//! the tree, from `wait4`), after an untimed `prepare` step.
//! A non-zero exit is a failed trial, reported with the command's last lines.

use super::{Measurement, TrialOutput, VariantContext, WorkloadError, check};
use crate::config::{CommandScenario, Target};
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
    Ok(Prepared {
        scenario: scenario.into(),
        dir,
        command: super::substitute(&c.command, &build_dir, ctx.checkout, None),
        prepare: c.prepare.as_deref().map(|p| super::substitute(p, &build_dir, ctx.checkout, None)),
        env,
        timeout: c.timeout,
    })
}

pub fn run_trial(p: &Prepared, log: &Path) -> Result<TrialOutput, WorkloadError> {
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
