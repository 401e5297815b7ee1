//! Terminal report: one table per scenario (comfy-table), verdicts colored
//! unless NO_COLOR is set or stdout is not a terminal, and noise warnings
//! printed next to the rows they concern. Rendered from `Results` only.

use super::format::{format_ci_halfwidth, format_delta, format_value};
use crate::model::Verdict;
use crate::results::{Comparison, Results};
use comfy_table::{Cell, CellAlignment, Color, Table, presets};

/// Whether to color output: a terminal, and NO_COLOR unset (no-color.org).
pub fn color_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

pub fn render(results: &Results, color: bool) -> String {
    // Names and messages come from the code under test: escape sequences in
    // them (OSC 52 clipboard writes, cursor moves) must not reach the terminal.
    let cleaned = without_control_characters(results);
    let results = cleaned.as_ref().unwrap_or(results);
    let mut out = String::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for c in &results.comparisons {
        if !scenarios.contains(&c.scenario.as_str()) {
            scenarios.push(&c.scenario);
        }
    }
    let mut measured_only: Vec<&str> = Vec::new();
    for s in &results.samples {
        if !scenarios.contains(&s.scenario.as_str()) && !measured_only.contains(&s.scenario.as_str()) {
            measured_only.push(&s.scenario);
        }
    }
    for v in &results.variants {
        let short = v.commit.get(..12).unwrap_or(&v.commit);
        out.push_str(&format!("{:<9}  {}  (commit {short})\n", v.role, v.rev));
    }
    out.push('\n');
    for scenario in scenarios {
        // A statement's own rows are the database block's to show.
        let rows: Vec<&Comparison> = results
            .comparisons
            .iter()
            .filter(|c| c.scenario == scenario && !c.benchmark.starts_with(crate::workload::database::STATEMENT_PREFIX))
            .collect();
        out.push_str(&format!("scenario {scenario}\n"));
        out.push_str(&table(&rows, color));
        out.push('\n');
        out.push_str(&open_rows(&rows));
        for g in results.geomeans.iter().filter(|g| g.scenario == scenario) {
            out.push_str(&format!(
                "  geomean {:<12} {} → {}  {}%  ({} benchmarks)\n",
                g.metric,
                format_value(g.baseline, &g.unit),
                format_value(g.candidate, &g.unit),
                super::format::signed(g.delta_pct, 2),
                g.benchmarks
            ));
        }
        out.push('\n');
        out.push_str(&super::database::terminal(results, scenario));
        for d in results.profile_diffs.iter().filter(|d| d.scenario == scenario) {
            out.push_str(&profile_movers(d));
        }
    }
    for scenario in measured_only {
        out.push_str(&format!("scenario {scenario} (measured without a baseline)\n"));
        out.push_str(&measured_table(&super::measured(results, scenario), color));
        out.push_str("\n\n");
        out.push_str(&super::database::terminal(results, scenario));
    }
    if !results.thresholds.is_empty() {
        out.push_str("thresholds:\n");
        for t in &results.thresholds {
            let observed = match t.observed {
                Some(v) => format_value(v, &t.unit),
                None => "not measured".into(),
            };
            let verdict = if t.passed { "pass" } else { "FAIL" };
            out.push_str(&format!(
                "  {verdict}  {:<9} {}: {}  (observed {observed})\n",
                t.variant.as_str(),
                t.scenario,
                t.expr
            ));
        }
        out.push('\n');
    }
    if !results.failures.is_empty() {
        out.push_str("failed trials:\n");
        for f in &results.failures {
            let first = f.message.lines().next().unwrap_or("");
            out.push_str(&format!("  {} {} round {}: {first}\n", f.scenario, f.variant, f.round));
        }
        out.push('\n');
    }
    for w in &results.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    if let Some(line) = super::format::stop_sentence(results) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&summary_line(results));
    out.push('\n');
    out
}

/// Open judged rows shown with why they are open.
const OPEN_ROWS: usize = 6;

/// Each open judged row's reason: the interval it reached (the noise) and
/// the rounds it would need (the budget). Open rows that are not judged
/// are counted; brief.md and report.html give their reasons too.
fn open_rows(rows: &[&Comparison]) -> String {
    let open: Vec<&&Comparison> = rows.iter().filter(|c| c.unsettled.is_some()).collect();
    let judged: Vec<&&&Comparison> = open.iter().filter(|c| c.judged).collect();
    let mut out = String::new();
    for c in judged.iter().take(OPEN_ROWS) {
        let Some(u) = &c.unsettled else { continue };
        let name = if c.benchmark == c.scenario { c.metric.clone() } else { format!("{} {}", c.benchmark, c.metric) };
        out.push_str(&format!("  open {name}: {}\n", u.why));
    }
    if judged.len() > OPEN_ROWS {
        out.push_str(&format!("  … and {} more open judged rows (brief.md lists them)\n", judged.len() - OPEN_ROWS));
    }
    let others = open.len() - judged.len();
    if others > 0 {
        out.push_str(&format!(
            "  {others} more open row(s) not judged (they never hold a run open); brief.md and report.html say what each would need\n"
        ));
    }
    out
}

/// The five functions whose cost moved most (by cum: their own time plus
/// their callees'), with their flat change and hottest file:line.
fn profile_movers(d: &crate::results::ProfileDiff) -> String {
    let mut rows: Vec<&crate::results::ProfileEntry> = d.top.iter().filter(|e| e.flat != 0.0 || e.cum != 0.0).collect();
    rows.sort_by(|a, b| b.cum.abs().total_cmp(&a.cum.abs()).then_with(|| b.flat.abs().total_cmp(&a.flat.abs())));
    if rows.is_empty() {
        return format!("  profile {} ({}): no function's cost moved between the variants\n\n", d.kind, d.sample_type);
    }
    let mut out = format!(
        "  profile {} ({}): biggest movers, candidate − baseline, % of the baseline's total\n  {:>10} {:>8} {:>10} {:>8}  function\n",
        d.kind, d.sample_type, "cum", "", "flat", ""
    );
    let label = |v: f64| super::format::format_profile_delta(v, &d.unit);
    for e in rows.iter().take(5) {
        let place = if e.file.is_empty() { String::new() } else { format!("  {}:{}", e.file, e.line) };
        out.push_str(&format!(
            "  {:>10} {:>+7.1}% {:>10} {:>+7.1}%  {}{place}\n",
            label(e.cum),
            e.cum_pct,
            label(e.flat),
            e.flat_pct,
            e.function
        ));
    }
    if let Some(f) = &d.flame_graph {
        out.push_str(&format!("  differential flame graph: {f}\n"));
    }
    out.push('\n');
    out
}

/// Medians of metrics with nothing to compare them with.
fn measured_table(rows: &[&crate::results::Measured], color: bool) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(vec!["benchmark", "metric", "variant", "median", "min – max", "n", "CV"]);
    for m in rows {
        let s = &m.summary;
        t.add_row(vec![
            Cell::new(&m.benchmark),
            Cell::new(&m.metric),
            Cell::new(m.variant.as_str()),
            Cell::new(format!(
                "{} {}",
                format_value(s.median, &m.unit),
                format_ci_halfwidth(s.median, s.ci_low, s.ci_high)
            ))
            .set_alignment(CellAlignment::Right),
            Cell::new(format!("{} – {}", format_value(s.min, &m.unit), format_value(s.max, &m.unit)))
                .set_alignment(CellAlignment::Right),
            Cell::new(s.n).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.1}%", s.cv * 100.0)).set_alignment(CellAlignment::Right),
        ]);
    }
    t.to_string()
}

fn table(rows: &[&Comparison], color: bool) -> String {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(vec!["benchmark", "metric", "baseline", "candidate", "delta (95% CI)", "p / q", "verdict", "notes"]);
    for c in rows {
        let base = format!(
            "{} {}",
            format_value(c.baseline.median, &c.unit),
            format_ci_halfwidth(c.baseline.median, c.baseline.ci_low, c.baseline.ci_high)
        );
        let cand = format!(
            "{} {}",
            format_value(c.candidate.median, &c.unit),
            format_ci_halfwidth(c.candidate.median, c.candidate.ci_low, c.candidate.ci_high)
        );
        let p = match (c.p_value, c.q_value) {
            (Some(p), Some(q)) => format!("{p:.3} / {q:.3}"),
            (Some(p), None) => format!("{p:.3}"),
            _ => "-".into(),
        };
        let mut verdict = Cell::new(c.verdict.as_str());
        if color {
            verdict = match c.verdict {
                Verdict::Improved => verdict.fg(Color::Green),
                Verdict::Regressed => verdict.fg(Color::Red),
                Verdict::Inconclusive => verdict.fg(Color::Yellow),
                Verdict::Unchanged => verdict,
            };
        }
        t.add_row(vec![
            Cell::new(&c.benchmark),
            Cell::new(&c.metric),
            Cell::new(base).set_alignment(CellAlignment::Right),
            Cell::new(cand).set_alignment(CellAlignment::Right),
            Cell::new(format_delta(c)).set_alignment(CellAlignment::Right),
            Cell::new(p),
            verdict,
            Cell::new(c.notes.join("; ")),
        ]);
    }
    t.to_string()
}

pub fn summary_line(results: &Results) -> String {
    if results.comparisons.is_empty() && results.variants.len() == 1 {
        let v = &results.variants[0];
        let metrics = results
            .samples
            .iter()
            .map(|s| (&s.scenario, &s.benchmark, &s.metric))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let mut line = format!(
            "{} measured alone: {metrics} metric(s), nothing compared ({} round(s), seed {})",
            v.rev, results.run.rounds, results.run.seed
        );
        let failed = results.thresholds.iter().filter(|t| !t.passed).count();
        if failed > 0 {
            line.push_str(&format!(" — {failed} threshold(s) failed"));
        }
        return line;
    }
    let count = |v: Verdict| results.comparisons.iter().filter(|c| c.verdict == v).count();
    let mut line = format!(
        "{} improved, {} regressed, {} unchanged, {} inconclusive",
        count(Verdict::Improved),
        count(Verdict::Regressed),
        count(Verdict::Unchanged),
        count(Verdict::Inconclusive)
    );
    let counts = results.comparisons.iter().any(|c| crate::model::is_count(&c.metric));
    let count_threshold = match results.run.count_threshold_pct {
        Some(t) if counts => format!(", counts {t:.1}%"),
        _ => String::new(),
    };
    line.push_str(&format!(
        " (threshold {:.1}%{count_threshold}, alpha {}, {} round(s), seed {})",
        results.run.threshold_pct, results.run.alpha, results.run.rounds, results.run.seed
    ));
    let failed = results.thresholds.iter().filter(|t| !t.passed).count();
    if failed > 0 {
        line.push_str(&format!(" — {failed} threshold(s) failed"));
    }
    if results.run.status != "complete" && !results.run.status.is_empty() {
        line.push_str(&format!(" — run {}", results.run.status));
    }
    line
}

/// `s` with control characters shown as escapes (`\u{1b}`), or `None` if it has none.
fn escaped(s: &str) -> Option<String> {
    s.chars().any(char::is_control).then(|| {
        s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
    })
}

/// A copy of `results` whose printed text has no control characters, or
/// `None` when there is nothing to clean (the common case: no copy made).
fn without_control_characters(results: &Results) -> Option<Results> {
    let mut dirty = false;
    texts(results, &mut |s: &str| dirty |= s.chars().any(char::is_control));
    if !dirty {
        return None;
    }
    let mut r = results.clone();
    texts_mut(&mut r, &mut |s: &mut String| {
        if let Some(e) = escaped(s) {
            *s = e;
        }
    });
    for f in &mut r.failures {
        // Only the first line is shown: keep it, escaped.
        f.message = f.message.lines().next().map(|l| escaped(l).unwrap_or_else(|| l.to_string())).unwrap_or_default();
    }
    Some(r)
}

/// Every text the terminal prints from a run (names, messages), read-only...
fn texts(r: &Results, f: &mut dyn FnMut(&str)) {
    for c in &r.comparisons {
        [&c.scenario, &c.benchmark, &c.metric, &c.unit].into_iter().for_each(|s| f(s));
        c.notes.iter().for_each(|s| f(s));
        if let Some(u) = &c.unsettled {
            f(&u.why);
        }
    }
    for m in &r.measured {
        [&m.scenario, &m.benchmark, &m.metric, &m.unit].into_iter().for_each(|s| f(s));
    }
    for s in &r.samples {
        [&s.scenario, &s.benchmark, &s.metric].into_iter().for_each(|x| f(x));
    }
    for g in &r.geomeans {
        [&g.scenario, &g.metric, &g.unit].into_iter().for_each(|s| f(s));
    }
    for d in &r.profile_diffs {
        f(&d.scenario);
        d.top.iter().for_each(|e| {
            f(&e.function);
            f(&e.file);
        });
    }
    r.thresholds.iter().for_each(|t| {
        f(&t.scenario);
        f(&t.expr);
    });
    r.failures.iter().for_each(|x| {
        f(&x.scenario);
        f(x.message.lines().next().unwrap_or(""));
    });
    r.warnings.iter().for_each(|s| f(s));
    r.variants.iter().for_each(|v| f(&v.rev));
    for d in &r.database {
        [&d.scenario, &d.server].into_iter().for_each(|s| f(s));
        d.statements.iter().for_each(|s| f(&s.query));
        d.n_plus_one.iter().for_each(|n| [&n.query, &n.parent].into_iter().for_each(|s| f(s)));
        d.errors.iter().for_each(|s| f(s));
    }
    for p in &r.plan_diffs {
        [&p.scenario, &p.query].into_iter().chain(&p.candidate_query).chain(&p.changes).for_each(|s| f(s));
    }
}

/// ...and the same texts, to rewrite.
fn texts_mut(r: &mut Results, f: &mut dyn FnMut(&mut String)) {
    for c in &mut r.comparisons {
        for s in [&mut c.scenario, &mut c.benchmark, &mut c.metric, &mut c.unit] {
            f(s);
        }
        for s in &mut c.notes {
            f(s);
        }
        if let Some(u) = &mut c.unsettled {
            f(&mut u.why);
        }
    }
    for m in &mut r.measured {
        for s in [&mut m.scenario, &mut m.benchmark, &mut m.metric, &mut m.unit] {
            f(s);
        }
    }
    for x in &mut r.samples {
        for s in [&mut x.scenario, &mut x.benchmark, &mut x.metric] {
            f(s);
        }
    }
    for g in &mut r.geomeans {
        for s in [&mut g.scenario, &mut g.metric, &mut g.unit] {
            f(s);
        }
    }
    for d in &mut r.profile_diffs {
        f(&mut d.scenario);
        for e in &mut d.top {
            f(&mut e.function);
            f(&mut e.file);
        }
    }
    for t in &mut r.thresholds {
        f(&mut t.scenario);
        f(&mut t.expr);
    }
    for x in &mut r.failures {
        f(&mut x.scenario);
    }
    for s in &mut r.warnings {
        f(s);
    }
    for v in &mut r.variants {
        f(&mut v.rev);
    }
    for d in &mut r.database {
        for s in [&mut d.scenario, &mut d.server] {
            f(s);
        }
        d.statements.iter_mut().for_each(|s| f(&mut s.query));
        for n in &mut d.n_plus_one {
            f(&mut n.query);
            f(&mut n.parent);
        }
        d.errors.iter_mut().for_each(&mut *f);
    }
    for p in &mut r.plan_diffs {
        f(&mut p.scenario);
        f(&mut p.query);
        p.candidate_query.iter_mut().chain(&mut p.changes).for_each(&mut *f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Better;
    use crate::model::Role;
    use crate::results::{Environment, Run, Sample, VariantInfo};
    use crate::stats::CompareConfig;

    fn results() -> Results {
        let mut samples = Vec::new();
        for round in 1..=8 {
            for (variant, value) in [(Role::Baseline, 100.0 + round as f64), (Role::Candidate, 150.0 + round as f64)] {
                samples.push(Sample {
                    scenario: "bench".into(),
                    benchmark: "Work-2".into(),
                    metric: "ns/op".into(),
                    unit: "ns/op".into(),
                    better: Better::Lower,
                    variant,
                    round,
                    value,
                });
            }
        }
        let analysis = crate::analyze::analyze(&samples, &CompareConfig::default());
        let variant =
            |role| VariantInfo { role, rev: "HEAD".into(), commit: "abc".into(), tree: "t".into(), patch: None };
        let run = Run::example();
        Results {
            samples,
            comparisons: analysis.comparisons,
            geomeans: analysis.geomeans,
            warnings: vec!["something to know".into()],
            ..Results::new(run, Environment::default(), vec![variant(Role::Baseline), variant(Role::Candidate)])
        }
    }

    #[test]
    fn escape_sequences_from_the_code_under_test_never_reach_the_terminal() {
        let mut r = results();
        let osc52 = "Work\u{1b}]52;c;cm0gLXJmIH4=\u{7}-2";
        for c in &mut r.comparisons {
            c.benchmark = osc52.into();
        }
        for s in &mut r.samples {
            s.benchmark = osc52.into();
        }
        r.failures.push(crate::results::Failure {
            scenario: "bench".into(),
            variant: Role::Candidate,
            round: 3,
            message: "crashed \u{1b}[2J\u{9b}31m\nsecond line".into(),
        });
        let plain = render(&r, false);
        assert!(!plain.chars().any(|c| c.is_control() && c != '\n'), "{plain:?}");
        assert!(plain.contains("Work\\u{1b}]52;c;cm0gLXJmIH4=\\u{7}-2"), "{plain}");
        assert!(plain.contains("crashed \\u{1b}[2J\\u{9b}31m"), "{plain}");
        // Nothing to clean: no copy is made, the output is as before.
        assert!(without_control_characters(&results()).is_none());
    }

    #[test]
    fn plain_and_colored_tables() {
        let r = results();
        let plain = render(&r, false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(plain.contains("Work-2") && plain.contains("regressed"), "{plain}");
        // Medians 104.5ns vs 154.5ns, delta = median ratio − 1.
        assert!(plain.contains("104.5ns/op") && plain.contains("154.5ns/op"), "{plain}");
        assert!(plain.contains("warning: something to know"), "{plain}");
        assert!(plain.contains("0 improved, 1 regressed, 0 unchanged, 0 inconclusive"), "{plain}");
        let colored = render(&r, true);
        assert!(colored.contains("\u{1b}[38;5;9m") || colored.contains("\u{1b}[31m"), "{colored:?}");
    }
}
