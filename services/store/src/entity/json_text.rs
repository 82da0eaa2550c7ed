//! A JSON column read as its text: no `serde_json::Value` tree is built for it, and the text is
//! decoded straight into the type that uses it, when it is used. The case's snapshot is such a
//! column: every step reads one and writes one.

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

/// The same text. (The stores keep it as written: PostgreSQL's `json` and SQLite's text.)
impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for JsonText {}
