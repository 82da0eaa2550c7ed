//! Exemption from party activities and work (S15): the branch's decisions, kept as dated
//! periods of the member (`member_exemption`), each in one transaction under a lock on the
//! member's row. The exempted official members of a unit on a day, which vote steps read, are
//! read with those away in `exclusions.rs` (`engine::context::VOTE_EXCLUSIONS`).

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::engine::RuleBook;
use memberflow_workflow::exemption::{self, ExemptionPeriod};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::Registry;
use crate::entity::{member, member_exemption};
use crate::error::{Result, StoreError};

/// An exemption of a member, as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExemptionRecord {
    /// Identifier.
    pub id: Uuid,
    /// The member exempted.
    pub member_id: Uuid,
    /// The ground's code (`S17.grounds`).
    pub ground: String,
    /// The branch's decision (resolution number, date, as the branch writes it).
    pub decision: String,
    /// First day exempted.
    pub valid_from: NaiveDate,
    /// First day no longer exempted: the planned end, or the day it was lifted.
    pub valid_to: Option<NaiveDate>,
    /// The decision that lifted it, if it was lifted.
    pub lifted_decision: Option<String>,
}

impl ExemptionRecord {
    /// Whether the member is exempted on `on`.
    pub fn holds(&self, on: NaiveDate) -> bool {
        self.period().holds(on)
    }

    fn period(&self) -> ExemptionPeriod {
        ExemptionPeriod {
            from: self.valid_from,
            to: self.valid_to,
        }
    }
}

impl From<member_exemption::Model> for ExemptionRecord {
    fn from(m: member_exemption::Model) -> Self {
        ExemptionRecord {
            id: m.id,
            member_id: m.member_id,
            ground: m.reason,
            decision: m.decision,
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            lifted_decision: m.lifted_decision,
        }
    }
}

/// A decision of the branch exempting a member.
#[derive(Debug, Clone)]
pub struct NewExemption {
    /// The member.
    pub member_id: Uuid,
    /// The ground's code.
    pub ground: String,
    /// The decision, as the branch writes it.
    pub decision: String,
    /// First day exempted.
    pub from: NaiveDate,
    /// First day no longer exempted, when the decision sets an end.
    pub until: Option<NaiveDate>,
}

fn trimmed_decision(decision: &str) -> Result<String> {
    let d = decision.trim();
    if d.is_empty() || d.chars().count() > 255 {
        return Err(StoreError::validation(
            "Phải ghi quyết định (nghị quyết) của chi bộ, từ 1 đến 255 ký tự (S15).",
            "The branch's decision (resolution) is required, 1 to 255 characters (S15).",
        ));
    }
    Ok(d.to_owned())
}

async fn exemptions_of(c: &impl ConnectionTrait, member: Uuid) -> Result<Vec<ExemptionRecord>> {
    Ok(member_exemption::Entity::find()
        .filter(member_exemption::Column::MemberId.eq(member))
        .order_by_asc(member_exemption::Column::ValidFrom)
        .all(c)
        .await?
        .into_iter()
        .map(ExemptionRecord::from)
        .collect())
}

impl Registry<'_> {
    /// The member's exemptions, oldest first.
    pub async fn exemptions(&self, member: Uuid) -> Result<Vec<ExemptionRecord>> {
        exemptions_of(self.db(), member).await
    }

    /// The exempted official members of `unit` on `on` (S15), by id.
    pub async fn exempted_in_unit(&self, unit: Uuid, on: NaiveDate) -> Result<Vec<String>> {
        super::exclusions::exempted_official_members(self.db(), unit, on).await
    }

    /// Records the branch's decision exempting a member (S15), in one transaction: the period
    /// may not overlap another of theirs, and its ground must be one of `S17.grounds` on its
    /// first day.
    pub async fn exempt(
        &self,
        rules: &RuleBook,
        new: NewExemption,
        now: DateTime<Utc>,
    ) -> Result<ExemptionRecord> {
        let decision = trimmed_decision(&new.decision)?;
        let txn = self.begin_write().await?;
        member::Entity::find_by_id(new.member_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("member", new.member_id))?;
        let existing: Vec<ExemptionPeriod> = exemptions_of(&txn, new.member_id)
            .await?
            .iter()
            .map(ExemptionRecord::period)
            .collect();
        let period = ExemptionPeriod {
            from: new.from,
            to: new.until,
        };
        exemption::check_new(rules, &existing, period, new.ground.trim())
            .map_err(StoreError::Validation)?;
        let row = member_exemption::ActiveModel {
            id: Set(Uuid::now_v7()),
            member_id: Set(new.member_id),
            reason: Set(new.ground.trim().to_owned()),
            decision: Set(decision),
            valid_from: Set(new.from),
            valid_to: Set(new.until),
            lifted_decision: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Lifts an exemption on `on` by the branch's `decision` (the member returns to party
    /// activities on request, S15): the period ends that day.
    pub async fn lift_exemption(
        &self,
        id: Uuid,
        on: NaiveDate,
        decision: &str,
    ) -> Result<ExemptionRecord> {
        let decision = trimmed_decision(decision)?;
        let txn = self.begin_write().await?;
        let row = member_exemption::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("exemption", id))?;
        member::Entity::find_by_id(row.member_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
        let rec = ExemptionRecord::from(row.clone());
        let lifted =
            exemption::lift(rec.period(), on).map_err(|t| StoreError::Validation(vec![t]))?;
        let mut m: member_exemption::ActiveModel = row.into();
        m.valid_to = Set(lifted.to);
        m.lifted_decision = Set(Some(decision));
        let row = m.update(&txn).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// The member an exemption is of (for the caller's authorization).
    pub async fn exemption_member(&self, id: Uuid) -> Result<Uuid> {
        member_exemption::Entity::find_by_id(id)
            .select_only()
            .column(member_exemption::Column::MemberId)
            .into_tuple::<Uuid>()
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("exemption", id))
    }
}
