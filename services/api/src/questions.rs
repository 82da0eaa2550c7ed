//! The questions a provincial committee asks of a subtree (docs/reports.md): the grassroots
//! organizations and branches that admitted nobody for some years, and the members with a
//! discipline in force on a date, by form. Both need the right to read reports over the unit
//! asked about (everywhere without one).

use async_graphql::{Context, ID, Object, SimpleObject};
use memberflow_workflow::access::Permission;
use memberflow_workflow::violations::{self, FORMS};

use crate::access::{require, require_everywhere};
use crate::error::OrGql;
use crate::scalars::{Date, parse_id};
use crate::tree::{Unit, app, lang, on_or_today, read_apart};

/// The questions of a provincial committee.
#[derive(Default)]
pub struct QuestionsQuery;

/// A grassroots organization or branch that admitted nobody over the period asked about.
#[derive(SimpleObject)]
pub struct IdleUnit {
    /// The unit.
    unit: Unit,
    /// Its official and probationary members on the day asked about, with its branches.
    members: u64,
    /// Its last admission decision (in it or in a branch of it) on or before that day; null
    /// when it never admitted anyone.
    last_admission: Option<Date>,
}

/// The grassroots organizations and branches of a subtree without an admission for some years.
#[derive(SimpleObject)]
pub struct UnitsWithoutAdmission {
    /// The unit asked about (none: the whole organization).
    unit: Option<Unit>,
    /// The day asked about.
    on: Date,
    /// How many years back.
    years: u32,
    /// The first day of the period: admissions decided from this day to `on` count, so a unit
    /// whose last admission was exactly `years` years before `on` is listed.
    since: Date,
    /// Grassroots organizations and branches looked at: those existing on `on` that already
    /// existed `years` years before it (a younger unit is not judged).
    looked_at: u64,
    /// How many units are without an admission in the period (`units` may list only the
    /// first of them).
    total: u64,
    /// The units without an admission in the period, by code: the first `first` when it is
    /// given (their members are counted, not the others').
    units: Vec<IdleUnit>,
}

/// Decisions in force of one form.
#[derive(SimpleObject)]
pub struct FormInForce {
    /// `reprimand`, `warning`, `removal` or `expulsion`.
    form: String,
    /// Its name (khiển trách, cảnh cáo, cách chức, khai trừ).
    label: String,
    /// Decisions in force.
    count: u64,
}

/// The members with a discipline in force on a day, in a subtree.
#[derive(SimpleObject)]
pub struct DisciplineInForceStatistics {
    /// The unit asked about (none: the whole organization).
    unit: Option<Unit>,
    /// The day.
    on: Date,
    /// Official and probationary members with at least one decision in force.
    members: u64,
    /// The decisions in force by form, most lenient first.
    by_form: Vec<FormInForce>,
}

async fn unit_for_reports(
    ctx: &Context<'_>,
    unit_id: Option<ID>,
) -> async_graphql::Result<Option<memberflow_store::UnitRecord>> {
    let l = lang(ctx);
    match unit_id {
        Some(id) => {
            let u = app(ctx)
                .store
                .tree()
                .unit(parse_id(&id, "unit").gql(l)?)
                .await
                .gql(l)?;
            require(ctx, Permission::ReadReports, u.id).await?;
            Ok(Some(u))
        }
        None => {
            require_everywhere(ctx, Permission::ReadReports)?;
            Ok(None)
        }
    }
}

/// The grassroots organizations and branches of `unit`'s subtree (everything when `None`)
/// without an admission in the `years` years up to `d`: the answer of
/// `Query.unitsWithoutAdmission` and `AdmissionTargetReport.unitsWithoutAdmission`, once the
/// caller's right to read reports over the unit is checked.
pub(crate) async fn idle_units(
    ctx: &Context<'_>,
    unit: Option<memberflow_store::UnitRecord>,
    d: chrono::NaiveDate,
    years: u32,
    first: Option<u32>,
) -> async_graphql::Result<UnitsWithoutAdmission> {
    let l = lang(ctx);
    if !(1..=100).contains(&years) {
        return Err(
            crate::error::ApiError::Validation(memberflow_workflow::text::Text::new(
                format!("Số năm {years} không hợp lệ: từ 1 đến 100."),
                format!("`years` must be from 1 to 100, not {years}."),
            ))
            .into_graphql(l),
        );
    }
    let id = unit.as_ref().map(|u| u.id);
    let first = first.map(|n| n as usize);
    let r = read_apart(ctx, |store| async move {
        store
            .stats()
            .units_without_admission(id, d, years, first)
            .await
    })
    .await?;
    Ok(UnitsWithoutAdmission {
        unit: unit.map(Unit),
        on: Date(r.on),
        years: r.years,
        since: Date(r.since),
        looked_at: r.looked_at,
        total: r.total,
        units: r
            .units
            .into_iter()
            .map(|u| IdleUnit {
                unit: Unit(u.unit),
                members: u.members,
                last_admission: u.last_admission.map(Date),
            })
            .collect(),
    })
}

#[Object]
impl QuestionsQuery {
    /// The grassroots organizations and branches of the subtree of `unitId` (the whole
    /// organization without it) on the tree of `on` (today by default) that admitted nobody
    /// in the `years` years up to `on` (1 to 100): no admission decided from `on` less
    /// `years` years plus a day, to `on`. An admission counts in the branch the member was
    /// first registered in (in its successor if it was merged since) and in every unit above
    /// it. With `first`, only the first `first` units by code are listed (`total` counts them
    /// all). Needs the right to read reports over the unit.
    async fn units_without_admission(
        &self,
        ctx: &Context<'_>,
        unit_id: Option<ID>,
        years: u32,
        on: Option<Date>,
        first: Option<u32>,
    ) -> async_graphql::Result<UnitsWithoutAdmission> {
        let unit = unit_for_reports(ctx, unit_id).await?;
        let d = on_or_today(ctx, on);
        crate::tree::ahead(ctx, "on", Date(d))?;
        idle_units(ctx, unit, d, years, first).await
    }

    /// The official and probationary members of the subtree of `unitId` (the whole
    /// organization without it) with a discipline in force on `on` (today by default), and
    /// the decisions in force by form: the discipline register's decisions dated by then,
    /// not annulled, not lapsed that day, counted in the unit the member was in when it was
    /// decided. The members themselves: `Unit.members(disciplineInForce: true)`. Needs the
    /// right to read reports over the unit.
    async fn discipline_in_force(
        &self,
        ctx: &Context<'_>,
        unit_id: Option<ID>,
        on: Option<Date>,
    ) -> async_graphql::Result<DisciplineInForceStatistics> {
        let l = lang(ctx);
        let unit = unit_for_reports(ctx, unit_id).await?;
        let d = on_or_today(ctx, on);
        crate::tree::ahead(ctx, "on", Date(d))?;
        let (forms, members) = app(ctx)
            .store
            .stats()
            .discipline_in_force_counts(unit.as_ref().map(|u| u.id), d)
            .await
            .gql(l)?;
        let mut by_form: Vec<FormInForce> = forms
            .into_iter()
            .map(|(f, n)| FormInForce {
                label: violations::form_label(&f).get(l).to_owned(),
                form: f,
                count: n,
            })
            .collect();
        by_form.sort_by_key(|c| {
            FORMS
                .iter()
                .position(|f| *f == c.form)
                .unwrap_or(FORMS.len())
        });
        Ok(DisciplineInForceStatistics {
            unit: unit.map(Unit),
            on: Date(d),
            members,
            by_form,
        })
    }
}
