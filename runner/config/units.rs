//! Human-friendly quantities in scenario files: durations (`"5s"`, `"250ms"`,
//! `"1m30s"`, Go's syntax) and percentages (`"2%"`). Parsing is strict so a
//! typo is an error with a location, never a silent default.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// Parses a Go-style duration: one or more `<number><unit>` parts, units
/// `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`. A bare number is rejected because
/// its unit would be a guess.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; write e.g. \"5s\" or \"250ms\"".into());
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len =
            rest.char_indices().find(|(_, c)| !(c.is_ascii_digit() || *c == '.')).map(|(i, _)| i).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!(
                "invalid duration {text:?}: expected a number before {rest:?}; write e.g. \"5s\" or \"250ms\""
            ));
        }
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: {:?} is not a number", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len =
            rest.char_indices().find(|(_, c)| c.is_ascii_digit() || *c == '.').map(|(i, _)| i).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let seconds = match unit {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: missing unit; write e.g. \"{number}s\" or \"{number}ms\""
                ));
            }
            other => {
                return Err(format!("invalid duration {text:?}: unknown unit {other:?} (use ns, us, ms, s, m, h)"));
            }
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 1e9 {
        return Err(format!("invalid duration {text:?}: too large"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Parses `"2%"` into 0.02. The `%` is required so `2` vs `0.02` can't be confused.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let s = text.trim();
    let Some(number) = s.strip_suffix('%') else {
        return Err(format!("invalid percentage {text:?}: write it with a percent sign, e.g. \"2%\""));
    };
    let value: f64 =
        number.trim().parse().map_err(|_| format!("invalid percentage {text:?}: {number:?} is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("invalid percentage {text:?}: must be a non-negative number"));
    }
    Ok(value / 100.0)
}

/// A duration written as a string in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).map(HumanDuration).map_err(serde::de::Error::custom)
    }
}

/// A fraction written as a percentage string in a scenario file.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percent(pub f64);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_percent(&s).map(Percent).map_err(serde::de::Error::custom)
    }
}

// JSON Schemas of the quantities above, for editors and for `perfgate schema
// scenario`. The patterns mirror the parsers token for token (a unit never
// contains a digit or a dot, so a number always starts the next part); what
// a regular expression cannot see (a total over 1e9 s, a number that
// overflows to infinity) stays the parser's to reject.

/// `parse_duration`'s grammar: `<number><unit>` parts, surrounding whitespace trimmed.
pub const DURATION_PATTERN: &str = r"^\s*(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+\s*$";

/// `parse_percent`'s grammar: what Rust's `f64::from_str` accepts as a finite
/// number, then `%`; negative numbers are rejected, except for a negative zero.
pub const PERCENT_PATTERN: &str =
    r"^\s*(?:\+?(?:[0-9]+\.?[0-9]*|\.[0-9]+)|-(?:0+\.?0*|\.0+))(?:[eE][+-]?[0-9]+)?\s*%\s*$";

impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Go-style duration: one or more <number><unit> parts, units ns, us (or µs), ms, s, m, h; a bare number is an error because its unit would be a guess.",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["250ms", "5s", "1m30s"],
        })
    }
}

impl schemars::JsonSchema for Percent {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Percent".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A non-negative percentage with its percent sign, so 2 and 0.02 cannot be confused.",
            "type": "string",
            "pattern": PERCENT_PATTERN,
            "examples": ["2%", "0.5%"],
        })
    }
}

/// `validate_benchtime`'s grammar, for the scenario schema: an iteration
/// count or a duration, either above zero.
pub fn benchtime_schema() -> serde_json::Value {
    serde_json::json!({
        "description": "Go's -benchtime: a duration (\"200ms\") or an iteration count (\"100x\"), above zero.",
        "type": "string",
        "anyOf": [
            { "pattern": "^\\+?[0-9]*[1-9][0-9]*x$" },
            { "allOf": [{ "pattern": DURATION_PATTERN }, { "pattern": "[1-9]" }] }
        ],
        "examples": ["200ms", "100x"],
    })
}

/// Go's `-benchtime`: a duration (`"200ms"`) or an iteration count (`"100x"`).
pub fn validate_benchtime(text: &str) -> Result<(), String> {
    if let Some(count) = text.strip_suffix('x') {
        return match count.parse::<u64>() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err(format!(
                "invalid benchtime {text:?}: an iteration count is a positive integer followed by x, e.g. \"100x\""
            )),
        };
    }
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Err(format!("invalid benchtime {text:?}: must be longer than 0s")),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("invalid benchtime: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("100us").unwrap(), Duration::from_micros(100));
        assert!(parse_duration("5").unwrap_err().contains("missing unit"));
        assert!(parse_duration("5 seconds").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5sec").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn percents() {
        assert_eq!(parse_percent("2%").unwrap(), 0.02);
        assert_eq!(parse_percent("0.5%").unwrap(), 0.005);
        assert!(parse_percent("2").unwrap_err().contains("percent sign"));
        assert!(parse_percent("-1%").is_err());
        assert!(parse_percent("x%").is_err());
    }

    #[test]
    fn benchtimes() {
        assert!(validate_benchtime("200ms").is_ok());
        assert!(validate_benchtime("100x").is_ok());
        assert!(validate_benchtime("0x").is_err());
        assert!(validate_benchtime("1y").is_err());
    }
}
