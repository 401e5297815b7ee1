//! benchstat-compatible comparison of parsed Go benchmark files: groups
//! results into tables per configuration and unit exactly as Go's benchstat
//! does, summarizes them with `crate::stats`, renders text, CSV or JSON.

use std::collections::HashMap;
use std::fmt::Write as _;
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
    /// Value per `Report::config_keys` entry; "" where unset.
    pub config: Vec<String>,
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
    /// Distinct configuration tuples (values by field, trailing "" trimmed).
    tuples: Vec<Vec<String>>,
    tuple_index: HashMap<Vec<String>, usize>,
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

    fn tuple_of(&mut self, entries: &[(String, String)]) -> usize {
        let mut values: Vec<String> = vec![String::new(); self.config_keys.len()];
        for (k, v) in entries {
            let idx = match self.config_index.get(k) {
                Some(&i) => i,
                None => {
                    self.config_keys.push(k.clone());
                    self.config_index.insert(k.clone(), self.config_keys.len() - 1);
                    values.push(String::new());
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
        let full_tuple = |t: usize| -> Vec<String> {
            let mut v = self.tuples[t].clone();
            v.resize(nkeys, String::new());
            v
        };
        let mut order: Vec<usize> = (0..self.tables.len()).collect();
        // benchproc never records observation order for .config sub-fields,
        // so their comparison falls back to plain string order; .unit is by
        // first appearance.
        order.sort_by(|&a, &b| {
            let (ta, tb) = (&self.tables[a], &self.tables[b]);
            full_tuple(ta.tuple).cmp(&full_tuple(tb.tuple)).then(ta.unit.cmp(&tb.unit))
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

impl Cell {
    /// benchmath `Summary.PctRangeString`: the interval's half-width as a
    /// percentage of the center, "∞" when unbounded.
    pub fn range_string(&self) -> String {
        if self.lo.is_infinite() || self.hi.is_infinite() {
            return "∞".into();
        }
        let c = sign(self.center);
        if c != sign(self.lo) || c != sign(self.hi) {
            return "?".into();
        }
        if self.center == 0.0 {
            return "0%".into();
        }
        let (a, b) = (self.hi / self.center - 1.0, 1.0 - self.lo / self.center);
        // Go's math.Max propagates NaN where f64::max would drop it.
        let v = if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) };
        let pct = 100.0 * v;
        if pct.is_finite() { format!("{}%", fixed(pct, 0, false)) } else { format!("{}%", go_float(pct)) }
    }
}

fn sign(x: f64) -> i32 {
    if x < 0.0 {
        -1
    } else if x > 0.0 {
        1
    } else {
        0
    }
}

impl CellComparison {
    /// benchmath `Comparison.String`: "p=0.PPP n=N" or "n=N1+N2".
    pub fn describe(&self) -> String {
        let mut s = String::new();
        if self.p != 0.0 {
            let _ = write!(s, "p={} ", fixed(self.p, 3, false));
        }
        if self.n_base == self.n {
            let _ = write!(s, "n={}", self.n);
        } else {
            let _ = write!(s, "n={}+{}", self.n_base, self.n);
        }
        s
    }

    /// benchmath `Comparison.FormatDelta`: "~" when not significant.
    pub fn format_delta(&self, old: f64, new: f64) -> String {
        if self.p > self.alpha {
            return "~".into();
        }
        if old == new {
            return "0.00%".into();
        }
        if old == 0.0 {
            return "?".into();
        }
        format!("{}%", fixed((new / old - 1.0) * 100.0, 2, true))
    }
}

// ---------------------------------------------------------------------------
// Number formatting (benchunit).

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

/// `x` with `prec` digits after the point, rounded like Go's `%.*f` and
/// Rust's `{:.*}` (correctly, ties to even), with a leading `+` for
/// non-negative values when `plus`. Rendering formats a few numbers per
/// cell; the exact float formatter is slow enough to show up on 50 MB
/// inputs, so values whose rounding is unambiguous take an integer path.
fn fixed(x: f64, prec: usize, plus: bool) -> String {
    const POW10: [f64; 11] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];
    if x.is_finite() && prec < POW10.len() {
        let y = x.abs() * POW10[prec];
        // Below 2^30 the product is within 2e-7 of the exact decimal
        // value, so unless it sits near .5 its rounding is the exact one.
        if y < 1e9 && (y - y.floor() - 0.5).abs() > 1e-6 {
            let n = y.round() as u64;
            let mut out = String::with_capacity(prec + 12);
            if x.is_sign_negative() {
                out.push('-');
            } else if plus {
                out.push('+');
            }
            let scale = 10u64.pow(prec as u32);
            let _ = write!(out, "{}", n / scale);
            if prec > 0 {
                let _ = write!(out, ".{:0width$}", n % scale, width = prec);
            }
            return out;
        }
    }
    if plus { format!("{x:+.prec$}") } else { format!("{x:.prec$}") }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitClass {
    Decimal,
    Binary,
}

/// benchunit.ClassOf: binary (powers of 1024) when bytes are in the numerator.
fn class_of(unit: &str) -> UnitClass {
    let bytes = gobench::unit_tokens(unit).iter().any(|t| !t.denominator && matches!(t.text, "B" | "MB" | "bytes"));
    if bytes { UnitClass::Binary } else { UnitClass::Decimal }
}

/// benchunit.Scaler: digits after the point, divisor, prefix.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scaler {
    prec: usize,
    factor: f64,
    prefix: &'static str,
}

impl Scaler {
    fn format(&self, v: f64) -> String {
        let x = v / self.factor;
        if x.is_finite() {
            let mut s = fixed(x, self.prec, false);
            s.push_str(self.prefix);
            s
        } else {
            // strconv spells these "+Inf", "-Inf", "NaN".
            format!("{}{}", go_float(x), self.prefix)
        }
    }
}

struct Factor {
    factor: f64,
    prefix: &'static str,
    t100: f64,
    t10: f64,
    t1: f64,
}

/// Thresholds are the parsed forms of 99.995eX, 9.9995eX, .99995eX so that
/// the choice of scale agrees with how the printed value rounds.
fn si_factors() -> &'static [Factor] {
    static F: std::sync::OnceLock<Vec<Factor>> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let prefixes = ["T", "G", "M", "k", "", "m", "µ", "n"];
        let factors = [1e12, 1e9, 1e6, 1e3, 1.0, 1e-3, 1e-6, 1e-9];
        let mut exp = 12i32;
        let mut out = Vec::new();
        for (p, f) in prefixes.iter().zip(factors) {
            let parse = |s: String| s.parse::<f64>().unwrap_or(f64::INFINITY);
            out.push(Factor {
                factor: f,
                prefix: p,
                t100: parse(format!("99.995e{exp}")),
                t10: parse(format!("9.9995e{exp}")),
                t1: parse(format!(".99995e{exp}")),
            });
            exp -= 3;
        }
        out
    })
}

fn iec_factors() -> &'static [Factor] {
    static F: std::sync::OnceLock<Vec<Factor>> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        // The hex mantissas benchunit uses for 99.995, 9.9995 and .99995
        // times a power of two (exact in binary).
        let m = |bits: u64, exp: i32| (bits as f64) * 2f64.powi(exp - 52);
        let mut out = Vec::new();
        let mut exp = 40i32;
        for p in ["Ti", "Gi", "Mi", "Ki", ""] {
            out.push(Factor {
                factor: 2f64.powi(exp),
                prefix: p,
                t100: m(0x18ffae147ae148, 6 + exp),
                t10: m(0x13ffbe76c8b439, 3 + exp),
                t1: m(0x1fff972474538f, -1 + exp),
            });
            exp -= 10;
        }
        out
    })
}

fn sigfig_thresholds() -> &'static [f64] {
    static F: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    F.get_or_init(|| (1..9).map(|e| format!("9.9995e-{e}").parse::<f64>().unwrap_or(0.0)).collect())
}

/// benchunit.CommonScale: one scale showing at least three significant
/// digits of every value, chosen by the non-zero value closest to zero.
fn common_scale(values: &[f64], class: UnitClass) -> Scaler {
    let mut min = 0.0f64;
    for &v in values {
        let v = v.abs();
        if v != 0.0 && (min == 0.0 || v < min) {
            min = v;
        }
    }
    if min == 0.0 {
        return Scaler { prec: 3, factor: 1.0, prefix: "" };
    }
    let factors = match class {
        UnitClass::Decimal => si_factors(),
        UnitClass::Binary => iec_factors(),
    };
    for f in factors {
        if min >= f.t100 {
            return Scaler { prec: 1, factor: f.factor, prefix: f.prefix };
        } else if min >= f.t10 {
            return Scaler { prec: 2, factor: f.factor, prefix: f.prefix };
        } else if min >= f.t1 {
            return Scaler { prec: 3, factor: f.factor, prefix: f.prefix };
        }
    }
    let last = &factors[factors.len() - 1];
    let val = min / last.factor;
    let th = sigfig_thresholds();
    for (i, &t) in th.iter().enumerate() {
        if val >= t || i == th.len() - 1 {
            return Scaler { prec: i + 3, factor: last.factor, prefix: last.prefix };
        }
    }
    Scaler { prec: 3, factor: last.factor, prefix: last.prefix }
}

fn scale(v: f64, class: UnitClass) -> String {
    common_scale(&[v], class).format(v)
}

fn superscript(i: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    if i == 0 {
        return DIGITS[0].to_string();
    }
    let mut out: Vec<char> = Vec::new();
    let mut i = i;
    while i > 0 {
        out.push(DIGITS[i % 10]);
        i /= 10;
    }
    out.iter().rev().collect()
}

// ---------------------------------------------------------------------------
// Text layout (benchstat's internal texttab).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

struct TextCell {
    row: usize,
    col: usize,
    span: usize,
    value: String,
    margin: &'static str,
    align: Align,
}

/// A grid of cells with per-column left margins, spans and "shrink"
/// columns that never grow to fit a span; laid out once at the end.
#[derive(Default)]
struct TextGrid {
    cells: Vec<TextCell>,
    cols: usize,
    shrink: Vec<bool>,
    cur_row: usize,
    cur_col: usize,
}

impl TextGrid {
    fn row(&mut self) {
        if !self.cells.is_empty() {
            self.cur_row += 1;
        }
        self.cur_col = 0;
    }

    fn col(&mut self, col: usize) {
        debug_assert!(col >= self.cur_col);
        self.cur_col = self.cur_col.max(col);
    }

    fn cell(&mut self, value: String, align: Align, margin: Option<&'static str>) {
        self.span(1, value, align, margin);
    }

    fn span(&mut self, cols: usize, value: String, align: Align, margin: Option<&'static str>) {
        let default = if self.cur_col == 0 || value.is_empty() { "" } else { " " };
        self.cells.push(TextCell {
            row: self.cur_row,
            col: self.cur_col,
            span: cols,
            value,
            margin: margin.unwrap_or(default),
            align,
        });
        self.cur_col += cols;
        self.cols = self.cols.max(self.cur_col);
    }

    fn set_shrink(&mut self, col: usize) {
        if self.shrink.len() < col + 1 {
            self.shrink.resize(col + 1, false);
        }
        self.shrink[col] = true;
    }

    fn format(mut self, out: &mut String) {
        let shrink = |c: usize| self.shrink.get(c).copied().unwrap_or(false);
        let mut lmargin = vec![0usize; self.cols];
        for c in &self.cells {
            lmargin[c.col] = lmargin[c.col].max(c.margin.chars().count());
        }
        let mut ws = vec![0usize; self.cols];
        let mut by_span: Vec<usize> = (0..self.cells.len()).collect();
        by_span.sort_by_key(|&i| self.cells[i].span);
        for &i in &by_span {
            let cell = &self.cells[i];
            let mut w = (cell.value.chars().count() + lmargin[cell.col]) as i64;
            if cell.span == 1 {
                ws[cell.col] = ws[cell.col].max(w as usize);
                continue;
            }
            let range = cell.col..cell.col + cell.span;
            let total: usize = ws[range.clone()].iter().sum();
            if total as i64 >= w {
                continue;
            }
            // Grow the stretchable columns to the average still needed,
            // widest first so their excess is shared among the others.
            let mut span_cols = Vec::new();
            for c in range {
                if shrink(c) {
                    w -= ws[c] as i64;
                } else {
                    span_cols.push(c);
                }
            }
            span_cols.sort_by(|&a, &b| ws[b].cmp(&ws[a]));
            let mut left = span_cols.len() as i64;
            for c in span_cols {
                let avg = (w + left - 1).div_euclid(left.max(1));
                ws[c] = ws[c].max(avg.max(0) as usize);
                w -= ws[c] as i64;
                left -= 1;
            }
        }
        let mut offs = vec![0usize; self.cols + 1];
        let mut off = 0;
        for (i, w) in ws.iter().enumerate() {
            offs[i] = off;
            off += w;
        }
        offs[self.cols] = off;

        self.cells.sort_by_key(|c| (c.row, c.col));
        let (mut row, mut off) = (0usize, 0i64);
        for cell in &self.cells {
            if cell.value.trim().is_empty() && cell.margin.trim().is_empty() {
                continue;
            }
            while cell.row > row {
                out.push('\n');
                row += 1;
                off = 0;
            }
            let spaces = offs[cell.col] as i64 - off;
            // Go's %*s with a negative width still pads (left-justified).
            pad(out, spaces.unsigned_abs() as usize);
            let m = cell.margin.chars().count();
            pad(out, lmargin[cell.col].saturating_sub(m));
            out.push_str(cell.margin);
            off += spaces + lmargin[cell.col].max(m) as i64;
            let tw = offs[cell.col + cell.span] as i64 - offs[cell.col] as i64 - lmargin[cell.col] as i64;
            let len = cell.value.chars().count() as i64;
            let written = match cell.align {
                Align::Left => 0,
                Align::Center => {
                    let l = (tw - len) / 2;
                    pad(out, l.unsigned_abs() as usize);
                    l.unsigned_abs() as i64
                }
                Align::Right => {
                    let l = (tw - len).max(0);
                    pad(out, l as usize);
                    l
                }
            };
            out.push_str(&cell.value);
            off += written + len;
        }
        if !self.cells.is_empty() {
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Footnote collector of one table: messages numbered in first-use order.
#[derive(Default)]
struct Footnotes {
    list: Vec<String>,
    index: HashMap<String, usize, FxBuild>,
}

impl Footnotes {
    fn marks<'a>(&mut self, msgs: impl IntoIterator<Item = &'a String>) -> String {
        let mut marks = Vec::new();
        for m in msgs {
            let i = match self.index.get(m) {
                Some(&i) => i,
                None => {
                    self.list.push(m.clone());
                    self.index.insert(m.clone(), self.list.len() - 1);
                    self.list.len() - 1
                }
            };
            marks.push(superscript(i + 1));
        }
        marks.join(" ")
    }
}

/// Renders benchstat's default text output.
pub fn render_text(report: &Report) -> String {
    // Tables lay out independently (widths and footnotes are per table).
    let bodies = par_map(&report.tables, |table| {
        let mut s = String::new();
        render_table_text(report, table, &mut s);
        s
    });
    let mut out = String::with_capacity(bodies.iter().map(String::len).sum::<usize>() + 4096);
    let mut bodies = bodies.into_iter();
    render_headers(
        report,
        &mut out,
        |out, line| {
            out.push_str(line);
            out.push('\n');
        },
        |out, _| out.push_str(&bodies.next().unwrap_or_default()),
    );
    out
}

/// `items.iter().map(f)` spread over the available cores, results in order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    let parts: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    items.iter().enumerate().skip(t).step_by(threads).map(|(i, x)| (i, f(x))).collect::<Vec<_>>()
                })
            })
            .collect();
        // A panic in a worker is a bug; re-raise it rather than lose output.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, r) in parts.into_iter().flatten() {
        slots[i] = Some(r);
    }
    slots.into_iter().flatten().collect()
}

/// benchtab.printTables: configuration lines that changed since the
/// previous table (all of them before the first), then the table.
fn render_headers(
    report: &Report,
    out: &mut String,
    mut header: impl FnMut(&mut String, &str),
    mut body: impl FnMut(&mut String, &Table),
) {
    let mut prev: Option<&Table> = None;
    for (i, table) in report.tables.iter().enumerate() {
        if i > 0 {
            header(out, "");
        }
        for (k, key) in report.config_keys.iter().enumerate() {
            let val = &table.config[k];
            if prev.is_none_or(|p| &p.config[k] != val) {
                header(out, &format!("{key}: {val}"));
            }
        }
        prev = Some(table);
        body(out, table);
    }
}

fn render_table_text(report: &Report, table: &Table, out: &mut String) {
    const CENTER_COLS: usize = 3; // value, ± range, footnotes
    const DELTA_COLS: usize = 3; // delta, (p= n=), footnotes
    let start_col = |exp: usize| {
        if exp == 0 { 1 } else { 1 + CENTER_COLS + (exp - 1) * (CENTER_COLS + DELTA_COLS) }
    };
    let mut o = TextGrid::default();
    let mut notes = Footnotes::default();
    let ncols = table.columns.len();
    let r_edge = start_col(ncols + 1);

    // Column labels (one header level: the file).
    o.row();
    for (exp, &label) in table.columns.iter().enumerate() {
        let (l, r) = (start_col(exp), start_col(exp + 1));
        o.col(l);
        o.span(r - l, report.labels[label].clone(), Align::Center, Some(" │ "));
    }
    o.col(r_edge);
    o.cell(String::new(), Align::Left, Some(" │"));

    // Units and "vs base".
    o.row();
    for exp in 0..ncols {
        let l = start_col(exp);
        o.col(l);
        o.span(CENTER_COLS, table.unit.clone(), Align::Center, Some(" │ "));
        if exp > 0 {
            o.span(DELTA_COLS, "vs base".into(), Align::Left, Some("  "));
        }
        for j in l + 1..o.cur_col {
            o.set_shrink(j);
        }
    }
    o.col(r_edge);
    o.cell(String::new(), Align::Left, Some(" │"));

    let class = class_of(&table.unit);
    for row in &table.rows {
        o.row();
        o.cell(row.name.clone(), Align::Left, None);
        let centers: Vec<f64> = row.cells.iter().flatten().map(|c| c.center).collect();
        let scaler = common_scale(&centers, class);
        let base = row.cells[0].as_ref();
        for (exp, cell) in row.cells.iter().enumerate() {
            let Some(cell) = cell else { continue };
            o.col(start_col(exp));
            o.cell(scaler.format(cell.center), Align::Right, None);
            o.cell(cell.range_string(), Align::Right, Some(" ± "));
            let marks = notes.marks(&cell.warnings);
            o.cell(marks, Align::Left, None);
            if let (true, Some(base), Some(cmp)) = (exp > 0, base, &cell.comparison) {
                o.cell(cmp.format_delta(base.center, cell.center), Align::Right, None);
                o.cell(format!("({})", cmp.describe()), Align::Left, None);
                let marks = notes.marks(&cmp.warnings);
                o.cell(marks, Align::Left, None);
            }
        }
    }

    if table.rows.len() > 1 {
        o.row();
        o.cell("geomean".into(), Align::Left, None);
        for (exp, s) in table.summary.iter().enumerate() {
            if let Some(g) = s.geomean {
                o.col(start_col(exp));
                o.cell(scale(g, class), Align::Right, None);
            }
            if exp > 0 {
                o.col(start_col(exp) + CENTER_COLS);
                match s.ratio {
                    Some(r) => o.cell(format!("{}%", fixed((r - 1.0) * 100.0, 2, true)), Align::Right, None),
                    None => o.cell("?".into(), Align::Left, None),
                }
            }
            o.col(start_col(exp + 1) - 1);
            let marks = notes.marks(&s.warnings);
            o.cell(marks, Align::Left, None);
        }
    }

    o.format(out);
    for (i, msg) in notes.list.iter().enumerate() {
        let _ = writeln!(out, "{} {}", superscript(i + 1), msg);
    }
}

// ---------------------------------------------------------------------------
// CSV (benchstat -format csv).

/// CSV output and the cell-referenced warnings benchstat writes to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOutput {
    pub csv: String,
    pub warnings: String,
}

/// Renders benchstat's `-format csv` output.
pub fn render_csv(report: &Report) -> CsvOutput {
    let mut csv = String::new();
    let mut warnings = String::new();
    let mut line = 1usize;
    let mut prev: Option<&Table> = None;
    for (i, table) in report.tables.iter().enumerate() {
        if i > 0 {
            write_csv_record(&mut csv, &[String::new()]);
            line += 1;
        }
        for (k, key) in report.config_keys.iter().enumerate() {
            let val = &table.config[k];
            if prev.is_none_or(|p| &p.config[k] != val) {
                write_csv_record(&mut csv, &[format!("{key}: {val}")]);
                line += 1;
            }
        }
        prev = Some(table);
        line += render_table_csv(report, table, line, &mut csv, &mut warnings);
    }
    CsvOutput { csv, warnings }
}

fn render_table_csv(report: &Report, table: &Table, start_row: usize, csv: &mut String, warns: &mut String) -> usize {
    const CENTER_COLS: usize = 2;
    const DELTA_COLS: usize = 2;
    let start_col = |exp: usize| {
        if exp == 0 { 1 } else { 1 + CENTER_COLS + (exp - 1) * (CENTER_COLS + DELTA_COLS) }
    };
    let ncols = table.columns.len();
    let mut count = 0usize;
    let mut row: Vec<String> = Vec::new();
    let clear_to = |row: &mut Vec<String>, col: usize| {
        while row.len() < col {
            row.push(String::new());
        }
    };
    let mut emit = |row: &mut Vec<String>, count: &mut usize| {
        write_csv_record(csv, row);
        row.clear();
        *count += 1;
    };
    let warn = |row: &Vec<String>, count: usize, msgs: &[String], warns: &mut String| {
        let name = csv_column_name(row.len());
        for m in msgs {
            let _ = writeln!(warns, "{name}{}: {m}", start_row + count);
        }
    };

    for (exp, &label) in table.columns.iter().enumerate() {
        clear_to(&mut row, start_col(exp));
        row.push(report.labels[label].clone());
    }
    clear_to(&mut row, start_col(ncols));
    emit(&mut row, &mut count);

    for exp in 0..ncols {
        clear_to(&mut row, start_col(exp));
        row.push(table.unit.clone());
        row.push("CI".into());
        if exp > 0 {
            row.push("vs base".into());
            row.push("P".into());
        }
    }
    emit(&mut row, &mut count);

    for r in &table.rows {
        row.push(r.name.clone());
        let base = r.cells[0].as_ref();
        for (exp, cell) in r.cells.iter().enumerate() {
            let Some(cell) = cell else { continue };
            clear_to(&mut row, start_col(exp));
            warn(&row, count, &cell.warnings, warns);
            row.push(go_float(cell.center));
            row.push(cell.range_string());
            if let (true, Some(base), Some(cmp)) = (exp > 0, base, &cell.comparison) {
                warn(&row, count, &cmp.warnings, warns);
                row.push(cmp.format_delta(base.center, cell.center));
                row.push(cmp.describe());
            }
        }
        emit(&mut row, &mut count);
    }

    row.push("geomean".into());
    for (exp, s) in table.summary.iter().enumerate() {
        clear_to(&mut row, start_col(exp));
        warn(&row, count, &s.warnings, warns);
        if let Some(g) = s.geomean {
            row.push(go_float(g));
        }
        if exp > 0 {
            clear_to(&mut row, start_col(exp) + CENTER_COLS);
            row.push(match s.ratio {
                Some(r) => format!("{}%", fixed((r - 1.0) * 100.0, 2, true)),
                None => "?".into(),
            });
        }
    }
    clear_to(&mut row, start_col(ncols));
    emit(&mut row, &mut count);
    count
}

/// benchtab's spreadsheet-style column name for warnings (its own
/// non-bijective base 26: 0 → A, 1 → B, 26 → BA).
fn csv_column_name(mut x: usize) -> String {
    if x == 0 {
        return "A".into();
    }
    let mut out = Vec::new();
    while x > 0 {
        out.push(b'A' + (x % 26) as u8);
        x /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// encoding/csv quoting: quote fields with a comma, quote, CR, LF, a
/// leading space, or exactly `\.`.
fn write_csv_record(out: &mut String, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let needs = !f.is_empty()
            && (f == "\\." || f.contains([',', '"', '\r', '\n']) || f.chars().next().is_some_and(char::is_whitespace));
        if needs {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
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
    let cfg = CompareConfig { alpha: report.options.alpha, confidence: report.options.confidence, threshold };
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
                });
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
    crate::results::judge(&mut comparisons, &cfg);
    BenchstatJson { comparisons, geomeans, warnings }
}

/// Renders `to_json` as pretty JSON with a trailing newline.
pub fn render_json(report: &Report, threshold: f64) -> String {
    let model = to_json(report, threshold);
    let mut s = serde_json::to_string_pretty(&model).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_matches_exact_formatting() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..50_000 {
            let mag = (next() % 24) as i32 - 12;
            let x = (next() >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi(mag);
            let x = if next() % 2 == 0 { -x } else { x };
            for prec in 0..=10 {
                assert_eq!(fixed(x, prec, false), format!("{x:.prec$}"), "{x:e} {prec}");
                assert_eq!(fixed(x, prec, true), format!("{x:+.prec$}"), "{x:e} {prec}");
            }
        }
        for x in [0.5, 1.5, 2.5, 0.125, 0.375, -0.0, 0.0, 1e-300, 2.675, 99.995, 1e9, 1e12, f64::NAN] {
            for prec in 0..=3 {
                assert_eq!(fixed(x, prec, false), format!("{x:.prec$}"));
            }
        }
    }

    #[test]
    fn scales_like_benchunit() {
        // From benchunit's scale_test.go.
        let d = |v: f64| scale(v, UnitClass::Decimal);
        assert_eq!(d(0.0), "0.000");
        assert_eq!(d(9999500000000000.0), "9999.5T");
        assert_eq!(d(999950000000000.0), "1000.0T");
        assert_eq!(d(99995000.0), "100.0M");
        assert_eq!(d(999.95), "1.000k");
        assert_eq!(d(0.99995), "1.000");
        assert_eq!(d(0.00000000099995), "1.000n");
        assert_eq!(d(0.0000000000099995), "0.01000n");
        assert_eq!(d(-99995000000000.0), "-100.0T");
        let b = |v: f64| scale(v, UnitClass::Binary);
        assert_eq!(b(0.99995 * (1u64 << 50) as f64), "1023.9Ti");
        assert_eq!(b(99.995 * (1u64 << 30) as f64), "100.0Gi");
        assert_eq!(b(0.99995 * 1024.0), "1.000Ki");
        assert_eq!(b(0.99995), "1.000");
        assert_eq!(b(0.0099995), "0.01000");
        assert_eq!(b(0.00000000005), "0.0000000001");
        assert_eq!(class_of("B/op"), UnitClass::Binary);
        assert_eq!(class_of("sec/B"), UnitClass::Decimal);
        assert_eq!(class_of("disk-B/sec"), UnitClass::Binary);
    }

    #[test]
    fn go_float_like_fmt_v() {
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(123456.7), "123456.7");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001234), "1.234e-05");
        assert_eq!(go_float(1.005e-7), "1.005e-07");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.95), "0.95");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
    }

    #[test]
    fn csv_quoting_and_column_names() {
        let mut out = String::new();
        write_csv_record(&mut out, &["a,b".into(), " lead".into(), "q\"".into(), String::new(), "ok".into()]);
        assert_eq!(out, "\"a,b\",\" lead\",\"q\"\"\",,ok\n");
        assert_eq!(csv_column_name(0), "A");
        assert_eq!(csv_column_name(1), "B");
        assert_eq!(csv_column_name(27), "BB");
    }

    fn report_of(old: &str, new: &str) -> Report {
        let old = gobench::parse(old).unwrap();
        let new = gobench::parse(new).unwrap();
        let inputs = [Input { label: "old.txt", file: &old }, Input { label: "new.txt", file: &new }];
        build(&inputs, &Options::default())
    }

    #[test]
    fn groups_by_config_and_unit_in_benchstat_order() {
        let r = report_of(
            "note: zzz\nBenchmarkA 1 100 ns/op 3 B/op\nBenchmarkA 1 101 ns/op 3 B/op\n",
            "note: aaa\nextra: e\nBenchmarkA 1 100 ns/op\nBenchmarkB 1 5 ns/op\n",
        );
        assert_eq!(r.config_keys, ["note", "extra"]);
        // .config values sort as strings, units by first appearance.
        let keys: Vec<(String, String)> = r.tables.iter().map(|t| (t.config[0].clone(), t.unit.clone())).collect();
        assert_eq!(
            keys,
            [("aaa".into(), "sec/op".into()), ("zzz".into(), "sec/op".into()), ("zzz".into(), "B/op".into())]
        );
        let text = render_text(&r);
        assert!(text.starts_with("note: aaa\nextra: e\n"), "{text}");
        assert!(text.contains("\nnote: zzz\nextra: \n"), "{text}");
        assert_eq!(r.tables[1].rows[0].cells[0].as_ref().unwrap().center, 100.5e-9);
    }

    #[test]
    fn exact_units_and_zero_ratios() {
        let r = report_of(
            "Unit x assume=exact\nBenchmarkZ 1 0 x\nBenchmarkZ2 1 0 x\nBenchmarkS 1 100 y\nBenchmarkS2 1 100 y\n",
            "BenchmarkZ 1 0 x\nBenchmarkZ2 1 0 x\nBenchmarkS 1 0 y\nBenchmarkS2 1 100 y\n",
        );
        let x = &r.tables[0];
        assert!(x.exact);
        let cmp = x.rows[0].cells[1].as_ref().unwrap().comparison.as_ref().unwrap();
        assert_eq!(cmp.describe(), "n=1");
        assert_eq!(cmp.format_delta(0.0, 0.0), "0.00%");
        assert_eq!(x.summary[1].ratio, Some(1.0));
        assert!(x.summary[0].warnings.iter().any(|w| w.contains("summaries must be >0")));
        // A zero candidate over a non-zero baseline: ratio geomean undefined.
        let y = &r.tables[1];
        assert_eq!(y.summary[1].ratio, None);
        assert!(y.summary[1].warnings.iter().any(|w| w.contains("ratios must be >0")));
    }
}
