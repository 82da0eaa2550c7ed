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

/// A submitted form's fields (the last value of a repeated name wins, but for a step's inputs,
/// `in.*`: their values one per line, as a list input is typed).
pub(crate) type Fields = HashMap<String, String>;

/// The form's fields, from `application/x-www-form-urlencoded` pairs.
pub(crate) fn fields(pairs: Vec<(String, String)>) -> Fields {
    let mut out = Fields::new();
    for (k, v) in pairs {
        match out.get_mut(&k) {
            Some(was) if k.starts_with("in.") => {
                was.push('\n');
                was.push_str(&v);
            }
            _ => {
                out.insert(k, v);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_steps_repeated_input_keeps_every_value_and_other_fields_the_last() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let f = fields(vec![
            pair("in.grounds", "on_behalf"),
            pair("csrf", "a"),
            pair("in.grounds", "court_sentence"),
            pair("csrf", "b"),
        ]);
        assert_eq!(f["in.grounds"], "on_behalf\ncourt_sentence");
        assert_eq!(f["csrf"], "b");
    }
}
