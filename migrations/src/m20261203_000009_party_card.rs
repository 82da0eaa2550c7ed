//! The party card number (số thẻ đảng viên): the natural key a province's own records and the
//! import/export files (docs/import.md) know a member by. Unique; nullable, because members
//! registered before it existed (and applicants not yet admitted) have none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Member {
    Table,
    PartyCardNumber,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Member::Table)
                    .add_column(string_null(Member::PartyCardNumber))
                    .to_owned(),
            )
            .await?;
        // A unique index allows any number of NULLs on both databases.
        manager
            .create_index(
                Index::create()
                    .name("ux_member_party_card_number")
                    .table(Member::Table)
                    .col(Member::PartyCardNumber)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_member_party_card_number")
                    .table(Member::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Member::Table)
                    .drop_column(Member::PartyCardNumber)
                    .to_owned(),
            )
            .await
    }
}
