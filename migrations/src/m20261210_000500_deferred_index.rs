//! The indexes a bulk build dropped to build them once at its end (PostgreSQL; see the
//! store's `deferred` module): each index's name, table and definition, deleted in the
//! transaction that builds it. Every start builds what is still listed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeferredIndex {
    Table,
    Name,
    TableName,
    Definition,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeferredIndex::Table)
                    .col(string(DeferredIndex::Name).primary_key())
                    .col(string(DeferredIndex::TableName))
                    .col(text(DeferredIndex::Definition))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeferredIndex::Table).to_owned())
            .await
    }
}
