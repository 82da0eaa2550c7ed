//! The command line: `serve` (the default), `migrate`, `schema`, `check`, `rules`, `demo`,
//! `report`, `import`, `export`.

use memberflow_workflow::email::EmailAddress;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use memberflow_api::SystemClock;
use memberflow_store::Store;

use crate::config::Config;
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
    /// Run pending migrations and exit; `--status` lists them instead, `down N` reverts the
    /// last N (docs/operations.md).
    Migrate {
        /// List every migration, applied or pending, and change nothing.
        #[arg(long)]
        status: bool,
        /// Revert instead of applying.
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Ask the running server's `/readyz` whether it is ready (for container health checks):
    /// exit 0 if it is, 1 if not.
    Healthcheck {
        /// The server's address (default: `listen` from the configuration, an unspecified
        /// address replaced by loopback).
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
    },
    /// Write a consistent copy of the SQLite database to FILE, while the server runs.
    Backup {
        /// The copy to write (must not exist).
        file: PathBuf,
    },
    /// Replace the SQLite database with a backup (stop the server first), then run pending
    /// migrations and verify the history chains and the statistics counters.
    Restore {
        /// The backup to restore.
        file: PathBuf,
        /// Replace a database that exists.
        #[arg(long)]
        force: bool,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Validate the workflow definitions, rule sets and calendars under `schemas/`,
    /// reporting every problem at once; with `--history`, verify the hash chains of every
    /// case's history in the database and the tree's ancestry against its parent links instead; with `--stats`, recompute the statistics
    /// counters from the registry and report every difference.
    Check {
        /// Verify the history chains in the database (tampering shows as a broken link) and the
        /// tree's ancestry against the parent links.
        #[arg(long)]
        history: bool,
        /// Check the statistics counters against the registry (docs/targets.md).
        #[arg(long, conflicts_with = "history")]
        stats: bool,
        /// With `--stats`: rebuild the counters from the registry if they differ.
        #[arg(long, requires = "stats")]
        repair: bool,
    },
    /// Print the rule catalogue (`schemas/rules.toml`); with a rule id, that rule with its
    /// source, certainty, validity, the parameters each rule set gives it and where it is
    /// cited. With `--diff FROM TO`, the effective differences between two rule sets.
    Rules {
        /// A rule id, e.g. `A10`.
        id: Option<String>,
        /// Two rule-set ids, e.g. `--diff R2025a R2025b`: every parameter whose effective value,
        /// verification tag, source or note differs, old → new, with its source.
        #[arg(long, num_args = 2, value_names = ["FROM", "TO"], conflicts_with = "id")]
        diff: Option<Vec<String>>,
        /// Language of the titles and labels.
        #[arg(long, value_enum, default_value_t)]
        lang: crate::report::LangArg,
    },
    /// Build a demo organization (docs/demo.md), deterministically from a seed.
    Demo {
        /// Which one.
        #[command(subcommand)]
        which: crate::demo::DemoCommand,
    },
    /// Print statistics as a table or CSV, or write them as an XLSX workbook (docs/targets.md).
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

/// `memberflow migrate …`
#[derive(Debug, Clone, Subcommand)]
pub enum MigrateAction {
    /// Revert the last N applied migrations (their tables and data are dropped: back up first).
    Down {
        /// How many.
        #[arg(default_value_t = 1)]
        n: u32,
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
    /// Set an account's password, as an administrator (an account an import or the demo
    /// created has none); its sessions end. The password is read as for `add`.
    Password {
        /// Login name.
        username: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        /// Login name.
        username: String,
    },
}

/// A new password: `MEMBERFLOW_NEW_PASSWORD`, or the first line of standard input.
fn new_password() -> anyhow::Result<String> {
    Ok(match std::env::var("MEMBERFLOW_NEW_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    })
}

async fn user_command(config: &Config, action: UserAction) -> anyhow::Result<ExitCode> {
    let store = connect(config).await?;
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
            let password = new_password()?;
            let member = member
                .map(|m| uuid::Uuid::parse_str(&m).context("--member must be a member id"))
                .transpose()?;
            let acc = store
                .accounts()
                .create_account(&username, &password, member, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            if let Some(e) = &email {
                store
                    .accounts()
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
                        .tree()
                        .unit_by_code(&code)
                        .await
                        .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?
                        .id,
                ),
                None => None,
            };
            store
                .accounts()
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
                        .tree()
                        .unit_by_code(&code)
                        .await
                        .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?
                        .id,
                ),
                None => None,
            };
            let n = store
                .accounts()
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
                .accounts()
                .set_account_email(&username, email.as_ref())
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            match email {
                Some(e) => println!("{username}'s reminders go to {e}"),
                None => println!("{username} has no e-mail address"),
            }
        }
        UserAction::Password { username } => {
            let password = new_password()?;
            store
                .accounts()
                .set_password(&username, &password, now)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            println!("{username}'s password is set");
        }
        UserAction::Disable { username } => {
            store
                .accounts()
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

/// Connects to the configured database; an unreachable one is named with the reason.
async fn connect(config: &Config) -> anyhow::Result<Store> {
    crate::connect_store(&config.database_url).await
}

/// The address to reach a server listening on `listen` from the same machine.
fn loopback(listen: std::net::SocketAddr) -> std::net::SocketAddr {
    let mut a = listen;
    if a.ip().is_unspecified() {
        a.set_ip(match a {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    a
}

/// `GET /readyz` over a plain TCP connection: `Ok` on a 200 within 5 seconds.
async fn probe_ready(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(
            format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
        let mut buf = Vec::new();
        s.take(4096).read_to_end(&mut buf).await?;
        anyhow::Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    let reply = tokio::time::timeout(std::time::Duration::from_secs(5), attempt)
        .await
        .map_err(|_| anyhow::anyhow!("no answer within 5 s"))??;
    let status = reply.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        anyhow::bail!("{status}")
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

async fn run_inner(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::User { ref action }) => {
            let config = load_config(&cli)?;
            let _telemetry = crate::telemetry::init(&config)?;
            user_command(&config, action.clone()).await
        }
        Some(Command::Rules {
            ref id,
            ref diff,
            lang,
        }) => {
            let config = load_config(&cli)?;
            match diff.as_deref() {
                Some([from, to]) => crate::rules::run_diff(&config, from, to, lang.into()),
                _ => crate::rules::run(&config, id.as_deref(), lang.into()),
            }
        }
        Some(Command::Schema) => {
            print!("{}", memberflow_api::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Check { history: true, .. }) => {
            let config = load_config(&cli)?;
            let store = connect(&config).await?;
            let (checked, breaks) = store.cases().verify_history().await?;
            for b in &breaks {
                println!("error: case {} event {}: {}", b.case_id, b.seq, b.problem);
            }
            println!(
                "verified {checked} history event(s): {} problem(s)",
                breaks.len()
            );
            // The tree's ancestry (unit_ancestry) against the parent links it is derived from.
            let (rows, tree_problems) = store.tree().verify_ancestry().await?;
            for p in &tree_problems {
                println!("error: unit {}: {}", p.unit_id, p.problem);
            }
            println!(
                "verified {rows} ancestry row(s) of the tree: {} problem(s)",
                tree_problems.len()
            );
            Ok(if breaks.is_empty() && tree_problems.is_empty() {
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
            let store = connect(&config).await?;
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
            let store = connect(&config).await?;
            store.migrate().await.context("running the migrations")?;
            let catalog = crate::load_catalog(&config)?;
            crate::demo::run(&store, &catalog, which, chrono::Utc::now()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Report { ref which }) => {
            let config = load_config(&cli)?;
            let store = connect(&config).await?;
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
        Some(Command::Healthcheck { addr }) => {
            let config = load_config(&cli)?;
            let addr = addr.unwrap_or_else(|| loopback(config.listen));
            match probe_ready(addr).await {
                Ok(()) => {
                    println!("ready ({addr})");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("not ready ({addr}): {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Some(Command::Backup { ref file }) => {
            let config = load_config(&cli)?;
            let store = connect(&config).await?;
            let started = std::time::Instant::now();
            store
                .backup_to(file)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            println!(
                "backed up to {} ({size} bytes) in {:.2} s",
                file.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Restore { ref file, force }) => {
            let config = load_config(&cli)?;
            let target = memberflow_store::restore_sqlite(&config.database_url, file, force)
                .await
                .map_err(|e| anyhow::anyhow!("{}", store_message(&e)))?;
            println!("restored {} from {}", target.display(), file.display());
            let store = connect(&config).await?;
            let pending = store.pending_migrations().await?;
            store.migrate().await.context("running the migrations")?;
            println!("applied {} migration(s)", pending.len());
            let (checked, breaks) = store.cases().verify_history().await?;
            for b in &breaks {
                println!("error: case {} event {}: {}", b.case_id, b.seq, b.problem);
            }
            println!(
                "verified {checked} history event(s): {} problem(s)",
                breaks.len()
            );
            let stats_ok = crate::report::check_stats(&store, false).await?;
            Ok(if breaks.is_empty() && stats_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Some(Command::Migrate {
            status: true,
            action: None,
        }) => {
            let config = load_config(&cli)?;
            let store = connect(&config).await?;
            let all = store.migration_status().await?;
            for (name, applied) in &all {
                println!("{} {name}", if *applied { "applied" } else { "pending" });
            }
            let pending = all.iter().filter(|(_, a)| !a).count();
            println!("{} applied, {pending} pending", all.len() - pending);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Migrate {
            action: Some(MigrateAction::Down { n }),
            ..
        }) => {
            let config = load_config(&cli)?;
            let _telemetry = crate::telemetry::init(&config)?;
            let store = connect(&config).await?;
            let reverted = store.migrate_down(n).await?;
            println!("reverted {} migration(s)", reverted.len());
            for r in reverted {
                println!("  {r}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Migrate { .. }) => {
            let config = load_config(&cli)?;
            let _telemetry = crate::telemetry::init(&config)?;
            let store = connect(&config).await?;
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
            let _telemetry = crate::telemetry::init(&config)?;
            let app = Application::build(&config, Arc::new(SystemClock)).await?;
            app.run_until(shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
