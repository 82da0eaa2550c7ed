//! The files under `schemas/` (calendars, rule sets, workflow definitions, the rule catalogue
//! `rules.toml`, the mail templates `mail/*.txt`): loading them from a directory or from the
//! copies built into the binary, validating them all together with every problem reported at
//! once (`memberflow check`), and turning them into the engine's [`Catalog`].

use std::fmt;
use std::path::Path;

use memberflow_workflow::calendar::WorkingCalendar;
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::{Severity, ShellChecks, Source, check_sources};
use memberflow_workflow::rule_catalogue::{self, RuleCatalogue};

/// The files, by name relative to the schemas directory, with their text.
#[derive(Debug, Clone, Default)]
pub struct SchemaFiles {
    calendars: Vec<(String, String)>,
    rulesets: Vec<(String, String)>,
    workflows: Vec<(String, String)>,
    /// `rules.toml`; a directory without one is checked against the built-in catalogue.
    rules: Option<(String, String)>,
    /// `mail/*.txt`; a directory without `mail/` uses the built-in templates.
    mail: Vec<(String, String)>,
    /// Whether `mail` are the built-in templates beside a directory of definitions.
    mail_builtin: bool,
}

/// The copies built into the binary: a deployment without a `schemas/` directory still has
/// the committed definitions. A test checks that this list matches the directory.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("rules.toml", include_str!("../../../schemas/rules.toml")),
    (
        "calendars/vn.toml",
        include_str!("../../../schemas/calendars/vn.toml"),
    ),
    (
        "rulesets/R2016.toml",
        include_str!("../../../schemas/rulesets/R2016.toml"),
    ),
    (
        "rulesets/R2021.toml",
        include_str!("../../../schemas/rulesets/R2021.toml"),
    ),
    (
        "rulesets/R2025a.toml",
        include_str!("../../../schemas/rulesets/R2025a.toml"),
    ),
    (
        "rulesets/R2025a2.toml",
        include_str!("../../../schemas/rulesets/R2025a2.toml"),
    ),
    (
        "rulesets/R2025a3.toml",
        include_str!("../../../schemas/rulesets/R2025a3.toml"),
    ),
    (
        "rulesets/R2025b.toml",
        include_str!("../../../schemas/rulesets/R2025b.toml"),
    ),
    (
        "workflows/admission.toml",
        include_str!("../../../schemas/workflows/admission.toml"),
    ),
    (
        "workflows/transfer.toml",
        include_str!("../../../schemas/workflows/transfer.toml"),
    ),
    (
        "workflows/discipline_member.toml",
        include_str!("../../../schemas/workflows/discipline_member.toml"),
    ),
    (
        "workflows/discipline_organization.toml",
        include_str!("../../../schemas/workflows/discipline_organization.toml"),
    ),
    (
        "workflows/removal.toml",
        include_str!("../../../schemas/workflows/removal.toml"),
    ),
];

impl SchemaFiles {
    fn push(&mut self, name: String, text: String) {
        if name == "rules.toml" {
            self.rules = Some((name, text));
        } else if name.starts_with("calendars/") {
            self.calendars.push((name, text));
        } else if name.starts_with("rulesets/") {
            self.rulesets.push((name, text));
        } else {
            self.workflows.push((name, text));
        }
    }

    /// The files built into the binary.
    pub fn embedded() -> Self {
        let mut s = Self::default();
        for (name, text) in EMBEDDED {
            s.push((*name).to_owned(), (*text).to_owned());
        }
        s.mail = memberflow_worker::templates::embedded_files();
        s
    }

    /// The `*.toml` files of `dir/calendars`, `dir/rulesets` and `dir/workflows`, and the
    /// mail templates of `dir/mail`.
    pub fn from_dir(dir: &Path) -> (Self, Vec<String>) {
        let mut s = Self::default();
        let mut problems = Vec::new();
        if !dir.is_dir() {
            problems.push(format!("{}: not a directory", dir.display()));
        }
        let rules = dir.join("rules.toml");
        if rules.is_file() {
            match std::fs::read_to_string(&rules) {
                Ok(text) => s.push("rules.toml".to_owned(), text),
                Err(e) => problems.push(format!("rules.toml: cannot be read: {e}")),
            }
        }
        for sub in ["calendars", "rulesets", "workflows"] {
            let path = dir.join(sub);
            let entries = match std::fs::read_dir(&path) {
                Ok(rd) => rd,
                Err(e) => {
                    problems.push(format!("{}: cannot be read: {e}", path.display()));
                    continue;
                }
            };
            let mut files: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            files.sort();
            for f in files {
                let name = format!(
                    "{sub}/{}",
                    f.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                );
                match std::fs::read_to_string(&f) {
                    Ok(text) => s.push(name, text),
                    Err(e) => problems.push(format!("{name}: cannot be read: {e}")),
                }
            }
        }
        let (mail, mail_problems) = crate::mail_templates::read_dir(dir);
        problems.extend(mail_problems);
        match mail {
            Some(files) => s.mail = files,
            None => {
                s.mail = memberflow_worker::templates::embedded_files();
                s.mail_builtin = true;
            }
        }
        (s, problems)
    }

    /// Validates everything together and, when nothing is wrong, builds the catalog.
    pub fn check(&self) -> (Report, Option<Catalog>) {
        let mut report = Report::default();
        let mut calendar = None;
        for (name, text) in &self.calendars {
            report.files.push(name.clone());
            match WorkingCalendar::from_toml_str(text) {
                Ok(c) => {
                    // The Vietnamese calendar is the one deadlines use.
                    if calendar.is_none() || name.ends_with("/vn.toml") {
                        calendar = Some(c);
                    }
                }
                Err(ps) => report
                    .problems
                    .extend(ps.into_iter().map(|p| format!("{name}: {p}"))),
            }
        }
        if calendar.is_none() {
            report
                .problems
                .push("calendars: no working-day calendar".to_owned());
        }
        let defs: Vec<Source<'_>> = self
            .workflows
            .iter()
            .map(|(n, t)| Source { name: n, text: t })
            .collect();
        let sets: Vec<Source<'_>> = self
            .rulesets
            .iter()
            .map(|(n, t)| Source { name: n, text: t })
            .collect();
        report
            .files
            .extend(self.rulesets.iter().map(|(n, _)| n.clone()));
        report
            .files
            .extend(self.workflows.iter().map(|(n, _)| n.clone()));
        // The worker owns cron and the mail templates: every reminder's expression must parse
        // and every template a definition names must exist.
        let kinds = memberflow_worker::templates::kinds_of(&self.mail);
        let templates: Vec<&str> = kinds.iter().map(String::as_str).collect();
        let cron = |e: &str| memberflow_worker::validate_cron(e);
        let shell = ShellChecks {
            templates: Some(&templates),
            cron: Some(&cron),
        };
        let checked = check_sources(&defs, &sets, &shell);
        for p in &checked.problems {
            let line = p.to_string();
            match p.problem.severity {
                Severity::Error => report.problems.push(line),
                Severity::Warning => report.warnings.push(line),
            }
        }
        if !self.mail_builtin {
            report
                .files
                .extend(self.mail.iter().map(|(n, _)| n.clone()));
        }
        crate::mail_templates::check(
            &self.mail,
            !self.mail_builtin,
            &checked.definitions,
            &mut report,
        );
        // Every rule id a definition, rule set or guard names must be in the catalogue.
        let catalogue = match &self.rules {
            Some((name, text)) => {
                report.files.insert(0, name.clone());
                let (catalogue, ps) = RuleCatalogue::read(text);
                report
                    .problems
                    .extend(ps.into_iter().map(|p| format!("{name}: {p}")));
                catalogue
            }
            None => Some(RuleCatalogue::committed().clone()),
        };
        if let Some(catalogue) = catalogue {
            let sets = checked.rules.as_ref().map_or(&[][..], |b| b.sets());
            let cited = rule_catalogue::citations(&checked.definitions, sets);
            for p in catalogue.check_citations(&cited) {
                if p.unknown {
                    report.problems.push(p.to_string());
                } else {
                    report.warnings.push(p.to_string());
                }
            }
        }
        let catalog = match (report.is_ok(), checked.rules, calendar) {
            (true, Some(rules), Some(calendar)) => Some(Catalog {
                definitions: checked.definitions,
                rules,
                calendar,
            }),
            _ => None,
        };
        (report, catalog)
    }
}

/// The outcome of a check: the files looked at and the problems found.
#[derive(Debug, Default)]
pub struct Report {
    /// Files checked, relative to the schemas directory.
    pub files: Vec<String>,
    /// Errors, each naming its file and place.
    pub problems: Vec<String>,
    /// Warnings: worth a look, not fatal.
    pub warnings: Vec<String>,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.problems {
            writeln!(f, "error: {p}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        writeln!(
            f,
            "checked {} file(s): {} problem(s), {} warning(s)",
            self.files.len(),
            self.problems.len(),
            self.warnings.len()
        )
    }
}

/// Checks the schemas directory.
pub fn check_dir(dir: &Path) -> Report {
    let (files, read_problems) = SchemaFiles::from_dir(dir);
    let (mut report, _) = files.check();
    report.problems.splice(0..0, read_problems);
    report
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_files_are_exactly_the_committed_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
        let (files, problems) = SchemaFiles::from_dir(&dir);
        assert!(problems.is_empty(), "{problems:?}");
        let mut on_disk: Vec<(String, String)> = files
            .rules
            .into_iter()
            .chain(files.calendars)
            .chain(files.rulesets)
            .chain(files.workflows)
            .collect();
        on_disk.sort();
        let mut embedded: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        embedded.sort();
        assert_eq!(
            on_disk.iter().map(|f| &f.0).collect::<Vec<_>>(),
            embedded.iter().map(|f| &f.0).collect::<Vec<_>>(),
            "add new files under schemas/ to EMBEDDED in server/src/check.rs"
        );
        assert!(on_disk == embedded);
    }

    #[test]
    fn the_embedded_files_build_a_catalog() {
        let (report, catalog) = SchemaFiles::embedded().check();
        assert!(report.is_ok(), "{report}");
        assert!(catalog.is_some());
    }
}
