//! Progress on stderr, as an observer of the execute stage (criterion's
//! `Report` shape): the rounds loop says what happens, this decides how it
//! reads. A fixed design gets a bar with ETA on a terminal and one plain line
//! per trial otherwise; a sequential run tells its story per round — how
//! many judged comparisons are settled, the widest open interval, the rounds
//! still needed — live on a terminal, and as a line every few seconds
//! otherwise.

use crate::model::Role;
use crate::results::Look;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// What the execute stage reports as it goes.
pub trait Observer {
    fn trial_started(&mut self, scenario: &str, unit: Option<&str>, round: u32, role: Role);
    fn trial_finished(&mut self);
    /// After every round of a sequential run.
    fn looked(&mut self, look: &Look);
    /// A scenario stopped taking rounds (settled, or out of budget).
    fn scenario_stopped(&mut self, scenario: &str, rounds: u32, reason: &str);
    fn note(&mut self, text: &str);
    fn done(&mut self);
}

/// Non-terminal story lines at most this often.
const STORY_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Trials planned (fixed design); `None` when the stopping rule decides.
    total: Option<u64>,
    done: u64,
    last_story: Option<Instant>,
    pending: Option<String>,
}

impl Progress {
    pub fn new(total: Option<u64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(n) => (
                    indicatif::ProgressBar::new(n),
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} trials  ETA {eta}  {msg}",
                ),
                None => (indicatif::ProgressBar::no_length(), "{spinner} [{elapsed_precise}] {pos} trials  {wide_msg}"),
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress { bar, total, done: 0, last_story: None, pending: None }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => crate::note!("{text}"),
        }
    }
}

/// "round 37 (1m12s): 12/15 judged settled; widest open: … ; ~120 more rounds (est.)"
pub fn story(look: &Look) -> String {
    let mut s = format!(
        "round {} ({}): {}/{} judged comparisons settled",
        look.round,
        crate::analyze::human_seconds(look.elapsed_s),
        look.settled,
        look.judged
    );
    if let Some(w) = &look.widest {
        s.push_str(&format!("; widest open: {w}"));
    }
    if let Some(k) = look.rounds_left {
        s.push_str(&format!("; ~{k} more round{} (est.)", if k == 1 { "" } else { "s" }));
    }
    s
}

impl Observer for Progress {
    fn trial_started(&mut self, scenario: &str, unit: Option<&str>, round: u32, role: Role) {
        let what = match unit {
            Some(u) => format!("{scenario} {u} round {round} {role}"),
            None => format!("{scenario} round {round} {role}"),
        };
        match (&self.bar, self.total) {
            (Some(bar), Some(_)) => bar.set_message(what),
            (Some(_), None) => {}
            (None, Some(total)) => crate::note!("[{}/{total}] {what}", self.done + 1),
            // A sequential run off a terminal: the story lines say enough.
            (None, None) => {}
        }
    }

    fn trial_finished(&mut self) {
        self.done += 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn looked(&mut self, look: &Look) {
        let text = story(look);
        match &self.bar {
            Some(bar) => bar.set_message(text),
            None => {
                if self.last_story.is_none_or(|t| t.elapsed() >= STORY_EVERY) {
                    crate::note!("{text}");
                    self.last_story = Some(Instant::now());
                    self.pending = None;
                } else {
                    self.pending = Some(text);
                }
            }
        }
    }

    fn scenario_stopped(&mut self, scenario: &str, rounds: u32, reason: &str) {
        let why = match reason {
            "settled" => "every judged comparison settled".to_string(),
            "max_time" => "out of time (--max-time)".to_string(),
            "max_rounds" => "out of rounds (--max-rounds)".to_string(),
            other => other.to_string(),
        };
        self.line(&format!("scenario {scenario}: stopped after {rounds} rounds: {why}"));
    }

    fn note(&mut self, text: &str) {
        self.line(text);
    }

    fn done(&mut self) {
        if let Some(text) = self.pending.take() {
            crate::note!("{text}");
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
