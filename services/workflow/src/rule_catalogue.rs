//! The rule catalogue (`schemas/rules.toml`): every rule id the code, the rule sets and the
//! workflow definitions cite, with its Vietnamese and English title, its source document and
//! article, how far it was verified and, where narrower than its rule sets, when it is in
//! force. The repository needs nothing outside itself to say what `A10` or `D31` is.
//!
//! [`RuleCatalogue::from_toml_str`] reads a catalogue and reports every problem at once;
//! [`citations`] lists the rule ids that definitions, rule sets and guards name, and
//! [`RuleCatalogue::check_citations`] reports those the catalogue lacks (`memberflow check`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::engine::guards::GUARDS;
use crate::engine::{Definition, RuleSet};

/// The committed catalogue, `schemas/rules.toml`.
pub const RULES_TOML: &str = include_str!("../../../schemas/rules.toml");

/// One rule of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueRule {
    /// The id (`E1`, `A10`, `D31`, `S22`).
    pub id: String,
    /// The Vietnamese title, shown to users.
    pub title_vi: String,
    /// The English title.
    pub title_en: String,
    /// The document(s) and article(s) the rule comes from.
    pub source: String,
    /// How far the wording was verified: `V`, `S`, `M` or a combination such as `V/S`.
    pub certainty: String,
    /// First day the rule itself is in force, when narrower than its rule sets.
    pub valid_from: Option<NaiveDate>,
    /// Last day the rule itself is in force, when narrower than its rule sets.
    pub valid_to: Option<NaiveDate>,
    /// Free text.
    pub note: Option<String>,
}

impl CatalogueRule {
    /// The validity as text: `from 2025-06-10`, `2025-08-08 to 2025-09-02`, or `—`.
    pub fn validity(&self) -> String {
        match (self.valid_from, self.valid_to) {
            (Some(from), Some(to)) => format!("{from} to {to}"),
            (Some(from), None) => format!("from {from}"),
            (None, Some(to)) => format!("until {to}"),
            (None, None) => "—".to_owned(),
        }
    }

    /// Whether the rule's own validity overlaps `from..=to` (`to = None`: open-ended).
    pub fn overlaps(&self, from: NaiveDate, to: Option<NaiveDate>) -> bool {
        let starts_before_end = match (self.valid_from, to) {
            (Some(rule_from), Some(to)) => rule_from <= to,
            _ => true,
        };
        let ends_after_start = self.valid_to.is_none_or(|rule_to| rule_to >= from);
        starts_before_end && ends_after_start
    }
}

/// The rule catalogue, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCatalogue {
    rules: Vec<CatalogueRule>,
    index: BTreeMap<String, usize>,
}

/// One problem of a catalogue file, with its place (`rule[12] (A10)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueProblem {
    /// Where: `file`, `rule[12]` or `rule[12] (A10)`.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CatalogueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title_vi: String,
    title_en: String,
    source: String,
    certainty: String,
    #[serde(default)]
    valid_from: Option<toml::Value>,
    #[serde(default)]
    valid_to: Option<toml::Value>,
    #[serde(default)]
    note: Option<String>,
}

/// Whether `id` has the shape of a rule id: one or more capital letters, then a number
/// without leading zero.
pub fn is_rule_id(id: &str) -> bool {
    let digits = id.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let letters = id.len() - digits.len();
    letters >= 1
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A date written `2025-06-10` (a TOML date) or `"2025-06-10"`.
fn date_of(value: &toml::Value) -> Option<NaiveDate> {
    match value {
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            let d = dt.date?;
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        toml::Value::String(s) => crate::calendar::parse_iso_date(s),
        _ => None,
    }
}

/// The sort key of a rule id: its letters, then its number.
fn id_key(id: &str) -> (String, u64) {
    let digits = id.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let letters = &id[..id.len() - digits.len()];
    (letters.to_owned(), digits.parse().unwrap_or(u64::MAX))
}

impl RuleCatalogue {
    /// The committed catalogue (parsed once per process).
    pub fn committed() -> &'static RuleCatalogue {
        static CATALOGUE: OnceLock<RuleCatalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| match Self::from_toml_str(RULES_TOML) {
            Ok(catalogue) => catalogue,
            // The tests parse the committed file, so this cannot happen in a tested build.
            Err(problems) => panic!(
                "schemas/rules.toml is invalid:\n{}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        })
    }

    /// Reads and checks a catalogue, reporting every problem found.
    pub fn from_toml_str(src: &str) -> Result<RuleCatalogue, Vec<CatalogueProblem>> {
        match Self::read(src) {
            (Some(catalogue), problems) if problems.is_empty() => Ok(catalogue),
            (_, problems) => Err(problems),
        }
    }

    /// Reads a catalogue as far as it can: the rules that could be read (even with problems
    /// of their own, but not twice) and every problem; no catalogue at all when the text is
    /// not TOML or has no list of rules. `memberflow check` checks the citations against
    /// what could be read, so that one run reports everything.
    pub fn read(src: &str) -> (Option<RuleCatalogue>, Vec<CatalogueProblem>) {
        let mut problems = Vec::new();
        let mut push = |place: String, message: String| {
            problems.push(CatalogueProblem { place, message });
        };
        let mut table: toml::Table = match src.parse() {
            Ok(table) => table,
            Err(e) => {
                push("file".to_owned(), format!("not valid TOML: {e}"));
                return (None, problems);
            }
        };
        let entries = match table.remove("rule") {
            Some(toml::Value::Array(entries)) => entries,
            Some(_) => {
                push(
                    "rule".to_owned(),
                    "must be an array of tables ([[rule]])".to_owned(),
                );
                return (None, problems);
            }
            None => {
                push("file".to_owned(), "no [[rule]] entries".to_owned());
                return (None, problems);
            }
        };
        for key in table.keys() {
            push(key.clone(), format!("unknown key `{key}`"));
        }
        let mut rules = Vec::new();
        let mut index = BTreeMap::new();
        for (i, value) in entries.into_iter().enumerate() {
            let hint = value.get("id").and_then(toml::Value::as_str);
            let place = match hint {
                Some(id) => format!("rule[{i}] ({id})"),
                None => format!("rule[{i}]"),
            };
            let raw: RawRule = match value.try_into() {
                Ok(raw) => raw,
                Err(e) => {
                    push(place, e.message().to_owned());
                    continue;
                }
            };
            if !is_rule_id(&raw.id) {
                push(
                    place.clone(),
                    format!(
                        "`{}` is not a rule id (capital letters then a number, e.g. A10)",
                        raw.id
                    ),
                );
            }
            for (key, text) in [
                ("title_vi", &raw.title_vi),
                ("title_en", &raw.title_en),
                ("source", &raw.source),
            ] {
                if text.trim().is_empty() {
                    push(place.clone(), format!("`{key}` is empty"));
                }
            }
            let tags: Vec<&str> = raw.certainty.split('/').collect();
            let mut seen = BTreeSet::new();
            if !tags
                .iter()
                .all(|t| matches!(*t, "V" | "S" | "M") && seen.insert(*t))
            {
                push(
                    place.clone(),
                    format!(
                        "certainty {:?} must be V, S or M, or distinct ones joined by `/` (V/S)",
                        raw.certainty
                    ),
                );
            }
            let mut read_date = |key: &str, value: Option<toml::Value>| {
                value.and_then(|v| {
                    let d = date_of(&v);
                    if d.is_none() {
                        push(
                            place.clone(),
                            format!("`{key}` = {v} is not a date (YYYY-MM-DD)"),
                        );
                    }
                    d
                })
            };
            let valid_from = read_date("valid_from", raw.valid_from);
            let valid_to = read_date("valid_to", raw.valid_to);
            if let (Some(from), Some(to)) = (valid_from, valid_to)
                && from > to
            {
                push(
                    place.clone(),
                    format!("valid_from {from} is after valid_to {to}"),
                );
            }
            if let Some(&first) = index.get(&raw.id) {
                push(
                    place,
                    format!("`{}` is listed twice (first at rule[{first}])", raw.id),
                );
                continue;
            }
            index.insert(raw.id.clone(), i);
            rules.push(CatalogueRule {
                id: raw.id,
                title_vi: raw.title_vi,
                title_en: raw.title_en,
                source: raw.source,
                certainty: raw.certainty,
                valid_from,
                valid_to,
                note: raw.note,
            });
        }
        rules.sort_by_key(|r| id_key(&r.id));
        let index = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        (Some(RuleCatalogue { rules, index }), problems)
    }

    /// Every rule, by letters then number (`A1`, `A2`, …, `A10`, …, `C1`, …).
    pub fn rules(&self) -> &[CatalogueRule] {
        &self.rules
    }

    /// The rule `id`, if the catalogue has it.
    pub fn get(&self, id: &str) -> Option<&CatalogueRule> {
        self.index.get(id).map(|&i| &self.rules[i])
    }

    /// Every cited rule id the catalogue lacks, and every rule set giving parameters to a
    /// rule outside the rule's own validity, each with its place.
    pub fn check_citations(&self, citations: &[Citation]) -> Vec<CitationProblem> {
        let mut problems = Vec::new();
        for c in citations {
            match self.get(&c.rule) {
                None => problems.push(CitationProblem {
                    citation: c.clone(),
                    unknown: true,
                    message: format!(
                        "rule `{}` is not in the rule catalogue (schemas/rules.toml)",
                        c.rule
                    ),
                }),
                Some(rule) => {
                    if let Some((from, to)) = c.in_force
                        && !rule.overlaps(from, to)
                    {
                        problems.push(CitationProblem {
                            citation: c.clone(),
                            unknown: false,
                            message: format!(
                                "rule `{}` is in force {}, outside the rule set's days ({from} to {})",
                                c.rule,
                                rule.validity(),
                                to.map_or_else(|| "open".to_owned(), |d| d.to_string())
                            ),
                        });
                    }
                }
            }
        }
        problems
    }
}

/// A rule id named somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The rule id.
    pub rule: String,
    /// The file (`workflows/admission.toml`, `rulesets/R2021.toml`) or `guard NAME`.
    pub file: String,
    /// Where in it (`transition branch_vote`, `param A8.vote_threshold`).
    pub place: String,
    /// For a rule-set parameter: the rule set's days.
    pub in_force: Option<(NaiveDate, Option<NaiveDate>)>,
}

/// A citation the catalogue does not support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitationProblem {
    /// The citation.
    pub citation: Citation,
    /// Whether the rule is missing from the catalogue (an error) rather than cited outside
    /// its validity (a warning).
    pub unknown: bool,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CitationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.citation.file, self.citation.place, self.message
        )
    }
}

/// The rule ids the definitions (transitions, states, deadlines), the rule sets (parameters)
/// and the guards of the registry name, each with where.
pub fn citations(definitions: &[Definition], rule_sets: &[RuleSet]) -> Vec<Citation> {
    let mut out = Vec::new();
    let mut cite = |rule: &str, file: &str, place: String, in_force| {
        out.push(Citation {
            rule: rule.to_owned(),
            file: file.to_owned(),
            place,
            in_force,
        });
    };
    for def in definitions {
        let file = &format!("workflow {}", def.id);
        for t in std::iter::once(&def.open).chain(&def.transitions) {
            for r in &t.rules {
                cite(r, file, format!("transition {}", t.name), None);
            }
        }
        for s in &def.states {
            for r in &s.rules {
                cite(r, file, format!("state {}", s.name), None);
            }
            for d in &s.deadlines {
                cite(
                    &d.rule,
                    file,
                    format!("state {} deadline {}", s.name, d.key),
                    None,
                );
            }
        }
    }
    for set in rule_sets {
        let file = &format!("rule set {}", set.id);
        for p in set.params() {
            cite(
                &p.rule,
                file,
                format!("param {}", p.id),
                Some((set.valid_from, set.valid_to)),
            );
        }
    }
    for g in GUARDS {
        for r in g.rules {
            cite(r, &format!("guard {}", g.name), "rules".to_owned(), None);
        }
    }
    out
}

/// The parameters each rule set gives rule `id`: (rule set id, its days, parameter ids).
pub fn parameters_of<'a>(
    id: &str,
    rule_sets: &'a [RuleSet],
) -> Vec<(&'a RuleSet, Vec<&'a crate::engine::Param>)> {
    rule_sets
        .iter()
        .map(|set| {
            let params = set.params().iter().filter(|p| p.rule == id).collect();
            (set, params)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_letters_then_a_number() {
        for good in ["A1", "A10", "D42", "S22", "AB3"] {
            assert!(is_rule_id(good), "{good}");
        }
        for bad in ["", "A", "1", "a1", "A01", "A1b", "A-1", "A 1"] {
            assert!(!is_rule_id(bad), "{bad}");
        }
    }

    #[test]
    fn ids_sort_by_letters_then_number() {
        let catalogue = RuleCatalogue::from_toml_str(
            r#"
            [[rule]]
            id = "A10"
            title_vi = "x"
            title_en = "x"
            source = "x"
            certainty = "V"
            [[rule]]
            id = "A2"
            title_vi = "x"
            title_en = "x"
            source = "x"
            certainty = "S/M"
            "#,
        )
        .unwrap();
        let ids: Vec<_> = catalogue.rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["A2", "A10"]);
        assert_eq!(catalogue.get("A10").unwrap().certainty, "V");
        assert!(catalogue.get("A3").is_none());
    }

    #[test]
    fn validity_overlap() {
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let mut rule = RuleCatalogue::committed().get("D11").unwrap().clone();
        assert_eq!(rule.valid_from, Some(ymd(2025, 6, 10)));
        assert!(rule.overlaps(ymd(2025, 7, 1), None));
        assert!(rule.overlaps(ymd(2025, 1, 20), Some(ymd(2025, 6, 10))));
        assert!(!rule.overlaps(ymd(2025, 1, 20), Some(ymd(2025, 6, 9))));
        rule.valid_to = Some(ymd(2025, 12, 31));
        assert!(!rule.overlaps(ymd(2026, 1, 1), None));
        assert_eq!(rule.validity(), "2025-06-10 to 2025-12-31");
    }
}
