//! The outbox's delivery side, for the worker: claiming due rows, recording what became of
//! them (sent, retried later, dead letter), enqueueing the rows of periodic jobs, the reminders
//! people are about to receive and the dead letters.
//!
//! Commands write outbox rows in their own transaction (`cases/`); nothing here changes a
//! case. A row is handled once because of two guards:
//!
//! - **the claim**: one `UPDATE` sets a lease (`lease_until`, `lease_token`) on up to `limit`
//!   due rows whose lease is free. On PostgreSQL the rows are picked by a sub-select with
//!   `FOR UPDATE SKIP LOCKED`, so that any number of server instances claim disjoint rows
//!   without waiting on one another. On SQLite the statement runs under the database's single
//!   writer lock; one server instance per SQLite file is the rule (the file is local anyway).
//! - **the dedupe key**: every row has a unique key (per reminder and day, per mail of a step,
//!   per unit and week for a digest, ...), and periodic rows are inserted with
//!   `ON CONFLICT DO NOTHING`, so a cron tick handled twice enqueues once.
//!
//! A claim's token starts with the name of the worker instance that holds it
//! (`owner/uuid`). While the worker sends a batch it renews the lease (a heartbeat), so the
//! lease can be short: when a worker dies, its rows are free again once the lease runs out
//! (a minute by default), and at once when the same instance starts again (it releases its
//! own claims first). A crash between sending and recording sends that mail again: delivery
//! is at least once, and the mail's stable Message-ID lets a reader's client recognise the
//! duplicate.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use memberflow_workflow::engine::RoleRef;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Backend;
use crate::cases::{CaseBrief, DueItem};
use crate::entity::outbox;
use crate::error::{Result, StoreError};
use crate::records::UnitRecord;

/// What an outbox row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxKind {
    /// A reminder on a day (`Effect::ScheduleReminder`); sent from that day's daily sweep on.
    Reminder,
    /// A reminder on a cron schedule while its case stays in a state
    /// (`Effect::ScheduleRecurringReminder`): never sent itself, it spawns one `Mail` row per
    /// tick.
    RecurringReminder,
    /// A mail to send as soon as possible (`Effect::SendMail`, a tick of a recurring reminder).
    Mail,
    /// The notice that a deadline passed ([`PeriodicJob::DeadlinePassed`]).
    Deadline,
    /// A weekly digest ([`PeriodicJob::Digest`]).
    Digest,
    /// The monthly meeting reminder ([`PeriodicJob::Meeting`]).
    Meeting,
    /// The monthly admission-target report ([`PeriodicJob::TargetReport`]).
    TargetReport,
    /// A reminder of a period to a unit: the quarterly thematic meeting, the annual rating
    /// ([`PeriodicJob::Occasion`]).
    Occasion,
}

impl OutboxKind {
    /// Every kind.
    pub const ALL: [OutboxKind; 8] = [
        OutboxKind::Reminder,
        OutboxKind::RecurringReminder,
        OutboxKind::Mail,
        OutboxKind::Deadline,
        OutboxKind::Digest,
        OutboxKind::Meeting,
        OutboxKind::TargetReport,
        OutboxKind::Occasion,
    ];

    /// The code stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Reminder => "REMINDER",
            OutboxKind::RecurringReminder => "RECURRING_REMINDER",
            OutboxKind::Mail => "MAIL",
            OutboxKind::Deadline => "DEADLINE",
            OutboxKind::Digest => "DIGEST",
            OutboxKind::Meeting => "MEETING",
            OutboxKind::TargetReport => "TARGET_REPORT",
            OutboxKind::Occasion => "OCCASION",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the row's payload is a workflow `Effect` (else a [`PeriodicJob`]).
    pub fn carries_effect(self) -> bool {
        matches!(
            self,
            OutboxKind::Reminder | OutboxKind::RecurringReminder | OutboxKind::Mail
        )
    }
}

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting to be sent (possibly leased by a worker right now, or waiting for a retry).
    Pending,
    /// Sent: the SMTP server accepted it.
    Sent,
    /// Cancelled by a step of its case before it was sent.
    Cancelled,
    /// Dead letter: it failed too many times, or cannot be sent at all (no recipient, an
    /// unreadable payload). It stays until someone requeues it.
    Dead,
    /// Marked handled by a person before it went out (`handled_by`, `note`): not sent.
    Handled,
}

impl OutboxStatus {
    /// The code stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "PENDING",
            OutboxStatus::Sent => "SENT",
            OutboxStatus::Cancelled => "CANCELLED",
            OutboxStatus::Dead => "DEAD",
            OutboxStatus::Handled => "HANDLED",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        [
            OutboxStatus::Pending,
            OutboxStatus::Sent,
            OutboxStatus::Cancelled,
            OutboxStatus::Dead,
            OutboxStatus::Handled,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An outbox row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRecord {
    /// Identifier; also the mail's Message-ID (`<outbox-{id}@domain>`).
    pub id: i64,
    /// The case that caused it, if any.
    pub case_id: Option<Uuid>,
    /// What it is.
    pub kind: OutboxKind,
    /// The unique key that makes a second enqueue of the same thing a no-op.
    pub dedupe_key: String,
    /// An `Effect` (reminders, mails) or a [`PeriodicJob`] as JSON.
    pub payload: serde_json::Value,
    /// The day it is due.
    pub due_on: NaiveDate,
    /// Where it stands.
    pub status: OutboxStatus,
    /// How many times sending was attempted.
    pub attempts: u32,
    /// Not before this instant (a retry's backoff; a recurring reminder's next tick).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure, in English.
    pub last_error: Option<String>,
    /// When the SMTP server accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// Who marked it handled.
    pub handled_by: Option<String>,
    /// Their note.
    pub note: Option<String>,
}

impl TryFrom<outbox::Model> for OutboxRecord {
    type Error = StoreError;
    fn try_from(m: outbox::Model) -> Result<Self> {
        let kind = OutboxKind::parse(&m.kind).ok_or_else(|| {
            internal(format!(
                "outbox row {} has an unknown kind {}",
                m.id, m.kind
            ))
        })?;
        let status = OutboxStatus::parse(&m.status).ok_or_else(|| {
            internal(format!(
                "outbox row {} has an unknown status {}",
                m.id, m.status
            ))
        })?;
        Ok(Self {
            id: m.id,
            case_id: m.case_id,
            kind,
            dedupe_key: m.dedupe_key,
            payload: m.payload,
            due_on: m.due_on,
            status,
            attempts: u32::try_from(m.attempts).unwrap_or_default(),
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            sent_at: m.sent_at,
            created_at: m.created_at,
            handled_by: m.handled_by,
            note: m.note,
        })
    }
}

/// The payload of a row enqueued by a periodic job (kinds `DEADLINE`, `DIGEST`, `MEETING`,
/// `TARGET_REPORT`): everything the mail says, computed at the tick, so that a retry sends the
/// same text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum PeriodicJob {
    /// A deadline of a case passed (its definition's `notify` mail).
    DeadlinePassed {
        /// The case.
        case_id: Uuid,
        /// The deadline's key.
        key: String,
        /// Its rule id (`A10`).
        rule: String,
        /// The last day that was on time.
        due: NaiveDate,
        /// The mail template.
        template: String,
        /// The recipient.
        to: RoleRef,
    },
    /// Everything due in a unit (for its secretary) or in the units under a committee (for
    /// the committee), in one mail.
    Digest {
        /// The unit the digest is about.
        unit: UnitBrief,
        /// The recipient.
        to: RoleRef,
        /// The ISO week, `2026-W48`.
        week: String,
        /// The deadlines, earliest first.
        items: Vec<DueItem>,
    },
    /// S1: the monthly meeting of a branch or grassroots committee.
    Meeting {
        /// The unit.
        unit: UnitBrief,
        /// The recipient.
        to: RoleRef,
        /// The month, `2026-11`.
        month: String,
    },
    /// S20–S21: admissions so far this year against the 3–4% target.
    TargetReport {
        /// The unit (a province-level committee).
        unit: UnitBrief,
        /// The recipient.
        to: RoleRef,
        /// The month of the report, `2026-11`.
        month: String,
        /// The year counted.
        year: i32,
        /// Official and probationary members on 31/12 of the previous year (S21).
        members_at_start: u64,
        /// Admission decisions dated from 1/1 to the day of the report.
        admitted: u64,
        /// 3% of `members_at_start`, rounded up.
        target_low: u64,
        /// 4% of `members_at_start`, rounded up.
        target_high: u64,
        /// The day counted to.
        on: NaiveDate,
        /// The grassroots organizations furthest behind the floor so far this year: code,
        /// name, admissions still missing to reach it.
        #[serde(default)]
        behind: Vec<(String, String, u64)>,
    },
    /// A reminder of a period to a unit's secretary: the quarterly thematic meeting (S3), the
    /// annual quality rating (S5).
    Occasion {
        /// The unit.
        unit: UnitBrief,
        /// The recipient.
        to: RoleRef,
        /// The mail template (`meeting.thematic`, `rating.annual`).
        template: String,
        /// The period, `2026-Q2` or `2026`.
        period: String,
    },
}

impl PeriodicJob {
    /// The row's kind.
    pub fn kind(&self) -> OutboxKind {
        match self {
            PeriodicJob::DeadlinePassed { .. } => OutboxKind::Deadline,
            PeriodicJob::Digest { .. } => OutboxKind::Digest,
            PeriodicJob::Meeting { .. } => OutboxKind::Meeting,
            PeriodicJob::TargetReport { .. } => OutboxKind::TargetReport,
            PeriodicJob::Occasion { .. } => OutboxKind::Occasion,
        }
    }

    /// The dedupe key: one row per deadline and due day, per unit, recipient and week (digest),
    /// per unit and month (meeting, report), whatever the number of ticks that produce it.
    pub fn dedupe_key(&self) -> String {
        match self {
            PeriodicJob::DeadlinePassed {
                case_id, key, due, ..
            } => format!("deadline:{case_id}:{key}:{due}"),
            PeriodicJob::Digest { unit, to, week, .. } => {
                format!("digest:{}:{to}:{week}", unit.id)
            }
            PeriodicJob::Meeting { unit, month, .. } => format!("meeting:{}:{month}", unit.id),
            PeriodicJob::TargetReport { unit, month, .. } => {
                format!("target:{}:{month}", unit.id)
            }
            PeriodicJob::Occasion {
                unit,
                template,
                period,
                ..
            } => format!("occasion:{template}:{}:{period}", unit.id),
        }
    }

    /// The unit a job's mail is about (none for a passed deadline: its case's unit).
    pub fn unit(&self) -> Option<Uuid> {
        match self {
            PeriodicJob::DeadlinePassed { .. } => None,
            PeriodicJob::Digest { unit, .. }
            | PeriodicJob::Meeting { unit, .. }
            | PeriodicJob::TargetReport { unit, .. }
            | PeriodicJob::Occasion { unit, .. } => Some(unit.id),
        }
    }

    /// The recipient.
    pub fn to(&self) -> &RoleRef {
        match self {
            PeriodicJob::DeadlinePassed { to, .. }
            | PeriodicJob::Digest { to, .. }
            | PeriodicJob::Meeting { to, .. }
            | PeriodicJob::TargetReport { to, .. }
            | PeriodicJob::Occasion { to, .. } => to,
        }
    }
}

/// A unit, as a mail names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitBrief {
    /// Identifier.
    pub id: Uuid,
    /// Code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
}

impl From<&UnitRecord> for UnitBrief {
    fn from(u: &UnitRecord) -> Self {
        Self {
            id: u.id,
            code: u.code.clone(),
            name: u.name.clone(),
        }
    }
}

/// A row to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbox {
    /// The case that caused it, if any.
    pub case_id: Option<Uuid>,
    /// What it is.
    pub kind: OutboxKind,
    /// Its unique key.
    pub dedupe_key: String,
    /// Its payload.
    pub payload: serde_json::Value,
    /// The day it is due.
    pub due_on: NaiveDate,
}

impl NewOutbox {
    /// The row of a periodic job, due on `due_on`.
    pub fn periodic(job: &PeriodicJob, case_id: Option<Uuid>, due_on: NaiveDate) -> Result<Self> {
        Ok(Self {
            case_id,
            kind: job.kind(),
            dedupe_key: job.dedupe_key(),
            payload: serde_json::to_value(job)
                .map_err(|e| internal(format!("cannot serialize a periodic job: {e}")))?,
            due_on,
        })
    }
}

/// What to claim.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest {
    /// The instant (leases and retry times are compared with it).
    pub now: DateTime<Utc>,
    /// Today in Vietnam: rows due later are not claimed.
    pub today: NaiveDate,
    /// `REMINDER` rows are claimed only when due on or before this day: the day of the latest
    /// daily sweep, so that reminders go out at the sweep's hour rather than at midnight.
    pub reminders_through: NaiveDate,
    /// How long the claim holds: longer than sending a batch can take.
    pub lease: TimeDelta,
    /// At most this many rows.
    pub limit: u64,
}

/// A claimed row: the worker must record its outcome with the token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The row (its `attempts` already counts this attempt, except for recurring reminders).
    pub record: OutboxRecord,
    /// The lease token, proof of the claim.
    pub token: String,
    /// The case it concerns, if any.
    pub case: Option<CaseBrief>,
}

/// The earliest future instants at which more outbox work becomes due, for the worker's sleep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxWake {
    /// The earliest retry, recurring tick or lease expiry after now.
    pub at: Option<DateTime<Utc>>,
    /// The earliest due day after today.
    pub day: Option<NaiveDate>,
}

fn internal(msg: String) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(msg))
}

fn pending() -> Condition {
    Condition::all().add(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
}

fn lease_free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(outbox::Column::LeaseUntil.is_null())
        .add(outbox::Column::LeaseUntil.lte(now))
}

fn not_before(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(outbox::Column::NextAttemptAt.is_null())
        .add(outbox::Column::NextAttemptAt.lte(now))
}

/// Rows to send: pending, due, not waiting for a retry, not leased.
fn sendable(r: &ClaimRequest) -> Condition {
    pending()
        .add(outbox::Column::Kind.ne(OutboxKind::RecurringReminder.as_str()))
        .add(outbox::Column::DueOn.lte(r.today))
        .add(
            Condition::any()
                .add(outbox::Column::Kind.ne(OutboxKind::Reminder.as_str()))
                .add(outbox::Column::DueOn.lte(r.reminders_through)),
        )
        .add(not_before(r.now))
        .add(lease_free(r.now))
}

/// Recurring reminders whose next tick is due (or not computed yet).
fn recurring_due(r: &ClaimRequest) -> Condition {
    pending()
        .add(outbox::Column::Kind.eq(OutboxKind::RecurringReminder.as_str()))
        .add(outbox::Column::DueOn.lte(r.today))
        .add(not_before(r.now))
        .add(lease_free(r.now))
}

/// The claim: one `UPDATE` that leases up to `r.limit` rows picked by a sub-select, with
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL.
fn claim_statement(
    backend: Backend,
    r: &ClaimRequest,
    cond: Condition,
    token: &str,
    count_attempt: bool,
) -> sea_orm::UpdateMany<outbox::Entity> {
    let mut pick = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(cond.clone())
        .order_by_asc(outbox::Column::DueOn)
        .order_by_asc(outbox::Column::Id)
        .limit(r.limit);
    if backend == Backend::Postgres {
        // Rows another instance is claiming right now are skipped, not waited for.
        pick = pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut claim = outbox::Entity::update_many()
        .col_expr(outbox::Column::LeaseUntil, Expr::value(r.now + r.lease))
        .col_expr(outbox::Column::LeaseToken, Expr::value(token.to_owned()))
        .filter(outbox::Column::Id.in_subquery(pick.into_query()))
        // Checked again on the row as updated: a row claimed meanwhile is left alone.
        .filter(cond);
    if count_attempt {
        claim = claim.col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        );
    }
    claim
}

fn is_busy(e: &sea_orm::DbErr) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("SQLITE_BUSY")
}

aggregate!(
    /// The outbox: claims, leases, delivery states, periodic rows, dead letters.
    Outbox,
    outbox
);

impl Outbox<'_> {
    /// Whether a claimed row is still pending under this claim (a step may have cancelled it
    /// since it was claimed).
    pub async fn still_claimed(&self, id: i64, token: &str) -> Result<bool> {
        Ok(outbox::Entity::find_by_id(id)
            .filter(outbox::Column::LeaseToken.eq(token))
            .filter(pending())
            .one(self.db())
            .await?
            .is_some())
    }

    /// Claims up to `r.limit` rows due at `r.now` (reminders, mails, periodic jobs), counting
    /// an attempt on each. See the module's documentation for the guarantees.
    pub async fn claim(&self, r: &ClaimRequest) -> Result<Vec<Claimed>> {
        self.claim_as("", r).await
    }

    /// The same, for the worker instance `owner`: its claims can be released by
    /// [`Outbox::release_claims`] when it starts again after a crash.
    pub async fn claim_as(&self, owner: &str, r: &ClaimRequest) -> Result<Vec<Claimed>> {
        self.claim_where(owner, r, sendable(r), true).await
    }

    /// Claims up to `r.limit` recurring reminders whose next tick is due; the worker answers
    /// each with [`Outbox::advance_recurring`].
    pub async fn claim_recurring(&self, r: &ClaimRequest) -> Result<Vec<Claimed>> {
        self.claim_recurring_as("", r).await
    }

    /// The same, for the worker instance `owner`.
    pub async fn claim_recurring_as(&self, owner: &str, r: &ClaimRequest) -> Result<Vec<Claimed>> {
        self.claim_where(owner, r, recurring_due(r), false).await
    }

    /// Extends the lease of the rows still pending under the claim `token` to `until` (the
    /// worker's heartbeat while it sends a batch). Returns how many rows it still holds.
    pub async fn renew_lease(&self, token: &str, until: DateTime<Utc>) -> Result<u64> {
        let res = outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseUntil, Expr::value(until))
            .filter(outbox::Column::LeaseToken.eq(token))
            .filter(pending())
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }

    /// Frees, at once, the rows the worker instance `owner` had claimed and not finished:
    /// called when that instance starts, so that the claims of a predecessor that crashed
    /// (`kill -9`, power loss) are sent now rather than when their leases run out. Returns
    /// how many rows were freed.
    pub async fn release_claims(&self, owner: &str) -> Result<u64> {
        let res = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                outbox::Column::LeaseToken,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::LeaseToken.starts_with(format!("{owner}/")))
            .filter(pending())
            .exec(self.db())
            .await?;
        if res.rows_affected > 0 {
            tracing::info!(
                owner,
                released = res.rows_affected,
                "outbox claims of a previous run released"
            );
        }
        Ok(res.rows_affected)
    }

    async fn claim_where(
        &self,
        owner: &str,
        r: &ClaimRequest,
        cond: Condition,
        count_attempt: bool,
    ) -> Result<Vec<Claimed>> {
        let token = format!("{owner}/{}", Uuid::now_v7());
        let claim = claim_statement(self.store.backend(), r, cond, &token, count_attempt);
        let mut tries = 0;
        loop {
            match claim.clone().exec(self.db()).await {
                Ok(_) => break,
                // SQLite's busy timeout already waited; a claim that still loses is retried
                // a few times, then reported.
                Err(e) if is_busy(&e) && tries < 3 => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
        let rows = outbox::Entity::find()
            .filter(outbox::Column::LeaseToken.eq(token.as_str()))
            .order_by_asc(outbox::Column::DueOn)
            .order_by_asc(outbox::Column::Id)
            .all(self.db())
            .await?;
        if !rows.is_empty() {
            tracing::debug!(claimed = rows.len(), "outbox rows claimed");
        }
        let case_ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|m| m.case_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let briefs = self.store.cases().briefs(&case_ids).await?;
        rows.into_iter()
            .map(|m| {
                let case = m.case_id.and_then(|id| briefs.get(&id).cloned());
                Ok(Claimed {
                    record: m.try_into()?,
                    token: token.clone(),
                    case,
                })
            })
            .collect()
    }

    /// Records that a claimed row was sent. False when the claim was lost meanwhile (the
    /// lease expired and another worker took the row, or a step cancelled it).
    pub async fn mark_sent(&self, id: i64, token: &str, now: DateTime<Utc>) -> Result<bool> {
        let res = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                Expr::value(OutboxStatus::Sent.as_str()),
            )
            .col_expr(outbox::Column::SentAt, Expr::value(now))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                outbox::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                outbox::Column::LeaseToken,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::LeaseToken.eq(token))
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Records a failed attempt: the row is tried again from `retry_at`, or, when `retry_at`
    /// is `None`, becomes a dead letter. False when the claim was lost meanwhile.
    pub async fn mark_failed(
        &self,
        id: i64,
        token: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let status = if retry_at.is_some() {
            OutboxStatus::Pending
        } else {
            OutboxStatus::Dead
        };
        let res = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(status.as_str()))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at))
            .col_expr(outbox::Column::LastError, Expr::value(error.to_owned()))
            .col_expr(
                outbox::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                outbox::Column::LeaseToken,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::LeaseToken.eq(token))
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected == 1)
    }

    /// Answers a claimed recurring reminder: enqueues `tick` (the mail of the tick that came,
    /// if one did; its dedupe key makes a second enqueue a no-op) and sets the next tick
    /// (`None`: the schedule has no more ticks, the reminder ends as sent).
    pub async fn advance_recurring(
        &self,
        id: i64,
        token: &str,
        tick: Option<NewOutbox>,
        next_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if let Some(t) = tick {
            self.enqueue(vec![t], now).await?;
        }
        let mut upd = outbox::Entity::update_many()
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(next_at))
            .col_expr(
                outbox::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                outbox::Column::LeaseToken,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::LeaseToken.eq(token))
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()));
        if next_at.is_none() {
            upd = upd
                .col_expr(
                    outbox::Column::Status,
                    Expr::value(OutboxStatus::Sent.as_str()),
                )
                .col_expr(outbox::Column::SentAt, Expr::value(now));
        }
        Ok(upd.exec(self.db()).await?.rows_affected == 1)
    }

    /// Enqueues rows, skipping those whose dedupe key exists already; returns how many were
    /// new.
    pub async fn enqueue(&self, rows: Vec<NewOutbox>, now: DateTime<Utc>) -> Result<u64> {
        let mut inserted = 0;
        for chunk in rows.chunks(200) {
            let mut insert = Query::insert();
            insert.into_table(outbox::Entity).columns([
                outbox::Column::CaseId,
                outbox::Column::Kind,
                outbox::Column::DedupeKey,
                outbox::Column::Payload,
                outbox::Column::DueOn,
                outbox::Column::Status,
                outbox::Column::Attempts,
                outbox::Column::CreatedAt,
            ]);
            for r in chunk {
                insert
                    .values([
                        r.case_id.into(),
                        r.kind.as_str().into(),
                        r.dedupe_key.clone().into(),
                        r.payload.clone().into(),
                        r.due_on.into(),
                        OutboxStatus::Pending.as_str().into(),
                        0i32.into(),
                        now.into(),
                    ])
                    .map_err(|e| internal(format!("cannot build an outbox insert: {e}")))?;
            }
            insert.on_conflict(
                OnConflict::column(outbox::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            );
            inserted += self.db().execute(&insert).await?.rows_affected();
        }
        Ok(inserted)
    }

    /// When more work becomes due after `now` (today being `today` in Vietnam).
    pub async fn next_wake(&self, now: DateTime<Utc>, today: NaiveDate) -> Result<OutboxWake> {
        let retry = outbox::Entity::find()
            .filter(pending())
            .filter(outbox::Column::NextAttemptAt.gt(now))
            .order_by_asc(outbox::Column::NextAttemptAt)
            .one(self.db())
            .await?
            .and_then(|m| m.next_attempt_at);
        let lease = outbox::Entity::find()
            .filter(pending())
            .filter(outbox::Column::LeaseUntil.gt(now))
            .order_by_asc(outbox::Column::LeaseUntil)
            .one(self.db())
            .await?
            .and_then(|m| m.lease_until);
        let day = outbox::Entity::find()
            .filter(pending())
            .filter(outbox::Column::DueOn.gt(today))
            .order_by_asc(outbox::Column::DueOn)
            .one(self.db())
            .await?
            .map(|m| m.due_on);
        let at = match (retry, lease) {
            (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
            (a, b) => a.or(b),
        };
        Ok(OutboxWake { at, day })
    }

    /// One outbox row.
    pub async fn record(&self, id: i64) -> Result<OutboxRecord> {
        outbox::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("outbox row", id))?
            .try_into()
    }

    /// Outbox rows, newest first: those of `status` (all when `None`), of `case_id` (any when
    /// `None`), at most `limit`.
    pub async fn records(
        &self,
        status: Option<OutboxStatus>,
        case_id: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<OutboxRecord>> {
        let mut q = outbox::Entity::find();
        if let Some(s) = status {
            q = q.filter(outbox::Column::Status.eq(s.as_str()));
        }
        if let Some(c) = case_id {
            q = q.filter(outbox::Column::CaseId.eq(c));
        }
        q.order_by_desc(outbox::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The dead letters, newest first.
    pub async fn dead_letters(&self, limit: u64) -> Result<Vec<OutboxRecord>> {
        self.records(Some(OutboxStatus::Dead), None, limit).await
    }

    /// Puts a dead letter back in the queue with its attempts reset, to be sent from `now`.
    pub async fn requeue_dead_letter(&self, id: i64, now: DateTime<Utc>) -> Result<OutboxRecord> {
        let res = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                Expr::value(OutboxStatus::Pending.as_str()),
            )
            .col_expr(outbox::Column::Attempts, Expr::value(0i32))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::Status.eq(OutboxStatus::Dead.as_str()))
            .exec(self.db())
            .await?;
        if res.rows_affected != 1 {
            let current = self.record(id).await?;
            return Err(StoreError::conflict(
                format!(
                    "Thư {id} không nằm trong hàng thư lỗi (trạng thái {}).",
                    current.status.as_str()
                ),
                format!(
                    "Outbox row {id} is not a dead letter (it is {}).",
                    current.status.as_str()
                ),
            ));
        }
        self.record(id).await
    }

    /// Pending reminders and mails of cases, due on or before `through`, earliest first, at
    /// most `limit`: what people are about to be told.
    pub async fn pending_reminders(
        &self,
        through: NaiveDate,
        limit: u64,
    ) -> Result<Vec<OutboxRecord>> {
        outbox::Entity::find()
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .filter(
                outbox::Column::Kind
                    .is_in([OutboxKind::Reminder.as_str(), OutboxKind::Mail.as_str()]),
            )
            .filter(outbox::Column::CaseId.is_not_null())
            .filter(outbox::Column::DueOn.lte(through))
            .order_by_asc(outbox::Column::DueOn)
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Marks the pending reminder or mail `id` handled by `by` (with an optional `note`): it
    /// will not be sent. A row already sent, cancelled or dead is a `CONFLICT`.
    pub async fn mark_handled(
        &self,
        id: i64,
        by: &str,
        note: Option<&str>,
    ) -> Result<OutboxRecord> {
        let res = outbox::Entity::update_many()
            .col_expr(
                outbox::Column::Status,
                Expr::value(OutboxStatus::Handled.as_str()),
            )
            .col_expr(outbox::Column::HandledBy, Expr::value(by.to_owned()))
            .col_expr(
                outbox::Column::Note,
                Expr::value(note.map(|n| n.trim().to_owned())),
            )
            .col_expr(
                outbox::Column::LeaseToken,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .filter(outbox::Column::Kind.is_in([
                OutboxKind::Reminder.as_str(),
                OutboxKind::RecurringReminder.as_str(),
                OutboxKind::Mail.as_str(),
                OutboxKind::Deadline.as_str(),
            ]))
            .exec(self.db())
            .await?;
        if res.rows_affected != 1 {
            let current = self.record(id).await?;
            return Err(StoreError::conflict(
                format!(
                    "Nhắc việc {id} không còn chờ gửi (trạng thái {}).",
                    current.status.as_str()
                ),
                format!(
                    "Reminder {id} is no longer waiting to be sent (it is {}).",
                    current.status.as_str()
                ),
            ));
        }
        tracing::info!(outbox = id, by, "reminder marked handled");
        self.record(id).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::*;

    fn request() -> ClaimRequest {
        let now = DateTime::parse_from_rfc3339("2026-11-25T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        ClaimRequest {
            now,
            today: now.date_naive(),
            reminders_through: now.date_naive(),
            lease: TimeDelta::minutes(10),
            limit: 20,
        }
    }

    #[test]
    fn postgres_claims_skip_locked_rows_and_sqlite_relies_on_its_single_writer() {
        let r = request();
        let pg = claim_statement(Backend::Postgres, &r, sendable(&r), "t", true)
            .build(DbBackend::Postgres)
            .to_string();
        assert!(pg.starts_with("UPDATE \"outbox\" SET"), "{pg}");
        assert!(pg.contains("FOR UPDATE SKIP LOCKED"), "{pg}");
        assert!(pg.contains("\"attempts\" + 1"), "{pg}");
        let lite = claim_statement(Backend::Sqlite, &r, sendable(&r), "t", true)
            .build(DbBackend::Sqlite)
            .to_string();
        assert!(!lite.contains("FOR UPDATE"), "{lite}");
        assert!(lite.contains("LIMIT 20"), "{lite}");
    }

    #[test]
    fn periodic_jobs_dedupe_per_period() {
        let unit = UnitBrief {
            id: Uuid::nil(),
            code: "CB1".into(),
            name: "Chi bộ 1".into(),
        };
        let to = RoleRef::anywhere("secretary");
        let meeting = PeriodicJob::Meeting {
            unit: unit.clone(),
            to: to.clone(),
            month: "2026-12".into(),
        };
        assert_eq!(
            meeting.dedupe_key(),
            format!("meeting:{}:2026-12", Uuid::nil())
        );
        assert_eq!(meeting.kind(), OutboxKind::Meeting);
        let digest = PeriodicJob::Digest {
            unit,
            to,
            week: "2026-W49".into(),
            items: Vec::new(),
        };
        assert_eq!(
            digest.dedupe_key(),
            format!("digest:{}:secretary:2026-W49", Uuid::nil())
        );
        let back: PeriodicJob =
            serde_json::from_value(serde_json::to_value(&digest).unwrap()).unwrap();
        assert_eq!(back, digest);
    }
}
