//! The `memberflow` server: configuration, start-up, the HTTP surface and shut-down.
//!
//! [`Application::build`] connects to the database, runs pending migrations and binds the
//! listener; [`Application::run_until`] serves until the given future completes, then
//! drains requests in flight. Tests use the same two calls with a port of 0.
//!
//! The worker (periodic jobs, escalations of passed deadlines, reminders and mail:
//! `memberflow-worker`) runs beside the HTTP server and stops with it, unless
//! `schedules.enabled` is off; without `smtp_url` it runs the jobs and mail waits in the
//! outbox, and the log says so. The cron expressions of `[schedules]` are checked at every
//! start-up either way.

mod accept;
pub mod check;
pub mod cli;
pub mod config;
pub mod demo;
mod demo_cases;
mod http;
pub mod import;
pub mod mail_templates;
pub mod metrics;
pub mod report;
mod request_id;
pub mod rules;
mod sheets;
pub mod telemetry;
mod xlsx;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use memberflow_api::{ApiOptions, Clock};
use memberflow_store::Store;
use memberflow_worker::{Job, Mailer, Recipients, Schedules, Worker, WorkerHandle, WorkerOptions};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::text::Lang;
use tokio::net::TcpListener;

pub use config::Config;

/// A built server, bound and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Store,
    worker: Option<Worker>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// Connects to the database of `url`; one that cannot be reached is named with the reason,
/// in Vietnamese and English, at once.
pub(crate) async fn connect_store(url: &str) -> anyhow::Result<Store> {
    Store::connect(url).await.map_err(|e| match e {
        memberflow_store::StoreError::Unreachable(t) => anyhow::anyhow!("{}\n{}", t.vi, t.en),
        other => anyhow::Error::new(other).context("connecting to the database (database_url)"),
    })
}

/// The API's options from the configuration.
pub fn api_options(config: &Config) -> ApiOptions {
    ApiOptions {
        max_depth: config.graphql.max_depth,
        max_complexity: config.graphql.max_complexity,
        introspection: config.graphql.introspection,
        session_minutes: config.auth.session_minutes,
        after_commit: None,
        max_aliases: config.graphql.max_aliases,
        rate_limits: memberflow_api::RateLimits {
            login_per_account: config.limits.login_per_account,
            login_per_address: config.limits.login_per_address,
            mutations_per_account: config.limits.mutations_per_account,
            mutations_per_address: config.limits.mutations_per_address,
        },
        previewer: None,
        files: Some(sheets::api_files(config.graphql.max_upload_bytes as u64)),
    }
}

/// Loads and validates the calendars, rule sets, workflow definitions and mail templates: from
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
            "the workflow definitions, rule sets, calendars or mail templates are invalid:\n  - {}",
            problems.join("\n  - ")
        ),
    }
}

/// The cron schedules of `[schedules]`, every bad expression reported at once.
pub fn schedules(config: &Config) -> anyhow::Result<Schedules> {
    let s = &config.schedules;
    Schedules::parse([
        (Job::DailySweep, s.daily_sweep.as_str()),
        (Job::WeeklyDigest, s.weekly_digest.as_str()),
        (Job::MonthlyMeeting, s.monthly_meeting.as_str()),
        (Job::MonthlyTargetReport, s.monthly_target_report.as_str()),
        (Job::QuarterlyThematicMeeting, s.quarterly_meeting.as_str()),
        (Job::AnnualRating, s.annual_rating.as_str()),
    ])
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Every problem of the values the configuration's types cannot catch — cron expressions,
/// fallback mail addresses, the SMTP URL and sender, CORS origins — at once (empty: none).
pub fn config_problems(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if let Err(e) = schedules(config) {
        out.push(format!("schedules: {e}"));
    }
    if let Err(ps) = Recipients::new(
        config
            .mail
            .recipients
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    ) {
        out.extend(ps.into_iter().map(|p| format!("mail.recipients: {p}")));
    }
    match config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            if let Err(e) = Mailer::new(url, &config.mail_from) {
                out.push(format!("smtp_url / mail_from: {e}"));
            }
        }
        None => {
            if let Err(e) = Mailer::new("smtp://127.0.0.1:25", &config.mail_from) {
                out.push(format!("mail_from: {e}"));
            }
        }
    }
    for o in &config.graphql.cors_origins {
        if axum::http::HeaderValue::from_str(o).is_err() {
            out.push(format!("graphql.cors_origins: `{o}` is not a valid origin"));
        }
    }
    out
}

/// The worker: the periodic jobs (a passed deadline escalates whether or not mail is on: it
/// has legal effect) and, when `smtp_url` is set, the mail. `None` when `schedules.enabled` is
/// off. Bad schedules, a bad SMTP URL or sender, or a bad recipient address are errors.
pub fn build_worker(
    config: &Config,
    store: Store,
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
) -> anyhow::Result<Option<Worker>> {
    let (schedules, recipients, options, templates) = worker_parts(config)?;
    let mailer = match config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(url) => {
            let m = Mailer::new(url, &config.mail_from).map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::info!(smtp = %m.endpoint(), "mail is on");
            Some(m)
        }
        None => {
            tracing::warn!(
                "mail is off: smtp_url (MEMBERFLOW_SMTP_URL) is not set; the scheduler runs, \
                 reminders and mails wait in the outbox until it is"
            );
            None
        }
    };
    if !config.schedules.enabled {
        tracing::warn!("the scheduler is off in this process (schedules.enabled = false)");
        return Ok(None);
    }
    Ok(Some(
        Worker::new(store, mailer, schedules, recipients, options)
            .with_templates(templates)
            .with_clock(Arc::new(move || clock.now()))
            .with_catalog(catalog),
    ))
}

/// What the sending worker and the preview share: the schedules, the fallback addresses, the
/// options and the mail templates, from the configuration (every bad value reported).
fn worker_parts(config: &Config) -> anyhow::Result<WorkerParts> {
    let recipients = Recipients::new(
        config
            .mail
            .recipients
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|ps| anyhow::anyhow!("invalid configuration:\n  - {}", ps.join("\n  - ")))?;
    let options = WorkerOptions {
        language: match config.mail.language {
            config::MailLanguage::Vi => Lang::Vi,
            config::MailLanguage::En => Lang::En,
        },
        max_attempts: config.mail.max_attempts.max(1),
        retry_base: chrono::TimeDelta::seconds(
            i64::try_from(config.mail.retry_base_seconds.max(1)).unwrap_or(60),
        ),
        public_url: config.mail.public_url.clone(),
        lease: chrono::TimeDelta::seconds(
            i64::try_from(config.mail.lease_seconds.max(3)).unwrap_or(60),
        ),
        instance: config
            .mail
            .instance
            .as_deref()
            .map(memberflow_worker::instance_name)
            .filter(|i| !i.is_empty())
            .unwrap_or_else(memberflow_worker::default_instance),
        ..WorkerOptions::default()
    };
    Ok((
        schedules(config)?,
        recipients,
        options,
        mail_templates::load(config)?,
    ))
}

/// The schedules, the fallback addresses, the options and the mail templates.
type WorkerParts = (
    Schedules,
    Recipients,
    WorkerOptions,
    Arc<memberflow_worker::MailTemplates>,
);

/// Renders reminder mails for the API's `mailPreview`: a worker of its own, without a mailer,
/// composing exactly as the sending one does (templates, addresses, links).
fn previewer(
    config: &Config,
    store: Store,
    catalog: Arc<Catalog>,
) -> anyhow::Result<memberflow_api::MailPreviewer> {
    let (schedules, recipients, options, templates) = worker_parts(config)?;
    let worker = Arc::new(
        Worker::new(store, None, schedules, recipients, options)
            .with_templates(templates)
            .with_catalog(catalog),
    );
    Ok(memberflow_api::MailPreviewer(Arc::new(move |id| {
        let w = worker.clone();
        Box::pin(async move {
            w.preview(id)
                .await
                .map(|p| memberflow_api::MailPreview {
                    to: p.to,
                    subject: p.subject,
                    text: p.text,
                    html: p.html,
                    problem: p.problem,
                })
                .map_err(|e| e.to_string())
        })
    })))
}

impl Application {
    /// Connects, migrates and binds, with time from `clock`.
    pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        // Bad values stop the start-up before anything else happens, all of them reported.
        let problems = config_problems(config);
        if !problems.is_empty() {
            anyhow::bail!("invalid configuration:\n  - {}", problems.join("\n  - "));
        }
        let store = connect_store(&config.database_url).await?;
        store.migrate().await.context("running the migrations")?;
        // Revocations and tree changes heard as they commit (PostgreSQL): cached sessions and
        // paths are then trusted without a read per request.
        store.hear_changes();
        let catalog = Arc::new(load_catalog(config)?);
        let metrics = metrics::Metrics::new();
        let worker =
            build_worker(config, store.clone(), clock.clone(), catalog.clone())?.map(|w| {
                let m = metrics.clone();
                w.with_observer(Arc::new(move |run| m.job(run)))
            });
        let mut options = api_options(config);
        options.previewer = Some(previewer(config, store.clone(), catalog.clone())?);
        if let Some(handle) = worker.as_ref().map(Worker::handle) {
            options.after_commit =
                Some(memberflow_api::AfterCommit(Arc::new(move || handle.wake())));
        }
        let schema = memberflow_api::build_schema(store.clone(), clock.clone(), catalog, &options);
        let router = http::router(
            schema,
            store.clone(),
            clock,
            http::HttpOptions {
                graphiql: config.graphql.graphiql,
                max_body_bytes: config.graphql.max_body_bytes,
                max_upload_bytes: config.graphql.max_upload_bytes,
                cors_origins: config.graphql.cors_origins.clone(),
                metrics,
            },
        )?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        Ok(Self {
            listener,
            router,
            store,
            worker,
        })
    }

    /// Wakes the worker early (after a commit that enqueued a mail to send now); `None` when
    /// mail is off.
    pub fn worker_handle(&self) -> Option<WorkerHandle> {
        self.worker.as_ref().map(Worker::handle)
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight, lets the
    /// worker finish its pass, and closes the database pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let addr = self.local_addr()?;
        // One shutdown for both tasks.
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let worker = self.worker.map(|w| {
            tokio::spawn(w.run(async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            }))
        });
        tracing::info!(%addr, graphql = %format!("http://{addr}/graphql"), "serving");
        accept::serve(self.listener, self.router, async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await;
        if let Some(w) = worker
            && let Err(e) = w.await
        {
            tracing::error!(error = %e, "the worker task failed");
        }
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
