//! The counters behind the target reports: kept in step by the commands that change
//! membership (inside their transaction), built from scratch when missing, and checked
//! against a recomputation from the registry (`memberflow check --stats`).
//!
//! `stat_membership` holds, for each base day (anchor) kept, the party members of each unit
//! on that day of every year from the unit's first member to the horizon: a year's report
//! reads one row per unit. `stat_admission` holds admissions per unit and year. What a member
//! contributes to either is decided by the core (`memberflow_workflow::stats`), so the
//! incremental path, the bulk path and the check cannot disagree on the definitions.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use memberflow_workflow::stats::{self as core, AnchorDay, MemberHistory};
use memberflow_workflow::tree::MemberStatus;
use sea_orm::sea_query::{Alias, Expr, Iden, OnConflict, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::Statistics;
use super::entity::{
    stat_admission, stat_admission_day, stat_counter, stat_membership, stat_rollup,
};
use crate::entity::{member, member_status, member_unit};
use crate::error::{Result, StoreError};
use crate::loader::{BulkWrite, PgLoad, try_copy, try_copy_add};

/// The name of the admissions counter in `stat_counter`.
pub(crate) const ADMISSIONS: &str = "admissions";
const MEMBERSHIP_PREFIX: &str = "membership@";
pub(crate) const ROLLUP_PREFIX: &str = "rollup@";

/// The name of the membership counter for `anchor`.
pub(crate) fn membership_counter(anchor: AnchorDay) -> String {
    format!("{MEMBERSHIP_PREFIX}{anchor}")
}

pub(crate) fn internal(msg: impl Into<String>) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(msg.into()))
}

/// Bound parameters per multi-row insert on PostgreSQL: within its limit (65,535), and large
/// enough that a province loads in a few round trips per table.
pub(crate) const PARAMS: usize = 30_000;

/// Bound parameters per multi-row insert on SQLite, an embedded database where a statement
/// costs no round trip: small enough that the prepared statements sqlx keeps per connection
/// (up to 100, among them the inserts of every chunk size met) stay small — a statement of
/// 30,000 values compiles to megabytes — and that a full chunk's statement is prepared once
/// and reused.
pub(crate) const SQLITE_PARAMS: usize = 1_000;

/// Rows per multi-row insert of `columns` columns on `backend`.
pub(crate) fn rows_per_insert(backend: sea_orm::DbBackend, columns: usize) -> usize {
    let params = if backend == sea_orm::DbBackend::Sqlite {
        SQLITE_PARAMS
    } else {
        PARAMS
    };
    (params / columns.max(1)).max(1)
}

/// The counters kept, as stored.
#[derive(Debug, Clone)]
pub(crate) struct Counters {
    pub admissions_built: bool,
    /// Each kept anchor with whether it is built and its horizon.
    pub anchors: Vec<(AnchorDay, bool, Option<i32>)>,
    /// Each kept subtree aggregate (`rollup@MM-DD`) with whether it is built and its horizon.
    pub rollups: Vec<(AnchorDay, bool, Option<i32>)>,
}

pub(crate) async fn load_counters(c: &impl ConnectionTrait) -> Result<Counters> {
    counters_from(stat_counter::Entity::find().all(c).await?)
}

/// The counters, locked until the transaction ends: their maintenance (rows created for a
/// unit, the horizon moved) is serialized on PostgreSQL, as every write already is on
/// SQLite, which ignores the lock.
pub(crate) async fn lock_counters(c: &impl ConnectionTrait) -> Result<Counters> {
    // The forecast's row has its own lock (`forecast.rs`): a step that moves an admission
    // case takes it shared, whatever the counters.
    counters_from(
        stat_counter::Entity::find()
            .filter(stat_counter::Column::Counter.ne(super::forecast::FORECAST))
            .lock_exclusive()
            .all(c)
            .await?,
    )
}

fn counters_from(rows: Vec<stat_counter::Model>) -> Result<Counters> {
    let mut out = Counters {
        admissions_built: false,
        anchors: Vec::new(),
        rollups: Vec::new(),
    };
    for r in rows {
        if r.counter == ADMISSIONS {
            out.admissions_built = r.built;
        } else if let Some(a) = r
            .counter
            .strip_prefix(MEMBERSHIP_PREFIX)
            .and_then(AnchorDay::parse)
        {
            out.anchors.push((a, r.built, r.horizon));
        } else if let Some(a) = r
            .counter
            .strip_prefix(ROLLUP_PREFIX)
            .and_then(AnchorDay::parse)
        {
            out.rollups.push((a, r.built, r.horizon));
        }
    }
    out.anchors.sort_by_key(|a| a.0);
    out.rollups.sort_by_key(|a| a.0);
    Ok(out)
}

/// Party-member statuses: those the base counts (S21).
fn member_statuses() -> Vec<String> {
    MemberStatus::ALL
        .into_iter()
        .filter(|s| s.is_member())
        .map(|s| s.as_str().to_owned())
        .collect()
}

/// The histories of `ids` as the registry holds them.
pub(crate) async fn load_histories(
    c: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, MemberHistory<Uuid>)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let members = member::Entity::find()
            .filter(member::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(member::Column::Id)
            .all(c)
            .await?;
        let mut units: HashMap<Uuid, Vec<(Uuid, NaiveDate, Option<NaiveDate>)>> = HashMap::new();
        for mu in member_unit::Entity::find()
            .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
            .order_by_asc(member_unit::Column::Id)
            .all(c)
            .await?
        {
            units
                .entry(mu.member_id)
                .or_default()
                .push((mu.unit_id, mu.valid_from, mu.valid_to));
        }
        let mut periods: HashMap<Uuid, Vec<core::Span>> = HashMap::new();
        for ms in member_status::Entity::find()
            .filter(member_status::Column::MemberId.is_in(chunk.iter().copied()))
            .filter(member_status::Column::Status.is_in(member_statuses()))
            .order_by_asc(member_status::Column::Id)
            .all(c)
            .await?
        {
            periods
                .entry(ms.member_id)
                .or_default()
                .push((ms.valid_from, ms.valid_to));
        }
        for m in members {
            out.push((
                m.id,
                MemberHistory {
                    units: units.remove(&m.id).unwrap_or_default(),
                    member_periods: periods.remove(&m.id).unwrap_or_default(),
                    admission_decision: m.admission_decision_date,
                },
            ));
        }
    }
    Ok(out)
}

/// What a set of histories adds to the counters.
#[derive(Debug, Default)]
pub(crate) struct Contribution {
    /// Per anchor: unit → bucket → delta.
    pub membership: HashMap<AnchorDay, BTreeMap<Uuid, BTreeMap<i32, i64>>>,
    /// (unit, year) → admissions.
    pub admissions: BTreeMap<(Uuid, i32), i64>,
    /// (unit, day of the admission decision) → admissions: the same admissions, to the day.
    pub admission_days: BTreeMap<(Uuid, NaiveDate), i64>,
}

impl Contribution {
    pub fn add(&mut self, h: &MemberHistory<Uuid>, anchors: &[AnchorDay], sign: i64) {
        for &a in anchors {
            let per_unit = self.membership.entry(a).or_default();
            for (u, bucket, d) in core::membership_deltas(h, a) {
                *per_unit.entry(u).or_default().entry(bucket).or_default() += sign * d;
            }
        }
        if let Some((unit, day)) = core::admission_credit_day(h) {
            *self.admissions.entry((unit, day.year())).or_default() += sign;
            *self.admission_days.entry((unit, day)).or_default() += sign;
        }
    }
}

/// Keeps the counters in step with a change to the members `ids`: called with `-1` before
/// the change and `+1` after it (or `+1` alone for new members), inside the command's
/// transaction. Counters not built yet are left alone: they are built from scratch on first
/// use.
pub(crate) async fn count_members(c: &impl ConnectionTrait, ids: &[Uuid], sign: i64) -> Result<()> {
    count_members_with(c, ids, sign, true).await
}

/// [`count_members`], leaving the subtree aggregates alone when `with_rollup` is false (for a
/// caller that rebuilds them afterwards).
pub(crate) async fn count_members_with(
    c: &impl ConnectionTrait,
    ids: &[Uuid],
    sign: i64,
    with_rollup: bool,
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let counters = lock_counters(c).await?;
    let anchors = built_anchors(&counters);
    if anchors.is_empty() && !counters.admissions_built {
        return Ok(());
    }
    let mut contribution = Contribution::default();
    for (_, h) in load_histories(c, ids).await? {
        contribution.add(&h, &anchors, sign);
    }
    apply_contribution(c, &counters, &contribution, with_rollup).await
}

fn built_anchors(counters: &Counters) -> Vec<AnchorDay> {
    counters
        .anchors
        .iter()
        .filter(|a| a.1)
        .map(|a| a.0)
        .collect()
}

/// The counters' share of members read before a command's registry effects, to be compared
/// with the share after them: a step that changed nothing a counter counts (most steps) writes
/// nothing, one that did writes the difference once.
pub(crate) struct Recount {
    before: Vec<(Uuid, MemberHistory<Uuid>)>,
}

impl Recount {
    /// Reads the histories of `ids` before the change.
    pub async fn before(c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Self> {
        let before = if ids.is_empty() {
            Vec::new()
        } else {
            load_histories(c, ids).await?
        };
        Ok(Recount { before })
    }

    /// Reads the histories of `ids` after the change and puts the difference into the
    /// counters and the subtree aggregates.
    pub async fn after(self, c: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
        let after = if ids.is_empty() {
            Vec::new()
        } else {
            load_histories(c, ids).await?
        };
        if after == self.before {
            return Ok(());
        }
        let counters = lock_counters(c).await?;
        let anchors = built_anchors(&counters);
        if anchors.is_empty() && !counters.admissions_built {
            return Ok(());
        }
        let mut contribution = Contribution::default();
        for (_, h) in &self.before {
            contribution.add(h, &anchors, -1);
        }
        for (_, h) in &after {
            contribution.add(h, &anchors, 1);
        }
        apply_contribution(c, &counters, &contribution, true).await
    }
}

/// Writes a contribution to the built counters (and the subtree aggregates when `with_rollup`).
async fn apply_contribution(
    c: &impl ConnectionTrait,
    counters: &Counters,
    contribution: &Contribution,
    with_rollup: bool,
) -> Result<()> {
    for (anchor, built, horizon) in &counters.anchors {
        if !built {
            continue;
        }
        if let Some(per_unit) = contribution.membership.get(anchor) {
            apply_membership(c, *anchor, *horizon, per_unit).await?;
        }
    }
    if counters.admissions_built {
        add_admissions(c, contribution).await?;
    }
    if with_rollup && counters.admissions_built {
        super::rollup::apply_own(
            c,
            counters,
            &super::rollup::OwnChanges {
                membership: &contribution.membership,
                admissions: &contribution.admissions,
                tree_changed: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Adds deltas to a built membership counter, row by row (for a handful of members).
async fn apply_membership(
    c: &impl ConnectionTrait,
    anchor: AnchorDay,
    horizon: Option<i32>,
    per_unit: &BTreeMap<Uuid, BTreeMap<i32, i64>>,
) -> Result<()> {
    let deltas: Vec<(Uuid, i32, i64)> = per_unit
        .iter()
        .flat_map(|(u, m)| m.iter().map(move |(b, d)| (*u, *b, *d)))
        .filter(|(_, _, d)| *d != 0)
        .collect();
    let Some(max_bucket) = deltas.iter().map(|d| d.1).max() else {
        return Ok(());
    };
    let horizon = extend_horizon(c, anchor, horizon, max_bucket).await?;
    let key = anchor.to_string();
    for (unit, bucket, delta) in deltas {
        let first: Option<i32> = stat_membership::Entity::find()
            .select_only()
            .column(stat_membership::Column::Year)
            .filter(stat_membership::Column::Anchor.eq(key.as_str()))
            .filter(stat_membership::Column::UnitId.eq(unit))
            .order_by_asc(stat_membership::Column::Year)
            .limit(1)
            .into_tuple()
            .one(c)
            .await?;
        let missing_to = match first {
            None => Some(horizon),
            Some(f) if bucket < f => Some(f - 1),
            Some(_) => None,
        };
        if let Some(to) = missing_to {
            let rows: Vec<(Uuid, i32, i64)> = (bucket..=to).map(|y| (unit, y, 0)).collect();
            insert_membership_rows(c, &key, &rows).await?;
        }
        stat_membership::Entity::update_many()
            .col_expr(
                stat_membership::Column::Members,
                Expr::col(stat_membership::Column::Members).add(delta),
            )
            .filter(stat_membership::Column::Anchor.eq(key.as_str()))
            .filter(stat_membership::Column::UnitId.eq(unit))
            .filter(stat_membership::Column::Year.gte(bucket))
            .exec(c)
            .await?;
    }
    Ok(())
}

/// Makes the rows of `anchor` reach `to` (copying the last year's counts forward: nothing
/// changed after the old horizon) and returns the horizon.
pub(crate) async fn extend_horizon(
    c: &impl ConnectionTrait,
    anchor: AnchorDay,
    horizon: Option<i32>,
    to: i32,
) -> Result<i32> {
    let key = anchor.to_string();
    let new = match horizon {
        Some(h) if h >= to => return Ok(h),
        Some(h) => {
            for y in h + 1..=to {
                let select = Query::select()
                    .column(stat_membership::Column::Anchor)
                    .column(stat_membership::Column::UnitId)
                    .expr(Expr::val(y))
                    .column(stat_membership::Column::Members)
                    .from(stat_membership::Entity)
                    .and_where(stat_membership::Column::Anchor.eq(key.as_str()))
                    .and_where(stat_membership::Column::Year.eq(h))
                    .to_owned();
                let insert = Query::insert()
                    .into_table(stat_membership::Entity)
                    .columns([
                        stat_membership::Column::Anchor,
                        stat_membership::Column::UnitId,
                        stat_membership::Column::Year,
                        stat_membership::Column::Members,
                    ])
                    .select_from(select)
                    .map_err(|e| internal(format!("cannot build a counter insert: {e}")))?
                    .to_owned();
                c.execute(&insert).await?;
            }
            to
        }
        None => to,
    };
    stat_counter::Entity::update_many()
        .col_expr(stat_counter::Column::Horizon, Expr::val(new))
        .filter(stat_counter::Column::Counter.eq(membership_counter(anchor)))
        .exec(c)
        .await?;
    Ok(new)
}

pub(crate) async fn insert_membership_rows(
    c: &impl ConnectionTrait,
    anchor: &str,
    rows: &[(Uuid, i32, i64)],
) -> Result<()> {
    for chunk in rows.chunks(rows_per_insert(c.get_database_backend(), 4)) {
        let mut insert = Query::insert();
        insert.into_table(stat_membership::Entity).columns([
            stat_membership::Column::Anchor,
            stat_membership::Column::UnitId,
            stat_membership::Column::Year,
            stat_membership::Column::Members,
        ]);
        for (u, y, n) in chunk {
            insert
                .values([anchor.into(), (*u).into(), (*y).into(), (*n).into()])
                .map_err(|e| internal(format!("cannot build a counter insert: {e}")))?;
        }
        c.execute(&insert).await?;
    }
    Ok(())
}

/// [`insert_membership_rows`] for the bulk loader: COPY on PostgreSQL.
pub(crate) async fn load_membership_rows(
    c: &impl BulkWrite,
    anchor: &str,
    rows: &[(Uuid, i32, i64)],
) -> Result<()> {
    super::bulk::insert_rows(
        c,
        stat_membership::Entity,
        super::bulk::cols(vec![
            stat_membership::Column::Anchor,
            stat_membership::Column::UnitId,
            stat_membership::Column::Year,
            stat_membership::Column::Members,
        ]),
        rows,
        |(u, y, n)| vec![anchor.into(), (*u).into(), (*y).into(), (*n).into()],
        &mut |_, _, _| {},
        "counters",
    )
    .await
}

/// Adds a contribution's admissions to both admission counters (per year and per day),
/// inserting the rows that are missing.
pub(crate) async fn add_admissions(
    c: &impl ConnectionTrait,
    contribution: &Contribution,
) -> Result<()> {
    add_admissions_via(c, None, contribution, false).await
}

/// [`add_admissions`], each counter's rows added with one COPY and one upsert when `copier`
/// is the PostgreSQL bulk loader.
///
/// `fresh`: every unit of `contribution` is new (a bulk load's units), so it has no row yet
/// and the rows are copied straight into the tables rather than upserted.
pub(crate) async fn add_admissions_via(
    c: &impl ConnectionTrait,
    copier: Option<&PgLoad>,
    contribution: &Contribution,
    fresh: bool,
) -> Result<()> {
    add_counts(
        c,
        copier,
        fresh,
        stat_admission::Entity,
        [stat_admission::Column::UnitId, stat_admission::Column::Year],
        stat_admission::Column::Admitted,
        &contribution.admissions,
    )
    .await?;
    add_counts(
        c,
        copier,
        fresh,
        stat_admission_day::Entity,
        [
            stat_admission_day::Column::UnitId,
            stat_admission_day::Column::Day,
        ],
        stat_admission_day::Column::Admitted,
        &contribution.admission_days,
    )
    .await
}

/// Adds `counts` (by unit and key: a year, a day) to the counter table `entity`, whose primary
/// key is `key` and whose count is `value`, inserting the rows that are missing.
async fn add_counts<E, K>(
    c: &impl ConnectionTrait,
    copier: Option<&PgLoad>,
    fresh: bool,
    entity: E,
    key: [E::Column; 2],
    value: E::Column,
    counts: &BTreeMap<(Uuid, K), i64>,
) -> Result<()>
where
    E: EntityTrait,
    K: Copy + Into<sea_orm::Value>,
{
    let rows: Vec<(&(Uuid, K), &i64)> = counts.iter().filter(|(_, n)| **n != 0).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let (k0, k1, v) = (
        Iden::to_string(&key[0]),
        Iden::to_string(&key[1]),
        Iden::to_string(&value),
    );
    let row = |((u, k), n): &(&(Uuid, K), &i64)| vec![Expr::val(*u), Expr::val(*k), Expr::val(**n)];
    if let (true, Some(pg)) = (fresh, copier)
        && try_copy(
            pg,
            entity.table_name(),
            &[k0.clone(), k1.clone(), v.clone()],
            &rows,
            &row,
        )
        .await?
    {
        return Ok(());
    }
    if try_copy_add(
        copier,
        entity.table_name(),
        &[k0.clone(), k1.clone(), v.clone()],
        &[k0.as_str(), k1.as_str()],
        &[v.as_str()],
        &rows,
        &row,
    )
    .await?
    {
        return Ok(());
    }
    for chunk in rows.chunks(rows_per_insert(c.get_database_backend(), 3)) {
        let mut insert = Query::insert();
        insert.into_table(entity).columns([key[0], key[1], value]);
        for ((u, k), n) in chunk {
            insert
                .values([Expr::val(*u), Expr::val(*k), Expr::val(**n)])
                .map_err(|e| internal(format!("cannot build a counter insert: {e}")))?;
        }
        insert.on_conflict(
            OnConflict::columns(key)
                .value(
                    value,
                    Expr::col((entity, value)).add(Expr::col((Alias::new("excluded"), value))),
                )
                .to_owned(),
        );
        c.execute(&insert).await?;
    }
    Ok(())
}

/// Dense rows from deltas: each unit from its first bucket to `horizon`, cumulated.
pub(crate) fn dense_rows(
    per_unit: &BTreeMap<Uuid, BTreeMap<i32, i64>>,
    horizon: i32,
) -> Vec<(Uuid, i32, i64)> {
    let mut rows = Vec::new();
    for (u, deltas) in per_unit {
        let Some((&first, _)) = deltas.iter().find(|(_, d)| **d != 0) else {
            continue;
        };
        let mut running = 0i64;
        for y in first..=std::cmp::max(horizon, first) {
            running += deltas.get(&y).copied().unwrap_or(0);
            rows.push((*u, y, running));
        }
    }
    rows
}

/// Everything the registry implies, computed from scratch (for a rebuild or the check).
pub(crate) async fn recompute(
    c: &impl ConnectionTrait,
    anchors: &[AnchorDay],
) -> Result<(u64, Contribution)> {
    let mut contribution = Contribution::default();
    let mut after: Option<Uuid> = None;
    let mut members = 0u64;
    loop {
        let mut q = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .order_by_asc(member::Column::Id)
            .limit(2_000);
        if let Some(a) = after {
            q = q.filter(member::Column::Id.gt(a));
        }
        let ids: Vec<Uuid> = q.into_tuple().all(c).await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        for (_, h) in load_histories(c, &ids).await? {
            contribution.add(&h, anchors, 1);
        }
        members += ids.len() as u64;
        after = Some(last);
    }
    Ok((members, contribution))
}

/// Records the counter (or aggregate) `counter` as built up to `horizon`, creating its row
/// when missing.
pub(crate) async fn mark_built(
    c: &impl ConnectionTrait,
    counter: String,
    horizon: Option<i32>,
) -> Result<()> {
    let exists = stat_counter::Entity::find_by_id(counter.clone())
        .one(c)
        .await?
        .is_some();
    if exists {
        stat_counter::Entity::update_many()
            .col_expr(stat_counter::Column::Built, Expr::val(true))
            .col_expr(stat_counter::Column::Horizon, Expr::val(horizon))
            .filter(stat_counter::Column::Counter.eq(counter))
            .exec(c)
            .await?;
    } else {
        stat_counter::Entity::insert(stat_counter::ActiveModel {
            counter: sea_orm::Set(counter),
            built: sea_orm::Set(true),
            horizon: sea_orm::Set(horizon),
        })
        .exec(c)
        .await?;
    }
    Ok(())
}

/// Rebuilds the counters named (every membership anchor given, and admissions when asked)
/// from scratch, inside `c`'s transaction.
pub(crate) async fn rebuild(
    c: &impl BulkWrite,
    anchors: &[AnchorDay],
    admissions: bool,
) -> Result<()> {
    let (_, contribution) = recompute(c, anchors).await?;
    rebuild_with(c, anchors, admissions, &contribution).await
}

/// [`rebuild`] from `contribution`, everything the registry implies (the caller computed it).
/// Counter and aggregate rows go in with COPY on the PostgreSQL bulk loader.
pub(crate) async fn rebuild_with(
    c: &impl BulkWrite,
    anchors: &[AnchorDay],
    admissions: bool,
    contribution: &Contribution,
) -> Result<()> {
    for &a in anchors {
        let key = a.to_string();
        stat_membership::Entity::delete_many()
            .filter(stat_membership::Column::Anchor.eq(key.as_str()))
            .exec(c)
            .await?;
        let empty = BTreeMap::new();
        let per_unit = contribution.membership.get(&a).unwrap_or(&empty);
        let max_bucket = per_unit
            .values()
            .filter_map(|m| m.keys().max())
            .max()
            .copied();
        let horizon = max_bucket;
        if let Some(h) = horizon {
            load_membership_rows(c, &key, &dense_rows(per_unit, h)).await?;
        }
        mark_built(c, membership_counter(a), horizon).await?;
    }
    if admissions {
        stat_admission::Entity::delete_many().exec(c).await?;
        stat_admission_day::Entity::delete_many().exec(c).await?;
        add_admissions_via(c, c.copier(), contribution, false).await?;
        stat_counter::Entity::update_many()
            .col_expr(stat_counter::Column::Built, Expr::val(true))
            .filter(stat_counter::Column::Counter.eq(ADMISSIONS))
            .exec(c)
            .await?;
    }
    // The subtree aggregates follow the counters they add up.
    let counters = lock_counters(c).await?;
    if counters.admissions_built {
        let built: Vec<AnchorDay> = counters
            .anchors
            .iter()
            .filter(|a| a.1)
            .map(|a| a.0)
            .collect();
        super::rollup::rebuild_from_counters_via(c, c.copier(), &built, None).await?;
    }
    Ok(())
}

/// A counter that disagrees with the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsDifference {
    /// `admissions` or `membership@MM-DD`.
    pub counter: String,
    /// The unit.
    pub unit_id: Uuid,
    /// The year.
    pub year: i32,
    /// What the counter holds.
    pub stored: i64,
    /// What the registry implies.
    pub expected: i64,
}

/// The outcome of [`Statistics::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsCheck {
    /// Members read from the registry.
    pub members: u64,
    /// Counter values compared.
    pub compared: u64,
    /// Counters not built yet (nothing to compare: they are built on first use).
    pub unbuilt: Vec<String>,
    /// Every difference found.
    pub differences: Vec<StatsDifference>,
}

impl Statistics<'_> {
    /// Recomputes every built counter from the registry and reports each value that differs
    /// from the stored one (`memberflow check --stats`). Reads only.
    pub async fn check(&self) -> Result<StatsCheck> {
        let c = self.db();
        let counters = load_counters(c).await?;
        let anchors: Vec<AnchorDay> = counters
            .anchors
            .iter()
            .filter(|a| a.1)
            .map(|a| a.0)
            .collect();
        let mut unbuilt: Vec<String> = counters
            .anchors
            .iter()
            .filter(|a| !a.1)
            .map(|a| membership_counter(a.0))
            .collect();
        if !counters.admissions_built {
            unbuilt.push(ADMISSIONS.to_owned());
        }
        let (members, contribution) = recompute(c, &anchors).await?;
        let mut differences = Vec::new();
        let mut compared = 0u64;
        for (anchor, built, horizon) in &counters.anchors {
            if !built {
                continue;
            }
            let counter = membership_counter(*anchor);
            let per_unit = contribution
                .membership
                .get(anchor)
                .cloned()
                .unwrap_or_default();
            let max_bucket = per_unit
                .values()
                .filter_map(|m| m.keys().max())
                .max()
                .copied();
            if let (Some(m), h) = (max_bucket, horizon)
                && h.is_none_or(|h| m > h)
            {
                differences.push(StatsDifference {
                    counter: format!("{counter} (horizon)"),
                    unit_id: Uuid::nil(),
                    year: m,
                    stored: i64::from(h.unwrap_or(0)),
                    expected: i64::from(m),
                });
            }
            let h = horizon.or(max_bucket).unwrap_or(0);
            let expected: HashMap<(Uuid, i32), i64> = dense_rows(&per_unit, h)
                .into_iter()
                .map(|(u, y, n)| ((u, y), n))
                .collect();
            let stored: HashMap<(Uuid, i32), i64> = stat_membership::Entity::find()
                .filter(stat_membership::Column::Anchor.eq(anchor.to_string()))
                .all(c)
                .await?
                .into_iter()
                .map(|r| ((r.unit_id, r.year), r.members))
                .collect();
            compare(
                &counter,
                &stored,
                &expected,
                &mut compared,
                &mut differences,
            );
        }
        if counters.admissions_built {
            let stored: HashMap<(Uuid, i32), i64> = stat_admission::Entity::find()
                .all(c)
                .await?
                .into_iter()
                .map(|r| ((r.unit_id, r.year), r.admitted))
                .collect();
            let expected: HashMap<(Uuid, i32), i64> = contribution
                .admissions
                .iter()
                .map(|(k, v)| (*k, *v))
                .collect();
            compare(
                ADMISSIONS,
                &stored,
                &expected,
                &mut compared,
                &mut differences,
            );
            let stored: HashMap<(Uuid, NaiveDate), i64> = stat_admission_day::Entity::find()
                .all(c)
                .await?
                .into_iter()
                .map(|r| ((r.unit_id, r.day), r.admitted))
                .collect();
            let expected: HashMap<(Uuid, NaiveDate), i64> = contribution
                .admission_days
                .iter()
                .map(|(k, v)| (*k, *v))
                .collect();
            compare_by(
                &stored,
                &expected,
                |day| (format!("{ADMISSIONS} on {day}"), day.year()),
                &mut compared,
                &mut differences,
            );
        }
        if counters.admissions_built {
            check_rollups(
                c,
                &counters,
                &contribution,
                &mut compared,
                &mut differences,
                &mut unbuilt,
            )
            .await?;
        }
        if !super::forecast::check(c, &mut compared, &mut differences).await? {
            unbuilt.push(super::forecast::FORECAST.to_owned());
        }
        differences.sort_by(|a, b| {
            (a.counter.as_str(), a.unit_id, a.year).cmp(&(b.counter.as_str(), b.unit_id, b.year))
        });
        Ok(StatsCheck {
            members,
            compared,
            unbuilt,
            differences,
        })
    }

    /// Rebuilds every counter from the registry, in one transaction (`memberflow check
    /// --stats --repair`).
    pub async fn rebuild(&self) -> Result<()> {
        let txn = self.begin_write().await?;
        let counters = lock_counters(&txn).await?;
        let anchors: Vec<AnchorDay> = counters.anchors.iter().map(|a| a.0).collect();
        rebuild(&txn, &anchors, true).await?;
        super::forecast::rebuild(&txn).await?;
        txn.commit().await?;
        tracing::info!("statistics counters rebuilt from scratch");
        Ok(())
    }

    /// Builds the admissions counters (per year and per day) if they are not built yet, in one
    /// transaction; a no-op when they are.
    pub(crate) async fn ensure_admissions(&self) -> Result<()> {
        if load_counters(self.db()).await?.admissions_built {
            return Ok(());
        }
        let txn = self.begin_write().await?;
        if !lock_counters(&txn).await?.admissions_built {
            rebuild(&txn, &[], true).await?;
        }
        txn.commit().await?;
        tracing::info!("admissions counters built from scratch");
        Ok(())
    }

    /// Builds the counters for `anchor` (and the admissions counter) if they are not built
    /// yet, in one transaction; a no-op when they are.
    pub async fn ensure(&self, anchor: AnchorDay) -> Result<()> {
        if !super::forecast::is_built(self.db()).await? {
            let txn = self.begin_write().await?;
            // Built under its exclusive lock: a step moving a case waits, or is waited for.
            super::forecast::rebuild(&txn).await?;
            txn.commit().await?;
            tracing::info!("forecast aggregates built from the open cases");
        }
        let counters = load_counters(self.db()).await?;
        let anchor_built = counters.anchors.iter().any(|a| a.0 == anchor && a.1);
        let rollup_built = counters.rollups.iter().any(|a| a.0 == anchor && a.1);
        if anchor_built && counters.admissions_built && rollup_built {
            return Ok(());
        }
        let txn = self.begin_write().await?;
        // Another instance may have built them meanwhile: look again under the lock.
        let counters = lock_counters(&txn).await?;
        let anchor_built = counters.anchors.iter().any(|a| a.0 == anchor && a.1);
        let anchors: Vec<AnchorDay> = if anchor_built {
            Vec::new()
        } else {
            vec![anchor]
        };
        rebuild(&txn, &anchors, !counters.admissions_built).await?;
        txn.commit().await?;
        tracing::info!(%anchor, "statistics counters built from scratch");
        Ok(())
    }
}

/// Compares the subtree aggregates with those implied by the registry's counters
/// (`contribution`, recomputed from the members) on the tree.
async fn check_rollups(
    c: &impl ConnectionTrait,
    counters: &Counters,
    contribution: &Contribution,
    compared: &mut u64,
    differences: &mut Vec<StatsDifference>,
    unbuilt: &mut Vec<String>,
) -> Result<()> {
    let tree = super::rollup::LocalTree::load_all(c).await?;
    for (anchor, built, stored_h) in &counters.rollups {
        let counter = super::rollup::rollup_counter(*anchor);
        let membership_built = counters.anchors.iter().any(|a| a.0 == *anchor && a.1);
        if !built || !membership_built {
            unbuilt.push(counter);
            continue;
        }
        let per_unit = contribution
            .membership
            .get(anchor)
            .cloned()
            .unwrap_or_default();
        let max_bucket = per_unit
            .values()
            .filter_map(|m| m.keys().max())
            .max()
            .copied();
        let h = counters
            .anchors
            .iter()
            .find(|a| a.0 == *anchor)
            .and_then(|a| a.2)
            .or(max_bucket);
        let mut membership: HashMap<Uuid, BTreeMap<i32, i64>> = HashMap::new();
        if let Some(h) = h {
            for (u, y, n) in dense_rows(&per_unit, h) {
                membership.entry(u).or_default().insert(y, n);
            }
        }
        let (expected_h, expected) = super::rollup::compute(
            &tree,
            &membership,
            h,
            &contribution.admissions,
            *stored_h,
            None,
        );
        if expected_h != *stored_h {
            differences.push(StatsDifference {
                counter: format!("{counter} (horizon)"),
                unit_id: Uuid::nil(),
                year: expected_h.unwrap_or(0),
                stored: i64::from(stored_h.unwrap_or(0)),
                expected: i64::from(expected_h.unwrap_or(0)),
            });
        }
        let stored: Vec<(Uuid, i32, i64, i64)> = stat_rollup::Entity::find()
            .select_only()
            .column(stat_rollup::Column::UnitId)
            .column(stat_rollup::Column::Year)
            .column(stat_rollup::Column::Base)
            .column(stat_rollup::Column::Admitted)
            .filter(stat_rollup::Column::Anchor.eq(anchor.to_string()))
            .into_tuple()
            .all(c)
            .await?;
        let mut stored_base = HashMap::new();
        let mut stored_admitted = HashMap::new();
        for (u, y, b, a) in stored {
            stored_base.insert((u, y), b);
            stored_admitted.insert((u, y), a);
        }
        let expected_base: HashMap<(Uuid, i32), i64> =
            expected.iter().map(|(k, v)| (*k, v.0)).collect();
        let expected_admitted: HashMap<(Uuid, i32), i64> =
            expected.iter().map(|(k, v)| (*k, v.1)).collect();
        compare(
            &format!("{counter} base"),
            &stored_base,
            &expected_base,
            compared,
            differences,
        );
        compare(
            &format!("{counter} admitted"),
            &stored_admitted,
            &expected_admitted,
            compared,
            differences,
        );
    }
    Ok(())
}

fn compare(
    counter: &str,
    stored: &HashMap<(Uuid, i32), i64>,
    expected: &HashMap<(Uuid, i32), i64>,
    compared: &mut u64,
    out: &mut Vec<StatsDifference>,
) {
    compare_by(
        stored,
        expected,
        |year| (counter.to_owned(), *year),
        compared,
        out,
    );
}

/// [`compare`] for a counter keyed by unit and `K`, named and dated by `label`.
fn compare_by<K: Ord + std::hash::Hash + Copy>(
    stored: &HashMap<(Uuid, K), i64>,
    expected: &HashMap<(Uuid, K), i64>,
    label: impl Fn(&K) -> (String, i32),
    compared: &mut u64,
    out: &mut Vec<StatsDifference>,
) {
    let mut keys: Vec<&(Uuid, K)> = stored.keys().chain(expected.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    for k in keys {
        *compared += 1;
        let s = stored.get(k).copied().unwrap_or(0);
        let e = expected.get(k).copied().unwrap_or(0);
        if s != e {
            let (counter, year) = label(&k.1);
            out.push(StatsDifference {
                counter,
                unit_id: k.0,
                year,
                stored: s,
                expected: e,
            });
        }
    }
}
