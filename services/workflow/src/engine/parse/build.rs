//! Building a definition from its raw shape and validating it as a whole.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::parts::*;
use super::raw::*;
use crate::engine::definition::*;
use crate::engine::guards::{self, DataType};
use crate::engine::problem::{Problem, ProblemCode, is_rule_id, unknown_fields};
use crate::engine::ruleset::parse_period_table;
use crate::vocab::RoleLevel;

pub(super) struct Ctx<'p> {
    pub(super) problems: &'p mut Vec<Problem>,
}

impl Ctx<'_> {
    pub(super) fn err(&mut self, code: ProblemCode, place: &str, message: impl Into<String>) {
        self.problems.push(Problem::error(code, place, message));
    }

    pub(super) fn extra(&mut self, extra: &Extra, place: &str) {
        unknown_fields(extra, place, self.problems);
    }

    pub(super) fn required(&mut self, value: Option<String>, field: &str, place: &str) -> String {
        match value {
            Some(v) if !v.trim().is_empty() => v,
            _ => {
                self.err(
                    ProblemCode::MissingField,
                    place,
                    format!("missing `{field}`"),
                );
                String::new()
            }
        }
    }

    pub(super) fn rule_ids(&mut self, rules: &[String], place: &str) {
        for r in rules {
            if !is_rule_id(r) {
                self.err(
                    ProblemCode::BadRuleId,
                    place,
                    format!(
                        "`{r}` is not a rule id (capital letters then a number, e.g. E1, A10, D31)"
                    ),
                );
            }
        }
    }

    pub(super) fn role(&mut self, raw: RawRole, place: &str) -> RoleRef {
        self.extra(&raw.extra, place);
        let role = self.required(raw.role, "role", place);
        let level = raw.level.and_then(|l| {
            let level = RoleLevel::parse(&l);
            if level.is_none() {
                self.err(
                    ProblemCode::UnknownLevel,
                    place,
                    format!(
                        "level `{l}` is not one of branch, grassroots, superior, competent, province, central"
                    ),
                );
            }
            level
        });
        RoleRef { role, level }
    }

    pub(super) fn mail(&mut self, raw: RawMail, place: &str) -> MailSpec {
        self.extra(&raw.extra, place);
        let template = self.required(raw.template, "template", place);
        let to = match raw.to {
            Some(r) => self.role(r, place),
            None => {
                self.err(
                    ProblemCode::MissingField,
                    place,
                    "missing `to` (recipient role)",
                );
                RoleRef::anywhere("")
            }
        };
        MailSpec { template, to }
    }

    pub(super) fn period(
        &mut self,
        table: Option<toml::Table>,
        field: &str,
        place: &str,
    ) -> Option<PeriodRef> {
        let Some(table) = table else {
            self.err(ProblemCode::BadPeriod, place, format!("missing `{field}`"));
            return None;
        };
        if table.len() == 1 {
            if let Some(param) = table.get("param") {
                return match param.as_str() {
                    Some(p) if p.contains('.') => Some(PeriodRef::Param(p.to_owned())),
                    _ => {
                        self.err(
                            ProblemCode::BadPeriod,
                            place,
                            format!(
                                "`{field}.param` must name a rule-set parameter such as \"A10.x\""
                            ),
                        );
                        None
                    }
                };
            }
            if let Some(p) = parse_period_table(&table) {
                return Some(PeriodRef::Literal(p));
            }
        }
        self.err(
            ProblemCode::BadPeriod,
            place,
            format!(
                "`{field}` must be {{ param = \"RULE.name\" }} or one of {{ working_days = N }}, {{ days = N }}, {{ months = N }}, {{ years = N }}"
            ),
        );
        None
    }
}

pub(super) fn date_source(from: Option<String>) -> DateSource {
    match from.as_deref() {
        None | Some("entered") => DateSource::Entered,
        Some(key) => DateSource::Key(key.to_owned()),
    }
}

pub(super) fn build(raw: RawDefinition, problems: &mut Vec<Problem>) -> Option<Definition> {
    let mut cx = Ctx { problems };
    cx.extra(&raw.extra, "definition");
    let id = cx.required(raw.id, "id", "definition");
    let version = match raw.version {
        Some(v) if v >= 1 => u32::try_from(v).unwrap_or(0),
        Some(v) => {
            cx.err(
                ProblemCode::InvalidValue,
                "definition",
                format!("`version` must be 1 or more, found {v}"),
            );
            0
        }
        None => {
            cx.err(ProblemCode::MissingField, "definition", "missing `version`");
            0
        }
    };
    let rule_set_selection = match raw.rule_set_selection.as_deref() {
        None | Some("event_date") => RuleSetSelection::EventDate,
        Some("case_opened") => RuleSetSelection::CaseOpened,
        Some(other) => {
            cx.err(
                ProblemCode::InvalidValue,
                "definition",
                format!("`rule_set_selection` `{other}` is not event_date or case_opened"),
            );
            RuleSetSelection::EventDate
        }
    };

    // States.
    let mut states = Vec::new();
    let mut state_names = BTreeSet::new();
    for (i, rs) in raw.state.into_iter().enumerate() {
        let place = rs
            .name
            .as_ref()
            .map_or_else(|| format!("state #{}", i + 1), |n| format!("state `{n}`"));
        let s = build_state(&mut cx, rs, &place);
        if !s.name.is_empty() && !state_names.insert(s.name.clone()) {
            cx.err(ProblemCode::DuplicateState, &place, "declared twice");
            continue;
        }
        states.push(s);
    }
    if states.is_empty() {
        cx.err(
            ProblemCode::MissingField,
            "definition",
            "no `[[state]]` declared",
        );
    }
    let terminal: BTreeSet<String> = states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| s.name.clone())
        .collect();
    if !states.is_empty() && terminal.is_empty() {
        cx.err(
            ProblemCode::NoTerminalState,
            "definition",
            "no state is marked `terminal = true`",
        );
    }

    // Transitions.
    let open = match raw.open {
        Some(ro) => {
            let mut t = build_transition(&mut cx, ro, "transition `open`", Some(OPEN));
            t.name = OPEN.to_owned();
            Some(t)
        }
        None => {
            cx.err(
                ProblemCode::MissingField,
                "definition",
                "missing `[open]` (how a case starts)",
            );
            None
        }
    };
    let mut transitions = Vec::new();
    let mut names: BTreeSet<String> = std::iter::once(OPEN.to_owned()).collect();
    for (i, rt) in raw.transition.into_iter().enumerate() {
        let place = rt.name.as_ref().map_or_else(
            || format!("transition #{}", i + 1),
            |n| format!("transition `{n}`"),
        );
        let t = build_transition(&mut cx, rt, &place, None);
        if !t.name.is_empty() && !names.insert(t.name.clone()) {
            cx.err(
                ProblemCode::DuplicateTransition,
                &place,
                "another transition has this name",
            );
            continue;
        }
        transitions.push(t);
    }

    // References between states and transitions.
    let known = |s: &str| state_names.contains(s);
    if let Some(open) = &open {
        if let Some(to) = &open.to {
            if !known(to) {
                cx.err(
                    ProblemCode::UnknownState,
                    "transition `open`",
                    format!("`to` names unknown state `{to}`"),
                );
            } else if terminal.contains(to) {
                cx.err(
                    ProblemCode::InvalidValue,
                    "transition `open`",
                    format!("a case cannot start in terminal state `{to}`"),
                );
            }
        } else {
            cx.err(
                ProblemCode::MissingField,
                "transition `open`",
                "missing `to` (the initial state)",
            );
        }
    }
    for t in &transitions {
        let place = format!("transition `{}`", t.name);
        if t.from.is_empty() {
            cx.err(
                ProblemCode::MissingField,
                &place,
                "missing `from` (source states)",
            );
        }
        for f in &t.from {
            if !known(f) {
                cx.err(
                    ProblemCode::UnknownState,
                    &place,
                    format!("`from` names unknown state `{f}`"),
                );
            } else if terminal.contains(f) {
                cx.err(
                    ProblemCode::TerminalStateHasExit,
                    &place,
                    format!("leaves terminal state `{f}`"),
                );
            }
        }
        if let Some(to) = &t.to
            && !known(to)
        {
            cx.err(
                ProblemCode::UnknownState,
                &place,
                format!("`to` names unknown state `{to}`"),
            );
        }
    }

    // Keys the definition provides: inputs (with their types), computed dates, counters.
    let mut provided: BTreeMap<String, DataType> = BTreeMap::new();
    for t in open.iter().chain(&transitions) {
        for i in &t.inputs {
            provided
                .entry(i.name.clone())
                .or_insert_with(|| i.ty.data_type());
        }
        for c in &t.compute {
            provided.entry(c.key.clone()).or_insert(DataType::Date);
        }
        for c in &t.count {
            provided.entry(c.clone()).or_insert(DataType::Integer);
        }
    }
    let date_key = |cx: &mut Ctx<'_>, key: &str, place: &str| {
        match provided.get(key) {
        Some(DataType::Date) => {}
        Some(other) => cx.err(
            ProblemCode::UnknownDateKey,
            place,
            format!("`{key}` is provided as {other}, not as a date"),
        ),
        None => cx.err(
            ProblemCode::UnknownDateKey,
            place,
            format!("no transition provides a date `{key}` (declare it as a date input or a computed date)"),
        ),
    }
    };

    for t in open.iter().chain(&transitions) {
        let place = format!("transition `{}`", t.name);
        for c in &t.compute {
            if let DateSource::Key(k) = &c.from {
                date_key(&mut cx, k, &format!("{place}, compute `{}`", c.key));
            }
        }
        for e in &t.effects {
            let keys: Vec<&String> = match e {
                EffectSpec::RecordAdmissionDecision { date }
                | EffectSpec::RecordStrikeOff { date }
                | EffectSpec::RecordExpulsion { date }
                | EffectSpec::RecordRestoration { date }
                | EffectSpec::RecordDiscipline { date, .. } => vec![date],
                EffectSpec::RecordCeremony {
                    date,
                    probation_end,
                } => vec![date, probation_end],
                EffectSpec::RecordRecognition { official_from } => vec![official_from],
                EffectSpec::ExtendDeadline { key } => {
                    for f in &t.from {
                        let has = states.iter().find(|s| &s.name == f).is_none_or(|s| {
                            s.deadlines
                                .iter()
                                .any(|d| &d.key == key && d.extension.is_some())
                        });
                        if !has {
                            cx.err(
                                ProblemCode::UnknownDeadline,
                                &place,
                                format!("extends deadline `{key}`, which state `{f}` does not declare with an extension"),
                            );
                        }
                    }
                    vec![]
                }
                EffectSpec::SendMail(_) | EffectSpec::SetMemberStatus(_) => vec![],
            };
            for k in keys {
                date_key(&mut cx, k, &format!("{place}, effect"));
            }
        }
        for g in &t.guards {
            match guards::guard(g) {
                None => cx.err(
                    ProblemCode::UnknownGuard,
                    &place,
                    format!("guard `{g}` is not implemented by the core"),
                ),
                Some(spec) => {
                    for read in spec.reads {
                        match provided.get(read.key) {
                            Some(ty) if *ty == read.ty => {}
                            Some(ty) => cx.err(
                                ProblemCode::GuardDataUnavailable,
                                &place,
                                format!("guard `{g}` reads `{}` as {}, but the definition provides {ty}", read.key, read.ty),
                            ),
                            None if read.required => cx.err(
                                ProblemCode::GuardDataUnavailable,
                                &place,
                                format!("guard `{g}` needs `{}` ({}), which no transition provides", read.key, read.ty),
                            ),
                            None => {}
                        }
                    }
                }
            }
        }
    }

    // Acting bodies: keys that name a body, and someone in `by` to speak for each.
    let all: Vec<&Transition> = open.iter().chain(&transitions).collect();
    for t in &all {
        if let Some(ab) = &t.acting_body {
            check_acting_body(&mut cx, t, ab, &all);
        }
    }

    // Deadlines and reminders: keys consistent across states, references resolved.
    let mut deadline_by_key: BTreeMap<&str, &DeadlineSpec> = BTreeMap::new();
    let mut reminder_by_key: BTreeMap<&str, &ReminderSpec> = BTreeMap::new();
    for s in &states {
        let place = format!("state `{}`", s.name);
        let mut local = BTreeSet::new();
        for d in &s.deadlines {
            let dplace = format!("{place}, deadline `{}`", d.key);
            if !local.insert(d.key.as_str()) {
                cx.err(
                    ProblemCode::DuplicateDeadline,
                    &dplace,
                    "declared twice in this state",
                );
            }
            match deadline_by_key.get(d.key.as_str()) {
                Some(other) if *other != d => cx.err(
                    ProblemCode::DuplicateDeadline,
                    &dplace,
                    "another state declares a different deadline with this key (a shared key must be declared identically)",
                ),
                _ => {
                    deadline_by_key.insert(d.key.as_str(), d);
                }
            }
            if let DateSource::Key(k) = &d.from {
                date_key(&mut cx, k, &dplace);
            }
            if let OnExpiry::Escalate { transition } = &d.on_expiry {
                match transitions.iter().find(|t| &t.name == transition) {
                    None => cx.err(
                        ProblemCode::InvalidValue,
                        &dplace,
                        format!("escalates to unknown transition `{transition}`"),
                    ),
                    Some(t) if !t.from.contains(&s.name) => cx.err(
                        ProblemCode::InvalidValue,
                        &dplace,
                        format!(
                            "escalates to `{transition}`, which cannot be fired from this state"
                        ),
                    ),
                    Some(t) if !t.by.iter().any(|r| r.role == "system") => cx.err(
                        ProblemCode::InvalidValue,
                        &dplace,
                        format!(
                            "escalation transition `{transition}` must allow the `system` role"
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
        let mut local = BTreeSet::new();
        for r in &s.reminders {
            let rplace = format!("{place}, reminder `{}`", r.key);
            if !local.insert(r.key.as_str()) || deadline_by_key.contains_key(r.key.as_str()) {
                cx.err(
                    ProblemCode::DuplicateDeadline,
                    &rplace,
                    "key already used in this state or by a deadline",
                );
            }
            match reminder_by_key.get(r.key.as_str()) {
                Some(other) if *other != r => cx.err(
                    ProblemCode::DuplicateDeadline,
                    &rplace,
                    "another state declares a different reminder with this key",
                ),
                _ => {
                    reminder_by_key.insert(r.key.as_str(), r);
                }
            }
            match &r.when {
                ReminderWhen::After {
                    from: DateSource::Key(k),
                    ..
                } => date_key(&mut cx, k, &rplace),
                ReminderWhen::BeforeDeadline { deadline, .. } => {
                    if !s.deadlines.iter().any(|d| &d.key == deadline) {
                        cx.err(
                            ProblemCode::UnknownDeadline,
                            &rplace,
                            format!(
                                "refers to deadline `{deadline}`, which this state does not declare"
                            ),
                        );
                    }
                }
                ReminderWhen::After { .. } | ReminderWhen::Cron(_) => {}
            }
        }
    }

    // Graph: reachability from the initial state, and a way out of every non-terminal state.
    if let Some(initial) = open.as_ref().and_then(|o| o.to.as_deref())
        && known(initial)
    {
        let graph = edges(states.iter().map(|s| s.name.as_str()), &transitions);
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut queue: VecDeque<&str> = VecDeque::from([initial]);
        while let Some(s) = queue.pop_front() {
            if seen.insert(s)
                && let Some(next) = graph.get(s)
            {
                queue.extend(next.iter().copied());
            }
        }
        for s in &states {
            if !seen.contains(s.name.as_str()) {
                cx.err(
                    ProblemCode::UnreachableState,
                    &format!("state `{}`", s.name),
                    format!("no transition path leads here from `{initial}`"),
                );
            }
        }
    }

    // Renames (migration from earlier versions).
    for (old, new) in &raw.renamed_states {
        let place = format!("renamed_states `{old}`");
        if known(old) {
            cx.err(
                ProblemCode::BadRename,
                &place,
                format!("`{old}` still exists in this version"),
            );
        }
        if !known(new) {
            cx.err(
                ProblemCode::BadRename,
                &place,
                format!("maps to unknown state `{new}`"),
            );
        }
    }

    let def = Definition {
        id,
        version,
        title: raw.title.unwrap_or_default(),
        rule_set_selection,
        open: open?,
        states,
        transitions,
        renamed_states: raw.renamed_states,
        confidential: raw.confidential,
        disciplinary: raw.disciplinary,
    };
    if !terminal.is_empty() {
        for s in def.states_without_exit_path() {
            cx.err(
                ProblemCode::NoPathToTerminal,
                &format!("state `{s}`"),
                "no transition path leads from here to a terminal state",
            );
        }
    }
    Some(def)
}
