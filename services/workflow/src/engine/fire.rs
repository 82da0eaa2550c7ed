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

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::case::{Actor, CaseSnapshot, DeadlineRecord, DefinitionRef, Event, StepRecord};
use super::definition::{
    ActingBody, DateSource, Definition, DisciplineStatus, EffectSpec, InputSpec, InputType, Level,
    PeriodRef, ReminderWhen, RoleRef, RuleSetSelection, State, Transition, body_level, body_role,
};
use super::effect::{Effect, Notice};
use super::guards::{self, GuardContext, GuardOutcome};
use super::period::{Period, fmt_date};
use super::refusal::{Reason, Refusal, RefusalCode};
use super::ruleset::{RuleBook, RuleSet};
use super::value::{Value, Values};
use crate::access::CompetentLevel;
use crate::calendar::WorkingCalendar;

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

/// The outcome of checking a transition against a case, before any effect is planned.
struct Evaluation<'r> {
    rule_set: Option<&'r RuleSet>,
    reasons: Vec<Reason>,
    pending: Vec<PendingGuard>,
    /// What this step knows: earlier facts (minus the transition's own inputs, which only the
    /// event may give), the event's valid inputs, and the computed dates.
    view: Values,
    /// Valid inputs and computed dates, to record as facts.
    recorded: Values,
}

#[allow(clippy::too_many_arguments)] // each argument is a distinct input of a pure function
fn evaluate<'r>(
    def: &Definition,
    book: &'r RuleBook,
    calendar: &WorkingCalendar,
    case: &CaseSnapshot,
    t: &Transition,
    actor: &Actor,
    inputs: Option<&Values>,
    context: &Values,
    today: NaiveDate,
) -> Evaluation<'r> {
    let mut reasons = Vec::new();
    // Only the opening transition has no source state.
    let opening = t.from.is_empty();

    // State.
    if !opening {
        if def.state(&case.state).is_some_and(|s| s.terminal) {
            reasons.push(Reason::new(
                RefusalCode::CaseClosed,
                format!(
                    "Hồ sơ đã kết thúc ở trạng thái «{}».",
                    state_label_vi(def, &case.state)
                ),
                format!("The case is closed in state `{}`.", case.state),
            ));
        } else if !t.from.contains(&case.state) {
            let allowed_vi: Vec<String> = t
                .from
                .iter()
                .map(|s| format!("«{}»", state_label_vi(def, s)))
                .collect();
            reasons.push(Reason::new(
                RefusalCode::WrongState,
                format!(
                    "Bước «{}» chỉ thực hiện được khi hồ sơ ở trạng thái {}; hồ sơ đang ở «{}».",
                    t.label_vi,
                    allowed_vi.join(", "),
                    state_label_vi(def, &case.state)
                ),
                format!(
                    "`{}` can only be fired from {}; the case is in `{}`.",
                    t.name,
                    t.from.join(", "),
                    case.state
                ),
            ));
        }
    }

    // When: a step is not dated before the latest step of the case, so that the history reads
    // in date order (a step recorded late with its own date comes after what it followed).
    if let Some(last) = case.steps.last().filter(|s| !opening && today < s.on) {
        reasons.push(Reason::new(
            RefusalCode::StepOutOfOrder,
            format!(
                "Bước «{}» ghi ngày {} trước bước gần nhất của hồ sơ («{}», ngày {}): các bước của hồ sơ phải theo thứ tự ngày.",
                t.label_vi,
                fmt_date(today),
                last.transition,
                fmt_date(last.on)
            ),
            format!(
                "`{}` dated {} precedes the case's latest step (`{}`, {}): a case's steps stay in date order.",
                t.name,
                fmt_date(today),
                last.transition,
                fmt_date(last.on)
            ),
        ));
    }

    // Who.
    let permitted =
        t.by.iter()
            .any(|need| actor.roles.iter().any(|held| need.admits(held)));
    if !permitted {
        let allowed: Vec<String> = t.by.iter().map(ToString::to_string).collect();
        reasons.push(Reason::new(
            RefusalCode::NotPermitted,
            format!(
                "Người thực hiện không có vai trò được phép thực hiện bước «{}» (cần một trong: {}).",
                t.label_vi,
                allowed.join(", ")
            ),
            format!("The actor holds none of the roles allowed to fire `{}` ({}).", t.name, allowed.join(", ")),
        ));
    }
    // The acting body's reason, once the inputs are read, goes here with the other "who".
    let who_at = reasons.len();

    // Rule set.
    let rule_set = select_rule_set(def, book, case, today);
    if rule_set.is_none() {
        reasons.push(Reason::new(
            RefusalCode::NoRuleSet,
            format!(
                "Không có bộ quy tắc nào có hiệu lực vào ngày {}.",
                fmt_date(today)
            ),
            format!("No rule set is in force on {today}."),
        ));
    }

    // Inputs.
    let mut bad_keys: BTreeSet<String> = BTreeSet::new();
    let mut recorded = Values::new();
    if let Some(given) = inputs {
        for spec in &t.inputs {
            match given.get(&spec.name) {
                None if spec.required => {
                    bad_keys.insert(spec.name.clone());
                    reasons.push(
                        Reason::new(
                            RefusalCode::InputMissing,
                            format!(
                                "Thiếu thông tin bắt buộc: {} ({}).",
                                spec.label_vi, spec.name
                            ),
                            format!("Missing required input: {} ({}).", spec.label_en, spec.name),
                        )
                        .with_field(spec.name.clone()),
                    );
                }
                None => {}
                Some(v) => match coerce(spec, &spec.ty, v) {
                    Ok(v) => {
                        recorded.insert(spec.name.clone(), v);
                    }
                    Err(reason) => {
                        bad_keys.insert(spec.name.clone());
                        reasons.push(reason);
                    }
                },
            }
        }
        for name in given.keys() {
            if t.input(name).is_none() {
                reasons.push(
                    Reason::new(
                        RefusalCode::InputUnknown,
                        format!("Bước «{}» không có thông tin «{name}».", t.label_vi),
                        format!("`{}` takes no input `{name}`.", t.name),
                    )
                    .with_field(name.clone()),
                );
            }
        }
    }

    let mut view: Values = case
        .facts
        .iter()
        .filter(|(k, _)| t.input(k).is_none())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    view.extend(recorded.iter().map(|(k, v)| (k.clone(), v.clone())));
    // The shell's reading of the registry last: no input or fact may stand in for it.
    view.extend(context.iter().map(|(k, v)| (k.clone(), v.clone())));

    // Who, again: the actor must speak for the body the step names (an actor already refused
    // by `by` is not told twice; the scheduler, where it may fire, speaks for no body).
    if permitted
        && !fired_by_system(t, actor)
        && let Some(ab) = &t.acting_body
        && let Some(reason) = acting_body_refusal(
            t,
            ab,
            actor,
            inputs.is_some(),
            &recorded,
            case,
            &view,
            competent_tree_level(rule_set),
        )
    {
        reasons.insert(who_at, reason);
    }

    // Keys this evaluation cannot know yet: in a preview, the transition's own inputs and what
    // is computed from them; in a real event, inputs that were given but invalid (already
    // reported).
    let mut unknown_keys: BTreeSet<String> = match inputs {
        None => t.inputs.iter().map(|i| i.name.clone()).collect(),
        Some(_) => bad_keys,
    };

    let mut pending: Vec<PendingGuard> = Vec::new();
    if let Some(rs) = rule_set {
        // Computed dates, before the guards, which may read them.
        for c in &t.compute {
            match date_from(&c.from, &view, today) {
                Some(start) => match resolve_period(rs, &c.period)
                    .and_then(|p| add_period(p, start, calendar))
                {
                    Ok(d) => {
                        view.insert(c.key.clone(), Value::Date(d));
                        recorded.insert(c.key.clone(), Value::Date(d));
                    }
                    Err(r) => reasons.push(r),
                },
                None => {
                    let key = source_key(&c.from);
                    if unknown_keys.contains(key) {
                        unknown_keys.insert(c.key.clone());
                    } else {
                        reasons.push(data_missing(def, key, None));
                    }
                }
            }
        }

        // Guards: all of them, so the refusal lists every failing one.
        for name in &t.guards {
            let Some(spec) = guards::guard(name) else {
                // Validation rejects unknown guards; a definition built another way still gets
                // a refusal rather than a silent pass.
                reasons.push(Reason::new(
                    RefusalCode::ParameterMissing,
                    format!("Lỗi cấu hình quy trình: điều kiện «{name}» không tồn tại."),
                    format!("Definition error: guard `{name}` does not exist."),
                ));
                continue;
            };
            let missing: Vec<&str> = spec
                .reads
                .iter()
                .filter(|r| r.required && !view.contains_key(r.key))
                .map(|r| r.key)
                .collect();
            let outcome = if missing.is_empty() {
                let ctx = GuardContext {
                    transition: t,
                    rules: rs,
                    calendar,
                    case,
                    actor,
                    data: &view,
                    today,
                    guard: spec,
                };
                (spec.check)(&ctx)
            } else {
                GuardOutcome::NeedsData(missing.iter().map(|k| (*k).to_owned()).collect())
            };
            match outcome {
                GuardOutcome::Pass => {}
                GuardOutcome::Fail(rs) => reasons.extend(rs),
                GuardOutcome::NeedsData(keys) => {
                    let (waiting, absent): (Vec<String>, Vec<String>) =
                        keys.into_iter().partition(|k| unknown_keys.contains(k));
                    for key in &absent {
                        reasons.push(data_missing(def, key, Some(spec)));
                    }
                    if !waiting.is_empty() && inputs.is_none() {
                        pending.push(PendingGuard {
                            guard: spec.name.to_owned(),
                            rules: spec.rules.iter().map(|r| (*r).to_owned()).collect(),
                            needs: waiting,
                        });
                    }
                }
            }
        }
    }

    Evaluation {
        rule_set,
        reasons,
        pending,
        view,
        recorded,
    }
}

/// Whether the actor fires `t` as the scheduler, a role `by` allows.
fn fired_by_system(t: &Transition, actor: &Actor) -> bool {
    t.by.iter()
        .filter(|need| need.role == "system")
        .any(|need| actor.roles.iter().any(|held| need.admits(held)))
}

/// The body's kind or level: the event's value when the transition declares the key as an input
/// (none yet in a preview, none if it was invalid), else the fact an earlier step recorded.
fn body_value<'v>(
    t: &Transition,
    key: &str,
    given: bool,
    recorded: &'v Values,
    case: &'v CaseSnapshot,
) -> Option<&'v str> {
    if t.input(key).is_some() {
        if given { recorded.get(key) } else { None }
    } else {
        case.fact(key)
    }
    .and_then(Value::as_text)
}

/// The level of the tree the rule set makes competent (A10): what a role held at `competent`
/// stands for.
fn competent_tree_level(rule_set: Option<&RuleSet>) -> Level {
    match crate::access::competent_level(rule_set) {
        CompetentLevel::Superior => Level::Superior,
        CompetentLevel::Province => Level::Province,
    }
}

/// Why the actor may not take this step in the name of the body it names, if they may not: they
/// must hold the role that speaks for that body ([`body_role`]) at its level. A role held
/// without a level (anywhere) is held at every level; one held at `competent`, at the level the
/// rule set makes competent.
#[allow(clippy::too_many_arguments)] // each argument is a distinct input of a pure function
fn acting_body_refusal(
    t: &Transition,
    ab: &ActingBody,
    actor: &Actor,
    given: bool,
    recorded: &Values,
    case: &CaseSnapshot,
    view: &Values,
    competent: Level,
) -> Option<Reason> {
    let kind = body_value(t, &ab.kind, given, recorded, case)?;
    let level_value = body_value(t, &ab.level, given, recorded, case)?;
    let subject_level = view.get("subject_level").and_then(Value::as_text);
    let level = body_level(level_value, subject_level);
    let (role, pinned) = body_role(kind).unzip();
    let needed = role.zip(pinned.flatten().or(level));
    if let Some((role, at)) = needed
        && actor.roles.iter().any(|held| {
            held.role == role
                && held
                    .level
                    .is_none_or(|l| l == at || (l == Level::Competent && competent == at))
        })
    {
        return None;
    }
    // The level as a tree level, for the body's name (`direct_superior` resolved).
    let level_name = match level {
        Some(l) => l.as_str(),
        None => level_value,
    };
    let body_vi = crate::vocab::body_vi(kind, level_name);
    let body_en = crate::vocab::body_en(kind, level_name);
    let role_name = needed.map_or_else(
        || format!("{kind}@{level_value}"),
        |(role, at)| RoleRef::at(role, at).to_string(),
    );
    let (vi, en) = if t.input(&ab.kind).is_some() {
        (
            format!(
                "Người thực hiện không giữ vai trò {role_name} nên không được nhân danh {body_vi} thực hiện bước «{}».",
                t.label_vi
            ),
            format!(
                "The actor does not hold {role_name}, so may not fire `{}` in the name of {body_en}.",
                t.name
            ),
        )
    } else {
        (
            format!(
                "Bước «{}» là việc của {body_vi} (đã ghi trong hồ sơ: «{}»); người thực hiện không giữ vai trò {role_name} của tổ chức này.",
                t.label_vi, ab.kind
            ),
            format!(
                "`{}` is the act of {body_en}, recorded on the case as `{}`; the actor does not hold {role_name}, its role.",
                t.name, ab.kind
            ),
        )
    };
    Some(Reason::new(RefusalCode::NotPermitted, vi, en).with_field(ab.kind.clone()))
}

fn decide(
    def: &Definition,
    book: &RuleBook,
    calendar: &WorkingCalendar,
    case: &CaseSnapshot,
    t: &Transition,
    event: &Event,
    today: NaiveDate,
) -> Result<Decision, Refusal> {
    let eval = evaluate(
        def,
        book,
        calendar,
        case,
        t,
        &event.actor,
        Some(&event.inputs),
        &event.context,
        today,
    );
    let mut reasons = eval.reasons;
    let Some(rs) = eval.rule_set else {
        return Err(refusal(&t.name, case, reasons));
    };
    if !reasons.is_empty() {
        return Err(refusal(&t.name, case, reasons));
    }

    let opening = t.from.is_empty();
    let from = case.state.clone();
    let to = t.to.clone().unwrap_or_else(|| from.clone());
    let enters = opening || to != from;

    let mut next = case.clone();
    let recorded_keys: BTreeSet<String> = eval.recorded.keys().cloned().collect();
    next.facts.extend(eval.recorded);
    for counter in &t.count {
        let n = case.facts.get(counter).and_then(Value::as_int).unwrap_or(0);
        next.facts
            .insert(counter.clone(), Value::Int(n.saturating_add(1)));
    }
    // What deadlines, reminders and effects read: the recorded facts after this step.
    let facts_after = {
        let mut v = eval.view;
        v.extend(
            next.facts
                .iter()
                .filter(|(k, _)| t.count.contains(k))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        v
    };

    let mut effects = Vec::new();
    let mut notices = Vec::new();
    if let Some(previous) = case.current_rule_set()
        && previous != rs.id
    {
        notices.push(Notice::RuleSetChanged {
            previous: previous.to_owned(),
            current: rs.id.clone(),
        });
    }

    let old = if opening { None } else { def.state(&from) };
    let new = def.state(&to);
    let mut plan = Schedule {
        rs,
        calendar,
        facts: &facts_after,
        recorded: &recorded_keys,
        today,
        def,
        next: &mut next,
        effects: &mut effects,
        notices: &mut notices,
        reasons: &mut reasons,
    };
    plan.run(old, new, enters);
    if enters {
        next.entered_on = today;
    }
    let mut extended: BTreeSet<String> = BTreeSet::new();

    for spec in &t.effects {
        match spec {
            EffectSpec::SendMail(m) => effects.push(Effect::mail(m)),
            EffectSpec::SetMemberStatus(status) => effects.push(Effect::SetMemberStatus { status: *status }),
            EffectSpec::RecordAdmissionDecision { date } => match facts_after.get(date).and_then(Value::as_date) {
                Some(d) => effects.push(Effect::RecordAdmissionDecision { decision_date: d, party_age_from: d }),
                None => reasons.push(data_missing(def, date, None)),
            },
            EffectSpec::RecordCeremony { date, probation_end } => {
                let ceremony = facts_after.get(date).and_then(Value::as_date);
                let end = facts_after.get(probation_end).and_then(Value::as_date);
                match (ceremony, end) {
                    (Some(c), Some(e)) => effects.push(Effect::RecordCeremony { ceremony_date: c, probation_end: e }),
                    (None, _) => reasons.push(data_missing(def, date, None)),
                    (_, None) => reasons.push(data_missing(def, probation_end, None)),
                }
            }
            EffectSpec::RecordRecognition { official_from } => {
                match facts_after.get(official_from).and_then(Value::as_date) {
                    Some(d) => effects.push(Effect::RecordRecognition { official_from: d }),
                    None => reasons.push(data_missing(def, official_from, None)),
                }
            }
            EffectSpec::RecordStrikeOff { date } => match facts_after.get(date).and_then(Value::as_date) {
                Some(d) => effects.push(Effect::RecordStrikeOff { date: d }),
                None => reasons.push(data_missing(def, date, None)),
            },
            EffectSpec::RecordExpulsion { date } => match facts_after.get(date).and_then(Value::as_date) {
                Some(d) => effects.push(Effect::RecordExpulsion { date: d }),
                None => reasons.push(data_missing(def, date, None)),
            },
            EffectSpec::RecordRestoration { date } => match facts_after.get(date).and_then(Value::as_date) {
                Some(d) => effects.push(Effect::RecordRestoration { date: d }),
                None => reasons.push(data_missing(def, date, None)),
            },
            EffectSpec::RecordDiscipline { status, date } => {
                // The form goes with a decision or a ruling only: a lapse or an annulment
                // changes the status of the decision the register already has.
                let form = facts_after
                    .get("discipline_form")
                    .and_then(Value::as_text)
                    .filter(|_| *status == DisciplineStatus::InForce)
                    .map(str::to_owned);
                match facts_after.get(date).and_then(Value::as_date) {
                    Some(_) if form.is_none() && *status == DisciplineStatus::InForce => {
                        reasons.push(data_missing(def, "discipline_form", None));
                    }
                    Some(d) => effects.push(Effect::RecordDiscipline {
                        status: *status,
                        form,
                        date: d,
                    }),
                    None => reasons.push(data_missing(def, date, None)),
                }
            }
            EffectSpec::ExtendDeadline { key } => match next.deadlines.get_mut(key) {
                Some(rec) if !rec.extended && rec.extended_due.is_some() => {
                    let due = rec.extended_due.unwrap_or(rec.due);
                    rec.due = due;
                    rec.extended = true;
                    extended.insert(key.clone());
                    effects.push(Effect::ScheduleDeadline {
                        key: key.clone(),
                        rule: rec.rule.clone(),
                        due,
                        extended: true,
                        on_expiry: rec.on_expiry.clone(),
                        notify: rec.notify.clone(),
                    });
                }
                Some(rec) => reasons.push(
                    Reason::new(
                        RefusalCode::DeadlineNotExtendable,
                        format!(
                            "Thời hạn này đã được gia hạn một lần (đến {}); không được gia hạn thêm ({}).",
                            fmt_date(rec.due),
                            rec.rule
                        ),
                        format!("This deadline was already extended once (to {}); no further extension ({}).", rec.due, rec.rule),
                    )
                    .with_rule(rec.rule.clone())
                    .with_field(key.clone()),
                ),
                None => reasons.push(
                    Reason::new(
                        RefusalCode::DeadlineNotExtendable,
                        format!("Không có thời hạn «{key}» đang chạy để gia hạn."),
                        format!("No running deadline `{key}` to extend."),
                    )
                    .with_field(key.clone()),
                ),
            },
        }
    }

    if let Some(state) = new
        && !extended.is_empty()
    {
        Schedule {
            rs,
            calendar,
            facts: &facts_after,
            recorded: &recorded_keys,
            today,
            def,
            next: &mut next,
            effects: &mut effects,
            notices: &mut notices,
            reasons: &mut reasons,
        }
        .follow_extensions(state, &extended);
    }

    if !reasons.is_empty() {
        return Err(refusal(&t.name, case, reasons));
    }

    next.state = to.clone();
    next.version += 1;
    next.steps.push(StepRecord {
        seq: next.version,
        transition: t.name.clone(),
        from: from.clone(),
        to: to.clone(),
        on: today,
        rule_set: rs.id.clone(),
        definition_version: def.version,
        actor: event.actor.id.clone(),
    });
    Ok(Decision {
        transition: t.name.clone(),
        from,
        to,
        rule_set: rs.id.clone(),
        on: today,
        effects,
        notices,
        case: next,
    })
}

/// Planning of deadlines and reminders for one step.
struct Schedule<'a> {
    rs: &'a RuleSet,
    calendar: &'a WorkingCalendar,
    facts: &'a Values,
    /// Keys this step recorded: a deadline or reminder counted from one of them is recomputed
    /// even if it carries over (a renewed certificate moves its expiry).
    recorded: &'a BTreeSet<String>,
    today: NaiveDate,
    def: &'a Definition,
    next: &'a mut CaseSnapshot,
    effects: &'a mut Vec<Effect>,
    notices: &'a mut Vec<Notice>,
    reasons: &'a mut Vec<Reason>,
}

impl Schedule<'_> {
    /// On entering a state, cancels what the old state ran and the new one does not declare,
    /// and schedules what the new state declares and the old one did not (a shared key carries
    /// over unchanged). In every step, recomputes what is counted from a date the step
    /// recorded.
    fn run(&mut self, old: Option<&State>, new: Option<&State>, enters: bool) {
        let declares_deadline = |s: Option<&State>, key: &str| {
            s.is_some_and(|s| s.deadlines.iter().any(|d| d.key == key))
        };
        let declares_reminder = |s: Option<&State>, key: &str| {
            s.is_some_and(|s| s.reminders.iter().any(|r| r.key == key))
        };

        if enters && let Some(old) = old {
            for d in &old.deadlines {
                if !declares_deadline(new, &d.key) {
                    if let Some(rec) = self.next.deadlines.remove(&d.key)
                        && self.today > rec.due
                    {
                        self.notices.push(Notice::LeftAfterDeadline {
                            key: d.key.clone(),
                            rule: rec.rule,
                            due: rec.due,
                        });
                    }
                    self.effects
                        .push(Effect::CancelDeadline { key: d.key.clone() });
                }
            }
            for r in &old.reminders {
                if !declares_reminder(new, &r.key) {
                    self.effects
                        .push(Effect::CancelReminder { key: r.key.clone() });
                }
            }
        }

        let Some(new) = new else { return };
        let mut moved: BTreeSet<&str> = BTreeSet::new();
        for d in &new.deadlines {
            let carried = (!enters || declares_deadline(old, &d.key))
                && self.next.deadlines.contains_key(&d.key);
            let depends = matches!(&d.from, DateSource::Key(k) if self.recorded.contains(k));
            if carried && !depends {
                continue;
            }
            if self.schedule_deadline(d) && carried {
                moved.insert(d.key.as_str());
            }
        }
        for r in &new.reminders {
            let carried = !enters || declares_reminder(old, &r.key);
            let depends = match &r.when {
                ReminderWhen::After {
                    from: DateSource::Key(k),
                    ..
                } => self.recorded.contains(k),
                ReminderWhen::BeforeDeadline { deadline, .. } => moved.contains(deadline.as_str()),
                ReminderWhen::After {
                    from: DateSource::Entered,
                    ..
                }
                | ReminderWhen::Cron(_) => false,
            };
            if carried && !depends {
                continue;
            }
            if carried {
                // Moved, not added: the reminder at the old date must not go out as well.
                self.effects
                    .push(Effect::CancelReminder { key: r.key.clone() });
            }
            self.schedule_reminder(r);
        }
    }

    /// After a deadline of `state` was extended (A10), moves the reminders counted back from
    /// it to the new due date.
    fn follow_extensions(&mut self, state: &State, extended: &BTreeSet<String>) {
        for r in &state.reminders {
            if let ReminderWhen::BeforeDeadline { deadline, .. } = &r.when
                && extended.contains(deadline)
            {
                self.effects
                    .push(Effect::CancelReminder { key: r.key.clone() });
                self.schedule_reminder(r);
            }
        }
    }

    /// Schedules a deadline; `false` (with a reason recorded) when it cannot be computed.
    fn schedule_deadline(&mut self, d: &super::definition::DeadlineSpec) -> bool {
        let Some(start) = date_from(&d.from, self.facts, self.today) else {
            self.reasons
                .push(data_missing(self.def, source_key(&d.from), None));
            return false;
        };
        let due = match resolve_period(self.rs, &d.period)
            .and_then(|p| add_period(p, start, self.calendar))
        {
            Ok(due) => due,
            Err(r) => {
                self.reasons.push(r.with_rule(d.rule.clone()));
                return false;
            }
        };
        let extended_due = match &d.extension {
            Some(ext) => {
                match resolve_period(self.rs, ext).and_then(|p| add_period(p, due, self.calendar)) {
                    Ok(x) => Some(x),
                    Err(r) => {
                        self.reasons.push(r.with_rule(d.rule.clone()));
                        return false;
                    }
                }
            }
            None => None,
        };
        self.next.deadlines.insert(
            d.key.clone(),
            DeadlineRecord {
                rule: d.rule.clone(),
                due,
                extended_due,
                extended: false,
                on_expiry: d.on_expiry.clone(),
                notify: d.notify.clone(),
                rule_set: self.rs.id.clone(),
            },
        );
        self.effects.push(Effect::ScheduleDeadline {
            key: d.key.clone(),
            rule: d.rule.clone(),
            due,
            extended: false,
            on_expiry: d.on_expiry.clone(),
            notify: d.notify.clone(),
        });
        true
    }

    fn schedule_reminder(&mut self, r: &super::definition::ReminderSpec) {
        let at = match &r.when {
            ReminderWhen::Cron(cron) => {
                self.effects.push(Effect::ScheduleRecurringReminder {
                    key: r.key.clone(),
                    template: r.template.clone(),
                    to: r.to.clone(),
                    cron: cron.clone(),
                });
                return;
            }
            ReminderWhen::After { from, period } => {
                let Some(start) = date_from(from, self.facts, self.today) else {
                    self.reasons
                        .push(data_missing(self.def, source_key(from), None));
                    return;
                };
                resolve_period(self.rs, period).and_then(|p| add_period(p, start, self.calendar))
            }
            ReminderWhen::BeforeDeadline { deadline, period } => {
                match self.next.deadlines.get(deadline) {
                    Some(rec) => {
                        let due = rec.due;
                        resolve_period(self.rs, period).and_then(|p| {
                            p.before(due, self.calendar)
                                .ok_or_else(|| out_of_range(due, p))
                        })
                    }
                    // Validation guarantees the state declares the deadline; if it could not be
                    // scheduled, that failure is already a reason.
                    None => return,
                }
            }
        };
        match at {
            Ok(at) => {
                let at = if at < self.today {
                    self.notices.push(Notice::ReminderDue {
                        key: r.key.clone(),
                        planned: at,
                    });
                    self.today
                } else {
                    at
                };
                self.effects.push(Effect::ScheduleReminder {
                    key: r.key.clone(),
                    template: r.template.clone(),
                    to: r.to.clone(),
                    at,
                });
            }
            Err(reason) => self.reasons.push(reason),
        }
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

fn type_vi(ty: &InputType) -> String {
    match ty {
        InputType::String => "văn bản".into(),
        InputType::Integer { .. } => "số nguyên".into(),
        InputType::Date => "ngày (YYYY-MM-DD)".into(),
        InputType::Boolean => "có/không".into(),
        InputType::Enum(values) => format!("một trong: {}", values.join(", ")),
        InputType::MemberRef => "mã đảng viên".into(),
        InputType::UnitRef => "mã tổ chức đảng".into(),
        InputType::List(inner) => format!("danh sách {}", type_vi(inner)),
    }
}

/// Checks an input value against its declared type, converting `YYYY-MM-DD` text to a date
/// (JSON has no date type, so the API passes dates as text).
fn coerce(spec: &InputSpec, ty: &InputType, v: &Value) -> Result<Value, Reason> {
    let wrong_type = || {
        Reason::new(
            RefusalCode::InputType,
            format!(
                "Thông tin «{}» ({}) phải là {}, nhận được «{v}».",
                spec.label_vi,
                spec.name,
                type_vi(ty)
            ),
            format!(
                "Input {} ({}) must be {}, got {} `{v}`.",
                spec.label_en,
                spec.name,
                ty.name(),
                v.type_name()
            ),
        )
        .with_field(spec.name.clone())
    };
    let invalid = |vi: String, en: String| {
        Reason::new(RefusalCode::InputInvalid, vi, en).with_field(spec.name.clone())
    };
    match (ty, v) {
        (InputType::String, Value::Text(_))
        | (InputType::Boolean, Value::Bool(_))
        | (InputType::Date, Value::Date(_)) => Ok(v.clone()),
        (InputType::Date, Value::Text(s)) => crate::calendar::parse_iso_date(s)
            .map(Value::Date)
            .ok_or_else(wrong_type),
        (InputType::Integer { min, max }, Value::Int(i)) => {
            if min.is_some_and(|m| *i < m) || max.is_some_and(|m| *i > m) {
                let range = match (min, max) {
                    (Some(a), Some(b)) => {
                        (format!("từ {a} đến {b}"), format!("between {a} and {b}"))
                    }
                    (Some(a), None) => (format!("từ {a} trở lên"), format!("at least {a}")),
                    (None, Some(b)) => (format!("không quá {b}"), format!("at most {b}")),
                    (None, None) => (String::new(), String::new()),
                };
                Err(invalid(
                    format!(
                        "Thông tin «{}» ({}) phải {}, nhận được {i}.",
                        spec.label_vi, spec.name, range.0
                    ),
                    format!(
                        "Input {} ({}) must be {}, got {i}.",
                        spec.label_en, spec.name, range.1
                    ),
                ))
            } else {
                Ok(v.clone())
            }
        }
        (InputType::Enum(values), Value::Text(s)) => {
            if values.contains(s) {
                Ok(v.clone())
            } else {
                Err(invalid(
                    format!(
                        "Giá trị «{s}» của «{}» ({}) không hợp lệ; chọn một trong: {}.",
                        spec.label_vi,
                        spec.name,
                        values.join(", ")
                    ),
                    format!(
                        "`{s}` is not a valid {} ({}); choose one of: {}.",
                        spec.label_en,
                        spec.name,
                        values.join(", ")
                    ),
                ))
            }
        }
        (InputType::MemberRef | InputType::UnitRef, Value::Text(s)) => {
            if s.trim().is_empty() {
                Err(invalid(
                    format!(
                        "Thông tin «{}» ({}) không được để trống.",
                        spec.label_vi, spec.name
                    ),
                    format!("Input {} ({}) must not be empty.", spec.label_en, spec.name),
                ))
            } else {
                Ok(v.clone())
            }
        }
        (InputType::List(inner), Value::List(items)) => items
            .iter()
            .map(|item| coerce(spec, inner, item))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::List),
        _ => Err(wrong_type()),
    }
}
