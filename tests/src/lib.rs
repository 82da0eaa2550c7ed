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

/// The `application_name` of the harness's own connections to PostgreSQL (the server's
/// carry none of their own, so theirs are `memberflow reads` and `memberflow writes`).
pub const HARNESS_NAME: &str = "memberflow-test-harness";

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

    /// The URL the harness's own store connects with: on PostgreSQL its connections are named
    /// [`HARNESS_NAME`] in `pg_stat_activity`, apart from the server's.
    pub fn harness_url(&self) -> String {
        match self {
            TestDb::Sqlite { url, .. } => url.clone(),
            TestDb::Postgres { url, .. } => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}application_name={HARNESS_NAME}")
            }
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

/// A copy of the repository's `schemas/` plus `extra` files (`workflows/toy.toml`, ...; a
/// name already there is replaced: `mail/digest.weekly.vi.txt`), in
/// a temporary directory, for a server configured with `schemas_dir`.
pub fn schemas_with(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let dir = tempfile::tempdir().unwrap();
    for sub in ["calendars", "rulesets", "workflows", "mail"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.path().join(sub).join(e.file_name())).unwrap();
        }
    }
    std::fs::copy(src.join("rules.toml"), dir.path().join("rules.toml")).unwrap();
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
    /// The bearer token of `operator`, an account holding every role everywhere, that
    /// [`TestApp::gql`] sends; tests of authorization make narrower accounts
    /// ([`TestApp::account`]) and anonymous calls ([`TestApp::gql_anon`]).
    pub token: String,
    store: memberflow_store::Store,
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
    // Tests fire hundreds of steps in one minute of a stopped clock: the rate limits are off
    // unless a test sets them (tests/blackbox/security.rs does).
    // The scheduler's loop would escalate passed deadlines on its own while a test moves the
    // clock: tests that want it (mail, escalations) switch it on.
    config.schedules.enabled = false;
    config.limits = memberflow_server::config::LimitsConfig {
        login_per_account: 0,
        login_per_address: 0,
        mutations_per_account: 0,
        mutations_per_address: 0,
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
    let store = memberflow_store::Store::connect(&testdb.harness_url())
        .await
        .unwrap();
    let token = operator_token(&store).await;
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        db,
        token,
        store,
        shutdown: Some(tx),
        server: Some(server),
        config,
        clock: settable,
        testdb: Some(testdb),
    }
}

/// The password of every account the harness makes.
pub const TEST_PASSWORD: &str = "mật khẩu thử nghiệm dài";

/// A bearer token of `operator` on the database at `url` (made if need be), for tests that
/// start the server themselves.
pub async fn operator_token_for(url: &str) -> String {
    let store = memberflow_store::Store::connect(url).await.unwrap();
    let t = operator_token(&store).await;
    store.close().await.unwrap();
    t
}

/// Makes (once per database) the `operator` account, with every role everywhere, and a
/// session for it that outlives any date a test moves the clock to.
async fn operator_token(store: &memberflow_store::Store) -> String {
    let now = default_now();
    if store
        .accounts()
        .create_account("operator", TEST_PASSWORD, None, now)
        .await
        .is_ok()
    {
        for role in memberflow_workflow::access::Role::ALL {
            store
                .accounts()
                .grant_role("operator", role.as_str(), None, now)
                .await
                .unwrap();
        }
    }
    let (_, session) = store
        .accounts()
        .login(
            "operator",
            TEST_PASSWORD,
            chrono::Duration::days(365 * 200),
            now,
        )
        .await
        .unwrap();
    session.token
}

impl TestApp {
    /// Posts a GraphQL request as `operator` and returns the whole JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_lang(query, variables, None).await
    }

    /// Posts a GraphQL request with no token.
    pub async fn gql_anon(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Makes an account `name` holding `grants` (role, unit id or `None` for everywhere),
    /// linked to `member` if given, and returns a token for it valid for years.
    pub async fn account(
        &self,
        name: &str,
        grants: &[(&str, Option<&str>)],
        member: Option<&str>,
    ) -> String {
        self.try_account(name, grants, member).await.unwrap()
    }

    /// The same, or the store's refusal in English (a role that cannot be held at that
    /// unit, ...), with nothing made.
    pub async fn try_account(
        &self,
        name: &str,
        grants: &[(&str, Option<&str>)],
        member: Option<&str>,
    ) -> Result<String, String> {
        let now = default_now();
        let member = member.map(|m| uuid::Uuid::parse_str(m).unwrap());
        self.store
            .accounts()
            .create_account(name, TEST_PASSWORD, member, now)
            .await
            .map_err(|e| e.to_string())?;
        for (role, unit) in grants {
            let unit = unit.map(|u| uuid::Uuid::parse_str(u).unwrap());
            if let Err(e) = self
                .store
                .accounts()
                .grant_role(name, role, unit, now)
                .await
            {
                self.store
                    .accounts()
                    .disable_account(name, now)
                    .await
                    .unwrap();
                return Err(match e {
                    memberflow_store::StoreError::Validation(t) => {
                        t.iter().map(|t| t.en.clone()).collect::<Vec<_>>().join(" ")
                    }
                    other => other.to_string(),
                });
            }
        }
        let (_, session) = self
            .store
            .accounts()
            .login(name, TEST_PASSWORD, chrono::Duration::days(365 * 200), now)
            .await
            .unwrap();
        Ok(session.token)
    }

    /// Sets the e-mail address of the account `name`.
    pub async fn set_account_email(&self, name: &str, email: &str) {
        let e = memberflow_workflow::email::EmailAddress::parse(email).unwrap();
        self.store
            .accounts()
            .set_account_email(name, Some(&e))
            .await
            .unwrap();
    }

    /// A fresh session of the account `name` (made by [`TestApp::account`]).
    pub async fn session_of(&self, name: &str) -> String {
        let (_, session) = self
            .store
            .accounts()
            .login(
                name,
                TEST_PASSWORD,
                chrono::Duration::days(365 * 200),
                default_now(),
            )
            .await
            .unwrap();
        session.token
    }

    /// The same as [`TestApp::gql`], with an `Accept-Language` header.
    pub async fn gql_lang(&self, query: &str, variables: Value, lang: Option<&str>) -> Value {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
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

    /// Posts a GraphQL multipart request (a file upload) with `file` as the variable
    /// `$file`, with `token` if given, and returns the status and the JSON response.
    pub async fn upload_as(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
        file: (&str, &[u8]),
    ) -> (u16, Value) {
        let mut variables = variables;
        variables["file"] = Value::Null;
        let operations = json!({ "query": query, "variables": variables });
        let body = multipart_body(&operations, file.0, file.1);
        let mut req = self
            .client
            .post(format!("{}/graphql", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
            )
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// [`TestApp::upload_as`] as `operator`: the JSON response.
    pub async fn upload(&self, query: &str, variables: Value, file: (&str, &[u8])) -> Value {
        self.upload_as(Some(&self.token), query, variables, file)
            .await
            .1
    }

    /// Posts a GraphQL request that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let r = self.gql(query, variables).await;
        assert!(r.get("errors").is_none(), "unexpected errors: {r:#}");
        r["data"].clone()
    }

    /// [`TestApp::ok`] as the account of `token`.
    pub async fn ok_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let r = self.gql_as(token, query, variables).await;
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
        const TABLES: [&str; 24] = [
            "unit",
            "unit_parent",
            "unit_ancestry",
            "auth_epoch",
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
            "access_log",
            "stat_counter",
            "stat_membership",
            "stat_admission",
            "discipline_record",
            "badge_award",
            "hamlet",
            "hamlet_branch",
            "member_residence",
        ];
        // One statement, so that a fingerprint costs one round trip.
        let select = TABLES
            .iter()
            .map(|t| format!("(SELECT COUNT(*) FROM {t}) AS {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(backend, format!("SELECT {select}")))
            .await
            .unwrap()
            .unwrap();
        TABLES
            .iter()
            .map(|t| ((*t).to_owned(), row.try_get::<i64>("", t).unwrap()))
            .collect()
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

/// Asserts that `r` is a refusal by the rules (`TRANSITION_REFUSED`) naming `rule` both in
/// `extensions.rules` and on one of its reasons; returns the Vietnamese reasons of that rule,
/// one per line.
pub fn refused_by(r: &Value, rule: &str) -> String {
    assert_eq!(error_code(r), "TRANSITION_REFUSED", "{r:#}");
    let ext = &r["errors"][0]["extensions"];
    assert!(
        ext["rules"]
            .as_array()
            .is_some_and(|rules| rules.iter().any(|x| x == rule)),
        "{rule} not in {r:#}"
    );
    let vi: Vec<&str> = ext["reasons"]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons in {r:#}"))
        .iter()
        .filter(|x| x["rule"] == rule)
        .filter_map(|x| x["vi"].as_str())
        .collect();
    assert!(!vi.is_empty(), "no reason names {rule} in {r:#}");
    vi.join("\n")
}

/// The boundary of the tests' multipart bodies.
pub const MULTIPART_BOUNDARY: &str = "memberflow-test-boundary-7MA4YWxkTrZu0gW";

/// A GraphQL multipart request body: `operations`, `map` putting the one file at
/// `variables.file`, and the file.
pub fn multipart_body(operations: &Value, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let b = MULTIPART_BOUNDARY;
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.file\"]}}\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    body
}
