//! The workflow engine: definitions as data, dated rule sets, guards, and the pure `fire`.
//!
//! The engine decides and never acts. A [`Definition`] (parsed from `schemas/workflows/*.toml`)
//! is a state machine; a [`RuleBook`] holds the dated [`RuleSet`]s (`schemas/rulesets/*.toml`)
//! whose parameters the guards read; [`fire`] takes a [`CaseSnapshot`], an [`Event`] and the
//! day, and returns either a [`Decision`] (next state, effects as data) or a [`Refusal`] that
//! lists every failing check with its rule id, in Vietnamese and English. Everything here is
//! deterministic: no clock, no I/O, no randomness. The file formats and the conventions are in
//! `docs/workflows.md`.
//!
//! Module map: `definition` (the model of a definition), `parse` (definition files parsed
//! and validated, the references they make checked), `ruleset` (rule sets and the rule book;
//! `ruleset::layer` resolves a later rule set's layer onto its base and diffs two sets),
//! `guards` (the registry of named guards, one file per rule family), `fire` (open, fire,
//! available), `case` (snapshots and events), `context` (the registry context of a step),
//! `effect` (effects and notices), `refusal` (reasons), `period` (date-counting conventions),
//! `value` (input and fact values, their shapes), `migrate` (moving open cases to a new
//! definition version), `check` (validating every file together), `problem` (validation
//! problems), `votes` (vote records derived from a case's history) and `dossier` (the documents
//! of a case's file and whether they are in). The words they show people (levels, bodies,
//! forms, subjects, statuses) come from `crate::vocab`.
//!
//! Imports run one way: `value`, `period`, `problem` ← `ruleset` ← `refusal`; `definition` ←
//! `case` ← `context` ← `guards` ← `parse`, `fire`. What the definition side needs of the guard
//! registry (does a transition read the registry context, which parameters does it read) is
//! answered in `guards` and `parse`, never in `definition`, `context` or `ruleset`.

mod case;
mod check;
pub mod context;
mod decided;
mod definition;
mod dossier;
mod effect;
mod fire;
pub mod guards;
mod migrate;
mod parse;
mod period;
mod problem;
mod refusal;
mod ruleset;
mod value;
mod votes;

pub use case::{Actor, CaseSnapshot, DeadlineRecord, DefinitionRef, Event, StepMark, StepRecord};
pub use check::{CheckReport, FileProblem, ShellChecks, Source, check_sources};
pub use decided::DecisionSummary;
pub use definition::{
    ActingBody, ComputeSpec, DateSource, DeadlineSpec, Definition, DisciplineStatus, EffectSpec,
    InputSpec, InputType, MailSpec, OPEN, OnExpiry, PeriodRef, ReminderSpec, ReminderWhen, RoleRef,
    RuleSetSelection, State, Transition, body_level, body_role,
};
pub use dossier::{
    ADMISSION_DOSSIER, DocumentKind, DocumentSpec, DocumentStatus, DossierDocument, dossier,
    dossier_spec,
};
pub use effect::{Effect, Notice};
pub use fire::{Availability, AvailabilityStatus, Decision, PendingGuard, available, fire, open};
pub use guards::{GuardContext, GuardOutcome, GuardSpec};
pub use migrate::{Migrated, MigrationBlocker, MigrationChange, MigrationPlan, plan_migration};
pub use parse::{CheckOptions, CronValidator};
pub use period::{Period, Threshold, full_months_between};
pub use problem::{DefinitionProblem, Problem, ProblemCode, Severity};
pub use refusal::{Reason, Refusal, RefusalCode};
pub use ruleset::layer::{
    ParamChange, Resolved, diff as diff_rule_sets, resolve as resolve_rule_sets,
};
pub use ruleset::{Param, ParamError, ParamKind, ParamValue, RuleBook, RuleSet, Tag};
pub use value::{DataType, Value, Values};
pub use votes::{
    ExclusionSource, RecordedStep, VOTE_SHAPES, VoteRecord, VoteShape, VotingBody, votes,
};
