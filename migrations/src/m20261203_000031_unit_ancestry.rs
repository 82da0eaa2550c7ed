//! `unit_ancestry`: the tree's ancestry kept as data, a temporal closure table. One row per
//! unit and each of its ancestors (the unit itself at depth 0) over the period the relation
//! holds, so "the ancestors of a unit on a date" and "the subtree of a unit on a date" are
//! one index read each (ARCHITECTURE.md). Every tree write keeps it in its transaction; this
//! migration fills it for the existing tree from `unit` and `unit_parent`.

use memberflow_workflow::tree::{ParentLink, UnitSpan, ancestry_rows};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_pk_auto, date, date_null, integer, uuid};
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UnitAncestry {
    Table,
    Id,
    UnitId,
    AncestorId,
    Depth,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
    ValidFrom,
    ValidTo,
}

#[derive(DeriveIden)]
enum UnitParent {
    Table,
    UnitId,
    ParentId,
    ValidFrom,
    ValidTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UnitAncestry::Table)
                    .col(big_pk_auto(UnitAncestry::Id))
                    .col(uuid(UnitAncestry::UnitId))
                    .col(uuid(UnitAncestry::AncestorId))
                    .col(integer(UnitAncestry::Depth))
                    .col(date(UnitAncestry::ValidFrom))
                    .col(date_null(UnitAncestry::ValidTo))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UnitAncestry::Table, UnitAncestry::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UnitAncestry::Table, UnitAncestry::AncestorId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Ancestors of a unit (authorization, paths), nearest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_unit_ancestry_unit")
                    .table(UnitAncestry::Table)
                    .col(UnitAncestry::UnitId)
                    .col(UnitAncestry::Depth)
                    .col(UnitAncestry::ValidFrom)
                    .to_owned(),
            )
            .await?;
        // The subtree of a unit (lists, scopes), with the unit ids in the index.
        manager
            .create_index(
                Index::create()
                    .name("ix_unit_ancestry_ancestor")
                    .table(UnitAncestry::Table)
                    .col(UnitAncestry::AncestorId)
                    .col(UnitAncestry::ValidFrom)
                    .col(UnitAncestry::UnitId)
                    .to_owned(),
            )
            .await?;
        backfill(manager.get_connection()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UnitAncestry::Table).to_owned())
            .await
    }
}

async fn backfill(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    let units_q = Query::select()
        .columns([Unit::Id, Unit::ValidFrom, Unit::ValidTo])
        .from(Unit::Table)
        .to_owned();
    let mut units = Vec::new();
    for row in db.query_all(&units_q).await? {
        units.push(UnitSpan {
            id: row.try_get::<sea_orm_migration::sea_orm::prelude::Uuid>("", "id")?,
            from: row.try_get("", "valid_from")?,
            to: row.try_get("", "valid_to")?,
        });
    }
    if units.is_empty() {
        return Ok(());
    }
    let links_q = Query::select()
        .columns([
            UnitParent::UnitId,
            UnitParent::ParentId,
            UnitParent::ValidFrom,
            UnitParent::ValidTo,
        ])
        .from(UnitParent::Table)
        .to_owned();
    let mut links = Vec::new();
    for row in db.query_all(&links_q).await? {
        links.push(ParentLink {
            unit: row.try_get::<sea_orm_migration::sea_orm::prelude::Uuid>("", "unit_id")?,
            parent: row.try_get("", "parent_id")?,
            from: row.try_get("", "valid_from")?,
            to: row.try_get("", "valid_to")?,
        });
    }
    let rows = ancestry_rows(&units, &links, &[]);
    // Well within both databases' limits on bound parameters per statement.
    for chunk in rows.chunks(2000) {
        let mut insert = Query::insert();
        insert.into_table(UnitAncestry::Table).columns([
            UnitAncestry::UnitId,
            UnitAncestry::AncestorId,
            UnitAncestry::Depth,
            UnitAncestry::ValidFrom,
            UnitAncestry::ValidTo,
        ]);
        for r in chunk {
            insert
                .values([
                    r.unit.into(),
                    r.ancestor.into(),
                    <i32 as TryFrom<u32>>::try_from(r.depth)
                        .unwrap_or(i32::MAX)
                        .into(),
                    r.from.into(),
                    r.to.into(),
                ])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        db.execute(&insert).await?;
    }
    Ok(())
}
