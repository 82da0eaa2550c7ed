//! How a correlated `EXISTS` is run on PostgreSQL: probed by index for each outer row,
//! stopping at its first match.
//!
//! PostgreSQL turns an `EXISTS` it cannot pull up as a join (under an `OR`) into a hashed
//! subplan, and one it can into a hash semi-join: either reads the whole inner table (every
//! resident of the member register, every member's status) to answer for a few hundred outer
//! rows. On the demo province that cost three to four times the probes (docs/benchmarks.md).
//! `OFFSET 0` in the subquery keeps it a subplan run per row, an index probe. SQLite probes by
//! itself, and has no `OFFSET` without `LIMIT`.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::SelectStatement;

/// Whether the subqueries of `EXISTS` are kept as per-row probes (PostgreSQL).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    keep_per_row: bool,
}

impl Probe {
    /// The way for the database behind `db`.
    pub(crate) fn of(db: &impl ConnectionTrait) -> Self {
        Self {
            keep_per_row: db.get_database_backend() == sea_orm::DatabaseBackend::Postgres,
        }
    }

    /// `q`, to be the subquery of an `EXISTS`.
    pub(crate) fn apply(self, mut q: SelectStatement) -> SelectStatement {
        if self.keep_per_row {
            q.offset(0);
        }
        q
    }
}
