//! The interactive shell: rustyline for line editing, history kept in a
//! file, and Tab completion from the catalog of what is live.

use std::path::{Path, PathBuf};

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::catalog::SharedCatalog;
use super::{Outcome, completion, execute, history};
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
/// being typed.
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
    loop {
        // rustyline blocks this thread while the person types; the
        // catalog's refresher runs on the runtime's other threads.
        let line = tokio::task::block_in_place(|| editor.readline(&prompt));
        let line = match line {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Ok(()),
            Err(error) => return Err(Failure::new(format!("cannot read the terminal: {error}"))),
        };
        if !line.trim().is_empty() {
            remember(&mut editor, &line, history.as_deref());
        }
        match execute(session, catalog, &line, &mut Terminal).await {
            Outcome::Done(output) => print(&output),
            Outcome::Failed(reason) => eprintln!("error: {reason}"),
            Outcome::Exit => return Ok(()),
        }
    }
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
