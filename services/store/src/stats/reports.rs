//! The reports: the admission target of a unit or the whole tree for a year (rate, band, gap,
//! forecast, roll-up level by level, units at risk), read from the counters without touching
//! the members; and the source report's other figures (members by age band, sex, ethnicity,
//! religion, schooling, occupation; admissions by year; discipline by form; badges by years),
//! read from the registry for one subtree; and the party members and admissions of a set of
//! units over a period (the monthly target report's mail).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use memberflow_workflow::engine::DisciplineStatus;
use memberflow_workflow::stats::{
    self as core, AgeBand, Assessment, Forecast, Tally, TargetParams,
};
use memberflow_workflow::tree::{Level, MemberStatus, UnitKind};
use sea_orm::sea_query::JoinType;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, RelationTrait};
use uuid::Uuid;

use super::Statistics;
use super::counters::load_counters;
use super::entity::{badge_award, discipline_record, stat_admission, stat_membership, stat_rollup};
use super::tree::TreeIndex;
use super::{forecast, rollup};
use crate::entity::{member, member_status, member_unit};
use crate::error::{Result, StoreError};
use crate::records::UnitRecord;

/// What to report on.
#[derive(Debug, Clone)]
pub struct TargetRequest {
    /// The target's year.
    pub year: i32,
    /// The unit (with everything below it); every root when `None`.
    pub unit: Option<Uuid>,
    /// How many levels below the unit to list (all when `None`).
    pub max_depth: Option<u32>,
    /// Today in Vietnam: the forecast looks from here.
    pub today: NaiveDate,
    /// The parameters of the year (`TargetParams::for_year`).
    pub params: TargetParams,
}

/// One unit's figures in a target report, with everything below it added in (every unit of
/// the subtree has them; only the rows listed carry the unit's full record).
#[derive(Debug, Clone)]
pub struct TargetFigures {
    /// The unit.
    pub unit_id: Uuid,
    /// Its code.
    pub code: String,
    /// Its kind.
    pub kind: UnitKind,
    /// Its parent on the reference date.
    pub parent_id: Option<Uuid>,
    /// Levels below the report's unit.
    pub depth: u32,
    /// Members on the base date, admissions, open cases, expected decisions.
    pub tally: Tally,
    /// The admissions so far against the band.
    pub assessment: Assessment,
    /// Where the year will end, while it is not over.
    pub forecast: Option<Forecast>,
    /// The forecast against the band.
    pub projected: Option<Assessment>,
}

impl TargetFigures {
    /// People still missing to the floor: by the forecast while the year runs, else by the
    /// admissions.
    pub fn shortfall(&self) -> u64 {
        self.projected
            .as_ref()
            .map_or(self.assessment.gap_low, |p| p.gap_low)
    }
}

/// One unit of a target report, with everything below it added in.
#[derive(Debug, Clone)]
pub struct TargetRow {
    /// The unit.
    pub unit: UnitRecord,
    /// Its parent on the reference date.
    pub parent_id: Option<Uuid>,
    /// Levels below the report's unit.
    pub depth: u32,
    /// Members on the base date, admissions, open cases, expected decisions.
    pub tally: Tally,
    /// The admissions so far against the band.
    pub assessment: Assessment,
    /// Where the year will end, while it is not over.
    pub forecast: Option<Forecast>,
    /// The forecast against the band.
    pub projected: Option<Assessment>,
}

impl TargetRow {
    fn new(unit: UnitRecord, f: &TargetFigures) -> Self {
        TargetRow {
            unit,
            parent_id: f.parent_id,
            depth: f.depth,
            tally: f.tally,
            assessment: f.assessment.clone(),
            forecast: f.forecast.clone(),
            projected: f.projected.clone(),
        }
    }
}

/// The admission target of a year over a subtree.
#[derive(Debug, Clone)]
pub struct TargetReport {
    /// The year.
    pub year: i32,
    /// The parameters used (S21).
    pub params: TargetParams,
    /// The day membership was counted on.
    pub base_date: NaiveDate,
    /// The day the tree is taken as it stood: the year's last day, today while it runs, or
    /// the unit's last day if it ended during the year.
    pub reference_date: NaiveDate,
    /// The units listed (down to the depth asked for), breadth first from the report's
    /// unit(s), with their subtree's figures.
    pub rows: Vec<TargetRow>,
    /// The figures of every unit of the subtree(s), breadth first.
    pub figures: Vec<TargetFigures>,
    /// Figures of units that did not exist yet on the reference date (an admission counted
    /// for a branch created later): not in any row. (Read from the subtree aggregates, the
    /// report knows only the open cases among them.)
    pub unplaced: Tally,
    /// Read from the subtree aggregates: `figures` holds only the rows listed, and the units
    /// at risk are read when asked for.
    fast: Option<FastScope>,
}

/// What a report read from the subtree aggregates needs to read more units.
#[derive(Debug, Clone)]
struct FastScope {
    roots: Vec<UnitRecord>,
    /// The roots are every root of the forest on the reference date.
    whole_forest: bool,
    /// Where the open admission cases' tallies come from (while the year runs).
    open: Option<OpenSource>,
}

/// Where a report read from the aggregates takes the open admission cases from.
#[derive(Debug, Clone)]
enum OpenSource {
    /// The reference day has the settled tree (no dated change after it): each unit's row
    /// with everything below it (`stat_open_rollup`), read for the units asked about.
    Settled {
        today: NaiveDate,
        from: NaiveDate,
        to: NaiveDate,
    },
    /// The tree still changes after it: the units' own rows added up on its tree, for every
    /// unit above one.
    Folded(HashMap<Uuid, (u64, f64)>),
}

impl OpenSource {
    /// The tallies of `units`.
    async fn of(
        &self,
        c: &impl sea_orm::ConnectionTrait,
        units: &[Uuid],
    ) -> Result<HashMap<Uuid, (u64, f64)>> {
        match self {
            OpenSource::Settled { today, from, to } => Ok(forecast::tallies(
                &forecast::subtree_rows(c, units).await?,
                *today,
                *from,
                *to,
            )),
            OpenSource::Folded(all) => Ok(units
                .iter()
                .filter_map(|u| all.get(u).map(|t| (*u, *t)))
                .collect()),
        }
    }

    /// The tallies of the units `units` selects.
    async fn of_query(
        &self,
        c: &impl sea_orm::ConnectionTrait,
        units: sea_orm::sea_query::SelectStatement,
    ) -> Result<HashMap<Uuid, (u64, f64)>> {
        match self {
            OpenSource::Settled { today, from, to } => Ok(forecast::tallies(
                &forecast::subtree_rows_in(c, units).await?,
                *today,
                *from,
                *to,
            )),
            OpenSource::Folded(all) => Ok(all.clone()),
        }
    }
}

/// Which units below the report's unit(s) [`Statistics::units_at_risk`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskScope {
    /// Those this many levels down (every level when `None`).
    Depth(Option<u32>),
    /// Those of this level (the CLI's grassroots organizations).
    Level(Level),
}

impl RiskScope {
    fn keeps(self, f: &TargetFigures) -> bool {
        match self {
            RiskScope::Depth(d) => d.is_none_or(|d| f.depth == d),
            RiskScope::Level(l) => f.kind.level() == l,
        }
    }

    /// Whether units below `unit` (at `depth`) may hold some it keeps.
    fn descends(self, kind: UnitKind, depth: u32) -> bool {
        match self {
            RiskScope::Depth(d) => d.is_none_or(|d| depth < d),
            RiskScope::Level(l) => kind.level() < l,
        }
    }
}

/// A unit's figures from its tally.
#[allow(clippy::too_many_arguments)]
fn figures_of(
    unit_id: Uuid,
    code: &str,
    kind: UnitKind,
    parent_id: Option<Uuid>,
    depth: u32,
    tally: Tally,
    params: &TargetParams,
    forecasting: bool,
) -> TargetFigures {
    let assessment = core::assess(tally.base, tally.admitted, params);
    let (forecast, projected) = if forecasting {
        let f = core::forecast(tally.admitted, tally.open_cases, tally.expected);
        let p = core::assess(tally.base, f.projected, params);
        (Some(f), Some(p))
    } else {
        (None, None)
    };
    TargetFigures {
        unit_id,
        code: code.to_owned(),
        kind,
        parent_id,
        depth,
        tally,
        assessment,
        forecast,
        projected,
    }
}

fn sort_at_risk(chosen: &mut [&TargetFigures]) {
    chosen.sort_by(|a, b| {
        b.shortfall()
            .cmp(&a.shortfall())
            .then_with(|| {
                let ra = a.assessment.rate.unwrap_or(0.0);
                let rb = b.assessment.rate.unwrap_or(0.0);
                ra.total_cmp(&rb)
            })
            .then_with(|| a.code.cmp(&b.code))
    });
}

fn not_yet(code: &str, year: i32) -> StoreError {
    StoreError::validation(
        format!("Đơn vị {code} chưa tồn tại trong năm {year}."),
        format!("Unit {code} did not exist yet in {year}."),
    )
}

/// The day the tree of `year`'s target report is taken as it stood: the year's last day,
/// `today` while the year runs, or the unit's last day if it ended during the year (its first
/// day if it began after `today`). A unit that did not exist yet in the year has no report.
pub fn target_reference(
    year: i32,
    today: NaiveDate,
    unit: Option<&UnitRecord>,
) -> Result<NaiveDate> {
    let (jan1, dec31) = core::year_bounds(year);
    let mut reference = dec31.min(today.max(jan1));
    if let Some(u) = unit {
        if u.valid_from > dec31 {
            return Err(not_yet(&u.code, year));
        }
        if let Some(end) = u.valid_to
            && end <= reference
        {
            reference = end.pred_opt().unwrap_or(end);
        }
        reference = reference.max(u.valid_from);
    }
    Ok(reference)
}

impl Statistics<'_> {
    /// The admission target of `req.year`: each unit's members on the base date and
    /// admissions in the year from the counters, folded into the tree as it stood on the
    /// reference date and added up level by level; while the year runs, the forecast from the
    /// open admission cases. Never reads the members themselves.
    pub async fn admission_targets(&self, req: &TargetRequest) -> Result<TargetReport> {
        let anchor = req.params.anchor;
        self.ensure(anchor).await?;
        let c = self.db();
        let (jan1, dec31) = core::year_bounds(req.year);
        let requested = match req.unit {
            Some(id) => Some(crate::tree::load_unit(c, id).await?),
            None => None,
        };
        let reference = target_reference(req.year, req.today, requested.as_ref())?;
        if let Some(report) = self
            .fast_targets(req, requested.as_ref(), reference)
            .await?
        {
            return Ok(report);
        }
        let tree = TreeIndex::load(c, reference).await?;
        let roots = match &requested {
            Some(u) => vec![u.id],
            None => tree.roots(),
        };

        let mut own: HashMap<Uuid, Tally> = HashMap::new();
        let counters = load_counters(c).await?;
        let horizon = counters
            .anchors
            .iter()
            .find(|a| a.0 == anchor)
            .and_then(|a| a.2);
        if let Some(h) = horizon {
            let year = (req.year - 1).min(h);
            let rows: Vec<(Uuid, i64)> = stat_membership::Entity::find()
                .select_only()
                .column(stat_membership::Column::UnitId)
                .column(stat_membership::Column::Members)
                .filter(stat_membership::Column::Anchor.eq(anchor.to_string()))
                .filter(stat_membership::Column::Year.eq(year))
                .into_tuple()
                .all(c)
                .await?;
            for (u, n) in rows {
                own.entry(u).or_default().base += u64::try_from(n).unwrap_or(0);
            }
        }
        let rows: Vec<(Uuid, i64)> = stat_admission::Entity::find()
            .select_only()
            .column(stat_admission::Column::UnitId)
            .column(stat_admission::Column::Admitted)
            .filter(stat_admission::Column::Year.eq(req.year))
            .into_tuple()
            .all(c)
            .await?;
        for (u, n) in rows {
            own.entry(u).or_default().admitted += u64::try_from(n).unwrap_or(0);
        }
        let forecasting = req.today <= dec31;
        if forecasting {
            let rows = forecast::own_rows(c).await?;
            for (unit, (n, e)) in forecast::tallies(&rows, req.today, jan1, dec31) {
                let t = own.entry(unit).or_default();
                t.open_cases += n;
                t.expected += e;
            }
        }
        let (rolled, unplaced) = core::roll_up(&own, &tree.spans, &tree.parent_on, reference);

        let mut figures = Vec::new();
        for root in roots {
            for (id, parent_id, depth) in tree.subtree(root, None) {
                let Some(unit) = tree.units.get(&id) else {
                    continue;
                };
                let tally = rolled.get(&id).copied().unwrap_or_default();
                figures.push(figures_of(
                    id,
                    &unit.code,
                    unit.kind,
                    parent_id,
                    depth,
                    tally,
                    &req.params,
                    forecasting,
                ));
            }
        }
        let listed: Vec<&TargetFigures> = figures
            .iter()
            .filter(|f| req.max_depth.is_none_or(|m| f.depth <= m))
            .collect();
        let rows = self.rows_of(&listed).await?;
        Ok(TargetReport {
            year: req.year,
            base_date: req.params.base_date(req.year),
            params: req.params.clone(),
            reference_date: reference,
            rows,
            figures,
            unplaced,
            fast: None,
        })
    }

    /// The report read from the subtree aggregates (`stat_rollup`): when they are built and
    /// the tree of the reference date is that of the year's last day (no dated change between
    /// them, so the report's unit did not end during the year either). `None` otherwise: the
    /// caller adds the counters up itself.
    async fn fast_targets(
        &self,
        req: &TargetRequest,
        requested: Option<&UnitRecord>,
        reference: NaiveDate,
    ) -> Result<Option<TargetReport>> {
        let c = self.db();
        let (jan1, dec31) = core::year_bounds(req.year);
        let counters = load_counters(c).await?;
        if !counters
            .rollups
            .iter()
            .any(|r| r.0 == req.params.anchor && r.1)
        {
            return Ok(None);
        }
        // The tree after the reference day: settled (no change at all after it, the usual
        // case, which also answers for the year's last day), or the same up to 31/12.
        let forecasting = req.today <= dec31;
        let settled = forecasting
            && !rollup::tree_changes_within(c, reference, forecast::settled_day()).await?;
        if !settled && rollup::tree_changes_within(c, reference, dec31).await? {
            return Ok(None);
        }
        let (roots, whole_forest) = match requested {
            Some(u) => (vec![u.clone()], false),
            None => (self.store.tree().roots_on(reference).await?, true),
        };
        let mut listed: Vec<(UnitRecord, Option<Uuid>, u32)> = Vec::new();
        for root in &roots {
            let parent = if requested.is_some() {
                self.store
                    .tree()
                    .parent_on(root.id, reference)
                    .await?
                    .map(|p| p.id)
            } else {
                None
            };
            self.descend(
                root.clone(),
                parent,
                reference,
                |_, depth| req.max_depth.is_none_or(|m| depth < m),
                &mut listed,
            )
            .await?;
        }
        let ids: Vec<Uuid> = listed.iter().map(|l| l.0.id).collect();
        let Some(values) = rollup::read(c, &counters, req.params.anchor, &ids, req.year).await?
        else {
            return Ok(None);
        };
        let mut unplaced = Tally::default();
        let open = if forecasting {
            Some(
                self.open_source(settled, reference, req.today, jan1, dec31, &mut unplaced)
                    .await?,
            )
        } else {
            None
        };
        let tallies = match &open {
            Some(o) => Some(o.of(c, &ids).await?),
            None => None,
        };
        let mut figures = Vec::with_capacity(listed.len());
        let mut rows = Vec::with_capacity(listed.len());
        for (unit, parent_id, depth) in listed {
            let tally = tally_of(unit.id, &values, tallies.as_ref());
            let f = figures_of(
                unit.id,
                &unit.code,
                unit.kind,
                parent_id,
                depth,
                tally,
                &req.params,
                forecasting,
            );
            rows.push(TargetRow::new(unit, &f));
            figures.push(f);
        }
        Ok(Some(TargetReport {
            year: req.year,
            base_date: req.params.base_date(req.year),
            params: req.params.clone(),
            reference_date: reference,
            rows,
            figures,
            unplaced,
            fast: Some(FastScope {
                roots,
                whole_forest,
                open,
            }),
        }))
    }

    /// `root` and the units below it on `on`, breadth first, each parent's children by code,
    /// going below a unit while `deeper(unit, its depth)`: `(unit, parent, depth)` appended.
    async fn descend(
        &self,
        root: UnitRecord,
        parent: Option<Uuid>,
        on: NaiveDate,
        deeper: impl Fn(&UnitRecord, u32) -> bool,
        out: &mut Vec<(UnitRecord, Option<Uuid>, u32)>,
    ) -> Result<()> {
        let mut frontier: Vec<Uuid> = if deeper(&root, 0) {
            vec![root.id]
        } else {
            Vec::new()
        };
        out.push((root, parent, 0));
        let mut depth = 0;
        while !frontier.is_empty() && depth < 32 {
            depth += 1;
            let mut by_parent: HashMap<Uuid, Vec<UnitRecord>> = HashMap::new();
            for (p, u) in self.store.tree().children_of_level(&frontier, on).await? {
                by_parent.entry(p).or_default().push(u);
            }
            let mut next = Vec::new();
            for p in &frontier {
                for u in by_parent.remove(p).unwrap_or_default() {
                    if deeper(&u, depth) {
                        next.push(u.id);
                    }
                    out.push((u, Some(*p), depth));
                }
            }
            frontier = next;
        }
        Ok(())
    }

    /// Where the open admission cases' tallies come from: while nothing changes on the tree
    /// after `on` (`settled`), each unit's subtree row; otherwise the units' own rows, each added to the
    /// unit standing for its unit on `on` and to that unit's ancestors then (those of units
    /// that did not exist yet go to `unplaced`).
    async fn open_source(
        &self,
        settled: bool,
        on: NaiveDate,
        today: NaiveDate,
        jan1: NaiveDate,
        dec31: NaiveDate,
        unplaced: &mut Tally,
    ) -> Result<OpenSource> {
        let c = self.db();
        if settled {
            return Ok(OpenSource::Settled {
                today,
                from: jan1,
                to: dec31,
            });
        }
        let own = forecast::tallies(&forecast::own_rows(c).await?, today, jan1, dec31);
        let ids: Vec<Uuid> = own.keys().copied().collect();
        let tree = rollup::LocalTree::around(c, &ids).await?;
        let mut out: HashMap<Uuid, (u64, f64)> = HashMap::new();
        for (unit, (n, e)) in own {
            match tree.chain(unit, on) {
                Some(chain) => {
                    for u in chain {
                        let t = out.entry(u).or_default();
                        t.0 += n;
                        t.1 += e;
                    }
                }
                None => {
                    unplaced.open_cases += n;
                    unplaced.expected += e;
                }
            }
        }
        Ok(OpenSource::Folded(out))
    }

    /// Rows with the units' full records, in the order of `figures`.
    async fn rows_of(&self, figures: &[&TargetFigures]) -> Result<Vec<TargetRow>> {
        let ids: Vec<Uuid> = figures.iter().map(|f| f.unit_id).collect();
        let mut records: HashMap<Uuid, UnitRecord> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            for u in self.store.tree().units(chunk).await? {
                records.insert(u.id, u);
            }
        }
        Ok(figures
            .iter()
            .filter_map(|f| records.remove(&f.unit_id).map(|u| TargetRow::new(u, f)))
            .collect())
    }

    /// The units of `report`'s subtree below its unit(s) that `keep` accepts and that are
    /// short of the floor, furthest behind first (by people missing, then by rate, then by
    /// code), at most `limit`.
    pub async fn units_at_risk(
        &self,
        report: &TargetReport,
        scope: RiskScope,
        limit: usize,
    ) -> Result<Vec<TargetRow>> {
        if let Some(fast) = &report.fast {
            return self.fast_units_at_risk(report, fast, scope, limit).await;
        }
        let mut chosen: Vec<&TargetFigures> = report
            .figures
            .iter()
            .filter(|f| f.depth > 0 && scope.keeps(f))
            .filter(|f| f.tally.base > 0 && f.shortfall() > 0)
            .collect();
        sort_at_risk(&mut chosen);
        chosen.truncate(limit);
        self.rows_of(&chosen).await
    }

    /// [`Statistics::units_at_risk`] of a report read from the subtree aggregates: the units in
    /// scope read from the tree of the reference date, their aggregates read by unit.
    async fn fast_units_at_risk(
        &self,
        report: &TargetReport,
        fast: &FastScope,
        scope: RiskScope,
        limit: usize,
    ) -> Result<Vec<TargetRow>> {
        let c = self.db();
        let on = report.reference_date;
        if let (RiskScope::Level(level), true) = (scope, fast.whole_forest) {
            return self.forest_units_at_risk(report, fast, level, limit).await;
        }
        if let RiskScope::Depth(depth) = scope {
            return self.subtree_units_at_risk(report, fast, depth, limit).await;
        }
        let mut found: Vec<(UnitRecord, Option<Uuid>, u32)> = Vec::new();
        for root in &fast.roots {
            self.descend(
                root.clone(),
                None,
                on,
                |u, depth| scope.descends(u.kind, depth),
                &mut found,
            )
            .await?;
        }
        let forecasting = fast.open.is_some();
        let mut units: HashMap<Uuid, UnitRecord> = HashMap::new();
        let mut candidates = Vec::new();
        for (unit, parent_id, depth) in found {
            let f = figures_of(
                unit.id,
                &unit.code,
                unit.kind,
                parent_id,
                depth,
                Tally::default(),
                &report.params,
                forecasting,
            );
            if depth > 0 && scope.keeps(&f) {
                candidates.push((unit.id, unit.code.clone(), unit.kind, parent_id, depth));
                units.insert(unit.id, unit);
            }
        }
        let ids: Vec<Uuid> = candidates.iter().map(|c| c.0).collect();
        let counters = load_counters(c).await?;
        let values = rollup::read(c, &counters, report.params.anchor, &ids, report.year)
            .await?
            .unwrap_or_default();
        let tallies = match &fast.open {
            Some(o) => Some(o.of(c, &ids).await?),
            None => None,
        };
        let figures: Vec<TargetFigures> = candidates
            .into_iter()
            .map(|(id, code, kind, parent_id, depth)| {
                let tally = tally_of(id, &values, tallies.as_ref());
                figures_of(
                    id,
                    &code,
                    kind,
                    parent_id,
                    depth,
                    tally,
                    &report.params,
                    forecasting,
                )
            })
            .collect();
        let mut chosen: Vec<&TargetFigures> = figures
            .iter()
            .filter(|f| f.tally.base > 0 && f.shortfall() > 0)
            .collect();
        sort_at_risk(&mut chosen);
        chosen.truncate(limit);
        Ok(chosen
            .into_iter()
            .filter_map(|f| units.remove(&f.unit_id).map(|u| TargetRow::new(u, f)))
            .collect())
    }

    /// The open admission cases' tallies `(cases, expected decisions within `year`)` of every
    /// unit on the tree of `on`, counted from the cases and their running deadlines, each
    /// case's added to the unit standing for its unit that day and to that unit's ancestors:
    /// the computation the reports made before the forecast's aggregates, kept as the reference
    /// they are checked against (tests, benchmarks). Reports never call it.
    pub async fn forecast_reference(
        &self,
        on: NaiveDate,
        today: NaiveDate,
        year: i32,
    ) -> Result<HashMap<Uuid, (u64, f64)>> {
        let c = self.db();
        let (jan1, dec31) = core::year_bounds(year);
        let own = forecast::tallies(&forecast::recount(c).await?, today, jan1, dec31);
        let ids: Vec<Uuid> = own.keys().copied().collect();
        let tree = rollup::LocalTree::around(c, &ids).await?;
        let mut out: HashMap<Uuid, (u64, f64)> = HashMap::new();
        for (unit, (n, e)) in own {
            for u in tree.chain(unit, on).unwrap_or_default() {
                let t = out.entry(u).or_default();
                t.0 += n;
                t.1 += e;
            }
        }
        Ok(out)
    }

    /// Admissions and base membership of `unit` for each of `years`, rolled up as in
    /// [`Statistics::admission_targets`] (for the chart of a unit over the years).
    pub async fn admission_series(
        &self,
        unit: Uuid,
        years: &[(i32, TargetParams)],
        today: NaiveDate,
    ) -> Result<Vec<(i32, TargetRow)>> {
        let mut out = Vec::new();
        for (year, params) in years {
            let report = self
                .admission_targets(&TargetRequest {
                    year: *year,
                    unit: Some(unit),
                    max_depth: Some(0),
                    today,
                    params: params.clone(),
                })
                .await;
            match report {
                Ok(r) => out.extend(r.rows.into_iter().take(1).map(|row| (*year, row))),
                // A year before the unit existed has nothing to draw.
                Err(StoreError::Validation(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

impl Statistics<'_> {
    /// The units at risk of one level over the whole forest: the units of that level on the
    /// reference date and their aggregates read in one query each; the depth and parent of
    /// the few chosen read afterwards.
    async fn forest_units_at_risk(
        &self,
        report: &TargetReport,
        fast: &FastScope,
        level: Level,
        limit: usize,
    ) -> Result<Vec<TargetRow>> {
        use sea_orm::QueryTrait as _;
        let c = self.db();
        let on = report.reference_date;
        let kinds: Vec<&str> = UnitKind::ALL
            .iter()
            .filter(|k| k.level() == level)
            .map(|k| k.as_str())
            .collect();
        let of_level = || {
            crate::entity::unit::Entity::find()
                .filter(crate::entity::unit::Column::Kind.is_in(kinds.iter().copied()))
                .filter(crate::tree::valid_on_unit(on))
        };
        let mut units: HashMap<Uuid, UnitRecord> = HashMap::new();
        for m in of_level().all(c).await? {
            let u: UnitRecord = m.try_into()?;
            units.insert(u.id, u);
        }
        let counters = load_counters(c).await?;
        let mut values: HashMap<Uuid, (u64, u64)> = HashMap::new();
        if let Some((_, Some(h))) = counters
            .rollups
            .iter()
            .find(|r| r.0 == report.params.anchor && r.1)
            .map(|r| (r.0, r.2))
        {
            let ids = of_level()
                .select_only()
                .column(crate::entity::unit::Column::Id)
                .into_query();
            let rows: Vec<(Uuid, i64, i64)> = stat_rollup::Entity::find()
                .select_only()
                .column(stat_rollup::Column::UnitId)
                .column(stat_rollup::Column::Base)
                .column(stat_rollup::Column::Admitted)
                .filter(stat_rollup::Column::Anchor.eq(report.params.anchor.to_string()))
                .filter(stat_rollup::Column::Year.eq(std::cmp::min(report.year, h)))
                .filter(stat_rollup::Column::UnitId.in_subquery(ids))
                .into_tuple()
                .all(c)
                .await?;
            for (u, b, a) in rows {
                let a = if report.year > h { 0 } else { a };
                values.insert(
                    u,
                    (u64::try_from(b).unwrap_or(0), u64::try_from(a).unwrap_or(0)),
                );
            }
        }
        let forecasting = fast.open.is_some();
        let tallies = match &fast.open {
            Some(o) => Some(
                o.of_query(
                    c,
                    of_level()
                        .select_only()
                        .column(crate::entity::unit::Column::Id)
                        .into_query(),
                )
                .await?,
            ),
            None => None,
        };
        let figures: Vec<TargetFigures> = units
            .values()
            .filter(|u| !fast.roots.iter().any(|r| r.id == u.id))
            .map(|u| {
                let tally = tally_of(u.id, &values, tallies.as_ref());
                figures_of(
                    u.id,
                    &u.code,
                    u.kind,
                    None,
                    0,
                    tally,
                    &report.params,
                    forecasting,
                )
            })
            .collect();
        let mut chosen: Vec<&TargetFigures> = figures
            .iter()
            .filter(|f| f.tally.base > 0 && f.shortfall() > 0)
            .collect();
        sort_at_risk(&mut chosen);
        chosen.truncate(limit);
        // Depth below the forest's root, and parent, of the chosen: from their ancestry.
        let ids: Vec<Uuid> = chosen.iter().map(|f| f.unit_id).collect();
        let tree = rollup::LocalTree::around(c, &ids).await?;
        let mut out = Vec::with_capacity(chosen.len());
        for f in chosen {
            let chain = tree.chain(f.unit_id, on).unwrap_or_default();
            let mut f = f.clone();
            f.parent_id = chain.get(1).copied();
            f.depth = u32::try_from(chain.len().saturating_sub(1)).unwrap_or(0);
            if let Some(u) = units.remove(&f.unit_id) {
                out.push(TargetRow::new(u, &f));
            }
        }
        Ok(out)
    }
}

impl Statistics<'_> {
    /// The units at risk `depth` levels below the report's unit(s) (every level when `None`):
    /// the subtree's units with their depth, code, kind and aggregate in one query (the
    /// tree's ancestry joined to `stat_rollup`), then the parents and the units of the few
    /// chosen. Four statements whatever the subtree's size (five for a past year, whose
    /// candidates the database picks), where walking it level by level took two per level and
    /// per 500 units, plus one per 500 units for the aggregates.
    async fn subtree_units_at_risk(
        &self,
        report: &TargetReport,
        fast: &FastScope,
        depth: Option<u32>,
        limit: usize,
    ) -> Result<Vec<TargetRow>> {
        use crate::entity::{unit, unit_ancestry};
        use sea_orm::ConnectionTrait as _;
        use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query};
        let c = self.db();
        let on = report.reference_date;
        let counters = load_counters(c).await?;
        let Some(h) = counters
            .rollups
            .iter()
            .find(|r| r.0 == report.params.anchor && r.1)
            .and_then(|r| r.2)
        else {
            // No aggregate: nobody has members on the base date, nobody is at risk.
            return Ok(Vec::new());
        };
        let ua = |col: unit_ancestry::Column| Expr::col((unit_ancestry::Entity, col));
        let mut q = Query::select()
            .expr_as(ua(unit_ancestry::Column::UnitId), Alias::new("unit_id"))
            .expr_as(ua(unit_ancestry::Column::Depth), Alias::new("depth"))
            .expr_as(
                Expr::col((unit::Entity, unit::Column::Code)),
                Alias::new("code"),
            )
            .expr_as(
                Expr::col((unit::Entity, unit::Column::Kind)),
                Alias::new("kind"),
            )
            .expr_as(
                Expr::col((stat_rollup::Entity, stat_rollup::Column::Base)),
                Alias::new("base"),
            )
            .expr_as(
                Expr::col((stat_rollup::Entity, stat_rollup::Column::Admitted)),
                Alias::new("admitted"),
            )
            .from(unit_ancestry::Entity)
            .inner_join(
                unit::Entity,
                Expr::col((unit::Entity, unit::Column::Id))
                    .equals((unit_ancestry::Entity, unit_ancestry::Column::UnitId)),
            )
            .inner_join(
                stat_rollup::Entity,
                Condition::all()
                    .add(
                        Expr::col((stat_rollup::Entity, stat_rollup::Column::UnitId))
                            .equals((unit_ancestry::Entity, unit_ancestry::Column::UnitId)),
                    )
                    .add(
                        Expr::col((stat_rollup::Entity, stat_rollup::Column::Anchor))
                            .eq(report.params.anchor.to_string()),
                    )
                    .add(
                        Expr::col((stat_rollup::Entity, stat_rollup::Column::Year))
                            .eq(std::cmp::min(report.year, h)),
                    ),
            )
            .and_where(ua(unit_ancestry::Column::AncestorId).is_in(fast.roots.iter().map(|r| r.id)))
            .cond_where(crate::tree::ancestry::valid_on(on))
            .cond_where(crate::tree::valid_on_unit(on))
            .to_owned();
        match depth {
            Some(d) => q.and_where(ua(unit_ancestry::Column::Depth).eq(i64::from(d))),
            None => q.and_where(ua(unit_ancestry::Column::Depth).gt(0)),
        };
        let forecasting = fast.open.is_some();
        if limit == 0 {
            return Ok(Vec::new());
        }
        if !forecasting {
            // A past year: the shortfall is the aggregate's alone, so the database picks the
            // candidates. Only the units whose shortfall reaches the `limit`-th largest come
            // back (ties included), where every unit of the subtree did: the exact order
            // (rate, code) is still decided below, on those few.
            let admitted: sea_orm::sea_query::SimpleExpr = if report.year > h {
                Expr::val(0i64)
            } else {
                Expr::col((stat_rollup::Entity, stat_rollup::Column::Admitted))
            };
            let base = Expr::col((stat_rollup::Entity, stat_rollup::Column::Base));
            let shortfall = required_sql(base.clone(), report.params.low).sub(admitted);
            q.and_where(base.gt(0)).and_where(shortfall.clone().gt(0));
            let mut kth = q.clone();
            kth.clear_selects()
                .expr_as(shortfall.clone(), Alias::new("shortfall"))
                .order_by_expr(shortfall.clone(), sea_orm::sea_query::Order::Desc)
                .limit(1)
                .offset(u64::try_from(limit - 1).unwrap_or(u64::MAX));
            if let Some(row) = c.query_one(&kth).await? {
                let s: i64 = row.try_get("", "shortfall")?;
                q.and_where(shortfall.gte(s));
            }
        }
        let tallies = match &fast.open {
            Some(o) => {
                let mut below = Query::select()
                    .column(unit_ancestry::Column::UnitId)
                    .from(unit_ancestry::Entity)
                    .and_where(
                        unit_ancestry::Column::AncestorId.is_in(fast.roots.iter().map(|r| r.id)),
                    )
                    .cond_where(crate::tree::ancestry::valid_on(on))
                    .to_owned();
                match depth {
                    Some(d) => below.and_where(unit_ancestry::Column::Depth.eq(i64::from(d))),
                    None => below.and_where(unit_ancestry::Column::Depth.gt(0)),
                };
                Some(o.of_query(c, below).await?)
            }
            None => None,
        };
        let mut figures = Vec::new();
        for row in c.query_all(&q).await? {
            let id: Uuid = row.try_get("", "unit_id")?;
            let kind: String = row.try_get("", "kind")?;
            let Some(kind) = UnitKind::parse(&kind) else {
                continue;
            };
            let base: i64 = row.try_get("", "base")?;
            let admitted: i64 = if report.year > h {
                0
            } else {
                row.try_get("", "admitted")?
            };
            let d: i32 = row.try_get("", "depth")?;
            let (open_cases, expected) = tallies
                .as_ref()
                .and_then(|o| o.get(&id).copied())
                .unwrap_or_default();
            let tally = Tally {
                base: u64::try_from(base).unwrap_or(0),
                admitted: u64::try_from(admitted).unwrap_or(0),
                open_cases,
                expected,
            };
            figures.push(figures_of(
                id,
                &row.try_get::<String>("", "code")?,
                kind,
                None,
                u32::try_from(d).unwrap_or(0),
                tally,
                &report.params,
                forecasting,
            ));
        }
        let mut chosen: Vec<&TargetFigures> = figures
            .iter()
            .filter(|f| f.tally.base > 0 && f.shortfall() > 0)
            .collect();
        sort_at_risk(&mut chosen);
        chosen.truncate(limit);
        let ids: Vec<Uuid> = chosen.iter().map(|f| f.unit_id).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let parents: HashMap<Uuid, Uuid> = unit_ancestry::Entity::find()
            .select_only()
            .column(unit_ancestry::Column::UnitId)
            .column(unit_ancestry::Column::AncestorId)
            .filter(unit_ancestry::Column::UnitId.is_in(ids.iter().copied()))
            .filter(unit_ancestry::Column::Depth.eq(1))
            .filter(crate::tree::ancestry::valid_on(on))
            .into_tuple::<(Uuid, Uuid)>()
            .all(c)
            .await?
            .into_iter()
            .collect();
        let mut units: HashMap<Uuid, UnitRecord> = self
            .store
            .tree()
            .units(&ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(chosen
            .into_iter()
            .filter_map(|f| {
                let mut f = f.clone();
                f.parent_id = parents.get(&f.unit_id).copied();
                units.remove(&f.unit_id).map(|u| TargetRow::new(u, &f))
            })
            .collect())
    }
}

/// `Threshold::required` of the integer `total` as SQL: the fewest people meeting the
/// threshold, computed by the database in integers exactly as in Rust.
fn required_sql(
    total: sea_orm::sea_query::SimpleExpr,
    t: memberflow_workflow::engine::Threshold,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::ExprTrait as _;
    let (num, den) = (i64::from(t.num), i64::from(t.den));
    let prod = total.mul(num);
    if t.strict {
        prod.div(den).add(1i64)
    } else {
        prod.add(den - 1).div(den)
    }
}

/// A unit's tally from its aggregate and the open cases' tallies.
fn tally_of(
    id: Uuid,
    values: &HashMap<Uuid, (u64, u64)>,
    open: Option<&HashMap<Uuid, (u64, f64)>>,
) -> Tally {
    let (base, admitted) = values.get(&id).copied().unwrap_or_default();
    let (open_cases, expected) = open.and_then(|o| o.get(&id).copied()).unwrap_or_default();
    Tally {
        base,
        admitted,
        open_cases,
        expected,
    }
}

// ---------------------------------------------------------------------------------------------
// The source report's other figures

/// Members of a subtree on a date, as the source report counts them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberBreakdown {
    /// The date.
    pub on: Option<NaiveDate>,
    /// Party members (probationary and official).
    pub total: u64,
    /// Of whom probationary.
    pub probationary: u64,
    /// Women.
    pub women: u64,
    /// By age band on the date, youngest first (every band listed).
    pub by_age: Vec<(AgeBand, u64)>,
    /// By ethnicity, largest first.
    pub by_ethnicity: Vec<(String, u64)>,
    /// By religion (members with one), largest first.
    pub by_religion: Vec<(String, u64)>,
    /// By schooling code, largest first.
    pub by_education: Vec<(String, u64)>,
    /// By occupation code (`None`: not recorded), largest first.
    pub by_occupation: Vec<(Option<String>, u64)>,
}

/// Discipline and removals of a subtree over a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DisciplineCounts {
    /// Discipline decisions by form code (`reprimand`, `warning`, `removal`, `expulsion`).
    pub by_form: Vec<(String, u64)>,
    /// Members struck off (xóa tên) in the period.
    pub struck_off: u64,
    /// Members whose expulsion took effect in the period.
    pub expelled: u64,
}

/// The units of a subtree on a date.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitCounts {
    /// By kind, in level order.
    pub by_kind: Vec<(UnitKind, u64)>,
    /// Branches by the report's category.
    pub by_category: Vec<(String, u64)>,
}

/// Badges awarded to members of a subtree over a period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BadgeCounts {
    /// By years of membership (30, 40, …), ascending.
    pub by_years: Vec<(i32, u64)>,
}

fn sorted<K: Ord + Clone>(m: BTreeMap<K, u64>) -> Vec<(K, u64)> {
    let mut v: Vec<(K, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// The unit a member was in on `d`: the period covering it, else the last one before it,
/// else the first.
fn unit_on(periods: &[(Uuid, NaiveDate, Option<NaiveDate>)], d: NaiveDate) -> Option<Uuid> {
    periods
        .iter()
        .find(|(_, f, t)| *f <= d && t.is_none_or(|t| d < t))
        .or_else(|| {
            periods
                .iter()
                .filter(|(_, f, _)| *f <= d)
                .max_by_key(|(_, f, _)| *f)
        })
        .or_else(|| periods.iter().min_by_key(|(_, f, _)| *f))
        .map(|p| p.0)
}

fn valid_on(from: impl ColumnTrait, to: impl ColumnTrait, d: NaiveDate) -> Condition {
    Condition::all()
        .add(from.lte(d))
        .add(Condition::any().add(to.is_null()).add(to.gt(d)))
}

impl Statistics<'_> {
    /// The members of `unit`'s subtree (everyone when `None`) on `on`, by the source
    /// report's breakdowns.
    pub async fn member_breakdown(
        &self,
        unit: Option<Uuid>,
        on: NaiveDate,
    ) -> Result<MemberBreakdown> {
        let c = self.db();
        let units: Option<Vec<Uuid>> = match unit {
            Some(id) => Some(self.store.tree().subtree_ids_on(id, on).await?),
            None => None,
        };
        type Row = (
            NaiveDate,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            String,
        );
        let query = || {
            member::Entity::find()
                .select_only()
                .column(member::Column::DateOfBirth)
                .column(member::Column::Sex)
                .column(member::Column::Ethnicity)
                .column(member::Column::Religion)
                .column(member::Column::Education)
                .column(member::Column::Occupation)
                .column(member_status::Column::Status)
                .join(JoinType::InnerJoin, member::Relation::MemberUnit.def())
                .join(JoinType::InnerJoin, member::Relation::MemberStatus.def())
                .filter(valid_on(
                    member_unit::Column::ValidFrom,
                    member_unit::Column::ValidTo,
                    on,
                ))
                .filter(valid_on(
                    member_status::Column::ValidFrom,
                    member_status::Column::ValidTo,
                    on,
                ))
                .filter(member_status::Column::Status.is_in([
                    MemberStatus::Official.as_str(),
                    MemberStatus::Probationary.as_str(),
                ]))
        };
        let mut rows: Vec<Row> = Vec::new();
        match &units {
            Some(ids) => {
                for chunk in ids.chunks(500) {
                    rows.extend(
                        query()
                            .filter(member_unit::Column::UnitId.is_in(chunk.iter().copied()))
                            .into_tuple::<Row>()
                            .all(c)
                            .await?,
                    );
                }
            }
            None => rows = query().into_tuple::<Row>().all(c).await?,
        }
        let mut out = MemberBreakdown {
            on: Some(on),
            ..MemberBreakdown::default()
        };
        let mut ages: BTreeMap<AgeBand, u64> = AgeBand::ALL.iter().map(|b| (*b, 0)).collect();
        let mut ethnicity = BTreeMap::new();
        let mut religion = BTreeMap::new();
        let mut education = BTreeMap::new();
        let mut occupation = BTreeMap::new();
        for (dob, sex, eth, rel, edu, occ, status) in rows {
            out.total += 1;
            if status == MemberStatus::Probationary.as_str() {
                out.probationary += 1;
            }
            if sex == "FEMALE" {
                out.women += 1;
            }
            *ages
                .entry(AgeBand::of_age(core::age_on(dob, on)))
                .or_default() += 1;
            *ethnicity.entry(eth).or_default() += 1;
            if let Some(r) = rel {
                *religion.entry(r).or_default() += 1;
            }
            *education.entry(edu).or_default() += 1;
            *occupation.entry(occ).or_default() += 1;
        }
        out.by_age = ages.into_iter().collect();
        out.by_ethnicity = sorted(ethnicity);
        out.by_religion = sorted(religion);
        out.by_education = sorted(education);
        out.by_occupation = sorted(occupation);
        Ok(out)
    }

    /// The units of `unit`'s subtree (every unit when `None`) existing on `on`, by kind and
    /// branch category.
    pub async fn unit_counts(&self, unit: Option<Uuid>, on: NaiveDate) -> Result<UnitCounts> {
        let tree = TreeIndex::load(self.db(), on).await?;
        let ids = tree.units_under(unit);
        let mut kinds: BTreeMap<usize, u64> = BTreeMap::new();
        let mut categories: BTreeMap<String, u64> = BTreeMap::new();
        for id in ids {
            let Some(u) = tree.units.get(&id) else {
                continue;
            };
            let k = UnitKind::ALL.iter().position(|k| *k == u.kind).unwrap_or(0);
            *kinds.entry(k).or_default() += 1;
            if let Some(c) = &u.branch_category {
                *categories.entry(c.clone()).or_default() += 1;
            }
        }
        Ok(UnitCounts {
            by_kind: kinds
                .into_iter()
                .map(|(k, n)| (UnitKind::ALL[k], n))
                .collect(),
            by_category: sorted(categories),
        })
    }

    /// The units of members, over their whole history.
    async fn unit_periods(
        &self,
        members: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<(Uuid, NaiveDate, Option<NaiveDate>)>>> {
        let mut out: HashMap<Uuid, Vec<_>> = HashMap::new();
        for chunk in members.chunks(500) {
            let rows: Vec<(Uuid, Uuid, NaiveDate, Option<NaiveDate>)> = member_unit::Entity::find()
                .select_only()
                .column(member_unit::Column::MemberId)
                .column(member_unit::Column::UnitId)
                .column(member_unit::Column::ValidFrom)
                .column(member_unit::Column::ValidTo)
                .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(self.db())
                .await?;
            for (m, u, f, t) in rows {
                out.entry(m).or_default().push((u, f, t));
            }
        }
        Ok(out)
    }

    /// Whether a fact of unit `u` counts for `root`'s subtree on the tree of `tree`.
    fn counts(tree: Option<&(TreeIndex, Uuid)>, u: Option<Uuid>) -> bool {
        match (tree, u) {
            (None, _) => true,
            (Some((t, root)), Some(u)) => t.counts_under(u, *root),
            (Some(_), None) => false,
        }
    }

    async fn tree_for(
        &self,
        unit: Option<Uuid>,
        on: NaiveDate,
    ) -> Result<Option<(TreeIndex, Uuid)>> {
        match unit {
            Some(root) => Ok(Some((TreeIndex::load(self.db(), on).await?, root))),
            None => Ok(None),
        }
    }

    /// Admissions by the decision's year, for decisions dated within `[from, to]`, counted in
    /// the member's first unit and rolled up on the tree of `to` (everyone when `unit` is
    /// `None`).
    pub async fn admissions_by_year(
        &self,
        unit: Option<Uuid>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(i32, u64)>> {
        let admitted: Vec<(Uuid, NaiveDate)> = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .column(member::Column::AdmissionDecisionDate)
            .filter(member::Column::AdmissionDecisionDate.gte(from))
            .filter(member::Column::AdmissionDecisionDate.lte(to))
            .into_tuple()
            .all(self.db())
            .await?;
        let tree = self.tree_for(unit, to).await?;
        let periods = if tree.is_some() {
            let ids: Vec<Uuid> = admitted.iter().map(|a| a.0).collect();
            self.unit_periods(&ids).await?
        } else {
            HashMap::new()
        };
        let mut by_year: BTreeMap<i32, u64> = BTreeMap::new();
        for (m, d) in admitted {
            let first = periods
                .get(&m)
                .and_then(|p| p.iter().min_by_key(|x| x.1).map(|x| x.0));
            if Self::counts(tree.as_ref(), first) {
                *by_year.entry(d.year()).or_default() += 1;
            }
        }
        Ok(by_year.into_iter().collect())
    }

    /// Discipline decisions by form, members struck off and expulsions, dated within
    /// `[from, to]`, in `unit`'s subtree on the tree of `to` (everyone when `None`). The
    /// decisions are those of the discipline register, which the cases write (`impose`, appeal
    /// rulings, lapse, annulment): each counts once, by its decision's date, with the form in
    /// force after any appeal; an annulled one (P6) does not count.
    pub async fn discipline_counts(
        &self,
        unit: Option<Uuid>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DisciplineCounts> {
        let tree = self.tree_for(unit, to).await?;
        let records: Vec<(Uuid, String)> = discipline_record::Entity::find()
            .select_only()
            .column(discipline_record::Column::UnitId)
            .column(discipline_record::Column::Form)
            .filter(discipline_record::Column::DecisionDate.gte(from))
            .filter(discipline_record::Column::DecisionDate.lte(to))
            .filter(discipline_record::Column::Status.ne(DisciplineStatus::Annulled.code()))
            .into_tuple()
            .all(self.db())
            .await?;
        let mut by_form: BTreeMap<String, u64> = BTreeMap::new();
        for (u, form) in records {
            if Self::counts(tree.as_ref(), Some(u)) {
                *by_form.entry(form).or_default() += 1;
            }
        }
        let leaving: Vec<(Uuid, String, NaiveDate)> = member_status::Entity::find()
            .select_only()
            .column(member_status::Column::MemberId)
            .column(member_status::Column::Status)
            .column(member_status::Column::ValidFrom)
            .filter(member_status::Column::Status.is_in([
                MemberStatus::StruckOff.as_str(),
                MemberStatus::Expelled.as_str(),
            ]))
            .filter(member_status::Column::ValidFrom.gte(from))
            .filter(member_status::Column::ValidFrom.lte(to))
            .into_tuple()
            .all(self.db())
            .await?;
        let periods = if tree.is_some() {
            let ids: Vec<Uuid> = leaving.iter().map(|l| l.0).collect();
            self.unit_periods(&ids).await?
        } else {
            HashMap::new()
        };
        let mut out = DisciplineCounts {
            by_form: sorted(by_form),
            ..DisciplineCounts::default()
        };
        for (m, status, d) in leaving {
            let u = periods.get(&m).and_then(|p| unit_on(p, d));
            if !Self::counts(tree.as_ref(), u) {
                continue;
            }
            if status == MemberStatus::StruckOff.as_str() {
                out.struck_off += 1;
            } else {
                out.expelled += 1;
            }
        }
        Ok(out)
    }

    /// Badges awarded within `[from, to]` to members of `unit`'s subtree on the tree of `to`
    /// (everyone when `None`), by years of membership.
    pub async fn badge_counts(
        &self,
        unit: Option<Uuid>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BadgeCounts> {
        let tree = self.tree_for(unit, to).await?;
        let awards: Vec<(Uuid, i32, NaiveDate)> = badge_award::Entity::find()
            .select_only()
            .column(badge_award::Column::MemberId)
            .column(badge_award::Column::Years)
            .column(badge_award::Column::AwardDate)
            .filter(badge_award::Column::AwardDate.gte(from))
            .filter(badge_award::Column::AwardDate.lte(to))
            .into_tuple()
            .all(self.db())
            .await?;
        let periods = if tree.is_some() {
            let ids: Vec<Uuid> = awards.iter().map(|a| a.0).collect();
            self.unit_periods(&ids).await?
        } else {
            HashMap::new()
        };
        let mut by_years: BTreeMap<i32, u64> = BTreeMap::new();
        for (m, years, d) in awards {
            let u = periods.get(&m).and_then(|p| unit_on(p, d));
            if Self::counts(tree.as_ref(), u) {
                *by_years.entry(years).or_default() += 1;
            }
        }
        Ok(BadgeCounts {
            by_years: by_years.into_iter().collect(),
        })
    }
}
