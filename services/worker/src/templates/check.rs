//! What `memberflow check` says of the mail templates: every kind the worker sends has both
//! languages, every file parses, uses only the variables its mails have (an unknown one is
//! reported with its file and line), and no file is left unused.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use memberflow_workflow::engine::{Definition, EffectSpec};

use super::{FOOTER, JOB_KINDS, LANGS, MailTemplates, Source, context, engine_message};

/// The stable machine code of a mail template problem. Tests and scripts match on these;
/// never rename one, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MailProblemCode {
    /// A file under `mail/` not named `<kind>.<language>.txt` with language `vi` or `en`.
    FileName,
    /// No subject on the first line, a second line that is not empty, or no body.
    Layout,
    /// The template does not parse (an unclosed `{{`, an unknown tag).
    Syntax,
    /// A variable its mails do not have (usually a typo).
    UnknownVariable,
    /// The template parses but fails when rendered (an unknown filter or test).
    Render,
    /// A kind the worker sends has a file in one language only.
    MissingLanguage,
    /// A kind the worker sends (or the footer) has no file at all.
    MissingTemplate,
    /// A file for a kind nothing sends.
    Unused,
}

impl MailProblemCode {
    /// The code as printed, e.g. `MAIL_UNKNOWN_VARIABLE`.
    pub fn as_str(self) -> &'static str {
        match self {
            MailProblemCode::FileName => "MAIL_FILE_NAME",
            MailProblemCode::Layout => "MAIL_LAYOUT",
            MailProblemCode::Syntax => "MAIL_SYNTAX",
            MailProblemCode::UnknownVariable => "MAIL_UNKNOWN_VARIABLE",
            MailProblemCode::Render => "MAIL_RENDER",
            MailProblemCode::MissingLanguage => "MAIL_MISSING_LANGUAGE",
            MailProblemCode::MissingTemplate => "MAIL_MISSING_TEMPLATE",
            MailProblemCode::Unused => "MAIL_UNUSED",
        }
    }
}

impl fmt::Display for MailProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem of a mail template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailProblem {
    /// The file, relative to the schemas directory (`mail/digest.weekly.vi.txt`).
    pub file: String,
    /// Its line, when the problem has one.
    pub line: Option<usize>,
    /// Stable machine code.
    pub code: MailProblemCode,
    /// An error (`false`: a warning).
    pub error: bool,
    /// What is wrong, in English.
    pub message: String,
}

impl MailProblem {
    pub(crate) fn error(
        code: MailProblemCode,
        file: &str,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            line,
            code,
            error: true,
            message: message.into(),
        }
    }

    /// A parse error of the engine, its line counted from `first_line` of the file.
    pub(crate) fn from_engine(file: &str, first_line: usize, e: &minijinja::Error) -> Self {
        let line = e.line().map_or(first_line, |l| l + first_line - 1);
        Self::error(MailProblemCode::Syntax, file, Some(line), engine_message(e))
    }
}

impl fmt::Display for MailProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = if self.error { "error" } else { "warning" };
        write!(f, "{}: {sev}[{}]", self.file, self.code)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every kind the worker sends, with where its mails come from: the definitions' mails
/// (`send_mail` effects and reminders are about a case, a deadline's `notify` has its rule
/// too) and the periodic jobs' own kinds.
pub fn mail_uses(definitions: &[Definition]) -> BTreeMap<String, BTreeSet<Source>> {
    let mut out: BTreeMap<String, BTreeSet<Source>> = BTreeMap::new();
    let mut add = |kind: &str, source: Source| {
        out.entry(kind.to_owned()).or_default().insert(source);
    };
    for d in definitions {
        for t in std::iter::once(&d.open).chain(&d.transitions) {
            for e in &t.effects {
                if let EffectSpec::SendMail(m) = e {
                    add(&m.template, Source::Case);
                }
            }
        }
        for s in &d.states {
            for dl in &s.deadlines {
                if let Some(m) = &dl.notify {
                    add(&m.template, Source::DeadlinePassed);
                }
            }
            for r in &s.reminders {
                add(&r.template, Source::Case);
            }
        }
    }
    for (kind, source) in JOB_KINDS {
        add(kind, *source);
    }
    out
}

/// The variables every one of `sources` gives.
fn common(sources: impl IntoIterator<Item = Source>) -> BTreeSet<&'static str> {
    let mut it = sources.into_iter();
    let Some(first) = it.next() else {
        return BTreeSet::new();
    };
    let mut set: BTreeSet<&'static str> = first.variables().iter().copied().collect();
    for s in it {
        let vars: BTreeSet<&'static str> = s.variables().iter().copied().collect();
        set = set.intersection(&vars).copied().collect();
    }
    set
}

/// Checks the mail template files against the kinds the worker sends (`uses`, from
/// [`mail_uses`]). `report_unused`: whether a file for a kind nothing sends is worth a
/// warning (not when the files are the built-in ones beside a directory of definitions).
/// A kind the definitions name that has no file at all is the core's `UNKNOWN_TEMPLATE`,
/// not repeated here.
pub fn check(
    files: &[(String, String)],
    uses: &BTreeMap<String, BTreeSet<Source>>,
    report_unused: bool,
) -> Vec<MailProblem> {
    let (templates, mut problems) = MailTemplates::load(files);
    let every: BTreeSet<&'static str> = Source::ALL
        .iter()
        .flat_map(|s| s.variables().iter().copied())
        .collect();
    for entry in templates.entries() {
        let allowed = if entry.kind == FOOTER {
            common(Source::ALL)
        } else {
            match uses.get(entry.kind) {
                Some(sources) => common(sources.iter().copied()),
                None => {
                    if report_unused {
                        problems.push(MailProblem {
                            file: entry.file.to_owned(),
                            line: None,
                            code: MailProblemCode::Unused,
                            error: false,
                            message: format!(
                                "no workflow definition or periodic job sends a mail `{}`",
                                entry.kind
                            ),
                        });
                    }
                    every.clone()
                }
            }
        };
        for (template, first_line) in entry.templates() {
            let used = template.undeclared_variables(false);
            let mut unknown: Vec<&String> = used
                .iter()
                .filter(|v| !allowed.contains(v.as_str()))
                .collect();
            unknown.sort();
            for var in &unknown {
                let line = locate(&template, &used, var).map(|l| l + first_line - 1);
                problems.push(MailProblem::error(
                    MailProblemCode::UnknownVariable,
                    entry.file,
                    line.or(Some(first_line)),
                    format!(
                        "`{var}` is not a variable of this mail; it may use {}",
                        allowed
                            .iter()
                            .map(|v| format!("`{v}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            // With every variable it names given, what else fails (an unknown filter).
            let ctx = context(used.iter().map(|v| (v.as_str(), "x")));
            if let Err(e) = template.render(ctx) {
                let line = e.line().map_or(first_line, |l| l + first_line - 1);
                problems.push(MailProblem::error(
                    MailProblemCode::Render,
                    entry.file,
                    Some(line),
                    engine_message(&e),
                ));
            }
        }
    }
    // Both languages of every kind the worker sends, and of the footer.
    let mut wanted: Vec<&str> = uses.keys().map(String::as_str).collect();
    wanted.push(FOOTER);
    for kind in wanted {
        // A file that exists but cannot be used has its own problem.
        let exists = |code: &str| {
            files
                .iter()
                .any(|(n, _)| *n == format!("mail/{kind}.{code}.txt"))
        };
        let present: Vec<&str> = LANGS
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| exists(c))
            .collect();
        for (_, code) in LANGS {
            if exists(code) {
                continue;
            }
            let file = format!("mail/{kind}.{code}.txt");
            if !present.is_empty() {
                problems.push(MailProblem::error(
                    MailProblemCode::MissingLanguage,
                    &file,
                    None,
                    format!(
                        "`{kind}` has a template in {} but none in this language",
                        present.join(", ")
                    ),
                ));
            } else if kind == FOOTER || JOB_KINDS.iter().any(|(k, _)| *k == kind) {
                problems.push(MailProblem::error(
                    MailProblemCode::MissingTemplate,
                    &file,
                    None,
                    format!("the worker sends `{kind}` mails but this file is missing"),
                ));
            }
        }
    }
    problems
}

/// The line (counted in the template) where `var` is first needed: the engine's own answer,
/// rendering with every other variable given; else the first line naming it.
fn locate(
    template: &minijinja::Template<'_, '_>,
    used: &std::collections::HashSet<String>,
    var: &str,
) -> Option<usize> {
    let ctx = context(
        used.iter()
            .filter(|v| v.as_str() != var)
            .map(|v| (v.as_str(), "x")),
    );
    if let Err(e) = template.render(ctx)
        && e.kind() == minijinja::ErrorKind::UndefinedError
        && let Some(line) = e.line()
    {
        return Some(line);
    }
    template
        .source()
        .lines()
        .position(|l| {
            l.match_indices(var).any(|(i, _)| {
                let before = l[..i].chars().next_back();
                let after = l[i + var.len()..].chars().next();
                let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                !word(before) && !word(after)
            })
        })
        .map(|i| i + 1)
}
