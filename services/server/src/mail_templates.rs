//! The mail templates under `schemas/mail/` (`<kind>.<lang>.txt`, see docs/reminders.md):
//! read beside the other schema files, checked with them by `memberflow check`, and handed
//! to the worker. A schemas directory without `mail/` uses the templates built into the
//! binary, as one without `rules.toml` uses the built-in catalogue.

use std::path::Path;
use std::sync::Arc;

use memberflow_worker::MailTemplates;
use memberflow_worker::templates;
use memberflow_workflow::engine::Definition;

use crate::check::Report;
use crate::config::Config;

/// The `*.txt` files of `dir/mail`, by name relative to `dir` (`mail/digest.weekly.vi.txt`);
/// `None` when `dir` has no `mail/` directory. Other files there are reported by the check.
pub(crate) fn read_dir(dir: &Path) -> (Option<Vec<(String, String)>>, Vec<String>) {
    let path = dir.join("mail");
    if !path.is_dir() {
        return (None, Vec::new());
    }
    let mut problems = Vec::new();
    let entries = match std::fs::read_dir(&path) {
        Ok(rd) => rd,
        Err(e) => {
            problems.push(format!("{}: cannot be read: {e}", path.display()));
            return (Some(Vec::new()), problems);
        }
    };
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut files = Vec::new();
    for f in names {
        let name = format!(
            "mail/{}",
            f.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        match std::fs::read_to_string(&f) {
            Ok(text) => files.push((name, text)),
            Err(e) => problems.push(format!("{name}: cannot be read: {e}")),
        }
    }
    (Some(files), problems)
}

/// Checks `files` against what `definitions` and the periodic jobs send, into `report`.
/// `from_dir`: the files are the directory's own (not the built-in ones beside a directory
/// of definitions), so a file nothing sends is worth a warning.
pub(crate) fn check(
    files: &[(String, String)],
    from_dir: bool,
    definitions: &[Definition],
    report: &mut Report,
) {
    let uses = templates::mail_uses(definitions);
    for p in templates::check(files, &uses, from_dir) {
        if p.error {
            report.problems.push(p.to_string());
        } else {
            report.warnings.push(p.to_string());
        }
    }
}

/// The mail templates the worker renders: from `schemas_dir/mail` when configured and
/// present, else the built-in ones. A file that cannot be used is an error (the start-up's
/// check of every schema file reports it first, with the rest).
pub fn load(config: &Config) -> anyhow::Result<Arc<MailTemplates>> {
    let files = match &config.schemas_dir {
        Some(dir) => match read_dir(dir) {
            (Some(files), problems) if problems.is_empty() => files,
            (Some(_), problems) => anyhow::bail!(
                "the mail templates cannot be read:\n  - {}",
                problems.join("\n  - ")
            ),
            (None, _) => templates::embedded_files(),
        },
        None => templates::embedded_files(),
    };
    let (loaded, problems) = MailTemplates::load(&files);
    if !problems.is_empty() {
        anyhow::bail!(
            "the mail templates are invalid:\n  - {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n  - ")
        );
    }
    Ok(Arc::new(loaded))
}
