//! The set-level part of a rule-set file, complete or layer: its id, title, period and
//! documents (never inherited by a layer), parsed and validated.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Param, RawParam, RuleSet};
use crate::engine::problem::{Problem, ProblemCode, unknown_fields};

/// The fields every rule-set file states for itself, layer or not: a layer inherits
/// parameters only, never its base's id, title, period or documents.
pub(super) struct Header {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) valid_from: NaiveDate,
    pub(super) valid_to: Option<NaiveDate>,
    pub(super) documents: Vec<String>,
}

impl Header {
    pub(super) fn parse(raw: RawHeader) -> (Option<Header>, Vec<Problem>) {
        let mut problems = Vec::new();
        unknown_fields(&raw.extra, "rule set", &mut problems);
        let id = raw.id.unwrap_or_default();
        if id.trim().is_empty() {
            problems.push(Problem::error(
                ProblemCode::MissingField,
                "rule set",
                "missing `id`",
            ));
        }
        let valid_from = date_field(raw.valid_from.as_ref(), "valid_from", &mut problems);
        if raw.valid_from.is_none() {
            problems.push(Problem::error(
                ProblemCode::MissingField,
                "rule set",
                "missing `valid_from` (first day in force)",
            ));
        }
        let valid_to = date_field(raw.valid_to.as_ref(), "valid_to", &mut problems);
        if let (Some(from), Some(to)) = (valid_from, valid_to)
            && to < from
        {
            problems.push(Problem::error(
                ProblemCode::BadValidity,
                "rule set",
                format!("`valid_to` {to} is before `valid_from` {from}"),
            ));
        }
        let header = valid_from.map(|valid_from| Header {
            id,
            title: raw.title.unwrap_or_default(),
            valid_from,
            valid_to,
            documents: raw.documents,
        });
        (header, problems)
    }

    pub(super) fn into_set(self, base: Option<String>, params: Vec<Param>) -> RuleSet {
        let by_id = params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        RuleSet {
            id: self.id,
            title: self.title,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            documents: self.documents,
            base,
            params,
            by_id,
        }
    }
}

pub(super) fn param_place(id: Option<&str>, index: usize) -> String {
    match id {
        Some(id) => format!("parameter `{id}`"),
        None => format!("parameter #{}", index + 1),
    }
}

#[derive(Deserialize)]
pub(super) struct RawRuleSet {
    pub(super) id: Option<String>,
    pub(super) title: Option<String>,
    pub(super) valid_from: Option<toml::value::Datetime>,
    pub(super) valid_to: Option<toml::value::Datetime>,
    #[serde(default)]
    pub(super) documents: Vec<String>,
    /// The rule set this file is a layer on.
    pub(super) base: Option<String>,
    #[serde(default)]
    pub(super) param: Vec<RawParam>,
    #[serde(flatten)]
    pub(super) extra: BTreeMap<String, toml::Value>,
}

/// The set-level fields of a file, apart from its parameters.
pub(super) struct RawHeader {
    id: Option<String>,
    title: Option<String>,
    valid_from: Option<toml::value::Datetime>,
    valid_to: Option<toml::value::Datetime>,
    documents: Vec<String>,
    extra: BTreeMap<String, toml::Value>,
}

impl RawRuleSet {
    pub(super) fn split(self) -> (RawHeader, Option<String>, Vec<RawParam>) {
        let header = RawHeader {
            id: self.id,
            title: self.title,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            documents: self.documents,
            extra: self.extra,
        };
        (header, self.base, self.param)
    }
}

fn date_field(
    dt: Option<&toml::value::Datetime>,
    field: &str,
    problems: &mut Vec<Problem>,
) -> Option<NaiveDate> {
    let dt = dt?;
    let date = match (dt.date, dt.time) {
        (Some(d), None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        _ => None,
    };
    if date.is_none() {
        problems.push(Problem::error(
            ProblemCode::InvalidValue,
            "rule set",
            format!("`{field}` must be a plain date such as 2025-07-01, found {dt}"),
        ));
    }
    date
}
