//! A JSON column read as its text: no `serde_json::Value` tree is built when it is read, and
//! the text is decoded straight into the type that uses it, when it is used. The case's
//! snapshot is such a column: every step reads one, and writes the new one as text
//! (`cases/sql.rs`). (An insert through the entity's `ActiveModel`, as opening a case is,
//! still goes through a `serde_json::Value`, which sqlx binds as `jsonb`: off the step's path.)

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A JSON document as stored: its text, checked to be JSON when it was read.
#[derive(Clone, Debug, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
#[serde(transparent)]
pub struct JsonText(pub Box<RawValue>);

impl JsonText {
    /// The text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// `value` as JSON text.
    pub fn of<T: Serialize>(value: &T) -> serde_json::Result<Self> {
        serde_json::value::to_raw_value(value).map(Self)
    }
}

/// The same JSON value, however it is written: the same document written by a step (compact)
/// and read back from PostgreSQL after an insert bound as `jsonb` (spaced, keys reordered) is
/// the same.
impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
            || matches!(
                (
                    serde_json::from_str::<serde_json::Value>(self.get()),
                    serde_json::from_str::<serde_json::Value>(other.get()),
                ),
                (Ok(a), Ok(b)) if a == b
            )
    }
}

impl Eq for JsonText {}

#[cfg(test)]
mod tests {
    use super::JsonText;

    fn text(s: &str) -> JsonText {
        JsonText(
            serde_json::value::RawValue::from_string(s.to_owned())
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    #[test]
    fn the_same_document_written_two_ways_is_equal() {
        assert_eq!(
            text(r#"{"a":1,"b":[true]}"#),
            text(r#"{"b": [true], "a": 1}"#)
        );
        assert_ne!(text(r#"{"a":1}"#), text(r#"{"a":2}"#));
        assert_eq!(
            JsonText::of(&vec![1, 2]).map(|t| t.get().to_owned()).ok(),
            Some("[1,2]".to_owned())
        );
    }
}
