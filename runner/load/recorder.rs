//! Per-worker measurements (an HDR histogram plus counters, owned by one load
//! thread, never shared while load runs) and their merge into the run's
//! `LoadReport` once every worker has finished.

use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// Lowest and highest latency the histograms hold, in nanoseconds. Values
/// beyond the top are clamped rather than lost (a request that slow has
/// timed out long before in any sane spec).
const LOWEST_NS: u64 = 1;
const HIGHEST_NS: u64 = 3_600 * 1_000_000_000;
const SIGNIFICANT_FIGURES: u8 = 3;

/// Width of one interval of an HDR interval log (`--hdr-log`).
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Width of one bucket of the completions timeline (throughput over time).
pub const TIMELINE_STEP: Duration = Duration::from_millis(100);
/// Buckets kept at most (an hour): later completions land in the last one.
const TIMELINE_MAX_BUCKETS: usize = 36_000;

/// Why a request failed. `Status` keeps the code, as users ask "which 5xx?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The TCP connection (or the HTTP handshake) could not be established.
    Connect,
    /// No complete response within the request timeout.
    Timeout,
    /// A complete response whose status is outside the expected ranges.
    Status(u16),
    /// The connection broke while sending or receiving.
    Io,
    /// The server closed the connection before the response was complete.
    Closed,
    /// The response was not valid HTTP/1.1.
    Protocol,
}

impl Failure {
    pub fn kind(&self) -> String {
        match self {
            Failure::Connect => "connect".into(),
            Failure::Timeout => "timeout".into(),
            Failure::Status(code) => format!("status {code}"),
            Failure::Io => "io".into(),
            Failure::Closed => "closed".into(),
            Failure::Protocol => "protocol".into(),
        }
    }
}

pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_FIGURES).expect("valid histogram bounds")
}

/// What one load thread measured. Only measured-window requests reach it.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub latency: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    pub late: u64,
    /// Open model: measured slots never sent because the window ended first.
    pub unsent: u64,
    /// Small: a handful of distinct failure kinds per run.
    pub failures: Vec<(Failure, u64)>,
    /// When the last measured request finished.
    pub last_end: Option<Instant>,
    /// Completed requests per `TIMELINE_STEP` since the window started.
    pub timeline: Vec<u64>,
    /// Per-second latency histograms, when an interval log was asked for.
    pub intervals: Option<Intervals>,
    /// Every recorded latency (ns), when asked for.
    pub raw: Option<Vec<u64>>,
}

/// Latencies per [`INTERVAL`] of the window: the live interval's histogram,
/// and the finished ones as (value, count) pairs — a few hundred bytes a
/// second instead of a whole histogram's counts.
#[derive(Debug, Clone)]
pub struct Intervals {
    current: Option<u64>,
    live: Histogram<u64>,
    pub done: Vec<(u64, Vec<(u64, u64)>)>,
}

impl Intervals {
    fn new() -> Intervals {
        Intervals { current: None, live: new_histogram(), done: Vec::new() }
    }

    /// Records `ns` in interval `index`. Completions arrive nearly in time
    /// order; one from an earlier interval closes the live one and opens
    /// its own entry (entries of one index are added up later).
    fn record(&mut self, index: u64, ns: u64) {
        if self.current != Some(index) {
            self.flush();
            self.current = Some(index);
        }
        self.live.saturating_record(ns);
    }

    fn flush(&mut self) {
        if let Some(i) = self.current.take()
            && !self.live.is_empty()
        {
            let pairs = self.live.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
            self.done.push((i, pairs));
            self.live.reset();
        }
    }

    /// The histogram of every interval, in order.
    pub fn histograms(mut self) -> std::collections::BTreeMap<u64, Histogram<u64>> {
        self.flush();
        let mut out: std::collections::BTreeMap<u64, Histogram<u64>> = std::collections::BTreeMap::new();
        for (i, pairs) in self.done {
            let h = out.entry(i).or_insert_with(new_histogram);
            for (value, count) in pairs {
                h.saturating_record_n(value, count);
            }
        }
        out
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(false, false)
    }
}

impl Recorder {
    /// A recorder; with `intervals`, latencies per second of the window too;
    /// with `raw`, every latency as recorded.
    pub fn new(intervals: bool, raw: bool) -> Recorder {
        Recorder {
            latency: new_histogram(),
            requests: 0,
            errors: 0,
            late: 0,
            unsent: 0,
            failures: Vec::new(),
            last_end: None,
            timeline: Vec::new(),
            intervals: intervals.then(Intervals::new),
            raw: raw.then(Vec::new),
        }
    }

    /// A response's latency in its interval of the window (and in the raw
    /// list), when those are kept.
    #[inline]
    pub fn detail(&mut self, latency: Duration, window_start: Instant, end: Instant) {
        let ns = latency_ns(latency);
        if let Some(iv) = &mut self.intervals {
            let index = (end.saturating_duration_since(window_start).as_nanos() / INTERVAL.as_nanos()) as u64;
            iv.record(index, ns);
        }
        if let Some(raw) = &mut self.raw {
            raw.push(ns);
        }
    }

    /// A request that got a complete response: its latency counts whatever
    /// the status, because a fast 500 is still a measured round trip.
    #[inline]
    pub fn response(&mut self, latency: Duration, failure: Option<Failure>, end: Instant) {
        self.latency.saturating_record(latency_ns(latency));
        self.finish(failure, end);
    }

    /// A request that ended without a response (connect, timeout, I/O):
    /// counted, but it has no latency worth recording.
    #[inline]
    pub fn no_response(&mut self, failure: Failure, end: Instant) {
        self.finish(Some(failure), end);
    }

    #[inline]
    fn finish(&mut self, failure: Option<Failure>, end: Instant) {
        self.requests += 1;
        if let Some(f) = failure {
            self.errors += 1;
            match self.failures.iter_mut().find(|(k, _)| *k == f) {
                Some((_, n)) => *n += 1,
                None => self.failures.push((f, 1)),
            }
        }
        if self.last_end.is_none_or(|t| end > t) {
            self.last_end = Some(end);
        }
    }

    /// Counts a completion at `end` in the timeline of a window that
    /// started at `window_start`.
    #[inline]
    pub fn tick(&mut self, window_start: Instant, end: Instant) {
        let i = (end.saturating_duration_since(window_start).as_nanos() / TIMELINE_STEP.as_nanos()) as usize;
        let i = i.min(TIMELINE_MAX_BUCKETS - 1);
        if self.timeline.len() <= i {
            self.timeline.resize(i + 1, 0);
        }
        self.timeline[i] += 1;
    }

    /// Adds another worker's measurements to this one.
    pub fn merge(&mut self, other: &Recorder) {
        if self.timeline.len() < other.timeline.len() {
            self.timeline.resize(other.timeline.len(), 0);
        }
        for (a, b) in self.timeline.iter_mut().zip(&other.timeline) {
            *a += b;
        }
        self.latency.add(&other.latency).expect("histograms share bounds");
        self.requests += other.requests;
        self.errors += other.errors;
        self.late += other.late;
        self.unsent += other.unsent;
        for &(f, n) in &other.failures {
            match self.failures.iter_mut().find(|(k, _)| *k == f) {
                Some((_, m)) => *m += n,
                None => self.failures.push((f, n)),
            }
        }
        self.last_end = match (self.last_end, other.last_end) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let (Some(mine), Some(theirs)) = (&mut self.intervals, &other.intervals) {
            let mut theirs = theirs.clone();
            theirs.flush();
            mine.done.extend(theirs.done);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.raw, &other.raw) {
            mine.extend_from_slice(theirs);
        }
    }
}

#[inline]
fn latency_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(LOWEST_NS)
}

/// The outcome of one load run. Latencies are in nanoseconds in the
/// histogram and in seconds from the accessors (DESIGN §7 units).
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Completed measured requests, failed ones included.
    pub requests: u64,
    pub errors: u64,
    /// Open model: requests sent after their intended time because every
    /// allowed connection was busy or the generator fell behind.
    pub late: u64,
    /// Open model: requests due in the measured window that were never sent
    /// because the window ended first (the target or the generator could
    /// not keep up with the rate and `max_in_flight`).
    pub unsent: u64,
    /// The measured window: from its start to the end of the last measured
    /// request (at least the configured duration).
    pub elapsed: Duration,
    /// Completed (successful + failed) requests per second of `elapsed`.
    pub throughput: f64,
    /// Nanoseconds, 3 significant figures, all workers merged; only requests
    /// that got a complete response.
    pub latency: Histogram<u64>,
    /// Failure kind ("status 500", "connect", "timeout", "io", "closed",
    /// "protocol") and count, most frequent first.
    pub errors_by_kind: Vec<(String, u64)>,
    /// User + system CPU of this process during the measured window.
    pub generator_cpu: Duration,
    /// Completed requests per `TIMELINE_STEP` of the window, in order.
    pub timeline: Vec<u64>,
    /// Latency per [`INTERVAL`] of the window, by interval (`--hdr-log`).
    pub intervals: std::collections::BTreeMap<u64, Histogram<u64>>,
    /// Every measured latency in ns (`--raw-latencies`).
    pub raw: Vec<u64>,
    /// The wall-clock time the measured window started.
    pub window_started_at: std::time::SystemTime,
    /// `--start-at`: how late this generator started the load (zero when on time).
    pub start_lag: Option<Duration>,
}

impl LoadReport {
    /// Builds the report from the merged workers' measurements.
    pub fn from_recorder(mut merged: Recorder, window_start: Instant, window: Option<Duration>, cpu: Duration) -> Self {
        let now = (Instant::now(), std::time::SystemTime::now());
        let window_started_at = match window_start.checked_duration_since(now.0) {
            Some(ahead) => now.1 + ahead,
            None => now.1 - now.0.saturating_duration_since(window_start),
        };
        let intervals = merged.intervals.take().map(Intervals::histograms).unwrap_or_default();
        let raw = merged.raw.take().unwrap_or_default();
        let mut elapsed = merged.last_end.map(|t| t.saturating_duration_since(window_start)).unwrap_or_default();
        if let Some(w) = window
            && elapsed < w
            && merged.requests > 0
        {
            // A duration-limited run measures its whole window even if the
            // last request ended a little before its end.
            elapsed = w;
        }
        let throughput = if elapsed.is_zero() { 0.0 } else { merged.requests as f64 / elapsed.as_secs_f64() };
        let mut errors_by_kind: Vec<(String, u64)> = merged.failures.iter().map(|(f, n)| (f.kind(), *n)).collect();
        errors_by_kind.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        LoadReport {
            requests: merged.requests,
            errors: merged.errors,
            late: merged.late,
            unsent: merged.unsent,
            elapsed,
            throughput,
            latency: merged.latency,
            errors_by_kind,
            generator_cpu: cpu,
            timeline: merged.timeline,
            intervals,
            raw,
            window_started_at,
            start_lag: None,
        }
    }

    /// Latency at quantile `q` in seconds. `q` is a fraction (0.99 = p99);
    /// values above 1 are read as percents (99.9 = p99.9). 0 when no
    /// request completed.
    pub fn percentile(&self, q: f64) -> f64 {
        let q = if q > 1.0 { q / 100.0 } else { q };
        if self.latency.is_empty() {
            return 0.0;
        }
        self.latency.value_at_quantile(q.clamp(0.0, 1.0)) as f64 / 1e9
    }

    /// Mean latency in seconds.
    pub fn mean(&self) -> f64 {
        if self.latency.is_empty() { 0.0 } else { self.latency.mean() / 1e9 }
    }

    /// Highest latency in seconds.
    pub fn max(&self) -> f64 {
        if self.latency.is_empty() { 0.0 } else { self.latency.max() as f64 / 1e9 }
    }

    /// Failed share of completed requests, 0..=1.
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.errors as f64 / self.requests as f64 }
    }

    /// Generator CPU seconds per completed request (0 when none completed).
    pub fn cpu_per_request(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.generator_cpu.as_secs_f64() / self.requests as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_adds_histograms_and_counters() {
        let t0 = Instant::now();
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for ms in 1..=50u64 {
            a.response(Duration::from_millis(ms), None, t0 + Duration::from_millis(ms));
        }
        for ms in 51..=100u64 {
            b.response(Duration::from_millis(ms), None, t0 + Duration::from_millis(ms));
        }
        b.response(Duration::from_millis(5), Some(Failure::Status(500)), t0);
        b.no_response(Failure::Timeout, t0);
        a.no_response(Failure::Timeout, t0);
        b.late = 3;
        a.merge(&b);
        assert_eq!(a.requests, 103);
        assert_eq!(a.errors, 3);
        assert_eq!(a.late, 3);
        assert_eq!(a.latency.len(), 101, "responses only");
        assert_eq!(a.last_end, Some(t0 + Duration::from_millis(100)));
        let report = LoadReport::from_recorder(a, t0, None, Duration::from_millis(7));
        // The merged histogram is the histogram of the union: 3 significant figures.
        let close = |x: f64, want: f64| (x - want).abs() <= want * 1e-3 + 1e-9;
        assert!(close(report.percentile(0.5), 0.050), "{}", report.percentile(0.5));
        assert!(close(report.percentile(99.0), 0.099), "{}", report.percentile(99.0));
        assert!(close(report.max(), 0.100));
        assert!((report.error_rate() - 3.0 / 103.0).abs() < 1e-12);
        assert_eq!(report.errors_by_kind, vec![("timeout".to_string(), 2), ("status 500".to_string(), 1)]);
        assert_eq!(report.elapsed, Duration::from_millis(100));
        assert!((report.throughput - 1030.0).abs() < 1e-6);
    }

    #[test]
    fn empty_report_is_zero_not_nan() {
        let report = LoadReport::from_recorder(Recorder::default(), Instant::now(), None, Duration::ZERO);
        assert_eq!(report.percentile(0.99), 0.0);
        assert_eq!(report.mean(), 0.0);
        assert_eq!(report.max(), 0.0);
        assert_eq!(report.error_rate(), 0.0);
        assert_eq!(report.throughput, 0.0);
    }

    #[test]
    fn huge_latency_is_clamped_not_lost() {
        let mut r = Recorder::default();
        r.response(Duration::from_secs(100_000), None, Instant::now());
        assert_eq!(r.latency.len(), 1);
    }
}
