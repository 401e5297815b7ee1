//! `perfgate doctor [--scenario FILE] [--json] [--no-probe]`: the tools,
//! the repository, and this machine's noise. Exit 0 when ready, 1 when a
//! tool the scenario files need is missing (or no git repository), 2 for a
//! scenario file that does not parse.

use super::{CliError, EXIT_OK, EXIT_REGRESSION};
use crate::doctor::{self, Report, tools::Needs};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Scenario file(s) whose tools are required [default: perf.toml, here or at the repository's root].
    #[arg(long = "scenario", short = 's', value_name = "FILE")]
    pub scenarios: Vec<PathBuf>,
    /// Print the report as JSON (for CI: `warnings` says when the runner is noisy).
    #[arg(long)]
    pub json: bool,
    /// Skip the noise probe (tools and repository only).
    #[arg(long)]
    pub no_probe: bool,
    /// How long the noise probe runs.
    #[arg(long, value_name = "DURATION", default_value = "8s", value_parser = super::parse_max_time)]
    pub probe_time: Duration,
}

pub fn run(args: DoctorArgs) -> Result<i32, CliError> {
    let files = super::scenarios_or_default(args.scenarios);
    let mut parsed = Vec::new();
    for f in &files {
        parsed.push(crate::config::load(f).map_err(CliError::bad_input)?);
    }
    let dir = std::env::current_dir().map_err(CliError::bad_input)?;
    if !args.json {
        crate::note!("checking tools and the repository; the noise probe takes {:?}…", args.probe_time);
    }
    let report = doctor::diagnose(&dir, &Needs::of(&parsed), (!args.no_probe).then_some(args.probe_time));
    if args.json {
        let text = serde_json::to_string_pretty(&report).map_err(CliError::run_failed)?;
        crate::out!("{text}\n");
    } else {
        let required: Vec<&str> = report.tools.iter().filter(|t| t.required).map(|t| t.name.as_str()).collect();
        let scope = if files.is_empty() {
            "no scenario file (perf.toml) here: only git is required".to_string()
        } else {
            let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            format!("{} requires {}", names.join(", "), required.join(", "))
        };
        crate::out!("{}", render(&report, &scope));
    }
    Ok(if report.problems.is_empty() { EXIT_OK } else { EXIT_REGRESSION })
}

/// The terminal form: formats the report, decides nothing.
fn render(r: &Report, scope: &str) -> String {
    let mut out = format!("tools ({scope}):\n");
    for t in &r.tools {
        let mark = match (&t.version, t.required) {
            (Some(_), _) => "ok     ",
            (None, true) => "MISSING",
            (None, false) => "absent ",
        };
        let what = match &t.version {
            Some(v) => v.clone(),
            None => format!("{} — for {}; {}", t.error.as_deref().unwrap_or("not found"), t.needed_for, t.install),
        };
        out += &format!("  {mark} {:<11} {what}\n", t.name);
    }
    let repo = &r.repository;
    out += "repository:\n";
    match &repo.root {
        Some(root) => {
            out += &format!(
                "  {root}: {}, {}, HEAD {}\n",
                if repo.shallow { "shallow clone" } else { "full history" },
                if repo.dirty { "uncommitted changes (the default candidate)" } else { "clean working tree" },
                if repo.head_has_parent { "has a parent" } else { "has no parent" }
            );
        }
        None => out += "  not a git repository\n",
    }
    if let Some(n) = &r.noise {
        out += &format!(
            "noise probe ({:.1} s; paired A/A rounds of ~{:.0} ms trials; a default run here = {} rounds of {:.0} s):\n",
            n.seconds,
            n.loops.first().map(|l| l.trial_ms).unwrap_or(0.0),
            n.default_rounds,
            n.reference_round_seconds
        );
        out += "  loop     rounds  paired CV  smallest change called  5% change            10% change\n";
        for l in &n.loops {
            let rounds = |r: Option<usize>| match r {
                Some(k) => format!("{k} rounds ({})", minutes(k as f64 * n.reference_round_seconds)),
                None => "> 500 rounds".into(),
            };
            out += &format!(
                "  {:<8} {:>6}  {:>8.1}%  {:>22}  {:<20} {}\n",
                l.name,
                l.rounds,
                l.paired_cv_pct,
                l.mde_pct.map(|m| format!("{m:.1}%")).unwrap_or_else(|| "none".into()),
                rounds(l.rounds_for_5pct),
                rounds(l.rounds_for_10pct)
            );
        }
    }
    if let Some(a) = &r.advice {
        out += &format!("advice: {a}\n");
    }
    for w in &r.warnings {
        out += &format!("warning: {w}\n");
    }
    for p in &r.problems {
        out += &format!("problem: {p}\n");
    }
    if r.problems.is_empty() {
        out += "ready.\n";
    }
    out
}

fn minutes(secs: f64) -> String {
    if secs < 90.0 { format!("{secs:.0} s") } else { format!("{:.0} min", secs / 60.0) }
}
