//! The `memberflow` binary.

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc rather than glibc's allocator: a GraphQL request is thousands of small
/// allocations freed on whichever worker thread finishes it (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    memberflow_server::cli::run(memberflow_server::cli::Cli::parse()).await
}
