//! Prometheus text exposition format (version 0.0.4), parsed into metric
//! families with the grouping rules of Go's `expfmt` text parser. Pure: the
//! `workload::counters` module scrapes targets and diffs what this returns.

use std::collections::HashMap;

/// The `# TYPE` of a family; `Untyped` when the exposition gives none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::Summary => "summary",
            MetricKind::Untyped => "untyped",
        }
    }

    fn from_type(word: &str) -> Option<MetricKind> {
        // Go's parser matches type names case-insensitively; OpenMetrics
        // spells untyped `unknown`.
        match word.to_ascii_lowercase().as_str() {
            "counter" => Some(MetricKind::Counter),
            "gauge" => Some(MetricKind::Gauge),
            "histogram" => Some(MetricKind::Histogram),
            "summary" => Some(MetricKind::Summary),
            "untyped" | "unknown" => Some(MetricKind::Untyped),
            _ => None,
        }
    }
}

/// One metric family: the samples that share a name (for histograms and
/// summaries, the base name of their `_bucket`, `_sum` and `_count` series).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    pub name: String,
    pub kind: MetricKind,
    /// `# HELP` text, unescaped; `None` when the exposition has none.
    pub help: Option<String>,
    /// Samples in exposition order.
    pub samples: Vec<PromSample>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct PromSample {
    /// The series name as written: `foo`, `foo_bucket`, `foo_sum`, ...
    pub name: String,
    /// Labels in line order, values unescaped.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Milliseconds since the Unix epoch, when the line carries one.
    pub timestamp_ms: Option<i64>,
}

impl PromSample {
    /// The value of label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Where and why the text is not valid exposition format; line and column
/// are 1-based, the column counted in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses a whole exposition. Families come in order of first appearance;
/// families announced by `# HELP`/`# TYPE` but without samples are dropped,
/// as Go's parser does.
///
/// Grouping follows Go's `expfmt`: a sample joins the family of its exact
/// name if there is one, else the summary its name minus `_sum`/`_count`
/// belongs to, else the histogram its name minus `_sum`/`_count`/`_bucket`
/// belongs to, else a new untyped family of its own name. Samples of one
/// family need not be contiguous.
///
/// Not supported: OpenMetrics-only syntax (exemplars, `# EOF` is accepted
/// as a comment) and quoted UTF-8 metric names.
pub fn parse(text: &str) -> Result<Vec<MetricFamily>, ParseError> {
    let mut parser = Parser::default();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        parser.line(Cursor { line, pos: 0, number: index + 1 })?;
    }
    let mut families = parser.families;
    families.retain(|f| !f.samples.is_empty());
    Ok(families)
}

#[derive(Default)]
struct Parser {
    families: Vec<MetricFamily>,
    by_name: HashMap<String, usize>,
    /// Families whose kind came from a `# TYPE` line.
    typed: Vec<bool>,
}

impl Parser {
    fn line(&mut self, mut c: Cursor<'_>) -> Result<(), ParseError> {
        c.skip_blanks();
        match c.peek() {
            None => Ok(()),
            Some(b'#') => self.comment(c),
            Some(_) => self.sample(c),
        }
    }

    fn family(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        self.families.push(MetricFamily {
            name: name.to_string(),
            kind: MetricKind::Untyped,
            help: None,
            samples: Vec::new(),
        });
        self.typed.push(false);
        self.by_name.insert(name.to_string(), self.families.len() - 1);
        self.families.len() - 1
    }

    /// `# HELP name text`, `# TYPE name kind`, or any other comment.
    fn comment(&mut self, mut c: Cursor<'_>) -> Result<(), ParseError> {
        c.pos += 1;
        c.skip_blanks();
        let keyword = c.word();
        if keyword != "HELP" && keyword != "TYPE" {
            return Ok(());
        }
        c.skip_blanks();
        let name_at = c.pos;
        let name =
            c.metric_name().ok_or_else(|| c.error_at(name_at, format!("expected a metric name after {keyword}")))?;
        if !c.at_end() && !c.at_blank() {
            return Err(c.error_at(name_at, format!("invalid metric name {:?}", c.rest_of_word(name_at))));
        }
        if keyword == "HELP" {
            c.skip_blanks();
            let i = self.family(name);
            // Go rejects a second HELP; keeping the first is as good and
            // spares a whole scrape over a cosmetic defect.
            self.families[i].help.get_or_insert_with(|| unescape_help(c.rest()));
            return Ok(());
        }
        if !c.at_blank() {
            return Err(c.error(format!("expected a type after `# TYPE {name}`")));
        }
        c.skip_blanks();
        let kind_at = c.pos;
        let word = c.word();
        let kind = MetricKind::from_type(word).ok_or_else(|| {
            c.error_at(
                kind_at,
                if word.is_empty() {
                    format!("expected a type after `# TYPE {name}`")
                } else {
                    format!("unknown metric type {word:?} (expected counter, gauge, histogram, summary or untyped)")
                },
            )
        })?;
        c.skip_blanks();
        if !c.at_end() {
            return Err(c.error(format!("unexpected text after `# TYPE {name} {word}`")));
        }
        let i = self.family(name);
        let family = &self.families[i];
        if !family.samples.is_empty() {
            return Err(c.error_at(name_at, format!("TYPE for {name} comes after its samples")));
        }
        if self.typed[i] && family.kind != kind {
            return Err(c.error_at(
                kind_at,
                format!("second TYPE for {name}: {} after {}", kind.as_str(), family.kind.as_str()),
            ));
        }
        self.families[i].kind = kind;
        self.typed[i] = true;
        Ok(())
    }

    /// `name{label="value",...} value [timestamp]`
    fn sample(&mut self, mut c: Cursor<'_>) -> Result<(), ParseError> {
        let name_at = c.pos;
        let name = c.metric_name().ok_or_else(|| c.error_at(name_at, "expected a metric name".to_string()))?;
        c.skip_blanks();
        let labels = if c.peek() == Some(b'{') { c.labels()? } else { Vec::new() };
        c.skip_blanks();
        if c.at_end() {
            return Err(c.error(format!("expected a value for {name}")));
        }
        let value_at = c.pos;
        let word = c.word();
        let value = parse_value(word).ok_or_else(|| c.error_at(value_at, format!("invalid value {word:?}")))?;
        c.skip_blanks();
        let timestamp_ms = if c.at_end() {
            None
        } else {
            let at = c.pos;
            let word = c.word();
            let ts = word.parse::<i64>().map_err(|_| c.error_at(at, format!("invalid timestamp {word:?}")))?;
            c.skip_blanks();
            if !c.at_end() {
                return Err(c.error("unexpected text after the timestamp".to_string()));
            }
            Some(ts)
        };
        let i = self.family_of_sample(name);
        self.families[i].samples.push(PromSample { name: name.to_string(), labels, value, timestamp_ms });
        Ok(())
    }

    fn family_of_sample(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let typed_as = |base: Option<&str>, kind| {
            base.and_then(|b| self.by_name.get(b)).copied().filter(|&i| self.families[i].kind == kind)
        };
        let summary = name.strip_suffix("_sum").or_else(|| name.strip_suffix("_count"));
        let histogram = summary.or_else(|| name.strip_suffix("_bucket"));
        typed_as(summary, MetricKind::Summary)
            .or_else(|| typed_as(histogram, MetricKind::Histogram))
            .unwrap_or_else(|| self.family(name))
    }
}

/// Go's `strconv.ParseFloat` spellings the format allows: decimal and
/// exponent forms, `+Inf`, `-Inf`, `NaN` (any case).
fn parse_value(word: &str) -> Option<f64> {
    // Rust also takes "infinity" and "nan" in any case, as Go does; it
    // rejects Go's hex floats and underscores, which exporters do not emit.
    word.parse::<f64>().ok()
}

/// HELP text escapes: `\\` and `\n`; any other backslash stays as written.
fn unescape_help(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// A position in one line.
struct Cursor<'a> {
    line: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.line.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    fn at_blank(&self) -> bool {
        matches!(self.peek(), Some(b' ' | b'\t'))
    }

    fn skip_blanks(&mut self) {
        while self.at_blank() {
            self.pos += 1;
        }
    }

    fn rest(&self) -> &'a str {
        &self.line[self.pos..]
    }

    /// The word starting at `start`, for error messages.
    fn rest_of_word(&self, start: usize) -> &'a str {
        let rest = self.line.get(start..).unwrap_or("");
        rest.split([' ', '\t']).next().unwrap_or("")
    }

    /// Everything up to the next blank or the end of the line.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while !self.at_end() && !self.at_blank() {
            // Step over whole characters so slicing stays on boundaries.
            self.pos += self.rest().chars().next().map_or(1, char::len_utf8);
        }
        &self.line[start..self.pos]
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    fn metric_name(&mut self) -> Option<&'a str> {
        self.identifier(
            |b| b.is_ascii_alphabetic() || b == b'_' || b == b':',
            |b| b.is_ascii_alphanumeric() || b == b'_' || b == b':',
        )
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    fn label_name(&mut self) -> Option<&'a str> {
        self.identifier(|b| b.is_ascii_alphabetic() || b == b'_', |b| b.is_ascii_alphanumeric() || b == b'_')
    }

    fn identifier(&mut self, first: fn(u8) -> bool, rest: fn(u8) -> bool) -> Option<&'a str> {
        let start = self.pos;
        if !self.peek().is_some_and(first) {
            return None;
        }
        self.pos += 1;
        while self.peek().is_some_and(rest) {
            self.pos += 1;
        }
        Some(&self.line[start..self.pos])
    }

    /// `{name="value", ...}` with an optional trailing comma; the cursor is
    /// on the `{`.
    fn labels(&mut self) -> Result<Vec<(String, String)>, ParseError> {
        self.pos += 1;
        let mut labels: Vec<(String, String)> = Vec::new();
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(labels);
            }
            let name_at = self.pos;
            let name = self.label_name().ok_or_else(|| match self.peek() {
                None => self.error("unclosed label set: expected `}`".to_string()),
                Some(_) => self.error("expected a label name or `}`".to_string()),
            })?;
            if labels.iter().any(|(k, _)| k == name) {
                return Err(self.error_at(name_at, format!("duplicate label {name:?}")));
            }
            self.skip_blanks();
            if self.peek() != Some(b'=') {
                return Err(self.error(format!("expected `=` after label {name}")));
            }
            self.pos += 1;
            self.skip_blanks();
            if self.peek() != Some(b'"') {
                return Err(self.error(format!("expected a quoted value for label {name}")));
            }
            let value = self.label_value()?;
            labels.push((name.to_string(), value));
            self.skip_blanks();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                None => return Err(self.error("unclosed label set: expected `}`".to_string())),
                Some(_) => return Err(self.error("expected `,` or `}` after a label".to_string())),
            }
        }
    }

    /// A quoted label value with `\\`, `\"` and `\n` escapes; the cursor is
    /// on the opening quote.
    fn label_value(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut run = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error_at(open, "unterminated label value".to_string())),
                Some(b'"') => {
                    value.push_str(&self.line[run..self.pos]);
                    self.pos += 1;
                    return Ok(value);
                }
                Some(b'\\') => {
                    value.push_str(&self.line[run..self.pos]);
                    let escape = match self.line.as_bytes().get(self.pos + 1) {
                        Some(b'\\') => '\\',
                        Some(b'"') => '"',
                        Some(b'n') => '\n',
                        _ => {
                            return Err(
                                self.error("invalid escape in label value (allowed: \\\\, \\\", \\n)".to_string())
                            );
                        }
                    };
                    value.push(escape);
                    self.pos += 2;
                    run = self.pos;
                }
                // Bytes of multi-byte characters are never `"` or `\`.
                Some(_) => self.pos += 1,
            }
        }
    }

    fn error(&self, message: String) -> ParseError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: String) -> ParseError {
        let before = self.line.get(..pos).unwrap_or(self.line);
        ParseError { line: self.number, column: before.chars().count() + 1, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Go's client library (client_golang v1.25.0, promhttp.Handler)
    /// served for a program with a labeled counter (one label value with a
    /// quote and a backslash), a histogram, and the default Go and process
    /// collectors; abridged to one of each kind of go_memstats_* line.
    const GO_CLIENT: &str = r#"# HELP db_queries_total Database queries issued, by table.\nSecond line with a \\ backslash.
# TYPE db_queries_total counter
db_queries_total{table="users"} 12
db_queries_total{table="we\"ird\\n"} 3
# HELP go_gc_duration_seconds A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.7e-05
go_gc_duration_seconds{quantile="0.25"} 3.1e-05
go_gc_duration_seconds{quantile="0.5"} 4.4e-05
go_gc_duration_seconds{quantile="0.75"} 6.1e-05
go_gc_duration_seconds{quantile="1"} 0.000112
go_gc_duration_seconds_sum 0.000513
go_gc_duration_seconds_count 11
# HELP go_gc_gomemlimit_bytes Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes.
# TYPE go_gc_gomemlimit_bytes gauge
go_gc_gomemlimit_bytes 9.223372036854776e+18
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 5
# HELP go_info Information about the Go environment.
# TYPE go_info gauge
go_info{version="go1.26.8"} 1
# HELP go_memstats_alloc_bytes_total Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.
# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 346352
# HELP go_memstats_heap_objects Number of currently allocated objects. Equals to /gc/heap/objects:objects.
# TYPE go_memstats_heap_objects gauge
go_memstats_heap_objects 965
# HELP go_memstats_mallocs_total Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total 965
# HELP go_threads Number of OS threads created.
# TYPE go_threads gauge
go_threads 6
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.005"} 0
http_request_duration_seconds_bucket{le="0.05"} 1
http_request_duration_seconds_bucket{le="0.5"} 2
http_request_duration_seconds_bucket{le="+Inf"} 2
http_request_duration_seconds_sum 0.21000000000000002
http_request_duration_seconds_count 2
# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 0.37
# HELP process_network_receive_bytes_total Number of bytes received by the process over the network.
# TYPE process_network_receive_bytes_total counter
process_network_receive_bytes_total 4.75440615e+08
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 9.117696e+06
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.79595114212e+09
# HELP process_virtual_memory_max_bytes Maximum amount of virtual memory available in bytes.
# TYPE process_virtual_memory_max_bytes gauge
process_virtual_memory_max_bytes 1.8446744073709552e+19
# HELP promhttp_metric_handler_requests_in_flight Current number of scrapes being served.
# TYPE promhttp_metric_handler_requests_in_flight gauge
promhttp_metric_handler_requests_in_flight 1
# HELP promhttp_metric_handler_requests_total Total number of scrapes by HTTP status code.
# TYPE promhttp_metric_handler_requests_total counter
promhttp_metric_handler_requests_total{code="200"} 2
promhttp_metric_handler_requests_total{code="500"} 0
promhttp_metric_handler_requests_total{code="503"} 0
"#;

    fn family<'a>(families: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
        families.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no family {name}"))
    }

    #[test]
    fn parses_go_client_output() {
        let families = parse(GO_CLIENT).unwrap();
        assert_eq!(families.len(), 17);
        assert!(families.iter().all(|f| f.kind != MetricKind::Untyped && f.help.is_some()));

        let db = family(&families, "db_queries_total");
        assert_eq!(db.kind, MetricKind::Counter);
        assert_eq!(db.help.as_deref(), Some("Database queries issued, by table.\nSecond line with a \\ backslash."));
        assert_eq!(db.samples[0].labels, [("table".to_string(), "users".to_string())]);
        assert_eq!(db.samples[1].label("table"), Some("we\"ird\\n"));
        assert_eq!(db.samples[1].value, 3.0);

        let gc = family(&families, "go_gc_duration_seconds");
        assert_eq!(gc.kind, MetricKind::Summary);
        let names: Vec<&str> = gc.samples.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names[4..],
            ["go_gc_duration_seconds", "go_gc_duration_seconds_sum", "go_gc_duration_seconds_count"]
        );
        assert_eq!(gc.samples[6].value, 11.0);

        let latency = family(&families, "http_request_duration_seconds");
        assert_eq!(latency.kind, MetricKind::Histogram);
        assert_eq!(latency.samples.len(), 6);
        assert_eq!(latency.samples[3].label("le"), Some("+Inf"));
        assert_eq!(latency.samples[5].name, "http_request_duration_seconds_count");

        assert_eq!(family(&families, "go_info").samples[0].label("version"), Some("go1.26.8"));
        assert_eq!(family(&families, "process_virtual_memory_max_bytes").samples[0].value, 1.8446744073709552e19);
        assert_eq!(family(&families, "process_start_time_seconds").samples[0].value, 1.79595114212e9);
        let scrapes = family(&families, "promhttp_metric_handler_requests_total");
        assert_eq!(scrapes.samples.len(), 3);
        assert_eq!(families[0].name, "db_queries_total");
        assert_eq!(families.last().unwrap().name, "promhttp_metric_handler_requests_total");
    }

    #[test]
    fn special_values_timestamps_blanks_and_comments() {
        let text = "\n  # just a comment\n#TYPE odd_spacing gauge\n\t\n\
                    odd_spacing 1\n\
                    a_total 1.5e3 1712345678901\n\
                    b { x = \"1\" , y=\"\" , } +Inf\n\
                    c{} -Inf\n\
                    d NaN\n\
                    e{x=\"é ü\"}\t7   \n\
                    f 1\r\n\
                    # EOF\n";
        let families = parse(text).unwrap();
        let value = |name: &str| family(&families, name).samples[0].value;
        assert_eq!(family(&families, "odd_spacing").kind, MetricKind::Gauge);
        assert_eq!(value("a_total"), 1500.0);
        assert_eq!(family(&families, "a_total").samples[0].timestamp_ms, Some(1712345678901));
        assert_eq!(family(&families, "a_total").kind, MetricKind::Untyped);
        assert_eq!(value("b"), f64::INFINITY);
        assert_eq!(family(&families, "b").samples[0].labels, [("x".into(), "1".into()), ("y".into(), "".into())]);
        assert_eq!(value("c"), f64::NEG_INFINITY);
        assert!(value("d").is_nan());
        assert_eq!(family(&families, "e").samples[0].label("x"), Some("é ü"));
        assert_eq!(value("e"), 7.0);
        assert_eq!(value("f"), 1.0);
        assert_eq!(parse("").unwrap(), []);
        // Announced but empty families are dropped.
        assert_eq!(parse("# HELP x nothing\n# TYPE x counter\n").unwrap(), []);
    }

    #[test]
    fn sum_and_count_join_only_a_summary_or_histogram_family() {
        let text = "# TYPE s summary\ns_sum 1\ns_count 2\ns_bucket 3\n\
                    # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n\
                    # TYPE g gauge\ng 1\ng_sum 5\n\
                    s{quantile=\"0.5\"} 9\n";
        let families = parse(text).unwrap();
        let names: Vec<(&str, usize)> = families.iter().map(|f| (f.name.as_str(), f.samples.len())).collect();
        assert_eq!(names, [("s", 3), ("s_bucket", 1), ("h", 3), ("g", 1), ("g_sum", 1)]);
        assert_eq!(family(&families, "g_sum").kind, MetricKind::Untyped);
    }

    #[test]
    fn errors_say_where() {
        let cases: &[(&str, usize, usize, &str)] = &[
            ("ok 1\n9bad 1\n", 2, 1, "expected a metric name"),
            ("x\n", 1, 2, "expected a value for x"),
            ("x{a=\"1\"}\n", 1, 9, "expected a value"),
            ("x abc\n", 1, 3, "invalid value \"abc\""),
            ("x 1 12.5\n", 1, 5, "invalid timestamp"),
            ("x 1 2 3\n", 1, 7, "unexpected text after the timestamp"),
            ("x{a=\"1\",a=\"2\"} 1\n", 1, 9, "duplicate label \"a\""),
            ("x{a=1} 1\n", 1, 5, "expected a quoted value"),
            ("x{a=\"1\" b=\"2\"} 1\n", 1, 9, "expected `,` or `}`"),
            ("x{a=\"1\"\n", 1, 8, "unclosed label set"),
            ("x{a=\"1} 1\n", 1, 5, "unterminated label value"),
            ("x{a=\"\\t\"} 1\n", 1, 6, "invalid escape"),
            ("x{é=\"1\"} 1\n", 1, 3, "expected a label name"),
            ("# TYPE x countr\n", 1, 10, "unknown metric type \"countr\""),
            ("# TYPE x\n", 1, 9, "expected a type"),
            ("# TYPE\n", 1, 7, "expected a metric name after TYPE"),
            ("# TYPE x gauge extra\n", 1, 16, "unexpected text"),
            ("# HELP x-y help\n", 1, 8, "invalid metric name \"x-y\""),
            ("x 1\n# TYPE x gauge\n", 2, 8, "comes after its samples"),
            ("# TYPE x gauge\n# TYPE x counter\n", 2, 10, "second TYPE for x"),
            ("é{a=\"1\"} 1\n", 1, 1, "expected a metric name"),
        ];
        for &(text, line, column, message) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!((e.line, e.column), (line, column), "{text:?}: {e}");
            assert!(e.message.contains(message), "{text:?}: {e}");
        }
        assert_eq!(parse("x 1 2 3").unwrap_err().to_string(), "1:7: unexpected text after the timestamp");
        // Repeating the same TYPE, or a second HELP, is harmless.
        assert!(parse("# TYPE x gauge\n# TYPE x gauge\n# HELP x a\n# HELP x b\nx 1\n").is_ok());
    }
}
