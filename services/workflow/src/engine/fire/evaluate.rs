//! Checking a transition against a case: the state, the actor and the body it speaks for, the
//! inputs (typed and coerced), every guard; all reasons collected, none acted on.

#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::calendar::WorkingCalendar;
use crate::engine::case::{Actor, CaseSnapshot};
use crate::engine::definition::{
    ActingBody, Definition, InputSpec, InputType, RoleRef, Transition, body_level, body_role,
};
use crate::engine::guards::{self, GuardContext, GuardOutcome};
use crate::engine::period::fmt_date;
use crate::engine::refusal::{Reason, RefusalCode};
use crate::engine::ruleset::{RuleBook, RuleSet};
use crate::engine::value::{Value, Values};
use crate::vocab::RoleLevel;

use super::*;
/// The outcome of checking a transition against a case, before any effect is planned.
pub(super) struct Evaluation<'r> {
    pub(super) rule_set: Option<&'r RuleSet>,
    pub(super) reasons: Vec<Reason>,
    pub(super) pending: Vec<PendingGuard>,
    /// What this step knows: earlier facts (minus the transition's own inputs, which only the
    /// event may give), the event's valid inputs, and the computed dates.
    pub(super) view: Values,
    /// Valid inputs and computed dates, to record as facts.
    pub(super) recorded: Values,
}

#[allow(clippy::too_many_arguments)] // each argument is a distinct input of a pure function
pub(super) fn evaluate<'r>(
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
    if let Some(last) = case.last_step.as_ref().filter(|s| !opening && today < s.on) {
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
            crate::access::competent_level(rule_set).role_level(),
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
    competent: RoleLevel,
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
                    .is_none_or(|l| l == at || (l == RoleLevel::Competent && competent == at))
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
