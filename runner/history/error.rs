//! What can go wrong with a history, whichever database holds it; each
//! message says what to do.

use crate::model::Role;
use std::path::PathBuf;

/// How long SQLite waits for another process's lock before failing: a
/// nightly's write transaction takes well under a second, a checkpoint less.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// `.0` names the place: a path, or a URL without its password.
    #[error("no history at {0}; `perfgate nightly` creates it")]
    Missing(String),
    #[error("cannot create the directory {} for the history: {source}", .path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} is not a perfgate history database; pass --history with the path of one (default reports/history.sqlite) or a postgresql:// URL"
    )]
    NotHistory(String),
    #[error(
        "{at} has history schema version {found}, newer than this perfgate knows ({known}); use a newer perfgate with it"
    )]
    TooNew { at: String, found: i64, known: i64 },
    #[error(
        "the history database stayed locked for {}s (another `perfgate nightly` writing to it?); try again when it is done",
        BUSY_TIMEOUT.as_secs()
    )]
    Busy(#[source] rusqlite::Error),
    #[error(
        "{scenario}/{benchmark}/{metric} round {round}: the {variant} sample is not a number; nothing was recorded"
    )]
    NotANumber { scenario: String, benchmark: String, metric: String, variant: Role, round: u32 },
    #[error("cannot connect to the history at {at}: {source}")]
    Connect {
        at: String,
        #[source]
        source: postgres::Error,
    },
    #[error("cannot lock the history's series ({at}): {source}")]
    Lock {
        at: String,
        #[source]
        source: std::io::Error,
    },
    #[error("interrupted while waiting for another `perfgate nightly` of these scenarios")]
    Interrupted,
    /// A value in the database that no perfgate writes.
    #[error("unexpected value {0:?} in the history")]
    Corrupt(String),
    #[error("history database: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("history database: {}", postgres_message(.0))]
    Postgres(#[source] postgres::Error),
}

/// The server's own words when there are some (`postgres::Error`'s Display
/// says only "db error").
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

impl From<rusqlite::Error> for HistoryError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => HistoryError::Busy(e),
            _ => HistoryError::Sqlite(e),
        }
    }
}

impl From<postgres::Error> for HistoryError {
    fn from(e: postgres::Error) -> Self {
        HistoryError::Postgres(e)
    }
}

impl HistoryError {
    /// The user pointed at the wrong thing (or at nothing), as opposed to a
    /// database failing while it is used.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            HistoryError::Missing(_)
                | HistoryError::NotHistory(_)
                | HistoryError::TooNew { .. }
                | HistoryError::CreateDir { .. }
                | HistoryError::Connect { .. }
        )
    }
}

/// An export stops at the first failure to read the history or to write.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("cannot write the export: {0}")]
    Write(#[source] std::io::Error),
}

impl From<rusqlite::Error> for ExportError {
    fn from(e: rusqlite::Error) -> Self {
        ExportError::History(e.into())
    }
}

impl From<postgres::Error> for ExportError {
    fn from(e: postgres::Error) -> Self {
        ExportError::History(e.into())
    }
}
