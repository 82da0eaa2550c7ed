//! Indexes for what the commands and lists look up: the open deadlines of a case and the
//! pending outbox rows of a case (partial indexes, so a step reads a handful of entries instead
//! of scanning every open row), and on PostgreSQL a trigram index (`pg_trgm`) on
//! `member.search_name` so a search for a part of a name is an index read too.
//!
//! sea-query's schema builder has no `WHERE` for an index; the statements below are the same
//! text in both dialects. The trigram index is PostgreSQL's alone and is made only where the
//! extension is available; SQLite's search stays a scan of the (small) search keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX ix_case_deadline_open ON case_deadline (case_id, key) WHERE status = 'OPEN'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX ix_outbox_pending_case ON outbox (case_id) WHERE status = 'PENDING'",
        )
        .await?;
        if db.get_database_backend() == DbBackend::Postgres {
            let available = db
                .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT 1 AS one FROM pg_available_extensions WHERE name = 'pg_trgm'",
                ))
                .await?
                .is_some();
            if available {
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_member_search_name_trgm ON member USING gin (search_name gin_trgm_ops)",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP INDEX IF EXISTS ix_member_search_name_trgm")
                .await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS ix_outbox_pending_case")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS ix_case_deadline_open")
            .await?;
        Ok(())
    }
}
