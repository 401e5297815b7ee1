//! Application counters per request: scrapes a target's Prometheus endpoint
//! before and after a measured window and turns counter deltas into
//! `<name>_per_request` / `<name>_per_second` metrics, gauges into their end value.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::formats::prometheus::{self, MetricFamily, MetricKind, PromSample};
use crate::model::Better;

/// Largest metrics page accepted: a runaway endpoint must not exhaust memory.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    #[error("metrics URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("cannot connect to {url}: {source} (is the target listening?)")]
    Connect { url: String, source: std::io::Error },
    /// The URL resolves to an address the loopback guard refuses.
    #[error("refusing {url}: {reason}")]
    Refused { url: String, reason: String },
    #[error("scraping {url} timed out after {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("scraping {url}: {source}")]
    Io { url: String, source: std::io::Error },
    #[error("scraping {url}: HTTP status {status}{}", colon_prefixed(.body))]
    Status { url: String, status: u16, body: String },
    #[error("scraping {url}: malformed HTTP response: {reason}")]
    Malformed { url: String, reason: String },
    #[error("scraping {url}: the response is larger than 64 MiB")]
    TooLarge { url: String },
    #[error("scraping {url}: the response is not UTF-8 text")]
    NotUtf8 { url: String },
    #[error("metrics from {url} are not Prometheus text format: {source}")]
    Parse { url: String, source: prometheus::ParseError },
}

fn colon_prefixed(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!(": {text}") }
}

/// Fetches `url` (plain `http://`, as targets expose metrics on loopback)
/// and returns the body. The whole exchange, connect included, must finish
/// within `timeout`. Asks for text format 0.0.4 and no compression.
pub fn scrape(url: &str, timeout: Duration, allow_remote: bool) -> Result<String, CounterError> {
    let body = fetch(url, timeout, allow_remote)?;
    String::from_utf8(body).map_err(|_| CounterError::NotUtf8 { url: url.to_string() })
}

/// GETs `url` and returns the body of a 2xx answer, bytes as they came
/// (also used for pprof profiles, which are gzipped protobuf).
///
/// Every address the host resolves to must be loopback unless
/// `allow_remote` (the scenario's and the command line's both): the
/// addresses checked are the ones connected to.
pub fn fetch(url: &str, timeout: Duration, allow_remote: bool) -> Result<Vec<u8>, CounterError> {
    let target = HttpUrl::parse(url)?;
    let deadline = Instant::now() + timeout;
    let timed_out = || CounterError::Timeout { url: url.to_string(), timeout };
    let io = |source: std::io::Error| {
        if matches!(source.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
            timed_out()
        } else {
            CounterError::Io { url: url.to_string(), source }
        }
    };
    let remaining = || deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero());

    let addrs = crate::load::url::resolve_guarded(&target.host, target.port, url, allow_remote)
        .map_err(|e| CounterError::Refused { url: url.to_string(), reason: e.to_string() })?;
    let mut stream = None;
    let mut last_error = std::io::Error::new(std::io::ErrorKind::NotFound, "the host name has no address");
    for addr in addrs {
        let wait = remaining().ok_or_else(timed_out)?;
        match TcpStream::connect_timeout(&addr, wait) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_error = e,
        }
    }
    let Some(mut stream) = stream else {
        if matches!(last_error.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) {
            return Err(timed_out());
        }
        return Err(CounterError::Connect { url: url.to_string(), source: last_error });
    };

    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: perfgate/{}\r\n\
         Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
        target.path,
        target.authority,
        env!("CARGO_PKG_VERSION")
    );
    stream.set_write_timeout(Some(remaining().ok_or_else(timed_out)?)).map_err(io)?;
    stream.write_all(request.as_bytes()).map_err(io)?;

    let malformed = |reason: String| CounterError::Malformed { url: url.to_string(), reason };
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let response = loop {
        stream.set_read_timeout(Some(remaining().ok_or_else(timed_out)?)).map_err(io)?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_RESPONSE_BYTES {
            return Err(CounterError::TooLarge { url: url.to_string() });
        }
        // A server that keeps the connection open despite `Connection:
        // close` is still done once the body is complete.
        if let Some(response) = parse_response(&buf, n == 0).map_err(malformed)? {
            break response;
        }
        if n == 0 {
            return Err(malformed("the connection closed before the response was complete".to_string()));
        }
    };
    if !(200..300).contains(&response.status) {
        let body = String::from_utf8_lossy(&response.body);
        let body: String = body.trim().chars().take(200).collect();
        return Err(CounterError::Status { url: url.to_string(), status: response.status, body });
    }
    if response.compressed {
        return Err(malformed("the body is compressed although identity encoding was requested".to_string()));
    }
    Ok(response.body)
}

/// [`scrape`] and [`prometheus::parse`] in one step.
pub fn scrape_families(url: &str, timeout: Duration, allow_remote: bool) -> Result<Vec<MetricFamily>, CounterError> {
    let text = scrape(url, timeout, allow_remote)?;
    prometheus::parse(&text).map_err(|source| CounterError::Parse { url: url.to_string(), source })
}

/// The parts of an `http://host[:port][/path]` URL a request needs.
#[derive(Debug, PartialEq)]
struct HttpUrl {
    host: String,
    port: u16,
    /// `host[:port]` as written, for the Host header.
    authority: String,
    /// Path and query, `/` when empty.
    path: String,
}

impl HttpUrl {
    fn parse(url: &str) -> Result<HttpUrl, CounterError> {
        let invalid = |reason: &str| CounterError::InvalidUrl { url: url.to_string(), reason: reason.to_string() };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| invalid("expected http://host:port/path"))?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(invalid("only http:// is supported (serve metrics over plain HTTP on loopback)"));
        }
        let rest = rest.split('#').next().unwrap_or("");
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') { format!("/{path}") } else { path.to_string() };
        if authority.contains('@') {
            return Err(invalid("credentials in the URL are not supported"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').ok_or_else(|| invalid("unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = match port {
            None | Some("") => 80,
            Some(p) => p.parse().map_err(|_| invalid("the port is not a number from 0 to 65535"))?,
        };
        if path.chars().any(|c| c.is_ascii_whitespace() || c.is_ascii_control()) {
            return Err(invalid("the path has spaces or control characters (percent-encode them)"));
        }
        Ok(HttpUrl { host: host.to_string(), port, authority: authority.to_string(), path })
    }
}

#[derive(Debug, PartialEq)]
struct HttpResponse {
    status: u16,
    body: Vec<u8>,
    compressed: bool,
}

/// The response in `buf` if it is complete (`Ok(None)` if more bytes are
/// needed). `eof`: the server closed the connection, which ends a body that
/// has neither a length nor chunked encoding.
fn parse_response(buf: &[u8], eof: bool) -> Result<Option<HttpResponse>, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return if eof { Err("the response has no complete header".to_string()) } else { Ok(None) };
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| "the header is not text".to_string())?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status = parts.next().and_then(|s| s.parse::<u16>().ok());
    let (true, Some(status)) = (version.starts_with("HTTP/1."), status) else {
        return Err(format!("unexpected status line {status_line:?}"));
    };
    let (mut length, mut chunked, mut compressed) = (None, false, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| format!("invalid Content-Length {value:?}"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().split(',').any(|v| v.trim() == "chunked");
        } else if name.eq_ignore_ascii_case("content-encoding") {
            compressed = !value.eq_ignore_ascii_case("identity") && !value.is_empty();
        }
    }
    let body = &buf[head_end + 4..];
    let body = if chunked {
        match dechunk(body)? {
            Some(body) => body,
            None if eof => return Err("the chunked body ends early".to_string()),
            None => return Ok(None),
        }
    } else if let Some(length) = length {
        if body.len() < length {
            return if eof { Err("the body is shorter than its Content-Length".to_string()) } else { Ok(None) };
        }
        body[..length].to_vec()
    } else if eof {
        body.to_vec()
    } else {
        return Ok(None);
    };
    Ok(Some(HttpResponse { status, body, compressed }))
}

/// Decodes a chunked body; `Ok(None)` while the last chunk is missing.
fn dechunk(mut data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut body = Vec::with_capacity(data.len());
    loop {
        let Some(line_end) = find(data, b"\r\n") else { return Ok(None) };
        let line = std::str::from_utf8(&data[..line_end]).map_err(|_| "invalid chunk header".to_string())?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("invalid chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            // Trailers (rare) end with an empty line; the body is complete
            // either way.
            return Ok(Some(body));
        }
        if data.len() < size.saturating_add(2) {
            return Ok(None);
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One number derived from the counters of a trial.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterMetric {
    /// `db_queries_per_request`, `db_queries_per_second`, `go_goroutines`.
    pub name: String,
    pub unit: String,
    pub better: Better,
    pub value: f64,
}

/// A family that produced no metric, so that the caller can say why.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedCounter {
    pub family: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A series went down between the scrapes: the counter was reset.
    Decreased,
    /// `process_start_time_seconds` changed between the scrapes: the target
    /// restarted, so no counter delta means anything.
    Restarted,
    /// Selected, but absent from the second scrape.
    NotExposed,
    /// A value is NaN or infinite.
    NotFinite,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::Decreased => "the counter went down between the scrapes (reset?)",
            SkipReason::Restarted => "the target restarted between the scrapes",
            SkipReason::NotExposed => "the target does not expose it",
            SkipReason::NotFinite => "its value is not a finite number",
        })
    }
}

/// Metrics and the families that gave none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CounterReport {
    pub metrics: Vec<CounterMetric>,
    pub skipped: Vec<SkippedCounter>,
}

/// [`counter_report`] without the reasons for skipped families.
pub fn counter_metrics(
    before: &[MetricFamily],
    after: &[MetricFamily],
    requests: u64,
    seconds: f64,
    select: Option<&[String]>,
) -> Vec<CounterMetric> {
    counter_report(before, after, requests, seconds, select).metrics
}

/// Turns two scrapes around a window of `seconds` in which `requests`
/// requests completed into metrics, in the order of `after`'s families:
///
/// - a counter `<base>_total` (or `<base>`) gives `<base>_per_request`
///   (delta / requests; none when `requests` is 0) and `<base>_per_second`
///   (delta / seconds; none unless `seconds` > 0);
/// - a histogram or summary `<f>` gives the same pair for `<f>_sum` and
///   `<f>_count` (`_count` per request is observations per request, `_sum`
///   per request the observed amount, e.g. seconds, per request);
/// - a gauge `<g>` gives its value at the end, as `<g>`;
/// - an untyped family counts as a counter if its name ends in `_total`,
///   else as a gauge.
///
/// Labeled series are summed per family (`db_queries_total{table=...}`
/// gives one `db_queries_per_request`): per-label metrics would multiply
/// comparisons and split small counts into noise. A series missing from
/// `before` counts from 0 (counter vectors create series on first use).
///
/// Skipped, with a reason in `skipped`: a counter family with any series
/// lower after than before (reset), every counter when
/// `process_start_time_seconds` differs between the scrapes (restart), and
/// non-finite values. Always excluded: `_created` families (creation
/// timestamps). Without `select`, also excluded: timestamp gauges
/// (`*_timestamp_seconds`, `*_time_seconds`, `*_timestamp`), which differ by
/// when a trial ran, not by what the variant did, and `*_info` gauges.
///
/// `select` keeps only the named families (a counter may also be named
/// without its `_total`); selected names absent from `after` are reported
/// as [`SkipReason::NotExposed`], not as errors.
///
/// Units: counters get `<what>/req` and `<what>/s`, where `<what>` is the
/// last word of the name by Prometheus naming convention (`queries`,
/// `requests`), or `s` and `B` for `_seconds` and `_bytes`, or `1` for a
/// histogram's `_count`; gauges get `s`, `B` or no unit. Every metric is
/// `Better::Lower`: fewer queries, less work per request.
pub fn counter_report(
    before: &[MetricFamily],
    after: &[MetricFamily],
    requests: u64,
    seconds: f64,
    select: Option<&[String]>,
) -> CounterReport {
    let mut report = CounterReport::default();
    let selected = |family: &MetricFamily| match select {
        None => !auto_excluded(family),
        Some(names) => names.iter().any(|n| *n == family.name || Some(n.as_str()) == counter_base(family)),
    };
    if let Some(names) = select {
        for name in names {
            let exposed = after.iter().any(|f| *name == f.name || Some(name.as_str()) == counter_base(f));
            if !exposed && !report.skipped.iter().any(|s| s.family == *name) {
                report.skipped.push(SkippedCounter { family: name.clone(), reason: SkipReason::NotExposed });
            }
        }
    }
    let restarted = match (start_time(before), start_time(after)) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    };

    for family in after.iter().filter(|f| !f.name.ends_with("_created") && selected(f)) {
        let previous = before.iter().find(|f| f.name == family.name);
        let skip = |reason| SkippedCounter { family: family.name.clone(), reason };
        match role(family) {
            Role::Gauge => {
                let value: f64 = family.samples.iter().map(|s| s.value).sum();
                if value.is_finite() {
                    report.metrics.push(CounterMetric {
                        name: family.name.clone(),
                        unit: unit_suffix(&family.name).unwrap_or("").to_string(),
                        better: Better::Lower,
                        value,
                    });
                } else {
                    report.skipped.push(skip(SkipReason::NotFinite));
                }
            }
            Role::Counter { series } => {
                if restarted {
                    report.skipped.push(skip(SkipReason::Restarted));
                    continue;
                }
                let mut deltas = Vec::new();
                let mut failed = None;
                for (sample_name, base, unit) in series {
                    match delta(previous, family, &sample_name) {
                        Ok(d) => deltas.push((base, unit, d)),
                        Err(reason) => {
                            failed = Some(reason);
                            break;
                        }
                    }
                }
                if let Some(reason) = failed {
                    report.skipped.push(skip(reason));
                    continue;
                }
                for (base, unit, d) in deltas {
                    if requests > 0 {
                        report.metrics.push(CounterMetric {
                            name: format!("{base}_per_request"),
                            unit: format!("{unit}/req"),
                            better: Better::Lower,
                            value: d / requests as f64,
                        });
                    }
                    if seconds > 0.0 && seconds.is_finite() {
                        report.metrics.push(CounterMetric {
                            name: format!("{base}_per_second"),
                            unit: format!("{unit}/s"),
                            better: Better::Lower,
                            value: d / seconds,
                        });
                    }
                }
            }
        }
    }
    report
}

enum Role {
    Gauge,
    /// Cumulative series: (sample name, metric base name, unit word).
    Counter {
        series: Vec<(String, String, String)>,
    },
}

fn role(family: &MetricFamily) -> Role {
    let name = &family.name;
    match family.kind {
        MetricKind::Counter => Role::Counter { series: vec![counter_series(name)] },
        MetricKind::Untyped if name.ends_with("_total") => Role::Counter { series: vec![counter_series(name)] },
        MetricKind::Histogram | MetricKind::Summary => {
            let unit = unit_suffix(name).map_or_else(|| last_word(name), str::to_string);
            Role::Counter {
                series: vec![
                    (format!("{name}_sum"), format!("{name}_sum"), unit),
                    (format!("{name}_count"), format!("{name}_count"), "1".to_string()),
                ],
            }
        }
        MetricKind::Gauge | MetricKind::Untyped => Role::Gauge,
    }
}

/// (sample name, base, unit) of a counter: `db_queries_total` gives base
/// `db_queries` and unit `queries`.
fn counter_series(name: &str) -> (String, String, String) {
    let base = name.strip_suffix("_total").filter(|b| !b.is_empty()).unwrap_or(name);
    let unit = unit_suffix(base).map_or_else(|| last_word(base), str::to_string);
    (name.to_string(), base.to_string(), unit)
}

/// The name a counter can be selected by besides its family name.
fn counter_base(family: &MetricFamily) -> Option<&str> {
    match family.kind {
        MetricKind::Counter | MetricKind::Untyped => family.name.strip_suffix("_total"),
        _ => None,
    }
}

/// Base units by naming convention.
fn unit_suffix(name: &str) -> Option<&'static str> {
    if name.ends_with("_seconds") {
        Some("s")
    } else if name.ends_with("_bytes") {
        Some("B")
    } else {
        None
    }
}

/// By convention a count's name ends in what it counts, in plural.
fn last_word(name: &str) -> String {
    match name.rsplit('_').next() {
        Some(word) if !word.is_empty() && !word.bytes().all(|b| b.is_ascii_digit()) => word.to_string(),
        _ => "1".to_string(),
    }
}

fn auto_excluded(family: &MetricFamily) -> bool {
    let name = &family.name;
    let gauge_like = matches!(family.kind, MetricKind::Gauge | MetricKind::Untyped) && !name.ends_with("_total");
    gauge_like
        && (name.ends_with("_timestamp_seconds")
            || name.ends_with("_time_seconds")
            || name.ends_with("_timestamp")
            || name.ends_with("_info"))
}

fn start_time(families: &[MetricFamily]) -> Option<f64> {
    families.iter().find(|f| f.name == "process_start_time_seconds")?.samples.first().map(|s| s.value)
}

/// Sum over the series named `sample_name` of (after − before), a series
/// absent before counting from 0.
fn delta(before: Option<&MetricFamily>, after: &MetricFamily, sample_name: &str) -> Result<f64, SkipReason> {
    let mut total = 0.0;
    for sample in after.samples.iter().filter(|s| s.name == sample_name) {
        let previous = before
            .and_then(|f| f.samples.iter().find(|s| s.name == sample_name && same_labels(s, sample)))
            .map_or(0.0, |s| s.value);
        if !sample.value.is_finite() || !previous.is_finite() {
            return Err(SkipReason::NotFinite);
        }
        if sample.value < previous {
            return Err(SkipReason::Decreased);
        }
        total += sample.value - previous;
    }
    Ok(total)
}

/// Label sets compare as sets: exporters need not keep label order.
fn same_labels(a: &PromSample, b: &PromSample) -> bool {
    a.labels.len() == b.labels.len() && a.labels.iter().all(|(k, v)| b.label(k) == Some(v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    const BEFORE: &str = r#"# HELP db_queries_total Database queries issued, by table.
# TYPE db_queries_total counter
db_queries_total{table="users"} 120
db_queries_total{table="orders"} 30
# HELP go_gc_duration_seconds A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.7e-05
go_gc_duration_seconds{quantile="1"} 0.000112
go_gc_duration_seconds_sum 0.0005
go_gc_duration_seconds_count 10
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 12
# HELP go_info Information about the Go environment.
# TYPE go_info gauge
go_info{version="go1.26.8"} 1
# HELP go_memstats_alloc_bytes_total Total number of bytes allocated in heap until now, even if released already.
# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 1.5e+06
# HELP go_memstats_last_gc_time_seconds Number of seconds since 1970 of last garbage collection.
# TYPE go_memstats_last_gc_time_seconds gauge
go_memstats_last_gc_time_seconds 1.7959511e+09
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/api",le="0.05"} 90
http_request_duration_seconds_bucket{handler="/api",le="+Inf"} 100
http_request_duration_seconds_sum{handler="/api"} 2.5
http_request_duration_seconds_count{handler="/api"} 100
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 2.1e+07
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.79595114212e+09
# TYPE cache_evictions_total counter
cache_evictions_total 500
"#;

    /// 1000 requests later: 2 queries per request on users, 1 on orders
    /// (one of them on a table not queried before), a reset cache counter.
    const AFTER: &str = r#"# HELP db_queries_total Database queries issued, by table.
# TYPE db_queries_total counter
db_queries_total{table="orders"} 1020
db_queries_total{table="users"} 2120
db_queries_total{table="audit"} 10
# HELP go_gc_duration_seconds A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.1e-05
go_gc_duration_seconds{quantile="1"} 0.0003
go_gc_duration_seconds_sum 0.0025
go_gc_duration_seconds_count 30
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 17
# HELP go_info Information about the Go environment.
# TYPE go_info gauge
go_info{version="go1.26.8"} 1
# HELP go_memstats_alloc_bytes_total Total number of bytes allocated in heap until now, even if released already.
# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 4.15e+07
# HELP go_memstats_last_gc_time_seconds Number of seconds since 1970 of last garbage collection.
# TYPE go_memstats_last_gc_time_seconds gauge
go_memstats_last_gc_time_seconds 1.7959519e+09
# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{handler="/api",le="0.05"} 1000
http_request_duration_seconds_bucket{handler="/api",le="+Inf"} 1100
http_request_duration_seconds_sum{handler="/api"} 12.5
http_request_duration_seconds_count{handler="/api"} 1100
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 2.5e+07
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.79595114212e+09
# TYPE cache_evictions_total counter
cache_evictions_total 20
# TYPE jobs_created gauge
jobs_created 1.79595114e+09
"#;

    fn families(text: &str) -> Vec<MetricFamily> {
        prometheus::parse(text).unwrap()
    }

    fn get<'a>(metrics: &'a [CounterMetric], name: &str) -> &'a CounterMetric {
        metrics.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no {name} in {metrics:#?}"))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn counters_per_request_and_per_second_gauges_at_the_end() {
        let report = counter_report(&families(BEFORE), &families(AFTER), 1000, 4.0, None);
        let m = &report.metrics;
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "db_queries_per_request",
                "db_queries_per_second",
                "go_gc_duration_seconds_sum_per_request",
                "go_gc_duration_seconds_sum_per_second",
                "go_gc_duration_seconds_count_per_request",
                "go_gc_duration_seconds_count_per_second",
                "go_goroutines",
                "go_memstats_alloc_bytes_per_request",
                "go_memstats_alloc_bytes_per_second",
                "http_request_duration_seconds_sum_per_request",
                "http_request_duration_seconds_sum_per_second",
                "http_request_duration_seconds_count_per_request",
                "http_request_duration_seconds_count_per_second",
                "process_resident_memory_bytes",
            ]
        );
        // (2000 + 990 + 10) queries over all tables.
        let q = get(m, "db_queries_per_request");
        assert!(close(q.value, 3.0), "{q:?}");
        assert_eq!((q.unit.as_str(), q.better), ("queries/req", Better::Lower));
        let qs = get(m, "db_queries_per_second");
        assert!(close(qs.value, 750.0) && qs.unit == "queries/s", "{qs:?}");
        let gc = get(m, "go_gc_duration_seconds_count_per_request");
        assert!(close(gc.value, 0.02) && gc.unit == "1/req", "{gc:?}");
        let pause = get(m, "go_gc_duration_seconds_sum_per_request");
        assert!(close(pause.value, 2e-6) && pause.unit == "s/req", "{pause:?}");
        let alloc = get(m, "go_memstats_alloc_bytes_per_request");
        assert!(close(alloc.value, 40_000.0) && alloc.unit == "B/req", "{alloc:?}");
        let latency = get(m, "http_request_duration_seconds_sum_per_request");
        assert!(close(latency.value, 0.01), "{latency:?}");
        let goroutines = get(m, "go_goroutines");
        assert_eq!((goroutines.value, goroutines.unit.as_str()), (17.0, ""));
        assert_eq!(get(m, "process_resident_memory_bytes").unit, "B");
        assert!(m.iter().all(|m| m.better == Better::Lower));

        assert_eq!(
            report.skipped,
            [SkippedCounter { family: "cache_evictions_total".into(), reason: SkipReason::Decreased }]
        );
    }

    #[test]
    fn a_restarted_target_gives_no_counters() {
        let restarted =
            AFTER.replace("process_start_time_seconds 1.79595114212e+09", "process_start_time_seconds 1.8e+09");
        let report = counter_report(&families(BEFORE), &families(&restarted), 1000, 4.0, None);
        let names: Vec<&str> = report.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["go_goroutines", "process_resident_memory_bytes"]);
        assert!(report.skipped.iter().all(|s| s.reason == SkipReason::Restarted));
        assert_eq!(report.skipped.len(), 5);
    }

    #[test]
    fn select_keeps_named_families_and_reports_missing_ones() {
        let select: Vec<String> =
            ["db_queries", "go_goroutines", "not_there_total", "go_memstats_last_gc_time_seconds", "jobs_created"]
                .map(String::from)
                .into();
        let report = counter_report(&families(BEFORE), &families(AFTER), 0, 4.0, Some(&select));
        let names: Vec<&str> = report.metrics.iter().map(|m| m.name.as_str()).collect();
        // No requests: no per-request figures; an explicitly selected
        // timestamp gauge is kept; `_created` never is.
        assert_eq!(names, ["db_queries_per_second", "go_goroutines", "go_memstats_last_gc_time_seconds"]);
        assert_eq!(
            report.skipped,
            [SkippedCounter { family: "not_there_total".into(), reason: SkipReason::NotExposed }]
        );
        assert_eq!(counter_metrics(&families(BEFORE), &families(AFTER), 0, 0.0, Some(&[])), []);
    }

    #[test]
    fn labels_match_in_any_order_and_untyped_totals_are_counters() {
        let before = families("requests_total{code=\"200\",method=\"GET\"} 10\nqueue_depth 3\nweird NaN\n");
        let after = families("requests_total{method=\"GET\",code=\"200\"} 30\nqueue_depth 5\nweird NaN\n");
        let report = counter_report(&before, &after, 10, 0.0, None);
        assert_eq!(report.metrics.len(), 2, "{report:?}");
        let r = get(&report.metrics, "requests_per_request");
        assert!(close(r.value, 2.0) && r.unit == "requests/req", "{r:?}");
        assert_eq!(get(&report.metrics, "queue_depth").value, 5.0);
        assert_eq!(report.skipped, [SkippedCounter { family: "weird".into(), reason: SkipReason::NotFinite }]);
    }

    #[test]
    fn parses_urls() {
        let u = HttpUrl::parse("http://127.0.0.1:9090/metrics?x=1#frag").unwrap();
        assert_eq!(
            u,
            HttpUrl {
                host: "127.0.0.1".into(),
                port: 9090,
                authority: "127.0.0.1:9090".into(),
                path: "/metrics?x=1".into()
            }
        );
        let u = HttpUrl::parse("HTTP://[::1]:8080").unwrap();
        assert_eq!((u.host.as_str(), u.port, u.path.as_str()), ("::1", 8080, "/"));
        assert_eq!(HttpUrl::parse("http://localhost?a").unwrap().path, "/?a");
        assert_eq!(HttpUrl::parse("http://localhost").unwrap().port, 80);
        for bad in [
            "https://x/metrics",
            "localhost:80/metrics",
            "http://:80/",
            "http://x:99999/",
            "http://u@x/",
            "http://x/a b",
        ] {
            assert!(matches!(HttpUrl::parse(bad), Err(CounterError::InvalidUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn decodes_responses() {
        let ok = |raw: &[u8], eof| parse_response(raw, eof).unwrap();
        let length = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(ok(length, false).unwrap().body, b"hello");
        assert_eq!(ok(&length[..length.len() - 1], false), None);
        assert!(parse_response(&length[..length.len() - 1], true).is_err());
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\n\r\n";
        assert_eq!(ok(chunked, false).unwrap().body, b"hello!");
        assert_eq!(ok(&chunked[..chunked.len() - 7], false), None);
        assert_eq!(ok(b"HTTP/1.0 200 OK\r\n\r\nuntil close", true).unwrap().body, b"until close");
        assert_eq!(ok(b"HTTP/1.0 200 OK\r\n\r\nuntil close", false), None);
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n", false).is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false).is_err());
        let gz = ok(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n", false).unwrap();
        assert!(gz.compressed);
    }

    /// Serves each of `responses` to one connection, after reading the
    /// request head; returns the URL and the requests received.
    fn serve(responses: Vec<Vec<u8>>, keep_open: bool) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut requests = Vec::new();
            for response in responses {
                let (mut conn, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap() == 1 {
                    head.push(byte[0]);
                }
                requests.push(String::from_utf8_lossy(&head).into_owned());
                // Written in pieces, as a streaming server would.
                for piece in response.chunks(7) {
                    conn.write_all(piece).unwrap();
                    conn.flush().unwrap();
                }
                if keep_open {
                    std::thread::sleep(Duration::from_secs(3));
                }
            }
            requests
        });
        (url, handle)
    }

    #[test]
    fn scrapes_over_http() {
        let text = "# TYPE up gauge\nup 1\n";
        let chunked =
            format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{text}\r\n0\r\n\r\n", text.len());
        let (url, server) = serve(vec![chunked.into_bytes()], false);
        assert_eq!(scrape(&url, Duration::from_secs(5), false).unwrap(), text);
        let requests = server.join().unwrap();
        assert!(requests[0].starts_with("GET /metrics HTTP/1.1\r\n"), "{requests:?}");
        assert!(requests[0].contains("\r\nAccept-Encoding: identity\r\n"));

        // A server that ignores `Connection: close` must not make the scrape
        // wait for the timeout.
        let length = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{text}", text.len());
        let (url, server) = serve(vec![length.into_bytes()], true);
        let start = Instant::now();
        let families = scrape_families(&url, Duration::from_secs(2), false).unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
        assert_eq!(families[0].name, "up");
        server.join().unwrap();
    }

    #[test]
    fn scrape_failures_are_typed() {
        let (url, server) =
            serve(vec![b"HTTP/1.1 404 Not Found\r\nContent-Length: 19\r\n\r\n404 page not found\n".to_vec()], false);
        let e = scrape(&url, Duration::from_secs(5), false).unwrap_err();
        assert!(matches!(e, CounterError::Status { status: 404, .. }), "{e}");
        assert!(e.to_string().ends_with("HTTP status 404: 404 page not found"), "{e}");
        server.join().unwrap();

        // Accepts, reads the request, never answers.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/metrics", listener.local_addr().unwrap());
        let start = Instant::now();
        let e = scrape(&url, Duration::from_millis(300), false).unwrap_err();
        assert!(matches!(e, CounterError::Timeout { .. }), "{e}");
        assert!(start.elapsed() < Duration::from_secs(2));
        drop(listener);

        // Nothing listens on a port just released.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = scrape(&format!("http://127.0.0.1:{port}/metrics"), Duration::from_secs(2), false).unwrap_err();
        assert!(matches!(e, CounterError::Connect { .. }), "{e}");

        let (url, server) = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nx 1 2 3".to_vec()], false);
        let e = scrape_families(&url, Duration::from_secs(5), false).unwrap_err();
        assert!(matches!(e, CounterError::Parse { .. }), "{e}");
        server.join().unwrap();
    }
}
