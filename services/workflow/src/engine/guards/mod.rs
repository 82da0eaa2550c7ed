//! Guards: named Rust functions that decide whether a rule holds, reading the rule set.
//!
//! A definition names guards; the core implements them here, once, with the rule ids they
//! check, the rule-set parameters they read and the case data they need. Every number comes
//! from the rule set in force (rules are data); the code only knows how to compare. A failing
//! guard explains itself in Vietnamese a branch secretary understands and in English, naming
//! the rule id. A guard never panics and never guesses: missing data is reported as such.
//!
//! One file per rule family, each guard's declaration ([`GuardSpec`]: name, rule ids, the
//! rule-set parameters it reads with their kinds, the case data it reads) right above its check
//! function, the family's unit tests beside them. This module holds what every guard uses
//! (the context, the outcome, a few phrasings) and the registry, [`GUARDS`], which lists the
//! families: a new guard is declared and registered in its family's file only.

use chrono::NaiveDate;

use super::case::{Actor, CaseSnapshot};
use super::definition::{Definition, Transition};
use super::period::{Period, Threshold, fmt_date, months_en, months_vi};
use super::problem::{Problem, ProblemCode};
use super::refusal::{Reason, RefusalCode};
use super::ruleset::{ParamKind, RuleBook, RuleSet};
pub use super::value::DataType;
use super::value::{Value, Values};
use crate::calendar::WorkingCalendar;
use crate::vocab::capitalised as capitalise;

/// A piece of case data a guard reads (an input of the event, else a fact of the case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Key.
    pub key: &'static str,
    /// Shape.
    pub ty: DataType,
    /// Whether the guard cannot decide without it.
    pub required: bool,
}

const fn req(key: &'static str, ty: DataType) -> Read {
    Read {
        key,
        ty,
        required: true,
    }
}

const fn opt(key: &'static str, ty: DataType) -> Read {
    Read {
        key,
        ty,
        required: false,
    }
}

/// What a guard concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardOutcome {
    /// The rule holds.
    Pass,
    /// The rule does not hold, for these reasons.
    Fail(Vec<Reason>),
    /// The guard cannot decide before these keys are known.
    NeedsData(Vec<String>),
}

/// The signature of a guard.
pub type GuardFn = fn(&GuardContext<'_>) -> GuardOutcome;

/// A guard of the registry.
#[derive(Debug)]
pub struct GuardSpec {
    /// Name used in definitions.
    pub name: &'static str,
    /// Rule ids it checks.
    pub rules: &'static [&'static str],
    /// What it checks, for `docs/workflows.md` and `memberflow check`.
    pub doc: &'static str,
    /// Rule-set parameters it reads, with their kinds.
    pub params: &'static [(&'static str, ParamKind)],
    /// Case data it reads.
    pub reads: &'static [Read],
    /// The check.
    pub check: GuardFn,
}

/// What a guard may look at.
#[derive(Debug)]
pub struct GuardContext<'a> {
    /// The transition being fired (who may fire it, for the guards that ask which body acts).
    pub transition: &'a Transition,
    /// The rule set the step is decided under.
    pub rules: &'a RuleSet,
    /// The working-day calendar.
    pub calendar: &'a WorkingCalendar,
    /// The case before the step.
    pub case: &'a CaseSnapshot,
    /// Who fires the event.
    pub actor: &'a Actor,
    /// The data the guard reads: the event's inputs over the case's earlier facts.
    pub data: &'a Values,
    /// The day of the step.
    pub today: NaiveDate,
    /// The guard being run (its name goes on every reason).
    pub guard: &'a GuardSpec,
}

impl GuardContext<'_> {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// The date `key`, if present.
    pub fn date(&self, key: &str) -> Option<NaiveDate> {
        self.get(key).and_then(Value::as_date)
    }

    /// The integer `key`, if present.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_int)
    }

    /// The boolean `key`, if present.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    /// The text `key`, if present.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_text)
    }

    /// The date `key`, or `NeedsData`.
    pub fn need_date(&self, key: &str) -> Result<NaiveDate, GuardOutcome> {
        self.date(key)
            .ok_or_else(|| GuardOutcome::NeedsData(vec![key.to_owned()]))
    }

    /// The integer `key`, or `NeedsData`.
    pub fn need_int(&self, key: &str) -> Result<i64, GuardOutcome> {
        self.int(key)
            .ok_or_else(|| GuardOutcome::NeedsData(vec![key.to_owned()]))
    }

    /// A period parameter, or a failure explaining why it cannot be read.
    pub fn period(&self, id: &str) -> Result<Period, GuardOutcome> {
        self.rules.period(id).map_err(|e| self.param_failure(&e))
    }

    /// A threshold parameter.
    pub fn threshold(&self, id: &str) -> Result<Threshold, GuardOutcome> {
        self.rules.threshold(id).map_err(|e| self.param_failure(&e))
    }

    /// An integer parameter.
    pub fn integer(&self, id: &str) -> Result<i64, GuardOutcome> {
        self.rules.integer(id).map_err(|e| self.param_failure(&e))
    }

    /// A flag parameter.
    pub fn param_flag(&self, id: &str) -> Result<bool, GuardOutcome> {
        self.rules.flag(id).map_err(|e| self.param_failure(&e))
    }

    /// A text parameter.
    pub fn param_text(&self, id: &str) -> Result<&str, GuardOutcome> {
        self.rules.text(id).map_err(|e| self.param_failure(&e))
    }

    /// A text-list parameter.
    pub fn text_list(&self, id: &str) -> Result<&[String], GuardOutcome> {
        self.rules.text_list(id).map_err(|e| self.param_failure(&e))
    }

    /// A period in months (ages, validity periods), or a failure if the parameter is stated in
    /// days.
    pub fn months(&self, id: &str) -> Result<i64, GuardOutcome> {
        let p = self.period(id)?;
        p.in_months().map(i64::from).ok_or_else(|| {
            GuardOutcome::Fail(vec![
                Reason::new(
                    RefusalCode::ParameterMissing,
                    format!("Lỗi cấu hình: tham số «{id}» phải tính theo tháng hoặc năm, đang là {}.", p.vi()),
                    format!("Configuration error: parameter `{id}` must be in months or years, found {}.", p.en()),
                )
                .with_field(id)
                .with_guard(self.guard.name),
            ])
        })
    }

    /// `date` plus a period, or a failure past the end of the calendar.
    pub fn add(&self, date: NaiveDate, period: Period) -> Result<NaiveDate, GuardOutcome> {
        period.after(date, self.calendar).ok_or_else(|| {
            GuardOutcome::Fail(vec![
                Reason::new(
                    RefusalCode::DateOutOfRange,
                    format!(
                        "Ngày {} cộng {} vượt quá phạm vi lịch.",
                        fmt_date(date),
                        period.vi()
                    ),
                    format!(
                        "{} plus {} is beyond the calendar.",
                        fmt_date(date),
                        period.en()
                    ),
                )
                .with_guard(self.guard.name),
            ])
        })
    }

    /// A failing reason for `rule`, attributed to this guard.
    pub fn reason(&self, rule: &str, vi: String, en: String) -> Reason {
        Reason::new(RefusalCode::GuardFailed, vi, en)
            .with_rule(rule)
            .with_guard(self.guard.name)
    }

    fn param_failure(&self, e: &crate::engine::ruleset::ParamError) -> GuardOutcome {
        GuardOutcome::Fail(vec![
            Reason::from_param_error(e).with_guard(self.guard.name),
        ])
    }
}

/// Pass when no reason was collected.
fn verdict(reasons: Vec<Reason>) -> GuardOutcome {
    if reasons.is_empty() {
        GuardOutcome::Pass
    } else {
        GuardOutcome::Fail(reasons)
    }
}

/// Unwraps a parameter or datum, or returns the guard's outcome at once.
macro_rules! get {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(outcome) => return outcome,
        }
    };
}

mod appeal;
mod ballot;
mod consequences;
mod eligibility;
mod forms;
mod hearing;
mod inspection;
mod introduction;
mod jurisdiction;
mod limitation;
mod membership;
mod removal;
mod votes;

pub use ballot::{BallotLine, cumulate_from_most_severe};
pub use consequences::barred_by_discipline;

/// The families of guards, each with its own list.
const FAMILIES: &[&[GuardSpec]] = &[
    eligibility::GUARDS,
    introduction::GUARDS,
    votes::GUARDS,
    membership::GUARDS,
    limitation::GUARDS,
    appeal::GUARDS,
    inspection::GUARDS,
    hearing::GUARDS,
    forms::GUARDS,
    ballot::GUARDS,
    jurisdiction::GUARDS,
    consequences::GUARDS,
    removal::GUARDS,
];

/// The registry of every guard the core implements: the families' lists, one after the other.
#[derive(Debug, Clone, Copy)]
pub struct Registry(&'static [&'static [GuardSpec]]);

impl Registry {
    /// Every guard, family by family.
    pub fn iter(self) -> impl Iterator<Item = &'static GuardSpec> {
        self.0.iter().flat_map(|family| family.iter())
    }
}

impl IntoIterator for Registry {
    type Item = &'static GuardSpec;
    type IntoIter = std::iter::FlatMap<
        std::slice::Iter<'static, &'static [GuardSpec]>,
        std::slice::Iter<'static, GuardSpec>,
        fn(&'static &'static [GuardSpec]) -> std::slice::Iter<'static, GuardSpec>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        let family: fn(&'static &'static [GuardSpec]) -> std::slice::Iter<'static, GuardSpec> =
            |f| f.iter();
        self.0.iter().flat_map(family)
    }
}

/// Every guard the core implements.
pub static GUARDS: Registry = Registry(FAMILIES);

/// The guard named `name`.
pub fn guard(name: &str) -> Option<&'static GuardSpec> {
    GUARDS.into_iter().find(|g| g.name == name)
}

/// An elapsed number of months in the unit the rule states its period in: "31 tháng" next to
/// "36 tháng", "4 năm 2 tháng" next to "5 năm".
fn elapsed_vi(months: i64, unit: Period) -> String {
    match unit {
        Period::Months(_) => format!("{months} tháng"),
        _ => months_vi(months),
    }
}

fn elapsed_en(months: i64, unit: Period) -> String {
    match unit {
        Period::Months(_) if months == 1 => "1 month".to_owned(),
        Period::Months(_) => format!("{months} months"),
        _ => months_en(months),
    }
}

fn age_vi(months: i64) -> String {
    match (months / 12, months % 12) {
        (y, 0) => format!("{y} tuổi"),
        (y, m) => format!("{y} tuổi {m} tháng"),
    }
}

fn age_en(months: i64) -> String {
    format!("{} old", months_en(months))
}
/// A configuration error in a list parameter (an entry the guard cannot read).
fn bad_entry(ctx: &GuardContext<'_>, param: &str, entry: &str, expected: &str) -> GuardOutcome {
    GuardOutcome::Fail(vec![
        Reason::new(
            RefusalCode::ParameterMissing,
            format!(
                "Lỗi cấu hình: mục «{entry}» của tham số «{param}» trong bộ quy tắc {} không đúng dạng {expected}.",
                ctx.rules.id
            ),
            format!(
                "Configuration error: entry `{entry}` of parameter `{param}` in rule set {} is not of the form {expected}.",
                ctx.rules.id
            ),
        )
        .with_field(param)
        .with_guard(ctx.guard.name),
    ])
}

impl Definition {
    /// Whether its steps need the registry context (`engine::context`): a guard of one of its
    /// transitions reads it, or its cases are discipline (whose steps take the member's lock
    /// the context is read under, so that the two kinds of step do not interleave).
    pub fn needs_registry_context(&self) -> bool {
        self.disciplinary
            || std::iter::once(&self.open)
                .chain(&self.transitions)
                .flat_map(|t| &t.guards)
                .filter_map(|g| guard(g))
                .any(|g| {
                    g.reads
                        .iter()
                        .any(|r| r.key == super::context::SUBJECT_DISCIPLINE)
                })
    }
}

impl Transition {
    /// Whether a guard of this transition reads the key `key` (of the registry context, say):
    /// the shell reads that part of the registry for the step only then.
    pub fn guard_reads(&self, key: &str) -> bool {
        self.guards
            .iter()
            .filter_map(|g| guard(g))
            .any(|g| g.reads.iter().any(|r| r.key == key))
    }
}

impl RuleBook {
    /// Checks that every parameter any guard of the core reads exists, with the right kind, in
    /// every rule set (missing values are warnings).
    pub fn check_guard_parameters(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for set in self.sets() {
            for guard in GUARDS {
                for (param, kind) in guard.params {
                    set.check_reference(param, *kind, &format!("guard `{}`", guard.name), &mut out);
                }
            }
            if let Ok(v) = set.text("D11.count_until")
                && ![
                    limitation::COUNT_UNTIL_CONSIDERATION,
                    limitation::COUNT_UNTIL_CONCLUSION,
                ]
                .contains(&v)
            {
                out.push(Problem::error(
                    ProblemCode::InvalidValue,
                    format!("rule set {}", set.id),
                    format!(
                        "`D11.count_until` is `{v}`; it must be `consideration` or `conclusion`"
                    ),
                ));
            }
            let competent = crate::access::COMPETENT_LEVEL_PARAM;
            set.check_reference(competent, ParamKind::Text, "access control", &mut out);
            if let Ok(v) = set.text(competent)
                && crate::access::CompetentLevel::parse(v).is_none()
            {
                out.push(Problem::error(
                    ProblemCode::InvalidValue,
                    format!("rule set {}", set.id),
                    format!("`{competent}` is `{v}`; it must be `superior` or `province`"),
                ));
            }
        }
        out
    }
}
