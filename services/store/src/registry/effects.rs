//! The workflow's effects on the member registry, applied in the same transaction as the step
//! that causes them (A10, A13–A15, A14's official date, D4 striking off).
//!
//! - The admission decision creates the person as a probationary member of the branch, from
//!   the decision's date, with the admission-decision date that party age counts from (A15).
//! - The ceremony records the ceremony date: probation is counted from it (A13).
//! - Recognition makes the member official **from ceremony + 12 months**, even when the vote
//!   or the decision came late (A14): the probationary period is closed on that date, and the
//!   official period opens on it.
//! - Striking off ends the membership and the status on the decision's date.
//! - A discipline decided, changed on appeal, lapsed or annulled is written to the member's
//!   discipline register (`discipline_record`, one row per case), which the statistics of
//!   discipline by form count.

use chrono::NaiveDate;
use memberflow_workflow::engine::{Decision, DecisionSummary, DisciplineStatus, Effect, Value};
use memberflow_workflow::tree::MemberStatus;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::cases::CaseRecord;
use crate::entity::{member, member_status, member_unit};
use crate::error::{Result, StoreError};
use crate::stats::entity::discipline_record;
use crate::tree::load_unit;

fn text_fact<'a>(facts: &'a memberflow_workflow::engine::Values, key: &str) -> Option<&'a str> {
    facts.get(key).and_then(Value::as_text)
}

fn missing(what: &str) -> StoreError {
    StoreError::Validation(vec![memberflow_workflow::text::Text::new(
        format!("Hồ sơ thiếu thông tin «{what}» để ghi vào danh sách đảng viên."),
        format!("The case lacks `{what}`, needed to record the member in the registry."),
    )])
}

/// The registry's schooling code for the admission pipeline's education level.
fn education_code(level: &str) -> String {
    match level {
        "primary" => "PRIMARY",
        "lower_secondary" => "LOWER_SECONDARY",
        "upper_secondary" | "vocational" | "university" | "postgraduate" => "UPPER_SECONDARY",
        _ => "NONE",
    }
    .to_owned()
}

/// Closes the member's open status period on `date` and opens `status` from it; a period that
/// would be empty is replaced instead. Nothing changes when the status already holds.
async fn set_status(
    txn: &impl ConnectionTrait,
    member_id: Uuid,
    status: MemberStatus,
    date: NaiveDate,
) -> Result<()> {
    let open = member_status::Entity::find()
        .filter(member_status::Column::MemberId.eq(member_id))
        .filter(member_status::Column::ValidTo.is_null())
        .order_by_desc(member_status::Column::ValidFrom)
        .one(txn)
        .await?;
    if let Some(open) = open {
        if open.status == status.as_str() {
            return Ok(());
        }
        if open.valid_from >= date {
            // The new status starts no later than the open one: the open one never held.
            member_status::Entity::delete_by_id(open.id)
                .exec(txn)
                .await?;
        } else {
            let mut am: member_status::ActiveModel = open.into();
            am.valid_to = Set(Some(date));
            am.update(txn).await?;
        }
    }
    member_status::ActiveModel {
        member_id: Set(member_id),
        status: Set(status.as_str().to_owned()),
        valid_from: Set(date),
        valid_to: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if !status.is_member() {
        // Leaving the party ends the membership of the branch too.
        let open_units = member_unit::Entity::find()
            .filter(member_unit::Column::MemberId.eq(member_id))
            .filter(member_unit::Column::ValidTo.is_null())
            .all(txn)
            .await?;
        for mu in open_units {
            let mut am: member_unit::ActiveModel = mu.into();
            am.valid_to = Set(Some(date));
            am.update(txn).await?;
        }
    }
    Ok(())
}

/// P6: an annulled expulsion or striking off gives the member back the status they held
/// before it and their branch, from the annulment's date. A member who was not out is left as
/// they are.
async fn restore(txn: &impl ConnectionTrait, member_id: Uuid, date: NaiveDate) -> Result<()> {
    let periods = member_status::Entity::find()
        .filter(member_status::Column::MemberId.eq(member_id))
        .order_by_desc(member_status::Column::ValidFrom)
        .all(txn)
        .await?;
    let Some(current) = periods.first() else {
        return Ok(());
    };
    let out = [
        MemberStatus::Expelled.as_str(),
        MemberStatus::StruckOff.as_str(),
    ];
    if current.valid_to.is_some() || !out.contains(&current.status.as_str()) {
        return Ok(());
    }
    let before = periods
        .iter()
        .skip(1)
        .find_map(|p| MemberStatus::parse(&p.status).filter(|s| s.is_member()))
        .unwrap_or(MemberStatus::Official);
    set_status(txn, member_id, before, date).await?;
    let last_unit = member_unit::Entity::find()
        .filter(member_unit::Column::MemberId.eq(member_id))
        .order_by_desc(member_unit::Column::ValidFrom)
        .one(txn)
        .await?;
    if let Some(u) = last_unit.filter(|u| u.valid_to.is_some()) {
        member_unit::ActiveModel {
            member_id: Set(member_id),
            unit_id: Set(u.unit_id),
            valid_from: Set(date),
            valid_to: Set(None),
            reason: Set("RESTORED".to_owned()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// Creates the member an admission decision admits, from the case's facts.
async fn create_member(
    txn: &impl ConnectionTrait,
    case: &CaseRecord,
    facts: &memberflow_workflow::engine::Values,
    decision_date: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Uuid> {
    let full_name = text_fact(facts, "full_name").ok_or_else(|| missing("full_name"))?;
    let dob = facts
        .get("date_of_birth")
        .and_then(Value::as_date)
        .ok_or_else(|| missing("date_of_birth"))?;
    // The branch named in the case, or the unit that owns it.
    let unit_id = text_fact(facts, "unit")
        .and_then(|u| Uuid::parse_str(u).ok())
        .unwrap_or(case.unit_id);
    let unit = load_unit(txn, unit_id).await?;
    if !unit.kind.holds_members() || !unit.facts().exists_on(decision_date) {
        return Err(StoreError::validation(
            format!(
                "{} không phải là chi bộ đang hoạt động vào ngày {}.",
                unit.code,
                decision_date.format("%d/%m/%Y")
            ),
            format!("{} is not a branch existing on {decision_date}.", unit.code),
        ));
    }
    let id = Uuid::now_v7();
    member::ActiveModel {
        id: Set(id),
        full_name: Set(full_name.to_owned()),
        search_name: Set(Some(memberflow_workflow::text::search_key(full_name))),
        date_of_birth: Set(dob),
        sex: Set(text_fact(facts, "sex").map_or("UNKNOWN".into(), str::to_uppercase)),
        ethnicity: Set(text_fact(facts, "ethnicity").unwrap_or("Kinh").to_owned()),
        religion: Set(text_fact(facts, "religion").map(str::to_owned)),
        education: Set(education_code(
            text_fact(facts, "education_level").unwrap_or_default(),
        )),
        occupation: Set(text_fact(facts, "occupation").map(str::to_uppercase)),
        admission_decision_date: Set(Some(decision_date)),
        ceremony_date: Set(None),
        official_date: Set(None),
        created_at: Set(now),
        email: Set(text_fact(facts, "email")
            .and_then(|e| memberflow_workflow::email::EmailAddress::parse(e).ok())
            .map(|e| e.to_string())),
        party_card_number: Set(None),
    }
    .insert(txn)
    .await?;
    member_unit::ActiveModel {
        member_id: Set(id),
        unit_id: Set(unit_id),
        valid_from: Set(decision_date),
        valid_to: Set(None),
        reason: Set("ADMITTED".to_owned()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    set_status(txn, id, MemberStatus::Probationary, decision_date).await?;
    Ok(id)
}

async fn update_member(
    txn: &impl ConnectionTrait,
    id: Uuid,
    f: impl FnOnce(&mut member::ActiveModel),
) -> Result<()> {
    let m = member::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| StoreError::not_found("member", id))?;
    let mut am: member::ActiveModel = m.into();
    f(&mut am);
    am.update(txn).await?;
    Ok(())
}

/// Writes a discipline of `case` to the register: the first decision inserts its row, dated by
/// the decision, in the member's unit on that day (where the statistics count it), with the
/// decision's number and deciding body as the case's facts give them (`DecisionSummary`, what
/// the member is told); an appeal ruling changes the form; a lapse or an annulment changes the
/// status, from `date`; a number or a body the facts give later fills in one the row lacks. A
/// lapse or an annulment of a decision the register never had (a case decided before the
/// register followed the cases) changes nothing: it is not a decision of that day.
#[allow(clippy::too_many_arguments)]
async fn register_discipline(
    txn: &impl ConnectionTrait,
    case: &CaseRecord,
    member_id: Uuid,
    status: DisciplineStatus,
    form: Option<&str>,
    date: NaiveDate,
    decided: Option<&DecisionSummary>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let number = decided.and_then(|d| d.number.clone());
    let body = decided.and_then(|d| d.body.clone());
    let existing = discipline_record::Entity::find()
        .filter(discipline_record::Column::CaseId.eq(case.id))
        .one(txn)
        .await?;
    let status_date = (status != DisciplineStatus::InForce).then_some(date);
    match (existing, status, form) {
        (Some(row), _, _) => {
            let (number_missing, body_missing) =
                (row.decision_number.is_none(), row.body_kind.is_none());
            let mut am: discipline_record::ActiveModel = row.into();
            if let Some(f) = form {
                am.form = Set(f.to_owned());
            }
            am.status = Set(status.code().to_owned());
            am.status_date = Set(status_date);
            if number_missing && number.is_some() {
                am.decision_number = Set(number);
            }
            if body_missing && let Some((kind, level)) = body {
                am.body_kind = Set(Some(kind));
                am.body_level = Set(Some(level));
            }
            am.update(txn).await?;
        }
        (None, DisciplineStatus::InForce, Some(f)) => {
            let unit = member_unit::Entity::find()
                .filter(member_unit::Column::MemberId.eq(member_id))
                .filter(member_unit::Column::ValidFrom.lte(date))
                .order_by_desc(member_unit::Column::ValidFrom)
                .one(txn)
                .await?
                .map_or(case.unit_id, |m| m.unit_id);
            discipline_record::ActiveModel {
                member_id: Set(member_id),
                unit_id: Set(unit),
                form: Set(f.to_owned()),
                decision_date: Set(date),
                created_at: Set(now),
                case_id: Set(Some(case.id)),
                status: Set(status.code().to_owned()),
                status_date: Set(None),
                decision_number: Set(number),
                body_kind: Set(body.as_ref().map(|b| b.0.clone())),
                body_level: Set(body.map(|b| b.1)),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
        (None, _, _) => {}
    }
    Ok(())
}

/// Applies the registry effects of `decision` for `case`; returns the member the case is
/// about after the step (created by an admission decision, or the one it already had).
pub(crate) async fn apply(
    txn: &impl ConnectionTrait,
    case: &CaseRecord,
    decision: &Decision,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Uuid>> {
    let mut subject = case.subject_member_id;
    for effect in &decision.effects {
        match effect {
            Effect::RecordAdmissionDecision { decision_date, .. } => match subject {
                Some(id) => {
                    let d = *decision_date;
                    update_member(txn, id, |am| am.admission_decision_date = Set(Some(d))).await?;
                }
                None => {
                    subject = Some(
                        create_member(txn, case, &decision.case.facts, *decision_date, now).await?,
                    );
                }
            },
            Effect::RecordCeremony { ceremony_date, .. } => {
                if let Some(id) = subject {
                    let d = *ceremony_date;
                    update_member(txn, id, |am| am.ceremony_date = Set(Some(d))).await?;
                }
            }
            Effect::RecordRecognition { official_from } => {
                if let Some(id) = subject {
                    let d = *official_from;
                    update_member(txn, id, |am| am.official_date = Set(Some(d))).await?;
                    set_status(txn, id, MemberStatus::Official, d).await?;
                }
            }
            Effect::RecordStrikeOff { date } => {
                if let Some(id) = subject {
                    set_status(txn, id, MemberStatus::StruckOff, *date).await?;
                }
            }
            Effect::RecordExpulsion { date } => {
                if let Some(id) = subject {
                    set_status(txn, id, MemberStatus::Expelled, *date).await?;
                }
            }
            Effect::RecordRestoration { date } => {
                if let Some(id) = subject {
                    restore(txn, id, *date).await?;
                }
            }
            Effect::RecordDiscipline { status, form, date } => {
                if let Some(id) = subject {
                    let decided = DecisionSummary::of(&decision.case);
                    register_discipline(
                        txn,
                        case,
                        id,
                        *status,
                        form.as_deref(),
                        *date,
                        decided.as_ref(),
                        now,
                    )
                    .await?;
                }
            }
            Effect::SetMemberStatus { status } => {
                // Candidates are not members yet; the dated effects above carry the dates of
                // the others, so only a status that is not already recorded is set, from the
                // day of the step.
                let registry = match status {
                    MemberStatus::Candidate => None,
                    other => Some(*other),
                };
                if let (Some(id), Some(s)) = (subject, registry) {
                    set_status(txn, id, s, decision.on).await?;
                }
            }
            _ => {}
        }
    }
    Ok(subject)
}
