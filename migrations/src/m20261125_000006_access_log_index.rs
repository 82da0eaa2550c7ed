//! The access log is read by subject (who looked at this disciplinary case, newest first):
//! index it so. Rows are only ever appended.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Subject,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_access_log_subject_at")
                    .table(AccessLog::Table)
                    .col(AccessLog::Subject)
                    .col(AccessLog::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_access_log_subject_at")
                    .table(AccessLog::Table)
                    .to_owned(),
            )
            .await
    }
}
