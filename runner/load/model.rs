//! The load model: what to send (a weighted request mix), how to pace it
//! (closed loop or open-model schedule) and which statuses count as success.
//! Pure logic, no I/O, so that the engine's decisions are unit-testable.

use std::time::Duration;

/// One kind of request in the mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    pub method: String,
    /// Path with query, e.g. `/api/dashboard?days=7`; joined to the base URL's path.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Relative share of the mix; 0 never sends this request.
    pub weight: u32,
}

impl Default for RequestSpec {
    fn default() -> Self {
        RequestSpec { method: "GET".into(), path: "/".into(), headers: Vec::new(), body: None, weight: 1 }
    }
}

/// How load is paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// `connections` workers, each sending its next request when the previous
    /// one has finished. Measures the server at saturation; hides stalls
    /// (coordinated omission) by design.
    Closed { connections: usize },
    /// Requests at fixed intended times `t0 + i/rate`, whatever the server
    /// does; latency is measured from the intended time. At most
    /// `max_in_flight` requests (= connections) are outstanding.
    Open { rate: f64, max_in_flight: usize },
}

impl Default for Model {
    fn default() -> Self {
        Model::Closed { connections: 32 }
    }
}

/// Everything one load run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSpec {
    /// `http://127.0.0.1:8080`, optionally with a path prefix.
    pub base_url: String,
    pub requests: Vec<RequestSpec>,
    pub model: Model,
    /// Length of the measured window. With neither this nor `total_requests`, 10 s.
    pub duration: Option<Duration>,
    /// Stop after this many measured requests (whichever of the two limits comes first).
    pub total_requests: Option<u64>,
    /// Load before the measured window; excluded from every figure.
    pub warmup: Duration,
    /// false: a new connection per request (its connect time is part of its latency).
    pub keepalive: bool,
    /// Inclusive ranges of statuses that count as success; empty means 200–399.
    pub expect_status: Vec<(u16, u16)>,
    /// A request (connect included) that takes longer is abandoned and counted as an error.
    pub request_timeout: Duration,
    /// Seeds the request-mix sequence, so that two runs send the same sequence.
    pub seed: u64,
    /// Send to non-loopback addresses too (`--allow-remote`). Off by
    /// default: the run refuses any resolved address that is not loopback.
    pub allow_remote: bool,
    /// One generator of a fleet (`--shard I/N`): its share of the load.
    pub fleet: Option<Fleet>,
    /// Start the load (warmup first) at this wall-clock time, shared by a
    /// fleet (`--start-at`); `None`: as soon as connections are open.
    pub start_at: Option<std::time::SystemTime>,
    /// Keep a latency histogram per second of the window (`--hdr-log`).
    pub intervals: bool,
    /// Keep every measured latency (`--raw-latencies`, for checking the
    /// histograms against exact percentiles): 8 bytes per request.
    pub raw: bool,
}

/// Generator `index` (0-based) of `count`. Open model: it sends the slots
/// `i ≡ index (mod count)` of the fleet's schedule at the full rate — 1/N
/// of the rate, interleaved with the other generators', never in step
/// with them. Closed model: ⌊C/N⌋ or ⌈C/N⌉ of the connections and of
/// `total_requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fleet {
    pub index: u32,
    pub count: u32,
}

impl Fleet {
    /// This generator's part of `n` things dealt out one by one.
    pub fn share(&self, n: u64) -> u64 {
        let (i, k) = (u64::from(self.index), u64::from(self.count.max(1)));
        n / k + u64::from(i < n % k)
    }
}

impl Default for LoadSpec {
    fn default() -> Self {
        LoadSpec {
            base_url: "http://127.0.0.1:8080".into(),
            requests: vec![RequestSpec::default()],
            model: Model::default(),
            duration: None,
            total_requests: None,
            warmup: Duration::ZERO,
            keepalive: true,
            expect_status: vec![(200, 399)],
            request_timeout: Duration::from_secs(30),
            seed: 1,
            allow_remote: false,
            fleet: None,
            start_at: None,
            intervals: false,
            raw: false,
        }
    }
}

/// The measured window when the spec sets no limit.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);

impl LoadSpec {
    /// The measured window's length limit: the spec's, or the default when it sets neither limit.
    pub fn effective_duration(&self) -> Option<Duration> {
        match (self.duration, self.total_requests) {
            (None, None) => Some(DEFAULT_DURATION),
            (d, _) => d,
        }
    }
}

/// Picks requests by weight. The choice for the n-th request of a stream is
/// a pure function of (seed, stream, n): each connection's sequence is
/// reproducible without any state shared between workers.
#[derive(Debug, Clone)]
pub struct RequestMix {
    /// Cumulative weights of the requests with non-zero weight.
    cumulative: Vec<u64>,
    /// Index into the spec's `requests` for each entry of `cumulative`.
    index: Vec<usize>,
    seed: u64,
}

impl RequestMix {
    /// None when no request has a positive weight.
    pub fn new(weights: &[u32], seed: u64) -> Option<RequestMix> {
        let mut cumulative = Vec::new();
        let mut index = Vec::new();
        let mut total = 0u64;
        for (i, &w) in weights.iter().enumerate() {
            if w > 0 {
                total += u64::from(w);
                cumulative.push(total);
                index.push(i);
            }
        }
        if cumulative.is_empty() { None } else { Some(RequestMix { cumulative, index, seed }) }
    }

    /// Index (into the spec's requests) of request `n` of `stream`.
    #[inline]
    pub fn pick(&self, stream: u64, n: u64) -> usize {
        if self.index.len() == 1 {
            return self.index[0];
        }
        let total = *self.cumulative.last().expect("non-empty");
        let r = splitmix64(self.seed ^ splitmix64(stream.wrapping_add(0x632B_E59B_D9B4_E019)) ^ n);
        // Lemire's multiply-shift: maps r onto [0, total) without a division.
        let x = ((u128::from(r) * u128::from(total)) >> 64) as u64;
        let slot = self.cumulative.partition_point(|&c| c <= x);
        self.index[slot]
    }
}

/// A fast, well-mixed 64-bit hash (the SplitMix64 finalizer).
#[inline]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Inclusive status ranges that count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRanges {
    ranges: Vec<(u16, u16)>,
}

impl StatusRanges {
    /// Empty input means the default, 200–399 (redirects are answers, not failures).
    pub fn new(ranges: &[(u16, u16)]) -> StatusRanges {
        let ranges = if ranges.is_empty() { vec![(200, 399)] } else { ranges.to_vec() };
        StatusRanges { ranges }
    }

    #[inline]
    pub fn accepts(&self, status: u16) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= status && status <= hi)
    }

    /// Parses `200-299,404,5xx` (the CLI's `--expect-status`; the same
    /// spellings as a scenario's `expect_status`).
    pub fn parse(text: &str) -> Result<Vec<(u16, u16)>, String> {
        let mut out = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if let [d @ b'1'..=b'9', b'x' | b'X', b'x' | b'X'] = part.as_bytes() {
                let lo = u16::from(d - b'0') * 100;
                out.push((lo, lo + 99));
                continue;
            }
            let (lo, hi) = match part.split_once('-') {
                Some((lo, hi)) => (lo.trim(), hi.trim()),
                None => (part, part),
            };
            let parse = |s: &str| {
                s.parse::<u16>()
                    .ok()
                    .filter(|v| (100..=999).contains(v))
                    .ok_or_else(|| format!("invalid status {s:?} in {text:?}; write e.g. \"2xx,404\" or \"200-299\""))
            };
            let (lo, hi) = (parse(lo)?, parse(hi)?);
            if lo > hi {
                return Err(format!("invalid status range {part:?}: {lo} > {hi}"));
            }
            out.push((lo, hi));
        }
        if out.is_empty() {
            return Err(format!("no status in {text:?}; write e.g. \"200-299,404\""));
        }
        Ok(out)
    }
}

/// The open model's schedule: slot `i` is due at `start + i/rate`. Slots
/// before `first_measured` are warmup; the schedule ends at the first slot
/// due at or after the end of the measured window, or after `total` measured
/// slots. Every slot is sent, late or not: none is ever skipped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenSchedule {
    pub rate: f64,
    pub first_measured: u64,
    /// One past the last slot.
    pub end: u64,
}

impl OpenSchedule {
    pub fn new(rate: f64, warmup: Duration, window: Option<Duration>, total: Option<u64>) -> OpenSchedule {
        // Slots are due at i/rate; the first measured one is the first due at or after the warmup.
        let slots_before = |d: Duration| (d.as_secs_f64() * rate - 1e-9).ceil().max(0.0) as u64;
        let first_measured = slots_before(warmup);
        let by_time = window.map(|w| slots_before(warmup + w));
        let by_count = total.map(|n| first_measured + n);
        let end = match (by_time, by_count) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => slots_before(warmup + DEFAULT_DURATION),
        };
        OpenSchedule { rate, first_measured, end }
    }

    /// Offset of slot `i` from the schedule's start (saturating: a rate
    /// outside `bounds::RATE` must not panic here).
    #[inline]
    pub fn offset(&self, i: u64) -> Duration {
        Duration::try_from_secs_f64(i as f64 / self.rate).unwrap_or(Duration::MAX)
    }

    /// Measured slots from `i` on that one of `threads` load threads (the
    /// one whose slots are `i`, `i + threads`, …) has still to send.
    pub fn measured_left(&self, i: u64, threads: u64) -> u64 {
        let t = threads.max(1);
        let first = if self.first_measured > i { i + (self.first_measured - i).div_ceil(t) * t } else { i };
        if first < self.end { (self.end - first).div_ceil(t) } else { 0 }
    }

    pub fn is_measured(&self, i: u64) -> bool {
        i >= self.first_measured
    }

    pub fn measured_slots(&self) -> u64 {
        self.end.saturating_sub(self.first_measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_follows_weights() {
        let mix = RequestMix::new(&[3, 1, 0, 6], 42).unwrap();
        let mut counts = [0u64; 4];
        let n = 100_000;
        for i in 0..n {
            counts[mix.pick(0, i)] += 1;
        }
        assert_eq!(counts[2], 0, "weight 0 is never sent");
        let share = |c: u64| c as f64 / n as f64;
        assert!((share(counts[0]) - 0.3).abs() < 0.01, "{counts:?}");
        assert!((share(counts[1]) - 0.1).abs() < 0.01, "{counts:?}");
        assert!((share(counts[3]) - 0.6).abs() < 0.01, "{counts:?}");
    }

    #[test]
    fn mix_is_deterministic_per_seed_and_stream() {
        let a = RequestMix::new(&[1, 1, 1], 7).unwrap();
        let b = RequestMix::new(&[1, 1, 1], 7).unwrap();
        let seq = |m: &RequestMix, s| (0..64).map(|i| m.pick(s, i)).collect::<Vec<_>>();
        assert_eq!(seq(&a, 0), seq(&b, 0));
        assert_ne!(seq(&a, 0), seq(&a, 1), "streams differ");
        let c = RequestMix::new(&[1, 1, 1], 8).unwrap();
        assert_ne!(seq(&a, 0), seq(&c, 0), "seeds differ");
    }

    #[test]
    fn mix_single_and_empty() {
        assert!(RequestMix::new(&[0, 0], 1).is_none());
        assert!(RequestMix::new(&[], 1).is_none());
        let one = RequestMix::new(&[0, 5], 1).unwrap();
        assert!((0..100).all(|i| one.pick(3, i) == 1));
    }

    #[test]
    fn status_ranges() {
        let default = StatusRanges::new(&[]);
        assert!(default.accepts(200) && default.accepts(302) && default.accepts(399));
        assert!(!default.accepts(199) && !default.accepts(400) && !default.accepts(500));
        let custom = StatusRanges::new(&StatusRanges::parse("200-204, 404").unwrap());
        assert!(custom.accepts(204) && custom.accepts(404));
        assert!(!custom.accepts(205) && !custom.accepts(403));
        assert_eq!(StatusRanges::parse("2xx, 404,5XX").unwrap(), vec![(200, 299), (404, 404), (500, 599)]);
        assert!(StatusRanges::parse("300-200").is_err());
        assert!(StatusRanges::parse("0xx").is_err());
        assert!(StatusRanges::parse("abc").is_err());
        assert!(StatusRanges::parse("").is_err());
        assert!(StatusRanges::parse("42").is_err());
    }

    #[test]
    fn open_schedule_counts_slots() {
        let s = OpenSchedule::new(200.0, Duration::ZERO, Some(Duration::from_secs(10)), None);
        assert_eq!((s.first_measured, s.end), (0, 2000));
        let s = OpenSchedule::new(100.0, Duration::from_millis(500), Some(Duration::from_secs(1)), None);
        assert_eq!((s.first_measured, s.end, s.measured_slots()), (50, 150, 100));
        // Left for thread 1 of 4 (slots 1, 5, 9, …) from slot 41: 53, 57, …, 149.
        assert_eq!(s.measured_left(41, 4), 25);
        assert_eq!(s.measured_left(149, 4), 1);
        assert_eq!(s.measured_left(150, 4), 0);
        assert_eq!(s.measured_left(0, 1), 100);
        assert!(!s.is_measured(49) && s.is_measured(50));
        let s = OpenSchedule::new(100.0, Duration::ZERO, Some(Duration::from_secs(10)), Some(30));
        assert_eq!(s.end, 30);
        let s = OpenSchedule::new(3.0, Duration::ZERO, Some(Duration::from_secs(1)), None);
        assert_eq!(s.end, 3);
        assert_eq!(s.offset(2), Duration::from_secs_f64(2.0 / 3.0));
    }
}
