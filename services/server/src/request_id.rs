//! Request ids: every HTTP request gets one — the client's `x-request-id` when it is a sane
//! token (1 to 128 letters, digits, `-`, `_`, `.`, `:`), else a new UUID v7. It is a field of the
//! request's log span (so every log line written while serving the request carries it), it is
//! sent back in the `x-request-id` response header, and every GraphQL error carries it as
//! `extensions.requestId`.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The header, in both directions.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The middleware: settles the id, puts it on the request (for the span) and the response,
/// and makes it [`current`] while the request is served.
pub async fn layer(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("-"));
    req.headers_mut().insert(HEADER, value.clone());
    let mut res = REQUEST_ID.scope(id, next.run(req)).await;
    res.headers_mut().insert(HEADER, value);
    res
}

/// The id of the request being served, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request's span: method, path and id (the id set by [`layer`], which runs first).
pub fn span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        uri = %req.uri().path(),
        request_id = %id,
    )
}

/// Adds `extensions.requestId` to every error of `response`.
pub fn tag_errors(response: &mut async_graphql::Response) {
    let Some(id) = current() else { return };
    for e in &mut response.errors {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("requestId", id.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_sane_ids_are_accepted_from_clients() {
        assert!(acceptable("0190b2c4-7d1e-7000-8000-000000000000"));
        assert!(acceptable("gw:abc_1.2"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable("new\nline"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
