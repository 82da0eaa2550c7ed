//! The organization tree: creating, moving, merging and dissolving units, and reading the
//! tree as it stood on any date.
//!
//! History is never overwritten: a change closes the periods it ends (`valid_to = date`) and
//! opens new ones (`valid_from = date`). Changes to one unit are applied in date order, so a
//! change dated on or before the start of a unit's current period is refused as a conflict.
//!
//! The ancestry (`ancestry.rs`) is the tree's closure table, rewritten by every tree write;
//! `rows.rs` has the multi-row inserts of units, links and journal entries (import, bulk).

pub(crate) mod ancestry;
pub(crate) mod rows;

pub use ancestry::AncestryProblem;

aggregate!(
    /// The organization tree: units, their parent links and their ancestry, on any date.
    Tree,
    tree
);

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::{self as core, UnitKind};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use uuid::Uuid;

use crate::entity::{member_unit, tree_event, unit, unit_parent};
use crate::error::{Result, StoreError};
use crate::records::{TreeNode, UnitRecord};

/// A unit to create.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// Unique code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Kind.
    pub kind: UnitKind,
    /// For branches, the report's category.
    pub branch_category: Option<String>,
    /// Parent from `valid_from` on; none for a root.
    pub parent_id: Option<Uuid>,
    /// First day of existence.
    pub valid_from: NaiveDate,
}

/// Units to merge into another.
#[derive(Debug, Clone)]
pub struct MergeUnits {
    /// The units that end.
    pub sources: Vec<Uuid>,
    /// The unit that takes over their children, members and cases.
    pub target: Uuid,
    /// The first day of the merged unit.
    pub date: NaiveDate,
}

/// Rows whose half-open period `[from, to)` covers `d`: the one condition every table with
/// a validity period is read with.
pub(crate) fn valid_on<C: ColumnTrait>(from: C, to: C, d: NaiveDate) -> Condition {
    Condition::all()
        .add(from.lte(d))
        .add(Condition::any().add(to.is_null()).add(to.gt(d)))
}

pub(crate) fn valid_on_unit(d: NaiveDate) -> Condition {
    valid_on(unit::Column::ValidFrom, unit::Column::ValidTo, d)
}

fn valid_on_edge(d: NaiveDate) -> Condition {
    valid_on(
        unit_parent::Column::ValidFrom,
        unit_parent::Column::ValidTo,
        d,
    )
}

/// The units existing on `d` whose parent link of that day matches `parent` (a condition on
/// `unit_parent.parent_id`), each with that parent as `parent_of`.
fn children_query(
    parent: sea_orm::sea_query::SimpleExpr,
    d: NaiveDate,
) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .columns(<unit::Column as sea_orm::Iterable>::iter().map(|c| (unit::Entity, c)))
        .expr_as(
            Expr::col((unit_parent::Entity, unit_parent::Column::ParentId)),
            sea_orm::sea_query::Alias::new("parent_of"),
        )
        .from(unit::Entity)
        .inner_join(
            unit_parent::Entity,
            Expr::col((unit_parent::Entity, unit_parent::Column::UnitId))
                .equals((unit::Entity, unit::Column::Id)),
        )
        .cond_where(
            Condition::all()
                .add(parent)
                .add(valid_on_edge(d))
                .add(valid_on_unit(d)),
        )
        .to_owned()
}

/// A unit named by its id or by its code.
#[derive(Debug, Clone, Copy)]
pub enum UnitKey<'a> {
    /// By id.
    Id(Uuid),
    /// By code.
    Code(&'a str),
}

pub(crate) fn valid_on_membership(d: NaiveDate) -> Condition {
    valid_on(
        member_unit::Column::ValidFrom,
        member_unit::Column::ValidTo,
        d,
    )
}

fn unit_text(u: &UnitRecord) -> Text {
    Text::new(format!("đơn vị {}", u.code), format!("unit {}", u.code))
}

pub(crate) async fn load_unit(c: &impl ConnectionTrait, id: Uuid) -> Result<UnitRecord> {
    unit::Entity::find_by_id(id)
        .one(c)
        .await?
        .ok_or_else(|| StoreError::not_found("unit", id))?
        .try_into()
}

pub(crate) async fn parent_edge_on(
    c: &impl ConnectionTrait,
    id: Uuid,
    d: NaiveDate,
) -> Result<Option<unit_parent::Model>> {
    Ok(unit_parent::Entity::find()
        .filter(unit_parent::Column::UnitId.eq(id))
        .filter(valid_on_edge(d))
        .one(c)
        .await?)
}

async fn open_parent_edge(
    c: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<unit_parent::Model>> {
    Ok(unit_parent::Entity::find()
        .filter(unit_parent::Column::UnitId.eq(id))
        .filter(unit_parent::Column::ValidTo.is_null())
        .one(c)
        .await?)
}

/// The codes of `id` and its ancestors on `d`, nearest first.
async fn ancestry_codes(c: &impl ConnectionTrait, id: Uuid, d: NaiveDate) -> Result<Vec<String>> {
    let mut codes = Vec::new();
    let mut current = Some(id);
    // The tree is at most a handful of levels deep; the bound guards against a corrupt cycle.
    for _ in 0..32 {
        let Some(cur) = current else { break };
        let u = load_unit(c, cur).await?;
        codes.push(u.code);
        current = parent_edge_on(c, cur, d).await?.map(|e| e.parent_id);
    }
    Ok(codes)
}

/// The same, following the open (current) links rather than those of a date.
async fn open_ancestry_codes(c: &impl ConnectionTrait, id: Uuid) -> Result<Vec<String>> {
    let mut codes = Vec::new();
    let mut current = Some(id);
    for _ in 0..32 {
        let Some(cur) = current else { break };
        let u = load_unit(c, cur).await?;
        codes.push(u.code);
        current = open_parent_edge(c, cur).await?.map(|e| e.parent_id);
    }
    Ok(codes)
}

/// `ids` and every unit that ever stood above them (a parent in any period) or took them over
/// (a merge's successor), transitively: all the units whose dated links decide where `ids`
/// stand on any date. One recursive query per 500 ids; the tree's ancestry kept as data can
/// replace it.
pub(crate) async fn lineage(c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    let backend = c.get_database_backend();
    let mut out: Vec<Uuid> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len())
            .map(|i| match backend {
                sea_orm::DbBackend::Postgres => format!("${i}"),
                _ => "?".to_owned(),
            })
            .collect();
        // One recursive reference (PostgreSQL allows no more): each step follows both the
        // unit's parent links and its successor. On PostgreSQL as index lookups of each unit
        // reached (LATERAL): joined, the planner expects thousands of rows from the working
        // table and hashes all of `unit` and `unit_parent` at every step, whose time grows with
        // the tree (0.5 s a call for a national demo of 60 provinces). SQLite has no LATERAL
        // and looks each unit up anyway.
        let sql = match backend {
            sea_orm::DbBackend::Postgres => format!(
                "WITH RECURSIVE up(id) AS (\
                   SELECT id FROM unit WHERE id IN ({}) \
                   UNION \
                   SELECT n.id FROM up CROSS JOIN LATERAL (\
                     SELECT p.parent_id AS id FROM unit_parent p WHERE p.unit_id = up.id \
                     UNION ALL \
                     SELECT u.successor_id FROM unit u \
                     WHERE u.id = up.id AND u.successor_id IS NOT NULL\
                   ) n\
                 ) SELECT id FROM up",
                marks.join(", ")
            ),
            _ => format!(
                "WITH RECURSIVE up(id) AS (\
                   SELECT id FROM unit WHERE id IN ({}) \
                   UNION \
                   SELECT CASE k.k WHEN 0 THEN p.parent_id ELSE u.successor_id END \
                   FROM up JOIN unit u ON u.id = up.id \
                   LEFT JOIN unit_parent p ON p.unit_id = up.id \
                   CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) k \
                   WHERE (CASE k.k WHEN 0 THEN p.parent_id ELSE u.successor_id END) IS NOT NULL\
                 ) SELECT id FROM up",
                marks.join(", ")
            ),
        };
        let stmt = sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            chunk.iter().map(|u| sea_orm::Value::from(*u)),
        );
        for row in c.query_all_raw(stmt).await? {
            let id: Uuid = row.try_get("", "id")?;
            if seen.insert(id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}

async fn close_edge(
    c: &impl ConnectionTrait,
    edge: &unit_parent::Model,
    d: NaiveDate,
) -> Result<()> {
    let mut am: unit_parent::ActiveModel = edge.clone().into();
    am.valid_to = Set(Some(d));
    am.update(c).await?;
    Ok(())
}

async fn open_edge(
    c: &impl ConnectionTrait,
    unit_id: Uuid,
    parent_id: Uuid,
    d: NaiveDate,
) -> Result<()> {
    unit_parent::ActiveModel {
        unit_id: Set(unit_id),
        parent_id: Set(parent_id),
        valid_from: Set(d),
        valid_to: Set(None),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(())
}

async fn journal(
    c: &impl ConnectionTrait,
    kind: &str,
    d: NaiveDate,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    tree_event::ActiveModel {
        kind: Set(kind.to_owned()),
        effective_date: Set(d),
        payload: Set(payload),
        recorded_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(())
}

pub(crate) fn check_exists(u: &UnitRecord, d: NaiveDate) -> Result<()> {
    if u.facts().exists_on(d) {
        Ok(())
    } else {
        Err(StoreError::validation(
            format!(
                "Đơn vị {} không tồn tại vào ngày {}.",
                u.code,
                d.format("%d/%m/%Y")
            ),
            format!("Unit {} does not exist on {d}.", u.code),
        ))
    }
}

impl Tree<'_> {
    /// Creates a unit, under `parent_id` if given, existing from `valid_from`.
    pub async fn create_unit(&self, input: NewUnit, now: DateTime<Utc>) -> Result<UnitRecord> {
        let code = input.code.trim().to_owned();
        let name = input.name.trim().to_owned();
        let mut problems = Vec::new();
        if code.is_empty() || code.len() > 64 || code.chars().any(char::is_whitespace) {
            problems.push(Text::new(
                "Mã đơn vị phải có từ 1 đến 64 ký tự, không có khoảng trắng.",
                "A unit code must have 1 to 64 characters and no spaces.",
            ));
        }
        if name.is_empty() || name.chars().count() > 255 {
            problems.push(Text::new(
                "Tên đơn vị phải có từ 1 đến 255 ký tự.",
                "A unit name must have 1 to 255 characters.",
            ));
        }
        if !problems.is_empty() {
            return Err(StoreError::Validation(problems));
        }
        let txn = self.begin_write().await?;
        if unit::Entity::find()
            .filter(unit::Column::Code.eq(code.as_str()))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(StoreError::conflict(
                format!("Mã đơn vị {code} đã được dùng."),
                format!("The unit code {code} is already taken."),
            ));
        }
        if let Some(pid) = input.parent_id {
            let parent = load_unit(&txn, pid).await?;
            core::check_parent(&code, input.kind, &parent.facts(), input.valid_from)?;
        }
        let id = Uuid::now_v7();
        let model = unit::ActiveModel {
            id: Set(id),
            code: Set(code.clone()),
            name: Set(name),
            kind: Set(input.kind.as_str().to_owned()),
            branch_category: Set(input.branch_category),
            valid_from: Set(input.valid_from),
            valid_to: Set(None),
            successor_id: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        // The subtree aggregates reach the year of every dated change of the tree.
        crate::stats::rollup::reach(&txn, chrono::Datelike::year(&input.valid_from)).await?;
        if let Some(pid) = input.parent_id {
            open_edge(&txn, id, pid, input.valid_from).await?;
        }
        self.store.tree_changing();
        ancestry::refresh(&txn, &[id]).await?;
        journal(
            &txn,
            "CREATE",
            input.valid_from,
            serde_json::json!({ "unit": id, "code": code, "parent": input.parent_id }),
            now,
        )
        .await?;
        txn.commit().await?;
        tracing::info!(unit = %id, code = %model.code, "unit created");
        model.try_into()
    }

    /// The unit with this id.
    pub async fn unit(&self, id: Uuid) -> Result<UnitRecord> {
        load_unit(self.db(), id).await
    }

    /// The unit `id`, which must exist on `d` (a validation error otherwise, as for
    /// [`Tree::subtree_ids_on`]).
    pub async fn unit_on(&self, id: Uuid, d: NaiveDate) -> Result<UnitRecord> {
        let u = self.unit(id).await?;
        check_exists(&u, d)?;
        Ok(u)
    }

    /// The unit with this code.
    pub async fn unit_by_code(&self, code: &str) -> Result<UnitRecord> {
        unit::Entity::find()
            .filter(unit::Column::Code.eq(code))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("unit", code))?
            .try_into()
    }

    /// The units with these ids, in no particular order; unknown ids are left out.
    pub async fn units(&self, ids: &[Uuid]) -> Result<Vec<UnitRecord>> {
        unit::Entity::find()
            .filter(unit::Column::Id.is_in(ids.iter().copied()))
            .all(self.db())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The parent of `id` on `d`.
    pub async fn parent_on(&self, id: Uuid, d: NaiveDate) -> Result<Option<UnitRecord>> {
        match parent_edge_on(self.db(), id, d).await? {
            Some(e) => Ok(Some(load_unit(self.db(), e.parent_id).await?)),
            None => Ok(None),
        }
    }

    /// The children of `id` on `d`, by code.
    pub async fn children_on(&self, id: Uuid, d: NaiveDate) -> Result<Vec<UnitRecord>> {
        self.children_of_many(&[id], d)
            .await
            .map(|v| v.into_iter().map(|(_, u)| u).collect())
    }

    /// The children on `d` of each of `parents`: `(parent, child)`, by the child's code.
    pub(crate) async fn children_of_level(
        &self,
        parents: &[Uuid],
        d: NaiveDate,
    ) -> Result<Vec<(Uuid, UnitRecord)>> {
        self.children_of_many(parents, d).await
    }

    async fn children_of_many(
        &self,
        parents: &[Uuid],
        d: NaiveDate,
    ) -> Result<Vec<(Uuid, UnitRecord)>> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let mut out: Vec<(Uuid, UnitRecord)> = Vec::new();
        // One query a chunk, so that a level with thousands of units stays within parameter
        // limits.
        for chunk in parents.chunks(500) {
            let q = children_query(
                unit_parent::Column::ParentId.is_in(chunk.iter().copied()),
                d,
            );
            for row in self.db().query_all(&q).await? {
                let u = <unit::Model as sea_orm::FromQueryResult>::from_query_result(&row, "")?;
                let p: Uuid = row.try_get("", "parent_of")?;
                out.push((p, u.try_into()?));
            }
        }
        out.sort_by(|a: &(Uuid, UnitRecord), b| a.1.code.cmp(&b.1.code));
        Ok(out)
    }

    /// The unit `key` and its children on `d` (by code), in one statement: the unit's row,
    /// and after it the children's rows with their parent links of the day.
    pub async fn unit_with_children(
        &self,
        key: UnitKey<'_>,
        d: NaiveDate,
    ) -> Result<(UnitRecord, Vec<UnitRecord>)> {
        use sea_orm::sea_query::{Query, UnionType};
        let (this, parent) = match key {
            UnitKey::Id(id) => (
                Expr::col((unit::Entity, unit::Column::Id)).eq(id),
                unit_parent::Column::ParentId.eq(id),
            ),
            UnitKey::Code(code) => (
                Expr::col((unit::Entity, unit::Column::Code)).eq(code),
                unit_parent::Column::ParentId.in_subquery(
                    Query::select()
                        .column(unit::Column::Id)
                        .from(unit::Entity)
                        .and_where(unit::Column::Code.eq(code))
                        .to_owned(),
                ),
            ),
        };
        let q = Query::select()
            .columns(<unit::Column as sea_orm::Iterable>::iter().map(|c| (unit::Entity, c)))
            .expr_as(
                Expr::val(Option::<Uuid>::None),
                sea_orm::sea_query::Alias::new("parent_of"),
            )
            .from(unit::Entity)
            .and_where(this)
            .union(UnionType::All, children_query(parent, d))
            .to_owned();
        let mut found = None;
        let mut children = Vec::new();
        for row in self.db().query_all(&q).await? {
            let u: UnitRecord =
                <unit::Model as sea_orm::FromQueryResult>::from_query_result(&row, "")?
                    .try_into()?;
            match row.try_get::<Option<Uuid>>("", "parent_of")? {
                None => found = Some(u),
                Some(_) => children.push(u),
            }
        }
        let found = found.ok_or_else(|| match key {
            UnitKey::Id(id) => StoreError::not_found("unit", id),
            UnitKey::Code(code) => StoreError::not_found("unit", code),
        })?;
        children.sort_by(|a, b| a.code.cmp(&b.code));
        Ok((found, children))
    }

    /// The units that existed on `d` without a parent: the roots of the forest on that date.
    pub async fn roots_on(&self, d: NaiveDate) -> Result<Vec<UnitRecord>> {
        let with_parent = unit_parent::Entity::find()
            .select_only()
            .column(unit_parent::Column::UnitId)
            .filter(valid_on_edge(d))
            .into_query();
        unit::Entity::find()
            .filter(valid_on_unit(d))
            .filter(Expr::col((unit::Entity, unit::Column::Id)).not_in_subquery(with_parent))
            .order_by_asc(unit::Column::Code)
            .all(self.db())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The subtree under `id` as it stood on `d`, breadth first, down to `max_depth` levels
    /// below it (all of them when `None`).
    pub async fn subtree_on(
        &self,
        id: Uuid,
        d: NaiveDate,
        max_depth: Option<u32>,
    ) -> Result<Vec<TreeNode>> {
        let root = self.unit(id).await?;
        check_exists(&root, d)?;
        let parent_id = parent_edge_on(self.db(), id, d).await?.map(|e| e.parent_id);
        let mut out = vec![TreeNode {
            unit: root,
            parent_id,
            depth: 0,
        }];
        let mut frontier = vec![id];
        let mut depth = 0;
        while !frontier.is_empty() && max_depth.is_none_or(|m| depth < m) && depth < 32 {
            depth += 1;
            let children = self.children_of_many(&frontier, d).await?;
            frontier = children.iter().map(|(_, u)| u.id).collect();
            out.extend(children.into_iter().map(|(p, u)| TreeNode {
                unit: u,
                parent_id: Some(p),
                depth,
            }));
        }
        Ok(out)
    }

    /// Moves `id` under `new_parent` from `d` on.
    pub async fn move_unit(
        &self,
        id: Uuid,
        new_parent: Uuid,
        d: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<UnitRecord> {
        let txn = self.begin_write().await?;
        let u = load_unit(&txn, id).await?;
        check_exists(&u, d)?;
        let parent = load_unit(&txn, new_parent).await?;
        core::check_parent(&u.code, u.kind, &parent.facts(), d)?;
        core::check_no_cycle(&u.code, &ancestry_codes(&txn, new_parent, d).await?)?;
        core::check_no_cycle(&u.code, &open_ancestry_codes(&txn, new_parent).await?)?;
        core::check_chronology(&unit_text(&u), u.valid_from, d).or_else(|e| {
            // A unit may be given its first parent on the day it starts.
            if d == u.valid_from { Ok(()) } else { Err(e) }
        })?;
        if let Some(edge) = open_parent_edge(&txn, id).await? {
            if edge.parent_id == new_parent {
                return Err(StoreError::conflict(
                    format!("{} đã trực thuộc {}.", u.code, parent.code),
                    format!("{} already sits under {}.", u.code, parent.code),
                ));
            }
            core::check_chronology(&unit_text(&u), edge.valid_from, d)?;
        }
        // The subtree aggregates: the unit's figures leave its old ancestors for the new ones.
        let shift = crate::stats::rollup::shift_before(&txn, id, d).await?;
        let open = crate::stats::forecast::shift_before(&txn, id).await?;
        if let Some(edge) = open_parent_edge(&txn, id).await? {
            close_edge(&txn, &edge, d).await?;
        }
        open_edge(&txn, id, new_parent, d).await?;
        self.store.tree_changing();
        ancestry::refresh(&txn, &[id]).await?;
        crate::stats::rollup::shift_after(&txn, shift).await?;
        crate::stats::forecast::shift_after(&txn, open).await?;
        journal(
            &txn,
            "MOVE",
            d,
            serde_json::json!({ "unit": id, "parent": new_parent }),
            now,
        )
        .await?;
        txn.commit().await?;
        tracing::info!(unit = %id, parent = %new_parent, date = %d, "unit moved");
        Ok(u)
    }

    /// Merges `sources` into `target` on `date`: the sources end the day before, and their
    /// children and members move to the target that day; their hamlet links end that day and,
    /// when the target is a hamlet branch, its hamlets are linked to the target from that day.
    pub async fn merge_units(&self, m: MergeUnits, now: DateTime<Utc>) -> Result<UnitRecord> {
        let d = m.date;
        if m.sources.is_empty() {
            return Err(StoreError::validation(
                "Phải nêu ít nhất một đơn vị được hợp nhất.",
                "Name at least one unit to merge.",
            ));
        }
        if m.sources.contains(&m.target) {
            return Err(StoreError::validation(
                "Không thể hợp nhất một đơn vị vào chính nó.",
                "A unit cannot be merged into itself.",
            ));
        }
        let txn = self.begin_write().await?;
        let target = load_unit(&txn, m.target).await?;
        check_exists(&target, d)?;
        let target_ancestry = ancestry_codes(&txn, m.target, d).await?;
        let mut seen = Vec::new();
        let mut changed = Vec::new();
        for sid in &m.sources {
            if seen.contains(sid) {
                continue;
            }
            seen.push(*sid);
            let s = load_unit(&txn, *sid).await?;
            check_exists(&s, d)?;
            core::check_chronology(&unit_text(&s), s.valid_from, d)?;
            if s.kind.level() != target.kind.level() {
                return Err(StoreError::validation(
                    format!(
                        "Chỉ hợp nhất được các đơn vị cùng cấp: {} ({}) và {} ({}).",
                        s.code,
                        s.kind.label().vi,
                        target.code,
                        target.kind.label().vi
                    ),
                    format!(
                        "Only units of the same level can be merged: {} ({}) and {} ({}).",
                        s.code,
                        s.kind.label().en,
                        target.code,
                        target.kind.label().en
                    ),
                ));
            }
            core::check_no_cycle(&s.code, &target_ancestry)?;
            // The subtree aggregates: the source's figures go over to the target's chain.
            let shift = crate::stats::rollup::shift_before(&txn, *sid, d).await?;
            let open = crate::stats::forecast::shift_before(&txn, *sid).await?;
            // The source ends.
            if let Some(edge) = open_parent_edge(&txn, *sid).await? {
                core::check_chronology(&unit_text(&s), edge.valid_from, d)?;
                close_edge(&txn, &edge, d).await?;
            }
            let mut am: unit::ActiveModel = unit::Entity::find_by_id(*sid)
                .one(&txn)
                .await?
                .ok_or_else(|| StoreError::not_found("unit", sid))?
                .into();
            am.valid_to = Set(Some(d));
            am.successor_id = Set(Some(m.target));
            am.update(&txn).await?;
            // Its hamlets' links end; a hamlet branch merged into a hamlet branch hands them on.
            crate::registry::end_unit_links(&txn, &s, d, Some(&target)).await?;
            // Its children move to the target.
            let child_edges = unit_parent::Entity::find()
                .filter(unit_parent::Column::ParentId.eq(*sid))
                .filter(unit_parent::Column::ValidTo.is_null())
                .all(&txn)
                .await?;
            for e in child_edges {
                let child = load_unit(&txn, e.unit_id).await?;
                core::check_chronology(&unit_text(&child), e.valid_from, d)?;
                close_edge(&txn, &e, d).await?;
                open_edge(&txn, e.unit_id, m.target, d).await?;
                changed.push(e.unit_id);
            }
            crate::stats::rollup::shift_after(&txn, shift).await?;
            crate::stats::forecast::shift_after(&txn, open).await?;
            // Its members move to the target.
            let memberships = member_unit::Entity::find()
                .filter(member_unit::Column::UnitId.eq(*sid))
                .filter(member_unit::Column::ValidTo.is_null())
                .all(&txn)
                .await?;
            if !memberships.is_empty() && !target.kind.holds_members() {
                return Err(StoreError::validation(
                    format!(
                        "{} còn đảng viên nhưng {} ({}) không trực tiếp quản lý đảng viên; hãy chuyển đảng viên về một chi bộ trước.",
                        s.code,
                        target.code,
                        target.kind.label().vi
                    ),
                    format!(
                        "{} still has members but {} ({}) holds none directly; move the members to a branch first.",
                        s.code,
                        target.code,
                        target.kind.label().en
                    ),
                ));
            }
            // Statistics counters (docs/targets.md): the moved members' shares out, then back in.
            let moved: Vec<Uuid> = memberships.iter().map(|ms| ms.member_id).collect();
            crate::stats::count_members(&txn, &moved, -1).await?;
            for ms in memberships {
                if d <= ms.valid_from {
                    return Err(StoreError::conflict(
                        format!(
                            "Một đảng viên của {} mới sinh hoạt từ {}, không thể hợp nhất từ ngày {}.",
                            s.code,
                            ms.valid_from.format("%d/%m/%Y"),
                            d.format("%d/%m/%Y")
                        ),
                        format!(
                            "A member of {} joined on {}; the merge cannot take effect on {d}.",
                            s.code, ms.valid_from
                        ),
                    ));
                }
                let member_id = ms.member_id;
                let mut am: member_unit::ActiveModel = ms.into();
                am.valid_to = Set(Some(d));
                am.update(&txn).await?;
                member_unit::ActiveModel {
                    member_id: Set(member_id),
                    unit_id: Set(m.target),
                    valid_from: Set(d),
                    valid_to: Set(None),
                    reason: Set("MERGED".to_owned()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
            crate::stats::count_members(&txn, &moved, 1).await?;
        }
        changed.extend(seen.iter().copied());
        self.store.tree_changing();
        ancestry::refresh(&txn, &changed).await?;
        journal(
            &txn,
            "MERGE",
            d,
            serde_json::json!({ "sources": seen, "target": m.target }),
            now,
        )
        .await?;
        txn.commit().await?;
        tracing::info!(target = %m.target, sources = seen.len(), date = %d, "units merged");
        Ok(target)
    }

    /// Dissolves `id` on `d`: it must have no children and no members left by then; its hamlet
    /// links end that day.
    pub async fn dissolve_unit(
        &self,
        id: Uuid,
        d: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<UnitRecord> {
        let txn = self.begin_write().await?;
        let u = load_unit(&txn, id).await?;
        check_exists(&u, d)?;
        core::check_chronology(&unit_text(&u), u.valid_from, d)?;
        let children = unit_parent::Entity::find()
            .filter(unit_parent::Column::ParentId.eq(id))
            .filter(unit_parent::Column::ValidTo.is_null())
            .count(&txn)
            .await?;
        let members = member_unit::Entity::find()
            .filter(member_unit::Column::UnitId.eq(id))
            .filter(member_unit::Column::ValidTo.is_null())
            .count(&txn)
            .await?;
        if children > 0 || members > 0 {
            return Err(StoreError::conflict(
                format!(
                    "Không thể giải thể {}: còn {children} đơn vị trực thuộc và {members} đảng viên. Hãy chuyển hoặc hợp nhất trước.",
                    u.code
                ),
                format!(
                    "{} cannot be dissolved: it still has {children} units under it and {members} members. Move or merge them first.",
                    u.code
                ),
            ));
        }
        if let Some(edge) = open_parent_edge(&txn, id).await? {
            core::check_chronology(&unit_text(&u), edge.valid_from, d)?;
        }
        // The subtree aggregates: what the unit still counts for goes to its last parent.
        let shift = crate::stats::rollup::shift_before(&txn, id, d).await?;
        let open = crate::stats::forecast::shift_before(&txn, id).await?;
        if let Some(edge) = open_parent_edge(&txn, id).await? {
            close_edge(&txn, &edge, d).await?;
        }
        let mut am: unit::ActiveModel = unit::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("unit", id))?
            .into();
        am.valid_to = Set(Some(d));
        let model = am.update(&txn).await?;
        // A hamlet branch dissolved: its hamlets' links end with it.
        crate::registry::end_unit_links(&txn, &u, d, None).await?;
        self.store.tree_changing();
        ancestry::refresh(&txn, &[id]).await?;
        crate::stats::rollup::shift_after(&txn, shift).await?;
        crate::stats::forecast::shift_after(&txn, open).await?;
        journal(&txn, "DISSOLVE", d, serde_json::json!({ "unit": id }), now).await?;
        txn.commit().await?;
        tracing::info!(unit = %id, date = %d, "unit dissolved");
        model.try_into()
    }

    /// The units of these kinds that exist on `d`, by code.
    pub async fn units_of_kinds_on(
        &self,
        kinds: &[UnitKind],
        d: NaiveDate,
    ) -> Result<Vec<UnitRecord>> {
        unit::Entity::find()
            .filter(unit::Column::Kind.is_in(kinds.iter().map(|k| k.as_str().to_owned())))
            .filter(valid_on_unit(d))
            .order_by_asc(unit::Column::Code)
            .all(self.db())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The parent of each of `ids` on `d` (units without one are left out).
    pub async fn parents_on(&self, ids: &[Uuid], d: NaiveDate) -> Result<HashMap<Uuid, Uuid>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            for e in unit_parent::Entity::find()
                .filter(unit_parent::Column::UnitId.is_in(chunk.iter().copied()))
                .filter(valid_on_edge(d))
                .all(self.db())
                .await?
            {
                out.insert(e.unit_id, e.parent_id);
            }
        }
        Ok(out)
    }
}
