//! Scalars parsed at the edge: calendar dates as `YYYY-MM-DD`, ids as UUIDs.

use async_graphql::{ID, InputValueError, InputValueResult, Scalar, ScalarType, Value};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use memberflow_workflow::text::Text;
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
            Value::String(s) => memberflow_workflow::calendar::parse_iso_date(s)
                .map(Date)
                .ok_or_else(|| InputValueError::custom(format!("not a date (YYYY-MM-DD): {s}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    /// Checked while the request is validated, so that a variable that is not a date is a
    /// request error (nothing runs) rather than a field error.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if memberflow_workflow::calendar::parse_iso_date(s).is_some())
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

/// Default and largest page size of every connection.
pub(crate) const DEFAULT_PAGE: i32 = 20;
pub(crate) const MAX_PAGE: i32 = 100;

/// The page size a client asked for, checked against the limit.
pub(crate) fn page_size(first: Option<i32>) -> Result<u64, ApiError> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    u64::try_from(first)
        .ok()
        .filter(|_| first <= MAX_PAGE)
        .ok_or_else(|| {
            ApiError::Validation(Text::new(
                format!("first phải từ 0 đến {MAX_PAGE}."),
                format!("first must be between 0 and {MAX_PAGE}."),
            ))
        })
}

/// The opaque cursor of a row whose key is a UUID (ids are UUID v7: their order is the
/// order of creation, which every connection pages in).
pub(crate) fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Reads a cursor made by [`encode_cursor`].
pub(crate) fn decode_cursor(c: &str) -> Result<Uuid, ApiError> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| {
            ApiError::Validation(Text::new(
                format!("Con trỏ phân trang không hợp lệ: {c}."),
                format!("Malformed pagination cursor: {c}."),
            ))
        })
}

/// How far ahead a date of the registry or the tree may be: a change is recorded when it is
/// decided, at most a year before it takes effect. (Far-future dates would also make the
/// statistics counters reach that year, one row per unit and year.)
pub(crate) const MAX_DAYS_AHEAD_REGISTRY: u64 = 366;

/// How far ahead a date given to a workflow step may be (a deferral's end, a planned
/// meeting): five years.
pub(crate) const MAX_DAYS_AHEAD_WORKFLOW: u64 = 5 * 366;

/// `VALIDATION` for a date more than `max_days` after `today`.
pub(crate) fn not_too_far_ahead(
    field: &str,
    date: NaiveDate,
    today: NaiveDate,
    max_days: u64,
) -> Result<(), ApiError> {
    match today.checked_add_days(chrono::Days::new(max_days)) {
        Some(limit) if date <= limit => Ok(()),
        _ => Err(ApiError::Validation(Text::new(
            format!(
                "{field}: ngày {} quá xa trong tương lai (tối đa {max_days} ngày kể từ hôm nay).",
                date.format("%d/%m/%Y")
            ),
            format!("{field}: {date} is too far ahead (at most {max_days} days from today)."),
        ))),
    }
}
