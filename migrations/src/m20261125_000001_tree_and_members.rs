//! The organization tree with its history, and the member registry.
//!
//! Validity periods are half-open: `[valid_from, valid_to)`, `valid_to` NULL while open. Dates
//! are calendar dates (`DATE`): the tree and the registry change on a day, not at an instant.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
    Code,
    Name,
    Kind,
    BranchCategory,
    ValidFrom,
    ValidTo,
    SuccessorId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UnitParent {
    Table,
    Id,
    UnitId,
    ParentId,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum Member {
    Table,
    Id,
    FullName,
    DateOfBirth,
    Sex,
    Ethnicity,
    Religion,
    Education,
    Occupation,
    AdmissionDecisionDate,
    CeremonyDate,
    OfficialDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MemberUnit {
    Table,
    Id,
    MemberId,
    UnitId,
    ValidFrom,
    ValidTo,
    Reason,
}

#[derive(DeriveIden)]
enum MemberStatus {
    Table,
    Id,
    MemberId,
    Status,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum TreeEvent {
    Table,
    Id,
    Kind,
    EffectiveDate,
    Payload,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Unit::Table)
                    .col(pk_uuid(Unit::Id))
                    .col(string_uniq(Unit::Code))
                    .col(string(Unit::Name))
                    .col(string(Unit::Kind))
                    .col(string_null(Unit::BranchCategory))
                    .col(date(Unit::ValidFrom))
                    .col(date_null(Unit::ValidTo))
                    .col(uuid_null(Unit::SuccessorId))
                    .col(timestamp_with_time_zone(Unit::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unit_successor")
                            .from(Unit::Table, Unit::SuccessorId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UnitParent::Table)
                    .col(big_pk_auto(UnitParent::Id))
                    .col(uuid(UnitParent::UnitId))
                    .col(uuid(UnitParent::ParentId))
                    .col(date(UnitParent::ValidFrom))
                    .col(date_null(UnitParent::ValidTo))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unit_parent_unit")
                            .from(UnitParent::Table, UnitParent::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unit_parent_parent")
                            .from(UnitParent::Table, UnitParent::ParentId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_unit_parent_unit")
                    .table(UnitParent::Table)
                    .col(UnitParent::UnitId)
                    .col(UnitParent::ValidFrom)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_unit_parent_parent")
                    .table(UnitParent::Table)
                    .col(UnitParent::ParentId)
                    .col(UnitParent::ValidFrom)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Member::Table)
                    .col(pk_uuid(Member::Id))
                    .col(string(Member::FullName))
                    .col(date(Member::DateOfBirth))
                    .col(string(Member::Sex))
                    .col(string(Member::Ethnicity))
                    .col(string_null(Member::Religion))
                    .col(string(Member::Education))
                    .col(string_null(Member::Occupation))
                    .col(date_null(Member::AdmissionDecisionDate))
                    .col(date_null(Member::CeremonyDate))
                    .col(date_null(Member::OfficialDate))
                    .col(timestamp_with_time_zone(Member::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MemberUnit::Table)
                    .col(big_pk_auto(MemberUnit::Id))
                    .col(uuid(MemberUnit::MemberId))
                    .col(uuid(MemberUnit::UnitId))
                    .col(date(MemberUnit::ValidFrom))
                    .col(date_null(MemberUnit::ValidTo))
                    .col(string(MemberUnit::Reason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_member_unit_member")
                            .from(MemberUnit::Table, MemberUnit::MemberId)
                            .to(Member::Table, Member::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_member_unit_unit")
                            .from(MemberUnit::Table, MemberUnit::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_member_unit_unit")
                    .table(MemberUnit::Table)
                    .col(MemberUnit::UnitId)
                    .col(MemberUnit::MemberId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_member_unit_member")
                    .table(MemberUnit::Table)
                    .col(MemberUnit::MemberId)
                    .col(MemberUnit::ValidFrom)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MemberStatus::Table)
                    .col(big_pk_auto(MemberStatus::Id))
                    .col(uuid(MemberStatus::MemberId))
                    .col(string(MemberStatus::Status))
                    .col(date(MemberStatus::ValidFrom))
                    .col(date_null(MemberStatus::ValidTo))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_member_status_member")
                            .from(MemberStatus::Table, MemberStatus::MemberId)
                            .to(Member::Table, Member::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_member_status_member")
                    .table(MemberStatus::Table)
                    .col(MemberStatus::MemberId)
                    .col(MemberStatus::ValidFrom)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TreeEvent::Table)
                    .col(big_pk_auto(TreeEvent::Id))
                    .col(string(TreeEvent::Kind))
                    .col(date(TreeEvent::EffectiveDate))
                    .col(json(TreeEvent::Payload))
                    .col(timestamp_with_time_zone(TreeEvent::RecordedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TreeEvent::Table.into_iden(),
            MemberStatus::Table.into_iden(),
            MemberUnit::Table.into_iden(),
            Member::Table.into_iden(),
            UnitParent::Table.into_iden(),
            Unit::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
