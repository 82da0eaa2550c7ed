//! Mail templates: text files under `schemas/mail/`, one per kind and language
//! (`admission.decision_due_soon.vi.txt`, `....en.txt`), plus a footer per language
//! (`footer.vi.txt`), rendered with MiniJinja.
//!
//! A kind is a name the workflow definitions write (`template = "..."` in
//! `schemas/workflows/*.toml`) or one of the periodic jobs' own ([`JOB_KINDS`]). A file's first
//! line is the subject, the second is empty, the rest is the body; `{{ case }}` is a variable.
//! The variables a mail has depend on where it comes from ([`Source::variables`]); a variable
//! the worker does not give is an error when rendering (strict undefined), never a hole in a
//! mail, and `memberflow check` reports it with its file and line ([`check()`]).
//!
//! The files are loaded from the schemas directory or, without one, from the copies built
//! into the binary ([`embedded_files`]). See `docs/reminders.md` for editing them.

mod check;
mod embedded;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use memberflow_workflow::text::Lang;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

pub use check::{MailProblem, MailProblemCode, check, mail_uses};

/// The values of a mail's variables.
pub type Vars = BTreeMap<&'static str, String>;

/// A rendered mail text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Body, with the footer.
    pub body: String,
}

/// The kind whose files are appended to every body (`mail/footer.vi.txt`): a body of its
/// own, without a subject line.
pub const FOOTER: &str = "footer";

/// The value of a variable whose datum is missing (a case without a unit or a deadline).
pub const MISSING: &str = "–";

/// Where a mail comes from, which decides the variables its template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// About a case: a step's `send_mail` effect or a state's reminder.
    Case,
    /// A case's deadline passed: its `notify` mail.
    DeadlinePassed,
    /// The weekly digest of deadlines of a unit.
    Digest,
    /// The monthly branch meeting.
    Meeting,
    /// The monthly admission-target report.
    TargetReport,
    /// A periodic occasion of a unit: the quarterly thematic meeting, the annual rating.
    Occasion,
}

/// The variables of every mail about a case: `case` (its title), `unit` (name and code),
/// `state`, `due` (its earliest deadline), `decision` (the discipline it decided, as its
/// member is told it: form, number, date, body, receipt, lapse and appeal rights, one per
/// line), `date` (the day of the mail). Missing data is [`MISSING`].
pub const CASE_VARIABLES: &[&str] = &["case", "unit", "state", "due", "decision", "date"];

impl Source {
    /// Every variable the worker gives a mail from this source.
    pub fn variables(self) -> &'static [&'static str] {
        match self {
            Source::Case => CASE_VARIABLES,
            // `due`: the deadline that passed; `rule`: its rule id.
            Source::DeadlinePassed => &["case", "unit", "state", "due", "decision", "date", "rule"],
            // `week` (`2026-W48`), `count` and `items` (one line per deadline).
            Source::Digest => &["unit", "week", "count", "items", "date"],
            // `month` (`2026-11`).
            Source::Meeting => &["unit", "month", "date"],
            // `items`: the organizations furthest behind, one per line.
            Source::TargetReport => &[
                "unit",
                "month",
                "year",
                "members",
                "admitted",
                "target_low",
                "target_high",
                "on",
                "items",
                "date",
            ],
            // `period`: a quarter `2026-Q2` or a year.
            Source::Occasion => &["unit", "period", "date"],
        }
    }

    /// Every source.
    pub const ALL: [Source; 6] = [
        Source::Case,
        Source::DeadlinePassed,
        Source::Digest,
        Source::Meeting,
        Source::TargetReport,
        Source::Occasion,
    ];
}

/// The weekly digest's kind.
pub const DIGEST: &str = "digest.weekly";
/// The monthly meeting's kind.
pub const MEETING: &str = "meeting.monthly";
/// The admission-target report's kind.
pub const TARGET_REPORT: &str = "report.admission_target";
/// The quarterly thematic meeting's kind.
pub const THEMATIC_MEETING: &str = "meeting.thematic";
/// The annual rating's kind.
pub const ANNUAL_RATING: &str = "rating.annual";

/// The kinds the periodic jobs send whatever the definitions say, with their source.
pub const JOB_KINDS: &[(&str, Source)] = &[
    (DIGEST, Source::Digest),
    (MEETING, Source::Meeting),
    (TARGET_REPORT, Source::TargetReport),
    (THEMATIC_MEETING, Source::Occasion),
    (ANNUAL_RATING, Source::Occasion),
];

/// The languages, with the code their files are named with.
pub const LANGS: [(Lang, &str); 2] = [(Lang::Vi, "vi"), (Lang::En, "en")];

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "vi",
        Lang::En => "en",
    }
}

/// The committed files, built into the binary: (`mail/<kind>.<lang>.txt`, text).
pub fn embedded_files() -> Vec<(String, String)> {
    embedded::files()
}

/// A file's name taken apart: its kind and language code; `None` when it is not
/// `mail/<kind>.<lang>.txt` with a known language.
pub fn file_kind(name: &str) -> Option<(&str, &'static str)> {
    let stem = name.strip_prefix("mail/")?.strip_suffix(".txt")?;
    let (kind, lang) = stem.rsplit_once('.')?;
    let lang = LANGS.iter().map(|(_, c)| *c).find(|c| *c == lang)?;
    let valid = !kind.is_empty()
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !kind.starts_with('.')
        && !kind.ends_with('.');
    valid.then_some((kind, lang))
}

/// The kinds that have at least one well-named file: what `memberflow check` passes to the
/// core as the templates the worker has.
pub fn kinds_of(files: &[(String, String)]) -> Vec<String> {
    let set: BTreeSet<&str> = files
        .iter()
        .filter_map(|(n, _)| file_kind(n))
        .map(|(k, _)| k)
        .filter(|k| *k != FOOTER)
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// A template file's parts: the subject (none for the footer) and the body, each with the
/// file line it starts on.
#[derive(Debug, Clone)]
pub(crate) struct Parts {
    pub(crate) subject: Option<String>,
    pub(crate) body: String,
    /// The file line of the body's first line.
    pub(crate) body_line: usize,
}

/// Splits a file's text into subject and body; `Err`: what is wrong, with its line.
pub(crate) fn split(kind: &str, text: &str) -> Result<Parts, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n");
    if kind == FOOTER {
        let body = text.trim_end().to_owned();
        if body.trim().is_empty() {
            return Err((1, "the footer is empty".to_owned()));
        }
        return Ok(Parts {
            subject: None,
            body,
            body_line: 1,
        });
    }
    let mut lines = text.splitn(3, '\n');
    let subject = lines.next().unwrap_or_default().trim_end();
    if subject.trim().is_empty() {
        return Err((
            1,
            "the first line must be the subject; it is empty".to_owned(),
        ));
    }
    match lines.next() {
        Some(l) if l.trim().is_empty() => {}
        Some(_) => {
            return Err((
                2,
                "the second line must be empty: the first line is the subject, the body \
                 starts on the third"
                    .to_owned(),
            ));
        }
        None => return Err((2, "the body is missing".to_owned())),
    }
    let body = lines.next().unwrap_or_default().trim_end().to_owned();
    if body.trim().is_empty() {
        return Err((3, "the body is missing".to_owned()));
    }
    Ok(Parts {
        subject: Some(subject.to_owned()),
        body,
        body_line: 3,
    })
}

/// The template names in the environment of a file's subject and body.
fn subject_name(file: &str) -> String {
    format!("{file}#subject")
}

/// A template engine for mail: nothing escaped (plain text), an undefined variable an error.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env
}

/// The variables as a template context.
pub(crate) fn context<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::from_pairs(vars.into_iter().map(|(k, v)| (k, Value::from(v))))
}

/// A loaded file: its name and where its body starts.
#[derive(Debug, Clone)]
struct Loaded {
    file: String,
    has_subject: bool,
    body_line: usize,
}

/// The mail templates, parsed and ready to render.
pub struct MailTemplates {
    env: Environment<'static>,
    /// (kind, language code) → the file.
    files: BTreeMap<(String, &'static str), Loaded>,
}

impl fmt::Debug for MailTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailTemplates")
            .field("files", &self.files.values().map(|l| &l.file))
            .finish()
    }
}

/// Why a mail could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError(pub String);

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RenderError {}

impl MailTemplates {
    /// The committed templates, built into the binary.
    pub fn embedded() -> Self {
        Self::load(&embedded::files()).0
    }

    /// Parses `files` (`mail/<kind>.<lang>.txt`, text). Every file that cannot be used is a
    /// problem, and is left out; the others are loaded.
    pub fn load(files: &[(String, String)]) -> (Self, Vec<MailProblem>) {
        let mut env = environment();
        let mut loaded = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, text) in files {
            let Some((kind, lang)) = file_kind(name) else {
                problems.push(MailProblem::error(
                    MailProblemCode::FileName,
                    name,
                    None,
                    "a mail template is named `<kind>.<language>.txt`, the language `vi` or \
                     `en` (`admission.decision_due_soon.vi.txt`)",
                ));
                continue;
            };
            let parts = match split(kind, text) {
                Ok(p) => p,
                Err((line, message)) => {
                    problems.push(MailProblem::error(
                        MailProblemCode::Layout,
                        name,
                        Some(line),
                        message,
                    ));
                    continue;
                }
            };
            let mut ok = true;
            if let Some(subject) = &parts.subject
                && let Err(e) = env.add_template_owned(subject_name(name), subject.clone())
            {
                problems.push(MailProblem::from_engine(name, 1, &e));
                ok = false;
            }
            if let Err(e) = env.add_template_owned(name.clone(), parts.body.clone()) {
                problems.push(MailProblem::from_engine(name, parts.body_line, &e));
                ok = false;
            }
            if ok {
                loaded.insert(
                    (kind.to_owned(), lang),
                    Loaded {
                        file: name.clone(),
                        has_subject: parts.subject.is_some(),
                        body_line: parts.body_line,
                    },
                );
            }
        }
        (Self { env, files: loaded }, problems)
    }

    /// The kinds loaded (the footer aside), sorted.
    pub fn kinds(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .files
            .keys()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != FOOTER)
            .collect();
        set.into_iter().collect()
    }

    /// Renders `kind` in `lang` with `vars`, the footer appended to the body. A newline in
    /// the subject becomes a space.
    pub fn render(&self, kind: &str, lang: Lang, vars: &Vars) -> Result<Rendered, RenderError> {
        let code = lang_code(lang);
        let file = self
            .files
            .get(&(kind.to_owned(), code))
            .filter(|f| f.has_subject)
            .ok_or_else(|| {
                RenderError(format!("unknown mail template {kind} (language {code})"))
            })?;
        let footer = self
            .files
            .get(&(FOOTER.to_owned(), code))
            .ok_or_else(|| RenderError(format!("no mail footer (language {code})")))?;
        let ctx = context(vars.iter().map(|(k, v)| (*k, v.as_str())));
        let subject = self.render_one(&subject_name(&file.file), &file.file, 1, &ctx)?;
        let body = self.render_one(&file.file, &file.file, file.body_line, &ctx)?;
        let footer = self.render_one(&footer.file, &footer.file, footer.body_line, &ctx)?;
        Ok(Rendered {
            subject: subject.replace(['\r', '\n'], " "),
            body: format!("{body}\n\n{footer}\n"),
        })
    }

    fn render_one(
        &self,
        name: &str,
        file: &str,
        first_line: usize,
        ctx: &Value,
    ) -> Result<String, RenderError> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| RenderError(format!("{file}: {e}")))?;
        t.render(ctx).map_err(|e| {
            let line = e.line().map_or(first_line, |l| l + first_line - 1);
            RenderError(format!(
                "mail template {file}, line {line}: {}",
                engine_message(&e)
            ))
        })
    }

    /// The loaded files, for the checks.
    pub(crate) fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        self.files.iter().map(|((kind, _), l)| Entry {
            kind: kind.as_str(),
            file: l.file.as_str(),
            has_subject: l.has_subject,
            body_line: l.body_line,
            env: &self.env,
        })
    }
}

/// One loaded file, for the checks.
pub(crate) struct Entry<'a> {
    pub(crate) kind: &'a str,
    pub(crate) file: &'a str,
    pub(crate) has_subject: bool,
    pub(crate) body_line: usize,
    pub(crate) env: &'a Environment<'static>,
}

impl Entry<'_> {
    /// The file's templates with the file line each starts on.
    pub(crate) fn templates(&self) -> Vec<(minijinja::Template<'_, '_>, usize)> {
        let mut out = Vec::new();
        if self.has_subject
            && let Ok(t) = self.env.get_template(&subject_name(self.file))
        {
            out.push((t, 1));
        }
        if let Ok(t) = self.env.get_template(self.file) {
            out.push((t, self.body_line));
        }
        out
    }
}

/// The engine's message without its own "(in template:line)" suffix: we name the file and
/// line ourselves.
pub(crate) fn engine_message(e: &minijinja::Error) -> String {
    let kind = e.kind().to_string();
    match e.detail() {
        Some(d) => format!("{kind}: {d}"),
        None => kind,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
