//! The results model: the `results.json` contract of DESIGN §7.
//! Everything perfgate reports is rendered from a `Results` value; `analyze`
//! fills `comparisons` from `samples`, and `report` only reads.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{Better, Role, Verdict};

pub const SCHEMA_VERSION: u32 = 1;

/// One run of perfgate (DESIGN §7): every run writes one, and every other
/// output (terminal table, HTML report, brief) is rendered from it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Results {
    pub schema_version: u32,
    pub tool: Tool,
    pub run: Run,
    pub environment: Environment,
    pub variants: Vec<VariantInfo>,
    pub samples: Vec<Sample>,
    pub comparisons: Vec<Comparison>,
    #[serde(default)]
    pub geomeans: Vec<Geomean>,
    #[serde(default)]
    pub profiles: Vec<Profile>,
    /// Extension: per scenario and kind, how the hotspots moved.
    #[serde(default)]
    pub profile_diffs: Vec<ProfileDiff>,
    /// Extension: per scenario and variant, the latency distribution of
    /// every measured request, all rounds merged (HDR histograms).
    #[serde(default)]
    pub latency_spectra: Vec<LatencySpectrum>,
    /// Extension: per round, what the load and the target did over the
    /// measured window (throughput, CPU, RSS over time).
    #[serde(default)]
    pub timelines: Vec<Timeline>,
    #[serde(default)]
    pub thresholds: Vec<ThresholdCheck>,
    #[serde(default)]
    pub failures: Vec<Failure>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Extension: a nightly run's place in the history (`perfgate nightly`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nightly: Option<Nightly>,
    /// Extension: the design, every look of the stopping rule, and why the run stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping: Option<Stopping>,
    /// Extension: per scenario, the MDE its comparisons reached (the noise floor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noise_floors: Vec<NoiseFloor>,
    /// Extension: a run of one variant (`perfgate run`, a first night):
    /// each metric's summary, as `compare` summarizes each side.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measured: Vec<Measured>,
    /// Extension: one block per improved or regressed metric group, in the
    /// format a performance agent reports an optimization in (findings.md).
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Extension (`[target.postgres]`): per scenario, what PostgreSQL said
    /// about each variant — its statements per request, and N+1 flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub database: Vec<DatabaseScenario>,
    /// Extension (`[target.postgres]`, profiling pass): per scenario and
    /// statement, the baseline's and the candidate's EXPLAIN ANALYZE plans
    /// compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan_diffs: Vec<PlanDiff>,
    /// The analysis's inputs besides the samples (see [`AnalysisInputs`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<AnalysisInputs>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Results {
    /// A run with nothing measured yet: what `compare` starts from.
    pub fn new(run: Run, environment: Environment, variants: Vec<VariantInfo>) -> Results {
        Results {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            run,
            environment,
            variants,
            samples: Vec::new(),
            comparisons: Vec::new(),
            geomeans: Vec::new(),
            profiles: Vec::new(),
            profile_diffs: Vec::new(),
            latency_spectra: Vec::new(),
            timelines: Vec::new(),
            thresholds: Vec::new(),
            failures: Vec::new(),
            warnings: Vec::new(),
            nightly: None,
            stopping: None,
            noise_floors: Vec::new(),
            measured: Vec::new(),
            findings: Vec::new(),
            database: Vec::new(),
            plan_diffs: Vec::new(),
            analysis: None,
        }
    }
}

impl Run {
    /// A finished-looking run for renderers' tests and benches: 8 rounds,
    /// seed 7, nothing scheduled.
    #[doc(hidden)]
    pub fn example() -> Run {
        Run {
            id: "x".into(),
            command: "perfgate compare".into(),
            started_at: "now".into(),
            finished_at: None,
            seed: 7,
            rounds: 8,
            status: "complete".into(),
            schedule: Vec::new(),
            alpha: 0.05,
            threshold_pct: 2.0,
            count_threshold_pct: None,
            scenario_files: Vec::new(),
            ..Default::default()
        }
    }
}

impl Tool {
    pub fn this() -> Tool {
        Tool { name: "perfgate".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Run {
    pub id: String,
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub seed: u64,
    /// Rounds planned per scenario.
    #[serde(default)]
    pub rounds: u32,
    /// "complete", "interrupted" or "failed".
    #[serde(default)]
    pub status: String,
    /// The randomized order of every round: which variant ran first.
    #[serde(default)]
    pub schedule: Vec<ScheduledRound>,
    /// Significance level and threshold the verdicts used.
    #[serde(default)]
    pub alpha: f64,
    #[serde(default)]
    pub threshold_pct: f64,
    /// The threshold instruction counts were judged against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_threshold_pct: Option<f64>,
    /// The scenario files the run read, as given.
    #[serde(default)]
    pub scenario_files: Vec<String>,
    /// `compare --shard I/N`: the part of the scenarios this run measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// `perfgate merge`: the runs joined into this one, in shard order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MergedRun>,
}

/// One shard of a run split over several jobs (`compare --shard I/N`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ShardInfo {
    /// 1-based.
    pub index: u32,
    pub count: u32,
    /// "durations" (balanced by an earlier run's times, `--shard-by`) or "count".
    pub split: String,
    /// The scenarios this shard ran, in file order.
    pub scenarios: Vec<String>,
    /// Every scenario of the run's files: what the shards together cover.
    pub of: Vec<String>,
}

/// A run `perfgate merge` joined: where and how it ran.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MergedRun {
    /// Its results.json's `run.id`.
    pub run_id: String,
    /// "2/3" when it was a shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub status: String,
    pub hostname: String,
    pub cpu_model: String,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub scenarios: Vec<String>,
}

/// What the analysis used besides the samples (its settings and what the
/// scenario files said of each scenario): lets `perfgate merge` analyse
/// the joined samples as one run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AnalysisInputs {
    pub config: crate::stats::CompareConfig,
    pub context: crate::analyze::Context,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ScheduledRound {
    pub scenario: String,
    /// The benchmark run as its own pair of trials, when the scenario splits
    /// its suite that way (`gobench`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub round: u32,
    pub order: Vec<Role>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    pub cores: usize,
    pub memory_bytes: u64,
    pub hostname: String,
    /// The benchmark tools' configuration lines, by scenario: Go's (goos,
    /// goarch, pkg, cpu, ...), cargobench's (rustc, cargo, harness settings)
    /// and, for counts, Valgrind's version and environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub go: Vec<GoConfig>,
    /// The noise probe run before the rounds (`perfgate doctor` runs the
    /// same one): how far two runs of the same code disagreed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<NoiseProbe>,
}

/// The noise probe: paired A/A rounds of a CPU-bound and a memory-bound
/// loop, and what their noise means for a run's verdicts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct NoiseProbe {
    /// How long the probe took.
    pub seconds: f64,
    /// The threshold the figures assume (the default, 2%).
    pub threshold_pct: f64,
    /// The rounds a default run reaches with the reference round (its
    /// 5-minute budget over `reference_round_seconds`).
    pub default_rounds: usize,
    /// The round the time estimates use: the http kind's default window and
    /// warm-up, once per variant.
    pub reference_round_seconds: f64,
    pub loops: Vec<LoopNoise>,
}

/// One probe loop's figures.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct LoopNoise {
    /// "cpu" or "memory".
    pub name: String,
    /// Paired A/A rounds measured.
    pub rounds: usize,
    /// The median trial's length, in ms.
    pub trial_ms: f64,
    /// Standard deviation of the rounds' log ratios, in percent: the CV of
    /// the ratio of two runs of the same code.
    pub paired_cv_pct: f64,
    /// The smallest change a default run (sequential rule, 2% threshold,
    /// `default_rounds` rounds) calls with 80% power at this noise; null
    /// when none would be.
    pub mde_pct: Option<f64>,
    /// Rounds until a 5% change is called with 80% power (null: more than
    /// the default 500).
    pub rounds_for_5pct: Option<usize>,
    /// The same for a 10% change.
    pub rounds_for_10pct: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GoConfig {
    pub scenario: String,
    pub variant: Role,
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VariantInfo {
    pub role: Role,
    /// What the user asked for: a revision, "working tree", or "<rev> + <patch>".
    pub rev: String,
    pub commit: String,
    pub tree: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Sample {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub variant: Role,
    pub round: u32,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SideSummary {
    pub n: usize,
    pub median: f64,
    /// `null` when the sample is too small for a bounded interval.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub mean: f64,
    pub stddev: f64,
    pub cv: f64,
    #[serde(default)]
    pub min: f64,
    #[serde(default)]
    pub max: f64,
}

impl From<&crate::stats::Summary> for SideSummary {
    fn from(s: &crate::stats::Summary) -> SideSummary {
        SideSummary {
            n: s.n,
            median: s.median,
            ci_low: s.ci_low,
            ci_high: s.ci_high,
            mean: s.mean,
            stddev: s.stddev,
            cv: s.cv,
            min: s.min,
            max: s.max,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Comparison {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub baseline: SideSummary,
    pub candidate: SideSummary,
    pub delta_pct: f64,
    pub delta_ci_low_pct: Option<f64>,
    pub delta_ci_high_pct: Option<f64>,
    pub p_value: Option<f64>,
    pub q_value: Option<f64>,
    /// "wilcoxon-signed-rank" (paired rounds), "sequential-sign", "mann-whitney-u", or
    /// "exact" (counts that repeat, to within 0.01%: no test needed, the
    /// interval is the range of ratios).
    pub test: String,
    pub mde_pct: Option<f64>,
    pub verdict: Verdict,
    /// Noise and sample-size warnings that belong next to this row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Sequential rule: the e-value against "no change" when the scenario
    /// stopped (`p_value` is 1/e).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_value: Option<f64>,
    /// In the multiple-testing family: its test can reach α at its n.
    /// Comparisons that cannot (no variation at all, too few informative
    /// rounds) are left out and their q-value is their p-value.
    #[serde(default = "yes")]
    pub in_family: bool,
    /// Its verdict held a sequential run open (the scenario's `judge` metrics).
    #[serde(default)]
    pub judged: bool,
    /// An inconclusive row: why it stayed open and what would settle it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsettled: Option<Unsettled>,
}

fn yes() -> bool {
    true
}

/// Why a comparison is still open at the end of the run, and what it would need.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Unsettled {
    /// Rounds per side its interval would likely need (extrapolated from
    /// this run's noise) to clear zero with a change of at least the
    /// threshold, or to fit within ±threshold; `null` when more than
    /// `more_than`, or when it cannot be told.
    pub rounds_needed: Option<u32>,
    /// Set when the estimate ran past this many rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_than: Option<u32>,
    /// Measurement time those rounds would take at this run's pace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_needed: Option<f64>,
    /// In words: the interval reached (the noise) and what it would take
    /// (the budget).
    pub why: String,
}

/// Extension: the design of the run, every look the stopping rule took,
/// and why the run stopped.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Stopping {
    /// "fixed" (`--rounds N`) or "sequential" (rounds until settled).
    pub rule: String,
    /// The statistics behind the verdicts, in words.
    pub method: String,
    /// Fixed design: the rounds planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<u32>,
    /// Sequential design: the budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_rounds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rounds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time_s: Option<f64>,
    /// Why the run stopped: "settled" (every judged comparison decided),
    /// "max_time", "max_rounds", "rounds" (a fixed design's rounds done),
    /// "interrupted" or "failed".
    pub reason: String,
    /// Seconds spent in measured rounds (builds and profiling excluded).
    pub measured_s: f64,
    /// Per scenario: rounds run and why it stopped.
    pub scenarios: Vec<ScenarioStop>,
    /// Sequential design: the state after every round.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub looks: Vec<Look>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ScenarioStop {
    pub scenario: String,
    pub rounds: u32,
    /// "settled", "max_time", "max_rounds", "rounds", "interrupted" or "failed".
    pub reason: String,
    /// Measurement time of its rounds, and per round (both variants).
    pub seconds: f64,
    pub seconds_per_round: f64,
}

/// The stopping rule's view after one round.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Look {
    pub round: u32,
    /// Measurement seconds so far.
    pub elapsed_s: f64,
    /// Judged comparisons, and how many of them were settled.
    pub judged: usize,
    pub settled: usize,
    /// The open judged comparison with the widest interval, e.g.
    /// "dashboard-7d latency_p99 +3.1% [-4.2, +9.8]".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widest: Option<String>,
    /// Rounds the open judged comparisons would likely still need (the most of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds_left: Option<u32>,
    /// Scenarios still running after this round.
    pub open_scenarios: Vec<String>,
}

/// How small a change one scenario's noise let the run detect.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct NoiseFloor {
    pub scenario: String,
    /// Comparisons, those with an MDE, and those left inconclusive.
    pub metrics: usize,
    pub with_mde: usize,
    pub inconclusive: usize,
    /// Median and largest MDE over the comparisons that have one (percent).
    pub median_mde_pct: Option<f64>,
    pub max_mde_pct: Option<f64>,
}

/// A metric measured on one variant without anything to compare it with
/// (`perfgate run`, a nightly's first night): its own summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Measured {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub variant: Role,
    pub summary: SideSummary,
}

/// Geometric mean of per-benchmark ratios, per scenario and metric/unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Geomean {
    pub scenario: String,
    pub metric: String,
    pub unit: String,
    pub benchmarks: usize,
    pub baseline: f64,
    pub candidate: f64,
    pub delta_pct: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Profile {
    pub scenario: String,
    pub variant: Role,
    pub kind: String,
    pub path: String,
    pub top: Vec<ProfileEntry>,
    /// Which value the top ranks (`cpu`, `alloc_space`, ...), its unit, and
    /// the total the percentages are of.
    #[serde(default)]
    pub sample_type: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub total: f64,
    /// The variant's flame graph (SVG), relative to the output directory.
    #[serde(default)]
    pub flame_graph: Option<String>,
}

/// Candidate minus baseline per function for one scenario and profile kind,
/// as `go tool pprof -top -diff_base` reports it (percentages of the
/// baseline's total), with the differential flame graph.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProfileDiff {
    pub scenario: String,
    pub kind: String,
    pub sample_type: String,
    pub unit: String,
    pub baseline_total: f64,
    pub top: Vec<ProfileEntry>,
    #[serde(default)]
    pub flame_graph: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProfileEntry {
    pub function: String,
    pub file: String,
    pub line: u32,
    pub flat: f64,
    pub flat_pct: f64,
    pub cum: f64,
    pub cum_pct: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdCheck {
    pub scenario: String,
    pub variant: Role,
    pub expr: String,
    /// The metric the expression checks, and its unit.
    #[serde(default)]
    pub metric: String,
    #[serde(default)]
    pub unit: String,
    /// Median of the variant's samples; `null` if the metric was never measured.
    pub observed: Option<f64>,
    pub passed: bool,
}

/// A round that could not be measured, kept so nobody mistakes a gap for data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Failure {
    pub scenario: String,
    pub variant: Role,
    pub round: u32,
    pub message: String,
}

/// Latency at a ladder of percentiles, read from a merged HDR histogram
/// (3 significant figures).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct LatencySpectrum {
    pub scenario: String,
    pub variant: Role,
    /// What was timed: "request" (HTTP) or "round_trip" (WebSocket echo).
    pub what: String,
    /// Responses the histogram holds, and over how many rounds.
    pub count: u64,
    pub rounds: u32,
    pub points: Vec<PercentilePoint>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PercentilePoint {
    /// 0..=100.
    pub percentile: f64,
    pub seconds: f64,
}

/// One round's measured window over time; `t` is seconds since the window
/// started. Series the scenario does not have are empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Timeline {
    pub scenario: String,
    pub variant: Role,
    pub round: u32,
    /// Completed requests per second, per 100 ms step.
    #[serde(default)]
    pub throughput: Vec<TimePoint>,
    /// CPU cores the target's process tree used, between sampler readings.
    #[serde(default)]
    pub cpu_cores: Vec<TimePoint>,
    /// Resident memory of the target's process tree, in bytes.
    #[serde(default)]
    pub rss_bytes: Vec<TimePoint>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TimePoint {
    pub t: f64,
    pub value: f64,
}

/// The percentiles a spectrum is read at: dense where tails live.
pub const SPECTRUM_PERCENTILES: [f64; 22] = [
    0.0, 10.0, 25.0, 50.0, 75.0, 80.0, 90.0, 95.0, 97.5, 98.0, 99.0, 99.5, 99.75, 99.8, 99.9, 99.95, 99.975, 99.99,
    99.995, 99.999, 99.9999, 100.0,
];

/// Reads a spectrum from a histogram of nanoseconds.
pub fn spectrum_points(h: &hdrhistogram::Histogram<u64>) -> Vec<PercentilePoint> {
    if h.is_empty() {
        return Vec::new();
    }
    SPECTRUM_PERCENTILES
        .iter()
        .map(|&p| {
            let ns = if p >= 100.0 {
                h.max()
            } else if p <= 0.0 {
                h.min()
            } else {
                h.value_at_quantile(p / 100.0)
            };
            PercentilePoint { percentile: p, seconds: ns as f64 / 1e9 }
        })
        .collect()
}

/// What a nightly run found in the history it joined.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Nightly {
    /// The history database, as given.
    pub history: String,
    /// The nightly this one ran against (its baseline); `None` the first night.
    pub previous: Option<PreviousNight>,
    /// Nights in the history with this one, for this scenario set.
    pub nights: usize,
    /// Change points among the most recent nights (all of them are in trend.html).
    pub change_points: Vec<NightlyChangePoint>,
    /// Metrics whose chained night-to-night change over the recent nights
    /// is significant and at least the threshold.
    pub drifts: Vec<NightlyDrift>,
    /// The trend report, relative to the output directory.
    pub trend: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PreviousNight {
    pub run_id: String,
    pub revision: String,
    pub commit: String,
    pub started_at: String,
    /// Its output directory (report.html), as recorded.
    pub report_dir: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct NightlyChangePoint {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub better: Better,
    /// The change happened after `from_commit` (the night before) and by
    /// `to_commit` (the first night after it).
    pub from_commit: String,
    pub to_commit: String,
    pub started_at: String,
    /// Mean of the nightly medians before and after.
    pub before: f64,
    pub after: f64,
    pub magnitude_pct: f64,
    pub p_value: f64,
    /// The change went the bad way for this metric.
    pub regressed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct NightlyDrift {
    pub scenario: String,
    pub benchmark: String,
    pub metric: String,
    pub unit: String,
    pub nights: usize,
    pub from_commit: String,
    pub to_commit: String,
    pub change_pct: f64,
    pub ci_low_pct: f64,
    pub ci_high_pct: f64,
    pub regressed: bool,
}

/// One improved or regressed metric group (a benchmark of a suite, or a load
/// scenario): every measured line of an optimization report, filled from
/// the run. The cause and the fix are the agent's to write; perfgate leaves
/// them empty rather than guess.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Finding {
    pub scenario: String,
    pub benchmark: String,
    /// The scenario's kind (`http`, `gobench`, ...) and what it drove, e.g.
    /// "GET /api/dashboard?days=7, 16 connections".
    pub kind: String,
    pub what: String,
    /// `improved` or `regressed`: regressed if any judged headline metric of
    /// the group regressed.
    pub verdict: Verdict,
    pub impact: Impact,
    /// Where the time moved, from the scenario's profile diff (candidate −
    /// baseline), the checkout's own code first; empty when not profiled.
    pub locations: Vec<Location>,
    /// Baseline (current) and candidate (measured) figures of the group.
    pub figures: Vec<Figure>,
    /// What the database said about the scenario (`[target.postgres]`):
    /// statements per request, N+1 flags, plan changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub database: Vec<String>,
    /// Always `null`: for the agent to write from the code.
    pub cause: Option<String>,
    pub proposed_fix: Option<String>,
    pub verification: Verification,
}

/// The measured size of a finding: the headline change and its level
/// (High ≥ 50% or ×2, Medium ≥ 10%, else Low, by the change's magnitude).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Impact {
    pub level: String,
    pub metric: String,
    pub unit: String,
    pub delta_pct: f64,
    pub delta_ci_low_pct: Option<f64>,
    pub delta_ci_high_pct: Option<f64>,
    /// How many times better (> 1) or worse (< 1) the candidate is on
    /// `metric`: baseline/candidate for lower-is-better metrics; `None`
    /// when a side is 0 (no ratio).
    pub factor: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Location {
    pub function: String,
    /// Relative to the checkout when the code is the checkout's own.
    pub file: String,
    pub line: u32,
    /// The profile it came from (`cpu`, `heap`, ...), its sample type and unit.
    pub profile: String,
    pub sample_type: String,
    pub unit: String,
    /// Candidate − baseline, and in % of the baseline's total.
    pub cum_delta: f64,
    pub cum_delta_pct: f64,
    pub flat_delta: f64,
    pub flat_delta_pct: f64,
}

/// One metric of a finding, both sides with their 95% intervals.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Figure {
    pub metric: String,
    pub unit: String,
    pub better: Better,
    pub baseline: f64,
    pub baseline_ci: (Option<f64>, Option<f64>),
    pub candidate: f64,
    pub candidate_ci: (Option<f64>, Option<f64>),
    pub delta_pct: f64,
    pub delta_ci_low_pct: Option<f64>,
    pub delta_ci_high_pct: Option<f64>,
    pub verdict: Verdict,
}

/// What the run measured for a finding, and what it did not.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Verification {
    pub ran: Vec<String>,
    pub not_run: Vec<String>,
}

/// What PostgreSQL's statistics say about one scenario's windows, both
/// variants, all rounds pooled (sums of calls over sums of requests).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct DatabaseScenario {
    pub scenario: String,
    /// `request` when the windows had requests, else `second`: what the
    /// `*_per` figures are per.
    pub per: String,
    /// The database: "managed PostgreSQL 15.10", or external.
    pub server: String,
    pub baseline: Option<DatabaseTotals>,
    pub candidate: Option<DatabaseTotals>,
    /// Every statement either variant ran in a window, the most time first.
    pub statements: Vec<DatabaseStatement>,
    /// Statements run once per item of another statement's result.
    pub n_plus_one: Vec<NPlusOne>,
    /// Why some windows have no statistics (e.g. no pg_stat_statements).
    pub errors: Vec<String>,
}

/// One variant's totals over its windows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct DatabaseTotals {
    /// Windows with statistics, and their requests and seconds in all.
    pub windows: u32,
    pub requests: u64,
    pub seconds: f64,
    /// `None` without pg_stat_statements.
    pub statements_per: Option<f64>,
    pub time_per_ms: Option<f64>,
    pub commits_per: f64,
    pub commits_per_second: f64,
    /// The most connections open at once in any window.
    pub peak_connections: Option<i64>,
}

/// One normalized statement, both variants.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct DatabaseStatement {
    /// As pg_stat_statements normalizes it (`$1` for constants).
    pub query: String,
    /// The benchmark name of its metrics (`sql: …`).
    pub label: String,
    pub baseline: Option<StatementFigures>,
    pub candidate: Option<StatementFigures>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct StatementFigures {
    pub calls_per: f64,
    pub time_per_ms: f64,
    pub mean_time_ms: f64,
    pub rows_per_call: f64,
    pub blocks_hit_per: f64,
    pub blocks_read_per: f64,
}

/// An N+1 pattern: `query` ran `calls_per_request` times per request, as
/// many times as `parent` returned rows — once per item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct NPlusOne {
    pub variant: Role,
    pub query: String,
    pub calls_per_request: f64,
    pub parent: String,
    pub parent_rows_per_request: f64,
}

/// One statement's plans in the profiling pass, baseline against candidate.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PlanDiff {
    pub scenario: String,
    /// The baseline's statement (the candidate's when only it has one).
    pub query: String,
    /// The candidate's statement when it is a different one (a rewritten
    /// query, paired with the baseline's by the tables both read).
    pub candidate_query: Option<String>,
    pub baseline: Option<PlanSummary>,
    pub candidate: Option<PlanSummary>,
    /// E.g. "Seq Scan on points → Index Scan using points_series_ts on points".
    pub changes: Vec<String>,
}

/// A statement's plans in one variant: the one shown is the most common
/// shape's median execution.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PlanSummary {
    /// Plans captured for the statement, how many have the shape shown,
    /// and the others' shapes ("40× Seq Scan on points").
    pub plans: u32,
    pub same_shape: u32,
    pub other_shapes: Vec<String>,
    /// The mean execution time of all of them, and the shown one's.
    pub mean_time_ms: f64,
    pub shown_ms: f64,
    /// Every node, depth first: "Seq Scan on points".
    pub nodes: Vec<PlanNode>,
    /// Sequential scans over many rows, row estimates off by 10× or more.
    pub flags: Vec<String>,
    /// The plan as JSON and as text, under the run's `plans/`.
    pub json: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PlanNode {
    pub depth: u32,
    /// "Seq Scan", "Index Scan", ...
    pub node_type: String,
    pub relation: Option<String>,
    pub index: Option<String>,
    pub plan_rows: f64,
    /// Rows per loop, as EXPLAIN reports them, and the loops.
    pub actual_rows: f64,
    pub loops: f64,
    /// Rows a filter removed (per loop).
    pub rows_removed: f64,
    pub shared_hit: i64,
    pub shared_read: i64,
    pub total_time_ms: f64,
}
