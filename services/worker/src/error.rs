//! The worker's errors. A failed send is not one of them: it is recorded on its outbox row
//! (retried later, or a dead letter) and the pass goes on.

use memberflow_store::StoreError;

/// The worker's result type.
pub type Result<T, E = WorkerError> = std::result::Result<T, E>;

/// Why the worker could not be built or could not finish a pass.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// One or more cron expressions are invalid (every problem, one per line).
    #[error("invalid schedules:\n  - {}", .0.join("\n  - "))]
    Schedules(Vec<String>),
    /// The mail settings are invalid (every problem, one per line). Never contains a
    /// password.
    #[error("invalid mail configuration:\n  - {}", .0.join("\n  - "))]
    MailConfig(Vec<String>),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
}
