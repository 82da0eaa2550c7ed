//! The annual admission target in GraphQL (S20, S21; docs/targets.md): for any unit and any
//! year, the rate of admissions against the members on the base date, where it stands in the
//! 3–4% band, the gap in people, the forecast of the year's end from the open admission
//! cases, the subtree rolled up level by level, and the units furthest behind.

use async_graphql::{Context, Enum, ID, Object};
use chrono::NaiveDate;
use memberflow_store::{
    TargetReport, TargetRequest, TargetRow as StoreRow, UnitRecord, target_reference,
};
use memberflow_workflow::stats::{Assessment, Band, TargetParams};
use memberflow_workflow::text::Text;
use tokio::sync::OnceCell;

use crate::access::require;
use crate::error::{ApiError, OrGql};
use crate::hamlets::HamletsWithout;
use crate::questions::UnitsWithoutAdmission;
use crate::scalars::{Date, parse_id, to_id};
use crate::tree::{Unit, app, lang, read_apart};
use memberflow_workflow::access::Permission;

/// Where a rate stands against the target band.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TargetBand {
    /// No members on the base date: no rate.
    NoBase,
    /// Below the floor (3%).
    Below,
    /// Within the band (3% to 4%, both included).
    Within,
    /// Above the ceiling (more than 4%).
    Above,
}

impl From<Band> for TargetBand {
    fn from(b: Band) -> Self {
        match b {
            Band::NoBase => TargetBand::NoBase,
            Band::Below => TargetBand::Below,
            Band::Within => TargetBand::Within,
            Band::Above => TargetBand::Above,
        }
    }
}

fn percent(num: u32, den: u32) -> f64 {
    f64::from(num) * 100.0 / f64::from(den)
}

/// Where a unit will end the year, while it runs.
pub struct TargetForecast {
    row: StoreRow,
}

#[Object]
impl TargetForecast {
    /// Admission cases open in the unit's subtree, not decided yet.
    async fn open_cases(&self) -> u64 {
        self.row.tally.open_cases
    }
    /// How many of them are expected to be decided by 31/12 (the sum of their likelihoods,
    /// from their stage and deadline).
    async fn expected_decisions(&self) -> f64 {
        self.row.forecast.as_ref().map_or(0.0, |f| f.expected)
    }
    /// Admissions so far plus the expected decisions, rounded.
    async fn projected(&self) -> u64 {
        self.row.forecast.as_ref().map_or(0, |f| f.projected)
    }
    /// Where the projection stands against the band.
    async fn band(&self) -> TargetBand {
        self.assessment().band.into()
    }
    /// People still missing to the floor after the projection.
    async fn gap_low(&self) -> u64 {
        self.assessment().gap_low
    }
    /// People still missing to the ceiling after the projection.
    async fn gap_high(&self) -> u64 {
        self.assessment().gap_high
    }
}

impl TargetForecast {
    fn assessment(&self) -> &Assessment {
        self.row.projected.as_ref().unwrap_or(&self.row.assessment)
    }
}

/// A unit's admissions of a year against the target, with everything below it added in.
pub struct TargetRow(StoreRow);

#[Object]
impl TargetRow {
    /// The unit.
    async fn unit(&self) -> Unit {
        Unit(self.0.unit.clone())
    }
    /// Its parent on the reference date.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(to_id)
    }
    /// Levels below the report's unit (0 for the unit itself).
    async fn depth(&self) -> u32 {
        self.0.depth
    }
    /// Party members (probationary and official) on the base date, in the subtree.
    async fn members_at_base(&self) -> u64 {
        self.0.assessment.base
    }
    /// Admissions in the year so far, by the admission decision's date.
    async fn admitted(&self) -> u64 {
        self.0.assessment.admitted
    }
    /// Admissions over members at the base date, in percent (null without members).
    async fn rate(&self) -> Option<f64> {
        self.0.assessment.rate
    }
    /// Where the rate stands against the band.
    async fn band(&self) -> TargetBand {
        self.0.assessment.band.into()
    }
    /// The band in words, in the reader's language.
    async fn band_label(&self, ctx: &Context<'_>) -> String {
        self.0.assessment.band.label().get(lang(ctx)).to_owned()
    }
    /// Admissions that reach the floor (3% of the base, rounded up).
    async fn target_low(&self) -> u64 {
        self.0.assessment.target_low
    }
    /// Admissions that reach the ceiling (4% of the base, rounded up).
    async fn target_high(&self) -> u64 {
        self.0.assessment.target_high
    }
    /// People still to admit to reach the floor.
    async fn gap_low(&self) -> u64 {
        self.0.assessment.gap_low
    }
    /// People still to admit to reach the ceiling.
    async fn gap_high(&self) -> u64 {
        self.0.assessment.gap_high
    }
    /// Where the year will end; null once it is over.
    async fn forecast(&self) -> Option<TargetForecast> {
        self.0.forecast.is_some().then(|| TargetForecast {
            row: self.0.clone(),
        })
    }
}

/// The admission target of a year over a unit's subtree. The figures are computed once, when
/// a field first needs them; the questions asked of the same subtree as of the reference date
/// (`unitsWithoutAdmission`, `hamletsWithout`) do not wait for them, so a client asking for
/// all of it in one request waits for the slowest part, not for their sum.
pub struct AdmissionTargetReport {
    req: TargetRequest,
    unit: UnitRecord,
    reference: NaiveDate,
    report: OnceCell<TargetReport>,
}

impl AdmissionTargetReport {
    async fn report(&self, ctx: &Context<'_>) -> async_graphql::Result<&TargetReport> {
        self.report
            .get_or_try_init(|| {
                let req = self.req.clone();
                read_apart(ctx, |store| async move {
                    store.stats().admission_targets(&req).await
                })
            })
            .await
    }

    /// The day the questions are asked on: the reference date, or today for a year to come.
    fn question_day(&self, ctx: &Context<'_>) -> NaiveDate {
        self.reference.min(app(ctx).clock.today())
    }
}

#[Object]
impl AdmissionTargetReport {
    /// The year.
    async fn year(&self) -> i32 {
        self.req.year
    }
    /// The rule set the band and the base date come from.
    async fn rule_set(&self) -> &str {
        &self.req.params.rule_set
    }
    /// The band's floor, in percent (S21.target_band_low).
    async fn band_low(&self) -> f64 {
        percent(self.req.params.low.num, self.req.params.low.den)
    }
    /// The band's ceiling, in percent (S21.target_band_high).
    async fn band_high(&self) -> f64 {
        percent(self.req.params.high.num, self.req.params.high.den)
    }
    /// The day members were counted on (S21.base_date of the year before).
    async fn base_date(&self) -> Date {
        Date(self.req.params.base_date(self.req.year))
    }
    /// The day the tree is taken as it stood: the year's last day, today while it runs, or
    /// the unit's last day if it ended during the year. Units that ended before it count in
    /// their successor (merged) or their last parent (dissolved).
    async fn reference_date(&self) -> Date {
        Date(self.reference)
    }
    /// The unit's own row (depth 0).
    async fn total(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<TargetRow>> {
        Ok(self.report(ctx).await?.rows.first().cloned().map(TargetRow))
    }
    /// The unit and the units below it down to `maxDepth` levels, breadth first, each
    /// with its own subtree added in.
    async fn rows(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TargetRow>> {
        Ok(self
            .report(ctx)
            .await?
            .rows
            .iter()
            .cloned()
            .map(TargetRow)
            .collect())
    }
    /// The units below short of the floor (by the forecast while the year runs), furthest
    /// behind first: by people missing, then by rate. Only those `depth` levels down when
    /// given.
    async fn units_at_risk(
        &self,
        ctx: &Context<'_>,
        depth: Option<u32>,
        #[graphql(default = 20)] first: u32,
    ) -> async_graphql::Result<Vec<TargetRow>> {
        Ok(app(ctx)
            .store
            .stats()
            .units_at_risk(
                self.report(ctx).await?,
                memberflow_store::RiskScope::Depth(depth),
                first.min(1_000) as usize,
            )
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(TargetRow)
            .collect())
    }
    /// The grassroots organizations and branches of the unit's subtree that admitted nobody
    /// in the `years` years (1 to 100) up to the reference date (today for a year to come):
    /// `Query.unitsWithoutAdmission` of the unit on that day, asked at once with the figures.
    async fn units_without_admission(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 5)] years: u32,
        first: Option<u32>,
    ) -> async_graphql::Result<UnitsWithoutAdmission> {
        let d = self.question_day(ctx);
        crate::questions::idle_units(ctx, Some(self.unit.clone()), d, years, first).await
    }
    /// The hamlets and residential groups of the unit's subtree without a member living in
    /// them, or without a hamlet branch, on the reference date (today for a year to come):
    /// `Query.hamletsWithout` of the unit on that day, asked at once with the figures.
    #[graphql(complexity = "100")]
    async fn hamlets_without(&self, ctx: &Context<'_>) -> async_graphql::Result<HamletsWithout> {
        let d = self.question_day(ctx);
        crate::hamlets::hamlets_without_on(ctx, self.unit.clone(), d).await
    }
}

/// Reading the admission targets.
#[derive(Default)]
pub struct TargetQuery;

#[Object]
impl TargetQuery {
    /// The admission target of `year` for a unit (by `unitId` or `code`, exactly one),
    /// rolled up level by level down to `maxDepth` levels (1 by default).
    async fn admission_target(
        &self,
        ctx: &Context<'_>,
        unit_id: Option<ID>,
        code: Option<String>,
        year: i32,
        #[graphql(default = 1)] max_depth: u32,
    ) -> async_graphql::Result<AdmissionTargetReport> {
        let l = lang(ctx);
        let a = app(ctx);
        let unit = match (unit_id, code) {
            (Some(id), None) => a
                .store
                .tree()
                .unit(parse_id(&id, "unit").gql(l)?)
                .await
                .gql(l)?,
            (None, Some(code)) => a.store.tree().unit_by_code(&code).await.gql(l)?,
            _ => {
                return Err(ApiError::Validation(Text::new(
                    "Hãy cho biết đúng một trong hai: unitId hoặc code.",
                    "Give exactly one of unitId and code.",
                ))
                .into_graphql(l));
            }
        };
        require(ctx, Permission::ReadReports, unit.id).await?;
        if !(1900..=9999).contains(&year) {
            return Err(ApiError::Validation(Text::new(
                format!("Năm {year} không hợp lệ."),
                format!("{year} is not a valid year."),
            ))
            .into_graphql(l));
        }
        let params = TargetParams::for_year(&a.catalog.rules, year)
            .map_err(|e| ApiError::Validation(e.text()).into_graphql(l))?;
        let today = a.clock.today();
        let reference = target_reference(year, today, Some(&unit)).gql(l)?;
        Ok(AdmissionTargetReport {
            req: TargetRequest {
                year,
                unit: Some(unit.id),
                max_depth: Some(max_depth),
                today,
                params,
            },
            unit,
            reference,
            report: OnceCell::new(),
        })
    }
}
