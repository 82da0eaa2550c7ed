//! Building and validating the parts of a definition: acting bodies, states, deadlines, reminders,
//! transitions, inputs, effects.

use std::collections::BTreeSet;

use super::build::{Ctx, date_source};
use super::raw::*;
use crate::engine::definition::*;
use crate::engine::problem::ProblemCode;
use crate::vocab::MemberStatus;

/// `acting_body` names two keys that are both inputs of the transition (each kind then needs a
/// role of `by` to speak for it), or both facts that other transitions record; either way they
/// are enums of known body kinds and levels.
pub(super) fn check_acting_body(
    cx: &mut Ctx<'_>,
    t: &Transition,
    ab: &ActingBody,
    all: &[&Transition],
) {
    let place = format!("transition `{}`, acting_body", t.name);
    if ab.kind.is_empty() || ab.level.is_empty() {
        return; // already reported as missing
    }
    let own = match (t.input(&ab.kind), t.input(&ab.level)) {
        (Some(_), Some(_)) => true,
        (None, None) => false,
        _ => {
            cx.err(
                ProblemCode::InvalidValue,
                &place,
                format!(
                    "`{}` and `{}` must both be inputs of this transition, or both facts recorded by earlier steps",
                    ab.kind, ab.level
                ),
            );
            return;
        }
    };
    // The inputs that give each key: the transition's own, or those of the other transitions.
    let sources = |key: &str| -> Vec<&InputSpec> {
        all.iter()
            .filter(|o| (o.name == t.name) == own)
            .filter_map(|o| o.input(key))
            .collect()
    };
    let mut reported = BTreeSet::new();
    let mut report = |cx: &mut Ctx<'_>, code: ProblemCode, message: String| {
        if reported.insert(message.clone()) {
            cx.err(code, &place, message);
        }
    };
    for (key, is_kind) in [(&ab.kind, true), (&ab.level, false)] {
        let inputs = sources(key);
        if inputs.is_empty() {
            report(
                cx,
                ProblemCode::InvalidValue,
                format!(
                    "`{key}` is neither an input of this transition nor recorded by another one"
                ),
            );
        }
        for input in inputs {
            let InputType::Enum(values) = &input.ty else {
                report(
                    cx,
                    ProblemCode::InvalidValue,
                    format!(
                        "`{key}` must be an enum input listing {}",
                        if is_kind { "body kinds" } else { "levels" }
                    ),
                );
                continue;
            };
            for v in values {
                if !is_kind {
                    if !is_body_level(v) {
                        report(
                            cx,
                            ProblemCode::UnknownLevel,
                            format!(
                                "`{key}` lists `{v}`, which is not one of branch, grassroots, superior, province, central, direct_superior, second_superior"
                            ),
                        );
                    }
                    continue;
                }
                match body_role(v) {
                    None => report(
                        cx,
                        ProblemCode::InvalidValue,
                        format!(
                            "`{key}` lists `{v}`, which is not a body kind (branch, branch_committee, partial_committee, committee, standing_committee, inspection_commission, advisory_department, politburo, secretariat)"
                        ),
                    ),
                    // Only for the transition's own inputs: a fact may name a body that never
                    // reaches this step (one without power is refused before it).
                    Some((role, _)) if own && !t.by.iter().any(|r| r.role == role) => report(
                        cx,
                        ProblemCode::InvalidValue,
                        format!(
                            "`{key}` lists `{v}`, spoken for by the role `{role}`, which `by` does not list: nobody could fire the transition naming that body"
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
}

pub(super) fn build_state(cx: &mut Ctx<'_>, rs: RawState, place: &str) -> State {
    cx.extra(&rs.extra, place);
    let name = cx.required(rs.name, "name", place);
    cx.rule_ids(&rs.rules, place);
    let deadlines = rs
        .deadline
        .into_iter()
        .enumerate()
        .filter_map(|(i, rd)| {
            let dplace = rd.key.as_ref().map_or_else(
                || format!("{place}, deadline #{}", i + 1),
                |k| format!("{place}, deadline `{k}`"),
            );
            build_deadline(cx, rd, &dplace)
        })
        .collect();
    let reminders = rs
        .reminder
        .into_iter()
        .enumerate()
        .filter_map(|(i, rr)| {
            let rplace = rr.key.as_ref().map_or_else(
                || format!("{place}, reminder #{}", i + 1),
                |k| format!("{place}, reminder `{k}`"),
            );
            build_reminder(cx, rr, &rplace)
        })
        .collect();
    State {
        label_vi: rs.label_vi.unwrap_or_else(|| name.clone()),
        label_en: rs.label_en.unwrap_or_else(|| name.clone()),
        name,
        terminal: rs.terminal,
        rules: rs.rules,
        deadlines,
        reminders,
        in_force: rs.in_force,
    }
}

pub(super) fn build_deadline(
    cx: &mut Ctx<'_>,
    rd: RawDeadline,
    place: &str,
) -> Option<DeadlineSpec> {
    cx.extra(&rd.extra, place);
    let key = cx.required(rd.key, "key", place);
    let rule = cx.required(rd.rule, "rule", place);
    if !rule.is_empty() {
        cx.rule_ids(std::slice::from_ref(&rule), place);
    }
    let period = cx.period(rd.period, "period", place);
    let extension = match rd.extension {
        Some(t) => Some(cx.period(Some(t), "extension", place)?),
        None => None,
    };
    let notify = rd.notify.map(|m| cx.mail(m, place));
    let on_expiry = match rd.escalate {
        Some(t) => OnExpiry::Escalate { transition: t },
        None => OnExpiry::Flag,
    };
    Some(DeadlineSpec {
        key,
        rule,
        from: date_source(rd.from),
        period: period?,
        extension,
        on_expiry,
        notify,
    })
}

pub(super) fn build_reminder(
    cx: &mut Ctx<'_>,
    rr: RawReminder,
    place: &str,
) -> Option<ReminderSpec> {
    cx.extra(&rr.extra, place);
    let key = cx.required(rr.key, "key", place);
    let template = cx.required(rr.template, "template", place);
    let to = match rr.to {
        Some(r) => cx.role(r, place),
        None => {
            cx.err(
                ProblemCode::MissingField,
                place,
                "missing `to` (recipient role)",
            );
            RoleRef::anywhere("")
        }
    };
    let modes = usize::from(rr.after.is_some())
        + usize::from(rr.before.is_some() || rr.deadline.is_some())
        + usize::from(rr.cron.is_some());
    if modes != 1 {
        cx.err(
            ProblemCode::InvalidValue,
            place,
            "a reminder needs exactly one of `after` (with optional `from`), `deadline` with `before`, or `cron`",
        );
        return None;
    }
    let when = if let Some(after) = rr.after {
        ReminderWhen::After {
            from: date_source(rr.from),
            period: cx.period(Some(after), "after", place)?,
        }
    } else if let Some(cron) = rr.cron {
        if cron.trim().is_empty() {
            cx.err(ProblemCode::BadCron, place, "empty cron expression");
            return None;
        }
        ReminderWhen::Cron(cron)
    } else {
        let deadline = cx.required(rr.deadline, "deadline", place);
        ReminderWhen::BeforeDeadline {
            deadline,
            period: cx.period(rr.before, "before", place)?,
        }
    };
    Some(ReminderSpec {
        key,
        template,
        to,
        when,
    })
}

pub(super) fn build_transition(
    cx: &mut Ctx<'_>,
    rt: RawTransition,
    place: &str,
    open: Option<&str>,
) -> Transition {
    cx.extra(&rt.extra, place);
    let name = match open {
        Some(n) => {
            if rt.from.is_some() {
                cx.err(
                    ProblemCode::InvalidValue,
                    place,
                    "the opening transition has no `from`",
                );
            }
            n.to_owned()
        }
        None => cx.required(rt.name, "name", place),
    };
    cx.rule_ids(&rt.rules, place);
    let by: Vec<RoleRef> = rt.by.into_iter().map(|r| cx.role(r, place)).collect();
    if by.is_empty() {
        cx.err(
            ProblemCode::NoActor,
            place,
            "`by` lists nobody who may fire it",
        );
    }
    let mut inputs: Vec<InputSpec> = Vec::new();
    for (i, ri) in rt.input.into_iter().enumerate() {
        let iplace = ri.name.as_ref().map_or_else(
            || format!("{place}, input #{}", i + 1),
            |n| format!("{place}, input `{n}`"),
        );
        if let Some(input) = build_input(cx, ri, &iplace) {
            if inputs.iter().any(|x| x.name == input.name) {
                cx.err(ProblemCode::DuplicateInput, &iplace, "declared twice");
                continue;
            }
            inputs.push(input);
        }
    }
    let effects = rt
        .effect
        .into_iter()
        .enumerate()
        .filter_map(|(i, re)| build_effect(cx, re, &format!("{place}, effect #{}", i + 1)))
        .collect();
    let compute = rt
        .compute
        .into_iter()
        .filter_map(|rc| {
            let cplace = format!("{place}, compute");
            cx.extra(&rc.extra, &cplace);
            let key = cx.required(rc.key, "key", &cplace);
            let period = cx.period(rc.period, "period", &cplace)?;
            Some(ComputeSpec {
                key,
                from: date_source(rc.from),
                period,
            })
        })
        .collect();
    let acting_body = rt.acting_body.map(|rb| {
        let aplace = format!("{place}, acting_body");
        cx.extra(&rb.extra, &aplace);
        ActingBody {
            kind: cx.required(rb.kind, "kind", &aplace),
            level: cx.required(rb.level, "level", &aplace),
        }
    });
    Transition {
        label_vi: rt.label_vi.unwrap_or_else(|| name.clone()),
        label_en: rt.label_en.unwrap_or_else(|| name.clone()),
        name,
        from: rt.from.unwrap_or_default(),
        to: rt.to,
        rules: rt.rules,
        by,
        inputs,
        guards: rt.guards,
        effects,
        compute,
        count: rt.count,
        acting_body,
    }
}

pub(super) fn build_input(cx: &mut Ctx<'_>, ri: RawInput, place: &str) -> Option<InputSpec> {
    cx.extra(&ri.extra, place);
    let name = cx.required(ri.name, "name", place);
    let ty_name = cx.required(ri.ty, "type", place);
    let base = match ty_name.as_str() {
        "string" => Some(InputType::String),
        "integer" => Some(InputType::Integer {
            min: ri.min,
            max: ri.max,
        }),
        "date" => Some(InputType::Date),
        "boolean" => Some(InputType::Boolean),
        "member_ref" => Some(InputType::MemberRef),
        "unit_ref" => Some(InputType::UnitRef),
        "enum" => match ri.values {
            Some(v) if !v.is_empty() => Some(InputType::Enum(v)),
            _ => {
                cx.err(
                    ProblemCode::InvalidValue,
                    place,
                    "an enum input needs a non-empty `values` list",
                );
                None
            }
        },
        "" => None,
        other => {
            cx.err(
                ProblemCode::UnknownInputType,
                place,
                format!("type `{other}` is not one of string, integer, date, boolean, enum, member_ref, unit_ref"),
            );
            None
        }
    };
    if ty_name != "integer" && (ri.min.is_some() || ri.max.is_some()) {
        cx.err(
            ProblemCode::InvalidValue,
            place,
            "`min`/`max` apply to integer inputs only",
        );
    }
    let base = base?;
    let ty = if ri.list {
        InputType::List(Box::new(base))
    } else {
        base
    };
    Some(InputSpec {
        label_vi: ri.label_vi.unwrap_or_else(|| name.clone()),
        label_en: ri.label_en.unwrap_or_else(|| name.clone()),
        name,
        ty,
        required: ri.required.unwrap_or(true),
    })
}

pub(super) fn build_effect(cx: &mut Ctx<'_>, re: RawEffect, place: &str) -> Option<EffectSpec> {
    cx.extra(&re.extra, place);
    let kind = cx.required(re.kind, "kind", place);
    match kind.as_str() {
        "send_mail" => Some(EffectSpec::SendMail(cx.mail(
            RawMail {
                template: re.template,
                to: re.to,
                extra: Extra::new(),
            },
            place,
        ))),
        "set_member_status" => {
            let status = cx.required(re.status, "status", place);
            let parsed = MemberStatus::from_definition_name(&status);
            if parsed.is_none() && !status.is_empty() {
                cx.err(
                    ProblemCode::UnknownMemberStatus,
                    place,
                    format!("status `{status}` is not one of candidate, probationary, official, struck_off"),
                );
            }
            parsed.map(EffectSpec::SetMemberStatus)
        }
        "record_admission_decision" => Some(EffectSpec::RecordAdmissionDecision {
            date: cx.required(re.date, "date", place),
        }),
        "record_ceremony" => Some(EffectSpec::RecordCeremony {
            date: cx.required(re.date, "date", place),
            probation_end: cx.required(re.probation_end, "probation_end", place),
        }),
        "record_recognition" => Some(EffectSpec::RecordRecognition {
            official_from: cx.required(re.official_from, "official_from", place),
        }),
        "record_strike_off" => Some(EffectSpec::RecordStrikeOff {
            date: cx.required(re.date, "date", place),
        }),
        "record_expulsion" => Some(EffectSpec::RecordExpulsion {
            date: cx.required(re.date, "date", place),
        }),
        "record_discipline" => {
            let status = cx.required(re.status, "status", place);
            let parsed = DisciplineStatus::parse(&status);
            if parsed.is_none() && !status.is_empty() {
                cx.err(
                    ProblemCode::InvalidValue,
                    place,
                    format!("status `{status}` is not one of in_force, lapsed, annulled"),
                );
            }
            let date = cx.required(re.date, "date", place);
            parsed.map(|status| EffectSpec::RecordDiscipline { status, date })
        }
        "record_restoration" => Some(EffectSpec::RecordRestoration {
            date: cx.required(re.date, "date", place),
        }),
        "extend_deadline" => Some(EffectSpec::ExtendDeadline {
            key: cx.required(re.key, "key", place),
        }),
        "" => None,
        other => {
            cx.err(
                ProblemCode::UnknownEffect,
                place,
                format!(
                    "effect kind `{other}` is not one of send_mail, set_member_status, record_admission_decision, record_ceremony, record_recognition, record_strike_off, record_expulsion, record_restoration, extend_deadline"
                ),
            );
            None
        }
    }
}
