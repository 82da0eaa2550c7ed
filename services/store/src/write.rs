//! Write transactions ([`WriteTxn`], begun by `Store::begin_write`): on SQLite sea-orm's, on
//! the one writer connection; on PostgreSQL a transaction on a connection of the store's own
//! ([`Conns`], conns.rs: given back without the round trip sqlx's pool makes).
//!
//! On PostgreSQL the transaction sends as few messages as it can (batch.rs): its `BEGIN` waits
//! for its first statement and goes out with it; a statement whose answer the caller does not
//! need at once ([`WriteTxn::execute_later`], the step's `UPDATE` and its history's `INSERT`)
//! waits for the next batched query or for the `COMMIT` and goes out with it; queries the caller
//! needs together ([`WriteTxn::query_batch`], the step's locked read of its case and the head of
//! its history) go out in one message. A statement sent through sea-orm's interface
//! ([`ConnectionTrait`]) goes alone, as sqlx sends it, after what was pending (in a message of
//! its own). A transaction that sent nothing commits or rolls back without a word to the server.
//! A statement put off that fails fails the statement or the commit it went out with, and
//! nothing of the transaction is kept; its count of rows is not read (the step's `UPDATE` is of
//! the case's row, which the transaction locked when it read it).
//!
//! A connection whose transaction committed or rolled back goes back idle as it is. One dropped
//! with its transaction still open (a replayed or refused command, an error) is rolled back at
//! once by a task of its own, as sqlx's pool would, so that its locks are not held until its
//! next use; one left mid-statement (the request was cancelled) is closed once the server has
//! answered. An idle connection the server ended meanwhile fails the first message of the
//! transaction (the one holding its `BEGIN`), and that message is sent again on another
//! connection when it only reads: one that writes may have run before the link failed. A
//! transaction one of whose statements failed cannot commit.

use std::sync::Arc;

use futures::TryStreamExt as _;
use sea_orm::sqlx::{self, Either, Executor as _, PgConnection};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use tokio::sync::{Mutex, MutexGuard, OwnedSemaphorePermit};

use crate::batch::{Batch, Part, batchable, can_wait};
use crate::conns::{Conns, Slot, lost};
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
    /// Commits the transaction (with the statements it put off).
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(t) => t.commit().await,
            Self::Pg(t) => t.end("COMMIT").await,
        }
    }

    /// Rolls the transaction back, once the statements it put off have run: their failure is
    /// reported as the commit would have reported it (a dry run fails where the step would).
    pub(crate) async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Sea(t) => t.rollback().await,
            Self::Pg(t) => t.end("ROLLBACK").await,
        }
    }

    /// Runs `stmt` (an `INSERT`, `UPDATE` or `DELETE` whose count of rows nobody reads) now
    /// (SQLite) or with the next batched query or the commit (PostgreSQL, when it can be
    /// batched; before another statement, in a message of its own): its failure then fails that
    /// statement or the commit, and the server's transaction with it, before anything after it
    /// runs.
    pub(crate) async fn execute_later(&self, stmt: Statement) -> Result<(), DbErr> {
        match self {
            Self::Pg(t) if batchable(&stmt) && can_wait(&stmt.sql) => {
                t.state.lock().await.later.push(stmt);
                Ok(())
            }
            _ => self.execute_raw(stmt).await.map(drop),
        }
    }

    /// The rows of each of `queries`, run in turn: on PostgreSQL in one message with what is
    /// pending (the `BEGIN`, statements put off) when they can be batched. Their rows come in
    /// PostgreSQL's text format, which sqlx decodes as it decodes the binary one.
    pub(crate) async fn query_batch(
        &self,
        queries: Vec<Statement>,
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        match self {
            Self::Pg(t) if queries.iter().all(batchable) => {
                let mut state = t.state.lock().await;
                t.send(&mut state, &queries, None).await
            }
            _ => {
                let mut all = Vec::with_capacity(queries.len());
                for q in queries {
                    all.push(self.query_all_raw(q).await?);
                }
                Ok(all)
            }
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

/// Takes a connection of `conns` (idle or new), within their wait, for a transaction whose
/// `BEGIN` goes out with its first statement.
pub(crate) async fn begin(conns: &Arc<Conns>) -> Result<PgWrite, DbErr> {
    let (permit, slot) = conns
        .within_wait(async {
            let permit = conns.permit().await?;
            Ok((permit, conns.connection(false).await?))
        })
        .await?;
    Ok(PgWrite {
        state: Mutex::new(State {
            slot: Some(slot),
            begun: false,
            failed: false,
            later: Vec::new(),
        }),
        conns: Arc::clone(conns),
        permit: Some(permit),
    })
}

/// A transaction on a connection of [`Conns`]; the connection goes back when it ends
/// (committed, rolled back or dropped).
pub(crate) struct PgWrite {
    state: Mutex<State>,
    conns: Arc<Conns>,
    /// Released when the connection is back (after its rollback, if it needs one).
    permit: Option<OwnedSemaphorePermit>,
}

/// The connection, whether the `BEGIN` went out, whether a statement failed (the server's
/// transaction is then aborted, and a `COMMIT` would only roll it back), and the statements
/// put off.
struct State {
    slot: Option<Slot>,
    begun: bool,
    failed: bool,
    later: Vec<Statement>,
}

impl std::fmt::Debug for PgWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgWrite").finish_non_exhaustive()
    }
}

fn ended() -> DbErr {
    DbErr::Custom("the write transaction has ended".into())
}

/// Runs one statement on a [`PgWrite`]'s connection as sqlx sends it (`$conn => future`), what
/// is pending sent first: the slot marked unsettled while it runs and settled by its outcome,
/// so that a connection left mid-statement is never reused. Evaluates to the statement's
/// result.
macro_rules! statement {
    ($write:ident, $conn:ident => $run:expr) => {{
        let mut state = $write.state.lock().await;
        if !state.begun || !state.later.is_empty() {
            $write.send(&mut state, &[], None).await?;
        }
        let slot = state.slot.as_mut().ok_or_else(ended)?;
        slot.settled = false;
        let $conn = &mut slot.conn;
        let result = $run.await;
        slot.settle(&result);
        state.failed |= result.is_err();
        result
    }};
}

impl PgWrite {
    /// Ends the transaction with `end` (`COMMIT` or `ROLLBACK`), sent with the statements put
    /// off; nothing is sent when nothing was.
    async fn end(self, end: &str) -> Result<(), DbErr> {
        let mut state = self.state.lock().await;
        if state.failed && end == "COMMIT" {
            return Err(DbErr::Custom(
                "a statement of the write transaction failed; it cannot commit".into(),
            ));
        }
        if !state.begun && state.later.is_empty() {
            return Ok(());
        }
        self.send(&mut state, &[], Some(end)).await.map(drop)
    }

    /// Sends, in one message, what is pending (the `BEGIN` if it has not gone out, the
    /// statements put off), then `queries`, then `end`: the rows of each query. The first
    /// message of the transaction, on an idle connection the server ended meanwhile, is sent
    /// again on another connection when it only reads (its `BEGIN` and queries): one that
    /// writes may have run before the link failed.
    async fn send(
        &self,
        state: &mut MutexGuard<'_, State>,
        queries: &[Statement],
        end: Option<&str>,
    ) -> Result<Vec<Vec<QueryResult>>, DbErr> {
        loop {
            let first = !state.begun;
            let State { slot, later, .. } = &mut **state;
            let slot = slot.as_mut().ok_or_else(ended)?;
            let mut batch = Batch::new();
            if first {
                batch.quiet("BEGIN");
            }
            for stmt in later.iter() {
                batch.statement(&mut slot.prepared, stmt, Part::Quiet);
            }
            for q in queries {
                batch.statement(&mut slot.prepared, q, Part::Query);
            }
            if let Some(end) = end {
                batch.quiet(end);
            }
            slot.settled = false;
            slot.in_txn = true;
            let result = run(&mut slot.conn, &batch).await;
            slot.settle(&result);
            match result {
                Ok(rows) => {
                    batch.keep(&mut slot.prepared);
                    state.begun = true;
                    state.later.clear();
                    if end.is_some()
                        && let Some(slot) = state.slot.as_mut()
                    {
                        slot.in_txn = false;
                    }
                    return Ok(rows);
                }
                Err(e) if first && slot.reused && !batch.writes() && lost(&e) => {
                    tracing::debug!(error = %e, "an idle write connection was closed; opening another");
                    state.failed = true;
                    let fresh = self.conns.within_wait(self.conns.connection(false)).await?;
                    if let Some(dead) = state.slot.replace(fresh) {
                        self.conns.give_back(dead, None);
                    }
                    state.failed = false;
                }
                Err(e) => {
                    // The server lost or outdated our prepared statements (`DISCARD`, a table
                    // changed under a plan): prepared again under new names next time.
                    let code = database_code(&e);
                    if matches!(code.as_deref(), Some("26000" | "0A000")) {
                        slot.prepared.forget();
                    }
                    state.later.clear();
                    state.begun |= first;
                    state.failed = true;
                    return Err(exec_err(e));
                }
            }
        }
    }
}

/// The SQLSTATE of the database's refusal `e`, if it is one.
fn database_code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Runs `batch` on `conn`: the rows of each of its queries.
async fn run(conn: &mut PgConnection, batch: &Batch) -> Result<Vec<Vec<QueryResult>>, sqlx::Error> {
    let mut results = Vec::new();
    let mut parts = batch.parts.iter();
    let mut rows = Vec::new();
    let mut stream = conn.fetch_many(sqlx::raw_sql(sqlx::AssertSqlSafe(batch.text.as_str())));
    while let Some(item) = stream.try_next().await? {
        match item {
            Either::Right(row) => rows.push(QueryResult::from(row)),
            // Each statement's end: its rows are kept if it is a query.
            Either::Left(_) => {
                if parts.next() == Some(&Part::Query) {
                    results.push(std::mem::take(&mut rows));
                } else {
                    rows.clear();
                }
            }
        }
    }
    Ok(results)
}

impl Drop for PgWrite {
    fn drop(&mut self) {
        if let Some(slot) = self.state.get_mut().slot.take() {
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

/// Against a real PostgreSQL when `MEMBERFLOW_TEST_DATABASE_URL` names one (the suite's
/// PostgreSQL pass); nothing to check without one.
#[cfg(test)]
mod tests {
    use std::str::FromStr as _;
    use std::time::Duration;

    use chrono::{NaiveDate, TimeZone as _, Utc};
    use sea_orm::sqlx::postgres::PgConnectOptions;
    use sea_orm::{DbBackend, Value};

    use super::*;

    fn conns() -> Option<Arc<Conns>> {
        let url = std::env::var("MEMBERFLOW_TEST_DATABASE_URL").ok()?;
        let options = PgConnectOptions::from_str(&url).ok()?;
        Some(Conns::new(options, 2, Duration::from_secs(10)))
    }

    fn stmt(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    async fn write(conns: &Arc<Conns>) -> WriteTxn {
        WriteTxn::Pg(begin(conns).await.unwrap_or_else(|e| panic!("{e}")))
    }

    /// A table of this test's own, dropped when the test ends.
    async fn table(conns: &Arc<Conns>, name: &str) {
        let t = write(conns).await;
        t.execute_unprepared(&format!(
            "DROP TABLE IF EXISTS {name}; CREATE TABLE {name} (id int PRIMARY KEY, v int)"
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        t.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }

    async fn count(conns: &Arc<Conns>, name: &str) -> i64 {
        let t = write(conns).await;
        let rows = t
            .query_all_raw(stmt(&format!("SELECT count(*) FROM {name}"), vec![]))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        rows[0]
            .try_get_by_index(0)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn values_written_into_a_batch_read_back_as_they_were() {
        let Some(conns) = conns() else { return };
        let texts = [
            "it's",
            "a$mf",
            "x$mf$y$mf1$",
            "back\\slash",
            "Đảng Cộng sản Việt Nam",
            "",
            "; DROP TABLE cases; --",
        ];
        let t = write(&conns).await;
        let mut queries: Vec<Statement> = texts
            .iter()
            .map(|s| stmt("SELECT $1", vec![Value::String(Some((*s).to_owned()))]))
            .collect();
        let when = Utc
            .with_ymd_and_hms(2026, 12, 6, 23, 59, 58)
            .single()
            .unwrap_or_default()
            + chrono::Duration::microseconds(123_456);
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let json = serde_json::json!({"a": "it's $mf$", "b": [1, null, true]});
        let east = chrono::FixedOffset::east_opt(7 * 3600 + 6 * 60 + 40)
            .unwrap_or_else(|| panic!("an offset"))
            .with_ymd_and_hms(1890, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_else(|| panic!("a time"));
        queries.push(stmt(
            "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9",
            vec![
                Value::BigInt(Some(-9_007_199_254_740_993)),
                Value::Int(Some(i32::MIN)),
                Value::Bool(Some(false)),
                Value::Uuid(Some(id)),
                Value::ChronoDate(Some(day)),
                Value::ChronoDateTimeUtc(Some(when)),
                Value::Json(Some(Box::new(json.clone()))),
                Value::String(None),
                Value::ChronoDateTimeWithTimeZone(Some(east)),
            ],
        ));
        let rows = t
            .query_batch(queries)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for (s, r) in texts.iter().zip(&rows) {
            let back: String = r[0].try_get_by_index(0).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back, *s);
        }
        let r = &rows[texts.len()][0];
        let get = |i| {
            r.try_get_by_index::<i64>(i)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(get(0), -9_007_199_254_740_993);
        assert_eq!(r.try_get_by_index::<i32>(1).ok(), Some(i32::MIN));
        assert_eq!(r.try_get_by_index::<bool>(2).ok(), Some(false));
        assert_eq!(r.try_get_by_index::<uuid::Uuid>(3).ok(), Some(id));
        assert_eq!(r.try_get_by_index::<NaiveDate>(4).ok(), Some(day));
        assert_eq!(r.try_get_by_index::<DateTime>(5).ok(), Some(when));
        assert_eq!(r.try_get_by_index::<serde_json::Value>(6).ok(), Some(json));
        assert_eq!(r.try_get_by_index::<Option<String>>(7).ok(), Some(None));
        assert_eq!(r.try_get_by_index::<DateTime>(8).ok(), Some(east.to_utc()));
        t.rollback().await.unwrap_or_else(|e| panic!("{e}"));
    }

    type DateTime = chrono::DateTime<Utc>;

    #[tokio::test]
    async fn a_statement_put_off_that_fails_fails_the_commit_and_keeps_nothing() {
        let Some(conns) = conns() else { return };
        let name = "mf_test_batch_rows";
        table(&conns, name).await;
        let insert = |id: i32| {
            stmt(
                &format!("INSERT INTO {name} (id, v) VALUES ($1, $2)"),
                vec![Value::Int(Some(id)), Value::Int(Some(0))],
            )
        };
        let later = async |t: &WriteTxn, s: Statement| {
            t.execute_later(s).await.unwrap_or_else(|e| panic!("{e}"));
        };
        // Put off, then committed in one message with the BEGIN.
        let t = write(&conns).await;
        later(&t, insert(1)).await;
        t.commit().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(count(&conns, name).await, 1);
        // A refused INSERT (the key taken): the statements before and after it are not kept,
        // and the commit fails with the server's word.
        let t = write(&conns).await;
        later(&t, insert(2)).await;
        later(&t, insert(1)).await;
        later(&t, insert(3)).await;
        let refused = t.commit().await.map_err(|e| e.to_string());
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("duplicate key")),
            "{refused:?}"
        );
        assert_eq!(count(&conns, name).await, 1);
        // The same in a query's message: the query fails, nothing is kept.
        let t = write(&conns).await;
        later(&t, insert(4)).await;
        later(&t, insert(1)).await;
        let refused = t
            .query_batch(vec![stmt("SELECT 1", vec![])])
            .await
            .map_err(|e| e.to_string());
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("duplicate key")),
            "{refused:?}"
        );
        assert!(t.commit().await.is_err());
        assert_eq!(count(&conns, name).await, 1);
        // A transaction that put off a statement and was dropped sent nothing.
        let t = write(&conns).await;
        later(&t, insert(5)).await;
        drop(t);
        assert_eq!(count(&conns, name).await, 1);
        // A transaction one of whose statements failed cannot commit (PostgreSQL would answer
        // its COMMIT with a rollback, without an error).
        let t = write(&conns).await;
        later(&t, insert(6)).await;
        assert!(
            t.execute_unprepared("SELECT * FROM mf_no_such_table")
                .await
                .is_err()
        );
        assert!(t.commit().await.is_err());
        assert_eq!(count(&conns, name).await, 1);
        let t = write(&conns).await;
        t.execute_unprepared(&format!("DROP TABLE {name}"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        t.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }

    async fn pid(t: &WriteTxn) -> i32 {
        let rows = t
            .query_batch(vec![stmt("SELECT pg_backend_pid()", vec![])])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        rows[0][0]
            .try_get_by_index::<i32>(0)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn the_first_message_on_an_idle_connection_the_server_ended_goes_again_on_another() {
        let Some(conns) = conns() else { return };
        let t = write(&conns).await;
        let first = pid(&t).await;
        t.commit().await.unwrap_or_else(|e| panic!("{e}"));
        // Ended by another session while idle.
        let other = Conns::new(
            PgConnectOptions::from_str(
                &std::env::var("MEMBERFLOW_TEST_DATABASE_URL").unwrap_or_default(),
            )
            .unwrap_or_else(|e| panic!("{e}")),
            1,
            Duration::from_secs(10),
        );
        let killer = WriteTxn::Pg(begin(&other).await.unwrap_or_else(|e| panic!("{e}")));
        killer
            .query_all_raw(stmt(
                "SELECT pg_terminate_backend($1)",
                vec![Value::Int(Some(first))],
            ))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        killer.commit().await.unwrap_or_else(|e| panic!("{e}"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t = write(&conns).await;
        let second = pid(&t).await;
        assert_ne!(first, second);
        t.commit().await.unwrap_or_else(|e| panic!("{e}"));
    }
}
