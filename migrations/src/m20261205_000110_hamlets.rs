//! The register of hamlets and residential groups (ấp, khu vực, tổ dân phố): administrative
//! places, not party units. Each belongs to a commune-level party unit and exists over
//! `[valid_from, valid_to)`; a hamlet merged into another ends with `successor_id` set.
//! `hamlet_branch` links a hamlet branch (a unit of category `HAMLET`) to its hamlet over a
//! period, `member_residence` says which hamlet a member lives in over a period: dated facts,
//! closed and opened, never rewritten (docs/reports.md).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Hamlet {
    Table,
    Id,
    Code,
    Name,
    Kind,
    UnitId,
    ValidFrom,
    ValidTo,
    SuccessorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum HamletBranch {
    Table,
    Id,
    HamletId,
    UnitId,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum MemberResidence {
    Table,
    Id,
    MemberId,
    HamletId,
    ValidFrom,
    ValidTo,
    Reason,
}

#[derive(DeriveIden)]
enum Member {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Hamlet::Table)
                    .col(pk_uuid(Hamlet::Id))
                    .col(string_uniq(Hamlet::Code))
                    .col(string(Hamlet::Name))
                    .col(string(Hamlet::Kind))
                    .col(uuid(Hamlet::UnitId))
                    .col(date(Hamlet::ValidFrom))
                    .col(date_null(Hamlet::ValidTo))
                    .col(uuid_null(Hamlet::SuccessorId))
                    .col(timestamp_with_time_zone(Hamlet::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hamlet_unit")
                            .from(Hamlet::Table, Hamlet::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hamlet_successor")
                            .from(Hamlet::Table, Hamlet::SuccessorId)
                            .to(Hamlet::Table, Hamlet::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_hamlet_unit")
                    .table(Hamlet::Table)
                    .col(Hamlet::UnitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HamletBranch::Table)
                    .col(big_pk_auto(HamletBranch::Id))
                    .col(uuid(HamletBranch::HamletId))
                    .col(uuid(HamletBranch::UnitId))
                    .col(date(HamletBranch::ValidFrom))
                    .col(date_null(HamletBranch::ValidTo))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hamlet_branch_hamlet")
                            .from(HamletBranch::Table, HamletBranch::HamletId)
                            .to(Hamlet::Table, Hamlet::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hamlet_branch_unit")
                            .from(HamletBranch::Table, HamletBranch::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_hamlet_branch_hamlet", HamletBranch::HamletId),
            ("ix_hamlet_branch_unit", HamletBranch::UnitId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(HamletBranch::Table)
                        .col(col)
                        .col(HamletBranch::ValidFrom)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MemberResidence::Table)
                    .col(big_pk_auto(MemberResidence::Id))
                    .col(uuid(MemberResidence::MemberId))
                    .col(uuid(MemberResidence::HamletId))
                    .col(date(MemberResidence::ValidFrom))
                    .col(date_null(MemberResidence::ValidTo))
                    .col(string(MemberResidence::Reason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_member_residence_member")
                            .from(MemberResidence::Table, MemberResidence::MemberId)
                            .to(Member::Table, Member::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_member_residence_hamlet")
                            .from(MemberResidence::Table, MemberResidence::HamletId)
                            .to(Hamlet::Table, Hamlet::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_member_residence_member", MemberResidence::MemberId),
            ("ix_member_residence_hamlet", MemberResidence::HamletId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(MemberResidence::Table)
                        .col(col)
                        .col(MemberResidence::ValidFrom)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MemberResidence::Table.into_iden(),
            HamletBranch::Table.into_iden(),
            Hamlet::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
