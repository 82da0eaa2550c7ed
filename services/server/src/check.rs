//! `memberflow check`: validates every calendar, rule set and workflow definition under
//! `schemas/` and reports every problem at once, each with its file.

use std::fmt;
use std::path::{Path, PathBuf};

use memberflow_workflow::calendar::WorkingCalendar;
use memberflow_workflow::engine::{CheckOptions, Definition, Problem, RuleBook, RuleSet};

/// The outcome of a check: the files looked at and the problems found.
#[derive(Debug, Default)]
pub struct Report {
    /// Files checked, relative to the schemas directory.
    pub files: Vec<String>,
    /// Problems, each naming its file and place.
    pub problems: Vec<String>,
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
        writeln!(
            f,
            "checked {} file(s): {} problem(s)",
            self.files.len(),
            self.problems.len()
        )
    }
}

fn toml_files(dir: &Path, report: &mut Report) -> Vec<PathBuf> {
    let mut files = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect::<Vec<_>>(),
        Err(e) => {
            report
                .problems
                .push(format!("{}: cannot be read: {e}", dir.display()));
            Vec::new()
        }
    };
    files.sort();
    files
}

fn read(path: &Path, name: &str, report: &mut Report) -> Option<String> {
    report.files.push(name.to_owned());
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) => {
            report.problems.push(format!("{name}: cannot be read: {e}"));
            None
        }
    }
}

fn push_problems(report: &mut Report, name: &str, problems: &[Problem]) {
    for p in problems {
        report.problems.push(format!(
            "{name}: {}: [{}] {}",
            p.place,
            p.code.as_str(),
            p.message
        ));
    }
}

/// Checks the schemas directory: `calendars/`, `rulesets/` and `workflows/`.
pub fn check_dir(dir: &Path) -> Report {
    let mut report = Report::default();

    for path in toml_files(&dir.join("calendars"), &mut report) {
        let name = relative(dir, &path);
        if let Some(src) = read(&path, &name, &mut report)
            && let Err(problems) = WorkingCalendar::from_toml_str(&src)
        {
            for p in problems {
                report.problems.push(format!("{name}: {p}"));
            }
        }
    }

    let mut sets = Vec::new();
    for path in toml_files(&dir.join("rulesets"), &mut report) {
        let name = relative(dir, &path);
        if let Some(src) = read(&path, &name, &mut report) {
            match RuleSet::from_toml_str(&src) {
                Ok(set) => sets.push(set),
                Err(problems) => push_problems(&mut report, &name, &problems),
            }
        }
    }
    let book = match RuleBook::new(sets) {
        Ok(book) => {
            push_problems(&mut report, "rulesets", &book.check_guard_parameters());
            Some(book)
        }
        Err(problems) => {
            push_problems(&mut report, "rulesets", &problems);
            None
        }
    };

    for path in toml_files(&dir.join("workflows"), &mut report) {
        let name = relative(dir, &path);
        if let Some(src) = read(&path, &name, &mut report) {
            match Definition::from_toml_str(&src) {
                Ok(def) => {
                    let mut options = CheckOptions::new();
                    if let Some(book) = &book {
                        options = options.rules(book);
                    }
                    push_problems(&mut report, &name, &def.check(&options));
                }
                Err(problems) => push_problems(&mut report, &name, &problems),
            }
        }
    }
    report
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .display()
        .to_string()
}
