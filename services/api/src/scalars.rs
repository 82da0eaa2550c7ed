//! Scalars parsed at the edge: calendar dates as `YYYY-MM-DD`, ids as UUIDs.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;
use uuid::Uuid;

use crate::error::ApiError;

/// A calendar date, `YYYY-MM-DD`, with no time and no time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date in ISO 8601 form, `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom(format!("not a date (YYYY-MM-DD): {s}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

/// Parses a GraphQL id into the UUID it must be.
pub(crate) fn parse_id(id: &ID, what: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::MalformedId {
        what,
        id: id.to_string(),
    })
}

/// A UUID as a GraphQL id.
pub(crate) fn to_id(id: Uuid) -> ID {
    ID(id.to_string())
}
