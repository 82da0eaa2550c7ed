//! The register of hamlets and residential groups (ấp, khu vực, tổ dân phố): hamlets recorded,
//! merged and ended like units (history kept), each hamlet branch linked to its hamlet over
//! time, each member's hamlet of residence over time; and the hamlets of a subtree on a date
//! with their branch and their resident members, from which the committee's question (hamlets
//! without a member, without a branch) is read. One transaction per command; the checks are
//! the core's (`memberflow_workflow::hamlet`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::hamlet::{self as core, HamletFacts, HamletKind};
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::MemberStatus;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::Registry;
use crate::entity::{
    hamlet, hamlet_branch, member, member_residence, member_status, unit, unit_ancestry,
};
use crate::error::{Result, StoreError};
use crate::probe::Probe;
use crate::tree::{load_unit, valid_on};

/// What a missing hamlet is called in a `NOT_FOUND`.
const WHAT: &str = "hamlet or residential group";

/// A hamlet or residential group as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HamletRecord {
    /// Identifier.
    pub id: Uuid,
    /// Unique code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Ấp, khu vực or tổ dân phố.
    pub kind: HamletKind,
    /// The commune-level unit it belongs to.
    pub unit_id: Uuid,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day it no longer exists (ended or merged).
    pub valid_to: Option<NaiveDate>,
    /// The hamlet it was merged into.
    pub successor_id: Option<Uuid>,
}

impl HamletRecord {
    /// The facts the core's checks need.
    pub fn facts(&self) -> HamletFacts {
        HamletFacts {
            code: self.code.clone(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        }
    }
}

impl TryFrom<hamlet::Model> for HamletRecord {
    type Error = StoreError;
    fn try_from(m: hamlet::Model) -> Result<Self> {
        let kind = HamletKind::parse(&m.kind).ok_or_else(|| {
            StoreError::validation(
                format!("Loại ấp, khu vực không rõ: {}.", m.kind),
                format!("Unknown hamlet kind {}.", m.kind),
            )
        })?;
        Ok(HamletRecord {
            id: m.id,
            code: m.code,
            name: m.name,
            kind,
            unit_id: m.unit_id,
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            successor_id: m.successor_id,
        })
    }
}

/// A hamlet to record.
#[derive(Debug, Clone)]
pub struct NewHamlet {
    /// Unique code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: HamletKind,
    /// The commune-level unit it belongs to.
    pub unit_id: Uuid,
    /// First day.
    pub from: NaiveDate,
}

/// A period of a hamlet branch linked to its hamlet, or of a member living in a hamlet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HamletPeriod {
    /// The hamlet.
    pub hamlet_id: Uuid,
    /// The branch (a link) or the member (a residence).
    pub other_id: Uuid,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day it no longer holds.
    pub valid_to: Option<NaiveDate>,
    /// Why it began: `SET`, `MERGED` (residences); `LINKED` (links).
    pub reason: String,
}

/// A hamlet of a subtree on a day, with its branch and resident members that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HamletOn {
    /// The hamlet.
    pub hamlet: HamletRecord,
    /// The hamlet branch linked to it that day (existing that day), if any.
    pub branch_id: Option<Uuid>,
    /// Official and probationary members living in it that day.
    pub members: u64,
}

fn hamlet_text(h: &HamletRecord) -> Text {
    Text::new(
        format!("ấp, khu vực {}", h.code),
        format!("hamlet {}", h.code),
    )
}

async fn load_hamlet(c: &impl ConnectionTrait, id: Uuid) -> Result<HamletRecord> {
    hamlet::Entity::find_by_id(id)
        .one(c)
        .await?
        .ok_or_else(|| StoreError::not_found(WHAT, id))?
        .try_into()
}

fn link_valid_on(d: NaiveDate) -> sea_orm::Condition {
    valid_on(
        hamlet_branch::Column::ValidFrom,
        hamlet_branch::Column::ValidTo,
        d,
    )
}

async fn open_residents(
    c: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<member_residence::Model>> {
    Ok(member_residence::Entity::find()
        .filter(member_residence::Column::HamletId.eq(id))
        .filter(member_residence::Column::ValidTo.is_null())
        .all(c)
        .await?)
}

async fn close_open_links(c: &impl ConnectionTrait, id: Uuid, d: NaiveDate) -> Result<()> {
    for l in hamlet_branch::Entity::find()
        .filter(hamlet_branch::Column::HamletId.eq(id))
        .filter(hamlet_branch::Column::ValidTo.is_null())
        .all(c)
        .await?
    {
        // A link that begins on or after the day simply never held.
        if l.valid_from >= d {
            return Err(StoreError::conflict(
                format!(
                    "Chi bộ của ấp, khu vực được gắn từ {}, không thể kết thúc từ {}.",
                    l.valid_from.format("%d/%m/%Y"),
                    d.format("%d/%m/%Y")
                ),
                format!(
                    "The hamlet's branch is linked from {}; it cannot end on {d}.",
                    l.valid_from
                ),
            ));
        }
        let mut am: hamlet_branch::ActiveModel = l.into();
        am.valid_to = Set(Some(d));
        am.update(c).await?;
    }
    Ok(())
}

/// The open hamlet links of `unit`, which ends on `d` (dissolved, or merged into `merged_into`),
/// in the tree command's transaction: each ends that day; when the unit is merged into a
/// hamlet branch, each of its hamlets is linked to the merged unit from that day
/// (`core::is_hamlet_branch`). A link beginning on or after `d` is a `CONFLICT` (history is
/// never rewritten). Returns how many links ended.
pub(crate) async fn end_unit_links(
    c: &impl ConnectionTrait,
    unit: &crate::records::UnitRecord,
    d: NaiveDate,
    merged_into: Option<&crate::records::UnitRecord>,
) -> Result<usize> {
    let open = hamlet_branch::Entity::find()
        .filter(hamlet_branch::Column::UnitId.eq(unit.id))
        .filter(hamlet_branch::Column::ValidTo.is_null())
        .all(c)
        .await?;
    let takes_over = merged_into
        .filter(|t| core::is_hamlet_branch(t.kind, t.branch_category.as_deref()))
        .map(|t| t.id);
    let ended = open.len();
    for l in open {
        core::check_after(
            &Text::new(
                format!("liên kết ấp, khu vực của chi bộ {}", unit.code),
                format!("the hamlet link of branch {}", unit.code),
            ),
            l.valid_from,
            d,
        )?;
        let hamlet_id = l.hamlet_id;
        let mut am: hamlet_branch::ActiveModel = l.into();
        am.valid_to = Set(Some(d));
        am.update(c).await?;
        if let Some(target) = takes_over {
            hamlet_branch::ActiveModel {
                hamlet_id: Set(hamlet_id),
                unit_id: Set(target),
                valid_from: Set(d),
                valid_to: Set(None),
                ..Default::default()
            }
            .insert(c)
            .await?;
        }
    }
    Ok(ended)
}

impl Registry<'_> {
    /// Records a hamlet or residential group of a commune-level unit, existing from `from`.
    pub async fn record_hamlet(&self, new: &NewHamlet, now: DateTime<Utc>) -> Result<HamletRecord> {
        let code = new.code.trim().to_owned();
        let name = new.name.trim().to_owned();
        let txn = self.begin_write().await?;
        let u = load_unit(&txn, new.unit_id).await?;
        core::check_new_hamlet(&code, &name, &u.facts(), new.from)?;
        if hamlet::Entity::find()
            .filter(hamlet::Column::Code.eq(code.as_str()))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(StoreError::conflict(
                format!("Mã ấp, khu vực {code} đã được dùng."),
                format!("The hamlet code {code} is already taken."),
            ));
        }
        let row = hamlet::ActiveModel {
            id: Set(Uuid::now_v7()),
            code: Set(code),
            name: Set(name),
            kind: Set(new.kind.as_str().to_owned()),
            unit_id: Set(new.unit_id),
            valid_from: Set(new.from),
            valid_to: Set(None),
            successor_id: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        row.try_into()
    }

    /// Merges `sources` into `target` on `d`: the sources end the day before, their residents
    /// live in the target from `d` (a `MERGED` period), their branches' links end on `d`.
    pub async fn merge_hamlets(
        &self,
        sources: &[Uuid],
        target: Uuid,
        d: NaiveDate,
    ) -> Result<HamletRecord> {
        let txn = self.begin_write().await?;
        let t = load_hamlet(&txn, target).await?;
        let mut seen: Vec<Uuid> = Vec::new();
        let mut facts = Vec::new();
        for s in sources {
            if !seen.contains(s) {
                seen.push(*s);
                facts.push(load_hamlet(&txn, *s).await?.facts());
            }
        }
        if seen.contains(&target) {
            facts.push(t.facts());
        }
        core::check_merge(&facts, &t.facts(), d)?;
        for s in &seen {
            for r in open_residents(&txn, *s).await? {
                core::check_after(
                    &Text::new("nơi cư trú của đảng viên", "a member's residence"),
                    r.valid_from,
                    d,
                )?;
                let member_id = r.member_id;
                let mut am: member_residence::ActiveModel = r.into();
                am.valid_to = Set(Some(d));
                am.update(&txn).await?;
                member_residence::ActiveModel {
                    member_id: Set(member_id),
                    hamlet_id: Set(target),
                    valid_from: Set(d),
                    valid_to: Set(None),
                    reason: Set("MERGED".to_owned()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
            close_open_links(&txn, *s, d).await?;
            let mut am: hamlet::ActiveModel = hamlet::Entity::find_by_id(*s)
                .one(&txn)
                .await?
                .ok_or_else(|| StoreError::not_found(WHAT, s))?
                .into();
            am.valid_to = Set(Some(d));
            am.successor_id = Set(Some(target));
            am.update(&txn).await?;
        }
        txn.commit().await?;
        Ok(t)
    }

    /// Ends a hamlet on `d` (it no longer exists from that day): refused while members still
    /// live in it (set their residence first, or merge it); its branch's link ends that day.
    pub async fn end_hamlet(&self, id: Uuid, d: NaiveDate) -> Result<HamletRecord> {
        let txn = self.begin_write().await?;
        let h = load_hamlet(&txn, id).await?;
        core::check_hamlet_exists(&h.facts(), d)?;
        core::check_after(&hamlet_text(&h), h.valid_from, d)?;
        let residents = open_residents(&txn, id).await?.len();
        if residents > 0 {
            return Err(StoreError::conflict(
                format!(
                    "Không thể kết thúc {}: còn {residents} đảng viên cư trú. Hãy ghi nơi cư trú mới hoặc sáp nhập ấp.",
                    h.code
                ),
                format!(
                    "{} cannot end: {residents} members still live in it. Record their new residence or merge the hamlet.",
                    h.code
                ),
            ));
        }
        close_open_links(&txn, id, d).await?;
        let mut am: hamlet::ActiveModel = hamlet::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found(WHAT, id))?
            .into();
        am.valid_to = Set(Some(d));
        let row = am.update(&txn).await?;
        txn.commit().await?;
        row.try_into()
    }

    /// Links the hamlet branch `unit_id` to hamlet `hamlet_id` from `from`: the hamlet's
    /// current link (to another branch) and the branch's current link (to another hamlet) end
    /// that day. The branch must be a branch of category `HAMLET` under the hamlet's unit.
    pub async fn link_hamlet_branch(
        &self,
        hamlet_id: Uuid,
        unit_id: Uuid,
        from: NaiveDate,
    ) -> Result<HamletPeriod> {
        let txn = self.begin_write().await?;
        let h = load_hamlet(&txn, hamlet_id).await?;
        let b = load_unit(&txn, unit_id).await?;
        let under = unit_ancestry::Entity::find()
            .filter(unit_ancestry::Column::UnitId.eq(unit_id))
            .filter(unit_ancestry::Column::AncestorId.eq(h.unit_id))
            .filter(crate::tree::ancestry::valid_on(from))
            .count(&txn)
            .await?
            > 0;
        core::check_branch_link(
            &h.facts(),
            &b.facts(),
            b.branch_category.as_deref(),
            under,
            from,
        )?;
        let open = hamlet_branch::Entity::find()
            .filter(
                sea_orm::Condition::any()
                    .add(hamlet_branch::Column::HamletId.eq(hamlet_id))
                    .add(hamlet_branch::Column::UnitId.eq(unit_id)),
            )
            .filter(hamlet_branch::Column::ValidTo.is_null())
            .all(&txn)
            .await?;
        for l in open {
            if l.hamlet_id == hamlet_id && l.unit_id == unit_id {
                return Err(StoreError::conflict(
                    format!("Chi bộ {} đã gắn với {}.", b.code, h.code),
                    format!("Branch {} is already linked to {}.", b.code, h.code),
                ));
            }
            core::check_after(
                &Text::new(
                    format!("liên kết chi bộ của {}", h.code),
                    format!("the branch link of {}", h.code),
                ),
                l.valid_from,
                from,
            )?;
            let mut am: hamlet_branch::ActiveModel = l.into();
            am.valid_to = Set(Some(from));
            am.update(&txn).await?;
        }
        let row = hamlet_branch::ActiveModel {
            hamlet_id: Set(hamlet_id),
            unit_id: Set(unit_id),
            valid_from: Set(from),
            valid_to: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(link_period(row))
    }

    /// Records that the member lives in `hamlet_id` from `from`: their current residence ends
    /// that day (history is kept; a date on or before its start is a `CONFLICT`).
    pub async fn set_member_residence(
        &self,
        member_id: Uuid,
        hamlet_id: Uuid,
        from: NaiveDate,
    ) -> Result<HamletPeriod> {
        let txn = self.begin_write().await?;
        member::Entity::find_by_id(member_id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("member", member_id))?;
        let h = load_hamlet(&txn, hamlet_id).await?;
        core::check_hamlet_exists(&h.facts(), from)?;
        if let Some(open) = member_residence::Entity::find()
            .filter(member_residence::Column::MemberId.eq(member_id))
            .filter(member_residence::Column::ValidTo.is_null())
            .one(&txn)
            .await?
        {
            if open.hamlet_id == hamlet_id {
                return Err(StoreError::conflict(
                    format!("Đảng viên đã cư trú tại {}.", h.code),
                    format!("The member already lives in {}.", h.code),
                ));
            }
            core::check_after(
                &Text::new("nơi cư trú của đảng viên", "the member's residence"),
                open.valid_from,
                from,
            )?;
            let mut am: member_residence::ActiveModel = open.into();
            am.valid_to = Set(Some(from));
            am.update(&txn).await?;
        } else if let Some(later) = member_residence::Entity::find()
            .filter(member_residence::Column::MemberId.eq(member_id))
            .filter(member_residence::Column::ValidTo.gt(from))
            .one(&txn)
            .await?
        {
            // A residence ended after `from` (its hamlet ended): the new one starts after it.
            return Err(StoreError::conflict(
                format!(
                    "Đảng viên đã có nơi cư trú đến {}; nơi cư trú mới phải bắt đầu từ ngày đó.",
                    later.valid_to.unwrap_or(from).format("%d/%m/%Y")
                ),
                format!(
                    "The member has a residence until {}; a new one starts on that day or later.",
                    later.valid_to.unwrap_or(from)
                ),
            ));
        }
        let row = member_residence::ActiveModel {
            member_id: Set(member_id),
            hamlet_id: Set(hamlet_id),
            valid_from: Set(from),
            valid_to: Set(None),
            reason: Set("SET".to_owned()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(residence_period(row))
    }

    /// The hamlet with this id.
    pub async fn hamlet(&self, id: Uuid) -> Result<HamletRecord> {
        load_hamlet(self.db(), id).await
    }

    /// The hamlet with this code.
    pub async fn hamlet_by_code(&self, code: &str) -> Result<HamletRecord> {
        hamlet::Entity::find()
            .filter(hamlet::Column::Code.eq(code))
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found(WHAT, code))?
            .try_into()
    }

    /// The member's residences, oldest first.
    pub async fn residences(&self, member_id: Uuid) -> Result<Vec<HamletPeriod>> {
        Ok(member_residence::Entity::find()
            .filter(member_residence::Column::MemberId.eq(member_id))
            .order_by_asc(member_residence::Column::ValidFrom)
            .all(self.db())
            .await?
            .into_iter()
            .map(residence_period)
            .collect())
    }

    /// The hamlet's branch links, oldest first.
    pub async fn hamlet_branch_links(&self, hamlet_id: Uuid) -> Result<Vec<HamletPeriod>> {
        Ok(hamlet_branch::Entity::find()
            .filter(hamlet_branch::Column::HamletId.eq(hamlet_id))
            .order_by_asc(hamlet_branch::Column::ValidFrom)
            .all(self.db())
            .await?
            .into_iter()
            .map(link_period)
            .collect())
    }

    /// The hamlets existing on `d` whose commune-level unit is in the subtree of one of
    /// `roots` on `d` or was merged, by `d`, into a unit of it: each with its branch that day
    /// and its official and probationary members living in it that day, by code.
    pub async fn hamlets_on(&self, roots: &[Uuid], d: NaiveDate) -> Result<Vec<HamletOn>> {
        let db = self.db();
        let mut rows = Vec::new();
        for owned in owned_under(db, roots, d).await? {
            rows.extend(existing_on(owned, d).all(db).await?);
        }
        let hamlets = by_code(rows)?;
        let ids: Vec<Uuid> = hamlets.iter().map(|h| h.id).collect();
        let counts = count_members(db, &ids, d).await?;
        with_branches_and_members(db, hamlets, &counts, d).await
    }

    /// The hamlets of [`Registry::hamlets_on`] under `roots` (their subtrees on `d`) that have
    /// no member living in them on `d`, or no branch, and how many hamlets existed there that
    /// day. The subtree, the hamlets and both conditions are read by the database in one
    /// statement: only the hamlets listed come back, and their members are counted (those
    /// without a branch) after.
    pub async fn hamlets_without_under(
        &self,
        roots: &[Uuid],
        d: NaiveDate,
    ) -> Result<(u64, Vec<HamletOn>)> {
        let db = self.db();
        let probe = Probe::of(db);
        let mut looked_at = 0;
        let mut rows = Vec::new();
        for owned in owned_under(db, roots, d).await? {
            looked_at += existing_on(owned.clone(), d).count(db).await?;
            rows.extend(
                existing_on(owned, d)
                    .filter(
                        sea_orm::Condition::any()
                            .add(has_branch_on(d, probe).not())
                            .add(has_resident_on(d, probe).not()),
                    )
                    .all(db)
                    .await?,
            );
        }
        let hamlets = by_code(rows)?;
        let ids: Vec<Uuid> = hamlets.iter().map(|h| h.id).collect();
        let peopled = peopled_hamlets(db, &ids, d).await?;
        let to_count: Vec<Uuid> = ids.into_iter().filter(|id| peopled.contains(id)).collect();
        let counts = count_members(db, &to_count, d).await?;
        let hamlets = with_branches_and_members(db, hamlets, &counts, d).await?;
        Ok((looked_at, hamlets))
    }
}

/// The conditions on `hamlet` rows whose commune-level unit is in the subtree of one of `roots`
/// on `d` (a subquery of the tree's ancestry) or was merged, by `d`, into a unit of it (units
/// merged away count under the unit that took them over). Every root must exist on `d`. One
/// condition per statement: the subtree's, then one per chunk of the merged units (they no
/// longer exist on `d`, so no hamlet meets two of them).
async fn owned_under(
    db: &impl ConnectionTrait,
    roots: &[Uuid],
    d: NaiveDate,
) -> Result<Vec<sea_orm::Condition>> {
    for root in roots {
        crate::tree::check_exists(&load_unit(db, *root).await?, d)?;
    }
    let in_subtree = |c: unit_ancestry::Column| {
        Query::select()
            .column(c)
            .from(unit_ancestry::Entity)
            .and_where(unit_ancestry::Column::AncestorId.is_in(roots.iter().copied()))
            .cond_where(crate::tree::ancestry::valid_on(d))
            .to_owned()
    };
    // The merged units (few) whose successors' chain ends in the subtree.
    let merged: Vec<(Uuid, Uuid)> = unit::Entity::find()
        .select_only()
        .column(unit::Column::Id)
        .column(unit::Column::SuccessorId)
        .filter(unit::Column::SuccessorId.is_not_null())
        .filter(unit::Column::ValidTo.lte(d))
        .into_tuple()
        .all(db)
        .await?;
    let mut owners: HashSet<Uuid> = HashSet::new();
    let successors: Vec<Uuid> = merged.iter().map(|m| m.1).collect();
    for chunk in successors.chunks(500) {
        let within: Vec<Uuid> = unit::Entity::find()
            .select_only()
            .column(unit::Column::Id)
            .filter(unit::Column::Id.is_in(chunk.iter().copied()))
            .filter(unit::Column::Id.in_subquery(in_subtree(unit_ancestry::Column::UnitId)))
            .into_tuple()
            .all(db)
            .await?;
        owners.extend(within);
    }
    let mut extra: Vec<Uuid> = Vec::new();
    loop {
        let before = extra.len();
        for (id, s) in &merged {
            if owners.contains(s) && owners.insert(*id) {
                extra.push(*id);
            }
        }
        if extra.len() == before {
            break;
        }
    }
    let mut owned = vec![
        sea_orm::Condition::all()
            .add(hamlet::Column::UnitId.in_subquery(in_subtree(unit_ancestry::Column::UnitId))),
    ];
    for chunk in extra.chunks(500) {
        owned.push(
            sea_orm::Condition::all().add(hamlet::Column::UnitId.is_in(chunk.iter().copied())),
        );
    }
    Ok(owned)
}

/// `rows` as records, by code.
fn by_code(rows: Vec<hamlet::Model>) -> Result<Vec<HamletRecord>> {
    let mut hamlets = rows
        .into_iter()
        .map(HamletRecord::try_from)
        .collect::<Result<Vec<_>>>()?;
    hamlets.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(hamlets)
}

/// The hamlets meeting `owned` that exist on `d`.
fn existing_on(owned: sea_orm::Condition, d: NaiveDate) -> sea_orm::Select<hamlet::Entity> {
    hamlet::Entity::find().filter(owned).filter(valid_on(
        hamlet::Column::ValidFrom,
        hamlet::Column::ValidTo,
        d,
    ))
}

/// Whether a `hamlet` row has a link on `d` to a branch existing that day.
fn has_branch_on(d: NaiveDate, probe: Probe) -> sea_orm::sea_query::SimpleExpr {
    Expr::exists(
        probe.apply(
            Query::select()
                .expr(Expr::val(1))
                .from(hamlet_branch::Entity)
                .and_where(
                    Expr::col((hamlet_branch::Entity, hamlet_branch::Column::HamletId))
                        .equals((hamlet::Entity, hamlet::Column::Id)),
                )
                .cond_where(link_valid_on(d))
                .and_where(branch_exists_on(d))
                .to_owned(),
        ),
    )
}

/// Whether the branch of a `hamlet_branch` row exists on `d`.
fn branch_exists_on(d: NaiveDate) -> sea_orm::sea_query::SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(unit::Entity)
            .and_where(
                Expr::col((unit::Entity, unit::Column::Id))
                    .equals((hamlet_branch::Entity, hamlet_branch::Column::UnitId)),
            )
            .cond_where(crate::tree::valid_on_unit(d))
            .to_owned(),
    )
}

/// Whether an official or probationary member lives in a `hamlet` row on `d`.
fn has_resident_on(d: NaiveDate, probe: Probe) -> sea_orm::sea_query::SimpleExpr {
    Expr::exists(
        probe.apply(
            Query::select()
                .expr(Expr::val(1))
                .from(member_residence::Entity)
                .inner_join(
                    member_status::Entity,
                    Expr::col((member_status::Entity, member_status::Column::MemberId))
                        .equals((member_residence::Entity, member_residence::Column::MemberId)),
                )
                .and_where(
                    Expr::col((member_residence::Entity, member_residence::Column::HamletId))
                        .equals((hamlet::Entity, hamlet::Column::Id)),
                )
                .cond_where(valid_on(
                    member_residence::Column::ValidFrom,
                    member_residence::Column::ValidTo,
                    d,
                ))
                .cond_where(valid_on(
                    member_status::Column::ValidFrom,
                    member_status::Column::ValidTo,
                    d,
                ))
                .and_where(member_status::Column::Status.is_in([
                    MemberStatus::Official.as_str(),
                    MemberStatus::Probationary.as_str(),
                ]))
                .to_owned(),
        ),
    )
}

/// `hamlets` with the branch linked to each on `d` (one that exists that day) and their
/// members from `counts`.
async fn with_branches_and_members(
    db: &impl ConnectionTrait,
    hamlets: Vec<HamletRecord>,
    counts: &HashMap<Uuid, u64>,
    d: NaiveDate,
) -> Result<Vec<HamletOn>> {
    let ids: Vec<Uuid> = hamlets.iter().map(|h| h.id).collect();
    let mut branch_of: HashMap<Uuid, Uuid> = HashMap::new();
    for chunk in ids.chunks(500) {
        let links: Vec<(Uuid, Uuid)> = hamlet_branch::Entity::find()
            .select_only()
            .column(hamlet_branch::Column::HamletId)
            .column(hamlet_branch::Column::UnitId)
            .filter(hamlet_branch::Column::HamletId.is_in(chunk.iter().copied()))
            .filter(link_valid_on(d))
            .filter(branch_exists_on(d))
            .into_tuple()
            .all(db)
            .await?;
        branch_of.extend(links);
    }
    Ok(hamlets
        .into_iter()
        .map(|h| HamletOn {
            branch_id: branch_of.get(&h.id).copied(),
            members: counts.get(&h.id).copied().unwrap_or(0),
            hamlet: h,
        })
        .collect())
}

/// A statement over the official and probationary members living in a hamlet on `d`:
/// `select` reads from `member_residence r JOIN member_status s` (or wraps it) with `{cond}`
/// standing for the conditions on the day and the status, and `{ids}` for the hamlets.
fn residents_statement(
    backend: sea_orm::DbBackend,
    sql: &str,
    d: NaiveDate,
    ids: &[Uuid],
) -> sea_orm::Statement {
    // Numbered placeholders: the day is named four times.
    let mark = |i: usize| match backend {
        sea_orm::DbBackend::Postgres => format!("${i}"),
        _ => format!("?{i}"),
    };
    let marks: Vec<String> = (4..4 + ids.len()).map(mark).collect();
    let cond = format!(
        "r.valid_from <= {d1} AND (r.valid_to IS NULL OR r.valid_to > {d1}) \
         AND s.valid_from <= {d1} AND (s.valid_to IS NULL OR s.valid_to > {d1}) \
         AND s.status IN ({s1}, {s2})",
        d1 = mark(1),
        s1 = mark(2),
        s2 = mark(3),
    );
    let sql = sql
        .replace("{cond}", &cond)
        .replace("{ids}", &marks.join(", "));
    let mut values: Vec<sea_orm::Value> = vec![
        d.into(),
        MemberStatus::Official.as_str().into(),
        MemberStatus::Probationary.as_str().into(),
    ];
    values.extend(ids.iter().map(|u| sea_orm::Value::from(*u)));
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}

/// The official and probationary members living in each of `ids` on `d`: one grouped count
/// per chunk (hamlets without any are absent).
async fn count_members(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    d: NaiveDate,
) -> Result<HashMap<Uuid, u64>> {
    let mut counts = HashMap::new();
    for chunk in ids.chunks(500) {
        let stmt = residents_statement(
            db.get_database_backend(),
            "SELECT r.hamlet_id AS hamlet_id, COUNT(DISTINCT r.member_id) AS n \
             FROM member_residence r JOIN member_status s ON s.member_id = r.member_id \
             WHERE {cond} AND r.hamlet_id IN ({ids}) GROUP BY r.hamlet_id",
            d,
            chunk,
        );
        for row in db.query_all_raw(stmt).await? {
            let id: Uuid = row.try_get("", "hamlet_id")?;
            let n: i64 = row.try_get("", "n")?;
            counts.insert(id, u64::try_from(n).unwrap_or(0));
        }
    }
    Ok(counts)
}

/// Those of `ids` in which at least one official or probationary member lives on `d`: a
/// probe per hamlet that stops at its first such member.
async fn peopled_hamlets(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    d: NaiveDate,
) -> Result<HashSet<Uuid>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(500) {
        let stmt = residents_statement(
            db.get_database_backend(),
            "SELECT h.id AS hamlet_id FROM hamlet h WHERE h.id IN ({ids}) AND EXISTS \
             (SELECT 1 FROM member_residence r JOIN member_status s ON s.member_id = r.member_id \
              WHERE r.hamlet_id = h.id AND {cond})",
            d,
            chunk,
        );
        for row in db.query_all_raw(stmt).await? {
            out.insert(row.try_get::<Uuid>("", "hamlet_id")?);
        }
    }
    Ok(out)
}

fn link_period(l: hamlet_branch::Model) -> HamletPeriod {
    HamletPeriod {
        hamlet_id: l.hamlet_id,
        other_id: l.unit_id,
        valid_from: l.valid_from,
        valid_to: l.valid_to,
        reason: "LINKED".to_owned(),
    }
}

fn residence_period(r: member_residence::Model) -> HamletPeriod {
    HamletPeriod {
        hamlet_id: r.hamlet_id,
        other_id: r.member_id,
        valid_from: r.valid_from,
        valid_to: r.valid_to,
        reason: r.reason,
    }
}
