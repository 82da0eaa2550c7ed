//! Values carried by events and recorded as facts on a case.
//!
//! The core does not depend on `serde_json`, yet the store persists a case as JSON and the API
//! receives event inputs as JSON. This small closed enum is the common currency: it is tagged
//! (`{"type": "date", "value": "2025-07-01"}`) so that a date stays a date after a round trip
//! through JSON instead of collapsing into a string.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The shape of a piece of case data, as guards read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// A date.
    Date,
    /// A whole number.
    Integer,
    /// Yes or no.
    Boolean,
    /// Text (strings, enum values, member and unit references).
    Text,
    /// A list.
    List,
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataType::Date => "a date",
            DataType::Integer => "an integer",
            DataType::Boolean => "a boolean",
            DataType::Text => "text",
            DataType::List => "a list",
        })
    }
}

/// A value given as an event input or recorded as a fact of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number (vote counts, rounds).
    Int(i64),
    /// Text, including member and unit references (their ids).
    Text(String),
    /// A calendar date (no time of day: every rule counts in days).
    Date(NaiveDate),
    /// A list of values of one type.
    List(Vec<Value>),
    /// Named values; not produced by the engine today, accepted for forward compatibility.
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// The name of this value's type, as used in refusal messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Text(_) => "string",
            Value::Date(_) => "date",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// The date, if this is a date.
    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Text(s) => write!(f, "{s}"),
            Value::Date(d) => write!(f, "{}", d.format("%d/%m/%Y")),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<NaiveDate> for Value {
    fn from(d: NaiveDate) -> Self {
        Value::Date(d)
    }
}

/// Named values: the inputs of an event, or the facts of a case.
pub type Values = BTreeMap<String, Value>;
