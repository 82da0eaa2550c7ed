//! The store's own PostgreSQL connections ([`Conns`]): one set for write transactions
//! (write.rs), one for reads (reads.rs).
//!
//! Why not sea-orm's pool: sqlx's pool tests every connection given back to it (a
//! `PoolConnection` dropped spawns a task that sends a `Sync` and waits for the server's
//! answer, to flush a rollback left queued and to catch a connection left mid-statement by a
//! cancelled future). That is one round trip and one task more for every transaction and for
//! every read statement, however healthy the connection, and no setting of sqlx 0.9.1 turns it
//! off. Here a connection whose last statement was answered goes back to the idle list as it
//! is, without a round trip. One whose statement was under way when it was given back (the
//! request was cancelled) is never used again: it is closed once the server has answered or
//! the wait for a connection is over (its permit held until then, so that the server's
//! backends do not outnumber the connections allowed while they finish). One whose link
//! failed or whose session the server ended is dropped at once. A new connection refused for
//! a while (the server restarting, its connections all taken) is tried again, within the
//! caller's wait for a connection. Idle connections past their time are closed by a task that
//! looks every minute, and whenever a connection is taken.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgDatabaseError, PgSeverity};
use sea_orm::sqlx::{self, Connection as _, Executor as _, PgConnection};
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::batch::Prepared;

/// At most `max` connections in use at once (a caller waits its turn, up to `wait`, for a
/// connection, an idle one or a new one), opened when none is idle, kept idle for at most
/// [`IDLE_TIMEOUT`] and used for at most [`MAX_LIFETIME`], as sqlx's pool would.
pub(crate) struct Conns {
    max: usize,
    options: PgConnectOptions,
    idle: std::sync::Mutex<Vec<Idle>>,
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// How long a connection may stay idle before it is closed (sqlx's pool's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How long a connection is used before it is closed for a new one (sqlx's pool's default):
/// no backend lives for ever, and a firewall's idle limit is not met.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// An idle connection, with when it was opened, when it became idle and the statements
/// prepared on it under our names (batch.rs).
struct Idle {
    conn: PgConnection,
    opened: Instant,
    since: Instant,
    prepared: Prepared,
}

impl Idle {
    /// Neither idle nor open too long.
    fn fresh(&self) -> bool {
        self.since.elapsed() < IDLE_TIMEOUT && self.opened.elapsed() < MAX_LIFETIME
    }
}

/// How often the idle connections past their time are closed.
const REAP_EVERY: Duration = Duration::from_secs(60);

impl std::fmt::Debug for Conns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conns")
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

/// A connection of [`Conns`] in use: `settled` while no statement is under way on it and its
/// last one ended with an answer of the server (a result or the database's refusal). Each use
/// marks it unsettled before its statement is sent and [`Slot::settle`]s it on the answer, so
/// a statement abandoned half-way leaves it unsettled. `lost` once its link failed or the
/// server ended its session: nothing is waited for on it. `in_txn` from the moment a
/// `BEGIN` is sent on it until its transaction has ended (write.rs).
pub(crate) struct Slot {
    pub(crate) conn: PgConnection,
    opened: Instant,
    pub(crate) settled: bool,
    lost: bool,
    /// Taken from the idle list (not opened for this use).
    pub(crate) reused: bool,
    pub(crate) in_txn: bool,
    /// The statements prepared on it under our names (batch.rs).
    pub(crate) prepared: Prepared,
}

impl Slot {
    fn new(conn: PgConnection, opened: Instant, reused: bool, prepared: Prepared) -> Self {
        Self {
            conn,
            opened,
            settled: true,
            lost: false,
            reused,
            in_txn: false,
            prepared,
        }
    }

    /// Settled by `result` unless it is a failure other than the database's refusal (I/O,
    /// protocol, the server ending the session): the connection is then closed.
    pub(crate) fn settle<T>(&mut self, result: &Result<T, sqlx::Error>) {
        self.settled = match result {
            Ok(_) => true,
            // A refusal ends the statement, not the connection, unless it is fatal (the
            // server ending the session: `pg_terminate_backend`, a shutdown).
            Err(sqlx::Error::Database(e)) => e
                .try_downcast_ref::<PgDatabaseError>()
                .is_none_or(|e| !matches!(e.severity(), PgSeverity::Fatal | PgSeverity::Panic)),
            Err(_) => false,
        };
        self.lost = result.as_ref().err().is_some_and(lost);
    }
}

/// Whether `e` says the connection is lost rather than the statement refused: the link failed,
/// or the server ended the session (`pg_terminate_backend`, a shutdown, an idle session's time
/// limit: SQLSTATE class 57, severity FATAL; an idle connection finds that word waiting when it
/// is next used).
pub(crate) fn lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(e) => e.try_downcast_ref::<PgDatabaseError>().is_some_and(|e| {
            matches!(e.severity(), PgSeverity::Fatal) && e.code().starts_with("57")
        }),
        _ => false,
    }
}

/// A new connection may be refused for a while (the server starting or restarting, its
/// connections all taken): tried again until the caller's wait is over.
fn worth_retrying(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        sqlx::Error::Database(e) => matches!(e.code().as_deref(), Some("53300" | "57P03")),
        _ => false,
    }
}

impl Conns {
    /// At most `max` connections with `options`; a caller waits at most `wait` for one.
    /// Within a runtime, a task of theirs closes the connections idle or open too long every
    /// [`REAP_EVERY`], until they are dropped or closed.
    pub(crate) fn new(options: PgConnectOptions, max: usize, wait: Duration) -> Arc<Self> {
        let conns = Arc::new(Self {
            max,
            options,
            idle: std::sync::Mutex::default(),
            permits: Arc::new(Semaphore::new(max)),
            wait,
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&conns);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(REAP_EVERY);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let Some(conns) = weak.upgrade() else { return };
                    if conns.permits.is_closed() {
                        return;
                    }
                    conns.reap();
                }
            });
        }
        conns
    }

    /// Closes the idle connections idle or open too long (their sockets dropped).
    fn reap(&self) {
        let expired: Vec<Idle> = match self.idle.lock() {
            Ok(mut idle) => {
                let (keep, expired) = std::mem::take(&mut *idle)
                    .into_iter()
                    .partition(Idle::fresh);
                *idle = keep;
                expired
            }
            Err(_) => Vec::new(),
        };
        // Dropped after the lock is released.
        drop(expired);
    }

    /// `work` (taking a permit and connections, beginning a transaction) within the wait for
    /// a connection.
    pub(crate) async fn within_wait<T>(
        &self,
        work: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T, DbErr> {
        tokio::time::timeout(self.wait, work)
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
    }

    /// A permit to hold a connection; waits for one (callers bound the wait: [`Self::within_wait`]).
    pub(crate) async fn permit(&self) -> Result<OwnedSemaphorePermit, DbErr> {
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))
    }

    /// The idle connection used last (unless `fresh`), or a new one, a refused one tried
    /// again after a pause (callers hold a permit and bound the wait).
    pub(crate) async fn connection(&self, fresh: bool) -> Result<Slot, DbErr> {
        if !fresh && let Some(idle) = self.take_idle() {
            return Ok(Slot::new(idle.conn, idle.opened, true, idle.prepared));
        }
        let mut pause = Duration::from_millis(20);
        loop {
            match PgConnection::connect_with(&self.options).await {
                Ok(conn) => {
                    return Ok(Slot::new(conn, Instant::now(), false, Prepared::default()));
                }
                Err(e) if worth_retrying(&e) => {
                    tracing::debug!(error = %e, "a new connection was refused; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)))),
            }
        }
    }

    /// The idle connection used last, those idle or open too long closed on the way.
    fn take_idle(&self) -> Option<Idle> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(c) = idle.pop() {
            if c.fresh() {
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
    /// do not outnumber the permits while they finish), or when the wait is over; a lost one
    /// at once.
    pub(crate) fn give_back(
        self: &Arc<Self>,
        mut slot: Slot,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        if slot.lost {
            return;
        }
        if slot.settled && !slot.in_txn {
            self.keep(slot);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let conns = Arc::clone(self);
        runtime.spawn(async move {
            let _permit = permit;
            if !slot.settled {
                let _ = tokio::time::timeout(conns.wait, slot.conn.ping()).await;
                return;
            }
            let rolled_back = tokio::time::timeout(conns.wait, slot.conn.execute("ROLLBACK")).await;
            match rolled_back {
                Ok(Ok(_)) => {
                    slot.in_txn = false;
                    conns.keep(slot);
                }
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "a connection could not roll back; closed")
                }
                Err(_) => tracing::debug!("a connection did not roll back in time; closed"),
            }
        });
    }

    /// Keeps a connection idle, unless the connections are closed.
    fn keep(&self, slot: Slot) {
        if let Ok(mut idle) = self.idle.lock() {
            // Under the lock: `close` closes the permits under it before emptying the list.
            if self.permits.is_closed() {
                return;
            }
            idle.push(Idle {
                conn: slot.conn,
                opened: slot.opened,
                since: Instant::now(),
                prepared: slot.prepared,
            });
        }
    }

    /// Connections in use (a permit taken) and idle, and the most there may be in use.
    pub(crate) fn usage(&self) -> (usize, usize, usize) {
        let idle = self.idle.lock().map(|v| v.len()).unwrap_or_default();
        let in_use = self.max.saturating_sub(self.permits.available_permits());
        (in_use + idle, idle, self.max)
    }

    /// Waits (up to `wait`) for the connections in use to come back, then refuses new uses
    /// and closes the idle connections.
    pub(crate) async fn close(&self) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _held = tokio::time::timeout(self.wait, self.permits.acquire_many(all)).await;
        let idle: Vec<Idle> = self
            .idle
            .lock()
            .map(|mut v| {
                self.permits.close();
                std::mem::take(&mut *v)
            })
            .unwrap_or_default();
        self.permits.close();
        for c in idle {
            let _ = c.conn.close().await;
        }
    }
}
