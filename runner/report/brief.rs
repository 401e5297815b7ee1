//! The evidence brief (`brief.md`): a short GitHub-flavored Markdown account of
//! a run — verdict, the changes that matter with their intervals, the noise floor,
//! resources per request, profile movers, how to reproduce — that an agent can
//! quote and a PR comment can take as is. Rendered from `Results` only.

use super::format::{format_ci_halfwidth, format_delta, format_profile_delta, format_value, signed};
use crate::model::Role;
use crate::model::Verdict;
use crate::results::{Comparison, ProfileDiff, ProfileEntry, Results};

/// Rows per verdict in "Changes that matter". With the other caps below the
/// brief stays under 200 lines whatever the run: a PR comment, not a dump.
const MAX_CHANGE_ROWS: usize = 20;
const MAX_NOISE_SCENARIOS: usize = 8;
const MAX_GEOMEAN_LINES: usize = 3;
const MAX_INCONCLUSIVE_ROWS: usize = 10;
const MAX_RESOURCE_ROWS: usize = 20;
const MAX_PROFILE_DIFFS: usize = 2;
const PROFILE_MOVERS: usize = 5;
/// Failed thresholds, failed rounds and warnings, each.
const MAX_LIST_ITEMS: usize = 5;
/// Resource metrics of a service scenario, in the order the brief lists them;
/// `*_per_request` counters follow.
const RESOURCE_METRICS: [&str; 6] =
    ["cpu_per_request", "cpu_utilization", "rss_peak", "rss_mean", "rss_growth", "threads"];

/// The whole brief, ending with a newline.
pub fn render(results: &Results) -> String {
    let mut out = verdict_line(results);
    out.push_str("\n\n");
    if let Some(stop) = super::format::stop_sentence(results) {
        out.push_str(&escape_text(&capitalized(&stop)));
        out.push_str(".\n\n");
    }
    failed_thresholds(&mut out, results);
    failed_rounds(&mut out, results);
    changes(&mut out, results);
    noise_floor(&mut out, results);
    resources(&mut out, results);
    super::database::markdown(&mut out, results);
    profile_movers(&mut out, results);
    nightly(&mut out, results);
    warnings(&mut out, results);
    reproduce(&mut out, results);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `**perfgate: 45 improved, 0 regressed, ...** — candidate `x` vs baseline `y`, 8 rounds, ...`
/// with whatever went wrong in bold, so a one-line quote cannot hide it.
fn verdict_line(r: &Results) -> String {
    let count = |v: Verdict| r.comparisons.iter().filter(|c| c.verdict == v).count();
    let mut line = format!(
        "**perfgate: {} improved, {} regressed, {} unchanged, {} inconclusive**",
        count(Verdict::Improved),
        count(Verdict::Regressed),
        count(Verdict::Unchanged),
        count(Verdict::Inconclusive)
    );
    let rev = |role: Role| r.variants.iter().find(|v| v.role == role).map(|v| code(&v.rev));
    match (rev(Role::Candidate), rev(Role::Baseline)) {
        (Some(c), Some(b)) => line.push_str(&format!(" — candidate {c} vs baseline {b}")),
        (None, Some(b)) => line.push_str(&format!(" — baseline {b}")),
        (Some(c), None) => line.push_str(&format!(" — candidate {c}")),
        (None, None) => {}
    }
    if r.run.rounds > 0 {
        line.push_str(&format!(", {}", plural(r.run.rounds as usize, "round")));
    }
    if r.run.threshold_pct > 0.0 {
        line.push_str(&format!(", threshold {}%", short_number(r.run.threshold_pct)));
    }
    if r.run.alpha > 0.0 {
        line.push_str(&format!(", α {}", r.run.alpha));
    }
    if !r.run.status.is_empty() && r.run.status != "complete" {
        line.push_str(&format!(" — **run {}**", escape_text(&r.run.status)));
    }
    let failed = r.thresholds.iter().filter(|t| !t.passed).count();
    if failed > 0 {
        line.push_str(&format!(" — **{} failed**", plural(failed, "threshold")));
    }
    if !r.failures.is_empty() {
        line.push_str(&format!(" — **{} failed**", plural(r.failures.len(), "round")));
    }
    line
}

fn failed_thresholds(out: &mut String, r: &Results) {
    let failed: Vec<_> = r.thresholds.iter().filter(|t| !t.passed).collect();
    if failed.is_empty() {
        return;
    }
    out.push_str("## Failed thresholds\n\n");
    for t in failed.iter().take(MAX_LIST_ITEMS) {
        let observed = match t.observed {
            Some(v) => format!("observed {}", escape_text(&format_value(v, &t.unit))),
            None => "not measured".into(),
        };
        out.push_str(&format!("- {} {}: {} — {observed}\n", code(&t.scenario), t.variant, code(&t.expr)));
    }
    more_line(out, failed.len(), MAX_LIST_ITEMS, "failed thresholds");
    out.push('\n');
}

fn failed_rounds(out: &mut String, r: &Results) {
    if r.failures.is_empty() {
        return;
    }
    out.push_str("## Failed rounds\n\n");
    for f in r.failures.iter().take(MAX_LIST_ITEMS) {
        let first = f.message.lines().next().unwrap_or("");
        out.push_str(&format!("- {} {} round {}: {}\n", code(&f.scenario), f.variant, f.round, code(first)));
    }
    more_line(out, r.failures.len(), MAX_LIST_ITEMS, "failed rounds");
    out.push('\n');
}

/// Improved and regressed rows, regressions first; within a table by
/// scenario (in run order), then by the size of the change.
fn changes(out: &mut String, r: &Results) {
    out.push_str("## Changes that matter\n\n");
    let sequential = r.stopping.as_ref().is_some_and(|s| s.rule == "sequential");
    out.push_str(if sequential {
        "Medians ± their 95% interval; delta with its anytime-valid 95% interval (a confidence sequence over the \
         paired rounds); p: 1/e-value, valid however often the run looked; q: p corrected for the run's many \
         comparisons (e-BH); n: rounds per side.\n\n"
    } else {
        "Medians ± their 95% interval; delta with its 95% interval (paired by round where possible); q: p corrected \
         for the run's many comparisons (Benjamini–Hochberg); n: rounds per side.\n\n"
    });
    let scenarios = scenario_order(r);
    let mut any = false;
    for verdict in [Verdict::Regressed, Verdict::Improved] {
        let rows: Vec<&Comparison> = r.comparisons.iter().filter(|c| c.verdict == verdict).collect();
        if rows.is_empty() {
            continue;
        }
        any = true;
        let shown = pick_across_scenarios(&rows, &scenarios, MAX_CHANGE_ROWS);
        out.push_str(&format!("### {} ({})\n\n", capitalized(verdict.as_str()), rows.len()));
        let with_benchmark = shown.iter().any(|c| c.benchmark != c.scenario);
        let mut header = lead_header(with_benchmark);
        header.extend([
            ("metric", Align::Left),
            ("baseline", Align::Right),
            ("candidate", Align::Right),
            ("delta [95% CI]", Align::Right),
            ("p", Align::Right),
            ("q", Align::Right),
            ("n", Align::Right),
        ]);
        let body = shown
            .iter()
            .map(|c| {
                let mut row = lead_cells(c, with_benchmark);
                row.extend([
                    code_cell(&c.metric),
                    escape_text(&with_interval(c.baseline.median, c.baseline.ci_low, c.baseline.ci_high, &c.unit)),
                    escape_text(&with_interval(c.candidate.median, c.candidate.ci_low, c.candidate.ci_high, &c.unit)),
                    format_delta(c),
                    format_p(c.p_value),
                    format_p(c.q_value),
                    sizes(c),
                ]);
                row
            })
            .collect::<Vec<_>>();
        out.push_str(&table(&header, &body));
        more_line(out, rows.len(), shown.len(), &format!("{} rows", verdict.as_str()));
        out.push('\n');
    }
    geomeans(out, r, &scenarios);
    if !any {
        let threshold = if r.run.threshold_pct > 0.0 {
            format!(" by at least the threshold ({}%)", short_number(r.run.threshold_pct))
        } else {
            String::new()
        };
        out.push_str(&format!("No metric improved or regressed significantly{threshold}.\n\n"));
    }
}

/// One line per scenario with benchmarks: the geometric mean of their
/// ratios per metric, the figure to quote for a package as a whole.
fn geomeans(out: &mut String, r: &Results, scenarios: &[&str]) {
    let lines: Vec<String> = scenarios
        .iter()
        .filter_map(|s| {
            let of_scenario: Vec<_> = r.geomeans.iter().filter(|g| g.scenario == *s).collect();
            let benchmarks = of_scenario.iter().map(|g| g.benchmarks).max()?;
            let parts: Vec<String> =
                of_scenario.iter().map(|g| format!("{} {}%", code(&g.metric), signed(g.delta_pct, 1))).collect();
            Some(format!("- {} ({}): {}\n", code(s), plural(benchmarks, "benchmark"), parts.join(", ")))
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    out.push_str("Geomean change over each scenario's benchmarks:\n\n");
    for line in lines.iter().take(MAX_GEOMEAN_LINES) {
        out.push_str(line);
    }
    if lines.len() > MAX_GEOMEAN_LINES {
        out.push_str(&format!("- … and {} more scenarios in `results.json`\n", lines.len() - MAX_GEOMEAN_LINES));
    }
    out.push('\n');
}

/// Per scenario the MDE its metrics reached, then what stayed inconclusive
/// and roughly how many rounds would settle it.
fn noise_floor(out: &mut String, r: &Results) {
    if r.comparisons.is_empty() {
        return;
    }
    out.push_str("## Noise floor\n\n");
    out.push_str(
        "MDE: the smallest change a metric's noise let the run detect; a change below it cannot be told from noise.\n\n",
    );
    let pct = |v: Option<f64>| v.map(|m| format!("{m:.1}%")).unwrap_or_else(|| "–".into());
    let body: Vec<Vec<String>> = r
        .noise_floors
        .iter()
        .take(MAX_NOISE_SCENARIOS)
        .map(|f| {
            vec![
                code_cell(&f.scenario),
                f.metrics.to_string(),
                pct(f.median_mde_pct),
                pct(f.max_mde_pct),
                f.metrics.saturating_sub(f.with_mde).to_string(),
                f.inconclusive.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            ("scenario", Align::Left),
            ("metrics", Align::Right),
            ("median MDE", Align::Right),
            ("max MDE", Align::Right),
            ("no MDE", Align::Right),
            ("inconclusive", Align::Right),
        ],
        &body,
    ));
    more_line(out, r.noise_floors.len(), MAX_NOISE_SCENARIOS, "scenarios");
    out.push('\n');

    let mut open: Vec<&Comparison> = r.comparisons.iter().filter(|c| c.verdict == Verdict::Inconclusive).collect();
    if open.is_empty() {
        out.push_str("Every metric was concluded: nothing is inconclusive.\n\n");
        return;
    }
    // Cheapest to settle first: those are what another run can act on.
    open.sort_by(|a, b| settle_key(a).cmp(&settle_key(b)).then(b.delta_pct.abs().total_cmp(&a.delta_pct.abs())));
    out.push_str(&format!("### Not concluded ({})\n\n", open.len()));
    let with_benchmark = open.iter().take(MAX_INCONCLUSIVE_ROWS).any(|c| c.benchmark != c.scenario);
    let mut header = lead_header(with_benchmark);
    header.extend([
        ("metric", Align::Left),
        ("delta [95% CI]", Align::Right),
        ("MDE", Align::Right),
        ("n", Align::Right),
        ("rounds to settle (est.)", Align::Right),
    ]);
    let body: Vec<Vec<String>> = open
        .iter()
        .take(MAX_INCONCLUSIVE_ROWS)
        .map(|c| {
            let mut row = lead_cells(c, with_benchmark);
            row.extend([
                code_cell(&c.metric),
                format_delta(c),
                c.mde_pct.map(|m| format!("{m:.1}%")).unwrap_or_else(|| "–".into()),
                sizes(c),
                settle_cell(c),
            ]);
            row
        })
        .collect();
    out.push_str(&table(&header, &body));
    more_line(out, open.len(), MAX_INCONCLUSIVE_ROWS, "inconclusive rows");
    out.push('\n');
    out.push_str(
        "Rounds to settle are an estimate: each row's interval at more rounds, read off this run's own spread of \
         per-round changes, until it clears zero with a change of at least the threshold or fits within \
         ±threshold.",
    );
    let settleable: Vec<u32> = open.iter().filter_map(|c| c.unsettled.as_ref()?.rounds_needed).collect();
    if let Some(most) = settleable.iter().max() {
        out.push_str(&format!(
            " About {most} rounds (`--max-rounds {most}`, with the time it takes) would likely settle {} of {}.",
            settleable.len(),
            plural(open.len(), "inconclusive row")
        ));
    }
    out.push_str("\n\n");
}

fn settle_key(c: &Comparison) -> u64 {
    match &c.unsettled {
        Some(u) => u.rounds_needed.map(u64::from).unwrap_or(u64::MAX - 1),
        None => u64::MAX,
    }
}

/// "~120 (~2m30s)", "more than 100000", or "–".
fn settle_cell(c: &Comparison) -> String {
    let Some(u) = &c.unsettled else { return "–".into() };
    match (u.rounds_needed, u.more_than, u.seconds_needed) {
        (Some(k), _, Some(s)) => format!("~{k} ({})", crate::analyze::human_seconds(s)),
        (Some(k), _, None) => format!("~{k}"),
        (None, Some(k), _) => format!("more than {k}"),
        _ => "unknown".into(),
    }
}

/// CPU, memory, threads and counters per request, whatever their verdict:
/// what the change costs or saves per unit of work.
fn resources(out: &mut String, r: &Results) {
    let scenarios = scenario_order(r);
    let rank = |m: &str| RESOURCE_METRICS.iter().position(|x| *x == m).unwrap_or(RESOURCE_METRICS.len());
    let mut rows: Vec<&Comparison> = r.comparisons.iter().filter(|c| is_resource_metric(&c.metric)).collect();
    if rows.is_empty() {
        return;
    }
    // Stable: counters keep their run order after the fixed resource metrics.
    rows.sort_by_key(|c| (scenarios.iter().position(|s| *s == c.scenario), rank(&c.metric)));
    out.push_str("## Resources and counters per request\n\n");
    let with_benchmark = rows.iter().take(MAX_RESOURCE_ROWS).any(|c| c.benchmark != c.scenario);
    let mut header = lead_header(with_benchmark);
    header.extend([
        ("metric", Align::Left),
        ("baseline", Align::Right),
        ("candidate", Align::Right),
        ("delta [95% CI]", Align::Right),
        ("verdict", Align::Left),
        ("notes", Align::Left),
    ]);
    let body: Vec<Vec<String>> = rows
        .iter()
        .take(MAX_RESOURCE_ROWS)
        .map(|c| {
            let mut row = lead_cells(c, with_benchmark);
            row.extend([
                code_cell(&c.metric),
                escape_text(&format_value(c.baseline.median, &c.unit)),
                escape_text(&format_value(c.candidate.median, &c.unit)),
                format_delta(c),
                c.verdict.as_str().to_string(),
                escape_text(&c.notes.join("; ")),
            ]);
            row
        })
        .collect();
    out.push_str(&table(&header, &body));
    more_line(out, rows.len(), MAX_RESOURCE_ROWS, "rows");
    out.push('\n');
}

fn is_resource_metric(metric: &str) -> bool {
    // `generator_*` is perfgate's own load generator, not the target.
    RESOURCE_METRICS.contains(&metric) || (metric.ends_with("_per_request") && !metric.starts_with("generator_"))
}

/// Per profile diff the functions whose cost moved most (by cum: their own
/// time plus their callees'), and where the flame graphs are.
fn profile_movers(out: &mut String, r: &Results) {
    let diffs: Vec<(&ProfileDiff, Vec<&ProfileEntry>)> = r
        .profile_diffs
        .iter()
        .map(|d| {
            let mut top: Vec<&ProfileEntry> = d.top.iter().filter(|e| e.flat != 0.0 || e.cum != 0.0).collect();
            top.sort_by(|a, b| b.cum.abs().total_cmp(&a.cum.abs()).then_with(|| b.flat.abs().total_cmp(&a.flat.abs())));
            top.truncate(PROFILE_MOVERS);
            (d, top)
        })
        .filter(|(_, top)| !top.is_empty())
        .collect();
    if diffs.is_empty() {
        return;
    }
    out.push_str("## Profile movers\n\n");
    for (d, top) in diffs.iter().take(MAX_PROFILE_DIFFS) {
        let sample_type = if d.sample_type.is_empty() || d.sample_type == d.kind {
            String::new()
        } else {
            format!(" ({})", code(&d.sample_type))
        };
        out.push_str(&format!(
            "{} {}{sample_type} profile, candidate − baseline, % of the baseline's total:\n\n",
            code(&d.scenario),
            code(&d.kind)
        ));
        let body: Vec<Vec<String>> = top
            .iter()
            .map(|e| {
                let place =
                    if e.file.is_empty() { String::new() } else { code_cell(&format!("{}:{}", e.file, e.line)) };
                vec![
                    code_cell(&e.function),
                    place,
                    escape_text(&format!("{} ({}%)", format_profile_delta(e.flat, &d.unit), signed(e.flat_pct, 1))),
                    escape_text(&format!("{} ({}%)", format_profile_delta(e.cum, &d.unit), signed(e.cum_pct, 1))),
                ]
            })
            .collect();
        out.push_str(&table(
            &[("function", Align::Left), ("file:line", Align::Left), ("flat", Align::Right), ("cum", Align::Right)],
            &body,
        ));
        let mut graphs: Vec<String> = Vec::new();
        if let Some(f) = &d.flame_graph {
            graphs.push(format!("differential {}", code(f)));
        }
        for p in r.profiles.iter().filter(|p| p.scenario == d.scenario && p.kind == d.kind) {
            if let Some(f) = &p.flame_graph {
                graphs.push(format!("{} {}", p.variant, code(f)));
            }
        }
        if !graphs.is_empty() {
            out.push_str(&format!("\nFlame graphs: {}.\n", graphs.join(", ")));
        }
        out.push('\n');
    }
    if diffs.len() > MAX_PROFILE_DIFFS {
        out.push_str(&format!("… and {} more profile diffs in `results.json`.\n\n", diffs.len() - MAX_PROFILE_DIFFS));
    }
}

fn warnings(out: &mut String, r: &Results) {
    if r.warnings.is_empty() {
        return;
    }
    out.push_str("## Warnings\n\n");
    for w in r.warnings.iter().take(MAX_LIST_ITEMS) {
        out.push_str(&format!("- {}\n", code(w)));
    }
    more_line(out, r.warnings.len(), MAX_LIST_ITEMS, "warnings");
    out.push('\n');
}

/// Change points and drifts found in the nightly history (at most
/// `MAX_LIST_ITEMS` each), and where the trend report is.
fn nightly(out: &mut String, r: &Results) {
    let Some(n) = &r.nightly else {
        return;
    };
    out.push_str(
        "## Nightly

",
    );
    let short = |c: &str| c.get(..10).unwrap_or(c).to_string();
    match &n.previous {
        Some(p) => out.push_str(&format!(
            "Night {} of this history: tonight ran interleaved against the previous nightly, {} at {} ({}).\n\n",
            n.nights,
            code(&p.revision),
            code(&short(&p.commit)),
            escape_text(&p.started_at)
        )),
        None => out.push_str(&format!(
            "Night {}: the first for these scenarios, recorded without a baseline (nothing to compare with yet).\n\n",
            n.nights
        )),
    }
    if n.drifts.is_empty() {
        out.push_str("Drift over the recent nights: none significant.\n\n");
    } else {
        out.push_str("Drift over the recent nights (night-to-night paired changes, chained):\n\n");
        for d in n.drifts.iter().take(MAX_LIST_ITEMS) {
            out.push_str(&format!(
                "- {}{} {} over {} nights ({}..{}): {}% [{}, {}]{}\n",
                code(&d.scenario),
                if d.benchmark == d.scenario { String::new() } else { format!(" {}", code(&d.benchmark)) },
                code(&d.metric),
                d.nights,
                code(&short(&d.from_commit)),
                code(&short(&d.to_commit)),
                super::format::signed(d.change_pct, 1),
                super::format::signed(d.ci_low_pct, 1),
                super::format::signed(d.ci_high_pct, 1),
                if d.regressed { " — **regressed**" } else { " — improved" }
            ));
        }
        more_line(out, n.drifts.len(), MAX_LIST_ITEMS, "drifts");
        out.push('\n');
    }
    if n.change_points.is_empty() {
        out.push_str("Change points in the recent nights: none.\n\n");
    } else {
        out.push_str("Change points in the recent nights:\n\n");
        for c in n.change_points.iter().take(MAX_LIST_ITEMS) {
            out.push_str(&format!(
                "- {}{} {}: {} → {} ({}%, p {:.1e}) between {}..{}{}\n",
                code(&c.scenario),
                if c.benchmark == c.scenario { String::new() } else { format!(" {}", code(&c.benchmark)) },
                code(&c.metric),
                super::format::format_value(c.before, &c.unit),
                super::format::format_value(c.after, &c.unit),
                super::format::signed(c.magnitude_pct, 1),
                c.p_value,
                code(&short(&c.from_commit)),
                code(&short(&c.to_commit)),
                if c.regressed { " — **worse**" } else { " — better" }
            ));
        }
        more_line(out, n.change_points.len(), MAX_LIST_ITEMS, "change points");
        out.push('\n');
    }
    out.push_str(&format!("Trend across all nights: {}.\n\n", code(&n.trend)));
}

/// The exact command, the seed that fixes the order of rounds, and what
/// each variant was, so the numbers can be checked by running them again.
fn reproduce(out: &mut String, r: &Results) {
    out.push_str("## Reproduce\n\n");
    if !r.run.command.is_empty() {
        let fence = "`".repeat(longest_run(&r.run.command, '`').max(2) + 1);
        out.push_str(&format!("{fence}sh\n{}\n{fence}\n\n", r.run.command.trim_end()));
    }
    let mut seed = format!("Seed `{}` (the randomized order of rounds", r.run.seed);
    if !r.run.command.contains("--seed") {
        seed.push_str(&format!("; add `--seed {}` to repeat it", r.run.seed));
    }
    seed.push_str(").");
    for v in &r.variants {
        let short = v.commit.get(..12).unwrap_or(&v.commit);
        seed.push_str(&format!(" {}: {} at commit {}", capitalized(v.role.as_str()), code(&v.rev), code(short)));
        if let Some(p) = &v.patch {
            seed.push_str(&format!(" + patch {}", code(p)));
        }
        seed.push('.');
    }
    out.push_str(&seed);
    out.push('\n');
    let e = &r.environment;
    let mut machine = format!("{} {}", escape_text(&r.tool.name), escape_text(&r.tool.version));
    let facts: Vec<String> = [
        e.os.clone(),
        e.kernel.clone(),
        e.cpu_model.clone(),
        if e.cores > 0 { plural(e.cores, "core") } else { String::new() },
        if e.memory_bytes > 0 { format_value(e.memory_bytes as f64, "B") } else { String::new() },
    ]
    .into_iter()
    .filter(|f| !f.is_empty())
    .map(|f| escape_text(&f))
    .collect();
    if !facts.is_empty() {
        machine.push_str(&format!(" on {}", facts.join(", ")));
    }
    out.push_str(&format!("\nMeasured with {machine}.\n"));
}

/// Up to `cap` rows taken in turns from each scenario's biggest changes, so a
/// scenario with many benchmarks cannot crowd the others out; within a
/// scenario, in turns across its metrics too (a Go package's `ns/op` should
/// not vanish behind its `allocs/op`). Returned by scenario (run order), then
/// |delta| descending.
fn pick_across_scenarios<'a>(rows: &[&'a Comparison], scenarios: &[&str], cap: usize) -> Vec<&'a Comparison> {
    let by_size = |a: &&Comparison, b: &&Comparison| b.delta_pct.abs().total_cmp(&a.delta_pct.abs());
    let mut groups: Vec<Vec<&Comparison>> = scenarios
        .iter()
        .map(|s| {
            let mut g: Vec<&Comparison> = rows.iter().copied().filter(|c| c.scenario == *s).collect();
            g.sort_by(by_size);
            // Each row's rank within its metric: the first of every metric comes first.
            let mut seen: Vec<(&str, usize)> = Vec::new();
            let mut ranked: Vec<(usize, &Comparison)> = g
                .into_iter()
                .map(|c| {
                    let rank = match seen.iter_mut().find(|(m, _)| *m == c.metric) {
                        Some((_, k)) => {
                            *k += 1;
                            *k
                        }
                        None => {
                            seen.push((&c.metric, 0));
                            0
                        }
                    };
                    (rank, c)
                })
                .collect();
            ranked.sort_by_key(|(rank, _)| *rank);
            ranked.into_iter().map(|(_, c)| c).collect()
        })
        .collect();
    let mut taken = vec![0usize; groups.len()];
    let mut left = cap.min(rows.len());
    while left > 0 {
        for (i, g) in groups.iter().enumerate() {
            if left > 0 && taken[i] < g.len() {
                taken[i] += 1;
                left -= 1;
            }
        }
    }
    groups
        .iter_mut()
        .zip(taken)
        .flat_map(|(g, k)| {
            let mut shown: Vec<&Comparison> = g.drain(..k).collect();
            shown.sort_by(by_size);
            shown
        })
        .collect()
}

/// Scenarios in the order they first appear in the comparisons (run order).
fn scenario_order(r: &Results) -> Vec<&str> {
    let mut order: Vec<&str> = Vec::new();
    for c in &r.comparisons {
        if !order.contains(&c.scenario.as_str()) {
            order.push(&c.scenario);
        }
    }
    order
}

fn with_interval(median: f64, lo: Option<f64>, hi: Option<f64>, unit: &str) -> String {
    format!("{} {}", format_value(median, unit), format_ci_halfwidth(median, lo, hi))
}

/// p- and q-values: three decimals, as the terminal table shows them.
fn format_p(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "–".into(),
    }
}

/// Sample sizes, baseline/candidate, or one number when they agree.
fn sizes(c: &Comparison) -> String {
    if c.baseline.n == c.candidate.n { c.baseline.n.to_string() } else { format!("{}/{}", c.baseline.n, c.candidate.n) }
}

fn more_line(out: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        out.push_str(&format!("\n… and {} more {what} in `results.json`.\n", total - shown));
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|f| f.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// `2` for 2.0, `2.5` for 2.5: thresholds as the user wrote them.
fn short_number(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Clone, Copy)]
pub(super) enum Align {
    Left,
    Right,
}

/// The columns every comparison table starts with: the scenario, and the
/// benchmark when some row's differs from its scenario.
fn lead_header(with_benchmark: bool) -> Vec<(&'static str, Align)> {
    let mut header = vec![("scenario", Align::Left)];
    if with_benchmark {
        header.push(("benchmark", Align::Left));
    }
    header
}

fn lead_cells(c: &Comparison, with_benchmark: bool) -> Vec<String> {
    let mut row = vec![code_cell(&c.scenario)];
    if with_benchmark {
        row.push(if c.benchmark == c.scenario { String::new() } else { code_cell(&c.benchmark) });
    }
    row
}

/// A GitHub-flavored Markdown table; cells must already be escaped.
pub(super) fn table(header: &[(&str, Align)], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::from("|");
        for c in cells {
            l.push(' ');
            l.push_str(c);
            l.push_str(" |");
        }
        l.push('\n');
        l
    };
    out.push_str(&line(&mut header.iter().map(|(h, _)| *h)));
    out.push_str(&line(&mut header.iter().map(|(_, a)| match a {
        Align::Left => "---",
        Align::Right => "--:",
    })));
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

/// Text from outside (names, messages) as an inline code span: nothing in
/// it is read as Markdown or HTML, and GitHub does not turn `@name` or `#12`
/// inside code into mentions or links.
pub(super) fn code(s: &str) -> String {
    let s: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if s.is_empty() {
        return String::new();
    }
    let fence = "`".repeat(longest_run(&s, '`') + 1);
    // CommonMark strips one space on each side when both are there, and a
    // backtick at an edge would merge with the fence: pad in those cases.
    let pad = s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' '));
    if pad { format!("{fence} {s} {fence}") } else { format!("{fence}{s}{fence}") }
}

/// [`code`] for a table cell: GFM splits cells at `|` even inside code
/// spans, unless it is escaped (and then shows it without the backslash).
pub(super) fn code_cell(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// Plain text from outside (units, environment) with every character that
/// Markdown, GFM or GitHub's HTML would act on backslash-escaped, and line
/// breaks flattened so a table row stays one row.
pub(super) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push(' ');
            continue;
        }
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '#' | '!' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        run = if c == ch { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Better;
    use crate::results::{
        Environment, Failure, Profile, ProfileDiff, ProfileEntry, Run, Sample, ThresholdCheck, VariantInfo,
    };
    use crate::stats::CompareConfig;

    /// Eight interleaved rounds of one metric: the baseline around `base`,
    /// the candidate around `base · (1 + shift)`, with ±`noise` (relative)
    /// round-to-round wobble that differs between the sides.
    fn series(
        scenario: &str,
        benchmark: &str,
        metric: &str,
        unit: &str,
        base: f64,
        shift: f64,
        noise: f64,
    ) -> Vec<Sample> {
        let wobble = [0.3, -0.8, 0.5, -0.2, 0.9, -0.6, 0.1, -0.4];
        let mut out = Vec::new();
        for round in 1..=8u32 {
            let w = wobble[round as usize - 1];
            let w2 = wobble[(round as usize + 3) % 8];
            for (variant, value) in [
                (Role::Baseline, base * (1.0 + noise * w)),
                (Role::Candidate, base * (1.0 + shift) * (1.0 + noise * w2)),
            ] {
                out.push(Sample {
                    scenario: scenario.into(),
                    benchmark: benchmark.into(),
                    metric: metric.into(),
                    unit: unit.into(),
                    better: Better::Lower,
                    variant,
                    round,
                    value,
                });
            }
        }
        out
    }

    fn results_from(samples: Vec<Sample>) -> Results {
        let analysis = crate::analyze::analyze(&samples, &CompareConfig::default());
        let variant = |role, rev: &str, commit: &str, patch: Option<&str>| VariantInfo {
            role,
            rev: rev.into(),
            commit: commit.into(),
            tree: "t".into(),
            patch: patch.map(Into::into),
        };
        let run =
            Run { command: "perfgate compare --scenario scenarios/demo.toml".into(), seed: 4242, ..Run::example() };
        Results {
            samples,
            comparisons: analysis.comparisons,
            geomeans: analysis.geomeans,
            noise_floors: analysis.noise_floors,
            warnings: analysis.warnings,
            ..Results::new(
                run,
                Environment { os: "linux".into(), cores: 2, ..Environment::default() },
                vec![
                    variant(Role::Baseline, "HEAD", "0123456789abcdef0123", None),
                    variant(Role::Candidate, "HEAD + fix.patch", "fedcba9876543210fedc", Some("fix.patch")),
                ],
            )
        }
    }

    /// One row of each verdict, plus service resources and a counter.
    fn mixed() -> Results {
        let mut s = Vec::new();
        s.extend(series("bench", "Fast-2", "ns/op", "ns/op", 1000.0, -0.40, 0.01)); // improved
        s.extend(series("bench", "Slow-2", "ns/op", "ns/op", 1000.0, 0.50, 0.01)); // regressed
        s.extend(series("bench", "Same-2", "ns/op", "ns/op", 1000.0, 0.0, 0.001)); // unchanged
        s.extend(series("bench", "Noisy-2", "ns/op", "ns/op", 1000.0, 0.04, 0.20)); // inconclusive
        s.extend(series("svc", "svc", "cpu_per_request", "s", 0.004, -0.30, 0.02));
        s.extend(series("svc", "svc", "rss_peak", "B", 40e6, 0.0, 0.001));
        s.extend(series("svc", "svc", "db_queries_per_request", "queries/req", 13.0, -0.846, 0.0));
        s.extend(series("svc", "svc", "generator_cpu_per_request", "s", 0.001, 0.0, 0.001));
        results_from(s)
    }

    fn verdict_of(r: &Results, benchmark: &str, metric: &str) -> Verdict {
        r.comparisons.iter().find(|c| c.benchmark == benchmark && c.metric == metric).unwrap().verdict
    }

    /// Cells of a table row, split at unescaped pipes as GFM does.
    fn cells(line: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut escaped = false;
        for ch in line.trim().trim_start_matches('|').chars() {
            if ch == '|' && !escaped {
                cells.push(String::new());
            } else {
                cells.last_mut().unwrap().push(ch);
            }
            escaped = ch == '\\' && !escaped;
        }
        if cells.last().is_some_and(|c| c.trim().is_empty()) {
            cells.pop();
        }
        cells
    }

    #[test]
    fn fixture_covers_every_verdict() {
        let r = mixed();
        assert_eq!(verdict_of(&r, "Fast-2", "ns/op"), Verdict::Improved);
        assert_eq!(verdict_of(&r, "Slow-2", "ns/op"), Verdict::Regressed);
        assert_eq!(verdict_of(&r, "Same-2", "ns/op"), Verdict::Unchanged);
        assert_eq!(verdict_of(&r, "Noisy-2", "ns/op"), Verdict::Inconclusive);
    }

    #[test]
    fn verdict_line_counts_match_the_comparisons() {
        let r = mixed();
        let brief = render(&r);
        let first = brief.lines().next().unwrap();
        let count = |v: Verdict| r.comparisons.iter().filter(|c| c.verdict == v).count();
        let expected = format!(
            "**perfgate: {} improved, {} regressed, {} unchanged, {} inconclusive**",
            count(Verdict::Improved),
            count(Verdict::Regressed),
            count(Verdict::Unchanged),
            count(Verdict::Inconclusive)
        );
        assert!(first.starts_with(&expected), "{first}");
        assert!(first.contains("candidate `HEAD + fix.patch` vs baseline `HEAD`, 8 rounds, threshold 2%"), "{first}");
        assert!(!first.contains("failed") && !first.contains("interrupted"), "{first}");
    }

    #[test]
    fn verdict_line_says_what_went_wrong() {
        let mut r = mixed();
        r.run.status = "interrupted".into();
        r.thresholds.push(ThresholdCheck {
            scenario: "svc".into(),
            variant: Role::Candidate,
            expr: "p99 < 50ms".into(),
            metric: "latency_p99".into(),
            unit: "s".into(),
            observed: Some(0.0678),
            passed: false,
        });
        r.failures.push(Failure {
            scenario: "svc".into(),
            variant: Role::Baseline,
            round: 3,
            message: "target exited with status 2\nlog tail...".into(),
        });
        let brief = render(&r);
        let first = brief.lines().next().unwrap();
        assert!(first.contains("**run interrupted**"), "{first}");
        assert!(first.contains("**1 threshold failed**") && first.contains("**1 round failed**"), "{first}");
        assert!(brief.contains("- `svc` candidate: `p99 < 50ms` — observed 67.80ms"), "{brief}");
        assert!(brief.contains("- `svc` baseline round 3: `target exited with status 2`"), "{brief}");
        assert!(!brief.contains("log tail"), "{brief}");
    }

    #[test]
    fn changes_table_quotes_deltas_with_intervals() {
        let r = mixed();
        let brief = render(&r);
        for (benchmark, heading) in [("Fast-2", "### Improved ("), ("Slow-2", "### Regressed (")] {
            let c = r.comparisons.iter().find(|c| c.benchmark == benchmark).unwrap();
            let row = brief.lines().find(|l| l.contains(&format!("`{benchmark}`"))).unwrap();
            let expected_delta = format_delta(c);
            assert!(expected_delta.contains('[') && !expected_delta.contains('∞'), "{expected_delta}");
            let cells = cells(row);
            assert_eq!(cells.len(), 9, "{row}");
            assert_eq!(cells[0].trim(), "`bench`");
            assert_eq!(cells[2].trim(), "`ns/op`");
            assert_eq!(cells[5].trim(), expected_delta, "{row}");
            assert_eq!(cells[6].trim(), format_p(c.p_value));
            assert_eq!(cells[7].trim(), format_p(c.q_value));
            assert_eq!(cells[8].trim(), "8");
            assert!(brief.contains(heading), "{brief}");
        }
        // Regressions come before improvements; unchanged rows are not "changes".
        assert!(brief.find("### Regressed").unwrap() < brief.find("### Improved").unwrap());
        let changes = &brief[brief.find("## Changes").unwrap()..brief.find("## Noise").unwrap()];
        assert!(!changes.contains("Same-2") && !changes.contains("Noisy-2"), "{changes}");
    }

    #[test]
    fn benchmark_column_only_when_it_says_something() {
        let mut s = series("svc", "svc", "cpu_per_request", "s", 0.004, -0.30, 0.02);
        s.extend(series("svc", "svc", "latency_p99", "s", 0.1, -0.30, 0.02));
        let brief = render(&results_from(s));
        let header = brief.lines().find(|l| l.starts_with("| scenario | metric | baseline")).unwrap();
        assert!(!header.contains("benchmark"), "{brief}");
    }

    #[test]
    fn resources_table_lists_resources_and_counters_whatever_their_verdict() {
        let r = mixed();
        let brief = render(&r);
        let section = &brief[brief.find("## Resources").unwrap()..brief.find("## Reproduce").unwrap()];
        let metrics: Vec<String> =
            section.lines().filter(|l| l.starts_with("| `")).map(|l| cells(l)[1].trim().to_string()).collect();
        assert_eq!(metrics, ["`cpu_per_request`", "`rss_peak`", "`db_queries_per_request`"], "{section}");
        assert!(section.contains("| unchanged |"), "{section}");
        assert!(section.contains("13 queries/req"), "{section}");
    }

    #[test]
    fn inconclusive_rows_carry_a_rounds_estimate() {
        let r = mixed();
        let brief = render(&r);
        let row = brief.lines().find(|l| l.contains("`Noisy-2`") && l.starts_with('|')).unwrap();
        let c = r.comparisons.iter().find(|c| c.benchmark == "Noisy-2").unwrap();
        let u = c.unsettled.as_ref().expect("analysis says what an open row needs");
        assert!(u.rounds_needed.is_some_and(|k| k > 8) || u.more_than.is_some(), "{u:?}");
        assert_eq!(cells(row).last().unwrap().trim(), settle_cell(c), "{row}");
        assert!(brief.contains("Rounds to settle are an estimate"), "{brief}");
        assert!(brief.contains("| `bench` | 4 |"), "noise floor per scenario: {brief}");
    }

    #[test]
    fn code_spans_and_text_are_escaped() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`edge`"), "`` `edge` ``");
        assert_eq!(code(" both "), "`  both  `");
        assert_eq!(code("two\nlines"), "`two lines`");
        assert_eq!(code(""), "");
        assert_eq!(code_cell("a|b"), "`a\\|b`");
        assert_eq!(
            escape_text("<b>&amp; *x* _y_ [l](u) a|b `c` $m$ \\"),
            "\\<b\\>\\&amp; \\*x\\* \\_y\\_ \\[l\\](u) a\\|b \\`c\\` \\$m\\$ \\\\"
        );
        assert_eq!(escape_text("12.5MiB ±3%"), "12.5MiB ±3%");
    }

    #[test]
    fn names_from_outside_render_as_text() {
        let mut s = series("bench", "<script>alert(1)</script>", "ns/op", "ns/op", 1000.0, -0.40, 0.01);
        s.extend(series("bench", "a|b", "ns/op", "ns/op", 1000.0, -0.30, 0.01));
        s.extend(series("bench", "tick`s`", "ns/op", "ns/op", 1000.0, -0.35, 0.01));
        s.extend(series("bench", "@org/team #12", "<img src=x>", "*bold*|u", 1000.0, -0.25, 0.01));
        let mut r = results_from(s);
        r.warnings.push("bench: <b>loud</b> | [link](http://x)".into());
        r.profile_diffs.push(ProfileDiff {
            scenario: "bench".into(),
            kind: "cpu".into(),
            sample_type: "cpu".into(),
            unit: "nanoseconds".into(),
            baseline_total: 2e9,
            top: vec![ProfileEntry {
                function: "main.(*T).<lambda>|x".into(),
                file: "a|b.go".into(),
                line: 7,
                flat: -1e7,
                flat_pct: -0.5,
                cum: -1.5e9,
                cum_pct: -75.0,
            }],
            flame_graph: Some("profiles/bench-cpu-diff.svg".into()),
        });
        let brief = render(&r);
        // Every `<` from outside sits in a code span or is backslash-escaped.
        assert_eq!(brief.matches("<script>").count(), brief.matches("`<script>alert(1)</script>`").count(), "{brief}");
        assert!(!brief.contains("<img") || brief.contains("`<img src=x>`"), "{brief}");
        assert!(brief.contains("\\*bold\\*\\|u"), "unit in a value cell: {brief}");
        assert!(brief.contains("`a\\|b`") && brief.contains("`` tick`s` ``"), "{brief}");
        assert!(brief.contains("`@org/team #12`"), "{brief}");
        assert!(brief.contains("- `bench: <b>loud</b> | [link](http://x)`"), "{brief}");
        // Every table row has as many cells as its header.
        let mut width = 0;
        for line in brief.lines() {
            if !line.starts_with('|') {
                width = 0;
                continue;
            }
            if width == 0 {
                width = cells(line).len();
            }
            assert_eq!(cells(line).len(), width, "{line}");
        }
        let mover = brief.lines().find(|l| l.contains("lambda")).unwrap();
        assert_eq!(cells(mover)[0].trim(), "`main.(*T).<lambda>\\|x`");
        assert_eq!(cells(mover)[1].trim(), "`a\\|b.go:7`");
        assert_eq!(cells(mover)[3].trim(), "-1.50s (-75.0%)");
        assert!(brief.contains("Flame graphs: differential `profiles/bench-cpu-diff.svg`."), "{brief}");
    }

    #[test]
    fn stays_short_with_a_thousand_comparisons() {
        let mut s = Vec::new();
        for i in 0..1000 {
            let (scenario, shift, noise) = match i % 4 {
                0 => ("bench-a", -0.3, 0.01),
                1 => ("bench-b", 0.3, 0.01),
                2 => ("bench-c", 0.03, 0.3),
                _ => ("svc", 0.0, 0.001),
            };
            let metric = if scenario == "svc" { format!("c{i}_per_request") } else { "ns/op".to_string() };
            s.extend(series(scenario, &format!("B{i}"), &metric, "ns/op", 1000.0 + i as f64, shift, noise));
        }
        let mut r = results_from(s);
        assert_eq!(r.comparisons.len(), 1000);
        for i in 0..20 {
            r.warnings.push(format!("warning {i}"));
            r.failures.push(Failure {
                scenario: "svc".into(),
                variant: Role::Candidate,
                round: i,
                message: "x".into(),
            });
            r.thresholds.push(ThresholdCheck {
                scenario: "svc".into(),
                variant: Role::Candidate,
                expr: "p99 < 1ms".into(),
                metric: "latency_p99".into(),
                unit: "s".into(),
                observed: Some(1.0),
                passed: false,
            });
        }
        let entry = |i: u32| ProfileEntry {
            function: format!("f{i}"),
            file: "f.go".into(),
            line: i,
            flat: 1e6 * i as f64,
            flat_pct: 1.0,
            cum: 1e7 * i as f64,
            cum_pct: 2.0,
        };
        for scenario in ["bench-a", "bench-b", "svc"] {
            r.profile_diffs.push(ProfileDiff {
                scenario: scenario.into(),
                kind: "cpu".into(),
                sample_type: "cpu".into(),
                unit: "nanoseconds".into(),
                baseline_total: 1e9,
                top: (1..=20).map(entry).collect(),
                flame_graph: Some("d.svg".into()),
            });
            for variant in [Role::Baseline, Role::Candidate] {
                r.profiles.push(Profile {
                    scenario: scenario.into(),
                    variant,
                    kind: "cpu".into(),
                    path: "p.pb.gz".into(),
                    top: Vec::new(),
                    sample_type: "cpu".into(),
                    unit: "nanoseconds".into(),
                    total: 1e9,
                    flame_graph: Some(format!("{scenario}-{variant}.svg")),
                });
            }
        }
        let brief = render(&r);
        let lines = brief.lines().count();
        assert!(lines < 200, "{lines} lines:\n{brief}");
        // Every scenario with changes is represented despite the cap.
        let improved = &brief[brief.find("### Improved").unwrap()..brief.find("## Noise").unwrap()];
        assert!(improved.contains("`bench-a`"), "{improved}");
        assert!(brief.contains("- `bench-a` (250 benchmarks): `ns/op` -30.0%\n"), "{brief}");
        assert!(brief.contains("more improved rows in `results.json`"), "{brief}");
        assert!(brief.contains("more regressed rows in `results.json`"), "{brief}");
        assert!(brief.contains("… and 15 more warnings in `results.json`."), "{brief}");
        assert!(brief.contains("… and 1 more profile diffs in `results.json`."), "{brief}");
    }

    #[test]
    fn reproduce_gives_command_seed_and_variants() {
        let mut r = mixed();
        r.run.command = "perfgate compare --scenario `odd`.toml".into();
        let brief = render(&r);
        let section = &brief[brief.find("## Reproduce").unwrap()..];
        assert!(section.contains("```sh\nperfgate compare --scenario `odd`.toml\n```\n"), "{section}");
        assert!(section.contains("add `--seed 4242` to repeat it"), "{section}");
        assert!(section.contains("Baseline: `HEAD` at commit `0123456789ab`."), "{section}");
        assert!(
            section.contains("Candidate: `HEAD + fix.patch` at commit `fedcba987654` + patch `fix.patch`."),
            "{section}"
        );
        assert!(brief.ends_with(".\n") && !brief.ends_with("\n\n"), "{brief:?}");
    }

    /// Renders a real results.json for checking by eye:
    /// `PERFGATE_BRIEF_RESULTS=reports/latest/results.json cargo test --lib brief -- --nocapture`.
    #[test]
    fn renders_results_file_from_env() {
        let Some(path) = std::env::var_os("PERFGATE_BRIEF_RESULTS") else { return };
        let results = crate::report::json::read_results(std::path::Path::new(&path)).unwrap();
        let brief = render(&results);
        println!("{brief}");
        assert!(brief.lines().count() < 200);
    }

    /// Found by `cargo fuzz run results`: a crafted results.json whose noise
    /// floor claims more metrics with an MDE than it has made the brief
    /// subtract past zero (a panic in debug builds).
    #[test]
    fn fuzz_noise_floor_counts_cannot_underflow() {
        let text = include_str!("../../tests/fixtures/fuzz/brief-noise-floor-sub-overflow.json");
        let results: crate::results::Results = serde_json::from_str(text).unwrap();
        let brief = render(&results);
        assert!(!brief.contains("18446744073709551615"), "{brief}");
    }
}
