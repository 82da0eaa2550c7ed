//! The catalogue of violations (D42) and the circumstances an inspection records (D39–D41):
//! reference data read from the rule set in force, so that an administrator completes or
//! corrects them without a code change.
//!
//! `D42.violations` holds one entry per violation, `code|article|default form|label vi|label en`;
//! `D41.aggravating` and `D41.mitigating` list the circumstances' codes. The inspection names
//! the violation and the circumstances at `conclude_inspection`; the guard
//! `violation_in_catalogue` refuses a code or a circumstance the rule set does not list. The
//! form itself is what the ballot gives (D30–D33): the catalogue's form is the default the
//! voters weigh, with the circumstances recorded, not a constraint.

use crate::engine::{ParamError, RuleSet};
use crate::text::Text;

/// The forms of discipline of a member, least severe first (D2).
pub const FORMS: &[&str] = &["reprimand", "warning", "removal", "expulsion"];

/// The name of a form of discipline (D1, D2), for reports and lists: the vocabulary's label,
/// as a heading shows it.
pub fn form_label(form: &str) -> Text {
    match crate::vocab::DisciplineForm::parse(form) {
        Some(f) => f.heading(),
        None => Text::new(form, form),
    }
}

/// A violation of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Stable code, e.g. `69-41.2`.
    pub code: String,
    /// The article that describes it.
    pub article: String,
    /// The form the article sets for it.
    pub default_form: String,
    /// Vietnamese label.
    pub label_vi: String,
    /// English label.
    pub label_en: String,
}

/// A malformed catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// The parameter is missing or of another kind.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// An entry does not read `code|article|form|label vi|label en` with a known form.
    #[error(
        "entry `{0}` of D42.violations should read `code|article|form|label vi|label en` with a form among reprimand, warning, removal, expulsion"
    )]
    Entry(String),
}

/// The catalogue of the rule set, in its order.
pub fn catalogue(rs: &RuleSet) -> Result<Vec<Violation>, CatalogueError> {
    rs.text_list("D42.violations")?
        .iter()
        .map(|entry| {
            let parts: Vec<&str> = entry.split('|').map(str::trim).collect();
            match parts.as_slice() {
                [code, article, form, vi, en]
                    if !code.is_empty() && FORMS.contains(form) && !vi.is_empty() =>
                {
                    Ok(Violation {
                        code: (*code).to_owned(),
                        article: (*article).to_owned(),
                        default_form: (*form).to_owned(),
                        label_vi: (*vi).to_owned(),
                        label_en: (*en).to_owned(),
                    })
                }
                _ => Err(CatalogueError::Entry(entry.clone())),
            }
        })
        .collect()
}

/// The aggravating and the mitigating circumstances the rule set lists (D41).
pub fn circumstances(rs: &RuleSet) -> Result<(Vec<String>, Vec<String>), ParamError> {
    Ok((
        rs.text_list("D41.aggravating")?.to_vec(),
        rs.text_list("D41.mitigating")?.to_vec(),
    ))
}
