//! The command line: `serve` (the default), `migrate`, `schema`, `check`, `demo`, `report`,
//! `import`, `export`.

use memberflow_workflow::email::EmailAddress;
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
    /// case's history in the database instead; with `--stats`, recompute the statistics
    /// counters from the registry and report every difference.
    Check {
        /// Verify the history chains in the database (tampering shows as a broken link).
        #[arg(long)]
        history: bool,
        /// Check the statistics counters against the registry (docs/targets.md).
        #[arg(long, conflicts_with = "history")]
        stats: bool,
        /// With `--stats`: rebuild the counters from the registry if they differ.
        #[arg(long, requires = "stats")]
        repair: bool,
    },
    /// Build a demo organization (docs/demo.md), deterministically from a seed.
    Demo {
        /// Which one.
        #[command(subcommand)]
        which: crate::demo::DemoCommand,
    },
    /// Print statistics as a table or CSV (docs/targets.md).
    Report {
        /// Which one.
        #[command(subcommand)]
        which: crate::report::ReportCommand,
    },
    /// Import units and members from an XLSX or CSV file (docs/import.md): every row checked
    /// first, nothing written unless the whole file passes (or `--accept-partial`).
    Import(crate::import::ImportArgs),
    /// Export units and members (or empty templates) as XLSX or CSV (docs/import.md).
    Export(crate::import::ExportArgs),
    /// Manage accounts: bootstrap the first administrator, grant roles, disable.
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserAction,
    },
}

/// `memberflow user …`
#[derive(Debug, Clone, Subcommand)]
pub enum UserAction {
    /// Create an account; the password is read from `MEMBERFLOW_NEW_PASSWORD` or, when that is
    /// unset, from the first line of standard input (never from the command line, where other
    /// users of the machine could see it).
    Add {
        /// Login name.
        username: String,
        /// The member the account belongs to (a member id).
        #[arg(long)]
        member: Option<String>,
        /// Where reminders for the account's roles go.
        #[arg(long)]
        email: Option<String>,
    },
    /// Set (or, with no address, clear) the e-mail address reminders for the account's roles
    /// go to.
    Email {
        /// Login name.
        username: String,
        /// The address.
        address: Option<String>,
    },
    /// Grant a role, at a unit and its subtree (by unit code), or everywhere without `--unit`.
    Role {
        /// Login name.
        username: String,
        /// Role: secretary, branch_committee, executive_committee, standing_committee,
        /// committee, inspection_commission, secretariat, organization_department, auditor,
        /// admin (docs/security.md).
        role: String,
        /// The unit's code.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Revoke a role held at a unit (by unit code), or everywhere without `--unit`.
    Revoke {
        /// Login name.
        username: String,
        /// Role.
        role: String,
        /// The unit's code.
        #[arg(long)]
        unit: Option<String>,
    },
    /// Disable an account and end its sessions.
    Disable {
        /// Login name.
        username: String,
    },
}

async fn user_command(config: &Config, action: UserAction) -> anyhow::Result<ExitCode> {
    let store = Store::connect(&config.database_url)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("running the migrations")?;
    let now = chrono::Utc::now();
    match action {
        UserAction::Add {
            username,
            member,
            email,
        } => {
            let email = email
                .map(|e| EmailAddress::parse(&e).map_err(|t| anyhow::anyhow!("{}", t.en)))
                .transpose()?;
            let password = match std::env::var("MEMBERFLOW_NEW_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let member = member
                .map(|m| uuid::Uuid::parse_str(&m).context("--member must be a member id"))
                .transpose()?;
            let acc = store
                .create_account(&username, &password, member, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            if let Some(e) = &email {
                store
                    .set_account_email(&username, Some(e))
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            }
            println!("account {} created ({})", acc.username, acc.id);
        }
        UserAction::Role {
            username,
            role,
            unit,
        } => {
            let unit_id = match unit {
                Some(code) => Some(
                    store
                        .unit_by_code(&code)
                        .await
                        .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?
                        .id,
                ),
                None => None,
            };
            store
                .grant_role(&username, &role, unit_id, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            println!("{username} is now {role}");
        }
        UserAction::Revoke {
            username,
            role,
            unit,
        } => {
            let unit_id = match unit {
                Some(code) => Some(
                    store
                        .unit_by_code(&code)
                        .await
                        .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?
                        .id,
                ),
                None => None,
            };
            let n = store
                .revoke_role(&username, &role, unit_id, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            if n == 0 {
                anyhow::bail!("{username} does not hold {role} there");
            }
            println!("{username} is no longer {role}");
        }
        UserAction::Email { username, address } => {
            let email = address
                .map(|e| EmailAddress::parse(&e).map_err(|t| anyhow::anyhow!("{}", t.en)))
                .transpose()?;
            store
                .set_account_email(&username, email.as_ref())
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            match email {
                Some(e) => println!("{username}'s reminders go to {e}"),
                None => println!("{username} has no e-mail address"),
            }
        }
        UserAction::Disable { username } => {
            store
                .disable_account(&username, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            println!("{username} is disabled");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A store error in words for the terminal (English: the command line is for operators).
fn store_message(e: &memberflow_store::StoreError) -> String {
    match e {
        memberflow_store::StoreError::Validation(t) => {
            t.iter().map(|t| t.en.clone()).collect::<Vec<_>>().join(" ")
        }
        memberflow_store::StoreError::Conflict(t)
        | memberflow_store::StoreError::Unauthenticated(t) => t.en.clone(),
        other => other.to_string(),
    }
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
        Some(Command::User { ref action }) => {
            let config = load_config(&cli)?;
            init_logging(&config);
            user_command(&config, action.clone()).await
        }
        Some(Command::Schema) => {
            print!("{}", memberflow_api::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check { history: true, .. }) => {
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
        Some(Command::Check {
            stats: true,
            repair,
            ..
        }) => {
            let config = load_config(&cli)?;
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("running the migrations")?;
            let ok = crate::report::check_stats(&store, repair).await?;
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Some(Command::Demo { ref which }) => {
            let config = load_config(&cli)?;
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("running the migrations")?;
            let catalog = crate::load_catalog(&config)?;
            crate::demo::run(&store, &catalog, which, chrono::Utc::now()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Report { ref which }) => {
            let config = load_config(&cli)?;
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("running the migrations")?;
            let catalog = crate::load_catalog(&config)?;
            let today = memberflow_api::Clock::today(&SystemClock);
            crate::report::run(&store, &catalog.rules, today, which).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Import(ref args)) => {
            let config = load_config(&cli)?;
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("running the migrations")?;
            let catalog = crate::load_catalog(&config)?;
            crate::import::import(&store, &catalog, args, chrono::Utc::now()).await
        }
        Some(Command::Export(ref args)) => {
            let config = load_config(&cli)?;
            let store = Store::connect(&config.database_url)
                .await
                .context("connecting to the database")?;
            store.migrate().await.context("running the migrations")?;
            crate::import::export(&store, args).await
        }
        Some(Command::Check { .. }) => {
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
