//! The web console: the pages branch secretaries, committees, inspection commissions, members
//! and administrators use, served by the same binary at `/`.
//!
//! Server-rendered HTML (maud) with one small script of our own for progressive enhancement
//! (the live dry run of a step, sortable tables): every page works as plain HTML forms. The
//! console is a client of the GraphQL schema like any other: every page runs the operations
//! of `graphql/*.graphql` through [`memberflow_api::Gateway`] as the signed-in principal, so
//! it can show nothing the API would refuse that principal. It never reads the store.
//!
//! Sessions are the API's own (`login`): the token lives in an HttpOnly, SameSite=Strict
//! cookie (Secure behind TLS); every form carries a CSRF token checked against a second
//! cookie (double submit). Assets, GraphiQL's included, are embedded in the binary.

mod assets;
mod gql;
mod i18n;
mod layout;
mod pages;
mod session;

use axum::Router;
use axum::routing::{get, post};
use memberflow_api::Gateway;

pub use assets::graphiql_page;
pub use gql::{DOCUMENTS, Operation, operations};
pub use session::{SESSION_COOKIE, session_token};

/// What the pages share.
#[derive(Clone, Debug)]
pub struct Console {
    gateway: Gateway,
    stash: pages::import::Stash,
}

/// The console's routes, to be merged into the server's router (which must be served with
/// `ConnectInfo<SocketAddr>`, for the rate limits of `login`). The import form's body may
/// be as large as `max_upload_bytes`.
pub fn router(gateway: Gateway, max_upload_bytes: usize) -> Router {
    let console = Console {
        gateway,
        stash: pages::import::Stash::default(),
    };
    Router::new()
        .route("/", get(pages::work::show))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/lang/{lang}", get(pages::login::language))
        .route("/board", get(pages::board::show))
        .route("/cases/{id}", get(pages::case::show))
        .route("/cases/{id}/step", post(pages::case::step))
        .route("/cases/{id}/check", post(pages::case::check))
        .route("/discipline", get(pages::discipline::show))
        .route("/targets", get(pages::targets::show))
        .route("/tree", get(pages::registry::tree))
        .route("/members", get(pages::registry::search))
        .route("/members/{id}", get(pages::registry::member))
        .route(
            "/import",
            get(pages::import::show)
                .post(pages::import::preview)
                .layer(axum::extract::DefaultBodyLimit::max(max_upload_bytes)),
        )
        .route("/import/confirm", post(pages::import::confirm))
        .route(
            pages::import::ANNOTATED_ROUTE,
            get(pages::import::annotated),
        )
        .route("/import/export", get(pages::import::export))
        .route("/admin", get(pages::admin::show))
        .route("/admin/accounts", post(pages::admin::create_account))
        .route("/admin/roles", post(pages::admin::change_role))
        .route("/admin/outbox/{id}/requeue", post(pages::admin::requeue))
        .route("/assets/{*path}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .with_state(console)
}
