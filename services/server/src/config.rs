//! Typed, layered configuration: defaults, then a TOML file, then `MEMBERFLOW_*`
//! environment variables (nested keys with `__`, e.g. `MEMBERFLOW_GRAPHQL__MAX_DEPTH`).
//! Every problem is reported at once, with the key it concerns.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `pretty` for people, `json` for machines.
    pub format: LogFormat,
    /// A `tracing` filter (`RUST_LOG` wins when set).
    pub filter: String,
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
    /// Whether introspection is served.
    pub introspection: bool,
    /// Whether GraphiQL is served on `GET /graphql`.
    pub graphiql: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://memberflow.db?mode=rwc".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            schemas_dir: None,
            log: LogConfig::default(),
            graphql: GraphqlConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            filter: "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn".into(),
        }
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 2_000,
            max_body_bytes: 64 * 1024,
            introspection: true,
            graphiql: true,
        }
    }
}

/// Variables that start with the prefix but are not configuration keys.
const NOT_CONFIG: [&str; 2] = ["config", "test_database_url"];

impl Config {
    /// Loads the configuration: defaults, overlaid by `file` if given, overlaid by the
    /// environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Vec<String>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            if !f.exists() {
                return Err(vec![format!(
                    "configuration file {} not found",
                    f.display()
                )]);
            }
            fig = fig.merge(Toml::file_exact(f));
        }
        fig = fig.merge(Env::prefixed("MEMBERFLOW_").split("__").ignore(&NOT_CONFIG));
        fig.extract::<Config>()
            .map_err(|e| e.into_iter().map(|e| e.to_string()).collect())
    }
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
            let c = Config::load(Some(Path::new("m.toml"))).unwrap();
            assert_eq!(c.listen.port(), 9000);
            assert_eq!(c.graphql.max_depth, 5);
            assert_eq!(c.graphql.max_complexity, 77);
            assert_eq!(c.database_url, "postgres://x@127.0.0.1/db");
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
