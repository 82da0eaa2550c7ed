//! Deciding an accepted transition: the next snapshot, the facts it records, the deadlines and
//! reminders it schedules or cancels, the effects for the shell.

#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::calendar::WorkingCalendar;
use crate::engine::case::{CaseSnapshot, DeadlineRecord, Event, StepMark};
use crate::engine::definition::{
    DateSource, Definition, DisciplineStatus, EffectSpec, ReminderWhen, State, Transition,
};
use crate::engine::effect::{Effect, Notice};
use crate::engine::period::fmt_date;
use crate::engine::refusal::{Reason, Refusal, RefusalCode};
use crate::engine::ruleset::{RuleBook, RuleSet};
use crate::engine::value::{Value, Values};

use super::*;

pub(super) fn decide(
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
    next.record_step(StepMark {
        on: today,
        transition: t.name.clone(),
        rule_set: rs.id.clone(),
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
    fn schedule_deadline(&mut self, d: &crate::engine::definition::DeadlineSpec) -> bool {
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

    fn schedule_reminder(&mut self, r: &crate::engine::definition::ReminderSpec) {
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
