//! Temporary party activity (sinh hoạt đảng tạm thời), a dated fact beside a member's
//! registration: recorded and ended in one transaction each, after the core's checks
//! (`memberflow_workflow::away`), and read by member or for a subtree on a date.

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::away::{self as core, Host, Refusal};
use memberflow_workflow::tree::MemberStatus;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::Registry;
use crate::entity::{member, member_status, member_unit, temporary_activity};
use crate::error::{Result, StoreError};
use crate::tree::load_unit;

/// A period of temporary party activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryActivity {
    /// Its id.
    pub id: i64,
    /// The member.
    pub member_id: Uuid,
    /// The branch of the registry that hosts the member, if any.
    pub host_unit_id: Option<Uuid>,
    /// Where, when the host is not in the registry.
    pub place: Option<String>,
    /// Outside Vietnam.
    pub abroad: bool,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day back, if known.
    pub valid_to: Option<NaiveDate>,
}

impl From<temporary_activity::Model> for TemporaryActivity {
    fn from(m: temporary_activity::Model) -> Self {
        TemporaryActivity {
            id: m.id,
            member_id: m.member_id,
            host_unit_id: m.host_unit_id,
            place: m.place,
            abroad: m.abroad,
            valid_from: m.valid_from,
            valid_to: m.valid_to,
        }
    }
}

/// A period to record.
#[derive(Debug, Clone)]
pub struct NewTemporaryActivity {
    /// The member.
    pub member_id: Uuid,
    /// A branch of the registry, or
    pub host_unit_id: Option<Uuid>,
    /// a place outside it.
    pub place: Option<String>,
    /// Outside Vietnam (with a place).
    pub abroad: bool,
    /// First day.
    pub from: NaiveDate,
    /// First day back, if known.
    pub to: Option<NaiveDate>,
}

/// The temporary activity of a subtree on a date: its members away, and the members of other
/// units it hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemporaryActivityOn {
    /// Members of the subtree living their party life elsewhere that day, with their unit.
    pub away: Vec<(TemporaryActivity, Uuid)>,
    /// Members of other units hosted by a branch of the subtree that day, with their unit.
    pub hosted: Vec<(TemporaryActivity, Uuid)>,
}

fn refused(r: Refusal) -> StoreError {
    if r.code == "CONFLICT" {
        StoreError::Conflict(r.reason)
    } else {
        StoreError::Validation(vec![r.reason])
    }
}

fn covers(from: NaiveDate, to: Option<NaiveDate>, d: NaiveDate) -> bool {
    from <= d && to.is_none_or(|t| d < t)
}

fn covering(d: NaiveDate) -> Condition {
    Condition::all()
        .add(temporary_activity::Column::ValidFrom.lte(d))
        .add(
            Condition::any()
                .add(temporary_activity::Column::ValidTo.is_null())
                .add(temporary_activity::Column::ValidTo.gt(d)),
        )
}

impl Registry<'_> {
    /// Records a period of temporary party activity, if the core's checks pass on the
    /// registry as it stood on its first day (`away::check_new_period`).
    pub async fn record_temporary_activity(
        &self,
        new: &NewTemporaryActivity,
        now: DateTime<Utc>,
    ) -> Result<TemporaryActivity> {
        let txn = self.begin_write().await?;
        member::Entity::find_by_id(new.member_id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("member", new.member_id))?;
        let status = member_status::Entity::find()
            .filter(member_status::Column::MemberId.eq(new.member_id))
            .all(&txn)
            .await?
            .into_iter()
            .find(|s| covers(s.valid_from, s.valid_to, new.from))
            .and_then(|s| MemberStatus::parse(&s.status));
        let home_id = member_unit::Entity::find()
            .filter(member_unit::Column::MemberId.eq(new.member_id))
            .all(&txn)
            .await?
            .into_iter()
            .find(|m| covers(m.valid_from, m.valid_to, new.from))
            .map(|m| m.unit_id);
        let home = match home_id {
            Some(id) => Some(load_unit(&txn, id).await?.facts()),
            None => None,
        };
        let host_unit = match new.host_unit_id {
            Some(id) => Some(load_unit(&txn, id).await?.facts()),
            None => None,
        };
        let others: Vec<(NaiveDate, Option<NaiveDate>)> = temporary_activity::Entity::find()
            .filter(temporary_activity::Column::MemberId.eq(new.member_id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|p| (p.valid_from, p.valid_to))
            .collect();
        let place = new.place.as_deref().map(str::trim).unwrap_or_default();
        let host = match &host_unit {
            Some(u) => Host::Unit(u),
            None => Host::Place {
                name: place,
                abroad: new.abroad,
            },
        };
        core::check_new_period(&core::NewPeriod {
            status,
            home: home.as_ref(),
            host,
            from: new.from,
            to: new.to,
            others: &others,
        })
        .map_err(refused)?;
        let row = temporary_activity::ActiveModel {
            member_id: Set(new.member_id),
            host_unit_id: Set(new.host_unit_id),
            place: Set((!place.is_empty()).then(|| place.to_owned())),
            abroad: Set(new.abroad && host_unit.is_none()),
            valid_from: Set(new.from),
            valid_to: Set(new.to),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Ends the member's period of temporary activity running on the day before `on`: they
    /// are back in their branch from `on` (`away::check_end`).
    pub async fn end_temporary_activity(
        &self,
        member_id: Uuid,
        on: NaiveDate,
    ) -> Result<TemporaryActivity> {
        let txn = self.begin_write().await?;
        let before = on.pred_opt().unwrap_or(on);
        let period = temporary_activity::Entity::find()
            .filter(temporary_activity::Column::MemberId.eq(member_id))
            .filter(covering(before))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                StoreError::validation(
                    format!(
                        "Đảng viên không sinh hoạt tạm thời nơi khác vào ngày {}.",
                        before.format("%d/%m/%Y")
                    ),
                    format!("The member is not living their party life elsewhere on {before}."),
                )
            })?;
        core::check_end(period.valid_from, period.valid_to, on).map_err(refused)?;
        let mut row: temporary_activity::ActiveModel = period.into();
        row.valid_to = Set(Some(on));
        let row = row.update(&txn).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The member's periods of temporary activity, oldest first.
    pub async fn temporary_activities(&self, member_id: Uuid) -> Result<Vec<TemporaryActivity>> {
        Ok(temporary_activity::Entity::find()
            .filter(temporary_activity::Column::MemberId.eq(member_id))
            .order_by_asc(temporary_activity::Column::ValidFrom)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The periods running on `on` of the members of `units` that day (away), and of the
    /// members of other units hosted by one of `units` (hosted), each with the member's unit
    /// that day, by first day.
    pub async fn temporary_activity_on(
        &self,
        units: &[Uuid],
        on: NaiveDate,
    ) -> Result<TemporaryActivityOn> {
        let db = self.db();
        let running: Vec<temporary_activity::Model> = temporary_activity::Entity::find()
            .filter(covering(on))
            .order_by_asc(temporary_activity::Column::ValidFrom)
            .order_by_asc(temporary_activity::Column::Id)
            .all(db)
            .await?;
        let members: Vec<Uuid> = running.iter().map(|p| p.member_id).collect();
        let mut unit_of = std::collections::HashMap::new();
        for chunk in members.chunks(500) {
            for m in member_unit::Entity::find()
                .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
                .filter(crate::tree::valid_on_membership(on))
                .all(db)
                .await?
            {
                unit_of.insert(m.member_id, m.unit_id);
            }
        }
        let inside: std::collections::HashSet<Uuid> = units.iter().copied().collect();
        let mut out = TemporaryActivityOn::default();
        for p in running {
            let Some(home) = unit_of.get(&p.member_id).copied() else {
                continue;
            };
            let hosted_here = p.host_unit_id.is_some_and(|h| inside.contains(&h));
            if inside.contains(&home) {
                out.away.push((p.clone().into(), home));
            } else if hosted_here {
                out.hosted.push((p.into(), home));
            }
        }
        Ok(out)
    }
}
