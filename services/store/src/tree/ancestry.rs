//! The tree's ancestry kept as data (the `unit_ancestry` table, a temporal closure table):
//! the one place that answers "the ancestors of a unit on a date" and "the subtree of a unit
//! on a date", and the one place that writes it.
//!
//! Every tree write (create, move, merge, dissolve, import, the demos' bulk loading) calls
//! [`refresh`] (or [`rebuild`]) in its own transaction with the units whose period or parent
//! links it changed; their rows and those of every unit below them are computed again by the
//! core (`memberflow_workflow::tree::ancestry_rows`) from `unit` and `unit_parent`. `memberflow
//! check --history` recomputes the whole table and reports any difference ([`Tree::verify_ancestry`]).
//! Each of them also tells the processes that cache paths to the root (`crate::changes`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use memberflow_workflow::tree::{AncestryRow, ParentLink, UnitSpan, ancestry_rows};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::Tree;
use crate::changes::{Topic, notify};
use crate::entity::{unit, unit_ancestry, unit_parent};
use crate::error::{Result, StoreError};
use crate::loader::BulkWrite;
use crate::records::UnitRecord;
use crate::stats::bulk::{cols, insert_rows};

/// Ids per `IN (…)` list: within both databases' limits on bound parameters.
const CHUNK: usize = 500;

/// How long a path read from the database is reused at most, tree changes aside.
const PATH_TTL: Duration = Duration::from_secs(60);

/// Paths kept at most; past it the cache starts again empty.
const PATH_CACHE_MAX: usize = 50_000;

/// Paths to the root of units on a day, read recently ([`Tree::paths_on`]): used only while
/// this process hears the tree's changes and no change came since the read
/// (`crate::changes`), and within [`PATH_TTL`] of it.
#[derive(Debug, Default)]
pub(crate) struct PathCache(Mutex<HashMap<(Uuid, NaiveDate), CachedPath>>);

#[derive(Debug)]
struct CachedPath {
    generation: u64,
    read_at: Instant,
    path: Arc<Vec<UnitRecord>>,
}

impl PathCache {
    /// The cached paths of `ids` on `d` read under `generation`, into `out`; the ids missing.
    fn take(
        &self,
        ids: &[Uuid],
        d: NaiveDate,
        generation: u64,
        out: &mut HashMap<Uuid, Vec<UnitRecord>>,
    ) -> Vec<Uuid> {
        let Ok(m) = self.0.lock() else {
            return ids.to_vec();
        };
        ids.iter()
            .filter(|id| {
                match m
                    .get(&(**id, d))
                    .filter(|c| c.generation == generation && c.read_at.elapsed() < PATH_TTL)
                {
                    Some(c) => {
                        out.insert(**id, c.path.as_ref().clone());
                        false
                    }
                    None => true,
                }
            })
            .copied()
            .collect()
    }

    fn put(&self, paths: &HashMap<Uuid, Vec<UnitRecord>>, d: NaiveDate, generation: u64) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() + paths.len() > PATH_CACHE_MAX {
                m.clear();
            }
            let read_at = Instant::now();
            for (id, path) in paths {
                m.insert(
                    (*id, d),
                    CachedPath {
                        generation,
                        read_at,
                        path: Arc::new(path.clone()),
                    },
                );
            }
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }
}

/// Rows of `unit_ancestry` valid on `d`.
pub(crate) fn valid_on(d: NaiveDate) -> Condition {
    crate::tree::valid_on(
        unit_ancestry::Column::ValidFrom,
        unit_ancestry::Column::ValidTo,
        d,
    )
}

/// Rows of `unit_ancestry` that place a unit on `d` for its cases: those valid on `d`, and,
/// for a unit that has ended (dissolved, merged) by `d`, those of its last day (the rows that
/// end with the unit). A case of an ended unit stays with the bodies above it on that day, as
/// a step on it resolves its roles (`api::access::case_path`).
///
/// The row ends with its unit when the unit's own end is the row's: an `EXISTS` probing the
/// unit by its key, where an `IN (SELECT valid_to …)` built a list for every row it looked at
/// (a district's open cases read in 1.7 ms instead of 3.9, the `sqlite3` shell).
pub(crate) fn placed_on(d: NaiveDate) -> Condition {
    let ends_with_unit = Query::select()
        .expr(Expr::val(1))
        .from(unit::Entity)
        .and_where(
            Expr::col((unit::Entity, unit::Column::Id))
                .equals((unit_ancestry::Entity, unit_ancestry::Column::UnitId)),
        )
        .and_where(
            Expr::col((unit::Entity, unit::Column::ValidTo))
                .equals((unit_ancestry::Entity, unit_ancestry::Column::ValidTo)),
        )
        .to_owned();
    Condition::any().add(valid_on(d)).add(
        Condition::all()
            .add(unit_ancestry::Column::ValidTo.lte(d))
            .add(Expr::exists(ends_with_unit)),
    )
}

fn to_row(m: &unit_ancestry::Model) -> AncestryRow<Uuid> {
    AncestryRow {
        unit: m.unit_id,
        ancestor: m.ancestor_id,
        depth: u32::try_from(m.depth).unwrap_or_default(),
        from: m.valid_from,
        to: m.valid_to,
    }
}

async fn spans(c: &impl ConnectionTrait, ids: Option<&[Uuid]>) -> Result<Vec<UnitSpan<Uuid>>> {
    let q = || {
        unit::Entity::find()
            .select_only()
            .column(unit::Column::Id)
            .column(unit::Column::ValidFrom)
            .column(unit::Column::ValidTo)
    };
    let mut out = Vec::new();
    let rows: Vec<(Uuid, NaiveDate, Option<NaiveDate>)> = match ids {
        None => q().into_tuple().all(c).await?,
        Some(ids) => {
            let mut v = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                v.extend(
                    q().filter(unit::Column::Id.is_in(chunk.iter().copied()))
                        .into_tuple::<(Uuid, NaiveDate, Option<NaiveDate>)>()
                        .all(c)
                        .await?,
                );
            }
            v
        }
    };
    for (id, from, to) in rows {
        out.push(UnitSpan { id, from, to });
    }
    Ok(out)
}

async fn links(c: &impl ConnectionTrait, ids: Option<&[Uuid]>) -> Result<Vec<ParentLink<Uuid>>> {
    let q = || {
        unit_parent::Entity::find()
            .select_only()
            .column(unit_parent::Column::UnitId)
            .column(unit_parent::Column::ParentId)
            .column(unit_parent::Column::ValidFrom)
            .column(unit_parent::Column::ValidTo)
    };
    let rows: Vec<(Uuid, Uuid, NaiveDate, Option<NaiveDate>)> = match ids {
        None => q().into_tuple().all(c).await?,
        Some(ids) => {
            let mut v = Vec::new();
            for chunk in ids.chunks(CHUNK) {
                v.extend(
                    q().filter(unit_parent::Column::UnitId.is_in(chunk.iter().copied()))
                        .into_tuple::<(Uuid, Uuid, NaiveDate, Option<NaiveDate>)>()
                        .all(c)
                        .await?,
                );
            }
            v
        }
    };
    Ok(rows
        .into_iter()
        .map(|(unit, parent, from, to)| ParentLink {
            unit,
            parent,
            from,
            to,
        })
        .collect())
}

async fn insert(c: &impl BulkWrite, rows: &[AncestryRow<Uuid>]) -> Result<()> {
    insert_rows(
        c,
        unit_ancestry::Entity,
        cols(vec![
            unit_ancestry::Column::UnitId,
            unit_ancestry::Column::AncestorId,
            unit_ancestry::Column::Depth,
            unit_ancestry::Column::ValidFrom,
            unit_ancestry::Column::ValidTo,
        ]),
        rows,
        |r| {
            vec![
                r.unit.into(),
                r.ancestor.into(),
                i32::try_from(r.depth).unwrap_or(i32::MAX).into(),
                r.from.into(),
                r.to.into(),
            ]
        },
        &mut |_, _, _| {},
        "ancestry",
    )
    .await
}

/// Rewrites the ancestry of `changed` (units created, or whose period or parent links
/// changed) and of every unit that was ever below them, in the caller's transaction.
pub(crate) async fn refresh(c: &impl BulkWrite, changed: &[Uuid]) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    notify(c, Topic::Tree).await?;
    // Who is below a changed unit does not depend on the unit's own links, so the rows as
    // they stand still name every descendant.
    let mut set: HashSet<Uuid> = changed.iter().copied().collect();
    for chunk in changed.chunks(CHUNK) {
        let below: Vec<Uuid> = unit_ancestry::Entity::find()
            .select_only()
            .column(unit_ancestry::Column::UnitId)
            .distinct()
            .filter(unit_ancestry::Column::AncestorId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(c)
            .await?;
        set.extend(below);
    }
    let ids: Vec<Uuid> = set.iter().copied().collect();
    let units = spans(c, Some(&ids)).await?;
    let links = links(c, Some(&ids)).await?;
    let known = rows_above(c, &links, &set).await?;
    let rows = ancestry_rows(&units, &links, &known);
    for chunk in ids.chunks(CHUNK) {
        unit_ancestry::Entity::delete_many()
            .filter(unit_ancestry::Column::UnitId.is_in(chunk.iter().copied()))
            .exec(c)
            .await?;
    }
    insert(c, &rows).await
}

/// The ancestry of units a bulk load has just created (`units`, and `links`: their parent
/// links, those to units outside the load included), which no row names yet: what [`refresh`]
/// writes for them, from the load's own data rather than read back (a new unit has nobody
/// below it and no row to delete); only the rows of the units outside it hangs under are read.
pub(crate) async fn insert_new(
    c: &impl BulkWrite,
    units: &[UnitSpan<Uuid>],
    links: &[ParentLink<Uuid>],
) -> Result<()> {
    if units.is_empty() {
        return Ok(());
    }
    let ids: HashSet<Uuid> = units.iter().map(|u| u.id).collect();
    let known = rows_above(c, links, &ids).await?;
    insert(c, &ancestry_rows(units, links, &known)).await
}

/// The ancestry rows of the parents `links` name outside `inside`: what the rows of the units
/// inside are computed on top of.
async fn rows_above(
    c: &impl ConnectionTrait,
    links: &[ParentLink<Uuid>],
    inside: &HashSet<Uuid>,
) -> Result<Vec<AncestryRow<Uuid>>> {
    let outside: Vec<Uuid> = links
        .iter()
        .map(|l| l.parent)
        .filter(|p| !inside.contains(p))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut known = Vec::new();
    for chunk in outside.chunks(CHUNK) {
        known.extend(
            unit_ancestry::Entity::find()
                .filter(unit_ancestry::Column::UnitId.is_in(chunk.iter().copied()))
                .all(c)
                .await?
                .iter()
                .map(to_row),
        );
    }
    Ok(known)
}

/// Rewrites the whole table from `unit` and `unit_parent` (after an import).
pub(crate) async fn rebuild(c: &impl BulkWrite) -> Result<()> {
    notify(c, Topic::Tree).await?;
    let rows = ancestry_rows(&spans(c, None).await?, &links(c, None).await?, &[]);
    unit_ancestry::Entity::delete_many().exec(c).await?;
    insert(c, &rows).await
}

/// A difference between the ancestry table and the parent links, found by
/// [`Tree::verify_ancestry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AncestryProblem {
    /// The unit.
    pub unit_id: Uuid,
    /// What is wrong, in English.
    pub problem: String,
}

/// The paths of `ids` on `d` as [`Tree::paths_on`] gives them, read through `c`.
async fn read_paths(
    c: &impl ConnectionTrait,
    ids: &[Uuid],
    d: NaiveDate,
) -> Result<HashMap<Uuid, Vec<UnitRecord>>> {
    let mut out: HashMap<Uuid, Vec<UnitRecord>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = unit_ancestry::Entity::find()
            .filter(unit_ancestry::Column::UnitId.is_in(chunk.iter().copied()))
            .filter(valid_on(d))
            .order_by_asc(unit_ancestry::Column::UnitId)
            .order_by_asc(unit_ancestry::Column::Depth)
            .find_also_related(unit::Entity)
            .all(c)
            .await?;
        for (a, u) in rows {
            let u = u.ok_or_else(|| StoreError::not_found("unit", a.ancestor_id))?;
            out.entry(a.unit_id).or_default().push(u.try_into()?);
        }
    }
    // A path starts with its unit: units that do not exist on `d` have no rows that day.
    let missing: Vec<Uuid> = ids
        .iter()
        .filter(|id| {
            out.get(id)
                .is_none_or(|p| p.first().is_none_or(|u| u.id != **id))
        })
        .copied()
        .collect();
    if !missing.is_empty() {
        let found: Vec<UnitRecord> = unit::Entity::find()
            .filter(unit::Column::Id.is_in(missing.iter().copied()))
            .all(c)
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_>>()?;
        for id in missing {
            let u = found
                .iter()
                .find(|u| u.id == id)
                .cloned()
                .ok_or_else(|| StoreError::not_found("unit", id))?;
            out.insert(id, vec![u]);
        }
    }
    Ok(out)
}

impl Tree<'_> {
    /// The ancestors of `id` on `d`, nearest first (the unit itself not included).
    pub async fn ancestors_on(&self, id: Uuid, d: NaiveDate) -> Result<Vec<UnitRecord>> {
        let mut path = self
            .paths_on(&[id], d)
            .await?
            .remove(&id)
            .unwrap_or_default();
        if !path.is_empty() {
            path.remove(0);
        }
        Ok(path)
    }

    /// For each unit of `ids`: the unit and its ancestors on `d`, nearest first, in one read.
    /// A unit that does not exist on `d` has a path of itself alone; an unknown id is
    /// `NOT_FOUND`.
    pub async fn paths_on(
        &self,
        ids: &[Uuid],
        d: NaiveDate,
    ) -> Result<HashMap<Uuid, Vec<UnitRecord>>> {
        self.paths_via(self.db(), ids, d).await
    }

    /// [`Tree::paths_on`], what is not cached read through `c` (a transaction under way).
    pub(crate) async fn paths_via(
        &self,
        c: &impl ConnectionTrait,
        ids: &[Uuid],
        d: NaiveDate,
    ) -> Result<HashMap<Uuid, Vec<UnitRecord>>> {
        let generation = self.store.changes.generation(Topic::Tree);
        let mut known: HashMap<Uuid, Vec<UnitRecord>> = HashMap::new();
        let ids = match generation {
            Some(g) => self.store.paths.take(ids, d, g, &mut known),
            None => ids.to_vec(),
        };
        if ids.is_empty() {
            return Ok(known);
        }
        let out = read_paths(c, &ids, d).await?;
        if let Some(g) = generation {
            self.store.paths.put(&out, d, g);
        }
        known.extend(out);
        Ok(known)
    }

    /// The path a case of `unit` is placed on for `on` (authorization, lists): the unit's path
    /// on `on`, or, for a unit that has ended by `on`, its path on its last day.
    pub async fn case_path_on(&self, unit: Uuid, on: NaiveDate) -> Result<Vec<UnitRecord>> {
        self.case_path_via(self.db(), unit, on).await
    }

    /// [`Tree::case_path_on`] through `c`.
    pub(crate) async fn case_path_via(
        &self,
        c: &impl ConnectionTrait,
        unit: Uuid,
        on: NaiveDate,
    ) -> Result<Vec<UnitRecord>> {
        let mut path = self.paths_via(c, &[unit], on).await?.remove(&unit);
        if let Some([u]) = path.as_deref()
            && let Some(last) = u
                .valid_to
                .filter(|end| on >= *end)
                .and_then(|end| end.pred_opt())
        {
            path = self.paths_via(c, &[unit], last).await?.remove(&unit);
        }
        Ok(path.unwrap_or_default())
    }

    /// The ids of `id` and every unit below it on `d`: one index read.
    pub async fn subtree_ids_on(&self, id: Uuid, d: NaiveDate) -> Result<Vec<Uuid>> {
        self.units_below(id, d, valid_on(d)).await
    }

    /// The ids of the units whose cases stand under `id` on `d`: `id` and every unit below it
    /// that day, and every unit that has ended by `d` and stood below it on its last day
    /// ([`placed_on`]). One index read.
    pub async fn case_units_below(&self, id: Uuid, d: NaiveDate) -> Result<Vec<Uuid>> {
        self.units_below(id, d, placed_on(d)).await
    }

    /// The units of the ancestry rows under `id` that `rows` keeps (`valid_on(d)`,
    /// `placed_on(d)`).
    async fn units_below(&self, id: Uuid, d: NaiveDate, rows: Condition) -> Result<Vec<Uuid>> {
        let ids: Vec<Uuid> = unit_ancestry::Entity::find()
            .select_only()
            .column(unit_ancestry::Column::UnitId)
            .filter(unit_ancestry::Column::AncestorId.eq(id))
            .filter(rows)
            .into_tuple()
            .all(self.db())
            .await?;
        if ids.is_empty() {
            // The same answer as for any unit that does not exist that day.
            let u = self.unit(id).await?;
            crate::tree::check_exists(&u, d)?;
        }
        Ok(ids)
    }

    /// Recomputes the ancestry of the whole tree from the units and their parent links and
    /// compares it with the table: the number of rows checked and every difference.
    pub async fn verify_ancestry(&self) -> Result<(usize, Vec<AncestryProblem>)> {
        let c = self.db();
        let expected: HashSet<AncestryRow<Uuid>> =
            ancestry_rows(&spans(c, None).await?, &links(c, None).await?, &[])
                .into_iter()
                .collect();
        let stored: Vec<AncestryRow<Uuid>> = unit_ancestry::Entity::find()
            .all(c)
            .await?
            .iter()
            .map(to_row)
            .collect();
        let mut problems = Vec::new();
        let mut seen = HashSet::new();
        for r in &stored {
            if !seen.insert(*r) {
                problems.push(AncestryProblem {
                    unit_id: r.unit,
                    problem: format!("duplicate ancestry row: {}", describe(r)),
                });
            } else if !expected.contains(r) {
                problems.push(AncestryProblem {
                    unit_id: r.unit,
                    problem: format!("ancestry row not in the parent links: {}", describe(r)),
                });
            }
        }
        let mut missing: Vec<&AncestryRow<Uuid>> =
            expected.iter().filter(|r| !seen.contains(*r)).collect();
        missing.sort();
        for r in missing {
            problems.push(AncestryProblem {
                unit_id: r.unit,
                problem: format!("ancestry row missing: {}", describe(r)),
            });
        }
        Ok((stored.len(), problems))
    }
}

fn describe(r: &AncestryRow<Uuid>) -> String {
    format!(
        "ancestor {} at depth {} from {} to {}",
        r.ancestor,
        r.depth,
        r.from,
        r.to.map_or_else(|| "now".to_owned(), |t| t.to_string())
    )
}
