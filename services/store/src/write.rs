//! Write transactions ([`WriteTxn`], begun by `Store::begin_write`): on SQLite sea-orm's, on
//! the one writer connection; on PostgreSQL a transaction on a connection of the store's own
//! ([`Writers`]), begun, committed and rolled back by sqlx's transaction manager.
//!
//! Why PostgreSQL's writes do not take their connections from sea-orm's pool: sqlx's pool
//! tests every connection given back to it (a `PoolConnection` dropped spawns a task that
//! sends a `Sync` and waits for the server's answer, to flush a rollback left queued and to
//! catch a connection left mid-statement by a cancelled future). That is one round trip and
//! one task more for every transaction, however healthy the connection, and no setting of
//! sqlx 0.9.1 turns it off. Here a connection whose transaction committed or rolled back goes
//! back to the idle list as it is, without a round trip. One dropped with its transaction
//! still open (a replayed or refused command, an error) is rolled back at once by a task of
//! its own, as the pool would, so that its locks are not held until its next use. One whose
//! statement was under way when its transaction was dropped (the request was cancelled), or
//! whose last statement failed other than by the database's refusal (an I/O or protocol
//! error, the server ending the session), is closed instead, and the next transaction opens a
//! new one. An idle connection the server ended meanwhile fails its `BEGIN`, and the
//! transaction is begun again on another connection.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::postgres::{
    PgConnectOptions, PgDatabaseError, PgSeverity, PgTransactionManager,
};
use sea_orm::sqlx::{self, Connection as _, PgConnection};
use sea_orm::{
    ConnAcquireErr, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement,
};
use sqlx_core::transaction::TransactionManager as _;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

use crate::loader::{BulkWrite, bound, exec_err, query_err};

/// A write transaction: sea-orm's (SQLite) or one on a connection of [`Writers`]
/// (PostgreSQL). Dropped without [`WriteTxn::commit`], it is rolled back.
#[derive(Debug)]
pub(crate) enum WriteTxn {
    /// SQLite: sea-orm's transaction on the writer connection.
    Sea(DatabaseTransaction),
    /// PostgreSQL: a transaction on a connection of [`Writers`].
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

/// The connections PostgreSQL's write transactions run on: at most `max` at once (a
/// transaction waits its turn, up to `wait`), opened when none is idle, kept idle between
/// transactions.
pub(crate) struct Writers {
    options: PgConnectOptions,
    idle: std::sync::Mutex<Vec<PgConnection>>,
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl std::fmt::Debug for Writers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writers")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// A connection of [`Writers`] in use: `settled` while no statement is under way on it and
/// its last one ended with an answer of the server (a result or the database's refusal).
struct Slot {
    conn: PgConnection,
    settled: bool,
}

impl Slot {
    /// Marks the connection unsettled until `result` is known; a failure other than the
    /// database's own (I/O, protocol) leaves it unsettled, so it is closed.
    fn settle<T>(&mut self, result: &Result<T, sqlx::Error>) {
        self.settled = match result {
            Ok(_) => true,
            // A refusal ends the statement, not the connection, unless it is fatal (the
            // server ending the session: `pg_terminate_backend`, a shutdown).
            Err(sqlx::Error::Database(e)) => e
                .try_downcast_ref::<PgDatabaseError>()
                .is_none_or(|e| !matches!(e.severity(), PgSeverity::Fatal | PgSeverity::Panic)),
            Err(_) => false,
        };
    }
}

impl Writers {
    /// At most `max` connections with `options`; a transaction waits at most `wait` for one.
    pub(crate) fn new(options: PgConnectOptions, max: usize, wait: Duration) -> Arc<Self> {
        Arc::new(Self {
            options,
            idle: std::sync::Mutex::default(),
            permits: Arc::new(Semaphore::new(max)),
            wait,
        })
    }

    /// Begins a transaction on an idle connection, or on a new one.
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<PgWrite, DbErr> {
        let permit = tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
        loop {
            let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or_default();
            let reused = idle.is_some();
            let mut conn = match idle {
                Some(conn) => conn,
                None => PgConnection::connect_with(&self.options)
                    .await
                    .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?,
            };
            match PgTransactionManager::begin(&mut conn, None).await {
                Ok(()) => {
                    return Ok(PgWrite {
                        slot: Mutex::new(Some(Slot {
                            conn,
                            settled: true,
                        })),
                        writers: Arc::clone(self),
                        permit: Some(permit),
                    });
                }
                // An idle connection that cannot begin was closed or ended by the server
                // meanwhile (a `BEGIN` is refused for no other reason): dropped, and the
                // transaction begun on another.
                Err(e) if reused => {
                    tracing::debug!(error = %e, "an idle write connection was closed; opening another");
                }
                Err(e) => return Err(exec_err(e)),
            }
        }
    }

    /// Takes a connection back (with the permit it was used under): idle again when settled,
    /// closed otherwise. A transaction still open on it (dropped without a commit or a
    /// rollback: a replayed or refused command, an error) is rolled back first, at once, by a
    /// task of its own: its locks must not wait for the connection's next use.
    fn give_back(self: &Arc<Self>, mut slot: Slot, permit: Option<OwnedSemaphorePermit>) {
        if !slot.settled {
            return;
        }
        if PgTransactionManager::get_transaction_depth(&slot.conn) == 0 {
            self.keep(slot.conn);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let writers = Arc::clone(self);
        runtime.spawn(async move {
            let _permit = permit;
            let rolled_back =
                tokio::time::timeout(writers.wait, PgTransactionManager::rollback(&mut slot.conn))
                    .await;
            match rolled_back {
                Ok(Ok(())) => writers.keep(slot.conn),
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "a write connection could not roll back; closed")
                }
                Err(_) => tracing::debug!("a write connection did not roll back in time; closed"),
            }
        });
    }

    fn keep(&self, conn: PgConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
    }

    /// Closes the idle connections.
    pub(crate) async fn close(&self) {
        let idle: Vec<PgConnection> = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for conn in idle {
            let _ = conn.close().await;
        }
    }
}

/// A transaction on a connection of [`Writers`]; the connection goes back when it ends
/// (committed, rolled back or dropped).
pub(crate) struct PgWrite {
    slot: Mutex<Option<Slot>>,
    writers: Arc<Writers>,
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

impl PgWrite {
    async fn commit(self) -> Result<(), DbErr> {
        self.end(true).await
    }

    async fn rollback(self) -> Result<(), DbErr> {
        self.end(false).await
    }

    async fn end(self, commit: bool) -> Result<(), DbErr> {
        let mut guard = self.slot.lock().await;
        let slot = guard.as_mut().ok_or_else(ended)?;
        slot.settled = false;
        let result = if commit {
            PgTransactionManager::commit(&mut slot.conn).await
        } else {
            PgTransactionManager::rollback(&mut slot.conn).await
        };
        slot.settle(&result);
        result.map_err(exec_err)
    }
}

impl Drop for PgWrite {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.get_mut().take() {
            self.writers.give_back(slot, self.permit.take());
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for PgWrite {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let mut guard = self.slot.lock().await;
        let slot = guard.as_mut().ok_or_else(ended)?;
        slot.settled = false;
        let result = bound(&stmt).execute(&mut slot.conn).await;
        slot.settle(&result);
        result.map(Into::into).map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let mut guard = self.slot.lock().await;
        let slot = guard.as_mut().ok_or_else(ended)?;
        slot.settled = false;
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut slot.conn)
            .await;
        slot.settle(&result);
        result.map(Into::into).map_err(exec_err)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let mut guard = self.slot.lock().await;
        let slot = guard.as_mut().ok_or_else(ended)?;
        slot.settled = false;
        let result = bound(&stmt).fetch_optional(&mut slot.conn).await;
        slot.settle(&result);
        result.map(|r| r.map(Into::into)).map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let mut guard = self.slot.lock().await;
        let slot = guard.as_mut().ok_or_else(ended)?;
        slot.settled = false;
        let result = bound(&stmt).fetch_all(&mut slot.conn).await;
        slot.settle(&result);
        result
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}
