//! What Rust bench harnesses write for machines: criterion's
//! `benchmark.json` and `estimates.json` (in `CRITERION_HOME/<id>/new/`),
//! libtest's JSON events (`--format json`), and the `ID: benchmark` lines
//! both print for `--list --format terse`. Input from the code under test:
//! callers bound its size; nothing here panics on it.

use serde::Deserialize;

/// What one timed run of a benchmark reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed {
    pub ns_per_op: f64,
    /// `MB/s` or `elem/s`, where the bench declares a throughput.
    pub throughput: Option<(&'static str, f64)>,
}

/// `ID: benchmark` lines, in order, each once (tests, `ID: test`, are not
/// benchmarks).
pub fn listed(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in text.lines().filter_map(|l| l.strip_suffix(": benchmark")) {
        if !id.is_empty() && !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    }
    out
}

/// Criterion's `benchmark.json`: the benchmark's id and its declared
/// throughput per iteration (`{"Bytes": n}`, `{"Elements": n}`, …).
#[derive(Debug, Deserialize)]
pub struct Benchmark {
    pub full_id: String,
    #[serde(default)]
    pub throughput: Option<serde_json::Value>,
}

pub fn benchmark(text: &str) -> Result<Benchmark, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// Criterion's headline figure from `estimates.json`: the slope of its
/// linear sampling, else the mean, in nanoseconds.
pub fn typical_estimate(text: &str) -> Result<f64, String> {
    #[derive(Deserialize)]
    struct Estimate {
        point_estimate: f64,
    }
    #[derive(Deserialize)]
    struct Estimates {
        mean: Estimate,
        #[serde(default)]
        slope: Option<Estimate>,
    }
    let e: Estimates = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let v = e.slope.unwrap_or(e.mean).point_estimate;
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err(format!("a time per iteration of {v} ns")) }
}

/// A criterion result: the estimates and the benchmark's declared throughput.
pub fn timed(estimates: &str, throughput: Option<&serde_json::Value>) -> Result<Timed, String> {
    let ns_per_op = typical_estimate(estimates)?;
    Ok(Timed { ns_per_op, throughput: throughput.and_then(|t| per_second(t, ns_per_op)) })
}

/// Criterion's declared throughput per iteration as a rate.
pub fn per_second(throughput: &serde_json::Value, ns_per_op: f64) -> Option<(&'static str, f64)> {
    let (kind, n) = throughput.as_object()?.iter().next()?;
    let n = n.as_u64()? as f64;
    match kind.as_str() {
        "Bytes" | "BytesDecimal" => Some(("MB/s", n / ns_per_op * 1e3)),
        "Elements" => Some(("elem/s", n / ns_per_op * 1e9)),
        _ => None,
    }
}

/// libtest's JSON result for `id`: `{"type": "bench", "name": ID, "median": NS, ...}`.
pub fn libtest_result(text: &str, id: &str) -> Result<Timed, String> {
    #[derive(Deserialize)]
    struct Event {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        median: Option<f64>,
        #[serde(default)]
        mib_per_second: Option<f64>,
    }
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let Ok(e) = serde_json::from_str::<Event>(line) else { continue };
        if e.kind == "bench" && e.name == id {
            let ns = e.median.filter(|m| m.is_finite() && *m > 0.0).ok_or("a bench event without a median above 0")?;
            let throughput = e.mib_per_second.filter(|m| m.is_finite() && *m > 0.0).map(|m| ("MB/s", m * 1.048_576));
            return Ok(Timed { ns_per_op: ns, throughput });
        }
    }
    Err(format!("libtest printed no bench result for {id:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_benchmarks_not_tests() {
        let text = "parse: benchmark\nparse/10k: benchmark\ntests::it_works: test\nparse: benchmark\n\n0 tests, 2 benchmarks\n";
        assert_eq!(listed(text), vec!["parse".to_string(), "parse/10k".into()]);
    }

    #[test]
    fn criterion_headline_is_the_slope_else_the_mean() {
        let with_slope = r#"{"mean":{"point_estimate":190.0,"standard_error":1.0,"confidence_interval":{}},"slope":{"point_estimate":180.5}}"#;
        assert_eq!(typical_estimate(with_slope), Ok(180.5));
        let flat = r#"{"mean":{"point_estimate":190.0},"slope":null}"#;
        assert_eq!(typical_estimate(flat), Ok(190.0));
        assert!(typical_estimate(r#"{"mean":{"point_estimate":0.0}}"#).is_err());
        assert!(typical_estimate("{").is_err());
        let b = benchmark(r#"{"group_id":"p","full_id":"p/10","throughput":{"Bytes":1000}}"#).unwrap();
        assert_eq!(b.full_id, "p/10");
        assert_eq!(timed(flat, b.throughput.as_ref()).unwrap().throughput, Some(("MB/s", 1000.0 / 190.0 * 1e3)));
    }

    #[test]
    fn throughput_becomes_a_rate() {
        let bytes = serde_json::json!({ "Bytes": 1000 });
        assert_eq!(per_second(&bytes, 500.0), Some(("MB/s", 2000.0)));
        let elems = serde_json::json!({ "Elements": 10 });
        assert_eq!(per_second(&elems, 1000.0), Some(("elem/s", 1e7)));
        assert_eq!(per_second(&serde_json::json!({ "Bits": 8 }), 1.0), None);
        assert_eq!(per_second(&serde_json::json!("odd"), 1.0), None);
    }

    #[test]
    fn libtest_json_gives_the_median() {
        let text = concat!(
            "{ \"type\": \"suite\", \"event\": \"started\", \"test_count\": 1 }\n",
            "{ \"type\": \"bench\", \"name\": \"inner::nested\", \"median\": 17.88, \"deviation\": 8.48 }\n",
            "{ \"type\": \"bench\", \"name\": \"other\", \"median\": 5.0, \"deviation\": 1.0, \"mib_per_second\": 100 }\n",
        );
        assert_eq!(libtest_result(text, "inner::nested"), Ok(Timed { ns_per_op: 17.88, throughput: None }));
        let other = libtest_result(text, "other").unwrap();
        let (metric, rate) = other.throughput.unwrap();
        assert!(metric == "MB/s" && (rate - 104.8576).abs() < 1e-9, "{metric} {rate}");
        assert!(libtest_result(text, "missing").is_err());
    }
}
