//! Load from a fleet of generators: `perfgate load --hdr-log` writes a
//! generator's interval log (and `--raw-latencies` its raw latencies), and
//! `perfgate load merge LOG…` adds the fleet's logs up and prints the
//! whole fleet's figures with one line per generator.

use super::load::{LoadArgs, seconds};
use super::{CliError, EXIT_OK};
use crate::load::hdrlog::{self, FleetReport};
use crate::load::{LoadReport, LoadSpec, Model};
use anyhow::anyhow;
use std::io::Write;
use std::path::PathBuf;

/// The files `perfgate load` was asked to write.
pub fn write_logs(args: &LoadArgs, url: &str, spec: &LoadSpec, report: &LoadReport) -> Result<(), CliError> {
    if let Some(path) = &args.hdr_log {
        let model = match spec.model {
            Model::Closed { connections } => format!("closed {connections} connections"),
            Model::Open { rate, .. } => format!("open {rate} req/s"),
        };
        let model = match args.shard {
            Some(s) => format!("{model} (this generator: {s} of it)"),
            None => model,
        };
        let meta = hdrlog::meta(report, url, model, args.shard.map(|s| s.to_string()), args.start_at.clone());
        let log = hdrlog::encode(report, &meta).map_err(|e| CliError::run_failed(anyhow!("interval log: {e}")))?;
        let written = if path == std::path::Path::new("-") {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&log).and_then(|_| stdout.flush())
        } else {
            crate::report::json::write_atomically(path, &log)
        };
        written.map_err(|e| CliError::run_failed(anyhow!("cannot write {}: {e}", path.display())))?;
    }
    if let Some(path) = &args.raw_latencies {
        let write = || -> std::io::Result<()> {
            let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
            for ns in &report.raw {
                writeln!(w, "{ns}")?;
            }
            w.flush()
        };
        write().map_err(|e| CliError::run_failed(anyhow!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

pub fn run(paths: &[PathBuf], json: bool) -> Result<i32, CliError> {
    if paths.len() > hdrlog::MAX_LOGS {
        return Err(CliError::bad_input(anyhow!("{} logs: at most {} at once", paths.len(), hdrlog::MAX_LOGS)));
    }
    let logs = paths
        .iter()
        .map(|p| hdrlog::read(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::bad_input(anyhow!(e)))?;
    let fleet = hdrlog::merge(logs).map_err(|e| CliError::bad_input(anyhow!(e)))?;
    if json {
        crate::out!("{}\n", serde_json::to_string_pretty(&to_json(&fleet)).expect("json"));
    } else {
        print(&fleet);
    }
    Ok(EXIT_OK)
}

/// p50, p90, p99, p99.9, max and mean of a histogram in ns, as seconds.
fn latency(h: &hdrhistogram::Histogram<u64>) -> [f64; 6] {
    if h.is_empty() {
        return [0.0; 6];
    }
    let q = |q: f64| h.value_at_quantile(q) as f64 / 1e9;
    [q(0.5), q(0.9), q(0.99), q(0.999), h.max() as f64 / 1e9, h.mean() / 1e9]
}

fn to_json(f: &FleetReport) -> serde_json::Value {
    let lat = |h: &hdrhistogram::Histogram<u64>| {
        let [p50, p90, p99, p999, max, mean] = latency(h);
        serde_json::json!({ "p50": p50, "p90": p90, "p99": p99, "p999": p999, "max": max, "mean": mean, "n": h.len() })
    };
    let generators: Vec<serde_json::Value> = f
        .generators
        .iter()
        .map(|g| {
            let m = &g.meta;
            serde_json::json!({
                "log": g.path,
                "generator": m.generator,
                "hostname": m.hostname,
                "requests": m.requests,
                "errors": m.errors,
                "throughput": if m.window_s > 0.0 { m.requests as f64 / m.window_s } else { 0.0 },
                "window_start": m.window_start_s,
                "window": m.window_s,
                "late": m.late,
                "unsent": m.unsent,
                "start_lag": m.start_lag_s,
                "intervals": g.intervals,
                "behind": hdrlog::behind(m),
                "latency": lat(&g.latency),
            })
        })
        .collect();
    serde_json::json!({
        "generators": generators,
        "requests": f.requests,
        "errors": f.errors,
        "error_rate": if f.requests == 0 { 0.0 } else { f.errors as f64 / f.requests as f64 },
        "errors_by_kind": f.errors_by_kind.iter().map(|(k, n)| (k.clone(), serde_json::json!(n))).collect::<serde_json::Map<_, _>>(),
        "window": f.window.as_secs_f64(),
        "throughput": f.throughput,
        "latency": lat(&f.latency),
    })
}

fn print(f: &FleetReport) {
    let [p50, p90, p99, p999, max, mean] = latency(&f.latency);
    let rate = if f.requests == 0 { 0.0 } else { 100.0 * f.errors as f64 / f.requests as f64 };
    crate::out!(
        "fleet of {} generator(s): {} requests in {:.2}s = {:.1} req/s; errors {} ({rate:.2}%)\n",
        f.generators.len(),
        f.requests,
        f.window.as_secs_f64(),
        f.throughput,
        f.errors
    );
    crate::out!(
        "  latency    p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  mean {}  (n={}, histograms added)\n",
        seconds(p50),
        seconds(p90),
        seconds(p99),
        seconds(p999),
        seconds(max),
        seconds(mean),
        f.latency.len()
    );
    if !f.errors_by_kind.is_empty() {
        let kinds: Vec<String> = f.errors_by_kind.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        crate::out!("  errors     {}\n", kinds.join(", "));
    }
    for g in &f.generators {
        let m = &g.meta;
        let [_, _, p99, ..] = latency(&g.latency);
        let behind = hdrlog::behind(m);
        crate::out!(
            "  {:<9}  {:<16} {:>8} req  {:>9.1} req/s  errors {:<5} p99 {:<8} late {:<5} unsent {:<5}{}\n",
            m.generator.as_deref().unwrap_or("-"),
            m.hostname,
            m.requests,
            if m.window_s > 0.0 { m.requests as f64 / m.window_s } else { 0.0 },
            m.errors,
            seconds(p99),
            m.late,
            m.unsent,
            if behind.is_empty() { String::new() } else { format!("  BEHIND: {}", behind.join("; ")) }
        );
    }
}
