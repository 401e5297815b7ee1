//! `perfgate history migrate --from A --to B`: copies every run of one
//! history into another (SQLite → PostgreSQL, or back), run by run, each
//! in its own transaction. Runs already in the target (same run id, scenario
//! set, start and commit) are skipped, so an interrupted copy resumes; a
//! target holding runs the source does not have is refused, as copied runs
//! would then sort after newer ones and become "the last nightly".

use super::{HistoryError, HistoryStore, StoredRun};
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Migrated {
    /// Runs written to the target.
    pub copied: usize,
    /// Runs the target already had.
    pub skipped: usize,
    /// Samples written.
    pub samples: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the target already holds {count} run(s) that are not in the source (the first: {first}); migrate into an empty history, or into one a previous migrate of this source filled"
    )]
    TargetHasOtherRuns { count: usize, first: String },
    #[error(transparent)]
    History(#[from] HistoryError),
}

type Identity = (String, String, String, String);

fn identity(run_id: &str, set: &str, started_at: &str, commit: &str) -> Identity {
    (run_id.into(), set.into(), started_at.into(), commit.into())
}

fn of(r: &StoredRun) -> Identity {
    identity(&r.run_id, &r.scenario_set, &r.started_at, &r.commit)
}

/// Copies `from` into `to`; `progress` hears each run copied.
pub fn migrate(
    from: &dyn HistoryStore,
    to: &mut dyn HistoryStore,
    progress: &mut dyn FnMut(&StoredRun),
) -> Result<Migrated, MigrateError> {
    let source: Vec<StoredRun> = from.runs(None)?;
    let in_source: HashSet<Identity> = source.iter().map(of).collect();
    let target = to.runs(None)?;
    let foreign: Vec<&StoredRun> = target.iter().filter(|r| !in_source.contains(&of(r))).collect();
    if let Some(first) = foreign.first() {
        return Err(MigrateError::TargetHasOtherRuns {
            count: foreign.len(),
            first: format!("{} of {}, {}", first.run_id, first.scenario_set, first.started_at),
        });
    }
    let present: HashSet<Identity> = target.iter().map(of).collect();
    let mut done = Migrated { copied: 0, skipped: 0, samples: 0 };
    let mut runs = source.iter();
    from.records(&mut |record| {
        let r = &record.run;
        let stored = runs.next();
        if present.contains(&identity(&r.run_id, &r.scenario_set, &r.started_at, &r.commit)) {
            done.skipped += 1;
            return Ok(());
        }
        to.write(&record)?;
        done.copied += 1;
        done.samples += record.samples.len();
        if let Some(s) = stored {
            progress(s);
        }
        Ok(())
    })?;
    Ok(done)
}
