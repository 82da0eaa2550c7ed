//! The forecast's aggregates: the admission cases not decided yet, counted by unit, stage and
//! running decision deadline, so that the forecast of any unit (the whole tree's included) is
//! one indexed read instead of a read of every open case.
//!
//! What a case counts for is the core's [`core::open_admission`]: an admission case not in a
//! terminal state, in a stage before the decision, with the last day of its running A10
//! decision deadline. The forecast of a year seen on a day needs no more: the likelihood of a
//! decision within the year depends only on the stage, the deadline and the day
//! ([`core::decision_likelihood`]), so a group of `n` cases alike weighs `n` times one.
//!
//! - `stat_open_admission`: each unit's own cases, by `(stage, due)`.
//! - `stat_open_rollup`: each unit's cases with everything below it, on the tree as it stands
//!   after its last dated change (the *settled* tree: a unit that ended counts in its
//!   successor or last parent, [`core::representative`]). A report whose reference day has the
//!   settled tree (no dated change after it, the usual case) reads these rows; one whose tree
//!   still changes later adds the own rows up on its own tree.
//!
//! Both are written in the transaction of every command that opens, moves or closes an
//! admission case (open, step, dry run, migration; [`case_moved`]), of every tree change that
//! moves a unit's cases to other ancestors ([`shift_before`] / [`shift_after`]), and of the
//! bulk loads ([`apply`], [`rebuild_rollup`]). Their `stat_counter` row (`forecast`) says
//! whether they are built; each writer reads it under a shared lock, and the build
//! ([`rebuild`]) takes it exclusively. `memberflow check --stats` recounts both from the cases
//! ([`recount`], the computation the reports used before) and reports any difference.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use memberflow_workflow::engine::CaseSnapshot;
use memberflow_workflow::stats::{self as core, AdmissionStage, OpenAdmission};
use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use super::counters::{StatsDifference, internal, mark_built, rows_per_insert};
use super::entity::{stat_counter, stat_open_admission, stat_open_rollup};
use super::rollup::LocalTree;
use crate::entity::{case_deadline, cases, unit_ancestry};
use crate::error::Result;

/// The name of the forecast's aggregates in `stat_counter`.
pub(crate) const FORECAST: &str = "forecast";

/// `(unit, what its cases count for) → how many`.
pub(crate) type Groups = BTreeMap<(Uuid, OpenAdmission), i64>;

/// The day whose tree is the settled one: after every dated change.
pub(crate) fn settled_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// The two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    /// Each unit's own cases.
    Own,
    /// Each unit's cases with everything below it.
    Rollup,
}

impl Table {
    fn name(self) -> Alias {
        Alias::new(match self {
            Table::Own => "stat_open_admission",
            Table::Rollup => "stat_open_rollup",
        })
    }
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// The `due` column of a deadline: its last day, or empty while none runs.
fn due_text(due: Option<NaiveDate>) -> String {
    due.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A row's key read back; `None` for a stage or a day that does not parse (a corrupt row,
/// which the check reports).
fn key_of_row(stage: &str, due: &str) -> Option<OpenAdmission> {
    let stage = AdmissionStage::parse(stage)?;
    let decision_due = if due.is_empty() {
        None
    } else {
        Some(NaiveDate::parse_from_str(due, "%Y-%m-%d").ok()?)
    };
    Some(OpenAdmission {
        stage,
        decision_due,
    })
}

/// What a case whose snapshot is `s` counts for.
pub(crate) fn of_snapshot(
    definition_id: &str,
    terminal: bool,
    s: &CaseSnapshot,
) -> Option<OpenAdmission> {
    core::open_admission(
        definition_id,
        terminal,
        &s.state,
        s.deadlines
            .get(core::DECISION_DEADLINE)
            .map(|d| d.effective_due()),
    )
}

/// Whether the aggregates are built, the `forecast` row locked shared (a writer) or
/// exclusively (the build) until the transaction ends; SQLite serializes writes anyway.
async fn built(c: &impl ConnectionTrait, exclusive: bool) -> Result<bool> {
    let q = stat_counter::Entity::find()
        .select_only()
        .column(stat_counter::Column::Built)
        .filter(stat_counter::Column::Counter.eq(FORECAST));
    let q = if exclusive {
        q.lock_exclusive()
    } else {
        q.lock_shared()
    };
    Ok(q.into_tuple::<bool>().one(c).await?.unwrap_or(false))
}

/// Whether the aggregates are built (a plain read, for the readers).
pub(crate) async fn is_built(c: &impl ConnectionTrait) -> Result<bool> {
    Ok(stat_counter::Entity::find()
        .select_only()
        .column(stat_counter::Column::Built)
        .filter(stat_counter::Column::Counter.eq(FORECAST))
        .into_tuple::<bool>()
        .one(c)
        .await?
        .unwrap_or(false))
}

/// A case of `unit` counted for `before` and now for `after` (`None`: for nothing): the
/// difference written to the aggregates, when built. Nothing is read or written when the two
/// are the same (every step of a case that is not an admission, most steps of one that is).
pub(crate) async fn case_moved(
    c: &impl ConnectionTrait,
    unit: Uuid,
    before: Option<OpenAdmission>,
    after: Option<OpenAdmission>,
) -> Result<()> {
    if before == after {
        return Ok(());
    }
    let mut own = Groups::new();
    if let Some(k) = before {
        *own.entry((unit, k)).or_default() -= 1;
    }
    if let Some(k) = after {
        *own.entry((unit, k)).or_default() += 1;
    }
    apply(c, &own).await
}

/// Adds changes of units' own cases to both tables (each to the unit's chain on the settled
/// tree, read from the tree's ancestry), when the aggregates are built.
pub(crate) async fn apply(c: &impl ConnectionTrait, own: &Groups) -> Result<()> {
    let own: Groups = own
        .iter()
        .filter(|(_, d)| **d != 0)
        .map(|(k, d)| (*k, *d))
        .collect();
    if own.is_empty() || !built(c, false).await? {
        return Ok(());
    }
    let mut units: Vec<Uuid> = own.keys().map(|k| k.0).collect();
    units.dedup();
    let chains = settled_chains(c, &units).await?;
    let mut rolled = Groups::new();
    for ((u, k), d) in &own {
        for a in chains.get(u).into_iter().flatten() {
            *rolled.entry((*a, *k)).or_default() += d;
        }
    }
    add(c, Table::Own, &own).await?;
    add(c, Table::Rollup, &rolled).await
}

/// The chains of `units` on the settled tree, each unit (or the unit standing for it) first:
/// from the tree's ancestry rows that never end, or for a unit that ended, from its links.
async fn settled_chains(
    c: &impl ConnectionTrait,
    units: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Uuid>>> {
    let mut out: HashMap<Uuid, Vec<(i32, Uuid)>> = HashMap::with_capacity(units.len());
    for chunk in units.chunks(500) {
        let rows: Vec<(Uuid, Uuid, i32)> = unit_ancestry::Entity::find()
            .select_only()
            .column(unit_ancestry::Column::UnitId)
            .column(unit_ancestry::Column::AncestorId)
            .column(unit_ancestry::Column::Depth)
            .filter(unit_ancestry::Column::UnitId.is_in(chunk.iter().copied()))
            .filter(unit_ancestry::Column::ValidTo.is_null())
            .into_tuple()
            .all(c)
            .await?;
        for (u, a, depth) in rows {
            out.entry(u).or_default().push((depth, a));
        }
    }
    let mut chains: HashMap<Uuid, Vec<Uuid>> = out
        .into_iter()
        .filter_map(|(u, mut rows)| {
            rows.sort_unstable();
            (rows.first() == Some(&(0, u))).then(|| (u, rows.into_iter().map(|r| r.1).collect()))
        })
        .collect();
    let ended: Vec<Uuid> = units
        .iter()
        .filter(|u| !chains.contains_key(u))
        .copied()
        .collect();
    if !ended.is_empty() {
        let tree = LocalTree::around(c, &ended).await?;
        for u in ended {
            chains.insert(u, tree.chain(u, settled_day()).unwrap_or_default());
        }
    }
    Ok(chains)
}

/// Adds `deltas` to `table`, rows missing inserted, in the keys' order (so that concurrent
/// writers lock shared rows in the same order); rows brought to zero are deleted.
async fn add(c: &impl ConnectionTrait, table: Table, deltas: &Groups) -> Result<()> {
    let rows: Vec<(&(Uuid, OpenAdmission), &i64)> =
        deltas.iter().filter(|(_, d)| **d != 0).collect();
    for chunk in rows.chunks(rows_per_insert(c.get_database_backend(), 4)) {
        let mut insert = Query::insert();
        insert.into_table(table.name()).columns([
            col("unit_id"),
            col("stage"),
            col("due"),
            col("cases"),
        ]);
        for ((u, k), d) in chunk {
            insert
                .values([
                    (*u).into(),
                    k.stage.as_str().into(),
                    due_text(k.decision_due).into(),
                    (**d).into(),
                ])
                .map_err(|e| internal(format!("cannot build a forecast insert: {e}")))?;
        }
        insert.on_conflict(
            OnConflict::columns([col("unit_id"), col("stage"), col("due")])
                .value(
                    col("cases"),
                    Expr::col((table.name(), col("cases")))
                        .add(Expr::col((Alias::new("excluded"), col("cases")))),
                )
                .to_owned(),
        );
        c.execute(&insert).await?;
    }
    let lowered: Vec<&(Uuid, OpenAdmission)> = rows
        .iter()
        .filter(|(_, d)| **d < 0)
        .map(|(k, _)| *k)
        .collect();
    for chunk in lowered.chunks(150) {
        let mut any = Condition::any();
        for (u, k) in chunk {
            any = any.add(
                Condition::all()
                    .add(Expr::col(col("unit_id")).eq(*u))
                    .add(Expr::col(col("stage")).eq(k.stage.as_str()))
                    .add(Expr::col(col("due")).eq(due_text(k.decision_due))),
            );
        }
        let delete = Query::delete()
            .from_table(table.name())
            .cond_where(any)
            .and_where(Expr::col(col("cases")).eq(0))
            .to_owned();
        c.execute(&delete).await?;
    }
    Ok(())
}

/// Inserts `rows` into an emptied `table`.
async fn insert_all(c: &impl ConnectionTrait, table: Table, rows: &Groups) -> Result<()> {
    let rows: Vec<_> = rows.iter().filter(|(_, n)| **n != 0).collect();
    for chunk in rows.chunks(rows_per_insert(c.get_database_backend(), 4)) {
        let mut insert = Query::insert();
        insert.into_table(table.name()).columns([
            col("unit_id"),
            col("stage"),
            col("due"),
            col("cases"),
        ]);
        for ((u, k), n) in chunk {
            insert
                .values([
                    (*u).into(),
                    k.stage.as_str().into(),
                    due_text(k.decision_due).into(),
                    (**n).into(),
                ])
                .map_err(|e| internal(format!("cannot build a forecast insert: {e}")))?;
        }
        c.execute(&insert).await?;
    }
    Ok(())
}

/// The open admission cases counted from the cases themselves and their running deadlines
/// (what the reports read before the aggregates; now the check's reference and the build's
/// source).
pub(crate) async fn recount(c: &impl ConnectionTrait) -> Result<Groups> {
    let open: Vec<(Uuid, Uuid, String, bool)> = cases::Entity::find()
        .select_only()
        .column(cases::Column::Id)
        .column(cases::Column::UnitId)
        .column(cases::Column::State)
        .column(cases::Column::Terminal)
        .filter(cases::Column::DefinitionId.eq(core::ADMISSION_WORKFLOW))
        .filter(cases::Column::Terminal.eq(false))
        .into_tuple()
        .all(c)
        .await?;
    let due: HashMap<Uuid, NaiveDate> = case_deadline::Entity::find()
        .select_only()
        .column(case_deadline::Column::CaseId)
        .column(case_deadline::Column::Due)
        .filter(case_deadline::Column::Key.eq(core::DECISION_DEADLINE))
        .filter(case_deadline::Column::Status.eq("OPEN"))
        .into_tuple::<(Uuid, NaiveDate)>()
        .all(c)
        .await?
        .into_iter()
        .collect();
    let mut out = Groups::new();
    for (id, unit, state, terminal) in open {
        if let Some(k) = core::open_admission(
            core::ADMISSION_WORKFLOW,
            terminal,
            &state,
            due.get(&id).copied(),
        ) {
            *out.entry((unit, k)).or_default() += 1;
        }
    }
    Ok(out)
}

/// The subtree rows implied by units' own rows on the settled tree.
fn rolled_up(tree: &LocalTree, own: &Groups) -> Groups {
    let mut out = Groups::new();
    let mut chains: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for ((u, k), n) in own {
        let chain = chains
            .entry(*u)
            .or_insert_with(|| tree.chain(*u, settled_day()).unwrap_or_default());
        for a in chain.iter() {
            *out.entry((*a, *k)).or_default() += n;
        }
    }
    out.retain(|_, n| *n != 0);
    out
}

/// Builds both tables from the cases, in `c`'s transaction, and marks them built.
pub(crate) async fn rebuild(c: &impl ConnectionTrait) -> Result<()> {
    built(c, true).await?;
    let own = recount(c).await?;
    stat_open_admission::Entity::delete_many().exec(c).await?;
    insert_all(c, Table::Own, &own).await?;
    let tree = LocalTree::load_all(c).await?;
    stat_open_rollup::Entity::delete_many().exec(c).await?;
    insert_all(c, Table::Rollup, &rolled_up(&tree, &own)).await?;
    mark_built(c, FORECAST.to_owned(), None).await
}

/// Adds the subtree rows up again from the own rows, when built (after a bulk change of the
/// tree: an import).
pub(crate) async fn rebuild_rollup(c: &impl ConnectionTrait) -> Result<()> {
    if !built(c, false).await? {
        return Ok(());
    }
    let own = read(c, Table::Own, Condition::all()).await?;
    let tree = LocalTree::load_all(c).await?;
    stat_open_rollup::Entity::delete_many().exec(c).await?;
    insert_all(c, Table::Rollup, &rolled_up(&tree, &own)).await
}

/// The rows of `table` that `filter` keeps.
async fn read(c: &impl ConnectionTrait, table: Table, filter: Condition) -> Result<Groups> {
    let q = Query::select()
        .columns([col("unit_id"), col("stage"), col("due"), col("cases")])
        .from(table.name())
        .cond_where(filter)
        .and_where(Expr::col(col("cases")).ne(0))
        .to_owned();
    let mut out = Groups::new();
    for row in c.query_all(&q).await? {
        let u: Uuid = row.try_get("", "unit_id")?;
        let stage: String = row.try_get("", "stage")?;
        let due: String = row.try_get("", "due")?;
        let n: i64 = row.try_get("", "cases")?;
        match key_of_row(&stage, &due) {
            Some(k) => *out.entry((u, k)).or_default() += n,
            None => {
                return Err(internal(format!(
                    "forecast row of unit {u} has an unknown stage or day: {stage:?} {due:?}"
                )));
            }
        }
    }
    Ok(out)
}

/// Every unit's own open cases (a report whose tree still changes after its reference day
/// adds them up on that tree).
pub(crate) async fn own_rows(c: &impl ConnectionTrait) -> Result<Groups> {
    read(c, Table::Own, Condition::all()).await
}

/// The open cases of `units` with everything below them (settled tree).
pub(crate) async fn subtree_rows(c: &impl ConnectionTrait, units: &[Uuid]) -> Result<Groups> {
    let mut out = Groups::new();
    for chunk in units.chunks(500) {
        out.extend(
            read(
                c,
                Table::Rollup,
                Condition::all().add(Expr::col(col("unit_id")).is_in(chunk.iter().copied())),
            )
            .await?,
        );
    }
    Ok(out)
}

/// The open cases, with everything below them, of the units a subquery selects.
pub(crate) async fn subtree_rows_in(
    c: &impl ConnectionTrait,
    units: sea_orm::sea_query::SelectStatement,
) -> Result<Groups> {
    read(
        c,
        Table::Rollup,
        Condition::all().add(Expr::col(col("unit_id")).in_subquery(units)),
    )
    .await
}

/// `(open cases, expected decisions within [from, to] seen on today)` per unit of `rows`.
pub(crate) fn tallies(
    rows: &Groups,
    today: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
) -> HashMap<Uuid, (u64, f64)> {
    let mut out: HashMap<Uuid, (u64, f64)> = HashMap::new();
    for ((u, k), n) in rows {
        let (open, expected) =
            core::expected_decisions([(k, u64::try_from(*n).unwrap_or(0))], today, from, to);
        let t = out.entry(*u).or_default();
        t.0 += open;
        t.1 += expected;
    }
    out
}

/// A unit about to move, merge or dissolve: its subtree rows and its settled chain before.
pub(crate) struct Shift {
    unit: Uuid,
    rows: Vec<(OpenAdmission, i64)>,
    before: Vec<Uuid>,
}

/// Before a change of where `unit` stands: what it counts with everything below it, and its
/// ancestors on the settled tree. `None` when there is nothing to move.
pub(crate) async fn shift_before(c: &impl ConnectionTrait, unit: Uuid) -> Result<Option<Shift>> {
    if !built(c, false).await? {
        return Ok(None);
    }
    let rows: Vec<(OpenAdmission, i64)> = read(
        c,
        Table::Rollup,
        Condition::all().add(Expr::col(col("unit_id")).eq(unit)),
    )
    .await?
    .into_iter()
    .map(|((_, k), n)| (k, n))
    .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let before = LocalTree::around(c, &[unit])
        .await?
        .chain(unit, settled_day())
        .unwrap_or_default();
    Ok(Some(Shift { unit, rows, before }))
}

/// After the change: what the unit counted is taken off its old ancestors and added to its
/// new chain (itself, or its successor or last parent, and their ancestors).
pub(crate) async fn shift_after(c: &impl ConnectionTrait, shift: Option<Shift>) -> Result<()> {
    let Some(shift) = shift else { return Ok(()) };
    let after = LocalTree::around(c, &[shift.unit])
        .await?
        .chain(shift.unit, settled_day())
        .unwrap_or_default();
    let mut deltas = Groups::new();
    for (k, n) in &shift.rows {
        for u in &shift.before {
            *deltas.entry((*u, *k)).or_default() -= n;
        }
        for u in &after {
            *deltas.entry((*u, *k)).or_default() += n;
        }
    }
    add(c, Table::Rollup, &deltas).await
}

/// Compares both tables with a recount from the cases (`memberflow check --stats`); returns
/// whether they are built.
pub(crate) async fn check(
    c: &impl ConnectionTrait,
    compared: &mut u64,
    differences: &mut Vec<StatsDifference>,
) -> Result<bool> {
    if !is_built(c).await? {
        return Ok(false);
    }
    let own = recount(c).await?;
    let tree = LocalTree::load_all(c).await?;
    let rolled = rolled_up(&tree, &own);
    for (table, expected) in [(Table::Own, &own), (Table::Rollup, &rolled)] {
        let label = match table {
            Table::Own => "forecast own",
            Table::Rollup => "forecast subtree",
        };
        let stored = match read(c, table, Condition::all()).await {
            Ok(s) => s,
            Err(e) => {
                differences.push(StatsDifference {
                    counter: format!("{label} ({e})"),
                    unit_id: Uuid::nil(),
                    year: 0,
                    stored: 0,
                    expected: 0,
                });
                continue;
            }
        };
        let mut keys: Vec<&(Uuid, OpenAdmission)> = stored.keys().chain(expected.keys()).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            *compared += 1;
            let s = stored.get(k).copied().unwrap_or(0);
            let e = expected.get(k).copied().unwrap_or(0);
            if s != e {
                differences.push(StatsDifference {
                    counter: format!(
                        "{label} {} due {}",
                        k.1.stage.as_str(),
                        k.1.decision_due
                            .map_or_else(|| "none".to_owned(), |d| d.to_string())
                    ),
                    unit_id: k.0,
                    year: k.1.decision_due.map_or(0, |d| chrono::Datelike::year(&d)),
                    stored: s,
                    expected: e,
                });
            }
        }
    }
    Ok(true)
}
