//! `stat_rollup`: the admission target's figures of every unit **with everything below it**,
//! per base day (`anchor`) and target year, on the tree of the year's last day
//! (docs/targets.md, "Subtree aggregates"): the members on the base day (`base`) and the year's
//! admissions (`admitted`). Kept in the transaction of every command that changes a counter or
//! the tree, so that a unit's target is one indexed read. Its `stat_counter` row
//! (`rollup@MM-DD`) holds whether it is built and its horizon: the last year with rows (every
//! later year reads the horizon's members and no admission).
//!
//! Also indexes on the validity dates of units and parent links: a report of the running year
//! asks whether the tree changes between today and 31/12 with one indexed read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatRollup {
    Table,
    Anchor,
    UnitId,
    Year,
    Base,
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
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum UnitParent {
    Table,
    ValidFrom,
    ValidTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StatRollup::Table)
                    .col(string(StatRollup::Anchor))
                    .col(uuid(StatRollup::UnitId))
                    .col(integer(StatRollup::Year))
                    .col(big_integer(StatRollup::Base))
                    .col(big_integer(StatRollup::Admitted))
                    .primary_key(
                        Index::create()
                            .col(StatRollup::Anchor)
                            .col(StatRollup::UnitId)
                            .col(StatRollup::Year),
                    )
                    .to_owned(),
            )
            .await?;
        // Over an empty registry the aggregates are built already; over members registered
        // before this migration they are built from the counters the first time they are needed.
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
        insert
            .values([Expr::val("rollup@12-31"), Expr::val(members == 0)])
            .map_err(|e| DbErr::Migration(e.to_string()))?;
        manager.exec_stmt(insert).await?;
        for (name, table, col) in [
            (
                "ix_unit_valid_from",
                Unit::Table.into_iden(),
                Unit::ValidFrom.into_iden(),
            ),
            (
                "ix_unit_valid_to",
                Unit::Table.into_iden(),
                Unit::ValidTo.into_iden(),
            ),
            (
                "ix_unit_parent_valid_from",
                UnitParent::Table.into_iden(),
                UnitParent::ValidFrom.into_iden(),
            ),
            (
                "ix_unit_parent_valid_to",
                UnitParent::Table.into_iden(),
                UnitParent::ValidTo.into_iden(),
            ),
        ] {
            manager
                .create_index(Index::create().name(name).table(table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_unit_valid_from", Unit::Table.into_iden()),
            ("ix_unit_valid_to", Unit::Table.into_iden()),
            ("ix_unit_parent_valid_from", UnitParent::Table.into_iden()),
            ("ix_unit_parent_valid_to", UnitParent::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        let delete = Query::delete()
            .from_table(StatCounter::Table)
            .and_where(Expr::col(StatCounter::Counter).like("rollup@%"))
            .to_owned();
        manager.exec_stmt(delete).await?;
        manager
            .drop_table(Table::drop().table(StatRollup::Table).to_owned())
            .await
    }
}
