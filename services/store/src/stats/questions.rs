//! The questions a provincial committee asks of its subtree that are not counts of one fact:
//! the grassroots organizations and branches that admitted nobody for some years, and the
//! members with a discipline in force on a date, by form.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, Months, NaiveDate};
use memberflow_workflow::tree::{Level, MemberStatus, UnitKind};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QuerySelect,
    RelationTrait,
};
use uuid::Uuid;

use super::Statistics;
use super::entity::{discipline_record, stat_admission_day};
use super::rollup::LocalTree;
use super::tree::TreeIndex;
use crate::entity::{member_status, member_unit, unit, unit_ancestry};
use crate::error::{Result, StoreError};
use crate::records::UnitRecord;
use crate::registry::discipline_in_force_on;
use crate::tree::valid_on_membership;

/// A unit that admitted nobody over the period asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleUnit {
    /// The unit (a grassroots organization or a branch).
    pub unit: UnitRecord,
    /// Its parent on the day of the question.
    pub parent_code: Option<String>,
    /// Its official and probationary members that day, the units below it included.
    pub members: u64,
    /// The last admission decision counted in it on or before the day (none ever: `None`).
    pub last_admission: Option<NaiveDate>,
}

/// The grassroots organizations and branches of a subtree that admitted nobody for `years`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdleUnitsReport {
    /// The day of the question.
    pub on: NaiveDate,
    /// How many years back.
    pub years: u32,
    /// The first day of the period looked at: admissions dated `since..=on` count, so a
    /// unit whose last admission was exactly `years` years before `on` is listed.
    pub since: NaiveDate,
    /// How many grassroots organizations and branches were looked at: those existing on
    /// `on` that already existed `years` years before (a younger unit is not judged).
    pub looked_at: u64,
    /// How many of them admitted nobody in the period.
    pub total: u64,
    /// The units that admitted nobody in the period, by code (the first `limit` asked for).
    pub units: Vec<IdleUnit>,
}

/// The first day of the `years` years ending on `on`: `on` less `years` years, plus a day.
pub fn period_start(on: NaiveDate, years: u32) -> Option<NaiveDate> {
    on.checked_sub_months(Months::new(years.checked_mul(12)?))?
        .checked_add_days(Days::new(1))
}

/// A `member_status` row saying that its member is official or probationary on `on`.
fn party_status_on(on: NaiveDate) -> Condition {
    Condition::all()
        .add(member_status::Column::ValidFrom.lte(on))
        .add(
            Condition::any()
                .add(member_status::Column::ValidTo.is_null())
                .add(member_status::Column::ValidTo.gt(on)),
        )
        .add(member_status::Column::Status.is_in([
            MemberStatus::Official.as_str(),
            MemberStatus::Probationary.as_str(),
        ]))
}

/// The members who are official or probationary members on `on` (a subquery of ids).
fn party_members_on(on: NaiveDate) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(member_status::Column::MemberId)
        .from(member_status::Entity)
        .cond_where(party_status_on(on))
        .to_owned()
}

/// Whether the member of a `member_unit` row is an official or probationary member on `on`:
/// a probe of that member's status rows (by index), where a list of every party member of the
/// day would read them all.
fn unit_row_is_party_member_on(on: NaiveDate) -> sea_orm::sea_query::SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(member_status::Entity)
            .and_where(
                Expr::col((member_status::Entity, member_status::Column::MemberId))
                    .equals((member_unit::Entity, member_unit::Column::MemberId)),
            )
            .cond_where(party_status_on(on))
            .to_owned(),
    )
}

impl Statistics<'_> {
    /// The grassroots organizations and branches of `unit`'s subtree (the whole tree when
    /// `None`) on the tree of `on` that admitted nobody in the `years` years up to `on`
    /// (decisions dated `on − years + 1 day ..= on`). An admission counts in the unit the
    /// member was first registered in, as it stands on `on` (a unit merged since counts in
    /// its successor), and in every unit above it: a grassroots committee whose branches
    /// admitted is not listed. Units that did not exist yet `years` years before `on` are
    /// not judged. With `limit`, the units listed are the first `limit` by code (their members
    /// are counted, not the others'); `total` counts them all.
    pub async fn units_without_admission(
        &self,
        unit: Option<Uuid>,
        on: NaiveDate,
        years: u32,
        limit: Option<usize>,
    ) -> Result<IdleUnitsReport> {
        let since = period_start(on, years)
            .filter(|_| years > 0)
            .ok_or_else(|| {
                StoreError::validation(
                    format!("Số năm {years} không hợp lệ (từ 1 đến 100)."),
                    format!("{years} is not a valid number of years (1 to 100)."),
                )
            })?;
        let existed_by = since.pred_opt().unwrap_or(since);
        let db = self.db();
        self.ensure_admissions().await?;
        // The rows of the tree's ancestry of `on` naming the units looked at: those below
        // `unit` (itself included), or every unit existing that day (their own rows).
        let ua = |col: unit_ancestry::Column| Expr::col((unit_ancestry::Entity, col));
        let in_scope = || {
            let mut c = Condition::all().add(crate::tree::ancestry::valid_on(on));
            c = match unit {
                Some(root) => c.add(ua(unit_ancestry::Column::AncestorId).eq(root)),
                None => c.add(ua(unit_ancestry::Column::Depth).eq(0)),
            };
            c
        };
        let judged = || {
            let kinds: Vec<&str> = UnitKind::ALL
                .iter()
                .filter(|k| matches!(k.level(), Level::Grassroots | Level::Branch))
                .map(|k| k.as_str())
                .collect();
            unit_ancestry::Entity::find()
                .select_only()
                .column(unit_ancestry::Column::UnitId)
                .join(
                    JoinType::InnerJoin,
                    unit_ancestry::Entity::belongs_to(unit::Entity)
                        .from(unit_ancestry::Column::UnitId)
                        .to(unit::Column::Id)
                        .into(),
                )
                .filter(in_scope())
                .filter(unit::Column::Kind.is_in(kinds))
                .filter(unit::Column::ValidFrom.lte(existed_by))
        };
        let looked_at = judged().count(db).await?;

        // Admissions count in the unit standing for the member's first unit on `on` and in
        // every unit above it. Units existing on `on`: their ancestry of that day, inside the
        // database. Units ended by then (merged or dissolved: few): their last admission up
        // to `on`, each followed to the unit standing for it and that unit's ancestors.
        let ended: Vec<(Uuid, Option<NaiveDate>)> = stat_admission_day::Entity::find()
            .select_only()
            .column(stat_admission_day::Column::UnitId)
            .column_as(stat_admission_day::Column::Day.max(), "last")
            .filter(stat_admission_day::Column::Day.lte(on))
            .filter(stat_admission_day::Column::Admitted.gt(0))
            .filter(
                stat_admission_day::Column::UnitId.in_subquery(
                    Query::select()
                        .column(unit::Column::Id)
                        .from(unit::Entity)
                        .and_where(unit::Column::ValidTo.lte(on))
                        .to_owned(),
                ),
            )
            .group_by(stat_admission_day::Column::UnitId)
            .into_tuple()
            .all(db)
            .await?;
        let ended_ids: Vec<Uuid> = ended.iter().map(|e| e.0).collect();
        let lines = LocalTree::around(db, &ended_ids).await?;
        let mut active_ended: HashSet<Uuid> = HashSet::new();
        for (u, last) in &ended {
            if last.is_some_and(|l| l >= since) {
                active_ended.extend(lines.chain(*u, on).unwrap_or_default());
            }
        }
        let active_existing = Query::select()
            .column(unit_ancestry::Column::AncestorId)
            .from(unit_ancestry::Entity)
            .cond_where(crate::tree::ancestry::valid_on(on))
            .and_where(
                unit_ancestry::Column::UnitId.in_subquery(
                    Query::select()
                        .column(stat_admission_day::Column::UnitId)
                        .from(stat_admission_day::Entity)
                        .and_where(stat_admission_day::Column::Day.gte(since))
                        .and_where(stat_admission_day::Column::Day.lte(on))
                        .and_where(stat_admission_day::Column::Admitted.gt(0))
                        .to_owned(),
                ),
            )
            .to_owned();
        // The units made active by ended ones are left out here, not bound into the
        // statement: there can be more of them than a statement takes parameters.
        let mut idle: Vec<(Uuid, String)> = judged()
            .column(unit::Column::Code)
            .filter(unit::Column::Id.not_in_subquery(active_existing))
            .into_tuple()
            .all(db)
            .await?;
        idle.retain(|(id, _)| !active_ended.contains(id));
        idle.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        let total = idle.len() as u64;
        let idle: Vec<Uuid> = idle
            .into_iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(|(id, _)| id)
            .collect();

        // The subtree of each listed unit on `on`, and which listed units each unit of it
        // (and each unit since merged or dissolved into it) counts in.
        let mut subtrees: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut listed_over: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for chunk in idle.chunks(500) {
            let rows: Vec<(Uuid, Uuid)> = unit_ancestry::Entity::find()
                .select_only()
                .column(unit_ancestry::Column::UnitId)
                .column(unit_ancestry::Column::AncestorId)
                .filter(unit_ancestry::Column::AncestorId.is_in(chunk.iter().copied()))
                .filter(crate::tree::ancestry::valid_on(on))
                .into_tuple()
                .all(db)
                .await?;
            for (u, listed) in rows {
                subtrees.entry(listed).or_default().push(u);
                listed_over.entry(u).or_default().push(listed);
            }
        }
        // Their last admission on or before `on` (before the period, or they would not be
        // listed): read for the units of their subtrees, and taken from the ended units
        // whose successors' line leads into them.
        let mut last: HashMap<Uuid, NaiveDate> = HashMap::new();
        let mut note = |unit: Uuid, decided: NaiveDate| {
            for l in listed_over
                .get(&unit)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let e = last.entry(*l).or_insert(decided);
                if decided > *e {
                    *e = decided;
                }
            }
        };
        let holders: Vec<Uuid> = listed_over.keys().copied().collect();
        for chunk in holders.chunks(500) {
            let rows: Vec<(Uuid, Option<NaiveDate>)> = stat_admission_day::Entity::find()
                .select_only()
                .column(stat_admission_day::Column::UnitId)
                .column_as(stat_admission_day::Column::Day.max(), "last")
                .filter(stat_admission_day::Column::UnitId.is_in(chunk.iter().copied()))
                .filter(stat_admission_day::Column::Day.lte(on))
                .filter(stat_admission_day::Column::Admitted.gt(0))
                .group_by(stat_admission_day::Column::UnitId)
                .into_tuple()
                .all(db)
                .await?;
            for (u, decided) in rows {
                if let Some(d) = decided {
                    note(u, d);
                }
            }
        }
        for (u, decided) in &ended {
            if let (Some(d), Some(rep)) = (
                decided,
                lines.chain(*u, on).and_then(|c| c.first().copied()),
            ) {
                note(rep, *d);
            }
        }

        // Members of each listed unit's subtree on `on`: one grouped read of the branches.
        let mut members_of: HashMap<Uuid, u64> = HashMap::new();
        if !idle.is_empty() {
            let mut per_unit: HashMap<Uuid, u64> = HashMap::new();
            for chunk in holders.chunks(500) {
                let counts: Vec<(Uuid, i64)> = member_unit::Entity::find()
                    .select_only()
                    .column(member_unit::Column::UnitId)
                    .column_as(Expr::col(member_unit::Column::MemberId).count(), "n")
                    .filter(member_unit::Column::UnitId.is_in(chunk.iter().copied()))
                    .filter(valid_on_membership(on))
                    .filter(unit_row_is_party_member_on(on))
                    .group_by(member_unit::Column::UnitId)
                    .into_tuple()
                    .all(db)
                    .await?;
                for (u, n) in counts {
                    per_unit.insert(u, u64::try_from(n).unwrap_or(0));
                }
            }
            for (u, sub) in &subtrees {
                let n = sub
                    .iter()
                    .map(|m| per_unit.get(m).copied().unwrap_or(0))
                    .sum();
                members_of.insert(*u, n);
            }
        }
        // Their parents that day.
        let mut parent_code: HashMap<Uuid, String> = HashMap::new();
        for chunk in idle.chunks(500) {
            let rows: Vec<(Uuid, String)> = unit_ancestry::Entity::find()
                .select_only()
                .column(unit_ancestry::Column::UnitId)
                .column(unit::Column::Code)
                .join(JoinType::InnerJoin, unit_ancestry::Relation::Ancestor.def())
                .filter(unit_ancestry::Column::UnitId.is_in(chunk.iter().copied()))
                .filter(unit_ancestry::Column::Depth.eq(1))
                .filter(crate::tree::ancestry::valid_on(on))
                .into_tuple()
                .all(db)
                .await?;
            parent_code.extend(rows);
        }

        let mut records = Vec::with_capacity(idle.len());
        for chunk in idle.chunks(500) {
            records.extend(self.store.tree().units(chunk).await?);
        }
        records.sort_by(|a, b| a.code.cmp(&b.code));
        let units = records
            .into_iter()
            .map(|r| IdleUnit {
                parent_code: parent_code.remove(&r.id),
                members: members_of.get(&r.id).copied().unwrap_or(0),
                last_admission: last.get(&r.id).copied(),
                unit: r,
            })
            .collect();
        Ok(IdleUnitsReport {
            on,
            years,
            since,
            looked_at,
            total,
            units,
        })
    }

    /// The members of `unit`'s subtree on the tree of `on` (everyone when `None`), official or
    /// probationary that day, with a discipline in force on `on`, by form: the decisions of the discipline register decided
    /// by then, neither annulled nor lapsed that day, counted in the unit the member belonged
    /// to when it was decided. Returns the decisions by form and how many members they concern
    /// (a member can have two in force).
    pub async fn discipline_in_force_counts(
        &self,
        unit: Option<Uuid>,
        on: NaiveDate,
    ) -> Result<(Vec<(String, u64)>, u64)> {
        let records: Vec<(Uuid, Uuid, String)> = discipline_record::Entity::find()
            .select_only()
            .column(discipline_record::Column::MemberId)
            .column(discipline_record::Column::UnitId)
            .column(discipline_record::Column::Form)
            .filter(discipline_in_force_on(on))
            .filter(discipline_record::Column::MemberId.in_subquery(party_members_on(on)))
            .into_tuple()
            .all(self.db())
            .await?;
        let tree = match unit {
            Some(root) => Some((TreeIndex::load(self.db(), on).await?, root)),
            None => None,
        };
        let mut by_form: BTreeMap<String, u64> = BTreeMap::new();
        let mut members: HashSet<Uuid> = HashSet::new();
        for (m, u, form) in records {
            if tree
                .as_ref()
                .is_none_or(|(t, root)| t.counts_under(u, *root))
            {
                *by_form.entry(form).or_default() += 1;
                members.insert(m);
            }
        }
        Ok((by_form.into_iter().collect(), members.len() as u64))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_period_is_the_years_up_to_the_day_exactly_years_before_excluded() {
        assert_eq!(period_start(d(2023, 6, 30), 5), Some(d(2018, 7, 1)));
        assert_eq!(period_start(d(2023, 12, 31), 1), Some(d(2023, 1, 1)));
        // 29 February less a year is the 28th; the period starts the day after.
        assert_eq!(period_start(d(2024, 2, 29), 1), Some(d(2023, 3, 1)));
    }
}
