//! benchstat-compatible analysis of parsed Go benchmark files: groups
//! results into tables per configuration and unit exactly as Go's benchstat
//! does, and summarizes and compares them with `crate::stats`. Rendering
//! (text, CSV, JSON) is `report::benchstat`'s.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::formats::gobench::{self, FxBuild, GoBenchFile};
use crate::model::Better;
use crate::results::{Comparison, Geomean, SideSummary};
use crate::stats::{self, CompareConfig};

/// One input file and the label its column gets (benchstat's `.file`).
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub label: &'a str,
    pub file: &'a GoBenchFile,
}

/// benchstat's `-alpha` and `-confidence`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub alpha: f64,
    pub confidence: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { alpha: 0.05, confidence: 0.95 }
    }
}

/// The grouped and summarized comparison, ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    pub options: Options,
    /// Column labels, in input order.
    pub labels: Vec<String>,
    /// File-configuration keys in benchstat's field order (first seen).
    pub config_keys: Vec<String>,
    /// Tables in benchstat's order: by configuration values, then unit.
    pub tables: Vec<Table>,
    /// Non-fatal problems found while merging inputs (conflicting unit metadata).
    pub warnings: Vec<String>,
}

/// All results sharing one file configuration and one unit.
#[derive(Debug, Clone)]
pub struct Table {
    /// Value per `Report::config_keys` entry; "" where unset. Shared with
    /// the parsed files (interned), so many tables cost pointers, not text.
    pub config: Vec<Arc<str>>,
    /// Unit as benchstat shows it (tidied: `sec/op`, `B/s`).
    pub unit: String,
    /// Units as written in the files that fed this table (usually one: `ns/op`).
    pub source_units: Vec<String>,
    /// Multiply a source value by this to get `unit` (1e-9 for `ns/op`).
    pub factor: f64,
    /// `Unit … assume=exact`: values are exact, not a distribution.
    pub exact: bool,
    /// Direction from `Unit … better=` metadata, when the files declare one.
    pub better: Option<Better>,
    /// Columns present in this table, as indices into `Report::labels`; the
    /// first one is the baseline of every comparison.
    pub columns: Vec<usize>,
    pub rows: Vec<Row>,
    /// The geomean row, one entry per column.
    pub summary: Vec<ColumnSummary>,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// Full benchmark name (`Encode/format=json-8`).
    pub name: String,
    /// One entry per `Table::columns`.
    pub cells: Vec<Option<Cell>>,
}

/// The sample of one benchmark in one column.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Values in the table's unit, ascending.
    pub values: Vec<f64>,
    /// The same values as written in the file (in `source_units`), ascending.
    pub raw: Vec<f64>,
    /// Median (or, for exact units, the mode).
    pub center: f64,
    /// Interval bounds; infinite when the sample is too small.
    pub lo: f64,
    pub hi: f64,
    /// Footnotes for the summary ("need >= 6 samples …").
    pub warnings: Vec<String>,
    /// Against the row's baseline cell, when this is not the baseline.
    pub comparison: Option<CellComparison>,
}

/// A cell compared with its row's baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct CellComparison {
    /// Mann–Whitney U p-value; 0 for exact units (no test needed).
    pub p: f64,
    pub n_base: usize,
    pub n: usize,
    /// The significance level this comparison used (0 for exact units).
    pub alpha: f64,
    pub warnings: Vec<String>,
}

/// The geomean cell of a column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnSummary {
    /// Geomean of the column's centers, when all are positive.
    pub geomean: Option<f64>,
    /// Geomean of per-benchmark ratios to the baseline (non-baseline columns).
    pub ratio: Option<f64>,
    /// Number of ratios that went into `ratio`.
    pub ratios: usize,
    pub warnings: Vec<String>,
}

/// Groups and summarizes `inputs` with benchstat's default projection
/// (`-table .config -row .fullname -col .file`).
pub fn build(inputs: &[Input<'_>], options: &Options) -> Report {
    let mut grouper = Grouper::default();
    for (col, input) in inputs.iter().enumerate() {
        grouper.add_file(col, input);
    }
    let mut report = grouper.finish(inputs, options);
    summarize_rows(&mut report.tables, options);
    for table in &mut report.tables {
        summarize_columns(table);
    }
    report
}

/// Cell summaries and U tests are independent per row and dominate the
/// run time on large inputs, so rows are spread over the available cores
/// (benchstat does the same with goroutines).
fn summarize_rows(tables: &mut [Table], options: &Options) {
    let notes = &Notes::new(options);
    let mut work: Vec<(&mut Row, bool)> = Vec::new();
    for table in tables.iter_mut() {
        let exact = table.exact;
        work.extend(table.rows.iter_mut().map(|r| (r, exact)));
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
    if threads <= 1 || work.len() < 512 {
        for (row, exact) in work {
            summarize_row(row, exact, options, notes);
        }
        return;
    }
    // Round-robin, so that the cheap rows (all-equal B/op, allocs/op)
    // and the expensive ones (noisy sec/op) are spread evenly.
    let mut parts: Vec<Vec<(&mut Row, bool)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in work.into_iter().enumerate() {
        parts[i % threads].push(item);
    }
    std::thread::scope(|scope| {
        for part in parts {
            scope.spawn(move || {
                for (row, exact) in part {
                    summarize_row(row, exact, options, notes);
                }
            });
        }
    });
}

/// The sample-size footnotes, which depend only on the options; working
/// them out per cell would repeat a search over sample sizes.
struct Notes {
    /// "need >= 6 samples for confidence interval at level 0.95"
    interval: String,
    /// Sample size below which the U test cannot reach alpha, and its note.
    u_test: (usize, String),
}

impl Notes {
    fn new(options: &Options) -> Notes {
        let need = match stats::median_ci_min_samples(options.confidence) {
            Some(n) => format!(">= {n}"),
            None => "> 50".to_string(),
        };
        let interval = format!("need {need} samples for confidence interval at level {}", go_float(options.confidence));
        let (op, n) = match stats::u_test_min_samples(options.alpha) {
            Some(k) => (">=", k),
            None => (">", 10),
        };
        let u_test = format!("need {op} {n} samples to detect a difference at alpha level {}", go_float(options.alpha));
        Notes { interval, u_test: (n, u_test) }
    }
}

fn summarize_row(row: &mut Row, exact: bool, options: &Options, notes: &Notes) {
    for cell in row.cells.iter_mut().flatten() {
        cell.values.sort_by(f64::total_cmp);
        cell.raw.sort_by(f64::total_cmp);
        summarize_cell(cell, exact, options.confidence, notes);
    }
    let (base, rest) = row.cells.split_at_mut(1);
    let Some(base) = base[0].as_ref() else {
        return;
    };
    for cell in rest.iter_mut().flatten() {
        cell.comparison = Some(compare_cells(base, cell, exact, options.alpha, notes));
    }
}

/// Accumulates results into cells; all orders are "first seen", as benchproc's.
#[derive(Default)]
struct Grouper {
    config_keys: Vec<String>,
    config_index: HashMap<String, usize>,
    /// Distinct configuration tuples (values by field, trailing "" trimmed);
    /// values are the parser's interned strings, so a tuple costs pointers.
    tuples: Vec<Vec<Arc<str>>>,
    tuple_index: HashMap<Vec<Arc<str>>, usize>,
    /// Row names in first-seen order.
    names: Vec<Arc<str>>,
    name_index: HashMap<Arc<str>, u32, FxBuild>,
    /// Tidied units in first-seen order.
    units: Vec<UnitInfo>,
    tables: Vec<TableBuilder>,
    table_index: HashMap<(usize, usize), usize, FxBuild>,
    unit_meta: HashMap<(String, String), String>,
    warnings: Vec<String>,
}

struct UnitInfo {
    tidied: String,
    factor: f64,
    sources: Vec<String>,
}

struct TableBuilder {
    tuple: usize,
    unit: usize,
    cells: HashMap<(u32, u32), usize, FxBuild>,
    cell_data: Vec<(u32, u32, Vec<f64>, Vec<f64>)>,
    last_cell: Option<(u32, u32, usize)>,
}

impl Grouper {
    fn add_file(&mut self, col: usize, input: &Input<'_>) {
        let file = input.file;
        for m in &file.units {
            let key = (gobench::tidy_unit(&m.unit).0.into_owned(), m.key.clone());
            match self.unit_meta.get(&key) {
                Some(v) if *v == m.value => {}
                Some(v) => self.warnings.push(format!(
                    "{}:{}: metadata {} of unit {} already set to {}",
                    input.label, m.line, m.key, m.unit, v
                )),
                None => {
                    self.unit_meta.insert(key, m.value.clone());
                }
            }
        }
        // Configuration tuples per snapshot. Snapshots are numbered in the
        // order results first use them, so fields appear in benchproc's order.
        let tuples: Vec<usize> = file.configs.iter().map(|c| self.tuple_of(&c.entries)).collect();

        let col = col as u32;
        let mut last_name: Option<(*const u8, u32)> = None;
        // Per source unit (interned per file): tidied unit index and factor.
        let mut unit_cache: Vec<(*const u8, usize, usize, f64)> = Vec::new();
        // Per tidied unit: the table of the current configuration. Lines
        // alternate between units, so one "last table" would always miss.
        let mut unit_table: Vec<Option<(usize, usize)>> = Vec::new();
        for result in &file.results {
            let name_ptr = result.name.as_ptr();
            let row = match last_name {
                Some((p, r)) if p == name_ptr => r,
                _ => {
                    let r = self.row_of(&result.name);
                    last_name = Some((name_ptr, r));
                    r
                }
            };
            let tuple = tuples[result.config];
            for v in &result.values {
                let uptr = v.unit.as_ptr();
                let cached = unit_cache.iter().find(|(p, len, _, _)| *p == uptr && *len == v.unit.len());
                let (unit, factor) = match cached {
                    Some(&(_, _, u, f)) => (u, f),
                    None => {
                        let (u, f) = self.unit_of(&v.unit);
                        unit_cache.push((uptr, v.unit.len(), u, f));
                        (u, f)
                    }
                };
                if unit_table.len() <= unit {
                    unit_table.resize(unit + 1, None);
                }
                let table = match unit_table[unit] {
                    Some((t, idx)) if t == tuple => idx,
                    _ => {
                        let idx = self.table_of(tuple, unit);
                        unit_table[unit] = Some((tuple, idx));
                        idx
                    }
                };
                let tb = &mut self.tables[table];
                // `-count=N` puts a benchmark's samples on consecutive lines.
                let ci = match tb.last_cell {
                    Some((r, c, ci)) if r == row && c == col => ci,
                    _ => {
                        let next = tb.cell_data.len();
                        let ci = *tb.cells.entry((row, col)).or_insert(next);
                        if ci == next {
                            // Most runs use -count=10 or fewer.
                            tb.cell_data.push((row, col, Vec::with_capacity(10), Vec::with_capacity(10)));
                        }
                        tb.last_cell = Some((row, col, ci));
                        ci
                    }
                };
                let cell = &mut tb.cell_data[ci];
                // benchfmt tidies each value as it reads it; doing the same
                // multiplication keeps medians bit-identical to benchstat's.
                cell.2.push(v.value * factor);
                cell.3.push(v.value);
            }
        }
    }

    fn tuple_of(&mut self, entries: &[(Arc<str>, Arc<str>)]) -> usize {
        let empty: Arc<str> = Arc::from("");
        let mut values: Vec<Arc<str>> = vec![empty.clone(); self.config_keys.len()];
        for (k, v) in entries {
            let idx = match self.config_index.get(&**k) {
                Some(&i) => i,
                None => {
                    self.config_keys.push(k.to_string());
                    self.config_index.insert(k.to_string(), self.config_keys.len() - 1);
                    values.push(empty.clone());
                    self.config_keys.len() - 1
                }
            };
            values[idx] = v.clone();
        }
        while values.last().is_some_and(|v| v.is_empty()) {
            values.pop();
        }
        if let Some(&i) = self.tuple_index.get(&values) {
            return i;
        }
        self.tuples.push(values.clone());
        self.tuple_index.insert(values, self.tuples.len() - 1);
        self.tuples.len() - 1
    }

    fn row_of(&mut self, name: &Arc<str>) -> u32 {
        if let Some(&r) = self.name_index.get(name) {
            return r;
        }
        let r = self.names.len() as u32;
        self.names.push(name.clone());
        self.name_index.insert(name.clone(), r);
        r
    }

    fn unit_of(&mut self, unit: &str) -> (usize, f64) {
        let (tidied, factor) = gobench::tidy_unit(unit);
        let idx = match self.units.iter().position(|u| u.tidied == tidied) {
            Some(i) => i,
            None => {
                self.units.push(UnitInfo { tidied: tidied.into_owned(), factor, sources: Vec::new() });
                self.units.len() - 1
            }
        };
        if !self.units[idx].sources.iter().any(|s| s == unit) {
            self.units[idx].sources.push(unit.to_string());
        }
        (idx, factor)
    }

    fn table_of(&mut self, tuple: usize, unit: usize) -> usize {
        if let Some(&t) = self.table_index.get(&(tuple, unit)) {
            return t;
        }
        self.tables.push(TableBuilder {
            tuple,
            unit,
            cells: HashMap::default(),
            cell_data: Vec::new(),
            last_cell: None,
        });
        self.table_index.insert((tuple, unit), self.tables.len() - 1);
        self.tables.len() - 1
    }

    fn finish(self, inputs: &[Input<'_>], options: &Options) -> Report {
        let nkeys = self.config_keys.len();
        let empty: Arc<str> = Arc::from("");
        let full_tuple = |t: usize| -> Vec<Arc<str>> {
            let mut v = self.tuples[t].clone();
            v.resize(nkeys, empty.clone());
            v
        };
        let mut order: Vec<usize> = (0..self.tables.len()).collect();
        // benchproc never records observation order for .config sub-fields,
        // so their comparison falls back to plain string order; .unit is by
        // first appearance. Trailing "" are trimmed and sort first, so
        // comparing the trimmed tuples is comparing the padded ones.
        order.sort_by(|&a, &b| {
            let (ta, tb) = (&self.tables[a], &self.tables[b]);
            self.tuples[ta.tuple].cmp(&self.tuples[tb.tuple]).then(ta.unit.cmp(&tb.unit))
        });
        let mut tables = Vec::with_capacity(order.len());
        let mut builders: Vec<Option<TableBuilder>> = self.tables.into_iter().map(Some).collect();
        for idx in order {
            let Some(tb) = builders[idx].take() else {
                continue;
            };
            let unit = &self.units[tb.unit];
            let mut columns: Vec<usize> = tb.cell_data.iter().map(|c| c.1 as usize).collect();
            columns.sort_unstable();
            columns.dedup();
            let mut row_ids: Vec<u32> = tb.cell_data.iter().map(|c| c.0).collect();
            row_ids.sort_unstable();
            row_ids.dedup();
            let row_pos: HashMap<u32, usize, FxBuild> = row_ids.iter().enumerate().map(|(i, &r)| (r, i)).collect();
            let mut rows: Vec<Row> = row_ids
                .iter()
                .map(|&r| Row { name: self.names[r as usize].to_string(), cells: vec![None; columns.len()] })
                .collect();
            for (row, col, values, raw) in tb.cell_data {
                let c = columns.iter().position(|&x| x == col as usize).unwrap_or(0);
                rows[row_pos[&row]].cells[c] =
                    Some(Cell { values, raw, center: 0.0, lo: 0.0, hi: 0.0, warnings: Vec::new(), comparison: None });
            }
            let meta = |key: &str| self.unit_meta.get(&(unit.tidied.clone(), key.to_string())).map(String::as_str);
            let exact = meta("assume") == Some("exact");
            let better = match meta("better") {
                Some("higher") => Some(Better::Higher),
                Some("lower") => Some(Better::Lower),
                _ => None,
            };
            tables.push(Table {
                config: full_tuple(tb.tuple),
                unit: unit.tidied.clone(),
                source_units: unit.sources.clone(),
                factor: unit.factor,
                exact,
                better,
                summary: vec![ColumnSummary::default(); columns.len()],
                columns,
                rows,
            });
        }
        Report {
            options: *options,
            labels: inputs.iter().map(|i| i.label.to_string()).collect(),
            config_keys: self.config_keys,
            tables,
            warnings: self.warnings,
        }
    }
}

/// The geomean row.
fn summarize_columns(table: &mut Table) {
    // benchtab.summarizeCol: geomean of centers, and geomean of per-row
    // ratios (not a ratio of geomeans, which would compare different sets).
    let n_base = table.rows.iter().filter(|r| r.cells[0].is_some()).count();
    for c in 0..table.columns.len() {
        let is_base = c == 0;
        let mut centers = Vec::new();
        let mut ratios = Vec::new();
        let mut bad_ratio = false;
        for row in &table.rows {
            let Some(cell) = &row.cells[c] else { continue };
            centers.push(cell.center);
            if is_base {
                continue;
            }
            let Some(base) = &row.cells[0] else { continue };
            let (a, b) = (cell.center, base.center);
            if a == b {
                ratios.push(1.0); // 0/0 counts as no change
            } else if b == 0.0 {
                bad_ratio = true;
                ratios.push(0.0);
            } else {
                ratios.push(a / b);
            }
        }
        let s = &mut table.summary[c];
        if !is_base && n_base != ratios.len() {
            s.warnings.push("benchmark set differs from baseline; geomeans may not be comparable".into());
        }
        match stats::geomean(&centers) {
            Some(g) => s.geomean = Some(g),
            None => s.warnings.push("summaries must be >0 to compute geomean".into()),
        }
        if !is_base && !bad_ratio {
            match stats::geomean(&ratios) {
                Some(g) => {
                    s.ratio = Some(g);
                    s.ratios = ratios.len();
                }
                None => s.warnings.push("ratios must be >0 to compute geomean".into()),
            }
        }
    }
}

fn summarize_cell(cell: &mut Cell, exact: bool, confidence: f64, notes: &Notes) {
    let v = &cell.values;
    if exact {
        // benchmath.AssumeExact: the mode, with the range as the "interval".
        let (mut val, mut count) = (v[0], 1);
        let (mut mode, mut mode_count) = (val, count);
        for &x in &v[1..] {
            if x == val {
                count += 1;
                if count > mode_count {
                    mode = val;
                    mode_count = count;
                }
            } else {
                val = x;
                count = 1;
            }
        }
        cell.center = mode;
        cell.lo = v[0];
        cell.hi = v[v.len() - 1];
        if mode_count != v.len() {
            cell.warnings.push(format!(
                "exact distribution expected, but values range from {} to {}",
                go_float(v[0]),
                go_float(v[v.len() - 1])
            ));
        }
        return;
    }
    let s = stats::summarize(v, confidence);
    cell.center = s.median;
    match (s.ci_low, s.ci_high) {
        (Some(lo), Some(hi)) => {
            cell.lo = lo;
            cell.hi = hi;
        }
        _ => {
            cell.lo = f64::NEG_INFINITY;
            cell.hi = f64::INFINITY;
            cell.warnings.push(notes.interval.clone());
        }
    }
}

fn compare_cells(base: &Cell, cell: &Cell, exact: bool, alpha: f64, notes: &Notes) -> CellComparison {
    let (n_base, n) = (base.values.len(), cell.values.len());
    if exact {
        return CellComparison { p: 0.0, n_base, n, alpha: 0.0, warnings: Vec::new() };
    }
    let first = base.values[0];
    if base.values.iter().chain(&cell.values).all(|&x| x == first) {
        // go-moremath refuses the U test here; benchstat reports p=1.
        return CellComparison { p: 1.0, n_base, n, alpha, warnings: vec!["all samples are equal".into()] };
    }
    let p = stats::mann_whitney_u(&base.values, &cell.values);
    let mut warnings = Vec::new();
    // Warn when even maximally separated samples of these sizes could not
    // reach alpha.
    if p > alpha && n_base < notes.u_test.0 && n < notes.u_test.0 {
        warnings.push(notes.u_test.1.clone());
    }
    CellComparison { p, n_base, n, alpha, warnings }
}

/// Go's `%v` for a float64 (`%g` with the shortest round-trip digits):
/// exponent form when the decimal exponent is < -4 or >= 6, as in `1e+06`.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let e = format!("{v:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{v}")
    }
}

// ---------------------------------------------------------------------------
// JSON (DESIGN §7 comparisons and geomeans).

/// `perfgate benchstat --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct BenchstatJson {
    pub comparisons: Vec<Comparison>,
    pub geomeans: Vec<Geomean>,
    /// Benchmarks present in only some inputs, and input problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Comparisons of every column against the first, in the units as written
/// in the files, with q-values (Benjamini–Hochberg) across all rows.
/// `threshold` is the smallest relative change (0.02 = 2%) a verdict calls a change.
pub fn to_json(report: &Report, threshold: f64) -> BenchstatJson {
    let cfg = CompareConfig {
        alpha: report.options.alpha,
        confidence: report.options.confidence,
        threshold,
        ..CompareConfig::default()
    };
    let mut effects = Vec::new();
    let varying = varying_config_keys(report);
    let mut comparisons = Vec::new();
    let mut geomeans = Vec::new();
    let mut warnings = report.warnings.clone();
    for table in &report.tables {
        let scenario = varying
            .iter()
            .filter(|&&k| !table.config[k].is_empty())
            .map(|&k| format!("{}={}", report.config_keys[k], table.config[k]))
            .collect::<Vec<_>>()
            .join(" ");
        // Report in the file's own unit when the table has one spelling
        // (`ns/op`), so JSON numbers are the ones in the files.
        let (unit, raw) = match table.source_units.as_slice() {
            [one] => (one.clone(), true),
            _ => (table.unit.clone(), false),
        };
        let better = table.better.unwrap_or_else(|| gobench::better_for_unit(&unit));
        let summaries: Vec<Vec<Option<stats::Summary>>> = table
            .rows
            .iter()
            .map(|row| {
                row.cells
                    .iter()
                    .map(|c| c.as_ref().map(|c| stats::summarize(if raw { &c.raw } else { &c.values }, cfg.confidence)))
                    .collect()
            })
            .collect();
        for (row, sums) in table.rows.iter().zip(&summaries) {
            let present = row.cells.iter().filter(|c| c.is_some()).count();
            if table.columns.len() > 1 && (row.cells[0].is_none() || present == 1) {
                warnings.push(format!("{} ({unit}): only in {}", row.name, only_in(report, table, row)));
            }
            let (Some(base), Some(base_summary)) = (&row.cells[0], &sums[0]) else {
                continue;
            };
            for (cell, cand_summary) in row.cells.iter().zip(sums).skip(1) {
                let (Some(cell), Some(cand_summary)) = (cell, cand_summary) else {
                    continue;
                };
                let (effect, test) = if table.exact {
                    let delta = if cell.center == base.center || base.center == 0.0 {
                        0.0
                    } else {
                        (cell.center / base.center - 1.0) * 100.0
                    };
                    let effect = stats::Effect {
                        delta_pct: delta,
                        delta_ci_low_pct: None,
                        delta_ci_high_pct: None,
                        p_value: None,
                        test: stats::Test::MannWhitneyU,
                        mde_pct: None,
                        e_value: None,
                        in_family: false,
                        needs: None,
                    };
                    (effect, "exact".to_string())
                } else {
                    let (b, c) = if raw { (&base.raw, &cell.raw) } else { (&base.values, &cell.values) };
                    let effect = stats::compare_unpaired(b, c, &cfg);
                    let test = effect.test.as_str().to_string();
                    (effect, test)
                };
                let mut notes: Vec<String> = Vec::new();
                let cmp_warnings = cell.comparison.iter().flat_map(|c| c.warnings.iter());
                for n in base.warnings.iter().chain(&cell.warnings).chain(cmp_warnings) {
                    if !notes.contains(n) {
                        notes.push(n.clone());
                    }
                }
                comparisons.push(Comparison {
                    scenario: scenario.clone(),
                    benchmark: row.name.clone(),
                    metric: unit.clone(),
                    unit: unit.clone(),
                    better,
                    baseline: SideSummary::from(base_summary),
                    candidate: SideSummary::from(cand_summary),
                    delta_pct: finite_or_zero(effect.delta_pct),
                    delta_ci_low_pct: effect.delta_ci_low_pct,
                    delta_ci_high_pct: effect.delta_ci_high_pct,
                    p_value: effect.p_value,
                    q_value: None,
                    test,
                    mde_pct: effect.mde_pct,
                    verdict: crate::model::Verdict::Inconclusive,
                    notes,
                    e_value: None,
                    in_family: effect.in_family,
                    judged: false,
                    unsettled: None,
                });
                effects.push(effect);
            }
        }
        // Geomeans as benchstat shows them (tables with more than one row),
        // centers in the reported unit, change as the geomean of ratios.
        if table.rows.len() > 1 {
            let column_medians =
                |c: usize| -> Vec<f64> { summaries.iter().filter_map(|s| s[c].as_ref()).map(|s| s.median).collect() };
            let base_geomean = stats::geomean(&column_medians(0));
            for (c, s) in table.summary.iter().enumerate().skip(1) {
                let (Some(b), Some(n), Some(ratio)) = (base_geomean, stats::geomean(&column_medians(c)), s.ratio)
                else {
                    continue;
                };
                geomeans.push(Geomean {
                    scenario: scenario.clone(),
                    metric: unit.clone(),
                    unit: unit.clone(),
                    benchmarks: s.ratios,
                    baseline: b,
                    candidate: n,
                    delta_pct: (ratio - 1.0) * 100.0,
                });
            }
        }
    }

    // q-values across every comparison that has a p-value, then verdicts.
    super::judge(&mut comparisons, &effects, &cfg);
    BenchstatJson { comparisons, geomeans, warnings }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

fn only_in(report: &Report, table: &Table, row: &Row) -> String {
    row.cells
        .iter()
        .zip(&table.columns)
        .filter(|(c, _)| c.is_some())
        .map(|(_, &l)| report.labels[l].as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn varying_config_keys(report: &Report) -> Vec<usize> {
    (0..report.config_keys.len())
        .filter(|&k| report.tables.iter().any(|t| t.config[k] != report.tables[0].config[k]))
        .collect()
}
