//! Text inputs checked at the edge: a control character (U+0000–U+001F, U+007F–U+009F; tab,
//! line feed and carriage return excepted) in any string a request carries (its variables,
//! the arguments written in the query, defaults) is `VALIDATION` before any resolver runs.
//! PostgreSQL refuses NUL in text and SQLite would store it: both databases now see the same
//! request refused the same way. The same walk refuses a string that poses as a file of a
//! multipart upload (`#__graphql_file__:N`) without the request carrying that file.

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Name, Value as ConstValue};
use async_graphql_value::Value;

/// Where a control character (or a stray upload marker) was found (the variable or
/// argument) and which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ControlCharacter {
    /// The variable or argument holding it.
    pub at: String,
    /// The character, as `U+0000`; `UPLOAD` for an upload marker naming no file.
    pub code_point: String,
}

/// The marker async-graphql's multipart reader puts where a file goes: `MARKER` and the
/// file's index. A string that looks like it but names no file of the request would make
/// the `Upload` scalar index out of its files: refused here instead.
const UPLOAD_MARKER: &str = "#__graphql_file__:";

/// What is wrong with `s`, if anything: a control character (`U+0000`), or an upload
/// marker naming none of the request's `uploads` files (`UPLOAD`).
fn bad_char(s: &str, uploads: usize) -> Option<String> {
    if let Some(i) = s.strip_prefix(UPLOAD_MARKER)
        && !i.parse::<usize>().is_ok_and(|i| i < uploads)
    {
        return Some("UPLOAD".to_owned());
    }
    s.chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

fn found(at: &str, code_point: String) -> ControlCharacter {
    ControlCharacter {
        at: at.to_owned(),
        code_point,
    }
}

fn in_const(at: &str, v: &ConstValue, u: usize) -> Option<ControlCharacter> {
    match v {
        ConstValue::String(s) => bad_char(s, u).map(|c| found(at, c)),
        ConstValue::List(items) => items.iter().find_map(|i| in_const(at, i, u)),
        ConstValue::Object(map) => map.iter().find_map(|(k, v)| {
            bad_char(k, u)
                .map(|c| found(at, c))
                .or_else(|| in_const(at, v, u))
        }),
        _ => None,
    }
}

fn in_value(at: &str, v: &Value, u: usize) -> Option<ControlCharacter> {
    match v {
        Value::String(s) => bad_char(s, u).map(|c| found(at, c)),
        Value::List(items) => items.iter().find_map(|i| in_value(at, i, u)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            bad_char(k, u)
                .map(|c| found(at, c))
                .or_else(|| in_value(at, v, u))
        }),
        _ => None,
    }
}

fn in_arguments(
    args: &[(Positioned<Name>, Positioned<Value>)],
    u: usize,
) -> Option<ControlCharacter> {
    args.iter()
        .find_map(|(name, v)| in_value(name.node.as_str(), &v.node, u))
}

fn in_directives(ds: &[Positioned<Directive>], u: usize) -> Option<ControlCharacter> {
    ds.iter().find_map(|d| in_arguments(&d.node.arguments, u))
}

fn in_field(f: &Field, u: usize) -> Option<ControlCharacter> {
    in_arguments(&f.arguments, u)
        .or_else(|| in_directives(&f.directives, u))
        .or_else(|| in_selection_set(&f.selection_set.node, u))
}

fn in_selection_set(s: &SelectionSet, u: usize) -> Option<ControlCharacter> {
    s.items.iter().find_map(|item| match &item.node {
        Selection::Field(f) => in_field(&f.node, u),
        Selection::FragmentSpread(f) => in_directives(&f.node.directives, u),
        Selection::InlineFragment(f) => in_directives(&f.node.directives, u)
            .or_else(|| in_selection_set(&f.node.selection_set.node, u)),
    })
}

/// The first control character in the strings of a parsed request, if any.
pub(crate) fn control_character(
    doc: &ExecutableDocument,
    variables: &async_graphql::Variables,
    uploads: usize,
) -> Option<ControlCharacter> {
    let u = uploads;
    if let Some(hit) = variables
        .iter()
        .find_map(|(name, v)| in_const(&format!("${name}"), v, u))
    {
        return Some(hit);
    }
    for (_, op) in doc.operations.iter() {
        let op = &op.node;
        let hit = op
            .variable_definitions
            .iter()
            .find_map(|d| {
                d.node
                    .default_value
                    .as_ref()
                    .and_then(|v| in_const(&format!("${}", d.node.name.node), &v.node, u))
            })
            .or_else(|| in_directives(&op.directives, u))
            .or_else(|| in_selection_set(&op.selection_set.node, u));
        if hit.is_some() {
            return hit;
        }
    }
    doc.fragments.values().find_map(|f| {
        in_directives(&f.node.directives, u)
            .or_else(|| in_selection_set(&f.node.selection_set.node, u))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(query: &str, vars: serde_json::Value) -> Option<ControlCharacter> {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let vars = async_graphql::Variables::from_json(vars);
        control_character(&doc, &vars, 0)
    }

    #[test]
    fn control_characters_are_found_wherever_a_string_is() {
        assert_eq!(
            check("{ a(x: \"ok\\tline\\n\") }", serde_json::json!({})),
            None
        );
        let hit = check("{ a(x: \"bad\\u0000\") }", serde_json::json!({})).unwrap();
        assert_eq!(hit.at, "x");
        assert_eq!(hit.code_point, "U+0000");
        let hit = check(
            "query($i: I) { a { b(input: $i) } }",
            serde_json::json!({ "i": { "inputs": { "name": ["ok", "x\u{7}"] } } }),
        )
        .unwrap();
        assert_eq!((hit.at.as_str(), hit.code_point.as_str()), ("$i", "U+0007"));
        let hit = check(
            "query { ...F } fragment F on Q { a(x: [\"\\u001b[31m\"]) }",
            serde_json::json!({}),
        )
        .unwrap();
        assert_eq!(hit.code_point, "U+001B");
        assert!(
            check(
                "query($s: String = \"\\u0085\") { a }",
                serde_json::json!({})
            )
            .is_some()
        );
    }

    #[test]
    fn an_upload_marker_without_its_file_is_refused() {
        let doc = async_graphql::parser::parse_query("mutation($f: Upload!) { a(f: $f) }").unwrap();
        let vars = |v: &str| async_graphql::Variables::from_json(serde_json::json!({ "f": v }));
        for (v, uploads) in [
            ("#__graphql_file__:0", 0),
            ("#__graphql_file__:x", 1),
            ("#__graphql_file__:1", 1),
        ] {
            let hit = control_character(&doc, &vars(v), uploads).unwrap();
            assert_eq!((hit.at.as_str(), hit.code_point.as_str()), ("$f", "UPLOAD"));
        }
        assert_eq!(
            control_character(&doc, &vars("#__graphql_file__:0"), 1),
            None
        );
    }
}
