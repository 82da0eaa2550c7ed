//! The test harness: [`spawn_app`] starts the real server on a random loopback port against
//! a fresh database — a SQLite file in a temporary directory, or, when
//! `MEMBERFLOW_TEST_DATABASE_URL` is set, a new PostgreSQL database that is dropped after the
//! test.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use memberflow_api::{Clock, SettableClock};
use memberflow_server::{Application, Config};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The environment variable naming a PostgreSQL server for the tests.
pub const PG_ENV: &str = "MEMBERFLOW_TEST_DATABASE_URL";

/// A database made for one test.
pub enum TestDb {
    /// A SQLite file in a directory removed on drop.
    Sqlite {
        /// The directory.
        dir: tempfile::TempDir,
        /// Its URL.
        url: String,
    },
    /// A PostgreSQL database dropped on drop.
    Postgres {
        /// The server's URL as given.
        admin_url: String,
        /// The database's name.
        name: String,
        /// Its URL.
        url: String,
    },
}

impl TestDb {
    /// A fresh, empty database of the kind the environment asks for.
    pub async fn create() -> Self {
        match std::env::var(PG_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(&admin_url).await,
            _ => Self::sqlite(),
        }
    }

    /// A fresh SQLite file.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
        TestDb::Sqlite { dir, url }
    }

    /// A fresh database on the PostgreSQL server at `admin_url`.
    pub async fn postgres(admin_url: &str) -> Self {
        let name = format!("mf_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL cannot be reached: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let url = with_database(admin_url, &name);
        TestDb::Postgres {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // The test's runtime may be gone: drop the database from a runtime of our own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A copy of the repository's `schemas/` plus `extra` files (`workflows/toy.toml`, ...), in
/// a temporary directory, for a server configured with `schemas_dir`.
pub fn schemas_with(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let dir = tempfile::tempdir().unwrap();
    for sub in ["calendars", "rulesets", "workflows"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).unwrap();
        }
    }
    for (name, text) in extra {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// A direct connection to the server's database, for checks behind its back.
    pub db: DatabaseConnection,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    config: Config,
    clock: SettableClock,
    // Dropped last: the database outlives the server.
    testdb: Option<TestDb>,
}

/// The instant the test clock stands at unless a test says otherwise.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap()
}

/// Starts the server with the default configuration and the test clock.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the server after `tweak` has adjusted its configuration.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_on(TestDb::create().await, tweak).await
}

/// Starts the server on `testdb` after `tweak` has adjusted its configuration.
pub async fn spawn_app_on(testdb: TestDb, tweak: impl FnOnce(&mut Config)) -> TestApp {
    // `RUST_LOG=debug cargo test ...` shows the server's log of a failing test.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    let mut config = Config {
        database_url: testdb.url().to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    tweak(&mut config);
    start(config, testdb, SettableClock::new(default_now())).await
}

async fn start(config: Config, testdb: TestDb, settable: SettableClock) -> TestApp {
    let clock: Arc<dyn Clock> = Arc::new(settable.clone());
    let app = Application::build(&config, clock).await.unwrap();
    let addr = app.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let db = Database::connect(testdb.url()).await.unwrap();
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        db,
        shutdown: Some(tx),
        server: Some(server),
        config,
        clock: settable,
        testdb: Some(testdb),
    }
}

impl TestApp {
    /// Posts a GraphQL request and returns the whole JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_lang(query, variables, None).await
    }

    /// The same, with an `Accept-Language` header.
    pub async fn gql_lang(&self, query: &str, variables: Value, lang: Option<&str>) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(l) = lang {
            req = req.header("accept-language", l);
        }
        req.send().await.unwrap().json().await.unwrap()
    }

    /// Posts a GraphQL request with `Authorization: Bearer <token>`.
    pub async fn gql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Posts a GraphQL request that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let r = self.gql(query, variables).await;
        assert!(r.get("errors").is_none(), "unexpected errors: {r:#}");
        r["data"].clone()
    }

    /// Posts a GraphQL request that must fail and returns its first error's code.
    pub async fn err_code(&self, query: &str, variables: Value) -> String {
        let r = self.gql(query, variables).await;
        error_code(&r)
    }

    /// Moves the server's clock to `now`.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.clock.set(now);
    }

    /// Moves the server's clock to 10:00 in Vietnam on `date` (`YYYY-MM-DD`).
    pub fn set_today(&self, date: &str) {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        self.clock
            .set(Utc.from_utc_datetime(&d.and_hms_opt(3, 0, 0).unwrap()));
    }

    /// The URL of the server's database.
    pub fn database_url(&self) -> &str {
        self.testdb.as_ref().map_or("", TestDb::url)
    }

    /// Stops the server and starts a new one on the same database, after `tweak` has
    /// adjusted the configuration (a new definition version, another limit...).
    pub async fn restart_with(mut self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = self.config.clone();
        tweak(&mut config);
        let testdb = self.testdb.take().unwrap();
        let clock = self.clock.clone();
        self.stop().await;
        start(config, testdb, clock).await
    }

    /// Counts the rows of every table: a fingerprint to show that a refused command wrote
    /// nothing.
    pub async fn row_counts(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for t in [
            "unit",
            "unit_parent",
            "member",
            "member_unit",
            "member_status",
            "tree_event",
            "cases",
            "case_event",
            "case_deadline",
            "outbox",
            "account",
            "session",
            "role_assignment",
        ] {
            let backend = self.db.get_database_backend();
            let row = self
                .db
                .query_one_raw(Statement::from_string(
                    backend,
                    format!("SELECT COUNT(*) AS n FROM {t}"),
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get("", "n").unwrap();
            out.push((t.to_owned(), n));
        }
        out
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }
}

/// The code of the first error of a response.
pub fn error_code(r: &Value) -> String {
    r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {r:#}"))
        .to_owned()
}
