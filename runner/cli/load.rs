//! `perfgate load URL`: ad-hoc HTTP load against a local target, printing
//! throughput, latency percentiles, errors and the generator's own CPU cost.
//! Argument parsing only; the work is `crate::load::run`.

use super::{CliError, EXIT_OK};
use crate::load::{self, LoadReport, LoadSpec, Model, RequestSpec, StatusRanges};
use anyhow::anyhow;
use std::time::Duration;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LoadArgs {
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    /// Target URL, plain HTTP on this machine, e.g. http://127.0.0.1:8080/api?x=1
    #[arg(required = true)]
    pub url: Option<String>,
    /// Closed model: this many connections, each sending its next request when
    /// the previous one is done [default: 32].
    #[arg(short = 'c', long, conflicts_with = "rate", value_name = "N")]
    pub connections: Option<usize>,
    /// Open model: this many requests per second in total, on schedule whatever
    /// the target does; latency counts from each request's intended send time.
    #[arg(short = 'r', long, value_name = "R")]
    pub rate: Option<f64>,
    /// Open model: at most this many requests in flight (one connection each).
    #[arg(long, default_value_t = 1000, value_name = "N", requires = "rate")]
    pub max_in_flight: usize,
    /// Length of the measured window [default: 10s, or unlimited with --requests].
    #[arg(short = 'd', long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Load sent before the measured window, excluded from every figure.
    #[arg(short = 'w', long, default_value = "0s", value_name = "DURATION")]
    pub warmup: String,
    /// Stop after this many measured requests.
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<u64>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// Request header, repeatable: -H 'Accept: application/json'.
    #[arg(short = 'H', long = "header", value_name = "'K: V'")]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(long, value_name = "STR")]
    pub body: Option<String>,
    /// A new connection for every request (its connect time counts in its latency).
    #[arg(long)]
    pub no_keepalive: bool,
    /// Statuses that count as success, e.g. "2xx,404" or "200-299".
    #[arg(long, default_value = "200-399", value_name = "RANGES")]
    pub expect_status: String,
    /// A request without a complete response after this long is an error.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: String,
    /// Allow a target that is not this machine (127.0.0.0/8, ::1, localhost).
    #[arg(long)]
    pub allow_remote: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// One generator of a fleet: shard I of N (1-based) sends the fleet's
    /// schedule slots I, I+N, … (1/N of --rate), or 1/N of --connections and --requests.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::shard::Shard>,
    /// Start (warmup first) at this wall-clock time, the same on every generator:
    /// RFC 3339 (2026-12-06T20:00:00Z) or seconds since the epoch.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Write latency as an HdrHistogram interval log (V2, one histogram per
    /// second of the window) for `perfgate load merge`.
    #[arg(long, value_name = "FILE")]
    pub hdr_log: Option<std::path::PathBuf>,
    /// Write every measured latency, in ns, one per line (for checking the
    /// histograms against exact percentiles; 8+ bytes per request in memory).
    #[arg(long, value_name = "FILE", hide = true)]
    pub raw_latencies: Option<std::path::PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
pub enum LoadCommand {
    /// Add up a fleet's --hdr-log files: throughput, errors and latency of the
    /// whole fleet (histograms added, never percentiles averaged), and each generator's line.
    Merge {
        /// The generators' interval logs.
        #[arg(value_name = "LOG", required = true)]
        logs: Vec<std::path::PathBuf>,
        /// Print one JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: LoadArgs) -> Result<i32, CliError> {
    if let Some(LoadCommand::Merge { logs, json }) = &args.command {
        return super::fleet::run(logs, *json);
    }
    let url = args.url.clone().unwrap_or_default();
    let spec = spec_from_args(&args, &url)?;
    load::ensure_loopback(&url, args.allow_remote).map_err(CliError::bad_input)?;
    let report = load::run(&spec)
        .map_err(|e| if e.is_bad_input() { CliError::bad_input(e) } else { CliError::run_failed(e) })?;
    // `--hdr-log -`: the log is stdout (a pod's log, in Kubernetes), the rest goes to stderr.
    let log_to_stdout = args.hdr_log.as_deref().is_some_and(|p| p == std::path::Path::new("-"));
    let json = || serde_json::to_string_pretty(&to_json(&args, &url, &spec, &report)).expect("json");
    match (args.json, log_to_stdout) {
        (true, false) => crate::out!("{}\n", json()),
        (true, true) => crate::note!("{}", json()),
        (false, _) => print_table(&args, &url, &spec, &report, log_to_stdout),
    }
    super::fleet::write_logs(&args, &url, &spec, &report)?;
    if report.requests > 0 && report.errors == report.requests {
        let kinds: Vec<String> = report.errors_by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        return Err(CliError::run_failed(anyhow!(
            "every request failed ({}); is the target running at {} and answering with an expected status?",
            kinds.join(", "),
            url
        )));
    }
    Ok(EXIT_OK)
}

fn spec_from_args(args: &LoadArgs, url: &str) -> Result<LoadSpec, CliError> {
    let bad = |m: String| CliError::bad_input(anyhow!(m));
    let duration_arg = |flag: &str, text: &str| {
        crate::config::parse_duration(text).map_err(|e| CliError::bad_input(anyhow!("--{flag}: {e}")))
    };
    // The URL as given is sent as given: split it into origin and path+query.
    let uri: http::Uri = url.trim().parse().map_err(|e| bad(format!("invalid URL {url:?}: {e}")))?;
    load::TargetUrl::parse(url).map_err(CliError::bad_input)?;
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let path = uri.path_and_query().map(|p| p.as_str()).filter(|p| !p.is_empty()).unwrap_or("/");

    let model = match (args.rate, args.connections) {
        (Some(rate), _) => {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(bad(format!("--rate must be a positive number of requests per second, got {rate}")));
            }
            if args.max_in_flight == 0 {
                return Err(bad("--max-in-flight must be at least 1".into()));
            }
            Model::Open { rate, max_in_flight: args.max_in_flight }
        }
        (None, Some(0)) => return Err(bad("--connections must be at least 1".into())),
        (None, c) => Model::Closed { connections: c.unwrap_or(32) },
    };
    let duration = match (&args.duration, args.requests) {
        (Some(d), _) => Some(duration_arg("duration", d)?),
        (None, Some(_)) => None,
        (None, None) => Some(Duration::from_secs(10)),
    };
    if duration.is_some_and(|d| d.is_zero()) {
        return Err(bad("--duration must be positive".into()));
    }
    if args.requests == Some(0) {
        return Err(bad("--requests must be at least 1".into()));
    }
    let timeout = duration_arg("timeout", &args.timeout)?;
    if timeout.is_zero() {
        return Err(bad("--timeout must be positive".into()));
    }
    let mut headers = Vec::new();
    for h in &args.headers {
        let Some((k, v)) = h.split_once(':') else {
            return Err(bad(format!("--header {h:?}: expected 'Name: value'")));
        };
        if k.trim().is_empty() {
            return Err(bad(format!("--header {h:?}: empty header name")));
        }
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let expect_status = StatusRanges::parse(&args.expect_status).map_err(|e| bad(format!("--expect-status: {e}")))?;
    Ok(LoadSpec {
        base_url: format!("http://{authority}"),
        requests: vec![RequestSpec {
            method: args.method.clone(),
            path: path.to_string(),
            headers,
            body: args.body.clone(),
            weight: 1,
        }],
        model,
        duration,
        total_requests: args.requests,
        warmup: duration_arg("warmup", &args.warmup)?,
        keepalive: !args.no_keepalive,
        expect_status,
        request_timeout: timeout,
        seed: 1,
        allow_remote: args.allow_remote,
        fleet: args.shard.map(|s| load::Fleet { index: s.index - 1, count: s.count }),
        start_at: args.start_at.as_deref().map(load::hdrlog::parse_start_at).transpose().map_err(bad)?,
        intervals: args.hdr_log.is_some(),
        raw: args.raw_latencies.is_some(),
    })
}

fn to_json(args: &LoadArgs, url: &str, spec: &LoadSpec, r: &LoadReport) -> serde_json::Value {
    let model = match spec.model {
        Model::Closed { connections } => serde_json::json!({ "kind": "closed", "connections": connections }),
        Model::Open { rate, max_in_flight } => {
            serde_json::json!({ "kind": "open", "rate": rate, "max_in_flight": max_in_flight })
        }
    };
    let errors_by_kind: serde_json::Map<String, serde_json::Value> =
        r.errors_by_kind.iter().map(|(k, n)| (k.clone(), (*n).into())).collect();
    serde_json::json!({
        "url": url,
        "generator": args.shard.map(|s| s.to_string()),
        "start_lag": r.start_lag.map(|d| d.as_secs_f64()),
        "model": model,
        "requests": r.requests,
        "errors": r.errors,
        "error_rate": r.error_rate(),
        "errors_by_kind": errors_by_kind,
        "late": r.late,
        "unsent": r.unsent,
        "elapsed": r.elapsed.as_secs_f64(),
        "throughput": r.throughput,
        "latency": {
            "p50": r.percentile(0.50),
            "p90": r.percentile(0.90),
            "p99": r.percentile(0.99),
            "p999": r.percentile(0.999),
            "max": r.max(),
            "mean": r.mean(),
            "n": r.latency.len(),
        },
        "generator_cpu": r.generator_cpu.as_secs_f64(),
        "generator_cpu_per_request": r.cpu_per_request(),
    })
}

fn print_table(args: &LoadArgs, url: &str, spec: &LoadSpec, r: &LoadReport, to_stderr: bool) {
    let mut text = String::new();
    table(&mut text, args, url, spec, r);
    if to_stderr {
        crate::note!("{}", text.trim_end());
    } else {
        crate::out!("{text}");
    }
}

/// The human-readable report of one run.
fn table(out: &mut String, args: &LoadArgs, url: &str, spec: &LoadSpec, r: &LoadReport) {
    let model = match spec.model {
        Model::Closed { connections } => format!("closed model, {connections} connections"),
        Model::Open { rate, max_in_flight } => format!("open model, {rate} req/s, at most {max_in_flight} in flight"),
    };
    let keepalive = if spec.keepalive { "" } else { ", no keep-alive" };
    let generator = args.shard.map(|s| format!(", generator {s} of the fleet")).unwrap_or_default();
    out.push_str(&format!("perfgate load {url}: {model}{keepalive}{generator}\n"));
    if let Some(lag) = r.start_lag {
        out.push_str(&format!("  start      {:.3}s after --start-at\n", lag.as_secs_f64()));
    }
    out.push_str(&format!(
        "  requests   {} in {:.2}s = {:.1} req/s; errors {} ({:.2}%)\n",
        r.requests,
        r.elapsed.as_secs_f64(),
        r.throughput,
        r.errors,
        100.0 * r.error_rate()
    ));
    if r.latency.is_empty() {
        out.push_str("  latency    none: no request got a response\n");
    } else {
        out.push_str(&format!(
            "  latency    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {}  (n={})\n",
            seconds(r.percentile(0.50)),
            seconds(r.percentile(0.90)),
            seconds(r.percentile(0.99)),
            seconds(r.percentile(0.999)),
            seconds(r.max()),
            seconds(r.mean()),
            r.latency.len()
        ));
    }
    if !r.errors_by_kind.is_empty() {
        let kinds: Vec<String> = r.errors_by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        out.push_str(&format!("  errors     {}\n", kinds.join(", ")));
    }
    if matches!(spec.model, Model::Open { .. }) {
        out.push_str(&format!(
            "  late       {} (sent after their intended time; latency counts from that time)\n",
            r.late
        ));
        if r.unsent > 0 {
            out.push_str(&format!(
                "  unsent     {} (due in the window but not sent before it ended: the target or this generator could not keep up)\n",
                r.unsent
            ));
        }
    }
    out.push_str(&format!(
        "  generator  {:.2} CPU-s, {} CPU per request\n",
        r.generator_cpu.as_secs_f64(),
        seconds(r.cpu_per_request())
    ));
    if (1..100).contains(&r.latency.len()) {
        out.push_str("  note       fewer than 100 responses: high percentiles are the slowest few requests\n");
    }
}

/// Seconds in the most readable unit, 3 significant digits.
pub(super) fn seconds(s: f64) -> String {
    let (value, unit) = if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else if s >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    if value >= 100.0 {
        format!("{value:.0}{unit}")
    } else if value >= 10.0 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.2}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn seconds_pick_a_readable_unit() {
        assert_eq!(seconds(1.5), "1.50s");
        assert_eq!(seconds(0.0123), "12.3ms");
        assert_eq!(seconds(0.000_456), "456µs");
        assert_eq!(seconds(2.5e-8), "25.0ns");
        assert_eq!(seconds(0.0), "0.00ns");
    }
}
