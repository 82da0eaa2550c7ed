//! Bulk loading of a generated organization (the demo provinces): every table filled with
//! multi-row inserts inside one transaction, and the statistics counters computed from the
//! batch in memory with the same core functions the commands use. Seconds for a province of
//! 33,509 members, on SQLite and PostgreSQL alike.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::engine::{CaseSnapshot, DeadlineRecord, DisciplineStatus, Effect, Event};
use memberflow_workflow::stats::{AnchorDay, MemberHistory, Rng};
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::{MemberStatus, UnitKind};
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, DbBackend, EntityName, EntityTrait, ExprTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::Statistics;
use super::counters::{
    Contribution, add_admissions_via, dense_rows, extend_horizon, internal, load_membership_rows,
    lock_counters, rebuild, rebuild_with, rows_per_insert,
};
use super::entity::{badge_award, discipline_record};
use crate::cases::{CaseEventRecord, event_hash, next_due};
use crate::entity::{account, case_deadline, case_event, cases, member, role_assignment, unit};
use crate::error::{Result, StoreError};
use crate::loader::{BulkWrite, PgLoad, try_copy};
use crate::registry::rows::{
    MemberInsert, MembershipInsert, StatusInsert, insert_members, insert_memberships,
    insert_statuses,
};
use crate::tree::rows::{
    JournalInsert, LinkInsert, UnitInsert, insert_journal, insert_links, insert_units,
    set_successor,
};

/// A unit to load. Units, members and the rows about them refer to each other by their
/// index in the batch; the store gives them ids.
#[derive(Debug, Clone)]
pub struct BulkUnit {
    /// Unique code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Kind.
    pub kind: UnitKind,
    /// For branches, the report's category.
    pub branch_category: Option<&'static str>,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day it no longer exists.
    pub valid_to: Option<NaiveDate>,
    /// The unit it was merged into (index).
    pub successor: Option<usize>,
}

/// A parent link over a period.
#[derive(Debug, Clone)]
pub struct BulkEdge {
    /// The child (index).
    pub unit: usize,
    /// The parent (index).
    pub parent: usize,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
}

/// A member to load.
#[derive(Debug, Clone)]
pub struct BulkMember {
    /// Party card number (unique).
    pub party_card_number: Option<String>,
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// `MALE` or `FEMALE`.
    pub sex: &'static str,
    /// Ethnicity.
    pub ethnicity: &'static str,
    /// Religion, if any.
    pub religion: Option<&'static str>,
    /// Schooling code.
    pub education: &'static str,
    /// Occupation code.
    pub occupation: Option<&'static str>,
    /// Admission decision (A15).
    pub admission_decision_date: Option<NaiveDate>,
    /// Ceremony (A13).
    pub ceremony_date: Option<NaiveDate>,
    /// Official (A14).
    pub official_date: Option<NaiveDate>,
    /// Where mail about the member reaches them.
    pub email: Option<String>,
}

/// An account to load with its role grants: somebody who receives the mail of a role at a
/// unit. It has no password (nobody can log in as it until an administrator gives it one).
#[derive(Debug, Clone)]
pub struct BulkAccount {
    /// Login name.
    pub username: String,
    /// Where its roles' reminders go.
    pub email: String,
    /// Roles, each at a unit of the batch (index).
    pub grants: Vec<(&'static str, usize)>,
}

/// A member's unit over a period.
#[derive(Debug, Clone)]
pub struct BulkMembership {
    /// The member (index).
    pub member: usize,
    /// The unit (index).
    pub unit: usize,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
    /// `REGISTERED`, `ADMITTED`, `MERGED`, `TRANSFERRED`.
    pub reason: &'static str,
}

/// A member's status over a period.
#[derive(Debug, Clone)]
pub struct BulkStatus {
    /// The member (index).
    pub member: usize,
    /// The status.
    pub status: MemberStatus,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
}

/// A discipline decision.
#[derive(Debug, Clone)]
pub struct BulkDiscipline {
    /// The member (index).
    pub member: usize,
    /// Their unit then (index).
    pub unit: usize,
    /// `reprimand`, `warning`, `removal` or `expulsion` (D2's codes).
    pub form: &'static str,
    /// The decision's date.
    pub decision_date: NaiveDate,
    /// The case it was decided in (index into the batch's cases), if it has one.
    pub case: Option<usize>,
    /// In force, lapsed or annulled.
    pub status: DisciplineStatus,
    /// The day the status began, for a lapse or an annulment.
    pub status_date: Option<NaiveDate>,
    /// The decision's number (none: not known).
    pub decision_number: Option<String>,
    /// The deciding body's kind and level codes (`standing_committee`, `superior`; none: not
    /// known).
    pub body: Option<(String, String)>,
}

/// A step of a case's history, as the engine decided it.
#[derive(Debug, Clone)]
pub struct BulkStep {
    /// The event fired (transition, actor, inputs).
    pub event: Event,
    /// State before (empty for the opening).
    pub from: String,
    /// State after.
    pub to: String,
    /// The rule set it was decided under.
    pub rule_set: String,
    /// Its effects.
    pub effects: Vec<Effect>,
    /// Its day.
    pub on: NaiveDate,
}

/// A workflow case with its whole history, decided step by step by the engine (the demo's
/// admissions and discipline): loaded as the commands would have recorded it, with its hash
/// chain, and the deadlines still open in its last state.
#[derive(Debug, Clone)]
pub struct BulkCase {
    /// Its unit (index).
    pub unit: usize,
    /// The member it is about (index), if any.
    pub member: Option<usize>,
    /// Title.
    pub title: String,
    /// Definition id and version.
    pub definition: (String, u32),
    /// The case after its last step.
    pub snapshot: CaseSnapshot,
    /// Whether its last state is terminal.
    pub terminal: bool,
    /// Its steps, in order.
    pub steps: Vec<BulkStep>,
}

/// A party badge awarded.
#[derive(Debug, Clone)]
pub struct BulkBadge {
    /// The member (index).
    pub member: usize,
    /// Years of membership it marks.
    pub years: i32,
    /// The award's date.
    pub award_date: NaiveDate,
}

/// A hamlet or residential group (docs/reports.md).
#[derive(Debug, Clone)]
pub struct BulkHamlet {
    /// Unique code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: memberflow_workflow::hamlet::HamletKind,
    /// Its commune-level unit (index).
    pub unit: usize,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day it no longer exists.
    pub valid_to: Option<NaiveDate>,
    /// The hamlet it was merged into (index).
    pub successor: Option<usize>,
}

/// A hamlet branch linked to its hamlet over a period.
#[derive(Debug, Clone)]
pub struct BulkHamletLink {
    /// The hamlet (index).
    pub hamlet: usize,
    /// The branch (index).
    pub unit: usize,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
}

/// A member living in a hamlet over a period.
#[derive(Debug, Clone)]
pub struct BulkResidence {
    /// The member (index).
    pub member: usize,
    /// The hamlet (index).
    pub hamlet: usize,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
    /// `SET` or `MERGED`.
    pub reason: &'static str,
}

/// A change of the tree, journaled as the commands journal it.
#[derive(Debug, Clone)]
pub enum BulkTreeEvent {
    /// A unit created (on its first day, under its first parent).
    Create {
        /// The unit (index).
        unit: usize,
        /// Its parent (index).
        parent: Option<usize>,
    },
    /// Units merged into another on a date.
    Merge {
        /// The units that ended (indexes).
        sources: Vec<usize>,
        /// The unit that took them over (index).
        target: usize,
        /// The first day of the merged unit.
        date: NaiveDate,
    },
}

/// A whole organization to load at once.
#[derive(Debug, Clone, Default)]
pub struct BulkBatch {
    /// The seed the ids are drawn from: the same batch and seed give the same ids.
    pub id_seed: u64,
    /// The batch's place in a build of several loaded one after the other (the national
    /// demo's provinces): when set, the first 32 bits of every id drawn for the batch, so that
    /// each batch's ids sort after the previous batch's and every index keyed by them (the
    /// members', their statuses', units', residences', the counters') takes the batch's rows
    /// at its end. Without it a batch's ids, drawn at random and sorted, fall between the ids
    /// already there all over the index: at a national scale, a batch then writes to most of
    /// each index's pages, far more than the database keeps in memory.
    pub id_order: Option<u32>,
    /// The code of an existing unit the batch's roots (units without a parent link) hang
    /// under, from their first day.
    pub attach_under: Option<String>,
    /// Units.
    pub units: Vec<BulkUnit>,
    /// Parent links.
    pub edges: Vec<BulkEdge>,
    /// Tree journal.
    pub tree_events: Vec<BulkTreeEvent>,
    /// Members.
    pub members: Vec<BulkMember>,
    /// Their units over time.
    pub memberships: Vec<BulkMembership>,
    /// Their statuses over time.
    pub statuses: Vec<BulkStatus>,
    /// Workflow cases with their histories.
    pub cases: Vec<BulkCase>,
    /// Discipline decisions.
    pub discipline: Vec<BulkDiscipline>,
    /// Badges.
    pub badges: Vec<BulkBadge>,
    /// Accounts holding roles at the batch's units.
    pub accounts: Vec<BulkAccount>,
    /// Hamlets and residential groups.
    pub hamlets: Vec<BulkHamlet>,
    /// Hamlet branches linked to them.
    pub hamlet_links: Vec<BulkHamletLink>,
    /// Members' residences.
    pub residences: Vec<BulkResidence>,
}

/// Cases loaded after a batch's registry, a round at a time, in the batch's transaction
/// ([`Statistics::bulk_load_rounds`]), with the discipline decisions they decided: so that a
/// province's histories are never all in memory at once. Its indexes are the batch's (units,
/// members); its cases are numbered after the batch's own cases and the earlier rounds'.
#[derive(Debug, Clone, Default)]
pub struct BulkCaseRound {
    /// The cases, with their histories.
    pub cases: Vec<BulkCase>,
    /// Discipline decisions, each linked to a case of this round or an earlier one.
    pub discipline: Vec<BulkDiscipline>,
}

/// Where the rounds of cases come from: asked for the next round until it has none left.
pub trait BulkCaseRounds: Send {
    /// The cases in all (for progress).
    fn total(&self) -> u64;
    /// The next round, `None` when done; an error (said in words) stops the load, which
    /// then writes nothing.
    fn next_round(&mut self) -> std::result::Result<Option<BulkCaseRound>, String>;
}

/// No rounds: the batch is the whole load.
struct NoRounds;

impl BulkCaseRounds for NoRounds {
    fn total(&self) -> u64 {
        0
    }
    fn next_round(&mut self) -> std::result::Result<Option<BulkCaseRound>, String> {
        Ok(None)
    }
}

/// Writes `rows` into `table`, `row` giving each row's values: one `COPY` on the PostgreSQL
/// loader's transaction ([`crate::loader::PgLoad`]), otherwise a multi-row insert per chunk.
pub(crate) async fn insert_rows<T>(
    c: &impl BulkWrite,
    table: impl EntityName,
    columns: Vec<sea_orm::sea_query::DynIden>,
    rows: &[T],
    row: impl Fn(&T) -> Vec<SimpleExpr>,
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
    stage: &str,
) -> Result<()> {
    let total = rows.len() as u64;
    if rows.is_empty() {
        return Ok(());
    }
    if c.copier().is_some() {
        let names: Vec<String> = columns.iter().map(ToString::to_string).collect();
        // A few COPYs rather than one, so that the text of a large table is not all in
        // memory at once.
        const ROWS_PER_COPY: usize = 50_000;
        let mut done = 0u64;
        let mut copied = true;
        for chunk in rows.chunks(ROWS_PER_COPY) {
            if !try_copy(c, table.table_name(), &names, chunk, &row).await? {
                copied = false;
                break;
            }
            done += chunk.len() as u64;
            progress(stage, done, total);
        }
        if copied {
            return Ok(());
        }
        if done > 0 {
            return Err(internal(format!(
                "{stage}: a value COPY cannot write after {done} rows were copied"
            )));
        }
    }
    let per_chunk = rows_per_insert(c.get_database_backend(), columns.len());
    let mut done = 0u64;
    for chunk in rows.chunks(per_chunk) {
        let mut insert = Query::insert();
        insert.into_table(table).columns(columns.clone());
        for r in chunk {
            insert
                .values(row(r))
                .map_err(|e| internal(format!("cannot build a bulk insert: {e}")))?;
        }
        c.execute(&insert).await?;
        done += chunk.len() as u64;
        progress(stage, done, total);
    }
    Ok(())
}

pub(crate) fn cols<C: sea_orm::sea_query::Iden + 'static>(
    cs: Vec<C>,
) -> Vec<sea_orm::sea_query::DynIden> {
    cs.into_iter()
        .map(sea_orm::sea_query::IntoIden::into_iden)
        .collect()
}

/// Deterministic ids: version-4 UUIDs drawn from a seeded generator, in order (so that ids
/// drawn a round at a time are those drawn at once), their first 32 bits the batch's order
/// when it has one ([`BulkBatch::id_order`]).
struct IdSource(Rng, Option<u32>);

impl IdSource {
    fn new(batch: &BulkBatch, salt: u64) -> Self {
        IdSource(Rng::new(batch.id_seed).fork(salt), batch.id_order)
    }

    fn take(&mut self, n: usize) -> Vec<Uuid> {
        (0..n)
            .map(|_| {
                let hi = u128::from(self.0.next_u64());
                let lo = u128::from(self.0.next_u64());
                let mut bytes = ((hi << 64) | lo).to_be_bytes();
                if let Some(order) = self.1 {
                    bytes[..4].copy_from_slice(&order.to_be_bytes());
                }
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            })
            .collect()
    }
}

/// The ids of a batch's rows of one kind (units, members, hamlets, accounts), in ascending
/// order: each index keyed by them takes the batch's rows in order, several to a page, rather
/// than one page each (see [`BulkBatch::id_order`] for where in the index).
fn ids(batch: &BulkBatch, salt: u64, n: usize) -> Vec<Uuid> {
    let mut ids = IdSource::new(batch, salt).take(n);
    ids.sort_unstable();
    ids
}

impl BulkBatch {
    /// The histories the counters need, per member, with the units' ids.
    fn histories(&self, unit_ids: &[Uuid]) -> Vec<MemberHistory<Uuid>> {
        let mut units: Vec<Vec<(Uuid, NaiveDate, Option<NaiveDate>)>> =
            vec![Vec::new(); self.members.len()];
        for m in &self.memberships {
            if let (Some(list), Some(u)) = (units.get_mut(m.member), unit_ids.get(m.unit)) {
                list.push((*u, m.valid_from, m.valid_to));
            }
        }
        let mut periods: Vec<Vec<(NaiveDate, Option<NaiveDate>)>> =
            vec![Vec::new(); self.members.len()];
        for s in &self.statuses {
            if s.status.is_member()
                && let Some(list) = periods.get_mut(s.member)
            {
                list.push((s.valid_from, s.valid_to));
            }
        }
        self.members
            .iter()
            .zip(units.into_iter().zip(periods))
            .map(|(m, (units, member_periods))| MemberHistory {
                units,
                member_periods,
                admission_decision: m.admission_decision_date,
            })
            .collect()
    }

    /// Checks that a round of cases refers to units and members of the batch, and its
    /// discipline to cases loaded by then (`cases` before the round).
    fn check_round(&self, round: &BulkCaseRound, cases: usize) -> Result<()> {
        let (nu, nm) = (self.units.len(), self.members.len());
        let known = cases + round.cases.len();
        let ok = round
            .cases
            .iter()
            .all(|c| c.unit < nu && c.member.is_none_or(|m| m < nm))
            && round
                .discipline
                .iter()
                .all(|d| d.unit < nu && d.member < nm && d.case.is_none_or(|c| c < known));
        if ok {
            Ok(())
        } else {
            Err(StoreError::Validation(vec![Text::new(
                "Một đợt hồ sơ nạp hàng loạt tham chiếu dữ liệu ngoài lô.",
                "A round of bulk cases refers to data outside the batch.",
            )]))
        }
    }

    fn check(&self) -> Result<()> {
        let (nu, nm) = (self.units.len(), self.members.len());
        let mut problems = Vec::new();
        let bad_unit = self.memberships.iter().any(|m| m.unit >= nu)
            || self.cases.iter().any(|c| c.unit >= nu)
            || self.discipline.iter().any(|d| d.unit >= nu)
            || self.hamlets.iter().any(|h| h.unit >= nu)
            || self.hamlet_links.iter().any(|l| l.unit >= nu)
            || self.edges.iter().any(|e| e.unit >= nu || e.parent >= nu)
            || self
                .units
                .iter()
                .any(|u| u.successor.is_some_and(|s| s >= nu))
            || self.tree_events.iter().any(|e| match e {
                BulkTreeEvent::Create { unit, parent } => {
                    *unit >= nu || parent.is_some_and(|p| p >= nu)
                }
                BulkTreeEvent::Merge {
                    sources, target, ..
                } => *target >= nu || sources.iter().any(|s| *s >= nu),
            });
        if bad_unit {
            problems.push(Text::new(
                "Dữ liệu nạp hàng loạt tham chiếu một đơn vị ngoài lô.",
                "The bulk data refers to a unit outside the batch.",
            ));
        }
        if self.memberships.iter().any(|m| m.member >= nm)
            || self.statuses.iter().any(|s| s.member >= nm)
            || self.discipline.iter().any(|d| d.member >= nm)
            || self.badges.iter().any(|b| b.member >= nm)
            || self.residences.iter().any(|r| r.member >= nm)
            || self.cases.iter().any(|c| c.member.is_some_and(|m| m >= nm))
        {
            problems.push(Text::new(
                "Dữ liệu nạp hàng loạt tham chiếu một đảng viên ngoài lô.",
                "The bulk data refers to a member outside the batch.",
            ));
        }
        if self
            .discipline
            .iter()
            .any(|d| d.case.is_some_and(|c| c >= self.cases.len()))
        {
            problems.push(Text::new(
                "Dữ liệu nạp hàng loạt tham chiếu một hồ sơ ngoài lô.",
                "The bulk data refers to a case outside the batch.",
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Validation(problems))
        }
    }
}

fn id_of(ids: &[Uuid], i: usize) -> Uuid {
    ids.get(i).copied().unwrap_or_default()
}

fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| internal(format!("cannot serialize: {e}")))
}

/// The moment a step of `on` is taken to have been recorded: 09:00 in Vietnam that day.
fn recorded_at(on: NaiveDate) -> DateTime<Utc> {
    on.and_hms_opt(2, 0, 0).unwrap_or_default().and_utc()
}

/// The ids of a load's units and members, and its time.
struct Ids<'a> {
    units: &'a [Uuid],
    members: &'a [Uuid],
    now: DateTime<Utc>,
}

/// Inserts `cases` (ids `case_ids`), their histories (hash-chained as `fire_case` chains them)
/// and the deadlines still open in their last states, reporting progress from `done` of
/// `total`; counts in `open` what the open admission cases among them add to the forecast's
/// aggregates (written once every case is in, [`super::forecast::apply`]).
#[allow(clippy::too_many_arguments)]
async fn insert_cases(
    txn: &impl BulkWrite,
    cases: &[BulkCase],
    case_ids: &[Uuid],
    ids: &Ids<'_>,
    open: &mut super::forecast::Groups,
    mut done: u64,
    total: u64,
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
) -> Result<()> {
    for c in cases {
        if let Some(k) = super::forecast::of_snapshot(&c.definition.0, c.terminal, &c.snapshot) {
            *open.entry((id_of(ids.units, c.unit), k)).or_default() += 1;
        }
    }
    // A round of cases at a time, so that the histories' rows are not all in memory at once.
    const CASES_PER_ROUND: usize = 500;
    for (cases, round_ids) in cases
        .chunks(CASES_PER_ROUND)
        .zip(case_ids.chunks(CASES_PER_ROUND))
    {
        insert_case_round(txn, cases, round_ids, ids.units, ids.members).await?;
        done += cases.len() as u64;
        progress("cases", done, total);
    }
    Ok(())
}

/// Inserts discipline decisions (`case_ids` the ids of every case loaded so far).
async fn insert_discipline(
    txn: &impl BulkWrite,
    rows: &[BulkDiscipline],
    case_ids: &[Uuid],
    ids: &Ids<'_>,
) -> Result<()> {
    let now = ids.now;
    insert_rows(
        txn,
        discipline_record::Entity,
        cols(vec![
            discipline_record::Column::MemberId,
            discipline_record::Column::UnitId,
            discipline_record::Column::Form,
            discipline_record::Column::DecisionDate,
            discipline_record::Column::CreatedAt,
            discipline_record::Column::CaseId,
            discipline_record::Column::Status,
            discipline_record::Column::StatusDate,
            discipline_record::Column::DecisionNumber,
            discipline_record::Column::BodyKind,
            discipline_record::Column::BodyLevel,
        ]),
        rows,
        |d| {
            let (kind, level) = d.body.clone().unzip();
            vec![
                id_of(ids.members, d.member).into(),
                id_of(ids.units, d.unit).into(),
                d.form.into(),
                d.decision_date.into(),
                now.into(),
                d.case.map(|c| id_of(case_ids, c)).into(),
                d.status.code().into(),
                d.status_date.into(),
                d.decision_number.clone().into(),
                kind.into(),
                level.into(),
            ]
        },
        &mut |_, _, _| {},
        "discipline",
    )
    .await
}

/// Inserts `cases` (with their ids `case_ids`), their histories and their open deadlines.
async fn insert_case_round(
    txn: &impl BulkWrite,
    cases: &[BulkCase],
    case_ids: &[Uuid],
    unit_ids: &[Uuid],
    member_ids: &[Uuid],
) -> Result<()> {
    let progress = &mut |_: &str, _: u64, _: u64| {};
    // The JSON documents (snapshot, inputs, effects) are written once as text and bound as
    // text, not cloned as trees into every insert: SQLite stores JSON as text and COPY sends
    // text; a PostgreSQL multi-row insert casts the text to jsonb.
    let cast = txn.copier().is_none() && txn.get_database_backend() == DbBackend::Postgres;
    let doc = |text: &String| -> SimpleExpr {
        let v: SimpleExpr = text.clone().into();
        if cast {
            v.cast_as(Alias::new("jsonb"))
        } else {
            v
        }
    };
    let mut rows: Vec<(Uuid, &BulkCase, String)> = Vec::new();
    let mut events: Vec<(Uuid, CaseEventRecord, String, String)> = Vec::new();
    let mut deadlines: Vec<(Uuid, String, &DeadlineRecord, DateTime<Utc>)> = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let id = id_of(case_ids, i);
        let mut prev = String::new();
        for (seq, step) in c.steps.iter().enumerate() {
            let mut rec = CaseEventRecord {
                seq: seq as u64 + 1,
                kind: "STEP".into(),
                transition: step.event.transition.clone(),
                actor: step.event.actor.id.clone(),
                inputs: json(&step.event.inputs)?,
                from_state: step.from.clone(),
                to_state: step.to.clone(),
                rule_set: step.rule_set.clone(),
                definition_version: c.definition.1,
                payload: json(&step.effects)?,
                idempotency_key: None,
                effective_date: step.on,
                occurred_at: recorded_at(step.on),
                prev_hash: prev,
                hash: String::new(),
                registry_facts: crate::cases::registry_facts(&step.event)?,
            };
            rec.hash = event_hash(id, &rec);
            prev = rec.hash.clone();
            let (inputs, payload) = (
                std::mem::take(&mut rec.inputs).to_string(),
                std::mem::take(&mut rec.payload).to_string(),
            );
            events.push((id, rec, inputs, payload));
        }
        let last_day = c.steps.last().map_or(c.snapshot.entered_on, |s| s.on);
        for (key, d) in &c.snapshot.deadlines {
            deadlines.push((id, key.clone(), d, recorded_at(last_day)));
        }
        // Through a value, whose keys are sorted: the text the commands store.
        rows.push((id, c, json(&c.snapshot)?.to_string()));
    }
    insert_rows(
        txn,
        cases::Entity,
        cols(vec![
            cases::Column::Id,
            cases::Column::DefinitionId,
            cases::Column::DefinitionVersion,
            cases::Column::UnitId,
            cases::Column::SubjectMemberId,
            cases::Column::Title,
            cases::Column::State,
            cases::Column::Version,
            cases::Column::Terminal,
            cases::Column::Snapshot,
            cases::Column::NextDue,
            cases::Column::CreatedAt,
            cases::Column::UpdatedAt,
        ]),
        &rows,
        |(id, c, snapshot)| {
            let first = c.steps.first().map_or(c.snapshot.entered_on, |s| s.on);
            let last = c.steps.last().map_or(first, |s| s.on);
            vec![
                (*id).into(),
                c.definition.0.clone().into(),
                i32::try_from(c.definition.1).unwrap_or_default().into(),
                id_of(unit_ids, c.unit).into(),
                c.member.map(|m| id_of(member_ids, m)).into(),
                c.title.clone().into(),
                c.snapshot.state.clone().into(),
                i64::try_from(c.snapshot.version).unwrap_or_default().into(),
                c.terminal.into(),
                doc(snapshot),
                next_due(&c.snapshot).into(),
                recorded_at(first).into(),
                recorded_at(last).into(),
            ]
        },
        progress,
        "cases",
    )
    .await?;
    insert_rows(
        txn,
        case_event::Entity,
        cols(vec![
            case_event::Column::CaseId,
            case_event::Column::Seq,
            case_event::Column::Kind,
            case_event::Column::Transition,
            case_event::Column::Actor,
            case_event::Column::Inputs,
            case_event::Column::FromState,
            case_event::Column::ToState,
            case_event::Column::RuleSet,
            case_event::Column::DefinitionVersion,
            case_event::Column::Payload,
            case_event::Column::EffectiveDate,
            case_event::Column::OccurredAt,
            case_event::Column::PrevHash,
            case_event::Column::Hash,
            case_event::Column::RegistryFacts,
        ]),
        &events,
        |(id, e, inputs, payload)| {
            vec![
                (*id).into(),
                i64::try_from(e.seq).unwrap_or_default().into(),
                e.kind.clone().into(),
                e.transition.clone().into(),
                e.actor.clone().into(),
                doc(inputs),
                e.from_state.clone().into(),
                e.to_state.clone().into(),
                e.rule_set.clone().into(),
                i32::try_from(e.definition_version)
                    .unwrap_or_default()
                    .into(),
                doc(payload),
                e.effective_date.into(),
                e.occurred_at.into(),
                e.prev_hash.clone().into(),
                e.hash.clone().into(),
                e.registry_facts.clone().into(),
            ]
        },
        progress,
        "case history",
    )
    .await?;
    insert_rows(
        txn,
        case_deadline::Entity,
        cols(vec![
            case_deadline::Column::CaseId,
            case_deadline::Column::Key,
            case_deadline::Column::Rule,
            case_deadline::Column::Due,
            case_deadline::Column::Status,
            case_deadline::Column::CreatedAt,
            case_deadline::Column::ScheduledDue,
            case_deadline::Column::ExtendedDue,
            case_deadline::Column::Extended,
        ]),
        &deadlines,
        |(id, key, d, at)| {
            vec![
                (*id).into(),
                key.clone().into(),
                d.rule.clone().into(),
                d.effective_due().into(),
                "OPEN".into(),
                (*at).into(),
                Some(d.due).into(),
                d.extended_due.into(),
                d.extended.into(),
            ]
        },
        progress,
        "deadlines",
    )
    .await
}

/// The batch's hamlets (those merged into another after the others, whose rows they name),
/// their branch links and the residences.
async fn insert_hamlets(
    txn: &impl BulkWrite,
    batch: &BulkBatch,
    now: DateTime<Utc>,
    unit_ids: &[Uuid],
    member_ids: &[Uuid],
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
) -> Result<()> {
    use crate::entity::{hamlet, hamlet_branch, member_residence};
    if batch
        .hamlets
        .iter()
        .any(|h| h.successor.is_some_and(|s| s >= batch.hamlets.len()))
        || batch
            .hamlet_links
            .iter()
            .any(|l| l.hamlet >= batch.hamlets.len())
        || batch
            .residences
            .iter()
            .any(|r| r.hamlet >= batch.hamlets.len())
    {
        return Err(StoreError::validation(
            "Dữ liệu nạp hàng loạt tham chiếu một ấp, khu vực ngoài lô.",
            "The bulk data refers to a hamlet outside the batch.",
        ));
    }
    let hamlet_ids = ids(batch, 5, batch.hamlets.len());
    for merged in [false, true] {
        let rows: Vec<(Uuid, &BulkHamlet)> = hamlet_ids
            .iter()
            .copied()
            .zip(&batch.hamlets)
            .filter(|(_, h)| h.successor.is_some() == merged)
            .collect();
        insert_rows(
            txn,
            hamlet::Entity,
            cols(vec![
                hamlet::Column::Id,
                hamlet::Column::Code,
                hamlet::Column::Name,
                hamlet::Column::Kind,
                hamlet::Column::UnitId,
                hamlet::Column::ValidFrom,
                hamlet::Column::ValidTo,
                hamlet::Column::SuccessorId,
                hamlet::Column::CreatedAt,
            ]),
            &rows,
            |(id, h)| {
                vec![
                    (*id).into(),
                    h.code.clone().into(),
                    h.name.clone().into(),
                    h.kind.as_str().into(),
                    id_of(unit_ids, h.unit).into(),
                    h.valid_from.into(),
                    h.valid_to.into(),
                    h.successor.map(|s| id_of(&hamlet_ids, s)).into(),
                    now.into(),
                ]
            },
            progress,
            "hamlets",
        )
        .await?;
    }
    insert_rows(
        txn,
        hamlet_branch::Entity,
        cols(vec![
            hamlet_branch::Column::HamletId,
            hamlet_branch::Column::UnitId,
            hamlet_branch::Column::ValidFrom,
            hamlet_branch::Column::ValidTo,
        ]),
        &batch.hamlet_links,
        |l| {
            vec![
                id_of(&hamlet_ids, l.hamlet).into(),
                id_of(unit_ids, l.unit).into(),
                l.valid_from.into(),
                l.valid_to.into(),
            ]
        },
        progress,
        "hamlet branches",
    )
    .await?;
    insert_rows(
        txn,
        member_residence::Entity,
        cols(vec![
            member_residence::Column::MemberId,
            member_residence::Column::HamletId,
            member_residence::Column::ValidFrom,
            member_residence::Column::ValidTo,
            member_residence::Column::Reason,
        ]),
        &batch.residences,
        |r| {
            vec![
                id_of(member_ids, r.member).into(),
                id_of(&hamlet_ids, r.hamlet).into(),
                r.valid_from.into(),
                r.valid_to.into(),
                r.reason.into(),
            ]
        },
        progress,
        "residences",
    )
    .await
}

impl Statistics<'_> {
    /// Loads `batch` in one transaction, reporting progress as `(stage, done, total)`, and
    /// brings the statistics counters up to date with it. Its units must be new (a code
    /// already taken is a conflict) and everything it refers to must be in it.
    pub async fn bulk_load(
        &self,
        batch: &BulkBatch,
        now: DateTime<Utc>,
        progress: &mut (dyn FnMut(&str, u64, u64) + Send),
    ) -> Result<()> {
        self.bulk_load_rounds(batch, &mut NoRounds, now, progress)
            .await
    }

    /// [`Statistics::bulk_load`], then the cases of `rounds` a round at a time (each round
    /// written and dropped before the next is asked for), all in the one transaction.
    pub async fn bulk_load_rounds(
        &self,
        batch: &BulkBatch,
        rounds: &mut dyn BulkCaseRounds,
        now: DateTime<Utc>,
        progress: &mut (dyn FnMut(&str, u64, u64) + Send),
    ) -> Result<()> {
        batch.check()?;
        if !batch.units.is_empty() {
            self.store.tree_changing();
        }
        // PostgreSQL: the loader's own transaction, which COPYs; SQLite: the writer's.
        if let Some(pg) = PgLoad::begin(self.db().sea()).await? {
            load_batch(&pg, batch, rounds, now, progress).await?;
            pg.commit().await?;
        } else {
            let txn = self.begin_write().await?;
            load_batch(&txn, batch, rounds, now, progress).await?;
            txn.commit().await?;
        }
        tracing::info!(
            units = batch.units.len(),
            members = batch.members.len(),
            "bulk load committed"
        );
        Ok(())
    }
}

/// How long each stage of a load took, logged at debug level (`RUST_LOG=memberflow_store=debug`).
struct Laps(std::time::Instant);

impl Laps {
    fn lap(&mut self, stage: &str) {
        let ms = u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(stage, ms, "bulk load stage");
        self.0 = std::time::Instant::now();
    }
}

/// Writes `batch` through `txn` (see [`Statistics::bulk_load`]); the caller commits.
async fn load_batch(
    txn: &impl BulkWrite,
    batch: &BulkBatch,
    rounds: &mut dyn BulkCaseRounds,
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
) -> Result<()> {
    let mut laps = Laps(std::time::Instant::now());
    let unit_ids = ids(batch, 1, batch.units.len());
    let member_ids = ids(batch, 2, batch.members.len());
    let codes: Vec<String> = batch.units.iter().map(|u| u.code.clone()).collect();
    for chunk in codes.chunks(500) {
        let taken: Vec<String> = unit::Entity::find()
            .select_only()
            .column(unit::Column::Code)
            .filter(unit::Column::Code.is_in(chunk.iter().cloned()))
            .limit(5)
            .into_tuple()
            .all(txn)
            .await?;
        if !taken.is_empty() {
            let list = taken.join(", ");
            return Err(StoreError::conflict(
                format!("Mã đơn vị đã được dùng: {list}."),
                format!("Unit codes already taken: {list}."),
            ));
        }
    }
    let attach = match &batch.attach_under {
        Some(code) => Some(
            unit::Entity::find()
                .filter(unit::Column::Code.eq(code.as_str()))
                .one(txn)
                .await?
                .ok_or_else(|| StoreError::not_found("unit", code))?
                .id,
        ),
        None => None,
    };
    let units: Vec<(Uuid, &BulkUnit)> = unit_ids.iter().copied().zip(&batch.units).collect();
    // Successors refer to units of the batch: insert without them, then set them.
    let rows: Vec<UnitInsert<'_>> = units
        .iter()
        .map(|(id, u)| UnitInsert {
            id: *id,
            code: &u.code,
            name: &u.name,
            kind: u.kind,
            branch_category: u.branch_category,
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        })
        .collect();
    insert_units(txn, &rows, now, progress).await?;
    let mut by_successor: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (id, u) in &units {
        if let Some(s) = u.successor {
            by_successor
                .entry(id_of(&unit_ids, s))
                .or_default()
                .push(*id);
        }
    }
    for (succ, sources) in by_successor {
        set_successor(txn, succ, &sources).await?;
    }
    let mut edges: Vec<LinkInsert> = batch
        .edges
        .iter()
        .map(|e| {
            (
                id_of(&unit_ids, e.unit),
                id_of(&unit_ids, e.parent),
                e.valid_from,
                e.valid_to,
            )
        })
        .collect();
    if let Some(parent) = attach {
        let children: std::collections::HashSet<usize> =
            batch.edges.iter().map(|e| e.unit).collect();
        for (i, (id, u)) in units.iter().enumerate() {
            if !children.contains(&i) {
                edges.push((*id, parent, u.valid_from, u.valid_to));
            }
        }
    }
    insert_links(txn, &edges, progress).await?;
    let journal: Vec<JournalInsert<'_>> = batch
        .tree_events
        .iter()
        .map(|e| match e {
            BulkTreeEvent::Create { unit, parent } => {
                let u = batch.units.get(*unit);
                (
                    "CREATE",
                    u.map_or(NaiveDate::MIN, |u| u.valid_from),
                    serde_json::json!({
                        "unit": id_of(&unit_ids, *unit),
                        "code": u.map(|u| u.code.clone()),
                        "parent": parent.map(|p| id_of(&unit_ids, p)),
                    }),
                )
            }
            BulkTreeEvent::Merge {
                sources,
                target,
                date,
            } => (
                "MERGE",
                *date,
                serde_json::json!({
                    "sources": sources.iter().map(|s| id_of(&unit_ids, *s)).collect::<Vec<_>>(),
                    "target": id_of(&unit_ids, *target),
                }),
            ),
        })
        .collect();
    insert_journal(txn, &journal, now, progress).await?;
    laps.lap("units");
    // Whether the registry holds no member before the batch: then the counters of a rebuild
    // are the batch's own, computed in memory rather than read back.
    let registry_was_empty = member::Entity::find()
        .select_only()
        .column(member::Column::Id)
        .into_tuple::<Uuid>()
        .one(txn)
        .await?
        .is_none();
    let members: Vec<(Uuid, &BulkMember)> =
        member_ids.iter().copied().zip(&batch.members).collect();
    let rows: Vec<MemberInsert<'_>> = members
        .iter()
        .map(|(id, m)| MemberInsert {
            id: *id,
            card: m.party_card_number.as_deref(),
            full_name: &m.full_name,
            date_of_birth: m.date_of_birth,
            sex: m.sex,
            ethnicity: m.ethnicity,
            religion: m.religion,
            education: m.education,
            occupation: m.occupation,
            admission_decision: m.admission_decision_date,
            ceremony: m.ceremony_date,
            official: m.official_date,
            email: m.email.as_deref(),
        })
        .collect();
    insert_members(txn, &rows, now, progress).await?;
    let account_ids = ids(batch, 4, batch.accounts.len());
    let accounts: Vec<(Uuid, &BulkAccount)> =
        account_ids.iter().copied().zip(&batch.accounts).collect();
    insert_rows(
        txn,
        account::Entity,
        cols(vec![
            account::Column::Id,
            account::Column::Username,
            account::Column::PasswordHash,
            account::Column::Disabled,
            account::Column::CreatedAt,
            account::Column::PasswordChangedAt,
            account::Column::Email,
            account::Column::SearchName,
        ]),
        &accounts,
        |(id, a)| {
            vec![
                (*id).into(),
                a.username.clone().into(),
                // Not a hash at all: no password verifies against it.
                "!".into(),
                false.into(),
                now.into(),
                now.into(),
                a.email.clone().into(),
                Some(memberflow_workflow::text::search_key(&a.username)).into(),
            ]
        },
        progress,
        "accounts",
    )
    .await?;
    let grants: Vec<(Uuid, &'static str, Uuid)> = accounts
        .iter()
        .flat_map(|(id, a)| {
            a.grants
                .iter()
                .map(|(role, unit)| (*id, *role, id_of(&unit_ids, *unit)))
        })
        .collect();
    insert_rows(
        txn,
        role_assignment::Entity,
        cols(vec![
            role_assignment::Column::AccountId,
            role_assignment::Column::Role,
            role_assignment::Column::UnitId,
            role_assignment::Column::CreatedAt,
        ]),
        &grants,
        |(account, role, unit)| {
            vec![
                (*account).into(),
                (*role).into(),
                (*unit).into(),
                now.into(),
            ]
        },
        progress,
        "role grants",
    )
    .await?;
    let memberships: Vec<MembershipInsert<'_>> = batch
        .memberships
        .iter()
        .map(|m| MembershipInsert {
            member: id_of(&member_ids, m.member),
            unit: id_of(&unit_ids, m.unit),
            from: m.valid_from,
            to: m.valid_to,
            reason: m.reason,
        })
        .collect();
    insert_memberships(txn, &memberships, progress).await?;
    let statuses: Vec<StatusInsert> = batch
        .statuses
        .iter()
        .map(|s| StatusInsert {
            member: id_of(&member_ids, s.member),
            status: s.status,
            from: s.valid_from,
            to: s.valid_to,
        })
        .collect();
    insert_statuses(txn, &statuses, progress).await?;
    insert_hamlets(txn, batch, now, &unit_ids, &member_ids, progress).await?;
    laps.lap("members");
    let mut case_source = IdSource::new(batch, 3);
    let mut case_ids = case_source.take(batch.cases.len());
    let total = batch.cases.len() as u64 + rounds.total();
    let ctx = Ids {
        units: &unit_ids,
        members: &member_ids,
        now,
    };
    // What the open admission cases of the batch and of every round add to the forecast.
    let mut open = super::forecast::Groups::new();
    insert_cases(
        txn,
        &batch.cases,
        &case_ids,
        &ctx,
        &mut open,
        0,
        total,
        progress,
    )
    .await?;
    while let Some(round) = rounds.next_round().map_err(internal)? {
        batch.check_round(&round, case_ids.len())?;
        let first = case_ids.len();
        case_ids.extend(case_source.take(round.cases.len()));
        let done = first as u64;
        insert_cases(
            txn,
            &round.cases,
            &case_ids[first..],
            &ctx,
            &mut open,
            done,
            total,
            progress,
        )
        .await?;
        insert_discipline(txn, &round.discipline, &case_ids, &ctx).await?;
    }
    insert_discipline(txn, &batch.discipline, &case_ids, &ctx).await?;
    laps.lap("cases");
    insert_rows(
        txn,
        badge_award::Entity,
        cols(vec![
            badge_award::Column::MemberId,
            badge_award::Column::Years,
            badge_award::Column::AwardDate,
            badge_award::Column::CreatedAt,
        ]),
        &batch.badges,
        |b| {
            vec![
                id_of(&member_ids, b.member).into(),
                b.years.into(),
                b.award_date.into(),
                now.into(),
            ]
        },
        progress,
        "badges",
    )
    .await?;

    // The counters: those not built yet are built from scratch now that the batch is in;
    // built ones get the batch's share, computed in memory (its units are new, so their
    // rows are inserted whole).
    let counters = lock_counters(txn).await?;
    let unbuilt: Vec<AnchorDay> = counters
        .anchors
        .iter()
        .filter(|a| !a.1)
        .map(|a| a.0)
        .collect();
    let rebuilt = !unbuilt.is_empty() || !counters.admissions_built;
    let built: Vec<(AnchorDay, Option<i32>)> = counters
        .anchors
        .iter()
        .filter(|a| a.1)
        .map(|a| (a.0, a.2))
        .collect();
    let anchors: Vec<AnchorDay> = built.iter().map(|a| a.0).collect();
    // The batch's share of every counter: of the built ones (added below) and, on a registry
    // that was empty, of the unbuilt ones too (then the whole of them).
    let mut contribution = Contribution::default();
    let counted: Vec<AnchorDay> = if registry_was_empty {
        anchors.iter().chain(&unbuilt).copied().collect()
    } else {
        anchors.clone()
    };
    for h in batch.histories(&unit_ids) {
        contribution.add(&h, &counted, 1);
    }
    laps.lap("badges, histories");
    if rebuilt {
        if registry_was_empty {
            rebuild_with(txn, &unbuilt, !counters.admissions_built, &contribution).await?;
        } else {
            rebuild(txn, &unbuilt, !counters.admissions_built).await?;
        }
        laps.lap("counters rebuilt");
    }
    // Counters built before the batch, which get its share added after any rebuild.
    let added_after = !built.is_empty() || counters.admissions_built;
    for (anchor, horizon) in built {
        let Some(per_unit) = contribution.membership.get(&anchor) else {
            continue;
        };
        let Some(max_bucket) = per_unit.values().filter_map(|m| m.keys().max()).max() else {
            continue;
        };
        let h = extend_horizon(txn, anchor, horizon, *max_bucket).await?;
        let rows = dense_rows(per_unit, h);
        progress("counters", 0, rows.len() as u64);
        load_membership_rows(txn, &anchor.to_string(), &rows).await?;
        progress("counters", rows.len() as u64, rows.len() as u64);
    }
    if counters.admissions_built {
        // The batch's units are new: their admission rows are inserted, not added.
        add_admissions_via(txn, txn.copier(), &contribution, true).await?;
    }
    laps.lap("counters");
    // The batch's units (and, for a batch attached under a unit, nothing above them
    // changes): their ancestry from their links and their parents' rows.
    let spans: Vec<memberflow_workflow::tree::UnitSpan<Uuid>> = units
        .iter()
        .map(|(id, u)| memberflow_workflow::tree::UnitSpan {
            id: *id,
            from: u.valid_from,
            to: u.valid_to,
        })
        .collect();
    let links: Vec<memberflow_workflow::tree::ParentLink<Uuid>> = edges
        .iter()
        .map(
            |(unit, parent, from, to)| memberflow_workflow::tree::ParentLink {
                unit: *unit,
                parent: *parent,
                from: *from,
                to: *to,
            },
        )
        .collect();
    crate::tree::ancestry::insert_new(txn, &spans, &links).await?;
    // The forecast's aggregates: the open admission cases of the batch and of its rounds, on
    // their units' chains (the ancestry just written).
    super::forecast::apply(txn, &open).await?;
    laps.lap("ancestry, forecast");
    // The subtree aggregates: added up again after a rebuild, else the batch's share added
    // to its units and the units above them.
    progress("aggregates", 0, 1);
    if rebuilt {
        // The rebuild added the aggregates up from the counters; again only when the batch's
        // share was added to counters built before it.
        if added_after {
            super::rollup::rebuild_kept(txn).await?;
        }
    } else {
        let tree_changed = batch
            .units
            .iter()
            .flat_map(|u| [Some(u.valid_from), u.valid_to])
            .chain(
                batch
                    .edges
                    .iter()
                    .flat_map(|e| [Some(e.valid_from), e.valid_to]),
            )
            .flatten()
            .max()
            .map(|d| chrono::Datelike::year(&d));
        let counters = lock_counters(txn).await?;
        // The chains of the batch's units, from the batch itself and the lineage of the unit
        // it is attached under: not read back from the tree stored, whatever its size.
        let tree = super::rollup::LocalTree::with_new_units(
            txn,
            units
                .iter()
                .map(|(id, u)| {
                    (
                        *id,
                        u.valid_from,
                        u.valid_to,
                        u.successor.map(|s| id_of(&unit_ids, s)),
                    )
                })
                .collect(),
            edges.clone(),
            &attach.into_iter().collect::<Vec<_>>(),
        )
        .await?;
        let fresh: std::collections::HashSet<Uuid> = unit_ids.iter().copied().collect();
        super::rollup::apply_own_via(
            txn,
            txn.copier(),
            &counters,
            &super::rollup::OwnChanges {
                membership: &contribution.membership,
                admissions: &contribution.admissions,
                tree_changed,
            },
            Some(super::rollup::NewUnits {
                tree: &tree,
                ids: &fresh,
            }),
        )
        .await?;
    }
    progress("aggregates", 1, 1);
    laps.lap("aggregates");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(seed: u64, order: Option<u32>) -> BulkBatch {
        BulkBatch {
            id_seed: seed,
            id_order: order,
            ..BulkBatch::default()
        }
    }

    #[test]
    fn the_ids_of_a_batch_in_order_come_after_the_earlier_batches_ids() {
        let mut last = Uuid::nil();
        for order in 0..40 {
            // Seeds unrelated to the order: the order alone decides where the ids go.
            let seed = 0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(u64::from(order) + 7);
            for salt in [1, 2] {
                let drawn = ids(&batch(seed, Some(order)), salt, 500);
                assert!(drawn.is_sorted());
                assert!(drawn.iter().all(|id| id.get_version_num() == 4));
                assert!(
                    drawn
                        .iter()
                        .all(|id| id.as_bytes()[..4] == order.to_be_bytes())
                );
                if salt == 2 {
                    assert!(drawn[0] > last, "batch {order}");
                    last = drawn[499];
                }
            }
        }
    }

    #[test]
    fn a_batch_s_ids_are_its_seed_s_with_or_without_an_order() {
        let plain = ids(&batch(42, None), 2, 1000);
        assert_eq!(plain, ids(&batch(42, None), 2, 1000));
        let ordered = ids(&batch(42, Some(3)), 2, 1000);
        assert_eq!(ordered, ids(&batch(42, Some(3)), 2, 1000));
        // Same draws: only the first 32 bits differ.
        let mut tails: Vec<[u8; 12]> = plain
            .iter()
            .map(|id| id.as_bytes()[4..].try_into().unwrap_or_default())
            .collect();
        let mut ordered_tails: Vec<[u8; 12]> = ordered
            .iter()
            .map(|id| id.as_bytes()[4..].try_into().unwrap_or_default())
            .collect();
        tails.sort_unstable();
        ordered_tails.sort_unstable();
        assert_eq!(tails, ordered_tails);
        assert_eq!(
            plain.iter().collect::<std::collections::HashSet<_>>().len(),
            1000
        );
    }
}
