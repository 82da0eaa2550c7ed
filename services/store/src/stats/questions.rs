//! The questions a provincial committee asks of its subtree that are not counts of one fact:
//! the grassroots organizations and branches that admitted nobody for some years, and the
//! members with a discipline in force on a date, by form.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Days, Months, NaiveDate};
use memberflow_workflow::tree::{Level, MemberStatus};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Statistics;
use super::entity::{discipline_record, stat_admission_day};
use super::tree::TreeIndex;
use crate::entity::{member_status, member_unit};
use crate::error::{Result, StoreError};
use crate::probe::Probe;
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
/// a probe of that member's status rows (by index, [`Probe`]), where a list of every party
/// member of the day would read them all.
fn unit_row_is_party_member_on(on: NaiveDate, probe: Probe) -> sea_orm::sea_query::SimpleExpr {
    Expr::exists(
        probe.apply(
            Query::select()
                .expr(Expr::val(1))
                .from(member_status::Entity)
                .and_where(
                    Expr::col((member_status::Entity, member_status::Column::MemberId))
                        .equals((member_unit::Entity, member_unit::Column::MemberId)),
                )
                .cond_where(party_status_on(on))
                .to_owned(),
        ),
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
        let tree = TreeIndex::load(self.db(), on).await?;
        let ids = tree.units_under(unit);
        let candidates: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| {
                tree.units.get(id).is_some_and(|u| {
                    matches!(u.kind.level(), Level::Grassroots | Level::Branch)
                        && u.valid_from <= existed_by
                })
            })
            .collect();

        // The units that admitted in the period: an admission counts in the unit standing
        // for the member's first unit on the tree of `on`, and in every unit above it. One
        // read of the period's days of the admissions counter (kept to the day).
        self.ensure_admissions().await?;
        let admitting: Vec<Uuid> = stat_admission_day::Entity::find()
            .select_only()
            .column(stat_admission_day::Column::UnitId)
            .distinct()
            .filter(stat_admission_day::Column::Day.gte(since))
            .filter(stat_admission_day::Column::Day.lte(on))
            .filter(stat_admission_day::Column::Admitted.gt(0))
            .into_tuple()
            .all(self.db())
            .await?;
        let mut active: HashSet<Uuid> = HashSet::new();
        for u in admitting {
            let mut cur = tree.representative(u);
            while let Some(c) = cur {
                if !active.insert(c) {
                    break;
                }
                cur = tree.parent_on.get(&c).copied();
            }
        }
        let mut idle: Vec<(&str, Uuid)> = candidates
            .iter()
            .filter(|c| !active.contains(c))
            .filter_map(|c| tree.units.get(c).map(|u| (u.code.as_str(), *c)))
            .collect();
        idle.sort_unstable();
        let total = idle.len() as u64;
        let idle: Vec<Uuid> = idle
            .into_iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(|(_, id)| id)
            .collect();

        // The subtree of each listed unit on `on`, and which listed units each unit of it
        // (and each unit since merged or dissolved into it) counts in.
        let subtrees: HashMap<Uuid, Vec<Uuid>> = idle
            .iter()
            .map(|u| {
                (
                    *u,
                    tree.subtree(*u, None).into_iter().map(|r| r.0).collect(),
                )
            })
            .collect();
        let mut listed_over: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (u, sub) in &subtrees {
            for m in sub {
                listed_over.entry(*m).or_default().push(*u);
            }
        }
        // Their last admission on or before `on` (before the period, or they would not be
        // listed): read for the units counting in them only.
        let counted: Vec<Uuid> = tree
            .units
            .keys()
            .copied()
            .filter(|u| {
                tree.representative(*u)
                    .is_some_and(|r| listed_over.contains_key(&r))
            })
            .collect();
        let mut last: HashMap<Uuid, NaiveDate> = HashMap::new();
        for chunk in counted.chunks(500) {
            let rows: Vec<(Uuid, Option<NaiveDate>)> = stat_admission_day::Entity::find()
                .select_only()
                .column(stat_admission_day::Column::UnitId)
                .column_as(stat_admission_day::Column::Day.max(), "last")
                .filter(stat_admission_day::Column::UnitId.is_in(chunk.iter().copied()))
                .filter(stat_admission_day::Column::Day.lte(on))
                .filter(stat_admission_day::Column::Admitted.gt(0))
                .group_by(stat_admission_day::Column::UnitId)
                .into_tuple()
                .all(self.db())
                .await?;
            for (u, decided) in rows {
                let Some(decided) = decided else { continue };
                let Some(r) = tree.representative(u) else {
                    continue;
                };
                for l in listed_over.get(&r).map(Vec::as_slice).unwrap_or_default() {
                    let e = last.entry(*l).or_insert(decided);
                    if decided > *e {
                        *e = decided;
                    }
                }
            }
        }

        // Members of each listed unit's subtree on `on`: one grouped read of the branches.
        let mut members_of: HashMap<Uuid, u64> = HashMap::new();
        if !idle.is_empty() {
            let holders: Vec<Uuid> = listed_over.keys().copied().collect();
            let probe = Probe::of(self.db());
            let mut per_unit: HashMap<Uuid, u64> = HashMap::new();
            for chunk in holders.chunks(500) {
                let counts: Vec<(Uuid, i64)> = member_unit::Entity::find()
                    .select_only()
                    .column(member_unit::Column::UnitId)
                    .column_as(Expr::col(member_unit::Column::MemberId).count(), "n")
                    .filter(member_unit::Column::UnitId.is_in(chunk.iter().copied()))
                    .filter(valid_on_membership(on))
                    .filter(unit_row_is_party_member_on(on, probe))
                    .group_by(member_unit::Column::UnitId)
                    .into_tuple()
                    .all(self.db())
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

        let mut records = Vec::with_capacity(idle.len());
        for chunk in idle.chunks(500) {
            records.extend(self.store.tree().units(chunk).await?);
        }
        records.sort_by(|a, b| a.code.cmp(&b.code));
        let units = records
            .into_iter()
            .map(|r| IdleUnit {
                parent_code: tree
                    .parent_on
                    .get(&r.id)
                    .and_then(|p| tree.units.get(p))
                    .map(|p| p.code.clone()),
                members: members_of.get(&r.id).copied().unwrap_or(0),
                last_admission: last.get(&r.id).copied(),
                unit: r,
            })
            .collect();
        Ok(IdleUnitsReport {
            on,
            years,
            since,
            looked_at: candidates.len() as u64,
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
