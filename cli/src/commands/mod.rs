//! The bus commands, one module each; each returns the text to print on
//! stdout, so that the command line and the shell print the same thing.

mod cache;
mod call;
mod cleanup;
mod describe;
mod ping;
mod services;
pub(crate) mod stats;
mod stats_instances;
mod streaming;
mod watch;

use crate::args::{BusCommand, CacheCommand};
use crate::confirm::Confirm;
use crate::failure::Failure;
use crate::session::Session;

/// Runs `command` on the session's bus; `confirm` asks before destroying.
pub(crate) async fn run(
    session: &Session,
    command: &BusCommand,
    confirm: &mut dyn Confirm,
) -> Result<String, Failure> {
    match command {
        BusCommand::Services => services::run(session).await,
        BusCommand::Describe { name } => describe::run(session, name).await,
        BusCommand::Call {
            target,
            lines: true,
            ..
        } => call::lines(session, target).await,
        BusCommand::Call {
            target, json, data, ..
        } => call::run(session, target, json.as_deref(), data.as_deref()).await,
        BusCommand::Cache(CacheCommand::Clear { target, json }) => {
            cache::clear(session, target, json.as_deref()).await
        }
        BusCommand::Stats {
            service,
            window,
            instances,
        } => {
            let view = match (window, instances) {
                (Some(window), _) => stats::View::Window(*window),
                (None, true) => stats::View::Instances,
                (None, false) => stats::View::Totals,
            };
            stats::run(session, service.as_deref(), view).await
        }
        BusCommand::Cleanup { yes } => cleanup::run(session, *yes, confirm).await,
        BusCommand::Watch => watch::run(session).await,
        BusCommand::Ping { service } => ping::run(session, service).await,
    }
}
