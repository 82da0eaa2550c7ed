//! Deciding: `open`, `fire` and `available`, pure functions of their arguments.
//!
//! `fire(definition, rules, calendar, case, event, today)` either accepts the event, returning
//! the next case snapshot and the effects as data, or refuses it, listing every reason: the
//! state, the actor's roles, every bad input and every failing guard, each with its rule id and
//! bilingual wording. It reads no clock and does no I/O, so a dry run is simply a call to `fire`
//! whose decision is not persisted. `available` answers "what could happen next" for a case:
//! every transition from its state, allowed or refused with reasons, or waiting for inputs.

// Reasons travel only on the refusal path, where a few more bytes per `Err` cost nothing.
#![allow(clippy::result_large_err)]

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;
use crate::engine::case::{Actor, CaseSnapshot, DefinitionRef, Event};
use crate::engine::definition::{DateSource, Definition, PeriodRef, RuleSetSelection};
use crate::engine::effect::{Effect, Notice};
use crate::engine::guards::{self};
use crate::engine::period::{Period, fmt_date};
use crate::engine::refusal::{Reason, Refusal, RefusalCode};
use crate::engine::ruleset::{RuleBook, RuleSet};
use crate::engine::value::{Value, Values};

mod decide;
mod evaluate;

use decide::decide;
use evaluate::evaluate;

/// An accepted event: the next case and what the shell must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Transition fired.
    pub transition: String,
    /// State before (empty when opening).
    pub from: String,
    /// State after.
    pub to: String,
    /// Rule set the step was decided under.
    pub rule_set: String,
    /// Day of the step.
    pub on: NaiveDate,
    /// Effects to run after commit, in order.
    pub effects: Vec<Effect>,
    /// Things worth telling the user.
    pub notices: Vec<Notice>,
    /// The case after the step (version incremented, step recorded).
    pub case: CaseSnapshot,
}

/// Whether a transition could be fired now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityStatus {
    /// It would be accepted as is (it takes no required input and every guard holds).
    Allowed,
    /// Nothing refuses it yet, but it needs inputs (and some guards need them to decide).
    NeedsInput,
    /// It would be refused; see the reasons.
    Refused,
}

/// A guard that cannot be evaluated before the event gives some inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingGuard {
    /// Guard name.
    pub guard: String,
    /// Rule ids it checks.
    pub rules: Vec<String>,
    /// The inputs it waits for.
    pub needs: Vec<String>,
}

/// One transition of "what could happen next".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// Transition name.
    pub transition: String,
    /// Vietnamese label.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
    /// Target state (`None`: the case stays where it is).
    pub to: Option<String>,
    /// Verdict.
    pub status: AvailabilityStatus,
    /// Why it would be refused (empty unless refused).
    pub reasons: Vec<Reason>,
    /// Required inputs the event must give.
    pub required_inputs: Vec<String>,
    /// Guards waiting for inputs.
    pub pending_guards: Vec<PendingGuard>,
}

/// Opens a case with the definition's `open` transition (`event.transition` must be `open`).
pub fn open(
    def: &Definition,
    rules: &RuleBook,
    calendar: &WorkingCalendar,
    event: &Event,
    today: NaiveDate,
) -> Result<Decision, Refusal> {
    let blank = CaseSnapshot::blank(def, today);
    if event.transition != def.open.name {
        return Err(refusal(
            &event.transition,
            &blank,
            vec![Reason::new(
                RefusalCode::UnknownTransition,
                format!("Hồ sơ mới phải được mở bằng bước «{}».", def.open.label_vi),
                format!("A new case must be opened with `{}`.", def.open.name),
            )],
        ));
    }
    decide(def, rules, calendar, &blank, &def.open, event, today)
}

/// Fires `event` on `case`. Pure: the same arguments always give the same answer.
pub fn fire(
    def: &Definition,
    rules: &RuleBook,
    calendar: &WorkingCalendar,
    case: &CaseSnapshot,
    event: &Event,
    today: NaiveDate,
) -> Result<Decision, Refusal> {
    if case.definition != DefinitionRef::of(def) {
        return Err(refusal(
            &event.transition,
            case,
            vec![Reason::new(
                RefusalCode::DefinitionMismatch,
                format!(
                    "Hồ sơ đang theo quy trình {} phiên bản {}, không phải {} phiên bản {}; cần chuyển đổi hồ sơ trước.",
                    case.definition.id, case.definition.version, def.id, def.version
                ),
                format!(
                    "The case runs under {} version {}, not {} version {}; migrate it first.",
                    case.definition.id, case.definition.version, def.id, def.version
                ),
            )],
        ));
    }
    let Some(t) = def.transitions.iter().find(|t| t.name == event.transition) else {
        return Err(refusal(
            &event.transition,
            case,
            vec![
                Reason::new(
                    RefusalCode::UnknownTransition,
                    format!("Quy trình {} không có bước «{}».", def.id, event.transition),
                    format!(
                        "Workflow {} has no transition `{}`.",
                        def.id, event.transition
                    ),
                )
                .with_field(event.transition.clone()),
            ],
        ));
    };
    decide(def, rules, calendar, case, t, event, today)
}

/// Every transition from the case's state, with whether `actor` could fire it on `today` and
/// why not. Guards that need inputs the event has not given yet are listed as pending.
/// `context` is what the shell read in the registry, as it would give it with the event
/// (`Event::context`).
pub fn available(
    def: &Definition,
    rules: &RuleBook,
    calendar: &WorkingCalendar,
    case: &CaseSnapshot,
    actor: &Actor,
    context: &Values,
    today: NaiveDate,
) -> Vec<Availability> {
    if case.definition != DefinitionRef::of(def) {
        return Vec::new();
    }
    def.transitions_from(&case.state)
        .map(|t| {
            let eval = evaluate(def, rules, calendar, case, t, actor, None, context, today);
            let required_inputs: Vec<String> = t
                .inputs
                .iter()
                .filter(|i| i.required)
                .map(|i| i.name.clone())
                .collect();
            let status = if !eval.reasons.is_empty() {
                AvailabilityStatus::Refused
            } else if required_inputs.is_empty() && eval.pending.is_empty() {
                AvailabilityStatus::Allowed
            } else {
                AvailabilityStatus::NeedsInput
            };
            Availability {
                transition: t.name.clone(),
                label_vi: t.label_vi.clone(),
                label_en: t.label_en.clone(),
                to: t.to.clone(),
                status,
                reasons: eval.reasons,
                required_inputs,
                pending_guards: eval.pending,
            }
        })
        .collect()
}

fn refusal(transition: &str, case: &CaseSnapshot, reasons: Vec<Reason>) -> Refusal {
    Refusal {
        transition: transition.to_owned(),
        state: case.state.clone(),
        reasons,
    }
}

fn select_rule_set<'r>(
    def: &Definition,
    book: &'r RuleBook,
    case: &CaseSnapshot,
    today: NaiveDate,
) -> Option<&'r RuleSet> {
    match (def.rule_set_selection, case.opening_rule_set()) {
        (RuleSetSelection::CaseOpened, Some(id)) => book.get(id),
        _ => book.for_date(today),
    }
}

fn state_label_vi<'d>(def: &'d Definition, state: &'d str) -> &'d str {
    def.state(state).map_or(state, |s| s.label_vi.as_str())
}

fn source_key(source: &DateSource) -> &str {
    match source {
        DateSource::Entered => "entered",
        DateSource::Key(k) => k,
    }
}

fn date_from(source: &DateSource, data: &Values, today: NaiveDate) -> Option<NaiveDate> {
    match source {
        DateSource::Entered => Some(today),
        DateSource::Key(k) => data.get(k).and_then(Value::as_date),
    }
}

fn resolve_period(rs: &RuleSet, p: &PeriodRef) -> Result<Period, Reason> {
    match p {
        PeriodRef::Literal(p) => Ok(*p),
        PeriodRef::Param(id) => rs.period(id).map_err(|e| Reason::from_param_error(&e)),
    }
}

fn add_period(
    p: Period,
    start: NaiveDate,
    calendar: &WorkingCalendar,
) -> Result<NaiveDate, Reason> {
    p.after(start, calendar)
        .ok_or_else(|| out_of_range(start, p))
}

fn out_of_range(date: NaiveDate, p: Period) -> Reason {
    Reason::new(
        RefusalCode::DateOutOfRange,
        format!(
            "Ngày {} và khoảng {} vượt quá phạm vi lịch.",
            fmt_date(date),
            p.vi()
        ),
        format!("{date} and {} go beyond the calendar.", p.en()),
    )
}

fn data_missing(def: &Definition, key: &str, guard: Option<&guards::GuardSpec>) -> Reason {
    let (vi, en) = def.key_label(key);
    let (for_vi, for_en, rule) = match guard {
        Some(g) => (
            format!(" cần cho việc kiểm tra {}", g.rules.join(", ")),
            format!(" needed to check {}", g.rules.join(", ")),
            g.rules.first().map(|r| (*r).to_owned()),
        ),
        None => (String::new(), String::new(), None),
    };
    let mut reason = Reason::new(
        RefusalCode::DataMissing,
        format!("Hồ sơ chưa có thông tin «{vi}» ({key}){for_vi}."),
        format!("The case has no `{en}` ({key}){for_en}."),
    )
    .with_field(key);
    reason.rule = rule;
    reason.guard = guard.map(|g| g.name.to_owned());
    reason
}
