//! The references of a definition to the outside world, checked against what the shell has: mail
//! templates, cron expressions, rule-set parameters (those the definition names and those its
//! guards read).

use std::collections::BTreeSet;
use std::fmt;

use crate::engine::definition::*;
use crate::engine::guards::{self};
use crate::engine::problem::{Problem, ProblemCode};
use crate::engine::ruleset::{ParamKind, RuleBook};

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

    /// Every rule-set parameter the definition reads: (parameter, kind, reader description).
    pub(crate) fn parameter_reads(&self) -> Vec<(String, ParamKind, String)> {
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
