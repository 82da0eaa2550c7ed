//! The store: the only crate that knows sea-orm.
//!
//! It owns the connection, runs the migrations, and offers commands and queries in the
//! project's own types. Each command runs in one transaction: it loads what the core needs,
//! lets the core decide, and writes the outcome, or nothing at all.
//!
//! The commands and queries are grouped by aggregate, each behind a handle borrowed from the
//! [`Store`]: [`Store::tree`] (units, parent links, ancestry), [`Store::registry`] (members,
//! their histories, badges, a step's registry context, import and export),
//! [`Store::cases`] (open, fire, migrate, history, deadlines), [`Store::outbox`] (claims and
//! delivery), [`Store::accounts`] (accounts, sessions, role grants, the access log, who a
//! mail to a role reaches) and [`Store::stats`] (counters, roll-ups, reports, bulk loading).
//! The store itself keeps the connection: migrations, backup, health, the pool.

/// Declares an aggregate's handle: a view of the store borrowed for a call, whose methods are
/// that aggregate's commands and queries (`store.tree().unit(id)`), and the accessor on
/// [`Store`] that returns it.
macro_rules! aggregate {
    ($(#[$doc:meta])* $name:ident, $accessor:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'s> {
            store: &'s $crate::Store,
        }

        impl $crate::Store {
            $(#[$doc])*
            pub fn $accessor(&self) -> $name<'_> {
                $name { store: self }
            }
        }

        #[allow(dead_code, reason = "an aggregate may only read, or only write")]
        impl<'s> $name<'s> {
            fn db(&self) -> &'s $crate::reads::Reads {
                self.store.db()
            }

            async fn begin_write(&self) -> $crate::Result<$crate::write::WriteTxn> {
                self.store.begin_write().await
            }
        }
    };
}

mod accounts;
mod batch;
mod cases;
mod changes;
mod conns;
mod deferred;
mod entity;
mod error;
mod loader;
mod ops;
mod outbox;
mod probe;
mod reads;
mod records;
mod registry;
mod stats;
mod tree;
mod write;

// `crate::step_context`: the path the step's transaction (`cases/`) reads the registered
// members its inputs name through.
use registry::step_context;

use std::time::Duration;

use memberflow_migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait,
};

pub use accounts::{
    AccessRecord, AccountListing, AccountPage, AccountQuery, AccountRecord, Accounts, Addressees,
    NewSession, Principal, RoleGrant,
};
pub use cases::{
    CaseBrief, CaseDefinition, CaseEventRecord, CaseFilter, CaseMigration, CaseOutcome, CasePage,
    CaseRecord, CaseVisibility, Cases, ChainBreak, Command, DueItem, EscalationReport, LockedCase,
    MigrateCases, MigrationMode, NewCase, PassedDeadline, RefusalRecording, Subtree, retrying,
};
pub use deferred::DeferredIndexes;
pub use error::{Result, StoreError};
pub use ops::{OpsSnapshot, PoolUsage};
pub use outbox::{
    ClaimRequest, Claimed, NewOutbox, Outbox, OutboxKind, OutboxRecord, OutboxStatus, OutboxWake,
    PeriodicJob, UnitBrief,
};
pub use records::{MemberRecord, MembershipPeriod, StatusPeriod, TreeNode, UnitRecord};
pub use registry::{
    AwardOutcome, BadgeAwardRecord, BadgePageExport, DisciplineInForce, ExemptionRecord,
    ExportTree, HamletOn, HamletPeriod, HamletRecord, ImportCounts, ImportOutcome, ImportRequest,
    MemberFilter, MemberPage, MemberPageExport, MemberSource, NewExemption, NewHamlet, NewMember,
    NewTemporaryActivity, Registry, RegistryExport, RowAction, RowOutcome, StreamOutcome,
    StreamPass, StreamProgress, StreamRequest, TemporaryActivity, TemporaryActivityOn,
};
pub use stats::{
    BadgeCounts, BulkAccount, BulkBadge, BulkBatch, BulkCase, BulkCaseRound, BulkCaseRounds,
    BulkDiscipline, BulkEdge, BulkHamlet, BulkHamletLink, BulkMember, BulkMembership,
    BulkResidence, BulkStatus, BulkStep, BulkTreeEvent, BulkUnit, DisciplineCounts, IdleUnit,
    IdleUnitsReport, MemberBreakdown, RiskScope, Statistics, StatsCheck, StatsDifference,
    TargetFigures, TargetReport, TargetRequest, TargetRow, UnitCounts, target_reference,
};
pub use tree::{AncestryProblem, MergeUnits, NewUnit, Tree, UnitKey};

/// Rows a SQLite connection's worker thread may read ahead of the task consuming them.
const SQLITE_ROW_BUFFER: usize = 4096;

/// PostgreSQL: the connections reads take (reads.rs), and as many for write transactions
/// (write.rs), both kept by the store itself (conns.rs).
const PG_CONNECTIONS: u32 = 16;

/// PostgreSQL: the most connections of sea-orm's pool, which only migrations, bulk loads, the
/// deferred indexes' build and the readiness probe take (the national demo holds three at
/// most: the indexes' build lock and its two provinces loading at once).
const PG_POOL_CONNECTIONS: u32 = 4;

/// The `application_name` of PostgreSQL's write connections (after the URL's own, if any).
pub const WRITERS_NAME: &str = "memberflow writes";

/// The `application_name` of PostgreSQL's read connections (after the URL's own, if any).
pub const READERS_NAME: &str = "memberflow reads";

/// How long a command waits for a connection before it is told the database is busy.
const ACQUIRE_WAIT: Duration = Duration::from_secs(10);

/// Bytes of the SQLite file each connection reads through a memory map (`PRAGMA mmap_size`)
/// rather than by a system call and a copy per page: the pages come straight from the
/// operating system's cache, shared by every connection.
const SQLITE_MMAP_BYTES: &str = "268435456";

/// Each SQLite connection's own page cache (`PRAGMA cache_size`, negative: KiB): 16 MiB,
/// where SQLite's default of 2 MiB is smaller than what one report reads (the subtree's
/// ancestry, units and aggregates of the demo province), so that every read missed.
const SQLITE_CACHE_KIB: &str = "-16384";

/// A handle on the database: cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Store {
    /// sea-orm's pool: migrations, bulk loads, the deferred indexes, SQLite's reads.
    db: DatabaseConnection,
    /// What reads take ([`Store::db`]): on PostgreSQL connections of the store's own.
    reads: reads::Reads,
    /// The connection write transactions take ([`Store::begin_write`]): on a SQLite file, a
    /// pool of one, so concurrent commands wait their turn in order (the pool's queue is
    /// first come, first served) rather than in SQLite's busy handler; otherwise `db` (on
    /// PostgreSQL write transactions take `writers` instead).
    writer: DatabaseConnection,
    /// On PostgreSQL, the connections write transactions take instead (conns.rs: given back
    /// without the round trip sqlx's pool makes for each).
    writers: Option<std::sync::Arc<conns::Conns>>,
    /// Principals of recent sessions, trusted while no revocation happened (accounts/mod.rs).
    principals: std::sync::Arc<accounts::PrincipalCache>,
    /// The generations of the revocations and tree changes heard ([`Store::hear_changes`]).
    changes: std::sync::Arc<changes::Changes>,
    /// Paths to the root read recently, trusted while the tree's generation holds.
    paths: std::sync::Arc<tree::ancestry::PathCache>,
}

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file: one server instance at a time.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`). A SQLite file is created if
    /// missing. The URL is never logged: it may carry a password.
    pub async fn connect(url: &str) -> Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        // No ping before each acquire: a healthy pool's connections are used as they are (a
        // broken one fails its statement, and the command is retried or reported).
        opts.sqlx_logging(false)
            .test_before_acquire(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(ACQUIRE_WAIT);
        if url.starts_with("sqlite:") {
            // One writer at a time is SQLite's rule; WAL lets readers go on meanwhile and the
            // busy timeout makes a second writer wait instead of failing.
            // A read's rows come from the connection's worker thread through a bounded channel:
            // at sqlx's default of 50 rows the worker and the reading task take turns every few
            // rows once it is full, and a read of a few thousand rows (the tree of a day, a
            // year's counters) costs more in thread switches than in SQLite. A larger buffer
            // lets the worker run ahead; a read's memory is still bounded by it.
            opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
                    .row_buffer_size(SQLITE_ROW_BUFFER)
                    .pragma("mmap_size", SQLITE_MMAP_BYTES)
                    .pragma("cache_size", SQLITE_CACHE_KIB)
            });
        } else {
            opts.max_connections(PG_POOL_CONNECTIONS);
        }
        if !url.starts_with("sqlite:") {
            // The pool retries a refused connection until its timeout and then says only
            // "pool timed out": one direct attempt first says which host refused and why.
            preflight(url).await?;
        }
        let db = Database::connect(opts.clone())
            .await
            .map_err(StoreError::Connect)?;
        // PostgreSQL: the reads' and the writes' own connections, told apart by their name in
        // `pg_stat_activity`.
        let own = |kind: &str| {
            let options = (*db.get_postgres_connection_pool().connect_options()).clone();
            let name = options
                .get_application_name()
                .map_or_else(|| kind.to_owned(), |n| format!("{n} ({kind})"));
            let options = options.application_name(&name);
            conns::Conns::new(options, PG_CONNECTIONS as usize, ACQUIRE_WAIT)
        };
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let writers = postgres.then(|| own(WRITERS_NAME));
        let reads = reads::Reads::new(db.clone(), postgres.then(|| own(READERS_NAME)));
        let writer = if sqlite_file(url).is_some() {
            // The writers' queue: one connection, and a longer wait for it than for a read.
            opts.min_connections(1)
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30));
            Database::connect(opts).await.map_err(StoreError::Connect)?
        } else {
            db.clone()
        };
        Ok(Self {
            db,
            reads,
            writer,
            writers,
            principals: std::sync::Arc::default(),
            changes: std::sync::Arc::default(),
            paths: std::sync::Arc::default(),
        })
    }

    /// On PostgreSQL, starts hearing the revocations and tree changes any process commits
    /// (`LISTEN`, a connection of its own, kept for the life of the process), so that cached
    /// principals and paths to the root are trusted without reading the revocation epoch or
    /// the ancestry on every request. Returns at once; does nothing on SQLite. A server calls
    /// it; a command that runs once has no use for it. The listening ends when the last handle
    /// on this store is dropped.
    pub fn hear_changes(&self) {
        if self.backend() != Backend::Postgres {
            return;
        }
        let options = (*self.db.get_postgres_connection_pool().connect_options()).clone();
        let principals = std::sync::Arc::downgrade(&self.principals);
        let paths = std::sync::Arc::downgrade(&self.paths);
        changes::spawn_listener(
            options,
            std::sync::Arc::downgrade(&self.changes),
            move |topic| match topic {
                changes::Topic::Auth => {
                    if let Some(p) = principals.upgrade() {
                        p.clear();
                    }
                }
                changes::Topic::Tree => {
                    if let Some(p) = paths.upgrade() {
                        p.clear();
                    }
                }
            },
        );
    }

    /// Whether this process hears the revocations and tree changes as they commit now.
    pub fn hears_changes(&self) -> bool {
        self.changes.generation(changes::Topic::Auth).is_some()
    }

    /// A tree write of this process, in its transaction: the paths to the root cached here are
    /// over at once (other processes hear of it at the commit, `crate::changes`).
    pub(crate) fn tree_changing(&self) {
        self.changes.changed(changes::Topic::Tree);
        self.paths.clear();
    }

    /// Refuses to go on (`CONFLICT`) while a bulk build runs with its indexes and foreign keys
    /// off (`deferred`); makes those a build deferred and did not make (it stopped half-way),
    /// before any migration touches their tables; then applies every pending migration.
    pub async fn migrate(&self) -> Result<()> {
        self.refuse_during_build().await?;
        self.build_deferred_indexes().await;
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// The names of the migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        let pending = Migrator::get_pending_migrations(&self.db).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Every migration of the project, in order, and whether it is applied here.
    pub async fn migration_status(&self) -> Result<Vec<(String, bool)>> {
        let all = Migrator::get_migration_with_status_read_only(&self.db).await?;
        Ok(all
            .iter()
            .map(|m| {
                (
                    m.name().to_owned(),
                    m.status() == memberflow_migration::MigrationStatus::Applied,
                )
            })
            .collect())
    }

    /// Reverts the last `steps` applied migrations (their `down`), newest first; returns the
    /// names reverted. Reverting drops what those migrations created, data included: a
    /// backup comes first (docs/operations.md).
    pub async fn migrate_down(&self, steps: u32) -> Result<Vec<String>> {
        self.refuse_during_build().await?;
        let applied: Vec<String> = self
            .migration_status()
            .await?
            .into_iter()
            .filter(|(_, a)| *a)
            .map(|(n, _)| n)
            .collect();
        Migrator::down(&self.db, Some(steps)).await?;
        Ok(applied.into_iter().rev().take(steps as usize).collect())
    }

    /// Writes a consistent copy of a SQLite database to `file` while it serves
    /// (`VACUUM INTO`: one read transaction, so writers committing meanwhile are either wholly
    /// in the copy or not at all). The file must not exist. PostgreSQL has its own tools
    /// (`pg_dump`): refused there.
    pub async fn backup_to(&self, file: &std::path::Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::validation(
                "Sao lưu bằng memberflow chỉ dành cho SQLite; với PostgreSQL hãy dùng pg_dump.",
                "memberflow backup is for SQLite; back PostgreSQL up with pg_dump.",
            ));
        }
        if file.exists() {
            return Err(StoreError::conflict(
                format!("Tệp {} đã có: hãy chọn tên khác.", file.display()),
                format!("{} exists already: choose another name.", file.display()),
            ));
        }
        let path = file.to_string_lossy().replace('\'', "''");
        self.db
            .execute_unprepared(&format!("VACUUM INTO '{path}'"))
            .await?;
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// The database in use.
    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// Ends a bulk load (the demo, an import): gives the query planner statistics of what was
    /// just written, then, on SQLite, writes the write-ahead log back into the database file
    /// and truncates it (so that no large log is left behind).
    ///
    /// Without statistics PostgreSQL plans the first queries on a freshly loaded database as if
    /// its tables held a handful of rows (a district's admission board, 265 units and 10,007
    /// cases, took a bitmap AND of every case index: 60–80 ms instead of 5 ms), until autovacuum
    /// gets round to them. PostgreSQL: `ANALYZE` (it samples, so it stays a few seconds at the
    /// national scale). SQLite: `ANALYZE` over at most 1,000 rows of each index
    /// (`analysis_limit`), in the writer's transaction.
    pub async fn after_bulk_load(&self) -> Result<()> {
        match self.backend() {
            Backend::Postgres => {
                self.db.execute_unprepared("ANALYZE").await?;
            }
            Backend::Sqlite => {
                let txn = self.begin_write().await?;
                txn.execute_unprepared("PRAGMA analysis_limit = 1000")
                    .await?;
                txn.execute_unprepared("ANALYZE").await?;
                txn.commit().await?;
                self.db
                    .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await?;
            }
        }
        tracing::info!("planner statistics refreshed after a bulk load");
        Ok(())
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(self) -> Result<()> {
        // The writers and the readers wait for their connections in use at the same time.
        let close = async |c: Option<&std::sync::Arc<conns::Conns>>| {
            if let Some(c) = c {
                c.close().await;
            }
        };
        tokio::join!(close(self.writers.as_ref()), close(self.reads.conns()));
        self.writer.close().await?;
        self.db.close().await?;
        Ok(())
    }

    /// What reads take: sea-orm's pool on SQLite, the reads' own connections on PostgreSQL.
    pub(crate) fn db(&self) -> &reads::Reads {
        &self.reads
    }

    /// Begins a transaction that will write. On a SQLite file it waits its turn for the one
    /// writer connection (in order of arrival), then takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a read lock never has to be upgraded. On PostgreSQL it takes a
    /// connection of the store's writers (write.rs), idle or new. A write transaction must
    /// never begin another.
    pub(crate) async fn begin_write(&self) -> Result<write::WriteTxn> {
        if let Some(writers) = &self.writers {
            return Ok(write::WriteTxn::Pg(write::begin(writers).await?));
        }
        Ok(write::WriteTxn::Sea(
            self.writer
                .begin_with_options(sea_orm::TransactionOptions {
                    sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?,
        ))
    }
}

/// The file of a SQLite URL (`sqlite://memberflow.db?mode=rwc` → `memberflow.db`); `None`
/// for other databases and for in-memory ones.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr as _;
    if !url.starts_with("sqlite:") {
        return None;
    }
    let opts = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let f = opts.get_filename();
    (!f.as_os_str().is_empty() && f.as_os_str() != ":memory:").then(|| f.to_path_buf())
}

/// Replaces the SQLite database of `url` with the backup `from` (made by
/// [`Store::backup_to`]): checks that the backup is a sound memberflow database, copies it
/// beside the target and moves it into place. The server must be stopped. A database that
/// exists already is replaced only with `force`. Returns the file restored.
pub async fn restore_sqlite(
    url: &str,
    from: &std::path::Path,
    force: bool,
) -> Result<std::path::PathBuf> {
    let Some(target) = sqlite_file(url) else {
        return Err(StoreError::validation(
            "Khôi phục bằng memberflow chỉ dành cho tệp SQLite; với PostgreSQL hãy dùng pg_restore.",
            "memberflow restore is for a SQLite file; restore PostgreSQL with pg_restore.",
        ));
    };
    if !from.is_file() {
        return Err(StoreError::not_found("backup file", from.display()));
    }
    if target.exists() && !force {
        return Err(StoreError::conflict(
            format!(
                "Cơ sở dữ liệu {} đã có: thêm --force để thay nó (hãy sao lưu nó trước).",
                target.display()
            ),
            format!(
                "The database {} exists: add --force to replace it (back it up first).",
                target.display()
            ),
        ));
    }
    let source = Database::connect({
        let mut o = ConnectOptions::new(format!("sqlite://{}?mode=ro", from.display()));
        o.sqlx_logging(false).max_connections(1);
        o
    })
    .await
    .map_err(StoreError::Connect)?;
    let check = source
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await?
        .and_then(|r| r.try_get_by_index::<String>(0).ok());
    if check.as_deref() != Some("ok") {
        return Err(StoreError::validation(
            format!("Tệp {} không toàn vẹn: {check:?}.", from.display()),
            format!("{} fails the integrity check: {check:?}.", from.display()),
        ));
    }
    let is_ours = source
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM sqlite_master WHERE name = 'seaql_migrations'",
        ))
        .await?
        .and_then(|r| r.try_get_by_index::<i64>(0).ok())
        == Some(1);
    if !is_ours {
        return Err(StoreError::validation(
            format!(
                "Tệp {} không phải cơ sở dữ liệu của memberflow.",
                from.display()
            ),
            format!("{} is not a memberflow database.", from.display()),
        ));
    }
    let mut staging = target.clone().into_os_string();
    staging.push(".restoring");
    let staging = std::path::PathBuf::from(staging);
    let _ = std::fs::remove_file(&staging);
    let path = staging.to_string_lossy().replace('\'', "''");
    source
        .execute_unprepared(&format!("VACUUM INTO '{path}'"))
        .await?;
    source.close().await?;
    let io = |e: std::io::Error| {
        StoreError::Unreachable(memberflow_workflow::text::Text::new(
            format!("Không thay được tệp {}: {e}", target.display()),
            format!("Cannot replace {}: {e}", target.display()),
        ))
    };
    for suffix in ["-wal", "-shm"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
    }
    std::fs::rename(&staging, &target).map_err(io)?;
    Ok(target)
}

/// One connection attempt to a PostgreSQL server, so that an unreachable one is reported at
/// once with its host and the reason, in both languages (the URL's password is never shown).
async fn preflight(url: &str) -> Result<()> {
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    use std::str::FromStr as _;
    let Ok(opts) = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url) else {
        // A malformed URL: the pool's own error says so.
        return Ok(());
    };
    let target = format!("{}:{}", opts.get_host(), opts.get_port());
    let attempt = async {
        match opts.connect().await {
            Ok(c) => {
                let _ = c.close().await;
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    let outcome = match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Ok(r) => r,
        Err(_) => {
            return Err(StoreError::Unreachable(
                memberflow_workflow::text::Text::new(
                    format!(
                        "Không kết nối được cơ sở dữ liệu tại {target}: không có trả lời sau 10 giây."
                    ),
                    format!("Cannot reach the database at {target}: no answer within 10 s."),
                ),
            ));
        }
    };
    let Err(e) = outcome else { return Ok(()) };
    let (vi, en) = match &e {
        sea_orm::sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => (
                "máy chủ từ chối kết nối (không có PostgreSQL nghe ở cổng này)".to_owned(),
                "connection refused (nothing listens on that port)".to_owned(),
            ),
            std::io::ErrorKind::TimedOut => (
                "hết thời gian chờ kết nối".to_owned(),
                "the connection timed out".to_owned(),
            ),
            _ => (format!("lỗi mạng: {io}"), format!("network error: {io}")),
        },
        sea_orm::sqlx::Error::Database(d) => (
            format!("máy chủ trả lời: {}", d.message()),
            format!("the server said: {}", d.message()),
        ),
        sea_orm::sqlx::Error::Tls(t) => (format!("lỗi TLS: {t}"), format!("TLS error: {t}")),
        other => (other.to_string(), other.to_string()),
    };
    Err(StoreError::Unreachable(
        memberflow_workflow::text::Text::new(
            format!("Không kết nối được cơ sở dữ liệu tại {target}: {vi}."),
            format!("Cannot connect to the database at {target}: {en}."),
        ),
    ))
}

/// Runs `stmt` and ignores its result: for tests' and tools' raw SQL.
pub async fn execute_unprepared(store: &Store, sql: &str) -> Result<()> {
    store.db.execute_unprepared(sql).await?;
    Ok(())
}

/// `bytes` in lowercase hexadecimal (a hash's usual text), two digits a byte, by table: a
/// hash is written this way for every step's event and read for every request's token.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        assert_eq!(super::hex(&[]), "");
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        // A hash's text: `cases`' tests hold SHA-256 of nothing to its known digest.
    }
}
