//! The one table of error codes, and the conversion of every failure into a GraphQL error
//! with `extensions.code`, `extensions.messageVi` and `extensions.messageEn`. The top-level
//! `message` is in the request's language (Vietnamese unless `Accept-Language` prefers
//! English). Internal failures are logged and reach the client as `INTERNAL` with no detail.

use async_graphql::{ErrorExtensions, Response, ServerError};
use memberflow_store::StoreError;
use memberflow_workflow::text::{Lang, Text};

/// The stable error codes clients can rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The thing asked for does not exist.
    NotFound,
    /// The input breaks a rule or is malformed; nothing was changed.
    Validation,
    /// The input clashes with the current state; nothing was changed.
    Conflict,
    /// An idempotency key was sent again with a different request (another case, transition,
    /// inputs or caller); nothing was changed.
    IdempotencyKeyReused,
    /// The caller is not logged in, or the credentials are wrong.
    Unauthenticated,
    /// The caller may not do this.
    Forbidden,
    /// The workflow refused the transition; the reasons name the rules.
    TransitionRefused,
    /// Too many logins or mutations in a short time, from this account or this address.
    RateLimited,
    /// The request is not valid GraphQL.
    GraphqlParseFailed,
    /// The request does not fit the schema.
    GraphqlValidationFailed,
    /// The query nests deeper than the limit.
    QueryTooDeep,
    /// The query costs more than the limit.
    QueryTooComplex,
    /// The request body is larger than the limit.
    PayloadTooLarge,
    /// Something failed on our side; the details are in the server's log.
    Internal,
}

impl Code {
    /// The code as it appears in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotFound => "NOT_FOUND",
            Code::Validation => "VALIDATION",
            Code::Conflict => "CONFLICT",
            Code::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::TransitionRefused => "TRANSITION_REFUSED",
            Code::RateLimited => "RATE_LIMITED",
            Code::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Code::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Code::QueryTooDeep => "QUERY_TOO_DEEP",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::Internal => "INTERNAL",
        }
    }
}

/// A failure in a resolver.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// From the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An id that is not a UUID.
    #[error("malformed {what} id {id}")]
    MalformedId {
        /// What it should identify.
        what: &'static str,
        /// What was given.
        id: String,
    },
    /// Bad input found by the API itself.
    #[error("invalid input: {}", .0.en)]
    Validation(Text),
    /// The caller's roles do not allow this.
    #[error("forbidden: {}", .0.en)]
    Forbidden(Text),
}

impl ApiError {
    /// The code and the bilingual message; internal failures are logged here.
    fn parts(&self) -> (Code, Vec<Text>) {
        match self {
            ApiError::Store(StoreError::NotFound { what, key }) => (
                Code::NotFound,
                vec![Text::new(
                    format!("Không tìm thấy {} {key}.", what_vi(what)),
                    format!("No {what} {key}."),
                )],
            ),
            ApiError::Store(StoreError::Validation(reasons)) => (Code::Validation, reasons.clone()),
            ApiError::Store(StoreError::Conflict(reason) | StoreError::Contended(reason)) => {
                (Code::Conflict, vec![reason.clone()])
            }
            ApiError::Store(StoreError::IdempotencyKeyReused(reason)) => {
                (Code::IdempotencyKeyReused, vec![reason.clone()])
            }
            ApiError::Store(StoreError::Unauthenticated(reason)) => {
                (Code::Unauthenticated, vec![reason.clone()])
            }
            ApiError::Store(
                e @ (StoreError::Database(_) | StoreError::Connect(_) | StoreError::Unreachable(_)),
            ) => {
                tracing::error!(error = %e, source = ?std::error::Error::source(e), "store failure");
                (Code::Internal, vec![internal_text()])
            }
            ApiError::MalformedId { what, id } => (
                Code::Validation,
                vec![Text::new(
                    format!("Mã định danh {} không hợp lệ: {id}.", what_vi(what)),
                    format!("Malformed {what} id: {id}."),
                )],
            ),
            ApiError::Validation(t) => (Code::Validation, vec![t.clone()]),
            ApiError::Forbidden(t) => (Code::Forbidden, vec![t.clone()]),
        }
    }

    /// The GraphQL error for a reader of `lang`.
    pub fn into_graphql(self, lang: Lang) -> async_graphql::Error {
        let (code, reasons) = self.parts();
        graphql_error(code, &reasons, lang)
    }
}

fn what_vi(what: &str) -> &'static str {
    match what {
        "unit" => "đơn vị",
        "member" => "đảng viên",
        "case" => "hồ sơ",
        "account" => "tài khoản",
        "hamlet or residential group" => "ấp, khu vực, tổ dân phố",
        _ => "đối tượng",
    }
}

fn internal_text() -> Text {
    Text::new(
        "Lỗi hệ thống; chi tiết đã được ghi vào nhật ký máy chủ.",
        "Internal error; the details are in the server's log.",
    )
}

fn join(reasons: &[Text], lang: Lang) -> String {
    reasons
        .iter()
        .map(|t| t.get(lang))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds a GraphQL error with the code and every reason in both languages.
pub(crate) fn graphql_error(code: Code, reasons: &[Text], lang: Lang) -> async_graphql::Error {
    let vi = join(reasons, Lang::Vi);
    let en = join(reasons, Lang::En);
    let message = join(reasons, lang);
    let reasons: Vec<async_graphql::Value> = reasons
        .iter()
        .map(|t| {
            let mut m = async_graphql::indexmap::IndexMap::new();
            m.insert(
                async_graphql::Name::new("vi"),
                async_graphql::Value::from(t.vi.clone()),
            );
            m.insert(
                async_graphql::Name::new("en"),
                async_graphql::Value::from(t.en.clone()),
            );
            async_graphql::Value::Object(m)
        })
        .collect();
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code.as_str());
        e.set("messageVi", vi.clone());
        e.set("messageEn", en.clone());
        e.set("reasons", async_graphql::Value::List(reasons.clone()));
    })
}

/// Converts a resolver's failure into a GraphQL error in the request's language.
pub(crate) trait OrGql<T> {
    fn gql(self, lang: Lang) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> OrGql<T> for Result<T, E> {
    fn gql(self, lang: Lang) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().into_graphql(lang))
    }
}

/// Gives a code to every error async-graphql raised by itself (parse, validation, limits,
/// input coercion), so that no error reaches a client without one.
pub fn finalize_response(mut resp: Response, lang: Lang) -> Response {
    for err in &mut resp.errors {
        let has_code = err
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if has_code {
            continue;
        }
        let (code, text) = classify(err);
        let msg = text.get(lang).to_owned();
        let detail = err.message.clone();
        let ext = err.extensions.get_or_insert_with(Default::default);
        ext.set("code", code.as_str());
        ext.set("messageVi", text.vi.clone());
        ext.set("messageEn", text.en.clone());
        if code == Code::Internal {
            tracing::error!(error = %detail, "unclassified GraphQL error");
        } else {
            ext.set("detail", detail);
        }
        err.message = msg;
    }
    resp
}

fn classify(err: &ServerError) -> (Code, Text) {
    let m = err.message.as_str();
    if m.contains("nested too deep") {
        (
            Code::QueryTooDeep,
            Text::new(
                "Truy vấn lồng quá sâu so với giới hạn cho phép.",
                "The query is nested deeper than the limit allows.",
            ),
        )
    } else if m.contains("too complex") {
        (
            Code::QueryTooComplex,
            Text::new(
                "Truy vấn quá phức tạp so với giới hạn cho phép; hãy yêu cầu ít trường hoặc ít bản ghi hơn.",
                "The query is more complex than the limit allows; ask for fewer fields or fewer records.",
            ),
        )
    } else if m.starts_with("Invalid value for argument")
        || m.starts_with("Failed to parse")
        || m.contains("Invalid value for")
        || m.starts_with("Expected input type")
        || m.contains("does not contain the value")
        || m.contains("not a date")
    {
        (
            Code::Validation,
            Text::new("Giá trị nhập không hợp lệ.", "An input value is invalid."),
        )
    } else if err.path.is_empty() {
        (
            Code::GraphqlValidationFailed,
            Text::new(
                "Truy vấn không khớp với lược đồ GraphQL.",
                "The query does not match the GraphQL schema.",
            ),
        )
    } else {
        (Code::Internal, internal_text())
    }
}

/// A refusal by the rules of something that is not a transition (the award of a badge): the
/// same shape as a refused transition, `TRANSITION_REFUSED` with `extensions.rules` and
/// `extensions.reasons`.
pub(crate) fn rules_refusal(
    what: &str,
    reasons: &[(&'static str, Text)],
    l: Lang,
) -> async_graphql::Error {
    use memberflow_workflow::engine::{Reason, Refusal, RefusalCode};
    let refusal = Refusal {
        transition: what.to_owned(),
        state: String::new(),
        reasons: reasons
            .iter()
            .map(|(rule, t)| {
                Reason::new(RefusalCode::GuardFailed, t.vi.clone(), t.en.clone()).with_rule(*rule)
            })
            .collect(),
    };
    crate::cases::refusal_error(&refusal, l)
}
