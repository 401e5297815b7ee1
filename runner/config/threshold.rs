//! Threshold expressions from scenario files: `"p99 < 50ms"`,
//! `"error_rate < 0.1%"`, `"throughput > 1000"`. Parsed into a metric name, a
//! comparison and a value in the metric's base unit (seconds, fraction, req/s).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As written, for reports.
    pub expr: String,
    /// The metric it checks (`latency_p99`, `error_rate`, `throughput`, any metric name).
    pub metric: String,
    pub op: Op,
    pub value: f64,
}

impl Threshold {
    pub fn passes(&self, observed: f64) -> bool {
        match self.op {
            Op::Lt => observed < self.value,
            Op::Le => observed <= self.value,
            Op::Gt => observed > self.value,
            Op::Ge => observed >= self.value,
        }
    }
}

/// Short names people write, mapped to metric names of DESIGN §7.
fn metric_name(word: &str) -> String {
    match word {
        "p50" | "p90" | "p99" | "p999" | "max" | "mean" => format!("latency_{word}"),
        "rps" | "req/s" => "throughput".into(),
        other => other.to_string(),
    }
}

pub fn parse(expr: &str) -> Result<Threshold, String> {
    let ops = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)];
    let Some((i, op_text, op)) = ops.iter().find_map(|(t, op)| expr.find(t).map(|i| (i, *t, *op))) else {
        return Err(format!("threshold {expr:?} needs a comparison, e.g. \"p99 < 50ms\" or \"throughput > 1000\""));
    };
    let metric = expr[..i].trim();
    let value_text = expr[i + op_text.len()..].trim();
    if metric.is_empty() || !metric.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/') {
        return Err(format!("threshold {expr:?}: {metric:?} is not a metric name (e.g. p99, error_rate, throughput)"));
    }
    let value = parse_value(value_text).map_err(|m| format!("threshold {expr:?}: {m}"))?;
    Ok(Threshold { expr: expr.trim().to_string(), metric: metric_name(metric), op, value })
}

/// `50ms` → 0.05 (s), `0.1%` → 0.001, `1000` → 1000, `64MiB` → bytes.
fn parse_value(text: &str) -> Result<f64, String> {
    if let Some(p) = text.strip_suffix('%') {
        return super::units::parse_percent(&format!("{p}%"));
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim());
    let n: f64 = number.parse().map_err(|_| format!("{text:?} is not a number with an optional unit"))?;
    let scale = match unit {
        "" => 1.0,
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        other => return Err(format!("unknown unit {other:?} (use ns, us, ms, s, %, B, KiB, MiB, GiB)")),
    };
    Ok(n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_examples() {
        let t = parse("p99 < 50ms").unwrap();
        assert_eq!((t.metric.as_str(), t.op, t.value), ("latency_p99", Op::Lt, 0.05));
        assert!(t.passes(0.049) && !t.passes(0.05));
        let t = parse("error_rate < 0.1%").unwrap();
        assert_eq!((t.metric.as_str(), t.value), ("error_rate", 0.001));
        let t = parse("throughput >= 1000").unwrap();
        assert_eq!((t.metric.as_str(), t.op, t.value), ("throughput", Op::Ge, 1000.0));
        assert!(t.passes(1000.0));
        assert_eq!(parse("rss_peak <= 64MiB").unwrap().value, 64.0 * 1024.0 * 1024.0);
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse("p99 50ms").unwrap_err().contains("comparison"));
        assert!(parse("p99 < fast").is_err());
        assert!(parse("p99 < 5 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse(" < 5").is_err());
    }
}
