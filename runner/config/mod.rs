//! Scenario files (DESIGN §3): the serde model, defaults, and validation.
//! First stage of the pipeline: a file is fully checked before anything runs,
//! and every problem names `file:line:col`.

pub mod threshold;
pub mod units;

use crate::load::bounds;
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

pub use threshold::Threshold;
pub use units::{HumanDuration, Percent, parse_duration, parse_percent};

/// A problem in a scenario file, located as precisely as the parser allows.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read scenario file: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Invalid { path: String, line: usize, col: usize, message: String },
}

/// One validated scenario file.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    pub path: PathBuf,
    pub name: String,
    pub target: Option<Target>,
    pub compare: CompareDefaults,
    pub scenarios: Vec<Scenario>,
}

/// `[target]`: what to build once per variant and, for services, how to start
/// it and know it is ready. Placeholders: `{port}`, `{build}`, `{checkout}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Relative to each variant's checkout, and inside it.
    #[serde(default)]
    #[schemars(extend("not" = { "pattern": OUTSIDE_CHECKOUT_PATTERN }))]
    pub dir: Option<String>,
    /// Shell command run once per variant (cached), e.g. `go build -o {build}/app .`.
    #[serde(default)]
    pub build: Option<String>,
    /// Shell command that starts the service, e.g. `{build}/app -addr 127.0.0.1:{port}`.
    #[serde(default)]
    pub start: Option<String>,
    /// How to tell the started service is ready.
    #[serde(default)]
    pub ready: Option<Ready>,
    /// Base URL of Go's net/http/pprof handlers; enables profile capture.
    #[serde(default)]
    pub pprof: Option<String>,
    /// Prometheus text endpoint; its counters are diffed per request.
    #[serde(default)]
    pub metrics: Option<String>,
    /// Extra environment for the build and the target.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A fresh target per round (default), or one per variant for the whole run.
    #[serde(default)]
    pub restart: Restart,
    /// What a crashed target (or a failed round) does to the run.
    #[serde(default)]
    pub on_crash: OnCrash,
    /// A PostgreSQL for the target: managed by perfgate (a throwaway
    /// cluster per variant), or `url` for one of yours.
    #[serde(default)]
    pub postgres: Option<PostgresTarget>,
}

/// `[target.postgres]`: perfgate creates a throwaway cluster per variant
/// (initdb, Unix socket, pg_stat_statements preloaded), runs `setup` once
/// into a template database, and gives every round (every trial of a
/// command scenario) a fresh copy as `{pg_url}` and `$DATABASE_URL`. With
/// `url`, your database is used as it is: never reset, never dropped.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PostgresTarget {
    /// Shell command run once per variant in the target's `dir`, given
    /// `{pg_url}` (and `$DATABASE_URL`) of the template database: create
    /// the schema, load the data.
    #[serde(default)]
    pub setup: Option<String>,
    /// Server settings (`postgresql.conf` names), e.g. `{ shared_buffers = "128MB" }`.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// An existing database instead of a managed one (`postgresql://…`).
    #[serde(default)]
    pub url: Option<String>,
    /// Calls per request from which a statement run once per row of
    /// another statement's result is flagged N+1 (default 5).
    #[serde(default)]
    pub n_plus_one: Option<u32>,
    /// Plans: a sequential scan reading more rows than this is flagged
    /// (default 1000).
    #[serde(default)]
    pub seq_scan_rows: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Restart {
    /// A fresh target per round.
    #[default]
    Round,
    /// One target per variant for the whole run.
    Never,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnCrash {
    /// Record the round as failed and go on with the next one.
    #[default]
    Continue,
    /// Stop the run (the rounds measured so far are kept).
    Stop,
}

/// `ready = { http = "..." }` or `{ tcp = "host:port" }`, with an optional timeout.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    /// URL polled until the service answers it.
    #[serde(default)]
    pub http: Option<String>,
    /// `host:port` polled until it accepts a connection.
    #[serde(default)]
    pub tcp: Option<String>,
    /// How long to wait for readiness (default 60s).
    #[serde(default)]
    pub timeout: Option<HumanDuration>,
}

/// `[compare]`: defaults for `perfgate compare`; CLI flags override them.
#[derive(Debug, Clone, Default)]
pub struct CompareDefaults {
    pub rounds: Option<u32>,
    pub min_rounds: Option<u32>,
    pub max_rounds: Option<u32>,
    pub max_time: Option<Duration>,
    pub threshold: Option<f64>,
    pub count_threshold: Option<f64>,
    pub alpha: Option<f64>,
    pub seed: Option<u64>,
    pub baseline: Option<String>,
    pub candidate: Option<CandidateSpec>,
}

impl CompareDefaults {
    /// Whether the file sets anything at all (a second file's settings are ignored).
    pub fn sets_anything(&self) -> bool {
        self.rounds.is_some()
            || self.min_rounds.is_some()
            || self.max_rounds.is_some()
            || self.max_time.is_some()
            || self.threshold.is_some()
            || self.count_threshold.is_some()
            || self.alpha.is_some()
            || self.seed.is_some()
            || self.baseline.is_some()
            || self.candidate.is_some()
    }
}

/// What the candidate is, when the scenario file says.
#[derive(Debug, Clone, PartialEq)]
pub enum CandidateSpec {
    Rev(String),
    /// A patch file, relative to the repository root.
    Patch(String),
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub kind: ScenarioKind,
    /// Metrics whose verdicts hold a sequential run open (`judge = [...]`);
    /// `None`: the kind's default (see `analyze::judged`).
    pub judge: Option<Vec<String>>,
    /// `env`: for `http`, `websocket` and `idle`, the target's environment
    /// in this scenario, over `[target].env` (e.g. a background job turned
    /// off while requests are measured); the other kinds keep theirs in
    /// their own settings.
    pub target_env: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub enum ScenarioKind {
    GoBench(GoBenchScenario),
    CargoBench(CargoBenchScenario),
    Command(CommandScenario),
    Http(HttpScenario),
    Idle(IdleScenario),
    WebSocket(WebSocketScenario),
}

impl ScenarioKind {
    pub fn name(&self) -> &str {
        match self {
            ScenarioKind::GoBench(_) => "gobench",
            ScenarioKind::CargoBench(_) => "cargobench",
            ScenarioKind::Command(_) => "command",
            ScenarioKind::Http(_) => "http",
            ScenarioKind::Idle(_) => "idle",
            ScenarioKind::WebSocket(_) => "websocket",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoBenchScenario {
    /// Relative to the checkout.
    pub dir: String,
    /// Profiles taken in a pass of their own after the timed rounds.
    pub profile: Vec<String>,
    pub packages: Vec<String>,
    pub bench: String,
    pub benchtime: Option<String>,
    pub benchmem: bool,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
    /// Each top-level benchmark is a trial of its own (default), or one
    /// trial runs the whole suite.
    pub per_benchmark: bool,
    pub measure: Measures,
}

/// A Rust crate's benchmarks (criterion, or libtest `#[bench]`), built
/// with `cargo bench --no-run` into perfgate's own target dir.
#[derive(Debug, Clone, PartialEq)]
pub struct CargoBenchScenario {
    /// The crate (or workspace) directory, relative to the checkout.
    pub dir: String,
    /// `cargo bench --package`.
    pub package: Option<String>,
    /// `cargo bench --features`.
    pub features: Vec<String>,
    /// Bench targets (`--bench NAME`); empty: every target `--benches` builds.
    pub targets: Vec<String>,
    /// The filter given to each bench binary, as to `cargo bench -- FILTER`
    /// (criterion: a regular expression; libtest: a substring).
    pub bench: Option<String>,
    /// Criterion's `--measurement-time` per round.
    pub benchtime: Duration,
    /// Criterion's `--warm-up-time` per round.
    pub warmup: Duration,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
    pub measure: Measures,
}

/// Criterion's measurement and warm-up time per round when a `cargobench`
/// scenario sets none: one short sample set per round (10 samples), many
/// rounds, as for Go's benchmarks.
pub const DEFAULT_CARGO_BENCHTIME: Duration = Duration::from_millis(200);
pub const DEFAULT_CARGO_WARMUP: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, PartialEq)]
pub struct CommandScenario {
    /// Relative to the checkout.
    pub dir: String,
    pub command: String,
    pub prepare: Option<String>,
    pub env: BTreeMap<String, String>,
    pub timeout: Option<Duration>,
    pub measure: Measures,
}

/// What a benchmark or command trial measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    /// Wall-clock time (and what the tool reports beside it).
    Time,
    /// Instructions executed, counted under Valgrind (callgrind).
    Instructions,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Time => "time",
            Measure::Instructions => "instructions",
        }
    }
}

/// The measures a scenario runs, each as trials of their own, and whether
/// instruction counts simulate the caches too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measures {
    /// Distinct, in the file's order; never empty.
    pub list: Vec<Measure>,
    /// `cache_sim = true`: L1/LL misses and estimated cycles per op.
    pub cache_sim: bool,
}

impl Default for Measures {
    fn default() -> Self {
        Measures { list: vec![Measure::Time], cache_sim: false }
    }
}

impl Measures {
    pub fn has(&self, m: Measure) -> bool {
        self.list.contains(&m)
    }
}

/// `measure = "time"` or `measure = ["time", "instructions"]`.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum RawMeasure {
    One(String),
    Many(Vec<String>),
}

/// One request of an HTTP scenario's mix.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    /// `connections` clients each send a request, wait for the answer, repeat.
    Closed { connections: u32 },
    /// Requests at a fixed `rate` (req/s) whatever the latency, at most
    /// `max_in_flight` outstanding.
    Open { rate: f64, max_in_flight: u32 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpScenario {
    pub duration: Duration,
    pub warmup: Duration,
    pub max_requests: Option<u64>,
    pub model: LoadModel,
    pub requests: Vec<HttpRequest>,
    pub keepalive: bool,
    /// Inclusive status ranges that count as success (default 200–399).
    pub expect_status: Vec<(u16, u16)>,
    /// Base URL when there is no `[target]` (e.g. a service you started).
    pub url: Option<String>,
    pub allow_remote: bool,
    pub counters: Option<Vec<String>>,
    pub thresholds: Vec<Threshold>,
    pub profile: Vec<String>,
    /// Write each measured window's HdrHistogram interval log (logs/*.hlog).
    pub hdr_log: bool,
}

/// A target left alone (or given a trickle of requests) while its CPU and
/// memory are watched.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleScenario {
    pub duration: Duration,
    pub warmup: Duration,
    /// A trickle of requests (rate and mix), if any.
    pub trickle: Option<(f64, Vec<HttpRequest>)>,
    pub counters: Option<Vec<String>>,
    pub thresholds: Vec<Threshold>,
    pub profile: Vec<String>,
}

/// WebSocket clients held open against a service: connect (over `ramp`),
/// optionally churn (disconnect and reconnect) and send messages whose echo
/// round trip is timed.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketScenario {
    pub duration: Duration,
    pub warmup: Duration,
    pub clients: u32,
    /// Connections are opened evenly over this time before the warmup.
    pub ramp: Duration,
    /// Disconnect-and-reconnect cycles per second, over all clients.
    pub churn: Option<f64>,
    /// Messages per second, over all clients; each is echoed by the target.
    pub rate: Option<f64>,
    pub path: String,
    pub message_size: u32,
    pub url: Option<String>,
    pub allow_remote: bool,
    pub counters: Option<Vec<String>>,
    pub thresholds: Vec<Threshold>,
    pub profile: Vec<String>,
}

/// `benchtime` when a gobench scenario sets none (Go's own is 1s). Many
/// short pairs beat a few long ones on a noisy machine: measured here
/// (scripts/pair-noise.py), per-benchmark trials of 30 ms had a robust
/// spread of 2–9% per pair against 5–14% at 100 ms, at three times the
/// rounds a minute.
pub const DEFAULT_BENCHTIME: &str = "30ms";

/// What `--quick` does to a scenario besides capping the rounds: shorter
/// warmups and windows, and a shorter `benchtime`. Quick runs are for a
/// first look; their figures are noisier and the reports say so.
pub const QUICK_WARMUP: Duration = Duration::from_millis(300);
pub const QUICK_WINDOW: Duration = Duration::from_millis(800);
pub const QUICK_RAMP: Duration = Duration::from_millis(250);
pub const QUICK_BENCHTIME: Duration = Duration::from_millis(100);

impl ScenarioKind {
    /// Shortens the scenario for `--quick`; true if anything changed.
    pub fn quicken(&mut self) -> bool {
        let cap = |d: &mut Duration, max: Duration| {
            let changed = *d > max;
            *d = (*d).min(max);
            changed
        };
        match self {
            ScenarioKind::Http(h) => cap(&mut h.warmup, QUICK_WARMUP) | cap(&mut h.duration, QUICK_WINDOW),
            ScenarioKind::Idle(i) => cap(&mut i.warmup, QUICK_WARMUP) | cap(&mut i.duration, QUICK_WINDOW),
            ScenarioKind::WebSocket(w) => {
                cap(&mut w.warmup, QUICK_WARMUP) | cap(&mut w.duration, QUICK_WINDOW) | cap(&mut w.ramp, QUICK_RAMP)
            }
            ScenarioKind::GoBench(g) => {
                // An iteration count ("100x") is left alone: it is exact already.
                let current = match g.benchtime.as_deref() {
                    None => parse_duration(DEFAULT_BENCHTIME).ok(),
                    Some(t) if t.ends_with('x') => None,
                    Some(t) => parse_duration(t).ok(),
                };
                match current {
                    Some(d) if d > QUICK_BENCHTIME => {
                        g.benchtime = Some(format!("{}ms", QUICK_BENCHTIME.as_millis()));
                        true
                    }
                    _ => false,
                }
            }
            ScenarioKind::CargoBench(c) => cap(&mut c.benchtime, QUICK_BENCHTIME) | cap(&mut c.warmup, QUICK_WARMUP),
            ScenarioKind::Command(_) => false,
        }
    }
}

/// Profiles a scenario may ask for (Go's net/http/pprof names).
pub const PROFILE_KINDS: &[&str] = &["cpu", "heap", "allocs", "goroutine", "mutex", "block"];

pub const KINDS: &[&str] = &["http", "websocket", "gobench", "cargobench", "command", "idle"];

// ---- raw serde model: exactly the file's shape, unknown keys rejected ----
// It is also the source of the scenario file's JSON Schema (`perfgate schema
// scenario`): doc comments become the descriptions editors show, and
// `scenario_rules` adds the checks `parse` makes beyond types.

/// A perfgate scenario file (TOML): one target, `[compare]` defaults and one
/// or more `[[scenario]]` tables. Placeholders in commands: `{port}`, `{build}`
/// (per-variant build output dir), `{checkout}` (per-variant source root).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScenarioFile", transform = require_scenarios)]
pub(crate) struct RawFile {
    /// Names the report directory.
    name: String,
    /// Omitted for pure benchmark scenarios.
    #[serde(default)]
    #[schemars(with = "Option<Target>")]
    target: Option<Spanned<Target>>,
    #[serde(default)]
    compare: Option<RawCompare>,
    #[serde(default)]
    #[schemars(with = "Vec<RawScenario>", length(min = 1))]
    scenario: Vec<Spanned<RawScenario>>,
}

/// `[compare]`: defaults for `perfgate compare`; CLI flags override them.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Compare")]
struct RawCompare {
    /// A fixed number of rounds per scenario (each runs baseline and
    /// candidate in random order) instead of rounds until settled.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    rounds: Option<Spanned<u32>>,
    /// Sequential design: no scenario stops as settled before this many rounds (default 6).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    min_rounds: Option<Spanned<u32>>,
    /// Sequential design: the most rounds per scenario (default 500).
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1))]
    max_rounds: Option<Spanned<u32>>,
    /// Sequential design: the most measurement time, builds and profiling excluded (default "5m").
    #[serde(default)]
    #[schemars(with = "Option<HumanDuration>")]
    max_time: Option<Spanned<HumanDuration>>,
    /// Smallest change worth reporting as a change, e.g. "2%".
    #[serde(default)]
    threshold: Option<Percent>,
    /// The same for instruction counts (`measure = "instructions"`), which
    /// repeat: default "0.5%".
    #[serde(default)]
    count_threshold: Option<Percent>,
    /// Significance level, applied to q-values (default 0.05).
    #[serde(default)]
    #[schemars(with = "Option<f64>", extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 1))]
    alpha: Option<Spanned<f64>>,
    /// Fixes the random order of variants.
    #[serde(default)]
    seed: Option<u64>,
    /// Baseline revision (default HEAD).
    #[serde(default)]
    baseline: Option<String>,
    /// The candidate: a revision or a patch (default: the working tree).
    #[serde(default)]
    #[schemars(with = "Option<RawCandidate>")]
    candidate: Option<Spanned<RawCandidate>>,
}

/// Exactly one of `rev` or `patch`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Candidate", extend("oneOf" = [{ "required": ["rev"] }, { "required": ["patch"] }]))]
struct RawCandidate {
    /// A git revision.
    #[serde(default)]
    rev: Option<String>,
    /// A patch file applied to the baseline, relative to the repository root.
    #[serde(default)]
    patch: Option<String>,
}

/// One `[[scenario]]`: `kind` decides which of the other fields apply.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Scenario", transform = scenario_rules)]
struct RawScenario {
    /// Unique within the file.
    #[schemars(with = "String", pattern(r"\S"))]
    name: Spanned<String>,
    /// What the scenario measures; decides which other fields apply.
    #[schemars(with = "String")]
    kind: Spanned<String>,
    // shared
    /// Relative to the checkout, and inside it (default ".").
    #[serde(default)]
    #[schemars(extend("not" = { "pattern": OUTSIDE_CHECKOUT_PATTERN }))]
    dir: Option<String>,
    /// Extra environment (added to `[target] env`).
    #[serde(default)]
    env: Option<BTreeMap<String, String>>,
    /// Per round; a round over it is killed and fails the run.
    #[serde(default)]
    timeout: Option<HumanDuration>,
    /// Metrics whose verdicts hold a sequential run open, e.g. ["ns/op"] or
    /// ["throughput", "latency_p99"] (default: the kind's, see the README).
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    judge: Option<Spanned<Vec<String>>>,
    // gobench
    /// `go list` patterns (default ["."]).
    #[serde(default)]
    packages: Option<Vec<String>>,
    /// gobench: `-test.bench` regular expression (default "."); cargobench:
    /// the filter `cargo bench -- FILTER` takes (criterion: a regular
    /// expression, libtest: a substring; default: every benchmark).
    #[serde(default)]
    bench: Option<String>,
    /// gobench: `-test.benchtime`, a duration ("200ms") or an iteration
    /// count ("100x") (default "30ms"); cargobench: criterion's
    /// `--measurement-time` per round (default "200ms").
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    benchtime: Option<Spanned<String>>,
    /// Adds B/op and allocs/op (default true).
    #[serde(default)]
    benchmem: Option<bool>,
    /// Each top-level benchmark runs as a trial of its own, both variants
    /// back to back (default true); false: one trial runs the whole suite.
    #[serde(default)]
    per_benchmark: Option<bool>,
    /// "time" (default), "instructions" (counted under Valgrind), or both
    /// as a list: each measure runs as trials of its own.
    #[serde(default)]
    #[schemars(with = "Option<RawMeasure>")]
    measure: Option<Spanned<RawMeasure>>,
    /// With instructions: simulate the caches too (L1 and last-level
    /// misses, estimated cycles). Slower; default false.
    #[serde(default)]
    cache_sim: Option<bool>,
    // cargobench
    /// `cargo bench --package`.
    #[serde(default)]
    package: Option<String>,
    /// `cargo bench --features`.
    #[serde(default)]
    features: Option<Vec<String>>,
    /// Bench targets to build and run (`--bench NAME`; default: all, `--benches`).
    #[serde(default)]
    targets: Option<Vec<String>>,
    // command
    /// Shell command, run with `sh -c` in `dir`.
    #[serde(default)]
    #[schemars(pattern(r"\S"))]
    command: Option<String>,
    /// Run before each measurement, not timed.
    #[serde(default)]
    prepare: Option<String>,
    // load scenarios (http, websocket, idle)
    /// The measured window per round.
    #[serde(default)]
    duration: Option<HumanDuration>,
    /// Load before the measured window, not measured (cargobench:
    /// criterion's `--warm-up-time` per round, default "50ms").
    #[serde(default)]
    warmup: Option<HumanDuration>,
    /// Closed model: clients that each send a request and wait for the answer (default 16).
    #[serde(default)]
    #[schemars(range(min = 1))]
    connections: Option<u32>,
    /// Open model: requests per second whatever the latency (websocket: messages per second).
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    rate: Option<f64>,
    /// The request mix (default one GET /).
    #[serde(default)]
    requests: Option<Vec<RawRequest>>,
    /// Profiles to capture: cpu, heap, allocs, goroutine, mutex, block.
    #[serde(default)]
    profile: Option<Vec<String>>,
    /// Checks such as "p99 < 50ms", "error_rate < 0.1%", "throughput > 1000".
    #[serde(default)]
    thresholds: Option<Vec<String>>,
    /// Stop the window after this many requests.
    #[serde(default)]
    max_requests: Option<u64>,
    /// Open model: most requests outstanding at once (default 1000).
    #[serde(default)]
    max_in_flight: Option<u32>,
    /// Reuse connections (default true).
    #[serde(default)]
    keepalive: Option<bool>,
    /// Statuses that count as success: "2xx", "404", "200-299" (default 200-399).
    #[serde(default)]
    expect_status: Option<Vec<String>>,
    /// Base URL when there is no `[target]` (a service you started).
    #[serde(default)]
    url: Option<String>,
    /// Allow a `url` that is not on this machine.
    #[serde(default)]
    allow_remote: Option<bool>,
    /// Prometheus counters to report per request (default: all that moved).
    #[serde(default)]
    counters: Option<Vec<String>>,
    /// Write each measured window's latency as an HdrHistogram interval log
    /// beside the trial's log (logs/*.hlog; default false).
    #[serde(default)]
    hdr_log: Option<bool>,
    // websocket
    /// WebSocket clients held open (default 10).
    #[serde(default)]
    #[schemars(range(min = 1))]
    clients: Option<u32>,
    /// Connections are opened evenly over this time before the warmup.
    #[serde(default)]
    ramp: Option<HumanDuration>,
    /// Disconnect-and-reconnect cycles per second, over all clients.
    #[serde(default)]
    #[schemars(extend("exclusiveMinimum" = 0))]
    churn: Option<f64>,
    /// WebSocket path (default "/").
    #[serde(default)]
    #[schemars(pattern("^/"))]
    path: Option<String>,
    /// Bytes per message (default 64).
    #[serde(default)]
    #[schemars(range(min = MIN_WS_MESSAGE))]
    message_size: Option<u32>,
}

/// One request of an HTTP mix.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Request")]
struct RawRequest {
    /// Default GET; any case.
    #[serde(default)]
    method: Option<String>,
    /// Path and query, e.g. "/api/items?page=2".
    #[schemars(pattern("^/"))]
    path: String,
    /// Request body, sent as is.
    #[serde(default)]
    body: Option<String>,
    /// Extra request headers.
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    /// Share of the mix (default 1).
    #[serde(default)]
    weight: Option<u32>,
}

/// `scenario` is `default` for serde only so that `parse` can say what a file
/// without any `[[scenario]]` lacks; the file still needs one.
fn require_scenarios(schema: &mut schemars::Schema) {
    if let Some(serde_json::Value::Array(required)) = schema.ensure_object().get_mut("required") {
        required.push("scenario".into());
    }
}

/// A `dir` that `check_inside_checkout` rejects: absolute, or with a `..` part.
const OUTSIDE_CHECKOUT_PATTERN: &str = r"^/|(^|/)\.\.(/|$)";

/// Fields every kind takes besides its own.
const SHARED_FIELDS: &[&str] = &["name", "kind", "dir", "env", "timeout", "judge"];

/// The fields a scenario of `kind` may have besides `SHARED_FIELDS`; `None`
/// for an unknown kind.
fn kind_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "gobench" => {
            &["packages", "bench", "benchtime", "benchmem", "profile", "per_benchmark", "measure", "cache_sim"]
        }
        "cargobench" => &["package", "features", "targets", "bench", "benchtime", "warmup", "measure", "cache_sim"],
        "command" => &["command", "prepare", "measure", "cache_sim"],
        "http" => &[
            "duration",
            "warmup",
            "connections",
            "rate",
            "requests",
            "profile",
            "thresholds",
            "max_requests",
            "max_in_flight",
            "keepalive",
            "expect_status",
            "url",
            "allow_remote",
            "counters",
            "hdr_log",
        ],
        "websocket" => &[
            "duration",
            "warmup",
            "clients",
            "ramp",
            "churn",
            "rate",
            "path",
            "message_size",
            "url",
            "allow_remote",
            "counters",
            "thresholds",
            "profile",
        ],
        "idle" => &["duration", "warmup", "rate", "requests", "counters", "profile", "thresholds"],
        _ => return None,
    })
}

/// The scenario schema's share of `parse`'s checks: which fields each kind
/// takes, and the rules that depend on the kind. Checks that need the whole
/// file or arithmetic (unique names, threshold expressions, weights, status
/// ranges, zero durations) stay the parser's.
fn scenario_rules(schema: &mut schemars::Schema) {
    use serde_json::json;
    let props = schema.ensure_object().entry("properties").or_insert_with(|| json!({}));
    props["kind"]["enum"] = json!(KINDS);
    props["profile"]["items"]["enum"] = json!(PROFILE_KINDS);
    let fields: Vec<String> = props.as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
    let extra = |kind: &str| -> serde_json::Value {
        match kind {
            "gobench" => json!({
                "properties": {
                    "packages": { "minItems": 1 },
                    "bench": { "pattern": r"\S" },
                    "benchtime": units::benchtime_schema(),
                    "profile": { "items": { "not": { "const": "goroutine" } } },
                }
            }),
            "cargobench" => json!({
                "properties": {
                    "bench": { "pattern": r"\S" },
                    "targets": { "minItems": 1 },
                    "benchtime": { "pattern": units::DURATION_PATTERN },
                }
            }),
            "command" => json!({ "required": ["command"] }),
            // `a needs b` spelled as "not a, or b": editors on older drafts know
            // no `dependentRequired`.
            "http" => json!({
                "properties": { "requests": { "minItems": 1 } },
                "not": { "required": ["connections", "rate"] },
                "anyOf": [{ "not": { "required": ["max_in_flight"] } }, { "required": ["rate"] }],
            }),
            "idle" => json!({ "anyOf": [{ "not": { "required": ["requests"] } }, { "required": ["rate"] }] }),
            _ => json!({}),
        }
    };
    let rules: Vec<serde_json::Value> = KINDS
        .iter()
        .map(|&kind| {
            let own = kind_fields(kind).unwrap_or_default();
            let mut then = extra(kind);
            // `false` per foreign field rather than a `propertyNames` list, so
            // editors underline the field itself, not the whole table.
            for field in fields.iter().filter(|f| !SHARED_FIELDS.contains(&f.as_str()) && !own.contains(&f.as_str())) {
                then["properties"][field] = json!(false);
            }
            json!({ "if": { "properties": { "kind": { "const": kind } } }, "then": then })
        })
        .collect();
    schema.insert("allOf".into(), json!(rules));
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<ScenarioFile, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
    parse(path, &text)
}

/// `[compare]`: the run's defaults, each checked where it is written.
fn compare_defaults(
    c: RawCompare,
    at: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<CompareDefaults, ConfigError> {
    let mut compare = CompareDefaults::default();
    if let Some(r) = &c.rounds {
        if *r.get_ref() < 1 {
            return Err(at(r.span(), "rounds must be at least 1".into()));
        }
        compare.rounds = Some(*r.get_ref());
    }
    for (key, value, slot) in
        [("min_rounds", &c.min_rounds, &mut compare.min_rounds), ("max_rounds", &c.max_rounds, &mut compare.max_rounds)]
    {
        if let Some(r) = value {
            if *r.get_ref() < 1 {
                return Err(at(r.span(), format!("{key} must be at least 1")));
            }
            *slot = Some(*r.get_ref());
        }
    }
    if let (Some(lo), Some(hi)) = (&c.min_rounds, &c.max_rounds)
        && lo.get_ref() > hi.get_ref()
    {
        return Err(at(lo.span(), format!("min_rounds ({}) is more than max_rounds ({})", lo.get_ref(), hi.get_ref())));
    }
    if let Some(t) = &c.max_time {
        if t.get_ref().0.is_zero() {
            return Err(at(t.span(), "max_time must be longer than 0s".into()));
        }
        compare.max_time = Some(t.get_ref().0);
    }
    if let Some(a) = &c.alpha {
        let v = *a.get_ref();
        if !(v > 0.0 && v < 1.0) {
            return Err(at(a.span(), format!("alpha must be between 0 and 1 (exclusive), got {v}")));
        }
        compare.alpha = Some(v);
    }
    compare.threshold = c.threshold.map(|p| p.0);
    compare.count_threshold = c.count_threshold.map(|p| p.0);
    compare.seed = c.seed;
    compare.baseline = c.baseline;
    if let Some(cand) = c.candidate {
        let span = cand.span();
        let cand = cand.into_inner();
        compare.candidate = Some(match (cand.rev, cand.patch) {
            (Some(r), None) => CandidateSpec::Rev(r),
            (None, Some(p)) => CandidateSpec::Patch(p),
            _ => {
                return Err(at(
                    span,
                    "candidate takes exactly one of `rev` or `patch`, e.g. candidate = { patch = \"fix.patch\" }"
                        .into(),
                ));
            }
        });
    }
    Ok(compare)
}

/// A kind that starts the `[target]` (its `env` is the target's).
fn is_service_kind(kind: &ScenarioKind) -> bool {
    matches!(kind, ScenarioKind::Http(_) | ScenarioKind::Idle(_) | ScenarioKind::WebSocket(_))
}

/// Which optional fields a scenario table sets: fields that belong to
/// another kind are mistakes, not options.
fn present_fields(s: &RawScenario) -> Vec<(&'static str, bool)> {
    vec![
        ("packages", s.packages.is_some()),
        ("bench", s.bench.is_some()),
        ("benchtime", s.benchtime.is_some()),
        ("benchmem", s.benchmem.is_some()),
        ("per_benchmark", s.per_benchmark.is_some()),
        ("measure", s.measure.is_some()),
        ("cache_sim", s.cache_sim.is_some()),
        ("package", s.package.is_some()),
        ("features", s.features.is_some()),
        ("targets", s.targets.is_some()),
        ("command", s.command.is_some()),
        ("prepare", s.prepare.is_some()),
        ("duration", s.duration.is_some()),
        ("warmup", s.warmup.is_some()),
        ("connections", s.connections.is_some()),
        ("rate", s.rate.is_some()),
        ("requests", s.requests.is_some()),
        ("profile", s.profile.is_some()),
        ("thresholds", s.thresholds.is_some()),
        ("max_requests", s.max_requests.is_some()),
        ("max_in_flight", s.max_in_flight.is_some()),
        ("keepalive", s.keepalive.is_some()),
        ("expect_status", s.expect_status.is_some()),
        ("url", s.url.is_some()),
        ("allow_remote", s.allow_remote.is_some()),
        ("counters", s.counters.is_some()),
        ("hdr_log", s.hdr_log.is_some()),
        ("clients", s.clients.is_some()),
        ("ramp", s.ramp.is_some()),
        ("churn", s.churn.is_some()),
        ("path", s.path.is_some()),
        ("message_size", s.message_size.is_some()),
    ]
}

/// Validates scenario-file text; `path` is only used in messages.
/// `[target]`: `dir` inside the checkout, `{port}` only as the port of its URLs.
fn target_section(
    t: Spanned<Target>,
    text: &str,
    at: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<Target, ConfigError> {
    let span = t.span();
    let t = t.into_inner();
    let key_at = |key: &str| find_key(text, span.clone(), key).unwrap_or(span.clone());
    if let Some(dir) = &t.dir {
        check_inside_checkout(dir).map_err(|m| at(key_at("dir"), m))?;
    }
    if let Some(pg) = &t.postgres {
        postgres_section(pg).map_err(|(key, m)| at(key_at(key), m))?;
    }
    let ready = t.ready.as_ref().and_then(|r| r.http.as_ref());
    for (key, url) in [("pprof", t.pprof.as_ref()), ("metrics", t.metrics.as_ref()), ("ready", ready)] {
        if let Some(u) = url {
            crate::load::url::port_only_in_port(u).map_err(|e| at(key_at(key), format!("{key}: {e}")))?;
        }
    }
    Ok(t)
}

/// `[target.postgres]`: a URL or a managed cluster's settings, not both;
/// setting names as PostgreSQL spells them. The key to point at, and why.
fn postgres_section(pg: &PostgresTarget) -> Result<(), (&'static str, String)> {
    if let Some(url) = &pg.url {
        if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
            return Err(("url", format!("postgres url {url:?} must start with postgresql://")));
        }
        if pg.setup.is_some() || !pg.settings.is_empty() {
            return Err((
                "url",
                "with `url` perfgate uses your database as it is (never reset, never set up): remove `setup` and `settings`, or `url` for a managed one".into(),
            ));
        }
    }
    if pg.n_plus_one == Some(0) || pg.n_plus_one == Some(1) {
        return Err(("n_plus_one", "n_plus_one must be 2 or more (calls per request)".into()));
    }
    if pg.setup.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(("setup", "setup must not be empty; omit it for an empty database".into()));
    }
    for (k, v) in &pg.settings {
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
            return Err(("settings", format!("{k:?} is not a PostgreSQL setting name")));
        }
        if v.contains('\0') || v.contains('\n') {
            return Err(("settings", format!("setting {k}: the value must be one line")));
        }
    }
    Ok(())
}

/// A scenario's name, checked: not empty, usable in file names, unique,
/// and not mapping to the same file name as an earlier one (`files` holds
/// the earlier names with their file names).
fn scenario_name(
    name: &Spanned<String>,
    files: &mut Vec<(String, String)>,
    at: &dyn Fn(std::ops::Range<usize>, String) -> ConfigError,
) -> Result<String, ConfigError> {
    let text = name.get_ref().trim().to_string();
    if text.is_empty() {
        return Err(at(name.span(), "scenario name must not be empty".into()));
    }
    if let Some(why) = crate::paths::unusable_name(&text) {
        return Err(at(name.span(), format!("scenario name {text:?} {why}")));
    }
    if files.iter().any(|(n, _)| *n == text) {
        return Err(at(name.span(), format!("duplicate scenario name {text:?}")));
    }
    let file = crate::paths::file_component(&text);
    if let Some((other, _)) = files.iter().find(|(_, f)| *f == file) {
        return Err(at(
            name.span(),
            format!("scenario names {other:?} and {text:?} would share file names ({file}); rename one"),
        ));
    }
    files.push((text.clone(), file));
    Ok(text)
}

pub fn parse(path: &Path, text: &str) -> Result<ScenarioFile, ConfigError> {
    let at = |span: std::ops::Range<usize>, message: String| {
        let (line, col) = line_col(text, span.start);
        ConfigError::Invalid { path: path.display().to_string(), line, col, message }
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        at(span, e.message().trim_end().to_string())
    })?;

    let target = raw.target.map(|t| target_section(t, text, &at)).transpose()?;
    let compare = match raw.compare {
        Some(c) => compare_defaults(c, &at)?,
        None => CompareDefaults::default(),
    };

    let mut scenarios = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    for spanned in raw.scenario {
        let table_span = spanned.span();
        let s = spanned.into_inner();
        let name = scenario_name(&s.name, &mut files, &at)?;
        let kind_name = s.kind.get_ref().as_str();
        // Fields that belong to another kind are mistakes, not options.
        let present = present_fields(&s);
        let Some(allowed) = kind_fields(kind_name) else {
            return Err(at(
                s.kind.span(),
                format!("unknown scenario kind {kind_name:?}; expected one of {}", KINDS.join(", ")),
            ));
        };
        for (field, is_present) in present {
            if is_present && !allowed.contains(&field) {
                let span = find_key(text, table_span.clone(), field).unwrap_or(table_span.clone());
                return Err(at(span, format!("`{field}` does not apply to a scenario of kind {kind_name:?}")));
            }
        }
        let key_at = |key: &str| find_key(text, table_span.clone(), key).unwrap_or(table_span.clone());
        if let Some(k) = s.profile.iter().flatten().find(|k| !PROFILE_KINDS.contains(&k.as_str())) {
            return Err(at(
                key_at("profile"),
                format!("unknown profile kind {k:?}; expected any of {}", PROFILE_KINDS.join(", ")),
            ));
        }
        let dir = s.dir.clone().unwrap_or_else(|| ".".into());
        check_inside_checkout(&dir).map_err(|m| at(key_at("dir"), m))?;
        if s.timeout.is_some_and(|t| t.0.is_zero()) {
            return Err(at(key_at("timeout"), "timeout must be longer than 0s; omit it for no limit".into()));
        }
        let env = s.env.clone().unwrap_or_default();
        let timeout = s.timeout.map(|d| d.0);
        let kind = match kind_name {
            "gobench" => {
                if let Some(bt) = &s.benchtime {
                    units::validate_benchtime(bt.get_ref()).map_err(|m| at(bt.span(), m))?;
                }
                if s.bench.as_deref().is_some_and(|b| b.trim().is_empty()) {
                    return Err(at(key_at("bench"), "bench must not be empty; use \".\" for every benchmark".into()));
                }
                let packages = s.packages.clone().unwrap_or_else(|| vec![".".into()]);
                if packages.is_empty() {
                    let span = find_key(text, table_span.clone(), "packages").unwrap_or(table_span.clone());
                    return Err(at(span, "packages must list at least one package, e.g. [\".\"]".into()));
                }
                if let Some(k) = s.profile.iter().flatten().find(|k| k.as_str() == "goroutine") {
                    return Err(at(
                        key_at("profile"),
                        format!("`go test` cannot write a {k:?} profile; use cpu, allocs, heap, mutex or block"),
                    ));
                }
                let measure = measures(&s, &key_at).map_err(|(span, m)| at(span, m))?;
                if measure.has(Measure::Instructions) && s.per_benchmark == Some(false) {
                    return Err(at(
                        key_at("per_benchmark"),
                        "measure = \"instructions\" counts each top-level benchmark in a process of its own; remove per_benchmark = false".into(),
                    ));
                }
                ScenarioKind::GoBench(GoBenchScenario {
                    measure,
                    dir,
                    profile: s.profile.clone().unwrap_or_default(),
                    packages,
                    bench: s.bench.clone().unwrap_or_else(|| ".".into()),
                    benchtime: s.benchtime.as_ref().map(|b| b.get_ref().clone()),
                    benchmem: s.benchmem.unwrap_or(true),
                    env,
                    timeout,
                    per_benchmark: s.per_benchmark.unwrap_or(true),
                })
            }
            "cargobench" => ScenarioKind::CargoBench(
                cargo_bench_scenario(&s, dir, env, timeout, &key_at).map_err(|(span, m)| at(span, m))?,
            ),
            "command" => {
                let Some(command) = s.command.clone().filter(|c| !c.trim().is_empty()) else {
                    return Err(at(s.kind.span(), "a scenario of kind \"command\" needs `command = \"...\"`".into()));
                };
                let measure = measures(&s, &key_at).map_err(|(span, m)| at(span, m))?;
                ScenarioKind::Command(CommandScenario {
                    dir,
                    command,
                    prepare: s.prepare.clone(),
                    env,
                    timeout,
                    measure,
                })
            }
            "http" => ScenarioKind::Http(http_scenario(&s, &key_at).map_err(|(span, m)| at(span, m))?),
            "idle" => {
                let trickle = match (s.rate, &s.requests) {
                    (Some(rate), Some(reqs)) => Some((rate, requests(reqs))),
                    (Some(rate), None) => Some((rate, vec![default_request()])),
                    (None, Some(_)) => {
                        return Err(at(
                            key_at("requests"),
                            "an idle trickle needs `rate` (requests per second)".into(),
                        ));
                    }
                    (None, None) => None,
                };
                if let Some((rate, _)) = &trickle {
                    bounds::rate("rate", *rate, "requests").map_err(|m| at(key_at("rate"), m))?;
                }
                load_durations(&s, &key_at).map_err(|(span, m)| at(span, m))?;
                ScenarioKind::Idle(IdleScenario {
                    duration: s.duration.map(|d| d.0).unwrap_or(Duration::from_secs(5)),
                    warmup: s.warmup.map(|d| d.0).unwrap_or(Duration::from_secs(1)),
                    trickle,
                    counters: s.counters.clone(),
                    thresholds: thresholds(&s, &key_at).map_err(|(span, m)| at(span, m))?,
                    profile: s.profile.clone().unwrap_or_default(),
                })
            }
            "websocket" => ScenarioKind::WebSocket(websocket_scenario(&s, &key_at).map_err(|(span, m)| at(span, m))?),
            other => unreachable!("kind_fields knows {other:?} but parse does not"),
        };
        let judge = match &s.judge {
            Some(j) if j.get_ref().is_empty() || j.get_ref().iter().any(|m| m.trim().is_empty()) => {
                return Err(at(j.span(), "judge must name at least one metric, e.g. judge = [\"ns/op\"]".into()));
            }
            Some(j) => Some(j.get_ref().clone()),
            None => None,
        };
        let target_env = if is_service_kind(&kind) { s.env.clone().unwrap_or_default() } else { BTreeMap::new() };
        scenarios.push(Scenario { name, kind, judge, target_env });
    }
    if scenarios.is_empty() {
        return Err(at(0..0, "no scenarios: add at least one [[scenario]] table".into()));
    }
    Ok(ScenarioFile { path: path.to_path_buf(), name: raw.name, target, compare, scenarios })
}

type KeyAt<'a> = dyn Fn(&str) -> std::ops::Range<usize> + 'a;
type Located = (std::ops::Range<usize>, String);

fn default_request() -> HttpRequest {
    HttpRequest { method: "GET".into(), path: "/".into(), headers: Vec::new(), body: None, weight: 1 }
}

fn requests(raw: &[RawRequest]) -> Vec<HttpRequest> {
    raw.iter()
        .map(|r| HttpRequest {
            method: r.method.clone().unwrap_or_else(|| "GET".into()).to_uppercase(),
            path: r.path.clone(),
            headers: r.headers.clone().unwrap_or_default().into_iter().collect(),
            body: r.body.clone(),
            weight: r.weight.unwrap_or(1),
        })
        .collect()
}

/// A `cargobench` scenario: durations above zero, names not empty.
fn cargo_bench_scenario(
    s: &RawScenario,
    dir: String,
    env: BTreeMap<String, String>,
    timeout: Option<Duration>,
    key_at: &KeyAt<'_>,
) -> Result<CargoBenchScenario, Located> {
    let benchtime = match &s.benchtime {
        Some(bt) => match parse_duration(bt.get_ref()) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                return Err((
                    bt.span(),
                    format!(
                        "benchtime {:?} is not a duration above zero, such as \"200ms\" (criterion's measurement time per round)",
                        bt.get_ref()
                    ),
                ));
            }
        },
        None => DEFAULT_CARGO_BENCHTIME,
    };
    let warmup = match s.warmup {
        Some(w) if w.0.is_zero() => {
            return Err((key_at("warmup"), "warmup must be longer than 0s (criterion needs a warm-up)".into()));
        }
        Some(w) => w.0,
        None => DEFAULT_CARGO_WARMUP,
    };
    if s.bench.as_deref().is_some_and(|b| b.trim().is_empty()) {
        return Err((key_at("bench"), "bench must not be empty; omit it for every benchmark".into()));
    }
    let blank = |v: &Option<Vec<String>>| v.iter().flatten().any(|x| x.trim().is_empty());
    if s.targets.as_ref().is_some_and(|t| t.is_empty()) || blank(&s.targets) {
        return Err((key_at("targets"), "targets must name bench targets, e.g. [\"summary\"]; omit it for all".into()));
    }
    if blank(&s.features) {
        return Err((key_at("features"), "features must not hold an empty name".into()));
    }
    if s.package.as_deref().is_some_and(|p| p.trim().is_empty()) {
        return Err((key_at("package"), "package must not be empty".into()));
    }
    Ok(CargoBenchScenario {
        dir,
        package: s.package.clone(),
        features: s.features.clone().unwrap_or_default(),
        targets: s.targets.clone().unwrap_or_default(),
        bench: s.bench.clone(),
        benchtime,
        warmup,
        env,
        timeout,
        measure: measures(s, key_at)?,
    })
}

/// `measure` and `cache_sim`: known measures, no repeats, at least one;
/// `cache_sim` only where instructions are counted.
fn measures(s: &RawScenario, key_at: &KeyAt<'_>) -> Result<Measures, Located> {
    let mut list = Vec::new();
    if let Some(m) = &s.measure {
        let words: Vec<&str> = match m.get_ref() {
            RawMeasure::One(w) => vec![w.as_str()],
            RawMeasure::Many(ws) => ws.iter().map(String::as_str).collect(),
        };
        for w in words {
            let parsed = match w {
                "time" => Measure::Time,
                "instructions" => Measure::Instructions,
                other => {
                    return Err((
                        m.span(),
                        format!("unknown measure {other:?}; expected \"time\" or \"instructions\""),
                    ));
                }
            };
            if list.contains(&parsed) {
                return Err((m.span(), format!("measure {w:?} is listed twice")));
            }
            list.push(parsed);
        }
        if list.is_empty() {
            return Err((m.span(), "measure must name at least one of \"time\", \"instructions\"".into()));
        }
    } else {
        list.push(Measure::Time);
    }
    let cache_sim = s.cache_sim.unwrap_or(false);
    if cache_sim && !list.contains(&Measure::Instructions) {
        return Err((key_at("cache_sim"), "cache_sim needs measure = \"instructions\" (or a list with it)".into()));
    }
    Ok(Measures { list, cache_sim })
}

fn thresholds(s: &RawScenario, key_at: &KeyAt<'_>) -> Result<Vec<Threshold>, Located> {
    s.thresholds.iter().flatten().map(|t| threshold::parse(t).map_err(|m| (key_at("thresholds"), m))).collect()
}

/// `"2xx"`, `"200"`, `"200-299"` → inclusive ranges.
fn status_range(text: &str) -> Result<(u16, u16), String> {
    let t = text.trim();
    if let Some(d) = t.strip_suffix("xx")
        && let Ok(h) = d.parse::<u16>()
        && (1..=5).contains(&h)
    {
        return Ok((h * 100, h * 100 + 99));
    }
    let (a, b) = t.split_once('-').unwrap_or((t, t));
    match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
        (Ok(a), Ok(b)) if (100..=599).contains(&a) && (a..=599).contains(&b) => Ok((a, b)),
        _ => Err(format!("invalid status {text:?}: write e.g. \"2xx\", \"404\" or \"200-299\"")),
    }
}

fn http_scenario(s: &RawScenario, key_at: &KeyAt<'_>) -> Result<HttpScenario, Located> {
    let model = match (s.connections, s.rate) {
        (Some(_), Some(_)) => {
            return Err((
                key_at("rate"),
                "give either `connections` (closed model) or `rate` (open model), not both".into(),
            ));
        }
        (_, Some(rate)) => {
            let rate = bounds::rate("rate", rate, "requests").map_err(|m| (key_at("rate"), m))?;
            let in_flight = s.max_in_flight.unwrap_or(1000) as u64;
            bounds::count("max_in_flight", in_flight, 1, bounds::MAX_CONNECTIONS)
                .map_err(|m| (key_at("max_in_flight"), m))?;
            LoadModel::Open { rate, max_in_flight: in_flight as u32 }
        }
        (c, None) => {
            let connections = c.unwrap_or(16);
            bounds::count("connections", connections as u64, 1, bounds::MAX_CONNECTIONS)
                .map_err(|m| (key_at("connections"), m))?;
            LoadModel::Closed { connections }
        }
    };
    if let Some(n) = s.max_requests {
        bounds::count("max_requests", n, 1, bounds::MAX_REQUESTS).map_err(|m| (key_at("max_requests"), m))?;
    }
    load_durations(s, key_at)?;
    if s.max_in_flight.is_some() && matches!(model, LoadModel::Closed { .. }) {
        return Err((key_at("max_in_flight"), "max_in_flight applies to the open model (`rate`)".into()));
    }
    let reqs = match &s.requests {
        Some(r) if r.is_empty() => return Err((key_at("requests"), "requests must list at least one request".into())),
        Some(r) => requests(r),
        None => vec![default_request()],
    };
    if reqs.iter().all(|r| r.weight == 0) {
        return Err((key_at("requests"), "at least one request needs a weight above 0".into()));
    }
    if let Some(r) = reqs.iter().find(|r| !r.path.starts_with('/')) {
        return Err((key_at("requests"), format!("request path {:?} must start with /", r.path)));
    }
    if let Some(u) = &s.url {
        crate::load::url::port_only_in_port(u).map_err(|e| (key_at("url"), e.to_string()))?;
    }
    let expect_status = match &s.expect_status {
        Some(list) => list
            .iter()
            .map(|t| status_range(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| (key_at("expect_status"), m))?,
        None => vec![(200, 399)],
    };
    let duration = s.duration.map(|d| d.0).unwrap_or(Duration::from_secs(10));
    if duration.is_zero() && s.max_requests.is_none() {
        return Err((key_at("duration"), "duration must be longer than 0s".into()));
    }
    Ok(HttpScenario {
        duration,
        warmup: s.warmup.map(|d| d.0).unwrap_or(Duration::from_secs(1)),
        max_requests: s.max_requests,
        model,
        requests: reqs,
        keepalive: s.keepalive.unwrap_or(true),
        expect_status,
        url: s.url.clone(),
        allow_remote: s.allow_remote.unwrap_or(false),
        counters: s.counters.clone(),
        thresholds: thresholds(s, key_at)?,
        profile: s.profile.clone().unwrap_or_default(),
        hdr_log: s.hdr_log.unwrap_or(false),
    })
}

fn websocket_scenario(s: &RawScenario, key_at: &KeyAt<'_>) -> Result<WebSocketScenario, Located> {
    let positive = |v: Option<f64>, key: &str, what: &str| -> Result<Option<f64>, Located> {
        v.map(|x| bounds::rate(key, x, what)).transpose().map_err(|m| (key_at(key), m))
    };
    let clients = s.clients.unwrap_or(10);
    bounds::count("clients", clients as u64, 1, bounds::MAX_CONNECTIONS).map_err(|m| (key_at("clients"), m))?;
    load_durations(s, key_at)?;
    if let Some(u) = &s.url {
        crate::load::url::port_only_in_port(u).map_err(|e| (key_at("url"), e.to_string()))?;
    }
    let path = s.path.clone().unwrap_or_else(|| "/".into());
    if !path.starts_with('/') {
        return Err((key_at("path"), format!("path {path:?} must start with /")));
    }
    let message_size = s.message_size.unwrap_or(64);
    if message_size < MIN_WS_MESSAGE {
        return Err((
            key_at("message_size"),
            format!("message_size must be at least {MIN_WS_MESSAGE} bytes (room for the sequence number)"),
        ));
    }
    bounds::count("message_size", message_size as u64, MIN_WS_MESSAGE as u64, bounds::MAX_MESSAGE)
        .map_err(|m| (key_at("message_size"), m))?;
    let duration = s.duration.map(|d| d.0).unwrap_or(Duration::from_secs(10));
    if duration.is_zero() {
        return Err((key_at("duration"), "duration must be longer than 0s".into()));
    }
    Ok(WebSocketScenario {
        duration,
        warmup: s.warmup.map(|d| d.0).unwrap_or(Duration::from_secs(1)),
        clients,
        ramp: s.ramp.map(|d| d.0).unwrap_or(Duration::ZERO),
        churn: positive(s.churn, "churn", "reconnects")?,
        rate: positive(s.rate, "rate", "messages")?,
        path,
        message_size,
        url: s.url.clone(),
        allow_remote: s.allow_remote.unwrap_or(false),
        counters: s.counters.clone(),
        thresholds: thresholds(s, key_at)?,
        profile: s.profile.clone().unwrap_or_default(),
    })
}

/// `duration`, `warmup` and `ramp` within [`bounds::MAX_DURATION`].
fn load_durations(s: &RawScenario, key_at: &KeyAt<'_>) -> Result<(), Located> {
    for (key, value) in [("duration", s.duration), ("warmup", s.warmup), ("ramp", s.ramp)] {
        if let Some(d) = value {
            bounds::duration(key, d.0).map_err(|m| (key_at(key), m))?;
        }
    }
    Ok(())
}

/// The smallest WebSocket message perfgate sends: a marker and a sequence
/// number must fit.
pub const MIN_WS_MESSAGE: u32 = 24;

/// `dir` values are relative to each variant's checkout and must stay inside
/// it: `../x` or `/abs` would measure the same (live) code for both variants.
fn check_inside_checkout(dir: &str) -> Result<(), String> {
    let p = Path::new(dir);
    if p.is_absolute() {
        return Err(format!("dir {dir:?} must be relative to the checkout, not absolute"));
    }
    if p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(format!("dir {dir:?} must stay inside the checkout (no `..`)"));
    }
    Ok(())
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Span of `key =` inside a table's span, for errors found after parsing.
fn find_key(text: &str, within: std::ops::Range<usize>, key: &str) -> Option<std::ops::Range<usize>> {
    // A table's span may cover only its header, so scan from its start to the
    // next table header.
    let region = text.get(within.start..)?;
    let mut offset = 0;
    for (i, line) in region.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if i > 0 && trimmed.starts_with('[') {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let start = within.start + offset + (line.len() - trimmed.len());
            return Some(start..start + key.len());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<ScenarioFile, String> {
        parse(Path::new("s.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn minimal_gobench_gets_defaults() {
        let f = parse_str("name = \"x\"\n[[scenario]]\nname = \"b\"\nkind = \"gobench\"\n").unwrap();
        let ScenarioKind::GoBench(g) = &f.scenarios[0].kind else { panic!("kind") };
        assert_eq!(g.packages, vec!["."]);
        assert_eq!(g.bench, ".");
        assert!(g.benchmem);
        assert_eq!(g.dir, ".");
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let err = parse_str("name = \"x\"\n[[scenario]]\nname = \"b\"\nkind = \"gobench\"\n  benchtim = \"1s\"\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:5:3: "), "{err}");
        assert!(err.contains("benchtim"), "{err}");
    }

    #[test]
    fn wrong_type_and_bad_units_are_located() {
        let err = parse_str("name = \"x\"\n[compare]\nrounds = \"six\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:3:10: "), "{err}");
        let err = parse_str("name = \"x\"\n[compare]\nthreshold = \"2\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:3:13: ") && err.contains("percent sign"), "{err}");
        let err = parse_str(
            "name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"command\"\ncommand=\"true\"\ntimeout = \"5 sec\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("s.toml:6:11: ") && err.contains("duration"), "{err}");
        let err =
            parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\nbenchtime=\"fast\"\n").unwrap_err();
        assert!(err.starts_with("s.toml:5:11: ") && err.contains("benchtime"), "{err}");
    }

    #[test]
    fn field_of_another_kind_is_an_error() {
        let err =
            parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"command\"\ncommand=\"true\"\npackages=[\".\"]\n")
                .unwrap_err();
        assert!(err.starts_with("s.toml:6:1: ") && err.contains("packages"), "{err}");
        let err = parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"grpc\"\n").unwrap_err();
        assert!(err.starts_with("s.toml:4:6: ") && err.contains("unknown scenario kind"), "{err}");
        let err = parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"command\"\n").unwrap_err();
        assert!(err.contains("needs `command"), "{err}");
    }

    #[test]
    fn design_example_validates() {
        let text = r#"
name = "dashboard"

[target]
dir   = "examples/dashboard"
build = "go build -o {build}/dashboard ."
start = "{build}/dashboard -addr 127.0.0.1:{port}"
ready = { http = "http://127.0.0.1:{port}/healthz", timeout = "60s" }
pprof   = "http://127.0.0.1:{port}/debug/pprof"
metrics = "http://127.0.0.1:{port}/metrics"
env = { GOMAXPROCS = "1" }

[compare]
rounds = 6
threshold = "2%"
candidate = { patch = "examples/dashboard/optimize.patch" }

[[scenario]]
name = "dashboard-7d"
kind = "http"
duration = "5s"
warmup = "1s"
connections = 16
requests = [{ method = "GET", path = "/api/dashboard?days=7" }]
profile = ["cpu", "heap"]
thresholds = ["p99 < 50ms", "error_rate < 0.1%"]
"#;
        let f = parse_str(text).unwrap();
        assert_eq!(f.compare.rounds, Some(6));
        assert_eq!(f.compare.threshold, Some(0.02));
        assert_eq!(f.compare.candidate, Some(CandidateSpec::Patch("examples/dashboard/optimize.patch".into())));
        let ScenarioKind::Http(h) = &f.scenarios[0].kind else { panic!("http") };
        assert_eq!(h.model, LoadModel::Closed { connections: 16 });
        assert_eq!(h.duration, Duration::from_secs(5));
        assert_eq!(h.requests[0].path, "/api/dashboard?days=7");
        assert_eq!(h.thresholds.len(), 2);
        assert_eq!(h.thresholds[0].metric, "latency_p99");
    }

    #[test]
    fn duplicate_names_and_empty_files_are_errors() {
        let err = parse_str(
            "name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("s.toml:6:6: ") && err.contains("duplicate"), "{err}");
        assert!(parse_str("name = \"x\"\n").unwrap_err().contains("no scenarios"));
        assert!(parse_str("name = \n").unwrap_err().starts_with("s.toml:1:"));
    }

    #[test]
    fn load_settings_out_of_range_are_refused_at_their_key() {
        let one = |kind: &str, extra: &str| {
            parse_str(&format!("name = \"x\"\n[[scenario]]\nname = \"b\"\nkind = \"{kind}\"\n{extra}\n")).unwrap_err()
        };
        for (kind, extra, key) in [
            ("http", "rate = 1e12", "rate"),
            ("http", "rate = 1e-300", "rate"),
            ("http", "connections = 4294967295", "connections"),
            ("http", "rate = 10\nmax_in_flight = 4294967295", "max_in_flight"),
            ("http", "duration = \"1000h\"", "duration"),
            ("websocket", "clients = 4294967295", "clients"),
            ("websocket", "message_size = 4294967295", "message_size"),
            ("websocket", "churn = 1e300", "churn"),
            ("websocket", "ramp = \"100h\"", "ramp"),
            ("idle", "rate = 1e12", "rate"),
        ] {
            let err = one(kind, extra);
            let line = 5 + extra.matches('\n').count();
            assert!(err.starts_with(&format!("s.toml:{line}:1: {key} = ")), "{kind} {extra}: {err}");
            assert!(err.contains("out of range"), "{err}");
        }
        assert!(parse_str("name = \"x\"\n[[scenario]]\nname = \"b\"\nkind = \"http\"\nrate = 1e6\n").is_ok());
    }

    #[test]
    fn port_placeholders_only_stand_for_ports() {
        let err = parse_str(
            "name = \"x\"\n[[scenario]]\nname = \"b\"\nkind = \"http\"\nurl = \"http://127.0.0.{port}:8080/\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("may only stand for the port"), "{err}");
        let err = parse_str("name = \"x\"\n[target]\nstart = \"srv\"\npprof = \"http://{port}27.0.0.1/debug/pprof\"\n[[scenario]]\nname = \"b\"\nkind = \"idle\"\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:4:1: pprof: ") && err.contains("may only stand for the port"), "{err}");
        assert!(parse_str("name = \"x\"\n[target]\nstart = \"srv\"\nmetrics = \"http://127.0.0.1:{port}/metrics\"\n[[scenario]]\nname = \"b\"\nkind = \"idle\"\n").is_ok());
    }

    #[test]
    fn names_that_cannot_be_files_are_refused_where_they_stand() {
        let one = |name: &str| parse_str(&format!("name = \"x\"\n[[scenario]]\nname = {name:?}\nkind = \"gobench\"\n"));
        let err = one("../../../../tmp/x").unwrap_err();
        assert!(err.starts_with("s.toml:3:8: ") && err.contains("path separator"), "{err}");
        assert!(one(".hidden").unwrap_err().contains("starts with"));
        let escape =
            parse_str("name = \"x\"\n[[scenario]]\nname = \"a\\u001b]52;c;eA==\\u0007\"\nkind = \"gobench\"\n");
        assert!(escape.unwrap_err().contains("control character"));
        assert!(one("GET items 7d").is_ok());
        let err = parse_str(
            "name = \"x\"\n[[scenario]]\nname=\"a b\"\nkind=\"gobench\"\n[[scenario]]\nname=\"a_b\"\nkind=\"gobench\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("s.toml:6:6: ") && err.contains("share file names"), "{err}");
    }

    #[test]
    fn dirs_must_stay_inside_the_checkout() {
        let err = parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\ndir = \"../..\"\n").unwrap_err();
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("inside the checkout"), "{err}");
        let err = parse_str("name = \"x\"\n[target]\ndir = \"/etc\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:3:1: ") && err.contains("relative"), "{err}");
        assert!(parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\ndir = \"a/./b\"\n").is_ok());
    }

    #[test]
    fn zero_timeout_and_empty_bench_are_errors() {
        let err =
            parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"command\"\ncommand=\"true\"\ntimeout=\"0s\"\n")
                .unwrap_err();
        assert!(err.starts_with("s.toml:6:1: ") && err.contains("timeout"), "{err}");
        let err = parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\nbench=\"\"\n").unwrap_err();
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("bench"), "{err}");
        let err =
            parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"gobench\"\nbenchtime=\"0s\"\n").unwrap_err();
        assert!(err.contains("benchtime"), "{err}");
    }

    #[test]
    fn http_and_idle_scenarios() {
        let text = "name = \"x\"\n[target]\nstart = \"srv {port}\"\nrestart = \"never\"\n\n[[scenario]]\nname = \"open\"\nkind = \"http\"\nrate = 500\nmax_in_flight = 64\nrequests = [{ path = \"/a\", weight = 3 }, { method = \"post\", path = \"/b\", body = \"{}\" }]\nexpect_status = [\"2xx\", \"404\"]\ncounters = [\"db_queries_total\"]\n\n[[scenario]]\nname = \"quiet\"\nkind = \"idle\"\nduration = \"3s\"\n";
        let f = parse_str(text).unwrap();
        assert_eq!(f.target.as_ref().unwrap().restart, Restart::Never);
        let ScenarioKind::Http(h) = &f.scenarios[0].kind else { panic!("http") };
        assert_eq!(h.model, LoadModel::Open { rate: 500.0, max_in_flight: 64 });
        assert_eq!(h.requests[0].weight, 3);
        assert_eq!(h.requests[1].method, "POST");
        assert_eq!(h.expect_status, vec![(200, 299), (404, 404)]);
        let ScenarioKind::Idle(i) = &f.scenarios[1].kind else { panic!("idle") };
        assert_eq!(i.duration, Duration::from_secs(3));
        assert!(i.trickle.is_none());

        let err = parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"http\"\nrate = 5\nconnections = 2\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("not both"), "{err}");
        let err = parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"http\"\nexpect_status = [\"7xx\"]\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("invalid status"), "{err}");
        let err = parse_str("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"http\"\nthresholds = [\"p99 50ms\"]\n")
            .unwrap_err();
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("comparison"), "{err}");
        let err =
            parse_str("name = \"x\"\n[target]\nrestart = \"sometimes\"\n[[scenario]]\nname=\"b\"\nkind=\"idle\"\n")
                .unwrap_err();
        assert!(err.starts_with("s.toml:3:11: ") && err.contains("sometimes"), "{err}");
    }

    #[test]
    fn websocket_scenarios_and_their_mistakes() {
        let text = "name = \"x\"\n[[scenario]]\nname = \"live\"\nkind = \"websocket\"\npath = \"/ws\"\nclients = 50\nramp = \"500ms\"\nchurn = 20\nrate = 200\nthresholds = [\"p99 < 50ms\"]\n";
        let f = parse_str(text).unwrap();
        let ScenarioKind::WebSocket(w) = &f.scenarios[0].kind else { panic!("websocket") };
        assert_eq!((w.clients, w.path.as_str(), w.churn, w.rate), (50, "/ws", Some(20.0), Some(200.0)));
        assert_eq!((w.ramp, w.message_size, w.duration), (Duration::from_millis(500), 64, Duration::from_secs(10)));
        assert_eq!(w.thresholds[0].metric, "latency_p99");

        let bad = |extra: &str| {
            parse_str(&format!("name = \"x\"\n[[scenario]]\nname=\"b\"\nkind=\"websocket\"\n{extra}\n")).unwrap_err()
        };
        let err = bad("churn = -1");
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("churn = -1 is out of range"), "{err}");
        let err = bad("clients = 0");
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("between 1 and"), "{err}");
        let err = bad("message_size = 8");
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("at least 24"), "{err}");
        let err = bad("path = \"ws\"");
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("must start with /"), "{err}");
        let err = bad("connections = 4");
        assert!(err.starts_with("s.toml:5:1: ") && err.contains("does not apply"), "{err}");
    }

    #[test]
    fn quick_shortens_windows_but_not_iteration_counts() {
        let text = "name = \"x\"\n[[scenario]]\nname=\"w\"\nkind=\"websocket\"\nramp=\"2s\"\n[[scenario]]\nname=\"g\"\nkind=\"gobench\"\nbenchtime=\"1s\"\n[[scenario]]\nname=\"n\"\nkind=\"gobench\"\nbenchtime=\"50x\"\n[[scenario]]\nname=\"i\"\nkind=\"idle\"\nduration=\"500ms\"\nwarmup=\"0s\"\n";
        let mut f = parse_str(text).unwrap();
        let changed: Vec<bool> = f.scenarios.iter_mut().map(|s| s.kind.quicken()).collect();
        assert_eq!(changed, vec![true, true, false, false]);
        let ScenarioKind::WebSocket(w) = &f.scenarios[0].kind else { panic!() };
        assert_eq!((w.warmup, w.duration, w.ramp), (QUICK_WARMUP, QUICK_WINDOW, QUICK_RAMP));
        let ScenarioKind::GoBench(g) = &f.scenarios[1].kind else { panic!() };
        assert_eq!(g.benchtime.as_deref(), Some("100ms"));
        let ScenarioKind::GoBench(g) = &f.scenarios[2].kind else { panic!() };
        assert_eq!(g.benchtime.as_deref(), Some("50x"));
    }
}
