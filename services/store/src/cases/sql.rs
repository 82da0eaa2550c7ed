//! The statements every step sends, written out once per database instead of built by
//! sea-query on each step: building them (the select's column list, the expressions, the
//! parameters' text) was a sixth of the server's instructions per step. They go through
//! sea-orm as any other statement (`Statement` with sea-query's typed values, so the same
//! parameter types as before); the new snapshot is bound as its text (cast to `json` on
//! PostgreSQL), and the locked row is decoded by position ([`case_of_row`]).
//!
//! Each is written for PostgreSQL (`$1` parameters); the SQLite text is derived from it on
//! first use (`?1` parameters, without `FOR UPDATE` and the `::json` casts, which SQLite has
//! no use for: its write lock is the transaction's, and JSON is text).

use std::sync::OnceLock;

use sea_orm::{DbBackend, DbErr, QueryResult, Statement, Value};

use crate::entity::cases;

/// A statement's text for each database.
pub(super) struct Sql {
    postgres: &'static str,
    sqlite: OnceLock<String>,
}

impl Sql {
    const fn new(postgres: &'static str) -> Self {
        Self {
            postgres,
            sqlite: OnceLock::new(),
        }
    }

    /// The text for `backend`.
    pub(super) fn text(&self, backend: DbBackend) -> &str {
        match backend {
            DbBackend::Postgres => self.postgres,
            // SQLite: the only other database the store is built for.
            _ => self.sqlite.get_or_init(|| for_sqlite(self.postgres)),
        }
    }

    /// The statement with its parameters' values, in order.
    pub(super) fn with<const N: usize>(&self, backend: DbBackend, values: [Value; N]) -> Statement {
        Statement::from_sql_and_values(backend, self.text(backend), values)
    }
}

fn for_sqlite(postgres: &str) -> String {
    postgres
        .replace(" FOR UPDATE", "")
        .replace("::json", "")
        .replace('$', "?")
}

/// The case, locked for the step (`cases::Model`'s columns).
pub(super) static LOCK_CASE: Sql = Sql::new(
    "SELECT \"id\", \"definition_id\", \"definition_version\", \"unit_id\", \
     \"subject_member_id\", \"title\", \"state\", \"version\", \"terminal\", \"snapshot\", \
     \"next_due\", \"created_at\", \"updated_at\" FROM \"cases\" WHERE \"id\" = $1 LIMIT 1 \
     FOR UPDATE",
);

/// The case of a row of [`LOCK_CASE`], its columns taken by position (by name, each column
/// costs a lookup of its name in the row's columns).
pub(super) fn case_of_row(row: &QueryResult) -> Result<cases::Model, DbErr> {
    Ok(cases::Model {
        id: row.try_get_by_index(0)?,
        definition_id: row.try_get_by_index(1)?,
        definition_version: row.try_get_by_index(2)?,
        unit_id: row.try_get_by_index(3)?,
        subject_member_id: row.try_get_by_index(4)?,
        title: row.try_get_by_index(5)?,
        state: row.try_get_by_index(6)?,
        version: row.try_get_by_index(7)?,
        terminal: row.try_get_by_index(8)?,
        snapshot: row.try_get_by_index(9)?,
        next_due: row.try_get_by_index(10)?,
        created_at: row.try_get_by_index(11)?,
        updated_at: row.try_get_by_index(12)?,
    })
}

/// The stepped case, whose row the step's transaction locked when it read it (so the version
/// replaced is the one read): state, version, terminal, snapshot, next due, updated at; id.
pub(super) static UPDATE_STEPPED: Sql = Sql::new(
    "UPDATE \"cases\" SET \"state\" = $1, \"version\" = $2, \"terminal\" = $3, \
     \"snapshot\" = $4::json, \"next_due\" = $5, \"updated_at\" = $6 \
     WHERE \"id\" = $7",
);

/// The sequence number and hash of a case's last event.
pub(super) static LAST_LINK: Sql = Sql::new(
    "SELECT \"seq\", \"hash\" FROM \"case_event\" WHERE \"case_id\" = $1 \
     ORDER BY \"seq\" DESC LIMIT 1",
);

/// The sequence number and hash of a row of [`LAST_LINK`].
pub(super) fn link_of_row(row: &QueryResult) -> Result<(i64, String), DbErr> {
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

/// An event of a case's history, in the order of `case_event`'s columns (its id left to the
/// database).
pub(super) static INSERT_EVENT: Sql = Sql::new(
    "INSERT INTO \"case_event\" (\"case_id\", \"seq\", \"kind\", \"transition\", \"actor\", \
     \"inputs\", \"from_state\", \"to_state\", \"rule_set\", \"definition_version\", \
     \"payload\", \"idempotency_key\", \"effective_date\", \"occurred_at\", \"prev_hash\", \
     \"hash\", \"registry_facts\") \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_text_has_numbered_parameters_and_no_postgresql_only_clause() {
        assert_eq!(
            UPDATE_STEPPED.text(DbBackend::Sqlite),
            "UPDATE \"cases\" SET \"state\" = ?1, \"version\" = ?2, \"terminal\" = ?3, \
             \"snapshot\" = ?4, \"next_due\" = ?5, \"updated_at\" = ?6 \
             WHERE \"id\" = ?7"
        );
        assert!(
            LOCK_CASE
                .text(DbBackend::Postgres)
                .ends_with("LIMIT 1 FOR UPDATE")
        );
        assert!(LOCK_CASE.text(DbBackend::Sqlite).ends_with("LIMIT 1"));
        assert!(INSERT_EVENT.text(DbBackend::Sqlite).contains("?16, ?17)"));
    }
}
