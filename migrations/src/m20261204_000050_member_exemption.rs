//! Exemption from party activities and work (S15): a member's exemption over a period
//! `[valid_from, valid_to)`, decided by the branch. `valid_to` is the planned end, or the day the
//! exemption was lifted (`lifted_decision` then says by which decision); `NULL` while it holds
//! without an end.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Member {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MemberExemption {
    Table,
    Id,
    MemberId,
    Reason,
    Decision,
    ValidFrom,
    ValidTo,
    LiftedDecision,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MemberExemption::Table)
                    .col(pk_uuid(MemberExemption::Id))
                    .col(uuid(MemberExemption::MemberId))
                    .col(string(MemberExemption::Reason))
                    .col(string(MemberExemption::Decision))
                    .col(date(MemberExemption::ValidFrom))
                    .col(date_null(MemberExemption::ValidTo))
                    .col(string_null(MemberExemption::LiftedDecision))
                    .col(timestamp_with_time_zone(MemberExemption::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_member_exemption_member")
                            .from(MemberExemption::Table, MemberExemption::MemberId)
                            .to(Member::Table, Member::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_member_exemption_member")
                    .table(MemberExemption::Table)
                    .col(MemberExemption::MemberId)
                    .col(MemberExemption::ValidFrom)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MemberExemption::Table).to_owned())
            .await
    }
}
