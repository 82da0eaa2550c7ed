//! Statistics maths: the admission rate against the annual target (S20, S21), the band check,
//! the gap in people, the forecast of the year's end from the open admission cases, the
//! roll-up of unit figures through the tree (units that ended folded into their successors),
//! the arithmetic of the membership counters, age bands, and the deterministic helpers the
//! demo generator builds on (largest-remainder apportionment, a small seeded PRNG).
//!
//! Everything here is pure: no clock, no I/O, no hidden randomness. The definitions (what is
//! counted, on which date, in which unit) are explained in `docs/targets.md`; this module is
//! their one implementation, which the store, the API and the reports all call.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use chrono::{Datelike, NaiveDate};

use crate::engine::{ParamError, RuleBook, RuleSet, Threshold};
use crate::text::Text;

/// The rule-set parameter holding the band's floor (S21): `">= 3/100"`.
pub const PARAM_BAND_LOW: &str = "S21.target_band_low";
/// The rule-set parameter holding the band's ceiling (S21): `">= 4/100"`.
pub const PARAM_BAND_HIGH: &str = "S21.target_band_high";
/// The rule-set parameter holding the base date's month and day (S21): `"12-31"`, in the
/// year before the one the target is for.
pub const PARAM_BASE_DATE: &str = "S21.base_date";

/// Why the target's parameters could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// The rule set lacks a parameter or has it with another kind.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// `S21.base_date` is not a month and day `MM-DD`.
    #[error("rule set {rule_set}: S21.base_date `{value}` is not a month and day (MM-DD)")]
    BadBaseDate {
        /// Rule set id.
        rule_set: String,
        /// The value found.
        value: String,
    },
    /// The rule book holds no rule set at all.
    #[error("no rule set is loaded")]
    NoRuleSet,
}

impl StatsError {
    /// The reason in Vietnamese and English, for people.
    pub fn text(&self) -> Text {
        match self {
            StatsError::Param(e) => Text::new(
                format!("Bộ quy tắc thiếu hoặc ghi sai tham số chỉ tiêu kết nạp (S21): {e}."),
                format!(
                    "The rule set lacks or misstates a parameter of the admission target (S21): {e}."
                ),
            ),
            StatsError::BadBaseDate { rule_set, value } => Text::new(
                format!(
                    "Bộ quy tắc {rule_set}: ngày mốc S21.base_date \"{value}\" phải có dạng tháng-ngày (MM-DD)."
                ),
                format!(
                    "Rule set {rule_set}: S21.base_date \"{value}\" must be a month and day (MM-DD)."
                ),
            ),
            StatsError::NoRuleSet => {
                Text::new("Chưa nạp bộ quy tắc nào.", "No rule set is loaded.")
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The base date

/// A month and day, the same every year: the day membership is counted for the next year's
/// target (S21: 31/12 of the previous year by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AnchorDay {
    month: u32,
    day: u32,
}

impl AnchorDay {
    /// 31 December.
    pub const YEAR_END: AnchorDay = AnchorDay { month: 12, day: 31 };

    /// A month (1–12) and a day that exists in that month in a leap year.
    pub fn new(month: u32, day: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(2000, month, day).map(|_| AnchorDay { month, day })
    }

    /// Parses `MM-DD` (`12-31`).
    pub fn parse(s: &str) -> Option<Self> {
        let (m, d) = s.trim().split_once('-')?;
        if m.len() != 2 || d.len() != 2 {
            return None;
        }
        Self::new(m.parse().ok()?, d.parse().ok()?)
    }

    /// The month.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u32 {
        self.day
    }

    /// The anchor day in `year` (29 February falls back to the 28th in other years).
    pub fn on(self, year: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
            .or_else(|| NaiveDate::from_ymd_opt(year, self.month, self.day - 1))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The counters' bucket of a change dated `d`: the first year whose anchor day is on or
    /// after `d`. A period `[from, to)` is counted on the anchor day of year `y` exactly when
    /// `bucket(from) <= y < bucket(to)`.
    pub fn bucket(self, d: NaiveDate) -> i32 {
        if d <= self.on(d.year()) {
            d.year()
        } else {
            d.year() + 1
        }
    }
}

impl fmt::Display for AnchorDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

// ---------------------------------------------------------------------------------------------
// The target's parameters

/// The parameters of the annual admission target, from the rule set (S20, S21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetParams {
    /// The rule set they come from.
    pub rule_set: String,
    /// The band's floor: admissions meeting it against the base reach the target (3%).
    pub low: Threshold,
    /// The band's ceiling (4%): a rate strictly above it is above the band.
    pub high: Threshold,
    /// The day of the previous year membership is counted on (31/12).
    pub anchor: AnchorDay,
}

impl TargetParams {
    /// The parameters of `set`.
    pub fn from_rule_set(set: &RuleSet) -> Result<Self, StatsError> {
        let low = set.threshold(PARAM_BAND_LOW)?;
        let high = set.threshold(PARAM_BAND_HIGH)?;
        let text = set.text(PARAM_BASE_DATE)?;
        let anchor = AnchorDay::parse(text).ok_or_else(|| StatsError::BadBaseDate {
            rule_set: set.id.clone(),
            value: text.to_owned(),
        })?;
        Ok(TargetParams {
            rule_set: set.id.clone(),
            low,
            high,
            anchor,
        })
    }

    /// The parameters for the target of `year`: those of the rule set in force on 1 January
    /// of that year; for a year before the first rule set, the first one (NQ 21's band is
    /// applied to earlier years for comparison); after the last one, the last one.
    pub fn for_year(book: &RuleBook, year: i32) -> Result<Self, StatsError> {
        let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
        let set = book
            .for_date(jan1)
            .or_else(|| {
                let sets = book.sets();
                match sets.first() {
                    Some(first) if jan1 < first.valid_from => Some(first),
                    _ => sets.last(),
                }
            })
            .ok_or(StatsError::NoRuleSet)?;
        Self::from_rule_set(set)
    }

    /// The base date of the target of `year`: the anchor day of the year before.
    pub fn base_date(&self, year: i32) -> NaiveDate {
        self.anchor.on(year - 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Rate, band, gap

/// Where a rate stands against the band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Band {
    /// No members on the base date: no rate.
    NoBase,
    /// Below the floor (3%).
    Below,
    /// Within the band (3% to 4%, both included).
    Within,
    /// Above the ceiling (more than 4%).
    Above,
}

impl Band {
    /// A stable code (`BELOW`, `WITHIN`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Band::NoBase => "NO_BASE",
            Band::Below => "BELOW",
            Band::Within => "WITHIN",
            Band::Above => "ABOVE",
        }
    }

    /// Words for a report.
    pub fn label(self) -> Text {
        match self {
            Band::NoBase => Text::new("không có đảng viên", "no members"),
            Band::Below => Text::new("chưa đạt", "below"),
            Band::Within => Text::new("đạt", "within"),
            Band::Above => Text::new("vượt", "above"),
        }
    }
}

/// The band of `admitted` against `base` members.
pub fn band(base: u64, admitted: u64, p: &TargetParams) -> Band {
    if base == 0 {
        Band::NoBase
    } else if !p.low.met(admitted, base) {
        Band::Below
    } else if u128::from(admitted) * u128::from(p.high.den)
        > u128::from(p.high.num) * u128::from(base)
    {
        Band::Above
    } else {
        Band::Within
    }
}

/// The rate in percent, for display (`None` without a base). Decisions use integers.
pub fn rate_percent(base: u64, admitted: u64) -> Option<f64> {
    if base == 0 {
        None
    } else {
        #[allow(clippy::cast_precision_loss)] // counts of people, far below 2^52
        Some(admitted as f64 * 100.0 / base as f64)
    }
}

/// A unit's figures for a year, assessed against the band.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Party members on the base date.
    pub base: u64,
    /// Admissions in the year so far (by the admission decision's date).
    pub admitted: u64,
    /// `admitted / base` in percent.
    pub rate: Option<f64>,
    /// Where the rate stands.
    pub band: Band,
    /// Admissions that reach the floor (3% of the base, rounded up).
    pub target_low: u64,
    /// Admissions that reach the ceiling (4% of the base, rounded up).
    pub target_high: u64,
    /// People still to admit to reach the floor.
    pub gap_low: u64,
    /// People still to admit to reach the ceiling.
    pub gap_high: u64,
}

/// Assesses `admitted` against `base` under `p`.
pub fn assess(base: u64, admitted: u64, p: &TargetParams) -> Assessment {
    let (target_low, target_high) = if base == 0 {
        (0, 0)
    } else {
        (p.low.required(base), p.high.required(base))
    };
    Assessment {
        base,
        admitted,
        rate: rate_percent(base, admitted),
        band: band(base, admitted, p),
        target_low,
        target_high,
        gap_low: target_low.saturating_sub(admitted),
        gap_high: target_high.saturating_sub(admitted),
    }
}

// ---------------------------------------------------------------------------------------------
// Forecast

/// The states of the admission workflow before the decision (`schemas/workflows/admission.toml`),
/// in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdmissionStage {
    /// On the candidate list (A1).
    Candidate,
    /// Awareness course done (A2).
    AwarenessCourseDone,
    /// Application filed (A3).
    ApplicationFiled,
    /// Personal history drafted (A4).
    HistoryDrafted,
    /// Background verification under way (A5).
    VerificationInProgress,
    /// Verified (A5).
    Verified,
    /// Introducers recorded (A6).
    IntroducersRecorded,
    /// Opinions of the mass organizations collected (A7).
    OpinionsCollected,
    /// The branch voted (A8): the decision deadline runs (A10).
    BranchVoted,
    /// The grassroots committee reviewed it (A9).
    GrassrootsReviewed,
    /// Before the competent committee (A10).
    DecisionPending,
}

impl AdmissionStage {
    /// Every stage, in order.
    pub const ALL: [AdmissionStage; 11] = [
        AdmissionStage::Candidate,
        AdmissionStage::AwarenessCourseDone,
        AdmissionStage::ApplicationFiled,
        AdmissionStage::HistoryDrafted,
        AdmissionStage::VerificationInProgress,
        AdmissionStage::Verified,
        AdmissionStage::IntroducersRecorded,
        AdmissionStage::OpinionsCollected,
        AdmissionStage::BranchVoted,
        AdmissionStage::GrassrootsReviewed,
        AdmissionStage::DecisionPending,
    ];

    /// The workflow state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdmissionStage::Candidate => "Candidate",
            AdmissionStage::AwarenessCourseDone => "AwarenessCourseDone",
            AdmissionStage::ApplicationFiled => "ApplicationFiled",
            AdmissionStage::HistoryDrafted => "HistoryDrafted",
            AdmissionStage::VerificationInProgress => "VerificationInProgress",
            AdmissionStage::Verified => "Verified",
            AdmissionStage::IntroducersRecorded => "IntroducersRecorded",
            AdmissionStage::OpinionsCollected => "OpinionsCollected",
            AdmissionStage::BranchVoted => "BranchVoted",
            AdmissionStage::GrassrootsReviewed => "GrassrootsReviewed",
            AdmissionStage::DecisionPending => "DecisionPending",
        }
    }

    /// The stage of a workflow state; `None` for the states at or after the decision.
    pub fn parse(state: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == state)
    }

    /// The forecast's assumptions for a case in this stage: the typical calendar days left
    /// until the admission decision, and the share (per mille) of such cases that end with
    /// an admission. These are the project's estimates (docs/targets.md), not rules.
    pub fn profile(self) -> (u32, u32) {
        match self {
            AdmissionStage::Candidate => (365, 500),
            AdmissionStage::AwarenessCourseDone => (240, 650),
            AdmissionStage::ApplicationFiled => (180, 750),
            AdmissionStage::HistoryDrafted => (150, 800),
            AdmissionStage::VerificationInProgress => (120, 850),
            AdmissionStage::Verified => (90, 900),
            AdmissionStage::IntroducersRecorded => (75, 900),
            AdmissionStage::OpinionsCollected => (60, 900),
            AdmissionStage::BranchVoted => (84, 950),
            AdmissionStage::GrassrootsReviewed => (60, 950),
            AdmissionStage::DecisionPending => (30, 950),
        }
    }
}

/// Calendar days within which an overdue decision is expected: the A10 extension of 30
/// working days, about six weeks.
pub const OVERDUE_DAYS: u32 = 42;

/// An admission case not decided yet, as the forecast sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpenAdmission {
    /// Its stage.
    pub stage: AdmissionStage,
    /// The running decision deadline (A10), if the branch has voted.
    pub decision_due: Option<NaiveDate>,
}

/// The admission workflow's id (`schemas/workflows/admission.toml`).
pub const ADMISSION_WORKFLOW: &str = "admission";

/// The key of the admission decision's deadline (A10) in that workflow.
pub const DECISION_DEADLINE: &str = "admission_decision";

/// What a case counts for in the forecast: an admission case, not in a terminal state, in a
/// stage before the decision, with its running decision deadline (`decision_due`, the
/// deadline [`DECISION_DEADLINE`] while it runs). `None` for every other case.
pub fn open_admission(
    definition_id: &str,
    terminal: bool,
    state: &str,
    decision_due: Option<NaiveDate>,
) -> Option<OpenAdmission> {
    if definition_id != ADMISSION_WORKFLOW || terminal {
        return None;
    }
    AdmissionStage::parse(state).map(|stage| OpenAdmission {
        stage,
        decision_due,
    })
}

/// The open cases and the expected decisions within `[from, to]`, seen on `today`, of
/// groups of cases in the same stage with the same deadline: `(case, how many)` each.
pub fn expected_decisions<'a>(
    groups: impl IntoIterator<Item = (&'a OpenAdmission, u64)>,
    today: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
) -> (u64, f64) {
    let mut open = 0u64;
    let mut expected = 0.0f64;
    for (case, n) in groups {
        open += n;
        #[allow(clippy::cast_precision_loss)] // counts of cases
        let weight = n as f64;
        expected += weight * decision_likelihood(case, today, from, to);
    }
    (open, expected)
}

/// The likelihood (0 to 1) that the case's admission decision is dated within `[from, to]`,
/// seen on `today`. The decision is expected on a date spread evenly between today and the
/// expected date (the running deadline, or today plus the stage's typical duration; an
/// overdue deadline within [`OVERDUE_DAYS`]), and the case ends in an admission with the
/// stage's completion share.
pub fn decision_likelihood(
    case: &OpenAdmission,
    today: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
) -> f64 {
    let (typical, share) = case.stage.profile();
    let horizon = match case.decision_due {
        Some(due) if due >= today => (due - today).num_days() + 1,
        Some(_) => i64::from(OVERDUE_DAYS),
        None => i64::from(typical),
    }
    .max(1);
    // Decision days are today + 0 .. today + horizon - 1, each equally likely.
    let first = today;
    let last = today + chrono::Days::new(u64::try_from(horizon - 1).unwrap_or(0));
    let lo = first.max(from);
    let hi = last.min(to);
    if hi < lo {
        return 0.0;
    }
    let inside = (hi - lo).num_days() + 1;
    #[allow(clippy::cast_precision_loss)] // day counts
    let spread = inside as f64 / horizon as f64;
    spread * f64::from(share) / 1000.0
}

/// Where a unit will end the year.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    /// Admissions so far.
    pub admitted: u64,
    /// Open cases not decided yet.
    pub open_cases: u64,
    /// The expected number of them decided within the year (sum of the likelihoods).
    pub expected: f64,
    /// `admitted` plus `expected`, rounded to the nearest person.
    pub projected: u64,
}

/// The forecast of `year` from `admitted` so far and the likelihoods of the open cases.
pub fn forecast(admitted: u64, open_cases: u64, expected: f64) -> Forecast {
    let expected = if expected.is_finite() {
        expected.max(0.0)
    } else {
        0.0
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // non-negative, small
    let extra = expected.round() as u64;
    Forecast {
        admitted,
        open_cases,
        expected,
        projected: admitted.saturating_add(extra),
    }
}

/// The first and last day of `year`.
pub fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

// ---------------------------------------------------------------------------------------------
// Roll-up through the tree

/// A unit's life, as folding needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSpan<K> {
    /// First day.
    pub valid_from: NaiveDate,
    /// First day it no longer exists.
    pub valid_to: Option<NaiveDate>,
    /// The unit it was merged into.
    pub successor: Option<K>,
    /// Its parent on its last day (where a dissolved unit's history goes).
    pub last_parent: Option<K>,
}

/// The unit that stands for `id` on `on`: itself if it exists then; if it ended before, its
/// successor (merged) or its last parent (dissolved), followed until one exists on `on`.
/// `None` when the unit did not exist yet on `on`, or the chain leads nowhere.
pub fn representative<K: Copy + Eq + Hash>(
    id: K,
    spans: &HashMap<K, UnitSpan<K>>,
    on: NaiveDate,
) -> Option<K> {
    let mut cur = id;
    // Chains are short; the bound guards against a corrupt cycle.
    for _ in 0..64 {
        let span = spans.get(&cur)?;
        if on < span.valid_from {
            return None;
        }
        match span.valid_to {
            Some(end) if end <= on => cur = span.successor.or(span.last_parent)?,
            _ => return Some(cur),
        }
    }
    None
}

/// What is counted for a unit in a year.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tally {
    /// Party members on the base date.
    pub base: u64,
    /// Admissions in the year.
    pub admitted: u64,
    /// Open admission cases.
    pub open_cases: u64,
    /// Expected decisions within the year among them.
    pub expected: f64,
}

impl Tally {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Tally) {
        self.base += other.base;
        self.admitted += other.admitted;
        self.open_cases += other.open_cases;
        self.expected += other.expected;
    }
}

/// Each unit's tally with everything below it: `own` figures folded into their
/// representatives on the reference date (see [`representative`]), then added up the tree as
/// it stood that day (`parent_on`: child → parent). Figures whose unit has no representative
/// are returned apart, as the second value.
pub fn roll_up<K: Copy + Eq + Hash>(
    own: &HashMap<K, Tally>,
    spans: &HashMap<K, UnitSpan<K>>,
    parent_on: &HashMap<K, K>,
    on: NaiveDate,
) -> (HashMap<K, Tally>, Tally) {
    let mut out: HashMap<K, Tally> = HashMap::new();
    let mut unplaced = Tally::default();
    for (id, t) in own {
        let Some(rep) = representative(*id, spans, on) else {
            unplaced.add(t);
            continue;
        };
        let mut cur = Some(rep);
        for _ in 0..64 {
            let Some(u) = cur else { break };
            out.entry(u).or_default().add(t);
            cur = parent_on.get(&u).copied();
        }
    }
    (out, unplaced)
}

// ---------------------------------------------------------------------------------------------
// Membership counters

/// A half-open period `[from, to)`.
pub type Span = (NaiveDate, Option<NaiveDate>);

/// What the counters need of one member: their units over time, the periods they were a
/// party member (probationary or official), and the admission decision's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberHistory<K> {
    /// `(unit, from, to)`, in any order.
    pub units: Vec<(K, NaiveDate, Option<NaiveDate>)>,
    /// Periods of party membership, in any order.
    pub member_periods: Vec<Span>,
    /// The admission decision's date (A15).
    pub admission_decision: Option<NaiveDate>,
}

/// The member's contribution to the membership counters under `anchor`: `(unit, bucket,
/// delta)`, so that the members of a unit on the anchor day of year `y` are the sum of the
/// deltas with `bucket <= y`. Zero deltas are left out.
pub fn membership_deltas<K: Copy + Eq + Hash + Ord>(
    h: &MemberHistory<K>,
    anchor: AnchorDay,
) -> Vec<(K, i32, i64)> {
    let mut acc: HashMap<(K, i32), i64> = HashMap::new();
    for &(unit, uf, ut) in &h.units {
        for &(mf, mt) in &h.member_periods {
            let from = uf.max(mf);
            let to = match (ut, mt) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if to.is_some_and(|t| t <= from) {
                continue;
            }
            let start = anchor.bucket(from);
            *acc.entry((unit, start)).or_default() += 1;
            if let Some(t) = to {
                *acc.entry((unit, anchor.bucket(t))).or_default() -= 1;
            }
        }
    }
    let mut out: Vec<(K, i32, i64)> = acc
        .into_iter()
        .filter(|(_, d)| *d != 0)
        .map(|((u, y), d)| (u, y, d))
        .collect();
    out.sort_unstable();
    out
}

/// Where and when the member's admission is counted: the year of the admission decision,
/// in the first unit the registry knows them in (earliest period; the first listed on a tie).
pub fn admission_credit<K: Copy>(h: &MemberHistory<K>) -> Option<(K, i32)> {
    admission_credit_day(h).map(|(u, day)| (u, day.year()))
}

/// [`admission_credit`] to the day: the unit and the admission decision's date.
pub fn admission_credit_day<K: Copy>(h: &MemberHistory<K>) -> Option<(K, NaiveDate)> {
    let decision = h.admission_decision?;
    let mut first: Option<(K, NaiveDate)> = None;
    for &(u, from, _) in &h.units {
        if first.is_none_or(|(_, f)| from < f) {
            first = Some((u, from));
        }
    }
    first.map(|(u, _)| (u, decision))
}

// ---------------------------------------------------------------------------------------------
// Age bands

/// Whole years of age on `on`.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// The age bands of the source report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeBand {
    /// 30 and under (18–30).
    UpTo30,
    /// 31–35.
    From31To35,
    /// 36–40.
    From36To40,
    /// 41–45.
    From41To45,
    /// 46–50.
    From46To50,
    /// 51–55.
    From51To55,
    /// 56–60.
    From56To60,
    /// Over 60.
    Over60,
}

impl AgeBand {
    /// Every band, youngest first.
    pub const ALL: [AgeBand; 8] = [
        AgeBand::UpTo30,
        AgeBand::From31To35,
        AgeBand::From36To40,
        AgeBand::From41To45,
        AgeBand::From46To50,
        AgeBand::From51To55,
        AgeBand::From56To60,
        AgeBand::Over60,
    ];

    /// The band of an age in years.
    pub fn of_age(age: i32) -> Self {
        match age {
            ..=30 => AgeBand::UpTo30,
            31..=35 => AgeBand::From31To35,
            36..=40 => AgeBand::From36To40,
            41..=45 => AgeBand::From41To45,
            46..=50 => AgeBand::From46To50,
            51..=55 => AgeBand::From51To55,
            56..=60 => AgeBand::From56To60,
            _ => AgeBand::Over60,
        }
    }

    /// The youngest and oldest age in the band (`None`: no upper bound).
    pub fn ages(self) -> (i32, Option<i32>) {
        match self {
            AgeBand::UpTo30 => (18, Some(30)),
            AgeBand::From31To35 => (31, Some(35)),
            AgeBand::From36To40 => (36, Some(40)),
            AgeBand::From41To45 => (41, Some(45)),
            AgeBand::From46To50 => (46, Some(50)),
            AgeBand::From51To55 => (51, Some(55)),
            AgeBand::From56To60 => (56, Some(60)),
            AgeBand::Over60 => (61, None),
        }
    }

    /// The band's name in a report.
    pub fn label(self) -> Text {
        match self.ages() {
            (lo, Some(hi)) => Text::new(format!("{lo}–{hi}"), format!("{lo}–{hi}")),
            (_, None) => Text::new("trên 60", "over 60"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic helpers for generators

/// Splits `total` over groups in proportion to `weights` by the largest-remainder (Hamilton)
/// method: each group gets the whole part of its quota, and the people left over go one each
/// to the largest remainders (ties to the earlier group). The shares always sum to `total`
/// and each is within one of its exact quota. All-zero weights count as equal; no groups get
/// nothing.
pub fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    let (weights, sum): (Vec<u128>, u128) = if sum == 0 {
        (vec![1; weights.len()], weights.len() as u128)
    } else {
        (weights.iter().map(|&w| u128::from(w)).collect(), sum)
    };
    let total128 = u128::from(total);
    let mut shares: Vec<u64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    let mut given: u128 = 0;
    for (i, w) in weights.iter().enumerate() {
        let q = total128 * w;
        let whole = q / sum;
        given += whole;
        shares.push(u64::try_from(whole).unwrap_or(u64::MAX));
        remainders.push((q % sum, i));
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let left = usize::try_from(total128 - given).unwrap_or(0);
    for &(_, i) in remainders.iter().take(left) {
        shares[i] += 1;
    }
    shares
}

/// A small seeded pseudo-random generator (SplitMix64): the same seed gives the same
/// sequence on every machine. For generating demo data, not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// An independent generator for a sub-task, derived from this one's seed and `salt`.
    pub fn fork(&self, salt: u64) -> Rng {
        let mut r = Rng::new(self.state ^ salt.wrapping_mul(0xA24B_AED4_963E_E407));
        r.next_u64();
        r
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = u64::try_from(i128::from(hi) - i128::from(lo) + 1).unwrap_or(u64::MAX);
        lo.wrapping_add_unsigned(self.below(span))
    }

    /// A date in `[from, to]`.
    pub fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let days = (to - from).num_days();
        let off = self.between(0, days);
        from + chrono::Days::new(u64::try_from(off).unwrap_or(0))
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    /// Shuffles `items` (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::Rng;
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn params() -> TargetParams {
        TargetParams {
            rule_set: "T".into(),
            low: Threshold::parse(">= 3/100").unwrap(),
            high: Threshold::parse(">= 4/100").unwrap(),
            anchor: AnchorDay::YEAR_END,
        }
    }

    #[test]
    fn s21_rate_band_and_gap_in_people() {
        let p = params();
        // 1,000 members on 31/12: 30 to 40 admissions are within the band.
        assert_eq!(band(1000, 29, &p), Band::Below);
        assert_eq!(band(1000, 30, &p), Band::Within);
        assert_eq!(band(1000, 40, &p), Band::Within);
        assert_eq!(band(1000, 41, &p), Band::Above);
        assert_eq!(band(0, 3, &p), Band::NoBase);
        let a = assess(1000, 25, &p);
        assert_eq!((a.target_low, a.target_high), (30, 40));
        assert_eq!((a.gap_low, a.gap_high), (5, 15));
        assert!((a.rate.unwrap() - 2.5).abs() < 1e-9);
        // 3% of 33 is 0.99: one admission reaches the floor.
        assert_eq!(assess(33, 0, &p).target_low, 1);
        assert_eq!(assess(33, 1, &p).band, Band::Within);
    }

    #[test]
    fn s21_base_date_is_the_anchor_day_of_the_previous_year() {
        let p = params();
        assert_eq!(p.base_date(2022), d("2021-12-31"));
        let a = AnchorDay::parse("06-30").unwrap();
        assert_eq!(a.bucket(d("2022-06-30")), 2022);
        assert_eq!(a.bucket(d("2022-07-01")), 2023);
        assert_eq!(AnchorDay::parse("02-29").unwrap().on(2023), d("2023-02-28"));
        assert!(AnchorDay::parse("13-01").is_none());
        assert!(AnchorDay::parse("1231").is_none());
        assert_eq!(AnchorDay::YEAR_END.to_string(), "12-31");
    }

    #[test]
    fn s21_parameters_come_from_every_committed_rule_set() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/rulesets");
        let mut srcs = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            srcs.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
        let book =
            RuleBook::from_toml_strs(srcs.iter().map(|(n, s)| (n.as_str(), s.as_str()))).unwrap();
        for set in book.sets() {
            let p = TargetParams::from_rule_set(set).unwrap();
            assert_eq!(p.low, Threshold::parse(">= 3/100").unwrap(), "{}", set.id);
            assert_eq!(p.high, Threshold::parse(">= 4/100").unwrap(), "{}", set.id);
            assert_eq!(p.anchor, AnchorDay::YEAR_END, "{}", set.id);
        }
        // Before the first rule set, the first one's band applies; in 2018, R2016; in 2022,
        // R2021.
        assert_eq!(
            TargetParams::for_year(&book, 2010).unwrap().rule_set,
            "R2016"
        );
        assert_eq!(
            TargetParams::for_year(&book, 2018).unwrap().rule_set,
            "R2016"
        );
        assert_eq!(
            TargetParams::for_year(&book, 2022).unwrap().rule_set,
            "R2021"
        );
        assert_eq!(
            TargetParams::for_year(&book, 2026).unwrap().rule_set,
            "R2025b"
        );
    }

    #[test]
    fn the_forecast_counts_cases_likely_to_be_decided_before_the_year_ends() {
        let (jan1, dec31) = year_bounds(2026);
        let today = d("2026-11-25");
        // The decision deadline falls before 31/12: the decision is expected this year.
        let due_soon = OpenAdmission {
            stage: AdmissionStage::DecisionPending,
            decision_due: Some(d("2026-12-10")),
        };
        assert!((decision_likelihood(&due_soon, today, jan1, dec31) - 0.95).abs() < 1e-9);
        // A candidate: about a year away, so 37 of its 365 days fall in 2026, and one candidate
        // in two is admitted.
        let candidate = OpenAdmission {
            stage: AdmissionStage::Candidate,
            decision_due: None,
        };
        let p = decision_likelihood(&candidate, today, jan1, dec31);
        assert!((p - 37.0 / 365.0 * 0.5).abs() < 1e-9, "{p}");
        // A past year gets nothing more.
        let (j, e) = year_bounds(2025);
        assert!(decision_likelihood(&due_soon, today, j, e).abs() < 1e-12);
        let f = forecast(10, 2, 0.95 + p);
        assert_eq!(f.projected, 11);
        assert_eq!(
            AdmissionStage::parse("BranchVoted"),
            Some(AdmissionStage::BranchVoted)
        );
        assert_eq!(AdmissionStage::parse("Admitted"), None);
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    enum U {
        A,
        B,
        C,
        Parent,
        Root,
    }

    fn span(from: &str, to: Option<&str>, succ: Option<U>, parent: Option<U>) -> UnitSpan<U> {
        UnitSpan {
            valid_from: d(from),
            valid_to: to.map(d),
            successor: succ,
            last_parent: parent,
        }
    }

    #[test]
    fn units_that_ended_roll_up_into_their_successors_or_last_parents() {
        let spans: HashMap<U, UnitSpan<U>> = [
            // A merged into B on 1/7/2022; C dissolved on 1/9/2022.
            (
                U::A,
                span(
                    "2004-01-01",
                    Some("2022-07-01"),
                    Some(U::B),
                    Some(U::Parent),
                ),
            ),
            (U::B, span("2004-01-01", None, None, None)),
            (
                U::C,
                span("2004-01-01", Some("2022-09-01"), None, Some(U::Parent)),
            ),
            (U::Parent, span("2004-01-01", None, None, None)),
            (U::Root, span("2004-01-01", None, None, None)),
        ]
        .into_iter()
        .collect();
        let on = d("2022-12-31");
        assert_eq!(representative(U::A, &spans, on), Some(U::B));
        assert_eq!(representative(U::A, &spans, d("2022-06-30")), Some(U::A));
        assert_eq!(representative(U::C, &spans, on), Some(U::Parent));
        let parent_on: HashMap<U, U> = [(U::B, U::Parent), (U::Parent, U::Root)]
            .into_iter()
            .collect();
        let t = |base, admitted| Tally {
            base,
            admitted,
            ..Tally::default()
        };
        let own: HashMap<U, Tally> = [(U::A, t(10, 1)), (U::B, t(20, 1)), (U::C, t(5, 1))]
            .into_iter()
            .collect();
        let (rolled, unplaced) = roll_up(&own, &spans, &parent_on, on);
        assert_eq!(rolled[&U::B], t(30, 2));
        assert_eq!(rolled[&U::Parent], t(35, 3));
        assert_eq!(rolled[&U::Root], t(35, 3));
        assert_eq!(unplaced, Tally::default());
    }

    #[test]
    fn age_bands_follow_the_report() {
        assert_eq!(age_on(d("1993-07-01"), d("2023-06-30")), 29);
        assert_eq!(age_on(d("1993-06-30"), d("2023-06-30")), 30);
        assert_eq!(AgeBand::of_age(30), AgeBand::UpTo30);
        assert_eq!(AgeBand::of_age(31), AgeBand::From31To35);
        assert_eq!(AgeBand::of_age(61), AgeBand::Over60);
        assert_eq!(AgeBand::Over60.label().en, "over 60");
        assert_eq!(AgeBand::From56To60.label().vi, "56–60");
    }

    #[test]
    fn apportion_gives_the_report_s_split_exactly() {
        // 689 disciplined members over the four forms, from their own counts.
        assert_eq!(apportion(689, &[469, 132, 28, 60]), vec![469, 132, 28, 60]);
        assert_eq!(apportion(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(apportion(5, &[0, 0]), vec![3, 2]);
        assert!(apportion(5, &[]).is_empty());
    }

    #[test]
    fn the_generator_is_deterministic() {
        let mut a = Rng::new(2023);
        let mut b = Rng::new(2023);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    fn date_strategy() -> impl Strategy<Value = NaiveDate> {
        (0i64..4000).prop_map(|n| d("2015-01-01") + chrono::Days::new(n.unsigned_abs()))
    }

    fn span_strategy() -> impl Strategy<Value = Span> {
        (date_strategy(), proptest::option::of(1i64..2000))
            .prop_map(|(f, len)| (f, len.map(|l| f + chrono::Days::new(l.unsigned_abs()))))
    }

    fn covers(s: Span, day: NaiveDate) -> bool {
        s.0 <= day && s.1.is_none_or(|t| day < t)
    }

    proptest! {
        #[test]
        fn apportion_sums_to_the_total_and_stays_within_one_of_the_quota(
            total in 0u64..100_000,
            weights in proptest::collection::vec(0u64..1000, 1..30),
        ) {
            let shares = apportion(total, &weights);
            prop_assert_eq!(shares.len(), weights.len());
            prop_assert_eq!(shares.iter().sum::<u64>(), total);
            let sum: u64 = weights.iter().sum();
            if sum > 0 {
                for (s, w) in shares.iter().zip(&weights) {
                    let quota = total as f64 * *w as f64 / sum as f64;
                    prop_assert!((*s as f64 - quota).abs() < 1.0 + 1e-9);
                }
            }
        }

        #[test]
        fn the_band_agrees_with_the_targets_in_people(base in 0u64..100_000, admitted in 0u64..10_000) {
            let p = params();
            let a = assess(base, admitted, &p);
            match a.band {
                Band::NoBase => prop_assert_eq!(base, 0),
                Band::Below => prop_assert!(admitted < a.target_low && a.gap_low > 0),
                Band::Within => prop_assert!(admitted >= a.target_low && a.gap_low == 0 && admitted * 100 <= 4 * base),
                Band::Above => prop_assert!(admitted * 100 > 4 * base && a.gap_high == 0),
            }
        }

        #[test]
        fn likelihoods_are_probabilities_and_grow_with_the_time_left(
            stage in 0usize..11,
            due in proptest::option::of(0i64..400),
            today_off in 0i64..365,
        ) {
            let stage = AdmissionStage::ALL[stage];
            let today = d("2026-01-01") + chrono::Days::new(today_off.unsigned_abs());
            let case = OpenAdmission { stage, decision_due: due.map(|n| d("2025-12-01") + chrono::Days::new(n.unsigned_abs())) };
            let (jan1, dec31) = year_bounds(2026);
            let p = decision_likelihood(&case, today, jan1, dec31);
            prop_assert!((0.0..=1.0).contains(&p));
            let p_next = decision_likelihood(&case, today, jan1, dec31 + chrono::Days::new(30));
            prop_assert!(p_next + 1e-12 >= p);
        }

        #[test]
        fn membership_deltas_count_members_on_every_anchor_day(
            units in proptest::collection::vec((0u8..3, span_strategy()), 1..4),
            periods in proptest::collection::vec(span_strategy(), 0..3),
            month in 1u32..=12,
        ) {
            let anchor = AnchorDay::new(month, 28).unwrap();
            let h = MemberHistory {
                units: units.iter().map(|&(u, (f, t))| (u, f, t)).collect(),
                member_periods: periods.clone(),
                admission_decision: None,
            };
            let deltas = membership_deltas(&h, anchor);
            for y in 2014..2030 {
                let day = anchor.on(y);
                for u in 0u8..3 {
                    let expected: i64 = h.units.iter()
                        .filter(|(uu, _, _)| *uu == u)
                        .map(|&(_, f, t)| periods.iter().filter(|&&p| covers((f, t), day) && covers(p, day)).count() as i64)
                        .sum();
                    let counted: i64 = deltas.iter().filter(|(uu, b, _)| *uu == u && *b <= y).map(|(_, _, x)| x).sum();
                    prop_assert_eq!(counted, expected, "unit {} year {}", u, y);
                }
            }
        }

        #[test]
        fn roll_up_adds_every_placed_figure_once_at_the_root(
            figures in proptest::collection::vec((0u64..100, 0u64..10), 5),
        ) {
            let on = d("2022-12-31");
            let spans: HashMap<U, UnitSpan<U>> = [
                (U::A, span("2004-01-01", Some("2022-07-01"), Some(U::B), Some(U::Parent))),
                (U::B, span("2004-01-01", None, None, None)),
                (U::C, span("2023-01-01", None, None, None)),
                (U::Parent, span("2004-01-01", None, None, None)),
                (U::Root, span("2004-01-01", None, None, None)),
            ].into_iter().collect();
            let parent_on: HashMap<U, U> = [(U::B, U::Parent), (U::Parent, U::Root)].into_iter().collect();
            let keys = [U::A, U::B, U::C, U::Parent, U::Root];
            let own: HashMap<U, Tally> = keys.iter().zip(&figures)
                .map(|(k, &(b, a))| (*k, Tally { base: b, admitted: a, ..Tally::default() }))
                .collect();
            let (rolled, unplaced) = roll_up(&own, &spans, &parent_on, on);
            let total: u64 = figures.iter().map(|f| f.0).sum();
            // C did not exist yet on the reference date: its figures are unplaced.
            prop_assert_eq!(rolled[&U::Root].base + unplaced.base, total);
            prop_assert_eq!(unplaced.base, figures[2].0);
        }
    }
}
