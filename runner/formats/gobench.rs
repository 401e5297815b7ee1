//! Go benchmark text format (`go test -bench` output), parsed with the
//! semantics of golang.org/x/perf/benchfmt: file-level `key: value`
//! configuration, `BenchmarkName-N iters value unit...` results, `Unit` metadata.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::model::Better;

/// A parsed Go benchmark file.
///
/// Results refer to a configuration snapshot by index, because file-level
/// configuration changes rarely (a `pkg:` line per package) while results
/// are many; sharing snapshots keeps the per-line work to the line itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoBenchFile {
    /// Benchmark results in file order.
    pub results: Vec<GoBenchResult>,
    /// Distinct file-configuration states, in the order they took effect.
    pub configs: Vec<ConfigSnapshot>,
    /// `Unit` metadata lines (e.g. `Unit ns/op better=lower assume=nothing`).
    pub units: Vec<UnitMetadata>,
}

/// The file-level configuration in effect for a result: `key: value` pairs
/// in benchfmt's order (new keys append; a deleted key is swapped with the
/// last one, exactly as benchfmt does, because benchstat's table headers
/// follow this order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSnapshot {
    /// Keys and values are interned: a snapshot copies pointers, not text.
    pub entries: Vec<(Arc<str>, Arc<str>)>,
}

impl ConfigSnapshot {
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| &**k == key).map(|(_, v)| &**v)
    }
}

/// Configuration entries all snapshots of one file may hold together, at
/// least: each snapshot copies the whole configuration, so a file that
/// alternates new keys with results would grow as the square of its size.
/// The budget grows with the input (a quarter entry per byte), which keeps
/// memory linear in it; real `go test` output uses a few entries per package.
const MIN_SNAPSHOT_ENTRIES: usize = 1 << 20;

/// One benchmark result line.
#[derive(Debug, Clone, PartialEq)]
pub struct GoBenchResult {
    /// Full name without the `Benchmark` prefix, including sub-benchmark
    /// parts and the `-N` GOMAXPROCS suffix (`Encode/format=json-8`): the
    /// row key benchstat uses (`.fullname`). Interned: equal names share one
    /// allocation.
    pub name: Arc<str>,
    /// Iteration count (`b.N`).
    pub iters: u64,
    /// Measurements in line order, with Go's unit spelling (`ns/op`).
    pub values: Vec<GoBenchValue>,
    /// Index into [`GoBenchFile::configs`].
    pub config: usize,
    /// 1-based line number in the input.
    pub line: usize,
}

/// One `value unit` pair of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct GoBenchValue {
    pub value: f64,
    /// Unit as written (`ns/op`, `MB/s`, `widgets/op`); interned.
    pub unit: Arc<str>,
}

/// One `key=value` of a `Unit` metadata line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMetadata {
    /// The unit as written on the line.
    pub unit: String,
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A malformed line. Displays as `line:column: message`, so a caller can
/// prefix the file name to get the usual `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) where the problem starts.
    pub column: usize,
    pub message: String,
}

impl GoBenchResult {
    /// Base name: up to the first `/`, or without the `-N` suffix
    /// (benchfmt `Name.Base`).
    pub fn base_name(&self) -> &str {
        base_name(&self.name)
    }

    /// GOMAXPROCS from the `-N` suffix, if present.
    pub fn gomaxprocs(&self) -> Option<u32> {
        let (_, procs) = split_gomaxprocs(&self.name);
        procs.and_then(|p| p[1..].parse().ok())
    }

    /// Sub-benchmark parts: `/key=value` or `/positional` strings, and a
    /// final `-N` for GOMAXPROCS (benchfmt `Name.Parts`).
    pub fn name_parts(&self) -> (&str, Vec<&str>) {
        name_parts(&self.name)
    }

    /// The value of sub-benchmark key `key` (`/size=1024` → `"1024"`).
    pub fn name_key(&self, key: &str) -> Option<&str> {
        let (_, parts) = self.name_parts();
        parts
            .into_iter()
            .find_map(|p| p.strip_prefix('/').and_then(|p| p.strip_prefix(key)).and_then(|p| p.strip_prefix('=')))
    }

    /// The measurement in `unit`, if the line has one.
    pub fn value(&self, unit: &str) -> Option<f64> {
        self.values.iter().find(|v| &*v.unit == unit).map(|v| v.value)
    }
}

impl GoBenchFile {
    /// The configuration in effect for `result`.
    pub fn config_of(&self, result: &GoBenchResult) -> &ConfigSnapshot {
        &self.configs[result.config]
    }
}

/// Base part of a full benchmark name (see [`GoBenchResult::base_name`]).
pub fn base_name(full: &str) -> &str {
    match full.find('/') {
        Some(i) => &full[..i],
        None => split_gomaxprocs(full).0,
    }
}

/// Splits a trailing `-N` (digits) off a name: `("Foo/x=1", Some("-8"))`.
pub fn split_gomaxprocs(name: &str) -> (&str, Option<&str>) {
    let b = name.as_bytes();
    for i in (0..b.len()).rev() {
        if b[i] == b'-' && i < b.len() - 1 {
            return (&name[..i], Some(&name[i..]));
        }
        if !b[i].is_ascii_digit() {
            break;
        }
    }
    (name, None)
}

/// Base name and configuration parts, as benchfmt `Name.Parts`.
pub fn name_parts(full: &str) -> (&str, Vec<&str>) {
    let (rest, procs) = split_gomaxprocs(full);
    let mut parts = Vec::new();
    let mut prev = 0;
    for (i, c) in rest.bytes().enumerate() {
        if c == b'/' {
            parts.push(&rest[prev..i]);
            prev = i;
        }
    }
    parts.push(&rest[prev..]);
    if let Some(p) = procs {
        parts.push(p);
    }
    let base = parts.remove(0);
    (base, parts)
}

/// Whether higher or lower values of `unit` are better, following
/// benchfmt's built-in defaults (`ns/op`, `B/op`, `allocs/op` lower;
/// `MB/s`, `B/s` higher). Units benchfmt does not know are classified by
/// shape: a rate (`…/s`, `…/sec`) is higher-is-better, anything else (a
/// cost per op, a size) lower-is-better. `Unit … better=` metadata, when a
/// file has it, takes precedence; see [`better_from_metadata`].
pub fn better_for_unit(unit: &str) -> Better {
    if let Some(b) = known_better(unit) {
        return b;
    }
    let (tidied, _) = tidy_unit(unit);
    if let Some(b) = known_better(&tidied) {
        return b;
    }
    if tidied.ends_with("/s") || tidied.ends_with("/sec") || tidied.ends_with("/second") {
        Better::Higher
    } else {
        Better::Lower
    }
}

/// benchfmt's built-in table only (`None` = benchstat does not know).
pub fn known_better(unit: &str) -> Option<Better> {
    match unit {
        "ns/op" | "sec/op" | "B/op" | "allocs/op" => Some(Better::Lower),
        "MB/s" | "B/s" => Some(Better::Higher),
        _ => None,
    }
}

/// The direction declared by `Unit <unit> better=higher|lower` metadata.
pub fn better_from_metadata(units: &[UnitMetadata], unit: &str) -> Option<Better> {
    let (want, _) = tidy_unit(unit);
    units.iter().rev().find_map(|m| {
        if m.key != "better" || tidy_unit(&m.unit).0 != want {
            return None;
        }
        match m.value.as_str() {
            "higher" => Some(Better::Higher),
            "lower" => Some(Better::Lower),
            _ => None,
        }
    })
}

/// benchunit.Tidy: normalizes pre-scaled units to base units (`ns` → `sec`,
/// `MB` → `B`, numerator only) and returns the factor to multiply values by.
pub fn tidy_unit(unit: &str) -> (std::borrow::Cow<'_, str>, f64) {
    use std::borrow::Cow;
    match unit {
        "ns/op" => return (Cow::Borrowed("sec/op"), 1e-9),
        "MB/s" => return (Cow::Borrowed("B/s"), 1e6),
        "B/op" | "allocs/op" => return (Cow::Borrowed(unit), 1.0),
        _ => {}
    }
    if !(unit.contains("ns") || unit.contains("MB")) {
        return (Cow::Borrowed(unit), 1.0);
    }
    let mut factor = 1.0;
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    for tok in unit_tokens(unit) {
        if tok.denominator {
            continue;
        }
        match tok.text {
            "ns" => {
                edits.push((tok.pos, 2, "sec"));
                factor /= 1e9;
            }
            "MB" => {
                edits.push((tok.pos, 2, "B"));
                factor *= 1e6;
            }
            _ => {}
        }
    }
    if edits.is_empty() {
        return (Cow::Borrowed(unit), factor);
    }
    let mut out = unit.to_string();
    for &(pos, len, rep) in edits.iter().rev() {
        out.replace_range(pos..pos + len, rep);
    }
    (Cow::Owned(out), factor)
}

/// A token of a unit string, as benchunit's unit parser splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitToken<'a> {
    pub text: &'a str,
    /// Byte offset in the unit string.
    pub pos: usize,
    /// After a `/` (and before any later `*`).
    pub denominator: bool,
}

/// Splits a unit into tokens separated by `*`, `/`, `-` and whitespace;
/// `/` switches to the denominator and `*` back to the numerator.
pub fn unit_tokens(unit: &str) -> Vec<UnitToken<'_>> {
    let mut out = Vec::new();
    let mut denominator = false;
    let mut start: Option<usize> = None;
    for (i, c) in unit.char_indices() {
        let sep = c == '*' || c == '/' || c == '-' || c.is_whitespace();
        if sep {
            if let Some(s) = start.take() {
                out.push(UnitToken { text: &unit[s..i], pos: s, denominator });
            }
            if c == '*' {
                denominator = false;
            } else if c == '/' {
                denominator = true;
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(UnitToken { text: &unit[s..], pos: s, denominator });
    }
    out
}

/// Parses a whole file strictly: the first malformed `Benchmark…` or `Unit`
/// line is an error. Other lines (test output, `PASS`, `ok`) are ignored,
/// as in benchfmt.
pub fn parse(text: &str) -> Result<GoBenchFile, ParseError> {
    let mut parser = Parser::new(text.len());
    for (i, line) in lines(text) {
        parser.line(i, line)?;
    }
    Ok(parser.finish())
}

/// Parses like benchstat does: malformed lines are skipped and returned as
/// errors next to everything that could be read.
pub fn parse_lenient(text: &str) -> (GoBenchFile, Vec<ParseError>) {
    let mut parser = Parser::new(text.len());
    let mut errors = Vec::new();
    for (i, line) in lines(text) {
        if let Err(e) = parser.line(i, line) {
            errors.push(e);
        }
    }
    (parser.finish(), errors)
}

/// Lines with 1-based numbers; a trailing `\r` is dropped, as bufio.ScanLines does.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let empty = text.is_empty();
    body.split('\n').filter(move |_| !empty).enumerate().map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

/// FxHash: interning runs once per line, where SipHash would dominate.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;

/// Incremental parser state: current configuration and intern tables.
struct Parser {
    file: GoBenchFile,
    /// Current configuration, benchfmt-ordered.
    config: Vec<(Arc<str>, Arc<str>)>,
    /// Interned configuration keys and values.
    strings: HashMap<Arc<str>, (), FxBuild>,
    /// Snapshot entries that may still be taken (see [`MIN_SNAPSHOT_ENTRIES`]).
    snapshot_budget: usize,
    snapshot_budget_total: usize,
    /// Unit metadata already recorded, by (tidied unit, key): its index.
    unit_meta: HashMap<(String, String), usize>,
    /// `config` changed since the last snapshot was taken.
    config_dirty: bool,
    names: HashMap<Arc<str>, (), FxBuild>,
    last_name: Option<Arc<str>>,
    /// Few distinct units per file: a linear scan beats hashing.
    units: Vec<Arc<str>>,
    /// Units of the previous result by position: lines repeat their layout.
    last_units: Vec<Arc<str>>,
    /// Reused buffer for a line's values.
    values: Vec<GoBenchValue>,
}

impl Parser {
    fn new(text_len: usize) -> Parser {
        // Result lines are rarely shorter than ~60 bytes; reserving up front
        // avoids re-copying a large results vector as it grows.
        let results = Vec::with_capacity(text_len / 96);
        Parser {
            file: GoBenchFile { results, ..GoBenchFile::default() },
            config: Vec::new(),
            strings: HashMap::default(),
            snapshot_budget: MIN_SNAPSHOT_ENTRIES.max(text_len / 4),
            snapshot_budget_total: MIN_SNAPSHOT_ENTRIES.max(text_len / 4),
            unit_meta: HashMap::new(),
            config_dirty: true,
            names: HashMap::default(),
            last_name: None,
            units: Vec::new(),
            last_units: Vec::new(),
            values: Vec::new(),
        }
    }

    fn finish(self) -> GoBenchFile {
        self.file
    }

    fn line(&mut self, number: usize, line: &str) -> Result<(), ParseError> {
        if let Some(rest) = line.strip_prefix("Benchmark") {
            return self.benchmark_line(number, line, rest);
        }
        if line.as_bytes().first() == Some(&b'U') {
            let (first, rest) = split_field(line);
            if first == "Unit" {
                return self.unit_line(number, line, rest);
            }
        }
        if let Some((key, value)) = key_value_line(line) {
            self.set_config(key, value);
        }
        Ok(())
    }

    fn intern(&mut self, text: &str) -> Arc<str> {
        match self.strings.get_key_value(text) {
            Some((k, _)) => k.clone(),
            None => {
                let k: Arc<str> = Arc::from(text);
                self.strings.insert(k.clone(), ());
                k
            }
        }
    }

    fn set_config(&mut self, key: &str, value: &str) {
        let pos = self.config.iter().position(|(k, _)| &**k == key);
        match (pos, value.is_empty()) {
            (Some(p), true) => {
                // benchfmt deletes by swapping with the last entry.
                self.config.swap_remove(p);
                self.config_dirty = true;
            }
            (None, true) => {}
            (Some(p), false) => {
                if &*self.config[p].1 != value {
                    self.config[p].1 = self.intern(value);
                    self.config_dirty = true;
                }
            }
            (None, false) => {
                let entry = (self.intern(key), self.intern(value));
                self.config.push(entry);
                self.config_dirty = true;
            }
        }
    }

    /// The snapshot for a result on this line: the last one, or a new one
    /// if the configuration changed — unless that would overrun the budget.
    fn current_config(&mut self) -> Result<usize, String> {
        if self.config_dirty {
            let same = self.file.configs.last().is_some_and(|c| c.entries == self.config);
            if !same {
                if self.config.len() > self.snapshot_budget {
                    return Err(format!(
                        "the file configuration changed too often: {} snapshots of up to {} keys exceed the budget of {} entries",
                        self.file.configs.len(),
                        self.config.len(),
                        self.snapshot_budget_total
                    ));
                }
                self.snapshot_budget -= self.config.len();
                self.file.configs.push(ConfigSnapshot { entries: self.config.clone() });
            }
            self.config_dirty = false;
        }
        Ok(self.file.configs.len() - 1)
    }

    fn benchmark_line(&mut self, number: usize, line: &str, after_prefix: &str) -> Result<(), ParseError> {
        let err = |at: &str, message: String| ParseError { line: number, column: column_of(line, at), message };
        let (name, rest) = split_field(after_prefix);
        // `go test -v` prints a bare benchmark name when a benchmark starts.
        if rest.is_empty() && name.len() == after_prefix.len() {
            return Ok(());
        }
        let (iters_s, mut rest) = split_field(rest);
        if iters_s.is_empty() {
            return Err(err(rest, "missing iteration count".into()));
        }
        let iters = parse_iters(iters_s).map_err(|m| err(iters_s, format!("parsing iteration count: {m}")))?;

        self.values.clear();
        loop {
            let (value_s, after_value) = split_field(rest);
            if value_s.is_empty() {
                if !self.values.is_empty() {
                    break;
                }
                return Err(err(after_value, "missing measurements".into()));
            }
            let value = parse_value(value_s).map_err(|m| err(value_s, format!("parsing measurement: {m}")))?;
            let (unit_s, after_unit) = split_field(after_value);
            if unit_s.is_empty() {
                return Err(err(after_unit, "missing units".into()));
            }
            let unit = match self.last_units.get(self.values.len()) {
                Some(u) if &**u == unit_s => u.clone(),
                _ => {
                    let u = self.intern_unit(unit_s);
                    let pos = self.values.len();
                    self.last_units.truncate(pos);
                    self.last_units.push(u.clone());
                    u
                }
            };
            self.values.push(GoBenchValue { value, unit });
            rest = after_unit;
        }

        let config = self.current_config().map_err(|m| err(line, m))?;
        let name = self.intern_name(name);
        let values = std::mem::take(&mut self.values);
        self.values = Vec::with_capacity(values.len());
        self.file.results.push(GoBenchResult { name, iters, values, config, line: number });
        Ok(())
    }

    fn unit_line(&mut self, number: usize, line: &str, rest: &str) -> Result<(), ParseError> {
        let err = |at: &str, message: String| ParseError { line: number, column: column_of(line, at), message };
        let (unit, mut rest) = split_field(rest);
        if unit.is_empty() {
            return Err(err(rest, "missing unit".into()));
        }
        let tidied = tidy_unit(unit).0.into_owned();
        let mut first_error = None;
        loop {
            let (field, after) = split_field(rest);
            if field.is_empty() {
                break;
            }
            rest = after;
            let Some(eq) = field.find('=').filter(|&i| i > 0) else {
                first_error.get_or_insert_with(|| err(field, "expected key=value".into()));
                continue;
            };
            let (key, value) = (&field[..eq], &field[eq + 1..]);
            let existing = self.unit_meta.get(&(tidied.clone(), key.to_string())).map(|&i| &self.file.units[i]);
            match existing {
                Some(m) if m.value == value => {}
                Some(m) => {
                    let msg = format!("metadata {key} of unit {unit} already set to {}", m.value);
                    first_error.get_or_insert_with(|| err(field, msg));
                }
                None => {
                    self.unit_meta.insert((tidied.clone(), key.to_string()), self.file.units.len());
                    self.file.units.push(UnitMetadata {
                        unit: unit.to_string(),
                        key: key.to_string(),
                        value: value.to_string(),
                        line: number,
                    });
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn intern_name(&mut self, name: &str) -> Arc<str> {
        // `-count=N` repeats a name on consecutive lines.
        if let Some(last) = &self.last_name
            && &**last == name
        {
            return last.clone();
        }
        let arc = match self.names.get_key_value(name) {
            Some((k, _)) => k.clone(),
            None => {
                let k: Arc<str> = Arc::from(name);
                self.names.insert(k.clone(), ());
                k
            }
        };
        self.last_name = Some(arc.clone());
        arc
    }

    fn intern_unit(&mut self, unit: &str) -> Arc<str> {
        if let Some(u) = self.units.iter().find(|u| &***u == unit) {
            return u.clone();
        }
        let u: Arc<str> = Arc::from(unit);
        self.units.push(u.clone());
        u
    }
}

/// 1-based character column of `at`, a subslice of `line` (or its end).
fn column_of(line: &str, at: &str) -> usize {
    let offset = (at.as_ptr() as usize).saturating_sub(line.as_ptr() as usize).min(line.len());
    line[..offset].chars().count() + 1
}

/// Byte classes for field splitting: 0 = part of a field, 1 = ASCII
/// whitespace (Go's `unicode.IsSpace`), 2 = start of a multi-byte character
/// (which might be Unicode whitespace). A table lookup per byte keeps the
/// padded columns of `go test` output cheap to skip.
static BYTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'\t' as usize] = 1;
    t[b'\n' as usize] = 1;
    t[0x0b] = 1;
    t[0x0c] = 1;
    t[b'\r' as usize] = 1;
    t[b' ' as usize] = 1;
    let mut i = 0x80;
    while i < 256 {
        t[i] = 2;
        i += 1;
    }
    t
};

/// benchfmt `splitField`: the leading non-space run, and the rest after the
/// whitespace that follows it.
#[inline]
fn split_field(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let mut i = 0;
    let (end, mut j) = loop {
        i = skip_plain_words(b, i);
        while i < b.len() && BYTE_CLASS[b[i] as usize] == 0 {
            i += 1;
        }
        if i == b.len() {
            break (i, i);
        }
        if BYTE_CLASS[b[i] as usize] == 1 {
            break (i, i + 1);
        }
        let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
        if ch.is_whitespace() {
            break (i, i + ch.len_utf8());
        }
        i += ch.len_utf8();
    };
    loop {
        j = skip_space_words(b, j);
        while j < b.len() && BYTE_CLASS[b[j] as usize] == 1 {
            j += 1;
        }
        if j == b.len() || BYTE_CLASS[b[j] as usize] == 0 {
            break;
        }
        let ch = s[j..].chars().next().unwrap_or('\u{fffd}');
        if !ch.is_whitespace() {
            break;
        }
        j += ch.len_utf8();
    }
    (&s[..end], &s[j..])
}

/// Skips whole 8-byte words of printable ASCII (no byte <= 0x20 or >= 0x80)
/// from `i`; the byte loop finishes the job. Names and numbers are long
/// enough that this halves the time spent splitting fields.
#[inline]
fn skip_plain_words(b: &[u8], mut i: usize) -> usize {
    const LOW: u64 = 0x2121_2121_2121_2121;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        // A byte < 0x21 borrows into its high bit; a byte >= 0x80 has it set.
        if (w.wrapping_sub(LOW) | w) & HIGH != 0 {
            break;
        }
        i += 8;
    }
    i
}

/// Skips whole 8-byte words of spaces: `go test` pads columns with them.
#[inline]
fn skip_space_words(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        if chunk != b"        " {
            break;
        }
        i += 8;
    }
    i
}

/// benchfmt `parseKeyValueLine`: a key starting with a lowercase letter,
/// without spaces or uppercase letters, then `:`, then (unless the value is
/// empty) at least one space or tab. An empty value deletes the key.
fn key_value_line(line: &str) -> Option<(&str, &str)> {
    let mut key_end = None;
    for (i, c) in line.char_indices() {
        if i == 0 {
            if !is_go_lower(c) {
                return None;
            }
        } else if c == ':' {
            key_end = Some(i);
            break;
        }
        if c.is_whitespace() || is_go_upper(c) {
            return None;
        }
    }
    let end = key_end?;
    let key = &line[..end];
    let val = &line[end + 1..];
    if val.is_empty() {
        return Some((key, val));
    }
    let trimmed = val.trim_start_matches([' ', '\t']);
    if trimmed.len() == val.len() {
        return None;
    }
    Some((key, trimmed))
}

#[inline]
fn is_go_lower(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_lowercase() } else { c.is_lowercase() }
}

#[inline]
fn is_go_upper(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_uppercase() } else { c.is_uppercase() }
}

/// Go `strconv.Atoi` for the iteration count (sign allowed; negative counts
/// are rejected because `b.N` cannot be negative).
fn parse_iters(s: &str) -> Result<u64, &'static str> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    let n: u64 = digits.parse().map_err(|_| "value out of range")?;
    if n > i64::MAX as u64 {
        return Err("value out of range");
    }
    Ok(n)
}

/// benchfmt `atof`: integers take a fast path (most Go measurements are
/// integral ns/op), everything else the correctly-rounded float parser.
#[inline]
fn parse_value(s: &str) -> Result<f64, &'static str> {
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 15 && b.iter().all(|c| c.is_ascii_digit()) {
        let mut v: u64 = 0;
        for &c in b {
            v = v * 10 + (c - b'0') as u64;
        }
        // Below 2^53, so the conversion is exact: identical to parsing.
        return Ok(v as f64);
    }
    // Rust also accepts forms Go rejects ("1." is fine in both); Go-only
    // forms (hex floats, underscores) are too rare in benchmark output to matter.
    // NaN and ±Inf are not measurements (and JSON cannot carry them): refused.
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err("NaN and infinities are not measurements"),
        Err(_) => Err("invalid syntax"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "goos: linux\n\
goarch: amd64\n\
pkg: example.com/gb1\n\
cpu: AMD EPYC\n\
BenchmarkWork-2    \t   10000\t      2430 ns/op\n\
BenchmarkWork-2    \t   10000\t      2702 ns/op\n\
BenchmarkSizes/size=10-2         \t 1694271\t        16.24 ns/op\t 615.79 MB/s\t        30.00 widgets/op\t       0 B/op\t       0 allocs/op\n\
PASS\n\
ok  \texample.com/gb1\t0.327s\n";

    #[test]
    fn parses_results_and_config() {
        let f = parse(SAMPLE).unwrap();
        assert_eq!(f.results.len(), 3);
        let r = &f.results[2];
        assert_eq!(&*r.name, "Sizes/size=10-2");
        assert_eq!(r.iters, 1694271);
        assert_eq!(r.line, 7);
        let units: Vec<&str> = r.values.iter().map(|v| &*v.unit).collect();
        assert_eq!(units, ["ns/op", "MB/s", "widgets/op", "B/op", "allocs/op"]);
        assert_eq!(r.value("MB/s"), Some(615.79));
        assert_eq!(r.value("allocs/op"), Some(0.0));
        let cfg = f.config_of(r);
        assert_eq!(cfg.get("pkg"), Some("example.com/gb1"));
        assert_eq!(cfg.get("cpu"), Some("AMD EPYC"));
        // "ok  \t..." has a space before any colon: not configuration.
        assert_eq!(cfg.entries.len(), 4);
        assert_eq!(f.configs.len(), 1);
        // Names are interned.
        assert!(Arc::ptr_eq(&f.results[0].name, &f.results[1].name));
    }

    #[test]
    fn name_helpers() {
        let f = parse("BenchmarkEncode/format=json/size=1k-48 10 5 ns/op\nBenchmarkPlain 1 2 x\n").unwrap();
        let r = &f.results[0];
        assert_eq!(r.base_name(), "Encode");
        assert_eq!(r.gomaxprocs(), Some(48));
        assert_eq!(r.name_key("size"), Some("1k"));
        assert_eq!(r.name_key("format"), Some("json"));
        let (base, parts) = r.name_parts();
        assert_eq!(base, "Encode");
        assert_eq!(parts, ["/format=json", "/size=1k", "-48"]);
        assert_eq!(f.results[1].base_name(), "Plain");
        assert_eq!(f.results[1].gomaxprocs(), None);
        assert_eq!(split_gomaxprocs("Foo-"), ("Foo-", None));
    }

    #[test]
    fn config_changes_and_deletes_like_benchfmt() {
        let text = "a: 1\nb: 2\nc: 3\nBenchmarkX 1 1 ns/op\na:\nBenchmarkX 1 1 ns/op\nb: 9\nBenchmarkX 1 1 ns/op\n";
        let f = parse(text).unwrap();
        assert_eq!(f.configs.len(), 3);
        let keys = |i: usize| f.configs[f.results[i].config].entries.clone();
        assert_eq!(keys(0), vec![("a".into(), "1".into()), ("b".into(), "2".into()), ("c".into(), "3".into())]);
        // Deleting "a" swaps the last key into its place.
        assert_eq!(keys(1), vec![("c".into(), "3".into()), ("b".into(), "2".into())]);
        assert_eq!(keys(2), vec![("c".into(), "3".into()), ("b".into(), "9".into())]);
    }

    #[test]
    fn key_value_rules() {
        assert_eq!(key_value_line("goos: linux"), Some(("goos", "linux")));
        assert_eq!(key_value_line("note:\t  spaced value "), Some(("note", "spaced value ")));
        assert_eq!(key_value_line("gone:"), Some(("gone", "")));
        assert_eq!(key_value_line("nospace:value"), None);
        assert_eq!(key_value_line("Upper: x"), None);
        assert_eq!(key_value_line("has space: x"), None);
        assert_eq!(key_value_line("camelCase: x"), None);
        assert_eq!(key_value_line(": x"), None);
        assert_eq!(key_value_line("ok  \tpkg\t0.3s"), None);
        assert_eq!(key_value_line("testing: warning: no tests"), Some(("testing", "warning: no tests")));
    }

    #[test]
    fn ignores_verbose_name_lines_and_crlf() {
        let f =
            parse("BenchmarkSizes\r\nBenchmarkSizes/size=10-2 \t 5 \t 3.5 ns/op\r\npkg: x\r\nBenchmarkY 1 2 ns/op\r\n")
                .unwrap();
        assert_eq!(f.results.len(), 2);
        assert_eq!(f.results[0].value("ns/op"), Some(3.5));
        assert_eq!(f.config_of(&f.results[1]).get("pkg"), Some("x"));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("pkg: x\nBenchmarkA-8 10 abc ns/op\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 17));
        assert_eq!(e.to_string(), "2:17: parsing measurement: invalid syntax");
        let e = parse("BenchmarkA-8 ten 1 ns/op\n").unwrap_err();
        assert_eq!(e.message, "parsing iteration count: invalid syntax");
        assert_eq!(e.column, 14);
        let e = parse("BenchmarkA-8 10 5\n").unwrap_err();
        assert_eq!(e.message, "missing units");
        let e = parse("BenchmarkA-8   10\n").unwrap_err();
        assert_eq!(e.message, "missing measurements");
        let e = parse("BenchmarkA-8   \n").unwrap_err();
        assert_eq!(e.message, "missing iteration count");
        let e = parse("BenchmarkA 99999999999999999999 1 ns/op\n").unwrap_err();
        assert_eq!(e.message, "parsing iteration count: value out of range");
    }

    #[test]
    fn nan_and_infinities_are_refused_with_their_line() {
        for v in ["NaN", "nan", "Inf", "+Inf", "-inf", "infinity", "1e999"] {
            let e = parse(&format!("pkg: x\nBenchmarkA-8 10 {v} ns/op\n")).unwrap_err();
            assert_eq!((e.line, e.column), (2, 17), "{v}");
            assert_eq!(e.message, "parsing measurement: NaN and infinities are not measurements", "{v}");
        }
        let (f, errs) = parse_lenient("BenchmarkA 1 2 ns/op\nBenchmarkA 1 NaN ns/op\n");
        assert_eq!((f.results.len(), errs.len()), (1, 1));
        assert!(f.results.iter().all(|r| r.values.iter().all(|v| v.value.is_finite())));
    }

    /// A file alternating new configuration keys with results would make
    /// every snapshot copy every key: the budget turns that into an error on
    /// the line that overruns it, and memory stays linear in the input.
    #[test]
    fn configuration_churn_is_bounded() {
        let mut text = String::new();
        let mut line = 0;
        while text.len() < 4 << 20 {
            text.push_str(&format!("key{line}: v\nBenchmarkA 1 1 ns/op\n"));
            line += 2;
        }
        let (f, errs) = parse_lenient(&text);
        let copied: usize = f.configs.iter().map(|c| c.entries.len()).sum();
        assert!(copied <= MIN_SNAPSHOT_ENTRIES.max(text.len() / 4), "{copied} entries copied");
        assert!(!errs.is_empty());
        assert!(errs[0].message.contains("configuration changed too often"), "{}", errs[0]);
        // Every snapshot shares its strings with the others.
        let (a, b) = (&f.configs[10].entries[0], &f.configs[11].entries[0]);
        assert!(Arc::ptr_eq(&a.0, &b.0) && Arc::ptr_eq(&a.1, &b.1));
        // Ordinary files never come near it: one snapshot per package.
        let ordinary = "goos: linux\npkg: a\nBenchmarkA 1 1 ns/op\npkg: b\nBenchmarkA 1 1 ns/op\n".repeat(10_000);
        let (f, errs) = parse_lenient(&ordinary);
        assert!(errs.is_empty() && f.results.len() == 20_000);
    }

    #[test]
    fn lenient_keeps_good_lines() {
        let (f, errs) = parse_lenient("BenchmarkA 1 2 ns/op\nBenchmarkB x 1 ns/op\nBenchmarkC 1 3 ns/op\n");
        assert_eq!(f.results.len(), 2);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 2);
    }

    #[test]
    fn unit_metadata() {
        let text = "Unit ns/op better=lower\nUnit x-bytes assume=exact better=higher\nBenchmarkA 1 2 x-bytes\n";
        let f = parse(text).unwrap();
        assert_eq!(f.units.len(), 3);
        assert_eq!(better_from_metadata(&f.units, "x-bytes"), Some(Better::Higher));
        let e = parse("Unit ns/op better=lower\nUnit sec/op better=higher\n").unwrap_err();
        assert_eq!(e.message, "metadata better of unit sec/op already set to lower");
        let e = parse("Unit ns/op junk\n").unwrap_err();
        assert_eq!(e.message, "expected key=value");
        assert_eq!(parse("Unit\n").unwrap_err().message, "missing unit");
    }

    #[test]
    fn tidy_units_like_benchunit() {
        let t = |u: &str| {
            let (s, f) = tidy_unit(u);
            (s.into_owned(), f)
        };
        assert_eq!(t("ns/op"), ("sec/op".into(), 1e-9));
        assert_eq!(t("x-ns/op"), ("x-sec/op".into(), 1e-9));
        assert_eq!(t("MB/s"), ("B/s".into(), 1e6));
        assert_eq!(t("x-MB/s"), ("x-B/s".into(), 1e6));
        assert_eq!(t("op/ns"), ("op/ns".into(), 1.0));
        assert_eq!(t("MB*MB/s"), ("B*B/s".into(), 1e12));
        assert_eq!(t("MB/MB"), ("B/MB".into(), 1e6));
        assert_eq!(t("widgets/op"), ("widgets/op".into(), 1.0));
    }

    #[test]
    fn better_directions() {
        assert_eq!(better_for_unit("ns/op"), Better::Lower);
        assert_eq!(better_for_unit("B/op"), Better::Lower);
        assert_eq!(better_for_unit("allocs/op"), Better::Lower);
        assert_eq!(better_for_unit("MB/s"), Better::Higher);
        assert_eq!(better_for_unit("req/s"), Better::Higher);
        assert_eq!(better_for_unit("widgets/op"), Better::Lower);
        assert_eq!(known_better("widgets/op"), None);
    }

    #[test]
    fn values_parse_like_go() {
        assert_eq!(parse_value("2430"), Ok(2430.0));
        assert_eq!(parse_value("16.24"), Ok(16.24));
        assert_eq!(parse_value("1e3"), Ok(1000.0));
        assert_eq!(parse_value("123456789012345678901"), Ok(123456789012345678901.0));
        assert_eq!(parse_value("-3"), Ok(-3.0));
        // Go parses +Inf; perfgate refuses it (results.json could not carry it).
        assert!(parse_value("+Inf").is_err());
        assert_eq!(parse_value("x"), Err("invalid syntax"));
    }

    #[test]
    fn empty_and_garbage_inputs() {
        assert_eq!(parse("").unwrap().results.len(), 0);
        assert_eq!(parse("\n\n").unwrap().results.len(), 0);
        assert_eq!(parse("{\"json\": true}\n\u{0}\u{1}").unwrap().results.len(), 0);
        // A name containing non-ASCII and a Unicode space separator.
        let f = parse("BenchmarkÜber\u{2003}3 4 ns/op\n").unwrap();
        assert_eq!(&*f.results[0].name, "Über");
    }
}
