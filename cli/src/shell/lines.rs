//! The line interface: the shell reading commands from stdin that is not a
//! terminal (a script, a pipe, a test). No prompt and no banner, so the
//! output is the commands' output alone; errors go to stderr with the line
//! number, and do not stop the shell.

use tokio::io::{AsyncBufReadExt, BufReader};

use super::catalog::SharedCatalog;
use super::{Outcome, execute};
use crate::confirm::Terminal;
use crate::failure::Failure;
use crate::output::print;
use crate::session::Session;

/// Runs every line of stdin, then fails if any line failed (so a script's
/// exit status tells whether all went well).
pub(super) async fn run(session: &Session, catalog: &SharedCatalog) -> Result<(), Failure> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let (mut number, mut failed) = (0u64, 0u64);
    loop {
        let line = lines
            .next_line()
            .await
            .map_err(|error| Failure::new(format!("cannot read stdin: {error}")))?;
        let Some(line) = line else { break };
        number += 1;
        // Nobody can confirm from a script: `cleanup` needs `--yes` here.
        match execute(session, catalog, &line, &mut Terminal).await {
            Outcome::Done(output) => print(&output),
            Outcome::Failed(reason) => {
                failed += 1;
                eprintln!("error: line {number}: {reason}");
            }
            Outcome::Exit => break,
        }
    }
    if failed > 0 {
        let lines = if number == 1 { "line" } else { "lines" };
        return Err(Failure::new(format!("{failed} of {number} {lines} failed")));
    }
    Ok(())
}
