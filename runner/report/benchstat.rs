//! benchstat-compatible output of `analyze::benchstat`'s tables: text,
//! CSV and JSON, formatted exactly as Go's benchstat prints them.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::formats::gobench::{self, FxBuild};

pub use crate::analyze::benchstat::{
    BenchstatJson, Cell, CellComparison, ColumnSummary, Input, Options, Report, Row, Table, build, go_float, to_json,
};

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

/// Renders `to_json` as pretty JSON with a trailing newline.
pub fn render_json(report: &Report, threshold: f64) -> String {
    let model = to_json(report, threshold);
    let mut s = serde_json::to_string_pretty(&model).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
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
        let keys: Vec<(String, String)> = r.tables.iter().map(|t| (t.config[0].to_string(), t.unit.clone())).collect();
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
