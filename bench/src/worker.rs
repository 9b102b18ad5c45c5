//! The worker side of a benchmark process: the hidden `serve` subcommand,
//! which serves one system until its standard input closes.
//!
//! The orchestrator talks to a worker through its standard streams only: the
//! worker prints `ready <target>` once calls can be served, and stops
//! gracefully when its standard input closes. A worker whose orchestrator
//! dies therefore stops too, whatever killed the orchestrator.

use anyhow::Result;
use clap::Args;
use tokio::io::AsyncReadExt;

use crate::systems::{self, System};

/// What a worker line starts with once the worker serves; the rest of the
/// line is the target clients use.
pub const READY: &str = "ready ";

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The system to serve.
    #[arg(long, value_enum)]
    pub system: System,
    /// Where to serve: the daemon's URL, or the address to listen on.
    #[arg(long)]
    pub target: String,
    /// The bus a redis-bus system serves on.
    #[arg(long, default_value = crate::systems::DEFAULT_BUS)]
    pub bus: String,
}

/// Serves until standard input closes.
pub async fn serve(args: ServeArgs) -> Result<()> {
    systems::serve(
        args.system,
        &args.target,
        &args.bus,
        announce,
        stdin_closed(),
    )
    .await
}

/// Tells the orchestrator that the worker serves, and where.
fn announce(target: &str) {
    // `println!` flushes at the newline: stdout is line-buffered.
    println!("{READY}{target}");
}

/// Completes when standard input reaches its end (or fails).
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0; 64];
    while let Ok(read) = stdin.read(&mut buffer).await {
        if read == 0 {
            return;
        }
    }
}
