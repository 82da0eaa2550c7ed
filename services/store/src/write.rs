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
//! statement was under way when its transaction was dropped (the request was cancelled) is
//! never used again: it is closed once the server has answered (its slot held until then, so
//! that the server's backends never outnumber the connections allowed); so is one whose last
//! statement failed other than by the database's refusal (an I/O or protocol error, the
//! server ending the session). The next transaction opens a new one. An idle connection the
//! server ended meanwhile fails its `BEGIN`, and the transaction is begun again on another
//! connection; a new connection refused for a while (the server restarting, its connections
//! all taken) is tried again, all within the transaction's wait for a connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

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
/// transaction waits its turn, up to `wait`, for a connection, a new one opened or an idle
/// one begun), opened when none is idle, kept idle between transactions for at most
/// [`IDLE_TIMEOUT`] and used for at most [`MAX_LIFETIME`], as sqlx's pool keeps the reads'.
pub(crate) struct Writers {
    max: usize,
    options: PgConnectOptions,
    idle: std::sync::Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// How long a write connection may stay idle before it is closed (sqlx's pool's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How long a write connection is used before it is closed for a new one (sqlx's pool's
/// default): no backend lives for ever, and a firewall's idle limit is not met.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// An idle connection, with when it was opened and when it became idle.
struct Idle {
    conn: PgConnection,
    opened: Instant,
    since: Instant,
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
/// Each use marks it unsettled before its statement is sent and [`Slot::settle`]s it on the
/// answer, so a statement abandoned half-way leaves it unsettled.
struct Slot {
    conn: PgConnection,
    opened: Instant,
    settled: bool,
}

impl Slot {
    /// Settled by `result` unless it is a failure other than the database's refusal (I/O,
    /// protocol, the server ending the session): the connection is then closed.
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

/// A new connection may be refused for a while (the server starting or restarting, its
/// connections all taken): tried again until the transaction's wait is over.
fn worth_retrying(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        sqlx::Error::Database(e) => matches!(e.code().as_deref(), Some("53300" | "57P03")),
        _ => false,
    }
}

impl Writers {
    /// At most `max` connections with `options`; a transaction waits at most `wait` for one.
    pub(crate) fn new(options: PgConnectOptions, max: usize, wait: Duration) -> Arc<Self> {
        Arc::new(Self {
            max,
            options,
            idle: std::sync::Mutex::default(),
            permits: Arc::new(Semaphore::new(max)),
            wait,
        })
    }

    /// Begins a transaction on an idle connection, or on a new one, within `wait`.
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<PgWrite, DbErr> {
        tokio::time::timeout(self.wait, self.begin_unbounded())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
    }

    async fn begin_unbounded(self: &Arc<Self>) -> Result<PgWrite, DbErr> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
        let mut pause = Duration::from_millis(20);
        loop {
            let (mut conn, opened, reused) = match self.take_idle() {
                Some(idle) => (idle.conn, idle.opened, true),
                None => match PgConnection::connect_with(&self.options).await {
                    Ok(conn) => (conn, Instant::now(), false),
                    Err(e) if worth_retrying(&e) => {
                        tracing::debug!(error = %e, "a write connection was refused; trying again");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                        continue;
                    }
                    Err(e) => return Err(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))),
                },
            };
            match PgTransactionManager::begin(&mut conn, None).await {
                Ok(()) => {
                    return Ok(PgWrite {
                        slot: Mutex::new(Some(Slot {
                            conn,
                            opened,
                            settled: true,
                        })),
                        writers: Arc::clone(self),
                        permit: Some(permit),
                    });
                }
                // An idle connection that cannot begin was closed or ended by the server
                // meanwhile (a `BEGIN` is refused for no other reason): dropped, and the
                // transaction begun on another. (One whose link died without a word makes
                // the `BEGIN` wait instead, until the transaction's wait is over.)
                Err(e) if reused => {
                    tracing::debug!(error = %e, "an idle write connection was closed; opening another");
                }
                Err(e) => return Err(exec_err(e)),
            }
        }
    }

    /// The idle connection used last, those idle or open too long closed on the way.
    fn take_idle(&self) -> Option<Idle> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(c) = idle.pop() {
            if c.since.elapsed() < IDLE_TIMEOUT && c.opened.elapsed() < MAX_LIFETIME {
                return Some(c);
            }
        }
        None
    }

    /// Takes a connection back (with the permit it was used under), the permit held until
    /// it is idle again or closed. A transaction still open on it (dropped without a commit or
    /// a rollback: a replayed or refused command, an error) is rolled back first, at once, by
    /// a task of its own: its locks must not wait for the connection's next use. An unsettled
    /// one is closed once the server has answered what was under way (so that the backends
    /// never outnumber the permits), or when the wait is over.
    fn give_back(self: &Arc<Self>, mut slot: Slot, permit: Option<OwnedSemaphorePermit>) {
        if slot.settled && PgTransactionManager::get_transaction_depth(&slot.conn) == 0 {
            self.keep(slot.conn, slot.opened);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let writers = Arc::clone(self);
        runtime.spawn(async move {
            let _permit = permit;
            if !slot.settled {
                let _ = tokio::time::timeout(writers.wait, slot.conn.ping()).await;
                return;
            }
            let rolled_back =
                tokio::time::timeout(writers.wait, PgTransactionManager::rollback(&mut slot.conn))
                    .await;
            match rolled_back {
                Ok(Ok(())) => writers.keep(slot.conn, slot.opened),
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "a write connection could not roll back; closed")
                }
                Err(_) => tracing::debug!("a write connection did not roll back in time; closed"),
            }
        });
    }

    /// Keeps a connection idle, unless the writers are closed.
    fn keep(&self, conn: PgConnection, opened: Instant) {
        if self.permits.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(Idle {
                conn,
                opened,
                since: Instant::now(),
            });
        }
    }

    /// Connections in use (a permit taken) and idle, and the most there may be in use.
    pub(crate) fn usage(&self) -> (usize, usize, usize) {
        let idle = self.idle.lock().map(|v| v.len()).unwrap_or_default();
        let in_use = self.max.saturating_sub(self.permits.available_permits());
        (in_use + idle, idle, self.max)
    }

    /// Waits (up to `wait`) for the connections in use to come back, then refuses new
    /// transactions and closes the idle connections.
    pub(crate) async fn close(&self) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _held = tokio::time::timeout(self.wait, self.permits.acquire_many(all)).await;
        self.permits.close();
        let idle: Vec<Idle> = self
            .idle
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for c in idle {
            let _ = c.conn.close().await;
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
