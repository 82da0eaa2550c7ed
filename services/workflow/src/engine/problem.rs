//! Problems found while validating definitions and rule sets.
//!
//! Validation never stops at the first problem: an administrator fixing a definition wants the
//! whole list at once (`memberflow check`). Each problem has a stable machine code, a severity,
//! the place it was found (a state, a transition, a parameter) and an English message.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The stable machine code of a validation problem. Clients and tests match on these; never
/// rename one, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ProblemCode {
    /// The file is not valid TOML, or a field has the wrong TOML type.
    TomlSyntax,
    /// A field the format does not know (usually a typo).
    UnknownField,
    /// A required field is missing or empty.
    MissingField,
    /// A field has a value outside what the format allows.
    InvalidValue,
    /// Two states share a name.
    DuplicateState,
    /// A state name used somewhere is not declared.
    UnknownState,
    /// No transition path leads from the initial state to this state.
    UnreachableState,
    /// No path leads from this non-terminal state to a terminal one.
    NoPathToTerminal,
    /// The definition declares no terminal state.
    NoTerminalState,
    /// A terminal state is the source of a transition.
    TerminalStateHasExit,
    /// Two transitions share a name.
    DuplicateTransition,
    /// A transition names a guard the core does not implement.
    UnknownGuard,
    /// An input is declared twice on one transition.
    DuplicateInput,
    /// An input type the format does not know.
    UnknownInputType,
    /// A role level the format does not know.
    UnknownLevel,
    /// A transition nobody may fire.
    NoActor,
    /// An effect kind the format does not know.
    UnknownEffect,
    /// A member status the format does not know.
    UnknownMemberStatus,
    /// A cron expression the scheduler cannot parse.
    BadCron,
    /// A mail template that does not exist.
    UnknownTemplate,
    /// A date key (deadline start, computed fact, effect argument) that no transition provides.
    UnknownDateKey,
    /// A key a guard reads that no transition of the definition provides.
    GuardDataUnavailable,
    /// A deadline or reminder key declared inconsistently, or twice in one state.
    DuplicateDeadline,
    /// A deadline named by a reminder or an effect that the state does not declare.
    UnknownDeadline,
    /// A period that is neither a literal nor a parameter reference, or both.
    BadPeriod,
    /// A parameter referenced by a definition or a guard is missing from a rule set.
    UnknownParameter,
    /// A parameter has a different kind from the one its reader expects.
    ParameterKind,
    /// A parameter has no value in some rule set; whatever reads it will refuse.
    ParameterUnset,
    /// Two parameters share an id in one rule set.
    DuplicateParameter,
    /// A rule id that does not look like one of the rule catalogue (letter(s) then digits).
    BadRuleId,
    /// A validity period that ends before it starts.
    BadValidity,
    /// Two rule sets share an id.
    DuplicateRuleSet,
    /// Two rule sets are in force on the same day.
    OverlappingRuleSets,
    /// A state rename mapping that does not fit the definition.
    BadRename,
    /// Two definition files share an id and version.
    DuplicateDefinition,
    /// A rule-set layer's `base` is unknown, did not load, or is not the rule set just before it.
    UnknownBase,
    /// A rule-set layer names a parameter its base lacks without declaring it `new = true`.
    NotInBase,
    /// A rule-set layer restates a field unchanged from its base (or an entry changes nothing).
    RestatedValue,
}

impl ProblemCode {
    /// The code as clients see it, e.g. `UNKNOWN_STATE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::TomlSyntax => "TOML_SYNTAX",
            ProblemCode::UnknownField => "UNKNOWN_FIELD",
            ProblemCode::MissingField => "MISSING_FIELD",
            ProblemCode::InvalidValue => "INVALID_VALUE",
            ProblemCode::DuplicateState => "DUPLICATE_STATE",
            ProblemCode::UnknownState => "UNKNOWN_STATE",
            ProblemCode::UnreachableState => "UNREACHABLE_STATE",
            ProblemCode::NoPathToTerminal => "NO_PATH_TO_TERMINAL",
            ProblemCode::NoTerminalState => "NO_TERMINAL_STATE",
            ProblemCode::TerminalStateHasExit => "TERMINAL_STATE_HAS_EXIT",
            ProblemCode::DuplicateTransition => "DUPLICATE_TRANSITION",
            ProblemCode::UnknownGuard => "UNKNOWN_GUARD",
            ProblemCode::DuplicateInput => "DUPLICATE_INPUT",
            ProblemCode::UnknownInputType => "UNKNOWN_INPUT_TYPE",
            ProblemCode::UnknownLevel => "UNKNOWN_LEVEL",
            ProblemCode::NoActor => "NO_ACTOR",
            ProblemCode::UnknownEffect => "UNKNOWN_EFFECT",
            ProblemCode::UnknownMemberStatus => "UNKNOWN_MEMBER_STATUS",
            ProblemCode::BadCron => "BAD_CRON",
            ProblemCode::UnknownTemplate => "UNKNOWN_TEMPLATE",
            ProblemCode::UnknownDateKey => "UNKNOWN_DATE_KEY",
            ProblemCode::GuardDataUnavailable => "GUARD_DATA_UNAVAILABLE",
            ProblemCode::DuplicateDeadline => "DUPLICATE_DEADLINE",
            ProblemCode::UnknownDeadline => "UNKNOWN_DEADLINE",
            ProblemCode::BadPeriod => "BAD_PERIOD",
            ProblemCode::UnknownParameter => "UNKNOWN_PARAMETER",
            ProblemCode::ParameterKind => "PARAMETER_KIND",
            ProblemCode::ParameterUnset => "PARAMETER_UNSET",
            ProblemCode::DuplicateParameter => "DUPLICATE_PARAMETER",
            ProblemCode::BadRuleId => "BAD_RULE_ID",
            ProblemCode::BadValidity => "BAD_VALIDITY",
            ProblemCode::DuplicateRuleSet => "DUPLICATE_RULE_SET",
            ProblemCode::OverlappingRuleSets => "OVERLAPPING_RULE_SETS",
            ProblemCode::BadRename => "BAD_RENAME",
            ProblemCode::DuplicateDefinition => "DUPLICATE_DEFINITION",
            ProblemCode::UnknownBase => "UNKNOWN_BASE",
            ProblemCode::NotInBase => "NOT_IN_BASE",
            ProblemCode::RestatedValue => "RESTATED_VALUE",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a problem is: errors make a file unusable, warnings deserve a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Usable, but something will refuse or surprise at run time.
    Warning,
    /// The file cannot be used.
    Error,
}

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable machine code.
    pub code: ProblemCode,
    /// Error or warning.
    pub severity: Severity,
    /// Where in the file: e.g. "transition `branch_vote`, input `votes_for`".
    pub place: String,
    /// What is wrong, in English.
    pub message: String,
}

/// The problems of a workflow definition (same type as every other validation problem).
pub type DefinitionProblem = Problem;

impl Problem {
    /// An error at `place`.
    pub fn error(code: ProblemCode, place: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            code,
            severity: Severity::Error,
            place: place.into(),
            message: message.into(),
        }
    }

    /// A warning at `place`.
    pub fn warning(
        code: ProblemCode,
        place: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            code,
            severity: Severity::Warning,
            place: place.into(),
            message: message.into(),
        }
    }

    /// Whether this problem makes the file unusable.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.place.is_empty() {
            write!(f, "{sev}[{}]: {}", self.code, self.message)
        } else {
            write!(f, "{sev}[{}] {}: {}", self.code, self.place, self.message)
        }
    }
}

/// Turns a TOML parse error into a problem that names the line and column.
pub(crate) fn toml_problem(src: &str, err: &toml::de::Error) -> Problem {
    let place = match err.span() {
        Some(span) => {
            let before = src.get(..span.start).unwrap_or(src);
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {col}")
        }
        None => String::new(),
    };
    Problem::error(
        ProblemCode::TomlSyntax,
        place,
        err.message().trim().to_owned(),
    )
}

/// Reports each unknown field collected by a `#[serde(flatten)]` catch-all.
pub(crate) fn unknown_fields(
    extra: &std::collections::BTreeMap<String, toml::Value>,
    place: &str,
    out: &mut Vec<Problem>,
) {
    for key in extra.keys() {
        out.push(Problem::error(
            ProblemCode::UnknownField,
            place,
            format!("unknown field `{key}`"),
        ));
    }
}

/// Whether `id` looks like a rule id of the rule catalogue: one or more capital letters then digits
/// (`E1`, `A10`, `D31`, `P5`).
pub(crate) fn is_rule_id(id: &str) -> bool {
    let letters = id.chars().take_while(char::is_ascii_uppercase).count();
    let digits = &id[letters..];
    letters > 0 && !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}
