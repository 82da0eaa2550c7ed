//! Workflow cases: opening and firing in one transaction each, the case's row locked (and the
//! client's expected version checked against it), idempotency keys, an append-only
//! hash-chained history, deadlines and an outbox.
//!
//! The order inside a command is fixed: load the case (its row locked), let the core decide
//! (`open` / `fire`), update the case, append the history event, write the effects
//! (deadlines, outbox rows). Nothing is written when the core refuses, unless the caller asks
//! for the refusal to be recorded in the history.
//!
//! The aggregate also reads cases (one, a page, a history and its chain), migrates open cases
//! to a newer definition, escalates passed deadlines, and lists the open deadlines
//! (`deadlines.rs`) and a case as a mail names it (`briefs.rs`).

mod briefs;
mod deadlines;
mod sql;

use crate::UnitRecord;
pub use briefs::CaseBrief;
pub use deadlines::{DueItem, PassedDeadline};

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::{
    self, Actor, CaseSnapshot, Decision, Definition, Effect, Event, MigrationPlan, Refusal, Values,
};
use memberflow_workflow::text::Text;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::entity::json_text::JsonText;
use crate::entity::{case_deadline, case_event, cases, outbox, unit_ancestry};
use crate::error::{Result, StoreError};
use crate::tree::load_unit;
use crate::write::WriteTxn;

aggregate!(
    /// Workflow cases: open, fire, migrate, their history and their deadlines.
    Cases,
    cases
);

/// The definition a stored case runs under, looked up in the core's [`Catalog`].
pub trait CaseDefinition {
    /// The definition `case` runs under; an error when it is not loaded.
    fn definition_of(&self, case: &CaseRecord) -> Result<&Definition>;
}

impl CaseDefinition for Catalog {
    fn definition_of(&self, case: &CaseRecord) -> Result<&Definition> {
        self.definition(&case.definition_id, case.definition_version)
            .ok_or_else(|| {
                StoreError::Database(sea_orm::DbErr::Custom(format!(
                    "case {} runs under definition {} v{}, which is not loaded",
                    case.id, case.definition_id, case.definition_version
                )))
            })
    }
}

/// A case as stored.
///
/// Its snapshot is decoded on first use ([`CaseRecord::snapshot`]): a list that shows only the
/// columns (title, state, next deadline) never decodes it, and a page's open deadlines come
/// from their rows in one query ([`Cases::open_deadlines_of`]).
#[derive(Debug, Clone)]
pub struct CaseRecord {
    /// Identifier.
    pub id: Uuid,
    /// Definition id (`admission`, ...).
    pub definition_id: String,
    /// Definition version the case runs under.
    pub definition_version: u32,
    /// The unit that owns the case (it follows the unit through merges).
    pub unit_id: Uuid,
    /// The member the case is about, if there is one yet.
    pub subject_member_id: Option<Uuid>,
    /// A title for lists.
    pub title: String,
    /// Current state.
    pub state: String,
    /// Version: the number of steps taken.
    pub version: u64,
    /// Whether the state is terminal.
    pub terminal: bool,
    /// The earliest open deadline.
    pub next_due: Option<NaiveDate>,
    /// Opened at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// The open deadlines, when the list that read the case read them too (`None`: not read;
    /// the snapshot has them).
    pub open_deadlines: Option<Vec<OpenDeadline>>,
    /// The engine's view of the case, as stored (its JSON text).
    snapshot_json: JsonText,
    /// The same, decoded once asked for.
    decoded: std::sync::OnceLock<CaseSnapshot>,
}

impl PartialEq for CaseRecord {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.definition_id == other.definition_id
            && self.definition_version == other.definition_version
            && self.unit_id == other.unit_id
            && self.subject_member_id == other.subject_member_id
            && self.title == other.title
            && self.state == other.state
            && self.version == other.version
            && self.terminal == other.terminal
            && self.next_due == other.next_due
            && self.created_at == other.created_at
            && self.updated_at == other.updated_at
            && self.snapshot_json == other.snapshot_json
    }
}

impl Eq for CaseRecord {}

impl CaseRecord {
    /// The engine's view of the case, decoded from the stored JSON on first use.
    pub fn snapshot(&self) -> Result<&CaseSnapshot> {
        if let Some(s) = self.decoded.get() {
            return Ok(s);
        }
        let decoded = serde_json::from_str::<CaseSnapshot>(self.snapshot_json.get())
            .map_err(|e| internal(format!("case {} has an unreadable snapshot: {e}", self.id)))?;
        Ok(self.decoded.get_or_init(|| decoded))
    }

    /// The open deadlines with what lists show of them, by key: the rows read with the page
    /// when there are some, else the snapshot's.
    pub fn deadlines(&self) -> Result<Vec<OpenDeadline>> {
        if let Some(rows) = &self.open_deadlines {
            return Ok(rows.clone());
        }
        Ok(self
            .snapshot()?
            .deadlines
            .iter()
            .map(|(key, r)| OpenDeadline {
                key: key.clone(),
                rule: r.rule.clone(),
                due: r.due,
                extended_due: r.extended_due,
                extended: r.extended,
            })
            .collect())
    }
}

/// An open deadline of a case, as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDeadline {
    /// Its key.
    pub key: String,
    /// Its rule id.
    pub rule: String,
    /// The day first scheduled.
    pub due: NaiveDate,
    /// The day the one-time extension moves it to, when it has one.
    pub extended_due: Option<NaiveDate>,
    /// Whether the extension was used.
    pub extended: bool,
}

impl OpenDeadline {
    /// The day it falls due: the extended day once extended, else the day scheduled.
    pub fn effective_due(&self) -> NaiveDate {
        self.extended_due
            .filter(|_| self.extended)
            .unwrap_or(self.due)
    }
}

impl TryFrom<cases::Model> for CaseRecord {
    type Error = StoreError;
    fn try_from(m: cases::Model) -> Result<Self> {
        Ok(Self {
            id: m.id,
            definition_id: m.definition_id,
            definition_version: u32::try_from(m.definition_version).unwrap_or_default(),
            unit_id: m.unit_id,
            subject_member_id: m.subject_member_id,
            title: m.title,
            state: m.state,
            version: u64::try_from(m.version).unwrap_or_default(),
            terminal: m.terminal,
            next_due: m.next_due,
            created_at: m.created_at,
            updated_at: m.updated_at,
            open_deadlines: None,
            snapshot_json: m.snapshot,
            decoded: std::sync::OnceLock::new(),
        })
    }
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEventRecord {
    /// Position in the case's history, from 1.
    pub seq: u64,
    /// `STEP` (applied), `REFUSED` (attempted and refused, recorded on request) or
    /// `MIGRATED` (moved to a newer definition version).
    pub kind: String,
    /// Transition attempted.
    pub transition: String,
    /// Who.
    pub actor: String,
    /// Inputs given.
    pub inputs: serde_json::Value,
    /// State before.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// Rule set the step was decided under.
    pub rule_set: String,
    /// Definition version the step was decided under.
    pub definition_version: u32,
    /// Effects (for a step) or reasons (for a refusal).
    pub payload: serde_json::Value,
    /// The caller's idempotency key.
    pub idempotency_key: Option<String>,
    /// The day of the step.
    pub effective_date: NaiveDate,
    /// When it was recorded.
    pub occurred_at: DateTime<Utc>,
    /// Hash of the previous event (empty for the first).
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
    /// What the registry told the step's guards, kept with it: a vote's exclusions on its date
    /// (`{"vote_exclusions": {"on", "away", "exempted"}}`, A8, A14, D5, D33, S15). `None` for
    /// a step that read nothing of the kind, and for steps recorded before it was kept.
    pub registry_facts: Option<serde_json::Value>,
}

impl From<case_event::Model> for CaseEventRecord {
    fn from(m: case_event::Model) -> Self {
        Self {
            seq: u64::try_from(m.seq).unwrap_or_default(),
            kind: m.kind,
            transition: m.transition,
            actor: m.actor,
            inputs: m.inputs,
            from_state: m.from_state,
            to_state: m.to_state,
            rule_set: m.rule_set,
            definition_version: u32::try_from(m.definition_version).unwrap_or_default(),
            payload: m.payload,
            idempotency_key: m.idempotency_key,
            effective_date: m.effective_date,
            occurred_at: m.occurred_at,
            prev_hash: m.prev_hash,
            hash: m.hash,
            registry_facts: m.registry_facts,
        }
    }
}

/// Whether a refused attempt is kept in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalRecording {
    /// Refusals change nothing (the default).
    Discard,
    /// Refusals are appended to the history (who tried what, and why it was refused).
    Record,
}

/// Whether a step is carried out or only tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Committed.
    Apply,
    /// Everything done as for real, then rolled back.
    DryRun,
}

/// A command on a case: the event, and how to carry it out.
#[derive(Debug, Clone)]
pub struct Command {
    /// The event.
    pub event: Event,
    /// A key that makes a retry harmless.
    pub idempotency_key: Option<String>,
    /// Whether a refusal is recorded.
    pub refusals: RefusalRecording,
    /// The day of the step (in Vietnam).
    pub today: NaiveDate,
    /// The instant.
    pub now: DateTime<Utc>,
}

/// A step under way: its transaction, begun by [`Cases::lock_case`], and the case read and
/// locked in it.
#[derive(Debug)]
pub struct LockedCase {
    txn: WriteTxn,
    case: CaseRecord,
    path: Vec<UnitRecord>,
    /// The sequence number and hash of the case's last event, read under the lock.
    head: Option<(i64, String)>,
}

impl LockedCase {
    /// The case, as the step will find it.
    pub fn case(&self) -> &CaseRecord {
        &self.case
    }

    /// The path its steps are authorized on for the step's day ([`Tree::case_path_on`]: its
    /// unit and the unit's ancestors, nearest first), read in the step's transaction when it
    /// was not known already: the caller needs no connection of its own while it holds this
    /// one.
    ///
    /// [`Tree::case_path_on`]: crate::Tree::case_path_on
    pub fn path(&self) -> &[UnitRecord] {
        &self.path
    }

    /// Ends the transaction without writing anything (the caller refused the step).
    pub async fn release(self) -> Result<()> {
        self.txn.rollback().await?;
        Ok(())
    }
}

/// A case to open.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// Which definition (its newest version is used).
    pub definition_id: String,
    /// The unit that owns the case.
    pub unit_id: Uuid,
    /// The member it is about, if known.
    pub subject_member_id: Option<Uuid>,
    /// A title for lists.
    pub title: String,
}

/// What a command did.
#[derive(Debug, Clone)]
pub enum CaseOutcome {
    /// The step was taken.
    Applied {
        /// The case after it.
        case: Box<CaseRecord>,
        /// Its history entry.
        event: Box<CaseEventRecord>,
        /// The core's decision (effects, notices).
        decision: Box<Decision>,
    },
    /// The idempotency key was seen before: this is the first result, and nothing changed.
    Replayed {
        /// The case now.
        case: Box<CaseRecord>,
        /// The history entry the key produced.
        event: Box<CaseEventRecord>,
    },
    /// The core refused.
    Refused {
        /// Why.
        refusal: Box<Refusal>,
        /// The history entry, when refusals are recorded.
        recorded: Option<Box<CaseEventRecord>>,
    },
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Cases of any of these units (any unit when `None`).
    pub units: Option<Vec<Uuid>>,
    /// Cases of a unit or any unit below it on a date (or below it on its last day, for a
    /// unit that has ended by then): read by the query itself from the tree's ancestry (a
    /// subquery on `unit_ancestry`), not as a list of ids.
    pub subtree: Option<Subtree>,
    /// Of this definition.
    pub definition_id: Option<String>,
    /// In one of these states (any when empty).
    pub states: Vec<String>,
    /// Open (non-terminal) cases only.
    pub open_only: bool,
    /// With an open deadline on or before this date.
    pub due_by: Option<NaiveDate>,
    /// Only the cases a reader may see (`None`: every case, for the shell's own use).
    pub visible: Option<CaseVisibility>,
    /// Only the cases about this member.
    pub subject_member: Option<Uuid>,
}

/// A unit and every unit below it on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subtree {
    /// The unit at the top.
    pub root: Uuid,
    /// The day whose tree counts.
    pub on: NaiveDate,
}

/// The cases a reader may see: the authorization filter of a case list, applied by the
/// query itself so that pages, cursors and counts all stay inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseVisibility {
    /// Units whose ordinary cases are visible (`None`: every unit).
    pub units: Option<Vec<Uuid>>,
    /// Units whose confidential cases are visible (`None`: every unit).
    pub confidential_units: Option<Vec<Uuid>>,
    /// The definitions whose cases are confidential.
    pub confidential_definitions: Vec<String>,
    /// The reader's own member record: the cases about them are visible too.
    pub own_member: Option<Uuid>,
}

/// A page of cases, in opening order.
#[derive(Debug, Clone)]
pub struct CasePage {
    /// The cases.
    pub cases: Vec<CaseRecord>,
    /// Whether more follow.
    pub has_next: bool,
}

/// A break in a history chain found by [`Cases::verify_history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The case.
    pub case_id: Uuid,
    /// The event (0 when the break concerns the case row).
    pub seq: u64,
    /// What is wrong, in English.
    pub problem: String,
}

/// The hash of an event: SHA-256 over the previous hash and a canonical JSON rendering of
/// every stored field.
pub(crate) fn event_hash(case_id: Uuid, e: &CaseEventRecord) -> String {
    /// The hashed body: a JSON object whose keys are in the order serde_json's map writes
    /// them (sorted), so that it is the text of the object built from the same fields,
    /// written without copying the inputs and effects (a bulk load hashes every step).
    #[derive(serde::Serialize)]
    struct Body<'a> {
        actor: &'a str,
        /// Written as its text (hyphenated), like the dates.
        case: Uuid,
        definition_version: u32,
        effective_date: NaiveDate,
        from: &'a str,
        idempotency_key: &'a Option<String>,
        inputs: &'a serde_json::Value,
        kind: &'a str,
        occurred_at_ms: i64,
        payload: &'a serde_json::Value,
        /// Kept in the chain when present; an entry without it hashes as it always did.
        #[serde(skip_serializing_if = "Option::is_none")]
        registry_facts: Option<&'a serde_json::Value>,
        rule_set: &'a str,
        seq: u64,
        to: &'a str,
        transition: &'a str,
    }
    let body = Body {
        actor: &e.actor,
        case: case_id,
        definition_version: e.definition_version,
        effective_date: e.effective_date,
        from: &e.from_state,
        idempotency_key: &e.idempotency_key,
        inputs: &e.inputs,
        kind: &e.kind,
        occurred_at_ms: e.occurred_at.timestamp_millis(),
        payload: &e.payload,
        registry_facts: e.registry_facts.as_ref(),
        rule_set: &e.rule_set,
        seq: e.seq,
        to: &e.to_state,
        transition: &e.transition,
    };
    let mut h = Sha256::new();
    h.update(e.prev_hash.as_bytes());
    h.update(b"\n");
    // The body's text is fed to the hash as it is written, never held whole; serializing
    // borrowed strings and values into the hash cannot fail.
    let _ = serde_json::to_writer(&mut h, &body);
    crate::hex(&h.finalize())
}

/// The part of a step's registry context kept with it in the history: the vote's exclusions
/// the guards read (the members away or exempted on the vote's date), so that the case's votes
/// show the denominator the step was decided on. `None` when the step read none.
pub(crate) fn registry_facts(event: &Event) -> Result<Option<serde_json::Value>> {
    let key = engine::context::VOTE_EXCLUSIONS;
    let Some(v) = event.context.get(key) else {
        return Ok(None);
    };
    let mut kept = engine::Values::new();
    kept.insert(key.into(), v.clone());
    to_json(&kept).map(Some)
}

fn internal(msg: String) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(msg))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| internal(format!("cannot serialize: {e}")))
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<JsonText> {
    JsonText::of(v).map_err(|e| internal(format!("cannot serialize: {e}")))
}

/// How many times a command that lost a race with a concurrent one is tried (the first time
/// included) before the caller is told `CONFLICT`.
const ATTEMPTS: u32 = 6;

/// Whether a database failure means the command lost a race with a concurrent one:
/// SQLite's busy lock, PostgreSQL's serialization failure or deadlock, the unique index of
/// the history (two commands appending the same sequence number or the same idempotency key).
fn lost_race(e: &sea_orm::DbErr) -> bool {
    let text = e.to_string();
    [
        "database is locked",
        "SQLITE_BUSY",
        "could not serialize access",
        "deadlock detected",
        "ux_case_event_",
        "UNIQUE constraint failed: case_event.",
    ]
    .iter()
    .any(|m| text.contains(m))
}

/// A write that lost a race is a conflict, tried again by [`retrying`]; any other failure is
/// the database's.
fn conflict_on_busy(e: sea_orm::DbErr) -> StoreError {
    if lost_race(&e) {
        tracing::debug!(error = %e, "a command lost a race");
        stale_version()
    } else {
        StoreError::Database(e)
    }
}

/// Runs `attempt` until it does not lose a race, at most [`ATTEMPTS`] times. Each attempt is
/// a transaction of its own: a lost one wrote nothing. For a caller that runs a step in parts
/// ([`Cases::lock_case`], then [`Cases::fire_locked`]).
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        let result = attempt().await.map_err(busy);
        match result {
            Err(StoreError::Contended(_)) if tries < ATTEMPTS => {
                tracing::debug!(tries, "a command lost a race; trying it again");
            }
            other => return other,
        }
    }
}

fn busy(e: StoreError) -> StoreError {
    match e {
        StoreError::Database(e) => conflict_on_busy(e),
        other => other,
    }
}

fn stale_version() -> StoreError {
    StoreError::Contended(Text::new(
        "Hồ sơ vừa được người khác cập nhật; hãy tải lại và thử lại.",
        "The case was changed by someone else meanwhile; reload it and try again.",
    ))
}

/// Serializes the commands carrying the same idempotency key: on PostgreSQL a transaction
/// lock on the key's hash, held to commit, so that the second command sees the first one's
/// event and replays it. SQLite's write lock taken at `BEGIN` does the same already.
async fn lock_key(txn: &impl ConnectionTrait, key: &str) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
            [key.into()],
        ))
        .await
        .map_err(conflict_on_busy)?;
    }
    Ok(())
}

fn key_reused(vi: &str, en: &str) -> StoreError {
    StoreError::IdempotencyKeyReused(Text::new(
        format!(
            "Khóa chống lặp này đã được dùng cho {vi}; hãy dùng một khóa mới cho mỗi yêu cầu khác nhau."
        ),
        format!(
            "This idempotency key was already used for {en}; use a new key for each different request."
        ),
    ))
}

/// A key sent again must come with the same request: the same caller, transition and inputs.
fn check_same_request(first: &case_event::Model, cmd: &Command) -> Result<()> {
    if first.actor != cmd.event.actor.id {
        return Err(key_reused("một người khác", "another caller"));
    }
    if first.transition != cmd.event.transition {
        return Err(key_reused("một bước khác", "another transition"));
    }
    if first.inputs != to_json(&cmd.event.inputs)? {
        return Err(key_reused("dữ liệu nhập khác", "other inputs"));
    }
    Ok(())
}

pub(crate) fn next_due(s: &CaseSnapshot) -> Option<NaiveDate> {
    s.deadlines.values().map(|d| d.effective_due()).min()
}

async fn find_by_key(c: &impl ConnectionTrait, key: &str) -> Result<Option<case_event::Model>> {
    Ok(case_event::Entity::find()
        .filter(case_event::Column::IdempotencyKey.eq(key))
        .one(c)
        .await?)
}

/// The sequence number and hash of the case's last event, the link the next one extends: only
/// those two columns are read.
async fn last_link(c: &impl ConnectionTrait, case_id: Uuid) -> Result<Option<(i64, String)>> {
    let row = c
        .query_one_raw(sql::LAST_LINK.with(c.get_database_backend(), [case_id.into()]))
        .await?;
    Ok(row.map(|r| sql::link_of_row(&r)).transpose()?)
}

struct Append<'a> {
    case_id: Uuid,
    kind: &'a str,
    event: &'a Event,
    from: &'a str,
    to: &'a str,
    rule_set: &'a str,
    definition_version: u32,
    payload: serde_json::Value,
    idempotency_key: Option<String>,
    effective_date: NaiveDate,
    now: DateTime<Utc>,
}

/// Appends an event to the case's history after `last`, its head as read under the case's
/// lock in the same transaction. The `INSERT` is put off ([`WriteTxn::execute_later`]).
async fn append(
    txn: &WriteTxn,
    last: Option<(i64, String)>,
    a: Append<'_>,
) -> Result<CaseEventRecord> {
    let seq = last.as_ref().map_or(1, |(seq, _)| seq + 1);
    let mut rec = CaseEventRecord {
        seq: u64::try_from(seq).unwrap_or_default(),
        kind: a.kind.to_owned(),
        transition: a.event.transition.clone(),
        actor: a.event.actor.id.clone(),
        inputs: to_json(&a.event.inputs)?,
        from_state: a.from.to_owned(),
        to_state: a.to.to_owned(),
        rule_set: a.rule_set.to_owned(),
        definition_version: a.definition_version,
        payload: a.payload,
        idempotency_key: a.idempotency_key,
        effective_date: a.effective_date,
        occurred_at: a.now,
        prev_hash: last.map(|(_, hash)| hash).unwrap_or_default(),
        hash: String::new(),
        registry_facts: registry_facts(a.event)?,
    };
    rec.hash = event_hash(a.case_id, &rec);
    // Written without `RETURNING`: the record is what was written.
    txn.execute_later(
        sql::INSERT_EVENT.with(
            txn.get_database_backend(),
            [
                a.case_id.into(),
                seq.into(),
                rec.kind.clone().into(),
                rec.transition.clone().into(),
                rec.actor.clone().into(),
                rec.inputs.clone().into(),
                rec.from_state.clone().into(),
                rec.to_state.clone().into(),
                rec.rule_set.clone().into(),
                i32::try_from(rec.definition_version)
                    .unwrap_or_default()
                    .into(),
                rec.payload.clone().into(),
                rec.idempotency_key.clone().into(),
                rec.effective_date.into(),
                rec.occurred_at.into(),
                rec.prev_hash.clone().into(),
                rec.hash.clone().into(),
                rec.registry_facts.clone().into(),
            ],
        ),
    )
    .await
    .map_err(conflict_on_busy)?;
    Ok(rec)
}

/// Writes the effects of a decision that live in the database: deadlines and outbox rows.
/// Member-registry effects are carried in the history's payload; the admission and
/// discipline pipelines apply them to the registry.
async fn write_effects(
    txn: &impl ConnectionTrait,
    case_id: Uuid,
    seq: u64,
    d: &Decision,
    now: DateTime<Utc>,
) -> Result<()> {
    // Reminders this step schedules again as they were (same key and day): a cancellation of
    // the step leaves their rows alone instead of flipping them to CANCELLED and back.
    let cancelled: Vec<&str> = d
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CancelReminder { key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    let rescheduled: Vec<String> = d
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::ScheduleReminder { key, at, .. } if cancelled.contains(&key.as_str()) => {
                Some(format!("reminder:{case_id}:{key}:{at}"))
            }
            Effect::ScheduleRecurringReminder { key, .. } if cancelled.contains(&key.as_str()) => {
                Some(format!("recurring:{case_id}:{key}"))
            }
            _ => None,
        })
        .collect();
    for (i, effect) in d.effects.iter().enumerate() {
        match effect {
            Effect::ScheduleDeadline { key, rule, due, .. } => {
                close_deadlines(txn, case_id, key, "REPLACED").await?;
                // What lists show of it, from the case as the step leaves it.
                let record = d.case.deadlines.get(key);
                case_deadline::ActiveModel {
                    case_id: Set(case_id),
                    key: Set(key.clone()),
                    rule: Set(rule.clone()),
                    due: Set(*due),
                    status: Set("OPEN".into()),
                    created_at: Set(now),
                    scheduled_due: Set(Some(record.map_or(*due, |r| r.due))),
                    extended_due: Set(record.and_then(|r| r.extended_due)),
                    extended: Set(record.is_some_and(|r| r.extended)),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
            Effect::CancelDeadline { key } => {
                close_deadlines(txn, case_id, key, "CLOSED").await?;
            }
            Effect::ScheduleReminder { key, at, .. } => {
                let dedupe = format!("reminder:{case_id}:{key}:{at}");
                let kept = rescheduled.contains(&dedupe);
                enqueue(txn, case_id, "REMINDER", dedupe, effect, *at, now, kept).await?;
            }
            Effect::ScheduleRecurringReminder { key, .. } => {
                let dedupe = format!("recurring:{case_id}:{key}");
                let kept = rescheduled.contains(&dedupe);
                enqueue(
                    txn,
                    case_id,
                    "RECURRING_REMINDER",
                    dedupe,
                    effect,
                    d.on,
                    now,
                    kept,
                )
                .await?;
            }
            Effect::CancelReminder { key } => {
                let mut q = outbox::Entity::update_many()
                    .col_expr(outbox::Column::Status, Expr::value("CANCELLED"))
                    .filter(outbox::Column::CaseId.eq(case_id))
                    .filter(outbox::Column::Status.eq("PENDING"))
                    .filter(
                        outbox::Column::DedupeKey
                            .like(format!("reminder:{case_id}:{key}:%"))
                            .or(outbox::Column::DedupeKey.eq(format!("recurring:{case_id}:{key}"))),
                    );
                if !rescheduled.is_empty() {
                    q = q.filter(
                        outbox::Column::DedupeKey.is_not_in(rescheduled.iter().map(String::as_str)),
                    );
                }
                q.exec(txn).await?;
            }
            Effect::SendMail { .. } => {
                // A mail goes when the step is recorded: a step dated in the past (recorded
                // late, or an escalation dated when its deadline took effect) sends it now.
                let recorded_on = (now + chrono::TimeDelta::hours(7)).date_naive();
                enqueue(
                    txn,
                    case_id,
                    "MAIL",
                    format!("mail:{case_id}:{seq}:{i}"),
                    effect,
                    std::cmp::max(d.on, recorded_on),
                    now,
                    false,
                )
                .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn close_deadlines(
    txn: &impl ConnectionTrait,
    case_id: Uuid,
    key: &str,
    status: &str,
) -> Result<()> {
    case_deadline::Entity::update_many()
        .col_expr(case_deadline::Column::Status, Expr::value(status))
        .filter(case_deadline::Column::CaseId.eq(case_id))
        .filter(case_deadline::Column::Key.eq(key))
        .filter(case_deadline::Column::Status.eq("OPEN"))
        .exec(txn)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn enqueue(
    txn: &impl ConnectionTrait,
    case_id: Uuid,
    kind: &str,
    dedupe_key: String,
    effect: &Effect,
    due_on: NaiveDate,
    now: DateTime<Utc>,
    kept: bool,
) -> Result<()> {
    // The same reminder scheduled twice (a retried step) is one row. A row a step cancelled
    // (the state was left, or the reminder moved and came back to the same day) is scheduled
    // again: it waits anew. One already sent, handled or dead stays as it is.
    if let Some(existing) = outbox::Entity::find()
        .filter(outbox::Column::DedupeKey.eq(dedupe_key.as_str()))
        .one(txn)
        .await?
    {
        let payload = to_json(effect)?;
        if kept
            && existing.status == "PENDING"
            && (existing.payload != payload || existing.due_on != due_on)
        {
            // Cancelled and scheduled again by the same step, which left the row pending
            // (write_effects), with another day or content: it waits anew with those.
            let mut am: outbox::ActiveModel = existing.into();
            am.payload = Set(payload);
            am.due_on = Set(due_on);
            am.attempts = Set(0);
            am.next_attempt_at = Set(None);
            am.lease_until = Set(None);
            am.lease_token = Set(None);
            am.update(txn).await?;
        } else if existing.status == "CANCELLED" {
            let mut am: outbox::ActiveModel = existing.into();
            am.status = Set("PENDING".into());
            am.payload = Set(payload);
            am.due_on = Set(due_on);
            am.attempts = Set(0);
            am.next_attempt_at = Set(None);
            am.lease_until = Set(None);
            am.lease_token = Set(None);
            am.update(txn).await?;
        }
        return Ok(());
    }
    outbox::ActiveModel {
        case_id: Set(Some(case_id)),
        kind: Set(kind.to_owned()),
        dedupe_key: Set(dedupe_key),
        payload: Set(to_json(effect)?),
        due_on: Set(due_on),
        status: Set("PENDING".into()),
        attempts: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The registry context of a step about `subject` dated `on` (`engine::context`): the cases of
/// disciplinary definitions about the member, other than `except` (the case being stepped), as
/// they stood on `on` (those open that day, in their state that day), read under a lock on the
/// member's row. Without a subject there is nothing to read and the context is empty.
pub(crate) async fn registry_context(
    c: &impl ConnectionTrait,
    catalog: &Catalog,
    subject: Option<Uuid>,
    except: Option<Uuid>,
    on: NaiveDate,
) -> Result<Values> {
    let Some(member) = subject else {
        return Ok(Values::new());
    };
    // The member's row is locked for the rest of the step's transaction (PostgreSQL; SQLite
    // writes one at a time anyway): a step of a discipline case about them and a step of
    // another process that reads their discipline (a transfer, C2, C7) cannot interleave.
    crate::entity::member::Entity::find_by_id(member)
        .lock_exclusive()
        .one(c)
        .await?;
    // Closed cases too: one closed since `on` may have been open that day.
    let mut q = cases::Entity::find()
        .filter(cases::Column::SubjectMemberId.eq(member))
        .filter(cases::Column::DefinitionId.is_in(catalog.disciplinary_ids()));
    if let Some(id) = except {
        q = q.filter(cases::Column::Id.ne(id));
    }
    let mut open = Vec::new();
    for m in q.order_by_asc(cases::Column::CreatedAt).all(c).await? {
        let rec: CaseRecord = m.try_into()?;
        let def = catalog.definition_of(&rec)?;
        // The snapshot answers for any day but those between the case's opening and its
        // latest step; only then are its steps read from the history.
        let history = if rec.snapshot()?.needs_history_on(on) {
            step_history(c, rec.id).await?
        } else {
            Vec::new()
        };
        open.extend(engine::context::OpenDiscipline::as_of(
            def,
            rec.id.to_string(),
            rec.title.clone(),
            rec.snapshot()?,
            &history,
            on,
        ));
    }
    Ok(engine::context::subject_discipline(&open))
}

/// What a step of transition `t` with `inputs`, on a case of `unit` dated `on`, is given of the
/// registry beyond the subject's discipline ([`registry_context`]): the registered members its
/// inputs name (A6), and for a vote the members of the unit its denominator leaves out on the
/// vote's date, away or exempted (A8, A14, D5, D33, S15). The one reading for a step, its dry
/// run and the preview of a case's steps (which passes no inputs: the vote is then dated `on`).
pub(crate) async fn transition_context(
    c: &impl ConnectionTrait,
    t: &engine::Transition,
    inputs: &engine::Values,
    unit: Uuid,
    on: NaiveDate,
) -> Result<engine::Values> {
    let mut context = engine::Values::new();
    if engine::context::transition_reads(t, engine::context::REGISTRY_MEMBERS) {
        context.extend(crate::step_context::member_refs(c, t, inputs, unit, on).await?);
    }
    if engine::context::transition_reads(t, engine::context::VOTE_EXCLUSIONS) {
        let vote_on = engine::context::vote_date(t, inputs, on);
        context.extend(
            crate::registry::vote_exclusions(c, unit, vote_on)
                .await?
                .to_context(),
        );
    }
    Ok(context)
}

/// The steps a case took (its `STEP` history entries), oldest first, as the engine reads them.
pub(crate) async fn step_history(
    c: &impl ConnectionTrait,
    case_id: Uuid,
) -> Result<Vec<engine::StepRecord>> {
    Ok(case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Kind.eq("STEP"))
        .order_by_asc(case_event::Column::Seq)
        .all(c)
        .await?
        .into_iter()
        .map(|e| engine::StepRecord {
            seq: u64::try_from(e.seq).unwrap_or_default(),
            transition: e.transition,
            from: e.from_state,
            to: e.to_state,
            on: e.effective_date,
            rule_set: e.rule_set,
            definition_version: u32::try_from(e.definition_version).unwrap_or_default(),
            actor: e.actor,
        })
        .collect())
}

/// The subject of a new case: the one the client named, else the member its opening input
/// `member_id` names (a transfer, a removal), so that the registry context cannot be
/// side-stepped by leaving the subject out.
fn subject_of(new: &NewCase, event: &Event) -> Result<Option<Uuid>> {
    let named = match event
        .inputs
        .get("member_id")
        .and_then(engine::Value::as_text)
    {
        None => None,
        Some(s) => Some(Uuid::parse_str(s.trim()).map_err(|_| {
            StoreError::validation(
                format!("member_id «{s}» không phải là mã của một đảng viên."),
                format!("member_id `{s}` is not a member's id."),
            )
        })?),
    };
    match (new.subject_member_id, named) {
        (Some(a), Some(b)) if a != b => Err(StoreError::validation(
            "Đảng viên của hồ sơ (subjectMemberId) khác đảng viên ghi trong thông tin (member_id).",
            "The case's subject (subjectMemberId) differs from the member named in its inputs (member_id).",
        )),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

fn refusal_payload(r: &Refusal) -> Result<serde_json::Value> {
    to_json(r)
}

impl Cases<'_> {
    /// Opens a case of the newest version of a definition. A command that loses a race with
    /// a concurrent one is tried again; the same idempotency key sent at once by several
    /// clients gives every one of them the first result.
    pub async fn open_case(
        &self,
        catalog: &Catalog,
        new: NewCase,
        cmd: Command,
    ) -> Result<CaseOutcome> {
        retrying(|| self.open_case_once(catalog, new.clone(), cmd.clone())).await
    }

    async fn open_case_once(
        &self,
        catalog: &Catalog,
        mut new: NewCase,
        mut cmd: Command,
    ) -> Result<CaseOutcome> {
        let now = cmd.now.trunc_subsecs(3);
        let def = catalog.latest(&new.definition_id).ok_or_else(|| {
            StoreError::Validation(vec![Text::new(
                format!("Không có quy trình {}.", new.definition_id),
                format!("There is no workflow {}.", new.definition_id),
            )])
        })?;
        new.subject_member_id = subject_of(&new, &cmd.event)?;
        match new.subject_member_id {
            Some(member) => self.check_subject(member, new.unit_id, cmd.today).await?,
            None if def.disciplinary => {
                return Err(StoreError::validation(
                    "Hồ sơ kỷ luật phải nêu đảng viên bị xem xét (subjectMemberId hoặc member_id).",
                    "A discipline case must name the member it is about (subjectMemberId or member_id).",
                ));
            }
            None => {}
        }
        let txn = self.begin_write().await?;
        if let Some(key) = &cmd.idempotency_key {
            lock_key(&txn, key).await?;
        }
        if let Some(key) = &cmd.idempotency_key
            && let Some(first) = find_by_key(&txn, key).await?
        {
            let case = cases::Entity::find_by_id(first.case_id)
                .one(&txn)
                .await?
                .ok_or_else(|| StoreError::not_found("case", first.case_id))?;
            check_same_request(&first, &cmd)?;
            if case.definition_id != new.definition_id
                || case.unit_id != new.unit_id
                || case.title != new.title.trim()
            {
                return Err(key_reused("một hồ sơ khác", "another case"));
            }
            return Ok(CaseOutcome::Replayed {
                case: Box::new(case.try_into()?),
                event: Box::new(first.into()),
            });
        }
        let unit = load_unit(&txn, new.unit_id).await?;
        if !unit.facts().exists_on(cmd.today) {
            return Err(StoreError::validation(
                format!("Đơn vị {} không còn tồn tại.", unit.code),
                format!("Unit {} no longer exists.", unit.code),
            ));
        }
        if def.needs_registry_context() {
            cmd.event.context =
                registry_context(&txn, catalog, new.subject_member_id, None, cmd.today).await?;
        }
        let extra =
            transition_context(&txn, &def.open, &cmd.event.inputs, new.unit_id, cmd.today).await?;
        cmd.event.context.extend(extra);
        let decision = match engine::open(
            def,
            &catalog.rules,
            &catalog.calendar,
            &cmd.event,
            cmd.today,
        ) {
            Ok(d) => d,
            Err(refusal) => {
                return Ok(CaseOutcome::Refused {
                    refusal: Box::new(refusal),
                    recorded: None,
                });
            }
        };
        let id = Uuid::now_v7();
        let terminal = def.state(&decision.to).is_some_and(|s| s.terminal);
        let model = cases::ActiveModel {
            id: Set(id),
            definition_id: Set(def.id.clone()),
            definition_version: Set(i32::try_from(def.version).unwrap_or_default()),
            unit_id: Set(new.unit_id),
            subject_member_id: Set(new.subject_member_id),
            title: Set(new.title.trim().to_owned()),
            state: Set(decision.to.clone()),
            version: Set(i64::try_from(decision.case.version).unwrap_or_default()),
            terminal: Set(terminal),
            snapshot: Set(json_text(&decision.case)?),
            next_due: Set(next_due(&decision.case)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(conflict_on_busy)?;
        // A new case: its history starts here.
        let event = append(
            &txn,
            None,
            Append {
                case_id: id,
                kind: "STEP",
                event: &cmd.event,
                from: &decision.from,
                to: &decision.to,
                rule_set: &decision.rule_set,
                definition_version: def.version,
                payload: to_json(&decision.effects)?,
                idempotency_key: cmd.idempotency_key.clone(),
                effective_date: decision.on,
                now,
            },
        )
        .await?;
        write_effects(&txn, id, event.seq, &decision, now).await?;
        crate::stats::forecast::case_moved(
            &txn,
            new.unit_id,
            None,
            crate::stats::forecast::of_snapshot(&def.id, terminal, &decision.case),
        )
        .await?;
        txn.commit().await.map_err(conflict_on_busy)?;
        tracing::info!(case = %id, definition = %def.id, state = %decision.to, "case opened");
        Ok(CaseOutcome::Applied {
            case: Box::new(model.try_into()?),
            event: Box::new(event),
            decision: Box::new(decision),
        })
    }

    /// The member a new case is about must exist and belong, on `today`, to the case's unit or
    /// a unit below it (or have belonged last, for one no longer in a unit): a case about a
    /// member of another branch would bar that member's transfer (C7) from the outside.
    async fn check_subject(&self, member: Uuid, unit: Uuid, today: NaiveDate) -> Result<()> {
        let registry = self.store.registry();
        registry.member(member).await?;
        let periods = registry.member_units(member).await?;
        let current = periods
            .iter()
            .find(|p| p.valid_from <= today && p.valid_to.is_none_or(|t| today < t))
            .or_else(|| periods.iter().max_by_key(|p| p.valid_from));
        let Some(home) = current.map(|p| p.unit_id) else {
            return Ok(());
        };
        if home == unit
            || self
                .store
                .tree()
                .ancestors_on(home, today)
                .await?
                .iter()
                .any(|a| a.id == unit)
        {
            return Ok(());
        }
        Err(StoreError::validation(
            "Đảng viên này không sinh hoạt ở đơn vị của hồ sơ hay ở một đơn vị trực thuộc.",
            "This member belongs neither to the case's unit nor to a unit below it.",
        ))
    }

    /// Fires a transition on a case. With `expected_version`, a case that moved on meanwhile
    /// is a `CONFLICT` and nothing changes; without it, the step applies to the current
    /// version. The case's row is locked for the step (PostgreSQL; SQLite's write lock is
    /// taken at `BEGIN`), and a step that still loses a race (a deadlock, a serialization
    /// failure) is tried again a few times before the caller is told `CONFLICT`.
    pub async fn fire_case(
        &self,
        catalog: &Catalog,
        case_id: Uuid,
        expected_version: Option<u64>,
        cmd: Command,
    ) -> Result<CaseOutcome> {
        retrying(|| {
            self.fire_case_once(catalog, case_id, expected_version, cmd.clone(), Mode::Apply)
        })
        .await
    }

    /// Decides the step `cmd` exactly as [`Cases::fire_case`] would, in the same kind of
    /// transaction (the expected version, the registry context read inside it, the registry,
    /// counters, deadlines and outbox written), then rolls everything back: a dry run can
    /// never disagree with the step. A refusal is never recorded. [`CaseOutcome::Applied`]
    /// then holds the case as it is (unchanged) and the history entry the step would have
    /// appended; a key seen before gives [`CaseOutcome::Replayed`], as the step would.
    pub async fn dry_run_case(
        &self,
        catalog: &Catalog,
        case_id: Uuid,
        expected_version: Option<u64>,
        mut cmd: Command,
    ) -> Result<CaseOutcome> {
        cmd.refusals = RefusalRecording::Discard;
        retrying(|| {
            self.fire_case_once(
                catalog,
                case_id,
                expected_version,
                cmd.clone(),
                Mode::DryRun,
            )
        })
        .await
    }

    async fn fire_case_once(
        &self,
        catalog: &Catalog,
        case_id: Uuid,
        expected_version: Option<u64>,
        cmd: Command,
        mode: Mode,
    ) -> Result<CaseOutcome> {
        let locked = self.lock_case(case_id, cmd.today).await?;
        self.fire_in(catalog, locked, expected_version, cmd, mode)
            .await
    }

    /// Begins a step's transaction and reads its case in it, locked (`FOR UPDATE` on
    /// PostgreSQL; SQLite's write lock is the transaction's), with the path it is placed on for
    /// the step's day `on`: what the caller decides from the case (who may act on it, with
    /// which inputs) is decided on the row the step writes, with no read of the case before. Then [`Cases::fire_locked`]; dropped, or
    /// [`LockedCase::release`]d, nothing is written.
    ///
    /// The head of the case's history (the link the step's event extends) is read with it,
    /// after the lock: on PostgreSQL the transaction's `BEGIN`, the locked read and that read go
    /// out in one message (write.rs).
    pub async fn lock_case(&self, case_id: Uuid, on: NaiveDate) -> Result<LockedCase> {
        let txn = self.begin_write().await?;
        let backend = txn.get_database_backend();
        let mut rows = txn
            .query_batch(vec![
                sql::LOCK_CASE.with(backend, [case_id.into()]),
                sql::LAST_LINK.with(backend, [case_id.into()]),
            ])
            .await
            .map_err(conflict_on_busy)?
            .into_iter();
        let row = rows
            .next()
            .and_then(|r| r.into_iter().next())
            .ok_or_else(|| StoreError::not_found("case", case_id))?;
        let case: CaseRecord = sql::case_of_row(&row)?.try_into()?;
        let head = rows
            .next()
            .and_then(|r| r.into_iter().next())
            .map(|r| sql::link_of_row(&r))
            .transpose()?;
        let path = self
            .store
            .tree()
            .case_path_via(&txn, case.unit_id, on)
            .await?;
        Ok(LockedCase {
            txn,
            case,
            path,
            head,
        })
    }

    /// The step `cmd` on the case `locked` holds, as [`Cases::fire_case`] carries it out (or,
    /// `dry_run`, as [`Cases::dry_run_case`] tries it), in the transaction [`Cases::lock_case`]
    /// began. A race lost is [`StoreError::Contended`]: run the whole step again, the lock
    /// included ([`retrying`]).
    pub async fn fire_locked(
        &self,
        catalog: &Catalog,
        locked: LockedCase,
        expected_version: Option<u64>,
        mut cmd: Command,
        dry_run: bool,
    ) -> Result<CaseOutcome> {
        let mode = if dry_run {
            cmd.refusals = RefusalRecording::Discard;
            Mode::DryRun
        } else {
            Mode::Apply
        };
        self.fire_in(catalog, locked, expected_version, cmd, mode)
            .await
    }

    async fn fire_in(
        &self,
        catalog: &Catalog,
        locked: LockedCase,
        expected_version: Option<u64>,
        mut cmd: Command,
        mode: Mode,
    ) -> Result<CaseOutcome> {
        let now = cmd.now.trunc_subsecs(3);
        let LockedCase {
            txn, case, head, ..
        } = locked;
        let case_id = case.id;
        if let Some(key) = &cmd.idempotency_key {
            lock_key(&txn, key).await?;
        }
        if let Some(key) = &cmd.idempotency_key
            && let Some(first) = find_by_key(&txn, key).await?
        {
            if first.case_id != case_id {
                return Err(key_reused("một hồ sơ khác", "another case"));
            }
            check_same_request(&first, &cmd)?;
            return Ok(CaseOutcome::Replayed {
                case: Box::new(case),
                event: Box::new(first.into()),
            });
        }
        if let Some(v) = expected_version
            && v != case.version
        {
            return Err(StoreError::conflict(
                format!(
                    "Hồ sơ đã ở phiên bản {}, không còn là phiên bản {v}; hãy tải lại và thử lại.",
                    case.version
                ),
                format!(
                    "The case is at version {}, not {v}; reload it and try again.",
                    case.version
                ),
            ));
        }
        let def = catalog.definition_of(&case)?;
        if def.needs_registry_context() {
            cmd.event.context = registry_context(
                &txn,
                catalog,
                case.subject_member_id,
                Some(case.id),
                cmd.today,
            )
            .await?;
        }
        // A6, and a vote's exclusions on its date (A8, A14, D5, D33, S15).
        if let Some(t) = def.transition(&cmd.event.transition) {
            let extra =
                transition_context(&txn, t, &cmd.event.inputs, case.unit_id, cmd.today).await?;
            cmd.event.context.extend(extra);
        }
        let decision = match engine::fire(
            def,
            &catalog.rules,
            &catalog.calendar,
            case.snapshot()?,
            &cmd.event,
            cmd.today,
        ) {
            Ok(d) => d,
            Err(refusal) => {
                let recorded = if cmd.refusals == RefusalRecording::Record {
                    let rec = append(
                        &txn,
                        head,
                        Append {
                            case_id,
                            kind: "REFUSED",
                            event: &cmd.event,
                            from: &case.state,
                            to: &case.state,
                            rule_set: case.snapshot()?.current_rule_set().unwrap_or_default(),
                            definition_version: case.definition_version,
                            payload: refusal_payload(&refusal)?,
                            idempotency_key: cmd.idempotency_key.clone(),
                            effective_date: cmd.today,
                            now,
                        },
                    )
                    .await?;
                    txn.commit().await.map_err(conflict_on_busy)?;
                    Some(Box::new(rec))
                } else {
                    None
                };
                return Ok(CaseOutcome::Refused {
                    refusal: Box::new(refusal),
                    recorded,
                });
            }
        };
        let terminal = def.state(&decision.to).is_some_and(|s| s.terminal);
        let new_version = i64::try_from(decision.case.version).unwrap_or_default();
        let snapshot_json = json_text(&decision.case)?;
        // The case's row, locked since it was read (`lock_case`): the version read is the one
        // replaced. The statement goes out with the next batched query or the commit, or
        // before any statement sent otherwise (write.rs).
        txn.execute_later(sql::UPDATE_STEPPED.with(
            txn.get_database_backend(),
            [
                decision.to.clone().into(),
                new_version.into(),
                terminal.into(),
                snapshot_json.get().to_owned().into(),
                next_due(&decision.case).into(),
                now.into(),
                case_id.into(),
            ],
        ))
        .await
        .map_err(conflict_on_busy)?;
        // The registry moves with the case, in the same transaction, and so do the statistics
        // counters: the member's share read before and after, the difference written (none
        // for a step that changed nothing they count).
        let before: Vec<Uuid> = case.subject_member_id.into_iter().collect();
        let recount = crate::stats::Recount::before(&txn, &before).await?;
        let subject = crate::registry::apply(&txn, &case, &decision, now).await?;
        let after: Vec<Uuid> = subject.into_iter().collect();
        recount.after(&txn, &after).await?;
        if subject != case.subject_member_id {
            cases::Entity::update_many()
                .col_expr(cases::Column::SubjectMemberId, Expr::value(subject))
                .filter(cases::Column::Id.eq(case_id))
                .exec(&txn)
                .await?;
        }
        let event = append(
            &txn,
            head,
            Append {
                case_id,
                kind: "STEP",
                event: &cmd.event,
                from: &decision.from,
                to: &decision.to,
                rule_set: &decision.rule_set,
                definition_version: def.version,
                payload: to_json(&decision.effects)?,
                idempotency_key: cmd.idempotency_key.clone(),
                effective_date: decision.on,
                now,
            },
        )
        .await?;
        write_effects(&txn, case_id, event.seq, &decision, now).await?;
        // The forecast's aggregates: the case leaves its stage and deadline for the new ones.
        crate::stats::forecast::case_moved(
            &txn,
            case.unit_id,
            crate::stats::forecast::of_snapshot(
                &case.definition_id,
                case.terminal,
                case.snapshot()?,
            ),
            crate::stats::forecast::of_snapshot(&case.definition_id, terminal, &decision.case),
        )
        .await?;
        if mode == Mode::DryRun {
            txn.rollback().await?;
            return Ok(CaseOutcome::Applied {
                case: Box::new(case),
                event: Box::new(event),
                decision: Box::new(decision),
            });
        }
        txn.commit().await.map_err(conflict_on_busy)?;
        // At debug: the step is in the case's history already, and its request in the access
        // log; a line more per step at info cost a tenth of the server's time per step.
        tracing::debug!(case = %case_id, transition = %decision.transition, to = %decision.to, "case step");
        // The case as the transaction left it, without reading it back.
        let written = CaseRecord {
            state: decision.to.clone(),
            version: decision.case.version,
            terminal,
            next_due: next_due(&decision.case),
            updated_at: now,
            subject_member_id: subject,
            snapshot_json,
            decoded: std::sync::OnceLock::new(),
            ..case
        };
        Ok(CaseOutcome::Applied {
            case: Box::new(written),
            event: Box::new(event),
            decision: Box::new(decision),
        })
    }

    /// The case with this id.
    pub async fn case(&self, id: Uuid) -> Result<CaseRecord> {
        cases::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("case", id))?
            .try_into()
    }

    /// The history of a case, oldest first.
    pub async fn case_events(&self, id: Uuid) -> Result<Vec<CaseEventRecord>> {
        Ok(case_event::Entity::find()
            .filter(case_event::Column::CaseId.eq(id))
            .order_by_asc(case_event::Column::Seq)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// What is wrong with the history chain of the case `id` (empty when intact): the check
    /// of `verify_history`, for one case.
    pub async fn verify_case_history(&self, id: Uuid) -> Result<Vec<ChainBreak>> {
        let case = cases::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("case", id))?;
        let events = self.case_events(id).await?;
        Ok(chain_breaks(id, case.version, &events))
    }

    fn case_query(f: &CaseFilter) -> sea_orm::Select<cases::Entity> {
        let mut q = cases::Entity::find();
        if let Some(units) = &f.units {
            q = q.filter(cases::Column::UnitId.is_in(units.iter().copied()));
        }
        if let Some(s) = f.subtree {
            // `unit_id IN (SELECT unit_id FROM unit_ancestry WHERE ancestor_id = ? AND …)`:
            // one index range of the ancestry, however large the subtree. The cases of a
            // unit that has ended are under the units above it on its last day.
            let below = Query::select()
                .column(unit_ancestry::Column::UnitId)
                .from(unit_ancestry::Entity)
                .and_where(unit_ancestry::Column::AncestorId.eq(s.root))
                .cond_where(crate::tree::ancestry::placed_on(s.on))
                .to_owned();
            q = q.filter(cases::Column::UnitId.in_subquery(below));
        }
        if let Some(d) = &f.definition_id {
            q = q.filter(cases::Column::DefinitionId.eq(d.as_str()));
        }
        if let Some(m) = f.subject_member {
            q = q.filter(cases::Column::SubjectMemberId.eq(m));
        }
        if !f.states.is_empty() {
            q = q.filter(cases::Column::State.is_in(f.states.iter().map(String::as_str)));
        }
        if f.open_only {
            q = q.filter(cases::Column::Terminal.eq(false));
        }
        if let Some(d) = f.due_by {
            q = q
                .filter(cases::Column::Terminal.eq(false))
                .filter(cases::Column::NextDue.lte(d));
        }
        if let Some(v) = &f.visible {
            let confidential = v.confidential_definitions.iter().map(String::as_str);
            let mut ordinary =
                Condition::all().add(cases::Column::DefinitionId.is_not_in(confidential.clone()));
            if let Some(units) = &v.units {
                ordinary = ordinary.add(cases::Column::UnitId.is_in(units.iter().copied()));
            }
            let mut secret = Condition::all().add(cases::Column::DefinitionId.is_in(confidential));
            if let Some(units) = &v.confidential_units {
                secret = secret.add(cases::Column::UnitId.is_in(units.iter().copied()));
            }
            let mut any = Condition::any().add(ordinary).add(secret);
            if let Some(m) = v.own_member {
                any = any.add(cases::Column::SubjectMemberId.eq(m));
            }
            q = q.filter(any);
        }
        q
    }

    /// A page of cases matching `f`, after the case `after`.
    pub async fn page(&self, f: &CaseFilter, after: Option<Uuid>, first: u64) -> Result<CasePage> {
        let mut q = Self::case_query(f);
        if let Some(a) = after {
            q = q.filter(cases::Column::Id.gt(a));
        }
        let mut rows = q
            .order_by_asc(cases::Column::Id)
            .limit(first + 1)
            .all(self.db())
            .await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok(CasePage {
            cases: rows
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_>>()?,
            has_next,
        })
    }

    /// The open deadlines of the cases `ids`, by case, each case's by key: one query for a
    /// whole page.
    pub async fn open_deadlines_of(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<OpenDeadline>>> {
        let mut out: std::collections::HashMap<Uuid, Vec<OpenDeadline>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let rows = case_deadline::Entity::find()
            .filter(case_deadline::Column::CaseId.is_in(ids.iter().copied()))
            .filter(case_deadline::Column::Status.eq("OPEN"))
            .order_by_asc(case_deadline::Column::CaseId)
            .order_by_asc(case_deadline::Column::Key)
            .all(self.db())
            .await?;
        for r in rows {
            out.entry(r.case_id).or_default().push(OpenDeadline {
                due: r.scheduled_due.unwrap_or(r.due),
                key: r.key,
                rule: r.rule,
                extended_due: r.extended_due,
                extended: r.extended,
            });
        }
        Ok(out)
    }

    /// How many cases match `f`.
    pub async fn count(&self, f: &CaseFilter) -> Result<u64> {
        Ok(Self::case_query(f).count(self.db()).await?)
    }

    /// Verifies every history chain: each event's hash, its link to the one before, the
    /// sequence without gaps, and that each case's version matches its applied steps.
    pub async fn verify_history(&self) -> Result<(u64, Vec<ChainBreak>)> {
        let mut breaks = Vec::new();
        let mut checked = 0u64;
        let all_cases = cases::Entity::find()
            .order_by_asc(cases::Column::Id)
            .all(self.db())
            .await?;
        for c in all_cases {
            let events = case_event::Entity::find()
                .filter(case_event::Column::CaseId.eq(c.id))
                .order_by_asc(case_event::Column::Seq)
                .all(self.db())
                .await?;
            let events: Vec<CaseEventRecord> = events.into_iter().map(Into::into).collect();
            checked += events.len() as u64;
            breaks.extend(chain_breaks(c.id, c.version, &events));
        }
        Ok((checked, breaks))
    }
}

/// What is wrong with the history `events` of the case `case_id` at `version`: sequence gaps,
/// links that do not hold, hashes that do not match the content, a version that is not the
/// number of steps. Empty for an intact chain.
fn chain_breaks(case_id: Uuid, version: i64, events: &[CaseEventRecord]) -> Vec<ChainBreak> {
    let mut breaks = Vec::new();
    let mut prev = "";
    let mut steps = 0i64;
    for (i, e) in events.iter().enumerate() {
        let expected_seq = (i as u64) + 1;
        if e.seq != expected_seq {
            breaks.push(ChainBreak {
                case_id,
                seq: e.seq,
                problem: format!("sequence gap: expected {expected_seq}"),
            });
        }
        if e.prev_hash != prev {
            breaks.push(ChainBreak {
                case_id,
                seq: e.seq,
                problem: "does not link to the event before it".into(),
            });
        }
        if event_hash(case_id, e) != e.hash {
            breaks.push(ChainBreak {
                case_id,
                seq: e.seq,
                problem: "hash does not match the content: the event was edited".into(),
            });
        }
        if e.kind == "STEP" || e.kind == "MIGRATED" {
            steps += 1;
        }
        prev = &e.hash;
    }
    if steps != version {
        breaks.push(ChainBreak {
            case_id,
            seq: 0,
            problem: format!(
                "the case is at version {version} but its history has {steps} step(s)"
            ),
        });
    }
    breaks
}

/// Whether a migration of open cases is carried out or only planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationMode {
    /// List what would change; change nothing.
    DryRun,
    /// Move every case that can move, in one transaction, with a history entry each.
    Apply,
}

/// A migration of open cases to a newer definition version.
#[derive(Debug, Clone)]
pub struct MigrateCases {
    /// The workflow.
    pub definition_id: String,
    /// The version to move to (the newest when `None`).
    pub to_version: Option<u32>,
    /// Plan only, or carry out.
    pub mode: MigrationMode,
    /// Who does it (recorded in each case's history).
    pub actor: Actor,
    /// The day.
    pub today: NaiveDate,
    /// The instant.
    pub now: DateTime<Utc>,
}

/// What a migration did, or would do, to one case.
#[derive(Debug, Clone)]
pub struct CaseMigration {
    /// The case.
    pub case_id: Uuid,
    /// Its title.
    pub title: String,
    /// The plan: versions, state mapping, changes, blockers.
    pub plan: MigrationPlan,
    /// Whether it was moved.
    pub applied: bool,
}

impl Cases<'_> {
    /// Moves the open cases of `definition_id` that run under an older version to
    /// `to_version` (the newest when `None`), or with [`MigrationMode::DryRun`] lists what
    /// would change. Cases that cannot move (a state that no longer exists, ...) are listed
    /// with their blockers and left alone. Each moved case gets a `MIGRATED` history entry,
    /// naming `actor`.
    pub async fn migrate(&self, catalog: &Catalog, m: MigrateCases) -> Result<Vec<CaseMigration>> {
        let MigrateCases {
            definition_id,
            to_version,
            mode,
            actor,
            today,
            now,
        } = m;
        let definition_id = definition_id.as_str();
        let actor = &actor;
        let now = now.trunc_subsecs(3);
        let target = match to_version {
            Some(v) => catalog.definition(definition_id, v),
            None => catalog.latest(definition_id),
        }
        .ok_or_else(|| {
            StoreError::Validation(vec![Text::new(
                format!("Không có quy trình {definition_id} ở phiên bản này."),
                format!("There is no workflow {definition_id} at that version."),
            )])
        })?;
        let txn = self.begin_write().await?;
        let open = cases::Entity::find()
            .filter(cases::Column::DefinitionId.eq(definition_id))
            .filter(cases::Column::Terminal.eq(false))
            .filter(
                cases::Column::DefinitionVersion
                    .ne(i32::try_from(target.version).unwrap_or_default()),
            )
            .order_by_asc(cases::Column::Id)
            .all(&txn)
            .await?;
        let mut out = Vec::new();
        for model in open {
            let case: CaseRecord = model.clone().try_into()?;
            let old = catalog.definition_of(&case)?;
            let plan = engine::plan_migration(old, target, case.snapshot()?);
            let mut applied = false;
            if mode == MigrationMode::Apply && plan.can_migrate() {
                let migrated = plan
                    .apply(case.snapshot()?)
                    .map_err(|b| internal(format!("migration of case {} refused: {b}", case.id)))?;
                let updated = cases::Entity::update_many()
                    .col_expr(
                        cases::Column::DefinitionVersion,
                        Expr::value(i32::try_from(target.version).unwrap_or_default()),
                    )
                    .col_expr(
                        cases::Column::State,
                        Expr::value(migrated.case.state.clone()),
                    )
                    .col_expr(
                        cases::Column::Version,
                        Expr::value(i64::try_from(migrated.case.version).unwrap_or_default()),
                    )
                    .col_expr(
                        cases::Column::Terminal,
                        Expr::value(
                            target
                                .state(&migrated.case.state)
                                .is_some_and(|s| s.terminal),
                        ),
                    )
                    .col_expr(
                        cases::Column::Snapshot,
                        Expr::value(to_json(&migrated.case)?),
                    )
                    .col_expr(
                        cases::Column::NextDue,
                        Expr::value(next_due(&migrated.case)),
                    )
                    .col_expr(cases::Column::UpdatedAt, Expr::value(now))
                    .filter(cases::Column::Id.eq(case.id))
                    .filter(cases::Column::Version.eq(model.version))
                    .exec(&txn)
                    .await
                    .map_err(conflict_on_busy)?;
                if updated.rows_affected != 1 {
                    return Err(stale_version());
                }
                let event = Event::new("migrate", actor.clone());
                let head = last_link(&txn, case.id).await?;
                let rec = append(
                    &txn,
                    head,
                    Append {
                        case_id: case.id,
                        kind: "MIGRATED",
                        event: &event,
                        from: &case.state,
                        to: &migrated.case.state,
                        rule_set: case.snapshot()?.current_rule_set().unwrap_or_default(),
                        definition_version: target.version,
                        payload: to_json(&plan)?,
                        idempotency_key: None,
                        effective_date: today,
                        now,
                    },
                )
                .await?;
                let decision = Decision {
                    transition: "migrate".into(),
                    from: case.state.clone(),
                    to: migrated.case.state.clone(),
                    rule_set: rec.rule_set.clone(),
                    on: today,
                    effects: migrated.effects.clone(),
                    notices: Vec::new(),
                    case: migrated.case.clone(),
                };
                write_effects(&txn, case.id, rec.seq, &decision, now).await?;
                crate::stats::forecast::case_moved(
                    &txn,
                    case.unit_id,
                    crate::stats::forecast::of_snapshot(
                        &case.definition_id,
                        case.terminal,
                        case.snapshot()?,
                    ),
                    crate::stats::forecast::of_snapshot(
                        definition_id,
                        target
                            .state(&migrated.case.state)
                            .is_some_and(|s| s.terminal),
                        &migrated.case,
                    ),
                )
                .await?;
                applied = true;
            }
            out.push(CaseMigration {
                case_id: case.id,
                title: case.title,
                plan,
                applied,
            });
        }
        if mode == MigrationMode::Apply {
            txn.commit().await.map_err(conflict_on_busy)?;
            tracing::info!(definition = %definition_id, to = target.version,
                moved = out.iter().filter(|m| m.applied).count(), "cases migrated");
        }
        Ok(out)
    }
}

/// What the escalation of passed deadlines did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationReport {
    /// Escalation transitions fired.
    pub fired: u64,
    /// Escalations refused by the rules (recorded in the case's history).
    pub refused: u64,
    /// Escalations already handled (by an earlier sweep or another instance).
    pub already_done: u64,
}

impl Cases<'_> {
    /// Fires, as the `system` actor, the escalation transition of every open deadline that
    /// passed before `today` and asks for one (e.g. A10's decision not taken in time), dated
    /// the day the deadline's rule took effect (its last day: the end of probation, the lapse
    /// date), not the day of the sweep, so that a late sweep writes the same history. Each
    /// escalation carries the idempotency key `escalate:{case}:{key}:{due}`, so a sweep run
    /// twice, or by two instances, escalates once; a refusal is recorded in the history.
    pub async fn escalate_passed_deadlines(
        &self,
        catalog: &Catalog,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<EscalationReport> {
        let mut report = EscalationReport::default();
        for p in self.passed_deadlines(today).await? {
            let engine::OnExpiry::Escalate { transition } = &p.on_expiry else {
                continue;
            };
            let key = format!("escalate:{}:{}:{}", p.item.case_id, p.item.key, p.item.due);
            let cmd = Command {
                event: Event::new(transition.clone(), Actor::system()),
                idempotency_key: Some(key),
                refusals: RefusalRecording::Record,
                today: std::cmp::min(p.takes_effect_on, today),
                now,
            };
            match self.fire_case(catalog, p.item.case_id, None, cmd).await {
                Ok(CaseOutcome::Applied { .. }) => report.fired += 1,
                Ok(CaseOutcome::Replayed { .. }) => report.already_done += 1,
                Ok(CaseOutcome::Refused { .. }) => report.refused += 1,
                // Another instance moved the case meanwhile: the next sweep sees the new state.
                Err(StoreError::Conflict(_)) => report.already_done += 1,
                Err(e) => return Err(e),
            }
        }
        if report != EscalationReport::default() {
            tracing::info!(
                fired = report.fired,
                refused = report.refused,
                already_done = report.already_done,
                "passed deadlines escalated"
            );
        }
        Ok(report)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// The hash's body as the object built from the fields (how every recorded history was
    /// hashed): the written struct must give the same text, so old chains still verify.
    #[test]
    fn the_hashed_body_is_the_text_of_the_object_of_its_fields() {
        let case_id = Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
        let facts = serde_json::json!({ "away": ["m1"], "exempted": [] });
        for (key, registry_facts) in [
            (None, None),
            (Some("k-1".to_owned()), None),
            (None, Some(facts)),
        ] {
            let e = CaseEventRecord {
                seq: 7,
                kind: "STEP".into(),
                transition: "branch_vote".into(),
                actor: "bí thư \"chi bộ\"".into(),
                inputs: serde_json::json!({ "z": 1, "a": [true, null, 2.5], "m": { "y": "x\ny" } }),
                from_state: "A".into(),
                to_state: "B".into(),
                rule_set: "2021".into(),
                definition_version: 3,
                payload: serde_json::json!([{ "kind": "ADMIT", "on": "2023-06-30" }]),
                idempotency_key: key,
                effective_date: NaiveDate::from_ymd_opt(2023, 6, 30).unwrap(),
                occurred_at: Utc.with_ymd_and_hms(2023, 6, 30, 2, 0, 0).unwrap(),
                prev_hash: "abc".into(),
                hash: String::new(),
                registry_facts,
            };
            let mut body = serde_json::json!({
                "case": case_id.to_string(),
                "seq": e.seq,
                "kind": e.kind,
                "transition": e.transition,
                "actor": e.actor,
                "inputs": e.inputs,
                "from": e.from_state,
                "to": e.to_state,
                "rule_set": e.rule_set,
                "definition_version": e.definition_version,
                "payload": e.payload,
                "idempotency_key": e.idempotency_key,
                "effective_date": e.effective_date.to_string(),
                "occurred_at_ms": e.occurred_at.timestamp_millis(),
            });
            if let Some(f) = &e.registry_facts {
                body["registry_facts"] = f.clone();
            }
            let mut h = Sha256::new();
            h.update(e.prev_hash.as_bytes());
            h.update(b"\n");
            h.update(body.to_string().as_bytes());
            assert_eq!(event_hash(case_id, &e), crate::hex(&h.finalize()));
        }
        // And the hash's text: SHA-256 of nothing, lower-case hexadecimal.
        assert_eq!(
            crate::hex(&Sha256::digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
