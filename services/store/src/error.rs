//! The store's errors: what went wrong in words a client can be shown, or a database
//! failure that is logged and reported as internal.

use memberflow_workflow::text::Text;
use memberflow_workflow::tree::TreeRefusal;
use sea_orm::DbErr;

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store command or query failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("not found: {what} {key}")]
    NotFound {
        /// What kind of thing, in English (`unit`, `member`).
        what: &'static str,
        /// The key it was looked up by.
        key: String,
    },
    /// The input breaks a rule; nothing was written.
    #[error("invalid input: {}", .0.first().map_or("", |t| t.en.as_str()))]
    Validation(Vec<Text>),
    /// The input clashes with the current state; nothing was written.
    #[error("conflict: {}", .0.en)]
    Conflict(Text),
    /// The command lost a race with a concurrent one (a version moved, a lock or a
    /// serialization failure): the store tries such a command again a few times, and reports
    /// this (as a conflict) only when every attempt lost.
    #[error("contended: {}", .0.en)]
    Contended(Text),
    /// An idempotency key was sent again with another request (another case, transition,
    /// inputs or caller): nothing was written.
    #[error("idempotency key reused: {}", .0.en)]
    IdempotencyKeyReused(Text),
    /// The credentials are wrong (the same error whether the name or the password is).
    #[error("unauthenticated: {}", .0.en)]
    Unauthenticated(Text),
    /// The database could not be reached: which host, and why, in both languages.
    #[error("{}", .0.en)]
    Unreachable(Text),
    /// The database could not be reached.
    #[error("cannot connect to the database")]
    Connect(#[source] DbErr),
    /// The database failed.
    #[error("database error")]
    Database(#[from] DbErr),
}

impl From<TreeRefusal> for StoreError {
    fn from(r: TreeRefusal) -> Self {
        if r.code == "CONFLICT" {
            StoreError::Conflict(r.reason)
        } else {
            StoreError::Validation(vec![r.reason])
        }
    }
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, key: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            key: key.to_string(),
        }
    }

    pub(crate) fn validation(vi: impl Into<String>, en: impl Into<String>) -> Self {
        StoreError::Validation(vec![Text::new(vi, en)])
    }

    pub(crate) fn conflict(vi: impl Into<String>, en: impl Into<String>) -> Self {
        StoreError::Conflict(Text::new(vi, en))
    }
}
