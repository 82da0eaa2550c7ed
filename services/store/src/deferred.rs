//! Indexes and foreign keys built after a bulk build rather than row by row during it
//! (PostgreSQL).
//!
//! A bulk build into an empty registry (the national demo) writes millions of rows to the
//! tables that grow with the members. Row by row, each of their secondary B-tree indexes takes
//! every row at its place (names and days in no order in the load) and each foreign key runs a
//! query per row to find the row it refers to: at a national scale the database's backends
//! spend most of the build on those. [`Store::defer_indexes`] drops them before the build;
//! [`DeferredIndexes::build`] builds each index once, a sort of its table, and adds each
//! foreign key back, which checks every row of the table in one join: the references are
//! checked all the same, at the end.
//!
//! What stays during the build: primary keys and unique indexes (the loader's conflicts and
//! upserts rely on them), the indexes of the tables the loader reads while it builds (units,
//! parent links, ancestry, counters), and the GIN indexes (the trigram index of names takes the
//! load's rows in its pending list, `crate::loader`, cheaper than a build from scratch).
//!
//! Nothing is left without them: the statements that make them again (PostgreSQL's own
//! definitions, `pg_get_indexdef`, `pg_get_constraintdef`) are written to `deferred_index` in
//! the transaction that drops them, each is run in the transaction that deletes its row, and
//! every start of the binary ([`Store::migrate`]) runs whatever is still listed (a build that
//! stopped half-way). While a build holds the lock below, a start is refused instead
//! ([`Store::refuse_during_build`]): only the build writes while they are off.

use std::sync::Arc;

use sea_orm::sqlx::{self, Acquire, PgPool, Postgres, pool::PoolConnection};
use sea_orm::{DbErr, RuntimeErr};

use crate::{Backend, Result, Store};

/// The tables a bulk build writes by the million and never reads back while it runs: their
/// secondary B-tree indexes are built at the end.
const INDEXED_AFTER: &[&str] = &[
    "member",
    "member_status",
    "member_unit",
    "member_residence",
    "stat_admission_day",
];

/// The tables a bulk build writes whose foreign keys are added back at the end: the above, and
/// the tree's and counters' tables it writes a row of per unit, link, ancestor or year.
const CHECKED_AFTER: &[&str] = &[
    "member",
    "member_status",
    "member_unit",
    "member_residence",
    "stat_admission_day",
    "stat_admission",
    "stat_membership",
    "unit",
    "unit_parent",
    "unit_ancestry",
    "hamlet",
    "hamlet_branch",
    "badge_award",
];

/// The advisory lock a build holds while its indexes are deferred (its own connection holds
/// it, so it ends with the process at the latest).
const BUILD_LOCK: i64 = 0x6d66_6465_6665_7200;

/// Indexes and foreign keys made at once after a build.
const PARALLEL_BUILDS: usize = 2;

/// Memory each index build sorts in.
const BUILD_MEMORY: &str = "256MB";

fn db_err(e: sqlx::Error) -> crate::StoreError {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))).into()
}

/// The indexes and foreign keys a build dropped, made again by [`DeferredIndexes::build`].
pub struct DeferredIndexes {
    /// The connection holding [`BUILD_LOCK`].
    lock: Option<PoolConnection<Postgres>>,
    names: Vec<String>,
}

impl std::fmt::Debug for DeferredIndexes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeferredIndexes")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl DeferredIndexes {
    /// What was dropped: each name with its kind.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Builds the indexes, then adds the foreign keys back, two at a time; returns how many.
    pub async fn build(mut self, store: &Store) -> Result<usize> {
        // The connection stays in `self` until it is unlocked: on an error (or if this is
        // cancelled) `Drop` closes it instead of giving it back to the pool still locked.
        if let Some(conn) = self.lock.as_mut() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(BUILD_LOCK)
                .execute(&mut **conn)
                .await
                .map_err(db_err)?;
        }
        drop(self.lock.take());
        build_listed(store.db.get_postgres_connection_pool()).await
    }
}

impl Drop for DeferredIndexes {
    fn drop(&mut self) {
        // Dropped before `build` (the build failed): close the lock's connection rather than
        // give it back to the pool still holding the lock. The next start makes them again.
        if let Some(conn) = self.lock.take() {
            drop(conn.detach());
        }
    }
}

impl Store {
    /// Before a bulk build (see the module): on PostgreSQL, when the registry has no member
    /// yet and no other build is running, drops the secondary B-tree indexes and the foreign
    /// keys of the tables the build fills and returns them, to be made again by
    /// [`DeferredIndexes::build`] at the end.
    /// `None` on SQLite, on a registry with members, or while another build runs (which the
    /// binary's start, [`Store::migrate`], refuses before): the build then writes its rows
    /// with every index in place.
    pub async fn defer_indexes(&self) -> Result<Option<DeferredIndexes>> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let pool = self.db.get_postgres_connection_pool();
        // What an earlier build left unbuilt comes first.
        build_listed(pool).await?;
        let mut conn = pool.acquire().await.map_err(db_err)?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(BUILD_LOCK)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        if !locked {
            return Ok(None);
        }
        let mut lock = DeferredIndexes {
            lock: Some(conn),
            names: Vec::new(),
        };
        let Some(conn) = lock.lock.as_mut() else {
            return Ok(None);
        };
        let mut txn = conn.begin().await.map_err(db_err)?;
        let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM member)")
            .fetch_one(&mut *txn)
            .await
            .map_err(db_err)?;
        if !empty {
            drop(txn);
            lock.build(self).await?;
            return Ok(None);
        }
        let names = |tables: &[&str]| tables.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        // (kind, name, table, the statement that makes it again, the one that drops it)
        let found: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT 'index', i.relname::text, t.relname::text, pg_get_indexdef(i.oid), \
               format('DROP INDEX %I.%I', current_schema(), i.relname) \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_am a ON a.oid = i.relam \
             WHERE t.relname = ANY($1) AND t.relnamespace = current_schema()::regnamespace \
             AND a.amname = 'btree' AND NOT x.indisunique AND NOT x.indisprimary \
             UNION ALL \
             SELECT 'foreign key', c.conname::text, t.relname::text, \
               format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', current_schema(), t.relname, \
                 c.conname, pg_get_constraintdef(c.oid)), \
               format('ALTER TABLE %I.%I DROP CONSTRAINT %I', current_schema(), t.relname, \
                 c.conname) \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE c.contype = 'f' AND t.relname = ANY($2) \
             AND t.relnamespace = current_schema()::regnamespace \
             ORDER BY 1 DESC, 3, 2",
        )
        .bind(names(INDEXED_AFTER))
        .bind(names(CHECKED_AFTER))
        .fetch_all(&mut *txn)
        .await
        .map_err(db_err)?;
        for (kind, name, table, statement, drop) in &found {
            sqlx::query(
                "INSERT INTO deferred_index (kind, name, table_name, statement) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(kind)
            .bind(name)
            .bind(table)
            .bind(statement)
            .execute(&mut *txn)
            .await
            .map_err(db_err)?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop.clone()))
                .execute(&mut *txn)
                .await
                .map_err(db_err)?;
        }
        txn.commit().await.map_err(db_err)?;
        tracing::info!(
            deferred = found.len(),
            "indexes and foreign keys deferred to the end of the build"
        );
        lock.names = found
            .into_iter()
            .map(|(kind, name, ..)| format!("{name} ({kind})"))
            .collect();
        Ok(Some(lock))
    }

    /// At a start: makes the indexes and foreign keys a bulk build deferred and did not make
    /// (it stopped half-way), unless a build is running; returns how many. One that cannot be
    /// made (a foreign key whose check fails) is logged as an error and stays listed, to be
    /// tried at the next start: the service starts without it. Nothing to do on SQLite or
    /// before the migration that lists them.
    pub(crate) async fn build_deferred_indexes(&self) -> usize {
        if self.backend() != Backend::Postgres {
            return 0;
        }
        let pool = self.db.get_postgres_connection_pool();
        let listed: std::result::Result<bool, sqlx::Error> =
            sqlx::query_scalar("SELECT to_regclass('deferred_index') IS NOT NULL")
                .fetch_one(pool)
                .await;
        let outcome = match listed {
            Ok(false) => return 0,
            Ok(true) => build_listed(pool).await,
            Err(e) => Err(db_err(e)),
        };
        outcome.unwrap_or_else(|e| {
            tracing::error!(
                error = ?e,
                "an index or foreign key a bulk build deferred could not be made; it stays listed in deferred_index"
            );
            0
        })
    }
}

impl Store {
    /// A start while a bulk build runs with its indexes and foreign keys off (PostgreSQL: it
    /// holds [`BUILD_LOCK`]) is refused: a server, an import or a migration writing meanwhile
    /// would write rows no foreign key checks, and migrate (or revert) tables the build is
    /// filling. The lock is held from the drop to the start of the making again at the end.
    pub(crate) async fn refuse_during_build(&self) -> Result<()> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        let mut txn = self
            .db
            .get_postgres_connection_pool()
            .begin()
            .await
            .map_err(db_err)?;
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock_shared($1)")
            .bind(BUILD_LOCK)
            .fetch_one(&mut *txn)
            .await
            .map_err(db_err)?;
        txn.rollback().await.map_err(db_err)?;
        if free {
            return Ok(());
        }
        Err(crate::StoreError::conflict(
            "Một lần nạp dữ liệu hàng loạt (memberflow demo national) đang ghi vào cơ sở dữ liệu \
             này khi chỉ mục và khóa ngoại đang tạm gỡ; hãy khởi động lại khi nó xong.",
            "A bulk build (memberflow demo national) is writing to this database with its \
             indexes and foreign keys off; start again when it has finished.",
        ))
    }
}

/// Makes the indexes and foreign keys listed in `deferred_index`, [`PARALLEL_BUILDS`] at a
/// time, each in a transaction that deletes its row; stops (leaving the rest listed) while a
/// build holds [`BUILD_LOCK`].
async fn build_listed(pool: &PgPool) -> Result<usize> {
    // Taken from the end: the indexes first, then the foreign keys.
    let names: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name, name FROM deferred_index ORDER BY kind, table_name DESC, name DESC",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    if names.is_empty() {
        return Ok(0);
    }
    let started = std::time::Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(names));
    let mut workers = tokio::task::JoinSet::<Result<usize>>::new();
    for _ in 0..PARALLEL_BUILDS {
        let (pool, queue) = (pool.clone(), Arc::clone(&queue));
        workers.spawn(async move {
            let mut built = 0;
            loop {
                let next = queue.lock().map(|mut q| q.pop()).unwrap_or(None);
                let Some(name) = next else {
                    return Ok(built);
                };
                if !build_one(&pool, &name.0, &name.1).await? {
                    if let Ok(mut q) = queue.lock() {
                        q.push(name);
                    }
                    return Ok(built);
                }
                built += 1;
            }
        });
    }
    // Every worker to its end (the first error is returned after): a statement is never
    // abandoned half-way while its transaction runs on in the database.
    let (mut built, mut failed) = (0, None);
    while let Some(done) = workers.join_next().await {
        match done
            .map_err(|e| DbErr::Custom(e.to_string()).into())
            .and_then(|r| r)
        {
            Ok(n) => built += n,
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let left = queue.lock().map(|q| q.len()).unwrap_or(0);
    if left > 0 {
        tracing::info!(
            deferred = left,
            "a bulk build is running: the indexes and foreign keys it deferred are left to it"
        );
    }
    if built > 0 {
        tracing::info!(
            built,
            ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "deferred indexes and foreign keys made again"
        );
    }
    Ok(built)
}

/// Makes one listed index or foreign key in the transaction that deletes its row: `false`
/// when a build holds [`BUILD_LOCK`] (nothing done).
async fn build_one(pool: &PgPool, table: &str, name: &str) -> Result<bool> {
    let mut txn = pool.begin().await.map_err(db_err)?;
    let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock_shared($1)")
        .bind(BUILD_LOCK)
        .fetch_one(&mut *txn)
        .await
        .map_err(db_err)?;
    if !free {
        return Ok(false);
    }
    // Another process may have built it meanwhile: its row is gone then.
    let statement: Option<String> = sqlx::query_scalar(
        "DELETE FROM deferred_index WHERE table_name = $1 AND name = $2 RETURNING statement",
    )
    .bind(table)
    .bind(name)
    .fetch_optional(&mut *txn)
    .await
    .map_err(db_err)?;
    let Some(statement) = statement else {
        return Ok(true);
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'; SET LOCAL jit = off; \
         {statement}"
    )))
    .execute(&mut *txn)
    .await
    .map_err(db_err)?;
    txn.commit().await.map_err(db_err)?;
    tracing::debug!(name, "deferred index or foreign key made again");
    Ok(true)
}
