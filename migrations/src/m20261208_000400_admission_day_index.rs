//! An index of `stat_admission_day` by day: the units that admitted during a period (the
//! question "units without an admission for N years", docs/reports.md) are read as a range of
//! days instead of a scan of every unit's days.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatAdmissionDay {
    Table,
    UnitId,
    Day,
}

const INDEX: &str = "ix_stat_admission_day_day";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(StatAdmissionDay::Table)
                    .col(StatAdmissionDay::Day)
                    .col(StatAdmissionDay::UnitId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(StatAdmissionDay::Table)
                    .to_owned(),
            )
            .await
    }
}
