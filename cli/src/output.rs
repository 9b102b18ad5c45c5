//! Writing a command's output to stdout.

use std::io::Write;

/// Writes `output` to stdout, ending it with a line break if it has none,
/// and flushes it, so that whoever reads a pipe sees it at once. A reader
/// that went away (`redis-bus describe x | head -3`) is not an error: the
/// output is simply not wanted any more.
pub(crate) fn print(output: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(output.as_bytes());
    if !output.is_empty() && !output.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
}
