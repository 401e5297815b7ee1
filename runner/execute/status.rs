//! A run's live status as a small JSON file (`compare --status-file F`),
//! rewritten atomically as the stages report: how another process (the MCP
//! server that started the run) follows it without parsing progress text.
//! The run's exit code, not this file, says how it ended.

use super::progress::Observer;
use crate::model::Role;
use crate::results::Look;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Rewrites at most this often between state changes and looks.
const EVERY: Duration = Duration::from_millis(250);

/// The file's contents (**contract** with `mcp`): additive only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Status {
    /// `planning`, `building`, `measuring`, `profiling`, `writing`.
    pub state: String,
    /// Where results.json will be written.
    pub out_dir: String,
    /// The round being measured (the highest started so far).
    pub round: u32,
    /// Trials finished (one variant of one scenario, or of one benchmark).
    pub trials: u64,
    /// Judged comparisons and how many are settled, at the last look.
    pub judged: usize,
    pub settled: usize,
    pub widest: Option<String>,
    pub rounds_left: Option<u32>,
    /// Seconds since measurement started (builds excluded).
    pub measuring_s: f64,
    /// Scenarios that stopped taking rounds: "name: reason after N rounds".
    pub stopped: Vec<String>,
}

pub struct StatusFile {
    path: PathBuf,
    status: Status,
    measuring_since: Option<Instant>,
    last_write: Option<Instant>,
}

impl StatusFile {
    pub fn new(path: &Path, out_dir: &Path) -> StatusFile {
        let status = Status { out_dir: out_dir.display().to_string(), ..Status::default() };
        StatusFile { path: path.to_path_buf(), status, measuring_since: None, last_write: None }
    }

    pub fn set_state(&mut self, state: &str) {
        if state == "measuring" && self.measuring_since.is_none() {
            self.measuring_since = Some(Instant::now());
        }
        self.status.state = state.to_string();
        self.write(true);
    }

    fn write(&mut self, now: bool) {
        if !now && self.last_write.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        if let Some(t) = self.measuring_since {
            self.status.measuring_s = t.elapsed().as_secs_f64();
        }
        self.last_write = Some(Instant::now());
        if let Ok(bytes) = serde_json::to_vec(&self.status) {
            // Best effort: a status file that cannot be written must not stop the run.
            let _ = crate::report::json::write_atomically(&self.path, &bytes);
        }
    }
}

/// Reads a status file; `None` while it does not exist or is being replaced.
pub fn read(path: &Path) -> Option<Status> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Passes every event to `inner` (the progress on stderr) and keeps the
/// status file current.
pub struct Tee<'a> {
    pub inner: &'a mut dyn Observer,
    pub status: Option<&'a mut StatusFile>,
}

impl Observer for Tee<'_> {
    fn trial_started(&mut self, scenario: &str, unit: Option<&str>, round: u32, role: Role) {
        self.inner.trial_started(scenario, unit, round, role);
        if let Some(s) = self.status.as_deref_mut() {
            s.status.round = s.status.round.max(round);
            s.write(false);
        }
    }

    fn trial_finished(&mut self) {
        self.inner.trial_finished();
        if let Some(s) = self.status.as_deref_mut() {
            s.status.trials += 1;
            s.write(false);
        }
    }

    fn looked(&mut self, look: &Look) {
        self.inner.looked(look);
        if let Some(s) = self.status.as_deref_mut() {
            s.status.judged = look.judged;
            s.status.settled = look.settled;
            s.status.widest = look.widest.clone();
            s.status.rounds_left = look.rounds_left;
            s.write(true);
        }
    }

    fn scenario_stopped(&mut self, scenario: &str, rounds: u32, reason: &str) {
        self.inner.scenario_stopped(scenario, rounds, reason);
        if let Some(s) = self.status.as_deref_mut() {
            s.status.stopped.push(format!("{scenario}: {reason} after {rounds} rounds"));
            s.write(true);
        }
    }

    fn note(&mut self, text: &str) {
        self.inner.note(text);
    }

    fn done(&mut self) {
        self.inner.done();
        if let Some(s) = self.status.as_deref_mut() {
            s.set_state("profiling");
        }
    }
}
