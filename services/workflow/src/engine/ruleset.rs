//! Dated rule sets: the parameters of the rules, with their ids, tags and sources.
//!
//! Rules are data. A rule set (R2021, R2025a, R2025b, …) is in force over a period and holds
//! every number, period, threshold and list the guards read, each tagged with the rule id of
//! the rulebook (docs/rules-coverage.md), its verification tag ([V], [S], [M]) and its source, so that an
//! administrator can correct an unverified value without a code change. A [M] parameter may
//! have no value at all (P5): whatever reads it refuses with a reason saying so.
//!
//! A rule set after the first is a *layer* (`base = "R2021"`): its file states only what
//! changed from the rule set before it, and [`layer`] resolves it onto its base into the
//! effective rule set every reader sees.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::period::{Period, Threshold};
use super::problem::{Problem, ProblemCode, is_rule_id, toml_problem, unknown_fields};

mod header;
pub mod layer;

use header::{Header, RawRuleSet, param_place};

/// How far a rule's wording was verified (the `certainty` of the rule catalogue, `schemas/rules.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tag {
    /// Read in the cited source.
    V,
    /// Cited by a secondary source.
    S,
    /// Unverified.
    M,
}

impl Tag {
    fn parse(s: &str) -> Option<Tag> {
        match s {
            "V" => Some(Tag::V),
            "S" => Some(Tag::S),
            "M" => Some(Tag::M),
            _ => None,
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tag::V => "[V]",
            Tag::S => "[S]",
            Tag::M => "[M]",
        })
    }
}

/// The kind of a parameter's value. Readers (guards, deadlines) declare the kind they expect,
/// and validation checks it, so a typo in a rule set never surfaces as a wrong decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// A whole number (`value = 3`).
    Integer,
    /// A period (`value = { working_days = 60 }`, `{ days = 30 }`, `{ months = 12 }`, `{ years = 5 }`).
    Period,
    /// A vote threshold (`value = ">= 2/3"` or `"> 1/2"`).
    Threshold,
    /// Free text, e.g. which body is competent (`value = "..."`).
    Text,
    /// A list of texts, e.g. codes (`value = ["a", "b"]`).
    TextList,
    /// Yes or no (`value = true`).
    Flag,
}

impl ParamKind {
    fn parse(s: &str) -> Option<ParamKind> {
        match s {
            "integer" => Some(ParamKind::Integer),
            "period" => Some(ParamKind::Period),
            "threshold" => Some(ParamKind::Threshold),
            "text" => Some(ParamKind::Text),
            "text_list" => Some(ParamKind::TextList),
            "flag" => Some(ParamKind::Flag),
            _ => None,
        }
    }

    /// The kind's name in rule-set files.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Integer => "integer",
            ParamKind::Period => "period",
            ParamKind::Threshold => "threshold",
            ParamKind::Text => "text",
            ParamKind::TextList => "text_list",
            ParamKind::Flag => "flag",
        }
    }
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of a parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamValue {
    /// See [`ParamKind::Integer`].
    Integer(i64),
    /// See [`ParamKind::Period`].
    Period(Period),
    /// See [`ParamKind::Threshold`].
    Threshold(Threshold),
    /// See [`ParamKind::Text`].
    Text(String),
    /// See [`ParamKind::TextList`].
    TextList(Vec<String>),
    /// See [`ParamKind::Flag`].
    Flag(bool),
}

impl ParamValue {
    /// The kind of this value.
    pub fn kind(&self) -> ParamKind {
        match self {
            ParamValue::Integer(_) => ParamKind::Integer,
            ParamValue::Period(_) => ParamKind::Period,
            ParamValue::Threshold(_) => ParamKind::Threshold,
            ParamValue::Text(_) => ParamKind::Text,
            ParamValue::TextList(_) => ParamKind::TextList,
            ParamValue::Flag(_) => ParamKind::Flag,
        }
    }
}

/// One parameter of a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Param {
    /// `<rule id>.<name>`, e.g. `A10.admission_decision_period`.
    pub id: String,
    /// The rule id in the rule catalogue (`schemas/rules.toml`), e.g. `A10`.
    pub rule: String,
    /// Verification tag.
    pub tag: Tag,
    /// Kind of value.
    pub kind: ParamKind,
    /// The value; `None` only for an unverified [M] parameter with no default (P5).
    pub value: Option<ParamValue>,
    /// Legal citation of the source.
    pub source: String,
    /// What the parameter means, for administrators.
    pub doc: String,
    /// Why the value is what it is, or what remains to be checked.
    pub note: Option<String>,
}

/// A rule set in force over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleSet {
    /// Stable id, e.g. `R2025b`; recorded on every step of every case.
    pub id: String,
    /// Human title.
    pub title: String,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Last day in force; `None` while still in force.
    pub valid_to: Option<NaiveDate>,
    /// The documents this rule set implements.
    pub documents: Vec<String>,
    /// The rule set this one is a layer on (`base = "R2021"` in its file); `None` for a
    /// complete rule set. The parameters are always the effective ones, base included.
    pub base: Option<String>,
    params: Vec<Param>,
    by_id: BTreeMap<String, usize>,
}

/// Why a parameter could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    /// The rule set has no parameter with that id.
    #[error("rule set {rule_set} has no parameter `{param}`")]
    Missing {
        /// Rule set id.
        rule_set: String,
        /// Parameter id.
        param: String,
    },
    /// The parameter exists without a value (unverified, no default).
    #[error("parameter `{param}` ({rule}) has no value in rule set {rule_set}")]
    Unset {
        /// Rule set id.
        rule_set: String,
        /// Parameter id.
        param: String,
        /// Rule id.
        rule: String,
        /// The note explaining what must be verified.
        note: Option<String>,
    },
    /// The parameter holds another kind of value.
    #[error("parameter `{param}` in rule set {rule_set} is a {found}, expected a {expected}")]
    Kind {
        /// Rule set id.
        rule_set: String,
        /// Parameter id.
        param: String,
        /// Kind the reader expects.
        expected: ParamKind,
        /// Kind in the rule set.
        found: ParamKind,
    },
}

impl RuleSet {
    /// Parses and validates a complete rule-set file, reporting every problem at once. A layer
    /// (a file with `base`) needs its base: load it with [`RuleBook::from_toml_strs`] or
    /// [`layer::resolve`].
    pub fn from_toml_str(src: &str) -> Result<RuleSet, Vec<Problem>> {
        let raw: RawRuleSet = toml::from_str(src).map_err(|e| vec![toml_problem(src, &e)])?;
        if let Some(base) = &raw.base {
            return Err(vec![Problem::error(
                ProblemCode::UnknownBase,
                "rule set",
                format!("a layer on `{base}`: it is read together with its base rule set"),
            )]);
        }
        RuleSet::from_raw(raw).map(|(set, _)| set)
    }

    /// A complete rule set from its parsed file, with the raw parameters layers build on.
    fn from_raw(raw: RawRuleSet) -> Result<(RuleSet, Vec<RawParam>), Vec<Problem>> {
        let (header, _, raw_params) = raw.split();
        let (header, mut problems) = Header::parse(header);
        let mut params = Vec::new();
        let mut by_id = BTreeMap::new();
        let mut kept = Vec::new();
        for (i, rp) in raw_params.into_iter().enumerate() {
            let place = param_place(rp.id.as_deref(), i);
            layer::refuse_layer_fields(&rp, &place, &mut problems);
            let copy = rp.clone();
            if let Some(p) = parse_param(rp, &place, &mut problems) {
                if by_id.contains_key(&p.id) {
                    problems.push(Problem::error(
                        ProblemCode::DuplicateParameter,
                        place,
                        "declared twice in this rule set",
                    ));
                    continue;
                }
                by_id.insert(p.id.clone(), params.len());
                params.push(p);
                kept.push(copy);
            }
        }
        match header {
            Some(h) if problems.is_empty() => Ok((h.into_set(None, params), kept)),
            _ => Err(problems),
        }
    }

    /// Whether the rule set is in force on `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        date >= self.valid_from && self.valid_to.is_none_or(|to| date <= to)
    }

    /// The parameter `id`, if declared.
    pub fn param(&self, id: &str) -> Option<&Param> {
        self.by_id.get(id).and_then(|&i| self.params.get(i))
    }

    /// Every parameter, in file order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The value of parameter `id`, checked to be of `kind`.
    pub fn value(&self, id: &str, kind: ParamKind) -> Result<&ParamValue, ParamError> {
        let param = self.param(id).ok_or_else(|| ParamError::Missing {
            rule_set: self.id.clone(),
            param: id.to_owned(),
        })?;
        if param.kind != kind {
            return Err(ParamError::Kind {
                rule_set: self.id.clone(),
                param: id.to_owned(),
                expected: kind,
                found: param.kind,
            });
        }
        param.value.as_ref().ok_or_else(|| ParamError::Unset {
            rule_set: self.id.clone(),
            param: id.to_owned(),
            rule: param.rule.clone(),
            note: param.note.clone(),
        })
    }

    /// A period parameter.
    pub fn period(&self, id: &str) -> Result<Period, ParamError> {
        match self.value(id, ParamKind::Period)? {
            ParamValue::Period(p) => Ok(*p),
            other => Err(self.kind_error(id, ParamKind::Period, other)),
        }
    }

    /// A threshold parameter.
    pub fn threshold(&self, id: &str) -> Result<Threshold, ParamError> {
        match self.value(id, ParamKind::Threshold)? {
            ParamValue::Threshold(t) => Ok(*t),
            other => Err(self.kind_error(id, ParamKind::Threshold, other)),
        }
    }

    /// An integer parameter.
    pub fn integer(&self, id: &str) -> Result<i64, ParamError> {
        match self.value(id, ParamKind::Integer)? {
            ParamValue::Integer(i) => Ok(*i),
            other => Err(self.kind_error(id, ParamKind::Integer, other)),
        }
    }

    /// A flag parameter.
    pub fn flag(&self, id: &str) -> Result<bool, ParamError> {
        match self.value(id, ParamKind::Flag)? {
            ParamValue::Flag(b) => Ok(*b),
            other => Err(self.kind_error(id, ParamKind::Flag, other)),
        }
    }

    /// A text parameter.
    pub fn text(&self, id: &str) -> Result<&str, ParamError> {
        match self.value(id, ParamKind::Text)? {
            ParamValue::Text(s) => Ok(s),
            other => Err(self.kind_error(id, ParamKind::Text, other)),
        }
    }

    /// A text-list parameter.
    pub fn text_list(&self, id: &str) -> Result<&[String], ParamError> {
        match self.value(id, ParamKind::TextList)? {
            ParamValue::TextList(v) => Ok(v),
            other => Err(self.kind_error(id, ParamKind::TextList, other)),
        }
    }

    // Unreachable in practice (parsing keeps value and kind in step) but cheaper to report than
    // to assert.
    fn kind_error(&self, id: &str, expected: ParamKind, found: &ParamValue) -> ParamError {
        ParamError::Kind {
            rule_set: self.id.clone(),
            param: id.to_owned(),
            expected,
            found: found.kind(),
        }
    }

    /// Checks that `id` exists with `kind`; a missing value is a warning. Used to cross-check
    /// what definitions and guards read against every rule set.
    pub(crate) fn check_reference(
        &self,
        id: &str,
        kind: ParamKind,
        reader: &str,
        out: &mut Vec<Problem>,
    ) {
        let place = format!("rule set {}", self.id);
        match self.param(id) {
            None => out.push(Problem::error(
                ProblemCode::UnknownParameter,
                place,
                format!("{reader} reads parameter `{id}` ({kind}), which this rule set lacks"),
            )),
            Some(p) if p.kind != kind => out.push(Problem::error(
                ProblemCode::ParameterKind,
                place,
                format!("{reader} reads `{id}` as a {kind}, but it is a {}", p.kind),
            )),
            Some(p) if p.value.is_none() => out.push(Problem::warning(
                ProblemCode::ParameterUnset,
                place,
                format!(
                    "{reader} reads `{id}`, which has no value: it will refuse until one is set"
                ),
            )),
            Some(_) => {}
        }
    }
}

/// Every rule set known to the service, with non-overlapping validity periods.
#[derive(Debug, Clone, Default)]
pub struct RuleBook {
    sets: Vec<RuleSet>,
}

impl RuleBook {
    /// Builds a rule book, checking that ids are unique and that no two rule sets are in force
    /// on the same day.
    pub fn new(mut sets: Vec<RuleSet>) -> Result<RuleBook, Vec<Problem>> {
        sets.sort_by(|a, b| {
            a.valid_from
                .cmp(&b.valid_from)
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut problems = Vec::new();
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                if a.id == b.id {
                    problems.push(Problem::error(
                        ProblemCode::DuplicateRuleSet,
                        format!("rule set {}", a.id),
                        "two rule sets share this id",
                    ));
                }
                // `b` starts on or after `a`; they overlap unless `a` ends before `b` starts.
                if a.valid_to.is_none_or(|end| end >= b.valid_from) {
                    problems.push(Problem::error(
                        ProblemCode::OverlappingRuleSets,
                        format!("rule set {}", a.id),
                        format!(
                            "in force until {} and so overlaps {} (from {})",
                            a.valid_to
                                .map_or_else(|| "further notice".to_owned(), |d| d.to_string()),
                            b.id,
                            b.valid_from
                        ),
                    ));
                }
            }
        }
        if problems.is_empty() {
            Ok(RuleBook { sets })
        } else {
            Err(problems)
        }
    }

    /// Parses several rule-set sources and builds the book, reporting every problem of every
    /// file (each prefixed with its name) at once.
    pub fn from_toml_strs<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RuleBook, Vec<Problem>> {
        let resolved = layer::resolve(sources);
        let mut problems: Vec<Problem> = resolved
            .problems
            .into_iter()
            .map(|(name, mut p)| {
                p.place = prefix(&name, &p.place);
                p
            })
            .collect();
        match RuleBook::new(resolved.sets.into_iter().map(|(_, s)| s).collect()) {
            Ok(book) if problems.is_empty() => Ok(book),
            Ok(_) => Err(problems),
            Err(ps) => {
                problems.extend(ps);
                Err(problems)
            }
        }
    }

    /// The rule set in force on `date`, if any.
    pub fn for_date(&self, date: NaiveDate) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.covers(date))
    }

    /// The rule set with id `id`.
    pub fn get(&self, id: &str) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.id == id)
    }

    /// Every rule set, oldest first.
    pub fn sets(&self) -> &[RuleSet] {
        &self.sets
    }
}

pub(crate) fn prefix(name: &str, place: &str) -> String {
    match (name.is_empty(), place.is_empty()) {
        (true, _) => place.to_owned(),
        (false, true) => name.to_owned(),
        (false, false) => format!("{name}: {place}"),
    }
}

#[derive(Deserialize, Clone, Default)]
struct RawParam {
    id: Option<String>,
    rule: Option<String>,
    tag: Option<String>,
    kind: Option<String>,
    value: Option<toml::Value>,
    source: Option<String>,
    doc: Option<String>,
    note: Option<String>,
    /// In a layer: a parameter its base does not have.
    new: Option<bool>,
    /// In a layer: optional fields of the base's parameter to drop (`note`, `value`).
    unset: Option<Vec<String>>,
    #[serde(flatten)]
    extra: BTreeMap<String, toml::Value>,
}

fn required(field: Option<String>, name: &str, place: &str, problems: &mut Vec<Problem>) -> String {
    match field {
        Some(s) if !s.trim().is_empty() => s,
        _ => {
            problems.push(Problem::error(
                ProblemCode::MissingField,
                place,
                format!("missing `{name}`"),
            ));
            String::new()
        }
    }
}

fn parse_param(rp: RawParam, place: &str, problems: &mut Vec<Problem>) -> Option<Param> {
    let before = problems.len();
    unknown_fields(&rp.extra, place, problems);
    let id = required(rp.id, "id", place, problems);
    let rule = required(rp.rule, "rule", place, problems);
    let source = required(rp.source, "source", place, problems);
    let doc = required(rp.doc, "doc", place, problems);
    if !rule.is_empty() {
        if !is_rule_id(&rule) {
            problems.push(Problem::error(
                ProblemCode::BadRuleId,
                place,
                format!(
                    "`{rule}` is not a rule id (capital letters then a number, e.g. E1, A10, D31)"
                ),
            ));
        } else if !id.is_empty() && !id.starts_with(&format!("{rule}.")) {
            problems.push(Problem::error(
                ProblemCode::InvalidValue,
                place,
                format!("the id must start with its rule id: `{rule}.…`"),
            ));
        }
    }
    let tag = match rp.tag.as_deref() {
        None => {
            problems.push(Problem::error(
                ProblemCode::MissingField,
                place,
                "missing `tag` (V, S or M)",
            ));
            None
        }
        Some(t) => {
            let tag = Tag::parse(t);
            if tag.is_none() {
                problems.push(Problem::error(
                    ProblemCode::InvalidValue,
                    place,
                    format!("tag `{t}` is not one of V, S, M"),
                ));
            }
            tag
        }
    };
    let kind = match rp.kind.as_deref() {
        None => {
            problems.push(Problem::error(
                ProblemCode::MissingField,
                place,
                "missing `kind`",
            ));
            None
        }
        Some(k) => {
            let kind = ParamKind::parse(k);
            if kind.is_none() {
                problems.push(Problem::error(
                    ProblemCode::InvalidValue,
                    place,
                    format!(
                        "kind `{k}` is not one of integer, period, threshold, text, text_list, flag"
                    ),
                ));
            }
            kind
        }
    };
    let value = match (kind, rp.value.as_ref()) {
        (Some(kind), Some(v)) => parse_value(kind, v, place, problems),
        (_, None) => {
            // Only an unverified rule may be left without a value: a verified one must say
            // what the text says.
            if tag.is_some() && tag != Some(Tag::M) {
                problems.push(Problem::error(
                    ProblemCode::MissingField,
                    place,
                    "missing `value`; only an unverified [M] parameter may have none",
                ));
            }
            None
        }
        (None, Some(_)) => None,
    };
    if problems.len() > before {
        return None;
    }
    Some(Param {
        id,
        rule,
        tag: tag?,
        kind: kind?,
        value,
        source,
        doc,
        note: rp.note,
    })
}

fn parse_value(
    kind: ParamKind,
    v: &toml::Value,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Option<ParamValue> {
    let parsed = match kind {
        ParamKind::Integer => v.as_integer().map(ParamValue::Integer),
        ParamKind::Flag => v.as_bool().map(ParamValue::Flag),
        ParamKind::Text => v.as_str().map(|s| ParamValue::Text(s.to_owned())),
        ParamKind::TextList => v.as_array().and_then(|items| {
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(ParamValue::TextList)
        }),
        ParamKind::Threshold => v
            .as_str()
            .and_then(Threshold::parse)
            .map(ParamValue::Threshold),
        ParamKind::Period => v
            .as_table()
            .and_then(parse_period_table)
            .map(ParamValue::Period),
    };
    if parsed.is_none() {
        let expected = match kind {
            ParamKind::Integer => "an integer",
            ParamKind::Flag => "true or false",
            ParamKind::Text => "a string",
            ParamKind::TextList => "a list of strings",
            ParamKind::Threshold => "a threshold such as \">= 2/3\" or \"> 1/2\"",
            ParamKind::Period => {
                "one of { working_days = N }, { days = N }, { months = N }, { years = N }"
            }
        };
        problems.push(Problem::error(
            ProblemCode::InvalidValue,
            place,
            format!("value `{v}` is not {expected}"),
        ));
    }
    parsed
}

/// Parses `{ working_days = N }` and its siblings: exactly one key, a non-negative integer.
pub(crate) fn parse_period_table(t: &toml::Table) -> Option<Period> {
    if t.len() != 1 {
        return None;
    }
    let (unit, n) = t.iter().next()?;
    let n = u32::try_from(n.as_integer()?).ok()?;
    match unit.as_str() {
        "working_days" => Some(Period::WorkingDays(n)),
        "days" => Some(Period::Days(n)),
        "months" => Some(Period::Months(n)),
        "years" => Some(Period::Years(n)),
        _ => None,
    }
}
