//! Statistics: the counters behind the admission-target reports (S20, S21), kept in the same
//! transaction as the commands that change membership, and two registers the source report
//! counts that no workflow records yet (discipline decisions by form, party badges).
//!
//! - `stat_counter`: the counters kept (`admissions`, and `membership@MM-DD` for each base
//!   day), whether they are built (a database that already had members gets them built from
//!   scratch on first use) and the last year the membership rows reach (`horizon`).
//!   `membership@12-31` (S21's default base day) is there from the start.
//! - `stat_membership`: party members (probationary and official) of a unit on the base day
//!   (`anchor`, `MM-DD`) of `year`, one row per unit and year from the unit's first member to
//!   the horizon.
//! - `stat_admission`: admissions counted for a unit in a year (by the decision's date).
//! - `discipline_record`, `badge_award`: see their columns.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatCounter {
    Table,
    Counter,
    Built,
    Horizon,
}

#[derive(DeriveIden)]
enum StatMembership {
    Table,
    Anchor,
    UnitId,
    Year,
    Members,
}

#[derive(DeriveIden)]
enum StatAdmission {
    Table,
    UnitId,
    Year,
    Admitted,
}

#[derive(DeriveIden)]
enum DisciplineRecord {
    Table,
    Id,
    MemberId,
    UnitId,
    Form,
    DecisionDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BadgeAward {
    Table,
    Id,
    MemberId,
    Years,
    AwardDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Member {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StatCounter::Table)
                    .col(string(StatCounter::Counter).primary_key())
                    .col(boolean(StatCounter::Built))
                    .col(integer_null(StatCounter::Horizon))
                    .to_owned(),
            )
            .await?;
        // Counters over an empty registry are built already; over members registered before
        // this migration they are built from scratch the first time they are needed.
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
        let mut insert = Query::insert();
        insert
            .into_table(StatCounter::Table)
            .columns([StatCounter::Counter, StatCounter::Built]);
        for name in ["admissions", "membership@12-31"] {
            insert
                .values([Expr::val(name), Expr::val(members == 0)])
                .map_err(|e| DbErr::Migration(e.to_string()))?;
        }
        manager.exec_stmt(insert).await?;

        manager
            .create_table(
                Table::create()
                    .table(StatMembership::Table)
                    .col(string(StatMembership::Anchor))
                    .col(uuid(StatMembership::UnitId))
                    .col(integer(StatMembership::Year))
                    .col(big_integer(StatMembership::Members))
                    .primary_key(
                        Index::create()
                            .col(StatMembership::Anchor)
                            .col(StatMembership::UnitId)
                            .col(StatMembership::Year),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stat_membership_unit")
                            .from(StatMembership::Table, StatMembership::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A year's report reads every unit's row of that year.
        manager
            .create_index(
                Index::create()
                    .name("ix_stat_membership_year")
                    .table(StatMembership::Table)
                    .col(StatMembership::Anchor)
                    .col(StatMembership::Year)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StatAdmission::Table)
                    .col(uuid(StatAdmission::UnitId))
                    .col(integer(StatAdmission::Year))
                    .col(big_integer(StatAdmission::Admitted))
                    .primary_key(
                        Index::create()
                            .col(StatAdmission::UnitId)
                            .col(StatAdmission::Year),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stat_admission_unit")
                            .from(StatAdmission::Table, StatAdmission::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_stat_admission_year")
                    .table(StatAdmission::Table)
                    .col(StatAdmission::Year)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DisciplineRecord::Table)
                    .col(big_pk_auto(DisciplineRecord::Id))
                    .col(uuid(DisciplineRecord::MemberId))
                    .col(uuid(DisciplineRecord::UnitId))
                    .col(string(DisciplineRecord::Form))
                    .col(date(DisciplineRecord::DecisionDate))
                    .col(timestamp_with_time_zone(DisciplineRecord::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_discipline_record_member")
                            .from(DisciplineRecord::Table, DisciplineRecord::MemberId)
                            .to(Member::Table, Member::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_discipline_record_unit")
                            .from(DisciplineRecord::Table, DisciplineRecord::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_discipline_record_date")
                    .table(DisciplineRecord::Table)
                    .col(DisciplineRecord::DecisionDate)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BadgeAward::Table)
                    .col(big_pk_auto(BadgeAward::Id))
                    .col(uuid(BadgeAward::MemberId))
                    .col(integer(BadgeAward::Years))
                    .col(date(BadgeAward::AwardDate))
                    .col(timestamp_with_time_zone(BadgeAward::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_badge_award_member")
                            .from(BadgeAward::Table, BadgeAward::MemberId)
                            .to(Member::Table, Member::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_badge_award_date")
                    .table(BadgeAward::Table)
                    .col(BadgeAward::AwardDate)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BadgeAward::Table.into_iden(),
            DisciplineRecord::Table.into_iden(),
            StatAdmission::Table.into_iden(),
            StatMembership::Table.into_iden(),
            StatCounter::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
