//! The HTTP surface: the web console at `/` (`memberflow-console`), `POST /graphql` and
//! `GET /graphql?query=…` (queries only) following the GraphQL-over-HTTP specification
//! (`application/graphql-response+json` when accepted, request errors with 400 under it, 415
//! for a POST that is not `application/json`), GraphiQL on a plain `GET /graphql` (its assets
//! served from the binary), subscriptions over WebSocket on `/graphql/ws`
//! (graphql-transport-ws), the admissions chart, the report downloads and the streamed
//! registry exports (`/exports/registry.{csv,xlsx}`, the `export` module), `/healthz`,
//! `/readyz` and `/metrics`, with a request log line per
//! request.

use std::sync::Arc;

use axum::body::Bytes;
use std::net::SocketAddr;

use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use memberflow_api::{AppSchema, Clock, Lang};
use memberflow_store::Store;
use memberflow_workflow::access::Permission;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

mod export;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    schema: AppSchema,
    store: Store,
    clock: Arc<dyn Clock>,
    graphiql: bool,
    metrics: crate::metrics::Metrics,
    max_body_bytes: usize,
    max_upload_bytes: usize,
}

/// What the router is built with.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Whether GraphiQL is served on `GET /graphql`.
    pub graphiql: bool,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest body of a request uploading a file (GraphQL multipart request), in bytes.
    pub max_upload_bytes: usize,
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
    let schema_for_console = schema.clone();
    let store_for_console = store.clone();
    let clock_for_console = clock.clone();
    let state = AppState {
        schema,
        store,
        clock,
        graphiql: options.graphiql,
        metrics: options.metrics.clone(),
        max_body_bytes: options.max_body_bytes,
        max_upload_bytes: options.max_upload_bytes,
    };
    let router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/charts/admissions/{file}", get(admissions_chart))
        .route("/reports/{file}", get(report_download))
        .route("/exports/{file}", get(export::download))
        .with_state(state)
        .merge(memberflow_console::router(
            memberflow_api::Gateway::new(schema_for_console, store_for_console, clock_for_console),
            options.max_upload_bytes,
        ))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(crate::request_id::span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn(crate::request_id::layer));
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
            GraphQLWebSocket::new(stream, memberflow_api::Guarded(schema), protocol)
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

/// The caller of a GET a browser makes from the console (a chart, a download): the bearer
/// token, else the console's session cookie. Only for GET routes that change nothing: a
/// cookie is never accepted on `POST /graphql`, so no other site can act with it.
async fn auth_of_browser(state: &AppState, headers: &HeaderMap) -> Option<memberflow_api::Auth> {
    if let Some(a) = auth_of(state, headers).await {
        return Some(a);
    }
    let token = memberflow_console::session_token(headers)?;
    memberflow_api::authenticate(&state.store, state.clock.as_ref(), token).await
}

/// The language and the caller of a download a browser makes: `lang` (`en`, or anything
/// else for Vietnamese) else the browser's, and the caller by [`auth_of_browser`]; without a
/// caller, the 401 response to give.
#[allow(clippy::result_large_err)]
async fn browser_caller(
    state: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
) -> Result<(Lang, memberflow_api::Auth), Response> {
    let lang = match lang {
        Some("en") => Lang::En,
        Some(_) => Lang::Vi,
        None => lang_of_browser(headers),
    };
    match auth_of_browser(state, headers).await {
        Some(auth) => Ok((lang, auth)),
        None => Err(request_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Hãy đăng nhập trước.",
            "Log in first.",
            lang,
        )),
    }
}

/// The reader's language for a browser: the console's remembered choice, else the header.
fn lang_of_browser(headers: &HeaderMap) -> Lang {
    let remembered = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("mf_lang="));
    match remembered {
        Some("en") => Lang::En,
        Some(_) => Lang::Vi,
        None => lang_of(headers),
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
    // A request error has no `data` entry at all (GraphQL over HTTP).
    let body = serde_json::json!({
        "errors": [{
            "message": message,
            "extensions": { "code": code, "messageVi": vi, "messageEn": en,
                            "requestId": crate::request_id::current() }
        }]
    });
    (status, Json(body)).into_response()
}

/// Whether a POST body is a GraphQL multipart request (a file upload).
fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// The body, read up to `limit` bytes: `413` beyond, `400` when it cannot be read.
async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, StatusCode> {
    use http_body_util::BodyExt as _;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => Err(StatusCode::BAD_REQUEST),
    }
}

async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let lang = lang_of(&headers);
    let media = media_of(&headers);
    let started = std::time::Instant::now();
    // A file upload (at most `max_upload_bytes`) is spooled to a temporary file as it
    // arrives; anything else is read whole, at most `max_body_bytes`.
    if is_multipart(&headers) {
        return graphql_multipart(&state, peer, &headers, body, media, started).await;
    }
    let body = match read_body(body, state.max_body_bytes).await {
        Ok(b) => b,
        Err(status) => return body_refused(&state, status, lang, media),
    };
    if !is_json(&headers) {
        state.metrics.error("BAD_REQUEST");
        return in_media(
            request_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "BAD_REQUEST",
                "Nội dung yêu cầu phải có Content-Type: application/json.",
                "The request body must be sent with Content-Type: application/json.",
                lang,
            ),
            media,
        );
    }
    let parsed: Result<async_graphql::Request, _> = serde_json::from_slice(&body);
    let mut request = match parsed {
        Ok(r) if !r.query.trim().is_empty() => r,
        other => {
            state.metrics.error("BAD_REQUEST");
            tracing::debug!(error = ?other.err(), "malformed GraphQL request body");
            return in_media(
                request_error(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "Nội dung yêu cầu phải là một đối tượng JSON {\"query\": ..., \"variables\": ...} (không hỗ trợ gộp nhiều yêu cầu).",
                    "The body must be one JSON object {\"query\": ..., \"variables\": ...} (batched requests are not supported).",
                    lang,
                ),
                media,
            );
        }
    };
    let parsed = memberflow_api::parse(&state.schema, &mut request);
    run_graphql(&state, peer, &headers, (request, parsed), media, started).await
}

/// The refusal of a body over its limit (`413 PAYLOAD_TOO_LARGE`) or unreadable (`400`).
fn body_refused(state: &AppState, status: StatusCode, lang: Lang, media: Media) -> Response {
    let too_large = status == StatusCode::PAYLOAD_TOO_LARGE;
    state.metrics.error(if too_large {
        "PAYLOAD_TOO_LARGE"
    } else {
        "BAD_REQUEST"
    });
    let refusal = if too_large {
        request_error(
            StatusCode::PAYLOAD_TOO_LARGE,
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
    in_media(refusal, media)
}

/// A request body as a reader, at most `limit` bytes: beyond, the reading fails and `over`
/// is set (the multipart parser only sees an I/O error).
fn limited_reader(
    body: axum::body::Body,
    limit: usize,
    over: Arc<std::sync::atomic::AtomicBool>,
) -> impl futures::io::AsyncRead + Send + Unpin {
    use futures::TryStreamExt as _;
    let mut seen: usize = 0;
    body.into_data_stream()
        .map_err(|e| std::io::Error::other(e.to_string()))
        .and_then(move |chunk: Bytes| {
            seen = seen.saturating_add(chunk.len());
            let result = if seen > limit {
                over.store(true, std::sync::atomic::Ordering::SeqCst);
                Err(std::io::Error::other("the upload is larger than the limit"))
            } else {
                Ok(chunk)
            };
            std::future::ready(result)
        })
        .into_async_read()
}

/// A GraphQL multipart request (a file upload: `operations`, `map`, the file): one
/// operation, one file, the whole body at most the limit of uploads. The file is written to
/// an anonymous temporary file as it arrives (the parser's), so memory does not grow with
/// it; a body over the limit stops the reading with `413 PAYLOAD_TOO_LARGE`, before anything
/// runs, and its temporary file is gone with it.
async fn graphql_multipart(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: axum::body::Body,
    media: Media,
    started: std::time::Instant,
) -> Response {
    let lang = lang_of(headers);
    let limit = state.max_upload_bytes;
    // A declared length over the limit is refused without reading a byte.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return body_refused(state, StatusCode::PAYLOAD_TOO_LARGE, lang, media);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let options = async_graphql::http::MultipartOptions::default()
        .max_num_files(1)
        .max_file_size(limit);
    let over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = limited_reader(body, limit, over.clone());
    let request = async_graphql::http::receive_body(content_type, reader, options).await;
    if over.load(std::sync::atomic::Ordering::SeqCst)
        || matches!(
            request,
            Err(async_graphql::ParseRequestError::PayloadTooLarge)
        )
    {
        return body_refused(state, StatusCode::PAYLOAD_TOO_LARGE, lang, media);
    }
    match request {
        // One file a request: the operations take one.
        Ok(mut r) if !r.query.trim().is_empty() && r.uploads.len() <= 1 => {
            let parsed = memberflow_api::parse(&state.schema, &mut r);
            run_graphql(state, peer, headers, (r, parsed), media, started).await
        }
        other => {
            state.metrics.error("BAD_REQUEST");
            tracing::debug!(error = ?other.err(), "malformed GraphQL multipart request");
            in_media(
                request_error(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "Yêu cầu tải tệp phải theo chuẩn GraphQL multipart: các phần operations, map và đúng một tệp.",
                    "A file upload must be a GraphQL multipart request: the parts operations, map and exactly one file.",
                    lang,
                ),
                media,
            )
        }
    }
}

/// How a GraphQL response is written: `application/graphql-response+json` when the client
/// accepts it, `application/json` otherwise (the legacy type, also without `Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json; charset=utf-8";

fn media_of(headers: &HeaderMap) -> Media {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    if accept.contains("application/graphql-response+json") {
        Media::GraphqlResponse
    } else {
        Media::Json
    }
}

/// Whether a POST body is declared `application/json` (parameters such as `charset` aside).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The response in the media type the client asked for.
fn in_media(mut response: Response, media: Media) -> Response {
    if media == Media::GraphqlResponse {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(GRAPHQL_RESPONSE),
        );
    }
    response
}

/// Runs a GraphQL request and writes its response: under `application/graphql-response+json`
/// a request error (the query did not parse or validate, a variable did not fit) is a 400
/// without `data`; under `application/json` every response that executed or not is a 200.
async fn run_graphql(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    (mut request, parsed): (async_graphql::Request, memberflow_api::Parsed),
    media: Media,
    started: std::time::Instant,
) -> Response {
    let lang = lang_of(headers);
    // A document that does not parse is not parsed again for its label.
    let operation = if parsed.parses() {
        crate::metrics::operation_of(&mut request)
    } else {
        "invalid".to_owned()
    };
    let auth = auth_of(state, headers).await;
    let peer = Some(peer.ip());
    let mut response =
        memberflow_api::execute_parsed(&state.schema, request, parsed, lang, auth, peer).await;
    state
        .metrics
        .graphql(&operation, started.elapsed(), &response);
    crate::request_id::tag_errors(&mut response);
    if media == Media::Json {
        return Json(response).into_response();
    }
    let request_error = memberflow_api::is_request_error(&response);
    let mut body = serde_json::to_value(&response).unwrap_or_default();
    let status = if request_error {
        if let Some(o) = body.as_object_mut() {
            o.remove("data");
        }
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    in_media((status, Json(body)).into_response(), media)
}

/// The parameters of `GET /graphql`.
#[derive(Debug, serde::Deserialize)]
struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// `GET /graphql`: with a `query` parameter, runs it if it is a query (a mutation or a
/// subscription over GET is 405); without, GraphiQL.
async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<axum::extract::Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let lang = lang_of(&headers);
    let media = media_of(&headers);
    let bad = |vi: &str, en: &str| {
        in_media(
            request_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", vi, en, lang),
            media,
        )
    };
    let Ok(axum::extract::Query(params)) = params else {
        return bad(
            "Tham số của yêu cầu không đọc được.",
            "The request's parameters could not be read.",
        );
    };
    let Some(query) = params.query.filter(|q| !q.trim().is_empty()) else {
        return graphiql_page(State(state)).await;
    };
    let started = std::time::Instant::now();
    let mut request = async_graphql::Request::new(query);
    if let Some(op) = params.operation_name.filter(|o| !o.is_empty()) {
        request = request.operation_name(op);
    }
    if let Some(v) = params.variables.filter(|v| !v.is_empty() && v != "null") {
        match serde_json::from_str::<serde_json::Value>(&v) {
            Ok(v @ serde_json::Value::Object(_)) => {
                request = request.variables(async_graphql::Variables::from_json(v));
            }
            _ => {
                return bad(
                    "variables phải là một đối tượng JSON.",
                    "variables must be a JSON object.",
                );
            }
        }
    }
    if let Some(e) = params.extensions.filter(|e| !e.is_empty() && e != "null")
        && !matches!(
            serde_json::from_str::<serde_json::Value>(&e),
            Ok(serde_json::Value::Object(_))
        )
    {
        return bad(
            "extensions phải là một đối tượng JSON.",
            "extensions must be a JSON object.",
        );
    }
    let parsed = memberflow_api::parse(&state.schema, &mut request);
    if parsed.parses() && memberflow_api::changes_or_streams(&mut request) {
        let mut r = in_media(
            request_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BAD_REQUEST",
                "Thao tác thay đổi dữ liệu chỉ được gửi bằng POST.",
                "Mutations (and subscriptions) are accepted over POST only.",
                lang,
            ),
            media,
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    run_graphql(&state, peer, &headers, (request, parsed), media, started).await
}

async fn graphiql_page(State(state): State<AppState>) -> Response {
    if !state.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    memberflow_console::graphiql_page("/graphql").into_response()
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
    let body = state.metrics.render(
        ops.as_ref(),
        state.store.pool_usage(),
        memberflow_api::documents_kept(&state.schema),
        state.clock.now(),
    );
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
    // The chart shows a unit's admissions: the same right as the target report.
    let (lang, auth) = match browser_caller(&state, &headers, None).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let code = file.strip_suffix(".svg").unwrap_or(&file);
    let today = state.clock.today();
    if let Ok(unit) = state.store.tree().unit_by_code(code).await
        && let Err(refused) = may_read_reports(&state, &auth, Some(unit.id), lang).await
    {
        return refused;
    }
    crate::report::chart_response(&state.store, today, &file, query, lang).await
}

/// Whether `auth` may read the reports of `unit` (of the whole organization when `None`).
async fn may_read_reports(
    state: &AppState,
    auth: &memberflow_api::Auth,
    unit: Option<uuid::Uuid>,
    lang: Lang,
) -> Result<(), Response> {
    let today = state.clock.today();
    let allowed = match unit {
        Some(u) => {
            memberflow_api::access::permits(&state.store, auth, Permission::ReadReports, u, today)
                .await
        }
        None => Ok(matches!(
            memberflow_workflow::access::scope(&auth.principal.grants(), Permission::ReadReports),
            memberflow_workflow::access::Scope::Everywhere
        )),
    };
    match allowed {
        Ok(true) => Ok(()),
        Ok(false) => Err(request_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "Tài khoản của đồng chí không có quyền xem báo cáo của đơn vị này.",
            "Your account may not read this unit's reports.",
            lang,
        )),
        Err(e) => {
            tracing::error!(error = %e, "report authorization failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

/// The query string of a report download.
#[derive(Debug, Default, serde::Deserialize)]
struct ReportQuery {
    unit: Option<String>,
    year: Option<i32>,
    depth: Option<u32>,
    /// For `without-admission`: how many years back (5 by default).
    years: Option<u32>,
    on: Option<chrono::NaiveDate>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    lang: Option<String>,
    /// `0` for a CSV without the byte-order mark Excel on Windows needs (with it by default).
    bom: Option<u8>,
}

/// `GET /reports/{kind}.{csv|xlsx}?unit=CODE&…`: a report of `memberflow report` as a file
/// (the same figures and words), for whoever may read the unit's reports; a browser sends the
/// console's session.
async fn report_download(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReportQuery>,
    headers: HeaderMap,
) -> Response {
    use crate::report::{Common, Format, LangArg, Period, ReportCommand};
    let (lang, auth) = match browser_caller(&state, &headers, q.lang.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some((kind, ext)) = file.rsplit_once('.') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (format, mime) = match ext {
        "csv" => (Format::Csv, "text/csv; charset=utf-8"),
        "xlsx" => (
            Format::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let unit = match q.unit.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(code) => match state.store.tree().unit_by_code(code).await {
            Ok(u) => Some(u),
            Err(_) => {
                return request_error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "Không có đơn vị này.",
                    "No such unit.",
                    lang,
                );
            }
        },
    };
    if let Err(refused) = may_read_reports(&state, &auth, unit.as_ref().map(|u| u.id), lang).await {
        return refused;
    }
    let dir = std::env::temp_dir().join(format!("memberflow-report-{}", uuid::Uuid::now_v7()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        tracing::error!(error = %e, "no directory for a report");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let path = dir.join(&file);
    let common = Common {
        unit: unit.as_ref().map(|u| u.code.clone()),
        format,
        lang: match lang {
            Lang::Vi => LangArg::Vi,
            Lang::En => LangArg::En,
        },
        output: Some(path.clone()),
        // The mark is for a CSV opened in Excel; an XLSX has none (the report refuses one).
        bom: format == Format::Csv && q.bom != Some(0),
    };
    let period = Period {
        from: q.from,
        to: q.to,
    };
    let today = state.clock.today();
    let command = match kind {
        "targets" => ReportCommand::Targets {
            year: q.year.unwrap_or(chrono::Datelike::year(&today)),
            depth: q.depth.unwrap_or(1).clamp(1, 6),
            at_risk: 10,
            common,
        },
        "members" => ReportCommand::Members { on: q.on, common },
        "admissions" => ReportCommand::Admissions { period, common },
        "discipline" => ReportCommand::Discipline { period, common },
        "badges" => ReportCommand::Badges { period, common },
        "units" => ReportCommand::Units { on: q.on, common },
        "without-admission" => ReportCommand::WithoutAdmission {
            years: q.years.unwrap_or(5).clamp(1, 100),
            on: q.on,
            common,
        },
        "discipline-in-force" => ReportCommand::DisciplineInForce { on: q.on, common },
        "temporary-activity" => ReportCommand::TemporaryActivity { on: q.on, common },
        "hamlets-without" => ReportCommand::HamletsWithout { on: q.on, common },
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let Some(rules) = crate::report::embedded_rules() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let outcome = crate::report::run(&state.store, rules, today, &command).await;
    let bytes = outcome.and_then(|()| Ok(std::fs::read(&path)?));
    let _ = std::fs::remove_dir_all(&dir);
    match bytes {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, mime.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}-{}.{ext}\"",
                        kind,
                        unit.as_ref().map_or("all", |u| u.code.as_str())
                    ),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            let text = e.to_string();
            tracing::warn!(error = %text, "report download failed");
            request_error(StatusCode::BAD_REQUEST, "VALIDATION", &text, &text, lang)
        }
    }
}
