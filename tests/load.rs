//! The load generator against real loopback servers: coordinated-omission
//! correction, closed/open models, errors, keep-alive, request mix, and the
//! `perfgate load` CLI. Every run is bounded in time and stays on 127.0.0.1.

mod support;

use perfgate::load::{self, LoadReport, LoadSpec, Model, RequestSpec};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use support::{Options, TestServer};

/// Load tests measure time on a 2-core machine: run them one at a time so
/// they do not skew each other.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn spec(base: String, path: &str, model: Model) -> LoadSpec {
    LoadSpec {
        base_url: base,
        requests: vec![RequestSpec { path: path.into(), ..RequestSpec::default() }],
        model,
        duration: Some(Duration::from_secs(1)),
        request_timeout: Duration::from_secs(5),
        ..LoadSpec::default()
    }
}

fn closed(n: usize) -> Model {
    Model::Closed { connections: n }
}

fn summary(r: &LoadReport) -> String {
    format!(
        "requests {} errors {} {:?} late {} elapsed {:?} thr {:.1} p50 {:.4} p90 {:.4} p99 {:.4} max {:.4}",
        r.requests,
        r.errors,
        r.errors_by_kind,
        r.late,
        r.elapsed,
        r.throughput,
        r.percentile(0.5),
        r.percentile(0.9),
        r.percentile(0.99),
        r.max()
    )
}

#[test]
fn open_model_corrects_coordinated_omission_and_closed_model_hides_it() {
    let _g = serial();
    // Frozen for the first 1 s of every 5 s: 20% of an open-model schedule
    // lands in a freeze, waiting on average 0.5 s, so p90 ≈ 0.5 s and p99 ≈ 0.95 s.
    let server = TestServer::start(Options { stall: Some((Duration::from_secs(5), Duration::from_secs(1))) });
    let mut open = spec(server.base(), "/", Model::Open { rate: 200.0, max_in_flight: 1000 });
    open.duration = Some(Duration::from_secs(10));
    let r = load::run(&open).unwrap();
    let s = summary(&r);
    eprintln!("open model vs a stalling target: {s}");
    assert_eq!(r.requests, 2000, "every scheduled request is sent and counted: {s}");
    assert_eq!(r.errors, 0, "{s}");
    let (p90, p99) = (r.percentile(0.90), r.percentile(0.99));
    assert!((0.3..=0.7).contains(&p90), "open p90 should be near 0.5 s: {s}");
    assert!((0.8..=1.2).contains(&p99), "open p99 should be near 1 s: {s}");
    assert!(r.percentile(0.5) < 0.1, "most requests are fast: {s}");

    // The closed model waits on the server: during a freeze each connection
    // has one request stuck, so the freeze barely touches the percentiles.
    let mut closed_spec = spec(server.base(), "/", closed(4));
    closed_spec.duration = Some(Duration::from_secs(5));
    let c = load::run(&closed_spec).unwrap();
    let s = summary(&c);
    eprintln!("closed model vs a stalling target: {s}");
    assert!(c.percentile(0.99) < 0.1, "closed p99 hides the stall: {s}");
    assert!(c.max() > 0.4, "yet a freeze happened: {s}");
}

#[test]
fn closed_model_against_a_fast_target() {
    let _g = serial();
    let server = TestServer::fast();
    let r = load::run(&spec(server.base(), "/", closed(4))).unwrap();
    let s = summary(&r);
    assert!(r.requests > 100, "{s}");
    assert_eq!(r.errors, 0, "{s}");
    assert_eq!(r.late, 0, "{s}");
    assert_eq!(r.latency.len(), r.requests, "{s}");
    assert!(r.elapsed >= Duration::from_secs(1) && r.elapsed < Duration::from_secs(3), "{s}");
    assert!((r.throughput - r.requests as f64 / r.elapsed.as_secs_f64()).abs() < 1e-6, "{s}");
    let (p50, p90, p99, max) = (r.percentile(0.5), r.percentile(0.9), r.percentile(0.99), r.max());
    assert!(0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= max && max < 1.0, "{s}");
    assert!(r.mean() > 0.0 && r.mean() <= max, "{s}");
    assert!(r.percentile(99.0) == p99, "percent and fraction agree");
    assert!(r.generator_cpu > Duration::ZERO, "{s}");
    assert_eq!(server.seen.connections(), 4, "keep-alive: one connection per worker");
    assert!(server.seen.requests() >= r.requests);
}

#[test]
fn total_requests_stop_the_run_and_warmup_is_excluded() {
    let _g = serial();
    let server = TestServer::fast();
    let mut s = spec(server.base(), "/", closed(3));
    s.duration = None;
    s.total_requests = Some(300);
    s.warmup = Duration::from_millis(300);
    let r = load::run(&s).unwrap();
    assert_eq!(r.requests, 300, "{}", summary(&r));
    assert_eq!(r.latency.len(), 300);
    assert!(server.seen.requests() > 300, "warmup traffic was sent ({}) but not counted", server.seen.requests());

    // Open model: the warmup's slots are sent but only the window's are counted.
    let server = TestServer::fast();
    let mut s = spec(server.base(), "/", Model::Open { rate: 200.0, max_in_flight: 50 });
    s.warmup = Duration::from_millis(500);
    let r = load::run(&s).unwrap();
    assert_eq!(r.requests, 200, "{}", summary(&r));
    assert_eq!(server.seen.requests(), 300);
}

#[test]
fn unexpected_statuses_are_errors_by_kind() {
    let _g = serial();
    let server = TestServer::fast();
    let mut s = spec(server.base(), "/status/500", closed(2));
    s.duration = None;
    s.total_requests = Some(50);
    let r = load::run(&s).unwrap();
    assert_eq!((r.requests, r.errors), (50, 50), "{}", summary(&r));
    assert_eq!(r.errors_by_kind, vec![("status 500".to_string(), 50)]);
    assert_eq!(r.latency.len(), 50, "an error response still has a latency");
    assert_eq!(r.error_rate(), 1.0);

    s.expect_status = vec![(500, 500)];
    let r = load::run(&s).unwrap();
    assert_eq!((r.requests, r.errors), (50, 0), "{}", summary(&r));

    s.base_url = server.base();
    s.requests[0].path = "/status/404".into();
    s.expect_status = vec![(200, 299)];
    let r = load::run(&s).unwrap();
    assert_eq!(r.errors_by_kind, vec![("status 404".to_string(), 50)]);
}

#[test]
fn timeouts_are_errors_and_the_run_stays_bounded() {
    let _g = serial();
    let server = TestServer::fast();
    let mut s = spec(server.base(), "/hang", closed(2));
    s.duration = Some(Duration::from_millis(700));
    s.request_timeout = Duration::from_millis(200);
    let began = Instant::now();
    let r = load::run(&s).unwrap();
    let took = began.elapsed();
    let summ = summary(&r);
    assert!(r.requests >= 4 && r.errors == r.requests, "{summ}");
    assert_eq!(r.errors_by_kind[0].0, "timeout", "{summ}");
    assert!(took < Duration::from_secs(3), "took {took:?}: {summ}");
    assert_eq!(r.latency.len(), 0, "no response, no latency");
}

#[test]
fn connect_failures_are_counted_not_fatal() {
    let _g = serial();
    let base = format!("http://127.0.0.1:{}", support::closed_port());
    let mut s = spec(base.clone(), "/", closed(2));
    s.duration = Some(Duration::from_millis(300));
    let r = load::run(&s).unwrap();
    assert!(r.requests > 0 && r.errors == r.requests, "{}", summary(&r));
    assert_eq!(r.errors_by_kind[0].0, "connect", "{}", summary(&r));

    let mut s = spec(base, "/", Model::Open { rate: 100.0, max_in_flight: 10 });
    s.duration = Some(Duration::from_millis(300));
    let r = load::run(&s).unwrap();
    assert_eq!((r.requests, r.errors), (30, 30), "{}", summary(&r));
}

#[test]
fn keepalive_off_opens_one_connection_per_request() {
    let _g = serial();
    let server = TestServer::fast();
    let mut s = spec(server.base(), "/", closed(2));
    s.duration = None;
    s.total_requests = Some(100);
    s.keepalive = false;
    let r = load::run(&s).unwrap();
    assert_eq!((r.requests, r.errors), (100, 0), "{}", summary(&r));
    assert_eq!(server.seen.connections(), 100);
    let head = server.seen.last.lock().unwrap().clone().unwrap().0.to_ascii_lowercase();
    assert!(head.contains("connection: close"), "{head}");

    let server = TestServer::fast();
    s.base_url = server.base();
    s.keepalive = true;
    let r = load::run(&s).unwrap();
    assert_eq!((r.requests, r.errors), (100, 0), "{}", summary(&r));
    assert_eq!(server.seen.connections(), 2);
}

#[test]
fn open_model_keeps_its_schedule() {
    let _g = serial();
    let server = TestServer::fast();
    let r = load::run(&spec(server.base(), "/", Model::Open { rate: 200.0, max_in_flight: 64 })).unwrap();
    let s = summary(&r);
    assert_eq!((r.requests, r.errors), (200, 0), "{s}");
    assert_eq!(server.seen.requests(), 200);
    assert!(r.elapsed >= Duration::from_secs(1) && r.elapsed < Duration::from_millis(1500), "{s}");
    assert!((r.throughput - 200.0).abs() < 30.0, "{s}");
    assert!(r.percentile(0.5) < 0.05, "{s}");
}

#[test]
fn open_model_sends_late_requests_until_the_window_ends() {
    let _g = serial();
    // One connection, 50 ms per request: capacity 20/s for a schedule of 40/s.
    let server = TestServer::fast();
    let r = load::run(&spec(server.base(), "/sleep/50", Model::Open { rate: 40.0, max_in_flight: 1 })).unwrap();
    let s = summary(&r);
    // Requests wait for the one connection and go out late, until the window
    // ends: the rest of the schedule is counted as unsent, never sent after it.
    assert_eq!(
        r.requests + r.unsent,
        40,
        "every scheduled request is sent or counted unsent: {s}, unsent {}",
        r.unsent
    );
    assert!(r.unsent >= 10 && r.requests >= 10, "{s}, unsent {}", r.unsent);
    assert!(r.late >= 10, "most requests waited for the one connection: {s}");
    // Queueing delay counts in latency: the last sent one waited ~0.5 s.
    assert!(r.max() > 0.3, "queueing delay counts in latency: {s}");
    assert!(r.elapsed < Duration::from_millis(1500), "{s}");
    assert_eq!(server.seen.connections(), 1);
}

/// The repro: an open model far above what 4 connections carry
/// used to send every planned slot (ten million) after the window closed.
#[test]
fn open_model_stops_at_the_window_end_whatever_the_rate() {
    let _g = serial();
    let server = TestServer::fast();
    let mut s = spec(server.base(), "/sleep/20", Model::Open { rate: 1e7, max_in_flight: 4 });
    s.duration = Some(Duration::from_secs(1));
    let started = Instant::now();
    let r = load::run(&s).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}: {}", started.elapsed(), summary(&r));
    assert!(r.unsent > 9_000_000, "unsent {}: {}", r.unsent, summary(&r));
    assert!(r.requests > 0 && r.requests < 1_000, "{}", summary(&r));
}

#[test]
fn weighted_mix_is_proportional_and_reproducible() {
    let _g = serial();
    let run = || {
        let server = TestServer::fast();
        let mut s = spec(server.base(), "/", closed(1));
        s.requests = vec![
            RequestSpec { path: "/a".into(), weight: 3, ..RequestSpec::default() },
            RequestSpec { path: "/b?x=1".into(), weight: 1, ..RequestSpec::default() },
            RequestSpec { path: "/never".into(), weight: 0, ..RequestSpec::default() },
        ];
        s.duration = None;
        s.total_requests = Some(400);
        s.seed = 99;
        let r = load::run(&s).unwrap();
        assert_eq!(r.requests, 400);
        (server.seen.path("/a"), server.seen.path("/b"), server.seen.path("/never"))
    };
    let first = run();
    let (a, b, never) = first;
    assert_eq!(a + b, 400);
    assert_eq!(never, 0);
    let share = a as f64 / 400.0;
    assert!((0.65..=0.85).contains(&share), "share of /a: {share}");
    assert_eq!(run(), first, "same seed, same sequence");
}

#[test]
fn every_response_framing_is_read_to_its_end() {
    let _g = serial();
    let server = TestServer::fast();
    let run = |path: &str, method: &str| {
        let mut s = spec(server.base(), path, closed(2));
        s.requests[0].method = method.into();
        s.duration = None;
        s.total_requests = Some(40);
        let r = load::run(&s).unwrap();
        (r.requests, r.errors, r.errors_by_kind)
    };
    let ok = (40, 0, vec![]);
    // Body framings: chunked (split across reads), large, close-delimited, none (HEAD).
    assert_eq!(run("/chunked", "GET"), ok, "chunked");
    assert_eq!(run("/big", "GET"), ok, "1 MiB body");
    assert_eq!(run("/http10", "GET"), ok, "HTTP/1.0 until close");
    assert_eq!(run("/", "HEAD"), ok, "HEAD has no body");
    assert_eq!(run("/continue", "GET"), ok, "100 Continue is skipped");
    // Closed connections, announced or not, are reopened without an error.
    let before = server.seen.connections();
    assert_eq!(run("/close", "GET"), ok, "Connection: close");
    assert!(server.seen.connections() - before >= 40);
    assert_eq!(run("/silent-close", "GET"), ok, "idle keep-alive connection closed by the server");
}

#[test]
fn method_headers_and_body_reach_the_target() {
    let _g = serial();
    let server = TestServer::fast();
    let mut s = spec(server.base(), "/echo?q=1", closed(1));
    s.requests[0].method = "post".into();
    s.requests[0].headers = vec![("X-Perfgate".into(), "yes".into())];
    s.requests[0].body = Some("hello body".into());
    s.duration = None;
    s.total_requests = Some(3);
    let r = load::run(&s).unwrap();
    assert_eq!((r.requests, r.errors), (3, 0));
    let (head, body) = server.seen.last.lock().unwrap().clone().unwrap();
    assert!(head.starts_with("POST /echo?q=1 HTTP/1.1\r\n"), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("x-perfgate: yes"), "{head}");
    assert!(lower.contains(&format!("host: {}", server.addr)), "{head}");
    assert_eq!(body, b"hello body");
}

#[test]
fn invalid_specs_are_refused() {
    let bad = |s: LoadSpec| load::run(&s).unwrap_err();
    let base = "http://127.0.0.1:9".to_string();
    let e = bad(spec(base.clone(), "/", closed(0)));
    assert!(e.is_bad_input() && e.to_string().contains("connection"), "{e}");
    let e = bad(spec(base.clone(), "/", Model::Open { rate: 0.0, max_in_flight: 1 }));
    assert!(e.to_string().contains("rate"), "{e}");
    let mut s = spec(base.clone(), "/", closed(1));
    s.requests[0].weight = 0;
    assert!(bad(s).to_string().contains("weight"));
    let mut s = spec(base.clone(), "/", closed(1));
    s.requests[0].method = "BAD METHOD".into();
    assert!(bad(s).to_string().contains("method"));
    for rate in [1e-300, 1e12, f64::NAN] {
        let e = bad(spec(base.clone(), "/", Model::Open { rate, max_in_flight: 1 }));
        assert!(e.is_bad_input() && e.to_string().contains("out of range"), "{e}");
    }
    let e = bad(spec(base.clone(), "/", closed(u32::MAX as usize)));
    assert!(e.to_string().contains("connections = 4294967295 is out of range"), "{e}");
    let e = bad(spec(base.clone(), "/", Model::Open { rate: 10.0, max_in_flight: usize::MAX }));
    assert!(e.to_string().contains("max_in_flight"), "{e}");
    let e = bad(spec("https://127.0.0.1:9".into(), "/", closed(1)));
    assert!(e.to_string().contains("https"), "{e}");
}

// ---- the CLI ----

fn perfgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfgate")).args(args).env("NO_COLOR", "1").output().expect("run perfgate")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn cli_json_has_the_documented_shape() {
    let _g = serial();
    let server = TestServer::fast();
    let out = perfgate(&["load", &server.url("/"), "-c", "2", "--duration", "500ms", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert!(v["requests"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["errors"].as_u64(), Some(0));
    assert!(v["throughput"].as_f64().unwrap() > 0.0);
    for key in ["p50", "p90", "p99", "p999", "max", "mean"] {
        let x = v["latency"][key].as_f64().unwrap_or_else(|| panic!("latency.{key} in {v}"));
        assert!(x > 0.0 && x < 1.0, "latency.{key} = {x} seconds");
    }
    assert!(v["latency"]["p50"].as_f64() <= v["latency"]["p99"].as_f64());
    assert_eq!(v["late"].as_u64(), Some(0));
    assert!(v["errors_by_kind"].is_object());
    assert!(v["generator_cpu_per_request"].as_f64().unwrap() > 0.0);

    // Open model, human output.
    let out = perfgate(&["load", &server.url("/"), "--rate", "100", "-d", "300ms"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for word in ["req/s", "p50", "p99.9", "late", "CPU per request"] {
        assert!(stdout.contains(word), "{word} missing in\n{stdout}");
    }
}

#[test]
fn cli_refuses_remote_and_malformed_targets_with_exit_2() {
    for (url, says) in [
        ("http://192.0.2.1/", "--allow-remote"),
        ("http://example.com/", "--allow-remote"),
        ("https://127.0.0.1/", "https"),
        ("ftp://127.0.0.1/", "scheme"),
        ("not a url", "invalid URL"),
    ] {
        let out = perfgate(&["load", url, "-d", "100ms"]);
        assert_eq!(out.status.code(), Some(2), "{url}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{url}: expected {says:?} in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = perfgate(&["load", "http://127.0.0.1:9/", "--duration", "ten"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = perfgate(&["load", "http://127.0.0.1:9/", "-H", "no colon"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = perfgate(&["load", "http://127.0.0.1:9/", "-c", "2", "--rate", "5"]);
    assert_eq!(out.status.code(), Some(2), "conflicting models: {}", text(&out));
}

#[test]
fn cli_exits_3_when_every_request_fails() {
    let _g = serial();
    let server = TestServer::fast();
    let out = perfgate(&["load", &server.url("/status/503"), "-c", "1", "-n", "5"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("status 503"), "{stderr}");
    let out = perfgate(&["load", &server.url("/status/503"), "-c", "1", "-n", "5", "--expect-status", "503"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

// ---- a fleet of generators ----

/// Four `perfgate load --shard i/4` processes started together at one
/// `--start-at`, an open-model rate split four ways: merged, their logs give
/// the four JSON outputs' request count, the full rate within 2%, and
/// latency percentiles within HDR precision (3 significant figures) of the
/// exact percentiles of every raw latency the four recorded.
#[test]
fn a_fleet_of_four_generators_merges_exactly() {
    let _g = serial();
    let server = TestServer::fast();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: String| dir.path().join(name).to_str().unwrap().to_string();
    let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64() + 2.0;
    let (rate, window) = (800.0, 4.0);
    let children: Vec<std::process::Child> = (1..=4)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_perfgate"))
                .args(["load", &server.url("/"), "--rate", &rate.to_string(), "--duration", "4s", "--warmup", "500ms"])
                .args(["--shard", &format!("{i}/4"), "--start-at", &format!("{at:.3}"), "--json"])
                .args(["--hdr-log", &path(format!("g{i}.hlog")), "--raw-latencies", &path(format!("g{i}.raw"))])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut sent = 0;
    let mut raw: Vec<u64> = Vec::new();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["generator"], format!("{}/4", i + 1));
        assert!(v["start_lag"].as_f64().is_some_and(|l| l < 0.5), "{v}");
        sent += v["requests"].as_u64().unwrap();
        let text = std::fs::read_to_string(dir.path().join(format!("g{}.raw", i + 1))).unwrap();
        raw.extend(text.lines().map(|l| l.parse::<u64>().unwrap()));
    }
    let logs: Vec<String> = (1..=4).map(|i| path(format!("g{i}.hlog"))).collect();
    let mut args = vec!["load", "merge", "--json"];
    args.extend(logs.iter().map(String::as_str));
    let out = perfgate(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["requests"].as_u64(), Some(sent), "{m:#}");
    assert_eq!(m["errors"].as_u64(), Some(0));
    assert_eq!(m["generators"].as_array().unwrap().len(), 4);
    let throughput = m["throughput"].as_f64().unwrap();
    assert!((throughput - rate).abs() <= 0.02 * rate, "{throughput} req/s of {rate} in {}", m["window"]);
    assert!((m["window"].as_f64().unwrap() - window).abs() < 0.1, "the four windows coincide: {m:#}");

    // Every raw latency, sorted: the exact percentiles the histograms approximate.
    raw.sort_unstable();
    assert_eq!(raw.len() as u64, m["latency"]["n"].as_u64().unwrap());
    let exact = |q: f64| raw[((q * raw.len() as f64).ceil() as usize).clamp(1, raw.len()) - 1] as f64;
    for (key, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999), ("max", 1.0)] {
        let merged = m["latency"][key].as_f64().unwrap() * 1e9;
        let want = exact(q);
        assert!((merged - want).abs() <= want * 1e-3 + 1.0, "{key}: merged {merged} ns, exact {want} ns");
    }

    // A log given twice, and a file that is not a log: exit 2, named.
    let twice = perfgate(&["load", "merge", &logs[0], &logs[1], &logs[0]]);
    assert_eq!(twice.status.code(), Some(2), "{}", text(&twice));
    assert!(text(&twice).contains("generator 1/4 given twice"), "{}", text(&twice));
    let raw_file = path("g1.raw".into());
    let not_log = perfgate(&["load", "merge", &raw_file]);
    assert_eq!(not_log.status.code(), Some(2), "{}", text(&not_log));
    assert!(text(&not_log).contains("not a log written by `perfgate load --hdr-log`"), "{}", text(&not_log));
    // More generators than connections: refused before any load.
    let few = perfgate(&["load", &server.url("/"), "-c", "2", "--shard", "3/4", "--duration", "1s"]);
    assert_eq!(few.status.code(), Some(2), "{}", text(&few));
    assert!(text(&few).contains("leave generator 3 none"), "{}", text(&few));
}
