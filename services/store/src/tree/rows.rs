//! The multi-row inserts of units, their parent links and the tree's journal, shared by the
//! import and the demos' bulk loading: the one place that lists the columns of `unit`,
//! `unit_parent` and `tree_event` for a bulk write. The callers rewrite the ancestry.

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::tree::UnitKind;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::{tree_event, unit, unit_parent};
use crate::error::Result;
use crate::loader::BulkWrite;
use crate::registry::rows::Progress;
use crate::stats::bulk::{cols, insert_rows};

/// A unit to insert (its successor is set afterwards: [`set_successor`]).
pub(crate) struct UnitInsert<'a> {
    pub id: Uuid,
    pub code: &'a str,
    pub name: &'a str,
    pub kind: UnitKind,
    pub branch_category: Option<&'a str>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// A parent link: unit, parent, first day, first day after.
pub(crate) type LinkInsert = (Uuid, Uuid, NaiveDate, Option<NaiveDate>);

/// A journal entry: kind (`CREATE`, `MERGE`, `MOVE`), effective date, payload.
pub(crate) type JournalInsert<'a> = (&'a str, NaiveDate, serde_json::Value);

/// Inserts `rows` into `unit`, created at `now`.
pub(crate) async fn insert_units(
    c: &impl BulkWrite,
    rows: &[UnitInsert<'_>],
    now: DateTime<Utc>,
    progress: Progress<'_>,
) -> Result<()> {
    insert_rows(
        c,
        unit::Entity,
        cols(vec![
            unit::Column::Id,
            unit::Column::Code,
            unit::Column::Name,
            unit::Column::Kind,
            unit::Column::BranchCategory,
            unit::Column::ValidFrom,
            unit::Column::ValidTo,
            unit::Column::CreatedAt,
        ]),
        rows,
        |u| {
            vec![
                u.id.into(),
                u.code.into(),
                u.name.into(),
                u.kind.as_str().into(),
                u.branch_category.map(str::to_owned).into(),
                u.valid_from.into(),
                u.valid_to.into(),
                now.into(),
            ]
        },
        progress,
        "units",
    )
    .await
}

/// Records `target` as the successor of `sources` (units merged into it).
pub(crate) async fn set_successor(
    c: &impl ConnectionTrait,
    target: Uuid,
    sources: &[Uuid],
) -> Result<()> {
    for chunk in sources.chunks(500) {
        unit::Entity::update_many()
            .col_expr(unit::Column::SuccessorId, target.into())
            .filter(unit::Column::Id.is_in(chunk.iter().copied()))
            .exec(c)
            .await?;
    }
    Ok(())
}

/// Inserts `rows` into `unit_parent`.
pub(crate) async fn insert_links(
    c: &impl BulkWrite,
    rows: &[LinkInsert],
    progress: Progress<'_>,
) -> Result<()> {
    insert_rows(
        c,
        unit_parent::Entity,
        cols(vec![
            unit_parent::Column::UnitId,
            unit_parent::Column::ParentId,
            unit_parent::Column::ValidFrom,
            unit_parent::Column::ValidTo,
        ]),
        rows,
        |(u, p, from, to)| vec![(*u).into(), (*p).into(), (*from).into(), (*to).into()],
        progress,
        "parent links",
    )
    .await
}

/// Inserts `rows` into the tree's journal (`tree_event`), recorded at `now`.
pub(crate) async fn insert_journal(
    c: &impl BulkWrite,
    rows: &[JournalInsert<'_>],
    now: DateTime<Utc>,
    progress: Progress<'_>,
) -> Result<()> {
    insert_rows(
        c,
        tree_event::Entity,
        cols(vec![
            tree_event::Column::Kind,
            tree_event::Column::EffectiveDate,
            tree_event::Column::Payload,
            tree_event::Column::RecordedAt,
        ]),
        rows,
        |(kind, date, payload)| {
            vec![
                (*kind).into(),
                (*date).into(),
                payload.clone().into(),
                now.into(),
            ]
        },
        progress,
        "tree journal",
    )
    .await
}
