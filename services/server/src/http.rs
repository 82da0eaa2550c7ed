//! The HTTP surface: `POST /graphql`, GraphiQL on `GET /graphql`, subscriptions over
//! WebSocket on `/graphql/ws` (graphql-transport-ws), `/healthz`, `/readyz` and `/metrics`,
//! with a request log line per request. Every request has an id (`x-request-id`, accepted or
//! made: `crate::request_id`) in its log span, its response header and its errors.

use std::sync::Arc;

use async_graphql::http::GraphiQLSource;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use std::net::SocketAddr;

use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use memberflow_api::{AppSchema, Clock, Lang};
use memberflow_store::Store;
use memberflow_workflow::access::Permission;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    schema: AppSchema,
    store: Store,
    clock: Arc<dyn Clock>,
    graphiql: bool,
    metrics: crate::metrics::Metrics,
}

/// What the router is built with.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Whether GraphiQL is served on `GET /graphql`.
    pub graphiql: bool,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed to call from a browser (CORS); empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// What `/metrics` shows (shared with the worker's observer).
    pub metrics: crate::metrics::Metrics,
}

/// Builds the router; a CORS origin that is not a valid header value is refused.
pub fn router(
    schema: AppSchema,
    store: Store,
    clock: Arc<dyn Clock>,
    options: HttpOptions,
) -> anyhow::Result<Router> {
    let state = AppState {
        schema,
        store,
        clock,
        graphiql: options.graphiql,
        metrics: options.metrics.clone(),
    };
    let router = Router::new()
        .route("/graphql", get(graphiql_page).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/charts/admissions/{file}", get(admissions_chart))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::request_id::span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn(crate::request_id::layer))
        .with_state(state);
    if options.cors_origins.is_empty() {
        return Ok(router);
    }
    let origins = options
        .cors_origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o)
                .map_err(|_| anyhow::anyhow!("graphql.cors_origins: `{o}` is not a valid origin"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(router.layer(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT_LANGUAGE,
            ])
            .max_age(std::time::Duration::from_secs(600)),
    ))
}

/// The bearer token of a WebSocket `connection_init` payload: `{"token": "..."}` or
/// `{"Authorization": "Bearer ..."}`.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    if let Some(t) = payload.get("token").and_then(|v| v.as_str()) {
        return Some(t.trim().to_owned());
    }
    payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
        .and_then(|v| v.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// Subscriptions over WebSocket (graphql-transport-ws and graphql-ws): the session logs in
/// with the token of its `connection_init` payload.
async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let mut data = async_graphql::Data::default();
                    if let Some(token) = init_token(&payload)
                        && let Some(auth) =
                            memberflow_api::authenticate(&state.store, state.clock.as_ref(), &token)
                                .await
                    {
                        data.insert(auth);
                    }
                    Ok(data)
                })
                .serve()
        })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The caller of a request. An unknown, expired or revoked token is the same as none: the
/// request runs as anonymous and whatever needs a login says so with `UNAUTHENTICATED`.
async fn auth_of(state: &AppState, headers: &HeaderMap) -> Option<memberflow_api::Auth> {
    match bearer(headers) {
        Some(token) => {
            memberflow_api::authenticate(&state.store, state.clock.as_ref(), token).await
        }
        None => None,
    }
}

fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}

/// An error response in GraphQL's shape, for requests that never reach the executor.
fn request_error(status: StatusCode, code: &str, vi: &str, en: &str, lang: Lang) -> Response {
    let message = match lang {
        Lang::Vi => vi,
        Lang::En => en,
    };
    let body = serde_json::json!({
        "data": null,
        "errors": [{
            "message": message,
            "extensions": { "code": code, "messageVi": vi, "messageEn": en,
                            "requestId": crate::request_id::current() }
        }]
    });
    (status, Json(body)).into_response()
}

async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let lang = lang_of(&headers);
    let started = std::time::Instant::now();
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            state
                .metrics
                .error(if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "PAYLOAD_TOO_LARGE"
                } else {
                    "BAD_REQUEST"
                });
            return if status == StatusCode::PAYLOAD_TOO_LARGE {
                request_error(
                    status,
                    "PAYLOAD_TOO_LARGE",
                    "Yêu cầu quá lớn so với giới hạn cho phép.",
                    "The request body is larger than the limit.",
                    lang,
                )
            } else {
                request_error(
                    status,
                    "BAD_REQUEST",
                    "Không đọc được nội dung yêu cầu.",
                    "The request body could not be read.",
                    lang,
                )
            };
        }
    };
    let parsed: Result<async_graphql::Request, _> = serde_json::from_slice(&body);
    let mut request = match parsed {
        Ok(r) if !r.query.trim().is_empty() => r,
        other => {
            state.metrics.error("BAD_REQUEST");
            tracing::debug!(error = ?other.err(), "malformed GraphQL request body");
            return request_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "Nội dung yêu cầu phải là một đối tượng JSON {\"query\": ..., \"variables\": ...} (không hỗ trợ gộp nhiều yêu cầu).",
                "The body must be one JSON object {\"query\": ..., \"variables\": ...} (batched requests are not supported).",
                lang,
            );
        }
    };
    let operation = crate::metrics::operation_of(&mut request);
    let auth = auth_of(&state, &headers).await;
    let mut response =
        memberflow_api::execute(&state.schema, request, lang, auth, Some(peer.ip())).await;
    state
        .metrics
        .graphql(&operation, started.elapsed(), &response);
    crate::request_id::tag_errors(&mut response);
    Json(response).into_response()
}

async fn graphiql_page(State(state): State<AppState>) -> Response {
    if !state.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("memberflow")
            .finish(),
    )
    .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let ops = match state.store.ops_snapshot(state.clock.today()).await {
        Ok(o) => Some(o),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database did not answer");
            None
        }
    };
    let body = state
        .metrics
        .render(ops.as_ref(), state.store.pool_usage(), state.clock.now());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `GET /charts/admissions/{code}.svg?from=YYYY&to=YYYY`: a unit's admissions against the
/// target band over the years, as SVG (docs/targets.md).
async fn admissions_chart(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<crate::report::ChartQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    // The chart shows a unit's admissions: the same right as the target report.
    let Some(auth) = auth_of(&state, &headers).await else {
        return request_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Hãy đăng nhập trước.",
            "Log in first.",
            lang,
        );
    };
    let code = file.strip_suffix(".svg").unwrap_or(&file);
    let today = state.clock.today();
    if let Ok(unit) = state.store.unit_by_code(code).await {
        match memberflow_api::access::permits(
            &state.store,
            &auth,
            Permission::ReadReports,
            unit.id,
            today,
        )
        .await
        {
            Ok(true) => {}
            Ok(false) => {
                return request_error(
                    StatusCode::FORBIDDEN,
                    "FORBIDDEN",
                    "Tài khoản của đồng chí không có quyền xem báo cáo của đơn vị này.",
                    "Your account may not read this unit's reports.",
                    lang,
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "chart authorization failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    }
    crate::report::chart_response(&state.store, today, &file, query, lang).await
}
