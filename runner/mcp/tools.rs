//! The MCP tools: their input types (JSON Schemas derive from them), their
//! descriptions, and what each does. Every error is a message the caller
//! can act on, the same the CLI prints; none ends the server.

use super::answers::{self, ResultsFilter};
use super::jobs::{Ended, Jobs};
use crate::results::Results;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An agent's run may measure this long unless it asks for less.
pub const DEFAULT_MAX_TIME: Duration = Duration::from_secs(5 * 60);
/// And never longer.
pub const MAX_MAX_TIME: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateScenario {
    /// A scenario file (TOML), relative to the directory the server runs in.
    pub path: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCompare {
    /// Scenario files to run (at least one).
    pub scenarios: Vec<String>,
    /// Baseline git revision [default: the scenario file's, else HEAD].
    pub baseline: Option<String>,
    /// Candidate git revision [default: the scenario file's, else the working tree with uncommitted edits].
    pub candidate: Option<String>,
    /// A patch file applied on the baseline as the candidate (the working tree is not touched).
    pub patch: Option<String>,
    /// Measurement budget, e.g. "90s", "5m" [default 5m; at most 30m]. Rounds run until every judged
    /// comparison settles or this is spent (builds excluded).
    pub max_time: Option<String>,
    /// A fixed 8 rounds of shorter windows: a first look, not a verdict to merge on.
    pub quick: Option<bool>,
    /// Seed of the randomized round order (recorded).
    pub seed: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRef {
    /// The id start_compare returned.
    pub run_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetResults {
    /// A run started by this server...
    pub run_id: Option<String>,
    /// ...or a results.json (or the directory holding it), e.g. reports/latest.
    pub path: Option<String>,
    pub filter: Option<ResultsFilter>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetFindings {
    /// A run started by this server...
    pub run_id: Option<String>,
    /// ...or a results.json (or the directory holding it), e.g. reports/latest.
    pub path: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileTop {
    /// A pprof profile (.pb.gz), e.g. from a run's profiles/ directory.
    pub path: String,
    /// Functions to list (default 25, at most 500).
    pub n: Option<usize>,
    /// Which value ranks: a sample type (cpu, alloc_space, inuse_space, ...) or its index.
    pub sample_index: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileDiff {
    /// The baseline profile.
    pub base: String,
    /// The candidate profile.
    pub new: String,
    /// Functions to list (default 25, at most 500).
    pub n: Option<usize>,
    pub sample_index: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlameQuery {
    /// A pprof profile (.pb.gz).
    pub path: String,
    /// A function name, or part of one (plain text, not a pattern): the tree under the heaviest
    /// function that matches. Omitted: the whole profile from its roots.
    pub focus: Option<String>,
    /// Levels of callees to show (default 4, at most 12).
    pub depth: Option<usize>,
    pub sample_index: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRuns {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only metrics of scenarios whose name contains this.
    pub scenario: Option<String>,
    /// Only metrics whose "benchmark/metric" contains this.
    pub metric: Option<String>,
    /// The history: a SQLite file or a postgresql:// URL [default: $PERFGATE_HISTORY, else
    /// reports/history.sqlite, as `perfgate nightly` writes it].
    pub db: Option<String>,
}

/// (name, description, input schema) of every tool.
pub fn list() -> Vec<rmcp::model::Tool> {
    use rmcp::model::Tool;
    fn tool<T: JsonSchema + 'static>(name: &'static str, description: &'static str) -> Tool {
        Tool::new(name, description, std::sync::Arc::new(serde_json::Map::new())).with_input_schema::<T>()
    }
    vec![
        tool::<ValidateScenario>(
            "validate_scenario",
            "Check a perfgate scenario file without running anything. Returns ok with its scenarios, \
             or every error with file:line:col.",
        ),
        tool::<StartCompare>(
            "start_compare",
            "Start measuring baseline vs candidate (git revisions, the working tree, or a patch) on \
             scenario files, in the background; returns {run_id} at once. Poll run_status, then read \
             get_results and get_findings. Bounded: max_time defaults to 5m of measurement and \
             anything above 30m is refused; builds come on top. One run at a time.",
        ),
        tool::<RunRef>(
            "run_status",
            "State of a run started here: building, measuring, done, failed or cancelled; rounds, \
             settled/judged comparisons, elapsed; when done the verdict counts and exit code \
             (0 nothing regressed, 1 regressed or failed threshold).",
        ),
        tool::<RunRef>(
            "cancel_run",
            "Stop a run started here: the trial in progress stops, the rounds measured so far are \
             analyzed and written (results.json), no process is left behind.",
        ),
        tool::<GetResults>(
            "get_results",
            "A run's verdict and the changes that matter: per scenario/benchmark/metric the baseline \
             and candidate medians with 95% intervals, the delta and its interval, p/q, verdict, and \
             why a row is still open; resources and counters per request; with [target.postgres], \
             the database's statements per request, N+1 flags and plan diffs; failed thresholds; \
             warnings. Capped (filter.limit raises it).",
        ),
        tool::<GetFindings>(
            "get_findings",
            "One block per improved or regressed metric group, in the optimization-report format: \
             Impact, Location (file:line from the profile diff), Current and Measured figures with \
             intervals, Verification (what ran and what did not). Cause and Proposed Fix are left \
             for you to write.",
        ),
        tool::<ProfileTop>(
            "profile_top",
            "Hotspots of a pprof profile: flat and cum per function with file:line, heaviest first, \
             the rows `perfgate profile top --json` prints (as `go tool pprof -top`).",
        ),
        tool::<ProfileDiff>(
            "profile_diff",
            "new minus base per function (as `go tool pprof -top -diff_base`), percentages of the \
             base's total: where time or memory moved between two profiles.",
        ),
        tool::<FlameQuery>(
            "flame_query",
            "The call tree under a function of a profile: its callees with cum, flat and file:line, \
             trimmed to depth; or the whole profile from its roots.",
        ),
        tool::<ListRuns>(
            "list_runs",
            "Runs started by this server, and the newest runs under reports/ with their verdict counts.",
        ),
        tool::<HistoryQuery>(
            "history",
            "The nightly history (perfgate nightly): recorded runs, and per metric its nights, change \
             points and drift.",
        ),
    ]
}

/// A tool's answer: a short text and the structured value.
pub type Answer = Result<(String, Value), String>;

fn parse<T: for<'de> Deserialize<'de>>(tool: &str, args: Value) -> Result<T, String> {
    serde_json::from_value(args).map_err(|e| format!("{tool}: invalid arguments: {e}"))
}

pub struct Context {
    pub cwd: PathBuf,
    pub jobs: Jobs,
}

impl Context {
    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() { p.to_path_buf() } else { self.cwd.join(p) }
    }

    fn reports(&self) -> PathBuf {
        crate::variant::Repo::discover(&self.cwd)
            .map(|r| r.root.join("reports"))
            .unwrap_or_else(|_| self.cwd.join("reports"))
    }
}

pub fn call(ctx: &Context, name: &str, args: Value) -> Answer {
    match name {
        "validate_scenario" => validate(ctx, parse(name, args)?),
        "start_compare" => start(ctx, parse(name, args)?),
        "run_status" => status(ctx, parse(name, args)?),
        "cancel_run" => cancel(ctx, parse(name, args)?),
        "get_results" => {
            let a: GetResults = parse(name, args)?;
            let (r, from) = load(ctx, a.run_id.as_deref(), a.path.as_deref())?;
            answers::results(&r, &from, &a.filter.unwrap_or_default())
        }
        "get_findings" => {
            let a: GetFindings = parse(name, args)?;
            let (r, from) = load(ctx, a.run_id.as_deref(), a.path.as_deref())?;
            let text = crate::report::findings::render(&r);
            Ok((text, json!({"source": from, "run_id": r.run.id, "findings": r.findings})))
        }
        "profile_top" => {
            let a: ProfileTop = parse(name, args)?;
            let p = crate::profile::read(&ctx.path(&a.path))?;
            let top = crate::profile::top(&p, &top_options(a.n, a.sample_index))?;
            Ok((top_text(&top), crate::profile::to_json(&top)))
        }
        "profile_diff" => {
            let a: ProfileDiff = parse(name, args)?;
            let base = crate::profile::read(&ctx.path(&a.base))?;
            let new = crate::profile::read(&ctx.path(&a.new))?;
            let top = crate::profile::diff(&base, &new, &top_options(a.n, a.sample_index))?;
            Ok((top_text(&top), crate::profile::to_json(&top)))
        }
        "flame_query" => {
            let a: FlameQuery = parse(name, args)?;
            let p = crate::profile::read(&ctx.path(&a.path))?;
            let tree =
                crate::profile::call_tree(&p, a.sample_index.as_deref(), a.focus.as_deref(), a.depth.unwrap_or(4))?;
            let text = format!(
                "{}: cum {} ({:.1}% of {} {}), flat {}; {} callee(s) listed",
                tree.root.function,
                tree.root.cum,
                tree.root.cum_pct,
                tree.total,
                tree.unit,
                tree.root.flat,
                tree.root.children.len()
            );
            Ok((text, serde_json::to_value(&tree).map_err(|e| e.to_string())?))
        }
        "list_runs" => {
            let _: ListRuns = parse(name, args)?;
            list_runs(ctx)
        }
        "history" => history(ctx, parse(name, args)?),
        other => Err(format!("unknown tool {other:?} (tools/list names them)")),
    }
}

fn top_options(n: Option<usize>, sample_index: Option<String>) -> crate::profile::TopOptions {
    crate::profile::TopOptions {
        sample_index,
        nodecount: n.unwrap_or(answers::DEFAULT_LIMIT).clamp(1, answers::MAX_LIMIT),
        ..crate::profile::TopOptions::default()
    }
}

fn top_text(t: &crate::profile::Top) -> String {
    let rows: Vec<String> = t
        .rows
        .iter()
        .take(5)
        .map(|r| format!("{} flat {} cum {} ({}:{})", r.function, r.flat, r.cum, r.file, r.line))
        .collect();
    format!("{} rows of {} ({}), total {}: {}", t.rows.len(), t.sample_type, t.unit, t.total, rows.join("; "))
}

fn validate(ctx: &Context, a: ValidateScenario) -> Answer {
    let path = ctx.path(&a.path);
    match crate::config::load(&path) {
        Ok(file) => {
            let scenarios: Vec<Value> =
                file.scenarios.iter().map(|s| json!({"name": s.name, "kind": s.kind.name()})).collect();
            Ok((
                format!("{}: ok: {} scenario(s)", a.path, scenarios.len()),
                json!({"ok": true, "scenarios": scenarios}),
            ))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn start(ctx: &Context, a: StartCompare) -> Answer {
    if a.scenarios.is_empty() {
        return Err("start_compare: give at least one scenario file in `scenarios`".into());
    }
    if a.candidate.is_some() && a.patch.is_some() {
        return Err("start_compare: give `candidate` or `patch`, not both".into());
    }
    if let Some(id) = ctx.jobs.running() {
        return Err(format!("run {id} is still going: one run at a time (poll run_status, or cancel_run it first)"));
    }
    let quick = a.quick.unwrap_or(false);
    let mut files = Vec::new();
    for s in &a.scenarios {
        let path = ctx.path(s);
        crate::config::load(&path).map_err(|e| e.to_string())?;
        files.push(path);
    }
    let max_time = match &a.max_time {
        Some(t) => {
            let d = crate::config::parse_duration(t).map_err(|e| format!("max_time {t:?}: {e}"))?;
            if d.is_zero() || d > MAX_MAX_TIME {
                return Err(format!(
                    "max_time {t:?}: must be more than 0s and at most 30m (an agent's run is bounded; \
                     run `perfgate compare` yourself for longer)"
                ));
            }
            d
        }
        None => DEFAULT_MAX_TIME,
    };
    let mut args: Vec<String> = Vec::new();
    for f in &files {
        args.push("--scenario".into());
        args.push(f.display().to_string());
    }
    for (flag, v) in [("--baseline", &a.baseline), ("--candidate", &a.candidate)] {
        if let Some(v) = v {
            args.push(flag.into());
            args.push(v.clone());
        }
    }
    if let Some(p) = &a.patch {
        args.push("--patch".into());
        args.push(ctx.path(p).display().to_string());
    }
    if quick {
        args.push("--quick".into());
    } else {
        // Always explicit: a scenario file's own budget must not exceed an agent's cap.
        args.push("--max-time".into());
        args.push(format!("{}s", max_time.as_secs()));
    }
    if let Some(seed) = a.seed {
        args.push("--seed".into());
        args.push(seed.to_string());
    }
    // What the run would reject at once is an error now, with the CLI's
    // words: not a repository, unknown revisions, a missing patch, a busy lock.
    let repo = crate::variant::Repo::discover(&ctx.cwd).map_err(|e| e.to_string())?;
    for rev in [&a.baseline, &a.candidate].into_iter().flatten() {
        repo.commit_of(rev).map_err(|e| e.to_string())?;
    }
    if let Some(p) = &a.patch
        && !ctx.path(p).is_file()
    {
        return Err(format!("patch {p}: no such file"));
    }
    drop(repo.lock().map_err(|e| e.to_string())?);
    let id = ctx.jobs.start(args)?;
    let budget = if quick { "quick: 8 fixed rounds".to_string() } else { format!("max_time {}s", max_time.as_secs()) };
    Ok((
        format!("started run {id} ({budget}); poll run_status with this run_id"),
        json!({"run_id": id, "max_time_s": if quick { Value::Null } else { json!(max_time.as_secs()) }, "quick": quick}),
    ))
}

fn status(ctx: &Context, a: RunRef) -> Answer {
    let (ended, st, elapsed, log, cancel) = ctx.jobs.with(&a.run_id, |j| {
        (j.ended.clone(), j.status(), j.started.elapsed().as_secs_f64(), j.log_path.clone(), j.cancel_requested)
    })?;
    let st = st.unwrap_or_default();
    let (state, mut extra) = match &ended {
        None if cancel => ("cancelling", json!({})),
        None => (
            if matches!(st.state.as_str(), "" | "planning" | "building") { "building" } else { "measuring" },
            json!({}),
        ),
        Some(Ended::Cancelled) => ("cancelled", json!({})),
        Some(Ended::Failed { code, message }) => ("failed", json!({"exit_code": code, "error": message})),
        Some(Ended::Done(code)) => ("done", json!({"exit_code": code})),
    };
    let results_path = PathBuf::from(&st.out_dir).join("results.json");
    if matches!(ended, Some(Ended::Done(_) | Ended::Cancelled | Ended::Failed { .. }))
        && let Ok(r) = crate::report::json::read_results(&results_path)
    {
        extra["verdict"] = json!(answers::overall(&r));
        extra["counts"] = answers::counts(&r);
        extra["rounds"] = json!(r.run.rounds);
        extra["results"] = json!(results_path.display().to_string());
        if let Some(s) = &r.stopping {
            extra["stopped"] = json!(s.reason);
        }
    }
    let mut v = json!({
        "run_id": a.run_id,
        "state": state,
        "phase": st.state,
        "round": st.round,
        "trials": st.trials,
        "judged": st.judged,
        "settled": st.settled,
        "widest_open": st.widest,
        "rounds_left_estimate": st.rounds_left,
        "elapsed_s": elapsed,
        "measuring_s": st.measuring_s,
        "scenarios_stopped": st.stopped,
        "out_dir": st.out_dir,
        "log": log.display().to_string(),
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    let mut text = format!("run {}: {state}", a.run_id);
    if st.round > 0 {
        text.push_str(&format!(", round {}, {}/{} judged settled", st.round, st.settled, st.judged));
    }
    if let Some(c) = v.get("counts").filter(|c| !c.is_null()) {
        text.push_str(&format!("; {c}"));
    }
    if let Some(code) = v.get("exit_code").filter(|c| !c.is_null()) {
        text.push_str(&format!("; exit code {code}"));
    }
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        text.push_str(&format!("; {e}"));
    }
    Ok((text, v))
}

fn cancel(ctx: &Context, a: RunRef) -> Answer {
    ctx.jobs.cancel(&a.run_id)?;
    Ok((
        format!("cancelling run {}: it writes the rounds measured so far; run_status says when it has", a.run_id),
        json!({"run_id": a.run_id, "state": "cancelling"}),
    ))
}

/// The results of a run started here, or at a path.
fn load(ctx: &Context, run_id: Option<&str>, path: Option<&str>) -> Result<(Results, String), String> {
    let file = match (run_id, path) {
        (Some(_), Some(_)) => return Err("give run_id or path, not both".into()),
        (None, None) => return Err("give run_id (a run started here) or path (a results.json)".into()),
        (Some(id), None) => {
            let (ended, out) = ctx.jobs.with(id, |j| (j.ended.clone(), j.out_dir()))?;
            if ended.is_none() {
                return Err(format!("run {id} is still going: poll run_status until it is done"));
            }
            out.ok_or_else(|| format!("run {id} wrote no results (run_status says why)"))?.join("results.json")
        }
        (None, Some(p)) => {
            let p = ctx.path(p);
            if p.is_dir() { p.join("results.json") } else { p }
        }
    };
    let r = crate::report::json::read_results(&file)?;
    Ok((r, file.display().to_string()))
}

fn list_runs(ctx: &Context) -> Answer {
    let jobs: Vec<Value> =
        ctx.jobs.ids().into_iter().filter_map(|id| status(ctx, RunRef { run_id: id }).ok().map(|(_, v)| v)).collect();
    let past = answers::past_runs(&ctx.reports(), 20);
    let text = format!("{} run(s) started by this server; {} recent run(s) under reports/", jobs.len(), past.len());
    Ok((text, json!({"started_here": jobs, "recent": past})))
}

fn history(ctx: &Context, a: HistoryQuery) -> Answer {
    use crate::history::Location;
    let db = match a.db.as_deref() {
        Some(d) => Location::parse(d).under(&ctx.cwd),
        None => match std::env::var("PERFGATE_HISTORY") {
            Ok(d) if !d.is_empty() => Location::parse(&d).under(&ctx.cwd),
            _ => Location::File(ctx.reports().join("history.sqlite")),
        },
    };
    let h = db.open_existing().map_err(|e| e.to_string())?;
    let runs = h.runs(None).map_err(|e| e.to_string())?;
    let opts = crate::history::changepoint::Options::default();
    let mut metrics: Vec<crate::history::MetricHistory> = Vec::new();
    let mut total = 0;
    for set in h.scenario_sets().map_err(|e| e.to_string())? {
        for series in h.series(&set).map_err(|e| e.to_string())? {
            let name = format!("{}/{}", series.benchmark, series.metric);
            if a.scenario.as_ref().is_some_and(|s| !series.scenario.contains(s.as_str()))
                || a.metric.as_ref().is_some_and(|m| !name.contains(m.as_str()))
            {
                continue;
            }
            total += 1;
            if metrics.len() < 50 {
                metrics.push(crate::history::MetricHistory::new(&set, series, &opts, 0.02));
            }
        }
    }
    let flagged =
        metrics.iter().filter(|m| !m.change_points.is_empty() || m.drift.as_ref().is_some_and(|d| d.regressed)).count();
    let recent: Vec<_> = runs.iter().rev().take(30).collect();
    let text = format!(
        "{db}: {} run(s); {total} metric(s) match, {} shown, {flagged} with change points or a regressing drift",
        runs.len(),
        metrics.len()
    );
    let mut notes = Vec::new();
    if total > metrics.len() {
        notes.push("at most 50 metrics: narrow with scenario / metric".to_string());
    }
    Ok((
        text,
        json!({"db": db.to_string(), "runs": recent, "metrics": metrics, "metrics_total": total, "notes": notes}),
    ))
}
