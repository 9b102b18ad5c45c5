//! `top`: a live view of every method of the bus, refreshed every
//! interval. On a terminal it is a full-screen view (`terminal`, drawn by
//! `screen`); `--once` prints one frame as text, and `--json` one sample
//! per interval as a JSON line, for scripts and tests.
//!
//! `model` holds what is shown (rates, histories, order, filter) and
//! `sampler` reads the bus.

mod model;
mod sampler;
mod screen;
mod terminal;

use std::io::IsTerminal;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::args::TopArgs;
use crate::failure::Failure;
use crate::output::print;
use crate::session::Session;
use model::Model;

/// Runs `top` as `args` say.
pub(crate) async fn run(session: &Session, args: &TopArgs) -> Result<(), Failure> {
    let interval = Duration::from_secs(args.interval);
    let model = Model::new(args.filter.clone());
    if args.once || session.json() {
        return printed(session, interval, model, args.once).await;
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "top needs a terminal: use --once for one frame as text, or --json for samples",
        ));
    }
    terminal::run(session, interval, model).await
}

/// Prints frames (text) or samples (`--json`, one line per interval, each
/// method's rates) without taking the terminal; `once` stops after the
/// first, one interval after starting.
async fn printed(
    session: &Session,
    interval: Duration,
    mut model: Model,
    once: bool,
) -> Result<(), Failure> {
    let (samples, mut received) = mpsc::channel(1);
    let sampling = tokio::spawn(sampler::run(session.bus().clone(), interval, samples));
    let outcome = loop {
        match received.recv().await {
            Some(Ok(sample)) => model.push(sample),
            Some(Err(failure)) => break Err(failure),
            None => break Ok(()),
        }
        if !model.ready() {
            continue;
        }
        if session.json() {
            let rows: Vec<serde_json::Value> =
                model.rows().iter().map(|row| row.rate.to_json()).collect();
            print(&serde_json::json!({ "methods": rows }).to_string());
        } else {
            print(&screen::plain(session.bus().name(), &model));
        }
        if once {
            break Ok(());
        }
    };
    sampling.abort();
    outcome
}
