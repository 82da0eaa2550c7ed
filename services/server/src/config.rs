//! Typed, layered configuration: defaults, then a TOML file, then `MEMBERFLOW_*`
//! environment variables (nested keys with `__`, e.g. `MEMBERFLOW_GRAPHQL__MAX_DEPTH`).
//! Every problem is reported at once, with the key it concerns.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://memberflow.db?mode=rwc` by default; a `postgres://` URL for PostgreSQL.
    pub database_url: String,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Where the workflow definitions, rule sets and calendars live; by default the copies
    /// built into the binary (`memberflow check` looks in `./schemas` then).
    pub schemas_dir: Option<PathBuf>,
    /// Logging.
    pub log: LogConfig,
    /// The GraphQL endpoint's limits.
    pub graphql: GraphqlConfig,
    /// The SMTP server (`MEMBERFLOW_SMTP_URL`): `smtp://host:25`,
    /// `smtp://user:password@host:587?tls=starttls` or `smtps://user:password@host:465`. Mail
    /// and the scheduler are off while it is unset. It may carry a password: never logged.
    pub smtp_url: Option<String>,
    /// The sender of every mail (`MEMBERFLOW_MAIL_FROM`), `Name <address>` or an address; its
    /// domain is the domain of the Message-IDs.
    pub mail_from: String,
    /// How mail is written and retried, and who receives it.
    pub mail: MailConfig,
    /// When the periodic jobs run: cron expressions with a seconds field, in Vietnam time
    /// (docs/reminders.md).
    pub schedules: SchedulesConfig,
    /// Login sessions.
    pub auth: AuthConfig,
    /// Rate limits on logins and mutations.
    pub limits: LimitsConfig,
}

/// Rate limits, per minute, counted by each server process; 0 switches one off.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Login attempts per login name.
    pub login_per_account: u32,
    /// Login attempts per client address.
    pub login_per_address: u32,
    /// Mutations per account.
    pub mutations_per_account: u32,
    /// Mutations per client address.
    pub mutations_per_address: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = memberflow_api::RateLimits::default();
        Self {
            login_per_account: d.login_per_account,
            login_per_address: d.login_per_address,
            mutations_per_account: d.mutations_per_account,
            mutations_per_address: d.mutations_per_address,
        }
    }
}

/// Login sessions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// How long a session lasts after login, in minutes.
    pub session_minutes: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_minutes: 480,
        }
    }
}

/// Hides the password part of a URL (`scheme://user:***@host/...`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

// By hand, so that a `{:?}` of the configuration never prints a password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("schemas_dir", &self.schemas_dir)
            .field("log", &self.log)
            .field("graphql", &self.graphql)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("mail", &self.mail)
            .field("schedules", &self.schedules)
            .field("auth", &self.auth)
            .finish()
    }
}

/// How mail is written and retried, and who receives it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `vi` (the default) or `en`.
    pub language: MailLanguage,
    /// A mail becomes a dead letter after this many failed attempts.
    pub max_attempts: u32,
    /// Seconds to wait after the first failure; the wait doubles after each further one (at
    /// most six hours).
    pub retry_base_seconds: u64,
    /// Addresses by role, for when nobody holding the role at the unit has an address: keys
    /// are `role@level` (`secretary@branch`), `role` (`standing_committee`) or `default`, tried
    /// in that order.
    pub recipients: BTreeMap<String, String>,
    /// The address the server is reached at (`https://memberflow.example.vn`), for the links
    /// to cases in mails; no link without it.
    pub public_url: Option<String>,
    /// Seconds a worker's claim on a mail holds without a heartbeat (the worker renews it
    /// every third of it while sending): a crashed worker's mail is sent by another instance
    /// after at most this long. 60 by default, at least 3.
    pub lease_seconds: u64,
    /// The name of this server instance, stable across its restarts (the host's name by
    /// default): when it starts again after a crash, it sends the mail it had claimed at once.
    /// Give each instance sharing a PostgreSQL database its own.
    pub instance: Option<String>,
}

/// The language of the mails.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailLanguage {
    /// Vietnamese.
    Vi,
    /// English.
    En,
}

/// The cron expressions of the periodic jobs: six fields starting with seconds
/// (`sec min hour day-of-month month day-of-week`), in Vietnam time; days of week by name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulesConfig {
    /// Whether this process runs the scheduler (periodic jobs, escalations of passed
    /// deadlines, the outbox). On by default, with or without mail; switch it off on extra
    /// instances that should only serve.
    pub enabled: bool,
    /// Notices of passed deadlines; the reminders of the day go out from then on.
    pub daily_sweep: String,
    /// One digest per branch secretary and per committee.
    pub weekly_digest: String,
    /// The monthly meeting reminder (S1).
    pub monthly_meeting: String,
    /// Admissions against the 3–4% target, per province (S20).
    pub monthly_target_report: String,
    /// The quarterly thematic meeting reminder (S3).
    pub quarterly_meeting: String,
    /// The opening of the annual quality rating (S5).
    pub annual_rating: String,
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `pretty` for people, `json` for machines.
    pub format: LogFormat,
    /// A `tracing` filter (`RUST_LOG` wins when set).
    pub filter: String,
    /// An OpenTelemetry collector's OTLP/HTTP endpoint (`http://collector:4318`): when set,
    /// the spans are also exported there as traces. Off by default.
    pub otlp_endpoint: Option<String>,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The GraphQL endpoint's limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GraphqlConfig {
    /// Deepest nesting a query may have.
    pub max_depth: usize,
    /// Highest cost a query may have.
    pub max_complexity: usize,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest body of a request that uploads a file (GraphQL multipart request, the
    /// console's import form), in bytes.
    pub max_upload_bytes: usize,
    /// Whether introspection is served.
    pub introspection: bool,
    /// Whether GraphiQL is served on `GET /graphql`.
    pub graphiql: bool,
    /// Most aliases one operation may use.
    pub max_aliases: usize,
    /// Origins whose browser pages may call the API (`https://app.example.vn`); empty: none
    /// but the server's own (no CORS headers are sent).
    pub cors_origins: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://memberflow.db?mode=rwc".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            schemas_dir: None,
            log: LogConfig::default(),
            graphql: GraphqlConfig::default(),
            smtp_url: None,
            mail_from: "memberflow <noreply@memberflow.invalid>".into(),
            mail: MailConfig::default(),
            schedules: SchedulesConfig::default(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            language: MailLanguage::Vi,
            max_attempts: 5,
            retry_base_seconds: 60,
            recipients: BTreeMap::new(),
            public_url: None,
            lease_seconds: 60,
            instance: None,
        }
    }
}

impl Default for SchedulesConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            // 07:00 every day.
            daily_sweep: "0 0 7 * * *".into(),
            // 07:30 on Mondays.
            weekly_digest: "0 30 7 * * Mon".into(),
            // 08:00 on the 1st of each month.
            monthly_meeting: "0 0 8 1 * *".into(),
            // 08:00 on the 5th of each month.
            monthly_target_report: "0 0 8 5 * *".into(),
            quarterly_meeting: memberflow_worker::Job::QuarterlyThematicMeeting
                .default_expr()
                .into(),
            annual_rating: memberflow_worker::Job::AnnualRating.default_expr().into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            filter: "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn".into(),
            otlp_endpoint: None,
        }
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 2_000,
            max_body_bytes: 64 * 1024,
            max_upload_bytes: 32 * 1024 * 1024,
            introspection: true,
            graphiql: true,
            max_aliases: 30,
            cors_origins: Vec::new(),
        }
    }
}

/// Variables that start with the prefix but are not configuration keys (and every
/// `MEMBERFLOW_TEST_*`, the test harness's).
const NOT_CONFIG: [&str; 2] = ["config", "new_password"];

impl Config {
    /// Loads the configuration: defaults, overlaid by `file` if given, overlaid by the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Vec<String>> {
        // What the operator wrote (file, environment), apart from the defaults: when the whole
        // does not deserialize, each of its values is tried alone to report every problem.
        let mut user = Figment::new();
        if let Some(f) = file {
            if !f.exists() {
                return Err(vec![format!(
                    "configuration file {} not found",
                    f.display()
                )]);
            }
            user = user.merge(Toml::file_exact(f));
        }
        user = user.merge(
            Env::prefixed("MEMBERFLOW_")
                .split("__")
                .ignore(&NOT_CONFIG)
                // `MEMBERFLOW_TEST_*` are the test harness's (its database, its browser).
                .filter(|k| !k.as_str().to_ascii_lowercase().starts_with("test_")),
        );
        let fig = Figment::from(Serialized::defaults(Config::default())).merge(user.clone());
        fig.extract::<Config>().map_err(|first| {
            let all = every_problem(&user);
            if all.is_empty() {
                first.into_iter().map(|e| e.to_string()).collect()
            } else {
                all
            }
        })
    }
}

/// Every problem of the values in `user`, one line each, naming the key and where it was set
/// (the file or the environment variable).
fn every_problem(user: &Figment) -> Vec<String> {
    use figment::value::Value;
    fn leaves(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Dict(_, d) if !d.is_empty() => {
                for (k, v) in d {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&key, v, out);
                }
            }
            other => out.push((prefix.to_owned(), other.clone())),
        }
    }
    let Ok(root) = user.extract::<Value>() else {
        return Vec::new();
    };
    let mut values = Vec::new();
    leaves("", &root, &mut values);
    let mut out = Vec::new();
    for (key, value) in values {
        let alone = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::default(&key, &value));
        let Err(errors) = alone.extract::<Config>() else {
            continue;
        };
        let keys: Vec<&str> = key.split('.').collect();
        let place = match user.find_metadata(&key) {
            Some(m) => match &m.source {
                Some(figment::Source::File(f)) => format!("in {}", f.display()),
                _ if m.name.contains("environment") => format!(
                    "in MEMBERFLOW_{}",
                    keys.iter()
                        .map(|k| k.to_uppercase())
                        .collect::<Vec<_>>()
                        .join("__")
                ),
                _ => format!("in {}", m.name),
            },
            None => String::new(),
        };
        for e in errors {
            out.push(format!("{key}: {} ({place})", e.kind));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_overlay_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "m.toml",
                "listen = \"127.0.0.1:9000\"\n[graphql]\nmax_depth = 5\n",
            )?;
            jail.set_env("MEMBERFLOW_DATABASE_URL", "postgres://x@127.0.0.1/db");
            jail.set_env("MEMBERFLOW_GRAPHQL__MAX_COMPLEXITY", "77");
            jail.set_env("MEMBERFLOW_TEST_DATABASE_URL", "ignored");
            jail.set_env("MEMBERFLOW_TEST_REQUIRE_BROWSER", "1");
            let c = Config::load(Some(Path::new("m.toml"))).unwrap();
            assert_eq!(c.listen.port(), 9000);
            assert_eq!(c.graphql.max_depth, 5);
            assert_eq!(c.graphql.max_complexity, 77);
            assert_eq!(c.database_url, "postgres://x@127.0.0.1/db");
            Ok(())
        });
    }

    #[test]
    fn mail_settings_and_schedules_come_from_the_file_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "m.toml",
                "[schedules]\nweekly_digest = \"0 0 8 * * Fri\"\n\
                 [mail]\nlanguage = \"en\"\n[mail.recipients]\ndefault = \"vp@example.vn\"\n",
            )?;
            jail.set_env("MEMBERFLOW_SMTP_URL", "smtp://127.0.0.1:2525");
            jail.set_env("MEMBERFLOW_MAIL_FROM", "noreply@example.vn");
            let c = Config::load(Some(Path::new("m.toml"))).unwrap();
            assert_eq!(c.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"));
            assert_eq!(c.mail_from, "noreply@example.vn");
            assert_eq!(c.mail.language, MailLanguage::En);
            assert_eq!(c.mail.recipients["default"], "vp@example.vn");
            assert_eq!(c.schedules.weekly_digest, "0 0 8 * * Fri");
            assert_eq!(c.schedules.daily_sweep, "0 0 7 * * *");
            Ok(())
        });
    }

    #[test]
    fn the_example_deployment_configuration_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/memberflow.toml");
        let c = Config::load(Some(&path)).unwrap();
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(c.auth.session_minutes, 480);
    }

    #[test]
    fn a_configuration_printed_for_debugging_hides_passwords() {
        let c = Config {
            database_url: "postgres://app:s3cret@db/memberflow".into(),
            smtp_url: Some("smtp://mail:hunter2@smtp.example:587".into()),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(
            shown.contains("postgres://app:***@db/memberflow"),
            "{shown}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_with_where_it_was_set() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "m.toml",
                "lisen = 1\n[graphql]\nmax_depth = \"deep\"\nmax_complexity = \"x\"\n\
                 [mail]\nlanguage = \"fr\"\n",
            )?;
            jail.set_env("MEMBERFLOW_LISTEN", "nowhere");
            jail.set_env("MEMBERFLOW_SCHEDULES__ENABLED", "maybe");
            let errs = Config::load(Some(Path::new("m.toml"))).unwrap_err();
            for key in [
                "lisen",
                "graphql.max_depth",
                "graphql.max_complexity",
                "mail.language",
                "listen",
                "schedules.enabled",
            ] {
                assert!(
                    errs.iter().any(|e| e.starts_with(&format!("{key}: "))),
                    "{key} missing from {errs:#?}"
                );
            }
            assert!(
                errs.iter()
                    .any(|e| e.starts_with("listen: ") && e.contains("MEMBERFLOW_LISTEN")),
                "{errs:#?}"
            );
            assert!(
                errs.iter()
                    .any(|e| e.starts_with("graphql.max_depth: ") && e.contains("m.toml")),
                "{errs:#?}"
            );
            assert_eq!(errs.len(), 6, "{errs:#?}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("m.toml", "lisen = \"x\"\n")?;
            let errs = Config::load(Some(Path::new("m.toml"))).unwrap_err();
            assert!(errs.iter().any(|e| e.contains("lisen")), "{errs:?}");
            Ok(())
        });
    }
}
