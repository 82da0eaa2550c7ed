//! The connection bulk writes go through ([`BulkWrite`]): a sea-orm transaction, whose
//! multi-row inserts work on both databases, or on PostgreSQL the bulk loader's own
//! transaction ([`PgLoad`]), which also streams rows with `COPY … FROM STDIN`.
//!
//! sea-orm does not hand out the connection under its transactions, so [`PgLoad`] takes one
//! from the pool sea-orm keeps (`get_postgres_connection_pool`), begins its own sqlx
//! transaction on it and answers sea-orm's [`ConnectionTrait`] itself: every query the load
//! makes (checks, counters, ancestry, aggregates) and its COPYs run in that one transaction,
//! which commits at the end or rolls back when dropped.

use std::fmt::Write as _;
use std::sync::Arc;

use sea_orm::sea_query::{SimpleExpr, Value, Values};
use sea_orm::sqlx::{self, Postgres};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, RuntimeErr, Statement,
};
use sea_query_sqlx::SqlxValues;
use tokio::sync::Mutex;

use crate::error::Result;

/// A connection a bulk write can use: any sea-orm connection, and the PostgreSQL loader's,
/// which can also COPY.
pub(crate) trait BulkWrite: ConnectionTrait {
    /// The PostgreSQL transaction a COPY can be sent on, when this is one.
    fn copier(&self) -> Option<&PgLoad> {
        None
    }
}

impl BulkWrite for DatabaseTransaction {}
impl BulkWrite for DatabaseConnection {}

/// A PostgreSQL transaction of the bulk loader: sea-orm's queries and COPY on one connection.
pub(crate) struct PgLoad {
    txn: Mutex<sqlx::Transaction<'static, Postgres>>,
}

pub(crate) fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

pub(crate) fn query_err(e: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
}

pub(crate) fn bound(stmt: &Statement) -> sqlx::query::Query<'_, Postgres, SqlxValues> {
    let values = stmt.values.clone().unwrap_or(Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), SqlxValues(values))
}

impl PgLoad {
    /// Begins a transaction on a connection of `db`'s pool (`None` unless `db` is PostgreSQL).
    pub(crate) async fn begin(db: &DatabaseConnection) -> Result<Option<Self>> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let mut txn = db
            .get_postgres_connection_pool()
            .begin()
            .await
            .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
        // No JIT compilation for the load's statements: a read whose estimated cost grows
        // with the tables (the tree's lineage, the aggregates' upserts) would otherwise pay
        // a quarter of a second of compiling for a few milliseconds of work.
        // The members' names go into a trigram (GIN) index. Its pending list takes the
        // load's entries whole (it is merged into the index whenever it passes 4 MB otherwise,
        // a random write per entry: two thirds of the time the members of a province took at
        // national scale) and is merged once, sorted, before the commit (`commit`).
        sqlx::raw_sql(
            "SET LOCAL jit = off; \
             SET LOCAL gin_pending_list_limit = '256MB'; \
             SET LOCAL work_mem = '64MB'",
        )
        .execute(&mut *txn)
        .await
        .map_err(exec_err)?;
        Ok(Some(Self {
            txn: Mutex::new(txn),
        }))
    }

    /// Merges the pending lists of the GIN indexes the role owns into the indexes (see
    /// `begin`), then commits the transaction.
    pub(crate) async fn commit(self) -> Result<()> {
        let mut txn = self.txn.into_inner();
        sqlx::raw_sql(
            "SELECT gin_clean_pending_list(c.oid) FROM pg_class c \
             JOIN pg_am a ON a.oid = c.relam AND a.amname = 'gin' \
             WHERE c.relkind = 'i' AND c.relnamespace = current_schema()::regnamespace \
             AND pg_has_role(c.relowner, 'USAGE')",
        )
        .execute(&mut *txn)
        .await
        .map_err(exec_err)?;
        txn.commit().await.map_err(exec_err)?;
        Ok(())
    }

    /// Streams `data` (COPY's text format, one line per row) into `table`'s `columns`.
    async fn copy_in(&self, table: &str, columns: &[String], data: Vec<u8>) -> Result<u64> {
        let cols = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let statement = format!("COPY \"{table}\" ({cols}) FROM STDIN");
        let mut txn = self.txn.lock().await;
        let mut copy = txn.copy_in_raw(&statement).await.map_err(exec_err)?;
        if let Err(e) = copy.send(data).await {
            let _ = copy.abort("the bulk load failed").await;
            return Err(exec_err(e).into());
        }
        Ok(copy.finish().await.map_err(exec_err)?)
    }

    /// Adds `data` (COPY's text format, `columns` of `table`) to `table`: the rows are
    /// streamed into a temporary table shaped like it, then one `INSERT … SELECT … ON
    /// CONFLICT (key) DO UPDATE` adds each of `added` to the row already there, or inserts
    /// the row. The temporary table lives until the transaction ends (emptied after each use).
    async fn copy_add(
        &self,
        table: &str,
        columns: &[String],
        key: &[&str],
        added: &[&str],
        data: Vec<u8>,
    ) -> Result<u64> {
        let staging = format!("bulk_add_{table}");
        self.execute_unprepared(&format!(
            "CREATE TEMPORARY TABLE IF NOT EXISTS \"{staging}\" \
             (LIKE \"{table}\" INCLUDING DEFAULTS) ON COMMIT DROP"
        ))
        .await?;
        self.copy_in(&staging, columns, data).await?;
        let quoted = |cs: &[&str]| {
            cs.iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let cols = quoted(&names);
        let set = added
            .iter()
            .map(|c| format!("\"{c}\" = \"{table}\".\"{c}\" + EXCLUDED.\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let done = self
            .execute_unprepared(&format!(
                "INSERT INTO \"{table}\" ({cols}) SELECT {cols} FROM \"{staging}\" \
                 ON CONFLICT ({}) DO UPDATE SET {set}",
                quoted(key)
            ))
            .await?;
        self.execute_unprepared(&format!("TRUNCATE \"{staging}\""))
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for PgLoad {
    fn get_database_backend(&self) -> DbBackend {
        DbBackend::Postgres
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        let mut txn = self.txn.lock().await;
        bound(&stmt)
            .execute(&mut **txn)
            .await
            .map(Into::into)
            .map_err(exec_err)
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
        let mut txn = self.txn.lock().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut **txn)
            .await
            .map(Into::into)
            .map_err(exec_err)
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        let mut txn = self.txn.lock().await;
        bound(&stmt)
            .fetch_optional(&mut **txn)
            .await
            .map(|r| r.map(Into::into))
            .map_err(query_err)
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        let mut txn = self.txn.lock().await;
        bound(&stmt)
            .fetch_all(&mut **txn)
            .await
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_err)
    }
}

impl BulkWrite for PgLoad {
    fn copier(&self) -> Option<&PgLoad> {
        Some(self)
    }
}

/// Appends `text` to a COPY line, escaped for the text format.
fn escaped(line: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c => line.push(c),
        }
    }
}

/// Appends one value to a COPY line in the text format; `None` for a value it does not
/// write (the caller falls back to a multi-row insert).
fn push_value(line: &mut String, v: &Value) -> Option<()> {
    const NULL: &str = "\\N";
    macro_rules! plain {
        ($o:expr) => {
            match $o {
                Some(x) => {
                    let _ = write!(line, "{x}");
                }
                None => line.push_str(NULL),
            }
        };
    }
    match v {
        Value::Bool(b) => line.push_str(match b {
            Some(true) => "t",
            Some(false) => "f",
            None => NULL,
        }),
        Value::TinyInt(x) => plain!(x),
        Value::SmallInt(x) => plain!(x),
        Value::Int(x) => plain!(x),
        Value::BigInt(x) => plain!(x),
        Value::TinyUnsigned(x) => plain!(x),
        Value::SmallUnsigned(x) => plain!(x),
        Value::Unsigned(x) => plain!(x),
        Value::BigUnsigned(x) => plain!(x),
        Value::Uuid(x) => plain!(x),
        Value::ChronoDate(d) => match d {
            Some(d) => {
                let _ = write!(line, "{}", d.format("%Y-%m-%d"));
            }
            None => line.push_str(NULL),
        },
        Value::ChronoDateTimeUtc(t) => match t {
            Some(t) => {
                let _ = write!(line, "{}", t.format("%Y-%m-%d %H:%M:%S%.f+00"));
            }
            None => line.push_str(NULL),
        },
        Value::String(s) => match s {
            Some(s) => escaped(line, s),
            None => line.push_str(NULL),
        },
        Value::Json(j) => match j {
            Some(j) => escaped(line, &j.to_string()),
            None => line.push_str(NULL),
        },
        _ => return None,
    }
    Some(())
}

/// The rows as COPY's text format, or `None` when a value is not a plain value this writes.
pub(crate) fn copy_text<T>(rows: &[T], row: &impl Fn(&T) -> Vec<SimpleExpr>) -> Option<Vec<u8>> {
    let mut out = String::new();
    for r in rows {
        for (i, e) in row(r).iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            match e {
                SimpleExpr::Value(v) => push_value(&mut out, v)?,
                _ => return None,
            }
        }
        out.push('\n');
    }
    Some(out.into_bytes())
}

/// Sends `rows` with one COPY when `c` can and every value is plain; `false` when the caller
/// must insert them itself.
pub(crate) async fn try_copy<T>(
    c: &impl BulkWrite,
    table: &str,
    columns: &[String],
    rows: &[T],
    row: &impl Fn(&T) -> Vec<SimpleExpr>,
) -> Result<bool> {
    let Some(pg) = c.copier() else {
        return Ok(false);
    };
    let Some(data) = copy_text(rows, row) else {
        return Ok(false);
    };
    pg.copy_in(table, columns, data).await?;
    Ok(true)
}

/// Adds `rows` to `table` when `copier` is the PostgreSQL loader and every value is plain
/// (see [`PgLoad::copy_add`]): `key` the columns of its primary key, `added` those added to an
/// existing row. `false` when the caller must upsert them itself.
pub(crate) async fn try_copy_add<T>(
    copier: Option<&PgLoad>,
    table: &str,
    columns: &[String],
    key: &[&str],
    added: &[&str],
    rows: &[T],
    row: &impl Fn(&T) -> Vec<SimpleExpr>,
) -> Result<bool> {
    let Some(pg) = copier else {
        return Ok(false);
    };
    if rows.is_empty() {
        return Ok(true);
    }
    let Some(data) = copy_text(rows, row) else {
        return Ok(false);
    };
    pg.copy_add(table, columns, key, added, data).await?;
    Ok(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn copy_lines_escape_text_and_write_nulls() {
        let id = Uuid::nil();
        let rows = vec![(
            id,
            Some("a\tb\\c\nd".to_owned()),
            None::<NaiveDate>,
            NaiveDate::from_ymd_opt(2023, 6, 30).unwrap(),
            Utc.with_ymd_and_hms(2023, 6, 30, 2, 0, 0).unwrap(),
            serde_json::json!({ "k": "x\ny" }),
            true,
            7i64,
        )];
        let text = copy_text(&rows, &|r| {
            vec![
                r.0.into(),
                r.1.clone().into(),
                r.2.into(),
                r.3.into(),
                r.4.into(),
                r.5.clone().into(),
                r.6.into(),
                r.7.into(),
            ]
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "00000000-0000-0000-0000-000000000000\ta\\tb\\\\c\\nd\t\\N\t2023-06-30\t\
             2023-06-30 02:00:00+00\t{\"k\":\"x\\\\ny\"}\tt\t7\n"
        );
    }

    #[test]
    fn a_value_it_does_not_write_leaves_the_rows_to_an_insert() {
        let rows = vec![1.5f32];
        assert!(copy_text(&rows, &|r| vec![(*r).into()]).is_none());
    }
}
