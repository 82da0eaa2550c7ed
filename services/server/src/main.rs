//! The `memberflow` binary.

use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    memberflow_server::cli::run(memberflow_server::cli::Cli::parse()).await
}
