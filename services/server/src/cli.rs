//! The command line: `serve` (the default), `migrate`, `schema`, `check`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use memberflow_api::SystemClock;
use memberflow_store::Store;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::{Application, shutdown_signal};

/// memberflow: admission and discipline workflows for a hierarchical party organization.
#[derive(Debug, Parser)]
#[command(name = "memberflow", version, about)]
pub struct Cli {
    /// A TOML configuration file (environment variables MEMBERFLOW_* override it).
    #[arg(long, global = true, env = "MEMBERFLOW_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pending migrations, then serve GraphQL over HTTP (the default).
    Serve,
    /// Run pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Validate the workflow definitions, rule sets and calendars under `schemas/`,
    /// reporting every problem at once; with `--history`, verify the hash chains of every
    /// case's history in the database instead.
    Check {
        /// Verify the history chains in the database (tampering shows as a broken link).
        #[arg(long)]
        history: bool,
    },
}

/// Runs the command line; the exit code says whether it succeeded.
pub async fn run(cli: Cli) -> ExitCode {
    match run_inner(cli).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "failed");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    Config::load(cli.config.as_deref())
        .map_err(|errs| anyhow::anyhow!("invalid configuration:\n  - {}", errs.join("\n  - ")))
}

fn init_logging(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests run the CLI several times) is not an error.
    let _ = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

async fn run_inner(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Schema) => {
            print!("{}", memberflow_api::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check { history: true }) => {
            let config = load_config(&cli)?;
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            let (checked, breaks) = store.verify_history().await?;
            for b in &breaks {
                println!("error: case {} event {}: {}", b.case_id, b.seq, b.problem);
            }
            println!(
                "verified {checked} history event(s): {} problem(s)",
                breaks.len()
            );
            Ok(if breaks.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Some(Command::Check { history: false }) => {
            let config = load_config(&cli)?;
            let dir = config
                .schemas_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("schemas"));
            let report = crate::check::check_dir(&dir);
            print!("{report}");
            Ok(if report.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Some(Command::Migrate) => {
            let config = load_config(&cli)?;
            init_logging(&config);
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            let pending = store.pending_migrations().await?;
            store.migrate().await.context("running the migrations")?;
            tracing::info!(applied = pending.len(), "migrations done");
            println!("applied {} migration(s)", pending.len());
            for p in pending {
                println!("  {p}");
            }
            Ok(ExitCode::SUCCESS)
        }
        None | Some(Command::Serve) => {
            let config = load_config(&cli)?;
            init_logging(&config);
            let app = Application::build(&config, Arc::new(SystemClock)).await?;
            app.run_until(shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
