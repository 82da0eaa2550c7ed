//! Subtree aggregates (`stat_rollup`): for each base day kept (anchor), each unit and each
//! target year, the unit's target figures **with everything below it** on the tree of the
//! year's last day — the members on the base day (`base`) and the year's admissions
//! (`admitted`) — so that any unit's target, the whole tree's included, is one indexed read.
//!
//! The value of `(U, Y)` is what [`core::roll_up`] gives `U` on the tree of 31/12/`Y` from the
//! counters: every unit's own members on the base day of `Y` (its `stat_membership` row of
//! `Y - 1`, or of the counter's horizon beyond it) and own admissions of `Y`, counted in the
//! unit standing for it that day and in that unit's ancestors. Rows are kept up to the
//! aggregate's horizon `H` (its `stat_counter` row `rollup@MM-DD`), which is at least the
//! membership horizon plus one, the last year with an admission and the year of every dated
//! change of the tree: so every later year has the horizon's members, no admission and the same
//! tree, and reads the horizon's row.
//!
//! Kept in the transaction of every command that changes a counter (`count_members` adds each
//! change of a unit's own figures to the unit standing for it and its ancestors, year by year)
//! or the tree (a moved, merged or dissolved unit's subtree figures are taken off its old
//! ancestors and added to its new ones: [`shift_before`] / [`shift_after`]). Bulk paths
//! (first build, repair, import) compute them from the counters ([`rebuild_from_counters`]);
//! `check --stats` compares them with a recomputation from the registry.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use memberflow_workflow::stats::{self as core, AnchorDay, UnitSpan};
use sea_orm::sea_query::{Alias, Expr, Iden, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::counters::{Counters, internal, lock_counters, mark_built, rows_per_insert};
use super::entity::{stat_admission, stat_counter, stat_membership, stat_rollup};
use crate::entity::{unit, unit_parent};
use crate::error::Result;
use crate::loader::{BulkWrite, PgLoad, try_copy, try_copy_add};

/// The name of the aggregate counter for `anchor` in `stat_counter`.
pub(crate) fn rollup_counter(anchor: AnchorDay) -> String {
    format!("{}{anchor}", super::counters::ROLLUP_PREFIX)
}

/// `(unit, year) → (base, admitted)`.
pub(crate) type Values = BTreeMap<(Uuid, i32), (i64, i64)>;

fn covers(from: NaiveDate, to: Option<NaiveDate>, d: NaiveDate) -> bool {
    from <= d && to.is_none_or(|t| d < t)
}

/// 31 December of `year`: the day whose tree a year's aggregates are added up on.
pub(crate) fn year_end(year: i32) -> NaiveDate {
    core::year_bounds(year).1
}

/// Units and their dated parent links, all of them or those around some units: enough to
/// tell, for any date, the unit standing for a unit and its ancestors.
#[derive(Debug, Default)]
pub(crate) struct LocalTree {
    spans: HashMap<Uuid, UnitSpan<Uuid>>,
    parents: HashMap<Uuid, Vec<(Uuid, NaiveDate, Option<NaiveDate>)>>,
    last_change: Option<NaiveDate>,
}

/// A unit as the tree reads it: id, period, successor.
pub(crate) type UnitRow = (Uuid, NaiveDate, Option<NaiveDate>, Option<Uuid>);
/// A parent link: unit, parent, period.
pub(crate) type EdgeRow = (Uuid, Uuid, NaiveDate, Option<NaiveDate>);

impl LocalTree {
    /// The whole tree.
    pub async fn load_all(c: &impl ConnectionTrait) -> Result<Self> {
        let units: Vec<UnitRow> = unit::Entity::find()
            .select_only()
            .column(unit::Column::Id)
            .column(unit::Column::ValidFrom)
            .column(unit::Column::ValidTo)
            .column(unit::Column::SuccessorId)
            .into_tuple()
            .all(c)
            .await?;
        let edges: Vec<EdgeRow> = unit_parent::Entity::find()
            .select_only()
            .column(unit_parent::Column::UnitId)
            .column(unit_parent::Column::ParentId)
            .column(unit_parent::Column::ValidFrom)
            .column(unit_parent::Column::ValidTo)
            .into_tuple()
            .all(c)
            .await?;
        Ok(Self::from_rows(units, edges))
    }

    /// `ids` and every unit that ever stood above them or took them over.
    pub async fn around(c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Self> {
        let (units, edges) = Self::rows_around(c, ids).await?;
        Ok(Self::from_rows(units, edges))
    }

    /// A bulk load's new units (`units`: id, period, successor; `edges`: their parent links,
    /// those to units outside the batch included) with everything around the units outside it
    /// they hang under (`outside`): the batch's part of the tree is taken from memory, and only
    /// the lineage of `outside` is read, whatever the size of the tree already stored.
    pub(crate) async fn with_new_units(
        c: &impl ConnectionTrait,
        mut units: Vec<UnitRow>,
        mut edges: Vec<EdgeRow>,
        outside: &[Uuid],
    ) -> Result<Self> {
        let (known_units, known_edges) = Self::rows_around(c, outside).await?;
        units.extend(known_units);
        edges.extend(known_edges);
        Ok(Self::from_rows(units, edges))
    }

    async fn rows_around(
        c: &impl ConnectionTrait,
        ids: &[Uuid],
    ) -> Result<(Vec<UnitRow>, Vec<EdgeRow>)> {
        if ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let all = crate::tree::lineage(c, ids).await?;
        let mut units: Vec<UnitRow> = Vec::with_capacity(all.len());
        let mut edges: Vec<EdgeRow> = Vec::new();
        for chunk in all.chunks(500) {
            units.extend(
                unit::Entity::find()
                    .select_only()
                    .column(unit::Column::Id)
                    .column(unit::Column::ValidFrom)
                    .column(unit::Column::ValidTo)
                    .column(unit::Column::SuccessorId)
                    .filter(unit::Column::Id.is_in(chunk.iter().copied()))
                    .into_tuple::<UnitRow>()
                    .all(c)
                    .await?,
            );
            edges.extend(
                unit_parent::Entity::find()
                    .select_only()
                    .column(unit_parent::Column::UnitId)
                    .column(unit_parent::Column::ParentId)
                    .column(unit_parent::Column::ValidFrom)
                    .column(unit_parent::Column::ValidTo)
                    .filter(unit_parent::Column::UnitId.is_in(chunk.iter().copied()))
                    .into_tuple::<EdgeRow>()
                    .all(c)
                    .await?,
            );
        }
        Ok((units, edges))
    }

    fn from_rows(units: Vec<UnitRow>, edges: Vec<EdgeRow>) -> Self {
        let mut parents: HashMap<Uuid, Vec<(Uuid, NaiveDate, Option<NaiveDate>)>> = HashMap::new();
        let mut last_change: Option<NaiveDate> = None;
        let mut note = |d: NaiveDate| {
            if last_change.is_none_or(|l| d > l) {
                last_change = Some(d);
            }
        };
        for (child, parent, from, to) in edges {
            note(from);
            if let Some(t) = to {
                note(t);
            }
            parents.entry(child).or_default().push((parent, from, to));
        }
        let mut spans = HashMap::with_capacity(units.len());
        for (id, from, to, successor) in units {
            note(from);
            if let Some(t) = to {
                note(t);
            }
            let last_parent = to.and_then(|end| end.pred_opt()).and_then(|last| {
                parents.get(&id).and_then(|ps| {
                    ps.iter()
                        .find(|(_, f, t)| covers(*f, *t, last))
                        .map(|p| p.0)
                })
            });
            spans.insert(
                id,
                UnitSpan {
                    valid_from: from,
                    valid_to: to,
                    successor,
                    last_parent,
                },
            );
        }
        LocalTree {
            spans,
            parents,
            last_change,
        }
    }

    /// The year of the latest dated change of the units loaded (a unit's start or end, a
    /// parent link's).
    pub fn last_change_year(&self) -> Option<i32> {
        self.last_change.map(|d| d.year())
    }

    /// Whether `id` has a recorded end.
    pub fn ends(&self, id: Uuid) -> bool {
        self.spans.get(&id).is_some_and(|s| s.valid_to.is_some())
    }

    fn exists_on(&self, id: Uuid, on: NaiveDate) -> bool {
        self.spans
            .get(&id)
            .is_some_and(|s| covers(s.valid_from, s.valid_to, on))
    }

    /// The unit standing for `id` on `on` and its ancestors that day, nearest first; `None`
    /// when nothing stands for it (not created yet).
    pub fn chain(&self, id: Uuid, on: NaiveDate) -> Option<Vec<Uuid>> {
        let rep = core::representative(id, &self.spans, on)?;
        let mut out = vec![rep];
        let mut cur = rep;
        for _ in 0..64 {
            let next = self.parents.get(&cur).and_then(|ps| {
                ps.iter()
                    .find(|(p, f, t)| covers(*f, *t, on) && self.exists_on(*p, on))
                    .map(|p| p.0)
            });
            match next {
                Some(p) if !out.contains(&p) => {
                    out.push(p);
                    cur = p;
                }
                _ => break,
            }
        }
        Some(out)
    }
}

/// The aggregate's counters: `(anchor, built, horizon)`.
fn rollups(counters: &Counters) -> Vec<(AnchorDay, Option<i32>)> {
    counters
        .rollups
        .iter()
        .filter(|r| r.1)
        .filter(|r| counters.anchors.iter().any(|a| a.0 == r.0 && a.1))
        .map(|r| (r.0, r.2))
        .collect()
}

async fn set_horizon(c: &impl ConnectionTrait, anchor: AnchorDay, h: Option<i32>) -> Result<()> {
    stat_counter::Entity::update_many()
        .col_expr(stat_counter::Column::Horizon, Expr::val(h))
        .filter(stat_counter::Column::Counter.eq(rollup_counter(anchor)))
        .exec(c)
        .await?;
    Ok(())
}

/// Makes the rows of `anchor` reach `to`: each later year is the horizon's members with no
/// admission (nothing after the horizon changes). Returns the horizon.
async fn extend(
    c: &impl ConnectionTrait,
    anchor: AnchorDay,
    horizon: Option<i32>,
    to: i32,
) -> Result<i32> {
    let key = anchor.to_string();
    match horizon {
        Some(h) if h >= to => return Ok(h),
        Some(h) => {
            for y in h + 1..=to {
                let select = Query::select()
                    .column(stat_rollup::Column::Anchor)
                    .column(stat_rollup::Column::UnitId)
                    .expr(Expr::val(y))
                    .column(stat_rollup::Column::Base)
                    .expr(Expr::val(0i64))
                    .from(stat_rollup::Entity)
                    .and_where(stat_rollup::Column::Anchor.eq(key.as_str()))
                    .and_where(stat_rollup::Column::Year.eq(h))
                    .and_where(stat_rollup::Column::Base.ne(0))
                    .to_owned();
                let insert = Query::insert()
                    .into_table(stat_rollup::Entity)
                    .columns([
                        stat_rollup::Column::Anchor,
                        stat_rollup::Column::UnitId,
                        stat_rollup::Column::Year,
                        stat_rollup::Column::Base,
                        stat_rollup::Column::Admitted,
                    ])
                    .select_from(select)
                    .map_err(|e| internal(format!("cannot build an aggregate insert: {e}")))?
                    .to_owned();
                c.execute(&insert).await?;
            }
        }
        None => {}
    }
    set_horizon(c, anchor, Some(to)).await?;
    Ok(to)
}

/// Adds `(unit, year) → (base, admitted)` deltas, inserting the rows that are missing.
async fn add(c: &impl ConnectionTrait, anchor: AnchorDay, deltas: &Values) -> Result<()> {
    add_via(c, None, anchor, deltas, None).await
}

/// [`add`], through one COPY and one upsert when `copier` is the PostgreSQL bulk loader. The
/// rows of `fresh` units (a bulk load's new units, which have no row yet) are copied straight
/// into the table; only the others are upserted.
async fn add_via(
    c: &impl ConnectionTrait,
    copier: Option<&PgLoad>,
    anchor: AnchorDay,
    deltas: &Values,
    fresh: Option<&HashSet<Uuid>>,
) -> Result<()> {
    let key = anchor.to_string();
    let mut rows: Vec<_> = deltas
        .iter()
        .filter(|(_, v)| v.0 != 0 || v.1 != 0)
        .collect();
    if let (Some(pg), Some(fresh)) = (copier, fresh) {
        let (new, old): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|((u, _), _)| fresh.contains(u));
        let columns: Vec<String> = [
            stat_rollup::Column::Anchor,
            stat_rollup::Column::UnitId,
            stat_rollup::Column::Year,
            stat_rollup::Column::Base,
            stat_rollup::Column::Admitted,
        ]
        .iter()
        .map(Iden::to_string)
        .collect();
        let copied = try_copy(pg, "stat_rollup", &columns, &new, &|((u, y), (b, a))| {
            vec![
                key.as_str().into(),
                (*u).into(),
                (*y).into(),
                (*b).into(),
                (*a).into(),
            ]
        })
        .await?;
        rows = if copied {
            old
        } else {
            new.into_iter().chain(old).collect()
        };
    }
    let columns: Vec<String> = [
        stat_rollup::Column::Anchor,
        stat_rollup::Column::UnitId,
        stat_rollup::Column::Year,
        stat_rollup::Column::Base,
        stat_rollup::Column::Admitted,
    ]
    .iter()
    .map(Iden::to_string)
    .collect();
    if try_copy_add(
        copier,
        "stat_rollup",
        &columns,
        &["anchor", "unit_id", "year"],
        &["base", "admitted"],
        &rows,
        &|((u, y), (b, a))| {
            vec![
                key.as_str().into(),
                (*u).into(),
                (*y).into(),
                (*b).into(),
                (*a).into(),
            ]
        },
    )
    .await?
    {
        return Ok(());
    }
    for chunk in rows.chunks(rows_per_insert(c.get_database_backend(), 5)) {
        let mut insert = Query::insert();
        insert.into_table(stat_rollup::Entity).columns([
            stat_rollup::Column::Anchor,
            stat_rollup::Column::UnitId,
            stat_rollup::Column::Year,
            stat_rollup::Column::Base,
            stat_rollup::Column::Admitted,
        ]);
        for ((u, y), (b, a)) in chunk {
            insert
                .values([
                    key.as_str().into(),
                    (*u).into(),
                    (*y).into(),
                    (*b).into(),
                    (*a).into(),
                ])
                .map_err(|e| internal(format!("cannot build an aggregate insert: {e}")))?;
        }
        let plus = |col: stat_rollup::Column| {
            Expr::col((stat_rollup::Entity, col)).add(Expr::col((Alias::new("excluded"), col)))
        };
        insert.on_conflict(
            OnConflict::columns([
                stat_rollup::Column::Anchor,
                stat_rollup::Column::UnitId,
                stat_rollup::Column::Year,
            ])
            .value(stat_rollup::Column::Base, plus(stat_rollup::Column::Base))
            .value(
                stat_rollup::Column::Admitted,
                plus(stat_rollup::Column::Admitted),
            )
            .to_owned(),
        );
        c.execute(&insert).await?;
    }
    Ok(())
}

/// Changes of units' own figures: `membership` (per anchor: unit → bucket → delta of the
/// members counted on the anchor day of every year from the bucket on) and `admissions`
/// ((unit, year) → delta).
pub(crate) struct OwnChanges<'a> {
    pub membership: &'a HashMap<AnchorDay, BTreeMap<Uuid, BTreeMap<i32, i64>>>,
    pub admissions: &'a BTreeMap<(Uuid, i32), i64>,
    /// The year of the latest tree change made with them (bulk loads), if any.
    pub tree_changed: Option<i32>,
}

/// Adds changes of units' own figures (already written to the counters, under their lock) to
/// the aggregates: each to the unit standing for its unit on each year's last day and to that
/// unit's ancestors then.
pub(crate) async fn apply_own(
    c: &impl ConnectionTrait,
    counters: &Counters,
    changes: &OwnChanges<'_>,
) -> Result<()> {
    apply_own_via(c, None, counters, changes, None).await
}

/// A bulk load's new units: the tree around them (built from the batch, see
/// [`LocalTree::with_new_units`]) and their ids, which have no aggregate row yet.
pub(crate) struct NewUnits<'a> {
    pub tree: &'a LocalTree,
    pub ids: &'a HashSet<Uuid>,
}

/// [`apply_own`], the aggregates' rows added through `copier` when it is the PostgreSQL bulk
/// loader (one COPY and one upsert per anchor). With `new`, the chains are walked on its tree
/// instead of one read from the database, and the rows of its units are copied, not upserted.
pub(crate) async fn apply_own_via(
    c: &impl ConnectionTrait,
    copier: Option<&PgLoad>,
    counters: &Counters,
    changes: &OwnChanges<'_>,
    new: Option<NewUnits<'_>>,
) -> Result<()> {
    let kept = rollups(counters);
    if kept.is_empty() {
        return Ok(());
    }
    let mut seeds: Vec<Uuid> = changes.admissions.keys().map(|k| k.0).collect();
    for per_unit in changes.membership.values() {
        seeds.extend(per_unit.keys().copied());
    }
    seeds.sort_unstable();
    seeds.dedup();
    if seeds.is_empty() && changes.tree_changed.is_none() {
        return Ok(());
    }
    let read;
    let tree = match &new {
        Some(n) => n.tree,
        None => {
            read = LocalTree::around(c, &seeds).await?;
            &read
        }
    };
    let mut chains: HashMap<(Uuid, i32), Option<Vec<Uuid>>> = HashMap::new();
    for (anchor, horizon) in kept {
        let empty = BTreeMap::new();
        let membership = changes.membership.get(&anchor).unwrap_or(&empty);
        let mut needed = horizon;
        let mut need = |y: i32| {
            if needed.is_none_or(|h| y > h) {
                needed = Some(y);
            }
        };
        for buckets in membership.values() {
            for (b, d) in buckets {
                if *d != 0 {
                    need(b + 1);
                }
            }
        }
        for ((_, y), d) in changes.admissions {
            if *d != 0 {
                need(*y);
            }
        }
        if let Some(y) = changes.tree_changed {
            need(y);
        }
        let Some(to) = needed else { continue };
        let h = extend(c, anchor, horizon, to).await?;
        let mut deltas: Values = BTreeMap::new();
        let mut add_to = |unit: Uuid, year: i32, base: i64, admitted: i64| {
            let chain = chains
                .entry((unit, year))
                .or_insert_with(|| tree.chain(unit, year_end(year)));
            for u in chain.iter().flatten() {
                let v = deltas.entry((*u, year)).or_default();
                v.0 += base;
                v.1 += admitted;
            }
        };
        // A bucket's delta counts in every year after it: the deltas of a unit are cumulated
        // first, so that each (unit, year) walks its chain once, whatever its buckets.
        for (unit, buckets) in membership {
            let mut changes = buckets.iter().filter(|(_, d)| **d != 0).peekable();
            let Some((first, _)) = changes.peek() else {
                continue;
            };
            let mut running = 0i64;
            for year in **first + 1..=h {
                while let Some((_, d)) = changes.next_if(|(b, _)| **b < year) {
                    running += *d;
                }
                if running != 0 {
                    add_to(*unit, year, running, 0);
                }
            }
        }
        for ((unit, year), d) in changes.admissions {
            if *d != 0 {
                add_to(*unit, *year, 0, *d);
            }
        }
        add_via(c, copier, anchor, &deltas, new.as_ref().map(|n| n.ids)).await?;
    }
    Ok(())
}

/// Makes every kept aggregate reach `year` (a dated change of the tree in that year).
pub(crate) async fn reach(c: &impl ConnectionTrait, year: i32) -> Result<()> {
    let counters = lock_counters(c).await?;
    for (anchor, horizon) in rollups(&counters) {
        extend(c, anchor, horizon, year).await?;
    }
    Ok(())
}

/// A year of a moved unit's figures and its chain before the move.
type ShiftRow = (i32, i64, i64, Vec<Uuid>);

/// A change of where a unit stands from a date on, recorded before the change is written.
pub(crate) struct Shift {
    unit: Uuid,
    from_year: i32,
    /// Per anchor: `(year, base, admitted, the unit's chain that year before the change)`.
    rows: Vec<(AnchorDay, Vec<ShiftRow>)>,
    /// Recompute the years from the counters instead (a unit with a recorded end).
    recompute: bool,
}

/// Before `unit` moves, is merged or dissolved on `d`: its subtree figures of every year
/// whose last day is on or after `d`, and its ancestors then.
pub(crate) async fn shift_before(
    c: &impl ConnectionTrait,
    unit: Uuid,
    d: NaiveDate,
) -> Result<Option<Shift>> {
    let from_year = d.year();
    reach(c, from_year).await?;
    let counters = lock_counters(c).await?;
    let kept = rollups(&counters);
    if kept.is_empty() {
        return Ok(None);
    }
    let tree = LocalTree::around(c, &[unit]).await?;
    let mut shift = Shift {
        unit,
        from_year,
        rows: Vec::new(),
        recompute: tree.ends(unit),
    };
    if shift.recompute {
        return Ok(Some(shift));
    }
    for (anchor, _) in kept {
        let rows: Vec<(i32, i64, i64)> = stat_rollup::Entity::find()
            .select_only()
            .column(stat_rollup::Column::Year)
            .column(stat_rollup::Column::Base)
            .column(stat_rollup::Column::Admitted)
            .filter(stat_rollup::Column::Anchor.eq(anchor.to_string()))
            .filter(stat_rollup::Column::UnitId.eq(unit))
            .filter(stat_rollup::Column::Year.gte(from_year))
            .into_tuple()
            .all(c)
            .await?;
        let mut out = Vec::new();
        for (y, b, a) in rows {
            if b == 0 && a == 0 {
                continue;
            }
            let chain = tree.chain(unit, year_end(y)).unwrap_or_default();
            if chain.first() != Some(&unit) {
                shift.recompute = true;
            }
            out.push((y, b, a, chain));
        }
        shift.rows.push((anchor, out));
    }
    Ok(Some(shift))
}

/// After the change: the figures recorded are taken off the old chain and added to the new
/// one (the unit itself, its successor or its last parent, and their ancestors).
pub(crate) async fn shift_after(c: &impl ConnectionTrait, shift: Option<Shift>) -> Result<()> {
    let Some(shift) = shift else { return Ok(()) };
    if shift.recompute {
        let anchors: Vec<AnchorDay> = rollups(&lock_counters(c).await?)
            .into_iter()
            .map(|r| r.0)
            .collect();
        return rebuild_from_counters(c, &anchors, Some(shift.from_year)).await;
    }
    let tree = LocalTree::around(c, &[shift.unit]).await?;
    for (anchor, rows) in shift.rows {
        let mut deltas: Values = BTreeMap::new();
        for (y, b, a, old) in rows {
            for u in old {
                let v = deltas.entry((u, y)).or_default();
                v.0 -= b;
                v.1 -= a;
            }
            for u in tree.chain(shift.unit, year_end(y)).unwrap_or_default() {
                let v = deltas.entry((u, y)).or_default();
                v.0 += b;
                v.1 += a;
            }
        }
        add(c, anchor, &deltas).await?;
    }
    Ok(())
}

/// The aggregates implied by counters: `membership` (unit → year → members on the anchor day,
/// dense from the unit's first member to `horizon`), `admissions`, on `tree`. Years from
/// `from` (all when `None`) to the aggregate's horizon, which is at least `min_horizon`.
pub(crate) fn compute(
    tree: &LocalTree,
    membership: &HashMap<Uuid, BTreeMap<i32, i64>>,
    horizon: Option<i32>,
    admissions: &BTreeMap<(Uuid, i32), i64>,
    min_horizon: Option<i32>,
    from: Option<i32>,
) -> (Option<i32>, Values) {
    let h_needed = [
        horizon.map(|h| h + 1),
        admissions.keys().map(|k| k.1).max(),
        tree.last_change_year(),
        min_horizon,
    ]
    .into_iter()
    .flatten()
    .max();
    let mut out: Values = BTreeMap::new();
    let Some(h_rollup) = h_needed else {
        return (None, out);
    };
    let first_member = membership
        .values()
        .filter_map(|m| m.iter().find(|(_, n)| **n != 0).map(|(y, _)| y + 1))
        .min();
    let first_admission = admissions.keys().map(|k| k.1).min();
    let Some(mut start) = [first_member, first_admission].into_iter().flatten().min() else {
        return (Some(h_rollup), out);
    };
    if let Some(f) = from {
        start = std::cmp::max(start, f);
    }
    let mut by_year: HashMap<i32, Vec<(Uuid, i64)>> = HashMap::new();
    for ((u, y), n) in admissions {
        if *n != 0 && *y >= start {
            by_year.entry(*y).or_default().push((*u, *n));
        }
    }
    for year in start..=h_rollup {
        let on = year_end(year);
        let base_year = horizon.map(|h| std::cmp::min(year - 1, h));
        for (unit, rows) in membership {
            let n = base_year.and_then(|y| rows.get(&y).copied()).unwrap_or(0);
            if n == 0 {
                continue;
            }
            for u in tree.chain(*unit, on).into_iter().flatten() {
                out.entry((u, year)).or_default().0 += n;
            }
        }
        for (unit, n) in by_year.get(&year).map(Vec::as_slice).unwrap_or_default() {
            for u in tree.chain(*unit, on).into_iter().flatten() {
                out.entry((u, year)).or_default().1 += n;
            }
        }
    }
    out.retain(|_, v| v.0 != 0 || v.1 != 0);
    (Some(h_rollup), out)
}

/// Rebuilds the aggregates of `anchors` from the stored counters (the years from `from` on,
/// every year when `None`), inside `c`'s transaction, and marks them built.
pub(crate) async fn rebuild_from_counters(
    c: &impl ConnectionTrait,
    anchors: &[AnchorDay],
    from: Option<i32>,
) -> Result<()> {
    rebuild_from_counters_via(c, None, anchors, from).await
}

/// [`rebuild_from_counters`], the rows of each anchor written with one COPY when `copier` is
/// the PostgreSQL bulk loader.
pub(crate) async fn rebuild_from_counters_via(
    c: &impl ConnectionTrait,
    copier: Option<&PgLoad>,
    anchors: &[AnchorDay],
    from: Option<i32>,
) -> Result<()> {
    if anchors.is_empty() {
        return Ok(());
    }
    let counters = lock_counters(c).await?;
    let tree = LocalTree::load_all(c).await?;
    let mut admissions: BTreeMap<(Uuid, i32), i64> = BTreeMap::new();
    let rows: Vec<(Uuid, i32, i64)> = stat_admission::Entity::find()
        .select_only()
        .column(stat_admission::Column::UnitId)
        .column(stat_admission::Column::Year)
        .column(stat_admission::Column::Admitted)
        .into_tuple()
        .all(c)
        .await?;
    for (u, y, n) in rows {
        admissions.insert((u, y), n);
    }
    for &anchor in anchors {
        let key = anchor.to_string();
        let horizon = counters
            .anchors
            .iter()
            .find(|a| a.0 == anchor)
            .and_then(|a| a.2);
        let old = counters
            .rollups
            .iter()
            .find(|r| r.0 == anchor)
            .and_then(|r| r.2);
        let mut membership: HashMap<Uuid, BTreeMap<i32, i64>> = HashMap::new();
        let rows: Vec<(Uuid, i32, i64)> = stat_membership::Entity::find()
            .select_only()
            .column(stat_membership::Column::UnitId)
            .column(stat_membership::Column::Year)
            .column(stat_membership::Column::Members)
            .filter(stat_membership::Column::Anchor.eq(key.as_str()))
            .into_tuple()
            .all(c)
            .await?;
        for (u, y, n) in rows {
            membership.entry(u).or_default().insert(y, n);
        }
        let keep_old = from.and(old);
        let (h, values) = compute(&tree, &membership, horizon, &admissions, keep_old, from);
        let mut delete =
            stat_rollup::Entity::delete_many().filter(stat_rollup::Column::Anchor.eq(key.as_str()));
        if let Some(f) = from {
            delete = delete.filter(stat_rollup::Column::Year.gte(f));
        }
        delete.exec(c).await?;
        add_via(c, copier, anchor, &values, None).await?;
        mark_built(c, rollup_counter(anchor), h).await?;
    }
    Ok(())
}

/// Rebuilds every kept aggregate from the counters (after a bulk change such as an import).
pub(crate) async fn rebuild_kept(c: &impl BulkWrite) -> Result<()> {
    let counters = lock_counters(c).await?;
    if !counters.admissions_built {
        return Ok(());
    }
    let anchors: Vec<AnchorDay> = rollups(&counters).into_iter().map(|r| r.0).collect();
    rebuild_from_counters_via(c, c.copier(), &anchors, None).await
}

/// The aggregates of `units` for the target of `year`: `(base, admitted)` each (zeros for a
/// unit without a row). `None` when the aggregate of `anchor` is not built.
pub(crate) async fn read(
    c: &impl ConnectionTrait,
    counters: &Counters,
    anchor: AnchorDay,
    units: &[Uuid],
    year: i32,
) -> Result<Option<HashMap<Uuid, (u64, u64)>>> {
    let Some((_, horizon)) = rollups(counters).into_iter().find(|r| r.0 == anchor) else {
        return Ok(None);
    };
    let mut out: HashMap<Uuid, (u64, u64)> = HashMap::with_capacity(units.len());
    let Some(h) = horizon else {
        return Ok(Some(out));
    };
    let row_year = std::cmp::min(year, h);
    for chunk in units.chunks(500) {
        let rows: Vec<(Uuid, i64, i64)> = stat_rollup::Entity::find()
            .select_only()
            .column(stat_rollup::Column::UnitId)
            .column(stat_rollup::Column::Base)
            .column(stat_rollup::Column::Admitted)
            .filter(stat_rollup::Column::Anchor.eq(anchor.to_string()))
            .filter(stat_rollup::Column::Year.eq(row_year))
            .filter(stat_rollup::Column::UnitId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(c)
            .await?;
        for (u, b, a) in rows {
            let admitted = if year > h { 0 } else { a };
            out.insert(
                u,
                (
                    u64::try_from(b).unwrap_or(0),
                    u64::try_from(admitted).unwrap_or(0),
                ),
            );
        }
    }
    Ok(Some(out))
}

/// Whether the tree changes on a day in `(after, to]`: a unit starts or ends, a parent link
/// opens or closes (four indexed reads).
pub(crate) async fn tree_changes_within(
    c: &impl ConnectionTrait,
    after: NaiveDate,
    to: NaiveDate,
) -> Result<bool> {
    if to <= after {
        return Ok(false);
    }
    for col in [unit::Column::ValidFrom, unit::Column::ValidTo] {
        let hit: Option<Uuid> = unit::Entity::find()
            .select_only()
            .column(unit::Column::Id)
            .filter(col.gt(after))
            .filter(col.lte(to))
            .limit(1)
            .into_tuple()
            .one(c)
            .await?;
        if hit.is_some() {
            return Ok(true);
        }
    }
    for col in [unit_parent::Column::ValidFrom, unit_parent::Column::ValidTo] {
        let hit: Option<i64> = unit_parent::Entity::find()
            .select_only()
            .column(unit_parent::Column::Id)
            .filter(col.gt(after))
            .filter(col.lte(to))
            .limit(1)
            .into_tuple()
            .one(c)
            .await?;
        if hit.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}
