//! The forecast's aggregates (docs/targets.md, "The forecast's aggregates"): the admission
//! cases not decided yet, counted by stage (`stage`, the workflow state) and running decision
//! deadline (`due`, the A10 deadline's last day as `YYYY-MM-DD`, or empty while none runs).
//! `stat_open_admission` counts those of each unit itself, `stat_open_rollup` those of each
//! unit with everything below it on the tree as it stands after its last dated change, so that
//! the forecast of any unit, the whole tree's included, is one indexed read. Kept in the
//! transaction of every step that opens, moves or closes an admission case and of every tree
//! change; its `stat_counter` row (`forecast`) holds whether they are built.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatOpenAdmission {
    Table,
}

#[derive(DeriveIden)]
enum StatOpenRollup {
    Table,
}

#[derive(DeriveIden)]
enum Col {
    UnitId,
    Stage,
    Due,
    Cases,
}

#[derive(DeriveIden)]
enum StatCounter {
    Table,
    Counter,
    Built,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    DefinitionId,
    Terminal,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StatOpenAdmission::Table.into_iden(),
            StatOpenRollup::Table.into_iden(),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(uuid(Col::UnitId))
                        .col(string(Col::Stage))
                        .col(string(Col::Due))
                        .col(big_integer(Col::Cases))
                        .primary_key(
                            Index::create()
                                .col(Col::UnitId)
                                .col(Col::Stage)
                                .col(Col::Due),
                        )
                        .to_owned(),
                )
                .await?;
        }
        // Without an open admission case the aggregates are built already; over cases opened
        // before this migration they are built from the cases the first time they are needed.
        let open = manager
            .get_connection()
            .query_one(
                Query::select()
                    .expr_as(Expr::col(Cases::Id).count(), "n")
                    .from(Cases::Table)
                    .and_where(Expr::col(Cases::DefinitionId).eq("admission"))
                    .and_where(Expr::col(Cases::Terminal).eq(false)),
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
            .values([Expr::val("forecast"), Expr::val(open == 0)])
            .map_err(|e| DbErr::Migration(e.to_string()))?;
        manager.exec_stmt(insert).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table(StatCounter::Table)
            .and_where(Expr::col(StatCounter::Counter).eq("forecast"))
            .to_owned();
        manager.exec_stmt(delete).await?;
        for table in [
            StatOpenRollup::Table.into_iden(),
            StatOpenAdmission::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
