//! Temporary party activity (sinh hoạt đảng tạm thời): a member living their party life for a
//! while at another branch, or elsewhere (another province, abroad), as a dated fact beside
//! their registration. Recorded and ended by those who keep the registry of the member's unit
//! (the right to register members there); read with the right to read members.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use memberflow_store::{NewTemporaryActivity, TemporaryActivity as Record};
use memberflow_workflow::access::Permission;

use crate::access::require;
use crate::error::OrGql;
use crate::members::{Member, require_over_members_unit};
use crate::scalars::{Date, parse_id, to_id};
use crate::tree::{Unit, app, lang, on_or_today};

/// A period of temporary party activity elsewhere.
pub struct TemporaryActivity(pub Record);

#[Object]
impl TemporaryActivity {
    /// Its id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The member.
    async fn member_id(&self) -> ID {
        to_id(self.0.member_id)
    }
    /// The branch of the registry that hosts the member meanwhile, if any.
    async fn host_unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        match self.0.host_unit_id {
            Some(id) => Ok(Some(Unit(
                app(ctx).store.tree().unit(id).await.gql(lang(ctx))?,
            ))),
            None => Ok(None),
        }
    }
    /// Where, when the host is not in the registry (another province, a country).
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    /// Outside Vietnam.
    async fn abroad(&self) -> bool {
        self.0.abroad
    }
    /// First day.
    async fn from(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// First day back in the home branch; null while it runs with no end known.
    async fn to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
}

/// A member living their party life elsewhere (or hosted) on a day.
#[derive(SimpleObject)]
pub struct TemporaryActivityEntry {
    /// The member.
    member: Member,
    /// The member's own unit that day.
    home_unit: Unit,
    /// The period.
    activity: TemporaryActivity,
}

/// The temporary party activity of a subtree on a day.
#[derive(SimpleObject)]
pub struct TemporaryActivityReport {
    /// The unit asked about.
    unit: Unit,
    /// The day.
    on: Date,
    /// Members of the subtree living their party life elsewhere that day (abroad included).
    away: Vec<TemporaryActivityEntry>,
    /// Members of other units living their party life in a branch of the subtree that day.
    hosted: Vec<TemporaryActivityEntry>,
}

/// A period of temporary party activity to record.
#[derive(InputObject)]
pub struct RecordTemporaryActivityInput {
    /// The member.
    member_id: ID,
    /// The branch of the registry that hosts the member, or
    host_unit_id: Option<ID>,
    /// where, when the host is not in the registry (another province, a country).
    place: Option<String>,
    /// Outside Vietnam (with `place`).
    #[graphql(default)]
    abroad: bool,
    /// First day.
    from: Date,
    /// First day back, if known.
    to: Option<Date>,
}

/// Reading temporary party activity.
#[derive(Default)]
pub struct AwayQuery;

#[Object]
impl AwayQuery {
    /// The members of the subtree of `unitId` living their party life elsewhere on `on`
    /// (today by default), and the members of other units a branch of the subtree hosts that
    /// day. Needs the right to read members over the unit.
    async fn temporary_activity(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        on: Option<Date>,
    ) -> async_graphql::Result<TemporaryActivityReport> {
        let l = lang(ctx);
        let a = app(ctx);
        let unit = a
            .store
            .tree()
            .unit(parse_id(&unit_id, "unit").gql(l)?)
            .await
            .gql(l)?;
        require(ctx, Permission::ReadMembers, unit.id).await?;
        let d = on_or_today(ctx, on);
        crate::tree::ahead(ctx, "on", Date(d))?;
        let units = a.store.tree().subtree_ids_on(unit.id, d).await.gql(l)?;
        let r = a
            .store
            .registry()
            .temporary_activity_on(&units, d)
            .await
            .gql(l)?;
        let entries = |list: Vec<(Record, uuid::Uuid)>| {
            let a = &a;
            async move {
                let mut out = Vec::with_capacity(list.len());
                for (p, home) in list {
                    out.push(TemporaryActivityEntry {
                        member: Member(a.store.registry().member(p.member_id).await.gql(l)?),
                        home_unit: Unit(a.store.tree().unit(home).await.gql(l)?),
                        activity: TemporaryActivity(p),
                    });
                }
                Ok::<_, async_graphql::Error>(out)
            }
        };
        let away = entries(r.away).await?;
        let hosted = entries(r.hosted).await?;
        Ok(TemporaryActivityReport {
            unit: Unit(unit),
            on: Date(d),
            away,
            hosted,
        })
    }
}

/// Recording temporary party activity.
#[derive(Default)]
pub struct AwayMutation;

#[Object]
impl AwayMutation {
    /// Records that a member lives their party life from `from` (to `to`, when known) at
    /// another branch (`hostUnitId`) or elsewhere (`place`, `abroad`): by those who keep the
    /// registry of the member's unit. Refused (`VALIDATION`) unless the member is an official
    /// or probationary member that day, the host is a branch existing that day other than
    /// their own (or a place is named), and the period ends after it starts; `CONFLICT` when
    /// it overlaps another of the member's periods.
    async fn record_temporary_activity(
        &self,
        ctx: &Context<'_>,
        input: RecordTemporaryActivityInput,
    ) -> async_graphql::Result<TemporaryActivity> {
        let l = lang(ctx);
        let a = app(ctx);
        let member_id = parse_id(&input.member_id, "member").gql(l)?;
        let host_unit_id = input
            .host_unit_id
            .as_ref()
            .map(|h| parse_id(h, "unit"))
            .transpose()
            .gql(l)?;
        a.store.registry().member(member_id).await.gql(l)?;
        require_over_members_unit(ctx, Permission::RegisterMembers, member_id).await?;
        crate::tree::ahead(ctx, "from", input.from)?;
        let record = a
            .store
            .registry()
            .record_temporary_activity(
                &NewTemporaryActivity {
                    member_id,
                    host_unit_id,
                    place: input.place,
                    abroad: input.abroad,
                    from: input.from.0,
                    to: input.to.map(|d| d.0),
                },
                a.clock.now(),
            )
            .await
            .gql(l)?;
        Ok(TemporaryActivity(record))
    }

    /// Ends the member's period of temporary activity: back in their branch from `on`. By
    /// those who keep the registry of the member's unit.
    async fn end_temporary_activity(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        on: Date,
    ) -> async_graphql::Result<TemporaryActivity> {
        let l = lang(ctx);
        let a = app(ctx);
        let member_id = parse_id(&member_id, "member").gql(l)?;
        a.store.registry().member(member_id).await.gql(l)?;
        require_over_members_unit(ctx, Permission::RegisterMembers, member_id).await?;
        crate::tree::ahead(ctx, "on", on)?;
        Ok(TemporaryActivity(
            a.store
                .registry()
                .end_temporary_activity(member_id, on.0)
                .await
                .gql(l)?,
        ))
    }
}
