//! The members of a unit a vote's denominator leaves out on the vote's date, as the registry
//! has them (A8, A14, D5, D33; 294-QĐ/TW 9.3.2): the official members living their party life
//! temporarily elsewhere that day (`temporary_activity`) and those exempted from party
//! activities and work (`member_exemption`, S15). One read, for a vote step, its dry run and
//! the preview of a case's steps alike (`engine::context::VOTE_EXCLUSIONS`).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use memberflow_workflow::engine::context::VoteExclusions;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entity::{member_exemption, member_status, member_unit, temporary_activity};
use crate::error::Result;

/// Whether `[from, to)` holds `on`.
fn holds(from: NaiveDate, to: Option<NaiveDate>, on: NaiveDate) -> bool {
    from <= on && to.is_none_or(|t| on < t)
}

/// The official members of `unit` on `on`.
async fn official_members(
    c: &impl ConnectionTrait,
    unit: Uuid,
    on: NaiveDate,
) -> Result<Vec<Uuid>> {
    let in_unit: Vec<Uuid> = member_unit::Entity::find()
        .filter(member_unit::Column::UnitId.eq(unit))
        .filter(member_unit::Column::ValidFrom.lte(on))
        .all(c)
        .await?
        .into_iter()
        .filter(|p| holds(p.valid_from, p.valid_to, on))
        .map(|p| p.member_id)
        .collect();
    let mut official = BTreeSet::new();
    for chunk in in_unit.chunks(500) {
        official.extend(
            member_status::Entity::find()
                .filter(member_status::Column::MemberId.is_in(chunk.iter().copied()))
                .filter(member_status::Column::Status.eq("OFFICIAL"))
                .filter(member_status::Column::ValidFrom.lte(on))
                .all(c)
                .await?
                .into_iter()
                .filter(|s| holds(s.valid_from, s.valid_to, on))
                .map(|s| s.member_id),
        );
    }
    Ok(official.into_iter().collect())
}

/// Which of `members` are exempted (S15) on `on`, by id.
async fn exempted_among(
    c: &impl ConnectionTrait,
    members: &[Uuid],
    on: NaiveDate,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in members.chunks(500) {
        out.extend(
            member_exemption::Entity::find()
                .filter(member_exemption::Column::MemberId.is_in(chunk.iter().copied()))
                .filter(member_exemption::Column::ValidFrom.lte(on))
                .all(c)
                .await?
                .into_iter()
                .filter(|e| holds(e.valid_from, e.valid_to, on))
                .map(|e| e.member_id.to_string()),
        );
    }
    Ok(out)
}

/// Which of `members` live their party life temporarily elsewhere on `on`, by id.
async fn away_among(
    c: &impl ConnectionTrait,
    members: &[Uuid],
    on: NaiveDate,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in members.chunks(500) {
        out.extend(
            temporary_activity::Entity::find()
                .filter(temporary_activity::Column::MemberId.is_in(chunk.iter().copied()))
                .filter(temporary_activity::Column::ValidFrom.lte(on))
                .all(c)
                .await?
                .into_iter()
                .filter(|p| holds(p.valid_from, p.valid_to, on))
                .map(|p| p.member_id.to_string()),
        );
    }
    Ok(out)
}

/// The official members of `unit` a vote held on `on` leaves out of its denominator: away that
/// day, and exempted that day (a member both is counted once, as away).
pub(crate) async fn vote_exclusions(
    c: &impl ConnectionTrait,
    unit: Uuid,
    on: NaiveDate,
) -> Result<VoteExclusions> {
    let official = official_members(c, unit, on).await?;
    if official.is_empty() {
        return Ok(VoteExclusions::new(on, Vec::new(), Vec::new()));
    }
    Ok(VoteExclusions::new(
        on,
        away_among(c, &official, on).await?,
        exempted_among(c, &official, on).await?,
    ))
}

/// The official members of `unit` exempted on `on` (S15), by id, sorted (whether or not they
/// are also away).
pub(crate) async fn exempted_official_members(
    c: &impl ConnectionTrait,
    unit: Uuid,
    on: NaiveDate,
) -> Result<Vec<String>> {
    let official = official_members(c, unit, on).await?;
    let mut ids = exempted_among(c, &official, on).await?;
    ids.sort();
    ids.dedup();
    Ok(ids)
}
