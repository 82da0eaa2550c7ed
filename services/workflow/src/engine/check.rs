//! Checking every workflow and rule-set file together, as `memberflow check` does.
//!
//! Each file is validated on its own, then against the others: rule sets must not overlap,
//! every parameter a guard or a definition reads must exist in every rule set, mail templates
//! and cron expressions must be known to the shell. Every problem of every file is reported,
//! each with the file it is in.

use std::collections::BTreeSet;
use std::fmt;

use super::definition::Definition;
use super::parse::{CheckOptions, CronValidator};
use super::problem::{Problem, ProblemCode, Severity};
use super::ruleset::{RuleBook, RuleSet};

/// A file's name (for messages) and text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Name shown with its problems, e.g. `schemas/workflows/admission.toml`.
    pub name: &'a str,
    /// Contents.
    pub text: &'a str,
}

/// A problem and the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// File name (or `rule book` for problems between rule sets).
    pub file: String,
    /// The problem.
    pub problem: Problem,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

/// What the shell supplies for the checks it alone can make.
#[derive(Clone, Copy, Default)]
pub struct ShellChecks<'a> {
    /// Known mail template names (`None`: not checked).
    pub templates: Option<&'a [&'a str]>,
    /// Cron parser (`None`: not checked).
    pub cron: Option<CronValidator<'a>>,
}

impl fmt::Debug for ShellChecks<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShellChecks")
            .field("templates", &self.templates)
            .field("cron", &self.cron.is_some())
            .finish()
    }
}

/// The result of checking every file.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Every problem found.
    pub problems: Vec<FileProblem>,
    /// The definitions that parsed.
    pub definitions: Vec<Definition>,
    /// The rule book, if every rule set parsed and none overlap.
    pub rules: Option<RuleBook>,
}

impl CheckReport {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.problem.severity == Severity::Error)
    }
}

/// Validates the given definitions and rule sets together.
pub fn check_sources(
    definitions: &[Source<'_>],
    rulesets: &[Source<'_>],
    shell: &ShellChecks<'_>,
) -> CheckReport {
    let mut problems = Vec::new();
    let mut push = |file: &str, ps: Vec<Problem>| {
        problems.extend(ps.into_iter().map(|problem| FileProblem {
            file: file.to_owned(),
            problem,
        }));
    };

    // Layers are resolved onto their bases first: every later check sees effective rule sets.
    let resolved = super::ruleset::layer::resolve(rulesets.iter().map(|s| (s.name, s.text)));
    let all_sets_parsed = resolved.problems.is_empty();
    for (file, p) in resolved.problems {
        push(&file, vec![p]);
    }
    let sets: Vec<(String, RuleSet)> = resolved.sets;
    for (file, set) in &sets {
        // Reference data read at run time is read here first, so that a malformed entry
        // fails `memberflow check`, not an inspection's conclusion (D42) or an award (A30).
        let place = format!("rule set {}", set.id);
        if let Err(e) = crate::violations::catalogue(set) {
            push(
                file,
                vec![Problem::error(
                    ProblemCode::InvalidValue,
                    &place,
                    e.to_string(),
                )],
            );
        }
        if let Err(t) = crate::badges::BadgeRules::from_rule_set(set) {
            push(
                file,
                vec![Problem::error(ProblemCode::InvalidValue, &place, t.en)],
            );
        }
    }
    let names: Vec<(String, String)> = sets
        .iter()
        .map(|(f, s)| (s.id.clone(), f.clone()))
        .collect();
    let book = match RuleBook::new(sets.into_iter().map(|(_, s)| s).collect()) {
        Ok(book) => {
            for p in book.check_guard_parameters() {
                let file = names
                    .iter()
                    .find(|(id, _)| p.place == format!("rule set {id}"))
                    .map_or_else(|| "rule book".to_owned(), |(_, f)| f.clone());
                push(&file, vec![p]);
            }
            Some(book)
        }
        Err(ps) => {
            push("rule book", ps);
            None
        }
    };

    let mut parsed = Vec::new();
    let mut seen = BTreeSet::new();
    for src in definitions {
        match Definition::from_toml_str(src.text) {
            Ok(def) => {
                if !seen.insert((def.id.clone(), def.version)) {
                    push(
                        src.name,
                        vec![Problem::error(
                            ProblemCode::DuplicateDefinition,
                            "definition",
                            format!("another file defines {} version {}", def.id, def.version),
                        )],
                    );
                }
                let mut options = CheckOptions::new();
                if let Some(t) = shell.templates {
                    options = options.templates(t);
                }
                if let Some(c) = shell.cron {
                    options = options.cron(c);
                }
                if let Some(b) = &book {
                    options = options.rules(b);
                }
                push(src.name, def.check(&options));
                parsed.push(def);
            }
            Err(ps) => push(src.name, ps),
        }
    }

    CheckReport {
        problems,
        definitions: parsed,
        rules: if all_sets_parsed { book } else { None },
    }
}
