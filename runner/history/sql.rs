//! The queries both stores run, word for word (`$1`… placeholders, which
//! SQLite reads as parameters named in order and PostgreSQL as positions),
//! and the decoding of their rows through [`Cells`], which both databases'
//! rows provide.

use super::record::parse_verdict;
use super::record::{ComparisonRow, MetricDef, RunRow, SampleRow, SideRow, SummaryRow, parse_better, parse_role};
use super::{ExportRow, HistoryError, SeriesPoint, StoredRun};

/// A result row, whichever database it came from.
pub(crate) trait Cells {
    fn text(&self, i: usize) -> Result<String, HistoryError>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, HistoryError>;
    fn int(&self, i: usize) -> Result<i64, HistoryError>;
    fn real(&self, i: usize) -> Result<f64, HistoryError>;
    fn opt_real(&self, i: usize) -> Result<Option<f64>, HistoryError>;
}

impl Cells for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String, HistoryError> {
        Ok(self.get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, HistoryError> {
        Ok(self.get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64, HistoryError> {
        Ok(self.get(i)?)
    }
    fn real(&self, i: usize) -> Result<f64, HistoryError> {
        Ok(self.get(i)?)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>, HistoryError> {
        Ok(self.get(i)?)
    }
}

impl Cells for postgres::Row {
    fn text(&self, i: usize) -> Result<String, HistoryError> {
        Ok(self.try_get(i)?)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, HistoryError> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64, HistoryError> {
        Ok(self.try_get(i)?)
    }
    fn real(&self, i: usize) -> Result<f64, HistoryError> {
        Ok(self.try_get(i)?)
    }
    fn opt_real(&self, i: usize) -> Result<Option<f64>, HistoryError> {
        Ok(self.try_get(i)?)
    }
}

macro_rules! run_columns {
    () => {
        "SELECT id, run_id, revision, commit_hash, tree, started_at, finished_at, machine,
            scenario_set, baseline_commit, report_dir, status, improved, regressed,
            tool_version, seed, rounds, alpha, threshold_pct, environment FROM runs"
    };
}

pub(crate) const LAST_RUN: &str =
    concat!(run_columns!(), " WHERE scenario_set = $1 AND status = 'complete' ORDER BY id DESC LIMIT 1");
pub(crate) const RUNS: &str =
    concat!(run_columns!(), " WHERE CAST($1 AS TEXT) IS NULL OR scenario_set = $1 ORDER BY id");
pub(crate) const RUN_BY_ID: &str = concat!(run_columns!(), " WHERE id = $1");
pub(crate) const RUN_IDS: &str = "SELECT id FROM runs ORDER BY id";
pub(crate) const SCENARIO_SETS: &str = "SELECT scenario_set FROM runs GROUP BY scenario_set ORDER BY min(id)";

pub(crate) const INSERT_RUN: &str = "INSERT INTO runs (run_id, revision, commit_hash, tree, started_at, finished_at,
        machine, scenario_set, baseline_commit, report_dir, status, improved, regressed, tool_version, seed,
        rounds, alpha, threshold_pct, environment)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
     RETURNING id";

/// The direction is a property of the metric: the newest run says it.
pub(crate) const UPSERT_METRIC: &str = "INSERT INTO metrics (scenario, benchmark, metric, unit, better)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (scenario, benchmark, metric, unit) DO UPDATE SET better = excluded.better
     RETURNING id";

/// One pass over `summaries` in key order (metric, then night): a year of
/// 500 metrics is 180k rows and no sort. Metric ids follow first
/// appearance, so the series are put in name order afterwards.
pub(crate) const SERIES: &str = "SELECT s.metric, m.scenario, m.benchmark, m.metric, m.unit, m.better,
        r.id, r.commit_hash, r.started_at, s.n, s.median, s.ci_low, s.ci_high,
        c.delta_pct, c.delta_ci_low_pct, c.delta_ci_high_pct, c.verdict
     FROM summaries s
     JOIN runs r ON r.id = s.run
     JOIN metrics m ON m.id = s.metric
     LEFT JOIN comparisons c ON c.metric = s.metric AND c.run = s.run
     WHERE r.scenario_set = $1 AND r.status = 'complete'
     ORDER BY s.metric, s.run";

pub(crate) const EXPORT: &str = "SELECT r.id, r.started_at, r.commit_hash, m.scenario, m.benchmark, m.metric,
        m.unit, m.better, s.n, s.median, s.ci_low, s.ci_high,
        c.delta_pct, c.delta_ci_low_pct, c.delta_ci_high_pct, c.verdict
     FROM runs r
     JOIN summaries s ON s.run = r.id
     JOIN metrics m ON m.id = s.metric
     LEFT JOIN comparisons c ON c.run = s.run AND c.metric = s.metric
     ORDER BY r.id, m.scenario, m.benchmark, m.metric, m.unit";

macro_rules! metric_columns {
    () => {
        "m.scenario, m.benchmark, m.metric, m.unit, m.better"
    };
}

pub(crate) const RUN_SAMPLES: &str = concat!(
    "SELECT ",
    metric_columns!(),
    ", x.variant, x.round, x.value FROM samples x JOIN metrics m ON m.id = x.metric WHERE x.run = $1"
);
pub(crate) const RUN_COMPARISONS: &str = concat!(
    "SELECT ",
    metric_columns!(),
    ", x.baseline_n, x.baseline_median, x.baseline_ci_low, x.baseline_ci_high,
       x.candidate_n, x.candidate_median, x.candidate_ci_low, x.candidate_ci_high,
       x.delta_pct, x.delta_ci_low_pct, x.delta_ci_high_pct, x.p_value, x.q_value, x.test, x.mde_pct, x.verdict
     FROM comparisons x JOIN metrics m ON m.id = x.metric WHERE x.run = $1"
);
pub(crate) const RUN_SUMMARIES: &str = concat!(
    "SELECT ",
    metric_columns!(),
    ", x.n, x.median, x.ci_low, x.ci_high, x.mean, x.stddev, x.min, x.max
     FROM summaries x JOIN metrics m ON m.id = x.metric WHERE x.run = $1"
);

/// A run's row: `id` then the `runs` columns in [`INSERT_RUN`]'s order.
pub(crate) fn run_row(row: &impl Cells) -> Result<(i64, RunRow), HistoryError> {
    Ok((
        row.int(0)?,
        RunRow {
            run_id: row.text(1)?,
            revision: row.text(2)?,
            commit: row.text(3)?,
            tree: row.text(4)?,
            started_at: row.text(5)?,
            finished_at: row.opt_text(6)?,
            machine: row.text(7)?,
            scenario_set: row.text(8)?,
            baseline_commit: row.opt_text(9)?,
            report_dir: row.text(10)?,
            status: row.text(11)?,
            improved: row.int(12)?,
            regressed: row.int(13)?,
            tool_version: row.text(14)?,
            seed: row.int(15)?,
            rounds: row.int(16)?,
            alpha: row.real(17)?,
            threshold_pct: row.real(18)?,
            environment: row.text(19)?,
        },
    ))
}

pub(crate) fn stored_run(row: &impl Cells) -> Result<StoredRun, HistoryError> {
    let (id, r) = run_row(row)?;
    let count = |n: i64| u32::try_from(n).map_err(|_| HistoryError::Corrupt(n.to_string()));
    Ok(StoredRun {
        id,
        run_id: r.run_id,
        revision: r.revision,
        commit: r.commit,
        tree: r.tree,
        started_at: r.started_at,
        finished_at: r.finished_at.unwrap_or_default(),
        machine: r.machine,
        scenario_set: r.scenario_set,
        baseline_commit: r.baseline_commit,
        report_dir: r.report_dir,
        status: r.status,
        improved: count(r.improved)?,
        regressed: count(r.regressed)?,
    })
}

/// A metric from the 5 columns starting at `at` ([`metric_columns!`]).
pub(crate) fn metric_def(row: &impl Cells, at: usize) -> Result<MetricDef, HistoryError> {
    Ok(MetricDef {
        scenario: row.text(at)?,
        benchmark: row.text(at + 1)?,
        metric: row.text(at + 2)?,
        unit: row.text(at + 3)?,
        better: parse_better(&row.text(at + 4)?)?,
    })
}

/// A [`RUN_SAMPLES`] row.
pub(crate) fn sample(row: &impl Cells) -> Result<(MetricDef, SampleRow), HistoryError> {
    let s = SampleRow { metric: 0, variant: parse_role(&row.text(5)?)?, round: row.int(6)?, value: row.real(7)? };
    Ok((metric_def(row, 0)?, s))
}

/// A [`RUN_COMPARISONS`] row.
pub(crate) fn comparison(row: &impl Cells) -> Result<(MetricDef, ComparisonRow), HistoryError> {
    let side = |at: usize| -> Result<SideRow, HistoryError> {
        Ok(SideRow {
            n: row.int(at)?,
            median: row.opt_real(at + 1)?,
            ci_low: row.opt_real(at + 2)?,
            ci_high: row.opt_real(at + 3)?,
        })
    };
    let verdict = parse_verdict(Some(&row.text(20)?))?.ok_or_else(|| HistoryError::Corrupt(String::new()))?;
    let c = ComparisonRow {
        metric: 0,
        baseline: side(5)?,
        candidate: side(9)?,
        delta_pct: row.opt_real(13)?,
        delta_ci_low_pct: row.opt_real(14)?,
        delta_ci_high_pct: row.opt_real(15)?,
        p_value: row.opt_real(16)?,
        q_value: row.opt_real(17)?,
        test: row.text(18)?,
        mde_pct: row.opt_real(19)?,
        verdict,
    };
    Ok((metric_def(row, 0)?, c))
}

/// A [`RUN_SUMMARIES`] row.
pub(crate) fn summary(row: &impl Cells) -> Result<(MetricDef, SummaryRow), HistoryError> {
    let s = SummaryRow {
        metric: 0,
        n: row.int(5)?,
        median: row.real(6)?,
        ci_low: row.opt_real(7)?,
        ci_high: row.opt_real(8)?,
        mean: row.real(9)?,
        stddev: row.real(10)?,
        min: row.real(11)?,
        max: row.real(12)?,
    };
    Ok((metric_def(row, 0)?, s))
}

/// A [`SERIES`] row's point (its columns from 6 on).
pub(crate) fn series_point(row: &impl Cells) -> Result<SeriesPoint, HistoryError> {
    Ok(SeriesPoint {
        run: row.int(6)?,
        commit: row.text(7)?,
        started_at: row.text(8)?,
        n: row.int(9)? as usize,
        median: row.real(10)?,
        ci_low: row.opt_real(11)?,
        ci_high: row.opt_real(12)?,
        delta_pct: row.opt_real(13)?,
        delta_ci_low_pct: row.opt_real(14)?,
        delta_ci_high_pct: row.opt_real(15)?,
        verdict: parse_verdict(row.opt_text(16)?.as_deref())?,
    })
}

/// Adds a [`SERIES`] row to `out` (a new series when its metric changes).
pub(crate) fn push_series_row(
    out: &mut Vec<super::Series>,
    current: &mut Option<i64>,
    row: &impl Cells,
) -> Result<(), HistoryError> {
    let metric = row.int(0)?;
    let point = series_point(row)?;
    match out.last_mut() {
        Some(s) if *current == Some(metric) => s.points.push(point),
        _ => {
            *current = Some(metric);
            out.push(super::Series {
                scenario: row.text(1)?,
                benchmark: row.text(2)?,
                metric: row.text(3)?,
                unit: row.text(4)?,
                better: parse_better(&row.text(5)?)?,
                points: vec![point],
            });
        }
    }
    Ok(())
}

/// Series in name order (scenario, benchmark, metric, unit).
pub(crate) fn sort_series(out: &mut [super::Series]) {
    out.sort_by(|a, b| {
        (&a.scenario, &a.benchmark, &a.metric, &a.unit).cmp(&(&b.scenario, &b.benchmark, &b.metric, &b.unit))
    });
}

/// An [`EXPORT`] row.
pub(crate) fn export_row(row: &impl Cells) -> Result<ExportRow, HistoryError> {
    Ok(ExportRow {
        run: row.int(0)?,
        started_at: row.text(1)?,
        commit: row.text(2)?,
        scenario: row.text(3)?,
        benchmark: row.text(4)?,
        metric: row.text(5)?,
        unit: row.text(6)?,
        better: parse_better(&row.text(7)?)?,
        n: row.int(8)? as usize,
        median: row.real(9)?,
        ci_low: row.opt_real(10)?,
        ci_high: row.opt_real(11)?,
        delta_pct: row.opt_real(12)?,
        delta_ci_low_pct: row.opt_real(13)?,
        delta_ci_high_pct: row.opt_real(14)?,
        verdict: parse_verdict(row.opt_text(15)?.as_deref())?,
    })
}
