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
}
