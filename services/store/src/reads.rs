//! What the store reads outside write transactions goes through [`Reads`]: on SQLite sea-orm's
//! pool, on PostgreSQL a connection of the store's own ([`Conns`], conns.rs) for each
//! statement, given back idle without the round trip sqlx's pool makes after every use.
//!
//! A read (a `SELECT`, or a `WITH` that writes nothing) that finds its idle connection lost
//! meanwhile (the server's `FATAL` word waiting on it: `pg_terminate_backend`, a restart, an
//! idle-session limit; or the link failing) is sent again on a new connection, so that a
//! restart of PostgreSQL costs the reads nothing. Any other statement fails as it would have
//! (an `UPDATE` is never sent twice: it may have been applied before the link failed).

use std::sync::Arc;

use sea_orm::sqlx::{self, PgConnection};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use tokio::sync::OwnedSemaphorePermit;

use crate::conns::{Conns, Slot, lost};
use crate::loader::{BulkWrite, bound, exec_err, query_err};

/// The store's reads: sea-orm's pool, or on PostgreSQL the reads' own connections.
#[derive(Debug, Clone)]
pub(crate) struct Reads {
    sea: DatabaseConnection,
    pg: Option<Arc<Conns>>,
}

impl Reads {
    /// Reads through `sea`, or through `pg` when given (PostgreSQL).
    pub(crate) fn new(sea: DatabaseConnection, pg: Option<Arc<Conns>>) -> Self {
        Self { sea, pg }
    }

    /// sea-orm's pool (its own connections: migrations, bulk loads, `LISTEN`, the pool's
    /// figures on SQLite).
    pub(crate) fn sea(&self) -> &DatabaseConnection {
        &self.sea
    }

    /// The reads' own connections (PostgreSQL).
    pub(crate) fn conns(&self) -> Option<&Arc<Conns>> {
        self.pg.as_ref()
    }
}

/// A connection of [`Conns`] for one statement, given back when dropped.
struct Lease {
    slot: Option<Slot>,
    permit: Option<OwnedSemaphorePermit>,
    conns: Arc<Conns>,
}

impl Lease {
    /// A connection (the idle one used last unless `fresh`, or a new one), within the wait.
    async fn take(conns: &Arc<Conns>, fresh: bool) -> Result<Self, DbErr> {
        conns
            .within_wait(async {
                let permit = conns.permit().await?;
                let slot = conns.connection(fresh).await?;
                Ok(Self {
                    slot: Some(slot),
                    permit: Some(permit),
                    conns: Arc::clone(conns),
                })
            })
            .await
    }

    fn slot(&mut self) -> Result<&mut Slot, DbErr> {
        self.slot
            .as_mut()
            .ok_or_else(|| DbErr::Custom("the read connection is gone".into()))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.conns.give_back(slot, self.permit.take());
        }
    }
}

/// Runs one statement (`$sql`, its text; `$conn => future`) on a connection of `$conns`: the
/// connection marked unsettled while it runs and settled by its outcome, so that one left
/// mid-statement is never reused; a statement that only reads ([`only_reads`]) and finds its
/// idle connection lost is sent again on a new one. Evaluates to the statement's result.
macro_rules! on_lease {
    ($conns:expr, $sql:expr, $conn:ident => $run:expr) => {{
        let mut fresh = false;
        loop {
            let mut lease = Lease::take($conns, fresh).await?;
            let slot = lease.slot()?;
            slot.settled = false;
            let result = {
                let $conn: &mut PgConnection = &mut slot.conn;
                $run.await
            };
            slot.settle(&result);
            match result {
                Err(e) if slot.reused && !fresh && lost(&e) && only_reads($sql) => {
                    tracing::debug!(error = %e, "an idle read connection was lost; reading again");
                    fresh = true;
                }
                other => break other,
            }
        }
    }};
}

/// Whether `sql` only reads, so that sending it again changes nothing: a `SELECT`, or a `WITH`
/// whose words name no write (`INSERT`, `UPDATE`, `DELETE`, `MERGE`; a quoted name such as
/// `"updated_at"` is one word of its own).
fn only_reads(sql: &str) -> bool {
    let mut words = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    match words.next() {
        Some(w) if w.eq_ignore_ascii_case("select") => true,
        Some(w) if w.eq_ignore_ascii_case("with") => !words.any(|w| {
            ["insert", "update", "delete", "merge"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k))
        }),
        _ => false,
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Reads {
    fn get_database_backend(&self) -> DbBackend {
        self.sea.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match &self.pg {
            None => self.sea.execute_raw(stmt).await,
            Some(conns) => on_lease!(conns, &stmt.sql, conn => bound(&stmt).execute(conn))
                .map(Into::into)
                .map_err(exec_err),
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match &self.pg {
            None => self.sea.execute_unprepared(sql).await,
            Some(conns) => {
                on_lease!(conns, sql, conn => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn))
                    .map(Into::into)
                    .map_err(exec_err)
            }
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match &self.pg {
            None => self.sea.query_one_raw(stmt).await,
            Some(conns) => on_lease!(conns, &stmt.sql, conn => bound(&stmt).fetch_optional(conn))
                .map(|r| r.map(Into::into))
                .map_err(query_err),
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.pg {
            None => self.sea.query_all_raw(stmt).await,
            Some(conns) => on_lease!(conns, &stmt.sql, conn => bound(&stmt).fetch_all(conn))
                .map(|rows| rows.into_iter().map(Into::into).collect())
                .map_err(query_err),
        }
    }

    fn support_returning(&self) -> bool {
        self.sea.support_returning()
    }
}

impl BulkWrite for Reads {}

#[cfg(test)]
mod tests {
    use super::only_reads;

    #[test]
    fn only_statements_that_only_read_are_sent_again() {
        assert!(only_reads("SELECT 1"));
        assert!(only_reads("  select \"id\", \"updated_at\" FROM \"unit\""));
        assert!(only_reads(
            "WITH RECURSIVE up AS (SELECT 1) SELECT * FROM up WHERE \"deleted\" IS NULL"
        ));
        assert!(only_reads(
            "WITH \"m\" AS MATERIALIZED (SELECT * FROM \"member\") SELECT \"m\".* FROM \"m\""
        ));
        assert!(!only_reads("UPDATE \"outbox\" SET \"status\" = $1"));
        assert!(!only_reads(
            "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"
        ));
        assert!(!only_reads(
            "with x as (select 1) insert into t select * from x"
        ));
        assert!(!only_reads("SEL"));
        assert!(!only_reads(""));
    }
}
