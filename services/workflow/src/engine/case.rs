//! Cases and events: what the engine decides about and what it is asked to do.
//!
//! A [`CaseSnapshot`] is everything the engine needs to decide the next step of a case, and
//! nothing the store alone cares about (ids, timestamps, hashes). It records the definition
//! version it runs under and the rule sets its first and latest steps were taken under, so
//! that a new rule set or definition never silently rewrites a case in flight. It is
//! serde-serializable so the store keeps it as JSON.
//!
//! The snapshot is the case's current state only: its size does not grow with the number of
//! steps. The steps themselves ([`StepRecord`]) are the case's history, which the store keeps
//! append-only beside it (one row per step); the little the engine needs of the past is kept
//! as compact marks ([`StepMark`]: the opening and the latest step) and as facts (counters
//! such as vote rounds). The one question the marks cannot answer — the state the case was in
//! on a day before its latest step ([`CaseSnapshot::state_on`]) — takes the history as an
//! argument, which the shell reads only when [`CaseSnapshot::needs_history_on`] says so.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::definition::{Definition, MailSpec, OnExpiry, RoleRef};
use super::value::{Value, Values};

/// Which definition, at which version, a case runs under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DefinitionRef {
    /// Definition id, e.g. `admission`.
    pub id: String,
    /// Definition version.
    pub version: u32,
}

impl DefinitionRef {
    /// The reference of `def`.
    pub fn of(def: &Definition) -> Self {
        DefinitionRef {
            id: def.id.clone(),
            version: def.version,
        }
    }
}

/// Who fires an event: an id for the record and the roles the shell has resolved for this case
/// (e.g. `secretary@branch` when the user is the secretary of the case's branch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User or system id, recorded on the step.
    pub id: String,
    /// Roles held with respect to this case.
    pub roles: Vec<RoleRef>,
}

impl Actor {
    /// An actor with the given roles.
    pub fn new(id: impl Into<String>, roles: Vec<RoleRef>) -> Self {
        Actor {
            id: id.into(),
            roles,
        }
    }

    /// The scheduler, which fires escalation transitions when deadlines pass.
    pub fn system() -> Self {
        Actor {
            id: "system".into(),
            roles: vec![RoleRef::anywhere("system")],
        }
    }
}

/// A request to fire a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Transition name (`open` to start a case).
    pub transition: String,
    /// Who fires it.
    pub actor: Actor,
    /// Inputs, by name.
    pub inputs: Values,
    /// What the shell read in the registry for this step (never from the client): see
    /// [`super::context`]. Guards read it like facts; it is not recorded on the case.
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub context: Values,
}

impl Event {
    /// An event with no inputs.
    pub fn new(transition: impl Into<String>, actor: Actor) -> Self {
        Event {
            transition: transition.into(),
            actor,
            inputs: Values::new(),
            context: Values::new(),
        }
    }

    /// Adds an input.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.inputs.insert(name.into(), value.into());
        self
    }
}

/// One step taken by a case, as its history records it (the store keeps the history; the
/// snapshot keeps only [`StepMark`]s).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1 for the opening step, then 2, 3, …
    pub seq: u64,
    /// Transition fired.
    pub transition: String,
    /// State before (empty for the opening step).
    pub from: String,
    /// State after.
    pub to: String,
    /// Day of the step.
    pub on: NaiveDate,
    /// Rule set the step was decided under.
    pub rule_set: String,
    /// Definition version the step was decided under.
    pub definition_version: u32,
    /// Who fired it.
    pub actor: String,
}

/// What the engine keeps of one step in the snapshot: its day, transition and rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepMark {
    /// Day of the step.
    pub on: NaiveDate,
    /// Transition fired.
    pub transition: String,
    /// Rule set the step was decided under.
    pub rule_set: String,
}

/// A deadline running on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRecord {
    /// Rule id (e.g. `A10`).
    pub rule: String,
    /// Due date (last day on time).
    pub due: NaiveDate,
    /// Due date after the one-time extension, if the deadline has one.
    pub extended_due: Option<NaiveDate>,
    /// Whether the extension was used.
    pub extended: bool,
    /// What happens when it passes.
    pub on_expiry: OnExpiry,
    /// Mail sent when it passes.
    pub notify: Option<MailSpec>,
    /// Rule set it was computed under.
    pub rule_set: String,
}

impl DeadlineRecord {
    /// The day it falls due: the extended day once extended (A10), else the day scheduled.
    pub fn effective_due(&self) -> NaiveDate {
        self.extended_due
            .filter(|_| self.extended)
            .unwrap_or(self.due)
    }
}

/// Everything the engine knows about a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSnapshot {
    /// Definition and version the case runs under.
    pub definition: DefinitionRef,
    /// Current state.
    pub state: String,
    /// Optimistic-concurrency version: the number of steps taken (the store checks it).
    pub version: u64,
    /// Facts recorded by earlier steps: every input under its name, computed dates, counters.
    pub facts: Values,
    /// Day the case entered its current state.
    pub entered_on: NaiveDate,
    /// Deadlines running now, by key.
    pub deadlines: BTreeMap<String, DeadlineRecord>,
    /// The opening step (`None` before the case is opened).
    #[serde(default)]
    pub opened: Option<StepMark>,
    /// The latest step (`None` before the case is opened). Migrations to a newer definition
    /// version are not steps and leave it alone.
    #[serde(default)]
    pub last_step: Option<StepMark>,
}

impl CaseSnapshot {
    /// The rule set of the latest step, if any.
    pub fn current_rule_set(&self) -> Option<&str> {
        self.last_step.as_ref().map(|s| s.rule_set.as_str())
    }

    /// The rule set the case was opened under, if any.
    pub fn opening_rule_set(&self) -> Option<&str> {
        self.opened.as_ref().map(|s| s.rule_set.as_str())
    }

    /// The day of the latest step, if any.
    pub fn last_step_on(&self) -> Option<NaiveDate> {
        self.last_step.as_ref().map(|s| s.on)
    }

    /// The fact `key`.
    pub fn fact(&self, key: &str) -> Option<&Value> {
        self.facts.get(key)
    }

    /// Whether [`CaseSnapshot::state_on`] needs the case's steps to answer for `on`: only for
    /// a day after the opening and before the latest step (a step recorded late, dated in the
    /// past). The shell reads the history only then.
    pub fn needs_history_on(&self, on: NaiveDate) -> bool {
        match (&self.opened, &self.last_step) {
            (Some(first), Some(last)) => first.on <= on && on < last.on,
            _ => false,
        }
    }

    /// The state the case was in at the end of `on`: the state its latest step dated on or
    /// before `on` led to; `None` when it was not open yet. `history` is the case's steps,
    /// oldest first, needed only when [`CaseSnapshot::needs_history_on`] says so (an empty
    /// slice otherwise). A case moved to a newer definition version is in its current state
    /// from its latest step on.
    pub fn state_on<'a>(&'a self, on: NaiveDate, history: &'a [StepRecord]) -> Option<&'a str> {
        let (first, last) = (self.opened.as_ref()?, self.last_step.as_ref()?);
        if on < first.on {
            None
        } else if last.on <= on {
            Some(self.state.as_str())
        } else {
            history
                .iter()
                .rev()
                .find(|s| s.on <= on)
                .map(|s| s.to.as_str())
        }
    }

    /// Records the step `mark` (the opening one when the case has none yet).
    pub(crate) fn record_step(&mut self, mark: StepMark) {
        if self.opened.is_none() {
            self.opened = Some(mark.clone());
        }
        self.last_step = Some(mark);
    }

    /// The empty case a definition's opening transition starts from.
    pub(crate) fn blank(def: &Definition, today: NaiveDate) -> Self {
        CaseSnapshot {
            definition: DefinitionRef::of(def),
            state: String::new(),
            version: 0,
            facts: Values::new(),
            entered_on: today,
            deadlines: BTreeMap::new(),
            opened: None,
            last_step: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
    }

    fn step(seq: u64, to: &str, on: NaiveDate) -> StepRecord {
        StepRecord {
            seq,
            transition: format!("t{seq}"),
            from: String::new(),
            to: to.into(),
            on,
            rule_set: "R".into(),
            definition_version: 1,
            actor: "a".into(),
        }
    }

    /// A case opened on 1/3 in `A`, moved to `B` on 10/3 and to `C` on 20/3.
    fn case() -> (CaseSnapshot, Vec<StepRecord>) {
        let history = vec![
            step(1, "A", day(3, 1)),
            step(2, "B", day(3, 10)),
            step(3, "C", day(3, 20)),
        ];
        let mut snapshot = CaseSnapshot {
            definition: DefinitionRef {
                id: "x".into(),
                version: 1,
            },
            state: String::new(),
            version: 0,
            facts: Values::new(),
            entered_on: day(3, 1),
            deadlines: BTreeMap::new(),
            opened: None,
            last_step: None,
        };
        for s in &history {
            snapshot.state = s.to.clone();
            snapshot.version += 1;
            snapshot.record_step(StepMark {
                on: s.on,
                transition: s.transition.clone(),
                rule_set: format!("R{}", s.seq),
            });
        }
        (snapshot, history)
    }

    #[test]
    fn the_marks_keep_the_opening_and_the_latest_step() {
        let (c, _) = case();
        assert_eq!(c.opening_rule_set(), Some("R1"));
        assert_eq!(c.current_rule_set(), Some("R3"));
        assert_eq!(c.last_step_on(), Some(day(3, 20)));
    }

    #[test]
    fn the_state_on_a_day_needs_the_history_only_between_the_first_and_latest_step() {
        let (c, history) = case();
        // Before the opening, and from the latest step on: the snapshot alone answers.
        for (on, expected) in [
            (day(2, 28), None),
            (day(3, 20), Some("C")),
            (day(4, 1), Some("C")),
        ] {
            assert!(!c.needs_history_on(on));
            assert_eq!(c.state_on(on, &[]), expected, "{on}");
        }
        // In between, the history does.
        for (on, expected) in [
            (day(3, 1), "A"),
            (day(3, 9), "A"),
            (day(3, 10), "B"),
            (day(3, 19), "B"),
        ] {
            assert!(c.needs_history_on(on), "{on}");
            assert_eq!(c.state_on(on, &history), Some(expected), "{on}");
        }
    }
}
