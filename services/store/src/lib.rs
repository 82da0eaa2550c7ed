//! The store: the only crate that knows sea-orm.
//!
//! It owns the connection, runs the migrations, and offers commands and queries in the
//! project's own types. Each command runs in one transaction: it loads what the core needs,
//! lets the core decide, and writes the outcome, or nothing at all.

mod accounts;
mod addresses;
mod badges;
mod cases;
mod entity;
mod error;
mod import;
mod members;
mod outbox;
mod records;
mod registry;
mod stats;
mod tree;

use std::time::Duration;

use memberflow_migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, TransactionTrait,
};

pub use accounts::{AccessRecord, AccountRecord, NewSession, Principal, RoleGrant};
pub use addresses::Addressees;
pub use badges::{AwardOutcome, BadgeAwardRecord};
pub use cases::{
    CaseEventRecord, CaseFilter, CaseMigration, CaseOutcome, CasePage, CaseRecord, CaseVisibility,
    Catalog, ChainBreak, Command, EscalationReport, MigrateCases, MigrationMode, NewCase,
    RefusalRecording,
};
pub use error::{Result, StoreError};
pub use import::{ImportCounts, ImportOutcome, ImportRequest, RegistryExport};
pub use members::{MemberFilter, MemberPage, NewMember};
pub use outbox::{
    CaseBrief, ClaimRequest, Claimed, DueItem, NewOutbox, OutboxKind, OutboxRecord, OutboxStatus,
    OutboxWake, PassedDeadline, PeriodicJob, UnitBrief,
};
pub use records::{MemberRecord, MembershipPeriod, StatusPeriod, TreeNode, UnitRecord};
pub use stats::{
    BadgeCounts, BulkBadge, BulkBatch, BulkCase, BulkDiscipline, BulkEdge, BulkMember,
    BulkMembership, BulkStatus, BulkStep, BulkTreeEvent, BulkUnit, DisciplineCounts,
    MemberBreakdown, StatsCheck, StatsDifference, TargetFigures, TargetReport, TargetRequest,
    TargetRow, UnitCounts,
};
pub use tree::{MergeUnits, NewUnit};

/// A handle on the database: cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
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
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        if url.starts_with("sqlite:") {
            // One writer at a time is SQLite's rule; WAL lets readers go on meanwhile and the
            // busy timeout makes a second writer wait instead of failing.
            opts.max_connections(8).map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        } else {
            opts.max_connections(16);
        }
        let db = Database::connect(opts).await.map_err(StoreError::Connect)?;
        Ok(Self { db })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// The names of the migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        let pending = Migrator::get_pending_migrations(&self.db).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
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

    /// Closes the pool, waiting for connections in use.
    pub async fn close(self) -> Result<()> {
        self.db.close().await?;
        Ok(())
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so that concurrent commands queue on the busy timeout instead of
    /// failing when a read lock cannot be upgraded; PostgreSQL ignores the mode.
    pub(crate) async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction> {
        Ok(self
            .db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }
}

/// Runs `stmt` and ignores its result: for tests' and tools' raw SQL.
pub async fn execute_unprepared(store: &Store, sql: &str) -> Result<()> {
    store.db.execute_unprepared(sql).await?;
    Ok(())
}
