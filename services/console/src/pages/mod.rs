//! The pages, one module per page or flow.

pub(crate) mod admin;
pub(crate) mod board;
pub(crate) mod case;
pub(crate) mod discipline;
pub(crate) mod import;
pub(crate) mod login;
pub(crate) mod registry;
pub(crate) mod targets;
pub(crate) mod work;

use std::collections::HashMap;

/// A submitted form's fields (the last value of a repeated name wins).
pub(crate) type Fields = HashMap<String, String>;

/// The form's fields, from `application/x-www-form-urlencoded` pairs.
pub(crate) fn fields(pairs: Vec<(String, String)>) -> Fields {
    pairs.into_iter().collect()
}
