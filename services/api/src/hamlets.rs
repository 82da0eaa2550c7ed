//! The register of hamlets and residential groups (ấp, khu vực, tổ dân phố) and the question
//! Resolution 21 asks of it: which hamlets of a subtree have no party member living in them,
//! and which have no party branch, on a date (docs/reports.md). Hamlets, branch links and
//! residences are kept by those who keep the registry of the unit concerned (the right to
//! register members there); the question needs the right to read reports over the unit.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use memberflow_store::{HamletOn, HamletPeriod, HamletRecord, NewHamlet};
use memberflow_workflow::access::Permission;
use memberflow_workflow::hamlet::HamletKind as CoreKind;

use crate::access::require;
use crate::error::OrGql;
use crate::members::require_over_members_unit;
use crate::scalars::{Date, parse_id, to_id};
use crate::tree::{Unit, app, lang, on_or_today, read_apart};

/// The kind of a hamlet or residential group.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum HamletKind {
    /// Ấp: a hamlet of a rural commune.
    Hamlet,
    /// Khu vực: an area of a ward or town.
    WardArea,
    /// Tổ dân phố: a residential group of a ward or town.
    ResidentialGroup,
}

impl From<CoreKind> for HamletKind {
    fn from(k: CoreKind) -> Self {
        match k {
            CoreKind::Hamlet => HamletKind::Hamlet,
            CoreKind::WardArea => HamletKind::WardArea,
            CoreKind::ResidentialGroup => HamletKind::ResidentialGroup,
        }
    }
}

impl From<HamletKind> for CoreKind {
    fn from(k: HamletKind) -> Self {
        match k {
            HamletKind::Hamlet => CoreKind::Hamlet,
            HamletKind::WardArea => CoreKind::WardArea,
            HamletKind::ResidentialGroup => CoreKind::ResidentialGroup,
        }
    }
}

/// A hamlet or residential group (ấp, khu vực, tổ dân phố) of a commune-level unit.
pub struct Hamlet(pub HamletRecord);

#[Object]
impl Hamlet {
    /// Identifier (a UUID).
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Unique code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its kind.
    async fn kind(&self) -> HamletKind {
        self.0.kind.into()
    }
    /// The kind's name in the reader's language.
    async fn kind_label(&self, ctx: &Context<'_>) -> String {
        self.0.kind.label().get(lang(ctx)).to_owned()
    }
    /// The commune-level unit it belongs to.
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(
            app(ctx)
                .store
                .tree()
                .unit(self.0.unit_id)
                .await
                .gql(lang(ctx))?,
        ))
    }
    /// First day.
    async fn valid_from(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// First day it no longer exists (ended or merged), if it has ended.
    async fn valid_to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
    /// The hamlet it was merged into, if it was.
    async fn merged_into(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Hamlet>> {
        match self.0.successor_id {
            Some(id) => Ok(Some(Hamlet(
                app(ctx).store.registry().hamlet(id).await.gql(lang(ctx))?,
            ))),
            None => Ok(None),
        }
    }
    /// The hamlet branches linked to it over time, oldest first.
    #[graphql(complexity = "5 * child_complexity + 1")]
    async fn branch_links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<BranchLink>> {
        Ok(app(ctx)
            .store
            .registry()
            .hamlet_branch_links(self.0.id)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(BranchLink)
            .collect())
    }
}

/// A hamlet branch linked to its hamlet over a period.
pub struct BranchLink(HamletPeriod);

#[Object]
impl BranchLink {
    /// The hamlet.
    async fn hamlet_id(&self) -> ID {
        to_id(self.0.hamlet_id)
    }
    /// The branch.
    async fn branch(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(
            app(ctx)
                .store
                .tree()
                .unit(self.0.other_id)
                .await
                .gql(lang(ctx))?,
        ))
    }
    /// First day.
    async fn from(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// First day it no longer holds; null while it does.
    async fn to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
}

/// A member living in a hamlet over a period.
pub struct Residence(pub HamletPeriod);

#[Object]
impl Residence {
    /// The hamlet.
    async fn hamlet(&self, ctx: &Context<'_>) -> async_graphql::Result<Hamlet> {
        Ok(Hamlet(
            app(ctx)
                .store
                .registry()
                .hamlet(self.0.hamlet_id)
                .await
                .gql(lang(ctx))?,
        ))
    }
    /// First day.
    async fn from(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// First day it no longer holds; null while it does.
    async fn to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
    /// `SET` (recorded) or `MERGED` (the hamlet was merged into this one).
    async fn reason(&self) -> &str {
        &self.0.reason
    }
}

/// A hamlet on a day, with its branch and its resident members that day.
pub struct HamletOnDay(pub HamletOn);

#[Object]
impl HamletOnDay {
    /// The hamlet.
    async fn hamlet(&self) -> Hamlet {
        Hamlet(self.0.hamlet.clone())
    }
    /// The hamlet branch linked to it that day; null when none.
    async fn branch(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        match self.0.branch_id {
            Some(id) => Ok(Some(Unit(
                app(ctx).store.tree().unit(id).await.gql(lang(ctx))?,
            ))),
            None => Ok(None),
        }
    }
    /// Official and probationary members living in it that day.
    async fn members(&self) -> u64 {
        self.0.members
    }
}

/// Hamlets of a subtree without a member living in them, or without a branch, on a day.
#[derive(SimpleObject)]
pub struct HamletsWithout {
    /// The unit asked about.
    unit: Unit,
    /// The day.
    on: Date,
    /// Hamlets and residential groups of the subtree existing that day.
    looked_at: u64,
    /// Those in which no official or probationary member lived that day, by code.
    without_members: Vec<HamletOnDay>,
    /// Those to which no existing hamlet branch was linked that day, by code.
    without_branch: Vec<HamletOnDay>,
}

/// A hamlet or residential group to record.
#[derive(InputObject)]
pub struct RecordHamletInput {
    /// The commune-level unit (grassroots committee or branch of the commune, ward or town).
    unit_id: ID,
    /// Unique code.
    code: String,
    /// Its name.
    name: String,
    /// Its kind.
    kind: HamletKind,
    /// First day.
    from: Date,
}

/// The hamlets of a unit's subtree on a day (the field `Unit.hamlets`).
pub(crate) async fn hamlets_of(
    ctx: &Context<'_>,
    unit_id: uuid::Uuid,
    d: chrono::NaiveDate,
) -> async_graphql::Result<Vec<HamletOn>> {
    let l = lang(ctx);
    let a = app(ctx);
    a.store.registry().hamlets_on(&[unit_id], d).await.gql(l)
}

/// The hamlets of `unit`'s subtree without members or without a branch on `d`: the answer of
/// `Query.hamletsWithout` and `AdmissionTargetReport.hamletsWithout`, once the caller's right
/// to read reports over the unit is checked.
pub(crate) async fn hamlets_without_on(
    ctx: &Context<'_>,
    unit: memberflow_store::UnitRecord,
    d: chrono::NaiveDate,
) -> async_graphql::Result<HamletsWithout> {
    let id = unit.id;
    let (looked_at, all) = read_apart(ctx, |store| async move {
        store.registry().hamlets_without_under(&[id], d).await
    })
    .await?;
    let without_members = all
        .iter()
        .filter(|h| h.members == 0)
        .cloned()
        .map(HamletOnDay)
        .collect();
    let without_branch = all
        .into_iter()
        .filter(|h| h.branch_id.is_none())
        .map(HamletOnDay)
        .collect();
    Ok(HamletsWithout {
        unit: Unit(unit),
        on: Date(d),
        looked_at,
        without_members,
        without_branch,
    })
}

/// Reading the register of hamlets.
#[derive(Default)]
pub struct HamletQuery;

#[Object]
impl HamletQuery {
    /// The hamlets and residential groups of the subtree of `unitId` existing on `on` (today
    /// by default; those of a commune-level unit merged since count under the unit that took
    /// it over) without an official or probationary member living in them that day, and
    /// those without a hamlet branch linked to them that day (a link to a branch that no
    /// longer exists does not count). Needs the right to read reports over the unit.
    #[graphql(complexity = "100")]
    async fn hamlets_without(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        on: Option<Date>,
    ) -> async_graphql::Result<HamletsWithout> {
        let l = lang(ctx);
        let unit = app(ctx)
            .store
            .tree()
            .unit(parse_id(&unit_id, "unit").gql(l)?)
            .await
            .gql(l)?;
        require(ctx, Permission::ReadReports, unit.id).await?;
        let d = on_or_today(ctx, on);
        crate::tree::ahead(ctx, "on", Date(d))?;
        hamlets_without_on(ctx, unit, d).await
    }
}

/// Keeping the register of hamlets.
#[derive(Default)]
pub struct HamletMutation;

async fn hamlet_for_write(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<HamletRecord> {
    let l = lang(ctx);
    let h = app(ctx)
        .store
        .registry()
        .hamlet(parse_id(id, "hamlet or residential group").gql(l)?)
        .await
        .gql(l)?;
    require(ctx, Permission::RegisterMembers, h.unit_id).await?;
    Ok(h)
}

#[Object]
impl HamletMutation {
    /// Records a hamlet or residential group of a commune-level unit (a grassroots committee
    /// or branch), existing from `from`: by those who keep the unit's registry. `VALIDATION`
    /// for another kind of unit, or one not existing that day; `CONFLICT` for a code taken.
    async fn record_hamlet(
        &self,
        ctx: &Context<'_>,
        input: RecordHamletInput,
    ) -> async_graphql::Result<Hamlet> {
        let l = lang(ctx);
        let a = app(ctx);
        let unit_id = parse_id(&input.unit_id, "unit").gql(l)?;
        a.store.tree().unit(unit_id).await.gql(l)?;
        require(ctx, Permission::RegisterMembers, unit_id).await?;
        crate::tree::ahead(ctx, "from", input.from)?;
        Ok(Hamlet(
            a.store
                .registry()
                .record_hamlet(
                    &NewHamlet {
                        code: input.code,
                        name: input.name,
                        kind: input.kind.into(),
                        unit_id,
                        from: input.from.0,
                    },
                    a.clock.now(),
                )
                .await
                .gql(l)?,
        ))
    }

    /// Merges hamlets into `targetId` on `on` (hamlets are merged as units are): the sources
    /// end the day before, the members living in them live in the target from `on`, and the
    /// links of their branches end that day (link the target's branch as needed). By those
    /// who keep the registry of every hamlet's unit.
    async fn merge_hamlets(
        &self,
        ctx: &Context<'_>,
        source_ids: Vec<ID>,
        target_id: ID,
        on: Date,
    ) -> async_graphql::Result<Hamlet> {
        let l = lang(ctx);
        let target = hamlet_for_write(ctx, &target_id).await?;
        let mut sources = Vec::with_capacity(source_ids.len());
        for s in &source_ids {
            sources.push(hamlet_for_write(ctx, s).await?.id);
        }
        crate::tree::ahead(ctx, "on", on)?;
        Ok(Hamlet(
            app(ctx)
                .store
                .registry()
                .merge_hamlets(&sources, target.id, on.0)
                .await
                .gql(l)?,
        ))
    }

    /// Ends a hamlet: it no longer exists from `on`. Refused (`CONFLICT`) while members still
    /// live in it. By those who keep the registry of its unit.
    async fn end_hamlet(
        &self,
        ctx: &Context<'_>,
        hamlet_id: ID,
        on: Date,
    ) -> async_graphql::Result<Hamlet> {
        let l = lang(ctx);
        let h = hamlet_for_write(ctx, &hamlet_id).await?;
        crate::tree::ahead(ctx, "on", on)?;
        Ok(Hamlet(
            app(ctx)
                .store
                .registry()
                .end_hamlet(h.id, on.0)
                .await
                .gql(l)?,
        ))
    }

    /// Links a hamlet branch (a branch of category `HAMLET` under the hamlet's unit) to its
    /// hamlet from `from`; the hamlet's link to another branch, and the branch's to another
    /// hamlet, end that day. By those who keep the branch's registry.
    async fn link_hamlet_branch(
        &self,
        ctx: &Context<'_>,
        hamlet_id: ID,
        unit_id: ID,
        from: Date,
    ) -> async_graphql::Result<BranchLink> {
        let l = lang(ctx);
        let a = app(ctx);
        let h = a
            .store
            .registry()
            .hamlet(parse_id(&hamlet_id, "hamlet or residential group").gql(l)?)
            .await
            .gql(l)?;
        let unit_id = parse_id(&unit_id, "unit").gql(l)?;
        a.store.tree().unit(unit_id).await.gql(l)?;
        require(ctx, Permission::RegisterMembers, unit_id).await?;
        crate::tree::ahead(ctx, "from", from)?;
        Ok(BranchLink(
            a.store
                .registry()
                .link_hamlet_branch(h.id, unit_id, from.0)
                .await
                .gql(l)?,
        ))
    }

    /// Records that a member lives in a hamlet from `from`; their current residence ends that
    /// day (history is kept: a day on or before its start is a `CONFLICT`). By those who keep
    /// the registry of the member's unit.
    async fn set_member_residence(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        hamlet_id: ID,
        from: Date,
    ) -> async_graphql::Result<Residence> {
        let l = lang(ctx);
        let a = app(ctx);
        let member_id = parse_id(&member_id, "member").gql(l)?;
        let hamlet_id = parse_id(&hamlet_id, "hamlet or residential group").gql(l)?;
        a.store.registry().member(member_id).await.gql(l)?;
        require_over_members_unit(ctx, Permission::RegisterMembers, member_id).await?;
        a.store.registry().hamlet(hamlet_id).await.gql(l)?;
        crate::tree::ahead(ctx, "from", from)?;
        Ok(Residence(
            a.store
                .registry()
                .set_member_residence(member_id, hamlet_id, from.0)
                .await
                .gql(l)?,
        ))
    }
}
