//! Workflow definitions: state machines as data, parsed and validated as a whole.
//!
//! A definition file (`schemas/workflows/*.toml`, format in `docs/workflows.md`) declares the
//! states (which are terminal, which deadlines and reminders run while a case is in them) and
//! the transitions (who may fire them, the typed inputs they take, the guards that must hold,
//! the effects they have). Parsing turns the file into these types at the edge and reports
//! every problem at once, so the engine never meets an unknown state or guard at run time.
//! References to the outside world (mail templates, cron syntax, rule-set parameters) are
//! checked separately by [`Definition::check`], because they depend on what the shell has.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::guards::{self, DataType};
use super::period::Period;
use super::problem::{Problem, ProblemCode, is_rule_id, toml_problem, unknown_fields};
use super::ruleset::{ParamKind, RuleBook, parse_period_table};

/// A level of the organization tree at which a role is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Chi bộ (party branch).
    Branch,
    /// Đảng bộ cơ sở (grassroots party organization).
    Grassroots,
    /// The direct superior of the grassroots organization.
    Superior,
    /// Whichever body the rule set makes competent for the case (A10); the shell resolves it.
    Competent,
    /// Province level (cấp ủy trực thuộc Trung ương).
    Province,
    /// Central level.
    Central,
}

impl Level {
    /// Every level, in tree order.
    pub const ALL: [Level; 6] = [
        Level::Branch,
        Level::Grassroots,
        Level::Superior,
        Level::Competent,
        Level::Province,
        Level::Central,
    ];

    /// The level's name in definition files.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Branch => "branch",
            Level::Grassroots => "grassroots",
            Level::Superior => "superior",
            Level::Competent => "competent",
            Level::Province => "province",
            Level::Central => "central",
        }
    }

    /// Parses a level name.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Vietnamese name of the level.
    pub fn vi(self) -> &'static str {
        match self {
            Level::Branch => "chi bộ",
            Level::Grassroots => "đảng ủy cơ sở",
            Level::Superior => "cấp ủy cấp trên trực tiếp",
            Level::Competent => "cấp ủy có thẩm quyền",
            Level::Province => "cấp tỉnh",
            Level::Central => "Trung ương",
        }
    }
}

/// A role, optionally at a level: `secretary@branch`, `standing_committee@competent`, `system`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RoleRef {
    /// Role name, e.g. `secretary`, `standing_committee`, `system`.
    pub role: String,
    /// Level of the tree; `None` in a definition means "at any level".
    pub level: Option<Level>,
}

impl RoleRef {
    /// A role at a level.
    pub fn at(role: impl Into<String>, level: Level) -> Self {
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
pub fn body_role(kind: &str) -> Option<(&'static str, Option<Level>)> {
    Some(match kind {
        "branch" => ("secretary", None),
        "branch_committee" => ("branch_committee", None),
        "partial_committee" | "committee" | "advisory_department" => ("committee", None),
        "standing_committee" => ("standing_committee", None),
        "inspection_commission" => ("inspection_commission", None),
        "politburo" => ("standing_committee", Some(Level::Central)),
        "secretariat" => ("secretariat", Some(Level::Central)),
        _ => return None,
    })
}

/// The level a body's level value names: a level of the tree (`branch` … `central`), or
/// `direct_superior` / `second_superior` of the organisation disciplined, whose level is
/// `subject_level` (as the jurisdiction table reads them, D19, D20).
pub fn body_level(value: &str, subject_level: Option<&str>) -> Option<Level> {
    match value {
        "direct_superior" | "second_superior" => {
            crate::vocab::entry_level(value, subject_level).and_then(Level::parse)
        }
        "competent" => None,
        other => Level::parse(other),
    }
}

fn is_body_level(value: &str) -> bool {
    matches!(value, "direct_superior" | "second_superior")
        || (value != "competent" && Level::parse(value).is_some())
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

/// Member statuses the member registry knows (effects set them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MemberStatus {
    /// On the branch's candidate list (A1).
    Candidate,
    /// Probationary member (dự bị, A13).
    Probationary,
    /// Official member (chính thức, A14).
    Official,
    /// Name struck off (xóa tên, A14, D4).
    StruckOff,
}

impl MemberStatus {
    fn parse(s: &str) -> Option<MemberStatus> {
        match s {
            "candidate" => Some(MemberStatus::Candidate),
            "probationary" => Some(MemberStatus::Probationary),
            "official" => Some(MemberStatus::Official),
            "struck_off" => Some(MemberStatus::StruckOff),
            _ => None,
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

/// A cron-expression parser supplied by the shell (the core does not depend on `cron`).
pub type CronValidator<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Checks that depend on what the shell knows: mail templates, cron syntax, rule sets.
#[derive(Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    templates: Option<&'a [&'a str]>,
    cron: Option<CronValidator<'a>>,
    rules: Option<&'a RuleBook>,
}

impl fmt::Debug for CheckOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckOptions")
            .field("templates", &self.templates)
            .field("cron", &self.cron.is_some())
            .field("rules", &self.rules.map(|b| b.sets().len()))
            .finish()
    }
}

impl<'a> CheckOptions<'a> {
    /// No outside checks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Check mail template names against this list.
    pub fn templates(mut self, names: &'a [&'a str]) -> Self {
        self.templates = Some(names);
        self
    }

    /// Check cron expressions with this parser (the shell passes the `cron` crate's).
    pub fn cron(mut self, validate: CronValidator<'a>) -> Self {
        self.cron = Some(validate);
        self
    }

    /// Check parameter references against every rule set of this book.
    pub fn rules(mut self, book: &'a RuleBook) -> Self {
        self.rules = Some(book);
        self
    }
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
                .filter_map(|g| super::guards::guard(g))
                .any(|g| {
                    g.reads
                        .iter()
                        .any(|r| r.key == super::context::SUBJECT_DISCIPLINE)
                })
    }

    /// Parses and validates a definition, reporting every structural problem at once.
    pub fn from_toml_str(src: &str) -> Result<Definition, Vec<Problem>> {
        let raw: RawDefinition = toml::from_str(src).map_err(|e| vec![toml_problem(src, &e)])?;
        let mut problems = Vec::new();
        let def = build(raw, &mut problems);
        if problems.is_empty() {
            def.ok_or_else(Vec::new)
        } else {
            Err(problems)
        }
    }

    /// Checks the references to the outside world: mail templates, cron expressions and rule-set
    /// parameters (those the definition names and those its guards read).
    pub fn check(&self, options: &CheckOptions<'_>) -> Vec<Problem> {
        let mut out = Vec::new();
        if let Some(known) = options.templates {
            for (place, template) in self.templates_with_places() {
                if !known.contains(&template.as_str()) {
                    out.push(Problem::error(
                        ProblemCode::UnknownTemplate,
                        place,
                        format!("mail template `{template}` does not exist"),
                    ));
                }
            }
        }
        if let Some(validate) = options.cron {
            for state in &self.states {
                for r in &state.reminders {
                    if let ReminderWhen::Cron(expr) = &r.when
                        && let Err(e) = validate(expr)
                    {
                        out.push(Problem::error(
                            ProblemCode::BadCron,
                            format!("state `{}`, reminder `{}`", state.name, r.key),
                            format!("cron expression `{expr}` does not parse: {e}"),
                        ));
                    }
                }
            }
        }
        if let Some(book) = options.rules {
            let mut seen = BTreeSet::new();
            for (param, kind, reader) in self.parameter_reads() {
                if seen.insert((param.clone(), reader.clone())) {
                    for set in book.sets() {
                        set.check_reference(&param, kind, &reader, &mut out);
                    }
                }
            }
        }
        out
    }

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

    fn templates_with_places(&self) -> Vec<(String, String)> {
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

    /// Every rule-set parameter the definition reads: (parameter, kind, reader description).
    fn parameter_reads(&self) -> Vec<(String, ParamKind, String)> {
        let mut out = Vec::new();
        let mut period = |p: &PeriodRef, reader: String| {
            if let PeriodRef::Param(id) = p {
                out.push((id.clone(), ParamKind::Period, reader));
            }
        };
        for s in &self.states {
            for d in &s.deadlines {
                period(&d.period, format!("deadline `{}`", d.key));
                if let Some(ext) = &d.extension {
                    period(ext, format!("deadline `{}` extension", d.key));
                }
            }
            for r in &s.reminders {
                match &r.when {
                    ReminderWhen::After { period: p, .. }
                    | ReminderWhen::BeforeDeadline { period: p, .. } => {
                        period(p, format!("reminder `{}`", r.key));
                    }
                    ReminderWhen::Cron(_) => {}
                }
            }
        }
        for t in std::iter::once(&self.open).chain(&self.transitions) {
            for c in &t.compute {
                period(
                    &c.period,
                    format!("transition `{}` compute `{}`", t.name, c.key),
                );
            }
        }
        let used: BTreeSet<&str> = std::iter::once(&self.open)
            .chain(&self.transitions)
            .flat_map(|t| t.guards.iter().map(String::as_str))
            .collect();
        for name in used {
            if let Some(g) = guards::guard(name) {
                for (param, kind) in g.params {
                    out.push(((*param).to_owned(), *kind, format!("guard `{name}`")));
                }
            }
        }
        out
    }
}

fn edges<'d>(
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

// ---------------------------------------------------------------------------------------------
// Raw file shapes. Every field is optional and unknown fields are collected, so that validation
// can report all problems instead of stopping at serde's first.

type Extra = BTreeMap<String, toml::Value>;

#[derive(Deserialize)]
struct RawDefinition {
    id: Option<String>,
    version: Option<i64>,
    title: Option<String>,
    rule_set_selection: Option<String>,
    open: Option<RawTransition>,
    #[serde(default)]
    state: Vec<RawState>,
    #[serde(default)]
    transition: Vec<RawTransition>,
    #[serde(default)]
    renamed_states: BTreeMap<String, String>,
    #[serde(default)]
    confidential: bool,
    #[serde(default)]
    disciplinary: bool,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawState {
    name: Option<String>,
    label_vi: Option<String>,
    label_en: Option<String>,
    #[serde(default)]
    terminal: bool,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    deadline: Vec<RawDeadline>,
    #[serde(default)]
    reminder: Vec<RawReminder>,
    #[serde(default)]
    in_force: bool,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawRole {
    role: Option<String>,
    level: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawMail {
    template: Option<String>,
    to: Option<RawRole>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawDeadline {
    key: Option<String>,
    rule: Option<String>,
    from: Option<String>,
    period: Option<toml::Table>,
    extension: Option<toml::Table>,
    escalate: Option<String>,
    notify: Option<RawMail>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawReminder {
    key: Option<String>,
    template: Option<String>,
    to: Option<RawRole>,
    from: Option<String>,
    after: Option<toml::Table>,
    deadline: Option<String>,
    before: Option<toml::Table>,
    cron: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawTransition {
    name: Option<String>,
    label_vi: Option<String>,
    label_en: Option<String>,
    from: Option<Vec<String>>,
    to: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    by: Vec<RawRole>,
    #[serde(default)]
    input: Vec<RawInput>,
    #[serde(default)]
    guards: Vec<String>,
    #[serde(default)]
    effect: Vec<RawEffect>,
    #[serde(default)]
    compute: Vec<RawCompute>,
    #[serde(default)]
    count: Vec<String>,
    acting_body: Option<RawActingBody>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawActingBody {
    kind: Option<String>,
    level: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawInput {
    name: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(default)]
    list: bool,
    required: Option<bool>,
    values: Option<Vec<String>>,
    min: Option<i64>,
    max: Option<i64>,
    label_vi: Option<String>,
    label_en: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawEffect {
    kind: Option<String>,
    template: Option<String>,
    to: Option<RawRole>,
    status: Option<String>,
    date: Option<String>,
    probation_end: Option<String>,
    official_from: Option<String>,
    key: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawCompute {
    key: Option<String>,
    from: Option<String>,
    period: Option<toml::Table>,
    #[serde(flatten)]
    extra: Extra,
}

// ---------------------------------------------------------------------------------------------
// Building and validating.

struct Ctx<'p> {
    problems: &'p mut Vec<Problem>,
}

impl Ctx<'_> {
    fn err(&mut self, code: ProblemCode, place: &str, message: impl Into<String>) {
        self.problems.push(Problem::error(code, place, message));
    }

    fn extra(&mut self, extra: &Extra, place: &str) {
        unknown_fields(extra, place, self.problems);
    }

    fn required(&mut self, value: Option<String>, field: &str, place: &str) -> String {
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

    fn rule_ids(&mut self, rules: &[String], place: &str) {
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

    fn role(&mut self, raw: RawRole, place: &str) -> RoleRef {
        self.extra(&raw.extra, place);
        let role = self.required(raw.role, "role", place);
        let level = raw.level.and_then(|l| {
            let level = Level::parse(&l);
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

    fn mail(&mut self, raw: RawMail, place: &str) -> MailSpec {
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

    fn period(
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

fn date_source(from: Option<String>) -> DateSource {
    match from.as_deref() {
        None | Some("entered") => DateSource::Entered,
        Some(key) => DateSource::Key(key.to_owned()),
    }
}

fn build(raw: RawDefinition, problems: &mut Vec<Problem>) -> Option<Definition> {
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

/// `acting_body` names two keys that are both inputs of the transition (each kind then needs a
/// role of `by` to speak for it), or both facts that other transitions record; either way they
/// are enums of known body kinds and levels.
fn check_acting_body(cx: &mut Ctx<'_>, t: &Transition, ab: &ActingBody, all: &[&Transition]) {
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

fn build_state(cx: &mut Ctx<'_>, rs: RawState, place: &str) -> State {
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

fn build_deadline(cx: &mut Ctx<'_>, rd: RawDeadline, place: &str) -> Option<DeadlineSpec> {
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

fn build_reminder(cx: &mut Ctx<'_>, rr: RawReminder, place: &str) -> Option<ReminderSpec> {
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

fn build_transition(
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

fn build_input(cx: &mut Ctx<'_>, ri: RawInput, place: &str) -> Option<InputSpec> {
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

fn build_effect(cx: &mut Ctx<'_>, re: RawEffect, place: &str) -> Option<EffectSpec> {
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
            let parsed = MemberStatus::parse(&status);
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
