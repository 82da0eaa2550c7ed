//! Party badges awarded (A30–A33), and the award itself, refused while a discipline is in force
//! (C2). The rules are the core's (`badges::award_refusals`); this module reads what they need
//! in the award's own transaction and writes the award.

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::DisciplineStatus;
use memberflow_workflow::engine::context::{OpenDiscipline, read_subject_discipline};
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::MemberStatus;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use super::Registry;
use crate::cases::registry_context;
use crate::entity::{member, member_status};
use crate::error::{Result, StoreError};
use crate::stats::entity::{badge_award, discipline_record};

/// A badge a member received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeAwardRecord {
    /// Years of party age.
    pub years: u32,
    /// The day it was awarded.
    pub award_date: NaiveDate,
}

/// What became of an award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwardOutcome {
    /// Recorded.
    Awarded(BadgeAwardRecord),
    /// Refused by the rules, each reason with its rule id; nothing was written.
    Refused(Vec<(&'static str, Text)>),
}

/// The decisions of the register in force on `on`: decided on or before it, neither annulled
/// nor lapsed by then (C2).
pub(crate) fn register_in_force(
    records: &[discipline_record::Model],
    on: NaiveDate,
) -> Vec<OpenDiscipline> {
    records
        .iter()
        .filter(|r| r.decision_date <= on && r.status != DisciplineStatus::Annulled.code())
        .filter(|r| {
            r.status == DisciplineStatus::InForce.code() || r.status_date.is_some_and(|d| on < d)
        })
        .map(|r| OpenDiscipline {
            case: r.case_id.map(|c| c.to_string()).unwrap_or_default(),
            title: String::new(),
            state: String::new(),
            state_vi: String::new(),
            in_force: true,
            form: Some(r.form.clone()),
            decision_date: Some(r.decision_date),
        })
        .collect()
}

/// The member's discipline as it stood on `on`: the decisions of the register in force that day
/// (decided on or before it, neither annulled nor lapsed by then), and, for a day from `today`
/// on, the discipline cases open now that have no decision yet (C7).
async fn discipline_on(
    txn: &impl ConnectionTrait,
    catalog: &Catalog,
    member: Uuid,
    on: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<OpenDiscipline>> {
    let records = discipline_record::Entity::find()
        .filter(discipline_record::Column::MemberId.eq(member))
        .all(txn)
        .await?;
    let mut out = register_in_force(&records, on);
    if on >= today {
        let context = registry_context(txn, catalog, Some(member), None, on).await?;
        out.extend(
            read_subject_discipline(&context)
                .unwrap_or_default()
                .into_iter()
                .filter(|c| !c.in_force),
        );
    }
    Ok(out)
}

impl Registry<'_> {
    /// The badges `member` received, oldest first.
    pub async fn badge_awards(&self, member: Uuid) -> Result<Vec<BadgeAwardRecord>> {
        Ok(badge_award::Entity::find()
            .filter(badge_award::Column::MemberId.eq(member))
            .order_by_asc(badge_award::Column::AwardDate)
            .all(self.db())
            .await?
            .into_iter()
            .map(|b| BadgeAwardRecord {
                years: u32::try_from(b.years).unwrap_or_default(),
                award_date: b.award_date,
            })
            .collect())
    }

    /// Awards `member` the badge of `years` on `award_date`, if the rules in force that day
    /// allow it (A15, A30, A33, and C2 on the member's discipline as it stood that day);
    /// otherwise writes nothing and says why.
    pub async fn award_badge(
        &self,
        catalog: &Catalog,
        member_id: Uuid,
        years: u32,
        award_date: NaiveDate,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<AwardOutcome> {
        let rs = catalog.rules.for_date(award_date).ok_or_else(|| {
            StoreError::validation(
                format!(
                    "Không có bộ quy tắc nào có hiệu lực vào ngày {}.",
                    award_date.format("%d/%m/%Y")
                ),
                format!("No rule set is in force on {award_date}."),
            )
        })?;
        let txn = self.begin_write().await?;
        let m = member::Entity::find_by_id(member_id)
            .one(&txn)
            .await?
            .ok_or_else(|| StoreError::not_found("member", member_id))?;
        let official = member_status::Entity::find()
            .filter(member_status::Column::MemberId.eq(member_id))
            .all(&txn)
            .await?
            .iter()
            .any(|p| {
                p.status == MemberStatus::Official.as_str()
                    && p.valid_from <= award_date
                    && p.valid_to.is_none_or(|t| award_date < t)
            });
        let awarded: Vec<u32> = badge_award::Entity::find()
            .filter(badge_award::Column::MemberId.eq(member_id))
            .all(&txn)
            .await?
            .iter()
            .filter_map(|b| u32::try_from(b.years).ok())
            .collect();
        let open = discipline_on(&txn, catalog, member_id, award_date, today).await?;
        let refusals = memberflow_workflow::badges::award_refusals(
            rs,
            m.admission_decision_date,
            official,
            &awarded,
            years,
            award_date,
            &open,
        )
        .map_err(|t| StoreError::Database(sea_orm::DbErr::Custom(t.en)))?;
        if !refusals.is_empty() {
            return Ok(AwardOutcome::Refused(refusals));
        }
        badge_award::ActiveModel {
            member_id: Set(member_id),
            years: Set(i32::try_from(years).unwrap_or_default()),
            award_date: Set(award_date),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| match e.sql_err() {
            // Another award of the same badge committed meanwhile (the unique index).
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => StoreError::conflict(
                format!("Huy hiệu {years} năm tuổi Đảng vừa được ghi cho đảng viên này."),
                format!("The {years}-year badge was just recorded for this member."),
            ),
            _ => StoreError::Database(e),
        })?;
        txn.commit().await?;
        tracing::info!(member = %member_id, years, %award_date, "badge awarded");
        Ok(AwardOutcome::Awarded(BadgeAwardRecord {
            years,
            award_date,
        }))
    }
}
