//! `shell`: an interactive shell on the bus, or, when stdin is not a
//! terminal, a line interface that runs the commands read from stdin (how
//! scripts and tests drive it).
//!
//! Layout: `parse` (what a line asks for) with `words` (cutting a line
//! whose JSON keeps its spaces), `catalog` (what is live, kept fresh),
//! `completion` with `json_keys` (what Tab offers), `interactive`
//! (rustyline) with `history` (where the history file lives) and
//! `typeahead` (lines typed while one runs, and Ctrl-C), `lines`
//! (the line interface).

mod catalog;
mod completion;
mod history;
mod interactive;
mod json_keys;
mod lines;
mod parse;
mod typeahead;
mod words;

use std::io::IsTerminal;
use std::sync::{Arc, RwLock};

use self::catalog::{Catalog, Refresher, SharedCatalog};
use self::parse::Action;
use crate::args::BusCommand;
use crate::commands;
use crate::confirm::Confirm;
use crate::failure::Failure;
use crate::session::Session;

/// Runs the shell on the session's bus until `exit` or the end of input.
pub(crate) async fn run(session: &Session) -> Result<(), Failure> {
    let catalog: SharedCatalog = Arc::new(RwLock::new(Catalog::default()));
    let _refresher = Refresher::start(session.bus(), Arc::clone(&catalog)).await?;
    if std::io::stdin().is_terminal() {
        interactive::run(session, &catalog).await
    } else {
        lines::run(session, &catalog).await
    }
}

/// What running one line came to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// It went through; this text is its output.
    Done(String),
    /// It failed, for this reason (one line).
    Failed(String),
    /// The shell is to end.
    Exit,
}

/// Runs one line of the shell.
async fn execute(
    session: &Session,
    catalog: &SharedCatalog,
    line: &str,
    confirm: &mut dyn Confirm,
) -> Outcome {
    let action = match parse::parse(line) {
        Ok(action) => action,
        Err(reason) => return Outcome::Failed(reason),
    };
    match action {
        Action::Nothing => Outcome::Done(String::new()),
        Action::Print(text) => Outcome::Done(text),
        Action::Exit => Outcome::Exit,
        Action::Complete(text) => {
            let catalog = catalog
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let (start, candidates) = completion::complete(&catalog, &text, text.len());
            let lines: String = candidates
                .iter()
                .map(|candidate| {
                    format!("{}{}\n", &text[..start], candidate.replacement.trim_end())
                })
                .collect();
            Outcome::Done(lines)
        }
        Action::Run(BusCommand::Call {
            data: Some(data), ..
        }) if data == "@-" => {
            Outcome::Failed("-d @- reads stdin, which the shell reads: use -d @FILE".to_owned())
        }
        Action::Run(BusCommand::Call { lines: true, .. }) => Outcome::Failed(
            "--lines reads stdin, which the shell reads: run `redis-bus call --lines` instead"
                .to_owned(),
        ),
        Action::Run(command) => match commands::run(session, &command, confirm).await {
            Ok(output) => Outcome::Done(output),
            Err(failure) => Outcome::Failed(failure.message().to_owned()),
        },
    }
}
