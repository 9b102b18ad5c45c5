//! The interactive shell: rustyline for line editing, history kept in a
//! file, and Tab completion from the catalog of what is live.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};
use tokio::sync::mpsc;

use super::catalog::SharedCatalog;
use super::parse::{self, Action};
use super::typeahead::{Captured, Typeahead};
use super::{Outcome, completion, execute, history};
use crate::args::BusCommand;
use crate::confirm::Terminal;
use crate::failure::Failure;
use crate::output::print;
use crate::session::Session;

/// How many lines the history keeps.
const HISTORY_SIZE: usize = 1000;

/// Completes from the catalog; rustyline's defaults for the rest.
struct ShellHelper {
    /// What is live, kept fresh by the refresher.
    catalog: SharedCatalog,
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _context: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let catalog = self
            .catalog
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (start, candidates) = completion::complete(&catalog, line, pos);
        let pairs = candidates
            .into_iter()
            .map(|candidate| Pair {
                display: candidate.display,
                replacement: candidate.replacement,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {}

impl Helper for ShellHelper {}

/// Reads and runs lines until `exit` or Ctrl-D; Ctrl-C drops the line
/// being typed, or cancels the line running.
pub(super) async fn run(session: &Session, catalog: &SharedCatalog) -> Result<(), Failure> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .max_history_size(HISTORY_SIZE)
        .map_err(|error| Failure::new(format!("cannot set up the shell: {error}")))?
        .auto_add_history(false)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> = Editor::with_config(config)
        .map_err(|error| Failure::new(format!("cannot set up the terminal: {error}")))?;
    editor.set_helper(Some(ShellHelper {
        catalog: catalog.clone(),
    }));
    let history = history::path(|name| std::env::var_os(name))
        .and_then(|path| open_history(&mut editor, path));
    let bus = session.bus().name();
    let services = catalog.read().map(|c| c.services.len()).unwrap_or_default();
    println!(
        "bus {bus:?}: {} live; type help for the commands, Tab to complete, Ctrl-D to leave",
        crate::human::count(services as u64, "service", "services")
    );
    let prompt = format!("{bus}> ");
    // Lines typed or pasted ahead, to run before reading another, and the
    // start of a line typed during the last run.
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut partial = String::new();
    loop {
        let line = match queue.pop_front() {
            Some(line) => {
                // Shown as if typed now, so that its output follows it.
                println!("{prompt}{line}");
                line
            }
            None => {
                // rustyline blocks this thread while the person types; the
                // catalog's refresher runs on the runtime's other threads.
                let read = tokio::task::block_in_place(|| {
                    editor.readline_with_initial(&prompt, (&partial, ""))
                });
                partial.clear();
                let text = match read {
                    Ok(text) => text,
                    Err(ReadlineError::Interrupted) => continue,
                    Err(ReadlineError::Eof) => return Ok(()),
                    Err(error) => {
                        return Err(Failure::new(format!("cannot read the terminal: {error}")));
                    }
                };
                // A bracketed paste of several lines comes as one text:
                // each of its lines runs, in order.
                let mut lines = text.lines().filter(|line| !line.trim().is_empty());
                let Some(first) = lines.next() else { continue };
                let first = first.to_owned();
                for line in lines.rev() {
                    queue.push_front(line.to_owned());
                }
                remember(&mut editor, &first, history.as_deref());
                for line in &queue {
                    remember(&mut editor, line, history.as_deref());
                }
                first
            }
        };
        let (outcome, captured) = run_line(session, catalog, &line, &partial).await;
        for line in captured.lines {
            remember(&mut editor, &line, history.as_deref());
            queue.push_back(line);
        }
        partial = captured.partial;
        match outcome {
            Some(Outcome::Done(output)) => print(&output),
            Some(Outcome::Failed(reason)) => eprintln!("error: {reason}"),
            Some(Outcome::Exit) => return Ok(()),
            None => {
                // As a terminal drops type-ahead on Ctrl-C: the person
                // asked to stop. The lines are in the history.
                let dropped = queue.len();
                queue.clear();
                if dropped == 0 {
                    eprintln!("cancelled");
                } else {
                    eprintln!(
                        "cancelled; {} not run (Up recalls them)",
                        crate::human::count(dropped as u64, "queued line", "queued lines")
                    );
                }
            }
        }
    }
}

/// Runs `line` while reading what is typed meanwhile; `None` when Ctrl-C
/// cancelled it.
async fn run_line(
    session: &Session,
    catalog: &SharedCatalog,
    line: &str,
    partial: &str,
) -> (Option<Outcome>, Captured) {
    // `cleanup` asks on the terminal: it must read it itself.
    let asks = matches!(
        parse::parse(line),
        Ok(Action::Run(BusCommand::Cleanup { yes: false }))
    );
    // Nothing read: what was typed of the next line stays as it was.
    let unchanged = || Captured {
        lines: Vec::new(),
        partial: partial.to_owned(),
    };
    if asks {
        return (
            Some(execute(session, catalog, line, &mut Terminal).await),
            unchanged(),
        );
    }
    let (interrupts, mut interrupted) = mpsc::unbounded_channel();
    let typeahead = match Typeahead::start(partial, interrupts) {
        Ok(typeahead) => Some(typeahead),
        Err(error) => {
            eprintln!("warning: typing ahead is off: cannot set the terminal: {error}");
            None
        }
    };
    let mut terminal = Terminal;
    let outcome = tokio::select! {
        outcome = execute(session, catalog, line, &mut terminal) => Some(outcome),
        // Dropping the line's future cancels its call. (Without a reader,
        // `recv` gives `None` and only the line's branch is left.)
        Some(()) = interrupted.recv() => None,
    };
    let captured = typeahead.map_or_else(unchanged, Typeahead::finish);
    (outcome, captured)
}

/// Loads the history file, creating its directory; returns the file to
/// save to, or `None` (after a warning) when it cannot be used.
fn open_history(
    editor: &mut Editor<ShellHelper, DefaultHistory>,
    path: PathBuf,
) -> Option<PathBuf> {
    let dir = path.parent()?;
    if let Err(error) = std::fs::create_dir_all(dir) {
        eprintln!(
            "warning: no history: cannot create {}: {error}",
            dir.display()
        );
        return None;
    }
    // A missing file is a first session; anything else is worth a word.
    if path.exists() {
        if let Err(error) = editor.load_history(&path) {
            eprintln!(
                "warning: cannot read the history {}: {error}",
                path.display()
            );
        }
    }
    Some(path)
}

/// Adds `line` to the history, and to its file at once, so that a shell
/// that is killed keeps what was typed.
fn remember(editor: &mut Editor<ShellHelper, DefaultHistory>, line: &str, path: Option<&Path>) {
    // Only fails for a line that history ignores (a repeat): nothing lost.
    let _ = editor.add_history_entry(line);
    let Some(path) = path else {
        return;
    };
    if let Err(error) = editor.append_history(path) {
        eprintln!(
            "warning: cannot save the history {}: {error}",
            path.display()
        );
    }
}
