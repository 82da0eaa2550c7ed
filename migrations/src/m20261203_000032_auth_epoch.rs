//! `auth_epoch`: one row whose number every revocation (logout, password change, disabled
//! account, role granted or revoked) raises in its transaction. A server keeps the
//! principals of recent sessions in memory and trusts them only while this number is the one
//! it read them under, so a revocation by any process takes effect on the next request.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer};
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuthEpoch {
    Table,
    Id,
    Epoch,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthEpoch::Table)
                    .col(integer(AuthEpoch::Id).primary_key())
                    .col(big_integer(AuthEpoch::Epoch))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(AuthEpoch::Table)
            .columns([AuthEpoch::Id, AuthEpoch::Epoch])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        manager.get_connection().execute(&insert).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuthEpoch::Table).to_owned())
            .await
    }
}
