//! The schema: its roots, its limits, and how one request is executed.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::{MergedObject, Request, Response, Schema, ServerError, ValidationMode};
use memberflow_store::Store;
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::text::{Lang, Text};

use crate::accounts::{AccountMutation, AccountQuery};
use crate::auth::{Auth, AuthMutation, AuthQuery};
use crate::away::{AwayMutation, AwayQuery};
use crate::cases::{CaseMutation, CaseQuery};
use crate::clock::{Clock, SharedClock};
use crate::discipline::DisciplineQuery;
use crate::documents::{Documents, Parsed};
use crate::error::{Code, finalize_response, graphql_error};
use crate::hamlets::{HamletMutation, HamletQuery};
use crate::import::{ImportMutation, ImportQuery, SheetFiles};
use crate::limits::{Peer, RateLimiter, RateLimits, RequestGuard};
use crate::live::{CaseBus, Subscription};
use crate::members::{MemberMutation, MemberQuery};
use crate::outbox::{OutboxMutation, OutboxQuery};
use crate::questions::QuestionsQuery;
use crate::reminders::{MailPreviewer, ReminderMutation, ReminderQuery};
use crate::targets::TargetQuery;
use crate::tree::{TreeMutation, TreeQuery};
use crate::variables::InputTypes;

/// The query root, merged from the features.
#[derive(MergedObject, Default)]
pub struct Query(
    TreeQuery,
    MemberQuery,
    CaseQuery,
    AuthQuery,
    TargetQuery,
    OutboxQuery,
    ReminderQuery,
    DisciplineQuery,
    QuestionsQuery,
    AwayQuery,
    HamletQuery,
    AccountQuery,
    ImportQuery,
);

/// The mutation root, merged from the features.
#[derive(MergedObject, Default)]
pub struct Mutation(
    TreeMutation,
    MemberMutation,
    CaseMutation,
    AuthMutation,
    OutboxMutation,
    ReminderMutation,
    AccountMutation,
    ImportMutation,
    AwayMutation,
    HamletMutation,
);

/// The schema type.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Called after every command that committed a step, so that the host can wake its
/// scheduler: a mail the step enqueued goes out at once rather than at the next poll.
#[derive(Clone)]
pub struct AfterCommit(pub Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for AfterCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterCommit")
    }
}

/// What the schema needs from its host.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Deepest nesting a query may have.
    pub max_depth: usize,
    /// Highest cost a query may have (one per field, times `first` on connections).
    pub max_complexity: usize,
    /// Whether introspection is served (switch off in production if wanted).
    pub introspection: bool,
    /// How long a login session lasts, in minutes.
    pub session_minutes: u32,
    /// Called after each committed step that queued an outbox row (a mail, a reminder), an
    /// applied migration of cases and a dead letter sent again: the host wakes its sender.
    pub after_commit: Option<AfterCommit>,
    /// Most aliases one operation may use.
    pub max_aliases: usize,
    /// Rate limits on logins and mutations.
    pub rate_limits: RateLimits,
    /// Renders reminder mails for `mailPreview` (none: the preview says so).
    pub previewer: Option<MailPreviewer>,
    /// Reads and writes spreadsheet files for imports and exports (none: those say so).
    pub files: Option<SheetFiles>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 2_000,
            introspection: true,
            session_minutes: 480,
            after_commit: None,
            max_aliases: 30,
            rate_limits: RateLimits::default(),
            previewer: None,
            files: None,
        }
    }
}

/// Shared state the resolvers read.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub store: Store,
    pub clock: SharedClock,
    pub catalog: Arc<Catalog>,
    pub bus: CaseBus,
    pub session_minutes: u32,
    pub after_commit: Option<AfterCommit>,
    pub limiter: Arc<RateLimiter>,
    pub rate_limits: RateLimits,
    pub previewer: Option<MailPreviewer>,
    pub files: Option<SheetFiles>,
}

impl Ctx {
    /// Tells the host a step was committed.
    pub(crate) fn committed(&self) {
        if let Some(f) = &self.after_commit {
            (f.0)();
        }
    }
}

/// Builds the schema over `store`, with time from `clock`.
pub fn build_schema(
    store: Store,
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
    options: &ApiOptions,
) -> AppSchema {
    let ctx = Ctx {
        store,
        clock,
        catalog,
        bus: CaseBus::default(),
        session_minutes: options.session_minutes,
        after_commit: options.after_commit.clone(),
        limiter: Arc::default(),
        rate_limits: options.rate_limits.clone(),
        previewer: options.previewer.clone(),
        files: options.files.clone(),
    };
    let guard = RequestGuard {
        max_aliases: options.max_aliases,
        introspection: options.introspection,
    };
    // The two schemas share their data (the store, the live boards' bus, the rate limiter):
    // they differ only in how much of a request they validate.
    let build = |mode: ValidationMode| {
        let b = Schema::build(Query::default(), Mutation::default(), Subscription)
            .data(ctx.clone())
            .data(guard)
            .limit_depth(options.max_depth)
            .limit_complexity(options.max_complexity)
            .validation_mode(mode);
        if options.introspection {
            b
        } else {
            // Without introspection, "did you mean" hints would tell the schema field by field.
            b.disable_introspection().disable_suggestions()
        }
    };
    let twin = Twin {
        schema: build(ValidationMode::Fast).finish(),
        types: InputTypes::of::<Query, Mutation>(),
    };
    build(ValidationMode::Strict)
        .data(Documents::default())
        .data(twin)
        .finish()
}

/// The schema a request runs on when its document is kept and its variables fit the types
/// the document declares ([`crate::variables`]): the same schema, validating only what
/// depends on the request's variables beyond their types.
struct Twin {
    schema: AppSchema,
    types: InputTypes,
}

/// The schema's SDL, as committed in `schemas/graphql/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .finish()
        .sdl()
}

/// Whether the operation a request would run is a mutation or a subscription (which a `GET`
/// must not run). A request that does not parse, or names no operation it has, is not: its
/// execution reports that.
pub fn changes_or_streams(request: &mut Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    let op = match name {
        Some(n) => doc
            .operations
            .iter()
            .find(|(k, _)| k.is_some_and(|k| k.as_str() == n)),
        None => doc.operations.iter().next(),
    };
    op.is_some_and(|(_, op)| op.node.ty != async_graphql::parser::types::OperationType::Query)
}

/// Whether a response reports a request error (the query did not parse or validate, a
/// variable did not fit, a limit was passed): execution never started, no error has a path
/// and there is no data.
pub fn is_request_error(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// Executes one request for a reader of `lang`, from `peer`, as `auth`: parse errors and
/// every other error get a stable code.
pub async fn execute(
    schema: &AppSchema,
    mut request: Request,
    lang: Lang,
    auth: Option<Auth>,
    peer: Option<IpAddr>,
) -> Response {
    let parsed = parse(schema, &mut request);
    execute_parsed(schema, request, parsed, lang, auth, peer).await
}

/// Gives `request` its parsed document, a copy of the one the schema keeps for its text when
/// it was seen before ([`crate::documents`]), else parsed now: then
/// [`Request::parsed_query`] does not parse it again. A document that does not parse comes
/// back as [`Parsed::Failed`] with the parser's error, which [`execute_parsed`] reports.
pub fn parse(schema: &AppSchema, request: &mut Request) -> Parsed {
    match schema.data::<Documents>() {
        Some(documents) => documents.fill(request),
        None => match request.parsed_query() {
            Ok(_) => Parsed::Ready,
            Err(e) => Parsed::Failed(e),
        },
    }
}

/// How many parsed documents the schema keeps, and how many of those are checked (their
/// requests validated by their variables only when these fit): gauges of `/metrics`.
pub fn documents_kept(schema: &AppSchema) -> (usize, usize) {
    schema
        .data::<Documents>()
        .map_or((0, 0), |d| (d.len(), d.checked()))
}

/// [`execute`] for a request [`parse`] has already seen (`parsed`, what it did): a document
/// parsed now is kept once it has passed the schema's checks.
pub async fn execute_parsed(
    schema: &AppSchema,
    request: Request,
    parsed: Parsed,
    lang: Lang,
    auth: Option<Auth>,
    peer: Option<IpAddr>,
) -> Response {
    if let Parsed::Failed(e) = parsed {
        return unparsed(e, lang);
    }
    let checked = matches!(parsed, Parsed::Kept { checked: true });
    // The text of a kept document to mark checked if this request checks it.
    let unchecked =
        matches!(parsed, Parsed::Kept { checked: false }).then(|| request.query.clone());
    let (response, fit) = run_parsed(schema, request, checked, lang, auth, peer).await;
    let passed = !is_request_error(&response);
    if let Some(documents) = schema.data::<Documents>() {
        match parsed {
            Parsed::New(query, doc) if passed => documents.keep(query, doc, fit),
            _ if passed
                && fit
                && let Some(query) = unchecked =>
            {
                documents.check(&query)
            }
            _ => {}
        }
    }
    response
}

/// The response to a document that does not parse: `QUERY_TOO_DEEP` past the parser's own
/// nesting limit (the depth limit too), else `GRAPHQL_PARSE_FAILED`, with the parser's words.
fn unparsed(e: ServerError, lang: Lang) -> Response {
    let (code, text) = if e.message.contains("recursion limit exceeded") {
        (
            Code::QueryTooDeep,
            Text::new(
                "Truy vấn lồng quá sâu so với giới hạn cho phép.",
                "The query is nested deeper than the limit allows.",
            ),
        )
    } else {
        (
            Code::GraphqlParseFailed,
            Text::new(
                format!("Truy vấn GraphQL không đúng cú pháp: {}", e.message),
                format!("The GraphQL query does not parse: {}", e.message),
            ),
        )
    };
    let err = graphql_error(code, &[text], lang);
    let mut se: ServerError = err.into_server_error(async_graphql::Pos::default());
    se.locations = e.locations;
    Response::from_errors(vec![se])
}

/// Runs `request`, whose document has parsed; `checked`: it is a kept document whose
/// arguments have all been checked once ([`Parsed::Kept`]). With the response, whether the
/// request's variables fit the types its document declares ([`crate::variables`]): if so,
/// and the document is checked, it ran on the schema's twin.
async fn run_parsed(
    schema: &AppSchema,
    mut request: Request,
    checked: bool,
    lang: Lang,
    auth: Option<Auth>,
    peer: Option<IpAddr>,
) -> (Response, bool) {
    let variables = request.variables.clone();
    let uploads = request.uploads.len();
    let (twin, fit) = match request.parsed_query() {
        Err(e) => return (unparsed(e, lang), false),
        Ok(doc) => {
            if let Some(hit) = crate::bytes::control_character(doc, &variables, uploads) {
                let text = if hit.code_point == "UPLOAD" {
                    Text::new(
                        format!("{}: không có tệp tải lên nào tương ứng.", hit.at),
                        format!("{}: names a file the request does not carry.", hit.at),
                    )
                } else {
                    Text::new(
                        format!(
                            "{}: văn bản nhập có ký tự điều khiển {}, không được chấp nhận.",
                            hit.at, hit.code_point
                        ),
                        format!(
                            "{}: a text input holds the control character {}, which is not accepted.",
                            hit.at, hit.code_point
                        ),
                    )
                };
                let err = graphql_error(Code::Validation, &[text], lang);
                return (
                    Response::from_errors(vec![
                        err.into_server_error(async_graphql::Pos::default()),
                    ]),
                    false,
                );
            }
            if let (Some(guard), Some(app)) = (schema.data::<RequestGuard>(), schema.data::<Ctx>())
                && let Err(e) = guard.check(doc, app, auth.as_ref(), peer.map(Peer), lang)
            {
                return (
                    finalize_response(Response::from_errors(vec![e]), lang),
                    false,
                );
            }
            // A file upload is validated in full: its variables hold the files' places.
            let twin = schema.data::<Twin>();
            let fit = uploads == 0 && twin.is_some_and(|t| t.types.fit(doc, &variables));
            (twin.filter(|_| checked && fit), fit)
        }
    };
    let mut request = request
        .data(lang)
        .data(crate::access::PathCache::default())
        .data(crate::members::MemberCache::default())
        .data(crate::tree::ChildrenCache::default())
        .data(crate::tree::MemberPages::default());
    if let Some(a) = auth {
        request = request.data(a);
    }
    if let Some(p) = peer {
        request = request.data(Peer(p));
    }
    let resp = match twin {
        Some(twin) => twin.schema.execute(request).await,
        None => schema.execute(request).await,
    };
    (finalize_response(resp, lang), fit)
}

/// The schema as the websocket transport runs it (`/graphql/ws`): every operation it starts
/// passes the same request guard as `POST /graphql` (introspection, aliases, the mutations'
/// rate limit for the connection's caller) before it runs.
#[derive(Clone)]
pub struct Guarded(pub AppSchema);

impl async_graphql::Executor for Guarded {
    async fn execute(&self, request: Request) -> Response {
        execute(&self.0, request, Lang::default(), None, None).await
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<async_graphql::Data>>,
    ) -> futures::stream::BoxStream<'static, Response> {
        let auth = session_data
            .as_deref()
            .and_then(|d| d.get(&std::any::TypeId::of::<Auth>()))
            .and_then(|a| a.downcast_ref::<Auth>());
        // A document that does not parse is the schema's to report. (A new document is not
        // kept from here: the operation runs as a stream.)
        let parses = parse(&self.0, &mut request).parses();
        let refused = match (
            parses.then(|| request.parsed_query()),
            self.0.data::<RequestGuard>(),
            self.0.data::<Ctx>(),
        ) {
            (Some(Ok(doc)), Some(guard), Some(app)) => {
                guard.check(doc, app, auth, None, Lang::default()).err()
            }
            _ => None,
        };
        match refused {
            Some(e) => Box::pin(futures::stream::once(std::future::ready(
                Response::from_errors(vec![e]),
            ))),
            None => async_graphql::Executor::execute_stream(&self.0, request, session_data),
        }
    }
}

/// The schema as a client in the same process uses it (the web console): the same
/// authentication as a bearer token, the same executor, limits and error codes as
/// `POST /graphql`, with JSON in and out.
#[derive(Clone)]
pub struct Gateway {
    schema: AppSchema,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gateway")
    }
}

impl Gateway {
    /// A gateway to `schema`, authenticating against `store`.
    pub fn new(schema: AppSchema, store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            schema,
            store,
            clock,
        }
    }

    /// The caller behind a session token, if the session is live.
    pub async fn authenticate(&self, token: &str) -> Option<Auth> {
        crate::auth::authenticate(&self.store, self.clock.as_ref(), token).await
    }

    /// Today in Vietnam, as the schema sees it.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    /// Now, as the schema sees it (session expiry is counted on this clock).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Runs the operation `operation` of `document` with `variables` as `auth`, from `peer`,
    /// for a reader of `lang`: the response as JSON (`data`, and `errors` with their
    /// `extensions`).
    pub async fn call(
        &self,
        document: &str,
        operation: &str,
        variables: serde_json::Value,
        lang: Lang,
        auth: Option<Auth>,
        peer: Option<IpAddr>,
    ) -> serde_json::Value {
        let request = Request::new(document)
            .operation_name(operation)
            .variables(async_graphql::Variables::from_json(variables));
        let response = execute(&self.schema, request, lang, auth, peer).await;
        serde_json::to_value(&response).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a GraphQL response could not be serialized");
            serde_json::json!({ "data": null, "errors": [{
                "message": "internal error", "extensions": { "code": "INTERNAL" } }] })
        })
    }
}

impl Gateway {
    /// [`Gateway::call`] with a file, as a GraphQL multipart request carries it: the bytes
    /// go in the variable `$file` (an `Upload`).
    #[allow(clippy::too_many_arguments)]
    pub async fn call_with_file(
        &self,
        document: &str,
        operation: &str,
        variables: serde_json::Value,
        file: (&str, Vec<u8>),
        lang: Lang,
        auth: Option<Auth>,
        peer: Option<IpAddr>,
    ) -> serde_json::Value {
        let mut variables = variables;
        variables["file"] = serde_json::Value::Null;
        let mut request = Request::new(document)
            .operation_name(operation)
            .variables(async_graphql::Variables::from_json(variables));
        // Uploads are read from a temporary file, as the HTTP multipart request spools them.
        let content = tempfile::tempfile().and_then(|mut f| {
            use std::io::{Seek as _, Write as _};
            f.write_all(&file.1)?;
            f.rewind()?;
            Ok(f)
        });
        match content {
            Ok(content) => request.set_upload(
                "variables.file",
                async_graphql::UploadValue {
                    filename: file.0.to_owned(),
                    content_type: None,
                    content,
                },
            ),
            Err(e) => {
                tracing::error!(error = %e, "no temporary file for an upload");
                return serde_json::json!({ "data": null, "errors": [{
                    "message": "internal error", "extensions": { "code": "INTERNAL" } }] });
            }
        }
        let response = execute(&self.schema, request, lang, auth, peer).await;
        serde_json::to_value(&response).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a GraphQL response could not be serialized");
            serde_json::json!({ "data": null, "errors": [{
                "message": "internal error", "extensions": { "code": "INTERNAL" } }] })
        })
    }
}

/// Checks that `document` parses and fits the schema (every operation in it, with its
/// variables' types) and the default limits on depth and complexity (counted over the
/// whole document, as the schema counts them), without running anything: the errors'
/// messages, if any. The schema is the code's, which a test keeps equal to the committed SDL.
pub async fn validate_document(document: &str) -> Result<(), Vec<String>> {
    const PROBE: &str = "MemberflowValidateOnly";
    static SCHEMA: std::sync::OnceLock<AppSchema> = std::sync::OnceLock::new();
    let schema = SCHEMA.get_or_init(|| {
        let limits = ApiOptions::default();
        Schema::build(Query::default(), Mutation::default(), Subscription)
            .limit_depth(limits.max_depth)
            .limit_complexity(limits.max_complexity)
            .finish()
    });
    // Validation covers every operation of the document; only the probe, which reads no
    // resolver, is executed.
    let probed = format!("{document}\nquery {PROBE} {{ __typename }}\n");
    let request = Request::new(probed).operation_name(PROBE);
    let response = schema.execute(request).await;
    if response.errors.is_empty() {
        Ok(())
    } else {
        Err(response.errors.into_iter().map(|e| e.message).collect())
    }
}
