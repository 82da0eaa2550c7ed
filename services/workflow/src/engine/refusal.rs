//! Refusals: why an event was not accepted, in words a branch secretary understands.
//!
//! A refusal lists every reason at once (every failing guard, every bad input), each with a
//! stable code, the rule id (schemas/rules.toml) when a rule is behind it, and the reason in Vietnamese
//! and in English. The API maps a refusal made only of input problems to `VALIDATION` and any
//! other to `TRANSITION_REFUSED`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ruleset::ParamError;

/// The stable code of one reason for a refusal. Never rename one, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum RefusalCode {
    /// The case runs under another definition or version (migrate it first).
    DefinitionMismatch,
    /// The definition has no transition with that name.
    UnknownTransition,
    /// The case is in a terminal state.
    CaseClosed,
    /// The transition cannot be fired from the case's current state.
    WrongState,
    /// No rule set is in force on the day of the step.
    NoRuleSet,
    /// The actor holds none of the roles allowed to fire the transition.
    NotPermitted,
    /// A required input is missing.
    InputMissing,
    /// An input has the wrong type.
    InputType,
    /// An input the transition does not declare.
    InputUnknown,
    /// An input is of the right type but not acceptable (enum value, bounds).
    InputInvalid,
    /// Data a guard or a deadline needs is not on the case yet.
    DataMissing,
    /// A guard does not hold: the rule behind it is not satisfied.
    GuardFailed,
    /// A rule-set parameter needed for the decision has no value (unverified rule, P5).
    ParameterUnset,
    /// A rule-set parameter needed for the decision is missing or of the wrong kind.
    ParameterMissing,
    /// A deadline cannot be extended (already extended, or not running).
    DeadlineNotExtendable,
    /// A date computation went past the end of the calendar.
    DateOutOfRange,
    /// The step is dated before the case's latest step: a history stays in date order.
    StepOutOfOrder,
    /// A vote's count of exempted members (S15) does not agree with the registry on the vote's
    /// date (A8, A14, D5, D33: the denominator leaves them out from the registry, not from a
    /// typed count).
    ExemptionCountMismatch,
    /// A vote's count of members living their party life temporarily elsewhere does not agree
    /// with the registry on the vote's date (A8, A14, D5, D33: the denominator leaves them out
    /// from the registry, not from a typed count).
    TemporaryActivityCountMismatch,
}

impl RefusalCode {
    /// The code as clients see it, e.g. `GUARD_FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::DefinitionMismatch => "DEFINITION_MISMATCH",
            RefusalCode::UnknownTransition => "UNKNOWN_TRANSITION",
            RefusalCode::CaseClosed => "CASE_CLOSED",
            RefusalCode::WrongState => "WRONG_STATE",
            RefusalCode::NoRuleSet => "NO_RULE_SET",
            RefusalCode::NotPermitted => "NOT_PERMITTED",
            RefusalCode::InputMissing => "INPUT_MISSING",
            RefusalCode::InputType => "INPUT_TYPE",
            RefusalCode::InputUnknown => "INPUT_UNKNOWN",
            RefusalCode::InputInvalid => "INPUT_INVALID",
            RefusalCode::DataMissing => "DATA_MISSING",
            RefusalCode::GuardFailed => "GUARD_FAILED",
            RefusalCode::ParameterUnset => "PARAMETER_UNSET",
            RefusalCode::ParameterMissing => "PARAMETER_MISSING",
            RefusalCode::DeadlineNotExtendable => "DEADLINE_NOT_EXTENDABLE",
            RefusalCode::DateOutOfRange => "DATE_OUT_OF_RANGE",
            RefusalCode::StepOutOfOrder => "STEP_OUT_OF_ORDER",
            RefusalCode::ExemptionCountMismatch => "EXEMPTION_COUNT_MISMATCH",
            RefusalCode::TemporaryActivityCountMismatch => "TEMPORARY_ACTIVITY_COUNT_MISMATCH",
        }
    }

    /// Whether the code is about the shape of the event's inputs (a `VALIDATION` error).
    pub fn is_input(self) -> bool {
        matches!(
            self,
            RefusalCode::InputMissing
                | RefusalCode::InputType
                | RefusalCode::InputUnknown
                | RefusalCode::InputInvalid
        )
    }
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason for refusing an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable code.
    pub code: RefusalCode,
    /// Rule id of the rule catalogue behind the reason, if any (`E1`, `A8`, …).
    pub rule: Option<String>,
    /// Guard that produced it, if any.
    pub guard: Option<String>,
    /// Input or data key concerned, if any.
    pub field: Option<String>,
    /// The reason in Vietnamese.
    pub reason_vi: String,
    /// The reason in English.
    pub reason_en: String,
}

impl Reason {
    /// A reason with no rule, guard or field.
    pub fn new(
        code: RefusalCode,
        reason_vi: impl Into<String>,
        reason_en: impl Into<String>,
    ) -> Self {
        Reason {
            code,
            rule: None,
            guard: None,
            field: None,
            reason_vi: reason_vi.into(),
            reason_en: reason_en.into(),
        }
    }

    /// Sets the rule id.
    pub fn with_rule(mut self, rule: impl Into<String>) -> Self {
        self.rule = Some(rule.into());
        self
    }

    /// Sets the field.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Sets the guard.
    pub fn with_guard(mut self, guard: impl Into<String>) -> Self {
        self.guard = Some(guard.into());
        self
    }

    /// A reason explaining that a rule-set parameter cannot be used.
    pub fn from_param_error(err: &ParamError) -> Reason {
        match err {
            ParamError::Unset {
                rule_set,
                param,
                rule,
                note,
            } => {
                let note_vi = note
                    .as_deref()
                    .map(|n| format!(" Ghi chú: {n}"))
                    .unwrap_or_default();
                let note_en = note
                    .as_deref()
                    .map(|n| format!(" Note: {n}"))
                    .unwrap_or_default();
                Reason::new(
                    RefusalCode::ParameterUnset,
                    format!(
                        "Chưa thể áp dụng quy định {rule}: tham số «{param}» chưa có giá trị trong bộ quy tắc {rule_set} vì văn bản gốc chưa được đối chiếu. Quản trị viên cần nhập giá trị sau khi kiểm tra văn bản.{note_vi}"
                    ),
                    format!(
                        "Rule {rule} cannot be applied yet: parameter `{param}` has no value in rule set {rule_set} because the primary text has not been verified. An administrator must enter it once the text is checked.{note_en}"
                    ),
                )
                .with_rule(rule.clone())
                .with_field(param.clone())
            }
            ParamError::Missing { param, .. } | ParamError::Kind { param, .. } => Reason::new(
                RefusalCode::ParameterMissing,
                format!("Lỗi cấu hình bộ quy tắc, cần báo quản trị viên: {err}."),
                format!("Rule-set configuration error, tell the administrator: {err}."),
            )
            .with_field(param.clone()),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(rule) = &self.rule {
            write!(f, "({rule})")?;
        } else if let Some(field) = &self.field {
            write!(f, "({field})")?;
        }
        write!(f, ": {}", self.reason_en)
    }
}

/// An event that was not accepted, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("transition `{transition}` refused in state `{state}`: {}", summary(.reasons))]
pub struct Refusal {
    /// Transition asked for.
    pub transition: String,
    /// State of the case when it was asked (empty when opening a case).
    pub state: String,
    /// Every reason, in the order checked: state, role, inputs, guards.
    pub reasons: Vec<Reason>,
}

fn summary(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Refusal {
    /// Whether every reason is about the shape of the inputs (a `VALIDATION` error rather than
    /// `TRANSITION_REFUSED`).
    pub fn is_validation(&self) -> bool {
        !self.reasons.is_empty() && self.reasons.iter().all(|r| r.code.is_input())
    }

    /// Whether the only objection is who asked: the actor holds none of the roles the step
    /// needs, or not the role of the body it names (`acting_body`).
    pub fn is_not_permitted(&self) -> bool {
        !self.reasons.is_empty()
            && self
                .reasons
                .iter()
                .all(|r| r.code == RefusalCode::NotPermitted)
    }

    /// The rule ids behind the refusal, sorted and deduplicated.
    pub fn rule_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.reasons.iter().filter_map(|r| r.rule.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The codes of the reasons, in order.
    pub fn codes(&self) -> Vec<RefusalCode> {
        self.reasons.iter().map(|r| r.code).collect()
    }
}
