//! Text inputs checked at the edge: a control character (U+0000–U+001F, U+007F–U+009F; tab,
//! line feed and carriage return excepted) in any string a request carries (its variables,
//! the arguments written in the query, defaults) is `VALIDATION` before any resolver runs.
//! PostgreSQL refuses NUL in text and SQLite would store it: both databases now see the same
//! request refused the same way.

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Name, Value as ConstValue};
use async_graphql_value::Value;

/// Where a control character was found (the variable or argument) and which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ControlCharacter {
    /// The variable or argument holding it.
    pub at: String,
    /// The character, as `U+0000`.
    pub code_point: String,
}

fn bad_char(s: &str) -> Option<char> {
    s.chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

fn found(at: &str, c: char) -> ControlCharacter {
    ControlCharacter {
        at: at.to_owned(),
        code_point: format!("U+{:04X}", u32::from(c)),
    }
}

fn in_const(at: &str, v: &ConstValue) -> Option<ControlCharacter> {
    match v {
        ConstValue::String(s) => bad_char(s).map(|c| found(at, c)),
        ConstValue::List(items) => items.iter().find_map(|i| in_const(at, i)),
        ConstValue::Object(map) => map.iter().find_map(|(k, v)| {
            bad_char(k)
                .map(|c| found(at, c))
                .or_else(|| in_const(at, v))
        }),
        _ => None,
    }
}

fn in_value(at: &str, v: &Value) -> Option<ControlCharacter> {
    match v {
        Value::String(s) => bad_char(s).map(|c| found(at, c)),
        Value::List(items) => items.iter().find_map(|i| in_value(at, i)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            bad_char(k)
                .map(|c| found(at, c))
                .or_else(|| in_value(at, v))
        }),
        _ => None,
    }
}

fn in_arguments(args: &[(Positioned<Name>, Positioned<Value>)]) -> Option<ControlCharacter> {
    args.iter()
        .find_map(|(name, v)| in_value(name.node.as_str(), &v.node))
}

fn in_directives(ds: &[Positioned<Directive>]) -> Option<ControlCharacter> {
    ds.iter().find_map(|d| in_arguments(&d.node.arguments))
}

fn in_field(f: &Field) -> Option<ControlCharacter> {
    in_arguments(&f.arguments)
        .or_else(|| in_directives(&f.directives))
        .or_else(|| in_selection_set(&f.selection_set.node))
}

fn in_selection_set(s: &SelectionSet) -> Option<ControlCharacter> {
    s.items.iter().find_map(|item| match &item.node {
        Selection::Field(f) => in_field(&f.node),
        Selection::FragmentSpread(f) => in_directives(&f.node.directives),
        Selection::InlineFragment(f) => in_directives(&f.node.directives)
            .or_else(|| in_selection_set(&f.node.selection_set.node)),
    })
}

/// The first control character in the strings of a parsed request, if any.
pub(crate) fn control_character(
    doc: &ExecutableDocument,
    variables: &async_graphql::Variables,
) -> Option<ControlCharacter> {
    if let Some(hit) = variables
        .iter()
        .find_map(|(name, v)| in_const(&format!("${name}"), v))
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
                    .and_then(|v| in_const(&format!("${}", d.node.name.node), &v.node))
            })
            .or_else(|| in_directives(&op.directives))
            .or_else(|| in_selection_set(&op.selection_set.node));
        if hit.is_some() {
            return hit;
        }
    }
    doc.fragments.values().find_map(|f| {
        in_directives(&f.node.directives).or_else(|| in_selection_set(&f.node.selection_set.node))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(query: &str, vars: serde_json::Value) -> Option<ControlCharacter> {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let vars = async_graphql::Variables::from_json(vars);
        control_character(&doc, &vars)
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
}
