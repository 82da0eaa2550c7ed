//! The `memberflow` server: configuration, start-up, the HTTP surface and shut-down.
//!
//! [`Application::build`] connects to the database, runs pending migrations and binds the
//! listener; [`Application::run_until`] serves until the given future completes, then
//! drains requests in flight. Tests use the same two calls with a port of 0.

pub mod check;
pub mod cli;
pub mod config;
mod http;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use memberflow_api::{ApiOptions, Clock};
use memberflow_store::{Catalog, Store};
use tokio::net::TcpListener;

pub use config::Config;

/// A built server, bound and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// The API's options from the configuration.
pub fn api_options(config: &Config) -> ApiOptions {
    ApiOptions {
        max_depth: config.graphql.max_depth,
        max_complexity: config.graphql.max_complexity,
        introspection: config.graphql.introspection,
    }
}

/// Loads and validates the calendars, rule sets and workflow definitions: from
/// `schemas_dir` when configured, else the copies built into the binary.
pub fn load_catalog(config: &Config) -> anyhow::Result<Catalog> {
    let (files, mut problems) = match &config.schemas_dir {
        Some(dir) => check::SchemaFiles::from_dir(dir),
        None => (check::SchemaFiles::embedded(), Vec::new()),
    };
    let (report, catalog) = files.check();
    problems.extend(report.problems);
    match catalog {
        Some(c) if problems.is_empty() => Ok(c),
        _ => anyhow::bail!(
            "the workflow definitions, rule sets or calendars are invalid:\n  - {}",
            problems.join("\n  - ")
        ),
    }
}

impl Application {
    /// Connects, migrates and binds, with time from `clock`.
    pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database_url)
            .await
            .context("connecting to the database (MEMBERFLOW_DATABASE_URL)")?;
        store.migrate().await.context("running the migrations")?;
        let catalog = load_catalog(config)?;
        let schema = memberflow_api::build_schema(
            store.clone(),
            clock,
            Arc::new(catalog),
            &api_options(config),
        );
        let router = http::router(
            schema,
            store.clone(),
            config.graphql.graphiql,
            config.graphql.max_body_bytes,
        );
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        Ok(Self {
            listener,
            router,
            store,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight and closes the
    /// database pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        tracing::info!(%addr, graphql = %format!("http://{addr}/graphql"), "serving");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
        self.store.close().await.context("closing the database")?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}
