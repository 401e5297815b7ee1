//! HdrHistogram interval logs (`perfgate load --hdr-log FILE`): the
//! standard text format (V2 compressed histograms, base64, one line per
//! second of the measured window; HdrHistogram's own tools read it), with
//! one comment line of ours, `#[perfgate-load: {json}]`, holding what the
//! histograms cannot: request and error counts, the schedule's lateness,
//! the generator's place in the fleet. `perfgate load merge` reads a
//! fleet's logs and adds their histograms — percentiles are never averaged.
//!
//! Logs come from other machines: they are read as untrusted input, with
//! bounded sizes, and every histogram must have this perfgate's precision.

use super::recorder::{self, LoadReport};
use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, IntervalLogWriterBuilder, LogEntry};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The comment line that carries [`Meta`].
const META_PREFIX: &str = "[perfgate-load: ";
/// Larger logs are refused: a day of one-second intervals is ~100 MiB at most.
const MAX_LOG_BYTES: u64 = 256 << 20;
/// Logs merged at once, at most.
pub const MAX_LOGS: usize = 1024;

/// What one generator knew of its run, besides latencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// "2/4" for a fleet member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    pub hostname: String,
    pub url: String,
    /// "open 1000 req/s (this generator: 1/4 of it)", "closed 8 connections".
    pub model: String,
    /// `--start-at`, as given (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// How late the generator started after `start_at`, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_lag_s: Option<f64>,
    /// The measured window: its start (seconds since the epoch) and length.
    pub window_start_s: f64,
    pub window_s: f64,
    pub requests: u64,
    pub errors: u64,
    pub errors_by_kind: Vec<(String, u64)>,
    /// Open model: sent after their intended time / never sent.
    pub late: u64,
    pub unsent: u64,
    pub generator_cpu_s: f64,
}

/// `report`'s intervals as an interval log with `meta`.
pub fn encode(report: &LoadReport, meta: &Meta) -> std::io::Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    {
        let json = serde_json::to_string(meta).map_err(std::io::Error::other)?;
        let mut serializer = V2DeflateSerializer::new();
        let mut writer = IntervalLogWriterBuilder::new()
            .add_comment("Latency in nanoseconds, one histogram per second of the measured window (perfgate load)")
            .add_comment(&format!("{META_PREFIX}{json}]"))
            .with_start_time(report.window_started_at)
            .with_base_time(report.window_started_at)
            .begin_log_with(&mut out, &mut serializer)?;
        for (index, h) in &report.intervals {
            let start = recorder::INTERVAL * (*index as u32);
            writer
                .write_histogram(h, start, recorder::INTERVAL, None)
                .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        }
    }
    Ok(out)
}

/// The meta of a finished run (`generator` and `start_at` as the CLI knows them).
pub fn meta(
    report: &LoadReport,
    url: &str,
    model: String,
    generator: Option<String>,
    start_at: Option<String>,
) -> Meta {
    Meta {
        generator,
        hostname: sysinfo::System::host_name().unwrap_or_default(),
        url: url.to_string(),
        model,
        start_at,
        start_lag_s: report.start_lag.map(|d| d.as_secs_f64()),
        window_start_s: report.window_started_at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64(),
        window_s: report.elapsed.as_secs_f64(),
        requests: report.requests,
        errors: report.errors,
        errors_by_kind: report.errors_by_kind.clone(),
        late: report.late,
        unsent: report.unsent,
        generator_cpu_s: report.generator_cpu.as_secs_f64(),
    }
}

/// One generator's log, read back.
#[derive(Debug)]
pub struct GeneratorLog {
    pub path: String,
    pub meta: Meta,
    /// Its intervals added up.
    pub latency: Histogram<u64>,
    pub intervals: usize,
}

/// Reads and checks one log.
pub fn read(path: &Path) -> Result<GeneratorLog, String> {
    let shown = path.display().to_string();
    let size = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?.len();
    if size > MAX_LOG_BYTES {
        return Err(format!("{shown}: {size} bytes, more than the {} MiB a log may hold", MAX_LOG_BYTES >> 20));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    parse(&bytes)
        .map(|(meta, latency, intervals)| GeneratorLog { path: shown.clone(), meta, latency, intervals })
        .map_err(|e| format!("{shown}: {e}"))
}

/// A log's meta line, its histograms added up, and how many there were.
pub fn parse(bytes: &[u8]) -> Result<(Meta, Histogram<u64>, usize), String> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| "not a text file: not an HdrHistogram interval log".to_string())?;
    let meta_line = text
        .lines()
        .find_map(|l| l.strip_prefix('#').and_then(|l| l.strip_prefix(META_PREFIX)))
        .ok_or("no `#[perfgate-load: …]` line: not a log written by `perfgate load --hdr-log`")?;
    let meta: Meta = serde_json::from_str(meta_line.strip_suffix(']').unwrap_or(meta_line))
        .map_err(|e| format!("its perfgate-load line is not valid: {e}"))?;
    let mut total = recorder::new_histogram();
    let mut intervals = 0;
    let mut deserializer = Deserializer::new();
    for entry in IntervalLogIterator::new(bytes) {
        let entry = entry.map_err(|e| format!("not a valid interval log line ({e:?})"))?;
        let LogEntry::Interval(interval) = entry else { continue };
        let encoded = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|e| format!("interval {}: histogram is not base64: {e}", intervals + 1))?;
        check_header(&encoded, &total).map_err(|e| format!("interval {}: {e}", intervals + 1))?;
        let h: Histogram<u64> = deserializer
            .deserialize(&mut &encoded[..])
            .map_err(|e| format!("interval {}: not a V2 histogram ({e:?})", intervals + 1))?;
        if (h.sigfig(), h.low(), h.high()) != (total.sigfig(), total.low(), total.high()) {
            return Err(format!(
                "interval {}: histogram precision {} significant figures, range {}..{} ns; perfgate's is {}, {}..{}: \
                 every generator must use the same precision",
                intervals + 1,
                h.sigfig(),
                h.low(),
                h.high(),
                total.sigfig(),
                total.low(),
                total.high()
            ));
        }
        total.add(&h).map_err(|e| format!("interval {}: {e:?}", intervals + 1))?;
        intervals += 1;
    }
    Ok((meta, total, intervals))
}

/// V2 cookies (word size 8), plain and compressed.
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// A V2 payload of our histograms' counts is well under this.
const MAX_PAYLOAD: u32 = 4 << 20;

/// Reads an encoded histogram's header before the decoder allocates for it:
/// the precision and range must be `like`'s and the payload small, so a
/// hostile log cannot make the decoder allocate gigabytes.
fn check_header(encoded: &[u8], like: &Histogram<u64>) -> Result<(), String> {
    use std::io::Read;
    let word = |b: &[u8], at: usize| b.get(at..at + 4).map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    let mut header = [0u8; 40];
    match word(encoded, 0) {
        Some(V2_COMPRESSED_COOKIE) => {
            let len = word(encoded, 4).ok_or("truncated histogram")?;
            if len > MAX_PAYLOAD {
                return Err(format!("compressed histogram of {len} bytes is too large"));
            }
            let body = encoded.get(8..).ok_or("truncated histogram")?;
            flate2::read::ZlibDecoder::new(body)
                .read_exact(&mut header)
                .map_err(|_| "compressed histogram does not inflate".to_string())?;
        }
        Some(V2_COOKIE) => header.copy_from_slice(encoded.get(..40).ok_or("truncated histogram")?),
        _ => return Err("not a V2 histogram".into()),
    }
    let long = |at: usize| u64::from_be_bytes(header[at..at + 8].try_into().unwrap_or([0; 8]));
    if word(&header, 0) != Some(V2_COOKIE) {
        return Err("not a V2 histogram".into());
    }
    let payload = word(&header, 4).unwrap_or(u32::MAX);
    let (sigfig, low, high) = (word(&header, 12).unwrap_or(0), long(16), long(24));
    if (sigfig, low, high) != (u32::from(like.sigfig()), like.low(), like.high()) {
        return Err(format!(
            "histogram precision {sigfig} significant figures, range {low}..{high} ns; perfgate's is {}, {}..{}: \
             every generator must use the same precision",
            like.sigfig(),
            like.low(),
            like.high()
        ));
    }
    if payload > MAX_PAYLOAD {
        return Err(format!("histogram payload of {payload} bytes is too large"));
    }
    Ok(())
}

/// A fleet's logs added up.
#[derive(Debug)]
pub struct FleetReport {
    pub generators: Vec<GeneratorLog>,
    pub latency: Histogram<u64>,
    pub requests: u64,
    pub errors: u64,
    pub errors_by_kind: Vec<(String, u64)>,
    /// From the first generator's window start to the last one's end.
    pub window: Duration,
    pub throughput: f64,
}

/// Adds `logs`' histograms and counts. Logs of one generator given twice are refused.
pub fn merge(logs: Vec<GeneratorLog>) -> Result<FleetReport, String> {
    if logs.is_empty() {
        return Err("no log to merge: give each generator's --hdr-log file".into());
    }
    let mut seen = std::collections::BTreeMap::new();
    for g in &logs {
        if let Some(id) = &g.meta.generator
            && let Some(other) = seen.insert(id.clone(), g.path.clone())
        {
            return Err(format!("generator {id} given twice: {other} and {}", g.path));
        }
    }
    let mut latency = recorder::new_histogram();
    let mut kinds: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for g in &logs {
        latency.add(&g.latency).map_err(|e| format!("{}: {e:?}", g.path))?;
        for (k, n) in &g.meta.errors_by_kind {
            *kinds.entry(k.clone()).or_default() += n;
        }
    }
    let start = logs.iter().map(|g| g.meta.window_start_s).fold(f64::INFINITY, f64::min);
    let end = logs.iter().map(|g| g.meta.window_start_s + g.meta.window_s).fold(f64::NEG_INFINITY, f64::max);
    let window = Duration::try_from_secs_f64((end - start).max(0.0)).unwrap_or_default();
    let requests: u64 = logs.iter().map(|g| g.meta.requests).sum();
    let mut errors_by_kind: Vec<(String, u64)> = kinds.into_iter().collect();
    errors_by_kind.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(FleetReport {
        latency,
        requests,
        errors: logs.iter().map(|g| g.meta.errors).sum(),
        errors_by_kind,
        throughput: if window.is_zero() { 0.0 } else { requests as f64 / window.as_secs_f64() },
        window,
        generators: logs,
    })
}

/// Why a generator fell behind its schedule, if it did: a late start
/// (over 100 ms after `--start-at`), or open-model slots sent late or
/// never (over 1% of its requests).
pub fn behind(m: &Meta) -> Vec<String> {
    let mut why = Vec::new();
    if let Some(lag) = m.start_lag_s.filter(|l| *l > 0.1) {
        why.push(format!("started {lag:.2} s after --start-at"));
    }
    let share = |n: u64| n as f64 / (m.requests.max(1)) as f64;
    if share(m.late) > 0.01 {
        why.push(format!("{} requests sent late ({:.1}%)", m.late, 100.0 * share(m.late)));
    }
    if m.unsent > 0 && share(m.unsent) > 0.01 {
        why.push(format!("{} scheduled requests never sent", m.unsent));
    }
    why
}

/// `--start-at`: RFC 3339 (`2026-12-06T20:00:00Z`) or seconds since the epoch.
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    if let Ok(secs) = text.trim().parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map(|d| UNIX_EPOCH + d)
            .map_err(|_| format!("--start-at {text:?}: not a time"));
    }
    let t: jiff::Timestamp = text.trim().parse().map_err(|e| {
        format!("--start-at {text:?}: give an RFC 3339 time (2026-12-06T20:00:00Z) or epoch seconds: {e}")
    })?;
    Ok(SystemTime::from(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(generator: &str, requests: u64) -> Meta {
        Meta {
            generator: Some(generator.into()),
            hostname: "h".into(),
            url: "http://127.0.0.1:1/".into(),
            model: "open 10 req/s".into(),
            start_at: None,
            start_lag_s: None,
            window_start_s: 100.0,
            window_s: 2.0,
            requests,
            errors: 1,
            errors_by_kind: vec![("timeout".into(), 1)],
            late: 0,
            unsent: 0,
            generator_cpu_s: 0.1,
        }
    }

    /// A log as `write` makes it, of histograms `make` returns per interval.
    fn log(m: &Meta, make: impl Fn(u64) -> Histogram<u64>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut serializer = V2DeflateSerializer::new();
        let json = serde_json::to_string(m).unwrap();
        let mut w = IntervalLogWriterBuilder::new()
            .add_comment(&format!("{META_PREFIX}{json}]"))
            .with_start_time(UNIX_EPOCH + Duration::from_secs(100))
            .begin_log_with(&mut out, &mut serializer)
            .unwrap();
        for i in 0..2u32 {
            w.write_histogram(&make(u64::from(i)), Duration::from_secs(u64::from(i)), Duration::from_secs(1), None)
                .unwrap();
        }
        drop(w);
        out
    }

    #[test]
    fn a_log_reads_back_and_fleets_add_up() {
        let make = |i: u64| {
            let mut h = recorder::new_histogram();
            for v in 1..=100 {
                h.record(v * 1000 + i).unwrap();
            }
            h
        };
        let (m, h, n) = parse(&log(&meta("1/2", 200), make)).unwrap();
        assert_eq!((m, h.len(), n), (meta("1/2", 200), 200, 2));
        let g = |id: &str| {
            let (meta, latency, intervals) = parse(&log(&meta(id, 200), make)).unwrap();
            GeneratorLog { path: id.into(), meta, latency, intervals }
        };
        let fleet = merge(vec![g("1/2"), g("2/2")]).unwrap();
        assert_eq!((fleet.requests, fleet.errors, fleet.latency.len()), (400, 2, 400));
        assert_eq!(fleet.errors_by_kind, vec![("timeout".to_string(), 2)]);
        assert!((fleet.throughput - 200.0).abs() < 1e-9);
        assert!(merge(vec![g("1/2"), g("1/2")]).unwrap_err().contains("given twice"));
    }

    #[test]
    fn other_precisions_and_other_files_are_refused() {
        let coarse = |_| {
            let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 2).unwrap();
            h.record(5).unwrap();
            h
        };
        let e = parse(&log(&meta("1/2", 1), coarse)).unwrap_err();
        assert!(e.contains("2 significant figures") && e.contains("same precision"), "{e}");
        assert!(parse(b"#just a comment\n").unwrap_err().contains("not a log written by"));
        assert!(parse(&[0xff, 0xfe, 0]).unwrap_err().contains("not a text file"));
        let mut broken = log(&meta("1/2", 1), |_| recorder::new_histogram());
        broken.extend_from_slice(b"0.000,1.000,1.000,!!!notbase64\n");
        assert!(parse(&broken).is_err());
    }

    #[test]
    fn behind_names_a_late_start_and_lost_slots() {
        let mut m = meta("1/2", 1000);
        assert!(behind(&m).is_empty());
        m.start_lag_s = Some(0.5);
        m.late = 50;
        m.unsent = 20;
        assert_eq!(behind(&m).len(), 3, "{:?}", behind(&m));
        assert_eq!(parse_start_at("2026-12-06T20:00:00Z").unwrap(), UNIX_EPOCH + Duration::from_secs(1_796_587_200));
        assert_eq!(parse_start_at("1796587200.5").unwrap(), UNIX_EPOCH + Duration::from_millis(1_796_587_200_500));
        assert!(parse_start_at("tomorrow").is_err());
    }
}
