//! The indexes and foreign keys a bulk build dropped to make them again once at its end
//! (PostgreSQL; see the store's `deferred` module): each one's kind (`index`, `foreign key`),
//! name, table and the statement that makes it, deleted in the transaction that runs it. Every
//! start runs what is still listed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DeferredIndex {
    Table,
    TableName,
    Name,
    Kind,
    Statement,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeferredIndex::Table)
                    .col(string(DeferredIndex::TableName))
                    .col(string(DeferredIndex::Name))
                    .col(string(DeferredIndex::Kind))
                    .col(text(DeferredIndex::Statement))
                    // A constraint's name is unique within its table only.
                    .primary_key(
                        Index::create()
                            .col(DeferredIndex::TableName)
                            .col(DeferredIndex::Name),
                    )
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
