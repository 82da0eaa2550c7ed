//! The multi-row inserts of members and their dated histories, shared by the import and the
//! demos' bulk loading: the one place that lists the columns of `member`, `member_unit` and
//! `member_status` for a bulk write. The callers keep the counters and the ancestry in step.

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::tree::MemberStatus;
use uuid::Uuid;

use crate::entity::{member, member_status, member_unit};
use crate::error::Result;
use crate::loader::BulkWrite;
use crate::stats::bulk::{cols, insert_rows};

/// Reports the rows written so far: stage, done, total.
pub(crate) type Progress<'p> = &'p mut (dyn FnMut(&str, u64, u64) + Send);

/// A member to insert.
pub(crate) struct MemberInsert<'a> {
    pub id: Uuid,
    pub card: Option<&'a str>,
    pub full_name: &'a str,
    pub date_of_birth: NaiveDate,
    pub sex: &'a str,
    pub ethnicity: &'a str,
    pub religion: Option<&'a str>,
    pub education: &'a str,
    pub occupation: Option<&'a str>,
    pub admission_decision: Option<NaiveDate>,
    pub ceremony: Option<NaiveDate>,
    pub official: Option<NaiveDate>,
    pub email: Option<&'a str>,
}

/// A member's unit over `[from, to)`, and why it began.
pub(crate) struct MembershipInsert<'a> {
    pub member: Uuid,
    pub unit: Uuid,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
    pub reason: &'a str,
}

/// A member's status over `[from, to)`.
pub(crate) struct StatusInsert {
    pub member: Uuid,
    pub status: MemberStatus,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// Inserts `rows` into `member`, created at `now`, with their search keys.
pub(crate) async fn insert_members(
    c: &impl BulkWrite,
    rows: &[MemberInsert<'_>],
    now: DateTime<Utc>,
    progress: Progress<'_>,
) -> Result<()> {
    let owned = |s: Option<&str>| s.map(str::to_owned);
    insert_rows(
        c,
        member::Entity,
        cols(vec![
            member::Column::Id,
            member::Column::PartyCardNumber,
            member::Column::FullName,
            member::Column::DateOfBirth,
            member::Column::Sex,
            member::Column::Ethnicity,
            member::Column::Religion,
            member::Column::Education,
            member::Column::Occupation,
            member::Column::AdmissionDecisionDate,
            member::Column::CeremonyDate,
            member::Column::OfficialDate,
            member::Column::Email,
            member::Column::CreatedAt,
            member::Column::SearchName,
        ]),
        rows,
        |m| {
            vec![
                m.id.into(),
                owned(m.card).into(),
                m.full_name.into(),
                m.date_of_birth.into(),
                m.sex.into(),
                m.ethnicity.into(),
                owned(m.religion).into(),
                m.education.into(),
                owned(m.occupation).into(),
                m.admission_decision.into(),
                m.ceremony.into(),
                m.official.into(),
                owned(m.email).into(),
                now.into(),
                Some(memberflow_workflow::text::search_key(m.full_name)).into(),
            ]
        },
        progress,
        "members",
    )
    .await
}

/// Inserts `rows` into `member_unit`.
pub(crate) async fn insert_memberships(
    c: &impl BulkWrite,
    rows: &[MembershipInsert<'_>],
    progress: Progress<'_>,
) -> Result<()> {
    insert_rows(
        c,
        member_unit::Entity,
        cols(vec![
            member_unit::Column::MemberId,
            member_unit::Column::UnitId,
            member_unit::Column::ValidFrom,
            member_unit::Column::ValidTo,
            member_unit::Column::Reason,
        ]),
        rows,
        |m| {
            vec![
                m.member.into(),
                m.unit.into(),
                m.from.into(),
                m.to.into(),
                m.reason.into(),
            ]
        },
        progress,
        "member units",
    )
    .await
}

/// Inserts `rows` into `member_status`.
pub(crate) async fn insert_statuses(
    c: &impl BulkWrite,
    rows: &[StatusInsert],
    progress: Progress<'_>,
) -> Result<()> {
    insert_rows(
        c,
        member_status::Entity,
        cols(vec![
            member_status::Column::MemberId,
            member_status::Column::Status,
            member_status::Column::ValidFrom,
            member_status::Column::ValidTo,
        ]),
        rows,
        |s| {
            vec![
                s.member.into(),
                s.status.as_str().into(),
                s.from.into(),
                s.to.into(),
            ]
        },
        progress,
        "member statuses",
    )
    .await
}
