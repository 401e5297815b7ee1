//! One run as the history's tables hold it, whichever database: the rows
//! `record` writes (built here once from results.json, for both stores) and
//! `records` reads back (what `perfgate history migrate` copies).

use super::HistoryError;
use crate::model::{Better, Role, Verdict};
use crate::results::Results;
use crate::stats::CompareConfig;
use std::collections::BTreeMap;

/// A run to record: results.json plus what the nightly knows about it.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub results: &'a Results,
    /// What the user asked for (`HEAD`, a branch).
    pub revision: &'a str,
    /// Tonight's commit and tree (the candidate's).
    pub commit: &'a str,
    pub tree: &'a str,
    /// The previous nightly's commit; `None` the first night.
    pub baseline_commit: Option<&'a str>,
    pub report_dir: &'a str,
    /// The scenarios the nightly was asked to run (`super::scenario_set`):
    /// more reliable than the names found in the samples, as a scenario that
    /// failed has none.
    pub scenario_set: String,
}

/// Everything the history keeps of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub run: RunRow,
    /// The metrics the rows below point into, sorted by their key (stores
    /// add them in this order, so two writers never wait on each other in
    /// opposite orders).
    pub metrics: Vec<MetricDef>,
    /// Samples by metric, variant, round; comparisons and summaries by metric.
    pub samples: Vec<SampleRow>,
    pub comparisons: Vec<ComparisonRow>,
    pub summaries: Vec<SummaryRow>,
}

/// The `runs` row (its id is the store's to give).
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub run_id: String,
    pub revision: String,
    pub commit: String,
    pub tree: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub machine: String,
    pub scenario_set: String,
    pub baseline_commit: Option<String>,
    pub report_dir: String,
    pub status: String,
    pub improved: i64,
    pub regressed: i64,
    pub tool_version: String,
    /// The seed's 64 bits (databases' integers are signed).
    pub seed: i64,
    pub rounds: i64,
    pub alpha: f64,
    pub threshold_pct: f64,
    /// results.json's `environment`, as JSON.
    pub environment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricDef {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
}

/// `metric` indexes [`RunRecord::metrics`].
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    pub metric: usize,
    pub variant: Role,
    pub round: i64,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    pub metric: usize,
    pub baseline: SideRow,
    pub candidate: SideRow,
    pub delta_pct: Option<f64>,
    pub delta_ci_low_pct: Option<f64>,
    pub delta_ci_high_pct: Option<f64>,
    pub p_value: Option<f64>,
    pub q_value: Option<f64>,
    pub test: String,
    pub mde_pct: Option<f64>,
    pub verdict: Verdict,
}

/// One side of a comparison: its n, median and interval.
#[derive(Debug, Clone, PartialEq)]
pub struct SideRow {
    pub n: i64,
    pub median: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// Tonight's samples of a metric summarized: the point its series plots.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub metric: usize,
    pub n: i64,
    pub median: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub mean: f64,
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
}

type Key<'a> = (&'a str, &'a str, &'a str, &'a str);

impl RunRecord {
    /// The rows of `run`. A sample that is not a number refuses the whole run.
    pub fn new(run: &NewRun) -> Result<RunRecord, HistoryError> {
        let r = run.results;
        let count = |v: Verdict| r.comparisons.iter().filter(|c| c.verdict == v).count() as i64;
        let env = &r.environment;
        let row = RunRow {
            run_id: r.run.id.clone(),
            revision: run.revision.to_string(),
            commit: run.commit.to_string(),
            tree: run.tree.to_string(),
            started_at: r.run.started_at.clone(),
            finished_at: r.run.finished_at.clone(),
            machine: format!("{}, {} cores, {}", env.cpu_model, env.cores, env.hostname),
            scenario_set: run.scenario_set.clone(),
            baseline_commit: run.baseline_commit.map(str::to_string),
            report_dir: run.report_dir.to_string(),
            status: r.run.status.clone(),
            improved: count(Verdict::Improved),
            regressed: count(Verdict::Regressed),
            tool_version: r.tool.version.clone(),
            seed: r.run.seed as i64,
            rounds: i64::from(r.run.rounds),
            alpha: r.run.alpha,
            threshold_pct: r.run.threshold_pct,
            environment: serde_json::to_string(env).unwrap_or_default(),
        };

        // Every metric, named once; the direction is the newest sample's or comparison's.
        let mut betters: BTreeMap<Key, Better> = BTreeMap::new();
        // A round seen twice keeps its last value, as `analyze` does: stored
        // and analysed samples agree.
        let mut values: BTreeMap<(Key, Role, u32), f64> = BTreeMap::new();
        for s in &r.samples {
            if s.value.is_nan() {
                return Err(HistoryError::NotANumber {
                    scenario: s.scenario.clone(),
                    benchmark: s.benchmark.clone(),
                    metric: s.metric.clone(),
                    variant: s.variant,
                    round: s.round,
                });
            }
            let key = (&s.scenario[..], &s.benchmark[..], &s.metric[..], &s.unit[..]);
            betters.insert(key, s.better);
            values.insert((key, s.variant, s.round), s.value);
        }
        for c in &r.comparisons {
            betters.insert((&c.scenario, &c.benchmark, &c.metric, &c.unit), c.better);
        }
        let index: BTreeMap<Key, usize> = betters.keys().enumerate().map(|(i, k)| (*k, i)).collect();
        let metrics = betters
            .iter()
            .map(|(k, &better)| MetricDef {
                scenario: k.0.into(),
                benchmark: k.1.into(),
                metric: k.2.into(),
                unit: k.3.into(),
                better,
            })
            .collect();

        let mut tonight: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        let samples = values
            .into_iter()
            .map(|((key, variant, round), value)| {
                let metric = index[&key];
                if variant == Role::Candidate {
                    tonight.entry(metric).or_default().push(value);
                }
                SampleRow { metric, variant, round: i64::from(round), value }
            })
            .collect();
        let mut comparisons: Vec<ComparisonRow> = r
            .comparisons
            .iter()
            .map(|c| ComparisonRow {
                metric: index[&(&c.scenario[..], &c.benchmark[..], &c.metric[..], &c.unit[..])],
                baseline: SideRow {
                    n: c.baseline.n as i64,
                    median: Some(c.baseline.median),
                    ci_low: c.baseline.ci_low,
                    ci_high: c.baseline.ci_high,
                },
                candidate: SideRow {
                    n: c.candidate.n as i64,
                    median: Some(c.candidate.median),
                    ci_low: c.candidate.ci_low,
                    ci_high: c.candidate.ci_high,
                },
                delta_pct: Some(c.delta_pct),
                delta_ci_low_pct: c.delta_ci_low_pct,
                delta_ci_high_pct: c.delta_ci_high_pct,
                p_value: c.p_value,
                q_value: c.q_value,
                test: c.test.clone(),
                mde_pct: c.mde_pct,
                verdict: c.verdict,
            })
            .collect();
        // In metric order, as a store reads them back.
        comparisons.sort_by_key(|c| c.metric);
        let summaries = tonight
            .into_iter()
            .map(|(metric, values)| {
                let s = crate::stats::summarize(&values, CompareConfig::default().confidence);
                SummaryRow {
                    metric,
                    n: s.n as i64,
                    median: s.median,
                    ci_low: s.ci_low,
                    ci_high: s.ci_high,
                    mean: s.mean,
                    stddev: s.stddev,
                    min: s.min,
                    max: s.max,
                }
            })
            .collect();
        Ok(RunRecord { run: row, metrics, samples, comparisons, summaries })
    }

    /// Rebuilds the metric list from rows read back with their metrics
    /// (`(def, row)` pairs), in key order.
    pub fn from_parts(
        run: RunRow,
        samples: Vec<(MetricDef, SampleRow)>,
        comparisons: Vec<(MetricDef, ComparisonRow)>,
        summaries: Vec<(MetricDef, SummaryRow)>,
    ) -> RunRecord {
        let mut defs: BTreeMap<MetricDef, usize> = BTreeMap::new();
        for d in
            samples.iter().map(|s| &s.0).chain(comparisons.iter().map(|c| &c.0)).chain(summaries.iter().map(|s| &s.0))
        {
            defs.entry(d.clone()).or_insert(0);
        }
        for (i, v) in defs.values_mut().enumerate() {
            *v = i;
        }
        let at = |d: &MetricDef| defs[d];
        // In the order `new` builds (a database's row order is its own,
        // and its text collation may not be byte order).
        let mut samples: Vec<SampleRow> = samples.into_iter().map(|(d, s)| SampleRow { metric: at(&d), ..s }).collect();
        samples.sort_by_key(|s| (s.metric, s.variant, s.round));
        let mut comparisons: Vec<ComparisonRow> =
            comparisons.into_iter().map(|(d, c)| ComparisonRow { metric: at(&d), ..c }).collect();
        comparisons.sort_by_key(|c| c.metric);
        let mut summaries: Vec<SummaryRow> =
            summaries.into_iter().map(|(d, s)| SummaryRow { metric: at(&d), ..s }).collect();
        summaries.sort_by_key(|s| s.metric);
        RunRecord { run, samples, comparisons, summaries, metrics: defs.into_keys().collect() }
    }
}

pub(crate) fn better_str(b: Better) -> &'static str {
    match b {
        Better::Lower => "lower",
        Better::Higher => "higher",
    }
}

pub(crate) fn parse_better(text: &str) -> Result<Better, HistoryError> {
    match text {
        "lower" => Ok(Better::Lower),
        "higher" => Ok(Better::Higher),
        other => Err(HistoryError::Corrupt(other.into())),
    }
}

pub(crate) fn parse_verdict(text: Option<&str>) -> Result<Option<Verdict>, HistoryError> {
    Ok(match text {
        None => None,
        Some("improved") => Some(Verdict::Improved),
        Some("regressed") => Some(Verdict::Regressed),
        Some("unchanged") => Some(Verdict::Unchanged),
        Some("inconclusive") => Some(Verdict::Inconclusive),
        Some(other) => return Err(HistoryError::Corrupt(other.into())),
    })
}

pub(crate) fn parse_role(text: &str) -> Result<Role, HistoryError> {
    match text {
        "baseline" => Ok(Role::Baseline),
        "candidate" => Ok(Role::Candidate),
        other => Err(HistoryError::Corrupt(other.into())),
    }
}
