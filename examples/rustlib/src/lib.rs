//! A tiny latency-summary library: perfgate's example of a Rust crate
//! measured with `kind = "cargobench"` (see scenarios/rust.toml).
//! `optimize.patch` makes [`percentile`] faster; the rest is left alone.

/// Parses one latency in microseconds per line ("12.5ms", "800us", "3s"
/// or a bare number of microseconds); lines that are not latencies are
/// skipped.
pub fn parse_latencies(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let (digits, scale) = if let Some(d) = line.strip_suffix("ms") {
            (d, 1_000.0)
        } else if let Some(d) = line.strip_suffix("us") {
            (d, 1.0)
        } else if let Some(d) = line.strip_suffix('s') {
            (d, 1_000_000.0)
        } else {
            (line, 1.0)
        };
        if let Ok(v) = digits.parse::<f64>() {
            if v.is_finite() && v >= 0.0 {
                out.push((v * scale).round() as u64);
            }
        }
    }
    out
}

/// The `q`-quantile (0 ≤ q ≤ 1) of `samples`, by the nearest-rank method;
/// 0 for no samples.
pub fn percentile(samples: &[u64], q: f64) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[rank(sorted.len(), q)]
}

/// The nearest rank of the `q`-quantile among `n` sorted values, 0-based.
fn rank(n: usize, q: f64) -> usize {
    let r = (q.clamp(0.0, 1.0) * n as f64).ceil() as usize;
    r.clamp(1, n) - 1
}

/// Rounds of mixing per value in [`fingerprint`].
pub const ROUNDS: u32 = 10;

/// A 64-bit fingerprint of `samples` (to tell two runs' inputs apart):
/// each value is mixed [`ROUNDS`] times (splitmix64's finalizer).
pub fn fingerprint(samples: &[u64]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for &s in samples {
        let mut x = s ^ h;
        for _ in 0..ROUNDS {
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^= x >> 31;
        }
        h = h.rotate_left(5) ^ x;
    }
    h
}

/// Deterministic pseudo-random latencies (xorshift), for benches and tests.
pub fn sample_latencies(n: usize, seed: u64) -> Vec<u64> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            100 + s % 50_000
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_skips_noise() {
        assert_eq!(parse_latencies("12.5ms\n800us\n3s\n42\nGET /x\n-1ms\n"), vec![12_500, 800, 3_000_000, 42]);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&v, 0.5), 50);
        assert_eq!(percentile(&v, 0.99), 99);
        assert_eq!(percentile(&v, 1.0), 100);
        assert_eq!(percentile(&v, 0.0), 1);
        assert_eq!(percentile(&[], 0.5), 0);
        let r = sample_latencies(1001, 7);
        let mut s = r.clone();
        s.sort();
        assert_eq!(percentile(&r, 0.9), s[900]);
    }

    #[test]
    fn fingerprints_differ_by_input() {
        assert_ne!(fingerprint(&[1, 2, 3]), fingerprint(&[1, 2, 4]));
        assert_eq!(fingerprint(&[1, 2, 3]), fingerprint(&[1, 2, 3]));
    }
}
