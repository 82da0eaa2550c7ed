//! The discipline register follows the cases: `discipline_record.case_id` names the case a
//! decision was recorded from (none for a record imported without its case), `status` is
//! `IN_FORCE`, `LAPSED` (C1) or `ANNULLED` (P6) and `status_date` the day it became so; the form
//! follows appeal rulings. `ix_case_subject` serves the registry context of a step (the open
//! discipline cases about a member, C2 and C7). `ux_badge_award_member_years`: a member receives
//! each badge once (A30), also when two awards race.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DisciplineRecord {
    Table,
    CaseId,
    Status,
    StatusDate,
}

#[derive(DeriveIden)]
enum BadgeAward {
    Table,
    MemberId,
    Years,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    SubjectMemberId,
    Terminal,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(DisciplineRecord::Table)
                    .add_column(uuid_null(DisciplineRecord::CaseId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DisciplineRecord::Table)
                    .add_column(string(DisciplineRecord::Status).default("IN_FORCE"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DisciplineRecord::Table)
                    .add_column(date_null(DisciplineRecord::StatusDate))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_discipline_record_case")
                    .table(DisciplineRecord::Table)
                    .col(DisciplineRecord::CaseId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_badge_award_member_years")
                    .table(BadgeAward::Table)
                    .col(BadgeAward::MemberId)
                    .col(BadgeAward::Years)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_case_subject")
                    .table(Cases::Table)
                    .col(Cases::SubjectMemberId)
                    .col(Cases::Terminal)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_case_subject")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_badge_award_member_years")
                    .table(BadgeAward::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ux_discipline_record_case")
                    .table(DisciplineRecord::Table)
                    .to_owned(),
            )
            .await?;
        for c in [
            DisciplineRecord::StatusDate.into_iden(),
            DisciplineRecord::Status.into_iden(),
            DisciplineRecord::CaseId.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DisciplineRecord::Table)
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
