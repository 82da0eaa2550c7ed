//! The GraphQL documents the console runs (`graphql/*.graphql`, checked against the schema by
//! a test), and what a response becomes for a page: data, or an error in the reader's words.

use memberflow_api::Lang;
use serde_json::Value;

pub(crate) const SESSION: &str = include_str!("../graphql/session.graphql");
pub(crate) const WORK: &str = include_str!("../graphql/work.graphql");
pub(crate) const BOARD: &str = include_str!("../graphql/board.graphql");
pub(crate) const CASE: &str = include_str!("../graphql/case.graphql");
pub(crate) const DISCIPLINE: &str = include_str!("../graphql/discipline.graphql");
pub(crate) const TARGETS: &str = include_str!("../graphql/targets.graphql");
pub(crate) const REGISTRY: &str = include_str!("../graphql/registry.graphql");
pub(crate) const ADMIN: &str = include_str!("../graphql/admin.graphql");
pub(crate) const IMPORT: &str = include_str!("../graphql/import.graphql");

/// Every document, by file name: what a test validates against the schema.
pub const DOCUMENTS: &[(&str, &str)] = &[
    ("session.graphql", SESSION),
    ("work.graphql", WORK),
    ("board.graphql", BOARD),
    ("case.graphql", CASE),
    ("discipline.graphql", DISCIPLINE),
    ("targets.graphql", TARGETS),
    ("registry.graphql", REGISTRY),
    ("admin.graphql", ADMIN),
    ("import.graphql", IMPORT),
];

/// One operation of a document, with the fragments it uses: what the console sends to the
/// schema. Sending the whole document would make the schema validate, and count the
/// complexity of, every operation in it for each request (async-graphql's limits apply to
/// the document, not to the operation run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The file it comes from.
    pub file: &'static str,
    /// The operation's name.
    pub name: String,
    /// The operation and its fragments, as GraphQL text.
    pub text: String,
}

/// The top-level definitions of a GraphQL document: `(keyword, name, text)`. Comments are
/// dropped; strings and block strings are kept whole (a brace inside one is not counted).
fn definitions(document: &str) -> Vec<(String, String, String)> {
    let chars: Vec<char> = document.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // Between definitions: blanks, commas and comments.
        if chars[i].is_whitespace() || chars[i] == ',' {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let mut depth = 0usize;
        let mut text = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '#' {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            if c == '"' {
                let block = chars[i..].starts_with(&['"', '"', '"']);
                let quote = if block { 3 } else { 1 };
                text.extend(&chars[i..i + quote]);
                i += quote;
                while i < chars.len() {
                    if chars[i] == '\\' && !block && i + 1 < chars.len() {
                        text.extend(&chars[i..i + 2]);
                        i += 2;
                        continue;
                    }
                    let closes = if block {
                        chars[i..].starts_with(&['"', '"', '"'])
                    } else {
                        chars[i] == '"'
                    };
                    if closes {
                        text.extend(&chars[i..i + quote]);
                        i += quote;
                        break;
                    }
                    text.push(chars[i]);
                    i += 1;
                }
                continue;
            }
            text.push(c);
            i += 1;
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        let mut words = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty());
        let (keyword, name) = if text.trim_start().starts_with('{') {
            ("query".to_owned(), String::new())
        } else {
            let k = words.next().unwrap_or_default().to_owned();
            (k, words.next().unwrap_or_default().to_owned())
        };
        debug_assert!(i > start);
        out.push((keyword, name, text));
    }
    out
}

/// The fragments a definition spreads (`...Name`, not `... on Type`).
fn spreads(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in text.split("...").skip(1) {
        let name: String = part
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && name != "on" && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Every operation of `document` (from `file`) with the fragments it uses, transitively.
pub fn split(file: &'static str, document: &str) -> Vec<Operation> {
    let defs = definitions(document);
    let fragment = |n: &str| {
        defs.iter()
            .find(|(k, name, _)| k == "fragment" && name == n)
            .map(|(_, _, t)| t.as_str())
    };
    defs.iter()
        .filter(|(k, _, _)| k != "fragment")
        .map(|(_, name, text)| {
            let mut used: Vec<String> = Vec::new();
            let mut todo = spreads(text);
            while let Some(f) = todo.pop() {
                if used.contains(&f) {
                    continue;
                }
                if let Some(t) = fragment(&f) {
                    todo.extend(spreads(t));
                }
                used.push(f);
            }
            let mut out = text.clone();
            for f in &used {
                if let Some(t) = fragment(f) {
                    out.push_str("\n\n");
                    out.push_str(t);
                }
            }
            out.push('\n');
            Operation {
                file,
                name: name.clone(),
                text: out,
            }
        })
        .collect()
}

/// Every operation of every document.
pub fn operations() -> &'static [Operation] {
    static OPS: std::sync::LazyLock<Vec<Operation>> = std::sync::LazyLock::new(|| {
        DOCUMENTS
            .iter()
            .flat_map(|(file, doc)| split(file, doc))
            .collect()
    });
    &OPS
}

/// The text to send for `operation` of `document`: the operation and its fragments alone
/// (the whole document if the operation is not one of the console's documents).
pub(crate) fn operation_text<'a>(document: &'a str, operation: &str) -> &'a str {
    match operations().iter().find(|o| o.name == operation) {
        Some(o) => o.text.as_str(),
        None => document,
    }
}

/// One reason of a refusal, as the API gives it.
#[derive(Debug, Clone)]
pub(crate) struct Reason {
    pub rule: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

/// An error of the API, for a page.
#[derive(Debug, Clone)]
pub(crate) struct GqlError {
    /// The stable code (`FORBIDDEN`, `TRANSITION_REFUSED`, ...).
    pub code: String,
    /// The message in the reader's language.
    pub message: String,
    /// A refusal's reasons, with their rule ids.
    pub reasons: Vec<Reason>,
}

impl GqlError {
    pub(crate) fn is(&self, code: &str) -> bool {
        self.code == code
    }
}

/// The `data` of a response, or its first error.
pub(crate) fn result(response: Value, lang: Lang) -> Result<Value, GqlError> {
    let Some(first) = response
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    else {
        return Ok(response.get("data").cloned().unwrap_or(Value::Null));
    };
    let ext = first.get("extensions");
    let text = |k: &str| ext.and_then(|e| e.get(k)).and_then(Value::as_str);
    let code = text("code").unwrap_or("INTERNAL").to_owned();
    let message = match lang {
        Lang::Vi => text("messageVi"),
        Lang::En => text("messageEn"),
    }
    .or_else(|| first.get("message").and_then(Value::as_str))
    .unwrap_or_default()
    .to_owned();
    let reasons = ext
        .and_then(|e| e.get("reasons"))
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .map(|r| Reason {
                    rule: r.get("rule").and_then(Value::as_str).map(str::to_owned),
                    field: r.get("field").and_then(Value::as_str).map(str::to_owned),
                    message: r
                        .get(match lang {
                            Lang::Vi => "vi",
                            Lang::En => "en",
                        })
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    Err(GqlError {
        code,
        message,
        reasons,
    })
}

/// A text field of a JSON object ("" when absent or null).
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// An optional text field.
pub(crate) fn opt<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An integer field (0 when absent).
pub(crate) fn i(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or_default()
}

/// A boolean field (false when absent).
pub(crate) fn b(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or_default()
}

/// An array field (empty when absent).
pub(crate) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_its_rule_ids_in_the_readers_language() {
        let response = serde_json::json!({
            "data": null,
            "errors": [{ "message": "x", "extensions": {
                "code": "TRANSITION_REFUSED", "messageVi": "Bị từ chối", "messageEn": "Refused",
                "reasons": [{ "rule": "A8", "field": "votes_for", "vi": "Chưa đủ 2/3", "en": "Short of 2/3" }]
            }}]
        });
        let e = result(response, Lang::Vi).unwrap_err();
        assert!(e.is("TRANSITION_REFUSED"));
        assert_eq!(e.message, "Bị từ chối");
        assert_eq!(e.reasons[0].rule.as_deref(), Some("A8"));
        assert_eq!(e.reasons[0].message, "Chưa đủ 2/3");
        let ok = result(
            serde_json::json!({ "data": { "today": "2023-01-01" } }),
            Lang::En,
        );
        assert_eq!(s(&ok.unwrap(), "today"), "2023-01-01");
    }

    #[test]
    fn an_operation_is_sent_with_the_fragments_it_uses_and_nothing_else() {
        let doc = r#"# A comment with a { brace
query A($x: ID!) { unit(id: $x) { ...U } }

query B { search(q: "a } b", note: """x { y""") { ... on Member { ...M } } }

fragment U on Unit { code ...N }
fragment N on Unit { name }
fragment M on Member { id }
mutation C { logout }
"#;
        let ops = split("t.graphql", doc);
        let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        let a = &ops[0].text;
        assert!(a.starts_with("query A($x: ID!)"), "{a}");
        assert!(
            a.contains("fragment U on Unit") && a.contains("fragment N on Unit"),
            "{a}"
        );
        assert!(!a.contains("fragment M") && !a.contains("query B"), "{a}");
        let b = &ops[1].text;
        assert!(
            b.contains(r#"q: "a } b""#) && b.contains(r#""""x { y""""#),
            "{b}"
        );
        assert!(
            b.contains("fragment M on Member") && !b.contains("fragment U"),
            "{b}"
        );
        assert_eq!(ops[2].text.trim(), "mutation C { logout }");
        assert!(!doc.is_empty() && !ops.iter().any(|o| o.text.contains("comment")));
    }

    #[test]
    fn every_operation_name_is_unique_across_the_documents() {
        let ops = operations();
        assert!(ops.len() > DOCUMENTS.len());
        for o in ops {
            assert!(!o.name.is_empty(), "an operation of {} has no name", o.file);
            assert_eq!(
                ops.iter().filter(|p| p.name == o.name).count(),
                1,
                "{} is named twice",
                o.name
            );
            assert_eq!(operation_text("", &o.name), o.text);
        }
    }
}
