//! The ranges load settings must lie in. A scenario file comes from a
//! pull request as often as from its author: `rate = 1e12`, `clients =
//! 4294967295` or `rate = 1e-300` must be refused before a run starts (at
//! `validate`, with the key's location), not found out as a hang, a file
//! descriptor storm or a panic. One table serves the scenario file and the
//! `perfgate load` flags.

use std::time::Duration;

/// Requests (or messages, or reconnects) per second: from one every 100 s
/// to ten million per second, above what one machine's loopback carries.
pub const RATE: (f64, f64) = (0.01, 10_000_000.0);
/// Connections, open-model requests in flight, WebSocket clients: each is a
/// socket (a file descriptor) on both ends.
pub const MAX_CONNECTIONS: u64 = 100_000;
/// Largest WebSocket message (bytes).
pub const MAX_MESSAGE: u64 = 16 << 20;
/// Longest measured window, warm-up or ramp.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Most requests one run may be asked for.
pub const MAX_REQUESTS: u64 = 10_000_000_000;

/// `value` if it is a finite rate in [`RATE`]; `what` names its unit.
pub fn rate(key: &str, value: f64, what: &str) -> Result<f64, String> {
    let (lo, hi) = RATE;
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        let shown = if value.abs() >= 1e-3 && value.abs() < 1e9 { format!("{value}") } else { format!("{value:e}") };
        Err(format!("{key} = {shown} is out of range: {what} per second must be between {lo} and {hi}"))
    }
}

/// `value` if it lies in `min..=max`.
pub fn count(key: &str, value: u64, min: u64, max: u64) -> Result<u64, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{key} = {value} is out of range: it must be between {min} and {max}"))
    }
}

/// `value` if it is at most [`MAX_DURATION`].
pub fn duration(key: &str, value: Duration) -> Result<Duration, String> {
    if value <= MAX_DURATION {
        Ok(value)
    } else {
        Err(format!("{key} = {value:?} is out of range: at most {} hours", MAX_DURATION.as_secs() / 3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_cannot_run() {
        for bad in [0.0, -1.0, 1e-300, 1e12, f64::NAN, f64::INFINITY] {
            assert!(rate("rate", bad, "requests").is_err(), "{bad}");
        }
        assert_eq!(rate("rate", 500.0, "requests"), Ok(500.0));
        assert!(count("clients", u32::MAX as u64, 1, MAX_CONNECTIONS).unwrap_err().contains("clients = 4294967295"));
        assert!(count("connections", 0, 1, MAX_CONNECTIONS).is_err());
        assert!(duration("duration", Duration::from_secs(25 * 3600)).is_err());
    }
}
