//! `redis-bus`: look at a bus and poke it from a shell.
//!
//! Lists the services that are live on a bus, describes their methods and
//! messages, calls them from JSON through the descriptors their workers
//! published (no generated code needed), clears cached replies, shows
//! per-method statistics, removes every key of a bus, and offers an
//! interactive shell with completion from discovery.
//!
//! Layout: `args` (the command line, shared with the shell), `session` (a
//! connected bus and the options of calls), `failure` (one-line errors),
//! `target` (`SERVICE/METHOD`), `names`
//! (short names and "did you mean"), `commands` (one module per subcommand),
//! `sample` (a bus at one moment, and rates between two), `top` (the
//! live view), `table`, `proto_text` and `human` (how things are shown), `output`
//! (writing to stdout), `confirm` (asking before destroying), `shell` (the
//! interactive shell and its line interface).

mod args;
mod commands;
mod confirm;
mod failure;
mod human;
mod names;
mod output;
mod proto_comments;
mod proto_text;
mod sample;
mod session;
mod shell;
mod table;
mod target;
mod top;

use std::process::ExitCode;

use crate::args::{Cli, Command};
use crate::confirm::Terminal;
use crate::failure::Failure;
use crate::session::Session;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = args::parse();
    let json = cli.connection.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report(json);
            ExitCode::from(failure.exit())
        }
    }
}

/// Connects to the bus and runs the command.
async fn run(cli: Cli) -> Result<(), Failure> {
    let session = Session::connect(&cli.connection).await?;
    match cli.command {
        Command::Bus(command) => {
            let output = commands::run(&session, &command, &mut Terminal).await?;
            output::print(&output);
            Ok(())
        }
        Command::Shell => shell::run(&session).await,
        Command::Top(args) => top::run(&session, &args).await,
    }
}
