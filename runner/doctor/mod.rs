//! `perfgate doctor`: is this machine ready for a run, and how quiet is it?
//! The tools a scenario file needs (each found with its version, or named
//! with how to install it), the repository's state, and the noise probe.

pub mod probe;
pub mod repo;
pub mod tools;

use crate::results::NoiseProbe;
use serde::Serialize;
use std::path::Path;

/// What `doctor` found, as `--json` prints it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub tools: Vec<tools::Tool>,
    pub repository: repo::RepoState,
    /// Absent with `--no-probe`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseProbe>,
    /// What to do about the noise, in a sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// A tool the scenario file needs is missing, or the repository cannot
    /// be measured: `doctor` exits 1.
    pub problems: Vec<String>,
    /// Worth knowing, not blocking (a noisy machine, a shallow clone).
    pub warnings: Vec<String>,
}

/// Noise above which a CI check would rather warn: a default run could
/// not call a change of twice the default threshold.
const NOISY_MDE_PCT: f64 = 4.0;

/// Runs every check. `needs`: the tools the scenario files require.
pub fn diagnose(dir: &Path, needs: &tools::Needs, probe_budget: Option<std::time::Duration>) -> Report {
    let tools = tools::check(needs);
    let repository = repo::inspect(dir);
    let mut problems: Vec<String> = tools
        .iter()
        .filter(|t| t.required && t.version.is_none())
        .map(|t| format!("{} is missing ({}): {}", t.name, t.needed_for, t.install))
        .collect();
    let mut warnings = repository.warnings.clone();
    if !repository.is_git {
        problems.push(format!("{} is not in a git repository: compare checks out revisions with git", dir.display()));
    }
    let noise = probe_budget.map(|b| probe::run(b, 0x0d0c));
    let advice = noise.as_ref().map(advice);
    if let Some(n) = &noise
        && n.loops.iter().any(|l| l.mde_pct.is_none_or(|m| m > NOISY_MDE_PCT))
    {
        warnings.push(format!("noisy machine: {}", probe_line(n)));
    }
    problems.dedup();
    Report { tools, repository, noise, advice, problems, warnings }
}

/// One line: each loop's paired CV and the smallest change a default run calls.
pub fn probe_line(n: &NoiseProbe) -> String {
    let parts: Vec<String> = n
        .loops
        .iter()
        .map(|l| {
            let mde = l.mde_pct.map(|m| format!("{m:.1}%")).unwrap_or_else(|| "none".into());
            format!("{} loop paired CV {:.1}% (smallest change a default run calls: {mde})", l.name, l.paired_cv_pct)
        })
        .collect();
    format!("noise probe ({:.1} s): {}", n.seconds, parts.join("; "))
}

/// What the noise means for the user's next run.
fn advice(n: &NoiseProbe) -> String {
    let worst = n.loops.iter().map(|l| l.mde_pct.unwrap_or(f64::INFINITY)).fold(0.0, f64::max);
    let threshold = n.threshold_pct;
    if worst <= threshold {
        format!(
            "quiet enough: a default run can call changes down to the {threshold}% threshold in timings; \
             keep other work off the machine while it runs"
        )
    } else if worst <= 2.0 * threshold {
        format!(
            "somewhat noisy: a default run calls changes of {worst:.1}% and up; for smaller ones give it more \
             time (--max-time 15m) or count instructions (measure = \"instructions\", Valgrind)"
        )
    } else {
        let w = if worst.is_finite() { format!("{worst:.0}%") } else { "any size".into() };
        format!(
            "noisy: a default run may miss changes below {w}; count instructions for CPU-bound code \
             (measure = \"instructions\", Valgrind), run longer (--max-time), or use a quieter machine \
             (no other jobs, fixed CPU frequency)"
        )
    }
}
