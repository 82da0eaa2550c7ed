//! Write transactions ([`WriteTxn`], begun by `Store::begin_write`): on SQLite sea-orm's, on
//! the one writer connection; on PostgreSQL a transaction on a connection of the store's own
//! ([`Conns`], conns.rs: given back without the round trip sqlx's pool makes), begun,
//! committed and rolled back by sqlx's transaction manager.
//!
//! A connection whose transaction committed or rolled back goes back idle as it is. One dropped
//! with its transaction still open (a replayed or refused command, an error) is rolled back at
//! once by a task of its own, as sqlx's pool would, so that its locks are not held until its
//! next use; one left mid-statement (the request was cancelled) is closed once the server has
//! answered. An idle connection the server ended meanwhile fails its `BEGIN`, and the
//! transaction is begun again on another connection.

use std::sync::Arc;

use sea_orm::sqlx::{self, postgres::PgTransactionManager};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use sqlx_core::transaction::TransactionManager as _;
use tokio::sync::{Mutex, OwnedSemaphorePermit};

use crate::conns::{Conns, Slot};
use crate::loader::{BulkWrite, bound, exec_err, query_err};

/// A write transaction: sea-orm's (SQLite) or one on a connection of [`Conns`]
/// (PostgreSQL). Dropped without [`WriteTxn::commit`], it is rolled back.
#[derive(Debug)]
pub(crate) enum WriteTxn {
    /// SQLite: sea-orm's transaction on the writer connection.
    Sea(DatabaseTransaction),
    /// PostgreSQL: a transaction on a connection of [`Conns`].
    Pg(PgWrite),
}

impl WriteTxn {
    /// Commits the transaction.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(t) => t.commit().await,
            Self::Pg(t) => t.commit().await,
        }
    }

    /// Rolls the transaction back.
    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(t) => t.rollback().await,
            Self::Pg(t) => t.rollback().await,
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Sea(t) => t.get_database_backend(),
            Self::Pg(_) => DbBackend::Postgres,
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Self::Sea(t) => t.execute_raw(stmt).await,
            Self::Pg(t) => t.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Self::Sea(t) => t.execute_unprepared(sql).await,
            Self::Pg(t) => t.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Self::Sea(t) => t.query_one_raw(stmt).await,
            Self::Pg(t) => t.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Self::Sea(t) => t.query_all_raw(stmt).await,
            Self::Pg(t) => t.query_all_raw(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        match self {
            Self::Sea(t) => t.support_returning(),
            Self::Pg(_) => true,
        }
    }
}

impl BulkWrite for WriteTxn {}

/// Begins a transaction on a connection of `conns` (idle or new), within their wait.
pub(crate) async fn begin(conns: &Arc<Conns>) -> Result<PgWrite, DbErr> {
    conns
        .within_wait(async {
            let permit = conns.permit().await?;
            loop {
                let mut slot = conns.connection(false).await?;
                match PgTransactionManager::begin(&mut slot.conn, None).await {
                    Ok(()) => {
                        return Ok(PgWrite {
                            slot: Mutex::new(Some(slot)),
                            conns: Arc::clone(conns),
                            permit: Some(permit),
                        });
                    }
                    // An idle connection that cannot begin was closed or ended by the server
                    // meanwhile (a `BEGIN` is refused for no other reason): dropped, and the
                    // transaction begun on another. (One whose link died without a word makes
                    // the `BEGIN` wait instead, until the wait is over.)
                    Err(e) if slot.reused => {
                        tracing::debug!(error = %e, "an idle write connection was closed; opening another");
                    }
                    Err(e) => return Err(exec_err(e)),
                }
            }
        })
        .await
}

/// A transaction on a connection of [`Conns`]; the connection goes back when it ends
/// (committed, rolled back or dropped).
pub(crate) struct PgWrite {
    slot: Mutex<Option<Slot>>,
    conns: Arc<Conns>,
    /// Released when the connection is back (after its rollback, if it needs one).
    permit: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for PgWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgWrite").finish_non_exhaustive()
    }
}

fn ended() -> DbErr {
    DbErr::Custom("the write transaction has ended".into())
}

/// Runs one statement on a [`PgWrite`]'s connection (`$conn => future`): the slot marked
/// unsettled while it runs and settled by its outcome, so that a connection left
/// mid-statement is never reused. Evaluates to the statement's result.
macro_rules! statement {
    ($write:ident, $conn:ident => $run:expr) => {{
        let mut guard = $write.slot.lock().await;
        let slot = guard.as_mut().ok_or_else(ended)?;
        slot.settled = false;
        let $conn = &mut slot.conn;
        let result = $run.await;
        slot.settle(&result);
        result
    }};
}

impl PgWrite {
    async fn commit(self) -> Result<(), DbErr> {
        self.end(true).await
    }

    async fn rollback(self) -> Result<(), DbErr> {
        self.end(false).await
    }

    async fn end(self, commit: bool) -> Result<(), DbErr> {
        statement!(self, conn => async {
            if commit {
                PgTransactionManager::commit(conn).await
            } else {
                PgTransactionManager::rollback(conn).await
            }
        })
        .map_err(exec_err)
    }
}

impl Drop for PgWrite {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.get_mut().take() {
            self.conns.give_back(slot, self.permit.take());
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for PgWrite {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        statement!(self, conn => bound(&stmt).execute(conn))
            .map(Into::into)
            .map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        statement!(self, conn => sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(conn))
            .map(Into::into)
            .map_err(exec_err)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        statement!(self, conn => bound(&stmt).fetch_optional(conn))
            .map(|r| r.map(Into::into))
            .map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        statement!(self, conn => bound(&stmt).fetch_all(conn))
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}
