//! findings.md: the run's findings (see `analyze::findings`) as the blocks a
//! performance agent writes per optimization. Formats only; the lines the
//! run cannot know (cause, fix) are marked for the agent to fill.

use super::format::{format_profile_delta, format_value, signed};
use crate::model::{Better, Verdict};
use crate::results::{Figure, Finding, Results};

/// What the agent must write itself, in place of a cause or a fix.
pub const TO_FILL: &str = "TO FILL";

pub fn render(r: &Results) -> String {
    let mut out = String::from("# Findings\n\n");
    let variants: Vec<String> = r
        .variants
        .iter()
        .map(|v| {
            let patch = v.patch.as_ref().filter(|p| !v.rev.contains(p.as_str()));
            let patch = patch.map(|p| format!(" + `{p}`")).unwrap_or_default();
            format!("{} `{}`{patch}", v.role.as_str(), v.rev)
        })
        .collect();
    out.push_str(&format!("Run `{}`: {}.\n\n", r.run.id, variants.join(" vs ")));
    if r.findings.is_empty() {
        out.push_str(
            "No finding: no metric group improved or regressed in this run \
             (see brief.md for what stayed open and what it would need).\n",
        );
        return out;
    }
    out.push_str(&format!(
        "{} finding(s). Every figure below was measured in this run (median, [95% interval], \
         change with its interval, verdict). Lines marked **{TO_FILL}** are for you to write from \
         the code: perfgate does not guess causes.\n\n",
        r.findings.len()
    ));
    for f in &r.findings {
        block(&mut out, f);
    }
    out
}

fn block(out: &mut String, f: &Finding) {
    let name = if f.benchmark == f.scenario { f.scenario.clone() } else { format!("{} {}", f.scenario, f.benchmark) };
    let what = if f.what.is_empty() { String::new() } else { format!(" ({})", f.what) };
    out.push_str(&format!("### Bottleneck: {name}{what}: {}\n\n", f.verdict.as_str()));
    out.push_str(&format!("Impact: {} - {}\n\n", f.impact.level, impact_text(f)));
    if f.locations.is_empty() {
        out.push_str("Location: not profiled in this run (see Verification)\n\n");
    } else {
        out.push_str("Location:\n");
        for l in &f.locations {
            let place = if l.file.is_empty() { String::new() } else { format!(" `{}:{}`", l.file, l.line) };
            out.push_str(&format!(
                "- `{}`{place}: {} profile cum {} ({}% of the baseline's total), flat {}\n",
                l.function,
                l.profile,
                format_profile_delta(l.cum_delta, &l.unit),
                signed(l.cum_delta_pct, 1),
                format_profile_delta(l.flat_delta, &l.unit),
            ));
        }
        out.push('\n');
    }
    if !f.database.is_empty() {
        out.push_str("Database (PostgreSQL's own statistics and plans):\n");
        for d in &f.database {
            out.push_str(&format!("- {d}\n"));
        }
        out.push('\n');
    }
    out.push_str(&format!("Cause: **{TO_FILL}**: the root cause, from the code at the locations above\n\n"));
    out.push_str("Current Performance (baseline, measured):\n");
    for x in &f.figures {
        out.push_str(&format!("- {}: {}\n", x.metric, side(x.baseline, x.baseline_ci, &x.unit)));
    }
    out.push_str(&format!("\nProposed Fix: **{TO_FILL}**: what the candidate changes, and why it helps\n\n"));
    out.push_str("Expected Performance (candidate, measured in this run):\n");
    for x in &f.figures {
        out.push_str(&format!(
            "- {}: {}, {} {}\n",
            x.metric,
            side(x.candidate, x.candidate_ci, &x.unit),
            delta(x.delta_pct, x.delta_ci_low_pct, x.delta_ci_high_pct),
            verdict_word(x)
        ));
    }
    out.push_str("\nVerification:\n");
    for line in &f.verification.ran {
        out.push_str(&format!("- ran: {line}\n"));
    }
    for line in &f.verification.not_run {
        out.push_str(&format!("- not run: {line}\n"));
    }
    out.push('\n');
}

fn impact_text(f: &Finding) -> String {
    let i = &f.impact;
    let change = delta(i.delta_pct, i.delta_ci_low_pct, i.delta_ci_high_pct);
    let factor = match i.factor {
        None => String::new(),
        Some(f) if f >= 1.0 => format!("{f:.2}× better, "),
        Some(f) => format!("{:.2}× worse, ", 1.0 / f),
    };
    format!("{} {factor}{change}", i.metric)
}

fn side(median: f64, ci: (Option<f64>, Option<f64>), unit: &str) -> String {
    match ci {
        (Some(lo), Some(hi)) => {
            format!("{} [{}, {}]", format_value(median, unit), format_value(lo, unit), format_value(hi, unit))
        }
        _ => format!("{} [unbounded: too few rounds]", format_value(median, unit)),
    }
}

fn delta(pct: f64, lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{}% [{}, {}]", signed(pct, 1), signed(lo, 1), signed(hi, 1)),
        _ => format!("{}% [±∞]", signed(pct, 1)),
    }
}

fn verdict_word(x: &Figure) -> String {
    let word = x.verdict.as_str();
    match (x.verdict, x.better) {
        (Verdict::Improved | Verdict::Regressed, Better::Lower) => format!("**{word}** (lower is better)"),
        (Verdict::Improved | Verdict::Regressed, Better::Higher) => format!("**{word}** (higher is better)"),
        _ => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Impact, Location, Verification};

    fn finding() -> Finding {
        Finding {
            scenario: "api".into(),
            benchmark: "api".into(),
            kind: "http".into(),
            what: "GET /x, 4 connections".into(),
            verdict: Verdict::Improved,
            impact: Impact {
                level: "High".into(),
                metric: "latency_p99".into(),
                unit: "s".into(),
                delta_pct: -75.0,
                delta_ci_low_pct: Some(-80.0),
                delta_ci_high_pct: Some(-70.0),
                factor: Some(4.0),
            },
            locations: vec![Location {
                function: "app.(*Store).load".into(),
                file: "server/store.go".into(),
                line: 190,
                profile: "cpu".into(),
                sample_type: "cpu".into(),
                unit: "nanoseconds".into(),
                cum_delta: -1.5e9,
                cum_delta_pct: -80.5,
                flat_delta: 0.0,
                flat_delta_pct: 0.0,
            }],
            figures: vec![Figure {
                metric: "latency_p99".into(),
                unit: "s".into(),
                better: Better::Lower,
                baseline: 0.8,
                baseline_ci: (Some(0.7), Some(0.9)),
                candidate: 0.2,
                candidate_ci: (None, None),
                delta_pct: -75.0,
                delta_ci_low_pct: Some(-80.0),
                delta_ci_high_pct: Some(-70.0),
                verdict: Verdict::Improved,
            }],
            cause: None,
            proposed_fix: None,
            database: Vec::new(),
            verification: Verification { ran: vec!["8 rounds".into()], not_run: vec!["not profiled".into()] },
        }
    }

    #[test]
    fn a_block_in_the_optimizers_format_with_the_unknowns_marked() {
        let mut r = Results::new(Default::default(), Default::default(), Vec::new());
        r.findings.push(finding());
        let md = render(&r);
        let block: Vec<&str> = md.lines().skip_while(|l| !l.starts_with("### ")).collect();
        assert_eq!(block[0], "### Bottleneck: api (GET /x, 4 connections): improved");
        assert!(md.contains("Impact: High - latency_p99 4.00× better, -75.0% [-80.0, -70.0]"), "{md}");
        assert!(md.contains("- `app.(*Store).load` `server/store.go:190`: cpu profile cum -1.50s (-80.5% of"), "{md}");
        assert!(md.contains("Cause: **TO FILL**") && md.contains("Proposed Fix: **TO FILL**"), "{md}");
        assert!(md.contains("- latency_p99: 800ms [700ms, 900ms]"), "{md}");
        assert!(
            md.contains("- latency_p99: 200ms [unbounded: too few rounds], -75.0% [-80.0, -70.0] **improved**"),
            "{md}"
        );
        assert!(md.contains("- ran: 8 rounds") && md.contains("- not run: not profiled"), "{md}");
    }

    #[test]
    fn no_finding_says_so() {
        let r = Results::new(Default::default(), Default::default(), Vec::new());
        assert!(render(&r).contains("No finding"));
    }
}
