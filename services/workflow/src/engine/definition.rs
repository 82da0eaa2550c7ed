//! Workflow definitions: state machines as data, parsed and validated as a whole.
//!
//! A definition file (`schemas/workflows/*.toml`, format in `docs/workflows.md`) declares the
//! states (which are terminal, which deadlines and reminders run while a case is in them) and
//! the transitions (who may fire them, the typed inputs they take, the guards that must hold,
//! the effects they have). Parsing turns the file into these types at the edge and reports
//! every problem at once, so the engine never meets an unknown state or guard at run time.
//! References to the outside world (mail templates, cron syntax, rule-set parameters) are
//! checked separately by [`Definition::check`], because they depend on what the shell has.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::period::Period;
use super::value::DataType;
use crate::vocab::{MemberStatus, RoleLevel};

/// A role, optionally at a level: `secretary@branch`, `standing_committee@competent`, `system`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleRef {
    /// Role name, e.g. `secretary`, `standing_committee`, `system`.
    pub role: String,
    /// RoleLevel of the tree; `None` in a definition means "at any level".
    pub level: Option<RoleLevel>,
}

impl RoleRef {
    /// A role at a level.
    pub fn at(role: impl Into<String>, level: RoleLevel) -> Self {
        RoleRef {
            role: role.into(),
            level: Some(level),
        }
    }

    /// A role at no particular level (e.g. `system`).
    pub fn anywhere(role: impl Into<String>) -> Self {
        RoleRef {
            role: role.into(),
            level: None,
        }
    }

    /// Whether an actor holding `held` satisfies this requirement.
    pub fn admits(&self, held: &RoleRef) -> bool {
        self.role == held.role && (self.level.is_none() || self.level == held.level)
    }
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.level {
            Some(level) => write!(f, "{}@{}", self.role, level.as_str()),
            None => f.write_str(&self.role),
        }
    }
}

/// The body a transition is the act of, named by two keys of the case: the body's kind and its
/// level (`voting_body` + `voting_level`). The engine refuses an actor who does not hold the role
/// that speaks for that body ([`body_role`]; docs/discipline.md, "Bodies, levels and roles").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActingBody {
    /// Key naming the body's kind: an input of the transition, or (when the transition does not
    /// declare it) a fact an earlier step recorded, e.g. the voting body at `impose`.
    pub kind: String,
    /// Key naming the body's level, from the same place as `kind`.
    pub level: String,
}

/// The role that speaks for a body of kind `kind`, and the level it must be held at when the
/// body exists at one level only; `None` for a kind the core does not know.
///
/// A branch's acts are recorded by its secretary; a partial committee (no unit of its own in
/// the tree) and a committee's advisory departments act for their committee; the Politburo is
/// the Central Committee's standing body between its sessions, as a standing committee is at
/// lower levels, so `standing_committee@central` speaks for it; the Secretariat is central.
pub fn body_role(kind: &str) -> Option<(&'static str, Option<RoleLevel>)> {
    Some(match kind {
        "branch" => ("secretary", None),
        "branch_committee" => ("branch_committee", None),
        "partial_committee" | "committee" | "advisory_department" => ("committee", None),
        "standing_committee" => ("standing_committee", None),
        "inspection_commission" => ("inspection_commission", None),
        "politburo" => ("standing_committee", Some(RoleLevel::Central)),
        "secretariat" => ("secretariat", Some(RoleLevel::Central)),
        _ => return None,
    })
}

/// The level a body's level value names: a level of the tree (`branch` … `central`), or
/// `direct_superior` / `second_superior` of the organisation disciplined, whose level is
/// `subject_level` (as the jurisdiction table reads them, D19, D20).
pub fn body_level(value: &str, subject_level: Option<&str>) -> Option<RoleLevel> {
    match value {
        "direct_superior" | "second_superior" => {
            crate::vocab::entry_level(value, subject_level).and_then(RoleLevel::parse)
        }
        "competent" => None,
        other => RoleLevel::parse(other),
    }
}

pub(crate) fn is_body_level(value: &str) -> bool {
    matches!(value, "direct_superior" | "second_superior")
        || (value != "competent" && RoleLevel::parse(value).is_some())
}

/// The type of a transition input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputType {
    /// Free text.
    String,
    /// A whole number, optionally bounded (inclusive).
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// A date (`YYYY-MM-DD` text is accepted and converted).
    Date,
    /// Yes or no.
    Boolean,
    /// One of the listed values.
    Enum(Vec<String>),
    /// The id of a member (or of a person on the candidate list).
    MemberRef,
    /// The id of a unit of the organization tree.
    UnitRef,
    /// A list of values of the inner type.
    List(Box<InputType>),
}

impl InputType {
    /// The shape of value this input yields, as guards see it.
    pub fn data_type(&self) -> DataType {
        match self {
            InputType::String | InputType::Enum(_) | InputType::MemberRef | InputType::UnitRef => {
                DataType::Text
            }
            InputType::Integer { .. } => DataType::Integer,
            InputType::Date => DataType::Date,
            InputType::Boolean => DataType::Boolean,
            InputType::List(_) => DataType::List,
        }
    }

    /// The type's name in definition files.
    pub fn name(&self) -> String {
        match self {
            InputType::String => "string".into(),
            InputType::Integer { .. } => "integer".into(),
            InputType::Date => "date".into(),
            InputType::Boolean => "boolean".into(),
            InputType::Enum(_) => "enum".into(),
            InputType::MemberRef => "member_ref".into(),
            InputType::UnitRef => "unit_ref".into(),
            InputType::List(inner) => format!("list of {}", inner.name()),
        }
    }
}

/// A typed input of a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// Name; also the key under which the value is recorded as a fact of the case.
    pub name: String,
    /// Type.
    pub ty: InputType,
    /// Whether the event must give it.
    pub required: bool,
    /// Vietnamese label shown to users and in refusals.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
}

/// A period as a definition states it: a literal, or a parameter of the rule set in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodRef {
    /// A fixed period.
    Literal(Period),
    /// A `period` parameter of the rule set (rules are data: prefer this).
    Param(String),
}

/// Where a date is counted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateSource {
    /// The day the case entered the state (the day of the step).
    Entered,
    /// A date input or fact of the case.
    Key(String),
}

/// What happens when a deadline passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OnExpiry {
    /// The case is flagged as overdue (and the notice mail, if any, is sent).
    Flag,
    /// The shell fires this transition as the `system` role.
    Escalate {
        /// Transition to fire.
        transition: String,
    },
}

/// A mail to send: template name and recipient role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MailSpec {
    /// Template name (templates live in the mail crate).
    pub template: String,
    /// Who receives it.
    pub to: RoleRef,
}

/// A deadline that runs while a case is in a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineSpec {
    /// Key, unique within the definition; a state that declares the same key as the previous
    /// one carries the deadline over instead of restarting it.
    pub key: String,
    /// Rule id the deadline comes from (e.g. `A10`).
    pub rule: String,
    /// Counting starts the day after this date.
    pub from: DateSource,
    /// Length.
    pub period: PeriodRef,
    /// Optional one-time extension (A10: "có thể gia hạn tối đa 30 ngày làm việc").
    pub extension: Option<PeriodRef>,
    /// What happens when it passes.
    pub on_expiry: OnExpiry,
    /// Mail sent when it passes.
    pub notify: Option<MailSpec>,
}

/// When a reminder is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReminderWhen {
    /// A period after a date (e.g. 54 months after the certificate date, A2).
    After {
        /// Start date.
        from: DateSource,
        /// Period after it.
        period: PeriodRef,
    },
    /// A period before a deadline of the same state.
    BeforeDeadline {
        /// Deadline key.
        deadline: String,
        /// Period before the due date.
        period: PeriodRef,
    },
    /// Recurring while the case stays in the state.
    Cron(String),
}

/// A reminder mail scheduled while a case is in a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSpec {
    /// Key, unique within the definition (carried over like deadline keys).
    pub key: String,
    /// Mail template.
    pub template: String,
    /// Recipient.
    pub to: RoleRef,
    /// When.
    pub when: ReminderWhen,
}

/// A state of the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// Name (PascalCase by convention).
    pub name: String,
    /// Vietnamese label.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
    /// Whether the case ends here.
    pub terminal: bool,
    /// Rule ids behind the state.
    pub rules: Vec<String>,
    /// Deadlines running while in the state.
    pub deadlines: Vec<DeadlineSpec>,
    /// Reminders scheduled while in the state.
    pub reminders: Vec<ReminderSpec>,
    /// In a disciplinary definition: the discipline decided is in force while the case is here
    /// (C2: from the decision until it lapses, including a pending appeal, P2).
    pub in_force: bool,
}

/// The status of a discipline in the member's register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisciplineStatus {
    /// Decided (or changed on appeal) and in force.
    InForce,
    /// Lapsed after its period (C1).
    Lapsed,
    /// Annulled as wrongful (P6).
    Annulled,
}

impl DisciplineStatus {
    /// Parses `in_force`, `lapsed`, `annulled`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in_force" => Some(DisciplineStatus::InForce),
            "lapsed" => Some(DisciplineStatus::Lapsed),
            "annulled" => Some(DisciplineStatus::Annulled),
            _ => None,
        }
    }

    /// The register's code: `IN_FORCE`, `LAPSED`, `ANNULLED`.
    pub fn code(self) -> &'static str {
        match self {
            DisciplineStatus::InForce => "IN_FORCE",
            DisciplineStatus::Lapsed => "LAPSED",
            DisciplineStatus::Annulled => "ANNULLED",
        }
    }
}

/// An effect a transition declares; the engine resolves it into an [`super::Effect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffectSpec {
    /// Send a mail.
    SendMail(MailSpec),
    /// Change the member's status in the registry.
    SetMemberStatus(MemberStatus),
    /// Record the admission decision; its date anchors party age (A15).
    RecordAdmissionDecision {
        /// Date key of the decision.
        date: String,
    },
    /// Record the ceremony (start of probation, A13) and the end of probation.
    RecordCeremony {
        /// Date key of the ceremony.
        date: String,
        /// Date key of the probation end.
        probation_end: String,
    },
    /// Record recognition as an official member, effective on the given date (A14).
    RecordRecognition {
        /// Date key of the effective date.
        official_from: String,
    },
    /// Record that the name was struck off (A14, D4).
    RecordStrikeOff {
        /// Date key of the decision.
        date: String,
    },
    /// Record an expulsion: membership ends from the decision (D2, D36).
    RecordExpulsion {
        /// Date key of the decision.
        date: String,
    },
    /// Restore the membership an annulled decision ended (P6).
    RecordRestoration {
        /// Date key of the annulment.
        date: String,
    },
    /// Record the discipline in the member's register: decided or changed on appeal
    /// (`in_force`, with the case's `discipline_form`), lapsed (C1) or annulled (P6).
    RecordDiscipline {
        /// `in_force`, `lapsed` or `annulled`.
        status: DisciplineStatus,
        /// Date key of the decision, the ruling, the lapse or the annulment.
        date: String,
    },
    /// Extend a deadline of the current state by its declared extension, once (A10).
    ExtendDeadline {
        /// Deadline key.
        key: String,
    },
}

/// A date computed when a transition fires and recorded as a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeSpec {
    /// Fact key to record.
    pub key: String,
    /// Start date.
    pub from: DateSource,
    /// Period added to it.
    pub period: PeriodRef,
}

/// A transition of the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Name, unique within the definition.
    pub name: String,
    /// Vietnamese label.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
    /// States it may be fired from (empty only for the opening transition).
    pub from: Vec<String>,
    /// Target state; `None` keeps the case in its current state (an update).
    pub to: Option<String>,
    /// Rule ids behind the transition.
    pub rules: Vec<String>,
    /// Who may fire it.
    pub by: Vec<RoleRef>,
    /// Typed inputs.
    pub inputs: Vec<InputSpec>,
    /// Guards, by name.
    pub guards: Vec<String>,
    /// Declared effects.
    pub effects: Vec<EffectSpec>,
    /// Dates computed and recorded as facts.
    pub compute: Vec<ComputeSpec>,
    /// Integer facts incremented by one (e.g. vote rounds, A14).
    pub count: Vec<String>,
    /// The body the transition is the act of, if the actor must speak for it.
    pub acting_body: Option<ActingBody>,
}

impl Transition {
    /// The input `name`, if declared.
    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|i| i.name == name)
    }
}

/// Which rule set a step is decided under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSetSelection {
    /// The rule set in force on the day of the step (docs/workflows.md, "Rule sets"); a change between steps is
    /// reported on the decision, never silent.
    EventDate,
    /// The rule set under which the case was opened, for every step.
    CaseOpened,
}

/// A validated workflow definition. Built only by parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Definition {
    /// Id, e.g. `admission`.
    pub id: String,
    /// Version; a case records the version it runs under.
    pub version: u32,
    /// Human title.
    pub title: String,
    /// Rule-set selection policy.
    pub rule_set_selection: RuleSetSelection,
    /// The transition that opens a case (named `open`, no source state).
    pub open: Transition,
    /// States, in file order.
    pub states: Vec<State>,
    /// Transitions, in file order.
    pub transitions: Vec<Transition>,
    /// States of earlier versions renamed in this one: old name → new name (for migration).
    pub renamed_states: BTreeMap<String, String>,
    /// Whether its cases are confidential (discipline): only the bodies that handle them, the
    /// member concerned and auditors may read them, and every read is logged.
    pub confidential: bool,
    /// Whether its cases are discipline of the member they are about: while one is open the
    /// member is "being inspected or disciplined" (C7), and in its `in_force` states the
    /// discipline is in force (C2). The shell reads this to build the registry context of
    /// other workflows' steps (`engine::context`).
    pub disciplinary: bool,
}

/// Name of the opening transition.
pub const OPEN: &str = "open";

impl Definition {
    /// The state `name`.
    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }

    /// The transition `name` (including `open`).
    pub fn transition(&self, name: &str) -> Option<&Transition> {
        if name == self.open.name {
            return Some(&self.open);
        }
        self.transitions.iter().find(|t| t.name == name)
    }

    /// The state a new case starts in.
    pub fn initial_state(&self) -> &str {
        self.open.to.as_deref().unwrap_or_default()
    }

    /// Transitions that may be fired from `state`.
    pub fn transitions_from<'d>(&'d self, state: &'d str) -> impl Iterator<Item = &'d Transition> {
        self.transitions
            .iter()
            .filter(move |t| t.from.iter().any(|f| f == state))
    }

    /// Every mail template the definition uses, sorted and deduplicated (the mail crate must
    /// provide them).
    pub fn templates_used(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .templates_with_places()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        set.into_iter().collect()
    }

    /// The label of a data key: the first input declaring it, or the key itself.
    pub fn key_label(&self, key: &str) -> (String, String) {
        std::iter::once(&self.open)
            .chain(&self.transitions)
            .flat_map(|t| &t.inputs)
            .find(|i| i.name == key)
            .map_or_else(
                || (key.to_owned(), key.to_owned()),
                |i| (i.label_vi.clone(), i.label_en.clone()),
            )
    }

    /// For every non-terminal state, whether some terminal state is reachable from it; the
    /// names of those from which none is.
    pub fn states_without_exit_path(&self) -> Vec<String> {
        let edges = edges(
            self.states.iter().map(|s| s.name.as_str()),
            &self.transitions,
        );
        // Walk backwards from the terminal states.
        let mut reaches: BTreeSet<&str> = self
            .states
            .iter()
            .filter(|s| s.terminal)
            .map(|s| s.name.as_str())
            .collect();
        let mut changed = true;
        while changed {
            changed = false;
            for (from, tos) in &edges {
                if !reaches.contains(from) && tos.iter().any(|t| reaches.contains(t)) {
                    reaches.insert(from);
                    changed = true;
                }
            }
        }
        self.states
            .iter()
            .filter(|s| !s.terminal && !reaches.contains(s.name.as_str()))
            .map(|s| s.name.clone())
            .collect()
    }

    /// Every mail template the definition names, with where it names it.
    pub(crate) fn templates_with_places(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for t in std::iter::once(&self.open).chain(&self.transitions) {
            for e in &t.effects {
                if let EffectSpec::SendMail(m) = e {
                    out.push((format!("transition `{}`", t.name), m.template.clone()));
                }
            }
        }
        for s in &self.states {
            for d in &s.deadlines {
                if let Some(m) = &d.notify {
                    out.push((
                        format!("state `{}`, deadline `{}`", s.name, d.key),
                        m.template.clone(),
                    ));
                }
            }
            for r in &s.reminders {
                out.push((
                    format!("state `{}`, reminder `{}`", s.name, r.key),
                    r.template.clone(),
                ));
            }
        }
        out
    }
}

pub(crate) fn edges<'d>(
    states: impl Iterator<Item = &'d str>,
    transitions: &'d [Transition],
) -> BTreeMap<&'d str, BTreeSet<&'d str>> {
    let mut map: BTreeMap<&str, BTreeSet<&str>> = states.map(|s| (s, BTreeSet::new())).collect();
    for t in transitions {
        if let Some(to) = &t.to {
            for f in &t.from {
                map.entry(f.as_str()).or_default().insert(to.as_str());
            }
        }
    }
    map
}
