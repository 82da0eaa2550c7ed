//! `stat_admission_day`: the admissions counted for a unit on each day (the admission
//! decision's date), beside `stat_admission`'s per year, kept by the same commands in the same
//! transactions and counted by the same rule (the member's first unit). It answers "when did
//! this unit last admit someone, on or before a day" with one grouped index read instead of a
//! scan of the registry (docs/reports.md, "Units without an admission").
//!
//! Over a registry that has members the admissions counter is marked unbuilt, so that it is
//! rebuilt from the registry, both tables at once, the first time it is needed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatAdmissionDay {
    Table,
    UnitId,
    Day,
    Admitted,
}

#[derive(DeriveIden)]
enum StatCounter {
    Table,
    Counter,
    Built,
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
                    .table(StatAdmissionDay::Table)
                    .col(uuid(StatAdmissionDay::UnitId))
                    .col(date(StatAdmissionDay::Day))
                    .col(big_integer(StatAdmissionDay::Admitted))
                    .primary_key(
                        Index::create()
                            .col(StatAdmissionDay::UnitId)
                            .col(StatAdmissionDay::Day),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stat_admission_day_unit")
                            .from(StatAdmissionDay::Table, StatAdmissionDay::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let members = manager
            .get_connection()
            .query_one(
                Query::select()
                    .expr_as(Expr::col(Member::Id).count(), "n")
                    .from(Member::Table),
            )
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if members > 0 {
            manager
                .exec_stmt(
                    Query::update()
                        .table(StatCounter::Table)
                        .value(StatCounter::Built, false)
                        .and_where(Expr::col(StatCounter::Counter).eq("admissions"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StatAdmissionDay::Table).to_owned())
            .await
    }
}
