//! Service scenarios (`http`, `idle`): start the target (or reuse it), warm
//! up, then measure one window — load from the engine, the target's process
//! tree from the sampler, and its Prometheus counters scraped on both edges.

use super::{StepFailure, TrialOutput, VariantContext, WorkloadError};
use crate::config::{HttpRequest, HttpScenario, IdleScenario, LoadModel, Restart, Target, WebSocketScenario};
use crate::load::{self, LoadReport, LoadSpec, Model, RequestSpec};
use crate::model::Better;
use crate::results::{TimePoint, Timeline};
use crate::target::sampler::{self, Sampler};
use crate::target::{Probe, RunningTarget, TargetSpec, with_port};
use crate::variant::build_cache::Build;
use crate::workload::{counters, database};
use std::path::Path;
use std::time::{Duration, Instant};

/// How often the sampler reads the target's process tree.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone)]
pub enum Load {
    Http(HttpScenario),
    Idle(IdleScenario),
    WebSocket(WebSocketScenario),
}

impl Load {
    pub fn profile_kinds(&self) -> &[String] {
        match self {
            Load::Http(h) => &h.profile,
            Load::Idle(i) => &i.profile,
            Load::WebSocket(w) => &w.profile,
        }
    }

    fn counters(&self) -> Option<&[String]> {
        match self {
            Load::Http(h) => h.counters.as_deref(),
            Load::Idle(i) => i.counters.as_deref(),
            Load::WebSocket(w) => w.counters.as_deref(),
        }
    }
}

#[derive(Debug)]
pub struct Prepared {
    pub scenario: String,
    pub load: Load,
    /// `None` when the scenario loads a service perfgate does not start (`url`).
    pub target: Option<TargetSpec>,
    /// `http://127.0.0.1:{port}` for a started target, or the scenario's `url`.
    pub base_url: String,
    pub metrics_url: Option<String>,
    /// The target's pprof base, e.g. `http://127.0.0.1:{port}/debug/pprof`.
    pub pprof_url: Option<String>,
    pub restart: Restart,
    /// The target kept across rounds when `restart = "never"`.
    pub running: Option<RunningTarget>,
    /// Load, metrics and profiles may go to non-loopback addresses: the
    /// scenario said `allow_remote = true` and the command line `--allow-remote`.
    pub allow_remote: bool,
    /// `[target.postgres]`: each start of the target gets a fresh copy of
    /// the template as `{pg_url}` and `$DATABASE_URL`.
    pub database: Option<std::sync::Arc<crate::target::postgres::Database>>,
    /// `[target.postgres] seq_scan_rows`, for the plans' flags.
    pub seq_scan_rows: Option<u64>,
}

pub fn prepare(
    sc: &crate::config::Scenario,
    load: Load,
    target: Option<&Target>,
    target_build: Option<&Build>,
    ctx: &VariantContext<'_>,
    allow_remote_cli: bool,
) -> Result<Prepared, WorkloadError> {
    let scenario = sc.name.as_str();
    let invalid = |message: String| WorkloadError::Invalid { scenario: scenario.into(), message };
    let (url, allow_remote) = match &load {
        Load::Http(h) => (h.url.clone(), h.allow_remote),
        Load::WebSocket(w) => (w.url.clone(), w.allow_remote),
        Load::Idle(_) => (None, false),
    };
    let allow_remote = allow_remote && allow_remote_cli;
    let spec = match (target, &url) {
        (_, Some(_)) => None,
        (Some(t), None) => {
            let Some(start) = &t.start else {
                return Err(invalid("[target] needs `start = \"...\"` to run a service scenario".into()));
            };
            let build_dir = target_build.map(|b| b.dir.clone()).unwrap_or_else(|| ctx.checkout.to_path_buf());
            let dir = super::scenario_dir(ctx.checkout, t.dir.as_deref().unwrap_or("."));
            let probe = t.ready.as_ref().and_then(|r| match (&r.http, &r.tcp) {
                (Some(u), _) => Some(Probe::Http(u.clone())),
                (None, Some(a)) => Some(Probe::Tcp(a.clone())),
                _ => None,
            });
            Some(TargetSpec {
                start: super::substitute(start, &build_dir, ctx.checkout, None),
                dir,
                env: t.env.iter().chain(&sc.target_env).map(|(k, v)| (k.clone(), v.clone())).collect(),
                probe,
                ready_timeout: t
                    .ready
                    .as_ref()
                    .and_then(|r| r.timeout)
                    .map(|d| d.0)
                    .unwrap_or(crate::target::DEFAULT_READY_TIMEOUT),
            })
        }
        (None, None) => {
            return Err(invalid(
                "a service scenario needs a [target] with `start`, or `url` pointing at a running service".into(),
            ));
        }
    };
    let base_url = url.clone().unwrap_or_else(|| "http://127.0.0.1:{port}".into());
    // Checked before any load is sent: nobody load-tests production by
    // accident. Every URL perfgate will fetch is checked here as a template
    // and again, resolved, each time it is used.
    let urls = [Some(&base_url), target.and_then(|t| t.metrics.as_ref()), target.and_then(|t| t.pprof.as_ref())];
    for u in urls.into_iter().flatten() {
        load::url::ensure_loopback_template(u, allow_remote).map_err(|e| invalid(e.to_string()))?;
    }
    if let Some(r) = target.and_then(|t| t.ready.as_ref()) {
        // The target runs here: its readiness probe is on loopback, always.
        let probe = r.http.clone().or_else(|| r.tcp.as_ref().map(|a| format!("http://{a}/")));
        if let Some(u) = probe {
            load::url::ensure_loopback_template(&u, false).map_err(|e| invalid(format!("[target.ready]: {e}")))?;
        }
    }
    Ok(Prepared {
        scenario: scenario.into(),
        load,
        target: spec,
        base_url,
        metrics_url: target.and_then(|t| t.metrics.clone()),
        pprof_url: target.and_then(|t| t.pprof.clone()),
        restart: target.map(|t| t.restart).unwrap_or_default(),
        running: None,
        allow_remote,
        database: ctx.database.clone(),
        seq_scan_rows: target.and_then(|t| t.postgres.as_ref()).and_then(|pg| pg.seq_scan_rows),
    })
}

/// The HTTP load of a scenario (an idle scenario's trickle), for `duration`
/// or `total` requests; `None` when the scenario sends no HTTP load.
fn http_load(p: &Prepared, base: &str, duration: Duration, total: Option<u64>, seed: u64) -> Option<LoadSpec> {
    let load = &p.load;
    let (requests, model, keepalive, expect_status) = match load {
        Load::Http(h) => (engine_requests(&h.requests), engine_model(&h.model), h.keepalive, h.expect_status.clone()),
        Load::Idle(i) => {
            let (rate, reqs) = i.trickle.as_ref()?;
            (engine_requests(reqs), Model::Open { rate: *rate, max_in_flight: 4 }, true, vec![(200, 399)])
        }
        Load::WebSocket(_) => return None,
    };
    Some(LoadSpec {
        base_url: base.to_string(),
        requests,
        model,
        duration: Some(duration),
        total_requests: total,
        warmup: Duration::ZERO,
        keepalive,
        expect_status,
        request_timeout: Duration::from_secs(30),
        seed,
        allow_remote: p.allow_remote,
        intervals: matches!(load, Load::Http(h) if h.hdr_log),
        ..LoadSpec::default()
    })
}

/// `hdr_log = true`: the window's latency as an HdrHistogram interval log
/// beside the trial's log (`logs/<scenario>-<variant>-<round>.hlog`).
fn write_hdr_log(report: &LoadReport, base: &str, path: &Path) {
    let meta = load::hdrlog::meta(report, base, "compare window".into(), None, None);
    let written = load::hdrlog::encode(report, &meta).and_then(|log| crate::report::json::write_atomically(path, &log));
    if let Err(e) = written {
        crate::note!("warning: cannot write {}: {e}", path.display());
    }
}

fn engine_requests(reqs: &[HttpRequest]) -> Vec<RequestSpec> {
    reqs.iter()
        .map(|r| RequestSpec {
            method: r.method.clone(),
            path: r.path.clone(),
            headers: r.headers.clone(),
            body: r.body.clone(),
            weight: r.weight,
        })
        .collect()
}

fn engine_model(m: &LoadModel) -> Model {
    match *m {
        LoadModel::Closed { connections } => Model::Closed { connections: connections as usize },
        LoadModel::Open { rate, max_in_flight } => Model::Open { rate, max_in_flight: max_in_flight as usize },
    }
}

pub fn run_trial(p: &mut Prepared, round: u32, log: &Path) -> Result<TrialOutput, WorkloadError> {
    // A fresh target per round unless the scenario keeps one per variant.
    if p.restart == Restart::Round
        && let Some(old) = p.running.take()
    {
        old.stop();
    }
    ensure_started(p, log, "", false)?;
    let port = p.running.as_ref().map(|t| t.port).unwrap_or(0);
    let base = with_port(&p.base_url, port);
    let metrics_url = p.metrics_url.as_deref().map(|u| with_port(u, port));
    let result = measure(p, &base, metrics_url.as_deref(), round, log);
    // A target that died during the window invalidates the round.
    if let Some(t) = p.running.as_mut()
        && let Some(status) = t.exited()
    {
        let failure = StepFailure {
            what: format!("the target of scenario {:?} exited mid-round", p.scenario),
            command: t.command.clone(),
            status,
            tail: t.log_tail(15),
            log: t.log.display().to_string(),
        };
        p.running = None;
        return Err(WorkloadError::TrialFailed(Box::new(failure)));
    }
    if p.restart == Restart::Round
        && let Some(t) = p.running.take()
    {
        t.stop();
    }
    result
}

/// Starts the target unless one is running (kept across rounds); with
/// `explain`, its fresh database logs every statement's plan.
fn ensure_started(p: &mut Prepared, log: &Path, what: &str, explain: bool) -> Result<(), WorkloadError> {
    if p.running.is_none()
        && let Some(spec) = &p.target
    {
        let spec = with_database(spec, p.database.as_deref(), &p.scenario, explain)?;
        let started = RunningTarget::start(&spec, log).map_err(|e| match e {
            crate::target::TargetError::Interrupted => WorkloadError::Interrupted,
            other => WorkloadError::TargetFailed(format!("scenario {:?}{what}: {other}", p.scenario)),
        })?;
        p.running = Some(started);
    }
    Ok(())
}

/// The target's start with `{pg_url}` and `$DATABASE_URL` of a fresh copy
/// of the database's template (the user's URL for an external one).
fn with_database(
    spec: &TargetSpec,
    db: Option<&crate::target::postgres::Database>,
    scenario: &str,
    explain: bool,
) -> Result<TargetSpec, WorkloadError> {
    let mut spec = spec.clone();
    if let Some(db) = db {
        let name = crate::target::postgres::db_name(scenario);
        let url = match db.cluster() {
            Some(c) if explain => c.fresh_explained_db(&name),
            _ => db.round_url(&name),
        };
        let url =
            url.map_err(|e| WorkloadError::TargetFailed(format!("scenario {scenario:?}: [target.postgres]: {e}")))?;
        spec.start = spec.start.replace("{pg_url}", &super::shell_quote(&url));
        spec.env.push(("DATABASE_URL".into(), url));
    }
    Ok(spec)
}

/// Stops a target kept across rounds (`restart = "never"`).
pub fn finish(p: &mut Prepared) {
    if let Some(t) = p.running.take() {
        t.stop();
    }
}

fn measure(
    p: &Prepared,
    base: &str,
    metrics_url: Option<&str>,
    round: u32,
    log: &Path,
) -> Result<TrialOutput, WorkloadError> {
    let (warmup, window) = match &p.load {
        Load::Http(h) => (h.warmup, h.duration),
        Load::Idle(i) => (i.warmup, i.duration),
        Load::WebSocket(w) => return measure_websocket(p, w, base, metrics_url),
    };
    let load_spec = |duration: Duration, total: Option<u64>| http_load(p, base, duration, total, u64::from(round));
    let run_load = |spec: &LoadSpec| -> Result<LoadReport, WorkloadError> {
        let report = load::run(spec);
        if crate::process::interrupted() {
            return Err(WorkloadError::Interrupted);
        }
        report.map_err(|e| {
            WorkloadError::TrialFailed(Box::new(StepFailure {
                what: format!("load for scenario {:?}", p.scenario),
                command: format!("load {}", spec.base_url),
                status: e.to_string(),
                tail: String::new(),
                log: String::new(),
            }))
        })
    };
    // Warmup: the same load, excluded from every figure.
    if !warmup.is_zero() {
        match load_spec(warmup, None) {
            Some(spec) => {
                run_load(&spec)?;
            }
            None => sleep_interruptible(warmup),
        }
    }
    let sampler = p.running.as_ref().map(|t| Sampler::start(t.pid(), SAMPLE_EVERY));
    let before = metrics_url.map(|u| counters::scrape(u, Duration::from_secs(5), p.allow_remote));
    let db_edge = db_source(p).map(|s| database::open(&s));
    let from = sampler.as_ref().map(|s| s.mark()).unwrap_or(0.0);
    let started = Instant::now();
    let total = match &p.load {
        Load::Http(h) => h.max_requests,
        _ => None,
    };
    let report = match load_spec(window, total) {
        Some(spec) => Some(run_load(&spec)?),
        None => {
            sleep_interruptible(window);
            None
        }
    };
    if crate::process::interrupted() {
        return Err(WorkloadError::Interrupted);
    }
    if let (Some(r), Load::Http(h)) = (&report, &p.load)
        && h.hdr_log
    {
        write_hdr_log(r, base, &log.with_extension("hlog"));
    }
    let seconds = started.elapsed().as_secs_f64();
    let to = sampler.as_ref().map(|s| s.mark()).unwrap_or(0.0);
    let after = metrics_url.map(|u| counters::scrape(u, Duration::from_secs(5), p.allow_remote));
    let mut db_window = db_edge.map(|e| e.and_then(database::close));
    let samples = sampler.map(Sampler::stop).unwrap_or_default();

    let mut out = TrialOutput::default();
    let mut push =
        |metric: &str, unit: &str, better: Better, value: f64| out.push(&p.scenario, metric, unit, better, value);
    let requests = report.as_ref().map(|r| r.requests).unwrap_or(0);
    if let (Some(r), Load::Http(_)) = (&report, &p.load) {
        push("throughput", "req/s", Better::Higher, r.throughput);
        for (name, q) in [("latency_p50", 0.50), ("latency_p90", 0.90), ("latency_p99", 0.99), ("latency_p999", 0.999)]
        {
            push(name, "s", Better::Lower, r.percentile(q));
        }
        push("latency_max", "s", Better::Lower, r.max());
        push("latency_mean", "s", Better::Lower, r.mean());
        push("error_rate", "ratio", Better::Lower, r.error_rate());
        if requests > 0 {
            push("generator_cpu_per_request", "s", Better::Lower, r.generator_cpu.as_secs_f64() / requests as f64);
        }
    }
    // Under a closed model the load adapts to the service: its utilization
    // says how saturated it was, not how efficient (cpu_per_request does),
    // and judging it would call a faster service that keeps its core busy
    // a regression.
    let utilization = !matches!(&p.load, Load::Http(h) if matches!(h.model, LoadModel::Closed { .. }));
    let mut timeline = resource_timeline(&samples, from, to);
    if let Some(r) = &report {
        let step = load::recorder::TIMELINE_STEP.as_secs_f64();
        let buckets = ((seconds / step).round() as usize).max(1);
        timeline.throughput = r
            .timeline
            .iter()
            .take(buckets)
            .enumerate()
            .map(|(i, &n)| TimePoint { t: (i + 1) as f64 * step, value: n as f64 / step })
            .collect();
        if !r.latency.is_empty() {
            out.latency = Some(("request", r.latency.clone()));
        }
    }
    out.timeline = Some(timeline);
    let observed =
        Observed { samples: &samples, from, to, before: &before, after: &after, requests, seconds, utilization };
    push_target_metrics(&mut out, p, observed);
    if let Some(Ok(w)) = &mut db_window {
        (w.requests, w.seconds) = (requests, seconds);
        database::push_metrics(&mut out, &p.scenario, w, requests, seconds);
    }
    out.database = db_window;
    Ok(out)
}

/// Where this scenario's database statistics are read (`[target.postgres]`).
fn db_source(p: &Prepared) -> Option<crate::target::pgstats::StatsSource> {
    let db = p.database.as_deref()?;
    Some(db.stats_source(&crate::target::postgres::db_name(&p.scenario)))
}

type Scrape = Option<Result<String, counters::CounterError>>;

/// CPU cores used between consecutive sampler readings, and RSS at each,
/// over the window `from..=to` (sampler clock), with times since `from`.
fn resource_timeline(samples: &[sampler::ResourceSample], from: f64, to: f64) -> Timeline {
    let inside: Vec<&sampler::ResourceSample> =
        samples.iter().filter(|s| s.t >= from - 1e-9 && s.t <= to + 1e-9).collect();
    let mut timeline = Timeline::default();
    for s in &inside {
        timeline.rss_bytes.push(TimePoint { t: s.t - from, value: s.rss_bytes as f64 });
    }
    for pair in inside.windows(2) {
        let dt = pair[1].t - pair[0].t;
        // Readings milliseconds apart (a mark next to a tick) say nothing
        // about a rate: CPU time has 10 ms resolution.
        if dt < 0.05 {
            continue;
        }
        let cpu = (pair[1].cpu_user + pair[1].cpu_system) - (pair[0].cpu_user + pair[0].cpu_system);
        timeline.cpu_cores.push(TimePoint { t: pair[1].t - from, value: (cpu / dt).max(0.0) });
    }
    timeline
}

/// What was seen of the target over one measured window.
struct Observed<'a> {
    samples: &'a [sampler::ResourceSample],
    /// The window's edges on the sampler's clock.
    from: f64,
    to: f64,
    before: &'a Scrape,
    after: &'a Scrape,
    requests: u64,
    seconds: f64,
    /// Whether to report `cpu_utilization` (see `measure`).
    utilization: bool,
}

/// The target's resource use over the window (from the sampler) and its
/// counters (from the two scrapes), per request where `requests` > 0.
fn push_target_metrics(out: &mut TrialOutput, p: &Prepared, o: Observed<'_>) {
    let Observed { samples, from, to, before, after, requests, seconds, utilization } = o;
    let mut push =
        |metric: &str, unit: &str, better: Better, value: f64| out.push(&p.scenario, metric, unit, better, value);
    if let Some(w) = sampler::window_metrics(samples, from, to) {
        if requests > 0 {
            push("cpu_per_request", "s", Better::Lower, w.cpu_seconds / requests as f64);
        }
        if utilization {
            push("cpu_utilization", "cores", Better::Lower, w.cpu_utilization);
        }
        push("rss_peak", "B", Better::Lower, w.rss_peak as f64);
        push("rss_mean", "B", Better::Lower, w.rss_mean);
        // Memory given back is not a leak fixed: growth floors at 0.
        push("rss_growth", "B/s", Better::Lower, w.rss_growth.max(0.0));
        push("threads", "", Better::Lower, w.threads_end as f64);
    }
    if let (Some(Ok(before)), Some(Ok(after))) = (before, after) {
        let parse = |t: &str| crate::formats::prometheus::parse(t).unwrap_or_default();
        for c in counters::counter_metrics(&parse(before), &parse(after), requests, seconds, p.load.counters()) {
            push(&c.name, &c.unit, c.better, c.value);
        }
    }
}

/// A WebSocket trial: ramp, warmup and window run as one load run; the
/// sampler marks and counter scrapes happen at the window's edges. A
/// "request" here is an echoed message, so counters per request are per
/// message (none when the scenario sends no messages).
fn measure_websocket(
    p: &Prepared,
    w: &WebSocketScenario,
    base: &str,
    metrics_url: Option<&str>,
) -> Result<TrialOutput, WorkloadError> {
    let url = format!("{}{}", base.trim_end_matches('/'), w.path);
    let spec = load::WsSpec {
        url: url.clone(),
        clients: w.clients as usize,
        ramp: w.ramp,
        warmup: w.warmup,
        duration: w.duration,
        churn: w.churn,
        rate: w.rate,
        message_size: w.message_size as usize,
        connect_timeout: Duration::from_secs(10),
        allow_remote: p.allow_remote,
    };
    let sampler = p.running.as_ref().map(|t| Sampler::start(t.pid(), SAMPLE_EVERY));
    let (mut before, mut after): (Scrape, Scrape) = (None, None);
    let source = db_source(p);
    let (mut db_edge, mut db_window) = (None, None);
    let (mut from, mut to) = (0.0, 0.0);
    let (mut started, mut seconds) = (None, 0.0);
    let report = load::ws::run(&spec, |edge| match edge {
        load::WindowEdge::Start => {
            before = metrics_url.map(|u| counters::scrape(u, Duration::from_secs(5), p.allow_remote));
            db_edge = source.as_ref().map(database::open);
            from = sampler.as_ref().map(|s| s.mark()).unwrap_or(0.0);
            started = Some(Instant::now());
        }
        load::WindowEdge::End => {
            seconds = started.map(|t| t.elapsed().as_secs_f64()).unwrap_or(0.0);
            to = sampler.as_ref().map(|s| s.mark()).unwrap_or(0.0);
            after = metrics_url.map(|u| counters::scrape(u, Duration::from_secs(5), p.allow_remote));
            db_window = db_edge.take().map(|e| e.and_then(database::close));
        }
    });
    let samples = sampler.map(Sampler::stop).unwrap_or_default();
    if crate::process::interrupted() {
        return Err(WorkloadError::Interrupted);
    }
    let r = report.map_err(|e| {
        WorkloadError::TrialFailed(Box::new(StepFailure {
            what: format!("WebSocket load for scenario {:?}", p.scenario),
            command: format!("websocket {url}"),
            status: e.to_string(),
            tail: String::new(),
            log: String::new(),
        }))
    })?;
    if r.connects == 0 {
        let why = r.failures.first().map(|(w, n)| format!("{w} ({n}x)")).unwrap_or_else(|| "no attempt".into());
        return Err(WorkloadError::TrialFailed(Box::new(StepFailure {
            what: format!("WebSocket load for scenario {:?}", p.scenario),
            command: format!("websocket {url}"),
            status: format!("no client could connect: {why}"),
            tail: String::new(),
            log: String::new(),
        })));
    }
    let mut out = TrialOutput::default();
    let mut push =
        |metric: &str, unit: &str, better: Better, value: f64| out.push(&p.scenario, metric, unit, better, value);
    for (name, q) in [("connect_p50", 0.50), ("connect_p90", 0.90), ("connect_p99", 0.99)] {
        push(name, "s", Better::Lower, r.connect_at(q));
    }
    push("connect_max", "s", Better::Lower, r.connect_max());
    push("failed_upgrades", "", Better::Lower, r.failed_upgrades as f64);
    push("unexpected_disconnects", "", Better::Lower, r.unexpected_disconnects as f64);
    push("messages_received_per_second", "msg/s", Better::Higher, r.received_per_second());
    if w.rate.is_some() {
        push("messages_sent_per_second", "msg/s", Better::Higher, r.sent_per_second());
        if !r.rtt.is_empty() {
            for (name, q) in
                [("latency_p50", 0.50), ("latency_p90", 0.90), ("latency_p99", 0.99), ("latency_p999", 0.999)]
            {
                push(name, "s", Better::Lower, r.rtt_at(q));
            }
            push("latency_max", "s", Better::Lower, r.rtt_max());
            push("latency_mean", "s", Better::Lower, r.rtt_mean());
        }
        let loss = if r.sent == 0 { 0.0 } else { r.unanswered as f64 / r.sent as f64 };
        push("unanswered_rate", "ratio", Better::Lower, loss);
    }
    push("generator_cpu_utilization", "cores", Better::Lower, r.generator_cpu_utilization());
    if !r.rtt.is_empty() {
        out.latency = Some(("round_trip", r.rtt.clone()));
    }
    out.timeline = Some(resource_timeline(&samples, from, to));
    let observed = Observed {
        samples: &samples,
        from,
        to,
        before: &before,
        after: &after,
        requests: r.sent,
        seconds,
        utilization: true,
    };
    push_target_metrics(&mut out, p, observed);
    if let Some(Ok(w)) = &mut db_window {
        (w.requests, w.seconds) = (r.sent, seconds);
        database::push_metrics(&mut out, &p.scenario, w, r.sent, seconds);
    }
    out.database = db_window;
    Ok(out)
}

/// Sleeps, waking early when the run is interrupted.
fn sleep_interruptible(d: Duration) {
    let until = Instant::now() + d;
    while !crate::process::interrupted() {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

/// A profile fetched in the profiling pass.
#[derive(Debug, Clone)]
pub struct Captured {
    pub kind: String,
    pub path: std::path::PathBuf,
}

/// What a service's profiling pass brought back.
#[derive(Debug, Default)]
pub struct Pass {
    pub captured: Vec<Captured>,
    /// `[target.postgres]` (managed): every statement's plan in the pass;
    /// `None` when the pass logged no plans (no managed database).
    pub plans: Option<Vec<crate::formats::pgplan::LoggedPlan>>,
    /// What was not captured, and why.
    pub warnings: Vec<String>,
}

/// Whether the profiling pass has anything to do: profiles asked for, or
/// plans of a managed database.
pub fn wants_pass(p: &Prepared) -> bool {
    !p.load.profile_kinds().is_empty() || p.database.as_deref().is_some_and(|d| d.cluster().is_some())
}

/// The profiling pass of one variant, after the timing rounds: a fresh
/// target (or the one kept across rounds) under the scenario's load, with
/// every requested profile fetched at once over one window of the
/// scenario's duration (CPU from `{pprof}/profile?seconds=D`, the others as
/// delta profiles `{pprof}/KIND?seconds=D`) and, with a managed database,
/// auto_explain logging every statement's plan. Never part of a timed round.
pub fn profile_pass(p: &mut Prepared, dir: &Path, file_prefix: &str, log: &Path) -> Result<Pass, WorkloadError> {
    let mut pass = Pass::default();
    let mut kinds: Vec<String> = p.load.profile_kinds().to_vec();
    if !kinds.is_empty() && p.pprof_url.is_none() {
        pass.warnings.push(format!(
            "scenario {:?} asks for profiles but [target] has no `pprof = \"http://127.0.0.1:{{port}}/debug/pprof\"`: profiles skipped",
            p.scenario
        ));
        kinds.clear();
    }
    let cluster_log = p.database.as_deref().and_then(|d| d.cluster()).map(|c| c.server_log());
    let explain = cluster_log.is_some() && p.running.is_none();
    if cluster_log.is_some() && !explain {
        pass.warnings.push(format!(
            "scenario {:?}: no query plans: restart = \"never\" keeps the target (and its database sessions) from the rounds",
            p.scenario
        ));
    }
    if kinds.is_empty() && !explain {
        return Ok(pass);
    }
    let log_from = cluster_log.as_ref().and_then(|l| std::fs::metadata(l).ok()).map(|m| m.len()).unwrap_or(0);
    ensure_started(p, log, " (profiling)", explain)?;
    let fetched = load_and_fetch(p, &kinds);
    if crate::process::interrupted() {
        return Err(WorkloadError::Interrupted);
    }
    if let (true, Some(l)) = (explain, &cluster_log) {
        match read_from(l, log_from) {
            Ok(text) => pass.plans = Some(crate::formats::pgplan::extract(&text)),
            Err(e) => pass.warnings.push(format!("scenario {:?}: no query plans: {}: {e}", p.scenario, l.display())),
        }
    }
    std::fs::create_dir_all(dir)?;
    for (kind, result) in fetched {
        let bytes = match result {
            Ok(bytes) => bytes,
            Err(e) => {
                pass.warnings.push(format!(
                    "scenario {:?}: no {kind} profile ({e}); timings are kept, the profile is skipped",
                    p.scenario
                ));
                continue;
            }
        };
        match crate::formats::pprof::decode(&bytes) {
            Ok(profile) if !profile.samples.is_empty() => {
                let path = dir.join(format!("{file_prefix}-{}.pb.gz", crate::paths::file_component(&kind)));
                std::fs::write(&path, &bytes)?;
                pass.captured.push(Captured { kind, path });
            }
            Ok(_) => pass.warnings.push(format!(
                "scenario {:?}: the {kind} profile has no samples (for mutex/block, the target must enable them): skipped",
                p.scenario
            )),
            Err(e) => pass.warnings.push(format!("scenario {:?}: the {kind} profile: {e}", p.scenario)),
        }
    }
    if p.restart == Restart::Round
        && let Some(t) = p.running.take()
    {
        t.stop();
    }
    Ok(pass)
}

/// The log's text from byte `from` on, at most 256 MiB of it.
fn read_from(path: &Path, from: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(path)?;
    f.seek(std::io::SeekFrom::Start(from))?;
    let mut buf = Vec::new();
    f.take(256 << 20).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

type Fetched = Vec<(String, Result<Vec<u8>, String>)>;

/// The pass's load (warmup, then a window of whole seconds) with every
/// profile in `kinds` fetched over the window.
fn load_and_fetch(p: &Prepared, kinds: &[String]) -> Fetched {
    let port = p.running.as_ref().map(|t| t.port).unwrap_or(0);
    let base = with_port(&p.base_url, port);
    let pprof = p.pprof_url.as_deref().map(|u| with_port(u, port)).unwrap_or_default();
    let (warmup, window) = match &p.load {
        Load::Http(h) => (h.warmup, h.duration),
        Load::Idle(i) => (i.warmup, i.duration),
        Load::WebSocket(w) => (w.warmup + w.ramp, w.duration),
    };
    // Go's handlers take whole seconds.
    let seconds = window.as_secs_f64().round().max(1.0) as u64;
    let allow_remote = p.allow_remote;
    let fetch_all = || -> Fetched {
        std::thread::scope(|scope| {
            let handles: Vec<_> = kinds
                .iter()
                .map(|kind| {
                    let url = match kind.as_str() {
                        "cpu" => format!("{}/profile?seconds={seconds}", pprof.trim_end_matches('/')),
                        k => format!("{}/{k}?seconds={seconds}", pprof.trim_end_matches('/')),
                    };
                    let timeout = Duration::from_secs(seconds + 30);
                    scope.spawn(move || {
                        (kind.clone(), counters::fetch(&url, timeout, allow_remote).map_err(|e| e.to_string()))
                    })
                })
                .collect();
            let fetched = handles.into_iter().map(|h| h.join().expect("profile fetch thread")).collect();
            if kinds.is_empty() {
                // Plans only: the window's load, no profile to wait for.
                sleep_interruptible(Duration::from_secs(seconds));
            }
            fetched
        })
    };
    match &p.load {
        Load::WebSocket(w) => {
            let url = format!("{}{}", base.trim_end_matches('/'), w.path);
            let spec = load::WsSpec {
                url,
                clients: w.clients as usize,
                ramp: w.ramp,
                warmup: w.warmup,
                duration: Duration::from_secs(seconds) + Duration::from_millis(500),
                churn: w.churn,
                rate: w.rate,
                message_size: w.message_size as usize,
                connect_timeout: Duration::from_secs(10),
                allow_remote: p.allow_remote,
            };
            let mut fetched = Vec::new();
            std::thread::scope(|scope| {
                let (tx, rx) = std::sync::mpsc::channel::<()>();
                let fetcher = scope.spawn(move || {
                    let _ = rx.recv();
                    fetch_all()
                });
                let _ = load::ws::run(&spec, |edge| {
                    if edge == load::WindowEdge::Start {
                        let _ = tx.send(());
                    }
                });
                fetched = fetcher.join().unwrap_or_default();
            });
            fetched
        }
        _ => {
            let load_for = |d: Duration| http_load(p, &base, d, None, 0);
            match load_for(warmup) {
                Some(spec) if !warmup.is_zero() => {
                    let _ = load::run(&spec);
                }
                _ => sleep_interruptible(warmup),
            }
            // The load runs a little longer than the profiles, so that they
            // see load from their first to their last second.
            let spec = load_for(Duration::from_secs(seconds) + Duration::from_millis(500));
            std::thread::scope(|scope| {
                let loader = spec.map(|spec| scope.spawn(move || load::run(&spec)));
                let fetched = fetch_all();
                if let Some(l) = loader {
                    let _ = l.join();
                }
                fetched
            })
        }
    }
}
